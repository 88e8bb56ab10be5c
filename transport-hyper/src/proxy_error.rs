//! [`ProxyError`]: a connection that failed on the way through a proxy.

use std::error::Error as StdError;
use std::fmt;

use hyper::Uri;

/// A connection failure on the way through a proxy: what the proxy said
/// (or that it could not be reached), naming it and the destination, and
/// whether retrying can help (a refusal of the credentials cannot).
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

/// `host:port` of a URI, for messages (a proxy URI's has no credentials:
/// hyper-util's `Matcher` takes them out).
pub(crate) fn authority(uri: &Uri) -> String {
    uri.authority().map_or_else(String::new, |a| a.to_string())
}
