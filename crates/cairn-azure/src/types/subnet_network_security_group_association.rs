//! `azurerm_subnet_network_security_group_association`: which security group filters a
//! subnet's traffic. It is not an ARM resource but a property of the subnet
//! (`properties.networkSecurityGroup.id`), so this type implements [`Resource`] itself: create
//! and delete are a GET and a PUT of the whole subnet, its id is the subnet's id, and a refresh
//! lists the subnets of each virtual network once.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde_json::Value as Json;

use super::{
    Ctx, PROVIDER, Resource, as_prior, collection, id_schema, required, same_ignoring_case,
};

pub struct SubnetNsgAssociation;

const TYPE: &str = "azurerm_subnet_network_security_group_association";
/// The subnet type and version, as `azurerm_subnet` uses them.
const SUBNET_TYPE: &str = "Microsoft.Network/virtualNetworks/subnets";
const SUBNET_API: &str = "2025-03-01";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The security group a subnet (as ARM shows it) points at.
fn linked_nsg(subnet: &Json) -> Option<&str> {
    subnet
        .get("properties")?
        .get("networkSecurityGroup")?
        .get("id")?
        .as_str()
}

fn attributes(subnet_id: &str, nsg_id: &str, prior: &Value) -> Value {
    Value::Map(BTreeMap::from([
        (
            "id".to_string(),
            as_prior(prior, "subnet_id", subnet_id, same_ignoring_case),
        ),
        (
            "subnet_id".to_string(),
            as_prior(prior, "subnet_id", subnet_id, same_ignoring_case),
        ),
        (
            "network_security_group_id".to_string(),
            as_prior(
                prior,
                "network_security_group_id",
                nsg_id,
                same_ignoring_case,
            ),
        ),
    ]))
}

/// Points the subnet at `nsg_id` (`None`: at none) with a PUT of the subnet as ARM shows it,
/// so that everything else about it (prefixes, delegations, NAT gateway) stays as it is.
async fn link(
    ctx: &Ctx<'_>,
    mut subnet: Json,
    subnet_id: &str,
    nsg_id: Option<&str>,
    limit: Duration,
) -> Result<Json, ProviderError> {
    let Some(properties) = subnet.get_mut("properties").and_then(Json::as_object_mut) else {
        return Err(ProviderError::new(
            ErrorKind::Other,
            format!("{TYPE}: ARM showed subnet {subnet_id} without properties"),
        ));
    };
    match nsg_id {
        Some(id) => {
            properties.insert(
                "networkSecurityGroup".to_string(),
                serde_json::json!({ "id": id }),
            );
        }
        None => {
            properties.remove("networkSecurityGroup");
        }
    }
    // The state ARM reports is not something a client writes.
    properties.remove("provisioningState");
    Ok(ctx
        .arm
        .put(subnet_id, SUBNET_API, &subnet, limit, SUBNET_TYPE)
        .await?)
}

#[async_trait]
impl Resource for SubnetNsgAssociation {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("Links a network security group to a subnet")
            .attr(AttrSchema::required("subnet_id", AttrType::String).force_new())
            .attr(AttrSchema::required("network_security_group_id", AttrType::String).force_new())
            .attr(id_schema())
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.Network/virtualNetworks/NETWORK/subnets/SUBNET")
            .typical_create_secs(5.0)
    }

    async fn read(
        &self,
        ctx: &Ctx<'_>,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        // One list of subnets per virtual network, whatever the number of associations in it.
        let mut wanted: BTreeMap<String, Vec<(&ReadItem, String)>> = BTreeMap::new();
        for item in items {
            let subnet_id = match &item.id {
                Some(id) => id.clone(),
                None => match required(TYPE, &item.prior, "subnet_id") {
                    Ok(id) => id.to_string(),
                    Err(_) => continue,
                },
            };
            wanted
                .entry(collection(&subnet_id).to_ascii_lowercase())
                .or_default()
                .push((item, subnet_id));
        }
        let mut found = BTreeMap::new();
        for (_, members) in wanted {
            let path = collection(&members[0].1).to_string();
            let subnets = ctx.arm.list(&path, SUBNET_API, SUBNET_TYPE).await?;
            let by_id: BTreeMap<String, &Json> = subnets
                .iter()
                .filter_map(|s| Some((s.get("id")?.as_str()?.to_ascii_lowercase(), s)))
                .collect();
            for (item, subnet_id) in members {
                // A subnet without a security group has no association: it was removed.
                let Some((subnet, nsg)) = by_id
                    .get(&subnet_id.to_ascii_lowercase())
                    .and_then(|s| Some((*s, linked_nsg(s)?)))
                else {
                    continue;
                };
                let live_id = subnet
                    .get("id")
                    .and_then(Json::as_str)
                    .unwrap_or(&subnet_id);
                found.insert(
                    item.address.clone(),
                    ReadResult {
                        id: live_id.to_string(),
                        attributes: attributes(live_id, nsg, &item.prior),
                    },
                );
            }
        }
        Ok(found)
    }

    async fn create(
        &self,
        ctx: &Ctx<'_>,
        req: &CreateRequest,
    ) -> Result<ReadResult, ProviderError> {
        let subnet_id = required(TYPE, &req.config, "subnet_id")?;
        let nsg_id = required(TYPE, &req.config, "network_security_group_id")?;
        let subnet = ctx
            .arm
            .get(subnet_id, SUBNET_API, SUBNET_TYPE)
            .await?
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::NotFound,
                    format!("{TYPE}: subnet {subnet_id} does not exist"),
                )
            })?;
        // As azurerm does: a subnet that already has a group is someone's association; taking
        // it over silently would hide that from the other owner.
        if let Some(existing) = linked_nsg(&subnet) {
            return Err(ProviderError::new(
                ErrorKind::Conflict,
                format!(
                    "subnet {subnet_id} is already associated with network security group {existing}; to manage the association with cairn, import it: cairn import {} {subnet_id}",
                    req.address
                ),
            ));
        }
        let limit = req.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let after = link(ctx, subnet, subnet_id, Some(nsg_id), limit).await?;
        let live = linked_nsg(&after).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Other,
                format!(
                    "{TYPE}: ARM accepted the subnet {subnet_id} but shows no security group on it"
                ),
            )
        })?;
        Ok(ReadResult {
            id: subnet_id.to_string(),
            attributes: attributes(subnet_id, live, &req.config),
        })
    }

    async fn update(&self, ctx: &Ctx<'_>, req: &UpdateRequest) -> Result<Value, ProviderError> {
        // Both attributes force a replacement, so the engine does not call this; should it,
        // pointing the subnet at the configured group is what the configuration means.
        let nsg_id = required(TYPE, &req.config, "network_security_group_id")?;
        let subnet = ctx
            .arm
            .get(&req.id, SUBNET_API, SUBNET_TYPE)
            .await?
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::NotFound,
                    format!("{TYPE}: subnet {} does not exist", req.id),
                )
            })?;
        let limit = req.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let after = link(ctx, subnet, &req.id, Some(nsg_id), limit).await?;
        Ok(attributes(
            &req.id,
            linked_nsg(&after).unwrap_or(nsg_id),
            &req.config,
        ))
    }

    async fn delete(&self, ctx: &Ctx<'_>, req: &DeleteRequest) -> Result<(), ProviderError> {
        // A subnet already gone, or already without a group, has nothing left to remove.
        let Some(subnet) = ctx.arm.get(&req.id, SUBNET_API, SUBNET_TYPE).await? else {
            return Ok(());
        };
        if linked_nsg(&subnet).is_none() {
            return Ok(());
        }
        let limit = req.timeout.unwrap_or(DEFAULT_TIMEOUT);
        link(ctx, subnet, &req.id, None, limit).await?;
        Ok(())
    }
}
