//! The plan as GitHub-flavoured Markdown, for `--markdown plan.md` posted as a PR comment: a
//! summary a reviewer takes in at a glance, a table of changes, the full diff per resource
//! folded away, and the changed part of the dependency graph drawn by Mermaid.
//!
//! The diff lines are the human renderer's, with the markers moved to the first column so
//! GitHub colors them; secrets are masked there already.

use crate::plan::render::graph;
use crate::plan::render::human::{self, Line};
use crate::plan::{Action, Plan, PlanMode, ResourceChange};

/// The PR comment for a plan.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let title = match plan.mode {
        PlanMode::Normal => "cairn plan",
        PlanMode::Destroy => "cairn destroy plan",
        PlanMode::RefreshOnly => "cairn refresh-only plan",
    };
    out.push_str(&format!(
        "## {title} for {}\n\n",
        code_span(&plan.environment)
    ));

    if let Some(warning) = crate::plan::target::partial_plan_warning(plan) {
        out.push_str(&format!("> [!WARNING]\n> {}\n\n", escape_text(&warning)));
    }

    if !plan.drift.is_empty() {
        out.push_str("### Changed outside cairn\n\n| Address | Change |\n| --- | --- |\n");
        for d in &plan.drift {
            let what = if d.action == Action::Delete {
                "deleted".to_string()
            } else {
                changed_attributes(d)
            };
            out.push_str(&format!(
                "| {} | {} |\n",
                table_cell(&code_span(&d.address.to_string())),
                table_cell(&what)
            ));
        }
        out.push('\n');
    }
    if plan.mode == PlanMode::RefreshOnly {
        out.push_str(if plan.drift.is_empty() {
            "**No changes.** The cloud still matches the state.\n"
        } else {
            "This is a refresh-only plan: applying it records these values in state and changes nothing in the cloud.\n"
        });
        return out;
    }

    let mut changed: Vec<&ResourceChange> = plan.changes.iter().filter(|c| !c.is_noop()).collect();
    // What a reviewer must not miss comes first: replacements, then destroys.
    changed.sort_by_key(|c| review_order(c.action));
    let outputs = human::output_lines(plan);
    if changed.is_empty() && outputs.is_empty() && plan.moved.is_empty() {
        out.push_str("**No changes.** Your infrastructure matches the configuration.\n");
        return out;
    }

    out.push_str(&format!("**{}**\n", human::summary_line(plan)));
    if let Some(caution) = data_at_risk(&changed) {
        out.push_str(&caution);
    }
    if !plan.moved.is_empty() {
        out.push_str("\n| Moved from | Moved to |\n| --- | --- |\n");
        for m in &plan.moved {
            out.push_str(&format!(
                "| {} | {} |\n",
                table_cell(&code_span(&m.from.to_string())),
                table_cell(&code_span(&m.to.to_string()))
            ));
        }
    }

    if !changed.is_empty() {
        out.push_str("\n| Action | Address | Changed attributes |\n");
        out.push_str("| --- | --- | --- |\n");
        for change in &changed {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                action_cell(change.action),
                table_cell(&code_span(&change.address.to_string())),
                table_cell(&changed_attributes(change)),
            ));
        }

        out.push('\n');
        for change in &changed {
            render_details(&mut out, change);
        }
        // The blank line after the last `</details>` already separates what follows.
        out.pop();
    }

    if !outputs.is_empty() {
        out.push_str("\n### Changes to Outputs\n\n");
        out.push_str(&fence("diff", &diff_text(&outputs, 0)));
    }

    if !changed.is_empty() {
        out.push_str("\n### Dependencies between changed resources\n\n");
        out.push_str(&fence(
            "mermaid",
            &graph::mermaid(&graph::from_plan(plan, true)),
        ));
    }
    out
}

fn render_details(out: &mut String, change: &ResourceChange) {
    out.push_str(&format!(
        "<details><summary>{} — {}</summary>\n\n",
        html_escape(&change.address.to_string()),
        action_words(change.action),
    ));
    let (phrase, extra) = human::header_phrases(change);
    let mut note = format!("{} {phrase}", code_span(&change.address.to_string()));
    if let Some(extra) = extra {
        note.push(' ');
        note.push_str(&extra);
    }
    out.push_str(&format!("{}.\n\n", escape_text(&note)));
    out.push_str(&fence(
        "diff",
        &diff_text(&human::attribute_lines(change), 1),
    ));
    out.push_str("\n</details>\n\n");
}

/// Diff lines with the marker in the first column, nested levels indented by four.
fn diff_text(lines: &[Line], base_depth: usize) -> String {
    let mut text = String::new();
    for line in lines {
        let marker = match line.marker.symbol() {
            "" => " ",
            symbol => symbol,
        };
        text.push_str(marker);
        text.push(' ');
        text.push_str(&"    ".repeat(line.depth.saturating_sub(base_depth)));
        text.push_str(&line.text);
        if let Some(comment) = line.note.comment() {
            text.push(' ');
            text.push_str(comment);
        }
        text.push('\n');
    }
    text
}

/// Table order for review: replacements, destroys, updates, creates, reads.
fn review_order(action: Action) -> u8 {
    match action {
        Action::DeleteThenCreate | Action::CreateThenDelete => 0,
        Action::Delete => 1,
        Action::Update => 2,
        Action::Create => 3,
        Action::Read => 4,
        Action::NoOp => 5,
    }
}

/// Resource types whose object holds data that a destroy loses: databases, caches, buckets,
/// volumes, file systems, tables, queues, keys. Renderers read only the plan, so this is a list of
/// type names rather than a schema flag.
fn is_stateful(resource_type: &str) -> bool {
    const EXACT: &[&str] = &[
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_rds_cluster_instance",
        "aws_s3_bucket",
        "aws_dynamodb_table",
        "aws_ebs_volume",
        "aws_efs_file_system",
        "aws_elasticache_cluster",
        "aws_elasticache_replication_group",
        "aws_elasticsearch_domain",
        "aws_opensearch_domain",
        "aws_sqs_queue",
        "aws_kinesis_stream",
        "aws_kms_key",
        "aws_secretsmanager_secret",
        "azurerm_storage_account",
        "azurerm_redis_cache",
        "azurerm_cosmosdb_account",
        "azurerm_key_vault",
        "fake_database",
        "fake_bucket",
    ];
    const SUBSTRINGS: &[&str] = &["_sql_", "postgresql", "mysql", "mssql"];
    EXACT.contains(&resource_type)
        || (resource_type.starts_with("azurerm_")
            && SUBSTRINGS.iter().any(|s| resource_type.contains(s))
            && (resource_type.ends_with("_server") || resource_type.ends_with("_database")))
}

/// A GitHub caution block naming every stateful resource the plan destroys or replaces.
fn data_at_risk(changed: &[&ResourceChange]) -> Option<String> {
    let at_risk: Vec<String> = changed
        .iter()
        .filter(|c| c.action.deletes() && is_stateful(&c.resource_type))
        .map(|c| {
            format!(
                "{} — {}",
                code_span(&c.address.to_string()),
                action_words(c.action)
            )
        })
        .collect();
    if at_risk.is_empty() {
        return None;
    }
    Some(format!(
        "\n> [!CAUTION]\n> **Data at risk:** this plan destroys or replaces {} stateful resource{} (database, cache, bucket or other store). Their data is lost unless it is backed up or restored from a snapshot:\n{}",
        at_risk.len(),
        if at_risk.len() == 1 { "" } else { "s" },
        at_risk
            .iter()
            .map(|r| format!("> - {}\n", escape_text(r)))
            .collect::<String>()
    ))
}

fn action_cell(action: Action) -> String {
    let emoji = match action {
        Action::NoOp => "⚪",
        Action::Create => "🟢",
        Action::Read => "🔵",
        Action::Update => "🟡",
        Action::DeleteThenCreate | Action::CreateThenDelete => "🟠",
        Action::Delete => "🔴",
    };
    format!(
        "{emoji} {} {}",
        code_span(action.symbol()),
        action_words(action)
    )
}

fn action_words(action: Action) -> &'static str {
    match action {
        Action::NoOp => "no change",
        Action::Create => "create",
        Action::Read => "read",
        Action::Update => "update in-place",
        Action::DeleteThenCreate => "replace (destroy, then create)",
        Action::CreateThenDelete => "replace (create, then destroy)",
        Action::Delete => "destroy",
    }
}

/// How many attribute names a table row lists before it says "and N more".
const MAX_LISTED: usize = 8;

/// The attributes a reviewer should look at: what changes on an update or replacement, what is
/// set on a create or read; nothing for a destroy (everything goes).
fn changed_attributes(change: &ResourceChange) -> String {
    let mut names: Vec<String> = change
        .attributes
        .iter()
        .filter(|a| match change.action {
            Action::Create | Action::Read => a.after.is_some(),
            Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete => a.is_changed(),
            Action::Delete | Action::NoOp => false,
        })
        .map(|a| {
            let name = code_span(&a.name);
            if a.forces_replacement && change.action.is_replace() {
                format!("{name} (forces replacement)")
            } else {
                name
            }
        })
        .collect();
    names.sort();
    if names.is_empty() {
        return "—".to_string();
    }
    if names.len() > MAX_LISTED {
        let more = names.len() - MAX_LISTED;
        names.truncate(MAX_LISTED);
        names.push(format!("and {more} more"));
    }
    names.join(", ")
}

/// Inline code that survives backticks in the text: the fence is one longer than the longest
/// run inside, padded when the text starts or ends with one.
fn code_span(text: &str) -> String {
    let ticks = "`".repeat(longest_run(text, '`') + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

/// A fenced block whose fence no line of the body can close early.
fn fence(lang: &str, body: &str) -> String {
    let ticks = "`".repeat((longest_run(body, '`') + 1).max(3));
    let newline = if body.ends_with('\n') { "" } else { "\n" };
    format!("{ticks}{lang}\n{body}{newline}{ticks}\n")
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in text.chars() {
        run = if ch == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// GFM ends a table cell at any unescaped `|`, even inside a code span.
fn table_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Text inside HTML tags (the `<summary>`), where Markdown is not parsed.
fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Plain Markdown text outside code spans: `<` would open an HTML tag.
fn escape_text(text: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for c in text.chars() {
        if c == '`' {
            in_code = !in_code;
        }
        match c {
            '<' if !in_code => out.push_str("&lt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::render::fixtures;

    #[test]
    fn a_realistic_plan_as_a_pr_comment() {
        insta::assert_snapshot!(render(&fixtures::realistic()));
    }

    #[test]
    fn replacements_and_destroys_come_first_and_stateful_ones_raise_a_caution() {
        let text = render(&fixtures::realistic());
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| {
                l.starts_with("| 🟠")
                    || l.starts_with("| 🔴")
                    || l.starts_with("| 🟡")
                    || l.starts_with("| 🟢")
            })
            .collect();
        let first_other = rows
            .iter()
            .position(|r| r.starts_with("| 🟡") || r.starts_with("| 🟢"));
        let last_risky = rows
            .iter()
            .rposition(|r| r.starts_with("| 🟠") || r.starts_with("| 🔴"));
        assert!(last_risky < first_other, "{text}");
        assert!(is_stateful("aws_db_instance") && is_stateful("aws_s3_bucket"));
        assert!(is_stateful("azurerm_postgresql_flexible_server"));
        assert!(!is_stateful("aws_s3_bucket_versioning") && !is_stateful("aws_vpc"));
    }

    #[test]
    fn nothing_to_do_is_one_line_under_the_title() {
        assert_eq!(
            render(&fixtures::no_changes()),
            "## cairn plan for `dev`\n\n**No changes.** Your infrastructure matches the configuration.\n"
        );
    }

    #[test]
    fn every_changed_resource_has_a_folded_diff() {
        let text = render(&fixtures::realistic());
        assert_eq!(text.matches("<details>").count(), 8);
        assert!(text.contains(
            "<summary>module.network.fake_subnet.public[&quot;ap-northeast-1a&quot;] — create</summary>"
        ));
        assert!(
            text.contains("~ cidr_block = \"10.0.0.0/16\" -> \"10.1.0.0/16\" # forces replacement")
        );
        assert!(text.contains("```mermaid\ngraph LR\n"));
    }

    #[test]
    fn pipes_and_backticks_cannot_break_the_table() {
        assert_eq!(table_cell(&code_span("a|b")), "`a\\|b`");
        assert_eq!(code_span("x`y"), "``x`y``");
        assert_eq!(code_span("`x"), "`` `x ``");
        assert_eq!(fence("diff", "```\n"), "````diff\n```\n````\n");

        let mut plan = fixtures::realistic();
        plan.changes[0].attributes[0].name = "weird|`name`".to_string();
        let text = render(&plan);
        let row = text
            .lines()
            .find(|l| l.contains("module.network.fake_network.vpc`"))
            .unwrap();
        assert!(row.contains("`` weird\\|`name` ``"), "{row}");
        // Still four cell borders: the pipe inside the name did not add a column.
        assert_eq!(row.matches(" | ").count() + 2, 4, "{row}");
    }
}
