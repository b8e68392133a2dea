//! Hand-built plans the renderer tests share: one realistic plan touching every action, and the
//! edge cases (destroy mode, nothing to do, only outputs changing).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::addr::ResourceAddr;
use crate::plan::{
    Action, ActionReason, AttrChange, OutputChange, PLAN_FORMAT_VERSION, Plan, PlanMode,
    ResourceChange, StateRef,
};
use crate::providers::ProviderConfig;
use crate::spec::expr::{Expr, ExprKind, PathStep};
use crate::spec::span::Span;
use crate::value::Value;

/// The database password every test checks never leaks.
pub const SECRET: &str = "s3cret-value";

pub fn s(v: &str) -> Value {
    Value::string(v)
}

pub fn secret(v: &str) -> Value {
    Value::Sensitive(Box::new(Value::string(v)))
}

pub fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn span() -> Span {
    Span::synthetic("fixture")
}

pub fn lit(v: Value) -> Expr {
    Expr::literal(v, span())
}

/// `${<addr>.<attr>}` left for apply to resolve.
pub fn residual(addr: &str, attr: &str) -> Expr {
    Expr::new(
        ExprKind::ResourceAttr {
            addr: addr.to_string(),
            path: vec![PathStep::Key(attr.to_string())],
        },
        span(),
    )
}

pub fn attr(name: &str, before: Option<Value>, after: Option<Value>) -> AttrChange {
    AttrChange {
        name: name.to_string(),
        before,
        after,
        forces_replacement: false,
        sensitive: false,
        waits_for_maintenance: false,
    }
}

fn addr(text: &str) -> ResourceAddr {
    text.parse().unwrap()
}

/// A change whose `before`, `after` and `replace_paths` follow from its attributes, as the
/// differ builds them: known values become literals in `after`, unknown ones residuals over the
/// instance itself.
pub fn resource(address: &str, action: Action, attributes: Vec<AttrChange>) -> ResourceChange {
    let address = addr(address);
    let before: BTreeMap<String, Value> = attributes
        .iter()
        .filter_map(|a| a.before.clone().map(|v| (a.name.clone(), v)))
        .collect();
    let after_entries: Vec<(String, Expr)> = attributes
        .iter()
        .filter_map(|a| match &a.after {
            Some(Value::Unknown) | None => None,
            Some(v) => Some((a.name.clone(), lit(v.clone()))),
        })
        .collect();
    ResourceChange {
        mode: address.mode,
        resource_type: address.resource_type.clone(),
        address,
        provider: "fake".to_string(),
        action,
        reason: None,
        id: before
            .get("id")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        before: (!before.is_empty()).then_some(Value::Map(before).into()),
        after: (action != Action::Delete).then(|| Expr::new(ExprKind::Map(after_entries), span())),
        replace_paths: attributes
            .iter()
            .filter(|a| a.forces_replacement)
            .map(|a| a.name.clone())
            .collect(),
        attributes,
        depends_on: Vec::new(),
        create_before_destroy: false,
        timeouts: Default::default(),
        weight: 1.0,
    }
}

fn set_after(change: &mut ResourceChange, name: &str, expr: Expr) {
    if let Some(Expr {
        kind: ExprKind::Map(entries),
        ..
    }) = &mut change.after
    {
        entries.retain(|(k, _)| k != name);
        entries.push((name.to_string(), expr));
    }
}

fn plan(mode: PlanMode, changes: Vec<ResourceChange>, outputs: Vec<OutputChange>) -> Plan {
    Plan {
        format_version: PLAN_FORMAT_VERSION,
        cairn_version: "0.1.0".to_string(),
        environment: "dev".to_string(),
        created_at: "2026-08-01T09:30:00Z".to_string(),
        mode,
        prior_state: StateRef {
            lineage: Some("5f0c7a2e-lineage".to_string()),
            serial: 7,
            path: None,
            s3: None,
        },
        providers: vec![ProviderConfig {
            name: "fake".to_string(),
            alias: None,
            settings: map(&[
                ("region", s("ap-northeast-1")),
                ("latency_ms", Value::Number(0.0)),
            ]),
            project_dir: PathBuf::from("/srv/infra"),
            environment: "dev".to_string(),
        }],
        changes,
        outputs,
        moved: Vec::new(),
        targets: Vec::new(),
        drift: Vec::new(),
    }
}

fn output(name: &str, before: Option<Value>, after: Option<Expr>) -> OutputChange {
    OutputChange {
        name: name.to_string(),
        before,
        after,
        sensitive: false,
    }
}

const VPC: &str = "module.network.fake_network.vpc";

fn vpc_create() -> ResourceChange {
    resource(
        VPC,
        Action::Create,
        vec![
            attr("arn", None, Some(Value::Unknown)),
            attr("cidr_block", None, Some(s("10.0.0.0/16"))),
            attr("id", None, Some(Value::Unknown)),
            attr(
                "tags",
                None,
                Some(map(&[("Name", s("datasets-dev")), ("env", s("dev"))])),
            ),
        ],
    )
}

fn subnet_create() -> ResourceChange {
    let mut subnet = resource(
        "module.network.fake_subnet.public[\"ap-northeast-1a\"]",
        Action::Create,
        vec![
            attr("availability_zone", None, Some(s("ap-northeast-1a"))),
            attr("cidr_block", None, Some(s("10.0.1.0/24"))),
            attr("id", None, Some(Value::Unknown)),
            attr("vpc_id", None, Some(Value::Unknown)),
        ],
    );
    set_after(&mut subnet, "vpc_id", residual(VPC, "id"));
    subnet.depends_on = vec![addr(VPC)];
    subnet
}

fn subnet_c_unchanged() -> ResourceChange {
    let same = |name: &str, v: Value| attr(name, Some(v.clone()), Some(v));
    let mut subnet = resource(
        "module.network.fake_subnet.public[\"ap-northeast-1c\"]",
        Action::NoOp,
        vec![
            same("availability_zone", s("ap-northeast-1c")),
            same("cidr_block", s("10.0.3.0/24")),
            same("id", s("subnet-c")),
            same("vpc_id", s("net-9")),
        ],
    );
    subnet.depends_on = vec![addr(VPC)];
    subnet
}

fn zones_read() -> ResourceChange {
    let mut zones = resource(
        "data.fake_zones.available",
        Action::Read,
        vec![
            attr("id", None, Some(Value::Unknown)),
            attr("names", None, Some(Value::Unknown)),
            attr("region", None, Some(s("ap-northeast-1"))),
            attr("vpc_id", None, Some(Value::Unknown)),
        ],
    );
    set_after(&mut zones, "vpc_id", residual(VPC, "id"));
    zones.reason = Some(ActionReason::ReadBecauseConfigUnknown);
    zones.depends_on = vec![addr(VPC)];
    zones
}

fn subnet_update() -> ResourceChange {
    let same = |name: &str, v: Value| attr(name, Some(v.clone()), Some(v));
    resource(
        "fake_subnet.a",
        Action::Update,
        vec![
            same("availability_zone", s("ap-northeast-1a")),
            same("cidr_block", s("10.0.9.0/24")),
            same("id", s("subnet-1")),
            attr("name", Some(s("a")), Some(s("b"))),
            attr(
                "tags",
                Some(map(&[("env", s("dev")), ("team", s("core"))])),
                Some(map(&[
                    ("env", s("dev")),
                    ("owner", s("infra")),
                    ("team", s("platform")),
                ])),
            ),
            same("vpc_id", s("net-shared")),
        ],
    )
}

fn network_replace() -> ResourceChange {
    let mut cidr = attr("cidr_block", Some(s("10.0.0.0/16")), Some(s("10.1.0.0/16")));
    cidr.forces_replacement = true;
    let mut network = resource(
        "fake_network.b",
        Action::DeleteThenCreate,
        vec![
            attr(
                "arn",
                Some(s("arn:fake:network/net-1")),
                Some(Value::Unknown),
            ),
            cidr,
            attr("id", Some(s("net-1")), Some(Value::Unknown)),
            attr("name", Some(s("b")), Some(s("b"))),
        ],
    );
    network.reason = Some(ActionReason::ReplaceBecauseCannotUpdate);
    network
}

fn bucket_replace_first() -> ResourceChange {
    let mut bucket = attr("bucket", Some(s("assets-v1")), Some(s("assets-v2")));
    bucket.forces_replacement = true;
    let mut change = resource(
        "fake_bucket.assets",
        Action::CreateThenDelete,
        vec![
            bucket,
            attr("id", Some(s("assets-v1")), Some(Value::Unknown)),
            attr(
                "versioning",
                Some(Value::Bool(true)),
                Some(Value::Bool(true)),
            ),
        ],
    );
    change.reason = Some(ActionReason::ReplaceBecauseCannotUpdate);
    change.create_before_destroy = true;
    change
}

fn database_update() -> ResourceChange {
    let same = |name: &str, v: Value| attr(name, Some(v.clone()), Some(v));
    let mut password = attr("password", Some(secret("s3cret-old")), Some(secret(SECRET)));
    password.sensitive = true;
    let mut db = resource(
        "fake_database.main",
        Action::Update,
        vec![
            same("engine", s("postgres")),
            same("id", s("db-1")),
            same("instance_class", s("small")),
            password,
            same("storage_gb", Value::Number(20.0)),
        ],
    );
    db.depends_on = vec![addr("fake_subnet.a")];
    db
}

fn legacy_delete() -> ResourceChange {
    let mut legacy = resource(
        "fake_network.legacy",
        Action::Delete,
        vec![
            attr("cidr_block", Some(s("10.9.0.0/16")), None),
            attr("id", Some(s("net-old")), None),
            attr("tags", Some(map(&[("env", s("dev"))])), None),
        ],
    );
    legacy.reason = Some(ActionReason::DeleteBecauseNoResourceConfig);
    legacy
}

fn shared_unchanged() -> ResourceChange {
    let same = |name: &str, v: Value| attr(name, Some(v.clone()), Some(v));
    resource(
        "fake_network.shared",
        Action::NoOp,
        vec![
            same("cidr_block", s("10.8.0.0/16")),
            same("id", s("net-shared")),
        ],
    )
}

/// Every action at once, as `cairn plan -e dev` could print it.
pub fn realistic() -> Plan {
    let mut db_password = output(
        "db_password",
        Some(secret("s3cret-old")),
        Some(lit(secret(SECRET))),
    );
    db_password.sensitive = true;
    plan(
        PlanMode::Normal,
        vec![
            vpc_create(),
            subnet_create(),
            subnet_c_unchanged(),
            zones_read(),
            shared_unchanged(),
            subnet_update(),
            network_replace(),
            bucket_replace_first(),
            database_update(),
            legacy_delete(),
        ],
        vec![
            output(
                "bucket_name",
                Some(s("assets-v1")),
                Some(lit(s("assets-v2"))),
            ),
            db_password,
            output("legacy_id", Some(s("net-old")), None),
            output(
                "region",
                Some(s("ap-northeast-1")),
                Some(lit(s("ap-northeast-1"))),
            ),
            output("vpc_id", None, Some(residual(VPC, "id"))),
        ],
    )
}

/// `cairn plan -destroy` of a small environment, the database included.
pub fn destroy_all() -> Plan {
    let db = resource(
        "fake_database.main",
        Action::Delete,
        vec![
            attr("engine", Some(s("postgres")), None),
            attr("id", Some(s("db-1")), None),
            AttrChange {
                sensitive: true,
                waits_for_maintenance: false,
                ..attr("password", Some(secret(SECRET)), None)
            },
        ],
    );
    let network = resource(
        VPC,
        Action::Delete,
        vec![
            attr("cidr_block", Some(s("10.0.0.0/16")), None),
            attr("id", Some(s("net-1")), None),
            attr(
                "subnet_ids",
                Some(Value::List(vec![s("subnet-a"), s("subnet-c")])),
                None,
            ),
        ],
    );
    let mut db_password = output("db_password", Some(secret(SECRET)), None);
    db_password.sensitive = true;
    plan(
        PlanMode::Destroy,
        vec![db, network],
        vec![output("vpc_id", Some(s("net-1")), None), db_password],
    )
}

/// The environment already matches its spec.
pub fn no_changes() -> Plan {
    plan(
        PlanMode::Normal,
        vec![shared_unchanged(), subnet_c_unchanged()],
        vec![output(
            "region",
            Some(s("ap-northeast-1")),
            Some(lit(s("ap-northeast-1"))),
        )],
    )
}

/// Only a new output: apply would touch no cloud object.
pub fn outputs_only() -> Plan {
    plan(
        PlanMode::Normal,
        vec![shared_unchanged()],
        vec![
            output(
                "region",
                Some(s("ap-northeast-1")),
                Some(lit(s("ap-northeast-1"))),
            ),
            output(
                "network_cidrs",
                None,
                Some(lit(Value::List(vec![s("10.8.0.0/16"), s("10.9.0.0/16")]))),
            ),
        ],
    )
}
