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
