//! Saved plan files: the plan, the state it was made against, and a checksum. Also the check that
//! a saved plan still applies to the state as it is now.
//!
//! # File layout
//!
//! ```text
//! {
//!   "format": "cairn-plan",
//!   "format_version": 1,
//!   "checksum": "sha256:…",
//!   "plan": {…the plan, compact, on one line…}
//! }
//! ```
//!
//! The checksum is the SHA-256 of the `plan` member's text exactly as written (the compact
//! serialization of the [`Plan`]), so verifying it hashes bytes instead of re-serializing what was
//! read back. Compact JSON never holds a raw newline, which is what lets the loader find those
//! bytes: the plan is the line before the closing `}`.
//!
//! A plan file holds the desired values of every attribute, secrets included, in plaintext: apply
//! needs them. Treat it like a secret: it is written readable by its owner only (mode 0600), and
//! it should never be committed or published as a build artifact that others can read.

use std::fs;
use std::io;
use std::path::Path;

use serde::Deserialize;
use serde::de::IgnoredAny;
use sha2::{Digest, Sha256};

use super::secrets::Missing;
use super::{PLAN_FORMAT_VERSION, Plan};
use crate::limits::{MAX_STATE_FILE_BYTES, read_capped};
use crate::state::State;
use crate::state::local::write_atomically;

/// The `format` member that marks a cairn plan file.
const FORMAT: &str = "cairn-plan";
/// How every plan file this cairn writes begins: enough to recognize a damaged one.
const FILE_START: &[u8] = b"{\n  \"format\": \"cairn-plan\",";
const PLAN_LINE_START: &str = "  \"plan\": ";

#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("plan file {path} does not exist (save one with `cairn plan --out {path}`)")]
    NotFound { path: String },
    #[error(
        "{path} is not a cairn plan file (it looks like {looks_like}); `cairn apply` takes the file that `cairn plan --out` writes"
    )]
    NotAPlan { path: String, looks_like: String },
    #[error(
        "{path} exists and is not a cairn plan file (it looks like {looks_like}); it was left untouched: give `--out` a new file name, or remove the file first"
    )]
    WouldOverwrite { path: String, looks_like: String },
    #[error("plan file {path} is corrupt: {reason}; make a new plan with `cairn plan --out`")]
    Corrupt { path: String, reason: String },
    #[error("cannot use the saved plan {path}: {source}")]
    Secret {
        path: String,
        #[source]
        source: super::secrets::SecretError,
    },
    #[error(
        "plan file {path} was made by a newer cairn (plan format {found}, this cairn reads {supported}); apply it with the cairn that made it, or make a new plan"
    )]
    TooNew {
        path: String,
        found: u64,
        supported: u32,
    },
    #[error("{action} plan file {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: io::Error,
    },
}

/// Why a saved plan cannot be applied to the state as it is now. Each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StalePlan {
    #[error(
        "the plan is for environment `{plan}` but `-e {given}` was given; apply it with `-e {plan}`, or make a plan for `{given}`"
    )]
    WrongEnvironment { plan: String, given: String },
    #[error("the plan is for environment `{plan}` but the state found belongs to `{state}`")]
    StateOfAnotherEnvironment { plan: String, state: String },
    #[error(
        "the plan was made against a different state: lineage {planned}, now {now}; run `cairn plan` again"
    )]
    LineageChanged { planned: String, now: String },
    #[error(
        "state serial was {planned} when the plan was made and is now {now}: someone applied in between; run `cairn plan` again"
    )]
    StateMovedOn { planned: u64, now: u64 },
    #[error(
        "state serial was {planned} when the plan was made and is now {now}: the state was restored from an older copy; run `cairn plan` again"
    )]
    StateWentBack { planned: u64, now: u64 },
    #[error(
        "the plan was made when environment `{environment}` had no state, but it has one now (serial {serial}): someone applied in between; run `cairn plan` again"
    )]
    StateAppeared { environment: String, serial: u64 },
    #[error(
        "the plan was made against state lineage {lineage} (serial {serial}), but environment `{environment}` has no state now: was the state file deleted or moved? Run `cairn plan` again"
    )]
    StateGone {
        environment: String,
        lineage: String,
        serial: u64,
    },
}

/// Writes `plan` to `path` atomically, readable by its owner only.
pub fn save(plan: &Plan, path: &Path) -> Result<(), PlanFileError> {
    let io_error = |action, source| PlanFileError::Io {
        action,
        path: path.display().to_string(),
        source,
    };
    let mut json =
        serde_json::to_value(plan).map_err(|e| io_error("serializing", io::Error::other(e)))?;
    super::secrets::name_env_secrets(&mut json);
    let body =
        serde_json::to_vec(&json).map_err(|e| io_error("serializing", io::Error::other(e)))?;
    let header = format!(
        "{{\n  \"format\": \"{FORMAT}\",\n  \"format_version\": {PLAN_FORMAT_VERSION},\n  \"checksum\": \"sha256:{}\",\n{PLAN_LINE_START}",
        hex::encode(Sha256::digest(&body))
    );
    refuse_to_clobber(path)?;
    write_atomically(path, &[header.as_bytes(), &body, b"\n}\n"], None)
        .map_err(|failure| io_error(failure.action, failure.source))
}

/// Refuses to replace a file that is not a cairn plan: `--out` pointed by mistake at a spec, the
/// state file or anything else must not destroy it. A cairn plan, even a damaged one, may be
/// replaced: making a new plan is what its error message tells the user to do.
fn refuse_to_clobber(path: &Path) -> Result<(), PlanFileError> {
    use std::io::Read;
    let mut head = Vec::new();
    match fs::File::open(path) {
        Ok(file) => {
            // Enough to recognise the envelope and to say what the file looks like.
            let _ = file.take(64 * 1024).read_to_end(&mut head);
        }
        Err(_) => return Ok(()),
    }
    if head.starts_with(FILE_START) || !path.is_file() {
        return Ok(());
    }
    Err(PlanFileError::WouldOverwrite {
        path: path.display().to_string(),
        looks_like: looks_like_start(&head),
    })
}

/// Reads and verifies a plan saved by [`save`], to apply it: every secret it needs must be
/// available (see [`super::secrets`]).
pub fn load(path: &Path) -> Result<Plan, PlanFileError> {
    load_with(path, Missing::Refuse)
}

/// Reads and verifies a plan to show it: secrets are masked in every rendering anyway, so one
/// the environment cannot supply is left blank.
pub fn load_to_show(path: &Path) -> Result<Plan, PlanFileError> {
    load_with(path, Missing::Mask)
}

fn load_with(path: &Path, missing: Missing) -> Result<Plan, PlanFileError> {
    let shown = path.display().to_string();
    let bytes = read_capped(path, MAX_STATE_FILE_BYTES).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => PlanFileError::NotFound {
            path: shown.clone(),
        },
        _ => PlanFileError::Io {
            action: "reading",
            path: shown.clone(),
            source,
        },
    })?;
    let bytes = bytes.map_err(|size| PlanFileError::Corrupt {
        path: shown.clone(),
        reason: format!(
            "it is {size} bytes, over the limit of {} MiB for a saved plan",
            MAX_STATE_FILE_BYTES >> 20
        ),
    })?;
    parse_with(&bytes, &shown, missing)
}

/// Whether `plan` may be applied: to the environment given on the command line (if any) and to
/// the state as it is now (`None` when the environment has no state).
pub fn check_applicable(
    plan: &Plan,
    environment: Option<&str>,
    current: Option<&State>,
) -> Result<(), StalePlan> {
    if let Some(given) = environment.filter(|given| *given != plan.environment) {
        return Err(StalePlan::WrongEnvironment {
            plan: plan.environment.clone(),
            given: given.to_string(),
        });
    }
    let planned = &plan.prior_state;
    match (&planned.lineage, current) {
        (None, None) => Ok(()),
        (None, Some(state)) => Err(StalePlan::StateAppeared {
            environment: plan.environment.clone(),
            serial: state.serial,
        }),
        (Some(lineage), None) => Err(StalePlan::StateGone {
            environment: plan.environment.clone(),
            lineage: lineage.clone(),
            serial: planned.serial,
        }),
        (Some(lineage), Some(state)) => {
            if state.environment != plan.environment {
                Err(StalePlan::StateOfAnotherEnvironment {
                    plan: plan.environment.clone(),
                    state: state.environment.clone(),
                })
            } else if *lineage != state.lineage {
                Err(StalePlan::LineageChanged {
                    planned: lineage.clone(),
                    now: state.lineage.clone(),
                })
            } else if state.serial > planned.serial {
                Err(StalePlan::StateMovedOn {
                    planned: planned.serial,
                    now: state.serial,
                })
            } else if state.serial < planned.serial {
                Err(StalePlan::StateWentBack {
                    planned: planned.serial,
                    now: state.serial,
                })
            } else {
                Ok(())
            }
        }
    }
}

/// The envelope, read without building the plan.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    format: Option<IgnoredAny>,
    #[serde(default)]
    format_version: Option<u64>,
    #[serde(default)]
    checksum: Option<String>,
    #[serde(default)]
    plan: Option<IgnoredAny>,
}

/// Just the `format` member, when it is a string.
#[derive(Deserialize)]
struct FormatOnly {
    format: String,
}

pub(crate) fn parse(bytes: &[u8], shown: &str) -> Result<Plan, PlanFileError> {
    parse_with(bytes, shown, Missing::Refuse)
}

fn parse_with(bytes: &[u8], shown: &str, missing: Missing) -> Result<Plan, PlanFileError> {
    let corrupt = |reason: String| PlanFileError::Corrupt {
        path: shown.to_string(),
        reason,
    };
    let not_a_plan = || PlanFileError::NotAPlan {
        path: shown.to_string(),
        looks_like: looks_like(bytes),
    };
    let ours = bytes.starts_with(FILE_START);
    let envelope: Envelope = match serde_json::from_slice(bytes) {
        Ok(envelope) => envelope,
        Err(e) if ours => return Err(corrupt(json_damage(&e))),
        Err(_) => return Err(not_a_plan()),
    };
    let is_plan = envelope.format.is_some()
        && serde_json::from_slice::<FormatOnly>(bytes).is_ok_and(|f| f.format == FORMAT);
    if !is_plan {
        return Err(not_a_plan());
    }
    let version = envelope
        .format_version
        .ok_or_else(|| corrupt("missing `format_version`".to_string()))?;
    if version > u64::from(PLAN_FORMAT_VERSION) {
        return Err(PlanFileError::TooNew {
            path: shown.to_string(),
            found: version,
            supported: PLAN_FORMAT_VERSION,
        });
    }
    let checksum = envelope
        .checksum
        .ok_or_else(|| corrupt("missing `checksum`".to_string()))?;
    if envelope.plan.is_none() {
        return Err(corrupt("missing `plan`".to_string()));
    }
    let body = plan_bytes(bytes).filter(|body| {
        checksum.strip_prefix("sha256:") == Some(hex::encode(Sha256::digest(body)).as_str())
    });
    let Some(body) = body else {
        return Err(corrupt(
            "checksum mismatch: the file was changed or damaged after cairn wrote it".to_string(),
        ));
    };
    let not_understood = |e: serde_json::Error| {
        corrupt(format!(
            "the plan inside is not one this cairn understands ({e})"
        ))
    };
    let mut json: serde_json::Value = serde_json::from_slice(body).map_err(not_understood)?;
    super::secrets::restore_env_secrets(&mut json, missing).map_err(|source| {
        PlanFileError::Secret {
            path: shown.to_string(),
            source,
        }
    })?;
    serde_json::from_value(json).map_err(not_understood)
}

/// The `plan` member's text: the line before the closing `}`.
fn plan_bytes(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_suffix(b"\n}\n")?;
    let line_start = rest.iter().rposition(|b| *b == b'\n')? + 1;
    rest[line_start..].strip_prefix(PLAN_LINE_START.as_bytes())
}

/// A JSON error in a file that began as a plan file.
fn json_damage(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Eof => format!(
            "truncated: it ends at line {} column {} before the plan is complete",
            e.line(),
            e.column()
        ),
        _ => format!("invalid JSON ({e})"),
    }
}

/// [`looks_like`] for the first bytes of a file, which may end inside a UTF-8 character or a
/// JSON value.
fn looks_like_start(head: &[u8]) -> String {
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) if e.valid_up_to() + 4 >= head.len() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return "binary data".to_string(),
    };
    if text.contains("\"lineage\"") && text.trim_start().starts_with('{') {
        return "a cairn state file".to_string();
    }
    looks_like(text.as_bytes())
}

/// A short guess at what a file that is not a plan is, for the message.
fn looks_like(bytes: &[u8]) -> String {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return "binary data".to_string();
    };
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return "an empty file".to_string();
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return match serde_json::from_str::<serde_json::Value>(text) {
            Ok(json) if json.get("resource_changes").is_some() => {
                "the JSON plan that `cairn plan --json` writes, which is for reading, not applying"
                    .to_string()
            }
            Ok(json) if json.get("lineage").is_some() => "a cairn state file".to_string(),
            Ok(_) => "JSON, but without the cairn plan envelope".to_string(),
            Err(_) => "damaged JSON".to_string(),
        };
    }
    if trimmed.starts_with("---") || text.lines().any(is_yaml_key_line) {
        return "YAML, such as a cairn spec or environment file".to_string();
    }
    "plain text".to_string()
}

/// `name:` or `name: value` at the start of a line (after indentation or `- `).
fn is_yaml_key_line(line: &str) -> bool {
    let line = line.trim_start().trim_start_matches("- ");
    let Some((key, rest)) = line.split_once(':') else {
        return false;
    };
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && (rest.is_empty() || rest.starts_with(' '))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::addr::ResourceMode;
    use crate::plan::{
        Action, ActionReason, AttrChange, OutputChange, PlanMode, ResourceChange, StateRef,
    };
    use crate::providers::ProviderConfig;
    use crate::spec::expr::ast::{Expr, ExprKind, PathStep};
    use crate::spec::span::Span;
    use crate::value::Value;

    fn literal(value: Value) -> Expr {
        Expr::literal(value, Span::synthetic("test"))
    }

    /// A plan for `stg` made against lineage `lin-a` at serial 4: a new subnet inside an existing
    /// network, and a renamed database whose password is a secret.
    fn plan() -> Plan {
        let subnet_after = Expr::new(
            ExprKind::Map(vec![
                (
                    "cidr_block".to_string(),
                    literal(Value::string("10.0.1.0/24")),
                ),
                (
                    "network_id".to_string(),
                    Expr::new(
                        ExprKind::ResourceAttr {
                            addr: "fake_network.vpc".to_string(),
                            path: vec![PathStep::Key("id".to_string())],
                        },
                        Span::new("envs/stg.yaml".into(), 12, 19, 14),
                    ),
                ),
            ]),
            Span::new("envs/stg.yaml".into(), 10, 5, 0),
        );
        let secret = Value::Sensitive(Box::new(Value::string("hunter2")));
        let db_after = Value::Map(BTreeMap::from([
            ("name".to_string(), Value::string("orders-v2")),
            ("password".to_string(), secret.clone()),
            ("size_gb".to_string(), Value::Number(20.5)),
        ]));
        Plan {
            format_version: crate::plan::PLAN_FORMAT_VERSION,
            cairn_version: "0.1.0".to_string(),
            environment: "stg".to_string(),
            created_at: "2026-08-01T10:00:00Z".to_string(),
            mode: PlanMode::Normal,
            prior_state: StateRef {
                lineage: Some("lin-a".to_string()),
                serial: 4,
                path: None,
                s3: None,
            },
            providers: vec![ProviderConfig {
                name: "fake".to_string(),
                alias: None,
                settings: Value::Map(BTreeMap::from([(
                    "latency_ms".to_string(),
                    Value::Number(5.0),
                )])),
                project_dir: PathBuf::from("/srv/infra"),
                environment: "stg".to_string(),
            }],
            changes: vec![
                ResourceChange {
                    address: "fake_subnet.public[\"a\"]".parse().unwrap(),
                    mode: ResourceMode::Managed,
                    resource_type: "fake_subnet".to_string(),
                    provider: "fake".to_string(),
                    action: Action::Create,
                    reason: None,
                    id: None,
                    before: None,
                    after: Some(subnet_after),
                    attributes: vec![AttrChange {
                        name: "network_id".to_string(),
                        before: None,
                        after: Some(Value::Unknown),
                        forces_replacement: false,
                        sensitive: false,
                        waits_for_maintenance: false,
                    }],
                    replace_paths: Vec::new(),
                    depends_on: vec!["fake_network.vpc".parse().unwrap()],
                    create_before_destroy: false,
                    timeouts: Default::default(),
                    weight: 2.5,
                },
                ResourceChange {
                    address: "module.db.fake_database.main".parse().unwrap(),
                    mode: ResourceMode::Managed,
                    resource_type: "fake_database".to_string(),
                    provider: "fake".to_string(),
                    action: Action::DeleteThenCreate,
                    reason: Some(ActionReason::ReplaceBecauseCannotUpdate),
                    id: Some("db-123".to_string()),
                    before: Some(
                        Value::Map(BTreeMap::from([(
                            "name".to_string(),
                            Value::string("orders"),
                        )]))
                        .into(),
                    ),
                    after: Some(literal(db_after)),
                    attributes: vec![
                        AttrChange {
                            name: "name".to_string(),
                            before: Some(Value::string("orders")),
                            after: Some(Value::string("orders-v2")),
                            forces_replacement: true,
                            sensitive: false,
                            waits_for_maintenance: false,
                        },
                        AttrChange {
                            name: "password".to_string(),
                            before: None,
                            after: Some(secret),
                            forces_replacement: false,
                            sensitive: true,
                            waits_for_maintenance: false,
                        },
                    ],
                    replace_paths: vec!["name".to_string()],
                    depends_on: Vec::new(),
                    create_before_destroy: false,
                    timeouts: Default::default(),
                    weight: 300.0,
                },
            ],
            outputs: vec![OutputChange {
                name: "db_id".to_string(),
                before: Some(Value::string("db-123")),
                after: None,
                sensitive: false,
            }],
            moved: Vec::new(),
            targets: Vec::new(),
            drift: Vec::new(),
        }
    }

    fn saved(dir: &Path) -> PathBuf {
        let path = dir.join("plan.cairn");
        save(&plan(), &path).unwrap();
        path
    }

    #[test]
    fn saving_never_replaces_a_file_that_is_not_a_plan() {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("dev.yaml");
        fs::write(&spec, "environment: dev\nresources: {}\n").unwrap();
        let err = save(&plan(), &spec).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{} exists and is not a cairn plan file (it looks like YAML, such as a cairn spec or environment file); it was left untouched: give `--out` a new file name, or remove the file first",
                spec.display()
            )
        );
        assert_eq!(
            fs::read_to_string(&spec).unwrap(),
            "environment: dev\nresources: {}\n"
        );
        let state = dir.path().join("dev.json");
        fs::write(
            &state,
            "{\n  \"checksum\": \"sha256:00\",\n  \"lineage\": \"x\",\n",
        )
        .unwrap();
        assert!(
            save(&plan(), &state)
                .unwrap_err()
                .to_string()
                .contains("it looks like a cairn state file")
        );
    }

    #[test]
    fn a_damaged_plan_may_be_replaced_by_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = saved(dir.path());
        let mut bytes = fs::read(&path).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x01;
        fs::write(&path, &bytes).unwrap();
        assert!(matches!(load(&path), Err(PlanFileError::Corrupt { .. })));
        save(&plan(), &path).unwrap();
        assert_eq!(load(&path).unwrap(), plan());
    }

    #[test]
    fn a_plan_file_over_the_size_limit_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.cairn");
        fs::File::create(&path)
            .unwrap()
            .set_len(MAX_STATE_FILE_BYTES + 1)
            .unwrap();
        assert_eq!(
            load(&path).unwrap_err().to_string(),
            format!(
                "plan file {} is corrupt: it is {} bytes, over the limit of 512 MiB for a saved plan; make a new plan with `cairn plan --out`",
                path.display(),
                MAX_STATE_FILE_BYTES + 1
            )
        );
    }

    #[test]
    fn a_saved_plan_loads_back_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = saved(dir.path());
        assert_eq!(load(&path).unwrap(), plan());

        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("{\n  \"format\": \"cairn-plan\",\n  \"format_version\": 1,\n  \"checksum\": \"sha256:"),
            "{text}"
        );
        assert!(
            text.contains("hunter2"),
            "apply needs the secret: the file carries it"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "a plan file carries secrets");
        }
    }

    #[test]
    fn the_checksum_covers_the_compact_plan() {
        let dir = tempfile::tempdir().unwrap();
        let text = fs::read_to_string(saved(dir.path())).unwrap();
        let envelope: serde_json::Value = serde_json::from_str(&text).unwrap();
        let compact = serde_json::to_string(&plan()).unwrap();
        assert_eq!(
            envelope["checksum"],
            format!("sha256:{}", hex::encode(Sha256::digest(compact.as_bytes())))
        );
    }

    #[test]
    fn a_changed_byte_is_a_checksum_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let path = saved(dir.path());
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replacen("orders-v2", "orders-v3", 1)).unwrap();
        assert_eq!(
            load(&path).unwrap_err().to_string(),
            format!(
                "plan file {} is corrupt: checksum mismatch: the file was changed or damaged after cairn wrote it; make a new plan with `cairn plan --out`",
                path.display()
            )
        );
    }

    #[test]
    fn a_truncated_plan_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = saved(dir.path());
        let text = fs::read_to_string(&path).unwrap();
        let cut = &text[..text.len() / 2];
        fs::write(&path, cut).unwrap();
        let column = cut.rsplit('\n').next().unwrap().chars().count();
        assert_eq!(
            load(&path).unwrap_err().to_string(),
            format!(
                "plan file {} is corrupt: truncated: it ends at line 5 column {column} before the plan is complete; make a new plan with `cairn plan --out`",
                path.display()
            )
        );
    }

    #[test]
    fn a_yaml_file_given_as_a_plan_is_named_for_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stg.yaml");
        fs::write(
            &path,
            "inputs:\n  cidr: 10.0.0.0/16\nresources:\n  - type: fake_network\n",
        )
        .unwrap();
        assert_eq!(
            load(&path).unwrap_err().to_string(),
            format!(
                "{} is not a cairn plan file (it looks like YAML, such as a cairn spec or environment file); `cairn apply` takes the file that `cairn plan --out` writes",
                path.display()
            )
        );
    }

    #[test]
    fn other_files_given_as_a_plan_are_named_for_what_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        let cases = [
            (
                r#"{"format_version": "1.2", "resource_changes": []}"#,
                "the JSON plan that `cairn plan --json` writes, which is for reading, not applying",
            ),
            (
                r#"{"format": "terraform-plan", "plan": {}}"#,
                "JSON, but without the cairn plan envelope",
            ),
            ("[1, 2", "damaged JSON"),
            ("", "an empty file"),
            ("hello world", "plain text"),
        ];
        for (content, looks) in cases {
            fs::write(&path, content).unwrap();
            let err = load(&path).unwrap_err();
            assert!(
                matches!(&err, PlanFileError::NotAPlan { looks_like, .. } if looks_like == looks),
                "{content:?}: {err}"
            );
        }
        fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
        assert!(
            load(&path)
                .unwrap_err()
                .to_string()
                .contains("(it looks like binary data)")
        );
    }

    #[test]
    fn a_plan_from_a_newer_cairn_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.cairn");
        fs::write(
            &path,
            "{\n  \"format\": \"cairn-plan\",\n  \"format_version\": 2,\n  \"checksum\": \"blake3:…\",\n  \"plan\": {}\n}\n",
        )
        .unwrap();
        assert_eq!(
            load(&path).unwrap_err().to_string(),
            format!(
                "plan file {} was made by a newer cairn (plan format 2, this cairn reads 1); apply it with the cairn that made it, or make a new plan",
                path.display()
            )
        );
    }

    #[test]
    fn a_missing_plan_file_says_how_to_make_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.cairn");
        let err = load(&path).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "plan file {0} does not exist (save one with `cairn plan --out {0}`)",
                path.display()
            )
        );
    }

    fn state(environment: &str, lineage: &str, serial: u64) -> State {
        State {
            lineage: lineage.to_string(),
            serial,
            ..State::new(environment)
        }
    }

    #[test]
    fn a_plan_applies_to_the_state_it_was_made_against() {
        assert_eq!(
            check_applicable(&plan(), Some("stg"), Some(&state("stg", "lin-a", 4))),
            Ok(())
        );
        assert_eq!(
            check_applicable(&plan(), None, Some(&state("stg", "lin-a", 4))),
            Ok(())
        );
        let mut first = plan();
        first.prior_state = StateRef {
            lineage: None,
            serial: 0,
            path: None,
            s3: None,
        };
        assert_eq!(check_applicable(&first, Some("stg"), None), Ok(()));
    }

    #[test]
    fn a_plan_for_another_environment_is_refused() {
        let err =
            check_applicable(&plan(), Some("dev"), Some(&state("stg", "lin-a", 4))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the plan is for environment `stg` but `-e dev` was given; apply it with `-e stg`, or make a plan for `dev`"
        );
        let err = check_applicable(&plan(), None, Some(&state("dev", "lin-a", 4))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the plan is for environment `stg` but the state found belongs to `dev`"
        );
    }

    #[test]
    fn a_plan_against_another_lineage_is_refused() {
        let err =
            check_applicable(&plan(), Some("stg"), Some(&state("stg", "lin-b", 4))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the plan was made against a different state: lineage lin-a, now lin-b; run `cairn plan` again"
        );
    }

    #[test]
    fn a_plan_is_refused_once_someone_else_applied() {
        let err =
            check_applicable(&plan(), Some("stg"), Some(&state("stg", "lin-a", 6))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "state serial was 4 when the plan was made and is now 6: someone applied in between; run `cairn plan` again"
        );
    }

    #[test]
    fn a_plan_is_refused_when_the_state_was_rolled_back() {
        let err =
            check_applicable(&plan(), Some("stg"), Some(&state("stg", "lin-a", 3))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "state serial was 4 when the plan was made and is now 3: the state was restored from an older copy; run `cairn plan` again"
        );
    }

    #[test]
    fn a_plan_made_without_state_is_refused_once_a_state_exists() {
        let mut first = plan();
        first.prior_state = StateRef {
            lineage: None,
            serial: 0,
            path: None,
            s3: None,
        };
        let err =
            check_applicable(&first, Some("stg"), Some(&state("stg", "lin-a", 2))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the plan was made when environment `stg` had no state, but it has one now (serial 2): someone applied in between; run `cairn plan` again"
        );
    }

    #[test]
    fn a_plan_made_against_a_state_is_refused_when_the_state_is_gone() {
        let err = check_applicable(&plan(), Some("stg"), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the plan was made against state lineage lin-a (serial 4), but environment `stg` has no state now: was the state file deleted or moved? Run `cairn plan` again"
        );
    }
}
