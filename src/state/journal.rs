//! The state journal: what an apply changed since the state file was last written, one
//! checksummed line per durable write, so that persisting after every operation costs the size
//! of the change and not of the whole state (issue 9). The local backend appends to it and
//! folds it into the state file when an apply ends or the journal grows past the file.
//!
//! A line is `sha256:<hex of the JSON> <JSON of StateChanges>\n`. Reading replays, onto the state
//! file, every line whose serial follows the file's: lines at or below it were folded in already
//! (a crash between writing the file and emptying the journal leaves them). A last line cut short
//! by a crash (no newline, or a checksum that fails) was never acknowledged, so it is dropped; a
//! damaged line followed by others is damage, and the state is refused.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{DeposedResource, ResourceState, State};
use crate::addr::ResourceAddr;

/// One durable write's worth of changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateChanges {
    /// The state these changes belong to.
    pub lineage: String,
    /// The state's serial once they are applied (one more than before).
    pub serial: u64,
    /// Instances written (the whole instance) or removed (`null`).
    pub resources: BTreeMap<ResourceAddr, Option<ResourceState>>,
    /// The deposed instances after the changes (the list is short, so it is written whole).
    pub deposed: Vec<DeposedResource>,
}

impl StateChanges {
    /// The changes to `addresses` as `state` holds them now, numbered as the next serial.
    pub fn of<'a>(state: &State, addresses: impl IntoIterator<Item = &'a ResourceAddr>) -> Self {
        StateChanges {
            lineage: state.lineage.clone(),
            serial: state.serial + 1,
            resources: addresses
                .into_iter()
                .map(|a| (a.clone(), state.resources.get(a).cloned()))
                .collect(),
            deposed: state.deposed.clone(),
        }
    }
}

const LINE_PREFIX: &str = "sha256:";
const HEX_LEN: usize = 64;

/// The journal line for `changes`, newline included.
pub fn encode(changes: &StateChanges) -> serde_json::Result<Vec<u8>> {
    let json = serde_json::to_vec(changes)?;
    let mut line = Vec::with_capacity(json.len() + HEX_LEN + 10);
    line.extend_from_slice(LINE_PREFIX.as_bytes());
    line.extend_from_slice(hex::encode(Sha256::digest(&json)).as_bytes());
    line.push(b' ');
    line.extend_from_slice(&json);
    line.push(b'\n');
    Ok(line)
}

/// What replaying a journal did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replayed {
    /// Lines applied (lines already in the state file are not counted).
    pub applied: usize,
    /// Bytes of the journal that hold complete, valid lines: where the next line goes. Anything
    /// after it is the torn tail of a write that never completed.
    pub valid_len: u64,
}

/// Applies the journal `bytes` to `state`. The error is a reason for a human.
pub fn replay(state: &mut State, bytes: &[u8]) -> Result<Replayed, String> {
    let mut applied = 0;
    let mut offset = 0usize;
    let mut line_no = 0usize;
    while offset < bytes.len() {
        line_no += 1;
        let Some(len) = bytes[offset..].iter().position(|b| *b == b'\n') else {
            break; // no newline: a write cut short
        };
        let line = &bytes[offset..offset + len];
        let next = offset + len + 1;
        let changes = match decode(line) {
            Ok(changes) => changes,
            Err(_) if next == bytes.len() => break, // the last line, cut short or garbled
            Err(reason) => return Err(format!("journal line {line_no}: {reason}")),
        };
        if changes.lineage != state.lineage {
            return Err(format!(
                "journal line {line_no} belongs to state lineage {}, not {}",
                changes.lineage, state.lineage
            ));
        }
        if changes.serial > state.serial {
            if changes.serial != state.serial + 1 {
                return Err(format!(
                    "journal line {line_no} has serial {} where {} was expected: a write is missing",
                    changes.serial,
                    state.serial + 1
                ));
            }
            for (addr, resource) in changes.resources {
                match resource {
                    Some(resource) => {
                        state.resources.insert(addr, resource);
                    }
                    None => {
                        state.resources.remove(&addr);
                    }
                }
            }
            state.deposed = changes.deposed;
            state.serial = changes.serial;
            applied += 1;
        }
        offset = next;
    }
    Ok(Replayed {
        applied,
        valid_len: offset as u64,
    })
}

fn decode(line: &[u8]) -> Result<StateChanges, String> {
    let rest = line
        .strip_prefix(LINE_PREFIX.as_bytes())
        .ok_or("it does not start with a checksum")?;
    if rest.len() < HEX_LEN + 1 || rest[HEX_LEN] != b' ' {
        return Err("its checksum is malformed".into());
    }
    let (digest, json) = (&rest[..HEX_LEN], &rest[HEX_LEN + 1..]);
    if hex::encode(Sha256::digest(json)).as_bytes() != digest {
        return Err("checksum mismatch: it was changed or damaged after cairn wrote it".into());
    }
    serde_json::from_slice(json).map_err(|e| format!("not a cairn state change: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::ResourceMode;
    use crate::state::ResourceStatus;
    use crate::value::Value;

    fn addr(s: &str) -> ResourceAddr {
        s.parse().unwrap()
    }

    fn subnet(id: &str) -> ResourceState {
        ResourceState {
            resource_type: "fake_subnet".into(),
            mode: ResourceMode::Managed,
            provider: "fake".into(),
            status: ResourceStatus::Created,
            id: Some(id.into()),
            attributes: Value::Map(BTreeMap::from([("id".to_string(), Value::string(id))])).into(),
            dependencies: Vec::new(),
        }
    }

    /// A state at serial 3 and a journal that adds `a`, then adds `b` and removes `a`.
    fn state_and_journal() -> (State, Vec<u8>) {
        let mut state = State::new("dev");
        state.serial = 3;
        let mut live = state.clone();
        let mut journal = Vec::new();
        live.resources
            .insert(addr("fake_subnet.a"), subnet("subnet-a"));
        journal.extend(encode(&StateChanges::of(&live, [&addr("fake_subnet.a")])).unwrap());
        live.serial += 1;
        live.resources
            .insert(addr("fake_subnet.b"), subnet("subnet-b"));
        live.resources.remove(&addr("fake_subnet.a"));
        let changed = [addr("fake_subnet.a"), addr("fake_subnet.b")];
        journal.extend(encode(&StateChanges::of(&live, &changed)).unwrap());
        (state, journal)
    }

    #[test]
    fn replaying_the_journal_gives_the_state_the_apply_had() {
        let (mut state, journal) = state_and_journal();
        let replayed = replay(&mut state, &journal).unwrap();
        assert_eq!(replayed.applied, 2);
        assert_eq!(replayed.valid_len, journal.len() as u64);
        assert_eq!(state.serial, 5);
        assert_eq!(
            state
                .resources
                .keys()
                .map(|a| a.to_string())
                .collect::<Vec<_>>(),
            ["fake_subnet.b"]
        );
    }

    #[test]
    fn a_last_line_cut_short_by_a_crash_is_dropped_and_its_bytes_reused() {
        let (mut state, journal) = state_and_journal();
        let first_len = journal.iter().position(|b| *b == b'\n').unwrap() + 1;
        for cut in [first_len + 10, journal.len() - 1] {
            let mut s = state.clone();
            let replayed = replay(&mut s, &journal[..cut]).unwrap();
            assert_eq!((replayed.applied, s.serial), (1, 4), "cut at {cut}");
            assert_eq!(replayed.valid_len, first_len as u64);
        }
        // A garbled last line that does end in a newline is a torn write too.
        let mut garbled = journal.clone();
        let at = garbled.len() - 5;
        garbled[at] ^= 1;
        let replayed = replay(&mut state, &garbled).unwrap();
        assert_eq!(
            (replayed.applied, replayed.valid_len),
            (1, first_len as u64)
        );
    }

    #[test]
    fn a_damaged_line_followed_by_others_is_refused() {
        let (mut state, mut journal) = state_and_journal();
        journal[20] ^= 1;
        let err = replay(&mut state, &journal).unwrap_err();
        assert!(
            err.contains("journal line 1") && err.contains("checksum"),
            "{err}"
        );
    }

    #[test]
    fn lines_the_state_file_already_holds_are_skipped_and_gaps_refused() {
        let (state, journal) = state_and_journal();
        let mut folded = state.clone();
        folded.serial = 5; // the file was rewritten after both lines, the journal not yet emptied
        assert_eq!(replay(&mut folded, &journal).unwrap().applied, 0);
        let mut behind = state.clone();
        behind.serial = 2;
        let err = replay(&mut behind, &journal).unwrap_err();
        assert!(err.contains("serial 4 where 3 was expected"), "{err}");
        let mut other = state;
        other.lineage = "another".into();
        assert!(
            replay(&mut other, &journal)
                .unwrap_err()
                .contains("lineage")
        );
    }
}
