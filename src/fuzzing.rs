//! Entry points for fuzzing: each takes arbitrary bytes, runs one reader of untrusted input
//! over them, and must return (an error is a fine outcome) without panicking, hanging or
//! exhausting memory.
//!
//! They live in the library, not in `fuzz/`, so that two runners share them: the cargo-fuzz
//! targets under `fuzz/fuzz_targets/` (coverage-guided, where the toolchain allows it) and
//! `tests/fuzz_corpus.rs` (every seed in `fuzz/corpus/` plus random and mutated inputs, on the
//! stable toolchain in the ordinary test run). Not part of cairn's API: hidden from the docs.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;

use crate::graph::ConfigGraph;
use crate::providers::Catalog;
use crate::spec::diagnostic::{Diagnostic, Sources};
use crate::spec::evaluate::{InstanceConfig, InstancePlanner, evaluate};
use crate::spec::expr::{Expr, ExprKind, Scope, eval, parse_template, references};
use crate::spec::load::load_environment;
use crate::spec::span::Span;
use crate::value::Value;

/// Separates the environment file from the module file in a spec input.
pub const MODULE_SEPARATOR: &[u8] = b"\n#--- modules/m/module.yaml\n";

/// The spec loader, graph and evaluator on one environment (`environments/dev.yaml`) and one
/// module (`modules/m/module.yaml`, after [`MODULE_SEPARATOR`]), written under `dir`. Every
/// diagnostic is rendered too, since rendering quotes lines by the spans it is given. Returns
/// whether the spec evaluated without errors.
pub fn spec(data: &[u8], dir: &Path) -> bool {
    let (env, module) = match find(data, MODULE_SEPARATOR) {
        Some(at) => (&data[..at], &data[at + MODULE_SEPARATOR.len()..]),
        None => (data, &[][..]),
    };
    let written = std::fs::create_dir_all(dir.join("environments"))
        .and_then(|()| std::fs::create_dir_all(dir.join("modules/m")))
        .and_then(|()| std::fs::write(dir.join("environments/dev.yaml"), env))
        .and_then(|()| std::fs::write(dir.join("modules/m/module.yaml"), module));
    if written.is_err() {
        return false;
    }
    let catalog = catalog();
    let loaded = load_environment(dir, "dev", &catalog.schemas);
    render_all(&loaded.sources, &loaded.diagnostics);
    let Some(env) = loaded.env else {
        return false;
    };
    let graph = match ConfigGraph::build(&env) {
        Ok(graph) => graph,
        Err(diags) => {
            render_all(&loaded.sources, &diags);
            return false;
        }
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        return false;
    };
    let planner = EchoPlanner;
    match runtime.block_on(evaluate(&env, &graph, &catalog.schemas, &planner)) {
        Ok(_) => true,
        Err(diags) => {
            render_all(&loaded.sources, &diags);
            false
        }
    }
}

/// The expression language: parse the input as a template, list its references, evaluate it
/// in a scope with a few known values, and render any diagnostic.
pub fn expression(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let file: Arc<str> = Arc::from("fuzz.yaml");
    let mut sources = Sources::default();
    sources.add(file.clone(), Arc::from(text.as_ref()));
    let span = Span::new(file, 1, 1, u32::try_from(text.len()).unwrap_or(u32::MAX));
    let expr = match parse_template(&text, &span) {
        Ok(expr) => expr,
        Err(d) => {
            let _ = sources.render(&d);
            return;
        }
    };
    let _ = references(&expr);
    if let Err(d) = eval(&expr, &FuzzScope) {
        let _ = sources.render(&d);
    }
}

/// The state file reader (checksum, version, JSON) on the input as a file's bytes; whether it
/// was accepted.
pub fn state_file(data: &[u8]) -> bool {
    crate::state::local::parse_state_file(data, "fuzz.json").is_ok()
}

/// The saved-plan reader (envelope, checksum, plan) on the input as a file's bytes; whether it
/// was accepted.
pub fn plan_file(data: &[u8]) -> bool {
    crate::plan::file::parse(data, "fuzz.cairn").is_ok()
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(crate::providers::builtin_catalog)
}

fn render_all(sources: &Sources, diags: &[Diagnostic]) {
    for d in diags {
        let _ = sources.render(d);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Plans nothing: references to an instance see its configuration, and every attribute it
/// does not configure (`id` and the other computed ones) as unknown, as before a create.
struct EchoPlanner;

#[async_trait]
impl InstancePlanner for EchoPlanner {
    async fn plan_instance(&self, instance: InstanceConfig) -> Result<Expr, Diagnostic> {
        let mut config = instance.config;
        if let Some(schema) = catalog().schemas.get(&instance.resource_type) {
            for attr in &schema.attributes {
                config
                    .entry(attr.name.to_string())
                    .or_insert_with(|| Expr::literal(Value::Unknown, instance.span.clone()));
            }
        }
        Ok(Expr::new(
            ExprKind::Map(config.into_iter().collect()),
            instance.span,
        ))
    }
}

/// `locals` and `inputs` hold one value of each kind; anything else is unbound.
struct FuzzScope;

impl Scope for FuzzScope {
    fn root(&self, name: &str, span: &Span) -> Result<Expr, Diagnostic> {
        match name {
            "locals" | "inputs" | "each" => {
                let map = BTreeMap::from([
                    ("s".to_string(), Value::string("10.0.0.0/16")),
                    ("n".to_string(), Value::Number(3.0)),
                    ("b".to_string(), Value::Bool(true)),
                    (
                        "l".to_string(),
                        Value::List(vec![Value::string("a"), Value::string("b")]),
                    ),
                    (
                        "m".to_string(),
                        Value::Map(BTreeMap::from([("k".to_string(), Value::Number(1.0))])),
                    ),
                    (
                        "secret".to_string(),
                        Value::Sensitive(Box::new(Value::string("hunter2"))),
                    ),
                    ("unknown".to_string(), Value::Unknown),
                ]);
                Ok(Expr::literal(Value::Map(map), span.clone()))
            }
            "count" => Ok(Expr::literal(
                Value::Map(BTreeMap::from([("index".to_string(), Value::Number(0.0))])),
                span.clone(),
            )),
            _ => Err(Diagnostic::error_at(format!("unknown name `{name}`"), span)),
        }
    }
}
