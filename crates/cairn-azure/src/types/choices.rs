//! ARM's spellings of azurerm's switches and closed lists, shared by the types that translate
//! them: `public_network_access_enabled = false` is ARM's `"Disabled"`, a SKU typed `lrs` is
//! ARM's `LRS`.

use cairn_provider::provider::ProviderError;
use cairn_provider::value::Value;

use super::required;
use crate::errors::invalid;

/// ARM's `Enabled` / `Disabled` for azurerm's booleans.
pub fn enabled(on: bool) -> &'static str {
    if on { "Enabled" } else { "Disabled" }
}

/// Whether ARM's `Enabled` / `Disabled` says enabled; absent means ARM's default, enabled.
pub fn is_enabled(arm: Option<&str>) -> bool {
    arm.is_none_or(|a| a.eq_ignore_ascii_case("Enabled"))
}

/// A required value from a closed list, in the list's spelling (the user's `lrs` still means
/// `LRS`), or an error naming the choices.
pub fn one_of(
    resource_type: &str,
    config: &Value,
    name: &str,
    allowed: &[&'static str],
) -> Result<&'static str, ProviderError> {
    let given = required(resource_type, config, name)?;
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(given))
        .copied()
        .ok_or_else(|| {
            invalid(
                resource_type,
                format!(
                    "`{name}` is {given:?}; expected one of {}",
                    allowed.join(", ")
                ),
            )
        })
}
