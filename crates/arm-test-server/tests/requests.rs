//! What the server refuses, as ARM would: misspelled properties at any depth (naming the path),
//! wrong or missing api-version, missing bearer token, unknown resource groups, resources and
//! parents. And what a misspelling check must still let through: swagger-only properties and
//! free-form maps such as tags.

mod common;

use common::*;
use serde_json::json;

const VNET: &str = "Microsoft.Network/virtualNetworks";
const SUBNET: &str = "Microsoft.Network/virtualNetworks/subnets";
const AKS: &str = "Microsoft.ContainerService/managedClusters";
const KV: &str = "Microsoft.KeyVault/vaults";
const RG: &str = "Microsoft.Resources/resourceGroups";

fn refused_path(r: &Resp) -> String {
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.error_code(), "InvalidRequestContent");
    let message = r.json()["error"]["message"].as_str().unwrap().to_string();
    let start = message.find("Path '").expect("message names a path") + 6;
    message[start..].trim_end_matches("'.").to_string()
}

#[test]
fn a_misspelled_property_is_refused_naming_its_path() {
    let arm = Arm::start();
    let rg = arm.resource_group("rg");
    let vnet = format!("{rg}/providers/{VNET}/v1");

    let r = arm.put(
        VNET,
        &vnet,
        &json!({"location": "eastus", "properties": {"addressSpace": {"addresPrefixes": ["10.0.0.0/16"]}}}),
    );
    assert_eq!(refused_path(&r), "properties.addressSpace.addresPrefixes");

    // Inside an array item.
    let r = arm.put(
        VNET,
        &vnet,
        &json!({"location": "eastus", "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{"name": "s1", "properties": {"adressPrefix": "10.0.0.0/24"}}],
        }}),
    );
    assert_eq!(
        refused_path(&r),
        "properties.subnets[0].properties.adressPrefix"
    );

    // At the top, and on a PATCH.
    let r = arm.put(VNET, &vnet, &json!({"location": "eastus", "tag": {}}));
    assert_eq!(refused_path(&r), "tag");
    arm.put(VNET, &vnet, &json!({"location": "eastus"}));
    let r = arm.patch(VNET, &vnet, &json!({"tagz": {"a": "b"}}));
    assert_eq!(refused_path(&r), "tagz");

    // Deep in AKS: the node pool profile.
    let mut body =
        example_body("Microsoft.ContainerService/2025-05-01/ManagedClustersCreate_Update.json");
    body["properties"]["agentPoolProfiles"][0]["enableAutoScalling"] = json!(true);
    let r = arm.put(AKS, &format!("{rg}/providers/{AKS}/c1"), &body);
    assert_eq!(
        refused_path(&r),
        "properties.agentPoolProfiles[0].enableAutoScalling"
    );

    // A type without swagger of its own (resource groups) is checked against the ARM envelope.
    let r = arm.put(
        RG,
        &rg_path("rg2"),
        &json!({"location": "eastus", "tagss": {}}),
    );
    assert_eq!(refused_path(&r), "tagss");
}

#[test]
fn properties_only_the_swagger_knows_and_free_form_maps_are_accepted() {
    let arm = Arm::start();
    let rg = arm.resource_group("rg");
    // enableDdosProtection and flowTimeoutInMinutes are in the swagger, not in the example.
    let r = arm.put(
        VNET,
        &format!("{rg}/providers/{VNET}/v1"),
        &json!({
            "location": "eastus",
            "tags": {"any-key": "any value", "env": "dev"},
            "properties": {
                "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                "enableDdosProtection": false,
                "flowTimeoutInMinutes": 10,
            },
        }),
    );
    assert!(r.status == 201 || r.status == 200, "{}", r.body);
    // Key Vault access policies: permissions nested in an array item.
    let mut body = example_body("Microsoft.KeyVault/2024-11-01/createVault.json");
    body["properties"]["enableRbacAuthorization"] = json!(true);
    body["tags"] = json!({"team": "x"});
    let r = arm.put(KV, &format!("{rg}/providers/{KV}/kv1"), &body);
    assert!(r.status == 201 || r.status == 200, "{}", r.body);
}

#[test]
fn api_version_is_required_and_must_be_the_pinned_one() {
    let arm = Arm::start();
    let rg = arm.resource_group("rg");
    let vnet = format!("{rg}/providers/{VNET}/v1");
    let r = arm.call("GET", &vnet, "2024-01-01", None);
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "NoRegisteredProviderFound");
    assert!(r.body.contains("2025-03-01"), "{}", r.body);

    let r = arm.call_url("GET", &format!("{}{vnet}", arm.url()), None);
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "MissingApiVersionParameter");

    let r = arm.call("GET", &rg, "2021-04-01", None);
    assert_eq!(r.error_code(), "InvalidApiVersionParameter");
}

#[test]
fn arm_requests_need_a_bearer_token() {
    let arm = Arm::start();
    let url = format!("{}{}?api-version=2025-04-01", arm.url(), rg_path("rg"));
    let r = http("GET", &url, &[], None);
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "AuthenticationFailed");
    let r = http("GET", &url, &[("Authorization", "Basic abc")], None);
    assert_eq!(r.status, 401);
}

#[test]
fn unknown_groups_resources_and_parents_answer_arms_errors() {
    let arm = Arm::start();
    let vnet_in_missing_rg = format!("{}/providers/{VNET}/v1", rg_path("nope"));
    let r = arm.put(VNET, &vnet_in_missing_rg, &json!({"location": "eastus"}));
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "ResourceGroupNotFound");
    assert_eq!(
        arm.get(RG, &rg_path("nope")).error_code(),
        "ResourceGroupNotFound"
    );

    let rg = arm.resource_group("rg");
    let r = arm.get(VNET, &format!("{rg}/providers/{VNET}/v1"));
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "ResourceNotFound");

    let subnet = format!("{rg}/providers/{VNET}/v1/subnets/s1");
    let r = arm.put(
        SUBNET,
        &subnet,
        &json!({"properties": {"addressPrefix": "10.0.0.0/24"}}),
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "ParentResourceNotFound");

    let r = arm.put(
        VNET,
        &format!("{rg}/providers/{VNET}/v1"),
        &json!({"properties": {}}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "LocationRequired");
}

#[test]
fn ids_are_case_insensitive_and_keep_their_first_spelling() {
    let arm = Arm::start();
    arm.config(json!({"lro": {VNET: "sync"}}));
    let rg = arm.resource_group("MyGroup");
    let path = format!("{rg}/providers/{VNET}/MyNet");
    assert_eq!(
        arm.put(VNET, &path, &json!({"location": "eastus"})).status,
        201
    );
    let lower = path.to_ascii_lowercase();
    let r = arm.get(VNET, &lower);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["id"], json!(path));
    assert_eq!(
        arm.put(VNET, &lower, &json!({"location": "eastus"})).status,
        200
    );
}

#[test]
fn deleting_a_parent_deletes_its_children() {
    let arm = Arm::start();
    arm.config(json!({"lro": {VNET: "sync", SUBNET: "sync", RG: "sync"}}));
    let rg = arm.resource_group("rg");
    let vnet = format!("{rg}/providers/{VNET}/v1");
    arm.put(VNET, &vnet, &json!({"location": "eastus"}));
    let subnet = format!("{vnet}/subnets/s1");
    let r = arm.put(
        SUBNET,
        &subnet,
        &json!({"properties": {"addressPrefix": "10.0.0.0/24"}}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(arm.delete(RG, &rg).status, 200);
    assert_eq!(
        arm.get(SUBNET, &subnet).error_code(),
        "ResourceGroupNotFound"
    );
    arm.resource_group("rg");
    assert_eq!(arm.get(SUBNET, &subnet).error_code(), "ResourceNotFound");
}
