//! [`MockTransport`]: records every batch, flow creation and raw ingestion,
//! answers queries about what was logged, and fails on demand.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use timber_core::transport::{async_trait, Batch, Endpoint, RawRequest, Transport, TransportError};
use timber_core::{IngestRawOptions, Level, LogRecord, RawFormat};

/// A failure to inject into the next calls, in the client's terms (a real
/// transport maps its protocol onto the same kinds: the hyper transport
/// maps 5xx, 408 and 429 to `Unavailable`, 400, 413 and 422 to `Refused`,
/// and other statuses to `Denied`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// The service is unavailable for now (retryable).
    Unavailable,
    /// Unavailable, asking to wait this long before the next try.
    RetryAfter(Duration),
    /// The service refuses the content: the client halves a refused batch
    /// to isolate the records at fault.
    Refused,
    /// The service refuses for good (a bad key, say): the client keeps the
    /// batch for the next interval or flush.
    Denied,
    /// A connection error (retryable).
    Connection,
    /// Wait this long, then succeed.
    Delay(Duration),
    /// Store the batch, then fail as if the response was lost (retryable);
    /// with idempotency keys, the retry is not stored twice.
    LostResponse,
    /// Panic inside the call, as a buggy transport would.
    Panic,
}

/// A flow the mock created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedFlow {
    /// The requested name.
    pub name: String,
    /// The id returned.
    pub id: String,
}

/// A raw ingestion the mock received.
#[derive(Clone, Debug, PartialEq)]
pub struct RawIngestion {
    /// The body.
    pub body: String,
    /// Its format.
    pub format: RawFormat,
    /// The options sent with it.
    pub options: IngestRawOptions,
}

#[derive(Default)]
struct State {
    batches: Vec<Batch>,
    /// The batches' records, decoded once when stored.
    records: Vec<LogRecord>,
    flows: Vec<CreatedFlow>,
    raw: Vec<RawIngestion>,
    faults: VecDeque<Fault>,
    stored_keys: HashSet<String>,
    attempts: u64,
    repeats_ignored: u64,
    raw_check: Option<RawCheck>,
}

type RawCheck = Arc<dyn Fn(RawFormat, &str) -> Result<(), String> + Send + Sync>;

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

/// The in-memory transport: every batch it is handed is recorded (once per
/// idempotency key, as a service that honours the key stores it), its
/// records kept in their wire form ([`LogRecord`], with the resource's
/// source, environment and version) for the queries. Clones share one
/// recording.
#[derive(Clone, Default)]
pub struct MockTransport {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for MockTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("MockTransport")
            .field("batches", &st.batches.len())
            .field("flows", &st.flows.len())
            .field("raw", &st.raw.len())
            .field("pending_faults", &st.faults.len())
            .finish()
    }
}

impl MockTransport {
    /// An empty recording with no faults.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    // --- faults -----------------------------------------------------------

    /// Makes the next `n` calls (of any kind) fail with `fault`.
    pub fn fail_next(&self, n: usize, fault: Fault) -> &Self {
        self.lock().faults.extend(std::iter::repeat_n(fault, n));
        self
    }

    /// Queues one fault after those already queued.
    pub fn push_fault(&self, fault: Fault) -> &Self {
        self.lock().faults.push_back(fault);
        self
    }

    /// Refuses the raw bodies `check` rejects, with its reason, as the
    /// ingest service refuses a malformed body (by default the mock accepts
    /// any body). A refused body is not recorded.
    ///
    /// This is the server's verdict, after the request; a client with a
    /// [`raw_validator`](timber_core::ClientBuilder::raw_validator) (the
    /// `timber-sdk` facade installs `timber_format::validator()`) refuses a
    /// malformed body locally instead, before anything is sent.
    ///
    /// ```
    /// use timber_core::{Client, Error, RawFormat};
    /// use timber_transport_mock::MockTransport;
    ///
    /// let mock = MockTransport::new();
    /// mock.check_raw_with(|_, body| if body.starts_with('{') { Ok(()) } else { Err("not JSON".into()) });
    /// let client = Client::builder().source("s").api_key("k").transport(mock.clone()).build()?;
    /// let err = client.ingest_raw("oops", RawFormat::Jsonl, None).unwrap_err();
    /// assert_eq!(err.to_string(), "transport failed: not JSON");
    /// assert!(mock.raw_ingestions().is_empty());
    /// # Ok::<(), Error>(())
    /// ```
    pub fn check_raw_with(
        &self,
        check: impl Fn(RawFormat, &str) -> Result<(), String> + Send + Sync + 'static,
    ) -> &Self {
        self.lock().raw_check = Some(Arc::new(check));
        self
    }

    /// Removes the faults not yet used.
    pub fn clear_faults(&self) -> &Self {
        self.lock().faults.clear();
        self
    }

    // --- queries ----------------------------------------------------------

    /// Every record received, in order.
    pub fn records(&self) -> Vec<LogRecord> {
        self.lock().records.clone()
    }

    /// Every batch received, in order.
    pub fn batches(&self) -> Vec<Batch> {
        self.lock().batches.clone()
    }

    /// How many records were received.
    pub fn count(&self) -> usize {
        self.lock().records.len()
    }

    /// The last record received.
    pub fn last(&self) -> Option<LogRecord> {
        self.lock().records.last().cloned()
    }

    /// The records of one level.
    pub fn by_level(&self, level: Level) -> Vec<LogRecord> {
        self.filter(|r| r.level == level)
    }

    /// The records of one flow, in step order.
    pub fn by_flow(&self, flow_id: &str) -> Vec<LogRecord> {
        let mut records = self.filter(|r| r.flow_id.as_deref() == Some(flow_id));
        records.sort_by_key(|r| r.step_index);
        records
    }

    /// The records carrying a tag.
    pub fn by_tag(&self, tag: &str) -> Vec<LogRecord> {
        self.filter(|r| r.tags.iter().any(|t| t == tag))
    }

    /// The records matching a predicate.
    pub fn filter(&self, keep: impl Fn(&LogRecord) -> bool) -> Vec<LogRecord> {
        let st = self.lock();
        st.records.iter().filter(|r| keep(r)).cloned().collect()
    }

    /// The flows created through `create_flow`.
    pub fn flows_created(&self) -> Vec<CreatedFlow> {
        self.lock().flows.clone()
    }

    /// The raw ingestions received.
    pub fn raw_ingestions(&self) -> Vec<RawIngestion> {
        self.lock().raw.clone()
    }

    /// Calls made, including failed ones.
    pub fn attempts(&self) -> u64 {
        self.lock().attempts
    }

    /// Batches received again with an idempotency key already stored (and
    /// not stored twice).
    pub fn repeats_ignored(&self) -> u64 {
        self.lock().repeats_ignored
    }

    /// Forgets everything received (faults stay).
    pub fn clear(&self) {
        let mut st = self.lock();
        st.batches.clear();
        st.records.clear();
        st.flows.clear();
        st.raw.clear();
        st.stored_keys.clear();
        st.attempts = 0;
        st.repeats_ignored = 0;
    }

    /// Waits until at least `n` records arrived; false on timeout.
    pub fn wait_for_count(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        loop {
            if st.records.len() >= n {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self
                .shared
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Takes the next fault, sleeping for a delay fault.
    async fn next_fault(&self) -> Option<Fault> {
        let fault = {
            let mut st = self.lock();
            st.attempts += 1;
            st.faults.pop_front()
        };
        match fault {
            Some(Fault::Delay(d)) => {
                futures_timer::Delay::new(d).await;
                None
            }
            Some(Fault::Panic) => panic!("a panic injected by the mock"),
            other => other,
        }
    }

    fn store(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.shared.changed.notify_all();
    }
}

fn fault_error(fault: Fault) -> TransportError {
    match fault {
        Fault::Unavailable => TransportError::retryable("unavailable (injected by the mock)"),
        Fault::RetryAfter(after) => {
            TransportError::retryable("unavailable (injected by the mock)").with_retry_after(after)
        }
        Fault::Refused => TransportError::refused("content refused (injected by the mock)"),
        Fault::Denied => TransportError::permanent("denied (injected by the mock)"),
        Fault::Connection => TransportError::retryable("connection refused (injected by the mock)"),
        Fault::LostResponse => {
            TransportError::retryable("connection reset after the request (injected by the mock)")
        }
        Fault::Delay(_) | Fault::Panic => unreachable!("handled by next_fault"),
    }
}

#[async_trait]
impl Transport for MockTransport {
    async fn send_batch(&self, _: &Endpoint, batch: &Batch) -> Result<(), TransportError> {
        let fault = self.next_fault().await;
        if matches!(fault, None | Some(Fault::LostResponse)) {
            let records = batch.log_records();
            self.store(|st| {
                if st.stored_keys.insert(batch.idempotency_key().to_owned()) {
                    st.batches.push(batch.clone());
                    st.records.extend(records);
                } else {
                    st.repeats_ignored += 1;
                }
            });
        }
        fault.map_or(Ok(()), |f| Err(fault_error(f)))
    }

    async fn create_flow(&self, _: &Endpoint, name: &str) -> Result<String, TransportError> {
        if let Some(fault) = self.next_fault().await {
            return Err(fault_error(fault));
        }
        let id = format!("{name}-{:08x}", fastrand_u32());
        self.store(|st| {
            st.flows.push(CreatedFlow {
                name: name.to_owned(),
                id: id.clone(),
            })
        });
        Ok(id)
    }

    async fn ingest_raw(&self, _: &Endpoint, raw: RawRequest<'_>) -> Result<(), TransportError> {
        if let Some(fault) = self.next_fault().await {
            return Err(fault_error(fault));
        }
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

/// A server-style id suffix without pulling in an RNG crate: the low bits
/// of a hashed instant are random enough for test ids.
fn fastrand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish() as u32
}
