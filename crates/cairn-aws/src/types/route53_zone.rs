//! `aws_route53_zone`: a public hosted zone. Its id is the zone id (`Z0123456789ABC`, without
//! Route53's `/hostedzone/` prefix), which is also how it is imported.
//!
//! Refresh: GetHostedZone (the name servers come only from it) and ListTagsForResource per zone,
//! concurrently and bounded. `force_destroy` is cairn's alone: when set, delete first removes
//! every record but the zone's own NS and SOA.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, HostedZoneConfig, RrType, Tag, TagResourceType,
};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::route53_record::{list_records, normalize, wait_insync};
use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, flag, id_schema, required, tags_schema, tags_value, text};
use crate::config::Clients;
use crate::each::read_each;
use crate::errors::{invalid, sdk_error};
use crate::tagging::{tag_changes, with_owner};

pub struct Zone;

const TYPE: &str = "aws_route53_zone";
const DEFAULT_COMMENT: &str = "Managed by cairn";

/// A zone id without Route53's `/hostedzone/` prefix.
pub fn bare_zone_id(id: &str) -> &str {
    id.strip_prefix("/hostedzone/").unwrap_or(id)
}

fn caller_reference(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn r53_tags(tags: BTreeMap<String, String>) -> Vec<Tag> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

#[async_trait]
impl Resource for Zone {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("ZONE_ID")
            .describe("A public Route53 hosted zone")
            .attr(AttrSchema::required("name", AttrType::String).force_new())
            .attr(AttrSchema::optional("comment", AttrType::String).default(DEFAULT_COMMENT))
            .attr(
                AttrSchema::optional("force_destroy", AttrType::Bool)
                    .default(false)
                    .describe("Delete the zone's records too when destroying it"),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed("zone_id", AttrType::String))
            .attr(AttrSchema::computed(
                "name_servers",
                AttrType::List(Box::new(AttrType::String)),
            ))
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let wanted = items.iter().filter_map(|i| {
            let force = i
                .prior
                .get("force_destroy")
                .cloned()
                .unwrap_or(Value::Bool(false));
            let name = text(&i.prior, "name").map(String::from);
            Some((i.address.clone(), (i.id.clone()?, force, name)))
        });
        let client = aws.route53.clone();
        read_each(
            wanted,
            move |(id, force, prior_name): (String, Value, Option<String>)| {
                let r53 = client.clone();
                async move {
                    let id = bare_zone_id(&id).to_string();
                    let out = r53
                        .get_hosted_zone()
                        .id(&id)
                        .send()
                        .await
                        .map_err(|e| sdk_error("GetHostedZone", e))?;
                    let Some(zone) = out.hosted_zone() else {
                        return Ok(None);
                    };
                    let tagged = r53
                        .list_tags_for_resource()
                        .resource_type(TagResourceType::Hostedzone)
                        .resource_id(&id)
                        .send()
                        .await
                        .map_err(|e| sdk_error("ListTagsForResource", e))?;
                    let tags = tagged
                        .resource_tag_set()
                        .map(|s| s.tags())
                        .unwrap_or_default();
                    let name = normalize(zone.name());
                    // The spec's spelling when it names the same zone (a trailing dot, capitals).
                    let name = prior_name.filter(|p| normalize(p) == name).unwrap_or(name);
                    let attributes =
                        Attrs::new()
                            .set("id", id.as_str())
                            .set("zone_id", id.as_str())
                            .set("arn", format!("arn:aws:route53:::hostedzone/{id}"))
                            .set("name", name)
                            .set(
                                "comment",
                                zone.config().and_then(|c| c.comment()).unwrap_or_default(),
                            )
                            .set("force_destroy", force)
                            .set(
                                "name_servers",
                                Value::List(
                                    out.delegation_set()
                                        .map(|d| d.name_servers())
                                        .unwrap_or_default()
                                        .iter()
                                        .map(|n| Value::string(n.as_str()))
                                        .collect(),
                                ),
                            )
                            .set(
                                "tags",
                                tags_value(tags.iter().filter_map(|t| {
                                    Some((t.key()?, t.value().unwrap_or_default()))
                                })),
                            )
                            .build();
                    Ok(Some(ReadResult { id, attributes }))
                }
            },
        )
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let out = aws
            .route53
            .create_hosted_zone()
            .name(required(TYPE, c, "name")?)
            // The same reference makes a retried create fail with HostedZoneAlreadyExists rather
            // than make a second zone; at most 128 characters, so a digest of cairn's token.
            .caller_reference(caller_reference(&req.token))
            .hosted_zone_config(
                HostedZoneConfig::builder()
                    .comment(text(c, "comment").unwrap_or(DEFAULT_COMMENT))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("CreateHostedZone", e))?;
        let id = out
            .hosted_zone()
            .map(|z| bare_zone_id(z.id()).to_string())
            .ok_or_else(|| {
                ProviderError::new(ErrorKind::Other, "CreateHostedZone returned no zone")
            })?;
        aws.route53
            .change_tags_for_resource()
            .resource_type(TagResourceType::Hostedzone)
            .resource_id(&id)
            .set_add_tags(Some(r53_tags(with_owner(c, &req.address))))
            .send()
            .await
            .map_err(|e| sdk_error("ChangeTagsForResource", e))?;
        if let Some(change) = out.change_info() {
            wait_insync(
                aws,
                change.id(),
                &format!("hosted zone {id}"),
                "create",
                req.timeout,
            )
            .await?;
        }
        Ok(id)
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let c = &req.config;
        let changed = |attr: &str| req.changed.iter().any(|a| a == attr);
        if changed("comment") {
            aws.route53
                .update_hosted_zone_comment()
                .id(&req.id)
                .comment(text(c, "comment").unwrap_or(DEFAULT_COMMENT))
                .send()
                .await
                .map_err(|e| sdk_error("UpdateHostedZoneComment", e))?;
        }
        if changed("tags") {
            let edits = tag_changes(&req.prior, c);
            aws.route53
                .change_tags_for_resource()
                .resource_type(TagResourceType::Hostedzone)
                .resource_id(&req.id)
                .set_add_tags(Some(r53_tags(edits.set)).filter(|t| !t.is_empty()))
                .set_remove_tag_keys(Some(edits.removed).filter(|k| !k.is_empty()))
                .send()
                .await
                .map_err(|e| sdk_error("ChangeTagsForResource", e))?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        if flag(&req.prior, "force_destroy", false) {
            let apex = text(&req.prior, "name").map(normalize).unwrap_or_default();
            let doomed: Vec<Change> = list_records(aws, &req.id)
                .await?
                .into_iter()
                .filter(|r| {
                    !(normalize(r.name()) == apex && matches!(r.r#type(), RrType::Ns | RrType::Soa))
                })
                .map(|r| {
                    Change::builder()
                        .action(ChangeAction::Delete)
                        .resource_record_set(r)
                        .build()
                        .map_err(|e| invalid(TYPE, e))
                })
                .collect::<Result<_, _>>()?;
            // Route53 takes at most 1000 changes per batch.
            for chunk in doomed.chunks(1000) {
                let batch = ChangeBatch::builder()
                    .set_changes(Some(chunk.to_vec()))
                    .build()
                    .map_err(|e| invalid(TYPE, e))?;
                aws.route53
                    .change_resource_record_sets()
                    .hosted_zone_id(&req.id)
                    .change_batch(batch)
                    .send()
                    .await
                    .map_err(|e| sdk_error("ChangeResourceRecordSets", e))?;
            }
        }
        match aws.route53.delete_hosted_zone().id(&req.id).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = sdk_error("DeleteHostedZone", e);
                if e.kind == ErrorKind::NotFound {
                    Ok(())
                } else if e.message.contains("HostedZoneNotEmpty") {
                    Err(ProviderError::new(
                        ErrorKind::Conflict,
                        format!(
                            "{}; delete its records first or set `force_destroy: true`",
                            e.message
                        ),
                    ))
                } else {
                    Err(e)
                }
            }
        }
    }
}
