//! From YAML files to the typed, spanned spec: environments, modules, resources and their
//! expressions, checked against schemas, with diagnostics that point at `file:line:col`.

pub mod diagnostic;
pub mod duration;
pub mod evaluate;
pub mod expr;
pub mod load;
pub mod model;
pub mod span;
pub mod yaml;
