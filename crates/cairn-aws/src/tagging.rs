//! Tag edits for the services whose APIs take tags as key/value pairs and untag by key (IAM,
//! KMS, CloudWatch Logs): what to set and what to remove, never touching the ownership tag.

use std::collections::BTreeMap;

use cairn_provider::value::Value;

use crate::attrs::{ADDRESS_TAG, tags};

/// The tags a create sets: the configuration's plus the ownership tag.
pub fn with_owner(config: &Value, address: &str) -> BTreeMap<String, String> {
    let mut all = tags(config);
    all.insert(ADDRESS_TAG.to_string(), address.to_string());
    all
}

/// What an update from `prior` to `config` changes.
pub struct TagChanges {
    pub removed: Vec<String>,
    pub set: BTreeMap<String, String>,
}

pub fn tag_changes(prior: &Value, config: &Value) -> TagChanges {
    let before = tags(prior);
    let after = tags(config);
    TagChanges {
        removed: before
            .keys()
            .filter(|k| !after.contains_key(*k) && k.as_str() != ADDRESS_TAG)
            .cloned()
            .collect(),
        set: after
            .into_iter()
            .filter(|(k, v)| before.get(k) != Some(v))
            .collect(),
    }
}

/// Tags in IAM's form.
pub fn iam_tags(
    resource_type: &str,
    tags: BTreeMap<String, String>,
) -> Result<Vec<aws_sdk_iam::types::Tag>, cairn_provider::provider::ProviderError> {
    tags.into_iter()
        .map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| crate::errors::invalid(resource_type, e))
        })
        .collect()
}
