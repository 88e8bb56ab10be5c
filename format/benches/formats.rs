//! MB/s to serialize and to parse each format, beside the same run's baseline:
//! plain `serde_json` writing and reading the same records (as one array, and
//! one object per line, the shape `jsonl` is held to).
//!
//! `cargo bench -p timber-format --bench formats -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::json;
use timber_core::{Environment, Level, LogRecord};
use timber_format::{parse, serialize_to_writer, Format};

/// 1,000 records shaped like an API's logs: shared fields, some data, tags,
/// errors with stacks every tenth record.
fn records() -> Vec<LogRecord> {
    (0..1000u32)
        .map(|i| {
            let level = Level::ALL[(i % 4) as usize];
            let mut r = LogRecord {
                source: Some("checkout-api".into()),
                environment: Some(Environment::Production),
                version: Some("1.4.2".into()),
                user_id: Some(format!("user-{}", i % 37).into()),
                session_id: Some(format!("sess-{}", i % 11).into()),
                request_id: Some(format!("req-{i:08x}")),
                data: Some(
                    json!({"path": "/v1/orders", "status": 200 + i % 5, "durationMs": i % 250, "cached": i % 3 == 0})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                ),
                tags: vec!["http".into(), "orders".into()],
                timestamp: Some(1_705_314_600_000 + i64::from(i) * 137),
                ..LogRecord::new(level, format!("request {i} completed for order \"A-{i}\", 3 items"))
            };
            if i % 10 == 0 {
                r.error_name = Some("TimeoutError".into());
                r.error_stack = Some("TimeoutError: upstream timed out\n    at fetch (client.rs:10)\n    at main (main.rs:3)".into());
            }
            if i % 7 == 0 {
                r.flow_id = Some("checkout-a1b2c3d4".into());
                r.step_index = Some(i % 20);
            }
            r
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let records = records();

    let mut group = c.benchmark_group("format_serialize");
    let array = serde_json::to_vec(&records).unwrap();
    group.throughput(Throughput::Bytes(array.len() as u64));
    group.bench_function("serde_json_array", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(64 + records.len() * 160);
            serde_json::to_writer(&mut out, black_box(&records)).unwrap();
            out
        })
    });
    let lines = {
        let mut out = Vec::new();
        for r in &records {
            serde_json::to_writer(&mut out, r).unwrap();
            out.push(b'\n');
        }
        out
    };
    group.throughput(Throughput::Bytes(lines.len() as u64));
    group.bench_function("baseline_serde_json_lines", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(64 + records.len() * 160);
            for r in black_box(&records) {
                serde_json::to_writer(&mut out, r).unwrap();
                out.push(b'\n');
            }
            out
        })
    });
    for format in Format::ALL {
        let body = timber_format::serialize(&records, format);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("format", format), &format, |b, &format| {
            b.iter(|| {
                let mut out = Vec::with_capacity(64 + records.len() * 160);
                serialize_to_writer(black_box(&records), format, &mut out).unwrap();
                out
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("format_parse");
    let array = String::from_utf8(array).unwrap();
    group.throughput(Throughput::Bytes(array.len() as u64));
    group.bench_function("serde_json_array", |b| {
        b.iter(|| serde_json::from_str::<Vec<LogRecord>>(black_box(&array)).unwrap())
    });
    let lines = String::from_utf8(lines).unwrap();
    group.throughput(Throughput::Bytes(lines.len() as u64));
    group.bench_function("baseline_serde_json_lines", |b| {
        b.iter(|| {
            black_box(&lines)
                .lines()
                .map(|l| serde_json::from_str::<LogRecord>(l).unwrap())
                .collect::<Vec<_>>()
        })
    });
    for format in Format::ALL {
        let body = timber_format::serialize(&records, format);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("format", format), &body, |b, body| {
            b.iter(|| parse(black_box(body), format).unwrap())
        });
    }
    group.finish();
}

criterion_group!(formats, benches);
criterion_main!(formats);
