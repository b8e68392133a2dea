//! `aws_secretsmanager_secret_version`: one value of a secret. Its id is `SECRET_ARN|VERSION_ID`,
//! as Terraform imports it. The value is sensitive: it is masked everywhere and state keeps only
//! its salted digest, which still shows a value changed behind cairn's back.
//!
//! Secrets Manager has no batch read of values: refresh reads each version concurrently, bounded.
//! The create's idempotency token becomes the version id (a UUID derived from it), so a create
//! that happened but was never recorded is found again by that id.

use std::collections::BTreeMap;

use async_trait::async_trait;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, id_schema, required};
use crate::config::Clients;
use crate::each::read_each;
use crate::errors::{invalid, sdk_error};

use super::secretsmanager_secret::request_token;

pub struct SecretVersion;

const TYPE: &str = "aws_secretsmanager_secret_version";
const CURRENT: &str = "AWSCURRENT";

fn split_id(id: &str) -> Option<(&str, &str)> {
    id.split_once('|')
}

#[async_trait]
impl Resource for SecretVersion {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("SECRET_ARN|VERSION_ID")
            .describe("A value of a Secrets Manager secret")
            .attr(AttrSchema::required("secret_id", AttrType::String).force_new())
            .attr(
                AttrSchema::required("secret_string", AttrType::String)
                    .sensitive()
                    .force_new()
                    .describe("The value; a new value is a new version"),
            )
            .attr(AttrSchema::computed("version_id", AttrType::String))
            .attr(id_schema())
            .attr(arn_schema())
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let wanted = items.iter().filter_map(|item| {
            let (secret, version) = match (&item.id, &item.token) {
                (Some(id), _) => {
                    let (secret, version) = split_id(id)?;
                    (secret.to_string(), version.to_string())
                }
                (None, Some(token)) => (
                    crate::attrs::text(&item.prior, "secret_id")?.to_string(),
                    request_token(token),
                ),
                (None, None) => return None,
            };
            Some((item.address.clone(), (secret, version)))
        });
        let client = aws.secretsmanager.clone();
        read_each(wanted, move |(secret, version): (String, String)| {
            let sm = client.clone();
            async move {
                let out = sm
                    .get_secret_value()
                    .secret_id(&secret)
                    .version_id(&version)
                    .send()
                    .await
                    .map_err(|e| sdk_error("GetSecretValue", e))?;
                let arn = out.arn().unwrap_or(&secret).to_string();
                let id = format!("{arn}|{version}");
                let value = out.secret_string().unwrap_or_default().to_string();
                Ok(Some(ReadResult {
                    id: id.clone(),
                    attributes: Attrs::new()
                        .set("id", id.as_str())
                        .set("arn", arn.as_str())
                        .set("secret_id", secret.as_str())
                        .set(
                            "secret_string",
                            Value::Sensitive(Box::new(Value::string(value))),
                        )
                        .set("version_id", version.as_str())
                        .build(),
                }))
            }
        })
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let secret = required(TYPE, c, "secret_id")?;
        let value = c
            .get("secret_string")
            .map(Value::expose)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(TYPE, "`secret_string` is required"))?;
        let out = aws
            .secretsmanager
            .put_secret_value()
            .secret_id(secret)
            .secret_string(value)
            .client_request_token(request_token(&req.token))
            .send()
            .await
            .map_err(|e| sdk_error("PutSecretValue", e))?;
        let (Some(arn), Some(version)) = (out.arn(), out.version_id()) else {
            return Err(invalid(
                TYPE,
                "PutSecretValue returned no ARN or version id",
            ));
        };
        Ok(format!("{arn}|{version}"))
    }

    async fn update(&self, _aws: &Clients, _req: &UpdateRequest) -> Result<(), ProviderError> {
        // Both settings force a new version.
        Ok(())
    }

    /// A version is dropped by taking its stages away; the current one cannot be (a secret
    /// always has a current value) and goes with its secret.
    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let Some((secret, version)) = split_id(&req.id) else {
            return Err(invalid(
                TYPE,
                format!("`{}` is not SECRET_ARN|VERSION_ID", req.id),
            ));
        };
        let described = match aws
            .secretsmanager
            .describe_secret()
            .secret_id(secret)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let e = sdk_error("DescribeSecret", e);
                return if e.kind == ErrorKind::NotFound {
                    Ok(())
                } else {
                    Err(e)
                };
            }
        };
        let stages: Vec<String> = described
            .version_ids_to_stages()
            .and_then(|m| m.get(version))
            .cloned()
            .unwrap_or_default();
        for stage in stages.iter().filter(|s| s.as_str() != CURRENT) {
            aws.secretsmanager
                .update_secret_version_stage()
                .secret_id(secret)
                .version_stage(stage)
                .remove_from_version_id(version)
                .send()
                .await
                .map_err(|e| sdk_error("UpdateSecretVersionStage", e))?;
        }
        Ok(())
    }
}
