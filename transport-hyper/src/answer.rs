//! [`HttpAnswer`]: an answer that arrived, and what both protocols read of
//! one alike (`Retry-After`, a safe quote of the body, the failure message).

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use hyper::header::{HeaderMap, RETRY_AFTER};
use timber_core::transport::{ApiKey, FailureKind, TransportError};

use crate::redact_key::snippet;

/// An answer that arrived: its status, headers, and body.
///
/// ```
/// use std::time::Duration;
/// use timber_transport_hyper::header::{HeaderMap, HeaderValue, RETRY_AFTER};
/// use timber_transport_hyper::HttpAnswer;
/// let mut headers = HeaderMap::new();
/// headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
/// let answer = HttpAnswer { status: 503, headers, body: None, trailers: HeaderMap::new() };
/// assert!(!answer.is_success());
/// assert_eq!(answer.retry_after(), Some(Duration::from_secs(3)));
/// ```
#[derive(Clone, Debug)]
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// The answer's headers.
    pub headers: HeaderMap,
    /// The body, at most 64 KiB of it; `None` when it did not arrive whole
    /// within the request timeout (the status is still the server's word).
    pub body: Option<Bytes>,
    /// The trailers that followed the body (gRPC's status), empty when
    /// none came.
    pub trailers: HeaderMap,
}

impl HttpAnswer {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `Retry-After`, as delay seconds or an HTTP date (a date past is zero).
    pub fn retry_after(&self) -> Option<Duration> {
        self.headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after)
    }

    /// The start of the body as text (at most 300 characters), to quote
    /// in an error; nothing of it when it quotes `key` in any case or
    /// common encoding (percent, JSON escapes, base64).
    ///
    /// ```
    /// use timber_core::transport::ApiKey;
    /// use timber_transport_hyper::HttpAnswer;
    /// let answer = |body: &'static str| HttpAnswer { status: 401, headers: Default::default(), body: Some(body.into()), trailers: Default::default() };
    /// let key = ApiKey::new("tb_live_s3cret_key");
    /// assert_eq!(answer(" bad key ").snippet(&key), "bad key");
    /// assert!(!answer("bad key TB_LIVE_S3CRET_KEY").snippet(&key).contains("S3CRET"));
    /// ```
    pub fn snippet(&self, key: &ApiKey) -> String {
        snippet(self.body.as_deref().unwrap_or_default(), key)
    }

    /// The failure this answer is, as its protocol classifies the status
    /// (`kind`, with a `hint` for the user): the message starts
    /// `HTTP {status}: {reason}`, adds the hint in parentheses and the
    /// `detail` (what the server said, already quoted safely); a
    /// retryable one carries the answer's `Retry-After`.
    ///
    /// ```
    /// use timber_core::transport::FailureKind;
    /// use timber_transport_hyper::HttpAnswer;
    /// let answer = HttpAnswer { status: 401, headers: Default::default(), body: None, trailers: Default::default() };
    /// let e = answer.failure(FailureKind::Permanent, Some("check the API key"), "");
    /// assert_eq!(e.to_string(), "HTTP 401: unauthorized (check the API key)");
    /// ```
    pub fn failure(&self, kind: FailureKind, hint: Option<&str>, detail: &str) -> TransportError {
        let mut message = format!("HTTP {}: {}", self.status, reason(self.status));
        if let Some(hint) = hint {
            message.push_str(&format!(" ({hint})"));
        }
        if !detail.is_empty() {
            message.push_str(": ");
            message.push_str(detail);
        }
        match kind {
            FailureKind::Refused => TransportError::refused(message),
            FailureKind::Permanent => TransportError::permanent(message),
            _ => match self.retry_after() {
                Some(after) => TransportError::retryable(message).with_retry_after(after),
                None => TransportError::retryable(message),
            },
        }
    }
}

/// What a status is called (the standard reason phrase, lowercase).
fn reason(status: u16) -> &'static str {
    match status {
        400 => "bad request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not found",
        408 => "request timeout",
        413 => "payload too large",
        415 => "unsupported media type",
        422 => "unprocessable content",
        429 => "too many requests",
        502 => "bad gateway",
        503 => "service unavailable",
        504 => "gateway timeout",
        500..=599 => "server error",
        300..=399 => "unexpected redirect",
        _ => "unexpected status",
    }
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
}
