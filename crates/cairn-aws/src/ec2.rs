//! What the EC2 types share: tag specifications, tag updates, and the batched read of one type
//! by ids (chunked to the 200 filter values EC2 accepts) and, for creates that may have
//! completed unrecorded, by the ownership tag.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use cairn_provider::provider::{ProviderError, ReadItem};
use cairn_provider::value::Value;

use crate::attrs::{ADDRESS_TAG, tags};
use crate::errors::sdk_error;

/// EC2 accepts at most 200 values per filter.
pub const CHUNK: usize = 200;

pub fn filter(name: &str, values: &[String]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.to_vec()))
        .build()
}

/// The tags a create sets: the configuration's plus the ownership tag.
pub fn tag_spec(kind: ResourceType, config: &Value, address: &str) -> TagSpecification {
    let mut builder = TagSpecification::builder().resource_type(kind);
    for (k, v) in tags(config) {
        builder = builder.tags(Tag::builder().key(k).value(v).build());
    }
    builder
        .tags(Tag::builder().key(ADDRESS_TAG).value(address).build())
        .build()
}

pub fn tag_pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter()
        .filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())))
}

pub fn owner_address(tags: &[Tag]) -> Option<&str> {
    tag_pairs(tags)
        .find(|(k, _)| *k == ADDRESS_TAG)
        .map(|(_, v)| v)
}

/// Brings a resource's tags from `prior` to `config` (never touching the ownership tag).
pub async fn sync_tags(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
    prior: &Value,
    config: &Value,
) -> Result<(), ProviderError> {
    let before = tags(prior);
    let after = tags(config);
    let removed: Vec<Tag> = before
        .keys()
        .filter(|k| !after.contains_key(*k) && k.as_str() != ADDRESS_TAG)
        .map(|k| Tag::builder().key(k).build())
        .collect();
    let set: Vec<Tag> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    if !removed.is_empty() {
        ec2.delete_tags()
            .resources(id)
            .set_tags(Some(removed))
            .send()
            .await
            .map_err(|e| sdk_error("DeleteTags", e))?;
    }
    if !set.is_empty() {
        ec2.create_tags()
            .resources(id)
            .set_tags(Some(set))
            .send()
            .await
            .map_err(|e| sdk_error("CreateTags", e))?;
    }
    Ok(())
}

/// Finds the instances of `items` with one `describe` per chunk of ids (`id_filter` names the
/// id filter, such as `subnet-id`), plus one per chunk of pending creates by ownership tag.
/// Returns the objects by address; absent addresses are gone.
///
/// Filters rather than the `*Ids` parameters: an id list with one deleted id fails the whole
/// call with `*.NotFound`, a filter just leaves it out.
pub async fn batched<T, F, Fut>(
    items: &[ReadItem],
    id_filter: &str,
    describe: F,
    id_of: fn(&T) -> Option<&str>,
    tags_of: fn(&T) -> &[Tag],
) -> Result<BTreeMap<String, T>, ProviderError>
where
    F: Fn(Filter) -> Fut,
    Fut: Future<Output = Result<Vec<T>, ProviderError>>,
{
    let mut found = BTreeMap::new();
    let with_id: Vec<(&str, &str)> = items
        .iter()
        .filter_map(|i| Some((i.address.as_str(), i.id.as_deref()?)))
        .collect();
    for chunk in with_id.chunks(CHUNK) {
        let ids: Vec<String> = chunk.iter().map(|(_, id)| id.to_string()).collect();
        let mut by_id: BTreeMap<String, T> = describe(filter(id_filter, &ids))
            .await?
            .into_iter()
            .filter_map(|o| Some((id_of(&o)?.to_string(), o)))
            .collect();
        for (address, id) in chunk {
            if let Some(object) = by_id.remove(*id) {
                found.insert(address.to_string(), object);
            }
        }
    }
    // Pending creates: every object carrying the ownership tag, matched here. A `tag:KEY`
    // filter on the addresses themselves would be one call, but emulators treat the brackets
    // of `subnet["a"]` as a wildcard pattern and find nothing; this path only runs after a
    // crash, so its cost matters less than finding the object.
    let pending: BTreeSet<&str> = items
        .iter()
        .filter(|i| i.id.is_none() && i.token.is_some())
        .map(|i| i.address.as_str())
        .collect();
    if !pending.is_empty() {
        for object in describe(filter("tag-key", &[ADDRESS_TAG.to_string()])).await? {
            if let Some(address) = owner_address(tags_of(&object)).filter(|a| pending.contains(a)) {
                found.insert(address.to_string(), object);
            }
        }
    }
    Ok(found)
}

/// An ARN of an EC2 resource (`vpc`, `subnet`, ...), as AWS forms them.
pub fn arn(region: &str, owner: &str, kind: &str, id: &str) -> String {
    format!("arn:aws:ec2:{region}:{owner}:{kind}/{id}")
}
