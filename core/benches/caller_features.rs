//! The caller's cost of `error()` (with and without a backtrace) and of the
//! record hooks (sampling, redaction, `before_send`), each group beside a
//! baseline measured in the same run: `info` on a client without them.

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use timber_core::{BacktraceMode, Client, ClientBuilder, ErrorPayload, Level};

fn builder() -> ClientBuilder {
    Client::builder()
        .source("bench")
        .api_key("tb_test_bench")
        .version("1.0.0")
        // Large enough that the producer never hits it: the bench measures
        // accepted records, not the (cheaper) drop path.
        .queue_capacity(50_000_000)
        .on_error(|e| panic!("unexpected: {e}"))
        .transport(common::Discard::default())
}

fn finish(client: &Client) {
    client.flush().unwrap();
    let stats = client.stats();
    assert_eq!(stats.dropped + stats.lost, 0, "{stats:?}");
}

/// A few frames between the bench loop and the call, as in a real handler.
#[inline(never)]
fn handler(client: &Client, depth: u32, err: &std::num::ParseIntError) {
    if depth == 0 {
        client.error(black_box("request failed"), err, None);
    } else {
        handler(client, depth - 1, err);
        black_box(depth);
    }
}

#[inline(never)]
fn capture_at(depth: u32) -> std::backtrace::Backtrace {
    if depth == 0 {
        std::backtrace::Backtrace::force_capture()
    } else {
        let trace = capture_at(depth - 1);
        black_box(depth);
        trace
    }
}

fn errors(c: &mut Criterion) {
    let mut group = c.benchmark_group("core_error");
    let err = "x".parse::<u32>().unwrap_err();

    let plain = builder().build().unwrap();
    group.bench_function("baseline_info_message", |b| {
        b.iter(|| plain.info(black_box("message"), (), None))
    });
    finish(&plain);

    let never = builder().backtrace(BacktraceMode::Never).build().unwrap();
    group.bench_function("error_value_no_backtrace", |b| {
        b.iter(|| handler(&never, 8, &err))
    });
    finish(&never);

    // The default: the caller captures, the worker resolves.
    let always = builder().build().unwrap();
    group.bench_function("error_value_backtrace", |b| {
        b.iter(|| handler(&always, 8, &err))
    });
    finish(&always);

    // The capture alone, at the same depth, with no worker resolving meanwhile.
    group.bench_function("backtrace_capture_only", |b| b.iter(|| capture_at(8)));

    // What resolving on the caller costs (as `Backtrace::capture` with
    // RUST_BACKTRACE set did before): capture and format, then log.
    let resolved = builder().backtrace(BacktraceMode::Never).build().unwrap();
    group.bench_function("error_value_backtrace_resolved_by_caller", |b| {
        b.iter(|| {
            let trace = std::backtrace::Backtrace::force_capture().to_string();
            let payload = ErrorPayload::Error {
                name: "ParseIntError".into(),
                stack: format!("ParseIntError: {err}\n\nBacktrace:\n{trace}"),
                message: err.to_string(),
            };
            resolved.error(black_box("request failed"), payload, None)
        })
    });
    finish(&resolved);

    let data = builder().build().unwrap();
    group.bench_function("error_data", |b| {
        b.iter(|| data.error(black_box("request failed"), json!({"code": 7}), None))
    });
    finish(&data);
    group.finish();
}

fn hooks(c: &mut Criterion) {
    let mut group = c.benchmark_group("core_hooks");
    let small = || json!({"user": "alice", "attempt": 3, "ok": true});
    let cases: Vec<(&str, Client)> = vec![
        // No hook at all: redaction turned off, nothing else configured.
        (
            "baseline_info_small_data_no_hooks",
            builder().redact_keys(Vec::<String>::new()).build().unwrap(),
        ),
        // The default: redaction of DEFAULT_REDACTED_KEYS.
        (
            "info_small_data_default_redaction",
            builder().build().unwrap(),
        ),
        (
            "info_small_data_sampling_configured",
            builder()
                .redact_keys(Vec::<String>::new())
                .sample_rate(Level::Debug, 0.5)
                .build()
                .unwrap(),
        ),
        (
            "info_small_data_before_send",
            builder()
                .redact_keys(Vec::<String>::new())
                .before_send(Some)
                .build()
                .unwrap(),
        ),
    ];
    for (id, client) in &cases {
        group.bench_function(*id, |b| {
            b.iter(|| client.info(black_box("message"), small(), None))
        });
        finish(client);
    }
    let no_hooks = &cases[0].1;
    group.bench_function("info_message_no_hooks", |b| {
        b.iter(|| no_hooks.info(black_box("message"), (), None))
    });
    let default = &cases[1].1;
    group.bench_function("info_message_default_redaction", |b| {
        b.iter(|| default.info(black_box("message"), (), None))
    });
    let sampled_out = builder().sample_rate(Level::Info, 0.0).build().unwrap();
    group.bench_function("info_small_data_sampled_out", |b| {
        b.iter(|| sampled_out.info(black_box("message"), small(), None))
    });
    group.finish();
}

criterion_group!(benches, errors, hooks);
criterion_main!(benches);
