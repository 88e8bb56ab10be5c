//! The caller's cost of a `tracing` event through `TimberLayer`, beside the
//! native `client.info` call with the same fields (the baseline) and
//! OpenTelemetry's `opentelemetry-appender-tracing` bridge over a batch
//! processor, all measured in the same run; the cost of an event the
//! layer has disabled; and, with the `opentelemetry` feature, of an event
//! inside a span of a real OpenTelemetry tracer (`tracing-opentelemetry`),
//! through the layer and through OpenTelemetry's bridge, both taking the
//! span's trace context.
//!
//! Each bench has its own call sites: `tracing` caches whether a call site
//! is enabled across every subscriber alive, so sharing one would mix them.

/// Accepts every batch at once: the bench measures the layer, not a network.
#[derive(Clone, Default)]
struct Discard;

#[timber_core::transport::async_trait]
impl timber_core::transport::Transport for Discard {
    async fn send_batch(
        &self,
        _: &timber_core::transport::Endpoint,
        _: &timber_core::transport::Batch,
    ) -> Result<(), timber_core::transport::TransportError> {
        Ok(())
    }
}

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
#[cfg(feature = "opentelemetry")]
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{
    BatchConfigBuilder, BatchLogProcessor, LogBatch, LogExporter, SdkLoggerProvider,
};
use serde_json::json;
use timber_core::{Client, Level};
use timber_tracing::TimberLayer;
use tracing::level_filters::LevelFilter;
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer as _;

/// OpenTelemetry's exporter side, discarding as `Discard` does.
#[derive(Debug, Default)]
struct DiscardExporter(Arc<AtomicU64>);

impl LogExporter for DiscardExporter {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        self.0
            .fetch_add(batch.iter().count() as u64, Ordering::Relaxed);
        Ok(())
    }
}

fn client(min_level: Level) -> Client {
    Client::builder()
        .source("bench")
        .api_key("tb_test_bench")
        .version("1.0.0")
        .min_level(min_level)
        .batch_size(512)
        // Large enough that the producer never hits it: the bench measures
        // accepted records, not the (cheaper) drop path.
        .queue_capacity(50_000_000)
        .on_error(|e| panic!("unexpected: {e}"))
        .transport(Discard)
        .build()
        .unwrap()
}

fn finish(client: &Client) {
    client.flush().unwrap();
    let stats = client.stats();
    assert_eq!(stats.dropped + stats.lost, 0, "{stats:?}");
}

fn caller(c: &mut Criterion) {
    let mut group = c.benchmark_group("tracing_caller");

    // Baseline: the native call with the same three fields.
    let native = client(Level::Debug);
    group.bench_function("baseline_native_info_3_fields", |b| {
        b.iter(|| {
            native.info(
                black_box("request served"),
                json!({"status": 200, "route": "/v1/orders", "cached": true}),
                None,
            )
        })
    });
    finish(&native);

    let timber = client(Level::Debug);
    let dispatch =
        Dispatch::new(tracing_subscriber::registry().with(TimberLayer::new(timber.clone())));
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("timber_layer_info_3_fields", |b| {
            b.iter(|| {
                tracing::info!(
                    status = black_box(200),
                    route = "/v1/orders",
                    cached = true,
                    "request served"
                )
            })
        });
    });
    drop(dispatch);
    finish(&timber);

    // The same, as a per-layer filter (the form to use beside `fmt`).
    let filtered = client(Level::Debug);
    let dispatch = Dispatch::new(
        tracing_subscriber::registry().with(TimberLayer::new(filtered.clone()).filtered()),
    );
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("timber_layer_filtered_info_3_fields", |b| {
            b.iter(|| {
                tracing::info!(
                    status = black_box(200),
                    route = "/v1/orders",
                    cached = true,
                    "request served"
                )
            })
        });
    });
    drop(dispatch);
    finish(&filtered);

    // OpenTelemetry's bridge into its SDK's batch processor (a queue and a
    // thread, as the client has), with room for every event of the run.
    let exported = Arc::new(AtomicU64::new(0));
    let processor = BatchLogProcessor::builder(DiscardExporter(exported.clone()))
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(1 << 22)
                .with_max_export_batch_size(512)
                .build(),
        )
        .build();
    let provider = SdkLoggerProvider::builder()
        .with_log_processor(processor)
        .build();
    let dispatch = Dispatch::new(
        tracing_subscriber::registry().with(OpenTelemetryTracingBridge::new(&provider)),
    );
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("otel_bridge_info_3_fields", |b| {
            b.iter(|| {
                tracing::info!(
                    status = black_box(200),
                    route = "/v1/orders",
                    cached = true,
                    "request served"
                )
            })
        });
    });
    drop(dispatch);
    let _ = provider.shutdown();
    eprintln!("otel exported {}", exported.load(Ordering::Relaxed));
    group.finish();
}

fn disabled(c: &mut Criterion) {
    let mut group = c.benchmark_group("tracing_disabled");
    // Baseline: the native call, skipped by min_level.
    let client = client(Level::Info);
    group.bench_function("baseline_native_debug_below_min_level", |b| {
        b.iter(|| client.debug(black_box("skipped"), (), None))
    });
    let dispatch =
        Dispatch::new(tracing_subscriber::registry().with(TimberLayer::new(client.clone())));
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("timber_layer_trace_below_min_level", |b| {
            b.iter(|| tracing::trace!(status = black_box(200), "skipped"))
        });
    });
    drop(dispatch);
    // Beside a console layer at INFO, as a per-layer filter.
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::sink)
                    .with_filter(LevelFilter::INFO),
            )
            .with(TimberLayer::new(client.clone()).filtered()),
    );
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function(
            "timber_layer_filtered_beside_fmt_trace_below_min_level",
            |b| b.iter(|| tracing::trace!(status = black_box(200), "skipped too")),
        );
    });
    drop(dispatch);
    finish(&client);
    assert_eq!(client.stats().accepted, 0);
    group.finish();
}

/// Inside an entered span of an `opentelemetry_sdk` tracer under
/// `tracing-opentelemetry` (which activates its context): the layer's event
/// carries the span's ids, as the bridge's log record does.
#[cfg(feature = "opentelemetry")]
fn in_span(c: &mut Criterion) {
    use opentelemetry::trace::TracerProvider as _;
    let tracer = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let mut group = c.benchmark_group("tracing_in_otel_span");

    let timber = client(Level::Debug);
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(tracer.tracer("bench")))
            .with(TimberLayer::new(timber.clone())),
    );
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("timber_layer_info_3_fields", |b| b.iter_custom(in_spans));
    });
    drop(dispatch);
    finish(&timber);
    assert!(timber.stats().accepted > 0);

    let processor = BatchLogProcessor::builder(DiscardExporter::default())
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(1 << 22)
                .with_max_export_batch_size(512)
                .build(),
        )
        .build();
    let provider = SdkLoggerProvider::builder()
        .with_log_processor(processor)
        .build();
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(tracer.tracer("bench")))
            .with(OpenTelemetryTracingBridge::new(&provider)),
    );
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("baseline_otel_bridge_info_3_fields", |b| {
            b.iter_custom(in_spans)
        });
    });
    drop(dispatch);
    let _ = provider.shutdown();
    group.finish();
}

/// The time of `iters` events, each inside an entered span of at most
/// [`EVENTS_PER_SPAN`] events (a span's start and end are not timed).
///
/// `tracing-opentelemetry` keeps every event of a span in that span: one
/// span of the millions of events criterion runs would time the growth of
/// its event list (reallocations of hundreds of megabytes, in both arms)
/// rather than the layers.
#[cfg(feature = "opentelemetry")]
fn in_spans(iters: u64) -> Duration {
    let mut timed = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(EVENTS_PER_SPAN);
        let span = tracing::info_span!("request").entered();
        let start = Instant::now();
        for _ in 0..n {
            tracing::info!(
                status = black_box(200),
                route = "/v1/orders",
                cached = true,
                "request served"
            );
        }
        timed += start.elapsed();
        drop(span);
        left -= n;
    }
    timed
}

/// Events in one span of the in-span benches (a request's worth, and more).
#[cfg(feature = "opentelemetry")]
const EVENTS_PER_SPAN: u64 = 1_000;

#[cfg(not(feature = "opentelemetry"))]
fn in_span(_: &mut Criterion) {}

criterion_group!(benches, caller, disabled, in_span);
criterion_main!(benches);
