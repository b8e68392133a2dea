//! The S3 bucket settings as a user lives them, against a local moto_server: a bucket with
//! default encryption, lifecycle rules, versioning and a public access block is applied,
//! re-planned without false diffs, imported, changed in place and by replacement, and destroyed
//! without leftovers.
//!
//! moto diverges from AWS where noted in comments; the adapter is written for AWS.

mod common;

use common::Project;
use common::aws::{imports_cleanly, run, updates_in_place_and_sticks};
use common::moto::Moto;

/// moto does not check that the KMS key exists (AWS does when objects are written).
const BUCKET: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  data:
    type: aws_s3_bucket
    properties: { bucket: cairn-demo-data, force_destroy: true }
  data_versioning:
    type: aws_s3_bucket_versioning
    properties:
      bucket: ${data.id}
      versioning_configuration: { status: Enabled }
  data_public:
    type: aws_s3_bucket_public_access_block
    properties:
      bucket: ${data.id}
      block_public_acls: true
      block_public_policy: true
      ignore_public_acls: true
      restrict_public_buckets: true
  data_encryption:
    type: aws_s3_bucket_server_side_encryption_configuration
    properties:
      bucket: ${data.id}
      rule:
        - apply_server_side_encryption_by_default:
            sse_algorithm: aws:kms
            kms_master_key_id: arn:aws:kms:us-east-1:123456789012:alias/cairn-data
          bucket_key_enabled: true
  data_lifecycle:
    type: aws_s3_bucket_lifecycle_configuration
    properties:
      bucket: ${data.id}
      rule:
        - id: archive-logs
          status: Enabled
          filter: { prefix: logs/ }
          transition:
            - { days: 30, storage_class: STANDARD_IA }
            - { days: 90, storage_class: GLACIER }
          expiration: { days: 365 }
        - id: old-versions
          status: Enabled
          noncurrent_version_expiration: { noncurrent_days: 60 }
          abort_incomplete_multipart_upload: { days_after_initiation: 7 }
"#;

#[test]
fn an_encrypted_bucket_with_lifecycle_rules_applies_replans_clean_changes_and_destroys() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", BUCKET)]);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Apply complete! Resources: 5 added, 0 changed, 0 destroyed."),
        "{stdout}"
    );
    let encryption = moto.rest("GET", "/cairn-demo-data?encryption", "s3");
    assert!(encryption.contains("aws:kms"), "{encryption}");
    assert!(encryption.contains("alias/cairn-data"), "{encryption}");
    let lifecycle = moto.rest("GET", "/cairn-demo-data?lifecycle", "s3");
    for expected in [
        "STANDARD_IA",
        "GLACIER",
        "<Days>365</Days>",
        "logs/",
        "old-versions",
    ] {
        assert!(
            lifecycle.contains(expected),
            "{expected} missing: {lifecycle}"
        );
    }

    // Rules read back exactly as written: omitted filters and blocks stay omitted.
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a re-plan must be empty:\n{stdout}\n{stderr}");
    imports_cleanly(&p, &moto);

    // A rule's day count and the encryption algorithm change in place.
    let later = BUCKET.replace("expiration: { days: 365 }", "expiration: { days: 400 }");
    p.write("environments/dev.yaml", &later);
    updates_in_place_and_sticks(
        &p,
        &moto,
        "aws_s3_bucket_lifecycle_configuration.data_lifecycle",
    );
    let lifecycle = moto.rest("GET", "/cairn-demo-data?lifecycle", "s3");
    assert!(lifecycle.contains("<Days>400</Days>"), "{lifecycle}");
    let s3_managed = later.replace(
        "            sse_algorithm: aws:kms\n            kms_master_key_id: arn:aws:kms:us-east-1:123456789012:alias/cairn-data\n          bucket_key_enabled: true\n",
        "            sse_algorithm: AES256\n",
    );
    assert_ne!(s3_managed, later);
    p.write("environments/dev.yaml", &s3_managed);
    updates_in_place_and_sticks(
        &p,
        &moto,
        "aws_s3_bucket_server_side_encryption_configuration.data_encryption",
    );
    let encryption = moto.rest("GET", "/cairn-demo-data?encryption", "s3");
    assert!(encryption.contains("AES256"), "{encryption}");

    // Versioning once enabled can only be suspended, and a public access switch flips, in place.
    let suspended = s3_managed.replace("{ status: Enabled }", "{ status: Suspended }");
    p.write("environments/dev.yaml", &suspended);
    updates_in_place_and_sticks(&p, &moto, "aws_s3_bucket_versioning.data_versioning");
    let versioning = moto.rest("GET", "/cairn-demo-data?versioning", "s3");
    assert!(
        versioning.contains("<Status>Suspended</Status>"),
        "{versioning}"
    );
    let policy_allowed =
        suspended.replace("block_public_policy: true", "block_public_policy: false");
    p.write("environments/dev.yaml", &policy_allowed);
    updates_in_place_and_sticks(&p, &moto, "aws_s3_bucket_public_access_block.data_public");
    p.write("environments/dev.yaml", &s3_managed);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");

    // The settings belong to one bucket: another bucket means new settings.
    let renamed = s3_managed.replace("bucket: cairn-demo-data", "bucket: cairn-demo-data-2");
    p.write("environments/dev.yaml", &renamed);
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    for address in [
        "aws_s3_bucket_lifecycle_configuration.data_lifecycle",
        "aws_s3_bucket_server_side_encryption_configuration.data_encryption",
    ] {
        assert!(
            stdout.contains(&format!("# {address} must be replaced")),
            "{stdout}"
        );
    }
    assert!(stdout.contains("# forces replacement"), "{stdout}");
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        !moto
            .s3_list_buckets()
            .contains("<Name>cairn-demo-data</Name>")
    );
    let lifecycle = moto.rest("GET", "/cairn-demo-data-2?lifecycle", "s3");
    assert!(lifecycle.contains("<Days>400</Days>"), "{lifecycle}");
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "the replacement must stick:\n{stdout}");

    // Dropping the settings from the spec removes them from the bucket, which stays.
    let bare: String = renamed
        .split("  data_encryption:\n")
        .next()
        .expect("the spec")
        .to_string();
    p.write("environments/dev.yaml", &bare);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("0 added, 0 changed, 2 destroyed."),
        "{stdout}"
    );
    // AWS would report its default SSE-S3 configuration here; moto reports none.
    let encryption = moto.rest("GET", "/cairn-demo-data-2?encryption", "s3");
    assert!(!encryption.contains("AES256"), "{encryption}");
    let lifecycle = moto.rest("GET", "/cairn-demo-data-2?lifecycle", "s3");
    assert!(
        lifecycle.contains("NoSuchLifecycleConfiguration"),
        "{lifecycle}"
    );

    // Destroy leaves no bucket, and with it no settings.
    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!moto.s3_list_buckets().contains("cairn-demo-data"));
    for setting in ["encryption", "lifecycle"] {
        let left = moto.rest("GET", &format!("/cairn-demo-data-2?{setting}"), "s3");
        assert!(left.contains("NoSuchBucket"), "{setting}: {left}");
    }
}

/// A bucket a teammate made by hand, and a spec that names it.
const HANDMADE: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  logs:
    type: aws_s3_bucket
    properties: { bucket: handmade-logs }
"#;

#[test]
fn a_bucket_that_exists_already_is_refused_not_taken_over_and_can_be_imported() {
    let moto = Moto::start();
    let made = moto.rest("PUT", "/handmade-logs", "s3");
    assert!(made.starts_with("HTTP/1.1 200"), "{made}");
    let p = Project::with(&[("environments/dev.yaml", HANDMADE)]);

    // AWS answers a create of a bucket the account owns with success in us-east-1: cairn
    // would have managed, and one day deleted, a bucket it never made.
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_ne!(code, 0, "{stdout}\n{stderr}");
    let said = format!("{stdout}\n{stderr}");
    assert!(
        said.contains("the bucket `handmade-logs` already exists")
            && said.contains("cairn import aws_s3_bucket.logs handmade-logs"),
        "{said}"
    );
    let tags = moto.rest("GET", "/handmade-logs?tagging", "s3");
    assert!(!tags.contains("cairn:address"), "taken over: {tags}");
    let (_, list, _) = run(&p, &moto, &["state", "list", "-e", "dev"]);
    assert!(!list.contains("aws_s3_bucket.logs"), "in state: {list}");

    // The way out the message names: import it, then apply the configured tags.
    let (code, stdout, stderr) = run(
        &p,
        &moto,
        &["import", "-e", "dev", "aws_s3_bucket.logs", "handmade-logs"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Resources: 0 added, 1 changed, 0 destroyed."),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let tags = moto.rest("GET", "/handmade-logs?tagging", "s3");
    assert!(tags.contains("<Value>dev</Value>"), "{tags}");
}

/// The hand-made bucket's spec with a second bucket beside it.
fn interrupted() -> String {
    format!(
        "{HANDMADE}  assets:\n    type: aws_s3_bucket\n    properties: {{ bucket: crashed-assets }}\n"
    )
}

/// Records, as an apply does before each create, the intent to create each of `addresses`
/// (an `aws_s3_bucket` named by `bucket`) at this moment, as the last thing a killed run wrote.
fn record_create_intents(p: &Project, buckets: &[(&str, &str)]) {
    use cairn::addr::ResourceMode;
    use cairn::state::local::LocalStore;
    use cairn::state::{ResourceState, ResourceStatus, State, StateStore as _};
    use std::sync::Arc;

    let mut state = State::new("dev");
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .ok();
    for (address, bucket) in buckets {
        let Ok(addr) = address.parse() else {
            panic!("bad address {address}");
        };
        state.resources.insert(
            addr,
            ResourceState {
                resource_type: "aws_s3_bucket".into(),
                mode: ResourceMode::Managed,
                provider: "aws".into(),
                status: ResourceStatus::Pending {
                    token: format!("{}/{address}/0123456789abcdef", state.lineage),
                    since,
                },
                id: None,
                attributes: Arc::new(cairn::value::Value::from_json(
                    &serde_json::json!({ "bucket": bucket, "tags": { "env": "dev" } }),
                )),
                dependencies: Vec::new(),
            },
        );
    }
    let store = LocalStore::new(
        cairn::state::default_state_path(p.path(), "dev"),
        "dev.json".into(),
        "dev".into(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    runtime
        .block_on(store.save(&mut state))
        .unwrap_or_else(|e| panic!("state: {e}"));
}

#[test]
fn after_a_crash_the_bucket_the_create_made_is_adopted_and_a_hand_made_one_is_not() {
    let moto = Moto::start();
    // A bucket someone made by hand before the run...
    let made = moto.rest("PUT", "/handmade-logs", "s3");
    assert!(made.starts_with("HTTP/1.1 200"), "{made}");
    std::thread::sleep(std::time::Duration::from_secs(7));
    // ...and a run killed with the creates of two buckets of the spec under way: the create of
    // `crashed-assets` reached S3 and the kill came before its tags, the other never got further
    // than its intent (before the look that would have refused the hand-made bucket).
    let p = Project::with(&[("environments/dev.yaml", &interrupted())]);
    record_create_intents(
        &p,
        &[
            ("aws_s3_bucket.logs", "handmade-logs"),
            ("aws_s3_bucket.assets", "crashed-assets"),
        ],
    );
    let made = moto.rest("PUT", "/crashed-assets", "s3");
    assert!(made.starts_with("HTTP/1.1 200"), "{made}");

    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_ne!(code, 0, "{stdout}\n{stderr}");
    let said = format!("{stdout}\n{stderr}");
    assert!(
        said.contains("cairn import aws_s3_bucket.logs handmade-logs"),
        "the hand-made bucket was not refused: {said}"
    );
    let (_, list, _) = run(&p, &moto, &["state", "list", "-e", "dev"]);
    assert!(list.contains("aws_s3_bucket.assets"), "not adopted: {list}");
    assert!(!list.contains("aws_s3_bucket.logs"), "taken over: {list}");
    let tags = moto.rest("GET", "/crashed-assets?tagging", "s3");
    assert!(
        tags.contains("<Value>aws_s3_bucket.assets</Value>") && tags.contains("<Value>dev</Value>"),
        "the adopted bucket was not given its tags: {tags}"
    );
    let tags = moto.rest("GET", "/handmade-logs?tagging", "s3");
    assert!(!tags.contains("cairn:address"), "taken over: {tags}");
    let buckets = moto.s3_list_buckets();
    assert_eq!(
        buckets.matches("<Name>crashed-assets</Name>").count(),
        1,
        "{buckets}"
    );
}
