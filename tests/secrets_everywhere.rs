//! Known secrets go in, and are found nowhere they should not be: a database password from
//! `${env.X}`, a password cairn generates (`random_password`), and an Azure client secret. Every
//! command a team runs (plan with its saved, JSON and Markdown forms, show, apply, state show,
//! drift, failures, bad input) is run with `-vvv` logging, and stdout, stderr and every file cairn
//! wrote (state, its backups, lock, saved plans, reports) are searched for the plaintext.

mod common;

use std::path::Path;

use common::Project;
use common::arm::LocalArm;
use common::story::Cloud;

const ENV_SECRET: &str = "env-secret-Zq8!vM2#";

const SPEC: &str = r#"environment: dev
providers:
  fake: {}
resources:
  generated:
    type: random_password
    properties: { length: 20 }
  db:
    type: fake_database
    properties:
      engine: postgres
      instance_class: db.t3.micro
      username: app
      password: ${env.APP_DB_PASSWORD}
  db2:
    type: fake_database
    properties:
      engine: postgres
      instance_class: db.t3.micro
      username: app
      password: ${generated.result}
"#;

/// Everything a run printed, by what it was.
#[derive(Default)]
struct Seen(Vec<(String, String)>);

impl Seen {
    fn run(&mut self, p: &Project, args: &[&str]) -> i32 {
        let out = p
            .cairn(args)
            .env("APP_DB_PASSWORD", ENV_SECRET)
            .output()
            .expect("run cairn");
        let what = args.join(" ");
        self.0.push((
            format!("stdout of `{what}`"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ));
        self.0.push((
            format!("stderr of `{what}`"),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
        out.status.code().unwrap_or(-1)
    }

    /// Every file under `dir` except the fake cloud's store (the cloud holds the password, as a
    /// real database does).
    fn files(&mut self, dir: &Path) {
        for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                self.files(&path);
            } else if !path.ends_with("fake-cloud.json") {
                let bytes = std::fs::read(&path).expect("read");
                self.0.push((
                    path.display().to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
            }
        }
    }

    fn assert_free_of(&self, secret: &str, name: &str) {
        assert!(self.0.len() > 10, "too little was looked at");
        for (what, text) in &self.0 {
            assert!(
                !text.contains(secret),
                "the {name} leaked into {what}:\n{text}"
            );
        }
    }
}

fn cloud_password(p: &Project, address: &str) -> String {
    p.cloud()["objects"]
        .as_object()
        .expect("objects")
        .values()
        .find(|o| o["cairn:address"] == address)
        .and_then(|o| o["attributes"]["password"].as_str())
        .unwrap_or_else(|| panic!("{address} has a password in the cloud"))
        .to_string()
}

#[test]
fn secrets_appear_in_no_output_log_state_plan_or_report() {
    let p = Project::with(&[("environments/dev.yaml", SPEC)]);
    let mut seen = Seen::default();

    let code = seen.run(
        &p,
        &[
            "-vvv",
            "plan",
            "-e",
            "dev",
            "--out",
            "dev.cairn",
            "--json",
            "plan.json",
            "--markdown",
            "plan.md",
        ],
    );
    assert_eq!(code, 0);
    for format in [&[][..], &["--json"][..], &["--markdown"][..]] {
        let mut args = vec!["show", "dev.cairn"];
        args.extend_from_slice(format);
        assert_eq!(seen.run(&p, &args), 0);
    }
    assert_eq!(seen.run(&p, &["-vvv", "apply", "dev.cairn"]), 0);
    assert_eq!(
        cloud_password(&p, "fake_database.db"),
        ENV_SECRET,
        "the secret reached the database"
    );
    let generated = cloud_password(&p, "fake_database.db2");
    assert_eq!(generated.chars().count(), 20);
    for address in [
        "fake_database.db",
        "fake_database.db2",
        "random_password.generated",
    ] {
        assert_eq!(seen.run(&p, &["state", "show", address, "-e", "dev"]), 0);
    }
    assert_eq!(
        seen.run(&p, &["-vvv", "plan", "-e", "dev", "--detailed-exitcode"]),
        0
    );

    // Drift: someone resizes the database by hand.
    let store = p.file(".cairn/fake-cloud.json");
    let text = std::fs::read_to_string(&store).expect("cloud");
    std::fs::write(&store, text.replacen("db.t3.micro", "db.t3.large", 1)).expect("write");
    let code = seen.run(
        &p,
        &[
            "-vvv",
            "drift",
            "-e",
            "dev",
            "--json",
            "drift.json",
            "--markdown",
            "drift.md",
        ],
    );
    assert_eq!(code, 2, "the resize is drift");
    assert_eq!(
        seen.run(&p, &["-vvv", "plan", "-e", "dev", "--refresh-only"]),
        0
    );

    // Failures: a create the cloud refuses, and bad input built from the secret.
    let failing = SPEC.replace(
        "fake: {}",
        "fake: { failures: [{ match: fake_database.db3, operation: create, error: invalid }] }",
    ) + "  db3:\n    type: fake_database\n    properties: { engine: postgres, instance_class: db.t3.micro, username: app, password: \"${env.APP_DB_PASSWORD}\" }\n";
    p.write("environments/dev.yaml", &failing);
    assert_eq!(
        seen.run(&p, &["-vvv", "apply", "-e", "dev", "--auto-approve"]),
        1
    );
    let bad = SPEC.to_string()
        + "  net:\n    type: fake_network\n    properties: { name: x, cidr_block: \"${cidrsubnet(env.APP_DB_PASSWORD, 8, 1)}\" }\n";
    p.write("environments/dev.yaml", &bad);
    assert_eq!(seen.run(&p, &["-vvv", "plan", "-e", "dev"]), 1);
    assert_eq!(seen.run(&p, &["validate", "-e", "dev"]), 1);

    seen.files(p.path());
    seen.assert_free_of(ENV_SECRET, "password from the environment");
    seen.assert_free_of(&generated, "generated password");
}

#[test]
fn the_azure_client_secret_appears_in_no_output_log_or_state() {
    let arm = LocalArm::start();
    let p = Project::with(&[(
        "environments/dev.yaml",
        r#"environment: dev
providers:
  azure: { location: eastus }
resources:
  rg:
    type: azurerm_resource_group
    properties: { name: secrets-dev }
"#,
    )]);
    let mut texts = Vec::new();
    for args in [
        &["-vvv", "plan", "-e", "dev", "--json", "plan.json"][..],
        &["-vvv", "apply", "-e", "dev", "--auto-approve"][..],
        &["-vvv", "destroy", "-e", "dev", "--auto-approve"][..],
    ] {
        let (code, stdout, stderr) = arm.run(&p, args);
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        texts.push(stdout);
        texts.push(stderr);
    }
    // A refused secret: the error names the sources, never the secret.
    arm.client
        .configure(&serde_json::json!({"client_secret": "rotated"}));
    let (code, stdout, stderr) = arm.run(&p, &["-vvv", "apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    texts.extend([
        stdout,
        stderr,
        p.read("plan.json"),
        p.read(".cairn/state/dev.json"),
    ]);
    for text in &texts {
        assert!(
            !text.contains(arm_test_server::client::CLIENT_SECRET),
            "the client secret leaked:\n{text}"
        );
    }
}
