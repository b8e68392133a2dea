//! Reading an environment: `environments/NAME.yaml` and the modules it instantiates, into the
//! typed [`Environment`], checking every key, resource type and property against the schemas.
//!
//! Loading never stops at the first problem: it collects every diagnostic it can, so one run
//! shows the user all the mistakes in their files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::diagnostic::{Diagnostic, Sources, did_you_mean};
use super::duration::parse_duration;
use super::expr::{Expr, ExprKind, parse_template};
use super::model::{
    Backend, Environment, InputDecl, Lifecycle, Module, ModuleCall, MovedEntry, Name, OutputDecl,
    ProviderBlock, ResourceBlock, S3Location,
};
use super::span::Span;
use super::yaml::{self, Key, Node, NodeKind};
use crate::addr::AddrSelector;
use crate::limits::{MAX_MODULE_DEPTH, MAX_SPEC_FILE_BYTES, read_capped};
use crate::providers::Timeouts;
use crate::schema::check::{coerce, parse_type};
use crate::schema::{AttrType, Presence, SchemaRegistry};
use crate::value::Value;

/// What loading produced: the environment when there were no errors, the text of every file
/// read (to quote lines in diagnostics), and the diagnostics.
pub struct Loaded {
    pub env: Option<Environment>,
    pub sources: Sources,
    pub diagnostics: Vec<Diagnostic>,
}

const ENV_KEYS: &[&str] = &[
    "environment",
    "description",
    "providers",
    "tags",
    "backend",
    "locals",
    "modules",
    "resources",
    "outputs",
    "moved",
];
const MODULE_KEYS: &[&str] = &[
    "description",
    "inputs",
    "locals",
    "modules",
    "resources",
    "outputs",
    "moved",
];
const RESOURCE_KEYS: &[&str] = &[
    "type",
    "description",
    "properties",
    "for_each",
    "count",
    "depends_on",
    "provider",
    "lifecycle",
    "timeouts",
];
const TIMEOUT_KEYS: &[&str] = &["create", "update", "delete"];
const LIFECYCLE_KEYS: &[&str] = &["prevent_destroy", "create_before_destroy", "ignore_changes"];
const MODULE_CALL_KEYS: &[&str] = &["source", "inputs", "providers", "description"];
const INPUT_KEYS: &[&str] = &["type", "default", "description", "sensitive"];
const OUTPUT_KEYS: &[&str] = &["value", "description", "sensitive"];

/// Reads a spec file of at most [`MAX_SPEC_FILE_BYTES`]; `Ok(Err(size))` when it is larger.
fn read_bounded(path: &Path) -> std::io::Result<Result<String, u64>> {
    match read_capped(path, MAX_SPEC_FILE_BYTES)? {
        Ok(bytes) => String::from_utf8(bytes).map(Ok).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the file is not UTF-8 text",
            )
        }),
        Err(size) => Ok(Err(size)),
    }
}

/// The environment files that exist under `project_dir/environments`.
pub fn available_environments(project_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(project_dir.join("environments"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            let ext = path.extension()?.to_str()?;
            if ext == "yaml" || ext == "yml" {
                Some(path.file_stem()?.to_str()?.to_string())
            } else {
                None
            }
        })
        .collect();
    names.sort();
    names
}

/// Loads `environments/<env>.yaml` under `project_dir` and every module it uses.
pub fn load_environment(project_dir: &Path, env: &str, schemas: &SchemaRegistry) -> Loaded {
    load_environment_telling_backend(project_dir, env, schemas, |_| {})
}

/// [`load_environment`], calling `on_backend` with the environment's state backend as soon as
/// the environment file is read, before its modules load (not at all when the file has
/// errors): a command can lock and read the state while the spec is still loading.
pub fn load_environment_telling_backend(
    project_dir: &Path,
    env: &str,
    schemas: &SchemaRegistry,
    on_backend: impl FnOnce(&Backend),
) -> Loaded {
    let mut loader = Loader {
        project_dir: project_dir.to_path_buf(),
        source_root: source_root(project_dir),
        schemas,
        sources: Sources::default(),
        diags: Vec::new(),
        modules: HashMap::new(),
        loading: Vec::new(),
        on_backend: Some(Box::new(on_backend)),
    };
    let env = loader.environment(env);
    let has_errors = loader.diags.iter().any(Diagnostic::is_error);
    Loaded {
        env: if has_errors { None } else { env },
        sources: loader.sources,
        diagnostics: loader.diags,
    }
}

/// The directory module sources must stay inside: the repository the project belongs to (the
/// nearest ancestor holding `.git`), so that an example under `examples/` can use the
/// repository's top-level `modules/` by a relative path; the project directory itself when it
/// belongs to no repository. Absolute, not resolved through symbolic links.
fn source_root(project_dir: &Path) -> PathBuf {
    let absolute = std::path::absolute(project_dir).unwrap_or_else(|_| project_dir.to_path_buf());
    absolute
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
        .unwrap_or(absolute)
}

struct Loader<'a> {
    project_dir: PathBuf,
    /// See [`source_root`].
    source_root: PathBuf,
    schemas: &'a SchemaRegistry,
    sources: Sources,
    diags: Vec<Diagnostic>,
    /// Modules already loaded, by canonical path: a module used twice is read once.
    modules: HashMap<PathBuf, Arc<Module>>,
    /// Modules being loaded, to report a module that includes itself.
    loading: Vec<PathBuf>,
    /// See [`load_environment_telling_backend`].
    on_backend: Option<BackendHook<'a>>,
}

/// What [`load_environment_telling_backend`] calls with the backend.
type BackendHook<'a> = Box<dyn FnOnce(&Backend) + 'a>;

impl Loader<'_> {
    fn display_name(&self, path: &Path) -> Arc<str> {
        let shown = path.strip_prefix(&self.project_dir).unwrap_or(path);
        Arc::from(shown.to_string_lossy().as_ref())
    }

    fn read(&mut self, path: &Path) -> Option<(Arc<str>, Node)> {
        let name = self.display_name(path);
        let text = match read_bounded(path) {
            Ok(Ok(text)) => text,
            Ok(Err(bytes)) => {
                self.diags.push(yaml::file_too_large(&name, bytes));
                return None;
            }
            Err(e) => {
                self.diags
                    .push(Diagnostic::error(format!("cannot read {name}: {e}"), None));
                return None;
            }
        };
        self.sources.add(name.clone(), Arc::from(text.as_str()));
        match yaml::parse(&name, &text) {
            Ok(node) => Some((name, node)),
            Err(d) => {
                self.diags.push(d);
                None
            }
        }
    }

    fn environment(&mut self, env: &str) -> Option<Environment> {
        let dir = self.project_dir.join("environments");
        let path = ["yaml", "yml"]
            .iter()
            .map(|ext| dir.join(format!("{env}.{ext}")))
            .find(|p| p.is_file());
        let Some(path) = path else {
            let available = available_environments(&self.project_dir);
            let help = if available.is_empty() {
                format!(
                    "no environments exist under {}; create environments/{env}.yaml",
                    dir.display()
                )
            } else {
                let mut help = format!("available environments: {}", available.join(", "));
                if let Some(close) = did_you_mean(env, available.iter().map(String::as_str)) {
                    help = format!("did you mean `{close}`? {help}");
                }
                help
            };
            self.diags.push(
                Diagnostic::error(
                    format!("environment `{env}` not found: there is no environments/{env}.yaml"),
                    None,
                )
                .with_help(help),
            );
            return None;
        };
        if let Some(real) = self.symlink_escape(&path) {
            self.diags.push(
                Diagnostic::error(
                    format!(
                        "{} leads out of the project directory (through `..` or a symbolic link), to {}",
                        self.display_name(&path),
                        real.display()
                    ),
                    None,
                )
                .with_help("cairn does not follow symbolic links out of the project; copy the file into environments/"),
            );
            return None;
        }
        let (file, node) = self.read(&path)?;
        let entries = self.mapping(&node, "an environment file")?;
        self.check_keys(entries, ENV_KEYS, "an environment file");

        let mut providers = Vec::new();
        let mut tags = None;
        let mut backend = Backend::Local { path: None };
        let mut name_seen = None;
        for (key, value) in entries {
            match key.name.as_str() {
                "environment" => {
                    if let Some(name) = self.string(value, "`environment`") {
                        if name.text != env {
                            self.diags.push(
                                Diagnostic::error_at(
                                    format!(
                                        "this file is environments/{env}.yaml but declares `environment: {}`",
                                        name.text
                                    ),
                                    &name.span,
                                )
                                .with_help(format!("write `environment: {env}`, or rename the file")),
                            );
                        }
                        name_seen = Some(name);
                    }
                }
                "providers" => providers = self.providers(value),
                "tags" => tags = self.expr(value),
                "backend" => backend = self.backend(value),
                _ => {}
            }
        }
        let _ = name_seen;
        if !self.diags.iter().any(Diagnostic::is_error)
            && let Some(on_backend) = self.on_backend.take()
        {
            on_backend(&backend);
        }
        let root = self.module_body(&file, &path, entries, true, 0)?;
        Some(Environment {
            name: env.to_string(),
            project_dir: self.project_dir.clone(),
            providers,
            tags,
            backend,
            root: Arc::new(root),
        })
    }

    fn providers(&mut self, node: &Node) -> Vec<ProviderBlock> {
        let mut out = Vec::new();
        let Some(entries) = self.mapping(node, "`providers`") else {
            return out;
        };
        self.check_duplicates(entries, "provider");
        for (key, value) in entries {
            let (name, alias) = match key.name.split_once('.') {
                Some((n, a)) => (n.to_string(), Some(a.to_string())),
                None => (key.name.clone(), None),
            };
            let Some(settings) = self.expr(value) else {
                continue;
            };
            let settings = match settings.kind {
                ExprKind::Literal(Value::Null) => {
                    Expr::literal(Value::Map(Default::default()), settings.span)
                }
                _ => settings,
            };
            out.push(ProviderBlock {
                name,
                alias,
                settings,
                span: key.span.clone(),
            });
        }
        out
    }

    fn backend(&mut self, node: &Node) -> Backend {
        let default = Backend::Local { path: None };
        let Some(entries) = self.mapping(node, "`backend`") else {
            return default;
        };
        self.check_keys(entries, &["local", "s3"], "`backend`");
        if entries.len() > 1 {
            self.diags.push(
                Diagnostic::error_at("`backend` names more than one backend", &node.span)
                    .with_help("keep one of `local` and `s3`"),
            );
            return default;
        }
        let mut backend = default;
        for (key, value) in entries {
            match key.name.as_str() {
                "local" => {
                    let Some(fields) = self.mapping(value, "`backend.local`") else {
                        continue;
                    };
                    self.check_keys(fields, &["path"], "`backend.local`");
                    for (k, v) in fields {
                        if k.name == "path"
                            && let Some(p) = self.string(v, "`backend.local.path`")
                        {
                            backend = Backend::Local {
                                path: Some(PathBuf::from(p.text)),
                            };
                        }
                    }
                }
                "s3" => {
                    if let Some(location) = self.s3_backend(key, value) {
                        backend = Backend::S3(location);
                    }
                }
                _ => {}
            }
        }
        backend
    }

    /// `s3: { bucket, key, region }`, all three required and non-empty. The endpoint is no
    /// setting: it comes from the SDK's standard chain (`AWS_ENDPOINT_URL`).
    fn s3_backend(&mut self, key: &Key, value: &Node) -> Option<S3Location> {
        let fields = self.mapping(value, "`backend.s3`")?;
        const FIELDS: [&str; 3] = ["bucket", "key", "region"];
        self.check_keys(fields, &FIELDS, "`backend.s3`");
        let mut found: [Option<String>; 3] = [None, None, None];
        for (k, v) in fields {
            let Some(slot) = FIELDS.iter().position(|f| *f == k.name) else {
                continue;
            };
            let what = format!("`backend.s3.{}`", k.name);
            let Some(text) = self.string(v, &what) else {
                continue;
            };
            if text.text.trim().is_empty() {
                self.diags
                    .push(Diagnostic::error_at(format!("{what} is empty"), &text.span));
                continue;
            }
            found[slot] = Some(text.text);
        }
        let missing: Vec<&str> = FIELDS
            .iter()
            .zip(&found)
            .filter(|(f, v)| v.is_none() && !fields.iter().any(|(k, _)| k.name == **f))
            .map(|(f, _)| *f)
            .collect();
        if !missing.is_empty() {
            let span = if matches!(value.kind, NodeKind::Null) {
                &key.span
            } else {
                &value.span
            };
            self.diags.push(
                Diagnostic::error_at(
                    format!(
                        "`backend.s3` is missing {}",
                        missing
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    span,
                )
                .with_help(
                    "write e.g. `backend: { s3: { bucket: acme-cairn-state, key: envs/prd.json, region: eu-west-1 } }`",
                ),
            );
            return None;
        }
        let [Some(bucket), Some(object_key), Some(region)] = found else {
            return None;
        };
        Some(S3Location {
            bucket,
            key: object_key,
            region: Some(region),
        })
    }

    /// The parts every module body has; `root` allows the environment's own keys.
    fn module_body(
        &mut self,
        file: &Arc<str>,
        path: &Path,
        entries: &[(Key, Node)],
        root: bool,
        depth: usize,
    ) -> Option<Module> {
        let mut module = Module {
            file: file.clone(),
            ..Module::default()
        };
        let mut declared: HashMap<String, Span> = HashMap::new();
        for (key, value) in entries {
            match key.name.as_str() {
                "inputs" if !root => module.inputs = self.inputs(value),
                "locals" => {
                    let Some(items) = self.mapping(value, "`locals`") else {
                        continue;
                    };
                    self.check_duplicates(items, "local");
                    for (k, v) in items {
                        if let Some(e) = self.expr(v) {
                            module.locals.push((name_of(k), e));
                        }
                    }
                }
                "resources" => {
                    let Some(items) = self.mapping(value, "`resources`") else {
                        continue;
                    };
                    for (k, v) in items {
                        if let Some(prev) = declared.insert(k.name.clone(), k.span.clone()) {
                            self.diags.push(duplicate_name(k, &prev));
                            continue;
                        }
                        if let Some(r) = self.resource(k, v) {
                            module.resources.push(r);
                        }
                    }
                }
                "modules" => {
                    let Some(items) = self.mapping(value, "`modules`") else {
                        continue;
                    };
                    for (k, v) in items {
                        if let Some(prev) = declared.insert(k.name.clone(), k.span.clone()) {
                            self.diags.push(duplicate_name(k, &prev));
                            continue;
                        }
                        if let Some(call) = self.module_call(path, k, v, depth) {
                            module.modules.push(call);
                        }
                    }
                }
                "outputs" => module.outputs = self.outputs(value),
                "moved" => module.moved = self.moved(value),
                _ => {}
            }
        }
        Some(module)
    }

    /// `moved: [{ from: ADDRESS, to: ADDRESS }]`.
    fn moved(&mut self, node: &Node) -> Vec<MovedEntry> {
        let NodeKind::Seq(items) = &node.kind else {
            self.diags.push(
                Diagnostic::error_at(
                    format!("`moved` must be a list, found {}", node.describe()),
                    &node.span,
                )
                .with_help("write e.g. `moved: [{ from: aws_vpc.main, to: aws_vpc.core }]`"),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let Some(fields) = self.mapping(item, "a `moved` entry") else {
                continue;
            };
            self.check_keys(fields, &["from", "to"], "a `moved` entry");
            let mut ends = [None, None];
            for (k, v) in fields {
                let slot = match k.name.as_str() {
                    "from" => 0,
                    "to" => 1,
                    _ => continue,
                };
                let Some(name) = self.string(v, &format!("`{}`", k.name)) else {
                    continue;
                };
                match name.text.parse::<AddrSelector>() {
                    Ok(sel) => ends[slot] = Some((sel, name.span)),
                    Err(e) => self
                        .diags
                        .push(Diagnostic::error_at(e.to_string(), &name.span)),
                }
            }
            match ends {
                [Some((from, from_span)), Some((to, to_span))] => out.push(MovedEntry {
                    from,
                    to,
                    from_span,
                    to_span,
                }),
                _ => {
                    // A bad address was reported already; only a missing key is new.
                    let has = |key: &str| fields.iter().any(|(k, _)| k.name == key);
                    if !has("from") || !has("to") {
                        self.diags.push(Diagnostic::error_at(
                            "a `moved` entry needs both `from` and `to`",
                            &item.span,
                        ));
                    }
                }
            }
        }
        out
    }

    fn inputs(&mut self, node: &Node) -> Vec<InputDecl> {
        let mut out = Vec::new();
        let Some(entries) = self.mapping(node, "`inputs`") else {
            return out;
        };
        self.check_duplicates(entries, "input");
        for (key, value) in entries {
            let mut decl = InputDecl {
                name: name_of(key),
                ty: AttrType::Any,
                default: None,
                sensitive: false,
            };
            let Some(fields) = self.mapping(value, &format!("input `{}`", key.name)) else {
                continue;
            };
            self.check_keys(fields, INPUT_KEYS, &format!("input `{}`", key.name));
            for (k, v) in fields {
                match k.name.as_str() {
                    "type" => {
                        if let Some(t) = self.string(v, "an input type") {
                            match parse_type(&t.text) {
                                Some(ty) => decl.ty = ty,
                                None => self.diags.push(
                                    Diagnostic::error_at(
                                        format!("unknown type `{}`", t.text),
                                        &t.span,
                                    )
                                    .with_help(
                                        "use string, number, bool, any, list(T), set(T) or map(T)",
                                    ),
                                ),
                            }
                        }
                    }
                    "default" => decl.default = self.expr(v),
                    "sensitive" => decl.sensitive = self.boolean(v, "`sensitive`").unwrap_or(false),
                    _ => {}
                }
            }
            if let Some(default) = decl.default.as_ref().and_then(Expr::as_literal)
                && let Err(m) = coerce(default, &decl.ty)
            {
                let span = decl
                    .default
                    .as_ref()
                    .map(|d| d.span.clone())
                    .unwrap_or(key.span.clone());
                let mut d = Diagnostic::error_at(
                    format!(
                        "the default of input `{}` is of the wrong type: {m}",
                        key.name
                    ),
                    &span,
                );
                if let Some(h) = m.help() {
                    d = d.with_help(h);
                }
                self.diags.push(d);
            }
            out.push(decl);
        }
        out
    }

    fn outputs(&mut self, node: &Node) -> Vec<OutputDecl> {
        let mut out = Vec::new();
        let Some(entries) = self.mapping(node, "`outputs`") else {
            return out;
        };
        self.check_duplicates(entries, "output");
        for (key, value) in entries {
            // The long form is a mapping with a `value` key; anything else is the value itself.
            let long = match &value.kind {
                NodeKind::Map(fields) if fields.iter().any(|(k, _)| k.name == "value") => {
                    Some(fields)
                }
                _ => None,
            };
            match long {
                Some(fields) => {
                    self.check_keys(fields, OUTPUT_KEYS, &format!("output `{}`", key.name));
                    let mut decl = None;
                    let mut sensitive = false;
                    for (k, v) in fields {
                        match k.name.as_str() {
                            "value" => decl = self.expr(v),
                            "sensitive" => {
                                sensitive = self.boolean(v, "`sensitive`").unwrap_or(false)
                            }
                            _ => {}
                        }
                    }
                    if let Some(value) = decl {
                        out.push(OutputDecl {
                            name: name_of(key),
                            value,
                            sensitive,
                        });
                    }
                }
                None => {
                    if let Some(value) = self.expr(value) {
                        out.push(OutputDecl {
                            name: name_of(key),
                            value,
                            sensitive: false,
                        });
                    }
                }
            }
        }
        out
    }

    fn resource(&mut self, key: &Key, node: &Node) -> Option<ResourceBlock> {
        let what = format!("resource `{}`", key.name);
        let entries = self.mapping(node, &what)?;
        self.check_keys(entries, RESOURCE_KEYS, &what);
        let field = |name: &str| entries.iter().find(|(k, _)| k.name == name).map(|(_, v)| v);

        let Some(type_node) = field("type") else {
            self.diags.push(
                Diagnostic::error_at(format!("{what} has no `type`"), &key.span)
                    .with_help("add `type: <resource type>`, e.g. `type: fake_network`; `cairn schema` lists the types"),
            );
            return None;
        };
        let type_name = self.string(type_node, "`type`")?;
        let Some(schema) = self.schemas.get(&type_name.text) else {
            let mut d = Diagnostic::error_at(
                format!("unknown resource type `{}`", type_name.text),
                &type_name.span,
            );
            d = match did_you_mean(&type_name.text, self.schemas.type_names()) {
                Some(close) => d.with_help(format!("did you mean `{close}`?")),
                None => d.with_help("run `cairn schema` to list the resource types cairn knows"),
            };
            self.diags.push(d);
            return None;
        };

        let empty = Node {
            kind: NodeKind::Map(Vec::new()),
            span: key.span.clone(),
        };
        let props_node = match field("properties") {
            Some(node) if !matches!(node.kind, NodeKind::Null) => node,
            _ => &empty,
        };
        let prop_entries = self.mapping(props_node, &format!("`properties` of {what}"))?;
        self.check_duplicates(prop_entries, "attribute");
        let mut props = Vec::with_capacity(prop_entries.len());
        for (k, v) in prop_entries {
            if let Some(e) = self.expr(v) {
                props.push((k.name.clone(), e));
            }
        }
        self.check_properties(&what, schema, prop_entries, &props, props_node, key);
        let properties = Expr::new(ExprKind::Map(props), props_node.span.clone());

        let for_each = field("for_each").and_then(|n| self.expr(n));
        let count = field("count").and_then(|n| self.expr(n));
        if let (Some(f), Some(_)) = (&for_each, &count) {
            self.diags.push(
                Diagnostic::error_at(format!("{what} sets both `for_each` and `count`"), &f.span)
                    .with_help("use one of them: `count` for N identical instances, `for_each` for one per key"),
            );
        }
        let depends_on = match field("depends_on") {
            Some(n) => self.name_list(n, "`depends_on`"),
            None => Vec::new(),
        };
        let provider = field("provider").and_then(|n| self.string(n, "`provider`"));
        let lifecycle = match field("lifecycle") {
            Some(n) => self.lifecycle(n),
            None => Lifecycle::default(),
        };
        let (timeouts, timeout_exprs) = match field("timeouts") {
            Some(n) => self.timeouts(n),
            None => (Timeouts::default(), Vec::new()),
        };
        Some(ResourceBlock {
            name: name_of(key),
            type_name,
            properties,
            for_each,
            count,
            depends_on,
            provider,
            lifecycle,
            timeouts,
            timeout_exprs,
            span: key.span.clone(),
        })
    }

    /// Unknown and computed-only attributes, missing required ones, and literal values of the
    /// wrong type.
    fn check_properties(
        &mut self,
        what: &str,
        schema: &crate::schema::Schema,
        entries: &[(Key, Node)],
        values: &[(String, Expr)],
        props: &Node,
        key: &Key,
    ) {
        // A misspelled required attribute is one mistake, not two: the "did you mean" covers it.
        let mut suggested: Vec<&str> = Vec::new();
        for (attr_key, _) in entries {
            let name = &attr_key.name;
            let Some(attr) = schema.attribute(name) else {
                let settable = schema
                    .attributes
                    .iter()
                    .filter(|a| a.is_settable())
                    .map(|a| a.name);
                let d = Diagnostic::error_at(
                    format!("`{}` has no attribute `{name}`", schema.type_name),
                    &attr_key.span,
                );
                let d = match did_you_mean(name, settable) {
                    Some(close) => {
                        suggested.push(close);
                        d.with_help(format!("did you mean `{close}`?"))
                    }
                    None => d.with_help(format!(
                        "run `cairn schema {}` to see its attributes",
                        schema.type_name
                    )),
                };
                self.diags.push(d);
                continue;
            };
            if attr.presence == Presence::Computed {
                self.diags.push(
                    Diagnostic::error_at(
                        format!(
                            "`{name}` of `{}` is computed by the provider and cannot be set",
                            schema.type_name
                        ),
                        &attr_key.span,
                    )
                    .with_help(format!(
                        "remove `{name}`; refer to it elsewhere as `${{{}.{name}}}`",
                        key.name
                    )),
                );
                continue;
            }
            let literal = values
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, e)| Some((e.as_literal()?, &e.span)));
            if let Some((literal, span)) = literal
                && let Err(m) = coerce(literal, &attr.ty)
            {
                let mut d = Diagnostic::error_at(
                    format!("wrong type for `{name}` of `{}`: {m}", schema.type_name),
                    span,
                );
                if let Some(h) = m.help() {
                    d = d.with_help(h);
                }
                self.diags.push(d);
            }
        }
        for attr in &schema.attributes {
            if attr.presence == Presence::Required
                && !entries.iter().any(|(k, _)| k.name == attr.name)
                && !suggested.contains(&attr.name)
            {
                let _ = props;
                let span = &key.span;
                self.diags.push(
                    Diagnostic::error_at(
                        format!(
                            "{what} (`{}`) is missing the required attribute `{}`",
                            schema.type_name, attr.name
                        ),
                        span,
                    )
                    .with_help(format!(
                        "add `{}: <{}>` under `properties`",
                        attr.name, attr.ty
                    )),
                );
            }
        }
    }

    /// `timeouts: { create: 40m, update: 10m, delete: 20m }`, as in Terraform; a value may also
    /// be an expression (`${inputs.delete_timeout}`), returned apart to be evaluated per instance.
    fn timeouts(&mut self, node: &Node) -> (Timeouts, Vec<(Name, Expr)>) {
        let mut out = Timeouts::default();
        let mut exprs = Vec::new();
        let Some(entries) = self.mapping(node, "`timeouts`") else {
            return (out, exprs);
        };
        self.check_keys(entries, TIMEOUT_KEYS, "`timeouts`");
        for (k, v) in entries {
            let Some(text) = self.string(v, "a timeout") else {
                continue;
            };
            if text.text.contains("${") {
                if let Some(expr) = self.expr(v) {
                    exprs.push((name_of(k), expr));
                }
                continue;
            }
            let duration = match parse_duration(&text.text) {
                Ok(d) => d,
                Err(message) => {
                    self.diags.push(
                        Diagnostic::error_at(message, &v.span)
                            .with_help("write a duration such as 40m, 2h or 1h30m"),
                    );
                    continue;
                }
            };
            match k.name.as_str() {
                "create" => out.create = Some(duration),
                "update" => out.update = Some(duration),
                "delete" => out.delete = Some(duration),
                _ => {}
            }
        }
        (out, exprs)
    }

    fn lifecycle(&mut self, node: &Node) -> Lifecycle {
        let mut out = Lifecycle::default();
        let Some(entries) = self.mapping(node, "`lifecycle`") else {
            return out;
        };
        self.check_keys(entries, LIFECYCLE_KEYS, "`lifecycle`");
        for (k, v) in entries {
            match k.name.as_str() {
                "prevent_destroy" if self.boolean(v, "`prevent_destroy`") == Some(true) => {
                    out.prevent_destroy = Some(k.span.clone());
                }
                "create_before_destroy" => {
                    out.create_before_destroy =
                        self.boolean(v, "`create_before_destroy`").unwrap_or(false)
                }
                "ignore_changes" => {
                    out.ignore_changes = match &v.kind {
                        NodeKind::String { text, .. } if text == "all" => vec![Name {
                            text: "all".into(),
                            span: v.span.clone(),
                        }],
                        _ => self.name_list(v, "`ignore_changes`"),
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn module_call(
        &mut self,
        caller: &Path,
        key: &Key,
        node: &Node,
        depth: usize,
    ) -> Option<ModuleCall> {
        let what = format!("module `{}`", key.name);
        let entries = self.mapping(node, &what)?;
        self.check_keys(entries, MODULE_CALL_KEYS, &what);
        let Some(source) = entries
            .iter()
            .find(|(k, _)| k.name == "source")
            .and_then(|(_, v)| self.string(v, "`source`"))
        else {
            self.diags.push(
                Diagnostic::error_at(format!("{what} has no `source`"), &key.span)
                    .with_help("add `source: <module name>` naming a directory under modules/"),
            );
            return None;
        };
        let mut inputs = Vec::new();
        let mut providers = Vec::new();
        for (k, v) in entries {
            match k.name.as_str() {
                "inputs" => {
                    if let Some(items) = self.mapping(v, "`inputs`") {
                        self.check_duplicates(items, "input");
                        for (ik, iv) in items {
                            if let Some(e) = self.expr(iv) {
                                inputs.push((name_of(ik), e));
                            }
                        }
                    }
                }
                "providers" => {
                    if let Some(items) = self.mapping(v, "`providers`") {
                        for (pk, pv) in items {
                            if let Some(target) = self.string(pv, "a provider key") {
                                providers.push((name_of(pk), target));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let module = self.load_module(caller, &source, depth + 1)?;
        // Inputs the call passes must exist; inputs without a default must be passed.
        for (name, value) in &inputs {
            if module.input(&name.text).is_none() {
                let d = Diagnostic::error_at(
                    format!("module `{}` has no input `{}`", source.text, name.text),
                    &name.span,
                );
                let d = match did_you_mean(
                    &name.text,
                    module.inputs.iter().map(|i| i.name.text.as_str()),
                ) {
                    Some(close) => d.with_help(format!("did you mean `{close}`?")),
                    None => d.with_help(format!(
                        "its inputs are: {}",
                        list_or_none(module.inputs.iter().map(|i| i.name.text.as_str()))
                    )),
                };
                self.diags.push(d);
            } else if let (Some(decl), Some(literal)) =
                (module.input(&name.text), value.as_literal())
                && let Err(m) = coerce(literal, &decl.ty)
            {
                let mut d = Diagnostic::error_at(
                    format!(
                        "wrong type for input `{}` of module `{}`: {m}",
                        name.text, source.text
                    ),
                    &value.span,
                );
                if let Some(h) = m.help() {
                    d = d.with_help(h);
                }
                self.diags.push(d);
            }
        }
        for decl in &module.inputs {
            if decl.default.is_none() && !inputs.iter().any(|(n, _)| n.text == decl.name.text) {
                self.diags.push(
                    Diagnostic::error_at(
                        format!(
                            "{what} (source `{}`) is missing the required input `{}`",
                            source.text, decl.name.text
                        ),
                        &key.span,
                    )
                    .with_help(format!(
                        "add `{}: <{}>` under `inputs`",
                        decl.name.text, decl.ty
                    )),
                );
            }
        }
        Some(ModuleCall {
            name: name_of(key),
            source,
            inputs,
            providers,
            module,
            span: key.span.clone(),
        })
    }

    /// Resolves a `source:`: a bare name is `modules/<name>` under the project; a path (with a
    /// `/` or starting with `.`) is relative to the calling file's directory.
    fn load_module(&mut self, caller: &Path, source: &Name, depth: usize) -> Option<Arc<Module>> {
        let dir = if source.text.contains('/') || source.text.starts_with('.') {
            caller.parent().unwrap_or(Path::new(".")).join(&source.text)
        } else {
            self.project_dir.join("modules").join(&source.text)
        };
        // A spec must not read files outside its project: a shared or downloaded spec could
        // otherwise quote any file the user can read in its error messages.
        if let Some(why) = self.lexical_escape(&dir, &source.text) {
            self.diags.push(
                Diagnostic::error_at(
                    format!(
                        "module source `{}` is outside the project directory: {why}",
                        source.text
                    ),
                    &source.span,
                )
                .with_help("a module source names a directory under modules/ or a relative path that stays inside the project; copy the module into the project"),
            );
            return None;
        }
        let file = dir.join("module.yaml");
        if let Some(real) = self.symlink_escape(&file) {
            self.diags.push(
                Diagnostic::error_at(
                    format!(
                        "module source `{}` leads through a symbolic link out of the project directory, to {}",
                        source.text,
                        real.display()
                    ),
                    &source.span,
                )
                .with_help("cairn does not follow symbolic links out of the project; copy the module into the project instead of linking it"),
            );
            return None;
        }
        if !file.is_file() {
            let available: Vec<String> = std::fs::read_dir(self.project_dir.join("modules"))
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.path().join("module.yaml").is_file())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect();
            let d = Diagnostic::error_at(
                format!(
                    "module source `{}` not found: there is no {}",
                    source.text,
                    self.display_name(&file)
                ),
                &source.span,
            );
            let d = match did_you_mean(&source.text, available.iter().map(String::as_str)) {
                Some(close) => d.with_help(format!("did you mean `{close}`?")),
                None => d.with_help(format!(
                    "modules under modules/: {}",
                    list_or_none(available.iter().map(String::as_str))
                )),
            };
            self.diags.push(d);
            return None;
        }
        let canonical = file.canonicalize().unwrap_or(file.clone());
        if let Some(module) = self.modules.get(&canonical) {
            return Some(module.clone());
        }
        if self.loading.contains(&canonical) {
            self.diags.push(
                Diagnostic::error_at(
                    format!("module `{}` instantiates itself", source.text),
                    &source.span,
                )
                .with_help("a module cannot include itself, directly or through other modules"),
            );
            return None;
        }
        if depth > MAX_MODULE_DEPTH {
            self.diags.push(
                Diagnostic::error_at(
                    format!(
                        "module `{}` is nested {depth} modules deep, over the limit of {MAX_MODULE_DEPTH}",
                        source.text
                    ),
                    &source.span,
                )
                .with_help("flatten the chain: instantiate some of these modules from the environment instead"),
            );
            return None;
        }
        self.loading.push(canonical.clone());
        let loaded = self.read(&file).and_then(|(name, node)| {
            let entries = self.mapping(&node, "a module file")?;
            self.check_keys(entries, MODULE_KEYS, "a module file");
            self.module_body(&name, &file, entries, false, depth)
        });
        self.loading.pop();
        let module = Arc::new(loaded?);
        self.modules.insert(canonical, module.clone());
        Some(module)
    }

    /// Why `dir` (a module source joined to its base) lies outside the project on its face,
    /// before any file is looked at: an absolute path, or more `..` than the path has below
    /// the project root (the repository's root: [`source_root`]).
    fn lexical_escape(&self, dir: &Path, source: &str) -> Option<&'static str> {
        use std::path::Component;
        if Path::new(source).is_absolute() {
            return Some("it is an absolute path");
        }
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let inside = dir.strip_prefix(&self.source_root).ok()?;
        let mut depth = 0usize;
        for component in inside.components() {
            match component {
                Component::Normal(_) => depth += 1,
                Component::CurDir => {}
                Component::ParentDir if depth > 0 => depth -= 1,
                _ => return Some("its `..` steps climb above the project root"),
            }
        }
        None
    }

    /// Where `path` really is, when following its symbolic links leads out of the project.
    /// `None` when it stays inside or does not exist (the caller reports a missing file).
    fn symlink_escape(&self, path: &Path) -> Option<PathBuf> {
        let root = self.source_root.canonicalize().ok()?;
        let real = path.canonicalize().ok()?;
        (!real.starts_with(&root)).then_some(real)
    }

    // ---- node helpers ----

    fn mapping<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [(Key, Node)]> {
        match &node.kind {
            NodeKind::Map(entries) => Some(entries),
            NodeKind::Null => Some(&[]),
            _ => {
                self.diags.push(Diagnostic::error_at(
                    format!(
                        "{what} must be a mapping of `key: value` pairs, found {}",
                        node.describe()
                    ),
                    &node.span,
                ));
                None
            }
        }
    }

    fn check_keys(&mut self, entries: &[(Key, Node)], allowed: &[&str], what: &str) {
        for (key, _) in entries {
            if !allowed.contains(&key.name.as_str()) {
                let d = Diagnostic::error_at(
                    format!("unknown key `{}` in {what}", key.name),
                    &key.span,
                );
                let d = match did_you_mean(&key.name, allowed.iter().copied()) {
                    Some(close) => d.with_help(format!("did you mean `{close}`?")),
                    None => d.with_help(format!("expected one of: {}", allowed.join(", "))),
                };
                self.diags.push(d);
            }
        }
        self.check_duplicates(entries, "key");
    }

    fn check_duplicates(&mut self, entries: &[(Key, Node)], what: &str) {
        let mut seen: HashMap<&str, &Span> = HashMap::new();
        for (key, _) in entries {
            if let Some(prev) = seen.insert(&key.name, &key.span) {
                self.diags.push(
                    Diagnostic::error_at(format!("duplicate {what} `{}`", key.name), &key.span)
                        .with_related(prev.clone(), "first defined here")
                        .with_help("each name may appear once; rename or remove one of them"),
                );
            }
        }
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<Name> {
        match &node.kind {
            NodeKind::String { text, .. } => Some(Name {
                text: text.clone(),
                span: node.span.clone(),
            }),
            _ => {
                self.diags.push(Diagnostic::error_at(
                    format!("{what} must be a string, found {}", node.describe()),
                    &node.span,
                ));
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, what: &str) -> Option<bool> {
        match &node.kind {
            NodeKind::Bool(b) => Some(*b),
            _ => {
                self.diags.push(
                    Diagnostic::error_at(
                        format!("{what} must be true or false, found {}", node.describe()),
                        &node.span,
                    )
                    .with_help("write `true` or `false` without quotes"),
                );
                None
            }
        }
    }

    /// A list of names; `${name}` is accepted as the name itself.
    fn name_list(&mut self, node: &Node, what: &str) -> Vec<Name> {
        let NodeKind::Seq(items) = &node.kind else {
            self.diags.push(
                Diagnostic::error_at(
                    format!("{what} must be a list of names, found {}", node.describe()),
                    &node.span,
                )
                .with_help("write e.g. `[vpc, module.network]`"),
            );
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| self.string(item, what))
            .map(|mut n| {
                if let Some(inner) = n.text.strip_prefix("${").and_then(|s| s.strip_suffix('}')) {
                    n.text = inner.trim().to_string();
                }
                n
            })
            .collect()
    }

    /// A YAML node as an expression: mappings and lists become map and list expressions (folded
    /// to a literal when every part is literal), strings are parsed as templates.
    fn expr(&mut self, node: &Node) -> Option<Expr> {
        match &node.kind {
            NodeKind::Null => Some(Expr::literal(Value::Null, node.span.clone())),
            NodeKind::Bool(b) => Some(Expr::literal(Value::Bool(*b), node.span.clone())),
            NodeKind::Number(n) => Some(Expr::literal(Value::Number(*n), node.span.clone())),
            NodeKind::String { text, content } => match parse_template(text, content) {
                Ok(e) => Some(e),
                Err(d) => {
                    self.diags.push(d);
                    None
                }
            },
            NodeKind::Seq(items) => {
                let parts: Vec<Expr> = items.iter().filter_map(|i| self.expr(i)).collect();
                if parts.len() != items.len() {
                    return None;
                }
                Some(Expr::folded(ExprKind::List(parts), node.span.clone()))
            }
            NodeKind::Map(entries) => {
                self.check_duplicates(entries, "key");
                let mut parts = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    parts.push((k.name.clone(), self.expr(v)?));
                }
                Some(Expr::folded(ExprKind::Map(parts), node.span.clone()))
            }
        }
    }
}

fn name_of(key: &Key) -> Name {
    Name {
        text: key.name.clone(),
        span: key.span.clone(),
    }
}

fn duplicate_name(key: &Key, prev: &Span) -> Diagnostic {
    Diagnostic::error_at(
        format!("duplicate resource or module name `{}`", key.name),
        &key.span,
    )
    .with_related(prev.clone(), "first defined here")
    .with_help("names must be unique within a module; rename one of them")
}

fn list_or_none<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(", ")
    }
}
