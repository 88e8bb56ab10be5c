//! [`HttpClientBuilder`]: the settings of the HTTP machinery, and how an
//! [`HttpClient`] is assembled from them.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use timber_core::ThreadPriority;

use crate::build_error::BuildError;
use crate::headers::{check_headers, CustomHeaders};
use crate::http_client::{HttpClient, Parts};
use crate::proxy::{Proxies, ProxyChoice, ProxyConnector};
use crate::runtime::OwnedRuntime;
use crate::tls::Trust;

impl HttpClient {
    /// Starts configuring a client.
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder::default()
    }
}

/// Configures an [`HttpClient`]: the HTTP machinery both transports send
/// over (TLS roots, plain HTTP or not, proxies, custom headers, timeouts,
/// the connection pool, gzip, the runtime). The transports' builders take
/// one ([`HyperTransportBuilder::http`](crate::HyperTransportBuilder::http),
/// `OtlpTransportBuilder::http`) or offer the same setters.
///
/// ```
/// use std::time::Duration;
/// use timber_transport_hyper::HttpClient;
/// let client = HttpClient::builder()
///     .connect_timeout(Duration::from_secs(5))
///     .request_timeout(Duration::from_secs(20))
///     .header("X-Tenant", "acme")
///     .build()?;
/// # drop(client);
/// # Ok::<(), timber_transport_hyper::BuildError>(())
/// ```
///
/// Proxies: by default the `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`
/// variables (or their lowercase forms) are honoured, as curl and reqwest
/// do; [`proxy`](Self::proxy) and [`no_proxy`](Self::no_proxy) override them.
#[derive(Clone, Debug)]
#[must_use]
pub struct HttpClientBuilder {
    pub(crate) trust: Trust,
    pub(crate) allow_http: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) pool_idle_timeout: Duration,
    pub(crate) pool_max_idle_per_host: usize,
    pub(crate) http2: bool,
    pub(crate) http2_only: bool,
    pub(crate) gzip_min_bytes: Option<usize>,
    pub(crate) worker_threads: usize,
    pub(crate) thread_priority: ThreadPriority,
    pub(crate) proxy: ProxyChoice,
    pub(crate) headers: CustomHeaders,
    pub(crate) pending_error: Option<String>,
}

impl Default for HttpClientBuilder {
    fn default() -> Self {
        HttpClientBuilder {
            trust: Trust::default(),
            allow_http: false,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 8,
            http2: true,
            http2_only: false,
            gzip_min_bytes: None,
            worker_threads: 1,
            thread_priority: ThreadPriority::default(),
            proxy: ProxyChoice::FromEnv,
            headers: CustomHeaders::default(),
            pending_error: None,
        }
    }
}

impl HttpClientBuilder {
    /// Also trusts the CA certificate(s) of this PEM text, for private
    /// deployments and tests. An unreadable PEM fails [`build`](Self::build).
    pub fn add_root_certificate_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        if let Err(e) = self.trust.add_pem(pem.as_ref()) {
            self.pending_error.get_or_insert(e.to_string());
        }
        self
    }

    /// Whether the webpki (Mozilla) roots are trusted (default: yes). Turn
    /// off to trust only the CAs you add.
    pub fn webpki_roots(mut self, trust: bool) -> Self {
        self.trust.no_webpki_roots = !trust;
        self
    }

    /// Also trusts the operating system's certificate store.
    #[cfg(feature = "native-roots")]
    #[cfg_attr(docsrs, doc(cfg(feature = "native-roots")))]
    pub fn native_roots(mut self, trust: bool) -> Self {
        self.trust.native_roots = trust;
        self
    }

    /// Allows plain `http://` base URLs (default: refused, since the API key
    /// would travel in clear). For tests and local servers.
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Longest wait for a TCP connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Longest time for a whole request, from connecting to the last byte of
    /// the answer (default 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long an idle pooled connection is kept (default 90 s).
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// Most idle connections kept per host (default 8).
    pub fn pool_max_idle_per_host(mut self, n: usize) -> Self {
        self.pool_max_idle_per_host = n;
        self
    }

    /// Whether HTTP/2 is offered through ALPN (default: yes; HTTP/1.1 is
    /// used when the server does not pick h2, and always over plain HTTP).
    pub fn http2(mut self, offer: bool) -> Self {
        self.http2 = offer;
        self
    }

    /// Speaks HTTP/2 only (default: no): with prior knowledge over plain
    /// `http://`, and over TLS by offering only `h2` through ALPN. gRPC
    /// needs it (the OTLP transport's gRPC encoding sets it); a server
    /// that speaks only HTTP/1.1 then fails every request.
    pub fn http2_only(mut self, only: bool) -> Self {
        self.http2_only = only;
        self
    }

    /// Gzip request bodies of at least this many bytes (default: never).
    #[cfg(feature = "gzip")]
    #[cfg_attr(docsrs, doc(cfg(feature = "gzip")))]
    pub fn gzip_min_bytes(mut self, min_bytes: usize) -> Self {
        self.gzip_min_bytes = Some(min_bytes);
        self
    }

    /// Threads of the transport's own runtime (default 1).
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = n.max(1);
        self
    }

    /// The scheduling priority of the runtime's threads, which encode,
    /// compress and send: [`ThreadPriority::Background`] (the default)
    /// yields a busy core to the application's threads, as the client's
    /// worker does.
    pub fn thread_priority(mut self, priority: ThreadPriority) -> Self {
        self.thread_priority = priority;
        self
    }

    /// Sends every request through this HTTP proxy, whatever the
    /// environment says: `http://[user:password@]host[:port]` (port 80 when
    /// left out). HTTPS requests go through a `CONNECT` tunnel, so TLS runs
    /// end to end with the service and its certificate is verified as
    /// always; the user and password, if any, are sent as
    /// `Proxy-Authorization: Basic` and never printed. An invalid URL fails
    /// [`build`](Self::build).
    ///
    /// ```
    /// use timber_transport_hyper::HyperTransport;
    /// let transport = HyperTransport::builder()
    ///     .proxy("http://alice:s3cret@proxy.corp.example:3128")
    ///     .build()?;
    /// assert!(!format!("{transport:?}").contains("s3cret"));
    /// # Ok::<(), timber_transport_hyper::BuildError>(())
    /// ```
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = ProxyChoice::Explicit(url.into());
        self
    }

    /// Connects directly, ignoring `HTTPS_PROXY`, `HTTP_PROXY` and
    /// `NO_PROXY` (and an earlier [`proxy`](Self::proxy)).
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxyChoice::Direct;
        self
    }

    /// Adds a header to every request (a gateway's tenant or routing
    /// header, say). Checked by [`build`](Self::build): the name must be a
    /// valid header name other than those the transport sets itself
    /// (`Content-Type`, `X-API-Key`, `Idempotency-Key`, `Host`...), and the
    /// value visible ASCII, spaces and tabs only: a CR, LF or other control
    /// character is a [`BuildError::Config`], which never quotes the value.
    /// Repeating a name sends it several times. `User-Agent` may be replaced.
    ///
    /// ```
    /// use timber_transport_hyper::{BuildError, HyperTransport};
    /// let ok = HyperTransport::builder().header("X-Tenant", "acme").build();
    /// assert!(ok.is_ok());
    /// let err = HyperTransport::builder().header("X-Tenant", "acme\r\nX-Admin: 1").build().unwrap_err();
    /// assert_eq!(err.to_string(), "invalid configuration: header: the value of x-tenant contains CR or LF");
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.0.push((name.into(), value.into()));
        self
    }

    /// Builds the client and starts its runtime. Reads the proxy
    /// variables now, unless [`proxy`](Self::proxy) or
    /// [`no_proxy`](Self::no_proxy) was called.
    ///
    /// ```
    /// use timber_transport_hyper::HttpClient;
    /// let client = HttpClient::builder().proxy("http://proxy.example:3128").build()?;
    /// assert!(format!("{client:?}").contains("proxy.example:3128"));
    /// # Ok::<(), timber_transport_hyper::BuildError>(())
    /// ```
    pub fn build(self) -> Result<HttpClient, BuildError> {
        self.build_reserving(&[])
    }

    /// [`build`](Self::build), refusing custom headers of these names too
    /// (the ones an adapter sets itself).
    pub(crate) fn build_reserving(self, names: &[&str]) -> Result<HttpClient, BuildError> {
        self.build_with_env(names, |name| std::env::var(name).ok())
    }

    fn build_with_env(
        self,
        also_reserved: &[&str],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<HttpClient, BuildError> {
        if let Some(e) = self.pending_error {
            return Err(BuildError::Certificate(e));
        }
        let headers = check_headers(&self.headers.0, also_reserved)?;
        let proxies = Proxies::resolve(&self.proxy, env)?.map(Arc::new);
        let tls = self.trust.client_config()?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(self.connect_timeout));
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(60)));
        let tcp = ProxyConnector {
            http,
            proxies: proxies.clone(),
        };
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        let connector = if self.http2_only {
            https.enable_http2().wrap_connector(tcp)
        } else if self.http2 {
            https.enable_http1().enable_http2().wrap_connector(tcp)
        } else {
            https.enable_http1().wrap_connector(tcp)
        };
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .http2_only(self.http2_only)
            // Room for a whole answer stream without window-update round trips.
            .http2_initial_stream_window_size(1 << 20)
            .http2_initial_connection_window_size(2 << 20)
            .build(connector);
        let runtime = OwnedRuntime::start(self.worker_threads, self.thread_priority)
            .map_err(BuildError::Runtime)?;
        Ok(HttpClient::from_parts(Parts {
                client,
                runtime,
                allow_http: self.allow_http,
                http2_only: self.http2_only,
                request_timeout: self.request_timeout,
                #[cfg(feature = "gzip")]
                gzip_min_bytes: self.gzip_min_bytes,
                settings: format!(
                    "connect_timeout={:?}, request_timeout={:?}, http2={}, http2_only={}, gzip_min_bytes={:?}, allow_http={}, proxy={}, headers={:?}",
                    self.connect_timeout,
                    self.request_timeout,
                    self.http2,
                    self.http2_only,
                    self.gzip_min_bytes,
                    self.allow_http,
                    proxies.as_deref().map_or_else(|| "none".to_owned(), |p| format!("{p:?}")),
                    headers.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
                ),
                headers,
                proxies,
        }))
    }
}
