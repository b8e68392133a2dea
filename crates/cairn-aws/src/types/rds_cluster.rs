//! `aws_rds_cluster`: an Aurora cluster (aurora-postgresql): the shared storage and endpoints its
//! `aws_rds_cluster_instance`s serve. Its id is its cluster identifier, which is also how it is
//! imported.
//!
//! The master password is write-only (state keeps its digest; it is sent only when it changed).
//! An engine version change waits for the maintenance window unless `apply_immediately` is set.
//! Refresh is one DescribeDBClusters per 100 identifiers (a `db-cluster-id` filter); create,
//! modify and delete wait on the cluster's `Status`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_rds::types::DbCluster;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, flag, id_schema, number, required, tags_schema, text};
use crate::config::Clients;
use crate::errors::invalid;
use crate::rds::{
    CREATE_LIMIT, DELETE_LIMIT, UPDATE_LIMIT, Until, apply_immediately, carry, create_tags,
    describe_clusters, engine_version, final_snapshot, rds_error, security_group_ids, strings,
    sync_tags, tags_of, wait_cluster,
};

pub struct Cluster;

const TYPE: &str = "aws_rds_cluster";
const LOCAL: [&str; 3] = [
    "skip_final_snapshot",
    "final_snapshot_identifier",
    "apply_immediately",
];
/// What AWS applies when the spec sets no retention.
const DEFAULT_RETENTION: i64 = 1;

#[async_trait]
impl Resource for Cluster {
    fn schema(&self) -> Schema {
        let string = || AttrType::String;
        Schema::resource(PROVIDER, TYPE)
            .import_id("CLUSTER_IDENTIFIER")
            .apply_immediately("apply_immediately")
            .describe("An Aurora DB cluster")
            .attr(AttrSchema::required("cluster_identifier", string()).force_new())
            .attr(
                AttrSchema::required("engine", string())
                    .force_new()
                    .describe("aurora-postgresql"),
            )
            .attr(AttrSchema::optional_computed("engine_version", string()).deferred())
            .attr(AttrSchema::optional_computed("database_name", string()).force_new())
            .attr(AttrSchema::optional_computed("master_username", string()).force_new())
            .attr(
                AttrSchema::optional("master_password", string())
                    .sensitive()
                    .describe("The master password; AWS never returns it"),
            )
            .attr(AttrSchema::optional_computed("db_subnet_group_name", string()).force_new())
            .attr(AttrSchema::optional_computed(
                "vpc_security_group_ids",
                AttrType::List(Box::new(string())),
            ))
            .attr(
                AttrSchema::optional("storage_encrypted", AttrType::Bool)
                    .default(false)
                    .force_new(),
            )
            .attr(AttrSchema::optional_computed("kms_key_id", string()).force_new())
            .attr(
                AttrSchema::optional("backup_retention_period", AttrType::Number)
                    .default(DEFAULT_RETENTION),
            )
            .attr(AttrSchema::optional_computed(
                "preferred_backup_window",
                string(),
            ))
            .attr(AttrSchema::optional_computed(
                "preferred_maintenance_window",
                string(),
            ))
            .attr(AttrSchema::optional_computed("port", AttrType::Number))
            .attr(AttrSchema::optional("skip_final_snapshot", AttrType::Bool).default(false))
            .attr(AttrSchema::optional("final_snapshot_identifier", string()))
            .attr(AttrSchema::optional("deletion_protection", AttrType::Bool).default(false))
            .attr(AttrSchema::optional("apply_immediately", AttrType::Bool).default(false))
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed("endpoint", string()))
            .attr(AttrSchema::computed("reader_endpoint", string()))
            .attr(AttrSchema::computed("hosted_zone_id", string()))
            .attr(AttrSchema::computed("cluster_resource_id", string()))
            .typical_create_secs(300.0)
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let wanted: Vec<(&ReadItem, String)> = items
            .iter()
            .filter_map(|i| Some((i, crate::rds::wanted(i, "cluster_identifier")?)))
            .collect();
        let ids: Vec<String> = wanted.iter().map(|(_, id)| id.clone()).collect();
        let found = describe_clusters(aws, &ids).await?;
        let mut result = BTreeMap::new();
        for (item, id) in wanted {
            let Some(cluster) = found
                .get(&id)
                .or_else(|| found.get(&id.to_ascii_lowercase()))
            else {
                continue;
            };
            result.insert(
                item.address.clone(),
                ReadResult {
                    id: cluster.db_cluster_identifier().unwrap_or(&id).to_string(),
                    attributes: attributes(cluster, &item.prior),
                },
            );
        }
        Ok(result)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let id = required(TYPE, c, "cluster_identifier")?;
        let password = c
            .get("master_password")
            .map(Value::expose)
            .and_then(Value::as_str)
            .map(String::from);
        let scrub = [password.as_deref().unwrap_or_default()];
        aws.rds
            .create_db_cluster()
            .db_cluster_identifier(id)
            .engine(required(TYPE, c, "engine")?)
            .set_engine_version(text(c, "engine_version").map(String::from))
            .set_database_name(text(c, "database_name").map(String::from))
            .set_master_username(text(c, "master_username").map(String::from))
            .set_master_user_password(password.clone())
            .set_db_subnet_group_name(text(c, "db_subnet_group_name").map(String::from))
            .set_vpc_security_group_ids(strings(c, "vpc_security_group_ids"))
            .storage_encrypted(flag(c, "storage_encrypted", false))
            .set_kms_key_id(text(c, "kms_key_id").map(String::from))
            .set_backup_retention_period(number(c, "backup_retention_period"))
            .set_preferred_backup_window(text(c, "preferred_backup_window").map(String::from))
            .set_preferred_maintenance_window(
                text(c, "preferred_maintenance_window").map(String::from),
            )
            .set_port(number(c, "port"))
            .deletion_protection(flag(c, "deletion_protection", false))
            .set_tags(Some(create_tags(c, &req.address)))
            .send()
            .await
            .map_err(|e| rds_error("CreateDBCluster", e, &scrub))?;
        wait_cluster(
            aws,
            id,
            Until::Available,
            "create",
            req.timeout.unwrap_or(CREATE_LIMIT),
        )
        .await?;
        Ok(id.to_string())
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let c = &req.config;
        let changed = |a: &str| req.changed.iter().any(|n| n == a);
        let when = |a: &str| changed(a).then_some(());
        let password = c
            .get("master_password")
            .map(Value::expose)
            .and_then(Value::as_str)
            .map(String::from)
            .filter(|_| changed("master_password"));
        let scrub = [password.as_deref().unwrap_or_default()];
        let settings = [
            "engine_version",
            "master_password",
            "vpc_security_group_ids",
            "backup_retention_period",
            "preferred_backup_window",
            "preferred_maintenance_window",
            "port",
            "deletion_protection",
        ];
        if settings.iter().any(|a| changed(a)) {
            aws.rds
                .modify_db_cluster()
                .db_cluster_identifier(&req.id)
                .apply_immediately(apply_immediately(c))
                .set_engine_version(
                    when("engine_version").and(text(c, "engine_version").map(String::from)),
                )
                .set_master_user_password(password.clone())
                .set_vpc_security_group_ids(
                    when("vpc_security_group_ids").and(strings(c, "vpc_security_group_ids")),
                )
                .set_backup_retention_period(when("backup_retention_period").map(|_| {
                    number(c, "backup_retention_period").unwrap_or(DEFAULT_RETENTION as i32)
                }))
                .set_preferred_backup_window(
                    when("preferred_backup_window")
                        .and(text(c, "preferred_backup_window").map(String::from)),
                )
                .set_preferred_maintenance_window(
                    when("preferred_maintenance_window")
                        .and(text(c, "preferred_maintenance_window").map(String::from)),
                )
                .set_port(when("port").and(number(c, "port")))
                .set_deletion_protection(
                    when("deletion_protection").map(|_| flag(c, "deletion_protection", false)),
                )
                .send()
                .await
                .map_err(|e| rds_error("ModifyDBCluster", e, &scrub))?;
            wait_cluster(
                aws,
                &req.id,
                if apply_immediately(c) {
                    Until::Applied
                } else {
                    Until::Available
                },
                "update",
                req.timeout.unwrap_or(UPDATE_LIMIT),
            )
            .await?;
        }
        if changed("tags") {
            let arn = text(&req.prior, "arn")
                .ok_or_else(|| invalid(TYPE, format!("{} has no ARN in state", req.address)))?;
            sync_tags(aws, arn, &req.prior, c).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let p = &req.prior;
        let (skip, snapshot) = final_snapshot(TYPE, &req.address, p, false)?;
        let out = aws
            .rds
            .delete_db_cluster()
            .db_cluster_identifier(&req.id)
            .skip_final_snapshot(skip)
            .set_final_db_snapshot_identifier(snapshot.filter(|_| !skip).map(String::from))
            .send()
            .await;
        if let Err(e) = out {
            let e = rds_error("DeleteDBCluster", e, &[]);
            return if e.kind == ErrorKind::NotFound {
                Ok(())
            } else {
                Err(e)
            };
        }
        wait_cluster(
            aws,
            &req.id,
            Until::Gone,
            "delete",
            req.timeout.unwrap_or(DELETE_LIMIT),
        )
        .await
    }
}

/// The attributes of `cluster`, with a pending engine version in place of the current one.
fn attributes(cluster: &DbCluster, prior: &Value) -> Value {
    let version = cluster
        .pending_modified_values()
        .and_then(|p| p.engine_version())
        .or(cluster.engine_version());
    let mut attrs = Attrs::new()
        .opt("id", cluster.db_cluster_identifier())
        .opt("cluster_identifier", cluster.db_cluster_identifier())
        .opt("arn", cluster.db_cluster_arn())
        .opt("engine", cluster.engine())
        .opt(
            "engine_version",
            engine_version(text(prior, "engine_version"), version),
        )
        .opt("database_name", cluster.database_name())
        .opt("master_username", cluster.master_username())
        .opt("db_subnet_group_name", cluster.db_subnet_group())
        .set(
            "vpc_security_group_ids",
            security_group_ids(prior, cluster.vpc_security_groups()),
        )
        .set(
            "storage_encrypted",
            cluster.storage_encrypted().unwrap_or(false),
        )
        .opt("kms_key_id", cluster.kms_key_id())
        .opt(
            "backup_retention_period",
            cluster.backup_retention_period().map(i64::from),
        )
        .opt("preferred_backup_window", cluster.preferred_backup_window())
        .opt(
            "preferred_maintenance_window",
            cluster.preferred_maintenance_window(),
        )
        .opt("port", cluster.port().map(i64::from))
        .set(
            "deletion_protection",
            cluster.deletion_protection().unwrap_or(false),
        )
        .set("tags", tags_of(cluster.tag_list()))
        .opt("endpoint", cluster.endpoint())
        .opt("reader_endpoint", cluster.reader_endpoint())
        .opt("hosted_zone_id", cluster.hosted_zone_id())
        .opt("cluster_resource_id", cluster.db_cluster_resource_id());
    for (name, value) in carry(prior, &LOCAL) {
        attrs = attrs.set(&name, value);
    }
    if let Some(password) = prior.get("master_password").filter(|v| **v != Value::Null) {
        attrs = attrs.set("master_password", password.clone());
    }
    attrs.build()
}
