//! OpenTelemetry's standard variables and nothing else: a child process
//! with only `OTEL_*` set calls `timber_sdk::init(timber_sdk::builder())`,
//! logs, and its records reach a local OTLP receiver (decoded with the
//! official types) in each protocol; the precedence is the OpenTelemetry
//! SDKs' (signal-specific over generic, builder calls over variables,
//! `TIMBERLOGS_ENDPOINT` over both); invalid values are a `ConfigError`
//! naming the variable; header values are never printed.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use timber_ingest_server::{IngestServer, ServerConfig};
use timber_sdk::otlp::proto::common::v1::any_value::Value as Any;

/// A secret carried in a header, which no output may show.
const SECRET: &str = "s3cretTOKEN-4711";

fn collector() -> IngestServer {
    IngestServer::start(ServerConfig::new("unused").otlp()).unwrap()
}

/// Runs `test` with only these variables of OpenTelemetry's and
/// Timberlogs' (every other `OTEL_*` and `TIMBERLOGS_*` removed); its output.
fn child(test: &str, vars: &[(&str, String)]) -> (bool, String) {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args(["--exact", test, "--ignored", "--nocapture"]);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let ours = name.starts_with("OTEL_") || name.starts_with("TIMBERLOGS_");
        if ours || name.to_ascii_lowercase().ends_with("_proxy") {
            child.env_remove(&*name);
        }
    }
    let out = child
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains(SECRET),
        "a header value was printed:\n{text}"
    );
    (out.status.success() && text.contains("1 passed"), text)
}

/// What one export carried: its service.name, its resource's attributes
/// and its records' messages.
type Export = (String, Vec<(String, String)>, Vec<String>);

fn received(server: &IngestServer) -> Vec<Export> {
    let text = |v: &Option<timber_sdk::otlp::proto::common::v1::AnyValue>| match v
        .as_ref()
        .and_then(|v| v.value.as_ref())
    {
        Some(Any::StringValue(s)) => s.clone(),
        _ => String::new(),
    };
    server
        .otlp_requests()
        .iter()
        .flat_map(|r| &r.resource_logs)
        .map(|logs| {
            let attributes: Vec<(String, String)> = logs
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .map(|kv| (kv.key.clone(), text(&kv.value)))
                .collect();
            let service = attributes
                .iter()
                .find(|(k, _)| k == "service.name")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let messages = logs
                .scope_logs
                .iter()
                .flat_map(|s| &s.log_records)
                .map(|r| text(&r.body))
                .collect();
            (service, attributes, messages)
        })
        .collect()
}

#[test]
#[ignore = "run by the tests of this file, in a child process"]
fn child_logs_with_the_environment_alone() {
    let guard = timber_sdk::init(timber_sdk::builder()).unwrap();
    guard.client().info("from the environment", (), None);
}

#[test]
#[ignore = "run by the tests of this file, in a child process"]
fn child_logs_with_a_source_of_its_own() {
    let guard = timber_sdk::init(timber_sdk::builder().source("from-the-code")).unwrap();
    guard.client().info("named by the code", (), None);
}

#[test]
#[ignore = "run by the tests of this file, in a child process"]
fn child_prints_the_build_error() {
    match timber_sdk::builder().build() {
        Ok(_) => println!("BUILT"),
        Err(e) => println!("ERROR: {e}"),
    }
}

#[test]
fn each_protocol_ships_to_the_collector_with_the_variables_alone() {
    for protocol in ["http/protobuf", "http/json", "grpc"] {
        let server = collector();
        let (ok, text) = child(
            "child_logs_with_the_environment_alone",
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", server.url()),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.into()),
                ("OTEL_SERVICE_NAME", "checkout".into()),
                (
                    "OTEL_RESOURCE_ATTRIBUTES",
                    "service.version=2.1.0,k8s.pod.name=checkout-7f9,deployment.environment.name=staging".into(),
                ),
                ("OTEL_EXPORTER_OTLP_HEADERS", format!("x-tenant=acme,x-token={SECRET}")),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "5000".into()),
            ],
        );
        assert!(ok, "{protocol}:\n{text}");
        let got = received(&server);
        assert_eq!(got.len(), 1, "{protocol}: {got:?}");
        let (service, attributes, messages) = &got[0];
        assert_eq!(service, "checkout", "{protocol}");
        assert_eq!(messages, &["from the environment"], "{protocol}");
        for expected in [
            ("service.version", "2.1.0"),
            ("deployment.environment.name", "staging"),
            ("k8s.pod.name", "checkout-7f9"),
        ] {
            assert!(
                attributes
                    .iter()
                    .any(|(k, v)| (k.as_str(), v.as_str()) == expected),
                "{protocol}: {expected:?} in {attributes:?}"
            );
        }
        let request = &server.requests()[0];
        assert_eq!(request.header("x-tenant"), Some("acme"), "{protocol}");
        assert_eq!(request.header("x-token"), Some(SECRET), "{protocol}");
        let content_type = match protocol {
            "http/json" => "application/json",
            "grpc" => "application/grpc",
            _ => "application/x-protobuf",
        };
        assert_eq!(request.content_type.as_deref(), Some(content_type));
    }
}

#[test]
fn the_signal_specific_variable_and_builder_calls_win() {
    let server = collector();
    // The generic endpoint is a closed port: only the logs one can deliver.
    let (ok, text) = child(
        "child_logs_with_a_source_of_its_own",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9".into()),
            (
                "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
                format!("{}/v1/logs", server.url()),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
            ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf".into()),
            ("OTEL_SERVICE_NAME", "from-the-variables".into()),
        ],
    );
    assert!(ok, "{text}");
    let got = received(&server);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "from-the-code");
}

#[test]
fn timberlogs_endpoint_wins_over_the_otlp_variables() {
    let server = https_server();
    let ca = ca_file(&server, "otel-env-timberlogs");
    let collector = collector();
    let (ok, text) = child(
        "child_logs_with_the_environment_alone",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url()),
            ("TIMBERLOGS_ENDPOINT", server.url()),
            ("TIMBERLOGS_API_KEY", KEY.into()),
            ("TIMBERLOGS_SOURCE", "timber-app".into()),
            ("TIMBERLOGS_CA_CERT", ca.display().to_string()),
        ],
    );
    let _ = std::fs::remove_file(ca);
    assert!(ok, "{text}");
    assert!(server.wait_until(Duration::from_secs(10), |s| s.records == 1));
    assert!(collector.otlp_requests().is_empty());
}

#[test]
fn invalid_values_are_an_error_naming_the_variable() {
    let base = || {
        vec![(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://127.0.0.1:4318".to_owned(),
        )]
    };
    let cases = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift"),
        ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "soon"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"),
        ("OTEL_SDK_DISABLED", "maybe"),
        ("OTEL_EXPORTER_OTLP_HEADERS", SECRET),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"),
    ];
    for (name, value) in cases {
        let mut vars = base();
        vars.retain(|(n, _)| *n != name);
        vars.push((name, value.to_owned()));
        let (ok, text) = child("child_prints_the_build_error", &vars);
        assert!(ok, "{text}");
        assert!(
            text.contains(&format!("ERROR: invalid configuration: {name}")),
            "{name}={value}:\n{text}"
        );
    }
}

#[test]
fn otel_sdk_disabled_sends_nothing() {
    let server = collector();
    let (ok, text) = child(
        "child_logs_with_the_environment_alone",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", server.url()),
            ("OTEL_SDK_DISABLED", "true".into()),
        ],
    );
    assert!(ok, "{text}");
    assert!(server.requests().is_empty());
}
