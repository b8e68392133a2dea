//! Test support for the Azure provider: one local ARM server per test binary (the client-secret
//! flow reads its authority host from the process environment, so tests share one), a lock that
//! runs the tests of a binary one at a time (they reconfigure the server), and helpers to build
//! providers, configurations and control requests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use arm_test_server::client::{CLIENT_ID, Client, TENANT};
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
pub use arm_test_server::client::CLIENT_SECRET;

static SERVER: OnceLock<Server> = OnceLock::new();
static LOCK: LazyLock<Mutex<()>> = LazyLock::new(|| Mutex::new(()));

pub struct Arm {
    _guard: MutexGuard<'static, ()>,
    pub url: String,
    pub client: Client,
}

/// The shared server, reset, with the client-secret variables pointing at it.
pub async fn arm() -> Arm {
    let guard = LOCK.lock().await;
    let server = SERVER.get_or_init(|| {
        let server = Server::start(Options::default());
        // SAFETY: set once, before any provider reads them, under the test lock.
        unsafe {
            std::env::set_var("AZURE_TENANT_ID", TENANT);
            std::env::set_var("AZURE_CLIENT_ID", CLIENT_ID);
            std::env::set_var("AZURE_CLIENT_SECRET", CLIENT_SECRET);
            std::env::set_var("AZURE_AUTHORITY_HOST", server.url());
            std::env::remove_var("AZURE_RESOURCE_MANAGER_ENDPOINT");
        }
        server
    });
    let client = Client::new(server.url());
    client.reset();
    client.forget_requests();
    Arm {
        _guard: guard,
        url: server.url().to_string(),
        client,
    }
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
        self.client.configure(&config);
    }

    /// Requests the server saw, keyed `PUT <type>`, `LIST <type>`, `POLL <type>`...
    pub fn requests(&self) -> BTreeMap<String, u64> {
        self.client.requests()
    }

    pub fn forget_requests(&self) {
        self.client.forget_requests();
    }

    /// A resource as the server stores it (`None`: absent).
    pub fn get(&self, id: &str, api_version: &str) -> Option<Json> {
        self.client.get(id, api_version)
    }

    /// Changes a resource behind cairn's back (a hand edit in the portal).
    pub fn put(&self, id: &str, api_version: &str, body: &Json) -> u16 {
        self.client.put(id, api_version, body)
    }
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
                    since: None,
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
