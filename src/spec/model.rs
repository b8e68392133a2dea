//! The typed spec: an environment, the modules it instantiates, their inputs, locals, resources
//! and outputs. Every name keeps its span; every value is an expression (a literal where the YAML
//! had no `${...}`).

use std::path::PathBuf;
use std::sync::Arc;

use super::expr::Expr;
use super::span::Span;
use crate::providers::Timeouts;
use crate::schema::AttrType;

/// A name as written, with where.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

/// `environments/NAME.yaml`: the root module plus providers, tags and the state backend.
#[derive(Clone, Debug)]
pub struct Environment {
    pub name: String,
    pub project_dir: PathBuf,
    pub providers: Vec<ProviderBlock>,
    /// Merged into every taggable resource (the resource's own tags win).
    pub tags: Option<Expr>,
    pub backend: Backend,
    pub root: Arc<Module>,
}

#[derive(Clone, Debug)]
pub struct ProviderBlock {
    pub name: String,
    pub alias: Option<String>,
    pub settings: Expr,
    pub span: Span,
}

impl ProviderBlock {
    pub fn key(&self) -> String {
        match &self.alias {
            Some(alias) => format!("{}.{alias}", self.name),
            None => self.name.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Backend {
    /// A state file; `None` means the default `.cairn/state/ENV.json`.
    Local { path: Option<PathBuf> },
    /// One object in an S3 bucket (`backend: { s3: { bucket, key, region } }`), locked by a
    /// `<key>.lock` object beside it.
    S3(S3Location),
}

/// Where an S3 backend keeps a state: the bucket, the object key and the bucket's region.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct S3Location {
    pub bucket: String,
    pub key: String,
    /// `None` only for a location given on the command line without one: the SDK's chain
    /// (`AWS_REGION`) decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// A module body: the environment file itself (the root) or a `module.yaml`.
#[derive(Clone, Debug, Default)]
pub struct Module {
    pub file: Arc<str>,
    pub inputs: Vec<InputDecl>,
    pub locals: Vec<(Name, Expr)>,
    pub resources: Vec<ResourceBlock>,
    pub modules: Vec<ModuleCall>,
    pub outputs: Vec<OutputDecl>,
    /// `moved:` entries: addresses renamed in this module, relative to it.
    pub moved: Vec<MovedEntry>,
}

/// One `moved: [{ from, to }]` entry: what state calls `from` is now `to`, so the plan renames
/// it instead of destroying and re-creating it.
#[derive(Clone, Debug)]
pub struct MovedEntry {
    pub from: crate::addr::AddrSelector,
    pub to: crate::addr::AddrSelector,
    pub from_span: Span,
    pub to_span: Span,
}

impl Module {
    pub fn input(&self, name: &str) -> Option<&InputDecl> {
        self.inputs.iter().find(|i| i.name.text == name)
    }
    pub fn resource(&self, name: &str) -> Option<&ResourceBlock> {
        self.resources.iter().find(|r| r.name.text == name)
    }
    pub fn module_call(&self, name: &str) -> Option<&ModuleCall> {
        self.modules.iter().find(|m| m.name.text == name)
    }
}

#[derive(Clone, Debug)]
pub struct InputDecl {
    pub name: Name,
    pub ty: AttrType,
    pub default: Option<Expr>,
    pub sensitive: bool,
}

#[derive(Clone, Debug)]
pub struct ResourceBlock {
    pub name: Name,
    pub type_name: Name,
    /// The `properties:` mapping as a map expression.
    pub properties: Expr,
    pub for_each: Option<Expr>,
    pub count: Option<Expr>,
    /// Resource or module names in the same module.
    pub depends_on: Vec<Name>,
    /// A provider key such as `aws.dr`.
    pub provider: Option<Name>,
    pub lifecycle: Lifecycle,
    /// `timeouts: { create: 40m }`: how long each operation may wait.
    pub timeouts: Timeouts,
    /// Timeouts written as expressions (`delete: ${inputs.delete_timeout}`), so environments
    /// can differ by an input; evaluated per instance, they override [`ResourceBlock::timeouts`].
    pub timeout_exprs: Vec<(Name, Expr)>,
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    pub prevent_destroy: Option<Span>,
    pub create_before_destroy: bool,
    /// Attribute names, or `all`.
    pub ignore_changes: Vec<Name>,
}

#[derive(Clone, Debug)]
pub struct ModuleCall {
    pub name: Name,
    pub source: Name,
    pub inputs: Vec<(Name, Expr)>,
    /// Provider remapping inside the module: `aws` → `aws.dr`.
    pub providers: Vec<(Name, Name)>,
    pub module: Arc<Module>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct OutputDecl {
    pub name: Name,
    pub value: Expr,
    pub sensitive: bool,
}
