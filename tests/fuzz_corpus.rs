//! The fuzz targets as ordinary tests, for the stable toolchain: every seed in `fuzz/corpus/`,
//! then random and mutated inputs (proptest), through the same entry points the cargo-fuzz
//! targets call (`cairn::fuzzing`). A panic, a stack overflow or a hang fails the test.
//!
//! Not coverage-guided, so weaker than libFuzzer at finding deep bugs; it runs everywhere, in
//! every `cargo test`. `CAIRN_FUZZ_SECONDS=N` adds a timed mutation run per target that prints
//! its figures (executions, crashes), the ones docs/reliability.md quotes; `PROPTEST_CASES`
//! sets how many proptest cases each target gets (256 by default).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use cairn::fuzzing;

const TARGETS: [&str; 4] = ["spec", "expression", "state", "plan"];

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    let seeds: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// Runs one target on one input. The spec target needs a scratch project directory.
fn run(target: &str, data: &[u8], scratch: &Path) {
    match target {
        "spec" => {
            fuzzing::spec(data, scratch);
        }
        "expression" => fuzzing::expression(data),
        "state" => {
            fuzzing::state_file(data);
        }
        "plan" => {
            fuzzing::plan_file(data);
        }
        _ => unreachable!("unknown target {target}"),
    }
}

/// One edit of a seed: what libFuzzer's simplest mutators do.
#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(usize, u8),
    SetByte(usize, u8),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
    Truncate(usize),
    /// Copies a slice of the input over another place: repeats structure.
    Duplicate(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop_oneof![
        Just(b"${".to_vec()),
        Just(b"}".to_vec()),
        Just(b"(".to_vec()),
        Just(b"[".to_vec()),
        Just(b"{".to_vec()),
        Just(b"\n  ".to_vec()),
        Just(b": ".to_vec()),
        Just(b"*a".to_vec()),
        Just(b"&a ".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\u00".to_vec()),
        Just(b"-1".to_vec()),
        Just(b"1e308".to_vec()),
        Just(b"../".to_vec()),
        Just(b"count: 100000\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::SetByte(at, b)),
        (any::<usize>(), interesting).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Mutation::Remove(at, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..256, any::<usize>())
            .prop_map(|(from, n, to)| Mutation::Duplicate(from, n, to)),
    ]
}

fn apply(data: &mut Vec<u8>, m: &Mutation) {
    let len = data.len();
    let at = |i: usize| if len == 0 { 0 } else { i % (len + 1) };
    match m {
        Mutation::FlipBit(i, bit) if len > 0 => data[i % len] ^= 1 << bit,
        Mutation::SetByte(i, b) if len > 0 => data[i % len] = *b,
        Mutation::Insert(i, bytes) => {
            let i = at(*i);
            data.splice(i..i, bytes.iter().copied());
        }
        Mutation::Remove(i, n) if len > 0 => {
            let i = i % len;
            data.drain(i..(i + n).min(len));
        }
        Mutation::Truncate(i) => data.truncate(at(*i)),
        Mutation::Duplicate(from, n, to) if len > 0 => {
            let from = from % len;
            let piece = data[from..(from + n).min(len)].to_vec();
            let to = at(*to);
            data.splice(to..to, piece);
        }
        _ => {}
    }
}

fn mutated(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let seeds = corpus(target);
    let n = seeds.len();
    (0..n, proptest::collection::vec(mutation(), 1..6)).prop_map(move |(i, edits)| {
        let mut data = seeds[i].clone();
        for edit in &edits {
            apply(&mut data, edit);
        }
        data
    })
}

#[test]
fn every_seed_runs_clean() {
    let scratch = tempfile::tempdir().unwrap();
    for target in TARGETS {
        for seed in corpus(target) {
            run(target, &seed, scratch.path());
        }
    }
}

/// The seeds are meant to reach far into each reader: the valid ones must be accepted.
#[test]
fn the_valid_seeds_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for valid in ["state/applied.json", "state/pending.json"] {
        assert!(
            fuzzing::state_file(&std::fs::read(root.join(valid)).unwrap()),
            "{valid}"
        );
    }
    for valid in ["plan/create.cairn", "plan/no_changes.cairn"] {
        assert!(
            fuzzing::plan_file(&std::fs::read(root.join(valid)).unwrap()),
            "{valid}"
        );
    }
    let scratch = tempfile::tempdir().unwrap();
    for valid in [
        "spec/network_and_db.yaml",
        "spec/count_and_for_each.yaml",
        "spec/anchors_and_aliases.yaml",
    ] {
        assert!(
            fuzzing::spec(&std::fs::read(root.join(valid)).unwrap(), scratch.path()),
            "{valid}"
        );
    }
}

proptest! {
    #[test]
    fn spec_survives_mutated_seeds(data in mutated("spec")) {
        let scratch = tempfile::tempdir().unwrap();
        run("spec", &data, scratch.path());
    }

    #[test]
    fn expression_survives_mutated_seeds(data in mutated("expression")) {
        run("expression", &data, Path::new("."));
    }

    #[test]
    fn expression_survives_any_text(text in "\\PC{0,200}") {
        run("expression", text.as_bytes(), Path::new("."));
    }

    #[test]
    fn state_survives_mutated_seeds(data in mutated("state")) {
        run("state", &data, Path::new("."));
    }

    #[test]
    fn plan_survives_mutated_seeds(data in mutated("plan")) {
        run("plan", &data, Path::new("."));
    }

    #[test]
    fn every_reader_survives_random_bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let scratch = tempfile::tempdir().unwrap();
        for target in TARGETS {
            run(target, &data, scratch.path());
        }
    }
}

/// With `CAIRN_FUZZ_SECONDS=N`: N seconds of stacked random mutations per target, printing
/// executions and crashes. Without it, returns at once.
#[test]
fn timed_mutation_run() {
    let Some(seconds) = std::env::var("CAIRN_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        // xorshift64*: reproducible from the fixed seed, no dependency.
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        rng.wrapping_mul(0x2545_f491_4f6c_dd1d) as usize
    };
    let mut crashes = 0;
    for target in TARGETS {
        let seeds = corpus(target);
        let started = Instant::now();
        let mut executions = 0u64;
        let mut slowest = Duration::ZERO;
        while started.elapsed() < Duration::from_secs(seconds) {
            let mut data = seeds[next() % seeds.len()].clone();
            for _ in 0..1 + next() % 8 {
                let m = match next() % 6 {
                    0 => Mutation::FlipBit(next(), (next() % 8) as u8),
                    1 => Mutation::SetByte(next(), next() as u8),
                    2 => Mutation::Insert(next(), vec![next() as u8; 1 + next() % 4]),
                    3 => Mutation::Remove(next(), 1 + next() % 64),
                    4 => Mutation::Truncate(next()),
                    _ => Mutation::Duplicate(next(), 1 + next() % 256, next()),
                };
                apply(&mut data, &m);
            }
            let one = Instant::now();
            if catch_unwind(AssertUnwindSafe(|| run(target, &data, scratch.path()))).is_err() {
                crashes += 1;
                let out =
                    std::env::temp_dir().join(format!("cairn-fuzz-crash-{target}-{executions}"));
                std::fs::write(&out, &data).unwrap();
                eprintln!("{target}: crash, input saved to {}", out.display());
            }
            slowest = slowest.max(one.elapsed());
            executions += 1;
        }
        println!(
            "{target}: {executions} executions in {seconds} s, crashes: {crashes}, slowest input {slowest:?}"
        );
    }
    assert_eq!(crashes, 0);
}
