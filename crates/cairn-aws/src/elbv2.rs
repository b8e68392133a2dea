//! What the four Elastic Load Balancing v2 types share: error codes, batched Describe calls that
//! survive a vanished ARN, tags (one DescribeTags per 20 ARNs), and listener / rule actions in
//! Terraform's block form.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, FixedResponseActionConfig, RedirectActionConfig,
    RedirectActionStatusCodeEnum, Tag,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use cairn_provider::provider::{ErrorKind, ProviderError};
use cairn_provider::schema::AttrType;
use cairn_provider::value::Value;

use cairn_provider::provider::ReadItem;

use crate::attrs::{ADDRESS_TAG, Attrs, number, tags_value, text};
use crate::config::Clients;
use crate::each::read_each;
use crate::errors::{invalid, sdk_error};
use crate::paginate::all_pages;
use crate::tagging::tag_changes;

/// ARNs per Describe call: AWS's limit for DescribeTags and DescribeLoadBalancers.
pub const CHUNK: usize = 20;

/// An ELB error, typed: ELB's not-found codes have no `.NotFound` suffix
/// (`LoadBalancerNotFound`, `TargetGroupNotFound`, `ListenerNotFound`, `RuleNotFound`), and
/// `ResourceInUse` (a target group a listener still forwards to) is a conflict that clears.
pub fn elb_error<E>(operation: &str, err: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = err.code().unwrap_or_default().to_string();
    let mut e = sdk_error(operation, err);
    if code.ends_with("NotFound") {
        e.kind = ErrorKind::NotFound;
    } else if code == "ResourceInUse" || code.starts_with("Duplicate") || code == "PriorityInUse" {
        e.kind = ErrorKind::Conflict;
    }
    e
}

/// The part of an ARN after `marker` (`loadbalancer/`, `targetgroup/`): what CloudWatch metrics
/// take as dimension (`app/web/50dc6c495c0c9188`).
pub fn arn_suffix(arn: &str, marker: &str) -> Option<String> {
    let (_, tail) = arn.split_once(':')?;
    let resource = tail.splitn(5, ':').nth(4)?;
    if marker.ends_with('/') {
        resource.strip_prefix(marker).map(String::from)
    } else {
        resource.starts_with(marker).then(|| resource.to_string())
    }
}

/// A name for a resource the spec left unnamed: stable per address, within ELB's 32 characters.
pub fn generated_name(address: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = hex::encode(Sha256::digest(address.as_bytes()));
    format!("cairn-{}", &h[..20])
}

/// Describes `arns` `CHUNK` at a time. AWS fails a whole Describe when one ARN is gone, so a
/// chunk that fails with NotFound is described again one ARN at a time (concurrently, bounded),
/// leaving out the ones that are gone.
pub async fn describe_chunked<T, F, Fut>(
    arns: Vec<String>,
    fetch: F,
) -> Result<Vec<T>, ProviderError>
where
    T: Send + 'static,
    F: Fn(Vec<String>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<T>, ProviderError>> + Send + 'static,
{
    let mut all = Vec::new();
    for chunk in arns.chunks(CHUNK) {
        match fetch(chunk.to_vec()).await {
            Ok(found) => all.extend(found),
            Err(e) if e.kind == ErrorKind::NotFound => {
                let one = fetch.clone();
                let each = read_each(
                    chunk.iter().map(|arn| (arn.clone(), vec![arn.clone()])),
                    move |arns: Vec<String>| {
                        let one = one.clone();
                        async move { one(arns).await.map(Some) }
                    },
                )
                .await?;
                all.extend(each.into_values().flatten());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(all)
}

/// The tags of every ARN (all of one kind), `CHUNK` per DescribeTags call, as AWS holds them.
async fn raw_tags_by_arn(
    aws: &Clients,
    arns: &[String],
) -> Result<BTreeMap<String, Vec<Tag>>, ProviderError> {
    let client = aws.elbv2.clone();
    let described = describe_chunked(arns.to_vec(), move |chunk| {
        let client = client.clone();
        async move {
            let out = client
                .describe_tags()
                .set_resource_arns(Some(chunk))
                .send()
                .await
                .map_err(|e| elb_error("DescribeTags", e))?;
            Ok(out.tag_descriptions.unwrap_or_default())
        }
    })
    .await?;
    Ok(described
        .into_iter()
        .filter_map(|d| Some((d.resource_arn()?.to_string(), d.tags.unwrap_or_default())))
        .collect())
}

/// The tags of every ARN (all of one kind), `CHUNK` per DescribeTags call; without cairn's
/// ownership tag.
pub async fn tags_by_arn(
    aws: &Clients,
    arns: &[String],
) -> Result<BTreeMap<String, Value>, ProviderError> {
    Ok(raw_tags_by_arn(aws, arns)
        .await?
        .into_iter()
        .map(|(arn, tags)| {
            let tags = tags_value(
                tags.iter()
                    .filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))),
            );
            (arn, tags)
        })
        .collect())
}

/// The objects interrupted creates made for `pending` items, by address: every ARN that
/// `list_page` pages through (within each parent that the items' configuration names under
/// `parent_attr`, such as a listener's load balancer; the whole region without one) whose
/// ownership tag names a pending address. ELB has no filter by tag, so candidates are listed
/// and their tags read; this runs only when state records an unfinished create.
pub async fn find_owned<F, Fut>(
    aws: &Clients,
    pending: &[&ReadItem],
    parent_attr: Option<&str>,
    list_page: F,
) -> Result<BTreeMap<String, String>, ProviderError>
where
    F: Fn(Option<String>, Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<String>, Option<String>), ProviderError>>,
{
    let parents: BTreeSet<Option<&str>> = match parent_attr {
        Some(attr) => pending
            .iter()
            .map(|i| text(&i.prior, attr))
            .filter(Option::is_some)
            .collect(),
        None => BTreeSet::from([None]),
    };
    let mut candidates = Vec::new();
    for parent in parents {
        let parent = parent.map(String::from);
        match all_pages(|marker| list_page(parent.clone(), marker)).await {
            Ok(arns) => candidates.extend(arns),
            // A parent that is gone has no children to adopt.
            Err(e) if e.kind == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    let wanted: BTreeSet<&str> = pending.iter().map(|i| i.address.as_str()).collect();
    let mut found = BTreeMap::new();
    for (arn, tags) in raw_tags_by_arn(aws, &candidates).await? {
        let owner = tags
            .iter()
            .find(|t| t.key() == Some(ADDRESS_TAG))
            .and_then(|t| t.value());
        if let Some(address) = owner.filter(|a| wanted.contains(a)) {
            found.insert(address.to_string(), arn);
        }
    }
    Ok(found)
}

pub fn elb_tags(tags: BTreeMap<String, String>) -> Vec<Tag> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Applies a change of `tags` from `prior` to `config` to `arn`.
pub async fn sync_tags(
    aws: &Clients,
    arn: &str,
    prior: &Value,
    config: &Value,
) -> Result<(), ProviderError> {
    let edits = tag_changes(prior, config);
    if !edits.removed.is_empty() {
        aws.elbv2
            .remove_tags()
            .resource_arns(arn)
            .set_tag_keys(Some(edits.removed))
            .send()
            .await
            .map_err(|e| elb_error("RemoveTags", e))?;
    }
    if !edits.set.is_empty() {
        aws.elbv2
            .add_tags()
            .resource_arns(arn)
            .set_tags(Some(elb_tags(edits.set)))
            .send()
            .await
            .map_err(|e| elb_error("AddTags", e))?;
    }
    Ok(())
}

/// The strings of a list attribute.
pub fn strings(config: &Value, name: &str) -> Vec<String> {
    config
        .get(name)
        .map(Value::expose)
        .and_then(Value::as_list)
        .map(|l| {
            l.iter()
                .filter_map(|v| v.expose().as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// `read` in the order `prior` lists the same values (AWS returns sets in its own order); in
/// AWS's order when they differ or `prior` has none (an import whose references are not
/// imported yet): AWS lists subnets by availability zone, the order specs write them in.
pub fn prior_order(read: Vec<String>, prior: &[String]) -> Vec<String> {
    crate::attrs::in_prior_order(read, prior, crate::attrs::Unmatched::AsRead)
}

/// A nested block as read, limited to the fields `prior` sets when it is a block: fields a
/// configuration leaves out keep AWS's defaults (which differ between AWS and moto, and between
/// protocols) and are not compared. With no prior block, everything read is kept.
pub fn configured(full: Value, prior: Option<&Value>) -> Value {
    let (Value::Map(full), Some(Value::Map(prior))) = (&full, prior.map(Value::expose)) else {
        return full;
    };
    let set: BTreeSet<&String> = prior
        .iter()
        .filter(|(_, v)| !matches!(v, Value::Null))
        .map(|(k, _)| k)
        .collect();
    if set.is_empty() {
        return Value::Map(full.clone());
    }
    Value::Map(
        full.iter()
            .filter(|(k, _)| set.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// Terraform's `default_action` / `action` block.
pub fn action_type() -> AttrType {
    let s = || AttrType::String;
    AttrType::List(Box::new(AttrType::Object(BTreeMap::from([
        ("type".to_string(), s()),
        ("target_group_arn".to_string(), s()),
        (
            "redirect".to_string(),
            AttrType::Object(BTreeMap::from([
                ("protocol".to_string(), s()),
                ("port".to_string(), s()),
                ("host".to_string(), s()),
                ("path".to_string(), s()),
                ("query".to_string(), s()),
                ("status_code".to_string(), s()),
            ])),
        ),
        (
            "fixed_response".to_string(),
            AttrType::Object(BTreeMap::from([
                ("content_type".to_string(), s()),
                ("message_body".to_string(), s()),
                ("status_code".to_string(), s()),
            ])),
        ),
    ]))))
}

/// The actions of `config.name` in ELB's form.
pub fn actions_from(
    resource_type: &str,
    config: &Value,
    name: &str,
) -> Result<Vec<Action>, ProviderError> {
    let blocks = config
        .get(name)
        .map(Value::expose)
        .and_then(Value::as_list)
        .unwrap_or_default();
    if blocks.is_empty() {
        return Err(invalid(resource_type, format!("`{name}` needs one action")));
    }
    let mut actions = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let block = block.expose();
        let kind = text(block, "type").unwrap_or_default();
        let action = Action::builder().order(i as i32 + 1);
        let action = match kind {
            "forward" => {
                let tg = text(block, "target_group_arn").ok_or_else(|| {
                    invalid(resource_type, "a `forward` action needs `target_group_arn`")
                })?;
                action.r#type(ActionTypeEnum::Forward).target_group_arn(tg)
            }
            "redirect" => {
                let r = block
                    .get("redirect")
                    .map(Value::expose)
                    .unwrap_or(&Value::Null);
                let code = text(r, "status_code").ok_or_else(|| {
                    invalid(
                        resource_type,
                        "a `redirect` action needs `redirect.status_code` (HTTP_301 or HTTP_302)",
                    )
                })?;
                let config = RedirectActionConfig::builder()
                    .set_protocol(text(r, "protocol").map(String::from))
                    .set_port(text(r, "port").map(String::from))
                    .set_host(text(r, "host").map(String::from))
                    .set_path(text(r, "path").map(String::from))
                    .set_query(text(r, "query").map(String::from))
                    .status_code(RedirectActionStatusCodeEnum::from(code))
                    .build();
                action
                    .r#type(ActionTypeEnum::Redirect)
                    .redirect_config(config)
            }
            "fixed-response" => {
                let f = block
                    .get("fixed_response")
                    .map(Value::expose)
                    .unwrap_or(&Value::Null);
                let config = FixedResponseActionConfig::builder()
                    .set_content_type(text(f, "content_type").map(String::from))
                    .set_message_body(text(f, "message_body").map(String::from))
                    .set_status_code(
                        text(f, "status_code")
                            .map(String::from)
                            .or_else(|| number(f, "status_code").map(|n| n.to_string())),
                    )
                    .build();
                action
                    .r#type(ActionTypeEnum::FixedResponse)
                    .fixed_response_config(config)
            }
            other => {
                return Err(invalid(
                    resource_type,
                    format!(
                        "action type {other:?} is not supported; use forward, redirect or fixed-response"
                    ),
                ));
            }
        };
        actions.push(action.build());
    }
    Ok(actions)
}

/// Actions as Terraform blocks; `prior` (the same attribute as last known) limits the redirect
/// and fixed-response fields to those configured (see [`configured`]).
pub fn actions_value(actions: &[Action], prior: Option<&Value>) -> Value {
    let prior = prior
        .map(Value::expose)
        .and_then(Value::as_list)
        .unwrap_or_default();
    let mut sorted: Vec<&Action> = actions.iter().collect();
    sorted.sort_by_key(|a| a.order().unwrap_or(i32::MAX));
    Value::List(
        sorted
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                let before = prior.get(i).map(Value::expose);
                let kind = a.r#type().map(|t| t.as_str()).unwrap_or_default();
                // A plain forward comes back also as a one-group ForwardConfig.
                let tg = a.target_group_arn().or_else(|| {
                    let groups = a.forward_config()?.target_groups();
                    (groups.len() == 1)
                        .then(|| groups[0].target_group_arn())
                        .flatten()
                });
                let redirect = a.redirect_config().map(|r| {
                    configured(
                        Attrs::new()
                            .opt("protocol", r.protocol())
                            .opt("port", r.port())
                            .opt("host", r.host())
                            .opt("path", r.path())
                            .opt("query", r.query())
                            .opt("status_code", r.status_code().map(|c| c.as_str()))
                            .build(),
                        before.and_then(|b| b.get("redirect")),
                    )
                });
                let fixed = a.fixed_response_config().map(|f| {
                    configured(
                        Attrs::new()
                            .opt("content_type", f.content_type())
                            .opt("message_body", f.message_body())
                            .opt("status_code", f.status_code())
                            .build(),
                        before.and_then(|b| b.get("fixed_response")),
                    )
                });
                Attrs::new()
                    .set("type", kind)
                    .opt("target_group_arn", tg.filter(|_| kind == "forward"))
                    .opt("redirect", redirect)
                    .opt("fixed_response", fixed)
                    .build()
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_suffixes_are_what_cloudwatch_takes() {
        assert_eq!(
            arn_suffix(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188",
                "loadbalancer/"
            )
            .as_deref(),
            Some("app/web/50dc6c495c0c9188")
        );
        assert_eq!(
            arn_suffix(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/73e2d6bc24d8a067",
                "targetgroup"
            )
            .as_deref(),
            Some("targetgroup/api/73e2d6bc24d8a067")
        );
    }

    #[test]
    fn unconfigured_nested_fields_are_left_out() {
        let full = Attrs::new()
            .set("path", "/health")
            .set("interval", 30)
            .build();
        let prior = Attrs::new()
            .set("path", "/old")
            .set("interval", Value::Null)
            .build();
        assert_eq!(
            configured(full.clone(), Some(&prior)),
            Attrs::new().set("path", "/health").build()
        );
        assert_eq!(configured(full.clone(), None), full);
    }

    #[test]
    fn sets_keep_the_order_the_spec_wrote() {
        let prior = vec!["b".to_string(), "a".to_string()];
        assert_eq!(
            prior_order(vec!["a".into(), "b".into()], &prior),
            prior.clone()
        );
        assert_eq!(
            prior_order(vec!["c".into(), "a".into()], &prior),
            vec!["c".to_string(), "a".to_string()]
        );
    }
}
