//! The fake cloud's resource types: their schemas, and what the "cloud" does when one is created
//! (ids and computed attributes, validation against what already exists).
//!
//! Attribute names follow the Terraform AWS provider so specs written against `fake` read like
//! real ones. Adding a type is one schema function, one line in [`schemas`], and (when it has
//! computed attributes or rules) one arm in [`fill_computed`] / [`validate`].

use std::collections::BTreeMap;

use ipnet::Ipv4Net;
use serde_json::{Map, Value as Json};

use crate::providers::{ErrorKind, ProviderError};
use crate::schema::{AttrSchema, AttrType, Schema};

use super::cloud::CloudData;

const PROVIDER: &str = "fake";

fn string() -> AttrType {
    AttrType::String
}
fn tags() -> AttrSchema {
    AttrSchema::optional("tags", AttrType::Map(Box::new(AttrType::String)))
        .describe("Tags to assign to the object")
}
fn id() -> AttrSchema {
    AttrSchema::computed("id", string()).describe("The cloud id")
}
fn arn() -> AttrSchema {
    AttrSchema::computed("arn", string()).describe("The object's ARN")
}
fn string_list() -> AttrType {
    AttrType::List(Box::new(AttrType::String))
}

/// Every schema the fake provider registers: resources and the `fake_zones` data source.
pub fn schemas() -> Vec<Schema> {
    vec![
        network(),
        subnet(),
        security_group(),
        database(),
        cache(),
        bucket(),
        service(),
        load_balancer(),
        alarm(),
        zones(),
    ]
}

fn network() -> Schema {
    Schema::resource(PROVIDER, "fake_network")
        .describe("An isolated virtual network (like aws_vpc)")
        .attr(
            AttrSchema::required("cidr_block", string())
                .force_new()
                .describe("IPv4 CIDR block"),
        )
        .attr(AttrSchema::optional("name", string()))
        .attr(AttrSchema::optional("enable_dns", AttrType::Bool).default(true))
        .attr(tags())
        .attr(id())
        .attr(arn())
        .typical_create_secs(3.0)
}

fn subnet() -> Schema {
    Schema::resource(PROVIDER, "fake_subnet")
        .describe("A subnet of a fake_network in one zone (like aws_subnet)")
        .attr(AttrSchema::required("network_id", string()).force_new())
        .attr(AttrSchema::required("cidr_block", string()).force_new())
        .attr(AttrSchema::optional("zone", string()).force_new())
        .attr(AttrSchema::optional("public", AttrType::Bool).default(false))
        .attr(tags())
        .attr(id())
        .attr(arn())
        .typical_create_secs(2.0)
}

fn security_group() -> Schema {
    let rule = BTreeMap::from([
        ("port".to_string(), AttrType::Number),
        ("protocol".to_string(), AttrType::String),
        ("cidr_blocks".to_string(), string_list()),
    ]);
    Schema::resource(PROVIDER, "fake_security_group")
        .describe("A stateful firewall attached to a network (like aws_security_group)")
        .attr(AttrSchema::required("name", string()).force_new())
        .attr(AttrSchema::required("network_id", string()).force_new())
        .attr(
            AttrSchema::optional("description", string())
                .default("Managed by cairn")
                .force_new(),
        )
        .attr(AttrSchema::optional(
            "ingress",
            AttrType::List(Box::new(AttrType::Object(rule))),
        ))
        .attr(tags())
        .attr(id())
        .attr(arn())
        .typical_create_secs(3.0)
}

fn database() -> Schema {
    Schema::resource(PROVIDER, "fake_database")
        .describe("A managed relational database (like aws_db_instance)")
        .attr(AttrSchema::required("engine", string()).force_new())
        .attr(AttrSchema::optional_computed("engine_version", string()))
        .attr(AttrSchema::required("instance_class", string()))
        .attr(AttrSchema::optional("allocated_storage", AttrType::Number).default(20))
        .attr(AttrSchema::required("username", string()).force_new())
        .attr(AttrSchema::optional("password", string()).sensitive().describe(
            "Write-only: the cloud never returns it, so reads keep the value state last recorded",
        ))
        .attr(AttrSchema::optional("subnet_ids", string_list()))
        .attr(AttrSchema::optional("multi_az", AttrType::Bool).default(false))
        .attr(tags())
        .attr(id())
        .attr(arn())
        .attr(AttrSchema::computed("endpoint", string()))
        .attr(AttrSchema::computed("port", AttrType::Number))
        .typical_create_secs(600.0)
}

fn cache() -> Schema {
    Schema::resource(PROVIDER, "fake_cache")
        .describe("A managed in-memory cache cluster (like aws_elasticache_replication_group)")
        .attr(AttrSchema::required("node_type", string()))
        .attr(AttrSchema::optional("num_shards", AttrType::Number).default(1))
        .attr(AttrSchema::optional("replicas_per_shard", AttrType::Number).default(1))
        .attr(AttrSchema::optional("subnet_ids", string_list()))
        .attr(tags())
        .attr(id())
        .attr(AttrSchema::computed("endpoint", string()))
        .typical_create_secs(900.0)
}

fn bucket() -> Schema {
    Schema::resource(PROVIDER, "fake_bucket")
        .describe("An object storage bucket (like aws_s3_bucket)")
        .attr(AttrSchema::required("bucket", string()).force_new())
        .attr(AttrSchema::optional("versioning", AttrType::Bool).default(false))
        .attr(tags())
        .attr(id())
        .attr(arn())
        .typical_create_secs(2.0)
}

fn service() -> Schema {
    Schema::resource(PROVIDER, "fake_service")
        .describe("A long-running container service (like aws_ecs_service)")
        .attr(AttrSchema::required("cluster", string()))
        .attr(AttrSchema::required("image", string()))
        .attr(AttrSchema::optional("cpu", AttrType::Number))
        .attr(AttrSchema::optional("memory", AttrType::Number))
        .attr(AttrSchema::optional("desired_count", AttrType::Number).default(1))
        .attr(AttrSchema::optional("subnet_ids", string_list()))
        .attr(AttrSchema::optional("security_group_ids", string_list()))
        .attr(tags())
        .attr(id())
        .typical_create_secs(120.0)
}

fn load_balancer() -> Schema {
    Schema::resource(PROVIDER, "fake_load_balancer")
        .describe("An application load balancer (like aws_lb)")
        .attr(AttrSchema::optional("subnet_ids", string_list()))
        .attr(AttrSchema::optional("security_group_ids", string_list()))
        .attr(AttrSchema::optional("internal", AttrType::Bool).default(false))
        .attr(tags())
        .attr(id())
        .attr(arn())
        .attr(AttrSchema::computed("dns_name", string()))
        .typical_create_secs(180.0)
}

fn alarm() -> Schema {
    Schema::resource(PROVIDER, "fake_alarm")
        .describe("A metric alarm (like aws_cloudwatch_metric_alarm)")
        .attr(AttrSchema::required("metric", string()))
        .attr(AttrSchema::required("threshold", AttrType::Number))
        .attr(AttrSchema::optional("comparison", string()).default("GreaterThanThreshold"))
        .attr(tags())
        .attr(id())
        .typical_create_secs(1.0)
}

fn zones() -> Schema {
    Schema::data_source(PROVIDER, "fake_zones")
        .describe("The zones of the fake region (like aws_availability_zones)")
        .attr(AttrSchema::computed("names", string_list()))
        .attr(id())
}

/// The id prefix of each type, as real clouds have (`vpc-`, `subnet-`...).
pub(super) fn id_prefix(resource_type: &str) -> &'static str {
    match resource_type {
        "fake_network" => "net",
        "fake_subnet" => "subnet",
        "fake_security_group" => "sg",
        "fake_database" => "db",
        "fake_cache" => "cache",
        "fake_bucket" => "bucket",
        "fake_service" => "svc",
        "fake_load_balancer" => "lb",
        "fake_alarm" => "alarm",
        _ => "obj",
    }
}

/// Whether `id` is one this fake cloud would have made for `resource_type` (`net-0a1b2c3d`).
/// Other ids (an AWS `vpc-0a1b2c3d4e5f67890`) come from another provider of the same environment
/// and are opaque here: the reference stack runs its services on the fake provider inside an AWS
/// network until their AWS types exist.
fn is_own_id(id: &str, resource_type: &str) -> bool {
    id.strip_prefix(id_prefix(resource_type))
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| hex.len() == 8 && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

fn invalid(message: String) -> ProviderError {
    ProviderError::new(ErrorKind::Invalid, message)
}

fn parse_cidr(resource_type: &str, value: &Json) -> Result<Ipv4Net, ProviderError> {
    let text = value.as_str().unwrap_or_default();
    text.parse::<Ipv4Net>().map_err(|_| {
        invalid(format!(
            "{resource_type}: cidr_block {value} is not an IPv4 CIDR block (expected a form such as \"10.0.0.0/16\")"
        ))
    })
}

/// Checks a create's or update's attributes the way the cloud's API would.
pub(super) fn validate(
    schema: &Schema,
    attrs: &Map<String, Json>,
    cloud: &CloudData,
) -> Result<(), ProviderError> {
    let ty = schema.type_name;
    for attr in &schema.attributes {
        if attr.presence == crate::schema::Presence::Required
            && attrs.get(attr.name).is_none_or(Json::is_null)
        {
            return Err(invalid(format!(
                "{ty}: the attribute `{}` is required",
                attr.name
            )));
        }
    }
    for name in attrs.keys() {
        if schema.attribute(name).is_none() {
            return Err(invalid(format!("{ty}: unknown attribute `{name}`")));
        }
    }
    match ty {
        "fake_network" => {
            parse_cidr(ty, &attrs["cidr_block"])?;
        }
        "fake_subnet" => {
            let cidr = parse_cidr(ty, &attrs["cidr_block"])?;
            let network_id = attrs["network_id"].as_str().unwrap_or_default();
            let network = cloud
                .object_of_type(network_id, "fake_network")
                .ok_or_else(|| {
                    ProviderError::new(
                        ErrorKind::NotFound,
                        format!("fake_subnet: network {network_id:?} does not exist"),
                    )
                })?;
            let network_cidr = network
                .attributes
                .get("cidr_block")
                .and_then(Json::as_str)
                .and_then(|s| s.parse::<Ipv4Net>().ok());
            if let Some(network_cidr) = network_cidr
                && !network_cidr.contains(&cidr)
            {
                return Err(invalid(format!(
                    "fake_subnet: cidr_block \"{cidr}\" is not inside network {network_id}'s \"{network_cidr}\""
                )));
            }
        }
        "fake_security_group" => {
            let network_id = attrs["network_id"].as_str().unwrap_or_default();
            if is_own_id(network_id, "fake_network")
                && cloud.object_of_type(network_id, "fake_network").is_none()
            {
                return Err(ProviderError::new(
                    ErrorKind::NotFound,
                    format!("fake_security_group: network {network_id:?} does not exist"),
                ));
            }
        }
        "fake_database" | "fake_cache" | "fake_service" | "fake_load_balancer" => {
            for id in attrs
                .get("subnet_ids")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let id = id.as_str().unwrap_or_default();
                if is_own_id(id, "fake_subnet") && cloud.object_of_type(id, "fake_subnet").is_none()
                {
                    return Err(ProviderError::new(
                        ErrorKind::NotFound,
                        format!("{ty}: subnet {id:?} in subnet_ids does not exist"),
                    ));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// The schema's defaults for attributes the request left unset.
pub(super) fn apply_defaults(schema: &Schema, attrs: &mut Map<String, Json>) {
    for attr in &schema.attributes {
        if let Some(default) = &attr.default
            && attrs.get(attr.name).is_none_or(Json::is_null)
        {
            attrs.insert(attr.name.to_string(), default.to_json_exposed());
        }
    }
}

/// Fills what only the cloud knows: `id`, `arn`, endpoints.
pub(super) fn fill_computed(
    resource_type: &str,
    id: &str,
    region: &str,
    attrs: &mut Map<String, Json>,
) {
    let short = id.rsplit('-').next().unwrap_or(id).to_string();
    attrs.insert("id".into(), Json::String(id.to_string()));
    let kind = resource_type.trim_start_matches("fake_");
    let arn = format!("arn:fake:{kind}:{region}:000000000000:{id}");
    match resource_type {
        "fake_network" | "fake_subnet" | "fake_security_group" => {
            attrs.insert("arn".into(), Json::String(arn));
        }
        "fake_bucket" => {
            let name = attrs
                .get("bucket")
                .and_then(Json::as_str)
                .unwrap_or(id)
                .to_string();
            attrs.insert(
                "arn".into(),
                Json::String(format!("arn:fake:bucket:::{name}")),
            );
        }
        "fake_database" => {
            let engine = attrs
                .get("engine")
                .and_then(Json::as_str)
                .unwrap_or("postgres");
            let (port, version) = match engine {
                "mysql" | "mariadb" => (3306, "8.0"),
                _ => (5432, "16.3"),
            };
            attrs.insert("arn".into(), Json::String(arn));
            attrs.insert(
                "endpoint".into(),
                Json::String(format!("{id}.{region}.db.fake.internal")),
            );
            attrs.insert("port".into(), Json::from(port));
            if attrs.get("engine_version").is_none_or(Json::is_null) {
                attrs.insert("engine_version".into(), Json::String(version.into()));
            }
        }
        "fake_cache" => {
            attrs.insert(
                "endpoint".into(),
                Json::String(format!("{id}.{region}.cache.fake.internal")),
            );
        }
        "fake_load_balancer" => {
            attrs.insert("arn".into(), Json::String(arn));
            attrs.insert(
                "dns_name".into(),
                Json::String(format!("{short}.{region}.lb.fake.internal")),
            );
        }
        _ => {}
    }
}
