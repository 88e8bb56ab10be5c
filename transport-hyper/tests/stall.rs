//! With the real server hung over HTTPS, a producer logging as fast as it can
//! keeps memory within the queue bound plus a fixed overhead, drops are
//! counted and reported once per burst, and `disconnect()` returns within the
//! shutdown timeout, reporting what was lost. (core/tests/memory.rs checks
//! the same against the mock transport.)
//!
//! One test in its own binary, so that no other test moves the RSS.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use timber_core::{Client, Error};
use timber_ingest_server::Misbehave;

/// (current, peak) resident set in KiB, from /proc (Linux).
fn rss_kib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Call durations in 1 µs buckets up to 100 ms, allocated up front so that
/// measuring does not move the RSS being measured.
struct Latencies {
    buckets: Vec<u64>,
    worst: Duration,
    count: u64,
    /// Calls that waited half a second or more.
    waited: u64,
}

impl Latencies {
    fn new() -> Self {
        Latencies {
            // Written once so that its pages are resident before the baseline.
            buckets: vec![1; 100_001],
            worst: Duration::ZERO,
            count: 0,
            waited: 0,
        }
    }

    fn add(&mut self, d: Duration) {
        let i = (d.as_micros() as usize).min(self.buckets.len() - 1);
        self.buckets[i] += 1;
        self.worst = self.worst.max(d);
        self.count += 1;
        self.waited += u64::from(d >= Duration::from_millis(500));
    }

    fn quantile(&self, q: f64) -> Duration {
        let target = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            // Every bucket started at 1.
            seen += n - 1;
            if seen >= target {
                return Duration::from_micros(i as u64 + 1).min(self.worst);
            }
        }
        self.worst
    }
}

#[test]
fn a_hung_server_bounds_memory_counts_drops_and_shutdown_is_on_time() {
    const CAPACITY: usize = 10_000;
    const LOGGING: Duration = Duration::from_secs(3);
    const SHUTDOWN: Duration = Duration::from_secs(1);
    let server = common::https_server();
    // Every request waits an hour: the first batch never comes back.
    server.misbehave(Misbehave::delay(Duration::from_secs(3_600)).times(1_000));
    let transport = common::builder_for(&server)
        .request_timeout(Duration::from_secs(3_600))
        .build()
        .unwrap();
    let errors = Arc::new(Mutex::new(Vec::new()));
    let sink = errors.clone();
    let client = Client::builder()
        .source("stall-test")
        .api_key(common::KEY)
        .base_url(server.url())
        .retry(common::fast_retry(3))
        .batch_size(100)
        .queue_capacity(CAPACITY)
        .shutdown_timeout(SHUTDOWN)
        .on_error(move |e| sink.lock().unwrap().push(e.clone()))
        .transport(transport)
        .build()
        .unwrap();

    let mut latencies = Latencies::new();
    let before = rss_kib();
    let start = Instant::now();
    let mut calls: u64 = 0;
    while start.elapsed() < LOGGING {
        let call = Instant::now();
        client.info(
            "a log line of a realistic length, with some words in it to weigh it down",
            json!({"i": calls, "route": "/v1/orders", "user": "user-4711"}),
            None,
        );
        latencies.add(call.elapsed());
        calls += 1;
    }
    let after = rss_kib();

    let stats = client.stats();
    eprintln!(
        "stalled server: {calls} calls in {LOGGING:?}; log call p50 {:?}, p99 {:?}, worst {:?}; {stats:?}",
        latencies.quantile(0.5),
        latencies.quantile(0.99),
        latencies.worst
    );
    assert_eq!(stats.accepted, calls);
    assert_eq!(stats.sent, 0, "{stats:?}");
    // The bound, plus what the worker took from the queue before the stall:
    // the batches stuck in flight (4 by default) and the next one written,
    // each at most 1,000 records.
    assert!(stats.pending <= CAPACITY as u64 + 5 * 1_000, "{stats:?}");
    assert_eq!(stats.dropped, stats.accepted - stats.pending, "{stats:?}");
    assert!(stats.dropped > 0, "the queue never filled: {stats:?}");
    let full_reports = errors
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Error::QueueFull { .. }))
        .count();
    assert_eq!(full_reports, 1, "one report for the one burst");
    // One caller waits once in vain (`Block`'s max_wait, 1 s), then none:
    // callers do not wait on a network that makes no progress.
    assert!(
        latencies.waited <= 1,
        "{} log calls waited (the worst {:?})",
        latencies.waited,
        latencies.worst
    );

    if let (Some((rss0, peak0)), Some((rss1, peak1))) = (before, after) {
        // 2 KiB per queued record plus 32 MiB of fixed overhead; unbounded,
        // the records logged would take hundreds of MiB.
        let allowed = (CAPACITY as u64 * 2) + 32 * 1024;
        let grown = peak1.max(rss1).saturating_sub(rss0);
        eprintln!(
            "memory: rss {rss0} KiB before, {rss1} KiB after, peak {peak0} -> {peak1} KiB; \
             grew {grown} KiB at most; bound {allowed} KiB \
             (queue_capacity {CAPACITY} x 2 KiB + 32 MiB)"
        );
        assert!(grown <= allowed, "grew {grown} KiB > {allowed} KiB");
    }

    let pending = stats.pending;
    let start = Instant::now();
    let outcome = client.disconnect();
    let took = start.elapsed();
    eprintln!("disconnect with the server hung took {took:?} (timeout {SHUTDOWN:?}): {outcome:?}");
    assert!(
        matches!(outcome, Err(Error::Lost { records, cause: None }) if records as u64 == pending),
        "{outcome:?}"
    );
    // Not a benchmark: only a hang would break this.
    assert!(
        took < SHUTDOWN + Duration::from_secs(10),
        "disconnect hung for {took:?}"
    );
    let stats = client.stats();
    assert_eq!((stats.lost, stats.pending), (pending, 0), "{stats:?}");
    assert_eq!(
        stats.accepted,
        stats.sent + stats.pending + stats.dropped + stats.lost
    );
    let lost_reports = errors
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Error::Lost { .. }))
        .count();
    assert_eq!(lost_reports, 1, "the loss is reported through on_error");
}
