//! `-target ADDRESS`: narrowing a plan to some resources and what they depend on, Terraform's
//! way. A module address targets everything in it. The narrowed plan says which targets made it,
//! so every renderer can warn that it is partial.

use std::collections::{BTreeSet, HashMap};

use crate::addr::{AddrSelector, ResourceAddr};
use crate::plan::{Plan, PlanMode};

/// Keeps the changes `targets` select and, transitively, every change they depend on (in a
/// destroy plan: every change that depends on them, which must go first); drops the rest, and
/// the output changes (an output may read anything, so a partial plan leaves them as they are).
/// Returns the addresses kept.
pub fn restrict_to_targets(plan: &mut Plan, targets: &[AddrSelector]) -> BTreeSet<ResourceAddr> {
    let mut edges: HashMap<&ResourceAddr, Vec<&ResourceAddr>> = HashMap::new();
    for change in &plan.changes {
        edges.entry(&change.address).or_default();
    }
    for change in &plan.changes {
        for dep in &change.depends_on {
            if !edges.contains_key(dep) {
                continue;
            }
            let (from, to) = if plan.mode == PlanMode::Destroy {
                (dep, &change.address)
            } else {
                (&change.address, dep)
            };
            edges.entry(from).or_default().push(to);
        }
    }
    let mut kept = BTreeSet::new();
    let mut todo: Vec<&ResourceAddr> = plan
        .changes
        .iter()
        .map(|c| &c.address)
        .filter(|a| targets.iter().any(|t| t.matches(a)))
        .collect();
    while let Some(addr) = todo.pop() {
        if !kept.insert(addr.clone()) {
            continue;
        }
        if let Some(next) = edges.get(addr) {
            todo.extend(next.iter().copied());
        }
    }
    plan.changes.retain(|c| kept.contains(&c.address));
    plan.moved.retain(|m| kept.contains(&m.to));
    plan.outputs.clear();
    plan.targets = targets.iter().map(ToString::to_string).collect();
    kept
}

/// The warning every rendering of a targeted plan carries.
pub fn partial_plan_warning(plan: &Plan) -> Option<String> {
    if plan.targets.is_empty() {
        return None;
    }
    let names: Vec<String> = plan.targets.iter().map(|t| format!("`{t}`")).collect();
    Some(format!(
        "Resource targeting is in effect: this plan covers only {} and what they depend on, so it may not show every change the configuration asks for. Target only to recover from a mistake or to work around a limitation, and run a full plan afterwards.",
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::render::fixtures;

    #[test]
    fn a_target_pulls_in_what_it_depends_on_and_nothing_else() {
        let mut plan = fixtures::realistic();
        let with_deps: Vec<&crate::plan::ResourceChange> = plan
            .changes
            .iter()
            .filter(|c| !c.depends_on.is_empty())
            .collect();
        let Some(target) = with_deps.first().map(|c| c.address.clone()) else {
            panic!("the fixture has a change with dependencies");
        };
        let deps = plan
            .change(&target)
            .map(|c| c.depends_on.clone())
            .unwrap_or_default();
        let total = plan.changes.len();
        let kept = restrict_to_targets(&mut plan, &[AddrSelector::Instance(target.clone())]);
        assert!(kept.contains(&target));
        for d in deps.iter().filter(|d| plan.change(d).is_some()) {
            assert!(kept.contains(d), "{d} is a dependency");
        }
        assert!(plan.changes.len() < total, "something was left out");
        assert!(partial_plan_warning(&plan).is_some());
    }
}
