//! Renderers read only `&Plan`: human (Terraform's vocabulary), JSON (Terraform's plan format)
//! and Markdown (a PR comment), plus the dependency graph as DOT and Mermaid.
//!
//! This file holds the few value helpers the renderers share: turning a change's `after`
//! expression into a value (residuals become `Unknown`), and marking attributes the schema calls
//! sensitive so no renderer can print them by accident.

pub mod graph;
pub mod human;
pub mod json;
pub mod markdown;

#[cfg(test)]
pub(crate) mod fixtures;

use std::collections::BTreeMap;

pub(crate) use crate::plan::diff::display_value;
use crate::plan::{Action, OutputChange, ResourceChange};
use crate::value::Value;

/// Null and absent mean the same thing to a reader of a plan.
pub(crate) fn present(v: &Option<Value>) -> Option<&Value> {
    v.as_ref().filter(|v| !matches!(v, Value::Null))
}

/// Wraps a value in the sensitive marker unless it already carries it.
pub(crate) fn mark_sensitive(v: Value) -> Value {
    match v {
        Value::Sensitive(_) => v,
        other => Value::Sensitive(Box::new(other)),
    }
}

/// The attributes before the change, with schema-sensitive attributes marked as secrets.
pub(crate) fn before_attrs(change: &ResourceChange) -> Option<BTreeMap<String, Value>> {
    let mut map = match change.before.as_deref()? {
        Value::Map(m) => m.clone(),
        // A whole-object secret: nothing inside may be shown.
        Value::Sensitive(_) => return Some(BTreeMap::new()),
        _ => BTreeMap::new(),
    };
    for attr in &change.attributes {
        if attr.sensitive
            && let Some(v) = map.remove(&attr.name)
        {
            map.insert(attr.name.clone(), mark_sensitive(v));
        }
    }
    Some(map)
}

/// The attributes after the change (unknown ones as `Unknown`), with schema-sensitive attributes
/// marked as secrets. `None` for a delete; a no-op's `before`.
pub(crate) fn after_attrs(change: &ResourceChange) -> Option<BTreeMap<String, Value>> {
    if change.action == Action::Delete {
        return None;
    }
    // Nothing changes: after is before (the plan keeps only a no-op's secret markers).
    if change.action == Action::NoOp && change.before.is_some() {
        return before_attrs(change);
    }
    let mut map: BTreeMap<String, Value> = if !change.attributes.is_empty() {
        change
            .attributes
            .iter()
            .filter_map(|a| a.after.clone().map(|v| (a.name.clone(), v)))
            .collect()
    } else if let Some(after) = &change.after {
        match display_value(after) {
            Value::Map(m) => m,
            _ => BTreeMap::new(),
        }
    } else {
        before_attrs(change).unwrap_or_default()
    };
    for attr in &change.attributes {
        if attr.sensitive
            && let Some(v) = map.remove(&attr.name)
        {
            map.insert(attr.name.clone(), mark_sensitive(v));
        }
    }
    Some(map)
}

/// What an output's value will be after apply (`Unknown` for a residual), as a secret when the
/// output is sensitive.
pub(crate) fn output_after(output: &OutputChange) -> Option<Value> {
    let v = display_value(output.after.as_ref()?);
    Some(if output.sensitive {
        mark_sensitive(v)
    } else {
        v
    })
}

pub(crate) fn output_before(output: &OutputChange) -> Option<Value> {
    let v = output.before.clone()?;
    Some(if output.sensitive {
        mark_sensitive(v)
    } else {
        v
    })
}

/// Terraform's action for an output: outputs have no replace.
pub(crate) fn output_action(output: &OutputChange) -> Action {
    let before = output.before.as_ref().filter(|v| !matches!(v, Value::Null));
    let after = output.after.as_ref().map(display_value);
    let after = after.as_ref().filter(|v| !matches!(v, Value::Null));
    match (before, after) {
        (None, None) => Action::NoOp,
        (None, Some(_)) => Action::Create,
        (Some(_), None) => Action::Delete,
        (Some(b), Some(a)) if b == a && !a.contains_unknown() => Action::NoOp,
        (Some(_), Some(_)) => Action::Update,
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{self, SECRET};
    use super::{graph, human, json, markdown};
    use crate::plan::Plan;

    fn every_rendering(plan: &Plan) -> Vec<(&'static str, String)> {
        vec![
            (
                "human",
                human::render(plan, &human::HumanOptions { color: false }),
            ),
            (
                "human+color",
                human::render(plan, &human::HumanOptions { color: true }),
            ),
            ("json", json::render_string(plan)),
            ("markdown", markdown::render(plan)),
            ("dot", graph::dot(&graph::from_plan(plan, false))),
            ("mermaid", graph::mermaid(&graph::from_plan(plan, false))),
        ]
    }

    #[test]
    fn the_database_password_appears_in_no_rendering() {
        for plan in [fixtures::realistic(), fixtures::destroy_all()] {
            for (name, text) in every_rendering(&plan) {
                assert!(!text.contains(SECRET), "{name} leaks the password:\n{text}");
                assert!(
                    !text.contains("s3cret-old"),
                    "{name} leaks the old password"
                );
            }
        }
    }

    #[test]
    fn the_secret_is_really_in_the_plan_the_renderers_were_given() {
        // Guards the test above: it would pass vacuously if the fixture lost its secret.
        let saved = serde_json::to_string(&fixtures::realistic()).unwrap();
        assert!(saved.contains(SECRET));
    }
}
