//! Benchmarks users can reproduce with `cairn bench` (issue 9): plan time and peak memory from
//! local state, apply scheduling against the critical path, start-up, and, against a local moto,
//! refresh API calls as the estate grows and the reference stack end to end. They print figures
//! and ratios; they never fail on a time.
//!
//! This module holds what the workloads share: the generated project and the critical-path
//! measure.

pub mod apply;
pub mod moto;
pub mod plan;
pub mod startup;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::addr::ResourceAddr;
use crate::plan::Plan;

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

/// The longest chain of `durations` through the plan's dependencies (changes in dependency
/// order), in the durations' unit.
/// Writes the generated project of about `resources` resources in `dir` and plans it from an
/// empty state: every resource a create. Returns the number of resources and the plan.
pub async fn plan_from_nothing(dir: &Path, resources: usize) -> Result<(usize, Plan), String> {
    use crate::graph::ConfigGraph;
    use crate::plan::diff::{PlanInputs, PlanOptions, make_plan};
    use crate::plan::{PlanMode, StateRef};
    use crate::spec::load::load_environment;
    use crate::state::State;

    let resources = write_project(dir, resources).map_err(|e| e.to_string())?;
    let catalog = crate::providers::builtin_catalog();
    let loaded = load_environment(dir, plan::ENVIRONMENT, &catalog.schemas);
    let env = loaded
        .env
        .ok_or_else(|| format!("{:?}", loaded.diagnostics.first()))?;
    let graph = ConfigGraph::build(&env).map_err(|d| format!("{:?}", d.first()))?;
    let empty = State::new(plan::ENVIRONMENT);
    let plan = make_plan(
        PlanInputs {
            env: &env,
            graph: &graph,
            schemas: &catalog.schemas,
            prior_state: StateRef::of(Some(&empty)),
            refreshed: &empty,
            live: &BTreeMap::new(),
            providers: None,
        },
        &PlanOptions {
            mode: PlanMode::Normal,
            replace: Vec::new(),
        },
    )
    .await
    .map_err(|d| format!("{:?}", d.first()))?;
    Ok((resources, plan))
}

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
