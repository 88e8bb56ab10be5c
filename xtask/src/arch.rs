//! `cargo xtask arch`: the workspace keeps its shape. Reads every member
//! crate's `src/` and checks
//!
//! 1. no file has more than [`MAX_LINES`] lines;
//! 2. `core/src` has at most [`MAX_CORE_ENTRIES`] entries at its root;
//! 3. `core/src/lib.rs` re-exports at most [`MAX_REEXPORTS`] names
//!    (`pub use a::{B, C}` is two, `pub use a::b as c` one), none by glob;
//! 4. no files import each other in a circle (see `arch/graph.rs` for what an
//!    edge is: `use` and qualified paths, not `mod` declarations);
//! 5. `core/src` has no `mock` file or module, names no
//!    `tracing_subscriber` and implements no `log::Log`.
//!
//! The sources are read with a tokenizer of its own (`arch/lex.rs`), not parsed
//! with `syn`: paths inside macro bodies count too, and a debug build reads
//! the workspace in milliseconds.

mod graph;
mod lex;
mod rules;
mod scan;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use toml_edit::Item;

use crate::workspace::read_manifest;

pub use graph::{Cycle, Example};
pub use rules::{Violation, CORE, MAX_CORE_ENTRIES, MAX_LINES, MAX_REEXPORTS, RULES};

/// What [`check`] read and found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Member crates with a `src/`.
    pub crates: usize,
    /// Source files read.
    pub files: usize,
    /// Their lines.
    pub lines: usize,
    /// Broken rules, by rule.
    pub violations: Vec<Violation>,
}

/// The member folders of the workspace at `root` (`dir/*` globs expanded),
/// relative to it.
pub fn members(root: &Path) -> Result<Vec<PathBuf>, String> {
    let doc = read_manifest(&root.join("Cargo.toml"))?;
    let list = |key: &str| -> Vec<String> {
        doc.get("workspace")
            .and_then(|w| w.get(key))
            .and_then(Item::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let exclude: Vec<PathBuf> = list("exclude").iter().map(PathBuf::from).collect();
    let mut out = Vec::new();
    if doc.get("package").is_some() {
        out.push(PathBuf::new());
    }
    for m in list("members") {
        match m.strip_suffix("/*") {
            Some(parent) if !parent.contains(['*', '?', '[']) => {
                let entries =
                    fs::read_dir(root.join(parent)).map_err(|e| format!("{parent}: {e}"))?;
                let mut found: Vec<PathBuf> = entries
                    .flatten()
                    .map(|e| Path::new(parent).join(e.file_name()))
                    .filter(|p| root.join(p).join("Cargo.toml").is_file())
                    .collect();
                found.sort();
                out.extend(found);
            }
            _ if m.contains(['*', '?', '[']) => {
                return Err(format!("workspace member glob `{m}` is not supported"))
            }
            _ => out.push(PathBuf::from(m)),
        }
    }
    out.retain(|m| !exclude.contains(m));
    Ok(out)
}

/// The `.rs` files under `dir`, sorted.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Paths named `mock` under `dir` (files `mock.rs`, folders `mock`).
fn mock_paths(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "mock.rs" || (name == "mock" && path.is_dir()) {
            out.push(path.clone());
        }
        if path.is_dir() {
            mock_paths(&path, out);
        }
    }
}

/// Checks the workspace at `root` against the five rules.
pub fn check(root: &Path) -> Result<Report, String> {
    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).to_owned();
    let core_src = root.join(CORE).join("src");
    if !core_src.join("lib.rs").is_file() {
        return Err(format!(
            "{}: no such file",
            rel(&core_src.join("lib.rs")).display()
        ));
    }
    let mut report = Report::default();
    let mut cycles = Vec::new();
    let mut core_files = Vec::new();
    for member in members(root)? {
        let src = root.join(&member).join("src");
        if !src.is_dir() {
            continue;
        }
        report.crates += 1;
        let mut paths = Vec::new();
        rust_files(&src, &mut paths)?;
        let mut files = Vec::new();
        for path in paths {
            let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let lines = text.lines().count();
            report.files += 1;
            report.lines += lines;
            if lines > MAX_LINES {
                report.violations.push(Violation::LongFile {
                    path: rel(&path),
                    lines,
                });
            }
            files.push((path, scan::scan(&text)));
        }
        for mut cycle in graph::cycles(&src, &files) {
            cycle.files.iter_mut().for_each(|p| *p = rel(p));
            for (from, to, _) in &mut cycle.edges {
                *from = rel(from);
                *to = rel(to);
            }
            cycles.push(Violation::Cycle(cycle));
        }
        if src == core_src {
            core_files = files;
        }
    }

    let mut entries: Vec<String> = fs::read_dir(&core_src)
        .map_err(|e| format!("{}: {e}", core_src.display()))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    if entries.len() > MAX_CORE_ENTRIES {
        report.violations.push(Violation::CoreEntries { entries });
    }

    let lib = core_src.join("lib.rs");
    let mut names = 0;
    for (path, scan) in &core_files {
        if *path != lib {
            continue;
        }
        for r in &scan.reexports {
            names += r.names;
            if r.glob {
                report.violations.push(Violation::GlobReExport {
                    line: r.line,
                    text: r.text.clone(),
                });
            }
        }
    }
    if names > MAX_REEXPORTS {
        report.violations.push(Violation::ReExports { names });
    }

    report.violations.extend(cycles);

    let mut mocks = Vec::new();
    mock_paths(&core_src, &mut mocks);
    report
        .violations
        .extend(mocks.iter().map(|p| Violation::Mock {
            path: rel(p),
            line: None,
        }));
    for (path, scan) in &core_files {
        for m in &scan.mods {
            if m.name == "mock" && (m.inline || m.path.is_some()) {
                report.violations.push(Violation::Mock {
                    path: rel(path),
                    line: Some(m.line),
                });
            }
        }
        if !scan.subscriber.is_empty() {
            report.violations.push(Violation::Subscriber {
                path: rel(path),
                lines: scan.subscriber.clone(),
            });
        }
        for &line in &scan.log_impls {
            report.violations.push(Violation::LogImpl {
                path: rel(path),
                line,
            });
        }
    }
    report.violations.sort_by_key(Violation::rule);
    Ok(report)
}

/// Runs [`check`] on `root` and prints the rules, the violations and a
/// summary; fails when a rule is broken.
pub fn run(root: &Path) -> Result<(), String> {
    let started = Instant::now();
    let report = check(root)?;
    let took = started.elapsed();
    println!("rules:");
    for (i, rule) in RULES.iter().enumerate() {
        println!("  {}. {rule}", i + 1);
    }
    let mut counts = [0usize; 5];
    for v in &report.violations {
        counts[v.rule() - 1] += 1;
    }
    for (i, &count) in counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        println!("\nrule {}: {count} violation{}", i + 1, plural(count));
        for v in report.violations.iter().filter(|v| v.rule() == i + 1) {
            println!("  {v}");
        }
    }
    let per_rule: Vec<String> = counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "rule {}: {}",
                i + 1,
                if *c == 0 {
                    "ok".to_owned()
                } else {
                    c.to_string()
                }
            )
        })
        .collect();
    println!(
        "\narch: {} crates, {} files, {} lines read in {} ms; {}",
        report.crates,
        report.files,
        report.lines,
        took.as_millis(),
        per_rule.join(", ")
    );
    match report.violations.len() {
        0 => Ok(()),
        n => Err(format!("arch: {n} violation{} (listed above)", plural(n))),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
