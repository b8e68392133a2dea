//! What the ElastiCache types share: tags, which ElastiCache lists and edits by ARN with
//! ListTagsForResource / AddTagsToResource / RemoveTagsFromResource.

use std::collections::BTreeMap;

use aws_sdk_elasticache::types::Tag;
use cairn_provider::provider::ProviderError;
use cairn_provider::value::Value;

use crate::errors::sdk_error;
use crate::tagging::tag_changes;

pub fn ec_tags(tags: BTreeMap<String, String>) -> Vec<Tag> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The tags on `arn`, ownership tag included.
pub async fn tags_of(
    client: &aws_sdk_elasticache::Client,
    arn: &str,
) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = client
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(|e| sdk_error("ListTagsForResource", e))?;
    Ok(out
        .tag_list()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect())
}

/// Brings the tags on `arn` from `prior`'s to `config`'s, leaving the ownership tag alone.
pub async fn sync_tags(
    client: &aws_sdk_elasticache::Client,
    arn: &str,
    prior: &Value,
    config: &Value,
) -> Result<(), ProviderError> {
    let edits = tag_changes(prior, config);
    if !edits.removed.is_empty() {
        client
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(edits.removed))
            .send()
            .await
            .map_err(|e| sdk_error("RemoveTagsFromResource", e))?;
    }
    if !edits.set.is_empty() {
        client
            .add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(ec_tags(edits.set)))
            .send()
            .await
            .map_err(|e| sdk_error("AddTagsToResource", e))?;
    }
    Ok(())
}
