//! The `aws` provider of cairn, on the official AWS SDK for Rust. Only this crate imports the
//! SDK, so engine edits never recompile it.
//!
//! Settings of `providers: { aws: { region: ap-northeast-1 } }` (an alias such as `aws.dr` is a
//! second block): `region` (else the SDK's standard chain: `AWS_REGION`, the profile) and
//! `profile`. Credentials and endpoints come from the SDK's standard chain and settings only.

mod attrs;
mod calls;
mod config;
mod each;
mod ec2;
mod elasticache;
mod elbv2;
mod errors;
pub mod objects;
mod paginate;
mod policy;
mod provider;
mod rds;
mod retry;
mod s3;
mod tagging;
mod types;
mod wait;

use cairn_provider::provider::Catalog;

pub use calls::CallCounts;
pub use provider::AwsProvider;

/// Registers the `aws` provider and every type it offers.
pub fn register(catalog: &mut Catalog) {
    catalog.register_provider("aws", provider::new_provider);
    for resource in types::resources() {
        catalog.register_schema(resource.schema());
    }
    for data in types::data_sources() {
        catalog.register_schema(data.schema());
    }
}
