//! The steps every cloud's user stories share, whatever emulator answers: an edit that updates
//! in place and sticks, and a teammate importing everything into an empty state with an empty
//! plan after.

use super::Project;

/// A local cloud that `cairn` commands can be pointed at (moto, the local ARM server).
pub trait Cloud {
    /// `cairn ARGS` in `p`, pointed at this cloud: (exit code, stdout, stderr).
    fn run(&self, p: &Project, args: &[&str]) -> (i32, String, String);
}

/// The cloud id state records for `address` (`cairn state show`).
pub fn state_id(p: &Project, cloud: &impl Cloud, address: &str) -> String {
    let (code, show, stderr) = cloud.run(p, &["state", "show", address, "-e", "dev"]);
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
pub fn updates_in_place_and_sticks(p: &Project, cloud: &impl Cloud, address: &str) {
    let (code, stdout, stderr) = cloud.run(p, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("# {address} will be updated in-place")),
        "{stdout}"
    );
    assert!(
        stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{stdout}"
    );
    let (code, stdout, stderr) = cloud.run(p, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = cloud.run(p, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "the update must stick:\n{stdout}\n{stderr}");
}

/// A teammate with the same spec and an empty state imports every managed resource of `p` by
/// the id `p`'s state records; their next plan is empty (import read everything the spec sets)
/// and nothing was created twice.
pub fn imports_cleanly(p: &Project, cloud: &impl Cloud) {
    let spec = p.read("environments/dev.yaml");
    let teammate = Project::with(&[("environments/dev.yaml", &spec)]);
    let (code, list, stderr) = cloud.run(p, &["state", "list", "-e", "dev"]);
    assert_eq!(code, 0, "{list}\n{stderr}");
    let mut imported = 0;
    for address in list.lines() {
        let (_, show, _) = cloud.run(p, &["state", "show", address, "-e", "dev"]);
        // Data sources are read by every plan, not imported.
        if show.lines().any(|l| l == "mode     = data") {
            continue;
        }
        let id = id_of(&show, address);
        let (code, stdout, stderr) = cloud.run(&teammate, &["import", "-e", "dev", address, &id]);
        assert_eq!(code, 0, "import {address} {id}:\n{stdout}\n{stderr}");
        assert!(stdout.contains("Import successful!"), "{stdout}");
        imported += 1;
    }
    assert!(imported > 0, "nothing to import in:\n{list}");
    let (code, stdout, stderr) =
        cloud.run(&teammate, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(
        code, 0,
        "after importing everything the plan must be empty:\n{stdout}\n{stderr}"
    );
}
