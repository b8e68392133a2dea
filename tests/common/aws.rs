//! The steps every AWS story shares: run cairn against moto, list what cairn owns there, check
//! that an edit updates in place and sticks, and check that every resource imports cleanly into a
//! fresh project.

use super::Project;
use super::moto::{Moto, xml_values};

/// `cairn ARGS` in `p`, pointed at `moto`: (exit code, stdout, stderr).
pub fn run(p: &Project, moto: &Moto, args: &[&str]) -> (i32, String, String) {
    run_through(p, moto, &moto.endpoint(), args)
}

/// [`run`] with the AWS endpoint at `endpoint`, a proxy in front of `moto`
/// ([`super::latency::Latency`]).
pub fn run_through(
    p: &Project,
    moto: &Moto,
    endpoint: &str,
    args: &[&str],
) -> (i32, String, String) {
    let mut cmd = p.cairn(args);
    moto.configure(&mut cmd);
    cmd.env("AWS_ENDPOINT_URL", endpoint);
    let out = cmd.output().expect("run cairn");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The ids of EC2 `Describe*` results in us-east-1 that carry cairn's ownership tag.
pub fn owned(moto: &Moto, action: &str, id_tag: &str) -> Vec<String> {
    owned_in(moto, "us-east-1", action, id_tag)
}

/// [`owned`] in another region.
pub fn owned_in(moto: &Moto, region: &str, action: &str, id_tag: &str) -> Vec<String> {
    let xml = moto.ec2_in(
        region,
        &[
            ("Action", action),
            ("Filter.1.Name", "tag-key"),
            ("Filter.1.Value.1", "cairn%3Aaddress"),
        ],
    );
    let mut ids = xml_values(&xml, id_tag);
    ids.sort();
    ids.dedup();
    ids
}

/// The cloud id state records for `address` (`cairn state show`).
pub fn state_id(p: &Project, moto: &Moto, address: &str) -> String {
    let (code, show, stderr) = run(p, moto, &["state", "show", address, "-e", "dev"]);
    assert_eq!(code, 0, "{show}\n{stderr}");
    id_of(&show, address)
}

/// The id line of `cairn state show` output.
fn id_of(show: &str, address: &str) -> String {
    show.lines()
        .find_map(|l| l.strip_prefix("id       = "))
        .unwrap_or_else(|| panic!("no id for {address} in:\n{show}"))
        .to_string()
}

/// After an edit that should change `address` in place: the plan says so and nothing else, the
/// apply succeeds, and the next plan is empty.
pub fn updates_in_place_and_sticks(p: &Project, moto: &Moto, address: &str) {
    let (code, stdout, stderr) = run(p, moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("# {address} will be updated in-place")),
        "{stdout}"
    );
    assert!(
        stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(p, moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = run(p, moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "the update must stick:\n{stdout}\n{stderr}");
}

/// A teammate with the same spec and an empty state imports every managed resource of `p` by
/// the id `p`'s state records; their next plan is empty (import read everything the spec sets)
/// and nothing was created twice.
pub fn imports_cleanly(p: &Project, moto: &Moto) {
    let spec = p.read("environments/dev.yaml");
    let teammate = Project::with(&[("environments/dev.yaml", &spec)]);
    let (code, list, stderr) = run(p, moto, &["state", "list", "-e", "dev"]);
    assert_eq!(code, 0, "{list}\n{stderr}");
    let mut imported = 0;
    for address in list.lines() {
        let (_, show, _) = run(p, moto, &["state", "show", address, "-e", "dev"]);
        // Data sources are read by every plan, not imported.
        if show.lines().any(|l| l == "mode     = data") {
            continue;
        }
        let id = id_of(&show, address);
        let (code, stdout, stderr) = run(&teammate, moto, &["import", "-e", "dev", address, &id]);
        assert_eq!(code, 0, "import {address} {id}:\n{stdout}\n{stderr}");
        assert!(stdout.contains("Import successful!"), "{stdout}");
        imported += 1;
    }
    assert!(imported > 0, "nothing to import in:\n{list}");
    let (code, stdout, stderr) = run(
        &teammate,
        moto,
        &["plan", "-e", "dev", "--detailed-exitcode"],
    );
    assert_eq!(
        code, 0,
        "after importing everything the plan must be empty:\n{stdout}\n{stderr}"
    );
}
