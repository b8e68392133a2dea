//! The saved-plan reader: envelope, checksum, the plan inside.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cairn::fuzzing::plan_file(data);
});
