//! Caller-side cost of logging while the worker runs, and the cost of
//! serializing a batch, each beside a baseline measured in the same run.

mod common;

use std::hint::black_box;
use std::sync::{mpsc, Arc};

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use timber_core::{now_millis, Client, Environment, Level, LogRecord};

fn client() -> Client {
    Client::builder()
        .source("bench")
        .api_key("tb_test_bench")
        .version("1.0.0")
        // A bound large enough that the producer never hits it: the bench
        // measures accepted records, not the (cheaper) drop path.
        .queue_capacity(50_000_000)
        .on_error(|e| panic!("unexpected: {e}"))
        .transport(common::Discard::default())
        .build()
        .unwrap()
}

fn caller(c: &mut Criterion) {
    let mut group = c.benchmark_group("core_caller");
    let source: Arc<str> = "bench".into();
    let version: Arc<str> = "1.0.0".into();

    // Baseline: build the same record and push it into a std channel drained
    // by another thread.
    let (tx, rx) = mpsc::channel::<LogRecord>();
    let drain = std::thread::spawn(move || rx.into_iter().count());
    group.bench_function("baseline_mpsc_send", |b| {
        b.iter(|| {
            let record = LogRecord {
                source: Some(source.clone()),
                environment: Some(Environment::Production),
                version: Some(version.clone()),
                timestamp: Some(now_millis()),
                ..LogRecord::new(Level::Info, black_box("message"))
            };
            tx.send(record).unwrap();
        })
    });
    drop(tx);
    drain.join().unwrap();

    let client = client();
    group.bench_function("info_message", |b| {
        b.iter(|| client.info(black_box("message"), (), None))
    });
    group.bench_function("info_small_data", |b| {
        b.iter(|| {
            client.info(
                black_box("message"),
                json!({"user": "alice", "attempt": 3, "ok": true}),
                None,
            )
        })
    });
    group.finish();
    client.flush().unwrap();
    let stats = client.stats();
    assert_eq!(stats.dropped + stats.lost, 0, "{stats:?}");
    eprintln!("caller benches: {stats:?}");
}

criterion_group!(benches, caller);
criterion_main!(benches);
