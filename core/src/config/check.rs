//! From a builder's settings to a [`Config`]: every setting checked, the
//! environment applied, the transport made.

use std::sync::Arc;

use crate::config::builder::ClientBuilder;
use crate::config::env;
use crate::config::overflow::OverflowPolicy;
use crate::config::settings::{
    Config, OnError, DEFAULT_MAX_BATCH_RECORDS, MAX_IN_FLIGHT, MIN_BATCH_BYTES,
};
use crate::error::{ConfigError, Error};
use crate::record::limits;
use crate::transport::api_key::ApiKey;
use crate::transport::port::Transport;

impl ClientBuilder {
    /// The configuration and the transport, or the first setting refused.
    pub(crate) fn into_config(self) -> Result<(Config, Arc<dyn Transport>), ConfigError> {
        let this = self.apply_env()?;
        this.check_config()
    }

    fn check_config(self) -> Result<(Config, Arc<dyn Transport>), ConfigError> {
        let bad = |field: &'static str, reason: &str| ConfigError {
            field,
            reason: reason.to_owned(),
        };
        let source = self.source.ok_or_else(|| bad("source", "is required"))?;
        if source.is_empty() || source.chars().count() > limits::SOURCE {
            return Err(bad("source", "must be 1 to 100 characters"));
        }
        let api_key = self.api_key.ok_or_else(|| bad("api_key", "is required"))?;
        if api_key.trim().is_empty() {
            return Err(bad("api_key", "must not be empty"));
        }
        if let Err(reason) = env::check_header_safe(&api_key) {
            return Err(bad("api_key", reason));
        }
        let base_url = check_base_url(&self.base_url).map_err(|reason| bad("base_url", reason))?;
        let optional = |field: &'static str, value: Option<String>, max: usize| match value {
            Some(v) if v.chars().count() > max => {
                Err(bad(field, &format!("must be at most {max} characters")))
            }
            v => Ok(v.map(Arc::<str>::from)),
        };
        let version = optional("version", self.version, limits::ID)?;
        let user_id = optional("user_id", self.user_id, limits::ID)?;
        let session_id = optional("session_id", self.session_id, limits::ID)?;
        let dataset = optional("dataset", self.dataset, limits::DATASET)?;
        if self.batch_size == 0 {
            return Err(bad("batch_size", "must be at least 1"));
        }
        if self.flush_interval.is_zero() {
            return Err(bad("flush_interval", "must be more than zero"));
        }
        let max_batch_records = self
            .max_batch_records
            .unwrap_or(DEFAULT_MAX_BATCH_RECORDS.max(self.batch_size));
        if max_batch_records < self.batch_size {
            return Err(bad("max_batch_records", "must be at least batch_size"));
        }
        if self.max_batch_bytes < MIN_BATCH_BYTES {
            return Err(bad("max_batch_bytes", "must be at least 16 KiB"));
        }
        if !(1..=MAX_IN_FLIGHT).contains(&self.max_in_flight) {
            return Err(bad("max_in_flight", "must be 1 to 64"));
        }
        if self.queue_capacity < self.batch_size {
            return Err(bad("queue_capacity", "must be at least batch_size"));
        }
        if self.queue_max_bytes < self.max_batch_bytes {
            return Err(bad("queue_max_bytes", "must be at least max_batch_bytes"));
        }
        if !(self.retry.multiplier.is_finite() && self.retry.multiplier >= 1.0) {
            return Err(bad("retry.multiplier", "must be a finite number >= 1"));
        }
        if self.overflow == OverflowPolicy::Spool && self.spool.is_none() {
            return Err(bad("overflow", "the Spool policy needs a spool directory"));
        }
        if self.spool_max_bytes.is_some() && self.spool.is_none() {
            return Err(bad(
                "spool_max_bytes",
                "needs a spool directory (spool(dir))",
            ));
        }
        let transport = match (self.transport, self.default_transport) {
            (Some(transport), _) => transport,
            (None, Some(make)) => make()?,
            (None, None) => return Err(bad("transport", "is required")),
        };
        let on_error = self.on_error.unwrap_or_else(to_stderr);
        let config = Config {
            source: source.into(),
            environment: self.environment,
            api_key: ApiKey::new(api_key),
            base_url,
            version,
            user_id,
            session_id,
            dataset,
            batch_size: self.batch_size,
            max_batch_records,
            max_batch_bytes: self.max_batch_bytes,
            max_in_flight: self.max_in_flight,
            flush_interval: self.flush_interval,
            min_level: self.min_level,
            retry: self.retry,
            queue_capacity: self.queue_capacity,
            queue_max_bytes: self.queue_max_bytes,
            overflow: self.overflow,
            shutdown_timeout: self.shutdown_timeout,
            on_error,
            raw_validator: self.raw_validator,
            check_raw_bodies: self.check_raw_bodies,
            spool: self.spool,
            in_async_context: self.in_async_context,
            thread_priority: self.thread_priority,
            backtrace: self.backtrace,
            hooks: self.hooks.build()?,
        };
        Ok((config, transport))
    }
}

/// The base URL without its trailing slashes, or why it is refused: it must
/// be `http(s)://host[:port][/path]`, since requests append their own path
/// and query, and the key goes in a header, never in the URL (where errors
/// and logs would show it).
fn check_base_url(url: &str) -> Result<String, &'static str> {
    let url = url.trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must start with https:// (or http://)")?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return Err("has no host");
    }
    if host.contains('@') {
        return Err("must not hold a user name or password (the API key goes in api_key)");
    }
    if rest.contains(['?', '#']) {
        return Err("must not have a query or fragment (requests add their own)");
    }
    if !rest.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be visible ASCII characters only (escape the rest as URLs do)");
    }
    Ok(url.to_owned())
}

/// The default `on_error`: one line per error on stderr, written by a thread
/// of its own. A stderr pipe that nobody drains then blocks that thread
/// only; while it is blocked, at most 256 lines wait and later ones are
/// skipped (the counters still count everything).
fn to_stderr() -> OnError {
    use std::io::Write;
    use std::sync::mpsc::{sync_channel, SyncSender};
    use std::sync::OnceLock;
    static LINES: OnceLock<Option<SyncSender<String>>> = OnceLock::new();
    let lines = LINES.get_or_init(|| {
        let (tx, rx) = sync_channel::<String>(256);
        crate::rt::threads::spawn("stderr", move || {
            for line in rx {
                let _ = writeln!(std::io::stderr(), "{line}");
            }
        })
        .ok()?;
        Some(tx)
    });
    Arc::new(move |e: &Error| {
        if let Some(lines) = lines {
            let _ = lines.try_send(format!("timber: {e}"));
        }
    })
}
