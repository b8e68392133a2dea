//! The container tier's AWS types as a user lives them, against moto: a Fargate service with a
//! secret and an execution role, behind a target group, scaled by CPU and on a schedule, is
//! applied, re-planned without false diffs, imported, changed in place and by a new task
//! definition revision, and destroyed without leftovers; and a service that never becomes
//! stable times out with a message that says so and stays in state.
//!
//! The harness runs moto with MOTO_ECS_SERVICE_RUNNING=2: every service reports 2 running
//! tasks, so the stable services here want 2. moto diverges from AWS where noted in comments;
//! the adapters are written for AWS.

mod common;

use common::Project;
use common::aws::{api_calls, imports_cleanly, run, state_id, updates_in_place_and_sticks};
use common::moto::{Moto, xml_values};

const ECS_TARGET: &str = "AmazonEC2ContainerServiceV20141113";
const SCALING_TARGET: &str = "AnyScaleFrontendService";

const APP: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  vpc:
    type: aws_vpc
    properties: { cidr_block: 10.0.0.0/16 }
  subnet_a:
    type: aws_subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.0.1.0/24, availability_zone: us-east-1a }
  subnet_b:
    type: aws_subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.0.2.0/24, availability_zone: us-east-1b }
  app_sg:
    type: aws_security_group
    properties: { name: cairn-app, vpc_id: "${vpc.id}" }
  db_password:
    type: aws_secretsmanager_secret
    properties: { name: app/dev/db-password, recovery_window_in_days: 0 }
  exec_role:
    type: aws_iam_role
    properties:
      name: cairn-app-exec
      assume_role_policy: |
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                        "Action": "sts:AssumeRole"}]}
  exec_policy:
    type: aws_iam_role_policy_attachment
    properties:
      role: ${exec_role.name}
      policy_arn: arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy
  cluster:
    type: aws_ecs_cluster
    properties:
      name: app
      setting: [{ name: containerInsights, value: enabled }]
      tags: { Name: app }
  task:
    type: aws_ecs_task_definition
    properties:
      family: app
      requires_compatibilities: [FARGATE]
      network_mode: awsvpc
      cpu: 256
      memory: 512
      execution_role_arn: ${exec_role.arn}
      container_definitions:
        - name: web
          image: nginx:1.27
          essential: true
          portMappings: [{ containerPort: 80 }]
          secrets: [{ name: DB_PASSWORD, valueFrom: "${db_password.arn}" }]
        - name: sidecar
          image: busybox:1.36
          essential: false
          command: [sleep, infinity]
          environment: [{ name: MODE, value: sidecar }]
      tags: { Name: app }
  service:
    type: aws_ecs_service
    properties:
      name: web
      cluster: ${cluster.id}
      task_definition: ${task.arn}
      desired_count: 2
      launch_type: FARGATE
      load_balancer:
        - { target_group_arn: "TARGET_GROUP_ARN", container_name: web, container_port: 80 }
      network_configuration:
        subnets: ["${subnet_a.id}", "${subnet_b.id}"]
        security_groups: ["${app_sg.id}"]
      health_check_grace_period_seconds: 30
      tags: { Name: web }
  scaling:
    type: aws_appautoscaling_target
    properties:
      service_namespace: ecs
      resource_id: service/${cluster.name}/${service.name}
      scalable_dimension: ecs:service:DesiredCount
      min_capacity: 2
      max_capacity: 10
  cpu:
    type: aws_appautoscaling_policy
    properties:
      name: cpu
      policy_type: TargetTrackingScaling
      service_namespace: ${scaling.service_namespace}
      resource_id: ${scaling.resource_id}
      scalable_dimension: ${scaling.scalable_dimension}
      target_tracking_scaling_policy_configuration:
        target_value: 70
        predefined_metric_specification: { predefined_metric_type: ECSServiceAverageCPUUtilization }
        scale_in_cooldown: 60
        scale_out_cooldown: 60
  night:
    type: aws_appautoscaling_scheduled_action
    properties:
      name: night
      service_namespace: ${scaling.service_namespace}
      resource_id: ${scaling.resource_id}
      scalable_dimension: ${scaling.scalable_dimension}
      schedule: cron(0 20 * * ? *)
      timezone: Europe/Berlin
      scalable_target_action: { min_capacity: 2, max_capacity: 4 }
"#;

fn ecs(moto: &Moto, action: &str, body: &str) -> String {
    moto.json("ecs", &format!("{ECS_TARGET}.{action}"), body)
}

fn scaling(moto: &Moto, action: &str, body: &str) -> String {
    moto.json(
        "application-autoscaling",
        &format!("{SCALING_TARGET}.{action}"),
        body,
    )
}

fn body(response: &str) -> serde_json::Value {
    let json = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {response}"))
}

/// A target group made behind cairn's back (the aws_lb types are written elsewhere): moto's
/// CreateService checks that a load balancer's target group exists.
fn target_group(moto: &Moto) -> String {
    let vpc = moto.ec2(&[("Action", "CreateVpc"), ("CidrBlock", "10.9.0.0%2F16")]);
    let vpc_id = xml_values(&vpc, "vpcId").remove(0);
    let created = moto.query(
        "elasticloadbalancing",
        "2015-12-01",
        &[
            ("Action", "CreateTargetGroup"),
            ("Name", "web"),
            ("Protocol", "HTTP"),
            ("Port", "80"),
            ("VpcId", &vpc_id),
            ("TargetType", "ip"),
        ],
    );
    xml_values(&created, "TargetGroupArn")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no target group in {created}"))
}

fn service(moto: &Moto) -> serde_json::Value {
    let out = body(&ecs(
        moto,
        "DescribeServices",
        r#"{"cluster": "app", "services": ["web"]}"#,
    ));
    out["services"][0].clone()
}

#[test]
fn a_fargate_service_with_autoscaling_applies_replans_clean_imports_changes_and_destroys() {
    let moto = Moto::start();
    let tg = target_group(&moto);
    let spec = APP.replace("TARGET_GROUP_ARN", &tg);
    let p = Project::with(&[("environments/dev.yaml", &spec)]);

    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Apply complete! Resources: 13 added, 0 changed, 0 destroyed."),
        "{stdout}"
    );
    let web = service(&moto);
    assert_eq!(web["status"], "ACTIVE", "{web}");
    assert_eq!(web["runningCount"], 2, "{web}");
    assert_eq!(
        web["loadBalancers"][0]["targetGroupArn"],
        tg.as_str(),
        "{web}"
    );
    assert_eq!(web["launchType"], "FARGATE", "{web}");
    let task_arn = state_id(&p, &moto, "aws_ecs_task_definition.task");
    assert!(task_arn.ends_with(":task-definition/app:1"), "{task_arn}");
    let described = body(&ecs(
        &moto,
        "DescribeTaskDefinition",
        r#"{"taskDefinition": "app:1"}"#,
    ));
    let secret_arn = state_id(&p, &moto, "aws_secretsmanager_secret.db_password");
    assert_eq!(
        described["taskDefinition"]["containerDefinitions"][0]["secrets"][0]["valueFrom"],
        secret_arn.as_str()
    );
    assert_eq!(
        state_id(&p, &moto, "aws_appautoscaling_target.scaling"),
        "ecs/service/app/web/ecs:service:DesiredCount"
    );

    // ECS fills in defaults (essential, protocol, empty lists): no diff for them.
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a re-plan must be empty:\n{stdout}\n{stderr}");
    imports_cleanly(&p, &moto);

    // Terraform's import ids: a cluster by name, a service as CLUSTER/SERVICE.
    let teammate = Project::with(&[("environments/dev.yaml", &spec)]);
    for (address, id) in [
        ("aws_ecs_cluster.cluster", "app"),
        ("aws_ecs_service.service", "app/web"),
    ] {
        let (code, stdout, stderr) = run(&teammate, &moto, &["import", "-e", "dev", address, id]);
        assert_eq!(code, 0, "import {address} {id}:\n{stdout}\n{stderr}");
        assert!(stdout.contains("Import successful!"), "{stdout}");
    }

    // In place: the rollout percentages, Container Insights, the bounds, the target, the
    // schedule and the task definition's tags.
    let edits = [
        (
            "      health_check_grace_period_seconds: 30\n",
            "      health_check_grace_period_seconds: 30\n      deployment_maximum_percent: 150\n      deployment_minimum_healthy_percent: 50\n",
            "aws_ecs_service.service",
        ),
        (
            "value: enabled }]",
            "value: disabled }]",
            "aws_ecs_cluster.cluster",
        ),
        (
            "max_capacity: 10",
            "max_capacity: 8",
            "aws_appautoscaling_target.scaling",
        ),
        (
            "target_value: 70",
            "target_value: 60",
            "aws_appautoscaling_policy.cpu",
        ),
        (
            "cron(0 20 * * ? *)",
            "cron(0 21 * * ? *)",
            "aws_appautoscaling_scheduled_action.night",
        ),
        (
            "      tags: { Name: app }\n  service:",
            "      tags: { Name: app-tasks }\n  service:",
            "aws_ecs_task_definition.task",
        ),
    ];
    let mut current = spec.clone();
    for (from, to, address) in edits {
        let next = current.replacen(from, to, 1);
        assert_ne!(next, current, "{from}");
        current = next;
        p.write("environments/dev.yaml", &current);
        updates_in_place_and_sticks(&p, &moto, address);
    }
    let web = service(&moto);
    assert_eq!(
        web["deploymentConfiguration"]["maximumPercent"], 150,
        "{web}"
    );
    let targets = body(&scaling(
        &moto,
        "DescribeScalableTargets",
        r#"{"ServiceNamespace": "ecs"}"#,
    ));
    assert_eq!(targets["ScalableTargets"][0]["MaxCapacity"], 8, "{targets}");

    // Names cannot change in place: a renamed scheduled action is a new one.
    for (from, to, address) in [
        ("name: app\n", "name: app2\n", "aws_ecs_cluster.cluster"),
        (
            "name: web\n      cluster",
            "name: web2\n      cluster",
            "aws_ecs_service.service",
        ),
        (
            "name: cpu\n",
            "name: cpu2\n",
            "aws_appautoscaling_policy.cpu",
        ),
        (
            "name: night\n",
            "name: nightly\n",
            "aws_appautoscaling_scheduled_action.night",
        ),
    ] {
        let renamed = current.replacen(from, to, 1);
        assert_ne!(renamed, current, "{from}");
        p.write("environments/dev.yaml", &renamed);
        let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
        assert_eq!(code, 2, "{stdout}\n{stderr}");
        assert!(
            stdout.contains(&format!("# {address} must be replaced")),
            "{stdout}"
        );
        assert!(stdout.contains("# forces replacement"), "{stdout}");
    }
    let renamed = current.replacen("name: night\n", "name: nightly\n", 1);
    p.write("environments/dev.yaml", &renamed);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let actions = body(&scaling(
        &moto,
        "DescribeScheduledActions",
        r#"{"ServiceNamespace": "ecs"}"#,
    ));
    let names: Vec<&str> = actions["ScheduledActions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["ScheduledActionName"].as_str())
        .collect();
    assert_eq!(names, ["nightly"], "{actions}");
    current = renamed;

    // A new image is a new revision, and the service moves to it.
    let upgraded = current.replace("nginx:1.27", "nginx:1.28");
    p.write("environments/dev.yaml", &upgraded);
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# aws_ecs_task_definition.task must be replaced"),
        "{stdout}"
    );
    assert!(stdout.contains("# forces replacement"), "{stdout}");
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let web = service(&moto);
    assert!(
        web["taskDefinition"]
            .as_str()
            .is_some_and(|t| t.ends_with("task-definition/app:2")),
        "{web}"
    );
    let old = body(&ecs(
        &moto,
        "DescribeTaskDefinition",
        r#"{"taskDefinition": "app:1"}"#,
    ));
    assert_eq!(old["taskDefinition"]["status"], "INACTIVE", "{old}");

    // Destroy leaves nothing cairn made.
    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(service(&moto)["status"], "INACTIVE");
    let clusters = body(&ecs(&moto, "DescribeClusters", r#"{"clusters": ["app"]}"#));
    assert!(
        clusters["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "INACTIVE"),
        "{clusters}"
    );
    let active = body(&ecs(
        &moto,
        "ListTaskDefinitions",
        r#"{"status": "ACTIVE"}"#,
    ));
    assert_eq!(
        active["taskDefinitionArns"],
        serde_json::json!([]),
        "{active}"
    );
    for (action, key) in [
        ("DescribeScalableTargets", "ScalableTargets"),
        ("DescribeScalingPolicies", "ScalingPolicies"),
        ("DescribeScheduledActions", "ScheduledActions"),
    ] {
        let left = body(&scaling(&moto, action, r#"{"ServiceNamespace": "ecs"}"#));
        assert_eq!(left[key], serde_json::json!([]), "{action}: {left}");
    }
}

const SLOW: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
resources:
  cluster:
    type: aws_ecs_cluster
    properties: { name: app }
  task:
    type: aws_ecs_task_definition
    properties:
      family: slow
      requires_compatibilities: [FARGATE]
      network_mode: awsvpc
      cpu: 256
      memory: 512
      container_definitions: '[{"name": "web", "image": "nginx:1.27"}]'
  slow:
    type: aws_ecs_service
    properties:
      name: slow
      cluster: ${cluster.id}
      task_definition: ${task.family}
      desired_count: 3
      launch_type: FARGATE
    timeouts: { create: 5s }
"#;

/// moto runs 2 tasks of every service (MOTO_ECS_SERVICE_RUNNING=2), so one that wants 3 never
/// becomes stable: the create gives up after its `timeouts.create`, says what it waited for,
/// and the service stays in state to be found and destroyed.
#[test]
fn a_service_that_never_becomes_stable_times_out_clearly_and_stays_in_state() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", SLOW)]);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_ne!(code, 0, "{stdout}\n{stderr}");
    let all = format!("{stdout}\n{stderr}");
    assert!(
        all.contains(
            "ECS service slow (cluster app) did not become stable within 5s (last seen: 2 of 3 tasks running, 1 deployment)"
        ),
        "{all}"
    );
    let (code, list, stderr) = run(&p, &moto, &["state", "list", "-e", "dev"]);
    assert_eq!(code, 0, "{list}\n{stderr}");
    assert!(list.lines().any(|l| l == "aws_ecs_service.slow"), "{list}");

    // The JSON-string container definitions read back as written.
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        !stdout.contains("aws_ecs_task_definition.task must be replaced"),
        "{stdout}"
    );

    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let slow = body(&ecs(
        &moto,
        "DescribeServices",
        r#"{"cluster": "app", "services": ["slow"]}"#,
    ));
    assert_eq!(slow["services"][0]["status"], "INACTIVE", "{slow}");
}

const MANY: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
resources:
  cluster:
    type: aws_ecs_cluster
    properties: { name: many }
  task:
    type: aws_ecs_task_definition
    properties:
      family: many
      container_definitions: [{ name: web, image: "nginx:1.27", memory: 128 }]
  svc:
    type: aws_ecs_service
    count: 12
    properties:
      name: svc-${count.index}
      cluster: ${cluster.id}
      task_definition: ${task.arn}
      desired_count: 2
  target:
    type: aws_appautoscaling_target
    count: 12
    depends_on: [svc]
    properties:
      service_namespace: ecs
      resource_id: service/many/svc-${count.index}
      scalable_dimension: ecs:service:DesiredCount
      min_capacity: 2
      max_capacity: 4
  cpu:
    type: aws_appautoscaling_policy
    count: 12
    depends_on: [target]
    properties:
      name: cpu-${count.index}
      policy_type: TargetTrackingScaling
      service_namespace: ecs
      resource_id: service/many/svc-${count.index}
      scalable_dimension: ecs:service:DesiredCount
      target_tracking_scaling_policy_configuration:
        target_value: 70
        predefined_metric_specification: { predefined_metric_type: ECSServiceAverageCPUUtilization }
"#;

/// Refresh asks for ten services per DescribeServices (the API's limit), and for every
/// scalable target and policy of a namespace at once.
#[test]
fn refreshing_12_services_with_autoscaling_costs_a_handful_of_calls() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", MANY)]);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = run(
        &p,
        &moto,
        &["-v", "plan", "-e", "dev", "--detailed-exitcode"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(api_calls(&stderr, "ecs.DescribeServices"), 2, "{stderr}");
    assert_eq!(api_calls(&stderr, "ecs.DescribeClusters"), 1, "{stderr}");
    assert_eq!(
        api_calls(&stderr, "applicationautoscaling.DescribeScalableTargets"),
        1,
        "{stderr}"
    );
    assert_eq!(
        api_calls(&stderr, "applicationautoscaling.DescribeScalingPolicies"),
        1,
        "{stderr}"
    );
    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
}
