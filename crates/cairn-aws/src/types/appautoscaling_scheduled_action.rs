//! `aws_appautoscaling_scheduled_action`: new bounds for a scalable target on a schedule
//! (`cron(0 20 * * ? *)`: scale the service down every evening). Its id, also the import id,
//! is `SERVICE_NAMESPACE/RESOURCE_ID/SCALABLE_DIMENSION/NAME`, like the scaling policy's.
//!
//! Refresh is one DescribeScheduledActions per namespace and page, filtered by the action names
//! in state. PutScheduledAction creates or overwrites, which is also the in-place update.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::types::{ScalableTargetAction, ServiceNamespace};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::appautoscaling_target::{TargetKey, keyed, target_attrs};
use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, id_schema, number, required, text};
use crate::config::Clients;
use crate::errors::{invalid, sdk_error};
use crate::paginate::all_pages;

pub struct ScheduledAction;

const TYPE: &str = "aws_appautoscaling_scheduled_action";
/// Action names per DescribeScheduledActions call.
const CHUNK: usize = 50;

#[async_trait]
impl Resource for ScheduledAction {
    fn schema(&self) -> Schema {
        let action = AttrType::Object(BTreeMap::from([
            ("min_capacity".to_string(), AttrType::Number),
            ("max_capacity".to_string(), AttrType::Number),
        ]));
        target_attrs(
            Schema::resource(PROVIDER, TYPE)
                .import_id("SERVICE_NAMESPACE/RESOURCE_ID/SCALABLE_DIMENSION/NAME")
                .describe("An Application Auto Scaling scheduled action"),
        )
        .attr(AttrSchema::required("name", AttrType::String).force_new())
        .attr(
            AttrSchema::required("schedule", AttrType::String)
                .describe("`at(...)`, `rate(...)` or `cron(...)`"),
        )
        .attr(
            AttrSchema::optional("timezone", AttrType::String)
                .default("UTC")
                .describe("The time zone of the schedule (IANA name)"),
        )
        .attr(
            AttrSchema::required("scalable_target_action", action)
                .describe("`{ min_capacity, max_capacity }` to set when the schedule fires"),
        )
        .attr(id_schema())
        .attr(arn_schema())
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let wanted = keyed(items, TYPE, true);
        let mut namespaces: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (key, name) in wanted.keys() {
            namespaces
                .entry(key.namespace.as_str())
                .or_default()
                .push(name.clone());
        }
        let mut found = BTreeMap::new();
        for (namespace, mut names) in namespaces {
            names.sort();
            names.dedup();
            for chunk in names.chunks(CHUNK) {
                let actions = all_pages(|token| async move {
                    let out = aws
                        .autoscaling
                        .describe_scheduled_actions()
                        .service_namespace(ServiceNamespace::from(namespace))
                        .set_scheduled_action_names(Some(chunk.to_vec()))
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(|e| sdk_error("DescribeScheduledActions", e))?;
                    Ok((out.scheduled_actions.unwrap_or_default(), out.next_token))
                })
                .await?;
                for a in actions {
                    let Some(dimension) = a.scalable_dimension() else {
                        continue;
                    };
                    let key = TargetKey {
                        namespace: a.service_namespace().as_str().to_string(),
                        resource_id: a.resource_id().to_string(),
                        dimension: dimension.as_str().to_string(),
                    };
                    let name = a.scheduled_action_name();
                    let Some(item) = wanted.get(&(key.clone(), name.to_string())) else {
                        continue;
                    };
                    let id = format!("{}/{name}", key.id());
                    let bounds = a.scalable_target_action().map(|t| {
                        Attrs::new()
                            .opt("min_capacity", t.min_capacity().map(f64::from))
                            .opt("max_capacity", t.max_capacity().map(f64::from))
                            .build()
                    });
                    found.insert(
                        item.address.clone(),
                        ReadResult {
                            id: id.clone(),
                            attributes: key
                                .attrs(Attrs::new())
                                .set("id", id)
                                .set("name", name)
                                .set("arn", a.scheduled_action_arn())
                                .set("schedule", a.schedule())
                                // AWS reports UTC for an action created without a time zone.
                                .set("timezone", a.timezone().unwrap_or("UTC"))
                                .opt("scalable_target_action", bounds)
                                .build(),
                        },
                    );
                }
            }
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        put(aws, &req.config).await
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        put(aws, &req.config).await.map(|_| ())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let (target, name) = req
            .id
            .rsplit_once('/')
            .and_then(|(t, n)| Some((TargetKey::parse(t)?, n)))
            .ok_or_else(|| {
                invalid(
                    TYPE,
                    format!("id {:?} is not a scheduled action id", req.id),
                )
            })?;
        aws.autoscaling
            .delete_scheduled_action()
            .scheduled_action_name(name)
            .service_namespace(target.ns())
            .resource_id(&target.resource_id)
            .scalable_dimension(target.dim())
            .send()
            .await
            .map_err(|e| sdk_error("DeleteScheduledAction", e))?;
        Ok(())
    }
}

/// PutScheduledAction: creates the action or replaces it. Returns the id.
async fn put(aws: &Clients, c: &Value) -> Result<String, ProviderError> {
    let key = TargetKey::of(TYPE, c)?;
    let name = required(TYPE, c, "name")?;
    let bounds = c
        .get("scalable_target_action")
        .ok_or_else(|| invalid(TYPE, "`scalable_target_action` is required"))?;
    aws.autoscaling
        .put_scheduled_action()
        .scheduled_action_name(name)
        .service_namespace(key.ns())
        .resource_id(&key.resource_id)
        .scalable_dimension(key.dim())
        .schedule(required(TYPE, c, "schedule")?)
        .set_timezone(text(c, "timezone").map(String::from))
        .scalable_target_action(
            ScalableTargetAction::builder()
                .set_min_capacity(number(bounds, "min_capacity"))
                .set_max_capacity(number(bounds, "max_capacity"))
                .build(),
        )
        .send()
        .await
        .map_err(|e| sdk_error("PutScheduledAction", e))?;
    Ok(format!("{}/{name}", key.id()))
}
