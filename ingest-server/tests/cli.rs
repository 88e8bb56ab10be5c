//! The `timber-ingest-server` command, run as a child process on
//! 127.0.0.1: what it prints, what it accepts (the official Python SDK's
//! wire format and curl-style requests), what `/api/*` gives back, how it
//! stops, and how `--keep`, `--api-key`, `--https` and `--otlp` behave.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;

use common::{eventually, get, get_json, post_logs, request, start};
use serde_json::Value;

/// A batch exactly as `timberlogs-client` POSTs it: httpx's `json=` with
/// Python's `json.dumps` spacing, the dataclass fields in camelCase, an
/// exception's class name and traceback, a local flow's id and steps.
const PYTHON_BODY: &str = r#"{"logs": [{"level": "info", "message": "User signed in", "source": "py-app", "environment": "production", "version": "1.2.0", "userId": "user-1", "data": {"method": "oauth"}, "tags": ["auth"], "timestamp": 1700000000000, "flowId": "checkout-a1b2c3d4", "stepIndex": 0}, {"level": "error", "message": "Payment failed", "source": "py-app", "environment": "production", "data": {"message": "card declined"}, "errorName": "ValueError", "errorStack": "Traceback (most recent call last):\n  File \"app.py\", line 3, in pay\nValueError: card declined", "timestamp": 1700000000250, "flowId": "checkout-a1b2c3d4", "stepIndex": 1}]}"#;

fn python_headers(key: &str) -> Vec<(&str, &str)> {
    vec![
        ("Content-Type", "application/json"),
        ("X-API-Key", key),
        ("User-Agent", "python-httpx/0.27.0"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Idempotency-Key", "py-batch-1"),
    ]
}

fn messages(answer: &Value) -> Vec<String> {
    answer["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn python_sdk_and_curl_requests_appear_in_the_api() {
    let server = start(&["--listen", "127.0.0.1:0"]);
    assert_eq!(
        server.env_line("TIMBERLOGS_ENDPOINT"),
        Some(server.url.clone())
    );
    let key = server.env_line("TIMBERLOGS_API_KEY").unwrap();
    let addr = server.addr;

    // The Python SDK's batch, twice with the same idempotency key.
    for _ in 0..2 {
        let (status, body) = request(
            addr,
            "POST",
            "/v1/logs",
            &python_headers(&key),
            PYTHON_BODY.as_bytes(),
        );
        assert_eq!(status, 200, "{body}");
    }
    // curl -H 'X-API-Key: ..' -H 'Content-Type: application/json' -d '{"logs":[..]}'
    let (status, _) = post_logs(
        addr,
        "any-key-at-all",
        r#"{"logs":[{"level":"warn","message":"from curl","tags":["cli"]}]}"#,
    );
    assert_eq!(status, 200);
    // curl --data-binary @export.csv '...?format=csv&source=curl'
    let (status, body) = request(
        addr,
        "POST",
        "/v1/logs?format=csv&source=curl",
        &[("Content-Type", "text/csv"), ("X-API-Key", "k")],
        b"level,message\nerror,Connection refused\ninfo,Request completed",
    );
    assert_eq!(status, 200, "{body}");
    // Refusals, each with its reason.
    let (status, _) = request(
        addr,
        "POST",
        "/v1/logs",
        &[("Content-Type", "application/json")],
        b"{\"logs\":[]}",
    );
    assert_eq!(status, 401);
    let (status, body) = post_logs(addr, "k", r#"{"logs":[{"level":"info","message":""}]}"#);
    assert_eq!(status, 400);
    assert!(body.contains("message is too short"), "{body}");

    let all = get_json(addr, "/api/records");
    assert_eq!(
        messages(&all),
        ["from curl", "Payment failed", "User signed in"],
        "newest first, the duplicate once"
    );
    let flow = get_json(addr, "/api/records?flow=checkout-a1b2c3d4");
    assert_eq!(messages(&flow), ["Payment failed", "User signed in"]);
    assert_eq!(flow["records"][0]["stepIndex"], 1);
    assert!(flow["records"][0]["errorStack"]
        .as_str()
        .unwrap()
        .contains("Traceback"));
    assert_eq!(
        messages(&get_json(addr, "/api/records?level=error&source=py-app")),
        ["Payment failed"]
    );
    assert_eq!(
        messages(&get_json(addr, "/api/records?tag=cli")),
        ["from curl"]
    );
    assert_eq!(
        messages(&get_json(addr, "/api/records?q=CARD%20declined")),
        ["Payment failed"]
    );
    assert_eq!(
        messages(&get_json(addr, "/api/records?limit=1")),
        ["from curl"]
    );
    for bad in [
        "/api/records?level=loud",
        "/api/records?limit=zero",
        "/api/records?colour=red",
    ] {
        let (status, body) = get(addr, bad);
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body.contains("error"), "{body}");
    }

    let raw = get_json(addr, "/api/raw");
    assert_eq!(raw["raw"][0]["format"], "csv");
    assert_eq!(raw["raw"][0]["source"], "curl");
    let parsed: Vec<&str> = raw["raw"][0]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert_eq!(parsed, ["Connection refused", "Request completed"]);

    let stats = get_json(addr, "/api/stats");
    let summary = &stats["summary"];
    assert_eq!(summary["requests"], 6, "{stats}");
    assert_eq!(summary["records"], 3);
    assert_eq!(summary["duplicateBatches"], 1);
    assert_eq!(summary["unauthorized"], 1);
    assert_eq!(summary["rejected"], 1);
    let reasons = stats["refusalsByReason"].as_object().unwrap();
    assert!(
        reasons.contains_key("missing X-API-Key header"),
        "{reasons:?}"
    );
    assert!(
        reasons
            .keys()
            .any(|r| r.starts_with("message is too short")),
        "{reasons:?}"
    );

    let (status, page) = get(addr, "/");
    assert_eq!(status, 200);
    assert!(page.contains("<html") && page.contains("EventSource"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "the page fetches nothing from elsewhere"
    );
}

#[test]
fn a_given_api_key_is_required_and_never_shown() {
    const KEY: &str = "tb_test_cli_secret_0123456789";
    let server = start(&["--listen", "127.0.0.1:0", "--api-key", KEY]);
    assert!(
        !server.banner.join("\n").contains(KEY),
        "{:?}",
        server.banner
    );
    assert!(server
        .env_line("TIMBERLOGS_API_KEY")
        .unwrap()
        .contains("tb_t…6789"));
    let body = r#"{"logs":[{"level":"info","message":"keyed"}]}"#;
    assert_eq!(post_logs(server.addr, "tb_test_wrong", body).0, 401);
    assert_eq!(post_logs(server.addr, KEY, body).0, 200);
    for target in ["/", "/api/records", "/api/stats", "/api/raw"] {
        let (status, text) = get(server.addr, target);
        assert_eq!(status, 200, "{target} needs no key");
        assert!(!text.contains(KEY), "{target} shows the key");
    }
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_timber-ingest-server"))
            .args(args)
            .output()
            .unwrap()
    };
    for args in [
        &["--frobnicate"][..],
        &["--listen", "0.0.0.0:7340"],
        &["--listen", "127.0.0.1:99999"],
        &["--keep", "lots"],
        &["--api-key"],
        &["--ca-file", "ca.pem"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("timber-ingest-server: "),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty());
    }
    let help = run(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let help = String::from_utf8_lossy(&help.stdout);
    for option in [
        "--listen",
        "--https",
        "--api-key",
        "--jsonl",
        "--otlp",
        "--keep",
        "7340",
    ] {
        assert!(help.contains(option), "--help lacks {option}");
    }
    let version = run(&["--version"]);
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("timber-ingest-server {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn sigterm_and_sigint_stop_it_with_exit_0() {
    for signal in ["TERM", "INT"] {
        let server = start(&["--listen", "127.0.0.1:0"]);
        assert_eq!(
            post_logs(
                server.addr,
                "k",
                r#"{"logs":[{"level":"info","message":"hi"}]}"#
            )
            .0,
            200
        );
        let addr = server.addr;
        let status = server.stop_with(signal);
        assert_eq!(status.code(), Some(0), "after SIG{signal}");
        assert!(
            TcpStream::connect(addr).is_err(),
            "the port is closed after SIG{signal}"
        );
    }
}

#[test]
fn keep_bounds_the_records_in_memory_and_counts_evictions() {
    let server = start(&["--listen", "127.0.0.1:0", "--keep", "5"]);
    for batch in 0..3 {
        let logs: Vec<String> = (0..4)
            .map(|i| format!(r#"{{"level":"info","message":"m{}"}}"#, batch * 4 + i))
            .collect();
        let (status, _) = post_logs(
            server.addr,
            "k",
            &format!(r#"{{"logs":[{}]}}"#, logs.join(",")),
        );
        assert_eq!(status, 200);
    }
    let records = get_json(server.addr, "/api/records?limit=100");
    assert_eq!(
        messages(&records),
        ["m11", "m10", "m9", "m8", "m7"],
        "the newest five"
    );
    let stats = get_json(server.addr, "/api/stats");
    assert_eq!(stats["summary"]["records"], 12);
    assert_eq!(stats["summary"]["evictedRecords"], 7);
    assert_eq!(
        (stats["keepRecords"].as_u64(), stats["keptRecords"].as_u64()),
        (Some(5), Some(5))
    );
}

#[test]
fn https_writes_a_ca_file_that_rustls_trusts() {
    let server = start(&["--listen", "127.0.0.1:0", "--https"]);
    assert!(server.url.starts_with("https://127.0.0.1:"));
    let ca = server.env_line("TIMBERLOGS_CA_CERT").expect("a CA line");
    let pem = std::fs::read(&ca).unwrap();
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = "127.0.0.1".try_into().unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, TcpStream::connect(server.addr).unwrap());
    let body = r#"{"logs":[{"level":"info","message":"over tls"}]}"#;
    write!(
        tls,
        "POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nX-API-Key: k\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = tls.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let status = server.stop_with("TERM");
    assert_eq!(status.code(), Some(0));
    assert!(
        !std::path::Path::new(&ca).exists(),
        "the CA file made for the run is removed"
    );
}

#[test]
#[cfg(feature = "otlp")]
fn otlp_runs_the_receiver_on_its_own_port() {
    let server = start(&["--listen", "127.0.0.1:0", "--otlp-listen", "127.0.0.1:0"]);
    let line = server
        .banner
        .iter()
        .find(|l| l.starts_with("OTLP/HTTP logs receiver: "))
        .expect("an OTLP line");
    let url = line.rsplit(' ').next().unwrap();
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches("/v1/logs")
        .parse()
        .unwrap();
    assert_ne!(addr, server.addr);
    let body = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":9,"body":{"stringValue":"otlp hello"}}]}]}]}"#;
    let (status, answer) = request(
        addr,
        "POST",
        "/v1/logs",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
}

#[test]
fn jsonl_appends_what_was_accepted() {
    let dir = std::env::temp_dir().join(format!("timber-cli-jsonl-{}", std::process::id()));
    let _ = std::fs::remove_file(&dir);
    let path = dir.to_string_lossy().into_owned();
    let server = start(&["--listen", "127.0.0.1:0", "--jsonl", &path]);
    assert_eq!(
        post_logs(
            server.addr,
            "k",
            r#"{"logs":[{"level":"info","message":"to file"}]}"#
        )
        .0,
        200
    );
    eventually("the JSONL line", || {
        std::fs::read_to_string(&dir).is_ok_and(|t| t.contains("to file"))
    });
    drop(server);
    let _ = std::fs::remove_file(&dir);
}

#[test]
fn a_stalled_browser_never_holds_up_ingestion() {
    let server = start(&["--listen", "127.0.0.1:0", "--keep", "1000"]);
    // A browser that opens the feed and then reads nothing.
    let mut stalled = TcpStream::connect(server.addr).unwrap();
    stalled
        .write_all(b"GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        .unwrap();
    eventually("the feed's watcher", || {
        get_json(server.addr, "/api/stats")["view"]["watchers"] == 1
    });
    let record = format!(r#"{{"level":"info","message":"{}"}}"#, "x".repeat(200));
    let body = format!(r#"{{"logs":[{}]}}"#, vec![record; 100].join(","));
    // Far more frames (a batch and a request outcome each) than the ring
    // holds, and more bytes than the socket buffers take.
    for i in 0..1000 {
        let (status, answer) = post_logs(server.addr, "k", &body);
        assert_eq!(status, 200, "request {i}: {answer:?}");
    }
    let stats = get_json(server.addr, "/api/stats");
    assert_eq!(stats["summary"]["records"], 100_000);
    assert_eq!(stats["keptRecords"], 1000, "memory bounded by --keep");
    let view = &stats["view"];
    assert!(
        view["droppedEvents"].as_u64().unwrap() > 0 || view["watchers"] == 0,
        "the stalled browser lost frames or was let go: {view}"
    );
    drop(stalled);
}
