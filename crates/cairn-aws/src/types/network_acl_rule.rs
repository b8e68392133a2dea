//! `aws_network_acl_rule`: one numbered entry of a network ACL. Entries have no id or tags in
//! AWS, so the id is `<acl>:<ingress|egress>:<number>`, every attribute forces a new entry (as
//! in Terraform), and refresh is one DescribeNetworkAcls per page for the ACLs of all rules.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{PortRange, RuleAction};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, flag, id_schema, number, required, text};
use crate::config::Clients;
use crate::errors::{invalid, sdk_error};

pub struct NetworkAclRule;

const TYPE: &str = "aws_network_acl_rule";

#[async_trait]
impl Resource for NetworkAclRule {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("ACL_ID:ingress|egress:RULE_NUMBER (acl-0a1b2c3d:ingress:100)")
            .describe("One numbered rule of a network ACL")
            .attr(AttrSchema::required("network_acl_id", AttrType::String).force_new())
            .attr(AttrSchema::required("rule_number", AttrType::Number).force_new())
            .attr(
                AttrSchema::optional("egress", AttrType::Bool)
                    .default(false)
                    .force_new(),
            )
            .attr(
                AttrSchema::required("protocol", AttrType::String)
                    .force_new()
                    .describe("`tcp`, `udp`, `icmp`, `-1` (all) or a protocol number"),
            )
            .attr(
                AttrSchema::required("rule_action", AttrType::String)
                    .force_new()
                    .describe("`allow` or `deny`"),
            )
            .attr(AttrSchema::required("cidr_block", AttrType::String).force_new())
            .attr(AttrSchema::optional("from_port", AttrType::Number).force_new())
            .attr(AttrSchema::optional("to_port", AttrType::Number).force_new())
            .attr(id_schema())
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        // Each rule by its key; a create that may have completed unrecorded is found by the key
        // its configuration names.
        let keys: Vec<(&ReadItem, Key)> = items
            .iter()
            .filter_map(|i| {
                let key = match &i.id {
                    Some(id) => Key::parse(id),
                    None if i.token.is_some() => Key::of(&i.prior).ok(),
                    None => None,
                }?;
                Some((i, key))
            })
            .collect();
        let mut acls: Vec<String> = keys.iter().map(|(_, k)| k.acl.clone()).collect();
        acls.sort();
        acls.dedup();
        let mut entries = BTreeMap::new();
        // One listing for the ACLs of all rules (moto 5.2 lacks the `network-acl-id` filter; the
        // region holds a handful of ACLs per VPC).
        if !acls.is_empty() {
            let found = super::network_acl::describe(aws, Vec::new()).await?;
            for acl in found {
                let Some(acl_id) = acl.network_acl_id().filter(|a| acls.iter().any(|x| x == a))
                else {
                    continue;
                };
                for e in acl.entries() {
                    if let (Some(n), Some(egress)) = (e.rule_number(), e.egress()) {
                        let key = Key {
                            acl: acl_id.to_string(),
                            egress,
                            number: n,
                        };
                        entries.insert(key.id(), e.clone());
                    }
                }
            }
        }
        let mut found = BTreeMap::new();
        for (item, key) in keys {
            let Some(e) = entries.get(&key.id()) else {
                continue;
            };
            let protocol = e.protocol().unwrap_or("-1");
            // Keep the spelling the configuration used (`tcp`) when AWS's number (`6`) means it.
            let protocol = match text(&item.prior, "protocol") {
                Some(p) if protocol_number(p).as_deref() == Some(protocol) => p.to_string(),
                _ => protocol.to_string(),
            };
            let range = e.port_range();
            let port = |name: &str, aws: Option<i32>| match aws {
                Some(p) => Value::from(f64::from(p)),
                None => item.prior.get(name).cloned().unwrap_or(Value::Null),
            };
            let attributes = Attrs::new()
                .set("id", key.id())
                .set("network_acl_id", key.acl.as_str())
                .set("rule_number", f64::from(key.number))
                .set("egress", key.egress)
                .set("protocol", protocol)
                .opt("rule_action", e.rule_action().map(|a| a.as_str()))
                .opt("cidr_block", e.cidr_block())
                .set("from_port", port("from_port", range.and_then(|r| r.from)))
                .set("to_port", port("to_port", range.and_then(|r| r.to)))
                .build();
            found.insert(
                item.address.clone(),
                ReadResult {
                    id: key.id(),
                    attributes,
                },
            );
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let key = Key::of(&req.config)?;
        let given = required(TYPE, &req.config, "protocol")?;
        let protocol = protocol_number(given).ok_or_else(|| {
            invalid(
                TYPE,
                format!("`protocol` is {given:?}; use tcp, udp, icmp, -1 (all) or a number"),
            )
        })?;
        let action = match required(TYPE, &req.config, "rule_action")? {
            "allow" => RuleAction::Allow,
            "deny" => RuleAction::Deny,
            other => {
                return Err(invalid(
                    TYPE,
                    format!("`rule_action` is {other:?}; it must be \"allow\" or \"deny\""),
                ));
            }
        };
        let ports = match (
            number(&req.config, "from_port"),
            number(&req.config, "to_port"),
        ) {
            (None, None) => None,
            (from, to) => Some(PortRange::builder().set_from(from).set_to(to).build()),
        };
        aws.ec2
            .create_network_acl_entry()
            .network_acl_id(&key.acl)
            .rule_number(key.number)
            .egress(key.egress)
            .protocol(protocol)
            .rule_action(action)
            .cidr_block(required(TYPE, &req.config, "cidr_block")?)
            .set_port_range(ports)
            .send()
            .await
            .map_err(|e| sdk_error("CreateNetworkAclEntry", e))?;
        Ok(key.id())
    }

    async fn update(&self, _aws: &Clients, _req: &UpdateRequest) -> Result<(), ProviderError> {
        // Every attribute forces a new rule: there is nothing to change in place.
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let key = Key::parse(&req.id).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Invalid,
                format!(
                    "{TYPE} id {:?} is not <network_acl_id>:<ingress|egress>:<rule_number>",
                    req.id
                ),
            )
        })?;
        aws.ec2
            .delete_network_acl_entry()
            .network_acl_id(&key.acl)
            .rule_number(key.number)
            .egress(key.egress)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteNetworkAclEntry", e))?;
        Ok(())
    }
}

/// What identifies an entry within AWS.
struct Key {
    acl: String,
    egress: bool,
    number: i32,
}

impl Key {
    fn of(config: &Value) -> Result<Key, ProviderError> {
        Ok(Key {
            acl: required(TYPE, config, "network_acl_id")?.to_string(),
            egress: flag(config, "egress", false),
            number: number(config, "rule_number")
                .ok_or_else(|| invalid(TYPE, "`rule_number` is required"))?,
        })
    }
    fn parse(id: &str) -> Option<Key> {
        let mut parts = id.rsplitn(3, ':');
        let number = parts.next()?.parse().ok()?;
        let egress = match parts.next()? {
            "egress" => true,
            "ingress" => false,
            _ => return None,
        };
        Some(Key {
            acl: parts.next()?.to_string(),
            egress,
            number,
        })
    }
    fn id(&self) -> String {
        let direction = if self.egress { "egress" } else { "ingress" };
        format!("{}:{direction}:{}", self.acl, self.number)
    }
}

/// AWS's protocol number for a name or number (`tcp` is `6`); `None` when it is neither.
fn protocol_number(given: &str) -> Option<String> {
    match given.to_ascii_lowercase().as_str() {
        "all" | "-1" => Some("-1".to_string()),
        "tcp" => Some("6".to_string()),
        "udp" => Some("17".to_string()),
        "icmp" => Some("1".to_string()),
        n => n.parse::<u8>().ok().map(|n| n.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_id_names_its_acl_direction_and_number_and_parses_back() {
        let key = Key::parse("acl-0abc:egress:100").unwrap();
        assert_eq!(
            (key.acl.as_str(), key.egress, key.number),
            ("acl-0abc", true, 100)
        );
        assert_eq!(key.id(), "acl-0abc:egress:100");
        assert!(Key::parse("acl-0abc:sideways:100").is_none());
    }

    #[test]
    fn protocol_names_become_the_numbers_aws_reports() {
        assert_eq!(protocol_number("tcp").as_deref(), Some("6"));
        assert_eq!(protocol_number("-1").as_deref(), Some("-1"));
        assert_eq!(protocol_number("58").as_deref(), Some("58"));
        assert_eq!(protocol_number("carrier-pigeon"), None);
    }
}
