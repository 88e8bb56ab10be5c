//! The summary's tables: each bench beside its baseline, and beside the
//! same bench of another revision.

use std::fmt::Write as _;

/// Criterion options of `--quick`: short warm-up and measurement.
pub const QUICK_ARGS: &[&str] = &["--warm-up-time", "1", "--measurement-time", "2"];

/// One measured bench.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchResult {
    /// The criterion group (`caller`).
    pub group: String,
    /// The bench id within its group (`info_message`, `batch/1000`).
    pub id: String,
    /// Median time per iteration, in nanoseconds.
    pub median_ns: f64,
}

impl BenchResult {
    /// Whether this bench is a baseline: its id, or its whole group's name,
    /// contains `baseline`.
    pub fn is_baseline(&self) -> bool {
        self.id.contains("baseline") || self.group.starts_with("baseline")
    }
}

/// The machine the numbers come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Logical cores available to the process.
    pub cores: usize,
    /// `rustc --version`.
    pub rustc: String,
    /// The commit measured.
    pub commit: String,
}

/// The ratio of each bench to its baseline: the baseline of its group (the
/// first, by id, when a group has several), or else the bench of the same id
/// in a `baseline…` group (parameterized benches such as batch sizes);
/// `None` without a baseline.
pub fn ratios(results: &[BenchResult]) -> Vec<Option<f64>> {
    results
        .iter()
        .map(|r| {
            let in_group = results
                .iter()
                .filter(|b| b.group == r.group && b.is_baseline())
                .min_by(|a, b| a.id.cmp(&b.id));
            let baseline = in_group.or_else(|| {
                results
                    .iter()
                    .find(|b| b.group.starts_with("baseline") && b.id == r.id)
            })?;
            (baseline.median_ns > 0.0).then(|| r.median_ns / baseline.median_ns)
        })
        .collect()
}

/// The Markdown summary.
pub fn render(results: &[BenchResult], machine: &Machine, quick: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmarks\n");
    let _ = writeln!(
        s,
        "Written by `cargo xtask bench{}`; do not edit by hand. Medians of one run; \
         each ratio compares a bench to the baseline (an id containing `baseline`) \
         of its group, or to the bench of the same id in a `baseline…` group, measured in the same run on the same machine, so ratios \
         travel between machines better than times do.\n",
        if quick { " --quick" } else { "" }
    );
    let _ = writeln!(
        s,
        "- CPU: {} ({} logical cores)",
        machine.cpu, machine.cores
    );
    let _ = writeln!(s, "- Toolchain: {}", machine.rustc);
    let _ = writeln!(s, "- Commit: {}", machine.commit);
    if quick {
        let _ = writeln!(s, "- Quick run: `{}`", QUICK_ARGS.join(" "));
    }
    let _ = writeln!(s, "\n| group | bench | median | vs baseline |");
    let _ = writeln!(s, "|---|---|---:|---:|");
    for (r, ratio) in results.iter().zip(ratios(results)) {
        let ratio = match ratio {
            _ if r.is_baseline() => "baseline".to_owned(),
            Some(x) => format!("{x:.2}×"),
            None => "–".to_owned(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            r.group,
            r.id,
            human_time(r.median_ns),
            ratio
        );
    }
    s.push_str(&render_ingest(results));
    s
}

/// The ingest server's throughput (`ingest_<N>_records` groups: each
/// iteration ingests N records), in records per second; empty without such
/// a group.
pub fn render_ingest(results: &[BenchResult]) -> String {
    let mut s = String::new();
    for r in results {
        let Some(n) = r
            .group
            .strip_prefix("ingest_")
            .and_then(|g| g.strip_suffix("_records"))
            .and_then(|n| n.parse::<f64>().ok())
        else {
            continue;
        };
        if s.is_empty() {
            s.push_str(
                "\n## Ingest server\n\nRecords ingested per second by `timber-ingest-server` \
                 (`ingest-server/benches/ingest_view.rs`: batches of 1,000 over one keep-alive \
                 HTTP/1.1 connection, the view on, `--keep` 100,000), without and with a \
                 browser's live feed (`/api/events`) connected and reading, same run.\n\n\
                 | bench | records per iteration | median | records/s |\n|---|---:|---:|---:|\n",
            );
        }
        let per_second = if r.median_ns > 0.0 {
            n * 1e9 / r.median_ns
        } else {
            0.0
        };
        let _ = writeln!(
            s,
            "| {} | {n:.0} | {} | {per_second:.0} |",
            r.id,
            human_time(r.median_ns)
        );
    }
    s
}

/// The before/after table: each bench of this run beside the same bench
/// of `rev`'s run (both medians, both ratios to their own run's baseline,
/// and now over then).
pub fn render_against(now: &[BenchResult], rev: &str, then: &[BenchResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n## Against `{rev}`\n\nThe benches of `{rev}`, run first by its own \
         `cargo xtask bench` on the same machine in the same invocation; benches \
         only one side has are left out.\n"
    );
    let _ = writeln!(
        s,
        "| group | bench | `{rev}` | vs its baseline | now | vs its baseline | now / `{rev}` |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|");
    let show = |ratio: Option<f64>, r: &BenchResult| match ratio {
        _ if r.is_baseline() => "baseline".to_owned(),
        Some(x) => format!("{x:.2}×"),
        None => "–".to_owned(),
    };
    let (now_ratios, then_ratios) = (ratios(now), ratios(then));
    for (r, ratio) in now.iter().zip(now_ratios) {
        let Some(i) = then.iter().position(|b| b.group == r.group && b.id == r.id) else {
            continue;
        };
        let old = &then[i];
        let change = if old.median_ns > 0.0 {
            format!("{:.2}×", r.median_ns / old.median_ns)
        } else {
            "–".to_owned()
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.group,
            r.id,
            human_time(old.median_ns),
            show(then_ratios[i], old),
            human_time(r.median_ns),
            show(ratio, r),
            change
        );
    }
    s
}

/// `1234.5` ns -> `1.23 µs`.
pub fn human_time(ns: f64) -> String {
    let (value, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    format!("{value:.2} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingest_groups_become_records_per_second() {
        let r = |group: &str, id: &str, median_ns| BenchResult {
            group: group.into(),
            id: id.into(),
            median_ns,
        };
        let text = render_ingest(&[
            r("core_caller", "x", 1.0),
            r("ingest_10000_records", "view_open", 5e6),
        ]);
        assert!(
            text.contains("| view_open | 10000 | 5.00 ms | 2000000 |"),
            "{text}"
        );
        assert!(render_ingest(&[r("core_caller", "x", 1.0)]).is_empty());
    }
}
