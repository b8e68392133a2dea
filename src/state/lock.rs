//! Who holds an environment's state lock, and since when.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Random id, given to `force-unlock`.
    pub id: String,
    /// `user@host`.
    pub who: String,
    pub pid: u32,
    /// `plan`, `apply`, `destroy`, `state rm`.
    pub operation: String,
    /// RFC 3339.
    pub created: String,
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (pid {}, running `{}`, since {}, lock id {})",
            self.who, self.pid, self.operation, self.created, self.id
        )
    }
}
