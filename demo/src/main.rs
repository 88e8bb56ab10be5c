//! README command 1: `cargo run --release -p timber-demo`.
//!
//! Starts the local ingest server on 127.0.0.1 over HTTPS with a certificate
//! generated now, sends the seed's scenarios through a client on the hyper
//! transport that trusts that certificate, prints what the server received
//! and the address of its live web view, then ships a flow to the server's
//! OTLP receiver over OTLP/HTTP and OTLP/gRPC ([`otlp`]), and exits 0 only
//! if everything arrived. With `--serve` it then keeps the server (and the view) running
//! until Ctrl-C.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod otlp;

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::fmt;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use serde_json::json;
use timber_ingest_server::{IngestServer, ServerConfig, Summary, TlsIdentity};
use timber_sdk::{
    Client, Environment, Error, HyperTransport, IngestRawOptions, Level, LogOptions, RawFormat,
};

const API_KEY: &str = "tb_test_demo_local_key";

/// An error value with a cause, as an application would log it.
#[derive(Debug)]
struct PaymentDeclined {
    source: std::io::Error,
}

impl fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("payment declined by the gateway")
    }
}

impl StdError for PaymentDeclined {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.source)
    }
}

const RAW_BODIES: [(RawFormat, &str); 6] = [
    (
        RawFormat::Json,
        r#"[{"level":"info","message":"Request completed"},{"level":"warn","message":"Slow query"}]"#,
    ),
    (
        RawFormat::Jsonl,
        "{\"level\":\"info\",\"message\":\"worker started\"}\n{\"level\":\"error\",\"message\":\"worker crashed\"}",
    ),
    (
        RawFormat::Syslog,
        "<165>1 2024-01-15T10:30:00.000Z myhost api 1234 - - Connection refused",
    ),
    (RawFormat::Text, "2024-01-15 10:30:00 ERROR Connection refused"),
    (
        RawFormat::Csv,
        "level,message,source\nerror,Connection refused,api\ninfo,Request completed,api",
    ),
    (
        RawFormat::Obl,
        r#"{"format":"open-board-log-0.1","user_id":"u1","source":"aac-board","sessions":[{"id":"s1","type":"log","started":"2024-01-15T10:30:00Z","ended":"2024-01-15T10:31:00Z","events":[{"id":"e1","timestamp":"2024-01-15T10:30:05Z","type":"note","text":"hello"}]}]}"#,
    ),
];

fn main() -> ExitCode {
    let serve = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--serve") => true,
        Some(other) => {
            eprintln!("timber-demo: unknown argument {other:?} (the only one is --serve)");
            return ExitCode::from(2);
        }
    };
    match run(serve) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nFAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(serve: bool) -> Result<(), Box<dyn StdError>> {
    let jsonl = std::env::temp_dir().join(format!("timber-demo-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&jsonl);
    let server = IngestServer::start(
        ServerConfig::new(API_KEY)
            .tls(TlsIdentity::generate()?)
            .jsonl(&jsonl)
            .view(),
    )?;
    println!("ingest server listening on {}", server.url());

    let transport = HyperTransport::builder()
        .add_root_certificate_pem(server.ca_pem().unwrap_or_default())
        .build()?;
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let client = |source: &str, min_level: Level| {
        let sink = errors.clone();
        // The SDK's builder: raw bodies checked locally; the settings below
        // win over any TIMBERLOGS_* variable.
        timber_sdk::builder()
            .source(source)
            .environment(Environment::Development)
            .version("0.1.0")
            .api_key(API_KEY)
            .base_url(server.url())
            .min_level(min_level)
            .on_error(move |e| sink.lock().unwrap().push(e.to_string()))
            .transport(transport.clone())
            .build()
    };
    let app = client("demo-app", Level::Debug)?;
    let checkout = client("demo-checkout", Level::Info)?;

    // The four levels, with data and tags.
    app.debug(
        "cache warmed",
        json!({"entries": 1024}),
        LogOptions::tags(["cache"]),
    )
    .info(
        "server started",
        json!({"port": 8080}),
        LogOptions::tags(["boot", "http"]),
    )
    .warn("slow response", json!({"ms": 1250, "route": "/cart"}), None)
    .error(
        "upstream failed",
        json!({"upstream": "billing", "status": 502}),
        None,
    );
    // An error value: name, cause chain and message are extracted.
    let declined = PaymentDeclined {
        source: std::io::Error::new(std::io::ErrorKind::ConnectionReset, "gateway reset"),
    };
    app.error("charge failed", &declined, LogOptions::tags(["payments"]));
    // User and session ids.
    app.set_user_id(Some("user-42"))
        .set_session_id(Some("session-7"))
        .info("user signed in", json!({"method": "oauth"}), None);

    // A local flow and a server flow; the debug step is filtered by min_level
    // and does not take a step index.
    let cart = checkout.flow("cart")?;
    cart.info("item added", json!({"sku": "A-1"}), None)
        .warn("stock low", json!({"sku": "A-1", "left": 2}), None)
        .info("cart saved", (), None);
    // A server flow id comes from POST /v1/flows; any executor runs it.
    let order = futures_executor::block_on(checkout.flow_async("checkout"))?;
    order
        .info("checkout started", (), None)
        .debug("filtered: below min_level", (), None)
        .info("payment authorized", (), None)
        .error("receipt email failed", json!({"retry": true}), None);

    // Raw ingestion in each of the six formats.
    for (format, body) in RAW_BODIES {
        let options = IngestRawOptions::new().source(format!("raw-{format}"));
        app.ingest_raw(body, format, options)?;
    }
    // A malformed body is refused before anything is sent.
    let refused = app.ingest_raw("level,message\ninfo,ok,extra", RawFormat::Csv, None);
    match &refused {
        Err(Error::InvalidRawBody { .. }) => println!("refused locally: {}", refused.unwrap_err()),
        other => return Err(format!("a malformed CSV body was not refused: {other:?}").into()),
    }

    app.flush()?;
    checkout.flush()?;
    app.disconnect()?;
    checkout.disconnect()?;

    let summary = server.summary();
    report(&summary, &server);
    check(
        &summary,
        &server,
        &app,
        &checkout,
        cart.id(),
        order.id(),
        &errors,
    )?;
    otlp::run()?;
    println!("\nOK: everything arrived.");
    println!("live view of what arrived: {}/", server.url());
    if !serve {
        println!("  (it closes with this program: `cargo run --release -p timber-demo -- --serve` keeps it open)");
        return Ok(());
    }
    let ca = std::env::temp_dir().join(format!("timber-demo-{}-ca.pem", std::process::id()));
    std::fs::write(&ca, server.ca_pem().unwrap_or_default())?;
    println!("  its certificate was made for this run: the browser asks before showing it");
    println!("  (the CA is in {}); Ctrl-C stops the demo.", ca.display());
    wait_for_ctrl_c()?;
    let _ = std::fs::remove_file(&ca);
    Ok(())
}

/// Blocks until Ctrl-C (SIGINT) or, on Unix, SIGTERM.
fn wait_for_ctrl_c() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let mut term = signal(SignalKind::terminate())?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r,
                _ = term.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await
    })
}

fn report(summary: &Summary, server: &IngestServer) {
    println!(
        "\nreceived {} structured records in {} batches",
        summary.records, summary.batches
    );
    println!("  per level:");
    for (level, n) in &summary.by_level {
        println!("    {:<6} {n}", level.as_str());
    }
    println!("  per flow:");
    for (flow, n) in &summary.by_flow {
        let steps: Vec<String> = server
            .records()
            .iter()
            .filter(|r| r.flow_id.as_deref() == Some(flow.as_str()))
            .filter_map(|r| r.step_index.map(|s| s.to_string()))
            .collect();
        println!("    {flow:<20} {n} (steps {})", steps.join(", "));
    }
    println!("  raw bodies per format:");
    for (format, n) in &summary.raw_by_format {
        println!("    {format:<6} {n}");
    }
    println!("  server flows created: {}", summary.flows_created);
    println!(
        "  requests: {} ({} refused, {} unauthorized)",
        summary.requests, summary.rejected, summary.unauthorized
    );
    if let Some(path) = server.jsonl_path() {
        println!("  everything received is in {}", path.display());
    }
}

fn check(
    summary: &Summary,
    server: &IngestServer,
    app: &Client,
    checkout: &Client,
    cart: &str,
    order: &str,
    errors: &Mutex<Vec<String>>,
) -> Result<(), Box<dyn StdError>> {
    let mut problems = Vec::new();
    let mut expect = |what: &str, ok: bool| {
        if !ok {
            problems.push(what.to_owned());
        }
    };
    let levels: BTreeMap<Level, u64> = [
        (Level::Debug, 1),
        (Level::Info, 6),
        (Level::Warn, 2),
        (Level::Error, 3),
    ]
    .into();
    expect("12 structured records", summary.records == 12);
    expect("records per level", summary.by_level == levels);
    expect(
        "3 records in the local flow",
        summary.by_flow.get(cart) == Some(&3),
    );
    expect(
        "3 records in the server flow",
        summary.by_flow.get(order) == Some(&3),
    );
    expect("one server flow", summary.flows_created == 1);
    let records = server.records();
    let steps: Vec<Option<u32>> = records
        .iter()
        .filter(|r| r.flow_id.as_deref() == Some(order))
        .map(|r| r.step_index)
        .collect();
    expect(
        "server flow steps 0, 1, 2 (the filtered step takes none)",
        steps == [Some(0), Some(1), Some(2)],
    );
    expect(
        "the error value's name and cause",
        records.iter().any(|r| {
            r.error_name.as_deref() == Some("PaymentDeclined")
                && r.error_stack
                    .as_deref()
                    .is_some_and(|s| s.contains("gateway reset"))
        }),
    );
    expect(
        "user and session ids",
        records.iter().any(|r| {
            r.user_id.as_deref() == Some("user-42") && r.session_id.as_deref() == Some("session-7")
        }),
    );
    expect(
        "one raw body per format",
        RawFormat::ALL
            .iter()
            .all(|f| summary.raw_by_format.get(f.as_str()) == Some(&1)),
    );
    expect(
        "every accepted record sent",
        [app, checkout].iter().all(|c| {
            let s = c.stats();
            s.sent == s.accepted && s.pending == 0 && s.lost == 0
        }),
    );
    let jsonl_lines = server
        .jsonl_path()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map_or(0, |t| t.lines().count());
    expect("the JSONL file holds every item", jsonl_lines == 12 + 6 + 1);
    let errors = errors.lock().unwrap();
    expect("no error reported by the clients", errors.is_empty());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "missing: {}; client errors: {:?}",
            problems.join("; "),
            errors
        )
        .into())
    }
}
