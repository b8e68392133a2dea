//! `azurerm_application_gateway`: the HTTP front door of the Flask-on-AKS system. Its parts
//! (gateway IP configuration, frontend ports and IPs, backend pools and HTTP settings,
//! listeners, routing rules) are lists of blocks named as in azurerm. Inside the gateway ARM
//! links them by id (`.../applicationGateways/GW/httpListeners/NAME`); the configuration
//! links them by name, as azurerm does, and the ids are built from the names.
//!
//! The subset is what the seed system needs: v2 SKUs, one public frontend, HTTP listeners and
//! basic routing rules. TLS certificates, probes, path maps and WAF are not modelled yet.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{
    ArmBody, Ctx, IdRef, PROVIDER, as_prior, flag, id_part, id_schema, location, location_schema,
    name_schema, parse, resource_group_name_schema, same_ignoring_case, same_location, string_list,
    strings, tags, tags_schema, tags_value, to_json,
};
use crate::errors::invalid;

pub struct ApplicationGateway;

const TYPE: &str = "azurerm_application_gateway";
const ARM_TYPE: &str = "Microsoft.Network/applicationGateways";
/// azurerm's default for `backend_http_settings.request_timeout`.
const REQUEST_TIMEOUT: i64 = 30;

// ---- ARM's shape ----

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Gateway {
    #[serde(default, skip_serializing)]
    id: String,
    #[serde(default, skip_serializing)]
    name: String,
    location: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    zones: Vec<String>,
    #[serde(default)]
    properties: Properties,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    #[serde(default)]
    sku: Sku,
    #[serde(rename = "gatewayIPConfigurations", default)]
    gateway_ip_configurations: Vec<Named<GatewayIpConfiguration>>,
    #[serde(rename = "frontendIPConfigurations", default)]
    frontend_ip_configurations: Vec<Named<FrontendIpConfiguration>>,
    #[serde(default)]
    frontend_ports: Vec<Named<FrontendPort>>,
    #[serde(default)]
    backend_address_pools: Vec<Named<BackendAddressPool>>,
    #[serde(default)]
    backend_http_settings_collection: Vec<Named<BackendHttpSettings>>,
    #[serde(default)]
    http_listeners: Vec<Named<HttpListener>>,
    #[serde(default)]
    request_routing_rules: Vec<Named<RequestRoutingRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enable_http2: Option<bool>,
    #[serde(default, skip_serializing)]
    operational_state: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sku {
    #[serde(default)]
    name: String,
    #[serde(default)]
    tier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    capacity: Option<i64>,
}

/// A part of the gateway: a name and its properties (ARM's id for it is built from the name).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Named<P> {
    #[serde(default)]
    name: String,
    #[serde(default)]
    properties: P,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GatewayIpConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subnet: Option<IdRef>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FrontendIpConfiguration {
    #[serde(
        rename = "publicIPAddress",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    public_ip_address: Option<IdRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subnet: Option<IdRef>,
    #[serde(
        rename = "privateIPAddress",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    private_ip_address: Option<String>,
    #[serde(
        rename = "privateIPAllocationMethod",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    private_ip_allocation_method: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FrontendPort {
    #[serde(default)]
    port: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BackendAddressPool {
    #[serde(default)]
    backend_addresses: Vec<BackendAddress>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BackendAddress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fqdn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ip_address: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BackendHttpSettings {
    #[serde(default)]
    port: i64,
    #[serde(default)]
    protocol: String,
    #[serde(default)]
    cookie_based_affinity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request_timeout: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pick_host_name_from_backend_address: Option<bool>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpListener {
    #[serde(rename = "frontendIPConfiguration", default)]
    frontend_ip_configuration: IdRef,
    #[serde(default)]
    frontend_port: IdRef,
    #[serde(default)]
    protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host_name: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestRoutingRule {
    #[serde(default)]
    rule_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    priority: Option<i64>,
    #[serde(default)]
    http_listener: IdRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    backend_address_pool: Option<IdRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    backend_http_settings: Option<IdRef>,
}

// ---- azurerm's shape ----

fn object(fields: &[(&str, AttrType)]) -> AttrType {
    AttrType::Object(
        fields
            .iter()
            .map(|(k, t)| (k.to_string(), t.clone()))
            .collect(),
    )
}

fn blocks(fields: &[(&str, AttrType)]) -> AttrType {
    AttrType::List(Box::new(object(fields)))
}

/// The blocks of the configuration named `name`.
fn config_blocks<'a>(config: &'a Value, name: &str) -> Vec<&'a Value> {
    config
        .get(name)
        .map(Value::expose)
        .and_then(Value::as_list)
        .map(|l| l.iter().map(Value::expose).collect())
        .unwrap_or_default()
}

/// Reads the fields of one block, naming the block in errors (`http_listener[1].protocol`).
struct Block<'a> {
    value: &'a Value,
    at: String,
}

impl<'a> Block<'a> {
    fn text(&self, field: &str) -> Option<&'a str> {
        self.value
            .get(field)
            .map(Value::expose)
            .and_then(Value::as_str)
    }

    fn required(&self, field: &str) -> Result<&'a str, ProviderError> {
        self.text(field)
            .ok_or_else(|| invalid(TYPE, format!("`{}.{field}` is required", self.at)))
    }

    fn whole(&self, field: &str) -> Result<Option<i64>, ProviderError> {
        match self.value.get(field).map(Value::expose) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_f64() {
                Some(n) if n.fract() == 0.0 => Ok(Some(n as i64)),
                _ => Err(invalid(
                    TYPE,
                    format!("`{}.{field}` must be a whole number", self.at),
                )),
            },
        }
    }

    fn flag(&self, field: &str) -> Option<bool> {
        self.value
            .get(field)
            .map(Value::expose)
            .and_then(Value::as_bool)
    }

    fn strings(&self, field: &str) -> Vec<String> {
        strings(self.value, field)
    }
}

fn each<'a>(config: &'a Value, name: &str) -> Vec<Block<'a>> {
    config_blocks(config, name)
        .into_iter()
        .enumerate()
        .map(|(i, value)| Block {
            value,
            at: format!("{name}[{i}]"),
        })
        .collect()
}

/// The id ARM gives a part of the gateway, from its name.
fn part_id(gateway: &str, collection: &str, name: &str) -> IdRef {
    IdRef {
        id: format!("{gateway}/{collection}/{name}"),
    }
}

/// The name in a part's id (its last segment); empty when there is no id.
fn part_name(id: &IdRef) -> Value {
    Value::string(id.id.rsplit('/').next().unwrap_or_default())
}

fn opt_text(v: Option<String>) -> Value {
    v.map(Value::string).unwrap_or(Value::Null)
}

/// A block as read, limited to the fields its prior block (same `name`) sets: a field the
/// configuration leaves out keeps ARM's value and is not compared, so a re-plan stays empty.
/// Without a prior block (an import) every field is kept.
fn shaped(read: Vec<BTreeMap<String, Value>>, prior: &Value, name: &str) -> Value {
    let priors = config_blocks(prior, name);
    Value::List(
        read.into_iter()
            .map(|block| {
                let before = priors
                    .iter()
                    .find(|p| p.get("name") == block.get("name"))
                    .and_then(|p| p.as_map());
                match before {
                    Some(before) => Value::Map(
                        block
                            .into_iter()
                            .filter(|(k, _)| before.get(k).is_some_and(|v| *v != Value::Null))
                            .collect(),
                    ),
                    None => Value::Map(block),
                }
            })
            .collect(),
    )
}

fn map(fields: Vec<(&str, Value)>) -> BTreeMap<String, Value> {
    fields
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

impl ArmBody for ApplicationGateway {
    fn schema(&self) -> Schema {
        let s = || AttrType::String;
        let n = || AttrType::Number;
        let list = || AttrType::List(Box::new(AttrType::String));
        Schema::resource(PROVIDER, TYPE)
            .describe("An application gateway (layer-7 load balancer)")
            .attr(name_schema())
            .attr(resource_group_name_schema())
            .attr(location_schema())
            .attr(
                AttrSchema::required(
                    "sku",
                    object(&[("name", s()), ("tier", s()), ("capacity", n())]),
                )
                .describe("name and tier: Standard_v2 or WAF_v2; capacity: 1 to 125 instances"),
            )
            .attr(AttrSchema::required(
                "gateway_ip_configuration",
                blocks(&[("name", s()), ("subnet_id", s())]),
            ))
            .attr(AttrSchema::required(
                "frontend_port",
                blocks(&[("name", s()), ("port", n())]),
            ))
            .attr(AttrSchema::required(
                "frontend_ip_configuration",
                blocks(&[
                    ("name", s()),
                    ("public_ip_address_id", s()),
                    ("subnet_id", s()),
                    ("private_ip_address", s()),
                    ("private_ip_address_allocation", s()),
                ]),
            ))
            .attr(AttrSchema::required(
                "backend_address_pool",
                blocks(&[("name", s()), ("fqdns", list()), ("ip_addresses", list())]),
            ))
            .attr(
                AttrSchema::required(
                    "backend_http_settings",
                    blocks(&[
                        ("name", s()),
                        ("cookie_based_affinity", s()),
                        ("port", n()),
                        ("protocol", s()),
                        ("request_timeout", n()),
                        ("path", s()),
                        ("host_name", s()),
                        ("pick_host_name_from_backend_address", AttrType::Bool),
                    ]),
                )
                .describe("request_timeout defaults to 30 seconds"),
            )
            .attr(AttrSchema::required(
                "http_listener",
                blocks(&[
                    ("name", s()),
                    ("frontend_ip_configuration_name", s()),
                    ("frontend_port_name", s()),
                    ("protocol", s()),
                    ("host_name", s()),
                ]),
            ))
            .attr(
                AttrSchema::required(
                    "request_routing_rule",
                    blocks(&[
                        ("name", s()),
                        ("rule_type", s()),
                        ("http_listener_name", s()),
                        ("backend_address_pool_name", s()),
                        ("backend_http_settings_name", s()),
                        ("priority", n()),
                    ]),
                )
                .describe("rule_type: Basic; priority 1 to 20000, required on v2 SKUs"),
            )
            .attr(AttrSchema::optional("enable_http2", AttrType::Bool).default(false))
            .attr(AttrSchema::optional("zones", list()).force_new())
            .attr(tags_schema())
            .attr(id_schema())
            .attr(AttrSchema::computed("operational_state", AttrType::String))
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.Network/applicationGateways/NAME")
            .typical_create_secs(600.0)
    }

    fn arm_type(&self) -> &'static str {
        ARM_TYPE
    }

    fn api_version(&self) -> &'static str {
        "2025-03-01"
    }

    fn body(&self, ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        let gw = self.id(ctx, config)?;
        let sku = Block {
            value: config
                .get("sku")
                .map(Value::expose)
                .ok_or_else(|| invalid(TYPE, "`sku` is required"))?,
            at: "sku".to_string(),
        };
        let mut properties = Properties {
            sku: Sku {
                name: sku.required("name")?.to_string(),
                tier: sku.required("tier")?.to_string(),
                capacity: sku.whole("capacity")?,
            },
            enable_http2: Some(flag(config, "enable_http2").unwrap_or(false)),
            ..Default::default()
        };
        for b in each(config, "gateway_ip_configuration") {
            properties.gateway_ip_configurations.push(Named {
                name: b.required("name")?.to_string(),
                properties: GatewayIpConfiguration {
                    subnet: Some(IdRef {
                        id: b.required("subnet_id")?.to_string(),
                    }),
                },
            });
        }
        for b in each(config, "frontend_port") {
            properties.frontend_ports.push(Named {
                name: b.required("name")?.to_string(),
                properties: FrontendPort {
                    port: b
                        .whole("port")?
                        .ok_or_else(|| invalid(TYPE, format!("`{}.port` is required", b.at)))?,
                },
            });
        }
        for b in each(config, "frontend_ip_configuration") {
            let id = |field| b.text(field).map(|id| IdRef { id: id.to_string() });
            properties.frontend_ip_configurations.push(Named {
                name: b.required("name")?.to_string(),
                properties: FrontendIpConfiguration {
                    public_ip_address: id("public_ip_address_id"),
                    subnet: id("subnet_id"),
                    private_ip_address: b.text("private_ip_address").map(String::from),
                    private_ip_allocation_method: b
                        .text("private_ip_address_allocation")
                        .map(String::from),
                },
            });
        }
        for b in each(config, "backend_address_pool") {
            let fqdns = b.strings("fqdns").into_iter().map(|f| BackendAddress {
                fqdn: Some(f),
                ip_address: None,
            });
            let ips = b
                .strings("ip_addresses")
                .into_iter()
                .map(|ip| BackendAddress {
                    fqdn: None,
                    ip_address: Some(ip),
                });
            properties.backend_address_pools.push(Named {
                name: b.required("name")?.to_string(),
                properties: BackendAddressPool {
                    backend_addresses: fqdns.chain(ips).collect(),
                },
            });
        }
        for b in each(config, "backend_http_settings") {
            properties.backend_http_settings_collection.push(Named {
                name: b.required("name")?.to_string(),
                properties: BackendHttpSettings {
                    port: b
                        .whole("port")?
                        .ok_or_else(|| invalid(TYPE, format!("`{}.port` is required", b.at)))?,
                    protocol: b.required("protocol")?.to_string(),
                    cookie_based_affinity: b.required("cookie_based_affinity")?.to_string(),
                    request_timeout: Some(b.whole("request_timeout")?.unwrap_or(REQUEST_TIMEOUT)),
                    path: b.text("path").map(String::from),
                    host_name: b.text("host_name").map(String::from),
                    pick_host_name_from_backend_address: Some(
                        b.flag("pick_host_name_from_backend_address")
                            .unwrap_or(false),
                    ),
                },
            });
        }
        for b in each(config, "http_listener") {
            properties.http_listeners.push(Named {
                name: b.required("name")?.to_string(),
                properties: HttpListener {
                    frontend_ip_configuration: part_id(
                        &gw,
                        "frontendIPConfigurations",
                        b.required("frontend_ip_configuration_name")?,
                    ),
                    frontend_port: part_id(&gw, "frontendPorts", b.required("frontend_port_name")?),
                    protocol: b.required("protocol")?.to_string(),
                    host_name: b.text("host_name").map(String::from),
                },
            });
        }
        for b in each(config, "request_routing_rule") {
            properties.request_routing_rules.push(Named {
                name: b.required("name")?.to_string(),
                properties: RequestRoutingRule {
                    rule_type: b.required("rule_type")?.to_string(),
                    priority: b.whole("priority")?,
                    http_listener: part_id(&gw, "httpListeners", b.required("http_listener_name")?),
                    backend_address_pool: b
                        .text("backend_address_pool_name")
                        .map(|n| part_id(&gw, "backendAddressPools", n)),
                    backend_http_settings: b
                        .text("backend_http_settings_name")
                        .map(|n| part_id(&gw, "backendHttpSettingsCollection", n)),
                },
            });
        }
        to_json(
            TYPE,
            &Gateway {
                location: location(ctx, TYPE, config)?,
                tags: tags(config),
                zones: strings(config, "zones"),
                properties,
                ..Default::default()
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let gw: Gateway = parse(TYPE, resource)?;
        let group = id_part(&gw.id, "resourceGroups").unwrap_or_default();
        let p = gw.properties;
        let num = |n: i64| Value::Number(n as f64);
        let id_text = |r: Option<IdRef>| r.map(|r| Value::string(r.id)).unwrap_or(Value::Null);

        let sku = map(vec![
            ("name", Value::string(&p.sku.name)),
            ("tier", Value::string(&p.sku.tier)),
            ("capacity", p.sku.capacity.map(num).unwrap_or(Value::Null)),
        ]);
        let gateway_ip = p
            .gateway_ip_configurations
            .into_iter()
            .map(|c| {
                map(vec![
                    ("name", Value::string(c.name)),
                    ("subnet_id", id_text(c.properties.subnet)),
                ])
            })
            .collect();
        let ports = p
            .frontend_ports
            .into_iter()
            .map(|c| {
                map(vec![
                    ("name", Value::string(c.name)),
                    ("port", num(c.properties.port)),
                ])
            })
            .collect();
        let frontends = p
            .frontend_ip_configurations
            .into_iter()
            .map(|c| {
                map(vec![
                    ("name", Value::string(c.name)),
                    (
                        "public_ip_address_id",
                        id_text(c.properties.public_ip_address),
                    ),
                    ("subnet_id", id_text(c.properties.subnet)),
                    (
                        "private_ip_address",
                        opt_text(c.properties.private_ip_address),
                    ),
                    (
                        "private_ip_address_allocation",
                        opt_text(c.properties.private_ip_allocation_method),
                    ),
                ])
            })
            .collect();
        let pools = p
            .backend_address_pools
            .into_iter()
            .map(|c| {
                let (fqdns, ips): (Vec<_>, Vec<_>) = c
                    .properties
                    .backend_addresses
                    .into_iter()
                    .partition(|a| a.fqdn.is_some());
                map(vec![
                    ("name", Value::string(c.name)),
                    (
                        "fqdns",
                        string_list(&fqdns.into_iter().filter_map(|a| a.fqdn).collect::<Vec<_>>()),
                    ),
                    (
                        "ip_addresses",
                        string_list(
                            &ips.into_iter()
                                .filter_map(|a| a.ip_address)
                                .collect::<Vec<_>>(),
                        ),
                    ),
                ])
            })
            .collect();
        let settings = p
            .backend_http_settings_collection
            .into_iter()
            .map(|c| {
                let s = c.properties;
                map(vec![
                    ("name", Value::string(c.name)),
                    (
                        "cookie_based_affinity",
                        Value::string(s.cookie_based_affinity),
                    ),
                    ("port", num(s.port)),
                    ("protocol", Value::string(s.protocol)),
                    (
                        "request_timeout",
                        num(s.request_timeout.unwrap_or(REQUEST_TIMEOUT)),
                    ),
                    ("path", opt_text(s.path)),
                    ("host_name", opt_text(s.host_name)),
                    (
                        "pick_host_name_from_backend_address",
                        Value::Bool(s.pick_host_name_from_backend_address.unwrap_or(false)),
                    ),
                ])
            })
            .collect();
        let listeners = p
            .http_listeners
            .into_iter()
            .map(|c| {
                let l = c.properties;
                map(vec![
                    ("name", Value::string(c.name)),
                    (
                        "frontend_ip_configuration_name",
                        part_name(&l.frontend_ip_configuration),
                    ),
                    ("frontend_port_name", part_name(&l.frontend_port)),
                    ("protocol", Value::string(l.protocol)),
                    ("host_name", opt_text(l.host_name)),
                ])
            })
            .collect();
        let rules = p
            .request_routing_rules
            .into_iter()
            .map(|c| {
                let r = c.properties;
                let name_of = |id: Option<IdRef>| id.map(|i| part_name(&i)).unwrap_or(Value::Null);
                map(vec![
                    ("name", Value::string(c.name)),
                    ("rule_type", Value::string(r.rule_type)),
                    ("http_listener_name", part_name(&r.http_listener)),
                    ("backend_address_pool_name", name_of(r.backend_address_pool)),
                    (
                        "backend_http_settings_name",
                        name_of(r.backend_http_settings),
                    ),
                    ("priority", r.priority.map(num).unwrap_or(Value::Null)),
                ])
            })
            .collect();
        // `sku` is one block: shaped like the lists, with the prior's one block.
        let sku = match prior.get("sku").map(Value::expose) {
            Some(Value::Map(before)) => Value::Map(
                sku.into_iter()
                    .filter(|(k, _)| before.get(k).is_some_and(|v| *v != Value::Null))
                    .collect(),
            ),
            _ => Value::Map(sku),
        };
        Ok(Value::Map(BTreeMap::from([
            ("id".to_string(), Value::string(&gw.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &gw.name, same_ignoring_case),
            ),
            (
                "resource_group_name".to_string(),
                as_prior(prior, "resource_group_name", group, same_ignoring_case),
            ),
            (
                "location".to_string(),
                as_prior(prior, "location", &gw.location, same_location),
            ),
            ("sku".to_string(), sku),
            (
                "gateway_ip_configuration".to_string(),
                shaped(gateway_ip, prior, "gateway_ip_configuration"),
            ),
            (
                "frontend_port".to_string(),
                shaped(ports, prior, "frontend_port"),
            ),
            (
                "frontend_ip_configuration".to_string(),
                shaped(frontends, prior, "frontend_ip_configuration"),
            ),
            (
                "backend_address_pool".to_string(),
                shaped(pools, prior, "backend_address_pool"),
            ),
            (
                "backend_http_settings".to_string(),
                shaped(settings, prior, "backend_http_settings"),
            ),
            (
                "http_listener".to_string(),
                shaped(listeners, prior, "http_listener"),
            ),
            (
                "request_routing_rule".to_string(),
                shaped(rules, prior, "request_routing_rule"),
            ),
            (
                "enable_http2".to_string(),
                Value::Bool(p.enable_http2.unwrap_or(false)),
            ),
            ("zones".to_string(), string_list(&gw.zones)),
            ("tags".to_string(), tags_value(&gw.tags)),
            (
                "operational_state".to_string(),
                opt_text(p.operational_state),
            ),
        ])))
    }
}
