//! The `arm-test-server` binary: started with `--port 0` it prints the URL it listens on and
//! serves there until killed.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn the_binary_prints_its_url_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_arm-test-server"))
        .args(["--port", "0", "--examples"])
        .arg(common::examples_dir())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let types = common::http("GET", &format!("{url}/_test/types"), &[], None);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(types.status, 200);
    assert!(
        types
            .body
            .contains("Microsoft.ContainerService/managedClusters/agentPools")
    );
}

#[test]
fn the_binary_fails_clearly_without_examples() {
    let out = Command::new(env!("CARGO_BIN_EXE_arm-test-server"))
        .args([
            "--port",
            "0",
            "--examples",
            "/nonexistent/azure-rest-examples",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read"), "{stderr}");
}
