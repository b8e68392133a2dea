//! `AzureProvider`: the [`Provider`] of one `azure` provider block, dispatching each request to
//! the module of its resource type.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use cairn_provider::provider::{
    CreateRequest, CreateResponse, DataRequest, DataResponse, DeleteRequest, DeleteResponse,
    ErrorKind, Provider, ProviderConfig, ProviderError, ReadRequest, ReadResponse, TaggedObject,
    UpdateRequest, UpdateResponse,
};
use tokio::sync::OnceCell;
use tracing::info;

use crate::arm::{Arm, ArmOptions};
use crate::calls::CallCounts;
use crate::credential::CredentialChain;
use crate::settings::Settings;
use crate::transport::HyperTransport;
use crate::types::{self, Ctx, Resource};

/// Retries of a throttled or failed request inside the pipeline before the engine sees it.
const MAX_RETRIES: u32 = 6;

pub struct AzureProvider {
    key: String,
    settings: Settings,
    arm: OnceCell<Arm>,
    counts: CallCounts,
    resources: BTreeMap<&'static str, Box<dyn Resource>>,
}

pub fn new_provider(config: &ProviderConfig) -> Result<Arc<dyn Provider>, ProviderError> {
    Ok(Arc::new(AzureProvider::new(config)?))
}

impl AzureProvider {
    pub fn new(config: &ProviderConfig) -> Result<AzureProvider, ProviderError> {
        let key = config.key();
        Ok(AzureProvider {
            settings: Settings::parse(&key, &config.settings)?,
            key,
            arm: OnceCell::new(),
            counts: CallCounts::default(),
            resources: types::resources()
                .into_iter()
                .map(|r| (r.schema().type_name, r))
                .collect(),
        })
    }

    /// The ARM requests this instance made so far, by method and type.
    pub fn counts(&self) -> &CallCounts {
        &self.counts
    }

    /// The client and the subscription: both checked on first use, so `validate` and `plan`
    /// of other providers never need Azure credentials.
    async fn ctx(&self) -> Result<Ctx<'_>, ProviderError> {
        let subscription = self.settings.subscription_id.as_deref().ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Invalid,
                format!(
                    "provider `{}`: no subscription: set `subscription_id:` in the provider block or AZURE_SUBSCRIPTION_ID",
                    self.key
                ),
            )
        })?;
        let arm = self
            .arm
            .get_or_try_init(|| async {
                let local = azure_core::http::Url::parse(&self.settings.endpoint)
                    .is_ok_and(|url| crate::auth::is_loopback(&url));
                let transport = HyperTransport::new(!local).map_err(|e| {
                    ProviderError::new(ErrorKind::Other, format!("provider `{}`: {e}", self.key))
                })?;
                let credential = Arc::new(CredentialChain::from_env(transport.clone()));
                Ok::<_, ProviderError>(Arm::new(
                    ArmOptions {
                        endpoint: self.settings.endpoint.clone(),
                        max_retries: MAX_RETRIES,
                    },
                    credential,
                    transport,
                    self.counts.clone(),
                ))
            })
            .await?;
        Ok(Ctx {
            arm,
            subscription,
            location: self.settings.location.as_deref(),
        })
    }

    fn resource(&self, resource_type: &str) -> Result<&dyn Resource, ProviderError> {
        self.resources
            .get(resource_type)
            .map(|r| r.as_ref())
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::Invalid,
                    format!("provider `azure` has no resource type `{resource_type}`"),
                )
            })
    }
}

impl Drop for AzureProvider {
    fn drop(&mut self) {
        info!(target: "cairn::azure", provider = %self.key, "ARM requests: {}", self.counts);
    }
}

#[async_trait]
impl Provider for AzureProvider {
    async fn read(&self, req: ReadRequest) -> Result<ReadResponse, ProviderError> {
        let resource = self.resource(&req.resource_type)?;
        let ctx = self.ctx().await?;
        let found = resource.read(&ctx, &req.items).await?;
        info!(
            target: "cairn::azure",
            provider = %self.key,
            resource_type = %req.resource_type,
            count = req.items.len(),
            "refreshed; ARM requests so far: {}",
            self.counts
        );
        Ok(ReadResponse { found })
    }

    async fn create(&self, req: CreateRequest) -> Result<CreateResponse, ProviderError> {
        let resource = self.resource(&req.resource_type)?;
        let ctx = self.ctx().await?;
        let created = resource.create(&ctx, &req).await?;
        Ok(CreateResponse {
            id: created.id,
            attributes: created.attributes,
        })
    }

    async fn update(&self, req: UpdateRequest) -> Result<UpdateResponse, ProviderError> {
        let resource = self.resource(&req.resource_type)?;
        let ctx = self.ctx().await?;
        Ok(UpdateResponse {
            attributes: resource.update(&ctx, &req).await?,
        })
    }

    async fn delete(&self, req: DeleteRequest) -> Result<DeleteResponse, ProviderError> {
        let resource = self.resource(&req.resource_type)?;
        let ctx = self.ctx().await?;
        resource.delete(&ctx, &req).await?;
        Ok(DeleteResponse {})
    }

    /// The resources and resource groups of this instance's subscription carrying every one
    /// of `tags` (ARM's lists are per subscription: two instances on one subscription find
    /// the same objects, which the drift report lists once).
    async fn find_tagged(
        &self,
        tags: &BTreeMap<String, String>,
    ) -> Result<Option<Vec<TaggedObject>>, ProviderError> {
        let ctx = self.ctx().await?;
        let found = crate::tagged::find(ctx.arm, ctx.subscription, tags).await?;
        info!(
            target: "cairn::azure",
            provider = %self.key,
            count = found.len(),
            "found by tag; ARM requests so far: {}",
            self.counts
        );
        Ok(Some(found))
    }

    async fn read_data(&self, req: DataRequest) -> Result<DataResponse, ProviderError> {
        Err(ProviderError::new(
            ErrorKind::Invalid,
            format!(
                "provider `azure` has no data source `{}`",
                req.resource_type
            ),
        ))
    }
}
