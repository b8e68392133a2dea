//! The engine against the fake cloud: scheduling, partial failure, retries, delete order,
//! create-before-destroy, cancellation, pending intents and batched refresh.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use super::*;
use crate::addr::ResourceMode;
use crate::plan::{Action, Plan, PlanMode, ResourceChange, StateRef};
use crate::providers::fake::{self, CloudData};
use crate::providers::{
    CreateRequest, DeleteRequest, ErrorKind, Provider, ProviderConfig, ProviderSet,
};
use crate::spec::expr::{Expr, ExprKind, PathStep};
use crate::spec::span::Span;
use crate::state::{LockInfo, ResourceState, ResourceStatus, StateError, StateLock, StateStore};

/// A state store in memory that keeps every state it was asked to save.
struct MemStore {
    saves: Mutex<Vec<State>>,
    /// The number of the save (1-based) from which saving fails.
    fail_from: Option<usize>,
}

impl MemStore {
    fn new() -> MemStore {
        MemStore {
            saves: Mutex::new(Vec::new()),
            fail_from: None,
        }
    }
    fn saves(&self) -> Vec<State> {
        self.saves.lock().unwrap().clone()
    }
}

struct MemLock(LockInfo);

impl StateLock for MemLock {
    fn info(&self) -> &LockInfo {
        &self.0
    }
}

#[async_trait]
impl StateStore for MemStore {
    fn describe(&self) -> String {
        "memory".into()
    }
    async fn load(&self) -> Result<Option<State>, StateError> {
        Ok(self.saves.lock().unwrap().last().cloned())
    }
    async fn save(&self, state: &mut State) -> Result<(), StateError> {
        let mut saves = self.saves.lock().unwrap();
        if self.fail_from.is_some_and(|n| saves.len() + 1 >= n) {
            return Err(StateError::Io {
                action: "write",
                path: "memory".into(),
                source: std::io::Error::other("disk full"),
            });
        }
        state.serial += 1;
        saves.push(state.clone());
        Ok(())
    }
    async fn lock(
        &self,
        info: LockInfo,
        _timeout: Duration,
    ) -> Result<Box<dyn StateLock>, StateError> {
        Ok(Box::new(MemLock(info)))
    }
}

/// Records what the engine told its hooks, and can cancel after the first completed operation.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<(String, ResourceAddr, Op)>>,
    retries: Mutex<Vec<(ResourceAddr, u32)>>,
    cancel_on_first_done: Option<Cancel>,
}

impl Recorder {
    fn events(&self) -> Vec<String> {
        let events = self.events.lock().unwrap();
        events
            .iter()
            .map(|(e, a, op)| format!("{e} {op} {a}"))
            .collect()
    }
}

impl ApplyHooks for Recorder {
    fn on_start(&self, addr: &ResourceAddr, op: Op) {
        self.events
            .lock()
            .unwrap()
            .push(("start".into(), addr.clone(), op));
    }
    fn on_done(&self, addr: &ResourceAddr, op: Op, _elapsed: Duration) {
        self.events
            .lock()
            .unwrap()
            .push(("done".into(), addr.clone(), op));
        if let Some(cancel) = &self.cancel_on_first_done {
            cancel.cancel();
        }
    }
    fn on_retry(
        &self,
        addr: &ResourceAddr,
        _op: Op,
        attempt: u32,
        _delay: Duration,
        _error: &ProviderError,
    ) {
        self.retries.lock().unwrap().push((addr.clone(), attempt));
    }
}

fn addr(text: &str) -> ResourceAddr {
    text.parse().unwrap()
}

fn span() -> Span {
    Span::synthetic("test")
}

fn lit(json: serde_json::Value) -> Expr {
    Expr::literal(Value::from_json(&json), span())
}

fn change(address: &str, action: Action, after: Option<Expr>, deps: &[&str]) -> ResourceChange {
    let address = addr(address);
    ResourceChange {
        mode: address.mode,
        resource_type: address.resource_type.clone(),
        address,
        provider: "fake".into(),
        action,
        reason: None,
        id: None,
        before: None,
        after,
        attributes: Vec::new(),
        replace_paths: Vec::new(),
        depends_on: deps.iter().map(|d| addr(d)).collect(),
        create_before_destroy: action == Action::CreateThenDelete,
        timeouts: Default::default(),
        weight: 1.0,
    }
}

fn create(address: &str, after: serde_json::Value, deps: &[&str]) -> ResourceChange {
    change(address, Action::Create, Some(lit(after)), deps)
}

/// A change that acts on what `state` has at `address`.
fn on_existing(
    state: &State,
    address: &str,
    action: Action,
    after: Option<serde_json::Value>,
) -> ResourceChange {
    let current = &state.resources[&addr(address)];
    let mut c = change(address, action, after.map(lit), &[]);
    c.id = current.id.clone();
    c.before = Some(current.attributes.clone());
    c
}

fn plan(changes: Vec<ResourceChange>) -> Plan {
    Plan {
        format_version: crate::plan::PLAN_FORMAT_VERSION,
        cairn_version: "test".into(),
        environment: "dev".into(),
        created_at: "2026-01-01T00:00:00Z".into(),
        mode: PlanMode::Normal,
        prior_state: StateRef {
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
    }
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

fn opts(parallelism: usize) -> ApplyOptions {
    ApplyOptions {
        parallelism,
        retry: quick_retries(),
    }
}

/// A project directory with a fake cloud configured by `settings`.
struct Cloud {
    _dir: tempfile::TempDir,
    config: ProviderConfig,
    providers: ProviderSet,
}

impl Cloud {
    fn new(settings: serde_json::Value) -> Cloud {
        let dir = tempfile::tempdir().unwrap();
        let config = ProviderConfig {
            name: "fake".into(),
            alias: None,
            settings: Value::from_json(&settings),
            project_dir: dir.path().to_path_buf(),
            environment: "dev".into(),
        };
        let providers = ProviderSet::from_configs(
            &crate::providers::builtin_catalog(),
            std::slice::from_ref(&config),
        )
        .unwrap();
        Cloud {
            _dir: dir,
            config,
            providers,
        }
    }

    fn data(&self) -> CloudData {
        fake::cloud::load(&fake::store_path(&self.config)).unwrap()
    }

    fn provider(&self) -> &std::sync::Arc<dyn Provider> {
        self.providers.get("fake").unwrap()
    }

    async fn apply(
        &self,
        plan: &Plan,
        state: State,
        hooks: &dyn ApplyHooks,
        parallelism: usize,
    ) -> (ApplyOutcome, MemStore) {
        let store = MemStore::new();
        let outcome = apply(
            plan,
            state,
            &store,
            &self.providers,
            &opts(parallelism),
            hooks,
            &Cancel::new(),
        )
        .await;
        (outcome, store)
    }
}

fn alarm(threshold: i64) -> serde_json::Value {
    serde_json::json!({ "metric": "cpu", "threshold": threshold })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_resources_finish_close_to_the_critical_path() {
    let workload = crate::bench::apply::layered_workload(5, 40, 5..=60, 42);
    let plan = workload.plan;
    let latency: serde_json::Map<String, serde_json::Value> = workload
        .latency_ms
        .iter()
        .map(|(k, v)| (k.clone(), (*v).into()))
        .collect();
    let cloud = Cloud::new(serde_json::json!({ "latency_ms": latency }));
    let critical_path =
        |durations: &BTreeMap<ResourceAddr, f64>| crate::bench::critical_path(&plan, durations);
    let configured_path = critical_path(
        &workload
            .latency_ms
            .iter()
            .map(|(a, ms)| (addr(a), *ms as f64))
            .collect(),
    );

    for parallelism in [usize::MAX, 10] {
        let (outcome, store) = cloud
            .apply(&plan, State::new("dev"), &NoHooks, parallelism)
            .await;
        assert!(outcome.is_success(), "{:?}", outcome.failed);
        assert_eq!(outcome.completed.len(), 200);
        let measured: BTreeMap<ResourceAddr, f64> = outcome
            .completed
            .iter()
            .map(|r| (r.addr.clone(), r.elapsed.as_secs_f64() * 1000.0))
            .collect();
        let wall = outcome.elapsed.as_secs_f64() * 1000.0;
        let ratio = wall / critical_path(&measured);
        println!(
            "parallelism {}: wall {wall:.0} ms, critical path {:.0} ms measured / {configured_path:.0} ms configured, ratio {ratio:.2} (vs configured {:.2})",
            if parallelism == usize::MAX {
                "unbounded".to_string()
            } else {
                parallelism.to_string()
            },
            critical_path(&measured),
            wall / configured_path,
        );
        if parallelism == usize::MAX {
            assert!(ratio <= 1.5, "apply took {ratio:.2}x its critical path");
        }
        // Every create is journaled: its intent, then its result. Operations finishing together
        // share a write (group commit), so there are at most two writes per create.
        let saves = store.saves();
        assert!(saves.len() <= 400, "{} writes", saves.len());
        assert!(saves.windows(2).all(|w| w[0].serial < w[1].serial));
        for addr in outcome.state.resources.keys() {
            let status = |s: &State| s.resources.get(addr).map(|r| r.status.clone());
            assert!(
                saves
                    .iter()
                    .any(|s| matches!(status(s), Some(ResourceStatus::Pending { .. }))),
                "the intent to create {addr} was written before the create"
            );
            assert!(
                saves
                    .iter()
                    .any(|s| status(s) == Some(ResourceStatus::Created)),
                "{addr} was written once created"
            );
        }
        assert_eq!(outcome.state.resources.len(), 200);
        assert!(
            outcome
                .state
                .resources
                .values()
                .all(|r| r.status == ResourceStatus::Created && r.id.is_some())
        );
    }
}

/// The order operations started and finished in.
#[derive(Default)]
struct Timeline(Mutex<Vec<(String, &'static str)>>);

impl ApplyHooks for Timeline {
    fn on_start(&self, addr: &ResourceAddr, _op: Op) {
        self.0.lock().unwrap().push((addr.to_string(), "start"));
    }
    fn on_done(&self, addr: &ResourceAddr, _op: Op, _elapsed: Duration) {
        self.0.lock().unwrap().push((addr.to_string(), "done"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_pole_starts_first_and_never_holds_back_an_unrelated_branch() {
    // Listed last, typically ten minutes: the database must still start first, and the twenty
    // quick alarms must all be done while it is still being created, in the slot it leaves.
    let cloud = Cloud::new(serde_json::json!({
        "latency_ms": { "default": 20, "fake_alarm.db": 1500 }
    }));
    let mut changes: Vec<ResourceChange> = (0..20)
        .map(|i| create(&format!("fake_alarm.quick{i}"), alarm(i), &[]))
        .collect();
    let mut db = create("fake_alarm.db", alarm(99), &[]);
    db.weight = 600.0;
    changes.push(db);
    let timeline = Timeline::default();
    let (outcome, _) = cloud
        .apply(&plan(changes), State::new("dev"), &timeline, 2)
        .await;
    assert!(outcome.is_success(), "{:?}", outcome.failed);

    let events = timeline.0.into_inner().unwrap();
    assert_eq!(
        events[0],
        ("fake_alarm.db".to_string(), "start"),
        "{events:?}"
    );
    let quick_done = events
        .iter()
        .filter(|(a, what)| a.starts_with("fake_alarm.quick") && *what == "done")
        .count();
    assert_eq!(quick_done, 20);
    assert_eq!(
        events.last(),
        Some(&("fake_alarm.db".to_string(), "done")),
        "the database finished last: {events:?}"
    );
}

#[tokio::test]
async fn a_create_throttled_after_making_the_object_is_not_made_twice() {
    // A cloud with no idempotency token, whose create makes the object and then is throttled
    // (a later tagging call, say) twice: the engine's retries find the object instead of making
    // more.
    let cloud = Cloud::new(serde_json::json!({
        "idempotent_creates": false,
        "failures": [{ "match": "fake_alarm.a", "operation": "create", "error": "throttled", "times": 2, "after": true }]
    }));
    let plan = plan(vec![create("fake_alarm.a", alarm(1), &[])]);
    let (outcome, _) = cloud.apply(&plan, State::new("dev"), &NoHooks, 10).await;
    assert!(outcome.is_success(), "{:?}", outcome.failed);
    let objects = cloud.data().objects;
    assert_eq!(objects.len(), 1, "{objects:?}");
    let id = objects.keys().next().unwrap();
    assert_eq!(
        outcome.state.resources[&addr("fake_alarm.a")].id.as_deref(),
        Some(id.as_str())
    );
}

#[tokio::test]
async fn a_failure_skips_its_dependents_and_the_other_branches_are_applied() {
    let cloud = Cloud::new(serde_json::json!({
        "failures": [{ "match": "fake_alarm.a2", "operation": "create", "error": "invalid" }]
    }));
    let plan = plan(vec![
        create("fake_alarm.a1", alarm(1), &[]),
        create("fake_alarm.a2", alarm(2), &["fake_alarm.a1"]),
        create("fake_alarm.a3", alarm(3), &["fake_alarm.a2"]),
        create("fake_alarm.b1", alarm(1), &[]),
        create("fake_alarm.b2", alarm(2), &["fake_alarm.b1"]),
    ]);
    let (outcome, store) = cloud.apply(&plan, State::new("dev"), &NoHooks, 10).await;

    assert!(!outcome.is_success());
    assert_eq!(outcome.failed.len(), 1);
    assert_eq!(outcome.failed[0].addr, addr("fake_alarm.a2"));
    assert_eq!(
        outcome.failed[0].error.message,
        "InvalidParameter: the cloud rejected the create of fake_alarm.a2"
    );
    assert_eq!(
        outcome.skipped,
        vec![(
            addr("fake_alarm.a3"),
            Op::Create,
            "dependency fake_alarm.a2 failed".to_string()
        )]
    );
    let in_state: Vec<String> = outcome
        .state
        .resources
        .keys()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(
        in_state,
        ["fake_alarm.a1", "fake_alarm.b1", "fake_alarm.b2"]
    );
    // The rejected create's intent was withdrawn, and the store has the final state.
    assert_eq!(
        store.saves().last().unwrap().resources,
        outcome.state.resources
    );
    assert_eq!(cloud.data().objects.len(), 3);
}

#[tokio::test]
async fn throttled_creates_are_retried_and_each_retry_reported() {
    let cloud = Cloud::new(serde_json::json!({
        "failures": [{ "match": "fake_bucket.logs", "operation": "create", "error": "throttled", "times": 2 }]
    }));
    let plan = plan(vec![create(
        "fake_bucket.logs",
        serde_json::json!({ "bucket": "team-logs" }),
        &[],
    )]);
    let hooks = Recorder::default();
    let (outcome, _) = cloud.apply(&plan, State::new("dev"), &hooks, 10).await;

    assert!(outcome.is_success(), "{:?}", outcome.failed);
    assert_eq!(
        *hooks.retries.lock().unwrap(),
        [(addr("fake_bucket.logs"), 1), (addr("fake_bucket.logs"), 2)]
    );
    assert_eq!(
        outcome.state.resources[&addr("fake_bucket.logs")]
            .id
            .as_deref(),
        Some("team-logs")
    );
    assert_eq!(cloud.data().calls("create", "fake_bucket"), 3);
}

#[tokio::test]
async fn deletes_run_in_reverse_dependency_order() {
    let cloud = Cloud::new(serde_json::json!({ "latency_ms": 2 }));
    // The fake refuses to delete a network that still has subnets, as a real cloud does.
    let (first, _) = cloud
        .apply(
            &plan(vec![create(
                "fake_network.vpc",
                serde_json::json!({ "cidr_block": "10.0.0.0/16" }),
                &[],
            )]),
            State::new("dev"),
            &NoHooks,
            10,
        )
        .await;
    let net = first.state.resources[&addr("fake_network.vpc")]
        .id
        .clone()
        .unwrap();
    let subnet = |cidr: &str| serde_json::json!({ "network_id": net, "cidr_block": cidr });
    let (second, _) = cloud
        .apply(
            &plan(vec![
                create(
                    "fake_subnet.a",
                    subnet("10.0.1.0/24"),
                    &["fake_network.vpc"],
                ),
                create(
                    "fake_subnet.b",
                    subnet("10.0.2.0/24"),
                    &["fake_network.vpc"],
                ),
            ]),
            first.state,
            &NoHooks,
            10,
        )
        .await;
    let subnets: Vec<String> = ["fake_subnet.a", "fake_subnet.b"]
        .iter()
        .map(|a| second.state.resources[&addr(a)].id.clone().unwrap())
        .collect();
    let (third, _) = cloud
        .apply(
            &plan(vec![create(
                "fake_database.main",
                serde_json::json!({ "engine": "postgres", "instance_class": "small", "username": "app", "subnet_ids": subnets }),
                &["fake_subnet.a", "fake_subnet.b"],
            )]),
            second.state,
            &NoHooks,
            10,
        )
        .await;
    assert!(third.is_success(), "{:?}", third.failed);

    // Destroy everything; the plan lists the changes in an order that would be wrong as is.
    let state = third.state;
    let destroy = plan(
        [
            "fake_network.vpc",
            "fake_subnet.a",
            "fake_subnet.b",
            "fake_database.main",
        ]
        .iter()
        .map(|a| on_existing(&state, a, Action::Delete, None))
        .collect(),
    );
    let hooks = Recorder::default();
    let (outcome, _) = cloud.apply(&destroy, state, &hooks, 10).await;
    assert!(outcome.is_success(), "{:?}", outcome.failed);
    let finished: Vec<String> = hooks
        .events()
        .into_iter()
        .filter(|e| e.starts_with("done"))
        .collect();
    assert_eq!(finished[0], "done delete fake_database.main");
    assert!(
        finished[1..3]
            .iter()
            .all(|e| e.starts_with("done delete fake_subnet.")),
        "{finished:?}"
    );
    assert_eq!(finished[3], "done delete fake_network.vpc");
    assert!(outcome.state.resources.is_empty());
    assert!(cloud.data().objects.is_empty());
}

#[tokio::test]
async fn create_before_destroy_creates_the_new_object_first_and_clears_the_deposed_one() {
    let cloud = Cloud::new(serde_json::json!({}));
    let (first, _) = cloud
        .apply(
            &plan(vec![create(
                "fake_network.vpc",
                serde_json::json!({ "cidr_block": "10.0.0.0/16" }),
                &[],
            )]),
            State::new("dev"),
            &NoHooks,
            10,
        )
        .await;
    let old_id = first.state.resources[&addr("fake_network.vpc")]
        .id
        .clone()
        .unwrap();
    let replace = plan(vec![on_existing(
        &first.state,
        "fake_network.vpc",
        Action::CreateThenDelete,
        Some(serde_json::json!({ "cidr_block": "10.1.0.0/16" })),
    )]);
    let hooks = Recorder::default();
    let (outcome, store) = cloud.apply(&replace, first.state, &hooks, 10).await;

    assert!(outcome.is_success(), "{:?}", outcome.failed);
    assert_eq!(
        hooks.events(),
        [
            "start create fake_network.vpc",
            "done create fake_network.vpc",
            "start delete fake_network.vpc",
            "done delete fake_network.vpc",
        ]
    );
    // While the new network existed beside the old one, state said so.
    assert!(
        store
            .saves()
            .iter()
            .any(|s| s.deposed.iter().any(|d| d.id == old_id))
    );
    assert!(outcome.state.deposed.is_empty());
    let new = &outcome.state.resources[&addr("fake_network.vpc")];
    assert_ne!(new.id.as_deref(), Some(old_id.as_str()));
    let objects = cloud.data().objects;
    assert_eq!(objects.len(), 1);
    assert_eq!(
        objects[new.id.as_deref().unwrap()].attributes["cidr_block"],
        "10.1.0.0/16"
    );
}

#[tokio::test]
async fn cancelling_lets_the_first_wave_finish_and_starts_nothing_new() {
    let cloud =
        Cloud::new(serde_json::json!({ "latency_ms": { "default": 30, "fake_alarm.first0": 5 } }));
    let plan = plan(vec![
        create("fake_alarm.first0", alarm(0), &[]),
        create("fake_alarm.first1", alarm(1), &[]),
        create("fake_alarm.first2", alarm(2), &[]),
        create("fake_alarm.second0", alarm(0), &["fake_alarm.first0"]),
        create("fake_alarm.second1", alarm(1), &["fake_alarm.first1"]),
    ]);
    let cancel = Cancel::new();
    let hooks = Recorder {
        cancel_on_first_done: Some(cancel.clone()),
        ..Recorder::default()
    };
    let store = MemStore::new();
    let outcome = apply(
        &plan,
        State::new("dev"),
        &store,
        &cloud.providers,
        &opts(10),
        &hooks,
        &cancel,
    )
    .await;

    assert!(outcome.cancelled);
    assert!(!outcome.is_success());
    let done: Vec<String> = outcome
        .completed
        .iter()
        .map(|r| r.addr.to_string())
        .collect();
    assert_eq!(done.len(), 3, "{done:?}");
    assert!(done.iter().all(|a| a.starts_with("fake_alarm.first")));
    let mut skipped = outcome.skipped.clone();
    skipped.sort();
    assert_eq!(
        skipped,
        [
            (
                addr("fake_alarm.second0"),
                Op::Create,
                "apply was cancelled".to_string()
            ),
            (
                addr("fake_alarm.second1"),
                Op::Create,
                "apply was cancelled".to_string()
            ),
        ]
    );
    let saved = store.saves().last().unwrap().clone();
    assert_eq!(saved.resources.len(), 3);
    assert!(
        saved
            .resources
            .values()
            .all(|r| r.status == ResourceStatus::Created)
    );
    assert_eq!(cloud.data().total_calls("create"), 3);
}

#[tokio::test]
async fn a_state_write_failure_stops_new_work_and_is_reported() {
    let cloud = Cloud::new(serde_json::json!({}));
    let plan = plan(vec![
        create("fake_alarm.a1", alarm(1), &[]),
        create("fake_alarm.a2", alarm(2), &["fake_alarm.a1"]),
        create("fake_alarm.a3", alarm(3), &["fake_alarm.a2"]),
    ]);
    // Saves 1 and 2 journal a1; the intent for a2 cannot be written.
    let store = MemStore {
        fail_from: Some(3),
        ..MemStore::new()
    };
    let outcome = apply(
        &plan,
        State::new("dev"),
        &store,
        &cloud.providers,
        &opts(10),
        &NoHooks,
        &Cancel::new(),
    )
    .await;
    assert_eq!(outcome.failed.len(), 1);
    assert_eq!(outcome.failed[0].addr, addr("fake_alarm.a2"));
    assert_eq!(
        outcome.failed[0].error.message,
        "could not save state to memory: write memory: disk full"
    );
    assert_eq!(
        outcome.skipped,
        [(
            addr("fake_alarm.a3"),
            Op::Create,
            "dependency fake_alarm.a2 failed".to_string()
        )]
    );
    // Nothing was sent to the cloud without its intent on record.
    assert_eq!(cloud.data().total_calls("create"), 1);
}

#[tokio::test]
async fn refresh_adopts_a_create_the_cloud_did_but_state_never_heard_of() {
    let cloud = Cloud::new(serde_json::json!({}));
    // The process crashed after the cloud created the bucket, before state recorded the answer.
    let token = "lineage/fake_bucket.logs/1";
    let made = cloud
        .provider()
        .create(CreateRequest {
            address: "fake_bucket.logs".into(),
            resource_type: "fake_bucket".into(),
            config: Value::from_json(&serde_json::json!({ "bucket": "team-logs" })),
            token: token.into(),
            timeout: None,
        })
        .await
        .unwrap();
    let mut state = State::new("dev");
    let pending = |token: &str| ResourceState {
        resource_type: "fake_bucket".into(),
        mode: ResourceMode::Managed,
        provider: "fake".into(),
        status: ResourceStatus::Pending {
            token: token.into(),
            since: None,
        },
        id: None,
        attributes: Value::from_json(&serde_json::json!({ "bucket": "team-logs" })).into(),
        dependencies: Vec::new(),
    };
    state
        .resources
        .insert(addr("fake_bucket.logs"), pending(token));
    // An intent whose create never reached the cloud.
    state.resources.insert(
        addr("fake_bucket.never"),
        pending("lineage/fake_bucket.never/2"),
    );

    let refreshed = refresh(&state, &cloud.providers, &refresh_opts())
        .await
        .unwrap();
    assert_eq!(refreshed.adopted, [addr("fake_bucket.logs")]);
    assert!(refreshed.gone.is_empty());
    let adopted = &refreshed.state.resources[&addr("fake_bucket.logs")];
    assert_eq!(adopted.status, ResourceStatus::Created);
    assert_eq!(adopted.id.as_deref(), Some(made.id.as_str()));
    assert!(
        !refreshed
            .state
            .resources
            .contains_key(&addr("fake_bucket.never"))
    );

    // Nothing is left to create: the next plan is a no-op and apply sends no second create.
    let mut noop = on_existing(&refreshed.state, "fake_bucket.logs", Action::NoOp, None);
    noop.after = noop
        .before
        .as_deref()
        .map(|v| Expr::literal(v.clone(), span()));
    let (outcome, _) = cloud
        .apply(&plan(vec![noop]), refreshed.state, &NoHooks, 10)
        .await;
    assert!(outcome.is_success());
    assert_eq!(cloud.data().calls("create", "fake_bucket"), 1);
}

#[tokio::test]
async fn a_create_that_lands_after_the_lookup_is_adopted_not_made_twice() {
    // The last run was killed with its create request on the wire, a moment ago: the cloud
    // makes the bucket only after this run's first lookup.
    let cloud = Cloud::new(serde_json::json!({}));
    let token = "lineage/fake_bucket.logs/1";
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let recorded = |token: &str, since: u64, bucket: &str| ResourceState {
        resource_type: "fake_bucket".into(),
        mode: ResourceMode::Managed,
        provider: "fake".into(),
        status: ResourceStatus::Pending {
            token: token.into(),
            since: Some(since),
        },
        id: None,
        attributes: Value::from_json(&serde_json::json!({ "bucket": bucket })).into(),
        dependencies: Vec::new(),
    };
    let mut state = State::new("dev");
    state
        .resources
        .insert(addr("fake_bucket.logs"), recorded(token, now, "team-logs"));
    let late = {
        let provider = cloud.provider().clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            provider
                .create(CreateRequest {
                    address: "fake_bucket.logs".into(),
                    resource_type: "fake_bucket".into(),
                    config: Value::from_json(&serde_json::json!({ "bucket": "team-logs" })),
                    token: token.into(),
                    timeout: None,
                })
                .await
                .unwrap()
        })
    };
    let refreshed = refresh(&state, &cloud.providers, &refresh_opts())
        .await
        .unwrap();
    let made = late.await.unwrap();
    assert_eq!(refreshed.adopted, [addr("fake_bucket.logs")]);
    let adopted = &refreshed.state.resources[&addr("fake_bucket.logs")];
    assert_eq!(adopted.status, ResourceStatus::Created);
    assert_eq!(adopted.id.as_deref(), Some(made.id.as_str()));

    // An old intent that finds nothing is forgotten at once: no wait for a request long gone.
    let mut old = State::new("dev");
    old.resources.insert(
        addr("fake_bucket.gone"),
        recorded("lineage/fake_bucket.gone/2", now - 3600, "gone"),
    );
    let started = std::time::Instant::now();
    let refreshed = refresh(&old, &cloud.providers, &refresh_opts())
        .await
        .unwrap();
    assert!(refreshed.state.resources.is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

fn refresh_opts() -> RefreshOptions {
    RefreshOptions {
        parallelism: 4,
        retry: quick_retries(),
        settle: Duration::from_secs(2),
    }
}

#[tokio::test]
async fn refresh_reads_fifty_resources_of_three_types_in_three_calls() {
    let cloud = Cloud::new(serde_json::json!({
        // The first read of buckets is throttled: still one successful call per type.
        "failures": [{ "match": "fake_bucket", "operation": "read", "error": "throttled", "times": 1 }]
    }));
    let mut changes = Vec::new();
    for i in 0..20 {
        changes.push(create(&format!("fake_alarm.a{i}"), alarm(i), &[]));
        changes.push(create(
            &format!("fake_bucket.b{i}"),
            serde_json::json!({ "bucket": format!("b{i}") }),
            &[],
        ));
    }
    for i in 0..10 {
        let mut config = Value::from_json(
            &serde_json::json!({ "engine": "postgres", "instance_class": "small", "username": "app" }),
        );
        if let Value::Map(map) = &mut config {
            map.insert(
                "password".into(),
                Value::Sensitive(Box::new(Value::string("hunter2"))),
            );
        }
        changes.push(change(
            &format!("fake_database.d{i}"),
            Action::Create,
            Some(Expr::literal(config, span())),
            &[],
        ));
    }
    let (applied, _) = cloud
        .apply(&plan(changes), State::new("dev"), &NoHooks, 50)
        .await;
    assert!(applied.is_success(), "{:?}", applied.failed);
    let sealed_password = applied.state.resources[&addr("fake_database.d0")]
        .attributes
        .get("password")
        .cloned();
    assert!(
        sealed_password
            .as_ref()
            .and_then(|p| p.as_str())
            .is_some_and(|p| p.starts_with("salted-sha256:"))
    );

    // Someone deletes a bucket by hand.
    let b3 = applied.state.resources[&addr("fake_bucket.b3")]
        .id
        .clone()
        .unwrap();
    cloud
        .provider()
        .delete(DeleteRequest {
            address: "fake_bucket.b3".into(),
            resource_type: "fake_bucket".into(),
            id: b3,
            prior: Value::Null,
            timeout: None,
        })
        .await
        .unwrap();
    let reads_before = cloud.data().total_calls("read");

    let refreshed = refresh(&applied.state, &cloud.providers, &refresh_opts())
        .await
        .unwrap();
    let data = cloud.data();
    assert_eq!(
        data.total_calls("read") - reads_before,
        4,
        "3 types, one throttled read retried"
    );
    assert_eq!(data.calls("read", "fake_alarm"), 1);
    assert_eq!(data.calls("read", "fake_database"), 1);
    assert_eq!(refreshed.gone, [addr("fake_bucket.b3")]);
    assert_eq!(refreshed.state.resources.len(), 49);
    assert_eq!(refreshed.live.len(), 49);
    // The cloud never returns the password: state keeps its sealed value, and so does `live`.
    let d0 = addr("fake_database.d0");
    assert_eq!(
        refreshed.state.resources[&d0]
            .attributes
            .get("password")
            .cloned(),
        sealed_password
    );
    assert_eq!(
        refreshed.live[&d0].get("password").cloned(),
        sealed_password
    );
    assert_eq!(
        refreshed.live[&d0].get("port"),
        Some(&Value::Number(5432.0))
    );
}

#[tokio::test]

async fn a_subnet_gets_the_id_of_the_network_created_in_the_same_apply() {
    let cloud = Cloud::new(serde_json::json!({}));
    let network_id = Expr::new(
        ExprKind::ResourceAttr {
            addr: "fake_network.vpc".into(),
            path: vec![PathStep::Key("id".into())],
        },
        span(),
    );
    let subnet_after = Expr::new(
        ExprKind::Map(vec![
            ("network_id".into(), network_id),
            ("cidr_block".into(), lit(serde_json::json!("10.0.1.0/24"))),
        ]),
        span(),
    );
    let plan = plan(vec![
        create(
            "fake_network.vpc",
            serde_json::json!({ "cidr_block": "10.0.0.0/16" }),
            &[],
        ),
        change(
            "fake_subnet.a",
            Action::Create,
            Some(subnet_after),
            &["fake_network.vpc"],
        ),
    ]);
    let (outcome, _) = cloud.apply(&plan, State::new("dev"), &NoHooks, 10).await;
    assert!(outcome.is_success(), "{:?}", outcome.failed);
    let net = outcome.state.resources[&addr("fake_network.vpc")]
        .id
        .clone()
        .unwrap();
    let subnet = &outcome.state.resources[&addr("fake_subnet.a")];
    assert_eq!(
        subnet.attributes.get("network_id").and_then(Value::as_str),
        Some(net.as_str())
    );
}

#[tokio::test]
async fn an_unresolved_reference_fails_only_that_change() {
    // With the stub evaluator (or a plan whose dependency list is incomplete) the residual stays.
    let cloud = Cloud::new(serde_json::json!({}));
    let after = Expr::new(
        ExprKind::Map(vec![(
            "metric".into(),
            Expr::new(
                ExprKind::ResourceAttr {
                    addr: "fake_bucket.missing".into(),
                    path: vec![PathStep::Key("arn".into())],
                },
                span(),
            ),
        )]),
        span(),
    );
    let plan = plan(vec![
        change("fake_alarm.x", Action::Create, Some(after), &[]),
        create("fake_alarm.y", alarm(1), &[]),
    ]);
    let (outcome, _) = cloud.apply(&plan, State::new("dev"), &NoHooks, 10).await;
    assert_eq!(outcome.failed.len(), 1);
    assert_eq!(outcome.failed[0].error.kind, ErrorKind::Invalid);
    assert!(
        outcome.failed[0]
            .error
            .message
            .starts_with("cannot evaluate the configuration of fake_alarm.x:"),
        "{}",
        outcome.failed[0].error.message
    );
    assert!(outcome.state.resources.contains_key(&addr("fake_alarm.y")));
}
