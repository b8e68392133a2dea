//! Test support: a throw-away project directory and a `cairn` command running in it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub mod arm;
pub mod aws;
pub mod faults;
pub mod moto;
pub mod story;

pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        Project {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A project with one environment file and any number of modules: `(path, text)` pairs.
    pub fn with(files: &[(&str, &str)]) -> Project {
        let p = Project::new();
        for (path, text) in files {
            p.write(path, text);
        }
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.file(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.file(rel)).expect("read")
    }

    /// `cairn ARGS` in this project, without color and with a clean log setting.
    pub fn cairn(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("cairn").expect("cairn binary");
        cmd.current_dir(self.path())
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("CAIRN_LOG")
            .env_remove("DATASETS_DB_PASSWORD");
        cmd
    }

    /// Runs cairn and returns (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.cairn(args).output().expect("run cairn");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The fake cloud's objects (the provider's JSON store).
    pub fn cloud(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.file(".cairn/fake-cloud.json"))
            .unwrap_or_else(|_| "{}".into());
        serde_json::from_str(&text).expect("fake cloud JSON")
    }
}

/// A small network environment: a network, a subnet per zone, a database using them.
pub const NETWORK_MODULE: &str = r#"inputs:
  name: { type: string }
  cidr: { type: string, default: 10.0.0.0/16 }
  zones: { type: list(string) }
resources:
  vpc:
    type: fake_network
    properties:
      cidr_block: ${inputs.cidr}
      name: ${inputs.name}
  subnet:
    type: fake_subnet
    for_each: ${inputs.zones}
    properties:
      network_id: ${vpc.id}
      zone: ${each.value}
      cidr_block: ${cidrsubnet(inputs.cidr, 8, index(inputs.zones, each.value) + 1)}
outputs:
  network_id: ${vpc.id}
  subnet_ids: ${subnet[*].id}
"#;

pub fn dev_env(extra_provider_settings: &str) -> String {
    format!(
        r#"environment: dev
providers:
  fake: {{ {extra_provider_settings} }}
tags: {{ env: dev }}
modules:
  network:
    source: network
    inputs: {{ name: demo, zones: [zone-a, zone-b] }}
resources:
  db:
    type: fake_database
    properties:
      engine: postgres
      instance_class: db.t3.micro
      username: app
      password: ${{env.DEMO_DB_PASSWORD}}
      subnet_ids: ${{network.subnet_ids}}
outputs:
  network: ${{network.network_id}}
"#
    )
}

/// Copies a directory tree (the repository's modules and examples into a throw-away project).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A copy of the repository's top-level modules/ and of `examples/<name>/` in a throw-away
/// directory laid out as the repository is, its root marked by a `.git` directory: module sources
/// may climb up to the repository's root and no further. Plans and applies never write into the
/// checkout.
pub fn example(name: &str) -> Project {
    let p = Project::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&root.join("modules"), &p.file("modules"));
    for dir in ["modules", "environments"] {
        let from = root.join("examples").join(name).join(dir);
        if from.is_dir() {
            copy_dir(&from, &p.file(&format!("examples/{name}/{dir}")));
        }
    }
    std::fs::create_dir_all(p.file(".git")).unwrap();
    p
}
