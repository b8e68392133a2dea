//! What the RDS types share: RDS's error codes mapped to the engine's kinds, the batched
//! DescribeDBInstances / DescribeDBClusters reads (filtered by id, 100 values per call), tags by
//! ARN (AddTagsToResource / RemoveTagsFromResource), the waiters on an instance's or cluster's
//! status, and the `apply_immediately` flag that decides whether a modification waits for the
//! maintenance window.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_rds::types::{DbCluster, DbInstance, Filter, Tag};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use cairn_provider::provider::{ErrorKind, ProviderError};
use cairn_provider::value::Value;

use crate::attrs::{flag, tags_value};
use crate::config::Clients;
use crate::errors::sdk_error;
use crate::paginate::all_pages;
use crate::tagging::{tag_changes, with_owner};
use crate::wait::{Check, Wait};

/// RDS accepts at most 100 values per filter.
const CHUNK: usize = 100;

/// Terraform's default timeouts for instances and clusters.
pub const CREATE_LIMIT: Duration = Duration::from_secs(40 * 60);
pub const UPDATE_LIMIT: Duration = Duration::from_secs(80 * 60);
pub const DELETE_LIMIT: Duration = Duration::from_secs(60 * 60);

/// The typed error of a failed RDS call. RDS names its codes `DBInstanceNotFound`,
/// `DBSubnetGroupNotFoundFault`, `InvalidDBInstanceState`, ..., which the generic mapping would
/// call invalid; `secrets` are replaced in the message (an echoed request must not leak them).
pub fn rds_error<E>(
    operation: &str,
    err: SdkError<E, HttpResponse>,
    secrets: &[&str],
) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = err.code().unwrap_or_default().to_string();
    let mut e = sdk_error(operation, err);
    if code.contains("NotFound") {
        e.kind = ErrorKind::NotFound;
    } else if code.starts_with("Invalid") && code.contains("State") {
        e.kind = ErrorKind::Conflict;
    }
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        e.message = e.message.replace(secret, "(sensitive value)");
    }
    e
}

pub fn filter(name: &str, values: &[String]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.to_vec()))
        .build()
}

/// Whether the spec asks for modifications now rather than in the maintenance window.
pub fn apply_immediately(config: &Value) -> bool {
    flag(config, "apply_immediately", false)
}

/// The tags a create sets, the ownership tag included.
pub fn create_tags(config: &Value, address: &str) -> Vec<Tag> {
    with_owner(config, address)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The `tags` attribute of a tag list, without the ownership tag.
pub fn tags_of(tags: &[Tag]) -> Value {
    tags_value(
        tags.iter()
            .filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))),
    )
}

/// The tags of one RDS resource by ARN, for the types whose Describe does not list them.
pub async fn list_tags(aws: &Clients, arn: &str) -> Result<Vec<Tag>, ProviderError> {
    let out = aws
        .rds
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(|e| rds_error("ListTagsForResource", e, &[]))?;
    Ok(out.tag_list.unwrap_or_default())
}

/// Brings the tags of the resource `arn` from `prior` to `config`, never touching the ownership
/// tag.
pub async fn sync_tags(
    aws: &Clients,
    arn: &str,
    prior: &Value,
    config: &Value,
) -> Result<(), ProviderError> {
    let edits = tag_changes(prior, config);
    if !edits.removed.is_empty() {
        aws.rds
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(edits.removed))
            .send()
            .await
            .map_err(|e| rds_error("RemoveTagsFromResource", e, &[]))?;
    }
    if !edits.set.is_empty() {
        let tags = edits
            .set
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        aws.rds
            .add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| rds_error("AddTagsToResource", e, &[]))?;
    }
    Ok(())
}

/// The instances among `ids` that exist, by identifier: one DescribeDBInstances per 100 ids and
/// page. A filter, not `DBInstanceIdentifier`, so a deleted one is left out instead of failing
/// the call.
pub async fn describe_instances(
    aws: &Clients,
    ids: &[String],
) -> Result<BTreeMap<String, DbInstance>, ProviderError> {
    let mut found = BTreeMap::new();
    for chunk in ids.chunks(CHUNK) {
        let f = filter("db-instance-id", chunk);
        let page = all_pages(|marker| {
            let f = f.clone();
            async move {
                let out = aws
                    .rds
                    .describe_db_instances()
                    .filters(f)
                    .set_marker(marker)
                    .send()
                    .await
                    .map_err(|e| rds_error("DescribeDBInstances", e, &[]))?;
                Ok((out.db_instances.unwrap_or_default(), out.marker))
            }
        })
        .await?;
        for db in page {
            if let Some(id) = db.db_instance_identifier() {
                found.insert(id.to_string(), db);
            }
        }
    }
    Ok(found)
}

/// [`describe_instances`] for clusters.
pub async fn describe_clusters(
    aws: &Clients,
    ids: &[String],
) -> Result<BTreeMap<String, DbCluster>, ProviderError> {
    let mut found = BTreeMap::new();
    for chunk in ids.chunks(CHUNK) {
        let f = filter("db-cluster-id", chunk);
        let page = all_pages(|marker| {
            let f = f.clone();
            async move {
                let out = aws
                    .rds
                    .describe_db_clusters()
                    .filters(f)
                    .set_marker(marker)
                    .send()
                    .await
                    .map_err(|e| rds_error("DescribeDBClusters", e, &[]))?;
                Ok((out.db_clusters.unwrap_or_default(), out.marker))
            }
        })
        .await?;
        for cluster in page {
            if let Some(id) = cluster.db_cluster_identifier() {
                found.insert(id.to_string(), cluster);
            }
        }
    }
    Ok(found)
}

/// What a waiter waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Until {
    Available,
    /// Available with no modification pending: after a modify with `ApplyImmediately`, AWS
    /// may still say `available` for a moment before it starts, while the change already shows
    /// as pending.
    Applied,
    Gone,
}

impl Until {
    fn status(self) -> &'static str {
        match self {
            Until::Available | Until::Applied => "available",
            Until::Gone => "deleted",
        }
    }
}

/// Whether a modification the adapter makes is still pending on an instance.
fn instance_pending(db: &DbInstance) -> bool {
    db.pending_modified_values().is_some_and(|p| {
        p.db_instance_class().is_some()
            || p.allocated_storage().is_some()
            || p.master_user_password().is_some()
            || p.port().is_some()
            || p.backup_retention_period().is_some()
            || p.multi_az().is_some()
            || p.engine_version().is_some()
            || p.iops().is_some()
            || p.storage_throughput().is_some()
            || p.storage_type().is_some()
    })
}

/// [`instance_pending`] for a cluster.
fn cluster_pending(cluster: &DbCluster) -> bool {
    cluster.pending_modified_values().is_some_and(|p| {
        p.engine_version().is_some()
            || p.master_user_password().is_some()
            || p.backup_retention_period().is_some()
    })
}

/// States an instance or cluster never leaves by itself: waiting for `available` is pointless.
const STUCK: [&str; 6] = [
    "failed",
    "incompatible-parameters",
    "incompatible-restore",
    "incompatible-network",
    "storage-full",
    "inaccessible-encryption-credentials",
];

/// One look at `status` (`None`: not listed) with `pending` modifications.
fn check(
    status: Option<&str>,
    pending: bool,
    until: Until,
    what: &str,
) -> Result<Check<()>, ProviderError> {
    match (status, until) {
        (None, Until::Gone) => Ok(Check::Done(())),
        (Some("available"), Until::Available) => Ok(Check::Done(())),
        (Some("available"), Until::Applied) if !pending => Ok(Check::Done(())),
        (Some("available"), Until::Applied) => Ok(Check::Waiting(
            "available, with the modification still pending".to_string(),
        )),
        (Some(s), Until::Available | Until::Applied) if STUCK.contains(&s) => {
            Err(ProviderError::new(
                ErrorKind::Other,
                format!("{what} is {s}; it will not become available without a change"),
            ))
        }
        (status, _) => Ok(Check::Waiting(status.unwrap_or("not listed").to_string())),
    }
}

/// Waits until the DB instance `id` is available (after a create or modify) or gone (after a
/// delete). `operation` names the `timeouts:` key; `limit` is the spec's override or the default.
pub async fn wait_instance(
    aws: &Clients,
    id: &str,
    until: Until,
    operation: &str,
    limit: Duration,
) -> Result<(), ProviderError> {
    let what = format!("DB instance {id}");
    Wait {
        what: &what,
        until: until.status(),
        operation,
        limit,
    }
    .run(|| async {
        let found = describe_instances(aws, &[id.to_string()]).await?;
        let db = found.get(id);
        let status = db.and_then(|db| db.db_instance_status());
        check(status, db.is_some_and(instance_pending), until, &what)
    })
    .await
}

/// [`wait_instance`] for a cluster.
pub async fn wait_cluster(
    aws: &Clients,
    id: &str,
    until: Until,
    operation: &str,
    limit: Duration,
) -> Result<(), ProviderError> {
    let what = format!("DB cluster {id}");
    Wait {
        what: &what,
        until: until.status(),
        operation,
        limit,
    }
    .run(|| async {
        let found = describe_clusters(aws, &[id.to_string()]).await?;
        let cluster = found.get(id);
        let status = cluster.and_then(|c| c.status());
        check(status, cluster.is_some_and(cluster_pending), until, &what)
    })
    .await
}

/// The security group ids of a VPC membership list, in the prior's order.
pub fn security_group_ids(
    prior: &Value,
    groups: &[aws_sdk_rds::types::VpcSecurityGroupMembership],
) -> Value {
    let ids = groups
        .iter()
        .filter_map(|g| g.vpc_security_group_id().map(String::from))
        .collect();
    in_prior_order(prior, "vpc_security_group_ids", ids)
}

/// A configured list of strings (`subnet_ids`, `vpc_security_group_ids`).
pub fn strings(config: &Value, name: &str) -> Option<Vec<String>> {
    config
        .get(name)
        .map(Value::expose)
        .and_then(Value::as_list)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.expose().as_str().map(String::from))
                .collect()
        })
}

/// The engine version as the spec wrote it when AWS reports a more precise one (`14` for
/// `14.10`), as Terraform does: the spec pinned the major version only.
pub fn engine_version(configured: Option<&str>, actual: Option<&str>) -> Option<String> {
    match (configured, actual) {
        (Some(want), Some(have)) if have.starts_with(&format!("{want}.")) => Some(want.to_string()),
        (_, have) => have.map(String::from),
    }
}

/// Whether a delete skips the final snapshot, and the snapshot's name when it does not; an
/// error when neither is set, before anything is deleted. A replica takes no snapshot.
pub fn final_snapshot<'a>(
    resource_type: &str,
    address: &str,
    prior: &'a Value,
    replica: bool,
) -> Result<(bool, Option<&'a str>), ProviderError> {
    let skip = replica || crate::attrs::flag(prior, "skip_final_snapshot", false);
    let snapshot = crate::attrs::text(prior, "final_snapshot_identifier");
    if !skip && snapshot.is_none() {
        return Err(crate::errors::invalid(
            resource_type,
            format!(
                "{address} needs `final_snapshot_identifier` to be deleted, or `skip_final_snapshot: true`"
            ),
        ));
    }
    Ok((skip, snapshot))
}

/// The cairn-only settings of a type (never sent to or read from AWS), carried from the prior so
/// that a read does not show them as drift.
pub fn carry(prior: &Value, names: &[&str]) -> Vec<(String, Value)> {
    names
        .iter()
        .filter_map(|n| Some((n.to_string(), prior.get(n)?.clone())))
        .collect()
}

/// `actual` in the order the prior lists them when both hold the same items: AWS returns sets
/// in its own order, and a reordering is no change.
pub fn in_prior_order(prior: &Value, name: &str, actual: Vec<String>) -> Value {
    let before = strings(prior, name).unwrap_or_default();
    crate::attrs::string_list(crate::attrs::in_prior_order(
        actual,
        &before,
        crate::attrs::Unmatched::Sorted,
    ))
}

/// The name a read looks for: the id, or for a create that may have happened unrecorded, the
/// configured name (RDS names are unique per account and region).
pub fn wanted(item: &cairn_provider::provider::ReadItem, name_attr: &str) -> Option<String> {
    match (&item.id, &item.token) {
        (Some(id), _) => Some(id.clone()),
        (None, Some(_)) => crate::attrs::text(&item.prior, name_attr).map(String::from),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_major_version_in_the_spec_matches_the_minor_aws_runs() {
        assert_eq!(
            engine_version(Some("14"), Some("14.10")).as_deref(),
            Some("14")
        );
        assert_eq!(
            engine_version(Some("14.9"), Some("14.10")).as_deref(),
            Some("14.10")
        );
        assert_eq!(
            engine_version(None, Some("14.10")).as_deref(),
            Some("14.10")
        );
    }

    #[test]
    fn a_waiter_sees_the_end_a_stuck_state_and_a_state_in_between() {
        assert!(matches!(
            check(Some("available"), false, Until::Available, "x"),
            Ok(Check::Done(()))
        ));
        assert!(matches!(
            check(None, false, Until::Gone, "x"),
            Ok(Check::Done(()))
        ));
        assert!(matches!(
            check(Some("modifying"), false, Until::Available, "x"),
            Ok(Check::Waiting(s)) if s == "modifying"
        ));
        assert!(matches!(
            check(Some("deleting"), false, Until::Gone, "x"),
            Ok(Check::Waiting(s)) if s == "deleting"
        ));
        assert!(
            check(
                Some("incompatible-parameters"),
                false,
                Until::Available,
                "x"
            )
            .is_err()
        );
    }

    #[test]
    fn a_change_applied_immediately_is_waited_for_until_nothing_is_pending() {
        assert!(matches!(
            check(Some("available"), true, Until::Applied, "x"),
            Ok(Check::Waiting(_))
        ));
        assert!(matches!(
            check(Some("available"), false, Until::Applied, "x"),
            Ok(Check::Done(()))
        ));
        // Deferred to the maintenance window: pending is the expected end state.
        assert!(matches!(
            check(Some("available"), true, Until::Available, "x"),
            Ok(Check::Done(()))
        ));
    }
}
