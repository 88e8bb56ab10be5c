//! Chaos over OTLP: producer threads and shared flows log through the OTLP
//! transport to the real OTLP receiver while a random fault schedule runs
//! (503 and 429 with Retry-After, 500, 502/504, hang-ups, delays past the
//! request timeout, answers that come too late or never end), and some
//! records are rejected by the receiver in partial successes. (Bad data,
//! whose batches the client halves, is tested in `faults.rs`: the halves
//! of a refused batch go after the batches already sent, beyond the order
//! the core promises for batches it sends whole.)
//!
//! At the end every accepted record must be stored exactly once, except
//! the rejected ones, never stored; taken batch by batch in the
//! order the batches were first sent, records are in order per producer
//! and per flow, flow steps run 0..n without gaps, and a batch is stored
//! after fewer than `max_in_flight` batches sent after it; the counters add
//! up and nothing panics.
//!
//! `TIMBER_OTLP_CHAOS_SECS` sets the chaos phase (default 12);
//! `TIMBER_OTLP_CHAOS_SEED` replays a fault schedule.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::json;
use timber_core::transport::{async_trait, Batch, Endpoint, Transport, TransportError};
use timber_core::{Client, Error, Flow, Level, LogEntry, RetryPolicy};
use timber_ingest_server::{IngestServer, Misbehave, ServerConfig, TlsIdentity};
use timber_transport_otlp::{records_from, OtlpTransport};

const PRODUCERS: usize = 3;
const FLOW_SLOTS: usize = 2;
const RATE_PER_PRODUCER: f64 = 400.0;
/// A flow is replaced at this step (the protocol allows 0..=1000).
const ROTATE_AT: u32 = 900;
const BATCH: usize = 100;
const IN_FLIGHT: usize = 4;
const REQUEST_TIMEOUT: Duration = Duration::from_millis(400);
const DELAY: Duration = Duration::from_millis(1200);
/// Generous bounds that only a hang would break.
const HANG: Duration = Duration::from_secs(60);
/// Every this many plain records of a producer, one the receiver rejects
/// in a partial success.
const REJECT_EVERY: u64 = 97;

const NO_FLOW: u32 = u32::MAX;
const REFUSED: u32 = u32::MAX - 1;
const REJECTED: u32 = u32::MAX - 2;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// xorshift64*: a fault schedule reproducible by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Fails the test if `f` takes longer than `limit`: a hang detector.
fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("{what} did not return within {limit:?}: hang"))
}

/// Wraps the real transport: remembers in which batch (by order of first
/// sending) each record last went, and counts record sends.
struct Probe {
    inner: OtlpTransport,
    state: Mutex<ProbeState>,
}

#[derive(Default)]
struct ProbeState {
    sent: HashMap<String, u64>,
    batch_of: HashMap<(u32, u64), u64>,
    record_sends: u64,
    record_failures: u64,
}

fn parse_id(message: &str) -> Option<(u32, u64)> {
    let id = message.split(' ').next()?;
    let (p, seq) = id.strip_prefix('p')?.split_once('-')?;
    Some((p.parse().ok()?, seq.parse().ok()?))
}

#[async_trait]
impl Transport for Probe {
    async fn send_batch(&self, endpoint: &Endpoint, batch: &Batch) -> Result<(), TransportError> {
        {
            let mut st = lock(&self.state);
            let key = batch.idempotency_key();
            if !st.sent.contains_key(key) {
                let index = st.sent.len() as u64;
                st.sent.insert(key.to_owned(), index);
                for record in batch.records() {
                    if let Some(id) = parse_id(record.message()) {
                        st.batch_of.insert(id, index);
                    }
                }
            }
            st.record_sends += batch.len() as u64;
        }
        let result = self.inner.send_batch(endpoint, batch).await;
        if result.is_err() {
            lock(&self.state).record_failures += batch.len() as u64;
        }
        result
    }
}

/// Every flow ever created, by id.
#[derive(Default)]
struct Flows(Mutex<(Vec<String>, HashMap<String, u32>)>);

impl Flows {
    fn register(&self, id: &str) -> u32 {
        let mut ids = lock(&self.0);
        let index = ids.0.len() as u32;
        ids.0.push(id.to_owned());
        ids.1.insert(id.to_owned(), index);
        index
    }

    fn index(&self, id: &str) -> u32 {
        lock(&self.0).1.get(id).copied().unwrap_or(REFUSED)
    }

    fn len(&self) -> usize {
        lock(&self.0).0.len()
    }
}

struct FlowSlot {
    name: String,
    current: Mutex<(Flow, u32)>,
}

impl FlowSlot {
    fn new(client: &Client, flows: &Flows, slot: usize) -> Self {
        let name = format!("otlp{slot}");
        let flow = client.flow(&name).expect("a valid flow name");
        let index = flows.register(flow.id());
        FlowSlot {
            name,
            current: Mutex::new((flow, index)),
        }
    }

    fn get(&self, client: &Client, flows: &Flows) -> (Flow, u32) {
        let mut current = lock(&self.current);
        if current.0.next_step() >= ROTATE_AT {
            let flow = client.flow(&self.name).expect("a valid flow name");
            let index = flows.register(flow.id());
            *current = (flow, index);
        }
        current.clone()
    }
}

/// By sequence number: the flow of the accepted record, `NO_FLOW`,
/// `REJECTED`, or `REFUSED` (by the client).
fn produce(
    producer: usize,
    client: &Client,
    slots: &[FlowSlot],
    flows: &Flows,
    stop: &AtomicBool,
) -> Vec<u32> {
    let mut by_seq = Vec::new();
    let start = Instant::now();
    let mut seq: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        let due = start + Duration::from_secs_f64(seq as f64 / RATE_PER_PRODUCER);
        let now = Instant::now();
        if due > now {
            thread::sleep(due - now);
        }
        let slot = (seq as usize + producer) % (FLOW_SLOTS + 1);
        let flow = slots.get(slot).map(|s| s.get(client, flows));
        let (suffix, mark) = match (&flow, seq % REJECT_EVERY) {
            (None, 0) => (" reject-me", REJECTED),
            _ => ("", NO_FLOW),
        };
        let entry = LogEntry::new(
            Level::ALL[seq as usize % 4],
            format!("p{producer}-{seq}{suffix}"),
        )
        .data(json!({"producer": producer, "seq": seq}))
        .tags(["chaos"]);
        let result = match &flow {
            Some((flow, _)) => flow.try_log(entry),
            None => client.try_log(entry),
        };
        by_seq.push(match (result, &flow) {
            (Ok(()), Some((_, index))) => *index,
            (Ok(()), None) => mark,
            (Err(_), _) => REFUSED,
        });
        seq += 1;
    }
    by_seq
}

/// A stored record, compactly.
struct Stored {
    producer: u32,
    seq: u64,
    flow: u32,
    step: Option<u32>,
    batch: u64,
}

fn verify(produced: &[Vec<u32>], stored: &[Stored], flows: &Flows) -> Vec<String> {
    let mut problems = Vec::new();
    let mut problem = |p: String| {
        if problems.len() < 30 {
            problems.push(p);
        }
    };
    // Overtaking: a batch stored after fewer than IN_FLIGHT later ones.
    let mut seen_batches: Vec<u64> = Vec::new();
    for r in stored {
        if r.batch == u64::MAX {
            problem(format!("p{}-{} stored but never sent", r.producer, r.seq));
        } else if seen_batches.last() != Some(&r.batch) && !seen_batches.contains(&r.batch) {
            let overtaken_by = seen_batches.iter().filter(|b| **b > r.batch).count();
            if overtaken_by >= IN_FLIGHT {
                problem(format!(
                    "batch {} stored after {overtaken_by} later batches",
                    r.batch
                ));
            }
            seen_batches.push(r.batch);
        }
    }
    let mut in_send_order: Vec<&Stored> = stored.iter().collect();
    in_send_order.sort_by_key(|r| r.batch);
    let mut count: Vec<Vec<u8>> = produced.iter().map(|p| vec![0; p.len()]).collect();
    let mut last_seq: Vec<Option<u64>> = vec![None; produced.len()];
    let mut next_step = vec![0u32; flows.len()];
    for r in in_send_order {
        let p = r.producer as usize;
        let Some(expected) = produced.get(p).and_then(|x| x.get(r.seq as usize)) else {
            problem(format!(
                "stored a record nobody logged: p{}-{}",
                r.producer, r.seq
            ));
            continue;
        };
        let id = format!("p{p}-{}", r.seq);
        if matches!(*expected, REFUSED | REJECTED) {
            problem(format!("{id} ({expected}) was stored"));
            continue;
        }
        count[p][r.seq as usize] += 1;
        if count[p][r.seq as usize] > 1 {
            problem(format!("{id} stored twice"));
            continue;
        }
        if last_seq[p].is_some_and(|last| last > r.seq) {
            problem(format!("{id} stored after p{p}-{:?}", last_seq[p]));
        }
        last_seq[p] = Some(r.seq);
        if r.flow != *expected {
            problem(format!("{id}: flow {} stored, {} logged", r.flow, expected));
            continue;
        }
        if r.flow == NO_FLOW {
            continue;
        }
        let want = &mut next_step[r.flow as usize];
        if r.step != Some(*want) {
            problem(format!("{id}: step {:?} where {want} was due", r.step));
        }
        *want = r.step.unwrap_or(*want).saturating_add(1);
    }
    let mut per_flow = vec![0u32; flows.len()];
    for (p, by_seq) in produced.iter().enumerate() {
        for (seq, flow) in by_seq.iter().enumerate() {
            if matches!(*flow, REFUSED | REJECTED) {
                continue;
            }
            if *flow != NO_FLOW {
                per_flow[*flow as usize] += 1;
            }
            if count[p][seq] == 0 {
                problem(format!("p{p}-{seq} was accepted but never stored"));
            }
        }
    }
    for (i, (n, got)) in per_flow.iter().zip(&next_step).enumerate() {
        if n != got {
            problem(format!(
                "flow {i}: {n} records logged, steps 0..{got} stored"
            ));
        }
    }
    problems
}

#[test]
fn every_record_is_stored_once_in_order_over_otlp_under_random_faults() {
    let secs: u64 = std::env::var("TIMBER_OTLP_CHAOS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let seed: u64 = std::env::var("TIMBER_OTLP_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("otlp chaos: {secs} s, seed {seed} (TIMBER_OTLP_CHAOS_SEED={seed} replays it)");
    let mut rng = Rng(seed | 1);

    let panics = Arc::new(AtomicU64::new(0));
    let counted = panics.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        counted.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));

    let identity = TlsIdentity::generate().expect("a TLS identity");
    let server = IngestServer::start(
        ServerConfig::new(KEY)
            .otlp()
            .tls(identity.clone())
            .worker_threads(2)
            .idempotency_window(100_000)
            .keep_records(usize::MAX)
            .otlp_reject_containing("reject-me"),
    )
    .expect("the receiver");
    let transport = OtlpTransport::builder()
        .http(
            http_for(&server)
                .connect_timeout(REQUEST_TIMEOUT)
                .request_timeout(REQUEST_TIMEOUT),
        )
        .build()
        .expect("the transport");
    let probe = Arc::new(Probe {
        inner: transport.clone(),
        state: Mutex::default(),
    });
    let other_errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = other_errors.clone();
    let client = Client::builder()
        .source("otlp-chaos")
        .api_key(KEY)
        .base_url(server.url())
        .retry(RetryPolicy {
            max_retries: 8,
            initial_delay: Duration::from_millis(5),
            multiplier: 2.0,
            max_delay: Duration::from_millis(100),
            jitter: true,
        })
        .batch_size(BATCH)
        .max_in_flight(IN_FLIGHT)
        .flush_interval(Duration::from_millis(100))
        .queue_capacity(200_000)
        .shutdown_timeout(Duration::from_secs(5))
        .on_error(move |e| match e {
            // Failed attempts: the batch is kept and sent again.
            Error::Undelivered { .. } => {}
            other => lock(&sink).push(other.to_string()),
        })
        .shared_transport(probe.clone() as Arc<dyn Transport>)
        .build()
        .expect("the client");

    let flows = Arc::new(Flows::default());
    let slots: Arc<Vec<FlowSlot>> = Arc::new(
        (0..FLOW_SLOTS)
            .map(|i| FlowSlot::new(&client, &flows, i))
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let (client, slots, flows, stop) =
                (client.clone(), slots.clone(), flows.clone(), stop.clone());
            thread::spawn(move || produce(p, &client, &slots, &flows, &stop))
        })
        .collect();

    let until = Instant::now() + Duration::from_secs(secs);
    let mut injected = [0u64; 8];
    while Instant::now() < until {
        thread::sleep(Duration::from_millis(50 + rng.below(250)));
        let pick = rng.below(8) as usize;
        injected[pick] += 1;
        server.misbehave(match pick {
            0 => Misbehave::status(503)
                .retry_after("0")
                .times(1 + rng.below(3) as u32),
            1 => Misbehave::status(429).retry_after("0"),
            2 => Misbehave::status(500),
            3 => Misbehave::status([502, 504][rng.below(2) as usize]),
            4 => Misbehave::close(),
            5 => Misbehave::delay(DELAY),
            6 => Misbehave::delay_answer(DELAY),
            _ => Misbehave::stall_body(),
        });
    }
    stop.store(true, Ordering::SeqCst);
    let produced: Vec<Vec<u32>> = producers
        .into_iter()
        .map(|h| h.join().expect("a producer panicked"))
        .collect();

    server.behave();
    let drainer = client.clone();
    let failed_flushes = within(HANG, "draining", move || {
        let mut failed = 0u32;
        while drainer.flush().is_err() {
            failed += 1;
            thread::sleep(Duration::from_millis(50));
        }
        failed
    });
    let closing = client.clone();
    let closed = within(HANG, "disconnect", move || closing.disconnect().map(|_| ()));
    let stats = client.stats();

    let mut stored = Vec::new();
    {
        let st = lock(&probe.state);
        for request in server.otlp_requests() {
            for r in records_from(&request) {
                let (producer, seq) = parse_id(&r.message).unwrap_or((u32::MAX, 0));
                stored.push(Stored {
                    producer,
                    seq,
                    flow: r.flow_id.as_deref().map_or(NO_FLOW, |id| flows.index(id)),
                    step: r.step_index,
                    batch: st
                        .batch_of
                        .get(&(producer, seq))
                        .copied()
                        .unwrap_or(u64::MAX),
                });
            }
        }
    }
    let count = |mark: u32| produced.iter().flatten().filter(|f| **f == mark).count() as u64;
    let (rejected, refused) = (count(REJECTED), count(REFUSED));
    let accepted: u64 = produced.iter().map(|p| p.len() as u64).sum::<u64>() - refused;
    let (record_sends, record_failures) = {
        let st = lock(&probe.state);
        (st.record_sends, st.record_failures)
    };
    let summary = server.summary();
    eprintln!(
        "otlp chaos: {accepted} records accepted ({rejected} to reject), {} flows, \
         {} stored, {failed_flushes} failed flushes; faults injected \
         [503, 429, 500, 502/504, hang-up, delay, late answer, stalled body] = {injected:?}; \
         receiver: {} requests, {} duplicates absorbed; {} rejected in partial successes",
        flows.len(),
        stored.len(),
        summary.requests,
        summary.duplicate_batches,
        transport.rejected_records(),
    );
    eprintln!("stats: {stats:?}; transport: {record_sends} record sends, {record_failures} failed");

    assert!(closed.is_ok(), "disconnect after the drain: {closed:?}");
    let problems = verify(&produced, &stored, &flows);
    assert!(problems.is_empty(), "exactly-once/order: {problems:#?}");
    assert_eq!(refused, 0, "the client refused calls");
    assert_eq!(stored.len() as u64, accepted - rejected);
    // Each rejection is reported once, unless the answer that reported it
    // never arrived whole (a stalled body: the request was delivered, the
    // count unknown).
    assert!(transport.rejected_records() <= rejected);
    assert!(transport.rejected_records() > 0 || rejected == 0);
    assert_eq!(stats.accepted, accepted);
    assert_eq!(stats.sent, accepted, "{stats:?}");
    assert_eq!(
        (stats.pending, stats.dropped, stats.lost, stats.spooled),
        (0, 0, 0, 0),
        "{stats:?}"
    );
    // Every record send was a first try, a retry, or a failure of its
    // attempt (then resent later).
    assert_eq!(
        record_sends,
        stats.sent + stats.retried + stats.failed,
        "{stats:?}"
    );
    assert_eq!(record_failures, stats.retried + stats.failed, "{stats:?}");
    assert!(lock(&other_errors).is_empty(), "{:?}", lock(&other_errors));
    assert_eq!(panics.load(Ordering::SeqCst), 0, "something panicked");
}
