//! The `providers: { azure: { subscription_id: ..., location: ... } }` settings of one provider
//! block (an alias such as `azure.dr` is a second block, typically another region).

use std::collections::BTreeMap;

use cairn_provider::provider::{ErrorKind, ProviderError};
use cairn_provider::value::Value;

const SETTINGS: [&str; 3] = ["subscription_id", "location", "endpoint"];
pub const PUBLIC_ENDPOINT: &str = "https://management.azure.com";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The setting, else `AZURE_SUBSCRIPTION_ID`; checked when the first request is made so
    /// that `validate` works without one.
    pub subscription_id: Option<String>,
    /// The region resources go to when they do not name one (`eastus`).
    pub location: Option<String>,
    /// Resource Manager's URL: the setting, else `AZURE_RESOURCE_MANAGER_ENDPOINT`, else the
    /// public cloud's. The tests point it at the local ARM server.
    pub endpoint: String,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
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
                    "settings must be a map such as {{ subscription_id: ..., location: eastus }}, not a {}",
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
                    "`{name}` must be a non-empty string, not {other}"
                ))),
            }
        };
        let endpoint = text("endpoint")?
            .or_else(|| env("AZURE_RESOURCE_MANAGER_ENDPOINT"))
            .unwrap_or_else(|| PUBLIC_ENDPOINT.to_string());
        if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
            return Err(bad(format!(
                "`endpoint` must be an http(s) URL such as {PUBLIC_ENDPOINT}, not {endpoint:?}"
            )));
        }
        Ok(Settings {
            subscription_id: text("subscription_id")?.or_else(|| env("AZURE_SUBSCRIPTION_ID")),
            location: text("location")?.map(|l| crate::types::normalize_location(&l)),
            endpoint,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read_and_typos_named() {
        let settings = Value::Map(BTreeMap::from([
            ("subscription_id".to_string(), Value::string("sub-1")),
            ("location".to_string(), Value::string("East US")),
            ("endpoint".to_string(), Value::string("http://127.0.0.1:1")),
        ]));
        let parsed = Settings::parse("azure", &settings).unwrap();
        assert_eq!(parsed.subscription_id.as_deref(), Some("sub-1"));
        assert_eq!(parsed.location.as_deref(), Some("eastus"));
        assert_eq!(parsed.endpoint, "http://127.0.0.1:1");

        let typo = Value::Map(BTreeMap::from([(
            "subscription".to_string(),
            Value::string("x"),
        )]));
        let err = Settings::parse("azure.dr", &typo).unwrap_err();
        assert_eq!(
            err.message,
            "provider `azure.dr`: unknown setting `subscription`; expected one of: subscription_id, location, endpoint"
        );
    }
}
