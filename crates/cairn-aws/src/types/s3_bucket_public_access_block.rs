//! `aws_s3_bucket_public_access_block`: the four public-access switches of a bucket. Its id is
//! the bucket name; a bucket without the configuration means the resource is gone.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, flag, id_schema, required};
use crate::config::Clients;
use crate::errors::sdk_error;
use crate::s3::read_each;

pub struct PublicAccessBlock;

const TYPE: &str = "aws_s3_bucket_public_access_block";
const SWITCHES: [&str; 4] = [
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
];

async fn put(aws: &Clients, bucket: &str, c: &Value) -> Result<(), ProviderError> {
    let config = PublicAccessBlockConfiguration::builder()
        .block_public_acls(flag(c, SWITCHES[0], false))
        .block_public_policy(flag(c, SWITCHES[1], false))
        .ignore_public_acls(flag(c, SWITCHES[2], false))
        .restrict_public_buckets(flag(c, SWITCHES[3], false))
        .build();
    aws.s3
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(config)
        .send()
        .await
        .map_err(|e| sdk_error("PutPublicAccessBlock", e))?;
    Ok(())
}

#[async_trait]
impl Resource for PublicAccessBlock {
    fn schema(&self) -> Schema {
        let mut schema = Schema::resource(PROVIDER, TYPE)
            .import_id("BUCKET_NAME")
            .describe("Blocks public access to an S3 bucket")
            .attr(AttrSchema::required("bucket", AttrType::String).force_new());
        for name in SWITCHES {
            schema = schema.attr(AttrSchema::optional(name, AttrType::Bool).default(false));
        }
        schema.attr(id_schema())
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        read_each(&aws.s3, items, |s3, bucket, _item| async move {
            let out = match s3.get_public_access_block().bucket(&bucket).send().await {
                Ok(out) => out,
                Err(e) => {
                    let e = sdk_error("GetPublicAccessBlock", e);
                    if e.message.contains("NoSuchPublicAccessBlockConfiguration") {
                        return Ok(None);
                    }
                    return Err(e);
                }
            };
            let Some(c) = out.public_access_block_configuration() else {
                return Ok(None);
            };
            Ok(Some(
                Attrs::new()
                    .set("id", bucket.as_str())
                    .set("bucket", bucket.as_str())
                    .set(SWITCHES[0], c.block_public_acls().unwrap_or(false))
                    .set(SWITCHES[1], c.block_public_policy().unwrap_or(false))
                    .set(SWITCHES[2], c.ignore_public_acls().unwrap_or(false))
                    .set(SWITCHES[3], c.restrict_public_buckets().unwrap_or(false))
                    .build(),
            ))
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
        match aws
            .s3
            .delete_public_access_block()
            .bucket(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeletePublicAccessBlock", e))
        {
            Err(e) if e.kind != ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
