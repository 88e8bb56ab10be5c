//! Log levels and their order.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The severity of a log record, ordered `Debug < Info < Warn < Error`.
///
/// ```
/// use timber_core::Level;
/// assert!(Level::Debug < Level::Error);
/// assert_eq!("warn".parse::<Level>().unwrap(), Level::Warn);
/// assert_eq!(Level::Info.as_str(), "info");
/// ```
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Detailed diagnostic information.
    Debug,
    /// Normal operations.
    #[default]
    Info,
    /// Conditions that might indicate a problem.
    Warn,
    /// Failures.
    Error,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 4] = [Level::Debug, Level::Info, Level::Warn, Level::Error];

    /// The wire name: `debug`, `info`, `warn` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown level or environment name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownName {
    /// What was being parsed (`level`, `environment`, `format`).
    pub kind: &'static str,
    /// The text that matched nothing.
    pub value: String,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?}", self.kind, self.value)
    }
}

impl std::error::Error for UnknownName {}

impl FromStr for Level {
    type Err = UnknownName;

    /// Accepts the wire names, case-insensitively, plus `warning`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "debug" => Ok(Level::Debug),
            "info" => Ok(Level::Info),
            "warn" | "warning" => Ok(Level::Warn),
            "error" => Ok(Level::Error),
            _ => Err(UnknownName {
                kind: "level",
                value: s.to_owned(),
            }),
        }
    }
}
