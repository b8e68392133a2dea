//! Hostile or mistaken input meets a limit, not an exhausted machine: a user who feeds cairn a
//! huge file, an alias bomb, a runaway `count` or a string that doubles at every step gets one
//! message naming the limit, where it was hit and what to do, and exit code 1, never a crash.
//! The limits themselves live in `src/limits.rs`.

mod common;

use std::time::{Duration, Instant};

use common::Project;

/// Runs `cairn validate -e dev` on the files and returns stderr, checking that it failed cleanly
/// and quickly (a limit that is hit late, after the memory is spent, would be slow).
fn refused(files: &[(&str, &str)]) -> String {
    let p = Project::with(files);
    refused_in(&p)
}

fn refused_in(p: &Project) -> String {
    let started = Instant::now();
    let (code, stdout, stderr) = p.run(&["validate", "-e", "dev"]);
    assert_eq!(
        code, 1,
        "expected failure, got stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("overflow"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    stderr
}

fn env(body: &str) -> String {
    format!("environment: dev\nproviders:\n  fake: {{}}\n{body}")
}

fn assert_has(stderr: &str, parts: &[&str]) {
    for part in parts {
        assert!(stderr.contains(part), "missing {part:?} in:\n{stderr}");
    }
}

#[test]
fn a_spec_file_over_16_mib_is_refused_before_it_is_read() {
    let mut e = env("locals:\n  pad: x\n");
    e.push_str(&format!("# {}\n", "x".repeat(17 * 1024 * 1024)));
    let stderr = refused(&[("environments/dev.yaml", &e)]);
    assert_has(
        &stderr,
        &[
            "environments/dev.yaml is 17825",
            "over the limit of 16 MiB for one spec file",
            "split it: move resources into modules",
        ],
    );
}

#[test]
fn yaml_nested_deeper_than_64_levels_is_refused_with_its_position() {
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let e = env(&format!("locals:\n  deep: {deep}\n"));
    let stderr = refused(&[("environments/dev.yaml", &e)]);
    assert_has(
        &stderr,
        &[
            "lists and mappings nest deeper than 64 levels",
            "environments/dev.yaml:5:",
        ],
    );
}

#[test]
fn a_yaml_alias_bomb_stops_at_a_million_values() {
    let mut e = env("locals:\n  a0: [x, x, x, x, x, x, x, x, x, x]\n");
    // Each level copies the previous ten times: 10^9 values if expanded.
    for i in 1..10 {
        let prev = format!("*l{}", i - 1);
        let refs = [prev.as_str(); 10].join(", ");
        e.push_str(&format!("  a{i}: &l{i} [{refs}]\n"));
    }
    let e = e.replace("a0: [", "a0: &l0 [");
    let stderr = refused(&[("environments/dev.yaml", &e)]);
    assert_has(
        &stderr,
        &["expands to more than 1000000 values", "dev.yaml:"],
    );
}

#[test]
fn an_expression_nested_too_deeply_is_refused_at_its_column() {
    let deep = format!("${{{}1{}}}", "(".repeat(5000), ")".repeat(5000));
    let e = env(&format!("locals:\n  deep: \"{deep}\"\n"));
    let stderr = refused(&[("environments/dev.yaml", &e)]);
    assert_has(
        &stderr,
        &[
            "expression nested too deeply: more than 48 levels",
            "environments/dev.yaml:5:",
            "compute the inner parts in `locals:`",
        ],
    );
    // Calls nest the same way.
    let calls = format!("${{{}1{}}}", "max(".repeat(5000), ")".repeat(5000));
    let e = env(&format!("locals:\n  deep: \"{calls}\"\n"));
    let stderr = refused(&[("environments/dev.yaml", &e)]);
    assert_has(&stderr, &["expression nested too deeply"]);
}

#[test]
fn a_count_over_the_per_block_limit_names_the_limit() {
    let e = env(
        "resources:\n  net:\n    type: fake_network\n    count: 100000000\n    properties: { cidr_block: 10.0.0.0/16 }\n",
    );
    let stderr = refused(&[("environments/dev.yaml", &e)]);
    assert_has(
        &stderr,
        &[
            "`count` must be a whole number from 0 to 100000, got 100000000",
            "environments/dev.yaml:7:",
            "split larger sets over several blocks",
        ],
    );
}

#[test]
fn a_for_each_over_the_per_block_limit_names_the_limit() {
    let keys: Vec<String> = (0..100_001).map(|i| format!("k{i}")).collect();
    let e = env(&format!(
        "resources:\n  net:\n    type: fake_network\n    for_each: [{}]\n    properties: {{ cidr_block: 10.0.0.0/16 }}\n",
        keys.join(", ")
    ));
    let stderr = refused(&[("environments/dev.yaml", &e)]);
    assert_has(
        &stderr,
        &[
            "`for_each` has 100001 elements; a resource expands to at most 100000 instances",
            "environments/dev.yaml:7:",
        ],
    );
}

#[test]
fn many_blocks_under_the_per_block_limit_still_hit_the_total() {
    let mut body = String::from("resources:\n");
    for i in 0..3 {
        body.push_str(&format!(
            "  net{i}:\n    type: fake_network\n    count: 100000\n    properties: {{ cidr_block: 10.0.0.0/16 }}\n"
        ));
    }
    let stderr = refused(&[("environments/dev.yaml", &env(&body))]);
    assert_has(
        &stderr,
        &[
            "expands to more than 250000 resource instances",
            "reached at `net2`",
            "split the environment",
        ],
    );
}

#[test]
fn a_template_that_doubles_a_string_stops_at_one_mib() {
    let mut body = String::from("locals:\n  s0: xxxxxxxxxxxxxxxx\n");
    for i in 1..40 {
        body.push_str(&format!(
            "  s{i}: \"${{locals.s{p}}}${{locals.s{p}}}\"\n",
            p = i - 1
        ));
    }
    let stderr = refused(&[("environments/dev.yaml", &env(&body))]);
    assert_has(
        &stderr,
        &[
            "this string is too long: over the limit of 1 MiB of text",
            "environments/dev.yaml:",
        ],
    );
}

#[test]
fn join_format_and_replace_cannot_build_a_huge_string() {
    let body = "locals:\n  big: \"${join(\\\"\\\", formatlist(\\\"%0999d\\\", range(1000)))}\"\n  more: \"${format(\\\"%s%s\\\", locals.big, locals.big)}\"\n";
    let stderr = refused(&[("environments/dev.yaml", &env(body))]);
    assert_has(&stderr, &["format: result too large", "1 MiB of text"]);
}

#[test]
fn a_list_that_doubles_through_locals_stops_at_the_value_limit() {
    let mut body = String::from("locals:\n  l0: [a, b, c, d]\n");
    for i in 1..40 {
        body.push_str(&format!(
            "  l{i}: [\"${{locals.l{p}}}\", \"${{locals.l{p}}}\"]\n",
            p = i - 1
        ));
    }
    let stderr = refused(&[("environments/dev.yaml", &env(&body))]);
    assert_has(
        &stderr,
        &["this value is too large", "environments/dev.yaml:"],
    );
}

#[test]
fn a_long_chain_of_modules_names_the_depth_limit() {
    let mut files = vec![(
        "environments/dev.yaml".to_string(),
        env("modules:\n  m:\n    source: m0\n"),
    )];
    for i in 0..20 {
        files.push((
            format!("modules/m{i}/module.yaml"),
            format!("modules:\n  next:\n    source: m{}\n", i + 1),
        ));
    }
    files.push(("modules/m20/module.yaml".to_string(), "{}\n".to_string()));
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let stderr = refused(&files);
    assert_has(
        &stderr,
        &[
            "is nested 17 modules deep, over the limit of 16",
            "modules/m15/module.yaml:3:",
        ],
    );
    assert!(!stderr.contains("instantiates itself"), "{stderr}");
}

#[test]
fn a_module_cycle_is_named_as_a_cycle() {
    let stderr = refused(&[
        (
            "environments/dev.yaml",
            &env("modules:\n  a:\n    source: a\n"),
        ),
        ("modules/a/module.yaml", "modules:\n  b:\n    source: b\n"),
        ("modules/b/module.yaml", "modules:\n  a:\n    source: a\n"),
    ]);
    assert_has(
        &stderr,
        &["module `a` instantiates itself", "modules/b/module.yaml:3:"],
    );
}

// ---- paths: a spec reads nothing outside its project ----

#[test]
fn a_module_source_that_climbs_out_of_the_project_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    let p = Project::with(&[(
        "environments/dev.yaml",
        &env("modules:\n  m:\n    source: ../../../../../../../../../../etc\n"),
    )]);
    let stderr = refused_in(&p);
    assert_has(
        &stderr,
        &[
            "module source `../../../../../../../../../../etc` is outside the project directory: its `..` steps climb above the project root",
            "environments/dev.yaml:6:13",
            "copy the module into the project",
        ],
    );
    // Even when the target exists and is a valid module.
    std::fs::write(outside.path().join("module.yaml"), "{}\n").unwrap();
    let rel = format!("../../../../../../../../../..{}", outside.path().display());
    p.write(
        "environments/dev.yaml",
        &env(&format!("modules:\n  m:\n    source: {rel}\n")),
    );
    assert_has(&refused_in(&p), &["is outside the project directory"]);
}

#[test]
fn an_absolute_module_source_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("module.yaml"), "{}\n").unwrap();
    let stderr = refused(&[(
        "environments/dev.yaml",
        &env(&format!(
            "modules:\n  m:\n    source: {}\n",
            outside.path().display()
        )),
    )]);
    assert_has(
        &stderr,
        &["is outside the project directory: it is an absolute path"],
    );
}

#[test]
fn a_module_symlinked_out_of_the_project_is_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("module.yaml"),
        "resources:\n  secret: { type: fake_network, properties: { cidr_block: 10.0.0.0/16 } }\n",
    )
    .unwrap();
    let p = Project::with(&[(
        "environments/dev.yaml",
        &env("modules:\n  m:\n    source: linked\n"),
    )]);
    std::fs::create_dir_all(p.file("modules")).unwrap();
    std::os::unix::fs::symlink(outside.path(), p.file("modules/linked")).unwrap();
    let stderr = refused_in(&p);
    assert_has(
        &stderr,
        &[
            "module source `linked` leads through a symbolic link out of the project directory, to ",
            "environments/dev.yaml:6:13",
            "does not follow symbolic links out of the project",
        ],
    );
    // A link to the module file alone is caught the same way.
    std::fs::remove_file(p.file("modules/linked")).unwrap();
    std::fs::create_dir_all(p.file("modules/linked")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("module.yaml"),
        p.file("modules/linked/module.yaml"),
    )
    .unwrap();
    assert_has(
        &refused_in(&p),
        &["leads through a symbolic link out of the project"],
    );
}

#[test]
fn an_environment_file_symlinked_out_of_the_project_is_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("dev.yaml"), env("")).unwrap();
    let p = Project::new();
    std::fs::create_dir_all(p.file("environments")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("dev.yaml"),
        p.file("environments/dev.yaml"),
    )
    .unwrap();
    assert_has(
        &refused_in(&p),
        &[
            "environments/dev.yaml leads out of the project directory (through `..` or a symbolic link), to ",
        ],
    );
}

#[test]
fn links_and_relative_sources_inside_the_project_still_work() {
    let p = Project::with(&[
        (
            "environments/dev.yaml",
            &env("modules:\n  a:\n    source: ./../modules/real\n  b:\n    source: linked\n"),
        ),
        ("modules/real/module.yaml", "{}\n"),
    ]);
    std::os::unix::fs::symlink(p.file("modules/real"), p.file("modules/linked")).unwrap();
    let (code, stdout, stderr) = p.run(&["validate", "-e", "dev"]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
}

// ---- damaged state and plan files: refused by name, never overwritten ----

const ONE_NETWORK: &str =
    "resources:\n  vpc:\n    type: fake_network\n    properties: { cidr_block: 10.0.0.0/16 }\n";

/// Flips one bit of the byte in the middle of the file and returns the damaged bytes.
fn flip_a_bit(p: &Project, rel: &str) -> Vec<u8> {
    let mut bytes = std::fs::read(p.file(rel)).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(p.file(rel), &bytes).unwrap();
    bytes
}

#[test]
fn a_state_file_with_one_damaged_byte_is_refused_and_left_as_it_is() {
    let p = Project::with(&[("environments/dev.yaml", &env(ONE_NETWORK))]);
    let (code, _, stderr) = p.run(&["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    let damaged = flip_a_bit(&p, ".cairn/state/dev.json");
    for args in [
        &["plan", "-e", "dev"][..],
        &["apply", "-e", "dev", "--auto-approve"],
    ] {
        let (code, stdout, stderr) = p.run(args);
        assert_eq!(code, 1, "{args:?}\n{stdout}\n{stderr}");
        assert_has(
            &stderr,
            &[
                "state file .cairn/state/dev.json is corrupt",
                "it was left untouched (restore it from .cairn/state/dev.json.backup or version control)",
            ],
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(
            std::fs::read(p.file(".cairn/state/dev.json")).unwrap(),
            damaged,
            "{args:?} changed the damaged state file"
        );
    }
    // What the message says to do works.
    std::fs::copy(
        p.file(".cairn/state/dev.json.backup"),
        p.file(".cairn/state/dev.json"),
    )
    .unwrap();
    let (code, stdout, stderr) = p.run(&["plan", "-e", "dev"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
}

#[test]
fn a_saved_plan_with_one_damaged_byte_is_refused_and_a_new_plan_replaces_it() {
    let p = Project::with(&[("environments/dev.yaml", &env(ONE_NETWORK))]);
    let (code, _, stderr) = p.run(&["plan", "-e", "dev", "--out", "plan.cairn"]);
    assert_eq!(code, 0, "{stderr}");
    let damaged = flip_a_bit(&p, "plan.cairn");
    for args in [&["apply", "plan.cairn"][..], &["show", "plan.cairn"]] {
        let (code, stdout, stderr) = p.run(args);
        assert_eq!(code, 1, "{args:?}\n{stdout}\n{stderr}");
        assert_has(
            &stderr,
            &[
                "plan.cairn is corrupt",
                "make a new plan with `cairn plan --out`",
            ],
        );
        assert_eq!(std::fs::read(p.file("plan.cairn")).unwrap(), damaged);
    }
    assert!(
        !p.file(".cairn/state/dev.json").exists(),
        "nothing was applied"
    );
    let (code, _, stderr) = p.run(&["plan", "-e", "dev", "--out", "plan.cairn"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = p.run(&["apply", "plan.cairn"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn plan_out_never_overwrites_a_file_that_is_not_a_plan() {
    let p = Project::with(&[("environments/dev.yaml", &env(ONE_NETWORK))]);
    let spec = p.read("environments/dev.yaml");
    let (code, _, stderr) = p.run(&["plan", "-e", "dev", "--out", "environments/dev.yaml"]);
    assert_eq!(code, 1, "{stderr}");
    assert_has(
        &stderr,
        &[
            "environments/dev.yaml exists and is not a cairn plan file (it looks like YAML",
            "left untouched: give `--out` a new file name",
        ],
    );
    assert_eq!(p.read("environments/dev.yaml"), spec);
}
