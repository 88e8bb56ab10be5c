//! Proxies: which requests go through one (hyper-util's `Matcher`, with the
//! `HTTPS_PROXY`/`NO_PROXY` rules of curl and reqwest), and the connector
//! that reaches the service through it.
//!
//! An `https://` request goes through an HTTP `CONNECT` tunnel (hyper-util's
//! `Tunnel`, see `tunnel.rs`): the proxy relays bytes, and TLS runs end to end
//! between the transport and the service, with the service's certificate
//! verified as always. A plain `http://` request (only with `allow_http`)
//! is sent to the proxy in absolute form, as HTTP proxies expect.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use hyper_util::rt::TokioIo;
use timber_core::ConfigError;
use tokio::net::TcpStream;

use crate::tunnel;

type BoxError = Box<dyn StdError + Send + Sync>;

/// What the builder was told about proxies.
#[derive(Clone, Default)]
pub(crate) enum ProxyChoice {
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY` (or lowercase), read at build.
    #[default]
    FromEnv,
    /// This proxy for every request.
    Explicit(String),
    /// No proxy at all.
    Direct,
}

impl fmt::Debug for ProxyChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyChoice::FromEnv => f.write_str("FromEnv"),
            ProxyChoice::Direct => f.write_str("Direct"),
            // Never the credentials.
            ProxyChoice::Explicit(url) => match check_proxy_url(url) {
                Ok(shown) => write!(f, "Explicit({shown})"),
                Err(_) => f.write_str("Explicit(<invalid>)"),
            },
        }
    }
}

/// The environment variables, uppercase first, as hyper-util and reqwest read them.
const HTTPS_VARS: [&str; 2] = ["HTTPS_PROXY", "https_proxy"];
const HTTP_VARS: [&str; 2] = ["HTTP_PROXY", "http_proxy"];
const NO_PROXY_VARS: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// The proxies in effect: when to use which, and how to describe them
/// without their credentials.
pub(crate) struct Proxies {
    matcher: Matcher,
    described: String,
}

impl fmt::Debug for Proxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.described)
    }
}

impl Proxies {
    /// The proxies of a choice; `None` when every request goes direct.
    pub(crate) fn resolve(
        choice: &ProxyChoice,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Proxies>, ConfigError> {
        match choice {
            ProxyChoice::Direct => Ok(None),
            ProxyChoice::Explicit(url) => {
                let shown = check_proxy_url(url).map_err(|reason| ConfigError {
                    field: "proxy",
                    reason: reason.to_owned(),
                })?;
                Ok(Some(Proxies {
                    matcher: Matcher::builder().all(url.clone()).build(),
                    described: format!("proxy={shown}"),
                }))
            }
            ProxyChoice::FromEnv => {
                // `HTTP_PROXY` can be set by a client's `Proxy:` header in a
                // CGI program (httpoxy): ignored there, as Go and curl do.
                let cgi = lookup("REQUEST_METHOD").is_some();
                let first = |names: &[&'static str]| {
                    names.iter().find_map(|name| {
                        let value = lookup(name)?;
                        let value = value.trim().to_owned();
                        let ignored = value.is_empty() || (cgi && *name == "HTTP_PROXY");
                        (!ignored).then_some((*name, value))
                    })
                };
                let https = first(&HTTPS_VARS);
                let http = first(&HTTP_VARS);
                if https.is_none() && http.is_none() {
                    return Ok(None);
                }
                let mut described = Vec::new();
                let mut builder = Matcher::builder();
                for (scheme, found) in [("https", &https), ("http", &http)] {
                    let Some((name, url)) = found else { continue };
                    let shown = check_proxy_url(url).map_err(|reason| ConfigError {
                        field: name,
                        reason: reason.to_owned(),
                    })?;
                    described.push(format!("{scheme}_proxy={shown} (from {name})"));
                    builder = match scheme {
                        "https" => builder.https(url.clone()),
                        _ => builder.http(url.clone()),
                    };
                }
                if let Some((name, no)) = first(&NO_PROXY_VARS) {
                    described.push(format!("no_proxy={no} (from {name})"));
                    builder = builder.no(no);
                }
                Ok(Some(Proxies {
                    matcher: builder.build(),
                    described: described.join(", "),
                }))
            }
        }
    }

    /// The proxy for a request to `dst`, if it goes through one.
    pub(crate) fn intercept(&self, dst: &Uri) -> Option<Intercept> {
        self.matcher.intercept(dst)
    }
}

/// Checks a proxy URL: `http://[user:password@]host[:port]` (a missing
/// scheme means `http://`). Returns it without its credentials, for
/// messages; the reason of a refusal never quotes the URL.
fn check_proxy_url(url: &str) -> Result<String, &'static str> {
    const EXPECTED: &str = "expected http://[user:password@]host[:port] (HTTPS requests are tunnelled through it with CONNECT, TLS end to end)";
    let url = url.trim();
    let with_scheme;
    let url = if url.contains("://") {
        url
    } else {
        with_scheme = format!("http://{url}");
        &with_scheme
    };
    let uri: Uri = url.parse().map_err(|_| EXPECTED)?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err("a proxy reached over TLS (https://) is not supported: use http://host:port (HTTPS requests are still tunnelled through it, TLS end to end)")
        }
        _ => return Err("only HTTP proxies (http://host:port) are supported"),
    }
    let authority = uri.authority().ok_or(EXPECTED)?;
    let host_port = authority
        .as_str()
        .rsplit_once('@')
        .map_or(authority.as_str(), |(_, host)| host);
    if host_port.is_empty() || host_port.starts_with(':') {
        return Err(EXPECTED);
    }
    Ok(format!("http://{host_port}"))
}

/// The TCP connection under the transport's TLS (or plain HTTP), direct or
/// through a proxy.
pub(crate) struct ProxyStream {
    io: TokioIo<TcpStream>,
    /// Connected to an HTTP proxy that forwards the request itself (plain
    /// HTTP): requests are then written in absolute form.
    forwarding: bool,
}

impl Connection for ProxyStream {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.forwarding)
    }
}

impl Read for ProxyStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for ProxyStream {
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

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

/// Connects to the destination, directly or through the proxy that the
/// [`Proxies`] pick for it. The TLS connector wraps it, so TLS runs over
/// the tunnel to the destination itself.
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    pub(crate) http: HttpConnector,
    pub(crate) proxies: Option<Arc<Proxies>>,
}

impl tower_service::Service<Uri> for ProxyConnector {
    type Response = ProxyStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<ProxyStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let intercept = self.proxies.as_ref().and_then(|p| p.intercept(&dst));
        let mut http = self.http.clone();
        Box::pin(async move {
            let (io, forwarding) = match intercept {
                None => (http.call(dst).await?, false),
                Some(proxy) if dst.scheme_str() == Some("https") => {
                    (tunnel::open(http, &proxy, dst).await?, false)
                }
                Some(proxy) => (tunnel::reach(http, proxy.uri().clone()).await?, true),
            };
            Ok(ProxyStream { io, forwarding })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn resolve(vars: &[(&str, &str)]) -> Result<Option<Proxies>, ConfigError> {
        Proxies::resolve(&ProxyChoice::FromEnv, env(vars))
    }

    fn via(proxies: &Proxies, url: &str) -> Option<String> {
        proxies
            .intercept(&url.parse().unwrap())
            .map(|p| p.uri().authority().unwrap().to_string())
    }

    #[test]
    fn environment_variables_pick_a_proxy_per_scheme_unless_no_proxy_says_otherwise() {
        let proxies = resolve(&[
            ("HTTPS_PROXY", "http://user:s3cret@proxy.corp:3128"),
            ("http_proxy", "plain.corp:8080"),
            ("no_proxy", "localhost, .internal,10.0.0.0/8"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            via(&proxies, "https://ingest.example.com/v1/logs").as_deref(),
            Some("proxy.corp:3128")
        );
        assert_eq!(
            via(&proxies, "http://ingest.example.com/").as_deref(),
            Some("plain.corp:8080")
        );
        for bypassed in [
            "https://localhost:8443/",
            "https://logs.internal/",
            "https://10.1.2.3/",
        ] {
            assert_eq!(via(&proxies, bypassed), None, "{bypassed}");
        }
        let shown = format!("{proxies:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("user"),
            "{shown}"
        );
        assert!(shown.contains("https_proxy=http://proxy.corp:3128 (from HTTPS_PROXY)"));
        let auth = proxies
            .intercept(&"https://x/".parse().unwrap())
            .unwrap()
            .basic_auth()
            .cloned()
            .unwrap();
        assert!(auth.is_sensitive());
    }

    #[test]
    fn uppercase_wins_and_blank_or_missing_means_direct() {
        let proxies = resolve(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(via(&proxies, "https://a/").as_deref(), Some("upper:1"));
        assert!(resolve(&[]).unwrap().is_none());
        assert!(resolve(&[("HTTPS_PROXY", "  ")]).unwrap().is_none());
        assert!(resolve(&[("NO_PROXY", "*")]).unwrap().is_none());
    }

    #[test]
    fn http_proxy_is_ignored_in_a_cgi_program() {
        let vars = [("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "http://evil:1")];
        assert!(resolve(&vars).unwrap().is_none());
    }

    #[test]
    fn unusable_proxy_urls_are_refused_naming_the_variable_and_not_the_credentials() {
        for (value, says) in [
            ("socks5://user:pw@proxy:1080", "only HTTP proxies"),
            (
                "https://user:pw@proxy:443",
                "over TLS (https://) is not supported",
            ),
            ("http://user:pw@", "expected http://"),
            ("http://user:pw@:8080", "expected http://"),
        ] {
            let err = resolve(&[("https_proxy", value)]).unwrap_err();
            assert_eq!(err.field, "https_proxy");
            assert!(err.reason.contains(says), "{value}: {err}");
            assert!(!err.to_string().contains("pw"), "{err}");
        }
        let err =
            Proxies::resolve(&ProxyChoice::Explicit("ftp://p:1".into()), env(&[])).unwrap_err();
        assert_eq!(err.field, "proxy");
    }

    #[test]
    fn an_explicit_proxy_takes_every_request_and_direct_ignores_the_environment() {
        let vars = [("HTTPS_PROXY", "http://from-env:1")];
        let explicit = Proxies::resolve(
            &ProxyChoice::Explicit("http://mine:3128".into()),
            env(&vars),
        )
        .unwrap()
        .unwrap();
        assert_eq!(via(&explicit, "https://a/").as_deref(), Some("mine:3128"));
        assert_eq!(
            via(&explicit, "http://127.0.0.1:9/").as_deref(),
            Some("mine:3128")
        );
        assert!(Proxies::resolve(&ProxyChoice::Direct, env(&vars))
            .unwrap()
            .is_none());
    }
}
