//! The Timberlogs protocol's answers in the client's terms: one table of
//! what each status means, and what "delivered" means for a 2xx.

use timber_core::transport::{ApiKey, FailureKind, TransportError};

use crate::answer::HttpAnswer;
use crate::redact_key::snippet;

/// What a non-2xx status means to the client: 408, 429 and 5xx are worth
/// retrying (after the server's `Retry-After`); 400, 413 and 422 refuse the
/// content (the client halves the batch to isolate the records at fault);
/// anything else fails for now (the batch is kept for the next flush), with
/// a hint where the cause is usually the configuration.
fn classify(status: u16) -> (FailureKind, Option<&'static str>) {
    match status {
        408 | 429 | 500..=599 => (FailureKind::Retry, None),
        400 | 413 | 422 => (FailureKind::Refused, None),
        401 => (FailureKind::Permanent, Some("check the API key")),
        404 => (FailureKind::Permanent, Some("check the base URL")),
        _ => (FailureKind::Permanent, None),
    }
}

/// A non-2xx answer as the client's failure, quoting a bounded,
/// key-scrubbed snippet of its body.
pub(crate) fn failure(answer: &HttpAnswer, key: &ApiKey) -> TransportError {
    let (kind, hint) = classify(answer.status);
    answer.failure(kind, hint, &answer.snippet(key))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn answer(status: u16, retry_after: Option<&'static str>, body: &[u8]) -> HttpAnswer {
        let mut headers = hyper::header::HeaderMap::new();
        if let Some(after) = retry_after {
            headers.insert(
                hyper::header::RETRY_AFTER,
                hyper::header::HeaderValue::from_static(after),
            );
        }
        HttpAnswer {
            status,
            headers,
            body: Some(body.to_vec().into()),
            trailers: Default::default(),
        }
    }

    #[test]
    fn statuses_classify_and_keep_a_bounded_snippet() {
        let key = ApiKey::new("tb_live_secret123456");
        let e = failure(&answer(503, Some("3"), b"down"), &key);
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        let e = failure(&answer(400, Some("3"), "x".repeat(10_000).as_bytes()), &key);
        assert!(!e.is_retryable() && e.is_refused());
        assert_eq!(e.retry_after(), None);
        assert!(e.message().chars().count() < 400);
        assert!(e.message().starts_with("HTTP 400: bad request: xxx"), "{e}");
        let e = failure(&answer(401, None, b""), &key);
        assert_eq!(e.kind(), FailureKind::Permanent);
        assert_eq!(e.to_string(), "HTTP 401: unauthorized (check the API key)");
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(
                failure(&answer(status, None, b""), &key).is_retryable(),
                "{status}"
            );
        }
        for status in [413, 422] {
            assert!(
                failure(&answer(status, None, b""), &key).is_refused(),
                "{status}"
            );
        }
        for status in [301, 403, 404, 415] {
            let e = failure(&answer(status, None, b""), &key);
            assert_eq!(e.kind(), FailureKind::Permanent, "{status}");
        }
        let leaky = failure(&answer(401, None, b"bad key tb_live_secret123456"), &key);
        assert!(!leaky.to_string().contains("secret123456"), "{leaky}");
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
