//! `cargo xtask soak --minutes N`: the chaos suite of the HTTPS transport
//! (`transport-hyper/tests/chaos.rs`), N minutes long, in release, with its
//! figures printed.

use std::path::Path;
use std::process::Command;

use crate::cmd;

/// The chaos test, built in release so that the figures mean something.
pub const TEST_ARGS: &[&str] = &[
    "test",
    "--release",
    "-p",
    "timber-transport-hyper",
    "--test",
    "chaos",
    "--",
    "--nocapture",
];

/// The environment variable the chaos test reads its length from.
pub const SECS_VAR: &str = "TIMBER_CHAOS_SECS";

/// Minutes when `--minutes` is not given.
pub const DEFAULT_MINUTES: u64 = 10;

/// Reads `--minutes N` (N a whole number, at least 1).
pub fn parse_minutes(args: &[String]) -> Result<u64, String> {
    let mut minutes = DEFAULT_MINUTES;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--minutes" => {
                let value = it.next().ok_or("--minutes needs a number")?;
                minutes = value
                    .parse()
                    .ok()
                    .filter(|m| *m >= 1)
                    .ok_or(format!("--minutes: `{value}` is not a whole number >= 1"))?;
            }
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    Ok(minutes)
}

/// The cargo command of a soak of `minutes`, run in `root`.
pub fn command(root: &Path, minutes: u64) -> Command {
    let mut c = cmd::cargo();
    c.current_dir(root)
        .args(TEST_ARGS)
        .env(SECS_VAR, (minutes * 60).to_string());
    c
}

/// Runs the soak; fails if the chaos test fails.
pub fn run(root: &Path, minutes: u64) -> Result<(), String> {
    cmd::run(&mut command(root, minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn minutes_are_parsed_and_checked() {
        assert_eq!(parse_minutes(&[]), Ok(DEFAULT_MINUTES));
        assert_eq!(parse_minutes(&args(&["--minutes", "3"])), Ok(3));
        assert!(parse_minutes(&args(&["--minutes"])).is_err());
        assert!(parse_minutes(&args(&["--minutes", "0"])).is_err());
        assert!(parse_minutes(&args(&["--minutes", "x"])).is_err());
        assert!(parse_minutes(&args(&["--hours", "1"])).is_err());
    }

    #[test]
    fn the_command_runs_the_chaos_test_in_release_for_that_long() {
        let c = command(Path::new("/repo"), 5);
        let shown = cmd::describe(&c);
        assert!(shown.starts_with("TIMBER_CHAOS_SECS=300 "), "{shown}");
        assert!(
            shown.ends_with("test --release -p timber-transport-hyper --test chaos -- --nocapture"),
            "{shown}"
        );
        assert_eq!(c.get_current_dir(), Some(Path::new("/repo")));
    }
}
