//! The nightly drift check against the local ARM server: someone edits the network's tag in the
//! portal, deletes a subnet, and makes a storage account by hand carrying the environment's
//! tags; `cairn drift` finds all three (the account through ARM's lists by tag), exits 2 and
//! writes the documented JSON and Markdown; `cairn plan --refresh-only` shows the drift, a
//! refresh-only apply accepts it, and a normal apply restores the spec.

mod common;

use common::Project;
use common::arm::LocalArm;
use common::story::{Cloud, state_id};
use serde_json::json;

const VNET_API: &str = "2025-03-01";
const STORAGE_API: &str = "2024-01-01";

const NETWORK: &str = r#"environment: dev
providers:
  azure: { location: East US }
tags: { env: dev, system: honeylink }
resources:
  rg:
    type: azurerm_resource_group
    properties: { name: honeylink-dev }
  vnet:
    type: azurerm_virtual_network
    properties:
      name: honeylink-dev
      resource_group_name: ${rg.name}
      address_space: [10.10.0.0/16]
      tags: { owner: net }
  subnet:
    type: azurerm_subnet
    for_each: ${toset(["edge", "service"])}
    properties:
      name: ${each.value}
      resource_group_name: ${rg.name}
      virtual_network_name: ${vnet.name}
      address_prefixes: ['${cidrsubnet("10.10.0.0/16", 8, index(["edge", "service"], each.value) + 1)}']
"#;

fn storage_id(arm: &LocalArm) -> String {
    format!(
        "{}/providers/Microsoft.Storage/storageAccounts/handmadelogs",
        arm.group_id("honeylink-dev")
    )
}

/// A tag of the network edited by hand, as the portal does: the whole resource PUT back.
fn edit_vnet_tag(arm: &LocalArm, vnet_id: &str, key: &str, value: &str) {
    let mut vnet = arm
        .client
        .get(vnet_id, VNET_API)
        .expect("the network exists");
    vnet["tags"][key] = json!(value);
    let status = arm.client.put(vnet_id, VNET_API, &vnet);
    assert!((200..300).contains(&status), "PUT network: {status}");
}

#[test]
fn drift_finds_a_tag_changed_by_hand_a_deleted_subnet_and_an_untracked_storage_account() {
    let arm = LocalArm::start();
    let p = Project::with(&[("environments/dev.yaml", NETWORK)]);
    let (code, stdout, stderr) = arm.run(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = arm.run(&p, &["drift", "-e", "dev", "--json", "clean.json"]);
    assert_eq!(code, 0, "a fresh apply has no drift:\n{stdout}\n{stderr}");
    let clean: serde_json::Value = serde_json::from_str(&p.read("clean.json")).expect("JSON");
    // The group and the network carry the environment's tags and are tracked: not unmanaged.
    assert_eq!(clean["unmanaged_checked"], true, "{clean}");
    assert_eq!(clean["unmanaged"], json!([]), "{clean}");

    // By hand, outside cairn, each answered at once as a portal user sees it.
    arm.client.configure(&json!({"lro": {
        "Microsoft.Network/virtualNetworks": "sync",
        "Microsoft.Network/virtualNetworks/subnets": "sync",
        "Microsoft.Storage/storageAccounts": "sync",
    }}));
    let vnet_id = state_id(&p, &arm, "azurerm_virtual_network.vnet");
    edit_vnet_tag(&arm, &vnet_id, "owner", "edited-by-hand");
    let status = arm.client.put(
        &storage_id(&arm),
        STORAGE_API,
        &json!({
            "location": "eastus",
            "kind": "StorageV2",
            "sku": {"name": "Standard_LRS"},
            "tags": {"env": "dev", "system": "honeylink"},
        }),
    );
    assert!(
        (200..300).contains(&status),
        "PUT storage account: {status}"
    );
    // Another account carrying only one of the two tags is not the environment's.
    let status = arm.client.put(
        &storage_id(&arm).replace("handmadelogs", "otherteam"),
        STORAGE_API,
        &json!({
            "location": "eastus",
            "kind": "StorageV2",
            "sku": {"name": "Standard_LRS"},
            "tags": {"env": "dev"},
        }),
    );
    assert!(
        (200..300).contains(&status),
        "PUT storage account: {status}"
    );
    let subnet_id = state_id(&p, &arm, "azurerm_subnet.subnet[\"service\"]");
    let status = arm.client.delete(&subnet_id, VNET_API);
    assert!((200..300).contains(&status), "DELETE subnet: {status}");

    let (code, stdout, stderr) = arm.run(
        &p,
        &[
            "drift",
            "-e",
            "dev",
            "--json",
            "drift.json",
            "--markdown",
            "drift.md",
        ],
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# azurerm_virtual_network.vnet has changed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("# azurerm_subnet.subnet[\"service\"] has been deleted"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{} (Microsoft.Storage/storageAccounts, provider `azure`)",
            storage_id(&arm)
        )),
        "{stdout}"
    );
    assert!(!stdout.contains("otherteam"), "{stdout}");
    assert!(
        stdout.contains("Drift: 1 changed, 1 vanished outside cairn, 1 unmanaged."),
        "{stdout}"
    );

    let report: serde_json::Value = serde_json::from_str(&p.read("drift.json")).expect("JSON");
    assert_eq!(report["drifted"], true);
    assert_eq!(report["unmanaged_checked"], true);
    assert_eq!(
        report["unmanaged"],
        json!([{
            "id": storage_id(&arm),
            "kind": "Microsoft.Storage/storageAccounts",
            "provider": "azure",
            "tags": { "env": "dev", "system": "honeylink" }
        }])
    );
    let resources = report["resources"].as_array().expect("resources");
    let vnet = resources
        .iter()
        .find(|r| r["address"] == "azurerm_virtual_network.vnet")
        .expect("the network drifted");
    assert_eq!(vnet["status"], "changed");
    assert_eq!(vnet["id"], vnet_id.as_str());
    assert_eq!(vnet["planned_action"], "update");
    let tags = vnet["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .find(|a| a["name"] == "tags")
        .expect("tags drifted");
    assert_eq!(tags["before"]["owner"], "net");
    assert_eq!(tags["after"]["owner"], "edited-by-hand");
    let subnet = resources
        .iter()
        .find(|r| r["address"] == "azurerm_subnet.subnet[\"service\"]")
        .expect("the subnet vanished");
    assert_eq!(subnet["status"], "vanished");
    assert_eq!(subnet["planned_action"], "create");
    let markdown = p.read("drift.md");
    assert!(markdown.contains("was deleted outside cairn"), "{markdown}");
    assert!(markdown.contains("was changed outside cairn"), "{markdown}");
    assert!(markdown.contains(&storage_id(&arm)), "{markdown}");

    // The same drift as a plan that would accept it into state.
    let (code, stdout, stderr) = arm.run(&p, &["plan", "-e", "dev", "--refresh-only"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# azurerm_virtual_network.vnet has changed"),
        "{stdout}"
    );
    assert!(stdout.contains("edited-by-hand"), "{stdout}");
    assert!(
        stdout.contains("# azurerm_subnet.subnet[\"service\"] has been deleted"),
        "{stdout}"
    );

    // Apply restores the spec: the tag comes back and the subnet is created again.
    let (code, stdout, stderr) = arm.run(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Apply complete! Resources: 1 added, 1 changed, 0 destroyed."),
        "{stdout}"
    );
    // The hand-made account is still unmanaged; once it is gone, the check is clean.
    let (code, stdout, stderr) = arm.run(&p, &["drift", "-e", "dev"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Drift: 0 changed, 0 vanished outside cairn, 1 unmanaged."),
        "{stdout}"
    );
    let status = arm.client.delete(&storage_id(&arm), STORAGE_API);
    assert!(
        (200..300).contains(&status),
        "DELETE storage account: {status}"
    );
    let (code, stdout, stderr) = arm.run(&p, &["drift", "-e", "dev"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let requests = arm.client.requests();
    assert!(
        requests.contains_key("LIST Microsoft.Resources/resources"),
        "unmanaged objects were looked for with ARM's list by tag: {requests:?}"
    );
}

#[test]
fn a_refresh_only_apply_accepts_a_hand_made_tag_into_state() {
    let arm = LocalArm::start();
    let p = Project::with(&[("environments/dev.yaml", NETWORK)]);
    let (code, stdout, stderr) = arm.run(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    arm.client
        .configure(&json!({"lro": {"Microsoft.Network/virtualNetworks": "sync"}}));
    let vnet_id = state_id(&p, &arm, "azurerm_virtual_network.vnet");
    edit_vnet_tag(&arm, &vnet_id, "costcenter", "ops");
    let (code, stdout, stderr) = arm.run(
        &p,
        &[
            "plan",
            "-e",
            "dev",
            "--refresh-only",
            "--out",
            "accept.cairn",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# azurerm_virtual_network.vnet has changed"),
        "{stdout}"
    );
    assert!(stdout.contains("+ \"costcenter\" = \"ops\""), "{stdout}");
    let (code, stdout, stderr) = arm.run(&p, &["apply", "accept.cairn"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = arm.run(&p, &["drift", "-e", "dev"]);
    assert_eq!(code, 0, "accepted drift is no drift:\n{stdout}\n{stderr}");
}
