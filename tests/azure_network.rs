//! The Azure provider as a user lives it, against the local ARM server: a resource group, a
//! virtual network and subnets are applied, re-planned without false diffs, changed in place
//! and by replacement, imported by a teammate, destroyed without leftovers; a long-running
//! operation that fails is reported with ARM's code and message and the resource it left is in
//! state after the next run.

mod common;

use common::Project;
use common::arm::LocalArm;
use common::story::{Cloud, imports_cleanly, updates_in_place_and_sticks};
use serde_json::json;

const VNET_API: &str = "2025-03-01";

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
  subnet:
    type: azurerm_subnet
    for_each: ${toset(["edge", "service"])}
    properties:
      name: ${each.value}
      resource_group_name: ${rg.name}
      virtual_network_name: ${vnet.name}
      address_prefixes: ['${cidrsubnet("10.10.0.0/16", 8, index(["edge", "service"], each.value) + 1)}']
"#;

fn vnet_id(arm: &LocalArm) -> String {
    format!(
        "{}/providers/Microsoft.Network/virtualNetworks/honeylink-dev",
        arm.group_id("honeylink-dev")
    )
}

#[test]
fn a_network_is_applied_replanned_changed_imported_and_destroyed() {
    let arm = LocalArm::start();
    let p = Project::with(&[("environments/dev.yaml", NETWORK)]);

    let (code, stdout, stderr) = arm.run(&p, &["plan", "-e", "dev"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Plan: 4 to add, 0 to change, 0 to destroy."),
        "{stdout}"
    );

    let (code, stdout, stderr) = arm.run(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let vnet = arm
        .client
        .get(&vnet_id(&arm), VNET_API)
        .expect("the network exists");
    assert_eq!(vnet["location"], "eastus");
    assert_eq!(vnet["tags"], json!({"env": "dev", "system": "honeylink"}));
    assert_eq!(
        vnet["properties"]["addressSpace"]["addressPrefixes"],
        json!(["10.10.0.0/16"])
    );
    let edge = arm
        .client
        .get(&format!("{}/subnets/edge", vnet_id(&arm)), VNET_API)
        .expect("the edge subnet exists");
    assert_eq!(
        edge["properties"]["addressPrefixes"],
        json!(["10.10.1.0/24"])
    );

    // ARM spells the region `eastus` and the spec `East US`: no false diff.
    let (code, stdout, stderr) = arm.run(&p, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(
        code, 0,
        "re-plan after apply must be empty:\n{stdout}\n{stderr}"
    );

    // A DNS server is an in-place update of the network, and keeps its subnets.
    p.write(
        "environments/dev.yaml",
        &NETWORK.replace(
            "address_space: [10.10.0.0/16]",
            "address_space: [10.10.0.0/16]\n      dns_servers: [10.10.1.4]",
        ),
    );
    updates_in_place_and_sticks(&p, &arm, "azurerm_virtual_network.vnet");
    let vnet = arm.client.get(&vnet_id(&arm), VNET_API).expect("network");
    assert_eq!(
        vnet["properties"]["dhcpOptions"]["dnsServers"],
        json!(["10.10.1.4"])
    );
    assert!(
        arm.client
            .get(&format!("{}/subnets/edge", vnet_id(&arm)), VNET_API)
            .is_some(),
        "updating the network kept its subnets"
    );

    // A subnet's name is part of its id: renaming it replaces it.
    let renamed = p
        .read("environments/dev.yaml")
        .replace(r#"["edge", "service"]"#, r#"["gateway", "service"]"#);
    p.write("environments/dev.yaml", &renamed);
    let (code, stdout, stderr) = arm.run(&p, &["plan", "-e", "dev"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Plan: 1 to add, 0 to change, 1 to destroy."),
        "{stdout}"
    );
    let (code, stdout, stderr) = arm.run(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        arm.client
            .get(&format!("{}/subnets/edge", vnet_id(&arm)), VNET_API)
            .is_none()
    );
    assert!(
        arm.client
            .get(&format!("{}/subnets/gateway", vnet_id(&arm)), VNET_API)
            .is_some()
    );

    imports_cleanly(&p, &arm);

    let (code, stdout, stderr) = arm.run(&p, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        arm.client
            .get(&arm.group_id("honeylink-dev"), "2025-04-01")
            .is_none(),
        "nothing is left"
    );
}

#[test]
fn a_failed_operation_is_reported_with_arms_error_and_the_resource_is_kept_in_state() {
    let arm = LocalArm::start();
    let p = Project::with(&[("environments/dev.yaml", NETWORK)]);
    arm.client.configure(&json!({
        "lro": {"Microsoft.Network/virtualNetworks": "async-operation"},
        "fail": {"Microsoft.Network/virtualNetworks": {
            "code": "InUseSubnetCannotBeDeleted",
            "message": "Subnet edge is in use and cannot be deleted.",
            "on": ["put"],
        }},
    }));
    let (code, stdout, stderr) = arm.run(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let output = format!("{stdout}{stderr}");
    assert!(output.contains("InUseSubnetCannotBeDeleted"), "{output}");
    assert!(
        output.contains("Subnet edge is in use and cannot be deleted."),
        "{output}"
    );
    assert!(!output.contains("panicked"), "{output}");

    // The failed network exists in ARM (in state Failed): the next run finds it by the id its
    // configuration gives, records it, and does not create it again.
    arm.client.configure(&json!({}));
    let (code, stdout, stderr) = arm.run(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, list, _) = arm.run(&p, &["state", "list", "-e", "dev"]);
    assert_eq!(code, 0);
    assert!(
        list.lines().any(|l| l == "azurerm_virtual_network.vnet"),
        "{list}"
    );
    let requests = arm.client.requests();
    assert_eq!(
        requests.get("PUT Microsoft.Network/virtualNetworks"),
        Some(&1),
        "the network was PUT once, by the failed run: {requests:?}"
    );
}

#[test]
fn without_credentials_plan_says_which_sources_it_tried() {
    let arm = LocalArm::start();
    let p = Project::with(&[("environments/dev.yaml", NETWORK)]);
    arm.client
        .configure(&json!({"client_secret": "rotated-yesterday"}));
    let (code, stdout, stderr) = arm.run(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    for source in [
        "client secret",
        "workload identity",
        "managed identity",
        "Azure CLI",
    ] {
        assert!(stderr.contains(source), "{source} named in:\n{stderr}");
    }
    assert!(
        !stderr.contains(arm_test_server::client::CLIENT_SECRET),
        "{stderr}"
    );
}
