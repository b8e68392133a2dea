//! The repository's own reference stack (the datasets system on the fake provider): every
//! environment validates, and each plans the sizes the seed asks for.

mod common;

use common::Project;

/// A copy of the repository's modules/ and environments/ in a throw-away directory, so plans and
/// applies never write into the checkout.
fn reference_stack() -> Project {
    let p = Project::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["modules", "environments"] {
        copy_dir(&root.join(dir), &p.file(dir));
    }
    p
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn run(p: &Project, args: &[&str]) -> (i32, String, String) {
    let out = p
        .cairn(args)
        .env("DATASETS_DB_PASSWORD", "reference-stack-test-password")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_environment_validates() {
    let p = reference_stack();
    for env in ["dev", "stg", "prd"] {
        let (code, stdout, stderr) = run(&p, &["validate", "-e", env]);
        assert_eq!(code, 0, "{env}: {stdout}\n{stderr}");
        assert!(stdout.starts_with("Success!"), "{stdout}");
    }
}

#[test]
fn environments_differ_in_size_not_in_shape() {
    let p = reference_stack();
    let count = |plan: &str, needle: &str| plan.matches(needle).count();
    let (_, dev, _) = run(&p, &["plan", "-e", "dev"]);
    let (_, prd, stderr) = run(&p, &["plan", "-e", "prd"]);
    assert!(prd.contains("Plan:"), "{stderr}");
    // dev: one zone; prd: two, with a multi-AZ database and more service tasks.
    assert_eq!(count(&dev, "resource \"fake_subnet\""), 3, "{dev}");
    assert_eq!(count(&prd, "resource \"fake_subnet\""), 6, "{prd}");
    assert!(dev.contains("+ multi_az          = false"), "{dev}");
    assert!(prd.contains("+ multi_az          = true"), "{prd}");
    assert!(prd.contains("+ desired_count      = 4"), "{prd}");
    assert!(!prd.contains("reference-stack-test-password"));
}

#[test]
fn the_main_job_plans_applies_and_converges() {
    let p = reference_stack();
    let (code, stdout, stderr) = run(&p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Apply complete! Resources: 14 added"),
        "{stdout}"
    );
    let (code, stdout, _) = run(&p, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a second plan is empty:\n{stdout}");
}

#[test]
fn every_example_validates() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = 0;
    for example in std::fs::read_dir(&examples).unwrap().flatten() {
        let envs = example.path().join("environments");
        let Ok(files) = std::fs::read_dir(&envs) else {
            continue;
        };
        for file in files.flatten() {
            let name = file
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let out = assert_cmd::Command::cargo_bin("cairn")
                .unwrap()
                .arg("-C")
                .arg(example.path())
                .args(["validate", "-e", &name])
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}/{name}: {}",
                example.path().display(),
                String::from_utf8_lossy(&out.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 2, "examples/ holds environments to check");
}
