//! The server's answers, checked with a bare HTTP/1.1 client over TCP so
//! that the server is tested independently of the SDK's transport.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use timber_core::{Level, RawFormat};
use timber_ingest_server::{IngestServer, Misbehave, ServerConfig};

const KEY: &str = "tb_test_server_key";

/// POSTs and returns the status and the body.
fn post(
    server: &IngestServer,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "POST {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

const JSON: (&str, &str) = ("Content-Type", "application/json");
const AUTH: (&str, &str) = ("X-API-Key", KEY);

fn server() -> IngestServer {
    IngestServer::start(ServerConfig::new(KEY)).unwrap()
}

#[test]
fn accepts_a_valid_batch() {
    let server = server();
    let (status, body) = post(
        &server,
        "/v1/logs",
        &[JSON, AUTH],
        br#"{"logs":[{"level":"warn","message":"disk","flowId":"f-1","stepIndex":0}]}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, r#"{"count":1,"success":true}"#);
    let summary = server.summary();
    assert_eq!(summary.by_level.get(&Level::Warn), Some(&1));
    assert_eq!(summary.by_flow.get("f-1"), Some(&1));
}

#[test]
fn refuses_a_missing_or_wrong_key_without_echoing_it() {
    let server = server();
    let (status, body) = post(&server, "/v1/logs", &[JSON], br#"{"logs":[]}"#);
    assert_eq!(status, 401);
    assert!(body.contains("missing X-API-Key"), "{body}");
    let (status, body) = post(
        &server,
        "/v1/logs",
        &[JSON, ("X-API-Key", "tb_test_guess_1234")],
        br#"{"logs":[]}"#,
    );
    assert_eq!(status, 401);
    assert!(!body.contains("guess"), "{body}");
    assert_eq!(server.summary().unauthorized, 2);
}

#[test]
fn gives_the_reason_for_bad_input() {
    let server = server();
    let cases: [(&[u8], &str); 4] = [
        (b"not json", "invalid body"),
        (br#"{"logs":[{"level":"info","message":""}]}"#, "logs[0]: message is too short"),
        (
            br#"{"logs":[{"level":"info","message":"ok"},{"level":"info","message":"ok","country":"abcdefghijk"}]}"#,
            "logs[1]: country is too long",
        ),
        (br#"{"logs":[{"level":"loud","message":"x"}]}"#, "invalid body"),
    ];
    for (body, reason) in cases {
        let (status, answer) = post(&server, "/v1/logs", &[JSON, AUTH], body);
        assert_eq!(status, 400, "{answer}");
        assert!(answer.contains(reason), "{answer}");
    }
    assert_eq!(server.summary().records, 0);
    assert_eq!(server.summary().rejected, 4);
}

#[test]
fn checks_content_type_method_and_path() {
    let server = server();
    let (status, _) = post(&server, "/v1/logs", &[AUTH], br#"{"logs":[]}"#);
    assert_eq!(status, 415);
    let (status, _) = post(
        &server,
        "/v1/logs?format=csv",
        &[JSON, AUTH],
        b"level,message\ninfo,x",
    );
    assert_eq!(status, 415);
    let (status, _) = post(&server, "/v2/logs", &[JSON, AUTH], b"{}");
    assert_eq!(status, 404);
    let (status, _) = post(
        &server,
        "/v1/logs?format=xml",
        &[("Content-Type", "text/xml"), AUTH],
        b"<x/>",
    );
    assert_eq!(status, 400);
    let (status, body) = post(
        &server,
        "/v1/logs?format=text&level=loud",
        &[("Content-Type", "text/plain"), AUTH],
        b"a line",
    );
    assert_eq!(status, 400);
    assert!(body.contains("loud"), "{body}");
}

#[test]
fn stores_raw_bodies_in_every_format() {
    let server = server();
    for format in RawFormat::ALL {
        let (status, body) = post(
            &server,
            &format!("/v1/logs?format={format}&source=relay%201"),
            &[("Content-Type", format.content_type()), AUTH],
            b"some body",
        );
        assert_eq!(status, 200, "{body}");
    }
    let raw = server.raw_ingestions();
    assert_eq!(raw.len(), 6);
    assert!(raw
        .iter()
        .all(|r| r.options.source.as_deref() == Some("relay 1")));
    assert_eq!(server.summary().raw_by_format.len(), 6);
}

#[test]
fn creates_flow_ids() {
    let server = server();
    let (status, body) = post(
        &server,
        "/v1/flows",
        &[JSON, AUTH],
        br#"{"name":"checkout"}"#,
    );
    assert_eq!(status, 200);
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = answer["flowId"].as_str().unwrap();
    assert!(id.starts_with("checkout-") && id.len() == 17, "{id}");
    assert_eq!(answer["name"], "checkout");
}

#[test]
fn misbehaves_on_request() {
    let server = server();
    server.misbehave(
        Misbehave::status(503)
            .retry_after("7")
            .times(2)
            .on_path("/v1/flows"),
    );
    let flow = br#"{"name":"f"}"#;
    assert_eq!(
        post(&server, "/v1/logs", &[JSON, AUTH], br#"{"logs":[]}"#).0,
        200
    );
    assert_eq!(post(&server, "/v1/flows", &[JSON, AUTH], flow).0, 503);
    assert_eq!(post(&server, "/v1/flows", &[JSON, AUTH], flow).0, 503);
    assert_eq!(post(&server, "/v1/flows", &[JSON, AUTH], flow).0, 200);
    server.misbehave(Misbehave::close());
    assert_eq!(post(&server, "/v1/flows", &[JSON, AUTH], flow).0, 0);
    assert_eq!(server.summary().faults, 3);
}

#[test]
fn appends_what_it_received_to_a_jsonl_file() {
    let path =
        std::env::temp_dir().join(format!("timber-server-test-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let server = IngestServer::start(ServerConfig::new(KEY).jsonl(&path)).unwrap();
    post(
        &server,
        "/v1/logs",
        &[JSON, AUTH],
        br#"{"logs":[{"level":"info","message":"a"}]}"#,
    );
    post(&server, "/v1/flows", &[JSON, AUTH], br#"{"name":"f"}"#);
    post(
        &server,
        "/v1/logs?format=text",
        &[("Content-Type", "text/plain"), AUTH],
        b"a line",
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let kinds: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["type"].to_string())
        .collect();
    assert_eq!(kinds, [r#""log""#, r#""flow""#, r#""raw""#]);
    let _ = std::fs::remove_file(&path);
}
