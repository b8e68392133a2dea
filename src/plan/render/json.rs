//! The plan in Terraform's JSON plan format (`terraform show -json plan`, format 1.2), so the
//! tools built for Terraform plans (checkov `--framework terraform_plan`, OPA/conftest policies,
//! PR-comment renderers) read a cairn plan unchanged.
//!
//! One deliberate difference: Terraform writes sensitive values in plain text here; cairn never
//! does. Secrets are `null` in `before`/`after`/`values` and marked `true` in the matching
//! `*_sensitive` object, which is where policy tools look for them anyway.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use crate::addr::{InstanceKey, ResourceAddr, ResourceMode};
use crate::plan::render::{
    after_attrs, before_attrs, display_value, output_action, output_after, output_before,
};
use crate::plan::{Plan, ResourceChange};
use crate::spec::expr::{Expr, ExprKind, PathStep};
use crate::value::Value;

/// The JSON plan format version this renderer writes.
pub const FORMAT_VERSION: &str = "1.2";
/// The Terraform release whose JSON output this mirrors; tools gate features on it.
pub const TERRAFORM_VERSION: &str = "1.9.0";
/// The state representation's own format version, as Terraform writes it in `prior_state`.
const STATE_FORMAT_VERSION: &str = "1.0";

/// The whole plan as Terraform's JSON plan representation.
pub fn render(plan: &Plan) -> Json {
    let mut out = json!({
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "cairn_version": plan.cairn_version,
        "planned_values": planned_values(plan),
        "resource_changes": resource_changes(plan),
        "output_changes": output_changes(plan),
        "prior_state": prior_state(plan),
        "configuration": configuration(plan),
        "timestamp": plan.created_at,
        "errored": false,
        "applyable": plan.can_apply(),
        // A targeted plan leaves changes out, as Terraform says of `-target` plans.
        "complete": plan.targets.is_empty(),
    });
    // Terraform's field for changes found by refresh, in the shape of `resource_changes`.
    if !plan.drift.is_empty()
        && let Some(map) = out.as_object_mut()
    {
        let drift: Vec<Json> = plan
            .drift
            .iter()
            .map(|c| {
                let mut item = identity(c, true);
                item.insert("change".into(), change_json(c));
                Json::Object(item)
            })
            .collect();
        map.insert("resource_drift".into(), Json::Array(drift));
    }
    out
}

/// [`render`] as pretty-printed text ending in a newline, for `--json plan.json`.
pub fn render_string(plan: &Plan) -> String {
    format!("{:#}\n", render(plan))
}

/// The provider's registry source, as Terraform names it in `provider_name`.
pub fn provider_source(provider_key: &str) -> String {
    let name = provider_key.split('.').next().unwrap_or(provider_key);
    match name {
        "aws" | "azurerm" => format!("registry.terraform.io/hashicorp/{name}"),
        other => format!("cairn/{other}"),
    }
}

fn sorted_changes(plan: &Plan) -> Vec<&ResourceChange> {
    let mut changes: Vec<&ResourceChange> = plan.changes.iter().collect();
    changes.sort_by_cached_key(|c| c.address.to_string());
    changes
}

/// The fields every resource object shares: address, mode, type, name, index, provider_name.
/// Only a change representation names its module; a values representation nests it instead.
fn identity(change: &ResourceChange, with_module_address: bool) -> Map<String, Json> {
    let addr = &change.address;
    let mut out = Map::new();
    out.insert("address".into(), json!(addr.to_string()));
    if with_module_address && !addr.module.is_empty() {
        out.insert("module_address".into(), json!(addr.module_address()));
    }
    out.insert("mode".into(), json!(mode_name(change.mode)));
    out.insert("type".into(), json!(change.resource_type));
    out.insert("name".into(), json!(addr.name));
    if let Some(key) = &addr.key {
        out.insert("index".into(), index_json(key));
    }
    out.insert(
        "provider_name".into(),
        json!(provider_source(&change.provider)),
    );
    out
}

fn mode_name(mode: ResourceMode) -> &'static str {
    match mode {
        ResourceMode::Managed => "managed",
        ResourceMode::Data => "data",
    }
}

fn index_json(key: &InstanceKey) -> Json {
    match key {
        InstanceKey::Index(i) => json!(i),
        InstanceKey::Key(k) => json!(k),
    }
}

/// A resource in a values representation (`planned_values`, `prior_state`).
fn values_resource(change: &ResourceChange, attrs: &BTreeMap<String, Value>) -> Json {
    let mut out = identity(change, false);
    let value = Value::Map(attrs.clone());
    out.insert("schema_version".into(), json!(0));
    out.insert("values".into(), safe_values(&value));
    out.insert("sensitive_values".into(), sensitive_marks(&value));
    Json::Object(out)
}

fn planned_values(plan: &Plan) -> Json {
    let resources = sorted_changes(plan)
        .into_iter()
        .filter_map(|c| {
            let attrs = after_attrs(c)?;
            Some((c.address.module.clone(), values_resource(c, &attrs)))
        })
        .collect();
    let mut outputs = Map::new();
    let mut sorted: Vec<_> = plan.outputs.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for output in sorted {
        if let Some(after) = output_after(output) {
            outputs.insert(output.name.clone(), output_value(&after, output.sensitive));
        }
    }
    json!({ "outputs": outputs, "root_module": module_tree(resources) })
}

/// An output in a values representation. The value is left out when unknown (as Terraform does)
/// or secret (where Terraform would print it).
fn output_value(value: &Value, sensitive: bool) -> Json {
    let mut out = Map::new();
    let sensitive = sensitive || value.contains_sensitive();
    out.insert("sensitive".into(), json!(sensitive));
    if !sensitive && !value.contains_unknown() {
        out.insert("value".into(), safe_values(value));
    }
    Json::Object(out)
}

fn resource_changes(plan: &Plan) -> Json {
    sorted_changes(plan)
        .into_iter()
        .map(|c| {
            let mut out = identity(c, true);
            // Terraform's field for an object renamed by a `moved` block.
            if let Some(from) = plan.moved_from(&c.address) {
                out.insert("previous_address".into(), json!(from.to_string()));
            }
            out.insert("change".into(), change_json(c));
            if let Some(reason) = c.reason {
                out.insert(
                    "action_reason".into(),
                    serde_json::to_value(reason).unwrap_or(Json::Null),
                );
            }
            Json::Object(out)
        })
        .collect()
}

/// A change representation: actions, before/after, and which parts are unknown or sensitive.
fn change_json(change: &ResourceChange) -> Json {
    let before = before_attrs(change).map(Value::Map);
    let after = after_attrs(change).map(Value::Map);
    let mut out = Map::new();
    out.insert("actions".into(), json!(change.action.terraform_actions()));
    out.insert(
        "before".into(),
        before.as_ref().map_or(Json::Null, safe_values),
    );
    out.insert(
        "after".into(),
        after.as_ref().map_or(Json::Null, safe_values),
    );
    out.insert(
        "after_unknown".into(),
        after.as_ref().map_or_else(|| json!({}), unknown_marks),
    );
    out.insert(
        "before_sensitive".into(),
        before.as_ref().map_or(json!(false), sensitive_marks),
    );
    out.insert(
        "after_sensitive".into(),
        after.as_ref().map_or(json!(false), sensitive_marks),
    );
    if !change.replace_paths.is_empty() {
        let paths: Vec<Json> = change.replace_paths.iter().map(|p| json!([p])).collect();
        out.insert("replace_paths".into(), Json::Array(paths));
    }
    Json::Object(out)
}

fn output_changes(plan: &Plan) -> Json {
    let mut out = Map::new();
    let mut sorted: Vec<_> = plan.outputs.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for output in sorted {
        let before = output_before(output);
        let after = output_after(output);
        let marks = |v: &Option<Value>| match v {
            Some(v) => sensitive_marks(v),
            None => json!(output.sensitive),
        };
        out.insert(
            output.name.clone(),
            json!({
                "actions": output_action(output).terraform_actions(),
                "before": before.as_ref().map_or(Json::Null, safe_values),
                "after": after.as_ref().map_or(Json::Null, safe_values),
                "after_unknown": after.as_ref().map_or(json!(false), unknown_marks),
                "before_sensitive": marks(&before),
                "after_sensitive": marks(&after),
            }),
        );
    }
    Json::Object(out)
}

fn prior_state(plan: &Plan) -> Json {
    let resources = sorted_changes(plan)
        .into_iter()
        .filter_map(|c| {
            let attrs = before_attrs(c)?;
            Some((c.address.module.clone(), values_resource(c, &attrs)))
        })
        .collect();
    let mut outputs = Map::new();
    let mut sorted: Vec<_> = plan.outputs.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for output in sorted {
        if let Some(before) = output_before(output) {
            outputs.insert(output.name.clone(), output_value(&before, output.sensitive));
        }
    }
    json!({
        "format_version": STATE_FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "values": { "outputs": outputs, "root_module": module_tree(resources) },
    })
}

/// Nests resources into `root_module` / `child_modules` by module path.
fn module_tree(resources: Vec<(Vec<String>, Json)>) -> Json {
    #[derive(Default)]
    struct Node {
        resources: Vec<Json>,
        children: BTreeMap<String, Node>,
    }
    fn to_json(node: Node, address: Option<String>) -> Json {
        let mut out = Map::new();
        if let Some(address) = &address {
            out.insert("address".into(), json!(address));
        }
        if !node.resources.is_empty() {
            out.insert("resources".into(), Json::Array(node.resources));
        }
        if !node.children.is_empty() {
            let children = node
                .children
                .into_iter()
                .map(|(name, child)| {
                    let child_address = match &address {
                        Some(parent) => format!("{parent}.module.{name}"),
                        None => format!("module.{name}"),
                    };
                    to_json(child, Some(child_address))
                })
                .collect();
            out.insert("child_modules".into(), Json::Array(children));
        }
        Json::Object(out)
    }
    let mut root = Node::default();
    for (path, resource) in resources {
        let mut node = &mut root;
        for name in path {
            node = node.children.entry(name).or_default();
        }
        node.resources.push(resource);
    }
    to_json(root, None)
}

fn configuration(plan: &Plan) -> Json {
    let mut providers = Map::new();
    for provider in &plan.providers {
        let mut entry = Map::new();
        entry.insert("name".into(), json!(provider.name));
        entry.insert("full_name".into(), json!(provider_source(&provider.name)));
        if let Some(alias) = &provider.alias {
            entry.insert("alias".into(), json!(alias));
        }
        let mut expressions = Map::new();
        if let Value::Map(settings) = &provider.settings {
            for (key, value) in settings {
                // Credentials in a provider block are not configuration to show.
                if !value.contains_sensitive() {
                    expressions
                        .insert(key.clone(), json!({ "constant_value": safe_values(value) }));
                }
            }
        }
        entry.insert("expressions".into(), Json::Object(expressions));
        providers.insert(provider.key(), Json::Object(entry));
    }

    // Configuration is per resource, not per instance: instances of one `for_each` resource are
    // gathered under their resource address.
    let mut modules = ConfigModule::default();
    for change in &plan.changes {
        let Some(after) = &change.after else { continue };
        let mut module = &mut modules;
        for name in &change.address.module {
            module = module.calls.entry(name.clone()).or_default();
        }
        let key = local_resource_address(&change.address);
        let resource = module
            .resources
            .entry(key)
            .or_insert_with(|| ConfigResource {
                change,
                instances: Vec::new(),
            });
        resource.instances.push(after);
    }

    let mut root = modules.to_json();
    let mut outputs = Map::new();
    let mut sorted: Vec<_> = plan.outputs.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for output in sorted {
        let Some(after) = &output.after else { continue };
        let mut entry = Map::new();
        entry.insert("expression".into(), expression_json(&[after], 1, &[]));
        if output.sensitive {
            entry.insert("sensitive".into(), json!(true));
        }
        outputs.insert(output.name.clone(), Json::Object(entry));
    }
    if let Json::Object(root) = &mut root {
        root.insert("outputs".into(), Json::Object(outputs));
    }
    json!({ "provider_config": providers, "root_module": root })
}

#[derive(Default)]
struct ConfigModule<'a> {
    resources: BTreeMap<String, ConfigResource<'a>>,
    calls: BTreeMap<String, ConfigModule<'a>>,
}

struct ConfigResource<'a> {
    /// The first instance, for the resource's identity.
    change: &'a ResourceChange,
    instances: Vec<&'a Expr>,
}

impl ConfigModule<'_> {
    fn to_json(&self) -> Json {
        let resources: Vec<Json> = self
            .resources
            .iter()
            .map(|(address, r)| {
                json!({
                    "address": address,
                    "mode": mode_name(r.change.mode),
                    "type": r.change.resource_type,
                    "name": r.change.address.name,
                    "provider_config_key": r.change.provider,
                    "expressions": resource_expressions(&r.instances, &r.change.address.module),
                    "schema_version": 0,
                })
            })
            .collect();
        let calls: Map<String, Json> = self
            .calls
            .iter()
            .map(|(name, module)| (name.clone(), json!({ "module": module.to_json() })))
            .collect();
        let mut out = Map::new();
        out.insert("resources".into(), Json::Array(resources));
        out.insert("module_calls".into(), Json::Object(calls));
        Json::Object(out)
    }
}

/// `fake_subnet.public` / `data.fake_zones.x`: the address inside its own module, as
/// configuration addresses are.
fn local_resource_address(addr: &ResourceAddr) -> String {
    ResourceAddr {
        module: Vec::new(),
        key: None,
        ..addr.clone()
    }
    .to_string()
}

/// One expression per top-level attribute, from the instances' `after` objects.
fn resource_expressions(instances: &[&Expr], module: &[String]) -> Json {
    let mut per_attr: BTreeMap<String, Vec<&Expr>> = BTreeMap::new();
    let mut literal_attrs: Vec<(String, Expr)> = Vec::new();
    for expr in instances {
        match &expr.kind {
            ExprKind::Map(entries) => {
                for (name, e) in entries {
                    per_attr.entry(name.clone()).or_default().push(e);
                }
            }
            ExprKind::Literal(Value::Map(map)) => {
                for (name, v) in map {
                    literal_attrs.push((name.clone(), Expr::literal(v.clone(), expr.span.clone())));
                }
            }
            _ => {}
        }
    }
    for (name, e) in &literal_attrs {
        per_attr.entry(name.clone()).or_default().push(e);
    }
    per_attr
        .into_iter()
        .map(|(name, exprs)| (name, expression_json(&exprs, instances.len(), module)))
        .collect::<Map<String, Json>>()
        .into()
}

/// Terraform's expression representation: `{constant_value}` for a value written as-is,
/// `{references}` for one computed from other objects. When the instances of a `for_each`
/// resource disagree, the value came from `each`/`count`, so it is not a constant.
fn expression_json(exprs: &[&Expr], instances: usize, module: &[String]) -> Json {
    let mut refs: Vec<String> = Vec::new();
    for expr in exprs {
        collect_references(expr, module, &mut refs);
    }
    let values: Vec<Value> = exprs.iter().map(|e| display_value(e)).collect();
    // An attribute some instances leave unset is not a constant of the resource either.
    let constant = refs.is_empty()
        && exprs.len() == instances
        && values.windows(2).all(|w| w[0] == w[1])
        && values.first().is_some_and(|v| !v.contains_unknown());
    match values.first() {
        // A secret is never configuration to print, not even as a constant.
        Some(v) if constant && v.contains_sensitive() => json!({}),
        Some(v) if constant => json!({ "constant_value": safe_values(v) }),
        _ => json!({ "references": refs }),
    }
}

/// The addresses an expression reads, Terraform-style: the attribute path, the instance, and
/// the resource (`fake_subnet.public["a"].id`, `fake_subnet.public["a"]`, `fake_subnet.public`),
/// relative to the module the expression is written in.
fn collect_references(expr: &Expr, module: &[String], out: &mut Vec<String>) {
    expr.visit(&mut |e| {
        let ExprKind::ResourceAttr { addr, path } = &e.kind else {
            return;
        };
        let mut push = |s: String| {
            if !out.contains(&s) {
                out.push(s);
            }
        };
        let (instance, resource) = match addr.parse::<ResourceAddr>() {
            Ok(mut parsed) => {
                if parsed.module == module {
                    parsed.module.clear();
                }
                let resource = parsed.key.is_some().then(|| parsed.resource_address());
                (parsed.to_string(), resource)
            }
            Err(_) => (addr.clone(), None),
        };
        if !path.is_empty() {
            let mut full = instance.clone();
            for step in path {
                match step {
                    PathStep::Key(k) => {
                        full.push('.');
                        full.push_str(k);
                    }
                    PathStep::Index(i) => full.push_str(&format!("[{i}]")),
                }
            }
            push(full);
        }
        push(instance);
        if let Some(resource) = resource {
            push(resource);
        }
    });
}

/// A value as it may be written: secrets `null`, unknown object attributes left out (and `null`
/// inside lists, where position matters).
fn safe_values(value: &Value) -> Json {
    match value {
        Value::Sensitive(_) | Value::Unknown | Value::Null => Json::Null,
        Value::Map(map) => Json::Object(
            map.iter()
                .filter(|(_, v)| !matches!(v, Value::Unknown))
                .map(|(k, v)| (k.clone(), safe_values(v)))
                .collect(),
        ),
        Value::List(items) => Json::Array(items.iter().map(safe_values).collect()),
        scalar => scalar.to_json_redacted(),
    }
}

/// `after_unknown`: `true` where a value is known only after apply. Known scalars are left out
/// of objects and `false` in lists, as Terraform writes it.
fn unknown_marks(value: &Value) -> Json {
    marks(value, &|v| matches!(v, Value::Unknown))
}

/// `*_sensitive` / `sensitive_values`: `true` where a value is secret.
fn sensitive_marks(value: &Value) -> Json {
    marks(value, &|v| matches!(v, Value::Sensitive(_)))
}

fn marks(value: &Value, hit: &dyn Fn(&Value) -> bool) -> Json {
    if hit(value) {
        return Json::Bool(true);
    }
    match value {
        Value::Map(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), marks(v, hit)))
                .filter(|(_, m)| *m != Json::Bool(false))
                .collect(),
        ),
        Value::List(items) => Json::Array(items.iter().map(|v| marks(v, hit)).collect()),
        Value::Sensitive(inner) => marks(inner, hit),
        _ => Json::Bool(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::render::fixtures;

    /// Every action string a Terraform plan consumer knows.
    const TERRAFORM_ACTIONS: &[&str] = &["no-op", "create", "read", "update", "delete"];

    fn change<'a>(plan: &'a Json, address: &str) -> &'a Json {
        plan["resource_changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == address)
            .unwrap_or_else(|| panic!("no resource change for {address}"))
    }

    #[test]
    fn the_realistic_plan_in_terraform_json() {
        insta::assert_snapshot!(render_string(&fixtures::realistic()));
    }

    #[test]
    fn policy_tools_find_the_fields_they_read() {
        let plan = render(&fixtures::realistic());
        assert_eq!(plan["format_version"], "1.2");
        assert_eq!(plan["terraform_version"], "1.9.0");
        assert_eq!(plan["cairn_version"], "0.1.0");
        assert_eq!(plan["applyable"], true);
        assert_eq!(plan["complete"], true);
        assert_eq!(plan["errored"], false);
        assert_eq!(plan["timestamp"], "2026-08-01T09:30:00Z");

        let changes = plan["resource_changes"].as_array().unwrap();
        assert_eq!(changes.len(), 10, "one entry per instance, no-ops included");
        for c in changes {
            for field in ["address", "mode", "type", "name", "provider_name"] {
                assert!(c[field].is_string(), "{field} missing in {c}");
            }
            let actions = c["change"]["actions"].as_array().unwrap();
            assert!(!actions.is_empty());
            assert!(
                actions
                    .iter()
                    .all(|a| TERRAFORM_ACTIONS.contains(&a.as_str().unwrap()))
            );
            assert!(c["change"]["after_unknown"].is_object(), "{c}");
        }
        assert_eq!(changes[0]["change"]["actions"], json!(["read"]));
        assert_eq!(changes[0]["mode"], "data");

        let replaced = change(&plan, "fake_network.b");
        assert_eq!(replaced["change"]["actions"], json!(["delete", "create"]));
        assert_eq!(replaced["change"]["replace_paths"], json!([["cidr_block"]]));
        assert_eq!(replaced["action_reason"], "replace_because_cannot_update");
        assert_eq!(replaced["change"]["before"]["cidr_block"], "10.0.0.0/16");
        assert_eq!(replaced["change"]["after"]["cidr_block"], "10.1.0.0/16");
        let cbd = change(&plan, "fake_bucket.assets");
        assert_eq!(cbd["change"]["actions"], json!(["create", "delete"]));

        let vpc = change(&plan, "module.network.fake_network.vpc");
        assert_eq!(vpc["module_address"], "module.network");
        assert_eq!(vpc["provider_name"], "cairn/fake");
        assert_eq!(vpc["change"]["before"], Json::Null);
        assert_eq!(vpc["change"]["before_sensitive"], false);
        assert_eq!(
            vpc["change"]["after_unknown"],
            json!({"arn": true, "id": true, "tags": {}})
        );
        assert!(vpc["change"]["after"].get("id").is_none());
        assert_eq!(vpc["change"]["after"]["tags"]["env"], "dev");

        let subnet = change(
            &plan,
            "module.network.fake_subnet.public[\"ap-northeast-1a\"]",
        );
        assert_eq!(subnet["index"], "ap-northeast-1a");
        assert_eq!(subnet["name"], "public");

        let legacy = change(&plan, "fake_network.legacy");
        assert_eq!(legacy["change"]["actions"], json!(["delete"]));
        assert_eq!(legacy["change"]["after"], Json::Null);
        assert_eq!(legacy["action_reason"], "delete_because_no_resource_config");

        let outputs = &plan["output_changes"];
        assert_eq!(outputs["vpc_id"]["actions"], json!(["create"]));
        assert_eq!(outputs["vpc_id"]["after_unknown"], true);
        assert_eq!(outputs["region"]["actions"], json!(["no-op"]));
    }

    #[test]
    fn secrets_are_null_and_marked_sensitive() {
        let plan = render(&fixtures::realistic());
        let db = change(&plan, "fake_database.main");
        assert_eq!(db["change"]["after"]["password"], Json::Null);
        assert_eq!(db["change"]["before"]["password"], Json::Null);
        assert_eq!(db["change"]["after_sensitive"], json!({"password": true}));
        assert_eq!(db["change"]["before_sensitive"], json!({"password": true}));
        assert_eq!(db["change"]["after"]["engine"], "postgres");
        let output = &plan["output_changes"]["db_password"];
        assert_eq!(output["after"], Json::Null);
        assert_eq!(output["after_sensitive"], true);
        assert_eq!(
            plan["planned_values"]["outputs"]["db_password"],
            json!({"sensitive": true})
        );
    }

    #[test]
    fn modules_nest_in_planned_values_prior_state_and_configuration() {
        let plan = render(&fixtures::realistic());
        let child = &plan["planned_values"]["root_module"]["child_modules"][0];
        assert_eq!(child["address"], "module.network");
        let addresses: Vec<&str> = child["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["address"].as_str().unwrap())
            .collect();
        assert_eq!(
            addresses,
            [
                "module.network.fake_network.vpc",
                "module.network.fake_subnet.public[\"ap-northeast-1a\"]",
                "module.network.fake_subnet.public[\"ap-northeast-1c\"]",
            ]
        );
        // A deleted object is in the prior state, not in the planned values.
        let prior: Vec<&str> = plan["prior_state"]["values"]["root_module"]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["address"].as_str().unwrap())
            .collect();
        assert!(prior.contains(&"fake_network.legacy"));
        let planned = plan["planned_values"]["root_module"]["resources"]
            .as_array()
            .unwrap();
        assert!(
            !planned
                .iter()
                .any(|r| r["address"] == "fake_network.legacy")
        );

        let network = &plan["configuration"]["root_module"]["module_calls"]["network"]["module"];
        let subnet = network["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["address"] == "fake_subnet.public")
            .unwrap();
        assert_eq!(subnet["provider_config_key"], "fake");
        assert_eq!(
            subnet["expressions"]["vpc_id"]["references"],
            json!(["fake_network.vpc.id", "fake_network.vpc"])
        );
        // Each instance got its own CIDR (from `each`), so it is not a constant of the resource.
        assert_eq!(
            subnet["expressions"]["cidr_block"],
            json!({"references": []})
        );
        let vpc = network["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["address"] == "fake_network.vpc")
            .unwrap();
        assert_eq!(
            vpc["expressions"]["cidr_block"],
            json!({"constant_value": "10.0.0.0/16"})
        );
        assert_eq!(
            plan["configuration"]["provider_config"]["fake"]["full_name"],
            "cairn/fake"
        );
    }

    #[test]
    fn aws_resources_name_the_hashicorp_provider() {
        let mut plan = fixtures::realistic();
        plan.changes[0].provider = "aws.dr".to_string();
        let json = render(&plan);
        let vpc = change(&json, &plan.changes[0].address.to_string());
        assert_eq!(vpc["provider_name"], "registry.terraform.io/hashicorp/aws");
    }

    #[test]
    fn a_plan_with_nothing_to_do_is_not_applyable() {
        assert_eq!(render(&fixtures::no_changes())["applyable"], false);
    }

    #[test]
    fn render_string_is_the_same_document_with_a_final_newline() {
        let plan = fixtures::realistic();
        let text = render_string(&plan);
        assert!(text.ends_with("}\n"));
        let parsed: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, render(&plan));
    }
}
