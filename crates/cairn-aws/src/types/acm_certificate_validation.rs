//! `aws_acm_certificate_validation`: no AWS object, a wait: create returns once the certificate
//! is ISSUED (its DNS validation records resolve), so what uses the certificate comes after. Its
//! id is the certificate's ARN, which is also how it is imported.
//!
//! A certificate that is not ISSUED (or is gone) reads as absent, so the next apply waits again.
//! Delete removes it from state only. Refresh: one DescribeCertificate per certificate,
//! concurrently and bounded.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_acm::types::CertificateStatus;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::route53_record::normalize;
use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, id_schema, required};
use crate::config::Clients;
use crate::each::read_each;
use crate::elbv2::strings;
use crate::errors::{invalid, sdk_error};
use crate::wait::{Check, Wait};

pub struct CertificateValidation;

const TYPE: &str = "aws_acm_certificate_validation";
/// Terraform's create timeout: DNS validation usually takes minutes, at worst much longer.
const WAIT_LIMIT: Duration = Duration::from_secs(75 * 60);

#[async_trait]
impl Resource for CertificateValidation {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("CERTIFICATE_ARN")
            .describe("Waits until an ACM certificate is issued")
            .attr(AttrSchema::required("certificate_arn", AttrType::String).force_new())
            .attr(
                AttrSchema::optional(
                    "validation_record_fqdns",
                    AttrType::List(Box::new(AttrType::String)),
                )
                .force_new()
                .describe("The validation records' names, checked against the certificate's"),
            )
            .attr(id_schema())
            .typical_create_secs(60.0)
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let wanted = items.iter().filter_map(|i| {
            let fqdns = i
                .prior
                .get("validation_record_fqdns")
                .cloned()
                .unwrap_or(Value::Null);
            Some((i.address.clone(), (i.id.clone()?, fqdns)))
        });
        let client = aws.acm.clone();
        read_each(wanted, move |(arn, fqdns): (String, Value)| {
            let acm = client.clone();
            async move {
                let out = acm
                    .describe_certificate()
                    .certificate_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| sdk_error("DescribeCertificate", e))?;
                let Some(cert) = out
                    .certificate()
                    .filter(|c| c.status() == Some(&CertificateStatus::Issued))
                else {
                    return Ok(None);
                };
                // Imported without the records in state yet: the names the certificate wants.
                let fqdns = match fqdns {
                    Value::List(l)
                        if !l.is_empty() && l.iter().all(|v| v.expose().as_str().is_some()) =>
                    {
                        Value::List(l)
                    }
                    _ => Value::List(
                        cert.domain_validation_options()
                            .iter()
                            .filter_map(|v| v.resource_record())
                            .map(|r| Value::String(normalize(r.name())))
                            .collect(),
                    ),
                };
                Ok(Some(ReadResult {
                    id: arn.clone(),
                    attributes: Attrs::new()
                        .set("id", arn.as_str())
                        .set("certificate_arn", arn.as_str())
                        .set("validation_record_fqdns", fqdns)
                        .build(),
                }))
            }
        })
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let arn = required(TYPE, &req.config, "certificate_arn")?;
        let fqdns: Vec<String> = strings(&req.config, "validation_record_fqdns")
            .iter()
            .map(|f| normalize(f))
            .collect();
        let what = format!("certificate {arn}");
        Wait {
            what: &what,
            until: "ISSUED",
            operation: "create",
            limit: req.timeout.unwrap_or(WAIT_LIMIT),
        }
        .run(|| async {
            let out = aws
                .acm
                .describe_certificate()
                .certificate_arn(arn)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeCertificate", e))?;
            let Some(cert) = out.certificate() else {
                return Ok(Check::Waiting("not listed".to_string()));
            };
            if !fqdns.is_empty() {
                let missing: Vec<String> = cert
                    .domain_validation_options()
                    .iter()
                    .filter_map(|v| v.resource_record())
                    .map(|r| normalize(r.name()))
                    .filter(|n| !fqdns.contains(n))
                    .collect();
                if !missing.is_empty() {
                    return Err(invalid(
                        TYPE,
                        format!(
                            "`validation_record_fqdns` lacks the validation record(s) {} of {arn}",
                            missing.join(", ")
                        ),
                    ));
                }
            }
            match cert.status() {
                Some(CertificateStatus::Issued) => Ok(Check::Done(())),
                Some(
                    s @ (CertificateStatus::Failed
                    | CertificateStatus::ValidationTimedOut
                    | CertificateStatus::Revoked
                    | CertificateStatus::Expired),
                ) => Err(ProviderError::new(
                    ErrorKind::Other,
                    format!(
                        "certificate {arn} will not be issued: it is {} ({})",
                        s.as_str(),
                        cert.failure_reason()
                            .map_or("no reason given", |r| r.as_str())
                    ),
                )),
                s => Ok(Check::Waiting(
                    s.map_or("unknown", |s| s.as_str()).to_string(),
                )),
            }
        })
        .await?;
        Ok(arn.to_string())
    }

    async fn update(&self, _aws: &Clients, _req: &UpdateRequest) -> Result<(), ProviderError> {
        // Every attribute forces a new wait.
        Ok(())
    }

    async fn delete(&self, _aws: &Clients, _req: &DeleteRequest) -> Result<(), ProviderError> {
        Ok(())
    }
}
