//! Finding what carries a set of tags, for `cairn drift`'s unmanaged objects: ARM's
//! "Resources - List" (`GET /subscriptions/{s}/resources`) and "Resource Groups - List" (`GET
//! /subscriptions/{s}/resourcegroups`), each filtered by tag and followed through nextLink.
//!
//! ARM takes one tag pair per `$filter`. The first pair is filtered on; when every answer
//! carries its `tags`, those lacking another pair are dropped here. ARM documents that a list
//! filtered by tag name and value leaves the tags out ("the tags for each resource are not
//! returned in the results"), and then nothing can be checked locally: each further pair is
//! listed too and only the ids in every answer are kept.

use std::collections::BTreeMap;

use cairn_provider::provider::TaggedObject;
use serde_json::Value as Json;

use crate::arm::Arm;
use crate::errors::ArmError;

/// "Resources - List"'s api-version.
const RESOURCES_API: &str = "2021-04-01";
/// The resource groups' api-version, the one `azurerm_resource_group` is pinned to.
const GROUPS_API: &str = "2025-04-01";

/// The resources and resource groups of `subscription` that carry every one of `tags`.
pub async fn find(
    arm: &Arm,
    subscription: &str,
    tags: &BTreeMap<String, String>,
) -> Result<Vec<TaggedObject>, ArmError> {
    let mut found = by_tags(
        arm,
        &format!("/subscriptions/{subscription}/resources"),
        RESOURCES_API,
        "Microsoft.Resources/resources",
        tags,
    )
    .await?;
    found.extend(
        by_tags(
            arm,
            &format!("/subscriptions/{subscription}/resourcegroups"),
            GROUPS_API,
            "Microsoft.Resources/resourceGroups",
            tags,
        )
        .await?,
    );
    Ok(found)
}

/// One list (`path`) narrowed to the items carrying every pair of `tags`.
async fn by_tags(
    arm: &Arm,
    path: &str,
    api_version: &str,
    call: &str,
    tags: &BTreeMap<String, String>,
) -> Result<Vec<TaggedObject>, ArmError> {
    let mut pairs = tags.iter();
    let Some((name, value)) = pairs.next() else {
        return Ok(Vec::new());
    };
    let listed = arm
        .list_filtered(path, api_version, &filter(name, value), call)
        .await?;
    let mut items: Vec<&Json> = listed.iter().collect();
    if items
        .iter()
        .all(|i| i.get("tags").is_some_and(Json::is_object))
    {
        items.retain(|i| carries_all(i, tags));
    } else {
        for (name, value) in pairs {
            let also = arm
                .list_filtered(path, api_version, &filter(name, value), call)
                .await?;
            let ids: std::collections::BTreeSet<String> =
                also.iter().filter_map(lower_id).collect();
            items.retain(|i| lower_id(i).is_some_and(|id| ids.contains(&id)));
        }
    }
    Ok(items
        .into_iter()
        .filter_map(|item| tagged_object(item, tags))
        .collect())
}

/// `tagName eq 'K' and tagValue eq 'V'`, quotes doubled as OData escapes them.
fn filter(name: &str, value: &str) -> String {
    format!(
        "tagName eq '{}' and tagValue eq '{}'",
        name.replace('\'', "''"),
        value.replace('\'', "''")
    )
}

/// ARM's tag names compare without case, values exactly.
fn carries_all(item: &Json, tags: &BTreeMap<String, String>) -> bool {
    let Some(have) = item.get("tags").and_then(Json::as_object) else {
        return false;
    };
    tags.iter().all(|(name, value)| {
        have.iter()
            .any(|(k, v)| k.eq_ignore_ascii_case(name) && v.as_str() == Some(value.as_str()))
    })
}

fn lower_id(item: &Json) -> Option<String> {
    Some(item.get("id")?.as_str()?.to_ascii_lowercase())
}

/// An item as a [`TaggedObject`]: its ARM type as the kind, and its tags, or (when ARM left
/// them out) the pairs it is known to carry. An item without an id is not one to report.
fn tagged_object(item: &Json, wanted: &BTreeMap<String, String>) -> Option<TaggedObject> {
    let id = item.get("id")?.as_str()?.to_string();
    let kind = item
        .get("type")
        .and_then(Json::as_str)
        .unwrap_or("Microsoft.Resources/resources")
        .to_string();
    let tags = match item.get("tags").and_then(Json::as_object) {
        Some(tags) => tags
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect(),
        None => wanted.clone(),
    };
    Some(TaggedObject { id, kind, tags })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_filter_doubles_quotes() {
        assert_eq!(
            filter("owner", "O'Brien"),
            "tagName eq 'owner' and tagValue eq 'O''Brien'"
        );
    }

    #[test]
    fn every_pair_must_be_carried_names_in_any_case() {
        let want = tags(&[("env", "dev"), ("system", "honeylink")]);
        assert!(carries_all(
            &json!({"tags": {"Env": "dev", "system": "honeylink", "x": "y"}}),
            &want
        ));
        assert!(!carries_all(&json!({"tags": {"env": "dev"}}), &want));
        assert!(!carries_all(
            &json!({"tags": {"env": "Dev", "system": "honeylink"}}),
            &want
        ));
    }

    #[test]
    fn an_item_without_tags_reports_the_pairs_it_was_found_by() {
        let want = tags(&[("env", "dev")]);
        let o = tagged_object(
            &json!({"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a",
                    "type": "Microsoft.Storage/storageAccounts"}),
            &want,
        )
        .expect("an object");
        assert_eq!(o.kind, "Microsoft.Storage/storageAccounts");
        assert_eq!(o.tags, want);
        assert!(tagged_object(&json!({"type": "x"}), &want).is_none());
    }
}
