//! The human plan: what `cairn plan` prints, in Terraform's vocabulary and layout, so a reader
//! who knows `terraform plan` reads it without learning anything new.
//!
//! The attribute diff is built as a list of `Line`s (depth, marker, text) before any layout,
//! so the Markdown renderer can reuse it inside a ```` ```diff ```` block with the markers moved
//! to the first column.

use owo_colors::OwoColorize;
use similar::{DiffOp, capture_diff_slices};

use crate::addr::ResourceMode;
use crate::plan::render::{
    after_attrs, before_attrs, output_action, output_after, output_before, present,
};
use crate::plan::{Action, AttrChange, Plan, PlanMode, ResourceChange};
use crate::value::{Value, format_number};

/// How to print the human plan.
#[derive(Clone, Debug)]
pub struct HumanOptions {
    /// ANSI colors, as Terraform uses them; off when the output is not a terminal.
    pub color: bool,
}

/// The whole plan as `cairn plan` prints it.
pub fn render(plan: &Plan, opts: &HumanOptions) -> String {
    let paint = Paint { color: opts.color };
    let mut out = String::new();
    let changed: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| !c.is_noop() || plan.moved_from(&c.address).is_some())
        .collect();
    let outputs = output_lines(plan);
    if let Some(warning) = crate::plan::target::partial_plan_warning(plan) {
        out.push_str(&paint.bold(&format!("Warning: {warning}")));
        out.push_str("\n\n");
    }

    if plan.mode == PlanMode::RefreshOnly {
        out.push_str(&render_refresh_only(plan, &paint));
        return out;
    }

    if changed.is_empty() && outputs.is_empty() {
        let (headline, detail) = match plan.mode {
            PlanMode::Normal => (
                "No changes. Your infrastructure matches the configuration.",
                "cairn has compared your real infrastructure against your configuration and found no differences, so no changes are needed.",
            ),
            PlanMode::Destroy => (
                "No changes. No objects need to be destroyed.",
                "Either you have not created any objects yet or the existing objects were already deleted outside of cairn.",
            ),
            PlanMode::RefreshOnly => unreachable!("refresh-only plans are rendered above"),
        };
        out.push_str(&paint.bold_green(headline));
        out.push_str("\n\n");
        out.push_str(detail);
        out.push('\n');
        return out;
    }

    if !changed.is_empty() {
        out.push_str("cairn will perform the following actions:\n");
        for change in &changed {
            out.push('\n');
            render_resource(&mut out, change, plan.moved_from(&change.address), &paint);
        }
        out.push('\n');
        out.push_str(&paint.summary(plan));
        out.push('\n');
    }

    if !outputs.is_empty() {
        if !changed.is_empty() {
            out.push('\n');
        }
        out.push_str("Changes to Outputs:\n");
        for line in &outputs {
            out.push_str(&layout_line(line, &paint));
            out.push('\n');
        }
        if changed.is_empty() {
            out.push_str(
                "\nYou can apply this plan to save these new output values to the cairn state, \
                 without changing any real infrastructure.\n",
            );
        }
    }
    out
}

/// The changes made outside cairn, as Terraform shows them before a plan.
pub fn render_drift(plan: &Plan, color: bool) -> String {
    let paint = Paint { color };
    let mut out = String::new();
    out.push_str(&paint.bold("Note: Objects have changed outside of cairn"));
    out.push_str(
        "\n\ncairn detected the following changes made outside of cairn since the last \"cairn apply\":\n",
    );
    for change in &plan.drift {
        out.push('\n');
        render_resource_with(&mut out, change, Header::Drift, &paint);
    }
    out
}

fn render_refresh_only(plan: &Plan, paint: &Paint) -> String {
    if plan.drift.is_empty() && plan.moved.is_empty() {
        return format!(
            "{}\n\ncairn has checked that the real remote objects still match the result of your most recent changes, and found no differences.\n",
            paint.bold_green("No changes. Your infrastructure still matches the configuration.")
        );
    }
    let mut out = render_drift(plan, paint.color);
    out.push_str(
        "\nThis is a refresh-only plan, so cairn will not take any actions to undo these. If you were expecting these changes then you can apply this plan to record the updated values in the cairn state without changing any remote objects.\n",
    );
    out
}

/// `Plan: 1 to add, 0 to change, 0 to destroy.`
pub fn summary_line(plan: &Plan) -> String {
    let s = plan.summary();
    format!(
        "Plan: {} to add, {} to change, {} to destroy.",
        s.add, s.change, s.destroy
    )
}

/// What the `# address ...` header says about an action, and the optional second `# (...)` line
/// with the reason.
pub(crate) fn header_phrases(change: &ResourceChange) -> (String, Option<String>) {
    let base = action_phrase(change.action);
    let Some(reason) = change.reason else {
        return (base.to_string(), None);
    };
    let explained = reason.explain();
    match explained.strip_prefix(base) {
        Some(rest) => {
            let rest = rest.trim();
            let extra = (!rest.is_empty()).then(|| format!("({rest})"));
            (base.to_string(), extra)
        }
        // A reason that says it differently (`will be replaced, as requested`) replaces the
        // header, as Terraform does.
        None => (explained.to_string(), None),
    }
}

pub(crate) fn action_phrase(action: Action) -> &'static str {
    match action {
        Action::NoOp => "has no changes",
        Action::Create => "will be created",
        Action::Read => "will be read during apply",
        Action::Update => "will be updated in-place",
        Action::DeleteThenCreate | Action::CreateThenDelete => "must be replaced",
        Action::Delete => "will be destroyed",
    }
}

fn render_resource(
    out: &mut String,
    change: &ResourceChange,
    moved_from: Option<&crate::addr::ResourceAddr>,
    paint: &Paint,
) {
    let header = match moved_from {
        Some(from) => Header::Moved(from),
        None => Header::Action,
    };
    render_resource_with(out, change, header, paint);
}

/// What the `# address ...` line above a resource says.
enum Header<'a> {
    /// The action's phrase and reason.
    Action,
    /// Renamed by `moved:` (and maybe changed too).
    Moved(&'a crate::addr::ResourceAddr),
    /// Changed outside cairn: `has changed` / `has been deleted`.
    Drift,
}

fn render_resource_with(out: &mut String, change: &ResourceChange, header: Header, paint: &Paint) {
    let moved_from = match header {
        Header::Moved(from) => Some(from),
        _ => None,
    };
    match moved_from {
        _ if matches!(header, Header::Drift) => {
            let phrase = if change.action == Action::Delete {
                "has been deleted"
            } else {
                "has changed"
            };
            out.push_str(&format!(
                "  {} {phrase}\n",
                paint.bold(&format!("# {}", change.address))
            ));
        }
        // Only renamed: Terraform's wording, with the old address first.
        Some(from) if change.is_noop() => out.push_str(&format!(
            "  {} has moved to {}\n",
            paint.bold(&format!("# {from}")),
            change.address
        )),
        _ => {
            let (phrase, extra) = header_phrases(change);
            out.push_str(&format!(
                "  {} {phrase}\n",
                paint.bold(&format!("# {}", change.address))
            ));
            if let Some(from) = moved_from {
                out.push_str(&format!("  # (moved from {from})\n"));
            }
            if let Some(extra) = extra {
                out.push_str(&format!("  # {extra}\n"));
            }
        }
    }
    let symbol = change.action.symbol();
    let keyword = match change.mode {
        ResourceMode::Managed => "resource",
        ResourceMode::Data => "data",
    };
    out.push_str(&format!(
        "{}{} {keyword} {:?} {:?} {{\n",
        " ".repeat(3usize.saturating_sub(symbol.len())),
        paint.marker(symbol),
        change.resource_type,
        change.address.name,
    ));
    for line in attribute_lines(change) {
        out.push_str(&layout_line(&line, paint));
        out.push('\n');
    }
    out.push_str("    }\n");
}

/// The marker at the start of a diff line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Marker {
    None,
    Add,
    Change,
    Remove,
}

impl Marker {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Marker::None => "",
            Marker::Add => "+",
            Marker::Change => "~",
            Marker::Remove => "-",
        }
    }
}

/// One line of an attribute diff, before layout. Depth 1 is a resource's attributes (depth 0 an
/// output); each nesting level of a map or list adds one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Line {
    pub depth: usize,
    pub marker: Marker,
    pub text: String,
    pub note: Note,
}

/// A comment Terraform-style after a changed attribute's first line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Note {
    None,
    ForcesReplacement,
    WaitsForMaintenance,
}

impl Note {
    pub fn comment(self) -> Option<&'static str> {
        match self {
            Note::None => None,
            Note::ForcesReplacement => Some("# forces replacement"),
            Note::WaitsForMaintenance => {
                Some("# waits for the maintenance window (apply_immediately is not set)")
            }
        }
    }
}

/// Terraform's layout: the marker right-aligned in a field that grows by four per depth.
fn layout_line(line: &Line, paint: &Paint) -> String {
    let width = 3 + 4 * line.depth;
    let symbol = line.marker.symbol();
    let mut s = " ".repeat(width - symbol.len());
    s.push_str(&paint.marker(symbol));
    s.push(' ');
    s.push_str(&line.text);
    match line.note {
        Note::None => {}
        Note::ForcesReplacement => {
            s.push(' ');
            s.push_str(&paint.red("# forces replacement"));
        }
        Note::WaitsForMaintenance => {
            s.push(' ');
            s.push_str(&paint.yellow(line.note.comment().unwrap_or_default()));
        }
    }
    s
}

/// Attributes Terraform keeps visible even when unchanged, so a reader knows which object an
/// update touches.
const IDENTIFYING: &[&str] = &["id", "name", "tags"];

/// The attribute diff of one resource instance at depth 1, with unchanged attributes hidden
/// behind a count.
pub(crate) fn attribute_lines(change: &ResourceChange) -> Vec<Line> {
    let mut attrs: Vec<AttrChange> = if change.attributes.is_empty() {
        synthesized_attributes(change)
    } else {
        change.attributes.clone()
    };
    attrs.sort_by(|a, b| a.name.cmp(&b.name));

    let mut shown: Vec<(String, Diff, Note)> = Vec::new();
    let mut hidden = 0usize;
    for attr in &attrs {
        let seal = |v: &Value| {
            if attr.sensitive {
                super::mark_sensitive(v.clone())
            } else {
                v.clone()
            }
        };
        let before = present(&attr.before).map(seal);
        let after = present(&attr.after).map(seal);
        let diff = match change.action {
            Action::Create | Action::Read => after.map(Diff::Added),
            Action::Delete => before.map(Diff::Removed),
            _ => match (before, after) {
                (None, None) => None,
                (None, Some(a)) => Some(Diff::Added(a)),
                (Some(b), None) => Some(Diff::Removed(b)),
                (Some(b), Some(a)) if b == a && !a.contains_unknown() => {
                    if IDENTIFYING.contains(&attr.name.as_str()) {
                        Some(Diff::Unchanged(a))
                    } else {
                        hidden += 1;
                        None
                    }
                }
                (Some(b), Some(a)) => Some(Diff::Changed(b, a)),
            },
        };
        if let Some(diff) = diff {
            let note = if attr.forces_replacement && change.action.is_replace() {
                Note::ForcesReplacement
            } else if attr.waits_for_maintenance && change.action == Action::Update {
                Note::WaitsForMaintenance
            } else {
                Note::None
            };
            shown.push((attr.name.clone(), diff, note));
        }
    }

    let mut lines = Vec::new();
    push_entries(&mut lines, 1, shown, |name| name.to_string());
    if hidden > 0 {
        lines.push(hidden_line(1, hidden, "attribute"));
    }
    lines
}

/// The output changes at depth 0, aligned as one block; empty when no output changes.
pub(crate) fn output_lines(plan: &Plan) -> Vec<Line> {
    let mut outputs: Vec<_> = plan.outputs.iter().collect();
    outputs.sort_by(|a, b| a.name.cmp(&b.name));
    let entries = outputs
        .into_iter()
        .filter_map(|o| {
            let diff = match output_action(o) {
                Action::Create => Diff::Added(output_after(o)?),
                Action::Delete => Diff::Removed(output_before(o)?),
                Action::Update => Diff::Changed(output_before(o)?, output_after(o)?),
                _ => return None,
            };
            Some((o.name.clone(), diff, Note::None))
        })
        .collect();
    let mut lines = Vec::new();
    push_entries(&mut lines, 0, entries, |name| name.to_string());
    lines
}

/// When a change carries no attribute list (an older plan or a data read), the diff is made from
/// the before and after objects.
fn synthesized_attributes(change: &ResourceChange) -> Vec<AttrChange> {
    let before = before_attrs(change).unwrap_or_default();
    let after = after_attrs(change).unwrap_or_default();
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| AttrChange {
            name: name.clone(),
            before: before.get(name).cloned(),
            after: after.get(name).cloned(),
            forces_replacement: change.replace_paths.contains(name),
            sensitive: false,
            waits_for_maintenance: false,
        })
        .collect()
}

#[derive(Clone, Debug)]
enum Diff {
    Unchanged(Value),
    Added(Value),
    Removed(Value),
    Changed(Value, Value),
}

/// Pushes named entries (attributes or map keys) with their `=` aligned, as Terraform does.
fn push_entries(
    lines: &mut Vec<Line>,
    depth: usize,
    entries: Vec<(String, Diff, Note)>,
    label: impl Fn(&str) -> String,
) {
    let labels: Vec<String> = entries.iter().map(|(name, _, _)| label(name)).collect();
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    for ((_, diff, note), label) in entries.into_iter().zip(labels) {
        let prefix = format!("{label:<width$} = ");
        let first = lines.len();
        match diff {
            Diff::Unchanged(v) => push_whole(lines, depth, Marker::None, &prefix, &v, ""),
            Diff::Added(v) => push_whole(lines, depth, Marker::Add, &prefix, &v, ""),
            Diff::Removed(v) => push_whole(lines, depth, Marker::Remove, &prefix, &v, " -> null"),
            Diff::Changed(b, a) => push_changed(lines, depth, &prefix, &b, &a, ""),
        }
        if let Some(line) = lines.get_mut(first) {
            line.note = note;
        }
    }
}

/// A value shown whole (created, destroyed or unchanged): every nested line carries the marker.
/// `tail` ends the last line (` -> null`, or `,` for a list item).
fn push_whole(
    lines: &mut Vec<Line>,
    depth: usize,
    marker: Marker,
    prefix: &str,
    value: &Value,
    tail: &str,
) {
    let line = |depth, marker, text: String| Line {
        depth,
        marker,
        text,
        note: Note::None,
    };
    match value {
        Value::Map(map) if !map.is_empty() => {
            lines.push(line(depth, marker, format!("{prefix}{{")));
            let width = map
                .keys()
                .map(|k| quoted(k).chars().count())
                .max()
                .unwrap_or(0);
            for (k, v) in map {
                let key = quoted(k);
                push_whole(
                    lines,
                    depth + 1,
                    marker,
                    &format!("{key:<width$} = "),
                    v,
                    "",
                );
            }
            lines.push(line(depth, Marker::None, format!("}}{tail}")));
        }
        Value::List(items) if !items.is_empty() => {
            lines.push(line(depth, marker, format!("{prefix}[")));
            for item in items {
                push_whole(lines, depth + 1, marker, "", item, ",");
            }
            lines.push(line(depth, Marker::None, format!("]{tail}")));
        }
        other => lines.push(line(
            depth,
            marker,
            format!("{prefix}{}{tail}", inline(other)),
        )),
    }
}

/// A value that changed: maps and lists are diffed element by element, anything else is shown
/// as `before -> after`.
fn push_changed(
    lines: &mut Vec<Line>,
    depth: usize,
    prefix: &str,
    before: &Value,
    after: &Value,
    tail: &str,
) {
    let line = |depth, marker, text: String| Line {
        depth,
        marker,
        text,
        note: Note::None,
    };
    match (before, after) {
        // Which part of a secret changed is itself a secret.
        (Value::Sensitive(_), _) | (_, Value::Sensitive(_)) => lines.push(line(
            depth,
            Marker::Change,
            format!("{prefix}(sensitive value){tail}"),
        )),
        (Value::Map(b), Value::Map(a)) => {
            lines.push(line(depth, Marker::Change, format!("{prefix}{{")));
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            let mut hidden = 0;
            let mut entries = Vec::new();
            for key in keys {
                let diff = match (b.get(key), a.get(key)) {
                    (Some(x), Some(y)) if x == y && !y.contains_unknown() => {
                        hidden += 1;
                        continue;
                    }
                    (Some(x), Some(y)) => Diff::Changed(x.clone(), y.clone()),
                    (None, Some(y)) => Diff::Added(y.clone()),
                    (Some(x), None) => Diff::Removed(x.clone()),
                    (None, None) => continue,
                };
                entries.push((key.clone(), diff, Note::None));
            }
            push_entries(lines, depth + 1, entries, quoted);
            if hidden > 0 {
                lines.push(hidden_line(depth + 1, hidden, "element"));
            }
            lines.push(line(depth, Marker::None, format!("}}{tail}")));
        }
        (Value::List(b), Value::List(a)) => {
            lines.push(line(depth, Marker::Change, format!("{prefix}[")));
            // Elements are compared by their marked JSON form, which is never displayed.
            let key = |v: &Value| serde_json::to_string(v).unwrap_or_default();
            let bk: Vec<String> = b.iter().map(key).collect();
            let ak: Vec<String> = a.iter().map(key).collect();
            let mut hidden = 0;
            for op in capture_diff_slices(similar::Algorithm::Myers, &bk, &ak) {
                match op {
                    DiffOp::Equal { len, .. } => hidden += len,
                    DiffOp::Delete {
                        old_index, old_len, ..
                    } => {
                        for v in &b[old_index..old_index + old_len] {
                            push_whole(lines, depth + 1, Marker::Remove, "", v, ",");
                        }
                    }
                    DiffOp::Insert {
                        new_index, new_len, ..
                    } => {
                        for v in &a[new_index..new_index + new_len] {
                            push_whole(lines, depth + 1, Marker::Add, "", v, ",");
                        }
                    }
                    DiffOp::Replace {
                        old_index,
                        old_len,
                        new_index,
                        new_len,
                    } => {
                        for v in &b[old_index..old_index + old_len] {
                            push_whole(lines, depth + 1, Marker::Remove, "", v, ",");
                        }
                        for v in &a[new_index..new_index + new_len] {
                            push_whole(lines, depth + 1, Marker::Add, "", v, ",");
                        }
                    }
                }
            }
            if hidden > 0 {
                lines.push(hidden_line(depth + 1, hidden, "element"));
            }
            lines.push(line(depth, Marker::None, format!("]{tail}")));
        }
        (b, a) => lines.push(line(
            depth,
            Marker::Change,
            format!("{prefix}{} -> {}{tail}", inline(b), inline(a)),
        )),
    }
}

fn hidden_line(depth: usize, count: usize, noun: &str) -> Line {
    let plural = if count == 1 { "" } else { "s" };
    Line {
        depth,
        marker: Marker::None,
        text: format!("# ({count} unchanged {noun}{plural} hidden)"),
        note: Note::None,
    }
}

/// A map key as Terraform prints it: quoted, with quotes and backslashes escaped.
fn quoted(key: &str) -> String {
    format!("{key:?}")
}

/// A value on one line. Secrets print as `(sensitive value)` at any depth.
fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format_number(*n),
        Value::String(s) => format!("{s:?}"),
        Value::Sensitive(_) => "(sensitive value)".to_string(),
        Value::Unknown => "(known after apply)".to_string(),
        Value::List(items) if items.is_empty() => "[]".to_string(),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(inline).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(map) if map.is_empty() => "{}".to_string(),
        Value::Map(map) => format!(
            "{{ {} }}",
            map.iter()
                .map(|(k, v)| format!("{} = {}", quoted(k), inline(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Colors as Terraform uses them, or none at all.
struct Paint {
    color: bool,
}

impl Paint {
    fn marker(&self, symbol: &str) -> String {
        if !self.color {
            return symbol.to_string();
        }
        match symbol {
            "+" => symbol.green().to_string(),
            "~" => symbol.yellow().to_string(),
            "-" => symbol.red().to_string(),
            "<=" => symbol.cyan().to_string(),
            "-/+" => format!("{}/{}", "-".red(), "+".green()),
            "+/-" => format!("{}/{}", "+".green(), "-".red()),
            other => other.to_string(),
        }
    }

    fn bold(&self, s: &str) -> String {
        if self.color {
            s.bold().to_string()
        } else {
            s.to_string()
        }
    }

    fn bold_green(&self, s: &str) -> String {
        if self.color {
            s.bold().green().to_string()
        } else {
            s.to_string()
        }
    }

    fn red(&self, s: &str) -> String {
        if self.color {
            s.red().to_string()
        } else {
            s.to_string()
        }
    }

    fn yellow(&self, s: &str) -> String {
        if self.color {
            s.yellow().to_string()
        } else {
            s.to_string()
        }
    }

    fn summary(&self, plan: &Plan) -> String {
        let line = summary_line(plan);
        match line.strip_prefix("Plan:") {
            Some(rest) if self.color => format!("{}{rest}", "Plan:".bold()),
            _ => line,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::render::fixtures;

    fn plain(plan: &Plan) -> String {
        render(plan, &HumanOptions { color: false })
    }

    #[test]
    fn a_realistic_plan_reads_like_terraform() {
        insta::assert_snapshot!(plain(&fixtures::realistic()));
    }

    #[test]
    fn a_destroy_plan_lists_every_object_going_away() {
        insta::assert_snapshot!(plain(&fixtures::destroy_all()));
    }

    #[test]
    fn nothing_to_do_says_so() {
        let text = plain(&fixtures::no_changes());
        assert!(
            text.starts_with("No changes. Your infrastructure matches the configuration."),
            "{text}"
        );
        assert!(!text.contains("Plan:"), "{text}");
    }

    #[test]
    fn a_destroy_plan_with_nothing_to_destroy_says_so() {
        let mut plan = fixtures::no_changes();
        plan.mode = PlanMode::Destroy;
        assert!(plain(&plan).starts_with("No changes. No objects need to be destroyed."));
    }

    #[test]
    fn output_only_changes_offer_to_save_the_outputs() {
        insta::assert_snapshot!(plain(&fixtures::outputs_only()));
    }

    #[test]
    fn color_is_added_only_when_asked_for() {
        let plan = fixtures::realistic();
        let colored = render(&plan, &HumanOptions { color: true });
        assert!(colored.contains("\u{1b}["), "no ANSI codes in:\n{colored}");
        // The red/green halves of a replacement marker.
        assert!(colored.contains(&format!("{}/{}", "-".red(), "+".green())));
        assert!(!plain(&plan).contains('\u{1b}'));
    }

    #[test]
    fn the_summary_counts_a_replacement_as_an_add_and_a_destroy() {
        assert_eq!(
            summary_line(&fixtures::realistic()),
            "Plan: 4 to add, 2 to change, 3 to destroy."
        );
    }

    #[test]
    fn a_database_resize_says_it_waits_for_the_maintenance_window() {
        use fixtures::{attr, s};
        let db = fixtures::resource(
            "aws_db_instance.main",
            Action::Update,
            vec![
                attr("allocated_storage", Some(20.into()), Some(50.into())),
                AttrChange {
                    waits_for_maintenance: true,
                    ..attr(
                        "instance_class",
                        Some(s("db.t4g.micro")),
                        Some(s("db.t4g.small")),
                    )
                },
            ],
        );
        let text: Vec<String> = attribute_lines(&db)
            .iter()
            .map(|l| layout_line(l, &Paint { color: false }))
            .collect();
        assert_eq!(
            text,
            [
                "      ~ allocated_storage = 20 -> 50",
                "      ~ instance_class    = \"db.t4g.micro\" -> \"db.t4g.small\" # waits for the maintenance window (apply_immediately is not set)",
            ]
        );
    }

    #[test]
    fn a_list_change_shows_only_the_elements_that_moved() {
        use fixtures::{attr, s};
        let rule = fixtures::resource(
            "fake_firewall.web",
            Action::Update,
            vec![
                attr("id", Some(s("fw-1")), Some(s("fw-1"))),
                attr(
                    "cidr_blocks",
                    Some(Value::List(vec![s("10.0.0.0/8"), s("172.16.0.0/12")])),
                    Some(Value::List(vec![s("10.0.0.0/8"), s("192.168.0.0/16")])),
                ),
            ],
        );
        let text: Vec<String> = attribute_lines(&rule)
            .iter()
            .map(|l| layout_line(l, &Paint { color: false }))
            .collect();
        assert_eq!(
            text,
            [
                "      ~ cidr_blocks = [",
                "          - \"172.16.0.0/12\",",
                "          + \"192.168.0.0/16\",",
                "            # (1 unchanged element hidden)",
                "        ]",
                "        id          = \"fw-1\"",
            ]
        );
    }

    #[test]
    fn a_secret_inside_a_map_is_masked_where_it_sits() {
        use fixtures::{attr, map, s, secret};
        let change = fixtures::resource(
            "fake_service.api",
            Action::Update,
            vec![attr(
                "environment",
                Some(map(&[("LOG", s("info")), ("TOKEN", secret("tok-old"))])),
                Some(map(&[("LOG", s("debug")), ("TOKEN", secret("tok-new"))])),
            )],
        );
        let text: Vec<String> = attribute_lines(&change)
            .into_iter()
            .map(|l| l.text)
            .collect();
        assert_eq!(
            text,
            [
                "environment = {",
                "\"LOG\"   = \"info\" -> \"debug\"",
                "\"TOKEN\" = (sensitive value)",
                "}",
            ]
        );
    }

    #[test]
    fn no_op_resources_are_not_printed() {
        let text = plain(&fixtures::realistic());
        assert!(!text.contains("fake_network.shared"), "{text}");
    }
}
