//! `aws_wafv2_web_acl_association`: puts a regional web ACL in front of an ALB (or API Gateway
//! stage). Its id is Terraform's `WEB_ACL_ARN,RESOURCE_ARN`, which is also how it is imported.
//!
//! Refresh: one GetWebACLForResource per association, concurrently, bounded; an association
//! whose resource now has another ACL, or none, is gone.

use std::collections::BTreeMap;

use async_trait::async_trait;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, id_schema, required};
use crate::config::Clients;
use crate::each::read_each;
use crate::errors::{invalid, sdk_error};

pub struct WebAclAssociation;

const TYPE: &str = "aws_wafv2_web_acl_association";

#[async_trait]
impl Resource for WebAclAssociation {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("WEB_ACL_ARN,RESOURCE_ARN")
            .describe("Associates a regional WAF web ACL with an ALB")
            .attr(AttrSchema::required("web_acl_arn", AttrType::String).force_new())
            .attr(
                AttrSchema::required("resource_arn", AttrType::String)
                    .force_new()
                    .describe("The ALB's ARN"),
            )
            .attr(id_schema())
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let wanted = items.iter().filter_map(|i| {
            let (acl, resource) = i.id.as_deref()?.split_once(',')?;
            Some((i.address.clone(), (acl.to_string(), resource.to_string())))
        });
        let client = aws.wafv2.clone();
        read_each(wanted, move |(acl, resource): (String, String)| {
            let client = client.clone();
            async move {
                let out = client
                    .get_web_acl_for_resource()
                    .resource_arn(&resource)
                    .send()
                    .await
                    .map_err(|e| sdk_error("GetWebACLForResource", e))?;
                if out.web_acl().map(|a| a.arn()) != Some(acl.as_str()) {
                    return Ok(None);
                }
                Ok(Some(ReadResult {
                    id: format!("{acl},{resource}"),
                    attributes: Attrs::new()
                        .set("id", format!("{acl},{resource}"))
                        .set("web_acl_arn", acl.as_str())
                        .set("resource_arn", resource.as_str())
                        .build(),
                }))
            }
        })
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let acl = required(TYPE, &req.config, "web_acl_arn")?;
        let resource = required(TYPE, &req.config, "resource_arn")?;
        aws.wafv2
            .associate_web_acl()
            .web_acl_arn(acl)
            .resource_arn(resource)
            .send()
            .await
            .map_err(|e| sdk_error("AssociateWebACL", e))?;
        Ok(format!("{acl},{resource}"))
    }

    async fn update(&self, _aws: &Clients, _req: &UpdateRequest) -> Result<(), ProviderError> {
        Err(invalid(
            TYPE,
            "every attribute forces a new association; nothing updates in place",
        ))
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let (_, resource) = req.id.split_once(',').ok_or_else(|| {
            invalid(
                TYPE,
                format!("`{}` is not WEB_ACL_ARN,RESOURCE_ARN", req.id),
            )
        })?;
        aws.wafv2
            .disassociate_web_acl()
            .resource_arn(resource)
            .send()
            .await
            .map_err(|e| sdk_error("DisassociateWebACL", e))?;
        Ok(())
    }
}
