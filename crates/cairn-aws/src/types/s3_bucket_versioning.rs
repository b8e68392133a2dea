//! `aws_s3_bucket_versioning`: a bucket's versioning state. Its id is the bucket name. A bucket
//! that once had versioning can only suspend it, so deleting this resource suspends it.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, id_schema, required};
use crate::config::Clients;
use crate::errors::{invalid, sdk_error};
use crate::s3::read_each;

pub struct Versioning;

const TYPE: &str = "aws_s3_bucket_versioning";

fn status_of(config: &Value) -> Result<&str, ProviderError> {
    let status = config
        .get("versioning_configuration")
        .and_then(|v| v.get("status"))
        .map(Value::expose)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(TYPE, "`versioning_configuration.status` is required"))?;
    match status {
        "Enabled" | "Suspended" | "Disabled" => Ok(status),
        other => Err(invalid(
            TYPE,
            format!(
                "versioning_configuration.status `{other}` is not one of Enabled, Suspended, Disabled"
            ),
        )),
    }
}

async fn put(
    aws: &Clients,
    bucket: &str,
    status: BucketVersioningStatus,
) -> Result<(), ProviderError> {
    aws.s3
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .map_err(|e| sdk_error("PutBucketVersioning", e))?;
    Ok(())
}

/// The status of a successful answer the SDK could not parse. moto 5.2.1 wraps the
/// `VersioningConfiguration` document in a `GetBucketVersioningResponse` root, which the SDK
/// rejects; the `<Status>` element inside is the same as AWS's.
pub(crate) fn status_from_body<E>(
    err: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> Option<Option<String>> {
    let raw = err.raw_response()?;
    if raw.status().as_u16() != 200 {
        return None;
    }
    let body = std::str::from_utf8(raw.body().bytes()?).ok()?;
    let status = body
        .split_once("<Status>")
        .and_then(|(_, rest)| rest.split_once("</Status>"))
        .map(|(status, _)| status.to_string());
    Some(status)
}

#[async_trait]
impl Resource for Versioning {
    fn schema(&self) -> Schema {
        let config = BTreeMap::from([("status".to_string(), AttrType::String)]);
        Schema::resource(PROVIDER, TYPE)
            .import_id("BUCKET_NAME")
            .describe("The versioning state of an S3 bucket")
            .attr(AttrSchema::required("bucket", AttrType::String).force_new())
            .attr(
                AttrSchema::required("versioning_configuration", AttrType::Object(config))
                    .describe("{ status: Enabled | Suspended | Disabled }"),
            )
            .attr(id_schema())
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        read_each(&aws.s3, items, |s3, bucket, _item| async move {
            let status = match s3.get_bucket_versioning().bucket(&bucket).send().await {
                Ok(out) => out.status().map(|s| s.as_str().to_string()),
                Err(err) => match status_from_body(&err) {
                    Some(status) => status,
                    None => return Err(sdk_error("GetBucketVersioning", err)),
                },
            };
            let status = status.unwrap_or_else(|| "Disabled".to_string());
            let config = Value::Map(BTreeMap::from([(
                "status".to_string(),
                Value::string(status),
            )]));
            Ok(Some(
                Attrs::new()
                    .set("id", bucket.as_str())
                    .set("bucket", bucket.as_str())
                    .set("versioning_configuration", config)
                    .build(),
            ))
        })
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let bucket = required(TYPE, &req.config, "bucket")?;
        match status_of(&req.config)? {
            // Never enabled is the bucket's state already.
            "Disabled" => {}
            status => put(aws, bucket, BucketVersioningStatus::from(status)).await?,
        }
        Ok(bucket.to_string())
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let status = match status_of(&req.config)? {
            "Disabled" => "Suspended",
            other => other,
        };
        put(aws, &req.id, BucketVersioningStatus::from(status)).await
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        if status_of(&req.prior).ok() == Some("Enabled") {
            put(aws, &req.id, BucketVersioningStatus::Suspended).await?;
        }
        Ok(())
    }
}
