//! Drift: what changed in the cloud outside cairn since the last apply, found by comparing the
//! state before refresh with the state after it.
//!
//! Drift is described with the plan's own vocabulary (a [`ResourceChange`] per drifted instance:
//! `Update` for attributes changed by hand, `Delete` for an object that vanished), so it travels
//! in a [`Plan`] (Terraform's `resource_drift`), is rendered by the same attribute differ, and is
//! summed up by [`DriftReport`], the stable JSON `cairn drift --json` writes (docs/drift.md).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::addr::{ResourceAddr, ResourceMode};
use crate::plan::diff::attribute_changes;
use crate::plan::render::present;
use crate::plan::{Action, Plan, ResourceChange};
use crate::schema::SchemaRegistry;
use crate::spec::expr::Expr;
use crate::spec::span::Span;
use crate::state::{ResourceStatus, State};
use crate::value::Value;

/// The version of [`DriftReport`]'s JSON; raised only when a field changes meaning or goes away.
pub const DRIFT_FORMAT_VERSION: &str = "1.0";

/// The drift between `prior` (state as stored, after `moved:` renames) and `refreshed` (the same
/// instances as the cloud reports them); `gone` are the instances the cloud no longer has.
pub fn detect(
    prior: &State,
    refreshed: &State,
    gone: &[ResourceAddr],
    schemas: &SchemaRegistry,
) -> Vec<ResourceChange> {
    let mut drift = Vec::new();
    for (addr, before) in &prior.resources {
        // A pending create has nothing to drift from; data sources are only read.
        if before.mode != ResourceMode::Managed || before.status != ResourceStatus::Created {
            continue;
        }
        let Some(schema) = schemas.get(&before.resource_type) else {
            continue;
        };
        let (action, after) = if gone.contains(addr) {
            (Action::Delete, None)
        } else {
            match refreshed.resources.get(addr) {
                Some(now) if now.attributes != before.attributes => {
                    (Action::Update, Some((*now.attributes).clone()))
                }
                _ => continue,
            }
        };
        let after_map: Option<BTreeMap<String, Value>> =
            after.as_ref().and_then(|v| v.as_map().cloned());
        let mut attributes = attribute_changes(
            schema,
            Some(&before.attributes),
            after_map.as_ref(),
            &Default::default(),
            &prior.lineage,
        );
        for attr in &mut attributes {
            attr.waits_for_maintenance = false;
        }
        // What the cloud computes moving on by itself (a certificate issued, an address
        // associated by the NAT gateway cairn created) is recorded, not reported: drift is a
        // change to something the configuration sets.
        let settable_changed = attributes.iter().any(|a| {
            a.is_changed()
                && schema
                    .attribute(&a.name)
                    .is_none_or(|attr| attr.is_settable())
        });
        if action == Action::Update && !settable_changed {
            continue;
        }
        drift.push(ResourceChange {
            address: addr.clone(),
            mode: before.mode,
            resource_type: before.resource_type.clone(),
            provider: before.provider.clone(),
            action,
            reason: None,
            id: before.id.clone(),
            before: Some(before.attributes.clone()),
            after: after.map(|v| Expr::literal(v, Span::synthetic("refresh"))),
            attributes,
            replace_paths: Vec::new(),
            depends_on: before.dependencies.clone(),
            create_before_destroy: false,
            timeouts: Default::default(),
            weight: 0.0,
        });
    }
    drift
}

/// `cairn drift --json`: the stable, documented summary of a drift check.
#[derive(Clone, Debug, Serialize)]
pub struct DriftReport {
    pub format_version: &'static str,
    pub cairn_version: String,
    pub environment: String,
    /// RFC 3339.
    pub checked_at: String,
    /// The state the check compared against.
    pub state: StateInfo,
    /// True when anything changed outside cairn (`cairn drift` then exits 2).
    pub drifted: bool,
    pub summary: DriftSummary,
    /// Instances changed or deleted outside cairn, in address order.
    pub resources: Vec<DriftedResource>,
    /// What a plan would still do to make the cloud match the spec, drift included: restoring
    /// drifted attributes, re-creating what vanished, and spec edits not applied yet.
    pub pending_changes: Vec<PendingChange>,
    /// Whether unmanaged resources carrying the environment's tags were looked for: false when
    /// the environment has no `tags:` or no provider can search by tag.
    pub unmanaged_checked: bool,
    /// Objects that carry every one of the environment's tags but that no state tracks.
    pub unmanaged: Vec<UnmanagedObject>,
}

/// An object carrying the environment's tags that is in no state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnmanagedObject {
    /// Its global id: an AWS ARN, an Azure resource id.
    pub id: String,
    /// The cloud's name for its kind (`ec2:vpc`, `s3`, `Microsoft.Storage/storageAccounts`).
    pub kind: String,
    /// The provider instance it was found through (`aws`, `aws.dr`, `azure`).
    pub provider: String,
    pub tags: BTreeMap<String, String>,
}

/// The found objects no instance of `state` stands for: an object is tracked when its id is an
/// instance's `arn` attribute, or ends with an instance's id (`…:vpc/vpc-1`, `arn:aws:s3:::name`).
/// An Azure resource id (`/subscriptions/…`) is tracked only when it is an instance's id, in any
/// case: ARM ids are case-insensitive, and its last segment is a mere name that an id of another
/// kind could equal.
pub fn unmanaged(
    found: Vec<(String, crate::providers::TaggedObject)>,
    state: &State,
) -> Vec<UnmanagedObject> {
    let mut arns = std::collections::BTreeSet::new();
    let mut ids = std::collections::BTreeSet::new();
    for rs in state.resources.values() {
        if let Some(arn) = rs.attributes.get("arn").and_then(Value::as_str) {
            arns.insert(arn.to_string());
        }
        if let Some(id) = rs.id.as_deref().filter(|id| !id.is_empty()) {
            ids.insert(id.to_string());
        }
    }
    for old in &state.deposed {
        ids.insert(old.id.clone());
    }
    let lower_ids: std::collections::BTreeSet<String> =
        ids.iter().map(|id| id.to_ascii_lowercase()).collect();
    let tracked = |global: &str| {
        if global.starts_with('/') {
            return lower_ids.contains(&global.to_ascii_lowercase());
        }
        arns.contains(global)
            || global
                .rsplit(['/', ':'])
                .next()
                .is_some_and(|tail| ids.contains(tail))
            || ids.contains(global)
    };
    let mut out: Vec<UnmanagedObject> = found
        .into_iter()
        .filter(|(_, o)| !tracked(&o.id))
        .map(|(provider, o)| UnmanagedObject {
            id: o.id,
            kind: o.kind,
            provider,
            tags: o.tags,
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.dedup_by(|a, b| a.id == b.id);
    out
}

#[derive(Clone, Debug, Serialize)]
pub struct StateInfo {
    pub lineage: Option<String>,
    pub serial: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct DriftSummary {
    pub changed: usize,
    pub vanished: usize,
    pub unmanaged: usize,
    pub pending_changes: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct DriftedResource {
    pub address: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub provider: String,
    pub id: Option<String>,
    /// `changed` (attributes differ from state) or `vanished` (the object is gone).
    pub status: &'static str,
    /// The attributes that differ; empty for a vanished object.
    pub attributes: Vec<DriftedAttribute>,
    /// What the next plan does with this instance: `no-op` when the spec agrees with the
    /// change, `update`/`create`/`replace` to restore the spec.
    pub planned_action: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct DriftedAttribute {
    pub name: String,
    /// As state recorded it; `null` when unset or sensitive.
    pub before: serde_json::Value,
    /// As the cloud has it now; `null` when unset or sensitive.
    pub after: serde_json::Value,
    /// A secret: `before` and `after` are withheld.
    pub sensitive: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct PendingChange {
    pub address: String,
    /// Terraform's vocabulary: `create`, `update`, `delete`, `replace`, `read`.
    pub action: &'static str,
}

/// Sums up a plan made after refresh: its `drift`, and its changes as what is pending.
/// `unmanaged`: what a search by the environment's tags found untracked, or `None` when no
/// search could be made.
pub fn report(
    plan: &Plan,
    checked_at: String,
    unmanaged: Option<Vec<UnmanagedObject>>,
) -> DriftReport {
    let resources: Vec<DriftedResource> = plan
        .drift
        .iter()
        .map(|d| DriftedResource {
            address: d.address.to_string(),
            resource_type: d.resource_type.clone(),
            provider: d.provider.clone(),
            id: d.id.clone(),
            status: if d.action == Action::Delete {
                "vanished"
            } else {
                "changed"
            },
            attributes: if d.action == Action::Delete {
                Vec::new()
            } else {
                d.attributes
                    .iter()
                    .filter(|a| a.is_changed())
                    .map(|a| {
                        let sensitive = a.sensitive
                            || a.before.as_ref().is_some_and(Value::contains_sensitive)
                            || a.after.as_ref().is_some_and(Value::contains_sensitive);
                        let shown = |v: &Option<Value>| match present(v) {
                            Some(v) if !sensitive => v.to_json_redacted(),
                            _ => serde_json::Value::Null,
                        };
                        DriftedAttribute {
                            name: a.name.clone(),
                            before: shown(&a.before),
                            after: shown(&a.after),
                            sensitive,
                        }
                    })
                    .collect()
            },
            planned_action: plan
                .change(&d.address)
                .map_or("no-op", |c| action_word(c.action)),
        })
        .collect();
    let pending_changes: Vec<PendingChange> = plan
        .changes
        .iter()
        .filter(|c| !c.is_noop())
        .map(|c| PendingChange {
            address: c.address.to_string(),
            action: action_word(c.action),
        })
        .collect();
    let summary = DriftSummary {
        changed: resources.iter().filter(|r| r.status == "changed").count(),
        vanished: resources.iter().filter(|r| r.status == "vanished").count(),
        unmanaged: unmanaged.as_ref().map_or(0, Vec::len),
        pending_changes: pending_changes.len(),
    };
    DriftReport {
        format_version: DRIFT_FORMAT_VERSION,
        cairn_version: env!("CARGO_PKG_VERSION").to_string(),
        environment: plan.environment.clone(),
        checked_at,
        state: StateInfo {
            lineage: plan.prior_state.lineage.clone(),
            serial: plan.prior_state.serial,
        },
        drifted: !resources.is_empty() || unmanaged.as_ref().is_some_and(|u| !u.is_empty()),
        summary,
        resources,
        pending_changes,
        unmanaged_checked: unmanaged.is_some(),
        unmanaged: unmanaged.unwrap_or_default(),
    }
}

fn action_word(action: Action) -> &'static str {
    match action {
        Action::NoOp => "no-op",
        Action::Create => "create",
        Action::Read => "read",
        Action::Update => "update",
        Action::DeleteThenCreate | Action::CreateThenDelete => "replace",
        Action::Delete => "delete",
    }
}

/// The report as Markdown for an issue or a chat message: a headline, a table per drifted
/// instance with before and after, and what the next plan would do.
pub fn render_markdown(report: &DriftReport) -> String {
    let mut out = format!("## cairn drift for `{}`\n\n", report.environment);
    if !report.drifted {
        out.push_str("**No drift.** The cloud matches the state of the last apply.\n");
    } else {
        out.push_str(&format!(
            "**Drift detected:** {} changed outside cairn, {} vanished, {} unmanaged.\n",
            report.summary.changed, report.summary.vanished, report.summary.unmanaged
        ));
        if !report.unmanaged.is_empty() {
            out.push_str("\n### Carry the environment's tags but are in no state\n\n");
            for u in &report.unmanaged {
                out.push_str(&format!(
                    "- `{}` ({}, provider `{}`)\n",
                    u.id, u.kind, u.provider
                ));
            }
        }
        for r in &report.resources {
            out.push_str(&format!(
                "\n### `{}` {}\n\n",
                r.address,
                if r.status == "vanished" {
                    "was deleted outside cairn"
                } else {
                    "was changed outside cairn"
                }
            ));
            if !r.attributes.is_empty() {
                out.push_str("| Attribute | In state | In the cloud |\n| --- | --- | --- |\n");
                for a in &r.attributes {
                    let cell = |v: &serde_json::Value| {
                        if a.sensitive {
                            "(sensitive value)".to_string()
                        } else if v.is_null() {
                            "(unset)".to_string()
                        } else {
                            format!("`{}`", v.to_string().replace('|', "\\|").replace('`', "'"))
                        }
                    };
                    out.push_str(&format!(
                        "| `{}` | {} | {} |\n",
                        a.name,
                        cell(&a.before),
                        cell(&a.after)
                    ));
                }
            }
            out.push_str(&format!("\nNext plan: **{}**.\n", r.planned_action));
        }
    }
    if !report.pending_changes.is_empty() {
        out.push_str(&format!(
            "\n{} change(s) pending to make the cloud match the spec: run `cairn plan -e {}`.\n",
            report.pending_changes.len(),
            report.environment
        ));
    }
    out
}

/// Records a plan's drift in `state` as a refresh-only apply does: drifted attributes take the
/// values the cloud reported, vanished instances are forgotten. Nothing in the cloud changes.
pub fn accept(state: &mut State, plan: &Plan) {
    for d in &plan.drift {
        match d.action {
            Action::Delete => {
                state.resources.remove(&d.address);
            }
            _ => {
                let now = d.after.as_ref().and_then(|e| e.as_literal());
                if let (Some(rs), Some(now)) = (state.resources.get_mut(&d.address), now) {
                    rs.attributes = std::sync::Arc::new(now.clone());
                }
            }
        }
    }
    let gone: Vec<&ResourceAddr> = plan
        .drift
        .iter()
        .filter(|d| d.action == Action::Delete)
        .map(|d| &d.address)
        .collect();
    for rs in state.resources.values_mut() {
        rs.dependencies.retain(|dep| !gone.contains(&dep));
    }
}
