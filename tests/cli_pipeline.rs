//! The pipeline as a user lives it, on the fake provider: plan, apply, plan again, change,
//! save and apply plans, destroy.

mod common;

use common::{NETWORK_MODULE, Project, dev_env};

const SECRET: &str = "s3cret-Passw0rd";

fn project() -> Project {
    Project::with(&[
        ("environments/dev.yaml", &dev_env("")),
        ("modules/network/module.yaml", NETWORK_MODULE),
    ])
}

fn run_with_secret(p: &Project, args: &[&str]) -> (i32, String, String) {
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

#[test]
fn first_plan_shows_every_create_and_exits_2_with_detailed_exitcode() {
    let p = project();
    let (code, stdout, stderr) = run_with_secret(&p, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stderr}");
    insta::assert_snapshot!(stdout);
}

#[test]
fn apply_then_plan_again_is_empty() {
    let p = project();
    let (code, stdout, stderr) = run_with_secret(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Apply complete! Resources: 4 added, 0 changed, 0 destroyed."),
        "{stdout}"
    );

    let (code, stdout, stderr) = run_with_secret(&p, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("No changes."), "{stdout}");

    let (_, list, _) = p.run(&["state", "list", "-e", "dev"]);
    assert_eq!(
        list.lines().collect::<Vec<_>>(),
        [
            "fake_database.db",
            "module.network.fake_network.vpc",
            "module.network.fake_subnet.subnet[\"zone-a\"]",
            "module.network.fake_subnet.subnet[\"zone-b\"]",
        ]
    );
}

#[test]
fn secrets_never_reach_output_state_or_plan_renderings() {
    let p = project();
    let (code, stdout, stderr) = run_with_secret(
        &p,
        &[
            "plan",
            "-e",
            "dev",
            "--out",
            "plan.cairn",
            "--json",
            "plan.json",
            "--markdown",
            "plan.md",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("(sensitive value)"), "{stdout}");
    let (code, stdout2, stderr2) = run_with_secret(&p, &["-vvv", "apply", "plan.cairn"]);
    assert_eq!(code, 0, "{stdout2}\n{stderr2}");
    let (_, show, _) = p.run(&["state", "show", "fake_database.db", "-e", "dev"]);
    for text in [
        stdout,
        stderr,
        stdout2,
        stderr2,
        show,
        p.read("plan.json"),
        p.read("plan.md"),
        p.read(".cairn/state/dev.json"),
    ] {
        assert!(!text.contains(SECRET), "secret leaked into:\n{text}");
    }
}

#[test]
fn changing_a_property_updates_in_place_and_a_force_new_one_replaces() {
    let p = project();
    assert_eq!(
        run_with_secret(&p, &["apply", "-e", "dev", "--auto-approve"]).0,
        0
    );
    let module = NETWORK_MODULE
        .replace("name: ${inputs.name}", "name: ${inputs.name}-renamed")
        .replace("default: 10.0.0.0/16", "default: 10.1.0.0/16");
    p.write("modules/network/module.yaml", &module);
    let (code, stdout, stderr) = run_with_secret(&p, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stdout.contains("# module.network.fake_network.vpc must be replaced"),
        "{stdout}"
    );
    assert!(stdout.contains("# forces replacement"), "{stdout}");
    assert!(
        stdout.contains("\"10.0.0.0/16\" -> \"10.1.0.0/16\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("Plan: 3 to add, 1 to change, 3 to destroy."),
        "{stdout}"
    );
}

#[test]
fn removing_a_resource_plans_its_delete_with_the_reason() {
    let p = project();
    assert_eq!(
        run_with_secret(&p, &["apply", "-e", "dev", "--auto-approve"]).0,
        0
    );
    let env = dev_env("").replace("zones: [zone-a, zone-b]", "zones: [zone-a]");
    p.write("environments/dev.yaml", &env);
    let (_, stdout, _) = run_with_secret(&p, &["plan", "-e", "dev"]);
    assert!(
        stdout.contains("# module.network.fake_subnet.subnet[\"zone-b\"] will be destroyed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("because its key is not in for_each"),
        "{stdout}"
    );
}

#[test]
fn a_saved_plan_applies_once_and_is_refused_when_stale() {
    let p = project();
    assert_eq!(
        run_with_secret(&p, &["plan", "-e", "dev", "--out", "plan.cairn"]).0,
        0
    );
    std::fs::copy(p.file("plan.cairn"), p.file("again.cairn")).unwrap();
    let (code, shown, _) = p.run(&["show", "plan.cairn"]);
    assert_eq!(code, 0);
    assert!(
        shown.contains("Plan: 4 to add, 0 to change, 0 to destroy."),
        "{shown}"
    );
    let (_, json, _) = p.run(&["show", "plan.cairn", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json).expect("show --json prints JSON");
    assert_eq!(json["resource_changes"].as_array().map(Vec::len), Some(4));
    // The plan file names the password's variable instead of holding it: apply needs it again.
    assert!(!p.read("plan.cairn").contains(SECRET));
    let (code, _, stderr) = p.run(&["apply", "plan.cairn"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("environment variable DEMO_DB_PASSWORD, which is not set now"),
        "{stderr}"
    );
    let (code, stdout, stderr) = run_with_secret(&p, &["apply", "plan.cairn"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, _, stderr) = run_with_secret(&p, &["apply", "again.cairn"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("run `cairn plan` again"), "{stderr}");
}

#[test]
fn a_corrupt_plan_file_is_refused() {
    let p = project();
    assert_eq!(
        run_with_secret(&p, &["plan", "-e", "dev", "--out", "plan.cairn"]).0,
        0
    );
    let mut bytes = std::fs::read(p.file("plan.cairn")).unwrap();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'a' { b'b' } else { b'a' };
    std::fs::write(p.file("plan.cairn"), &bytes).unwrap();
    let (code, _, stderr) = p.run(&["apply", "plan.cairn"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("plan.cairn"), "{stderr}");
    assert!(
        p.cloud()
            .get("objects")
            .is_none_or(|o| o.as_object().is_none_or(|m| m.is_empty()))
    );
}

#[test]
fn a_corrupt_state_file_is_reported_and_left_untouched() {
    let p = project();
    assert_eq!(
        run_with_secret(&p, &["apply", "-e", "dev", "--auto-approve"]).0,
        0
    );
    let state = p.read(".cairn/state/dev.json");
    let broken = &state[..state.len() / 2];
    p.write(".cairn/state/dev.json", broken);
    let (code, _, stderr) = run_with_secret(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("corrupt"), "{stderr}");
    assert_eq!(p.read(".cairn/state/dev.json"), broken);
}

#[test]
fn apply_without_a_terminal_needs_auto_approve() {
    let p = project();
    let (code, _, stderr) = run_with_secret(&p, &["apply", "-e", "dev"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("standard input is not a terminal"),
        "{stderr}"
    );
    assert!(stderr.contains("--auto-approve"), "{stderr}");
}

#[test]
fn destroy_removes_everything_in_reverse_order() {
    let p = project();
    assert_eq!(
        run_with_secret(&p, &["apply", "-e", "dev", "--auto-approve"]).0,
        0
    );
    let (code, stdout, stderr) = run_with_secret(&p, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Destroy complete! Resources: 0 added, 0 changed, 4 destroyed."),
        "{stdout}"
    );
    let db = stdout
        .find("fake_database.db: Destruction complete")
        .expect("db destroyed");
    let vpc = stdout
        .find("module.network.fake_network.vpc: Destroying")
        .expect("vpc destroyed");
    assert!(
        db < vpc,
        "the database must go before the network it uses:\n{stdout}"
    );
    let (_, list, _) = p.run(&["state", "list", "-e", "dev"]);
    assert_eq!(list, "");
}

#[test]
fn prevent_destroy_refuses_a_plan_that_would_destroy() {
    let p = project();
    let env = dev_env("").replace(
        "      subnet_ids: ${network.subnet_ids}\n",
        "      subnet_ids: ${network.subnet_ids}\n    lifecycle: { prevent_destroy: true }\n",
    );
    p.write("environments/dev.yaml", &env);
    assert_eq!(
        run_with_secret(&p, &["apply", "-e", "dev", "--auto-approve"]).0,
        0
    );
    let (code, _, stderr) = run_with_secret(&p, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("prevent_destroy"), "{stderr}");
    assert!(stderr.contains("environments/dev.yaml:"), "{stderr}");
}

#[test]
fn a_failed_branch_leaves_the_others_applied_and_recorded() {
    let p = Project::with(&[
        (
            "environments/dev.yaml",
            &dev_env(r#"failures: [{ match: fake_database, operation: create, error: invalid }]"#),
        ),
        ("modules/network/module.yaml", NETWORK_MODULE),
    ]);
    let extra = "  bucket:\n    type: fake_bucket\n    properties: { bucket: logs }\n";
    let env = p
        .read("environments/dev.yaml")
        .replace("outputs:\n", &format!("{extra}outputs:\n"));
    p.write("environments/dev.yaml", &env);
    let (code, stdout, stderr) = run_with_secret(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains("fake_database.db"), "{stderr}");
    let (_, list, _) = p.run(&["state", "list", "-e", "dev"]);
    assert!(list.contains("fake_bucket.bucket"), "{list}");
    assert!(list.contains("module.network.fake_network.vpc"), "{list}");
    assert!(!list.contains("fake_database.db"), "{list}");
}

#[test]
fn a_second_run_reports_who_holds_the_lock() {
    let p = Project::with(&[
        ("environments/dev.yaml", &dev_env("latency_ms: 1500")),
        ("modules/network/module.yaml", NETWORK_MODULE),
    ]);
    let mut first = apply_holding_the_lock(&p);
    let (code, _, stderr) = run_with_secret(&p, &["plan", "-e", "dev"]);
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(code, 1);
    assert!(stderr.contains("is locked by"), "{stderr}");
    assert!(stderr.contains("`apply`"), "{stderr}");
    assert!(stderr.contains(&format!("pid {}", first.id())), "{stderr}");
}

#[test]
fn json_and_markdown_are_written_for_ci() {
    let p = project();
    let (code, _, stderr) = run_with_secret(
        &p,
        &[
            "plan",
            "-e",
            "dev",
            "--json",
            "plan.json",
            "--markdown",
            "plan.md",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&p.read("plan.json")).unwrap();
    assert_eq!(json["format_version"], "1.2");
    let addresses: Vec<&str> = json["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    assert!(
        addresses.contains(&"module.network.fake_network.vpc"),
        "{addresses:?}"
    );
    assert!(
        p.read("plan.md")
            .contains("Plan: 4 to add, 0 to change, 0 to destroy.")
    );
}

#[test]
fn graph_prints_dot_and_mermaid() {
    let p = project();
    let (code, dot, stderr) = run_with_secret(&p, &["graph", "-e", "dev"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(dot.starts_with("digraph"), "{dot}");
    assert!(dot.contains("module.network.fake_network.vpc"), "{dot}");
    let (code, mermaid, _) = run_with_secret(&p, &["graph", "-e", "dev", "--format", "mermaid"]);
    assert_eq!(code, 0);
    assert!(mermaid.contains("graph"), "{mermaid}");
}

#[test]
fn schema_lists_types_and_describes_one() {
    let p = Project::new();
    let (code, list, _) = p.run(&["schema"]);
    assert_eq!(code, 0);
    assert!(list.contains("fake_network"), "{list}");
    let (code, one, _) = p.run(&["schema", "fake_database"]);
    assert_eq!(code, 0);
    let password = one
        .lines()
        .find(|l| l.starts_with("password"))
        .expect("password row");
    assert!(password.contains("yes"), "sensitive is shown: {password}");
    assert!(
        one.ends_with("Import: cairn import -e ENV ADDRESS ID\n"),
        "{one}"
    );
    // Where the id is not the cloud's own id, the schema says what import takes.
    let (_, route, _) = p.run(&["schema", "aws_route"]);
    assert!(
        route.contains("Import: cairn import -e ENV ADDRESS ROUTE_TABLE_ID_DESTINATION (rtb-0a1b2c3d_0.0.0.0/0)"),
        "{route}"
    );
    let (code, _, stderr) = p.run(&["schema", "fake_netwrk"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("did you mean `fake_network`?"), "{stderr}");
}

#[test]
fn create_before_destroy_replaces_new_first_and_a_failed_old_delete_is_finished_later() {
    let env = |failures: &str, cidr: &str| {
        format!(
            "environment: dev\nproviders:\n  fake: {{ {failures} }}\nresources:\n  net:\n    type: fake_network\n    properties: {{ cidr_block: {cidr} }}\n    lifecycle: {{ create_before_destroy: true }}\n"
        )
    };
    let p = Project::with(&[("environments/dev.yaml", &env("", "10.0.0.0/16"))]);
    assert_eq!(p.run(&["apply", "-e", "dev", "--auto-approve"]).0, 0);

    p.write(
        "environments/dev.yaml",
        &env(
            "failures: [{ match: fake_network, operation: delete, error: conflict }]",
            "10.1.0.0/16",
        ),
    );
    let (_, plan, _) = p.run(&["plan", "-e", "dev"]);
    assert!(
        plan.contains("+/- resource \"fake_network\" \"net\""),
        "{plan}"
    );
    let (code, stdout, stderr) = p.run(&["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(
        code, 1,
        "the old network's delete was made to fail:\n{stdout}\n{stderr}"
    );
    let created = stdout
        .find("fake_network.net: Creation complete")
        .expect("created");
    let destroying = stdout
        .find("fake_network.net: Destroying")
        .expect("delete attempted");
    assert!(created < destroying, "create before destroy:\n{stdout}");

    p.write("environments/dev.yaml", &env("", "10.1.0.0/16"));
    let (_, plan, _) = p.run(&["plan", "-e", "dev"]);
    assert!(
        plan.contains("because a create_before_destroy replacement superseded it"),
        "the old object is still to be deleted:\n{plan}"
    );
    assert!(
        plan.contains("Plan: 0 to add, 0 to change, 1 to destroy."),
        "{plan}"
    );
    assert_eq!(p.run(&["apply", "-e", "dev", "--auto-approve"]).0, 0);
    let objects = p.cloud()["objects"].as_object().map_or(0, |o| o.len());
    assert_eq!(objects, 1, "only the new network remains");
    assert_eq!(p.run(&["plan", "-e", "dev", "--detailed-exitcode"]).0, 0);
}

#[test]
fn ignore_changes_keeps_a_drifted_or_edited_attribute_out_of_the_plan() {
    let env = |storage: u32| {
        format!(
            "environment: dev\nproviders:\n  fake: {{}}\nresources:\n  db:\n    type: fake_database\n    properties:\n      engine: postgres\n      instance_class: db.t3.micro\n      username: app\n      allocated_storage: {storage}\n    lifecycle: {{ ignore_changes: [allocated_storage] }}\n"
        )
    };
    let p = Project::with(&[("environments/dev.yaml", &env(20))]);
    assert_eq!(p.run(&["apply", "-e", "dev", "--auto-approve"]).0, 0);
    p.write("environments/dev.yaml", &env(50));
    let (code, stdout, _) = p.run(&["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}");
    p.write(
        "environments/dev.yaml",
        &env(50).replace("db.t3.micro", "db.t3.small"),
    );
    let (code, stdout, _) = p.run(&["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2);
    assert!(stdout.contains("~ instance_class"), "{stdout}");
    assert!(!stdout.contains("~ allocated_storage"), "{stdout}");
}

#[test]
fn provider_aliases_and_module_provider_mapping_place_resources_in_another_region() {
    let env = r#"environment: dev
providers:
  fake: { region: primary }
  fake.dr: { region: dr }
modules:
  main: { source: site, inputs: { cidr: 10.0.0.0/16 } }
  dr:
    source: site
    inputs: { cidr: 10.1.0.0/16 }
    providers: { fake: fake.dr }
resources:
  logs:
    type: fake_bucket
    provider: fake.dr
    properties: { bucket: dr-logs }
"#;
    let module = "inputs:\n  cidr: { type: string }\nresources:\n  net:\n    type: fake_network\n    properties: { cidr_block: \"${inputs.cidr}\" }\n";
    let p = Project::with(&[
        ("environments/dev.yaml", env),
        ("modules/site/module.yaml", module),
    ]);
    let (code, stdout, stderr) = p.run(&["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let state: serde_json::Value = serde_json::from_str(&p.read(".cairn/state/dev.json")).unwrap();
    let provider = |addr: &str| {
        state["resources"][addr]["provider"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(provider("module.main.fake_network.net"), "fake");
    assert_eq!(provider("module.dr.fake_network.net"), "fake.dr");
    assert_eq!(provider("fake_bucket.logs"), "fake.dr");
    assert_eq!(p.run(&["plan", "-e", "dev", "--detailed-exitcode"]).0, 0);
}

#[test]
fn a_data_source_is_read_at_plan_time_and_drives_for_each() {
    let env = r#"environment: dev
providers:
  fake: { zones: [z-1, z-2, z-3] }
resources:
  zones:
    type: fake_zones
  net:
    type: fake_network
    properties: { cidr_block: 10.0.0.0/16 }
  subnet:
    type: fake_subnet
    for_each: ${zones.names}
    properties:
      network_id: ${net.id}
      zone: ${each.value}
      cidr_block: ${cidrsubnet("10.0.0.0/16", 8, index(zones.names, each.value))}
"#;
    let p = Project::with(&[("environments/dev.yaml", env)]);
    let (code, stdout, stderr) = p.run(&["plan", "-e", "dev"]);
    assert_eq!(code, 0, "{stderr}");
    for zone in ["z-1", "z-2", "z-3"] {
        assert!(
            stdout.contains(&format!("fake_subnet.subnet[\"{zone}\"] will be created")),
            "{stdout}"
        );
    }
    assert!(
        stdout.contains("Plan: 4 to add, 0 to change, 0 to destroy."),
        "{stdout}"
    );
}

#[test]
fn completions_are_printed_for_bash() {
    let p = Project::new();
    let (code, stdout, _) = p.run(&["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("_cairn()"),
        "{}",
        &stdout[..stdout.len().min(200)]
    );
}

#[test]
fn throttling_is_retried_and_the_retries_show_with_verbose() {
    let env = "environment: dev\nproviders:\n  fake: { failures: [{ match: fake_bucket, operation: create, error: throttled, times: 2 }] }\nresources:\n  logs:\n    type: fake_bucket\n    properties: { bucket: logs }\n";
    let p = Project::with(&[("environments/dev.yaml", env)]);
    let (code, stdout, stderr) = p.run(&["-v", "apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Apply complete! Resources: 1 added"),
        "{stdout}"
    );
    assert!(stderr.contains("retry 1"), "{stderr}");
    assert!(stderr.contains("retry 2"), "{stderr}");
    let (_, quiet, quiet_err) = {
        let p = Project::with(&[("environments/dev.yaml", env)]);
        p.run(&["apply", "-e", "dev", "--auto-approve"])
    };
    assert!(
        !quiet_err.contains("retry"),
        "retries are only shown with -v: {quiet}\n{quiet_err}"
    );
}

/// Edits the fake cloud's file as someone working outside cairn would change the real cloud.
fn edit_cloud(p: &Project, edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) {
    let mut cloud = p.cloud();
    let objects = cloud["objects"].as_object_mut().expect("objects");
    edit(objects);
    p.write(
        ".cairn/fake-cloud.json",
        &serde_json::to_string_pretty(&cloud).unwrap(),
    );
}

#[test]
fn changes_made_outside_cairn_are_planned_back_to_the_spec() {
    let p = project();
    assert_eq!(
        run_with_secret(&p, &["apply", "-e", "dev", "--auto-approve"]).0,
        0
    );
    edit_cloud(&p, |objects| {
        // Someone deleted a subnet by hand, and renamed the network.
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
    let (code, stdout, stderr) = run_with_secret(&p, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stdout.contains("# module.network.fake_subnet.subnet[\"zone-b\"] will be created"),
        "{stdout}"
    );
    assert!(
        stdout.contains("~ name = \"renamed-by-hand\" -> \"demo\""),
        "{stdout}"
    );
    // The database follows the re-created subnet's new id: that element is known after apply,
    // the other subnet's id stays.
    assert!(stdout.contains("~ subnet_ids = ["), "{stdout}");
    assert!(stdout.contains("+ (known after apply),"), "{stdout}");
    assert!(
        stdout.contains("# (1 unchanged element hidden)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Plan: 1 to add, 2 to change, 0 to destroy."),
        "{stdout}"
    );
    assert_eq!(
        run_with_secret(&p, &["apply", "-e", "dev", "--auto-approve"]).0,
        0
    );
    assert_eq!(
        run_with_secret(&p, &["plan", "-e", "dev", "--detailed-exitcode"]).0,
        0
    );
}

#[test]
fn depends_on_a_module_waits_for_every_resource_in_it() {
    let env = r#"environment: dev
providers:
  fake: { latency_ms: 50 }
modules:
  network: { source: network, inputs: { name: demo, zones: [zone-a, zone-b] } }
resources:
  logs:
    type: fake_bucket
    properties: { bucket: logs }
    depends_on: [module.network]
"#;
    let p = Project::with(&[
        ("environments/dev.yaml", env),
        ("modules/network/module.yaml", NETWORK_MODULE),
    ]);
    let (code, stdout, stderr) = p.run(&["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    let bucket = stdout
        .find("fake_bucket.logs: Creating")
        .expect("bucket created");
    for subnet in ["zone-a", "zone-b"] {
        let done = stdout
            .find(&format!(
                "module.network.fake_subnet.subnet[\"{subnet}\"]: Creation complete"
            ))
            .expect("subnet created");
        assert!(
            done < bucket,
            "the bucket waited for the subnets:\n{stdout}"
        );
    }
}

#[test]
fn a_saved_plan_finds_a_state_kept_at_a_custom_path() {
    let env = "environment: dev\nbackend: { local: { path: state/dev-state.json } }\nproviders:\n  fake: {}\nresources:\n  logs:\n    type: fake_bucket\n    properties: { bucket: logs }\n";
    let p = Project::with(&[("environments/dev.yaml", env)]);
    assert_eq!(p.run(&["plan", "-e", "dev", "--out", "plan.cairn"]).0, 0);
    let (code, stdout, stderr) = p.run(&["apply", "plan.cairn"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(p.file("state/dev-state.json").is_file());
    assert!(!p.file(".cairn/state/dev.json").exists());
    assert_eq!(p.run(&["plan", "-e", "dev", "--detailed-exitcode"]).0, 0);
}

#[test]
fn lock_timeout_waits_for_the_holder_to_finish() {
    let p = Project::with(&[
        ("environments/dev.yaml", &dev_env("latency_ms: 300")),
        ("modules/network/module.yaml", NETWORK_MODULE),
    ]);
    let mut first = apply_holding_the_lock(&p);
    let (code, stdout, stderr) = run_with_secret(
        &p,
        &[
            "plan",
            "-e",
            "dev",
            "--lock-timeout",
            "30s",
            "--detailed-exitcode",
        ],
    );
    assert!(first.wait().unwrap().success());
    assert_eq!(
        code, 0,
        "the plan ran after the apply released the lock:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("No changes."), "{stdout}");
}

/// The state is locked and read while the spec loads: an error in the spec is still what the
/// user hears, at once, and not a wait for someone else's lock.
#[test]
fn a_spec_error_is_reported_at_once_while_another_run_holds_the_lock() {
    // Each create of the first apply takes 30 s: it holds the lock longer than the test runs.
    let p = Project::with(&[
        ("environments/dev.yaml", &dev_env("latency_ms: 30000")),
        ("modules/network/module.yaml", NETWORK_MODULE),
    ]);
    let mut first = apply_holding_the_lock(&p);
    let broken = NETWORK_MODULE.replace("type: fake_subnet", "type: fake_subnett");
    p.write("modules/network/module.yaml", &broken);
    let started = std::time::Instant::now();
    let (code, _, stderr) = run_with_secret(&p, &["plan", "-e", "dev", "--lock-timeout", "60s"]);
    let took = started.elapsed();
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("modules/network/module.yaml:") && stderr.contains("fake_subnett"),
        "{stderr}"
    );
    assert!(!stderr.contains("is locked by"), "{stderr}");
    assert!(
        took < std::time::Duration::from_secs(15),
        "waited {took:?} for a lock before reporting the spec's error"
    );
}

/// Starts `cairn apply` in the background and returns once it holds the state lock (its lock
/// file names it).
fn apply_holding_the_lock(p: &Project) -> std::process::Child {
    let first = std::process::Command::new(assert_cmd::cargo::cargo_bin("cairn"))
        .current_dir(p.path())
        .args(["apply", "-e", "dev", "--auto-approve"])
        .env("DEMO_DB_PASSWORD", SECRET)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = p.file(".cairn/state/dev.lock");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_to_string(&lock)
        .map(|s| s.is_empty())
        .unwrap_or(true)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the first apply never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    first
}

/// The state file is lost; the objects still exist. `cairn import` puts each back at its address
/// by id, refuses addresses the spec does not declare, ids that do not exist and addresses already
/// managed, and the next plan has nothing to create.
#[test]
fn lost_state_is_rebuilt_by_importing_each_object_by_id() {
    let p = project();
    let (code, stdout, stderr) = run_with_secret(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (_, list, _) = run_with_secret(&p, &["state", "list", "-e", "dev"]);
    let ids: Vec<(String, String)> = list
        .lines()
        .map(|address| {
            let (_, show, _) = run_with_secret(&p, &["state", "show", address, "-e", "dev"]);
            let id = show
                .lines()
                .find_map(|l| l.strip_prefix("id       = "))
                .expect("an id")
                .to_string();
            (address.to_string(), id)
        })
        .collect();
    assert_eq!(ids.len(), 4, "{list}");
    std::fs::remove_file(p.file(".cairn/state/dev.json")).unwrap();

    let (code, _, stderr) = run_with_secret(&p, &["import", "-e", "dev", "fake_database.dbb", "x"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("environment `dev` declares no resource fake_database.dbb; did you mean `fake_database.db`?"),
        "{stderr}"
    );
    let (code, _, stderr) = run_with_secret(
        &p,
        &[
            "import",
            "-e",
            "dev",
            "fake_database.db",
            "db-does-not-exist",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no fake_database with id `db-does-not-exist` exists"),
        "{stderr}"
    );

    for (address, id) in &ids {
        let (code, stdout, stderr) = run_with_secret(&p, &["import", "-e", "dev", address, id]);
        assert_eq!(code, 0, "{address}: {stdout}\n{stderr}");
        assert!(stdout.contains(&format!("{address}: imported")), "{stdout}");
    }
    let (address, id) = &ids[0];
    let (code, _, stderr) = run_with_secret(&p, &["import", "-e", "dev", address, id]);
    assert_eq!(code, 1);
    assert!(stderr.contains("is already managed"), "{stderr}");

    let (_, stdout, stderr) = run_with_secret(&p, &["plan", "-e", "dev"]);
    assert!(
        stdout.contains("Plan: 0 to add") || stdout.contains("No changes."),
        "{stdout}\n{stderr}"
    );
    assert!(
        !stdout.contains("module.network"),
        "the network imported clean:\n{stdout}"
    );
    assert!(!stdout.contains(SECRET));
}

const SLOW_DB: &str = r#"environment: dev
providers:
  fake: { latency_ms: { default: 0, fake_database: 600 } }
resources:
  db:
    type: fake_database
    properties:
      engine: postgres
      instance_class: db.t3.micro
      username: app
      password: ${env.DEMO_DB_PASSWORD}
    timeouts: { create: 100ms }
"#;

/// A database slower than its `timeouts.create`: the apply fails saying which timeout ran out,
/// yet the database that does exist stays recorded, and the next run adopts it instead of
/// creating a second one.
#[test]
fn a_create_that_outlives_its_timeout_fails_clearly_and_is_adopted_next_run() {
    let p = Project::with(&[("environments/dev.yaml", SLOW_DB)]);
    let (code, stdout, stderr) = run_with_secret(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("fake_database.db was not ready within 100ms, its `timeouts.create`"),
        "{stderr}"
    );
    let (_, list, _) = run_with_secret(&p, &["state", "list", "-e", "dev"]);
    assert_eq!(list.trim(), "fake_database.db", "the database is in state");

    p.write(
        "environments/dev.yaml",
        &SLOW_DB.replace("create: 100ms", "create: 40m"),
    );
    let (code, stdout, stderr) = run_with_secret(&p, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "adopted, not created again:\n{stdout}\n{stderr}");
    let databases = p.cloud()["objects"]
        .as_object()
        .expect("objects")
        .values()
        .filter(|o| o["type"] == "fake_database")
        .count();
    assert_eq!(databases, 1);
}

const TIMED_DB_MODULE: &str = r#"inputs:
  create_timeout: { type: string, default: 40m }
resources:
  db:
    type: fake_database
    properties: { engine: postgres, instance_class: db.t3.micro, username: app, password: not-a-secret-here }
    timeouts: { create: "${inputs.create_timeout}" }
"#;

/// Environments differ by inputs, timeouts too: a module's `timeouts:` may take an input, and a
/// value that is not a duration is refused at plan time with its place in the file.
#[test]
fn a_modules_timeout_comes_from_an_input() {
    let env = |timeout: &str| {
        format!(
            "environment: dev\nproviders:\n  fake: {{ latency_ms: {{ default: 0, fake_database: 600 }} }}\nmodules:\n  db:\n    source: db\n    inputs: {{ create_timeout: {timeout} }}\n"
        )
    };
    let p = Project::with(&[
        ("environments/dev.yaml", &env("100ms")),
        ("modules/db/module.yaml", TIMED_DB_MODULE),
    ]);
    let (code, stdout, stderr) = run_with_secret(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("module.db.fake_database.db was not ready within 100ms"),
        "{stderr}"
    );

    p.write("environments/dev.yaml", &env("soon"));
    let (code, stdout, stderr) = run_with_secret(&p, &["plan", "-e", "dev"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains("the `create` timeout"), "{stderr}");
    assert!(stderr.contains("modules/db/module.yaml:7:"), "{stderr}");
}

const SLOW_DELETE: &str = r#"environment: dev
providers:
  fake: { latency_ms: { default: 0, fake_database: 600 } }
resources:
  db:
    type: fake_database
    properties: { engine: postgres, instance_class: db.t3.micro, username: app, password: not-a-secret-here }
    timeouts: { create: 40m, delete: 100ms }
"#;

/// `destroy` honours the spec's `timeouts.delete` too: a slow delete ends with the timeout and
/// the database stays in state.
#[test]
fn a_destroy_honours_the_delete_timeout() {
    let p = Project::with(&[("environments/dev.yaml", SLOW_DELETE)]);
    let (code, stdout, stderr) = run_with_secret(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = run_with_secret(&p, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains("within 100ms"), "{stderr}");
    let (_, list, _) = run_with_secret(&p, &["state", "list", "-e", "dev"]);
    assert_eq!(
        list.trim(),
        "fake_database.db",
        "the database is still recorded"
    );
}

const GENERATED: &str = r#"environment: dev
providers:
  fake: {}
resources:
  db_password:
    type: random_password
    properties: { length: 24, min_numeric: 2, override_special: "!#%" }
  db:
    type: fake_database
    properties:
      engine: postgres
      instance_class: db.t3.micro
      username: app
      password: ${db_password.result}
"#;

/// The database's password as the (fake) cloud holds it: the one place it may exist.
fn cloud_password(p: &Project) -> String {
    p.cloud()["objects"]
        .as_object()
        .expect("objects")
        .values()
        .find(|o| o["type"] == "fake_database")
        .and_then(|o| o["attributes"]["password"].as_str())
        .expect("a database with a password")
        .to_string()
}

/// A password cairn generates reaches the database and nothing else: not the plan, the apply's
/// output, the JSON plan or state. Later plans still see it unchanged; an in-place change leaves
/// it alone; a replacement that would need it again is refused at plan time with what to do,
/// and replacing the password too works.
#[test]
fn a_generated_password_reaches_the_database_and_nowhere_else() {
    let p = Project::with(&[("environments/dev.yaml", GENERATED)]);
    let (code, plan, _) = p.run(&["plan", "-e", "dev", "--json", "plan.json"]);
    assert_eq!(code, 0);
    assert!(
        plan.contains("+ result            = (sensitive value)")
            || plan.contains("(sensitive value)"),
        "{plan}"
    );
    let (code, applied, stderr) = p.run(&["-vv", "apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{applied}\n{stderr}");
    let password = cloud_password(&p);
    assert_eq!(password.chars().count(), 24);
    assert!(
        password.chars().filter(char::is_ascii_digit).count() >= 2,
        "{password}"
    );
    let (_, shown, _) = p.run(&["state", "show", "random_password.db_password", "-e", "dev"]);
    for (what, text) in [
        ("plan", plan),
        ("plan.json", p.read("plan.json")),
        ("apply output", applied),
        ("apply log", stderr),
        ("state", p.read(".cairn/state/dev.json")),
        ("state show", shown),
    ] {
        assert!(
            !text.contains(&password),
            "the password leaked into the {what}"
        );
    }

    let (code, stdout, _) = p.run(&["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a digest still compares equal:\n{stdout}");

    let resized = GENERATED.replace("db.t3.micro", "db.t3.small");
    p.write("environments/dev.yaml", &resized);
    let (code, stdout, stderr) = p.run(&["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("1 changed"), "{stdout}");
    assert_eq!(
        cloud_password(&p),
        password,
        "an unrelated change keeps the password"
    );

    let renamed = resized.replace("username: app", "username: app2");
    p.write("environments/dev.yaml", &renamed);
    let (code, _, stderr) = p.run(&["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("fake_database.db must be created, but its `password` is a secret from an earlier apply that state keeps only as a digest"),
        "{stderr}"
    );
    assert!(stderr.contains("environments/dev.yaml:14:"), "{stderr}");
    assert!(
        stderr.contains("--replace random_password.NAME"),
        "{stderr}"
    );
    assert_eq!(cloud_password(&p), password, "nothing was touched");

    let (code, stdout, stderr) = p.run(&[
        "apply",
        "-e",
        "dev",
        "--auto-approve",
        "--replace",
        "random_password.db_password",
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let rotated = cloud_password(&p);
    assert_ne!(rotated, password);
    assert!(!stdout.contains(&rotated) && !p.read(".cairn/state/dev.json").contains(&rotated));
    let (code, stdout, _) = p.run(&["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}");
}

/// In a CI log (no terminal), a slow operation says when it starts, keeps saying it is still at
/// it, and says how long it took.
#[test]
fn a_slow_create_keeps_a_ci_log_alive_with_a_heartbeat() {
    let env = "environment: dev\nproviders:\n  fake: { latency_ms: { default: 0, fake_network: 1300 } }\nresources:\n  net:\n    type: fake_network\n    properties: { cidr_block: 10.0.0.0/16 }\n";
    let p = Project::with(&[("environments/dev.yaml", env)]);
    let out = p
        .cairn(&["apply", "-e", "dev", "--auto-approve"])
        .env("CAIRN_HEARTBEAT", "400ms")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let creating = stdout
        .find("fake_network.net: Creating...")
        .expect("a start line");
    let still = stdout
        .find("fake_network.net: Still creating... [")
        .unwrap_or_else(|| panic!("a heartbeat:\n{stdout}"));
    let done = stdout
        .find("fake_network.net: Creation complete after 1s")
        .unwrap_or_else(|| panic!("an end line with its duration:\n{stdout}"));
    assert!(creating < still && still < done, "{stdout}");
}

/// The plan benchmark from any directory: a generated project planned from the state its apply
/// would leave finds nothing to change, and 1% changed finds those changes.
#[test]
fn the_plan_benchmark_runs_alone_from_an_empty_directory() {
    let p = Project::with(&[]);
    let (code, stdout, stderr) = run_with_secret(
        &p,
        &["bench", "--quick", "--only", "plan", "--sizes", "300"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with(char::is_numeric))
        .collect();
    assert_eq!(
        rows.len(),
        2,
        "one row without and one with changes:\n{stdout}"
    );
    let last_column = |row: &str| row.split_whitespace().last().map(str::to_string);
    assert_eq!(last_column(rows[0]).as_deref(), Some("0"), "{stdout}");
    assert_ne!(last_column(rows[1]).as_deref(), Some("0"), "{stdout}");
    assert!(
        !stdout.contains("Start-up") && !stdout.contains("Apply"),
        "{stdout}"
    );
}
