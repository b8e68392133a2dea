//! `aws_appautoscaling_policy`: a target tracking policy on a scalable target (keep an ECS
//! service's average CPU or memory at a target value). Its id, also the import id, is
//! Terraform's import id: `SERVICE_NAMESPACE/RESOURCE_ID/SCALABLE_DIMENSION/POLICY_NAME`.
//!
//! Refresh is one DescribeScalingPolicies per namespace and page, filtered by the policy names
//! in state. PutScalingPolicy creates or overwrites, which is also the in-place update. Step
//! scaling is not mapped yet.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalingPolicy,
    TargetTrackingScalingPolicyConfiguration,
};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::appautoscaling_target::{TargetKey, keyed, target_attrs};
use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, flag, id_schema, number, required, string_list, text};
use crate::config::Clients;
use crate::errors::{invalid, sdk_error};
use crate::paginate::all_pages;

pub struct Policy;

const TYPE: &str = "aws_appautoscaling_policy";
/// Policy names per DescribeScalingPolicies call.
const CHUNK: usize = 50;
const CONFIG: &str = "target_tracking_scaling_policy_configuration";

fn configuration(
    config: &Value,
) -> Result<TargetTrackingScalingPolicyConfiguration, ProviderError> {
    let c = config
        .get(CONFIG)
        .filter(|c| c.as_map().is_some())
        .ok_or_else(|| {
            invalid(
                TYPE,
                format!("a TargetTrackingScaling policy needs `{CONFIG}`"),
            )
        })?;
    let target = c
        .get("target_value")
        .and_then(Value::as_f64)
        .ok_or_else(|| invalid(TYPE, format!("`{CONFIG}.target_value` is required")))?;
    let metric = match c.get("predefined_metric_specification") {
        Some(m) if m.as_map().is_some() => Some(
            PredefinedMetricSpecification::builder()
                .predefined_metric_type(MetricType::from(required(
                    TYPE,
                    m,
                    "predefined_metric_type",
                )?))
                .set_resource_label(text(m, "resource_label").map(String::from))
                .build()
                .map_err(|e| invalid(TYPE, e))?,
        ),
        _ => None,
    };
    TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(target)
        .set_predefined_metric_specification(metric)
        .set_scale_in_cooldown(number(c, "scale_in_cooldown"))
        .set_scale_out_cooldown(number(c, "scale_out_cooldown"))
        .set_disable_scale_in(
            c.get("disable_scale_in")
                .map(|_| flag(c, "disable_scale_in", false)),
        )
        .build()
        .map_err(|e| invalid(TYPE, e))
}

/// The configuration block as read, with `disable_scale_in` only when on or spelled out (off
/// is AWS's default and what it reports when unset).
fn configuration_value(t: &TargetTrackingScalingPolicyConfiguration, prior: &Value) -> Value {
    let prior = prior.get(CONFIG);
    let metric = t.predefined_metric_specification().map(|m| {
        Attrs::new()
            .set(
                "predefined_metric_type",
                m.predefined_metric_type().as_str(),
            )
            .opt("resource_label", m.resource_label())
            .build()
    });
    let disable = t.disable_scale_in().unwrap_or(false);
    // Object fields the spec leaves out arrive as null.
    let spelled = prior
        .and_then(|p| p.get("disable_scale_in"))
        .is_some_and(|v| *v != Value::Null);
    Attrs::new()
        .set("target_value", t.target_value())
        .opt("predefined_metric_specification", metric)
        .opt("scale_in_cooldown", t.scale_in_cooldown().map(f64::from))
        .opt("scale_out_cooldown", t.scale_out_cooldown().map(f64::from))
        .opt(
            "disable_scale_in",
            (disable || spelled).then_some(Value::Bool(disable)),
        )
        .build()
}

fn attributes(p: &ScalingPolicy, key: &TargetKey, prior: &Value) -> Value {
    let id = format!("{}/{}", key.id(), p.policy_name());
    key.attrs(Attrs::new())
        .set("id", id)
        .set("name", p.policy_name())
        .set("arn", p.policy_arn())
        .set("policy_type", p.policy_type().as_str())
        .opt(
            CONFIG,
            p.target_tracking_scaling_policy_configuration()
                .map(|t| configuration_value(t, prior)),
        )
        .set(
            "alarm_arns",
            string_list(p.alarms().iter().map(|a| a.alarm_arn().to_string())),
        )
        .build()
}

#[async_trait]
impl Resource for Policy {
    fn schema(&self) -> Schema {
        let metric = AttrType::Object(BTreeMap::from([
            ("predefined_metric_type".to_string(), AttrType::String),
            ("resource_label".to_string(), AttrType::String),
        ]));
        let tracking = AttrType::Object(BTreeMap::from([
            ("target_value".to_string(), AttrType::Number),
            ("predefined_metric_specification".to_string(), metric),
            ("scale_in_cooldown".to_string(), AttrType::Number),
            ("scale_out_cooldown".to_string(), AttrType::Number),
            ("disable_scale_in".to_string(), AttrType::Bool),
        ]));
        target_attrs(
            Schema::resource(PROVIDER, TYPE)
                .import_id("SERVICE_NAMESPACE/RESOURCE_ID/SCALABLE_DIMENSION/POLICY_NAME")
                .describe("An Application Auto Scaling target tracking policy"),
        )
        .attr(AttrSchema::required("name", AttrType::String).force_new())
        .attr(
            AttrSchema::optional("policy_type", AttrType::String)
                .default("StepScaling")
                .force_new()
                .describe("`TargetTrackingScaling` (StepScaling, Terraform's default, is not mapped yet)"),
        )
        .attr(
            AttrSchema::optional(CONFIG, tracking).describe(
                "`{ target_value, predefined_metric_specification: { predefined_metric_type: ECSServiceAverageCPUUtilization }, scale_in_cooldown, scale_out_cooldown }`",
            ),
        )
        .attr(id_schema())
        .attr(arn_schema())
        .attr(AttrSchema::computed(
            "alarm_arns",
            AttrType::List(Box::new(AttrType::String)),
        ))
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let wanted = keyed(items, TYPE, true);
        let mut namespaces: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (key, name) in wanted.keys() {
            namespaces
                .entry(key.namespace.as_str())
                .or_default()
                .push(name.clone());
        }
        let mut found = BTreeMap::new();
        for (namespace, mut names) in namespaces {
            names.sort();
            names.dedup();
            for chunk in names.chunks(CHUNK) {
                let policies = all_pages(|token| async move {
                    let out = aws
                        .autoscaling
                        .describe_scaling_policies()
                        .service_namespace(
                            aws_sdk_applicationautoscaling::types::ServiceNamespace::from(
                                namespace,
                            ),
                        )
                        .set_policy_names(Some(chunk.to_vec()))
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(|e| sdk_error("DescribeScalingPolicies", e))?;
                    Ok((out.scaling_policies.unwrap_or_default(), out.next_token))
                })
                .await?;
                for p in policies {
                    let key = TargetKey {
                        namespace: p.service_namespace().as_str().to_string(),
                        resource_id: p.resource_id().to_string(),
                        dimension: p.scalable_dimension().as_str().to_string(),
                    };
                    let Some(item) = wanted.get(&(key.clone(), p.policy_name().to_string())) else {
                        continue;
                    };
                    let attributes = attributes(&p, &key, &item.prior);
                    found.insert(
                        item.address.clone(),
                        ReadResult {
                            id: format!("{}/{}", key.id(), p.policy_name()),
                            attributes,
                        },
                    );
                }
            }
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        put(aws, &req.config).await
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        put(aws, &req.config).await.map(|_| ())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let (target, name) = req
            .id
            .rsplit_once('/')
            .and_then(|(t, n)| Some((TargetKey::parse(t)?, n)))
            .ok_or_else(|| invalid(TYPE, format!("id {:?} is not a policy id", req.id)))?;
        aws.autoscaling
            .delete_scaling_policy()
            .policy_name(name)
            .service_namespace(target.ns())
            .resource_id(&target.resource_id)
            .scalable_dimension(target.dim())
            .send()
            .await
            .map_err(|e| sdk_error("DeleteScalingPolicy", e))?;
        Ok(())
    }
}

/// PutScalingPolicy: creates the policy or replaces its configuration. Returns the id.
async fn put(aws: &Clients, c: &Value) -> Result<String, ProviderError> {
    let key = TargetKey::of(TYPE, c)?;
    let name = required(TYPE, c, "name")?;
    let policy_type = text(c, "policy_type").unwrap_or("StepScaling");
    if policy_type != "TargetTrackingScaling" {
        return Err(invalid(
            TYPE,
            format!(
                "`policy_type` {policy_type} is not supported yet; use TargetTrackingScaling with `{CONFIG}`"
            ),
        ));
    }
    aws.autoscaling
        .put_scaling_policy()
        .policy_name(name)
        .service_namespace(key.ns())
        .resource_id(&key.resource_id)
        .scalable_dimension(key.dim())
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(configuration(c)?)
        .send()
        .await
        .map_err(|e| sdk_error("PutScalingPolicy", e))?;
    Ok(format!("{}/{name}", key.id()))
}
