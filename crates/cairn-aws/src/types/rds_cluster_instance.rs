//! `aws_rds_cluster_instance`: a DB instance of an Aurora cluster; the first one created is
//! the writer, the others readers. Its id is its identifier, which is also how it is imported.
//!
//! Refresh is one DescribeDBInstances per 100 identifiers, plus one DescribeDBClusters per 100
//! clusters to tell the writer apart. An instance class change waits for the maintenance window
//! unless `apply_immediately` is set; a pending one is read as requested already.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, flag, id_schema, number, required, tags_schema, text};
use crate::config::Clients;
use crate::errors::invalid;
use crate::rds::{
    CREATE_LIMIT, DELETE_LIMIT, UPDATE_LIMIT, Until, apply_immediately, carry, create_tags,
    describe_clusters, describe_instances, rds_error, sync_tags, tags_of, wait_instance,
};

pub struct ClusterInstance;

const TYPE: &str = "aws_rds_cluster_instance";
/// Terraform's default: the instance first in line to be promoted.
const DEFAULT_TIER: i64 = 0;

#[async_trait]
impl Resource for ClusterInstance {
    fn schema(&self) -> Schema {
        let string = || AttrType::String;
        Schema::resource(PROVIDER, TYPE)
            .import_id("IDENTIFIER")
            .apply_immediately("apply_immediately")
            .describe("A DB instance of an Aurora cluster")
            .attr(AttrSchema::required("identifier", string()).force_new())
            .attr(AttrSchema::required("cluster_identifier", string()).force_new())
            .attr(AttrSchema::required("instance_class", string()).deferred())
            .attr(
                AttrSchema::required("engine", string())
                    .force_new()
                    .describe("The cluster's engine (aurora-postgresql)"),
            )
            .attr(AttrSchema::optional("publicly_accessible", AttrType::Bool).default(false))
            .attr(
                AttrSchema::optional("promotion_tier", AttrType::Number)
                    .default(DEFAULT_TIER)
                    .describe("Failover priority: lower is promoted first"),
            )
            .attr(AttrSchema::optional("apply_immediately", AttrType::Bool).default(false))
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed("endpoint", string()))
            .attr(AttrSchema::computed("port", AttrType::Number))
            .attr(
                AttrSchema::computed("writer", AttrType::Bool)
                    .describe("Whether this instance is the cluster's writer"),
            )
            .typical_create_secs(600.0)
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let wanted: Vec<(&ReadItem, String)> = items
            .iter()
            .filter_map(|i| Some((i, crate::rds::wanted(i, "identifier")?)))
            .collect();
        let ids: Vec<String> = wanted.iter().map(|(_, id)| id.clone()).collect();
        let found = describe_instances(aws, &ids).await?;
        let clusters: BTreeSet<String> = found
            .values()
            .filter_map(|db| db.db_cluster_identifier().map(String::from))
            .collect();
        let clusters: Vec<String> = clusters.into_iter().collect();
        let writers: BTreeSet<String> = describe_clusters(aws, &clusters)
            .await?
            .values()
            .flat_map(|c| c.db_cluster_members())
            .filter(|m| m.is_cluster_writer() == Some(true))
            .filter_map(|m| m.db_instance_identifier().map(String::from))
            .collect();
        let mut result = BTreeMap::new();
        for (item, id) in wanted {
            let Some(db) = found
                .get(&id)
                .or_else(|| found.get(&id.to_ascii_lowercase()))
            else {
                continue;
            };
            let id = db.db_instance_identifier().unwrap_or(&id).to_string();
            let class = db
                .pending_modified_values()
                .and_then(|p| p.db_instance_class())
                .or(db.db_instance_class());
            let mut attrs = Attrs::new()
                .set("id", id.as_str())
                .set("identifier", id.as_str())
                .opt("arn", db.db_instance_arn())
                .opt("cluster_identifier", db.db_cluster_identifier())
                .opt("instance_class", class)
                .opt("engine", db.engine())
                .set(
                    "publicly_accessible",
                    db.publicly_accessible().unwrap_or(false),
                )
                .set(
                    "promotion_tier",
                    db.promotion_tier().map_or(DEFAULT_TIER, i64::from),
                )
                .set("tags", tags_of(db.tag_list()))
                .opt("endpoint", db.endpoint().and_then(|e| e.address()))
                .opt("port", db.endpoint().and_then(|e| e.port()).map(i64::from))
                .set("writer", writers.contains(&id));
            for (name, value) in carry(&item.prior, &["apply_immediately"]) {
                attrs = attrs.set(&name, value);
            }
            result.insert(
                item.address.clone(),
                ReadResult {
                    id,
                    attributes: attrs.build(),
                },
            );
        }
        Ok(result)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let id = required(TYPE, c, "identifier")?;
        aws.rds
            .create_db_instance()
            .db_instance_identifier(id)
            .db_cluster_identifier(required(TYPE, c, "cluster_identifier")?)
            .engine(required(TYPE, c, "engine")?)
            .db_instance_class(required(TYPE, c, "instance_class")?)
            .publicly_accessible(flag(c, "publicly_accessible", false))
            .promotion_tier(number(c, "promotion_tier").unwrap_or(DEFAULT_TIER as i32))
            .set_tags(Some(create_tags(c, &req.address)))
            .send()
            .await
            .map_err(|e| rds_error("CreateDBInstance", e, &[]))?;
        wait_instance(
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
        if ["instance_class", "publicly_accessible", "promotion_tier"]
            .iter()
            .any(|a| changed(a))
        {
            aws.rds
                .modify_db_instance()
                .db_instance_identifier(&req.id)
                .apply_immediately(apply_immediately(c))
                .set_db_instance_class(
                    when("instance_class").and(text(c, "instance_class").map(String::from)),
                )
                .set_publicly_accessible(
                    when("publicly_accessible").map(|_| flag(c, "publicly_accessible", false)),
                )
                .set_promotion_tier(
                    when("promotion_tier")
                        .map(|_| number(c, "promotion_tier").unwrap_or(DEFAULT_TIER as i32)),
                )
                .send()
                .await
                .map_err(|e| rds_error("ModifyDBInstance", e, &[]))?;
            wait_instance(
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
        // The cluster keeps the data; an instance of it has no snapshot of its own.
        let out = aws
            .rds
            .delete_db_instance()
            .db_instance_identifier(&req.id)
            .skip_final_snapshot(true)
            .send()
            .await;
        if let Err(e) = out {
            let e = rds_error("DeleteDBInstance", e, &[]);
            return if e.kind == ErrorKind::NotFound {
                Ok(())
            } else {
                Err(e)
            };
        }
        wait_instance(
            aws,
            &req.id,
            Until::Gone,
            "delete",
            req.timeout.unwrap_or(DELETE_LIMIT),
        )
        .await
    }
}
