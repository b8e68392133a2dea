//! The ARM client as a user meets it through the provider: every long-running-operation shape
//! ARM uses for creates and deletes, failures reported with ARM's code and message (and the
//! resource still found afterwards), throttling retried, batched refresh, the credential chain,
//! import of a hand-made resource, and updates that keep what other resources manage.

mod common;

use cairn_provider::provider::ErrorKind;
use common::*;
use serde_json::json;

const VNET: &str = "Microsoft.Network/virtualNetworks";
const VNET_API: &str = "2025-03-01";

fn vnet(name: &str, group: &str) -> cairn_provider::value::Value {
    config(json!({
        "name": name,
        "resource_group_name": group,
        "address_space": ["10.0.0.0/16"],
        "tags": {"env": "test"},
    }))
}

#[tokio::test]
async fn creates_and_deletes_finish_through_every_operation_shape() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let shapes = [
        ("sync", "sync"),
        ("provisioning-state", "location"),
        ("async-operation", "async-operation"),
        ("location", "no-content"),
        ("accepted", "accepted"),
    ];
    for (i, (put, delete_shape)) in shapes.into_iter().enumerate() {
        arm.configure(json!({"lro": {VNET: {"put": put, "delete": delete_shape}}, "polls": 2}));
        let name = format!("vnet{i}");
        let created = create(
            &provider,
            "azurerm_virtual_network.v",
            "azurerm_virtual_network",
            &vnet(&name, "rg"),
        )
        .await
        .unwrap_or_else(|e| panic!("create through {put}: {e}"));
        assert_eq!(attr(&created.attributes, "name"), name);
        assert_eq!(
            attr(&created.attributes, "location"),
            "eastus",
            "the provider's region, as ARM spells it"
        );
        let live = arm.get(&created.id, VNET_API).expect("the network exists");
        assert_eq!(
            live["properties"]["provisioningState"], "Succeeded",
            "create through {put} returned before the operation ended"
        );
        delete(&provider, "azurerm_virtual_network", &created.id)
            .await
            .unwrap_or_else(|e| panic!("delete through {delete_shape}: {e}"));
        assert!(
            arm.get(&created.id, VNET_API).is_none(),
            "delete through {delete_shape} returned before the network was gone"
        );
    }
    let requests = arm.requests();
    assert!(
        requests.get(&format!("POLL {VNET}")).copied().unwrap_or(0) >= 4,
        "operation URLs were polled: {requests:?}"
    );
}

#[tokio::test]
async fn a_failed_operation_reports_arms_code_and_message_and_the_resource_is_found_again() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    arm.configure(json!({
        "lro": {VNET: "async-operation"},
        "fail": {VNET: {"code": "QuotaExceeded", "message": "Network quota exceeded in eastus", "on": ["put"]}},
    }));
    let wanted = vnet("vnet1", "rg");
    let err = create(
        &provider,
        "azurerm_virtual_network.v",
        "azurerm_virtual_network",
        &wanted,
    )
    .await
    .expect_err("the operation fails");
    assert!(err.message.contains("QuotaExceeded"), "{}", err.message);
    assert!(
        err.message.contains("Network quota exceeded in eastus"),
        "{}",
        err.message
    );
    // The engine keeps its intent for such failures: the next refresh looks for the resource by
    // the id its configuration gives, and records it.
    assert_eq!(err.kind, ErrorKind::Other);
    let found = read(
        &provider,
        "azurerm_virtual_network",
        &[("azurerm_virtual_network.v", None, &wanted)],
    )
    .await;
    assert!(
        found.contains_key("azurerm_virtual_network.v"),
        "the failed network is found: {found:?}"
    );
}

#[tokio::test]
async fn throttling_is_retried_after_the_time_arm_asks() {
    let arm = arm().await;
    let provider = arm.provider();
    arm.configure(json!({"faults": {"status": 429, "next": 2}}));
    let started = std::time::Instant::now();
    group(&provider, "rg").await;
    assert!(
        arm.get(
            &format!("/subscriptions/{SUB}/resourceGroups/rg"),
            "2025-04-01"
        )
        .is_some()
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After was honoured"
    );
}

#[tokio::test]
async fn server_errors_are_retried_and_one_that_outlives_the_retries_is_reported() {
    let arm = arm().await;
    let provider = arm.provider();
    arm.configure(json!({"faults": {"status": 503, "next": 2}}));
    group(&provider, "rg").await;
    assert!(
        arm.get(
            &format!("/subscriptions/{SUB}/resourceGroups/rg"),
            "2025-04-01"
        )
        .is_some()
    );

    arm.configure(json!({"faults": {"status": 500, "every": 1}}));
    let err = create(
        &provider,
        "azurerm_resource_group.other",
        "azurerm_resource_group",
        &config(json!({"name": "other"})),
    )
    .await
    .expect_err("every request fails");
    assert!(
        err.message.contains("500"),
        "the status is named: {}",
        err.message
    );
}

#[tokio::test]
async fn refresh_lists_each_collection_once_following_next_link() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let mut made = Vec::new();
    for i in 0..5 {
        let c = vnet(&format!("vnet{i}"), "rg");
        let created = create(
            &provider,
            "azurerm_virtual_network.v",
            "azurerm_virtual_network",
            &c,
        )
        .await
        .expect("create");
        made.push((format!("azurerm_virtual_network.v{i}"), created.id, c));
    }
    arm.forget_requests();
    let items: Vec<_> = made
        .iter()
        .map(|(a, id, c)| (a.as_str(), Some(id.as_str()), c))
        .collect();
    let found = read(&provider, "azurerm_virtual_network", &items).await;
    assert_eq!(found.len(), 5);
    let requests = arm.requests();
    assert_eq!(
        requests.get(&format!("LIST {VNET}")),
        Some(&1),
        "{requests:?}"
    );
    assert_eq!(
        requests.get(&format!("NEXT {VNET}")),
        Some(&2),
        "pages of two: {requests:?}"
    );
    assert_eq!(
        requests.get(&format!("GET {VNET}")),
        None,
        "no read one by one: {requests:?}"
    );
}

#[tokio::test]
async fn when_no_credential_works_the_error_names_each_source() {
    let arm = arm().await;
    arm.configure(json!({"client_secret": "another-secret"}));
    let provider = arm.provider();
    let err = create(
        &provider,
        "azurerm_resource_group.rg",
        "azurerm_resource_group",
        &config(json!({"name": "rg"})),
    )
    .await
    .expect_err("the secret is refused");
    for source in [
        "client secret",
        "workload identity",
        "managed identity",
        "Azure CLI",
    ] {
        assert!(
            err.message.contains(source),
            "{source} is named: {}",
            err.message
        );
    }
    assert!(
        !err.message.contains(CLIENT_SECRET),
        "the secret is never shown: {}",
        err.message
    );
}

#[tokio::test]
async fn a_hand_made_network_is_imported_by_id_and_an_existing_one_is_not_taken_over() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let id = format!("/subscriptions/{SUB}/resourceGroups/rg/providers/{VNET}/handmade");
    let status = arm.put(
        &id,
        VNET_API,
        &json!({
            "location": "eastus",
            "tags": {"owner": "ops"},
            "properties": {"addressSpace": {"addressPrefixes": ["10.9.0.0/16"]}},
        }),
    );
    assert!(status == 200 || status == 201, "{status}");
    let found = read(
        &provider,
        "azurerm_virtual_network",
        &[(
            "azurerm_virtual_network.imported",
            Some(&id),
            &cairn_provider::value::Value::Null,
        )],
    )
    .await;
    let imported = &found["azurerm_virtual_network.imported"].attributes;
    assert_eq!(attr(imported, "name"), "handmade");
    assert_eq!(attr(imported, "resource_group_name"), "rg");
    assert_eq!(
        imported.get("address_space"),
        Some(&config(json!(["10.9.0.0/16"])))
    );
    assert_eq!(imported.get("tags"), Some(&config(json!({"owner": "ops"}))));

    let err = create(
        &provider,
        "azurerm_virtual_network.v",
        "azurerm_virtual_network",
        &vnet("handmade", "rg"),
    )
    .await
    .expect_err("not taken over");
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert!(
        err.message
            .contains("cairn import azurerm_virtual_network.v"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn updating_a_network_keeps_the_subnets_other_resources_manage() {
    let arm = arm().await;
    let provider = arm.provider();
    group(&provider, "rg").await;
    let c = vnet("vnet1", "rg");
    let network = create(
        &provider,
        "azurerm_virtual_network.v",
        "azurerm_virtual_network",
        &c,
    )
    .await
    .expect("vnet");
    let subnet = create(
        &provider,
        "azurerm_subnet.s",
        "azurerm_subnet",
        &config(json!({"name": "edge", "resource_group_name": "rg", "virtual_network_name": "vnet1", "address_prefixes": ["10.0.1.0/24"]})),
    )
    .await
    .expect("subnet");
    let changed = config(json!({
        "name": "vnet1", "resource_group_name": "rg", "address_space": ["10.0.0.0/16"],
        "dns_servers": ["10.0.0.4"], "tags": {"env": "test", "tier": "edge"},
    }));
    let after = update(
        &provider,
        "azurerm_virtual_network",
        &network.id,
        &network.attributes,
        &changed,
    )
    .await
    .expect("update");
    assert_eq!(after.get("dns_servers"), Some(&config(json!(["10.0.0.4"]))));
    assert_eq!(
        after.get("tags"),
        Some(&config(json!({"env": "test", "tier": "edge"})))
    );
    assert!(
        arm.get(&subnet.id, VNET_API).is_some(),
        "the subnet survived the network's update"
    );
}
