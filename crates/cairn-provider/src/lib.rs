//! What a cairn provider adapter needs and nothing more: the value model, resource schemas, and
//! the `Provider` trait with its requests, responses and typed errors.

pub mod provider;
pub mod schema;
pub mod value;
