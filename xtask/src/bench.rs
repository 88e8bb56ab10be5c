//! `cargo xtask bench`: runs every crate's criterion benches and writes one
//! summary table, with each bench's ratio to the baseline measured in the
//! same run, to `BENCHMARKS.md`. With `--against <rev>`, the benches of that
//! revision run first (its own `cargo xtask bench`, in a git worktree), and
//! the table puts each bench beside its figure there.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::cmd;
use serde_json::Value;

mod table;

pub use table::{human_time, ratios, render, render_against, BenchResult, Machine, QUICK_ARGS};

/// The summary file, at the repository root.
pub const SUMMARY_FILE: &str = "BENCHMARKS.md";

/// What `bench` runs.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Short warm-up and measurement times.
    pub quick: bool,
    /// Only these packages (all of the workspace when empty).
    pub packages: Vec<String>,
    /// A git revision whose benches run first, in the same run, for a
    /// before/after table.
    pub against: Option<String>,
}

/// Runs the benches (after those of `--against`'s revision, when given),
/// then writes the summary of this run.
pub fn run(root: &Path, options: &Options) -> Result<PathBuf, String> {
    let before = match &options.against {
        Some(rev) => Some((rev.clone(), bench_revision(root, rev, options)?)),
        None => None,
    };
    let results = bench_here(root, &target_dir(root), options)?;
    let path = root.join(SUMMARY_FILE);
    let mut text = render(&results, &machine(root), options.quick);
    if let Some((rev, before)) = before {
        text.push_str(&render_against(&results, &rev, &before));
    }
    fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("wrote {} ({} benches)", path.display(), results.len());
    Ok(path)
}

/// Runs the benches of the workspace at `root`, with its build in
/// `target`, and reads back the results this run wrote.
fn bench_here(root: &Path, target: &Path, options: &Options) -> Result<Vec<BenchResult>, String> {
    let criterion_dir = target.join("criterion");
    // Only files written from now on belong to this run: earlier runs and
    // benches removed since may have left theirs.
    let started = SystemTime::now();
    let mut c = cmd::cargo();
    c.current_dir(root)
        .env("CARGO_TARGET_DIR", target)
        .arg("bench");
    if options.packages.is_empty() {
        c.arg("--workspace");
    } else {
        for p in &options.packages {
            c.args(["-p", p]);
        }
    }
    // The layer's events inside an OpenTelemetry span (beside OpenTelemetry's
    // own bridge) are benched with the feature that reads the span's context.
    if options.packages.is_empty() || options.packages.iter().any(|p| p == "timber-tracing") {
        c.args(["--features", "timber-tracing/opentelemetry"]);
    }
    // Bench targets only (`--benches` would include libs, whose libtest
    // harness rejects criterion's options).
    c.args(["--bench", "*"]);
    if options.quick {
        c.arg("--").args(QUICK_ARGS);
    }
    cmd::run(&mut c)?;
    let results = collect(&criterion_dir, Some(started))?;
    if results.is_empty() {
        return Err(format!(
            "no criterion results were written under {}",
            criterion_dir.display()
        ));
    }
    Ok(results)
}

/// Runs `rev`'s own `cargo xtask bench` (it knows its benches' features)
/// in a worktree of it under the target directory, its build apart from
/// ours, and reads back its results.
fn bench_revision(root: &Path, rev: &str, options: &Options) -> Result<Vec<BenchResult>, String> {
    let base = target_dir(root).join("against");
    let tree = base.join("tree");
    let target = base.join("target");
    // A worktree left by an interrupted run is replaced.
    let _ = cmd::output(
        cmd::git(root)
            .args(["worktree", "remove", "--force"])
            .arg(&tree),
    );
    let _ = fs::remove_dir_all(&tree);
    cmd::run(
        cmd::git(root)
            .args(["worktree", "add", "--detach"])
            .arg(&tree)
            .arg(rev),
    )?;
    let started = SystemTime::now();
    let mut c = cmd::cargo();
    c.current_dir(&tree)
        .env("CARGO_TARGET_DIR", &target)
        .args(["xtask", "bench"]);
    if options.quick {
        c.arg("--quick");
    }
    for p in &options.packages {
        c.args(["-p", p]);
    }
    let ran = cmd::run(&mut c);
    let _ = cmd::output(
        cmd::git(root)
            .args(["worktree", "remove", "--force"])
            .arg(&tree),
    );
    ran?;
    collect(&target.join("criterion"), Some(started))
}

/// `$CARGO_TARGET_DIR`, or `target` under the workspace root.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// Reads `<group>/<bench…>/new/estimates.json` under `criterion_dir`,
/// keeping files modified at or after `since`. Sorted by group, then id.
pub fn collect(
    criterion_dir: &Path,
    since: Option<SystemTime>,
) -> Result<Vec<BenchResult>, String> {
    let mut results = Vec::new();
    if criterion_dir.is_dir() {
        walk(criterion_dir, criterion_dir, since, &mut results)?;
    }
    results.sort_by(|a, b| (&a.group, &a.id).cmp(&(&b.group, &b.id)));
    Ok(results)
}

fn walk(
    base: &Path,
    dir: &Path,
    since: Option<SystemTime>,
    out: &mut Vec<BenchResult>,
) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let name = entry.file_name();
        // `report` holds HTML; `base` and `change` are older runs' data.
        if name == "report" || name == "base" || name == "change" {
            continue;
        }
        if name == "new" {
            if let Some(result) = read_bench(base, &path, since)? {
                out.push(result);
            }
            continue;
        }
        walk(base, &path, since, out)?;
    }
    Ok(())
}

fn read_bench(
    base: &Path,
    new_dir: &Path,
    since: Option<SystemTime>,
) -> Result<Option<BenchResult>, String> {
    let estimates = new_dir.join("estimates.json");
    let Ok(meta) = fs::metadata(&estimates) else {
        return Ok(None);
    };
    if let (Some(since), Ok(modified)) = (since, meta.modified()) {
        if modified < since {
            return Ok(None);
        }
    }
    let read = |p: &Path| fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let parsed = serde_json::from_str::<Value>(&read(&estimates)?)
        .map_err(|e| format!("{}: {e}", estimates.display()))?;
    let median_ns = parsed
        .pointer("/median/point_estimate")
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("{}: no median.point_estimate", estimates.display()))?;

    // The directory names are criterion's sanitized ids; benchmark.json
    // has the real ones when present.
    let relative = new_dir
        .parent()
        .and_then(|bench| bench.strip_prefix(base).ok())
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let (mut group, mut id) = match relative.split_first() {
        Some((group, rest)) if !rest.is_empty() => (group.clone(), rest.join("/")),
        Some((group, _)) => (group.clone(), group.clone()),
        None => return Ok(None),
    };
    if let Ok(text) = fs::read_to_string(new_dir.join("benchmark.json")) {
        if let Ok(meta) = serde_json::from_str::<Value>(&text) {
            if let Some(g) = meta.get("group_id").and_then(Value::as_str) {
                group = g.to_owned();
            }
            let function = meta.get("function_id").and_then(Value::as_str);
            let value = meta.get("value_str").and_then(Value::as_str);
            match (function, value) {
                (Some(f), Some(v)) => id = format!("{f}/{v}"),
                (Some(f), None) => id = f.to_owned(),
                (None, Some(v)) => id = v.to_owned(),
                (None, None) => {}
            }
        }
    }
    Ok(Some(BenchResult {
        group,
        id,
        median_ns,
    }))
}

/// Describes this machine; unknown parts say so rather than fail.
pub fn machine(root: &Path) -> Machine {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name") || l.starts_with("Model"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .or_else(|| {
            let mut c = std::process::Command::new("sysctl");
            c.args(["-n", "machdep.cpu.brand_string"]);
            cmd::output(&mut c).ok().map(|s| s.trim().to_owned())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = cmd::output(std::process::Command::new("rustc").arg("--version"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned());
    let commit = cmd::output(cmd::git(root).args(["rev-parse", "--short", "HEAD"]))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned());
    Machine {
        cpu,
        cores,
        rustc,
        commit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-bench-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn write_estimate(base: &Path, bench: &str, median: f64, meta: Option<&str>) {
        let dir = base.join(bench).join("new");
        fs::create_dir_all(&dir).unwrap();
        let estimates = format!(
            r#"{{"mean":{{"point_estimate":{}}},"median":{{"confidence_interval":{{"lower_bound":1,"upper_bound":2}},"point_estimate":{median}}},"median_abs_dev":{{"point_estimate":0.5}}}}"#,
            median * 1.1
        );
        fs::write(dir.join("estimates.json"), estimates).unwrap();
        if let Some(meta) = meta {
            fs::write(dir.join("benchmark.json"), meta).unwrap();
        }
    }

    #[test]
    fn a_fake_criterion_tree_becomes_a_table_with_same_run_ratios() {
        let dir = temp_dir("tree");
        write_estimate(&dir, "caller/baseline_mpsc_send", 50.0, None);
        write_estimate(&dir, "caller/info_message", 125.0, None);
        write_estimate(
            &dir,
            "serialize/batch_1000",
            2_000_000.0,
            Some(r#"{"group_id":"serialize","function_id":"batch","value_str":"1000"}"#),
        );
        write_estimate(
            &dir,
            "serialize/baseline_serde_json_values",
            1_000_000.0,
            None,
        );
        write_estimate(&dir, "lonely/alone", 10.0, None);
        write_estimate(&dir, "baseline_memory/10", 4.0, None);
        write_estimate(&dir, "over_https/10", 40.0, None);
        // Not this run's data, not a result.
        fs::create_dir_all(dir.join("caller/info_message/base")).unwrap();
        fs::write(
            dir.join("caller/info_message/base/estimates.json"),
            r#"{"median":{"point_estimate":1}}"#,
        )
        .unwrap();
        fs::create_dir_all(dir.join("caller/report")).unwrap();

        let results = collect(&dir, None).unwrap();
        let ids: Vec<_> = results
            .iter()
            .map(|r| format!("{}/{}", r.group, r.id))
            .collect();
        assert_eq!(
            ids,
            [
                "baseline_memory/10",
                "caller/baseline_mpsc_send",
                "caller/info_message",
                "lonely/alone",
                "over_https/10",
                "serialize/baseline_serde_json_values",
                "serialize/batch/1000",
            ]
        );
        assert_eq!(
            ratios(&results),
            [
                Some(1.0),
                Some(1.0),
                Some(2.5),
                None,
                Some(10.0),
                Some(1.0),
                Some(2.0)
            ]
        );

        let machine = Machine {
            cpu: "Test CPU".into(),
            cores: 2,
            rustc: "rustc 1.0".into(),
            commit: "abc1234".into(),
        };
        let table = render(&results, &machine, true);
        assert!(table.contains("- CPU: Test CPU (2 logical cores)"));
        assert!(table.contains("| caller | info_message | 125.00 ns | 2.50× |"));
        assert!(table.contains("| caller | baseline_mpsc_send | 50.00 ns | baseline |"));
        assert!(table.contains("| serialize | batch/1000 | 2.00 ms | 2.00× |"));
        assert!(table.contains("| lonely | alone | 10.00 ns | – |"));
        assert!(table.contains("--warm-up-time 1 --measurement-time 2"));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_run_against_a_revision_puts_each_bench_beside_its_figure_there() {
        let bench = |group: &str, id: &str, median_ns: f64| BenchResult {
            group: group.into(),
            id: id.into(),
            median_ns,
        };
        let then = [
            bench("caller", "baseline_send", 100.0),
            bench("caller", "info", 300.0),
            bench("removed", "gone", 1.0),
        ];
        let now = [
            bench("caller", "baseline_send", 120.0),
            bench("caller", "info", 240.0),
            bench("added", "new", 5.0),
        ];
        let table = render_against(&now, "f5883e8", &then);
        assert!(table.contains("## Against `f5883e8`"), "{table}");
        assert!(
            table.contains("| caller | info | 300.00 ns | 3.00× | 240.00 ns | 2.00× | 0.80× |"),
            "{table}"
        );
        assert!(table.contains(
            "| caller | baseline_send | 100.00 ns | baseline | 120.00 ns | baseline | 1.20× |"
        ));
        assert!(
            !table.contains("gone") && !table.contains("| added"),
            "{table}"
        );
    }

    #[test]
    fn older_files_and_broken_trees_do_not_panic() {
        let dir = temp_dir("old");
        write_estimate(&dir, "g/old", 1.0, None);
        let later = SystemTime::now() + std::time::Duration::from_secs(3600);
        assert!(collect(&dir, Some(later)).unwrap().is_empty());
        assert!(collect(&dir.join("missing"), None).unwrap().is_empty());
        fs::write(dir.join("g/old/new/estimates.json"), "{not json").unwrap();
        assert!(collect(&dir, None).is_err());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn times_are_human() {
        assert_eq!(human_time(12.345), "12.35 ns");
        assert_eq!(human_time(1_234.5), "1.23 µs");
        assert_eq!(human_time(2_500_000.0), "2.50 ms");
        assert_eq!(human_time(3e9), "3.00 s");
    }
}
