//! The nightly drift check against a local moto_server: someone changes a tag by hand and deletes
//! a subnet; `cairn drift` finds both, exits 2 and writes the documented JSON; a refresh-only
//! apply accepts the drift, and a normal apply restores the spec.

mod common;

use common::Project;
use common::aws::{run, state_id};
use common::moto::Moto;

const NETWORK: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  vpc:
    type: aws_vpc
    properties:
      cidr_block: 10.0.0.0/16
      tags: { Name: demo }
  subnet:
    type: aws_subnet
    for_each: [us-east-1a, us-east-1b]
    properties:
      vpc_id: ${vpc.id}
      availability_zone: ${each.value}
      cidr_block: ${cidrsubnet("10.0.0.0/16", 8, index(["us-east-1a", "us-east-1b"], each.value) + 1)}
"#;

#[test]
fn drift_finds_a_tag_changed_by_hand_and_a_deleted_subnet() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", NETWORK)]);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = run(&p, &moto, &["drift", "-e", "dev"]);
    assert_eq!(code, 0, "a fresh apply has no drift:\n{stdout}\n{stderr}");

    // By hand, outside cairn: a tag edited in the console, a subnet deleted.
    let vpc_id = state_id(&p, &moto, "aws_vpc.vpc");
    let tagged = moto.ec2(&[
        ("Action", "CreateTags"),
        ("ResourceId.1", &vpc_id),
        ("Tag.1.Key", "Name"),
        ("Tag.1.Value", "edited-by-hand"),
    ]);
    assert!(tagged.starts_with("HTTP/1.1 200"), "{tagged}");
    // A bucket made by hand with the environment's tags, which no state tracks.
    let made = moto.rest("PUT", "/hand-made-logs", "s3");
    assert!(made.starts_with("HTTP/1.1 200"), "{made}");
    let tagged = moto.rest_xml(
        "PUT",
        "/hand-made-logs?tagging",
        "s3",
        "<Tagging><TagSet><Tag><Key>env</Key><Value>dev</Value></Tag></TagSet></Tagging>",
    );
    assert!(tagged.starts_with("HTTP/1.1 2"), "{tagged}");
    let subnet_id = state_id(&p, &moto, "aws_subnet.subnet[\"us-east-1b\"]");
    let deleted = moto.ec2(&[("Action", "DeleteSubnet"), ("SubnetId", &subnet_id)]);
    assert!(deleted.starts_with("HTTP/1.1 200"), "{deleted}");

    let (code, stdout, stderr) = run(
        &p,
        &moto,
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
    assert!(stdout.contains("# aws_vpc.vpc has changed"), "{stdout}");
    assert!(
        stdout.contains("# aws_subnet.subnet[\"us-east-1b\"] has been deleted"),
        "{stdout}"
    );
    assert!(
        stdout.contains("arn:aws:s3:::hand-made-logs (s3, provider `aws`)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Drift: 1 changed, 1 vanished outside cairn, 1 unmanaged."),
        "{stdout}"
    );

    let report: serde_json::Value = serde_json::from_str(&p.read("drift.json")).expect("JSON");
    assert_eq!(report["drifted"], true);
    assert_eq!(report["unmanaged_checked"], true);
    assert_eq!(
        report["unmanaged"],
        serde_json::json!([{
            "id": "arn:aws:s3:::hand-made-logs",
            "kind": "s3",
            "provider": "aws",
            "tags": { "env": "dev" }
        }])
    );
    let resources = report["resources"].as_array().expect("resources");
    let vpc = resources
        .iter()
        .find(|r| r["address"] == "aws_vpc.vpc")
        .expect("the VPC drifted");
    assert_eq!(vpc["status"], "changed");
    assert_eq!(vpc["id"], vpc_id.as_str());
    assert_eq!(vpc["planned_action"], "update");
    let tags = vpc["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .find(|a| a["name"] == "tags")
        .expect("tags drifted");
    assert_eq!(tags["before"]["Name"], "demo");
    assert_eq!(tags["after"]["Name"], "edited-by-hand");
    let subnet = resources
        .iter()
        .find(|r| r["address"] == "aws_subnet.subnet[\"us-east-1b\"]")
        .expect("the subnet vanished");
    assert_eq!(subnet["status"], "vanished");
    assert_eq!(subnet["planned_action"], "create");
    assert!(p.read("drift.md").contains("was deleted outside cairn"));

    // Apply restores the spec: the tag comes back and the subnet is created again.
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Apply complete! Resources: 1 added, 1 changed, 0 destroyed."),
        "{stdout}"
    );
    // The hand-made bucket is still unmanaged; once it is gone, the check is clean.
    let (code, stdout, stderr) = run(&p, &moto, &["drift", "-e", "dev"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Drift: 0 changed, 0 vanished outside cairn, 1 unmanaged."),
        "{stdout}"
    );
    let removed = moto.rest("DELETE", "/hand-made-logs", "s3");
    assert!(removed.starts_with("HTTP/1.1 204"), "{removed}");
    let (code, stdout, stderr) = run(&p, &moto, &["drift", "-e", "dev"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
}

#[test]
fn a_refresh_only_apply_accepts_a_hand_made_tag_into_state() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", NETWORK)]);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let vpc_id = state_id(&p, &moto, "aws_vpc.vpc");
    moto.ec2(&[
        ("Action", "CreateTags"),
        ("ResourceId.1", &vpc_id),
        ("Tag.1.Key", "owner"),
        ("Tag.1.Value", "ops"),
    ]);
    let (code, stdout, stderr) = run(
        &p,
        &moto,
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
    assert!(stdout.contains("# aws_vpc.vpc has changed"), "{stdout}");
    assert!(stdout.contains("+ \"owner\" = \"ops\""), "{stdout}");
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "accept.cairn"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = run(&p, &moto, &["drift", "-e", "dev"]);
    assert_eq!(code, 0, "accepted drift is no drift:\n{stdout}\n{stderr}");
}
