//! From YAML files to the typed, spanned spec: environments, modules, resources and their
//! expressions, checked against schemas, with diagnostics that point at `file:line:col`.

pub mod diagnostic;
pub mod expr;
pub mod span;
pub mod load;
pub mod model;
pub mod yaml;
pub mod evaluate;
