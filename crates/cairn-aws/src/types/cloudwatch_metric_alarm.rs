//! `aws_cloudwatch_metric_alarm`: an alarm on one metric (the seed's CPU, memory, latency and
//! error thresholds). Its id is the alarm name, which is also how it is imported.
//!
//! Refresh: DescribeAlarms by name, 100 names per call and page; tags come from one
//! ListTagsForResource per alarm, concurrently, bounded. PutMetricAlarm both creates and updates
//! (it replaces the whole definition), so an update sends the full configuration; tags of an
//! existing alarm change only through TagResource/UntagResource.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StandardUnit, Statistic, Tag};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{
    ADDRESS_TAG, Attrs, arn_schema, id_schema, number, required, string_list, tags_schema,
    tags_value, text,
};
use crate::config::Clients;
use crate::each::read_each;
use crate::errors::{invalid, sdk_error};
use crate::paginate::all_pages;
use crate::tagging::{tag_changes, with_owner};

pub struct MetricAlarm;

const TYPE: &str = "aws_cloudwatch_metric_alarm";
/// Names per DescribeAlarms call.
const CHUNK: usize = 100;
const ACTIONS: [&str; 3] = ["alarm_actions", "ok_actions", "insufficient_data_actions"];

fn strings(config: &Value, name: &str) -> Vec<String> {
    config
        .get(name)
        .and_then(Value::as_list)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.expose().as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn cw_tags(tags: BTreeMap<String, String>) -> Vec<Tag> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// PutMetricAlarm with the whole configuration: it creates, or replaces the definition.
async fn put(aws: &Clients, c: &Value, tags: Option<Vec<Tag>>) -> Result<(), ProviderError> {
    let name = required(TYPE, c, "alarm_name")?;
    let dimensions: Vec<Dimension> = c
        .get("dimensions")
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    let v = v.expose().as_str()?;
                    Some(Dimension::builder().name(k).value(v).build())
                })
                .collect()
        })
        .unwrap_or_default();
    let threshold = c
        .get("threshold")
        .map(Value::expose)
        .and_then(Value::as_f64);
    let mut call = aws
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .comparison_operator(ComparisonOperator::from(required(
            TYPE,
            c,
            "comparison_operator",
        )?))
        .evaluation_periods(
            number(c, "evaluation_periods")
                .ok_or_else(|| invalid(TYPE, "`evaluation_periods` is required"))?,
        )
        .set_metric_name(text(c, "metric_name").map(String::from))
        .set_namespace(text(c, "namespace").map(String::from))
        .set_period(number(c, "period"))
        .set_statistic(text(c, "statistic").map(Statistic::from))
        .set_threshold(threshold)
        .set_alarm_description(text(c, "alarm_description").map(String::from))
        .actions_enabled(
            c.get("actions_enabled")
                .map(Value::expose)
                .and_then(Value::as_bool)
                .unwrap_or(true),
        )
        .set_alarm_actions(Some(strings(c, "alarm_actions")))
        .set_ok_actions(Some(strings(c, "ok_actions")))
        .set_insufficient_data_actions(Some(strings(c, "insufficient_data_actions")))
        .set_dimensions(Some(dimensions))
        .set_datapoints_to_alarm(number(c, "datapoints_to_alarm"))
        .treat_missing_data(text(c, "treat_missing_data").unwrap_or("missing"))
        .set_unit(text(c, "unit").map(StandardUnit::from));
    if let Some(tags) = tags {
        call = call.set_tags(Some(tags));
    }
    call.send()
        .await
        .map_err(|e| sdk_error("PutMetricAlarm", e))?;
    Ok(())
}

#[async_trait]
impl Resource for MetricAlarm {
    fn schema(&self) -> Schema {
        let strings = || AttrType::List(Box::new(AttrType::String));
        let mut schema = Schema::resource(PROVIDER, TYPE)
            .import_id("ALARM_NAME")
            .describe("A CloudWatch alarm on one metric")
            .attr(AttrSchema::required("alarm_name", AttrType::String).force_new())
            .attr(
                AttrSchema::required("comparison_operator", AttrType::String)
                    .describe("GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold"),
            )
            .attr(AttrSchema::required("evaluation_periods", AttrType::Number))
            .attr(AttrSchema::optional("metric_name", AttrType::String))
            .attr(AttrSchema::optional("namespace", AttrType::String))
            .attr(AttrSchema::optional("period", AttrType::Number))
            .attr(
                AttrSchema::optional("statistic", AttrType::String)
                    .describe("SampleCount, Average, Sum, Minimum, Maximum"),
            )
            .attr(AttrSchema::optional("threshold", AttrType::Number))
            .attr(AttrSchema::optional("alarm_description", AttrType::String))
            .attr(AttrSchema::optional("actions_enabled", AttrType::Bool).default(true))
            .attr(AttrSchema::optional(
                "dimensions",
                AttrType::Map(Box::new(AttrType::String)),
            ))
            .attr(AttrSchema::optional("datapoints_to_alarm", AttrType::Number))
            .attr(
                AttrSchema::optional("treat_missing_data", AttrType::String)
                    .default("missing")
                    .describe("missing, ignore, breaching, notBreaching"),
            )
            .attr(AttrSchema::optional("unit", AttrType::String));
        for name in ACTIONS {
            schema = schema.attr(AttrSchema::optional(name, strings()));
        }
        schema
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        // By name: the id once recorded, the configured name for a create that may have
        // happened unrecorded (kept only if it carries our ownership tag).
        let wanted: BTreeMap<String, &ReadItem> = items
            .iter()
            .filter_map(|i| {
                let name = match (&i.id, &i.token) {
                    (Some(id), _) => id.clone(),
                    (None, Some(_)) => text(&i.prior, "alarm_name")?.to_string(),
                    (None, None) => return None,
                };
                Some((name, i))
            })
            .collect();
        let names: Vec<String> = wanted.keys().cloned().collect();
        let mut alarms = Vec::new();
        for chunk in names.chunks(CHUNK) {
            alarms.extend(
                all_pages(|token| {
                    let chunk = chunk.to_vec();
                    async move {
                        let out = aws
                            .cloudwatch
                            .describe_alarms()
                            .set_alarm_names(Some(chunk))
                            .set_next_token(token)
                            .send()
                            .await
                            .map_err(|e| sdk_error("DescribeAlarms", e))?;
                        Ok((out.metric_alarms.unwrap_or_default(), out.next_token))
                    }
                })
                .await?,
            );
        }
        let matched = alarms.into_iter().filter_map(|alarm| {
            let item = wanted.get(alarm.alarm_name()?)?;
            let owner = item.id.is_none().then(|| item.address.clone());
            Some((item.address.clone(), (owner, alarm)))
        });
        let client = aws.cloudwatch.clone();
        read_each(matched, move |(owner, alarm): (Option<String>, _)| {
            let cw = client.clone();
            async move {
                let alarm: aws_sdk_cloudwatch::types::MetricAlarm = alarm;
                let arn = alarm.alarm_arn().unwrap_or_default().to_string();
                let out = cw
                    .list_tags_for_resource()
                    .resource_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| sdk_error("ListTagsForResource", e))?;
                let tags: BTreeMap<String, String> = out
                    .tags()
                    .iter()
                    .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                    .collect();
                if owner.is_some() && tags.get(ADDRESS_TAG) != owner.as_ref() {
                    return Ok(None);
                }
                let name = alarm.alarm_name().unwrap_or_default();
                let dimensions = Value::Map(
                    alarm
                        .dimensions()
                        .iter()
                        .filter_map(|d| Some((d.name()?.to_string(), Value::string(d.value()?))))
                        .collect(),
                );
                let mut attrs = Attrs::new()
                    .set("id", name)
                    .set("arn", arn.as_str())
                    .set("alarm_name", name)
                    .opt(
                        "comparison_operator",
                        alarm.comparison_operator().map(|o| o.as_str()),
                    )
                    .opt(
                        "evaluation_periods",
                        alarm.evaluation_periods().map(|n| Value::Number(n.into())),
                    )
                    .opt("metric_name", alarm.metric_name())
                    .opt("namespace", alarm.namespace())
                    .opt("period", alarm.period().map(|n| Value::Number(n.into())))
                    .opt("statistic", alarm.statistic().map(|s| s.as_str()))
                    .opt("threshold", alarm.threshold().map(Value::Number))
                    .opt("alarm_description", alarm.alarm_description())
                    .set("actions_enabled", alarm.actions_enabled().unwrap_or(true))
                    .set("dimensions", dimensions)
                    .opt(
                        "datapoints_to_alarm",
                        alarm.datapoints_to_alarm().map(|n| Value::Number(n.into())),
                    )
                    .set(
                        "treat_missing_data",
                        alarm.treat_missing_data().unwrap_or("missing"),
                    )
                    .opt("unit", alarm.unit().map(|u| u.as_str()))
                    .set(
                        "tags",
                        tags_value(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
                    );
                attrs = attrs
                    .set("alarm_actions", string_list(alarm.alarm_actions().to_vec()))
                    .set("ok_actions", string_list(alarm.ok_actions().to_vec()))
                    .set(
                        "insufficient_data_actions",
                        string_list(alarm.insufficient_data_actions().to_vec()),
                    );
                Ok(Some(ReadResult {
                    id: name.to_string(),
                    attributes: attrs.build(),
                }))
            }
        })
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        put(
            aws,
            &req.config,
            Some(cw_tags(with_owner(&req.config, &req.address))),
        )
        .await?;
        Ok(required(TYPE, &req.config, "alarm_name")?.to_string())
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        if req.changed.iter().any(|a| a != "tags") {
            put(aws, &req.config, None).await?;
        }
        if req.changed.iter().any(|a| a == "tags") {
            let arn = required(TYPE, &req.prior, "arn")?;
            let edits = tag_changes(&req.prior, &req.config);
            if !edits.removed.is_empty() {
                aws.cloudwatch
                    .untag_resource()
                    .resource_arn(arn)
                    .set_tag_keys(Some(edits.removed))
                    .send()
                    .await
                    .map_err(|e| sdk_error("UntagResource", e))?;
            }
            if !edits.set.is_empty() {
                aws.cloudwatch
                    .tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(cw_tags(edits.set)))
                    .send()
                    .await
                    .map_err(|e| sdk_error("TagResource", e))?;
            }
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        aws.cloudwatch
            .delete_alarms()
            .alarm_names(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteAlarms", e))?;
        Ok(())
    }
}
