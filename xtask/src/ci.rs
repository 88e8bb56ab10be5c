//! `cargo xtask ci`: the checks `.ci/run` runs, in the same order.

use std::path::Path;

use crate::cmd;

/// One command of the CI run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// What the step checks, as printed in the log.
    pub name: &'static str,
    /// `cargo` arguments.
    pub args: &'static [&'static str],
    /// Extra environment.
    pub env: &'static [(&'static str, &'static str)],
}

/// The checks, mirroring `.ci/run` (keep the two in sync). `.ci/run` also
/// installs tinyproxy (the proxy tests' real proxy) and chromium (the
/// browser of the ingest server's view test, `ingest-server/tests/browser.rs`,
/// run by the workspace tests: it skips without chromium unless
/// `TIMBER_REQUIRE_CHROMIUM=1`, which `.ci/run` sets), the official Python
/// SDK in a virtual environment (`ingest-server/tests/python_sdk.rs`, which
/// skips without it unless `TIMBER_REQUIRE_PYTHON_SDK=1`), and builds the
/// docs as docs.rs does when a nightly toolchain is there. For machines with
/// little disk it builds without incremental state and with line tables only,
/// and deletes the test executables once each test step has run (the
/// packaged crates' too, one crate at a time: `TIMBER_CI_DROP_TEST_EXECUTABLES`),
/// and the examples once they have run.
pub const CHECKS: &[Step] = &[
    Step {
        name: "fmt",
        args: &["fmt", "--all", "--check"],
        env: &[],
    },
    Step {
        name: "arch (file sizes, core's root, import cycles)",
        args: &["xtask", "arch"],
        env: &[],
    },
    Step {
        name: "clippy (workspace)",
        args: &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
        env: &[],
    },
    Step {
        name: "clippy (the crates with features, all features)",
        args: &[
            "clippy",
            "-p",
            "timber-core",
            "-p",
            "timber-transport-hyper",
            "-p",
            "timber-transport-otlp",
            "-p",
            "timber-ingest-server",
            "-p",
            "timber-log",
            "-p",
            "timber-sdk",
            "--all-targets",
            "--all-features",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
        env: &[],
    },
    Step {
        name: "clippy (timber-sdk without https: no hyper, tokio or rustls)",
        args: &[
            "clippy",
            "-p",
            "timber-sdk",
            "--no-default-features",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
        env: &[],
    },
    Step {
        name: "clippy (the transports without default features: no gzip)",
        args: &[
            "clippy",
            "-p",
            "timber-transport-hyper",
            "-p",
            "timber-transport-otlp",
            "--no-default-features",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
        env: &[],
    },
    Step {
        name: "msrv (Cargo.lock within rust-version)",
        args: &["xtask", "msrv"],
        env: &[],
    },
    Step {
        name: "tests (workspace)",
        args: &["test", "--workspace"],
        env: &[],
    },
    Step {
        name: "tests (timber-core, timber-log, timber-sdk, all features)",
        args: &[
            "test",
            "-p",
            "timber-core",
            "-p",
            "timber-log",
            "-p",
            "timber-sdk",
            "--all-features",
            "--locked",
        ],
        env: &[],
    },
    Step {
        name: "examples (built)",
        args: &[
            "build",
            "--workspace",
            "--examples",
            "--all-features",
            "--locked",
        ],
        env: &[],
    },
    Step {
        name: "docs",
        args: &[
            "doc",
            "--workspace",
            "--no-deps",
            "--all-features",
            "--locked",
        ],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
    },
    Step {
        name: "packages (publish --dry-run, tests unpacked, quick start)",
        args: &["xtask", "release", "--dry-run"],
        env: &[],
    },
];

/// The examples run after the checks (each exits by itself), with the
/// features they need.
pub const EXAMPLES: &[&[&str]] = &[
    &["axum_service", "--features", "tracing", "--", "--once"],
    &["log_facade", "--features", "log"],
    &["app_test", "--features", "test"],
    &["custom_transport", "--no-default-features"],
    &["csv_ingest"],
    &["otlp_collector", "--features", "otlp"],
];

/// Bounded fuzz and soak smoke runs, run after the checks.
///
/// Register a smoke step here when you add one (a short, bounded run of a
/// fuzz target or soak test; seconds, not minutes), for example
/// `Step { name: "soak smoke", args: &["run", "-p", "..", "--", "--secs", "20"], env: &[] }`.
/// Today there are none.
pub const SMOKE_STEPS: &[Step] = &[];

/// The demo, `.ci/run`'s last step (the README's first command).
pub const DEMO: Step = Step {
    name: "demo",
    args: &["run", "--release", "-p", "timber-demo"],
    env: &[],
};

/// What `ci` runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Print the steps instead of running them.
    pub list: bool,
    /// Leave out the demo run.
    pub skip_demo: bool,
}

/// Every step, in order.
pub fn steps(options: Options) -> Vec<Step> {
    let mut steps: Vec<Step> = CHECKS.iter().chain(SMOKE_STEPS).copied().collect();
    steps.extend(EXAMPLES.iter().map(|args| Step {
        name: "example",
        args,
        env: &[],
    }));
    if !options.skip_demo {
        steps.push(DEMO);
    }
    steps
}

/// Runs the steps in `root`, stopping at the first failure.
pub fn run(root: &Path, options: Options) -> Result<(), String> {
    let steps = steps(options);
    for step in &steps {
        let mut c = cmd::cargo();
        c.current_dir(root);
        if step.name == "example" {
            c.args(["run", "-p", "timber-sdk", "--locked", "--example"]);
        }
        c.args(step.args).envs(step.env.iter().copied());
        if options.list {
            println!("{:<40} {}", step.name, cmd::describe(&c));
            continue;
        }
        eprintln!("== {}", step.name);
        cmd::run(&mut c).map_err(|e| format!("ci step `{}`: {e}", step.name))?;
    }
    if !options.list {
        eprintln!("CI passed ({} steps)", steps.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_cover_what_ci_requires_in_order() {
        let all = steps(Options::default());
        let names: Vec<_> = all.iter().map(|s| s.name).collect();
        assert_eq!(names.first(), Some(&"fmt"));
        assert_eq!(names.last(), Some(&"demo"));
        let has = |args: &[&str]| all.iter().any(|s| s.args == args);
        assert!(has(&["test", "--workspace"]));
        assert!(has(&[
            "test",
            "-p",
            "timber-core",
            "-p",
            "timber-log",
            "-p",
            "timber-sdk",
            "--all-features",
            "--locked"
        ]));
        assert!(has(&["xtask", "msrv"]));
        assert!(has(&["xtask", "release", "--dry-run"]));
        assert!(all
            .iter()
            .any(|s| s.args.first() == Some(&"build") && s.args.contains(&"--examples")));
        assert_eq!(
            all.iter().filter(|s| s.name == "example").count(),
            EXAMPLES.len()
        );
        let doc = all.iter().find(|s| s.name == "docs").unwrap();
        assert_eq!(doc.env, &[("RUSTDOCFLAGS", "-D warnings")]);
        assert!(all
            .iter()
            .filter(|s| s.args[0] == "clippy")
            .all(|s| s.args.ends_with(&["-D", "warnings"])));
        let without_demo = steps(Options {
            skip_demo: true,
            ..Options::default()
        });
        assert_eq!(without_demo.len(), all.len() - 1);
    }
}
