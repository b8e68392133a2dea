//! The `azure` provider of cairn: Azure Resource Manager through azure_core's `Pipeline`, with
//! credentials from azure_identity and request bodies that are our own serde structs, one
//! api-version pinned per type (the `azure_mgmt_*` crates are abandoned upstream).
//!
//! Settings of `providers: { azure: { subscription_id: ..., location: eastus } }` (an alias
//! such as `azure.dr` is a second block): `subscription_id` (else `AZURE_SUBSCRIPTION_ID`),
//! `location` (the default region of its resources) and `endpoint` (else
//! `AZURE_RESOURCE_MANAGER_ENDPOINT`; the tests point it at the local ARM server).

mod arm;
mod auth;
mod calls;
mod credential;
mod errors;
mod provider;
mod settings;
mod tagged;
mod transport;
mod types;

use cairn_provider::provider::Catalog;

pub use calls::CallCounts;
pub use provider::AzureProvider;

/// Registers the `azure` provider and every type it offers.
pub fn register(catalog: &mut Catalog) {
    catalog.register_provider(types::PROVIDER, provider::new_provider);
    for resource in types::resources() {
        catalog.register_schema(resource.schema());
    }
}
