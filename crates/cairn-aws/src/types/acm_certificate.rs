//! `aws_acm_certificate`: a public certificate issued by ACM for the load balancer's HTTPS
//! listener, validated by DNS. Its id is its ARN, which is also how it is imported.
//!
//! `domain_validation_options` lists, per domain, the CNAME record that proves ownership, so the
//! spec can create it in Route53 (`aws_route53_record`). ACM adds those a moment after
//! RequestCertificate answers, so create waits until every domain has its record.
//!
//! ACM has no batch read (ListCertificates has neither the validation records nor tags), so
//! refresh runs one DescribeCertificate and one ListTagsForCertificate per certificate,
//! concurrently and bounded.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_acm::types::{CertificateDetail, Tag, ValidationMethod};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, id_schema, required, tags_schema, tags_value, text};
use crate::config::Clients;
use crate::each::read_each;
use crate::elbv2::{prior_order, strings};
use crate::errors::{invalid, sdk_error};
use crate::tagging::{tag_changes, with_owner};
use crate::wait::{Check, Wait};

pub struct Certificate;

const TYPE: &str = "aws_acm_certificate";
/// How long ACM may take to publish the validation records (seconds on AWS).
const OPTIONS_LIMIT: Duration = Duration::from_secs(300);
/// Terraform retries deleting a certificate still in use for 20 minutes: a load balancer lets
/// go of it a while after its listener is deleted.
const DELETE_LIMIT: Duration = Duration::from_secs(1200);

fn options_type() -> AttrType {
    AttrType::List(Box::new(AttrType::Object(BTreeMap::from([
        ("domain_name".to_string(), AttrType::String),
        ("resource_record_name".to_string(), AttrType::String),
        ("resource_record_type".to_string(), AttrType::String),
        ("resource_record_value".to_string(), AttrType::String),
    ]))))
}

fn acm_tags(
    resource_type: &str,
    tags: BTreeMap<String, String>,
) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| invalid(resource_type, e))
        })
        .collect()
}

/// The ARNs of the certificates that `pending` creates made, by address: the certificates for
/// their domain names whose ownership tag names them (ListCertificates, then the tags of those
/// candidates only).
async fn find_owned(
    aws: &Clients,
    pending: &[&ReadItem],
) -> Result<BTreeMap<String, String>, ProviderError> {
    let summaries = crate::paginate::all_pages(|token| async move {
        let out = aws
            .acm
            .list_certificates()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| sdk_error("ListCertificates", e))?;
        Ok((
            out.certificate_summary_list.unwrap_or_default(),
            out.next_token,
        ))
    })
    .await?;
    let mut found = BTreeMap::new();
    for item in pending {
        let domain = text(&item.prior, "domain_name");
        for summary in &summaries {
            let (Some(arn), true) = (
                summary.certificate_arn(),
                domain.is_none() || summary.domain_name() == domain,
            ) else {
                continue;
            };
            let tags = aws
                .acm
                .list_tags_for_certificate()
                .certificate_arn(arn)
                .send()
                .await
                .map_err(|e| sdk_error("ListTagsForCertificate", e))?;
            let owned = tags.tags().iter().any(|t| {
                t.key() == crate::attrs::ADDRESS_TAG && t.value() == Some(item.address.as_str())
            });
            if owned {
                found.insert(item.address.clone(), arn.to_string());
                break;
            }
        }
    }
    Ok(found)
}

/// ACM's idempotency token is at most 32 word characters: a digest of cairn's token keeps a
/// retried create from requesting a second certificate.
fn idempotency_token(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))[..32].to_string()
}

/// Every domain's validation record, by domain; `None` until ACM has published all of them.
fn validation_options(cert: &CertificateDetail) -> Option<Vec<Value>> {
    let mut options: Vec<Value> = Vec::new();
    for v in cert.domain_validation_options() {
        if v.validation_method()
            .is_some_and(|m| *m != ValidationMethod::Dns)
        {
            continue;
        }
        let record = v.resource_record()?;
        options.push(
            Attrs::new()
                .set("domain_name", v.domain_name())
                .set("resource_record_name", record.name())
                .set("resource_record_type", record.r#type().as_str())
                .set("resource_record_value", record.value())
                .build(),
        );
    }
    if options.is_empty() {
        return None;
    }
    options.sort_by(|a, b| {
        text(a, "domain_name")
            .unwrap_or_default()
            .cmp(text(b, "domain_name").unwrap_or_default())
    });
    Some(options)
}

#[async_trait]
impl Resource for Certificate {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("CERTIFICATE_ARN")
            .describe("An ACM certificate validated by DNS")
            .attr(AttrSchema::required("domain_name", AttrType::String).force_new())
            .attr(
                AttrSchema::optional(
                    "subject_alternative_names",
                    AttrType::List(Box::new(AttrType::String)),
                )
                .force_new()
                .describe("More names the certificate covers (not repeating domain_name)"),
            )
            .attr(
                AttrSchema::optional("validation_method", AttrType::String)
                    .default("DNS")
                    .force_new(),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(
                AttrSchema::computed("status", AttrType::String)
                    .describe("PENDING_VALIDATION until the DNS records resolve, then ISSUED"),
            )
            .attr(
                AttrSchema::computed("domain_validation_options", options_type()).describe(
                    "Per domain, the DNS record to create: domain_name, resource_record_name, \
                     resource_record_type, resource_record_value",
                ),
            )
            .typical_create_secs(5.0)
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        // A create that never reached state: its certificate carries the ownership tag.
        let pending: Vec<&ReadItem> = items
            .iter()
            .filter(|i| i.id.is_none() && i.token.is_some())
            .collect();
        let adopted = if pending.is_empty() {
            BTreeMap::new()
        } else {
            find_owned(aws, &pending).await?
        };
        let wanted = items.iter().filter_map(|i| {
            let id = i.id.clone().or_else(|| adopted.get(&i.address).cloned())?;
            Some((
                i.address.clone(),
                (id, strings(&i.prior, "subject_alternative_names")),
            ))
        });
        let client = aws.acm.clone();
        read_each(wanted, move |(arn, prior_sans): (String, Vec<String>)| {
            let acm = client.clone();
            async move {
                let out = acm
                    .describe_certificate()
                    .certificate_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| sdk_error("DescribeCertificate", e))?;
                let Some(cert) = out.certificate() else {
                    return Ok(None);
                };
                let tagged = acm
                    .list_tags_for_certificate()
                    .certificate_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| sdk_error("ListTagsForCertificate", e))?;
                let domain = cert.domain_name().unwrap_or_default();
                // ACM lists the domain name among the alternative names; Terraform does not.
                let sans: Vec<String> = cert
                    .subject_alternative_names()
                    .iter()
                    .filter(|n| n.as_str() != domain)
                    .cloned()
                    .collect();
                let method = cert
                    .domain_validation_options()
                    .first()
                    .and_then(|v| v.validation_method())
                    .map_or("DNS", |m| m.as_str());
                let attributes = Attrs::new()
                    .set("id", arn.as_str())
                    .set("arn", arn.as_str())
                    .set("domain_name", domain)
                    .set(
                        "subject_alternative_names",
                        Value::List(
                            prior_order(sans, &prior_sans)
                                .into_iter()
                                .map(Value::String)
                                .collect(),
                        ),
                    )
                    .set("validation_method", method)
                    .opt("status", cert.status().map(|s| s.as_str()))
                    .set(
                        "domain_validation_options",
                        Value::List(validation_options(cert).unwrap_or_default()),
                    )
                    .set(
                        "tags",
                        tags_value(
                            tagged
                                .tags()
                                .iter()
                                .map(|t| (t.key(), t.value().unwrap_or_default())),
                        ),
                    )
                    .build();
                Ok(Some(ReadResult {
                    id: arn,
                    attributes,
                }))
            }
        })
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let method = text(c, "validation_method").unwrap_or("DNS");
        if method != "DNS" {
            return Err(invalid(
                TYPE,
                format!("`validation_method` {method:?}: only DNS validation is supported"),
            ));
        }
        let sans = strings(c, "subject_alternative_names");
        let domain = required(TYPE, c, "domain_name")?;
        // ACM wants the domain among the alternative names when there are any.
        let all_names = (!sans.is_empty()).then(|| {
            std::iter::once(domain.to_string())
                .chain(sans.iter().filter(|s| s.as_str() != domain).cloned())
                .collect::<Vec<_>>()
        });
        let out = aws
            .acm
            .request_certificate()
            .domain_name(domain)
            .set_subject_alternative_names(all_names)
            .validation_method(ValidationMethod::Dns)
            .idempotency_token(idempotency_token(&req.token))
            .set_tags(Some(acm_tags(TYPE, with_owner(c, &req.address))?))
            .send()
            .await
            .map_err(|e| sdk_error("RequestCertificate", e))?;
        let arn = out
            .certificate_arn()
            .ok_or_else(|| {
                ProviderError::new(ErrorKind::Other, "RequestCertificate returned no ARN")
            })?
            .to_string();
        let what = format!("certificate {arn}");
        Wait {
            what: &what,
            until: "ready with its DNS validation records",
            operation: "create",
            limit: req.timeout.unwrap_or(OPTIONS_LIMIT),
        }
        .run(|| async {
            let out = aws
                .acm
                .describe_certificate()
                .certificate_arn(&arn)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeCertificate", e))?;
            match out.certificate().and_then(validation_options) {
                Some(_) => Ok(Check::Done(())),
                None => Ok(Check::Waiting("no validation records yet".to_string())),
            }
        })
        .await?;
        Ok(arn)
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let edits = tag_changes(&req.prior, &req.config);
        if !edits.removed.is_empty() {
            let keys = edits
                .removed
                .into_iter()
                .map(|k| Tag::builder().key(k).build().map_err(|e| invalid(TYPE, e)))
                .collect::<Result<Vec<_>, _>>()?;
            aws.acm
                .remove_tags_from_certificate()
                .certificate_arn(&req.id)
                .set_tags(Some(keys))
                .send()
                .await
                .map_err(|e| sdk_error("RemoveTagsFromCertificate", e))?;
        }
        if !edits.set.is_empty() {
            aws.acm
                .add_tags_to_certificate()
                .certificate_arn(&req.id)
                .set_tags(Some(acm_tags(TYPE, edits.set)?))
                .send()
                .await
                .map_err(|e| sdk_error("AddTagsToCertificate", e))?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let what = format!("certificate {}", req.id);
        Wait {
            what: &what,
            until: "deleted (no longer in use)",
            operation: "delete",
            limit: req.timeout.unwrap_or(DELETE_LIMIT),
        }
        .run(|| async {
            match aws
                .acm
                .delete_certificate()
                .certificate_arn(&req.id)
                .send()
                .await
            {
                Ok(_) => Ok(Check::Done(())),
                Err(e) => {
                    let e = sdk_error("DeleteCertificate", e);
                    if e.kind == ErrorKind::NotFound {
                        Ok(Check::Done(()))
                    } else if e.message.contains("ResourceInUseException") {
                        Ok(Check::Waiting(e.message))
                    } else {
                        Err(e)
                    }
                }
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idempotency_token_fits_acm() {
        let t = idempotency_token("lineage/aws_acm_certificate.web/0000");
        assert_eq!(t.len(), 32);
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(t, idempotency_token("lineage/aws_acm_certificate.web/0000"));
    }
}
