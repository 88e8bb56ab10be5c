//! The live web view ([`ServerConfig::view`](crate::ServerConfig::view)):
//! one static page at `/` and the JSON behind it, for the page and for
//! scripts. Read-only, no API key, and nothing it answers holds one: the
//! store never keeps the key.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};

use crate::events::CAPACITY;
use crate::filter::Filter;
use crate::http::AnswerBody;
use crate::render;
use crate::shared::Shared;

/// The page: HTML, CSS and script in one file, nothing fetched from
/// anywhere but this server.
const PAGE: &str = include_str!("view.html");

/// Nothing but this server's own page may run or be fetched: no
/// third-party script, no request to the network.
const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                   connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'";

/// Refused requests listed in `/api/stats`, newest first.
const REFUSALS_SHOWN: usize = 50;

/// Whether `path` is one of the view's.
pub(crate) fn serves(path: &str) -> bool {
    matches!(
        path,
        "/" | "/index.html" | "/api/records" | "/api/raw" | "/api/stats" | "/api/events"
    )
}

/// The answer to a request for one of the view's paths.
pub(crate) fn answer(shared: &Arc<Shared>, req: &Request<Incoming>) -> Response<AnswerBody> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return error(StatusCode::METHOD_NOT_ALLOWED, "only GET is allowed");
    }
    let query = req.uri().query().unwrap_or("");
    match req.uri().path() {
        "/api/records" => match Filter::parse(query) {
            Ok(filter) => json_answer(&records(shared, &filter)),
            Err(reason) => error(StatusCode::BAD_REQUEST, &reason),
        },
        "/api/raw" => match Filter::parse(query) {
            Ok(filter) => json_answer(&raw(shared, filter.limit)),
            Err(reason) => error(StatusCode::BAD_REQUEST, &reason),
        },
        "/api/stats" => {
            let mut answer = json_answer(&Value::Null);
            *answer.body_mut() = full(stats(shared));
            answer
        }
        "/api/events" => {
            let mut answer = Response::new(crate::sse::stream(shared, stats));
            let headers = answer.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            answer
        }
        _ => {
            let mut answer = Response::new(full(PAGE.to_owned()));
            let headers = answer.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert("content-security-policy", HeaderValue::from_static(CSP));
            answer
        }
    }
}

/// The kept records that pass `filter`, newest first, up to its limit.
fn records(shared: &Shared, filter: &Filter) -> Value {
    let mut out = Vec::new();
    // Newest batches first, so that the usual question (the last few
    // hundred) parses only the last few batches.
    'batches: for batch in shared.store.batches().iter().rev() {
        for record in batch.records().iter().rev() {
            if filter.matches(record) {
                out.push(render::record(batch.stamp, record));
                if out.len() == filter.limit {
                    break 'batches;
                }
            }
        }
    }
    json!({"records": out})
}

/// The kept raw bodies with what the format parser read, newest first.
fn raw(shared: &Shared, limit: usize) -> Value {
    let raw: Vec<Value> = shared
        .store
        .raw_stamped()
        .iter()
        .rev()
        .take(limit)
        .map(|(stamp, raw)| render::raw(*stamp, raw))
        .collect();
    json!({"raw": raw})
}

/// The counters, the feed's own, and the latest refusals with their
/// reasons (from the request log: the most recent requests).
pub(crate) fn stats(shared: &Shared) -> String {
    let summary = shared.store.summary();
    let requests = shared.store.requests();
    let mut by_reason = BTreeMap::<String, u64>::new();
    let mut refusals = Vec::new();
    for info in requests.iter().rev() {
        let Some(reason) = &info.reason else { continue };
        // Reasons name the record (`logs[3]: ...`): count by what was wrong.
        let what = reason.split_once("]: ").map_or(reason.as_str(), |(_, w)| w);
        *by_reason.entry(what.to_owned()).or_default() += 1;
        if refusals.len() < REFUSALS_SHOWN {
            refusals.push(render::request(None, info));
        }
    }
    let events = shared.store.events();
    json!({
        "summary": summary,
        "keepRecords": shared.config.keep_records,
        "keptRecords": summary.records.saturating_sub(summary.evicted_records),
        "refusals": refusals,
        "refusalsByReason": by_reason,
        "view": {
            "watchers": events.watchers(),
            "droppedEvents": events.dropped(),
            "bufferedEvents": CAPACITY,
        },
    })
    .to_string()
}

fn full(body: String) -> AnswerBody {
    AnswerBody::Full(Full::new(Bytes::from(body)))
}

fn json_answer(body: &Value) -> Response<AnswerBody> {
    let mut answer = Response::new(full(body.to_string()));
    answer
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    answer
}

fn error(status: StatusCode, reason: &str) -> Response<AnswerBody> {
    let mut answer = json_answer(&json!({"error": reason}));
    *answer.status_mut() = status;
    answer
}
