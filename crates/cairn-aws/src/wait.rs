//! Waiting for AWS's state machines: a resource that exists is not yet usable (a NAT gateway
//! `pending`, a VPC endpoint `pendingAcceptance`). One waiter for every type: it checks at once,
//! then backs off, and gives up after the type's limit or the resource's `timeouts:` override
//! with a message that says what it last saw and how to allow more time.

use std::future::Future;
use std::time::Duration;

use cairn_provider::provider::{ErrorKind, ProviderError};

/// What one check saw.
pub enum Check<T> {
    /// The wait is over.
    Done(T),
    /// Not yet; the state last seen, for the timeout message.
    Waiting(String),
}

/// One wait: which resource, for what, and for how long.
pub struct Wait<'a> {
    /// `NAT gateway nat-0abc`.
    pub what: &'a str,
    /// `available`, `deleted`.
    pub until: &'a str,
    /// `create`, `update`, `delete`: the `timeouts:` key that raises the limit.
    pub operation: &'a str,
    pub limit: Duration,
}

impl Wait<'_> {
    /// Calls `check` until it says done, first at once, then after 0.5 s, 1 s, 2 s, ... up to
    /// 15 s between checks.
    pub async fn run<T, F, Fut>(&self, mut check: F) -> Result<T, ProviderError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Check<T>, ProviderError>>,
    {
        let started = tokio::time::Instant::now();
        let mut delay = Duration::from_millis(500);
        loop {
            let last = match check().await? {
                Check::Done(value) => return Ok(value),
                Check::Waiting(state) => state,
            };
            if started.elapsed() + delay > self.limit {
                return Err(ProviderError::new(
                    ErrorKind::Timeout,
                    format!(
                        "{} did not become {} within {} (last seen: {last}); if AWS is just slow, allow more time with `timeouts: {{ {}: {} }}` on the resource",
                        self.what,
                        self.until,
                        human(self.limit),
                        self.operation,
                        human((self.limit * 2).max(Duration::from_secs(60))),
                    ),
                ));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(15));
        }
    }
}

/// `90s`, `10m`, `1h30m`: how the spec writes durations.
fn human(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, 0) => format!("{h}h{m}m"),
        _ => format!("{secs}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(limit: Duration) -> Wait<'static> {
        Wait {
            what: "VPC endpoint vpce-1",
            until: "available",
            operation: "create",
            limit,
        }
    }

    #[tokio::test]
    async fn the_first_check_is_immediate_and_a_done_check_ends_the_wait() {
        let started = std::time::Instant::now();
        let value = wait(Duration::from_secs(600))
            .run(|| async { Ok(Check::Done(7)) })
            .await
            .unwrap();
        assert_eq!(value, 7);
        assert!(started.elapsed() < Duration::from_millis(100));
    }

    #[tokio::test]
    async fn a_timeout_says_what_it_saw_and_how_to_allow_more_time() {
        let mut checks = 0;
        let err = wait(Duration::from_secs(0))
            .run(|| {
                checks += 1;
                async { Ok::<Check<()>, _>(Check::Waiting("pendingAcceptance".into())) }
            })
            .await
            .unwrap_err();
        assert_eq!(checks, 1, "checked once before giving up");
        assert_eq!(err.kind, ErrorKind::Timeout);
        assert_eq!(
            err.message,
            "VPC endpoint vpce-1 did not become available within 0s (last seen: pendingAcceptance); if AWS is just slow, allow more time with `timeouts: { create: 1m }` on the resource"
        );
    }

    #[test]
    fn limits_print_as_the_spec_writes_them() {
        assert_eq!(human(Duration::from_secs(600)), "10m");
        assert_eq!(human(Duration::from_secs(5400)), "1h30m");
        assert_eq!(human(Duration::from_secs(7200)), "2h");
        assert_eq!(human(Duration::from_secs(90)), "90s");
    }
}
