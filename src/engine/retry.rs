//! Retrying throttled provider calls: exponential backoff with full jitter, honouring a
//! server's `retry_after`. Only throttling is retried; any other error is an answer.

use std::future::Future;
use std::time::Duration;

use crate::providers::{ErrorKind, ProviderError};

use super::Cancel;

#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Calls at most, the first included.
    pub max_attempts: u32,
    /// The backoff ceiling of the first retry; it doubles with each further retry.
    pub base: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 10,
            base: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// How long to wait before retry number `retry` (1 for the first) after `error`.
    pub fn delay(&self, retry: u32, error: &ProviderError) -> Duration {
        if let Some(after) = error.retry_after {
            return after;
        }
        let ceiling = self
            .base
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
            .min(self.max_delay);
        // Full jitter: spreads the retries of many throttled callers instead of syncing them.
        ceiling.mul_f64(rand::random::<f64>())
    }
}

/// Calls `call` until it succeeds, fails with something other than throttling, or the attempts
/// run out. `on_retry(retry, delay, error)` is told before each wait. A cancel stops the waiting
/// and returns the last error.
pub(crate) async fn retrying<T, F, Fut>(
    policy: &RetryPolicy,
    cancel: &Cancel,
    mut call: F,
    mut on_retry: impl FnMut(u32, Duration, &ProviderError),
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let mut retry = 0;
    loop {
        let error = match call().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        retry += 1;
        if error.kind != ErrorKind::Throttled || retry >= policy.max_attempts.max(1) {
            return Err(error);
        }
        let delay = policy.delay(retry, &error);
        on_retry(retry, delay, &error);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = cancel.cancelled() => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_ceiling_and_retry_after_wins() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
        };
        let throttled = ProviderError::new(ErrorKind::Throttled, "slow down");
        for _ in 0..50 {
            assert!(policy.delay(1, &throttled) <= Duration::from_millis(100));
            assert!(policy.delay(2, &throttled) <= Duration::from_millis(200));
            assert!(policy.delay(9, &throttled) <= Duration::from_millis(350));
        }
        let told = ProviderError {
            retry_after: Some(Duration::from_secs(3)),
            ..throttled
        };
        assert_eq!(policy.delay(1, &told), Duration::from_secs(3));
    }

    #[tokio::test]
    async fn gives_up_after_max_attempts_and_never_retries_other_errors() {
        let policy = RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
        };
        let mut calls = 0;
        let mut retries = Vec::new();
        let result: Result<(), _> = retrying(
            &policy,
            &Cancel::new(),
            || {
                calls += 1;
                async { Err(ProviderError::new(ErrorKind::Throttled, "slow down")) }
            },
            |retry, _, _| retries.push(retry),
        )
        .await;
        assert_eq!(result.unwrap_err().kind, ErrorKind::Throttled);
        assert_eq!((calls, retries), (3, vec![1, 2]));

        let mut calls = 0;
        let result: Result<(), _> = retrying(
            &policy,
            &Cancel::new(),
            || {
                calls += 1;
                async { Err(ProviderError::new(ErrorKind::Conflict, "in use")) }
            },
            |_, _, _| {},
        )
        .await;
        assert_eq!(result.unwrap_err().kind, ErrorKind::Conflict);
        assert_eq!(calls, 1);
    }
}
