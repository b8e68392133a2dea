//! What an apply shows while it works. On a terminal: one live line per operation in flight with
//! its elapsed time (indicatif), and a permanent line as each one ends. Elsewhere (CI logs, pipes):
//! a line when each operation starts and ends, with its duration, and a heartbeat for every
//! operation still in flight every 30 s (`CAIRN_HEARTBEAT=10s` changes it), so a long RDS create
//! never looks like a hang.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::addr::ResourceAddr;
use crate::engine::{ApplyHooks, Op};
use crate::providers::ProviderError;
use crate::spec::duration::parse_duration;

const HEARTBEAT: Duration = Duration::from_secs(30);

/// An operation in flight: since when, and its live line on a terminal.
struct InFlight {
    since: Instant,
    bar: Option<ProgressBar>,
}

/// The apply's progress reporter; [`Progress::stop`] when the apply ends.
pub struct Progress {
    in_flight: Mutex<HashMap<(ResourceAddr, Op), InFlight>>,
    /// Live lines, on a terminal only.
    bars: Option<MultiProgress>,
    heartbeat: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Progress {
    pub fn start() -> Arc<Progress> {
        let terminal = std::io::stdout().is_terminal();
        let progress = Arc::new(Progress {
            in_flight: Mutex::new(HashMap::new()),
            bars: terminal.then(MultiProgress::new),
            heartbeat: Mutex::new(None),
        });
        if !terminal {
            let every = std::env::var("CAIRN_HEARTBEAT")
                .ok()
                .and_then(|v| parse_duration(&v).ok())
                .filter(|d| !d.is_zero())
                .unwrap_or(HEARTBEAT);
            let weak = Arc::downgrade(&progress);
            let task = tokio::spawn(async move {
                let mut interval = tokio::time::interval(every);
                interval.tick().await;
                loop {
                    interval.tick().await;
                    match weak.upgrade() {
                        Some(progress) => progress.beat(),
                        None => break,
                    }
                }
            });
            if let Ok(mut slot) = progress.heartbeat.lock() {
                *slot = Some(task);
            }
        }
        progress
    }

    pub fn stop(&self) {
        if let Ok(mut slot) = self.heartbeat.lock()
            && let Some(task) = slot.take()
        {
            task.abort();
        }
        if let Some(bars) = &self.bars {
            let _ = bars.clear();
        }
    }

    /// A permanent line, above the live ones on a terminal.
    fn line(&self, text: String) {
        match &self.bars {
            Some(bars) => {
                let _ = bars.println(text);
            }
            None => println!("{text}"),
        }
    }

    fn beat(&self) {
        let Ok(in_flight) = self.in_flight.lock() else {
            return;
        };
        let mut lines: Vec<(Instant, String)> = in_flight
            .iter()
            .map(|((addr, op), InFlight { since, .. })| {
                (
                    *since,
                    format!(
                        "{addr}: Still {}... [{} elapsed]",
                        verb_ing(*op).to_lowercase(),
                        format_elapsed(since.elapsed())
                    ),
                )
            })
            .collect();
        lines.sort();
        for (_, line) in lines {
            println!("{line}");
        }
    }

    fn finished(&self, addr: &ResourceAddr, op: Op) {
        if let Ok(mut in_flight) = self.in_flight.lock()
            && let Some(InFlight { bar: Some(bar), .. }) = in_flight.remove(&(addr.clone(), op))
        {
            bar.finish_and_clear();
        }
    }
}

impl ApplyHooks for Progress {
    fn on_start(&self, addr: &ResourceAddr, op: Op) {
        let bar = self.bars.as_ref().map(|bars| {
            let bar = bars.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(format!("{addr}: {}...", verb_ing(op)));
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        if let Ok(mut in_flight) = self.in_flight.lock() {
            in_flight.insert(
                (addr.clone(), op),
                InFlight {
                    since: Instant::now(),
                    bar,
                },
            );
        }
        if self.bars.is_none() {
            println!("{addr}: {}...", verb_ing(op));
        }
    }

    fn on_done(&self, addr: &ResourceAddr, op: Op, elapsed: Duration) {
        self.finished(addr, op);
        self.line(format!(
            "{addr}: {} complete after {}",
            noun(op),
            format_elapsed(elapsed)
        ));
    }

    fn on_error(&self, addr: &ResourceAddr, op: Op, error: &ProviderError) {
        self.finished(addr, op);
        self.line(format!("{addr}: {} failed: {error}", noun(op)));
    }

    fn on_retry(
        &self,
        addr: &ResourceAddr,
        op: Op,
        attempt: u32,
        delay: Duration,
        error: &ProviderError,
    ) {
        tracing::info!(
            "{addr}: {} throttled ({error}); retry {attempt} in {}",
            noun(op),
            format_elapsed(delay)
        );
    }
}

pub fn format_elapsed(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 {
        format!("{}m{}s", secs / 60, secs % 60)
    } else if d.as_millis() >= 1000 {
        format!("{secs}s")
    } else {
        format!("{}ms", d.as_millis())
    }
}

pub fn verb_ing(op: Op) -> &'static str {
    match op {
        Op::Create => "Creating",
        Op::Update => "Modifying",
        Op::Delete => "Destroying",
        Op::Read => "Reading",
    }
}

fn noun(op: Op) -> &'static str {
    match op {
        Op::Create => "Creation",
        Op::Update => "Modifications",
        Op::Delete => "Destruction",
        Op::Read => "Read",
    }
}
