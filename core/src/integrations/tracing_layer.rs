//! A `tracing_subscriber::Layer` that turns `tracing` events into records.

use std::fmt;

use serde_json::{Map, Value};
use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::{IgnoredTargets, Reentry, Sink};
use crate::{Client, Flow, Level, LogEntry};

/// The default name of the span field that opens a flow.
const DEFAULT_FLOW_FIELD: &str = "flow";

/// A [`Layer`] that sends `tracing` events through a [`Client`].
///
/// - Levels: `TRACE` and `DEBUG` become `debug`, the others keep their name;
///   events below the client's `min_level` are skipped.
/// - The `message` field becomes the message (the event's name when it has
///   none); the other fields go to `data` with their JSON type (numbers,
///   booleans, strings; `?x`/`%x` values as their text).
/// - The fields of the enclosing spans are merged into `data`, the innermost
///   span winning over outer ones and the event's own fields over all spans;
///   the event's `target` and `module` are kept in `data` too.
/// - A span with a `flow` field (`info_span!("checkout", flow = "checkout")`)
///   opens a [`Flow`]: every event inside it, on any thread and across
///   `.await` points (with `Instrument`), is a step of that flow with
///   sequential step indices. The innermost flow span wins.
/// - An error recorded as `&dyn Error` fills `errorName` (guessed from its
///   `Debug` text) and `errorStack` (with its cause chain); a field named
///   `error`, `err` or `*_error` recorded with `%err` or `?err` fills them
///   from its text. The value stays in `data` as text as well.
///
/// The layer never blocks: it validates, queues and returns, like every
/// logging call of the client. It drops events emitted on the SDK's own
/// threads (named `timber-…`), events emitted while the current thread is
/// already inside the layer (an `on_error` callback that logs, a `Debug`
/// impl that logs), and events of the targets in
/// [`DEFAULT_IGNORED_TARGETS`](crate::DEFAULT_IGNORED_TARGETS), so the SDK
/// and its HTTP stack never log into themselves.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// use timber_core::{Client, Level, TimberLayer};
/// use timber_core::mock::MockTransport;
///
/// let mock = MockTransport::new();
/// let client = Client::builder()
///     .source("shop")
///     .api_key("tb_test_key")
///     .transport(mock.clone())
///     .build()?;
/// let subscriber = tracing_subscriber::registry().with(TimberLayer::new(client.clone()));
///
/// tracing::subscriber::with_default(subscriber, || {
///     let checkout = tracing::info_span!("checkout", flow = "checkout", order = 42);
///     let _inside = checkout.enter();
///     tracing::info!(items = 3, "cart loaded");
///     tracing::trace!("payment form shown");
/// });
/// client.flush()?;
///
/// let records = mock.records();
/// assert_eq!(records[0].message, "cart loaded");
/// let data = records[0].data.as_ref().unwrap();
/// assert_eq!((data["items"].as_u64(), data["order"].as_u64()), (Some(3), Some(42)));
/// assert_eq!(records[1].level, Level::Debug);
/// assert!(records[1].flow_id.as_deref().unwrap().starts_with("checkout-"));
/// assert_eq!((records[0].step_index, records[1].step_index), (Some(0), Some(1)));
/// # Ok::<(), timber_core::Error>(())
/// ```
#[derive(Clone, Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub struct TimberLayer {
    sink: Sink,
    ignored: IgnoredTargets,
    flow_field: String,
}

impl TimberLayer {
    /// A layer logging through `client`, ignoring the default targets.
    pub fn new(client: Client) -> Self {
        Self::with_sink(Sink::Client(client))
    }

    /// A layer logging through the global client ([`crate::set_global`],
    /// or `timber_sdk::init`), whichever it is when each event comes; events
    /// are dropped while none is set. The layer can be installed before the
    /// client exists.
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt;
    /// use timber_core::{set_global, Client, TimberLayer};
    /// use timber_core::mock::MockTransport;
    ///
    /// let subscriber = tracing_subscriber::registry().with(TimberLayer::global());
    /// let mock = MockTransport::new();
    /// let guard = set_global(Client::builder().source("s").api_key("k").transport(mock.clone()).build()?);
    /// tracing::subscriber::with_default(subscriber, || tracing::info!(order = 7, "paid"));
    /// drop(guard); // flushes
    /// assert_eq!(mock.records()[0].message, "paid");
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn global() -> Self {
        Self::with_sink(Sink::Global)
    }

    fn with_sink(sink: Sink) -> Self {
        TimberLayer {
            sink,
            ignored: IgnoredTargets::default(),
            flow_field: DEFAULT_FLOW_FIELD.to_owned(),
        }
    }

    /// Also ignores events of this target (and its submodules; an entry
    /// ending in `_` matches every crate name starting with it).
    pub fn ignore_target(mut self, target: impl Into<String>) -> Self {
        self.ignored.add(target.into());
        self
    }

    /// Replaces the whole list of ignored targets (`[]` ignores none: the
    /// thread and re-entrancy guards still apply).
    ///
    /// ```
    /// # use timber_core::{Client, TimberLayer};
    /// # let client = Client::builder().source("s").api_key("k")
    /// #     .transport(timber_core::mock::MockTransport::new()).build()?;
    /// let layer = TimberLayer::new(client).ignored_targets(["hyper", "my_noisy_crate"]);
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn ignored_targets<I, S>(mut self, targets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ignored.replace(targets);
        self
    }

    /// Names the span field that opens a flow (default `flow`).
    pub fn flow_field(mut self, name: impl Into<String>) -> Self {
        self.flow_field = name.into();
        self
    }

    /// The client this layer logs through now (for a
    /// [`global`](Self::global) layer, the global client if one is set).
    pub fn client(&self) -> Option<Client> {
        self.sink.client()
    }

    fn ignores(&self, target: &str) -> bool {
        self.ignored.matches(target)
    }

    /// Takes the flow field out of a span's fields and opens its flow. A
    /// name the SDK refuses (empty, too long) stays an ordinary field.
    fn open_flow(&self, span: &mut SpanFields) {
        if span.flow.is_some() {
            return;
        }
        let Some(Value::String(name)) = span.fields.remove(&self.flow_field) else {
            return;
        };
        match self.sink.with(|client| client.flow(&name)) {
            Some(Ok(flow)) => span.flow = Some(flow),
            Some(Err(_)) | None => {
                span.fields
                    .insert(self.flow_field.clone(), Value::String(name));
            }
        }
    }
}

/// What the layer keeps in the extensions of each span.
struct SpanFields {
    fields: Map<String, Value>,
    flow: Option<Flow>,
}

/// `tracing` levels onto the SDK's four.
fn level_of(level: &tracing_core::Level) -> Level {
    match *level {
        tracing_core::Level::ERROR => Level::Error,
        tracing_core::Level::WARN => Level::Warn,
        tracing_core::Level::INFO => Level::Info,
        _ => Level::Debug,
    }
}

impl<S> Layer<S> for TimberLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if super::suppressed() {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut visitor = FieldVisitor::for_span();
        attrs.record(&mut visitor);
        let mut fields = SpanFields {
            fields: visitor.fields,
            flow: None,
        };
        self.open_flow(&mut fields);
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if super::suppressed() {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        let Some(fields) = extensions.get_mut::<SpanFields>() else {
            return;
        };
        let mut visitor = FieldVisitor::for_span();
        values.record(&mut visitor);
        fields.fields.extend(visitor.fields);
        self.open_flow(fields);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let level = level_of(metadata.level());
        let wanted = self.sink.with(|client| client.should_log(level));
        if wanted != Some(true) || self.ignores(metadata.target()) {
            return;
        }
        // Held until the record is queued: whatever runs meanwhile on this
        // thread (Debug impls of fields, on_error) cannot log into the SDK.
        let Some(_inside) = Reentry::enter() else {
            return;
        };

        let mut visitor = FieldVisitor::for_event();
        event.record(&mut visitor);
        if visitor
            .log_target
            .as_deref()
            .is_some_and(|t| self.ignores(t))
        {
            return;
        }

        let mut data = Map::new();
        let mut flow = None;
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<SpanFields>() {
                    data.extend(fields.fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                    if fields.flow.is_some() {
                        flow.clone_from(&fields.flow);
                    }
                }
            }
        }
        data.extend(visitor.fields);
        let target = visitor.log_target.as_deref().unwrap_or(metadata.target());
        let module = visitor.log_module.as_deref().or(metadata.module_path());
        super::add_origin(&mut data, target, module);

        let message = super::message_or(visitor.message.unwrap_or_default(), metadata.name());
        let mut entry = LogEntry::new(level, message);
        entry.data = Some(data);
        if let Some((name, stack)) = visitor.error {
            entry.error_name = Some(name);
            entry.error_stack = Some(stack);
        }
        match flow {
            Some(flow) => {
                flow.log(entry);
            }
            None => {
                self.sink.with(|client| {
                    client.log(entry);
                });
            }
        }
    }
}

/// Collects the fields of a span or an event as JSON.
struct FieldVisitor {
    /// Only events have a message; a span's `message` field is ordinary data.
    is_event: bool,
    fields: Map<String, Value>,
    message: Option<String>,
    /// `(errorName, errorStack)`, and whether they came from a real error value.
    error: Option<(String, String)>,
    error_is_typed: bool,
    /// The origin of a `log` record forwarded by `tracing-log`.
    log_target: Option<String>,
    log_module: Option<String>,
}

impl FieldVisitor {
    fn for_span() -> Self {
        FieldVisitor {
            is_event: false,
            fields: Map::new(),
            message: None,
            error: None,
            error_is_typed: false,
            log_target: None,
            log_module: None,
        }
    }

    fn for_event() -> Self {
        FieldVisitor {
            is_event: true,
            ..Self::for_span()
        }
    }

    fn put(&mut self, field: &Field, value: Value) {
        self.fields.insert(field.name().to_owned(), value);
    }

    /// Text fields: the message, `tracing-log` metadata, error text, data.
    fn put_text(&mut self, field: &Field, text: String, maybe_error: bool) {
        if self.is_event {
            match field.name() {
                "message" => {
                    self.message = Some(text);
                    return;
                }
                "log.target" => {
                    self.log_target = Some(text);
                    return;
                }
                "log.module_path" => {
                    self.log_module = Some(text);
                    return;
                }
                "log.file" | "log.line" => return,
                name if maybe_error && self.error.is_none() && super::is_error_field(name) => {
                    self.error = Some(super::error_fields_from_text(&text));
                }
                _ => {}
            }
        }
        self.put(field, Value::String(text));
    }
}

impl Visit for FieldVisitor {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, super::f64_value(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.put(field, super::i128_value(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let value = i128::try_from(value)
            .map_or_else(|_| Value::String(value.to_string()), super::i128_value);
        self.put(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put_text(field, value.to_owned(), false);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.is_event && !self.error_is_typed {
            self.error = Some(super::error_fields(value));
            self.error_is_typed = true;
        }
        self.put(field, Value::String(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put_text(field, format!("{value:?}"), true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_onto_four() {
        assert_eq!(level_of(&tracing_core::Level::TRACE), Level::Debug);
        assert_eq!(level_of(&tracing_core::Level::DEBUG), Level::Debug);
        assert_eq!(level_of(&tracing_core::Level::INFO), Level::Info);
        assert_eq!(level_of(&tracing_core::Level::WARN), Level::Warn);
        assert_eq!(level_of(&tracing_core::Level::ERROR), Level::Error);
    }
}
