//! Lenient level names shared by the readers.

use timber_core::Level;

/// A level from the names real producers use, case-insensitively:
/// `trace`/`debug`, `info`/`notice`, `warn`/`warning`, `error`/`fatal`/`critical`...
pub(crate) fn level_from_name(s: &str) -> Option<Level> {
    const NAMES: [(&str, Level); 21] = [
        ("info", Level::Info),
        ("error", Level::Error),
        ("warn", Level::Warn),
        ("debug", Level::Debug),
        ("warning", Level::Warn),
        ("trace", Level::Debug),
        ("verbose", Level::Debug),
        ("information", Level::Info),
        ("informational", Level::Info),
        ("notice", Level::Info),
        ("log", Level::Info),
        ("err", Level::Error),
        ("fatal", Level::Error),
        ("critical", Level::Error),
        ("crit", Level::Error),
        ("alert", Level::Error),
        ("emerg", Level::Error),
        ("emergency", Level::Error),
        ("panic", Level::Error),
        ("severe", Level::Error),
        ("dbg", Level::Debug),
    ];
    NAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map(|&(_, level)| level)
}

/// pino/bunyan numeric levels: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
pub(crate) fn level_from_number(n: f64) -> Level {
    if n < 30.0 {
        Level::Debug
    } else if n < 40.0 {
        Level::Info
    } else if n < 50.0 {
        Level::Warn
    } else {
        Level::Error
    }
}
