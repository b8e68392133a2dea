//! Maps AWS SDK errors to the engine's typed [`ProviderError`]s, keeping AWS's error code and
//! message in the text so users can search for them.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use cairn_provider::provider::{ErrorKind, ProviderError};

/// The kind of an AWS error, from its code and HTTP status.
pub fn classify(code: &str, status: Option<u16>) -> ErrorKind {
    const THROTTLED: [&str; 7] = [
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "TooManyRequestsException",
        "SlowDown",
    ];
    if THROTTLED.contains(&code) || matches!(status, Some(429 | 503)) {
        return ErrorKind::Throttled;
    }
    // EC2's `InvalidSubnetID.NotFound`, ELB's `LoadBalancerNotFound`, RDS's
    // `DBInstanceNotFound`, ElastiCache's `ReplicationGroupNotFoundFault`, S3's `NoSuchBucket`,
    // ECS's `ClusterNotFoundException`, WAF's `WAFNonexistentItemException`.
    if code.ends_with("NotFound")
        || code.ends_with("NotFoundFault")
        || code.starts_with("NoSuch")
        || code.ends_with("NotFoundException")
        || code == "WAFNonexistentItemException"
    {
        return ErrorKind::NotFound;
    }
    if code.starts_with("AccessDenied")
        || matches!(
            code,
            "UnauthorizedOperation"
                | "AuthFailure"
                | "InvalidClientTokenId"
                | "SignatureDoesNotMatch"
        )
    {
        return ErrorKind::AccessDenied;
    }
    // Before `Invalid*`: `InvalidPermission.Duplicate` says the rule exists already.
    if code == "DependencyViolation"
        || code.ends_with("AlreadyExists")
        || code.ends_with(".Duplicate")
        || code.starts_with("Duplicate")
        || matches!(
            code,
            "BucketAlreadyOwnedByYou"
                | "BucketNotEmpty"
                | "OperationAborted"
                | "IncorrectState"
                // IAM: a role with policies attached, a concurrent edit.
                | "DeleteConflict"
                | "ConcurrentModification"
                // KMS (an alias taken, a key pending deletion) and CloudWatch Logs.
                | "AlreadyExistsException"
                | "KMSInvalidStateException"
                | "ResourceAlreadyExistsException"
                | "OperationAbortedException"
        )
    {
        return ErrorKind::Conflict;
    }
    if code.starts_with("Invalid")
        || code.starts_with("Malformed")
        || matches!(
            code,
            "ValidationError"
                | "ValidationException"
                | "MissingParameter"
                | "UnknownParameter"
                | "IllegalLocationConstraintException"
        )
    {
        return ErrorKind::Invalid;
    }
    match status {
        Some(404) => ErrorKind::NotFound,
        Some(403) => ErrorKind::AccessDenied,
        Some(409) => ErrorKind::Conflict,
        Some(400) => ErrorKind::Invalid,
        _ => ErrorKind::Other,
    }
}

/// The typed error of a failed SDK call; `operation` is the API name (`DescribeSubnets`).
pub fn sdk_error<E>(operation: &str, err: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().map(str::to_string);
    match code {
        Some(code) => {
            let message = err.message().unwrap_or("no message");
            ProviderError::new(
                classify(&code, status),
                format!("{operation}: {code}: {message}"),
            )
        }
        None => {
            let detail = chain(&err);
            let kind = match status {
                Some(s) => classify("", Some(s)),
                None => ErrorKind::Other,
            };
            if detail.to_ascii_lowercase().contains("credentials") {
                return missing_credentials(&detail);
            }
            ProviderError::new(kind, format!("{operation}: {detail}"))
        }
    }
}

/// An error and its causes, `: `-separated (without the raw response the SDK's debug form shows).
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// The error for "no credentials anywhere", naming where the SDK looked.
pub fn missing_credentials(detail: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::AccessDenied,
        format!(
            "provider `aws`: no AWS credentials found. The standard chain looked in: the environment \
             (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), the shared profile files \
             (~/.aws/credentials, ~/.aws/config, AWS_PROFILE), SSO sessions (`aws sso login`), web \
             identity tokens, the ECS container endpoint and EC2 instance metadata (IMDS). \
             Set one of them up. ({detail})"
        ),
    )
}

/// A request that failed the adapter's own checks, before any call.
pub fn invalid(resource_type: &str, message: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(ErrorKind::Invalid, format!("{resource_type}: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_codes_map_to_the_kinds_the_engine_acts_on() {
        assert_eq!(
            classify("RequestLimitExceeded", Some(503)),
            ErrorKind::Throttled
        );
        assert_eq!(classify("Throttling", Some(400)), ErrorKind::Throttled);
        assert_eq!(classify("", Some(429)), ErrorKind::Throttled);
        assert_eq!(
            classify("InvalidSubnetID.NotFound", Some(400)),
            ErrorKind::NotFound
        );
        assert_eq!(classify("NoSuchBucket", Some(404)), ErrorKind::NotFound);
        assert_eq!(
            classify("UnauthorizedOperation", Some(403)),
            ErrorKind::AccessDenied
        );
        assert_eq!(
            classify("AccessDeniedException", Some(400)),
            ErrorKind::AccessDenied
        );
        assert_eq!(
            classify("DependencyViolation", Some(400)),
            ErrorKind::Conflict
        );
        assert_eq!(
            classify("BucketAlreadyOwnedByYou", Some(409)),
            ErrorKind::Conflict
        );
        assert_eq!(
            classify("InvalidPermission.Duplicate", Some(400)),
            ErrorKind::Conflict
        );
        assert_eq!(
            classify("InvalidParameterValue", Some(400)),
            ErrorKind::Invalid
        );
        assert_eq!(classify("NoSuchEntity", Some(404)), ErrorKind::NotFound);
        assert_eq!(
            classify("NotFoundException", Some(400)),
            ErrorKind::NotFound
        );
        assert_eq!(classify("DeleteConflict", Some(409)), ErrorKind::Conflict);
        assert_eq!(
            classify("ResourceAlreadyExistsException", Some(400)),
            ErrorKind::Conflict
        );
        assert_eq!(
            classify("KMSInvalidStateException", Some(400)),
            ErrorKind::Conflict
        );
        assert_eq!(
            classify("ValidationException", Some(400)),
            ErrorKind::Invalid
        );
        assert_eq!(classify("InternalError", Some(500)), ErrorKind::Other);
    }
}
