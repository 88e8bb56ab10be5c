//! The listening server: its own runtime on its own thread.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use timber_core::LogRecord;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

use crate::config::ServerConfig;
use crate::handler::handle;
use crate::misbehave::{Faults, Misbehave};
use crate::received::{CreatedFlow, RawIngestion, RequestInfo, Summary};
use crate::shared::Shared;
use crate::store::Store;

/// A running ingest server on 127.0.0.1.
///
/// It runs on its own thread and runtime, so it can be started and queried
/// from plain sync code as well as from inside any async runtime. Dropping it
/// (or [`IngestServer::shutdown`]) stops it and closes the port.
///
/// ```
/// use timber_ingest_server::{IngestServer, ServerConfig};
/// let server = IngestServer::start(ServerConfig::new("tb_test_key"))?;
/// assert!(server.url().starts_with("http://127.0.0.1:"));
/// assert_eq!(server.summary().records, 0);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct IngestServer {
    addr: SocketAddr,
    https: bool,
    ca_pem: Option<String>,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for IngestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestServer")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

impl IngestServer {
    /// Binds 127.0.0.1 and starts serving; returns once the port is open.
    pub fn start(config: ServerConfig) -> io::Result<Self> {
        let tls = match &config.tls {
            Some(identity) => Some(TlsAcceptor::from(Arc::new(identity.server_config()?))),
            None => None,
        };
        let https = tls.is_some();
        let ca_pem = config.tls.as_ref().map(|t| t.ca_pem().to_owned());
        let store = Store::new(
            config.jsonl.as_deref(),
            config.keep_records,
            config.idempotency_window,
            config.request_log,
        )?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.worker_threads)
            .thread_name("timber-ingest-server")
            .enable_all()
            .build()?;
        let listener = {
            // Binding needs the runtime's reactor, not a running runtime.
            let _enter = runtime.enter();
            bind(config.port)?
        };
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config,
            store,
            faults: Faults::default(),
        });
        let (stop, stopped) = oneshot::channel();
        let serving = shared.clone();
        let thread = std::thread::Builder::new()
            .name("timber-ingest-server".into())
            .spawn(move || {
                runtime.block_on(accept_loop(listener, tls, serving, stopped));
                // Dropping the runtime here, off any async context, drops
                // every connection: the port is closed when the thread ends.
                drop(runtime);
            })?;
        Ok(IngestServer {
            addr,
            https,
            ca_pem,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The PEM of the CA a client must trust, when serving HTTPS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The JSONL file the server appends to, if any.
    pub fn jsonl_path(&self) -> Option<&Path> {
        self.shared.store.jsonl_path()
    }

    /// The counters so far.
    pub fn summary(&self) -> Summary {
        self.shared.store.summary()
    }

    /// The accepted records, in arrival order (up to `keep_records`).
    pub fn records(&self) -> Vec<LogRecord> {
        self.shared.store.records()
    }

    /// The accepted OTLP requests, in arrival order, each once per
    /// idempotency key, without the records the server rejected (feature
    /// `otlp`, see [`ServerConfig::otlp`]). Kept until they hold
    /// `keep_records` records.
    #[cfg(feature = "otlp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
    pub fn otlp_requests(
        &self,
    ) -> Vec<opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest> {
        self.shared.store.otlp()
    }

    /// The accepted raw bodies.
    pub fn raw_ingestions(&self) -> Vec<RawIngestion> {
        self.shared.store.raw()
    }

    /// The flows created.
    pub fn flows(&self) -> Vec<CreatedFlow> {
        self.shared.store.flows()
    }

    /// The most recent requests (up to 10,000), oldest first.
    pub fn requests(&self) -> Vec<RequestInfo> {
        self.shared.store.requests()
    }

    /// Injects a fault into the next matching requests; faults queue up.
    pub fn misbehave(&self, fault: Misbehave) {
        self.shared.faults.push(fault);
    }

    /// Removes every pending fault.
    pub fn behave(&self) {
        self.shared.faults.clear();
    }

    /// Waits until `done(summary)` holds or `timeout` passes; whether it held.
    pub fn wait_until(&self, timeout: Duration, done: impl Fn(&Summary) -> bool) -> bool {
        self.shared.store.wait_until(timeout, done)
    }

    /// Stops serving and waits until the port is closed.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for IngestServer {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// A loopback listener that can rebind a port just released (server down, then up).
fn bind(port: u16) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
    socket.listen(1024)
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut stopped: oneshot::Receiver<()>,
) {
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of descriptors and the like: wait a little, go on.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        shared.store.note_connection();
        tokio::spawn(serve(stream, tls.clone(), shared.clone()));
    }
}

async fn serve(stream: TcpStream, tls: Option<TlsAcceptor>, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let header_timeout = shared.config.header_timeout;
    let service = service_fn(move |req| handle(shared.clone(), req));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_timeout);
    // Batches are hundreds of KB: a 64 KiB HTTP/2 window would cost a round
    // trip per window; let a whole batch arrive at once.
    // Large frames: a batch body in a few DATA frames rather than fourteen
    // per 227 KB, each with its own wake-up and copy.
    builder
        .http2()
        .initial_stream_window_size(4 << 20)
        .initial_connection_window_size(8 << 20)
        .max_frame_size(1 << 20);
    // A failed handshake or a connection error ends only this connection.
    let _ = match tls {
        Some(acceptor) => match acceptor.accept(stream).await {
            Ok(stream) => {
                builder
                    .serve_connection(TokioIo::new(stream), service)
                    .await
            }
            Err(_) => return,
        },
        None => {
            builder
                .serve_connection(TokioIo::new(stream), service)
                .await
        }
    };
}
