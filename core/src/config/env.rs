//! Configuration from `TIMBERLOGS_*` environment variables, under the
//! settings given by builder calls.
//!
//! Kept apart from the builder's settings so the two evolve separately: the
//! builder marks what a call set ([`Explicit`]), and [`ClientBuilder::apply_env`]
//! fills the rest from the variables read by `from_env`/`with_env`.

use std::ffi::OsString;
use std::time::Duration;

use crate::config::builder::ClientBuilder;
use crate::error::ConfigError;
use crate::record::environment::Environment;
use crate::record::level::Level;
use crate::record::validate::limits;

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

/// Every variable [`ClientBuilder::from_env`] reads, in the order they are
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

    fn has(&self, setting: &str) -> bool {
        self.0.contains(&setting)
    }
}

/// The values of the variables, as read (an unreadable one is kept as an error).
#[derive(Clone, Debug, Default)]
pub(super) struct EnvVars(Vec<(&'static EnvVar, Result<String, ()>)>);

impl EnvVars {
    fn read(mut lookup: impl FnMut(&str) -> Option<OsString>) -> EnvVars {
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

    fn get(&self, name: &str) -> Option<&Result<String, ()>> {
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
fn parse_duration(text: &str) -> Option<Duration> {
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
fn invalid(var: &EnvVar, value: Option<&str>) -> ConfigError {
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

impl ClientBuilder {
    /// A builder configured from the `TIMBERLOGS_*` environment variables
    /// ([`ENV_VARS`]); builder calls made afterwards (or before, with
    /// [`with_env`](Self::with_env)) win over the environment.
    ///
    /// | variable | setting | value |
    /// |---|---|---|
    /// | `TIMBERLOGS_API_KEY` | [`api_key`](Self::api_key) | required (unless set by a call) |
    /// | `TIMBERLOGS_SOURCE` | [`source`](Self::source) | required (unless set by a call), 1 to 100 characters |
    /// | `TIMBERLOGS_ENVIRONMENT` | [`environment`](Self::environment) | `development` (`dev`), `staging`, `production` (`prod`) |
    /// | `TIMBERLOGS_ENDPOINT` | [`base_url`](Self::base_url) | `https://...` (or `http://...`) |
    /// | `TIMBERLOGS_VERSION` | [`version`](Self::version) | at most 100 characters |
    /// | `TIMBERLOGS_DATASET` | [`dataset`](Self::dataset) | at most 50 characters |
    /// | `TIMBERLOGS_MIN_LEVEL` | [`min_level`](Self::min_level) | `debug`, `info`, `warn`, `error` |
    /// | `TIMBERLOGS_BATCH_SIZE` | [`batch_size`](Self::batch_size) | a whole number, at least 1 |
    /// | `TIMBERLOGS_FLUSH_INTERVAL` | [`flush_interval`](Self::flush_interval) | `5`, `0.5` (seconds), `500ms`, `5s`, `2m` |
    ///
    /// Values are trimmed, and an empty variable counts as unset. A missing
    /// required variable or an invalid value is a [`ConfigError`] from
    /// [`build`](Self::build) that names the variable and what it expects;
    /// it quotes an invalid value, except the key's and the URL's.
    ///
    /// ```
    /// use timber_core::{ClientBuilder, Error};
    /// # #[path = "../../tests/double/mod.rs"] mod double;
    /// # use double::MockTransport;
    ///
    /// // What a deployment would export (here without touching the process environment).
    /// let env = [("TIMBERLOGS_API_KEY", "tb_live_abc"), ("TIMBERLOGS_BATCH_SIZE", "lots")];
    /// let err = ClientBuilder::default()
    ///     .with_env_vars(env)
    ///     .source("api")
    ///     .transport(MockTransport::new())
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "invalid configuration: TIMBERLOGS_BATCH_SIZE: expected a whole number of records, at least 1, got \"lots\""
    /// );
    ///
    /// // An explicit call wins over the variable.
    /// let client = ClientBuilder::default()
    ///     .with_env_vars(env)
    ///     .source("api")
    ///     .batch_size(50)
    ///     .transport(MockTransport::new())
    ///     .build()?;
    /// assert_eq!(client.config().batch_size, 50);
    /// assert_eq!(client.config().api_key.expose(), "tb_live_abc");
    /// # Ok::<(), Error>(())
    /// ```
    pub fn from_env() -> ClientBuilder {
        ClientBuilder::default().with_env()
    }

    /// Reads the `TIMBERLOGS_*` variables now (see
    /// [`from_env`](Self::from_env)); they fill, at [`build`](Self::build),
    /// every setting no builder call gave, before or after this one.
    pub fn with_env(self) -> ClientBuilder {
        self.env_from(|name| std::env::var_os(name))
    }

    /// Like [`with_env`](Self::with_env), with the variables given as
    /// name/value pairs instead of read from the process (for tests, or
    /// settings kept elsewhere); names other than [`ENV_VARS`] are ignored.
    pub fn with_env_vars<K, V>(self, vars: impl IntoIterator<Item = (K, V)>) -> ClientBuilder
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        let vars: Vec<(String, String)> = vars
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.into()))
            .collect();
        self.env_from(|name| {
            vars.iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    fn env_from(mut self, lookup: impl FnMut(&str) -> Option<OsString>) -> ClientBuilder {
        self.env = Some(EnvVars::read(lookup));
        self
    }

    /// Fills the settings no call gave from the variables read, checking
    /// each value; reports a required setting that neither gave.
    pub(crate) fn apply_env(mut self) -> Result<ClientBuilder, ConfigError> {
        let Some(vars) = self.env.take() else {
            return Ok(self);
        };
        for var in ENV_VARS {
            if self.explicit.has(var.setting) {
                continue;
            }
            let value = match vars.get(var.name) {
                Some(Ok(value)) => value.as_str(),
                // Not Unicode: no setting can use it.
                Some(Err(())) => return Err(invalid(var, None)),
                None if var.required => {
                    return Err(ConfigError {
                        field: var.name,
                        reason: format!(
                            "is not set: expected {}, or a call to ClientBuilder::{}",
                            var.expects, var.setting
                        ),
                    })
                }
                None => continue,
            };
            self.apply(var, value)
                .ok_or_else(|| invalid(var, Some(value)))?;
        }
        Ok(self)
    }

    /// Sets one setting from its variable; `None` if the value is invalid.
    fn apply(&mut self, var: &EnvVar, value: &str) -> Option<()> {
        let chars = value.chars().count();
        match var.setting {
            "api_key" => {
                check_header_safe(value).ok()?;
                self.api_key = Some(value.to_owned());
            }
            "source" => {
                (chars <= limits::SOURCE).then_some(())?;
                self.source = Some(value.to_owned());
            }
            "environment" => self.environment = value.parse::<Environment>().ok()?,
            "base_url" => {
                (value.starts_with("https://") || value.starts_with("http://")).then_some(())?;
                self.base_url = value.to_owned();
            }
            "version" => {
                (chars <= limits::ID).then_some(())?;
                self.version = Some(value.to_owned());
            }
            "dataset" => {
                (chars <= limits::DATASET).then_some(())?;
                self.dataset = Some(value.to_owned());
            }
            "min_level" => self.min_level = value.parse::<Level>().ok()?,
            "batch_size" => {
                self.batch_size = value.parse::<usize>().ok().filter(|n| *n >= 1)?;
            }
            "flush_interval" => self.flush_interval = parse_duration(value)?,
            _ => return None,
        }
        Some(())
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

    #[test]
    fn every_variable_has_a_setting_the_builder_applies() {
        for var in ENV_VARS {
            assert!(var.name.starts_with("TIMBERLOGS_"), "{}", var.name);
            let sample = match var.setting {
                "environment" => "staging",
                "base_url" => "https://example.com",
                "min_level" => "warn",
                "batch_size" => "20",
                "flush_interval" => "2s",
                _ => "tb_test_sample",
            };
            assert_eq!(
                ClientBuilder::default().apply(var, sample),
                Some(()),
                "{}",
                var.name
            );
        }
    }
}
