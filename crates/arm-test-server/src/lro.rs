//! Long-running operations: the shapes a PUT, PATCH or DELETE can take, and the operations the
//! server keeps while one is in flight (polled through the resource itself, an
//! `Azure-AsyncOperation` URL or a `Location` URL).

use serde::Deserialize;

use crate::config::FailSpec;

/// How a mutating request answers and how its completion is observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Done at once: PUT 200/201, PATCH 200, DELETE 200.
    Sync,
    /// Done at once; a DELETE answers 204 (PUT and PATCH behave as `sync`).
    NoContent,
    /// PUT 201/200 with `provisioningState` `Creating`/`Updating`; the resource turns
    /// `Succeeded` after N GETs. A DELETE in this mode behaves as `location`.
    ProvisioningState,
    /// 201/200 (PUT) or 202 (PATCH, DELETE) with `Azure-AsyncOperation` (and `Location` on
    /// 202s); the operation URL answers `InProgress` N times, then `Succeeded` or `Failed`.
    AsyncOperation,
    /// 202 with no body and no header at all (the PUT 202s of the NAT gateway, PostgreSQL,
    /// storage and Log Analytics examples): the client can only GET the resource, which shows
    /// the non-terminal state N times, then `Succeeded` (or, for a DELETE, 404).
    Accepted,
    /// 202 with a `Location` header; the URL answers 202 N times, then 200 with the resource
    /// (PUT, PATCH) or 204 (DELETE).
    Location,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Sync => "sync",
            Mode::NoContent => "no-content",
            Mode::ProvisioningState => "provisioning-state",
            Mode::AsyncOperation => "async-operation",
            Mode::Accepted => "accepted",
            Mode::Location => "location",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Put,
    Patch,
    Delete,
}

impl OpKind {
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Put => "put",
            OpKind::Patch => "patch",
            OpKind::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpStatus {
    InProgress,
    Succeeded,
    Failed,
}

/// One operation in flight (or finished: finished ones keep answering their final status, as
/// ARM's do for a while).
#[derive(Debug, Clone)]
pub struct Operation {
    /// The lower-cased id the resource is stored under.
    pub resource_key: String,
    pub arm_type: &'static str,
    pub kind: OpKind,
    /// Non-terminal answers still to give.
    pub polls_left: u32,
    pub fail: Option<FailSpec>,
    pub status: OpStatus,
}
