//! YAML text → a spanned tree. Built on `saphyr-parser` events rather than a DOM so that every
//! node (mapping keys included) keeps its exact position and duplicate keys stay visible: a
//! duplicate resource name must be an error, not a silent overwrite.

use std::collections::HashMap;
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YamlSpan};

use super::diagnostic::Diagnostic;
use super::span::Span;

use crate::limits::{
    MAX_SPEC_FILE_BYTES, MAX_YAML_DEPTH as MAX_DEPTH, MAX_YAML_NODES as MAX_NODES,
};

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Number(f64),
    /// `content` is the span of the first character of the text (after any opening quote).
    String {
        text: String,
        content: Span,
    },
    Seq(Vec<Node>),
    /// Entries in source order; duplicates kept so callers can report them.
    Map(Vec<(Key, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

impl Node {
    pub fn describe(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a bool",
            NodeKind::Number(_) => "a number",
            NodeKind::String { .. } => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::String { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// The diagnostic for a spec file over [`MAX_SPEC_FILE_BYTES`]: the loader checks the size before
/// reading, [`parse`] again for text that came from elsewhere.
pub fn file_too_large(file: &str, bytes: u64) -> Diagnostic {
    Diagnostic::error(
        format!(
            "{file} is {bytes} bytes, over the limit of {} MiB for one spec file",
            MAX_SPEC_FILE_BYTES >> 20
        ),
        None,
    )
    .with_help("split it: move resources into modules under modules/ (each file has its own limit)")
}

/// Parses one YAML document. An empty file is `Null`.
pub fn parse(file: &Arc<str>, text: &str) -> Result<Node, Diagnostic> {
    if text.len() as u64 > MAX_SPEC_FILE_BYTES {
        return Err(file_too_large(file, text.len() as u64));
    }
    let mut builder = Builder {
        file: file.clone(),
        nodes: 0,
        anchors: HashMap::new(),
        stack: Vec::new(),
        root: None,
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            let marker = e.marker();
            Diagnostic::error_at(
                format!("invalid YAML: {}", e.info()),
                &Span::new(
                    file.clone(),
                    marker.line() as u32,
                    marker.col() as u32 + 1,
                    1,
                ),
            )
            .with_help("check the indentation and that every `key: value` pair is well formed")
        })?;
        builder.event(event, span)?;
        if builder.root.is_some() {
            break;
        }
    }
    Ok(builder.root.unwrap_or(Node {
        kind: NodeKind::Null,
        span: Span::new(file.clone(), 1, 1, 0),
    }))
}

enum Frame {
    Seq {
        items: Vec<Node>,
        span: Span,
        anchor: usize,
    },
    Map {
        entries: Vec<(Key, Node)>,
        pending_key: Option<Node>,
        span: Span,
        anchor: usize,
    },
}

struct Builder {
    file: Arc<str>,
    /// Nodes built so far, aliases counted at their full size.
    nodes: usize,
    /// Anchored nodes with their size in nodes.
    anchors: HashMap<usize, (Node, usize)>,
    stack: Vec<Frame>,
    root: Option<Node>,
}

impl Builder {
    fn span(&self, span: &YamlSpan) -> Span {
        let start = span.start;
        let len = if span.end.line() == start.line() {
            span.end.index().saturating_sub(start.index())
        } else {
            0
        };
        Span::new(
            self.file.clone(),
            start.line() as u32,
            start.col() as u32 + 1,
            len as u32,
        )
    }

    fn event(&mut self, event: Event<'_>, yspan: YamlSpan) -> Result<(), Diagnostic> {
        let span = self.span(&yspan);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let quoted = !matches!(style, ScalarStyle::Plain);
                let forced_string = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let kind = if quoted || forced_string {
                    let offset = u32::from(matches!(
                        style,
                        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted
                    ));
                    NodeKind::String {
                        text: text.into_owned(),
                        content: span.sub(offset, span.len.saturating_sub(2 * offset)),
                    }
                } else {
                    plain_scalar(&text, &span)
                };
                let node = Node { kind, span };
                if anchor > 0 {
                    self.anchors.insert(anchor, (node.clone(), 1));
                }
                self.count(1, &node.span)?;
                self.push(node)
            }
            Event::Alias(anchor) => {
                let (node, size) = self.anchors.get(&anchor).cloned().ok_or_else(|| {
                    Diagnostic::error_at(
                        "this alias refers to an anchor that is not defined",
                        &span,
                    )
                })?;
                self.count(size, &span)?;
                self.push(node)
            }
            Event::SequenceStart(anchor, _) => self.open(Frame::Seq {
                items: Vec::new(),
                span,
                anchor,
            }),
            Event::MappingStart(anchor, _) => self.open(Frame::Map {
                entries: Vec::new(),
                pending_key: None,
                span,
                anchor,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Frame::Seq {
                        items,
                        span,
                        anchor,
                    }) => (
                        Node {
                            kind: NodeKind::Seq(items),
                            span,
                        },
                        anchor,
                    ),
                    Some(Frame::Map {
                        entries,
                        span,
                        anchor,
                        ..
                    }) => (
                        Node {
                            kind: NodeKind::Map(entries),
                            span,
                        },
                        anchor,
                    ),
                    None => return Ok(()),
                };
                self.count(1, &node.0.span)?;
                if node.1 > 0 {
                    let size = size_of(&node.0);
                    self.anchors.insert(node.1, (node.0.clone(), size));
                }
                self.push(node.0)
            }
            _ => Ok(()),
        }
    }

    fn count(&mut self, added: usize, span: &Span) -> Result<(), Diagnostic> {
        self.nodes = self.nodes.saturating_add(added);
        if self.nodes > MAX_NODES {
            return Err(Diagnostic::error_at(
                format!(
                    "the document expands to more than {MAX_NODES} values (the limit on one YAML document)"
                ),
                span,
            )
            .with_help("aliases (`*name`) copy what they refer to and nested aliases multiply: write the values out, or split the file into modules"));
        }
        Ok(())
    }

    fn open(&mut self, frame: Frame) -> Result<(), Diagnostic> {
        if self.stack.len() >= MAX_DEPTH {
            let span = match &frame {
                Frame::Seq { span, .. } | Frame::Map { span, .. } => span.clone(),
            };
            return Err(Diagnostic::error_at(
                format!(
                    "lists and mappings nest deeper than {MAX_DEPTH} levels (the limit on YAML nesting)"
                ),
                &span,
            )
            .with_help("flatten the structure; no resource property needs this depth"));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn push(&mut self, node: Node) -> Result<(), Diagnostic> {
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => {
                match pending_key.take() {
                    None => *pending_key = Some(node),
                    Some(key) => {
                        let name = match &key.kind {
                            NodeKind::String { text, .. } => text.clone(),
                            NodeKind::Number(n) => crate::value::format_number(*n),
                            NodeKind::Bool(b) => b.to_string(),
                            NodeKind::Null => "null".to_string(),
                            _ => {
                                return Err(Diagnostic::error_at(
                                    "a mapping key must be a plain name, not a list or mapping",
                                    &key.span,
                                ));
                            }
                        };
                        entries.push((
                            Key {
                                name,
                                span: key.span,
                            },
                            node,
                        ));
                    }
                }
                Ok(())
            }
        }
    }
}

fn size_of(node: &Node) -> usize {
    1 + match &node.kind {
        NodeKind::Seq(items) => items.iter().map(size_of).sum(),
        NodeKind::Map(entries) => entries.iter().map(|(_, v)| 1 + size_of(v)).sum(),
        _ => 0,
    }
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn plain_scalar(text: &str, span: &Span) -> NodeKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return NodeKind::Null,
        "true" | "True" | "TRUE" => return NodeKind::Bool(true),
        "false" | "False" | "FALSE" => return NodeKind::Bool(false),
        _ => {}
    }
    let looks_numeric = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+' || c == '.');
    if looks_numeric {
        if let Some(hex) = text.strip_prefix("0x")
            && let Ok(n) = i64::from_str_radix(hex, 16)
        {
            return NodeKind::Number(n as f64);
        }
        if let Ok(n) = text.parse::<f64>()
            && n.is_finite()
        {
            return NodeKind::Number(n);
        }
    }
    NodeKind::String {
        text: text.to_string(),
        content: span.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Node, Diagnostic> {
        parse(&Arc::from("test.yaml"), text)
    }

    #[test]
    fn keeps_positions_and_duplicate_keys() {
        let node = parse_str("a: 1\nb:\n  c: \"x\"\na: 2\n").unwrap();
        let NodeKind::Map(entries) = &node.kind else {
            panic!("not a map")
        };
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[2].0.name, "a");
        assert_eq!((entries[2].0.span.line, entries[2].0.span.col), (4, 1));
        let NodeKind::Map(inner) = &entries[1].1.kind else {
            panic!("not a map")
        };
        let NodeKind::String { content, .. } = &inner[0].1.kind else {
            panic!("not a string")
        };
        assert_eq!((content.line, content.col), (3, 7));
    }

    #[test]
    fn resolves_core_schema_scalars() {
        let node = parse_str("[1, 2.5, true, null, '3', abc, 10.0.0.0/16]").unwrap();
        let NodeKind::Seq(items) = node.kind else {
            panic!("not a seq")
        };
        let kinds: Vec<&str> = items.iter().map(Node::describe).collect();
        assert_eq!(
            kinds,
            [
                "a number", "a number", "a bool", "null", "a string", "a string", "a string"
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
            let _ = parse_str(&text);
        }

        #[test]
        fn never_panics_on_yaml_shaped_text(text in "([a-z{}\\[\\],:&*!|>'\"#\n -]|  ){0,120}") {
            let _ = parse_str(&text);
        }
    }

    #[test]
    fn an_alias_bomb_is_refused_with_a_message() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = parse_str(&text).unwrap_err();
        assert!(
            err.message.contains("expands to more than"),
            "{}",
            err.message
        );
    }

    #[test]
    fn syntax_errors_point_at_the_line() {
        let err = parse_str("a: 1\nb: [1, 2\n").unwrap_err();
        assert!(err.message.starts_with("invalid YAML"), "{}", err.message);
        assert!(err.span.unwrap().line >= 2);
    }
}
