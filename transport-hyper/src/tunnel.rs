//! The `CONNECT` handshake with a proxy, for `https://` requests.
//!
//! Not hyper-util's `Tunnel`: it accepts only a 200 and answers any other
//! status with a bare `TunnelUnsuccessful`, so a proxy refusing the
//! credentials with 401 (tinyproxy does) could not be told from one that
//! failed, nor its status shown; and it lets bytes that follow the answer
//! through unread. This one keeps the proxy's status line (never the
//! credentials), tells refusals (permanent) from failures (retryable), and
//! refuses data before the TLS handshake.

use std::error::Error as StdError;
use std::fmt;
use std::io;

use hyper::header::HeaderValue;
use hyper::Uri;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest answer to a `CONNECT` the transport reads.
const MAX_CONNECT_ANSWER: usize = 8 * 1024;

/// A connection failure on the way through a proxy: what the proxy said,
/// and whether retrying can help (a refusal of the credentials cannot).
#[derive(Debug)]
pub(crate) struct ProxyError {
    pub(crate) message: String,
    pub(crate) permanent: bool,
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for ProxyError {}

/// Opens a `CONNECT` tunnel to `dst` through the proxy connection `io`.
pub(crate) async fn tunnel(
    io: TokioIo<TcpStream>,
    dst: &Uri,
    auth: Option<&HeaderValue>,
    proxy_at: &str,
) -> Result<TokioIo<TcpStream>, ProxyError> {
    let failed = |message: String, permanent: bool| ProxyError { message, permanent };
    let host = dst
        .host()
        .ok_or_else(|| failed("the URL has no host".into(), true))?;
    let port = dst.port_u16().unwrap_or(443);
    let target = format!("{host}:{port}");
    let mut stream = io.into_inner();

    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n").into_bytes();
    if let Some(auth) = auth {
        request.extend_from_slice(b"Proxy-Authorization: ");
        request.extend_from_slice(auth.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    let io_failed = |e: io::Error| {
        failed(
            format!("the proxy {proxy_at} closed the tunnel to {target}: {e}"),
            false,
        )
    };
    stream.write_all(&request).await.map_err(io_failed)?;

    // The answer's head; nothing may follow it before the TLS handshake.
    let mut answer = Vec::with_capacity(256);
    let mut chunk = [0u8; 1024];
    let head_len = loop {
        let n = stream.read(&mut chunk).await.map_err(io_failed)?;
        if n == 0 {
            return Err(failed(
                format!("the proxy {proxy_at} closed the connection instead of answering CONNECT {target}"),
                false,
            ));
        }
        answer.extend_from_slice(&chunk[..n]);
        if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if answer.len() > MAX_CONNECT_ANSWER {
            return Err(failed(
                format!("the proxy {proxy_at} sent an answer to CONNECT longer than {MAX_CONNECT_ANSWER} bytes"),
                false,
            ));
        }
    };
    let status_line = String::from_utf8_lossy(&answer[..head_len]);
    let status_line = status_line.lines().next().unwrap_or("").trim();
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok());
    match status {
        Some(200..=299) if answer.len() == head_len => Ok(TokioIo::new(stream)),
        Some(200..=299) => Err(failed(
            format!("the proxy {proxy_at} sent data before the TLS handshake with {target}"),
            false,
        )),
        Some(status) => {
            let (reason, permanent) = match status {
                // 407 is the proxy's status for it; some (tinyproxy) answer 401.
                401 | 407 if auth.is_some() => ("refused the proxy credentials", true),
                401 | 407 => ("requires credentials (give them in the proxy URL: http://user:password@host:port)", true),
                403 => ("refused the tunnel", true),
                _ => ("could not open the tunnel", false),
            };
            let shown: String = status_line.chars().take(100).collect();
            Err(failed(
                format!("the proxy {proxy_at} {reason} to {target}: {shown}"),
                permanent,
            ))
        }
        None => Err(failed(
            format!(
                "the proxy {proxy_at} answered CONNECT {target} with something other than HTTP"
            ),
            false,
        )),
    }
}
