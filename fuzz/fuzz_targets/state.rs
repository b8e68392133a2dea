//! The state file reader: checksum line, format version, JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cairn::fuzzing::state_file(data);
});
