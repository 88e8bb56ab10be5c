//! An example service, run as a test: a tokio TCP service that logs with
//! `tracing` through `TimberLayer` beside a console `fmt` layer, keeps
//! secrets out with redaction, reports errors with `error()` and panics
//! with the panic hook, and shuts down with `disconnect()`.
//!
//! In a real service, swap the mock for `timber_transport_hyper::HyperTransport`
//! and the captured console for stdout. The global subscriber and panic
//! hook are set once per process: one test.

use std::io;
use std::sync::{Arc, Mutex};

use serde_json::json;
use timber_core::hooks::REDACTED;
use timber_core::{Client, Level};
use timber_tracing::TimberLayer;
use timber_transport_mock::MockTransport;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The console, captured so the test can read it.
#[derive(Clone, Default)]
struct Console(Arc<Mutex<Vec<u8>>>);

impl io::Write for Console {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One request: `<route> <user> <password>`; answers one line.
async fn handle(client: Client, stream: TcpStream) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    BufReader::new(read).read_line(&mut line).await?;
    let mut parts = line.split_whitespace();
    let (route, user, password) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let span = tracing::info_span!("request", route, authorization = "Bearer t0k3n");
    let _inside = span.enter();
    let answer = match route {
        "/login" => {
            // The password field is redacted before the record leaves.
            tracing::info!(user, password, "login");
            "ok".to_owned()
        }
        "/orders" => match user.parse::<u32>() {
            Ok(id) => {
                tracing::debug!(id, "console only: below Timber's min_level");
                format!("order {id}")
            }
            Err(e) => {
                client.error("bad order id", &e, None);
                "bad request".to_owned()
            }
        },
        "/crash" => panic!("handler crashed on {user}"),
        _ => "not found".to_owned(),
    };
    write.write_all(answer.as_bytes()).await?;
    write.write_all(b"\n").await
}

async fn request(addr: std::net::SocketAddr, line: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(line.as_bytes()).await.unwrap();
    stream.write_all(b"\n").await.unwrap();
    let mut answer = String::new();
    // A crashed handler closes the connection without an answer.
    let _ = BufReader::new(stream).read_line(&mut answer).await;
    answer.trim().to_owned()
}

#[test]
fn the_example_service() {
    let mock = MockTransport::new();
    let client = Client::builder()
        .source("orders-api")
        .api_key("tb_live_never_printed")
        .min_level(Level::Info)
        .transport(mock.clone())
        .build()
        .unwrap();

    // The console sees every level; Timber sees info and up.
    let console = Console::default();
    let writer = console.clone();
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        )
        .with(TimberLayer::new(client.clone()).filtered())
        .init();
    client.install_panic_hook();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let answers = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tracing::info!(%addr, "listening");
        // A dependency that logs with `log`: `init()` routed it through tracing-log.
        log::info!(pool = 4; "database pool ready");
        let server_client = client.clone();
        let server = tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                tokio::spawn(handle(server_client.clone(), stream));
            }
        });
        let mut answers = Vec::new();
        for line in [
            "/login ada hunter2",
            "/orders 42 -",
            "/orders abc -",
            "/crash bob -",
        ] {
            answers.push(request(addr, line).await);
        }
        server.abort();
        answers
    });
    assert_eq!(answers, ["ok", "order 42", "bad request", ""]);
    client.disconnect().unwrap();

    let records = mock.records();
    let messages: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(messages.len(), 5, "{messages:?}");
    assert_eq!(
        messages[..4],
        ["listening", "database pool ready", "login", "bad order id"]
    );
    assert!(
        messages[4].ends_with(": handler crashed on bob"),
        "{}",
        messages[4]
    );
    // tracing-log's LogTracer hands on the message, not the key-values
    // (TimberLogger::forward_to_tracing keeps them; see log_through_tracing.rs).
    assert_eq!(records[1].data, None);
    let records = &records[1..];

    // Redaction: the password and the span's authorization never leave.
    assert_eq!(
        serde_json::Value::Object(records[1].data.clone().unwrap()),
        json!({"user": "ada", "password": REDACTED, "route": "/login", "authorization": REDACTED})
    );
    // error(): the concrete type and a backtrace.
    assert_eq!(records[2].error_name.as_deref(), Some("ParseIntError"));
    assert!(records[2]
        .error_stack
        .as_deref()
        .unwrap()
        .contains("\n\nBacktrace:\n"));
    // The panic hook: the panic, where, and on which thread.
    assert_eq!(records[3].error_name.as_deref(), Some("Panic"));
    assert_eq!(records[3].level, Level::Error);
    let panic_data = records[3].data.as_ref().unwrap();
    assert!(panic_data["location"]
        .as_str()
        .unwrap()
        .starts_with(file!()));

    let console = String::from_utf8(console.0.lock().unwrap().clone()).unwrap();
    assert!(console.contains("console only: below Timber's min_level"));
    assert!(console.contains("listening"));
    for secret in ["hunter2", "t0k3n", "tb_live_never_printed"] {
        let wire = format!("{records:?}");
        assert!(!wire.contains(secret), "{secret} left the process");
    }
}
