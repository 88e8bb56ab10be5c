//! `cargo xtask <command>`: the project's automation, in Rust.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use xtask::{arch, bench, ci, msrv, package, release, repo_root, soak};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci [--list] [--skip-demo]     run what .ci/run runs (fmt, clippy, tests, docs,
                                smoke runs, demo); --list only prints the steps
  bench [--quick] [-p <crate>] [--against <rev>]
                                run the criterion benches, write BENCHMARKS.md;
                                --against runs <rev>'s benches first, side by side
  release <version> [--offline] bump every crate to <version>, check CHANGELOG.md,
                                package the publishable crates, commit, tag v<version>
  release --dry-run [--skip-tests]
                                cargo publish --workspace --dry-run, then test every
                                unpacked .crate, then build and run the README quick
                                start in a fresh project against a local server
  msrv                          check that nothing in Cargo.lock needs a newer Rust
                                than the workspace's rust-version
  arch                          check the workspace's shape: file sizes, core/src's
                                root and re-exports, no import cycles between files,
                                no mock or subscriber integration in the core
  soak [--minutes N]            run the HTTPS chaos suite for N minutes (default 10)
                                in release and print its figures
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(args: &[String]) -> Result<(), String> {
    let root = repo_root();
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => return Err(format!("no command\n\n{USAGE}")),
    };
    match command {
        "ci" => {
            let mut options = ci::Options::default();
            for a in rest {
                match a.as_str() {
                    "--list" => options.list = true,
                    "--skip-demo" => options.skip_demo = true,
                    other => return Err(unknown(other)),
                }
            }
            ci::run(&root, options)
        }
        "bench" => {
            let mut options = bench::Options::default();
            let mut it = rest.iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--quick" => options.quick = true,
                    "-p" | "--package" => match it.next() {
                        Some(p) => options.packages.push(p.clone()),
                        None => return Err(format!("{a} needs a crate name")),
                    },
                    "--against" => match it.next() {
                        Some(rev) => options.against = Some(rev.clone()),
                        None => return Err(format!("{a} needs a git revision")),
                    },
                    other => return Err(unknown(other)),
                }
            }
            bench::run(&root, &options).map(|_| ())
        }
        "release" if rest.iter().any(|a| a == "--dry-run") => {
            let mut options = package::Options::default();
            for a in rest {
                match a.as_str() {
                    "--dry-run" => {}
                    "--skip-tests" => options.skip_tests = true,
                    other => return Err(unknown(other)),
                }
            }
            let done = package::dry_run(&root, &options)?;
            println!(
                "dry run of {}: packaged and verified {}{}",
                done.version,
                done.packaged.join(", "),
                if options.skip_tests {
                    ""
                } else {
                    "; each one's tests built unpacked; the README quick start ran"
                }
            );
            Ok(())
        }
        "release" => {
            let mut options = release::Options::default();
            let mut version = None;
            for a in rest {
                match a.as_str() {
                    "--offline" => options.offline = true,
                    flag if flag.starts_with('-') => return Err(unknown(flag)),
                    v if version.is_none() => version = Some(v),
                    other => return Err(unknown(other)),
                }
            }
            let version = version.ok_or(format!("release needs a version\n\n{USAGE}"))?;
            let outcome = release::run(&root, version, &options)?;
            println!(
                "released {}: packaged {}",
                outcome.tag,
                if outcome.packaged.is_empty() {
                    "nothing".to_owned()
                } else {
                    outcome.packaged.join(", ")
                }
            );
            Ok(())
        }
        "msrv" => match rest.first() {
            Some(other) => Err(unknown(other)),
            None => msrv::run(&root),
        },
        "arch" => match rest.first() {
            Some(other) => Err(unknown(other)),
            None => arch::run(&root),
        },
        "soak" => {
            let minutes = soak::parse_minutes(rest).map_err(|e| format!("{e}\n\n{USAGE}"))?;
            soak::run(&root, minutes)
        }
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    }
}

fn unknown(arg: &str) -> String {
    format!("unexpected argument `{arg}`\n\n{USAGE}")
}
