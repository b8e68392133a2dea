//! The repository's own reference stack (the datasets system: network and buckets on AWS, the
//! rest on the fake provider until its AWS types land): every environment validates, each plans
//! the sizes the seed asks for, and dev applies, converges, heals and destroys against moto.

mod common;

use common::Project;
use common::aws::{owned_in, state_id};
use common::moto::{Moto, xml_values};

/// Where the reference stack lives (seed 001: Tokyo).
const REGION: &str = "ap-northeast-1";

/// A copy of the repository's modules/ and environments/ in a throw-away directory, so plans and
/// applies never write into the checkout.
fn reference_stack() -> Project {
    let p = Project::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["modules", "environments"] {
        copy_dir(&root.join(dir), &p.file(dir));
    }
    p
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `cairn ARGS` on the reference stack; with `moto`, against it.
fn run(p: &Project, moto: Option<&Moto>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = p.cairn(args);
    cmd.env("DATASETS_DB_PASSWORD", "reference-stack-test-password");
    if let Some(moto) = moto {
        moto.configure(&mut cmd);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_environment_validates() {
    let p = reference_stack();
    for env in ["dev", "stg", "prd"] {
        let (code, stdout, stderr) = run(&p, None, &["validate", "-e", env]);
        assert_eq!(code, 0, "{env}: {stdout}\n{stderr}");
        assert!(stdout.starts_with("Success!"), "{stdout}");
    }
}

#[test]
fn environments_differ_in_size_not_in_shape() {
    let moto = Moto::start();
    let p = reference_stack();
    let count = |plan: &str, needle: &str| plan.matches(needle).count();
    let (_, dev, _) = run(&p, Some(&moto), &["plan", "-e", "dev"]);
    let (_, prd, stderr) = run(&p, Some(&moto), &["plan", "-e", "prd"]);
    assert!(prd.contains("Plan:"), "{stderr}");
    // Both: public, private and database subnets in two zones; prd: a multi-AZ database and
    // more service tasks.
    assert_eq!(count(&dev, "resource \"aws_subnet\""), 6, "{dev}");
    assert_eq!(count(&prd, "resource \"aws_subnet\""), 6, "{prd}");
    assert!(dev.contains("+ multi_az          = false"), "{dev}");
    assert!(prd.contains("+ multi_az          = true"), "{prd}");
    assert!(prd.contains("+ desired_count      = 4"), "{prd}");
    assert!(!prd.contains("reference-stack-test-password"));
}

/// The acceptance story, on the repository's own modules against moto: the network and
/// bucket modules apply from scratch, re-plan clean, take a tag change in place, plan a CIDR
/// change as a replacement, heal a subnet deleted out of band, and destroy without leftovers.
#[test]
fn the_reference_stack_applies_converges_heals_and_destroys_on_moto() {
    let moto = Moto::start();
    let p = reference_stack();
    let plan = || {
        run(
            &p,
            Some(&moto),
            &["plan", "-e", "dev", "--detailed-exitcode"],
        )
    };
    let apply = || run(&p, Some(&moto), &["apply", "-e", "dev", "--auto-approve"]);
    let (code, stdout, stderr) = apply();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("Apply complete!"), "{stdout}");
    assert_eq!(owned_in(&moto, REGION, "DescribeVpcs", "vpcId").len(), 1);
    assert_eq!(
        owned_in(&moto, REGION, "DescribeSubnets", "subnetId").len(),
        6
    );
    assert_eq!(
        owned_in(&moto, REGION, "DescribeVpcEndpoints", "vpcEndpointId").len(),
        2
    );
    assert_eq!(
        owned_in(&moto, REGION, "DescribeFlowLogs", "flowLogId").len(),
        1
    );
    let buckets = moto.s3_list_buckets();
    assert!(buckets.contains("datasets-dev-data"), "{buckets}");
    assert!(buckets.contains("datasets-dev-backups"), "{buckets}");

    let (code, stdout, stderr) = plan();
    assert_eq!(code, 0, "a second plan must be empty:\n{stdout}\n{stderr}");

    // A new environment tag reaches every taggable resource, in place.
    let env = p.read("environments/dev.yaml");
    p.write(
        "environments/dev.yaml",
        &env.replace(
            "tags: { env: dev, system: datasets }",
            "tags: { env: dev, system: datasets, owner: data-team }",
        ),
    );
    let (code, stdout, stderr) = plan();
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# module.network.aws_vpc.vpc will be updated in-place"),
        "{stdout}"
    );
    assert!(stdout.contains("Plan: 0 to add, "), "{stdout}");
    assert!(stdout.contains(" to change, 0 to destroy."), "{stdout}");
    let (code, stdout, stderr) = apply();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, _) = plan();
    assert_eq!(code, 0, "the tag change must stick:\n{stdout}");

    // Renumbering the public subnets cannot happen in place.
    let module = p.read("modules/network/module.yaml");
    p.write(
        "modules/network/module.yaml",
        &module.replace(
            "locals.zone_index[each.value] + 1)}",
            "locals.zone_index[each.value] + 5)}",
        ),
    );
    let (code, stdout, stderr) = plan();
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# module.network.aws_subnet.public[\"ap-northeast-1a\"] must be replaced"),
        "{stdout}"
    );
    assert!(stdout.contains("# forces replacement"), "{stdout}");
    p.write("modules/network/module.yaml", &module);

    // A database subnet deleted behind cairn's back is planned for creation again.
    let address = "module.network.aws_subnet.database[\"ap-northeast-1c\"]";
    let subnet = state_id(&p, &moto, address);
    let deleted = moto.ec2_in(REGION, &[("Action", "DeleteSubnet"), ("SubnetId", &subnet)]);
    assert!(deleted.contains("DeleteSubnetResponse"), "{deleted}");
    let (code, stdout, stderr) = plan();
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("# {address} will be created")),
        "{stdout}"
    );

    // Destroy leaves nothing cairn made.
    let (code, stdout, stderr) = run(&p, Some(&moto), &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for (action, id) in [
        ("DescribeVpcs", "vpcId"),
        ("DescribeSubnets", "subnetId"),
        ("DescribeInternetGateways", "internetGatewayId"),
        ("DescribeSecurityGroups", "groupId"),
        ("DescribeRouteTables", "routeTableId"),
        ("DescribeNetworkAcls", "networkAclId"),
        ("DescribeAddresses", "allocationId"),
        ("DescribeFlowLogs", "flowLogId"),
    ] {
        assert_eq!(
            owned_in(&moto, REGION, action, id),
            Vec::<String>::new(),
            "{action}"
        );
    }
    // Deleted endpoints stay listed for a while, in state `deleted` (moto like AWS).
    let endpoints = moto.ec2_in(REGION, &[("Action", "DescribeVpcEndpoints")]);
    let states = xml_values(&endpoints, "state");
    assert!(states.iter().all(|s| s == "deleted"), "{endpoints}");
    let buckets = moto.s3_list_buckets();
    assert!(!buckets.contains("datasets-dev-"), "{buckets}");
    let roles = moto.query("iam", "2010-05-08", &[("Action", "ListRoles")]);
    assert!(!roles.contains("datasets-dev-flow-logs"), "{roles}");
    let policies = moto.query(
        "iam",
        "2010-05-08",
        &[("Action", "ListPolicies"), ("Scope", "Local")],
    );
    assert!(!policies.contains("datasets-dev-flow-logs"), "{policies}");
    let groups = moto.json_in(REGION, "logs", "Logs_20140328.DescribeLogGroups", "{}");
    assert!(!groups.contains("/vpc/datasets-dev/flow-logs"), "{groups}");
    // KMS keys are never deleted at once: AWS (and moto) schedule them, 7 days here.
    let keys = moto.json_in(REGION, "kms", "TrentService.ListKeys", "{}");
    let ids: Vec<&str> = keys
        .split("\"KeyId\"")
        .skip(1)
        .filter_map(|s| s.split('"').nth(1))
        .collect();
    assert_eq!(ids.len(), 2, "one key per bucket: {keys}");
    for id in ids {
        let key = moto.json_in(
            REGION,
            "kms",
            "TrentService.DescribeKey",
            &format!("{{\"KeyId\": \"{id}\"}}"),
        );
        assert!(key.contains("PendingDeletion"), "{key}");
    }
}

#[test]
fn every_example_validates() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = 0;
    for example in std::fs::read_dir(&examples).unwrap().flatten() {
        let envs = example.path().join("environments");
        let Ok(files) = std::fs::read_dir(&envs) else {
            continue;
        };
        for file in files.flatten() {
            let name = file
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let out = assert_cmd::Command::cargo_bin("cairn")
                .unwrap()
                .arg("-C")
                .arg(example.path())
                .args(["validate", "-e", &name])
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}/{name}: {}",
                example.path().display(),
                String::from_utf8_lossy(&out.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 2, "examples/ holds environments to check");
}
