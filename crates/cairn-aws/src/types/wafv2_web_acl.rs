//! `aws_wafv2_web_acl`: the web ACL in front of an ALB (scope REGIONAL) or a CloudFront
//! distribution (scope CLOUDFRONT), with the rules the seeds use: AWS managed rule groups and a
//! per-IP rate limit. Rules are written as Terraform writes its `rule` blocks:
//!
//! ```yaml
//! rule:
//!   - name: common
//!     priority: 1
//!     override_action: { none: {} }
//!     statement: { managed_rule_group_statement: { name: AWSManagedRulesCommonRuleSet, vendor_name: AWS } }
//!     visibility_config: { cloudwatch_metrics_enabled: true, metric_name: common, sampled_requests_enabled: true }
//!   - name: rate-limit
//!     priority: 2
//!     action: { block: {} }
//!     statement: { rate_based_statement: { limit: 2000, aggregate_key_type: IP } }
//!     visibility_config: { ... }
//! ```
//!
//! Its id is the ACL's id; import takes Terraform's `ID/NAME/SCOPE`. Refresh: one GetWebACL and
//! one ListTagsForResource per ACL, concurrently, bounded (WAF has no batch read of rules).
//! Updates send the whole ACL with the lock token just read, as the API requires.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_wafv2::types::{
    AllowAction, BlockAction, CountAction, DefaultAction, ManagedRuleGroupStatement, NoneAction,
    OverrideAction, RateBasedStatement, RateBasedStatementAggregateKeyType, Rule, RuleAction,
    Scope, Statement, Tag, VisibilityConfig, WebAcl,
};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{
    ADDRESS_TAG, Attrs, arn_schema, id_schema, required, tags_schema, tags_value, text,
};
use crate::config::Clients;
use crate::each::read_each;
use crate::errors::{invalid, sdk_error};
use crate::paginate::all_pages;
use crate::tagging::{tag_changes, with_owner};

pub struct WebAclType;

const TYPE: &str = "aws_wafv2_web_acl";

fn waf_tags(tags: BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    tags.into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| invalid(TYPE, e))
        })
        .collect()
}

fn map_at<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.get(name).filter(|m| m.as_map().is_some())
}

fn num(v: &Value, name: &str) -> Option<f64> {
    v.get(name).map(Value::expose).and_then(Value::as_f64)
}

fn boolean(v: &Value, name: &str) -> bool {
    v.get(name)
        .map(Value::expose)
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// `{ allow: {} }` / `{ block: {} }` / `{ count: {} }` / `{ none: {} }`: which key is set.
fn chosen(v: Option<&Value>) -> Option<&str> {
    v?.as_map()?.keys().next().map(String::as_str)
}

fn visibility(v: Option<&Value>, what: &str) -> Result<VisibilityConfig, ProviderError> {
    let v = v.ok_or_else(|| invalid(TYPE, format!("{what}: `visibility_config` is required")))?;
    VisibilityConfig::builder()
        .cloud_watch_metrics_enabled(boolean(v, "cloudwatch_metrics_enabled"))
        .sampled_requests_enabled(boolean(v, "sampled_requests_enabled"))
        .set_metric_name(text(v, "metric_name").map(String::from))
        .build()
        .map_err(|e| invalid(TYPE, format!("{what}: {e}")))
}

fn statement(v: &Value, rule: &str) -> Result<Statement, ProviderError> {
    if let Some(m) = map_at(v, "managed_rule_group_statement") {
        let s = ManagedRuleGroupStatement::builder()
            .set_name(text(m, "name").map(String::from))
            .set_vendor_name(text(m, "vendor_name").map(String::from))
            .set_version(text(m, "version").map(String::from))
            .build()
            .map_err(|e| invalid(TYPE, format!("rule `{rule}`: {e}")))?;
        return Ok(Statement::builder().managed_rule_group_statement(s).build());
    }
    if let Some(r) = map_at(v, "rate_based_statement") {
        let s = RateBasedStatement::builder()
            .set_limit(num(r, "limit").map(|n| n as i64))
            .aggregate_key_type(RateBasedStatementAggregateKeyType::from(
                text(r, "aggregate_key_type").unwrap_or("IP"),
            ))
            .set_evaluation_window_sec(num(r, "evaluation_window_sec").map(|n| n as i64))
            .build()
            .map_err(|e| invalid(TYPE, format!("rule `{rule}`: {e}")))?;
        return Ok(Statement::builder().rate_based_statement(s).build());
    }
    Err(invalid(
        TYPE,
        format!(
            "rule `{rule}`: the statement must be a `managed_rule_group_statement` or a `rate_based_statement`"
        ),
    ))
}

fn rules(config: &Value) -> Result<Vec<Rule>, ProviderError> {
    let Some(list) = config.get("rule").and_then(Value::as_list) else {
        return Ok(Vec::new());
    };
    list.iter()
        .map(|r| {
            let name = text(r, "name").unwrap_or_default();
            let mut rule = Rule::builder()
                .name(name)
                .set_priority(num(r, "priority").map(|n| n as i32))
                .statement(statement(r.get("statement").unwrap_or(&Value::Null), name)?)
                .visibility_config(visibility(r.get("visibility_config"), name)?);
            match chosen(r.get("action")) {
                Some("block") => {
                    rule = rule.action(
                        RuleAction::builder()
                            .block(BlockAction::builder().build())
                            .build(),
                    )
                }
                Some("allow") => {
                    rule = rule.action(
                        RuleAction::builder()
                            .allow(AllowAction::builder().build())
                            .build(),
                    )
                }
                Some("count") => {
                    rule = rule.action(
                        RuleAction::builder()
                            .count(CountAction::builder().build())
                            .build(),
                    )
                }
                _ => {}
            }
            match chosen(r.get("override_action")) {
                Some("none") => {
                    rule = rule.override_action(
                        OverrideAction::builder()
                            .none(NoneAction::builder().build())
                            .build(),
                    )
                }
                Some("count") => {
                    rule = rule.override_action(
                        OverrideAction::builder()
                            .count(CountAction::builder().build())
                            .build(),
                    )
                }
                _ => {}
            }
            rule.build()
                .map_err(|e| invalid(TYPE, format!("rule `{name}`: {e}")))
        })
        .collect()
}

fn default_action(config: &Value) -> DefaultAction {
    match chosen(config.get("default_action")) {
        Some("block") => DefaultAction::builder()
            .block(BlockAction::builder().build())
            .build(),
        _ => DefaultAction::builder()
            .allow(AllowAction::builder().build())
            .build(),
    }
}

fn scope(config: &Value) -> Scope {
    Scope::from(text(config, "scope").unwrap_or("REGIONAL"))
}

fn empty() -> Value {
    Value::Map(BTreeMap::new())
}

fn choice(name: &str) -> Value {
    Value::Map(BTreeMap::from([(name.to_string(), empty())]))
}

fn visibility_value(v: &VisibilityConfig) -> Value {
    Attrs::new()
        .set(
            "cloudwatch_metrics_enabled",
            v.cloud_watch_metrics_enabled(),
        )
        .set("sampled_requests_enabled", v.sampled_requests_enabled())
        .set("metric_name", v.metric_name())
        .build()
}

fn rule_value(rule: &Rule) -> Value {
    let mut statement = BTreeMap::new();
    if let Some(s) = rule.statement() {
        if let Some(m) = s.managed_rule_group_statement() {
            let mut attrs = Attrs::new()
                .set("name", m.name())
                .set("vendor_name", m.vendor_name());
            if let Some(version) = m.version() {
                attrs = attrs.set("version", version);
            }
            statement.insert("managed_rule_group_statement".to_string(), attrs.build());
        }
        if let Some(r) = s.rate_based_statement() {
            let mut attrs = Attrs::new()
                .set("limit", r.limit())
                .set("aggregate_key_type", r.aggregate_key_type().as_str());
            if r.evaluation_window_sec() != 0 {
                attrs = attrs.set("evaluation_window_sec", r.evaluation_window_sec());
            }
            statement.insert("rate_based_statement".to_string(), attrs.build());
        }
    }
    let mut attrs = Attrs::new()
        .set("name", rule.name())
        .set("priority", Value::Number(rule.priority().into()))
        .set("statement", Value::Map(statement));
    if let Some(v) = rule.visibility_config() {
        attrs = attrs.set("visibility_config", visibility_value(v));
    }
    if let Some(a) = rule.action() {
        let name = if a.block().is_some() {
            "block"
        } else if a.count().is_some() {
            "count"
        } else {
            "allow"
        };
        attrs = attrs.set("action", choice(name));
    }
    if let Some(o) = rule.override_action() {
        attrs = attrs.set(
            "override_action",
            choice(if o.count().is_some() { "count" } else { "none" }),
        );
    }
    attrs.build()
}

/// `ID/NAME/SCOPE` (an import) or the bare id (state) with name and scope from `prior`.
fn locate<'a>(id: &'a str, prior: &'a Value) -> Option<(&'a str, &'a str, &'a str)> {
    let mut parts = id.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(id), Some(name), Some(scope)) => Some((id, name, scope)),
        _ => Some((
            id,
            text(prior, "name")?,
            text(prior, "scope").unwrap_or("REGIONAL"),
        )),
    }
}

async fn get(
    client: &aws_sdk_wafv2::Client,
    id: &str,
    name: &str,
    scope: &str,
) -> Result<(WebAcl, String), ProviderError> {
    let out = client
        .get_web_acl()
        .id(id)
        .name(name)
        .scope(Scope::from(scope))
        .send()
        .await
        .map_err(|e| sdk_error("GetWebACL", e))?;
    let acl = out.web_acl.ok_or_else(|| {
        ProviderError::new(
            ErrorKind::NotFound,
            format!("web ACL {name} ({id}) is gone"),
        )
    })?;
    Ok((acl, out.lock_token.unwrap_or_default()))
}

#[async_trait]
impl Resource for WebAclType {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("ID/NAME/SCOPE")
            .describe("A WAF web ACL: managed rule groups and rate limits in front of an ALB or CloudFront")
            .attr(AttrSchema::required("name", AttrType::String).force_new())
            .attr(AttrSchema::optional("description", AttrType::String))
            .attr(
                AttrSchema::required("scope", AttrType::String)
                    .force_new()
                    .describe("REGIONAL (an ALB) or CLOUDFRONT"),
            )
            .attr(
                AttrSchema::required("default_action", AttrType::Any)
                    .describe("{ allow: {} } or { block: {} }"),
            )
            .attr(
                AttrSchema::optional("rule", AttrType::List(Box::new(AttrType::Any)))
                    .describe("Rules: name, priority, action or override_action, statement, visibility_config"),
            )
            .attr(AttrSchema::required("visibility_config", AttrType::Any))
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed("capacity", AttrType::Number))
    }

    async fn find_pending(
        &self,
        aws: &Clients,
        pending: &[&ReadItem],
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        // Names are unique per scope: a create cut short is found by name, and adopted only
        // when it carries this address.
        let mut found = BTreeMap::new();
        for item in pending {
            let Some(name) = text(&item.prior, "name") else {
                continue;
            };
            let acls = all_pages(|marker| {
                let client = aws.wafv2.clone();
                let scope = scope(&item.prior);
                async move {
                    let out = client
                        .list_web_acls()
                        .scope(scope)
                        .set_next_marker(marker)
                        .send()
                        .await
                        .map_err(|e| sdk_error("ListWebACLs", e))?;
                    Ok((out.web_acls.unwrap_or_default(), out.next_marker))
                }
            })
            .await?;
            let Some(acl) = acls.iter().find(|a| a.name() == Some(name)) else {
                continue;
            };
            let (Some(id), Some(arn)) = (acl.id(), acl.arn()) else {
                continue;
            };
            let out = aws
                .wafv2
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .map_err(|e| sdk_error("ListTagsForResource", e))?;
            let owned = out
                .tag_info_for_resource()
                .map(|t| t.tag_list())
                .unwrap_or_default()
                .iter()
                .any(|t| t.key() == ADDRESS_TAG && t.value() == item.address);
            if owned {
                found.insert(item.address.clone(), id.to_string());
            }
        }
        Ok(found)
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let wanted = items.iter().filter_map(|i| {
            let (id, name, scope) = locate(i.id.as_deref()?, &i.prior)?;
            Some((
                i.address.clone(),
                (id.to_string(), name.to_string(), scope.to_string()),
            ))
        });
        let client = aws.wafv2.clone();
        read_each(
            wanted,
            move |(id, name, scope): (String, String, String)| {
                let client = client.clone();
                async move {
                    let (acl, _) = get(&client, &id, &name, &scope).await?;
                    let out = client
                        .list_tags_for_resource()
                        .resource_arn(acl.arn())
                        .send()
                        .await
                        .map_err(|e| sdk_error("ListTagsForResource", e))?;
                    let tags: BTreeMap<String, String> = out
                        .tag_info_for_resource()
                        .map(|t| t.tag_list())
                        .unwrap_or_default()
                        .iter()
                        .map(|t| (t.key().to_string(), t.value().to_string()))
                        .collect();
                    let default = match acl.default_action() {
                        Some(d) if d.block().is_some() => choice("block"),
                        _ => choice("allow"),
                    };
                    let mut attrs = Attrs::new()
                        .set("id", acl.id())
                        .set("arn", acl.arn())
                        .set("name", acl.name())
                        .opt("description", acl.description().filter(|d| !d.is_empty()))
                        .set("scope", scope.as_str())
                        .set("default_action", default)
                        .set(
                            "rule",
                            Value::List(acl.rules().iter().map(rule_value).collect()),
                        )
                        .set("capacity", acl.capacity())
                        .set(
                            "tags",
                            tags_value(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
                        );
                    if let Some(v) = acl.visibility_config() {
                        attrs = attrs.set("visibility_config", visibility_value(v));
                    }
                    Ok(Some(ReadResult {
                        id: acl.id().to_string(),
                        attributes: attrs.build(),
                    }))
                }
            },
        )
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let out = aws
            .wafv2
            .create_web_acl()
            .name(required(TYPE, c, "name")?)
            .set_description(text(c, "description").map(String::from))
            .scope(scope(c))
            .default_action(default_action(c))
            .set_rules(Some(rules(c)?))
            .visibility_config(visibility(c.get("visibility_config"), "the web ACL")?)
            .set_tags(Some(waf_tags(with_owner(c, &req.address))?))
            .send()
            .await
            .map_err(|e| sdk_error("CreateWebACL", e))?;
        out.summary()
            .and_then(|s| s.id())
            .map(String::from)
            .ok_or_else(|| ProviderError::new(ErrorKind::Other, "CreateWebACL returned no id"))
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let c = &req.config;
        let name = required(TYPE, c, "name")?;
        let scope_name = text(c, "scope").unwrap_or("REGIONAL");
        if req.changed.iter().any(|a| a != "tags") {
            let (_, lock_token) = get(&aws.wafv2, &req.id, name, scope_name).await?;
            aws.wafv2
                .update_web_acl()
                .id(&req.id)
                .name(name)
                .scope(scope(c))
                .lock_token(lock_token)
                .set_description(text(c, "description").map(String::from))
                .default_action(default_action(c))
                .set_rules(Some(rules(c)?))
                .visibility_config(visibility(c.get("visibility_config"), "the web ACL")?)
                .send()
                .await
                .map_err(|e| sdk_error("UpdateWebACL", e))?;
        }
        if req.changed.iter().any(|a| a == "tags") {
            let arn = required(TYPE, &req.prior, "arn")?;
            let edits = tag_changes(&req.prior, c);
            if !edits.removed.is_empty() {
                aws.wafv2
                    .untag_resource()
                    .resource_arn(arn)
                    .set_tag_keys(Some(edits.removed))
                    .send()
                    .await
                    .map_err(|e| sdk_error("UntagResource", e))?;
            }
            if !edits.set.is_empty() {
                aws.wafv2
                    .tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(waf_tags(edits.set)?))
                    .send()
                    .await
                    .map_err(|e| sdk_error("TagResource", e))?;
            }
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let name = required(TYPE, &req.prior, "name")?;
        let scope_name = text(&req.prior, "scope").unwrap_or("REGIONAL");
        let (_, lock_token) = get(&aws.wafv2, &req.id, name, scope_name).await?;
        aws.wafv2
            .delete_web_acl()
            .id(&req.id)
            .name(name)
            .scope(Scope::from(scope_name))
            .lock_token(lock_token)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteWebACL", e))?;
        Ok(())
    }
}
