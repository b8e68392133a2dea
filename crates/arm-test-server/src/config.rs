//! The per-test configuration set through `PUT /_test/config`: LRO shapes per type, how many
//! polls an operation takes, operations that fail, injected faults, the accepted client secret
//! and the list page size. A PUT replaces the whole configuration; what it leaves out takes the
//! default.

use std::collections::HashMap;

use serde::Deserialize;

use crate::catalog::{ResourceType, find_type};
use crate::lro::{Mode, OpKind};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestConfig {
    /// Per ARM type: one mode for PUT, PATCH and DELETE, or `{"put": .., "patch": .., "delete": ..}`.
    #[serde(default)]
    pub lro: HashMap<String, LroChoice>,
    /// Non-terminal answers before an operation ends.
    #[serde(default = "default_polls")]
    pub polls: u32,
    /// Per ARM type: its operations end `Failed` with this error.
    #[serde(default)]
    pub fail: HashMap<String, FailSpec>,
    #[serde(default)]
    pub faults: Option<Faults>,
    /// When set, the token endpoint refuses any other secret.
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default = "default_page_size")]
    pub page_size: usize,
    /// `Retry-After` on LRO answers, in seconds (0 keeps tests fast).
    #[serde(default)]
    pub retry_after: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum LroChoice {
    All(Mode),
    PerOperation {
        #[serde(default)]
        put: Option<Mode>,
        #[serde(default)]
        patch: Option<Mode>,
        #[serde(default)]
        delete: Option<Mode>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailSpec {
    #[serde(default = "default_fail_code")]
    pub code: String,
    #[serde(default = "default_fail_message")]
    pub message: String,
    /// The HTTP status of a failure answered directly (sync mode, a `Location` poll).
    #[serde(default = "default_fail_status")]
    pub status: u16,
    /// Which operations fail: any of `put`, `patch`, `delete` (all when absent).
    #[serde(default)]
    pub on: Option<Vec<String>>,
}

/// Faults for ARM requests (not the token endpoint, not `/_test`): `next` fails the next N
/// requests, `every` fails every Nth one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// 429, 500 or 503.
    pub status: u16,
    #[serde(default)]
    pub next: Option<u64>,
    #[serde(default)]
    pub every: Option<u64>,
}

fn default_polls() -> u32 {
    1
}

fn default_page_size() -> usize {
    2
}

fn default_fail_code() -> String {
    "InternalServerError".to_string()
}

fn default_fail_message() -> String {
    "The operation failed (injected by the ARM test server)".to_string()
}

fn default_fail_status() -> u16 {
    400
}

impl Default for TestConfig {
    fn default() -> Self {
        TestConfig {
            lro: HashMap::new(),
            polls: default_polls(),
            fail: HashMap::new(),
            faults: None,
            client_secret: None,
            page_size: default_page_size(),
            retry_after: 0,
        }
    }
}

impl TestConfig {
    /// Parses and checks a configuration: every type named must be in the table, a fault must
    /// be one ARM answers with.
    pub fn parse(body: &str) -> Result<TestConfig, String> {
        let config: TestConfig = serde_json::from_str(body).map_err(|e| e.to_string())?;
        for name in config.lro.keys().chain(config.fail.keys()) {
            if find_type(name).is_none() {
                return Err(format!("unknown resource type '{name}'"));
            }
        }
        for spec in config.fail.values() {
            for op in spec.on.iter().flatten() {
                if !["put", "patch", "delete"].contains(&op.as_str()) {
                    return Err(format!("unknown operation '{op}' in fail.on"));
                }
            }
        }
        if let Some(f) = &config.faults {
            if ![429, 500, 503].contains(&f.status) {
                return Err(format!("fault status {} is not 429, 500 or 503", f.status));
            }
            if f.every == Some(0) {
                return Err("faults.every must be at least 1".to_string());
            }
        }
        if config.page_size == 0 {
            return Err("page_size must be at least 1".to_string());
        }
        Ok(config)
    }

    /// The mode of `kind` for `ty`: the test's choice, else the table's default.
    pub fn mode(&self, ty: &ResourceType, kind: OpKind) -> Mode {
        let index = match kind {
            OpKind::Put => 0,
            OpKind::Patch => 1,
            OpKind::Delete => 2,
        };
        let default = ty.lro[index];
        let chosen = self
            .lro
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(ty.arm_type))
            .map(|(_, choice)| choice);
        match chosen {
            None => default,
            Some(LroChoice::All(mode)) => *mode,
            Some(LroChoice::PerOperation { put, patch, delete }) => {
                let m = match kind {
                    OpKind::Put => put,
                    OpKind::Patch => patch,
                    OpKind::Delete => delete,
                };
                m.unwrap_or(default)
            }
        }
    }

    /// The failure configured for `kind` on `ty`, if any.
    pub fn failure(&self, ty: &ResourceType, kind: OpKind) -> Option<FailSpec> {
        self.fail
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(ty.arm_type))
            .map(|(_, spec)| spec)
            .filter(|spec| match &spec.on {
                None => true,
                Some(ops) => ops.iter().any(|o| o == kind.name()),
            })
            .cloned()
    }
}
