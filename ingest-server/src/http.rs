//! The HTTP pieces both endpoints (the Timberlogs protocol's and OTLP's)
//! (and the view) share: the answer's body, the refusal that becomes a 4xx
//! or 5xx, reading a request body and its query string. They live apart
//! from either endpoint so that neither has to import the other's file.

use std::io::Read;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, CONTENT_ENCODING};
use hyper::StatusCode;

/// An answer's body: whole, or (`Misbehave::stall_body`) a start that
/// never ends, or (the view's live feed) chunks as they come, or (a gRPC
/// answer) one data frame then a trailers frame.
pub(crate) enum AnswerBody {
    Full(Full<Bytes>),
    Stalled(Option<Bytes>),
    Stream(tokio::sync::mpsc::Receiver<Bytes>),
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    Trailed(Option<Bytes>, Option<HeaderMap>),
}

impl hyper::body::Body for AnswerBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            AnswerBody::Full(full) => std::pin::Pin::new(full).poll_frame(cx),
            AnswerBody::Stalled(start) => match start.take() {
                Some(bytes) => std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(bytes)))),
                // Never woken: the answer never ends.
                None => std::task::Poll::Pending,
            },
            AnswerBody::Stream(rx) => rx
                .poll_recv(cx)
                .map(|chunk| chunk.map(|b| Ok(hyper::body::Frame::data(b)))),
            AnswerBody::Trailed(data, trailers) => std::task::Poll::Ready(
                match data.take() {
                    Some(bytes) => Some(hyper::body::Frame::data(bytes)),
                    None => trailers.take().map(hyper::body::Frame::trailers),
                }
                .map(Ok),
            ),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            AnswerBody::Full(full) => full.is_end_stream(),
            AnswerBody::Stalled(_) | AnswerBody::Stream(_) => false,
            AnswerBody::Trailed(data, trailers) => data.is_none() && trailers.is_none(),
        }
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self {
            AnswerBody::Full(full) => full.size_hint(),
            AnswerBody::Stalled(_) | AnswerBody::Stream(_) => hyper::body::SizeHint::default(),
            // Not exact: an exact length would make HTTP/1.1 answer with a
            // Content-Length, which leaves no room for trailers.
            AnswerBody::Trailed(data, _) => {
                let mut hint = hyper::body::SizeHint::default();
                hint.set_lower(data.as_ref().map_or(0, |d| d.len() as u64));
                hint
            }
        }
    }
}

/// A refusal: status and reason.
pub(crate) struct Refusal(pub(crate) StatusCode, pub(crate) String);

impl Refusal {
    pub(crate) fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        Refusal(status, reason.into())
    }
}

/// The body, gzip-decoded when it says so, within `max` bytes either way;
/// also the number of bytes that came over the wire.
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Incoming,
    max: usize,
) -> Result<(Bytes, usize), Refusal> {
    let wire = read_wire(body, max).await?;
    let wire_bytes = wire.len();
    if !is_gzip(headers) {
        return Ok((wire, wire_bytes));
    }
    Ok((gunzip(&wire, max)?, wire_bytes))
}

fn too_large(max: usize) -> Refusal {
    Refusal::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body exceeds {max} bytes"),
    )
}

/// The body as it came over the wire, within `max` bytes (413 past it).
pub(crate) async fn read_wire(body: Incoming, max: usize) -> Result<Bytes, Refusal> {
    Ok(Limited::new(body, max)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                too_large(max)
            } else {
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the body: {e}"),
                )
            }
        })?
        .to_bytes())
}

/// gzip-decoded bytes, within `max` bytes once decoded (413 past it, 400
/// when they are not gzip).
pub(crate) fn gunzip(gzipped: &[u8], max: usize) -> Result<Bytes, Refusal> {
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(gzipped)
        .take(max as u64 + 1)
        .read_to_end(&mut decoded)
        .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, format!("invalid gzip body: {e}")))?;
    if decoded.len() > max {
        return Err(too_large(max));
    }
    Ok(decoded.into())
}

/// Whether the request body says it is gzip-encoded.
pub(crate) fn is_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"))
}

/// `name=value` pairs of a query string, percent-decoded (`+` is a space).
pub(crate) fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k), percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        let pairs: Vec<_> = query_pairs("format=csv&source=my%20app&dataset=a+b&x=%zz%4").collect();
        assert_eq!(
            pairs,
            vec![
                ("format".into(), "csv".into()),
                ("source".into(), "my app".into()),
                ("dataset".into(), "a b".into()),
                ("x".into(), "%zz%4".into()),
            ]
        );
    }
}
