//! `aws_s3_bucket`: a bucket, named by `bucket` (its id). Versioning, public access and the other
//! bucket settings are separate resources, as in Terraform's AWS provider v4+.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier, Tag, Tagging,
};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{
    ADDRESS_TAG, Attrs, arn_schema, flag, id_schema, required, tags, tags_schema, tags_value,
};
use crate::config::Clients;
use crate::errors::sdk_error;
use crate::s3::read_each;

pub struct Bucket;

const TYPE: &str = "aws_s3_bucket";

#[async_trait]
impl Resource for Bucket {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("BUCKET_NAME")
            .describe("An S3 bucket")
            .attr(
                AttrSchema::required("bucket", AttrType::String)
                    .force_new()
                    .describe("The bucket's globally unique name"),
            )
            .attr(
                AttrSchema::optional("force_destroy", AttrType::Bool)
                    .default(false)
                    .describe("Delete every object (and version) when the bucket is destroyed"),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed("bucket_domain_name", AttrType::String))
            .attr(AttrSchema::computed(
                "bucket_regional_domain_name",
                AttrType::String,
            ))
            .attr(AttrSchema::computed("region", AttrType::String))
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let region = aws.region.clone();
        read_each(&aws.s3, items, move |s3, bucket, item| {
            let region = region.clone();
            async move {
                s3.head_bucket()
                    .bucket(&bucket)
                    .send()
                    .await
                    .map_err(|e| sdk_error("HeadBucket", e))?;
                let tags = tag_set(&s3, &bucket).await?;
                let owner = address_tag(&tags);
                // A pending create is ours if it carries our address, or no owner at all: the
                // bucket is tagged in a second call after CreateBucket, and a crash between the
                // two leaves it untagged (this account owns it, and a create of this very name
                // was under way). One that names another owner is not ours, and neither is an
                // untagged one made before the create's intent was recorded: that bucket was
                // there already (the crash came before the create looked and refused it).
                if item.id.is_none() {
                    match owner {
                        Some(o) if o != item.address => return Ok(None),
                        None if made_before(&s3, &bucket, item.since).await? => return Ok(None),
                        _ => {}
                    }
                }
                Ok(Some(
                    Attrs::new()
                        .set("id", bucket.as_str())
                        .set("bucket", bucket.as_str())
                        .set("arn", format!("arn:aws:s3:::{bucket}"))
                        .set("force_destroy", flag(&item.prior, "force_destroy", false))
                        .set(
                            "tags",
                            tags_value(tags.iter().map(|t| (t.key.as_str(), t.value.as_str()))),
                        )
                        .set("bucket_domain_name", format!("{bucket}.s3.amazonaws.com"))
                        .set(
                            "bucket_regional_domain_name",
                            format!("{bucket}.s3.{region}.amazonaws.com"),
                        )
                        .set("region", region)
                        .build(),
                ))
            }
        })
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let bucket = required(TYPE, &req.config, "bucket")?;
        // A bucket of this name that exists already is not taken over: AWS answers a create of
        // a bucket this account owns with success in us-east-1 and with "already owned by
        // you" elsewhere, and cairn would then manage (and one day delete) a bucket it never
        // made. One that carries this address is ours: a create an earlier run cut short.
        match owner(aws, bucket).await? {
            Owner::NoBucket => {}
            Owner::Tagged(owner) if owner == req.address => {
                put_tags(aws, bucket, &req.config, &req.address).await?;
                return Ok(bucket.to_string());
            }
            other => {
                let whose = match other {
                    Owner::Tagged(owner) => format!("cairn manages it as {owner}"),
                    Owner::AnotherAccount => "another AWS account owns it".to_string(),
                    _ => "this account has it, and cairn did not create it".to_string(),
                };
                return Err(ProviderError::new(
                    ErrorKind::Invalid,
                    format!(
                        "the bucket `{bucket}` already exists ({whose}): bring it under {} with `cairn import {} {bucket}`, or choose another name",
                        req.address, req.address
                    ),
                ));
            }
        }
        let mut call = aws.s3.create_bucket().bucket(bucket);
        // us-east-1 is the one region that rejects its own name as a location constraint.
        if aws.region != "us-east-1" {
            call = call.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(aws.region.as_str()))
                    .build(),
            );
        }
        call.send()
            .await
            .map_err(|e| sdk_error("CreateBucket", e))?;
        put_tags(aws, bucket, &req.config, &req.address).await?;
        Ok(bucket.to_string())
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        // `force_destroy` lives only in cairn's state: nothing to send for it.
        if req.changed.iter().any(|a| a == "tags") {
            put_tags(aws, &req.id, &req.config, &req.address).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        if flag(&req.prior, "force_destroy", false) {
            empty_bucket(aws, &req.id).await?;
        }
        aws.s3
            .delete_bucket()
            .bucket(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteBucket", e))?;
        Ok(())
    }
}

/// Who a bucket of some name belongs to, as far as cairn can tell before creating it.
enum Owner {
    NoBucket,
    /// The ownership tag names this address.
    Tagged(String),
    Untagged,
    AnotherAccount,
}

async fn owner(aws: &Clients, bucket: &str) -> Result<Owner, ProviderError> {
    if let Err(e) = aws.s3.head_bucket().bucket(bucket).send().await {
        let e = sdk_error("HeadBucket", e);
        return match e.kind {
            ErrorKind::NotFound => Ok(Owner::NoBucket),
            ErrorKind::AccessDenied => Ok(Owner::AnotherAccount),
            _ => Err(e),
        };
    }
    Ok(address_tag(&tag_set(&aws.s3, bucket).await?)
        .map_or(Owner::Untagged, |owner| Owner::Tagged(owner.to_string())))
}

/// The address the ownership tag names, if the bucket has one.
fn address_tag(tags: &[Tag]) -> Option<&str> {
    tags.iter()
        .find(|t| t.key == ADDRESS_TAG)
        .map(|t| t.value.as_str())
}

/// How far the cloud's clock may be behind ours when a bucket's creation date is compared with
/// the time an intent was recorded. Too small a margin only refuses (with the import command to
/// run) a bucket an interrupted create did make; too large a one would take over a hand-made
/// bucket made that much earlier.
const CLOCK_MARGIN_SECS: i64 = 5;

/// Whether `bucket` was made before `since` (seconds since the Unix epoch), by its creation
/// date in ListBuckets. Without a time to compare with, or a date, nothing says it was.
async fn made_before(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    since: Option<u64>,
) -> Result<bool, ProviderError> {
    let Some(since) = since.and_then(|s| i64::try_from(s).ok()) else {
        return Ok(false);
    };
    let mut continuation: Option<String> = None;
    loop {
        let page = s3
            .list_buckets()
            .prefix(bucket)
            .set_continuation_token(continuation.take())
            .send()
            .await
            .map_err(|e| sdk_error("ListBuckets", e))?;
        if let Some(found) = page.buckets().iter().find(|b| b.name() == Some(bucket)) {
            return Ok(found
                .creation_date()
                .is_some_and(|made| made.secs() < since - CLOCK_MARGIN_SECS));
        }
        match page.continuation_token() {
            Some(next) if !next.is_empty() => continuation = Some(next.to_string()),
            _ => return Ok(false),
        }
    }
}

/// A bucket's tags; none when it has no tag set (S3 answers that with an error).
async fn tag_set(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<Vec<Tag>, ProviderError> {
    match s3.get_bucket_tagging().bucket(bucket).send().await {
        Ok(out) => Ok(out.tag_set),
        Err(e) => {
            let e = sdk_error("GetBucketTagging", e);
            if e.message.contains("NoSuchTagSet") {
                Ok(Vec::new())
            } else {
                Err(e)
            }
        }
    }
}

/// Replaces the bucket's tags with the configuration's plus the ownership tag.
async fn put_tags(
    aws: &Clients,
    bucket: &str,
    config: &Value,
    address: &str,
) -> Result<(), ProviderError> {
    let mut set = Vec::new();
    for (k, v) in tags(config)
        .into_iter()
        .chain([(ADDRESS_TAG.to_string(), address.to_string())])
    {
        set.push(
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| ProviderError::new(ErrorKind::Invalid, format!("{TYPE}: {e}")))?,
        );
    }
    let tagging = Tagging::builder()
        .set_tag_set(Some(set))
        .build()
        .map_err(|e| ProviderError::new(ErrorKind::Invalid, format!("{TYPE}: {e}")))?;
    aws.s3
        .put_bucket_tagging()
        .bucket(bucket)
        .tagging(tagging)
        .send()
        .await
        .map_err(|e| sdk_error("PutBucketTagging", e))?;
    Ok(())
}

/// Deletes every object version and delete marker, a listing page (up to 1000) at a time.
async fn empty_bucket(aws: &Clients, bucket: &str) -> Result<(), ProviderError> {
    loop {
        let out = aws
            .s3
            .list_object_versions()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| sdk_error("ListObjectVersions", e))?;
        let mut objects = Vec::new();
        let versions = out.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = out
            .delete_markers()
            .iter()
            .map(|m| (m.key(), m.version_id()));
        for (key, version) in versions.chain(markers) {
            let Some(key) = key else { continue };
            objects.push(
                ObjectIdentifier::builder()
                    .key(key)
                    .set_version_id(version.map(String::from))
                    .build()
                    .map_err(|e| ProviderError::new(ErrorKind::Other, e.to_string()))?,
            );
        }
        if objects.is_empty() {
            return Ok(());
        }
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| ProviderError::new(ErrorKind::Other, e.to_string()))?;
        aws.s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteObjects", e))?;
    }
}
