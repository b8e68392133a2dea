//! Evaluation of a loaded environment in dependency order: module inputs, locals, resources
//! (expanded by `count` / `for_each` into instances) and outputs.
//!
//! Each resource instance's evaluated configuration goes to an [`InstancePlanner`], which decides
//! what happens to it and answers with what references to it see (known attributes as literals,
//! the rest as residuals). The differ is one planner; `validate` uses the same one with no state.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

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
}

/// Decides what happens to each instance as the walk reaches it.
#[async_trait]
pub trait InstancePlanner: Send {
    /// Returns the object references to this instance see.
    async fn plan_instance(&mut self, instance: InstanceConfig) -> Result<Expr, Diagnostic>;
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
pub async fn evaluate(
    env: &Environment,
    graph: &ConfigGraph,
    schemas: &SchemaRegistry,
    planner: &mut dyn InstancePlanner,
) -> Result<Evaluated, Vec<Diagnostic>> {
    let mut walk = Walk {
        env,
        graph,
        env_vars: environment_variables(),
        inputs: vec![HashMap::new(); graph.instances.len()],
        locals: vec![HashMap::new(); graph.instances.len()],
        outputs: vec![HashMap::new(); graph.instances.len()],
        bindings: HashMap::new(),
        addrs: HashMap::new(),
        failed: HashSet::new(),
        diags: Vec::new(),
        expanded: 0,
    };

    let providers = match provider_configs(env) {
        Ok(p) => p,
        Err(d) => {
            walk.diags.extend(d);
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
                        walk.diags.push(
                        Diagnostic::error_at("`tags` must be a mapping of tag names to values known before apply", &tags.span)
                            .with_help("write e.g. `tags: { env: dev, system: datasets }`"),
                    );
                        None
                    }
                },
                Err(d) => {
                    walk.diags.push(d);
                    None
                }
            }
        }
        None => None,
    };
    let known_providers: BTreeSet<String> = providers.iter().map(ProviderConfig::key).collect();

    for &item in &graph.order {
        // An item whose dependency failed cannot be evaluated meaningfully; its own error would
        // only repeat the first one.
        let blocked = graph
            .resource_deps
            .get(&item)
            .is_some_and(|deps| deps.iter().any(|d| walk.failed.contains(d)))
            || walk.depends_on_failed(item);
        if blocked {
            walk.failed.insert(item);
            continue;
        }
        let result = match item {
            Item::Input { inst, idx } => walk.input(inst, idx),
            Item::Local { inst, idx } => walk.local(inst, idx),
            Item::Output { inst, idx } => walk.output(inst, idx),
            Item::Resource { inst, idx } => {
                walk.resource(
                    inst,
                    idx,
                    schemas,
                    env_tags.as_ref(),
                    &known_providers,
                    planner,
                )
                .await
            }
        };
        if let Err(diags) = result {
            walk.diags.extend(diags);
            walk.failed.insert(item);
        }
    }

    if walk.diags.iter().any(Diagnostic::is_error) {
        return Err(walk.diags);
    }
    let root = &graph.instances[0].module;
    let outputs = root
        .outputs
        .iter()
        .filter_map(|o| {
            Some(EvaluatedOutput {
                name: o.name.text.clone(),
                value: walk.outputs[0].get(&o.name.text)?.clone(),
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
    if walk.bindings.len() + walk.expanded >= WORTH_A_THREAD {
        drop_in_background((
            walk.bindings,
            walk.addrs,
            walk.inputs,
            walk.locals,
            walk.outputs,
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

struct Walk<'a> {
    env: &'a Environment,
    graph: &'a ConfigGraph,
    env_vars: Expr,
    inputs: Vec<HashMap<String, Expr>>,
    locals: Vec<HashMap<String, Expr>>,
    outputs: Vec<HashMap<String, Expr>>,
    /// Resource block (module instance, name) → what references to it see.
    bindings: HashMap<(usize, String), Expr>,
    /// Resource item → the instance addresses it expanded to.
    addrs: HashMap<Item, Vec<ResourceAddr>>,
    failed: HashSet<Item>,
    diags: Vec<Diagnostic>,
    /// Instances expanded so far over all blocks, bounded by [`MAX_INSTANCES_TOTAL`].
    expanded: usize,
}

type ItemResult = Result<(), Vec<Diagnostic>>;

impl<'a> Walk<'a> {
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

    fn depends_on_failed(&self, item: Item) -> bool {
        // Inputs, locals and outputs have no resource deps entry for other non-resource items;
        // check their direct references through the graph's dependents relation instead.
        self.failed
            .iter()
            .any(|f| self.graph.dependents(*f).any(|d| d == item))
    }

    fn input(&mut self, inst: usize, idx: usize) -> ItemResult {
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
        self.inputs[inst].insert(decl.name.text.clone(), value);
        Ok(())
    }

    fn local(&mut self, inst: usize, idx: usize) -> ItemResult {
        let (name, expr) = &self.graph.instances[inst].module.locals[idx];
        let value = eval(expr, &self.scope(inst, None, None)).map_err(|d| vec![d])?;
        self.locals[inst].insert(name.text.clone(), value);
        Ok(())
    }

    fn output(&mut self, inst: usize, idx: usize) -> ItemResult {
        let decl = &self.graph.instances[inst].module.outputs[idx];
        let value = eval(&decl.value, &self.scope(inst, None, None)).map_err(|d| vec![d])?;
        let value = match (decl.sensitive, value.as_literal()) {
            (true, Some(v)) if !v.is_sensitive() => {
                Expr::literal(Value::Sensitive(Box::new(v.clone())), value.span)
            }
            _ => value,
        };
        self.outputs[inst].insert(decl.name.text.clone(), value);
        Ok(())
    }

    async fn resource(
        &mut self,
        inst: usize,
        idx: usize,
        schemas: &SchemaRegistry,
        env_tags: Option<&Expr>,
        known_providers: &BTreeSet<String>,
        planner: &mut dyn InstancePlanner,
    ) -> ItemResult {
        let instance = &self.graph.instances[inst];
        let block = &instance.module.resources[idx];
        let Some(schema) = schemas.get(&block.type_name.text) else {
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
        self.expanded += keys.len();
        if self.expanded > MAX_INSTANCES_TOTAL {
            let span = block
                .count
                .as_ref()
                .or(block.for_each.as_ref())
                .map_or(&block.span, |e| &e.span);
            return Err(vec![
                Diagnostic::error_at(
                    format!(
                        "the environment expands to more than {MAX_INSTANCES_TOTAL} resource instances (the limit for one environment), reached at `{}`",
                        block.name.text
                    ),
                    span,
                )
                .with_help("split the environment into several environments with their own state"),
            ]);
        }

        let depends_on: Vec<ResourceAddr> = self
            .graph
            .resource_deps
            .get(&Item::Resource { inst, idx })
            .into_iter()
            .flatten()
            .flat_map(|dep| self.addrs.get(dep).into_iter().flatten().cloned())
            .collect();

        let mut objects: Vec<(Option<InstanceKey>, Expr)> = Vec::with_capacity(keys.len());
        let mut diags = Vec::new();
        let mut instance_addrs = Vec::with_capacity(keys.len());
        for (key, each, count) in keys {
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
                })
                .await;
            match planned {
                Ok(object) => objects.push((key, object)),
                Err(d) => diags.push(d),
            }
            instance_addrs.push(addr);
        }
        self.addrs
            .insert(Item::Resource { inst, idx }, instance_addrs);
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
        self.bindings
            .insert((inst, block.name.text.clone()), binding);
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

fn map_of(values: &HashMap<String, Expr>, span: &Span) -> Expr {
    let mut entries: Vec<(String, Expr)> =
        values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Expr::folded(ExprKind::Map(entries), span.clone())
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
            "inputs" | "var" => walk.inputs[self.inst].get(attr),
            "locals" | "local" => walk.locals[self.inst].get(attr),
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
            _ => match walk.bindings.get(&(self.inst, root.to_string()))?.kind {
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
        match self.walk.bindings.get(&(self.inst, name.to_string())) {
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
                if let Some(binding) = walk.bindings.get(&(self.inst, other.to_string())) {
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
