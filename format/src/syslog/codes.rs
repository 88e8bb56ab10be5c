//! The names and numbers the writer and both readers agree on, kept in one
//! place so that what is written is what is read back: the PRI's facility
//! and severity names, the level each severity means, and the SD-ID of the
//! element that carries the record's other fields.

use timber_core::Level;

/// The SD-ID of the element carrying the record's other fields (32473 is the
/// private enterprise number RFC 5612 reserves for documentation).
pub const SD_ID: &str = "timber@32473";

/// Facility names by number (the PRI is `facility * 8 + severity`).
pub(super) const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];
/// The facility written by default, and so not kept in `data`.
pub(super) const USER: usize = 1;
/// Severity names by number, as `data.severity` keeps them.
pub(super) const SEVERITIES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// The level a severity reads as (several severities share one level).
pub(super) fn level_of(severity: usize) -> Level {
    match severity {
        0..=3 => Level::Error,
        4 => Level::Warn,
        5 | 6 => Level::Info,
        _ => Level::Debug,
    }
}

/// The severity a level writes as.
pub(super) fn severity_of(level: Level) -> usize {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug => 7,
    }
}
