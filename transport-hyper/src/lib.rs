//! # timber-transport-hyper
//!
//! The HTTPS transport of the Timberlogs SDK: it implements the
//! [`timber_core::transport::Transport`] port with hyper 1 and rustls (ring provider).
//! It is the production adapter of that port (see the architecture diagram
//! in `timber_core`): the client's worker hands it batches, it owns the
//! network.
//!
//! ```text
//!   Client ── worker ──► dyn Transport ──► HyperTransport ══ HTTPS ══► ingest service
//! ```
//!
//! - connection pooling and keep-alive; HTTP/2 when the server offers it
//!   through ALPN, HTTP/1.1 otherwise;
//! - trusts the webpki roots by default, the platform's roots with the
//!   `native-roots` feature, and any CA you add (PEM). Certificates are always
//!   verified: there is no switch that turns verification off;
//! - refuses plain `http://` unless [`HyperTransportBuilder::allow_http`];
//! - maps outcomes to [`TransportError`](timber_core::transport::TransportError): 2xx
//!   success; 408, 429, 5xx, connection failures and timeouts retryable
//!   (with `Retry-After` as the hint); other 4xx and certificate failures
//!   permanent. The API key never appears in an error or a `Debug` output;
//! - optional gzip request bodies (feature `gzip`, on by default);
//! - proxies: `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (or lowercase)
//!   honoured by default, or [`HyperTransportBuilder::proxy`] /
//!   [`HyperTransportBuilder::no_proxy`]; HTTPS goes through a `CONNECT`
//!   tunnel with TLS end to end, and proxy credentials from the URL are
//!   never printed;
//! - custom headers ([`HyperTransportBuilder::header`]), checked when the
//!   transport is built;
//! - usable from sync code and from any async runtime: the I/O runs on a
//!   small tokio runtime the transport owns.
//!
//! See [`HyperTransport`] for an example against the local ingest server.
//!
//! ## The HTTP machinery, for other protocols
//!
//! [`HttpClient`] is what the transport speaks the Timberlogs protocol over:
//! TLS, proxies, custom headers, timeouts, gzip and the owned runtime, as
//! configured by its own builder ([`HttpClientBuilder`], whose settings
//! [`HyperTransportBuilder`] offers too). [`HttpClient::post`] sends a body and returns
//! the answer whatever its status, mapping only what got no answer
//! (unreachable, timeout, certificate) onto [`TransportError`](timber_core::transport::TransportError);
//! an adapter of another protocol (`timber-transport-otlp`) classifies the
//! statuses its protocol defines.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod answer;
mod build_error;
mod classify;
mod encode;
mod failure;
mod headers;
mod http_builder;
mod http_client;
mod proxy;
mod proxy_error;
mod redact_key;
mod runtime;
mod tls;
mod transport;
mod transport_builder;
mod tunnel;

pub use answer::HttpAnswer;
pub use build_error::BuildError;
pub use encode::logs_body;
pub use headers::{api_key_header_value, is_reserved_header};
pub use http_builder::HttpClientBuilder;
pub use http_client::HttpClient;
pub use redact_key::snippet;
pub use transport::HyperTransport;
pub use transport_builder::HyperTransportBuilder;

/// HTTP header names and values (`hyper::header`), for the headers given
/// to [`HttpClient::post`] and read from an [`HttpAnswer`].
pub use hyper::header;

/// Whether the current thread runs a tokio runtime: give it to
/// `ClientBuilder::in_async_context`, so that dropping the last client
/// handle inside a tokio task never blocks the runtime.
///
/// ```
/// assert!(!timber_transport_hyper::in_tokio_runtime());
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// assert!(rt.block_on(async { timber_transport_hyper::in_tokio_runtime() }));
/// ```
pub fn in_tokio_runtime() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// The code blocks of the README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
