//! The server's behaviour, independent of the HTTP library: routing an ARM path to a resource
//! type, the resource store (keyed by lower-cased id, since ARM ids are case-insensitive), PUT /
//! GET / PATCH / DELETE / list, long-running operations, faults, request counts, the token
//! endpoint and the `/_test` control endpoints. Every answer to bad input is an ARM error body,
//! never a panic.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::by_tag;
use crate::catalog::{Catalog, ResourceType, TYPES, find_type};
use crate::config::{FailSpec, TestConfig};
use crate::lro::{Mode, OpKind, OpStatus, Operation};

/// An HTTP request as the server sees it.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP answer. Header names are sent in the casing given here.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// ARM's error body: `{"error": {"code", "message"}}`.
fn arm_error(status: u16, code: &str, message: impl Into<String>) -> Reply {
    Reply::json(
        status,
        json!({"error": {"code": code, "message": message.into()}}),
    )
}

/// A stored resource.
#[derive(Debug)]
struct Stored {
    ty: &'static ResourceType,
    body: Value,
    /// The operation in flight on it, and its mode (a `provisioning-state` one advances on GET).
    pending: Option<(String, Mode)>,
}

/// Where an ARM path leads.
enum Route {
    Resource {
        ty: &'static ResourceType,
        id: String,
    },
    Collection {
        ty: &'static ResourceType,
        path: String,
    },
    Operation {
        id: String,
        /// Reached through the `Location` URL (else the `Azure-AsyncOperation` one).
        location: bool,
    },
    /// `/subscriptions/{s}/resources`: ARM's "Resources - List", every top-level resource of
    /// the subscription.
    Resources { path: String },
}

/// The api-version of "Resources - List" (`Microsoft.Resources`, not a type of the catalog).
pub const RESOURCES_API: &str = "2021-04-01";
/// The name requests to `/subscriptions/{s}/resources` are counted under.
const RESOURCES_COUNT: &str = "Microsoft.Resources/resources";

pub struct State {
    catalog: Arc<Catalog>,
    base_url: String,
    store: BTreeMap<String, Stored>,
    ops: HashMap<String, Operation>,
    config: TestConfig,
    counts: BTreeMap<String, u64>,
    /// ARM requests seen and faults given since the fault configuration was set.
    fault_seen: u64,
    fault_given: u64,
    /// Source of etags, operation ids and tokens.
    serial: u64,
}

impl State {
    pub fn new(catalog: Arc<Catalog>, base_url: String) -> State {
        State {
            catalog,
            base_url,
            store: BTreeMap::new(),
            ops: HashMap::new(),
            config: TestConfig::default(),
            counts: BTreeMap::new(),
            fault_seen: 0,
            fault_given: 0,
            serial: 0,
        }
    }

    pub fn handle(&mut self, req: &Request) -> Reply {
        if req.path.starts_with("/_test/") {
            return self.control(req);
        }
        if req.method == "POST" && is_token_path(&req.path) {
            self.count("POST token".to_string());
            return self.token(req);
        }
        let route = match route(&req.path) {
            Ok(r) => r,
            Err(reply) => return reply,
        };
        self.count(self.count_key(req, &route));
        if let Some(reply) = check_auth(req) {
            return reply;
        }
        if let Some(reply) = self.fault() {
            return reply;
        }
        match route {
            Route::Operation { id, location } => {
                if req.method != "GET" {
                    return method_not_allowed(&req.method);
                }
                self.poll(&id, location)
            }
            Route::Resource { ty, id } => {
                if let Some(reply) = check_api_version(req, ty) {
                    return reply;
                }
                match req.method.as_str() {
                    "PUT" => self.put(ty, &id, &req.body),
                    "GET" => self.get(ty, &id),
                    "PATCH" => self.patch(ty, &id, &req.body),
                    "DELETE" => self.delete(ty, &id),
                    other => method_not_allowed(other),
                }
            }
            Route::Collection { ty, path } => {
                if let Some(reply) = check_api_version(req, ty) {
                    return reply;
                }
                if req.method != "GET" {
                    return method_not_allowed(&req.method);
                }
                self.list(ty, &path, req.query("$skiptoken"), req.query("$filter"))
            }
            Route::Resources { path } => {
                if let Some(reply) = check_resources_api_version(req) {
                    return reply;
                }
                if req.method != "GET" {
                    return method_not_allowed(&req.method);
                }
                self.list_resources(&path, req.query("$skiptoken"), req.query("$filter"))
            }
        }
    }

    fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    fn count(&mut self, key: String) {
        *self.counts.entry(key).or_default() += 1;
    }

    /// `PUT <type>`, `GET <type>`, `LIST <type>` (first pages), `NEXT <type>` (pages reached
    /// through nextLink), `POLL <type>` (operation URLs).
    fn count_key(&self, req: &Request, route: &Route) -> String {
        match route {
            Route::Resource { ty, .. } => format!("{} {}", req.method, ty.arm_type),
            Route::Collection { ty, .. } if req.query("$skiptoken").is_some() => {
                format!("NEXT {}", ty.arm_type)
            }
            Route::Collection { ty, .. } => format!("LIST {}", ty.arm_type),
            Route::Resources { .. } if req.query("$skiptoken").is_some() => {
                format!("NEXT {RESOURCES_COUNT}")
            }
            Route::Resources { .. } => format!("LIST {RESOURCES_COUNT}"),
            Route::Operation { id, .. } => match self.ops.get(id) {
                Some(op) => format!("POLL {}", op.arm_type),
                None => "POLL unknown".to_string(),
            },
        }
    }

    fn fault(&mut self) -> Option<Reply> {
        let faults = self.config.faults.as_ref()?;
        self.fault_seen += 1;
        let hit = match (faults.next, faults.every) {
            (Some(n), _) if self.fault_given < n => true,
            (_, Some(every)) => self.fault_seen.is_multiple_of(every),
            _ => false,
        };
        if !hit {
            return None;
        }
        self.fault_given += 1;
        Some(match faults.status {
            429 => arm_error(
                429,
                "TooManyRequests",
                "The request is being throttled (injected by the ARM test server)",
            )
            .header("Retry-After", "1"),
            503 => arm_error(
                503,
                "ServiceUnavailable",
                "The service is unavailable (injected by the ARM test server)",
            )
            .header("Retry-After", "1"),
            _ => arm_error(
                500,
                "InternalServerError",
                "Internal server error (injected by the ARM test server)",
            ),
        })
    }

    // ----- resources -----------------------------------------------------------------------

    fn put(&mut self, ty: &'static ResourceType, id: &str, body: &str) -> Reply {
        let request = match parse_body(body) {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        if let Some(reply) = self.validate(ty, &request, false) {
            return reply;
        }
        if ty.tracked && request.get("location").and_then(Value::as_str).is_none() {
            return arm_error(
                400,
                "LocationRequired",
                "The location property is required for this definition.",
            );
        }
        if let Some(reply) = self.check_containers(ty, id) {
            return reply;
        }
        let key = id.to_ascii_lowercase();
        let existing = self.store.get(&key);
        if let (Some(old), Some(new)) = (
            existing
                .and_then(|s| s.body.get("location"))
                .and_then(Value::as_str),
            request.get("location").and_then(Value::as_str),
        ) && !same_location(old, new)
        {
            return arm_error(
                400,
                "InvalidResourceLocation",
                format!(
                    "The resource '{}' already exists in location '{old}'. A resource with the same name cannot be created in location '{new}'. Please select a new resource name.",
                    last_segment(id)
                ),
            );
        }
        let created = existing.is_none();
        let stored_id = existing
            .and_then(|s| s.body.get("id"))
            .and_then(Value::as_str)
            .unwrap_or(id)
            .to_string();

        let mut resource = request;
        if let Some((ex_req, ex_resp)) =
            self.catalog.examples_of(ty).and_then(|e| e.create.as_ref())
        {
            fill_defaults(&mut resource, ex_resp, ex_req, true);
        }
        if let Some(obj) = resource.as_object_mut() {
            obj.insert("id".into(), Value::String(stored_id.clone()));
            obj.insert("name".into(), Value::String(last_segment(id).to_string()));
            obj.insert("type".into(), Value::String(ty.arm_type.to_string()));
        }
        if self.shows_etag(ty) {
            let etag = self.etag();
            set_etag(&mut resource, etag);
        }

        let mode = self.config.mode(ty, OpKind::Put);
        let fail = self.config.failure(ty, OpKind::Put);
        let ok_status = if created { 201 } else { 200 };
        let running = if created { "Creating" } else { "Updating" };
        match mode {
            Mode::Sync | Mode::NoContent => {
                if let Some(fail) = fail {
                    set_state(ty, &mut resource, "Failed");
                    self.insert(key, ty, resource, None);
                    return fail_reply(&fail);
                }
                set_state(ty, &mut resource, "Succeeded");
                self.insert(key, ty, resource.clone(), None);
                Reply::json(ok_status, resource)
            }
            Mode::ProvisioningState | Mode::Accepted | Mode::AsyncOperation | Mode::Location => {
                set_state(ty, &mut resource, running);
                let op = self.start_op(&key, ty, OpKind::Put, fail);
                self.insert(key, ty, resource.clone(), Some((op.clone(), mode)));
                match mode {
                    Mode::ProvisioningState => Reply::json(ok_status, resource),
                    Mode::Accepted => Reply::empty(202),
                    Mode::AsyncOperation => Reply::json(ok_status, resource)
                        .header(
                            "Azure-AsyncOperation",
                            self.op_url(&stored_id, ty, &op, false),
                        )
                        .header("Retry-After", self.config.retry_after.to_string()),
                    _ => Reply::empty(202)
                        .header(ty.location_header, self.op_url(&stored_id, ty, &op, true))
                        .header("Retry-After", self.config.retry_after.to_string()),
                }
            }
        }
    }

    fn get(&mut self, ty: &'static ResourceType, id: &str) -> Reply {
        if let Some(reply) = self.check_resource_group(ty, id) {
            return reply;
        }
        let key = id.to_ascii_lowercase();
        let pending = match self.store.get(&key) {
            None => return not_found(ty, id),
            Some(s) => s.pending.clone(),
        };
        // Operations announced by no header complete as the client reads the resource.
        if let Some((op, Mode::ProvisioningState | Mode::Accepted)) = pending {
            self.advance(&op);
        }
        match self.store.get(&key) {
            Some(s) => Reply::json(200, s.body.clone()),
            None => not_found(ty, id),
        }
    }

    fn patch(&mut self, ty: &'static ResourceType, id: &str, body: &str) -> Reply {
        if let Some(reply) = self.check_resource_group(ty, id) {
            return reply;
        }
        if !ty.patchable {
            return method_not_allowed("PATCH");
        }
        let key = id.to_ascii_lowercase();
        let Some(current) = self.store.get(&key).map(|s| s.body.clone()) else {
            return not_found(ty, id);
        };
        let patch = match parse_body(body) {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        if let Some(reply) = self.validate(ty, &patch, true) {
            return reply;
        }
        let mut resource = current;
        merge_patch(&mut resource, &patch, true);
        if self.shows_etag(ty) {
            let etag = self.etag();
            set_etag(&mut resource, etag);
        }
        let stored_id = resource
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or(id)
            .to_string();
        let mode = self.config.mode(ty, OpKind::Patch);
        let fail = self.config.failure(ty, OpKind::Patch);
        match mode {
            Mode::Sync | Mode::NoContent => {
                if let Some(fail) = fail {
                    set_state(ty, &mut resource, "Failed");
                    self.insert(key, ty, resource, None);
                    return fail_reply(&fail);
                }
                set_state(ty, &mut resource, "Succeeded");
                self.insert(key, ty, resource.clone(), None);
                Reply::json(200, resource)
            }
            Mode::ProvisioningState | Mode::Accepted | Mode::AsyncOperation | Mode::Location => {
                set_state(ty, &mut resource, "Updating");
                let op = self.start_op(&key, ty, OpKind::Patch, fail);
                self.insert(key, ty, resource.clone(), Some((op.clone(), mode)));
                let retry = self.config.retry_after.to_string();
                match mode {
                    Mode::ProvisioningState => Reply::json(200, resource),
                    Mode::Accepted => Reply::empty(202),
                    // PostgreSQL's update example: 202, both headers, no body.
                    Mode::AsyncOperation => Reply::empty(202)
                        .header(
                            "Azure-AsyncOperation",
                            self.op_url(&stored_id, ty, &op, false),
                        )
                        .header(ty.location_header, self.op_url(&stored_id, ty, &op, true))
                        .header("Retry-After", retry),
                    // Redis's update example: 202 with the body and a `location` header.
                    _ => Reply::json(202, resource)
                        .header(ty.location_header, self.op_url(&stored_id, ty, &op, true))
                        .header("Retry-After", retry),
                }
            }
        }
    }

    fn delete(&mut self, ty: &'static ResourceType, id: &str) -> Reply {
        if let Some(reply) = self.check_resource_group(ty, id) {
            return reply;
        }
        let key = id.to_ascii_lowercase();
        let Some(stored_id) = self.store.get(&key).map(|s| {
            s.body
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or(id)
                .to_string()
        }) else {
            // ARM deletes are idempotent: nothing to delete is a success without content.
            return Reply::empty(204);
        };
        let mode = self.config.mode(ty, OpKind::Delete);
        let fail = self.config.failure(ty, OpKind::Delete);
        match mode {
            Mode::Sync | Mode::NoContent => {
                if let Some(fail) = fail {
                    self.set_stored_state(&key, "Failed");
                    return fail_reply(&fail);
                }
                self.remove(&key);
                if mode == Mode::Sync {
                    return Reply::empty(200);
                }
                self.no_content_with_example_headers(ty, &key, &stored_id)
            }
            Mode::ProvisioningState | Mode::Accepted | Mode::Location | Mode::AsyncOperation => {
                self.set_stored_state(&key, "Deleting");
                let op = self.start_op(&key, ty, OpKind::Delete, fail);
                if let Some(s) = self.store.get_mut(&key) {
                    s.pending = Some((op.clone(), mode));
                }
                if mode == Mode::Accepted {
                    return Reply::empty(202);
                }
                let retry = self.config.retry_after.to_string();
                let reply = Reply::empty(202);
                let reply = if mode == Mode::AsyncOperation {
                    reply.header(
                        "Azure-AsyncOperation",
                        self.op_url(&stored_id, ty, &op, false),
                    )
                } else {
                    reply
                };
                reply
                    .header(ty.location_header, self.op_url(&stored_id, ty, &op, true))
                    .header("Retry-After", retry)
            }
        }
    }

    /// A 204 for a finished delete, carrying the LRO headers the type's example shows on its
    /// 204 (pointing at an operation that has already succeeded), so that a client learns that
    /// 204 means done whatever headers come with it.
    fn no_content_with_example_headers(
        &mut self,
        ty: &'static ResourceType,
        key: &str,
        resource_id: &str,
    ) -> Reply {
        let names = self
            .catalog
            .examples_of(ty)
            .map(|e| e.delete_204_headers.clone())
            .unwrap_or_default();
        let mut reply = Reply::empty(204);
        if names.is_empty() {
            return reply;
        }
        let op = self.start_op(key, ty, OpKind::Delete, None);
        if let Some(o) = self.ops.get_mut(&op) {
            o.status = OpStatus::Succeeded;
        }
        for name in names {
            let location = !name.eq_ignore_ascii_case("Azure-AsyncOperation");
            let url = self.op_url(resource_id, ty, &op, location);
            reply = reply.header(&name, url);
        }
        reply
    }

    fn list(
        &mut self,
        ty: &'static ResourceType,
        path: &str,
        skip: Option<&str>,
        filter: Option<&str>,
    ) -> Reply {
        // The container of the listed resources must exist: the resource group for a top-level
        // type, the parent for a child.
        if ty.parent.is_some() {
            let parent_path = parent_id_of_collection(ty, path);
            if !self.store.contains_key(&parent_path.to_ascii_lowercase()) {
                return arm_error(
                    404,
                    "ParentResourceNotFound",
                    format!(
                        "Failed to perform 'read' on resource(s) of type '{}', because the parent resource '{parent_path}' could not be found.",
                        child_type_name(ty)
                    ),
                );
            }
        } else if let Some(reply) = self.check_resource_group(ty, path) {
            return reply;
        }
        let start = match skip_token(skip) {
            Ok(n) => n,
            Err(reply) => return reply,
        };
        // Of the lists the server serves, only "Resource Groups - List" takes a tag filter in
        // ARM; the other lists keep ignoring `$filter` as they always did here.
        let tag = match filter.filter(|_| ty.arm_type == RESOURCE_GROUPS) {
            Some(f) => match by_tag::parse(f) {
                Ok(t) => Some(t),
                Err(why) => return invalid_filter(f, &why),
            },
            None => None,
        };
        let prefix = path.trim_end_matches('/').to_ascii_lowercase();
        let items: Vec<Value> = self
            .store
            .iter()
            .filter(|(key, s)| {
                std::ptr::eq(s.ty, ty) && key.rsplit_once('/').map(|(p, _)| p) == Some(&prefix)
            })
            .filter(|(_, s)| tag.as_ref().is_none_or(|t| t.matches(&s.body)))
            .map(|(_, s)| s.body.clone())
            .collect();
        let filter = tag.as_ref().and(filter);
        self.page(items, start, path, ty.api_version, filter)
    }

    /// "Resources - List": every top-level tracked resource of the subscription (ARM lists no
    /// child resources such as subnets, and no resource groups), as its envelope without
    /// `properties`. A tag filter keeps those carrying the pair, and then, as ARM documents
    /// ("when you filter by a tag name and value, the tags for each resource are not returned
    /// in the results"), the `tags` member is left out.
    fn list_resources(&mut self, path: &str, skip: Option<&str>, filter: Option<&str>) -> Reply {
        let start = match skip_token(skip) {
            Ok(n) => n,
            Err(reply) => return reply,
        };
        let tag = match filter {
            Some(f) => match by_tag::parse(f) {
                Ok(t) => Some(t),
                Err(why) => return invalid_filter(f, &why),
            },
            None => None,
        };
        let prefix = format!("{}/", collection_of(path).to_ascii_lowercase());
        let items: Vec<Value> = self
            .store
            .iter()
            .filter(|(key, s)| {
                key.starts_with(&prefix)
                    && s.ty.tracked
                    && s.ty.parent.is_none()
                    && s.ty.arm_type != RESOURCE_GROUPS
            })
            .filter(|(_, s)| tag.as_ref().is_none_or(|t| t.matches(&s.body)))
            .map(|(_, s)| {
                let mut item = generic_resource(&s.body);
                if tag.as_ref().is_some_and(|t| t.value.is_some())
                    && let Some(obj) = item.as_object_mut()
                {
                    obj.remove("tags");
                }
                item
            })
            .collect();
        self.page(items, start, path, RESOURCES_API, filter)
    }

    /// One page of a list, with the nextLink to the rest (carrying the filter, as ARM's do).
    fn page(
        &self,
        items: Vec<Value>,
        start: usize,
        path: &str,
        api_version: &str,
        filter: Option<&str>,
    ) -> Reply {
        let page = self.config.page_size;
        let more = start + page < items.len();
        let value: Vec<Value> = items.into_iter().skip(start).take(page).collect();
        let mut body = json!({ "value": value });
        if more {
            let filter = filter
                .map(|f| format!("&$filter={}", by_tag::encode(f)))
                .unwrap_or_default();
            body["nextLink"] = Value::String(format!(
                "{}{}?api-version={}{filter}&$skiptoken={}",
                self.base_url,
                path,
                api_version,
                start + page
            ));
        }
        Reply::json(200, body)
    }

    /// For a PUT: the resource group must exist, and so must the parent of a child.
    fn check_containers(&self, ty: &'static ResourceType, id: &str) -> Option<Reply> {
        if let Some(reply) = self.check_resource_group(ty, id) {
            return Some(reply);
        }
        let parent_ty = find_type(ty.parent?)?;
        let parent = parent_id(parent_ty, id)?;
        if self.store.contains_key(&parent.to_ascii_lowercase()) {
            return None;
        }
        Some(arm_error(
            404,
            "ParentResourceNotFound",
            format!(
                "Failed to perform 'write' on resource(s) of type '{}', because the parent resource '{parent}' could not be found.",
                child_type_name(ty)
            ),
        ))
    }

    fn check_resource_group(&self, ty: &'static ResourceType, id: &str) -> Option<Reply> {
        if ty.parent.is_none() && ty.arm_type == "Microsoft.Resources/resourceGroups" {
            return None;
        }
        let segments: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
        let rg = segments.get(3)?;
        let key =
            format!("/subscriptions/{}/resourcegroups/{}", segments[1], rg).to_ascii_lowercase();
        if self.store.contains_key(&key) {
            return None;
        }
        Some(arm_error(
            404,
            "ResourceGroupNotFound",
            format!("Resource group '{rg}' could not be found."),
        ))
    }

    fn validate(&self, ty: &ResourceType, body: &Value, patch: bool) -> Option<Reply> {
        if !body.is_object() {
            return Some(arm_error(
                400,
                "InvalidRequestContent",
                "The request content was invalid and cannot be deserialized: expected a JSON object.",
            ));
        }
        let mut schemas = Vec::new();
        if patch {
            schemas.extend(ty.patch_schema);
        }
        schemas.extend(ty.put_schema);
        let shapes = self
            .catalog
            .examples_of(ty)
            .map(|e| e.shapes.as_slice())
            .unwrap_or_default();
        if schemas.is_empty() && shapes.is_empty() {
            return None;
        }
        match self.catalog.swagger.check(body, &schemas, shapes) {
            Ok(()) => None,
            Err(path) => Some(arm_error(
                400,
                "InvalidRequestContent",
                format!(
                    "The request content was invalid and cannot be deserialized: Could not find member '{}' on object of type '{}'. Path '{path}'.",
                    path.rsplit(['.', ']']).next().unwrap_or(&path),
                    ty.arm_type
                ),
            )),
        }
    }

    fn insert(
        &mut self,
        key: String,
        ty: &'static ResourceType,
        body: Value,
        pending: Option<(String, Mode)>,
    ) {
        self.store.insert(key, Stored { ty, body, pending });
    }

    fn set_stored_state(&mut self, key: &str, state: &str) {
        if let Some(s) = self.store.get_mut(key) {
            set_state(s.ty, &mut s.body, state);
        }
    }

    /// Removes a resource and everything nested under it (a resource group's resources, a
    /// virtual network's subnets), as ARM does.
    fn remove(&mut self, key: &str) {
        let nested = format!("{key}/");
        self.store
            .retain(|k, _| k != key && !k.starts_with(&nested));
    }

    /// Whether the type's examples show an `etag` (resource groups, for one, have none); types
    /// without examples get one.
    fn shows_etag(&self, ty: &ResourceType) -> bool {
        match self.catalog.examples_of(ty) {
            Some(e) if !e.shapes.is_empty() => e.shapes.iter().any(|s| s.get("etag").is_some()),
            _ => true,
        }
    }

    fn etag(&mut self) -> String {
        let n = self.next_serial();
        format!("W/\"00000000-0000-0000-0000-{n:012}\"")
    }

    // ----- long-running operations ---------------------------------------------------------

    fn start_op(
        &mut self,
        key: &str,
        ty: &'static ResourceType,
        kind: OpKind,
        fail: Option<FailSpec>,
    ) -> String {
        let id = format!("00000000-0000-0000-0001-{:012}", self.next_serial());
        self.ops.insert(
            id.clone(),
            Operation {
                resource_key: key.to_string(),
                arm_type: ty.arm_type,
                kind,
                polls_left: self.config.polls,
                fail,
                status: OpStatus::InProgress,
            },
        );
        id
    }

    fn op_url(&self, resource_id: &str, ty: &ResourceType, op: &str, location: bool) -> String {
        let subscription = resource_id
            .split('/')
            .filter(|s| !s.is_empty())
            .nth(1)
            .unwrap_or("unknown");
        let namespace = ty.arm_type.split('/').next().unwrap_or(ty.arm_type);
        let kind = if location {
            "operationResults"
        } else {
            "azureAsyncOperations"
        };
        format!(
            "{}/subscriptions/{subscription}/providers/{namespace}/locations/local/{kind}/{op}?api-version={}",
            self.base_url, ty.api_version
        )
    }

    /// One poll of an operation: a non-terminal answer while polls are left, else the operation
    /// ends and its effect on the resource is applied (only if it is still the resource's
    /// latest operation).
    fn advance(&mut self, id: &str) -> OpStatus {
        let Some(op) = self.ops.get_mut(id) else {
            return OpStatus::Failed;
        };
        if op.status != OpStatus::InProgress {
            return op.status.clone();
        }
        if op.polls_left > 0 {
            op.polls_left -= 1;
            return OpStatus::InProgress;
        }
        op.status = if op.fail.is_some() {
            OpStatus::Failed
        } else {
            OpStatus::Succeeded
        };
        let (key, kind, status) = (op.resource_key.clone(), op.kind, op.status.clone());
        let latest = self
            .store
            .get(&key)
            .and_then(|s| s.pending.as_ref())
            .is_some_and(|(p, _)| p == id);
        if latest {
            match (&status, kind) {
                (OpStatus::Succeeded, OpKind::Delete) => self.remove(&key),
                (OpStatus::Succeeded, _) => self.finish(&key, "Succeeded"),
                _ => self.finish(&key, "Failed"),
            }
        }
        status
    }

    fn finish(&mut self, key: &str, state: &str) {
        if let Some(s) = self.store.get_mut(key) {
            s.pending = None;
            set_state(s.ty, &mut s.body, state);
        }
    }

    fn poll(&mut self, id: &str, location: bool) -> Reply {
        let Some(op) = self.ops.get(id).cloned() else {
            return arm_error(
                404,
                "OperationNotFound",
                format!("The operation '{id}' could not be found."),
            );
        };
        let status = self.advance(id);
        let Some(ty) = find_type(op.arm_type) else {
            return arm_error(500, "InternalServerError", "operation of an unknown type");
        };
        let retry = self.config.retry_after.to_string();
        if !location {
            let mut body = json!({"name": id, "status": status_name(&status)});
            if status == OpStatus::Failed
                && let Some(fail) = &op.fail
            {
                body["error"] = json!({"code": fail.code, "message": fail.message});
            }
            let reply = Reply::json(200, body);
            return if status == OpStatus::InProgress {
                reply.header("Retry-After", retry)
            } else {
                reply
            };
        }
        match status {
            OpStatus::InProgress => {
                let resource_id = self
                    .store
                    .get(&op.resource_key)
                    .and_then(|s| s.body.get("id"))
                    .and_then(Value::as_str)
                    .unwrap_or(&op.resource_key)
                    .to_string();
                Reply::empty(202)
                    .header(ty.location_header, self.op_url(&resource_id, ty, id, true))
                    .header("Retry-After", retry)
            }
            OpStatus::Failed => match &op.fail {
                Some(fail) => fail_reply(fail),
                None => arm_error(500, "InternalServerError", "The operation failed."),
            },
            OpStatus::Succeeded => match op.kind {
                OpKind::Delete => Reply::empty(204),
                _ => match self.store.get(&op.resource_key) {
                    Some(s) => Reply::json(200, s.body.clone()),
                    None => Reply::empty(204),
                },
            },
        }
    }

    // ----- token endpoint ------------------------------------------------------------------

    fn token(&mut self, req: &Request) -> Reply {
        let form = parse_form(&req.body);
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        if field("grant_type") != Some("client_credentials") {
            return aad_error(
                400,
                "unsupported_grant_type",
                70003,
                "AADSTS70003: The app requested an unsupported grant type. Only client_credentials is served by the ARM test server.",
            );
        }
        for required in ["client_id", "scope"] {
            if field(required).is_none_or(str::is_empty) {
                return aad_error(
                    400,
                    "invalid_request",
                    900144,
                    &format!(
                        "AADSTS900144: The request body must contain the following parameter: '{required}'."
                    ),
                );
            }
        }
        let client_id = field("client_id").unwrap_or_default();
        let secret = field("client_secret").unwrap_or_default();
        if secret.is_empty() {
            return aad_error(
                401,
                "invalid_client",
                7000216,
                "AADSTS7000216: 'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
            );
        }
        if let Some(expected) = &self.config.client_secret
            && expected != secret
        {
            return aad_error(
                401,
                "invalid_client",
                7000215,
                &format!(
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                ),
            );
        }
        let n = self.next_serial();
        Reply::json(
            200,
            json!({
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": format!("arm-test-token-{n}"),
            }),
        )
    }

    // ----- /_test control endpoints --------------------------------------------------------

    fn control(&mut self, req: &Request) -> Reply {
        match (req.method.as_str(), req.path.trim_end_matches('/')) {
            ("PUT", "/_test/config") => match TestConfig::parse(&req.body) {
                Ok(config) => {
                    self.config = config;
                    self.fault_seen = 0;
                    self.fault_given = 0;
                    Reply::empty(204)
                }
                Err(message) => arm_error(400, "InvalidTestConfig", message),
            },
            ("GET", "/_test/requests") => Reply::json(
                200,
                Value::Object(
                    self.counts
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::from(*v)))
                        .collect(),
                ),
            ),
            ("DELETE", "/_test/requests") => {
                self.counts.clear();
                Reply::empty(204)
            }
            ("POST", "/_test/reset") => {
                self.store.clear();
                self.ops.clear();
                self.counts.clear();
                self.config = TestConfig::default();
                self.fault_seen = 0;
                self.fault_given = 0;
                Reply::empty(204)
            }
            ("GET", "/_test/types") => Reply::json(200, self.types_json()),
            _ => arm_error(
                404,
                "NotFound",
                format!("no control endpoint {} {}", req.method, req.path),
            ),
        }
    }

    /// The table with the modes now in force, for a client author to see what to expect.
    fn types_json(&self) -> Value {
        let types: Vec<Value> = TYPES
            .iter()
            .map(|t| {
                json!({
                    "type": t.arm_type,
                    "apiVersion": t.api_version,
                    "parent": t.parent,
                    "patch": t.patchable,
                    "validated": t.put_schema.is_some() || t.examples.is_some(),
                    "lro": {
                        "put": self.config.mode(t, OpKind::Put).name(),
                        "patch": self.config.mode(t, OpKind::Patch).name(),
                        "delete": self.config.mode(t, OpKind::Delete).name(),
                    },
                })
            })
            .collect();
        Value::Array(types)
    }
}

// ----- routing -------------------------------------------------------------------------------

fn is_token_path(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    matches!(segments.as_slice(), [_, "oauth2", "v2.0", "token"])
}

fn route(path: &str) -> Result<Route, Reply> {
    let trimmed = path.trim_end_matches('/');
    let seg: Vec<&str> = trimmed.split('/').filter(|s| !s.is_empty()).collect();
    let eq = |i: usize, s: &str| seg.get(i).is_some_and(|x| x.eq_ignore_ascii_case(s));
    let rg_type = find_type("Microsoft.Resources/resourceGroups");
    if !eq(0, "subscriptions") || seg.len() < 3 {
        return Err(arm_error(
            404,
            "NotFound",
            format!("The path '{path}' is not an ARM path served by the test server."),
        ));
    }
    if seg.len() == 3 && eq(2, "resources") {
        return Ok(Route::Resources {
            path: trimmed.to_string(),
        });
    }
    if eq(2, "providers") {
        // /subscriptions/{s}/providers/{ns}/locations/{loc}/{azureAsyncOperations|operationResults}/{id}
        if seg.len() == 8
            && eq(4, "locations")
            && (eq(6, "azureAsyncOperations") || eq(6, "operationResults"))
        {
            return Ok(Route::Operation {
                id: seg[7].to_string(),
                location: eq(6, "operationResults"),
            });
        }
        return Err(arm_error(
            404,
            "NotFound",
            format!("The path '{path}' is not served by the ARM test server."),
        ));
    }
    if !eq(2, "resourceGroups") {
        return Err(arm_error(
            404,
            "NotFound",
            format!("The path '{path}' is not served by the ARM test server."),
        ));
    }
    let Some(rg_type) = rg_type else {
        return Err(arm_error(
            500,
            "InternalServerError",
            "no resource group type",
        ));
    };
    match seg.len() {
        3 => {
            return Ok(Route::Collection {
                ty: rg_type,
                path: trimmed.to_string(),
            });
        }
        4 => {
            return Ok(Route::Resource {
                ty: rg_type,
                id: trimmed.to_string(),
            });
        }
        _ => {}
    }
    if !eq(4, "providers") || seg.len() < 7 {
        return Err(arm_error(
            404,
            "NotFound",
            format!("The path '{path}' is not served by the ARM test server."),
        ));
    }
    let namespace = seg[5];
    let rest = &seg[6..];
    let types: Vec<&str> = rest.iter().step_by(2).copied().collect();
    let arm_type = format!("{namespace}/{}", types.join("/"));
    let Some(ty) = find_type(&arm_type) else {
        return Err(arm_error(
            400,
            "InvalidResourceType",
            format!(
                "The resource type '{}' could not be found in the namespace '{namespace}'.",
                types.join("/")
            ),
        ));
    };
    if rest.len().is_multiple_of(2) {
        Ok(Route::Resource {
            ty,
            id: trimmed.to_string(),
        })
    } else {
        Ok(Route::Collection {
            ty,
            path: trimmed.to_string(),
        })
    }
}

/// The id of the `parent_ty` resource that `id` nests under: the resource-group part, the
/// namespace and as many type/name pairs as the parent type has.
fn parent_id(parent_ty: &ResourceType, id: &str) -> Option<String> {
    let seg: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
    let pairs = parent_ty.arm_type.split('/').count() - 1;
    let take = 6 + 2 * pairs;
    if seg.len() < take {
        return None;
    }
    Some(format!("/{}", seg[..take].join("/")))
}

/// The parent id for a child collection path (`.../virtualNetworks/v/subnets`).
fn parent_id_of_collection(ty: &ResourceType, path: &str) -> String {
    ty.parent
        .and_then(find_type)
        .and_then(|p| parent_id(p, path))
        .unwrap_or_else(|| path.to_string())
}

/// `virtualNetworks/subnets`: the type without its namespace, as ARM's messages name it.
fn child_type_name(ty: &ResourceType) -> &str {
    ty.arm_type
        .split_once('/')
        .map(|(_, t)| t)
        .unwrap_or(ty.arm_type)
}

fn last_segment(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

fn check_auth(req: &Request) -> Option<Reply> {
    match req.header("Authorization") {
        None => Some(arm_error(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        )),
        Some(value) => {
            let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
            if scheme.eq_ignore_ascii_case("Bearer") && !token.trim().is_empty() {
                None
            } else {
                Some(arm_error(
                    401,
                    "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                ))
            }
        }
    }
}

fn check_api_version(req: &Request, ty: &ResourceType) -> Option<Reply> {
    match req.query("api-version") {
        None => Some(arm_error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )),
        Some(v) if v == ty.api_version => None,
        Some(v) if ty.arm_type == "Microsoft.Resources/resourceGroups" => Some(arm_error(
            400,
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{v}' is invalid. The supported versions are '{}'.",
                ty.api_version
            ),
        )),
        Some(v) => Some(arm_error(
            400,
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for location 'local' and API version '{v}' for type '{}'. The supported api-versions are '{}'.",
                child_type_name(ty),
                ty.api_version
            ),
        )),
    }
}

const RESOURCE_GROUPS: &str = "Microsoft.Resources/resourceGroups";

/// The api-version check of "Resources - List", worded as ARM words it for its own namespace.
fn check_resources_api_version(req: &Request) -> Option<Reply> {
    match req.query("api-version") {
        None => Some(arm_error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )),
        Some(RESOURCES_API) => None,
        Some(v) => Some(arm_error(
            400,
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{v}' is invalid. The supported versions are '{RESOURCES_API}'."
            ),
        )),
    }
}

/// `$skiptoken`: the index of a page's first item (the server's own token format).
fn skip_token(skip: Option<&str>) -> Result<usize, Reply> {
    match skip.map(str::parse) {
        None => Ok(0),
        Some(Ok(n)) => Ok(n),
        Some(Err(_)) => Err(arm_error(
            400,
            "InvalidSkipToken",
            "The $skiptoken is not valid.",
        )),
    }
}

fn invalid_filter(filter: &str, why: &str) -> Reply {
    arm_error(
        400,
        "InvalidFilterInQueryString",
        format!("Invalid $filter '{filter}' specified in the query string ({why})."),
    )
}

/// `/subscriptions/{s}/resources` → `/subscriptions/{s}`.
fn collection_of(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit_once('/')
        .map(|(c, _)| c)
        .unwrap_or(path)
}

/// A resource as "Resources - List" shows it (`GenericResourceExpanded`): the envelope, no
/// `properties`.
fn generic_resource(body: &Value) -> Value {
    const ENVELOPE: &[&str] = &[
        "id",
        "name",
        "type",
        "location",
        "extendedLocation",
        "kind",
        "managedBy",
        "sku",
        "identity",
        "plan",
        "tags",
    ];
    let mut out = Map::new();
    if let Some(obj) = body.as_object() {
        for key in ENVELOPE {
            if let Some(v) = obj.get(*key) {
                out.insert((*key).to_string(), v.clone());
            }
        }
    }
    Value::Object(out)
}

fn method_not_allowed(method: &str) -> Reply {
    arm_error(
        405,
        "MethodNotAllowed",
        format!("The requested resource does not support http method '{method}'."),
    )
}

fn not_found(ty: &ResourceType, id: &str) -> Reply {
    let seg: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
    if ty.arm_type == "Microsoft.Resources/resourceGroups" {
        let rg = seg.get(3).copied().unwrap_or_default();
        return arm_error(
            404,
            "ResourceGroupNotFound",
            format!("Resource group '{rg}' could not be found."),
        );
    }
    let rg = seg.get(3).copied().unwrap_or_default();
    let names = seg.get(5..).map(|s| s.join("/")).unwrap_or_default();
    arm_error(
        404,
        "ResourceNotFound",
        format!(
            "The Resource '{names}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

fn fail_reply(fail: &FailSpec) -> Reply {
    arm_error(fail.status, &fail.code, fail.message.clone())
}

fn aad_error(status: u16, error: &str, code: u64, description: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "error": error,
            "error_description": description,
            "error_codes": [code],
            "timestamp": "2026-01-01 00:00:00Z",
            "trace_id": "00000000-0000-0000-0000-000000000000",
            "correlation_id": "00000000-0000-0000-0000-000000000000",
        }),
    )
}

fn status_name(status: &OpStatus) -> &'static str {
    match status {
        OpStatus::InProgress => "InProgress",
        OpStatus::Succeeded => "Succeeded",
        OpStatus::Failed => "Failed",
    }
}

// ----- bodies --------------------------------------------------------------------------------

fn parse_body(body: &str) -> Result<Value, Reply> {
    serde_json::from_str(body).map_err(|e| {
        arm_error(
            400,
            "InvalidRequestContent",
            format!("The request content was invalid and cannot be deserialized: {e}."),
        )
    })
}

/// `eastus` and `East US` are the same location to ARM.
fn same_location(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.replace(' ', "").to_ascii_lowercase();
    norm(a) == norm(b)
}

/// Top-level members a client writes; an example response's values for them are the example's
/// own settings, not server defaults.
const WRITABLE_ENVELOPE: &[&str] = &[
    "tags",
    "sku",
    "zones",
    "identity",
    "kind",
    "extendedLocation",
    "plan",
    "managedBy",
    "location",
];

/// Adds to `target` what the example response has and the example request lacked (what the
/// server computes), where `target` lacks it too. Arrays are not entered: their items are the
/// client's.
fn fill_defaults(target: &mut Value, response: &Value, request: &Value, top: bool) {
    let (Some(t), Some(r)) = (target.as_object_mut(), response.as_object()) else {
        return;
    };
    for (key, value) in r {
        if top && WRITABLE_ENVELOPE.contains(&key.as_str()) {
            continue;
        }
        let sent = request.get(key);
        match t.get_mut(key) {
            None => {
                if sent.is_none() {
                    t.insert(key.clone(), value.clone());
                }
            }
            Some(existing) => {
                if existing.is_object() && value.is_object() {
                    fill_defaults(existing, value, sent.unwrap_or(&Value::Null), false);
                }
            }
        }
    }
}

/// JSON merge patch (null removes), except that `tags` is replaced whole, as ARM's tag updates
/// do.
fn merge_patch(target: &mut Value, patch: &Value, top: bool) {
    let (Some(t), Some(p)) = (target.as_object_mut(), patch.as_object()) else {
        return;
    };
    for (key, value) in p {
        if value.is_null() {
            t.remove(key);
            continue;
        }
        match t.get_mut(key) {
            Some(existing)
                if existing.is_object() && value.is_object() && !(top && key == "tags") =>
            {
                merge_patch(existing, value, false);
            }
            _ => {
                t.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Sets `properties.provisioningState` for types whose examples show one.
fn set_state(ty: &ResourceType, body: &mut Value, state: &str) {
    if !has_provisioning_state(ty) {
        return;
    }
    let Some(obj) = body.as_object_mut() else {
        return;
    };
    let props = obj
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(p) = props.as_object_mut() {
        p.insert(
            "provisioningState".to_string(),
            Value::String(state.to_string()),
        );
    }
}

/// Blob containers have no `provisioningState` in ARM; the types without examples are given
/// one (PostgreSQL databases and firewall rules do carry one).
fn has_provisioning_state(ty: &ResourceType) -> bool {
    ty.arm_type != "Microsoft.Storage/storageAccounts/blobServices/containers"
}

fn set_etag(body: &mut Value, etag: String) {
    if let Some(obj) = body.as_object_mut() {
        obj.insert("etag".to_string(), Value::String(etag));
    }
}

/// `application/x-www-form-urlencoded` pairs.
fn parse_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Decodes `%XX` and `+`; malformed escapes are kept as they are.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
