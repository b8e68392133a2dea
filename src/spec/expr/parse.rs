//! Lexer and parser for `${...}` templates and expressions.

use crate::spec::diagnostic::Diagnostic;
use crate::spec::span::Span;

use super::ast::{Expr, ExprKind};
use crate::value::Value;

/// Parses a YAML string scalar. Text without `${` is a string literal; a string that is exactly
/// one `${expr}` is that expression (keeping its type: a list stays a list); anything else is a
/// template. `$${` escapes a literal `${`.
pub fn parse_template(text: &str, span: &Span) -> Result<Expr, Diagnostic> {
    // Placeholder until the parser lands: literal text only.
    let _ = text;
    Ok(Expr::new(
        ExprKind::Literal(Value::string(text)),
        span.clone(),
    ))
}

/// Parses the inside of one `${...}`.
pub fn parse_expr(text: &str, span: &Span) -> Result<Expr, Diagnostic> {
    Err(Diagnostic::error_at(
        format!("cannot parse `{text}` yet"),
        span,
    ))
}
