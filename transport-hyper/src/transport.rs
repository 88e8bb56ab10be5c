//! `HyperTransport`: the port implemented over HTTPS.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderMap, PROXY_AUTHORIZATION};
use hyper::header::{HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use hyper::{Request, Uri};
use hyper_rustls::HttpsConnector;
use timber_core::{
    async_trait, Batch, Endpoint, Environment, IngestRawOptions, Level, LogRecord, RawFormat,
    RawRequest, Transport, TransportError,
};

use crate::errors;
use crate::proxy::{Proxies, ProxyConnector};
use crate::runtime::OwnedRuntime;
use crate::HyperTransportBuilder;

/// Most bytes of an answer read (flow ids and error reasons are short).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

const AGENT: &str = concat!("timber-rs/", env!("CARGO_PKG_VERSION"));

type HttpClient = hyper_util::client::legacy::Client<HttpsConnector<ProxyConnector>, Full<Bytes>>;

/// The HTTPS transport: hyper 1 over rustls (ring), pooled keep-alive
/// connections, HTTP/2 when the server offers it through ALPN.
///
/// Cheap to clone (clones share the pool and the runtime). Its futures can be
/// polled by any executor, or by none (`block_on`): the I/O runs on a small
/// runtime the transport owns.
///
/// ```
/// use timber_core::Client;
/// use timber_ingest_server::{IngestServer, ServerConfig, TlsIdentity};
/// use timber_transport_hyper::HyperTransport;
///
/// let server = IngestServer::start(
///     ServerConfig::new("tb_test_doc").tls(TlsIdentity::generate()?),
/// )?;
/// let transport = HyperTransport::builder()
///     .add_root_certificate_pem(server.ca_pem().unwrap())
///     .build()?;
/// let client = Client::builder()
///     .source("doc-example")
///     .api_key("tb_test_doc")
///     .base_url(server.url())
///     .transport(transport)
///     .build()?;
/// client.info("hello over HTTPS", (), None);
/// client.disconnect()?;
/// assert_eq!(server.records()[0].message, "hello over HTTPS");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct HyperTransport {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) client: HttpClient,
    pub(crate) runtime: OwnedRuntime,
    pub(crate) allow_http: bool,
    pub(crate) request_timeout: Duration,
    #[cfg(feature = "gzip")]
    pub(crate) gzip_min_bytes: Option<usize>,
    pub(crate) settings: String,
    /// Custom headers, added to every request.
    pub(crate) headers: HeaderMap,
    pub(crate) proxies: Option<Arc<Proxies>>,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HyperTransport {{ {} }}", self.inner.settings)
    }
}

/// What the transport sends: path, body and its headers.
struct Post<'a> {
    path_and_query: String,
    content_type: &'static str,
    body: Vec<u8>,
    idempotency_key: Option<&'a str>,
}

/// An answer: status, `Retry-After`, and the body if it arrived whole in
/// time.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Option<Bytes>,
}

impl HyperTransport {
    /// A transport with the default settings (webpki roots, HTTPS only).
    pub fn new() -> Result<Self, crate::BuildError> {
        Self::builder().build()
    }

    /// Starts configuring a transport.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::default()
    }

    /// Sends one POST and returns the 2xx answer's body (`None` when it did
    /// not arrive whole in time: the status is the service's word), or the
    /// error.
    async fn post(
        &self,
        endpoint: &Endpoint,
        post: Post<'_>,
    ) -> Result<Option<Bytes>, TransportError> {
        let url = format!("{}{}", endpoint.base_url, post.path_and_query);
        let uri: Uri = url
            .parse()
            .map_err(|e| TransportError::permanent(format!("invalid URL {url:?}: {e}")))?;
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if self.inner.allow_http => {}
            Some("http") => {
                return Err(TransportError::permanent(format!(
                    "refusing plain http:// to {}: the API key would travel in clear \
                     (use https://, or allow_http(true) for local tests)",
                    uri.authority().map_or("", |a| a.as_str())
                )))
            }
            _ => {
                return Err(TransportError::permanent(format!(
                    "unsupported URL scheme in {url:?}"
                )))
            }
        }
        let authority = uri.authority().map_or_else(String::new, |a| a.to_string());
        // A plain-HTTP request through a proxy carries the proxy's
        // credentials itself (an HTTPS one gives them to CONNECT).
        let forward_auth = match (&self.inner.proxies, uri.scheme_str()) {
            (Some(proxies), Some("http")) => proxies
                .intercept(&uri)
                .and_then(|p| p.basic_auth().cloned()),
            _ => None,
        };
        let mut key = HeaderValue::from_str(endpoint.api_key.expose()).map_err(|_| {
            TransportError::permanent("the API key has characters not allowed in an HTTP header")
        })?;
        key.set_sensitive(true);

        let mut request = Request::post(uri)
            .header(CONTENT_TYPE, post.content_type)
            .header(USER_AGENT, AGENT)
            .header("x-api-key", key);
        if let Some(idempotency) = post.idempotency_key {
            request = request.header("idempotency-key", idempotency);
        }
        if let Some(headers) = request.headers_mut() {
            for (name, value) in &self.inner.headers {
                if name == USER_AGENT {
                    headers.insert(name, value.clone());
                } else {
                    headers.append(name, value.clone());
                }
            }
            if let Some(auth) = forward_auth {
                headers.insert(PROXY_AUTHORIZATION, auth);
            }
        }
        let (body, encoding) = self.encode(post.body);
        if let Some(encoding) = encoding {
            request = request.header(CONTENT_ENCODING, encoding);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| TransportError::permanent(format!("cannot build the request: {e}")))?;

        let client = self.inner.client.clone();
        let timeout = self.inner.request_timeout;
        // The timers are created inside the task: they need the runtime's clock.
        let exchange = async move {
            let deadline = tokio::time::Instant::now() + timeout;
            let answer = tokio::time::timeout_at(deadline, client.request(request)).await?;
            let answer = match answer {
                Ok(answer) => answer,
                Err(e) => return Ok(Err(e)),
            };
            let status = answer.status().as_u16();
            let retry_after = answer
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            // Read the whole answer so the connection goes back to the pool;
            // one that does not end in time is left unread, its status kept.
            let body = Limited::new(answer.into_body(), MAX_ANSWER_BYTES).collect();
            let body = match tokio::time::timeout_at(deadline, body).await {
                Ok(Ok(body)) => Some(body.to_bytes()),
                _ => None,
            };
            Ok::<_, tokio::time::error::Elapsed>(Ok(Answer {
                status,
                retry_after,
                body,
            }))
        };
        let outcome = self.inner.runtime.run(exchange).await;
        let answer = match outcome {
            None => return Err(TransportError::retryable("the transport's runtime stopped")),
            Some(Err(_elapsed)) => {
                return Err(TransportError::retryable(format!(
                    "request to {authority} timed out after {timeout:?}"
                )))
            }
            Some(Ok(Err(e))) => return Err(errors::from_io(&e, &authority)),
            Some(Ok(Ok(answer))) => answer,
        };
        if (200..300).contains(&answer.status) {
            Ok(answer.body)
        } else {
            Err(errors::from_status(
                answer.status,
                answer.retry_after.as_deref(),
                answer.body.as_deref().unwrap_or_default(),
                &endpoint.api_key,
            ))
        }
    }
}

impl HyperTransport {
    /// The body as sent, and its `Content-Encoding`.
    #[cfg(feature = "gzip")]
    fn encode(&self, body: Vec<u8>) -> (Vec<u8>, Option<&'static str>) {
        match self.inner.gzip_min_bytes {
            Some(min) if body.len() >= min => (gzip(&body), Some("gzip")),
            _ => (body, None),
        }
    }

    /// The body as sent (without the `gzip` feature, always as it is).
    #[cfg(not(feature = "gzip"))]
    fn encode(&self, body: Vec<u8>) -> (Vec<u8>, Option<&'static str>) {
        (body, None)
    }
}

/// The body of `POST /v1/logs`: `{"logs":[...]}`, around the batch's
/// records as they are.
fn logs_body_of(batch: &Batch) -> Vec<u8> {
    let records = batch.json();
    let mut body = Vec::with_capacity(records.len() + LOGS_OPEN.len() + 1);
    body.extend_from_slice(LOGS_OPEN);
    body.extend_from_slice(records);
    body.push(b'}');
    body
}

const LOGS_OPEN: &[u8] = b"{\"logs\":";

/// The body of `POST /v1/logs` for these records, as the transport sends
/// it (for tests and benches that speak the protocol).
///
/// ```
/// use timber_core::{Level, LogRecord};
/// let body = timber_transport_hyper::logs_body(&[LogRecord::new(Level::Warn, "disk")]);
/// assert_eq!(body, br#"{"logs":[{"level":"warn","message":"disk"}]}"#);
/// ```
pub fn logs_body(records: &[LogRecord]) -> Vec<u8> {
    logs_body_of(&Batch::new(records))
}

/// The query of a raw request: `format=..` then each default set,
/// URL-encoded, in the protocol's order.
fn raw_query(format: RawFormat, options: &IngestRawOptions) -> String {
    let mut query = format!("format={}", format.as_str());
    let pairs = [
        ("source", options.source.as_deref()),
        ("environment", options.environment.map(Environment::as_str)),
        ("level", options.level.map(Level::as_str)),
        ("dataset", options.dataset.as_deref()),
    ];
    for (name, value) in pairs {
        if let Some(value) = value {
            query.push('&');
            query.push_str(name);
            query.push('=');
            percent_encode(value, &mut query);
        }
    }
    query
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(value: &str, out: &mut String) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(feature = "gzip")]
fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write;

    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

#[async_trait]
impl Transport for HyperTransport {
    async fn send_batch(&self, endpoint: &Endpoint, batch: &Batch) -> Result<(), TransportError> {
        let post = Post {
            path_and_query: "/v1/logs".into(),
            content_type: "application/json",
            body: logs_body_of(batch),
            idempotency_key: Some(batch.idempotency_key()),
        };
        let body = self.post(endpoint, post).await?;
        errors::delivered(body.as_deref(), &endpoint.api_key)
    }

    async fn create_flow(&self, endpoint: &Endpoint, name: &str) -> Result<String, TransportError> {
        let post = Post {
            path_and_query: "/v1/flows".into(),
            content_type: "application/json",
            body: serde_json::json!({ "name": name }).to_string().into_bytes(),
            idempotency_key: None,
        };
        let body = self.post(endpoint, post).await?.ok_or_else(|| {
            TransportError::retryable("the flow answer did not arrive whole in time")
        })?;
        let answer: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| TransportError::permanent(format!("the flow answer is not JSON: {e}")))?;
        match answer.get("flowId").and_then(|v| v.as_str()) {
            Some(id) if !id.is_empty() => Ok(id.to_owned()),
            _ => Err(TransportError::permanent(
                "the flow answer has no flowId string",
            )),
        }
    }

    async fn ingest_raw(
        &self,
        endpoint: &Endpoint,
        raw: RawRequest<'_>,
    ) -> Result<(), TransportError> {
        let post = Post {
            path_and_query: format!("/v1/logs?{}", raw_query(raw.format, raw.options)),
            content_type: raw.format.content_type(),
            body: raw.body.as_bytes().to_vec(),
            idempotency_key: Some(raw.idempotency_key),
        };
        let body = self.post(endpoint, post).await?;
        errors::delivered(body.as_deref(), &endpoint.api_key)
    }
}
