//! The environment applied to a [`ClientBuilder`]: what `from_env` and
//! `with_env` read, applied where no builder call gave the setting.

use std::ffi::OsString;

use crate::config::builder::ClientBuilder;
use crate::config::env::{check_header_safe, invalid, parse_duration, EnvVar, EnvVars, ENV_VARS};
use crate::error::ConfigError;
use crate::record::environment::Environment;
use crate::record::level::Level;
use crate::record::limits;

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
    /// | `TIMBERLOGS_SPOOL_DIR` | [`spool`](Self::spool) | a directory (created if missing) |
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
            "spool" => *self = std::mem::take(self).spool(value),
            _ => return None,
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
