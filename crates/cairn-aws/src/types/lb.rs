//! `aws_lb`: an application load balancer in a VPC's subnets. Its id is its ARN, which is also
//! how it is imported.
//!
//! Refresh: one DescribeLoadBalancers and one DescribeTags per 20 ARNs; the attributes (idle
//! timeout, deletion protection, access logs) have no batch read, so they are read per load
//! balancer, concurrently and bounded. Create waits until the load balancer is `active`, delete
//! until it is gone, as Terraform does.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    IpAddressType, LoadBalancer, LoadBalancerAttribute, LoadBalancerSchemeEnum,
    LoadBalancerStateEnum, LoadBalancerTypeEnum,
};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, flag, id_schema, number, tags_schema, text};
use crate::config::Clients;
use crate::each::read_each;
use crate::elbv2::{
    arn_suffix, configured, describe_chunked, elb_error, elb_tags, find_owned, generated_name,
    prior_order, strings, sync_tags, tags_by_arn,
};
use crate::errors::invalid;
use crate::tagging::with_owner;
use crate::wait::{Check, Wait};

pub struct Lb;

const TYPE: &str = "aws_lb";
/// Terraform's create and delete timeout for load balancers.
const WAIT_LIMIT: Duration = Duration::from_secs(600);
/// AWS's idle timeout when none is set.
const IDLE_TIMEOUT: i64 = 60;

fn access_logs_type() -> AttrType {
    AttrType::Object(BTreeMap::from([
        ("bucket".to_string(), AttrType::String),
        ("prefix".to_string(), AttrType::String),
        ("enabled".to_string(), AttrType::Bool),
    ]))
}

#[async_trait]
impl Resource for Lb {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("LOAD_BALANCER_ARN")
            .describe("An application load balancer")
            .attr(
                AttrSchema::optional_computed("name", AttrType::String)
                    .force_new()
                    .describe("Generated from the address when not set"),
            )
            .attr(
                AttrSchema::optional("internal", AttrType::Bool)
                    .default(false)
                    .force_new(),
            )
            .attr(
                AttrSchema::optional("load_balancer_type", AttrType::String)
                    .default("application")
                    .force_new(),
            )
            .attr(
                AttrSchema::optional_computed(
                    "subnets",
                    AttrType::List(Box::new(AttrType::String)),
                )
                .describe("At least two subnets in different availability zones"),
            )
            .attr(AttrSchema::optional_computed(
                "security_groups",
                AttrType::List(Box::new(AttrType::String)),
            ))
            .attr(AttrSchema::optional("ip_address_type", AttrType::String).default("ipv4"))
            .attr(
                AttrSchema::optional("idle_timeout", AttrType::Number)
                    .default(IDLE_TIMEOUT)
                    .describe("Seconds a connection may be idle"),
            )
            .attr(AttrSchema::optional("enable_deletion_protection", AttrType::Bool).default(false))
            .attr(
                AttrSchema::optional("access_logs", access_logs_type())
                    .describe("S3 access logs: bucket, prefix, enabled"),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed("arn_suffix", AttrType::String))
            .attr(AttrSchema::computed("dns_name", AttrType::String))
            .attr(
                AttrSchema::computed("zone_id", AttrType::String)
                    .describe("The hosted zone of the DNS name, for Route53 aliases"),
            )
            .attr(AttrSchema::computed("vpc_id", AttrType::String))
            .typical_create_secs(180.0)
    }

    async fn find_pending(
        &self,
        aws: &Clients,
        pending: &[&ReadItem],
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        find_owned(aws, pending, None, |_parent, marker| {
            let client = aws.elbv2.clone();
            async move {
                let out = client
                    .describe_load_balancers()
                    .set_marker(marker)
                    .send()
                    .await
                    .map_err(|e| elb_error("DescribeLoadBalancers", e))?;
                let arns = out
                    .load_balancers()
                    .iter()
                    .filter_map(|x| x.load_balancer_arn().map(String::from))
                    .collect();
                Ok((arns, out.next_marker))
            }
        })
        .await
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let arns: Vec<String> = items.iter().filter_map(|i| i.id.clone()).collect();
        let balancers = describe(aws, arns).await?;
        let arns: Vec<String> = balancers
            .iter()
            .filter_map(|b| b.load_balancer_arn().map(String::from))
            .collect();
        let tags = tags_by_arn(aws, &arns).await?;
        let client = aws.elbv2.clone();
        let attributes = read_each(arns.iter().map(|a| (a.clone(), a.clone())), move |arn| {
            let client = client.clone();
            async move {
                let out = client
                    .describe_load_balancer_attributes()
                    .load_balancer_arn(arn)
                    .send()
                    .await
                    .map_err(|e| elb_error("DescribeLoadBalancerAttributes", e))?;
                Ok(Some(
                    out.attributes()
                        .iter()
                        .filter_map(|a| {
                            Some((
                                a.key()?.to_string(),
                                a.value().unwrap_or_default().to_string(),
                            ))
                        })
                        .collect::<BTreeMap<String, String>>(),
                ))
            }
        })
        .await?;
        let by_arn: BTreeMap<&str, &LoadBalancer> = balancers
            .iter()
            .filter_map(|b| Some((b.load_balancer_arn()?, b)))
            .collect();
        let mut found = BTreeMap::new();
        for item in items {
            let Some(arn) = item.id.as_deref() else {
                continue;
            };
            let (Some(b), Some(attrs)) = (by_arn.get(arn), attributes.get(arn)) else {
                continue;
            };
            let attr = |key: &str| attrs.get(key).map(String::as_str);
            let subnets: Vec<String> = b
                .availability_zones()
                .iter()
                .filter_map(|z| z.subnet_id().map(String::from))
                .collect();
            let logs_on = attr("access_logs.s3.enabled") == Some("true");
            let logs_bucket = attr("access_logs.s3.bucket").filter(|b| !b.is_empty());
            let access_logs = (logs_on || logs_bucket.is_some()).then(|| {
                configured(
                    Attrs::new()
                        .opt("bucket", logs_bucket)
                        .opt(
                            "prefix",
                            attr("access_logs.s3.prefix").filter(|p| !p.is_empty()),
                        )
                        .set("enabled", logs_on)
                        .build(),
                    item.prior.get("access_logs"),
                )
            });
            let attributes = Attrs::new()
                .set("id", arn)
                .set("arn", arn)
                .opt("arn_suffix", arn_suffix(arn, "loadbalancer/"))
                .opt("name", b.load_balancer_name())
                .set(
                    "internal",
                    b.scheme() == Some(&LoadBalancerSchemeEnum::Internal),
                )
                .set(
                    "load_balancer_type",
                    b.r#type().map_or("application", |t| t.as_str()),
                )
                .set(
                    "subnets",
                    Value::List(
                        prior_order(subnets, &strings(&item.prior, "subnets"))
                            .into_iter()
                            .map(Value::String)
                            .collect(),
                    ),
                )
                .set(
                    "security_groups",
                    Value::List(
                        prior_order(
                            b.security_groups().to_vec(),
                            &strings(&item.prior, "security_groups"),
                        )
                        .into_iter()
                        .map(Value::String)
                        .collect(),
                    ),
                )
                .set(
                    "ip_address_type",
                    b.ip_address_type().map_or("ipv4", |t| t.as_str()),
                )
                .set(
                    "idle_timeout",
                    attr("idle_timeout.timeout_seconds")
                        .and_then(|v| v.parse::<f64>().ok())
                        .unwrap_or(IDLE_TIMEOUT as f64),
                )
                .set(
                    "enable_deletion_protection",
                    attr("deletion_protection.enabled") == Some("true"),
                )
                .opt("access_logs", access_logs)
                .set(
                    "tags",
                    tags.get(arn)
                        .cloned()
                        .unwrap_or(Value::Map(BTreeMap::new())),
                )
                .opt("dns_name", b.dns_name())
                .opt("zone_id", b.canonical_hosted_zone_id())
                .opt("vpc_id", b.vpc_id())
                .build();
            found.insert(
                item.address.clone(),
                ReadResult {
                    id: arn.to_string(),
                    attributes,
                },
            );
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let name = text(c, "name")
            .map(String::from)
            .unwrap_or_else(|| generated_name(&req.address));
        let subnets = strings(c, "subnets");
        if subnets.is_empty() {
            return Err(invalid(TYPE, "`subnets` needs at least two subnets"));
        }
        let security_groups = strings(c, "security_groups");
        let out = aws
            .elbv2
            .create_load_balancer()
            .name(&name)
            .set_subnets(Some(subnets))
            .set_security_groups(Some(security_groups).filter(|g| !g.is_empty()))
            .scheme(if flag(c, "internal", false) {
                LoadBalancerSchemeEnum::Internal
            } else {
                LoadBalancerSchemeEnum::InternetFacing
            })
            .r#type(LoadBalancerTypeEnum::from(
                text(c, "load_balancer_type").unwrap_or("application"),
            ))
            .ip_address_type(IpAddressType::from(
                text(c, "ip_address_type").unwrap_or("ipv4"),
            ))
            .set_tags(Some(elb_tags(with_owner(c, &req.address))))
            .send()
            .await
            .map_err(|e| elb_error("CreateLoadBalancer", e))?;
        let arn = out
            .load_balancers()
            .first()
            .and_then(|b| b.load_balancer_arn())
            .ok_or_else(|| {
                ProviderError::new(ErrorKind::Other, "CreateLoadBalancer returned no ARN")
            })?
            .to_string();
        let attributes = attributes(c, None);
        if !attributes.is_empty() {
            modify_attributes(aws, &arn, attributes).await?;
        }
        wait_for(aws, &arn, true, req.timeout).await?;
        Ok(arn)
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let (c, p) = (&req.config, &req.prior);
        let changed = |attr: &str| req.changed.iter().any(|a| a == attr);
        if changed("subnets") {
            aws.elbv2
                .set_subnets()
                .load_balancer_arn(&req.id)
                .set_subnets(Some(strings(c, "subnets")))
                .send()
                .await
                .map_err(|e| elb_error("SetSubnets", e))?;
        }
        if changed("security_groups") {
            aws.elbv2
                .set_security_groups()
                .load_balancer_arn(&req.id)
                .set_security_groups(Some(strings(c, "security_groups")))
                .send()
                .await
                .map_err(|e| elb_error("SetSecurityGroups", e))?;
        }
        if changed("ip_address_type") {
            aws.elbv2
                .set_ip_address_type()
                .load_balancer_arn(&req.id)
                .ip_address_type(IpAddressType::from(
                    text(c, "ip_address_type").unwrap_or("ipv4"),
                ))
                .send()
                .await
                .map_err(|e| elb_error("SetIpAddressType", e))?;
        }
        let attributes = attributes(c, Some(p));
        if !attributes.is_empty() {
            modify_attributes(aws, &req.id, attributes).await?;
        }
        if changed("tags") {
            sync_tags(aws, &req.id, p, c).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        match aws
            .elbv2
            .delete_load_balancer()
            .load_balancer_arn(&req.id)
            .send()
            .await
            .map_err(|e| elb_error("DeleteLoadBalancer", e))
        {
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(()),
            other => other?,
        };
        wait_for(aws, &req.id, false, req.timeout).await
    }
}

/// The load balancer attributes `config` sets, all of them on create (`prior` None) and those
/// that differ from `prior` on update.
fn attributes(config: &Value, prior: Option<&Value>) -> Vec<LoadBalancerAttribute> {
    let wanted = |v: &Value| {
        let logs = v
            .get("access_logs")
            .map(Value::expose)
            .unwrap_or(&Value::Null);
        [
            (
                "idle_timeout.timeout_seconds",
                number(v, "idle_timeout")
                    .map(i64::from)
                    .unwrap_or(IDLE_TIMEOUT)
                    .to_string(),
            ),
            (
                "deletion_protection.enabled",
                flag(v, "enable_deletion_protection", false).to_string(),
            ),
            (
                "access_logs.s3.enabled",
                (text(logs, "bucket").is_some() && flag(logs, "enabled", true)).to_string(),
            ),
            (
                "access_logs.s3.bucket",
                text(logs, "bucket").unwrap_or_default().to_string(),
            ),
            (
                "access_logs.s3.prefix",
                text(logs, "prefix").unwrap_or_default().to_string(),
            ),
        ]
    };
    let now = wanted(config);
    let defaults = [
        IDLE_TIMEOUT.to_string(),
        "false".into(),
        "false".into(),
        String::new(),
        String::new(),
    ];
    let before: Vec<String> = match prior {
        Some(p) => wanted(p).into_iter().map(|(_, v)| v).collect(),
        None => defaults.to_vec(),
    };
    now.into_iter()
        .zip(before)
        .filter(|((_, v), b)| v != b)
        .map(|((k, v), _)| LoadBalancerAttribute::builder().key(k).value(v).build())
        .collect()
}

async fn modify_attributes(
    aws: &Clients,
    arn: &str,
    attributes: Vec<LoadBalancerAttribute>,
) -> Result<(), ProviderError> {
    aws.elbv2
        .modify_load_balancer_attributes()
        .load_balancer_arn(arn)
        .set_attributes(Some(attributes))
        .send()
        .await
        .map_err(|e| elb_error("ModifyLoadBalancerAttributes", e))?;
    Ok(())
}

async fn describe(aws: &Clients, arns: Vec<String>) -> Result<Vec<LoadBalancer>, ProviderError> {
    if arns.is_empty() {
        return Ok(Vec::new());
    }
    let client = aws.elbv2.clone();
    describe_chunked(arns, move |chunk| {
        let client = client.clone();
        async move {
            let out = client
                .describe_load_balancers()
                .set_load_balancer_arns(Some(chunk))
                .send()
                .await
                .map_err(|e| elb_error("DescribeLoadBalancers", e))?;
            Ok(out.load_balancers.unwrap_or_default())
        }
    })
    .await
}

/// Waits until the load balancer is `active` (`active` true) or gone. One that fails while
/// provisioning is reported with AWS's reason.
async fn wait_for(
    aws: &Clients,
    arn: &str,
    active: bool,
    timeout: Option<Duration>,
) -> Result<(), ProviderError> {
    let what = format!("load balancer {arn}");
    let wait = Wait {
        what: &what,
        until: if active { "active" } else { "deleted" },
        operation: if active { "create" } else { "delete" },
        limit: timeout.unwrap_or(WAIT_LIMIT),
    };
    wait.run(|| async {
        let found = describe(aws, vec![arn.to_string()]).await?;
        let state = found.first().and_then(|b| b.state());
        let code = state.and_then(|s| s.code());
        match (active, code) {
            (false, None) if found.is_empty() => Ok(Check::Done(())),
            (true, Some(LoadBalancerStateEnum::Active)) => Ok(Check::Done(())),
            (true, Some(LoadBalancerStateEnum::Failed)) => Err(ProviderError::new(
                ErrorKind::Other,
                format!(
                    "load balancer {arn} failed to provision: {}",
                    state.and_then(|s| s.reason()).unwrap_or("no reason given")
                ),
            )),
            (_, code) => Ok(Check::Waiting(
                code.map_or("not listed", |c| c.as_str()).to_string(),
            )),
        }
    })
    .await
}
