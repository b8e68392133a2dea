//! The AWS identity and logging types as a user lives them, against a local moto_server: KMS
//! keys, aliases and an encrypted log group; an IAM role, a policy and their attachment. Each
//! story applies, re-plans without false diffs, imports into an empty state, changes in place
//! and by replacement, and destroys without leftovers (checked against moto directly).
//!
//! moto diverges from AWS where noted in comments; the adapter is written for AWS.

mod common;

use common::Project;
use common::aws::{imports_cleanly, run, state_id, updates_in_place_and_sticks};
use common::moto::{Moto, xml_values};

const KEYS: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  key:
    type: aws_kms_key
    properties:
      description: Encrypts the app's logs
      deletion_window_in_days: 7
      tags: { Name: logs }
  spare:
    type: aws_kms_key
    properties:
      description: Spare
      # KMS hands its key policy back reformatted: no diff for that.
      policy: |
        {
          "Version": "2012-10-17",
          "Statement": [{
            "Sid": "Account",
            "Effect": "Allow",
            "Principal": { "AWS": "arn:aws:iam::123456789012:root" },
            "Action": "kms:*",
            "Resource": "*"
          }]
        }
  alias:
    type: aws_kms_alias
    properties: { name: alias/cairn-logs, target_key_id: "${key.key_id}" }
  logs:
    type: aws_cloudwatch_log_group
    properties:
      name: /cairn/app
      retention_in_days: 30
      kms_key_id: ${key.arn}
      tags: { Name: app }
"#;

fn plan_is_empty(p: &Project, moto: &Moto) {
    let (code, stdout, stderr) = run(p, moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a re-plan must be empty:\n{stdout}\n{stderr}");
}

fn apply(p: &Project, moto: &Moto) -> String {
    let (code, stdout, stderr) = run(p, moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    stdout
}

/// KMS DescribeKey straight from moto: the JSON answer.
fn describe_key(moto: &Moto, id: &str) -> String {
    moto.json(
        "kms",
        "TrentService.DescribeKey",
        &format!(r#"{{"KeyId":"{id}"}}"#),
    )
}

/// The JSON body of a response.
fn body(response: &str) -> serde_json::Value {
    let (_, json) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no body in {response}"));
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

fn log_groups(moto: &Moto) -> String {
    moto.json("logs", "Logs_20140328.DescribeLogGroups", "{}")
}

#[test]
fn a_key_an_alias_and_an_encrypted_log_group_apply_replan_clean_change_and_destroy() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", KEYS)]);
    let stdout = apply(&p, &moto);
    assert!(
        stdout.contains("Apply complete! Resources: 4 added, 0 changed, 0 destroyed."),
        "{stdout}"
    );
    let key = state_id(&p, &moto, "aws_kms_key.key");
    let spare = state_id(&p, &moto, "aws_kms_key.spare");
    assert!(describe_key(&moto, &key).contains(r#""KeyState": "Enabled""#));
    let groups = log_groups(&moto);
    assert!(
        groups.contains(r#""logGroupName": "/cairn/app""#),
        "{groups}"
    );
    assert!(groups.contains(r#""retentionInDays": 30"#), "{groups}");
    assert!(
        groups.contains(&key),
        "the group is encrypted with the key: {groups}"
    );

    // Defaults (usage, spec, rotation, KMS's own key policy) read back as declared.
    plan_is_empty(&p, &moto);
    imports_cleanly(&p, &moto);

    let rotated = KEYS.replace(
        "deletion_window_in_days: 7",
        "deletion_window_in_days: 7\n      enable_key_rotation: true",
    );
    p.write("environments/dev.yaml", &rotated);
    updates_in_place_and_sticks(&p, &moto, "aws_kms_key.key");

    let longer = rotated.replace("retention_in_days: 30", "retention_in_days: 90");
    p.write("environments/dev.yaml", &longer);
    updates_in_place_and_sticks(&p, &moto, "aws_cloudwatch_log_group.logs");
    assert!(log_groups(&moto).contains(r#""retentionInDays": 90"#));

    let retargeted = longer.replace(
        r#"target_key_id: "${key.key_id}""#,
        r#"target_key_id: "${spare.key_id}""#,
    );
    p.write("environments/dev.yaml", &retargeted);
    updates_in_place_and_sticks(&p, &moto, "aws_kms_alias.alias");
    let aliases = body(&moto.json("kms", "TrentService.ListAliases", "{}"));
    let target = aliases["Aliases"]
        .as_array()
        .and_then(|all| all.iter().find(|a| a["AliasName"] == "alias/cairn-logs"))
        .map(|a| a["TargetKeyId"].clone());
    assert_eq!(
        target,
        Some(serde_json::Value::from(spare.as_str())),
        "{aliases}"
    );

    // A log group cannot be renamed: a new name replaces it.
    let renamed = retargeted.replace("name: /cairn/app", "name: /cairn/app-v2");
    p.write("environments/dev.yaml", &renamed);
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# aws_cloudwatch_log_group.logs must be replaced"),
        "{stdout}"
    );
    assert!(stdout.contains("# forces replacement"), "{stdout}");
    apply(&p, &moto);
    let groups = log_groups(&moto);
    assert!(groups.contains("/cairn/app-v2"), "{groups}");
    assert!(!groups.contains(r#""/cairn/app""#), "{groups}");
    plan_is_empty(&p, &moto);

    // A key scheduled for deletion behind cairn's back is gone: the plan creates a new one.
    let scheduled = moto.json(
        "kms",
        "TrentService.ScheduleKeyDeletion",
        &format!(r#"{{"KeyId":"{spare}","PendingWindowInDays":7}}"#),
    );
    assert!(scheduled.starts_with("HTTP/1.1 200"), "{scheduled}");
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# aws_kms_key.spare will be created"),
        "{stdout}"
    );

    // Destroy: KMS only schedules a key's deletion; the alias and the group are gone.
    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for id in [&key, &spare] {
        let described = describe_key(&moto, id);
        assert!(
            described.contains(r#""KeyState": "PendingDeletion""#),
            "{described}"
        );
    }
    assert!(
        !moto
            .json("kms", "TrentService.ListAliases", "{}")
            .contains("alias/cairn-logs")
    );
    assert!(!log_groups(&moto).contains("/cairn/"));
}

const ROLE: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  task:
    type: aws_iam_role
    properties:
      name: cairn-app-task
      description: Runs the app's ECS tasks
      assume_role_policy: |
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Principal": { "Service": "ecs-tasks.amazonaws.com" },
              "Action": "sts:AssumeRole"
            }
          ]
        }
      tags: { Name: app }
  read_logs:
    type: aws_iam_policy
    properties:
      name: cairn-app-read-logs
      description: Lets the app read its logs
      policy: |
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": ["logs:GetLogEvents"], "Resource": "*"}]}
      tags: { Name: app }
  attach:
    type: aws_iam_role_policy_attachment
    properties: { role: "${task.name}", policy_arn: "${read_logs.arn}" }
"#;

/// The form encoding of a query parameter value.
fn form(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn iam(moto: &Moto, params: &[(&str, &str)]) -> String {
    moto.query("iam", "2010-05-08", params)
}

#[test]
fn a_role_a_policy_and_their_attachment_apply_replan_clean_change_and_destroy() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", ROLE)]);
    let stdout = apply(&p, &moto);
    assert!(
        stdout.contains("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."),
        "{stdout}"
    );
    let policy_arn = state_id(&p, &moto, "aws_iam_policy.read_logs");
    assert_eq!(
        state_id(&p, &moto, "aws_iam_role_policy_attachment.attach"),
        format!("cairn-app-task/{policy_arn}"),
        "Terraform's import id: ROLE/POLICY_ARN"
    );
    let attached = iam(
        &moto,
        &[
            ("Action", "ListAttachedRolePolicies"),
            ("RoleName", "cairn-app-task"),
        ],
    );
    assert_eq!(xml_values(&attached, "PolicyArn"), [policy_arn.as_str()]);

    // IAM hands the documents back URL-encoded and reformatted: no diff for that.
    plan_is_empty(&p, &moto);
    imports_cleanly(&p, &moto);

    // A new document is a new default version of the same policy.
    let widened = ROLE.replace(
        r#"["logs:GetLogEvents"]"#,
        r#"["logs:GetLogEvents", "logs:FilterLogEvents"]"#,
    );
    p.write("environments/dev.yaml", &widened);
    updates_in_place_and_sticks(&p, &moto, "aws_iam_policy.read_logs");
    let versions = iam(
        &moto,
        &[
            ("Action", "ListPolicyVersions"),
            ("PolicyArn", &form(&policy_arn)),
        ],
    );
    assert_eq!(xml_values(&versions, "VersionId").len(), 2, "{versions}");
    let default = iam(
        &moto,
        &[("Action", "GetPolicy"), ("PolicyArn", &form(&policy_arn))],
    );
    assert_eq!(
        xml_values(&default, "DefaultVersionId"),
        ["v2"],
        "{default}"
    );

    // A role cannot be renamed: a new name replaces it, and its attachment with it.
    let renamed = widened.replace("name: cairn-app-task", "name: cairn-app-task-v2");
    p.write("environments/dev.yaml", &renamed);
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# aws_iam_role.task must be replaced"),
        "{stdout}"
    );
    assert!(stdout.contains("# forces replacement"), "{stdout}");
    apply(&p, &moto);
    plan_is_empty(&p, &moto);
    let roles = iam(&moto, &[("Action", "ListRoles")]);
    assert_eq!(
        xml_values(&roles, "RoleName")
            .into_iter()
            .filter(|r| r.starts_with("cairn-"))
            .collect::<Vec<_>>(),
        ["cairn-app-task-v2"]
    );

    // A policy attached behind cairn's back keeps the role: the error names it.
    let created = iam(
        &moto,
        &[
            ("Action", "CreatePolicy"),
            ("PolicyName", "out-of-band"),
            (
                "PolicyDocument",
                &form(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#,
                ),
            ),
        ],
    );
    let stray = xml_values(&created, "Arn").remove(0);
    let attach = |action: &str| {
        iam(
            &moto,
            &[
                ("Action", action),
                ("RoleName", "cairn-app-task-v2"),
                ("PolicyArn", &form(&stray)),
            ],
        )
    };
    assert!(attach("AttachRolePolicy").starts_with("HTTP/1.1 200"));
    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("DeleteConflict") && stderr.contains(&stray),
        "{stderr}"
    );
    assert!(attach("DetachRolePolicy").starts_with("HTTP/1.1 200"));

    // Destroy detaches, then deletes the role and every version of the policy.
    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let roles = iam(&moto, &[("Action", "ListRoles")]);
    assert!(!roles.contains("cairn-app-task"), "{roles}");
    let policies = iam(&moto, &[("Action", "ListPolicies"), ("Scope", "Local")]);
    assert!(!policies.contains("cairn-app-read-logs"), "{policies}");
}
