//! Killing cairn (SIGKILL) in the middle of an apply, then applying again, creates nothing twice
//! and loses nothing: every object the fake cloud holds is in state exactly once, and the final
//! plan is empty.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Project;

const ENV: &str = r#"environment: dev
providers:
  fake: { latency_ms: { default: 150, fake_database: 2000 }, jitter: 0.5 }
resources:
  net:
    type: fake_network
    properties: { cidr_block: 10.0.0.0/16 }
  subnet:
    type: fake_subnet
    count: 6
    properties:
      network_id: ${net.id}
      zone: zone-${count.index}
      cidr_block: ${cidrsubnet("10.0.0.0/16", 8, count.index)}
  db:
    type: fake_database
    properties:
      engine: postgres
      instance_class: db.t3.micro
      username: app
      subnet_ids: ${subnet[*].id}
  bucket:
    type: fake_bucket
    count: 4
    properties: { bucket: "logs-${count.index}" }
"#;

/// (owner address, id) of every object in the fake cloud.
fn cloud_objects(p: &Project) -> Vec<(String, String)> {
    let cloud = p.cloud();
    let mut out = Vec::new();
    if let Some(objects) = cloud["objects"].as_object() {
        for (id, object) in objects {
            let owner = object["cairn:address"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            out.push((owner, id.clone()));
        }
    }
    out
}

fn state_ids(p: &Project) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(p.file(".cairn/state/dev.json")).unwrap_or_default();
    let Ok(state) = serde_json::from_str::<serde_json::Value>(&text) else {
        return BTreeMap::new();
    };
    state["resources"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(addr, rs)| Some((addr.clone(), rs["id"].as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn sigkill_mid_apply_then_apply_again_loses_nothing_and_creates_nothing_twice() {
    for (round, kill_after_ms) in [200u64, 450, 700, 1000].into_iter().enumerate() {
        let p = Project::with(&[("environments/dev.yaml", ENV)]);
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("cairn"))
            .current_dir(p.path())
            .args(["apply", "-e", "dev", "--auto-approve", "--parallelism", "3"])
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn cairn");
        std::thread::sleep(Duration::from_millis(kill_after_ms));
        assert!(
            child.try_wait().expect("child status").is_none(),
            "round {round}: the apply finished before the kill at {kill_after_ms} ms; the test needs longer latencies"
        );
        child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
        let _ = child.wait();
        let before_rerun = cloud_objects(&p).len();

        let (code, stdout, stderr) = p.run(&["apply", "-e", "dev", "--auto-approve"]);
        assert_eq!(
            code, 0,
            "round {round}: second apply failed\n{stdout}\n{stderr}"
        );

        let objects = cloud_objects(&p);
        let mut owners: BTreeMap<&str, usize> = BTreeMap::new();
        for (owner, _) in &objects {
            *owners.entry(owner).or_default() += 1;
        }
        let twice: Vec<_> = owners.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "round {round}: created twice: {twice:?}");
        let ids = state_ids(&p);
        for (owner, id) in &objects {
            assert_eq!(
                ids.get(owner),
                Some(id),
                "round {round}: {owner} ({id}) exists but state lost it"
            );
        }
        assert_eq!(
            objects.len(),
            12,
            "round {round}: every resource exists once"
        );
        let (code, stdout, _) = p.run(&["plan", "-e", "dev", "--detailed-exitcode"]);
        assert_eq!(code, 0, "round {round}: final plan not empty:\n{stdout}");
        println!(
            "round {round}: killed after {kill_after_ms} ms with {before_rerun} objects created; re-apply converged to {} objects, none twice",
            objects.len()
        );
    }
}

#[test]
fn ctrl_c_finishes_operations_in_flight_records_them_and_says_what_was_left() {
    // Slow enough that at 450 ms the database (which waits for the network and six subnets,
    // three at a time) cannot have started: the interrupt must leave work undone.
    let env = ENV.replace("default: 150", "default: 300");
    let p = Project::with(&[("environments/dev.yaml", env.as_str())]);
    let child = Command::new(assert_cmd::cargo::cargo_bin("cairn"))
        .current_dir(p.path())
        .args(["apply", "-e", "dev", "--auto-approve", "--parallelism", "3"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cairn");
    std::thread::sleep(Duration::from_millis(450));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("send SIGINT");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Interrupt received"), "{stderr}");
    assert!(stderr.contains("Apply interrupted"), "{stderr}");
    assert!(stderr.contains("were not started"), "{stderr}");

    // Everything the cloud holds is in state: the in-flight operations finished and were recorded.
    let ids = state_ids(&p);
    let objects = cloud_objects(&p);
    assert!(
        !objects.is_empty() && objects.len() < 12,
        "interrupted mid-way: {} objects",
        objects.len()
    );
    for (owner, id) in &objects {
        assert_eq!(
            ids.get(owner),
            Some(id),
            "{owner} exists but is not in state"
        );
    }
    let (code, _, stderr) = p.run(&["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(cloud_objects(&p).len(), 12);
}
