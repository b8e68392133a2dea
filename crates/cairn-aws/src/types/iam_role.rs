//! `aws_iam_role`: an IAM role. Its id is the role name, which is also how it is imported. IAM
//! is global: the provider's region does not matter. IAM has no batch read that returns tags,
//! so a refresh reads each role (GetRole) on its own, concurrently with a bound.
//!
//! Managed policies are attached by `aws_iam_role_policy_attachment`, which a destroy removes
//! first; a role that still has policies attached is not deleted (the error names them).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_smithy_types::date_time::Format;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::iam_role_policy_attachment::attached_policies;
use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, id_schema, number, required, tags_schema, tags_value, text};
use crate::config::Clients;
use crate::each::read_each;
use crate::errors::sdk_error;
use crate::policy::{reconcile, url_decode};
use crate::tagging::{iam_tags, tag_changes, with_owner};
use crate::wait::{Check, Wait};

pub struct IamRole;

const TYPE: &str = "aws_iam_role";
const MAX_SESSION: i32 = 3600;
/// How long a role may still count as in use after its policies were detached.
const DETACH_PROPAGATION: Duration = Duration::from_secs(60);

#[async_trait]
impl Resource for IamRole {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("ROLE_NAME")
            .describe("An IAM role")
            .attr(AttrSchema::required("name", AttrType::String).force_new())
            .attr(
                AttrSchema::required("assume_role_policy", AttrType::String)
                    .describe("The trust policy (JSON): who may assume the role"),
            )
            .attr(AttrSchema::optional("description", AttrType::String))
            .attr(
                AttrSchema::optional("max_session_duration", AttrType::Number)
                    .default(Value::Number(MAX_SESSION.into()))
                    .describe("Seconds (3600-43200) a session of the role may last"),
            )
            .attr(
                AttrSchema::optional("path", AttrType::String)
                    .default("/")
                    .force_new(),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed("unique_id", AttrType::String))
            .attr(AttrSchema::computed("create_date", AttrType::String))
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let roles = items.iter().filter_map(|i| {
            let name = match (&i.id, &i.token) {
                (Some(id), _) => id.clone(),
                (None, Some(_)) => text(&i.prior, "name")?.to_string(),
                (None, None) => return None,
            };
            Some((i.address.clone(), (name, i.clone())))
        });
        let client = aws.iam.clone();
        read_each(roles, move |(name, item): (String, ReadItem)| {
            let iam = client.clone();
            async move {
                let out = iam
                    .get_role()
                    .role_name(&name)
                    .send()
                    .await
                    .map_err(|e| sdk_error("GetRole", e))?;
                let Some(role) = out.role() else {
                    return Ok(None);
                };
                let tags = tags_value(role.tags().iter().map(|t| (t.key(), t.value())));
                // A pending create is ours only if it carries our address.
                if item.id.is_none()
                    && !role
                        .tags()
                        .iter()
                        .any(|t| t.key() == crate::attrs::ADDRESS_TAG && t.value() == item.address)
                {
                    return Ok(None);
                }
                let trust = role
                    .assume_role_policy_document()
                    .map(|d| reconcile(&url_decode(d), text(&item.prior, "assume_role_policy")));
                Ok(Some(ReadResult {
                    id: role.role_name().to_string(),
                    attributes: Attrs::new()
                        .set("id", role.role_name())
                        .set("name", role.role_name())
                        .opt("assume_role_policy", trust)
                        .opt("description", role.description().filter(|d| !d.is_empty()))
                        .set(
                            "max_session_duration",
                            Value::Number(
                                role.max_session_duration().unwrap_or(MAX_SESSION).into(),
                            ),
                        )
                        .set("path", role.path())
                        .set("tags", tags)
                        .set("arn", role.arn())
                        .set("unique_id", role.role_id())
                        .opt("create_date", role.create_date().fmt(Format::DateTime).ok())
                        .build(),
                }))
            }
        })
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let name = required(TYPE, c, "name")?;
        aws.iam
            .create_role()
            .role_name(name)
            .path(text(c, "path").unwrap_or("/"))
            .assume_role_policy_document(required(TYPE, c, "assume_role_policy")?)
            .set_description(text(c, "description").map(String::from))
            .max_session_duration(number(c, "max_session_duration").unwrap_or(MAX_SESSION))
            .set_tags(Some(iam_tags(TYPE, with_owner(c, &req.address))?))
            .send()
            .await
            .map_err(|e| sdk_error("CreateRole", e))?;
        Ok(name.to_string())
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let (c, name) = (&req.config, req.id.as_str());
        let changed = |attr: &str| req.changed.iter().any(|a| a == attr);
        if changed("assume_role_policy") {
            aws.iam
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(required(TYPE, c, "assume_role_policy")?)
                .send()
                .await
                .map_err(|e| sdk_error("UpdateAssumeRolePolicy", e))?;
        }
        if changed("description") || changed("max_session_duration") {
            aws.iam
                .update_role()
                .role_name(name)
                .description(text(c, "description").unwrap_or_default())
                .max_session_duration(number(c, "max_session_duration").unwrap_or(MAX_SESSION))
                .send()
                .await
                .map_err(|e| sdk_error("UpdateRole", e))?;
        }
        if changed("tags") {
            let edits = tag_changes(&req.prior, c);
            if !edits.removed.is_empty() {
                aws.iam
                    .untag_role()
                    .role_name(name)
                    .set_tag_keys(Some(edits.removed))
                    .send()
                    .await
                    .map_err(|e| sdk_error("UntagRole", e))?;
            }
            if !edits.set.is_empty() {
                aws.iam
                    .tag_role()
                    .role_name(name)
                    .set_tags(Some(iam_tags(TYPE, edits.set)?))
                    .send()
                    .await
                    .map_err(|e| sdk_error("TagRole", e))?;
            }
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let what = format!("IAM role {}", req.id);
        Wait {
            what: &what,
            until: "deletable",
            operation: "delete",
            limit: req.timeout.unwrap_or(DETACH_PROPAGATION),
        }
        .run(|| async {
            let Err(err) = aws.iam.delete_role().role_name(&req.id).send().await else {
                return Ok(Check::Done(()));
            };
            let err = sdk_error("DeleteRole", err);
            if err.kind != ErrorKind::Conflict {
                return Err(err);
            }
            // Attachments are separate resources, possibly unmanaged: name them rather than
            // detach them. None left means a detach that IAM has not propagated yet.
            let attached = attached_policies(&aws.iam, &req.id).await?;
            if attached.is_empty() {
                return Ok(Check::Waiting(err.message));
            }
            Err(ProviderError::new(
                ErrorKind::Conflict,
                format!(
                    "{}; role {} still has these managed policies attached: {}. Detach them \
                     (delete their aws_iam_role_policy_attachment resources) before deleting \
                     the role",
                    err.message,
                    req.id,
                    attached.join(", ")
                ),
            ))
        })
        .await
    }
}
