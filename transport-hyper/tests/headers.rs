//! Custom headers reach the real ingest server on every request, and a
//! header that could split a request is refused when the transport is built.

mod common;

use common::*;
use futures::executor::block_on;
use timber_core::transport::{RawRequest, Transport};
use timber_core::{IngestRawOptions, RawFormat};
use timber_transport_hyper::{BuildError, HyperTransport};

#[test]
fn custom_headers_arrive_on_every_kind_of_request() {
    for server in servers() {
        let transport = builder_for(&server)
            .header("X-Tenant", "acme")
            .header("x-route", "eu west")
            .header("X-Route", "fallback")
            .header("User-Agent", "billing-service/2.1")
            .build()
            .unwrap();
        let endpoint = endpoint(&server);
        block_on(transport.send_batch(&endpoint, &common::batch(&records(1)))).unwrap();
        block_on(transport.create_flow(&endpoint, "checkout")).unwrap();
        let options = IngestRawOptions::new();
        let raw = RawRequest {
            body: "a line",
            format: RawFormat::Text,
            options: &options,
            idempotency_key: "key-of-the-raw-body",
        };
        block_on(transport.ingest_raw(&endpoint, raw)).unwrap();

        let requests = server.requests();
        assert_eq!(requests.len(), 3);
        for request in requests {
            assert_eq!(request.header("x-tenant"), Some("acme"), "{request:?}");
            let routes: Vec<&str> = request
                .headers
                .iter()
                .filter(|(n, _)| n == "x-route")
                .map(|(_, v)| v.as_str())
                .collect();
            assert_eq!(routes, ["eu west", "fallback"]);
            assert_eq!(request.header("user-agent"), Some("billing-service/2.1"));
            assert!(request.authorized);
        }
        // Names only, never values, in the transport's Debug.
        let shown = format!("{transport:?}");
        assert!(
            shown.contains("x-tenant") && !shown.contains("acme"),
            "{shown}"
        );
    }
}

#[test]
fn the_default_user_agent_names_the_sdk() {
    let server = https_server();
    block_on(transport_for(&server).send_batch(&endpoint(&server), &common::batch(&records(1))))
        .unwrap();
    let agent = server.requests()[0].header("user-agent").map(str::to_owned);
    assert!(agent.is_some_and(|a| a.starts_with("timber-rs/")));
}

#[test]
fn unsafe_or_reserved_headers_fail_the_build_without_quoting_the_value() {
    let cases = [
        (
            "X-Token",
            "s3cret\r\nX-Admin: yes",
            "the value of x-token contains CR or LF",
        ),
        (
            "X-Token",
            "s3cret\n",
            "the value of x-token contains CR or LF",
        ),
        ("X-Token", "s3cret\u{0}", "not visible ASCII"),
        ("X-Token", "s3cret\u{7f}", "not visible ASCII"),
        ("X-Token", "s3cr\u{e9}t", "not visible ASCII"),
        ("X Token", "s3cret", "is not a valid header name"),
        ("X-Token\r\n", "s3cret", "is not a valid header name"),
        ("", "s3cret", "is not a valid header name"),
        ("X-API-Key", "s3cret", "x-api-key is set by the transport"),
        (
            "Content-Type",
            "text/s3cret",
            "content-type is set by the transport",
        ),
        (
            "Idempotency-Key",
            "s3cret",
            "idempotency-key is set by the transport",
        ),
        ("Host", "s3cret.example", "host is set by the transport"),
    ];
    for (name, value, says) in cases {
        let err = HyperTransport::builder()
            .header(name, value)
            .build()
            .unwrap_err();
        let BuildError::Config(config) = &err else {
            panic!("{name:?}: not a configuration error: {err}");
        };
        assert_eq!(config.field, "header");
        assert!(err.to_string().contains(says), "{name:?}: {err}");
        assert!(!format!("{err} {err:?}").contains("s3cr"), "{err:?}");
    }
}
