//! Refresh and apply: the concurrent walk over a plan's graph, retries and cancellation.
//!
//! - [`refresh`] reads every instance in state, one batched provider read per (provider, type),
//!   and returns an updated copy of the state plus the live attributes the planner diffs against.
//! - [`apply`] executes a [`Plan`](crate::plan::Plan): a concurrent topological walk over
//!   create / update / delete / read operations, long poles first, bounded by `parallelism`,
//!   journaling state after every operation. It always returns the resulting state.
//!
//! Invariants: the engine never reads YAML (a saved plan carries everything it needs), and state
//! only ever holds sealed values; unsealed attributes live in memory for the duration of a run.

mod apply;
mod cancel;
pub mod import;
mod refresh;
mod retry;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::addr::ResourceAddr;
use crate::providers::ProviderError;
use crate::state::State;
use crate::value::Value;

pub use apply::apply;
pub use cancel::Cancel;
pub use refresh::refresh;
pub use retry::RetryPolicy;

/// One kind of operation on one instance. A replacement is a `Delete` and a `Create`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Create,
    Update,
    Delete,
    /// A data source read during apply.
    Read,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Read => "read",
        })
    }
}

#[derive(Clone, Debug)]
pub struct RefreshOptions {
    /// How many provider reads run at once (at least 1).
    pub parallelism: usize,
    pub retry: RetryPolicy,
    /// How long after an intent was recorded a create request may still land: an intent
    /// younger than this that finds nothing is looked up again when it has passed.
    pub settle: std::time::Duration,
}

/// What a refresh found.
#[derive(Clone, Debug)]
pub struct Refreshed {
    /// A copy of the input state with attributes as the cloud has them (sealed), instances that
    /// are gone removed, and pending creates adopted (now `Created`, with their id) or dropped.
    /// Its serial is unchanged: the caller decides whether to save it.
    pub state: State,
    /// Attributes as read, unsealed, for the planner. A write-only secret the cloud does not
    /// return appears as the sealed value state had, so the planner compares digests.
    pub live: BTreeMap<ResourceAddr, Value>,
    /// Instances state had that no longer exist.
    pub gone: Vec<ResourceAddr>,
    /// Instances whose interrupted create turned out to have happened.
    pub adopted: Vec<ResourceAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(
        "reading {count} {resource_type} instance(s) through provider `{provider}` failed: {source}"
    )]
    Read {
        provider: String,
        resource_type: String,
        count: usize,
        #[source]
        source: ProviderError,
    },
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Operations in flight at most (at least 1; `usize::MAX` for no bound).
    pub parallelism: usize,
    pub retry: RetryPolicy,
}

/// One operation that completed.
#[derive(Clone, Debug, PartialEq)]
pub struct OpReport {
    pub addr: ResourceAddr,
    pub op: Op,
    /// The cloud id the operation created or acted on.
    pub id: Option<String>,
    /// From the start of the operation (retries included) to its state write.
    pub elapsed: Duration,
}

/// One operation that failed. A state write that failed is reported here too.
#[derive(Clone, Debug)]
pub struct OpFailure {
    pub addr: ResourceAddr,
    pub op: Op,
    pub error: ProviderError,
}

/// What an apply did. `state` is the resulting state whatever happened.
#[derive(Clone, Debug)]
pub struct ApplyOutcome {
    pub state: State,
    pub completed: Vec<OpReport>,
    pub failed: Vec<OpFailure>,
    /// Operations not attempted, with the reason (`dependency ADDR failed`, cancellation).
    pub skipped: Vec<(ResourceAddr, Op, String)>,
    pub cancelled: bool,
    pub elapsed: Duration,
}

impl ApplyOutcome {
    /// Whether every planned operation was done.
    pub fn is_success(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty() && !self.cancelled
    }
}

/// Progress callbacks, for the CLI's progress display. Called from the apply task; keep them
/// quick.
pub trait ApplyHooks: Send + Sync {
    fn on_start(&self, _addr: &ResourceAddr, _op: Op) {}
    fn on_done(&self, _addr: &ResourceAddr, _op: Op, _elapsed: Duration) {}
    fn on_error(&self, _addr: &ResourceAddr, _op: Op, _error: &ProviderError) {}
    /// `attempt` is 1 for the first retry.
    fn on_retry(
        &self,
        _addr: &ResourceAddr,
        _op: Op,
        _attempt: u32,
        _delay: Duration,
        _error: &ProviderError,
    ) {
    }
}

/// Hooks that do nothing.
pub struct NoHooks;

impl ApplyHooks for NoHooks {}
