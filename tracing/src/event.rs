//! An event's fields, written as the members of its record's data (through
//! the client's [`DataWriter`], which redacts by name), with the message,
//! an error's name and stack, and the origin of a `log` record that
//! `tracing-log` forwarded picked out on the way.

use std::fmt::{self, Write as _};

use compact_str::CompactString;
use timber_core::integration::{error_fields, error_fields_from_text, message_or};
use timber_core::record::limits;
use timber_core::DataWriter;
use tracing_core::field::{Field, Visit};
use tracing_core::Metadata;

pub(crate) struct EventWriter<'c> {
    pub(crate) data: DataWriter<'c>,
    message: Option<CompactString>,
    /// `(errorName, errorStack)`, and whether they came from a real error value.
    pub(crate) error: Option<(String, String)>,
    error_is_typed: bool,
    /// The origin of a `log` record forwarded by `tracing-log`.
    pub(crate) log_target: Option<String>,
    pub(crate) log_module: Option<String>,
}

impl<'c> EventWriter<'c> {
    pub(crate) fn new(data: DataWriter<'c>) -> Self {
        EventWriter {
            data,
            message: None,
            error: None,
            error_is_typed: false,
            log_target: None,
            log_module: None,
        }
    }

    /// Whether the event itself has this field (its own value wins over a
    /// span's); the message and `log.*` metadata are not data.
    pub(crate) fn has_field(&self, metadata: &Metadata<'_>, name: &str) -> bool {
        name != "message" && !name.starts_with("log.") && metadata.fields().field(name).is_some()
    }

    /// The message, valid for the protocol: the event's name when it has
    /// none, cut at the limit.
    pub(crate) fn take_message(&mut self, fallback: &str) -> CompactString {
        match self.message.take() {
            Some(m) if !m.is_empty() && m.len() <= limits::MESSAGE => m,
            Some(m) if !m.is_empty() => CompactString::from(message_or(m.into_string(), fallback)),
            _ => CompactString::from(message_or(String::new(), fallback)),
        }
    }

    /// Text fields: the message, `tracing-log` metadata, error text, data.
    fn text(&mut self, field: &Field, text: Text<'_>, maybe_error: bool) {
        match field.name() {
            "message" => {
                let mut message = CompactString::default();
                let _ = match text {
                    Text::Str(s) => message.write_str(s),
                    Text::Debug(d) => write!(message, "{d:?}"),
                };
                self.message = Some(message);
            }
            "log.target" => self.log_target = Some(text.to_string()),
            "log.module_path" => self.log_module = Some(text.to_string()),
            "log.file" | "log.line" => {}
            name => {
                if maybe_error && self.error.is_none() && is_error_field(name) {
                    self.error = Some(error_fields_from_text(&text.to_string()));
                }
                match text {
                    Text::Str(s) => self.data.str(name, s),
                    Text::Debug(d) => self.data.debug(name, d),
                };
            }
        }
    }
}

/// Whether a field carrying text is meant as an error (`error = %err`).
fn is_error_field(name: &str) -> bool {
    name == "error" || name == "err" || name.ends_with("_error") || name.ends_with(".error")
}

/// A field's text as `tracing` hands it over.
enum Text<'a> {
    Str(&'a str),
    Debug(&'a dyn fmt::Debug),
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Text::Str(s) => f.write_str(s),
            Text::Debug(d) => write!(f, "{d:?}"),
        }
    }
}

impl Visit for EventWriter<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.data.f64(field.name(), value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.data.i64(field.name(), value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "log.line" {
            return;
        }
        self.data.u64(field.name(), value);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.data.i128(field.name(), value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.data.u128(field.name(), value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.data.bool(field.name(), value);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, Text::Str(value), false);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if !self.error_is_typed {
            self.error = Some(error_fields(value));
            self.error_is_typed = true;
        }
        self.data.display(field.name(), value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.text(field, Text::Debug(value), true);
    }
}
