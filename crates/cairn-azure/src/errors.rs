//! What can go wrong talking to ARM, typed, and how each maps to the engine's [`ErrorKind`].

use std::time::Duration;

use cairn_provider::provider::{ErrorKind, ProviderError};

#[derive(Debug, Clone, thiserror::Error)]
pub enum ArmError {
    /// ARM answered with an error status and (usually) an `{"error": {code, message}}` body.
    #[error("{method} {what}: {code}: {message} (HTTP {status})")]
    Http {
        method: &'static str,
        what: String,
        status: u16,
        code: String,
        message: String,
        retry_after: Option<Duration>,
    },
    /// A long-running operation ended `Failed` or `Canceled`.
    #[error("{operation} of {what} ended {status}: {code}: {message}")]
    OperationFailed {
        operation: &'static str,
        what: String,
        status: String,
        code: String,
        message: String,
    },
    #[error("{operation} of {what} did not finish within {}s (last seen: {last})", .waited.as_secs())]
    Timeout {
        operation: &'static str,
        what: String,
        waited: Duration,
        last: String,
    },
    /// No credential source worked; the message names each.
    #[error("{0}")]
    Credential(String),
    /// The connection failed, or an answer could not be read.
    #[error("{0}")]
    Transport(String),
    /// ARM answered something cairn cannot read.
    #[error("{what}: unexpected answer from ARM: {why}")]
    Unexpected { what: String, why: String },
}

impl ArmError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ArmError::Http { status: 404, .. })
    }
}

impl From<ArmError> for ProviderError {
    fn from(e: ArmError) -> ProviderError {
        let (kind, retry_after) = match &e {
            ArmError::Http {
                status,
                code,
                retry_after,
                ..
            } => {
                let kind = match (*status, code.as_str()) {
                    (404, _) => ErrorKind::NotFound,
                    (429, _) => ErrorKind::Throttled,
                    (401 | 403, _) => ErrorKind::AccessDenied,
                    (409, _) => ErrorKind::Conflict,
                    (400 | 422, _) => ErrorKind::Invalid,
                    // A 5xx that outlived the pipeline's retries: the request may have been
                    // acted on, so the engine keeps its intent.
                    _ => ErrorKind::Other,
                };
                (kind, *retry_after)
            }
            // The resource usually exists, in a Failed state: keep the intent so the next
            // refresh records it.
            ArmError::OperationFailed { .. } => (ErrorKind::Other, None),
            ArmError::Timeout { .. } => (ErrorKind::Timeout, None),
            ArmError::Credential(_) => (ErrorKind::AccessDenied, None),
            ArmError::Transport(_) | ArmError::Unexpected { .. } => (ErrorKind::Other, None),
        };
        ProviderError {
            kind,
            message: e.to_string(),
            retry_after,
        }
    }
}

/// A configuration cairn cannot send, named by its type.
pub fn invalid(resource_type: &str, message: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(ErrorKind::Invalid, format!("{resource_type}: {message}"))
}
