//! `aws_ecs_task_definition`: one revision of a task family (Fargate: `awsvpc`, task-level cpu
//! and memory). Its id is the revision's ARN, which is also how it is imported.
//!
//! `container_definitions` is written as structured YAML (a list of maps in ECS's own camelCase
//! field names) or, as in Terraform, a JSON string. ECS fills in defaults (`essential`,
//! `portMappings[].protocol`, empty `environment`, ...), so reads keep only the fields the spec
//! set (the prior's shape), and a re-plan compares like with like. Without a prior to go by (an
//! import whose spec value is not known yet) AWS's defaults are dropped instead.
//!
//! A revision is immutable: every change but tags registers a new one (a replacement, as in
//! Terraform), and delete deregisters. Refresh reads each revision concurrently, bounded: ECS
//! has no batch DescribeTaskDefinitions.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    ApplicationProtocol, Compatibility, ContainerCondition, ContainerDefinition,
    ContainerDependency, HealthCheck, KeyValuePair, LogConfiguration, LogDriver, MountPoint,
    NetworkMode, PortMapping, Secret, TaskDefinitionField, TaskDefinitionStatus, TransportProtocol,
    VolumeFrom,
};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde_json::{Map, Value as Json, json};

use super::ecs_cluster::{ecs_tags, sync_tags, tags_of};
use super::{PROVIDER, Resource};
use crate::attrs::{
    ADDRESS_TAG, Attrs, arn_schema, id_schema, required, string_list, tags_schema, text,
};
use crate::config::Clients;
use crate::each::read_each;
use crate::errors::{invalid, sdk_error};
use crate::paginate::all_pages;
use crate::tagging::with_owner;

pub struct TaskDefinition;

const TYPE: &str = "aws_ecs_task_definition";

/// The container definition fields cairn maps, in ECS's JSON names.
const FIELDS: [&str; 22] = [
    "name",
    "image",
    "cpu",
    "memory",
    "memoryReservation",
    "essential",
    "portMappings",
    "environment",
    "secrets",
    "command",
    "entryPoint",
    "workingDirectory",
    "user",
    "readonlyRootFilesystem",
    "logConfiguration",
    "healthCheck",
    "dependsOn",
    "mountPoints",
    "volumesFrom",
    "stopTimeout",
    "startTimeout",
    "dockerLabels",
];

fn bad(message: impl std::fmt::Display) -> ProviderError {
    invalid(TYPE, format!("container_definitions: {message}"))
}

fn get_str(j: &Json, key: &str) -> Option<String> {
    match j.get(key)? {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn get_int(j: &Json, key: &str) -> Result<Option<i32>, ProviderError> {
    match j.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| bad(format!("`{key}` {n} is not a whole number"))),
        Some(Json::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| bad(format!("`{key}` {s:?} is not a whole number"))),
        Some(other) => Err(bad(format!("`{key}` must be a number, not {other}"))),
    }
}

fn get_bool(j: &Json, key: &str) -> Option<bool> {
    j.get(key).and_then(Json::as_bool)
}

fn get_list<'a>(j: &'a Json, key: &str) -> &'a [Json] {
    j.get(key)
        .and_then(Json::as_array)
        .map_or(&[], Vec::as_slice)
}

fn get_strs(j: &Json, key: &str) -> Option<Vec<String>> {
    j.get(key)?.as_array().map(|items| {
        items
            .iter()
            .filter_map(|i| i.as_str().map(String::from))
            .collect()
    })
}

fn get_map(j: &Json, key: &str) -> Option<HashMap<String, String>> {
    j.get(key)?.as_object().map(|m| {
        m.iter()
            .filter_map(|(k, v)| Some((k.clone(), get_str(&json!({ "v": v }), "v")?)))
            .collect()
    })
}

/// The container definitions of a configuration: a list, or a JSON string of one.
fn definitions(config: &Value) -> Result<Vec<Json>, ProviderError> {
    let json = match config.get("container_definitions").map(Value::expose) {
        Some(Value::String(s)) => serde_json::from_str::<Json>(s)
            .map_err(|e| bad(format!("not a JSON list of containers: {e}")))?,
        Some(v @ Value::List(_)) => v.to_json_exposed(),
        _ => return Err(bad("required: a list of containers")),
    };
    match json {
        Json::Array(items) if !items.is_empty() => Ok(items),
        _ => Err(bad("must be a non-empty list of containers")),
    }
}

/// One container definition as ECS takes it.
fn to_sdk(c: &Json) -> Result<ContainerDefinition, ProviderError> {
    let Some(fields) = c.as_object() else {
        return Err(bad("each container must be a map"));
    };
    if let Some(unknown) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(bad(format!(
            "field `{unknown}` is not supported; cairn maps {}",
            FIELDS.join(", ")
        )));
    }
    let name = get_str(c, "name").ok_or_else(|| bad("every container needs a `name`"))?;
    let ports = get_list(c, "portMappings")
        .iter()
        .map(|p| {
            Ok(PortMapping::builder()
                .set_container_port(get_int(p, "containerPort")?)
                .set_host_port(get_int(p, "hostPort")?)
                .set_protocol(get_str(p, "protocol").map(|s| TransportProtocol::from(s.as_str())))
                .set_name(get_str(p, "name"))
                .set_app_protocol(
                    get_str(p, "appProtocol").map(|s| ApplicationProtocol::from(s.as_str())),
                )
                .build())
        })
        .collect::<Result<Vec<_>, ProviderError>>()?;
    let environment = get_list(c, "environment")
        .iter()
        .map(|e| {
            KeyValuePair::builder()
                .set_name(get_str(e, "name"))
                .set_value(get_str(e, "value"))
                .build()
        })
        .collect::<Vec<_>>();
    let secrets = get_list(c, "secrets")
        .iter()
        .map(|s| {
            Secret::builder()
                .set_name(get_str(s, "name"))
                .set_value_from(get_str(s, "valueFrom"))
                .build()
                .map_err(|e| bad(format!("a secret needs `name` and `valueFrom`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let log = match c.get("logConfiguration") {
        Some(l @ Json::Object(_)) => Some(
            LogConfiguration::builder()
                .set_log_driver(get_str(l, "logDriver").map(|d| LogDriver::from(d.as_str())))
                .set_options(get_map(l, "options"))
                .build()
                .map_err(|e| bad(format!("logConfiguration needs `logDriver`: {e}")))?,
        ),
        _ => None,
    };
    let health = match c.get("healthCheck") {
        Some(h @ Json::Object(_)) => Some(
            HealthCheck::builder()
                .set_command(get_strs(h, "command"))
                .set_interval(get_int(h, "interval")?)
                .set_timeout(get_int(h, "timeout")?)
                .set_retries(get_int(h, "retries")?)
                .set_start_period(get_int(h, "startPeriod")?)
                .build()
                .map_err(|e| bad(format!("healthCheck needs `command`: {e}")))?,
        ),
        _ => None,
    };
    let depends = get_list(c, "dependsOn")
        .iter()
        .map(|d| {
            ContainerDependency::builder()
                .set_container_name(get_str(d, "containerName"))
                .set_condition(
                    get_str(d, "condition").map(|s| ContainerCondition::from(s.as_str())),
                )
                .build()
                .map_err(|e| {
                    bad(format!(
                        "dependsOn needs `containerName` and `condition`: {e}"
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mounts = get_list(c, "mountPoints")
        .iter()
        .map(|m| {
            MountPoint::builder()
                .set_source_volume(get_str(m, "sourceVolume"))
                .set_container_path(get_str(m, "containerPath"))
                .set_read_only(get_bool(m, "readOnly"))
                .build()
        })
        .collect::<Vec<_>>();
    let volumes_from = get_list(c, "volumesFrom")
        .iter()
        .map(|v| {
            VolumeFrom::builder()
                .set_source_container(get_str(v, "sourceContainer"))
                .set_read_only(get_bool(v, "readOnly"))
                .build()
        })
        .collect::<Vec<_>>();
    Ok(ContainerDefinition::builder()
        .name(name)
        .set_image(get_str(c, "image"))
        .set_cpu(get_int(c, "cpu")?)
        .set_memory(get_int(c, "memory")?)
        .set_memory_reservation(get_int(c, "memoryReservation")?)
        .set_essential(get_bool(c, "essential"))
        .set_port_mappings(Some(ports).filter(|l| !l.is_empty()))
        .set_environment(Some(environment).filter(|l| !l.is_empty()))
        .set_secrets(Some(secrets).filter(|l| !l.is_empty()))
        .set_command(get_strs(c, "command"))
        .set_entry_point(get_strs(c, "entryPoint"))
        .set_working_directory(get_str(c, "workingDirectory"))
        .set_user(get_str(c, "user"))
        .set_readonly_root_filesystem(get_bool(c, "readonlyRootFilesystem"))
        .set_log_configuration(log)
        .set_health_check(health)
        .set_depends_on(Some(depends).filter(|l| !l.is_empty()))
        .set_mount_points(Some(mounts).filter(|l| !l.is_empty()))
        .set_volumes_from(Some(volumes_from).filter(|l| !l.is_empty()))
        .set_stop_timeout(get_int(c, "stopTimeout")?)
        .set_start_timeout(get_int(c, "startTimeout")?)
        .set_docker_labels(get_map(c, "dockerLabels"))
        .build())
}

/// Inserts `value` under `key` unless it is absent.
fn put(m: &mut Map<String, Json>, key: &str, value: Option<Json>) {
    if let Some(v) = value {
        m.insert(key.to_string(), v);
    }
}

fn strs(items: &[String]) -> Option<Json> {
    (!items.is_empty()).then(|| json!(items))
}

fn sorted_map(m: Option<&HashMap<String, String>>) -> Option<Json> {
    let m = m?;
    let sorted: BTreeMap<&String, &String> = m.iter().collect();
    Some(json!(sorted))
}

/// One container definition as ECS describes it, in its JSON names: every mapped field AWS
/// returned, defaults included.
fn from_sdk(c: &ContainerDefinition) -> Json {
    let mut m = Map::new();
    put(&mut m, "name", c.name().map(|s| json!(s)));
    put(&mut m, "image", c.image().map(|s| json!(s)));
    m.insert("cpu".into(), json!(c.cpu()));
    put(&mut m, "memory", c.memory().map(|n| json!(n)));
    put(
        &mut m,
        "memoryReservation",
        c.memory_reservation().map(|n| json!(n)),
    );
    put(&mut m, "essential", c.essential().map(|b| json!(b)));
    let ports: Vec<Json> = c
        .port_mappings()
        .iter()
        .map(|p| {
            let mut pm = Map::new();
            put(
                &mut pm,
                "containerPort",
                p.container_port().map(|n| json!(n)),
            );
            put(&mut pm, "hostPort", p.host_port().map(|n| json!(n)));
            put(&mut pm, "protocol", p.protocol().map(|s| json!(s.as_str())));
            put(&mut pm, "name", p.name().map(|s| json!(s)));
            put(
                &mut pm,
                "appProtocol",
                p.app_protocol().map(|s| json!(s.as_str())),
            );
            Json::Object(pm)
        })
        .collect();
    m.insert("portMappings".into(), json!(ports));
    let environment: Vec<Json> = c
        .environment()
        .iter()
        .map(|e| json!({ "name": e.name(), "value": e.value() }))
        .collect();
    m.insert("environment".into(), json!(environment));
    let secrets: Vec<Json> = c
        .secrets()
        .iter()
        .map(|s| json!({ "name": s.name(), "valueFrom": s.value_from() }))
        .collect();
    m.insert("secrets".into(), json!(secrets));
    put(&mut m, "command", strs(c.command()));
    put(&mut m, "entryPoint", strs(c.entry_point()));
    put(
        &mut m,
        "workingDirectory",
        c.working_directory().map(|s| json!(s)),
    );
    put(&mut m, "user", c.user().map(|s| json!(s)));
    put(
        &mut m,
        "readonlyRootFilesystem",
        c.readonly_root_filesystem().map(|b| json!(b)),
    );
    if let Some(l) = c.log_configuration() {
        let mut lm = Map::new();
        lm.insert("logDriver".into(), json!(l.log_driver().as_str()));
        put(&mut lm, "options", sorted_map(l.options()));
        m.insert("logConfiguration".into(), Json::Object(lm));
    }
    if let Some(h) = c.health_check() {
        let mut hm = Map::new();
        hm.insert("command".into(), json!(h.command()));
        put(&mut hm, "interval", h.interval().map(|n| json!(n)));
        put(&mut hm, "timeout", h.timeout().map(|n| json!(n)));
        put(&mut hm, "retries", h.retries().map(|n| json!(n)));
        put(&mut hm, "startPeriod", h.start_period().map(|n| json!(n)));
        m.insert("healthCheck".into(), Json::Object(hm));
    }
    let depends: Vec<Json> = c
        .depends_on()
        .iter()
        .map(
            |d| json!({ "containerName": d.container_name(), "condition": d.condition().as_str() }),
        )
        .collect();
    m.insert("dependsOn".into(), json!(depends));
    let mounts: Vec<Json> = c
        .mount_points()
        .iter()
        .map(|p| {
            let mut pm = Map::new();
            put(&mut pm, "sourceVolume", p.source_volume().map(|s| json!(s)));
            put(
                &mut pm,
                "containerPath",
                p.container_path().map(|s| json!(s)),
            );
            put(&mut pm, "readOnly", p.read_only().map(|b| json!(b)));
            Json::Object(pm)
        })
        .collect();
    m.insert("mountPoints".into(), json!(mounts));
    let volumes_from: Vec<Json> = c
        .volumes_from()
        .iter()
        .map(|v| {
            let mut vm = Map::new();
            put(
                &mut vm,
                "sourceContainer",
                v.source_container().map(|s| json!(s)),
            );
            put(&mut vm, "readOnly", v.read_only().map(|b| json!(b)));
            Json::Object(vm)
        })
        .collect();
    m.insert("volumesFrom".into(), json!(volumes_from));
    put(&mut m, "stopTimeout", c.stop_timeout().map(|n| json!(n)));
    put(&mut m, "startTimeout", c.start_timeout().map(|n| json!(n)));
    put(&mut m, "dockerLabels", sorted_map(c.docker_labels()));
    Json::Object(m)
}

/// `actual` cut to the shape of `wanted`: map keys `wanted` does not have are dropped, lists
/// are cut element by element. What `wanted` has and `actual` lacks stays missing, so a real
/// difference still shows.
fn fit(actual: &Json, wanted: &Json) -> Json {
    match (actual, wanted) {
        (Json::Object(a), Json::Object(w)) => Json::Object(
            a.iter()
                .filter_map(|(k, v)| Some((k.clone(), fit(v, w.get(k)?))))
                .collect(),
        ),
        (Json::Array(a), Json::Array(w)) => Json::Array(
            a.iter()
                .enumerate()
                .map(|(i, v)| w.get(i).map_or_else(|| v.clone(), |w| fit(v, w)))
                .collect(),
        ),
        _ => actual.clone(),
    }
}

/// A container as described, without what ECS fills in when it is not set: for reads with no
/// spec shape to go by.
fn without_defaults(c: &Json) -> Json {
    let Json::Object(m) = c else {
        return c.clone();
    };
    let mut out = Map::new();
    for (k, v) in m {
        let default = match (k.as_str(), v) {
            ("cpu", Json::Number(n)) => n.as_i64() == Some(0),
            ("essential", Json::Bool(true)) => true,
            (_, Json::Array(a)) => a.is_empty(),
            (_, Json::Object(o)) => o.is_empty(),
            _ => false,
        };
        if default {
            continue;
        }
        let v = if k == "portMappings" {
            Json::Array(
                get_list(c, k)
                    .iter()
                    .map(|p| {
                        let mut p = p.as_object().cloned().unwrap_or_default();
                        if p.get("protocol") == Some(&json!("tcp")) {
                            p.remove("protocol");
                        }
                        if p.get("hostPort").is_some()
                            && p.get("hostPort") == p.get("containerPort")
                        {
                            p.remove("hostPort");
                        }
                        Json::Object(p)
                    })
                    .collect(),
            )
        } else {
            v.clone()
        };
        out.insert(k.clone(), v);
    }
    Json::Object(out)
}

/// The `container_definitions` attribute of what ECS describes, in the form of `prior` (a list
/// or a JSON string) and cut to the fields it set.
fn definitions_value(actual: &[ContainerDefinition], prior: Option<&Value>) -> Value {
    let described: Vec<Json> = actual.iter().map(from_sdk).collect();
    let (wanted, as_string) = match prior.map(Value::expose) {
        Some(Value::String(s)) => (serde_json::from_str::<Json>(s).ok(), Some(s)),
        Some(v @ Value::List(_)) => (Some(v.to_json_exposed()), None),
        _ => (None, None),
    };
    let wanted_list = wanted.as_ref().and_then(Json::as_array);
    let fitted: Vec<Json> = described
        .iter()
        .map(|c| {
            let name = c.get("name");
            match wanted_list.and_then(|w| w.iter().find(|w| w.get("name") == name)) {
                Some(w) => fit(c, w),
                None => without_defaults(c),
            }
        })
        .collect();
    // In the spec's order, so a reordering alone is no change.
    let mut ordered: Vec<Json> = Vec::new();
    if let Some(w) = wanted_list {
        for want in w {
            if let Some(c) = fitted.iter().find(|c| c.get("name") == want.get("name")) {
                ordered.push(c.clone());
            }
        }
    }
    for c in &fitted {
        if !ordered.iter().any(|o| o.get("name") == c.get("name")) {
            ordered.push(c.clone());
        }
    }
    let fitted = Json::Array(ordered);
    let value = match as_string {
        Some(s) if wanted.as_ref() == Some(&fitted) => Value::string(s),
        Some(_) => Value::string(fitted.to_string()),
        None => Value::from_json(&fitted),
    };
    match prior {
        Some(prior) => sensitive_as(value, prior),
        None => value,
    }
}

/// `value` with every part that is secret in `prior` (at the same place) marked secret again:
/// an environment value from a generated password must not reach state in plaintext.
fn sensitive_as(value: Value, prior: &Value) -> Value {
    match (value, prior) {
        (v, Value::Sensitive(_)) => Value::Sensitive(Box::new(v)),
        (Value::Map(m), Value::Map(p)) => Value::Map(
            m.into_iter()
                .map(|(k, v)| {
                    let v = match p.get(&k) {
                        Some(p) => sensitive_as(v, p),
                        None => v,
                    };
                    (k, v)
                })
                .collect(),
        ),
        (Value::List(l), Value::List(p)) => Value::List(
            l.into_iter()
                .enumerate()
                .map(|(i, v)| match p.get(i) {
                    Some(p) => sensitive_as(v, p),
                    None => v,
                })
                .collect(),
        ),
        (v, _) => v,
    }
}

/// `arn:...:task-definition/FAMILY:REVISION` without `:REVISION`.
fn without_revision(arn: &str) -> &str {
    arn.rsplit_once(':').map_or(arn, |(head, _)| head)
}

#[async_trait]
impl Resource for TaskDefinition {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("TASK_DEFINITION_ARN")
            .describe("An ECS task definition revision (Fargate)")
            .attr(AttrSchema::required("family", AttrType::String).force_new())
            .attr(
                AttrSchema::required("container_definitions", AttrType::Any)
                    .force_new()
                    .describe(
                        "A list of containers in ECS's JSON field names (or a JSON string of one)",
                    ),
            )
            .attr(
                AttrSchema::optional(
                    "requires_compatibilities",
                    AttrType::List(Box::new(AttrType::String)),
                )
                .force_new()
                .describe("`[FARGATE]` for Fargate tasks"),
            )
            .attr(
                AttrSchema::optional_computed("network_mode", AttrType::String)
                    .force_new()
                    .describe("`awsvpc` for Fargate; ECS's default is `bridge`"),
            )
            .attr(
                AttrSchema::optional("cpu", AttrType::String)
                    .force_new()
                    .describe("CPU units of the task (`256`, `512`, ...)"),
            )
            .attr(
                AttrSchema::optional("memory", AttrType::String)
                    .force_new()
                    .describe("Memory of the task in MiB"),
            )
            .attr(
                AttrSchema::optional("execution_role_arn", AttrType::String)
                    .force_new()
                    .describe("The role ECS pulls images and reads secrets with"),
            )
            .attr(
                AttrSchema::optional("task_role_arn", AttrType::String)
                    .force_new()
                    .describe("The role the containers run as"),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed(
                "arn_without_revision",
                AttrType::String,
            ))
            .attr(AttrSchema::computed("revision", AttrType::Number))
    }

    async fn find_pending(
        &self,
        aws: &Clients,
        pending: &[&ReadItem],
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        // Every registration is a new revision, so a create cut short leaves one the next
        // register would not reuse: find it among the family's revisions by ownership tag.
        let mut found = BTreeMap::new();
        for item in pending {
            let Some(family) = text(&item.prior, "family") else {
                continue;
            };
            let arns = all_pages(|token| {
                let ecs = aws.ecs.clone();
                async move {
                    let out = ecs
                        .list_task_definitions()
                        .family_prefix(family)
                        .status(TaskDefinitionStatus::Active)
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(|e| sdk_error("ListTaskDefinitions", e))?;
                    Ok((out.task_definition_arns.unwrap_or_default(), out.next_token))
                }
            })
            .await?;
            for arn in arns {
                let out = aws
                    .ecs
                    .describe_task_definition()
                    .task_definition(&arn)
                    .include(TaskDefinitionField::Tags)
                    .send()
                    .await
                    .map_err(|e| sdk_error("DescribeTaskDefinition", e))?;
                let owned = out.tags().iter().any(|t| {
                    t.key() == Some(ADDRESS_TAG) && t.value() == Some(item.address.as_str())
                });
                if owned {
                    found.insert(item.address.clone(), arn);
                    break;
                }
            }
        }
        Ok(found)
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let wanted = items.iter().filter_map(|i| {
            let prior = i.prior.get("container_definitions").cloned();
            Some((i.address.clone(), (i.id.clone()?, prior)))
        });
        let client = aws.ecs.clone();
        read_each(wanted, move |(arn, prior): (String, Option<Value>)| {
            let ecs = client.clone();
            async move {
                let out = match ecs
                    .describe_task_definition()
                    .task_definition(&arn)
                    .include(TaskDefinitionField::Tags)
                    .send()
                    .await
                {
                    Ok(out) => out,
                    // ECS answers a revision it does not know with a ClientException.
                    Err(e)
                        if aws_smithy_types::error::metadata::ProvideErrorMetadata::message(&e)
                            .is_some_and(|m| m.contains("Unable to describe task definition")) =>
                    {
                        return Ok(None);
                    }
                    Err(e) => return Err(sdk_error("DescribeTaskDefinition", e)),
                };
                let Some(td) = out.task_definition() else {
                    return Ok(None);
                };
                if td.status() != Some(&TaskDefinitionStatus::Active) {
                    return Ok(None);
                }
                let Some(arn) = td.task_definition_arn() else {
                    return Ok(None);
                };
                let compat: Vec<String> = td
                    .requires_compatibilities()
                    .iter()
                    .map(|c| c.as_str().to_string())
                    .collect();
                Ok(Some(ReadResult {
                    id: arn.to_string(),
                    attributes: Attrs::new()
                        .set("id", arn)
                        .set("arn", arn)
                        .set("arn_without_revision", without_revision(arn))
                        .set("revision", Value::Number(td.revision().into()))
                        .opt("family", td.family())
                        .set(
                            "container_definitions",
                            definitions_value(td.container_definitions(), prior.as_ref()),
                        )
                        .set("requires_compatibilities", string_list(compat))
                        .opt("network_mode", td.network_mode().map(|m| m.as_str()))
                        .opt("cpu", td.cpu())
                        .opt("memory", td.memory())
                        .opt("execution_role_arn", td.execution_role_arn())
                        .opt("task_role_arn", td.task_role_arn())
                        .set("tags", tags_of(out.tags()))
                        .build(),
                }))
            }
        })
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let containers = definitions(c)?
            .iter()
            .map(to_sdk)
            .collect::<Result<Vec<_>, _>>()?;
        let compat = c
            .get("requires_compatibilities")
            .and_then(Value::as_list)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(Compatibility::from)
                    .collect::<Vec<_>>()
            });
        let out = aws
            .ecs
            .register_task_definition()
            .family(required(TYPE, c, "family")?)
            .set_container_definitions(Some(containers))
            .set_requires_compatibilities(compat)
            .set_network_mode(text(c, "network_mode").map(NetworkMode::from))
            .set_cpu(text(c, "cpu").map(String::from))
            .set_memory(text(c, "memory").map(String::from))
            .set_execution_role_arn(text(c, "execution_role_arn").map(String::from))
            .set_task_role_arn(text(c, "task_role_arn").map(String::from))
            .set_tags(Some(ecs_tags(with_owner(c, &req.address))))
            .send()
            .await
            .map_err(|e| sdk_error("RegisterTaskDefinition", e))?;
        out.task_definition()
            .and_then(|t| t.task_definition_arn())
            .map(String::from)
            .ok_or_else(|| invalid(TYPE, "RegisterTaskDefinition returned no ARN"))
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        // Everything else forces a new revision; only tags change in place.
        if req.changed.iter().any(|a| a == "tags") {
            sync_tags(aws, &req.id, &req.prior, &req.config).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        aws.ecs
            .deregister_task_definition()
            .task_definition(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeregisterTaskDefinition", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described() -> ContainerDefinition {
        to_sdk(&json!({
            "name": "web",
            "image": "nginx:1.27",
            "cpu": 0,
            "essential": true,
            "portMappings": [{ "containerPort": 80, "hostPort": 80, "protocol": "tcp" }],
            "environment": [],
            "mountPoints": [],
            "secrets": [{ "name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:x" }],
        }))
        .unwrap()
    }

    #[test]
    fn a_read_keeps_only_what_the_spec_set() {
        let spec = Value::from_json(&json!([{
            "name": "web",
            "image": "nginx:1.27",
            "portMappings": [{ "containerPort": 80 }],
            "secrets": [{ "name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:x" }],
        }]));
        assert_eq!(definitions_value(&[described()], Some(&spec)), spec);
    }

    #[test]
    fn a_json_string_reads_back_as_the_same_string() {
        let spec = Value::string(
            r#"[{"name": "web", "image": "nginx:1.27", "essential": true,
                "portMappings": [{"containerPort": 80}],
                "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:x"}]}]"#,
        );
        assert_eq!(definitions_value(&[described()], Some(&spec)), spec);
        let changed = Value::string(r#"[{"name": "web", "image": "nginx:1.28"}]"#);
        assert_ne!(definitions_value(&[described()], Some(&changed)), changed);
    }

    #[test]
    fn without_a_spec_aws_defaults_are_dropped() {
        assert_eq!(
            definitions_value(&[described()], None),
            Value::from_json(&json!([{
                "name": "web",
                "image": "nginx:1.27",
                "portMappings": [{ "containerPort": 80 }],
                "secrets": [{ "name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:x" }],
            }]))
        );
    }

    #[test]
    fn what_the_spec_keeps_secret_reads_back_secret() {
        let mut spec = Value::from_json(&json!([{
            "name": "web",
            "image": "nginx:1.27",
            "environment": [{ "name": "TOKEN", "value": "hunter2" }],
        }]));
        if let Value::List(containers) = &mut spec
            && let Some(Value::Map(web)) = containers.first_mut()
            && let Some(Value::List(env)) = web.get_mut("environment")
            && let Some(Value::Map(token)) = env.first_mut()
            && let Some(value) = token.get_mut("value")
        {
            *value = Value::Sensitive(Box::new(value.clone()));
        }
        let described = to_sdk(&json!({
            "name": "web",
            "image": "nginx:1.27",
            "environment": [{ "name": "TOKEN", "value": "hunter2" }],
        }))
        .unwrap();
        let read = definitions_value(&[described], Some(&spec));
        assert_eq!(read, spec);
        assert!(read.contains_sensitive());
    }

    #[test]
    fn unknown_fields_are_refused_with_the_supported_list() {
        let err = to_sdk(&json!({ "name": "web", "privileged": true })).unwrap_err();
        assert!(
            err.message.contains("`privileged` is not supported"),
            "{}",
            err.message
        );
    }

    #[test]
    fn the_family_arn_drops_the_revision() {
        assert_eq!(
            without_revision("arn:aws:ecs:us-east-1:1:task-definition/app:3"),
            "arn:aws:ecs:us-east-1:1:task-definition/app"
        );
    }
}
