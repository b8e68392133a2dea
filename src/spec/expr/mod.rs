//! `${...}` expressions: parsing, static reference discovery, partial evaluation and the built-in
//! functions.
//!
//! Evaluation is *partial*: whatever can be known at plan time is folded into literals, and what
//! depends on resources not yet applied stays as a residual expression over
//! [`ExprKind::ResourceAttr`]. A saved plan stores those residuals, and apply finishes evaluating
//! them once the resources they name exist, without re-reading any YAML.

pub mod ast;
mod cidr;
mod eval;
mod functions;
mod parse;
pub mod prune;

pub use ast::{BinaryOp, Expr, ExprKind, PathStep, Step, UnaryOp};
pub use eval::{Reference, eval, references};
pub use functions::FUNCTION_NAMES;
pub use parse::{parse_expr, parse_template};

use crate::spec::diagnostic::Diagnostic;
use crate::spec::span::Span;
use crate::value::Value;

/// What names mean where an expression is evaluated.
pub trait Scope {
    /// The value bound to a root identifier (`inputs`, `locals`, `each`, `count`, `module`, `env`,
    /// a resource or module name). Known parts are literals; unknown parts residuals. An unbound
    /// name is an error diagnostic at `span` that says what names exist.
    fn root(&self, name: &str, span: &Span) -> Result<Expr, Diagnostic>;

    /// The value bound to `name` for a reference that goes on with `steps`: a scope holding
    /// large values gives a copy cut down to what the steps reach ([`prune::prune`]).
    fn root_steps(&self, name: &str, _steps: &[Step], span: &Span) -> Result<Expr, Diagnostic> {
        self.root(name, span)
    }

    /// The value of `root.attr` alone, when the scope can give it without building all of
    /// `root` (`inputs.cidr` needs one input, not a map of all of them). `None` falls back to
    /// [`Scope::root`]; a missing attribute should also fall back, so the error says what exists.
    fn root_attr(
        &self,
        _root: &str,
        _attr: &str,
        _span: &Span,
    ) -> Option<Result<Expr, Diagnostic>> {
        None
    }

    /// The attributes of a resource instance by absolute address, when they are known now (at
    /// apply time, from state). `None` keeps a `ResourceAttr` residual.
    fn resource(&self, _addr: &str) -> Option<Value> {
        None
    }
}
