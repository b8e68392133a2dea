//! `aws_vpc_endpoint`: private access from a VPC to an AWS service, either a Gateway endpoint
//! (S3, DynamoDB: a prefix-list route in `route_table_ids`) or an Interface endpoint (network
//! interfaces in `subnet_ids` behind `security_group_ids`). Route tables, subnets and security
//! groups change in place with ModifyVpcEndpoint; create and delete wait for AWS's state
//! machine. Refresh is one DescribeVpcEndpoints per chunk of ids plus one DescribePrefixLists for
//! the gateway endpoints' prefix lists. Import id: `vpce-…`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{ResourceType, VpcEndpoint, VpcEndpointType};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{
    Attrs, arn_schema, flag, id_schema, required, string_list, tags_schema, tags_value, text,
};
use crate::config::Clients;
use crate::ec2::{self, batched, filter, tag_pairs, tag_spec};
use crate::errors::{classify, invalid, sdk_error};
use crate::paginate::all_pages;
use crate::wait::{Check, Wait};

pub struct Endpoint;

const TYPE: &str = "aws_vpc_endpoint";
const ID_FILTER: &str = "vpc-endpoint-id";

/// Terraform waits 10 minutes for an endpoint to become available or go away.
const WAIT_LIMIT: Duration = Duration::from_secs(600);

const SETS: [&str; 3] = ["route_table_ids", "subnet_ids", "security_group_ids"];

fn id_list() -> AttrType {
    AttrType::List(Box::new(AttrType::String))
}

#[async_trait]
impl Resource for Endpoint {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A VPC endpoint: private access from a VPC to an AWS service")
            .attr(AttrSchema::required("vpc_id", AttrType::String).force_new())
            .attr(
                AttrSchema::required("service_name", AttrType::String)
                    .force_new()
                    .describe("Such as com.amazonaws.us-east-1.s3"),
            )
            .attr(
                AttrSchema::optional("vpc_endpoint_type", AttrType::String)
                    .default("Gateway")
                    .force_new()
                    .describe("Gateway or Interface"),
            )
            .attr(
                AttrSchema::optional_computed("route_table_ids", id_list())
                    .describe("Gateway endpoints: the route tables that get the service's route"),
            )
            .attr(
                AttrSchema::optional_computed("subnet_ids", id_list())
                    .describe("Interface endpoints: one network interface per subnet"),
            )
            .attr(
                AttrSchema::optional_computed("security_group_ids", id_list())
                    .describe("Interface endpoints: groups of the network interfaces"),
            )
            .attr(
                AttrSchema::optional("private_dns_enabled", AttrType::Bool)
                    .default(false)
                    .describe("Interface endpoints: resolve the service's public name privately"),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed("state", AttrType::String))
            .attr(
                AttrSchema::computed("prefix_list_id", AttrType::String)
                    .describe("Gateway endpoints: the service's prefix list, for security rules"),
            )
            .attr(AttrSchema::computed("cidr_blocks", id_list()))
            .attr(AttrSchema::computed("network_interface_ids", id_list()))
            .attr(AttrSchema::computed("owner_id", AttrType::String))
            .typical_create_secs(30.0)
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let endpoints = batched(
            items,
            ID_FILTER,
            |f| async move {
                // moto 5.2 does not implement the `vpc-endpoint-id` filter (AWS does): ask by
                // ids instead, which AWS and moto both answer.
                if f.name() == Some(ID_FILTER) {
                    by_ids(aws, f.values().to_vec()).await
                } else {
                    describe(aws, Some(f), Vec::new()).await
                }
            },
            |e| e.vpc_endpoint_id(),
            |e| e.tags(),
        )
        .await?;
        // AWS keeps listing a deleted endpoint for a while.
        let endpoints: BTreeMap<String, VpcEndpoint> = endpoints
            .into_iter()
            .filter(|(_, e)| !in_state(e, &["deleted"]))
            .collect();
        let prefix_lists = prefix_lists(aws, &endpoints).await?;
        let priors: BTreeMap<&str, &Value> = items
            .iter()
            .map(|i| (i.address.as_str(), &i.prior))
            .collect();
        let mut found = BTreeMap::new();
        for (address, e) in endpoints {
            let Some(id) = e.vpc_endpoint_id() else {
                continue;
            };
            let prior = priors
                .get(address.as_str())
                .copied()
                .unwrap_or(&Value::Null);
            let kind = e
                .vpc_endpoint_type()
                .map_or("Gateway", |t| t.as_str())
                .to_string();
            let owner = e.owner_id().unwrap_or_default();
            let groups: Vec<String> = e
                .groups()
                .iter()
                .filter_map(|g| g.group_id().map(str::to_string))
                .collect();
            // moto reports private DNS on for gateway endpoints (it defaults the flag for every
            // type); AWS gateways have no private DNS.
            let private_dns = kind == "Interface" && e.private_dns_enabled().unwrap_or(false);
            let list = e.service_name().and_then(|s| prefix_lists.get(s));
            let attributes = Attrs::new()
                .set("id", id)
                .set("arn", ec2::arn(&aws.region, owner, "vpc-endpoint", id))
                .opt("vpc_id", e.vpc_id())
                .opt("service_name", e.service_name())
                .set("vpc_endpoint_type", kind.as_str())
                .set(
                    "route_table_ids",
                    in_prior_order(e.route_table_ids().to_vec(), prior, SETS[0]),
                )
                .set(
                    "subnet_ids",
                    in_prior_order(e.subnet_ids().to_vec(), prior, SETS[1]),
                )
                .set("security_group_ids", in_prior_order(groups, prior, SETS[2]))
                .set("private_dns_enabled", private_dns)
                .set("tags", tags_value(tag_pairs(e.tags())))
                .opt("state", e.state().map(|s| s.as_str()))
                .opt("prefix_list_id", list.map(|(id, _)| id.as_str()))
                .set(
                    "cidr_blocks",
                    string_list(list.map(|(_, c)| c.clone()).unwrap_or_default()),
                )
                .set(
                    "network_interface_ids",
                    string_list(e.network_interface_ids().to_vec()),
                )
                .set("owner_id", owner)
                .build();
            found.insert(
                address,
                ReadResult {
                    id: id.to_string(),
                    attributes,
                },
            );
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let kind = match text(c, "vpc_endpoint_type").unwrap_or("Gateway") {
            "Gateway" => VpcEndpointType::Gateway,
            "Interface" => VpcEndpointType::Interface,
            other => {
                return Err(invalid(
                    TYPE,
                    format!(
                        "`vpc_endpoint_type` is {other:?}; it must be \"Gateway\" or \"Interface\""
                    ),
                ));
            }
        };
        let mut call = aws
            .ec2
            .create_vpc_endpoint()
            .vpc_id(required(TYPE, c, "vpc_id")?)
            .service_name(required(TYPE, c, "service_name")?)
            .vpc_endpoint_type(kind.clone())
            .set_route_table_ids(non_empty(ids(c, SETS[0])))
            .set_subnet_ids(non_empty(ids(c, SETS[1])))
            .set_security_group_ids(non_empty(ids(c, SETS[2])))
            .client_token(&req.token)
            .tag_specifications(tag_spec(ResourceType::VpcEndpoint, c, &req.address));
        // AWS turns private DNS on by default for interface endpoints; Terraform's default is
        // off. Gateway endpoints reject the parameter.
        if kind == VpcEndpointType::Interface {
            call = call.private_dns_enabled(flag(c, "private_dns_enabled", false));
        }
        let out = call
            .send()
            .await
            .map_err(|e| sdk_error("CreateVpcEndpoint", e))?;
        let id = out
            .vpc_endpoint()
            .and_then(|e| e.vpc_endpoint_id())
            .ok_or_else(|| {
                ProviderError::new(ErrorKind::Other, "CreateVpcEndpoint returned no id")
            })?
            .to_string();
        wait_for(aws, &id, AVAILABLE, req.timeout).await?;
        Ok(id)
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let (c, p) = (&req.config, &req.prior);
        let (rt_add, rt_remove) = delta(p, c, SETS[0]);
        let (sn_add, sn_remove) = delta(p, c, SETS[1]);
        let (sg_add, sg_remove) = delta(p, c, SETS[2]);
        let dns_changed = flag(c, "private_dns_enabled", false)
            != flag(p, "private_dns_enabled", false)
            && text(p, "vpc_endpoint_type") == Some("Interface");
        let any = [
            &rt_add, &rt_remove, &sn_add, &sn_remove, &sg_add, &sg_remove,
        ]
        .iter()
        .any(|l| !l.is_empty());
        if any || dns_changed {
            let mut call = aws
                .ec2
                .modify_vpc_endpoint()
                .vpc_endpoint_id(&req.id)
                .set_add_route_table_ids(non_empty(rt_add))
                .set_remove_route_table_ids(non_empty(rt_remove))
                .set_add_subnet_ids(non_empty(sn_add))
                .set_remove_subnet_ids(non_empty(sn_remove))
                .set_add_security_group_ids(non_empty(sg_add))
                .set_remove_security_group_ids(non_empty(sg_remove));
            if dns_changed {
                call = call.private_dns_enabled(flag(c, "private_dns_enabled", false));
            }
            call.send()
                .await
                .map_err(|e| sdk_error("ModifyVpcEndpoint", e))?;
            wait_for(aws, &req.id, AVAILABLE, req.timeout).await?;
        }
        ec2::sync_tags(&aws.ec2, &req.id, p, c).await
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        match delete_endpoint(aws, &req.id).await {
            // moto 5.2's ModifyVpcEndpoint adds route tables without adding their routes, and
            // its DeleteVpcEndpoints then fails on the missing route (AWS removes the routes it
            // added). Detaching the route tables first lets the delete through.
            Err(e) if e.message.contains("InvalidRoute.NotFound") => {
                aws.ec2
                    .modify_vpc_endpoint()
                    .vpc_endpoint_id(&req.id)
                    .set_remove_route_table_ids(non_empty(ids(&req.prior, SETS[0])))
                    .send()
                    .await
                    .map_err(|e| sdk_error("ModifyVpcEndpoint", e))?;
                delete_endpoint(aws, &req.id).await?;
            }
            other => other?,
        }
        wait_for(aws, &req.id, DELETED, req.timeout).await
    }
}

/// DeleteVpcEndpoints for one endpoint. An endpoint already gone is fine; any other "not
/// found" (a route, a table) is an error about something else, not a sign the endpoint is gone.
async fn delete_endpoint(aws: &Clients, id: &str) -> Result<(), ProviderError> {
    let out = match aws
        .ec2
        .delete_vpc_endpoints()
        .vpc_endpoint_ids(id)
        .send()
        .await
        .map_err(|e| sdk_error("DeleteVpcEndpoints", e))
    {
        Ok(out) => out,
        Err(e) if e.message.contains("InvalidVpcEndpointId.NotFound") => return Ok(()),
        Err(e) if e.kind == ErrorKind::NotFound => {
            return Err(ProviderError::new(ErrorKind::Other, e.message));
        }
        Err(e) => return Err(e),
    };
    // DeleteVpcEndpoints answers 200 and lists per-endpoint failures.
    if let Some(failure) = out.unsuccessful().first() {
        let error = failure.error();
        let code = error.and_then(|e| e.code()).unwrap_or("Unknown");
        let message = error.and_then(|e| e.message()).unwrap_or("no message");
        if code != "InvalidVpcEndpointId.NotFound" {
            let kind = match classify(code, None) {
                ErrorKind::NotFound => ErrorKind::Other,
                kind => kind,
            };
            return Err(ProviderError::new(
                kind,
                format!("DeleteVpcEndpoints: {code}: {message}"),
            ));
        }
    }
    Ok(())
}

/// One page walk of DescribeVpcEndpoints, by filter or by ids.
async fn describe(
    aws: &Clients,
    f: Option<aws_sdk_ec2::types::Filter>,
    ids: Vec<String>,
) -> Result<Vec<VpcEndpoint>, ProviderError> {
    all_pages(|token| {
        let (f, ids) = (f.clone(), ids.clone());
        async move {
            let out = aws
                .ec2
                .describe_vpc_endpoints()
                .set_filters(f.map(|f| vec![f]))
                .set_vpc_endpoint_ids(non_empty(ids))
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeVpcEndpoints", e))?;
            Ok((out.vpc_endpoints.unwrap_or_default(), out.next_token))
        }
    })
    .await
}

/// The endpoints among `ids` that exist. An id list with one unknown id fails the whole call
/// with `InvalidVpcEndpointId.NotFound` naming it: drop the named ids and ask again.
async fn by_ids(aws: &Clients, mut ids: Vec<String>) -> Result<Vec<VpcEndpoint>, ProviderError> {
    while !ids.is_empty() {
        match describe(aws, None, ids.clone()).await {
            Ok(found) => return Ok(found),
            Err(e) if e.kind == ErrorKind::NotFound => {
                let before = ids.len();
                ids.retain(|id| !e.message.contains(id.as_str()));
                if ids.len() == before {
                    // The error named none of them: ask one by one.
                    let mut found = Vec::new();
                    for id in ids {
                        match describe(aws, None, vec![id]).await {
                            Ok(one) => found.extend(one),
                            Err(e) if e.kind == ErrorKind::NotFound => {}
                            Err(e) => return Err(e),
                        }
                    }
                    return Ok(found);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Vec::new())
}

/// The prefix list id and CIDRs of each gateway endpoint's service, in one call.
async fn prefix_lists(
    aws: &Clients,
    endpoints: &BTreeMap<String, VpcEndpoint>,
) -> Result<BTreeMap<String, (String, Vec<String>)>, ProviderError> {
    let services: Vec<String> = endpoints
        .values()
        .filter(|e| e.vpc_endpoint_type() == Some(&VpcEndpointType::Gateway))
        .filter_map(|e| e.service_name().map(str::to_string))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut found = BTreeMap::new();
    for chunk in services.chunks(ec2::CHUNK) {
        let lists = all_pages(|token| async move {
            let out = aws
                .ec2
                .describe_prefix_lists()
                .filters(filter("prefix-list-name", chunk))
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("DescribePrefixLists", e))?;
            Ok((out.prefix_lists.unwrap_or_default(), out.next_token))
        })
        .await?;
        for l in lists {
            if let (Some(name), Some(id)) = (l.prefix_list_name(), l.prefix_list_id()) {
                found.insert(name.to_string(), (id.to_string(), l.cidrs().to_vec()));
            }
        }
    }
    Ok(found)
}

const AVAILABLE: &str = "available";
const DELETED: &str = "deleted";

/// Whether the endpoint's state is one of `states`. AWS spells endpoint states in camel case
/// (`available`, `pendingAcceptance`) while the SDK's enum knows them capitalised, so compare
/// the text without case.
fn in_state(e: &VpcEndpoint, states: &[&str]) -> bool {
    e.state()
        .is_some_and(|s| states.iter().any(|w| s.as_str().eq_ignore_ascii_case(w)))
}

/// Waits until the endpoint reaches `want`; one that vanishes while being deleted is deleted,
/// one that fails or is rejected while being created is reported with AWS's reason.
async fn wait_for(
    aws: &Clients,
    id: &str,
    want: &str,
    timeout: Option<Duration>,
) -> Result<(), ProviderError> {
    let what = format!("VPC endpoint {id}");
    let deleting = want == DELETED;
    let wait = Wait {
        what: &what,
        until: want,
        operation: if deleting { "delete" } else { "create" },
        limit: timeout.unwrap_or(WAIT_LIMIT),
    };
    wait.run(|| async {
        let endpoint = by_ids(aws, vec![id.to_string()])
            .await?
            .into_iter()
            .find(|e| e.vpc_endpoint_id() == Some(id));
        let state = endpoint
            .as_ref()
            .and_then(|e| e.state())
            .map_or("not listed", |s| s.as_str());
        match &endpoint {
            None if deleting => return Ok(Check::Done(())),
            Some(e) if in_state(e, &[want]) => return Ok(Check::Done(())),
            Some(e)
                if !deleting
                    && in_state(e, &["failed", "rejected", "expired", "deleting", "deleted"]) =>
            {
                let reason = e
                    .last_error()
                    .and_then(|e| e.message())
                    .or_else(|| e.failure_reason())
                    .unwrap_or("no reason given");
                return Err(ProviderError::new(
                    ErrorKind::Other,
                    format!(
                        "VPC endpoint {id} failed to become available (state {state}): {reason}"
                    ),
                ));
            }
            _ => {}
        }
        Ok(Check::Waiting(state.to_string()))
    })
    .await
}

fn ids(config: &Value, name: &str) -> Vec<String> {
    config
        .get(name)
        .and_then(Value::as_list)
        .map(|l| {
            l.iter()
                .filter_map(|v| v.expose().as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn non_empty(list: Vec<String>) -> Option<Vec<String>> {
    (!list.is_empty()).then_some(list)
}

/// What to add and remove to bring the set `name` from `prior` to `config`.
fn delta(prior: &Value, config: &Value, name: &str) -> (Vec<String>, Vec<String>) {
    let (before, after) = (ids(prior, name), ids(config, name));
    let added = after
        .iter()
        .filter(|s| !before.contains(s))
        .cloned()
        .collect();
    let removed = before
        .iter()
        .filter(|s| !after.contains(s))
        .cloned()
        .collect();
    (added, removed)
}

/// AWS returns these sets in no particular order; keep the configured order so a re-plan is
/// empty.
fn in_prior_order(list: Vec<String>, prior: &Value, name: &str) -> Value {
    string_list(crate::attrs::in_prior_order(
        list,
        &ids(prior, name),
        crate::attrs::Unmatched::Sorted,
    ))
}
