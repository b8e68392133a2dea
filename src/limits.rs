//! Every bound cairn puts on its input, in one place.
//!
//! A spec, a state file or a saved plan may be hostile or simply mistaken (a `count` of 10^9, an
//! alias bomb, a template that doubles a string thirty times). Each limit below turns what would
//! exhaust memory or the stack into a diagnostic that names the limit, where it was hit and what
//! to do. The figures are far above anything a real project needs, so a user meets them only by
//! mistake or by malice.
//!
//! The limits are constants rather than settings on purpose: a limit that a spec could raise
//! protects nothing against a hostile spec. Each message says how to stay under it (split a file,
//! a block or an expression); docs/reliability.md lists them with the tests that prove them.

/// Largest spec file (`environments/*.yaml`, `modules/*/module.yaml`) read, in bytes. Checked
/// before the file is read, so a huge or endless file costs no memory.
pub const MAX_SPEC_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Deepest nesting of YAML lists and mappings. The tree is built and walked recursively, so
/// this bounds stack use; real specs nest fewer than 10 levels.
pub const MAX_YAML_DEPTH: usize = 64;

/// Most nodes one YAML document may expand to, aliases counted at their full size: a "billion
/// laughs" alias bomb fails here instead of exhausting memory.
pub const MAX_YAML_NODES: usize = 1_000_000;

/// Deepest nesting inside one `${...}` expression (parentheses, calls, lists, maps, indexes).
/// The parser and evaluator recurse, so this bounds their stack use.
pub const MAX_EXPR_DEPTH: usize = 48;

/// Most instances one resource block may expand to through `count` or `for_each`.
pub const MAX_INSTANCES_PER_BLOCK: usize = 100_000;

/// Most resource instances an environment may expand to in total, over all blocks and modules:
/// many blocks each under [`MAX_INSTANCES_PER_BLOCK`] must not add up to millions.
pub const MAX_INSTANCES_TOTAL: usize = 250_000;

/// Longest string an expression may build: a template, `join`, `format`, `replace` and every
/// other function result. Checked as the string grows, so a doubling chain stops at the limit.
pub const MAX_STRING_BYTES: usize = 1 << 20;

/// Most elements a list or map built by an expression (a literal or a function result) may have.
pub const MAX_COLLECTION_LEN: usize = 100_000;

/// Largest value an expression may build, in size units: one per list or map element and one
/// per byte of text, counted through nested values. Locals that each reference the previous one
/// twice would otherwise double a value at every step.
pub const MAX_VALUE_SIZE: usize = 4 * 1024 * 1024;

/// Deepest nesting of a value built by expressions (a list in a list in ...). Values are
/// cloned, compared and dropped recursively, so this bounds stack use; a chain of locals that
/// each wrap the previous one stops here.
pub const MAX_VALUE_DEPTH: usize = 64;

/// Most values `range` generates (the same figure as Terraform's).
pub const MAX_RANGE: usize = 1024;

/// Deepest chain of modules instantiating modules. A cycle is reported as such before this;
/// the depth bounds a long acyclic chain (and the loader's recursion).
pub const MAX_MODULE_DEPTH: usize = 16;

/// Largest state file or saved plan read, in bytes. Checked before reading, so a corrupt or
/// hostile file that claims to be state cannot exhaust memory.
pub const MAX_STATE_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// Reads the file at `path` if it holds at most `max` bytes; `Ok(Err(size))` when it is larger.
/// The size is checked before reading and the read itself is bounded, so neither a huge file nor
/// one that grows while read (or a FIFO) can exhaust memory.
pub fn read_capped(path: &std::path::Path, max: u64) -> std::io::Result<Result<Vec<u8>, u64>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > max {
        return Ok(Err(size));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Ok(Err(bytes.len() as u64));
    }
    Ok(Ok(bytes))
}

/// The size of `value` in the units of [`MAX_VALUE_SIZE`] and its nesting depth, both capped
/// just above their limits so that measuring a value never costs more than the limit itself.
pub fn value_measure(value: &crate::value::Value) -> (usize, usize) {
    use crate::value::Value;
    fn walk(value: &Value, depth: usize, size: &mut usize, max_depth: &mut usize) {
        *max_depth = (*max_depth).max(depth);
        if *size > MAX_VALUE_SIZE || depth > MAX_VALUE_DEPTH {
            return;
        }
        match value {
            Value::String(s) => *size += s.len(),
            Value::List(items) => {
                for item in items {
                    *size += 1;
                    walk(item, depth + 1, size, max_depth);
                }
            }
            Value::Map(map) => {
                for (k, v) in map {
                    *size += 1 + k.len();
                    walk(v, depth + 1, size, max_depth);
                }
            }
            Value::Sensitive(inner) => walk(inner, depth, size, max_depth),
            _ => *size += 1,
        }
    }
    let (mut size, mut depth) = (0, 0);
    walk(value, 0, &mut size, &mut depth);
    (size, depth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn measure_counts_elements_and_text_and_stops_early() {
        let v = Value::List(vec![Value::String("abc".into()), Value::Number(1.0)]);
        assert_eq!(value_measure(&v), (1 + 3 + 1 + 1, 1));
        let mut deep = Value::Null;
        for _ in 0..(MAX_VALUE_DEPTH + 10) {
            deep = Value::List(vec![deep]);
        }
        // Stops one level past the limit rather than walking the whole chain.
        assert_eq!(value_measure(&deep).1, MAX_VALUE_DEPTH + 1);
    }
}
