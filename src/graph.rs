//! The dependency graph. Nodes are the things of a loaded environment that carry expressions:
//! each module instance's inputs, locals, resources and outputs. Edges come from references and
//! `depends_on`. The graph gives the evaluation order, finds cycles (naming every address in one,
//! with the span of each reference), and tells which resources each resource depends on.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::spec::diagnostic::{Diagnostic, did_you_mean};
use crate::spec::expr::{Expr, Reference, references};
use crate::spec::model::{Environment, Module, ModuleCall};
use crate::spec::span::Span;

/// One instantiation of a module: the root (the environment file) or a module call.
#[derive(Clone, Debug)]
pub struct ModuleInstance {
    /// Call names from the root (empty for the root).
    pub path: Vec<String>,
    pub module: Arc<Module>,
    /// The instance that called this one, and the call.
    pub parent: Option<(usize, ModuleCall)>,
    /// Call name → instance index.
    pub children: HashMap<String, usize>,
    /// Provider name → provider key for resources of this module (`aws` → `aws.dr`).
    pub providers: HashMap<String, String>,
}

impl ModuleInstance {
    /// `module.a.module.b` (empty for the root).
    pub fn address(&self) -> String {
        self.path
            .iter()
            .map(|m| format!("module.{m}"))
            .collect::<Vec<_>>()
            .join(".")
    }

    fn prefixed(&self, what: &str) -> String {
        let addr = self.address();
        if addr.is_empty() {
            what.to_string()
        } else {
            format!("{addr}.{what}")
        }
    }
}

/// A node of the graph: an item of a module instance, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Item {
    /// An input of module instance `inst` (its declaration index).
    Input {
        inst: usize,
        idx: usize,
    },
    Local {
        inst: usize,
        idx: usize,
    },
    Resource {
        inst: usize,
        idx: usize,
    },
    Output {
        inst: usize,
        idx: usize,
    },
}

impl Item {
    pub fn inst(self) -> usize {
        match self {
            Item::Input { inst, .. }
            | Item::Local { inst, .. }
            | Item::Resource { inst, .. }
            | Item::Output { inst, .. } => inst,
        }
    }
}

/// The graph of a loaded environment.
pub struct ConfigGraph {
    pub instances: Vec<ModuleInstance>,
    graph: DiGraph<Item, Span>,
    index: HashMap<Item, NodeIndex>,
    /// Items in an order where every item comes after what it references.
    pub order: Vec<Item>,
    /// For each resource item, the resource items it depends on (directly or through inputs,
    /// locals and outputs, plus `depends_on`).
    pub resource_deps: HashMap<Item, BTreeSet<Item>>,
}

/// A reference as the graph needs it: root name and the leading attribute names.
struct Ref<'a> {
    root: &'a str,
    attrs: Vec<&'a str>,
    span: &'a Span,
}

impl<'a> Ref<'a> {
    fn from(r: &'a Reference) -> Ref<'a> {
        Ref {
            root: &r.root,
            attrs: r.attrs.iter().map(String::as_str).collect(),
            span: &r.span,
        }
    }
}

impl ConfigGraph {
    pub fn build(env: &Environment) -> Result<ConfigGraph, Vec<Diagnostic>> {
        let mut instances = Vec::new();
        let root_providers = env
            .providers
            .iter()
            .filter(|p| p.alias.is_none())
            .map(|p| (p.name.clone(), p.key()))
            .collect();
        instantiate(
            &mut instances,
            Vec::new(),
            env.root.clone(),
            None,
            root_providers,
        );

        let mut graph = DiGraph::new();
        let mut index = HashMap::new();
        for (i, inst) in instances.iter().enumerate() {
            let m = &inst.module;
            let items = (0..m.inputs.len())
                .map(|idx| Item::Input { inst: i, idx })
                .chain((0..m.locals.len()).map(|idx| Item::Local { inst: i, idx }))
                .chain((0..m.resources.len()).map(|idx| Item::Resource { inst: i, idx }))
                .chain((0..m.outputs.len()).map(|idx| Item::Output { inst: i, idx }));
            for item in items {
                index.insert(item, graph.add_node(item));
            }
        }

        let mut diags = Vec::new();
        let mut edges = Vec::new();
        for (&item, _) in index.iter() {
            let (scope_inst, exprs) = expressions_of(&instances, item);
            for expr in exprs {
                for reference in references(expr) {
                    let r = Ref::from(&reference);
                    match resolve(&instances, scope_inst, &r) {
                        Ok(targets) => {
                            edges.extend(targets.into_iter().map(|t| (item, t, r.span.clone())))
                        }
                        Err(d) => diags.push(d),
                    }
                }
            }
            if let Item::Resource { inst, idx } = item {
                let block = &instances[inst].module.resources[idx];
                for dep in &block.depends_on {
                    let mut parts = dep.text.split('.');
                    let root = parts.next().unwrap_or_default();
                    let r = Ref {
                        root,
                        attrs: parts.collect(),
                        span: &dep.span,
                    };
                    // `depends_on: [module.x]` waits for every resource of that module, as in
                    // Terraform, not only for what its outputs use.
                    let whole_module = match (r.root, r.attrs.as_slice()) {
                        ("module", [call]) => instances[inst].children.get(*call),
                        (call, []) => instances[inst].children.get(call),
                        _ => None,
                    };
                    if let Some(&child) = whole_module {
                        for target in resources_within(&instances, child) {
                            edges.push((item, target, dep.span.clone()));
                        }
                        continue;
                    }
                    match resolve(&instances, inst, &r) {
                        Ok(targets) => {
                            edges.extend(targets.into_iter().map(|t| (item, t, dep.span.clone())))
                        }
                        Err(d) => diags.push(d),
                    }
                }
            }
        }
        if !diags.is_empty() {
            diags.sort_by(|a, b| {
                let key = |d: &Diagnostic| d.span.as_ref().map(|s| (s.file.clone(), s.line, s.col));
                key(a).cmp(&key(b))
            });
            diags.dedup();
            return Err(diags);
        }
        edges.sort_by_key(|a| (a.0, a.1));
        for (from, to, span) in edges {
            // Edge direction: dependency → dependent, so a topological order evaluates
            // dependencies first.
            graph.add_edge(index[&to], index[&from], span);
        }

        let order = match toposort(&graph, None) {
            Ok(order) => order.into_iter().map(|n| graph[n]).collect::<Vec<_>>(),
            Err(cycle) => return Err(vec![cycle_diagnostic(&instances, &graph, cycle.node_id())]),
        };

        let mut resource_deps: HashMap<Item, BTreeSet<Item>> = HashMap::new();
        for &item in &order {
            let mut deps = BTreeSet::new();
            for edge in graph.edges_directed(index[&item], petgraph::Direction::Incoming) {
                let source = graph[edge.source()];
                if matches!(source, Item::Resource { .. }) {
                    deps.insert(source);
                } else if let Some(inherited) = resource_deps.get(&source) {
                    deps.extend(inherited.iter().copied());
                }
            }
            resource_deps.insert(item, deps);
        }
        let mut sorted: Vec<Item> = order;
        // Stable, readable order among independent items: a topological order that prefers
        // source order.
        sorted = stable_topo(&graph, &index, &sorted);
        Ok(ConfigGraph {
            instances,
            graph,
            index,
            order: sorted,
            resource_deps,
        })
    }

    /// The name of an item as users read it: `module.network.fake_network.vpc`,
    /// `module.network.local.cidr`, `module.db.input.size`, `output.endpoint`.
    pub fn item_name(&self, item: Item) -> String {
        item_name(&self.instances, item)
    }

    /// Items that directly reference `item`.
    pub fn dependents(&self, item: Item) -> impl Iterator<Item = Item> + '_ {
        self.graph
            .edges_directed(self.index[&item], petgraph::Direction::Outgoing)
            .map(|e| self.graph[e.target()])
    }

    /// Items that `item` directly references (once per reference).
    pub fn dependencies(&self, item: Item) -> impl Iterator<Item = Item> + '_ {
        self.graph
            .edges_directed(self.index[&item], petgraph::Direction::Incoming)
            .map(|e| self.graph[e.source()])
    }
}

fn stable_topo(
    graph: &DiGraph<Item, Span>,
    index: &HashMap<Item, NodeIndex>,
    order: &[Item],
) -> Vec<Item> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut indegree: HashMap<NodeIndex, usize> = HashMap::new();
    for &item in order {
        let n = index[&item];
        indegree.insert(
            n,
            graph
                .edges_directed(n, petgraph::Direction::Incoming)
                .count(),
        );
    }
    let mut ready: BinaryHeap<Reverse<Item>> = order
        .iter()
        .filter(|i| indegree[&index[i]] == 0)
        .map(|&i| Reverse(i))
        .collect();
    let mut out = Vec::with_capacity(order.len());
    while let Some(Reverse(item)) = ready.pop() {
        out.push(item);
        for e in graph.edges_directed(index[&item], petgraph::Direction::Outgoing) {
            let d = indegree.entry(e.target()).or_default();
            *d -= 1;
            if *d == 0 {
                ready.push(Reverse(graph[e.target()]));
            }
        }
    }
    out
}

/// Every resource item of a module instance and the modules it calls.
fn resources_within(instances: &[ModuleInstance], inst: usize) -> Vec<Item> {
    let mut out: Vec<Item> = (0..instances[inst].module.resources.len())
        .map(|idx| Item::Resource { inst, idx })
        .collect();
    for &child in instances[inst].children.values() {
        out.extend(resources_within(instances, child));
    }
    out
}

fn instantiate(
    out: &mut Vec<ModuleInstance>,
    path: Vec<String>,
    module: Arc<Module>,
    parent: Option<(usize, ModuleCall)>,
    providers: HashMap<String, String>,
) -> usize {
    let me = out.len();
    out.push(ModuleInstance {
        path: path.clone(),
        module: module.clone(),
        parent,
        children: HashMap::new(),
        providers: providers.clone(),
    });
    for call in &module.modules {
        let mut child_providers = providers.clone();
        for (name, target) in &call.providers {
            child_providers.insert(name.text.clone(), target.text.clone());
        }
        let mut child_path = path.clone();
        child_path.push(call.name.text.clone());
        let child = instantiate(
            out,
            child_path,
            call.module.clone(),
            Some((me, call.clone())),
            child_providers,
        );
        out[me].children.insert(call.name.text.clone(), child);
    }
    me
}

/// The expressions an item evaluates, and the module instance whose names they use.
fn expressions_of(instances: &[ModuleInstance], item: Item) -> (usize, Vec<&Expr>) {
    let inst = &instances[item.inst()];
    let m = &inst.module;
    match item {
        Item::Input { inst: i, idx } => {
            let decl = &m.inputs[idx];
            let passed = inst.parent.as_ref().and_then(|(parent, call)| {
                call.inputs
                    .iter()
                    .find(|(n, _)| n.text == decl.name.text)
                    .map(|(_, e)| (*parent, e))
            });
            match passed {
                Some((parent, expr)) => (parent, vec![expr]),
                None => (i, decl.default.iter().collect()),
            }
        }
        Item::Local { inst: i, idx } => (i, vec![&m.locals[idx].1]),
        Item::Output { inst: i, idx } => (i, vec![&m.outputs[idx].value]),
        Item::Resource { inst: i, idx } => {
            let r = &m.resources[idx];
            let mut exprs = vec![&r.properties];
            exprs.extend(r.for_each.iter());
            exprs.extend(r.count.iter());
            (i, exprs)
        }
    }
}

/// Names every module scope has besides its resources, modules, inputs and locals.
const BUILTIN_ROOTS: &[&str] = &["each", "count", "env", "environment"];

/// The items a reference in module instance `inst` points at.
fn resolve(
    instances: &[ModuleInstance],
    inst: usize,
    r: &Ref<'_>,
) -> Result<Vec<Item>, Diagnostic> {
    let me = &instances[inst];
    let m = &me.module;
    let first = r.attrs.first().copied();
    match r.root {
        "inputs" | "var" => match first {
            Some(name) => match m.inputs.iter().position(|i| i.name.text == name) {
                Some(idx) => Ok(vec![Item::Input { inst, idx }]),
                None => Err(undefined(
                    &format!("{}.{name}", r.root),
                    &format!("this module has no input `{name}`"),
                    r.span,
                    m.inputs.iter().map(|i| i.name.text.as_str()),
                    name,
                )),
            },
            None => Ok((0..m.inputs.len())
                .map(|idx| Item::Input { inst, idx })
                .collect()),
        },
        "locals" | "local" => match first {
            Some(name) => match m.locals.iter().position(|(n, _)| n.text == name) {
                Some(idx) => Ok(vec![Item::Local { inst, idx }]),
                None => Err(undefined(
                    &format!("{}.{name}", r.root),
                    &format!("no local `{name}` is defined here"),
                    r.span,
                    m.locals.iter().map(|(n, _)| n.text.as_str()),
                    name,
                )),
            },
            None => Ok((0..m.locals.len())
                .map(|idx| Item::Local { inst, idx })
                .collect()),
        },
        "module" => match first {
            Some(call) => module_output(instances, inst, call, r.attrs.get(1).copied(), r.span),
            None => Err(Diagnostic::error_at(
                "`module` must be followed by a module name, e.g. `module.network.vpc_id`",
                r.span,
            )),
        },
        root if BUILTIN_ROOTS.contains(&root) => Ok(Vec::new()),
        root => {
            if let Some(idx) = m.resources.iter().position(|res| res.name.text == root) {
                return Ok(vec![Item::Resource { inst, idx }]);
            }
            if me.children.contains_key(root) {
                return module_output(instances, inst, root, first, r.span);
            }
            let candidates: Vec<&str> = m
                .resources
                .iter()
                .map(|res| res.name.text.as_str())
                .chain(m.modules.iter().map(|c| c.name.text.as_str()))
                .chain(["inputs", "locals", "module"])
                .chain(BUILTIN_ROOTS.iter().copied())
                .collect();
            Err(undefined(
                root,
                "no resource, module or name of that name exists in this module",
                r.span,
                candidates.into_iter(),
                root,
            ))
        }
    }
}

fn module_output(
    instances: &[ModuleInstance],
    inst: usize,
    call: &str,
    output: Option<&str>,
    span: &Span,
) -> Result<Vec<Item>, Diagnostic> {
    let me = &instances[inst];
    let Some(&child) = me.children.get(call) else {
        return Err(undefined(
            &format!("module.{call}"),
            &format!("no module `{call}` is instantiated here"),
            span,
            me.module.modules.iter().map(|c| c.name.text.as_str()),
            call,
        ));
    };
    let outputs = &instances[child].module.outputs;
    match output {
        Some(name) => match outputs.iter().position(|o| o.name.text == name) {
            Some(idx) => Ok(vec![Item::Output { inst: child, idx }]),
            None => {
                let source = me
                    .module
                    .module_call(call)
                    .map(|c| c.source.text.clone())
                    .unwrap_or_default();
                let d = Diagnostic::error_at(
                    format!("module `{call}` (source `{source}`) has no output `{name}`"),
                    span,
                );
                Err(
                    match did_you_mean(name, outputs.iter().map(|o| o.name.text.as_str())) {
                        Some(close) => d.with_help(format!("did you mean `{close}`?")),
                        None => d.with_help(format!(
                            "its outputs are: {}",
                            if outputs.is_empty() {
                                "(none)".to_string()
                            } else {
                                outputs
                                    .iter()
                                    .map(|o| o.name.text.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            }
                        )),
                    },
                )
            }
        },
        None => Ok((0..outputs.len())
            .map(|idx| Item::Output { inst: child, idx })
            .collect()),
    }
}

fn undefined<'a>(
    written: &str,
    why: &str,
    span: &Span,
    candidates: impl Iterator<Item = &'a str>,
    name: &str,
) -> Diagnostic {
    let candidates: Vec<&str> = candidates.collect();
    let d = Diagnostic::error_at(format!("undefined reference `{written}`: {why}"), span);
    match did_you_mean(name, candidates.iter().copied()) {
        Some(close) => d.with_help(format!("did you mean `{close}`?")),
        None if candidates.is_empty() => d,
        None => d.with_help(format!("names available here: {}", candidates.join(", "))),
    }
}

fn item_name(instances: &[ModuleInstance], item: Item) -> String {
    let inst = &instances[item.inst()];
    let m = &inst.module;
    match item {
        Item::Input { idx, .. } => inst.prefixed(&format!("input.{}", m.inputs[idx].name.text)),
        Item::Local { idx, .. } => inst.prefixed(&format!("local.{}", m.locals[idx].0.text)),
        Item::Resource { idx, .. } => {
            let r = &m.resources[idx];
            inst.prefixed(&format!("{}.{}", r.type_name.text, r.name.text))
        }
        Item::Output { idx, .. } => inst.prefixed(&format!("output.{}", m.outputs[idx].name.text)),
    }
}

/// A cycle as one diagnostic: every item on it, and the reference that makes each step.
fn cycle_diagnostic(
    instances: &[ModuleInstance],
    graph: &DiGraph<Item, Span>,
    start: NodeIndex,
) -> Diagnostic {
    let scc = tarjan_scc(graph)
        .into_iter()
        .find(|c| c.contains(&start))
        .unwrap_or_else(|| vec![start]);
    // Walk inside the strongly connected component until we come back to the start.
    let mut path = vec![start];
    let mut spans = Vec::new();
    let mut visited = vec![start];
    let mut current = start;
    loop {
        let next = graph
            .edges_directed(current, petgraph::Direction::Outgoing)
            .filter(|e| scc.contains(&e.target()))
            .min_by_key(|e| (e.target() != start, visited.contains(&e.target())));
        let Some(edge) = next else { break };
        spans.push((edge.target(), edge.weight().clone()));
        if edge.target() == start || visited.contains(&edge.target()) {
            break;
        }
        visited.push(edge.target());
        path.push(edge.target());
        current = edge.target();
    }
    // Edges run dependency → dependent, so the walk lists each item before the one that refers
    // to it; reversed, it reads "A refers to B refers to C refers to A".
    let mut names: Vec<String> = path
        .iter()
        .map(|n| item_name(instances, graph[*n]))
        .collect();
    names.push(item_name(instances, graph[start]));
    names.reverse();
    let mut from = start;
    let mut labelled = Vec::new();
    for (target, span) in &spans {
        labelled.push((
            span.clone(),
            format!(
                "`{}` refers to `{}` here",
                item_name(instances, graph[*target]),
                item_name(instances, graph[from])
            ),
        ));
        from = *target;
    }
    labelled.reverse();
    let mut d = Diagnostic::error(
        format!("dependency cycle: {}", names.join(" → ")),
        labelled.first().map(|(s, _)| s.clone()),
    );
    for (span, label) in labelled {
        d = d.with_related(span, label);
    }
    d.with_help("break the cycle: one of these references must go, or be replaced by an input or a value known in advance")
}
