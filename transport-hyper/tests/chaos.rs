//! Chaos suite: producer threads and shared flows log through the HTTPS
//! transport to the real ingest server while a random fault schedule runs:
//! 500s, 429 with Retry-After, delays past the request timeout, hang-ups,
//! connection resets before and after the server stored a batch (a TCP proxy
//! inside the test), and restarts of the server on the same port.
//!
//! At the end every accepted record must be stored exactly once, in order
//! per producer and per flow, flow steps must run 0..n without gaps, the
//! counters must add up, nothing may have panicked, and no log call may have
//! come close to a network delay.
//!
//! `TIMBER_CHAOS_SECS` sets the length of the chaos phase (default 60);
//! `cargo xtask soak --minutes N` runs it longer in release.
//! `TIMBER_CHAOS_SEED` replays a fault schedule (thread timing still varies);
//! `TIMBER_CHAOS_RATE` sets records/s per producer (default 500).

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use timber_core::transport::{async_trait, Batch, Endpoint, RawRequest, Transport, TransportError};
use timber_core::{Client, Error, Flow, Level, LogEntry, RetryPolicy, WeakClient};
use timber_ingest_server::{IngestServer, Misbehave, ServerConfig, TlsIdentity};
use timber_transport_hyper::HyperTransport;

const PRODUCERS: usize = 4;
/// Flows shared by all producers at any moment (each replaced when nearly full).
const FLOW_SLOTS: usize = 3;
/// Records per second per producer (`TIMBER_CHAOS_RATE` overrides): paced
/// so that the queue absorbs every stall of the schedule (an overflow would
/// still be accounted exactly).
const RATE_PER_PRODUCER: f64 = 500.0;
/// A flow is replaced at this step: the protocol allows 0..=1000, and the
/// producers racing past the check add at most one step each.
const ROTATE_AT: u32 = 900;
const BATCH: usize = 100;
/// Batches on their way at once (the default).
const IN_FLIGHT: usize = 4;
const QUEUE: usize = 200_000;
const REQUEST_TIMEOUT: Duration = Duration::from_millis(500);
/// The smallest network delay the schedule injects (server delays, well past
/// the request timeout); a log call must stay far below it.
const DELAY: Duration = Duration::from_secs(2);
/// Generous bounds that only a hang would break.
const HANG: Duration = Duration::from_secs(60);
const PARK_TIMEOUT: Duration = Duration::from_secs(10);
/// A chunk at least this large from the client is (part of) a request: TLS
/// handshake messages and HTTP/2 control frames are far smaller, a batch of
/// 100 records far larger.
const REQUEST_BYTES: usize = 2048;
/// Sentinels in the compact record tables.
const NO_FLOW: u32 = u32::MAX;
const UNKNOWN_FLOW: u32 = u32::MAX - 1;
const REFUSED: u32 = u32::MAX - 2;
const NO_STEP: u32 = u32::MAX;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// xorshift64*: enough randomness for a fault schedule, reproducible by seed.
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

    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.below(hi - lo + 1))
    }
}

/// Runs `f` on its own thread and fails the test if it takes longer than
/// `limit`: a hang detector for calls that could block forever.
fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> (T, Duration) {
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => (out, start.elapsed()),
        Err(_) => panic!("{what} did not return within {limit:?}: hang"),
    }
}

// --- caller-side latency ----------------------------------------------------

/// A histogram of call durations in 10 µs buckets up to 1 s, plus the exact worst.
struct Latencies {
    buckets: Vec<u64>,
    worst: Duration,
    count: u64,
}

impl Latencies {
    const BUCKET_NS: u128 = 10_000;

    fn new() -> Self {
        Latencies {
            buckets: vec![0; 100_001],
            worst: Duration::ZERO,
            count: 0,
        }
    }

    fn add(&mut self, d: Duration) {
        let i = (d.as_nanos() / Self::BUCKET_NS).min(self.buckets.len() as u128 - 1) as usize;
        self.buckets[i] += 1;
        self.worst = self.worst.max(d);
        self.count += 1;
    }

    fn merge(&mut self, other: &Latencies) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.worst = self.worst.max(other.worst);
        self.count += other.count;
    }

    /// The upper edge of the bucket holding quantile `q`.
    fn quantile(&self, q: f64) -> Duration {
        let target = ((self.count as f64) * q).ceil() as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= target.max(1) {
                return Duration::from_nanos(((i as u128 + 1) * Self::BUCKET_NS) as u64)
                    .min(self.worst);
            }
        }
        self.worst
    }
}

// --- the transport probe ----------------------------------------------------

/// Wraps the real transport: counts what goes through it, remembers in
/// which batch (by order of first sending) each record went, and lets the
/// schedule hold back *new* batches, so that a restart happens only when
/// every batch sent so far was acknowledged (the restarted server forgets
/// idempotency keys; a batch stored but not acknowledged before a restart
/// would honestly be stored twice).
struct Probe {
    inner: HyperTransport,
    gate: Mutex<Gate>,
    changed: Condvar,
}

#[derive(Default)]
struct Gate {
    /// Index of first sending by the client, by batch key: the order the
    /// client sent its batches in. Taken before the gate, which may let
    /// them through in another order (as a network may): the gate can open
    /// while the worker is between polling one batch and the next.
    order: HashMap<String, u64>,
    /// Keys that went through the gate once: their retries are not held.
    sent: HashSet<String>,
    /// Keys sent and not acknowledged yet.
    unacked: HashSet<String>,
    /// The batch index each record went in, by (producer, seq).
    batch_of: HashMap<(u32, u64), u64>,
    hold: bool,
    /// Whether a new batch waits at the gate with every earlier one acknowledged.
    parked: bool,
    waiting: Vec<Waker>,
    calls: u64,
    record_sends: u64,
    record_failures: u64,
    timeouts: u64,
}

impl Gate {
    fn update_parked(&mut self) {
        self.parked = self.hold && !self.waiting.is_empty() && self.unacked.is_empty();
    }
}

impl Probe {
    fn new(inner: HyperTransport) -> Self {
        Probe {
            inner,
            gate: Mutex::default(),
            changed: Condvar::new(),
        }
    }

    fn hold(&self, hold: bool) {
        let mut gate = lock(&self.gate);
        gate.hold = hold;
        gate.update_parked();
        if !hold {
            gate.waiting.drain(..).for_each(Waker::wake);
        }
        self.changed.notify_all();
    }

    /// Waits until a new batch is held at the gate and every batch sent
    /// before it was acknowledged.
    fn wait_parked(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut gate = lock(&self.gate);
        while !gate.parked {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            gate = self
                .changed
                .wait_timeout(gate, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    fn counts(&self) -> (u64, u64, u64, u64) {
        let gate = lock(&self.gate);
        (
            gate.calls,
            gate.record_sends,
            gate.record_failures,
            gate.timeouts,
        )
    }

    fn batch_of(&self, producer: u32, seq: u64) -> Option<u64> {
        lock(&self.gate).batch_of.get(&(producer, seq)).copied()
    }
}

#[async_trait]
impl Transport for Probe {
    async fn send_batch(&self, endpoint: &Endpoint, batch: &Batch) -> Result<(), TransportError> {
        let n = batch.len() as u64;
        let key = batch.idempotency_key();
        {
            let mut gate = lock(&self.gate);
            if !gate.order.contains_key(key) {
                let index = gate.order.len() as u64;
                gate.order.insert(key.to_owned(), index);
                for record in batch.records() {
                    if let Some(id) = parse_id(record.message()) {
                        gate.batch_of.insert(id, index);
                    }
                }
            }
        }
        // A new batch waits while the schedule holds; it waits as a future,
        // so the worker goes on polling the batches in flight.
        std::future::poll_fn(|cx| {
            let mut gate = lock(&self.gate);
            if gate.sent.contains(key) || !gate.hold {
                return Poll::Ready(());
            }
            gate.waiting.push(cx.waker().clone());
            gate.update_parked();
            self.changed.notify_all();
            Poll::Pending
        })
        .await;
        {
            let mut gate = lock(&self.gate);
            gate.sent.insert(key.to_owned());
            gate.unacked.insert(key.to_owned());
            gate.calls += 1;
            gate.record_sends += n;
        }
        let result = self.inner.send_batch(endpoint, batch).await;
        let mut gate = lock(&self.gate);
        match &result {
            Ok(()) => {
                gate.unacked.remove(key);
            }
            Err(e) => {
                gate.record_failures += n;
                // Injected delays show up here: the server drops a request
                // whose stream the client reset, so it never counts them.
                gate.timeouts += u64::from(e.message().contains("timed out"));
            }
        }
        gate.update_parked();
        self.changed.notify_all();
        result
    }

    async fn create_flow(&self, endpoint: &Endpoint, name: &str) -> Result<String, TransportError> {
        self.inner.create_flow(endpoint, name).await
    }

    async fn ingest_raw(
        &self,
        endpoint: &Endpoint,
        raw: RawRequest<'_>,
    ) -> Result<(), TransportError> {
        self.inner.ingest_raw(endpoint, raw).await
    }
}

// --- the fault-injecting TCP proxy ------------------------------------------

/// A TCP proxy between the client and the server; TLS passes through
/// untouched. Armed resets cut the next request: "before" closes the
/// connection instead of forwarding the request, "after" forwards it and
/// closes the connection when the answer starts coming back.
struct Proxy {
    addr: SocketAddr,
    shared: Arc<ProxyShared>,
    acceptor: Option<JoinHandle<()>>,
}

struct ProxyShared {
    upstream: SocketAddr,
    /// Set while the server is restarting: connections are closed at once
    /// (and the closed port is never dialled, so no TCP self-connect can
    /// take it).
    down: AtomicBool,
    stop: AtomicBool,
    reset_before: AtomicU32,
    reset_after: AtomicU32,
    hit_before: AtomicU64,
    hit_after: AtomicU64,
    refused: AtomicU64,
    connections: AtomicU64,
}

struct Link {
    client: TcpStream,
    server: TcpStream,
    /// A request went up since the last bytes came down.
    request_up: AtomicBool,
}

impl Link {
    fn cut(&self) {
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
    }
}

fn take_one(armed: &AtomicU32) -> bool {
    armed
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

impl Proxy {
    fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(ProxyShared {
            upstream,
            down: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            reset_before: AtomicU32::new(0),
            reset_after: AtomicU32::new(0),
            hit_before: AtomicU64::new(0),
            hit_after: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            connections: AtomicU64::new(0),
        });
        let accepting = shared.clone();
        let acceptor = thread::Builder::new()
            .name("chaos-proxy".into())
            .spawn(move || accept_loop(listener, accepting))
            .expect("spawn the proxy");
        Proxy {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    fn arm_before(&self, n: u32) {
        self.shared.reset_before.fetch_add(n, Ordering::SeqCst);
    }

    fn arm_after(&self, n: u32) {
        self.shared.reset_after.fetch_add(n, Ordering::SeqCst);
    }

    fn disarm(&self) {
        self.shared.reset_before.store(0, Ordering::SeqCst);
        self.shared.reset_after.store(0, Ordering::SeqCst);
    }

    fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    fn stop(mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<ProxyShared>) {
    for client in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        shared.connections.fetch_add(1, Ordering::Relaxed);
        if shared.down.load(Ordering::SeqCst) {
            shared.refused.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let server = match TcpStream::connect_timeout(&shared.upstream, Duration::from_secs(1)) {
            Ok(s) if s.local_addr().ok() != s.peer_addr().ok() => s,
            _ => {
                shared.refused.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let link = Arc::new(Link {
            client,
            server,
            request_up: AtomicBool::new(false),
        });
        let (up, down) = (link.clone(), shared.clone());
        let spawned = thread::Builder::new()
            .name("chaos-proxy-up".into())
            .spawn(move || pump_up(&up, &down))
            .and_then(|_| {
                let (link, shared) = (link.clone(), shared.clone());
                thread::Builder::new()
                    .name("chaos-proxy-down".into())
                    .spawn(move || pump_down(&link, &shared))
            });
        if spawned.is_err() {
            link.cut();
        }
    }
}

/// Client to server.
fn pump_up(link: &Link, shared: &ProxyShared) {
    let mut buf = vec![0; 64 * 1024];
    let mut first = true;
    loop {
        let n = match (&link.client).read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        // The first chunk is the TLS ClientHello, never a request.
        let request = !std::mem::take(&mut first) && n >= REQUEST_BYTES;
        if request && take_one(&shared.reset_before) {
            shared.hit_before.fetch_add(1, Ordering::Relaxed);
            break;
        }
        if (&link.server).write_all(&buf[..n]).is_err() {
            break;
        }
        if request {
            link.request_up.store(true, Ordering::SeqCst);
        }
    }
    link.cut();
}

/// Server to client.
fn pump_down(link: &Link, shared: &ProxyShared) {
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = match (&link.server).read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if link.request_up.swap(false, Ordering::SeqCst) && take_one(&shared.reset_after) {
            shared.hit_after.fetch_add(1, Ordering::Relaxed);
            break;
        }
        if (&link.client).write_all(&buf[..n]).is_err() {
            break;
        }
    }
    link.cut();
}

// --- flows, producers, what the server stored -------------------------------

/// Every flow ever created, by id, so that stored records can be matched
/// compactly.
#[derive(Default)]
struct Flows {
    ids: Mutex<(Vec<String>, HashMap<String, u32>)>,
}

impl Flows {
    fn register(&self, id: &str) -> u32 {
        let mut ids = lock(&self.ids);
        let index = ids.0.len() as u32;
        ids.0.push(id.to_owned());
        ids.1.insert(id.to_owned(), index);
        index
    }

    fn index(&self, id: &str) -> u32 {
        lock(&self.ids).1.get(id).copied().unwrap_or(UNKNOWN_FLOW)
    }

    fn len(&self) -> usize {
        lock(&self.ids).0.len()
    }

    fn id(&self, index: u32) -> String {
        lock(&self.ids)
            .0
            .get(index as usize)
            .cloned()
            .unwrap_or_default()
    }
}

/// One of the flows the producers share; replaced when nearly full.
struct FlowSlot {
    name: String,
    current: Mutex<(Flow, u32)>,
}

impl FlowSlot {
    fn new(client: &Client, flows: &Flows, slot: usize) -> Self {
        let name = format!("chaos{slot}");
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
            // Registered before any record of it can be logged.
            let index = flows.register(flow.id());
            *current = (flow, index);
        }
        current.clone()
    }
}

/// What one producer did.
struct Produced {
    /// By sequence number: the flow of the accepted record, `NO_FLOW`, or `REFUSED`.
    by_seq: Vec<u32>,
    queue_full: u64,
    other_refusals: Vec<String>,
    latencies: Latencies,
}

fn produce(
    producer: usize,
    client: &Client,
    slots: &[FlowSlot],
    flows: &Flows,
    stop: &AtomicBool,
    rate: f64,
) -> Produced {
    let mut out = Produced {
        by_seq: Vec::new(),
        queue_full: 0,
        other_refusals: Vec::new(),
        latencies: Latencies::new(),
    };
    let start = Instant::now();
    let mut seq: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        let due = start + Duration::from_secs_f64(seq as f64 / rate);
        let now = Instant::now();
        if due > now {
            thread::sleep(due - now);
        }
        let slot = (seq as usize + producer) % (FLOW_SLOTS + 1);
        let flow = slots.get(slot).map(|s| s.get(client, flows));
        let entry = LogEntry::new(Level::ALL[seq as usize % 4], format!("p{producer}-{seq}"))
            .data(json!({
                "producer": producer,
                "seq": seq,
                "flow": flow.as_ref().map(|(f, _)| f.id()),
            }))
            .tags(["chaos"]);
        let start_call = Instant::now();
        let result = match &flow {
            Some((flow, _)) => flow.try_log(entry),
            None => client.try_log(entry),
        };
        out.latencies.add(start_call.elapsed());
        out.by_seq.push(match result {
            Ok(()) => flow.map_or(NO_FLOW, |(_, index)| index),
            Err(Error::QueueFull { .. }) => {
                out.queue_full += 1;
                REFUSED
            }
            Err(e) => {
                out.other_refusals.push(e.to_string());
                REFUSED
            }
        });
        seq += 1;
    }
    out
}

/// A stored record, compactly: who logged it, its flow and step, and the
/// batch it went in (by order of first sending).
struct Stored {
    producer: u32,
    seq: u64,
    flow: u32,
    step: u32,
    batch: u64,
}

fn parse_id(message: &str) -> Option<(u32, u64)> {
    let (p, seq) = message.strip_prefix('p')?.split_once('-')?;
    Some((p.parse().ok()?, seq.parse().ok()?))
}

/// What the schedule did and what the servers saw.
#[derive(Default)]
struct Tally {
    injected_500: u64,
    injected_429: u64,
    injected_delay: u64,
    injected_hangup: u64,
    injected_stalled_body: u64,
    injected_late_answer: u64,
    injected_before: u64,
    injected_after: u64,
    hit_500: u64,
    hit_429: u64,
    hit_hangup: u64,
    hit_before: u64,
    hit_after: u64,
    proxy_connections: u64,
    proxy_refused: u64,
    duplicates_absorbed: u64,
    server_connections: u64,
    restarts: u64,
    restarts_skipped: u64,
    problems: Vec<String>,
}

fn start_server(identity: &TlsIdentity, port: u16) -> IngestServer {
    let mut last = None;
    // The port was just released: rebinding can take a moment.
    for _ in 0..50 {
        let config = ServerConfig::new(common::KEY)
            .tls(identity.clone())
            .port(port)
            .worker_threads(2)
            .idempotency_window(100_000)
            // Every record is checked; restarts bound what one instance holds.
            .keep_records(usize::MAX);
        match IngestServer::start(config) {
            Ok(server) => return server,
            Err(e) => last = Some(e),
        }
        thread::sleep(Duration::from_millis(100));
    }
    panic!("cannot start the server on port {port}: {last:?}");
}

/// Takes what a server instance stored, then stops it. Only called when no
/// unacknowledged batch can still be stored by it.
fn retire(
    server: IngestServer,
    probe: &Probe,
    flows: &Flows,
    stored: &mut Vec<Stored>,
    tally: &mut Tally,
) {
    let records = server.records();
    let summary = server.summary();
    let requests = server.requests();
    server.shutdown();
    if summary.records != records.len() as u64 {
        tally.problems.push(format!(
            "a server instance stored records while being retired ({} counted, {} taken)",
            summary.records,
            records.len()
        ));
    }
    let count = |status: Option<u16>| requests.iter().filter(|r| r.status == status).count() as u64;
    let (s500, s429, hangups) = (count(Some(500)), count(Some(429)), count(None));
    tally.hit_500 += s500;
    tally.hit_429 += s429;
    tally.hit_hangup += hangups;
    tally.duplicates_absorbed += summary.duplicate_batches;
    tally.server_connections += summary.connections;
    stored.extend(records.into_iter().map(|r| {
        let (producer, seq) = parse_id(&r.message).unwrap_or((u32::MAX, 0));
        Stored {
            producer,
            seq,
            flow: r.flow_id.as_deref().map_or(NO_FLOW, |id| flows.index(id)),
            step: r.step_index.unwrap_or(NO_STEP),
            batch: probe.batch_of(producer, seq).unwrap_or(u64::MAX),
        }
    }));
}

/// Every accepted record stored exactly once, nothing else stored; taken
/// batch by batch in the order the batches were sent, the records are in
/// order per producer and per flow, with steps 0..n per flow; and a batch
/// was stored after at most `in_flight - 1` batches sent after it. Returns
/// what is wrong.
fn verify(
    produced: &[Produced],
    stored: &[Stored],
    flows: &Flows,
    in_flight: usize,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut problem = |p: String| {
        if problems.len() < 30 {
            problems.push(p);
        }
    };
    let mut seen_batches: Vec<u64> = Vec::new();
    for r in stored {
        if r.batch == u64::MAX {
            problem(format!(
                "p{}-{} was stored but never sent",
                r.producer, r.seq
            ));
        } else if seen_batches.last() != Some(&r.batch) && !seen_batches.contains(&r.batch) {
            let overtaken_by = seen_batches.iter().filter(|b| **b > r.batch).count();
            if overtaken_by >= in_flight {
                problem(format!(
                    "batch {} stored after {overtaken_by} batches sent after it (window {in_flight})",
                    r.batch
                ));
            }
            seen_batches.push(r.batch);
        }
    }
    let mut in_send_order: Vec<&Stored> = stored.iter().collect();
    in_send_order.sort_by_key(|r| r.batch);
    let stored = in_send_order;
    let mut seen: Vec<Vec<u8>> = produced.iter().map(|p| vec![0; p.by_seq.len()]).collect();
    let mut last_seq: Vec<Option<u64>> = vec![None; produced.len()];
    let mut next_step: Vec<u32> = vec![0; flows.len()];
    let mut last_in_flow: HashMap<(u32, u32), u64> = HashMap::new();
    for r in stored.iter().copied() {
        let p = r.producer as usize;
        let Some(expected) = produced.get(p).and_then(|x| x.by_seq.get(r.seq as usize)) else {
            problem(format!(
                "stored a record nobody logged: p{}-{}",
                r.producer, r.seq
            ));
            continue;
        };
        let id = format!("p{p}-{}", r.seq);
        if *expected == REFUSED {
            problem(format!("{id} was refused by the client but stored"));
            continue;
        }
        seen[p][r.seq as usize] += 1;
        if seen[p][r.seq as usize] > 1 {
            problem(format!("{id} stored {} times", seen[p][r.seq as usize]));
            continue;
        }
        if last_seq[p].is_some_and(|last| last > r.seq) {
            problem(format!(
                "{id} stored after p{p}-{} (producer order broken)",
                last_seq[p].unwrap_or_default()
            ));
        }
        last_seq[p] = Some(r.seq);
        if r.flow != *expected {
            problem(format!(
                "{id}: flow {:?} stored, {:?} logged",
                flows.id(r.flow),
                flows.id(*expected)
            ));
            continue;
        }
        if r.flow == NO_FLOW {
            if r.step != NO_STEP {
                problem(format!("{id}: a step index outside any flow"));
            }
            continue;
        }
        let want = &mut next_step[r.flow as usize];
        if r.step != *want {
            problem(format!(
                "{id}: flow {} step {} stored where step {} was due",
                flows.id(r.flow),
                r.step,
                want
            ));
        }
        *want = r.step.saturating_add(1);
        if let Some(last) = last_in_flow.insert((r.flow, r.producer), r.seq) {
            if last > r.seq {
                problem(format!(
                    "{id}: before p{p}-{last} in flow {} (per-producer flow order broken)",
                    flows.id(r.flow)
                ));
            }
        }
    }
    let mut per_flow = vec![0u32; flows.len()];
    for (p, produced) in produced.iter().enumerate() {
        for (seq, flow) in produced.by_seq.iter().enumerate() {
            if *flow == REFUSED {
                continue;
            }
            if *flow != NO_FLOW {
                per_flow[*flow as usize] += 1;
            }
            if seen[p][seq] == 0 {
                problem(format!("p{p}-{seq} was accepted but never stored"));
            }
        }
    }
    for (i, (n, got)) in per_flow.iter().zip(&next_step).enumerate() {
        if n != got {
            problem(format!(
                "flow {}: {n} records logged, steps 0..{got} stored",
                flows.id(i as u32)
            ));
        }
    }
    problems
}

/// Errors the client reported through `on_error`, and the client (weakly,
/// so that the callback does not keep it alive).
#[derive(Default)]
struct Reports {
    undelivered: AtomicU64,
    queue_full: AtomicU64,
    other: Mutex<Vec<String>>,
    client: Mutex<Option<WeakClient>>,
}

#[test]
fn every_record_is_stored_once_in_order_under_a_random_fault_schedule() {
    let secs: u64 = std::env::var("TIMBER_CHAOS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("TIMBER_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let rate: f64 = std::env::var("TIMBER_CHAOS_RATE")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|r: &f64| *r > 0.0)
        .unwrap_or(RATE_PER_PRODUCER);
    eprintln!(
        "chaos: {secs} s, {rate} records/s per producer, seed {seed} \
         (TIMBER_CHAOS_SEED={seed} replays the schedule)"
    );
    let mut rng = Rng(seed | 1);

    // Any panic on any thread (worker, transport runtime, server, proxy) counts.
    let panics = Arc::new(AtomicU64::new(0));
    let counted = panics.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        counted.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));

    let identity = TlsIdentity::generate().expect("a TLS identity");
    let mut server = start_server(&identity, 0);
    let port = server.addr().port();
    let proxy = Proxy::start(server.addr());
    let transport = HyperTransport::builder()
        .add_root_certificate_pem(identity.ca_pem())
        .webpki_roots(false)
        .connect_timeout(REQUEST_TIMEOUT)
        .request_timeout(REQUEST_TIMEOUT)
        .build()
        .expect("the transport");
    let probe = Arc::new(Probe::new(transport));
    let reports = Arc::new(Reports::default());
    let sink = reports.clone();
    let client = Client::builder()
        .source("chaos")
        .api_key(common::KEY)
        .base_url(proxy.url())
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
        .queue_capacity(QUEUE)
        .shutdown_timeout(Duration::from_secs(5))
        .on_error(move |e| match e {
            Error::Undelivered { .. } => {
                sink.undelivered.fetch_add(1, Ordering::Relaxed);
                // A callback that flushes: on the worker thread it returns
                // at once rather than wait for the worker it runs on.
                let client = lock(&sink.client).as_ref().and_then(WeakClient::upgrade);
                if let Some(client) = client {
                    let _ = client.flush_timeout(Duration::from_secs(1));
                }
            }
            Error::QueueFull { .. } | Error::Dropped { .. } => {
                sink.queue_full.fetch_add(1, Ordering::Relaxed);
            }
            other => lock(&sink.other).push(other.to_string()),
        })
        .shared_transport(probe.clone() as Arc<dyn Transport>)
        .build()
        .expect("the client");
    *lock(&reports.client) = Some(client.downgrade());

    let flows = Arc::new(Flows::default());
    let slots: Arc<Vec<FlowSlot>> = Arc::new(
        (0..FLOW_SLOTS)
            .map(|i| FlowSlot::new(&client, &flows, i))
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let producers: Vec<JoinHandle<Produced>> = (0..PRODUCERS)
        .map(|p| {
            let (client, slots, flows, stop) =
                (client.clone(), slots.clone(), flows.clone(), stop.clone());
            thread::Builder::new()
                .name(format!("producer-{p}"))
                .spawn(move || produce(p, &client, &slots, &flows, &stop, rate))
                .expect("spawn a producer")
        })
        .collect();

    // The schedule: a fault every 50 to 400 ms, a restart every 10 to 20 s.
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let mut tally = Tally::default();
    let mut stored = Vec::new();
    let mut next_restart = started + rng.millis(5_000, 15_000);
    let mut peak_backlog = 0;
    loop {
        peak_backlog = peak_backlog.max(client.stats().pending);
        let now = Instant::now();
        if now >= until {
            break;
        }
        thread::sleep(rng.millis(50, 400).min(until - now));
        if Instant::now() >= next_restart {
            next_restart = Instant::now() + rng.millis(10_000, 20_000);
            probe.hold(true);
            if !probe.wait_parked(PARK_TIMEOUT) {
                probe.hold(false);
                tally.restarts_skipped += 1;
                continue;
            }
            proxy.set_down(true);
            retire(server, &probe, &flows, &mut stored, &mut tally);
            // The held batch now meets a server that is down.
            probe.hold(false);
            thread::sleep(rng.millis(100, 600));
            server = start_server(&identity, port);
            proxy.set_down(false);
            tally.restarts += 1;
            continue;
        }
        match rng.below(13) {
            0..=2 => {
                let n = 1 + rng.below(3);
                server.misbehave(Misbehave::status(500).times(n as u32));
                tally.injected_500 += n;
            }
            3 | 4 => {
                let n = 1 + rng.below(2);
                server.misbehave(Misbehave::status(429).retry_after("1").times(n as u32));
                tally.injected_429 += n;
            }
            5 => {
                server.misbehave(Misbehave::delay(DELAY));
                tally.injected_delay += 1;
            }
            6 => {
                server.misbehave(Misbehave::close());
                tally.injected_hangup += 1;
            }
            7 | 8 => {
                let n = 1 + rng.below(2);
                proxy.arm_before(n as u32);
                tally.injected_before += n;
            }
            11 => {
                // Stored and answered 200, but the answer's body never ends.
                server.misbehave(Misbehave::stall_body());
                tally.injected_stalled_body += 1;
            }
            12 => {
                // Stored, but answered after the client gave up: resent.
                server.misbehave(Misbehave::delay_answer(DELAY));
                tally.injected_late_answer += 1;
            }
            _ => {
                let n = 1 + rng.below(2);
                proxy.arm_after(n as u32);
                tally.injected_after += n;
            }
        }
    }
    let chaos_time = started.elapsed();
    let sent_in_chaos = client.stats().sent;

    stop.store(true, Ordering::SeqCst);
    let produced: Vec<Produced> = producers
        .into_iter()
        .map(|h| h.join().expect("a producer panicked"))
        .collect();

    // Calm: no more faults; deliver everything (a failed flush leaves the
    // batch queued, so try again).
    server.behave();
    proxy.disarm();
    let drainer = client.clone();
    let (failed_flushes, drain_time) = within(HANG, "draining", move || {
        let mut failed = 0u32;
        while drainer.flush().is_err() {
            failed += 1;
            thread::sleep(Duration::from_millis(50));
        }
        failed
    });
    let stats = client.stats();
    let closing = client.clone();
    let (closed, close_time) = within(HANG, "disconnect", move || closing.disconnect().map(|_| ()));
    retire(server, &probe, &flows, &mut stored, &mut tally);
    let hits = |a: &AtomicU64| a.load(Ordering::Relaxed);
    tally.hit_before = hits(&proxy.shared.hit_before);
    tally.hit_after = hits(&proxy.shared.hit_after);
    tally.proxy_connections = hits(&proxy.shared.connections);
    tally.proxy_refused = hits(&proxy.shared.refused);
    proxy.stop();

    // --- figures ---
    let mut latencies = Latencies::new();
    produced.iter().for_each(|p| latencies.merge(&p.latencies));
    let accepted: u64 = produced
        .iter()
        .map(|p| p.by_seq.iter().filter(|f| **f != REFUSED).count() as u64)
        .sum();
    let queue_full: u64 = produced.iter().map(|p| p.queue_full).sum();
    let other_refusals: Vec<&String> = produced.iter().flat_map(|p| &p.other_refusals).collect();
    let (calls, record_sends, record_failures, timeouts) = probe.counts();
    eprintln!(
        "chaos: {secs} s, {PRODUCERS} producers, {} flows, {} restarts ({} skipped)",
        flows.len(),
        tally.restarts,
        tally.restarts_skipped
    );
    eprintln!(
        "delivered: {sent_in_chaos} records during the chaos phase = {:.0} records/s; \
         {} in all after a {drain_time:?} drain ({failed_flushes} failed flushes); \
         peak backlog {peak_backlog} records (queue bound {QUEUE}); disconnect {close_time:?}",
        sent_in_chaos as f64 / chaos_time.as_secs_f64(),
        stats.sent
    );
    eprintln!(
        "log call: p50 {:?}, p99 {:?}, p99.9 {:?}, worst {:?} over {} calls (hang bound {:?})",
        latencies.quantile(0.5),
        latencies.quantile(0.99),
        latencies.quantile(0.999),
        latencies.worst,
        latencies.count,
        DELAY / 4
    );
    eprintln!(
        "faults injected/hit: 500 {}/{}, 429+Retry-After {}/{}, delay {:?} {}/{} (client timeouts), server hang-up {}/{}, \
         reset before forwarding {}/{}, reset after forwarding {}/{}, stalled answer body {}, late answer {}; \
         idempotent duplicates absorbed {}; \
         proxy connections {} (refused while down {}), server connections {}",
        tally.injected_500,
        tally.hit_500,
        tally.injected_429,
        tally.hit_429,
        DELAY,
        tally.injected_delay,
        timeouts,
        tally.injected_hangup,
        tally.hit_hangup,
        tally.injected_before,
        tally.hit_before,
        tally.injected_after,
        tally.hit_after,
        tally.injected_stalled_body,
        tally.injected_late_answer,
        tally.duplicates_absorbed,
        tally.proxy_connections,
        tally.proxy_refused,
        tally.server_connections,
    );
    eprintln!("stats: {stats:?}");
    eprintln!(
        "transport: {calls} calls, {record_sends} record sends, {record_failures} failed; \
         on_error: {} undelivered, {} queue full, others {:?}",
        reports.undelivered.load(Ordering::Relaxed),
        reports.queue_full.load(Ordering::Relaxed),
        lock(&reports.other)
    );

    // --- checks ---
    assert!(tally.problems.is_empty(), "{:#?}", tally.problems);
    assert!(closed.is_ok(), "disconnect after the drain: {closed:?}");
    let problems = verify(&produced, &stored, &flows, IN_FLIGHT);
    assert!(problems.is_empty(), "exactly-once/order: {problems:#?}");
    assert!(
        other_refusals.is_empty(),
        "refused calls: {other_refusals:?}"
    );
    assert_eq!(stored.len() as u64, accepted, "stored vs accepted");
    assert_eq!(stats.accepted, accepted + queue_full, "{stats:?}");
    assert_eq!(stats.dropped, queue_full, "{stats:?}");
    assert_eq!(stats.sent, accepted, "{stats:?}");
    assert_eq!(
        (
            stats.pending,
            stats.lost,
            stats.spooled,
            stats.restored,
            stats.invalid
        ),
        (0, 0, 0, 0, 0),
        "{stats:?}"
    );
    assert_eq!(
        stats.accepted + stats.restored,
        stats.sent + stats.pending + stats.dropped + stats.lost + stats.spooled
    );
    // Every record send through the transport was a first try, a retry, or
    // a final failure of its attempt (then resent later).
    assert_eq!(
        record_sends,
        stats.sent + stats.retried + stats.failed,
        "{stats:?}"
    );
    assert_eq!(record_failures, stats.retried + stats.failed, "{stats:?}");
    assert!(
        lock(&reports.other).is_empty(),
        "unexpected reports: {:?}",
        lock(&reports.other)
    );
    if secs >= 20 {
        assert!(stats.retried > 0, "the schedule injected no failure");
    }
    assert!(
        latencies.worst < DELAY / 4,
        "a log call took {:?}: the caller waited on the network",
        latencies.worst
    );
    assert_eq!(panics.load(Ordering::SeqCst), 0, "something panicked");
}
