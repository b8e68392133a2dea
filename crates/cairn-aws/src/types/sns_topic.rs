//! `aws_sns_topic`: a topic alarms notify. Its id is the topic's ARN, which is also how it is
//! imported.
//!
//! SNS has no batch read (ListTopics names ARNs only), so refresh reads each topic's attributes
//! and tags concurrently, bounded. CreateTopic is idempotent by name, which also makes a retried
//! or unrecorded create safe.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_sns::types::Tag;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, id_schema, required, tags_schema, tags_value, text};
use crate::config::Clients;
use crate::each::read_each;
use crate::errors::{invalid, sdk_error};
use crate::tagging::{tag_changes, with_owner};

pub struct Topic;

const TYPE: &str = "aws_sns_topic";
/// Spec attribute → SNS topic attribute.
const SETTINGS: [(&str, &str); 2] = [
    ("display_name", "DisplayName"),
    ("kms_master_key_id", "KmsMasterKeyId"),
];

fn sns_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| invalid(TYPE, e))
        })
        .collect()
}

#[async_trait]
impl Resource for Topic {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("TOPIC_ARN")
            .describe("An SNS topic")
            .attr(AttrSchema::required("name", AttrType::String).force_new())
            .attr(AttrSchema::optional("display_name", AttrType::String))
            .attr(
                AttrSchema::optional("kms_master_key_id", AttrType::String)
                    .describe("The KMS key that encrypts messages at rest"),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let wanted = items
            .iter()
            .filter_map(|i| Some((i.address.clone(), i.id.clone()?)));
        let client = aws.sns.clone();
        read_each(wanted, move |arn: String| {
            let sns = client.clone();
            async move {
                let out = sns
                    .get_topic_attributes()
                    .topic_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| sdk_error("GetTopicAttributes", e))?;
                let attributes = out.attributes().cloned().unwrap_or_default();
                let tagged = sns
                    .list_tags_for_resource()
                    .resource_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| sdk_error("ListTagsForResource", e))?;
                let tags: Vec<(String, String)> = tagged
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect();
                let name = arn.rsplit(':').next().unwrap_or_default();
                let mut attrs = Attrs::new()
                    .set("id", arn.as_str())
                    .set("arn", arn.as_str())
                    .set("name", name)
                    .set(
                        "tags",
                        tags_value(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
                    );
                for (attr, key) in SETTINGS {
                    attrs = attrs.opt(
                        attr,
                        attributes
                            .get(key)
                            .filter(|v| !v.is_empty())
                            .map(String::as_str),
                    );
                }
                Ok(Some(ReadResult {
                    id: arn.clone(),
                    attributes: attrs.build(),
                }))
            }
        })
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let attributes: HashMap<String, String> = SETTINGS
            .iter()
            .filter_map(|(attr, key)| Some((key.to_string(), text(c, attr)?.to_string())))
            .collect();
        let out = aws
            .sns
            .create_topic()
            .name(required(TYPE, c, "name")?)
            .set_attributes(Some(attributes).filter(|a| !a.is_empty()))
            .set_tags(Some(sns_tags(with_owner(c, &req.address))?))
            .send()
            .await
            .map_err(|e| sdk_error("CreateTopic", e))?;
        out.topic_arn()
            .map(String::from)
            .ok_or_else(|| invalid(TYPE, "CreateTopic returned no ARN"))
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let c = &req.config;
        for (attr, key) in SETTINGS {
            if req.changed.iter().any(|a| a == attr) {
                aws.sns
                    .set_topic_attributes()
                    .topic_arn(&req.id)
                    .attribute_name(key)
                    .attribute_value(text(c, attr).unwrap_or_default())
                    .send()
                    .await
                    .map_err(|e| sdk_error("SetTopicAttributes", e))?;
            }
        }
        if req.changed.iter().any(|a| a == "tags") {
            let edits = tag_changes(&req.prior, c);
            if !edits.removed.is_empty() {
                aws.sns
                    .untag_resource()
                    .resource_arn(&req.id)
                    .set_tag_keys(Some(edits.removed))
                    .send()
                    .await
                    .map_err(|e| sdk_error("UntagResource", e))?;
            }
            if !edits.set.is_empty() {
                aws.sns
                    .tag_resource()
                    .resource_arn(&req.id)
                    .set_tags(Some(sns_tags(edits.set)?))
                    .send()
                    .await
                    .map_err(|e| sdk_error("TagResource", e))?;
            }
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        aws.sns
            .delete_topic()
            .topic_arn(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteTopic", e))?;
        Ok(())
    }
}
