//! `aws_lb_listener_rule`: a rule of a listener that routes requests matching path patterns or
//! host headers. Its id is its ARN, which is also how it is imported (the listener's ARN is
//! derived from it).
//!
//! Refresh: one DescribeRules and one DescribeTags per 20 ARNs.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    HostHeaderConditionConfig, PathPatternConditionConfig, Rule, RuleCondition, RulePriorityPair,
};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, id_schema, number, required, tags_schema};
use crate::config::Clients;
use crate::elbv2::{
    action_type, actions_from, actions_value, describe_chunked, elb_error, elb_tags, find_owned,
    prior_order, strings, sync_tags, tags_by_arn,
};
use crate::errors::invalid;
use crate::tagging::with_owner;

pub struct ListenerRule;

const TYPE: &str = "aws_lb_listener_rule";
/// Condition block → ELB field.
const FIELDS: [(&str, &str); 2] = [
    ("path_pattern", "path-pattern"),
    ("host_header", "host-header"),
];

fn condition_type() -> AttrType {
    let values = || {
        AttrType::Object(BTreeMap::from([(
            "values".to_string(),
            AttrType::List(Box::new(AttrType::String)),
        )]))
    };
    AttrType::List(Box::new(AttrType::Object(BTreeMap::from([
        ("path_pattern".to_string(), values()),
        ("host_header".to_string(), values()),
    ]))))
}

/// The listener of a rule, from the rule's ARN:
/// `...:listener-rule/app/NAME/LB/LISTENER/RULE` → `...:listener/app/NAME/LB/LISTENER`.
fn listener_of(rule_arn: &str) -> Option<String> {
    let (head, _) = rule_arn.rsplit_once('/')?;
    head.contains(":listener-rule/")
        .then(|| head.replacen(":listener-rule/", ":listener/", 1))
}

fn conditions_from(config: &Value) -> Result<Vec<RuleCondition>, ProviderError> {
    let blocks = config
        .get("condition")
        .map(Value::expose)
        .and_then(Value::as_list)
        .unwrap_or_default();
    let mut out = Vec::new();
    for block in blocks {
        let mut any = false;
        for (name, field) in FIELDS {
            let Some(inner) = block.expose().get(name).map(Value::expose) else {
                continue;
            };
            if matches!(inner, Value::Null) {
                continue;
            }
            any = true;
            let values = strings(inner, "values");
            let condition = RuleCondition::builder().field(field);
            let condition = if name == "path_pattern" {
                condition.path_pattern_config(
                    PathPatternConditionConfig::builder()
                        .set_values(Some(values))
                        .build(),
                )
            } else {
                condition.host_header_config(
                    HostHeaderConditionConfig::builder()
                        .set_values(Some(values))
                        .build(),
                )
            };
            out.push(condition.build());
        }
        if !any {
            return Err(invalid(
                TYPE,
                "each `condition` needs `path_pattern` or `host_header` with `values`",
            ));
        }
    }
    if out.is_empty() {
        return Err(invalid(TYPE, "a rule needs at least one `condition`"));
    }
    Ok(out)
}

fn conditions_value(conditions: &[RuleCondition], prior: Option<&Value>) -> Value {
    let prior = prior
        .map(Value::expose)
        .and_then(Value::as_list)
        .unwrap_or_default();
    Value::List(
        conditions
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let (name, _) = FIELDS.iter().find(|(_, f)| Some(*f) == c.field())?;
                let values = match *name {
                    "path_pattern" => c.path_pattern_config().map(|p| p.values().to_vec()),
                    _ => c.host_header_config().map(|h| h.values().to_vec()),
                }
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| c.values().to_vec());
                let before = prior
                    .get(i)
                    .and_then(|p| p.expose().get(name))
                    .map(|b| strings(b.expose(), "values"))
                    .unwrap_or_default();
                let values = Value::List(
                    prior_order(values, &before)
                        .into_iter()
                        .map(Value::String)
                        .collect(),
                );
                Some(
                    Attrs::new()
                        .set(name, Attrs::new().set("values", values).build())
                        .build(),
                )
            })
            .collect(),
    )
}

#[async_trait]
impl Resource for ListenerRule {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("RULE_ARN")
            .describe("A routing rule of a load balancer listener")
            .attr(AttrSchema::required("listener_arn", AttrType::String).force_new())
            .attr(
                AttrSchema::optional_computed("priority", AttrType::Number)
                    .describe("1 to 50000; the next free one when not set"),
            )
            .attr(AttrSchema::required("action", action_type()))
            .attr(AttrSchema::required("condition", condition_type()))
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
    }

    async fn find_pending(
        &self,
        aws: &Clients,
        pending: &[&ReadItem],
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        find_owned(aws, pending, Some("listener_arn"), |parent, marker| {
            let client = aws.elbv2.clone();
            async move {
                let out = client
                    .describe_rules()
                    .set_listener_arn(parent)
                    .set_marker(marker)
                    .send()
                    .await
                    .map_err(|e| elb_error("DescribeRules", e))?;
                let arns = out
                    .rules()
                    .iter()
                    .filter_map(|x| x.rule_arn().map(String::from))
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
        let rules = describe_chunked(arns, move |chunk| {
            let client = client.clone();
            async move {
                let out = client
                    .describe_rules()
                    .set_rule_arns(Some(chunk))
                    .send()
                    .await
                    .map_err(|e| elb_error("DescribeRules", e))?;
                Ok(out.rules.unwrap_or_default())
            }
        })
        .await?;
        let arns: Vec<String> = rules
            .iter()
            .filter_map(|r| r.rule_arn().map(String::from))
            .collect();
        let tags = tags_by_arn(aws, &arns).await?;
        let by_arn: BTreeMap<&str, &Rule> = rules
            .iter()
            .filter_map(|r| Some((r.rule_arn()?, r)))
            .collect();
        let mut found = BTreeMap::new();
        for item in items {
            let Some(arn) = item.id.as_deref() else {
                continue;
            };
            let Some(r) = by_arn.get(arn) else { continue };
            let attributes = Attrs::new()
                .set("id", arn)
                .set("arn", arn)
                .opt("listener_arn", listener_of(arn))
                .opt("priority", r.priority().and_then(|p| p.parse::<f64>().ok()))
                .set(
                    "action",
                    actions_value(r.actions(), item.prior.get("action")),
                )
                .set(
                    "condition",
                    conditions_value(r.conditions(), item.prior.get("condition")),
                )
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
        let listener = required(TYPE, c, "listener_arn")?;
        let priority = match number(c, "priority") {
            Some(p) => p,
            None => next_priority(aws, listener).await?,
        };
        let out = aws
            .elbv2
            .create_rule()
            .listener_arn(listener)
            .priority(priority)
            .set_conditions(Some(conditions_from(c)?))
            .set_actions(Some(actions_from(TYPE, c, "action")?))
            .set_tags(Some(elb_tags(with_owner(c, &req.address))))
            .send()
            .await
            .map_err(|e| elb_error("CreateRule", e))?;
        out.rules()
            .first()
            .and_then(|r| r.rule_arn())
            .map(String::from)
            .ok_or_else(|| ProviderError::new(ErrorKind::Other, "CreateRule returned no ARN"))
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let c = &req.config;
        let changed = |attr: &str| req.changed.iter().any(|a| a == attr);
        if changed("priority")
            && let Some(priority) = number(c, "priority")
        {
            aws.elbv2
                .set_rule_priorities()
                .rule_priorities(
                    RulePriorityPair::builder()
                        .rule_arn(&req.id)
                        .priority(priority)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| elb_error("SetRulePriorities", e))?;
        }
        if changed("action") || changed("condition") {
            aws.elbv2
                .modify_rule()
                .rule_arn(&req.id)
                .set_conditions(Some(conditions_from(c)?))
                .set_actions(Some(actions_from(TYPE, c, "action")?))
                .send()
                .await
                .map_err(|e| elb_error("ModifyRule", e))?;
        }
        if changed("tags") {
            sync_tags(aws, &req.id, &req.prior, c).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        match aws
            .elbv2
            .delete_rule()
            .rule_arn(&req.id)
            .send()
            .await
            .map_err(|e| elb_error("DeleteRule", e))
        {
            Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
            Ok(_) => Ok(()),
        }
    }
}

/// One more than the highest priority the listener's rules use, as Terraform picks it.
async fn next_priority(aws: &Clients, listener: &str) -> Result<i32, ProviderError> {
    let out = aws
        .elbv2
        .describe_rules()
        .listener_arn(listener)
        .send()
        .await
        .map_err(|e| elb_error("DescribeRules", e))?;
    let highest = out
        .rules()
        .iter()
        .filter_map(|r| r.priority()?.parse::<i32>().ok())
        .max()
        .unwrap_or(0);
    Ok(highest + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_arn_names_its_listener() {
        assert_eq!(
            listener_of(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
            )
            .as_deref(),
            Some(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2"
            )
        );
        assert_eq!(listener_of("not-an-arn"), None);
    }
}
