//! Test support for the Azure provider: one local ARM server per test binary (the client-secret
//! flow reads its authority host from the process environment, so tests share one), a lock that
//! runs the tests of a binary one at a time (they reconfigure the server), and helpers to build
//! providers, configurations and control requests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use arm_test_server::{Options, Server};
use cairn_azure::AzureProvider;
use cairn_provider::provider::{
    CreateRequest, CreateResponse, DeleteRequest, Provider, ProviderConfig, ProviderError,
    ReadItem, ReadRequest, ReadResult, UpdateRequest,
};
use cairn_provider::value::Value;
use serde_json::{Value as Json, json};
use tokio::sync::{Mutex, MutexGuard};

pub const SUB: &str = "00000000-0000-0000-0000-00000000cafe";
pub const CLIENT_SECRET: &str = "s3cret-for-tests";

static SERVER: OnceLock<Server> = OnceLock::new();
static LOCK: LazyLock<Mutex<()>> = LazyLock::new(|| Mutex::new(()));

pub struct Arm {
    _guard: MutexGuard<'static, ()>,
    pub url: String,
}

/// The shared server, reset, with the client-secret variables pointing at it.
pub async fn arm() -> Arm {
    let guard = LOCK.lock().await;
    let server = SERVER.get_or_init(|| {
        let server = Server::start(Options::default());
        // SAFETY: set once, before any provider reads them, under the test lock.
        unsafe {
            std::env::set_var("AZURE_TENANT_ID", "tenant-1");
            std::env::set_var("AZURE_CLIENT_ID", "cairn-tests");
            std::env::set_var("AZURE_CLIENT_SECRET", CLIENT_SECRET);
            std::env::set_var("AZURE_AUTHORITY_HOST", server.url());
            std::env::remove_var("AZURE_RESOURCE_MANAGER_ENDPOINT");
        }
        server
    });
    let arm = Arm {
        _guard: guard,
        url: server.url().to_string(),
    };
    arm.control("POST", "/_test/reset", None);
    arm.control("DELETE", "/_test/requests", None);
    arm
}

impl Arm {
    /// A provider instance against this server, region `eastus`.
    pub fn provider(&self) -> AzureProvider {
        AzureProvider::new(&ProviderConfig {
            name: "azure".to_string(),
            alias: None,
            settings: Value::from_json(&json!({
                "subscription_id": SUB,
                "location": "East US",
                "endpoint": self.url,
            })),
            project_dir: PathBuf::from("."),
            environment: "test".to_string(),
        })
        .expect("valid settings")
    }

    /// Replaces the server's test configuration (LRO shapes, failures, faults).
    pub fn configure(&self, config: Json) {
        let (status, body) = self.control("PUT", "/_test/config", Some(&config.to_string()));
        assert!(
            (200..300).contains(&status),
            "test config refused: {status} {body}"
        );
    }

    /// Requests the server saw, keyed `PUT <type>`, `LIST <type>`, `POLL <type>`...
    pub fn requests(&self) -> BTreeMap<String, u64> {
        let (_, body) = self.control("GET", "/_test/requests", None);
        serde_json::from_str(&body).unwrap_or_default()
    }

    pub fn forget_requests(&self) {
        self.control("DELETE", "/_test/requests", None);
    }

    /// A resource as the server stores it (`None`: absent), read with a token of its own.
    pub fn get(&self, id: &str, api_version: &str) -> Option<Json> {
        let token = self.token();
        let (status, body) = http(
            "GET",
            &format!("{}{id}?api-version={api_version}", self.url),
            &[("Authorization", &format!("Bearer {token}"))],
            None,
        );
        (status == 200).then(|| serde_json::from_str(&body).expect("JSON"))
    }

    /// Changes a resource behind cairn's back (a hand edit in the portal).
    pub fn put(&self, id: &str, api_version: &str, body: &Json) -> u16 {
        let token = self.token();
        http(
            "PUT",
            &format!("{}{id}?api-version={api_version}", self.url),
            &[("Authorization", &format!("Bearer {token}"))],
            Some(&body.to_string()),
        )
        .0
    }

    fn token(&self) -> String {
        let form = format!(
            "grant_type=client_credentials&client_id=cairn-tests&client_secret={CLIENT_SECRET}&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
        );
        let (_, body) = http(
            "POST",
            &format!("{}/tenant-1/oauth2/v2.0/token", self.url),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(&form),
        );
        let json: Json = serde_json::from_str(&body).expect("token JSON");
        json["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn control(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        http(method, &format!("{}{path}", self.url), &[], body)
    }
}

/// One HTTP/1.1 request over std's TcpStream, `Connection: close`.
pub fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let body = body.unwrap_or("");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty()
        && !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        request.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

/// A configuration value from JSON.
pub fn config(json: Json) -> Value {
    Value::from_json(&json)
}

pub async fn create(
    provider: &AzureProvider,
    address: &str,
    resource_type: &str,
    config: &Value,
) -> Result<CreateResponse, ProviderError> {
    provider
        .create(CreateRequest {
            address: address.to_string(),
            resource_type: resource_type.to_string(),
            config: config.clone(),
            token: format!("token-{address}"),
            timeout: Some(Duration::from_secs(60)),
        })
        .await
}

/// Reads instances by id; `None` ids are looked for by configuration (pending intents).
pub async fn read(
    provider: &AzureProvider,
    resource_type: &str,
    items: &[(&str, Option<&str>, &Value)],
) -> BTreeMap<String, ReadResult> {
    provider
        .read(ReadRequest {
            resource_type: resource_type.to_string(),
            items: items
                .iter()
                .map(|(address, id, prior)| ReadItem {
                    address: address.to_string(),
                    id: id.map(String::from),
                    token: None,
                    prior: (*prior).clone(),
                })
                .collect(),
        })
        .await
        .expect("read")
        .found
}

pub async fn update(
    provider: &AzureProvider,
    resource_type: &str,
    id: &str,
    prior: &Value,
    config: &Value,
) -> Result<Value, ProviderError> {
    provider
        .update(UpdateRequest {
            address: "test".to_string(),
            resource_type: resource_type.to_string(),
            id: id.to_string(),
            prior: prior.clone(),
            config: config.clone(),
            changed: Vec::new(),
            timeout: Some(Duration::from_secs(60)),
        })
        .await
        .map(|r| r.attributes)
}

pub async fn delete(
    provider: &AzureProvider,
    resource_type: &str,
    id: &str,
) -> Result<(), ProviderError> {
    provider
        .delete(DeleteRequest {
            address: "test".to_string(),
            resource_type: resource_type.to_string(),
            id: id.to_string(),
            prior: Value::Null,
            timeout: Some(Duration::from_secs(60)),
        })
        .await
        .map(|_| ())
}

/// A resource group for a test's resources.
pub async fn group(provider: &AzureProvider, name: &str) -> String {
    create(
        provider,
        &format!("azurerm_resource_group.{name}"),
        "azurerm_resource_group",
        &config(json!({ "name": name })),
    )
    .await
    .expect("resource group")
    .id
}

/// The attribute `name` of an attribute map, as text.
pub fn attr<'a>(attrs: &'a Value, name: &str) -> &'a str {
    attrs.get(name).and_then(Value::as_str).unwrap_or_default()
}
