//! The core's own test double of the transport port: records what it is
//! handed and fails on demand. Applications use `timber-transport-mock`,
//! which has the same queries and more; the core cannot depend on it (it
//! depends on the core), so its tests, unit tests and doctests include
//! this file.
#![allow(dead_code)]

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use timber_core::transport::{async_trait, Batch, Endpoint, RawRequest, Transport, TransportError};
use timber_core::{IngestRawOptions, Level, LogRecord, RawFormat};

/// A failure of the next call.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    Unavailable,
    RetryAfter(Duration),
    Refused,
    Denied,
    Connection,
    /// Wait this long, then succeed.
    Delay(Duration),
    /// Store the batch, then fail as if the answer was lost.
    LostResponse,
    Panic,
}

/// A flow created.
#[derive(Clone, Debug, PartialEq)]
pub struct CreatedFlow {
    pub name: String,
    pub id: String,
}

/// A raw ingestion received.
#[derive(Clone, Debug, PartialEq)]
pub struct RawIngestion {
    pub body: String,
    pub format: RawFormat,
    pub options: IngestRawOptions,
}

type RawCheck = Arc<dyn Fn(RawFormat, &str) -> Result<(), String> + Send + Sync>;

#[derive(Default)]
struct State {
    batches: Vec<Batch>,
    records: Vec<LogRecord>,
    flows: Vec<CreatedFlow>,
    raw: Vec<RawIngestion>,
    faults: VecDeque<Fault>,
    keys: HashSet<String>,
    attempts: u64,
    repeats_ignored: u64,
    raw_check: Option<RawCheck>,
}

/// Records every batch once per idempotency key. Clones share a recording.
#[derive(Clone, Default)]
pub struct MockTransport(Arc<(Mutex<State>, Condvar)>);

impl MockTransport {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.0 .0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn fail_next(&self, n: usize, fault: Fault) -> &Self {
        self.lock().faults.extend(std::iter::repeat_n(fault, n));
        self
    }

    pub fn push_fault(&self, fault: Fault) -> &Self {
        self.lock().faults.push_back(fault);
        self
    }

    pub fn clear_faults(&self) -> &Self {
        self.lock().faults.clear();
        self
    }

    /// Refuses the raw bodies `check` rejects.
    pub fn check_raw_with(
        &self,
        check: impl Fn(RawFormat, &str) -> Result<(), String> + Send + Sync + 'static,
    ) -> &Self {
        self.lock().raw_check = Some(Arc::new(check));
        self
    }

    pub fn records(&self) -> Vec<LogRecord> {
        self.lock().records.clone()
    }

    pub fn batches(&self) -> Vec<Batch> {
        self.lock().batches.clone()
    }

    pub fn count(&self) -> usize {
        self.lock().records.len()
    }

    pub fn last(&self) -> Option<LogRecord> {
        self.lock().records.last().cloned()
    }

    pub fn filter(&self, keep: impl Fn(&LogRecord) -> bool) -> Vec<LogRecord> {
        self.lock()
            .records
            .iter()
            .filter(|r| keep(r))
            .cloned()
            .collect()
    }

    pub fn by_level(&self, level: Level) -> Vec<LogRecord> {
        self.filter(|r| r.level == level)
    }

    pub fn by_flow(&self, flow_id: &str) -> Vec<LogRecord> {
        let mut records = self.filter(|r| r.flow_id.as_deref() == Some(flow_id));
        records.sort_by_key(|r| r.step_index);
        records
    }

    pub fn by_tag(&self, tag: &str) -> Vec<LogRecord> {
        self.filter(|r| r.tags.iter().any(|t| t == tag))
    }

    pub fn flows_created(&self) -> Vec<CreatedFlow> {
        self.lock().flows.clone()
    }

    pub fn raw_ingestions(&self) -> Vec<RawIngestion> {
        self.lock().raw.clone()
    }

    pub fn attempts(&self) -> u64 {
        self.lock().attempts
    }

    pub fn repeats_ignored(&self) -> u64 {
        self.lock().repeats_ignored
    }

    pub fn clear(&self) {
        let faults = std::mem::take(&mut self.lock().faults);
        *self.lock() = State {
            faults,
            ..State::default()
        };
    }

    /// Waits until at least `n` records arrived; false on timeout.
    pub fn wait_for_count(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        while st.records.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            st = self
                .0
                 .1
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Counts the call and takes its fault (a delay is waited out here).
    async fn fault(&self) -> Result<Option<Fault>, TransportError> {
        let fault = {
            let mut st = self.lock();
            st.attempts += 1;
            st.faults.pop_front()
        };
        let error =
            |message: &str| TransportError::retryable(format!("{message} (injected by the mock)"));
        match fault {
            None => Ok(None),
            Some(Fault::Delay(d)) => {
                futures_timer::Delay::new(d).await;
                Ok(None)
            }
            Some(Fault::Panic) => panic!("a panic injected by the test double"),
            Some(Fault::LostResponse) => Ok(Some(Fault::LostResponse)),
            Some(Fault::Unavailable) => Err(error("unavailable")),
            Some(Fault::RetryAfter(after)) => Err(error("unavailable").with_retry_after(after)),
            Some(Fault::Connection) => Err(error("connection refused")),
            Some(Fault::Refused) => Err(TransportError::refused(
                "content refused (injected by the mock)",
            )),
            Some(Fault::Denied) => Err(TransportError::permanent("denied (injected by the mock)")),
        }
    }

    fn store(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.0 .1.notify_all();
    }
}

#[async_trait]
impl Transport for MockTransport {
    async fn send_batch(&self, _: &Endpoint, batch: &Batch) -> Result<(), TransportError> {
        let lost = self.fault().await?.is_some();
        self.store(|st| {
            if st.keys.insert(batch.idempotency_key().to_owned()) {
                st.batches.push(batch.clone());
                st.records.extend(batch.log_records());
            } else {
                st.repeats_ignored += 1;
            }
        });
        match lost {
            true => Err(TransportError::retryable(
                "connection reset after the request (injected by the mock)",
            )),
            false => Ok(()),
        }
    }

    async fn create_flow(&self, _: &Endpoint, name: &str) -> Result<String, TransportError> {
        self.fault().await?;
        let id = format!("{name}-{:08x}", self.attempts());
        let name = name.to_owned();
        self.store(|st| {
            st.flows.push(CreatedFlow {
                name,
                id: id.clone(),
            })
        });
        Ok(id)
    }

    async fn ingest_raw(&self, _: &Endpoint, raw: RawRequest<'_>) -> Result<(), TransportError> {
        self.fault().await?;
        let check = self.lock().raw_check.clone();
        if let Some(check) = check {
            check(raw.format, raw.body).map_err(TransportError::refused)?;
        }
        self.store(|st| {
            st.raw.push(RawIngestion {
                body: raw.body.to_owned(),
                format: raw.format,
                options: raw.options.clone(),
            })
        });
        Ok(())
    }
}
