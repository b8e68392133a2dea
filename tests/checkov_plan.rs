//! Plans that the Terraform ecosystem reads: checkov, the policy scanner teams run on
//! `terraform show -json` output, run on cairn's `plan --json` (installed by scripts/test.sh at a
//! pinned version). It parses every plan without error and judges what it should: a bucket
//! without encryption fails the KMS-encryption check, the same bucket with SSE passes (also when
//! the key is only known after apply), and the reference stack's buckets and database pass theirs.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::moto::Moto;
use common::{Project, copy_dir};
use serde_json::Value;

const INSTALL: &str = "checkov was not found. Install it the way CI does (scripts/checkov-env.sh):\n\
    python3 -m venv ~/.cache/cairn/checkov-venv\n\
    ~/.cache/cairn/checkov-venv/bin/pip install 'checkov==3.2.533'\n\
or point CAIRN_CHECKOV at a checkov executable.";

fn checkov() -> PathBuf {
    if let Some(path) = std::env::var_os("CAIRN_CHECKOV").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let venv = home.join(".cache/cairn/checkov-venv/bin/checkov");
    assert!(venv.is_file(), "{INSTALL}");
    venv
}

/// checkov's verdicts on a plan: (check id, resource address) → passed.
struct Verdicts {
    summary: Value,
    results: Vec<(String, String, bool)>,
}

impl Verdicts {
    fn of(p: &Project, moto: &Moto, env: &str) -> Verdicts {
        let mut cmd = p.cairn(&["plan", "-e", env, "--json", "plan.json"]);
        moto.configure(&mut cmd);
        let out = cmd.output().expect("cairn plan");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new(checkov())
            .args([
                "-f",
                "plan.json",
                "--framework",
                "terraform_plan",
                "-o",
                "json",
            ])
            .current_dir(p.path())
            .output()
            .expect("run checkov");
        let text = String::from_utf8_lossy(&out.stdout);
        let report: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!(
                "checkov did not report ({e}):\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let mut results = Vec::new();
        for (key, passed) in [("passed_checks", true), ("failed_checks", false)] {
            for check in report["results"][key].as_array().into_iter().flatten() {
                results.push((
                    check["check_id"].as_str().unwrap_or_default().to_string(),
                    check["resource"].as_str().unwrap_or_default().to_string(),
                    passed,
                ));
            }
        }
        Verdicts {
            summary: report["summary"].clone(),
            results,
        }
    }

    /// `Some(true)` passed, `Some(false)` failed, `None` not judged.
    fn verdict(&self, check: &str, resource: &str) -> Option<bool> {
        self.results
            .iter()
            .find(|(c, r, _)| c == check && r == resource)
            .map(|(_, _, passed)| *passed)
    }
}

/// CKV_AWS_145: "Ensure that S3 buckets are encrypted with KMS by default".
const KMS: &str = "CKV_AWS_145";

#[test]
fn checkov_fails_the_bucket_without_encryption_and_passes_the_encrypted_ones() {
    let moto = Moto::start();
    let p = Project::with(&[(
        "environments/dev.yaml",
        r#"environment: dev
providers:
  aws: { region: us-east-1 }
resources:
  plain:
    type: aws_s3_bucket
    properties: { bucket: cairn-plain-logs }
  sealed:
    type: aws_s3_bucket
    properties: { bucket: cairn-sealed-logs }
  sealed_sse:
    type: aws_s3_bucket_server_side_encryption_configuration
    properties:
      bucket: ${sealed.id}
      rule:
        - apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms" }
  key:
    type: aws_kms_key
    properties: { description: logs }
  keyed:
    type: aws_s3_bucket
    properties: { bucket: cairn-keyed-logs }
  keyed_sse:
    type: aws_s3_bucket_server_side_encryption_configuration
    properties:
      bucket: ${keyed.id}
      rule:
        - apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: "${key.arn}" }
"#,
    )]);
    let v = Verdicts::of(&p, &moto, "dev");
    assert_eq!(v.summary["parsing_errors"], 0, "{}", v.summary);
    assert_eq!(v.summary["resource_count"], 6, "{}", v.summary);
    assert_eq!(v.verdict(KMS, "aws_s3_bucket.plain"), Some(false));
    assert_eq!(v.verdict(KMS, "aws_s3_bucket.sealed"), Some(true));
    // The key's ARN is known only after apply; the rule's known part still reaches checkov.
    assert_eq!(v.verdict(KMS, "aws_s3_bucket.keyed"), Some(true));
}

#[test]
fn checkov_reads_the_reference_stack_plan_and_passes_its_buckets_and_database() {
    let moto = Moto::start();
    let p = Project::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["modules", "environments"] {
        copy_dir(&root.join(dir), &p.file(dir));
    }
    let v = Verdicts::of(&p, &moto, "dev");
    assert_eq!(v.summary["parsing_errors"], 0, "{}", v.summary);
    for bucket in [
        "module.datasets.aws_s3_bucket.bucket",
        "module.backups.aws_s3_bucket.bucket",
    ] {
        assert_eq!(
            v.verdict(KMS, bucket),
            Some(true),
            "{bucket} is KMS-encrypted"
        );
        assert_eq!(
            v.verdict("CKV_AWS_21", bucket),
            Some(true),
            "{bucket} is versioned"
        );
        assert_eq!(
            v.verdict("CKV2_AWS_6", bucket),
            Some(true),
            "{bucket} blocks public access"
        );
    }
    // CKV_AWS_16: "Ensure all data stored in the RDS is securely encrypted at rest".
    assert_eq!(
        v.verdict("CKV_AWS_16", "module.db.aws_db_instance.db"),
        Some(true)
    );
    // ...and the dev database is single-AZ on purpose, which checkov rightly reports.
    assert_eq!(
        v.verdict("CKV_AWS_157", "module.db.aws_db_instance.db"),
        Some(false)
    );
}
