//! `HyperTransport`: the port implemented over HTTPS.

use std::fmt;

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderValue};
use timber_core::transport::{async_trait, Batch, Endpoint, RawRequest, Transport, TransportError};
use timber_core::{Environment, IngestRawOptions, Level, RawFormat};

use crate::classify::{delivered, failure};
use crate::encode::logs_body;
use crate::headers::api_key_header_value;
use crate::http_client::HttpClient;

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
    client: HttpClient,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HyperTransport {{ {} }}", self.client.settings())
    }
}

/// What the transport sends: path, body and its headers.
struct Post<'a> {
    path_and_query: String,
    content_type: &'static str,
    body: Vec<u8>,
    idempotency_key: Option<&'a str>,
}

impl HyperTransport {
    /// A transport over an HTTP client already built (sharing its
    /// connection pool and runtime with the other users of the client).
    ///
    /// ```
    /// use timber_transport_hyper::{HttpClient, HyperTransport};
    /// let client = HttpClient::builder().header("X-Tenant", "acme").build()?;
    /// let transport = HyperTransport::with_client(client.clone());
    /// # drop(transport);
    /// # Ok::<(), timber_transport_hyper::BuildError>(())
    /// ```
    pub fn with_client(client: HttpClient) -> Self {
        HyperTransport { client }
    }

    /// The HTTP client the transport sends with.
    pub fn client(&self) -> &HttpClient {
        &self.client
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
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", api_key_header_value(&endpoint.api_key)?);
        if let Some(idempotency) = post.idempotency_key {
            let value = HeaderValue::from_str(idempotency).map_err(|_| {
                TransportError::permanent("the idempotency key is not a valid header value")
            })?;
            headers.insert("idempotency-key", value);
        }
        let answer = self
            .client
            .post(&url, post.content_type, headers, post.body)
            .await?;
        if answer.is_success() {
            Ok(answer.body)
        } else {
            Err(failure(&answer, &endpoint.api_key))
        }
    }
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

#[async_trait]
impl Transport for HyperTransport {
    async fn send_batch(&self, endpoint: &Endpoint, batch: &Batch) -> Result<(), TransportError> {
        let post = Post {
            path_and_query: "/v1/logs".into(),
            content_type: "application/json",
            body: logs_body(batch),
            idempotency_key: Some(batch.idempotency_key()),
        };
        let body = self.post(endpoint, post).await?;
        delivered(body.as_deref(), &endpoint.api_key)
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
        delivered(body.as_deref(), &endpoint.api_key)
    }
}
