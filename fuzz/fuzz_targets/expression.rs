//! The `${...}` expression parser and partial evaluator, functions included.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cairn::fuzzing::expression(data));
