//! The logging methods of [`Client`] and [`Flow`]: each admits its record,
//! builds a [`Draft`](crate::Draft) and emits it.

use serde::Serialize;

use crate::client::error_arg::ErrorOrData;
use crate::client::flow::Flow;
use crate::client::Client;
use crate::error::Error;
use crate::record::entry::{LogEntry, LogOptions};
use crate::record::level::Level;

impl Client {
    /// Logs at debug level. `data` is anything that serializes to a JSON
    /// object, or `()` for none.
    pub fn debug(
        &self,
        message: impl AsRef<str>,
        data: impl Serialize,
        options: impl Into<Option<LogOptions>>,
    ) -> &Self {
        log_data(self, None, Level::Debug, message, data, options.into());
        self
    }

    /// Logs at info level.
    pub fn info(
        &self,
        message: impl AsRef<str>,
        data: impl Serialize,
        options: impl Into<Option<LogOptions>>,
    ) -> &Self {
        log_data(self, None, Level::Info, message, data, options.into());
        self
    }

    /// Logs at warn level.
    pub fn warn(
        &self,
        message: impl AsRef<str>,
        data: impl Serialize,
        options: impl Into<Option<LogOptions>>,
    ) -> &Self {
        log_data(self, None, Level::Warn, message, data, options.into());
        self
    }

    /// Logs at error level, with an error value (`&err` of any
    /// `std::error::Error`, a `Box<dyn Error>`, an `anyhow::Error` or
    /// `eyre::Report` with their features), whose name, message, cause
    /// chain and a backtrace are extracted, or with the same data as
    /// [`info`](Self::info). See [`ErrorOrData`] for what each gives.
    pub fn error<K>(
        &self,
        message: impl AsRef<str>,
        error_or_data: impl ErrorOrData<K>,
        options: impl Into<Option<LogOptions>>,
    ) -> &Self {
        if let Some(mut draft) = self.draft(Level::Error) {
            error_or_data.describe(draft.message(message));
            draft.options(options.into());
            draft.emit();
        }
        self
    }

    /// Logs a full entry; invalid input goes to `on_error`.
    pub fn log(&self, entry: LogEntry) -> &Self {
        if let Some(mut draft) = self.draft(entry.level) {
            draft.entry(entry);
            draft.emit();
        }
        self
    }

    /// Logs a full entry and returns why it was not accepted, if it was not.
    /// A record below `min_level` is not an error: it is skipped.
    pub fn try_log(&self, entry: LogEntry) -> Result<(), Error> {
        match self.draft(entry.level) {
            Some(mut draft) => {
                draft.entry(entry);
                draft.try_emit()
            }
            None => Ok(()),
        }
    }
}

impl Flow {
    /// Logs a debug step.
    pub fn debug(
        &self,
        message: impl AsRef<str>,
        data: impl Serialize,
        options: impl Into<Option<LogOptions>>,
    ) -> &Self {
        log_data(
            self.client(),
            Some(self),
            Level::Debug,
            message,
            data,
            options.into(),
        );
        self
    }

    /// Logs an info step.
    pub fn info(
        &self,
        message: impl AsRef<str>,
        data: impl Serialize,
        options: impl Into<Option<LogOptions>>,
    ) -> &Self {
        log_data(
            self.client(),
            Some(self),
            Level::Info,
            message,
            data,
            options.into(),
        );
        self
    }

    /// Logs a warn step.
    pub fn warn(
        &self,
        message: impl AsRef<str>,
        data: impl Serialize,
        options: impl Into<Option<LogOptions>>,
    ) -> &Self {
        log_data(
            self.client(),
            Some(self),
            Level::Warn,
            message,
            data,
            options.into(),
        );
        self
    }

    /// Logs an error step, with an error value or data, as
    /// [`Client::error`] does.
    pub fn error<K>(
        &self,
        message: impl AsRef<str>,
        error_or_data: impl ErrorOrData<K>,
        options: impl Into<Option<LogOptions>>,
    ) -> &Self {
        if let Some(mut draft) = self.client().draft(Level::Error) {
            error_or_data.describe(draft.message(message));
            draft.options(options.into());
            draft.emit_in(self);
        }
        self
    }

    /// Logs a full entry as the next step (its own flow id and step are replaced).
    pub fn log(&self, entry: LogEntry) -> &Self {
        if let Some(mut draft) = self.client().draft(entry.level) {
            draft.entry(entry);
            draft.emit_in(self);
        }
        self
    }

    /// Logs a full entry as the next step, returning why it was refused.
    pub fn try_log(&self, entry: LogEntry) -> Result<(), Error> {
        match self.client().draft(entry.level) {
            Some(mut draft) => {
                draft.entry(entry);
                draft.try_emit_in(self)
            }
            None => Ok(()),
        }
    }
}

/// A record with data, through the client or as the flow's next step.
#[inline]
fn log_data(
    client: &Client,
    flow: Option<&Flow>,
    level: Level,
    message: impl AsRef<str>,
    data: impl Serialize,
    options: Option<LogOptions>,
) {
    if let Some(mut draft) = client.draft(level) {
        draft.message(message).data(data).options(options);
        match flow {
            Some(flow) => draft.emit_in(flow),
            None => draft.emit(),
        }
    }
}
