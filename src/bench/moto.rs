//! The benchmarks that need a cloud, run against a local moto (AWS_ENDPOINT_URL on loopback,
//! never a real account): the reference stack end to end (apply from scratch, a no-change plan,
//! destroy) and the API calls a refresh makes as the stack is copied 1×, 10×, 100×.
//!
//! Each step runs `cairn` as a user would, with `-v`, and the API calls are read from the summary
//! lines the AWS provider prints there (`aws API calls: ...`, `aws API calls by type: ...`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// `AWS_ENDPOINT_URL` when it points at this machine: the only place these benchmarks create
/// anything.
pub fn loopback_endpoint() -> Option<String> {
    std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|url| host_is_loopback(url))
}

fn host_is_loopback(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    matches!(host, "127.0.0.1" | "localhost" | "::1")
}

/// API calls read off one run's `-v` output.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiCalls {
    /// By service (`ec2`), over every AWS provider instance.
    pub by_service: BTreeMap<String, u64>,
    /// By `service.Operation`.
    pub by_operation: BTreeMap<String, u64>,
    /// By resource type (`aws_subnet`).
    pub by_type: BTreeMap<String, u64>,
}

impl ApiCalls {
    pub fn total(&self) -> u64 {
        self.by_service.values().sum()
    }

    /// Reads the summaries each AWS provider instance prints when it is done (`-v`).
    pub fn parse(stderr: &str) -> ApiCalls {
        let mut calls = ApiCalls::default();
        for line in stderr.lines() {
            if let Some(rest) = after(line, "aws API calls by type: ") {
                add_summary(rest, &mut calls.by_type, None);
            } else if let Some(rest) = after(line, "aws API calls: ") {
                add_summary(rest, &mut calls.by_service, Some(&mut calls.by_operation));
            }
        }
        calls
    }
}

fn after<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    line.find(label).map(|at| &line[at + label.len()..])
}

/// Adds `key=N (detail=N ...) key=N (...)` to `totals` and, with `detail`, the parts in
/// parentheses to it. Words that are not `name=number` (tracing's own fields) are skipped.
fn add_summary(
    text: &str,
    totals: &mut BTreeMap<String, u64>,
    mut detail: Option<&mut BTreeMap<String, u64>>,
) {
    let mut depth = 0usize;
    for word in text.split_whitespace() {
        let opens = word.starts_with('(');
        let closes = word.ends_with(')');
        let inside = depth > 0 || opens;
        if opens {
            depth += 1;
        }
        let pair = word
            .trim_start_matches('(')
            .trim_end_matches(')')
            .split_once('=')
            .and_then(|(k, v)| Some((k.to_string(), v.parse::<u64>().ok()?)));
        if let Some((key, n)) = pair {
            if !inside {
                *totals.entry(key).or_default() += n;
            } else if let Some(detail) = detail.as_deref_mut() {
                *detail.entry(key).or_default() += n;
            }
        }
        if closes {
            depth = depth.saturating_sub(1);
        }
    }
}

/// The reference stack's environment text with its system name changed from `from` to `to`
/// everywhere (bucket, role, cluster and database names are unique in an account).
pub fn rename(text: &str, from: &str, to: &str) -> String {
    text.replace(from, to)
}

/// The environment `text` with its module calls repeated `copies` times: copy 0 is the original,
/// copy `i` has every module call `NAME` renamed `NAME_i`, every reference to it following, and
/// the system name `name` made `name-i`. The environment's outputs stay those of copy 0.
pub fn scale_environment(text: &str, name: &str, copies: usize) -> Result<String, String> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "modules:")
        .ok_or("the environment has no `modules:` section to copy")?;
    let end = lines[start + 1..]
        .iter()
        .position(|l| !l.is_empty() && !l.starts_with(' ') && !l.starts_with('#'))
        .map_or(lines.len(), |p| start + 1 + p);
    let section = &lines[start + 1..end];
    let calls: Vec<&str> = section
        .iter()
        .filter_map(|l| {
            let key = l.strip_prefix("  ")?.strip_suffix(':')?;
            (!key.starts_with(' ') && !key.starts_with('#')).then_some(key)
        })
        .collect();
    if calls.is_empty() {
        return Err("the `modules:` section calls no module".into());
    }
    let mut out: Vec<String> = lines[..=start].iter().map(|l| l.to_string()).collect();
    for i in 0..copies.max(1) {
        for line in section {
            if i == 0 {
                out.push(line.to_string());
                continue;
            }
            let mut line = line.replace(name, &format!("{name}-{i}"));
            for call in &calls {
                line = line
                    .replace(&format!("${{{call}."), &format!("${{{call}_{i}."))
                    .replace(&format!("  {call}:"), &format!("  {call}_{i}:"));
            }
            out.push(line);
        }
    }
    out.extend(lines[end..].iter().map(|l| l.to_string()));
    Ok(out.join("\n") + "\n")
}

/// One `cairn` run of a benchmark.
#[derive(Clone, Debug)]
pub struct Step {
    pub seconds: f64,
    pub exit_code: i32,
    pub calls: ApiCalls,
    pub stderr: String,
}

/// Runs `exe -v -C project ARGS` with the environment this process has.
pub fn run_step(exe: &Path, project: &Path, args: &[&str]) -> Result<Step, String> {
    let started = Instant::now();
    let out = Command::new(exe)
        .arg("-v")
        .arg("-C")
        .arg(project)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| format!("running {}: {e}", exe.display()))?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Ok(Step {
        seconds: started.elapsed().as_secs_f64(),
        exit_code: out.status.code().unwrap_or(-1),
        calls: ApiCalls::parse(&stderr),
        stderr,
    })
}

/// A copy of `project`'s `modules/` with `environment_text` as `environments/ENV.yaml`, in `dir`.
pub fn write_copy(
    project: &Path,
    dir: &Path,
    environment: &str,
    environment_text: &str,
) -> Result<PathBuf, String> {
    let _ = std::fs::remove_dir_all(dir);
    copy_tree(&project.join("modules"), &dir.join("modules"))
        .map_err(|e| format!("copying {}/modules: {e}", project.display()))?;
    std::fs::create_dir_all(dir.join("environments")).map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join("environments").join(format!("{environment}.yaml")),
        environment_text,
    )
    .map_err(|e| e.to_string())?;
    Ok(dir.to_path_buf())
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Minimum, median and maximum.
pub fn spread(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.as_slice() {
        [] => (0.0, 0.0, 0.0),
        s => (s[0], s[s.len() / 2], s[s.len() - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_summaries_of_every_provider_instance_add_up() {
        let stderr = "\
2026-11-23T08:00:00Z  INFO cairn::aws: refreshed; aws API calls so far: ec2=9 (ec2.DescribeVpcs=9) provider=aws
2026-11-23T08:00:01Z  INFO cairn::aws: aws API calls: ec2=3 (ec2.DescribeSubnets=1 ec2.DescribeVpcs=2) s3=1 (s3.HeadBucket=1) provider=aws
2026-11-23T08:00:01Z  INFO cairn::aws: aws API calls by type: aws_subnet=1 (ec2.DescribeSubnets=1) aws_vpc=2 (ec2.DescribeVpcs=2) provider=aws
2026-11-23T08:00:01Z  INFO cairn::aws: aws API calls: ec2=1 (ec2.DescribeVpcs=1) provider=aws.dr
";
        let calls = ApiCalls::parse(stderr);
        assert_eq!(calls.total(), 5);
        assert_eq!(calls.by_service["ec2"], 4);
        assert_eq!(calls.by_operation["ec2.DescribeVpcs"], 3);
        assert_eq!(calls.by_type["aws_vpc"], 2);
        assert!(!calls.by_type.contains_key("ec2.DescribeSubnets"));
    }

    #[test]
    fn a_scaled_environment_repeats_its_module_calls_with_their_references() {
        let text = "\
environment: dev
modules:
  network:
    source: network
    inputs: { name: shop-dev }
  db:
    source: postgres
    inputs: { name: shop-dev, subnet_ids: ${network.subnet_ids} }

outputs:
  db: ${db.endpoint}
";
        let scaled = scale_environment(text, "shop-dev", 3).unwrap();
        assert!(
            scaled.contains("  network_2:\n    source: network\n    inputs: { name: shop-dev-2 }")
        );
        assert!(scaled.contains("  db_1:\n    source: postgres\n    inputs: { name: shop-dev-1, subnet_ids: ${network_1.subnet_ids} }"));
        assert!(scaled.contains("  db:\n    source: postgres\n    inputs: { name: shop-dev, subnet_ids: ${network.subnet_ids} }"));
        assert!(scaled.ends_with("outputs:\n  db: ${db.endpoint}\n"));
        assert_eq!(scaled.matches("source: postgres").count(), 3);
    }

    #[test]
    fn only_a_loopback_endpoint_is_used() {
        let cases = [
            ("http://127.0.0.1:5000", true),
            ("http://localhost:5000/", true),
            ("https://ec2.us-east-1.amazonaws.com", false),
            ("http://127.0.0.1.example.com", false),
            ("http://[::1]:5000", true),
        ];
        for (url, loopback) in cases {
            assert_eq!(host_is_loopback(url), loopback, "{url}");
        }
    }
}
