//! The plan benchmark: load and plan a generated project from the state an apply of it would
//! leave, with no refresh, with no changes or with a share of resources changed. Each size runs
//! in a child process of its own so that its peak RSS is its own.

use std::collections::BTreeMap;
use std::path::Path;

use crate::plan::Plan;
use crate::providers::Catalog;
use crate::schema::{AttrType, Presence};
use crate::spec::diagnostic::Diagnostic;
use crate::spec::expr::{Expr, Scope, eval};
use crate::spec::span::Span;
use crate::state::local::LocalStore;
use crate::state::{ResourceState, ResourceStatus, State, StateStore as _, seal};
use crate::value::Value;

/// The environment the generated project defines.
pub const ENVIRONMENT: &str = "bench";

/// Builds the state an apply of every planned create would leave: computed attributes filled
/// with stand-in values, references resolved in plan order.
pub fn synthesize_state(plan: &Plan, catalog: &Catalog) -> State {
    let mut state = State::new(&plan.environment);
    let mut known: BTreeMap<String, Value> = BTreeMap::new();
    for (n, change) in plan.changes.iter().enumerate() {
        let Some(after) = &change.after else { continue };
        let scope = KnownResources(&known);
        let mut attrs = match eval(after, &scope)
            .ok()
            .and_then(|e| e.as_literal().cloned())
        {
            Some(Value::Map(m)) => m,
            _ => BTreeMap::new(),
        };
        if let Some(schema) = catalog.schemas.get(&change.resource_type) {
            for attr in &schema.attributes {
                if attr.presence == Presence::Computed
                    || (attr.presence == Presence::OptionalComputed
                        && !attrs.contains_key(attr.name))
                {
                    let value = match attr.ty {
                        AttrType::String => Value::String(format!("{}-{n:06}", attr.name)),
                        AttrType::Number => Value::Number(n as f64),
                        AttrType::Bool => Value::Bool(false),
                        AttrType::List(_) => Value::List(Vec::new()),
                        _ => Value::Map(BTreeMap::new()),
                    };
                    attrs.insert(attr.name.to_string(), value);
                }
            }
        }
        let id = attrs
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let attributes = Value::Map(attrs);
        known.insert(change.address.to_string(), attributes.clone());
        state.resources.insert(
            change.address.clone(),
            ResourceState {
                resource_type: change.resource_type.clone(),
                mode: change.mode,
                provider: change.provider.clone(),
                status: ResourceStatus::Created,
                id: Some(id),
                attributes: std::sync::Arc::new(seal(&attributes, &state.lineage)),
                dependencies: change.depends_on.clone(),
            },
        );
    }
    state
}

struct KnownResources<'a>(&'a BTreeMap<String, Value>);

impl Scope for KnownResources<'_> {
    fn root(&self, name: &str, span: &Span) -> Result<Expr, Diagnostic> {
        Err(Diagnostic::error_at(
            format!("no name `{name}` in a saved plan"),
            span,
        ))
    }
    fn resource(&self, addr: &str) -> Option<Value> {
        self.0.get(addr).cloned()
    }
}

/// One plan measurement, as the child process reports it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PlanFigures {
    pub resources: usize,
    /// Resources whose state differs from the spec, so that the plan updates them.
    pub changed: usize,
    /// `cairn plan --refresh=false` from start to rendered output: loading the spec, reading the
    /// state file, planning and rendering.
    pub seconds: f64,
    pub changes: usize,
    pub peak_rss_mb: f64,
}

/// Writes, in `dir`, a project of about `resources` resources and the local state an apply of
/// it would have left; every `changed_every`-th resource's state then differs from the spec in
/// one attribute (none when 0). Returns the number of resources and of changed ones.
pub async fn prepare_plan(
    dir: &Path,
    resources: usize,
    changed_every: usize,
) -> Result<(usize, usize), String> {
    let (resources, initial) = super::plan_from_nothing(dir, resources).await?;
    let catalog = crate::providers::builtin_catalog();
    let mut state = synthesize_state(&initial, &catalog);
    let changed = if changed_every == 0 {
        0
    } else {
        change_every(&mut state, &catalog, changed_every)
    };
    let path = crate::state::default_state_path(dir, ENVIRONMENT);
    let store = LocalStore::new(path, "bench state".into(), ENVIRONMENT.into());
    store.save(&mut state).await.map_err(|e| e.to_string())?;
    Ok((resources, changed))
}

/// Alters one configured attribute (a number or a string) of every `every`-th resource in
/// `state`, as an edit outside cairn would; returns how many were altered.
pub(crate) fn change_every(state: &mut State, catalog: &Catalog, every: usize) -> usize {
    let mut changed = 0;
    for (n, resource) in state.resources.values_mut().enumerate() {
        if n % every != every - 1 {
            continue;
        }
        let Some(schema) = catalog.schemas.get(&resource.resource_type) else {
            continue;
        };
        let Value::Map(attrs) = std::sync::Arc::make_mut(&mut resource.attributes) else {
            continue;
        };
        let configured = schema.attributes.iter().find(|a| {
            a.presence != Presence::Computed
                && matches!(
                    attrs.get(a.name),
                    Some(Value::Number(_)) | Some(Value::String(_))
                )
        });
        if let Some(attr) = configured {
            match attrs.get_mut(attr.name) {
                Some(Value::Number(x)) => *x += 1.0,
                Some(Value::String(s)) => s.push_str("-edited"),
                _ => continue,
            }
            changed += 1;
        }
    }
    changed
}
