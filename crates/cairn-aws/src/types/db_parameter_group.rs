//! `aws_db_parameter_group`: engine settings (`log_min_duration_statement`, ...) an instance
//! runs with. Its id is its name, which is also how it is imported.
//!
//! Only the parameters set by a user are read (`Source=user`): the engine's hundreds of defaults
//! are not the spec's business. Groups are read one by one (the API takes one name and no
//! usable filter), concurrently, bounded.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_rds::types::{ApplyMethod, Parameter};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, id_schema, required, tags_schema, text};
use crate::config::Clients;
use crate::each::read_each;
use crate::errors::invalid;
use crate::paginate::all_pages;
use crate::rds::{create_tags, list_tags, rds_error, sync_tags, tags_of, wanted};

pub struct ParameterGroup;

const TYPE: &str = "aws_db_parameter_group";
const DEFAULT_DESCRIPTION: &str = "Managed by cairn";
/// ModifyDBParameterGroup and ResetDBParameterGroup take at most 20 parameters per call.
const PER_CALL: usize = 20;

/// One `parameter` block: name, value and apply method (`None`: the spec left it out).
#[derive(Clone, Debug, PartialEq)]
struct Param {
    name: String,
    value: String,
    apply_method: Option<String>,
}

fn params(config: &Value) -> Vec<Param> {
    config
        .get("parameter")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| {
            let value = p.get("value").map(Value::expose)?;
            Some(Param {
                name: text(p, "name")?.to_string(),
                value: match value {
                    Value::Number(n) => cairn_provider::value::format_number(*n),
                    other => other.as_str()?.to_string(),
                },
                apply_method: text(p, "apply_method").map(String::from),
            })
        })
        .collect()
}

fn param_value(p: &Param) -> Value {
    let mut attrs = Attrs::new()
        .set("name", p.name.as_str())
        .set("value", p.value.as_str());
    if let Some(method) = &p.apply_method {
        attrs = attrs.set("apply_method", method.as_str());
    }
    attrs.build()
}

fn sdk_param(p: &Param) -> Parameter {
    Parameter::builder()
        .parameter_name(&p.name)
        .parameter_value(&p.value)
        .apply_method(ApplyMethod::from(
            p.apply_method.as_deref().unwrap_or("immediate"),
        ))
        .build()
}

#[async_trait]
impl Resource for ParameterGroup {
    fn schema(&self) -> Schema {
        let mut parameter = BTreeMap::new();
        parameter.insert("name".to_string(), AttrType::String);
        parameter.insert("value".to_string(), AttrType::String);
        parameter.insert("apply_method".to_string(), AttrType::String);
        Schema::resource(PROVIDER, TYPE)
            .import_id("NAME")
            .describe("An RDS DB parameter group")
            .attr(AttrSchema::required("name", AttrType::String).force_new())
            .attr(
                AttrSchema::required("family", AttrType::String)
                    .force_new()
                    .describe("The engine family, such as postgres14"),
            )
            .attr(
                AttrSchema::optional("description", AttrType::String)
                    .default(DEFAULT_DESCRIPTION)
                    .force_new(),
            )
            .attr(
                AttrSchema::optional(
                    "parameter",
                    AttrType::List(Box::new(AttrType::Object(parameter))),
                )
                .describe("Parameters: name, value, apply_method (immediate or pending-reboot)"),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let wanted = items
            .iter()
            .filter_map(|i| Some((i.address.clone(), (wanted(i, "name")?, i.prior.clone()))));
        let aws = aws.clone();
        read_each(wanted, move |(name, prior)| {
            let aws = aws.clone();
            async move {
                let out = aws
                    .rds
                    .describe_db_parameter_groups()
                    .db_parameter_group_name(&name)
                    .send()
                    .await
                    .map_err(|e| rds_error("DescribeDBParameterGroups", e, &[]))?;
                // moto answers an unknown name with an empty list rather than the error.
                let Some(group) = out
                    .db_parameter_groups()
                    .iter()
                    .find(|g| g.db_parameter_group_name() == Some(name.as_str()))
                else {
                    return Ok(None);
                };
                let arn = group
                    .db_parameter_group_arn()
                    .unwrap_or_default()
                    .to_string();
                let set = all_pages(|marker| {
                    let (aws, name) = (&aws, &name);
                    async move {
                        let out = aws
                            .rds
                            .describe_db_parameters()
                            .db_parameter_group_name(name)
                            .source("user")
                            .set_marker(marker)
                            .send()
                            .await
                            .map_err(|e| rds_error("DescribeDBParameters", e, &[]))?;
                        Ok((out.parameters.unwrap_or_default(), out.marker))
                    }
                })
                .await?;
                let tags = list_tags(&aws, &arn).await?;
                Ok(Some(ReadResult {
                    id: name.clone(),
                    attributes: Attrs::new()
                        .set("id", name.as_str())
                        .set("name", name.as_str())
                        .set("arn", arn.as_str())
                        .opt("family", group.db_parameter_group_family())
                        .opt("description", group.description())
                        .set("parameter", read_params(&prior, &set))
                        .set("tags", tags_of(&tags))
                        .build(),
                }))
            }
        })
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let name = required(TYPE, c, "name")?;
        aws.rds
            .create_db_parameter_group()
            .db_parameter_group_name(name)
            .db_parameter_group_family(required(TYPE, c, "family")?)
            .description(text(c, "description").unwrap_or(DEFAULT_DESCRIPTION))
            .set_tags(Some(create_tags(c, &req.address)))
            .send()
            .await
            .map_err(|e| rds_error("CreateDBParameterGroup", e, &[]))?;
        modify(aws, name, &params(c)).await?;
        Ok(name.to_string())
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let (c, p) = (&req.config, &req.prior);
        if req.changed.iter().any(|a| a == "parameter") {
            let (before, after) = (params(p), params(c));
            let removed: Vec<&Param> = before
                .iter()
                .filter(|b| !after.iter().any(|a| a.name == b.name))
                .collect();
            for chunk in removed.chunks(PER_CALL) {
                aws.rds
                    .reset_db_parameter_group()
                    .db_parameter_group_name(&req.id)
                    .set_parameters(Some(chunk.iter().map(|p| sdk_param(p)).collect()))
                    .send()
                    .await
                    .map_err(|e| rds_error("ResetDBParameterGroup", e, &[]))?;
            }
            let changed: Vec<Param> = after.into_iter().filter(|a| !before.contains(a)).collect();
            modify(aws, &req.id, &changed).await?;
        }
        if req.changed.iter().any(|a| a == "tags") {
            let arn = text(p, "arn")
                .ok_or_else(|| invalid(TYPE, format!("{} has no ARN in state", req.address)))?;
            sync_tags(aws, arn, p, c).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        match aws
            .rds
            .delete_db_parameter_group()
            .db_parameter_group_name(&req.id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = rds_error("DeleteDBParameterGroup", e, &[]);
                if e.kind == ErrorKind::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}

async fn modify(aws: &Clients, name: &str, set: &[Param]) -> Result<(), ProviderError> {
    for chunk in set.chunks(PER_CALL) {
        aws.rds
            .modify_db_parameter_group()
            .db_parameter_group_name(name)
            .set_parameters(Some(chunk.iter().map(sdk_param).collect()))
            .send()
            .await
            .map_err(|e| rds_error("ModifyDBParameterGroup", e, &[]))?;
    }
    Ok(())
}

/// The user-set parameters, in the prior's order (AWS lists them alphabetically). The apply
/// method is the prior's where it names the parameter: AWS does not reliably report the one a
/// parameter was set with.
fn read_params(prior: &Value, set: &[Parameter]) -> Value {
    let before = params(prior);
    let mut found: Vec<(usize, Param)> = set
        .iter()
        .filter_map(|p| {
            let name = p.parameter_name()?.to_string();
            let value = p.parameter_value().unwrap_or_default().to_string();
            let known = before.iter().position(|b| b.name == name);
            let apply_method = match known {
                Some(i) => before[i].apply_method.clone(),
                None => p.apply_method().map(|m| m.as_str().to_string()),
            };
            Some((
                known.unwrap_or(usize::MAX),
                Param {
                    name,
                    value,
                    apply_method,
                },
            ))
        })
        .collect();
    found.sort_by(|(a, pa), (b, pb)| a.cmp(b).then(pa.name.cmp(&pb.name)));
    Value::List(found.iter().map(|(_, p)| param_value(p)).collect())
}
