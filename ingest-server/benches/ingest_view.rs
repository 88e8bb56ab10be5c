//! Records ingested per second with the live view open (a browser's
//! `/api/events` connection, reading everything) and without, in the same
//! run: each iteration POSTs 10,000 records, 10 batches of 1,000 over one
//! keep-alive HTTP/1.1 connection, to a server set up as the command sets
//! it up (view on, `--keep` 100,000, two threads). `cargo xtask bench`
//! turns the medians into records per second (the group's name holds the
//! number of records per iteration).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use timber_ingest_server::{IngestServer, ServerConfig};

const BATCHES: usize = 10;
const PER_BATCH: usize = 1_000;
const KEEP: usize = 100_000;

/// A batch as the SDK sends it: source, environment, data, tags, timestamps.
fn batch(n: usize) -> Vec<u8> {
    let logs: Vec<String> = (0..PER_BATCH)
        .map(|i| {
            format!(
                r#"{{"level":"info","message":"request {n}-{i} completed","source":"bench-app","environment":"production","version":"1.0.0","data":{{"route":"/api/items","status":200,"ms":{i}}},"tags":["http","bench"],"timestamp":1700000000000}}"#
            )
        })
        .collect();
    let body = format!(r#"{{"logs":[{}]}}"#, logs.join(","));
    let mut request = format!(
        "POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-API-Key: tb_test_bench\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body.as_bytes());
    request
}

/// Reads one answer (headers and a Content-Length body) off a keep-alive
/// connection.
fn read_answer(stream: &mut TcpStream, buf: &mut Vec<u8>) {
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).expect("an answer");
        assert!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        if buf.len() >= end + 4 + len {
            return;
        }
    }
}

/// A browser with the page open: reads the live feed as fast as it comes.
fn watch(
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    read: Arc<AtomicU64>,
) -> std::thread::JoinHandle<()> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(
            b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
        )
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 << 10];
        while !stop.load(Ordering::Relaxed) {
            if let Ok(n) = stream.read(&mut buf) {
                read.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    })
}

fn server() -> IngestServer {
    IngestServer::start(
        ServerConfig::new("tb_test_bench")
            .view()
            .keep_records(KEEP)
            .worker_threads(2),
    )
    .unwrap()
}

fn ingest(c: &mut Criterion) {
    let batches: Vec<Vec<u8>> = (0..BATCHES).map(batch).collect();
    let mut group = c.benchmark_group(format!("ingest_{}_records", BATCHES * PER_BATCH));
    group.throughput(Throughput::Elements((BATCHES * PER_BATCH) as u64));
    group.sample_size(20);
    for view in [false, true] {
        let server = server();
        let stop = Arc::new(AtomicBool::new(false));
        let read = Arc::new(AtomicU64::new(0));
        let watcher = view.then(|| watch(server.addr(), stop.clone(), read.clone()));
        if view {
            // The feed is subscribed once the answer's head is out.
            while !server.wait_until(Duration::from_millis(10), |_| true) {}
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut stream = TcpStream::connect(server.addr()).unwrap();
        stream.set_nodelay(true).unwrap();
        let mut answer = Vec::new();
        let id = if view {
            "view_open"
        } else {
            "baseline_no_view"
        };
        group.bench_function(id, |b| {
            b.iter(|| {
                for request in &batches {
                    stream.write_all(request).unwrap();
                    read_answer(&mut stream, &mut answer);
                }
            })
        });
        let summary = server.summary();
        let stats = {
            let mut s = TcpStream::connect(server.addr()).unwrap();
            s.write_all(b"GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut text = String::new();
            let _ = s.read_to_string(&mut text);
            text
        };
        let dropped = stats
            .split("\"droppedEvents\":")
            .nth(1)
            .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
            .unwrap_or("?")
            .to_owned();
        let kept = summary.records - summary.evicted_records;
        assert!(kept as usize <= KEEP, "memory is bounded by keep_records");
        eprintln!(
            "{id}: {} records ingested, {kept} kept (keep {KEEP}), {} evicted; the watcher read {} MB, {dropped} feed frames dropped",
            summary.records,
            summary.evicted_records,
            read.load(Ordering::Relaxed) >> 20
        );
        stop.store(true, Ordering::Relaxed);
        if let Some(w) = watcher {
            let _ = w.join();
        }
    }
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
