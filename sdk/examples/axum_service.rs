//! An async web service (axum on tokio) that logs with `tracing`: the `fmt`
//! layer prints every event to the terminal and the Timber layer ships the
//! same events, each checkout request being one flow.
//!
//! ```sh
//! cargo run --example axum_service --features tracing
//! curl http://127.0.0.1:3000/checkout/42
//! ```
//!
//! With `--once`, it serves one request to itself and exits.

mod support;

use axum::extract::Path;
use axum::routing::get;
use axum::Router;
use timber_sdk::TimberLayer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing::{info, instrument, warn};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let once = std::env::args().any(|a| a == "--once");
    let target = support::target()?;

    // The global client first (TIMBERLOGS_* variables, explicit calls win),
    // then the subscriber: fmt to the terminal, Timber to the service.
    let guard = timber_sdk::init(target.builder().source("axum-service"))?;
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_filter(LevelFilter::INFO))
        .with(TimberLayer::global().filtered())
        .init();

    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(serve(once))?;

    drop(guard); // flushes what is queued, then disconnects
    target.report();
    Ok(())
}

async fn serve(once: bool) -> Result<(), Box<dyn std::error::Error>> {
    let app = Router::new().route("/checkout/{order}", get(checkout));
    let listener = tokio::net::TcpListener::bind(if once {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:3000"
    })
    .await?;
    let addr = listener.local_addr()?;
    info!(%addr, "listening");
    if !once {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        return Ok(());
    }
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /checkout/7 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    info!(
        status = answer.lines().next().unwrap_or(""),
        "served one request"
    );
    Ok(())
}

/// One checkout: the `flow` field makes every event inside it a step of a
/// `checkout-xxxxxxxx` flow, across `.await` points.
#[instrument(fields(flow = "checkout"))]
async fn checkout(Path(order): Path<u64>) -> String {
    info!(order, items = 3, "cart loaded");
    tokio::task::yield_now().await;
    if order % 2 == 1 {
        warn!(order, attempt = 2, "payment provider slow, retried");
    }
    info!(order, amount_cents = 4200, "paid");
    format!("order {order} paid\n")
}
