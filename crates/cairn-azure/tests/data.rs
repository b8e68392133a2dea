//! The data-tier and Kubernetes types against the local ARM server, one story each: create
//! through the type's default long-running-operation shape, read back by id to the same
//! attributes (an empty re-plan), an update seen on the server, delete, and import of a resource
//! made by hand.

mod common;

use cairn_provider::value::Value;
use common::*;
use serde_json::json;

const AKS: &str = "Microsoft.ContainerService/managedClusters";
const AKS_API: &str = "2025-05-01";
const PG: &str = "Microsoft.DBforPostgreSQL/flexibleServers";
const PG_API: &str = "2024-08-01";

/// What makes a re-plan empty: every attribute the spec sets reads back as written.
fn assert_as_written(spec: &Value, attrs: &Value) {
    for (name, wanted) in spec.as_map().expect("a spec is a mapping") {
        assert_eq!(
            attrs.get(name).map(Value::expose),
            Some(wanted.expose()),
            "`{name}` reads back as written; attributes: {attrs:?}"
        );
    }
}

/// Reads one instance by id and returns its attributes.
async fn read_one(
    provider: &cairn_azure::AzureProvider,
    resource_type: &str,
    id: &str,
    prior: &Value,
) -> Value {
    let found = read(provider, resource_type, &[("x.y", Some(id), prior)]).await;
    found
        .get("x.y")
        .unwrap_or_else(|| panic!("{id} is found"))
        .attributes
        .clone()
}

async fn network(provider: &cairn_azure::AzureProvider) -> String {
    create(
        provider,
        "azurerm_virtual_network.v",
        "azurerm_virtual_network",
        &config(
            json!({"name": "net", "resource_group_name": "rg", "address_space": ["10.0.0.0/8"]}),
        ),
    )
    .await
    .expect("network");
    create(
        provider,
        "azurerm_subnet.aks",
        "azurerm_subnet",
        &config(json!({"name": "aks", "resource_group_name": "rg", "virtual_network_name": "net", "address_prefixes": ["10.1.0.0/16"]})),
    )
    .await
    .expect("subnet")
    .id
}

fn cluster_spec(subnet: &str, tags: serde_json::Value, max_count: u32) -> Value {
    config(json!({
        "name": "flask",
        "resource_group_name": "rg",
        "dns_prefix": "flask",
        "kubernetes_version": "1.31",
        "sku_tier": "Standard",
        "default_node_pool": {
            "name": "system",
            "vm_size": "Standard_D2s_v5",
            "auto_scaling_enabled": true,
            "min_count": 1,
            "max_count": max_count,
            "vnet_subnet_id": subnet,
            "zones": ["1", "2", "3"],
        },
        "identity": {"type": "SystemAssigned"},
        "network_profile": {
            "network_plugin": "azure",
            "network_policy": "azure",
            "service_cidr": "172.16.0.0/16",
            "dns_service_ip": "172.16.0.10",
        },
        "tags": tags,
    }))
}

#[tokio::test]
async fn a_kubernetes_cluster_is_created_read_updated_deleted_and_imported() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let subnet = network(&provider).await;
    arm.forget_requests();

    let spec = cluster_spec(&subnet, json!({"app": "flask"}), 3);
    let created = create(
        &provider,
        "azurerm_kubernetes_cluster.k",
        "azurerm_kubernetes_cluster",
        &spec,
    )
    .await
    .expect("create");
    let live = arm.get(&created.id, AKS_API).expect("the cluster exists");
    assert_eq!(live["properties"]["provisioningState"], "Succeeded");
    assert_eq!(live["sku"], json!({"name": "Base", "tier": "Standard"}));
    assert_eq!(live["identity"]["type"], "SystemAssigned");
    let pool = &live["properties"]["agentPoolProfiles"][0];
    assert_eq!(pool["mode"], "System");
    assert_eq!(pool["enableAutoScaling"], true);
    assert_eq!(pool["count"], 1, "an autoscaled pool starts at min_count");
    assert_eq!(pool["vnetSubnetID"], json!(subnet));
    let requests = arm.requests();
    assert!(
        requests.get(&format!("GET {AKS}")).copied().unwrap_or(0) >= 2,
        "the create waited on provisioningState (existence check, then polls): {requests:?}"
    );
    assert_as_written(&spec, &created.attributes);
    assert_eq!(attr(&created.attributes, "location"), "eastus");
    assert!(!attr(&created.attributes, "fqdn").is_empty());
    assert!(!attr(&created.attributes, "node_resource_group").is_empty());

    let again = read_one(
        &provider,
        "azurerm_kubernetes_cluster",
        &created.id,
        &created.attributes,
    )
    .await;
    assert_eq!(again, created.attributes, "a re-plan is empty");

    // ARM lists every pool in the cluster, also those made as node pool resources.
    let mut shown = arm.get(&created.id, AKS_API).expect("the cluster exists");
    let extra = json!({"name": "work", "count": 2, "vmSize": "Standard_D4s_v5", "mode": "User"});
    shown["properties"]["agentPoolProfiles"]
        .as_array_mut()
        .expect("profiles")
        .insert(0, extra.clone());
    let status = arm.put(&created.id, AKS_API, &shown);
    assert!((200..300).contains(&status), "{status}");
    let again = read_one(
        &provider,
        "azurerm_kubernetes_cluster",
        &created.id,
        &created.attributes,
    )
    .await;
    assert_eq!(
        again, created.attributes,
        "the default pool is told apart from the others"
    );

    let changed = cluster_spec(&subnet, json!({"app": "flask", "env": "prod"}), 5);
    let after = update(
        &provider,
        "azurerm_kubernetes_cluster",
        &created.id,
        &created.attributes,
        &changed,
    )
    .await
    .expect("update");
    assert_as_written(&changed, &after);
    let live = arm.get(&created.id, AKS_API).expect("the cluster exists");
    assert_eq!(live["tags"], json!({"app": "flask", "env": "prod"}));
    let profiles = live["properties"]["agentPoolProfiles"]
        .as_array()
        .expect("profiles");
    let system = profiles
        .iter()
        .find(|p| p["name"] == "system")
        .expect("the default pool");
    assert_eq!(system["maxCount"], 5);
    assert!(
        profiles.iter().any(|p| p["name"] == "work"),
        "the update kept the pool another resource manages: {profiles:?}"
    );

    delete(&provider, "azurerm_kubernetes_cluster", &created.id)
        .await
        .expect("delete");
    assert!(arm.get(&created.id, AKS_API).is_none());

    let id = format!("/subscriptions/{SUB}/resourceGroups/rg/providers/{AKS}/handmade");
    let status = arm.put(
        &id,
        AKS_API,
        &json!({
            "location": "eastus",
            "tags": {"owner": "ops"},
            "sku": {"name": "Base", "tier": "Free"},
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "dnsPrefix": "handmade",
                "agentPoolProfiles": [{
                    "name": "nodepool1", "count": 2, "vmSize": "Standard_DS2_v2",
                    "mode": "System", "osType": "Linux", "type": "VirtualMachineScaleSets",
                }],
                "networkProfile": {"networkPlugin": "kubenet", "loadBalancerSku": "standard"},
            },
        }),
    );
    assert!(status == 200 || status == 201, "{status}");
    let imported = read_one(&provider, "azurerm_kubernetes_cluster", &id, &Value::Null).await;
    assert_eq!(attr(&imported, "name"), "handmade");
    assert_eq!(attr(&imported, "resource_group_name"), "rg");
    assert_eq!(attr(&imported, "dns_prefix"), "handmade");
    assert_eq!(attr(&imported, "sku_tier"), "Free");
    assert_eq!(
        imported.get("identity"),
        Some(&config(json!({"type": "SystemAssigned"})))
    );
    let pool = imported.get("default_node_pool").expect("a default pool");
    assert_eq!(attr(pool, "name"), "nodepool1");
    assert_eq!(attr(pool, "vm_size"), "Standard_DS2_v2");
    assert_eq!(pool.get("node_count"), Some(&Value::Number(2.0)));
    assert_eq!(pool.get("auto_scaling_enabled"), Some(&Value::Bool(false)));
    let net = imported.get("network_profile").expect("a network profile");
    assert_eq!(attr(net, "network_plugin"), "kubenet");
    assert_eq!(attr(net, "load_balancer_sku"), "standard");
    assert_eq!(imported.get("tags"), Some(&config(json!({"owner": "ops"}))));
}

#[tokio::test]
async fn a_node_pool_is_created_read_scaled_deleted_and_imported() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let subnet = network(&provider).await;
    let cluster = create(
        &provider,
        "azurerm_kubernetes_cluster.k",
        "azurerm_kubernetes_cluster",
        &cluster_spec(&subnet, json!({}), 3),
    )
    .await
    .expect("cluster");
    arm.forget_requests();

    let spec = |count: u32, tags: serde_json::Value| {
        config(json!({
            "name": "work",
            "kubernetes_cluster_id": cluster.id,
            "vm_size": "Standard_D4s_v5",
            "node_count": count,
            "zones": ["1", "2"],
            "vnet_subnet_id": subnet,
            "tags": tags,
        }))
    };
    let wanted = spec(2, json!({"pool": "work"}));
    let created = create(
        &provider,
        "azurerm_kubernetes_cluster_node_pool.p",
        "azurerm_kubernetes_cluster_node_pool",
        &wanted,
    )
    .await
    .expect("create");
    assert_eq!(created.id, format!("{}/agentPools/work", cluster.id));
    let requests = arm.requests();
    assert!(
        requests
            .get(&format!("POLL {AKS}/agentPools"))
            .copied()
            .unwrap_or(0)
            >= 1,
        "the create followed the Location header: {requests:?}"
    );
    let live = arm.get(&created.id, AKS_API).expect("the pool exists");
    assert_eq!(live["properties"]["provisioningState"], "Succeeded");
    assert_eq!(live["properties"]["mode"], "User");
    assert_eq!(live["properties"]["availabilityZones"], json!(["1", "2"]));
    assert_as_written(&wanted, &created.attributes);
    assert_eq!(attr(&created.attributes, "mode"), "User");
    assert_eq!(
        created.attributes.get("auto_scaling_enabled"),
        Some(&Value::Bool(false))
    );

    let again = read_one(
        &provider,
        "azurerm_kubernetes_cluster_node_pool",
        &created.id,
        &created.attributes,
    )
    .await;
    assert_eq!(again, created.attributes, "a re-plan is empty");

    let scaled = spec(4, json!({"pool": "work", "team": "web"}));
    let after = update(
        &provider,
        "azurerm_kubernetes_cluster_node_pool",
        &created.id,
        &created.attributes,
        &scaled,
    )
    .await
    .expect("update");
    assert_as_written(&scaled, &after);
    let live = arm.get(&created.id, AKS_API).expect("the pool exists");
    assert_eq!(live["properties"]["count"], 4);
    assert_eq!(
        live["properties"]["tags"],
        json!({"pool": "work", "team": "web"})
    );

    delete(
        &provider,
        "azurerm_kubernetes_cluster_node_pool",
        &created.id,
    )
    .await
    .expect("delete");
    assert!(arm.get(&created.id, AKS_API).is_none());
    assert!(arm.get(&cluster.id, AKS_API).is_some(), "the cluster stays");

    let id = format!("{}/agentPools/spot", cluster.id);
    let status = arm.put(
        &id,
        AKS_API,
        &json!({"properties": {
            "count": 1, "vmSize": "Standard_D2s_v5", "mode": "User",
            "enableAutoScaling": true, "minCount": 1, "maxCount": 4,
        }}),
    );
    assert!((200..300).contains(&status), "{status}");
    let imported = read_one(
        &provider,
        "azurerm_kubernetes_cluster_node_pool",
        &id,
        &Value::Null,
    )
    .await;
    assert_as_written(
        &config(json!({
            "name": "spot",
            "kubernetes_cluster_id": cluster.id,
            "vm_size": "Standard_D2s_v5",
            "auto_scaling_enabled": true,
            "min_count": 1,
            "max_count": 4,
            "mode": "User",
        })),
        &imported,
    );
}

fn server_spec(tags: serde_json::Value, retention: u32) -> Value {
    config(json!({
        "name": "honeylink-meta",
        "resource_group_name": "rg",
        "version": "16",
        "sku_name": "GP_Standard_D2s_v3",
        "storage_mb": 65536,
        "backup_retention_days": retention,
        "geo_redundant_backup_enabled": true,
        "zone": "1",
        "high_availability": {"mode": "ZoneRedundant", "standby_availability_zone": "2"},
        "administrator_login": "honeylink",
        "administrator_password": "N0t-in-any-message!",
        "tags": tags,
    }))
}

#[tokio::test]
async fn a_postgresql_server_is_created_read_updated_deleted_and_imported() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    arm.forget_requests();

    let spec = server_spec(json!({"system": "honeylink"}), 7);
    let created = create(
        &provider,
        "azurerm_postgresql_flexible_server.db",
        "azurerm_postgresql_flexible_server",
        &spec,
    )
    .await
    .expect("create");
    let requests = arm.requests();
    assert!(
        requests.get(&format!("POLL {PG}")).copied().unwrap_or(0) >= 1,
        "the create followed Azure-AsyncOperation: {requests:?}"
    );
    let live = arm.get(&created.id, PG_API).expect("the server exists");
    assert_eq!(
        live["sku"],
        json!({"name": "Standard_D2s_v3", "tier": "GeneralPurpose"})
    );
    assert_eq!(live["properties"]["storage"]["storageSizeGB"], 64);
    assert_eq!(
        live["properties"]["backup"]["geoRedundantBackup"],
        "Enabled"
    );
    assert_eq!(
        live["properties"]["network"]["publicNetworkAccess"],
        "Enabled"
    );
    assert_as_written(&spec, &created.attributes);
    assert!(!attr(&created.attributes, "fqdn").is_empty());
    assert_eq!(
        created.attributes.get("public_network_access_enabled"),
        Some(&Value::Bool(true)),
        "public without a delegated subnet"
    );

    let again = read_one(
        &provider,
        "azurerm_postgresql_flexible_server",
        &created.id,
        &created.attributes,
    )
    .await;
    assert_eq!(again, created.attributes, "a re-plan is empty");

    let changed = server_spec(json!({"system": "honeylink", "env": "prod"}), 14);
    let after = update(
        &provider,
        "azurerm_postgresql_flexible_server",
        &created.id,
        &created.attributes,
        &changed,
    )
    .await
    .expect("update");
    assert_as_written(&changed, &after);
    let live = arm.get(&created.id, PG_API).expect("the server exists");
    assert_eq!(live["tags"], json!({"system": "honeylink", "env": "prod"}));
    assert_eq!(live["properties"]["backup"]["backupRetentionDays"], 14);

    delete(&provider, "azurerm_postgresql_flexible_server", &created.id)
        .await
        .expect("delete");
    assert!(arm.get(&created.id, PG_API).is_none());

    let id = format!("/subscriptions/{SUB}/resourceGroups/rg/providers/{PG}/handmade");
    let status = arm.put(
        &id,
        PG_API,
        &json!({
            "location": "eastus",
            "tags": {"owner": "ops"},
            "sku": {"name": "Standard_B1ms", "tier": "Burstable"},
            "properties": {
                "administratorLogin": "ops",
                "administratorLoginPassword": "secret-by-hand",
                "version": "15",
                "storage": {"storageSizeGB": 32},
                "backup": {"backupRetentionDays": 7, "geoRedundantBackup": "Disabled"},
                "network": {"publicNetworkAccess": "Enabled"},
                "highAvailability": {"mode": "Disabled"},
            },
        }),
    );
    assert!((200..300).contains(&status), "{status}");
    let imported = read_one(
        &provider,
        "azurerm_postgresql_flexible_server",
        &id,
        &Value::Null,
    )
    .await;
    assert_as_written(
        &config(json!({
            "name": "handmade",
            "resource_group_name": "rg",
            "location": "eastus",
            "version": "15",
            "sku_name": "B_Standard_B1ms",
            "storage_mb": 32768,
            "backup_retention_days": 7,
            "geo_redundant_backup_enabled": false,
            "public_network_access_enabled": true,
            "administrator_login": "ops",
            "tags": {"owner": "ops"},
        })),
        &imported,
    );
    assert_eq!(imported.get("high_availability"), Some(&Value::Null));
    assert_eq!(
        imported.get("administrator_password"),
        Some(&Value::Null),
        "ARM never shows the password"
    );
}

#[tokio::test]
async fn a_bad_sku_name_is_refused_before_any_request_and_the_password_is_not_shown() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    arm.forget_requests();
    let mut spec = server_spec(json!({}), 7);
    if let Value::Map(m) = &mut spec {
        m.insert("sku_name".into(), Value::string("Standard_D2s_v3"));
    }
    let err = create(
        &provider,
        "azurerm_postgresql_flexible_server.db",
        "azurerm_postgresql_flexible_server",
        &spec,
    )
    .await
    .expect_err("no tier prefix");
    assert!(
        err.message.contains("GP_Standard_D2s_v3"),
        "{}",
        err.message
    );
    assert!(
        !err.message.contains("N0t-in-any-message!"),
        "{}",
        err.message
    );
    assert_eq!(arm.requests().get(&format!("PUT {PG}")), None);
}

async fn server(provider: &cairn_azure::AzureProvider) -> String {
    create(
        provider,
        "azurerm_postgresql_flexible_server.db",
        "azurerm_postgresql_flexible_server",
        &server_spec(json!({}), 7),
    )
    .await
    .expect("server")
    .id
}

#[tokio::test]
async fn a_postgresql_database_is_created_read_deleted_and_imported() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let server_id = server(&provider).await;
    arm.forget_requests();

    let spec = config(json!({"name": "honeylink", "server_id": server_id}));
    let created = create(
        &provider,
        "azurerm_postgresql_flexible_server_database.d",
        "azurerm_postgresql_flexible_server_database",
        &spec,
    )
    .await
    .expect("create");
    assert_eq!(created.id, format!("{server_id}/databases/honeylink"));
    assert!(
        arm.requests()
            .get(&format!("POLL {PG}/databases"))
            .copied()
            .unwrap_or(0)
            >= 1,
        "the create followed Azure-AsyncOperation"
    );
    let live = arm.get(&created.id, PG_API).expect("the database exists");
    assert_eq!(
        live["properties"],
        json!({"charset": "UTF8", "collation": "en_US.utf8", "provisioningState": "Succeeded"})
    );
    assert_as_written(&spec, &created.attributes);
    assert_eq!(attr(&created.attributes, "charset"), "UTF8");
    assert_eq!(attr(&created.attributes, "collation"), "en_US.utf8");

    let again = read_one(
        &provider,
        "azurerm_postgresql_flexible_server_database",
        &created.id,
        &created.attributes,
    )
    .await;
    assert_eq!(again, created.attributes, "a re-plan is empty");

    // Every attribute of a database forces a new one: there is nothing to update in place.
    let mut catalog = cairn_provider::provider::Catalog::default();
    cairn_azure::register(&mut catalog);
    let schema = catalog
        .schemas
        .get("azurerm_postgresql_flexible_server_database")
        .expect("registered");
    for name in ["name", "server_id", "charset", "collation"] {
        assert!(
            schema.attribute(name).is_some_and(|a| a.force_new),
            "{name} forces a new database"
        );
    }

    delete(
        &provider,
        "azurerm_postgresql_flexible_server_database",
        &created.id,
    )
    .await
    .expect("delete");
    assert!(arm.get(&created.id, PG_API).is_none());

    let id = format!("{server_id}/databases/reports");
    let status = arm.put(
        &id,
        PG_API,
        &json!({"properties": {"charset": "UTF8", "collation": "C"}}),
    );
    assert!((200..300).contains(&status), "{status}");
    let imported = read_one(
        &provider,
        "azurerm_postgresql_flexible_server_database",
        &id,
        &Value::Null,
    )
    .await;
    assert_as_written(
        &config(
            json!({"name": "reports", "server_id": server_id, "charset": "UTF8", "collation": "C"}),
        ),
        &imported,
    );
}

#[tokio::test]
async fn a_postgresql_firewall_rule_is_created_read_updated_deleted_and_imported() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let server_id = server(&provider).await;

    let rule = |end: &str| {
        config(json!({
            "name": "office",
            "server_id": server_id,
            "start_ip_address": "203.0.113.0",
            "end_ip_address": end,
        }))
    };
    let wanted = rule("203.0.113.15");
    let created = create(
        &provider,
        "azurerm_postgresql_flexible_server_firewall_rule.r",
        "azurerm_postgresql_flexible_server_firewall_rule",
        &wanted,
    )
    .await
    .expect("create");
    assert_eq!(created.id, format!("{server_id}/firewallRules/office"));
    let live = arm.get(&created.id, PG_API).expect("the rule exists");
    assert_eq!(live["properties"]["startIpAddress"], "203.0.113.0");
    assert_eq!(live["properties"]["endIpAddress"], "203.0.113.15");
    assert_as_written(&wanted, &created.attributes);

    let again = read_one(
        &provider,
        "azurerm_postgresql_flexible_server_firewall_rule",
        &created.id,
        &created.attributes,
    )
    .await;
    assert_eq!(again, created.attributes, "a re-plan is empty");

    let wider = rule("203.0.113.255");
    let after = update(
        &provider,
        "azurerm_postgresql_flexible_server_firewall_rule",
        &created.id,
        &created.attributes,
        &wider,
    )
    .await
    .expect("update");
    assert_as_written(&wider, &after);
    let live = arm.get(&created.id, PG_API).expect("the rule exists");
    assert_eq!(live["properties"]["endIpAddress"], "203.0.113.255");

    delete(
        &provider,
        "azurerm_postgresql_flexible_server_firewall_rule",
        &created.id,
    )
    .await
    .expect("delete");
    assert!(arm.get(&created.id, PG_API).is_none());

    let id = format!("{server_id}/firewallRules/AllowAllAzureServices");
    let status = arm.put(
        &id,
        PG_API,
        &json!({"properties": {"startIpAddress": "0.0.0.0", "endIpAddress": "0.0.0.0"}}),
    );
    assert!((200..300).contains(&status), "{status}");
    let imported = read_one(
        &provider,
        "azurerm_postgresql_flexible_server_firewall_rule",
        &id,
        &Value::Null,
    )
    .await;
    assert_as_written(
        &config(json!({
            "name": "AllowAllAzureServices",
            "server_id": server_id,
            "start_ip_address": "0.0.0.0",
            "end_ip_address": "0.0.0.0",
        })),
        &imported,
    );
}
