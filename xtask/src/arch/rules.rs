//! The five rules of `arch`, and how a broken one reads.

use std::fmt;
use std::path::{Path, PathBuf};

use super::graph::Cycle;

/// Rule 1: the most lines a source file may have.
pub const MAX_LINES: usize = 500;
/// Rule 2: the most files and folders at the root of `core/src`.
pub const MAX_CORE_ENTRIES: usize = 12;
/// Rule 3: the most names `core/src/lib.rs` may re-export.
pub const MAX_REEXPORTS: usize = 40;
/// The core crate's folder, relative to the workspace root.
pub const CORE: &str = "core";

/// The rules, as printed.
pub const RULES: [&str; 5] = [
    "no file in a crate's src/ has more than 500 lines",
    "core/src has at most 12 entries at its root (files and folders)",
    "core/src/lib.rs re-exports at most 40 names, none by glob",
    "no import cycle between the files of a crate's src/ (mod declarations are no import)",
    "core/src has no `mock` file or module, no tracing_subscriber and no log::Log impl",
];

/// A broken rule. Paths are relative to the workspace root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// Rule 1.
    LongFile {
        /// The file.
        path: PathBuf,
        /// Its lines.
        lines: usize,
    },
    /// Rule 2.
    CoreEntries {
        /// The entries at the root of `core/src`, sorted.
        entries: Vec<String>,
    },
    /// Rule 3: too many names.
    ReExports {
        /// Names re-exported.
        names: usize,
    },
    /// Rule 3: a glob cannot be counted.
    GlobReExport {
        /// Its line in `core/src/lib.rs`.
        line: u32,
        /// As written.
        text: String,
    },
    /// Rule 4.
    Cycle(Cycle),
    /// Rule 5: a file, folder or module named `mock`.
    Mock {
        /// The file or folder (or the file declaring the module).
        path: PathBuf,
        /// The declaration's line, for a module.
        line: Option<u32>,
    },
    /// Rule 5: `tracing_subscriber` named in code.
    Subscriber {
        /// The file.
        path: PathBuf,
        /// Lines naming it.
        lines: Vec<u32>,
    },
    /// Rule 5: `impl log::Log for ..`.
    LogImpl {
        /// The file.
        path: PathBuf,
        /// The impl's line.
        line: u32,
    },
}

impl Violation {
    /// The rule it breaks, 1 to 5.
    pub fn rule(&self) -> usize {
        match self {
            Violation::LongFile { .. } => 1,
            Violation::CoreEntries { .. } => 2,
            Violation::ReExports { .. } | Violation::GlobReExport { .. } => 3,
            Violation::Cycle(_) => 4,
            Violation::Mock { .. } | Violation::Subscriber { .. } | Violation::LogImpl { .. } => 5,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lib = Path::new(CORE).join("src/lib.rs");
        match self {
            Violation::LongFile { path, lines } => {
                write!(f, "{}: {lines} lines (max {MAX_LINES})", path.display())
            }
            Violation::CoreEntries { entries } => write!(
                f,
                "{CORE}/src has {} entries at its root (max {MAX_CORE_ENTRIES}): {}",
                entries.len(),
                entries.join(" ")
            ),
            Violation::ReExports { names } => write!(
                f,
                "{} re-exports {names} names (max {MAX_REEXPORTS})",
                lib.display()
            ),
            Violation::GlobReExport { line, text } => write!(
                f,
                "{}:{line}: `{text}` is a glob re-export: its names cannot be counted, list them",
                lib.display()
            ),
            Violation::Cycle(c) => {
                let names: Vec<_> = c.files.iter().map(|p| p.display().to_string()).collect();
                write!(f, "cycle of {} files: {}", c.files.len(), names.join(", "))?;
                for (from, to, e) in &c.edges {
                    write!(
                        f,
                        "\n      {} -> {}   ({}:{} `{}`)",
                        from.display(),
                        to.display(),
                        from.display(),
                        e.line,
                        e.text
                    )?;
                }
                Ok(())
            }
            Violation::Mock { path, line: None } => {
                write!(f, "{}: a file or folder named `mock`", path.display())
            }
            Violation::Mock {
                path,
                line: Some(l),
            } => write!(f, "{}:{l}: a module named `mock`", path.display()),
            Violation::Subscriber { path, lines } => {
                let lines: Vec<_> = lines.iter().map(u32::to_string).collect();
                write!(
                    f,
                    "{}: names tracing_subscriber (lines {})",
                    path.display(),
                    lines.join(", ")
                )
            }
            Violation::LogImpl { path, line } => {
                write!(f, "{}:{line}: implements log::Log", path.display())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_rules_quote_the_limits() {
        assert!(RULES[0].contains(&MAX_LINES.to_string()));
        assert!(RULES[1].contains(&MAX_CORE_ENTRIES.to_string()));
        assert!(RULES[2].contains(&MAX_REEXPORTS.to_string()));
        assert!(RULES.iter().filter(|r| r.contains("core/src")).count() >= 3);
    }
}
