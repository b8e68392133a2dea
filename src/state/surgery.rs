//! State surgery: renaming and forgetting addresses without touching the cloud, as
//! `cairn state mv`, `cairn state rm` and the spec's `moved:` entries do.
//!
//! These functions only edit a [`State`] in memory; the caller saves it (a new serial, with the
//! previous file kept as a backup) while holding the environment's lock.

use crate::addr::{AddrSelector, ResourceAddr};
use crate::state::State;

/// Why a state edit was refused. Nothing is changed when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SurgeryError {
    #[error("no instance in state matches `{0}`")]
    NothingMatches(String),
    #[error(
        "`{from}` and `{to}` name different kinds of address (a module, a resource, an instance)"
    )]
    KindMismatch { from: String, to: String },
    #[error("cannot move `{from}` to `{to}`: a resource cannot change its type")]
    TypeChange { from: String, to: String },
    #[error("cannot move `{from}` to `{to}`: `{to}` is already in state")]
    DestinationExists { from: String, to: String },
}

/// Renames every instance `from` selects to its place under `to`, also in other instances'
/// recorded dependencies. Returns the `(old, new)` pairs in address order.
pub fn move_addresses(
    state: &mut State,
    from: &AddrSelector,
    to: &AddrSelector,
) -> Result<Vec<(ResourceAddr, ResourceAddr)>, SurgeryError> {
    let mismatch = || SurgeryError::KindMismatch {
        from: from.to_string(),
        to: to.to_string(),
    };
    if let (Some(a), Some(b)) = (from.resource_type(), to.resource_type())
        && a != b
    {
        return Err(SurgeryError::TypeChange {
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    let mut moves = Vec::new();
    for addr in state.resources.keys().filter(|a| from.matches(a)) {
        let new = from.rebase(addr, to).ok_or_else(mismatch)?;
        moves.push((addr.clone(), new));
    }
    if moves.is_empty() {
        return Err(SurgeryError::NothingMatches(from.to_string()));
    }
    for (old, new) in &moves {
        // A destination that is itself being moved away is free by the time this one lands.
        let vacated = moves.iter().any(|(o, _)| o == new);
        if state.resources.contains_key(new) && !vacated {
            return Err(SurgeryError::DestinationExists {
                from: old.to_string(),
                to: new.to_string(),
            });
        }
    }
    rename(state, &moves);
    Ok(moves)
}

/// Applies `(old, new)` renames that are known to be valid: the entries, and every
/// dependency list that names them.
pub fn rename(state: &mut State, moves: &[(ResourceAddr, ResourceAddr)]) {
    let taken: Vec<_> = moves
        .iter()
        .filter_map(|(old, new)| state.resources.remove(old).map(|rs| (new.clone(), rs)))
        .collect();
    state.resources.extend(taken);
    let renamed = |addr: &mut ResourceAddr| {
        if let Some((_, new)) = moves.iter().find(|(old, _)| old == addr) {
            *addr = new.clone();
        }
    };
    for rs in state.resources.values_mut() {
        rs.dependencies.iter_mut().for_each(renamed);
    }
    for old in &mut state.deposed {
        renamed(&mut old.address);
        old.dependencies.iter_mut().for_each(renamed);
    }
}

/// Forgets every instance `selector` names; the cloud objects stay where they are. Returns the
/// forgotten addresses.
pub fn remove_addresses(
    state: &mut State,
    selector: &AddrSelector,
) -> Result<Vec<ResourceAddr>, SurgeryError> {
    let gone: Vec<ResourceAddr> = state
        .resources
        .keys()
        .filter(|a| selector.matches(a))
        .cloned()
        .collect();
    if gone.is_empty() {
        return Err(SurgeryError::NothingMatches(selector.to_string()));
    }
    for addr in &gone {
        state.resources.remove(addr);
    }
    // A forgotten instance is no longer ordered before anything.
    for rs in state.resources.values_mut() {
        rs.dependencies.retain(|d| !gone.contains(d));
    }
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::ResourceMode;
    use crate::state::{ResourceState, ResourceStatus};
    use crate::value::Value;

    fn state(addrs: &[&str]) -> State {
        let mut s = State::new("dev");
        for a in addrs {
            let addr: ResourceAddr = a.parse().unwrap();
            s.resources.insert(
                addr.clone(),
                ResourceState {
                    resource_type: addr.resource_type.clone(),
                    mode: ResourceMode::Managed,
                    provider: "fake".into(),
                    status: ResourceStatus::Created,
                    id: Some(format!("id-{a}")),
                    attributes: Value::Null.into(),
                    dependencies: Vec::new(),
                },
            );
        }
        s
    }

    fn sel(s: &str) -> AddrSelector {
        s.parse().unwrap()
    }

    #[test]
    fn a_module_moves_with_every_instance_and_dependents_follow() {
        let mut s = state(&[
            "module.a.fake_network.vpc",
            "module.a.fake_subnet.s[0]",
            "fake_database.db",
        ]);
        let db: ResourceAddr = "fake_database.db".parse().unwrap();
        s.resources.get_mut(&db).unwrap().dependencies =
            vec!["module.a.fake_subnet.s[0]".parse().unwrap()];
        let moves = move_addresses(&mut s, &sel("module.a"), &sel("module.b")).unwrap();
        assert_eq!(moves.len(), 2);
        let keys: Vec<String> = s.resources.keys().map(|a| a.to_string()).collect();
        assert_eq!(
            keys,
            [
                "fake_database.db",
                "module.b.fake_network.vpc",
                "module.b.fake_subnet.s[0]"
            ]
        );
        assert_eq!(
            s.resources[&db].dependencies[0].to_string(),
            "module.b.fake_subnet.s[0]"
        );
    }

    #[test]
    fn a_move_onto_an_existing_address_or_another_type_is_refused_untouched() {
        let mut s = state(&["fake_network.a", "fake_network.b"]);
        let before = s.clone();
        assert_eq!(
            move_addresses(&mut s, &sel("fake_network.a"), &sel("fake_network.b")).unwrap_err(),
            SurgeryError::DestinationExists {
                from: "fake_network.a".into(),
                to: "fake_network.b".into()
            }
        );
        assert!(matches!(
            move_addresses(&mut s, &sel("fake_network.a"), &sel("fake_subnet.a")),
            Err(SurgeryError::TypeChange { .. })
        ));
        assert_eq!(s, before);
    }

    #[test]
    fn rm_forgets_only_what_it_names() {
        let mut s = state(&["fake_subnet.s[0]", "fake_subnet.s[1]", "fake_network.vpc"]);
        let gone = remove_addresses(&mut s, &sel("fake_subnet.s")).unwrap();
        assert_eq!(gone.len(), 2);
        assert_eq!(s.resources.len(), 1);
        assert_eq!(
            remove_addresses(&mut s, &sel("fake_subnet.s")).unwrap_err(),
            SurgeryError::NothingMatches("fake_subnet.s".into())
        );
    }
}
