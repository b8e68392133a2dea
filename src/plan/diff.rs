//! The differ: spec instances + refreshed state → [`Plan`].
//!
//! It is the [`InstancePlanner`] of the evaluation walk: for each instance it compares the
//! configuration with the last known attributes, decides the action (create, update, replace,
//! no-op, read) with its reasons, and answers with the attributes later references see: known
//! ones as literals, the rest as residuals resolved during apply. Instances in state that the
//! walk never reached become deletes.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{
    Action, ActionReason, AttrChange, OutputChange, PLAN_FORMAT_VERSION, Plan, PlanMode,
    ResourceChange, StateRef,
};
use crate::addr::{InstanceKey, ResourceAddr, ResourceMode};
use crate::graph::ConfigGraph;
use crate::providers::{DataRequest, ProviderSet, Timeouts};
use crate::schema::{AttrType, Presence, Schema, SchemaRegistry};
use crate::spec::diagnostic::Diagnostic;
use crate::spec::evaluate::{InstanceConfig, InstancePlanner, WalkPosition, evaluate, lock};
use crate::spec::expr::{Expr, ExprKind, PathStep};
use crate::spec::model::Environment;
use crate::spec::span::Span;
use crate::state::{ResourceStatus, State, holds_digest, seal};
use crate::value::Value;

/// What the plan is asked to do.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    pub mode: PlanMode,
    /// Instances to replace even if nothing forces it (`-replace ADDRESS`).
    pub replace: Vec<ResourceAddr>,
}

/// The inputs of a plan besides the spec.
pub struct PlanInputs<'a> {
    pub env: &'a Environment,
    pub graph: &'a ConfigGraph,
    pub schemas: &'a SchemaRegistry,
    /// The stored state the plan is made against (its lineage and serial go in the plan).
    pub prior_state: StateRef,
    /// The state after refresh (equal to `stored` with `--refresh=false`).
    pub refreshed: &'a State,
    /// Unsealed attributes read during refresh, where the cloud returned them.
    pub live: &'a BTreeMap<ResourceAddr, Value>,
    /// Providers for reading data sources at plan time; `None` defers reads to apply.
    pub providers: Option<&'a ProviderSet>,
}

/// Builds the plan.
///
/// A resource to be created with a generated secret that state knows only as a digest (an
/// interrupted apply generated the secret but stopped before creating everything that uses it)
/// gets the generator planned again, so the next apply converges instead of failing.
pub async fn make_plan(
    inputs: PlanInputs<'_>,
    options: &PlanOptions,
) -> Result<Plan, Vec<Diagnostic>> {
    match plan_once(&inputs, options, &BTreeSet::new()).await {
        Err(Failed { lost, .. }) if !lost.is_empty() => plan_once(&inputs, options, &lost)
            .await
            .map_err(|f| f.diagnostics),
        other => other.map_err(|f| f.diagnostics),
    }
}

/// Why a plan failed, and the generators whose secret was lost (planned again on a second try).
struct Failed {
    diagnostics: Vec<Diagnostic>,
    lost: BTreeSet<ResourceAddr>,
}

async fn plan_once(
    inputs: &PlanInputs<'_>,
    options: &PlanOptions,
    regenerate: &BTreeSet<ResourceAddr>,
) -> Result<Plan, Failed> {
    let differ = Differ {
        schemas: inputs.schemas,
        state: inputs.refreshed,
        live: inputs.live,
        providers: inputs.providers,
        options,
        regenerate,
        lost: Mutex::default(),
        changes: Mutex::default(),
        protected: Mutex::default(),
    };
    let evaluated = match evaluate(inputs.env, inputs.graph, inputs.schemas, &differ).await {
        Ok(evaluated) => evaluated,
        Err(diagnostics) => {
            return Err(Failed {
                diagnostics,
                lost: take(&differ.lost),
            });
        }
    };
    let mut diags = Vec::new();
    let mut planned = take(&differ.changes);
    planned.sort_by_key(|(position, _)| *position);
    let mut changes: Vec<ResourceChange> = planned.into_iter().map(|(_, c)| c).collect();
    let protected = take(&differ.protected);

    // A resource's `timeouts:` come from its spec, also when the plan deletes it. Only a
    // destroy plan deletes what the walk reached (anything else deleted has no spec).
    let timeouts: HashMap<ResourceAddr, Timeouts> = if options.mode == PlanMode::Destroy {
        changes.drain(..).map(|c| (c.address, c.timeouts)).collect()
    } else {
        HashMap::new()
    };
    // Everything in state that the walk did not reach is deleted. The walk plans a change
    // for every managed instance it reaches (or fails).
    let visited: HashSet<&ResourceAddr> = changes.iter().map(|c| &c.address).collect();
    let mut deletes = Vec::new();
    for (addr, rs) in &inputs.refreshed.resources {
        if visited.contains(addr) || rs.mode == ResourceMode::Data {
            continue;
        }
        let reason = if options.mode == PlanMode::Destroy {
            None
        } else if !evaluated.module_paths.contains(&addr.module_address()) {
            Some(ActionReason::DeleteBecauseNoModule)
        } else if evaluated.resource_blocks.contains(&addr.resource_address()) {
            match addr.key {
                Some(InstanceKey::Index(_)) => Some(ActionReason::DeleteBecauseCountIndex),
                Some(InstanceKey::Key(_)) => Some(ActionReason::DeleteBecauseEachKey),
                None => Some(ActionReason::DeleteBecauseNoResourceConfig),
            }
        } else {
            Some(ActionReason::DeleteBecauseNoResourceConfig)
        };
        if let Some(span) = protected.get(addr) {
            diags.push(prevent_destroy_error(
                addr,
                span,
                "this plan destroys every resource of the environment",
            ));
        }
        let before = differ.before(addr).map(Cow::into_owned);
        let schema = inputs.schemas.get(&rs.resource_type);
        let attributes = match (&before, schema) {
            (Some(before), Some(schema)) => attribute_changes(
                schema,
                Some(before.as_ref()),
                None,
                &BTreeSet::new(),
                &differ.state.lineage,
            ),
            _ => Vec::new(),
        };
        deletes.push(ResourceChange {
            address: addr.clone(),
            mode: rs.mode,
            resource_type: rs.resource_type.clone(),
            provider: rs.provider.clone(),
            action: Action::Delete,
            reason,
            id: rs.id.clone(),
            before,
            after: None,
            attributes,
            replace_paths: Vec::new(),
            depends_on: rs.dependencies.clone(),
            create_before_destroy: false,
            timeouts: timeouts.get(addr).copied().unwrap_or_default(),
            weight: schema.map_or(1.0, |s| s.typical_create_secs),
        });
    }
    // Old objects of interrupted `create_before_destroy` replacements: finish their deletion.
    for old in &inputs.refreshed.deposed {
        let schema = inputs.schemas.get(&old.resource_type);
        let attributes = match schema {
            Some(schema) => attribute_changes(
                schema,
                Some(&old.attributes),
                None,
                &BTreeSet::new(),
                &differ.state.lineage,
            ),
            None => Vec::new(),
        };
        deletes.push(ResourceChange {
            address: old.address.clone(),
            mode: ResourceMode::Managed,
            resource_type: old.resource_type.clone(),
            provider: old.provider.clone(),
            action: Action::Delete,
            reason: Some(ActionReason::DeleteBecauseDeposed),
            id: Some(old.id.clone()),
            before: Some(Arc::new(old.attributes.clone())),
            after: None,
            attributes,
            replace_paths: Vec::new(),
            depends_on: old.dependencies.clone(),
            create_before_destroy: false,
            timeouts: Default::default(),
            weight: schema.map_or(1.0, |s| s.typical_create_secs),
        });
    }
    if !diags.is_empty() {
        return Err(Failed {
            diagnostics: diags,
            lost: BTreeSet::new(),
        });
    }
    drop(visited);
    changes.extend(deletes);

    let outputs = if options.mode == PlanMode::Destroy {
        inputs
            .refreshed
            .outputs
            .iter()
            .map(|(name, before)| OutputChange {
                name: name.clone(),
                before: Some(before.clone()),
                after: None,
                sensitive: before.is_sensitive(),
            })
            .collect()
    } else {
        evaluated
            .outputs
            .into_iter()
            .map(|o| OutputChange {
                before: inputs.refreshed.outputs.get(&o.name).cloned(),
                sensitive: o.sensitive
                    || o.value.as_literal().is_some_and(Value::contains_sensitive),
                name: o.name,
                after: Some(o.value),
            })
            .collect()
    };

    Ok(Plan {
        format_version: PLAN_FORMAT_VERSION,
        cairn_version: env!("CARGO_PKG_VERSION").to_string(),
        environment: inputs.env.name.clone(),
        created_at: now_rfc3339(),
        mode: options.mode,
        prior_state: inputs.prior_state.clone(),
        providers: evaluated.providers,
        changes,
        outputs,
        moved: Vec::new(),
        targets: Vec::new(),
        drift: Vec::new(),
    })
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

struct Differ<'a> {
    schemas: &'a SchemaRegistry,
    state: &'a State,
    live: &'a BTreeMap<ResourceAddr, Value>,
    providers: Option<&'a ProviderSet>,
    options: &'a PlanOptions,
    /// Generators of secrets lost by an interrupted apply, to plan again (second try).
    regenerate: &'a BTreeSet<ResourceAddr>,
    /// Generators found lost on this try.
    lost: Mutex<BTreeSet<ResourceAddr>>,
    /// Each planned instance's change, with its place in the walk's order: the walk may plan
    /// instances on several threads, and the plan lists them as a one-thread walk would.
    changes: Mutex<Vec<(WalkPosition, ResourceChange)>>,
    /// Instances whose configuration sets `prevent_destroy`, with where.
    protected: Mutex<BTreeMap<ResourceAddr, Span>>,
}

impl<'a> Differ<'a> {
    /// The resource in state that generated the secret `digest` (a `random_password` whose
    /// `result` seals to it), which cairn can generate again at no cost to the cloud.
    fn generator_of(&self, digest: &Value) -> Option<ResourceAddr> {
        self.state.resources.iter().find_map(|(addr, rs)| {
            let schema = self.schemas.get(&rs.resource_type)?;
            let generated = schema.provider == "random"
                && matches!(&*rs.attributes, Value::Map(m) if m.values().any(|v| v == digest));
            generated.then(|| addr.clone())
        })
    }

    /// The last known attributes: what refresh read where it could, else what state recorded
    /// (borrowed: most instances of a large plan change nothing and need no copy of it).
    fn before(&self, addr: &ResourceAddr) -> Option<Cow<'a, Arc<Value>>> {
        let rs = self.state.resources.get(addr)?;
        if rs.status != ResourceStatus::Created {
            return None;
        }
        let recorded = &rs.attributes;
        match self.live.get(addr) {
            // Write-only secrets do not come back from a read: keep what state recorded.
            Some(Value::Map(live)) => {
                let mut merged = live.clone();
                if let Value::Map(rec) = &**recorded {
                    for (k, v) in rec {
                        if v.is_sensitive() && !merged.contains_key(k) {
                            merged.insert(k.clone(), v.clone());
                        }
                    }
                }
                Some(Cow::Owned(Arc::new(Value::Map(merged))))
            }
            _ => Some(Cow::Borrowed(recorded)),
        }
    }

    async fn plan_data(&self, inst: InstanceConfig, schema: &Schema) -> Result<Expr, Diagnostic> {
        let known: Option<BTreeMap<String, Value>> = inst
            .config
            .iter()
            .map(|(k, v)| Some((k.clone(), v.as_literal()?.clone())))
            .collect();
        if let (Some(config), Some(providers)) = (&known, self.providers) {
            let provider = providers
                .get(&inst.provider)
                .map_err(|e| Diagnostic::error_at(e.to_string(), &inst.span))?;
            let response = provider
                .read_data(DataRequest {
                    address: inst.addr.to_string(),
                    resource_type: inst.resource_type.clone(),
                    config: Value::Map(config.clone()),
                })
                .await
                .map_err(|e| {
                    Diagnostic::error_at(format!("reading {}: {e}", inst.addr), &inst.span)
                })?;
            return Ok(Expr::literal(response.attributes, inst.span.clone()));
        }
        // Read during apply: everything it returns is unknown until then.
        let attributes = schema
            .attributes
            .iter()
            .map(|a| AttrChange {
                name: a.name.to_string(),
                before: None,
                after: Some(
                    inst.config
                        .get(a.name)
                        .map_or(Value::Unknown, display_value),
                ),
                forces_replacement: false,
                sensitive: a.sensitive,
                waits_for_maintenance: false,
            })
            .collect();
        let object = planned_object(&inst.addr, schema, BTreeMap::new(), &inst.span);
        let after = config_expr(inst.config, &inst.span);
        let position = inst.position;
        self.record(
            position,
            ResourceChange {
                address: inst.addr.clone(),
                mode: ResourceMode::Data,
                resource_type: inst.resource_type,
                provider: inst.provider,
                action: Action::Read,
                reason: Some(ActionReason::ReadBecauseConfigUnknown),
                id: None,
                before: None,
                after: Some(after),
                attributes,
                replace_paths: Vec::new(),
                depends_on: inst.depends_on,
                create_before_destroy: false,
                timeouts: Default::default(),
                weight: schema.typical_create_secs,
            },
        );
        Ok(object)
    }

    fn record(&self, position: WalkPosition, change: ResourceChange) {
        lock(&self.changes).push((position, change));
    }
}

fn take<T: Default>(mutex: &Mutex<T>) -> T {
    std::mem::take(&mut *lock(mutex))
}

#[async_trait]
impl InstancePlanner for Differ<'_> {
    async fn plan_instance(&self, mut inst: InstanceConfig) -> Result<Expr, Diagnostic> {
        let Some(schema) = self.schemas.get(&inst.resource_type) else {
            return Err(Diagnostic::error_at(
                format!("unknown resource type `{}`", inst.resource_type),
                &inst.span,
            ));
        };
        if schema.kind == crate::schema::SchemaKind::DataSource {
            return self.plan_data(inst, schema).await;
        }
        if let Some(span) = &inst.lifecycle.prevent_destroy {
            lock(&self.protected).insert(inst.addr.clone(), span.clone());
        }
        let before = self.before(&inst.addr);
        let ignore_all = inst
            .lifecycle
            .ignore_changes
            .iter()
            .any(|n| n.text == "all");
        let ignored: BTreeSet<&str> = inst
            .lifecycle
            .ignore_changes
            .iter()
            .map(|n| n.text.as_str())
            .collect();
        for name in &inst.lifecycle.ignore_changes {
            if name.text != "all" && schema.attribute(&name.text).is_none() {
                return Err(Diagnostic::error_at(
                    format!(
                        "`ignore_changes` names `{}`, which `{}` does not have",
                        name.text, schema.type_name
                    ),
                    &name.span,
                ));
            }
        }

        // The desired value of every settable attribute.
        let mut desired: BTreeMap<String, Expr> = BTreeMap::new();
        for attr in schema.attributes.iter().filter(|a| a.is_settable()) {
            let prior = before
                .as_ref()
                .and_then(|b| b.get(attr.name))
                .filter(|v| !is_empty(v));
            if (ignore_all || ignored.contains(attr.name)) && before.is_some() {
                if let Some(prior) = prior {
                    desired.insert(
                        attr.name.to_string(),
                        Expr::literal(prior.clone(), inst.span.clone()),
                    );
                }
                continue;
            }
            match inst.config.remove(attr.name) {
                Some(expr) if expr.as_literal() != Some(&Value::Null) => {
                    desired.insert(attr.name.to_string(), expr);
                }
                _ => {
                    if let Some(default) = &attr.default {
                        desired.insert(
                            attr.name.to_string(),
                            Expr::literal(default.clone(), inst.span.clone()),
                        );
                    } else if attr.presence == Presence::OptionalComputed
                        && let Some(prior) = prior
                    {
                        desired.insert(
                            attr.name.to_string(),
                            Expr::literal(prior.clone(), inst.span.clone()),
                        );
                    }
                }
            }
        }

        // Which attributes change, and whether any of them forces replacement.
        let mut changed = false;
        let mut replace_paths = Vec::new();
        if let Some(before) = &before {
            for attr in schema.attributes.iter().filter(|a| a.is_settable()) {
                let prior = before.get(attr.name).unwrap_or(&Value::Null);
                let differs = match desired.get(attr.name) {
                    Some(expr) => match expr.as_literal() {
                        Some(v) => !same(v, prior, &self.state.lineage),
                        None => true,
                    },
                    // Unset optional-computed attributes keep whatever the cloud chose.
                    None if attr.presence == Presence::OptionalComputed => false,
                    None => !is_empty(prior),
                };
                if differs {
                    changed = true;
                    if attr.force_new {
                        replace_paths.push(attr.name.to_string());
                    }
                }
            }
        }
        let lost = self.regenerate.contains(&inst.addr);
        let requested = lost || self.options.replace.contains(&inst.addr);
        let (action, reason) = match &before {
            None => (Action::Create, None),
            Some(_) if !replace_paths.is_empty() || requested => {
                let action = if inst.lifecycle.create_before_destroy {
                    Action::CreateThenDelete
                } else {
                    Action::DeleteThenCreate
                };
                let reason = if lost {
                    ActionReason::ReplaceBecauseValueLost
                } else if requested && replace_paths.is_empty() {
                    ActionReason::ReplaceByRequest
                } else {
                    ActionReason::ReplaceBecauseCannotUpdate
                };
                (action, Some(reason))
            }
            Some(_) if changed => (Action::Update, None),
            Some(_) => (Action::NoOp, None),
        };
        if action.is_replace()
            && let Some(span) = &inst.lifecycle.prevent_destroy
        {
            let why = if replace_paths.is_empty() {
                "it was asked to be replaced".to_string()
            } else {
                format!(
                    "changing {} forces replacement",
                    replace_paths
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(prevent_destroy_error(&inst.addr, span, &why));
        }
        // A create must send every secret; one that state holds only as a digest cannot be.
        if action.creates()
            && let Some((name, expr)) = desired
                .iter()
                .find(|(_, e)| e.as_literal().is_some_and(holds_digest))
        {
            // A first create means an earlier apply generated the secret and stopped before
            // this resource existed: generate it again. A replacement of an existing resource
            // would silently rotate a secret in use: the user is asked to say so instead.
            if before.is_none()
                && let Some(generator) = expr.as_literal().and_then(|v| self.generator_of(v))
            {
                lock(&self.lost).insert(generator);
            }
            return Err(Diagnostic::error_at(
                format!(
                    "{} must be created, but its `{name}` is a secret from an earlier apply that state keeps only as a digest, so cairn cannot send it",
                    inst.addr
                ),
                &expr.span,
            )
            .with_help("generate a new one in the same apply with `--replace` on the resource it comes from (e.g. `--replace random_password.NAME`), or read it from an environment variable or a secrets store"));
        }

        // What references see: known attributes as literals, the rest as residuals.
        let mut known: BTreeMap<String, Value> = BTreeMap::new();
        for attr in &schema.attributes {
            let value = match desired.get(attr.name) {
                Some(expr) => expr.as_literal().cloned(),
                None if attr.is_settable() && attr.presence != Presence::OptionalComputed => {
                    Some(Value::Null)
                }
                None => {
                    let keeps_prior = matches!(action, Action::Update | Action::NoOp);
                    if keeps_prior {
                        before.as_ref().and_then(|b| b.get(attr.name)).cloned()
                    } else {
                        None
                    }
                }
            };
            if let Some(v) = value {
                known.insert(attr.name.to_string(), v);
            }
        }
        if schema.attribute("id").is_none()
            && matches!(action, Action::Update | Action::NoOp)
            && let Some(id) = self
                .state
                .resources
                .get(&inst.addr)
                .and_then(|r| r.id.clone())
        {
            known.insert("id".into(), Value::String(id));
        }
        // A no-op's attributes are its `before` (what renderers show for it); of them the plan
        // keeps only the secrets' markers. Most of a large plan is no-ops, and listing every
        // attribute twice more for each of them was a third of the plan's memory.
        let attributes = if action == Action::NoOp {
            secret_markers(schema, before.as_deref().map(Arc::as_ref))
        } else {
            let after_values: BTreeMap<String, Value> = schema
                .attributes
                .iter()
                .map(|a| {
                    // A residual block shows what is known of it (a list of blocks whose one field
                    // waits for another resource), as Terraform's plans do. Free-form documents
                    // (`any`: container definitions, policies) are strings to Terraform: unknown
                    // as a whole until apply.
                    let v = known
                        .get(a.name)
                        .cloned()
                        .or_else(|| {
                            let expr = desired.get(a.name)?;
                            (a.ty != AttrType::Any).then(|| display_value(expr))
                        })
                        .unwrap_or(Value::Unknown);
                    (a.name.to_string(), v)
                })
                .collect();
            let forces: BTreeSet<String> = if action.is_replace() {
                replace_paths.iter().cloned().collect()
            } else {
                BTreeSet::new()
            };
            attribute_changes(
                schema,
                before.as_deref().map(Arc::as_ref),
                Some(&after_values),
                &forces,
                &self.state.lineage,
            )
        };
        let object = planned_object(&inst.addr, schema, known, &inst.span);

        let id = self
            .state
            .resources
            .get(&inst.addr)
            .and_then(|r| r.id.clone());
        let change = ResourceChange {
            address: inst.addr,
            mode: ResourceMode::Managed,
            resource_type: inst.resource_type,
            provider: inst.provider,
            action,
            reason,
            id,
            // State holds secrets sealed already; only a value read from the cloud needs it.
            before: before.map(|b| match b {
                Cow::Borrowed(recorded) => Arc::clone(recorded),
                Cow::Owned(live) => Arc::new(seal(&live, &self.state.lineage)),
            }),
            after: Some(config_expr(desired, &inst.span)),
            attributes,
            replace_paths,
            depends_on: inst.depends_on,
            create_before_destroy: inst.lifecycle.create_before_destroy,
            timeouts: inst.timeouts,
            weight: schema.typical_create_secs,
        };
        self.record(inst.position, change);
        Ok(object)
    }
}

fn prevent_destroy_error(addr: &ResourceAddr, span: &Span, why: &str) -> Diagnostic {
    Diagnostic::error_at(
        format!("{addr} has `lifecycle.prevent_destroy` set, but this plan would destroy it: {why}"),
        span,
    )
    .with_help("remove `prevent_destroy` (or set it to false) if destroying it is intended; otherwise undo the change that forces it")
}

/// The top-level attribute diffs for renderers: every attribute that has a value before or
/// after, sensitive values kept wrapped.
pub(crate) fn attribute_changes(
    schema: &Schema,
    before: Option<&Value>,
    after: Option<&BTreeMap<String, Value>>,
    forces: &BTreeSet<String>,
    salt: &str,
) -> Vec<AttrChange> {
    let mut names: BTreeSet<&str> = BTreeSet::new();
    if let Some(Value::Map(b)) = before {
        names.extend(b.keys().map(String::as_str));
    }
    if let Some(a) = after {
        names.extend(a.keys().map(String::as_str));
    }
    names
        .into_iter()
        .filter_map(|name| {
            let attr = schema.attribute(name);
            let sensitive = attr.is_some_and(|a| a.sensitive);
            let mark = |v: Value| {
                if sensitive && !v.is_sensitive() && v != Value::Unknown {
                    Value::Sensitive(Box::new(v))
                } else {
                    v
                }
            };
            let b = before
                .and_then(|b| b.get(name))
                .filter(|v| !is_empty(v))
                .cloned()
                .map(mark);
            let a = after
                .and_then(|a| a.get(name))
                .filter(|v| !is_empty(v))
                .cloned()
                .map(mark);
            if b.is_none() && a.is_none() {
                return None;
            }
            let (b, a) = match (b, a) {
                // Equal secrets compare by digest; show them as unchanged.
                (Some(b), Some(a)) if same(&b, &a, salt) => (Some(b.clone()), Some(b)),
                other => other,
            };
            let waits_for_maintenance = b.is_some()
                && b != a
                && schema.waits_for_maintenance(
                    name,
                    after.and_then(|a| a.get(schema.apply_immediately)),
                );
            Some(AttrChange {
                name: name.to_string(),
                before: b,
                after: a,
                forces_replacement: forces.contains(name),
                sensitive,
                waits_for_maintenance,
            })
        })
        .collect()
}

/// The secrets among `before`'s attributes, unchanged: what a no-op keeps of its attribute
/// list, so that renderers still mark them.
fn secret_markers(schema: &Schema, before: Option<&Value>) -> Vec<AttrChange> {
    schema
        .attributes
        .iter()
        .filter(|a| a.sensitive)
        .filter_map(|a| {
            let value = before?.get(a.name).filter(|v| !is_empty(v))?;
            let value = match value {
                Value::Sensitive(_) => value.clone(),
                other => Value::Sensitive(Box::new(other.clone())),
            };
            Some(AttrChange {
                name: a.name.to_string(),
                before: Some(value.clone()),
                after: Some(value),
                forces_replacement: false,
                sensitive: true,
                waits_for_maintenance: false,
            })
        })
        .collect()
}

/// Null, an empty list and an empty map all mean "not set": clouds return them interchangeably.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// Equality as the differ sees it: "not set" in any form is equal, secrets by digest.
/// Equal as the plan sees it; secrets compare by their digests salted with `salt`.
fn same(a: &Value, b: &Value, salt: &str) -> bool {
    if is_empty(a) && is_empty(b) {
        return true;
    }
    if a.contains_sensitive() || b.contains_sensitive() {
        // A value read from `${env...}` is secret in the configuration, while the cloud may
        // show it as plain text (a tenant id): the same text is the same value. Against state,
        // which holds secrets only as digests, the digests are compared.
        return strip_sensitive(a) == strip_sensitive(b)
            || strip_sensitive(&seal(a, salt)) == strip_sensitive(&seal(b, salt));
    }
    match (a, b) {
        (Value::Map(x), Value::Map(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().all(|k| {
                same(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    salt,
                )
            })
        }
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q, salt))
        }
        _ => a == b,
    }
}

fn strip_sensitive(v: &Value) -> Value {
    match v {
        Value::Sensitive(inner) => strip_sensitive(inner),
        Value::List(l) => Value::List(l.iter().map(strip_sensitive).collect()),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), strip_sensitive(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A value for display: residual expressions are unknown until apply.
pub(crate) fn display_value(expr: &Expr) -> Value {
    match &expr.kind {
        ExprKind::Literal(v) => v.clone(),
        ExprKind::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), display_value(v)))
                .collect(),
        ),
        ExprKind::List(items) => Value::List(items.iter().map(display_value).collect()),
        _ => Value::Unknown,
    }
}

/// The configuration as one expression: a literal map when fully known.
fn config_expr(config: BTreeMap<String, Expr>, span: &Span) -> Expr {
    Expr::folded(ExprKind::Map(config.into_iter().collect()), span.clone())
}

/// The object references to an instance see: `known` attributes as literals, every other
/// attribute of the schema (and `id`) as a residual on the instance.
fn planned_object(
    addr: &ResourceAddr,
    schema: &Schema,
    mut known: BTreeMap<String, Value>,
    span: &Span,
) -> Expr {
    let mut names: Vec<&str> = schema.attributes.iter().map(|a| a.name).collect();
    if schema.attribute("id").is_none() {
        names.push("id");
    }
    if names.iter().all(|n| known.contains_key(*n)) {
        return Expr::literal(Value::Map(known), span.clone());
    }
    let address = addr.to_string();
    let entries = names
        .into_iter()
        .map(|name| {
            let value = match known.remove(name) {
                Some(v) => Expr::literal(v, span.clone()),
                None => Expr::new(
                    ExprKind::ResourceAttr {
                        addr: address.clone(),
                        path: vec![PathStep::Key(name.to_string())],
                    },
                    span.clone(),
                ),
            };
            (name.to_string(), value)
        })
        .collect();
    Expr::new(ExprKind::Map(entries), span.clone())
}

#[cfg(test)]
mod tests {
    //! The walk on several threads against the walk on one: the same plan, change for change
    //! in the same order, and the same errors in the same order.

    use super::*;
    use crate::bench;
    use crate::plan::{PlanMode, StateRef};
    use crate::spec::load::load_environment;

    /// Loads the project in `dir` and plans it from `state` on a runtime of one thread (the
    /// walk then runs on it) or of two (the walk spreads over both cores).
    fn plan_on(dir: &std::path::Path, state: &State, threads: usize) -> Result<Plan, Vec<String>> {
        let catalog = crate::providers::builtin_catalog();
        let loaded = load_environment(dir, bench::plan::ENVIRONMENT, &catalog.schemas);
        let Some(env) = loaded.env else {
            return Err(loaded
                .diagnostics
                .iter()
                .map(|d| d.message.clone())
                .collect());
        };
        let graph = ConfigGraph::build(&env).expect("the generated project has no cycle");
        let runtime = if threads == 1 {
            tokio::runtime::Builder::new_current_thread().build()
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .build()
        }
        .expect("a runtime");
        let plan = runtime.block_on(make_plan(
            PlanInputs {
                env: &env,
                graph: &graph,
                schemas: &catalog.schemas,
                prior_state: StateRef::of(Some(state)),
                refreshed: state,
                live: &BTreeMap::new(),
                providers: None,
            },
            &PlanOptions {
                mode: PlanMode::Normal,
                replace: Vec::new(),
            },
        ));
        plan.map_err(|diags| diags.iter().map(|d| d.message.clone()).collect())
    }

    fn changes(plan: &Plan) -> serde_json::Value {
        serde_json::json!({
            "changes": serde_json::to_value(&plan.changes).expect("changes serialize"),
            "outputs": serde_json::to_value(&plan.outputs).expect("outputs serialize"),
        })
    }

    #[test]
    fn forty_module_instances_planned_on_two_threads_give_the_plan_of_one_thread() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let catalog = crate::providers::builtin_catalog();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let (resources, creates) = runtime
            .block_on(bench::plan_from_nothing(dir.path(), 40 * 24))
            .expect("the generated project plans");
        // The state an apply left, then edited by hand: updates and replacements among the
        // no-ops, and one resource the configuration no longer has (a delete).
        let mut state = bench::plan::synthesize_state(&creates, &catalog);
        let edited = bench::plan::change_every(&mut state, &catalog, 7);
        let mut gone = state
            .resources
            .values()
            .next()
            .cloned()
            .expect("a resource");
        gone.resource_type = "fake_alarm".into();
        state.resources.insert(
            "module.cell99.fake_alarm.alarm[\"cpu\"]"
                .parse()
                .expect("an address"),
            gone,
        );

        let one = plan_on(dir.path(), &state, 1).expect("plans on one thread");
        let two = plan_on(dir.path(), &state, 2).expect("plans on two threads");

        assert_eq!(one.changes.len(), resources + 1);
        let acted = |p: &Plan| {
            p.changes
                .iter()
                .filter(|c| c.action != Action::NoOp)
                .count()
        };
        assert!(
            acted(&one) > edited,
            "{} changes for {edited} edits",
            acted(&one)
        );
        assert_eq!(changes(&one), changes(&two));
    }

    #[test]
    fn errors_found_on_two_threads_come_in_the_order_of_one_thread() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        runtime
            .block_on(bench::plan_from_nothing(dir.path(), 12 * 24))
            .expect("the generated project plans");
        // Every other module instance is passed an input of the wrong type, which only the
        // evaluation finds (the input is an expression of the caller).
        let env_file = dir.path().join("environments/bench.yaml");
        let mut env = std::fs::read_to_string(&env_file).expect("the environment");
        for i in (1..12).step_by(2) {
            env = env.replace(&format!("index: {i} }}"), "index: \"${environment}\" }");
        }
        std::fs::write(&env_file, env).expect("write the environment");

        let state = State::new(bench::plan::ENVIRONMENT);
        let one = plan_on(dir.path(), &state, 1).expect_err("fails on one thread");
        let two = plan_on(dir.path(), &state, 2).expect_err("fails on two threads");
        assert_eq!(one.len(), 6, "{one:#?}");
        assert!(one[0].contains("`index`"), "{one:#?}");
        assert_eq!(one, two);
    }
}
