//! The dependency graph of a plan as DOT (for `cairn graph | dot -Tsvg`) and Mermaid (for
//! Markdown, where GitHub draws it inline).
//!
//! Edges point from the dependent to its dependency, as in `terraform graph`. Output is sorted so
//! the same plan always gives the same text (diffable, snapshot-testable).

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::{Action, Plan};

/// Nodes and edges to draw, independent of the output syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphView {
    pub nodes: Vec<GraphNode>,
    /// `(dependent, dependency)` by node id.
    pub edges: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphNode {
    /// The instance address.
    pub id: String,
    pub label: String,
    /// What the plan does to the instance; `None` when nothing (or when drawn without a plan).
    pub action: Option<Action>,
}

/// The plan's instances and their `depends_on` edges. With `changed_only`, only instances with
/// an action, and the edges between them.
pub fn from_plan(plan: &Plan, changed_only: bool) -> GraphView {
    let mut nodes: Vec<GraphNode> = plan
        .changes
        .iter()
        .filter(|c| !(changed_only && c.is_noop()))
        .map(|c| GraphNode {
            id: c.address.to_string(),
            label: c.address.to_string(),
            action: (!c.is_noop()).then_some(c.action),
        })
        .collect();
    nodes.sort_by(|a, b| a.id.cmp(&b.id));
    nodes.dedup_by(|a, b| a.id == b.id);

    let ids: BTreeSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let mut edges: BTreeSet<(String, String)> = BTreeSet::new();
    for change in &plan.changes {
        let from = change.address.to_string();
        if !ids.contains(from.as_str()) {
            continue;
        }
        for dep in &change.depends_on {
            let to = dep.to_string();
            if ids.contains(to.as_str()) && to != from {
                edges.insert((from.clone(), to));
            }
        }
    }
    GraphView {
        nodes,
        edges: edges.into_iter().collect(),
    }
}

/// Graphviz DOT. Changed nodes are colored the way the human plan colors their marker.
pub fn dot(view: &GraphView) -> String {
    let mut out = String::from("digraph cairn {\n");
    out.push_str("  rankdir = \"RL\";\n");
    out.push_str("  node [shape = \"box\", fontname = \"Helvetica\"];\n");
    for node in &view.nodes {
        out.push_str(&format!(
            "  {} [label = {}",
            dot_string(&node.id),
            dot_string(&node_label(node))
        ));
        if let Some(color) = node.action.and_then(dot_color) {
            out.push_str(&format!(", color = \"{color}\", penwidth = 2"));
        }
        out.push_str("];\n");
    }
    for (from, to) in &view.edges {
        out.push_str(&format!("  {} -> {};\n", dot_string(from), dot_string(to)));
    }
    out.push_str("}\n");
    out
}

/// A Mermaid flowchart. Addresses hold `"`, `[` and `.`, which Mermaid ids cannot, so nodes are
/// `n0`, `n1`, ... with the address as an escaped label.
pub fn mermaid(view: &GraphView) -> String {
    let ids: BTreeMap<&str, String> = view
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), format!("n{i}")))
        .collect();
    let mut out = String::from("graph LR\n");
    for node in &view.nodes {
        out.push_str(&format!(
            "  {}[\"{}\"]\n",
            ids[node.id.as_str()],
            mermaid_text(&node_label(node))
        ));
    }
    for (from, to) in &view.edges {
        if let (Some(from), Some(to)) = (ids.get(from.as_str()), ids.get(to.as_str())) {
            out.push_str(&format!("  {from} --> {to}\n"));
        }
    }
    let mut classes: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in &view.nodes {
        if let Some(class) = node.action.and_then(mermaid_class) {
            classes
                .entry(class)
                .or_default()
                .push(&ids[node.id.as_str()]);
        }
    }
    for (class, members) in &classes {
        out.push_str(&format!("  classDef {class} {}\n", mermaid_style(class)));
        out.push_str(&format!("  class {} {class}\n", members.join(",")));
    }
    out
}

/// The label a reader sees: the address, prefixed by the plan marker when something happens.
fn node_label(node: &GraphNode) -> String {
    match node.action {
        Some(action) if action != Action::NoOp => {
            format!("{} {}", action.symbol(), node.label)
        }
        _ => node.label.clone(),
    }
}

/// A DOT quoted string: only `"` and `\` need escaping; newlines would end the statement.
fn dot_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Mermaid label text inside `["..."]`: quotes and markup characters as Mermaid entity codes.
fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn dot_color(action: Action) -> Option<&'static str> {
    match action {
        Action::NoOp => None,
        Action::Create => Some("green4"),
        Action::Read => Some("cyan4"),
        Action::Update => Some("goldenrod"),
        Action::DeleteThenCreate | Action::CreateThenDelete => Some("darkorange"),
        Action::Delete => Some("red3"),
    }
}

fn mermaid_class(action: Action) -> Option<&'static str> {
    match action {
        Action::NoOp => None,
        Action::Create => Some("create"),
        Action::Read => Some("read"),
        Action::Update => Some("update"),
        Action::DeleteThenCreate | Action::CreateThenDelete => Some("replace"),
        Action::Delete => Some("delete"),
    }
}

fn mermaid_style(class: &str) -> &'static str {
    match class {
        "create" => "fill:#dafbe1,stroke:#1a7f37",
        "read" => "fill:#ddf4ff,stroke:#0969da",
        "update" => "fill:#fff8c5,stroke:#9a6700",
        "replace" => "fill:#fff1e5,stroke:#bc4c00",
        _ => "fill:#ffebe9,stroke:#cf222e",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::render::fixtures;

    #[test]
    fn dot_of_the_whole_plan() {
        insta::assert_snapshot!(dot(&from_plan(&fixtures::realistic(), false)));
    }

    #[test]
    fn mermaid_of_the_changed_resources() {
        insta::assert_snapshot!(mermaid(&from_plan(&fixtures::realistic(), true)));
    }

    #[test]
    fn changed_only_drops_unchanged_instances_and_their_edges() {
        let view = from_plan(&fixtures::realistic(), true);
        assert!(view.nodes.iter().all(|n| n.action.is_some()));
        assert!(!view.nodes.iter().any(|n| n.id.contains("ap-northeast-1c")));
        assert!(
            view.edges
                .iter()
                .all(|(_, to)| !to.contains("ap-northeast-1c"))
        );
        assert!(view.edges.contains(&(
            "module.network.fake_subnet.public[\"ap-northeast-1a\"]".to_string(),
            "module.network.fake_network.vpc".to_string()
        )));
    }

    #[test]
    fn quotes_in_addresses_are_escaped() {
        let view = from_plan(&fixtures::realistic(), false);
        let dot = dot(&view);
        assert!(dot.contains(r#""module.network.fake_subnet.public[\"ap-northeast-1a\"]""#));
        let mermaid = mermaid(&view);
        assert!(
            mermaid.contains("public[#quot;ap-northeast-1a#quot;]"),
            "{mermaid}"
        );
        // Mermaid ids are generated, never the address.
        assert!(!mermaid.contains("  module."), "{mermaid}");
    }

    #[test]
    fn the_same_plan_draws_the_same_text() {
        let mut plan = fixtures::realistic();
        let once = dot(&from_plan(&plan, false));
        plan.changes.reverse();
        assert_eq!(dot(&from_plan(&plan, false)), once);
    }
}
