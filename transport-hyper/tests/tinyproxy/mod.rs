//! A real HTTP proxy on 127.0.0.1 for the proxy tests: `tinyproxy`
//! (Debian's package, which `.ci/run` installs), started with a config of
//! the test's own.
//!
//! Where tinyproxy is not installed, a small CONNECT/forwarding proxy
//! written here with tokio stands in, so that `cargo test --workspace` needs
//! nothing but a toolchain; CI sets `TIMBER_REQUIRE_TINYPROXY=1`, which makes
//! a missing tinyproxy a failure rather than a silent fallback.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The user and password the proxies require when asked to.
pub const USER: &str = "timber";
pub const PASSWORD: &str = "pr0xySECRET";

pub struct Proxy {
    addr: SocketAddr,
    kind: Kind,
}

enum Kind {
    Tinyproxy {
        child: Child,
        dir: PathBuf,
    },
    InTest {
        log: Arc<Mutex<Vec<String>>>,
        runtime: Option<tokio::runtime::Runtime>,
    },
}

impl Drop for Proxy {
    fn drop(&mut self) {
        match &mut self.kind {
            Kind::Tinyproxy { child, dir } => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = fs::remove_dir_all(dir);
            }
            Kind::InTest { runtime, .. } => {
                if let Some(rt) = runtime.take() {
                    rt.shutdown_background();
                }
            }
        }
    }
}

fn tinyproxy_installed() -> bool {
    Command::new("tinyproxy")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Proxy {
    /// A proxy; with `auth`, one that requires [`USER`] and [`PASSWORD`].
    pub fn start(auth: bool) -> Proxy {
        if tinyproxy_installed() {
            return Proxy::tinyproxy(auth);
        }
        assert!(
            std::env::var_os("TIMBER_REQUIRE_TINYPROXY").is_none(),
            "TIMBER_REQUIRE_TINYPROXY is set but tinyproxy is not installed (apt-get install tinyproxy)"
        );
        eprintln!("tinyproxy is not installed: using the in-test proxy instead");
        Proxy::in_test(auth)
    }

    /// Whether this is the real tinyproxy.
    pub fn is_tinyproxy(&self) -> bool {
        matches!(self.kind, Kind::Tinyproxy { .. })
    }

    /// `http://127.0.0.1:PORT`, with the credentials when `with_auth`.
    pub fn url(&self, credentials: Option<(&str, &str)>) -> String {
        match credentials {
            Some((user, password)) => format!("http://{user}:{password}@{}", self.addr),
            None => format!("http://{}", self.addr),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The request lines the proxy received, in order:
    /// `CONNECT 127.0.0.1:443` or `POST http://127.0.0.1:80/v1/logs`.
    pub fn requests(&self) -> Vec<String> {
        match &self.kind {
            Kind::InTest { log, .. } => log.lock().unwrap().clone(),
            Kind::Tinyproxy { dir, .. } => {
                let Ok(file) = fs::File::open(dir.join("tinyproxy.log")) else {
                    return Vec::new();
                };
                BufReader::new(file)
                    .lines()
                    .map_while(Result::ok)
                    .filter_map(|line| {
                        // `CONNECT   Nov 25 ... [pid]: Request (file descriptor 5): CONNECT host:port HTTP/1.1`
                        let (_, request) = line.split_once("Request (file descriptor ")?;
                        let (_, request) = request.split_once("): ")?;
                        Some(
                            request
                                .trim_end()
                                .trim_end_matches(" HTTP/1.1")
                                .trim_end_matches(" HTTP/1.0")
                                .to_owned(),
                        )
                    })
                    .collect()
            }
        }
    }

    fn tinyproxy(auth: bool) -> Proxy {
        let dir = std::env::temp_dir().join(format!(
            "timber-tinyproxy-{}-{}",
            std::process::id(),
            fastrand_suffix()
        ));
        fs::create_dir_all(&dir).unwrap();
        // A free port: bound, released, then given to tinyproxy.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 60\nLogLevel Info\nMaxClients 50\nAllow 127.0.0.1\n\
             LogFile \"{log}\"\nPidFile \"{pid}\"\n",
            log = dir.join("tinyproxy.log").display(),
            pid = dir.join("tinyproxy.pid").display(),
        );
        if auth {
            config.push_str(&format!("BasicAuth {USER} {PASSWORD}\n"));
        }
        let config_path = dir.join("tinyproxy.conf");
        fs::write(&config_path, config).unwrap();
        let child = Command::new("tinyproxy")
            .arg("-d")
            .arg("-c")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tinyproxy starts");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let proxy = Proxy {
            addr,
            kind: Kind::Tinyproxy { child, dir },
        };
        proxy.wait_until_listening();
        proxy
    }

    fn wait_until_listening(&self) {
        // A bound on start-up only, never a judgement of speed.
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(self.addr).is_err() {
            assert!(Instant::now() < deadline, "the proxy never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn in_test(auth: bool) -> Proxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let expected_auth = auth.then(|| {
            format!(
                "Basic {}",
                base64_encode(format!("{USER}:{PASSWORD}").as_bytes())
            )
        });
        runtime.spawn(in_test::serve(listener, log.clone(), expected_auth));
        Proxy {
            addr,
            kind: Kind::InTest {
                log,
                runtime: Some(runtime),
            },
        }
    }
}

fn fastrand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish()
}

fn base64_encode(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The stand-in proxy: CONNECT tunnels and absolute-form forwarding, with
/// Basic authentication, logging each request line.
mod in_test {
    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    pub async fn serve(
        listener: TcpListener,
        log: Arc<Mutex<Vec<String>>>,
        expected_auth: Option<String>,
    ) {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(handle(client, log.clone(), expected_auth.clone()));
        }
    }

    async fn handle(
        mut client: TcpStream,
        log: Arc<Mutex<Vec<String>>>,
        expected_auth: Option<String>,
    ) -> std::io::Result<()> {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if client.read(&mut byte).await? == 0 || head.len() > 16 * 1024 {
                return Ok(());
            }
            head.push(byte[0]);
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        let mut lines = text.split("\r\n");
        let request_line = lines.next().unwrap_or("").to_owned();
        let mut parts = request_line.split(' ');
        let (method, target) = (
            parts.next().unwrap_or("").to_owned(),
            parts.next().unwrap_or("").to_owned(),
        );
        log.lock().unwrap().push(format!("{method} {target}"));
        let mut auth = None;
        let mut kept = Vec::new();
        for line in lines.filter(|l| !l.is_empty()) {
            match line.split_once(':') {
                Some((name, value)) if name.eq_ignore_ascii_case("proxy-authorization") => {
                    auth = Some(value.trim().to_owned())
                }
                _ => kept.push(line.to_owned()),
            }
        }
        if expected_auth.is_some() && auth != expected_auth {
            client
                .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await?;
            return Ok(());
        }
        if method == "CONNECT" {
            let Ok(mut upstream) = TcpStream::connect(&target).await else {
                client
                    .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                    .await?;
                return Ok(());
            };
            client
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await?;
            tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
            return Ok(());
        }
        // Absolute form: http://host:port/path
        let Some(rest) = target.strip_prefix("http://") else {
            client
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await?;
            return Ok(());
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let mut upstream = TcpStream::connect(authority).await?;
        let mut forwarded = format!(
            "{method} {} HTTP/1.1\r\n",
            if path.is_empty() { "/" } else { path }
        );
        for line in kept {
            forwarded.push_str(&line);
            forwarded.push_str("\r\n");
        }
        forwarded.push_str("Via: 1.1 in-test-proxy\r\n\r\n");
        upstream.write_all(forwarded.as_bytes()).await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
        Ok(())
    }
}

#[test]
fn base64_matches_rfc_4648() {
    assert_eq!(base64_encode(b""), "");
    assert_eq!(base64_encode(b"f"), "Zg==");
    assert_eq!(base64_encode(b"fo"), "Zm8=");
    assert_eq!(base64_encode(b"foo"), "Zm9v");
    assert_eq!(
        base64_encode(b"timber:pr0xySECRET"),
        "dGltYmVyOnByMHh5U0VDUkVU"
    );
}
