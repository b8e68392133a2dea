//! What a team does once an environment is applied, on the fake provider: state surgery,
//! `moved:` refactors, targeted and forced-replacement plans, drift checks and PR comments.

mod common;

use common::{NETWORK_MODULE, Project, dev_env};

const SECRET: &str = "s3cret-Passw0rd";

fn applied() -> Project {
    let p = Project::with(&[
        ("environments/dev.yaml", &dev_env("")),
        ("modules/network/module.yaml", NETWORK_MODULE),
    ]);
    let (code, stdout, stderr) = run(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    p
}

fn run(p: &Project, args: &[&str]) -> (i32, String, String) {
    let out = p
        .cairn(args)
        .env("DEMO_DB_PASSWORD", SECRET)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn serial(p: &Project, file: &str) -> u64 {
    let state: serde_json::Value = serde_json::from_str(&p.read(file)).expect("state JSON");
    state["serial"].as_u64().expect("serial")
}

fn cloud_has(p: &Project, address: &str) -> bool {
    p.cloud()["objects"]
        .as_object()
        .expect("objects")
        .values()
        .any(|o| o["cairn:address"] == address)
}

#[test]
fn state_mv_renames_with_a_new_serial_and_a_backup_and_refuses_a_taken_destination() {
    let p = applied();
    let before = serial(&p, ".cairn/state/dev.json");

    let (code, stdout, stderr) = run(
        &p,
        &["state", "mv", "-e", "dev", "module.network", "module.net"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("Moved module.network.fake_network.vpc to module.net.fake_network.vpc"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Successfully moved 3 objects in state"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "State serial {before} -> {}; the previous state is kept in .cairn/state/dev.json.backup.",
            before + 1
        )),
        "{stdout}"
    );
    assert_eq!(serial(&p, ".cairn/state/dev.json"), before + 1);
    assert_eq!(serial(&p, ".cairn/state/dev.json.backup"), before);
    let (_, list, _) = run(&p, &["state", "list", "-e", "dev"]);
    assert!(
        list.contains("module.net.fake_subnet.subnet[\"zone-a\"]"),
        "{list}"
    );
    assert!(!list.contains("module.network."), "{list}");

    // A destination that exists is refused, and nothing is written.
    let (code, _, stderr) = run(
        &p,
        &[
            "state",
            "mv",
            "-e",
            "dev",
            "module.net.fake_subnet.subnet[\"zone-a\"]",
            "module.net.fake_subnet.subnet[\"zone-b\"]",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("cannot move `module.net.fake_subnet.subnet[\"zone-a\"]` to `module.net.fake_subnet.subnet[\"zone-b\"]`: `module.net.fake_subnet.subnet[\"zone-b\"]` is already in state"),
        "{stderr}"
    );
    assert_eq!(serial(&p, ".cairn/state/dev.json"), before + 1);

    // Moved back, the spec matches again: nothing to do, nothing was ever replaced.
    let (code, _, stderr) = run(
        &p,
        &["state", "mv", "-e", "dev", "module.net", "module.network"],
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(&p, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
}

#[test]
fn state_rm_forgets_without_deleting_and_says_so() {
    let p = applied();
    let before = serial(&p, ".cairn/state/dev.json");
    let (code, stdout, stderr) = run(&p, &["state", "rm", "-e", "dev", "fake_database.db"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Removed fake_database.db"), "{stdout}");
    assert!(
        stdout.contains("The cloud objects still exist: cairn no longer manages them."),
        "{stdout}"
    );
    assert_eq!(serial(&p, ".cairn/state/dev.json"), before + 1);
    assert!(
        cloud_has(&p, "fake_database.db"),
        "the database stays in the cloud"
    );
    let (_, list, _) = run(&p, &["state", "list", "-e", "dev"]);
    assert!(!list.contains("fake_database.db"), "{list}");

    let (code, _, stderr) = run(&p, &["state", "rm", "-e", "dev", "fake_database.db"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no instance in state matches `fake_database.db`"),
        "{stderr}"
    );
}

#[test]
fn moved_entries_rename_without_replacing_also_across_modules() {
    let p = applied();
    // The root renames its database and the module call; the module renames its network.
    let env = dev_env("")
        .replace(
            "  network:\n    source: network",
            "  net:\n    source: network",
        )
        .replace("${network.", "${net.")
        .replace(
            "  db:\n    type: fake_database",
            "  database:\n    type: fake_database",
        )
        + "moved:\n  - { from: fake_database.db, to: fake_database.database }\n  - { from: module.network, to: module.net }\n";
    let module = NETWORK_MODULE
        .replace("  vpc:\n", "  main:\n")
        .replace("${vpc.id}", "${main.id}")
        + "moved:\n  - from: fake_network.vpc\n    to: fake_network.main\n";
    p.write("environments/dev.yaml", &env);
    p.write("modules/network/module.yaml", &module);

    let (code, stdout, stderr) = run(&p, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "moves are changes to apply\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("# fake_database.db has moved to fake_database.database"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "# module.network.fake_network.vpc has moved to module.net.fake_network.main"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "# module.network.fake_subnet.subnet[\"zone-a\"] has moved to module.net.fake_subnet.subnet[\"zone-a\"]"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("Plan: 0 to add, 0 to change, 0 to destroy."),
        "{stdout}"
    );

    // Saved and applied later, as CI does: the plan file carries the moves.
    let (code, _, stderr) = run(&p, &["plan", "-e", "dev", "--out", "moved.cairn"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(&p, &["apply", "moved.cairn"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("fake_database.database: moved from fake_database.db"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Apply complete! Resources: 0 added, 0 changed, 0 destroyed."),
        "{stdout}"
    );
    let (_, list, _) = run(&p, &["state", "list", "-e", "dev"]);
    assert_eq!(
        list.lines().collect::<Vec<_>>(),
        [
            "fake_database.database",
            "module.net.fake_network.main",
            "module.net.fake_subnet.subnet[\"zone-a\"]",
            "module.net.fake_subnet.subnet[\"zone-b\"]",
        ]
    );
    assert!(
        cloud_has(&p, "fake_database.db"),
        "the same object, never replaced"
    );
    // The entries stay in the files, done: the next plan is empty.
    let (code, stdout, stderr) = run(&p, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
}

#[test]
fn a_moved_entry_whose_both_ends_are_in_state_or_that_repeats_points_at_the_file() {
    let p = applied();
    let env = dev_env("")
        + "moved:\n  - from: module.network.fake_subnet.subnet[\"zone-a\"]\n    to: module.network.fake_subnet.subnet[\"zone-b\"]\n";
    p.write("environments/dev.yaml", &env);
    let (code, _, stderr) = run(&p, &["plan", "-e", "dev"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("cannot move `module.network.fake_subnet.subnet[\"zone-a\"]` to `module.network.fake_subnet.subnet[\"zone-b\"]`: both are in state"),
        "{stderr}"
    );
    assert!(stderr.contains("environments/dev.yaml:21:11"), "{stderr}");

    let env = dev_env("")
        + "moved:\n  - { from: fake_database.old, to: fake_database.db }\n  - { from: fake_database.older, to: fake_database.db }\n";
    p.write("environments/dev.yaml", &env);
    let (code, _, stderr) = run(&p, &["plan", "-e", "dev"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("`fake_database.db` is the destination of two moved entries"),
        "{stderr}"
    );
    assert!(stderr.contains("environments/dev.yaml:22:"), "{stderr}");
}

#[test]
fn target_plans_only_the_target_and_its_dependencies_and_warns() {
    let p = applied();
    // Two independent edits: the network's name and the database's size.
    let env = dev_env("")
        .replace("name: demo,", "name: demo2,")
        .replace("db.t3.micro", "db.t3.small");
    p.write("environments/dev.yaml", &env);

    let (code, stdout, stderr) = run(
        &p,
        &[
            "plan",
            "-e",
            "dev",
            "--target",
            "module.network",
            "--markdown",
            "plan.md",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("Warning: Resource targeting is in effect: this plan covers only `module.network` and what they depend on"),
        "{stdout}"
    );
    assert!(
        stdout.contains("# module.network.fake_network.vpc will be updated in-place"),
        "{stdout}"
    );
    assert!(!stdout.contains("fake_database.db"), "{stdout}");
    assert!(
        stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{stdout}"
    );
    assert!(
        p.read("plan.md")
            .contains("> [!WARNING]\n> Resource targeting is in effect")
    );

    // The database reads the subnets, which read the network: targeting it pulls both in.
    // Written as Terraform users type it, with one dash.
    let (code, stdout, stderr) = run(&p, &["plan", "-e", "dev", "-target=fake_database.db"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("# fake_database.db will be updated in-place"),
        "{stdout}"
    );
    assert!(
        stdout.contains("# module.network.fake_network.vpc will be updated in-place"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Plan: 0 to add, 2 to change, 0 to destroy."),
        "{stdout}"
    );

    let (code, stdout, stderr) = run(
        &p,
        &[
            "apply",
            "-e",
            "dev",
            "--target",
            "module.network",
            "--auto-approve",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Resources: 0 added, 1 changed, 0 destroyed."),
        "{stdout}"
    );
    let (_, stdout, _) = run(&p, &["plan", "-e", "dev"]);
    assert!(
        stdout.contains("# fake_database.db will be updated in-place"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{stdout}"
    );
}

#[test]
fn replace_forces_a_replacement_of_an_unchanged_instance() {
    let p = applied();
    let (code, stdout, stderr) = run(
        &p,
        &[
            "apply",
            "-e",
            "dev",
            "--replace",
            "fake_database.db",
            "--auto-approve",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# fake_database.db will be replaced, as requested"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Resources: 1 added, 0 changed, 1 destroyed."),
        "{stdout}"
    );
}

/// Edits the fake cloud's file as someone working outside cairn would change the real cloud.
fn edit_cloud(p: &Project, edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) {
    let mut cloud = p.cloud();
    let objects = cloud["objects"].as_object_mut().expect("objects");
    edit(objects);
    p.write(
        ".cairn/fake-cloud.json",
        &serde_json::to_string_pretty(&cloud).expect("JSON"),
    );
}

fn drift_by_hand(p: &Project) {
    edit_cloud(p, |objects| {
        let subnet = objects
            .iter()
            .find(|(_, o)| o["cairn:address"] == "module.network.fake_subnet.subnet[\"zone-b\"]")
            .map(|(id, _)| id.clone())
            .expect("subnet in the cloud");
        objects.remove(&subnet);
        for object in objects.values_mut() {
            if object["cairn:address"] == "module.network.fake_network.vpc" {
                object["attributes"]["name"] = "renamed-by-hand".into();
            }
        }
    });
}

#[test]
fn drift_reports_changes_and_vanished_objects_and_exits_2() {
    let p = applied();
    let (code, stdout, stderr) = run(&p, &["drift", "-e", "dev", "--json", "clean.json"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("No drift."), "{stdout}");
    let clean: serde_json::Value = serde_json::from_str(&p.read("clean.json")).expect("JSON");
    assert_eq!(clean["drifted"], false);

    drift_by_hand(&p);
    let serial_before = serial(&p, ".cairn/state/dev.json");
    let (code, stdout, stderr) = run(
        &p,
        &[
            "drift",
            "-e",
            "dev",
            "--json",
            "drift.json",
            "--markdown",
            "drift.md",
        ],
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Note: Objects have changed outside of cairn"),
        "{stdout}"
    );
    assert!(
        stdout.contains("# module.network.fake_network.vpc has changed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("~ name = \"demo\" -> \"renamed-by-hand\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("# module.network.fake_subnet.subnet[\"zone-b\"] has been deleted"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Drift: 1 changed, 1 vanished outside cairn, 0 unmanaged."),
        "{stdout}"
    );
    assert_eq!(
        serial(&p, ".cairn/state/dev.json"),
        serial_before,
        "a check writes nothing"
    );

    let report: serde_json::Value = serde_json::from_str(&p.read("drift.json")).expect("JSON");
    assert_eq!(report["format_version"], "1.0");
    assert_eq!(report["drifted"], true);
    assert_eq!(report["summary"]["changed"], 1);
    assert_eq!(report["summary"]["vanished"], 1);
    let vpc = &report["resources"][0];
    assert_eq!(vpc["address"], "module.network.fake_network.vpc");
    assert_eq!(vpc["status"], "changed");
    assert_eq!(vpc["planned_action"], "update");
    assert_eq!(
        vpc["attributes"],
        serde_json::json!([{ "name": "name", "before": "demo", "after": "renamed-by-hand", "sensitive": false }])
    );
    let subnet = &report["resources"][1];
    assert_eq!(subnet["status"], "vanished");
    assert_eq!(subnet["planned_action"], "create");
    let md = p.read("drift.md");
    assert!(
        md.contains("**Drift detected:** 1 changed outside cairn, 1 vanished, 0 unmanaged."),
        "{md}"
    );
    assert!(
        md.contains("| `name` | `\"demo\"` | `\"renamed-by-hand\"` |"),
        "{md}"
    );
    for text in [&stdout, &stderr, &p.read("drift.json"), &md] {
        assert!(!text.contains(SECRET), "secret leaked into:\n{text}");
    }
}

#[test]
fn refresh_only_shows_the_drift_as_a_plan_and_apply_accepts_it_into_state() {
    let p = applied();
    drift_by_hand(&p);
    let (code, stdout, stderr) = run(
        &p,
        &["plan", "-e", "dev", "--refresh-only", "--detailed-exitcode"],
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# module.network.fake_network.vpc has changed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("This is a refresh-only plan, so cairn will not take any actions"),
        "{stdout}"
    );
    assert!(!stdout.contains("will be created"), "{stdout}");

    let before = serial(&p, ".cairn/state/dev.json");
    let (code, stdout, stderr) = run(
        &p,
        &["apply", "-e", "dev", "--refresh-only", "--auto-approve"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Recorded 2 change(s) made outside cairn in the state"),
        "{stdout}"
    );
    assert_eq!(serial(&p, ".cairn/state/dev.json"), before + 1);
    let (_, show, _) = run(
        &p,
        &[
            "state",
            "show",
            "-e",
            "dev",
            "module.network.fake_network.vpc",
        ],
    );
    assert!(show.contains("\"renamed-by-hand\""), "{show}");
    let (_, list, _) = run(&p, &["state", "list", "-e", "dev"]);
    assert!(!list.contains("zone-b"), "{list}");

    // Accepted: no drift any more, but the spec still differs, and drift says so.
    let (code, stdout, stderr) = run(&p, &["drift", "-e", "dev"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("No drift."), "{stdout}");
    assert!(
        stdout
            .contains("Plan: 1 to add, 2 to change, 0 to destroy; `cairn plan -e dev` shows them"),
        "{stdout}"
    );
}

#[test]
fn the_markdown_for_a_pr_puts_risky_changes_first_and_warns_about_data() {
    let p = applied();
    let env = dev_env("").replace("name: demo,", "name: demo2,");
    p.write("environments/dev.yaml", &env);
    let (code, _, stderr) = run(
        &p,
        &[
            "plan",
            "-e",
            "dev",
            "--replace",
            "fake_database.db",
            "--markdown",
            "plan.md",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    let md = p.read("plan.md");
    assert!(
        md.starts_with(
            "## cairn plan for `dev`\n\n**Plan: 1 to add, 1 to change, 1 to destroy.**\n"
        ),
        "{md}"
    );
    assert!(
        md.contains(
            "> [!CAUTION]\n> **Data at risk:** this plan destroys or replaces 1 stateful resource"
        ),
        "{md}"
    );
    assert!(
        md.contains("> - `fake_database.db` — replace (destroy, then create)"),
        "{md}"
    );
    let replace = md.find("| 🟠").expect("a replacement row");
    let update = md.find("| 🟡").expect("an update row");
    assert!(replace < update, "replacements come first:\n{md}");
    assert!(
        md.contains("<details><summary>fake_database.db — replace"),
        "{md}"
    );
    assert!(md.contains("```mermaid\n"), "{md}");
    assert!(!md.contains(SECRET), "{md}");
}
