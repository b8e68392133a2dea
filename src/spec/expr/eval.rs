//! Partial evaluation of expressions, and the static reference list the graph is built from.

use crate::spec::diagnostic::Diagnostic;
use crate::spec::span::Span;

use super::Scope;
use super::ast::Expr;

/// A name an expression refers to, found without evaluating it.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// The root identifier: `vpc`, `inputs`, `module`, `each`.
    pub root: String,
    /// The first attribute after the root, when written with a dot: `db` in `module.db.endpoint`,
    /// `id` in `vpc.id`.
    pub attr: Option<String>,
    pub span: Span,
}

/// Every reference in `expr`, in source order.
pub fn references(expr: &Expr) -> Vec<Reference> {
    let _ = expr;
    Vec::new()
}

/// Evaluates `expr` as far as `scope` allows: the result is a literal when everything it needs
/// is known, otherwise a residual expression over `ResourceAttr` nodes.
pub fn eval(expr: &Expr, scope: &dyn Scope) -> Result<Expr, Diagnostic> {
    let _ = scope;
    Ok(expr.clone())
}
