//! Diagnostics: what is wrong, where (`file:line:col`), and what would be right.
//!
//! The loader collects diagnostics instead of stopping at the first, and every later stage
//! (graph, plan, state) reports user errors in the same shape so the CLI prints them one way.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use super::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in the user's input.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub span: Option<Span>,
    /// Further places that explain the error (each reference of a cycle, the first definition of
    /// a duplicate), each with a short label.
    pub related: Vec<(Span, String)>,
    /// What would be right: "did you mean `cidr_block`?", "expected one of: ...".
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>, span: Option<Span>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            related: Vec::new(),
            help: None,
        }
    }

    pub fn error_at(message: impl Into<String>, span: &Span) -> Diagnostic {
        Diagnostic::error(message, Some(span.clone()))
    }

    pub fn warning_at(message: impl Into<String>, span: &Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message, Some(span.clone()))
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.related.push((span, label.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.span {
            Some(span) => write!(f, "{span}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for Diagnostic {}

/// A set of diagnostics that stopped an operation.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{}", summary(.0))]
pub struct Diagnostics(pub Vec<Diagnostic>);

fn summary(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    match diags.iter().find(|d| d.is_error()) {
        Some(first) if errors == 1 => first.to_string(),
        Some(first) => format!("{first} (and {} more errors)", errors - 1),
        None => "no errors".to_string(),
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}

/// The text of every loaded file, so diagnostics can quote the offending line.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: HashMap<Arc<str>, Arc<str>>,
}

impl Sources {
    pub fn add(&mut self, name: Arc<str>, text: Arc<str>) {
        self.files.insert(name, text);
    }

    pub fn line(&self, span: &Span) -> Option<&str> {
        let text = self.files.get(&span.file)?;
        text.lines().nth(span.line.checked_sub(1)? as usize)
    }

    /// Renders a diagnostic the way rustc does: message, location, the quoted line with the span
    /// underlined, related places, and help.
    pub fn render(&self, diag: &Diagnostic) -> String {
        let mut out = String::new();
        let label = match diag.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{label}: {}", diag.message);
        // One gutter width for every quoted line, as rustc does.
        let width = diag
            .span
            .iter()
            .chain(diag.related.iter().map(|(s, _)| s))
            .map(|s| s.line.to_string().len())
            .max()
            .unwrap_or(1);
        if let Some(span) = &diag.span {
            // A related place at the same span carries a label: show it there instead.
            if !diag.related.iter().any(|(s, _)| s == span) {
                self.render_place(&mut out, span, "", width);
            }
        }
        for (span, note) in &diag.related {
            self.render_place(&mut out, span, note, width);
        }
        if let Some(help) = &diag.help {
            let _ = writeln!(out, "{} = help: {help}", " ".repeat(width));
        }
        out
    }

    fn render_place(&self, out: &mut String, span: &Span, label: &str, width: usize) {
        let pad = " ".repeat(width);
        let _ = writeln!(out, "{pad}--> {span}");
        let Some(line) = self.line(span) else {
            if !label.is_empty() {
                let _ = writeln!(out, "{pad} = {label}");
            }
            return;
        };
        let col = span.col.saturating_sub(1) as usize;
        let marker_width = (span.len as usize).max(1);
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{:>width$} | {line}", span.line);
        let marker = format!("{}{}", " ".repeat(col), "^".repeat(marker_width));
        if label.is_empty() {
            let _ = writeln!(out, "{pad} | {marker}");
        } else {
            let _ = writeln!(out, "{pad} | {marker} {label}");
        }
    }
}

/// The closest candidate to a misspelled name, for "did you mean" help.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(&str, usize)> = None;
    for candidate in candidates {
        let distance = edit_distance(name, candidate);
        let limit = (name.len().max(candidate.len()) / 3).max(1);
        if distance <= limit && best.is_none_or(|(_, d)| distance < d) {
            best = Some((candidate, distance));
        }
    }
    best.map(|(c, _)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["cidr_block", "enable_dns_hostnames", "tags"];
        assert_eq!(did_you_mean("cidr_blok", names), Some("cidr_block"));
        assert_eq!(did_you_mean("tag", names), Some("tags"));
        assert_eq!(did_you_mean("instance_class", names), None);
    }
}
