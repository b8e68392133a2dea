//! `AwsProvider`: the [`Provider`] of one `aws` provider block, dispatching each request to the
//! module of its resource type.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cairn_provider::provider::{
    CreateRequest, CreateResponse, DataRequest, DataResponse, DeleteRequest, DeleteResponse,
    ErrorKind, Provider, ProviderConfig, ProviderError, ReadItem, ReadRequest, ReadResponse,
    ReadResult, TaggedObject, UpdateRequest, UpdateResponse,
};
use cairn_provider::value::Value;
use tokio::sync::OnceCell;
use tracing::info;

use crate::calls::{CallCounts, on_behalf_of};
use crate::config::{Clients, Settings};
use crate::retry::while_dependency_violation;
use crate::types::{self, Data, Resource, read_back};

/// How long a written resource may take to show up in reads.
const READ_BACK: Duration = Duration::from_secs(120);
/// How long a delete refused with DependencyViolation is retried, unless `timeouts.delete` says.
const DELETE_BLOCKED: Duration = Duration::from_secs(300);

pub struct AwsProvider {
    key: String,
    settings: Settings,
    clients: OnceCell<Clients>,
    counts: CallCounts,
    resources: BTreeMap<&'static str, Box<dyn Resource>>,
    data: BTreeMap<&'static str, Box<dyn Data>>,
}

pub fn new_provider(config: &ProviderConfig) -> Result<Arc<dyn Provider>, ProviderError> {
    Ok(Arc::new(AwsProvider::new(config)?))
}

impl AwsProvider {
    pub fn new(config: &ProviderConfig) -> Result<AwsProvider, ProviderError> {
        let key = config.key();
        Ok(AwsProvider {
            settings: Settings::parse(&key, &config.settings)?,
            key,
            clients: OnceCell::new(),
            counts: CallCounts::default(),
            resources: types::resources()
                .into_iter()
                .map(|r| (r.schema().type_name, r))
                .collect(),
            data: types::data_sources()
                .into_iter()
                .map(|d| (d.schema().type_name, d))
                .collect(),
        })
    }

    /// The API calls this instance made so far.
    pub fn counts(&self) -> &CallCounts {
        &self.counts
    }

    async fn clients(&self) -> Result<&Clients, ProviderError> {
        self.clients
            .get_or_try_init(|| Clients::load(&self.key, &self.settings, &self.counts))
            .await
    }

    /// The type's adapter, and its name as the adapter's schema spells it (calls are counted
    /// under it).
    fn resource(
        &self,
        resource_type: &str,
    ) -> Result<(&'static str, &dyn Resource), ProviderError> {
        self.resources
            .get_key_value(resource_type)
            .map(|(name, r)| (*name, r.as_ref()))
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::Invalid,
                    format!("provider `aws` has no resource type `{resource_type}`"),
                )
            })
    }
}

impl Drop for AwsProvider {
    fn drop(&mut self) {
        info!(target: "cairn::aws", provider = %self.key, "aws API calls: {}", self.counts);
        info!(target: "cairn::aws", provider = %self.key, "aws API calls by type: {}", self.counts.by_type());
    }
}

/// `resource.read` of `items`, where an item with an unfinished create (no id, an intent
/// recorded) is first given the id of the object its interrupted create made, when the type
/// can find it by its ownership tag.
async fn read_adopting(
    resource: &dyn Resource,
    aws: &Clients,
    items: &[ReadItem],
) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
    let pending: Vec<&ReadItem> = items
        .iter()
        .filter(|i| i.id.is_none() && i.token.is_some())
        .collect();
    if pending.is_empty() {
        return resource.read(aws, items).await;
    }
    let mut adopted = resource.find_pending(aws, &pending).await?;
    if adopted.is_empty() {
        return resource.read(aws, items).await;
    }
    let items: Vec<ReadItem> = items
        .iter()
        .map(|item| {
            let mut item = item.clone();
            if item.id.is_none()
                && let Some(id) = adopted.remove(&item.address)
            {
                info!(target: "cairn::aws", address = %item.address, id = %id, "found the object an interrupted create made");
                item.id = Some(id);
            }
            item
        })
        .collect();
    resource.read(aws, &items).await
}

#[async_trait]
impl Provider for AwsProvider {
    async fn read(&self, req: ReadRequest) -> Result<ReadResponse, ProviderError> {
        let (type_name, resource) = self.resource(&req.resource_type)?;
        let aws = self.clients().await?;
        let found = on_behalf_of(type_name, read_adopting(resource, aws, &req.items)).await?;
        info!(
            target: "cairn::aws",
            provider = %self.key,
            resource_type = %req.resource_type,
            count = req.items.len(),
            "refreshed; aws API calls so far: {}",
            self.counts
        );
        Ok(ReadResponse { found })
    }

    async fn create(&self, req: CreateRequest) -> Result<CreateResponse, ProviderError> {
        let (type_name, resource) = self.resource(&req.resource_type)?;
        let aws = self.clients().await?;
        on_behalf_of(type_name, async {
            let id = match resource.create(aws, &req).await {
                Ok(id) => id,
                // "Already exists": a create sent before a crash may have landed after this
                // run's refresh looked for it. The pending lookup adopts only an object that
                // carries this address's ownership tag; anything else stays a conflict.
                Err(error) if error.kind == ErrorKind::Conflict => {
                    let pending = ReadItem {
                        address: req.address.clone(),
                        id: None,
                        token: Some(req.token.clone()),
                        since: None,
                        prior: req.config.clone(),
                    };
                    match read_adopting(resource, aws, std::slice::from_ref(&pending)).await {
                        Ok(mut found) => match found.remove(&req.address) {
                            Some(found) => {
                                info!(target: "cairn::aws", address = %req.address, id = %found.id, "already existed, made for this address by an interrupted run: adopted");
                                found.id
                            }
                            None => return Err(error),
                        },
                        Err(_) => return Err(error),
                    }
                }
                Err(error) => return Err(error),
            };
            let read = read_back(resource, aws, &req.address, &id, &req.config, READ_BACK).await?;
            Ok(CreateResponse {
                id: read.id,
                attributes: read.attributes,
            })
        })
        .await
    }

    async fn update(&self, req: UpdateRequest) -> Result<UpdateResponse, ProviderError> {
        let (type_name, resource) = self.resource(&req.resource_type)?;
        let aws = self.clients().await?;
        on_behalf_of(type_name, async {
            resource.update(aws, &req).await?;
            // The configuration, plus what it leaves out because cairn holds only its digest (an
            // unchanged secret AWS never returns): the read keeps those from the prior.
            let mut known = req.config.clone();
            if let (Value::Map(known), Value::Map(prior)) = (&mut known, &req.prior) {
                for (name, value) in prior.iter().filter(|(_, v)| v.contains_sensitive()) {
                    known.entry(name.clone()).or_insert_with(|| value.clone());
                }
            }
            let read = read_back(resource, aws, &req.address, &req.id, &known, READ_BACK).await?;
            Ok(UpdateResponse {
                attributes: read.attributes,
            })
        })
        .await
    }

    async fn delete(&self, req: DeleteRequest) -> Result<DeleteResponse, ProviderError> {
        let (type_name, resource) = self.resource(&req.resource_type)?;
        let aws = self.clients().await?;
        let what = format!("{} {}", req.address, req.id);
        let limit = req.timeout.unwrap_or(DELETE_BLOCKED);
        let deleted = while_dependency_violation(&what, limit, Duration::from_secs(1), || {
            resource.delete(aws, &req)
        });
        on_behalf_of(type_name, deleted).await?;
        Ok(DeleteResponse {})
    }

    /// One paginated `GetResources` in this instance's region, filtered by every tag.
    async fn find_tagged(
        &self,
        tags: &BTreeMap<String, String>,
    ) -> Result<Option<Vec<TaggedObject>>, ProviderError> {
        let aws = self.clients().await?;
        let filters: Vec<_> = tags
            .iter()
            .map(|(k, v)| {
                aws_sdk_resourcegroupstagging::types::TagFilter::builder()
                    .key(k)
                    .values(v)
                    .build()
            })
            .collect();
        let mappings = crate::paginate::all_pages(|token| {
            let filters = filters.clone();
            async move {
                let out = aws
                    .tagging
                    .get_resources()
                    .set_tag_filters(Some(filters))
                    .set_pagination_token(token)
                    .send()
                    .await
                    .map_err(|e| crate::errors::sdk_error("GetResources", e))?;
                Ok((
                    out.resource_tag_mapping_list.unwrap_or_default(),
                    out.pagination_token,
                ))
            }
        })
        .await?;
        let found = mappings
            .into_iter()
            .filter_map(|m| {
                let arn = m.resource_arn()?.to_string();
                // `arn:aws:SERVICE:REGION:ACCOUNT:TYPE/ID` → `SERVICE:TYPE`, or the service.
                let mut parts = arn.splitn(6, ':');
                let service = parts.nth(2).unwrap_or_default().to_string();
                let kind = match parts.nth(2).and_then(|rest| rest.split_once('/')) {
                    Some((ty, _)) => format!("{service}:{ty}"),
                    None => service,
                };
                let tags = m
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect();
                Some(TaggedObject {
                    id: arn,
                    kind,
                    tags,
                })
            })
            .collect();
        Ok(Some(found))
    }

    async fn read_data(&self, req: DataRequest) -> Result<DataResponse, ProviderError> {
        let (type_name, data) = self
            .data
            .get_key_value(req.resource_type.as_str())
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::Invalid,
                    format!("provider `aws` has no data source `{}`", req.resource_type),
                )
            })?;
        let aws = self.clients().await?;
        Ok(DataResponse {
            attributes: on_behalf_of(type_name, data.read(aws, &req)).await?,
        })
    }
}
