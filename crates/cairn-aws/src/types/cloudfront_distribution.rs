//! `aws_cloudfront_distribution`: the CDN in front of an ALB and an S3 bucket (seed 003's
//! Route 53 → CloudFront → ALB), with Terraform's blocks: `origin` (custom or S3),
//! `default_cache_behavior`, `ordered_cache_behavior`, `viewer_certificate`, `restrictions`.
//! Its id is the distribution id, which is also how it is imported.
//!
//! Refresh: one GetDistribution (config, status and ETag) and one ListTagsForResource per
//! distribution, concurrently, bounded. CloudFront takes minutes to deploy a change: creates and
//! updates wait until `Deployed` unless `wait_for_deployment: false`; a delete first disables the
//! distribution, waits for that to deploy, then deletes with the ETag, as AWS requires.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CacheBehavior, CacheBehaviors, CachedMethods, CustomOriginConfig,
    DefaultCacheBehavior, DistributionConfig, DistributionConfigWithTags, GeoRestriction,
    GeoRestrictionType, HttpVersion, Method, MinimumProtocolVersion, Origin, OriginProtocolPolicy,
    OriginSslProtocols, Origins, PriceClass, Restrictions, S3OriginConfig, SslProtocol,
    SslSupportMethod, Tag, Tags, ViewerCertificate, ViewerProtocolPolicy,
};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{
    Attrs, arn_schema, flag, id_schema, required, string_list, tags_schema, tags_value, text,
};
use crate::config::Clients;
use crate::each::read_each;
use crate::errors::{invalid, sdk_error};
use crate::tagging::{tag_changes, with_owner};
use crate::wait::{Check, Wait};

pub struct Distribution;

const TYPE: &str = "aws_cloudfront_distribution";
/// Terraform's default for create, update and delete.
const LIMIT: Duration = Duration::from_secs(70 * 60);
/// The zone id every CloudFront domain name lives in: the `alias` target of a Route 53 record.
const HOSTED_ZONE_ID: &str = "Z2FDTNDATAQYW2";

fn strings(v: &Value, name: &str) -> Vec<String> {
    v.get(name)
        .and_then(Value::as_list)
        .map(|l| {
            l.iter()
                .filter_map(|x| x.expose().as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn int(v: &Value, name: &str) -> Option<i32> {
    v.get(name)
        .map(Value::expose)
        .and_then(Value::as_f64)
        .map(|n| n as i32)
}

fn bad(e: impl std::fmt::Display) -> ProviderError {
    invalid(TYPE, e)
}

fn methods(v: &Value) -> Result<Option<AllowedMethods>, ProviderError> {
    let allowed = strings(v, "allowed_methods");
    if allowed.is_empty() {
        return Ok(None);
    }
    let mut cached = strings(v, "cached_methods");
    if cached.is_empty() {
        cached = vec!["GET".into(), "HEAD".into()];
    }
    let cached = CachedMethods::builder()
        .quantity(cached.len() as i32)
        .set_items(Some(
            cached.iter().map(|m| Method::from(m.as_str())).collect(),
        ))
        .build()
        .map_err(bad)?;
    AllowedMethods::builder()
        .quantity(allowed.len() as i32)
        .set_items(Some(
            allowed.iter().map(|m| Method::from(m.as_str())).collect(),
        ))
        .cached_methods(cached)
        .build()
        .map(Some)
        .map_err(bad)
}

/// The settings a default and an ordered cache behavior share, onto either builder.
macro_rules! behavior {
    ($builder:expr, $v:expr) => {{
        let v: &Value = $v;
        $builder
            .set_target_origin_id(text(v, "target_origin_id").map(String::from))
            .viewer_protocol_policy(ViewerProtocolPolicy::from(
                text(v, "viewer_protocol_policy").unwrap_or("allow-all"),
            ))
            .set_allowed_methods(methods(v)?)
            .compress(flag(v, "compress", false))
            .set_cache_policy_id(text(v, "cache_policy_id").map(String::from))
            .set_origin_request_policy_id(text(v, "origin_request_policy_id").map(String::from))
    }};
}

fn origin(v: &Value) -> Result<Origin, ProviderError> {
    let mut o = Origin::builder()
        .set_id(text(v, "origin_id").map(String::from))
        .set_domain_name(text(v, "domain_name").map(String::from))
        .origin_path(text(v, "origin_path").unwrap_or(""))
        .set_origin_access_control_id(text(v, "origin_access_control_id").map(String::from));
    if let Some(c) = v
        .get("custom_origin_config")
        .filter(|c| c.as_map().is_some())
    {
        let mut protocols = strings(c, "origin_ssl_protocols");
        if protocols.is_empty() {
            protocols = vec!["TLSv1.2".into()];
        }
        let ssl = OriginSslProtocols::builder()
            .quantity(protocols.len() as i32)
            .set_items(Some(
                protocols
                    .iter()
                    .map(|p| SslProtocol::from(p.as_str()))
                    .collect(),
            ))
            .build()
            .map_err(bad)?;
        o = o.custom_origin_config(
            CustomOriginConfig::builder()
                .http_port(int(c, "http_port").unwrap_or(80))
                .https_port(int(c, "https_port").unwrap_or(443))
                .origin_protocol_policy(OriginProtocolPolicy::from(
                    text(c, "origin_protocol_policy").unwrap_or("https-only"),
                ))
                .origin_ssl_protocols(ssl)
                .build()
                .map_err(bad)?,
        );
    } else {
        let identity = v
            .get("s3_origin_config")
            .and_then(|s| text(s, "origin_access_identity"))
            .unwrap_or("");
        o = o.s3_origin_config(
            S3OriginConfig::builder()
                .origin_access_identity(identity)
                .build(),
        );
    }
    o.build().map_err(bad)
}

/// The API's DistributionConfig for the spec's configuration.
fn distribution_config(
    c: &Value,
    caller_reference: &str,
) -> Result<DistributionConfig, ProviderError> {
    let origins: Vec<Origin> = c
        .get("origin")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .map(origin)
        .collect::<Result<_, _>>()?;
    if origins.is_empty() {
        return Err(bad("at least one `origin` is required"));
    }
    let default = c
        .get("default_cache_behavior")
        .ok_or_else(|| bad("`default_cache_behavior` is required"))?;
    let default = behavior!(DefaultCacheBehavior::builder(), default)
        .build()
        .map_err(bad)?;
    let ordered: Vec<CacheBehavior> = c
        .get("ordered_cache_behavior")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .map(|b| {
            behavior!(CacheBehavior::builder(), b)
                .set_path_pattern(text(b, "path_pattern").map(String::from))
                .build()
                .map_err(bad)
        })
        .collect::<Result<_, _>>()?;
    let aliases = strings(c, "aliases");
    let certificate = c.get("viewer_certificate").cloned().unwrap_or(Value::Null);
    let viewer_certificate = match text(&certificate, "acm_certificate_arn") {
        Some(arn) => ViewerCertificate::builder()
            .acm_certificate_arn(arn)
            .ssl_support_method(SslSupportMethod::from(
                text(&certificate, "ssl_support_method").unwrap_or("sni-only"),
            ))
            .minimum_protocol_version(MinimumProtocolVersion::from(
                text(&certificate, "minimum_protocol_version").unwrap_or("TLSv1.2_2021"),
            ))
            .build(),
        None => ViewerCertificate::builder()
            .cloud_front_default_certificate(true)
            .build(),
    };
    let geo = c
        .get("restrictions")
        .and_then(|r| r.get("geo_restriction"))
        .cloned()
        .unwrap_or(Value::Null);
    let locations = strings(&geo, "locations");
    let restrictions = Restrictions::builder()
        .geo_restriction(
            GeoRestriction::builder()
                .restriction_type(GeoRestrictionType::from(
                    text(&geo, "restriction_type").unwrap_or("none"),
                ))
                .quantity(locations.len() as i32)
                .set_items((!locations.is_empty()).then_some(locations))
                .build()
                .map_err(bad)?,
        )
        .build();
    DistributionConfig::builder()
        .caller_reference(caller_reference)
        .aliases(
            Aliases::builder()
                .quantity(aliases.len() as i32)
                .set_items((!aliases.is_empty()).then_some(aliases))
                .build()
                .map_err(bad)?,
        )
        .default_root_object(text(c, "default_root_object").unwrap_or(""))
        .origins(
            Origins::builder()
                .quantity(origins.len() as i32)
                .set_items(Some(origins))
                .build()
                .map_err(bad)?,
        )
        .default_cache_behavior(default)
        .cache_behaviors(
            CacheBehaviors::builder()
                .quantity(ordered.len() as i32)
                .set_items((!ordered.is_empty()).then_some(ordered))
                .build()
                .map_err(bad)?,
        )
        .comment(text(c, "comment").unwrap_or(""))
        .price_class(PriceClass::from(
            text(c, "price_class").unwrap_or("PriceClass_All"),
        ))
        .enabled(flag(c, "enabled", true))
        .viewer_certificate(viewer_certificate)
        .restrictions(restrictions)
        .web_acl_id(text(c, "web_acl_id").unwrap_or(""))
        .http_version(HttpVersion::from(
            text(c, "http_version").unwrap_or("http2"),
        ))
        .is_ipv6_enabled(flag(c, "is_ipv6_enabled", false))
        .build()
        .map_err(bad)
}

fn behavior_value(
    target: &str,
    policy: &str,
    allowed: Option<&AllowedMethods>,
    compress: Option<bool>,
    cache_policy: Option<&str>,
    request_policy: Option<&str>,
) -> Attrs {
    // Only what is set: the differ has no defaults inside a block, and the spec leaves out what
    // it does not use (compress off, no policies).
    let names = |m: &[Method]| string_list(m.iter().map(|m| m.as_str().to_string()));
    let mut attrs = Attrs::new()
        .set("target_origin_id", target)
        .set("viewer_protocol_policy", policy);
    if let Some(a) = allowed {
        attrs = attrs.set("allowed_methods", names(a.items()));
        if let Some(c) = a.cached_methods() {
            attrs = attrs.set("cached_methods", names(c.items()));
        }
    }
    if compress == Some(true) {
        attrs = attrs.set("compress", true);
    }
    for (name, value) in [
        ("cache_policy_id", cache_policy),
        ("origin_request_policy_id", request_policy),
    ] {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            attrs = attrs.set(name, v);
        }
    }
    attrs
}

/// The spec's attributes of a DistributionConfig as the API returns it.
fn config_value(dc: &DistributionConfig) -> Attrs {
    let origins = dc
        .origins()
        .map(|o| o.items())
        .unwrap_or_default()
        .iter()
        .map(|o| {
            let mut attrs = Attrs::new()
                .set("origin_id", o.id())
                .set("domain_name", o.domain_name());
            for (name, value) in [
                ("origin_path", o.origin_path()),
                ("origin_access_control_id", o.origin_access_control_id()),
            ] {
                if let Some(v) = value.filter(|v| !v.is_empty()) {
                    attrs = attrs.set(name, v);
                }
            }
            if let Some(c) = o.custom_origin_config() {
                let protocols = c
                    .origin_ssl_protocols()
                    .map(|p| string_list(p.items().iter().map(|s| s.as_str().to_string())));
                attrs = attrs.set(
                    "custom_origin_config",
                    Attrs::new()
                        .set("http_port", Value::Number(c.http_port().into()))
                        .set("https_port", Value::Number(c.https_port().into()))
                        .set(
                            "origin_protocol_policy",
                            c.origin_protocol_policy().as_str(),
                        )
                        .opt("origin_ssl_protocols", protocols)
                        .build(),
                );
            } else if let Some(s) = o.s3_origin_config()
                && !s.origin_access_identity().is_empty()
            {
                attrs = attrs.set(
                    "s3_origin_config",
                    Attrs::new()
                        .set("origin_access_identity", s.origin_access_identity())
                        .build(),
                );
            }
            attrs.build()
        })
        .collect();
    let default = dc.default_cache_behavior().map(|b| {
        behavior_value(
            b.target_origin_id(),
            b.viewer_protocol_policy().as_str(),
            b.allowed_methods(),
            b.compress(),
            b.cache_policy_id(),
            b.origin_request_policy_id(),
        )
        .build()
    });
    let ordered = dc
        .cache_behaviors()
        .map(|c| c.items())
        .unwrap_or_default()
        .iter()
        .map(|b| {
            behavior_value(
                b.target_origin_id(),
                b.viewer_protocol_policy().as_str(),
                b.allowed_methods(),
                b.compress(),
                b.cache_policy_id(),
                b.origin_request_policy_id(),
            )
            .set("path_pattern", b.path_pattern())
            .build()
        })
        .collect();
    // CloudFront's own certificate is what an unset `viewer_certificate` means.
    let certificate = dc.viewer_certificate().and_then(|v| {
        let arn = v.acm_certificate_arn().filter(|a| !a.is_empty())?;
        Some(
            Attrs::new()
                .set("acm_certificate_arn", arn)
                .opt(
                    "ssl_support_method",
                    v.ssl_support_method().map(|m| m.as_str()),
                )
                .opt(
                    "minimum_protocol_version",
                    v.minimum_protocol_version().map(|m| m.as_str()),
                )
                .build(),
        )
    });
    let geo = dc
        .restrictions()
        .and_then(|r| r.geo_restriction())
        .filter(|g| g.restriction_type().as_str() != "none")
        .map(|g| {
            Attrs::new()
                .set(
                    "geo_restriction",
                    Attrs::new()
                        .set("restriction_type", g.restriction_type().as_str())
                        .set("locations", string_list(g.items().iter().cloned()))
                        .build(),
                )
                .build()
        });
    Attrs::new()
        .set("enabled", dc.enabled())
        .opt("comment", Some(dc.comment()).filter(|c| !c.is_empty()))
        .set(
            "aliases",
            string_list(dc.aliases().map(|a| a.items().to_vec()).unwrap_or_default()),
        )
        .set(
            "price_class",
            dc.price_class()
                .map(|p| p.as_str())
                .unwrap_or("PriceClass_All"),
        )
        .set("is_ipv6_enabled", dc.is_ipv6_enabled().unwrap_or(false))
        .set(
            "http_version",
            dc.http_version().map(|h| h.as_str()).unwrap_or("http2"),
        )
        .opt(
            "default_root_object",
            dc.default_root_object().filter(|o| !o.is_empty()),
        )
        .opt("web_acl_id", dc.web_acl_id().filter(|w| !w.is_empty()))
        .set("origin", Value::List(origins))
        .opt("default_cache_behavior", default)
        .set("ordered_cache_behavior", Value::List(ordered))
        .opt("viewer_certificate", certificate)
        .opt("restrictions", geo)
}

/// The distribution's status and current ETag.
async fn status(
    client: &aws_sdk_cloudfront::Client,
    id: &str,
) -> Result<(String, String), ProviderError> {
    let out = client
        .get_distribution()
        .id(id)
        .send()
        .await
        .map_err(|e| sdk_error("GetDistribution", e))?;
    let state = out
        .distribution()
        .map(|d| d.status().to_string())
        .unwrap_or_default();
    Ok((state, out.e_tag().unwrap_or_default().to_string()))
}

async fn wait_deployed(
    aws: &Clients,
    id: &str,
    operation: &str,
    limit: Duration,
) -> Result<String, ProviderError> {
    let what = format!("CloudFront distribution {id}");
    Wait {
        what: &what,
        until: "Deployed",
        operation,
        limit,
    }
    .run(|| async {
        let (state, etag) = status(&aws.cloudfront, id).await?;
        Ok(if state == "Deployed" {
            Check::Done(etag)
        } else {
            Check::Waiting(state)
        })
    })
    .await
}

#[async_trait]
impl Resource for Distribution {
    fn schema(&self) -> Schema {
        let list = || AttrType::List(Box::new(AttrType::String));
        let blocks = || AttrType::List(Box::new(AttrType::Any));
        Schema::resource(PROVIDER, TYPE)
            .import_id("DISTRIBUTION_ID")
            .describe("A CloudFront distribution: origins (ALB, S3), cache behaviors, certificate")
            .typical_create_secs(300.0)
            .attr(AttrSchema::required("enabled", AttrType::Bool))
            .attr(AttrSchema::optional("comment", AttrType::String))
            .attr(AttrSchema::optional("aliases", list()).describe("Alternate domain names (CNAMEs)"))
            .attr(AttrSchema::optional("price_class", AttrType::String).default("PriceClass_All"))
            .attr(AttrSchema::optional("is_ipv6_enabled", AttrType::Bool).default(false))
            .attr(AttrSchema::optional("http_version", AttrType::String).default("http2"))
            .attr(AttrSchema::optional("default_root_object", AttrType::String))
            .attr(AttrSchema::optional("web_acl_id", AttrType::String).describe("A CLOUDFRONT-scope WAF web ACL's ARN"))
            .attr(
                AttrSchema::required("origin", blocks())
                    .describe("origin_id, domain_name, origin_path, custom_origin_config or s3_origin_config, origin_access_control_id"),
            )
            .attr(
                AttrSchema::required("default_cache_behavior", AttrType::Any)
                    .describe("target_origin_id, viewer_protocol_policy, allowed_methods, cached_methods, cache_policy_id, compress"),
            )
            .attr(AttrSchema::optional("ordered_cache_behavior", blocks()).describe("As default_cache_behavior, plus path_pattern"))
            .attr(
                AttrSchema::optional("viewer_certificate", AttrType::Any)
                    .describe("acm_certificate_arn (us-east-1), ssl_support_method, minimum_protocol_version; else CloudFront's own"),
            )
            .attr(AttrSchema::optional("restrictions", AttrType::Any).describe("geo_restriction: restriction_type, locations"))
            .attr(AttrSchema::optional("wait_for_deployment", AttrType::Bool).default(true))
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed("domain_name", AttrType::String))
            .attr(AttrSchema::computed("hosted_zone_id", AttrType::String))
            .attr(AttrSchema::computed("status", AttrType::String))
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let wanted = items
            .iter()
            .filter_map(|i| Some((i.address.clone(), (i.id.clone()?, i.prior.clone()))));
        let client = aws.cloudfront.clone();
        read_each(wanted, move |(id, prior): (String, Value)| {
            let client = client.clone();
            async move {
                let out = client
                    .get_distribution()
                    .id(&id)
                    .send()
                    .await
                    .map_err(|e| sdk_error("GetDistribution", e))?;
                let Some(d) = out.distribution() else {
                    return Ok(None);
                };
                let tags = client
                    .list_tags_for_resource()
                    .resource(d.arn())
                    .send()
                    .await
                    .map_err(|e| sdk_error("ListTagsForResource", e))?;
                let tags: BTreeMap<String, String> = tags
                    .tags()
                    .map(|t| t.items())
                    .unwrap_or_default()
                    .iter()
                    .map(|t| {
                        (
                            t.key().to_string(),
                            t.value().unwrap_or_default().to_string(),
                        )
                    })
                    .collect();
                let attrs = d
                    .distribution_config()
                    .map(config_value)
                    .unwrap_or_default()
                    .set("id", d.id())
                    .set("arn", d.arn())
                    .set("domain_name", d.domain_name())
                    .set("hosted_zone_id", HOSTED_ZONE_ID)
                    .set("status", d.status())
                    // How cairn applies changes, not a property of the distribution.
                    .set(
                        "wait_for_deployment",
                        flag(&prior, "wait_for_deployment", true),
                    )
                    .set(
                        "tags",
                        tags_value(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
                    );
                Ok(Some(ReadResult {
                    id: d.id().to_string(),
                    attributes: attrs.build(),
                }))
            }
        })
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let tags: Vec<Tag> = with_owner(&req.config, &req.address)
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(bad))
            .collect::<Result<_, _>>()?;
        // The token as caller reference: a retried create returns the same distribution.
        let out = aws
            .cloudfront
            .create_distribution_with_tags()
            .distribution_config_with_tags(
                DistributionConfigWithTags::builder()
                    .distribution_config(distribution_config(&req.config, &req.token)?)
                    .tags(Tags::builder().set_items(Some(tags)).build())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("CreateDistributionWithTags", e))?;
        let id = out
            .distribution()
            .map(|d| d.id().to_string())
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::Other,
                    "CreateDistributionWithTags returned no distribution",
                )
            })?;
        if flag(&req.config, "wait_for_deployment", true) {
            wait_deployed(aws, &id, "create", req.timeout.unwrap_or(LIMIT)).await?;
        }
        Ok(id)
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let settings = req
            .changed
            .iter()
            .any(|a| a != "tags" && a != "wait_for_deployment");
        if settings {
            let current = aws
                .cloudfront
                .get_distribution_config()
                .id(&req.id)
                .send()
                .await
                .map_err(|e| sdk_error("GetDistributionConfig", e))?;
            let caller_reference = current
                .distribution_config()
                .map(|c| c.caller_reference().to_string())
                .unwrap_or_default();
            aws.cloudfront
                .update_distribution()
                .id(&req.id)
                .set_if_match(current.e_tag().map(String::from))
                .distribution_config(distribution_config(&req.config, &caller_reference)?)
                .send()
                .await
                .map_err(|e| sdk_error("UpdateDistribution", e))?;
            if flag(&req.config, "wait_for_deployment", true) {
                wait_deployed(aws, &req.id, "update", req.timeout.unwrap_or(LIMIT)).await?;
            }
        }
        if req.changed.iter().any(|a| a == "tags") {
            let arn = required(TYPE, &req.prior, "arn")?;
            let edits = tag_changes(&req.prior, &req.config);
            if !edits.removed.is_empty() {
                aws.cloudfront
                    .untag_resource()
                    .resource(arn)
                    .tag_keys(
                        aws_sdk_cloudfront::types::TagKeys::builder()
                            .set_items(Some(edits.removed))
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| sdk_error("UntagResource", e))?;
            }
            if !edits.set.is_empty() {
                let set: Vec<Tag> = edits
                    .set
                    .into_iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(bad))
                    .collect::<Result<_, _>>()?;
                aws.cloudfront
                    .tag_resource()
                    .resource(arn)
                    .tags(Tags::builder().set_items(Some(set)).build())
                    .send()
                    .await
                    .map_err(|e| sdk_error("TagResource", e))?;
            }
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let limit = req.timeout.unwrap_or(LIMIT);
        let current = aws
            .cloudfront
            .get_distribution_config()
            .id(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("GetDistributionConfig", e))?;
        let mut etag = current.e_tag().unwrap_or_default().to_string();
        // AWS deletes only a disabled, deployed distribution.
        if let Some(config) = current.distribution_config().filter(|c| c.enabled()) {
            let mut disabled = config.clone();
            disabled.enabled = false;
            aws.cloudfront
                .update_distribution()
                .id(&req.id)
                .if_match(&etag)
                .distribution_config(disabled)
                .send()
                .await
                .map_err(|e| sdk_error("UpdateDistribution", e))?;
            etag = wait_deployed(aws, &req.id, "delete", limit).await?;
        }
        aws.cloudfront
            .delete_distribution()
            .id(&req.id)
            .if_match(etag)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteDistribution", e))?;
        Ok(())
    }
}
