//! `aws_iam_role_policy_attachment`: a managed policy attached to a role. Its id is
//! `ROLE/POLICY_ARN` (`app-task/arn:aws:iam::123456789012:policy/app`), Terraform's import
//! format; role names cannot contain `/`, so the first one separates the two. A refresh lists
//! the attached policies once per distinct role (ListAttachedRolePolicies), concurrently with a
//! bound.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, id_schema, required, text};
use crate::config::Clients;
use crate::each::read_each;
use crate::errors::{invalid, sdk_error};
use crate::paginate::all_pages;
use crate::wait::{Check, Wait};

pub struct RolePolicyAttachment;

const TYPE: &str = "aws_iam_role_policy_attachment";
/// How long a just-created role or policy may stay invisible to AttachRolePolicy.
const PROPAGATION: Duration = Duration::from_secs(60);

/// The ARNs of the managed policies attached to `role`.
pub async fn attached_policies(
    iam: &aws_sdk_iam::Client,
    role: &str,
) -> Result<Vec<String>, ProviderError> {
    all_pages(|marker| async move {
        let out = iam
            .list_attached_role_policies()
            .role_name(role)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| sdk_error("ListAttachedRolePolicies", e))?;
        let arns = out
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(String::from))
            .collect();
        let next = out
            .is_truncated()
            .then(|| out.marker().map(String::from))
            .flatten();
        Ok((arns, next))
    })
    .await
}

/// `(role, policy_arn)` of an id.
fn parse_id(id: &str) -> Result<(&str, &str), ProviderError> {
    id.split_once('/')
        .filter(|(role, arn)| !role.is_empty() && arn.starts_with("arn:"))
        .ok_or_else(|| {
            invalid(
                TYPE,
                format!(
                    "id `{id}` is not ROLE/POLICY_ARN, as in app-task/arn:aws:iam::123456789012:policy/app"
                ),
            )
        })
}

#[async_trait]
impl Resource for RolePolicyAttachment {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("ROLE_NAME/POLICY_ARN (app-task/arn:aws:iam::123456789012:policy/read-data)")
            .describe("A managed IAM policy attached to a role")
            .attr(
                AttrSchema::required("role", AttrType::String)
                    .force_new()
                    .describe("The role's name"),
            )
            .attr(AttrSchema::required("policy_arn", AttrType::String).force_new())
            .attr(id_schema())
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        // Attaching twice is harmless, so a pending create is looked up by its configuration.
        let mut wanted: Vec<(String, String, String)> = Vec::new();
        for item in items {
            let (role, arn) = match &item.id {
                Some(id) => {
                    let (role, arn) = parse_id(id)?;
                    (role.to_string(), arn.to_string())
                }
                None => match (text(&item.prior, "role"), text(&item.prior, "policy_arn")) {
                    (Some(role), Some(arn)) => (role.to_string(), arn.to_string()),
                    _ => continue,
                },
            };
            wanted.push((item.address.clone(), role, arn));
        }
        let roles: BTreeSet<String> = wanted.iter().map(|(_, role, _)| role.clone()).collect();
        let client = aws.iam.clone();
        let attached = read_each(roles.into_iter().map(|r| (r.clone(), r)), move |role| {
            let iam = client.clone();
            async move {
                let arns: BTreeSet<String> =
                    attached_policies(&iam, &role).await?.into_iter().collect();
                Ok(Some(arns))
            }
        })
        .await?;
        let mut found = BTreeMap::new();
        for (address, role, arn) in wanted {
            if attached.get(&role).is_some_and(|arns| arns.contains(&arn)) {
                let id = format!("{role}/{arn}");
                found.insert(
                    address,
                    ReadResult {
                        attributes: Attrs::new()
                            .set("id", id.as_str())
                            .set("role", role)
                            .set("policy_arn", arn)
                            .build(),
                        id,
                    },
                );
            }
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let role = required(TYPE, &req.config, "role")?;
        let arn = required(TYPE, &req.config, "policy_arn")?;
        // IAM is eventually consistent: a role or policy created a moment ago may not be
        // attachable yet, so NoSuchEntity is waited out for a while.
        let what = format!("role {role}");
        let until = format!("attachable (policy {arn})");
        Wait {
            what: &what,
            until: &until,
            operation: "create",
            limit: req.timeout.unwrap_or(PROPAGATION),
        }
        .run(|| async {
            match aws
                .iam
                .attach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
                .await
            {
                Ok(_) => Ok(Check::Done(())),
                Err(e) => {
                    let e = sdk_error("AttachRolePolicy", e);
                    if e.kind == ErrorKind::NotFound {
                        Ok(Check::Waiting(e.message))
                    } else {
                        Err(e)
                    }
                }
            }
        })
        .await?;
        Ok(format!("{role}/{arn}"))
    }

    async fn update(&self, _aws: &Clients, _req: &UpdateRequest) -> Result<(), ProviderError> {
        // Both attributes force replacement: there is nothing to change in place.
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let (role, arn) = parse_id(&req.id)?;
        aws.iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| sdk_error("DetachRolePolicy", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_at_the_first_slash_as_terraform_imports_them() {
        assert_eq!(
            parse_id("app/arn:aws:iam::123456789012:policy/team/app").unwrap(),
            ("app", "arn:aws:iam::123456789012:policy/team/app")
        );
        assert!(parse_id("arn:aws:iam::123456789012:policy/app").is_err());
        assert!(parse_id("app").is_err());
    }
}
