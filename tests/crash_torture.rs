//! The torture test of issue 10: the reference stack (datasets dev, ~90 resources) applied on
//! moto, cairn SIGKILLed at a random moment, applied again. After each round every object in
//! moto that carries the environment's tags is in state (drift finds nothing untracked), nothing
//! exists twice, and the final plan is empty.
//!
//! `cargo test --test crash_torture -- --ignored --nocapture` runs three rounds,
//! `CAIRN_TORTURE_ROUNDS=100` more; each prints its kill point and outcome (docs/reliability.md).
//! It is not in the default run yet: it still finds types whose interrupted create is not
//! adopted (see the `ignore` reason).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::aws::owned_in;
use common::moto::Moto;
use common::{Project, copy_dir};

const REGION: &str = "ap-northeast-1";

fn reference_stack() -> Project {
    let p = Project::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["modules", "environments"] {
        copy_dir(&root.join(dir), &p.file(dir));
    }
    p
}

fn run(p: &Project, moto: &Moto, args: &[&str]) -> (i32, String, String) {
    let mut cmd = p.cairn(args);
    moto.configure(&mut cmd);
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A deterministic stream of kill points for a seed (xorshift).
struct KillPoints(u64);

impl KillPoints {
    fn next_ms(&mut self, max_ms: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        300 + self.0 % max_ms.saturating_sub(300).max(1)
    }
}

/// What one round saw.
struct Round {
    kill_ms: u64,
    in_state_at_kill: usize,
    in_state_after: usize,
    vpcs: usize,
    subnets: usize,
}

fn round(seed_ms: u64) -> Round {
    let moto = Moto::start();
    let p = reference_stack();
    let mut apply = Command::new(assert_cmd::cargo::cargo_bin("cairn"));
    apply
        .current_dir(p.path())
        .args(["apply", "-e", "dev", "--auto-approve"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    moto.configure_process(&mut apply);
    let started = Instant::now();
    let mut child = apply.spawn().expect("spawn cairn");
    std::thread::sleep(Duration::from_millis(seed_ms));
    let finished_first = child.try_wait().expect("child status").is_some();
    child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
    let _ = child.wait();
    let kill_ms = started.elapsed().as_millis() as u64;
    let listed = |p: &Project| {
        let (_, stdout, _) = run(p, &moto, &["state", "list", "-e", "dev"]);
        stdout.lines().count()
    };
    let in_state_at_kill = listed(&p);

    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(
        code, 0,
        "killed at {kill_ms} ms (finished first: {finished_first}): the second apply failed\n{stdout}\n{stderr}"
    );
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(
        code, 0,
        "killed at {kill_ms} ms: the final plan is not empty\n{stdout}\n{stderr}"
    );
    // Everything the environment's tags mark in moto is in state: drift finds no untracked
    // object (a create the killed run made but never recorded would be one).
    let (code, stdout, stderr) = run(&p, &moto, &["drift", "-e", "dev"]);
    assert_eq!(
        code, 0,
        "killed at {kill_ms} ms: drift after the second apply\n{stdout}\n{stderr}"
    );
    // Nothing twice: exactly the stack's network exists.
    let vpcs = owned_in(&moto, REGION, "DescribeVpcs", "vpcId").len();
    let subnets = owned_in(&moto, REGION, "DescribeSubnets", "subnetId").len();
    assert_eq!(
        (vpcs, subnets),
        (1, 6),
        "killed at {kill_ms} ms: VPCs and subnets"
    );
    let buckets = moto.s3_list_buckets();
    for bucket in ["datasets-dev-data", "datasets-dev-backups"] {
        assert_eq!(
            buckets.matches(&format!(">{bucket}<")).count(),
            1,
            "{bucket}: {buckets}"
        );
    }
    Round {
        kill_ms,
        in_state_at_kill,
        in_state_after: listed(&p),
        vpcs,
        subnets,
    }
}

#[test]
#[ignore = "finds adoption gaps not fixed yet (a target group or security group rule whose create landed after the kill is created again): run with --ignored; see docs/reliability.md"]
fn sigkill_at_random_moments_of_the_reference_stack_apply_loses_nothing_and_duplicates_nothing() {
    let rounds: usize = std::env::var("CAIRN_TORTURE_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("CAIRN_TORTURE_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x5eed_cafe);
    // The debug build applies the stack on moto in about 10 s; kill points spread over it.
    let mut points = KillPoints(seed);
    let started = Instant::now();
    for n in 1..=rounds {
        let r = round(points.next_ms(9_000));
        println!(
            "round {n}/{rounds}: killed at {} ms with {} resources in state; re-apply converged to {} (VPCs {}, subnets {}), drift clean, plan empty",
            r.kill_ms, r.in_state_at_kill, r.in_state_after, r.vpcs, r.subnets
        );
    }
    println!(
        "{rounds} rounds (seed {seed:#x}) in {:.0} s: nothing lost, nothing created twice",
        started.elapsed().as_secs_f64()
    );
}
