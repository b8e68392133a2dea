//! Objects in one S3 bucket, read and written with conditions: what cairn's S3 state backend
//! stands on (the engine's `StateStore` lives in the root crate; only this crate imports the
//! SDK).
//!
//! Every write says what it expects to find: `If-None-Match: *` (the object must not exist: a
//! first state, a lock) or `If-Match: ETAG` (the object is still the one this process read), so
//! two writers can never overwrite each other silently; a lost race is
//! [`ObjectError::PreconditionFailed`]. The client comes from the SDK's standard chain
//! (credentials, `AWS_ENDPOINT_URL`), with path-style addressing when an endpoint is set, as the
//! provider's own clients are built.

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What a conditional write expects to find.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The object must not exist (`If-None-Match: *`).
    Absent,
    /// The object must still have this ETag (`If-Match`).
    Etag(String),
}

/// One object as read: its bytes and its ETag.
#[derive(Clone, Debug)]
pub struct Object {
    pub bytes: Vec<u8>,
    pub etag: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// A condition did not hold: someone else wrote (or removed) the object first.
    #[error("s3://{bucket}/{key} is not as expected: another writer changed it first")]
    PreconditionFailed { bucket: String, key: String },
    #[error("no credentials for S3: {0}")]
    Credentials(String),
    #[error("no region for S3: set `region` in the backend block or AWS_REGION")]
    NoRegion,
    /// Any other failure, with AWS's code and message so it can be searched for.
    #[error("{operation} s3://{bucket}/{key}: {message}")]
    Failed {
        operation: &'static str,
        bucket: String,
        key: String,
        message: String,
    },
}

/// A bucket reached through the SDK's standard settings.
#[derive(Clone, Debug)]
pub struct Bucket {
    client: aws_sdk_s3::Client,
    name: String,
}

impl Bucket {
    /// Loads the SDK's configuration (in `region` when given) and checks that credentials
    /// resolve, so a missing credential is one clear error rather than the first call's.
    pub async fn connect(name: &str, region: Option<&str>) -> Result<Bucket, ObjectError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = region {
            loader = loader.region(Region::new(region.to_string()));
        }
        let sdk = loader.load().await;
        if sdk.region().is_none() {
            return Err(ObjectError::NoRegion);
        }
        let credentials = sdk
            .credentials_provider()
            .ok_or_else(|| ObjectError::Credentials("no credentials provider".to_string()))?;
        credentials
            .provide_credentials()
            .await
            .map_err(|e| ObjectError::Credentials(e.to_string()))?;
        // Emulators and S3-compatible stores answer on one host: virtual-hosted bucket names
        // would not resolve there.
        let custom_endpoint = sdk.endpoint_url().is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some_and(|v| !v.is_empty());
        let config = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(custom_endpoint)
            .build();
        Ok(Bucket {
            client: aws_sdk_s3::Client::from_conf(config),
            name: name.to_string(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn failed<E: ProvideErrorMetadata + std::fmt::Debug>(
        &self,
        operation: &'static str,
        key: &str,
        err: &SdkError<E, HttpResponse>,
    ) -> ObjectError {
        if precondition_failed(err) {
            return ObjectError::PreconditionFailed {
                bucket: self.name.clone(),
                key: key.to_string(),
            };
        }
        ObjectError::Failed {
            operation,
            bucket: self.name.clone(),
            key: key.to_string(),
            message: describe(err),
        }
    }

    /// A failure the SDK reports without AWS's metadata (a body cut off, a request it refuses to
    /// build).
    fn failure(&self, operation: &'static str, key: &str, message: impl ToString) -> ObjectError {
        ObjectError::Failed {
            operation,
            bucket: self.name.clone(),
            key: key.to_string(),
            message: message.to_string(),
        }
    }

    /// The object's bytes and ETag, or `None` when it does not exist.
    pub async fn get(&self, key: &str) -> Result<Option<Object>, ObjectError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.name)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(self.failed("reading", key, &e)),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| self.failure("reading", key, e))?
            .into_bytes()
            .to_vec();
        Ok(Some(Object { bytes, etag }))
    }

    /// Writes `bytes` only if the object is as `expect` says; returns the new ETag.
    pub async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        expect: &Expect,
    ) -> Result<String, ObjectError> {
        let mut request = self
            .client
            .put_object()
            .bucket(&self.name)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes));
        request = match expect {
            Expect::Absent => request.if_none_match("*"),
            Expect::Etag(etag) => request.if_match(etag),
        };
        let out = request
            .send()
            .await
            .map_err(|e| self.failed("writing", key, &e))?;
        Ok(out.e_tag().unwrap_or_default().to_string())
    }

    /// Deletes the object; with `etag`, only while it is still that version (`If-Match`).
    /// Deleting an object that is already gone succeeds.
    pub async fn delete(&self, key: &str, etag: Option<&str>) -> Result<(), ObjectError> {
        let mut request = self.client.delete_object().bucket(&self.name).key(key);
        if let Some(etag) = etag {
            request = request.if_match(etag);
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(self.failed("deleting", key, &e)),
        }
    }

    /// The keys of every object whose key starts with `prefix`, in S3's order (UTF-8 byte
    /// order), every page read.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.name)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| self.failed("listing", prefix, &e))?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            match out.next_continuation_token() {
                Some(next) if out.is_truncated() == Some(true) => token = Some(next.to_string()),
                _ => return Ok(keys),
            }
        }
    }

    /// The object's ETag, or `None` when it does not exist (a HEAD: no body is read).
    pub async fn etag(&self, key: &str) -> Result<Option<String>, ObjectError> {
        match self
            .client
            .head_object()
            .bucket(&self.name)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.e_tag().unwrap_or_default().to_string())),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.failed("reading", key, &e)),
        }
    }

    /// Deletes every object of `keys` (gone already is fine), a thousand per request.
    pub async fn delete_all(&self, keys: &[String]) -> Result<(), ObjectError> {
        use aws_sdk_s3::types::{Delete, ObjectIdentifier};
        for chunk in keys.chunks(1000) {
            let first = chunk.first().cloned().unwrap_or_default();
            let objects = chunk
                .iter()
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| self.failure("deleting", &first, e))?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| self.failure("deleting", &first, e))?;
            let out = self
                .client
                .delete_objects()
                .bucket(&self.name)
                .delete(delete)
                .send()
                .await
                .map_err(|e| self.failed("deleting", &first, &e))?;
            if let Some(error) = out.errors().first() {
                let message = format!(
                    "{}: {}",
                    error.code().unwrap_or("error"),
                    error.message().unwrap_or_default()
                );
                return Err(self.failure("deleting", error.key().unwrap_or_default(), message));
            }
        }
        Ok(())
    }

    /// Whether the bucket keeps every version of its objects (the state's history).
    pub async fn versioning_enabled(&self) -> Result<bool, ObjectError> {
        let status = match self
            .client
            .get_bucket_versioning()
            .bucket(&self.name)
            .send()
            .await
        {
            Ok(out) => out.status().map(|s| s.as_str().to_string()),
            // moto wraps the answer in another root element, which the SDK refuses.
            Err(e) => match crate::types::s3_bucket_versioning::status_from_body(&e) {
                Some(status) => status,
                None => return Err(self.failed("reading the versioning of", "", &e)),
            },
        };
        Ok(status.as_deref() == Some("Enabled"))
    }
}

fn status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

fn precondition_failed<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    // 409 ConditionalRequestConflict: a concurrent conditional write to the same key.
    err.code() == Some("PreconditionFailed")
        || err.code() == Some("ConditionalRequestConflict")
        || status(err) == Some(412)
}

fn is_not_found<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    err.code() == Some("NoSuchKey") || status(err) == Some(404)
}

/// AWS's code and message, or the SDK's own account of a failure that never reached AWS.
fn describe<E: ProvideErrorMetadata + std::fmt::Debug>(err: &SdkError<E, HttpResponse>) -> String {
    match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => match err {
            SdkError::DispatchFailure(e) => format!("could not reach S3: {e:?}"),
            SdkError::TimeoutError(_) => "timed out".to_string(),
            other => match status(other) {
                Some(status) => format!("HTTP {status}"),
                None => format!("{other:?}"),
            },
        },
    }
}
