//! The API key, which must never reach any output.

use std::fmt;

/// An API key (`tb_live_...` / `tb_test_...`). Its `Debug` and `Display`
/// print a redaction; only [`ApiKey::expose`] gives the key, for the header
/// that carries it.
///
/// ```
/// use timber_core::transport::ApiKey;
/// let key = ApiKey::new("tb_live_abcdef123456");
/// assert_eq!(format!("{key:?}"), "ApiKey(tb_live_***)");
/// assert_eq!(key.expose(), "tb_live_abcdef123456");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself, for the transport to authenticate with and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn redacted(&self) -> &'static str {
        if self.0.starts_with("tb_live_") {
            "tb_live_***"
        } else if self.0.starts_with("tb_test_") {
            "tb_test_***"
        } else {
            "***"
        }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.redacted())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.redacted())
    }
}
