//! [`BuildError`]: why an HTTP client or a transport could not be built.

use std::fmt;

use timber_core::ConfigError;

/// Why a transport could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// A custom CA could not be read.
    Certificate(String),
    /// No root certificate is trusted at all.
    NoTrustedRoots,
    /// rustls refused the settings.
    Tls(String),
    /// The transport's runtime could not start.
    Runtime(std::io::Error),
    /// A setting is invalid: a custom header, a proxy URL (given to
    /// [`HttpClientBuilder::proxy`](crate::HttpClientBuilder::proxy) or in `HTTPS_PROXY`...). The error
    /// names the setting or the variable, never a header value or a proxy
    /// password.
    Config(ConfigError),
}

impl From<ConfigError> for BuildError {
    fn from(e: ConfigError) -> Self {
        BuildError::Config(e)
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Certificate(e) => write!(f, "invalid CA certificate: {e}"),
            BuildError::NoTrustedRoots => f.write_str("no trusted root certificate"),
            BuildError::Tls(e) => write!(f, "TLS settings refused: {e}"),
            BuildError::Runtime(e) => write!(f, "cannot start the transport runtime: {e}"),
            BuildError::Config(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Runtime(e) => Some(e),
            BuildError::Config(e) => Some(e),
            _ => None,
        }
    }
}
