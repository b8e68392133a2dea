//! Who holds an environment's state lock, and since when: the record a lock holder writes into
//! the lock (file or object) so that whoever is kept waiting can be told who to ask.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

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

/// What `who` says when the lock is held but its record is missing or unreadable (the holder is
/// between taking the lock and writing its record, or the record was damaged).
const UNKNOWN_HOLDER: &str = "unknown holder";

impl LockInfo {
    /// The record for a lock this process is about to take for `operation`.
    pub fn for_current_process(operation: &str) -> LockInfo {
        let id: [u8; 8] = rand::random();
        let now = OffsetDateTime::now_utc();
        // Seconds are precise enough for "since when" and keep the message short.
        let now = now.replace_nanosecond(0).unwrap_or(now);
        LockInfo {
            id: hex::encode(id),
            who: format!("{}@{}", user_name(), host_name()),
            pid: std::process::id(),
            operation: operation.to_string(),
            created: now
                .format(&Rfc3339)
                .unwrap_or_else(|_| now.unix_timestamp().to_string()),
        }
    }

    /// Stands for a holder whose record could not be read.
    pub fn unknown() -> LockInfo {
        LockInfo {
            id: String::new(),
            who: UNKNOWN_HOLDER.to_string(),
            pid: 0,
            operation: String::new(),
            created: String::new(),
        }
    }

    pub fn is_unknown(&self) -> bool {
        self.id.is_empty() && self.who == UNKNOWN_HOLDER
    }
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_unknown() {
            return f.write_str(UNKNOWN_HOLDER);
        }
        write!(
            f,
            "{} (pid {}, running `{}`, since {}, lock id {})",
            self.who, self.pid, self.operation, self.created, self.id
        )
    }
}

fn user_name() -> String {
    ["USER", "USERNAME"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .map(|name| name.trim().to_string())
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

fn host_name() -> String {
    let from_kernel = std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    from_kernel
        .into_iter()
        .chain(std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_record_says_who_what_and_since_when() {
        let info = LockInfo::for_current_process("apply");
        assert_eq!(info.operation, "apply");
        assert_eq!(info.pid, std::process::id());
        assert_eq!(info.id.len(), 16);
        assert!(
            info.id.chars().all(|c| c.is_ascii_hexdigit()),
            "{}",
            info.id
        );
        let (user, host) = info.who.split_once('@').unwrap();
        assert!(!user.is_empty() && !host.is_empty(), "{}", info.who);
        let created = OffsetDateTime::parse(&info.created, &Rfc3339).unwrap();
        assert!((OffsetDateTime::now_utc() - created).whole_seconds().abs() < 60);
        assert!(info.created.ends_with('Z'), "UTC: {}", info.created);
        assert_eq!(
            info.to_string(),
            format!(
                "{} (pid {}, running `apply`, since {}, lock id {})",
                info.who, info.pid, info.created, info.id
            )
        );
    }

    #[test]
    fn two_records_have_different_ids() {
        let a = LockInfo::for_current_process("plan");
        let b = LockInfo::for_current_process("plan");
        assert_ne!(a.id, b.id);
    }

    #[test]
    fn an_unreadable_record_is_shown_as_unknown_holder() {
        assert_eq!(LockInfo::unknown().to_string(), "unknown holder");
        assert!(!LockInfo::for_current_process("plan").is_unknown());
    }
}
