//! `aws_secretsmanager_secret`: a Secrets Manager secret (the container; its value is an
//! `aws_secretsmanager_secret_version`). Its id is the secret's ARN, which is also how it is
//! imported.
//!
//! Refresh: ListSecrets filtered by name, ten names per call and page (the API's limit per
//! filter); the name filter matches prefixes, so results are kept only on an exact ARN or name.
//! A secret scheduled for deletion counts as gone. Delete schedules deletion after
//! `recovery_window_in_days` (7 to 30), or deletes at once when it is 0, as in Terraform.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, Tag};
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
use crate::errors::{invalid, sdk_error};
use crate::paginate::all_pages;
use crate::tagging::{tag_changes, with_owner};

pub struct Secret;

const TYPE: &str = "aws_secretsmanager_secret";
/// Values per ListSecrets filter.
const CHUNK: usize = 10;

/// The name inside a secret's ARN: `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf`,
/// where AWS appends a hyphen and six random characters to the name.
fn name_of_arn(arn: &str) -> Option<&str> {
    let (_, tail) = arn.split_once(":secret:")?;
    let (name, suffix) = tail.rsplit_once('-')?;
    (suffix.len() == 6).then_some(name)
}

/// Secrets Manager's ClientRequestToken (which becomes the version id) is 32 to 64 characters; a
/// UUID made from cairn's token keeps a retried create idempotent and findable.
pub fn request_token(token: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = hex::encode(Sha256::digest(token.as_bytes()));
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn recovery_window(config: &Value) -> Result<i64, ProviderError> {
    let days = number(config, "recovery_window_in_days").unwrap_or(30);
    if days == 0 || (7..=30).contains(&days) {
        Ok(days.into())
    } else {
        Err(invalid(
            TYPE,
            format!("`recovery_window_in_days` {days} must be 0 (delete at once) or 7 to 30"),
        ))
    }
}

fn sm_tags(tags: BTreeMap<String, String>) -> Vec<Tag> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

#[async_trait]
impl Resource for Secret {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("SECRET_ARN")
            .describe(
                "A Secrets Manager secret (its value is an aws_secretsmanager_secret_version)",
            )
            .attr(AttrSchema::required("name", AttrType::String).force_new())
            .attr(AttrSchema::optional("description", AttrType::String))
            .attr(
                AttrSchema::optional("kms_key_id", AttrType::String)
                    .describe("The KMS key that encrypts the secret; AWS's own key when unset"),
            )
            .attr(
                AttrSchema::optional("recovery_window_in_days", AttrType::Number)
                    .default(30)
                    .describe("Days a deleted secret can be restored; 0 deletes at once"),
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
        // What identifies each item: its ARN once recorded; by name (and our ownership tag) a
        // create that may have happened unrecorded.
        let mut by_arn: BTreeMap<&str, &ReadItem> = BTreeMap::new();
        let mut by_name: BTreeMap<String, &ReadItem> = BTreeMap::new();
        let mut names: Vec<String> = Vec::new();
        for item in items {
            match (&item.id, &item.token) {
                (Some(arn), _) => {
                    by_arn.insert(arn.as_str(), item);
                    if let Some(name) = name_of_arn(arn).or_else(|| text(&item.prior, "name")) {
                        names.push(name.to_string());
                    }
                }
                (None, Some(_)) => {
                    if let Some(name) = text(&item.prior, "name") {
                        by_name.insert(name.to_string(), item);
                        names.push(name.to_string());
                    }
                }
                (None, None) => {}
            }
        }
        names.sort();
        names.dedup();
        let mut found = BTreeMap::new();
        for chunk in names.chunks(CHUNK) {
            let filter = Filter::builder()
                .key(FilterNameStringType::Name)
                .set_values(Some(chunk.to_vec()))
                .build();
            let secrets = all_pages(|token| {
                let filter = filter.clone();
                async move {
                    let out = aws
                        .secretsmanager
                        .list_secrets()
                        .filters(filter)
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(|e| sdk_error("ListSecrets", e))?;
                    Ok((out.secret_list.unwrap_or_default(), out.next_token))
                }
            })
            .await?;
            for secret in secrets {
                if secret.deleted_date().is_some() {
                    continue;
                }
                let (Some(arn), Some(name)) = (secret.arn(), secret.name()) else {
                    continue;
                };
                let tags: BTreeMap<String, String> = secret
                    .tags()
                    .iter()
                    .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                    .collect();
                let item = match by_arn.get(arn) {
                    Some(item) => *item,
                    None => match by_name.get(name) {
                        Some(item) if tags.get(ADDRESS_TAG) == Some(&item.address) => *item,
                        _ => continue,
                    },
                };
                let window = item
                    .prior
                    .get("recovery_window_in_days")
                    .cloned()
                    .unwrap_or(Value::Number(30.0));
                found.insert(
                    item.address.clone(),
                    ReadResult {
                        id: arn.to_string(),
                        attributes: Attrs::new()
                            .set("id", arn)
                            .set("arn", arn)
                            .set("name", name)
                            .opt(
                                "description",
                                secret.description().filter(|d| !d.is_empty()),
                            )
                            .opt("kms_key_id", secret.kms_key_id())
                            .set("recovery_window_in_days", window)
                            .set(
                                "tags",
                                tags_value(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
                            )
                            .build(),
                    },
                );
            }
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        recovery_window(c)?;
        let out = aws
            .secretsmanager
            .create_secret()
            .name(required(TYPE, c, "name")?)
            .set_description(text(c, "description").map(String::from))
            .set_kms_key_id(text(c, "kms_key_id").map(String::from))
            .set_tags(Some(sm_tags(with_owner(c, &req.address))))
            // The same token makes a retried create return the first one's secret.
            .client_request_token(request_token(&req.token))
            .send()
            .await
            .map_err(|e| sdk_error("CreateSecret", e))?;
        out.arn()
            .map(String::from)
            .ok_or_else(|| invalid(TYPE, "CreateSecret returned no ARN"))
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let c = &req.config;
        let changed = |attr: &str| req.changed.iter().any(|a| a == attr);
        recovery_window(c)?;
        if changed("description") || changed("kms_key_id") {
            aws.secretsmanager
                .update_secret()
                .secret_id(&req.id)
                .description(text(c, "description").unwrap_or_default())
                .set_kms_key_id(text(c, "kms_key_id").map(String::from))
                .send()
                .await
                .map_err(|e| sdk_error("UpdateSecret", e))?;
        }
        if changed("tags") {
            let edits = tag_changes(&req.prior, c);
            if !edits.removed.is_empty() {
                aws.secretsmanager
                    .untag_resource()
                    .secret_id(&req.id)
                    .set_tag_keys(Some(edits.removed))
                    .send()
                    .await
                    .map_err(|e| sdk_error("UntagResource", e))?;
            }
            if !edits.set.is_empty() {
                aws.secretsmanager
                    .tag_resource()
                    .secret_id(&req.id)
                    .set_tags(Some(sm_tags(edits.set)))
                    .send()
                    .await
                    .map_err(|e| sdk_error("TagResource", e))?;
            }
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let days = recovery_window(&req.prior).unwrap_or(30);
        let call = aws.secretsmanager.delete_secret().secret_id(&req.id);
        let call = if days == 0 {
            call.force_delete_without_recovery(true)
        } else {
            call.recovery_window_in_days(days)
        };
        call.send()
            .await
            .map_err(|e| sdk_error("DeleteSecret", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_inside_an_arn_drops_the_random_suffix() {
        assert_eq!(
            name_of_arn(
                "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:datasets/db-password-AbC123"
            ),
            Some("datasets/db-password")
        );
        assert_eq!(name_of_arn("not-an-arn"), None);
    }

    #[test]
    fn a_request_token_is_a_stable_uuid_secrets_manager_accepts() {
        let token = "9c8e6d2a-0000-4000-8000-000000000000/module.db.aws_secretsmanager_secret_version.password/00000000deadbeef";
        let a = request_token(token);
        assert_eq!(a, request_token(token));
        assert_eq!(a.len(), 36);
        assert_ne!(a, request_token("another"));
    }
}
