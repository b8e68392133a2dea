//! The bearer-token policy of the pipeline. Over HTTPS it is azure_core's own (token cache,
//! refresh on 401). azure_core refuses to send a token over plain HTTP at all; cairn allows
//! that to loopback addresses only, where the local ARM server of the tests and of laptop
//! trials listens, so a token never crosses a network unencrypted.

use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::request::Request;
use azure_core::http::{Context, Url};

#[derive(Debug)]
pub struct BearerPolicy {
    tls: BearerTokenAuthorizationPolicy,
    credential: Arc<dyn TokenCredential>,
    scope: &'static str,
}

impl BearerPolicy {
    pub fn new(credential: Arc<dyn TokenCredential>, scope: &'static str) -> BearerPolicy {
        BearerPolicy {
            tls: BearerTokenAuthorizationPolicy::new(credential.clone(), [scope]),
            credential,
            scope,
        }
    }
}

pub fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some("localhost") | Some("[::1]") => true,
        Some(host) => host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

#[async_trait]
impl Policy for BearerPolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        if request.url().scheme() == "http" && is_loopback(request.url()) {
            // The credentials cache their tokens: asking per request costs nothing.
            let token = self.credential.get_token(&[self.scope], None).await?;
            request.insert_header("authorization", format!("Bearer {}", token.token.secret()));
            return next[0].send(ctx, request, &next[1..]).await;
        }
        self.tls.send(ctx, request, next).await
    }
}
