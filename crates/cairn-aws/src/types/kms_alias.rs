//! `aws_kms_alias`: a friendly name (`alias/...`) for a KMS key. Its id is the alias name, which
//! is also how it is imported. A refresh lists the account's aliases once (ListAliases, paged)
//! for every alias in state: KMS has no read of several aliases by name.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_kms::types::AliasListEntry;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, id_schema, required, text};
use crate::config::Clients;
use crate::errors::{invalid, sdk_error};
use crate::paginate::all_pages;

pub struct KmsAlias;

const TYPE: &str = "aws_kms_alias";

#[async_trait]
impl Resource for KmsAlias {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("ALIAS_NAME (alias/datasets)")
            .describe("An alias of a KMS key")
            .attr(
                AttrSchema::required("name", AttrType::String)
                    .force_new()
                    .describe("alias/NAME"),
            )
            .attr(
                AttrSchema::required("target_key_id", AttrType::String)
                    .describe("The id or ARN of the key the alias points at"),
            )
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed("target_key_arn", AttrType::String))
    }

    async fn find_pending(
        &self,
        aws: &Clients,
        pending: &[&ReadItem],
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        // An alias has no tags. One with the configured name that already points at the
        // configured key is the one asked for (the key is cairn's: the configuration names
        // it), made by a create cut short; one pointing elsewhere stays someone else's.
        let aliases = all_aliases(aws).await?;
        let mut found = BTreeMap::new();
        for item in pending {
            let (Some(name), Some(target)) = (
                text(&item.prior, "name"),
                text(&item.prior, "target_key_id"),
            ) else {
                continue;
            };
            let same_key =
                |key_id: &str| target == key_id || target.ends_with(&format!(":key/{key_id}"));
            let ours = aliases
                .iter()
                .any(|a| a.alias_name() == Some(name) && a.target_key_id().is_some_and(same_key));
            if ours {
                found.insert(item.address.clone(), name.to_string());
            }
        }
        Ok(found)
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        // Recorded aliases, and pending ones `find_pending` recognised by name and key.
        let wanted: BTreeMap<&str, &ReadItem> = items
            .iter()
            .filter_map(|i| Some((i.id.as_deref()?, i)))
            .collect();
        if wanted.is_empty() {
            return Ok(BTreeMap::new());
        }
        let aliases = all_aliases(aws).await?;
        let mut found = BTreeMap::new();
        for alias in aliases {
            let (Some(name), Some(arn)) = (alias.alias_name(), alias.alias_arn()) else {
                continue;
            };
            let Some(item) = wanted.get(name) else {
                continue;
            };
            let key_id = alias.target_key_id().unwrap_or_default();
            // The key's ARN is the alias's with `alias/NAME` swapped for `key/ID`, as Terraform
            // derives it.
            let key_arn = arn
                .rsplit_once(":alias/")
                .map(|(base, _)| format!("{base}:key/{key_id}"))
                .unwrap_or_default();
            // The configuration may name the key by id or by ARN; keep its form when it is
            // the same key.
            let target = match text(&item.prior, "target_key_id") {
                Some(prior) if prior == key_arn => prior,
                _ => key_id,
            };
            found.insert(
                item.address.clone(),
                ReadResult {
                    id: name.to_string(),
                    attributes: Attrs::new()
                        .set("id", name)
                        .set("name", name)
                        .set("arn", arn)
                        .set("target_key_id", target)
                        .set("target_key_arn", key_arn.as_str())
                        .build(),
                },
            );
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let name = required(TYPE, &req.config, "name")?;
        if !name.starts_with("alias/") {
            return Err(invalid(
                TYPE,
                format!("`name` must start with `alias/`, as in alias/{name}"),
            ));
        }
        aws.kms
            .create_alias()
            .alias_name(name)
            .target_key_id(required(TYPE, &req.config, "target_key_id")?)
            .send()
            .await
            .map_err(|e| sdk_error("CreateAlias", e))?;
        Ok(name.to_string())
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        aws.kms
            .update_alias()
            .alias_name(&req.id)
            .target_key_id(required(TYPE, &req.config, "target_key_id")?)
            .send()
            .await
            .map_err(|e| sdk_error("UpdateAlias", e))?;
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        aws.kms
            .delete_alias()
            .alias_name(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteAlias", e))?;
        Ok(())
    }
}

/// Every alias of the account and region (ListAliases has no filter by name).
async fn all_aliases(aws: &Clients) -> Result<Vec<AliasListEntry>, ProviderError> {
    all_pages(|marker| async move {
        let out = aws
            .kms
            .list_aliases()
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| sdk_error("ListAliases", e))?;
        let next = out.truncated.then(|| out.next_marker.clone()).flatten();
        Ok((out.aliases.unwrap_or_default(), next))
    })
    .await
}
