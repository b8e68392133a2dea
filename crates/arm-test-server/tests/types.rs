//! Every type in the table, driven with its official example bodies: PUT, GET, PATCH (where ARM
//! has one), list and DELETE work, and what comes back has the example response's property names.
//! Also: every official example request body is accepted by the validator (no false refusals).

mod common;

use arm_test_server::catalog::{ResourceType, TYPES, example_request_body};
use common::*;
use serde_json::{Value, json};

/// The path of a resource of `arm_type` in `rg`, naming each level `n<level>` (blob services are
/// always `default`), so that a parent's path is a prefix of its children's.
fn resource_path(rg: &str, arm_type: &str) -> String {
    let (namespace, rest) = arm_type.split_once('/').unwrap();
    let mut path = format!("{rg}/providers/{namespace}");
    for (level, t) in rest.split('/').enumerate() {
        let name = if t == "blobServices" {
            "default".to_string()
        } else {
            format!("n{level}")
        };
        path.push_str(&format!("/{t}/{name}"));
    }
    path
}

/// The example request and final response of a type's canonical create, unpacked for types whose
/// shape lives inside another's examples (security rules).
fn create_example(ty: &ResourceType) -> Option<(Value, Value)> {
    let ex = ty.examples?;
    let file = example(&format!("{}/{}.json", ex.dir, ex.put[0]));
    let req = example_request_body(&file)?.clone();
    let resp = file
        .pointer("/responses/200/body")
        .or_else(|| file.pointer("/responses/201/body"))?
        .clone();
    match ty.examples_within {
        Some(within) => {
            let pointer = format!("/{}/0", within.replace('.', "/"));
            Some((
                req.pointer(&pointer)?.clone(),
                resp.pointer(&pointer)?.clone(),
            ))
        }
        None => Some((req, resp)),
    }
}

/// A body for a type: its example's, or for the PostgreSQL children (no example exists) the
/// shape azurerm sends.
fn body_for(ty: &ResourceType) -> Value {
    if let Some((req, _)) = create_example(ty) {
        return req;
    }
    match ty.arm_type {
        "Microsoft.DBforPostgreSQL/flexibleServers/databases" => {
            json!({"properties": {"charset": "UTF8", "collation": "en_US.utf8"}})
        }
        "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules" => {
            json!({"properties": {"startIpAddress": "10.0.0.1", "endIpAddress": "10.0.0.9"}})
        }
        other => panic!("no body for {other}"),
    }
}

fn create_with_parents(arm: &Arm, rg: &str, ty: &ResourceType) -> String {
    if let Some(parent) = ty.parent {
        create_with_parents(arm, rg, common::ty(parent));
    }
    let path = resource_path(rg, ty.arm_type);
    let r = arm.put(ty.arm_type, &path, &body_for(ty));
    // 202 too: a type whose default PUT shape is `location` is stored at once, as `Creating`.
    assert!(
        [200, 201, 202].contains(&r.status),
        "PUT {} answered {}: {}",
        ty.arm_type,
        r.status,
        r.body
    );
    path
}

/// Property names of the example response missing from `ours`: top-level ones (except writable
/// ones the example request did not send, which are the example's own settings) and those under
/// `properties`.
fn missing_names(ours: &Value, example_req: &Value, example_resp: &Value) -> Vec<String> {
    const WRITABLE: &[&str] = &[
        "tags",
        "sku",
        "zones",
        "identity",
        "kind",
        "extendedLocation",
    ];
    let mut missing = Vec::new();
    for key in example_resp.as_object().unwrap().keys() {
        let writable_unsent = WRITABLE.contains(&key.as_str()) && example_req.get(key).is_none();
        if !writable_unsent && ours.get(key).is_none() {
            missing.push(key.clone());
        }
    }
    if let Some(props) = example_resp.get("properties").and_then(Value::as_object) {
        for key in props.keys() {
            if ours.pointer(&format!("/properties/{key}")).is_none() {
                missing.push(format!("properties.{key}"));
            }
        }
    }
    missing
}

#[test]
fn every_type_can_be_put_read_patched_listed_and_deleted_with_its_example_body() {
    let arm = Arm::start();
    // Synchronous everywhere: the LRO shapes have their own tests.
    let lro: serde_json::Map<String, Value> = TYPES
        .iter()
        .map(|t| (t.arm_type.to_string(), json!("sync")))
        .collect();
    arm.config(json!({ "lro": lro }));
    let mut failures = Vec::new();
    for (i, ty) in TYPES.iter().enumerate() {
        let rg = arm.resource_group(&format!("rg-{i}"));
        let path = if ty.arm_type == "Microsoft.Resources/resourceGroups" {
            rg.clone()
        } else {
            create_with_parents(&arm, &rg, ty)
        };

        let got = arm.get(ty.arm_type, &path);
        if got.status != 200 {
            failures.push(format!("GET {}: {} {}", ty.arm_type, got.status, got.body));
            continue;
        }
        let body = got.json();
        assert_eq!(body["id"], json!(path), "{}", ty.arm_type);
        assert_eq!(body["type"], json!(ty.arm_type));
        if let Some((req, resp)) = create_example(ty) {
            let missing = missing_names(&body, &req, &resp);
            if !missing.is_empty() {
                failures.push(format!("{} lacks {missing:?}", ty.arm_type));
            }
        }

        if ty.patchable {
            let patch = ty
                .examples
                .and_then(|e| {
                    e.patch
                        .map(|p| example_body(&format!("{}/{p}.json", e.dir)))
                })
                .unwrap_or_else(|| json!({"tags": {"env": "test"}}));
            let r = arm.patch(ty.arm_type, &path, &patch);
            if r.status != 200 {
                failures.push(format!("PATCH {}: {} {}", ty.arm_type, r.status, r.body));
            } else if let Some(tags) = patch.get("tags") {
                assert_eq!(&r.json()["tags"], tags, "{}: tags replaced", ty.arm_type);
            }
        } else {
            let r = arm.patch(ty.arm_type, &path, &json!({}));
            assert_eq!(r.status, 405, "{} has no PATCH in ARM", ty.arm_type);
        }

        let collection = path.rsplit_once('/').unwrap().0;
        let list = arm.get(ty.arm_type, collection);
        if list.status != 200 {
            failures.push(format!(
                "LIST {}: {} {}",
                ty.arm_type, list.status, list.body
            ));
        } else {
            let ids: Vec<String> = list.json()["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["id"].as_str().unwrap().to_string())
                .collect();
            assert!(ids.contains(&path), "{}: {ids:?}", ty.arm_type);
        }

        let r = arm.delete(ty.arm_type, &path);
        if r.status != 200 && r.status != 204 {
            failures.push(format!("DELETE {}: {} {}", ty.arm_type, r.status, r.body));
        }
        assert_eq!(arm.get(ty.arm_type, &path).status, 404, "{}", ty.arm_type);
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_official_example_request_body_is_accepted() {
    let arm = Arm::start();
    let rg = arm.resource_group("examples");
    let mut refused = Vec::new();
    for ty in TYPES {
        let Some(ex) = ty.examples else { continue };
        if ty.arm_type == "Microsoft.Resources/resourceGroups" {
            continue;
        }
        if let Some(parent) = ty.parent {
            create_with_parents(&arm, &rg, common::ty(parent));
        }
        let path = resource_path(&rg, ty.arm_type);
        let puts = ex.put.iter().map(|p| ("PUT", *p));
        let patches = ex.patch.iter().map(|p| ("PATCH", *p));
        for (method, name) in puts.chain(patches) {
            let mut body = example_body(&format!("{}/{name}.json", ex.dir));
            if let Some(within) = ty.examples_within {
                body = body
                    .pointer(&format!("/{}/0", within.replace('.', "/")))
                    .unwrap()
                    .clone();
            }
            let r = arm.call(method, &path, ty.api_version, Some(&body));
            if r.status >= 400 {
                refused.push(format!("{method} {name}: {} {}", r.status, r.body));
            }
        }
    }
    assert!(refused.is_empty(), "{refused:#?}");
}

#[test]
fn every_validated_type_refuses_an_unknown_member_under_properties() {
    let arm = Arm::start();
    let rg = arm.resource_group("strict");
    let mut accepted = Vec::new();
    for ty in TYPES {
        let Some((mut body, _)) = create_example(ty) else {
            continue; // Not validated (no example, no swagger): said so in the table.
        };
        if let Some(parent) = ty.parent {
            create_with_parents(&arm, &rg, common::ty(parent));
        }
        let path = if ty.arm_type == "Microsoft.Resources/resourceGroups" {
            rg_path("strict2")
        } else {
            resource_path(&rg, ty.arm_type)
        };
        body.as_object_mut()
            .unwrap()
            .entry("properties")
            .or_insert(json!({}))["zzMisspelt"] = json!(1);
        let r = arm.put(ty.arm_type, &path, &body);
        if r.status != 400 || !r.body.contains("properties.zzMisspelt") {
            accepted.push(format!("{}: {} {}", ty.arm_type, r.status, r.body));
        }
    }
    assert!(accepted.is_empty(), "{accepted:#?}");
}
