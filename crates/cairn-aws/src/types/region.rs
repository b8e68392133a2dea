//! `data.aws_region`: the provider's region (no API call).

use async_trait::async_trait;
use cairn_provider::provider::{DataRequest, ProviderError};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{Data, PROVIDER};
use crate::attrs::Attrs;
use crate::config::Clients;

pub struct RegionData;

#[async_trait]
impl Data for RegionData {
    fn schema(&self) -> Schema {
        Schema::data_source(PROVIDER, "aws_region")
            .describe("The region of the provider in use")
            .attr(AttrSchema::computed("name", AttrType::String))
            .attr(AttrSchema::computed("id", AttrType::String))
            .attr(AttrSchema::computed("endpoint", AttrType::String))
    }

    async fn read(&self, aws: &Clients, _req: &DataRequest) -> Result<Value, ProviderError> {
        let region = aws.region.as_str();
        Ok(Attrs::new()
            .set("id", region)
            .set("name", region)
            .set("endpoint", format!("ec2.{region}.amazonaws.com"))
            .build())
    }
}
