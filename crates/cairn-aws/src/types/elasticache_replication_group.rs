//! `aws_elasticache_replication_group`: a Redis (or Valkey) replication group, with or without
//! cluster mode (shards × replicas), encryption at rest and in transit. Its id is the
//! replication group id, which is also how it is imported.
//!
//! Refresh: one DescribeReplicationGroups walk (100 a page) for every group in state, plus one
//! DescribeCacheClusters walk for what AWS reports only per member cluster (engine version,
//! subnet group, security groups, parameter group, maintenance window, port); tags from one
//! ListTagsForResource per group, concurrently, bounded.
//!
//! Creates and modifications wait until the group is `available`; a delete waits until it is
//! gone. (moto keeps a deleted group `deleting` forever: there the delete ends with the timeout
//! message, and the group stays in state.)

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_elasticache::types::{CacheCluster, ClusterMode, ReplicationGroup};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{
    ADDRESS_TAG, Attrs, arn_schema, flag, id_schema, number, required, string_list, tags_schema,
    tags_value, text,
};
use crate::config::Clients;
use crate::each::read_each;
use crate::elasticache::{ec_tags, sync_tags, tags_of};
use crate::errors::sdk_error;
use crate::paginate::all_pages;
use crate::tagging::with_owner;
use crate::wait::{Check, Wait};

pub struct ReplicationGroupType;

const TYPE: &str = "aws_elasticache_replication_group";
/// Terraform's defaults: create and update 60 minutes, delete 45.
const CREATE_LIMIT: Duration = Duration::from_secs(60 * 60);
const UPDATE_LIMIT: Duration = Duration::from_secs(60 * 60);
const DELETE_LIMIT: Duration = Duration::from_secs(45 * 60);

/// Attributes ModifyReplicationGroup changes in place.
const MODIFIABLE: [&str; 10] = [
    "description",
    "node_type",
    "engine_version",
    "parameter_group_name",
    "security_group_ids",
    "automatic_failover_enabled",
    "multi_az_enabled",
    "snapshot_retention_limit",
    "snapshot_window",
    "maintenance_window",
];

fn strings(config: &Value, name: &str) -> Option<Vec<String>> {
    config.get(name).and_then(Value::as_list).map(|l| {
        l.iter()
            .filter_map(|v| v.expose().as_str().map(String::from))
            .collect()
    })
}

fn enabled(status: Option<&str>) -> bool {
    matches!(status, Some("enabled" | "enabling"))
}

#[async_trait]
impl Resource for ReplicationGroupType {
    fn schema(&self) -> Schema {
        let list = || AttrType::List(Box::new(AttrType::String));
        Schema::resource(PROVIDER, TYPE)
            .import_id("REPLICATION_GROUP_ID")
            .describe("An ElastiCache Redis replication group (cluster mode enabled or disabled)")
            .typical_create_secs(600.0)
            .apply_immediately("apply_immediately")
            .attr(AttrSchema::required("replication_group_id", AttrType::String).force_new())
            .attr(AttrSchema::required("description", AttrType::String))
            .attr(
                AttrSchema::optional("engine", AttrType::String)
                    .default("redis")
                    .force_new(),
            )
            .attr(AttrSchema::optional_computed("engine_version", AttrType::String).deferred())
            .attr(AttrSchema::required("node_type", AttrType::String).deferred())
            .attr(
                AttrSchema::optional("port", AttrType::Number)
                    .default(6379)
                    .force_new(),
            )
            .attr(AttrSchema::optional_computed(
                "parameter_group_name",
                AttrType::String,
            ))
            .attr(AttrSchema::optional("subnet_group_name", AttrType::String).force_new())
            .attr(AttrSchema::optional("security_group_ids", list()))
            .attr(
                AttrSchema::optional("cluster_mode", AttrType::String)
                    .default("disabled")
                    .force_new()
                    .describe("enabled: shards (num_node_groups) × replicas_per_node_group"),
            )
            .attr(
                AttrSchema::optional_computed("num_cache_clusters", AttrType::Number)
                    .force_new()
                    .describe("Nodes (primary + replicas) with cluster mode disabled"),
            )
            .attr(AttrSchema::optional_computed("num_node_groups", AttrType::Number).force_new())
            .attr(
                AttrSchema::optional_computed("replicas_per_node_group", AttrType::Number)
                    .force_new(),
            )
            .attr(AttrSchema::optional("automatic_failover_enabled", AttrType::Bool).default(false))
            .attr(AttrSchema::optional("multi_az_enabled", AttrType::Bool).default(false))
            .attr(
                AttrSchema::optional("at_rest_encryption_enabled", AttrType::Bool)
                    .default(false)
                    .force_new(),
            )
            .attr(
                AttrSchema::optional("transit_encryption_enabled", AttrType::Bool)
                    .default(false)
                    .force_new(),
            )
            .attr(AttrSchema::optional("kms_key_id", AttrType::String).force_new())
            .attr(
                AttrSchema::optional("auth_token", AttrType::String)
                    .sensitive()
                    .force_new()
                    .describe("The Redis AUTH password (needs transit encryption)"),
            )
            .attr(AttrSchema::optional("snapshot_retention_limit", AttrType::Number).default(0))
            .attr(AttrSchema::optional_computed(
                "snapshot_window",
                AttrType::String,
            ))
            .attr(AttrSchema::optional_computed(
                "maintenance_window",
                AttrType::String,
            ))
            .attr(AttrSchema::optional("apply_immediately", AttrType::Bool))
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed(
                "primary_endpoint_address",
                AttrType::String,
            ))
            .attr(AttrSchema::computed(
                "reader_endpoint_address",
                AttrType::String,
            ))
            .attr(AttrSchema::computed(
                "configuration_endpoint_address",
                AttrType::String,
            ))
            .attr(AttrSchema::computed("member_clusters", list()))
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let wanted: BTreeMap<String, &ReadItem> = items
            .iter()
            .filter_map(|i| match (&i.id, &i.token) {
                (Some(id), _) => Some((id.clone(), i)),
                (None, Some(_)) => Some((text(&i.prior, "replication_group_id")?.to_string(), i)),
                (None, None) => None,
            })
            .collect();
        if wanted.is_empty() {
            return Ok(BTreeMap::new());
        }
        let groups = all_pages(|marker| async move {
            let out = aws
                .elasticache
                .describe_replication_groups()
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeReplicationGroups", e))?;
            Ok((out.replication_groups.unwrap_or_default(), out.marker))
        })
        .await?;
        let groups: Vec<ReplicationGroup> = groups
            .into_iter()
            .filter(|g| {
                g.replication_group_id()
                    .is_some_and(|id| wanted.contains_key(id))
            })
            .collect();
        // One member cluster per group tells what the group-level call does not.
        let members: HashMap<String, CacheCluster> = if groups.is_empty() {
            HashMap::new()
        } else {
            all_pages(|marker| async move {
                let out = aws
                    .elasticache
                    .describe_cache_clusters()
                    .set_marker(marker)
                    .send()
                    .await
                    .map_err(|e| sdk_error("DescribeCacheClusters", e))?;
                Ok((out.cache_clusters.unwrap_or_default(), out.marker))
            })
            .await?
            .into_iter()
            .filter_map(|c| Some((c.replication_group_id()?.to_string(), c)))
            .collect()
        };
        let matched = groups.into_iter().filter_map(|g| {
            let id = g.replication_group_id()?.to_string();
            let item = wanted.get(&id)?;
            let owner = item.id.is_none().then(|| item.address.clone());
            let member = members.get(&id).cloned();
            Some((item.address.clone(), (owner, g, member, item.prior.clone())))
        });
        let client = aws.elasticache.clone();
        read_each(
            matched,
            move |(owner, group, member, prior): (
                Option<String>,
                ReplicationGroup,
                Option<CacheCluster>,
                Value,
            )| {
                let client = client.clone();
                async move {
                    let arn = group.arn().unwrap_or_default().to_string();
                    let tags = tags_of(&client, &arn).await?;
                    if owner.is_some() && tags.get(ADDRESS_TAG) != owner.as_ref() {
                        return Ok(None);
                    }
                    Ok(Some(attributes(&group, member.as_ref(), &prior, &tags)))
                }
            },
        )
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let id = required(TYPE, c, "replication_group_id")?;
        let cluster_mode = text(c, "cluster_mode").unwrap_or("disabled");
        let mut call = aws
            .elasticache
            .create_replication_group()
            .replication_group_id(id)
            .replication_group_description(required(TYPE, c, "description")?)
            .engine(text(c, "engine").unwrap_or("redis"))
            .set_engine_version(text(c, "engine_version").map(String::from))
            .cache_node_type(required(TYPE, c, "node_type")?)
            .port(number(c, "port").unwrap_or(6379))
            .set_cache_parameter_group_name(text(c, "parameter_group_name").map(String::from))
            .set_cache_subnet_group_name(text(c, "subnet_group_name").map(String::from))
            .set_security_group_ids(strings(c, "security_group_ids"))
            .cluster_mode(ClusterMode::from(cluster_mode))
            .automatic_failover_enabled(flag(c, "automatic_failover_enabled", false))
            .multi_az_enabled(flag(c, "multi_az_enabled", false))
            .at_rest_encryption_enabled(flag(c, "at_rest_encryption_enabled", false))
            .transit_encryption_enabled(flag(c, "transit_encryption_enabled", false))
            .set_kms_key_id(text(c, "kms_key_id").map(String::from))
            .set_auth_token(text(c, "auth_token").map(String::from))
            .snapshot_retention_limit(number(c, "snapshot_retention_limit").unwrap_or(0))
            .set_snapshot_window(text(c, "snapshot_window").map(String::from))
            .set_preferred_maintenance_window(text(c, "maintenance_window").map(String::from))
            .set_tags(Some(ec_tags(with_owner(c, &req.address))));
        if cluster_mode == "enabled" {
            call = call
                .set_num_node_groups(number(c, "num_node_groups"))
                .set_replicas_per_node_group(number(c, "replicas_per_node_group"));
        } else {
            call = call.set_num_cache_clusters(number(c, "num_cache_clusters"));
        }
        call.send()
            .await
            .map_err(|e| sdk_error("CreateReplicationGroup", e))?;
        wait_available(aws, id, "create", req.timeout.unwrap_or(CREATE_LIMIT)).await?;
        Ok(id.to_string())
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let c = &req.config;
        let changed = |name: &str| req.changed.iter().any(|a| a == name);
        if MODIFIABLE.iter().any(|a| changed(a)) {
            let mut call = aws
                .elasticache
                .modify_replication_group()
                .replication_group_id(&req.id)
                .apply_immediately(flag(c, "apply_immediately", false));
            if changed("description") {
                call = call
                    .set_replication_group_description(text(c, "description").map(String::from));
            }
            if changed("node_type") {
                call = call.set_cache_node_type(text(c, "node_type").map(String::from));
            }
            if changed("engine_version") {
                call = call.set_engine_version(text(c, "engine_version").map(String::from));
            }
            if changed("parameter_group_name") {
                call = call.set_cache_parameter_group_name(
                    text(c, "parameter_group_name").map(String::from),
                );
            }
            if changed("security_group_ids") {
                call = call.set_security_group_ids(strings(c, "security_group_ids"));
            }
            if changed("automatic_failover_enabled") {
                call =
                    call.automatic_failover_enabled(flag(c, "automatic_failover_enabled", false));
            }
            if changed("multi_az_enabled") {
                call = call.multi_az_enabled(flag(c, "multi_az_enabled", false));
            }
            if changed("snapshot_retention_limit") {
                call = call
                    .snapshot_retention_limit(number(c, "snapshot_retention_limit").unwrap_or(0));
            }
            if changed("snapshot_window") {
                call = call.set_snapshot_window(text(c, "snapshot_window").map(String::from));
            }
            if changed("maintenance_window") {
                call = call.set_preferred_maintenance_window(
                    text(c, "maintenance_window").map(String::from),
                );
            }
            call.send()
                .await
                .map_err(|e| sdk_error("ModifyReplicationGroup", e))?;
            wait_available(aws, &req.id, "update", req.timeout.unwrap_or(UPDATE_LIMIT)).await?;
        }
        if changed("tags") {
            let arn = required(TYPE, &req.prior, "arn")?;
            sync_tags(&aws.elasticache, arn, &req.prior, c).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        match aws
            .elasticache
            .delete_replication_group()
            .replication_group_id(&req.id)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) => {
                let err = sdk_error("DeleteReplicationGroup", e);
                // A second destroy of a group AWS is still deleting: wait for it again.
                if !err.message.contains("InvalidReplicationGroupState") {
                    return Err(err);
                }
            }
        }
        let what = format!("ElastiCache replication group {}", req.id);
        Wait {
            what: &what,
            until: "deleted",
            operation: "delete",
            limit: req.timeout.unwrap_or(DELETE_LIMIT),
        }
        .run(|| async {
            match status(aws, &req.id).await {
                Ok(state) => Ok(Check::Waiting(state)),
                Err(e) if e.kind == ErrorKind::NotFound => Ok(Check::Done(())),
                Err(e) => Err(e),
            }
        })
        .await
    }
}

/// The group's status (`creating`, `available`, `modifying`, `deleting`).
async fn status(aws: &Clients, id: &str) -> Result<String, ProviderError> {
    let out = aws
        .elasticache
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeReplicationGroups", e))?;
    let group = out.replication_groups().first().ok_or_else(|| {
        ProviderError::new(
            ErrorKind::NotFound,
            format!("replication group {id} is gone"),
        )
    })?;
    Ok(group.status().unwrap_or("unknown").to_string())
}

async fn wait_available(
    aws: &Clients,
    id: &str,
    operation: &str,
    limit: Duration,
) -> Result<(), ProviderError> {
    let what = format!("ElastiCache replication group {id}");
    Wait {
        what: &what,
        until: "available",
        operation,
        limit,
    }
    .run(|| async {
        let state = status(aws, id).await?;
        Ok(if state == "available" {
            Check::Done(())
        } else {
            Check::Waiting(state)
        })
    })
    .await
}

/// The attributes of `group`; `member` is one of its cache clusters.
fn attributes(
    group: &ReplicationGroup,
    member: Option<&CacheCluster>,
    prior: &Value,
    tags: &BTreeMap<String, String>,
) -> ReadResult {
    let id = group.replication_group_id().unwrap_or_default();
    let cluster_mode = match group.cluster_mode() {
        Some(mode) => mode.as_str().to_string(),
        None if group.cluster_enabled() == Some(true) => "enabled".to_string(),
        None => "disabled".to_string(),
    };
    let node_groups = group.node_groups();
    let first_group = node_groups.first();
    let mut attrs = Attrs::new()
        .set("id", id)
        .set("replication_group_id", id)
        .opt("arn", group.arn())
        .opt("description", group.description())
        .opt("node_type", group.cache_node_type())
        .opt("engine", group.engine())
        .set("cluster_mode", cluster_mode.as_str())
        .set(
            "automatic_failover_enabled",
            enabled(group.automatic_failover().map(|s| s.as_str())),
        )
        .set(
            "multi_az_enabled",
            enabled(group.multi_az().map(|s| s.as_str())),
        )
        .set(
            "at_rest_encryption_enabled",
            group.at_rest_encryption_enabled().unwrap_or(false),
        )
        .set(
            "transit_encryption_enabled",
            group.transit_encryption_enabled().unwrap_or(false),
        )
        .opt("kms_key_id", group.kms_key_id())
        .set(
            "snapshot_retention_limit",
            Value::Number(group.snapshot_retention_limit().unwrap_or(0).into()),
        )
        .opt("snapshot_window", group.snapshot_window())
        .set(
            "member_clusters",
            string_list(group.member_clusters().iter().cloned()),
        )
        .opt(
            "configuration_endpoint_address",
            group.configuration_endpoint().and_then(|e| e.address()),
        )
        .opt(
            "primary_endpoint_address",
            first_group
                .and_then(|g| g.primary_endpoint())
                .and_then(|e| e.address()),
        )
        .opt(
            "reader_endpoint_address",
            first_group
                .and_then(|g| g.reader_endpoint())
                .and_then(|e| e.address()),
        )
        .set(
            "tags",
            tags_value(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        );
    if cluster_mode == "enabled" {
        let replicas = first_group
            .map(|g| g.node_group_members().len().saturating_sub(1))
            .unwrap_or(0);
        attrs = attrs
            .set("num_node_groups", Value::Number(node_groups.len() as f64))
            .set("replicas_per_node_group", Value::Number(replicas as f64));
    } else {
        attrs = attrs.set(
            "num_cache_clusters",
            Value::Number(group.member_clusters().len() as f64),
        );
    }
    // The port is on the endpoints; the rest only on the member clusters.
    let port = group
        .configuration_endpoint()
        .and_then(|e| e.port())
        .or_else(|| {
            first_group
                .and_then(|g| g.primary_endpoint())
                .and_then(|e| e.port())
        });
    attrs = attrs.opt("port", port.map(|p| Value::Number(p.into())));
    match member {
        Some(m) => {
            // `6.2` in the spec means whichever 6.2.x AWS runs.
            let version = match (text(prior, "engine_version"), m.engine_version()) {
                (Some(wanted), Some(actual)) if actual.starts_with(&format!("{wanted}.")) => {
                    Some(wanted)
                }
                (_, actual) => actual,
            };
            attrs = attrs
                .opt("engine_version", version)
                .opt("subnet_group_name", m.cache_subnet_group_name())
                .opt(
                    "parameter_group_name",
                    m.cache_parameter_group()
                        .and_then(|p| p.cache_parameter_group_name()),
                )
                .opt("maintenance_window", m.preferred_maintenance_window())
                .set(
                    "security_group_ids",
                    string_list(
                        m.security_groups()
                            .iter()
                            .filter_map(|s| s.security_group_id().map(String::from)),
                    ),
                );
        }
        None => {
            // moto creates no cache clusters for a group's members (AWS always does): keep
            // what was last known of the member-level settings rather than report them unset.
            for name in [
                "engine_version",
                "subnet_group_name",
                "parameter_group_name",
                "maintenance_window",
                "security_group_ids",
            ] {
                attrs = attrs.opt(name, prior.get(name).cloned());
            }
        }
    }
    // AWS never returns the AUTH token (cairn keeps its digest), and `apply_immediately` is
    // how cairn calls the API, not a property of the group.
    for name in ["auth_token", "apply_immediately"] {
        attrs = attrs.opt(name, prior.get(name).cloned());
    }
    ReadResult {
        id: id.to_string(),
        attributes: attrs.build(),
    }
}
