//! The command started as a child process, and a bare HTTP/1.1 client, for
//! the tests that run the binary (cli.rs, browser.rs).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `timber-ingest-server`; killed when dropped.
pub struct Running {
    pub child: Child,
    /// `http://127.0.0.1:PORT` or `https://...`, from its first line.
    pub url: String,
    pub addr: SocketAddr,
    /// Every line it printed to stdout up to the end of its banner.
    pub banner: Vec<String>,
}

/// Starts the binary with `args` and waits for its banner.
pub fn start(args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_timber-ingest-server"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let banner = read_banner(child.stdout.take().unwrap());
    let first = banner.first().cloned().unwrap_or_default();
    let url = first
        .split_once(" listening on ")
        .map(|(_, url)| url.trim().to_owned())
        .unwrap_or_else(|| panic!("no address in {banner:?}"));
    let addr = url
        .rsplit_once("://")
        .and_then(|(_, a)| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {url:?}"));
    Running {
        child,
        url,
        addr,
        banner,
    }
}

/// The lines up to "Ctrl-C stops the server." (the banner's end); the rest
/// is read and dropped by a thread so the pipe never fills.
fn read_banner(stdout: ChildStdout) -> Vec<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            let end = line.starts_with("Ctrl-C");
            banner.push(line);
            if end {
                break;
            }
        }
        let _ = tx.send(banner);
        for _ in lines {}
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the banner within 30 s")
}

impl Running {
    /// The value of a `NAME=value` line of the banner.
    pub fn env_line(&self, name: &str) -> Option<String> {
        let prefix = format!("{name}=");
        self.banner
            .iter()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
    }

    /// Sends `signal` (`TERM`, `INT`) and waits for the exit, at most 30 s.
    pub fn stop_with(mut self, signal: &str) -> ExitStatus {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "still running 30 s after SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request over plain TCP, as curl sends it; the status and body.
pub fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    parse_answer(&String::from_utf8_lossy(&exchange(
        addr, method, target, headers, body,
    )))
}

/// [`request`]'s exchange: the whole answer, as bytes.
pub fn exchange(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 16 << 10];
    // Until the server closes, or the body has its Content-Length (some
    // servers, Chromium's DevTools one, keep the connection open).
    while !complete(&answer) {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
        }
    }
    answer
}

/// Whether an answer with a Content-Length has all of its body.
fn complete(answer: &[u8]) -> bool {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
    head.lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .is_some_and(|n| answer.len() >= end + 4 + n)
}

/// Status and body of an HTTP/1.1 answer (chunked or not).
pub fn parse_answer(answer: &str) -> (u16, String) {
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((answer, ""));
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return (status, body.to_owned());
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    (status, out)
}

pub fn get(addr: SocketAddr, target: &str) -> (u16, String) {
    request(addr, "GET", target, &[], b"")
}

pub fn get_json(addr: SocketAddr, target: &str) -> serde_json::Value {
    let (status, body) = get(addr, target);
    assert_eq!(status, 200, "{target}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// POSTs a `{"logs":[...]}` body with a key.
pub fn post_logs(addr: SocketAddr, key: &str, body: &str) -> (u16, String) {
    request(
        addr,
        "POST",
        "/v1/logs",
        &[("Content-Type", "application/json"), ("X-API-Key", key)],
        body.as_bytes(),
    )
}

/// Polls `done` until it holds or 30 s pass.
pub fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}
