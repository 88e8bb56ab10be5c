//! The command line of `timber-ingest-server`: what it accepts, its help,
//! and why an argument is refused (the caller exits 2 with that reason).

use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;

/// The port when `--listen` is not given: fixed, so that the lines to paste
/// stay the same from one run to the next.
pub(crate) const DEFAULT_PORT: u16 = 7340;
/// The OTLP receiver's port when `--otlp-listen` is not given: a
/// collector's OTLP/HTTP port.
pub(crate) const DEFAULT_OTLP_PORT: u16 = 4318;
/// Records kept in memory when `--keep` is not given.
pub(crate) const DEFAULT_KEEP: usize = 100_000;

pub(crate) const HELP: &str = "\
timber-ingest-server: a local Timberlogs-compatible ingest server with a live web view

USAGE:
    timber-ingest-server [OPTIONS]

OPTIONS:
    --listen ADDR       127.0.0.1:PORT or PORT to listen on [default: 127.0.0.1:7340];
                        port 0 takes any free port. Loopback only: the view needs no key.
    --https             serve HTTPS with a certificate generated at start; its CA is
                        written to a file whose path is printed (for TIMBERLOGS_CA_CERT)
    --ca-file FILE      where --https writes the CA [default: a file in the temp dir]
    --api-key KEY       accept only this key [default: accept any non-empty key]
    --jsonl FILE        also append everything accepted to FILE, one JSON object a line
    --keep N            records kept in memory, the oldest evicted first and counted
                        [default: 100000]
    --otlp              also run the OTLP logs receiver, on its own port: OTLP/HTTP
                        (POST /v1/logs, protobuf or JSON) and OTLP/gRPC (LogsService/Export,
                        HTTP/2, h2c or with --https TLS) on the same port
    --otlp-listen ADDR  where the OTLP receiver listens [default: 127.0.0.1:4318]
    -h, --help          print this help
    -V, --version       print the version

The view is at http://127.0.0.1:PORT/ (JSON for scripts: /api/records, /api/raw,
/api/stats; live: /api/events). Ctrl-C or SIGTERM stops the server.
";

/// What the command was asked to do.
#[derive(Debug, PartialEq)]
pub(crate) enum Command {
    Serve(Options),
    Help,
    Version,
}

/// The server's settings from the command line.
#[derive(Debug, PartialEq)]
pub(crate) struct Options {
    pub(crate) port: u16,
    pub(crate) https: bool,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) api_key: Option<String>,
    pub(crate) jsonl: Option<PathBuf>,
    pub(crate) keep: usize,
    pub(crate) otlp: Option<u16>,
}

/// Reads the arguments (without the program name).
pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    use lexopt::prelude::*;
    let mut options = Options {
        port: DEFAULT_PORT,
        https: false,
        ca_file: None,
        api_key: None,
        jsonl: None,
        keep: DEFAULT_KEEP,
        otlp: None,
    };
    let mut otlp = false;
    let mut otlp_port = DEFAULT_OTLP_PORT;
    let mut parser = lexopt::Parser::from_args(args);
    let text = |v: OsString, what: &str| {
        v.into_string()
            .map_err(|_| format!("{what} must be valid UTF-8"))
    };
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("listen") => options.port = port(&text(value(&mut parser)?, "--listen")?)?,
            Long("https") => options.https = true,
            Long("ca-file") => options.ca_file = Some(value(&mut parser)?.into()),
            Long("api-key") => {
                let key = text(value(&mut parser)?, "--api-key")?;
                if key.is_empty() {
                    return Err("--api-key must not be empty".into());
                }
                options.api_key = Some(key);
            }
            Long("jsonl") => options.jsonl = Some(value(&mut parser)?.into()),
            Long("keep") => {
                let n = text(value(&mut parser)?, "--keep")?;
                options.keep = n
                    .parse()
                    .map_err(|_| format!("--keep needs a whole number, got {n:?}"))?;
            }
            Long("otlp") => otlp = true,
            Long("otlp-listen") => {
                otlp = true;
                otlp_port = port(&text(value(&mut parser)?, "--otlp-listen")?)?;
            }
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            _ => return Err(arg.unexpected().to_string()),
        }
    }
    if options.ca_file.is_some() && !options.https {
        return Err("--ca-file needs --https".into());
    }
    options.otlp = otlp.then_some(otlp_port);
    Ok(Command::Serve(options))
}

fn value(parser: &mut lexopt::Parser) -> Result<OsString, String> {
    parser.value().map_err(|e| e.to_string())
}

/// `127.0.0.1:PORT`, `localhost:PORT` or `PORT`: only loopback, because
/// the view shows everything received to whoever can reach it.
fn port(addr: &str) -> Result<u16, String> {
    let bad = || format!("cannot listen on {addr:?}: expected 127.0.0.1:PORT or PORT");
    if let Ok(port) = addr.parse::<u16>() {
        return Ok(port);
    }
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host == "localhost" {
        return Ok(port);
    }
    match format!("{host}:{port}").parse::<SocketAddrV4>() {
        Ok(a) if *a.ip() == Ipv4Addr::LOCALHOST => Ok(port),
        Ok(_) => Err(format!(
            "cannot listen on {addr:?}: only 127.0.0.1 (the view and its records need no key)"
        )),
        Err(_) => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn reads_every_option() {
        let Ok(Command::Serve(o)) = parse_str(&[
            "--listen=127.0.0.1:0",
            "--https",
            "--api-key",
            "k",
            "--keep",
            "5",
            "--otlp-listen",
            "4400",
            "--jsonl",
            "x.jsonl",
        ]) else {
            panic!("not parsed")
        };
        assert_eq!((o.port, o.https, o.keep, o.otlp), (0, true, 5, Some(4400)));
        assert_eq!(o.api_key.as_deref(), Some("k"));
        assert_eq!(parse_str(&["-V"]), Ok(Command::Version));
        assert_eq!(parse_str(&["--help"]), Ok(Command::Help));
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        for args in [
            &["--listen", "0.0.0.0:80"][..],
            &["--listen", "nowhere"],
            &["--keep", "-1"],
            &["--frobnicate"],
            &["--api-key"],
            &["--ca-file", "x.pem"],
            &["stray"],
        ] {
            assert!(parse_str(args).is_err(), "{args:?} was accepted");
        }
    }
}
