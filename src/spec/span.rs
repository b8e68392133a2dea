//! Source positions. Every value loaded from YAML keeps one, so any error can point at
//! `file:line:col`.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A position in a source file: 1-based line and column (in characters), and the length of the
/// spanned text on that line (for underlining; 0 when unknown).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    /// Path as the user sees it, relative to the project directory when possible.
    pub file: Arc<str>,
    pub line: u32,
    pub col: u32,
    pub len: u32,
}

impl Span {
    pub fn new(file: Arc<str>, line: u32, col: u32, len: u32) -> Span {
        Span {
            file,
            line,
            col,
            len,
        }
    }

    /// A span for things that have no source text (built-in defaults, generated values).
    pub fn synthetic(what: &str) -> Span {
        Span {
            file: Arc::from(format!("<{what}>")),
            line: 0,
            col: 0,
            len: 0,
        }
    }

    pub fn is_synthetic(&self) -> bool {
        self.line == 0
    }

    /// The span `offset` characters into this one, `len` long, when both lie on one line.
    pub fn sub(&self, offset: u32, len: u32) -> Span {
        Span {
            file: self.file.clone(),
            line: self.line,
            col: self.col + offset,
            len,
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_synthetic() {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}:{}", self.file, self.line, self.col)
        }
    }
}

/// A value together with where it was written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(node: T, span: Span) -> Spanned<T> {
        Spanned { node, span }
    }
}
