//! `aws_kms_key`: a KMS key. Its id is the key id (a UUID), which is also how it is imported.
//! KMS never deletes a key at once: destroy schedules the deletion after
//! `deletion_window_in_days`, and a key pending deletion counts as gone. KMS has no batch read,
//! so a refresh reads each key on its own, concurrently with a bound.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_kms::types::{KeySpec, KeyState, KeyUsageType, Tag};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, flag, id_schema, number, tags_schema, tags_value, text};
use crate::config::Clients;
use crate::each::read_each;
use crate::errors::{invalid, sdk_error};
use crate::paginate::all_pages;
use crate::policy::reconcile;
use crate::tagging::{tag_changes, with_owner};

pub struct KmsKey;

const TYPE: &str = "aws_kms_key";
/// KMS keeps one key policy, under this fixed name.
const POLICY_NAME: &str = "default";
const DELETION_WINDOW: i32 = 30;

fn kms_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()
                .map_err(|e| invalid(TYPE, e))
        })
        .collect()
}

#[async_trait]
impl Resource for KmsKey {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("KEY_ID (1234abcd-12ab-34cd-56ef-1234567890ab)")
            .describe("A KMS key")
            .attr(AttrSchema::optional("description", AttrType::String))
            .attr(
                AttrSchema::optional("key_usage", AttrType::String)
                    .default("ENCRYPT_DECRYPT")
                    .force_new()
                    .describe("ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC or KEY_AGREEMENT"),
            )
            .attr(
                AttrSchema::optional("customer_master_key_spec", AttrType::String)
                    .default("SYMMETRIC_DEFAULT")
                    .force_new()
                    .describe("SYMMETRIC_DEFAULT, RSA_2048, ECC_NIST_P256, HMAC_256, ..."),
            )
            .attr(AttrSchema::optional("enable_key_rotation", AttrType::Bool).default(false))
            .attr(AttrSchema::optional("is_enabled", AttrType::Bool).default(true))
            .attr(
                AttrSchema::optional("deletion_window_in_days", AttrType::Number)
                    .default(Value::Number(DELETION_WINDOW.into()))
                    .describe("Days (7-30) between destroy and the key's deletion"),
            )
            .attr(
                AttrSchema::optional_computed("policy", AttrType::String)
                    .describe("The key policy (JSON); KMS's default policy when unset"),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed("key_id", AttrType::String))
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        // A create that may have happened unrecorded: keys have no name, so the account's keys
        // are listed and their tags searched for the ownership tag. One call per key, paid only
        // when a crash left such an intent.
        let pending: Vec<&str> = items
            .iter()
            .filter(|i| i.id.is_none() && i.token.is_some())
            .map(|i| i.address.as_str())
            .collect();
        let adopted = if pending.is_empty() {
            BTreeMap::new()
        } else {
            find_owned(aws, &pending).await?
        };
        let keys = items.iter().filter_map(|i| {
            let id = i.id.clone().or_else(|| adopted.get(&i.address).cloned())?;
            Some((i.address.clone(), (id, i.prior.clone())))
        });
        let client = aws.kms.clone();
        read_each(keys, move |(id, prior): (String, Value)| {
            let kms = client.clone();
            async move {
                let attributes = read_key(&kms, &id, &prior).await?;
                Ok(attributes.map(|attributes| ReadResult { id, attributes }))
            }
        })
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        deletion_window(c)?;
        let out = aws
            .kms
            .create_key()
            .set_description(text(c, "description").map(String::from))
            .key_usage(KeyUsageType::from(
                text(c, "key_usage").unwrap_or("ENCRYPT_DECRYPT"),
            ))
            .key_spec(KeySpec::from(
                text(c, "customer_master_key_spec").unwrap_or("SYMMETRIC_DEFAULT"),
            ))
            .set_policy(text(c, "policy").map(String::from))
            .set_tags(Some(kms_tags(with_owner(c, &req.address))?))
            .send()
            .await
            .map_err(|e| sdk_error("CreateKey", e))?;
        let id = out
            .key_metadata()
            .map(|m| m.key_id().to_string())
            .ok_or_else(|| ProviderError::new(ErrorKind::Other, "CreateKey returned no KeyId"))?;
        if flag(c, "enable_key_rotation", false) {
            set_rotation(aws, &id, true).await?;
        }
        if !flag(c, "is_enabled", true) {
            set_enabled(aws, &id, false).await?;
        }
        Ok(id)
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let (c, id) = (&req.config, req.id.as_str());
        // Checked now rather than when a destroy would need it.
        deletion_window(c)?;
        let changed = |name: &str| req.changed.iter().any(|a| a == name);
        // A disabled key refuses most edits: enable it first, disable it last.
        let enabled = flag(c, "is_enabled", true);
        if changed("is_enabled") && enabled {
            set_enabled(aws, id, true).await?;
        }
        if changed("description") {
            aws.kms
                .update_key_description()
                .key_id(id)
                .description(text(c, "description").unwrap_or_default())
                .send()
                .await
                .map_err(|e| sdk_error("UpdateKeyDescription", e))?;
        }
        if changed("enable_key_rotation") {
            set_rotation(aws, id, flag(c, "enable_key_rotation", false)).await?;
        }
        // An unset policy leaves KMS's as it is (Terraform does the same).
        if changed("policy")
            && let Some(policy) = text(c, "policy")
        {
            aws.kms
                .put_key_policy()
                .key_id(id)
                .policy_name(POLICY_NAME)
                .policy(policy)
                .send()
                .await
                .map_err(|e| sdk_error("PutKeyPolicy", e))?;
        }
        if changed("tags") {
            let edits = tag_changes(&req.prior, c);
            if !edits.removed.is_empty() {
                aws.kms
                    .untag_resource()
                    .key_id(id)
                    .set_tag_keys(Some(edits.removed))
                    .send()
                    .await
                    .map_err(|e| sdk_error("UntagResource", e))?;
            }
            if !edits.set.is_empty() {
                aws.kms
                    .tag_resource()
                    .key_id(id)
                    .set_tags(Some(kms_tags(edits.set)?))
                    .send()
                    .await
                    .map_err(|e| sdk_error("TagResource", e))?;
            }
        }
        if changed("is_enabled") && !enabled {
            set_enabled(aws, id, false).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let days = number(&req.prior, "deletion_window_in_days").unwrap_or(DELETION_WINDOW);
        match aws
            .kms
            .schedule_key_deletion()
            .key_id(&req.id)
            .pending_window_in_days(days)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = sdk_error("ScheduleKeyDeletion", e);
                // Scheduled already (out of band, or by an interrupted destroy): done.
                if e.kind == ErrorKind::NotFound
                    || (e.message.contains("KMSInvalidStateException")
                        && e.message.contains("PendingDeletion"))
                {
                    return Ok(());
                }
                Err(e)
            }
        }
    }
}

/// The configured deletion window, which KMS accepts from 7 to 30 days.
fn deletion_window(config: &Value) -> Result<i32, ProviderError> {
    let days = number(config, "deletion_window_in_days").unwrap_or(DELETION_WINDOW);
    if (7..=30).contains(&days) {
        Ok(days)
    } else {
        Err(invalid(
            TYPE,
            format!("`deletion_window_in_days` must be from 7 to 30, not {days}"),
        ))
    }
}

/// One key's attributes, or `None` when it is gone or pending deletion.
/// The ids of the keys whose ownership tag names one of `addresses`, by address.
async fn find_owned(
    aws: &Clients,
    addresses: &[&str],
) -> Result<BTreeMap<String, String>, ProviderError> {
    let keys = all_pages(|marker| async move {
        let out = aws
            .kms
            .list_keys()
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| sdk_error("ListKeys", e))?;
        let next = if out.truncated { out.next_marker } else { None };
        Ok((out.keys.unwrap_or_default(), next))
    })
    .await?;
    let mut found = BTreeMap::new();
    for key in keys {
        let Some(id) = key.key_id() else { continue };
        let tags = aws
            .kms
            .list_resource_tags()
            .key_id(id)
            .send()
            .await
            .map_err(|e| sdk_error("ListResourceTags", e))?;
        let owner = tags
            .tags()
            .iter()
            .find(|t| t.tag_key() == crate::attrs::ADDRESS_TAG)
            .map(|t| t.tag_value().to_string());
        if let Some(owner) = owner.filter(|o| addresses.contains(&o.as_str())) {
            found.entry(owner).or_insert_with(|| id.to_string());
        }
        if found.len() == addresses.len() {
            break;
        }
    }
    Ok(found)
}

async fn read_key(
    kms: &aws_sdk_kms::Client,
    id: &str,
    prior: &Value,
) -> Result<Option<Value>, ProviderError> {
    let out = kms
        .describe_key()
        .key_id(id)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeKey", e))?;
    let Some(meta) = out.key_metadata() else {
        return Ok(None);
    };
    if matches!(
        meta.key_state(),
        Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
    ) {
        return Ok(None);
    }
    let rotation = kms
        .get_key_rotation_status()
        .key_id(id)
        .send()
        .await
        .map_err(|e| sdk_error("GetKeyRotationStatus", e))?
        .key_rotation_enabled();
    let policy = kms
        .get_key_policy()
        .key_id(id)
        .policy_name(POLICY_NAME)
        .send()
        .await
        .map_err(|e| sdk_error("GetKeyPolicy", e))?
        .policy
        .map(|p| reconcile(&p, text(prior, "policy")));
    let tags = all_pages(|marker| async move {
        let out = kms
            .list_resource_tags()
            .key_id(id)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| sdk_error("ListResourceTags", e))?;
        let next = out.truncated.then(|| out.next_marker.clone()).flatten();
        Ok((out.tags.unwrap_or_default(), next))
    })
    .await?;
    let spec = meta
        .key_spec()
        .map(|s| s.as_str().to_string())
        .or_else(|| {
            #[allow(deprecated)]
            meta.customer_master_key_spec()
                .map(|s| s.as_str().to_string())
        })
        .unwrap_or_else(|| "SYMMETRIC_DEFAULT".to_string());
    Ok(Some(
        Attrs::new()
            .set("id", meta.key_id())
            .set("key_id", meta.key_id())
            .opt("arn", meta.arn())
            .opt("description", meta.description().filter(|d| !d.is_empty()))
            .set(
                "key_usage",
                meta.key_usage()
                    .map(|u| u.as_str())
                    .unwrap_or("ENCRYPT_DECRYPT"),
            )
            .set("customer_master_key_spec", spec)
            .set("enable_key_rotation", rotation)
            .set("is_enabled", meta.enabled())
            // Only cairn keeps it: KMS learns the window when the key is destroyed.
            .set(
                "deletion_window_in_days",
                Value::Number(
                    number(prior, "deletion_window_in_days")
                        .unwrap_or(DELETION_WINDOW)
                        .into(),
                ),
            )
            .opt("policy", policy)
            .set(
                "tags",
                tags_value(
                    tags.iter()
                        .map(|t| (t.tag_key.as_str(), t.tag_value.as_str())),
                ),
            )
            .build(),
    ))
}

async fn set_rotation(aws: &Clients, id: &str, on: bool) -> Result<(), ProviderError> {
    if on {
        aws.kms
            .enable_key_rotation()
            .key_id(id)
            .send()
            .await
            .map_err(|e| sdk_error("EnableKeyRotation", e))?;
    } else {
        aws.kms
            .disable_key_rotation()
            .key_id(id)
            .send()
            .await
            .map_err(|e| sdk_error("DisableKeyRotation", e))?;
    }
    Ok(())
}

async fn set_enabled(aws: &Clients, id: &str, on: bool) -> Result<(), ProviderError> {
    if on {
        aws.kms
            .enable_key()
            .key_id(id)
            .send()
            .await
            .map_err(|e| sdk_error("EnableKey", e))?;
    } else {
        aws.kms
            .disable_key()
            .key_id(id)
            .send()
            .await
            .map_err(|e| sdk_error("DisableKey", e))?;
    }
    Ok(())
}
