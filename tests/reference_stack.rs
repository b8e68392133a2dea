//! The repository's own reference stack (the datasets system, seed 001, all on AWS): every
//! environment validates, each plans the sizes the seed asks for, and dev applies, converges,
//! heals and destroys against moto.

mod common;

use common::aws::{owned_in, state_id};
use common::moto::Moto;
use common::{Project, copy_dir};

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

/// `cairn ARGS` on the reference stack; with `moto`, against it.
fn run(p: &Project, moto: Option<&Moto>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = p.cairn(args);
    // moto never finishes deleting a replication group: a destroy waits this long for it.
    cmd.env("DATASETS_CACHE_DELETE_TIMEOUT", "3s");
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
    // Both: public, private and database subnets in two zones; prd: a multi-AZ database with
    // two read replicas, more service tasks, two shards of Redis.
    assert_eq!(count(&dev, "resource \"aws_subnet\""), 6, "{dev}");
    assert_eq!(count(&prd, "resource \"aws_subnet\""), 6, "{prd}");
    let set = |plan: &str, attr: &str, value: &str| {
        plan.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with(&format!("+ {attr} ")) && l.ends_with(&format!("= {value}"))
        })
    };
    assert!(set(&dev, "multi_az", "false"), "{dev}");
    assert!(set(&prd, "multi_az", "true"), "{prd}");
    assert!(set(&dev, "desired_count", "2"), "{dev}");
    assert!(set(&prd, "desired_count", "4"), "{prd}");
    assert!(set(&prd, "num_node_groups", "2"), "{prd}");
    assert_eq!(
        count(&dev, "# module.db.aws_db_instance.replica["),
        0,
        "{dev}"
    );
    assert_eq!(
        count(&prd, "# module.db.aws_db_instance.replica["),
        2,
        "{prd}"
    );
    // Each environment's whole plan is pinned: a change to a shared module shows here first.
    let (code, stg, stderr) = run(&p, Some(&moto), &["plan", "-e", "stg"]);
    assert_eq!(code, 0, "{stg}\n{stderr}");
    insta::assert_snapshot!("datasets_dev_plan", dev);
    insta::assert_snapshot!("datasets_stg_plan", stg);
    insta::assert_snapshot!("datasets_prd_plan", prd);
}

/// The acceptance story, on the repository's own modules against moto: the whole dev
/// environment (network, ALB and ECS service, PostgreSQL, Redis, buckets, alarms) applies from
/// scratch, re-plans clean, takes a tag change in place, plans a CIDR change as a replacement,
/// heals a subnet deleted out of band, and destroys everything but the cache moto never finishes
/// deleting (and the network it sits in).
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

    // Destroy removes everything but what waits for the cache: moto never finishes deleting a
    // replication group, so the destroy ends with its timeout and keeps it (and the network it
    // sits in) in state.
    let (code, stdout, stderr) = run(&p, Some(&moto), &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains(
            "ElastiCache replication group datasets-dev did not become deleted within 3s (last seen: deleting)"
        ),
        "{stdout}\n{stderr}"
    );
    let (_, list, _) = run(&p, Some(&moto), &["state", "list", "-e", "dev"]);
    for address in list.lines() {
        assert!(
            address.starts_with("module.cache.") || address.starts_with("module.network."),
            "{address} outlived the destroy:\n{list}"
        );
    }
    assert!(
        list.contains("module.cache.aws_elasticache_replication_group.cache"),
        "{list}"
    );
    let buckets = moto.s3_list_buckets();
    assert!(!buckets.contains("datasets-dev-"), "{buckets}");
    let instances = moto.query_in(
        REGION,
        "rds",
        "2014-10-31",
        &[("Action", "DescribeDBInstances")],
    );
    assert!(!instances.contains("<DBInstanceIdentifier>"), "{instances}");
    let balancers = moto.query_in(
        REGION,
        "elasticloadbalancing",
        "2015-12-01",
        &[("Action", "DescribeLoadBalancers")],
    );
    assert!(!balancers.contains("<LoadBalancerName>"), "{balancers}");
    let alarms = moto.query_in(
        REGION,
        "monitoring",
        "2010-08-01",
        &[("Action", "DescribeAlarms")],
    );
    assert!(!alarms.contains("datasets-dev-api-"), "{alarms}");
    assert!(!alarms.contains("datasets-dev-db-"), "{alarms}");
    let roles = moto.query("iam", "2010-05-08", &[("Action", "ListRoles")]);
    assert!(!roles.contains("datasets-dev-task-execution"), "{roles}");
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
