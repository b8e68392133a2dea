//! The network types of the seed systems as a user meets them, against the local ARM server
//! with each type's default long-running-operation shape: create, a refresh that reads back
//! what the create recorded (so a re-plan is empty), an update visible on the server, delete,
//! and import of a resource made by hand.

mod common;

use cairn_provider::value::Value;
use common::*;
use serde_json::{Value as Json, json};

const NET_API: &str = "2025-03-01";
const NSG_API: &str = "2024-10-01";

fn rg_id(group: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{group}")
}

fn net_id(group: &str, arm_type: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Network/{arm_type}/{name}",
        rg_id(group)
    )
}

/// Reads one instance back by id, as a refresh does.
async fn read_back(
    provider: &cairn_azure::AzureProvider,
    resource_type: &str,
    id: &str,
    prior: &Value,
) -> Option<Value> {
    read(provider, resource_type, &[("x.y", Some(id), prior)])
        .await
        .remove("x.y")
        .map(|r| r.attributes)
}

/// The part of a live resource a user looks at in the portal.
fn live_tags(live: &Json) -> Json {
    live.get("tags").cloned().unwrap_or(json!({}))
}

// ---- Network security groups and rules ----

fn nsg(name: &str, tags: Json) -> Value {
    config(json!({"name": name, "resource_group_name": "rg", "tags": tags}))
}

fn rule(name: &str, priority: u32) -> Value {
    config(json!({
        "name": name, "resource_group_name": "rg", "network_security_group_name": "edge",
        "priority": priority, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
        "source_port_range": "*", "destination_port_ranges": ["443", "8443"],
        "source_address_prefix": "Internet", "destination_address_prefix": "VirtualNetwork",
    }))
}

#[tokio::test]
async fn a_security_group_is_created_read_back_retagged_and_deleted() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let wanted = nsg("edge", json!({"tier": "edge"}));
    let created = create(
        &provider,
        "azurerm_network_security_group.edge",
        "azurerm_network_security_group",
        &wanted,
    )
    .await
    .expect("create");
    assert_eq!(created.id, net_id("rg", "networkSecurityGroups", "edge"));
    assert_eq!(attr(&created.attributes, "location"), "eastus");
    let live = arm.get(&created.id, NSG_API).expect("on the server");
    assert_eq!(live["properties"]["provisioningState"], "Succeeded");

    let again = read_back(
        &provider,
        "azurerm_network_security_group",
        &created.id,
        &created.attributes,
    )
    .await;
    assert_eq!(
        again.as_ref(),
        Some(&created.attributes),
        "a re-plan is empty"
    );

    let after = update(
        &provider,
        "azurerm_network_security_group",
        &created.id,
        &created.attributes,
        &nsg("edge", json!({"tier": "edge", "owner": "net"})),
    )
    .await
    .expect("update");
    assert_eq!(
        after.get("tags"),
        Some(&config(json!({"tier": "edge", "owner": "net"})))
    );
    let live = arm.get(&created.id, NSG_API).expect("on the server");
    assert_eq!(live_tags(&live), json!({"tier": "edge", "owner": "net"}));

    delete(&provider, "azurerm_network_security_group", &created.id)
        .await
        .expect("delete");
    assert!(arm.get(&created.id, NSG_API).is_none());
}

#[tokio::test]
async fn updating_a_security_group_carries_its_rules_over() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    // A group made with an inline rule (as the portal or another tool would) keeps it through
    // cairn's update: the PUT carries the live rules.
    let id = net_id("rg", "networkSecurityGroups", "edge");
    let status = arm.put(
        &id,
        NSG_API,
        &json!({
            "location": "eastus",
            "properties": {"securityRules": [{"name": "https", "properties": {
                "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "443",
                "sourceAddressPrefix": "*", "destinationAddressPrefix": "*",
                "access": "Allow", "priority": 100, "direction": "Inbound"}}]},
        }),
    );
    assert!(status == 200 || status == 201, "{status}");
    let prior = read_back(
        &provider,
        "azurerm_network_security_group",
        &id,
        &Value::Null,
    )
    .await
    .expect("imported");
    update(
        &provider,
        "azurerm_network_security_group",
        &id,
        &prior,
        &nsg("edge", json!({"env": "prod"})),
    )
    .await
    .expect("update");
    let live = arm.get(&id, NSG_API).expect("on the server");
    assert_eq!(live_tags(&live), json!({"env": "prod"}));
    assert_eq!(
        live["properties"]["securityRules"][0]["name"], "https",
        "the rule survived the group's update: {live}"
    );
}

#[tokio::test]
async fn a_hand_made_security_group_imports_as_a_spec_would_write_it() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let id = net_id("rg", "networkSecurityGroups", "handmade");
    let status = arm.put(
        &id,
        NSG_API,
        &json!({"location": "westeurope", "tags": {"owner": "ops"}}),
    );
    assert!(status == 200 || status == 201, "{status}");
    let imported = read_back(
        &provider,
        "azurerm_network_security_group",
        &id,
        &Value::Null,
    )
    .await
    .expect("found");
    assert_eq!(
        imported,
        config(json!({
            "id": id, "name": "handmade", "resource_group_name": "rg",
            "location": "westeurope", "tags": {"owner": "ops"},
        }))
    );
}

#[tokio::test]
async fn a_security_rule_is_created_read_back_changed_and_deleted() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    create(
        &provider,
        "azurerm_network_security_group.edge",
        "azurerm_network_security_group",
        &nsg("edge", json!({})),
    )
    .await
    .expect("nsg");
    let wanted = rule("https-in", 100);
    let created = create(
        &provider,
        "azurerm_network_security_rule.https",
        "azurerm_network_security_rule",
        &wanted,
    )
    .await
    .expect("create");
    assert_eq!(
        created.id,
        format!(
            "{}/securityRules/https-in",
            net_id("rg", "networkSecurityGroups", "edge")
        )
    );
    for (name, value) in [
        ("priority", json!(100)),
        ("destination_port_ranges", json!(["443", "8443"])),
        ("destination_port_range", Json::Null),
        ("source_address_prefix", json!("Internet")),
    ] {
        assert_eq!(
            created.attributes.get(name).cloned().unwrap_or(Value::Null),
            config(value),
            "{name}"
        );
    }
    let live = arm.get(&created.id, NSG_API).expect("on the server");
    assert_eq!(live["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        live["properties"]["destinationPortRanges"],
        json!(["443", "8443"])
    );

    let again = read_back(
        &provider,
        "azurerm_network_security_rule",
        &created.id,
        &created.attributes,
    )
    .await;
    assert_eq!(
        again.as_ref(),
        Some(&created.attributes),
        "a re-plan is empty"
    );

    let after = update(
        &provider,
        "azurerm_network_security_rule",
        &created.id,
        &created.attributes,
        &rule("https-in", 200),
    )
    .await
    .expect("update");
    assert_eq!(after.get("priority"), Some(&Value::Number(200.0)));
    let live = arm.get(&created.id, NSG_API).expect("on the server");
    assert_eq!(live["properties"]["priority"], 200);

    delete(&provider, "azurerm_network_security_rule", &created.id)
        .await
        .expect("delete");
    assert!(arm.get(&created.id, NSG_API).is_none());
}

#[tokio::test]
async fn a_rule_with_both_forms_of_a_port_is_refused_before_arm_is_asked() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let mut wanted = rule("bad", 100).to_json_exposed();
    wanted["destination_port_range"] = json!("80");
    let err = create(
        &provider,
        "azurerm_network_security_rule.bad",
        "azurerm_network_security_rule",
        &config(wanted),
    )
    .await
    .expect_err("refused");
    assert!(
        err.message.contains("destination_port_range")
            && err.message.contains("destination_port_ranges"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_hand_made_security_rule_imports_as_a_spec_would_write_it() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    create(
        &provider,
        "azurerm_network_security_group.edge",
        "azurerm_network_security_group",
        &nsg("edge", json!({})),
    )
    .await
    .expect("nsg");
    let id = format!(
        "{}/securityRules/ssh",
        net_id("rg", "networkSecurityGroups", "edge")
    );
    let status = arm.put(
        &id,
        NSG_API,
        &json!({"properties": {
            "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "22",
            "sourceAddressPrefixes": ["10.0.0.0/8", "192.168.0.0/16"],
            "destinationAddressPrefix": "*", "access": "Deny", "priority": 300,
            "direction": "Inbound", "description": "no ssh"}}),
    );
    assert!(status == 200 || status == 201, "{status}");
    let imported = read_back(
        &provider,
        "azurerm_network_security_rule",
        &id,
        &Value::Null,
    )
    .await
    .expect("found");
    assert_eq!(
        imported,
        config(json!({
            "id": id, "name": "ssh", "resource_group_name": "rg",
            "network_security_group_name": "edge", "description": "no ssh",
            "protocol": "Tcp", "access": "Deny", "priority": 300, "direction": "Inbound",
            "source_port_range": "*", "source_port_ranges": [],
            "destination_port_range": "22", "destination_port_ranges": [],
            "source_address_prefix": null,
            "source_address_prefixes": ["10.0.0.0/8", "192.168.0.0/16"],
            "destination_address_prefix": "*", "destination_address_prefixes": [],
        }))
    );
}

// ---- Public IPs ----

fn public_ip(name: &str, tags: Json) -> Value {
    config(json!({
        "name": name, "resource_group_name": "rg", "allocation_method": "Static",
        "zones": ["1", "2", "3"], "tags": tags,
    }))
}

#[tokio::test]
async fn a_public_ip_is_created_read_back_retagged_deleted_and_imported() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let created = create(
        &provider,
        "azurerm_public_ip.gw",
        "azurerm_public_ip",
        &public_ip("gw-ip", json!({"app": "flask"})),
    )
    .await
    .expect("create");
    assert_eq!(created.id, net_id("rg", "publicIPAddresses", "gw-ip"));
    assert_eq!(
        attr(&created.attributes, "sku"),
        "Standard",
        "azurerm's default"
    );
    assert_eq!(attr(&created.attributes, "allocation_method"), "Static");
    assert_eq!(
        created.attributes.get("idle_timeout_in_minutes"),
        Some(&Value::Number(4.0))
    );
    let live = arm.get(&created.id, NET_API).expect("on the server");
    assert_eq!(live["sku"]["name"], "Standard");
    assert_eq!(live["zones"], json!(["1", "2", "3"]));
    assert_eq!(live["properties"]["publicIPAllocationMethod"], "Static");

    let again = read_back(
        &provider,
        "azurerm_public_ip",
        &created.id,
        &created.attributes,
    )
    .await;
    assert_eq!(
        again.as_ref(),
        Some(&created.attributes),
        "a re-plan is empty"
    );

    let mut changed = public_ip("gw-ip", json!({"app": "flask", "env": "prod"})).to_json_exposed();
    changed["idle_timeout_in_minutes"] = json!(10);
    let after = update(
        &provider,
        "azurerm_public_ip",
        &created.id,
        &created.attributes,
        &config(changed),
    )
    .await
    .expect("update");
    assert_eq!(
        after.get("idle_timeout_in_minutes"),
        Some(&Value::Number(10.0))
    );
    let live = arm.get(&created.id, NET_API).expect("on the server");
    assert_eq!(live_tags(&live), json!({"app": "flask", "env": "prod"}));
    assert_eq!(live["properties"]["idleTimeoutInMinutes"], 10);

    delete(&provider, "azurerm_public_ip", &created.id)
        .await
        .expect("delete");
    assert!(arm.get(&created.id, NET_API).is_none());

    let id = net_id("rg", "publicIPAddresses", "handmade");
    let status = arm.put(
        &id,
        NET_API,
        &json!({"location": "eastus", "sku": {"name": "Standard", "tier": "Regional"},
                "properties": {"publicIPAllocationMethod": "Static",
                               "dnsSettings": {"domainNameLabel": "honeylink"}}}),
    );
    assert!(status == 200 || status == 201, "{status}");
    let imported = read_back(&provider, "azurerm_public_ip", &id, &Value::Null)
        .await
        .expect("found");
    for (name, value) in [
        ("name", "handmade"),
        ("resource_group_name", "rg"),
        ("location", "eastus"),
        ("allocation_method", "Static"),
        ("sku", "Standard"),
        ("sku_tier", "Regional"),
        ("domain_name_label", "honeylink"),
    ] {
        assert_eq!(attr(&imported, name), value, "{name}");
    }
}

// ---- NAT gateways ----

fn nat(name: &str, idle: u32, tags: Json) -> Value {
    config(json!({
        "name": name, "resource_group_name": "rg", "idle_timeout_in_minutes": idle,
        "zones": ["1"], "tags": tags,
    }))
}

#[tokio::test]
async fn a_nat_gateway_is_created_read_back_changed_deleted_and_imported() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let created = create(
        &provider,
        "azurerm_nat_gateway.out",
        "azurerm_nat_gateway",
        &nat("egress", 10, json!({"tier": "service"})),
    )
    .await
    .expect("create through a 202 and its Location URL");
    assert_eq!(created.id, net_id("rg", "natGateways", "egress"));
    assert_eq!(attr(&created.attributes, "sku_name"), "Standard");
    let live = arm.get(&created.id, NET_API).expect("on the server");
    assert_eq!(live["properties"]["provisioningState"], "Succeeded");
    assert_eq!(live["properties"]["idleTimeoutInMinutes"], 10);
    assert_eq!(live["zones"], json!(["1"]));

    let again = read_back(
        &provider,
        "azurerm_nat_gateway",
        &created.id,
        &created.attributes,
    )
    .await;
    assert_eq!(
        again.as_ref(),
        Some(&created.attributes),
        "a re-plan is empty"
    );

    let after = update(
        &provider,
        "azurerm_nat_gateway",
        &created.id,
        &created.attributes,
        &nat("egress", 15, json!({"tier": "service", "env": "prod"})),
    )
    .await
    .expect("update");
    assert_eq!(
        after.get("idle_timeout_in_minutes"),
        Some(&Value::Number(15.0))
    );
    let live = arm.get(&created.id, NET_API).expect("on the server");
    assert_eq!(live_tags(&live), json!({"tier": "service", "env": "prod"}));
    assert_eq!(live["properties"]["idleTimeoutInMinutes"], 15);

    delete(&provider, "azurerm_nat_gateway", &created.id)
        .await
        .expect("delete");
    assert!(arm.get(&created.id, NET_API).is_none());

    let id = net_id("rg", "natGateways", "handmade");
    let status = arm.put(
        &id,
        NET_API,
        &json!({"location": "eastus", "sku": {"name": "Standard"},
                "properties": {"idleTimeoutInMinutes": 7}}),
    );
    assert!((200..300).contains(&status), "{status}");
    let imported = read_back(&provider, "azurerm_nat_gateway", &id, &Value::Null)
        .await
        .expect("found");
    assert_eq!(attr(&imported, "name"), "handmade");
    assert_eq!(attr(&imported, "sku_name"), "Standard");
    assert_eq!(
        imported.get("idle_timeout_in_minutes"),
        Some(&Value::Number(7.0))
    );
    assert_eq!(imported.get("zones"), Some(&config(json!([]))));
}

// ---- Subnet–security group associations ----

/// A network with two subnets and a security group, as a three-tier layout starts.
async fn network_with_nsg(provider: &cairn_azure::AzureProvider) -> (String, String, String) {
    group(provider, "rg").await;
    create(
        provider,
        "azurerm_virtual_network.main",
        "azurerm_virtual_network",
        &config(
            json!({"name": "main", "resource_group_name": "rg", "address_space": ["10.0.0.0/16"]}),
        ),
    )
    .await
    .expect("vnet");
    let mut subnets = Vec::new();
    for (name, prefix) in [("service", "10.0.1.0/24"), ("data", "10.0.2.0/24")] {
        let s = create(
            provider,
            "azurerm_subnet.s",
            "azurerm_subnet",
            &config(json!({"name": name, "resource_group_name": "rg",
                           "virtual_network_name": "main", "address_prefixes": [prefix]})),
        )
        .await
        .expect("subnet");
        subnets.push(s.id);
    }
    let nsg = create(
        provider,
        "azurerm_network_security_group.tier",
        "azurerm_network_security_group",
        &nsg("tier", json!({})),
    )
    .await
    .expect("nsg");
    (subnets[0].clone(), subnets[1].clone(), nsg.id)
}

fn association(subnet_id: &str, nsg_id: &str) -> Value {
    config(json!({"subnet_id": subnet_id, "network_security_group_id": nsg_id}))
}

#[tokio::test]
async fn associating_a_security_group_sets_it_on_the_subnet_and_deleting_removes_it() {
    const ASSOC: &str = "azurerm_subnet_network_security_group_association";
    let arm = arm().await;
    let provider = arm.provider();
    let (service, data, nsg_id) = network_with_nsg(&provider).await;

    let mut made = Vec::new();
    for subnet in [&service, &data] {
        let created = create(&provider, "a.b", ASSOC, &association(subnet, &nsg_id))
            .await
            .expect("associate");
        assert_eq!(&created.id, subnet, "the association's id is the subnet's");
        let live = arm.get(subnet, NET_API).expect("subnet");
        assert_eq!(
            live["properties"]["networkSecurityGroup"]["id"],
            json!(nsg_id)
        );
        assert_eq!(
            live["properties"]["addressPrefixes"]
                .as_array()
                .map(Vec::len),
            Some(1),
            "the rest of the subnet is unchanged: {live}"
        );
        made.push(created);
    }

    arm.forget_requests();
    let items: Vec<_> = made
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                ["a.service", "a.data"][i],
                Some(c.id.as_str()),
                &c.attributes,
            )
        })
        .collect();
    let found = read(&provider, ASSOC, &items).await;
    assert_eq!(
        found["a.service"].attributes, made[0].attributes,
        "a re-plan is empty"
    );
    assert_eq!(
        found["a.data"].attributes, made[1].attributes,
        "a re-plan is empty"
    );
    let requests = arm.requests();
    assert_eq!(
        requests.get("LIST Microsoft.Network/virtualNetworks/subnets"),
        Some(&1),
        "one list for the network's subnets: {requests:?}"
    );

    // A subnet already linked is not taken over.
    let err = create(&provider, "a.again", ASSOC, &association(&service, &nsg_id))
        .await
        .expect_err("already associated");
    assert!(
        err.message.contains("cairn import a.again"),
        "{}",
        err.message
    );

    // The subnet's own update keeps the association, which it does not manage.
    let subnet_attrs = read_back(&provider, "azurerm_subnet", &service, &Value::Null)
        .await
        .expect("subnet");
    let mut changed = subnet_attrs.to_json_exposed();
    changed["service_endpoints"] = json!(["Microsoft.Storage"]);
    update(
        &provider,
        "azurerm_subnet",
        &service,
        &subnet_attrs,
        &config(changed),
    )
    .await
    .expect("subnet update");
    let found = read(
        &provider,
        ASSOC,
        &[("a.service", Some(&service), &made[0].attributes)],
    )
    .await;
    assert_eq!(found["a.service"].attributes, made[0].attributes);

    delete(&provider, ASSOC, &service).await.expect("delete");
    let live = arm.get(&service, NET_API).expect("the subnet stays");
    assert!(
        live["properties"].get("networkSecurityGroup").is_none(),
        "the link is gone: {live}"
    );
    assert!(
        read(
            &provider,
            ASSOC,
            &[("a.service", Some(&service), &made[0].attributes)]
        )
        .await
        .is_empty(),
        "a refresh finds no association"
    );
    delete(&provider, ASSOC, &service)
        .await
        .expect("deleting it again is a no-op");
}

#[tokio::test]
async fn a_hand_made_association_imports_by_subnet_id() {
    const ASSOC: &str = "azurerm_subnet_network_security_group_association";
    let arm = arm().await;
    let provider = arm.provider();
    let (service, _, nsg_id) = network_with_nsg(&provider).await;
    let status = arm.put(
        &service,
        NET_API,
        &json!({"properties": {"addressPrefixes": ["10.0.1.0/24"],
                               "networkSecurityGroup": {"id": nsg_id}}}),
    );
    assert!((200..300).contains(&status), "{status}");
    let imported = read_back(&provider, ASSOC, &service, &Value::Null)
        .await
        .expect("found");
    assert_eq!(
        imported,
        config(json!({"id": service, "subnet_id": service, "network_security_group_id": nsg_id}))
    );
}

// ---- Application gateways ----

/// The Flask-on-AKS front door: one public frontend on port 80, a pool of pod addresses,
/// HTTP settings to port 8888, a listener and a basic rule.
fn app_gateway(subnet_id: &str, ip_id: &str, capacity: u32, tags: Json) -> Value {
    config(json!({
        "name": "flask-gw", "resource_group_name": "rg",
        "sku": {"name": "Standard_v2", "tier": "Standard_v2", "capacity": capacity},
        "gateway_ip_configuration": [{"name": "gw-ip", "subnet_id": subnet_id}],
        "frontend_port": [{"name": "http", "port": 80}],
        "frontend_ip_configuration": [{"name": "public", "public_ip_address_id": ip_id}],
        "backend_address_pool": [{"name": "aks", "ip_addresses": ["10.0.2.10", "10.0.2.11"]}],
        "backend_http_settings": [{"name": "flask", "cookie_based_affinity": "Disabled",
                                   "port": 8888, "protocol": "Http"}],
        "http_listener": [{"name": "web", "frontend_ip_configuration_name": "public",
                           "frontend_port_name": "http", "protocol": "Http"}],
        "request_routing_rule": [{"name": "to-aks", "rule_type": "Basic", "priority": 100,
                                  "http_listener_name": "web",
                                  "backend_address_pool_name": "aks",
                                  "backend_http_settings_name": "flask"}],
        "tags": tags,
    }))
}

async fn gateway_network(provider: &cairn_azure::AzureProvider) -> (String, String) {
    group(provider, "rg").await;
    create(
        provider,
        "azurerm_virtual_network.main",
        "azurerm_virtual_network",
        &config(
            json!({"name": "main", "resource_group_name": "rg", "address_space": ["10.0.0.0/16"]}),
        ),
    )
    .await
    .expect("vnet");
    let subnet = create(
        provider,
        "azurerm_subnet.gw",
        "azurerm_subnet",
        &config(json!({"name": "gw", "resource_group_name": "rg",
                       "virtual_network_name": "main", "address_prefixes": ["10.0.1.0/24"]})),
    )
    .await
    .expect("subnet");
    let ip = create(
        provider,
        "azurerm_public_ip.gw",
        "azurerm_public_ip",
        &public_ip("gw-ip", json!({})),
    )
    .await
    .expect("public ip");
    (subnet.id, ip.id)
}

#[tokio::test]
async fn an_application_gateway_links_its_parts_by_id_and_reads_back_unchanged() {
    const APPGW: &str = "azurerm_application_gateway";
    let arm = arm().await;
    let provider = arm.provider();
    let (subnet, ip) = gateway_network(&provider).await;
    let wanted = app_gateway(&subnet, &ip, 2, json!({"app": "flask"}));
    let created = create(
        &provider,
        "azurerm_application_gateway.front",
        APPGW,
        &wanted,
    )
    .await
    .expect("create");
    let gw = net_id("rg", "applicationGateways", "flask-gw");
    assert_eq!(created.id, gw);

    let live = arm.get(&gw, NET_API).expect("on the server");
    let p = &live["properties"];
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(p["sku"]["capacity"], 2);
    assert_eq!(
        p["httpListeners"][0]["properties"]["frontendIPConfiguration"]["id"],
        json!(format!("{gw}/frontendIPConfigurations/public"))
    );
    assert_eq!(
        p["httpListeners"][0]["properties"]["frontendPort"]["id"],
        json!(format!("{gw}/frontendPorts/http"))
    );
    let rule = &p["requestRoutingRules"][0]["properties"];
    assert_eq!(
        rule["httpListener"]["id"],
        json!(format!("{gw}/httpListeners/web"))
    );
    assert_eq!(
        rule["backendAddressPool"]["id"],
        json!(format!("{gw}/backendAddressPools/aks"))
    );
    assert_eq!(
        rule["backendHttpSettings"]["id"],
        json!(format!("{gw}/backendHttpSettingsCollection/flask"))
    );
    assert_eq!(
        p["backendHttpSettingsCollection"][0]["properties"]["requestTimeout"], 30,
        "azurerm's default request timeout"
    );
    assert_eq!(
        p["frontendIPConfigurations"][0]["properties"]["publicIPAddress"]["id"],
        json!(ip)
    );

    // What the create recorded is what a refresh reads: the spec's blocks, as written.
    for name in [
        "sku",
        "gateway_ip_configuration",
        "frontend_port",
        "frontend_ip_configuration",
        "backend_address_pool",
        "backend_http_settings",
        "http_listener",
        "request_routing_rule",
    ] {
        assert_eq!(created.attributes.get(name), wanted.get(name), "{name}");
    }
    let again = read_back(&provider, APPGW, &gw, &created.attributes).await;
    assert_eq!(
        again.as_ref(),
        Some(&created.attributes),
        "a re-plan is empty"
    );

    let after = update(
        &provider,
        APPGW,
        &gw,
        &created.attributes,
        &app_gateway(&subnet, &ip, 3, json!({"app": "flask", "env": "prod"})),
    )
    .await
    .expect("update");
    assert_eq!(
        after.get("sku"),
        Some(&config(
            json!({"name": "Standard_v2", "tier": "Standard_v2", "capacity": 3})
        ))
    );
    let live = arm.get(&gw, NET_API).expect("on the server");
    assert_eq!(live["properties"]["sku"]["capacity"], 3);
    assert_eq!(live_tags(&live), json!({"app": "flask", "env": "prod"}));

    delete(&provider, APPGW, &gw).await.expect("delete");
    assert!(arm.get(&gw, NET_API).is_none());
}

#[tokio::test]
async fn a_hand_made_application_gateway_imports_with_names_for_its_links() {
    const APPGW: &str = "azurerm_application_gateway";
    let arm = arm().await;
    let provider = arm.provider();
    let (subnet, ip) = gateway_network(&provider).await;
    let gw = net_id("rg", "applicationGateways", "portal-gw");
    let status = arm.put(
        &gw,
        NET_API,
        &json!({"location": "eastus", "properties": {
            "sku": {"name": "Standard_v2", "tier": "Standard_v2", "capacity": 1},
            "gatewayIPConfigurations": [{"name": "gwip", "properties": {"subnet": {"id": subnet}}}],
            "frontendIPConfigurations": [{"name": "fe", "properties": {"publicIPAddress": {"id": ip}}}],
            "frontendPorts": [{"name": "p80", "properties": {"port": 80}}],
            "backendAddressPools": [{"name": "pool", "properties": {"backendAddresses": [{"fqdn": "flask.internal"}]}}],
            "backendHttpSettingsCollection": [{"name": "bhs", "properties": {
                "port": 8888, "protocol": "Http", "cookieBasedAffinity": "Disabled", "requestTimeout": 60}}],
            "httpListeners": [{"name": "hl", "properties": {
                "frontendIPConfiguration": {"id": format!("{gw}/frontendIPConfigurations/fe")},
                "frontendPort": {"id": format!("{gw}/frontendPorts/p80")}, "protocol": "Http"}}],
            "requestRoutingRules": [{"name": "r", "properties": {"ruleType": "Basic", "priority": 10,
                "httpListener": {"id": format!("{gw}/httpListeners/hl")},
                "backendAddressPool": {"id": format!("{gw}/backendAddressPools/pool")},
                "backendHttpSettings": {"id": format!("{gw}/backendHttpSettingsCollection/bhs")}}}],
        }}),
    );
    assert!((200..300).contains(&status), "{status}");
    let imported = read_back(&provider, APPGW, &gw, &Value::Null)
        .await
        .expect("found");
    assert_eq!(attr(&imported, "name"), "portal-gw");
    assert_eq!(
        imported.get("request_routing_rule"),
        Some(&config(
            json!([{"name": "r", "rule_type": "Basic", "priority": 10,
            "http_listener_name": "hl", "backend_address_pool_name": "pool",
            "backend_http_settings_name": "bhs"}])
        ))
    );
    assert_eq!(
        imported.get("http_listener"),
        Some(&config(
            json!([{"name": "hl", "frontend_ip_configuration_name": "fe",
            "frontend_port_name": "p80", "protocol": "Http", "host_name": null}])
        ))
    );
    assert_eq!(
        imported.get("backend_address_pool"),
        Some(&config(
            json!([{"name": "pool", "fqdns": ["flask.internal"], "ip_addresses": []}])
        ))
    );
    let settings = &imported
        .get("backend_http_settings")
        .and_then(Value::as_list)
        .expect("settings")[0];
    assert_eq!(settings.get("request_timeout"), Some(&Value::Number(60.0)));
    assert_eq!(settings.get("port"), Some(&Value::Number(8888.0)));
}
