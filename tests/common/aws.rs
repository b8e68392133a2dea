//! The steps every AWS story shares: run cairn against moto and list what cairn owns there. The
//! steps every cloud's stories share (an edit updates in place and sticks, everything imports
//! cleanly) are in `story.rs`, re-exported here.

use super::Project;
use super::moto::{Moto, xml_values};

// Not every story takes every step.
#[allow(unused_imports)]
pub use super::story::{imports_cleanly, state_id, updates_in_place_and_sticks};

/// `cairn ARGS` in `p`, pointed at `moto`: (exit code, stdout, stderr).
pub fn run(p: &Project, moto: &Moto, args: &[&str]) -> (i32, String, String) {
    run_through(p, moto, &moto.endpoint(), args)
}

/// [`run`] with the AWS endpoint at `endpoint`, a proxy in front of `moto`
/// ([`super::faults::FaultProxy`]).
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

impl super::story::Cloud for Moto {
    fn run(&self, p: &Project, args: &[&str]) -> (i32, String, String) {
        run(p, self, args)
    }
}

/// How many `service.Operation` calls (`ec2.DescribeSubnets`) a `-v` run's call summaries count,
/// over every AWS provider instance.
pub fn api_calls(stderr: &str, operation: &str) -> u64 {
    let calls = cairn::bench::moto::ApiCalls::parse(stderr);
    assert!(calls.total() > 0, "no API call summary in:\n{stderr}");
    calls.by_operation.get(operation).copied().unwrap_or(0)
}
