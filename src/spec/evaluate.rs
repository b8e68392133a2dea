//! Evaluation of a loaded environment in dependency order: module inputs, locals, resources
//! (expanded by `count` / `for_each` into instances) and outputs.
//!
//! Each resource instance's evaluated configuration goes to an [`InstancePlanner`], which decides
//! what happens to it and answers with what references to it see (known attributes as literals,
//! the rest as residuals). The differ is one planner; `validate` uses the same one with no state.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

use async_trait::async_trait;

use super::diagnostic::{Diagnostic, did_you_mean};
use super::expr::prune::prune;
use super::expr::{Expr, ExprKind, Scope, Step, eval};
use super::model::{Environment, Lifecycle};
use super::span::Span;
use crate::addr::{InstanceKey, ResourceAddr, ResourceMode};
use crate::background_drop::{WORTH_A_THREAD, drop_in_background};
use crate::graph::{ConfigGraph, Item};
use crate::providers::{ProviderConfig, Timeouts};
use crate::schema::check::coerce;
use crate::schema::{SchemaKind, SchemaRegistry};
use crate::value::Value;

pub use crate::limits::MAX_INSTANCES_PER_BLOCK;
use crate::limits::MAX_INSTANCES_TOTAL;

/// One resource instance, evaluated and type-checked, for the planner.
#[derive(Clone, Debug)]
pub struct InstanceConfig {
    pub addr: ResourceAddr,
    pub resource_type: String,
    /// Provider instance key (`fake`, `fake.dr`).
    pub provider: String,
    /// Attribute → value as configured (environment tags merged in): literals where known,
    /// residuals otherwise. Literal values of sensitive attributes are wrapped as sensitive.
    pub config: BTreeMap<String, Expr>,
    pub depends_on: Vec<ResourceAddr>,
    pub lifecycle: Lifecycle,
    pub timeouts: Timeouts,
    pub span: Span,
    /// Where the instance comes in a walk on one thread.
    pub position: WalkPosition,
}

/// Where an instance comes in a walk on one thread: its block's place in the graph's order,
/// then its place among the block's instances. The walk plans instances that do not depend
/// on each other on several threads; a planner that records them orders them by this.
pub type WalkPosition = (usize, usize);

/// Decides what happens to each instance as the walk reaches it. The walk calls it from
/// several threads at once for instances that do not depend on each other.
#[async_trait]
pub trait InstancePlanner: Sync {
    /// Returns the object references to this instance see.
    async fn plan_instance(&self, instance: InstanceConfig) -> Result<Expr, Diagnostic>;
}

/// What the walk produced besides the planner's own results.
#[derive(Clone, Debug)]
pub struct Evaluated {
    pub providers: Vec<ProviderConfig>,
    /// Root module outputs.
    pub outputs: Vec<EvaluatedOutput>,
    /// Resource addresses (without instance keys) of every resource block.
    pub resource_blocks: BTreeSet<String>,
    /// Addresses of every module instance (`module.a.module.b`).
    pub module_paths: BTreeSet<String>,
}

#[derive(Clone, Debug)]
pub struct EvaluatedOutput {
    pub name: String,
    pub value: Expr,
    pub sensitive: bool,
}

/// Walks `graph` in order, evaluating everything and handing each instance to `planner`.
///
/// On a multi-threaded runtime the walk runs on as many threads as there are cores: an item
/// starts once everything it references is done, so the module instances of a large estate
/// are evaluated side by side. What it reports (diagnostics, and through the planner the
/// changes) comes out in the order of a walk on one thread.
pub async fn evaluate(
    env: &Environment,
    graph: &ConfigGraph,
    schemas: &SchemaRegistry,
    planner: &dyn InstancePlanner,
) -> Result<Evaluated, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let providers = match provider_configs(env) {
        Ok(p) => p,
        Err(d) => {
            diags.extend(d);
            Vec::new()
        }
    };
    let static_scope = StaticScope { env };
    let env_tags = match &env.tags {
        Some(tags) => {
            match eval(tags, &static_scope) {
                Ok(e) => match e.as_literal() {
                    Some(Value::Map(_)) => Some(e),
                    Some(Value::Null) => None,
                    _ => {
                        diags.push(
                        Diagnostic::error_at("`tags` must be a mapping of tag names to values known before apply", &tags.span)
                            .with_help("write e.g. `tags: { env: dev, system: datasets }`"),
                    );
                        None
                    }
                },
                Err(d) => {
                    diags.push(d);
                    None
                }
            }
        }
        None => None,
    };
    let known_providers: BTreeSet<String> = providers.iter().map(ProviderConfig::key).collect();
    let mut walk = Walk::new(env, graph, schemas, env_tags, known_providers);

    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // The walk's threads block on the planner's futures (a data source's read), whose I/O the
    // runtime's workers drive: only a multi-threaded runtime with a worker to spare can, as the
    // calling thread may be one of them and blocks until the walk is done.
    let runtime = tokio::runtime::Handle::try_current().ok().filter(|h| {
        h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
            && h.metrics().num_workers() > 1
    });
    let mut by_position = match runtime {
        Some(handle) if threads > 1 && graph.order.len() > 1 => {
            walk.on_threads(planner, &handle, threads)
        }
        _ => {
            let mut by_position = Vec::with_capacity(graph.order.len());
            for &item in &graph.order {
                by_position.push(walk.item(item, planner).await);
            }
            by_position
        }
    };
    walk.report_expansion_limit(&mut by_position);
    diags.extend(by_position.into_iter().flatten());

    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    let root = &graph.instances[0].module;
    let outputs = root
        .outputs
        .iter()
        .filter_map(|o| {
            Some(EvaluatedOutput {
                name: o.name.text.clone(),
                value: walk.outputs[0].get(&o.name.text)?.get()?.clone(),
                sensitive: o.sensitive,
            })
        })
        .collect();
    let mut resource_blocks = BTreeSet::new();
    let mut module_paths = BTreeSet::new();
    for inst in &graph.instances {
        module_paths.insert(inst.address());
        for r in &inst.module.resources {
            let mode = match schemas.get(&r.type_name.text).map(|s| s.kind) {
                Some(SchemaKind::DataSource) => ResourceMode::Data,
                _ => ResourceMode::Managed,
            };
            let addr = ResourceAddr {
                module: inst.path.clone(),
                mode,
                resource_type: r.type_name.text.clone(),
                name: r.name.text.clone(),
                key: None,
            };
            resource_blocks.insert(addr.resource_address());
        }
    }
    if walk.expanded.load(Ordering::Relaxed) >= WORTH_A_THREAD {
        drop_in_background((
            std::mem::take(&mut walk.bindings),
            std::mem::take(&mut walk.addrs),
            std::mem::take(&mut walk.inputs),
            std::mem::take(&mut walk.locals),
            std::mem::take(&mut walk.outputs),
        ));
    }
    Ok(Evaluated {
        providers,
        outputs,
        resource_blocks,
        module_paths,
    })
}

/// The provider instances an environment configures, settings evaluated. Settings may use
/// `env.*` and `environment`, nothing that needs a resource.
pub fn provider_configs(env: &Environment) -> Result<Vec<ProviderConfig>, Vec<Diagnostic>> {
    let scope = StaticScope { env };
    let mut providers = Vec::new();
    let mut diags = Vec::new();
    for block in &env.providers {
        match eval(&block.settings, &scope) {
            Ok(e) => match e.as_literal() {
                Some(settings) => providers.push(ProviderConfig {
                    name: block.name.clone(),
                    alias: block.alias.clone(),
                    settings: settings.clone(),
                    project_dir: env.project_dir.clone(),
                    environment: env.name.clone(),
                }),
                None => diags.push(Diagnostic::error_at(
                    format!(
                        "the settings of provider `{}` must be known before any resource exists",
                        block.key()
                    ),
                    &block.span,
                )),
            },
            Err(d) => diags.push(d),
        }
    }
    // `random` needs no settings, so, as in Terraform, it needs no block either.
    if !providers
        .iter()
        .any(|p| p.name == crate::providers::random::PROVIDER)
    {
        providers.push(ProviderConfig {
            name: crate::providers::random::PROVIDER.to_string(),
            alias: None,
            settings: Value::Null,
            project_dir: env.project_dir.clone(),
            environment: env.name.clone(),
        });
    }
    if diags.is_empty() {
        Ok(providers)
    } else {
        Err(diags)
    }
}

/// The names available before any module is evaluated: `env.*` and `environment`.
struct StaticScope<'a> {
    env: &'a Environment,
}

impl Scope for StaticScope<'_> {
    fn root_attr(&self, root: &str, attr: &str, span: &Span) -> Option<Result<Expr, Diagnostic>> {
        (root == "env").then(|| environment_variable(attr, span))
    }

    fn root(&self, name: &str, span: &Span) -> Result<Expr, Diagnostic> {
        match name {
            "env" => Ok(environment_variables()),
            "environment" => Ok(Expr::literal(
                Value::String(self.env.name.clone()),
                span.clone(),
            )),
            other => Err(Diagnostic::error_at(
                format!(
                    "`{other}` cannot be used here: provider settings and environment tags may only use `env.*` and `environment`"
                ),
                span,
            )),
        }
    }
}

/// Values by name, each set once, when its item is evaluated: a reader sees only what is set,
/// and the walk reads a value only once its item is done.
type Slots = HashMap<String, OnceLock<Expr>>;

struct Walk<'a> {
    env: &'a Environment,
    graph: &'a ConfigGraph,
    schemas: &'a SchemaRegistry,
    env_tags: Option<Expr>,
    known_providers: BTreeSet<String>,
    env_vars: Expr,
    /// Per module instance.
    inputs: Vec<Slots>,
    locals: Vec<Slots>,
    outputs: Vec<Slots>,
    /// Per module instance, by resource block name: what references to it see.
    bindings: Vec<Slots>,
    /// Resource item → the instance addresses it expanded to.
    addrs: HashMap<Item, OnceLock<Vec<ResourceAddr>>>,
    /// Item → its place in the graph's order.
    positions: HashMap<Item, usize>,
    /// By place in the graph's order: whether the item failed.
    failed: Vec<AtomicBool>,
    /// Instances expanded so far over all blocks, bounded by [`MAX_INSTANCES_TOTAL`].
    expanded: AtomicUsize,
    /// By place in the graph's order: how many instances each resource block expanded to.
    expansions: Vec<AtomicUsize>,
}

type ItemResult = Result<(), Vec<Diagnostic>>;

/// The work queue of a walk on several threads: items whose references are all done, by
/// place in the graph's order (the earliest first, as a walk on one thread takes them).
struct Queue {
    ready: BinaryHeap<Reverse<usize>>,
    /// By place: how many of the item's references are not done yet.
    waiting: Vec<usize>,
    /// Items not done yet; none means every thread stops.
    left: usize,
}

impl<'a> Walk<'a> {
    fn new(
        env: &'a Environment,
        graph: &'a ConfigGraph,
        schemas: &'a SchemaRegistry,
        env_tags: Option<Expr>,
        known_providers: BTreeSet<String>,
    ) -> Walk<'a> {
        let slots = |names: Vec<&str>| -> Slots {
            names
                .into_iter()
                .map(|n| (n.to_string(), OnceLock::new()))
                .collect()
        };
        let per_instance = |f: &dyn Fn(&super::model::Module) -> Vec<&str>| -> Vec<Slots> {
            graph
                .instances
                .iter()
                .map(|i| slots(f(&i.module)))
                .collect()
        };
        Walk {
            env,
            graph,
            schemas,
            env_tags,
            known_providers,
            env_vars: environment_variables(),
            inputs: per_instance(&|m| m.inputs.iter().map(|d| d.name.text.as_str()).collect()),
            locals: per_instance(&|m| m.locals.iter().map(|(n, _)| n.text.as_str()).collect()),
            outputs: per_instance(&|m| m.outputs.iter().map(|o| o.name.text.as_str()).collect()),
            bindings: per_instance(&|m| m.resources.iter().map(|r| r.name.text.as_str()).collect()),
            addrs: graph
                .order
                .iter()
                .filter(|i| matches!(i, Item::Resource { .. }))
                .map(|&i| (i, OnceLock::new()))
                .collect(),
            positions: graph
                .order
                .iter()
                .enumerate()
                .map(|(p, &i)| (i, p))
                .collect(),
            failed: graph.order.iter().map(|_| AtomicBool::new(false)).collect(),
            expanded: AtomicUsize::new(0),
            expansions: graph.order.iter().map(|_| AtomicUsize::new(0)).collect(),
        }
    }

    fn scope(
        &self,
        inst: usize,
        each: Option<(String, Expr)>,
        count: Option<usize>,
    ) -> ModuleScope<'_> {
        ModuleScope {
            walk: self,
            inst,
            each,
            count,
        }
    }

    fn has_failed(&self, item: &Item) -> bool {
        self.positions
            .get(item)
            .is_some_and(|&p| self.failed[p].load(Ordering::Acquire))
    }

    /// Evaluates one item, whose references are all done, and returns its diagnostics.
    async fn item(&self, item: Item, planner: &dyn InstancePlanner) -> Vec<Diagnostic> {
        // An item whose dependency failed cannot be evaluated meaningfully; its own error would
        // only repeat the first one.
        let blocked = self
            .graph
            .resource_deps
            .get(&item)
            .is_some_and(|deps| deps.iter().any(|d| self.has_failed(d)))
            || self.graph.dependencies(item).any(|d| self.has_failed(&d));
        let result = if blocked {
            Err(Vec::new())
        } else {
            match item {
                Item::Input { inst, idx } => self.input(inst, idx),
                Item::Local { inst, idx } => self.local(inst, idx),
                Item::Output { inst, idx } => self.output(inst, idx),
                Item::Resource { inst, idx } => self.resource(inst, idx, planner).await,
            }
        };
        match result {
            Ok(()) => Vec::new(),
            Err(diags) => {
                if let Some(&p) = self.positions.get(&item) {
                    self.failed[p].store(true, Ordering::Release);
                }
                diags
            }
        }
    }

    /// Walks the graph on `threads` threads; returns each item's diagnostics by its place in
    /// the graph's order.
    fn on_threads(
        &self,
        planner: &dyn InstancePlanner,
        runtime: &tokio::runtime::Handle,
        threads: usize,
    ) -> Vec<Vec<Diagnostic>> {
        let order = &self.graph.order;
        let waiting: Vec<usize> = order
            .iter()
            .map(|&i| self.graph.dependencies(i).count())
            .collect();
        let ready = waiting
            .iter()
            .enumerate()
            .filter(|(_, w)| **w == 0)
            .map(|(p, _)| Reverse(p))
            .collect();
        let queue = Mutex::new(Queue {
            ready,
            waiting,
            left: order.len(),
        });
        let wake = Condvar::new();
        let results: Vec<OnceLock<Vec<Diagnostic>>> =
            order.iter().map(|_| OnceLock::new()).collect();
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    // A thread that panics stops the others instead of leaving them waiting
                    // for its item; the panic then comes out of the scope.
                    let stop_all = StopOnPanic {
                        queue: &queue,
                        wake: &wake,
                    };
                    loop {
                        let next = {
                            let mut q = lock(&queue);
                            loop {
                                if let Some(Reverse(p)) = q.ready.pop() {
                                    break Some(p);
                                }
                                if q.left == 0 {
                                    break None;
                                }
                                q = wake.wait(q).unwrap_or_else(PoisonError::into_inner);
                            }
                        };
                        let Some(position) = next else { break };
                        let item = order[position];
                        let diags = runtime.block_on(self.item(item, planner));
                        let _ = results[position].set(diags);
                        let mut q = lock(&queue);
                        q.left -= 1;
                        for dependent in self.graph.dependents(item) {
                            let p = self.positions[&dependent];
                            q.waiting[p] -= 1;
                            if q.waiting[p] == 0 {
                                q.ready.push(Reverse(p));
                            }
                        }
                        drop(q);
                        wake.notify_all();
                    }
                    drop(stop_all);
                });
            }
        });
        results
            .into_iter()
            .map(|r| r.into_inner().unwrap_or_default())
            .collect()
    }

    /// The error of an environment that expands to too many instances, at the block where a
    /// walk on one thread would have crossed the limit (a walk on several threads may have
    /// counted the blocks in another order; the first to cross it stopped expanding).
    fn report_expansion_limit(&self, by_position: &mut [Vec<Diagnostic>]) {
        if self.expanded.load(Ordering::Relaxed) <= MAX_INSTANCES_TOTAL {
            return;
        }
        let mut total = 0;
        for (position, expansion) in self.expansions.iter().enumerate() {
            total += expansion.load(Ordering::Relaxed);
            if total <= MAX_INSTANCES_TOTAL {
                continue;
            }
            let Item::Resource { inst, idx } = self.graph.order[position] else {
                continue;
            };
            let block = &self.graph.instances[inst].module.resources[idx];
            let span = block
                .count
                .as_ref()
                .or(block.for_each.as_ref())
                .map_or(&block.span, |e| &e.span);
            by_position[position].push(
                Diagnostic::error_at(
                    format!(
                        "the environment expands to more than {MAX_INSTANCES_TOTAL} resource instances (the limit for one environment), reached at `{}`",
                        block.name.text
                    ),
                    span,
                )
                .with_help("split the environment into several environments with their own state"),
            );
            return;
        }
    }

    fn input(&self, inst: usize, idx: usize) -> ItemResult {
        let instance = &self.graph.instances[inst];
        let decl = &instance.module.inputs[idx];
        let passed = instance.parent.as_ref().and_then(|(parent, call)| {
            call.inputs
                .iter()
                .find(|(n, _)| n.text == decl.name.text)
                .map(|(_, e)| (*parent, e))
        });
        let (scope_inst, expr) = match (passed, &decl.default) {
            (Some((parent, e)), _) => (parent, e),
            (None, Some(default)) => (inst, default),
            (None, None) => return Ok(()), // reported by the loader
        };
        let value = eval(expr, &self.scope(scope_inst, None, None)).map_err(|d| vec![d])?;
        let value = match value.as_literal() {
            Some(literal) => {
                let coerced = coerce(literal, &decl.ty).map_err(|m| {
                    let source = instance
                        .parent
                        .as_ref()
                        .map(|(_, c)| c.source.text.clone())
                        .unwrap_or_default();
                    let mut d = Diagnostic::error_at(
                        format!(
                            "wrong type for input `{}` of module `{source}`: {m}",
                            decl.name.text
                        ),
                        &expr.span,
                    );
                    if let Some(h) = m.help() {
                        d = d.with_help(h);
                    }
                    vec![d]
                })?;
                let coerced = if decl.sensitive && !coerced.is_sensitive() {
                    Value::Sensitive(Box::new(coerced))
                } else {
                    coerced
                };
                Expr::literal(coerced, value.span)
            }
            None => value,
        };
        set(&self.inputs[inst], &decl.name.text, value);
        Ok(())
    }

    fn local(&self, inst: usize, idx: usize) -> ItemResult {
        let (name, expr) = &self.graph.instances[inst].module.locals[idx];
        let value = eval(expr, &self.scope(inst, None, None)).map_err(|d| vec![d])?;
        set(&self.locals[inst], &name.text, value);
        Ok(())
    }

    fn output(&self, inst: usize, idx: usize) -> ItemResult {
        let decl = &self.graph.instances[inst].module.outputs[idx];
        let value = eval(&decl.value, &self.scope(inst, None, None)).map_err(|d| vec![d])?;
        let value = match (decl.sensitive, value.as_literal()) {
            (true, Some(v)) if !v.is_sensitive() => {
                Expr::literal(Value::Sensitive(Box::new(v.clone())), value.span)
            }
            _ => value,
        };
        set(&self.outputs[inst], &decl.name.text, value);
        Ok(())
    }

    async fn resource(&self, inst: usize, idx: usize, planner: &dyn InstancePlanner) -> ItemResult {
        let known_providers = &self.known_providers;
        let env_tags = self.env_tags.as_ref();
        let instance = &self.graph.instances[inst];
        let block = &instance.module.resources[idx];
        let position = self.positions[&Item::Resource { inst, idx }];
        let Some(schema) = self.schemas.get(&block.type_name.text) else {
            return Ok(()); // reported by the loader
        };
        let provider = match &block.provider {
            Some(p) => p.text.clone(),
            None => instance
                .providers
                .get(schema.provider)
                .cloned()
                .unwrap_or_else(|| schema.provider.to_string()),
        };
        if !known_providers.contains(&provider) {
            let span = block
                .provider
                .as_ref()
                .map(|p| &p.span)
                .unwrap_or(&block.type_name.span);
            let configured: Vec<&str> = known_providers.iter().map(String::as_str).collect();
            let mut d = Diagnostic::error_at(
                format!(
                    "`{}` needs the provider `{provider}`, which environments/{}.yaml does not configure",
                    block.type_name.text, self.env.name
                ),
                span,
            );
            d = match did_you_mean(&provider, configured.iter().copied()) {
                Some(close) => d.with_help(format!("did you mean `{close}`?")),
                None => d.with_help(format!(
                    "add `{provider}: {{}}` under `providers:` in environments/{}.yaml",
                    self.env.name
                )),
            };
            return Err(vec![d]);
        }
        let mode = match schema.kind {
            SchemaKind::DataSource => ResourceMode::Data,
            SchemaKind::Resource => ResourceMode::Managed,
        };

        // Expansion: `count` → indexed instances, `for_each` → keyed instances.
        let scope = self.scope(inst, None, None);
        let mut keys: Vec<Repetition> = Vec::new();
        if let Some(count) = &block.count {
            let n = eval(count, &scope).map_err(|d| vec![d])?;
            let n = match n.as_literal().map(Value::expose) {
                Some(Value::Number(n))
                    if *n >= 0.0
                        && n.fract() == 0.0
                        && (*n as usize) <= MAX_INSTANCES_PER_BLOCK =>
                {
                    *n as usize
                }
                Some(Value::Number(n)) => {
                    return Err(vec![Diagnostic::error_at(
                        format!(
                            "`count` must be a whole number from 0 to {MAX_INSTANCES_PER_BLOCK}, got {}",
                            crate::value::format_number(*n)
                        ),
                        &count.span,
                    )
                    .with_help(format!("{MAX_INSTANCES_PER_BLOCK} instances is the limit for one resource block; split larger sets over several blocks"))]);
                }
                Some(other) => {
                    return Err(vec![Diagnostic::error_at(
                        format!("`count` must be a whole number, found {}", describe(other)),
                        &count.span,
                    )]);
                }
                None => return Err(vec![unknown_repetition("count", &count.span)]),
            };
            keys.extend((0..n).map(|i| (Some(InstanceKey::Index(i as u64)), None, Some(i))));
        } else if let Some(for_each) = &block.for_each {
            let value = eval(for_each, &scope).map_err(|d| vec![d])?;
            let Some(literal) = value.as_literal() else {
                return Err(vec![unknown_repetition("for_each", &for_each.span)]);
            };
            match literal.expose() {
                Value::Map(map) => {
                    if map.len() > MAX_INSTANCES_PER_BLOCK {
                        return Err(vec![too_many(&for_each.span, map.len())]);
                    }
                    for (k, v) in map {
                        keys.push((
                            Some(InstanceKey::Key(k.clone())),
                            Some((k.clone(), Expr::literal(v.clone(), for_each.span.clone()))),
                            None,
                        ));
                    }
                }
                Value::List(items) => {
                    if items.len() > MAX_INSTANCES_PER_BLOCK {
                        return Err(vec![too_many(&for_each.span, items.len())]);
                    }
                    let mut seen = BTreeSet::new();
                    for item in items {
                        let Some(k) = item.as_str() else {
                            return Err(vec![Diagnostic::error_at(
                                format!("`for_each` over a list needs strings (each becomes an instance key), found {}", describe(item)),
                                &for_each.span,
                            )
                            .with_help("use a map to key instances by name, or `count` for numbered instances")]);
                        };
                        if seen.insert(k.to_string()) {
                            keys.push((
                                Some(InstanceKey::Key(k.to_string())),
                                Some((
                                    k.to_string(),
                                    Expr::literal(item.clone(), for_each.span.clone()),
                                )),
                                None,
                            ));
                        }
                    }
                }
                other => {
                    return Err(vec![
                        Diagnostic::error_at(
                            format!(
                                "`for_each` must be a map or a list of strings, found {}",
                                describe(other)
                            ),
                            &for_each.span,
                        )
                        .with_help(
                            "write e.g. `for_each: ${inputs.azs}` where `azs` is a list of strings",
                        ),
                    ]);
                }
            }
        } else {
            keys.push((None, None, None));
        }
        // Past the limit nothing more is expanded; the error names the block where a walk on one
        // thread crosses it (`report_expansion_limit`).
        self.expansions[position].store(keys.len(), Ordering::Relaxed);
        let expanded = self.expanded.fetch_add(keys.len(), Ordering::Relaxed) + keys.len();
        if expanded > MAX_INSTANCES_TOTAL {
            return Err(Vec::new());
        }

        let depends_on: Vec<ResourceAddr> = self
            .graph
            .resource_deps
            .get(&Item::Resource { inst, idx })
            .into_iter()
            .flatten()
            .flat_map(|dep| {
                self.addrs
                    .get(dep)
                    .and_then(OnceLock::get)
                    .into_iter()
                    .flatten()
                    .cloned()
            })
            .collect();

        let mut objects: Vec<(Option<InstanceKey>, Expr)> = Vec::with_capacity(keys.len());
        let mut diags = Vec::new();
        let mut instance_addrs = Vec::with_capacity(keys.len());
        for (n, (key, each, count)) in keys.into_iter().enumerate() {
            let addr = ResourceAddr {
                module: instance.path.clone(),
                mode,
                resource_type: block.type_name.text.clone(),
                name: block.name.text.clone(),
                key: key.clone(),
            };
            let scope = self.scope(inst, each, count);
            let config = match configure(&block.properties, &scope, schema, env_tags) {
                Ok(c) => c,
                Err(mut d) => {
                    diags.append(&mut d);
                    continue;
                }
            };
            let timeouts = match timeouts_for(block.timeouts, &block.timeout_exprs, &scope) {
                Ok(t) => t,
                Err(d) => {
                    diags.push(d);
                    continue;
                }
            };
            let planned = planner
                .plan_instance(InstanceConfig {
                    addr: addr.clone(),
                    resource_type: block.type_name.text.clone(),
                    provider: provider.clone(),
                    config,
                    depends_on: depends_on.clone(),
                    lifecycle: block.lifecycle.clone(),
                    timeouts,
                    span: block.span.clone(),
                    position: (position, n),
                })
                .await;
            match planned {
                Ok(object) => objects.push((key, object)),
                Err(d) => diags.push(d),
            }
            instance_addrs.push(addr);
        }
        if let Some(slot) = self.addrs.get(&Item::Resource { inst, idx }) {
            let _ = slot.set(instance_addrs);
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        let span = block.span.clone();
        let binding = if block.count.is_some() {
            Expr::folded(
                ExprKind::List(objects.into_iter().map(|(_, o)| o).collect()),
                span,
            )
        } else if block.for_each.is_some() {
            Expr::folded(
                ExprKind::Map(
                    objects
                        .into_iter()
                        .filter_map(|(k, o)| match k {
                            Some(InstanceKey::Key(k)) => Some((k, o)),
                            _ => None,
                        })
                        .collect(),
                ),
                span,
            )
        } else {
            objects
                .into_iter()
                .next()
                .map(|(_, o)| o)
                .unwrap_or(Expr::literal(Value::Null, span))
        };
        set(&self.bindings[inst], &block.name.text, binding);
        Ok(())
    }
}

/// A block's timeouts for one instance: the literal ones, then those written as expressions,
/// which must be known durations by now.
fn timeouts_for(
    literal: Timeouts,
    exprs: &[(super::model::Name, Expr)],
    scope: &dyn Scope,
) -> Result<Timeouts, Diagnostic> {
    let mut out = literal;
    for (op, expr) in exprs {
        let value = eval(expr, scope)?;
        let text = match value.as_literal().map(Value::expose) {
            Some(Value::String(text)) => text.clone(),
            _ => {
                return Err(Diagnostic::error_at(
                    format!("the `{}` timeout must be known when planning", op.text),
                    &expr.span,
                )
                .with_help(
                    "use an input or a literal duration such as 40m, not a resource's attribute",
                ));
            }
        };
        let duration = crate::spec::duration::parse_duration(&text).map_err(|message| {
            Diagnostic::error_at(format!("the `{}` timeout: {message}", op.text), &expr.span)
                .with_help("write a duration such as 40m, 2h or 1h30m")
        })?;
        match op.text.as_str() {
            "create" => out.create = Some(duration),
            "update" => out.update = Some(duration),
            _ => out.delete = Some(duration),
        }
    }
    Ok(out)
}

/// One instance of a block: its key, and what `each` or `count` mean inside it.
type Repetition = (Option<InstanceKey>, Option<(String, Expr)>, Option<usize>);

/// Evaluates a block's properties for one instance: environment tags merged, literals coerced
/// to the schema's types, sensitive attributes marked.
fn configure(
    properties: &Expr,
    scope: &ModuleScope<'_>,
    schema: &crate::schema::Schema,
    env_tags: Option<&Expr>,
) -> Result<BTreeMap<String, Expr>, Vec<Diagnostic>> {
    let mut config = BTreeMap::new();
    let mut diags = Vec::new();
    match &properties.kind {
        ExprKind::Map(entries) => {
            for (name, expr) in entries {
                match eval(expr, scope) {
                    Ok(value) => {
                        config.insert(name.clone(), value);
                    }
                    Err(d) => diags.push(d),
                }
            }
        }
        ExprKind::Literal(Value::Map(map)) => {
            for (name, value) in map {
                config.insert(
                    name.clone(),
                    Expr::literal(value.clone(), properties.span.clone()),
                );
            }
        }
        _ => {}
    }
    if let Some(tags) = env_tags.filter(|_| schema.is_taggable()) {
        let merged = match config.remove("tags") {
            Some(own) => {
                let span = own.span.clone();
                let call = Expr::new(
                    ExprKind::Call("merge".into(), vec![tags.clone(), own]),
                    span,
                );
                match eval(&call, scope) {
                    Ok(v) => v,
                    Err(d) => {
                        diags.push(d);
                        tags.clone()
                    }
                }
            }
            None => tags.clone(),
        };
        config.insert("tags".into(), merged);
    }
    for (name, value) in config.iter_mut() {
        let Some(attr) = schema.attribute(name) else {
            continue;
        };
        if let Some(literal) = value.as_literal() {
            match coerce(literal, &attr.ty) {
                Ok(mut v) => {
                    if attr.sensitive && !v.is_sensitive() && v != Value::Null {
                        v = Value::Sensitive(Box::new(v));
                    }
                    *value = Expr::literal(v, value.span.clone());
                }
                Err(m) => {
                    let mut d = Diagnostic::error_at(
                        format!("wrong type for `{name}` of `{}`: {m}", schema.type_name),
                        &value.span,
                    );
                    if let Some(h) = m.help() {
                        d = d.with_help(h);
                    }
                    diags.push(d);
                }
            }
        }
    }
    if diags.is_empty() {
        Ok(config)
    } else {
        Err(diags)
    }
}

fn unknown_repetition(what: &str, span: &Span) -> Diagnostic {
    Diagnostic::error_at(
        format!("`{what}` depends on resource attributes that are known only after apply"),
        span,
    )
    .with_help(format!(
        "`{what}` must be known at plan time: base it on inputs or locals, or apply the resources it depends on first (`cairn apply -target`)"
    ))
}

fn too_many(span: &Span, n: usize) -> Diagnostic {
    Diagnostic::error_at(
        format!(
            "`for_each` has {n} elements; a resource expands to at most {MAX_INSTANCES_PER_BLOCK} instances"
        ),
        span,
    )
    .with_help("that is the limit for one resource block; split larger sets over several blocks")
}

fn describe(value: &Value) -> &'static str {
    match value.expose() {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::List(_) => "a list",
        Value::Map(_) => "a map",
        Value::Unknown => "an unknown value",
        Value::Sensitive(_) => "a sensitive value",
    }
}

fn map_of(values: &Slots, span: &Span) -> Expr {
    let mut entries: Vec<(String, Expr)> = values
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.get()?.clone())))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Expr::folded(ExprKind::Map(entries), span.clone())
}

/// Sets the value of `name`, which is evaluated once (a name declared twice keeps the first).
fn set(slots: &Slots, name: &str, value: Expr) {
    if let Some(slot) = slots.get(name) {
        let _ = slot.set(value);
    }
}

/// Locks `mutex` even if a thread panicked holding it: the walk's critical sections (and the
/// differ's) are each one push, insert or count, which a panic cannot leave half-done.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Stops every thread of a walk when the one holding it panics.
struct StopOnPanic<'q> {
    queue: &'q Mutex<Queue>,
    wake: &'q Condvar,
}

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut q = lock(self.queue);
            q.left = 0;
            q.ready.clear();
            drop(q);
            self.wake.notify_all();
        }
    }
}

/// One environment variable, sensitive from the moment it is read, or why it cannot be.
fn environment_variable(name: &str, span: &Span) -> Result<Expr, Diagnostic> {
    match std::env::var(name) {
        Ok(value) => Ok(Expr::literal(
            Value::Sensitive(Box::new(Value::String(value))),
            span.clone(),
        )),
        Err(std::env::VarError::NotPresent) => Err(Diagnostic::error_at(
            format!("the environment variable `{name}` is not set"),
            span,
        )
        .with_help(format!(
            "export {name}=... before running cairn, or give a fallback with `lookup(env, \"{name}\", \"default\")`"
        ))),
        Err(std::env::VarError::NotUnicode(_)) => Err(Diagnostic::error_at(
            format!("the environment variable `{name}` is not valid UTF-8"),
            span,
        )),
    }
}

/// Every environment variable, sensitive from the moment it is read (secrets come from there).
fn environment_variables() -> Expr {
    let vars: BTreeMap<String, Value> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .map(|(k, v)| (k, Value::Sensitive(Box::new(Value::String(v)))))
        .collect();
    Expr::literal(Value::Map(vars), Span::synthetic("environment variables"))
}

/// What names mean inside one module instance (and one `count`/`for_each` instance).
struct ModuleScope<'a> {
    walk: &'a Walk<'a>,
    inst: usize,
    each: Option<(String, Expr)>,
    count: Option<usize>,
}

impl Scope for ModuleScope<'_> {
    fn root_attr(&self, root: &str, attr: &str, _span: &Span) -> Option<Result<Expr, Diagnostic>> {
        let walk = self.walk;
        let found = match root {
            "inputs" | "var" => walk.inputs[self.inst].get(attr).and_then(OnceLock::get),
            "locals" | "local" => walk.locals[self.inst].get(attr).and_then(OnceLock::get),
            "module" => {
                return None;
            }
            "env" => return Some(environment_variable(attr, _span)),
            "each" => {
                let (key, value) = self.each.as_ref()?;
                return match attr {
                    "key" => Some(Ok(Expr::literal(Value::String(key.clone()), _span.clone()))),
                    "value" => Some(Ok(value.clone())),
                    _ => None,
                };
            }
            _ => match walk.bindings[self.inst].get(root)?.get()?.kind {
                ExprKind::Map(ref entries) => {
                    entries.iter().find(|(k, _)| k == attr).map(|(_, v)| v)
                }
                ExprKind::Literal(Value::Map(ref map)) => {
                    return map
                        .get(attr)
                        .map(|v| Ok(Expr::literal(v.clone(), _span.clone())));
                }
                _ => None,
            },
        };
        found.map(|e| Ok(e.clone()))
    }

    fn root_steps(&self, name: &str, steps: &[Step], span: &Span) -> Result<Expr, Diagnostic> {
        let reserved = matches!(
            name,
            "inputs"
                | "var"
                | "locals"
                | "local"
                | "module"
                | "each"
                | "count"
                | "env"
                | "environment"
        );
        match self.walk.bindings[self.inst]
            .get(name)
            .and_then(OnceLock::get)
        {
            Some(binding) if !reserved => Ok(prune(binding, steps)),
            _ => self.root(name, span),
        }
    }

    fn root(&self, name: &str, span: &Span) -> Result<Expr, Diagnostic> {
        let walk = self.walk;
        let instance = &walk.graph.instances[self.inst];
        match name {
            "inputs" | "var" => Ok(map_of(&walk.inputs[self.inst], span)),
            "locals" | "local" => Ok(map_of(&walk.locals[self.inst], span)),
            "module" => {
                let mut entries: Vec<(String, Expr)> = instance
                    .children
                    .iter()
                    .map(|(call, &child)| (call.clone(), map_of(&walk.outputs[child], span)))
                    .collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(Expr::folded(ExprKind::Map(entries), span.clone()))
            }
            "each" => match &self.each {
                Some((key, value)) => Ok(Expr::folded(
                    ExprKind::Map(vec![
                        ("key".into(), Expr::literal(Value::String(key.clone()), span.clone())),
                        ("value".into(), value.clone()),
                    ]),
                    span.clone(),
                )),
                None => Err(Diagnostic::error_at("`each` is only available in a resource with `for_each`", span)
                    .with_help("add `for_each:` to this resource, or refer to a value that is not per-instance")),
            },
            "count" => match self.count {
                Some(i) => Ok(Expr::literal(
                    Value::Map(BTreeMap::from([("index".to_string(), Value::Number(i as f64))])),
                    span.clone(),
                )),
                None => Err(Diagnostic::error_at("`count.index` is only available in a resource with `count`", span)
                    .with_help("add `count:` to this resource")),
            },
            "env" => Ok(walk.env_vars.clone()),
            "environment" => Ok(Expr::literal(Value::String(walk.env.name.clone()), span.clone())),
            other => {
                if let Some(binding) = walk.bindings[self.inst].get(other).and_then(OnceLock::get) {
                    return Ok(binding.clone());
                }
                if let Some(&child) = instance.children.get(other) {
                    return Ok(map_of(&walk.outputs[child], span));
                }
                Err(Diagnostic::error_at(format!("undefined reference `{other}`"), span))
            }
        }
    }
}
