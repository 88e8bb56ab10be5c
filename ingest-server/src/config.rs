//! What the server accepts and where it keeps what it received.

use std::path::PathBuf;
use std::time::Duration;

use timber_core::transport::ApiKey;

use crate::tls::TlsIdentity;

/// Settings of an `IngestServer`.
///
/// ```
/// use timber_ingest_server::{ServerConfig, TlsIdentity};
/// let config = ServerConfig::new("tb_test_local")
///     .tls(TlsIdentity::generate()?)
///     .jsonl("/tmp/received.jsonl");
/// assert!(!format!("{config:?}").contains("tb_test_local"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub(crate) api_keys: Vec<ApiKey>,
    pub(crate) tls: Option<TlsIdentity>,
    pub(crate) port: u16,
    pub(crate) jsonl: Option<PathBuf>,
    pub(crate) keep_records: usize,
    pub(crate) max_body_bytes: usize,
    pub(crate) worker_threads: usize,
    pub(crate) idempotency_window: usize,
    pub(crate) request_log: usize,
    pub(crate) header_timeout: Duration,
    pub(crate) any_api_key: bool,
    pub(crate) view: bool,
    #[cfg(feature = "otlp")]
    pub(crate) otlp: Option<OtlpRules>,
}

impl ServerConfig {
    /// Plain HTTP on a free loopback port, accepting one API key.
    pub fn new(api_key: impl Into<String>) -> Self {
        ServerConfig {
            api_keys: vec![ApiKey::new(api_key)],
            tls: None,
            port: 0,
            jsonl: None,
            keep_records: 1_000_000,
            max_body_bytes: 16 << 20,
            worker_threads: 1,
            idempotency_window: 10_000,
            request_log: 10_000,
            header_timeout: Duration::from_secs(30),
            any_api_key: false,
            view: false,
            #[cfg(feature = "otlp")]
            otlp: None,
        }
    }

    /// Accepts one more API key.
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_keys.push(ApiKey::new(api_key));
        self
    }

    /// Accepts any non-empty `X-API-Key` (a request without one is still
    /// refused with 401, as the service does). For a local server anyone
    /// can point a program at without sharing a key first.
    pub fn any_api_key(mut self) -> Self {
        self.any_api_key = true;
        self
    }

    /// Also serves the live web view: `GET /` (one static page),
    /// `GET /api/records`, `/api/raw`, `/api/stats` and `/api/events`
    /// (server-sent events). These routes need no API key and never show
    /// one; the ingest routes keep theirs, and requests to the view are not
    /// counted in the [`Summary`](crate::Summary). Off by default, so that a
    /// server in a test answers `/` with 404 as the service does.
    ///
    /// ```
    /// use timber_ingest_server::{IngestServer, ServerConfig};
    /// let server = IngestServer::start(ServerConfig::new("tb_test_local").view())?;
    /// println!("watch {}/", server.url());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn view(mut self) -> Self {
        self.view = true;
        self
    }

    /// Serves HTTPS (HTTP/2 or HTTP/1.1 by ALPN) with this identity.
    pub fn tls(mut self, identity: TlsIdentity) -> Self {
        self.tls = Some(identity);
        self
    }

    /// Listens on this loopback port (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Also appends every accepted record, raw body and flow to this file,
    /// one JSON object per line.
    pub fn jsonl(mut self, path: impl Into<PathBuf>) -> Self {
        self.jsonl = Some(path.into());
        self
    }

    /// Keeps at most this many records in memory (default 1,000,000); the
    /// counters go on counting past it. Benches set 0.
    pub fn keep_records(mut self, n: usize) -> Self {
        self.keep_records = n;
        self
    }

    /// Largest request body, after gzip decoding (default 16 MiB); larger is 413.
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// Threads of the server's runtime (default 1).
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = n.max(1);
        self
    }

    /// How many recent idempotency keys are remembered (default 10,000).
    pub fn idempotency_window(mut self, n: usize) -> Self {
        self.idempotency_window = n;
        self
    }

    /// Speaks OTLP/HTTP logs instead of the Timberlogs protocol (feature
    /// `otlp`): `POST /v1/logs` with an `ExportLogsServiceRequest`, binary
    /// protobuf (`application/x-protobuf`) or OTLP/JSON
    /// (`application/json`), decoded with the official types of
    /// `opentelemetry-proto` and answered with an
    /// `ExportLogsServiceResponse` in the same encoding (failures with a
    /// `google.rpc.Status`). Requests need no API key (a collector asks for
    /// none), but an `X-API-Key` that comes must be one of the server's.
    /// Each request is stored once per `Idempotency-Key`, as the
    /// `IngestServer::otlp_requests` give back;
    /// [`Misbehave`](crate::misbehave::Misbehave) faults apply as usual.
    ///
    /// The same port answers OTLP/gRPC: the unary call
    /// `POST /opentelemetry.proto.collector.logs.v1.LogsService/Export` over
    /// HTTP/2 (h2c on plain TCP, `h2` by ALPN with [`tls`](Self::tls)), as
    /// the official generated clients send it: `content-type:
    /// application/grpc` (or `+proto`), one length-prefixed message, gzip
    /// when `grpc-encoding: gzip` says so. The same rules apply (body limit,
    /// `x-api-key` and `idempotency-key` metadata, markers), and the request
    /// is stored the same way. The answer is the `ExportLogsServiceResponse`
    /// then a `grpc-status: 0` trailer; a failure is a "Trailers-Only"
    /// answer (HTTP 200, `grpc-status` and `grpc-message` headers, no body):
    /// INVALID_ARGUMENT (3) for a bad frame or message and the refuse
    /// marker, RESOURCE_EXHAUSTED (8) past the body limit, UNAUTHENTICATED
    /// (16) for a wrong key, UNIMPLEMENTED (12) for another method, another
    /// content type or an unknown compression. A status fault on a gRPC call
    /// is the code its HTTP status maps to (503 is UNAVAILABLE, 429
    /// RESOURCE_EXHAUSTED...), with a `google.rpc.RetryInfo` in
    /// `grpc-status-details-bin` when it has a `retry_after` in seconds.
    ///
    /// ```
    /// use timber_ingest_server::{IngestServer, ServerConfig};
    /// let server = IngestServer::start(ServerConfig::new("unused").otlp())?;
    /// assert!(server.otlp_requests().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "otlp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
    pub fn otlp(mut self) -> Self {
        self.otlp.get_or_insert_with(Default::default);
        self
    }

    /// In OTLP mode, rejects the records whose string body contains
    /// `marker`: the rest of the request is stored, and the answer is a
    /// partial success counting the rejected records (as a collector does
    /// with records it cannot take).
    #[cfg(feature = "otlp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
    pub fn otlp_reject_containing(mut self, marker: impl Into<String>) -> Self {
        self.otlp.get_or_insert_with(Default::default).reject = Some(marker.into());
        self
    }

    /// In OTLP mode, answers `400 Bad Request` to a request holding a
    /// record whose string body contains `marker` (bad data), storing
    /// nothing of it.
    #[cfg(feature = "otlp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
    pub fn otlp_refuse_containing(mut self, marker: impl Into<String>) -> Self {
        self.otlp.get_or_insert_with(Default::default).refuse = Some(marker.into());
        self
    }
}

/// What an OTLP mode server does besides storing: the rules of
/// [`ServerConfig::otlp_reject_containing`] and
/// [`ServerConfig::otlp_refuse_containing`]. They are settings, so they live
/// here, and the OTLP endpoint reads them from here.
#[cfg(feature = "otlp")]
#[derive(Clone, Debug, Default)]
pub(crate) struct OtlpRules {
    pub(crate) reject: Option<String>,
    pub(crate) refuse: Option<String>,
}
