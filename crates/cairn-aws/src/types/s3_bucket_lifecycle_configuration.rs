//! `aws_s3_bucket_lifecycle_configuration`: the rules that move a bucket's objects to cheaper
//! storage classes and expire them. One configuration per bucket, written whole by every put;
//! its id is the bucket name. A bucket without one (NoSuchLifecycleConfiguration) means gone.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, NoncurrentVersionExpiration,
    Transition, TransitionStorageClass,
};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{id_schema, number, required, text};
use crate::config::Clients;
use crate::errors::{invalid, sdk_error};
use crate::s3::{already_gone_is_deleted, read_each, rule_settings};

pub struct Lifecycle;

const TYPE: &str = "aws_s3_bucket_lifecycle_configuration";

fn object(fields: &[(&str, AttrType)]) -> AttrType {
    AttrType::Object(
        fields
            .iter()
            .map(|(k, t)| (k.to_string(), t.clone()))
            .collect(),
    )
}

fn rule_type() -> AttrType {
    let n = || AttrType::Number;
    object(&[
        ("id", AttrType::String),
        ("status", AttrType::String),
        ("filter", object(&[("prefix", AttrType::String)])),
        (
            "transition",
            AttrType::List(Box::new(object(&[
                ("days", n()),
                ("storage_class", AttrType::String),
            ]))),
        ),
        ("expiration", object(&[("days", n())])),
        (
            "noncurrent_version_expiration",
            object(&[("noncurrent_days", n())]),
        ),
        (
            "abort_incomplete_multipart_upload",
            object(&[("days_after_initiation", n())]),
        ),
    ])
}

#[async_trait]
impl Resource for Lifecycle {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("BUCKET_NAME")
            .describe("The lifecycle rules of an S3 bucket")
            .attr(AttrSchema::required("bucket", AttrType::String).force_new())
            .attr(
                AttrSchema::required("rule", AttrType::List(Box::new(rule_type()))).describe(
                    "[{ id, status: Enabled | Disabled, filter: { prefix }, transition: [{ days, \
                     storage_class }], expiration: { days }, noncurrent_version_expiration: { \
                     noncurrent_days }, abort_incomplete_multipart_upload: { \
                     days_after_initiation } }]",
                ),
            )
            .attr(id_schema())
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        read_each(&aws.s3, items, |s3, bucket, item| async move {
            let out = s3
                .get_bucket_lifecycle_configuration()
                .bucket(&bucket)
                .send()
                .await
                .map_err(|e| sdk_error("GetBucketLifecycleConfiguration", e))?;
            let rules = Value::List(out.rules().iter().map(rule_value).collect());
            Ok(Some(rule_settings(&bucket, rules, &item.prior)))
        })
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let bucket = required(TYPE, &req.config, "bucket")?;
        put(aws, bucket, &req.config).await?;
        Ok(bucket.to_string())
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        put(aws, &req.id, &req.config).await
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let deleted = aws
            .s3
            .delete_bucket_lifecycle()
            .bucket(&req.id)
            .send()
            .await;
        already_gone_is_deleted(
            deleted
                .map(drop)
                .map_err(|e| sdk_error("DeleteBucketLifecycle", e)),
        )
    }
}

async fn put(aws: &Clients, bucket: &str, config: &Value) -> Result<(), ProviderError> {
    let rules = config
        .get("rule")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, r)| build_rule(i, r))
        .collect::<Result<Vec<_>, _>>()?;
    if rules.is_empty() {
        return Err(invalid(TYPE, "`rule` needs at least one rule"));
    }
    let configuration = BucketLifecycleConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .map_err(|e| invalid(TYPE, e))?;
    aws.s3
        .put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(configuration)
        .send()
        .await
        .map_err(|e| sdk_error("PutBucketLifecycleConfiguration", e))?;
    Ok(())
}

fn build_rule(i: usize, r: &Value) -> Result<LifecycleRule, ProviderError> {
    // Without an id AWS makes one up, which the next plan would want to remove.
    let id = text(r, "id").ok_or_else(|| invalid(TYPE, format!("`rule[{i}].id` is required")))?;
    let status = match text(r, "status") {
        Some(s @ ("Enabled" | "Disabled")) => ExpirationStatus::from(s),
        other => {
            return Err(invalid(
                TYPE,
                format!("`rule[{i}].status` is {other:?}; it must be \"Enabled\" or \"Disabled\""),
            ));
        }
    };
    // A rule without a filter applies to the whole bucket: AWS wants that said as an empty
    // prefix.
    let prefix = r
        .get("filter")
        .and_then(|f| text(f, "prefix"))
        .unwrap_or_default();
    let mut rule = LifecycleRule::builder()
        .id(id)
        .status(status)
        .filter(LifecycleRuleFilter::builder().prefix(prefix).build());
    for t in r
        .get("transition")
        .and_then(Value::as_list)
        .unwrap_or_default()
    {
        let class = text(t, "storage_class").ok_or_else(|| {
            invalid(
                TYPE,
                format!("`rule[{i}].transition[].storage_class` is required"),
            )
        })?;
        rule = rule.transitions(
            Transition::builder()
                .set_days(number(t, "days"))
                .storage_class(TransitionStorageClass::from(class))
                .build(),
        );
    }
    if let Some(days) = r.get("expiration").and_then(|e| number(e, "days")) {
        rule = rule.expiration(LifecycleExpiration::builder().days(days).build());
    }
    if let Some(days) = r
        .get("noncurrent_version_expiration")
        .and_then(|e| number(e, "noncurrent_days"))
    {
        rule = rule.noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(days)
                .build(),
        );
    }
    if let Some(days) = r
        .get("abort_incomplete_multipart_upload")
        .and_then(|e| number(e, "days_after_initiation"))
    {
        rule = rule.abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(days)
                .build(),
        );
    }
    rule.build().map_err(|e| invalid(TYPE, e))
}

fn days(n: Option<i32>) -> Option<Value> {
    n.map(|n| Value::Number(f64::from(n)))
}

fn block(fields: Vec<(&str, Option<Value>)>) -> Value {
    Value::Map(
        fields
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_string(), v?)))
            .collect(),
    )
}

// Rules written before filters existed carry their prefix on the rule itself, which the SDK
// marks deprecated but AWS still returns for them.
#[allow(deprecated)]
fn rule_value(r: &LifecycleRule) -> Value {
    let prefix = r
        .filter()
        .and_then(|f| f.prefix())
        .or_else(|| r.prefix())
        .map(Value::string);
    let transitions = r
        .transitions()
        .iter()
        .map(|t| {
            block(vec![
                ("days", days(t.days())),
                (
                    "storage_class",
                    t.storage_class().map(|c| Value::string(c.as_str())),
                ),
            ])
        })
        .collect();
    block(vec![
        ("id", r.id().map(Value::string)),
        ("status", Some(Value::string(r.status().as_str()))),
        ("filter", Some(block(vec![("prefix", prefix)]))),
        ("transition", Some(Value::List(transitions))),
        (
            "expiration",
            r.expiration()
                .map(|e| block(vec![("days", days(e.days()))])),
        ),
        (
            "noncurrent_version_expiration",
            r.noncurrent_version_expiration()
                .map(|e| block(vec![("noncurrent_days", days(e.noncurrent_days()))])),
        ),
        (
            "abort_incomplete_multipart_upload",
            r.abort_incomplete_multipart_upload().map(|a| {
                block(vec![(
                    "days_after_initiation",
                    days(a.days_after_initiation()),
                )])
            }),
        ),
    ])
}
