//! [`HttpClient`]: the configured HTTP machinery (TLS, proxies, custom
//! headers, timeouts, gzip, the owned runtime) that `HyperTransport` speaks
//! the Timberlogs protocol over, and the OTLP transport its own.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderMap, PROXY_AUTHORIZATION};
use hyper::header::{CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT};
use hyper::{Request, Uri};
use hyper_rustls::HttpsConnector;
use timber_core::transport::TransportError;

use crate::answer::HttpAnswer;
use crate::failure::from_io;
use crate::proxy::{Proxies, ProxyConnector};
use crate::runtime::OwnedRuntime;

/// Most bytes of an answer read (flow ids, error reasons and OTLP answers
/// are short).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

const AGENT: &str = concat!("timber-rs/", env!("CARGO_PKG_VERSION"));

type Hyper = hyper_util::client::legacy::Client<HttpsConnector<ProxyConnector>, Full<Bytes>>;

/// The HTTP machinery of the transports, configured by an
/// [`HttpClientBuilder`](crate::HttpClientBuilder):
/// rustls (ring) with the trusted roots, proxies and their `CONNECT`
/// tunnels, custom headers, timeouts, pooled keep-alive connections,
/// optional gzip, and the small tokio runtime its I/O runs on, so that any
/// executor (or none) can poll [`post`](Self::post).
///
/// [`HyperTransport`](crate::HyperTransport) speaks the Timberlogs protocol
/// over it; another adapter (`timber-transport-otlp`) speaks its own over
/// the same machinery and settings. Cheap to clone: clones share the pool
/// and the runtime.
///
/// `post` maps what never got an answer onto [`TransportError`]
/// (unreachable, reset and timed out are retryable, a certificate that does
/// not verify is permanent, never quoting a secret) and returns every
/// answer that arrived, whatever its status: what a status means is the
/// adapter's protocol.
///
/// ```
/// use timber_ingest_server::{IngestServer, ServerConfig};
/// use timber_transport_hyper::header::{HeaderMap, HeaderValue};
/// use timber_transport_hyper::HttpClient;
///
/// let server = IngestServer::start(ServerConfig::new("tb_test_doc"))?;
/// let client = HttpClient::builder().allow_http(true).build()?;
/// let mut headers = HeaderMap::new();
/// headers.insert("x-api-key", HeaderValue::from_static("tb_test_doc"));
/// let body = br#"{"logs":[{"level":"info","message":"hi"}]}"#.to_vec();
/// let url = format!("{}/v1/logs", server.url());
/// let answer = futures::executor::block_on(client.post(&url, "application/json", headers, body))?;
/// assert_eq!(answer.status, 200);
/// assert_eq!(server.records()[0].message, "hi");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    client: Hyper,
    runtime: OwnedRuntime,
    allow_http: bool,
    http2_only: bool,
    request_timeout: Duration,
    #[cfg(feature = "gzip")]
    gzip_min_bytes: Option<usize>,
    settings: String,
    /// Custom headers, added to every request.
    headers: HeaderMap,
    proxies: Option<Arc<Proxies>>,
}

/// The parts an `HttpClientBuilder` assembles into an [`HttpClient`].
pub(crate) struct Parts {
    pub(crate) client: Hyper,
    pub(crate) runtime: OwnedRuntime,
    pub(crate) allow_http: bool,
    pub(crate) http2_only: bool,
    pub(crate) request_timeout: Duration,
    #[cfg(feature = "gzip")]
    pub(crate) gzip_min_bytes: Option<usize>,
    pub(crate) settings: String,
    pub(crate) headers: HeaderMap,
    pub(crate) proxies: Option<Arc<Proxies>>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HttpClient {{ {} }}", self.inner.settings)
    }
}

impl HttpClient {
    pub(crate) fn from_parts(parts: Parts) -> Self {
        HttpClient {
            inner: Arc::new(Inner {
                client: parts.client,
                runtime: parts.runtime,
                allow_http: parts.allow_http,
                http2_only: parts.http2_only,
                request_timeout: parts.request_timeout,
                #[cfg(feature = "gzip")]
                gzip_min_bytes: parts.gzip_min_bytes,
                settings: parts.settings,
                headers: parts.headers,
                proxies: parts.proxies,
            }),
        }
    }

    /// The settings, as `Debug` shows them (no secret).
    pub(crate) fn settings(&self) -> &str {
        &self.inner.settings
    }

    /// Whether the client speaks HTTP/2 only
    /// ([`HttpClientBuilder::http2_only`](crate::HttpClientBuilder::http2_only)).
    pub fn is_http2_only(&self) -> bool {
        self.inner.http2_only
    }

    /// The request timeout: how long [`post`](Self::post) waits for an
    /// answer (a protocol may tell the server, as gRPC's `grpc-timeout`).
    pub fn request_timeout(&self) -> Duration {
        self.inner.request_timeout
    }

    /// Sends one POST to `url` with this `Content-Type`, the adapter's own
    /// `headers` (which replace the default `User-Agent` if they set one),
    /// then the builder's custom headers, and `body` (gzipped per the
    /// builder's `gzip_min_bytes`), within the request timeout.
    ///
    /// Returns the answer whatever its status, or, when none arrived in
    /// time, a [`TransportError`]: retryable for an unreachable server, a
    /// reset, a timeout or a stopped runtime; permanent for an invalid URL,
    /// plain `http://` without `allow_http`, and a certificate that does
    /// not verify.
    pub async fn post(
        &self,
        url: &str,
        content_type: &'static str,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<HttpAnswer, TransportError> {
        let (body, encoding) = self.encode(body);
        self.send(url, content_type, headers, body, encoding).await
    }

    /// [`post`](Self::post) with `body` sent exactly as given, never
    /// gzipped by the client: for a protocol that compresses inside its
    /// own framing (gRPC, with [`gzip`](Self::gzip)).
    pub async fn post_as_is(
        &self,
        url: &str,
        content_type: &'static str,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<HttpAnswer, TransportError> {
        self.send(url, content_type, headers, body, None).await
    }

    /// `body` gzipped, when the builder's `gzip_min_bytes` rule says a body
    /// of its size is (for a protocol that compresses inside its framing).
    ///
    /// ```
    /// use timber_transport_hyper::HttpClient;
    /// let client = HttpClient::builder().build()?;
    /// assert_eq!(client.gzip(b"short"), None);
    /// # Ok::<(), timber_transport_hyper::BuildError>(())
    /// ```
    pub fn gzip(&self, body: &[u8]) -> Option<Vec<u8>> {
        #[cfg(feature = "gzip")]
        if self
            .inner
            .gzip_min_bytes
            .is_some_and(|min| body.len() >= min)
        {
            return Some(gzip(body));
        }
        let _ = body;
        None
    }

    async fn send(
        &self,
        url: &str,
        content_type: &'static str,
        headers: HeaderMap,
        body: Vec<u8>,
        encoding: Option<&'static str>,
    ) -> Result<HttpAnswer, TransportError> {
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

        let mut request = Request::post(uri)
            .header(CONTENT_TYPE, content_type)
            .header(USER_AGENT, AGENT);
        if let Some(all) = request.headers_mut() {
            for (name, value) in &headers {
                if name == USER_AGENT {
                    all.insert(name, value.clone());
                } else {
                    all.append(name, value.clone());
                }
            }
            for (name, value) in &self.inner.headers {
                if name == USER_AGENT {
                    all.insert(name, value.clone());
                } else {
                    all.append(name, value.clone());
                }
            }
            if let Some(auth) = forward_auth {
                all.insert(PROXY_AUTHORIZATION, auth);
            }
        }
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
            let (parts, body) = answer.into_parts();
            // Read the whole answer so the connection goes back to the pool;
            // one that does not end in time is left unread, its status kept.
            let body = Limited::new(body, MAX_ANSWER_BYTES).collect();
            let (body, trailers) = match tokio::time::timeout_at(deadline, body).await {
                Ok(Ok(body)) => {
                    let trailers = body.trailers().cloned().unwrap_or_default();
                    (Some(body.to_bytes()), trailers)
                }
                _ => (None, HeaderMap::new()),
            };
            Ok::<_, tokio::time::error::Elapsed>(Ok(HttpAnswer {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
                trailers,
            }))
        };
        match self.inner.runtime.run(exchange).await {
            None => Err(TransportError::retryable("the transport's runtime stopped")),
            Some(Err(_elapsed)) => Err(TransportError::retryable(format!(
                "request to {authority} timed out after {timeout:?}"
            ))),
            Some(Ok(Err(e))) => Err(from_io(&e, &authority)),
            Some(Ok(Ok(answer))) => Ok(answer),
        }
    }

    /// Runs CPU work (encoding a request body, say) on a blocking thread
    /// of the client's runtime, so that the caller's executor (the
    /// client's worker, which goes on batching) is not held up by it;
    /// several run at once. `None` if the runtime stopped or `work`
    /// panicked.
    ///
    /// ```
    /// use timber_transport_hyper::HttpClient;
    /// let client = HttpClient::builder().build()?;
    /// let body = futures::executor::block_on(client.run_blocking(|| vec![1u8, 2, 3]));
    /// assert_eq!(body, Some(vec![1, 2, 3]));
    /// # Ok::<(), timber_transport_hyper::BuildError>(())
    /// ```
    pub async fn run_blocking<T, F>(&self, work: F) -> Option<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.inner.runtime.run_blocking(work).await
    }

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
