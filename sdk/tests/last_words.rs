//! How a process ends, and what of its records the ingest server stored: a
//! child process (this test binary, running one ignored test) logs at the
//! facade's defaults over HTTPS, then ends the way programs end.

mod common;

use std::process::{Command, ExitStatus};
use std::sync::{Arc, OnceLock};

use common::*;
use timber_ingest_server::IngestServer;
use timber_sdk::Client;

/// How the child ends once it has logged.
const ENDING: &str = "LAST_WORDS_ENDING";
/// How many records it logs first.
const COUNT: &str = "LAST_WORDS_COUNT";

/// Runs the ignored test `test` in a child process logging to `server`;
/// returns how it ended and what it printed.
fn run(server: &IngestServer, test: &str, ending: &str, count: usize) -> (ExitStatus, String) {
    let ca = ca_file(server, &format!("{test}-{ending}-{count}"));
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args([
        "--exact",
        test,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TIMBERLOGS_") {
            child.env_remove(name);
        }
    }
    child
        .env("TIMBERLOGS_API_KEY", KEY)
        .env("TIMBERLOGS_SOURCE", "last-words")
        .env("TIMBERLOGS_ENDPOINT", server.url())
        .env("TIMBERLOGS_CA_CERT", &ca)
        .env(ENDING, ending)
        .env(COUNT, count.to_string());
    let out = child.output().unwrap();
    let _ = std::fs::remove_file(ca);
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains(KEY), "the key was printed:\n{text}");
    (out.status, text)
}

fn stored(server: &IngestServer) -> usize {
    server.records().len()
}

fn logged_by_child() -> (String, usize) {
    let ending = std::env::var(ENDING).expect("run by a test of this file");
    let count = std::env::var(COUNT).unwrap().parse().unwrap();
    (ending, count)
}

#[test]
fn every_record_logged_before_main_returns_or_exit_is_stored() {
    for count in [5, 50] {
        for (ending, status) in [
            ("return", Some(0)),
            ("exit", Some(3)),
            ("exit-thread", Some(4)),
        ] {
            let server = https_server();
            let (ended, text) = run(&server, "child_logs_then_ends", ending, count);
            assert_eq!(ended.code(), status, "{ending}:\n{text}");
            assert_eq!(
                stored(&server),
                count,
                "{ending} after {count} records:\n{text}"
            );
        }
    }
}

#[test]
#[ignore = "run by every_record_logged_before_main_returns_or_exit_is_stored"]
fn child_logs_then_ends() {
    let (ending, count) = logged_by_child();
    let guard = timber_sdk::init(timber_sdk::builder()).unwrap();
    for i in 0..count {
        guard.client().info(format!("record {i}"), (), None);
    }
    match ending.as_str() {
        // The guard is alive: `exit` does not run destructors.
        "exit" => std::process::exit(3),
        "exit-thread" => {
            std::thread::spawn(|| std::process::exit(4)).join().unwrap();
        }
        _ => drop(guard),
    }
}

#[test]
fn a_client_captured_by_its_own_on_error_still_delivers_at_exit() {
    let server = https_server();
    let (ended, text) = run(&server, "child_leaks_a_client_in_a_cycle", "return", 5);
    assert!(ended.success(), "{text}");
    assert_eq!(stored(&server), 5, "{text}");
}

#[test]
#[ignore = "run by a_client_captured_by_its_own_on_error_still_delivers_at_exit"]
fn child_leaks_a_client_in_a_cycle() {
    let (_, count) = logged_by_child();
    timber_sdk::install_exit_hook().unwrap();
    // on_error holds the client, the client holds on_error: dropping every
    // handle of the program never drops the client.
    let slot: Arc<OnceLock<Client>> = Arc::default();
    let inner = Arc::clone(&slot);
    let client = timber_sdk::builder()
        .on_error(move |e| {
            if let Some(client) = inner.get() {
                client.warn(format!("failed: {e}"), (), None);
            }
        })
        .build()
        .unwrap();
    let _ = slot.set(client.clone());
    for i in 0..count {
        client.info(format!("record {i}"), (), None);
    }
    drop(client);
}
