//! Counts the API calls a provider instance makes, per service and operation, with an SDK
//! interceptor: every attempt the SDK sends is counted, pages and retries included, whichever
//! code path made it. `-v` prints the counts, and the same calls again by the resource type
//! whose operation made them (a task-local names the type while its operation runs). Each
//! attempt the SDK retries (throttling, 5xx, a dropped connection) is logged at info, so `-v`
//! shows what the cloud answered and that the SDK tried again.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::retry::RetryConfig;

tokio::task_local! {
    /// The resource or data source type whose operation the current task is running.
    static CALLER: &'static str;
}

/// Runs `operation` with its API calls counted against `resource_type` as well.
pub async fn on_behalf_of<F: Future>(resource_type: &'static str, operation: F) -> F::Output {
    CALLER.scope(resource_type, operation).await
}

/// `future`, counting its calls against the type the current task's operation is for: for the
/// futures an operation runs in tasks of their own (a task-local does not follow a spawn).
pub fn carried<F: Future>(future: F) -> impl Future<Output = F::Output> {
    let caller = CALLER.try_with(|t| *t).ok();
    async move {
        match caller {
            Some(caller) => CALLER.scope(caller, future).await,
            None => future.await,
        }
    }
}

/// Call counts by `service.Operation` (`ec2.DescribeSubnets`), in total and by resource type.
#[derive(Clone, Debug, Default)]
pub struct CallCounts {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
    by_type: Arc<Mutex<BTreeMap<String, BTreeMap<String, u64>>>>,
}

impl CallCounts {
    pub fn record(&self, service: &str, operation: &str) {
        let caller = CALLER.try_with(|t| *t).ok();
        self.record_for(caller, service, operation);
    }

    fn record_for(&self, caller: Option<&str>, service: &str, operation: &str) {
        let key = operation_key(service, operation);
        if let Some(caller) = caller {
            let mut by_type = self.by_type.lock().unwrap_or_else(|p| p.into_inner());
            *by_type
                .entry(caller.to_string())
                .or_default()
                .entry(key.clone())
                .or_default() += 1;
        }
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        *counts.entry(key).or_default() += 1;
    }

    /// The calls each resource type's operations made: `aws_subnet=1 (ec2.DescribeSubnets=1)
    /// aws_vpc=2 (...)`; calls made outside any type's operation (credentials, tag searches)
    /// are only in the totals.
    pub fn by_type(&self) -> String {
        let by_type = self.by_type.lock().unwrap_or_else(|p| p.into_inner());
        let parts: Vec<String> = by_type
            .iter()
            .map(|(ty, ops)| {
                let detail: Vec<String> = ops.iter().map(|(k, n)| format!("{k}={n}")).collect();
                format!("{ty}={} ({})", ops.values().sum::<u64>(), detail.join(" "))
            })
            .collect();
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(" ")
        }
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Totals per service (`ec2`, `s3`).
    pub fn by_service(&self) -> BTreeMap<String, u64> {
        let mut totals = BTreeMap::new();
        for (key, n) in self.snapshot() {
            let service = key.split('.').next().unwrap_or_default().to_string();
            *totals.entry(service).or_default() += n;
        }
        totals
    }
}

impl fmt::Display for CallCounts {
    /// `ec2=3 (ec2.DescribeSubnets=1 ec2.DescribeVpcs=2) s3=1 (...)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ops = self.snapshot();
        let mut first = true;
        for (service, total) in self.by_service() {
            if !first {
                write!(f, " ")?;
            }
            first = false;
            let detail: Vec<String> = ops
                .iter()
                .filter(|(k, _)| k.split('.').next() == Some(service.as_str()))
                .map(|(k, n)| format!("{k}={n}"))
                .collect();
            write!(f, "{service}={total} ({})", detail.join(" "))?;
        }
        if first {
            write!(f, "none")?;
        }
        Ok(())
    }
}

/// `service.Operation` (`ec2.DescribeSubnets`, `cloudwatchlogs.CreateLogGroup`): the SDK names
/// services as people do (`CloudWatch Logs`); keys are one word.
fn operation_key(service: &str, operation: &str) -> String {
    let service: String = service
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    format!("{service}.{operation}")
}

/// The log line of an attempt the SDK retries: `retrying ec2.CreateSubnet (attempt 2 of 3)
/// after HTTP 503`.
fn retry_line(key: &str, attempt: u32, max: Option<u32>, after: Option<&str>) -> String {
    let of = max.map(|m| format!(" of {m}")).unwrap_or_default();
    let after = after.map(|a| format!(" after {a}")).unwrap_or_default();
    format!("retrying {key} (attempt {attempt}{of}){after}")
}

/// What the previous attempt of an operation got (`HTTP 503`, `connector error: io error: ...`),
/// kept in the operation's config bag from one attempt to the next for the retry line.
#[derive(Clone, Debug)]
struct LastAttempt(String);

impl Storable for LastAttempt {
    type Storer = StoreReplace<Self>;
}

/// An error and its causes, `: `-separated.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The interceptor installed on every client of one provider instance.
#[derive(Debug)]
pub struct Counter {
    pub counts: CallCounts,
}

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "cairn-call-counter"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            self.counts.record(meta.service(), meta.name());
            // The orchestrator stores the attempt's number (from 1) before this hook runs.
            let attempt = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
            if attempt > 1 {
                let line = retry_line(
                    &operation_key(meta.service(), meta.name()),
                    attempt,
                    cfg.load::<RetryConfig>().map(|c| c.max_attempts()),
                    cfg.load::<LastAttempt>().map(|l| l.0.as_str()),
                );
                tracing::info!(target: "cairn::aws", "{line}");
            }
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let outcome = match (context.response(), context.output_or_error()) {
            (Some(response), _) => format!("HTTP {}", response.status().as_u16()),
            (None, Some(Err(error))) => chain(error),
            (None, _) => return Ok(()),
        };
        cfg.interceptor_state().store_put(LastAttempt(outcome));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_show_per_service_totals_and_per_operation_detail() {
        let counts = CallCounts::default();
        counts.record("EC2", "DescribeSubnets");
        counts.record("EC2", "DescribeSubnets");
        counts.record("S3", "HeadBucket");
        assert_eq!(
            counts.to_string(),
            "ec2=2 (ec2.DescribeSubnets=2) s3=1 (s3.HeadBucket=1)"
        );
        assert_eq!(CallCounts::default().to_string(), "none");
    }

    #[test]
    fn a_retried_attempt_is_named_with_its_number_and_what_the_last_one_got() {
        assert_eq!(
            operation_key("CloudWatch Logs", "CreateLogGroup"),
            "cloudwatchlogs.CreateLogGroup"
        );
        assert_eq!(
            retry_line("ec2.CreateSubnet", 2, Some(3), Some("HTTP 503")),
            "retrying ec2.CreateSubnet (attempt 2 of 3) after HTTP 503"
        );
        assert_eq!(
            retry_line("s3.CreateBucket", 3, None, None),
            "retrying s3.CreateBucket (attempt 3)"
        );
    }

    #[tokio::test]
    async fn calls_made_inside_a_types_operation_count_against_that_type() {
        let counts = CallCounts::default();
        on_behalf_of("aws_subnet", async {
            counts.record("EC2", "DescribeSubnets");
        })
        .await;
        on_behalf_of("aws_vpc", async {
            counts.record("EC2", "DescribeVpcs");
            counts.record("EC2", "DescribeVpcAttribute");
        })
        .await;
        counts.record("STS", "GetCallerIdentity");
        assert_eq!(
            counts.by_type(),
            "aws_subnet=1 (ec2.DescribeSubnets=1) aws_vpc=2 (ec2.DescribeVpcAttribute=1 ec2.DescribeVpcs=1)"
        );
        assert_eq!(
            counts.to_string(),
            "ec2=3 (ec2.DescribeSubnets=1 ec2.DescribeVpcAttribute=1 ec2.DescribeVpcs=1) sts=1 (sts.GetCallerIdentity=1)"
        );
    }

    #[tokio::test]
    async fn calls_in_a_task_the_operation_spawned_count_against_its_type() {
        let counts = CallCounts::default();
        let inner = counts.clone();
        on_behalf_of("aws_kms_key", async move {
            let spawned = tokio::spawn(carried(async move {
                inner.record("KMS", "DescribeKey");
            }));
            assert!(spawned.await.is_ok());
        })
        .await;
        assert_eq!(counts.by_type(), "aws_kms_key=1 (kms.DescribeKey=1)");
    }
}
