//! `aws_flow_log`: IP traffic logs of a VPC, a subnet or a network interface, delivered to
//! CloudWatch Logs or S3. AWS cannot change a flow log, so everything but tags forces a new one.
//! Refresh is one DescribeFlowLogs per chunk of ids. Import id: `fl-…`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    FlowLog as AwsFlowLog, FlowLogsResourceType, LogDestinationType, ResourceType, TrafficType,
};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, id_schema, number, tags_schema, tags_value, text};
use crate::config::Clients;
use crate::ec2::{self, batched, tag_pairs, tag_spec};
use crate::errors::{classify, invalid, sdk_error};
use crate::paginate::all_pages;

pub struct FlowLog;

const TYPE: &str = "aws_flow_log";

/// The attributes naming what is logged, with the resource type AWS calls it.
const SOURCES: [(&str, FlowLogsResourceType); 3] = [
    ("vpc_id", FlowLogsResourceType::Vpc),
    ("subnet_id", FlowLogsResourceType::Subnet),
    ("eni_id", FlowLogsResourceType::NetworkInterface),
];

#[async_trait]
impl Resource for FlowLog {
    fn schema(&self) -> Schema {
        let mut schema =
            Schema::resource(PROVIDER, TYPE).describe("A flow log of a VPC, subnet or interface");
        for (name, _) in SOURCES {
            schema = schema.attr(
                AttrSchema::optional(name, AttrType::String)
                    .force_new()
                    .describe("What to log: exactly one of vpc_id, subnet_id, eni_id"),
            );
        }
        schema
            .attr(
                AttrSchema::optional("traffic_type", AttrType::String)
                    .force_new()
                    .describe("ALL, ACCEPT or REJECT"),
            )
            .attr(
                AttrSchema::optional("log_destination_type", AttrType::String)
                    .default("cloud-watch-logs")
                    .force_new()
                    .describe("cloud-watch-logs, s3 or kinesis-data-firehose"),
            )
            .attr(
                AttrSchema::optional_computed("log_destination", AttrType::String)
                    .force_new()
                    .describe("The ARN of the log group, bucket (arn:aws:s3:::name) or stream"),
            )
            .attr(
                AttrSchema::optional("iam_role_arn", AttrType::String)
                    .force_new()
                    .describe("The role that may publish to CloudWatch Logs"),
            )
            .attr(
                AttrSchema::optional("max_aggregation_interval", AttrType::Number)
                    .default(600.0)
                    .force_new()
                    .describe("Seconds per record: 60 or 600"),
            )
            .attr(AttrSchema::optional_computed("log_format", AttrType::String).force_new())
            .attr(tags_schema())
            .attr(id_schema())
            .typical_create_secs(2.0)
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let logs = batched(
            items,
            "flow-log-id",
            |f| async move { describe(aws, f).await },
            |l| l.flow_log_id(),
            |l| l.tags(),
        )
        .await?;
        let mut found = BTreeMap::new();
        for (address, l) in logs {
            let Some(id) = l.flow_log_id() else { continue };
            let resource = l.resource_id().unwrap_or_default();
            let source = match resource.split('-').next() {
                Some("vpc") => "vpc_id",
                Some("subnet") => "subnet_id",
                _ => "eni_id",
            };
            let mut attributes = Attrs::new()
                .set("id", id)
                .opt("vpc_id", None::<&str>)
                .opt("subnet_id", None::<&str>)
                .opt("eni_id", None::<&str>)
                .set(source, resource)
                .opt("traffic_type", l.traffic_type().map(|t| t.as_str()))
                .set(
                    "log_destination_type",
                    l.log_destination_type()
                        .map_or("cloud-watch-logs", |t| t.as_str()),
                )
                .opt("log_destination", l.log_destination())
                .opt("iam_role_arn", l.deliver_logs_permission_arn())
                .set(
                    "max_aggregation_interval",
                    f64::from(l.max_aggregation_interval().unwrap_or(600)),
                )
                .opt("log_format", l.log_format())
                .set("tags", tags_value(tag_pairs(l.tags())));
            if l.log_destination().is_none() {
                // Flow logs made with a log group name report the group, not its ARN.
                attributes = attributes.opt("log_destination", l.log_group_name());
            }
            found.insert(
                address,
                ReadResult {
                    id: id.to_string(),
                    attributes: attributes.build(),
                },
            );
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let sources: Vec<(&str, &FlowLogsResourceType)> = SOURCES
            .iter()
            .filter_map(|(name, kind)| Some((text(c, name)?, kind)))
            .collect();
        let [(resource, kind)] = sources[..] else {
            return Err(invalid(
                TYPE,
                "set exactly one of `vpc_id`, `subnet_id`, `eni_id`",
            ));
        };
        let destination_type = text(c, "log_destination_type").unwrap_or("cloud-watch-logs");
        let out = aws
            .ec2
            .create_flow_logs()
            .resource_type(kind.clone())
            .resource_ids(resource)
            .set_traffic_type(text(c, "traffic_type").map(TrafficType::from))
            .log_destination_type(LogDestinationType::from(destination_type))
            .set_log_destination(text(c, "log_destination").map(str::to_string))
            .set_deliver_logs_permission_arn(text(c, "iam_role_arn").map(str::to_string))
            .max_aggregation_interval(number(c, "max_aggregation_interval").unwrap_or(600))
            .set_log_format(text(c, "log_format").map(str::to_string))
            .client_token(&req.token)
            .tag_specifications(tag_spec(ResourceType::VpcFlowLog, c, &req.address))
            .send()
            .await
            .map_err(|e| sdk_error("CreateFlowLogs", e))?;
        // CreateFlowLogs answers 200 and lists per-resource failures.
        if let Some(failure) = out.unsuccessful().first() {
            let error = failure.error();
            let code = error.and_then(|e| e.code()).unwrap_or("Unknown");
            let message = error.and_then(|e| e.message()).unwrap_or("no message");
            return Err(ProviderError::new(
                classify(code, code.parse().ok()),
                format!("CreateFlowLogs: {code}: {message}"),
            ));
        }
        out.flow_log_ids()
            .first()
            .cloned()
            .ok_or_else(|| ProviderError::new(ErrorKind::Other, "CreateFlowLogs returned no id"))
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        ec2::sync_tags(&aws.ec2, &req.id, &req.prior, &req.config).await
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let out = aws
            .ec2
            .delete_flow_logs()
            .flow_log_ids(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteFlowLogs", e));
        let out = match out {
            Ok(out) => out,
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if let Some(failure) = out.unsuccessful().first() {
            let error = failure.error();
            let code = error.and_then(|e| e.code()).unwrap_or("Unknown");
            let message = error.and_then(|e| e.message()).unwrap_or("no message");
            let kind = classify(code, None);
            if kind != ErrorKind::NotFound {
                return Err(ProviderError::new(
                    kind,
                    format!("DeleteFlowLogs: {code}: {message}"),
                ));
            }
        }
        Ok(())
    }
}

async fn describe(
    aws: &Clients,
    f: aws_sdk_ec2::types::Filter,
) -> Result<Vec<AwsFlowLog>, ProviderError> {
    all_pages(|token| {
        let f = f.clone();
        async move {
            let out = aws
                .ec2
                .describe_flow_logs()
                .filter(f)
                .max_results(1000)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeFlowLogs", e))?;
            Ok((out.flow_logs.unwrap_or_default(), out.next_token))
        }
    })
    .await
}
