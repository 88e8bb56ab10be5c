//! What the server received: records, raw bodies, flows, counters.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use serde_json::json;
use timber_core::{IngestRawOptions, Level, LogRecord, RawFormat};

use crate::wire::{parse_records, Tally};

/// Counters of everything the server saw.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Summary {
    /// Requests received (any path, any outcome).
    pub requests: u64,
    /// Batches of structured logs accepted (duplicates excluded).
    pub batches: u64,
    /// Structured records accepted.
    pub records: u64,
    /// Batches and raw bodies whose idempotency key was already stored
    /// (answered 200, not stored again).
    pub duplicate_batches: u64,
    /// Accepted records per level.
    pub by_level: BTreeMap<Level, u64>,
    /// Accepted records per flow id.
    pub by_flow: BTreeMap<String, u64>,
    /// Accepted raw bodies per format (`json`, `csv`...).
    pub raw_by_format: BTreeMap<String, u64>,
    /// Flows created through `POST /v1/flows`.
    pub flows_created: u64,
    /// Requests refused as malformed (4xx other than 401).
    pub rejected: u64,
    /// Requests refused for a missing or wrong API key.
    pub unauthorized: u64,
    /// Requests that met an injected fault.
    pub faults: u64,
    /// Request bodies that came gzip-encoded.
    pub gzip_bodies: u64,
    /// Request body bytes as they came over the wire.
    pub wire_bytes: u64,
    /// TCP connections accepted.
    pub connections: u64,
}

/// One raw ingestion request as received.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawIngestion {
    /// The `format=` value.
    pub format: RawFormat,
    /// The `Content-Type` header.
    pub content_type: String,
    /// The query string, as sent (still URL-encoded).
    pub query: String,
    /// The decoded `source`, `environment`, `level` and `dataset` options.
    pub options: IngestRawOptions,
    /// The body, decoded from gzip if it was.
    pub body: String,
}

/// A flow the server created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedFlow {
    /// `{name}-{8 chars}`.
    pub id: String,
    /// The requested name.
    pub name: String,
}

/// One request as the server saw it (headers that matter to the protocol).
/// The API key is never kept, only whether it was right.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestInfo {
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// `HTTP/1.1` or `HTTP/2.0`.
    pub version: String,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// Whether the API key was accepted.
    pub authorized: bool,
    /// The status answered; `None` when the connection was closed instead.
    pub status: Option<u16>,
    /// The error reason sent back, for refused requests.
    pub reason: Option<String>,
    /// Every other header, in order, names lowercase (values that are not
    /// text are left out). Credentials (`X-API-Key`, `Authorization`,
    /// `Proxy-Authorization`) are never kept.
    pub headers: Vec<(String, String)>,
}

impl RequestInfo {
    /// The first value of a header kept in [`headers`](Self::headers).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) struct Store {
    state: Mutex<State>,
    changed: Condvar,
    jsonl: Option<(PathBuf, Mutex<BufWriter<File>>)>,
    keep_records: usize,
    idempotency_window: usize,
    request_log: usize,
}

#[derive(Default)]
struct State {
    summary: Summary,
    /// Accepted batch bodies and how many of their records are kept
    /// (`keep_records` counts records).
    bodies: Vec<(Bytes, usize)>,
    kept: usize,
    raw: Vec<RawIngestion>,
    flows: Vec<CreatedFlow>,
    requests: VecDeque<RequestInfo>,
    keys: HashSet<String>,
    key_order: VecDeque<String>,
    /// Accepted OTLP requests (`keep_records` counts their records).
    #[cfg(feature = "otlp")]
    otlp: Vec<opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest>,
}

impl Store {
    pub(crate) fn new(
        jsonl: Option<&Path>,
        keep_records: usize,
        idempotency_window: usize,
        request_log: usize,
    ) -> io::Result<Self> {
        let jsonl = match jsonl {
            Some(path) => {
                let file = OpenOptions::new().create(true).append(true).open(path)?;
                Some((path.to_owned(), Mutex::new(BufWriter::new(file))))
            }
            None => None,
        };
        Ok(Store {
            state: Mutex::default(),
            changed: Condvar::new(),
            jsonl,
            keep_records,
            idempotency_window,
            request_log,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn jsonl_path(&self) -> Option<&Path> {
        self.jsonl.as_ref().map(|(p, _)| p.as_path())
    }

    /// Stores an accepted batch; false if its idempotency key was seen already.
    /// The body is kept as received: records are built only when asked for.
    pub(crate) fn add_batch(
        &self,
        body: Bytes,
        tally: Tally,
        key: Option<&str>,
        wire_bytes: usize,
    ) -> bool {
        let mut st = self.lock();
        st.summary.wire_bytes += wire_bytes as u64;
        if !self.first_time(&mut st, key) {
            return false;
        }
        st.summary.batches += 1;
        st.summary.records += tally.records;
        for (level, n) in tally.by_level {
            *st.summary.by_level.entry(level).or_default() += n;
        }
        for (flow, n) in tally.by_flow {
            *st.summary.by_flow.entry(flow).or_default() += n;
        }
        let kept = (tally.records as usize).min(self.keep_records.saturating_sub(st.kept));
        if kept > 0 {
            st.kept += kept;
            st.bodies.push((body.clone(), kept));
        }
        drop(st);
        self.changed.notify_all();
        if self.jsonl.is_some() {
            let lines: Vec<_> = materialize(&body)
                .iter()
                .map(|r| json!({"type": "log", "record": r}))
                .collect();
            self.append(&lines);
        }
        true
    }

    /// Whether a request with this idempotency key is new (then remembered);
    /// counts a repeat.
    fn first_time(&self, st: &mut State, key: Option<&str>) -> bool {
        let Some(key) = key else { return true };
        if st.keys.contains(key) {
            st.summary.duplicate_batches += 1;
            return false;
        }
        if self.idempotency_window > 0 {
            if st.key_order.len() >= self.idempotency_window {
                if let Some(old) = st.key_order.pop_front() {
                    st.keys.remove(&old);
                }
            }
            st.keys.insert(key.to_owned());
            st.key_order.push_back(key.to_owned());
        }
        true
    }

    /// Stores an accepted OTLP request; false if its idempotency key was
    /// seen already.
    #[cfg(feature = "otlp")]
    pub(crate) fn add_otlp(
        &self,
        request: opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest,
        key: Option<&str>,
        wire_bytes: usize,
    ) -> bool {
        let mut st = self.lock();
        st.summary.wire_bytes += wire_bytes as u64;
        if !self.first_time(&mut st, key) {
            return false;
        }
        let mut records = 0u64;
        for record in crate::otlp_records::records(&request) {
            records += 1;
            *st.summary
                .by_level
                .entry(crate::otlp_records::level_of(record.severity_number))
                .or_default() += 1;
        }
        st.summary.batches += 1;
        st.summary.records += records;
        let line = self.jsonl.is_some().then(|| {
            json!({"type": "otlp", "request": serde_json::to_value(&request).unwrap_or_default()})
        });
        if st.kept < self.keep_records {
            st.kept += records as usize;
            st.otlp.push(request);
        }
        drop(st);
        self.changed.notify_all();
        if let Some(line) = line {
            self.append(&[line]);
        }
        true
    }

    #[cfg(feature = "otlp")]
    pub(crate) fn otlp(
        &self,
    ) -> Vec<opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest> {
        self.lock().otlp.clone()
    }

    /// Stores a raw ingestion; false if its idempotency key was seen already.
    pub(crate) fn add_raw(&self, raw: RawIngestion, key: Option<&str>, wire_bytes: usize) -> bool {
        let line = json!({
            "type": "raw",
            "format": raw.format.as_str(),
            "contentType": raw.content_type,
            "query": raw.query,
            "body": raw.body,
        });
        let mut st = self.lock();
        st.summary.wire_bytes += wire_bytes as u64;
        if !self.first_time(&mut st, key) {
            return false;
        }
        *st.summary
            .raw_by_format
            .entry(raw.format.as_str().to_owned())
            .or_default() += 1;
        st.raw.push(raw);
        drop(st);
        self.changed.notify_all();
        self.append(&[line]);
        true
    }

    pub(crate) fn add_flow(&self, flow: CreatedFlow) {
        let line = json!({"type": "flow", "flowId": flow.id, "name": flow.name});
        let mut st = self.lock();
        st.summary.flows_created += 1;
        st.flows.push(flow);
        drop(st);
        self.changed.notify_all();
        self.append(&[line]);
    }

    pub(crate) fn note_request(&self, info: RequestInfo, gzip: bool, fault: bool) {
        let mut st = self.lock();
        st.summary.requests += 1;
        st.summary.gzip_bodies += u64::from(gzip);
        st.summary.faults += u64::from(fault);
        match info.status {
            Some(401) => st.summary.unauthorized += 1,
            Some(400..=499) if !fault => st.summary.rejected += 1,
            _ => {}
        }
        if self.request_log > 0 {
            if st.requests.len() >= self.request_log {
                st.requests.pop_front();
            }
            st.requests.push_back(info);
        }
        drop(st);
        self.changed.notify_all();
    }

    fn append(&self, lines: &[serde_json::Value]) {
        let Some((path, file)) = &self.jsonl else {
            return;
        };
        let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
        let result = lines
            .iter()
            .try_for_each(|line| {
                serde_json::to_writer(&mut *file, line)?;
                file.write_all(b"\n")
            })
            .and_then(|()| file.flush());
        if let Err(e) = result {
            eprintln!("ingest server: cannot append to {}: {e}", path.display());
        }
    }

    pub(crate) fn note_connection(&self) {
        self.lock().summary.connections += 1;
    }

    pub(crate) fn summary(&self) -> Summary {
        self.lock().summary.clone()
    }

    pub(crate) fn records(&self) -> Vec<LogRecord> {
        let bodies = self.lock().bodies.clone();
        bodies
            .iter()
            .flat_map(|(body, kept)| materialize(body).into_iter().take(*kept))
            .collect()
    }

    pub(crate) fn raw(&self) -> Vec<RawIngestion> {
        self.lock().raw.clone()
    }

    pub(crate) fn flows(&self) -> Vec<CreatedFlow> {
        self.lock().flows.clone()
    }

    pub(crate) fn requests(&self) -> Vec<RequestInfo> {
        self.lock().requests.iter().cloned().collect()
    }

    pub(crate) fn wait_until(&self, timeout: Duration, done: impl Fn(&Summary) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        loop {
            if done(&st.summary) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// The records of a body the server accepted (so parsing cannot fail).
fn materialize(body: &[u8]) -> Vec<LogRecord> {
    parse_records(body).expect("an accepted body parses")
}
