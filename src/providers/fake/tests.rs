//! The fake cloud seen from a provider user's side.

use std::collections::BTreeMap;

use super::*;
use crate::providers::ReadItem;

fn config(dir: &std::path::Path, settings: serde_json::Value) -> ProviderConfig {
    ProviderConfig {
        name: "fake".into(),
        alias: None,
        settings: Value::from_json(&settings),
        project_dir: dir.to_path_buf(),
        environment: "dev".into(),
    }
}

fn attrs(json: serde_json::Value) -> Value {
    Value::from_json(&json)
}

fn create_req(address: &str, ty: &str, config: Value, token: &str) -> CreateRequest {
    CreateRequest {
        address: address.into(),
        resource_type: ty.into(),
        config,
        token: token.into(),
        timeout: None,
    }
}

#[tokio::test]
async fn a_created_network_gets_an_id_an_arn_and_its_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeProvider::new(&config(dir.path(), serde_json::json!({}))).unwrap();
    let created = fake
        .create(create_req(
            "fake_network.vpc",
            "fake_network",
            attrs(serde_json::json!({ "cidr_block": "10.0.0.0/16" })),
            "t1",
        ))
        .await
        .unwrap();
    assert!(
        created.id.starts_with("net-") && created.id.len() == 12,
        "{}",
        created.id
    );
    assert_eq!(
        created.attributes.get("enable_dns"),
        Some(&Value::Bool(true))
    );
    assert!(
        created
            .attributes
            .get("arn")
            .and_then(Value::as_str)
            .unwrap()
            .ends_with(&created.id)
    );

    // A retry with the same token gets the same network, not a second one.
    let again = fake
        .create(create_req(
            "fake_network.vpc",
            "fake_network",
            attrs(serde_json::json!({ "cidr_block": "10.0.0.0/16" })),
            "t1",
        ))
        .await
        .unwrap();
    assert_eq!(again.id, created.id);
    let cloud = fake.snapshot().unwrap();
    assert_eq!(cloud.objects.len(), 1);
    assert_eq!(
        cloud.objects[&created.id].owner.as_deref(),
        Some("fake_network.vpc")
    );
    assert_eq!(cloud.calls("create", "fake_network"), 2);
    // The file is where the docs say, so a second process finds the network.
    assert!(dir.path().join(".cairn/fake-cloud.json").exists());
    let other_process = FakeProvider::new(&config(dir.path(), serde_json::json!({}))).unwrap();
    assert_eq!(other_process.snapshot().unwrap().objects.len(), 1);
}

#[tokio::test]
async fn bad_input_is_rejected_the_way_a_cloud_api_would() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeProvider::new(&config(dir.path(), serde_json::json!({}))).unwrap();
    let err = fake
        .create(create_req(
            "fake_network.vpc",
            "fake_network",
            attrs(serde_json::json!({ "cidr_block": "10.0.0.0/33" })),
            "t1",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert_eq!(
        err.message,
        "fake_network: cidr_block \"10.0.0.0/33\" is not an IPv4 CIDR block (expected a form such as \"10.0.0.0/16\")"
    );

    let err = fake
        .create(create_req(
            "fake_subnet.a",
            "fake_subnet",
            attrs(serde_json::json!({ "network_id": "net-00000000", "cidr_block": "10.0.1.0/24" })),
            "t2",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(
        err.message,
        "fake_subnet: network \"net-00000000\" does not exist"
    );
    assert!(fake.snapshot().unwrap().objects.is_empty());
}

#[tokio::test]
async fn reads_are_one_batched_call_and_never_return_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeProvider::new(&config(dir.path(), serde_json::json!({}))).unwrap();
    let net = fake
        .create(create_req(
            "fake_network.vpc",
            "fake_network",
            attrs(serde_json::json!({ "cidr_block": "10.0.0.0/16" })),
            "n",
        ))
        .await
        .unwrap();
    let subnet = fake
        .create(create_req(
            "fake_subnet.a",
            "fake_subnet",
            attrs(serde_json::json!({ "network_id": net.id, "cidr_block": "10.0.1.0/24" })),
            "s",
        ))
        .await
        .unwrap();
    let mut db_config = attrs(serde_json::json!({
        "engine": "postgres", "instance_class": "db.t4g.micro", "username": "app",
        "subnet_ids": [subnet.id],
    }));
    if let Value::Map(map) = &mut db_config {
        map.insert(
            "password".into(),
            Value::Sensitive(Box::new(Value::string("hunter2"))),
        );
    }
    let db = fake
        .create(create_req(
            "fake_database.main",
            "fake_database",
            db_config,
            "d",
        ))
        .await
        .unwrap();
    assert_eq!(db.attributes.get("password"), None);
    assert_eq!(db.attributes.get("port"), Some(&Value::Number(5432.0)));

    let item = |address: &str, id: Option<&str>, token: Option<&str>| ReadItem {
        address: address.into(),
        id: id.map(String::from),
        token: token.map(String::from),
        since: None,
        prior: Value::Null,
    };
    let read = fake
        .read(ReadRequest {
            resource_type: "fake_database".into(),
            items: vec![
                item("fake_database.main", Some(&db.id), None),
                item("fake_database.adopted", None, Some("d")),
                item("fake_database.gone", Some("db-deadbeef"), None),
            ],
        })
        .await
        .unwrap();
    assert_eq!(
        read.found.keys().collect::<Vec<_>>(),
        ["fake_database.adopted", "fake_database.main"]
    );
    assert_eq!(
        read.found["fake_database.main"].attributes.get("password"),
        None
    );
    let cloud = fake.snapshot().unwrap();
    assert_eq!(cloud.calls("read", "fake_database"), 1);
    // The cloud itself keeps what it was given.
    assert_eq!(cloud.objects[&db.id].attributes["password"], "hunter2");

    // The network cannot go while the subnet is in it; a missing id is NotFound.
    let delete = |id: &str, ty: &str| DeleteRequest {
        address: "x".into(),
        resource_type: ty.into(),
        id: id.into(),
        prior: Value::Null,
        timeout: None,
    };
    let err = fake
        .delete(delete(&net.id, "fake_network"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert!(err.message.contains("still used by fake_subnet"), "{err}");
    let err = fake
        .delete(delete("net-00000000", "fake_network"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn injected_failures_fire_the_given_number_of_times() {
    let dir = tempfile::tempdir().unwrap();
    let settings = serde_json::json!({
        "failures": [{ "match": "fake_bucket.logs", "operation": "create", "error": "throttled", "times": 2 }]
    });
    let fake = FakeProvider::new(&config(dir.path(), settings)).unwrap();
    let req = || {
        create_req(
            "fake_bucket.logs",
            "fake_bucket",
            attrs(serde_json::json!({ "bucket": "logs" })),
            "t",
        )
    };
    assert_eq!(
        fake.create(req()).await.unwrap_err().kind,
        ErrorKind::Throttled
    );
    assert_eq!(
        fake.create(req()).await.unwrap_err().kind,
        ErrorKind::Throttled
    );
    let created = fake.create(req()).await.unwrap();
    assert_eq!(created.id, "logs");
    assert_eq!(fake.snapshot().unwrap().calls("create", "fake_bucket"), 3);
}

#[test]
fn a_misspelled_setting_is_named_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let err = FakeProvider::new(&config(dir.path(), serde_json::json!({ "latency": 5 })))
        .err()
        .unwrap();
    assert_eq!(
        err.message,
        "provider `fake`: unknown setting `latency`; did you mean `latency_ms`?"
    );
    let err = FakeProvider::new(&config(
        dir.path(),
        serde_json::json!({ "failures": [{ "match": "fake_bucket", "operation": "create", "error": "boom" }] }),
    ))
    .err()
    .unwrap();
    assert!(
        err.message
            .starts_with("provider `fake`: failures[0]: error `boom` is not one of"),
        "{err}"
    );
}

#[test]
fn every_type_is_registered_with_its_schema() {
    let mut catalog = Catalog::default();
    register(&mut catalog);
    let names: Vec<_> = catalog.schemas.type_names().collect();
    assert_eq!(names.len(), 10, "{names:?}");
    let db = catalog.schemas.get("fake_database").unwrap();
    assert!(db.attribute("password").unwrap().sensitive);
    assert!(db.typical_create_secs >= 600.0);
    let _ = BTreeMap::<String, Value>::new();
}
