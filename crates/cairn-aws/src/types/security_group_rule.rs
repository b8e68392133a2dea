//! `aws_vpc_security_group_ingress_rule` and `aws_vpc_security_group_egress_rule`: one rule of
//! a security group each, with its own id (`sgr-...`), as in Terraform's current AWS provider.
//! The two types differ only in direction, so one module serves both.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, SecurityGroupRule,
    SecurityGroupRuleRequest, SecurityGroupRuleUpdate, UserIdGroupPair,
};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, id_schema, number, required, tags_schema, tags_value, text};
use crate::config::Clients;
use crate::ec2::{self, batched, tag_pairs, tag_spec};
use crate::errors::sdk_error;
use crate::paginate::all_pages;

pub struct Rule {
    egress: bool,
}

impl Rule {
    pub const INGRESS: Rule = Rule { egress: false };
    pub const EGRESS: Rule = Rule { egress: true };

    /// A rule identical to the one requested that no cairn address owns, tagged as this
    /// address's and returned: AWS keeps one rule per content, so it is the rule asked for.
    /// The case that needs it: a group whose create was cut short before cairn revoked its
    /// default egress rule (allow all out), which then stands in the way of a configured one.
    async fn adopt_identical(
        &self,
        aws: &Clients,
        group: &str,
        req: &CreateRequest,
    ) -> Result<Option<String>, ProviderError> {
        let c = &req.config;
        let rules = all_pages(|token| async move {
            let out = aws
                .ec2
                .describe_security_group_rules()
                .filters(ec2::filter("group-id", &[group.to_string()]))
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeSecurityGroupRules", e))?;
            Ok((out.security_group_rules.unwrap_or_default(), out.next_token))
        })
        .await?;
        let protocol = |p: Option<&str>| match p {
            Some("all") | Some("-1") => "-1".to_string(),
            other => other.unwrap_or_default().to_lowercase(),
        };
        let wanted_port = |name: &str| number(c, name).map(i64::from);
        let identical = rules.iter().find(|r| {
            r.is_egress() == Some(self.egress)
                && protocol(r.ip_protocol()) == protocol(text(c, "ip_protocol"))
                && port(r, r.from_port()) == wanted_port("from_port")
                && port(r, r.to_port()) == wanted_port("to_port")
                && r.cidr_ipv4() == text(c, "cidr_ipv4")
                && r.cidr_ipv6() == text(c, "cidr_ipv6")
                && r.referenced_group_info().and_then(|g| g.group_id())
                    == text(c, "referenced_security_group_id")
                && r.prefix_list_id() == text(c, "prefix_list_id")
                && ec2::owner_address(r.tags()).is_none_or(|a| a == req.address)
        });
        let Some(id) = identical.and_then(|r| r.security_group_rule_id()) else {
            return Ok(None);
        };
        let spec = tag_spec(ResourceType::SecurityGroupRule, c, &req.address);
        aws.ec2
            .create_tags()
            .resources(id)
            .set_tags(spec.tags)
            .send()
            .await
            .map_err(|e| sdk_error("CreateTags", e))?;
        tracing::info!(target: "cairn::aws", address = %req.address, id, "an identical rule already existed and no cairn address owned it: adopted");
        Ok(Some(id.to_string()))
    }

    fn type_name(&self) -> &'static str {
        if self.egress {
            "aws_vpc_security_group_egress_rule"
        } else {
            "aws_vpc_security_group_ingress_rule"
        }
    }
}

/// The rule's endpoint attributes, as `IpPermission` needs them.
fn permission(type_name: &str, c: &Value) -> Result<IpPermission, ProviderError> {
    let description = text(c, "description").map(String::from);
    let mut p = IpPermission::builder()
        .ip_protocol(required(type_name, c, "ip_protocol")?)
        .set_from_port(number(c, "from_port"))
        .set_to_port(number(c, "to_port"));
    let mut targets = 0;
    if let Some(cidr) = text(c, "cidr_ipv4") {
        targets += 1;
        p = p.ip_ranges(
            IpRange::builder()
                .cidr_ip(cidr)
                .set_description(description.clone())
                .build(),
        );
    }
    if let Some(cidr) = text(c, "cidr_ipv6") {
        targets += 1;
        p = p.ipv6_ranges(
            Ipv6Range::builder()
                .cidr_ipv6(cidr)
                .set_description(description.clone())
                .build(),
        );
    }
    if let Some(group) = text(c, "referenced_security_group_id") {
        targets += 1;
        p = p.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(group)
                .set_description(description.clone())
                .build(),
        );
    }
    if let Some(list) = text(c, "prefix_list_id") {
        targets += 1;
        p = p.prefix_list_ids(
            PrefixListId::builder()
                .prefix_list_id(list)
                .set_description(description)
                .build(),
        );
    }
    if targets != 1 {
        return Err(crate::errors::invalid(
            type_name,
            "set exactly one of cidr_ipv4, cidr_ipv6, referenced_security_group_id, prefix_list_id",
        ));
    }
    Ok(p.build())
}

/// All-protocol rules have no ports; AWS reports them as -1, which users do not write.
fn port(rule: &SecurityGroupRule, port: Option<i32>) -> Option<i64> {
    match (rule.ip_protocol(), port) {
        (Some("-1"), Some(-1)) => None,
        (_, p) => p.map(i64::from),
    }
}

#[async_trait]
impl Resource for Rule {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, self.type_name())
            .describe(if self.egress {
                "An outbound rule of a security group"
            } else {
                "An inbound rule of a security group"
            })
            .attr(AttrSchema::required("security_group_id", AttrType::String).force_new())
            .attr(
                AttrSchema::required("ip_protocol", AttrType::String)
                    .describe("tcp, udp, icmp, or -1 for all"),
            )
            .attr(AttrSchema::optional("from_port", AttrType::Number))
            .attr(AttrSchema::optional("to_port", AttrType::Number))
            .attr(AttrSchema::optional("cidr_ipv4", AttrType::String))
            .attr(AttrSchema::optional("cidr_ipv6", AttrType::String))
            .attr(AttrSchema::optional(
                "referenced_security_group_id",
                AttrType::String,
            ))
            .attr(AttrSchema::optional("prefix_list_id", AttrType::String))
            .attr(AttrSchema::optional("description", AttrType::String))
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed(
                "security_group_rule_id",
                AttrType::String,
            ))
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let rules = batched(
            items,
            "security-group-rule-id",
            |f| async move {
                all_pages(|token| {
                    let f = f.clone();
                    async move {
                        let out = aws
                            .ec2
                            .describe_security_group_rules()
                            .filters(f)
                            .max_results(1000)
                            .set_next_token(token)
                            .send()
                            .await
                            .map_err(|e| sdk_error("DescribeSecurityGroupRules", e))?;
                        Ok((out.security_group_rules.unwrap_or_default(), out.next_token))
                    }
                })
                .await
            },
            |r| r.security_group_rule_id(),
            |r| r.tags(),
        )
        .await?;
        let mut found = BTreeMap::new();
        for (address, r) in rules {
            let Some(id) = r.security_group_rule_id() else {
                continue;
            };
            if r.is_egress() != Some(self.egress) {
                continue;
            }
            let arn = r
                .security_group_rule_arn()
                .map(String::from)
                .unwrap_or_else(|| {
                    ec2::arn(
                        &aws.region,
                        r.group_owner_id().unwrap_or_default(),
                        "security-group-rule",
                        id,
                    )
                });
            let attributes = Attrs::new()
                .set("id", id)
                .set("security_group_rule_id", id)
                .set("arn", arn)
                .opt("security_group_id", r.group_id())
                .opt("ip_protocol", r.ip_protocol())
                .opt("from_port", port(&r, r.from_port()))
                .opt("to_port", port(&r, r.to_port()))
                .opt("cidr_ipv4", r.cidr_ipv4())
                .opt("cidr_ipv6", r.cidr_ipv6())
                .opt(
                    "referenced_security_group_id",
                    r.referenced_group_info().and_then(|g| g.group_id()),
                )
                .opt("prefix_list_id", r.prefix_list_id())
                .opt("description", r.description().filter(|d| !d.is_empty()))
                .set("tags", tags_value(tag_pairs(r.tags())))
                .build();
            found.insert(
                address,
                ReadResult {
                    id: id.to_string(),
                    attributes,
                },
            );
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let t = self.type_name();
        let c = &req.config;
        let group = required(t, c, "security_group_id")?;
        let perm = permission(t, c)?;
        let tags = tag_spec(ResourceType::SecurityGroupRule, c, &req.address);
        let answer = if self.egress {
            aws.ec2
                .authorize_security_group_egress()
                .group_id(group)
                .ip_permissions(perm)
                .tag_specifications(tags)
                .send()
                .await
                .map(|out| out.security_group_rules)
                .map_err(|e| sdk_error("AuthorizeSecurityGroupEgress", e))
        } else {
            aws.ec2
                .authorize_security_group_ingress()
                .group_id(group)
                .ip_permissions(perm)
                .tag_specifications(tags)
                .send()
                .await
                .map(|out| out.security_group_rules)
                .map_err(|e| sdk_error("AuthorizeSecurityGroupIngress", e))
        };
        let rules = match answer {
            Ok(rules) => rules,
            Err(e) if e.kind == ErrorKind::Conflict => {
                return self.adopt_identical(aws, group, req).await?.ok_or(e);
            }
            Err(e) => return Err(e),
        };
        rules
            .unwrap_or_default()
            .iter()
            .find_map(|r| r.security_group_rule_id().map(String::from))
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::Other,
                    format!("{t}: AWS did not return the new rule's id"),
                )
            })
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let c = &req.config;
        let rule_changed = req.changed.iter().any(|a| a != "tags");
        if rule_changed {
            let rule = SecurityGroupRuleRequest::builder()
                .ip_protocol(required(self.type_name(), c, "ip_protocol")?)
                .set_from_port(number(c, "from_port"))
                .set_to_port(number(c, "to_port"))
                .set_cidr_ipv4(text(c, "cidr_ipv4").map(String::from))
                .set_cidr_ipv6(text(c, "cidr_ipv6").map(String::from))
                .set_referenced_group_id(text(c, "referenced_security_group_id").map(String::from))
                .set_prefix_list_id(text(c, "prefix_list_id").map(String::from))
                .set_description(text(c, "description").map(String::from))
                .build();
            aws.ec2
                .modify_security_group_rules()
                .group_id(required(self.type_name(), c, "security_group_id")?)
                .security_group_rules(
                    SecurityGroupRuleUpdate::builder()
                        .security_group_rule_id(&req.id)
                        .security_group_rule(rule)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| sdk_error("ModifySecurityGroupRules", e))?;
        }
        ec2::sync_tags(&aws.ec2, &req.id, &req.prior, c).await
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let group = required(self.type_name(), &req.prior, "security_group_id")?;
        if self.egress {
            aws.ec2
                .revoke_security_group_egress()
                .group_id(group)
                .security_group_rule_ids(&req.id)
                .send()
                .await
                .map_err(|e| sdk_error("RevokeSecurityGroupEgress", e))?;
        } else {
            aws.ec2
                .revoke_security_group_ingress()
                .group_id(group)
                .security_group_rule_ids(&req.id)
                .send()
                .await
                .map_err(|e| sdk_error("RevokeSecurityGroupIngress", e))?;
        }
        Ok(())
    }
}
