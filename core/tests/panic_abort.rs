//! A program built with `panic = "abort"` (the workspace's `panic-abort`
//! profile) delivers what its clients queued before the panic aborts it:
//! the panic hook's own client, and every other open one (last words).

use std::process::Command;

#[test]
fn a_panic_that_aborts_delivers_every_client_s_queue_first() {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if !workspace.join("core/Cargo.toml").exists() {
        // The packaged crate, tested alone: the profile is the workspace's.
        eprintln!("skipped: needs the workspace's panic-abort profile");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("delivered.txt");
    // A target directory of its own: the test's cargo may hold the other.
    let target = workspace.join("target/panic-abort");
    let ran = Command::new(env!("CARGO"))
        .args([
            "run",
            "--quiet",
            "--profile",
            "panic-abort",
            "-p",
            "timber-core",
        ])
        .args(["--example", "panic_abort", "--"])
        .arg(&out)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    let (status, stderr) = (ran.status, String::from_utf8_lossy(&ran.stderr));
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(6),
        "aborted (SIGABRT): {status:?}\n{stderr}"
    );
    let delivered = std::fs::read_to_string(&out).unwrap_or_default();
    let mut lines: Vec<&str> = delivered.lines().collect();
    lines.sort_unstable();
    // The panic's own record, from the hook.
    let panic = lines
        .iter()
        .position(|l| l.starts_with("panicked at ") && l.ends_with(": a fatal error"));
    lines.remove(panic.expect("the panic was logged"));
    assert_eq!(
        lines,
        [
            "from the other client",
            "record 0",
            "record 1",
            "record 2",
            "record 3",
            "record 4",
        ]
    );
}
