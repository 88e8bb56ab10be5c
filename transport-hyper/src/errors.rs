//! Turning HTTP outcomes and I/O failures into `TransportError`s.

use std::error::Error as StdError;
use std::time::{Duration, SystemTime};

use timber_core::{ApiKey, TransportError};

use crate::proxy::ProxyError;

/// Most characters of a response body quoted in an error.
const SNIPPET_CHARS: usize = 300;

/// A non-2xx answer: retryable or not by status, with the server's hint and
/// a bounded, key-scrubbed snippet of its body.
pub(crate) fn from_status(
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    key: &ApiKey,
) -> TransportError {
    let snippet = snippet(body, key);
    let message = if snippet.is_empty() {
        status_text(status).to_owned()
    } else {
        format!("{}: {snippet}", status_text(status))
    };
    let error = TransportError::status(status, message);
    match retry_after.and_then(parse_retry_after) {
        Some(after) if error.is_retryable() => error.with_retry_after(after),
        _ => error,
    }
}

fn status_text(status: u16) -> &'static str {
    match status {
        400 => "bad request",
        401 => "unauthorized (check the API key)",
        403 => "forbidden",
        404 => "not found (check the base URL)",
        408 => "request timeout",
        413 => "payload too large",
        415 => "unsupported media type",
        422 => "unprocessable content",
        429 => "too many requests",
        500..=599 => "server error",
        300..=399 => "unexpected redirect",
        _ => "unexpected status",
    }
}

/// The start of a body as text, with the API key masked should a server
/// ever echo it back (masked before the cut, so no piece of it survives).
fn snippet(body: &[u8], key: &ApiKey) -> String {
    let mut text = String::from_utf8_lossy(body).into_owned();
    let secret = key.expose();
    if !secret.is_empty() && text.contains(secret) {
        text = text.replace(secret, &key.to_string());
    }
    let text = text.trim();
    let mut out: String = text.chars().take(SNIPPET_CHARS).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// `Retry-After` as delay seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A request that got no answer: certificate failures are permanent,
/// everything else (refused, reset, TLS hiccups) is worth retrying.
pub(crate) fn from_io(error: &(dyn StdError + 'static), authority: &str) -> TransportError {
    if let Some(proxy) = find::<ProxyError>(error) {
        // It already names the proxy and the destination.
        return if proxy.permanent {
            TransportError::permanent(proxy.message.clone())
        } else {
            TransportError::retryable(proxy.message.clone())
        };
    }
    let chain = chain(error);
    if let Some(tls) = find_rustls(error) {
        if is_certificate_failure(tls) {
            return TransportError::permanent(format!(
                "TLS certificate verification failed for {authority}: {tls} \
                 (certificates are always verified; trust the server's CA with \
                 HyperTransport::builder().add_root_certificate_pem(..))"
            ));
        }
        return TransportError::retryable(format!("TLS error with {authority}: {chain}"));
    }
    TransportError::retryable(format!("cannot reach {authority}: {chain}"))
}

/// The error and its causes, joined, without repeating a cause a message
/// already quotes.
fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        let text = e.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = e.source();
    }
    out
}

fn find_rustls<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // io::Error's `source` skips the error it wraps: step into it instead.
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    None
}

/// The first error of type `E` in the chain.
fn find<'a, E: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        // As in find_rustls: step into the error an io::Error wraps.
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    None
}

fn is_certificate_failure(error: &rustls::Error) -> bool {
    use rustls::AlertDescription as A;
    match error {
        rustls::Error::InvalidCertificate(_)
        | rustls::Error::NoCertificatesPresented
        | rustls::Error::UnsupportedNameType
        | rustls::Error::InvalidCertRevocationList(_) => true,
        rustls::Error::AlertReceived(alert) => matches!(
            alert,
            A::BadCertificate
                | A::UnsupportedCertificate
                | A::CertificateRevoked
                | A::CertificateExpired
                | A::CertificateUnknown
                | A::UnknownCA
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        let d = parse_retry_after(&later).unwrap();
        assert!(d > Duration::from_secs(100) && d <= Duration::from_secs(120));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn statuses_classify_and_keep_a_bounded_snippet() {
        let key = ApiKey::new("tb_live_secret123456");
        let e = from_status(503, Some("3"), b"down", &key);
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        let e = from_status(400, Some("3"), "x".repeat(10_000).as_bytes(), &key);
        assert!(!e.is_retryable());
        assert_eq!(e.retry_after(), None);
        assert!(e.message().chars().count() < 400);
    }

    #[test]
    fn snippets_never_carry_the_key() {
        let key = ApiKey::new("tb_live_secret123456");
        let echoed = format!("bad key {}", key.expose());
        assert!(!snippet(echoed.as_bytes(), &key).contains("secret123"));
        let cut = format!("{}{}", "x".repeat(SNIPPET_CHARS - 12), key.expose());
        let s = snippet(cut.as_bytes(), &key);
        assert!(!s.contains("tb_live_secre"), "{s}");
    }
}
