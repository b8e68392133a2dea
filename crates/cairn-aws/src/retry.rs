//! Retrying a delete that AWS refuses with `DependencyViolation`: on real AWS, network
//! interfaces and route table associations detach some time after the resource using them is
//! gone, so a delete in the right order can still be refused for a while.

use std::future::Future;
use std::time::Duration;

use cairn_provider::provider::{ErrorKind, ProviderError};
use tracing::info;

fn is_dependency_violation(e: &ProviderError) -> bool {
    e.kind == ErrorKind::Conflict && e.message.contains("DependencyViolation")
}

/// Runs `op` until it stops failing with `DependencyViolation`, waiting `first_delay` then
/// doubling (at most 15 s) between attempts. After `limit`, the last error is returned with how
/// long it stayed blocked; AWS's message names the blocking resource.
pub async fn while_dependency_violation<F, Fut>(
    what: &str,
    limit: Duration,
    first_delay: Duration,
    mut op: F,
) -> Result<(), ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), ProviderError>>,
{
    let started = tokio::time::Instant::now();
    let mut delay = first_delay;
    loop {
        match op().await {
            Err(e) if is_dependency_violation(&e) => {
                if started.elapsed() + delay > limit {
                    return Err(ProviderError::new(
                        ErrorKind::Conflict,
                        format!(
                            "{} (deleting {what} was still blocked after {}s)",
                            e.message,
                            started.elapsed().as_secs()
                        ),
                    ));
                }
                info!(target: "cairn::aws", %what, ?delay, error = %e.message, "delete blocked by a dependency, retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(15));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation() -> ProviderError {
        ProviderError::new(
            ErrorKind::Conflict,
            "DeleteVpc: DependencyViolation: The vpc 'vpc-1' has dependencies and cannot be deleted.",
        )
    }

    #[tokio::test]
    async fn a_delete_blocked_for_a_while_succeeds_once_the_dependency_detaches() {
        let mut attempts = 0;
        let result = while_dependency_violation(
            "vpc-1",
            Duration::from_secs(5),
            Duration::from_millis(1),
            || {
                attempts += 1;
                std::future::ready(if attempts < 3 {
                    Err(violation())
                } else {
                    Ok(())
                })
            },
        )
        .await;
        assert!(result.is_ok());
        assert_eq!(attempts, 3);
    }

    #[tokio::test]
    async fn a_delete_still_blocked_at_the_limit_names_the_blocker_and_the_wait() {
        let err = while_dependency_violation(
            "vpc-1",
            Duration::from_millis(20),
            Duration::from_millis(5),
            || std::future::ready(Err(violation())),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);
        assert!(
            err.message.contains("The vpc 'vpc-1' has dependencies"),
            "{}",
            err.message
        );
        assert!(
            err.message
                .contains("deleting vpc-1 was still blocked after"),
            "{}",
            err.message
        );
    }

    #[tokio::test]
    async fn other_errors_are_not_retried() {
        let mut attempts = 0;
        let err = while_dependency_violation(
            "vpc-1",
            Duration::from_secs(5),
            Duration::from_millis(1),
            || {
                attempts += 1;
                std::future::ready(Err(ProviderError::new(
                    ErrorKind::Invalid,
                    "InvalidVpcID.Malformed",
                )))
            },
        )
        .await
        .unwrap_err();
        assert_eq!((err.kind, attempts), (ErrorKind::Invalid, 1));
    }
}
