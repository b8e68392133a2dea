//! The application tier's AWS types as a user lives them, against moto: secrets first — a
//! generated database password stored in Secrets Manager without appearing anywhere else.
//!
//! moto diverges from AWS where noted in comments; the adapter is written for AWS.

mod common;

use common::Project;
use common::aws::{imports_cleanly, run, updates_in_place_and_sticks};
use common::moto::Moto;

const SECRETS: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  db_password:
    type: random_password
    properties: { length: 32, override_special: "!#%-_" }
  db_secret:
    type: aws_secretsmanager_secret
    properties:
      name: datasets/dev/db-password
      description: PostgreSQL master password
      recovery_window_in_days: 0
  db_secret_value:
    type: aws_secretsmanager_secret_version
    properties:
      secret_id: ${db_secret.id}
      secret_string: ${db_password.result}
"#;

/// The password as Secrets Manager holds it: the one place it may exist.
fn stored_secret(moto: &Moto, name: &str) -> String {
    let out = moto.json(
        "secretsmanager",
        "secretsmanager.GetSecretValue",
        &format!("{{\"SecretId\": \"{name}\"}}"),
    );
    let value = out
        .split("\"SecretString\": \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no SecretString in {out}"));
    value.to_string()
}

#[test]
fn a_generated_password_goes_to_secrets_manager_and_nowhere_else() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", SECRETS)]);
    let (code, plan, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--json", "plan.json"]);
    assert_eq!(code, 0, "{plan}\n{stderr}");
    let (code, applied, log) = run(&p, &moto, &["-vv", "apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{applied}\n{log}");
    let password = stored_secret(&moto, "datasets/dev/db-password");
    assert_eq!(password.chars().count(), 32, "{password}");
    let (_, shown, _) = run(
        &p,
        &moto,
        &[
            "state",
            "show",
            "aws_secretsmanager_secret_version.db_secret_value",
            "-e",
            "dev",
        ],
    );
    let (code, replan, _) = run(
        &p,
        &moto,
        &["-vv", "plan", "-e", "dev", "--detailed-exitcode"],
    );
    assert_eq!(
        code, 0,
        "the stored value matches the digest state keeps:\n{replan}"
    );
    for (what, text) in [
        ("plan", plan),
        ("plan.json", p.read("plan.json")),
        ("apply output", applied),
        ("apply log", log),
        ("state", p.read(".cairn/state/dev.json")),
        ("state show", shown),
        ("re-plan", replan),
    ] {
        assert!(
            !text.contains(&password),
            "the password leaked into the {what}"
        );
    }

    // A description is edited in place; the value is untouched.
    p.write(
        "environments/dev.yaml",
        &SECRETS.replace("PostgreSQL master password", "PostgreSQL password"),
    );
    updates_in_place_and_sticks(&p, &moto, "aws_secretsmanager_secret.db_secret");
    assert_eq!(stored_secret(&moto, "datasets/dev/db-password"), password);

    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let listed = moto.json("secretsmanager", "secretsmanager.ListSecrets", "{}");
    assert!(!listed.contains("datasets/dev/db-password"), "{listed}");
}

const LITERAL: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
resources:
  token:
    type: aws_secretsmanager_secret
    properties: { name: app/api-token, recovery_window_in_days: 7 }
  token_value:
    type: aws_secretsmanager_secret_version
    properties: { secret_id: "${token.id}", secret_string: first-value }
"#;

/// Both types import by id into an empty state and plan clean; a new value is a new version,
/// which Terraform's schema (and ours) calls a replacement; destroy schedules the secret's
/// deletion after its recovery window.
#[test]
fn a_secret_imports_replaces_its_value_and_is_scheduled_for_deletion() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", LITERAL)]);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}");
    imports_cleanly(&p, &moto);

    p.write(
        "environments/dev.yaml",
        &LITERAL.replace("first-value", "second-value"),
    );
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# aws_secretsmanager_secret_version.token_value must be replaced"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("second-value") && !stdout.contains("first-value"),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(stored_secret(&moto, "app/api-token"), "second-value");
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}");

    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let described = moto.json(
        "secretsmanager",
        "secretsmanager.DescribeSecret",
        "{\"SecretId\": \"app/api-token\"}",
    );
    assert!(
        described.contains("DeletedDate"),
        "scheduled, not gone: {described}"
    );
}

const TOPIC: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  alerts:
    type: aws_sns_topic
    properties: { name: datasets-dev-alerts, display_name: Datasets alerts }
"#;

/// The topic alarms notify: applies, re-plans clean, imports by ARN, renames its display name
/// in place, is replaced under a new name, and is gone after destroy.
#[test]
fn a_topic_applies_imports_changes_and_is_destroyed() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", TOPIC)]);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let topics = || moto.query("sns", "2010-03-31", &[("Action", "ListTopics")]);
    assert!(topics().contains(":datasets-dev-alerts<"), "{}", topics());
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}");
    imports_cleanly(&p, &moto);

    let renamed = TOPIC.replace(
        "display_name: Datasets alerts",
        "display_name: Datasets paging",
    );
    p.write("environments/dev.yaml", &renamed);
    updates_in_place_and_sticks(&p, &moto, "aws_sns_topic.alerts");

    p.write(
        "environments/dev.yaml",
        &renamed.replace("name: datasets-dev-alerts,", "name: datasets-dev-paging,"),
    );
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# aws_sns_topic.alerts must be replaced"),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!topics().contains(":datasets-dev-alerts<"), "{}", topics());

    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!topics().contains("datasets-dev-"), "{}", topics());
}

const ALARM: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  alerts:
    type: aws_sns_topic
    properties: { name: datasets-dev-alerts }
  api_cpu:
    type: aws_cloudwatch_metric_alarm
    properties:
      alarm_name: datasets-dev-api-cpu
      alarm_description: API CPU above 80% for 10 minutes
      namespace: AWS/ECS
      metric_name: CPUUtilization
      dimensions: { ClusterName: datasets-dev, ServiceName: api }
      statistic: Average
      period: 300
      evaluation_periods: 2
      threshold: 80
      comparison_operator: GreaterThanThreshold
      alarm_actions: ["${alerts.arn}"]
      ok_actions: ["${alerts.arn}"]
"#;

/// The seed's CPU alarm notifying the alerts topic: applies, re-plans clean, imports by name,
/// changes its threshold and tags in place, is replaced under a new name, and is gone after
/// destroy.
#[test]
fn an_alarm_notifies_a_topic_and_changes_in_place() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", ALARM)]);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let alarms = || moto.query("monitoring", "2010-08-01", &[("Action", "DescribeAlarms")]);
    let listed = alarms();
    assert!(
        listed.contains("<AlarmName>datasets-dev-api-cpu</AlarmName>"),
        "{listed}"
    );
    assert!(listed.contains(":datasets-dev-alerts</member>"), "{listed}");
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a second plan is empty:\n{stdout}");
    imports_cleanly(&p, &moto);

    let raised = ALARM.replace("threshold: 80", "threshold: 90");
    p.write("environments/dev.yaml", &raised);
    updates_in_place_and_sticks(&p, &moto, "aws_cloudwatch_metric_alarm.api_cpu");
    assert!(alarms().contains("<Threshold>90"), "{}", alarms());

    p.write(
        "environments/dev.yaml",
        &raised.replace(
            "      ok_actions: [\"${alerts.arn}\"]\n",
            "      ok_actions: [\"${alerts.arn}\"]\n      tags: { team: data }\n",
        ),
    );
    updates_in_place_and_sticks(&p, &moto, "aws_cloudwatch_metric_alarm.api_cpu");

    p.write(
        "environments/dev.yaml",
        &raised.replace(
            "alarm_name: datasets-dev-api-cpu",
            "alarm_name: datasets-dev-api-cpu-high",
        ),
    );
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# aws_cloudwatch_metric_alarm.api_cpu must be replaced"),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let listed = alarms();
    assert!(
        !listed.contains("<AlarmName>datasets-dev-api-cpu</AlarmName>"),
        "{listed}"
    );
    assert!(listed.contains("datasets-dev-api-cpu-high"), "{listed}");

    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!alarms().contains("<AlarmName>"), "{}", alarms());
}

const REDIS: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  vpc:
    type: aws_vpc
    properties: { cidr_block: 10.0.0.0/16 }
  data_a:
    type: aws_subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.0.20.0/24, availability_zone: us-east-1a }
  data_b:
    type: aws_subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.0.21.0/24, availability_zone: us-east-1b }
  cache:
    type: aws_elasticache_subnet_group
    properties:
      name: datasets-dev-cache
      # A set: AWS keeps no order (sorted, so an import that cannot know the spec's order yet
      # plans clean).
      subnet_ids: ${toset([data_a.id, data_b.id])}
  auth:
    type: random_password
    properties: { length: 32, special: false }
  redis:
    type: aws_elasticache_replication_group
    timeouts: { delete: 3s }
    properties:
      replication_group_id: datasets-dev
      description: Sessions and job queues
      node_type: cache.t4g.small
      cluster_mode: enabled
      num_node_groups: 2
      replicas_per_node_group: 1
      automatic_failover_enabled: true
      at_rest_encryption_enabled: true
      transit_encryption_enabled: true
      auth_token: ${auth.result}
      subnet_group_name: ${cache.name}
"#;

/// The seed's Redis: two shards with a replica each, encrypted at rest and in transit, its AUTH
/// token generated. Applies, re-plans clean, imports, changes in place (and says which change
/// waits for the maintenance window), and a destroy ends with the timeout message because moto
/// keeps a deleted replication group `deleting` forever — the group stays in state, so nothing is
/// lost track of.
#[test]
fn a_redis_cluster_applies_changes_and_a_stuck_delete_times_out_in_state() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", REDIS)]);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let groups = || {
        moto.query(
            "elasticache",
            "2015-02-02",
            &[("Action", "DescribeReplicationGroups")],
        )
    };
    let described = groups();
    assert!(
        described.contains("<ReplicationGroupId>datasets-dev</ReplicationGroupId>"),
        "{described}"
    );
    assert_eq!(
        described.matches("<NodeGroupId>").count(),
        2,
        "two shards: {described}"
    );
    assert!(
        described.contains("<AtRestEncryptionEnabled>true"),
        "{described}"
    );
    assert!(described.contains("<AuthTokenEnabled>true"), "{described}");
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a second plan is empty:\n{stdout}");
    // AWS never returns the AUTH token, so an imported group cannot know it: the import check
    // runs on the spec without it (Terraform's own import tests ignore it the same way).
    p.write(
        "environments/dev.yaml",
        &REDIS.replace("      auth_token: ${auth.result}\n", ""),
    );
    imports_cleanly(&p, &moto);
    p.write("environments/dev.yaml", REDIS);

    let described_again = REDIS.replace(
        "description: Sessions and job queues",
        "description: Sessions, job queues and rate limits",
    );
    p.write("environments/dev.yaml", &described_again);
    updates_in_place_and_sticks(&p, &moto, "aws_elasticache_replication_group.redis");
    assert!(groups().contains("Sessions, job queues and rate limits"));
    // A new environment tag reaches the subnet group and the group in place.
    let described_again =
        described_again.replace("tags: { env: dev }", "tags: { env: dev, team: data }");
    p.write("environments/dev.yaml", &described_again);
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}");
    for address in [
        "aws_elasticache_subnet_group.cache",
        "aws_elasticache_replication_group.redis",
    ] {
        assert!(
            stdout.contains(&format!("# {address} will be updated in-place")),
            "{stdout}"
        );
    }
    assert!(stdout.contains("Plan: 0 to add, "), "{stdout}");
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "the tags stick:\n{stdout}");

    // A bigger node type is applied in the maintenance window unless the spec says otherwise.
    let resized =
        described_again.replace("node_type: cache.t4g.small", "node_type: cache.r7g.large");
    p.write("environments/dev.yaml", &resized);
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains(
            "\"cache.t4g.small\" -> \"cache.r7g.large\" # waits for the maintenance window"
        ),
        "{stdout}"
    );
    p.write(
        "environments/dev.yaml",
        &resized.replace(
            "      node_type: cache.r7g.large\n",
            "      node_type: cache.r7g.large\n      apply_immediately: true\n",
        ),
    );
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.contains("-> \"cache.r7g.large\"\n"), "{stdout}");
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        groups().contains("<CacheNodeType>cache.r7g.large<"),
        "{}",
        groups()
    );

    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let all = format!("{stdout}\n{stderr}");
    assert!(
        all.contains(
            "ElastiCache replication group datasets-dev did not become deleted within 3s (last seen: deleting)"
        ),
        "{all}"
    );
    let (code, list, _) = run(&p, &moto, &["state", "list", "-e", "dev"]);
    assert_eq!(code, 0);
    assert!(
        list.contains("aws_elasticache_replication_group.redis"),
        "the group still exists, so it stays in state:\n{list}"
    );
    assert!(
        list.contains("aws_elasticache_subnet_group.cache"),
        "its subnet group waits for it:\n{list}"
    );
}

const WAF: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  edge:
    type: aws_wafv2_web_acl
    properties:
      name: datasets-dev-edge
      description: In front of the public ALB
      scope: REGIONAL
      default_action: { allow: {} }
      rule:
        - name: common
          priority: 1
          override_action: { none: {} }
          statement:
            managed_rule_group_statement: { name: AWSManagedRulesCommonRuleSet, vendor_name: AWS }
          visibility_config: { cloudwatch_metrics_enabled: true, metric_name: common, sampled_requests_enabled: true }
        - name: rate-limit
          priority: 2
          action: { block: {} }
          statement:
            rate_based_statement: { limit: 2000, aggregate_key_type: IP }
          visibility_config: { cloudwatch_metrics_enabled: true, metric_name: rate-limit, sampled_requests_enabled: true }
      visibility_config: { cloudwatch_metrics_enabled: true, metric_name: datasets-dev-edge, sampled_requests_enabled: true }
"#;

/// The seed's WAF: AWS's common rule set and a per-IP rate limit. Applies, re-plans clean,
/// imports, tightens the rate limit in place, is replaced under a new name, and is gone after
/// destroy.
#[test]
fn a_web_acl_with_managed_rules_and_a_rate_limit_changes_in_place() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", WAF)]);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let acls = || {
        moto.json(
            "wafv2",
            "AWSWAF_20190729.ListWebACLs",
            "{\"Scope\": \"REGIONAL\", \"Limit\": 100}",
        )
    };
    assert!(acls().contains("\"datasets-dev-edge\""), "{}", acls());
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a second plan is empty:\n{stdout}");
    imports_cleanly(&p, &moto);

    let tighter = WAF.replace("limit: 2000", "limit: 500");
    p.write("environments/dev.yaml", &tighter);
    updates_in_place_and_sticks(&p, &moto, "aws_wafv2_web_acl.edge");
    let id = common::aws::state_id(&p, &moto, "aws_wafv2_web_acl.edge");
    let acl = moto.json(
        "wafv2",
        "AWSWAF_20190729.GetWebACL",
        &format!("{{\"Scope\": \"REGIONAL\", \"Name\": \"datasets-dev-edge\", \"Id\": \"{id}\"}}"),
    );
    assert!(acl.contains("\"Limit\": 500"), "{acl}");

    p.write(
        "environments/dev.yaml",
        &tighter.replace("name: datasets-dev-edge\n", "name: datasets-dev-public\n"),
    );
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# aws_wafv2_web_acl.edge must be replaced"),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!acls().contains("\"datasets-dev-edge\""), "{}", acls());

    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!acls().contains("datasets-dev-"), "{}", acls());
}

const CDN: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  cdn:
    type: aws_cloudfront_distribution
    properties:
      enabled: true
      comment: eldonia dev
      price_class: PriceClass_200
      origin:
        - origin_id: alb
          domain_name: eldonia-dev-123456.us-east-1.elb.amazonaws.com
          custom_origin_config: { http_port: 80, https_port: 443, origin_protocol_policy: https-only, origin_ssl_protocols: [TLSv1.2] }
        - origin_id: media
          domain_name: eldonia-dev-media.s3.us-east-1.amazonaws.com
      default_cache_behavior:
        target_origin_id: alb
        viewer_protocol_policy: redirect-to-https
        allowed_methods: [GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE]
        cached_methods: [GET, HEAD]
        compress: true
      ordered_cache_behavior:
        - path_pattern: /media/*
          target_origin_id: media
          viewer_protocol_policy: redirect-to-https
          allowed_methods: [GET, HEAD]
          cached_methods: [GET, HEAD]
"#;

/// Seed 003's CDN: the ALB as default origin, S3 media under /media/*. Applies (waiting until
/// `Deployed`), re-plans clean, imports, changes its comment in place, and is disabled then
/// deleted on destroy.
#[test]
fn a_distribution_in_front_of_an_alb_and_a_bucket_deploys_and_changes_in_place() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", CDN)]);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let list = || moto.rest_xml("GET", "/2020-05-31/distribution", "cloudfront", "");
    assert!(
        list().contains("<Comment>eldonia dev</Comment>"),
        "{}",
        list()
    );
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a second plan is empty:\n{stdout}");
    imports_cleanly(&p, &moto);

    p.write(
        "environments/dev.yaml",
        &CDN.replace("comment: eldonia dev", "comment: eldonia dev (media on S3)"),
    );
    updates_in_place_and_sticks(&p, &moto, "aws_cloudfront_distribution.cdn");
    assert!(list().contains("eldonia dev (media on S3)"), "{}", list());

    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!list().contains("<Comment>"), "{}", list());
}
