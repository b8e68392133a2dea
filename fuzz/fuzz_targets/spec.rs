//! The YAML spec loader, graph and evaluator: an environment and a module, split at
//! `cairn::fuzzing::MODULE_SEPARATOR`, written to a scratch project and loaded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // One scratch project per fuzzing process; every input overwrites its two files.
    let dir = std::env::temp_dir().join(format!("cairn-fuzz-spec-{}", std::process::id()));
    let _ = cairn::fuzzing::spec(data, &dir);
});
