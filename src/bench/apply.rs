//! The apply-scheduling benchmark: a workload applied on the fake provider with a real local
//! state file, its wall time compared with the critical path and with the work divided by the
//! parallelism, the two floors no scheduler can beat.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use super::critical_path;
use crate::addr::ResourceAddr;
use crate::engine::{ApplyHooks, Op};
use crate::plan::{Action, Plan, PlanMode};
use crate::spec::expr::Expr;
use crate::spec::span::Span;
use crate::state::State;
use crate::value::Value;

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

/// A plan of creates and the latency each create takes on the fake provider.
pub struct RealisticWorkload {
    pub plan: Plan,
    /// Resource type → milliseconds, for the fake provider's `latency_ms` setting.
    pub latency_ms: BTreeMap<String, u64>,
}

/// The generated project of about `resources` resources planned from nothing: networks,
/// subnets, firewalls, databases, caches, load balancers, services and alarms, each create
/// taking its type's typical time (a database ten minutes, a subnet two seconds) divided by
/// `speedup`.
pub async fn realistic_workload(
    dir: &Path,
    resources: usize,
    speedup: f64,
) -> Result<RealisticWorkload, String> {
    let (_, plan) = super::plan_from_nothing(dir, resources).await?;
    let catalog = crate::providers::builtin_catalog();
    let latency_ms = plan
        .changes
        .iter()
        .filter_map(|c| {
            let schema = catalog.schemas.get(&c.resource_type)?;
            let ms = (schema.typical_create_secs * 1000.0 / speedup).round() as u64;
            Some((c.resource_type.clone(), ms))
        })
        .collect();
    Ok(RealisticWorkload { plan, latency_ms })
}

/// One apply-scheduling measurement.
#[derive(Clone, Debug)]
pub struct ApplyFigures {
    pub resources: usize,
    pub parallelism: Option<usize>,
    pub wall_seconds: f64,
    /// The critical path of the configured latencies: no scheduler can finish sooner.
    pub critical_path_seconds: f64,
    /// The configured latencies added up and divided by the parallelism: no scheduler can
    /// finish sooner either.
    pub work_per_slot_seconds: f64,
    pub state_writes: u64,
    /// How long operations waited between their dependencies finishing and their own start,
    /// for the long poles (creates typically over a minute) and for the rest: median and
    /// maximum, in seconds.
    pub long_pole_wait: (f64, f64),
    pub other_wait: (f64, f64),
    /// How much longer than its configured latency an operation took (state writes, the
    /// provider's own work): median and maximum, in seconds.
    pub overhead: (f64, f64),
}

impl ApplyFigures {
    /// The later of the two floors.
    pub fn lower_bound_seconds(&self) -> f64 {
        self.critical_path_seconds.max(self.work_per_slot_seconds)
    }
}

/// When each operation started, for the wait figures.
#[derive(Default)]
struct StartTimes(Mutex<HashMap<ResourceAddr, Instant>>);

impl ApplyHooks for StartTimes {
    fn on_start(&self, addr: &ResourceAddr, _op: Op) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(addr.clone(), Instant::now());
    }
}

/// Applies `plan` on the fake provider with the given latencies (keys as the fake provider's
/// `latency_ms` setting takes them) and a real local state file in `dir`, and compares the wall
/// time with the two floors.
pub async fn measure_apply(
    dir: &Path,
    plan: &Plan,
    latency_ms: &BTreeMap<String, u64>,
    parallelism: Option<usize>,
) -> Result<ApplyFigures, String> {
    use crate::engine::{ApplyOptions, Cancel, RetryPolicy, apply};
    use crate::providers::{ProviderConfig, ProviderSet};
    use crate::state::StateStore as _;
    use crate::state::local::LocalStore;

    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let latency: serde_json::Map<String, serde_json::Value> = latency_ms
        .iter()
        .map(|(k, v)| (k.clone(), (*v).into()))
        .collect();
    let config = ProviderConfig {
        name: "fake".into(),
        alias: None,
        settings: Value::from_json(&serde_json::json!({ "latency_ms": latency })),
        project_dir: dir.to_path_buf(),
        environment: plan.environment.clone(),
    };
    let providers = ProviderSet::from_configs(
        &crate::providers::builtin_catalog(),
        std::slice::from_ref(&config),
    )
    .map_err(|e| e.to_string())?;
    let store = LocalStore::new(
        dir.join("state.json"),
        "state.json".into(),
        plan.environment.clone(),
    );
    let starts = StartTimes::default();
    let began = Instant::now();
    let outcome = apply(
        plan,
        State::new(&plan.environment),
        &store,
        &providers,
        &ApplyOptions {
            parallelism: parallelism.unwrap_or(usize::MAX),
            retry: RetryPolicy::default(),
        },
        &starts,
        &Cancel::new(),
    )
    .await;
    if !outcome.is_success() {
        return Err(format!(
            "apply failed: {:?}",
            outcome.failed.first().map(|f| f.error.to_string())
        ));
    }
    let configured: BTreeMap<ResourceAddr, f64> = plan
        .changes
        .iter()
        .map(|c| {
            let ms = latency_ms
                .get(c.address.to_string().as_str())
                .or_else(|| latency_ms.get(&c.resource_type))
                .or_else(|| latency_ms.get("default"))
                .copied()
                .unwrap_or(0);
            (c.address.clone(), ms as f64 / 1000.0)
        })
        .collect();
    let slots = parallelism
        .unwrap_or(usize::MAX)
        .min(plan.changes.len())
        .max(1);
    let starts = starts.0.into_inner().unwrap_or_else(|p| p.into_inner());
    let finishes: HashMap<&ResourceAddr, Instant> = outcome
        .completed
        .iter()
        .filter_map(|r| Some((&r.addr, *starts.get(&r.addr)? + r.elapsed)))
        .collect();
    let mut long_waits = Vec::new();
    let mut other_waits = Vec::new();
    for c in &plan.changes {
        let Some(start) = starts.get(&c.address) else {
            continue;
        };
        let ready = c
            .depends_on
            .iter()
            .filter_map(|d| finishes.get(d).copied())
            .max()
            .unwrap_or(began);
        let wait = start.saturating_duration_since(ready).as_secs_f64();
        if c.weight >= 60.0 {
            long_waits.push(wait);
        } else {
            other_waits.push(wait);
        }
    }
    let mut overheads: Vec<f64> = outcome
        .completed
        .iter()
        .filter_map(|r| Some(r.elapsed.as_secs_f64() - configured.get(&r.addr)?))
        .collect();
    let state_writes = store.load().await.ok().flatten().map_or(0, |s| s.serial);
    Ok(ApplyFigures {
        resources: plan.changes.len(),
        parallelism,
        wall_seconds: outcome.elapsed.as_secs_f64(),
        critical_path_seconds: critical_path(plan, &configured),
        work_per_slot_seconds: configured.values().sum::<f64>() / slots as f64,
        state_writes,
        long_pole_wait: median_and_max(&mut long_waits),
        other_wait: median_and_max(&mut other_waits),
        overhead: median_and_max(&mut overheads),
    })
}

fn median_and_max(values: &mut [f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    values.sort_by(f64::total_cmp);
    (values[values.len() / 2], values[values.len() - 1])
}
