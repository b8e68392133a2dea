//! Issue 10's "faults from the cloud", against moto behind a fault-injecting proxy
//! (`common::faults`): throttling errors, 500s and 503s, slow answers and dropped connections at
//! set rates. Apply still converges and the retries show with `-v`; a fault that outlives the
//! retries fails that operation with a message that names it, while independent work finishes,
//! state holds exactly what exists, and the next apply finishes the job.
//!
//! A fault other than a delay is answered by the proxy and never reaches moto, so whatever moto
//! holds afterwards was really made by cairn, and must be in state exactly once.

mod common;

use std::time::{Duration, Instant};

use common::Project;
use common::aws::{owned, run, run_through, state_id};
use common::faults::{Fault, FaultProxy, Rule};
use common::moto::{Moto, xml_values};

/// A network (a VPC, 4 subnets, two security groups and a rule between them) and a bucket.
const SPEC: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  vpc:
    type: aws_vpc
    properties: { cidr_block: 10.7.0.0/16, tags: { Name: faults } }
  subnet:
    type: aws_subnet
    count: 4
    properties:
      vpc_id: ${vpc.id}
      cidr_block: ${cidrsubnet("10.7.0.0/16", 8, count.index)}
  lb_sg:
    type: aws_security_group
    properties: { name: faults-lb, description: Load balancer, vpc_id: "${vpc.id}" }
  app_sg:
    type: aws_security_group
    properties: { name: faults-app, vpc_id: "${vpc.id}" }
  app_from_lb:
    type: aws_vpc_security_group_ingress_rule
    properties:
      security_group_id: ${app_sg.id}
      referenced_security_group_id: ${lb_sg.id}
      ip_protocol: tcp
      from_port: 8080
      to_port: 8080
  logs:
    type: aws_s3_bucket
    properties: { bucket: cairn-faults-logs, force_destroy: true, tags: { Name: logs } }
"#;

const SUBNETS: [&str; 4] = [
    "aws_subnet.subnet[0]",
    "aws_subnet.subnet[1]",
    "aws_subnet.subnet[2]",
    "aws_subnet.subnet[3]",
];

/// Issue 10.
const SEED: u64 = 10;

/// The addresses state holds.
fn state_list(p: &Project, moto: &Moto) -> Vec<String> {
    let (code, list, stderr) = run(p, moto, &["state", "list", "-e", "dev"]);
    assert_eq!(code, 0, "{list}\n{stderr}");
    list.lines().map(str::to_string).collect()
}

/// The names of the security groups cairn made in moto (a rule's reference to another group may
/// name it again).
fn owned_group_names(moto: &Moto) -> Vec<String> {
    let xml = moto.ec2(&[
        ("Action", "DescribeSecurityGroups"),
        ("Filter.1.Name", "tag-key"),
        ("Filter.1.Value.1", "cairn%3Aaddress"),
    ]);
    let mut names = xml_values(&xml, "groupName");
    names.sort();
    names.dedup();
    names
}

/// How many buckets moto has by this name.
fn buckets_named(moto: &Moto, name: &str) -> usize {
    moto.s3_list_buckets()
        .matches(&format!("<Name>{name}</Name>"))
        .count()
}

/// The cloud ids state records for `addresses`, sorted.
fn state_ids(p: &Project, moto: &Moto, addresses: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = addresses.iter().map(|a| state_id(p, moto, a)).collect();
    ids.sort();
    ids
}

#[test]
fn apply_converges_through_throttling_5xx_slow_answers_and_dropped_connections() {
    let started = Instant::now();
    let moto = Moto::start();
    // Every request is in for one of four failures, each about 15% of the time (the later rules
    // only see what the earlier ones let through), and a slow answer. A failure never hits the
    // SDK's last attempt of a call, so every one is a fault the retries get past.
    let proxy = FaultProxy::start(
        moto.port,
        vec![
            Rule::at_rate("", Fault::Throttle, 0.15),
            Rule::at_rate("", Fault::ServerError(503), 0.18),
            Rule::at_rate("", Fault::ServerError(500), 0.21),
            Rule::at_rate("", Fault::Drop, 0.27),
            Rule::at_rate("", Fault::Delay(Duration::from_millis(200)), 0.3),
        ],
        SEED,
    );
    let p = Project::with(&[("environments/dev.yaml", SPEC)]);

    let (code, stdout, stderr) = run_through(
        &p,
        &moto,
        &proxy.endpoint(),
        &["-v", "apply", "-e", "dev", "--auto-approve"],
    );
    let injected = proxy.injected();
    eprintln!("{injected}");
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Apply complete! Resources: 9 added, 0 changed, 0 destroyed."),
        "{stdout}"
    );
    // The SDK's retries, each with what the attempt before got.
    let retries: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("retrying ") && l.contains("(attempt "))
        .collect();
    assert!(!retries.is_empty(), "no retry shown with -v:\n{stderr}");
    assert!(
        retries
            .iter()
            .any(|l| l.contains("(attempt 2 of 3) after ")),
        "{stderr}"
    );

    // A plan through the same faults reads everything back and finds nothing to do.
    let (code, stdout, stderr) = run_through(
        &p,
        &moto,
        &proxy.endpoint(),
        &["-v", "plan", "-e", "dev", "--detailed-exitcode"],
    );
    assert_eq!(
        code, 0,
        "a plan through the faults must be empty:\n{stdout}\n{stderr}"
    );

    let injected = proxy.injected();
    eprintln!("{injected}");
    for fault in [
        Fault::Throttle,
        Fault::ServerError(503),
        Fault::ServerError(500),
        Fault::Drop,
        Fault::Delay(Duration::from_millis(200)),
    ] {
        assert!(
            injected.count(fault) > 0,
            "no {fault} was injected (seed {SEED}):\n{injected}"
        );
    }

    // Straight to moto, without faults: nothing to do either.
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("No changes."), "{stdout}");

    // Everything cairn made is in state once, and nothing was made twice.
    let mut expected: Vec<String> = [
        "aws_vpc.vpc",
        "aws_security_group.lb_sg",
        "aws_security_group.app_sg",
        "aws_vpc_security_group_ingress_rule.app_from_lb",
        "aws_s3_bucket.logs",
    ]
    .iter()
    .chain(&SUBNETS)
    .map(|a| a.to_string())
    .collect();
    expected.sort();
    let mut listed = state_list(&p, &moto);
    listed.sort();
    assert_eq!(listed, expected);
    assert_eq!(
        owned(&moto, "DescribeVpcs", "vpcId"),
        vec![state_id(&p, &moto, "aws_vpc.vpc")]
    );
    assert_eq!(
        owned(&moto, "DescribeSubnets", "subnetId"),
        state_ids(&p, &moto, &SUBNETS)
    );
    assert_eq!(
        owned(&moto, "DescribeSecurityGroups", "groupId"),
        state_ids(
            &p,
            &moto,
            &["aws_security_group.lb_sg", "aws_security_group.app_sg"]
        )
    );
    assert_eq!(buckets_named(&moto, "cairn-faults-logs"), 1);
    eprintln!("took {:.1?}", started.elapsed());
}

#[test]
fn a_fault_that_outlives_the_retries_fails_that_operation_and_independent_work_finishes() {
    let started = Instant::now();
    let moto = Moto::start();
    // One security group's create is always answered 503: the SDK's three attempts fail, and so
    // do the engine's retries of what it takes for throttling.
    let proxy = FaultProxy::start(
        moto.port,
        vec![Rule::always(
            "GroupName=faults-app",
            Fault::ServerError(503),
        )],
        SEED,
    );
    let p = Project::with(&[("environments/dev.yaml", SPEC)]);

    let (code, stdout, stderr) = run_through(
        &p,
        &moto,
        &proxy.endpoint(),
        &["-v", "apply", "-e", "dev", "--auto-approve"],
    );
    let injected = proxy.injected();
    eprintln!("{injected}\napply took {:.1?}", started.elapsed());
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    // The SDK's three attempts, and more: the engine retried on top of them.
    assert!(injected.count(Fault::ServerError(503)) > 3, "{injected}");
    assert!(
        injected
            .faults
            .iter()
            .all(|(request, _)| request.contains("CreateSecurityGroup")),
        "{injected}"
    );
    // What failed, on what, and what the cloud said; the retries on the way, with -v.
    assert!(
        stderr.contains("Error: creating aws_security_group.app_sg: CreateSecurityGroup:"),
        "{stderr}"
    );
    assert!(stderr.contains("Unavailable"), "{stderr}");
    assert!(
        stderr.contains("retrying ec2.CreateSecurityGroup (attempt 3 of 3) after HTTP 503"),
        "{stderr}"
    );
    assert!(stderr.contains("throttled, retrying"), "{stderr}");
    // Its dependent is skipped, naming why; nothing else is.
    assert!(
        stderr.contains(
            "Skipped: create aws_vpc_security_group_ingress_rule.app_from_lb: dependency aws_security_group.app_sg failed"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("apply failed: 1 operation failed, 1 skipped"),
        "{stderr}"
    );

    // Independent work finished and is recorded: the VPC, the subnets, the other group, the
    // bucket.
    let listed = state_list(&p, &moto);
    for address in [
        "aws_vpc.vpc",
        "aws_security_group.lb_sg",
        "aws_s3_bucket.logs",
    ]
    .iter()
    .chain(&SUBNETS)
    {
        assert!(listed.iter().any(|l| l == address), "{address}: {listed:?}");
    }
    assert_eq!(
        owned(&moto, "DescribeVpcs", "vpcId"),
        vec![state_id(&p, &moto, "aws_vpc.vpc")]
    );
    assert_eq!(
        owned(&moto, "DescribeSubnets", "subnetId"),
        state_ids(&p, &moto, &SUBNETS)
    );
    assert_eq!(buckets_named(&moto, "cairn-faults-logs"), 1);
    // The failed group and its rule: in neither state nor moto.
    for address in [
        "aws_security_group.app_sg",
        "aws_vpc_security_group_ingress_rule.app_from_lb",
    ] {
        assert!(
            !listed.iter().any(|l| l == address),
            "{address}: {listed:?}"
        );
    }
    assert_eq!(owned_group_names(&moto), ["faults-lb"]);

    // The cloud recovers: the next apply makes just what is missing, and then there is nothing
    // left to do.
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Apply complete! Resources: 2 added, 0 changed, 0 destroyed."),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(owned_group_names(&moto), ["faults-app", "faults-lb"]);
    assert_eq!(
        owned(&moto, "DescribeSecurityGroups", "groupId"),
        state_ids(
            &p,
            &moto,
            &["aws_security_group.lb_sg", "aws_security_group.app_sg"]
        )
    );
    eprintln!("took {:.1?}", started.elapsed());
}
