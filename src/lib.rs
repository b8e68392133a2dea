//! cairn: declarative infrastructure from YAML. See ARCHITECTURE.md for the map.

pub mod addr;
pub mod background_drop;
pub mod bench;
pub mod cli;
pub mod engine;
#[doc(hidden)]
pub mod fuzzing;
pub mod graph;
pub mod limits;
pub mod plan;
pub mod providers;
pub mod spec;
pub mod state;

pub use cairn_provider::{schema, value};
