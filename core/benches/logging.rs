//! Caller-side cost of logging while the worker runs, and the cost of
//! serializing a batch, each beside a baseline measured in the same run.

mod common;

use std::hint::black_box;
use std::sync::{mpsc, Arc};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::json;
use timber_core::{now_millis, Batch, Client, Environment, Level, LogRecord};

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

fn serialize(c: &mut Criterion) {
    let records: Vec<LogRecord> = (0..1_000)
        .map(|i| LogRecord {
            source: Some("api".into()),
            environment: Some(Environment::Production),
            user_id: Some("user-42".into()),
            data: json!({"route": "/v1/orders", "status": 200, "ms": i})
                .as_object()
                .cloned(),
            tags: vec!["http".into()],
            timestamp: Some(1_700_000_000_000 + i),
            ..LogRecord::new(Level::Info, format!("request {i} completed"))
        })
        .collect();
    let bytes = Batch::new(&records).json().len() as u64;
    let values: Vec<serde_json::Value> = records
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect();
    let mut group = c.benchmark_group("core_serialize");
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("batch_1000", |b| b.iter(|| Batch::new(black_box(&records))));
    // Baseline: serde_json writing the same records held as generic JSON values.
    group.bench_function("baseline_serde_json_values", |b| {
        b.iter(|| serde_json::to_vec(black_box(&values)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, caller, serialize);
criterion_main!(benches);
