//! Apply: turns a plan into an operation graph and walks it concurrently.
//!
//! The walk keeps at most `parallelism` operations in flight and starts, among the ready ones,
//! the one with the longest chain of work still behind it, so long poles (databases, caches)
//! start as early as their dependencies allow. All operations run as futures polled by the
//! apply task itself: they borrow the store and the hooks, and provider calls are I/O bound.
//!
//! State is journaled through one mutex: a create records a `Pending` intent before the cloud
//! call and the result after it, and every operation ends with a durable write. A write holds
//! only the instances changed since the last one when the store keeps a journal (the local
//! backend), so its cost follows the change, not the state; the whole state is saved when the
//! apply ends. A failed operation's dependents are skipped; independent branches go on.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex as SyncMutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};
use std::time::Instant;

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{Mutex, MutexGuard};
use tracing::{debug, info, warn};

use crate::addr::{ResourceAddr, ResourceMode};
use crate::plan::{Action, Plan, ResourceChange};
use crate::providers::{
    CreateRequest, CreateResponse, DataRequest, DeleteRequest, ErrorKind, ProviderError,
    ProviderSet, ReadItem, ReadRequest, ReadResult, UpdateRequest,
};
use crate::spec::diagnostic::Diagnostic;
use crate::spec::expr::{Expr, ExprKind, Scope, eval};
use crate::spec::span::Span;
use crate::state::{
    Appended, DeposedResource, ResourceState, ResourceStatus, State, StateChanges, StateStore,
    holds_digest, seal,
};
use crate::value::Value;

use super::retry::retrying;
use super::{ApplyHooks, ApplyOptions, ApplyOutcome, Cancel, Op, OpFailure, OpReport};

/// Executes `plan` against `state`, saving through `store` after every operation. Always
/// returns the resulting state, whatever failed.
pub async fn apply(
    plan: &Plan,
    state: State,
    store: &dyn StateStore,
    providers: &ProviderSet,
    opts: &ApplyOptions,
    hooks: &dyn ApplyHooks,
    cancel: &Cancel,
) -> ApplyOutcome {
    let started = Instant::now();
    let graph = OpGraph::build(plan, &state);
    let run = Run {
        plan,
        store,
        providers,
        opts,
        hooks,
        cancel,
        salt: state.lineage.clone(),
        journal: Mutex::new(state),
        changes_made: AtomicU64::new(0),
        changes_durable: AtomicU64::new(0),
        dirty: SyncMutex::new(BTreeSet::new()),
        journaled: AtomicBool::new(false),
        writer: Mutex::new(()),
        known: SyncMutex::new(HashMap::new()),
        untouched: plan
            .changes
            .iter()
            .filter(|c| c.is_noop())
            .filter_map(|c| Some((c.address.to_string(), c.before.clone()?)))
            .collect(),
    };
    let mut walk = walk(&run, &graph).await;
    if walk.halted.is_none() {
        let mut state = run.journal.lock().await;
        // The whole state is written once at the end: it folds in the journal. A failed final
        // write is reported against the last change: outputs have no address.
        let outputs_changed = record_outputs(plan, &run, &mut state);
        if (outputs_changed || run.journaled.load(AtomicOrdering::SeqCst))
            && let Err(error) = run.save(&mut state).await
            && let Some(last) = plan.changes.last()
        {
            walk.failed.push(OpFailure {
                addr: last.address.clone(),
                op: Op::Update,
                error,
            });
        }
    }
    ApplyOutcome {
        state: run.journal.into_inner(),
        completed: walk.completed,
        failed: walk.failed,
        skipped: walk.skipped,
        cancelled: cancel.is_cancelled(),
        elapsed: started.elapsed(),
    }
}

/// One operation of the graph.
#[derive(Debug)]
struct Node {
    change: usize,
    op: Op,
    /// Deletes the object a `create_before_destroy` replacement moved to `state.deposed`.
    deposed: bool,
    dependencies: usize,
    dependents: Vec<usize>,
    /// The longest chain of weights from this node through its dependents.
    priority: f64,
}

struct OpGraph<'p> {
    plan: &'p Plan,
    nodes: Vec<Node>,
}

impl<'p> OpGraph<'p> {
    fn build(plan: &'p Plan, state: &State) -> OpGraph<'p> {
        let mut nodes = Vec::new();
        let mut edges: Vec<(usize, usize)> = Vec::new();
        let node = |nodes: &mut Vec<Node>, change: usize, op: Op, deposed: bool| {
            nodes.push(Node {
                change,
                op,
                deposed,
                dependencies: 0,
                dependents: Vec::new(),
                priority: 0.0,
            });
            nodes.len() - 1
        };
        // Nodes that make an address's new attributes available, and nodes that delete it.
        let mut producers: HashMap<&ResourceAddr, Vec<usize>> = HashMap::new();
        let mut deleters: HashMap<&ResourceAddr, Vec<usize>> = HashMap::new();
        for (i, change) in plan.changes.iter().enumerate() {
            let addr = &change.address;
            match change.action {
                Action::NoOp => {}
                Action::Create | Action::Update | Action::Read => {
                    let op = match change.action {
                        Action::Create => Op::Create,
                        Action::Update => Op::Update,
                        _ => Op::Read,
                    };
                    let n = node(&mut nodes, i, op, false);
                    producers.entry(addr).or_default().push(n);
                }
                Action::Delete => {
                    let n = node(&mut nodes, i, Op::Delete, false);
                    deleters.entry(addr).or_default().push(n);
                }
                Action::DeleteThenCreate => {
                    let d = node(&mut nodes, i, Op::Delete, false);
                    let c = node(&mut nodes, i, Op::Create, false);
                    edges.push((d, c));
                    deleters.entry(addr).or_default().push(d);
                    producers.entry(addr).or_default().push(c);
                }
                Action::CreateThenDelete => {
                    let c = node(&mut nodes, i, Op::Create, false);
                    let d = node(&mut nodes, i, Op::Delete, true);
                    edges.push((c, d));
                    producers.entry(addr).or_default().push(c);
                    deleters.entry(addr).or_default().push(d);
                }
            }
        }
        for (n, node) in nodes.iter().enumerate() {
            let change = &plan.changes[node.change];
            if node.op == Op::Delete {
                // Whatever depended on the deleted object is deleted before it.
                for dependency in deleted_object_dependencies(change, node.deposed, state) {
                    for &d in deleters.get(dependency).into_iter().flatten() {
                        edges.push((n, d));
                    }
                }
            } else {
                for dependency in &change.depends_on {
                    for &p in producers.get(dependency).into_iter().flatten() {
                        edges.push((p, n));
                    }
                    // The superseded object stays until everything that used it has moved on.
                    for &d in deleters.get(dependency).into_iter().flatten() {
                        if nodes[d].deposed {
                            edges.push((n, d));
                        }
                    }
                }
            }
        }
        let mut seen = HashSet::new();
        for (from, to) in edges {
            if from != to && seen.insert((from, to)) {
                nodes[from].dependents.push(to);
                nodes[to].dependencies += 1;
            }
        }
        let mut graph = OpGraph { plan, nodes };
        graph.compute_priorities();
        graph
    }

    /// Longest remaining path, by weight, computed in reverse topological order.
    fn compute_priorities(&mut self) {
        let mut remaining: Vec<usize> = self.nodes.iter().map(|n| n.dependencies).collect();
        let mut order: Vec<usize> = (0..self.nodes.len())
            .filter(|&n| remaining[n] == 0)
            .collect();
        let mut i = 0;
        while i < order.len() {
            for &d in &self.nodes[order[i]].dependents {
                remaining[d] -= 1;
                if remaining[d] == 0 {
                    order.push(d);
                }
            }
            i += 1;
        }
        for &n in order.iter().rev() {
            let behind = self.nodes[n]
                .dependents
                .iter()
                .map(|&d| self.nodes[d].priority)
                .fold(0.0, f64::max);
            self.nodes[n].priority =
                self.plan.changes[self.nodes[n].change].weight.max(0.0) + behind;
        }
    }

    fn addr(&self, n: usize) -> &ResourceAddr {
        &self.plan.changes[self.nodes[n].change].address
    }
}

/// What the object a delete removes depended on when it was applied.
fn deleted_object_dependencies<'a>(
    change: &'a ResourceChange,
    deposed: bool,
    state: &'a State,
) -> Vec<&'a ResourceAddr> {
    let mut deps: Vec<&ResourceAddr> = change.depends_on.iter().collect();
    let in_deposed = state
        .deposed
        .iter()
        .filter(|d| d.address == change.address && Some(&d.id) == change.id.as_ref());
    for d in in_deposed {
        deps.extend(&d.dependencies);
    }
    if let Some(current) = state.resources.get(&change.address)
        && (deposed || change.id.is_none() || current.id == change.id)
    {
        deps.extend(&current.dependencies);
    }
    deps
}

/// Ready operations, most work behind them first.
#[derive(PartialEq)]
struct Ready {
    priority: f64,
    node: usize,
}

impl Eq for Ready {}

impl Ord for Ready {
    fn cmp(&self, other: &Ready) -> Ordering {
        self.priority
            .total_cmp(&other.priority)
            .then_with(|| other.node.cmp(&self.node))
    }
}

impl PartialOrd for Ready {
    fn partial_cmp(&self, other: &Ready) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Everything one run shares between its operations.
struct Run<'a> {
    plan: &'a Plan,
    store: &'a dyn StateStore,
    providers: &'a ProviderSet,
    opts: &'a ApplyOptions,
    hooks: &'a dyn ApplyHooks,
    cancel: &'a Cancel,
    /// The state's lineage, which salts the digests of secrets.
    salt: String,
    /// The state as this run's operations have changed it.
    journal: Mutex<State>,
    /// Group commit: every change to `journal` takes a generation number; a write records every
    /// change made before it started, so operations finishing together share one write instead
    /// of queueing one each. An operation still returns only once a write holding its change
    /// is durable.
    changes_made: AtomicU64,
    changes_durable: AtomicU64,
    /// Instances changed since the last durable write (for a journal line).
    dirty: SyncMutex<BTreeSet<ResourceAddr>>,
    /// Whether some write went to the store's journal, so the end of the apply writes the whole
    /// state.
    journaled: AtomicBool,
    /// Only one state write at a time.
    writer: Mutex<()>,
    /// Unsealed attributes returned by this run's provider calls, by address.
    known: SyncMutex<HashMap<String, Value>>,
    /// Attributes of instances this apply does not touch, from the plan.
    untouched: HashMap<String, Arc<Value>>,
}

/// How one operation ended.
struct Finished {
    report: Option<OpReport>,
    error: Option<ProviderError>,
    /// A state write failed: no new operation may start.
    halt: bool,
}

#[derive(Default)]
struct WalkResult {
    completed: Vec<OpReport>,
    failed: Vec<OpFailure>,
    skipped: Vec<(ResourceAddr, Op, String)>,
    halted: Option<String>,
}

type OpFuture<'a> = Pin<Box<dyn Future<Output = (usize, Finished)> + 'a>>;

#[derive(Clone, Copy, PartialEq)]
enum Status {
    Waiting,
    Running,
    Finished,
}

async fn walk<'a>(run: &'a Run<'a>, graph: &'a OpGraph<'a>) -> WalkResult {
    let parallelism = run.opts.parallelism.max(1);
    let mut result = WalkResult::default();
    let mut waiting_on: Vec<usize> = graph.nodes.iter().map(|n| n.dependencies).collect();
    let mut status = vec![Status::Waiting; graph.nodes.len()];
    let mut ready: BinaryHeap<Ready> = graph
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.dependencies == 0)
        .map(|(node, n)| Ready {
            priority: n.priority,
            node,
        })
        .collect();
    // Only the operations that woke are polled: with hundreds in flight, polling every one on
    // each wake made an unbounded apply quadratic in its width.
    let mut in_flight: FuturesUnordered<OpFuture<'a>> = FuturesUnordered::new();

    loop {
        while in_flight.len() < parallelism && result.halted.is_none() && !run.cancel.is_cancelled()
        {
            let Some(next) = ready.pop() else { break };
            status[next.node] = Status::Running;
            in_flight.push(Box::pin(async move {
                (next.node, run.execute(graph, next.node).await)
            }));
        }
        if in_flight.is_empty() {
            break;
        }
        let (n, finished) = tokio::select! {
            Some(done) = in_flight.next() => done,
            _ = run.cancel.cancelled(), if !run.cancel.is_cancelled() => {
                info!("apply cancelled: waiting for the operations in flight to finish");
                continue;
            }
        };
        status[n] = Status::Finished;
        if finished.halt {
            result.halted = Some("state could not be saved".to_string());
        }
        if let Some(report) = finished.report {
            result.completed.push(report);
        }
        match finished.error {
            None => {
                for &d in &graph.nodes[n].dependents {
                    waiting_on[d] -= 1;
                    if waiting_on[d] == 0 && status[d] == Status::Waiting {
                        ready.push(Ready {
                            priority: graph.nodes[d].priority,
                            node: d,
                        });
                    }
                }
            }
            Some(error) => {
                let failed_addr = graph.addr(n).clone();
                result.failed.push(OpFailure {
                    addr: failed_addr.clone(),
                    op: graph.nodes[n].op,
                    error,
                });
                // Everything downstream is skipped, with the root cause named.
                let mut stack = graph.nodes[n].dependents.clone();
                while let Some(d) = stack.pop() {
                    if status[d] != Status::Waiting {
                        continue;
                    }
                    status[d] = Status::Finished;
                    let why = if graph.addr(d) == &failed_addr {
                        format!("its {} failed", graph.nodes[n].op)
                    } else {
                        format!("dependency {failed_addr} failed")
                    };
                    result
                        .skipped
                        .push((graph.addr(d).clone(), graph.nodes[d].op, why));
                    stack.extend(&graph.nodes[d].dependents);
                }
            }
        }
    }

    let why = match &result.halted {
        Some(why) => why.clone(),
        None if run.cancel.is_cancelled() => "apply was cancelled".to_string(),
        None => "it waits on a dependency cycle".to_string(),
    };
    for (n, s) in status.iter().enumerate() {
        if *s == Status::Waiting {
            result
                .skipped
                .push((graph.addr(n).clone(), graph.nodes[n].op, why.clone()));
        }
    }
    result
}

impl Run<'_> {
    async fn execute(&self, graph: &OpGraph<'_>, n: usize) -> Finished {
        let node = &graph.nodes[n];
        let change = &self.plan.changes[node.change];
        let addr = &change.address;
        let op = node.op;
        debug!(%addr, %op, "starting");
        self.hooks.on_start(addr, op);
        let started = Instant::now();
        let result = match op {
            Op::Create => self.create(change).await,
            Op::Update => self.update(change).await,
            Op::Delete => self.delete(change, node.deposed).await,
            Op::Read => self.read(change).await,
        };
        let elapsed = started.elapsed();
        match result {
            Ok(id) => {
                debug!(%addr, %op, ?elapsed, "done");
                self.hooks.on_done(addr, op, elapsed);
                Finished {
                    report: Some(OpReport {
                        addr: addr.clone(),
                        op,
                        id,
                        elapsed,
                    }),
                    error: None,
                    halt: false,
                }
            }
            Err(OpError::Provider(error)) => {
                warn!(%addr, %op, %error, "failed");
                self.hooks.on_error(addr, op, &error);
                Finished {
                    report: None,
                    error: Some(error),
                    halt: false,
                }
            }
            Err(OpError::Save { done, error }) => {
                warn!(%addr, %op, %error, "state write failed");
                self.hooks.on_error(addr, op, &error);
                Finished {
                    report: done.then(|| OpReport {
                        addr: addr.clone(),
                        op,
                        id: None,
                        elapsed,
                    }),
                    error: Some(error),
                    halt: true,
                }
            }
        }
    }

    async fn save(&self, state: &mut State) -> Result<(), ProviderError> {
        self.store.save(state).await.map_err(|e| {
            ProviderError::new(
                ErrorKind::Other,
                format!("could not save state to {}: {e}", self.store.describe()),
            )
        })
    }

    /// Makes the change just made to `addr` in `state` durable, reporting a failure as a
    /// state-write failure after (`done`) or before the provider call.
    async fn journal(
        &self,
        state: MutexGuard<'_, State>,
        addr: &ResourceAddr,
        done: bool,
    ) -> Result<(), OpError> {
        self.dirty
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(addr.clone());
        let mine = self.changes_made.fetch_add(1, AtomicOrdering::SeqCst) + 1;
        drop(state);
        let _writer = self.writer.lock().await;
        if self.changes_durable.load(AtomicOrdering::SeqCst) >= mine {
            return Ok(()); // a write that started after this change already recorded it
        }
        let (changes, covered) = {
            let state = self.journal.lock().await;
            let dirty = std::mem::take(&mut *self.dirty.lock().unwrap_or_else(|p| p.into_inner()));
            (
                StateChanges::of(&state, &dirty),
                self.changes_made.load(AtomicOrdering::SeqCst),
            )
        };
        let save_error = |error| OpError::Save { done, error };
        let appended = self.store.append(&changes).await.map_err(|e| {
            save_error(ProviderError::new(
                ErrorKind::Other,
                format!("could not save state to {}: {e}", self.store.describe()),
            ))
        })?;
        let covered = match appended {
            Appended::Journaled { compact: false } => {
                self.journaled.store(true, AtomicOrdering::SeqCst);
                self.journal.lock().await.serial = changes.serial;
                covered
            }
            Appended::Journaled { compact: true } | Appended::Unsupported => {
                // The whole state: everything changed so far, this write's changes included.
                let (mut snapshot, covered) = {
                    let mut state = self.journal.lock().await;
                    if matches!(appended, Appended::Journaled { .. }) {
                        state.serial = changes.serial;
                    }
                    (
                        state.clone(),
                        self.changes_made.load(AtomicOrdering::SeqCst),
                    )
                };
                self.save(&mut snapshot).await.map_err(save_error)?;
                self.journal.lock().await.serial = snapshot.serial;
                self.journaled.store(false, AtomicOrdering::SeqCst);
                covered
            }
        };
        self.changes_durable.store(covered, AtomicOrdering::SeqCst);
        Ok(())
    }

    async fn call<T, Fut>(
        &self,
        change: &ResourceChange,
        op: Op,
        call: impl FnMut() -> Fut,
    ) -> Result<T, ProviderError>
    where
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        retrying(
            &self.opts.retry,
            self.cancel,
            call,
            |retry, delay, error| {
                info!(addr = %change.address, %op, retry, ?delay, %error, "throttled, retrying");
                self.hooks
                    .on_retry(&change.address, op, retry, delay, error);
            },
        )
        .await
    }

    async fn create(&self, change: &ResourceChange) -> Result<Option<String>, OpError> {
        let config = self.config(change)?;
        refuse_digests(change, &digest_only(&config))?;
        let provider = self.providers.get(&change.provider)?;
        let addr = &change.address;
        let mut deposed_here = false;
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs());
        let token = {
            let mut state = self.journal.lock().await;
            let token = format!("{}/{addr}/{:016x}", state.lineage, rand::random::<u64>());
            if change.action == Action::CreateThenDelete
                && let Some(old) = state.resources.remove(addr)
            {
                match old.id {
                    Some(id) => {
                        state.deposed.push(DeposedResource {
                            address: addr.clone(),
                            resource_type: old.resource_type,
                            provider: old.provider,
                            id,
                            attributes: Arc::unwrap_or_clone(old.attributes),
                            dependencies: old.dependencies,
                        });
                        deposed_here = true;
                    }
                    None => {
                        state.resources.insert(addr.clone(), old);
                    }
                }
            }
            state.resources.insert(
                addr.clone(),
                ResourceState {
                    resource_type: change.resource_type.clone(),
                    mode: change.mode,
                    provider: change.provider.clone(),
                    status: ResourceStatus::Pending {
                        token: token.clone(),
                        since,
                    },
                    id: None,
                    attributes: Arc::new(seal(&config, &self.salt)),
                    dependencies: change.depends_on.clone(),
                },
            );
            self.journal(state, addr, false).await?;
            token
        };
        let (config_ref, token_ref) = (&config, &token);
        let attempts = std::cell::Cell::new(0u32);
        let created = self
            .call(change, Op::Create, || {
                let retry = attempts.replace(attempts.get() + 1) > 0;
                async move {
                    // A create throttled in a later step (tagging, a follow-up call) may have
                    // made the object already: look for it by its token before making another.
                    if retry && let Some(found) = self.find_created(change, token_ref, since, config_ref).await? {
                        info!(%addr, id = %found.id, "found the object a throttled create had made");
                        return Ok(CreateResponse {
                            id: found.id,
                            attributes: found.attributes,
                        });
                    }
                    provider
                        .create(CreateRequest {
                            address: addr.to_string(),
                            resource_type: change.resource_type.clone(),
                            config: config_ref.clone(),
                            token: token_ref.clone(),
                            timeout: change.timeouts.create,
                        })
                        .await
                }
            })
            .await;
        let mut state = self.journal.lock().await;
        match created {
            Ok(created) => {
                let attributes = with_config(&config, created.attributes);
                let sealed = seal(&attributes, &self.salt);
                self.remember(addr, attributes);
                state.resources.insert(
                    addr.clone(),
                    ResourceState {
                        resource_type: change.resource_type.clone(),
                        mode: change.mode,
                        provider: change.provider.clone(),
                        status: ResourceStatus::Created,
                        id: Some(created.id.clone()),
                        attributes: Arc::new(sealed),
                        dependencies: change.depends_on.clone(),
                    },
                );
                self.journal(state, addr, true).await?;
                Ok(Some(created.id))
            }
            Err(error) => {
                // A timeout or an unexplained failure may have created the object anyway: the
                // intent stays so the next refresh finds it by token. A clear rejection did not.
                if !matches!(error.kind, ErrorKind::Timeout | ErrorKind::Other) {
                    state.resources.remove(addr);
                    if deposed_here
                        && let Some(pos) = state.deposed.iter().rposition(|d| &d.address == addr)
                    {
                        let old = state.deposed.remove(pos);
                        state.resources.insert(
                            addr.clone(),
                            ResourceState {
                                resource_type: old.resource_type,
                                mode: change.mode,
                                provider: old.provider,
                                status: ResourceStatus::Created,
                                id: Some(old.id),
                                attributes: Arc::new(old.attributes),
                                dependencies: old.dependencies,
                            },
                        );
                    }
                }
                self.journal(state, addr, false).await?;
                Err(OpError::Provider(error))
            }
        }
    }

    /// The object an earlier attempt of this create made, found by its token as refresh finds
    /// an interrupted create's.
    async fn find_created(
        &self,
        change: &ResourceChange,
        token: &str,
        since: Option<u64>,
        config: &Value,
    ) -> Result<Option<ReadResult>, ProviderError> {
        let provider = self.providers.get(&change.provider)?;
        let address = change.address.to_string();
        let read = provider
            .read(ReadRequest {
                resource_type: change.resource_type.clone(),
                items: vec![ReadItem {
                    address: address.clone(),
                    id: None,
                    token: Some(token.to_string()),
                    since,
                    prior: config.clone(),
                }],
            })
            .await?;
        Ok(read
            .found
            .into_iter()
            .find(|(a, _)| *a == address)
            .map(|(_, r)| r))
    }

    async fn update(&self, change: &ResourceChange) -> Result<Option<String>, OpError> {
        let config = self.config(change)?;
        let provider = self.providers.get(&change.provider)?;
        let addr = &change.address;
        let (id, prior) = {
            let state = self.journal.lock().await;
            let current = state.resources.get(addr);
            let id = change
                .id
                .clone()
                .or_else(|| current.and_then(|r| r.id.clone()))
                .ok_or_else(|| {
                    ProviderError::new(
                        ErrorKind::Other,
                        format!("cannot update {addr}: neither the plan nor the state has its id"),
                    )
                })?;
            let prior = change
                .before
                .clone()
                .or_else(|| current.map(|r| r.attributes.clone()))
                .map(Arc::unwrap_or_clone)
                .unwrap_or(Value::Null);
            (id, prior)
        };
        let changed = changed_attributes(change, &prior, &config);
        // An unchanged secret known only as a digest is not sent: the provider keeps what it has.
        let digests = digest_only(&config);
        refuse_digests(
            change,
            &digests
                .iter()
                .filter(|d| changed.contains(d))
                .cloned()
                .collect::<Vec<_>>(),
        )?;
        let mut sent = config.clone();
        if let Value::Map(map) = &mut sent {
            map.retain(|k, _| !digests.contains(k));
        }
        let updated = self
            .call(change, Op::Update, || {
                provider.update(UpdateRequest {
                    address: addr.to_string(),
                    resource_type: change.resource_type.clone(),
                    id: id.clone(),
                    prior: prior.clone(),
                    config: sent.clone(),
                    changed: changed.clone(),
                    timeout: change.timeouts.update,
                })
            })
            .await?;
        let attributes = with_config(&config, updated.attributes);
        let sealed = seal(&attributes, &self.salt);
        self.remember(addr, attributes);
        let mut state = self.journal.lock().await;
        state.resources.insert(
            addr.clone(),
            ResourceState {
                resource_type: change.resource_type.clone(),
                mode: change.mode,
                provider: change.provider.clone(),
                status: ResourceStatus::Created,
                id: Some(id.clone()),
                attributes: Arc::new(sealed),
                dependencies: change.depends_on.clone(),
            },
        );
        self.journal(state, addr, true).await?;
        Ok(Some(id))
    }

    async fn delete(
        &self,
        change: &ResourceChange,
        deposed: bool,
    ) -> Result<Option<String>, OpError> {
        let provider = self.providers.get(&change.provider)?;
        let addr = &change.address;
        let (target, prior) = {
            let state = self.journal.lock().await;
            let current = state
                .resources
                .get(addr)
                .filter(|r| !deposed && (change.id.is_none() || r.id == change.id));
            match current {
                Some(r) => (
                    r.id.clone().map(DeleteTarget::Current),
                    (*r.attributes).clone(),
                ),
                None => {
                    let old = state.deposed.iter().find(|d| {
                        &d.address == addr
                            && (change.id.is_none() || Some(&d.id) == change.id.as_ref())
                    });
                    match old {
                        Some(d) => (
                            Some(DeleteTarget::Deposed(d.id.clone())),
                            d.attributes.clone(),
                        ),
                        // Not in state: delete what the plan saw, if it named an id.
                        None => (change.id.clone().map(DeleteTarget::Unrecorded), Value::Null),
                    }
                }
            }
        };
        let Some(target) = target else {
            return Ok(None);
        };
        let id = target.id().to_string();
        let prior = change.before.as_deref().cloned().unwrap_or(prior);
        let deleted = self
            .call(change, Op::Delete, || {
                provider.delete(DeleteRequest {
                    address: addr.to_string(),
                    resource_type: change.resource_type.clone(),
                    id: id.clone(),
                    prior: prior.clone(),
                    timeout: change.timeouts.delete,
                })
            })
            .await;
        match deleted {
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::NotFound => {
                debug!(%addr, id, "already gone");
            }
            Err(e) => return Err(OpError::Provider(e)),
        }
        let mut state = self.journal.lock().await;
        match target {
            DeleteTarget::Current(_) => {
                if state
                    .resources
                    .get(addr)
                    .is_some_and(|r| r.id.as_deref() == Some(&id))
                {
                    state.resources.remove(addr);
                }
            }
            DeleteTarget::Deposed(_) | DeleteTarget::Unrecorded(_) => {
                state
                    .deposed
                    .retain(|d| !(&d.address == addr && d.id == id));
            }
        }
        self.journal(state, addr, true).await?;
        Ok(Some(id))
    }

    async fn read(&self, change: &ResourceChange) -> Result<Option<String>, OpError> {
        let config = self.config(change)?;
        let provider = self.providers.get(&change.provider)?;
        let addr = &change.address;
        let read = self
            .call(change, Op::Read, || {
                provider.read_data(DataRequest {
                    address: addr.to_string(),
                    resource_type: change.resource_type.clone(),
                    config: config.clone(),
                })
            })
            .await?;
        let attributes = with_config(&config, read.attributes);
        let id = attributes
            .get("id")
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| addr.to_string());
        let sealed = seal(&attributes, &self.salt);
        self.remember(addr, attributes);
        let mut state = self.journal.lock().await;
        state.resources.insert(
            addr.clone(),
            ResourceState {
                resource_type: change.resource_type.clone(),
                mode: ResourceMode::Data,
                provider: change.provider.clone(),
                status: ResourceStatus::Created,
                id: Some(id.clone()),
                attributes: Arc::new(sealed),
                dependencies: change.depends_on.clone(),
            },
        );
        self.journal(state, addr, true).await?;
        Ok(Some(id))
    }

    fn remember(&self, addr: &ResourceAddr, attributes: Value) {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(addr.to_string(), attributes);
    }

    /// The change's `after`, evaluated now that its dependencies exist, unknowns stripped.
    fn config(&self, change: &ResourceChange) -> Result<Value, ProviderError> {
        let addr = &change.address;
        let Some(after) = &change.after else {
            return Ok(Value::Map(BTreeMap::new()));
        };
        let value = self.evaluate(after).map_err(|e| {
            ProviderError::new(
                ErrorKind::Invalid,
                format!("cannot evaluate the configuration of {addr}: {e}"),
            )
        })?;
        match strip_unknown(value) {
            Some(Value::Map(map)) => Ok(Value::Map(map)),
            None | Some(Value::Null) => Ok(Value::Map(BTreeMap::new())),
            Some(other) => Err(ProviderError::new(
                ErrorKind::Invalid,
                format!(
                    "the configuration of {addr} must be a map of attributes, not a {}",
                    other.type_name()
                ),
            )),
        }
    }

    /// Finishes a plan expression: it must come out as a literal.
    fn evaluate(&self, expr: &Expr) -> Result<Value, String> {
        let scope = ApplyScope { run: self };
        let evaluated = eval(expr, &scope).map_err(|d| d.to_string())?;
        match evaluated.kind {
            ExprKind::Literal(value) => Ok(value),
            _ => {
                let mut missing = Vec::new();
                unresolved(&evaluated, &mut missing);
                Err(format!(
                    "it still depends on values not known yet ({}); were those instances applied?",
                    if missing.is_empty() {
                        "unresolved expression".to_string()
                    } else {
                        missing.join(", ")
                    }
                ))
            }
        }
    }
}

/// What an operation's failure was.
enum OpError {
    Provider(ProviderError),
    /// The state write failed; `done` says the cloud operation itself had completed.
    Save {
        done: bool,
        error: ProviderError,
    },
}

impl From<ProviderError> for OpError {
    fn from(error: ProviderError) -> OpError {
        OpError::Provider(error)
    }
}

enum DeleteTarget {
    Current(String),
    Deposed(String),
    /// Named by the plan but absent from state.
    Unrecorded(String),
}

impl DeleteTarget {
    fn id(&self) -> &str {
        match self {
            DeleteTarget::Current(id)
            | DeleteTarget::Deposed(id)
            | DeleteTarget::Unrecorded(id) => id,
        }
    }
}

/// The scope a saved plan's residual expressions are finished in: resource attributes only.
struct ApplyScope<'r, 'a> {
    run: &'r Run<'a>,
}

impl Scope for ApplyScope<'_, '_> {
    fn root(&self, name: &str, span: &Span) -> Result<Expr, Diagnostic> {
        Err(Diagnostic::error_at(
            format!(
                "`{name}` cannot be resolved during apply: a plan refers to other instances only by address"
            ),
            span,
        ))
    }

    fn resource(&self, addr: &str) -> Option<Value> {
        let known = self.run.known.lock().unwrap_or_else(|p| p.into_inner());
        known
            .get(addr)
            .cloned()
            .or_else(|| self.run.untouched.get(addr).map(|v| (**v).clone()))
    }
}

/// The `ResourceAttr` references left in an expression that did not finish evaluating.
fn unresolved(expr: &Expr, out: &mut Vec<String>) {
    match &expr.kind {
        ExprKind::ResourceAttr { addr, path } => {
            let mut text = addr.clone();
            for step in path {
                match step {
                    crate::spec::expr::PathStep::Key(k) => {
                        text.push('.');
                        text.push_str(k);
                    }
                    crate::spec::expr::PathStep::Index(i) => text.push_str(&format!("[{i}]")),
                }
            }
            out.push(text);
        }
        ExprKind::Template(items) | ExprKind::List(items) | ExprKind::Call(_, items) => {
            items.iter().for_each(|e| unresolved(e, out));
        }
        ExprKind::Map(entries) => entries.iter().for_each(|(_, e)| unresolved(e, out)),
        ExprKind::Unary(_, e) | ExprKind::Traverse(e, _) => unresolved(e, out),
        ExprKind::Binary(_, a, b) => {
            unresolved(a, out);
            unresolved(b, out);
        }
        ExprKind::Conditional(c, a, b) => {
            unresolved(c, out);
            unresolved(a, out);
            unresolved(b, out);
        }
        ExprKind::Literal(_) | ExprKind::Ref { .. } => {}
    }
}

/// The value without its unknown parts: a provider is never sent "known after apply".
fn strip_unknown(value: Value) -> Option<Value> {
    match value {
        Value::Unknown => None,
        Value::Map(map) => Some(Value::Map(
            map.into_iter()
                .filter_map(|(k, v)| strip_unknown(v).map(|v| (k, v)))
                .collect(),
        )),
        Value::List(items) => Some(Value::List(
            items.into_iter().filter_map(strip_unknown).collect(),
        )),
        Value::Sensitive(inner) => strip_unknown(*inner).map(|v| Value::Sensitive(Box::new(v))),
        other => Some(other),
    }
}

/// A response's attributes, completed with what was configured but not echoed back (clouds
/// never return write-only secrets).
fn with_config(config: &Value, response: Value) -> Value {
    match (config, response) {
        (Value::Map(config), Value::Map(mut attrs)) => {
            for (k, v) in config {
                attrs.entry(k.clone()).or_insert_with(|| v.clone());
            }
            Value::Map(attrs)
        }
        (_, response) => response,
    }
}

/// Top-level attribute names that differ, from the plan when it lists them.
/// The attributes of `config` that hold a secret known only as the digest state keeps (it was
/// generated, or read from the environment, in an earlier run): its plaintext is gone.
fn digest_only(config: &Value) -> Vec<String> {
    config
        .as_map()
        .map(|map| {
            map.iter()
                .filter(|(_, v)| holds_digest(v))
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Fails an operation that would have to send a digest in place of a secret.
fn refuse_digests(change: &ResourceChange, attrs: &[String]) -> Result<(), ProviderError> {
    if attrs.is_empty() {
        return Ok(());
    }
    Err(ProviderError::new(
        ErrorKind::Invalid,
        format!(
            "cannot send `{}` to {}: it is a secret from an earlier apply, and state keeps only its digest, never the secret itself. Generate a new one in the same apply (e.g. `cairn apply --replace random_password.NAME`), or read it from an environment variable or a secrets store",
            attrs.join("`, `"),
            change.address
        ),
    ))
}

fn changed_attributes(change: &ResourceChange, prior: &Value, config: &Value) -> Vec<String> {
    let listed: Vec<String> = change
        .attributes
        .iter()
        .filter(|a| a.is_changed())
        .map(|a| a.name.clone())
        .collect();
    if !listed.is_empty() {
        return listed;
    }
    let empty = BTreeMap::new();
    let before = prior.as_map().unwrap_or(&empty);
    config
        .as_map()
        .unwrap_or(&empty)
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect()
}

/// Evaluates the plan's outputs into `state.outputs`, sealed. Returns whether anything changed.
fn record_outputs(plan: &Plan, run: &Run<'_>, state: &mut State) -> bool {
    let before = state.outputs.clone();
    for output in &plan.outputs {
        match &output.after {
            None => {
                state.outputs.remove(&output.name);
            }
            Some(expr) => match run.evaluate(expr) {
                Ok(value) if !value.contains_unknown() => {
                    let value = if output.sensitive && !value.is_sensitive() {
                        Value::Sensitive(Box::new(value))
                    } else {
                        value
                    };
                    state
                        .outputs
                        .insert(output.name.clone(), seal(&value, &run.salt));
                }
                // An output over a failed instance keeps its last value.
                Ok(_) => {}
                Err(error) => warn!(output = %output.name, %error, "output not updated"),
            },
        }
    }
    state.outputs != before || !plan.outputs.is_empty()
}
