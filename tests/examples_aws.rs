//! The two AWS reference examples of issue 7, each `examples/<name>/` using the repository's
//! top-level modules by relative path: ecs-blue-green (seed 002) and eldonia (seed 003). Every
//! environment validates; dev and prd plan as their snapshots say; dev applies on moto from
//! scratch, re-plans empty, plans a one-input change as only what that input touches, and
//! destroys everything cairn owns (but the cache moto never finishes deleting).

mod common;

use common::aws::owned_in;
use common::moto::{Moto, xml_values};
use common::{Project, example};

/// Where both examples live (seeds 002 and 003: Tokyo).
const REGION: &str = "ap-northeast-1";

/// `cairn -C examples/<name> ARGS` in `p`; with `moto`, against it.
fn run(p: &Project, name: &str, moto: Option<&Moto>, args: &[&str]) -> (i32, String, String) {
    let dir = format!("examples/{name}");
    let mut all = vec!["-C", dir.as_str()];
    all.extend_from_slice(args);
    let mut cmd = p.cairn(&all);
    // moto never finishes deleting a replication group: a destroy waits this long for it.
    cmd.env("ELDONIA_CACHE_DELETE_TIMEOUT", "3s");
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

/// The resource headers of a plan (`  # module.app.aws_lb_listener.https will be ...`).
fn planned(plan: &str) -> Vec<&str> {
    plan.lines()
        .filter(|l| l.starts_with("  # "))
        .map(str::trim)
        .collect()
}

/// What `cairn state show ADDRESS` prints for the example's dev environment.
fn state_show(p: &Project, name: &str, moto: &Moto, address: &str) -> String {
    let (code, show, stderr) = run(
        p,
        name,
        Some(moto),
        &["state", "show", address, "-e", "dev"],
    );
    assert_eq!(code, 0, "{show}\n{stderr}");
    show
}

#[test]
fn every_environment_of_both_examples_validates() {
    for name in ["ecs-blue-green", "eldonia"] {
        let p = example(name);
        for env in ["dev", "stg", "prd"] {
            let (code, stdout, stderr) = run(&p, name, None, &["validate", "-e", env]);
            assert_eq!(code, 0, "{name} {env}: {stdout}\n{stderr}");
            assert!(stdout.starts_with("Success!"), "{stdout}");
        }
    }
}

/// Module sources may climb to the repository's root (so an example reaches the top-level
/// modules/), never above it; outside any repository, not above the project directory.
#[test]
fn an_example_reaches_the_top_level_modules_only_inside_a_repository() {
    let env = "environment: dev\nproviders:\n  aws: { region: ap-northeast-1 }\nmodules:\n  alerts:\n    source: ../../../modules/alerts\n    inputs: { name: demo }\n";
    let alerts = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("modules/alerts/module.yaml"),
    )
    .unwrap();
    let p = Project::with(&[
        ("modules/alerts/module.yaml", alerts.as_str()),
        ("examples/demo/environments/dev.yaml", env),
    ]);
    let (code, stdout, stderr) = run(&p, "demo", None, &["validate", "-e", "dev"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "module source `../../../modules/alerts` is outside the project directory: its `..` steps climb above the project root"
        ),
        "{stderr}"
    );
    std::fs::create_dir_all(p.file(".git")).unwrap();
    let (code, stdout, stderr) = run(&p, "demo", None, &["validate", "-e", "dev"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    // One step more leaves the repository.
    p.write(
        "examples/demo/environments/dev.yaml",
        &env.replace("../../../modules/alerts", "../../../../modules/alerts"),
    );
    let (code, _, stderr) = run(&p, "demo", None, &["validate", "-e", "dev"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("is outside the project directory"),
        "{stderr}"
    );
}

#[test]
fn ecs_blue_green_plans_match_their_snapshots() {
    let moto = Moto::start();
    let p = example("ecs-blue-green");
    let (code, dev, stderr) = run(&p, "ecs-blue-green", Some(&moto), &["plan", "-e", "dev"]);
    assert_eq!(code, 0, "{dev}\n{stderr}");
    let (code, prd, stderr) = run(&p, "ecs-blue-green", Some(&moto), &["plan", "-e", "prd"]);
    assert_eq!(code, 0, "{prd}\n{stderr}");
    // Same shape, other sizes: both colors everywhere, prd's database multi-AZ with a replica.
    for plan in [&dev, &prd] {
        assert!(
            plan.contains("# module.app.aws_ecs_service.service[\"blue\"] will be created"),
            "{plan}"
        );
        assert!(
            plan.contains("# module.app.aws_ecs_service.service[\"green\"] will be created"),
            "{plan}"
        );
    }
    assert!(
        prd.contains("# module.db.aws_db_instance.replica[0] will be created"),
        "{prd}"
    );
    assert!(
        !dev.contains("# module.db.aws_db_instance.replica["),
        "{dev}"
    );
    insta::assert_snapshot!("ecs_blue_green_dev_plan", dev);
    insta::assert_snapshot!("ecs_blue_green_prd_plan", prd);
    // stg: the sizes between; its plan is pinned as well.
    let (code, stg, stderr) = run(&p, "ecs-blue-green", Some(&moto), &["plan", "-e", "stg"]);
    assert_eq!(code, 0, "{stg}\n{stderr}");
    insta::assert_snapshot!("ecs_blue_green_stg_plan", stg);
}

#[test]
fn eldonia_plans_match_their_snapshots() {
    let moto = Moto::start();
    let p = example("eldonia");
    let (code, dev, stderr) = run(&p, "eldonia", Some(&moto), &["plan", "-e", "dev"]);
    assert_eq!(code, 0, "{dev}\n{stderr}");
    let (code, prd, stderr) = run(&p, "eldonia", Some(&moto), &["plan", "-e", "prd"]);
    assert_eq!(code, 0, "{prd}\n{stderr}");
    // dev: a writer alone; prd: two readers and the Osaka standby.
    assert!(
        !dev.contains("# module.db.aws_rds_cluster_instance.reader["),
        "{dev}"
    );
    assert!(
        prd.contains("# module.db.aws_rds_cluster_instance.reader[1] will be created"),
        "{prd}"
    );
    assert!(!dev.contains("module.dr_network."), "{dev}");
    assert!(
        prd.contains("# module.dr_network.aws_vpc.vpc will be created"),
        "{prd}"
    );
    assert!(
        prd.contains("# module.dr_media.aws_s3_bucket.bucket will be created"),
        "{prd}"
    );
    insta::assert_snapshot!("eldonia_dev_plan", dev);
    insta::assert_snapshot!("eldonia_prd_plan", prd);
    // stg: the sizes between; its plan is pinned as well.
    let (code, stg, stderr) = run(&p, "eldonia", Some(&moto), &["plan", "-e", "stg"]);
    assert_eq!(code, 0, "{stg}\n{stderr}");
    insta::assert_snapshot!("eldonia_stg_plan", stg);
}

/// Seed 002's blue-green switch on moto: dev applies from scratch and re-plans empty; moving
/// `active_color` from blue to green plans one in-place update of the HTTPS listener and nothing
/// else, applies, and sticks; destroy leaves nothing cairn owns.
#[test]
fn ecs_blue_green_applies_switches_to_green_and_destroys_on_moto() {
    const NAME: &str = "ecs-blue-green";
    let moto = Moto::start();
    let p = example(NAME);
    let plan = || {
        run(
            &p,
            NAME,
            Some(&moto),
            &["plan", "-e", "dev", "--detailed-exitcode"],
        )
    };
    let apply = || {
        run(
            &p,
            NAME,
            Some(&moto),
            &["apply", "-e", "dev", "--auto-approve"],
        )
    };

    let (code, stdout, stderr) = apply();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("Apply complete!"), "{stdout}");
    assert_eq!(owned_in(&moto, REGION, "DescribeVpcs", "vpcId").len(), 1);
    assert_eq!(
        owned_in(&moto, REGION, "DescribeSubnets", "subnetId").len(),
        6
    );
    let (code, stdout, stderr) = plan();
    assert_eq!(code, 0, "a second plan must be empty:\n{stdout}\n{stderr}");

    // The switch: one line of the environment, one in-place update of the listener.
    let env = p.read("examples/ecs-blue-green/environments/dev.yaml");
    assert!(env.contains("active_color: blue\n"), "{env}");
    p.write(
        "examples/ecs-blue-green/environments/dev.yaml",
        &env.replace("active_color: blue\n", "active_color: green\n"),
    );
    let (code, stdout, stderr) = plan();
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert_eq!(
        planned(&stdout),
        vec!["# module.app.aws_lb_listener.https will be updated in-place"],
        "{stdout}"
    );
    assert!(
        stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{stdout}"
    );
    let (code, stdout, stderr) = apply();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = plan();
    assert_eq!(code, 0, "the switch must stick:\n{stdout}\n{stderr}");
    let listener = state_show(&p, NAME, &moto, "module.app.aws_lb_listener.https");
    assert!(
        listener.contains("targetgroup/bluegreen-dev-green/"),
        "{listener}"
    );
    // moto serves the listener's new target too, not only state.
    let alb = state_show(&p, NAME, &moto, "module.app.aws_lb.alb");
    let alb_arn = alb
        .lines()
        .find_map(|l| l.strip_prefix("id       = "))
        .unwrap_or_else(|| panic!("no id in {alb}"));
    let encoded = alb_arn.replace(':', "%3A").replace('/', "%2F");
    let listeners = moto.query_in(
        REGION,
        "elasticloadbalancing",
        "2015-12-01",
        &[
            ("Action", "DescribeListeners"),
            ("LoadBalancerArn", &encoded),
        ],
    );
    assert!(
        listeners.contains("targetgroup/bluegreen-dev-green/"),
        "{listeners}"
    );
    assert!(
        !listeners.contains("targetgroup/bluegreen-dev-blue/"),
        "{listeners}"
    );

    // Destroy: no cache here, so nothing is left.
    let (code, stdout, stderr) = run(
        &p,
        NAME,
        Some(&moto),
        &["destroy", "-e", "dev", "--auto-approve"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, list, stderr) = run(&p, NAME, Some(&moto), &["state", "list", "-e", "dev"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(list.trim(), "", "{list}");
    assert_eq!(
        owned_in(&moto, REGION, "DescribeVpcs", "vpcId"),
        Vec::<String>::new()
    );
    let balancers = moto.query_in(
        REGION,
        "elasticloadbalancing",
        "2015-12-01",
        &[("Action", "DescribeLoadBalancers")],
    );
    assert_eq!(
        xml_values(&balancers, "LoadBalancerName"),
        Vec::<String>::new()
    );
    let instances = moto.query_in(
        REGION,
        "rds",
        "2014-10-31",
        &[("Action", "DescribeDBInstances")],
    );
    assert!(!instances.contains("<DBInstanceIdentifier>"), "{instances}");
    let alarms = moto.query_in(
        REGION,
        "monitoring",
        "2010-08-01",
        &[("Action", "DescribeAlarms")],
    );
    assert!(!alarms.contains("bluegreen-dev-"), "{alarms}");
    let secrets = moto.json_in(REGION, "secretsmanager", "secretsmanager.ListSecrets", "{}");
    assert!(!secrets.contains("bluegreen-dev/"), "{secrets}");
    let buckets = moto.s3_list_buckets();
    assert!(!buckets.contains("bluegreen-dev-"), "{buckets}");
    let roles = moto.query("iam", "2010-05-08", &[("Action", "ListRoles")]);
    assert!(!roles.contains("bluegreen-dev-"), "{roles}");
}

/// Seed 003 on moto: dev (Route 53, CloudFront with its us-east-1 certificate, ALB, ECS, Aurora,
/// Redis, media bucket) applies from scratch and re-plans empty; raising the backend's maximum
/// capacity plans one in-place update of its scaling target; destroy removes everything but the
/// cache moto never finishes deleting (and the network it sits in).
#[test]
fn eldonia_applies_scales_and_destroys_on_moto() {
    const NAME: &str = "eldonia";
    let moto = Moto::start();
    let p = example(NAME);
    let plan = || {
        run(
            &p,
            NAME,
            Some(&moto),
            &["plan", "-e", "dev", "--detailed-exitcode"],
        )
    };
    let apply = || {
        run(
            &p,
            NAME,
            Some(&moto),
            &["apply", "-e", "dev", "--auto-approve"],
        )
    };

    let (code, stdout, stderr) = apply();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("Apply complete!"), "{stdout}");
    assert_eq!(owned_in(&moto, REGION, "DescribeVpcs", "vpcId").len(), 1);
    // CloudFront's certificate is in us-east-1 (the aws.global provider), the rest in Tokyo.
    let certificate = state_show(
        &p,
        NAME,
        &moto,
        "module.edge.aws_acm_certificate.certificate",
    );
    assert!(
        certificate.contains("arn:aws:acm:us-east-1:"),
        "{certificate}"
    );
    let distributions = || moto.rest_xml("GET", "/2020-05-31/distribution", "cloudfront", "");
    assert!(
        distributions().contains("<Comment>eldonia-dev</Comment>"),
        "{}",
        distributions()
    );
    let buckets = moto.s3_list_buckets();
    assert!(buckets.contains("eldonia-dev-media"), "{buckets}");
    let (code, stdout, stderr) = plan();
    assert_eq!(code, 0, "a second plan must be empty:\n{stdout}\n{stderr}");

    // One input: the backend may scale to 6 tasks instead of 4.
    let env = p.read("examples/eldonia/environments/dev.yaml");
    assert!(env.contains("max_capacity: 4\n"), "{env}");
    p.write(
        "examples/eldonia/environments/dev.yaml",
        &env.replace("max_capacity: 4\n", "max_capacity: 6\n"),
    );
    let (code, stdout, stderr) = plan();
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert_eq!(
        planned(&stdout),
        vec!["# module.backend.aws_appautoscaling_target.scaling will be updated in-place"],
        "{stdout}"
    );
    let (code, stdout, stderr) = apply();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = plan();
    assert_eq!(code, 0, "the change must stick:\n{stdout}\n{stderr}");

    // Destroy: everything but what waits for the cache moto never finishes deleting.
    let (code, stdout, stderr) = run(
        &p,
        NAME,
        Some(&moto),
        &["destroy", "-e", "dev", "--auto-approve"],
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains(
            "ElastiCache replication group eldonia-dev did not become deleted within 3s (last seen: deleting)"
        ),
        "{stdout}\n{stderr}"
    );
    let (_, list, _) = run(&p, NAME, Some(&moto), &["state", "list", "-e", "dev"]);
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
    assert!(
        !distributions().contains("<Comment>"),
        "{}",
        distributions()
    );
    let zones = moto.rest_xml("GET", "/2013-04-01/hostedzone", "route53", "");
    assert!(!zones.contains("eldonia.example.com"), "{zones}");
    let clusters = moto.query_in(
        REGION,
        "rds",
        "2014-10-31",
        &[("Action", "DescribeDBClusters")],
    );
    assert!(!clusters.contains("<DBClusterIdentifier>"), "{clusters}");
    let buckets = moto.s3_list_buckets();
    assert!(!buckets.contains("eldonia-dev-"), "{buckets}");
    let balancers = moto.query_in(
        REGION,
        "elasticloadbalancing",
        "2015-12-01",
        &[("Action", "DescribeLoadBalancers")],
    );
    assert_eq!(
        xml_values(&balancers, "LoadBalancerName"),
        Vec::<String>::new()
    );
    let certificates = moto.json("acm", "CertificateManager.ListCertificates", "{}");
    assert!(
        !certificates.contains("eldonia.example.com"),
        "{certificates}"
    );
    let certificates = moto.json_in(REGION, "acm", "CertificateManager.ListCertificates", "{}");
    assert!(
        !certificates.contains("eldonia.example.com"),
        "{certificates}"
    );
    let secrets = moto.json_in(REGION, "secretsmanager", "secretsmanager.ListSecrets", "{}");
    assert!(!secrets.contains("eldonia-dev/"), "{secrets}");
    let roles = moto.query("iam", "2010-05-08", &[("Action", "ListRoles")]);
    assert!(!roles.contains("eldonia-dev-task-execution"), "{roles}");
}

#[test]
fn eldonia_prd_applies_tokyo_and_the_osaka_standby_and_refuses_to_destroy_its_database() {
    const NAME: &str = "eldonia";
    // prd runs 4 tasks per service: moto must report as many for the services to be stable.
    let moto = Moto::start_with_running_tasks(4);
    let p = example(NAME);
    let (code, stdout, stderr) = run(
        &p,
        NAME,
        Some(&moto),
        &["apply", "-e", "prd", "--auto-approve"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("Apply complete!"), "{stdout}");
    // The disaster-recovery region holds its own network and media bucket.
    assert_eq!(
        owned_in(&moto, "ap-northeast-3", "DescribeVpcs", "vpcId").len(),
        1
    );
    assert_eq!(owned_in(&moto, REGION, "DescribeVpcs", "vpcId").len(), 1);
    let (code, stdout, stderr) = run(
        &p,
        NAME,
        Some(&moto),
        &["plan", "-e", "prd", "--detailed-exitcode"],
    );
    assert_eq!(code, 0, "a second plan must be empty:\n{stdout}\n{stderr}");
    // prd's database is protected from deletion: destroy stops there and says why.
    let (code, stdout, stderr) = run(
        &p,
        NAME,
        Some(&moto),
        &["destroy", "-e", "prd", "--auto-approve"],
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let said = format!("{stdout}{stderr}").to_lowercase();
    assert!(
        said.contains("deletion protection") || said.contains("deletion_protection"),
        "{stdout}\n{stderr}"
    );
}
