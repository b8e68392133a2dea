//! `moved:` entries: renames declared in the spec, resolved against state before the plan is
//! made, so a renamed resource is planned as the same object under its new address (no delete,
//! no create) and apply only records the new address.
//!
//! Entries stay in the spec after they were applied (other environments may not have applied
//! them yet), so an entry whose `from` is not in state is simply done and ignored.

use serde::{Deserialize, Serialize};

use crate::addr::{AddrSelector, ResourceAddr};
use crate::spec::diagnostic::Diagnostic;
use crate::spec::model::{Environment, Module, MovedEntry};
use crate::spec::span::Span;
use crate::state::State;
use crate::state::surgery::rename;

/// One instance a plan renames: state calls it `from`, the spec `to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    pub from: ResourceAddr,
    pub to: ResourceAddr,
}

/// Applies the environment's `moved:` entries to `state` (in memory) and returns the renames,
/// one per instance, from its address in state to its final address. Entries are taken in
/// declaration order, so `a → b` then `b → c` moves `a` to `c`.
pub fn resolve_moves(env: &Environment, state: &mut State) -> Result<Vec<Moved>, Vec<Diagnostic>> {
    let mut entries = Vec::new();
    collect(&env.root, &[], &mut entries);
    let mut diags = duplicates(&entries);
    if !diags.is_empty() {
        return Err(diags);
    }
    let mut moves: Vec<Moved> = Vec::new();
    for entry in &entries {
        if let (Some(a), Some(b)) = (entry.from.resource_type(), entry.to.resource_type())
            && a != b
        {
            diags.push(
                Diagnostic::error_at(
                    format!(
                        "cannot move `{}` to `{}`: a resource cannot change its type",
                        entry.from, entry.to
                    ),
                    &entry.to_span,
                )
                .with_help("a moved entry renames; to change the type, remove the old resource and import the object under the new one"),
            );
            continue;
        }
        let mut step = Vec::new();
        for addr in state.resources.keys().filter(|a| entry.from.matches(a)) {
            let Some(new) = entry.from.rebase(addr, &entry.to) else {
                diags.push(Diagnostic::error_at(
                    format!(
                        "cannot move `{}` to `{}`: they name different kinds of address (a module, a resource, an instance)",
                        entry.from, entry.to
                    ),
                    &entry.to_span,
                ));
                break;
            };
            if state.resources.contains_key(&new) {
                diags.push(
                    Diagnostic::error_at(
                        format!("cannot move `{addr}` to `{new}`: both are in state"),
                        &entry.from_span,
                    )
                    .with_related(entry.to_span.clone(), "the destination, already in state")
                    .with_help(
                        "decide which object the spec means: `cairn state rm` the other one, or remove this moved entry",
                    ),
                );
                continue;
            }
            step.push((addr.clone(), new));
        }
        rename(state, &step);
        for (old, new) in step {
            // A chain keeps one entry per object: from where state had it to where it ends.
            match moves.iter_mut().find(|m| m.to == old) {
                Some(m) => m.to = new,
                None => moves.push(Moved { from: old, to: new }),
            }
        }
    }
    moves.retain(|m| m.from != m.to);
    if diags.is_empty() {
        Ok(moves)
    } else {
        Err(diags)
    }
}

/// An entry made absolute: its module's path prepended to both ends.
struct Absolute {
    from: AddrSelector,
    to: AddrSelector,
    from_span: Span,
    to_span: Span,
}

fn collect(module: &Module, path: &[String], out: &mut Vec<Absolute>) {
    for MovedEntry {
        from,
        to,
        from_span,
        to_span,
    } in &module.moved
    {
        out.push(Absolute {
            from: within(path, from),
            to: within(path, to),
            from_span: from_span.clone(),
            to_span: to_span.clone(),
        });
    }
    for call in &module.modules {
        let mut inner = path.to_vec();
        inner.push(call.name.text.clone());
        collect(&call.module, &inner, out);
    }
}

fn within(path: &[String], selector: &AddrSelector) -> AddrSelector {
    let prefixed = |module: &[String]| {
        let mut full = path.to_vec();
        full.extend(module.iter().cloned());
        full
    };
    match selector {
        AddrSelector::Module(m) => AddrSelector::Module(prefixed(m)),
        AddrSelector::Resource(r) => AddrSelector::Resource(ResourceAddr {
            module: prefixed(&r.module),
            ..r.clone()
        }),
        AddrSelector::Instance(r) => AddrSelector::Instance(ResourceAddr {
            module: prefixed(&r.module),
            ..r.clone()
        }),
    }
}

/// Two entries moving the same thing, or two moving different things to the same place, leave
/// the plan guessing: both are errors at the second entry.
fn duplicates(entries: &[Absolute]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if let Some(first) = entries[..i].iter().find(|f| f.from == e.from) {
            diags.push(
                Diagnostic::error_at(format!("`{}` is moved twice", e.from), &e.from_span)
                    .with_related(first.from_span.clone(), "first moved here")
                    .with_help("keep one moved entry per address"),
            );
        } else if let Some(first) = entries[..i].iter().find(|f| f.to == e.to) {
            diags.push(
                Diagnostic::error_at(
                    format!("`{}` is the destination of two moved entries", e.to),
                    &e.to_span,
                )
                .with_related(first.to_span.clone(), "first declared here")
                .with_help("each address can be moved to only once"),
            );
        }
    }
    diags
}
