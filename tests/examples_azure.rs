//! The two Azure reference examples of issue 7, each `examples/<name>/` using the repository's
//! top-level modules by relative path: honeylink (seed 000) and flask-aks (seed 004). Every
//! environment validates; dev and prd plan as their snapshots say; on the local ARM server dev
//! (and honeylink's prd, with its West Europe region) applies from scratch, re-plans empty, plans
//! a one-input change as only what that input touches, and destroys everything: the resource
//! groups are gone from the server.

mod common;

use common::arm::LocalArm;
use common::{Project, example};

/// The api-versions cairn pins for what the tests read back from the server.
const GROUP_API: &str = "2025-04-01";
const AKS_API: &str = "2025-05-01";

/// `cairn -C examples/<name> ARGS` in `p`; with `arm`, against it (its credentials, endpoint and
/// subscription, nothing inherited that could reach a real Azure account). A command that has
/// not finished in five minutes is killed and reported (exit code -1) rather than hanging the
/// suite: each of these takes seconds.
fn run(p: &Project, name: &str, arm: Option<&LocalArm>, args: &[&str]) -> (i32, String, String) {
    let dir = format!("examples/{name}");
    let mut all = vec!["-C", dir.as_str()];
    all.extend_from_slice(args);
    let mut cmd = p.cairn(&all);
    cmd.timeout(std::time::Duration::from_secs(300));
    if let Some(arm) = arm {
        for (variable, value) in arm.environment() {
            match value {
                Some(value) => cmd.env(variable, value),
                None => cmd.env_remove(variable),
            };
        }
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The resource headers of a plan (`  # module.edge.azurerm_kubernetes_cluster.cluster will be ...`).
fn planned(plan: &str) -> Vec<&str> {
    plan.lines()
        .filter(|l| l.starts_with("  # "))
        .map(str::trim)
        .collect()
}

/// Apply ENV from scratch, check it re-plans empty, change one input of the environment file
/// (`from` → `to`, which must appear once), see the plan hold exactly `expected` and apply it,
/// re-plan empty again, and destroy with nothing left in state.
fn apply_change_destroy(
    p: &Project,
    name: &str,
    arm: &LocalArm,
    env: &str,
    change: (&str, &str),
    expected: &[&str],
    after_apply: impl Fn(),
) {
    let plan = || {
        run(
            p,
            name,
            Some(arm),
            &["plan", "-e", env, "--detailed-exitcode"],
        )
    };
    let apply = || run(p, name, Some(arm), &["apply", "-e", env, "--auto-approve"]);

    let (code, stdout, stderr) = apply();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("Apply complete!"), "{stdout}");
    after_apply();
    let (code, stdout, stderr) = plan();
    assert_eq!(code, 0, "a second plan must be empty:\n{stdout}\n{stderr}");

    // One input.
    let file = format!("examples/{name}/environments/{env}.yaml");
    let text = p.read(&file);
    assert_eq!(text.matches(change.0).count(), 1, "{}\n{text}", change.0);
    p.write(&file, &text.replace(change.0, change.1));
    let (code, stdout, stderr) = plan();
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert_eq!(planned(&stdout), expected, "{stdout}");
    assert!(
        stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{stdout}"
    );
    let (code, stdout, stderr) = apply();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = plan();
    assert_eq!(code, 0, "the change must stick:\n{stdout}\n{stderr}");

    let (code, stdout, stderr) = run(
        p,
        name,
        Some(arm),
        &["destroy", "-e", env, "--auto-approve"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, list, stderr) = run(p, name, Some(arm), &["state", "list", "-e", env]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(list.trim(), "", "{list}");
}

#[test]
fn every_environment_of_both_examples_validates() {
    for name in ["honeylink", "flask-aks"] {
        let p = example(name);
        for env in ["dev", "stg", "prd"] {
            let (code, stdout, stderr) = run(&p, name, None, &["validate", "-e", env]);
            assert_eq!(code, 0, "{name} {env}: {stdout}\n{stderr}");
            assert!(stdout.starts_with("Success!"), "{stdout}");
        }
    }
}

#[test]
fn honeylink_plans_match_their_snapshots() {
    let arm = LocalArm::start();
    let p = example("honeylink");
    let (code, dev, stderr) = run(&p, "honeylink", Some(&arm), &["plan", "-e", "dev"]);
    assert_eq!(code, 0, "{dev}\n{stderr}");
    let (code, prd, stderr) = run(&p, "honeylink", Some(&arm), &["plan", "-e", "prd"]);
    assert_eq!(code, 0, "{prd}\n{stderr}");
    // Same three tiers everywhere; prd adds West Europe, dev has none of it.
    for plan in [&dev, &prd] {
        for tier in ["edge", "service", "data"] {
            assert!(
                plan.contains(&format!(
                    "# module.network.azurerm_network_security_group.nsg[\"{tier}\"] will be created"
                )),
                "{plan}"
            );
        }
    }
    assert!(
        dev.contains("Plan: 32 to add, 0 to change, 0 to destroy."),
        "{dev}"
    );
    assert!(!dev.contains("module.dr_"), "{dev}");
    assert!(
        prd.contains("# module.dr_edge.azurerm_kubernetes_cluster.cluster will be created"),
        "{prd}"
    );
    assert!(
        prd.contains("Plan: 57 to add, 0 to change, 0 to destroy."),
        "{prd}"
    );
    insta::assert_snapshot!("honeylink_dev_plan", dev);
    insta::assert_snapshot!("honeylink_prd_plan", prd);
    // stg: the sizes between; its plan is pinned as well.
    let (code, stg, stderr) = run(&p, "honeylink", Some(&arm), &["plan", "-e", "stg"]);
    assert_eq!(code, 0, "{stg}\n{stderr}");
    insta::assert_snapshot!("honeylink_stg_plan", stg);
}

#[test]
fn flask_aks_plans_match_their_snapshots() {
    let arm = LocalArm::start();
    let p = example("flask-aks");
    let (code, dev, stderr) = run(&p, "flask-aks", Some(&arm), &["plan", "-e", "dev"]);
    assert_eq!(code, 0, "{dev}\n{stderr}");
    let (code, prd, stderr) = run(&p, "flask-aks", Some(&arm), &["plan", "-e", "prd"]);
    assert_eq!(code, 0, "{prd}\n{stderr}");
    for plan in [&dev, &prd] {
        assert!(
            plan.contains("# module.gateway.azurerm_application_gateway.gateway will be created"),
            "{plan}"
        );
        assert!(
            plan.contains("Plan: 33 to add, 0 to change, 0 to destroy."),
            "{plan}"
        );
    }
    insta::assert_snapshot!("flask_aks_dev_plan", dev);
    insta::assert_snapshot!("flask_aks_prd_plan", prd);
    // stg: the sizes between; its plan is pinned as well.
    let (code, stg, stderr) = run(&p, "flask-aks", Some(&arm), &["plan", "-e", "stg"]);
    assert_eq!(code, 0, "{stg}\n{stderr}");
    insta::assert_snapshot!("flask_aks_stg_plan", stg);
}

/// Seed 000 in dev on the local ARM server: 32 resources from scratch, an empty re-plan; letting
/// the edge gateway's workload pool grow to 4 nodes instead of 3 is one in-place update of that
/// pool; destroy removes the resource group and everything in it.
#[test]
fn honeylink_dev_applies_scales_and_destroys_on_the_local_arm_server() {
    const NAME: &str = "honeylink";
    let arm = LocalArm::start();
    let p = example(NAME);
    apply_change_destroy(
        &p,
        NAME,
        &arm,
        "dev",
        ("      max_nodes: 3\n", "      max_nodes: 4\n"),
        &[
            "# module.edge.azurerm_kubernetes_cluster_node_pool.workload[0] will be updated in-place",
        ],
        || {
            let group = arm
                .client
                .get(&arm.group_id("honeylink-dev"), GROUP_API)
                .expect("the resource group exists");
            assert_eq!(group["location"], "eastus");
        },
    );
    assert!(
        arm.client
            .get(&arm.group_id("honeylink-dev"), GROUP_API)
            .is_none(),
        "nothing is left"
    );
}

/// Seed 000 in prd: East US and West Europe (the `azure.dr` provider) from scratch, the standby
/// edge cluster across three zones in West Europe; an empty re-plan; a longer retention of the
/// West Europe workspace is one in-place update of it; destroy removes both regions' groups.
#[test]
fn honeylink_prd_applies_both_regions_and_destroys_on_the_local_arm_server() {
    const NAME: &str = "honeylink";
    let arm = LocalArm::start();
    let p = example(NAME);
    apply_change_destroy(
        &p,
        NAME,
        &arm,
        "prd",
        (
            "honeylink-prd-dr-logs, resource_group_name: \"${dr_network.resource_group_name}\", retention_in_days: 90 }",
            "honeylink-prd-dr-logs, resource_group_name: \"${dr_network.resource_group_name}\", retention_in_days: 180 }",
        ),
        &["# module.dr_logs.azurerm_log_analytics_workspace.workspace will be updated in-place"],
        || {
            let primary = arm
                .client
                .get(&arm.group_id("honeylink-prd"), GROUP_API)
                .expect("the East US group exists");
            assert_eq!(primary["location"], "eastus");
            let dr = arm
                .client
                .get(&arm.group_id("honeylink-prd-dr"), GROUP_API)
                .expect("the West Europe group exists");
            assert_eq!(dr["location"], "westeurope");
            let cluster = arm
                .client
                .get(
                    &format!(
                        "{}/providers/Microsoft.ContainerService/managedClusters/honeylink-prd-dr-edge",
                        arm.group_id("honeylink-prd-dr")
                    ),
                    AKS_API,
                )
                .expect("the standby edge cluster exists");
            assert_eq!(cluster["location"], "westeurope");
            assert_eq!(
                cluster["properties"]["agentPoolProfiles"][0]["availabilityZones"],
                serde_json::json!(["1", "2", "3"])
            );
        },
    );
    for group in ["honeylink-prd", "honeylink-prd-dr"] {
        assert!(
            arm.client.get(&arm.group_id(group), GROUP_API).is_none(),
            "{group} is left"
        );
    }
}

/// Seed 004 in dev: Application Gateway → AKS → PostgreSQL (33 resources) from scratch, an empty
/// re-plan; a second gateway instance is one in-place update of the gateway; destroy removes
/// the resource group.
#[test]
fn flask_aks_dev_applies_scales_the_gateway_and_destroys_on_the_local_arm_server() {
    const NAME: &str = "flask-aks";
    let arm = LocalArm::start();
    let p = example(NAME);
    apply_change_destroy(
        &p,
        NAME,
        &arm,
        "dev",
        ("      capacity: 1\n", "      capacity: 2\n"),
        &["# module.gateway.azurerm_application_gateway.gateway will be updated in-place"],
        || {
            assert!(
                arm.client
                    .get(&arm.group_id("flask-aks-dev"), GROUP_API)
                    .is_some(),
                "the resource group exists"
            );
        },
    );
    assert!(
        arm.client
            .get(&arm.group_id("flask-aks-dev"), GROUP_API)
            .is_none(),
        "nothing is left"
    );
}
