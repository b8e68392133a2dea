//! The edge of an application as a user lives it, against moto: an HTTPS load balancer with an
//! ACM certificate, target groups, listeners and a routing rule; a Route53 zone with the
//! certificate's validation record, an alias to the load balancer and a failover pair. Each type
//! is applied, re-planned clean, imported, changed in place and by replacement, and destroyed
//! without leftovers.
//!
//! moto diverges from AWS where noted in comments; the adapter is written for AWS.

mod common;

use common::Project;
use common::aws::{api_calls, imports_cleanly, run, state_id, updates_in_place_and_sticks};
use common::moto::{Moto, xml_values};

const FIXTURE: &str = r#"environment: dev
providers:
  aws: { region: us-east-1 }
tags: { env: dev }
resources:
  zones:
    type: aws_availability_zones
  vpc:
    type: aws_vpc
    properties: { cidr_block: 10.0.0.0/16 }
  subnet:
    type: aws_subnet
    for_each: ${slice(zones.names, 0, 2)}
    properties:
      vpc_id: ${vpc.id}
      availability_zone: ${each.value}
      cidr_block: ${cidrsubnet("10.0.0.0/16", 8, index(zones.names, each.value) + 1)}
  lb_sg:
    type: aws_security_group
    properties: { name: web-lb, description: Load balancer, vpc_id: "${vpc.id}" }
  web:
    type: aws_lb
    properties:
      name: web
      subnets: ["${subnet[\"us-east-1a\"].id}", "${subnet[\"us-east-1b\"].id}"]
      security_groups: ["${lb_sg.id}"]
      idle_timeout: 60
      tags: { Name: web }
"#;

const EDGE: &str = r#"  cert:
    type: aws_acm_certificate
    properties:
      domain_name: example.test
      subject_alternative_names: [www.example.test]
      tags: { Name: web }
  blue:
    type: aws_lb_target_group
    properties:
      name: blue
      port: 8080
      protocol: HTTP
      vpc_id: ${vpc.id}
      target_type: ip
      deregistration_delay: 30
      health_check: { path: /health, matcher: "200", interval: 15, healthy_threshold: 3 }
  green:
    type: aws_lb_target_group
    properties:
      name: green
      port: 8080
      protocol: HTTP
      vpc_id: ${vpc.id}
      target_type: ip
      health_check: { path: /health }
  http:
    type: aws_lb_listener
    properties:
      load_balancer_arn: ${web.arn}
      port: 80
      protocol: HTTP
      default_action:
        - type: redirect
          redirect: { protocol: HTTPS, port: "443", status_code: HTTP_301 }
  https:
    type: aws_lb_listener
    properties:
      load_balancer_arn: ${web.arn}
      port: 443
      protocol: HTTPS
      ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06
      certificate_arn: ${cert.arn}
      default_action:
        - { type: forward, target_group_arn: "${blue.arn}" }
  api:
    type: aws_lb_listener_rule
    properties:
      listener_arn: ${https.arn}
      priority: 10
      action:
        - { type: forward, target_group_arn: "${green.arn}" }
      condition:
        - path_pattern: { values: ["/api/*"] }
        - host_header: { values: [api.example.test] }
"#;

/// An ELBv2 query call against moto.
fn elb(moto: &Moto, action: &str) -> String {
    moto.query("elasticloadbalancing", "2015-12-01", &[("Action", action)])
}

fn edit(p: &Project, spec: &str) {
    p.write("environments/dev.yaml", spec);
}

fn plan_replaces(p: &Project, moto: &Moto, address: &str) {
    let (code, stdout, stderr) = run(p, moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("# {address} must be replaced")),
        "{stdout}"
    );
    assert!(stdout.contains("# forces replacement"), "{stdout}");
}

#[test]
fn an_https_load_balancer_with_a_certificate_applies_replans_clean_changes_and_destroys() {
    let moto = Moto::start();
    let spec = format!("{FIXTURE}{EDGE}");
    let p = Project::with(&[("environments/dev.yaml", &spec)]);

    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Apply complete! Resources: 11 added, 0 changed, 0 destroyed."),
        "{stdout}"
    );
    let balancers = elb(&moto, "DescribeLoadBalancers");
    assert!(balancers.contains("<Code>active</Code>"), "{balancers}");
    let groups = elb(&moto, "DescribeTargetGroups");
    assert!(
        groups.contains("<HealthCheckPath>/health</HealthCheckPath>"),
        "{groups}"
    );

    // Defaults, computed values and sets read back as declared; each type's refresh is one
    // Describe and one DescribeTags for all its resources.
    let (code, stdout, stderr) = run(
        &p,
        &moto,
        &["-v", "plan", "-e", "dev", "--detailed-exitcode"],
    );
    assert_eq!(code, 0, "a re-plan must be empty:\n{stdout}\n{stderr}");
    for (operation, count) in [
        ("DescribeLoadBalancers", 1),
        ("DescribeTargetGroups", 1),
        ("DescribeListeners", 1),
        ("DescribeRules", 1),
        ("DescribeTags", 4),
    ] {
        assert_eq!(
            api_calls(&stderr, &format!("elasticloadbalancingv2.{operation}")),
            count,
            "{operation}: {stderr}"
        );
    }
    imports_cleanly(&p, &moto);

    // In place, one type at a time.
    let mut now = spec.clone();
    for (from, to, address) in [
        ("idle_timeout: 60", "idle_timeout: 120", "aws_lb.web"),
        ("interval: 15", "interval: 20", "aws_lb_target_group.blue"),
        (
            "status_code: HTTP_301",
            "status_code: HTTP_302",
            "aws_lb_listener.http",
        ),
        ("\"/api/*\"", "\"/v2/*\"", "aws_lb_listener_rule.api"),
        ("priority: 10", "priority: 20", "aws_lb_listener_rule.api"),
        (
            "deregistration_delay: 30",
            "deregistration_delay: 60",
            "aws_lb_target_group.blue",
        ),
        (
            "subject_alternative_names: [www.example.test]\n      tags: { Name: web }",
            "subject_alternative_names: [www.example.test]\n      tags: { Name: web-cert }",
            "aws_acm_certificate.cert",
        ),
    ] {
        assert!(now.contains(from), "{from}");
        now = now.replacen(from, to, 1);
        edit(&p, &now);
        updates_in_place_and_sticks(&p, &moto, address);
    }

    // Blue/green: switching the target group the HTTPS listener forwards to changes only the
    // listener, in place.
    let tg_blue = state_id(&p, &moto, "aws_lb_target_group.blue");
    let tg_green = state_id(&p, &moto, "aws_lb_target_group.green");
    now = now.replace(
        "{ type: forward, target_group_arn: \"${blue.arn}\" }",
        "{ type: forward, target_group_arn: \"${green.arn}\" }",
    );
    edit(&p, &now);
    updates_in_place_and_sticks(&p, &moto, "aws_lb_listener.https");
    let listeners = elb_listeners(&moto, &state_id(&p, &moto, "aws_lb.web"));
    assert!(listeners.contains(&tg_green), "{listeners}");
    assert!(!listeners.contains(&tg_blue), "{listeners}");

    // A target group deleted behind cairn's back is planned for creation again: AWS fails a
    // DescribeTargetGroups naming a missing ARN as a whole (moto too), so the read falls back to
    // one ARN at a time and still finds the other group.
    let deleted = moto.query(
        "elasticloadbalancing",
        "2015-12-01",
        &[
            ("Action", "DeleteTargetGroup"),
            (
                "TargetGroupArn",
                &tg_blue.replace(':', "%3A").replace('/', "%2F"),
            ),
        ],
    );
    assert!(deleted.starts_with("HTTP/1.1 200"), "{deleted}");
    let (code, stdout, stderr) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# aws_lb_target_group.blue will be created"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");

    // What AWS cannot change in place is replaced.
    for (from, to, address) in [
        ("name: web\n", "name: web2\n", "aws_lb.web"),
        (
            "name: blue\n      port: 8080",
            "name: blue\n      port: 9090",
            "aws_lb_target_group.blue",
        ),
        (
            "domain_name: example.test",
            "domain_name: example2.test",
            "aws_acm_certificate.cert",
        ),
    ] {
        assert!(now.contains(from), "{from}");
        edit(&p, &now.replacen(from, to, 1));
        plan_replaces(&p, &moto, address);
    }
    // A rule moved to the other listener is replaced, and that applies.
    let moved = now.replace("listener_arn: ${https.arn}", "listener_arn: ${http.arn}");
    edit(&p, &moved);
    plan_replaces(&p, &moto, "aws_lb_listener_rule.api");
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 added, 0 changed, 1 destroyed"),
        "{stdout}"
    );
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}");

    // Destroy leaves nothing behind.
    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(
        xml_values(&elb(&moto, "DescribeLoadBalancers"), "LoadBalancerArn"),
        Vec::<String>::new()
    );
    assert_eq!(
        xml_values(&elb(&moto, "DescribeTargetGroups"), "TargetGroupArn"),
        Vec::<String>::new()
    );
    let certificates = moto.json("acm", "CertificateManager.ListCertificates", "{}");
    assert!(!certificates.contains("example.test"), "{certificates}");
}

/// The listeners of a load balancer as moto reports them.
fn elb_listeners(moto: &Moto, lb_arn: &str) -> String {
    let encoded = lb_arn.replace(':', "%3A").replace('/', "%2F");
    moto.query(
        "elasticloadbalancing",
        "2015-12-01",
        &[
            ("Action", "DescribeListeners"),
            ("LoadBalancerArn", &encoded),
        ],
    )
}

const DNS: &str = r#"  cert:
    type: aws_acm_certificate
    properties: { domain_name: example.test }
  zone:
    type: aws_route53_zone
    properties: { name: example.test, comment: The demo zone, tags: { Name: demo } }
  validation:
    type: aws_route53_record
    properties:
      zone_id: ${zone.zone_id}
      name: ${cert.domain_validation_options[0].resource_record_name}
      type: ${cert.domain_validation_options[0].resource_record_type}
      records: ["${cert.domain_validation_options[0].resource_record_value}"]
      ttl: 60
  validated:
    type: aws_acm_certificate_validation
    properties:
      certificate_arn: ${cert.arn}
      validation_record_fqdns: ["${validation.fqdn}"]
  apex:
    type: aws_route53_record
    properties:
      zone_id: ${zone.zone_id}
      name: example.test
      type: A
      alias: { name: "${web.dns_name}", zone_id: "${web.zone_id}", evaluate_target_health: true }
  primary:
    type: aws_route53_record
    properties:
      zone_id: ${zone.zone_id}
      name: api
      type: A
      ttl: 60
      records: [10.0.1.10]
      set_identifier: primary
      failover_routing_policy: { type: PRIMARY }
  secondary:
    type: aws_route53_record
    properties:
      zone_id: ${zone.zone_id}
      name: api.example.test
      type: A
      ttl: 60
      records: [10.0.2.10]
      set_identifier: secondary
      failover_routing_policy: { type: SECONDARY }
"#;

#[test]
fn a_zone_validates_the_certificate_aliases_the_load_balancer_and_fails_over() {
    let moto = Moto::start();
    let spec = format!("{FIXTURE}{DNS}");
    let p = Project::with(&[("environments/dev.yaml", &spec)]);

    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Apply complete! Resources: 12 added, 0 changed, 0 destroyed."),
        "{stdout}"
    );
    // The validation waited for the certificate its record validates.
    let cert = state_id(&p, &moto, "aws_acm_certificate.cert");
    let described = moto.json(
        "acm",
        "CertificateManager.DescribeCertificate",
        &format!("{{\"CertificateArn\": \"{cert}\"}}"),
    );
    assert!(described.contains("\"ISSUED\""), "{described}");
    let zone = state_id(&p, &moto, "aws_route53_zone.zone");
    let records = moto.rest_xml(
        "GET",
        &format!("/2013-04-01/hostedzone/{zone}/rrset"),
        "route53",
        "",
    );
    assert!(records.contains("acm-validations.aws"), "{zone}: {records}");
    assert!(
        records.contains("<Failover>SECONDARY</Failover>"),
        "{records}"
    );
    assert!(records.contains("elb.amazonaws.com"), "{records}");

    // Clean re-plan; the four records of the zone cost one listing.
    let (code, stdout, stderr) = run(
        &p,
        &moto,
        &["-v", "plan", "-e", "dev", "--detailed-exitcode"],
    );
    assert_eq!(code, 0, "a re-plan must be empty:\n{stdout}\n{stderr}");
    assert_eq!(
        api_calls(&stderr, "route53.ListResourceRecordSets"),
        1,
        "{stderr}"
    );
    imports_cleanly(&p, &moto);

    let mut now = spec.clone();
    for (from, to, address) in [
        (
            "comment: The demo zone",
            "comment: The zone",
            "aws_route53_zone.zone",
        ),
        (
            "records: [10.0.1.10]",
            "records: [10.0.1.11]",
            "aws_route53_record.primary",
        ),
        (
            "evaluate_target_health: true",
            "evaluate_target_health: false",
            "aws_route53_record.apex",
        ),
    ] {
        assert!(now.contains(from), "{from}");
        now = now.replacen(from, to, 1);
        edit(&p, &now);
        updates_in_place_and_sticks(&p, &moto, address);
    }

    edit(
        &p,
        &now.replace(
            "name: example.test, comment",
            "name: example2.test, comment",
        ),
    );
    plan_replaces(&p, &moto, "aws_route53_zone.zone");
    // A new name is a new record set: the old one is deleted, the new one created.
    now = now
        .replace("name: api.example.test", "name: app.example.test")
        .replace("name: api\n", "name: app\n");
    edit(&p, &now);
    plan_replaces(&p, &moto, "aws_route53_record.secondary");
    let (code, stdout, stderr) = run(&p, &moto, &["apply", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("2 added, 0 changed, 2 destroyed"),
        "{stdout}"
    );
    let records = moto.rest_xml(
        "GET",
        &format!("/2013-04-01/hostedzone/{zone}/rrset"),
        "route53",
        "",
    );
    assert!(!records.contains("api.example.test"), "{records}");
    let (code, stdout, _) = run(&p, &moto, &["plan", "-e", "dev", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}");

    // With force_destroy (cairn's alone: an in-place edit without an AWS call), destroy also
    // deletes a record cairn does not manage.
    now = now.replace(
        "comment: The zone,",
        "comment: The zone, force_destroy: true,",
    );
    edit(&p, &now);
    updates_in_place_and_sticks(&p, &moto, "aws_route53_zone.zone");
    let stray = moto.rest_xml(
        "POST",
        &format!("/2013-04-01/hostedzone/{zone}/rrset/"),
        "route53",
        r#"<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>stray.example.test</Name><Type>TXT</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>"hello"</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"#,
    );
    assert!(stray.starts_with("HTTP/1.1 200"), "{stray}");

    let (code, stdout, stderr) = run(&p, &moto, &["destroy", "-e", "dev", "--auto-approve"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let zones = moto.rest_xml("GET", "/2013-04-01/hostedzone", "route53", "");
    assert!(!zones.contains("example.test"), "{zones}");
}
