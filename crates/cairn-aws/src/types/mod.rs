//! The AWS resource types and data sources, one module each, behind two small traits the
//! provider dispatches on. Adding a type is one module and one line in [`resources`] or
//! [`data_sources`].

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use cairn_provider::provider::{
    CreateRequest, DataRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult,
    UpdateRequest,
};
use cairn_provider::schema::Schema;
use cairn_provider::value::Value;

use crate::config::Clients;

pub mod acm_certificate;
pub mod acm_certificate_validation;
pub mod appautoscaling_policy;
pub mod appautoscaling_scheduled_action;
pub mod appautoscaling_target;
pub mod availability_zones;
pub mod caller_identity;
pub mod cloudfront_distribution;
pub mod cloudwatch_log_group;
pub mod cloudwatch_metric_alarm;
pub mod db_instance;
pub mod db_parameter_group;
pub mod db_subnet_group;
pub mod ecs_cluster;
pub mod ecs_service;
pub mod ecs_task_definition;
pub mod eip;
pub mod elasticache_replication_group;
pub mod elasticache_subnet_group;
pub mod flow_log;
pub mod iam_policy;
pub mod iam_role;
pub mod iam_role_policy_attachment;
pub mod internet_gateway;
pub mod kms_alias;
pub mod kms_key;
pub mod lb;
pub mod lb_listener;
pub mod lb_listener_rule;
pub mod lb_target_group;
pub mod nat_gateway;
pub mod network_acl;
pub mod network_acl_rule;
pub mod rds_cluster;
pub mod rds_cluster_instance;
pub mod region;
pub mod route;
pub mod route53_record;
pub mod route53_zone;
pub mod route_table;
pub mod route_table_association;
pub mod s3_bucket;
pub mod s3_bucket_lifecycle_configuration;
pub mod s3_bucket_public_access_block;
pub mod s3_bucket_server_side_encryption_configuration;
pub mod s3_bucket_versioning;
pub mod secretsmanager_secret;
pub mod secretsmanager_secret_version;
pub mod security_group;
pub mod security_group_rule;
pub mod sns_topic;
pub mod subnet;
pub mod vpc;
pub mod vpc_endpoint;
pub mod wafv2_web_acl;
pub mod wafv2_web_acl_association;

pub const PROVIDER: &str = "aws";

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync {
    fn schema(&self) -> Schema;
    /// The instances of `items` that exist, by address, each in one batch where the API allows.
    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError>;
    /// The ids of objects that interrupted creates made for `pending` items (no id in state,
    /// an intent recorded), by address: found by their ownership tag so that `read` adopts
    /// them. Types whose `read` finds pending items itself (EC2's tag filter) find none here.
    async fn find_pending(
        &self,
        _aws: &Clients,
        _pending: &[&ReadItem],
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        Ok(BTreeMap::new())
    }
    /// Creates the resource and returns its id.
    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError>;
    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError>;
    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError>;
}

/// A data source.
#[async_trait]
pub trait Data: Send + Sync {
    fn schema(&self) -> Schema;
    async fn read(&self, aws: &Clients, req: &DataRequest) -> Result<Value, ProviderError>;
}

pub fn resources() -> Vec<Box<dyn Resource>> {
    vec![
        Box::new(vpc::Vpc),
        Box::new(subnet::Subnet),
        Box::new(internet_gateway::InternetGateway),
        Box::new(eip::Eip),
        Box::new(nat_gateway::NatGatewayType),
        Box::new(network_acl::NetworkAclType),
        Box::new(network_acl_rule::NetworkAclRule),
        Box::new(security_group::SecurityGroup),
        Box::new(security_group_rule::Rule::INGRESS),
        Box::new(security_group_rule::Rule::EGRESS),
        Box::new(route_table::RouteTableType),
        Box::new(route::Route),
        Box::new(route_table_association::Association),
        Box::new(s3_bucket::Bucket),
        Box::new(s3_bucket_versioning::Versioning),
        Box::new(s3_bucket_public_access_block::PublicAccessBlock),
        Box::new(kms_key::KmsKey),
        Box::new(kms_alias::KmsAlias),
        Box::new(cloudwatch_log_group::LogGroup),
        Box::new(iam_role::IamRole),
        Box::new(iam_policy::IamPolicy),
        Box::new(iam_role_policy_attachment::RolePolicyAttachment),
        Box::new(vpc_endpoint::Endpoint),
        Box::new(flow_log::FlowLog),
        Box::new(s3_bucket_server_side_encryption_configuration::Encryption),
        Box::new(s3_bucket_lifecycle_configuration::Lifecycle),
        Box::new(secretsmanager_secret::Secret),
        Box::new(secretsmanager_secret_version::SecretVersion),
        Box::new(sns_topic::Topic),
        Box::new(cloudwatch_metric_alarm::MetricAlarm),
        Box::new(elasticache_subnet_group::SubnetGroup),
        Box::new(elasticache_replication_group::ReplicationGroupType),
        Box::new(wafv2_web_acl::WebAclType),
        Box::new(wafv2_web_acl_association::WebAclAssociation),
        Box::new(cloudfront_distribution::Distribution),
        Box::new(db_subnet_group::SubnetGroup),
        Box::new(db_parameter_group::ParameterGroup),
        Box::new(db_instance::DbInstanceType),
        Box::new(rds_cluster::Cluster),
        Box::new(rds_cluster_instance::ClusterInstance),
        Box::new(ecs_cluster::Cluster),
        Box::new(ecs_task_definition::TaskDefinition),
        Box::new(ecs_service::Service),
        Box::new(appautoscaling_target::Target),
        Box::new(appautoscaling_policy::Policy),
        Box::new(appautoscaling_scheduled_action::ScheduledAction),
        Box::new(lb::Lb),
        Box::new(lb_target_group::TargetGroupType),
        Box::new(lb_listener::ListenerType),
        Box::new(lb_listener_rule::ListenerRule),
        Box::new(acm_certificate::Certificate),
        Box::new(acm_certificate_validation::CertificateValidation),
        Box::new(route53_zone::Zone),
        Box::new(route53_record::Record),
    ]
}

pub fn data_sources() -> Vec<Box<dyn Data>> {
    vec![
        Box::new(availability_zones::AvailabilityZones),
        Box::new(caller_identity::CallerIdentity),
        Box::new(region::RegionData),
    ]
}

/// Reads one resource until it shows up: right after a create or update AWS's reads may lag its
/// writes. Polls at once, then backs off; gives up with a Timeout after `limit`.
pub async fn read_back(
    resource: &dyn Resource,
    aws: &Clients,
    address: &str,
    id: &str,
    config: &Value,
    limit: Duration,
) -> Result<ReadResult, ProviderError> {
    // The configuration stands in for the prior: attributes only cairn keeps (force_destroy)
    // come from it.
    let item = ReadItem {
        address: address.to_string(),
        id: Some(id.to_string()),
        token: None,
        since: None,
        prior: config.clone(),
    };
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        if let Some(found) = resource
            .read(aws, std::slice::from_ref(&item))
            .await?
            .remove(address)
        {
            return Ok(found);
        }
        if started.elapsed() + delay > limit {
            return Err(ProviderError::new(
                ErrorKind::Timeout,
                format!(
                    "{} {id} was not readable {}s after it was written",
                    resource.schema().type_name,
                    limit.as_secs()
                ),
            ));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}
