//! `aws_cloudwatch_log_group`: a CloudWatch Logs group. Its id is the group name, which is also
//! how it is imported.
//!
//! Refresh: DescribeLogGroups filters by one name prefix only (its `logGroupIdentifiers` filter
//! takes ARNs, which an import does not know, and moto 5.2 ignores it), so one listing with the
//! longest prefix the names in state share finds them all, a page of 50 groups per call; the
//! tags come from one ListTagsForResource per group, run concurrently with a bound.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{
    ADDRESS_TAG, Attrs, arn_schema, id_schema, number, required, tags_schema, tags_value, text,
};
use crate::config::Clients;
use crate::each::read_each;
use crate::errors::{invalid, sdk_error};
use crate::paginate::all_pages;
use crate::tagging::{tag_changes, with_owner};

pub struct LogGroup;

const TYPE: &str = "aws_cloudwatch_log_group";

/// The retention periods CloudWatch Logs accepts (0: never expire).
const RETENTION_DAYS: [i32; 23] = [
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The longest prefix every name shares.
fn common_prefix<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut names = names.into_iter();
    let Some(first) = names.next() else {
        return String::new();
    };
    let mut prefix = first;
    for name in names {
        let len = prefix
            .char_indices()
            .zip(name.chars())
            .find(|((_, a), b)| a != b)
            .map(|((i, _), _)| i)
            .unwrap_or(prefix.len().min(name.len()));
        prefix = &prefix[..len];
    }
    prefix.to_string()
}

fn retention(config: &Value) -> Result<i32, ProviderError> {
    let days = number(config, "retention_in_days").unwrap_or(0);
    if RETENTION_DAYS.contains(&days) {
        Ok(days)
    } else {
        Err(invalid(
            TYPE,
            format!(
                "`retention_in_days` {days} is not one CloudWatch Logs accepts: {}",
                RETENTION_DAYS.map(|d| d.to_string()).join(", ")
            ),
        ))
    }
}

#[async_trait]
impl Resource for LogGroup {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("LOG_GROUP_NAME (/vpc/datasets-dev/flow-logs)")
            .describe("A CloudWatch Logs log group")
            .attr(AttrSchema::required("name", AttrType::String).force_new())
            .attr(
                AttrSchema::optional("retention_in_days", AttrType::Number)
                    .default(Value::Number(0.0))
                    .describe("Days to keep events; 0 keeps them forever"),
            )
            .attr(
                AttrSchema::optional("kms_key_id", AttrType::String)
                    .describe("The ARN of the KMS key that encrypts the group's events"),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema().describe("The ARN, without the `:*` suffix DescribeLogGroups adds"))
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        // Recorded groups by id; a create that may have happened unrecorded by its name, kept
        // only if it carries this address's ownership tag.
        let wanted: BTreeMap<&str, &ReadItem> = items
            .iter()
            .filter_map(|i| {
                let name = match (&i.id, &i.token) {
                    (Some(id), _) => id.as_str(),
                    (None, Some(_)) => text(&i.prior, "name")?,
                    (None, None) => return None,
                };
                Some((name, i))
            })
            .collect();
        if wanted.is_empty() {
            return Ok(BTreeMap::new());
        }
        let prefix = common_prefix(wanted.keys().copied());
        let groups = all_pages(|token| {
            let prefix = prefix.clone();
            async move {
                let out = aws
                    .logs
                    .describe_log_groups()
                    .set_log_group_name_prefix(Some(prefix).filter(|p| !p.is_empty()))
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| sdk_error("DescribeLogGroups", e))?;
                Ok((out.log_groups.unwrap_or_default(), out.next_token))
            }
        })
        .await?;
        let mut matched = Vec::new();
        for group in groups {
            let Some(name) = group.log_group_name() else {
                continue;
            };
            let Some(item) = wanted.get(name) else {
                continue;
            };
            let arn = group
                .log_group_arn()
                .map(String::from)
                .or_else(|| group.arn().map(|a| a.trim_end_matches(":*").to_string()))
                .unwrap_or_default();
            // A pending create is ours only if it carries our address.
            let owner = item.id.is_none().then(|| item.address.clone());
            matched.push((item.address.clone(), (owner, arn, group)));
        }
        let client = aws.logs.clone();
        read_each(
            matched,
            move |(owner, arn, group): (Option<String>, String, _)| {
                let logs = client.clone();
                async move {
                    let out = logs
                        .list_tags_for_resource()
                        .resource_arn(&arn)
                        .send()
                        .await
                        .map_err(|e| sdk_error("ListTagsForResource", e))?;
                    let tags: BTreeMap<String, String> =
                        out.tags.unwrap_or_default().into_iter().collect();
                    let name = group.log_group_name().unwrap_or_default();
                    Ok(Some(ReadResult {
                        id: name.to_string(),
                        attributes: Attrs::new()
                            .set("id", name)
                            .set("name", name)
                            .set("arn", arn.as_str())
                            .set(
                                "retention_in_days",
                                Value::Number(group.retention_in_days().unwrap_or(0).into()),
                            )
                            .opt("kms_key_id", group.kms_key_id())
                            .set(
                                "tags",
                                tags_value(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
                            )
                            .build(),
                    })
                    .filter(|_| owner.is_none() || tags.get(ADDRESS_TAG) == owner.as_ref()))
                }
            },
        )
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let name = required(TYPE, c, "name")?;
        let days = retention(c)?;
        aws.logs
            .create_log_group()
            .log_group_name(name)
            .set_kms_key_id(text(c, "kms_key_id").map(String::from))
            .set_tags(Some(with_owner(c, &req.address).into_iter().collect()))
            .send()
            .await
            .map_err(|e| sdk_error("CreateLogGroup", e))?;
        if days > 0 {
            put_retention(aws, name, days).await?;
        }
        Ok(name.to_string())
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let (c, name) = (&req.config, req.id.as_str());
        let changed = |attr: &str| req.changed.iter().any(|a| a == attr);
        if changed("retention_in_days") {
            match retention(c)? {
                0 => {
                    aws.logs
                        .delete_retention_policy()
                        .log_group_name(name)
                        .send()
                        .await
                        .map_err(|e| sdk_error("DeleteRetentionPolicy", e))?;
                }
                days => put_retention(aws, name, days).await?,
            }
        }
        if changed("kms_key_id") {
            match text(c, "kms_key_id") {
                Some(key) => {
                    aws.logs
                        .associate_kms_key()
                        .log_group_name(name)
                        .kms_key_id(key)
                        .send()
                        .await
                        .map_err(|e| sdk_error("AssociateKmsKey", e))?;
                }
                None => {
                    aws.logs
                        .disassociate_kms_key()
                        .log_group_name(name)
                        .send()
                        .await
                        .map_err(|e| sdk_error("DisassociateKmsKey", e))?;
                }
            }
        }
        if changed("tags") {
            let arn = required(TYPE, &req.prior, "arn")?;
            let edits = tag_changes(&req.prior, c);
            if !edits.removed.is_empty() {
                aws.logs
                    .untag_resource()
                    .resource_arn(arn)
                    .set_tag_keys(Some(edits.removed))
                    .send()
                    .await
                    .map_err(|e| sdk_error("UntagResource", e))?;
            }
            if !edits.set.is_empty() {
                let set: HashMap<String, String> = edits.set.into_iter().collect();
                aws.logs
                    .tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(set))
                    .send()
                    .await
                    .map_err(|e| sdk_error("TagResource", e))?;
            }
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        aws.logs
            .delete_log_group()
            .log_group_name(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteLogGroup", e))?;
        Ok(())
    }
}

async fn put_retention(aws: &Clients, name: &str, days: i32) -> Result<(), ProviderError> {
    aws.logs
        .put_retention_policy()
        .log_group_name(name)
        .retention_in_days(days)
        .send()
        .await
        .map_err(|e| sdk_error("PutRetentionPolicy", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_listing_covers_every_name_through_their_shared_prefix() {
        assert_eq!(
            common_prefix(["/ecs/app-api", "/ecs/app-worker", "/ecs/app"]),
            "/ecs/app"
        );
        assert_eq!(common_prefix(["/ecs/api", "/lambda/x"]), "/");
        assert_eq!(common_prefix(["a", "b"]), "");
        assert_eq!(common_prefix(["only"]), "only");
        assert_eq!(common_prefix(["/é/x", "/é/y"]), "/é/");
    }
}
