//! Headers: the custom headers of the builder, checked once, the names no
//! one may set but the transports, and the API key as a header value.

use std::fmt;

use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use timber_core::transport::{ApiKey, TransportError};
use timber_core::ConfigError;

/// Headers added to every request, as given (checked at build); `Debug`
/// shows the names only, since values may be credentials.
#[derive(Clone, Default)]
pub(crate) struct CustomHeaders(pub(crate) Vec<(String, String)>);

impl fmt::Debug for CustomHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

/// Headers the HTTP machinery or a transport over it sets itself, which a
/// custom header cannot replace: the one list, for every adapter.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "idempotency-key",
    "proxy-authorization",
];

/// Checks the custom headers: a valid name the transport does not set
/// itself, and a value of visible ASCII characters, spaces and tabs (no CR,
/// LF or other control character, nothing outside ASCII). Never quotes a value.
pub(crate) fn check_headers(
    headers: &[(String, String)],
    also_reserved: &[&str],
) -> Result<HeaderMap, ConfigError> {
    let bad = |reason: String| ConfigError {
        field: "header",
        reason,
    };
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let parsed = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| bad(format!("{name:?} is not a valid header name")))?;
        if is_reserved_header(&parsed) || also_reserved.contains(&parsed.as_str()) {
            return Err(bad(format!(
                "{parsed} is set by the transport and cannot be replaced"
            )));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n') {
            return Err(bad(format!("the value of {parsed} contains CR or LF")));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_graphic() || b == b' ' || b == b'\t')
        {
            return Err(bad(format!(
                "the value of {parsed} has a character that is not visible ASCII (control or non-ASCII)"
            )));
        }
        let mut value = HeaderValue::from_str(value)
            .map_err(|_| bad(format!("the value of {parsed} is not a valid header value")))?;
        // Kept out of HTTP/2 header compression tables, like the key.
        value.set_sensitive(true);
        map.append(parsed, value);
    }
    Ok(map)
}

/// Whether `name` is a header the HTTP machinery or a transport over it
/// sets itself (`Content-Type`, `Host`, `Idempotency-Key`,
/// `Proxy-Authorization`...): a custom header or an adapter's own header
/// must not take it. (The Timberlogs transport reserves `X-API-Key` too.)
///
/// ```
/// use timber_transport_hyper::header::HeaderName;
/// use timber_transport_hyper::is_reserved_header;
/// assert!(is_reserved_header(&HeaderName::from_static("idempotency-key")));
/// assert!(!is_reserved_header(&HeaderName::from_static("x-tenant")));
/// ```
pub fn is_reserved_header(name: &HeaderName) -> bool {
    RESERVED_HEADERS.contains(&name.as_str())
}

/// The API key as a header value, kept out of HTTP/2 header compression
/// tables; a permanent error (that never quotes the key) if it has
/// characters a header cannot carry.
///
/// ```
/// use timber_core::transport::ApiKey;
/// let value = timber_transport_hyper::api_key_header_value(&ApiKey::new("tb_test_k")).unwrap();
/// assert!(value.is_sensitive());
/// assert!(timber_transport_hyper::api_key_header_value(&ApiKey::new("bad\nkey")).is_err());
/// ```
pub fn api_key_header_value(key: &ApiKey) -> Result<HeaderValue, TransportError> {
    let mut value = HeaderValue::from_str(key.expose()).map_err(|_| {
        TransportError::permanent("the API key has characters not allowed in an HTTP header")
    })?;
    value.set_sensitive(true);
    Ok(value)
}
