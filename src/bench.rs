//! Benchmarks users can reproduce with `cairn bench`: plan time and peak memory from local state,
//! and apply time against the critical path. They print figures and ratios; they never fail on
//! a time.
//!
//! Each plan size runs in a child process of its own so that its peak RSS is its own.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::addr::ResourceAddr;
use crate::graph::ConfigGraph;
use crate::plan::diff::{PlanInputs, PlanOptions, make_plan};
use crate::plan::{Action, Plan, PlanMode};
use crate::providers::Catalog;
use crate::schema::{AttrType, Presence};
use crate::spec::diagnostic::Diagnostic;
use crate::spec::expr::{Expr, Scope, eval};
use crate::spec::load::load_environment;
use crate::spec::span::Span;
use crate::state::{ResourceState, ResourceStatus, State, seal};
use crate::value::Value;

/// Resources in one generated "cell" module instance.
pub const RESOURCES_PER_CELL: usize = 24;

/// Writes a project of about `resources` resources: `cells` instances of a module with a
/// network, 8 subnets (`for_each`), a firewall, database, cache, load balancer, service and 10
/// alarms (`for_each`), each instance wired to the previous cell's network.
pub fn write_project(dir: &Path, resources: usize) -> std::io::Result<usize> {
    let cells = resources.div_ceil(RESOURCES_PER_CELL).max(1);
    std::fs::create_dir_all(dir.join("modules/cell"))?;
    std::fs::create_dir_all(dir.join("environments"))?;
    std::fs::write(
        dir.join("modules/cell/module.yaml"),
        r#"inputs:
  name: { type: string }
  index: { type: number }
  zones: { type: list(string), default: [z1, z2, z3, z4, z5, z6, z7, z8] }
  metrics: { type: list(string), default: [cpu, memory, disk, net_in, net_out, errors, latency, queue, conns, iops] }
resources:
  net:
    type: fake_network
    properties:
      cidr_block: ${cidrsubnet("10.0.0.0/8", 8, inputs.index % 256)}
      name: ${inputs.name}
      tags: { Name: "${inputs.name}" }
  subnet:
    type: fake_subnet
    for_each: ${inputs.zones}
    properties:
      network_id: ${net.id}
      zone: ${each.value}
      cidr_block: ${cidrsubnet(cidrsubnet("10.0.0.0/8", 8, inputs.index % 256), 8, index(inputs.zones, each.value))}
      tags: { Name: "${inputs.name}-${each.key}" }
  firewall:
    type: fake_security_group
    properties:
      name: ${inputs.name}-fw
      network_id: ${net.id}
  db:
    type: fake_database
    properties:
      engine: postgres
      instance_class: db.r5.large
      username: app
      password: ${inputs.name}-not-a-real-secret
      subnet_ids: ${subnet[*].id}
  cache:
    type: fake_cache
    properties:
      node_type: cache.r6g.large
      subnet_ids: ${subnet[*].id}
  lb:
    type: fake_load_balancer
    properties:
      subnet_ids: ${subnet[*].id}
      security_group_ids: ["${firewall.id}"]
  service:
    type: fake_service
    properties:
      cluster: ${inputs.name}
      image: app:1
      cpu: 512
      memory: 1024
      subnet_ids: ${subnet[*].id}
      security_group_ids: ["${firewall.id}"]
  alarm:
    type: fake_alarm
    for_each: ${inputs.metrics}
    properties:
      metric: ${inputs.name}/${each.value}
      threshold: ${80 + length(each.value)}
      comparison: GreaterThanThreshold
outputs:
  network_id: ${net.id}
"#,
    )?;
    let mut env = String::from(
        "environment: bench\nproviders:\n  fake: {}\ntags: { env: bench }\nmodules:\n",
    );
    for i in 0..cells {
        let _ = writeln!(
            env,
            "  cell{i}:\n    source: cell\n    inputs: {{ name: cell-{i}, index: {i} }}"
        );
    }
    std::fs::write(dir.join("environments/bench.yaml"), env)?;
    Ok(cells * RESOURCES_PER_CELL)
}

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
                attributes: seal(&attributes, &state.lineage),
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

/// One plan measurement.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PlanFigures {
    pub resources: usize,
    pub load_seconds: f64,
    pub plan_seconds: f64,
    pub changes: usize,
    pub peak_rss_mb: f64,
}

/// Generates a project of `resources` resources and its applied state, then times loading and
/// planning it from that state with no refresh. Expects a plan with no changes.
pub async fn measure_plan(dir: &Path, resources: usize) -> Result<PlanFigures, String> {
    let resources = write_project(dir, resources).map_err(|e| e.to_string())?;
    let catalog = crate::providers::builtin_catalog();
    let options = PlanOptions {
        mode: PlanMode::Normal,
        replace: Vec::new(),
    };

    // Set-up (not timed): the state an apply of everything would leave.
    let loaded = load_environment(dir, "bench", &catalog.schemas);
    let env = loaded
        .env
        .ok_or_else(|| format!("{:?}", loaded.diagnostics.first()))?;
    let graph = ConfigGraph::build(&env).map_err(|d| format!("{:?}", d.first()))?;
    let empty = State::new("bench");
    let initial = make_plan(
        plan_inputs(&env, &graph, &catalog, &empty, &BTreeMap::new()),
        &options,
    )
    .await
    .map_err(|d| format!("{:?}", d.first()))?;
    let state = synthesize_state(&initial, &catalog);
    drop(initial);

    let started = Instant::now();
    let loaded = load_environment(dir, "bench", &catalog.schemas);
    let env = loaded.env.ok_or_else(|| "load failed".to_string())?;
    let graph = ConfigGraph::build(&env).map_err(|d| format!("{:?}", d.first()))?;
    let load_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let plan = make_plan(
        plan_inputs(&env, &graph, &catalog, &state, &BTreeMap::new()),
        &options,
    )
    .await
    .map_err(|d| format!("{:?}", d.first()))?;
    let plan_seconds = started.elapsed().as_secs_f64();
    let changes = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .count();
    Ok(PlanFigures {
        resources,
        load_seconds,
        plan_seconds,
        changes,
        peak_rss_mb: peak_rss_mb(),
    })
}

fn plan_inputs<'a>(
    env: &'a crate::spec::model::Environment,
    graph: &'a ConfigGraph,
    catalog: &'a Catalog,
    state: &'a State,
    live: &'a BTreeMap<ResourceAddr, Value>,
) -> PlanInputs<'a> {
    PlanInputs {
        env,
        graph,
        schemas: &catalog.schemas,
        stored: Some(state),
        refreshed: state,
        live,
        providers: None,
    }
}

/// The process's peak resident set size (Linux `VmHWM`), in MiB; 0 where unknown.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Formats a duration for the report.
pub fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

/// A layered graph of fake resources with a latency each: the apply-scheduling workload that
/// `cairn bench` and the engine's own test share.
pub struct LayeredWorkload {
    pub plan: Plan,
    /// Address → milliseconds, for the fake provider's `latency_ms` setting.
    pub latency_ms: BTreeMap<String, u64>,
}

/// `layers` × `width` alarms; each after layer 0 depends on 1–3 random ones of the layer
/// before; latencies uniform in `ms` (deterministic for a seed).
pub fn layered_workload(
    layers: usize,
    width: usize,
    ms: std::ops::RangeInclusive<u64>,
    seed: u64,
) -> LayeredWorkload {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut latency_ms = BTreeMap::new();
    let mut changes = Vec::with_capacity(layers * width);
    for layer in 0..layers {
        for i in 0..width {
            let address: ResourceAddr = match format!("fake_alarm.l{layer}_{i}").parse() {
                Ok(a) => a,
                Err(_) => continue,
            };
            latency_ms.insert(address.to_string(), rng.random_range(ms.clone()));
            let mut depends_on: Vec<ResourceAddr> = Vec::new();
            if layer > 0 {
                for _ in 0..rng.random_range(1..=3) {
                    if let Ok(dep) =
                        format!("fake_alarm.l{}_{}", layer - 1, rng.random_range(0..width)).parse()
                        && !depends_on.contains(&dep)
                    {
                        depends_on.push(dep);
                    }
                }
            }
            let after = Value::Map(BTreeMap::from([
                ("metric".to_string(), Value::string(format!("m{layer}_{i}"))),
                ("threshold".to_string(), Value::Number(i as f64)),
            ]));
            changes.push(crate::plan::ResourceChange {
                mode: address.mode,
                resource_type: address.resource_type.clone(),
                address,
                provider: "fake".into(),
                action: Action::Create,
                reason: None,
                id: None,
                before: None,
                after: Some(Expr::literal(after, Span::synthetic("bench"))),
                attributes: Vec::new(),
                replace_paths: Vec::new(),
                depends_on,
                create_before_destroy: false,
                timeouts: Default::default(),
                weight: 1.0,
            });
        }
    }
    let plan = Plan {
        format_version: crate::plan::PLAN_FORMAT_VERSION,
        cairn_version: env!("CARGO_PKG_VERSION").to_string(),
        environment: "bench".into(),
        created_at: crate::plan::diff::now_rfc3339(),
        mode: PlanMode::Normal,
        prior_state: crate::plan::StateRef {
            lineage: None,
            serial: 0,
            path: None,
            s3: None,
        },
        providers: Vec::new(),
        changes,
        outputs: Vec::new(),
        moved: Vec::new(),
        targets: Vec::new(),
        drift: Vec::new(),
    };
    LayeredWorkload { plan, latency_ms }
}

/// The longest chain of `durations` through the plan's dependencies (changes in dependency
/// order), in the durations' unit.
pub fn critical_path(plan: &Plan, durations: &BTreeMap<ResourceAddr, f64>) -> f64 {
    let mut finish: BTreeMap<&ResourceAddr, f64> = BTreeMap::new();
    for c in &plan.changes {
        let start = c
            .depends_on
            .iter()
            .filter_map(|d| finish.get(d))
            .fold(0.0, |a: f64, b| a.max(*b));
        finish.insert(
            &c.address,
            start + durations.get(&c.address).copied().unwrap_or(0.0),
        );
    }
    finish.values().copied().fold(0.0, f64::max)
}

/// One apply-scheduling measurement.
#[derive(Clone, Debug)]
pub struct ApplyFigures {
    pub resources: usize,
    pub parallelism: Option<usize>,
    pub wall_seconds: f64,
    /// The critical path of the latencies the operations took, state writes included.
    pub critical_path_seconds: f64,
    /// The critical path of the configured provider latencies alone: the floor any scheduler
    /// could reach.
    pub ideal_seconds: f64,
    pub state_writes: u64,
}

/// Applies `workload` on the fake provider with a real local state file in `dir`, and compares
/// the wall time with the critical path of the latencies each operation actually took.
pub async fn measure_apply(
    dir: &Path,
    workload: &LayeredWorkload,
    parallelism: Option<usize>,
) -> Result<ApplyFigures, String> {
    use crate::engine::{ApplyOptions, Cancel, NoHooks, RetryPolicy, apply};
    use crate::providers::{ProviderConfig, ProviderSet};
    use crate::state::StateStore as _;
    use crate::state::local::LocalStore;

    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let latency: serde_json::Map<String, serde_json::Value> = workload
        .latency_ms
        .iter()
        .map(|(k, v)| (k.clone(), (*v).into()))
        .collect();
    let config = ProviderConfig {
        name: "fake".into(),
        alias: None,
        settings: Value::from_json(&serde_json::json!({ "latency_ms": latency })),
        project_dir: dir.to_path_buf(),
        environment: "bench".into(),
    };
    let providers = ProviderSet::from_configs(
        &crate::providers::builtin_catalog(),
        std::slice::from_ref(&config),
    )
    .map_err(|e| e.to_string())?;
    let store = LocalStore::new(dir.join("state.json"), "state.json".into(), "bench".into());
    let outcome = apply(
        &workload.plan,
        State::new("bench"),
        &store,
        &providers,
        &ApplyOptions {
            parallelism: parallelism.unwrap_or(usize::MAX),
            retry: RetryPolicy::default(),
        },
        &NoHooks,
        &Cancel::new(),
    )
    .await;
    if !outcome.is_success() {
        return Err(format!(
            "apply failed: {:?}",
            outcome.failed.first().map(|f| f.error.to_string())
        ));
    }
    let measured: BTreeMap<ResourceAddr, f64> = outcome
        .completed
        .iter()
        .map(|r| (r.addr.clone(), r.elapsed.as_secs_f64()))
        .collect();
    let state_writes = store.load().await.ok().flatten().map_or(0, |s| s.serial);
    Ok(ApplyFigures {
        resources: workload.plan.changes.len(),
        parallelism,
        wall_seconds: outcome.elapsed.as_secs_f64(),
        critical_path_seconds: critical_path(&workload.plan, &measured),
        ideal_seconds: critical_path(
            &workload.plan,
            &workload
                .latency_ms
                .iter()
                .filter_map(|(a, ms)| Some((a.parse().ok()?, *ms as f64 / 1000.0)))
                .collect(),
        ),
        state_writes,
    })
}
