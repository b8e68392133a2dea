//! Terraform's spelling of long options with one dash (`-target=ADDR`, `-auto-approve`,
//! `-out plan`), which muscle memory and existing CI scripts type. Before clap sees the
//! arguments, a single-dash word that names one of cairn's long options gets its second dash;
//! anything else (short flags such as `-e` or `-vv`, values) is left as it is.

use std::collections::BTreeSet;
use std::ffi::OsString;

/// Every long option name of `command` and its subcommands.
fn long_names(command: &clap::Command, names: &mut BTreeSet<String>) {
    for arg in command.get_arguments() {
        if let Some(long) = arg.get_long() {
            names.insert(long.to_string());
        }
    }
    for sub in command.get_subcommands() {
        long_names(sub, names);
    }
}

/// The arguments with Terraform-style single-dash long options doubled.
pub fn normalize(
    command: &clap::Command,
    args: impl IntoIterator<Item = OsString>,
) -> Vec<OsString> {
    let mut names = BTreeSet::new();
    long_names(command, &mut names);
    let mut after_separator = false;
    args.into_iter()
        .map(|arg| {
            if after_separator {
                return arg;
            }
            let Some(text) = arg.to_str() else {
                return arg;
            };
            if text == "--" {
                after_separator = true;
                return arg;
            }
            let Some(rest) = text.strip_prefix('-').filter(|r| !r.starts_with('-')) else {
                return arg;
            };
            let name = rest.split_once('=').map_or(rest, |(n, _)| n);
            if name.len() > 1 && names.contains(name) {
                OsString::from(format!("-{text}"))
            } else {
                arg
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;

    fn norm(args: &[&str]) -> Vec<String> {
        normalize(&Cli::command(), args.iter().map(OsString::from))
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn terraform_single_dash_options_are_understood_and_short_flags_left_alone() {
        assert_eq!(
            norm(&[
                "cairn",
                "plan",
                "-e",
                "dev",
                "-target=aws_vpc.main",
                "-out",
                "p.cairn",
                "-vv"
            ]),
            [
                "cairn",
                "plan",
                "-e",
                "dev",
                "--target=aws_vpc.main",
                "--out",
                "p.cairn",
                "-vv"
            ]
        );
        assert_eq!(
            norm(&[
                "cairn",
                "apply",
                "-auto-approve",
                "-replace",
                "aws_db_instance.db"
            ]),
            [
                "cairn",
                "apply",
                "--auto-approve",
                "--replace",
                "aws_db_instance.db"
            ]
        );
        // Not an option of cairn's: left for clap to report.
        assert_eq!(
            norm(&["cairn", "plan", "-nonsense"]),
            ["cairn", "plan", "-nonsense"]
        );
    }
}
