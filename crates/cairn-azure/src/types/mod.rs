//! The azurerm resource types, one module each. Most are a plain ARM resource: an id made from
//! the configuration, a request body, attributes read back from ARM's answer. Those implement
//! [`ArmBody`] and get read (one list per collection), create, update and delete from
//! [`Arm`]'s generic [`Resource`] implementation. A type that is not a resource of its own in
//! ARM (the subnet–NSG association, a property of the subnet) implements [`Resource`] itself.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde_json::Value as Json;

use crate::arm::Arm;
use crate::errors::invalid;

pub mod application_gateway;
pub mod block;
pub mod choices;
pub mod key_vault;
pub mod kubernetes_cluster;
pub mod kubernetes_cluster_node_pool;
pub mod log_analytics_workspace;
pub mod nat_gateway;
pub mod network_security_group;
pub mod network_security_rule;
pub mod postgresql_flexible_server;
pub mod postgresql_flexible_server_database;
pub mod postgresql_flexible_server_firewall_rule;
pub mod public_ip;
pub mod redis_cache;
pub mod resource_group;
pub mod storage_account;
pub mod storage_container;
pub mod subnet;
pub mod subnet_network_security_group_association;
pub mod virtual_network;

pub const PROVIDER: &str = "azure";

/// What every request of one provider instance shares.
pub struct Ctx<'a> {
    pub arm: &'a Arm,
    pub subscription: &'a str,
    /// The provider block's `location`, for resources that name none.
    pub location: Option<&'a str>,
}

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync {
    fn schema(&self) -> Schema;
    /// The instances of `items` that exist, by address.
    async fn read(
        &self,
        ctx: &Ctx<'_>,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError>;
    async fn create(&self, ctx: &Ctx<'_>, req: &CreateRequest)
    -> Result<ReadResult, ProviderError>;
    async fn update(&self, ctx: &Ctx<'_>, req: &UpdateRequest) -> Result<Value, ProviderError>;
    async fn delete(&self, ctx: &Ctx<'_>, req: &DeleteRequest) -> Result<(), ProviderError>;
}

/// A type that is one ARM resource: how its id, body and attributes are made. The request and
/// response bodies are each type's own serde structs, at the type's pinned api-version.
pub trait ArmBody: Send + Sync {
    fn schema(&self) -> Schema;
    /// `Microsoft.Network/virtualNetworks`, for call counts and messages.
    fn arm_type(&self) -> &'static str;
    fn api_version(&self) -> &'static str;
    /// The ARM id, from the configuration: known before the resource exists, so a create that
    /// crashed before its id reached state is found again by it. By default a resource of a
    /// resource group: `/subscriptions/S/resourceGroups/G/providers/{arm_type}/{name}`.
    fn id(&self, ctx: &Ctx<'_>, config: &Value) -> Result<String, ProviderError> {
        let type_name = self.schema().type_name;
        Ok(provider_id(
            ctx.subscription,
            required(type_name, config, "resource_group_name")?,
            self.arm_type(),
            required(type_name, config, "name")?,
        ))
    }
    /// The PUT body.
    fn body(&self, ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError>;
    /// The attributes of a resource as ARM shows it. `prior` is the last known configuration
    /// or state, for spellings ARM normalises (`East US` → `eastus`).
    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError>;
    /// Members of the live resource that a PUT must carry over because other cairn resources
    /// manage them (a virtual network's `properties.subnets`): a PUT without them would delete
    /// them.
    fn preserve(&self) -> &'static [&'static str] {
        &[]
    }
    /// Whether an update must read the live resource first, for [`ArmBody::carry_over`]. By
    /// default when there are [`ArmBody::preserve`] members: other types update with one PUT.
    fn reads_live_on_update(&self) -> bool {
        !self.preserve().is_empty()
    }
    /// Adds to an update's PUT body what the live resource has and other resources manage. By
    /// default the [`ArmBody::preserve`] members.
    fn carry_over(&self, body: &mut Json, live: &Json) {
        for path in self.preserve() {
            if let Some(value) = pointer(live, path) {
                set_pointer(body, path, value.clone());
            }
        }
    }
    /// The PATCH body of an update, for types whose PUT on an existing object may recreate it
    /// (a Redis cache, losing its data). `None` (the default): updates PUT the whole body.
    fn patch_body(&self, _ctx: &Ctx<'_>, _config: &Value) -> Result<Option<Json>, ProviderError> {
        Ok(None)
    }
    /// How long a create, update or delete may take when `timeouts:` does not say.
    fn default_timeout(&self) -> Duration {
        Duration::from_secs(30 * 60)
    }
}

/// Every type, each behind [`Resource`].
pub fn resources() -> Vec<Box<dyn Resource>> {
    vec![
        arm(resource_group::ResourceGroup),
        arm(virtual_network::VirtualNetwork),
        arm(subnet::Subnet),
        arm(network_security_group::NetworkSecurityGroup),
        arm(network_security_rule::NetworkSecurityRule),
        arm(public_ip::PublicIp),
        arm(nat_gateway::NatGateway),
        Box::new(subnet_network_security_group_association::SubnetNsgAssociation),
        arm(application_gateway::ApplicationGateway),
        arm(kubernetes_cluster::KubernetesCluster),
        arm(kubernetes_cluster_node_pool::KubernetesClusterNodePool),
        arm(postgresql_flexible_server::PostgresqlFlexibleServer),
        arm(postgresql_flexible_server_database::PostgresqlFlexibleServerDatabase),
        arm(postgresql_flexible_server_firewall_rule::PostgresqlFlexibleServerFirewallRule),
        arm(storage_account::StorageAccount),
        arm(storage_container::StorageContainer),
        arm(key_vault::KeyVault),
        arm(log_analytics_workspace::LogAnalyticsWorkspace),
        arm(redis_cache::RedisCache),
    ]
}

fn arm<T: ArmBody + 'static>(body: T) -> Box<dyn Resource> {
    Box::new(Generic(body))
}

/// [`Resource`] for every [`ArmBody`].
pub struct Generic<T>(pub T);

/// The collection an id lives in: the id without its last `/name`. Listing it returns the
/// resource and its siblings (a resource group's virtual networks, a network's subnets).
pub fn collection(id: &str) -> &str {
    id.rsplit_once('/').map(|(c, _)| c).unwrap_or(id)
}

#[async_trait]
impl<T: ArmBody> Resource for Generic<T> {
    fn schema(&self) -> Schema {
        self.0.schema()
    }

    async fn read(
        &self,
        ctx: &Ctx<'_>,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        // An intent without an id (a create that may have happened) is looked for by the id
        // its configuration gives.
        let mut wanted: BTreeMap<String, Vec<(&ReadItem, String)>> = BTreeMap::new();
        for item in items {
            let id = match &item.id {
                Some(id) => id.clone(),
                None => match self.0.id(ctx, &item.prior) {
                    Ok(id) => id,
                    Err(_) => continue,
                },
            };
            wanted
                .entry(collection(&id).to_ascii_lowercase())
                .or_default()
                .push((item, id));
        }
        let mut found = BTreeMap::new();
        for (_, members) in wanted {
            let path = collection(&members[0].1).to_string();
            let listed = ctx
                .arm
                .list(&path, self.0.api_version(), self.0.arm_type())
                .await?;
            let by_id: BTreeMap<String, &Json> = listed
                .iter()
                .filter_map(|r| Some((r.get("id")?.as_str()?.to_ascii_lowercase(), r)))
                .collect();
            for (item, id) in members {
                if let Some(resource) = by_id.get(&id.to_ascii_lowercase()) {
                    found.insert(
                        item.address.clone(),
                        ReadResult {
                            id: resource_id(resource).unwrap_or(id),
                            attributes: self.0.attributes(resource, &item.prior)?,
                        },
                    );
                }
            }
        }
        Ok(found)
    }

    async fn create(
        &self,
        ctx: &Ctx<'_>,
        req: &CreateRequest,
    ) -> Result<ReadResult, ProviderError> {
        let id = self.0.id(ctx, &req.config)?;
        let (api, call) = (self.0.api_version(), self.0.arm_type());
        // A PUT would silently take over an object someone else made: Terraform's azurerm
        // refuses too, and asks for an import.
        if ctx.arm.get(&id, api, call).await?.is_some() {
            return Err(ProviderError::new(
                ErrorKind::Conflict,
                format!(
                    "{} {id} already exists; to manage it with cairn, import it: cairn import {} {id}",
                    self.0.arm_type(),
                    req.address
                ),
            ));
        }
        let body = self.0.body(ctx, &req.config)?;
        let limit = req.timeout.unwrap_or_else(|| self.0.default_timeout());
        let resource = ctx.arm.put(&id, api, &body, limit, call).await?;
        Ok(ReadResult {
            id: resource_id(&resource).unwrap_or(id),
            attributes: self.0.attributes(&resource, &req.config)?,
        })
    }

    async fn update(&self, ctx: &Ctx<'_>, req: &UpdateRequest) -> Result<Value, ProviderError> {
        let (api, call) = (self.0.api_version(), self.0.arm_type());
        let limit = req.timeout.unwrap_or_else(|| self.0.default_timeout());
        let resource = match self.0.patch_body(ctx, &req.config)? {
            Some(patch) => ctx.arm.patch(&req.id, api, &patch, limit, call).await?,
            None => {
                let mut body = self.0.body(ctx, &req.config)?;
                if self.0.reads_live_on_update()
                    && let Some(live) = ctx.arm.get(&req.id, api, call).await?
                {
                    self.0.carry_over(&mut body, &live);
                }
                ctx.arm.put(&req.id, api, &body, limit, call).await?
            }
        };
        self.0.attributes(&resource, &req.config)
    }

    async fn delete(&self, ctx: &Ctx<'_>, req: &DeleteRequest) -> Result<(), ProviderError> {
        let limit = req.timeout.unwrap_or_else(|| self.0.default_timeout());
        ctx.arm
            .delete(&req.id, self.0.api_version(), limit, self.0.arm_type())
            .await?;
        Ok(())
    }
}

pub fn resource_id(resource: &Json) -> Option<String> {
    resource.get("id")?.as_str().map(String::from)
}

fn pointer<'a>(json: &'a Json, dotted: &str) -> Option<&'a Json> {
    dotted.split('.').try_fold(json, |j, key| j.get(key))
}

fn set_pointer(json: &mut Json, dotted: &str, value: Json) {
    let mut keys = dotted.split('.').peekable();
    let mut here = json;
    while let Some(key) = keys.next() {
        if !here.is_object() {
            *here = Json::Object(Default::default());
        }
        let Json::Object(map) = here else { return };
        if keys.peek().is_none() {
            map.insert(key.to_string(), value);
            return;
        }
        here = map.entry(key.to_string()).or_insert(Json::Null);
    }
}

// ---- Ids ----

pub fn resource_group_id(subscription: &str, group: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/{group}")
}

/// `/subscriptions/S/resourceGroups/G/providers/Microsoft.Network/virtualNetworks/NAME`.
pub fn provider_id(subscription: &str, group: &str, arm_type: &str, name: &str) -> String {
    format!(
        "{}/providers/{arm_type}/{name}",
        resource_group_id(subscription, group)
    )
}

/// The value after `segment` in an id (`resourceGroups` → the group's name), any case.
pub fn id_part<'a>(id: &'a str, segment: &str) -> Option<&'a str> {
    let mut parts = id.split('/');
    while let Some(part) = parts.next() {
        if part.eq_ignore_ascii_case(segment) {
            return parts.next();
        }
    }
    None
}

// ---- Configuration values ----

pub fn text<'a>(config: &'a Value, name: &str) -> Option<&'a str> {
    config.get(name).map(Value::expose).and_then(Value::as_str)
}

pub fn required<'a>(
    resource_type: &str,
    config: &'a Value,
    name: &str,
) -> Result<&'a str, ProviderError> {
    text(config, name).ok_or_else(|| invalid(resource_type, format!("`{name}` is required")))
}

pub fn strings(config: &Value, name: &str) -> Vec<String> {
    config
        .get(name)
        .and_then(Value::as_list)
        .map(|l| {
            l.iter()
                .filter_map(|v| v.expose().as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub fn flag(config: &Value, name: &str) -> Option<bool> {
    config.get(name).map(Value::expose).and_then(Value::as_bool)
}

pub fn number(config: &Value, name: &str) -> Option<f64> {
    config.get(name).map(Value::expose).and_then(Value::as_f64)
}

pub fn tags(config: &Value) -> BTreeMap<String, String> {
    config
        .get("tags")
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.expose().as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

pub fn tags_value(tags: &BTreeMap<String, String>) -> Value {
    Value::Map(
        tags.iter()
            .map(|(k, v)| (k.clone(), Value::string(v)))
            .collect(),
    )
}

pub fn string_list(items: &[String]) -> Value {
    Value::List(items.iter().map(Value::string).collect())
}

/// ARM's spelling of a region: `East US` → `eastus`.
pub fn normalize_location(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The location a resource goes to: its own, else the provider block's.
pub fn location(
    ctx: &Ctx<'_>,
    resource_type: &str,
    config: &Value,
) -> Result<String, ProviderError> {
    text(config, "location")
        .map(normalize_location)
        .or_else(|| ctx.location.map(String::from))
        .ok_or_else(|| {
            invalid(
                resource_type,
                "`location` is required: set it on the resource or as `location:` in the `azure` provider block",
            )
        })
}

/// What ARM says, in the prior's spelling when the two mean the same (ARM lower-cases regions
/// and may change the case of names in ids): a plan never shows `East US` → `eastus`.
pub fn as_prior(prior: &Value, name: &str, live: &str, same: fn(&str, &str) -> bool) -> Value {
    match text(prior, name) {
        Some(p) if same(p, live) => Value::string(p),
        _ => Value::string(live),
    }
}

pub fn same_location(a: &str, b: &str) -> bool {
    normalize_location(a) == normalize_location(b)
}

pub fn same_ignoring_case(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

// ---- Schema pieces every type shares ----

pub fn name_schema() -> AttrSchema {
    AttrSchema::required("name", AttrType::String).force_new()
}

pub fn resource_group_name_schema() -> AttrSchema {
    AttrSchema::required("resource_group_name", AttrType::String).force_new()
}

pub fn location_schema() -> AttrSchema {
    AttrSchema::optional_computed("location", AttrType::String)
        .force_new()
        .describe("the region; default: the provider block's `location`")
}

pub fn tags_schema() -> AttrSchema {
    AttrSchema::optional("tags", AttrType::Map(Box::new(AttrType::String)))
}

pub fn id_schema() -> AttrSchema {
    AttrSchema::computed("id", AttrType::String)
}

/// The envelope every tracked ARM resource has: `id`, `name`, `location`, `tags`.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Tracked<P> {
    #[serde(default, skip_serializing)]
    pub id: String,
    #[serde(default, skip_serializing)]
    pub name: String,
    pub location: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    pub properties: P,
}

/// The envelope of a child resource (a subnet, a security rule): no location, no tags.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Child<P> {
    #[serde(default, skip_serializing)]
    pub id: String,
    #[serde(default, skip_serializing)]
    pub name: String,
    pub properties: P,
}

/// Reads ARM's answer into a type's struct.
pub fn parse<T: serde::de::DeserializeOwned>(
    resource_type: &str,
    json: &Json,
) -> Result<T, ProviderError> {
    serde_json::from_value(json.clone()).map_err(|e| {
        ProviderError::new(
            ErrorKind::Other,
            format!("{resource_type}: unexpected answer from ARM: {e}"),
        )
    })
}

/// Writes a type's struct as a request body.
pub fn to_json<T: serde::Serialize>(resource_type: &str, body: &T) -> Result<Json, ProviderError> {
    serde_json::to_value(body).map_err(|e| invalid(resource_type, e))
}

/// An `{ "id": ... }` reference to another resource, as ARM bodies nest them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdRef {
    pub id: String,
}
