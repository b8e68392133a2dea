//! The start-up benchmark: `cairn validate` of a project's environment, as a user runs it, cold
//! (first run; the page cache dropped first where the user may) and warm (the median of the runs
//! after it).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// One start-up measurement.
#[derive(Clone, Debug)]
pub struct StartupFigures {
    pub environment: String,
    pub cold_seconds: f64,
    /// Whether the page cache was dropped before the cold run (root only); otherwise the cold
    /// run is only the first one.
    pub cache_dropped: bool,
    pub warm_median_seconds: f64,
    pub warm_min_seconds: f64,
    pub warm_runs: usize,
}

/// Runs `exe -C project validate -e environment` once cold and `warm_runs` times warm.
pub fn measure_startup(
    exe: &Path,
    project: &Path,
    environment: &str,
    warm_runs: usize,
) -> Result<StartupFigures, String> {
    let run = || -> Result<f64, String> {
        let started = Instant::now();
        let out = Command::new(exe)
            .arg("-C")
            .arg(project)
            .args(["validate", "-e", environment])
            .env("NO_COLOR", "1")
            .output()
            .map_err(|e| format!("running {}: {e}", exe.display()))?;
        let seconds = started.elapsed().as_secs_f64();
        if !out.status.success() {
            return Err(format!(
                "`cairn validate -e {environment}` failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(seconds)
    };
    let cache_dropped = drop_page_cache();
    let cold_seconds = run()?;
    let mut warm = Vec::with_capacity(warm_runs);
    for _ in 0..warm_runs.max(1) {
        warm.push(run()?);
    }
    warm.sort_by(f64::total_cmp);
    Ok(StartupFigures {
        environment: environment.to_string(),
        cold_seconds,
        cache_dropped,
        warm_median_seconds: warm[warm.len() / 2],
        warm_min_seconds: warm[0],
        warm_runs: warm.len(),
    })
}

/// Asks Linux to drop clean page-cache pages, so the next run reads the binary and the project
/// from disk. Only root may; anyone else gets `false`.
fn drop_page_cache() -> bool {
    let _ = Command::new("sync").status();
    std::fs::write("/proc/sys/vm/drop_caches", "1").is_ok()
}
