//! Every class of bad input, and the exact message a user sees: what is wrong, where
//! (`file:line:col`), and what would be right. Each exits 1 with no panic and no backtrace.

mod common;

use common::Project;

/// Runs `cairn validate -e dev` on the given files and returns stderr, checking the exit code.
fn validate(files: &[(&str, &str)]) -> String {
    let p = Project::with(files);
    let (code, stdout, stderr) = p.run(&["validate", "-e", "dev"]);
    assert_eq!(
        code, 1,
        "expected failure, got stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("RUST_BACKTRACE"), "{stderr}");
    stderr
}

fn env(body: &str) -> String {
    format!("environment: dev\nproviders:\n  fake: {{}}\n{body}")
}

#[test]
fn yaml_syntax_error() {
    let e = env(
        "resources:\n  vpc:\n    type: fake_network\n    properties: { cidr_block: 10.0.0.0/16\n",
    );
    insta::assert_snapshot!(validate(&[("environments/dev.yaml", &e)]));
}

#[test]
fn unknown_top_level_key() {
    let e =
        env("resorces:\n  vpc: { type: fake_network, properties: { cidr_block: 10.0.0.0/16 } }\n");
    insta::assert_snapshot!(validate(&[("environments/dev.yaml", &e)]));
}

#[test]
fn unknown_resource_type() {
    let e = env(
        "resources:\n  vpc:\n    type: fake_netwrk\n    properties: { cidr_block: 10.0.0.0/16 }\n",
    );
    insta::assert_snapshot!(validate(&[("environments/dev.yaml", &e)]));
}

#[test]
fn misspelled_attribute() {
    let e = env(
        "resources:\n  vpc:\n    type: fake_network\n    properties:\n      cidr_blok: 10.0.0.0/16\n",
    );
    insta::assert_snapshot!(validate(&[("environments/dev.yaml", &e)]));
}

#[test]
fn missing_required_attribute() {
    let e = env("resources:\n  vpc:\n    type: fake_network\n    properties:\n      name: main\n");
    insta::assert_snapshot!(validate(&[("environments/dev.yaml", &e)]));
}

#[test]
fn string_for_a_number() {
    let e = env(
        "resources:\n  db:\n    type: fake_database\n    properties:\n      engine: postgres\n      instance_class: db.t3.micro\n      username: app\n      allocated_storage: \"20\"\n",
    );
    insta::assert_snapshot!(validate(&[("environments/dev.yaml", &e)]));
}

#[test]
fn list_for_a_map() {
    let e = env(
        "resources:\n  vpc:\n    type: fake_network\n    properties:\n      cidr_block: 10.0.0.0/16\n      tags: [a, b]\n",
    );
    insta::assert_snapshot!(validate(&[("environments/dev.yaml", &e)]));
}

#[test]
fn undefined_reference() {
    let e = env(
        "resources:\n  vpc:\n    type: fake_network\n    properties: { cidr_block: 10.0.0.0/16 }\n  subnet:\n    type: fake_subnet\n    properties:\n      network_id: ${vcp.id}\n      cidr_block: 10.0.1.0/24\n      zone: a\n",
    );
    insta::assert_snapshot!(validate(&[("environments/dev.yaml", &e)]));
}

#[test]
fn missing_module_output() {
    let e = env(
        "modules:\n  net: { source: net, inputs: {} }\nresources:\n  subnet:\n    type: fake_subnet\n    properties:\n      network_id: ${module.net.vpc_idd}\n      cidr_block: 10.0.1.0/24\n      zone: a\n",
    );
    let m = "resources:\n  vpc:\n    type: fake_network\n    properties: { cidr_block: 10.0.0.0/16 }\noutputs:\n  vpc_id: ${vpc.id}\n";
    insta::assert_snapshot!(validate(&[
        ("environments/dev.yaml", &e),
        ("modules/net/module.yaml", m)
    ]));
}

#[test]
fn missing_module_input() {
    let e = env("modules:\n  net:\n    source: net\n    inputs: { name: x }\n");
    let m = "inputs:\n  name: { type: string }\n  cidr: { type: string }\nresources:\n  vpc:\n    type: fake_network\n    properties: { cidr_block: \"${inputs.cidr}\", name: \"${inputs.name}\" }\n";
    insta::assert_snapshot!(validate(&[
        ("environments/dev.yaml", &e),
        ("modules/net/module.yaml", m)
    ]));
}

#[test]
fn module_input_of_the_wrong_type() {
    let e = env("modules:\n  net:\n    source: net\n    inputs: { zones: a-single-zone }\n");
    let m = "inputs:\n  zones: { type: list(string) }\nresources:\n  vpc:\n    type: fake_network\n    properties: { cidr_block: 10.0.0.0/16 }\n";
    insta::assert_snapshot!(validate(&[
        ("environments/dev.yaml", &e),
        ("modules/net/module.yaml", m)
    ]));
}

#[test]
fn duplicate_resource_name() {
    let e = env(
        "resources:\n  vpc:\n    type: fake_network\n    properties: { cidr_block: 10.0.0.0/16 }\n  vpc:\n    type: fake_network\n    properties: { cidr_block: 10.1.0.0/16 }\n",
    );
    insta::assert_snapshot!(validate(&[("environments/dev.yaml", &e)]));
}

#[test]
fn for_each_over_a_number() {
    let e = env(
        "resources:\n  vpc:\n    type: fake_network\n    for_each: ${3}\n    properties: { cidr_block: 10.0.0.0/16 }\n",
    );
    insta::assert_snapshot!(validate(&[("environments/dev.yaml", &e)]));
}

#[test]
fn dependency_cycle() {
    let e = env(
        "resources:\n  a:\n    type: fake_network\n    properties: { cidr_block: 10.0.0.0/16, name: \"${b.id}\" }\n  b:\n    type: fake_network\n    properties: { cidr_block: 10.1.0.0/16, name: \"${a.id}\" }\n",
    );
    insta::assert_snapshot!(validate(&[("environments/dev.yaml", &e)]));
}

#[test]
fn invalid_cidr() {
    let e = env(
        "resources:\n  vpc:\n    type: fake_network\n    properties: { cidr_block: \"${cidrsubnet(\\\"10.0.0.0/33\\\", 8, 1)}\" }\n",
    );
    insta::assert_snapshot!(validate(&[("environments/dev.yaml", &e)]));
}

#[test]
fn division_by_zero() {
    let e = env(
        "locals:\n  per_zone: ${12 / 0}\nresources:\n  vpc:\n    type: fake_network\n    properties: { cidr_block: 10.0.0.0/16, name: \"n-${locals.per_zone}\" }\n",
    );
    insta::assert_snapshot!(validate(&[("environments/dev.yaml", &e)]));
}

#[test]
fn bad_function_arguments() {
    let e = env(
        "resources:\n  vpc:\n    type: fake_network\n    properties: { cidr_block: \"${cidrsubnet(\\\"10.0.0.0/16\\\", \\\"eight\\\", 1)}\" }\n",
    );
    insta::assert_snapshot!(validate(&[("environments/dev.yaml", &e)]));
}

#[test]
fn missing_environment_lists_the_ones_that_exist() {
    let p = Project::with(&[
        ("environments/dev.yaml", "environment: dev\n"),
        ("environments/stg.yaml", "environment: stg\n"),
    ]);
    let (code, _, stderr) = p.run(&["plan", "-e", "prod"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(stderr);
}

#[test]
fn several_mistakes_are_reported_together() {
    let e = env(
        "resources:\n  vpc:\n    type: fake_network\n    properties:\n      cidr_blok: 10.0.0.0/16\n  db:\n    type: fake_databse\n",
    );
    let stderr = validate(&[("environments/dev.yaml", &e)]);
    assert!(stderr.contains("cidr_blok"), "{stderr}");
    assert!(stderr.contains("fake_databse"), "{stderr}");
    assert!(stderr.contains("found 2 problems"), "{stderr}");
}

#[test]
fn missing_environment_variable() {
    let e = env(
        "resources:\n  db:\n    type: fake_database\n    properties:\n      engine: postgres\n      instance_class: db.t3.micro\n      username: app\n      password: ${env.CAIRN_TEST_UNSET_PASSWORD}\n",
    );
    let stderr = validate(&[("environments/dev.yaml", &e)]);
    assert!(
        !stderr.contains("PATH"),
        "other variables' names are not listed: {stderr}"
    );
    insta::assert_snapshot!(stderr);
}

#[test]
fn hostile_shapes_fail_with_messages_not_crashes() {
    for (what, body) in [
        ("deep nesting", format!("locals:\n  x: {}{}\n", "[".repeat(200), "]".repeat(200))),
        ("an alias bomb", "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\nlocals:\n  y: 1\n".to_string()),
        ("a huge count", "resources:\n  n:\n    type: fake_network\n    count: 100000000\n    properties: { cidr_block: 10.0.0.0/16 }\n".to_string()),
        ("a scalar document", "just a string\n".to_string()),
        ("a list document", "- a\n- b\n".to_string()),
    ] {
        let p = Project::with(&[("environments/dev.yaml", &body)]);
        let (code, _, stderr) = p.run(&["validate", "-e", "dev"]);
        assert_eq!(code, 1, "{what}: {stderr}");
        assert!(stderr.starts_with("error: "), "{what}: {stderr}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    }
}

#[test]
fn a_timeout_that_is_not_a_duration_points_at_itself() {
    let env = "environment: dev\nproviders:\n  fake: {}\nresources:\n  db:\n    type: fake_network\n    properties: { cidr_block: 10.0.0.0/16 }\n    timeouts: { create: soon, destroy: 5m }\n";
    let p = Project::with(&[("environments/dev.yaml", env)]);
    let (code, _, stderr) = p.run(&["validate", "-e", "dev"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("`soon` is not a duration; write e.g. 30s, 40m, 2h or 1h30m"),
        "{stderr}"
    );
    assert!(stderr.contains("environments/dev.yaml:8:25"), "{stderr}");
    assert!(
        stderr.contains("`destroy`"),
        "an unknown key is named:\n{stderr}"
    );
}
