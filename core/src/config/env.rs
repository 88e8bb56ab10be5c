//! Configuration from `TIMBERLOGS_*` environment variables, under the
//! settings given by builder calls.
//!
//! Kept apart from the builder's settings so the two evolve separately: the
//! builder marks what a call set ([`Explicit`]), and [`ClientBuilder::apply_env`]
//! fills the rest from the variables read by `from_env`/`with_env`.

use std::ffi::OsString;
use std::time::Duration;

use crate::error::ConfigError;

/// One environment variable the client reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnvVar {
    /// The variable (`TIMBERLOGS_API_KEY`).
    pub name: &'static str,
    /// The builder setting it stands for (`api_key`).
    pub setting: &'static str,
    /// What it must hold, as error messages say it.
    pub expects: &'static str,
    /// Whether a client cannot do without it (or the builder call).
    pub required: bool,
}

const fn var(name: &'static str, setting: &'static str, expects: &'static str) -> EnvVar {
    EnvVar {
        name,
        setting,
        expects,
        required: false,
    }
}

/// Every variable [`ClientBuilder::from_env`](crate::ClientBuilder::from_env) reads, in the order they are
/// checked (the first problem is the one reported).
pub const ENV_VARS: &[EnvVar] = &[
    EnvVar {
        required: true,
        ..var(
            "TIMBERLOGS_API_KEY",
            "api_key",
            "the API key (tb_live_... or tb_test_...), visible ASCII characters only",
        )
    },
    EnvVar {
        required: true,
        ..var(
            "TIMBERLOGS_SOURCE",
            "source",
            "the application's name, 1 to 100 characters",
        )
    },
    var(
        "TIMBERLOGS_ENVIRONMENT",
        "environment",
        "development, staging or production",
    ),
    var(
        "TIMBERLOGS_ENDPOINT",
        "base_url",
        "the ingest service's base URL, starting with https:// (or http://)",
    ),
    var(
        "TIMBERLOGS_VERSION",
        "version",
        "the application's version, at most 100 characters",
    ),
    var(
        "TIMBERLOGS_DATASET",
        "dataset",
        "a dataset name, at most 50 characters",
    ),
    var(
        "TIMBERLOGS_MIN_LEVEL",
        "min_level",
        "debug, info, warn or error",
    ),
    var(
        "TIMBERLOGS_BATCH_SIZE",
        "batch_size",
        "a whole number of records, at least 1",
    ),
    var(
        "TIMBERLOGS_FLUSH_INTERVAL",
        "flush_interval",
        "a duration above zero: seconds (5, 0.5) or with a unit (500ms, 5s, 2m)",
    ),
    var(
        "TIMBERLOGS_SPOOL_DIR",
        "spool",
        "a directory for the spool (created if missing)",
    ),
];

/// The settings a builder call gave.
#[derive(Clone, Debug, Default)]
pub(super) struct Explicit(Vec<&'static str>);

impl Explicit {
    pub(super) fn mark(&mut self, setting: &'static str) {
        if !self.has(setting) {
            self.0.push(setting);
        }
    }

    pub(super) fn has(&self, setting: &str) -> bool {
        self.0.contains(&setting)
    }
}

/// The values of the variables, as read (an unreadable one is kept as an error).
#[derive(Clone, Debug, Default)]
pub(super) struct EnvVars(Vec<(&'static EnvVar, Result<String, ()>)>);

impl EnvVars {
    pub(super) fn read(mut lookup: impl FnMut(&str) -> Option<OsString>) -> EnvVars {
        let mut values = Vec::new();
        for var in ENV_VARS {
            let Some(raw) = lookup(var.name) else {
                continue;
            };
            let value = raw.into_string().map(|s| s.trim().to_owned()).map_err(drop);
            // An empty variable counts as unset, as for most tools.
            if value.as_ref().is_ok_and(String::is_empty) {
                continue;
            }
            values.push((var, value));
        }
        EnvVars(values)
    }

    pub(super) fn get(&self, name: &str) -> Option<&Result<String, ()>> {
        self.0
            .iter()
            .find(|(var, _)| var.name == name)
            .map(|(_, value)| value)
    }
}

/// Whether a value can travel in an HTTP header as it is: visible ASCII
/// only (no space, CR, LF, tab or other control character). Never quotes
/// the value, which may be a secret.
pub(super) fn check_header_safe(value: &str) -> Result<(), &'static str> {
    if value.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else if value.bytes().any(|b| b == b'\r' || b == b'\n') {
        Err("must not contain CR or LF (it is sent in an HTTP header)")
    } else {
        Err("must be visible ASCII characters only: no spaces, control or non-ASCII characters (it is sent in an HTTP header)")
    }
}

/// Reads `TIMBERLOGS_FLUSH_INTERVAL`: `5`, `0.5` (seconds), `500ms`, `5s`, `2m`.
pub(super) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "secs" => number,
        "ms" => number / 1000.0,
        "m" | "min" | "mins" => number * 60.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
}

/// An error naming the variable and what it expects, quoting the value when
/// it can be shown (never for the key or the URL, which may hold secrets).
pub(super) fn invalid(var: &EnvVar, value: Option<&str>) -> ConfigError {
    let shown = match (var.setting, value) {
        ("api_key" | "base_url", _) | (_, None) => String::new(),
        (_, Some(v)) => {
            let mut cut: String = v.chars().take(60).collect();
            if cut.len() < v.len() {
                cut.push('…');
            }
            format!(", got {cut:?}")
        }
    };
    ConfigError {
        field: var.name,
        reason: format!("expected {}{shown}", var.expects),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_seconds_or_with_a_unit() {
        let ms = Duration::from_millis;
        for (text, expected) in [
            ("5", ms(5000)),
            ("0.5", ms(500)),
            ("500ms", ms(500)),
            (" 5s ", ms(5000)),
            ("2m", ms(120_000)),
            ("1.5 s", ms(1500)),
        ] {
            assert_eq!(parse_duration(text), Some(expected), "{text}");
        }
        for bad in ["", "0", "0s", "-1", "5h", "s", "1e3", "NaN", "inf", "5 5"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn header_safety_refuses_what_could_split_a_header() {
        assert!(check_header_safe("tb_live_abc123").is_ok());
        for bad in [
            "a\r\nX-Evil: 1",
            "a\nb",
            "with space",
            "tab\tin",
            "caf\u{e9}",
            "nul\0",
        ] {
            assert!(check_header_safe(bad).is_err(), "{bad:?}");
        }
        assert!(check_header_safe("a\nb").unwrap_err().contains("CR or LF"));
    }
}
