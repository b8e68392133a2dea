//! Long-running operations as a client sees them: each shape (provisioning state polled by GET,
//! `Azure-AsyncOperation`, `Location`, synchronous 200/204 deletes), header names in the
//! examples' casing, and operations that end `Failed` with ARM's error body while the resource is
//! left `Failed`.

mod common;

use common::*;
use serde_json::{Value, json};

const VNET: &str = "Microsoft.Network/virtualNetworks";
const NAT: &str = "Microsoft.Network/natGateways";
const PG: &str = "Microsoft.DBforPostgreSQL/flexibleServers";
const KV: &str = "Microsoft.KeyVault/vaults";

fn vnet_body() -> Value {
    json!({"location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}})
}

fn state(v: &Value) -> &str {
    v["properties"]["provisioningState"].as_str().unwrap_or("")
}

#[test]
fn provisioning_state_put_is_creating_until_polled_then_succeeded_and_updating_on_replace() {
    let arm = Arm::start();
    arm.config(json!({"lro": {VNET: "provisioning-state"}, "polls": 2}));
    let rg = arm.resource_group("rg");
    let path = format!("{rg}/providers/{VNET}/vnet1");

    let r = arm.put(VNET, &path, &vnet_body());
    assert_eq!(r.status, 201);
    assert_eq!(state(&r.json()), "Creating");
    assert!(r.header("Azure-AsyncOperation").is_none() && r.header("Location").is_none());
    assert_eq!(state(&arm.get(VNET, &path).json()), "Creating");
    assert_eq!(state(&arm.get(VNET, &path).json()), "Creating");
    assert_eq!(state(&arm.get(VNET, &path).json()), "Succeeded");

    let r = arm.put(VNET, &path, &vnet_body());
    assert_eq!(r.status, 200);
    assert_eq!(state(&r.json()), "Updating");
}

#[test]
fn async_operation_put_is_polled_through_its_operation_url() {
    let arm = Arm::start();
    arm.config(json!({"lro": {VNET: "async-operation"}, "polls": 2, "retry_after": 1}));
    let rg = arm.resource_group("rg");
    let path = format!("{rg}/providers/{VNET}/vnet1");

    let r = arm.put(VNET, &path, &vnet_body());
    assert_eq!(r.status, 201);
    assert_eq!(
        r.header_name("Azure-AsyncOperation"),
        Some("Azure-AsyncOperation")
    );
    assert_eq!(r.header("Retry-After"), Some("1"));
    let op = r.header("Azure-AsyncOperation").unwrap().to_string();
    assert_eq!(state(&r.json()), "Creating");

    for _ in 0..2 {
        let p = arm.call_url("GET", &op, None);
        assert_eq!(p.status, 200);
        assert_eq!(p.json()["status"], "InProgress");
        assert_eq!(state(&arm.get(VNET, &path).json()), "Creating");
    }
    let p = arm.call_url("GET", &op, None);
    assert_eq!(p.json()["status"], "Succeeded");
    assert_eq!(state(&arm.get(VNET, &path).json()), "Succeeded");
    // A finished operation keeps its answer.
    assert_eq!(arm.call_url("GET", &op, None).json()["status"], "Succeeded");
    assert_eq!(arm.counts()[format!("POLL {VNET}")], 4);
}

#[test]
fn location_put_answers_202_until_done_then_the_resource() {
    let arm = Arm::start();
    arm.config(json!({"lro": {NAT: "location"}, "polls": 1}));
    let rg = arm.resource_group("rg");
    let path = format!("{rg}/providers/{NAT}/nat1");
    let body = example_body("Microsoft.Network/2025-03-01/NatGatewayCreateOrUpdate.json");

    let r = arm.put(NAT, &path, &body);
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
    // NAT gateway examples spell the header in lower case.
    assert_eq!(r.header_name("location"), Some("location"));
    assert_eq!(r.header("Retry-After"), Some("0"));
    let url = r.header("location").unwrap().to_string();

    let p = arm.call_url("GET", &url, None);
    assert_eq!(p.status, 202);
    assert!(p.header("location").is_some());
    let p = arm.call_url("GET", &url, None);
    assert_eq!(p.status, 200);
    assert_eq!(p.json()["id"], json!(path));
    assert_eq!(state(&p.json()), "Succeeded");
}

#[test]
fn deletes_take_every_shape_the_examples_show() {
    let arm = Arm::start();
    let rg = arm.resource_group("rg");
    let vnet = |n: &str| format!("{rg}/providers/{VNET}/{n}");
    for n in ["a", "b", "c", "d"] {
        arm.config(json!({"lro": {VNET: "sync"}}));
        assert_eq!(arm.put(VNET, &vnet(n), &vnet_body()).status, 201);
    }

    arm.config(json!({"lro": {VNET: {"delete": "sync"}}}));
    assert_eq!(arm.delete(VNET, &vnet("a")).status, 200);
    arm.config(json!({"lro": {VNET: {"delete": "no-content"}}}));
    let r = arm.delete(VNET, &vnet("b"));
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());

    arm.config(json!({"lro": {VNET: {"delete": "location"}}, "polls": 1}));
    let r = arm.delete(VNET, &vnet("c"));
    assert_eq!(r.status, 202);
    assert_eq!(r.header_name("Location"), Some("Location"));
    assert_eq!(state(&arm.get(VNET, &vnet("c")).json()), "Deleting");
    let url = r.header("Location").unwrap().to_string();
    assert_eq!(arm.call_url("GET", &url, None).status, 202);
    assert_eq!(arm.call_url("GET", &url, None).status, 204);
    assert_eq!(arm.get(VNET, &vnet("c")).status, 404);

    arm.config(json!({"lro": {VNET: {"delete": "async-operation"}}, "polls": 0}));
    let r = arm.delete(VNET, &vnet("d"));
    assert_eq!(r.status, 202);
    assert!(r.header("Location").is_some());
    let op = r.header("Azure-AsyncOperation").unwrap().to_string();
    assert_eq!(arm.call_url("GET", &op, None).json()["status"], "Succeeded");
    assert_eq!(arm.get(VNET, &vnet("d")).status, 404);

    // Deleting what is not there is a success without content, as ARM's deletes are idempotent.
    assert_eq!(arm.delete(VNET, &vnet("a")).status, 204);
}

#[test]
fn postgres_update_answers_202_with_both_headers_by_default() {
    let arm = Arm::start();
    arm.config(json!({"lro": {PG: {"put": "sync"}}}));
    let rg = arm.resource_group("rg");
    let path = format!("{rg}/providers/{PG}/pg1");
    let body = example_body("Microsoft.DBforPostgreSQL/2024-08-01/ServerCreate.json");
    assert_eq!(arm.put(PG, &path, &body).status, 201);

    let patch = example_body("Microsoft.DBforPostgreSQL/2024-08-01/ServerUpdate.json");
    let r = arm.patch(PG, &path, &patch);
    assert_eq!(r.status, 202);
    assert!(r.header("Azure-AsyncOperation").is_some());
    assert!(r.header("Location").is_some());
    assert_eq!(state(&arm.get(PG, &path).json()), "Updating");
}

#[test]
fn a_failed_async_operation_carries_arms_error_and_leaves_the_resource_failed() {
    let arm = Arm::start();
    arm.config(json!({
        "lro": {VNET: "async-operation"},
        "polls": 1,
        "fail": {VNET: {"code": "InUseSubnetCannotBeDeleted", "message": "Subnet s1 is in use"}},
    }));
    let rg = arm.resource_group("rg");
    let path = format!("{rg}/providers/{VNET}/vnet1");
    let r = arm.put(VNET, &path, &vnet_body());
    let op = r.header("Azure-AsyncOperation").unwrap().to_string();
    assert_eq!(
        arm.call_url("GET", &op, None).json()["status"],
        "InProgress"
    );
    let done = arm.call_url("GET", &op, None).json();
    assert_eq!(
        done,
        json!({
            "name": done["name"],
            "status": "Failed",
            "error": {"code": "InUseSubnetCannotBeDeleted", "message": "Subnet s1 is in use"},
        })
    );
    assert_eq!(state(&arm.get(VNET, &path).json()), "Failed");
}

#[test]
fn a_failed_location_operation_answers_the_error_with_its_status() {
    let arm = Arm::start();
    arm.config(json!({
        "lro": {NAT: "location"},
        "polls": 0,
        "fail": {NAT: {"code": "QuotaExceeded", "message": "no more", "status": 409, "on": ["delete"]}},
    }));
    let rg = arm.resource_group("rg");
    let path = format!("{rg}/providers/{NAT}/nat1");
    let body = example_body("Microsoft.Network/2025-03-01/NatGatewayCreateOrUpdate.json");
    // Only deletes fail: the create goes through.
    let r = arm.put(NAT, &path, &body);
    let url = r.header("location").unwrap().to_string();
    assert_eq!(arm.call_url("GET", &url, None).status, 200);

    let r = arm.delete(NAT, &path);
    let url = r.header("location").unwrap().to_string();
    let p = arm.call_url("GET", &url, None);
    assert_eq!(p.status, 409);
    assert_eq!(
        p.json(),
        json!({"error": {"code": "QuotaExceeded", "message": "no more"}})
    );
    let left = arm.get(NAT, &path);
    assert_eq!(left.status, 200, "a failed delete leaves the resource");
    assert_eq!(state(&left.json()), "Failed");
}

#[test]
fn a_failed_synchronous_put_answers_the_error_and_stores_the_resource_failed() {
    let arm = Arm::start();
    arm.config(json!({"fail": {KV: {"code": "VaultAlreadyExists", "message": "taken"}}}));
    let rg = arm.resource_group("rg");
    let path = format!("{rg}/providers/{KV}/kv1");
    let body = example_body("Microsoft.KeyVault/2024-11-01/createVault.json");
    let r = arm.put(KV, &path, &body);
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "VaultAlreadyExists");
    assert_eq!(state(&arm.get(KV, &path).json()), "Failed");
}

#[test]
fn default_shapes_follow_the_examples_casing() {
    let arm = Arm::start();
    let rg = arm.resource_group("rg");
    // Agent pools: DELETE 202 with a lower-case `location` (AgentPoolsDelete.json).
    let aks = "Microsoft.ContainerService/managedClusters";
    let pool = "Microsoft.ContainerService/managedClusters/agentPools";
    arm.config(json!({"lro": {aks: "sync", pool: {"put": "sync"}}}));
    let cluster = format!("{rg}/providers/{aks}/c1");
    let body =
        example_body("Microsoft.ContainerService/2025-05-01/ManagedClustersCreate_Update.json");
    assert_eq!(arm.put(aks, &cluster, &body).status, 201);
    let pool_path = format!("{cluster}/agentPools/p1");
    let body = example_body("Microsoft.ContainerService/2025-05-01/AgentPoolsCreate_Update.json");
    assert_eq!(arm.put(pool, &pool_path, &body).status, 201);
    let r = arm.delete(pool, &pool_path);
    assert_eq!(r.status, 202);
    assert_eq!(r.header_name("location"), Some("location"));

    // Network security groups: DELETE 202 with `Azure-AsyncOperation` and `Location`.
    let nsg = "Microsoft.Network/networkSecurityGroups";
    arm.config(json!({"lro": {nsg: {"put": "sync"}}}));
    let path = format!("{rg}/providers/{nsg}/nsg1");
    assert_eq!(
        arm.put(nsg, &path, &json!({"location": "eastus"})).status,
        201
    );
    let r = arm.delete(nsg, &path);
    assert_eq!(r.status, 202);
    assert_eq!(
        r.header_name("Azure-AsyncOperation"),
        Some("Azure-AsyncOperation")
    );
    assert_eq!(r.header_name("Location"), Some("Location"));
}

#[test]
fn a_bare_202_is_followed_by_reading_the_resource() {
    let arm = Arm::start();
    let storage = "Microsoft.Storage/storageAccounts";
    arm.config(json!({"lro": {storage: {"delete": "accepted"}}, "polls": 1}));
    let rg = arm.resource_group("rg");
    let path = format!("{rg}/providers/{storage}/sto1");
    let body = example_body("Microsoft.Storage/2024-01-01/StorageAccountCreate.json");

    // The storage default, as StorageAccountCreate.json shows: 202, no body, no header.
    let r = arm.put(storage, &path, &body);
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
    assert!(r.header("Location").is_none() && r.header("Azure-AsyncOperation").is_none());
    assert_eq!(state(&arm.get(storage, &path).json()), "Creating");
    assert_eq!(state(&arm.get(storage, &path).json()), "Succeeded");

    let r = arm.delete(storage, &path);
    assert_eq!(r.status, 202);
    assert!(r.header("Location").is_none());
    assert_eq!(state(&arm.get(storage, &path).json()), "Deleting");
    assert_eq!(arm.get(storage, &path).status, 404);
}

#[test]
fn a_204_delete_carries_the_headers_its_example_shows_and_they_say_done() {
    let arm = Arm::start();
    let nsg = "Microsoft.Network/networkSecurityGroups";
    arm.config(json!({"lro": {nsg: {"put": "sync", "delete": "no-content"}}}));
    let rg = arm.resource_group("rg");
    let path = format!("{rg}/providers/{nsg}/nsg1");
    assert_eq!(
        arm.put(nsg, &path, &json!({"location": "eastus"})).status,
        201
    );
    let r = arm.delete(nsg, &path);
    assert_eq!(r.status, 204);
    let op = r.header("Azure-AsyncOperation").unwrap().to_string();
    let location = r.header("Location").unwrap().to_string();
    assert_eq!(arm.call_url("GET", &op, None).json()["status"], "Succeeded");
    assert_eq!(arm.call_url("GET", &location, None).status, 204);
    assert_eq!(arm.get(nsg, &path).status, 404);
}
