//! Issue 5's acceptance story, against moto: the repository's application modules (an ALB with an
//! HTTPS listener and a target group in front of an ECS service that autoscales; PostgreSQL with
//! a generated password kept in Secrets Manager and a read replica; Redis; alarms) apply from
//! scratch on a small network, the long creates overlap instead of queueing, a second plan is
//! empty, and the password is in Secrets Manager and nowhere in what cairn printed or wrote.
//!
//! moto answers at once where AWS takes minutes, so a proxy holds every status poll of RDS,
//! ElastiCache and ECS for a few seconds: the waits become long enough to see whether cairn runs
//! them side by side.

mod common;

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use common::Project;
use common::aws::run_through;
use common::faults::FaultProxy;
use common::moto::Moto;

const ENV: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev, system: shop }

resources:
  vpc:
    type: aws_vpc
    properties: { cidr_block: 10.0.0.0/16 }
  public:
    type: aws_subnet
    for_each: { a: 1, b: 2 }
    properties: { vpc_id: "${vpc.id}", cidr_block: "10.0.${each.value}.0/24", availability_zone: "us-east-1${each.key}" }
  private:
    type: aws_subnet
    for_each: { a: 11, b: 12 }
    properties: { vpc_id: "${vpc.id}", cidr_block: "10.0.${each.value}.0/24", availability_zone: "us-east-1${each.key}" }
  alb_sg:
    type: aws_security_group
    properties: { name: shop-dev-alb, description: Load balancer, vpc_id: "${vpc.id}" }
  app_sg:
    type: aws_security_group
    properties: { name: shop-dev-app, description: Application tasks, vpc_id: "${vpc.id}" }
  db_sg:
    type: aws_security_group
    properties: { name: shop-dev-db, description: PostgreSQL, vpc_id: "${vpc.id}" }
  cache_sg:
    type: aws_security_group
    properties: { name: shop-dev-cache, description: Redis, vpc_id: "${vpc.id}" }

modules:
  alerts:
    source: alerts
    inputs: { name: shop-dev }
  db:
    source: postgres
    inputs:
      name: shop-dev
      subnet_ids: ["${private[\"a\"].id}", "${private[\"b\"].id}"]
      security_group_id: ${db_sg.id}
      instance_class: db.t4g.medium
      storage_gb: 50
      replicas: 1
      disposable: true
      alarm_topic_arn: ${alerts.topic_arn}
  cache:
    source: redis
    inputs:
      name: shop-dev
      subnet_ids: ["${private[\"a\"].id}", "${private[\"b\"].id}"]
      security_group_id: ${cache_sg.id}
      node_type: cache.t4g.small
      shards: 2
      replicas: 1
      alarm_topic_arn: ${alerts.topic_arn}
      # moto keeps a deleted replication group `deleting` forever (AWS takes minutes).
      delete_timeout: 3s
  service:
    source: service
    inputs:
      name: shop-dev
      vpc_id: ${vpc.id}
      public_subnet_ids: ["${public[\"a\"].id}", "${public[\"b\"].id}"]
      private_subnet_ids: ["${private[\"a\"].id}", "${private[\"b\"].id}"]
      alb_security_group_id: ${alb_sg.id}
      app_security_group_id: ${app_sg.id}
      domain_name: shop-dev.example.test
      image: registry.example.test/shop/api:1.0.0
      desired_count: 2
      secrets: [{ name: DB_PASSWORD, valueFrom: "${db.password_secret_arn}" }]
      schedules:
        weekday: { schedule: "cron(0 8 ? * MON-FRI *)", min: 4, max: 10 }
        weekend: { schedule: "cron(0 8 ? * SAT,SUN *)", min: 2, max: 6 }
      alarm_topic_arn: ${alerts.topic_arn}

outputs:
  url: ${service.url}
  db_endpoint: ${db.endpoint}
  cache_endpoint: ${cache.endpoint}
"#;

/// The repository's modules beside the story's environment.
fn project() -> Project {
    let p = Project::with(&[("environments/dev.yaml", ENV)]);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("modules");
    for module in ["alerts", "postgres", "redis", "service"] {
        let from = root.join(module).join("module.yaml");
        p.write(
            &format!("modules/{module}/module.yaml"),
            &std::fs::read_to_string(&from).unwrap(),
        );
    }
    p
}

/// Every status poll of the three slow services: held, so each create waits a while.
const POLLS: &[&str] = &[
    "Action=DescribeDBInstances",
    "Action=DescribeReplicationGroups",
    "ContainerServiceV20141113.DescribeServices",
];
const HELD: Duration = Duration::from_secs(3);

/// `cairn apply` through `endpoint`, each output line with the moment it arrived.
fn timed_apply(p: &Project, moto: &Moto, endpoint: &str) -> (i32, Vec<(Duration, String)>, String) {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("cairn"));
    cmd.current_dir(p.path())
        .args(["apply", "-e", "dev", "--auto-approve"])
        .env("NO_COLOR", "1")
        .env_remove("CAIRN_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    moto.configure_process(&mut cmd);
    cmd.env("AWS_ENDPOINT_URL", endpoint);
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let lines: Vec<(Duration, String)> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .map(|line| (started.elapsed(), line))
        .collect();
    let code = child.wait().unwrap().code().unwrap_or(-1);
    (code, lines, errors.join().unwrap())
}

/// When `address`'s create started and ended, from the apply's progress lines.
fn create_window(lines: &[(Duration, String)], address: &str) -> (Duration, Duration) {
    let at = |suffix: &str| {
        lines
            .iter()
            .find(|(_, l)| l.starts_with(&format!("{address}: {suffix}")))
            .map(|(t, _)| *t)
            .unwrap_or_else(|| panic!("no `{address}: {suffix}` line"))
    };
    (at("Creating..."), at("Creation complete"))
}

/// The password as Secrets Manager holds it.
fn stored_password(moto: &Moto) -> String {
    let out = moto.json(
        "secretsmanager",
        "secretsmanager.GetSecretValue",
        "{\"SecretId\": \"shop-dev/db-password\"}",
    );
    out.split("\"SecretString\": \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no SecretString in {out}"))
        .to_string()
}

/// Every file under `dir`, recursively, as bytes.
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

#[test]
fn the_application_applies_with_long_creates_side_by_side_and_its_password_only_in_secrets_manager()
{
    let moto = Moto::start();
    let slow = FaultProxy::delaying(moto.port, POLLS, HELD);
    let p = project();
    let mut printed = String::new();

    let (code, stdout, stderr) = run_through(
        &p,
        &moto,
        &slow.endpoint(),
        &["plan", "-e", "dev", "--out", "app.plan"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    printed.push_str(&stdout);
    printed.push_str(&stderr);

    let started = Instant::now();
    let (code, lines, stderr) = timed_apply(&p, &moto, &slow.endpoint());
    let wall = started.elapsed();
    let stdout: String = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    printed.push_str(&stdout);
    printed.push_str(&stderr);

    // The three long creates, side by side: each was still in flight when the last one began.
    let long = [
        "module.db.aws_db_instance.db",
        "module.cache.aws_elasticache_replication_group.cache",
        "module.service.aws_ecs_service.service",
    ];
    let windows: Vec<(Duration, Duration)> =
        long.iter().map(|a| create_window(&lines, a)).collect();
    let serial: Duration = windows.iter().map(|(s, e)| *e - *s).sum();
    eprintln!("apply wall time {wall:.1?}; the long creates (each poll held {HELD:?}):");
    for (address, (start, end)) in long.iter().zip(&windows) {
        eprintln!(
            "  {address}: {start:.1?} .. {end:.1?} ({:.1?})",
            *end - *start
        );
    }
    eprintln!("  one after the other they would take {serial:.1?}");
    let last_start = windows.iter().map(|(s, _)| *s).max().unwrap();
    let first_end = windows.iter().map(|(_, e)| *e).min().unwrap();
    assert!(
        last_start < first_end,
        "the database, the cache and the service were never all in flight at once: {windows:?}"
    );
    assert!(
        wall < serial + Duration::from_secs(20),
        "wall {wall:?} vs serial {serial:?}"
    );
    let longest = windows.iter().map(|(s, e)| *e - *s).max().unwrap();
    assert!(
        wall < longest + serial,
        "the apply took about the sum of its long creates: {wall:?}"
    );

    let (code, stdout, stderr) = run_through(
        &p,
        &moto,
        &moto.endpoint(),
        &["plan", "-e", "dev", "--detailed-exitcode"],
    );
    assert_eq!(code, 0, "a second plan is empty:\n{stdout}\n{stderr}");
    printed.push_str(&stdout);
    printed.push_str(&stderr);
    for args in [
        &["output", "-e", "dev"][..],
        &["state", "show", "module.db.aws_db_instance.db", "-e", "dev"],
        &["show", "app.plan"],
        &["-v", "plan", "-e", "dev"],
    ] {
        let (_, stdout, stderr) = run_through(&p, &moto, &moto.endpoint(), args);
        printed.push_str(&stdout);
        printed.push_str(&stderr);
    }

    let password = stored_password(&moto);
    assert!(password.len() >= 32, "a generated password: {password:?}");
    assert!(
        !printed.contains(&password),
        "the password appeared in cairn's output"
    );
    for (path, bytes) in files_under(p.path()) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&password),
            "the password is in {}",
            path.display()
        );
    }

    // moto never finishes deleting a replication group: the destroy ends with the cache's
    // timeout, everything else gone, and the cache still recorded.
    let (code, stdout, stderr) = run_through(
        &p,
        &moto,
        &moto.endpoint(),
        &["destroy", "-e", "dev", "--auto-approve"],
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        format!("{stdout}{stderr}")
            .contains("did not become deleted within 3s (last seen: deleting)"),
        "{stdout}\n{stderr}"
    );
    let (_, list, _) = run_through(&p, &moto, &moto.endpoint(), &["state", "list", "-e", "dev"]);
    assert!(
        list.contains("module.cache.aws_elasticache_replication_group.cache"),
        "{list}"
    );
    assert!(!list.contains("module.db.aws_db_instance.db\n"), "{list}");
    assert!(!list.contains("module.service."), "{list}");
}
