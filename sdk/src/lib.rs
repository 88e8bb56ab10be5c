//! # timber-sdk
//!
//! Structured logging for Rust, shipped to [Timberlogs](https://github.com/timberlogs/timber-rs):
//! the one crate to add. A logging call validates, stamps and queues the
//! record, then returns; a background worker batches, sends over HTTPS and
//! retries. Nothing blocks on the network, nothing panics, and the API key
//! never appears in any output.
//!
//! ```no_run
//! use timber_sdk::{json, LogOptions};
//!
//! fn main() -> Result<(), timber_sdk::Error> {
//!     // The key and the rest from TIMBERLOGS_* variables; builder calls win over them.
//!     let guard = timber_sdk::init(timber_sdk::builder().source("my-app"))?;
//!     let client = guard.client();
//!     client.info("user signed in", json!({"userId": "u-1"}), LogOptions::tags(["auth"]));
//!     Ok(()) // dropping the guard flushes and disconnects
//! }
//! ```
//!
//! This crate re-exports the API of [`timber_core`] (the client, its
//! builder, records, flows, raw ingestion, the
//! [`Transport`](transport::Transport) port) and adds what an application
//! needs around it:
//!
//! - [`builder`]: a [`ClientBuilder`] that reads the `TIMBERLOGS_*`
//!   environment variables ([`ClientBuilder::from_env`]; builder calls win),
//!   checks raw bodies locally with [`format::validator`] (a malformed body
//!   is an [`Error::InvalidRawBody`] with its line and column, nothing is
//!   sent), and, with the default `https` feature, sends through
//!   `HyperTransport` unless you give another transport;
//! - [`init`]: builds that client and makes it global, like `sentry::init`;
//!   the returned [`Guard`] flushes and disconnects when dropped, and
//!   `TimberLayer::global` / `TimberLogger::global` (features
//!   `tracing`, `log`: the `timber-tracing` and `timber-log` crates) log
//!   through it without a client handed around;
//! - `test` (feature `test`): the in-memory mock transport, to assert in
//!   application tests what was logged.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `https` | yes | the HTTPS transport: hyper 1, rustls (ring), webpki roots, HTTP/2 by ALPN, proxies |
//! | `native-roots` | no | also trust the operating system's certificate store |
//! | `gzip` | no | gzip request bodies of 4 KiB or more |
//! | `otlp` | no | `otlp`: the OpenTelemetry transport, OTLP/HTTP logs (protobuf or JSON) to any collector |
//! | `tracing` | no | `TimberLayer`, a `tracing_subscriber::Layer` (`timber-tracing`) |
//! | `log` | no | `TimberLogger`, a `log::Log` (`timber-log`) |
//! | `test` | no | `test::MockTransport` and its faults (`timber-transport-mock`) |
//!
//! Without `https` nothing pulls hyper, tokio or rustls: give the builder
//! your own [`Transport`](transport::Transport).
//!
//! ## Environment
//!
//! | variable | setting | value |
//! |---|---|---|
//! | `TIMBERLOGS_API_KEY` | `api_key` | required (unless set by a call) |
//! | `TIMBERLOGS_SOURCE` | `source` | required (unless set by a call), 1 to 100 characters |
//! | `TIMBERLOGS_ENVIRONMENT` | `environment` | `development`, `staging`, `production` |
//! | `TIMBERLOGS_ENDPOINT` | `base_url` | `https://...` |
//! | `TIMBERLOGS_VERSION` | `version` | at most 100 characters |
//! | `TIMBERLOGS_DATASET` | `dataset` | at most 50 characters |
//! | `TIMBERLOGS_MIN_LEVEL` | `min_level` | `debug`, `info`, `warn`, `error` |
//! | `TIMBERLOGS_BATCH_SIZE` | `batch_size` | a whole number, at least 1 |
//! | `TIMBERLOGS_FLUSH_INTERVAL` | `flush_interval` | `5`, `0.5` (seconds), `500ms`, `5s`, `2m` |
//! | `TIMBERLOGS_CA_CERT` | (default transport) | a PEM file of CA certificates to trust as well |
//!
//! A missing required variable or an invalid value is a [`ConfigError`]
//! naming the variable and what it expects. The default transport also
//! honours `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (or lowercase); see
//! `HyperTransportBuilder::proxy`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "https")]
use std::sync::Arc;

pub use timber_core::*;

/// The `tracing` layer (the `timber-tracing` crate).
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub use timber_tracing::{TimberFilter, TimberLayer};

/// The `log` logger (the `timber-log` crate).
#[cfg(feature = "log")]
#[cfg_attr(docsrs, doc(cfg(feature = "log")))]
pub use timber_log::TimberLogger;

/// The raw formats: write records as json, jsonl, syslog, text, csv or obl
/// and read them back (the `timber-format` crate).
pub use timber_format as format;

/// Re-exported so the quick start needs no other dependency: `json!` builds
/// the `data` of a record.
pub use serde_json::{self, json};

/// Keeps the global client set by [`init`]; dropping it flushes and
/// disconnects.
pub use timber_core::GlobalGuard as Guard;

#[cfg(feature = "https")]
#[cfg_attr(docsrs, doc(cfg(feature = "https")))]
pub use timber_transport_hyper::{BuildError, HyperTransport, HyperTransportBuilder};

/// The OpenTelemetry transport (the `timber-transport-otlp` crate): each
/// batch as an OTLP/HTTP logs export to a collector, every field mapped to
/// the OpenTelemetry log data model. Give it to the builder; the base URL
/// is the collector's OTLP/HTTP endpoint.
///
/// ```no_run
/// use timber_sdk::otlp::{HttpClient, OtlpTransport};
///
/// let transport = OtlpTransport::builder()
///     .http(HttpClient::builder().allow_http(true))
///     .build()?;
/// let client = timber_sdk::builder()
///     .source("checkout")
///     .api_key("unused-by-the-collector")
///     .base_url("http://collector:4318")
///     .transport(transport)
///     .build()?;
/// client.info("order placed", timber_sdk::json!({"orderId": 42}), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "otlp")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
pub use timber_transport_otlp as otlp;

#[cfg(feature = "otlp")]
mod otel_env;
/// The OpenTelemetry variables [`builder`] reads with the `otlp` feature:
/// with `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`
/// set (and no `TIMBERLOGS_ENDPOINT`) it ships over OTLP, as the
/// OpenTelemetry SDKs would (README: "OpenTelemetry's variables").
#[cfg(feature = "otlp")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
pub use otel_env::OTEL_VARS;

/// The in-memory transport for application tests: it records what was
/// logged, answers queries about it, and fails on demand.
///
/// ```
/// use timber_sdk::test::{Fault, MockTransport};
/// use timber_sdk::{Client, Level};
///
/// let mock = MockTransport::new();
/// let client = Client::builder().source("billing").api_key("tb_test_x")
///     .transport(mock.clone()).build()?;
/// client.warn("card declined", timber_sdk::json!({"attempt": 2}), None);
/// client.flush()?;
/// assert_eq!(mock.by_level(Level::Warn)[0].message, "card declined");
/// # let _ = Fault::Connection;
/// # Ok::<(), timber_sdk::Error>(())
/// ```
#[cfg(feature = "test")]
#[cfg_attr(docsrs, doc(cfg(feature = "test")))]
pub mod test {
    pub use timber_transport_mock::{CreatedFlow, Fault, MockTransport, RawIngestion};
}

/// The variable naming a PEM file of CA certificates the default transport
/// trusts besides the usual roots (a private deployment, a TLS-inspecting
/// company proxy).
pub const CA_CERT_VAR: &str = "TIMBERLOGS_CA_CERT";

/// A [`ClientBuilder`] with the SDK's defaults, under whatever you set on it:
///
/// - the `TIMBERLOGS_*` variables fill every setting no call gives
///   ([`ClientBuilder::with_env`]);
/// - raw bodies are checked with [`format::validator`] unless you give
///   another [`raw_validator`](ClientBuilder::raw_validator) (or opt out
///   with [`check_raw_bodies(false)`](ClientBuilder::check_raw_bodies));
/// - with the `https` feature, the transport is a `HyperTransport`
///   (trusting [`CA_CERT_VAR`]'s file too, honouring the proxy variables)
///   unless you give one.
///
/// ```
/// use timber_sdk::{Error, RawFormat};
/// # use timber_transport_mock::MockTransport; // timber_sdk::test::MockTransport, with the `test` feature
///
/// let mock = MockTransport::new();
/// let client = timber_sdk::builder()
///     .source("relay")
///     .api_key("tb_test_x")
///     .transport(mock.clone())
///     .build()?;
/// let err = client.ingest_raw("level,message\n\"unclosed", RawFormat::Csv, None).unwrap_err();
/// assert!(matches!(err, Error::InvalidRawBody { .. }));
/// assert!(err.to_string().starts_with("invalid csv body: line 2, column"), "{err}");
/// assert_eq!(mock.attempts(), 0, "nothing was sent");
/// # Ok::<(), Error>(())
/// ```
pub fn builder() -> ClientBuilder {
    with_defaults(Client::builder())
}

/// Builds the client of `builder` with the SDK's defaults (see [`builder`];
/// they apply to any builder, under its settings) and makes it the global
/// client until the returned [`Guard`] is dropped, which flushes and
/// disconnects it.
///
/// It also makes sure the records logged just before the process ends are
/// not lost: it installs the exit hook ([`install_exit_hook`]:
/// `std::process::exit` from any thread delivers what every client queued
/// within its shutdown timeout) and the panic hook
/// ([`Client::install_panic_hook`]: a panic is logged as an error record
/// and delivered; built with `panic = "abort"`, every client's queue is
/// delivered before the abort).
///
/// [`client`] returns it anywhere, and `TimberLayer::global` and
/// `TimberLogger::global` log through it. Keep the guard for as long as
/// the program logs: `let _guard = timber_sdk::init(..)?;` at the top of
/// `main` (not `let _ = ...`, which drops it at once).
///
/// ```no_run
/// fn main() -> Result<(), timber_sdk::Error> {
///     let _guard = timber_sdk::init(timber_sdk::builder().source("worker"))?;
///     if let Some(client) = timber_sdk::client() {
///         client.info("started", (), None);
///     }
///     Ok(())
/// }
/// ```
pub fn init(builder: ClientBuilder) -> Result<Guard, Error> {
    let client = with_defaults(builder).build()?;
    // Where the platform has no exit handlers, exit keeps its old behaviour.
    let _ = install_exit_hook();
    client.install_panic_hook();
    Ok(set_global(client))
}

/// The global client set by [`init`], if any.
pub fn client() -> Option<Client> {
    global()
}

fn with_defaults(builder: ClientBuilder) -> ClientBuilder {
    let builder = builder
        .with_env()
        .default_raw_validator(timber_format::validator());
    // Dropping the last handle inside a tokio task must not block it.
    #[cfg(feature = "https")]
    let builder = builder
        .default_transport(https_transport)
        .default_in_async_context(timber_transport_hyper::in_tokio_runtime);
    // OpenTelemetry's variables, when they name an OTLP endpoint (and no
    // TIMBERLOGS_ENDPOINT does): read after TIMBERLOGS_*, they fill what
    // those leave unset and make the default transport OTLP.
    #[cfg(feature = "otlp")]
    let builder = otel_env::apply(builder, |name| std::env::var(name).ok());
    builder
}

/// The default transport: the HTTPS transport with the features' settings
/// and [`CA_CERT_VAR`]'s certificates.
#[cfg(feature = "https")]
fn https_transport() -> Result<Arc<dyn transport::Transport>, ConfigError> {
    let mut builder = HyperTransport::builder();
    #[cfg(feature = "gzip")]
    {
        builder = builder.gzip_min_bytes(4096);
    }
    #[cfg(feature = "native-roots")]
    {
        builder = builder.native_roots(true);
    }
    let ca_file = std::env::var_os(CA_CERT_VAR).filter(|path| !path.is_empty());
    if let Some(path) = &ca_file {
        let pem = std::fs::read(path).map_err(|e| ConfigError {
            field: CA_CERT_VAR,
            reason: format!(
                "expected a readable PEM file of CA certificates, cannot read {}: {e}",
                std::path::Path::new(path).display()
            ),
        })?;
        builder = builder.add_root_certificate_pem(pem);
    }
    match builder.build() {
        Ok(transport) => Ok(Arc::new(transport)),
        Err(BuildError::Config(e)) => Err(e),
        Err(BuildError::Certificate(reason)) if ca_file.is_some() => Err(ConfigError {
            field: CA_CERT_VAR,
            reason: format!("expected a PEM file of CA certificates: {reason}"),
        }),
        Err(other) => Err(ConfigError {
            field: "transport",
            reason: other.to_string(),
        }),
    }
}

/// The code blocks of the README, compiled (and run unless `no_run`) as doctests.
#[cfg(all(doctest, feature = "https"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
