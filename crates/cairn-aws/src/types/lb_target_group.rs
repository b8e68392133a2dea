//! `aws_lb_target_group`: where a load balancer sends requests, with its health check. Its id
//! is its ARN, which is also how it is imported.
//!
//! Refresh: one DescribeTargetGroups and one DescribeTags per 20 ARNs; the deregistration delay
//! is a target group attribute, read per group (no batch form), concurrently and bounded.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    Matcher, ProtocolEnum, TargetGroup, TargetGroupAttribute, TargetTypeEnum,
};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, id_schema, number, tags_schema, text};
use crate::config::Clients;
use crate::each::read_each;
use crate::elbv2::{
    arn_suffix, configured, describe_chunked, elb_error, elb_tags, find_owned, generated_name,
    sync_tags, tags_by_arn,
};
use crate::tagging::with_owner;
use crate::wait::{Check, Wait};

pub struct TargetGroupType;

const TYPE: &str = "aws_lb_target_group";
/// AWS's deregistration delay when none is set.
const DEREGISTRATION_DELAY: i64 = 300;
const DELAY_KEY: &str = "deregistration_delay.timeout_seconds";
/// How long a delete waits for listeners and rules to let go of the group.
const IN_USE_LIMIT: Duration = Duration::from_secs(120);

fn health_check_type() -> AttrType {
    AttrType::Object(BTreeMap::from([
        ("enabled".to_string(), AttrType::Bool),
        ("path".to_string(), AttrType::String),
        ("port".to_string(), AttrType::String),
        ("protocol".to_string(), AttrType::String),
        ("matcher".to_string(), AttrType::String),
        ("interval".to_string(), AttrType::Number),
        ("timeout".to_string(), AttrType::Number),
        ("healthy_threshold".to_string(), AttrType::Number),
        ("unhealthy_threshold".to_string(), AttrType::Number),
    ]))
}

#[async_trait]
impl Resource for TargetGroupType {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("TARGET_GROUP_ARN")
            .describe("A target group of a load balancer")
            .attr(
                AttrSchema::optional_computed("name", AttrType::String)
                    .force_new()
                    .describe("Generated from the address when not set"),
            )
            .attr(AttrSchema::optional("port", AttrType::Number).force_new())
            .attr(AttrSchema::optional("protocol", AttrType::String).force_new())
            .attr(AttrSchema::optional_computed("protocol_version", AttrType::String).force_new())
            .attr(AttrSchema::optional("vpc_id", AttrType::String).force_new())
            .attr(
                AttrSchema::optional("target_type", AttrType::String)
                    .default("instance")
                    .force_new()
                    .describe("instance, ip, lambda or alb"),
            )
            .attr(
                AttrSchema::optional("deregistration_delay", AttrType::Number)
                    .default(DEREGISTRATION_DELAY),
            )
            .attr(
                AttrSchema::optional_computed("health_check", health_check_type()).describe(
                    "Fields left out keep AWS's defaults (interval 30, thresholds, matcher 200)",
                ),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed("arn_suffix", AttrType::String))
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
                    .describe_target_groups()
                    .set_marker(marker)
                    .send()
                    .await
                    .map_err(|e| elb_error("DescribeTargetGroups", e))?;
                let arns = out
                    .target_groups()
                    .iter()
                    .filter_map(|x| x.target_group_arn().map(String::from))
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
        if arns.is_empty() {
            return Ok(BTreeMap::new());
        }
        let client = aws.elbv2.clone();
        let groups = describe_chunked(arns, move |chunk| {
            let client = client.clone();
            async move {
                let out = client
                    .describe_target_groups()
                    .set_target_group_arns(Some(chunk))
                    .send()
                    .await
                    .map_err(|e| elb_error("DescribeTargetGroups", e))?;
                Ok(out.target_groups.unwrap_or_default())
            }
        })
        .await?;
        let arns: Vec<String> = groups
            .iter()
            .filter_map(|g| g.target_group_arn().map(String::from))
            .collect();
        let tags = tags_by_arn(aws, &arns).await?;
        let client = aws.elbv2.clone();
        let delays = read_each(arns.iter().map(|a| (a.clone(), a.clone())), move |arn| {
            let client = client.clone();
            async move {
                let out = client
                    .describe_target_group_attributes()
                    .target_group_arn(arn)
                    .send()
                    .await
                    .map_err(|e| elb_error("DescribeTargetGroupAttributes", e))?;
                let delay = out
                    .attributes()
                    .iter()
                    .find(|a| a.key() == Some(DELAY_KEY))
                    .and_then(|a| a.value()?.parse::<f64>().ok())
                    .unwrap_or(DEREGISTRATION_DELAY as f64);
                Ok(Some(delay))
            }
        })
        .await?;
        let by_arn: BTreeMap<&str, &TargetGroup> = groups
            .iter()
            .filter_map(|g| Some((g.target_group_arn()?, g)))
            .collect();
        let mut found = BTreeMap::new();
        for item in items {
            let Some(arn) = item.id.as_deref() else {
                continue;
            };
            let Some(g) = by_arn.get(arn) else { continue };
            let num = |n: Option<i32>| n.map(f64::from);
            let health = configured(
                Attrs::new()
                    .opt("enabled", g.health_check_enabled())
                    .opt("path", g.health_check_path())
                    .opt("port", g.health_check_port())
                    .opt("protocol", g.health_check_protocol().map(|p| p.as_str()))
                    .opt("matcher", g.matcher().and_then(|m| m.http_code()))
                    .opt("interval", num(g.health_check_interval_seconds()))
                    .opt("timeout", num(g.health_check_timeout_seconds()))
                    .opt("healthy_threshold", num(g.healthy_threshold_count()))
                    .opt("unhealthy_threshold", num(g.unhealthy_threshold_count()))
                    .build(),
                item.prior.get("health_check"),
            );
            let attributes = Attrs::new()
                .set("id", arn)
                .set("arn", arn)
                .opt("arn_suffix", arn_suffix(arn, "targetgroup"))
                .opt("name", g.target_group_name())
                .opt("port", num(g.port()))
                .opt("protocol", g.protocol().map(|p| p.as_str()))
                .opt("protocol_version", g.protocol_version())
                .opt("vpc_id", g.vpc_id())
                .set(
                    "target_type",
                    g.target_type().map_or("instance", |t| t.as_str()),
                )
                .set(
                    "deregistration_delay",
                    delays
                        .get(arn)
                        .copied()
                        .unwrap_or(DEREGISTRATION_DELAY as f64),
                )
                .set("health_check", health)
                .set(
                    "tags",
                    tags.get(arn)
                        .cloned()
                        .unwrap_or(Value::Map(BTreeMap::new())),
                )
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
        let h = c
            .get("health_check")
            .map(Value::expose)
            .unwrap_or(&Value::Null);
        let name = text(c, "name")
            .map(String::from)
            .unwrap_or_else(|| generated_name(&req.address));
        let out = aws
            .elbv2
            .create_target_group()
            .name(name)
            .set_port(number(c, "port"))
            .set_protocol(text(c, "protocol").map(ProtocolEnum::from))
            .set_protocol_version(text(c, "protocol_version").map(String::from))
            .set_vpc_id(text(c, "vpc_id").map(String::from))
            .target_type(TargetTypeEnum::from(
                text(c, "target_type").unwrap_or("instance"),
            ))
            .set_health_check_enabled(h.get("enabled").and_then(|v| v.expose().as_bool()))
            .set_health_check_path(text(h, "path").map(String::from))
            .set_health_check_port(text(h, "port").map(String::from))
            .set_health_check_protocol(text(h, "protocol").map(ProtocolEnum::from))
            .set_matcher(text(h, "matcher").map(|m| Matcher::builder().http_code(m).build()))
            .set_health_check_interval_seconds(number(h, "interval"))
            .set_health_check_timeout_seconds(number(h, "timeout"))
            .set_healthy_threshold_count(number(h, "healthy_threshold"))
            .set_unhealthy_threshold_count(number(h, "unhealthy_threshold"))
            .set_tags(Some(elb_tags(with_owner(c, &req.address))))
            .send()
            .await
            .map_err(|e| elb_error("CreateTargetGroup", e))?;
        let arn = out
            .target_groups()
            .first()
            .and_then(|g| g.target_group_arn())
            .ok_or_else(|| {
                ProviderError::new(ErrorKind::Other, "CreateTargetGroup returned no ARN")
            })?
            .to_string();
        let delay = number(c, "deregistration_delay").map_or(DEREGISTRATION_DELAY, i64::from);
        if delay != DEREGISTRATION_DELAY {
            set_delay(aws, &arn, delay).await?;
        }
        Ok(arn)
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let c = &req.config;
        let changed = |attr: &str| req.changed.iter().any(|a| a == attr);
        if changed("health_check") {
            let h = c
                .get("health_check")
                .map(Value::expose)
                .unwrap_or(&Value::Null);
            aws.elbv2
                .modify_target_group()
                .target_group_arn(&req.id)
                .set_health_check_enabled(h.get("enabled").and_then(|v| v.expose().as_bool()))
                .set_health_check_path(text(h, "path").map(String::from))
                .set_health_check_port(text(h, "port").map(String::from))
                .set_health_check_protocol(text(h, "protocol").map(ProtocolEnum::from))
                .set_matcher(text(h, "matcher").map(|m| Matcher::builder().http_code(m).build()))
                .set_health_check_interval_seconds(number(h, "interval"))
                .set_health_check_timeout_seconds(number(h, "timeout"))
                .set_healthy_threshold_count(number(h, "healthy_threshold"))
                .set_unhealthy_threshold_count(number(h, "unhealthy_threshold"))
                .send()
                .await
                .map_err(|e| elb_error("ModifyTargetGroup", e))?;
        }
        if changed("deregistration_delay") {
            let delay = number(c, "deregistration_delay").map_or(DEREGISTRATION_DELAY, i64::from);
            set_delay(aws, &req.id, delay).await?;
        }
        if changed("tags") {
            sync_tags(aws, &req.id, &req.prior, c).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        // A listener or rule deleted a moment ago may still hold the group on AWS
        // (`ResourceInUse`); Terraform retries that for a while too.
        let what = format!("target group {}", req.id);
        Wait {
            what: &what,
            until: "deleted (no longer in use by a listener or rule)",
            operation: "delete",
            limit: req.timeout.unwrap_or(IN_USE_LIMIT),
        }
        .run(|| async {
            match aws
                .elbv2
                .delete_target_group()
                .target_group_arn(&req.id)
                .send()
                .await
                .map_err(|e| elb_error("DeleteTargetGroup", e))
            {
                Ok(_) => Ok(Check::Done(())),
                Err(e) if e.kind == ErrorKind::NotFound => Ok(Check::Done(())),
                Err(e) if e.message.contains("ResourceInUse") => Ok(Check::Waiting(e.message)),
                Err(e) => Err(e),
            }
        })
        .await
    }
}

async fn set_delay(aws: &Clients, arn: &str, seconds: i64) -> Result<(), ProviderError> {
    aws.elbv2
        .modify_target_group_attributes()
        .target_group_arn(arn)
        .attributes(
            TargetGroupAttribute::builder()
                .key(DELAY_KEY)
                .value(seconds.to_string())
                .build(),
        )
        .send()
        .await
        .map_err(|e| elb_error("ModifyTargetGroupAttributes", e))?;
    Ok(())
}
