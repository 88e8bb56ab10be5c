//! Turning HTTP outcomes and I/O failures into `TransportError`s.

use std::error::Error as StdError;
use std::time::{Duration, SystemTime};

use timber_core::transport::{ApiKey, TransportError};

use crate::proxy::ProxyError;

/// Most characters of a response body quoted in an error.
const SNIPPET_CHARS: usize = 300;

/// A non-2xx answer in the client's terms: 408, 429 and 5xx are worth
/// retrying (after the server's `Retry-After`), 400, 413 and 422 refuse the
/// content, anything else fails for now; the message starts `HTTP {status}`
/// and quotes a bounded, key-scrubbed snippet of the body.
pub(crate) fn from_status(
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    key: &ApiKey,
) -> TransportError {
    let snippet = snippet(body, key);
    let message = if snippet.is_empty() {
        format!("HTTP {status}: {}", status_text(status))
    } else {
        format!("HTTP {status}: {}: {snippet}", status_text(status))
    };
    match status {
        408 | 429 | 500..=599 => {
            let error = TransportError::retryable(message);
            match retry_after.and_then(parse_retry_after) {
                Some(after) => error.with_retry_after(after),
                None => error,
            }
        }
        400 | 413 | 422 => TransportError::refused(message),
        _ => TransportError::permanent(message),
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

/// What "delivered" means, for batches and raw bodies alike: a 2xx answer
/// whose body, if it arrived whole and is JSON, does not say
/// `"success": false` (a service that says so refused the content).
pub(crate) fn delivered(body: Option<&[u8]>, key: &ApiKey) -> Result<(), TransportError> {
    let Some(body) = body else { return Ok(()) };
    let said = serde_json::from_slice::<serde_json::Value>(body).ok();
    match said.as_ref().and_then(|v| v.get("success")) {
        Some(serde_json::Value::Bool(false)) => Err(TransportError::refused(format!(
            "the service answered success: false: {}",
            snippet(body, key)
        ))),
        _ => Ok(()),
    }
}

/// The start of a body as text, bounded, or nothing at all if it quotes the
/// API key in any case or common encoding (percent, JSON escapes, base64):
/// a server's text must never carry the key into an error.
pub(crate) fn snippet(body: &[u8], key: &ApiKey) -> String {
    let text = String::from_utf8_lossy(body);
    if quotes(&text, key.expose()) {
        return "(the answer quoted the API key; not shown)".into();
    }
    let text = text.trim();
    let mut out: String = text.chars().take(SNIPPET_CHARS).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// Whether `text` holds `secret`, whatever its case, percent-encoded,
/// JSON-escaped or in base64.
fn quotes(text: &str, secret: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    let plain = unescape(text).to_lowercase();
    plain.contains(&secret.to_lowercase()) || base64_forms(secret).any(|form| text.contains(&form))
}

/// `text` with `%XX`, `\uXXXX` and `\xXX` escapes decoded (others kept).
fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |from: usize, n: usize| {
            text.get(from..from + n)
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
        };
        let (decoded, skip) = match (bytes[i], bytes.get(i + 1)) {
            (b'%', _) => (hex(i + 1, 2), 3),
            (b'\\', Some(b'u')) => (hex(i + 2, 4), 6),
            (b'\\', Some(b'x')) => (hex(i + 2, 2), 4),
            _ => (None, 1),
        };
        match decoded {
            Some(c) => {
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                i += skip;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The parts of `secret`'s base64 (standard and URL-safe alphabets) that
/// appear whatever bytes surround it, for each of the three alignments.
fn base64_forms(secret: &str) -> impl Iterator<Item = String> + '_ {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use base64::Engine;
    let engines = [STANDARD_NO_PAD, URL_SAFE_NO_PAD];
    engines.into_iter().flat_map(move |engine| {
        (0..3usize).filter_map(move |offset| {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(secret.as_bytes());
            let encoded = engine.encode(&bytes);
            // Characters made only of the secret's bits.
            let first = (offset * 8).div_ceil(6);
            let last = (bytes.len() * 8) / 6;
            encoded
                .get(first..last)
                .filter(|s| s.len() >= 8)
                .map(str::to_owned)
        })
    })
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
    if let Some(tls) = find::<rustls::Error>(error) {
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
pub(crate) fn chain(error: &(dyn StdError + 'static)) -> String {
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

/// The first error of type `E` in the chain.
fn find<'a, E: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
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
        assert!(!e.is_retryable() && e.is_refused());
        assert_eq!(e.retry_after(), None);
        assert!(e.message().chars().count() < 400);
        assert!(e.message().starts_with("HTTP 400: bad request: xxx"), "{e}");
        let e = from_status(401, None, b"", &key);
        assert_eq!(e.kind(), timber_core::transport::FailureKind::Permanent);
        assert_eq!(e.to_string(), "HTTP 401: unauthorized (check the API key)");
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(
                from_status(status, None, b"", &key).is_retryable(),
                "{status}"
            );
        }
        for status in [413, 422] {
            assert!(
                from_status(status, None, b"", &key).is_refused(),
                "{status}"
            );
        }
    }

    #[test]
    fn snippets_never_carry_the_key_in_any_case_or_encoding() {
        use base64::Engine;
        let key = ApiKey::new("tb_live_Secret123456");
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let echoes = [
            format!("bad key {}", key.expose()),
            format!("bad key {}", key.expose().to_uppercase()),
            format!("{}{}", "x".repeat(SNIPPET_CHARS - 12), key.expose()),
            "bad key tb%5Flive%5FSecret123456".to_owned(),
            r#"{"key":"\u0074b_live_Secret123456"}"#.to_owned(),
            format!("auth {}", b64(&format!("api:{}", key.expose()))),
            format!("auth {}", b64(&format!("a:{}", key.expose()))),
            format!("auth {}", b64(key.expose())),
        ];
        for echo in echoes {
            let s = snippet(echo.as_bytes(), &key);
            assert!(!s.to_lowercase().contains("secret1"), "{echo} -> {s}");
            assert!(s.starts_with("(the answer quoted"), "{echo} -> {s}");
        }
        assert_eq!(snippet(b" plain reason ", &key), "plain reason");
    }

    #[test]
    fn a_2xx_is_delivered_unless_its_body_says_success_false() {
        let key = ApiKey::new("k");
        assert!(delivered(None, &key).is_ok(), "a body that never came");
        assert!(delivered(Some(b""), &key).is_ok());
        assert!(delivered(Some(br#"{"success":true,"count":3}"#), &key).is_ok());
        assert!(delivered(Some(b"not json"), &key).is_ok());
        let refused = delivered(Some(br#"{"success":false,"error":"quota"}"#), &key).unwrap_err();
        assert!(refused.is_refused() && !refused.is_retryable());
        assert!(refused.to_string().contains("quota"));
    }
}
