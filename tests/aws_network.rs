//! The AWS provider as a user lives it, against a local moto_server: a network and a bucket are
//! applied, re-planned without false diffs, changed in place and by replacement, damaged out of
//! band, and destroyed without leftovers; and refresh costs one call per type, not per resource.
//!
//! moto diverges from AWS where noted in comments; the adapter is written for AWS.

mod common;

use common::Project;
use common::aws::{api_calls, imports_cleanly, owned, run, updates_in_place_and_sticks};
use common::moto::{Moto, xml_values};

const NETWORK: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  zones:
    type: aws_availability_zones
  vpc:
    type: aws_vpc
    properties:
      cidr_block: 10.0.0.0/16
      enable_dns_hostnames: true
      tags: { Name: demo }
  subnet:
    type: aws_subnet
    for_each: ${slice(zones.names, 0, 2)}
    properties:
      vpc_id: ${vpc.id}
      availability_zone: ${each.value}
      cidr_block: ${cidrsubnet("10.0.0.0/16", 8, index(zones.names, each.value) + 1)}
      map_public_ip_on_launch: true
  igw:
    type: aws_internet_gateway
    properties: { vpc_id: "${vpc.id}" }
  lb_sg:
    type: aws_security_group
    properties: { name: demo-lb, description: Load balancer, vpc_id: "${vpc.id}" }
  app_sg:
    type: aws_security_group
    properties: { name: demo-app, vpc_id: "${vpc.id}" }
  # No description on a rule that references a group: moto 5.2 keeps rule descriptions only
  # for CIDR rules and would report it missing (AWS returns it).
  app_from_lb:
    type: aws_vpc_security_group_ingress_rule
    properties:
      security_group_id: ${app_sg.id}
      referenced_security_group_id: ${lb_sg.id}
      ip_protocol: tcp
      from_port: 8080
      to_port: 8080
  lb_https:
    type: aws_vpc_security_group_ingress_rule
    properties:
      security_group_id: ${lb_sg.id}
      cidr_ipv4: 0.0.0.0/0
      ip_protocol: tcp
      from_port: 443
      to_port: 443
      description: HTTPS from anywhere
  app_out:
    type: aws_vpc_security_group_egress_rule
    properties:
      security_group_id: ${app_sg.id}
      cidr_ipv4: 0.0.0.0/0
      ip_protocol: "-1"
  logs:
    type: aws_s3_bucket
    properties:
      bucket: cairn-demo-logs
      force_destroy: true
      tags: { Name: logs }
  logs_versioning:
    type: aws_s3_bucket_versioning
    properties:
      bucket: ${logs.id}
      versioning_configuration: { status: Enabled }
  logs_public:
    type: aws_s3_bucket_public_access_block
    properties:
      bucket: ${logs.id}
      block_public_acls: true
      block_public_policy: true
      ignore_public_acls: true
      restrict_public_buckets: true
"#;

#[test]
fn a_network_and_a_bucket_apply_replan_clean_change_heal_and_destroy() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", NETWORK)]);

    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Apply complete! Resources: 12 added, 0 changed, 0 destroyed."),
        "{stdout}"
    );
    assert_eq!(owned(&moto, "DescribeVpcs", "vpcId").len(), 1);
    assert_eq!(owned(&moto, "DescribeSubnets", "subnetId").len(), 2);
    assert!(moto.s3_list_buckets().contains("cairn-demo-logs"));

    // A second plan finds nothing to do: defaults and computed values read back as declared.
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a re-plan must be empty:\n{stdout}\n{stderr}");
    assert!(stdout.contains("No changes."), "{stdout}");
    // Every type imports by its id into a teammate's empty state, and their plan is empty too.
    imports_cleanly(&p, &moto);

    // A tag change is an in-place update.
    let renamed = NETWORK.replace("Name: demo }", "Name: demo-renamed }");
    p.write("environments/dev.yaml", &renamed);
    updates_in_place_and_sticks(&p, &moto, "aws_vpc.vpc");

    // A new CIDR cannot be applied to a subnet in place.
    let moved = renamed.replace("each.value) + 1)", "each.value) + 11)");
    p.write("environments/dev.yaml", &moved);
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# aws_subnet.subnet[\"us-east-1a\"] must be replaced"),
        "{stdout}"
    );
    assert!(stdout.contains("# forces replacement"), "{stdout}");
    p.write("environments/dev.yaml", &renamed);

    // A subnet deleted behind cairn's back is planned for creation again.
    let (_, show, _) = run(
        &p,
        &moto,
        &[
            "state",
            "show",
            "aws_subnet.subnet[\"us-east-1a\"]",
            "-e",
            "dev",
        ],
    );
    let subnet_id = show
        .split('"')
        .find(|s| s.starts_with("subnet-"))
        .unwrap_or_else(|| panic!("no subnet id in:\n{show}"))
        .to_string();
    let deleted = moto.ec2(&[("Action", "DeleteSubnet"), ("SubnetId", &subnet_id)]);
    assert!(
        deleted.starts_with("HTTP/1.1 200") && deleted.contains("DeleteSubnetResponse"),
        "{deleted}"
    );
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# aws_subnet.subnet[\"us-east-1a\"] will be created"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{stdout}"
    );

    // Destroy leaves nothing cairn made.
    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(owned(&moto, "DescribeVpcs", "vpcId"), Vec::<String>::new());
    assert_eq!(
        owned(&moto, "DescribeSubnets", "subnetId"),
        Vec::<String>::new()
    );
    assert_eq!(
        owned(&moto, "DescribeInternetGateways", "internetGatewayId"),
        Vec::<String>::new()
    );
    assert_eq!(
        owned(&moto, "DescribeSecurityGroups", "groupId"),
        Vec::<String>::new()
    );
    assert!(!moto.s3_list_buckets().contains("cairn-demo-logs"));
}

fn subnets(n: usize) -> String {
    format!(
        r#"environment: dev
providers:
  aws: {{ region: us-east-1 }}
resources:
  vpc:
    type: aws_vpc
    properties: {{ cidr_block: 10.0.0.0/16 }}
  subnet:
    type: aws_subnet
    count: {n}
    properties:
      vpc_id: ${{vpc.id}}
      cidr_block: ${{cidrsubnet("10.0.0.0/16", 8, count.index)}}
"#
    )
}

#[test]
fn refreshing_3_or_30_subnets_costs_the_same_describe_calls() {
    let moto = Moto::start();
    let mut calls = Vec::new();
    for n in [3, 30] {
        let p = Project::with(&[("environments/dev.yaml", &subnets(n))]);
        let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        let (code, stdout, stderr) = run(
            &p,
            &moto,
            &["-v", "plan", "-e", "dev", "--detailed-exitcode"],
        );
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        calls.push(api_calls(&stderr, "ec2.DescribeSubnets"));
    }
    // moto answers in one page whatever MaxResults says; on AWS, 1000 per page.
    assert_eq!(calls, [1, 1], "DescribeSubnets calls for 3 and 30 subnets");
}

const ROUTING: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  vpc:
    type: aws_vpc
    properties: { cidr_block: 10.1.0.0/16 }
  public:
    type: aws_subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.1.1.0/24 }
  igw:
    type: aws_internet_gateway
    properties: { vpc_id: "${vpc.id}" }
  rt:
    type: aws_route_table
    properties: { vpc_id: "${vpc.id}", tags: { Name: public } }
  default_route:
    type: aws_route
    properties:
      route_table_id: ${rt.id}
      destination_cidr_block: 0.0.0.0/0
      gateway_id: ${igw.id}
  public_rt:
    type: aws_route_table_association
    properties: { subnet_id: "${public.id}", route_table_id: "${rt.id}" }
"#;

#[test]
fn a_public_route_table_applies_replans_clean_and_destroys() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", ROUTING)]);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("Resources: 6 added"), "{stdout}");
    let tables = owned(&moto, "DescribeRouteTables", "routeTableId");
    assert_eq!(tables.len(), 1, "{tables:?}");
    let described = moto.ec2(&[
        ("Action", "DescribeRouteTables"),
        ("RouteTableId.1", &tables[0]),
    ]);
    assert!(described.contains("0.0.0.0/0"), "{described}");

    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a re-plan must be empty:\n{stdout}\n{stderr}");

    imports_cleanly(&p, &moto);

    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(
        owned(&moto, "DescribeRouteTables", "routeTableId"),
        Vec::<String>::new()
    );
    assert_eq!(
        owned(&moto, "DescribeNetworkAcls", "networkAclId"),
        Vec::<String>::new()
    );
    assert_eq!(owned(&moto, "DescribeVpcs", "vpcId"), Vec::<String>::new());
}

#[test]
fn missing_credentials_name_every_place_the_chain_looked() {
    let env = "environment: dev\nproviders:\n  aws: { region: us-east-1 }\nresources:\n  me:\n    type: aws_caller_identity\n";
    let p = Project::with(&[("environments/dev.yaml", env)]);
    let home = p.file("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = p.cairn(&["plan", "-e", "dev"]);
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run cairn");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("no AWS credentials found"), "{stderr}");
    for place in ["AWS_ACCESS_KEY_ID", "~/.aws/credentials", "SSO", "IMDS"] {
        assert!(stderr.contains(place), "`{place}` missing from:\n{stderr}");
    }
}

const NAT: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
resources:
  vpc:
    type: aws_vpc
    properties: { cidr_block: 10.1.0.0/16 }
  public:
    type: aws_subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.1.1.0/24, map_public_ip_on_launch: true }
  igw:
    type: aws_internet_gateway
    properties: { vpc_id: "${vpc.id}" }
  nat_ip:
    type: aws_eip
    properties: { tags: { Name: nat } }
  nat:
    type: aws_nat_gateway
    properties:
      allocation_id: ${nat_ip.id}
      subnet_id: ${public.id}
      tags: { Name: nat }
  public_acl:
    type: aws_network_acl
    properties: { vpc_id: "${vpc.id}", subnet_ids: ["${public.id}"], tags: { Name: public } }
  https_in:
    type: aws_network_acl_rule
    properties:
      network_acl_id: ${public_acl.id}
      rule_number: 100
      protocol: tcp
      rule_action: allow
      cidr_block: 0.0.0.0/0
      from_port: 443
      to_port: 443
  all_out:
    type: aws_network_acl_rule
    properties:
      network_acl_id: ${public_acl.id}
      rule_number: 100
      egress: true
      protocol: "-1"
      rule_action: allow
      cidr_block: 0.0.0.0/0
"#;

#[test]
fn a_nat_gateway_behind_an_elastic_ip_applies_replans_clean_retags_and_destroys() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", NAT)]);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("Resources: 8 added"), "{stdout}");
    let acls = owned(&moto, "DescribeNetworkAcls", "networkAclId");
    assert_eq!(acls.len(), 1, "{acls:?}");
    let acl = moto.ec2(&[
        ("Action", "DescribeNetworkAcls"),
        ("NetworkAclId.1", &acls[0]),
    ]);
    assert!(acl.contains("<ruleNumber>100</ruleNumber>"), "{acl}");
    assert_eq!(xml_values(&acl, "subnetId").len(), 1, "{acl}");
    let addresses = owned(&moto, "DescribeAddresses", "allocationId");
    assert_eq!(addresses.len(), 1, "{addresses:?}");
    let gateways = moto.ec2(&[("Action", "DescribeNatGateways")]);
    assert!(gateways.contains(&addresses[0]), "{gateways}");
    assert!(gateways.contains("<state>available</state>"), "{gateways}");

    // Defaults (domain, connectivity_type) and computed ips read back as planned.
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a re-plan must be empty:\n{stdout}\n{stderr}");

    imports_cleanly(&p, &moto);

    // Retagging a NAT gateway must not replace it (that would cost minutes and a new address).
    let retagged = NAT.replace("      tags: { Name: nat }", "      tags: { Name: egress }");
    p.write("environments/dev.yaml", &retagged);
    updates_in_place_and_sticks(&p, &moto, "aws_nat_gateway.nat");

    // Destroy leaves no address and no live NAT gateway (moto, like AWS, may keep listing a
    // deleted one for a while: that one counts as gone).
    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(
        owned(&moto, "DescribeAddresses", "allocationId"),
        Vec::<String>::new()
    );
    let gateways = moto.ec2(&[("Action", "DescribeNatGateways")]);
    let states = xml_values(&gateways, "state");
    assert!(
        states.iter().all(|s| s == "deleted"),
        "NAT gateways left: {gateways}"
    );
    assert_eq!(
        owned(&moto, "DescribeNetworkAcls", "networkAclId"),
        Vec::<String>::new()
    );
    assert_eq!(owned(&moto, "DescribeVpcs", "vpcId"), Vec::<String>::new());
}

const TWO_REGIONS: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
  aws.dr: { region: us-west-2 }
resources:
  here:
    type: aws_region
  there:
    type: aws_region
    provider: aws.dr
  primary:
    type: aws_vpc
    properties: { cidr_block: 10.0.0.0/16 }
  standby:
    type: aws_vpc
    provider: aws.dr
    properties: { cidr_block: 10.1.0.0/16 }
outputs:
  regions: ${[here.name, there.name]}
  standby_arn: ${standby.arn}
"#;

/// An aliased provider block (`aws.dr`) is a second region: its resources are created, read and
/// destroyed there, and nothing of it leaks into the primary region.
#[test]
fn an_aliased_provider_puts_the_standby_network_in_a_second_region() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", TWO_REGIONS)]);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("\"us-east-1\""), "{stdout}");
    assert!(stdout.contains("\"us-west-2\""), "{stdout}");
    assert!(stdout.contains("arn:aws:ec2:us-west-2:"), "{stdout}");
    // moto, like AWS, keeps each region apart; the raw helper asks us-east-1.
    let primary = owned(&moto, "DescribeVpcs", "vpcId");
    assert_eq!(
        primary,
        vec![common::aws::state_id(&p, &moto, "aws_vpc.primary")]
    );

    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("2 destroyed"), "{stdout}");
}

const PRIVATE_LINKS: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  vpc:
    type: aws_vpc
    properties: { cidr_block: 10.3.0.0/16 }
  private_a:
    type: aws_route_table
    properties: { vpc_id: "${vpc.id}", tags: { Name: private-a } }
  private_b:
    type: aws_route_table
    properties: { vpc_id: "${vpc.id}", tags: { Name: private-b } }
  flow_logs:
    type: aws_s3_bucket
    properties: { bucket: cairn-demo-flow-logs, force_destroy: true }
  s3:
    type: aws_vpc_endpoint
    properties:
      vpc_id: ${vpc.id}
      service_name: com.amazonaws.us-east-1.s3
      route_table_ids: ["${private_a.id}"]
      tags: { Name: s3 }
  endpoints:
    type: aws_subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.3.1.0/24 }
  endpoints_sg:
    type: aws_security_group
    properties: { name: endpoints, vpc_id: "${vpc.id}" }
  ssm:
    type: aws_vpc_endpoint
    properties:
      vpc_id: ${vpc.id}
      service_name: com.amazonaws.us-east-1.ssm
      vpc_endpoint_type: Interface
      subnet_ids: ["${endpoints.id}"]
      security_group_ids: ["${endpoints_sg.id}"]
      private_dns_enabled: true
  vpc_traffic:
    type: aws_flow_log
    properties:
      vpc_id: ${vpc.id}
      traffic_type: ALL
      log_destination_type: s3
      log_destination: arn:aws:s3:::${flow_logs.id}
      tags: { Name: vpc-traffic }
"#;

#[test]
fn gateway_and_interface_endpoints_and_a_flow_log_apply_replan_clean_change_replace_and_destroy() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", PRIVATE_LINKS)]);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("Resources: 9 added"), "{stdout}");
    let endpoints = moto.ec2(&[("Action", "DescribeVpcEndpoints")]);
    assert_eq!(
        xml_values(&endpoints, "vpcEndpointId").len(),
        2,
        "{endpoints}"
    );
    assert_eq!(
        xml_values(&endpoints, "state"),
        ["available", "available"],
        "{endpoints}"
    );
    // The interface endpoint has its network interface in the subnet.
    assert!(
        endpoints.contains("<networkInterfaceIdSet><item>eni-"),
        "{endpoints}"
    );
    let tables = owned(&moto, "DescribeRouteTables", "routeTableId");
    assert_eq!(tables.len(), 2, "{tables:?}");
    let logs = moto.ec2(&[("Action", "DescribeFlowLogs")]);
    assert_eq!(xml_values(&logs, "flowLogId").len(), 1, "{logs}");
    assert!(logs.contains("arn:aws:s3:::cairn-demo-flow-logs"), "{logs}");

    // The gateway endpoint knows the service's prefix list (for security group rules).
    let (code, show, stderr) = run(
        &p,
        &moto,
        &["state", "show", "aws_vpc_endpoint.s3", "-e", "dev"],
    );
    assert_eq!(code, 0, "{show}\n{stderr}");
    assert!(
        show.lines()
            .any(|l| l.contains("prefix_list_id") && l.contains("pl-")),
        "{show}"
    );

    // The default endpoint type and aggregation interval, the computed prefix list and state
    // read back as planned.
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "a re-plan must be empty:\n{stdout}\n{stderr}");
    imports_cleanly(&p, &moto);

    // Another route table joins the gateway endpoint in place.
    let both = PRIVATE_LINKS.replace(
        r#"route_table_ids: ["${private_a.id}"]"#,
        r#"route_table_ids: ["${private_a.id}", "${private_b.id}"]"#,
    );
    p.write("environments/dev.yaml", &both);
    updates_in_place_and_sticks(&p, &moto, "aws_vpc_endpoint.s3");
    let endpoints = moto.ec2(&[("Action", "DescribeVpcEndpoints")]);
    for table in &tables {
        assert!(
            endpoints.contains(table.as_str()),
            "{table} missing: {endpoints}"
        );
    }

    // AWS cannot change what a flow log records: a new traffic type is a new flow log.
    let rejects = both.replace("traffic_type: ALL", "traffic_type: REJECT");
    p.write("environments/dev.yaml", &rejects);
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# aws_flow_log.vpc_traffic must be replaced"),
        "{stdout}"
    );
    assert!(stdout.contains("# forces replacement"), "{stdout}");
    assert!(
        stdout.contains("Plan: 1 to add, 0 to change, 1 to destroy."),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let logs = moto.ec2(&[("Action", "DescribeFlowLogs")]);
    assert_eq!(xml_values(&logs, "flowLogId").len(), 1, "{logs}");
    assert!(logs.contains("<trafficType>REJECT</trafficType>"), "{logs}");
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "the replacement must stick:\n{stdout}");

    // Destroy leaves no flow log and no live endpoint (a deleted one may stay listed a while).
    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let logs = moto.ec2(&[("Action", "DescribeFlowLogs")]);
    assert_eq!(
        xml_values(&logs, "flowLogId"),
        Vec::<String>::new(),
        "{logs}"
    );
    let endpoints = moto.ec2(&[("Action", "DescribeVpcEndpoints")]);
    assert!(
        xml_values(&endpoints, "state")
            .iter()
            .all(|s| s == "deleted"),
        "endpoints left: {endpoints}"
    );
    assert_eq!(owned(&moto, "DescribeVpcs", "vpcId"), Vec::<String>::new());
    assert!(!moto.s3_list_buckets().contains("cairn-demo-flow-logs"));
}

const EDITS: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
resources:
  vpc:
    type: aws_vpc
    properties: { cidr_block: 10.3.0.0/16 }
  subnet:
    type: aws_subnet
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.3.1.0/24 }
  igw:
    type: aws_internet_gateway
    properties: { vpc_id: "${vpc.id}" }
  rt_a:
    type: aws_route_table
    properties: { vpc_id: "${vpc.id}" }
  rt_b:
    type: aws_route_table
    properties: { vpc_id: "${vpc.id}" }
  out:
    type: aws_route
    properties: { route_table_id: "${rt_a.id}", destination_cidr_block: 0.0.0.0/0, gateway_id: "${igw.id}" }
  assoc:
    type: aws_route_table_association
    properties: { subnet_id: "${subnet.id}", route_table_id: "${rt_a.id}" }
  sg:
    type: aws_security_group
    properties: { name: edits-app, description: App, vpc_id: "${vpc.id}" }
  https:
    type: aws_vpc_security_group_ingress_rule
    properties: { security_group_id: "${sg.id}", cidr_ipv4: 0.0.0.0/0, ip_protocol: tcp, from_port: 443, to_port: 443 }
  acl:
    type: aws_network_acl
    properties: { vpc_id: "${vpc.id}", subnet_ids: ["${subnet.id}"] }
  acl_in:
    type: aws_network_acl_rule
    properties: { network_acl_id: "${acl.id}", rule_number: 100, egress: false, protocol: tcp, rule_action: allow, cidr_block: 0.0.0.0/0, from_port: 443, to_port: 443 }
"#;

/// What the schemas say, as a user sees it: a rule's ports change in place; a route's
/// destination, a subnet's route table, a group's description and an ACL rule's number cannot,
/// so each is replaced, and the result converges.
#[test]
fn edits_update_in_place_or_replace_exactly_as_the_schemas_say() {
    let moto = Moto::start();
    let p = Project::with(&[("environments/dev.yaml", EDITS)]);
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}");

    let ported = EDITS.replace(
        "from_port: 443, to_port: 443 }\n  acl:",
        "from_port: 8443, to_port: 8443 }\n  acl:",
    );
    p.write("environments/dev.yaml", &ported);
    updates_in_place_and_sticks(&p, &moto, "aws_vpc_security_group_ingress_rule.https");

    let replaced = ported
        .replace(
            "destination_cidr_block: 0.0.0.0/0",
            "destination_cidr_block: 10.9.0.0/16",
        )
        .replace(
            "subnet_id: \"${subnet.id}\", route_table_id: \"${rt_a.id}\"",
            "subnet_id: \"${subnet.id}\", route_table_id: \"${rt_b.id}\"",
        )
        .replace("description: App,", "description: Application,")
        .replace("rule_number: 100", "rule_number: 110");
    p.write("environments/dev.yaml", &replaced);
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    for address in [
        "aws_route.out",
        "aws_route_table_association.assoc",
        "aws_security_group.sg",
        "aws_network_acl_rule.acl_in",
        // Its group is new, and a rule cannot move between groups.
        "aws_vpc_security_group_ingress_rule.https",
    ] {
        assert!(
            stdout.contains(&format!("# {address} must be replaced")),
            "{address}:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("Plan: 5 to add, 0 to change, 5 to destroy."),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "the replacements converge:\n{stdout}");
    let groups = moto.ec2(&[
        ("Action", "DescribeSecurityGroups"),
        ("Filter.1.Name", "group-name"),
        ("Filter.1.Value.1", "edits-app"),
    ]);
    assert!(
        groups.contains("<groupDescription>Application</groupDescription>"),
        "{groups}"
    );
    assert_eq!(
        xml_values(&groups, "groupId").len(),
        1,
        "the old group is gone: {groups}"
    );

    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(owned(&moto, "DescribeVpcs", "vpcId"), Vec::<String>::new());
}
