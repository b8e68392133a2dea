//! The built-in functions users know from Terraform: `cidrsubnet`, `join`, `lookup`, `merge`,
//! `length`, `format`, ...

/// Names of every built-in function, for "did you mean" help.
pub const FUNCTION_NAMES: &[&str] = &[];
