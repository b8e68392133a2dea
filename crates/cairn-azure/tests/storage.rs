//! Storage account, blob container, key vault, Log Analytics workspace and Redis cache against
//! the local ARM server, each through the long-running-operation shape the server gives its
//! type by default: create, read back unchanged (an empty re-plan), update visible on the
//! server, delete leaving nothing, and import of a resource made by hand.

mod common;

use cairn_azure::AzureProvider;
use cairn_provider::value::Value;
use common::*;
use serde_json::{Value as Json, json};

const STORAGE_API: &str = "2024-01-01";
const VAULT_API: &str = "2024-11-01";
const WORKSPACE_API: &str = "2025-02-01";
const REDIS_API: &str = "2024-11-01";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

fn rg_id(group: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{group}")
}

/// Create, read back by id, update, read back again: returns the id and the attributes after
/// the update. Asserts what every type shares.
async fn create_read_update(
    provider: &AzureProvider,
    resource_type: &str,
    wanted: &Value,
    changed: &Value,
) -> (String, Value, Value) {
    let address = format!("{resource_type}.test");
    let created = create(provider, &address, resource_type, wanted)
        .await
        .unwrap_or_else(|e| panic!("create {resource_type}: {e}"));
    assert_eq!(attr(&created.attributes, "id"), created.id);
    let found = read(
        provider,
        resource_type,
        &[(&address, Some(&created.id), &created.attributes)],
    )
    .await;
    assert_eq!(
        found.get(&address).map(|r| &r.attributes),
        Some(&created.attributes),
        "{resource_type} reads back as created, so a re-plan is empty"
    );
    let updated = update(
        provider,
        resource_type,
        &created.id,
        &created.attributes,
        changed,
    )
    .await
    .unwrap_or_else(|e| panic!("update {resource_type}: {e}"));
    let found = read(
        provider,
        resource_type,
        &[(&address, Some(&created.id), &updated)],
    )
    .await;
    assert_eq!(
        found.get(&address).map(|r| &r.attributes),
        Some(&updated),
        "{resource_type} reads back as updated"
    );
    (created.id, created.attributes, updated)
}

async fn delete_leaves_nothing(
    arm: &Arm,
    provider: &AzureProvider,
    resource_type: &str,
    id: &str,
    api: &str,
) {
    delete(provider, resource_type, id)
        .await
        .unwrap_or_else(|e| panic!("delete {resource_type}: {e}"));
    assert!(arm.get(id, api).is_none(), "{resource_type} {id} is gone");
    let found = read(provider, resource_type, &[("gone", Some(id), &Value::Null)]).await;
    assert!(found.is_empty(), "a refresh finds nothing: {found:?}");
}

/// Imports `id` as a user would: read by id with no prior.
async fn import(provider: &AzureProvider, resource_type: &str, id: &str) -> Value {
    let found = read(
        provider,
        resource_type,
        &[("imported", Some(id), &Value::Null)],
    )
    .await;
    found
        .get("imported")
        .unwrap_or_else(|| panic!("{resource_type} {id} is imported: {found:?}"))
        .attributes
        .clone()
}

fn put_by_hand(arm: &Arm, id: &str, api: &str, body: Json) {
    let status = arm.put(id, api, &body);
    assert!((200..300).contains(&status), "hand-made PUT {id}: {status}");
}

// ---- Storage account ----

fn account(name: &str, replication: &str, tags: Json) -> Value {
    config(json!({
        "name": name,
        "resource_group_name": "rg",
        "account_tier": "Standard",
        "account_replication_type": replication,
        "min_tls_version": "TLS1_2",
        "allow_nested_items_to_be_public": false,
        "tags": tags,
    }))
}

#[tokio::test]
async fn storage_account_lifecycle_through_a_bare_202() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let (id, created, updated) = create_read_update(
        &provider,
        "azurerm_storage_account",
        &account("honeylinkbackup", "GRS", json!({"env": "test"})),
        &account(
            "honeylinkbackup",
            "LRS",
            json!({"env": "test", "owner": "ops"}),
        ),
    )
    .await;
    assert_eq!(
        id,
        format!(
            "{}/providers/Microsoft.Storage/storageAccounts/honeylinkbackup",
            rg_id("rg")
        )
    );
    assert_eq!(attr(&created, "account_tier"), "Standard");
    assert_eq!(attr(&created, "account_replication_type"), "GRS");
    assert_eq!(
        attr(&created, "account_kind"),
        "StorageV2",
        "azurerm's default kind"
    );
    assert_eq!(attr(&created, "location"), "eastus");
    assert_eq!(
        created.get("https_traffic_only_enabled"),
        Some(&Value::Bool(true))
    );
    assert_eq!(
        created.get("allow_nested_items_to_be_public"),
        Some(&Value::Bool(false))
    );
    // FIXME(arm-test-server): computed members are copied from the official example's
    // response, so every account's endpoint is `https://sto4445.blob...`; real ARM names the
    // account. Only the shape is asserted until the server derives them from the name.
    assert!(
        attr(&created, "primary_blob_endpoint").starts_with("https://"),
        "{created:?}"
    );

    let live = arm.get(&id, STORAGE_API).expect("the account exists");
    assert_eq!(live["properties"]["provisioningState"], "Succeeded");
    assert_eq!(live["sku"]["name"], "Standard_LRS", "replication updated");
    assert_eq!(live["kind"], "StorageV2");
    assert_eq!(live["properties"]["minimumTlsVersion"], "TLS1_2");
    assert_eq!(live["tags"], json!({"env": "test", "owner": "ops"}));
    assert_eq!(attr(&updated, "account_replication_type"), "LRS");

    let requests = arm.requests();
    assert!(
        requests
            .get("GET Microsoft.Storage/storageAccounts")
            .copied()
            .unwrap_or(0)
            >= 1,
        "the bare 202 was followed by reading the account: {requests:?}"
    );
    delete_leaves_nothing(&arm, &provider, "azurerm_storage_account", &id, STORAGE_API).await;
}

#[tokio::test]
async fn a_hand_made_storage_account_imports_as_a_spec_would_say_it() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let id = format!(
        "{}/providers/Microsoft.Storage/storageAccounts/handmade",
        rg_id("rg")
    );
    put_by_hand(
        &arm,
        &id,
        STORAGE_API,
        json!({
            "location": "eastus",
            "kind": "StorageV2",
            "sku": {"name": "Standard_RAGRS"},
            "tags": {"owner": "ops"},
            "properties": {"minimumTlsVersion": "TLS1_2", "supportsHttpsTrafficOnly": true},
        }),
    );
    let imported = import(&provider, "azurerm_storage_account", &id).await;
    assert_eq!(attr(&imported, "name"), "handmade");
    assert_eq!(attr(&imported, "resource_group_name"), "rg");
    assert_eq!(attr(&imported, "account_tier"), "Standard");
    assert_eq!(attr(&imported, "account_replication_type"), "RAGRS");
    assert_eq!(attr(&imported, "account_kind"), "StorageV2");
    assert_eq!(attr(&imported, "min_tls_version"), "TLS1_2");
    assert_eq!(imported.get("tags"), Some(&config(json!({"owner": "ops"}))));
}

#[tokio::test]
async fn an_unknown_replication_type_is_refused_before_any_request() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    arm.forget_requests();
    let err = create(
        &provider,
        "azurerm_storage_account.a",
        "azurerm_storage_account",
        &account("badrepl", "XRS", json!({})),
    )
    .await
    .expect_err("XRS is not a replication type");
    assert!(
        err.message.contains("account_replication_type"),
        "{}",
        err.message
    );
    assert!(
        !arm.requests()
            .contains_key("PUT Microsoft.Storage/storageAccounts"),
        "nothing was sent"
    );
}

// ---- Blob container ----

async fn storage_account(provider: &AzureProvider) -> String {
    create(
        provider,
        "azurerm_storage_account.a",
        "azurerm_storage_account",
        &account("honeylinkdata", "LRS", json!({})),
    )
    .await
    .expect("storage account")
    .id
}

#[tokio::test]
async fn storage_container_lifecycle() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let account_id = storage_account(&provider).await;
    let container = |access: &str, metadata: Json| {
        config(json!({
            "name": "backups",
            "storage_account_id": account_id,
            "container_access_type": access,
            "metadata": metadata,
        }))
    };
    let (id, created, updated) = create_read_update(
        &provider,
        "azurerm_storage_container",
        &container("private", json!({"purpose": "snapshots"})),
        &container("blob", json!({"purpose": "snapshots", "rpo": "15m"})),
    )
    .await;
    assert_eq!(
        id,
        format!("{account_id}/blobServices/default/containers/backups")
    );
    assert_eq!(attr(&created, "storage_account_id"), account_id);
    assert_eq!(attr(&created, "container_access_type"), "private");
    assert_eq!(attr(&updated, "container_access_type"), "blob");
    let live = arm.get(&id, STORAGE_API).expect("the container exists");
    assert_eq!(live["properties"]["publicAccess"], "Blob");
    assert_eq!(
        live["properties"]["metadata"],
        json!({"purpose": "snapshots", "rpo": "15m"})
    );
    delete_leaves_nothing(
        &arm,
        &provider,
        "azurerm_storage_container",
        &id,
        STORAGE_API,
    )
    .await;
}

#[tokio::test]
async fn containers_refresh_with_one_list_and_a_hand_made_one_imports() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let account_id = storage_account(&provider).await;
    let mut made = Vec::new();
    for name in ["a", "b", "c"] {
        let c = config(json!({"name": name, "storage_account_id": account_id}));
        let created = create(
            &provider,
            "azurerm_storage_container.c",
            "azurerm_storage_container",
            &c,
        )
        .await
        .expect("container");
        assert_eq!(
            attr(&created.attributes, "container_access_type"),
            "private"
        );
        made.push((format!("azurerm_storage_container.{name}"), created.id, c));
    }
    arm.forget_requests();
    let items: Vec<_> = made
        .iter()
        .map(|(a, id, c)| (a.as_str(), Some(id.as_str()), c))
        .collect();
    let found = read(&provider, "azurerm_storage_container", &items).await;
    assert_eq!(found.len(), 3);
    let requests = arm.requests();
    let containers = "Microsoft.Storage/storageAccounts/blobServices/containers";
    assert_eq!(
        requests.get(&format!("LIST {containers}")),
        Some(&1),
        "{requests:?}"
    );
    assert_eq!(
        requests.get(&format!("GET {containers}")),
        None,
        "{requests:?}"
    );

    let id = format!("{account_id}/blobServices/default/containers/handmade");
    put_by_hand(
        &arm,
        &id,
        STORAGE_API,
        json!({"properties": {"publicAccess": "Container"}}),
    );
    let imported = import(&provider, "azurerm_storage_container", &id).await;
    assert_eq!(attr(&imported, "name"), "handmade");
    assert_eq!(attr(&imported, "storage_account_id"), account_id);
    assert_eq!(attr(&imported, "container_access_type"), "container");
}

// ---- Key vault ----

fn vault(name: &str, extra: Json) -> Value {
    let mut c = json!({
        "name": name,
        "resource_group_name": "rg",
        "tenant_id": TENANT,
        "sku_name": "standard",
        "soft_delete_retention_days": 7,
        "purge_protection_enabled": true,
        "enable_rbac_authorization": true,
    });
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        c.extend(extra.clone());
    }
    config(c)
}

#[tokio::test]
async fn key_vault_lifecycle_keeps_access_policies_it_does_not_manage() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let wanted = vault("honeylink-kv", json!({"tags": {"env": "test"}}));
    let created = create(
        &provider,
        "azurerm_key_vault.kv",
        "azurerm_key_vault",
        &wanted,
    )
    .await
    .expect("vault");
    // Another resource (azurerm_key_vault_access_policy) grants access behind this one: the
    // vault as it is, plus one policy.
    let mut live = arm.get(&created.id, VAULT_API).expect("the vault exists");
    live["properties"]["accessPolicies"] = json!([{
        "tenantId": TENANT,
        "objectId": "00000000-0000-0000-0000-0000000000aa",
        "permissions": {"secrets": ["get", "list"]},
    }]);
    let mut properties = live["properties"].clone();
    if let Some(p) = properties.as_object_mut() {
        // What ARM computes: a client's PUT does not carry them.
        for member in [
            "vaultUri",
            "provisioningState",
            "hsmPoolResourceId",
            "privateEndpointConnections",
        ] {
            p.remove(member);
        }
    }
    let body =
        json!({"location": live["location"], "tags": live["tags"], "properties": properties});
    put_by_hand(&arm, &created.id, VAULT_API, body);

    let (id, created, updated) = create_read_update_existing(
        &provider,
        "azurerm_key_vault",
        &created.id,
        &created.attributes,
        &vault(
            "honeylink-kv",
            json!({"tags": {"env": "test", "owner": "security"}, "public_network_access_enabled": false}),
        ),
    )
    .await;
    assert_eq!(attr(&created, "sku_name"), "standard");
    assert_eq!(attr(&created, "tenant_id"), TENANT);
    assert_eq!(
        created.get("soft_delete_retention_days"),
        Some(&Value::Number(7.0))
    );
    assert_eq!(
        created.get("purge_protection_enabled"),
        Some(&Value::Bool(true))
    );
    assert_eq!(
        created.get("enable_rbac_authorization"),
        Some(&Value::Bool(true))
    );
    assert_eq!(
        created.get("rbac_authorization_enabled"),
        Some(&Value::Bool(true))
    );
    // FIXME(arm-test-server): the example's `https://sample-vault.vault.azure.net` for every
    // vault; real ARM answers `https://<name>.vault.azure.net/`.
    assert!(
        attr(&created, "vault_uri").starts_with("https://"),
        "{created:?}"
    );
    assert_eq!(
        updated.get("public_network_access_enabled"),
        Some(&Value::Bool(false))
    );
    let live = arm.get(&id, VAULT_API).expect("the vault exists");
    assert_eq!(live["tags"], json!({"env": "test", "owner": "security"}));
    assert_eq!(live["properties"]["publicNetworkAccess"], "Disabled");
    assert_eq!(
        live["properties"]["accessPolicies"][0]["objectId"], "00000000-0000-0000-0000-0000000000aa",
        "the access policy survived the vault's update"
    );
    delete_leaves_nothing(&arm, &provider, "azurerm_key_vault", &id, VAULT_API).await;
}

/// Read back by id, update, read back: for a resource created earlier in the test.
async fn create_read_update_existing(
    provider: &AzureProvider,
    resource_type: &str,
    id: &str,
    prior: &Value,
    changed: &Value,
) -> (String, Value, Value) {
    let found = read(provider, resource_type, &[("x", Some(id), prior)]).await;
    assert_eq!(
        found.get("x").map(|r| &r.attributes),
        Some(prior),
        "{resource_type} reads back as created"
    );
    let updated = update(provider, resource_type, id, prior, changed)
        .await
        .unwrap_or_else(|e| panic!("update {resource_type}: {e}"));
    let found = read(provider, resource_type, &[("x", Some(id), &updated)]).await;
    assert_eq!(found.get("x").map(|r| &r.attributes), Some(&updated));
    (id.to_string(), prior.clone(), updated)
}

#[tokio::test]
async fn a_hand_made_key_vault_imports_as_a_spec_would_say_it() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let id = format!(
        "{}/providers/Microsoft.KeyVault/vaults/handmade-kv",
        rg_id("rg")
    );
    put_by_hand(
        &arm,
        &id,
        VAULT_API,
        json!({
            "location": "eastus",
            "properties": {
                "tenantId": TENANT,
                "sku": {"family": "A", "name": "premium"},
                "accessPolicies": [],
                "softDeleteRetentionInDays": 30,
                "enableRbacAuthorization": false,
            },
        }),
    );
    let imported = import(&provider, "azurerm_key_vault", &id).await;
    assert_eq!(attr(&imported, "name"), "handmade-kv");
    assert_eq!(attr(&imported, "resource_group_name"), "rg");
    assert_eq!(attr(&imported, "sku_name"), "premium");
    assert_eq!(attr(&imported, "tenant_id"), TENANT);
    assert_eq!(
        imported.get("soft_delete_retention_days"),
        Some(&Value::Number(30.0))
    );
    assert_eq!(
        imported.get("rbac_authorization_enabled"),
        Some(&Value::Bool(false))
    );
    assert_eq!(
        imported.get("purge_protection_enabled"),
        Some(&Value::Bool(false))
    );
}

// ---- Log Analytics workspace ----

fn workspace(retention: u32, tags: Json) -> Value {
    config(json!({
        "name": "honeylink-logs",
        "resource_group_name": "rg",
        "sku": "PerGB2018",
        "retention_in_days": retention,
        "tags": tags,
    }))
}

#[tokio::test]
async fn log_analytics_workspace_lifecycle_through_azure_async_operation() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let (id, created, updated) = create_read_update(
        &provider,
        "azurerm_log_analytics_workspace",
        &workspace(30, json!({"env": "test"})),
        &workspace(90, json!({"env": "test", "owner": "sre"})),
    )
    .await;
    assert_eq!(attr(&created, "sku"), "PerGB2018");
    assert_eq!(created.get("retention_in_days"), Some(&Value::Number(30.0)));
    assert_eq!(created.get("daily_quota_gb"), Some(&Value::Number(-1.0)));
    // FIXME(arm-test-server): the example's customerId for every workspace.
    assert!(!attr(&created, "workspace_id").is_empty(), "{created:?}");
    assert_eq!(updated.get("retention_in_days"), Some(&Value::Number(90.0)));
    let live = arm.get(&id, WORKSPACE_API).expect("the workspace exists");
    assert_eq!(live["properties"]["provisioningState"], "Succeeded");
    assert_eq!(live["properties"]["retentionInDays"], 90);
    assert_eq!(live["tags"], json!({"env": "test", "owner": "sre"}));
    let requests = arm.requests();
    assert!(
        requests
            .get("POLL Microsoft.OperationalInsights/workspaces")
            .copied()
            .unwrap_or(0)
            >= 1,
        "the operation URL was polled: {requests:?}"
    );
    delete_leaves_nothing(
        &arm,
        &provider,
        "azurerm_log_analytics_workspace",
        &id,
        WORKSPACE_API,
    )
    .await;
}

#[tokio::test]
async fn a_hand_made_workspace_imports_as_a_spec_would_say_it() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let id = format!(
        "{}/providers/Microsoft.OperationalInsights/workspaces/handmade-logs",
        rg_id("rg")
    );
    put_by_hand(
        &arm,
        &id,
        WORKSPACE_API,
        json!({
            "location": "eastus",
            "properties": {
                "sku": {"name": "PerGB2018"},
                "retentionInDays": 60,
                "workspaceCapping": {"dailyQuotaGb": 5},
            },
        }),
    );
    let imported = import(&provider, "azurerm_log_analytics_workspace", &id).await;
    assert_eq!(attr(&imported, "name"), "handmade-logs");
    assert_eq!(attr(&imported, "sku"), "PerGB2018");
    assert_eq!(
        imported.get("retention_in_days"),
        Some(&Value::Number(60.0))
    );
    assert_eq!(imported.get("daily_quota_gb"), Some(&Value::Number(5.0)));
}

// ---- Redis cache ----

fn redis(capacity: u32, tags: Json) -> Value {
    config(json!({
        "name": "honeylink-cache",
        "resource_group_name": "rg",
        "capacity": capacity,
        "family": "C",
        "sku_name": "Standard",
        "minimum_tls_version": "1.2",
        "non_ssl_port_enabled": false,
        "redis_version": "6",
        "tags": tags,
    }))
}

#[tokio::test]
async fn redis_cache_lifecycle_through_provisioning_state() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let (id, created, updated) = create_read_update(
        &provider,
        "azurerm_redis_cache",
        &redis(1, json!({"env": "test"})),
        &redis(2, json!({"env": "test", "owner": "sre"})),
    )
    .await;
    assert_eq!(attr(&created, "sku_name"), "Standard");
    assert_eq!(attr(&created, "family"), "C");
    assert_eq!(created.get("capacity"), Some(&Value::Number(1.0)));
    assert_eq!(attr(&created, "redis_version"), "6");
    assert_eq!(attr(&created, "minimum_tls_version"), "1.2");
    // FIXME(arm-test-server): the example's `cache1.redis.cache.windows.net` for every cache.
    assert!(!attr(&created, "hostname").is_empty(), "{created:?}");
    assert_eq!(created.get("ssl_port"), Some(&Value::Number(6380.0)));
    assert_eq!(updated.get("capacity"), Some(&Value::Number(2.0)));
    let live = arm.get(&id, REDIS_API).expect("the cache exists");
    assert_eq!(live["properties"]["provisioningState"], "Succeeded");
    assert_eq!(live["properties"]["sku"]["capacity"], 2);
    assert_eq!(live["tags"], json!({"env": "test", "owner": "sre"}));
    let requests = arm.requests();
    assert_eq!(
        requests.get("PUT Microsoft.Cache/redis"),
        Some(&1),
        "an update never PUTs a cache again (ARM would recreate it): {requests:?}"
    );
    assert_eq!(
        requests.get("PATCH Microsoft.Cache/redis"),
        Some(&1),
        "{requests:?}"
    );
    assert!(
        !format!("{created:?}{updated:?}").contains("<primaryKey>"),
        "the access keys ARM shows never reach state"
    );
    delete_leaves_nothing(&arm, &provider, "azurerm_redis_cache", &id, REDIS_API).await;
}

#[tokio::test]
async fn a_hand_made_redis_cache_imports_with_its_major_version() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let id = format!(
        "{}/providers/Microsoft.Cache/redis/handmade-cache",
        rg_id("rg")
    );
    put_by_hand(
        &arm,
        &id,
        REDIS_API,
        json!({
            "location": "eastus",
            "zones": ["1"],
            "properties": {
                "sku": {"name": "Premium", "family": "P", "capacity": 1},
                "redisVersion": "6.0.14",
                "minimumTlsVersion": "1.2",
            },
        }),
    );
    let imported = import(&provider, "azurerm_redis_cache", &id).await;
    assert_eq!(attr(&imported, "name"), "handmade-cache");
    assert_eq!(attr(&imported, "sku_name"), "Premium");
    assert_eq!(attr(&imported, "family"), "P");
    assert_eq!(
        attr(&imported, "redis_version"),
        "6",
        "azurerm keeps the major version"
    );
    assert_eq!(imported.get("zones"), Some(&config(json!(["1"]))));
}

// ---- Schemas ----

#[test]
fn what_forces_a_replacement_is_what_azurerm_replaces_for() {
    let mut catalog = cairn_provider::provider::Catalog::default();
    cairn_azure::register(&mut catalog);
    let replaces = |resource_type: &str, attribute: &str| {
        catalog
            .schemas
            .get(resource_type)
            .and_then(|s| s.attribute(attribute))
            .unwrap_or_else(|| panic!("{resource_type}.{attribute} exists"))
            .force_new
    };
    for (resource_type, attribute, force_new) in [
        ("azurerm_storage_account", "name", true),
        ("azurerm_storage_account", "account_tier", true),
        ("azurerm_storage_account", "account_replication_type", false),
        ("azurerm_storage_account", "is_hns_enabled", true),
        ("azurerm_storage_account", "min_tls_version", false),
        ("azurerm_storage_container", "storage_account_id", true),
        ("azurerm_storage_container", "container_access_type", false),
        ("azurerm_key_vault", "location", true),
        ("azurerm_key_vault", "sku_name", false),
        (
            "azurerm_log_analytics_workspace",
            "retention_in_days",
            false,
        ),
        ("azurerm_redis_cache", "zones", true),
        ("azurerm_redis_cache", "subnet_id", true),
        ("azurerm_redis_cache", "capacity", false),
        ("azurerm_redis_cache", "sku_name", false),
    ] {
        assert_eq!(
            replaces(resource_type, attribute),
            force_new,
            "{resource_type}.{attribute}"
        );
    }
    let default = |resource_type: &str, attribute: &str| {
        catalog
            .schemas
            .get(resource_type)
            .and_then(|s| s.attribute(attribute))
            .and_then(|a| a.default.clone())
    };
    assert_eq!(
        default("azurerm_storage_account", "account_kind"),
        Some(Value::string("StorageV2"))
    );
    assert_eq!(
        default("azurerm_log_analytics_workspace", "sku"),
        Some(Value::string("PerGB2018"))
    );
    assert_eq!(
        default("azurerm_redis_cache", "minimum_tls_version"),
        Some(Value::string("1.2"))
    );
}
