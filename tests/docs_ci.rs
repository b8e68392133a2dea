//! docs/ci.md promises a workflow that uses only cairn's real flags: every `cairn` command in
//! it must parse with today's command line.

use clap::Parser;

#[test]
fn every_cairn_command_in_the_ci_guide_parses() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ci.md"))
        .expect("docs/ci.md");
    let mut commands = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let line = line.trim().trim_start_matches("run:").trim();
        if pending.is_empty() && !line.starts_with("cairn ") {
            continue;
        }
        // Shell continuation lines belong to the same command.
        match line.strip_suffix('\\') {
            Some(head) => pending.push_str(head),
            None => {
                pending.push_str(line);
                commands.push(std::mem::take(&mut pending));
            }
        }
    }
    assert!(commands.len() >= 3, "found {commands:?}");
    for command in &commands {
        let words: Vec<String> = command
            .split_whitespace()
            .map(|w| {
                // Shell variables and workflow expressions stand for plain words.
                let w = w.trim_matches('"');
                if w.contains('$') {
                    "stg".to_string()
                } else {
                    w.to_string()
                }
            })
            .collect();
        if let Err(e) = cairn::cli::Cli::try_parse_from(&words) {
            panic!("`{command}` in docs/ci.md does not parse:\n{e}");
        }
    }
}
