//! `data.aws_availability_zones`: the zones of the provider's region, by default those in state
//! `available`.

use async_trait::async_trait;
use cairn_provider::provider::{DataRequest, ProviderError};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{Data, PROVIDER};
use crate::attrs::{Attrs, string_list, text};
use crate::config::Clients;
use crate::ec2::filter;
use crate::errors::sdk_error;

pub struct AvailabilityZones;

#[async_trait]
impl Data for AvailabilityZones {
    fn schema(&self) -> Schema {
        let list = || AttrType::List(Box::new(AttrType::String));
        Schema::data_source(PROVIDER, "aws_availability_zones")
            .describe("The availability zones of the region")
            .attr(
                AttrSchema::optional("state", AttrType::String)
                    .default("available")
                    .describe("available, information, impaired or unavailable"),
            )
            .attr(AttrSchema::computed("names", list()))
            .attr(AttrSchema::computed("zone_ids", list()))
            .attr(AttrSchema::computed("id", AttrType::String))
    }

    async fn read(&self, aws: &Clients, req: &DataRequest) -> Result<Value, ProviderError> {
        let state = text(&req.config, "state")
            .unwrap_or("available")
            .to_string();
        let out = aws
            .ec2
            .describe_availability_zones()
            .filters(filter("state", std::slice::from_ref(&state)))
            .send()
            .await
            .map_err(|e| sdk_error("DescribeAvailabilityZones", e))?;
        let mut zones: Vec<(String, String)> = out
            .availability_zones()
            .iter()
            .filter_map(|z| {
                Some((
                    z.zone_name()?.to_string(),
                    z.zone_id().unwrap_or_default().to_string(),
                ))
            })
            .collect();
        zones.sort();
        Ok(Attrs::new()
            .set("id", aws.region.as_str())
            .set("state", state)
            .set("names", string_list(zones.iter().map(|z| z.0.clone())))
            .set("zone_ids", string_list(zones.into_iter().map(|z| z.1)))
            .build())
    }
}
