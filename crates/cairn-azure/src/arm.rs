//! `Arm`: requests to Azure Resource Manager through azure_core's `Pipeline` (retries honouring
//! `Retry-After`, client request ids, user agent, bearer token), and the long-running-operation
//! protocol on top of them.
//!
//! A PUT, PATCH or DELETE may answer 200, 201, 202 or 204, with or without
//! `Azure-AsyncOperation` and `Location` (header names in any case), and with a non-terminal
//! `provisioningState` in the body. [`Arm::put`] and [`Arm::delete`] wait until it is over:
//! the async-operation URL when there is one, else the `Location` URL, else the resource
//! itself, each honouring `Retry-After`, until `Succeeded`, `Failed` or `Canceled`.

use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::TokenCredential;
use azure_core::http::headers::{HeaderName, Headers};
use azure_core::http::policies::Policy;
use azure_core::http::request::Request;
use azure_core::http::{
    ClientOptions, Context, ExponentialRetryOptions, Method, Pipeline, PipelineSendOptions,
    RetryOptions, Transport, Url,
};
use serde_json::Value as Json;
use tokio::time::Instant;

use crate::calls::CallCounts;
use crate::errors::ArmError;
use crate::transport::HyperTransport;

/// The scope of a token for Resource Manager.
const ARM_SCOPE: &str = "https://management.azure.com/.default";
/// The first wait between polls when ARM does not say (`Retry-After`); doubled up to the cap.
const FIRST_POLL: Duration = Duration::from_millis(250);
const POLL_CAP: Duration = Duration::from_secs(15);

/// The ARM client of one provider instance.
#[derive(Clone, Debug)]
pub struct Arm {
    pipeline: Pipeline,
    /// `https://management.azure.com`, or an override, without a trailing slash.
    endpoint: String,
    counts: CallCounts,
}

/// An answer as the LRO logic needs it.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Headers,
    body: Option<Json>,
}

impl Answer {
    fn header(&self, name: &'static str) -> Option<String> {
        // azure_core lower-cases header names on the way in; ARM's casing varies.
        self.headers
            .get_optional_string(&HeaderName::from_static(name))
            .filter(|v| !v.is_empty())
    }

    fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
    }

    fn provisioning_state(&self) -> Option<String> {
        provisioning_state(self.body.as_ref()?)
    }
}

pub fn provisioning_state(resource: &Json) -> Option<String> {
    resource
        .get("properties")
        .and_then(|p| p.get("provisioningState"))
        .and_then(Json::as_str)
        .map(String::from)
}

fn is_terminal(state: &str) -> bool {
    ["succeeded", "failed", "canceled", "cancelled"].contains(&state.to_ascii_lowercase().as_str())
}

fn succeeded(state: &str) -> bool {
    state.eq_ignore_ascii_case("succeeded")
}

/// An error and its sources: azure_core wraps the reason (a refused connection) in
/// context ("will not be retried").
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(&format!(": {e}"));
        source = e.source();
    }
    text
}

/// The operation kinds, for messages and call counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Put,
    Patch,
    Delete,
}

impl Op {
    fn method(self) -> Method {
        match self {
            Op::Put => Method::Put,
            Op::Patch => Method::Patch,
            Op::Delete => Method::Delete,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Op::Put => "PUT",
            Op::Patch => "PATCH",
            Op::Delete => "DELETE",
        }
    }
}

/// How to reach ARM.
#[derive(Clone, Debug)]
pub struct ArmOptions {
    pub endpoint: String,
    /// Retries of throttling and 5xx answers inside the pipeline.
    pub max_retries: u32,
}

impl Arm {
    pub fn new(
        options: ArmOptions,
        credential: Arc<dyn TokenCredential>,
        transport: Arc<HyperTransport>,
        counts: CallCounts,
    ) -> Arm {
        let client_options = ClientOptions {
            transport: Some(Transport::new(transport)),
            retry: RetryOptions::exponential(ExponentialRetryOptions {
                initial_delay: azure_core::time::Duration::milliseconds(200),
                max_retries: options.max_retries,
                max_total_elapsed: azure_core::time::Duration::seconds(120),
                max_delay: azure_core::time::Duration::seconds(30),
            }),
            ..Default::default()
        };
        let auth: Arc<dyn Policy> = Arc::new(crate::auth::BearerPolicy::new(credential, ARM_SCOPE));
        let pipeline = Pipeline::new(
            Some("cairn"),
            Some(env!("CARGO_PKG_VERSION")),
            client_options,
            Vec::new(),
            vec![auth],
            None,
        );
        Arm {
            pipeline,
            endpoint: options.endpoint.trim_end_matches('/').to_string(),
            counts,
        }
    }

    fn url(&self, path: &str, api_version: &str) -> Result<Url, ArmError> {
        let text = format!("{}{path}?api-version={api_version}", self.endpoint);
        Url::parse(&text).map_err(|e| ArmError::Unexpected {
            what: path.to_string(),
            why: format!("not a URL ({text}): {e}"),
        })
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Json>,
        call: String,
    ) -> Result<Answer, ArmError> {
        self.counts.record(call);
        let mut request = Request::new(url.clone(), method);
        request.insert_header("accept", "application/json");
        if let Some(body) = body {
            request.insert_header("content-type", "application/json");
            let bytes = serde_json::to_vec(body).map_err(|e| ArmError::Unexpected {
                what: url.path().to_string(),
                why: e.to_string(),
            })?;
            request.set_body(bytes);
        }
        let options = PipelineSendOptions {
            skip_checks: true,
            ..Default::default()
        };
        let response = self
            .pipeline
            .send(&Context::new(), &mut request, Some(options))
            .await
            .map_err(|e| match e.kind() {
                azure_core::error::ErrorKind::Credential => ArmError::Credential(chain(&e)),
                _ => ArmError::Transport(format!("{method} {}: {}", url.path(), chain(&e))),
            })?;
        let status = u16::from(response.status());
        let headers = response.headers().clone();
        let bytes = response.body().as_ref();
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            Some(
                serde_json::from_slice(bytes).map_err(|e| ArmError::Unexpected {
                    what: format!("{method} {}", url.path()),
                    why: format!("the body is not JSON ({e})"),
                })?,
            )
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// The error of a non-2xx answer, with ARM's code and message.
    fn http_error(method: &'static str, what: &str, answer: &Answer) -> ArmError {
        let error = answer.body.as_ref().and_then(|b| b.get("error"));
        let field = |name: &str| {
            error
                .and_then(|e| e.get(name))
                .and_then(Json::as_str)
                .map(String::from)
        };
        ArmError::Http {
            method,
            what: what.to_string(),
            status: answer.status,
            code: field("code").unwrap_or_else(|| format!("HTTP{}", answer.status)),
            message: field("message").unwrap_or_else(|| "no message".to_string()),
            retry_after: answer.retry_after(),
        }
    }

    /// One resource, or `None` when it does not exist.
    pub async fn get(
        &self,
        id: &str,
        api_version: &str,
        call: &str,
    ) -> Result<Option<Json>, ArmError> {
        let answer = self
            .send(
                Method::Get,
                self.url(id, api_version)?,
                None,
                format!("GET {call}"),
            )
            .await?;
        match answer.status {
            200 => Ok(answer.body),
            404 => Ok(None),
            _ => Err(Self::http_error("GET", id, &answer)),
        }
    }

    /// Every item of a list (`{"value": [...], "nextLink": ...}`), following `nextLink`. A
    /// missing parent (404) lists nothing.
    pub async fn list(
        &self,
        path: &str,
        api_version: &str,
        call: &str,
    ) -> Result<Vec<Json>, ArmError> {
        self.list_from(self.url(path, api_version)?, path, call)
            .await
    }

    /// [`Arm::list`] with an OData `$filter` (`tagName eq 'env' and tagValue eq 'prd'`).
    pub async fn list_filtered(
        &self,
        path: &str,
        api_version: &str,
        filter: &str,
        call: &str,
    ) -> Result<Vec<Json>, ArmError> {
        let mut url = self.url(path, api_version)?;
        // Azure's SDKs send `$filter` with its spaces and quotes percent-encoded (`%20`, not
        // `+`, which not every ARM front end reads as a space).
        let query = format!(
            "{}&$filter={}",
            url.query().unwrap_or_default(),
            percent_encode(filter)
        );
        url.set_query(Some(&query));
        self.list_from(url, path, call).await
    }

    async fn list_from(
        &self,
        first_url: Url,
        path: &str,
        call: &str,
    ) -> Result<Vec<Json>, ArmError> {
        let mut items = Vec::new();
        let mut url = first_url;
        let mut first = true;
        loop {
            let label = if first { "LIST" } else { "NEXT" };
            let answer = self
                .send(Method::Get, url, None, format!("{label} {call}"))
                .await?;
            match answer.status {
                200 => {}
                404 if first => return Ok(items),
                _ => return Err(Self::http_error("GET", path, &answer)),
            }
            first = false;
            let body = answer.body.unwrap_or(Json::Null);
            if let Some(page) = body.get("value").and_then(Json::as_array) {
                items.extend(page.iter().cloned());
            }
            match body.get("nextLink").and_then(Json::as_str) {
                Some(next) if !next.is_empty() => {
                    url = Url::parse(next).map_err(|e| ArmError::Unexpected {
                        what: path.to_string(),
                        why: format!("nextLink is not a URL: {e}"),
                    })?;
                }
                _ => return Ok(items),
            }
        }
    }

    /// Creates or replaces a resource and waits for the operation; returns the resource as ARM
    /// shows it afterwards.
    pub async fn put(
        &self,
        id: &str,
        api_version: &str,
        body: &Json,
        limit: Duration,
        call: &str,
    ) -> Result<Json, ArmError> {
        self.write(Op::Put, id, api_version, body, limit, call)
            .await
    }

    /// Updates part of a resource (tags) and waits; returns the resource afterwards.
    pub async fn patch(
        &self,
        id: &str,
        api_version: &str,
        body: &Json,
        limit: Duration,
        call: &str,
    ) -> Result<Json, ArmError> {
        self.write(Op::Patch, id, api_version, body, limit, call)
            .await
    }

    async fn write(
        &self,
        op: Op,
        id: &str,
        api_version: &str,
        body: &Json,
        limit: Duration,
        call: &str,
    ) -> Result<Json, ArmError> {
        self.mutate(op, id, api_version, Some(body), limit, call)
            .await?
            .ok_or_else(|| ArmError::Unexpected {
                what: id.to_string(),
                why: format!("the resource is gone after its {} succeeded", op.name()),
            })
    }

    /// Deletes a resource and waits until it is gone. Deleting what is already gone succeeds.
    pub async fn delete(
        &self,
        id: &str,
        api_version: &str,
        limit: Duration,
        call: &str,
    ) -> Result<(), ArmError> {
        self.mutate(Op::Delete, id, api_version, None, limit, call)
            .await
            .map(|_| ())
    }

    async fn mutate(
        &self,
        op: Op,
        id: &str,
        api_version: &str,
        body: Option<&Json>,
        limit: Duration,
        call: &str,
    ) -> Result<Option<Json>, ArmError> {
        let started = Instant::now();
        let answer = self
            .send(
                op.method(),
                self.url(id, api_version)?,
                body,
                format!("{} {call}", op.name()),
            )
            .await?;
        match answer.status {
            200..=202 => {}
            204 => return Ok(None),
            404 if op == Op::Delete => return Ok(None),
            _ => return Err(Self::http_error(op.name(), id, &answer)),
        }
        let poll = Poll {
            arm: self,
            op,
            id,
            api_version,
            call,
            started,
            limit,
        };
        if let Some(url) = answer.header("azure-asyncoperation") {
            poll.async_operation(&url, answer.retry_after()).await?;
            return poll.final_resource().await;
        }
        if answer.status == 202 {
            if let Some(url) = answer.header("location") {
                return poll.location(&url, answer.retry_after()).await;
            }
            return poll.resource(answer.retry_after()).await;
        }
        // 200/201: done, unless the body says the work goes on.
        match answer.provisioning_state() {
            Some(state) if !is_terminal(&state) && op != Op::Delete => {
                poll.resource(answer.retry_after()).await
            }
            Some(state) if !succeeded(&state) && is_terminal(&state) => {
                Err(ArmError::OperationFailed {
                    operation: op.name(),
                    what: id.to_string(),
                    status: state,
                    code: "ProvisioningFailed".to_string(),
                    message: "the resource's provisioningState is not Succeeded".to_string(),
                })
            }
            _ => Ok(if op == Op::Delete { None } else { answer.body }),
        }
    }
}

/// Every byte but RFC 3986's unreserved ones as `%XX`.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One operation being waited for.
struct Poll<'a> {
    arm: &'a Arm,
    op: Op,
    id: &'a str,
    api_version: &'a str,
    call: &'a str,
    started: Instant,
    limit: Duration,
}

impl Poll<'_> {
    /// Sleeps before the next poll: what ARM asked for, else a backoff. Fails once the next
    /// poll would land after the limit.
    async fn wait(
        &self,
        asked: Option<Duration>,
        backoff: &mut Duration,
        last: &str,
    ) -> Result<(), ArmError> {
        let delay = asked.unwrap_or(*backoff);
        *backoff = (*backoff * 2).min(POLL_CAP);
        if self.started.elapsed() + delay > self.limit {
            return Err(ArmError::Timeout {
                operation: self.op.name(),
                what: self.id.to_string(),
                waited: self.started.elapsed(),
                last: last.to_string(),
            });
        }
        tokio::time::sleep(delay).await;
        Ok(())
    }

    fn operation_url(&self, url: &str) -> Result<Url, ArmError> {
        Url::parse(url).map_err(|e| ArmError::Unexpected {
            what: self.id.to_string(),
            why: format!("operation URL {url:?} is not a URL: {e}"),
        })
    }

    /// Polls `Azure-AsyncOperation` until its `status` is terminal.
    async fn async_operation(&self, url: &str, first: Option<Duration>) -> Result<(), ArmError> {
        let url = self.operation_url(url)?;
        let mut backoff = FIRST_POLL;
        let mut asked = first;
        let mut last = "InProgress".to_string();
        loop {
            self.wait(asked, &mut backoff, &last).await?;
            let answer = self
                .arm
                .send(
                    Method::Get,
                    url.clone(),
                    None,
                    format!("POLL {}", self.call),
                )
                .await?;
            if answer.status >= 400 {
                return Err(Arm::http_error("GET", self.id, &answer));
            }
            asked = answer.retry_after();
            let body = answer.body.unwrap_or(Json::Null);
            let status = body
                .get("status")
                .and_then(Json::as_str)
                .unwrap_or("InProgress")
                .to_string();
            if succeeded(&status) {
                return Ok(());
            }
            if is_terminal(&status) {
                let error = body.get("error");
                let field = |name: &str| {
                    error
                        .and_then(|e| e.get(name))
                        .and_then(Json::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                return Err(ArmError::OperationFailed {
                    operation: self.op.name(),
                    what: self.id.to_string(),
                    status,
                    code: field("code"),
                    message: field("message"),
                });
            }
            last = status;
        }
    }

    /// Polls a `Location` URL: 202 while running, then 200 with the resource or 204.
    async fn location(&self, url: &str, first: Option<Duration>) -> Result<Option<Json>, ArmError> {
        let url = self.operation_url(url)?;
        let mut backoff = FIRST_POLL;
        let mut asked = first;
        loop {
            self.wait(asked, &mut backoff, "Accepted").await?;
            let answer = self
                .arm
                .send(
                    Method::Get,
                    url.clone(),
                    None,
                    format!("POLL {}", self.call),
                )
                .await?;
            match answer.status {
                202 => asked = answer.retry_after(),
                200 | 201 => {
                    return match (self.op, answer.body) {
                        (Op::Delete, _) => Ok(None),
                        // Some operation results answer 200 without the resource.
                        (_, Some(body)) if body.get("id").is_some() => Ok(Some(body)),
                        _ => self.final_resource().await,
                    };
                }
                204 => {
                    return match self.op {
                        Op::Delete => Ok(None),
                        _ => self.final_resource().await,
                    };
                }
                _ => {
                    let error = Arm::http_error("GET", self.id, &answer);
                    return Err(match error {
                        ArmError::Http { code, message, .. } => ArmError::OperationFailed {
                            operation: self.op.name(),
                            what: self.id.to_string(),
                            status: "Failed".to_string(),
                            code,
                            message,
                        },
                        other => other,
                    });
                }
            }
        }
    }

    /// Polls the resource itself: its `provisioningState` until terminal, or (a delete) until
    /// it is gone.
    async fn resource(&self, first: Option<Duration>) -> Result<Option<Json>, ArmError> {
        let mut backoff = FIRST_POLL;
        let mut asked = first;
        let mut last = "Accepted".to_string();
        loop {
            self.wait(asked, &mut backoff, &last).await?;
            let current = self.arm.get(self.id, self.api_version, self.call).await?;
            asked = None;
            let Some(current) = current else {
                if self.op == Op::Delete {
                    return Ok(None);
                }
                // Just accepted: not yet visible.
                last = "not yet readable".to_string();
                continue;
            };
            let state = provisioning_state(&current).unwrap_or_else(|| "Succeeded".to_string());
            if self.op == Op::Delete {
                last = state;
                continue;
            }
            if succeeded(&state) {
                return Ok(Some(current));
            }
            if is_terminal(&state) {
                return Err(ArmError::OperationFailed {
                    operation: self.op.name(),
                    what: self.id.to_string(),
                    status: state,
                    code: "ProvisioningFailed".to_string(),
                    message: "the resource's provisioningState ended without Succeeded".to_string(),
                });
            }
            last = state;
        }
    }

    /// The resource after its operation: for a delete, nothing.
    async fn final_resource(&self) -> Result<Option<Json>, ArmError> {
        if self.op == Op::Delete {
            return Ok(None);
        }
        self.arm.get(self.id, self.api_version, self.call).await
    }
}
