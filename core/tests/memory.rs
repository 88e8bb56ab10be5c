//! With the service stalled, a producer logging as fast as it can keeps
//! memory under the queue bound plus a fixed overhead, drops are counted and
//! reported once per burst, and shutdown still returns on time.
//!
//! One test in its own binary, so that no other test moves the RSS.

mod common;
mod double;

use std::time::{Duration, Instant};

use double::{Fault, MockTransport};
use serde_json::json;
use timber_core::Error;

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

#[test]
fn a_stalled_service_bounds_memory_counts_drops_and_shutdown_is_on_time() {
    const CAPACITY: usize = 10_000;
    const RECORDS: usize = 1_000_000;
    let mock = MockTransport::new();
    // The first send never comes back within the test: the service is stalled.
    mock.fail_next(1, Fault::Delay(Duration::from_secs(3_600)));
    let errors = common::Errors::default();
    let client = common::builder(&mock, &errors)
        .batch_size(100)
        .queue_capacity(CAPACITY)
        .shutdown_timeout(Duration::from_millis(500))
        .build()
        .unwrap();

    let before = rss_kib();
    let mut worst = Duration::ZERO;
    for i in 0..RECORDS {
        let start = Instant::now();
        client.info(
            "a log line of a realistic length, with some words in it to weigh it down",
            json!({"i": i, "route": "/v1/orders"}),
            None,
        );
        worst = worst.max(start.elapsed());
    }
    let after = rss_kib();

    let stats = client.stats();
    assert_eq!(stats.accepted, RECORDS as u64);
    // The bound, plus what the worker took from the queue before the stall:
    // the stuck batch and the next one written (at most 1,000 records each;
    // the batches sent beside the stuck one are through).
    assert!(stats.pending <= CAPACITY as u64 + 2_000, "{stats:?}");
    assert_eq!(
        stats.dropped,
        stats.accepted - stats.pending - stats.sent,
        "{stats:?}"
    );
    let full_reports = errors
        .all()
        .iter()
        .filter(|e| matches!(e, Error::QueueFull { .. }))
        .count();
    assert_eq!(full_reports, 1, "one report for the one burst");

    if let (Some((rss0, _)), Some((rss1, peak))) = (before, after) {
        let grown = rss1.saturating_sub(rss0);
        // Unbounded, a million records would take hundreds of MiB. The bound
        // allows 2 KiB per queued record plus 32 MiB of fixed overhead.
        let allowed = (CAPACITY as u64 * 2) + 32 * 1024;
        eprintln!(
            "memory: rss before {rss0} KiB, after {rss1} KiB (grew {grown} KiB, peak {peak} KiB), \
             allowed growth {allowed} KiB; worst log call {worst:?}; {stats:?}"
        );
        assert!(grown <= allowed, "grew {grown} KiB > {allowed} KiB");
    }

    let start = Instant::now();
    let outcome = client.disconnect();
    let took = start.elapsed();
    eprintln!("shutdown with a hung service took {took:?}: {outcome:?}");
    assert!(
        matches!(outcome, Err(Error::Lost { cause: None, .. })),
        "{outcome:?}"
    );
    // Not a benchmark: only a hang would break this.
    assert!(
        took < Duration::from_secs(10),
        "disconnect hung for {took:?}"
    );
    let stats = client.stats();
    assert_eq!(
        stats.accepted,
        stats.sent + stats.pending + stats.dropped + stats.lost
    );
}
