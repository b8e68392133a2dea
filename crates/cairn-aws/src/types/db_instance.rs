//! `aws_db_instance`: an RDS database instance (PostgreSQL), or a read replica of one with
//! `replicate_source_db`. Its id is its identifier, which is also how it is imported.
//!
//! The password is write-only: AWS never returns it, state keeps only its digest, and it is
//! sent only when it changed. Modifications AWS applies in the maintenance window (instance
//! class, engine version, storage, multi-AZ) are requested with `ApplyImmediately` only when the
//! spec's `apply_immediately` is true; until then they show as pending in DescribeDBInstances,
//! and a read reports the pending value, as the change is requested already.
//!
//! Refresh is one DescribeDBInstances per 100 identifiers (a `db-instance-id` filter); create,
//! modify and delete wait on `DBInstanceStatus` (Terraform's 40 / 80 / 60 minutes, or the
//! spec's `timeouts:`).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_rds::types::DbInstance;
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
    describe_instances, engine_version, final_snapshot, rds_error, security_group_ids, strings,
    sync_tags, tags_of, wait_instance,
};

pub struct DbInstanceType;

const TYPE: &str = "aws_db_instance";
/// Settings only cairn keeps: AWS neither takes them at create nor reports them.
const LOCAL: [&str; 3] = [
    "skip_final_snapshot",
    "final_snapshot_identifier",
    "apply_immediately",
];

fn secret(config: &Value, name: &str) -> Option<String> {
    config
        .get(name)
        .map(Value::expose)
        .and_then(Value::as_str)
        .map(String::from)
}

#[async_trait]
impl Resource for DbInstanceType {
    fn schema(&self) -> Schema {
        let string = || AttrType::String;
        let num = || AttrType::Number;
        Schema::resource(PROVIDER, TYPE)
            .import_id("IDENTIFIER")
            .apply_immediately("apply_immediately")
            .describe("An RDS DB instance, or a read replica of one")
            .attr(AttrSchema::required("identifier", string()).force_new())
            .attr(
                AttrSchema::optional_computed("engine", string())
                    .force_new()
                    .describe("postgres; a replica's comes from its source"),
            )
            .attr(AttrSchema::optional_computed("engine_version", string()).deferred())
            .attr(AttrSchema::required("instance_class", string()).deferred())
            .attr(AttrSchema::optional_computed("allocated_storage", num()).deferred())
            .attr(
                AttrSchema::optional("max_allocated_storage", num())
                    .describe("The storage autoscaling limit in GiB; unset: no autoscaling"),
            )
            .attr(AttrSchema::optional_computed("storage_type", string()).deferred())
            .attr(AttrSchema::optional_computed("iops", num()).deferred())
            .attr(AttrSchema::optional_computed("storage_throughput", num()).deferred())
            .attr(
                AttrSchema::optional("storage_encrypted", AttrType::Bool)
                    .default(false)
                    .force_new(),
            )
            .attr(AttrSchema::optional_computed("kms_key_id", string()).force_new())
            .attr(AttrSchema::optional_computed("db_name", string()).force_new())
            .attr(AttrSchema::optional_computed("username", string()).force_new())
            .attr(
                AttrSchema::optional("password", string())
                    .sensitive()
                    .describe("The master password; AWS never returns it"),
            )
            .attr(AttrSchema::optional_computed("db_subnet_group_name", string()).force_new())
            .attr(AttrSchema::optional_computed(
                "parameter_group_name",
                string(),
            ))
            .attr(AttrSchema::optional_computed(
                "vpc_security_group_ids",
                AttrType::List(Box::new(string())),
            ))
            .attr(
                AttrSchema::optional("multi_az", AttrType::Bool)
                    .default(false)
                    .deferred(),
            )
            .attr(AttrSchema::optional("publicly_accessible", AttrType::Bool).default(false))
            .attr(AttrSchema::optional_computed("port", num()))
            .attr(AttrSchema::optional_computed(
                "backup_retention_period",
                num(),
            ))
            .attr(AttrSchema::optional_computed("backup_window", string()))
            .attr(AttrSchema::optional_computed(
                "maintenance_window",
                string(),
            ))
            .attr(AttrSchema::optional("deletion_protection", AttrType::Bool).default(false))
            .attr(
                AttrSchema::optional("skip_final_snapshot", AttrType::Bool)
                    .default(false)
                    .describe("Delete without a final snapshot"),
            )
            .attr(AttrSchema::optional("final_snapshot_identifier", string()))
            .attr(
                AttrSchema::optional("apply_immediately", AttrType::Bool)
                    .default(false)
                    .describe("Apply modifications now rather than in the maintenance window"),
            )
            .attr(
                AttrSchema::optional("replicate_source_db", string())
                    .force_new()
                    .describe("The identifier (or ARN) of the instance this one replicates"),
            )
            .attr(
                AttrSchema::optional("performance_insights_enabled", AttrType::Bool).default(false),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed("address", string()))
            .attr(AttrSchema::computed("endpoint", string()))
            .attr(AttrSchema::computed("hosted_zone_id", string()))
            .attr(AttrSchema::computed("resource_id", string()))
            .attr(AttrSchema::computed("status", string()))
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
        let mut result = BTreeMap::new();
        for (item, id) in wanted {
            // AWS keeps identifiers in lower case.
            let Some(db) = found
                .get(&id)
                .or_else(|| found.get(&id.to_ascii_lowercase()))
            else {
                continue;
            };
            if db.db_instance_status() == Some("deleted") {
                continue;
            }
            result.insert(
                item.address.clone(),
                ReadResult {
                    id: db.db_instance_identifier().unwrap_or(&id).to_string(),
                    attributes: attributes(db, &item.prior),
                },
            );
        }
        Ok(result)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let id = required(TYPE, c, "identifier")?;
        let password = secret(c, "password");
        let scrub = [password.as_deref().unwrap_or_default()];
        if let Some(source) = text(c, "replicate_source_db") {
            aws.rds
                .create_db_instance_read_replica()
                .db_instance_identifier(id)
                .source_db_instance_identifier(source)
                .db_instance_class(required(TYPE, c, "instance_class")?)
                .set_storage_type(text(c, "storage_type").map(String::from))
                .set_iops(number(c, "iops"))
                .set_storage_throughput(number(c, "storage_throughput"))
                .set_max_allocated_storage(number(c, "max_allocated_storage"))
                .set_kms_key_id(text(c, "kms_key_id").map(String::from))
                .set_db_subnet_group_name(text(c, "db_subnet_group_name").map(String::from))
                .set_db_parameter_group_name(text(c, "parameter_group_name").map(String::from))
                .set_vpc_security_group_ids(strings(c, "vpc_security_group_ids"))
                .set_port(number(c, "port"))
                .multi_az(flag(c, "multi_az", false))
                .publicly_accessible(flag(c, "publicly_accessible", false))
                .deletion_protection(flag(c, "deletion_protection", false))
                .enable_performance_insights(flag(c, "performance_insights_enabled", false))
                .set_tags(Some(create_tags(c, &req.address)))
                .send()
                .await
                .map_err(|e| rds_error("CreateDBInstanceReadReplica", e, &scrub))?;
            let limit = req.timeout.unwrap_or(CREATE_LIMIT);
            wait_instance(aws, id, Until::Available, "create", limit).await?;
            // A replica takes its backup settings from its source; the spec's are set after.
            let backups = [
                "backup_retention_period",
                "backup_window",
                "maintenance_window",
            ];
            if backups
                .iter()
                .any(|a| c.get(a).is_some_and(|v| *v != Value::Null))
            {
                aws.rds
                    .modify_db_instance()
                    .db_instance_identifier(id)
                    .set_backup_retention_period(number(c, "backup_retention_period"))
                    .set_preferred_backup_window(text(c, "backup_window").map(String::from))
                    .set_preferred_maintenance_window(
                        text(c, "maintenance_window").map(String::from),
                    )
                    .apply_immediately(true)
                    .send()
                    .await
                    .map_err(|e| rds_error("ModifyDBInstance", e, &scrub))?;
                wait_instance(aws, id, Until::Applied, "create", limit).await?;
            }
            return Ok(id.to_string());
        }
        aws.rds
            .create_db_instance()
            .db_instance_identifier(id)
            .engine(required(TYPE, c, "engine")?)
            .set_engine_version(text(c, "engine_version").map(String::from))
            .db_instance_class(required(TYPE, c, "instance_class")?)
            .set_allocated_storage(number(c, "allocated_storage"))
            .set_max_allocated_storage(number(c, "max_allocated_storage"))
            .set_storage_type(text(c, "storage_type").map(String::from))
            .set_iops(number(c, "iops"))
            .set_storage_throughput(number(c, "storage_throughput"))
            .storage_encrypted(flag(c, "storage_encrypted", false))
            .set_kms_key_id(text(c, "kms_key_id").map(String::from))
            .set_db_name(text(c, "db_name").map(String::from))
            .set_master_username(text(c, "username").map(String::from))
            .set_master_user_password(password.clone())
            .set_db_subnet_group_name(text(c, "db_subnet_group_name").map(String::from))
            .set_db_parameter_group_name(text(c, "parameter_group_name").map(String::from))
            .set_vpc_security_group_ids(strings(c, "vpc_security_group_ids"))
            .multi_az(flag(c, "multi_az", false))
            .publicly_accessible(flag(c, "publicly_accessible", false))
            .set_port(number(c, "port"))
            .set_backup_retention_period(number(c, "backup_retention_period"))
            .set_preferred_backup_window(text(c, "backup_window").map(String::from))
            .set_preferred_maintenance_window(text(c, "maintenance_window").map(String::from))
            .deletion_protection(flag(c, "deletion_protection", false))
            .enable_performance_insights(flag(c, "performance_insights_enabled", false))
            .set_tags(Some(create_tags(c, &req.address)))
            .send()
            .await
            .map_err(|e| rds_error("CreateDBInstance", e, &scrub))?;
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
        // The engine leaves an unchanged password out: cairn may hold only its digest.
        let password = secret(c, "password").filter(|_| changed("password"));
        let scrub = [password.as_deref().unwrap_or_default()];
        let when = |a: &str| changed(a).then_some(());
        let modify = aws
            .rds
            .modify_db_instance()
            .db_instance_identifier(&req.id)
            .apply_immediately(apply_immediately(c))
            .set_db_instance_class(
                when("instance_class").and(text(c, "instance_class").map(String::from)),
            )
            .set_engine_version(
                when("engine_version").and(text(c, "engine_version").map(String::from)),
            )
            .set_allocated_storage(when("allocated_storage").and(number(c, "allocated_storage")))
            .set_max_allocated_storage(
                // 0 turns storage autoscaling off.
                when("max_allocated_storage")
                    .map(|_| number(c, "max_allocated_storage").unwrap_or(0)),
            )
            .set_storage_type(when("storage_type").and(text(c, "storage_type").map(String::from)))
            .set_iops(when("iops").and(number(c, "iops")))
            .set_storage_throughput(when("storage_throughput").and(number(c, "storage_throughput")))
            .set_master_user_password(password.clone())
            .set_db_parameter_group_name(
                when("parameter_group_name").and(text(c, "parameter_group_name").map(String::from)),
            )
            .set_vpc_security_group_ids(
                when("vpc_security_group_ids").and(strings(c, "vpc_security_group_ids")),
            )
            .set_multi_az(when("multi_az").map(|_| flag(c, "multi_az", false)))
            .set_publicly_accessible(
                when("publicly_accessible").map(|_| flag(c, "publicly_accessible", false)),
            )
            .set_db_port_number(when("port").and(number(c, "port")))
            .set_backup_retention_period(
                when("backup_retention_period").and(number(c, "backup_retention_period")),
            )
            .set_preferred_backup_window(
                when("backup_window").and(text(c, "backup_window").map(String::from)),
            )
            .set_preferred_maintenance_window(
                when("maintenance_window").and(text(c, "maintenance_window").map(String::from)),
            )
            .set_deletion_protection(
                when("deletion_protection").map(|_| flag(c, "deletion_protection", false)),
            )
            .set_enable_performance_insights(
                when("performance_insights_enabled")
                    .map(|_| flag(c, "performance_insights_enabled", false)),
            );
        let settings = [
            "instance_class",
            "engine_version",
            "allocated_storage",
            "max_allocated_storage",
            "storage_type",
            "iops",
            "storage_throughput",
            "password",
            "parameter_group_name",
            "vpc_security_group_ids",
            "multi_az",
            "publicly_accessible",
            "port",
            "backup_retention_period",
            "backup_window",
            "maintenance_window",
            "deletion_protection",
            "performance_insights_enabled",
        ];
        if settings.iter().any(|a| changed(a)) {
            modify
                .send()
                .await
                .map_err(|e| rds_error("ModifyDBInstance", e, &scrub))?;
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
        let p = &req.prior;
        // A replica has no snapshot of its own to take.
        let replica = text(p, "replicate_source_db").is_some();
        let (skip, snapshot) = final_snapshot(TYPE, &req.address, p, replica)?;
        let out = aws
            .rds
            .delete_db_instance()
            .db_instance_identifier(&req.id)
            .skip_final_snapshot(skip)
            .set_final_db_snapshot_identifier(snapshot.filter(|_| !skip).map(String::from))
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

/// The attributes of `db`, with the modifications pending for the maintenance window in place
/// of the current values.
fn attributes(db: &DbInstance, prior: &Value) -> Value {
    let pending = db.pending_modified_values();
    let class = pending
        .and_then(|p| p.db_instance_class())
        .or(db.db_instance_class());
    let version = pending
        .and_then(|p| p.engine_version())
        .or(db.engine_version());
    let storage = pending
        .and_then(|p| p.allocated_storage())
        .or(db.allocated_storage());
    let storage_type = pending.and_then(|p| p.storage_type()).or(db.storage_type());
    let iops = pending.and_then(|p| p.iops()).or(db.iops());
    let throughput = pending
        .and_then(|p| p.storage_throughput())
        .or(db.storage_throughput());
    let multi_az = pending
        .and_then(|p| p.multi_az())
        .or(db.multi_az())
        .unwrap_or(false);
    let retention = pending
        .and_then(|p| p.backup_retention_period())
        .or(db.backup_retention_period());
    let endpoint = db.endpoint();
    let address = endpoint.and_then(|e| e.address());
    let port = endpoint.and_then(|e| e.port()).or(db.db_instance_port());
    let mut attrs = Attrs::new()
        .opt("id", db.db_instance_identifier())
        .opt("identifier", db.db_instance_identifier())
        .opt("arn", db.db_instance_arn())
        .opt("engine", db.engine())
        .opt(
            "engine_version",
            engine_version(text(prior, "engine_version"), version),
        )
        .opt("instance_class", class)
        .opt("allocated_storage", storage.map(i64::from))
        .opt(
            "max_allocated_storage",
            db.max_allocated_storage().filter(|n| *n > 0).map(i64::from),
        )
        .opt("storage_type", storage_type)
        .opt("iops", iops.map(i64::from))
        .opt("storage_throughput", throughput.map(i64::from))
        .set("storage_encrypted", db.storage_encrypted().unwrap_or(false))
        .opt("kms_key_id", db.kms_key_id())
        .opt("db_name", db.db_name())
        .opt("username", db.master_username())
        .opt(
            "db_subnet_group_name",
            db.db_subnet_group().and_then(|g| g.db_subnet_group_name()),
        )
        .opt(
            "parameter_group_name",
            db.db_parameter_groups()
                .first()
                .and_then(|g| g.db_parameter_group_name()),
        )
        .set(
            "vpc_security_group_ids",
            security_group_ids(prior, db.vpc_security_groups()),
        )
        .set("multi_az", multi_az)
        .set(
            "publicly_accessible",
            db.publicly_accessible().unwrap_or(false),
        )
        .opt("port", port.map(i64::from))
        .opt("backup_retention_period", retention.map(i64::from))
        .opt("backup_window", db.preferred_backup_window())
        .opt("maintenance_window", db.preferred_maintenance_window())
        .set(
            "deletion_protection",
            db.deletion_protection().unwrap_or(false),
        )
        .opt(
            "replicate_source_db",
            db.read_replica_source_db_instance_identifier(),
        )
        .set(
            "performance_insights_enabled",
            db.performance_insights_enabled().unwrap_or(false),
        )
        .set("tags", tags_of(db.tag_list()))
        .opt("address", address)
        .opt(
            "endpoint",
            address.map(|a| match port {
                Some(port) => format!("{a}:{port}"),
                None => a.to_string(),
            }),
        )
        .opt("hosted_zone_id", endpoint.and_then(|e| e.hosted_zone_id()))
        .opt("resource_id", db.dbi_resource_id())
        .opt("status", db.db_instance_status());
    for (name, value) in carry(prior, &LOCAL) {
        attrs = attrs.set(&name, value);
    }
    // Write-only: the prior's (the digest state keeps, or the configuration at create and
    // import) stands.
    if let Some(password) = prior.get("password").filter(|v| **v != Value::Null) {
        attrs = attrs.set("password", password.clone());
    }
    attrs.build()
}

#[cfg(test)]
mod tests {
    use aws_sdk_rds::types::PendingModifiedValues;

    use super::*;

    #[test]
    fn a_change_pending_for_the_maintenance_window_reads_as_requested() {
        let db = DbInstance::builder()
            .db_instance_identifier("datasets-dev")
            .db_instance_class("db.t4g.micro")
            .allocated_storage(20)
            .multi_az(false)
            .engine_version("14.10")
            .pending_modified_values(
                PendingModifiedValues::builder()
                    .db_instance_class("db.t4g.small")
                    .allocated_storage(50)
                    .multi_az(true)
                    .build(),
            )
            .build();
        let prior = Attrs::new().set("engine_version", "14").build();
        let read = attributes(&db, &prior);
        assert_eq!(
            read.get("instance_class"),
            Some(&Value::string("db.t4g.small"))
        );
        assert_eq!(read.get("allocated_storage"), Some(&Value::Number(50.0)));
        assert_eq!(read.get("multi_az"), Some(&Value::Bool(true)));
        assert_eq!(read.get("engine_version"), Some(&Value::string("14")));
    }

    #[test]
    fn the_password_is_never_read_from_aws_but_kept_from_the_prior() {
        let db = DbInstance::builder().db_instance_identifier("x").build();
        let secret = Value::Sensitive(Box::new(Value::string("digest")));
        let prior = Attrs::new().set("password", secret.clone()).build();
        assert_eq!(attributes(&db, &prior).get("password"), Some(&secret));
        assert_eq!(attributes(&db, &Value::Null).get("password"), None);
    }
}
