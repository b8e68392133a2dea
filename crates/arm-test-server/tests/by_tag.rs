//! Finding resources by tag, as ARM answers it: "Resources - List" across the subscription and
//! "Resource Groups - List", each with one `tagName`/`tagValue` pair in `$filter`, in pages
//! linked by nextLink that keep the filter; child resources (subnets) are not listed, and a
//! tag-filtered resource list leaves `tags` out as ARM documents.

mod common;

use common::*;
use serde_json::{Value, json};

const VNET: &str = "Microsoft.Network/virtualNetworks";
const SUBNET: &str = "Microsoft.Network/virtualNetworks/subnets";
const RG: &str = "Microsoft.Resources/resourceGroups";

/// Every item of a list, following nextLink.
fn all(arm: &Arm, first: &str) -> Vec<Value> {
    let mut page = arm.call_url("GET", first, None);
    assert_eq!(page.status, 200, "{}", page.body);
    let mut items = Vec::new();
    loop {
        let body = page.json();
        items.extend(body["value"].as_array().cloned().unwrap_or_default());
        match body.get("nextLink").and_then(Value::as_str) {
            Some(next) => page = arm.call_url("GET", next, None),
            None => return items,
        }
    }
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn resources_and_groups_are_found_by_one_tag_pair_across_the_subscription() {
    let arm = Arm::start();
    arm.config(json!({"lro": {VNET: "sync", SUBNET: "sync", RG: "sync"}}));
    let rg = rg_path("a");
    arm.put(
        RG,
        &rg,
        &json!({"location": "eastus", "tags": {"env": "dev"}}),
    );
    let other = arm.resource_group("b");
    for (group, name, env) in [
        (&rg, "v1", "dev"),
        (&rg, "v2", "prd"),
        (&other, "v3", "dev"),
        (&other, "v4", "dev"),
    ] {
        let r = arm.put(
            VNET,
            &format!("{group}/providers/{VNET}/{name}"),
            &json!({"location": "eastus", "tags": {"Env": env, "team": "net"}}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    arm.put(
        SUBNET,
        &format!("{rg}/providers/{VNET}/v1/subnets/s1"),
        &json!({"properties": {"addressPrefix": "10.0.1.0/24"}}),
    );

    let base = format!("{}/subscriptions/{SUB}", arm.url());
    // Unfiltered: every top-level resource, tags included, no subnet, no group.
    let everything = all(&arm, &format!("{base}/resources?api-version=2021-04-01"));
    assert_eq!(ids(&everything), ["v1", "v2", "v3", "v4"]);
    assert_eq!(everything[0]["tags"]["team"], "net");
    assert!(everything[0].get("properties").is_none());
    assert_eq!(everything[0]["type"], VNET);

    // One pair; the tag name matches without case; three results in pages of two.
    let filter = "%24filter=tagname%20eq%20%27env%27%20and%20tagValue%20eq%20%27dev%27";
    let dev = all(
        &arm,
        &format!("{base}/resources?api-version=2021-04-01&{filter}"),
    );
    assert_eq!(ids(&dev), ["v1", "v3", "v4"]);
    assert!(dev.iter().all(|v| v.get("tags").is_none()), "{dev:?}");
    let counts = arm.counts();
    assert_eq!(counts["NEXT Microsoft.Resources/resources"], 2);

    // Resource groups by tag, with their tags.
    let groups = all(
        &arm,
        &format!("{base}/resourcegroups?api-version=2025-04-01&{filter}"),
    );
    assert_eq!(ids(&groups), ["a"]);
    assert_eq!(groups[0]["tags"], json!({"env": "dev"}));

    // Two pairs in one filter, or the wrong api-version: refused as ARM refuses them.
    let two = arm.call_url(
        "GET",
        &format!(
            "{base}/resources?api-version=2021-04-01&{filter}%20and%20tagName%20eq%20%27team%27"
        ),
        None,
    );
    assert_eq!(two.status, 400);
    assert_eq!(two.error_code(), "InvalidFilterInQueryString");
    let old = arm.call_url(
        "GET",
        &format!("{base}/resources?api-version=2019-01-01"),
        None,
    );
    assert_eq!(old.error_code(), "InvalidApiVersionParameter");
}
