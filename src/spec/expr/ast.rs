//! The expression tree of `${...}`: what the parser produces, what the partial evaluator
//! rewrites, and what a saved plan stores for values known only after apply.

use serde::{Deserialize, Serialize};

use crate::spec::span::Span;
use crate::value::Value;

/// An expression with the span it was written at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExprKind {
    /// A known value.
    Literal(Value),
    /// A reference by name: `vpc.id`, `inputs.cidr`, `each.value`, `module.db.endpoint`,
    /// `public[*].id`. `root` is the first identifier; `steps` what follows.
    Ref {
        root: String,
        steps: Vec<Step>,
    },
    /// An attribute of a resource instance not known until that instance is applied. Only the
    /// partial evaluator produces this; `addr` is the absolute instance address
    /// (`module.network.fake_network.vpc`), `path` the attribute path inside it.
    ResourceAttr {
        addr: String,
        path: Vec<PathStep>,
    },
    /// String interpolation: the parts are converted to strings and concatenated.
    Template(Vec<Expr>),
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `cond ? a : b`
    Conditional(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `name(args...)`
    Call(String, Vec<Expr>),
    /// A traversal applied to a computed value: `merge(a, b).x`, `(expr)[0]`, `lookup(...)[*].id`.
    Traverse(Box<Expr>, Vec<Step>),
}

/// One step of a traversal as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// `.name`
    Attr(String),
    /// `[expr]`
    Index(Expr),
    /// `[*]`: apply the remaining steps to every element, giving a list.
    Splat,
}

/// One step of a resolved attribute path inside a resource's attributes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathStep {
    Key(String),
    Index(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }

    pub fn literal(value: Value, span: Span) -> Expr {
        Expr::new(ExprKind::Literal(value), span)
    }

    /// A list or map expression, as one literal when every part is literal.
    pub fn folded(kind: ExprKind, span: Span) -> Expr {
        let all_literal = match &kind {
            ExprKind::List(items) => items.iter().all(|i| i.as_literal().is_some()),
            ExprKind::Map(entries) => entries.iter().all(|(_, v)| v.as_literal().is_some()),
            _ => false,
        };
        if !all_literal {
            return Expr::new(kind, span);
        }
        // Moved, not copied: a plan folds every resource's configuration this way.
        let value = match kind {
            ExprKind::List(items) => {
                Value::List(items.into_iter().filter_map(Expr::into_literal).collect())
            }
            ExprKind::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .filter_map(|(k, v)| Some((k, v.into_literal()?)))
                    .collect(),
            ),
            other => return Expr::new(other, span),
        };
        Expr::literal(value, span)
    }

    /// The value of a literal expression.
    pub fn into_literal(self) -> Option<Value> {
        match self.kind {
            ExprKind::Literal(value) => Some(value),
            _ => None,
        }
    }

    /// Calls `f` on this expression and on every expression inside it (index expressions of
    /// traversals included), parents before children, in source order. The one walk that
    /// reference discovery, the graph and the JSON renderer share.
    pub fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        let steps: &[Step] = match &self.kind {
            ExprKind::Literal(_) | ExprKind::ResourceAttr { .. } => &[],
            ExprKind::Ref { steps, .. } => steps,
            ExprKind::Template(parts) | ExprKind::List(parts) | ExprKind::Call(_, parts) => {
                parts.iter().for_each(|p| p.visit(f));
                &[]
            }
            ExprKind::Map(entries) => {
                entries.iter().for_each(|(_, v)| v.visit(f));
                &[]
            }
            ExprKind::Unary(_, e) => {
                e.visit(f);
                &[]
            }
            ExprKind::Binary(_, a, b) => {
                a.visit(f);
                b.visit(f);
                &[]
            }
            ExprKind::Conditional(c, a, b) => {
                c.visit(f);
                a.visit(f);
                b.visit(f);
                &[]
            }
            ExprKind::Traverse(base, steps) => {
                base.visit(f);
                steps
            }
        };
        for step in steps {
            if let Step::Index(index) = step {
                index.visit(f);
            }
        }
    }

    /// The value when the expression is fully known.
    pub fn as_literal(&self) -> Option<&Value> {
        match &self.kind {
            ExprKind::Literal(v) => Some(v),
            _ => None,
        }
    }
}
