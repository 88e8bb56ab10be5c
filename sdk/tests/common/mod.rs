//! A real HTTPS ingest server on 127.0.0.1, and child processes of this test
//! binary for what reads the process environment.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use timber_ingest_server::{IngestServer, ServerConfig, TlsIdentity};

/// The key every test uses; no output may ever contain it.
pub const KEY: &str = "tb_test_Zq9xSECRETsdk4711";

pub fn https_server() -> IngestServer {
    IngestServer::start(ServerConfig::new(KEY).tls(TlsIdentity::generate().unwrap())).unwrap()
}

/// The server's CA certificate, in a file (for `TIMBERLOGS_CA_CERT`).
pub fn ca_file(server: &IngestServer, name: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("timber-sdk-test-{}-{name}.pem", std::process::id()));
    std::fs::write(&path, server.ca_pem().unwrap()).unwrap();
    path
}

/// Runs the ignored test `test` of this binary in a child process with
/// only these `TIMBERLOGS_*` and proxy variables; returns its output and
/// panics if it failed or printed the key.
pub fn run_child(test: &str, vars: &[(&str, String)]) -> String {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args(["--exact", test, "--ignored", "--nocapture"]);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("TIMBERLOGS_") || name.to_ascii_lowercase().ends_with("_proxy") {
            child.env_remove(&*name);
        }
    }
    child.envs(vars.iter().map(|(k, v)| (k, v)));
    let out = child.output().unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "child {test} failed:\n{text}"
    );
    assert!(!text.contains(KEY), "the key was printed:\n{text}");
    text
}
