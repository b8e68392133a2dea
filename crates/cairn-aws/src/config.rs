//! The `providers: { aws: { region: ... } }` settings, and the SDK clients built from them.
//!
//! Clients are built on first use (the catalog's factory is synchronous, loading the SDK
//! configuration is not). Credentials and endpoints come only from the SDK's standard chain and
//! settings (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`), so a local emulator is reached
//! exactly as real AWS is.

use std::collections::BTreeMap;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::ProvideCredentials;
use cairn_provider::provider::{ErrorKind, ProviderError};
use cairn_provider::value::Value;

use crate::calls::{CallCounts, Counter};
use crate::errors::missing_credentials;

const SETTINGS: [&str; 2] = ["region", "profile"];

/// One `aws` provider block.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    /// `None`: the standard chain's region (`AWS_REGION`, the profile).
    pub region: Option<String>,
    /// A named profile of the shared config files.
    pub profile: Option<String>,
}

impl Settings {
    pub fn parse(key: &str, settings: &Value) -> Result<Settings, ProviderError> {
        let bad =
            |m: String| ProviderError::new(ErrorKind::Invalid, format!("provider `{key}`: {m}"));
        let empty = BTreeMap::new();
        let map = match settings {
            Value::Null => &empty,
            other => other.as_map().ok_or_else(|| {
                bad(format!(
                    "settings must be a map such as {{ region: ap-northeast-1 }}, not a {}",
                    other.type_name()
                ))
            })?,
        };
        if let Some(unknown) = map.keys().find(|k| !SETTINGS.contains(&k.as_str())) {
            return Err(bad(format!(
                "unknown setting `{unknown}`; expected one of: {}",
                SETTINGS.join(", ")
            )));
        }
        let text = |name: &str| -> Result<Option<String>, ProviderError> {
            match map.get(name).map(Value::expose) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
                Some(other) => Err(bad(format!(
                    "`{name}` must be a non-empty string such as \"ap-northeast-1\", not {other}"
                ))),
            }
        };
        Ok(Settings {
            region: text("region")?,
            profile: text("profile")?,
        })
    }
}

/// The SDK clients of one provider instance.
// Clients for issue 5's services arrive before all of their types do.
#[allow(dead_code)]
#[derive(Clone, Debug)]
pub struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub s3: aws_sdk_s3::Client,
    pub sts: aws_sdk_sts::Client,
    pub iam: aws_sdk_iam::Client,
    pub kms: aws_sdk_kms::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub secretsmanager: aws_sdk_secretsmanager::Client,
    pub sns: aws_sdk_sns::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub acm: aws_sdk_acm::Client,
    pub route53: aws_sdk_route53::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    pub rds: aws_sdk_rds::Client,
    pub elasticache: aws_sdk_elasticache::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
    pub wafv2: aws_sdk_wafv2::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// Resource Groups Tagging API: finding what carries an environment's tags (`cairn drift`).
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    pub region: String,
}

impl Clients {
    pub async fn load(
        key: &str,
        settings: &Settings,
        counts: &CallCounts,
    ) -> Result<Clients, ProviderError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        let sdk = loader.load().await;
        let region = sdk.region().map(|r| r.to_string()).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Invalid,
                format!(
                    "provider `{key}`: no region: set `providers: {{ aws: {{ region: ap-northeast-1 }} }}` or AWS_REGION"
                ),
            )
        })?;
        // Checked once here so that a missing credential is one clear message, not the SDK's
        // error on whichever call came first.
        let credentials = sdk
            .credentials_provider()
            .ok_or_else(|| missing_credentials("no credentials provider configured"))?;
        credentials
            .provide_credentials()
            .await
            .map_err(|e| missing_credentials(&e.to_string()))?;

        // Every client counts its calls (`-v`); the SDK's config builders are distinct types.
        macro_rules! client {
            ($sdk_crate:ident $(, $setting:ident($value:expr))*) => {
                $sdk_crate::Client::from_conf(
                    $sdk_crate::config::Builder::from(&sdk)
                        $(.$setting($value))*
                        .interceptor(Counter { counts: counts.clone() })
                        .build(),
                )
            };
        }
        // Emulators and S3-compatible stores answer on one host: virtual-hosted bucket names
        // would not resolve there.
        let custom_endpoint = sdk.endpoint_url().is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some_and(|v| !v.is_empty());
        Ok(Clients {
            ec2: client!(aws_sdk_ec2),
            s3: client!(aws_sdk_s3, force_path_style(custom_endpoint)),
            sts: client!(aws_sdk_sts),
            iam: client!(aws_sdk_iam),
            kms: client!(aws_sdk_kms),
            logs: client!(aws_sdk_cloudwatchlogs),
            secretsmanager: client!(aws_sdk_secretsmanager),
            sns: client!(aws_sdk_sns),
            elbv2: client!(aws_sdk_elasticloadbalancingv2),
            acm: client!(aws_sdk_acm),
            route53: client!(aws_sdk_route53),
            ecs: client!(aws_sdk_ecs),
            autoscaling: client!(aws_sdk_applicationautoscaling),
            rds: client!(aws_sdk_rds),
            elasticache: client!(aws_sdk_elasticache),
            cloudfront: client!(aws_sdk_cloudfront),
            wafv2: client!(aws_sdk_wafv2),
            cloudwatch: client!(aws_sdk_cloudwatch),
            tagging: client!(aws_sdk_resourcegroupstagging),
            region,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_and_profile_are_read_and_unknown_settings_named() {
        let settings = Value::Map(BTreeMap::from([(
            "region".to_string(),
            Value::string("ap-northeast-1"),
        )]));
        assert_eq!(
            Settings::parse("aws", &settings).unwrap().region.as_deref(),
            Some("ap-northeast-1")
        );
        assert_eq!(
            Settings::parse("aws", &Value::Null).unwrap(),
            Settings::default()
        );
        let typo = Value::Map(BTreeMap::from([(
            "regoin".to_string(),
            Value::string("us-east-1"),
        )]));
        let err = Settings::parse("aws.dr", &typo).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid);
        assert_eq!(
            err.message,
            "provider `aws.dr`: unknown setting `regoin`; expected one of: region, profile"
        );
    }
}
