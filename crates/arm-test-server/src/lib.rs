//! A local Azure Resource Manager for tests: no Azure emulator exists for ARM, so cairn's Azure
//! provider is tested against this one. It is kept honest by the official REST examples and
//! swagger files in `shared/azure-rest-examples`, read at run time (never copied here).
//!
//! What it serves, for the types in [`catalog::TYPES`]:
//! - `PUT`/`GET`/`PATCH`/`DELETE` on resource ids (case-insensitive) and lists by resource group
//!   or parent (`{"value": [...], "nextLink": ...}`, two items per page by default); the
//!   `api-version` must be the type's pinned one, and `Authorization: Bearer ...` is required.
//! - Bodies as the examples show them: the stored resource is the request plus `id`, `name`,
//!   `type`, `etag`, `properties.provisioningState` and the members the example response has and
//!   its request lacks. A request member that neither the examples nor the swagger know is
//!   refused with `InvalidRequestContent` naming its path.
//! - "Resources - List" (`GET /subscriptions/{s}/resources`, api-version 2021-04-01) across the
//!   stored top-level resources, and "Resource Groups - List", each with ARM's one-tag-pair
//!   `$filter` (`tagName eq 'K' and tagValue eq 'V'`); a tag-filtered resource list leaves out
//!   `tags`, as ARM documents.
//! - Long-running operations in every shape ARM uses (see [`lro::Mode`]), chosen per type and
//!   per test.
//! - `POST /{tenant}/oauth2/v2.0/token` for the client-secret flow.
//! - Control endpoints for tests: `PUT /_test/config` (see [`config::TestConfig`]: `lro`,
//!   `polls`, `fail`, `faults`, `client_secret`, `page_size`, `retry_after`), `GET
//!   /_test/requests` (counts keyed `PUT <type>`, `GET <type>`, `PATCH <type>`, `DELETE
//!   <type>`, `LIST <type>` for first pages, `NEXT <type>` for nextLink pages, `POLL <type>` for
//!   operation URLs, `POST token`), `DELETE /_test/requests`, `POST /_test/reset`, `GET
//!   /_test/types`.
//!
//! It is test support: never linked into the cairn binary.

pub mod catalog;
pub mod client;
pub mod config;
pub mod lro;

mod arm;
mod by_tag;
mod schema;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub use catalog::CatalogError;

/// How to start a server.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The examples directory; else `$CAIRN_AZURE_EXAMPLES`, else `shared/azure-rest-examples`
    /// found by walking up from the current directory.
    pub examples: Option<PathBuf>,
}

/// A running server; it stops when dropped.
pub struct Server {
    url: String,
    http: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts a server, panicking with the reason if it cannot (it is test support: a missing
    /// examples directory should stop the test at once).
    pub fn start(options: Options) -> Server {
        match Server::try_start(options) {
            Ok(server) => server,
            Err(e) => panic!("cannot start the ARM test server: {e}"),
        }
    }

    pub fn try_start(options: Options) -> Result<Server, CatalogError> {
        let dir = catalog::find_examples_dir(options.examples.as_deref())?;
        let catalog = Arc::new(catalog::Catalog::load(&dir)?);
        let http = tiny_http::Server::http(("127.0.0.1", options.port))
            .map_err(|e| CatalogError(format!("cannot listen on port {}: {e}", options.port)))?;
        let port = http
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| CatalogError("the server has no IP address".to_string()))?;
        let url = format!("http://127.0.0.1:{port}");
        let http = Arc::new(http);
        let state = Arc::new(Mutex::new(arm::State::new(catalog, url.clone())));
        let thread = {
            let http = Arc::clone(&http);
            std::thread::Builder::new()
                .name("arm-test-server".to_string())
                .spawn(move || serve(&http, &state))
                .map_err(|e| CatalogError(format!("cannot start the server thread: {e}")))?
        };
        Ok(Server {
            url,
            http,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.http.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers requests one at a time: the state is behind one lock anyway, and tests are small.
fn serve(http: &tiny_http::Server, state: &Mutex<arm::State>) {
    for mut request in http.incoming_requests() {
        let reply = match read_request(&mut request) {
            Ok(req) => match state.lock() {
                Ok(mut state) => state.handle(&req),
                // A panic while answering an earlier request: keep answering, but say so.
                Err(poisoned) => poisoned.into_inner().handle(&req),
            },
            Err(reply) => reply,
        };
        let _ = request.respond(to_response(reply));
    }
}

fn read_request(request: &mut tiny_http::Request) -> Result<arm::Request, arm::Reply> {
    let mut body = String::new();
    if let Err(e) = request.as_reader().read_to_string(&mut body) {
        return Err(arm::Reply {
            status: 400,
            headers: Vec::new(),
            body: Some(serde_json::json!({"error": {
                "code": "InvalidRequestContent",
                "message": format!("The request body could not be read as UTF-8: {e}"),
            }})),
        });
    }
    let url = request.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (arm::percent_decode(k), arm::percent_decode(v))
        })
        .collect();
    let headers = request
        .headers()
        .iter()
        .map(|h| (h.field.as_str().to_string(), h.value.as_str().to_string()))
        .collect();
    Ok(arm::Request {
        method: request.method().as_str().to_ascii_uppercase(),
        path: path.to_string(),
        query,
        headers,
        body,
    })
}

fn to_response(reply: arm::Reply) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let has_body = reply.body.is_some();
    let data = reply
        .body
        .map(|b| serde_json::to_vec(&b).unwrap_or_default())
        .unwrap_or_default();
    let mut response = tiny_http::Response::from_data(data).with_status_code(reply.status);
    if has_body
        && let Ok(h) =
            tiny_http::Header::from_bytes("Content-Type", "application/json; charset=utf-8")
    {
        response.add_header(h);
    }
    for (name, value) in reply.headers {
        if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(h);
        }
    }
    response
}
