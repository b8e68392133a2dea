//! `data.aws_caller_identity`: who the credentials are (STS GetCallerIdentity).

use async_trait::async_trait;
use cairn_provider::provider::{DataRequest, ProviderError};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{Data, PROVIDER};
use crate::attrs::Attrs;
use crate::config::Clients;
use crate::errors::sdk_error;

pub struct CallerIdentity;

#[async_trait]
impl Data for CallerIdentity {
    fn schema(&self) -> Schema {
        Schema::data_source(PROVIDER, "aws_caller_identity")
            .describe("The account and identity of the credentials in use")
            .attr(AttrSchema::computed("account_id", AttrType::String))
            .attr(AttrSchema::computed("arn", AttrType::String))
            .attr(AttrSchema::computed("user_id", AttrType::String))
            .attr(AttrSchema::computed("id", AttrType::String))
    }

    async fn read(&self, aws: &Clients, _req: &DataRequest) -> Result<Value, ProviderError> {
        let out = aws
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| sdk_error("GetCallerIdentity", e))?;
        Ok(Attrs::new()
            .opt("id", out.account())
            .opt("account_id", out.account())
            .opt("arn", out.arn())
            .opt("user_id", out.user_id())
            .build())
    }
}
