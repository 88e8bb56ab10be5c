//! `OtlpTransport`: the port implemented as OTLP/HTTP logs export.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use prost::Message;
use timber_core::transport::{
    async_trait, ApiKey, Batch, Endpoint, RawRequest, Transport, TransportError,
};
use timber_transport_hyper::header::USER_AGENT;
use timber_transport_hyper::header::{HeaderMap, HeaderName, HeaderValue};
use timber_transport_hyper::{
    api_key_header_value, is_reserved_header, HttpClient, HttpClientBuilder,
};

use crate::grpc;
use crate::map::attributes;
use crate::map::protobuf::{export_grpc_message, export_protobuf_with};
use crate::map::to_otlp::export_request_with;

/// The `User-Agent` of the transport's requests (a custom header replaces it).
pub const AGENT: &str = concat!("timber-transport-otlp/", env!("CARGO_PKG_VERSION"));
use timber_transport_hyper::BuildError;

/// How the export request travels: OTLP/HTTP with binary protobuf or
/// JSON, or OTLP/gRPC (`OTEL_EXPORTER_OTLP_PROTOCOL`'s `http/protobuf`,
/// `http/json` and `grpc`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encoding {
    /// OTLP/HTTP, binary protobuf, `application/x-protobuf` (the OTLP default).
    #[default]
    Protobuf,
    /// OTLP/HTTP, OTLP/JSON, `application/json`: the protobuf JSON mapping
    /// with hex trace ids, 64-bit integers as strings and enums as numbers.
    Json,
    /// OTLP/gRPC: the unary `LogsService/Export` call over HTTP/2 (prior
    /// knowledge over `http://`, ALPN `h2` over TLS), the same protobuf
    /// message, gzipped inside gRPC's framing per the client's
    /// `gzip_min_bytes`. The base URL is the collector's gRPC endpoint,
    /// `http://collector:4317`. Through a proxy only over TLS (a `CONNECT`
    /// tunnel): an HTTP proxy cannot forward plain `http://` HTTP/2, so
    /// leave such a collector out of the proxy (`NO_PROXY`, or `no_proxy()`).
    Grpc,
}

impl Encoding {
    /// The `Content-Type` of requests (and of the answers a server gives).
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
            Encoding::Grpc => crate::grpc::CONTENT_TYPE,
        }
    }

    /// The path requests go to unless [`OtlpTransportBuilder::path`] says
    /// otherwise: `/v1/logs` over HTTP, the `Export` method over gRPC.
    pub fn default_path(self) -> &'static str {
        match self {
            Encoding::Protobuf | Encoding::Json => "/v1/logs",
            Encoding::Grpc => crate::grpc::EXPORT_PATH,
        }
    }
}

/// What a collector said it rejected of an accepted request (an OTLP
/// partial success): the request is not sent again (OTLP has no
/// idempotency, so a resend would duplicate what was accepted).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartialSuccess {
    /// The log records the collector rejected (0 for a warning).
    pub rejected: u64,
    /// The collector's reason, at most 300 characters, never quoting the
    /// API key.
    pub message: String,
}

type OnPartialSuccess = Arc<dyn Fn(&PartialSuccess) + Send + Sync>;

/// Configures an [`OtlpTransport`].
///
/// ```
/// use timber_transport_otlp::{Encoding, OtlpTransport};
/// use timber_transport_hyper::HttpClient;
///
/// let transport = OtlpTransport::builder()
///     // TLS, proxies, headers and timeouts: the hyper transport's builder.
///     .http(HttpClient::builder().allow_http(true).header("X-Scope-OrgID", "tenant-1"))
///     .encoding(Encoding::Json)
///     .on_partial_success(|p| eprintln!("the collector rejected {} records: {}", p.rejected, p.message))
///     .build()?;
/// # drop(transport);
/// # Ok::<(), timber_transport_otlp::BuildError>(())
/// ```
#[must_use]
pub struct OtlpTransportBuilder {
    http: Http,
    encoding: Encoding,
    path: Option<String>,
    api_key_header: Option<String>,
    on_partial_success: Option<OnPartialSuccess>,
    resource_attributes: Vec<(String, String)>,
}

enum Http {
    Settings(HttpClientBuilder),
    Built(HttpClient),
}

impl fmt::Debug for OtlpTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("OtlpTransportBuilder");
        match &self.http {
            Http::Settings(b) => d.field("http", b),
            Http::Built(c) => d.field("http", c),
        };
        d.field("encoding", &self.encoding)
            .field("path", &self.path)
            .field("api_key_header", &self.api_key_header)
            .field("on_partial_success", &self.on_partial_success.is_some())
            .finish()
    }
}

impl Default for OtlpTransportBuilder {
    fn default() -> Self {
        OtlpTransportBuilder {
            http: Http::Settings(HttpClient::builder()),
            encoding: Encoding::Protobuf,
            path: None,
            api_key_header: None,
            on_partial_success: None,
            resource_attributes: Vec::new(),
        }
    }
}

impl OtlpTransportBuilder {
    /// The HTTP settings: TLS roots, `allow_http` (needed for a plain
    /// `http://` collector), proxies, custom headers (authentication such
    /// as `Authorization`, a tenant header), timeouts, gzip. Default:
    /// `HttpClient::builder()` as it comes (HTTPS only, the webpki roots,
    /// the proxy variables).
    pub fn http(mut self, settings: HttpClientBuilder) -> Self {
        self.http = Http::Settings(settings);
        self
    }

    /// Sends over an HTTP client already built, sharing its connections
    /// and runtime (with a `HyperTransport`, say).
    pub fn client(mut self, client: HttpClient) -> Self {
        self.http = Http::Built(client);
        self
    }

    /// Protobuf (default), OTLP/JSON, or gRPC, which makes the HTTP
    /// client speak HTTP/2 only (a client given by
    /// [`client`](Self::client) must be built with
    /// `HttpClientBuilder::http2_only(true)`).
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// The path appended to the client's base URL (default: the
    /// encoding's, [`Encoding::default_path`]).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sends the client's API key in this header (for example `x-api-key`,
    /// or `authorization` with a key given as `Bearer ...`). By default the
    /// key is not sent: a collector asks for none. A header the transport
    /// sets itself (`Content-Type`, `Idempotency-Key`, `User-Agent`...)
    /// fails [`build`](Self::build).
    pub fn api_key_header(mut self, name: impl Into<String>) -> Self {
        self.api_key_header = Some(name.into());
        self
    }

    /// Adds a string attribute to the resource of every export, after the
    /// client's `service.name`, `deployment.environment.name` and
    /// `service.version` (`OTEL_RESOURCE_ATTRIBUTES` through the facade).
    /// A key of those three is left out: the client's settings name them.
    pub fn resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        let own = [
            attributes::SERVICE_NAME,
            attributes::DEPLOYMENT_ENVIRONMENT,
            attributes::SERVICE_VERSION,
        ];
        if !own.contains(&key.as_str()) {
            self.resource_attributes.retain(|(k, _)| *k != key);
            self.resource_attributes.push((key, value.into()));
        }
        self
    }

    /// Called with every partial success a collector answers (records it
    /// rejected, or a warning), from the transport's thread: keep it short.
    /// [`OtlpTransport::rejected_records`] counts them either way.
    pub fn on_partial_success(
        mut self,
        callback: impl Fn(&PartialSuccess) + Send + Sync + 'static,
    ) -> Self {
        self.on_partial_success = Some(Arc::new(callback));
        self
    }

    /// Builds the transport (and the HTTP client, unless one was given).
    pub fn build(self) -> Result<OtlpTransport, BuildError> {
        let api_key_header = match self.api_key_header {
            Some(name) => {
                let bad = |reason: String| {
                    BuildError::Config(timber_core::ConfigError {
                        field: "api_key_header",
                        reason,
                    })
                };
                let header = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| bad(format!("{name:?} is not a valid header name")))?;
                // Neither a header the machinery sets, nor the agent it sends.
                if is_reserved_header(&header) || header == USER_AGENT {
                    return Err(bad(format!("{header} is set by the transport")));
                }
                Some(header)
            }
            None => None,
        };
        let path = self
            .path
            .unwrap_or_else(|| self.encoding.default_path().to_owned());
        if !path.starts_with('/') || path.contains(['?', '#']) {
            return Err(BuildError::Config(timber_core::ConfigError {
                field: "path",
                reason: "must start with / and have no query or fragment".to_owned(),
            }));
        }
        let grpc = self.encoding == Encoding::Grpc;
        let client = match self.http {
            Http::Settings(settings) => settings.http2_only(grpc).build()?,
            Http::Built(client) if grpc && !client.is_http2_only() => {
                return Err(BuildError::Config(timber_core::ConfigError {
                    field: "client",
                    reason: "gRPC needs an HttpClient built with http2_only(true)".to_owned(),
                }))
            }
            Http::Built(client) => client,
        };
        Ok(OtlpTransport {
            inner: Arc::new(Inner {
                client,
                encoding: self.encoding,
                path,
                api_key_header,
                on_partial_success: self.on_partial_success,
                resource_attributes: self.resource_attributes,
                rejected: AtomicU64::new(0),
                partial_successes: AtomicU64::new(0),
            }),
        })
    }
}

/// The OpenTelemetry transport: each batch goes as one OTLP/HTTP logs
/// export, `POST {base_url}/v1/logs`, so that the client ships to any
/// OpenTelemetry Collector (and from there to Loki, Elasticsearch,
/// ClickHouse or a vendor). The client's base URL is the collector's
/// OTLP/HTTP endpoint without the signal path, `http://collector:4318`.
///
/// See the crate documentation for the field mapping and the failure
/// classification. Cheap to clone (clones share the connections and the
/// counters); its futures can be polled by any executor, or by none.
///
/// ```
/// use timber_core::Client;
/// use timber_ingest_server::{IngestServer, ServerConfig};
/// use timber_transport_hyper::HttpClient;
/// use timber_transport_otlp::OtlpTransport;
///
/// // A loopback OTLP receiver, standing in for a collector.
/// let collector = IngestServer::start(ServerConfig::new("unused").otlp())?;
/// let transport = OtlpTransport::builder()
///     .http(HttpClient::builder().allow_http(true))
///     .build()?;
/// let client = Client::builder()
///     .source("checkout")
///     .api_key("unused")
///     .base_url(collector.url())
///     .transport(transport)
///     .build()?;
/// client.warn("card declined", serde_json::json!({"attempt": 2}), None);
/// client.disconnect()?;
/// let request = &collector.otlp_requests()[0];
/// assert_eq!(request.resource_logs[0].scope_logs[0].log_records[0].severity_text, "WARN");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct OtlpTransport {
    inner: Arc<Inner>,
}

struct Inner {
    client: HttpClient,
    encoding: Encoding,
    path: String,
    api_key_header: Option<HeaderName>,
    on_partial_success: Option<OnPartialSuccess>,
    resource_attributes: Vec<(String, String)>,
    rejected: AtomicU64,
    partial_successes: AtomicU64,
}

impl fmt::Debug for OtlpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpTransport")
            .field("encoding", &self.inner.encoding)
            .field("path", &self.inner.path)
            .field("api_key_header", &self.inner.api_key_header)
            .field("http", &self.inner.client)
            .finish()
    }
}

impl OtlpTransport {
    /// Starts configuring a transport.
    pub fn builder() -> OtlpTransportBuilder {
        OtlpTransportBuilder::default()
    }

    /// Log records collectors rejected in partial successes, so far.
    pub fn rejected_records(&self) -> u64 {
        self.inner.rejected.load(Ordering::Relaxed)
    }

    /// Partial successes answered so far (rejections and warnings).
    pub fn partial_successes(&self) -> u64 {
        self.inner.partial_successes.load(Ordering::Relaxed)
    }

    /// The HTTP client the transport sends with.
    pub fn client(&self) -> &HttpClient {
        &self.inner.client
    }

    /// Counts a partial success and hands it to the callback.
    fn report(&self, partial: PartialSuccess) {
        self.inner
            .rejected
            .fetch_add(partial.rejected, Ordering::Relaxed);
        self.inner.partial_successes.fetch_add(1, Ordering::Relaxed);
        if let Some(callback) = &self.inner.on_partial_success {
            callback(&partial);
        }
    }
}

/// A batch as one export request in this encoding, built from its records
/// on the calling thread (the client's worker).
fn encode(
    batch: &Batch,
    encoding: Encoding,
    extra: &[(String, String)],
) -> Result<Vec<u8>, TransportError> {
    match encoding {
        Encoding::Protobuf => Ok(export_protobuf_with(batch, now_nanos(), extra)),
        Encoding::Grpc => Ok(export_grpc_message(batch, now_nanos(), extra)),
        Encoding::Json => serde_json::to_vec(&export_request_with(batch, now_nanos(), extra))
            .map_err(|e| {
                TransportError::refused(format!("the request does not encode as JSON: {e}"))
            }),
    }
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The partial success of a successful answer's body (its response
/// message over gRPC), if it reports one. An answer that does not decode
/// was still a success: the records were accepted.
fn partial_success(
    body: Option<&[u8]>,
    encoding: Encoding,
    key: &ApiKey,
) -> Option<PartialSuccess> {
    let body = body.filter(|b| !b.is_empty())?;
    let (rejected, message) = match encoding {
        Encoding::Protobuf | Encoding::Grpc => {
            let partial = ExportLogsServiceResponse::decode(body)
                .ok()?
                .partial_success?;
            (partial.rejected_log_records, partial.error_message)
        }
        // Read by hand: the serde of opentelemetry-proto wants this int64 as
        // a number, where the OTLP/JSON mapping writes a string.
        Encoding::Json => {
            let value: serde_json::Value = serde_json::from_slice(body).ok()?;
            let partial = value.get("partialSuccess")?;
            let rejected = match partial.get("rejectedLogRecords") {
                Some(serde_json::Value::String(s)) => s.parse().unwrap_or(0),
                Some(n) => n.as_i64().unwrap_or(0),
                None => 0,
            };
            let message = partial
                .get("errorMessage")
                .and_then(|m| m.as_str())
                .unwrap_or_default()
                .to_owned();
            (rejected, message)
        }
    };
    if rejected <= 0 && message.is_empty() {
        return None;
    }
    Some(PartialSuccess {
        rejected: u64::try_from(rejected).unwrap_or(0),
        message: timber_transport_hyper::snippet(message.as_bytes(), key),
    })
}

#[async_trait]
impl Transport for OtlpTransport {
    async fn send_batch(&self, endpoint: &Endpoint, batch: &Batch) -> Result<(), TransportError> {
        // An empty envelope is not sent (the OTLP spec's advice).
        if batch.is_empty() {
            return Ok(());
        }
        let client = &self.inner.client;
        let encoding = self.inner.encoding;
        let body = encode(batch, encoding, &self.inner.resource_attributes)?;
        let mut headers = HeaderMap::new();
        if let Some(name) = &self.inner.api_key_header {
            headers.insert(name.clone(), api_key_header_value(&endpoint.api_key)?);
        }
        if let Ok(key) = HeaderValue::from_str(batch.idempotency_key()) {
            headers.insert("idempotency-key", key);
        }
        headers.insert(USER_AGENT, HeaderValue::from_static(AGENT));
        let url = format!("{}{}", endpoint.base_url, self.inner.path);
        let content_type = encoding.content_type();
        let key = &endpoint.api_key;
        let response = if encoding == Encoding::Grpc {
            let (body, compressed) = grpc::compress(body, |m| client.gzip(m));
            grpc::headers(&mut headers, compressed, client.request_timeout());
            let answer = client.post_as_is(&url, content_type, headers, body).await?;
            grpc::response(&answer, key)?
        } else {
            let answer = client.post(&url, content_type, headers, body).await?;
            if !answer.is_success() {
                return Err(crate::classify::failure(&answer, key));
            }
            answer.body
        };
        if let Some(partial) = partial_success(response.as_deref(), encoding, key) {
            self.report(partial);
        }
        Ok(())
    }

    async fn ingest_raw(
        &self,
        endpoint: &Endpoint,
        raw: RawRequest<'_>,
    ) -> Result<(), TransportError> {
        let _ = endpoint;
        Err(TransportError::permanent(format!(
            "the OTLP transport does not ingest raw {} bodies: OTLP carries structured \
             log records; parse the body (timber_format) and log its records instead",
            raw.format.as_str()
        )))
    }
}
