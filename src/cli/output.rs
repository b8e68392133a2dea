//! What every command shares for talking to the user: color choice, logging, error printing,
//! the confirmation prompt.

use std::io::{IsTerminal, Write};

use tracing_subscriber::EnvFilter;

/// An error whose full text (diagnostics with quoted source lines) is already composed.
#[derive(Debug)]
pub struct Reported(pub String);

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.trim_end())
    }
}

impl std::error::Error for Reported {}

/// Prints an error the way every command does: `error: ...` and its causes, no backtrace.
pub fn report(err: &anyhow::Error) {
    let mut stderr = anstream::stderr();
    if let Some(reported) = err.downcast_ref::<Reported>() {
        let _ = writeln!(stderr, "{reported}");
        return;
    }
    let _ = writeln!(stderr, "error: {err}");
    let mut said = err.to_string();
    for cause in err.chain().skip(1) {
        // Many errors already quote their cause; say it once.
        let text = cause.to_string();
        if !said.contains(&text) {
            let _ = writeln!(stderr, "  caused by: {text}");
            said.push_str(&text);
        }
    }
}

/// Colors on a terminal only, and never with `--no-color` or `NO_COLOR`.
pub fn use_color(no_color_flag: bool) -> bool {
    if no_color_flag || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    std::io::stdout().is_terminal()
}

/// Logs go to stderr, colored only when stderr is a terminal and colors are not turned off.
pub fn init_logging(verbose: u8, no_color_flag: bool) {
    let ansi = !no_color_flag
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stderr().is_terminal();
    let filter = match std::env::var("CAIRN_LOG") {
        Ok(spec) if !spec.is_empty() => EnvFilter::new(spec),
        _ => EnvFilter::new(match verbose {
            0 => "warn",
            1 => "cairn=info",
            2 => "cairn=debug",
            _ => "trace",
        }),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .try_init();
}

/// Asks for `yes` on a terminal. Anything else, or no terminal, is a refusal with a message.
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "cannot ask for confirmation: standard input is not a terminal; \
             pass --auto-approve, or apply a saved plan file (`cairn plan --out plan.cairn`, then `cairn apply plan.cairn`)"
        );
    }
    let mut stdout = std::io::stdout();
    write!(
        stdout,
        "\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    )?;
    stdout.flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}
