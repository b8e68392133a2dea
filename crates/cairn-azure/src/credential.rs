//! Who cairn is to Azure: the credential chain of issue 6, tried in order, the first that
//! yields a token kept for the rest of the run.
//!
//! 1. client secret (`AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`, `AZURE_TENANT_ID`);
//! 2. workload identity (`AZURE_FEDERATED_TOKEN_FILE`, set in AKS pods and by CI OIDC setups);
//! 3. managed identity (Azure VMs, App Service, Cloud Shell);
//! 4. the Azure CLI's login (`az login`).
//!
//! When none works the error names each and why, so a user knows which to fix. The authority
//! host (`AZURE_AUTHORITY_HOST`) is overridable, which is how the tests reach the local ARM
//! server's token endpoint. Tokens and secrets are never logged or put in messages.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::http::{ClientOptions, Transport};
use azure_identity::{
    AzureCliCredential, ClientAssertionCredentialOptions, ClientSecretCredential,
    ClientSecretCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use tokio::sync::Mutex;

use crate::transport::HyperTransport;

/// How long a source that cannot answer (the managed-identity endpoint off Azure) may take
/// before the chain moves on.
const SOURCE_TIMEOUT: Duration = Duration::from_secs(10);

/// One source of the chain, by the name messages use.
struct Source {
    name: &'static str,
    /// `Err`: why the source cannot even be built (its variables are not set).
    credential: Result<Arc<dyn TokenCredential>, String>,
}

/// The chain as one `TokenCredential` for the pipeline's bearer-token policy.
pub struct CredentialChain {
    sources: Vec<Source>,
    /// The index of the source that worked, once one has.
    chosen: Mutex<Option<usize>>,
}

impl std::fmt::Debug for CredentialChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.sources.iter().map(|s| s.name).collect();
        f.debug_struct("CredentialChain")
            .field("sources", &names)
            .finish_non_exhaustive()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl CredentialChain {
    /// The chain from the environment. `transport` carries the token requests too.
    pub fn from_env(transport: Arc<HyperTransport>) -> CredentialChain {
        let client_options = || ClientOptions {
            transport: Some(Transport::new(transport.clone())),
            cloud: env("AZURE_AUTHORITY_HOST")
                .filter(|h| !loopback_http(h))
                .map(|host| {
                    let mut custom = CustomConfiguration::default();
                    custom.authority_host = host;
                    Arc::new(CloudConfiguration::Custom(custom))
                }),
            ..Default::default()
        };
        let authority = env("AZURE_AUTHORITY_HOST");
        let client_secret = match (
            env("AZURE_TENANT_ID"),
            env("AZURE_CLIENT_ID"),
            env("AZURE_CLIENT_SECRET"),
        ) {
            (Some(tenant), Some(client), Some(secret)) => match authority
                .as_deref()
                .filter(|host| loopback_http(host))
            {
                // azure_identity insists on an HTTPS authority; the local ARM server is
                // plain HTTP on loopback, reached by the same client-credentials flow.
                Some(host) => Ok(Arc::new(LoopbackClientSecret {
                    endpoint: format!("{}/{tenant}/oauth2/v2.0/token", host.trim_end_matches('/')),
                    client_id: client,
                    secret: Secret::new(secret),
                    transport: transport.clone(),
                    cached: Mutex::new(None),
                }) as Arc<dyn TokenCredential>),
                None => ClientSecretCredential::new(
                    &tenant,
                    client,
                    Secret::new(secret),
                    Some(ClientSecretCredentialOptions {
                        client_options: client_options(),
                    }),
                )
                .map(|c| c as Arc<dyn TokenCredential>)
                .map_err(|e| e.to_string()),
            },
            _ => Err(
                "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_TENANT_ID are not all set"
                    .to_string(),
            ),
        };
        let workload = if env("AZURE_FEDERATED_TOKEN_FILE").is_some() {
            WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions {
                    client_options: client_options(),
                },
                ..Default::default()
            }))
            .map(|c| c as Arc<dyn TokenCredential>)
            .map_err(|e| e.to_string())
        } else {
            Err("AZURE_FEDERATED_TOKEN_FILE is not set".to_string())
        };
        let managed = ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
            client_options: client_options(),
            ..Default::default()
        }))
        .map(|c| c as Arc<dyn TokenCredential>)
        .map_err(|e| e.to_string());
        let cli = AzureCliCredential::new(None)
            .map(|c| c as Arc<dyn TokenCredential>)
            .map_err(|e| e.to_string());
        CredentialChain {
            sources: vec![
                Source {
                    name: "client secret",
                    credential: client_secret,
                },
                Source {
                    name: "workload identity",
                    credential: workload,
                },
                Source {
                    name: "managed identity",
                    credential: managed,
                },
                Source {
                    name: "Azure CLI",
                    credential: cli,
                },
            ],
            chosen: Mutex::new(None),
        }
    }

    async fn try_source(
        source: &Source,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> Result<AccessToken, String> {
        let credential = source.credential.as_ref().map_err(Clone::clone)?;
        match tokio::time::timeout(SOURCE_TIMEOUT, credential.get_token(scopes, options)).await {
            Ok(Ok(token)) => Ok(token),
            Ok(Err(e)) => Err(first_line(&e.to_string())),
            Err(_) => Err(format!("no answer within {}s", SOURCE_TIMEOUT.as_secs())),
        }
    }
}

/// Credential errors can carry a whole HTTP response; the first line says what failed.
fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().to_string()
}

#[async_trait]
impl TokenCredential for CredentialChain {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let mut chosen = self.chosen.lock().await;
        if let Some(i) = *chosen {
            let source = &self.sources[i];
            return Self::try_source(source, scopes, options)
                .await
                .map_err(|why| credential_error(&[(source.name, why)]));
        }
        let mut failures = Vec::new();
        for (i, source) in self.sources.iter().enumerate() {
            match Self::try_source(source, scopes, options.clone()).await {
                Ok(token) => {
                    tracing::debug!(target: "cairn::azure", source = source.name, "authenticated");
                    *chosen = Some(i);
                    return Ok(token);
                }
                Err(why) => failures.push((source.name, why)),
            }
        }
        Err(credential_error(&failures))
    }
}

fn credential_error(failures: &[(&str, String)]) -> azure_core::Error {
    let mut message = String::from("no Azure credential worked:");
    for (name, why) in failures {
        message.push_str(&format!("\n  - {name}: {why}"));
    }
    azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, message)
}

fn loopback_http(host: &str) -> bool {
    azure_core::http::Url::parse(host)
        .is_ok_and(|url| url.scheme() == "http" && crate::auth::is_loopback(&url))
}

/// The client-credentials flow against a plain-HTTP authority on loopback (the local ARM
/// server), which azure_identity refuses by design.
#[derive(Debug)]
struct LoopbackClientSecret {
    endpoint: String,
    client_id: String,
    secret: Secret,
    transport: Arc<HyperTransport>,
    cached: Mutex<Option<AccessToken>>,
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: i64,
}

#[async_trait]
impl TokenCredential for LoopbackClientSecret {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        use azure_core::error::{Error, ErrorKind};
        use azure_core::http::{HttpClient, Method, Request, Url};

        let mut cached = self.cached.lock().await;
        let now = azure_core::time::OffsetDateTime::now_utc();
        if let Some(token) = cached
            .as_ref()
            .filter(|t| t.expires_on > now + azure_core::time::Duration::minutes(5))
        {
            return Ok(token.clone());
        }
        let url = Url::parse(&self.endpoint).map_err(|e| {
            Error::with_message(ErrorKind::Credential, format!("{}: {e}", self.endpoint))
        })?;
        let mut request = Request::new(url, Method::Post);
        request.insert_header("content-type", "application/x-www-form-urlencoded");
        let form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
            form_encode(&self.client_id),
            form_encode(self.secret.secret()),
            form_encode(&scopes.join(" ")),
        );
        request.set_body(form.into_bytes());
        let response = self.transport.execute_request(&request).await?;
        let status = u16::from(response.status());
        let body = response.into_body().collect().await?;
        if status != 200 {
            let text = String::from_utf8_lossy(&body);
            return Err(Error::with_message(
                ErrorKind::Credential,
                format!(
                    "the token endpoint {} answered {status}: {}",
                    self.endpoint,
                    first_line(&text)
                ),
            ));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
            Error::with_message(
                ErrorKind::Credential,
                format!("unreadable token answer: {e}"),
            )
        })?;
        let token = AccessToken::new(
            answer.access_token,
            now + azure_core::time::Duration::seconds(answer.expires_in),
        );
        *cached = Some(token.clone());
        Ok(token)
    }
}

/// `application/x-www-form-urlencoded` for one value.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
