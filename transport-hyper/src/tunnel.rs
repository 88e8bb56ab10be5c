//! HTTPS through a proxy: hyper-util's `Tunnel` asks for `CONNECT` (with
//! the proxy's credentials) and reads the answer; TLS then runs end to end
//! with the server over the tunnel.
//!
//! The one piece written here: `Tunnel`'s error (`TunnelError`, which
//! hyper-util does not export) keeps no status, only "unsuccessful" or,
//! for 407, "proxy authorization required". An error must quote the
//! proxy's status line and tell refused credentials (407, or 401 as
//! tinyproxy answers) and a refused tunnel (403), which retrying cannot
//! mend, from a proxy in trouble (5xx), so the connection keeps the start
//! of what the proxy answers while `Tunnel` reads it.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{ready, Context, Poll};

use hyper::rt::{Read, ReadBuf, ReadBufCursor, Write};
use hyper::Uri;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Intercept;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

use crate::failure::chain;
use crate::proxy_error::{authority, ProxyError};

/// Most bytes of the proxy's answer kept: a status line fits.
const KEPT: usize = 512;

/// Opens a `CONNECT` tunnel to `dst` through `proxy`.
///
/// Only a `200` opens it (hyper-util's rule; other 2xx are retryable
/// failures), and bytes the proxy sends after its answer, before the TLS
/// handshake, are dropped by `Tunnel` (TLS then fails, retryably).
pub(crate) async fn open(
    http: HttpConnector,
    proxy: &Intercept,
    dst: Uri,
) -> Result<TokioIo<TcpStream>, ProxyError> {
    let at = authority(proxy.uri());
    let Some(host) = dst.host() else {
        return Err(ProxyError {
            message: "the URL has no host".into(),
            permanent: true,
        });
    };
    let target = format!("{host}:{}", dst.port_u16().unwrap_or(443));
    let io = reach(http, proxy.uri().clone()).await?;
    let answer = Arc::new(Mutex::new(Vec::new()));
    let recorded = Recorded {
        io,
        answer: answer.clone(),
    };
    let mut tunnel = Tunnel::new(proxy.uri().clone(), Handover(Some(recorded)));
    if let Some(auth) = proxy.basic_auth() {
        tunnel = tunnel.with_auth(auth.clone());
    }
    // No poll_ready first: `Handover` is always ready.
    match tunnel.call(dst).await {
        Ok(recorded) => Ok(recorded.io),
        Err(e) => {
            let answer = answer.lock().unwrap_or_else(PoisonError::into_inner);
            let with_auth = proxy.basic_auth().is_some();
            Err(
                refusal(&answer, with_auth, &at, &target).unwrap_or_else(|| {
                    // No answer at all: reset or closed.
                    let message = format!(
                        "the proxy {at} closed the tunnel to {target}: {}",
                        chain(&e)
                    );
                    ProxyError {
                        message,
                        permanent: false,
                    }
                }),
            )
        }
    }
}

/// Connects to the proxy at `proxy`; a failure is retryable.
pub(crate) async fn reach(
    mut http: HttpConnector,
    proxy: Uri,
) -> Result<TokioIo<TcpStream>, ProxyError> {
    let at = authority(&proxy);
    http.call(proxy).await.map_err(|e| ProxyError {
        message: format!("cannot reach the proxy {at}: {}", chain(&e)),
        permanent: false,
    })
}

/// What the proxy's answer says, if it said anything: its status line
/// (at most 100 characters), and whether retrying can help.
fn refusal(answer: &[u8], with_auth: bool, at: &str, target: &str) -> Option<ProxyError> {
    let text = String::from_utf8_lossy(answer);
    let line = text.lines().next().filter(|l| !l.trim().is_empty())?.trim();
    let shown: String = line.chars().take(100).collect();
    let status = line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok());
    let Some(status) = status else {
        return Some(ProxyError {
            message: format!(
                "the proxy {at} answered CONNECT {target} with something other than HTTP"
            ),
            permanent: false,
        });
    };
    let (reason, permanent) = match status {
        // 407 is the proxy's status for it; some (tinyproxy) answer 401.
        401 | 407 if with_auth => ("refused the proxy credentials", true),
        401 | 407 => (
            "requires credentials (give them in the proxy URL: http://user:password@host:port)",
            true,
        ),
        403 => ("refused the tunnel", true),
        _ => ("could not open the tunnel", false),
    };
    Some(ProxyError {
        message: format!("the proxy {at} {reason} to {target}: {shown}"),
        permanent,
    })
}

/// The connection to the proxy, handed to `Tunnel` as its connector's one
/// answer (the proxy was reached already, so that failing to reach it
/// names it as [`reach`] does).
struct Handover(Option<Recorded>);

impl Service<Uri> for Handover {
    type Response = Recorded;
    type Error = io::Error;
    type Future = std::future::Ready<Result<Recorded, io::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _proxy: Uri) -> Self::Future {
        std::future::ready(
            self.0
                .take()
                .ok_or_else(|| io::Error::other("the proxy connection was used already")),
        )
    }
}

/// The proxy connection while `Tunnel` speaks on it, keeping the first
/// [`KEPT`] bytes it reads.
struct Recorded {
    io: TokioIo<TcpStream>,
    answer: Arc<Mutex<Vec<u8>>>,
}

impl Read for Recorded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Read through a buffer of our own: a cursor does not show what it got.
        let mut chunk = [0u8; 1024];
        let room = buf.remaining().min(chunk.len());
        let mut read = ReadBuf::new(&mut chunk[..room]);
        ready!(Pin::new(&mut this.io).poll_read(cx, read.unfilled()))?;
        let got = read.filled();
        let mut answer = this.answer.lock().unwrap_or_else(PoisonError::into_inner);
        let keep = KEPT.saturating_sub(answer.len()).min(got.len());
        answer.extend_from_slice(&got[..keep]);
        buf.put_slice(got);
        Poll::Ready(Ok(()))
    }
}

impl Write for Recorded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use hyper_util::client::proxy::matcher::Matcher;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A proxy on 127.0.0.1 that reads one request head and answers this.
    async fn proxy_answering(
        answer: &'static [u8],
    ) -> (Intercept, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://user:pw@{}", listener.local_addr().unwrap());
        let served = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.unwrap() == 1 {
                head.push(byte[0]);
            }
            stream.write_all(answer).await.unwrap();
            String::from_utf8(head).unwrap()
        });
        let dst: Uri = "https://ingest.example/".parse().unwrap();
        let proxy = Matcher::builder().all(url).build().intercept(&dst).unwrap();
        (proxy, served)
    }

    fn dst() -> Uri {
        "https://ingest.example:8443/v1/logs".parse().unwrap()
    }

    #[tokio::test]
    async fn a_200_opens_the_tunnel_with_the_credentials() {
        let (proxy, served) = proxy_answering(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
        open(HttpConnector::new(), &proxy, dst()).await.unwrap();
        let head = served.await.unwrap();
        assert!(
            head.starts_with("CONNECT ingest.example:8443 HTTP/1.1\r\n"),
            "{head}"
        );
        // user:pw
        assert!(
            head.contains("Proxy-Authorization: Basic dXNlcjpwdw=="),
            "{head}"
        );
    }

    #[tokio::test]
    async fn refusals_quote_the_proxy_and_say_whether_retrying_helps() {
        for (answer, says, permanent) in [
            (
                &b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"[..],
                "refused the proxy credentials",
                true,
            ),
            (
                b"HTTP/1.0 401 Unauthorized\r\n\r\n",
                "refused the proxy credentials",
                true,
            ),
            (
                b"HTTP/1.1 403 Forbidden\r\n\r\n",
                "refused the tunnel",
                true,
            ),
            (
                b"HTTP/1.1 502 Bad Gateway\r\n\r\n",
                "could not open the tunnel",
                false,
            ),
            (
                b"HTTP/1.1 204 No Content\r\n\r\n",
                "could not open the tunnel",
                false,
            ),
            (
                b"SSH-2.0-OpenSSH\r\n\r\n",
                "something other than HTTP",
                false,
            ),
            (b"", "closed the tunnel", false),
        ] {
            let (proxy, _served) = proxy_answering(answer).await;
            let at = authority(proxy.uri());
            let err = open(HttpConnector::new(), &proxy, dst()).await.unwrap_err();
            assert!(err.message.contains(says), "{err}");
            assert!(
                err.message.starts_with(&format!("the proxy {at} ")),
                "{err}"
            );
            assert!(err.message.contains("ingest.example:8443"), "{err}");
            assert_eq!(err.permanent, permanent, "{err}");
            assert!(!err.message.contains("pw"), "{err}");
        }
    }

    #[test]
    fn missing_credentials_are_asked_for() {
        let e = refusal(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n",
            false,
            "p:1",
            "a:443",
        );
        let e = e.unwrap();
        assert!(e.permanent);
        assert!(
            e.message
                .contains("requires credentials (give them in the proxy URL"),
            "{e}"
        );
        assert!(refusal(b"", false, "p:1", "a:443").is_none());
    }
}
