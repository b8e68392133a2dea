//! Secrets in saved plans. A plan made with `${env.X}` carries the secret's value, which apply
//! needs; written as-is it would sit in plaintext in every CI artifact store. So a saved plan
//! names the variable instead, with a salted digest of the value it was planned with; loading
//! reads the variable again and refuses when it is missing or holds another value (the plan is
//! applied exactly as it was shown, or not at all).
//!
//! Only secrets whose value some environment variable holds can be named; any other secret stays
//! in the file as it was (none comes from cairn's own sources today).

use std::collections::HashMap;

use rand::Rng;
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};

const SENSITIVE_KEY: &str = "$sensitive";
const FROM_ENV_KEY: &str = "$sensitive_env";

/// A secret a saved plan names but this process cannot supply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error(
        "the plan was made with the secret in environment variable {name}, which is not set now: set it as it was when the plan was made"
    )]
    Missing { name: String },
    #[error(
        "environment variable {name} holds another value than when the plan was made: make a new plan, or set it back"
    )]
    Changed { name: String },
}

fn digest(salt: &str, value: &str) -> String {
    hex::encode(Sha256::digest(format!("{salt}\u{0}{value}").as_bytes()))
}

/// Replaces every `{"$sensitive": "text"}` whose text an environment variable holds by the
/// variable's name and a salted digest.
pub fn name_env_secrets(plan: &mut Json) {
    let by_value: HashMap<String, String> = std::env::vars()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (v, k))
        .collect();
    let salt: String = hex::encode(rand::rng().random::<[u8; 16]>());
    walk(plan, &mut |object| {
        let Some(Json::String(text)) = object.get(SENSITIVE_KEY) else {
            return Ok(());
        };
        if object.len() != 1 {
            return Ok(());
        }
        if let Some(name) = by_value.get(text) {
            let named = json!({ "name": name, "salt": salt, "sha256": digest(&salt, text) });
            object.clear();
            object.insert(FROM_ENV_KEY.to_string(), named);
        }
        Ok(())
    })
    .unwrap_or(());
}

/// What loading does with a named secret the environment cannot supply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Refuse: the plan is to be applied.
    Refuse,
    /// Leave it a masked blank: the plan is only to be shown, and secrets are never shown.
    Mask,
}

/// Puts back the secrets [`name_env_secrets`] named, from the environment.
pub fn restore_env_secrets(plan: &mut Json, missing: Missing) -> Result<(), SecretError> {
    walk(plan, &mut |object| {
        let Some(named) = object.get(FROM_ENV_KEY) else {
            return Ok(());
        };
        let field = |k: &str| named.get(k).and_then(Json::as_str).unwrap_or_default();
        let (name, salt, sha) = (field("name").to_string(), field("salt"), field("sha256"));
        let restored = match std::env::var(&name) {
            Err(_) => Err(SecretError::Missing { name }),
            Ok(value) if digest(salt, &value) != sha => Err(SecretError::Changed { name }),
            Ok(value) => Ok(Json::String(value)),
        };
        let value = match (restored, missing) {
            (Ok(value), _) => value,
            (Err(_), Missing::Mask) => Json::Null,
            (Err(e), Missing::Refuse) => return Err(e),
        };
        object.clear();
        object.insert(SENSITIVE_KEY.to_string(), value);
        Ok(())
    })
}

/// What [`walk`] does with each JSON object.
type Visit<'a> = dyn FnMut(&mut Map<String, Json>) -> Result<(), SecretError> + 'a;

fn walk(json: &mut Json, visit: &mut Visit<'_>) -> Result<(), SecretError> {
    match json {
        Json::Object(object) => {
            visit(object)?;
            for value in object.values_mut() {
                walk(value, visit)?;
            }
        }
        Json::Array(items) => {
            for item in items {
                walk(item, visit)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_from_the_environment_is_saved_by_name_and_read_back_only_unchanged() {
        // SAFETY: a variable only this test uses.
        unsafe { std::env::set_var("CAIRN_TEST_PLAN_SECRET", "hunter2-plan") };
        let mut plan = json!({"after": {"password": {"$sensitive": "hunter2-plan"}, "other": {"$sensitive": "not-in-env-x9"}}});
        name_env_secrets(&mut plan);
        let text = plan.to_string();
        assert!(!text.contains("hunter2-plan"), "{text}");
        assert!(text.contains("CAIRN_TEST_PLAN_SECRET"), "{text}");
        let mut restored = plan.clone();
        restore_env_secrets(&mut restored, Missing::Refuse).unwrap();
        assert_eq!(
            restored["after"]["password"],
            json!({"$sensitive": "hunter2-plan"})
        );

        unsafe { std::env::set_var("CAIRN_TEST_PLAN_SECRET", "rotated") };
        let mut changed = plan.clone();
        assert_eq!(
            restore_env_secrets(&mut changed, Missing::Refuse),
            Err(SecretError::Changed {
                name: "CAIRN_TEST_PLAN_SECRET".into()
            })
        );
        unsafe { std::env::remove_var("CAIRN_TEST_PLAN_SECRET") };
        let mut shown = plan.clone();
        restore_env_secrets(&mut shown, Missing::Mask).unwrap();
        assert_eq!(shown["after"]["password"], json!({"$sensitive": null}));
        let mut missing = plan;
        assert_eq!(
            restore_env_secrets(&mut missing, Missing::Refuse),
            Err(SecretError::Missing {
                name: "CAIRN_TEST_PLAN_SECRET".into()
            })
        );
    }
}
