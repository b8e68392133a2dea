//! `aws_route53_record`: one record set of a hosted zone: plain values with a TTL, or an alias
//! (to a load balancer), optionally one half of a failover pair. Its id is Terraform's:
//! `ZONEID_NAME_TYPE`, with `_SETIDENTIFIER` appended for routing-policy records, which is also
//! how it is imported (`Z0123_api.example.com_A_primary`). A relative `name` (`www`) is
//! qualified with the zone's name, as in Terraform.
//!
//! Refresh: one ListResourceRecordSets walk per zone for all the records of that zone. Changing
//! the zone, name, type or set identifier replaces the record; anything else is an UPSERT. Every
//! change waits until Route53 reports it INSYNC, as Terraform does.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecord,
    ResourceRecordSet, ResourceRecordSetFailover, RrType,
};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::route53_zone::bare_zone_id;
use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, flag, id_schema, number, required, text};
use crate::config::Clients;
use crate::each::read_each;
use crate::elbv2::{prior_order, strings};
use crate::errors::{invalid, sdk_error};
use crate::wait::{Check, Wait};

pub struct Record;

const TYPE: &str = "aws_route53_record";
/// Terraform waits up to 30 minutes for a change to reach every Route53 name server.
const INSYNC_LIMIT: Duration = Duration::from_secs(1800);
/// Record types, for telling the name from the type in an id (names may hold `_`).
const TYPES: [&str; 13] = [
    "A", "AAAA", "CAA", "CNAME", "DS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV", "TXT",
];

/// A DNS name as Route53 compares it: lower case, no trailing dot, `*` unescaped.
pub fn normalize(name: &str) -> String {
    name.trim_end_matches('.')
        .replace("\\052", "*")
        .to_ascii_lowercase()
}

fn record_id(zone: &str, name: &str, kind: &str, set: Option<&str>) -> String {
    let base = format!("{zone}_{}_{kind}", normalize(name));
    match set {
        Some(s) if !s.is_empty() => format!("{base}_{s}"),
        _ => base,
    }
}

/// `ZONE_NAME_TYPE[_SET]` → its parts.
fn parse_id(id: &str) -> Option<(String, String, String, Option<String>)> {
    let (zone, rest) = id.split_once('_')?;
    let mut best: Option<(usize, &str)> = None;
    for kind in TYPES {
        let tail = format!("_{kind}");
        if let Some(name) = rest.strip_suffix(&tail) {
            return Some((zone.into(), name.into(), kind.into(), None));
        }
        if let Some(at) = rest.rfind(&format!("{tail}_"))
            && best.is_none_or(|(b, _)| at > b)
        {
            best = Some((at, kind));
        }
    }
    let (at, kind) = best?;
    let set = &rest[at + kind.len() + 2..];
    Some((
        zone.into(),
        rest[..at].into(),
        kind.into(),
        Some(set.into()),
    ))
}

/// Every record set of a zone, following Route53's name/type/identifier pagination.
pub async fn list_records(
    aws: &Clients,
    zone: &str,
) -> Result<Vec<ResourceRecordSet>, ProviderError> {
    let mut all = Vec::new();
    let mut start: Option<(String, RrType, Option<String>)> = None;
    loop {
        let mut call = aws.route53.list_resource_record_sets().hosted_zone_id(zone);
        if let Some((name, kind, identifier)) = start.take() {
            call = call
                .start_record_name(name)
                .start_record_type(kind)
                .set_start_record_identifier(identifier);
        }
        let out = call
            .send()
            .await
            .map_err(|e| sdk_error("ListResourceRecordSets", e))?;
        all.extend(out.resource_record_sets().iter().cloned());
        match (
            out.is_truncated(),
            out.next_record_name(),
            out.next_record_type(),
        ) {
            (true, Some(name), Some(kind)) => {
                start = Some((
                    name.to_string(),
                    kind.clone(),
                    out.next_record_identifier().map(String::from),
                ));
            }
            _ => return Ok(all),
        }
    }
}

/// Waits until Route53 has applied change `id` on all its name servers.
pub async fn wait_insync(
    aws: &Clients,
    id: &str,
    what: &str,
    operation: &str,
    timeout: Option<Duration>,
) -> Result<(), ProviderError> {
    Wait {
        what,
        until: "INSYNC",
        operation,
        limit: timeout.unwrap_or(INSYNC_LIMIT),
    }
    .run(|| async {
        let out = aws
            .route53
            .get_change()
            .id(id)
            .send()
            .await
            .map_err(|e| sdk_error("GetChange", e))?;
        match out.change_info().map(|c| c.status()) {
            Some(ChangeStatus::Insync) => Ok(Check::Done(())),
            status => Ok(Check::Waiting(
                status.map_or("unknown", |s| s.as_str()).to_string(),
            )),
        }
    })
    .await
}

/// The record set `v` (a configuration or a prior) describes.
fn record_set(v: &Value, fqdn: &str) -> Result<ResourceRecordSet, ProviderError> {
    let alias = v
        .get("alias")
        .map(Value::expose)
        .filter(|a| a.as_map().is_some());
    let failover = v
        .get("failover_routing_policy")
        .map(Value::expose)
        .and_then(|f| text(f, "type"));
    let records = strings(v, "records");
    if alias.is_some() != records.is_empty() {
        return Err(invalid(
            TYPE,
            "set exactly one of `records` (with `ttl`) and `alias`",
        ));
    }
    let mut set = ResourceRecordSet::builder()
        .name(fqdn)
        .r#type(RrType::from(required(TYPE, v, "type")?))
        .set_set_identifier(text(v, "set_identifier").map(String::from))
        .set_failover(failover.map(ResourceRecordSetFailover::from))
        .set_health_check_id(text(v, "health_check_id").map(String::from));
    if let Some(alias) = alias {
        set = set.alias_target(
            AliasTarget::builder()
                .dns_name(required(TYPE, alias, "name")?)
                .hosted_zone_id(required(TYPE, alias, "zone_id")?)
                .evaluate_target_health(flag(alias, "evaluate_target_health", false))
                .build()
                .map_err(|e| invalid(TYPE, e))?,
        );
    } else {
        let ttl = number(v, "ttl").ok_or_else(|| invalid(TYPE, "`records` need a `ttl`"))?;
        set = set.ttl(i64::from(ttl));
        for value in records {
            set = set.resource_records(
                ResourceRecord::builder()
                    .value(value)
                    .build()
                    .map_err(|e| invalid(TYPE, e))?,
            );
        }
    }
    set.build().map_err(|e| invalid(TYPE, e))
}

/// `name` fully qualified in the zone `apex`, as Terraform takes a relative `www`.
fn qualify(name: &str, apex: &str) -> String {
    let name = normalize(name);
    if apex.is_empty() || name == apex || name.ends_with(&format!(".{apex}")) {
        name
    } else {
        format!("{name}.{apex}")
    }
}

/// Submits one change of `v`'s record set to its zone and waits until it is INSYNC; returns the
/// record's fully qualified name.
async fn change(
    aws: &Clients,
    action: ChangeAction,
    v: &Value,
    operation: &str,
    timeout: Option<Duration>,
) -> Result<String, ProviderError> {
    let zone = bare_zone_id(required(TYPE, v, "zone_id")?).to_string();
    let apex = aws
        .route53
        .get_hosted_zone()
        .id(&zone)
        .send()
        .await
        .map_err(|e| sdk_error("GetHostedZone", e))?
        .hosted_zone()
        .map(|z| normalize(z.name()))
        .unwrap_or_default();
    let fqdn = qualify(required(TYPE, v, "name")?, &apex);
    let batch = ChangeBatch::builder()
        .changes(
            Change::builder()
                .action(action)
                .resource_record_set(record_set(v, &fqdn)?)
                .build()
                .map_err(|e| invalid(TYPE, e))?,
        )
        .build()
        .map_err(|e| invalid(TYPE, e))?;
    let out = aws
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(batch)
        .send()
        .await
        .map_err(|e| sdk_error("ChangeResourceRecordSets", e))?;
    if let Some(info) = out.change_info() {
        let what = format!(
            "record {fqdn} {} in zone {zone}",
            text(v, "type").unwrap_or_default()
        );
        wait_insync(aws, info.id(), &what, operation, timeout).await?;
    }
    Ok(fqdn)
}

fn alias_type() -> AttrType {
    AttrType::Object(BTreeMap::from([
        ("name".to_string(), AttrType::String),
        ("zone_id".to_string(), AttrType::String),
        ("evaluate_target_health".to_string(), AttrType::Bool),
    ]))
}

fn failover_type() -> AttrType {
    AttrType::Object(BTreeMap::from([("type".to_string(), AttrType::String)]))
}

/// What identifies one wanted record in its zone's listing.
struct Wanted {
    address: String,
    zone: String,
    name: String,
    kind: String,
    set: Option<String>,
    prior: Value,
}

#[async_trait]
impl Resource for Record {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("ZONEID_NAME_TYPE[_SETIDENTIFIER]")
            .describe("A DNS record set in a Route53 hosted zone")
            .attr(AttrSchema::required("zone_id", AttrType::String).force_new())
            .attr(
                AttrSchema::required("name", AttrType::String)
                    .force_new()
                    .describe("Fully qualified, or relative to the zone (`www`)"),
            )
            .attr(AttrSchema::required("type", AttrType::String).force_new())
            .attr(
                AttrSchema::optional("set_identifier", AttrType::String)
                    .force_new()
                    .describe("Tells apart the records of a routing policy (failover)"),
            )
            .attr(AttrSchema::optional("ttl", AttrType::Number))
            .attr(AttrSchema::optional(
                "records",
                AttrType::List(Box::new(AttrType::String)),
            ))
            .attr(
                AttrSchema::optional("alias", alias_type())
                    .describe("An alias to an AWS resource: name, zone_id, evaluate_target_health"),
            )
            .attr(
                AttrSchema::optional("failover_routing_policy", failover_type())
                    .describe("`type`: PRIMARY or SECONDARY"),
            )
            .attr(AttrSchema::optional("health_check_id", AttrType::String))
            .attr(id_schema())
            .attr(AttrSchema::computed("fqdn", AttrType::String))
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let mut by_zone: BTreeMap<String, Vec<Wanted>> = BTreeMap::new();
        for item in items {
            let Some(id) = &item.id else { continue };
            let Some((zone, name, kind, set)) = parse_id(id) else {
                return Err(invalid(
                    TYPE,
                    format!("{id:?} is not a record id: ZONEID_NAME_TYPE[_SETIDENTIFIER]"),
                ));
            };
            by_zone.entry(zone.clone()).or_default().push(Wanted {
                address: item.address.clone(),
                zone,
                name: normalize(&name),
                kind,
                set,
                prior: item.prior.clone(),
            });
        }
        let aws_owned = aws.clone();
        let listed = read_each(
            by_zone.keys().map(|z| (z.clone(), z.clone())),
            move |zone: String| {
                let aws = aws_owned.clone();
                async move { list_records(&aws, &zone).await.map(Some) }
            },
        )
        .await?;
        let mut found = BTreeMap::new();
        for (zone, wanted) in by_zone {
            let Some(records) = listed.get(&zone) else {
                continue;
            };
            // The zone's own name: its SOA record's.
            let apex = records
                .iter()
                .find(|r| *r.r#type() == RrType::Soa)
                .map(|r| normalize(r.name()))
                .unwrap_or_default();
            for mut w in wanted {
                w.name = qualify(&w.name, &apex);
                let Some(r) = records.iter().find(|r| {
                    normalize(r.name()) == w.name
                        && r.r#type().as_str() == w.kind
                        && r.set_identifier() == w.set.as_deref()
                }) else {
                    continue;
                };
                let prior_name = text(&w.prior, "name").filter(|p| qualify(p, &apex) == w.name);
                let alias = r.alias_target().map(|a| {
                    let name = normalize(a.dns_name());
                    let prior = w
                        .prior
                        .get("alias")
                        .and_then(|p| text(p.expose(), "name"))
                        .filter(|p| normalize(p) == name)
                        .map(String::from);
                    Attrs::new()
                        .set("name", prior.unwrap_or(name))
                        .set("zone_id", a.hosted_zone_id())
                        .set("evaluate_target_health", a.evaluate_target_health())
                        .build()
                });
                let values: Vec<String> = r
                    .resource_records()
                    .iter()
                    .map(|v| v.value().to_string())
                    .collect();
                let attributes = Attrs::new()
                    .set("id", record_id(&w.zone, &w.name, &w.kind, w.set.as_deref()))
                    .set("zone_id", w.zone.as_str())
                    .set("name", prior_name.unwrap_or(&w.name))
                    .set("fqdn", w.name.as_str())
                    .set("type", w.kind.as_str())
                    .opt("set_identifier", w.set.as_deref())
                    .opt("ttl", r.ttl().map(|t| t as f64))
                    .set(
                        "records",
                        Value::List(
                            prior_order(values, &strings(&w.prior, "records"))
                                .into_iter()
                                .map(Value::String)
                                .collect(),
                        ),
                    )
                    .opt("alias", alias)
                    .opt(
                        "failover_routing_policy",
                        r.failover()
                            .map(|f| Attrs::new().set("type", f.as_str()).build()),
                    )
                    .opt("health_check_id", r.health_check_id())
                    .build();
                found.insert(
                    w.address,
                    ReadResult {
                        id: record_id(&w.zone, &w.name, &w.kind, w.set.as_deref()),
                        attributes,
                    },
                );
            }
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let fqdn = change(aws, ChangeAction::Create, c, "create", req.timeout).await?;
        Ok(record_id(
            bare_zone_id(required(TYPE, c, "zone_id")?),
            &fqdn,
            required(TYPE, c, "type")?,
            text(c, "set_identifier"),
        ))
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        change(
            aws,
            ChangeAction::Upsert,
            &req.config,
            "update",
            req.timeout,
        )
        .await
        .map(drop)
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        // Route53 deletes only a record set given exactly as it is: the last one read.
        match change(aws, ChangeAction::Delete, &req.prior, "delete", req.timeout).await {
            Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
            // AWS: "it was not found" when the record is already gone.
            Err(e)
                if e.message.contains("not found") && e.message.contains("InvalidChangeBatch") =>
            {
                Ok(())
            }
            other => other.map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_terraforms_and_parse_back() {
        assert_eq!(
            record_id("Z1", "API.example.com.", "A", Some("primary")),
            "Z1_api.example.com_A_primary"
        );
        assert_eq!(
            parse_id("Z1_api.example.com_A_primary"),
            Some((
                "Z1".into(),
                "api.example.com".into(),
                "A".into(),
                Some("primary".into())
            ))
        );
        assert_eq!(
            parse_id("Z1__d930b28b.example.com_CNAME"),
            Some((
                "Z1".into(),
                "_d930b28b.example.com".into(),
                "CNAME".into(),
                None
            ))
        );
        assert_eq!(parse_id("Z1"), None);
    }

    #[test]
    fn names_compare_as_route53_stores_them() {
        assert_eq!(normalize("\\052.Example.com."), "*.example.com");
        assert_eq!(qualify("www", "example.com"), "www.example.com");
        assert_eq!(
            qualify("WWW.example.com.", "example.com"),
            "www.example.com"
        );
        assert_eq!(qualify("example.com", "example.com"), "example.com");
    }
}
