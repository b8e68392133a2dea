//! The plan: plain data saying what apply will do, per resource instance, and why.
//!
//! Nothing here executes anything. `diff` builds a [`Plan`] from the expanded spec and the
//! refreshed state; `file` saves and loads it; `render` prints it; the engine executes it.

pub mod diff;
pub mod drift;
pub mod file;
pub mod moved;
pub mod render;
pub mod secrets;
pub mod target;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::addr::{ResourceAddr, ResourceMode};
use crate::providers::{ProviderConfig, Timeouts};
use crate::spec::expr::Expr;
use crate::value::Value;

pub const PLAN_FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub cairn_version: String,
    pub environment: String,
    /// RFC 3339.
    pub created_at: String,
    pub mode: PlanMode,
    /// The state the plan was made against; apply refuses a plan whose state has moved on.
    pub prior_state: StateRef,
    /// Provider instances apply needs, fully evaluated.
    pub providers: Vec<ProviderConfig>,
    /// One entry per resource instance in the spec or the state, in dependency order.
    pub changes: Vec<ResourceChange>,
    pub outputs: Vec<OutputChange>,
    /// Instances renamed by the spec's `moved:` entries; apply records the new addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<moved::Moved>,
    /// `-target` addresses: when set, the plan covers only them and their dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Instances changed (`Update`) or deleted (`Delete`) outside cairn since the last apply,
    /// found by refresh: Terraform's `resource_drift`. Informational in a normal plan; what a
    /// refresh-only plan accepts into state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<ResourceChange>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanMode {
    Normal,
    Destroy,
    /// Change nothing in the cloud: only record in state what refresh found (`--refresh-only`).
    RefreshOnly,
}

/// Which state a plan was made against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRef {
    /// `None` when the environment had no state yet.
    pub lineage: Option<String>,
    pub serial: u64,
    /// The state file, relative to the project, when the environment sets
    /// `backend.local.path`; `None` for the default `.cairn/state/ENV.json`.
    #[serde(default)]
    pub path: Option<String>,
    /// The S3 object, when the environment's backend is `s3`: a saved plan finds its state
    /// there without reading the YAML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<crate::spec::model::S3Location>,
}

impl StateRef {
    /// The state a plan is made against (`None`: the environment has no state yet).
    pub fn of(stored: Option<&crate::state::State>) -> StateRef {
        StateRef {
            lineage: stored.map(|s| s.lineage.clone()),
            serial: stored.map_or(0, |s| s.serial),
            path: None,
            s3: None,
        }
    }
}

/// What apply does with one instance. Replacements come in the two orders Terraform has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NoOp,
    Create,
    /// A data source read at apply time, because its configuration depends on unknown values.
    Read,
    Update,
    /// Replace: delete the old instance, then create the new one (`-/+`).
    DeleteThenCreate,
    /// Replace with `create_before_destroy` (`+/-`).
    CreateThenDelete,
    Delete,
}

impl Action {
    /// Terraform's marker for the human plan.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Read => "<=",
            Action::Update => "~",
            Action::DeleteThenCreate => "-/+",
            Action::CreateThenDelete => "+/-",
            Action::Delete => "-",
        }
    }

    /// Terraform's `change.actions` list.
    pub fn terraform_actions(self) -> &'static [&'static str] {
        match self {
            Action::NoOp => &["no-op"],
            Action::Create => &["create"],
            Action::Read => &["read"],
            Action::Update => &["update"],
            Action::DeleteThenCreate => &["delete", "create"],
            Action::CreateThenDelete => &["create", "delete"],
            Action::Delete => &["delete"],
        }
    }

    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }

    pub fn creates(self) -> bool {
        matches!(self, Action::Create) || self.is_replace()
    }

    pub fn deletes(self) -> bool {
        matches!(self, Action::Delete) || self.is_replace()
    }
}

/// Why an action was chosen, in Terraform's `action_reason` vocabulary. For display only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionReason {
    ReplaceBecauseCannotUpdate,
    ReplaceByRequest,
    /// A generated secret (`random_password`) whose value an interrupted apply never delivered
    /// to every resource that uses it: state keeps only its digest, so it is generated again.
    /// Terraform's nearest reason is a tainted object.
    #[serde(rename = "replace_because_tainted")]
    ReplaceBecauseValueLost,
    DeleteBecauseNoResourceConfig,
    DeleteBecauseCountIndex,
    DeleteBecauseEachKey,
    DeleteBecauseNoModule,
    /// The old object of a `create_before_destroy` replacement whose delete never ran (the
    /// apply was interrupted or the delete failed).
    DeleteBecauseDeposed,
    ReadBecauseConfigUnknown,
}

impl ActionReason {
    /// The sentence the human plan prints under the resource header.
    pub fn explain(self) -> &'static str {
        match self {
            ActionReason::ReplaceBecauseCannotUpdate => "must be replaced",
            ActionReason::ReplaceByRequest => "will be replaced, as requested",
            ActionReason::ReplaceBecauseValueLost => {
                "will be generated again: an earlier apply stopped before its value reached every resource that uses it, and state keeps only its digest"
            }
            ActionReason::DeleteBecauseNoResourceConfig => {
                "will be destroyed because it is no longer in the configuration"
            }
            ActionReason::DeleteBecauseCountIndex => {
                "will be destroyed because its index is outside the new count"
            }
            ActionReason::DeleteBecauseEachKey => {
                "will be destroyed because its key is not in for_each"
            }
            ActionReason::DeleteBecauseNoModule => {
                "will be destroyed because its module is no longer in the configuration"
            }
            ActionReason::DeleteBecauseDeposed => {
                "will be destroyed because a create_before_destroy replacement superseded it"
            }
            ActionReason::ReadBecauseConfigUnknown => {
                "will be read during apply because its configuration depends on values not yet known"
            }
        }
    }
}

/// The planned change of one resource instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub address: ResourceAddr,
    pub mode: ResourceMode,
    pub resource_type: String,
    /// Provider instance key (`fake`, `fake.dr`).
    pub provider: String,
    pub action: Action,
    pub reason: Option<ActionReason>,
    /// The cloud id of the existing instance.
    pub id: Option<String>,
    /// Last known attributes (refreshed), absent for a create. Shared with the state.
    pub before: Option<Arc<Value>>,
    /// The desired attributes: literals where known, residual expressions over other instances'
    /// attributes where known only after apply. Absent for a delete.
    pub after: Option<Expr>,
    /// Attribute-level differences, for renderers. Unchanged attributes are listed too (with
    /// `before == after`) so renderers can count what they hide. A no-op lists only its
    /// secrets (their markers): the rest is `before`.
    pub attributes: Vec<AttrChange>,
    /// Top-level attributes whose change forces replacement.
    pub replace_paths: Vec<String>,
    /// Instances this one depends on (by address), from references and `depends_on`.
    pub depends_on: Vec<ResourceAddr>,
    pub create_before_destroy: bool,
    /// The spec's `timeouts:` block, passed to the provider with each operation.
    #[serde(default, skip_serializing_if = "Timeouts::is_empty")]
    pub timeouts: Timeouts,
    /// Typical seconds the create takes (from the schema), so apply starts long poles first.
    pub weight: f64,
}

impl ResourceChange {
    pub fn is_noop(&self) -> bool {
        self.action == Action::NoOp
    }
}

/// One top-level attribute, before and after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttrChange {
    pub name: String,
    /// Absent when the instance is being created or the attribute was unset.
    pub before: Option<Value>,
    /// `Value::Unknown` when known only after apply; absent on delete or when unset.
    pub after: Option<Value>,
    pub forces_replacement: bool,
    pub sensitive: bool,
    /// An in-place change the cloud holds until the resource's maintenance window (RDS without
    /// `apply_immediately`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub waits_for_maintenance: bool,
}

impl AttrChange {
    pub fn is_changed(&self) -> bool {
        self.before != self.after
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputChange {
    pub name: String,
    pub before: Option<Value>,
    pub after: Option<Expr>,
    pub sensitive: bool,
}

impl OutputChange {
    /// Whether the output's value changes. Sensitive values are compared by digest, as state
    /// holds them.
    /// `salt`: the state's lineage, which sealed `before`.
    pub fn is_changed(&self, salt: &str) -> bool {
        match self.after.as_ref().map(|e| e.as_literal()) {
            None => self.before.is_some(),
            Some(None) => true,
            Some(Some(after)) => Some(crate::state::seal(after, salt)) != self.before,
        }
    }
}

/// Counts for `Plan: X to add, Y to change, Z to destroy.` (a replacement counts as one add and
/// one destroy, as in Terraform).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    pub read: usize,
}

impl Plan {
    /// Whether apply would do anything. The one place that decides it.
    pub fn can_apply(&self) -> bool {
        if self.mode == PlanMode::RefreshOnly {
            return !self.drift.is_empty() || !self.moved.is_empty();
        }
        !self.moved.is_empty()
            || self.changes.iter().any(|c| !c.is_noop())
            || self
                .outputs
                .iter()
                .any(|o| o.is_changed(self.prior_state.lineage.as_deref().unwrap_or_default()))
    }

    pub fn has_resource_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| !c.is_noop() && c.action != Action::Read)
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for change in &self.changes {
            match change.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Delete => s.destroy += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    s.add += 1;
                    s.destroy += 1;
                }
                Action::Read => s.read += 1,
                Action::NoOp => {}
            }
        }
        s
    }

    /// Where state had `address` before a `moved:` entry renamed it.
    pub fn moved_from(&self, address: &ResourceAddr) -> Option<&ResourceAddr> {
        self.moved
            .iter()
            .find(|m| &m.to == address)
            .map(|m| &m.from)
    }

    pub fn change(&self, address: &ResourceAddr) -> Option<&ResourceChange> {
        self.changes.iter().find(|c| &c.address == address)
    }
}
