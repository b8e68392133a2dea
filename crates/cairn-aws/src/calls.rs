//! Counts the API calls a provider instance makes, per service and operation, with an SDK
//! interceptor: every attempt the SDK sends is counted, pages and retries included, whichever
//! code path made it. `-v` prints the counts.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Call counts by `service.Operation` (`ec2.DescribeSubnets`).
#[derive(Clone, Debug, Default)]
pub struct CallCounts {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl CallCounts {
    pub fn record(&self, service: &str, operation: &str) {
        // The SDK names services as people do (`CloudWatch Logs`); keys are one word.
        let service: String = service
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        let key = format!("{service}.{operation}");
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        *counts.entry(key).or_default() += 1;
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
        }
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
}
