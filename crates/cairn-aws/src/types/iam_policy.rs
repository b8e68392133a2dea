//! `aws_iam_policy`: a customer managed IAM policy. Its id is the policy ARN, which is also how
//! it is imported. IAM is global: the provider's region does not matter.
//!
//! IAM keeps up to five versions of a policy document; an edit creates a new default version,
//! first deleting the oldest other version when five exist (as Terraform does), and a delete
//! removes the other versions first, which IAM requires. A refresh reads each policy (GetPolicy,
//! then its default version) on its own, concurrently with a bound: IAM has no batch read.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_iam::types::{PolicyScopeType, PolicyVersion};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};

use super::{PROVIDER, Resource};
use crate::attrs::{
    ADDRESS_TAG, Attrs, arn_schema, id_schema, required, tags_schema, tags_value, text,
};
use crate::config::Clients;
use crate::each::read_each;
use crate::errors::sdk_error;
use crate::paginate::all_pages;
use crate::policy::{reconcile, url_decode};
use crate::tagging::{iam_tags, tag_changes, with_owner};

pub struct IamPolicy;

const TYPE: &str = "aws_iam_policy";
/// Versions IAM keeps of one policy.
const MAX_VERSIONS: usize = 5;

#[async_trait]
impl Resource for IamPolicy {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("POLICY_ARN")
            .describe("A customer managed IAM policy")
            .attr(AttrSchema::required("name", AttrType::String).force_new())
            .attr(
                AttrSchema::optional("path", AttrType::String)
                    .default("/")
                    .force_new(),
            )
            .attr(AttrSchema::optional("description", AttrType::String).force_new())
            .attr(
                AttrSchema::required("policy", AttrType::String)
                    .describe("The policy document (JSON)"),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed("policy_id", AttrType::String))
    }

    async fn find_pending(
        &self,
        aws: &Clients,
        pending: &[&ReadItem],
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        // The ARN needs the account id, so the account's own policies under the configured
        // path are listed, found by name, and adopted only when they carry this address.
        let mut found = BTreeMap::new();
        for item in pending {
            let Some(name) = text(&item.prior, "name") else {
                continue;
            };
            let path = text(&item.prior, "path").unwrap_or("/");
            let policies = all_pages(|marker| {
                let iam = aws.iam.clone();
                async move {
                    let out = iam
                        .list_policies()
                        .scope(PolicyScopeType::Local)
                        .path_prefix(path)
                        .set_marker(marker)
                        .send()
                        .await
                        .map_err(|e| sdk_error("ListPolicies", e))?;
                    let next = if out.is_truncated { out.marker } else { None };
                    Ok((out.policies.unwrap_or_default(), next))
                }
            })
            .await?;
            let Some(arn) = policies
                .iter()
                .find(|p| p.policy_name() == Some(name))
                .and_then(|p| p.arn())
            else {
                continue;
            };
            let tags = aws
                .iam
                .list_policy_tags()
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| sdk_error("ListPolicyTags", e))?;
            let owned = tags
                .tags()
                .iter()
                .any(|t| t.key() == ADDRESS_TAG && t.value() == item.address);
            if owned {
                found.insert(item.address.clone(), arn.to_string());
            }
        }
        Ok(found)
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        // Recorded policies, and pending ones `find_pending` gave an id.
        let policies = items
            .iter()
            .filter_map(|i| Some((i.address.clone(), (i.id.clone()?, i.clone()))));
        let client = aws.iam.clone();
        read_each(policies, move |(arn, item): (String, ReadItem)| {
            let iam = client.clone();
            async move {
                let out = iam
                    .get_policy()
                    .policy_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| sdk_error("GetPolicy", e))?;
                let Some(policy) = out.policy() else {
                    return Ok(None);
                };
                let document = match policy.default_version_id() {
                    Some(version) => iam
                        .get_policy_version()
                        .policy_arn(&arn)
                        .version_id(version)
                        .send()
                        .await
                        .map_err(|e| sdk_error("GetPolicyVersion", e))?
                        .policy_version()
                        .and_then(|v| v.document())
                        .map(|d| reconcile(&url_decode(d), text(&item.prior, "policy"))),
                    None => None,
                };
                let name = policy.policy_name().unwrap_or_default();
                Ok(Some(ReadResult {
                    id: arn.clone(),
                    attributes: Attrs::new()
                        .set("id", arn.as_str())
                        .set("arn", arn.as_str())
                        .set("name", name)
                        .set("path", policy.path().unwrap_or("/"))
                        .opt(
                            "description",
                            policy.description().filter(|d| !d.is_empty()),
                        )
                        .opt("policy", document)
                        .set(
                            "tags",
                            tags_value(policy.tags().iter().map(|t| (t.key(), t.value()))),
                        )
                        .opt("policy_id", policy.policy_id())
                        .build(),
                }))
            }
        })
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let out = aws
            .iam
            .create_policy()
            .policy_name(required(TYPE, c, "name")?)
            .path(text(c, "path").unwrap_or("/"))
            .policy_document(required(TYPE, c, "policy")?)
            .set_description(text(c, "description").map(String::from))
            .set_tags(Some(iam_tags(TYPE, with_owner(c, &req.address))?))
            .send()
            .await
            .map_err(|e| sdk_error("CreatePolicy", e))?;
        out.policy()
            .and_then(|p| p.arn())
            .map(String::from)
            .ok_or_else(|| ProviderError::new(ErrorKind::Other, "CreatePolicy returned no Arn"))
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let (c, arn) = (&req.config, req.id.as_str());
        let changed = |attr: &str| req.changed.iter().any(|a| a == attr);
        if changed("policy") {
            let versions = versions(&aws.iam, arn).await?;
            if versions.len() >= MAX_VERSIONS {
                let oldest = versions
                    .iter()
                    .filter(|v| !v.is_default_version())
                    .min_by_key(|v| v.create_date().map(|d| (d.secs(), d.subsec_nanos())));
                if let Some(version) = oldest.and_then(|v| v.version_id()) {
                    delete_version(&aws.iam, arn, version).await?;
                }
            }
            aws.iam
                .create_policy_version()
                .policy_arn(arn)
                .policy_document(required(TYPE, c, "policy")?)
                .set_as_default(true)
                .send()
                .await
                .map_err(|e| sdk_error("CreatePolicyVersion", e))?;
        }
        if changed("tags") {
            let edits = tag_changes(&req.prior, c);
            if !edits.removed.is_empty() {
                aws.iam
                    .untag_policy()
                    .policy_arn(arn)
                    .set_tag_keys(Some(edits.removed))
                    .send()
                    .await
                    .map_err(|e| sdk_error("UntagPolicy", e))?;
            }
            if !edits.set.is_empty() {
                aws.iam
                    .tag_policy()
                    .policy_arn(arn)
                    .set_tags(Some(iam_tags(TYPE, edits.set)?))
                    .send()
                    .await
                    .map_err(|e| sdk_error("TagPolicy", e))?;
            }
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        for version in versions(&aws.iam, &req.id).await? {
            if !version.is_default_version()
                && let Some(id) = version.version_id()
            {
                delete_version(&aws.iam, &req.id, id).await?;
            }
        }
        aws.iam
            .delete_policy()
            .policy_arn(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeletePolicy", e))?;
        Ok(())
    }
}

async fn versions(
    iam: &aws_sdk_iam::Client,
    arn: &str,
) -> Result<Vec<PolicyVersion>, ProviderError> {
    all_pages(|marker| async move {
        let out = iam
            .list_policy_versions()
            .policy_arn(arn)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| sdk_error("ListPolicyVersions", e))?;
        let next = out
            .is_truncated()
            .then(|| out.marker().map(String::from))
            .flatten();
        Ok((out.versions.unwrap_or_default(), next))
    })
    .await
}

async fn delete_version(
    iam: &aws_sdk_iam::Client,
    arn: &str,
    version: &str,
) -> Result<(), ProviderError> {
    iam.delete_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .map_err(|e| sdk_error("DeletePolicyVersion", e))?;
    Ok(())
}
