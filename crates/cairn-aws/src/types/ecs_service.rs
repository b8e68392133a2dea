//! `aws_ecs_service`: a Fargate service keeping `desired_count` tasks of a task definition
//! running, optionally behind a load balancer target group. Its id is the service's ARN; it is
//! imported as `CLUSTER_NAME/SERVICE_NAME` (Terraform's import id), and the ARN works too.
//!
//! Creates and updates wait until the service is stable as AWS's `services-stable` waiter
//! defines it (one deployment, as many tasks running as desired) unless `wait_for_steady_state`
//! is false; delete scales to 0, deletes and waits until the service is `INACTIVE`. Refresh is
//! one DescribeServices per cluster and 10 services (the API's limit), tags included.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, DeploymentConfiguration, LaunchType, LoadBalancer,
    NetworkConfiguration, PropagateTags, ServiceField,
};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::ecs_cluster::{cluster_name, ecs_tags, owned_by, sync_tags, tags_of};
use super::secretsmanager_secret::request_token;
use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, flag, id_schema, number, required, string_list, tags_schema, text};
use crate::config::Clients;
use crate::errors::{invalid, sdk_error};
use crate::wait::{Check, Wait};

pub struct Service;

const TYPE: &str = "aws_ecs_service";
/// Services per DescribeServices call.
const CHUNK: usize = 10;
/// Terraform waits 20 minutes for a service to become stable or inactive.
const WAIT_LIMIT: Duration = Duration::from_secs(20 * 60);

/// Where a service is: its cluster's name and its own name.
fn locate(item: &ReadItem) -> Option<(String, String)> {
    let prior_cluster = text(&item.prior, "cluster").map(cluster_name);
    match &item.id {
        Some(id) => {
            let path = id.split_once(":service/").map_or(id.as_str(), |(_, p)| p);
            match path.split_once('/') {
                Some((cluster, name)) => Some((cluster.to_string(), name.to_string())),
                // The old short ARN format has no cluster in it.
                None => Some((prior_cluster?.to_string(), path.to_string())),
            }
        }
        None if item.token.is_some() => Some((
            prior_cluster?.to_string(),
            text(&item.prior, "name")?.to_string(),
        )),
        None => None,
    }
}

/// `value` as `prior` wrote it when both name the same thing (a cluster by name or ARN, a task
/// definition by family, `family:revision` or ARN).
fn as_written(actual: &str, prior: Option<&str>, same: impl Fn(&str) -> bool) -> String {
    match prior {
        Some(p) if p == actual || same(p) => p.to_string(),
        _ => actual.to_string(),
    }
}

/// `actual` in `prior`'s order when they hold the same items: AWS does not promise to keep the
/// order of subnets and security groups, and the spec's order means nothing to it.
fn in_prior_order(actual: Vec<String>, prior: Option<&Value>) -> Vec<String> {
    let prior: Vec<String> = prior
        .and_then(Value::as_list)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    crate::attrs::in_prior_order(actual, &prior, crate::attrs::Unmatched::AsRead)
}

fn strings(config: &Value, name: &str) -> Vec<String> {
    config
        .get(name)
        .and_then(Value::as_list)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn load_balancers(config: &Value) -> Vec<LoadBalancer> {
    config
        .get("load_balancer")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .map(|lb| {
            LoadBalancer::builder()
                .set_target_group_arn(text(lb, "target_group_arn").map(String::from))
                .set_container_name(text(lb, "container_name").map(String::from))
                .set_container_port(number(lb, "container_port"))
                .build()
        })
        .collect()
}

fn network(config: &Value) -> Result<Option<NetworkConfiguration>, ProviderError> {
    let Some(n) = config
        .get("network_configuration")
        .filter(|n| n.as_map().is_some())
    else {
        return Ok(None);
    };
    let vpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(strings(n, "subnets")))
        .set_security_groups(Some(strings(n, "security_groups")).filter(|s| !s.is_empty()))
        .assign_public_ip(if flag(n, "assign_public_ip", false) {
            AssignPublicIp::Enabled
        } else {
            AssignPublicIp::Disabled
        })
        .build()
        .map_err(|e| invalid(TYPE, format!("network_configuration: {e}")))?;
    Ok(Some(
        NetworkConfiguration::builder()
            .awsvpc_configuration(vpc)
            .build(),
    ))
}

fn deployment(config: &Value) -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .maximum_percent(number(config, "deployment_maximum_percent").unwrap_or(200))
        .minimum_healthy_percent(
            number(config, "deployment_minimum_healthy_percent").unwrap_or(100),
        )
        .build()
}

fn propagate(config: &Value) -> Option<PropagateTags> {
    text(config, "propagate_tags").map(PropagateTags::from)
}

#[async_trait]
impl Resource for Service {
    fn schema(&self) -> Schema {
        let lb = AttrType::Object(BTreeMap::from([
            ("target_group_arn".to_string(), AttrType::String),
            ("container_name".to_string(), AttrType::String),
            ("container_port".to_string(), AttrType::Number),
        ]));
        let net = AttrType::Object(BTreeMap::from([
            (
                "subnets".to_string(),
                AttrType::List(Box::new(AttrType::String)),
            ),
            (
                "security_groups".to_string(),
                AttrType::List(Box::new(AttrType::String)),
            ),
            ("assign_public_ip".to_string(), AttrType::Bool),
        ]));
        Schema::resource(PROVIDER, TYPE)
            .import_id("CLUSTER_NAME/SERVICE_NAME")
            .describe("An ECS service")
            .attr(AttrSchema::required("name", AttrType::String).force_new())
            .attr(
                AttrSchema::required("cluster", AttrType::String)
                    .force_new()
                    .describe("The cluster's ARN or name"),
            )
            .attr(
                AttrSchema::required("task_definition", AttrType::String)
                    .describe("`family`, `family:revision` or the revision's ARN"),
            )
            .attr(AttrSchema::optional("desired_count", AttrType::Number).default(0))
            .attr(
                AttrSchema::optional_computed("launch_type", AttrType::String)
                    .force_new()
                    .describe("`FARGATE`, `EC2` or `EXTERNAL`"),
            )
            .attr(AttrSchema::optional("deployment_maximum_percent", AttrType::Number).default(200))
            .attr(
                AttrSchema::optional("deployment_minimum_healthy_percent", AttrType::Number)
                    .default(100),
            )
            .attr(AttrSchema::optional(
                "load_balancer",
                AttrType::List(Box::new(lb)),
            ))
            .attr(AttrSchema::optional("network_configuration", net))
            .attr(AttrSchema::optional_computed(
                "health_check_grace_period_seconds",
                AttrType::Number,
            ))
            .attr(
                AttrSchema::optional("wait_for_steady_state", AttrType::Bool)
                    .default(true)
                    .describe("Wait until the service is stable after a create or update"),
            )
            .attr(
                AttrSchema::optional("propagate_tags", AttrType::String)
                    .default("NONE")
                    .describe("`SERVICE`, `TASK_DEFINITION` or `NONE`"),
            )
            .attr(AttrSchema::optional("enable_execute_command", AttrType::Bool).default(false))
            .attr(tags_schema())
            .attr(id_schema())
            .typical_create_secs(120.0)
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        // Cluster → service name → item.
        let mut by_cluster: BTreeMap<String, BTreeMap<String, &ReadItem>> = BTreeMap::new();
        for item in items {
            if let Some((cluster, name)) = locate(item) {
                by_cluster.entry(cluster).or_default().insert(name, item);
            }
        }
        let mut found = BTreeMap::new();
        for (cluster, wanted) in &by_cluster {
            let names: Vec<String> = wanted.keys().cloned().collect();
            for chunk in names.chunks(CHUNK) {
                let out = match aws
                    .ecs
                    .describe_services()
                    .cluster(cluster)
                    .set_services(Some(chunk.to_vec()))
                    .include(ServiceField::Tags)
                    .send()
                    .await
                {
                    Ok(out) => out,
                    Err(e) => {
                        let err = sdk_error("DescribeServices", e);
                        // A cluster that is gone takes its services with it.
                        if err.kind == ErrorKind::NotFound {
                            continue;
                        }
                        return Err(err);
                    }
                };
                for s in out.services() {
                    let (Some(arn), Some(name)) = (s.service_arn(), s.service_name()) else {
                        continue;
                    };
                    if s.status() == Some("INACTIVE") {
                        continue;
                    }
                    let Some(item) = wanted.get(name) else {
                        continue;
                    };
                    if item.id.is_none() && !owned_by(s.tags(), &item.address) {
                        continue;
                    }
                    found.insert(
                        item.address.clone(),
                        ReadResult {
                            id: arn.to_string(),
                            attributes: attributes(s, &item.prior),
                        },
                    );
                }
            }
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let cluster = required(TYPE, c, "cluster")?;
        let name = required(TYPE, c, "name")?;
        let out = aws
            .ecs
            .create_service()
            .cluster(cluster)
            .service_name(name)
            .task_definition(required(TYPE, c, "task_definition")?)
            .desired_count(number(c, "desired_count").unwrap_or(0))
            .set_launch_type(text(c, "launch_type").map(LaunchType::from))
            .deployment_configuration(deployment(c))
            .set_load_balancers(Some(load_balancers(c)).filter(|l| !l.is_empty()))
            .set_network_configuration(network(c)?)
            .set_health_check_grace_period_seconds(number(c, "health_check_grace_period_seconds"))
            .set_propagate_tags(propagate(c))
            .enable_execute_command(flag(c, "enable_execute_command", false))
            .set_tags(Some(ecs_tags(crate::tagging::with_owner(c, &req.address))))
            // A retried create with the same token returns the first one's service.
            .client_token(request_token(&req.token))
            .send()
            .await
            .map_err(|e| sdk_error("CreateService", e))?;
        let service = out
            .service()
            .ok_or_else(|| invalid(TYPE, "CreateService returned no service"))?;
        let arn = service
            .service_arn()
            .ok_or_else(|| invalid(TYPE, "CreateService returned no ARN"))?
            .to_string();
        // moto 5.2 ignores these on CreateService (AWS always echoes a deployment
        // configuration); it takes them on UpdateService, so set them again there.
        if service.deployment_configuration().is_none() {
            aws.ecs
                .update_service()
                .cluster(cluster)
                .service(name)
                .deployment_configuration(deployment(c))
                .set_health_check_grace_period_seconds(number(
                    c,
                    "health_check_grace_period_seconds",
                ))
                .enable_execute_command(flag(c, "enable_execute_command", false))
                .send()
                .await
                .map_err(|e| sdk_error("UpdateService", e))?;
        }
        if flag(c, "wait_for_steady_state", true) {
            wait_for(aws, cluster, name, Goal::Stable, "create", req.timeout).await?;
        }
        Ok(arn)
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let c = &req.config;
        let changed = |attr: &str| req.changed.iter().any(|a| a == attr);
        let cluster = required(TYPE, c, "cluster")?;
        let name = required(TYPE, c, "name")?;
        let service_fields = [
            "task_definition",
            "desired_count",
            "deployment_maximum_percent",
            "deployment_minimum_healthy_percent",
            "load_balancer",
            "network_configuration",
            "health_check_grace_period_seconds",
            "propagate_tags",
            "enable_execute_command",
        ];
        if service_fields.iter().any(|f| changed(f)) {
            let mut call = aws.ecs.update_service().cluster(cluster).service(name);
            if changed("task_definition") {
                call = call.task_definition(required(TYPE, c, "task_definition")?);
            }
            if changed("desired_count") {
                call = call.desired_count(number(c, "desired_count").unwrap_or(0));
            }
            if changed("deployment_maximum_percent")
                || changed("deployment_minimum_healthy_percent")
            {
                call = call.deployment_configuration(deployment(c));
            }
            if changed("load_balancer") {
                call = call.set_load_balancers(Some(load_balancers(c)));
            }
            if changed("network_configuration") {
                call = call.set_network_configuration(network(c)?);
            }
            if changed("health_check_grace_period_seconds") {
                call = call.set_health_check_grace_period_seconds(number(
                    c,
                    "health_check_grace_period_seconds",
                ));
            }
            if changed("propagate_tags") {
                call = call.set_propagate_tags(Some(propagate(c).unwrap_or(PropagateTags::None)));
            }
            if changed("enable_execute_command") {
                call = call.enable_execute_command(flag(c, "enable_execute_command", false));
            }
            call.send()
                .await
                .map_err(|e| sdk_error("UpdateService", e))?;
        }
        if changed("tags") {
            sync_tags(aws, &req.id, &req.prior, c).await?;
        }
        if flag(c, "wait_for_steady_state", true) {
            wait_for(aws, cluster, name, Goal::Stable, "update", req.timeout).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let item = ReadItem {
            address: req.address.clone(),
            id: Some(req.id.clone()),
            token: None,
            since: None,
            prior: req.prior.clone(),
        };
        let (cluster, name) = locate(&item)
            .ok_or_else(|| invalid(TYPE, format!("cannot tell the cluster of {}", req.id)))?;
        // ECS refuses to delete a service that still runs tasks.
        let scaled = aws
            .ecs
            .update_service()
            .cluster(&cluster)
            .service(&name)
            .desired_count(0)
            .send()
            .await
            .map_err(|e| sdk_error("UpdateService", e));
        match scaled {
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(()),
            // Deleted already, and still listed as INACTIVE for a while.
            Err(e) if e.message.contains("ServiceNotActiveException") => return Ok(()),
            Err(e) => return Err(e),
        }
        aws.ecs
            .delete_service()
            .cluster(&cluster)
            .service(&name)
            .force(true)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteService", e))?;
        wait_for(aws, &cluster, &name, Goal::Inactive, "delete", req.timeout).await
    }
}

/// The attributes of a described service, written as `prior` wrote what can be written in
/// several ways.
fn attributes(s: &aws_sdk_ecs::types::Service, prior: &Value) -> Value {
    let arn = s.service_arn().unwrap_or_default();
    let cluster_arn = s.cluster_arn().unwrap_or_default();
    let cluster = as_written(cluster_arn, text(prior, "cluster"), |p| {
        cluster_name(p) == cluster_name(cluster_arn)
    });
    let td_arn = s.task_definition().unwrap_or_default();
    let task_definition = as_written(td_arn, text(prior, "task_definition"), |p| {
        let family_rev = td_arn.rsplit_once('/').map_or(td_arn, |(_, f)| f);
        p == family_rev || family_rev.split_once(':').is_some_and(|(f, _)| f == p)
    });
    let deployment = s.deployment_configuration();
    let lbs: Vec<Value> = s
        .load_balancers()
        .iter()
        .map(|lb| {
            Attrs::new()
                .opt("target_group_arn", lb.target_group_arn())
                .opt("container_name", lb.container_name())
                .opt("container_port", lb.container_port().map(f64::from))
                .build()
        })
        .collect();
    let prior_net = prior.get("network_configuration");
    let net = s
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .map(|v| {
            let public = v.assign_public_ip() == Some(&AssignPublicIp::Enabled);
            let mut m = BTreeMap::from([
                (
                    "subnets".to_string(),
                    string_list(in_prior_order(
                        v.subnets().to_vec(),
                        prior_net.and_then(|n| n.get("subnets")),
                    )),
                ),
                (
                    "security_groups".to_string(),
                    string_list(in_prior_order(
                        v.security_groups().to_vec(),
                        prior_net.and_then(|n| n.get("security_groups")),
                    )),
                ),
            ]);
            // Unset means disabled: only show it when on, or when the spec spelled it out.
            // (Object fields the spec leaves out arrive as null.)
            let spelled = prior_net
                .and_then(|n| n.get("assign_public_ip"))
                .is_some_and(|v| *v != Value::Null);
            if public || spelled {
                m.insert("assign_public_ip".to_string(), Value::Bool(public));
            }
            Value::Map(m)
        });
    Attrs::new()
        .set("id", arn)
        .opt("name", s.service_name())
        .set("cluster", cluster)
        .set("task_definition", task_definition)
        .set("desired_count", Value::Number(s.desired_count().into()))
        .opt("launch_type", s.launch_type().map(|l| l.as_str()))
        // AWS always returns the deployment configuration; these are its defaults.
        .set(
            "deployment_maximum_percent",
            Value::Number(
                deployment
                    .and_then(|d| d.maximum_percent())
                    .unwrap_or(200)
                    .into(),
            ),
        )
        .set(
            "deployment_minimum_healthy_percent",
            Value::Number(
                deployment
                    .and_then(|d| d.minimum_healthy_percent())
                    .unwrap_or(100)
                    .into(),
            ),
        )
        .set("load_balancer", Value::List(lbs))
        .opt("network_configuration", net)
        .opt(
            "health_check_grace_period_seconds",
            s.health_check_grace_period_seconds().map(f64::from),
        )
        .set(
            "wait_for_steady_state",
            Value::Bool(flag(prior, "wait_for_steady_state", true)),
        )
        .set(
            "propagate_tags",
            s.propagate_tags().map_or("NONE", |p| p.as_str()),
        )
        .set(
            "enable_execute_command",
            Value::Bool(s.enable_execute_command()),
        )
        .set("tags", tags_of(s.tags()))
        .build()
}

#[derive(Clone, Copy, PartialEq)]
enum Goal {
    /// AWS's `services-stable`: one deployment, as many tasks running as desired.
    Stable,
    /// AWS's `services-inactive`.
    Inactive,
}

async fn wait_for(
    aws: &Clients,
    cluster: &str,
    name: &str,
    goal: Goal,
    operation: &str,
    timeout: Option<Duration>,
) -> Result<(), ProviderError> {
    let what = format!("ECS service {name} (cluster {})", cluster_name(cluster));
    let wait = Wait {
        what: &what,
        until: match goal {
            Goal::Stable => "stable",
            Goal::Inactive => "INACTIVE",
        },
        operation,
        limit: timeout.unwrap_or(WAIT_LIMIT),
    };
    wait.run(|| async {
        let out = aws
            .ecs
            .describe_services()
            .cluster(cluster)
            .services(name)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeServices", e))?;
        let service = out
            .services()
            .iter()
            .find(|s| s.service_name() == Some(name));
        let status = service.and_then(|s| s.status()).unwrap_or("MISSING");
        match goal {
            Goal::Inactive if matches!(status, "INACTIVE" | "MISSING") => Ok(Check::Done(())),
            Goal::Inactive => Ok(Check::Waiting(status.to_string())),
            Goal::Stable => {
                let Some(s) = service.filter(|_| status == "ACTIVE") else {
                    return Err(ProviderError::new(
                        ErrorKind::Other,
                        format!("{what} is {status} while waiting for it to become stable"),
                    ));
                };
                let deployments = s.deployments().len();
                if deployments == 1 && s.running_count() == s.desired_count() {
                    return Ok(Check::Done(()));
                }
                Ok(Check::Waiting(format!(
                    "{} of {} tasks running, {deployments} deployment{}",
                    s.running_count(),
                    s.desired_count(),
                    if deployments == 1 { "" } else { "s" }
                )))
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: Option<&str>, prior: Value) -> ReadItem {
        ReadItem {
            address: "aws_ecs_service.app".into(),
            id: id.map(String::from),
            token: Some("t".into()),
            since: None,
            prior,
        }
    }

    #[test]
    fn a_service_is_found_by_arn_import_id_or_spec() {
        let at = |c: &str, n: &str| Some((c.to_string(), n.to_string()));
        assert_eq!(
            locate(&item(
                Some("arn:aws:ecs:us-east-1:1:service/main/app"),
                Value::Null
            )),
            at("main", "app")
        );
        assert_eq!(
            locate(&item(Some("main/app"), Value::Null)),
            at("main", "app")
        );
        let prior = Attrs::new()
            .set("cluster", "arn:aws:ecs:us-east-1:1:cluster/main")
            .set("name", "app")
            .build();
        assert_eq!(
            locate(&item(
                Some("arn:aws:ecs:us-east-1:1:service/app"),
                prior.clone()
            )),
            at("main", "app")
        );
        assert_eq!(locate(&item(None, prior)), at("main", "app"));
    }

    #[test]
    fn a_task_definition_reads_back_as_the_spec_named_it() {
        let arn = "arn:aws:ecs:us-east-1:1:task-definition/app:3";
        let same = |p: &str| {
            let family_rev = arn.rsplit_once('/').map_or(arn, |(_, f)| f);
            p == family_rev || family_rev.split_once(':').is_some_and(|(f, _)| f == p)
        };
        assert_eq!(as_written(arn, Some("app:3"), same), "app:3");
        assert_eq!(as_written(arn, Some("app"), same), "app");
        assert_eq!(as_written(arn, Some("other"), same), arn);
        assert_eq!(as_written(arn, None, same), arn);
    }

    #[test]
    fn subnets_keep_the_spec_order_when_they_are_the_same() {
        let prior = string_list(["b".to_string(), "a".to_string()]);
        assert_eq!(
            in_prior_order(vec!["a".into(), "b".into()], Some(&prior)),
            ["b", "a"]
        );
        assert_eq!(
            in_prior_order(vec!["c".into(), "a".into()], Some(&prior)),
            ["c", "a"]
        );
    }
}
