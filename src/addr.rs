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
                    InstanceKey::Key(unescape(s).ok_or_else(|| err("a bad escape in the key"))?)
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

/// Reads back a key as `Display` writes it (Rust's `{:?}` escapes: a key may hold quotes,
/// backslashes, newlines).
fn unescape(quoted: &str) -> Option<String> {
    if !quoted.contains('\\') {
        return Some(quoted.to_string());
    }
    let mut out = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '0' => '\0',
            'u' => {
                let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
            }
            other => other, // `\\`, `\"`, `\'`
        });
    }
    Some(out)
}

impl Serialize for ResourceAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ResourceAddr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ResourceAddr, D::Error> {
        // Parsed from the reader's own buffer: a state holds tens of thousands of addresses,
        // and a `String` of each first was a copy per address for nothing.
        struct AddrVisitor;
        impl serde::de::Visitor<'_> for AddrVisitor {
            type Value = ResourceAddr;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a resource address such as module.network.aws_subnet.public[\"a\"]")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<ResourceAddr, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(AddrVisitor)
    }
}

/// What `-target`, `state mv`, `state rm` and `moved:` name: a whole module call, every
/// instance of one resource, or one instance. Terraform's addresses, so `module.network` means
/// everything in that module, nested modules included.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddrSelector {
    /// `module.network`, `module.a.module.b`.
    Module(Vec<String>),
    /// `module.network.aws_subnet.public`: every instance, whatever its key.
    Resource(ResourceAddr),
    /// `aws_subnet.public["a"]`, or `aws_vpc.main` for a resource without count or for_each.
    Instance(ResourceAddr),
}

impl AddrSelector {
    /// Whether `addr` is one of the instances this selector names.
    pub fn matches(&self, addr: &ResourceAddr) -> bool {
        match self {
            AddrSelector::Module(path) => addr.module.starts_with(path),
            AddrSelector::Resource(r) => {
                addr.module == r.module
                    && addr.mode == r.mode
                    && addr.resource_type == r.resource_type
                    && addr.name == r.name
            }
            AddrSelector::Instance(i) => addr == i,
        }
    }

    /// Where `addr` (which this selector matches) lands when the selector is renamed to `to`;
    /// `None` when the two name different kinds of thing (a module and a resource) or when
    /// `addr` does not match.
    pub fn rebase(&self, addr: &ResourceAddr, to: &AddrSelector) -> Option<ResourceAddr> {
        if !self.matches(addr) {
            return None;
        }
        match (self, to) {
            (AddrSelector::Module(from), AddrSelector::Module(to)) => {
                let mut moved = addr.clone();
                moved.module = to.clone();
                moved
                    .module
                    .extend(addr.module[from.len()..].iter().cloned());
                Some(moved)
            }
            (AddrSelector::Resource(_), AddrSelector::Resource(to)) => Some(ResourceAddr {
                key: addr.key.clone(),
                ..to.clone()
            }),
            // A resource without count or for_each is named the same way as an instance.
            (AddrSelector::Resource(_), AddrSelector::Instance(to)) if addr.key.is_none() => {
                Some(to.clone())
            }
            (AddrSelector::Instance(_), AddrSelector::Instance(to)) => Some(to.clone()),
            (AddrSelector::Instance(_), AddrSelector::Resource(to)) if to.key.is_none() => {
                Some(to.clone())
            }
            _ => None,
        }
    }

    /// The resource type the selector names, if it names one.
    pub fn resource_type(&self) -> Option<&str> {
        match self {
            AddrSelector::Module(_) => None,
            AddrSelector::Resource(r) | AddrSelector::Instance(r) => Some(&r.resource_type),
        }
    }
}

impl fmt::Display for AddrSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrSelector::Module(path) => {
                let parts: Vec<String> = path.iter().map(|m| format!("module.{m}")).collect();
                write!(f, "{}", parts.join("."))
            }
            AddrSelector::Resource(r) => write!(f, "{}", r.resource_address()),
            AddrSelector::Instance(i) => write!(f, "{i}"),
        }
    }
}

impl FromStr for AddrSelector {
    type Err = AddrParseError;

    fn from_str(input: &str) -> Result<AddrSelector, AddrParseError> {
        let parts: Vec<&str> = input.split('.').collect();
        let is_module_path = !parts.is_empty()
            && parts.len().is_multiple_of(2)
            && parts
                .chunks(2)
                .all(|c| c[0] == "module" && !c[1].is_empty() && !c[1].contains('['));
        if is_module_path {
            return Ok(AddrSelector::Module(
                parts.chunks(2).map(|c| c[1].to_string()).collect(),
            ));
        }
        let addr: ResourceAddr = input.parse()?;
        // Without a key, the address names a resource; whether it has one instance or many is
        // known only from state or spec, and `matches` treats both alike.
        Ok(if addr.key.is_some() {
            AddrSelector::Instance(addr)
        } else {
            AddrSelector::Resource(addr)
        })
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
    fn a_key_with_quotes_backslashes_and_control_characters_survives_a_round_trip() {
        for key in [
            "a\"b",
            "back\\slash",
            "two\nlines\ttab",
            "x.y[1]",
            "bell\u{7}",
            "é ü",
        ] {
            let addr = ResourceAddr {
                module: vec!["net".into()],
                mode: ResourceMode::Managed,
                resource_type: "fake_subnet".into(),
                name: "s".into(),
                key: Some(InstanceKey::Key(key.into())),
            };
            let text = addr.to_string();
            assert_eq!(text.parse::<ResourceAddr>().unwrap(), addr, "{text}");
            let json = serde_json::to_string(&addr).unwrap();
            assert_eq!(
                serde_json::from_str::<ResourceAddr>(&json).unwrap(),
                addr,
                "{json}"
            );
        }
        assert!(
            "fake_subnet.s[\"bad\\u{zz}\"]"
                .parse::<ResourceAddr>()
                .is_err()
        );
    }

    #[test]
    fn selectors_name_modules_resources_and_instances() {
        let subnet: ResourceAddr = "module.net.fake_subnet.s[\"a\"]".parse().unwrap();
        let module: AddrSelector = "module.net".parse().unwrap();
        let resource: AddrSelector = "module.net.fake_subnet.s".parse().unwrap();
        let instance: AddrSelector = "module.net.fake_subnet.s[\"a\"]".parse().unwrap();
        let other: AddrSelector = "fake_subnet.s".parse().unwrap();
        assert!(module.matches(&subnet) && resource.matches(&subnet) && instance.matches(&subnet));
        assert!(!other.matches(&subnet));
        assert_eq!(module.to_string(), "module.net");
        let to: AddrSelector = "module.core".parse().unwrap();
        assert_eq!(
            module.rebase(&subnet, &to).unwrap().to_string(),
            "module.core.fake_subnet.s[\"a\"]"
        );
        let to: AddrSelector = "module.net.fake_subnet.t".parse().unwrap();
        assert_eq!(
            resource.rebase(&subnet, &to).unwrap().to_string(),
            "module.net.fake_subnet.t[\"a\"]"
        );
        assert_eq!(
            module.rebase(&subnet, &other),
            None,
            "a module is not a resource"
        );
    }

    #[test]
    fn rejects_addresses_without_type_and_name() {
        let err = "module.network".parse::<ResourceAddr>().unwrap_err();
        assert!(err.to_string().contains("TYPE.NAME"), "{err}");
    }
}
