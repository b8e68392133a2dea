//! RDS as a user lives it, against moto: a PostgreSQL instance whose generated password goes to
//! Secrets Manager and nowhere cairn writes, a read replica, an Aurora PostgreSQL cluster with a
//! writer and a reader; each re-planned clean, changed in place and by replacement, imported,
//! and destroyed without leftovers. A change that AWS applies in the maintenance window says so
//! in the plan unless `apply_immediately` is set.
//!
//! moto applies every modification at once (it has no maintenance window and reports nothing
//! pending), and answers `available` at once for instances; the adapter is written for AWS.

mod common;

use common::Project;
use common::aws::{api_calls, imports_cleanly, run, updates_in_place_and_sticks};
use common::moto::{Moto, xml_values};

const NETWORK: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  vpc:
    type: aws_vpc
    properties: { cidr_block: 10.20.0.0/16 }
  subnet_a:
    type: aws_subnet
    properties: { vpc_id: "${vpc.id}", availability_zone: us-east-1a, cidr_block: 10.20.1.0/24 }
  subnet_b:
    type: aws_subnet
    properties: { vpc_id: "${vpc.id}", availability_zone: us-east-1b, cidr_block: 10.20.2.0/24 }
  db_sg:
    type: aws_security_group
    properties: { name: datasets-db, description: PostgreSQL, vpc_id: "${vpc.id}" }
  db_subnets:
    type: aws_db_subnet_group
    properties:
      name: datasets-dev
      description: Database subnets
      # A set: AWS keeps no order. Sorted, so that an import (which reads it before the
      # subnets are imported, without the configured order) plans clean.
      subnet_ids: ${toset([subnet_a.id, subnet_b.id])}
  db_params:
    type: aws_db_parameter_group
    properties:
      name: datasets-dev-pg14
      family: postgres14
      parameter:
        - { name: log_min_duration_statement, value: "500" }
    # A new group before the old one goes: AWS refuses to delete a group an instance uses.
    lifecycle: { create_before_destroy: true }
"#;

const POSTGRES: &str = r#"  db_password:
    type: random_password
    properties: { length: 32, override_special: "!#%-_" }
  db_secret:
    type: aws_secretsmanager_secret
    properties: { name: datasets/dev/db-password, recovery_window_in_days: 0 }
  db_secret_value:
    type: aws_secretsmanager_secret_version
    properties:
      secret_id: ${db_secret.id}
      secret_string: ${db_password.result}
  db:
    type: aws_db_instance
    properties:
      identifier: datasets-dev
      engine: postgres
      engine_version: "14.10"
      instance_class: db.t4g.micro
      allocated_storage: 20
      storage_type: gp3
      db_name: datasets
      username: datasets
      password: ${db_password.result}
      db_subnet_group_name: ${db_subnets.name}
      parameter_group_name: ${db_params.name}
      vpc_security_group_ids: ["${db_sg.id}"]
      backup_retention_period: 7
      skip_final_snapshot: true
      tags: { Name: datasets }
  db_replica:
    type: aws_db_instance
    properties:
      identifier: datasets-dev-replica
      replicate_source_db: ${db.identifier}
      instance_class: db.t4g.micro
      storage_type: gp3
      vpc_security_group_ids: ["${db_sg.id}"]
      skip_final_snapshot: true
"#;

/// The password as Secrets Manager holds it: the one place it may exist.
fn stored_secret(moto: &Moto, name: &str) -> String {
    let out = moto.json(
        "secretsmanager",
        "secretsmanager.GetSecretValue",
        &format!("{{\"SecretId\": \"{name}\"}}"),
    );
    out.split("\"SecretString\": \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no SecretString in {out}"))
        .to_string()
}

fn rds(moto: &Moto, action: &str) -> String {
    moto.query("rds", "2014-10-31", &[("Action", action)])
}

fn instances(moto: &Moto) -> Vec<String> {
    let mut ids = xml_values(&rds(moto, "DescribeDBInstances"), "DBInstanceIdentifier");
    ids.sort();
    ids
}

fn plan(p: &Project, moto: &Moto) -> String {
    let (code, stdout, stderr) = run(p, moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    stdout
}

fn apply(p: &Project, moto: &Moto) -> (String, String) {
    let (code, stdout, stderr) = run(p, moto, &["-vv", "apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    (stdout, stderr)
}

fn clean(p: &Project, moto: &Moto) -> String {
    let (code, stdout, stderr) = run(p, moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "the plan must be empty:\n{stdout}\n{stderr}");
    stdout
}

#[test]
fn a_postgres_instance_gets_a_generated_password_a_replica_and_maintenance_window_changes() {
    let moto = Moto::start();
    let spec = format!("{NETWORK}{POSTGRES}");
    let p = Project::with(&[("environments/dev.yaml", &spec)]);
    let (code, planned, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--json", "plan.json"]);
    assert_eq!(code, 0, "{planned}\n{stderr}");
    let (applied, log) = apply(&p, &moto);
    let password = stored_secret(&moto, "datasets/dev/db-password");
    assert_eq!(password.chars().count(), 32, "{password}");
    assert_eq!(
        instances(&moto),
        ["datasets-dev", "datasets-dev-replica"],
        "{}",
        rds(&moto, "DescribeDBInstances")
    );
    let described = rds(&moto, "DescribeDBInstances");
    assert!(
        described.contains("<ReadReplicaSourceDBInstanceIdentifier>datasets-dev<"),
        "{described}"
    );
    assert!(described.contains("<StorageType>gp3<"), "{described}");
    let params = moto.query(
        "rds",
        "2014-10-31",
        &[
            ("Action", "DescribeDBParameters"),
            ("DBParameterGroupName", "datasets-dev-pg14"),
        ],
    );
    assert!(params.contains("<ParameterValue>500<"), "{params}");
    let (_, shown, _) = run(
        &p,
        &moto,
        &["state", "show", "aws_db_instance.db", "-e", "dev"],
    );
    let replan = clean(&p, &moto);
    for (what, text) in [
        ("plan", planned),
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

    // A resize waits for the maintenance window unless the spec applies it immediately.
    let resized = spec.replacen(
        "instance_class: db.t4g.micro",
        "instance_class: db.t4g.small",
        1,
    );
    p.write("environments/dev.yaml", &resized);
    let out = plan(&p, &moto);
    assert!(
        out.lines().any(|l| l.contains("instance_class")
            && l.contains("# waits for the maintenance window (apply_immediately is not set)")),
        "{out}"
    );
    let resized = resized.replacen(
        "      skip_final_snapshot: true\n      tags: { Name: datasets }",
        "      skip_final_snapshot: true\n      apply_immediately: true\n      tags: { Name: datasets }",
        1,
    );
    p.write("environments/dev.yaml", &resized);
    let out = plan(&p, &moto);
    assert!(out.contains("instance_class"), "{out}");
    assert!(!out.contains("maintenance window"), "{out}");
    updates_in_place_and_sticks(&p, &moto, "aws_db_instance.db");
    let described = rds(&moto, "DescribeDBInstances");
    assert!(
        described.contains("<DBInstanceClass>db.t4g.small<"),
        "{described}"
    );

    // In place: backups, a parameter's value, the subnet group's description, the replica's tags.
    let edited = resized.replace("backup_retention_period: 7", "backup_retention_period: 14");
    p.write("environments/dev.yaml", &edited);
    updates_in_place_and_sticks(&p, &moto, "aws_db_instance.db");
    let edited = edited.replace("value: \"500\"", "value: \"1000\"");
    p.write("environments/dev.yaml", &edited);
    updates_in_place_and_sticks(&p, &moto, "aws_db_parameter_group.db_params");
    // A new description is an in-place ModifyDBSubnetGroup, but moto 5.2.5 drops the group from
    // its registry on that call (AWS keeps it): only the plan is checked, and tags stand in for
    // the applied in-place change.
    p.write(
        "environments/dev.yaml",
        &edited.replace("description: Database subnets", "description: DB subnets"),
    );
    let out = plan(&p, &moto);
    assert!(
        out.contains("# aws_db_subnet_group.db_subnets will be updated in-place"),
        "{out}"
    );
    let edited = edited.replace(
        "      description: Database subnets\n",
        "      description: Database subnets\n      tags: { tier: data }\n",
    );
    p.write("environments/dev.yaml", &edited);
    updates_in_place_and_sticks(&p, &moto, "aws_db_subnet_group.db_subnets");
    let edited = edited.replace(
        "      replicate_source_db: ${db.identifier}\n",
        "      replicate_source_db: ${db.identifier}\n      tags: { Name: replica }\n",
    );
    p.write("environments/dev.yaml", &edited);
    updates_in_place_and_sticks(&p, &moto, "aws_db_instance.db_replica");

    // A new identifier is a new instance.
    let renamed = edited.replace(
        "identifier: datasets-dev-replica",
        "identifier: datasets-dev-reader",
    );
    p.write("environments/dev.yaml", &renamed);
    let out = plan(&p, &moto);
    assert!(
        out.contains("# aws_db_instance.db_replica must be replaced"),
        "{out}"
    );
    assert!(out.contains("# forces replacement"), "{out}");
    apply(&p, &moto);
    assert_eq!(instances(&moto), ["datasets-dev", "datasets-dev-reader"]);
    clean(&p, &moto);

    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(instances(&moto).is_empty(), "{:?}", instances(&moto));
    let groups = rds(&moto, "DescribeDBSubnetGroups");
    assert!(!groups.contains("datasets-dev"), "{groups}");
    let groups = rds(&moto, "DescribeDBParameterGroups");
    assert!(!groups.contains("datasets-dev-pg14"), "{groups}");
}

const AURORA: &str = r#"  cluster:
    type: aws_rds_cluster
    properties:
      cluster_identifier: datasets-aurora
      engine: aurora-postgresql
      engine_version: "15.4"
      database_name: datasets
      master_username: datasets
      master_password: literal-only-for-the-import-story
      db_subnet_group_name: ${db_subnets.name}
      vpc_security_group_ids: ["${db_sg.id}"]
      storage_encrypted: true
      backup_retention_period: 7
      preferred_backup_window: "03:00-04:00"
      skip_final_snapshot: true
  writer:
    type: aws_rds_cluster_instance
    properties:
      identifier: datasets-aurora-1
      cluster_identifier: ${cluster.cluster_identifier}
      instance_class: db.r6g.large
      engine: aurora-postgresql
  reader:
    type: aws_rds_cluster_instance
    properties:
      identifier: datasets-aurora-2
      # The writer first: the first instance of a cluster becomes its writer.
      cluster_identifier: ${writer.cluster_identifier}
      instance_class: db.r6g.large
      engine: aurora-postgresql
      promotion_tier: 1
  small:
    type: aws_db_instance
    properties:
      identifier: datasets-small
      engine: postgres
      engine_version: "14.10"
      instance_class: db.t4g.micro
      allocated_storage: 20
      username: datasets
      password: another-literal-for-the-import-story
      db_subnet_group_name: ${db_subnets.name}
      parameter_group_name: ${db_params.name}
      skip_final_snapshot: true
  small_replica:
    type: aws_db_instance
    properties:
      identifier: datasets-small-replica
      replicate_source_db: ${small.identifier}
      instance_class: db.t4g.micro
      # A replica takes its source's group unless told: named, it moves with the source.
      parameter_group_name: ${db_params.name}
      skip_final_snapshot: true
"#;

#[test]
fn an_aurora_cluster_with_a_writer_and_a_reader_imports_changes_and_is_destroyed() {
    let moto = Moto::start();
    let spec = format!("{NETWORK}{AURORA}");
    let p = Project::with(&[("environments/dev.yaml", &spec)]);
    apply(&p, &moto);
    let clusters = rds(&moto, "DescribeDBClusters");
    assert_eq!(
        xml_values(&clusters, "DBClusterIdentifier"),
        ["datasets-aurora"],
        "{clusters}"
    );
    let (_, writer, _) = run(
        &p,
        &moto,
        &[
            "state",
            "show",
            "aws_rds_cluster_instance.writer",
            "-e",
            "dev",
        ],
    );
    let (_, reader, _) = run(
        &p,
        &moto,
        &[
            "state",
            "show",
            "aws_rds_cluster_instance.reader",
            "-e",
            "dev",
        ],
    );
    let writes = |show: &str| {
        show.lines()
            .find(|l| l.trim_start().starts_with("writer"))
            .unwrap_or_else(|| panic!("no writer in {show}"))
            .contains("true")
    };
    assert!(writes(&writer), "{writer}");
    assert!(!writes(&reader), "{reader}");
    let shown = format!("{writer}{reader}{}", p.read(".cairn/state/dev.json"));
    assert!(
        !shown.contains("literal-only-for-the-import-story"),
        "{shown}"
    );
    clean(&p, &moto);
    imports_cleanly(&p, &moto);

    // Refresh costs one Describe per type, not per database: instances by an id filter, and the
    // cluster instances' writers from one DescribeDBClusters.
    let (code, stdout, stderr) = run(
        &p,
        &moto,
        &["-v", "plan", "-e", "dev", "--detailed-exitcode"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(api_calls(&stderr, "rds.DescribeDBInstances"), 2, "{stderr}");
    assert_eq!(api_calls(&stderr, "rds.DescribeDBClusters"), 2, "{stderr}");

    // A new password is sent in place, and shown nowhere.
    let edited = spec.replace(
        "another-literal-for-the-import-story",
        "a-second-literal-for-the-import-story",
    );
    p.write("environments/dev.yaml", &edited);
    let out = plan(&p, &moto);
    assert!(out.contains("(sensitive value)"), "{out}");
    assert!(!out.contains("literal-for-the-import-story"), "{out}");
    updates_in_place_and_sticks(&p, &moto, "aws_db_instance.small");
    let spec = edited;

    let edited = spec.replace("backup_retention_period: 7", "backup_retention_period: 3");
    p.write("environments/dev.yaml", &edited);
    updates_in_place_and_sticks(&p, &moto, "aws_rds_cluster.cluster");
    let edited = edited.replace("promotion_tier: 1", "promotion_tier: 2");
    p.write("environments/dev.yaml", &edited);
    updates_in_place_and_sticks(&p, &moto, "aws_rds_cluster_instance.reader");
    // The engine version of a cluster waits for the maintenance window too.
    p.write(
        "environments/dev.yaml",
        &edited.replace("engine_version: \"15.4\"", "engine_version: \"15.5\""),
    );
    let out = plan(&p, &moto);
    assert!(
        out.contains("# waits for the maintenance window (apply_immediately is not set)"),
        "{out}"
    );
    p.write("environments/dev.yaml", &edited);

    let renamed = edited.replace(
        "identifier: datasets-aurora-2",
        "identifier: datasets-aurora-3",
    );
    p.write("environments/dev.yaml", &renamed);
    let out = plan(&p, &moto);
    assert!(
        out.contains("# aws_rds_cluster_instance.reader must be replaced"),
        "{out}"
    );
    apply(&p, &moto);
    assert_eq!(
        instances(&moto),
        [
            "datasets-aurora-1",
            "datasets-aurora-3",
            "datasets-small",
            "datasets-small-replica"
        ]
    );
    clean(&p, &moto);

    // A renamed subnet group is a new group, and a new home for everything in it.
    p.write(
        "environments/dev.yaml",
        &renamed.replace("name: datasets-dev\n", "name: datasets-dev-2\n"),
    );
    let out = plan(&p, &moto);
    assert!(
        out.contains("# aws_db_subnet_group.db_subnets must be replaced"),
        "{out}"
    );
    assert!(
        out.contains("# aws_rds_cluster.cluster must be replaced"),
        "{out}"
    );

    // A renamed parameter group is created first, the instances move to it in place, and the
    // old one goes.
    let renamed = renamed.replace("name: datasets-dev-pg14", "name: datasets-dev-pg14-b");
    p.write("environments/dev.yaml", &renamed);
    let out = plan(&p, &moto);
    assert!(
        out.contains("# aws_db_parameter_group.db_params must be replaced"),
        "{out}"
    );
    assert!(
        out.contains("# aws_db_instance.small will be updated in-place"),
        "{out}"
    );
    apply(&p, &moto);
    let groups = rds(&moto, "DescribeDBParameterGroups");
    let names = xml_values(&groups, "DBParameterGroupName");
    assert!(
        names.contains(&"datasets-dev-pg14-b".to_string()),
        "{groups}"
    );
    assert!(
        !names.contains(&"datasets-dev-pg14".to_string()),
        "{groups}"
    );
    clean(&p, &moto);

    // A new cluster identifier replaces the cluster and, with it, its instances.
    let renamed = renamed.replace(
        "cluster_identifier: datasets-aurora\n",
        "cluster_identifier: datasets-aurora-b\n",
    );
    p.write("environments/dev.yaml", &renamed);
    let out = plan(&p, &moto);
    assert!(
        out.contains("# aws_rds_cluster.cluster must be replaced"),
        "{out}"
    );
    apply(&p, &moto);
    let clusters = rds(&moto, "DescribeDBClusters");
    assert_eq!(
        xml_values(&clusters, "DBClusterIdentifier"),
        ["datasets-aurora-b"],
        "{clusters}"
    );
    clean(&p, &moto);

    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(instances(&moto).is_empty(), "{:?}", instances(&moto));
    let clusters = rds(&moto, "DescribeDBClusters");
    assert!(
        xml_values(&clusters, "DBClusterIdentifier").is_empty(),
        "{clusters}"
    );
}
