//! Raw format ingestion: the six formats and the per-request options.

use std::fmt;
use std::str::FromStr;

use crate::record::environment::Environment;
use crate::record::level::{Level, UnknownName};

/// The raw formats the ingestion endpoint accepts.
///
/// ```
/// use timber_core::RawFormat;
/// let f: RawFormat = "jsonl".parse().unwrap();
/// assert_eq!(f, RawFormat::Jsonl);
/// assert_eq!(f.content_type(), "application/x-ndjson");
/// assert_eq!(RawFormat::ALL.len(), 6);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RawFormat {
    /// A JSON array of records, or an object holding them in `logs`.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// RFC 5424 or RFC 3164 lines.
    Syslog,
    /// One log per line.
    Text,
    /// A header row, then data rows.
    Csv,
    /// Open Board Logging.
    Obl,
}

impl RawFormat {
    /// Every format.
    pub const ALL: [RawFormat; 6] = [
        RawFormat::Json,
        RawFormat::Jsonl,
        RawFormat::Syslog,
        RawFormat::Text,
        RawFormat::Csv,
        RawFormat::Obl,
    ];

    /// The `format=` query value.
    pub fn as_str(self) -> &'static str {
        match self {
            RawFormat::Json => "json",
            RawFormat::Jsonl => "jsonl",
            RawFormat::Syslog => "syslog",
            RawFormat::Text => "text",
            RawFormat::Csv => "csv",
            RawFormat::Obl => "obl",
        }
    }

    /// The media type of a body in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            RawFormat::Json => "application/json",
            RawFormat::Jsonl => "application/x-ndjson",
            RawFormat::Syslog => "application/x-syslog",
            RawFormat::Text => "text/plain",
            RawFormat::Csv => "text/csv",
            RawFormat::Obl => "application/x-obl",
        }
    }
}

impl fmt::Display for RawFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RawFormat {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RawFormat::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownName {
                kind: "format",
                value: s.to_owned(),
            })
    }
}

/// Defaults the server applies to raw records that lack them. The client
/// fills `source`, `environment` and `dataset` from its configuration when
/// they are left `None`.
///
/// ```
/// use timber_core::{IngestRawOptions, Level};
/// let options = IngestRawOptions::new().source("syslog-relay").level(Level::Warn);
/// assert_eq!(options.source.as_deref(), Some("syslog-relay"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IngestRawOptions {
    /// Default source.
    pub source: Option<String>,
    /// Default environment.
    pub environment: Option<Environment>,
    /// Default level.
    pub level: Option<Level>,
    /// Default dataset.
    pub dataset: Option<String>,
}

impl IngestRawOptions {
    /// No defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the default source.
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Sets the default environment.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = Some(environment);
        self
    }

    /// Sets the default level.
    pub fn level(mut self, level: Level) -> Self {
        self.level = Some(level);
        self
    }

    /// Sets the default dataset.
    pub fn dataset(mut self, dataset: impl Into<String>) -> Self {
        self.dataset = Some(dataset.into());
        self
    }
}
