//! Where the server keeps what it received: records, raw bodies, flows,
//! counters, within `keep_records` (the oldest go first, counted), and the
//! live feed it tells about each of them.

use std::collections::{HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;
use timber_core::LogRecord;

use crate::events::Events;
use crate::received::{CreatedFlow, RawIngestion, RequestInfo, Summary};
use crate::render::{self, Stamp};
use crate::wire::{parse_records, Tally};

/// An accepted batch body, kept as received; its first `skip` records were
/// evicted.
#[derive(Clone)]
pub(crate) struct KeptBatch {
    pub(crate) stamp: Stamp,
    pub(crate) body: Bytes,
    pub(crate) records: usize,
    pub(crate) skip: usize,
}

impl KeptBatch {
    /// The records still kept.
    pub(crate) fn records(&self) -> Vec<LogRecord> {
        let mut records = materialize(&self.body);
        records.drain(..self.skip.min(records.len()));
        records
    }
}

pub(crate) struct Store {
    state: Mutex<State>,
    changed: Condvar,
    jsonl: Option<(PathBuf, Mutex<BufWriter<File>>)>,
    keep_records: usize,
    idempotency_window: usize,
    request_log: usize,
    events: Events,
}

#[derive(Default)]
struct State {
    summary: Summary,
    /// Accepted batch bodies, oldest first (`keep_records` counts records).
    bodies: VecDeque<KeptBatch>,
    kept: usize,
    raw: VecDeque<(Stamp, RawIngestion)>,
    next_seq: u64,
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
            events: Events::default(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The live feed of the web view.
    pub(crate) fn events(&self) -> &Events {
        &self.events
    }

    fn stamp(st: &mut State) -> Stamp {
        st.next_seq += 1;
        Stamp::now(st.next_seq)
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
        let stamp = Self::stamp(&mut st);
        // An empty batch is counted but not kept: nothing to show.
        if tally.records > 0 {
            st.kept += tally.records as usize;
            st.bodies.push_back(KeptBatch {
                stamp,
                body: body.clone(),
                records: tally.records as usize,
                skip: 0,
            });
            self.evict(&mut st);
        }
        drop(st);
        self.changed.notify_all();
        if self.events.watched() {
            self.events.publish("batch", &render::batch(stamp, &body));
        }
        if self.jsonl.is_some() {
            let lines: Vec<_> = materialize(&body)
                .iter()
                .map(|r| json!({"type": "log", "record": r}))
                .collect();
            self.append(&lines);
        }
        true
    }

    /// Drops the oldest records until `keep_records` are left, counting them.
    fn evict(&self, st: &mut State) {
        while st.kept > self.keep_records {
            let excess = st.kept - self.keep_records;
            let Some(oldest) = st.bodies.front_mut() else {
                break;
            };
            let n = excess.min(oldest.records - oldest.skip);
            oldest.skip += n;
            let emptied = oldest.skip == oldest.records;
            st.kept -= n;
            st.summary.evicted_records += n as u64;
            if emptied {
                st.bodies.pop_front();
            }
        }
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
        let stamp = Self::stamp(&mut st);
        // Parsed for the view after the lock is released.
        let shown = self.events.watched().then(|| raw.clone());
        st.raw.push_back((stamp, raw));
        // Raw bodies are bounded by the same number, counted apart.
        while st.raw.len() > self.keep_records {
            st.raw.pop_front();
            st.summary.evicted_raw += 1;
        }
        drop(st);
        self.changed.notify_all();
        if let Some(raw) = shown {
            let shown = render::raw(stamp, &raw).to_string();
            self.events.publish("raw", shown.as_bytes());
        }
        self.append(&[line]);
        true
    }

    pub(crate) fn add_flow(&self, flow: CreatedFlow) {
        let line = json!({"type": "flow", "flowId": flow.id, "name": flow.name});
        let mut st = self.lock();
        st.summary.flows_created += 1;
        let stamp = Self::stamp(&mut st);
        if self.events.watched() {
            self.events
                .publish("flow", render::flow(stamp, &flow).to_string().as_bytes());
        }
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
        // A gRPC call's outcome is its grpc-status (its HTTP status is 200).
        match (info.status, info.grpc_status) {
            (Some(401), None) | (_, Some(16)) => st.summary.unauthorized += 1,
            (Some(400..=499), None) if !fault => st.summary.rejected += 1,
            (_, Some(code)) if code != 0 && !fault => st.summary.rejected += 1,
            _ => {}
        }
        if self.events.watched() {
            let shown = render::request(Some(Stamp::now(0).received_at), &info).to_string();
            self.events.publish("request", shown.as_bytes());
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
        let bodies = self.batches();
        bodies.iter().flat_map(KeptBatch::records).collect()
    }

    /// The kept batches, oldest first (cheap: bodies are shared).
    pub(crate) fn batches(&self) -> Vec<KeptBatch> {
        self.lock().bodies.iter().cloned().collect()
    }

    pub(crate) fn raw(&self) -> Vec<RawIngestion> {
        self.lock().raw.iter().map(|(_, r)| r.clone()).collect()
    }

    /// The kept raw bodies with their stamps, oldest first.
    pub(crate) fn raw_stamped(&self) -> Vec<(Stamp, RawIngestion)> {
        self.lock().raw.iter().cloned().collect()
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
