//! What the layer keeps of each span: its fields as JSON values, ready to
//! copy into the data of the events inside it, and the flow it opened.

use std::fmt;

use timber_core::record::JsonValue;
use timber_core::Flow;
use tracing_core::field::{Field, Visit};

/// A span field's name: the callsite's (static), or the configured flow
/// field's when a refused flow name is kept as data.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FieldName {
    Static(&'static str),
    Owned(String),
}

impl FieldName {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            FieldName::Static(s) => s,
            FieldName::Owned(s) => s,
        }
    }
}

/// What the layer keeps in the extensions of each span.
pub(crate) struct SpanFields {
    pub(crate) fields: Vec<(FieldName, JsonValue)>,
    pub(crate) flow: Option<Flow>,
}

impl SpanFields {
    pub(crate) fn set(&mut self, name: FieldName, value: JsonValue) {
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name, value)),
        }
    }
}

/// Renders a span's fields as JSON values, the flow field aside (its
/// value names the flow the span opens). Redaction applies when the
/// values are written into an event's data, by their names.
pub(crate) struct SpanVisitor<'l> {
    flow_field: &'l str,
    pub(crate) fields: Vec<(FieldName, JsonValue)>,
    pub(crate) flow_name: Option<String>,
}

impl<'l> SpanVisitor<'l> {
    pub(crate) fn new(flow_field: &'l str) -> Self {
        SpanVisitor {
            flow_field,
            fields: Vec::new(),
            flow_name: None,
        }
    }

    fn put(&mut self, field: &Field, value: JsonValue) {
        self.fields.push((FieldName::Static(field.name()), value));
    }
}

impl Visit for SpanVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, JsonValue::f64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, JsonValue::i64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, JsonValue::u64(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.put(field, JsonValue::i128(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.put(field, JsonValue::u128(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, JsonValue::bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == self.flow_field {
            self.flow_name = Some(value.to_owned());
            return;
        }
        self.put(field, JsonValue::str(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, JsonValue::display(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, JsonValue::debug(value));
    }
}

/// Span field names written so far into an event's data: a few inline.
#[derive(Default)]
pub(crate) struct Keys {
    inline: [&'static str; 16],
    len: usize,
    more: Vec<String>,
}

impl Keys {
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.inline[..self.len].contains(&name) || self.more.iter().any(|m| m == name)
    }

    pub(crate) fn push(&mut self, name: &FieldName) {
        match name {
            FieldName::Static(s) if self.len < self.inline.len() => {
                self.inline[self.len] = s;
                self.len += 1;
            }
            other => self.more.push(other.as_str().to_owned()),
        }
    }
}
