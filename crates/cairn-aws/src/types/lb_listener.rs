//! `aws_lb_listener`: a port a load balancer listens on and what it does with requests (forward
//! to a target group, redirect, answer fixed). Its id is its ARN, which is also how it is
//! imported. Everything but the load balancer is changed in place by ModifyListener, so
//! switching the target group a listener forwards to (blue/green) is an update.
//!
//! Refresh: one DescribeListeners and one DescribeTags per 20 ARNs.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{Certificate, Listener, ProtocolEnum};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, id_schema, number, required, tags_schema, text};
use crate::config::Clients;
use crate::elbv2::{
    action_type, actions_from, actions_value, describe_chunked, elb_error, elb_tags, find_owned,
    sync_tags, tags_by_arn,
};
use crate::tagging::with_owner;

pub struct ListenerType;

const TYPE: &str = "aws_lb_listener";

fn certificates(config: &Value) -> Option<Vec<Certificate>> {
    text(config, "certificate_arn")
        .map(|arn| vec![Certificate::builder().certificate_arn(arn).build()])
}

#[async_trait]
impl Resource for ListenerType {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("LISTENER_ARN")
            .describe("A listener of a load balancer")
            .attr(AttrSchema::required("load_balancer_arn", AttrType::String).force_new())
            .attr(AttrSchema::required("port", AttrType::Number))
            .attr(
                AttrSchema::optional_computed("protocol", AttrType::String)
                    .describe("HTTP or HTTPS for an application load balancer"),
            )
            .attr(
                AttrSchema::optional_computed("ssl_policy", AttrType::String)
                    .describe("AWS's default policy for HTTPS when not set"),
            )
            .attr(
                AttrSchema::optional("certificate_arn", AttrType::String)
                    .describe("The default certificate of an HTTPS listener"),
            )
            .attr(AttrSchema::required("default_action", action_type()))
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
    }

    async fn find_pending(
        &self,
        aws: &Clients,
        pending: &[&ReadItem],
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        find_owned(aws, pending, Some("load_balancer_arn"), |parent, marker| {
            let client = aws.elbv2.clone();
            async move {
                let out = client
                    .describe_listeners()
                    .set_load_balancer_arn(parent)
                    .set_marker(marker)
                    .send()
                    .await
                    .map_err(|e| elb_error("DescribeListeners", e))?;
                let arns = out
                    .listeners()
                    .iter()
                    .filter_map(|x| x.listener_arn().map(String::from))
                    .collect();
                Ok((arns, out.next_marker))
            }
        })
        .await
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let arns: Vec<String> = items.iter().filter_map(|i| i.id.clone()).collect();
        if arns.is_empty() {
            return Ok(BTreeMap::new());
        }
        let client = aws.elbv2.clone();
        let listeners = describe_chunked(arns, move |chunk| {
            let client = client.clone();
            async move {
                let out = client
                    .describe_listeners()
                    .set_listener_arns(Some(chunk))
                    .send()
                    .await
                    .map_err(|e| elb_error("DescribeListeners", e))?;
                Ok(out.listeners.unwrap_or_default())
            }
        })
        .await?;
        let arns: Vec<String> = listeners
            .iter()
            .filter_map(|l| l.listener_arn().map(String::from))
            .collect();
        let tags = tags_by_arn(aws, &arns).await?;
        let by_arn: BTreeMap<&str, &Listener> = listeners
            .iter()
            .filter_map(|l| Some((l.listener_arn()?, l)))
            .collect();
        let mut found = BTreeMap::new();
        for item in items {
            let Some(arn) = item.id.as_deref() else {
                continue;
            };
            let Some(l) = by_arn.get(arn) else { continue };
            let certificate = l
                .certificates()
                .iter()
                .find(|c| c.is_default() != Some(false))
                .and_then(|c| c.certificate_arn());
            let https = l.protocol() == Some(&ProtocolEnum::Https);
            let attributes = Attrs::new()
                .set("id", arn)
                .set("arn", arn)
                .opt("load_balancer_arn", l.load_balancer_arn())
                .opt("port", l.port().map(f64::from))
                .opt("protocol", l.protocol().map(|p| p.as_str()))
                // moto reports its default policy on plain HTTP listeners too; AWS has none.
                .opt("ssl_policy", l.ssl_policy().filter(|_| https))
                .opt("certificate_arn", certificate)
                .set(
                    "default_action",
                    actions_value(l.default_actions(), item.prior.get("default_action")),
                )
                .set(
                    "tags",
                    tags.get(arn)
                        .cloned()
                        .unwrap_or(Value::Map(BTreeMap::new())),
                )
                .build();
            found.insert(
                item.address.clone(),
                ReadResult {
                    id: arn.to_string(),
                    attributes,
                },
            );
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let out = aws
            .elbv2
            .create_listener()
            .load_balancer_arn(required(TYPE, c, "load_balancer_arn")?)
            .set_port(number(c, "port"))
            .set_protocol(text(c, "protocol").map(ProtocolEnum::from))
            .set_ssl_policy(text(c, "ssl_policy").map(String::from))
            .set_certificates(certificates(c))
            .set_default_actions(Some(actions_from(TYPE, c, "default_action")?))
            .set_tags(Some(elb_tags(with_owner(c, &req.address))))
            .send()
            .await
            .map_err(|e| elb_error("CreateListener", e))?;
        out.listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .map(String::from)
            .ok_or_else(|| ProviderError::new(ErrorKind::Other, "CreateListener returned no ARN"))
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let c = &req.config;
        let changed = |attr: &str| req.changed.iter().any(|a| a == attr);
        if [
            "port",
            "protocol",
            "ssl_policy",
            "certificate_arn",
            "default_action",
        ]
        .iter()
        .any(|a| changed(a))
        {
            aws.elbv2
                .modify_listener()
                .listener_arn(&req.id)
                .set_port(number(c, "port"))
                .set_protocol(text(c, "protocol").map(ProtocolEnum::from))
                .set_ssl_policy(text(c, "ssl_policy").map(String::from))
                .set_certificates(certificates(c))
                .set_default_actions(Some(actions_from(TYPE, c, "default_action")?))
                .send()
                .await
                .map_err(|e| elb_error("ModifyListener", e))?;
        }
        if changed("tags") {
            sync_tags(aws, &req.id, &req.prior, c).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        match aws
            .elbv2
            .delete_listener()
            .listener_arn(&req.id)
            .send()
            .await
            .map_err(|e| elb_error("DeleteListener", e))
        {
            Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
            Ok(_) => Ok(()),
        }
    }
}
