//! Running the tools (cargo, git) the tasks are made of.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};

/// The cargo that runs us (`$CARGO`), so `cargo +nightly xtask` stays on nightly.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// A git command in `dir`.
pub fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir);
    c
}

/// How a command is shown in logs and errors.
pub fn describe(c: &Command) -> String {
    let mut s = String::new();
    for (k, v) in c.get_envs() {
        if let Some(v) = v {
            s.push_str(&format!("{}={} ", k.to_string_lossy(), v.to_string_lossy()));
        }
    }
    s.push_str(&c.get_program().to_string_lossy());
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs with inherited output; an error names the failed command.
pub fn run(c: &mut Command) -> Result<(), String> {
    eprintln!("$ {}", describe(c));
    let status = c
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(c)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(c)))
    }
}

/// Runs quietly and returns stdout; on failure the error carries stderr.
pub fn output(c: &mut Command) -> Result<String, String> {
    let out = c
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(c)))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{}` failed ({}): {}",
            describe(c),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Adds arguments given as plain strings.
pub fn with_args<I, S>(mut c: Command, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    c.args(args);
    c
}
