//! `aws_s3_bucket_server_side_encryption_configuration`: how a bucket encrypts new objects by
//! default (SSE-S3, SSE-KMS with a key, bucket keys). Its id is the bucket name. Deleting it
//! removes the bucket's configuration, after which AWS applies its own default (SSE-S3).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{id_schema, required, text};
use crate::config::Clients;
use crate::errors::{invalid, sdk_error};
use crate::s3::{already_gone_is_deleted, read_each, rule_settings};

pub struct Encryption;

const TYPE: &str = "aws_s3_bucket_server_side_encryption_configuration";
const ALGORITHMS: [&str; 3] = ["AES256", "aws:kms", "aws:kms:dsse"];

fn rule_type() -> AttrType {
    let by_default = BTreeMap::from([
        ("sse_algorithm".to_string(), AttrType::String),
        ("kms_master_key_id".to_string(), AttrType::String),
    ]);
    AttrType::Object(BTreeMap::from([
        (
            "apply_server_side_encryption_by_default".to_string(),
            AttrType::Object(by_default),
        ),
        ("bucket_key_enabled".to_string(), AttrType::Bool),
    ]))
}

#[async_trait]
impl Resource for Encryption {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("BUCKET_NAME")
            .describe("The default encryption of an S3 bucket")
            .attr(AttrSchema::required("bucket", AttrType::String).force_new())
            .attr(
                AttrSchema::required("rule", AttrType::List(Box::new(rule_type()))).describe(
                    "[{ apply_server_side_encryption_by_default: { sse_algorithm: AES256 | \
                     aws:kms | aws:kms:dsse, kms_master_key_id }, bucket_key_enabled }]",
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
            // A bucket without a configuration answers ServerSideEncryptionConfigurationNotFound
            // with 404, which read_each takes as gone.
            let out = s3
                .get_bucket_encryption()
                .bucket(&bucket)
                .send()
                .await
                .map_err(|e| sdk_error("GetBucketEncryption", e))?;
            let Some(config) = out.server_side_encryption_configuration() else {
                return Ok(None);
            };
            let rules = Value::List(config.rules().iter().map(rule_value).collect());
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
            .delete_bucket_encryption()
            .bucket(&req.id)
            .send()
            .await;
        already_gone_is_deleted(
            deleted
                .map(drop)
                .map_err(|e| sdk_error("DeleteBucketEncryption", e)),
        )
    }
}

fn rule_value(r: &ServerSideEncryptionRule) -> Value {
    let mut rule = BTreeMap::new();
    if let Some(d) = r.apply_server_side_encryption_by_default() {
        let mut by_default = BTreeMap::from([(
            "sse_algorithm".to_string(),
            Value::string(d.sse_algorithm().as_str()),
        )]);
        if let Some(key) = d.kms_master_key_id() {
            by_default.insert("kms_master_key_id".to_string(), Value::string(key));
        }
        rule.insert(
            "apply_server_side_encryption_by_default".to_string(),
            Value::Map(by_default),
        );
    }
    rule.insert(
        "bucket_key_enabled".to_string(),
        Value::Bool(r.bucket_key_enabled().unwrap_or(false)),
    );
    Value::Map(rule)
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
    let configuration = ServerSideEncryptionConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .map_err(|e| invalid(TYPE, e))?;
    aws.s3
        .put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(configuration)
        .send()
        .await
        .map_err(|e| sdk_error("PutBucketEncryption", e))?;
    Ok(())
}

fn build_rule(i: usize, r: &Value) -> Result<ServerSideEncryptionRule, ProviderError> {
    let mut rule = ServerSideEncryptionRule::builder().set_bucket_key_enabled(
        r.get("bucket_key_enabled")
            .and_then(|v| v.expose().as_bool()),
    );
    if let Some(d) = r.get("apply_server_side_encryption_by_default") {
        let algorithm = text(d, "sse_algorithm").ok_or_else(|| {
            invalid(
                TYPE,
                format!(
                    "`rule[{i}].apply_server_side_encryption_by_default.sse_algorithm` is required"
                ),
            )
        })?;
        if !ALGORITHMS.contains(&algorithm) {
            return Err(invalid(
                TYPE,
                format!(
                    "`rule[{i}]`: sse_algorithm `{algorithm}` is not one of {}",
                    ALGORITHMS.join(", ")
                ),
            ));
        }
        let by_default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::from(algorithm))
            .set_kms_master_key_id(text(d, "kms_master_key_id").map(str::to_string))
            .build()
            .map_err(|e| invalid(TYPE, e))?;
        rule = rule.apply_server_side_encryption_by_default(by_default);
    }
    Ok(rule.build())
}
