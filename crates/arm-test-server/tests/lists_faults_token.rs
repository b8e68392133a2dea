//! Lists come in small pages that must be followed through nextLink, and requests are counted so
//! that a client's batching can be asserted; injected 429/5xx faults; the client-secret token
//! endpoint.

mod common;

use common::*;
use serde_json::{Value, json};

const VNET: &str = "Microsoft.Network/virtualNetworks";
const SUBNET: &str = "Microsoft.Network/virtualNetworks/subnets";

fn names(page: &Value) -> Vec<String> {
    page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_list_comes_in_pages_of_two_linked_by_next_link() {
    let arm = Arm::start();
    arm.config(json!({"lro": {VNET: "sync", SUBNET: "sync"}}));
    let rg = arm.resource_group("rg");
    let other = arm.resource_group("other");
    for n in ["v1", "v2", "v3", "v4", "v5"] {
        let path = format!("{rg}/providers/{VNET}/{n}");
        assert_eq!(
            arm.put(VNET, &path, &json!({"location": "eastus"})).status,
            201
        );
    }
    arm.put(
        VNET,
        &format!("{other}/providers/{VNET}/elsewhere"),
        &json!({"location": "eastus"}),
    );
    let vnet1 = format!("{rg}/providers/{VNET}/v1");
    arm.put(
        SUBNET,
        &format!("{vnet1}/subnets/s1"),
        &json!({"properties": {"addressPrefix": "10.0.1.0/24"}}),
    );
    let counts_before = arm.counts();

    let mut seen = Vec::new();
    let mut page = arm.get(VNET, &format!("{rg}/providers/{VNET}")).json();
    seen.extend(names(&page));
    while let Some(next) = page.get("nextLink").and_then(Value::as_str) {
        assert!(names(&page).len() == 2);
        page = arm.call_url("GET", next, None).json();
        seen.extend(names(&page));
    }
    assert_eq!(seen, ["v1", "v2", "v3", "v4", "v5"]);

    let counts = arm.counts();
    assert_eq!(counts[format!("LIST {VNET}")], 1);
    assert_eq!(counts[format!("NEXT {VNET}")], 2);
    assert_eq!(
        counts[format!("PUT {VNET}")],
        counts_before[format!("PUT {VNET}")]
    );

    // Children are listed under their parent.
    let subnets = arm.get(SUBNET, &format!("{vnet1}/subnets")).json();
    assert_eq!(names(&subnets), ["s1"]);
    assert!(subnets.get("nextLink").is_none());

    let r = http(
        "DELETE",
        &format!("{}/_test/requests", arm.url()),
        &[],
        None,
    );
    assert_eq!(r.status, 204);
    assert_eq!(arm.counts(), json!({}));
}

#[test]
fn injected_429_carries_retry_after_and_stops_after_n_requests() {
    let arm = Arm::start();
    arm.config(json!({"faults": {"status": 429, "next": 2}}));
    let path = rg_path("rg");
    let body = json!({"location": "eastus"});
    for _ in 0..2 {
        let r = arm.put("Microsoft.Resources/resourceGroups", &path, &body);
        assert_eq!(r.status, 429);
        assert_eq!(r.header("Retry-After"), Some("1"));
        assert_eq!(r.error_code(), "TooManyRequests");
    }
    assert_eq!(
        arm.put("Microsoft.Resources/resourceGroups", &path, &body)
            .status,
        201
    );
    // Faulted requests are counted too: a client's retries show.
    assert_eq!(arm.counts()["PUT Microsoft.Resources/resourceGroups"], 3);
}

#[test]
fn injected_5xx_at_a_rate() {
    let arm = Arm::start();
    arm.config(json!({"faults": {"status": 503, "every": 2}}));
    let path = rg_path("rg");
    let statuses: Vec<u16> = (0..4)
        .map(|_| arm.get("Microsoft.Resources/resourceGroups", &path).status)
        .collect();
    assert_eq!(statuses, [404, 503, 404, 503]);
    arm.config(json!({"faults": {"status": 500, "next": 1}}));
    let r = arm.get("Microsoft.Resources/resourceGroups", &path);
    assert_eq!(r.status, 500);
    assert_eq!(r.error_code(), "InternalServerError");
}

#[test]
fn a_bad_test_config_is_refused() {
    let arm = Arm::start();
    for bad in [
        json!({"lro": {"Microsoft.Network/nope": "sync"}}),
        json!({"lro": {VNET: "sometimes"}}),
        json!({"faults": {"status": 418, "next": 1}}),
        json!({"unknown": 1}),
    ] {
        let r = http(
            "PUT",
            &format!("{}/_test/config", arm.url()),
            &[],
            Some(&bad.to_string()),
        );
        assert_eq!(r.status, 400, "{bad}");
    }
}

fn token(arm: &Arm, form: &str) -> Resp {
    http(
        "POST",
        &format!("{}/tenant-1/oauth2/v2.0/token", arm.url()),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(form),
    )
}

#[test]
fn the_token_endpoint_serves_the_client_secret_flow() {
    let arm = Arm::start();
    let form = "client_id=app&client_secret=s%3Dcret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default&grant_type=client_credentials";
    let r = token(&arm, form);
    assert_eq!(r.status, 200);
    let body = r.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    let access = body["access_token"].as_str().unwrap().to_string();
    let rg = http(
        "GET",
        &format!("{}{}?api-version=2025-04-01", arm.url(), rg_path("rg")),
        &[("Authorization", &format!("Bearer {access}"))],
        None,
    );
    assert_eq!(rg.status, 404, "the token is accepted: {}", rg.body);

    arm.config(json!({"client_secret": "s=cret"}));
    assert_eq!(token(&arm, form).status, 200);
    let r = token(&arm, &form.replace("s%3Dcret", "wrong"));
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "invalid_client");
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215")
    );

    let r = token(
        &arm,
        "client_id=app&client_secret=x&scope=s&grant_type=password",
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "unsupported_grant_type");
    assert_eq!(arm.counts()["POST token"], 4);
}
