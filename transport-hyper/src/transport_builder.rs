//! [`HyperTransportBuilder`]: the HTTP settings of the Timberlogs transport
//! (the shared [`HttpClientBuilder`]'s, offered on it as well).

use std::time::Duration;

use timber_core::ThreadPriority;

use crate::build_error::BuildError;
use crate::http_builder::HttpClientBuilder;
use crate::transport::HyperTransport;

/// Configures a [`HyperTransport`]: every setting is the HTTP machinery's
/// ([`HttpClientBuilder`], each setter here does what the one of that name
/// does there), so that the common case needs one builder.
///
/// ```
/// use std::time::Duration;
/// use timber_transport_hyper::HyperTransport;
/// let transport = HyperTransport::builder()
///     .connect_timeout(Duration::from_secs(5))
///     .request_timeout(Duration::from_secs(20))
///     .build()?;
/// # drop(transport);
/// # Ok::<(), timber_transport_hyper::BuildError>(())
/// ```
///
/// Proxies: by default the `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`
/// variables (or their lowercase forms) are honoured, as curl and reqwest
/// do; [`proxy`](Self::proxy) and [`no_proxy`](Self::no_proxy) override them.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct HyperTransportBuilder {
    http: HttpClientBuilder,
}

/// Setters that hand their value to the HTTP machinery's builder.
macro_rules! http_settings {
    ($($(#[$attr:meta])* $name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            #[doc = concat!("See [`HttpClientBuilder::", stringify!($name), "`].")]
            $(#[$attr])*
            pub fn $name(mut self, $($arg: $ty),*) -> Self {
                self.http = self.http.$name($($arg),*);
                self
            }
        )*
    };
}

impl HyperTransport {
    /// A transport with the default settings (webpki roots, HTTPS only).
    pub fn new() -> Result<Self, BuildError> {
        Self::builder().build()
    }

    /// Starts configuring a transport.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::default()
    }
}

impl HyperTransportBuilder {
    /// Replaces every HTTP setting with these.
    pub fn http(mut self, settings: HttpClientBuilder) -> Self {
        self.http = settings;
        self
    }

    http_settings! {
        add_root_certificate_pem(pem: impl AsRef<[u8]>);
        webpki_roots(trust: bool);
        #[cfg(feature = "native-roots")]
        #[cfg_attr(docsrs, doc(cfg(feature = "native-roots")))]
        native_roots(trust: bool);
        allow_http(allow: bool);
        connect_timeout(timeout: Duration);
        request_timeout(timeout: Duration);
        pool_idle_timeout(timeout: Duration);
        pool_max_idle_per_host(n: usize);
        http2(offer: bool);
        #[cfg(feature = "gzip")]
        #[cfg_attr(docsrs, doc(cfg(feature = "gzip")))]
        gzip_min_bytes(min_bytes: usize);
        worker_threads(n: usize);
        thread_priority(priority: ThreadPriority);
        proxy(url: impl Into<String>);
        no_proxy();
        header(name: impl Into<String>, value: impl Into<String>);
    }

    /// Builds the transport (and its HTTP client) and starts its runtime.
    pub fn build(self) -> Result<HyperTransport, BuildError> {
        // The key goes in `X-API-Key`: no custom header may take it.
        self.http
            .build_reserving(&["x-api-key"])
            .map(HyperTransport::with_client)
    }
}
