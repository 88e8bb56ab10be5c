//! `timber-ingest-server`: the local ingest server as a command, with its
//! live web view at `/`. `--help` lists the options.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cli {
    pub(crate) mod args;
}

use std::path::PathBuf;
use std::process::ExitCode;

use cli::args::{self, Command, Options};
use timber_ingest_server::{IngestServer, ServerConfig, TlsIdentity};

/// The key of a server that accepts any: a placeholder, not a secret, so
/// it is printed in full.
const ANY_KEY: &str = "tb_local_any_key_works";

fn main() -> ExitCode {
    let options = match args::parse(std::env::args_os().skip(1)) {
        Ok(Command::Serve(options)) => options,
        Ok(Command::Help) => {
            print!("{}", args::HELP);
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("timber-ingest-server {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(reason) => {
            eprintln!("timber-ingest-server: {reason}\n(--help lists the options)");
            return ExitCode::from(2);
        }
    };
    match serve(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("timber-ingest-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(options: Options) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = ServerConfig::new(options.api_key.as_deref().unwrap_or(ANY_KEY))
        .port(options.port)
        .keep_records(options.keep)
        .view();
    if options.api_key.is_none() {
        config = config.any_api_key();
    }
    if let Some(path) = &options.jsonl {
        config = config.jsonl(path);
    }
    // Two threads: the SDK's batches and the browsers' feed side by side.
    config = config.worker_threads(2);
    let ca_file = if options.https {
        let identity = TlsIdentity::generate()?;
        let path = options.ca_file.clone().unwrap_or_else(default_ca_file);
        std::fs::write(&path, identity.ca_pem())
            .map_err(|e| format!("cannot write the CA to {}: {e}", path.display()))?;
        config = config.tls(identity);
        Some(path)
    } else {
        None
    };
    let otlp_config = otlp_config(&options, &config)?;
    let server = IngestServer::start(config)
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", options.port))?;
    let otlp = match otlp_config {
        Some((port, config)) => Some(
            IngestServer::start(config)
                .map_err(|e| format!("cannot listen on 127.0.0.1:{port} (OTLP): {e}"))?,
        ),
        None => None,
    };

    let stop = Stop::listen()?;
    let url = server.url();
    // The first line is for scripts (and the tests): the bound address.
    println!(
        "timber-ingest-server {} listening on {url}",
        env!("CARGO_PKG_VERSION")
    );
    println!("live view: {url}/");
    if let Some(otlp) = &otlp {
        println!("OTLP/HTTP logs receiver: {}/v1/logs", otlp.url());
        println!(
            "OTLP/gRPC logs receiver: {} (LogsService/Export, HTTP/2)",
            otlp.url()
        );
    }
    println!("\nTo log here, set these in the environment of the program that logs:");
    println!("TIMBERLOGS_ENDPOINT={url}");
    match &options.api_key {
        None => println!("TIMBERLOGS_API_KEY={ANY_KEY}\n  (any non-empty key is accepted)"),
        // The key came from the user, maybe copied from the hosted service:
        // it is not repeated into terminals and logs.
        Some(key) => println!(
            "TIMBERLOGS_API_KEY=<the key given with --api-key: {}>",
            masked(key)
        ),
    }
    if let Some(path) = &ca_file {
        println!("TIMBERLOGS_CA_CERT={}", path.display());
    }
    println!("TIMBERLOGS_SOURCE=my-app   (any name of your program)");
    if let Some(otlp) = &otlp {
        println!("\nTo export OpenTelemetry logs here (no key needed), set these:");
        println!("OTEL_EXPORTER_OTLP_ENDPOINT={}", otlp.url());
        println!("OTEL_EXPORTER_OTLP_PROTOCOL=grpc");
        println!("  (or http/protobuf, or http/json: the same port takes all three)");
        if let Some(path) = &ca_file {
            println!("OTEL_EXPORTER_OTLP_CERTIFICATE={}", path.display());
        }
    }
    println!("\nCtrl-C stops the server.");

    stop.wait()?;
    let summary = server.summary();
    server.shutdown();
    if let Some(otlp) = otlp {
        otlp.shutdown();
    }
    if let Some(path) = ca_file.filter(|_| options.ca_file.is_none()) {
        let _ = std::fs::remove_file(path);
    }
    eprintln!(
        "stopped: {} requests, {} records, {} refused, {} unauthorized",
        summary.requests, summary.records, summary.rejected, summary.unauthorized
    );
    Ok(())
}

/// The OTLP receiver's settings (same key rules and bounds), when asked for.
#[cfg(feature = "otlp")]
fn otlp_config(
    options: &Options,
    config: &ServerConfig,
) -> Result<Option<(u16, ServerConfig)>, String> {
    Ok(options
        .otlp
        .map(|port| (port, config.clone().port(port).otlp())))
}

#[cfg(not(feature = "otlp"))]
fn otlp_config(options: &Options, _: &ServerConfig) -> Result<Option<(u16, ServerConfig)>, String> {
    match options.otlp {
        Some(_) => {
            Err("--otlp needs the `otlp` feature (on by default); this build has it off".into())
        }
        None => Ok(None),
    }
}

/// The first and last four characters at most, enough to tell keys apart.
fn masked(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 12 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

fn default_ca_file() -> PathBuf {
    std::env::temp_dir().join(format!(
        "timber-ingest-server-{}-ca.pem",
        std::process::id()
    ))
}

/// Ctrl-C (SIGINT) and, on Unix, SIGTERM, listened for from before the
/// banner is printed: a signal sent as soon as it is read stops the server
/// cleanly rather than ending it by the default disposition.
struct Stop {
    runtime: tokio::runtime::Runtime,
    #[cfg(unix)]
    signals: [tokio::signal::unix::Signal; 2],
}

impl Stop {
    fn listen() -> std::io::Result<Stop> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        #[cfg(unix)]
        let signals = {
            use tokio::signal::unix::{signal, SignalKind};
            let _entered = runtime.enter();
            [
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            ]
        };
        Ok(Stop {
            runtime,
            #[cfg(unix)]
            signals,
        })
    }

    /// Blocks until one of the signals comes.
    fn wait(self) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            let [mut interrupt, mut terminate] = self.signals;
            self.runtime.block_on(async {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            });
            Ok(())
        }
        #[cfg(not(unix))]
        self.runtime.block_on(tokio::signal::ctrl_c())
    }
}
