//! The reference stack refreshed at 1× and 2× its size on moto: the API calls of every type whose
//! AWS API reads in pages stay flat as the estate doubles, and the others (APIs with no batch
//! read) grow at most in proportion. `cairn bench --only refresh` prints the same table at 1×,
//! 10× and 100× (docs/performance.md).

mod common;

use std::collections::BTreeMap;

use cairn::bench::moto::{ApiCalls, rename, scale_environment};
use common::moto::Moto;
use common::{Project, copy_dir};

/// Types read with one paged call (or a fixed few) whatever their number.
const FLAT: &[&str] = &[
    "aws_appautoscaling_policy",
    "aws_appautoscaling_target",
    "aws_db_instance",
    "aws_ecs_cluster",
    "aws_eip",
    "aws_flow_log",
    "aws_internet_gateway",
    "aws_kms_alias",
    "aws_lb_listener",
    "aws_nat_gateway",
    "aws_network_acl",
    "aws_network_acl_rule",
    "aws_route",
    "aws_route_table",
    "aws_route_table_association",
    "aws_secretsmanager_secret",
    "aws_security_group",
    "aws_subnet",
    "aws_vpc_endpoint",
    "aws_vpc_security_group_egress_rule",
    "aws_vpc_security_group_ingress_rule",
];

/// The reference stack (modules/ and environments/dev.yaml) with its module calls repeated
/// `copies` times under a name of its own.
fn scaled_stack(copies: usize) -> Project {
    let p = Project::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&root.join("modules"), &p.file("modules"));
    let dev = std::fs::read_to_string(root.join("environments/dev.yaml")).unwrap();
    let name = format!("datasets-dev-x{copies}");
    let text = scale_environment(&rename(&dev, "datasets-dev", &name), &name, copies).unwrap();
    p.write("environments/dev.yaml", &text);
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

#[test]
fn refreshing_twice_the_estate_costs_no_more_calls_for_paged_types() {
    let moto = Moto::start_with_running_tasks(2);
    let mut by_scale: Vec<(usize, ApiCalls)> = Vec::new();
    for copies in [1, 2] {
        let p = scaled_stack(copies);
        let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
        assert_eq!(code, 0, "apply of {copies}×:\n{stdout}\n{stderr}");
        let (code, stdout, stderr) = run(
            &p,
            &moto,
            &["-v", "plan", "-e", "dev", "--detailed-exitcode"],
        );
        assert_eq!(
            code, 0,
            "re-plan of {copies}× is not empty:\n{stdout}\n{stderr}"
        );
        by_scale.push((copies, ApiCalls::parse(&stderr)));
    }
    let (one, two) = (&by_scale[0].1, &by_scale[1].1);
    let table: BTreeMap<&String, (u64, u64)> = one
        .by_type
        .iter()
        .map(|(ty, n)| (ty, (*n, two.by_type.get(ty).copied().unwrap_or(0))))
        .collect();
    for (ty, (at_one, at_two)) in &table {
        println!("{ty:>50}  {at_one:>4}  {at_two:>4}");
    }
    for ty in FLAT {
        let (at_one, at_two) = table
            .get(&ty.to_string())
            .copied()
            .unwrap_or_else(|| panic!("{ty}: no calls counted against it: {table:?}"));
        assert_eq!(at_one, at_two, "{ty}: calls grew with the estate");
    }
    for (ty, (at_one, at_two)) in &table {
        assert!(
            *at_two <= 2 * at_one,
            "{ty}: {at_one} calls at 1×, {at_two} at 2×: more than in proportion"
        );
    }
    assert_eq!(
        one.by_type.values().sum::<u64>(),
        one.total() - one.by_service.get("sts").copied().unwrap_or(0),
        "every call but the identity check is counted against a type"
    );
    assert!(
        two.total() < 2 * one.total(),
        "{} vs {}",
        two.total(),
        one.total()
    );
}
