//! Terraform-style resource addresses: `module.network.aws_subnet.public["ap-northeast-1a"]`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The key of one instance of a resource with `count` or `for_each`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstanceKey {
    Index(u64),
    Key(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Index(i) => write!(f, "[{i}]"),
            InstanceKey::Key(k) => write!(f, "[{k:?}]"),
        }
    }
}

/// Managed resources are created by cairn; data sources are only read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceMode {
    Managed,
    Data,
}

/// The address of one resource instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceAddr {
    /// Module call names from the root: `["network"]` for `module.network.…`.
    pub module: Vec<String>,
    pub mode: ResourceMode,
    pub resource_type: String,
    pub name: String,
    pub key: Option<InstanceKey>,
}

impl ResourceAddr {
    /// `module.network` (empty for the root module).
    pub fn module_address(&self) -> String {
        self.module
            .iter()
            .map(|m| format!("module.{m}"))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The address without the instance key: `module.network.aws_subnet.public`.
    pub fn resource_address(&self) -> String {
        let mut out = self.module_address();
        if !out.is_empty() {
            out.push('.');
        }
        if self.mode == ResourceMode::Data {
            out.push_str("data.");
        }
        out.push_str(&self.resource_type);
        out.push('.');
        out.push_str(&self.name);
        out
    }
}

impl fmt::Display for ResourceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.resource_address())?;
        if let Some(key) = &self.key {
            write!(f, "{key}")?;
        }
        Ok(())
    }
}

/// Why a string is not a resource address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{input}` is not a resource address: {reason} (expected a form such as `module.network.fake_network.vpc` or `fake_subnet.public[\"a\"]`)"
)]
pub struct AddrParseError {
    pub input: String,
    pub reason: String,
}

impl FromStr for ResourceAddr {
    type Err = AddrParseError;

    fn from_str(input: &str) -> Result<ResourceAddr, AddrParseError> {
        let err = |reason: &str| AddrParseError {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let (head, key) = match input.find('[') {
            Some(pos) => {
                let inner = input[pos..]
                    .strip_prefix('[')
                    .and_then(|s| s.strip_suffix(']'))
                    .ok_or_else(|| err("unclosed `[`"))?;
                let key = if let Some(s) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"'))
                {
                    InstanceKey::Key(s.to_string())
                } else {
                    InstanceKey::Index(
                        inner
                            .parse()
                            .map_err(|_| err("an instance key is a number or a quoted string"))?,
                    )
                };
                (&input[..pos], Some(key))
            }
            None => (input, None),
        };
        let parts: Vec<&str> = head.split('.').collect();
        let mut module = Vec::new();
        let mut i = 0;
        while i + 1 < parts.len() && parts[i] == "module" {
            module.push(parts[i + 1].to_string());
            i += 2;
        }
        let mut mode = ResourceMode::Managed;
        if parts.get(i) == Some(&"data") {
            mode = ResourceMode::Data;
            i += 1;
        }
        match &parts[i..] {
            [ty, name] if !ty.is_empty() && !name.is_empty() => Ok(ResourceAddr {
                module,
                mode,
                resource_type: ty.to_string(),
                name: name.to_string(),
                key,
            }),
            _ => Err(err("it must end with TYPE.NAME")),
        }
    }
}

impl Serialize for ResourceAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ResourceAddr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ResourceAddr, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_terraform_addresses() {
        for text in [
            "fake_network.vpc",
            "module.network.fake_subnet.public[\"ap-northeast-1a\"]",
            "module.a.module.b.fake_database.db[2]",
            "data.fake_zones.available",
        ] {
            let addr: ResourceAddr = text.parse().unwrap();
            assert_eq!(addr.to_string(), text);
        }
    }

    #[test]
    fn rejects_addresses_without_type_and_name() {
        let err = "module.network".parse::<ResourceAddr>().unwrap_err();
        assert!(err.to_string().contains("TYPE.NAME"), "{err}");
    }
}
