//! User stories of the S3 state backend against moto: a team sharing one environment's state in
//! a bucket. The resources are the fake provider's (its "cloud" is a file both team mates'
//! projects point at); the state and its lock live in S3. Also `force-unlock` after a killed
//! apply and `state migrate` between the local and the S3 backend.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::moto::Moto;
use common::{NETWORK_MODULE, Project, dev_env};

const SECRET: &str = "s3cret-Passw0rd";
const BUCKET: &str = "cairn-state";
const KEY: &str = "envs/dev.json";

/// The environment file with the S3 backend; the fake cloud at `store` (absolute, so a second
/// project can share it), every fake call taking `latency_ms`.
fn s3_env(store: &str, latency_ms: u32) -> String {
    with_backend(
        &dev_env(&format!("store: \"{store}\", latency_ms: {latency_ms}")),
        &format!("backend: {{ s3: {{ bucket: {BUCKET}, key: {KEY}, region: us-east-1 }} }}\n"),
    )
}

fn with_backend(env: &str, backend: &str) -> String {
    env.replacen(
        "environment: dev\n",
        &format!("environment: dev\n{backend}"),
        1,
    )
}

/// A project with the S3 backend whose fake cloud is `store` (its own by default).
fn project(store: Option<&str>, latency_ms: u32) -> Project {
    let p = Project::new();
    let own = p.file(".cairn/fake-cloud.json");
    let store = store
        .map(str::to_string)
        .unwrap_or_else(|| own.display().to_string());
    p.write("environments/dev.yaml", &s3_env(&store, latency_ms));
    p.write("modules/network/module.yaml", NETWORK_MODULE);
    p
}

/// moto with the state bucket, versioning on.
fn moto_with_bucket() -> Moto {
    let moto = Moto::start();
    let created = moto.rest("PUT", &format!("/{BUCKET}"), "s3");
    assert!(created.starts_with("HTTP/1.1 200"), "{created}");
    let versioning = moto.rest_xml(
        "PUT",
        &format!("/{BUCKET}?versioning"),
        "s3",
        "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>",
    );
    assert!(versioning.starts_with("HTTP/1.1 200"), "{versioning}");
    moto
}

fn command(p: &Project, moto: &Moto, args: &[&str]) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("cairn"));
    cmd.current_dir(p.path())
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("CAIRN_LOG")
        .env("DEMO_DB_PASSWORD", SECRET)
        .stdin(Stdio::null());
    moto.configure_process(&mut cmd);
    cmd
}

fn run(p: &Project, moto: &Moto, args: &[&str]) -> (i32, String, String) {
    let out = command(p, moto, args).output().expect("run cairn");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn spawn(p: &Project, moto: &Moto, args: &[&str]) -> Child {
    command(p, moto, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cairn")
}

fn finish(child: Child) -> (i32, String, String) {
    let out = child.wait_with_output().expect("wait for cairn");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The object's body, or `None` when S3 has no such key.
fn object(moto: &Moto, key: &str) -> Option<String> {
    let response = moto.rest("GET", &format!("/{BUCKET}/{key}"), "s3");
    if !response.starts_with("HTTP/1.1 200") {
        return None;
    }
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

fn state_in_s3(moto: &Moto) -> serde_json::Value {
    serde_json::from_str(&object(moto, KEY).expect("a state object")).expect("state JSON")
}

fn lineage_and_serial(state: &serde_json::Value) -> (String, u64) {
    (
        state["lineage"].as_str().expect("lineage").to_string(),
        state["serial"].as_u64().expect("serial"),
    )
}

/// The `lock id` a "locked by" message names.
fn lock_id(message: &str) -> String {
    let start = message.find("lock id ").expect("a lock id in the message") + "lock id ".len();
    message[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

fn wait_for_lock(moto: &Moto) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(record) = object(moto, &format!("{KEY}.lock")) {
            return record;
        }
        assert!(Instant::now() < deadline, "no lock object appeared");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_team_mate_plans_nothing_after_an_apply_with_the_s3_backend() {
    let moto = moto_with_bucket();
    let alice = project(None, 0);
    let (code, stdout, stderr) = run(&alice, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        !alice.file(".cairn/state/dev.json").exists(),
        "no local state file with the S3 backend"
    );
    let state = state_in_s3(&moto);
    assert_eq!(state["environment"], "dev");
    assert!(
        state["resources"].to_string().contains("fake_database"),
        "{state}"
    );
    assert!(
        !state.to_string().contains(SECRET),
        "the secret is sealed in S3 too"
    );
    assert!(
        object(&moto, &format!("{KEY}.lock")).is_none(),
        "the lock is released when apply ends"
    );

    // Bob clones the repository: same files, his own directory, the same cloud and bucket.
    let store = alice.file(".cairn/fake-cloud.json").display().to_string();
    let bob = project(Some(&store), 0);
    let (code, stdout, stderr) = run(&bob, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("No changes."), "{stdout}");

    // A state change by Bob is what Alice sees next; the old state is a version in the bucket.
    let (_, serial) = lineage_and_serial(&state);
    let (code, stdout, stderr) = run(
        &bob,
        &moto,
        &["state", "rm", "-e", "dev", "fake_database.db"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("the previous state is kept in the earlier versions of s3://"),
        "{stdout}"
    );
    let (code, stdout, _) = run(&alice, &moto, &["state", "list", "-e", "dev"]);
    assert_eq!(code, 0);
    assert!(!stdout.contains("fake_database.db"), "{stdout}");
    assert_eq!(lineage_and_serial(&state_in_s3(&moto)).1, serial + 1);

    // A saved plan finds its state in S3 again, without the YAML.
    let (code, stdout, stderr) = run(&alice, &moto, &["plan", "-e", "dev", "--out", "plan.cairn"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = run(&alice, &moto, &["apply", "plan.cairn"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        lineage_and_serial(&state_in_s3(&moto)).1 > serial + 1,
        "the apply saved to S3"
    );
    assert!(!alice.file(".cairn/state/dev.json").exists());
    let versions = moto.rest("GET", &format!("/{BUCKET}?versions&prefix={KEY}"), "s3");
    assert!(
        versions.matches("<Version>").count() >= 2,
        "versioning keeps the history: {versions}"
    );
}

/// The keys of the journal objects beside the state object.
fn journal_keys(moto: &Moto) -> Vec<String> {
    let listing = moto.rest(
        "GET",
        &format!("/{BUCKET}?list-type=2&prefix={KEY}.journal/"),
        "s3",
    );
    listing
        .split("<Key>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_string()))
        .collect()
}

/// Persisting after every operation writes what changed, not the whole state: an apply's writes
/// are small journal objects beside the state object. A killed apply leaves them, and the next
/// run reads them back (nothing the killed run made is lost or made twice); an apply that
/// finishes folds them into the state object and removes them.
#[test]
fn an_apply_journals_each_change_beside_the_state_object_and_folds_it_in_at_the_end() {
    let moto = moto_with_bucket();
    let p = Project::new();
    let store = p.file(".cairn/fake-cloud.json").display().to_string();
    let slow_database = s3_env(&store, 0).replace(
        "latency_ms: 0",
        "latency_ms: { default: 0, fake_database: 60000 }",
    );
    p.write("environments/dev.yaml", &slow_database);
    p.write("modules/network/module.yaml", NETWORK_MODULE);

    // Kill the apply while the database is being made, once the subnets are recorded.
    let mut apply = spawn(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let entries = loop {
        let bodies: Vec<String> = journal_keys(&moto)
            .iter()
            .filter_map(|key| object(&moto, key))
            .collect();
        if bodies.iter().filter(|b| b.contains("fake_subnet")).count() >= 2
            && bodies.iter().any(|b| b.contains("fake_database"))
        {
            break bodies;
        }
        assert!(Instant::now() < deadline, "no journal entries appeared");
        std::thread::sleep(Duration::from_millis(100));
    };
    apply.kill().expect("kill cairn");
    let _ = apply.wait();
    for entry in &entries {
        assert!(
            entry.starts_with("sha256:") && entry.trim_end().lines().count() == 1,
            "one checksummed line per write: {entry}"
        );
        assert!(
            !entry.contains(SECRET),
            "secrets are sealed in the journal too"
        );
    }
    let object_state = state_in_s3(&moto).to_string();
    assert!(
        !object_state.contains("fake_subnet"),
        "the subnets are only in the journal so far: {object_state}"
    );

    // The next run reads the journal: the subnets the killed apply made are in its state.
    let record: serde_json::Value =
        serde_json::from_str(&object(&moto, &format!("{KEY}.lock")).expect("a lock left behind"))
            .expect("lock record JSON");
    let id = record["id"].as_str().expect("lock id").to_string();
    let (code, _, stderr) = run(&p, &moto, &["force-unlock", &id, "-e", "dev"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(&p, &moto, &["state", "list", "-e", "dev"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("module.network.fake_subnet.subnet[\"zone-a\"]"),
        "{stdout}"
    );

    // An apply that finishes folds the journal into the object and removes it.
    p.write(
        "environments/dev.yaml",
        &slow_database.replace("fake_database: 60000", "fake_database: 0"),
    );
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(journal_keys(&moto), Vec::<String>::new());
    let object_state = state_in_s3(&moto).to_string();
    assert!(
        object_state.contains("fake_subnet") && object_state.contains("fake_database"),
        "{object_state}"
    );
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let cloud = p.cloud();
    let networks = cloud["objects"]
        .as_object()
        .expect("objects")
        .values()
        .filter(|o| o["type"] == "fake_network")
        .count();
    assert_eq!(networks, 1, "nothing was made twice");

    // A whole write claims its serial first; one killed between the claim and the write
    // leaves a claim that the next run frees instead of being stopped by it.
    let (lineage, serial) = lineage_and_serial(&state_in_s3(&moto));
    let claim = format!("{KEY}.journal/{lineage}/{:020}", serial + 1);
    let put = moto.rest("PUT", &format!("/{BUCKET}/{claim}"), "s3");
    assert!(put.starts_with("HTTP/1.1 200"), "{put}");
    let (code, stdout, stderr) = run(&p, &moto, &["state", "rm", "-e", "dev", "fake_database.db"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(lineage_and_serial(&state_in_s3(&moto)).1, serial + 1);
    assert_eq!(journal_keys(&moto), Vec::<String>::new());
}

#[test]
fn two_racing_applies_end_with_one_applied_and_the_other_told_who_holds_the_lock() {
    let moto = moto_with_bucket();
    let alice = project(None, 400);
    let store = alice.file(".cairn/fake-cloud.json").display().to_string();
    let bob = project(Some(&store), 400);

    let a = spawn(&alice, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    let b = spawn(&bob, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    let results = [finish(a), finish(b)];

    let won: Vec<_> = results.iter().filter(|r| r.0 == 0).collect();
    let lost: Vec<_> = results.iter().filter(|r| r.0 != 0).collect();
    assert_eq!(won.len(), 1, "exactly one apply succeeds: {results:#?}");
    assert_eq!(lost.len(), 1, "{results:#?}");
    let (_, _, message) = lost[0];
    assert!(
        message.contains("state of environment `dev` is locked by"),
        "{message}"
    );
    assert!(message.contains("running `apply`"), "{message}");
    assert!(message.contains('@'), "user@host: {message}");
    let id = lock_id(message);
    assert_eq!(id.len(), 16, "{message}");
    assert!(
        message.contains(&format!("cairn force-unlock {id} -e dev")),
        "{message}"
    );

    // One set of objects in the cloud, recorded once in state.
    let cloud: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&store).expect("cloud")).expect("JSON");
    let databases = cloud["objects"]
        .as_object()
        .expect("objects")
        .values()
        .filter(|o| o["type"] == "fake_database")
        .count();
    assert_eq!(databases, 1, "{cloud}");
    assert!(object(&moto, &format!("{KEY}.lock")).is_none());
    let (code, stdout, stderr) = run(&bob, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
}

#[test]
fn a_killed_apply_leaves_a_lock_that_only_force_unlock_with_its_id_removes() {
    let moto = moto_with_bucket();
    let p = project(None, 3000);
    let mut apply = spawn(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    let record = wait_for_lock(&moto);
    apply.kill().expect("kill cairn");
    let _ = apply.wait();
    let record: serde_json::Value = serde_json::from_str(&record).expect("lock record JSON");
    assert_eq!(record["operation"], "apply");
    let id = record["id"].as_str().expect("id").to_string();

    // The lock outlives its holder: a plan is refused, naming it.
    let (code, _, stderr) = run(&p, &moto, &["plan", "-e", "dev"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&format!("lock id {id}")), "{stderr}");
    assert!(stderr.contains("running `apply`"), "{stderr}");

    // A wrong id removes nothing.
    let (code, _, stderr) = run(
        &p,
        &moto,
        &["force-unlock", "0123456789abcdef", "-e", "dev"],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("has id {id}, not 0123456789abcdef")),
        "{stderr}"
    );
    assert!(object(&moto, &format!("{KEY}.lock")).is_some());

    let (code, stdout, stderr) = run(&p, &moto, &["force-unlock", &id, "-e", "dev"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("Removed the lock of environment `dev`"),
        "{stdout}"
    );
    assert!(object(&moto, &format!("{KEY}.lock")).is_none());
    let (code, _, stderr) = run(&p, &moto, &["force-unlock", &id, "-e", "dev"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("is not locked"), "{stderr}");

    // The environment works again, and what the killed apply made is not made twice.
    let fast = std::fs::read_to_string(p.file("environments/dev.yaml"))
        .expect("env")
        .replace("latency_ms: 3000", "latency_ms: 0");
    p.write("environments/dev.yaml", &fast);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
}

/// The lock is the first line of defence; the conditional write the second. A lock broken by
/// mistake while its apply still runs loses no write: the apply's next save finds the state
/// changed and stops.
#[test]
fn an_apply_whose_lock_was_broken_cannot_overwrite_a_newer_state() {
    let moto = moto_with_bucket();
    let p = project(None, 1500);
    let store = p.file(".cairn/fake-cloud.json").display().to_string();
    let mate = project(Some(&store), 0);
    let apply = spawn(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    let record: serde_json::Value =
        serde_json::from_str(&wait_for_lock(&moto)).expect("lock record JSON");
    let id = record["id"].as_str().expect("id").to_string();
    // The first save: the network exists.
    let deadline = Instant::now() + Duration::from_secs(30);
    while object(&moto, KEY).is_none() {
        assert!(Instant::now() < deadline, "no state written");
        std::thread::sleep(Duration::from_millis(50));
    }

    let (code, _, stderr) = run(&mate, &moto, &["force-unlock", &id, "-e", "dev"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(
        &mate,
        &moto,
        &[
            "state",
            "rm",
            "-e",
            "dev",
            "module.network.fake_network.vpc",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let written = state_in_s3(&moto);

    let (code, stdout, stderr) = finish(apply);
    assert_ne!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("changed underneath this run")
            && stderr.contains("nothing was overwritten"),
        "{stdout}\n{stderr}"
    );
    assert_eq!(state_in_s3(&moto), written, "the mate's state stands");
}

#[test]
fn state_migrate_moves_local_state_to_s3_and_back_keeping_lineage_and_serial() {
    let moto = moto_with_bucket();
    let p = project(None, 0);
    let s3 = p.read("environments/dev.yaml");
    let local = s3.replacen(
        &format!("backend: {{ s3: {{ bucket: {BUCKET}, key: {KEY}, region: us-east-1 }} }}\n"),
        "",
        1,
    );
    assert_ne!(local, s3);
    p.write("environments/dev.yaml", &local);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let local_state: serde_json::Value =
        serde_json::from_str(&p.read(".cairn/state/dev.json")).expect("state");
    let (lineage, serial) = lineage_and_serial(&local_state);

    // The file now names S3; the state is copied there as it is.
    p.write("environments/dev.yaml", &s3);
    let (code, stdout, stderr) = run(
        &p,
        &moto,
        &["state", "migrate", "-e", "dev", "--from", "local"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("lineage {lineage}, serial {serial}")),
        "{stdout}"
    );
    assert_eq!(
        lineage_and_serial(&state_in_s3(&moto)),
        (lineage.clone(), serial)
    );
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("No changes."), "{stdout}");

    // Migrating again copies nothing.
    let (code, stdout, _) = run(
        &p,
        &moto,
        &["state", "migrate", "-e", "dev", "--from", "local"],
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("nothing to copy"), "{stdout}");

    // A change made on S3 (serial + 1), then back to a local file elsewhere.
    let (code, _, stderr) = run(&p, &moto, &["state", "rm", "-e", "dev", "fake_database.db"]);
    assert_eq!(code, 0, "{stderr}");
    let back = with_backend(
        &local,
        "backend: { local: { path: state/dev-local.json } }\n",
    );
    p.write("environments/dev.yaml", &back);
    let from = format!("s3://{BUCKET}/{KEY}");
    let (code, stdout, stderr) = run(
        &p,
        &moto,
        &[
            "state",
            "migrate",
            "-e",
            "dev",
            "--from",
            &from,
            "--from-region",
            "us-east-1",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let returned: serde_json::Value =
        serde_json::from_str(&p.read("state/dev-local.json")).expect("state");
    assert_eq!(lineage_and_serial(&returned), (lineage.clone(), serial + 1));
    let (code, stdout, _) = run(&p, &moto, &["state", "list", "-e", "dev"]);
    assert_eq!(code, 0);
    assert!(!stdout.contains("fake_database.db"), "{stdout}");

    // The old default file is another history now (serial behind, same lineage): moving the
    // local state back over the newer S3 one is refused, and so is another lineage.
    p.write("environments/dev.yaml", &s3);
    let (code, _, stderr) = run(
        &p,
        &moto,
        &["state", "migrate", "-e", "dev", "--from", "local"],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("already holds a newer state"), "{stderr}");
    let other = Project::new();
    other.write("environments/dev.yaml", &local);
    other.write("modules/network/module.yaml", NETWORK_MODULE);
    let (code, _, stderr) = run(&other, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    other.write("environments/dev.yaml", &s3);
    let (code, _, stderr) = run(
        &other,
        &moto,
        &["state", "migrate", "-e", "dev", "--from", "local"],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("of another lineage"), "{stderr}");
    assert!(stderr.contains("it was not overwritten"), "{stderr}");
    assert_eq!(
        lineage_and_serial(&state_in_s3(&moto)),
        (lineage, serial + 1)
    );
}

#[test]
fn the_s3_backend_block_is_checked_with_positions() {
    let p = Project::new();
    p.write(
        "environments/dev.yaml",
        "environment: dev\nbackend:\n  s3: { bucket: b, kye: k }\nproviders:\n  fake: {}\n",
    );
    let (code, _, stderr) = p.run(&["validate", "-e", "dev"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("unknown key `kye` in `backend.s3`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("expected one of: bucket, key, region"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`backend.s3` is missing `key`, `region`"),
        "{stderr}"
    );
    assert!(stderr.contains("environments/dev.yaml:3:"), "{stderr}");

    p.write(
        "environments/dev.yaml",
        "environment: dev\nbackend: { s3: { bucket: b, key: k, region: us-east-1, endpoint: http://x } }\nproviders:\n  fake: {}\n",
    );
    let (code, _, stderr) = p.run(&["validate", "-e", "dev"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("unknown key `endpoint` in `backend.s3`"),
        "{stderr}"
    );
}

/// moto honours S3's conditional writes, checked with the SDK through `cairn_aws::objects`: a
/// probe run in a child of this test binary, so that `AWS_ENDPOINT_URL` is set for that process
/// alone.
#[test]
fn moto_honours_if_none_match_and_if_match_on_put_and_delete() {
    let moto = moto_with_bucket();
    let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
    cmd.args([
        "--ignored",
        "--exact",
        "conditional_write_probe",
        "--nocapture",
    ])
    .env("CAIRN_S3_PROBE", "1");
    moto.configure_process(&mut cmd);
    let out = cmd.output().expect("run the probe");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("probe: all conditions honoured"),
        "{stdout}"
    );
}

#[tokio::test]
#[ignore = "run by moto_honours_if_none_match_and_if_match_on_put_and_delete"]
async fn conditional_write_probe() {
    use cairn_aws::objects::{Bucket, Expect, ObjectError};
    if std::env::var_os("CAIRN_S3_PROBE").is_none() {
        return;
    }
    let bucket = Bucket::connect(BUCKET, Some("us-east-1"))
        .await
        .expect("connect");
    let precondition =
        |r: Result<String, ObjectError>| matches!(r, Err(ObjectError::PreconditionFailed { .. }));
    let first = bucket
        .put("probe", b"one".to_vec(), "text/plain", &Expect::Absent)
        .await
        .expect("If-None-Match: * on a new key");
    assert!(precondition(
        bucket
            .put("probe", b"two".to_vec(), "text/plain", &Expect::Absent)
            .await
    ));
    assert!(precondition(
        bucket
            .put(
                "probe",
                b"two".to_vec(),
                "text/plain",
                &Expect::Etag("\"0000\"".into())
            )
            .await
    ));
    let second = bucket
        .put(
            "probe",
            b"two".to_vec(),
            "text/plain",
            &Expect::Etag(first.clone()),
        )
        .await
        .expect("If-Match with the current ETag");
    assert_ne!(first, second);
    assert!(precondition(
        bucket
            .put(
                "probe",
                b"three".to_vec(),
                "text/plain",
                &Expect::Etag(first.clone())
            )
            .await
    ));
    let read = bucket.get("probe").await.expect("get").expect("object");
    assert_eq!(read.bytes, b"two");
    assert_eq!(read.etag, second);
    assert!(matches!(
        bucket.delete("probe", Some(&first)).await,
        Err(ObjectError::PreconditionFailed { .. })
    ));
    bucket.delete("probe", Some(&second)).await.expect("delete");
    assert!(bucket.get("probe").await.expect("get").is_none());
    // Versioned bucket: a delete marker counts as absent.
    bucket
        .put("probe", b"again".to_vec(), "text/plain", &Expect::Absent)
        .await
        .expect("If-None-Match: * after a delete in a versioned bucket");
    assert!(bucket.versioning_enabled().await.expect("versioning"));
    println!("probe: all conditions honoured");
}
