//! The HTTP client under azure_core's `Pipeline`: hyper 1 with rustls, the same stack the AWS
//! SDK compiles, instead of azure_core's default reqwest (which would change the features of
//! crates the SDK shares and rebuild all of it).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::error::{Error, ErrorKind};
use azure_core::http::headers::Headers;
use azure_core::http::request::{Body, Request};
use azure_core::http::{AsyncRawResponse, HttpClient, StatusCode};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// Sends azure_core requests over hyper; HTTP to loopback test servers, HTTPS elsewhere.
#[derive(Clone)]
pub struct HyperTransport {
    client: Client<Https, Full<Bytes>>,
}

impl std::fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HyperTransport")
    }
}

/// How long one request may take before it is abandoned (and retried by the pipeline): ARM
/// answers in seconds, long work is polled, so a silent connection is a dead one.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(100);

impl HyperTransport {
    /// `keep_idle`: whether idle connections are kept for reuse. Not for the local ARM server,
    /// whose HTTP library holds a thread per open connection and can leave a new connection
    /// unread while idle ones hold every thread.
    pub fn new(keep_idle: bool) -> Result<Arc<HyperTransport>, Error> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| {
                Error::with_message(
                    ErrorKind::Connection,
                    format!("cannot load the system's TLS root certificates: {e}"),
                )
            })?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
        let mut builder = Client::builder(TokioExecutor::new());
        if !keep_idle {
            builder.pool_max_idle_per_host(0);
        }
        let client = builder.build(connector);
        Ok(Arc::new(HyperTransport { client }))
    }
}

#[async_trait]
impl HttpClient for HyperTransport {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let body = match request.body() {
            Body::Bytes(bytes) => bytes.clone(),
            // ARM bodies are JSON documents built in memory; cairn never streams uploads.
            Body::SeekableStream(_) => {
                return Err(Error::with_message(
                    ErrorKind::Other,
                    "streamed request bodies are not supported",
                ));
            }
        };
        let mut builder = http::Request::builder()
            .method(request.method().as_str())
            .uri(request.url().as_str());
        for (name, value) in request.headers().iter() {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let outgoing = builder
            .body(Full::new(body))
            .map_err(|e| Error::with_message(ErrorKind::Other, format!("bad request: {e}")))?;
        let response = tokio::time::timeout(REQUEST_TIMEOUT, self.client.request(outgoing))
            .await
            .map_err(|_| {
                Error::with_message(
                    ErrorKind::Io,
                    format!(
                        "{} {}: no answer within {}s",
                        request.method(),
                        request.url(),
                        REQUEST_TIMEOUT.as_secs()
                    ),
                )
            })?
            .map_err(|e| {
                Error::with_message(
                    ErrorKind::Io,
                    format!("{} {}: {e}", request.method(), request.url()),
                )
            })?;
        let (parts, incoming) = response.into_parts();
        let bytes = incoming
            .collect()
            .await
            .map_err(|e| Error::with_message(ErrorKind::Io, format!("reading the response: {e}")))?
            .to_bytes();
        let mut headers = Headers::new();
        for (name, value) in &parts.headers {
            if let Ok(value) = value.to_str() {
                headers.insert(name.as_str().to_string(), value.to_string());
            }
        }
        Ok(AsyncRawResponse::from_bytes(
            StatusCode::from(parts.status.as_u16()),
            headers,
            bytes,
        ))
    }
}
