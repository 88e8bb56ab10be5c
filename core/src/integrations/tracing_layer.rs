//! A `tracing_subscriber::Layer` that turns `tracing` events into records.

use std::fmt::{self, Write as _};

use compact_str::CompactString;
use serde_json::{Map, Value};
use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Event, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::{Context, Filter, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::json;
use super::{IgnoredTargets, Reentry, Sink};
use crate::redact::{Redactor, REDACTED};
use crate::validate::limits;
use crate::{spare, Client, Flow, Level, LogEntry};

/// The default name of the span field that opens a flow.
const DEFAULT_FLOW_FIELD: &str = "flow";

/// A [`Layer`] that sends `tracing` events through a [`Client`].
///
/// - Levels: `TRACE` and `DEBUG` become `debug`, the others keep their name.
/// - The `message` field becomes the message (the event's name when it has
///   none); the other fields go to `data` with their JSON type (numbers,
///   booleans, strings; `?x`/`%x` values as their text). The client's
///   redaction applies to field names.
/// - The fields of the enclosing spans are merged into `data`, the innermost
///   span winning over outer ones and the event's own fields over all spans.
/// - The event's `target` and `module` go to `data` only when asked for
///   ([`with_target`](Self::with_target), [`with_module`](Self::with_module)).
/// - A span with a `flow` field (`info_span!("checkout", flow = "checkout")`)
///   opens a [`Flow`]: every event inside it, on any thread and across
///   `.await` points (with `Instrument`), is a step of that flow with
///   sequential step indices. The innermost flow span wins.
/// - An error recorded as `&dyn Error` fills `errorName` (its best name,
///   see [`ErrorOrData`](crate::ErrorOrData)) and `errorStack` (with its cause
///   chain); a field named `error`, `err` or `*_error` recorded with `%err`
///   or `?err` fills them from its text. The value stays in `data` as text.
///
/// **Filtering.** The layer tells `tracing` what it wants: callsites below
/// the client's `min_level` or of an ignored target get
/// [`Interest::never`], [`Layer::enabled`] agrees, and
/// [`Layer::max_level_hint`] is the level `min_level` maps to, so that a
/// disabled event or span costs a level comparison and its fields are never
/// recorded. These filter the *whole* subscriber, which is right when the
/// layer is the only one (or the most verbose). Beside layers that must see
/// more, such as a console `fmt` layer, add it as
/// [`filtered()`](Self::filtered): a per-layer filter with the same
/// rules, which disables a callsite only when no layer wants it.
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
///
/// Beside `fmt`, installed globally with `init()` (which also routes `log`
/// records through `tracing-log`: their messages arrive, their key-values
/// do not; see `TimberLogger::forward_to_tracing` with the `log` feature to
/// keep them):
///
/// ```no_run
/// use tracing_subscriber::layer::SubscriberExt;
/// use tracing_subscriber::util::SubscriberInitExt;
/// use timber_core::{Client, Level, TimberLayer};
/// # use timber_core::mock::MockTransport as HyperTransport;
///
/// let client = Client::builder()
///     .source("api")
///     .api_key(std::env::var("TIMBER_API_KEY")?)
///     .min_level(Level::Info)
///     .transport(HyperTransport::new())
///     .build()?;
/// tracing_subscriber::registry()
///     .with(tracing_subscriber::fmt::layer()) // the console sees every level
///     .with(TimberLayer::new(client.clone()).filtered()) // Timber sees info and up
///     .init();
/// tracing::info!(port = 8080, "listening");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub struct TimberLayer {
    sink: Sink,
    filter: TimberFilter,
    flow_field: String,
    with_target: bool,
    with_module: bool,
}

/// The rules of a [`TimberLayer`] as a per-layer filter
/// ([`tracing_subscriber::layer::Filter`]): events and spans below the
/// client's `min_level`, or of an ignored target, are disabled for the
/// layer only. See [`TimberLayer::filtered`].
#[derive(Clone, Debug)]
pub struct TimberFilter {
    min_level: Level,
    ignored: IgnoredTargets,
}

impl TimberFilter {
    fn wants(&self, metadata: &Metadata<'_>) -> bool {
        level_of(metadata.level()) >= self.min_level && !self.ignored.matches(metadata.target())
    }

    fn interest(&self, metadata: &Metadata<'_>) -> Interest {
        if self.wants(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn level_hint(&self) -> LevelFilter {
        match self.min_level {
            Level::Debug => LevelFilter::TRACE,
            Level::Info => LevelFilter::INFO,
            Level::Warn => LevelFilter::WARN,
            Level::Error => LevelFilter::ERROR,
        }
    }
}

impl<S> Filter<S> for TimberFilter {
    fn enabled(&self, metadata: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        self.wants(metadata)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.interest(metadata)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.level_hint())
    }
}

impl TimberLayer {
    /// A layer logging through `client`, ignoring the default targets.
    pub fn new(client: Client) -> Self {
        let min_level = client.config().min_level;
        Self::with_sink(Sink::Client(client), min_level)
    }

    /// A layer logging through the global client ([`crate::set_global`],
    /// or `timber_sdk::init`), whichever it is when each event comes; events
    /// are dropped while none is set. The layer can be installed before the
    /// client exists, so its callsite filter cannot know the client's
    /// `min_level`: it admits `debug` and up and checks each event.
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
        Self::with_sink(Sink::Global, Level::Debug)
    }

    fn with_sink(sink: Sink, min_level: Level) -> Self {
        TimberLayer {
            filter: TimberFilter {
                min_level,
                ignored: IgnoredTargets::default(),
            },
            sink,
            flow_field: DEFAULT_FLOW_FIELD.to_owned(),
            with_target: false,
            with_module: false,
        }
    }

    /// Also ignores events of this target (and its submodules; an entry
    /// ending in `_` matches every crate name starting with it).
    pub fn ignore_target(mut self, target: impl Into<String>) -> Self {
        self.filter.ignored.add(target.into());
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
        self.filter.ignored.replace(targets);
        self
    }

    /// Names the span field that opens a flow (default `flow`).
    pub fn flow_field(mut self, name: impl Into<String>) -> Self {
        self.flow_field = name.into();
        self
    }

    /// Whether each record's `data` gets the event's target under `target`
    /// (default: no). A field of that name wins.
    pub fn with_target(mut self, yes: bool) -> Self {
        self.with_target = yes;
        self
    }

    /// Whether each record's `data` gets the event's module path under
    /// `module` (default: no). A field of that name wins.
    pub fn with_module(mut self, yes: bool) -> Self {
        self.with_module = yes;
        self
    }

    /// The client this layer logs through now (for a
    /// [`global`](Self::global) layer, the global client if one is set).
    pub fn client(&self) -> Option<Client> {
        self.sink.client()
    }

    /// The layer's rules as a per-layer filter.
    pub fn filter(&self) -> TimberFilter {
        self.filter.clone()
    }

    /// The layer with its rules as a per-layer filter: what it does not
    /// want is disabled for it alone, so that other layers of the same
    /// subscriber (a console `fmt` layer at `debug`) still see it. A
    /// callsite no layer wants is still disabled for good.
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt;
    /// use timber_core::{Client, Level, TimberLayer};
    /// use timber_core::mock::MockTransport;
    ///
    /// let mock = MockTransport::new();
    /// let client = Client::builder().source("s").api_key("k").min_level(Level::Info)
    ///     .transport(mock.clone()).build()?;
    /// let console = tracing_subscriber::fmt::layer().with_test_writer();
    /// let subscriber = tracing_subscriber::registry()
    ///     .with(console)
    ///     .with(TimberLayer::new(client.clone()).filtered());
    /// tracing::subscriber::with_default(subscriber, || {
    ///     tracing::debug!("console only");
    ///     tracing::info!("both");
    /// });
    /// client.flush()?;
    /// assert_eq!(mock.count(), 1);
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn filtered<S>(self) -> Filtered<TimberLayer, TimberFilter, S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let filter = self.filter();
        Filtered::new(self, filter)
    }

    /// Opens the flow a span's flow field names. A name the SDK refuses
    /// (empty, too long) stays an ordinary field.
    fn open_flow(&self, span: &mut SpanFields, name: Option<String>) {
        let Some(name) = name else { return };
        if span.flow.is_some() {
            return;
        }
        match self.sink.with(|client| client.flow(&name)) {
            Some(Ok(flow)) => span.flow = Some(flow),
            Some(Err(_)) | None => {
                let mut value = Vec::with_capacity(name.len() + 2);
                json::write_str(&mut value, &name);
                span.set(FieldName::Owned(self.flow_field.clone()), value);
            }
        }
    }

    /// The record of an event the fast path cannot take (an error field,
    /// a `before_send` hook): the rendered data as a whole entry.
    fn log_entry(
        &self,
        client: &Client,
        level: Level,
        message: String,
        data: &[u8],
        error: Option<(String, String)>,
        flow: Option<&Flow>,
    ) {
        let mut entry = LogEntry::new(level, message);
        entry.data = match serde_json::from_slice::<Map<String, Value>>(data) {
            Ok(map) if !map.is_empty() => Some(map),
            _ => None,
        };
        if let Some((name, stack)) = error {
            entry.error_name = Some(name);
            entry.error_stack = Some(stack);
        }
        client.log_admitted(entry, flow);
    }
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

/// A span field's name: the callsite's (static), or the configured flow
/// field's when a refused flow name is kept as data.
#[derive(Clone, Debug, PartialEq)]
enum FieldName {
    Static(&'static str),
    Owned(String),
}

impl FieldName {
    fn as_str(&self) -> &str {
        match self {
            FieldName::Static(s) => s,
            FieldName::Owned(s) => s,
        }
    }
}

/// What the layer keeps in the extensions of each span: its fields as JSON
/// values, ready to copy into the data of the events inside it.
struct SpanFields {
    fields: Vec<(FieldName, Vec<u8>)>,
    flow: Option<Flow>,
}

impl SpanFields {
    fn set(&mut self, name: FieldName, value: Vec<u8>) {
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name, value)),
        }
    }
}

impl<S> Layer<S> for TimberLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.filter.interest(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        self.filter.wants(metadata)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.filter.level_hint())
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if super::suppressed() || !self.filter.wants(attrs.metadata()) {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut visitor = SpanVisitor::new(self);
        attrs.record(&mut visitor);
        let mut fields = SpanFields {
            fields: visitor.fields,
            flow: None,
        };
        self.open_flow(&mut fields, visitor.flow_name);
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
        let mut visitor = SpanVisitor::new(self);
        values.record(&mut visitor);
        for (name, value) in visitor.fields {
            fields.set(name, value);
        }
        self.open_flow(fields, visitor.flow_name);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        // Callsite interest already filters, unless another subscriber alive
        // wants the callsite: check again (a comparison and a prefix match).
        if !self.filter.wants(metadata) {
            return;
        }
        let level = level_of(metadata.level());
        // Held until the record is queued: whatever runs meanwhile on this
        // thread (Debug impls of fields, on_error) cannot log into the SDK.
        let Some(_inside) = Reentry::enter() else {
            return;
        };
        self.sink
            .with(|client| self.log_event(client, level, event, &ctx));
    }
}

impl TimberLayer {
    /// An event the filter admitted, into the client's queue.
    fn log_event<S>(&self, client: &Client, level: Level, event: &Event<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let metadata = event.metadata();
        if !client.admits(level) {
            return;
        }
        let hooks = &client.config().hooks;
        let mut writer = EventWriter::new(hooks.redactor.as_deref());
        event.record(&mut writer);
        if let Some(target) = &writer.log_target {
            if self.filter.ignored.matches(target) {
                spare::keep(writer.out);
                return;
            }
        }

        // Span fields, innermost first: a key already written wins.
        let mut flow = None;
        let mut written = Keys::default();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                let extensions = span.extensions();
                let Some(fields) = extensions.get::<SpanFields>() else {
                    continue;
                };
                if flow.is_none() {
                    flow.clone_from(&fields.flow);
                }
                for (name, value) in &fields.fields {
                    let text = name.as_str();
                    if writer.has_field(metadata, text) || written.contains(text) {
                        continue;
                    }
                    writer.member_raw(text, value);
                    written.push(name);
                }
            }
        }
        if self.with_target
            && !writer.has_field(metadata, super::TARGET_KEY)
            && !written.contains(super::TARGET_KEY)
        {
            let target = writer
                .log_target
                .clone()
                .unwrap_or_else(|| metadata.target().to_owned());
            writer.member_str(super::TARGET_KEY, &target);
        }
        if self.with_module {
            let module = writer
                .log_module
                .clone()
                .or_else(|| metadata.module_path().map(str::to_owned));
            if let Some(module) = module {
                if !writer.has_field(metadata, super::MODULE_KEY)
                    && !written.contains(super::MODULE_KEY)
                {
                    writer.member_str(super::MODULE_KEY, &module);
                }
            }
        }

        let message = writer.take_message(metadata.name());
        if writer.error.is_some() || hooks.before_send.is_some() {
            let error = writer.error.take();
            let data = writer.data_json();
            self.log_entry(
                client,
                level,
                message.into_string(),
                data,
                error,
                flow.as_ref(),
            );
            spare::keep(writer.out);
            return;
        }
        let extra = writer.finish();
        client.log_rendered(level, message, extra, flow.as_ref());
    }
}

/// Span field names written so far into an event's data: a few inline.
#[derive(Default)]
struct Keys {
    inline: [&'static str; 16],
    len: usize,
    more: Vec<String>,
}

impl Keys {
    fn contains(&self, name: &str) -> bool {
        self.inline[..self.len].contains(&name) || self.more.iter().any(|m| m == name)
    }

    fn push(&mut self, name: &FieldName) {
        match name {
            FieldName::Static(s) if self.len < self.inline.len() => {
                self.inline[self.len] = s;
                self.len += 1;
            }
            other => self.more.push(other.as_str().to_owned()),
        }
    }
}

/// `,"data":{`: what a record's rendered data starts with.
const DATA_OPEN: &[u8] = b",\"data\":{";

/// Writes an event's fields as the members of its `data` object, straight
/// into the buffer queued with the record.
struct EventWriter<'r> {
    out: Vec<u8>,
    members: usize,
    redactor: Option<&'r Redactor>,
    message: Option<CompactString>,
    /// `(errorName, errorStack)`, and whether they came from a real error value.
    error: Option<(String, String)>,
    error_is_typed: bool,
    /// The origin of a `log` record forwarded by `tracing-log`.
    log_target: Option<String>,
    log_module: Option<String>,
}

impl<'r> EventWriter<'r> {
    fn new(redactor: Option<&'r Redactor>) -> Self {
        let mut out = spare::take();
        out.extend_from_slice(DATA_OPEN);
        EventWriter {
            out,
            members: 0,
            redactor,
            message: None,
            error: None,
            error_is_typed: false,
            log_target: None,
            log_module: None,
        }
    }

    /// Whether the event itself has this field (its own value wins over a
    /// span's); the message and `log.*` metadata are not data.
    fn has_field(&self, metadata: &Metadata<'_>, name: &str) -> bool {
        name != "message" && !name.starts_with("log.") && metadata.fields().field(name).is_some()
    }

    /// Starts a member; false when its value is redacted (already written).
    fn key(&mut self, name: &str) -> bool {
        if self.members > 0 {
            self.out.push(b',');
        }
        self.members += 1;
        json::write_str(&mut self.out, name);
        self.out.push(b':');
        if self.redactor.is_some_and(|r| r.matches(name)) {
            json::write_str(&mut self.out, REDACTED);
            return false;
        }
        true
    }

    fn member_raw(&mut self, name: &str, value: &[u8]) {
        // Span values were redacted when recorded.
        if self.members > 0 {
            self.out.push(b',');
        }
        self.members += 1;
        json::write_str(&mut self.out, name);
        self.out.push(b':');
        self.out.extend_from_slice(value);
    }

    fn member_str(&mut self, name: &str, value: &str) {
        if self.key(name) {
            json::write_str(&mut self.out, value);
        }
    }

    /// The message, valid for the protocol: the event's name when it has
    /// none, cut at the limit.
    fn take_message(&mut self, fallback: &str) -> CompactString {
        match self.message.take() {
            Some(m) if !m.is_empty() && m.len() <= limits::MESSAGE => m,
            Some(m) if !m.is_empty() => {
                CompactString::from(super::message_or(m.into_string(), fallback))
            }
            _ => CompactString::from(super::message_or(String::new(), fallback)),
        }
    }

    /// The data as a JSON object's text (`{}` when there are no fields).
    fn data_json(&mut self) -> &[u8] {
        self.out.push(b'}');
        &self.out[DATA_OPEN.len() - 1..]
    }

    /// The rendered `,"data":{..}` member, or nothing when there are no fields.
    fn finish(mut self) -> Vec<u8> {
        if self.members == 0 {
            spare::keep(self.out);
            return Vec::new();
        }
        self.out.push(b'}');
        self.out
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
                if maybe_error && self.error.is_none() && super::is_error_field(name) {
                    self.error = Some(super::error_fields_from_text(&text.to_string()));
                }
                if self.key(name) {
                    match text {
                        Text::Str(s) => json::write_str(&mut self.out, s),
                        Text::Debug(d) => json::write_debug(&mut self.out, d),
                    }
                }
            }
        }
    }
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
        if self.key(field.name()) {
            json::write_f64(&mut self.out, value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.key(field.name()) {
            json::write_i64(&mut self.out, value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "log.line" {
            return;
        }
        if self.key(field.name()) {
            json::write_u64(&mut self.out, value);
        }
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        if self.key(field.name()) {
            json::write_i128(&mut self.out, value);
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        if self.key(field.name()) {
            json::write_u128(&mut self.out, value);
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.key(field.name()) {
            self.out
                .extend_from_slice(if value { b"true" } else { b"false" });
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, Text::Str(value), false);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if !self.error_is_typed {
            self.error = Some(super::error_fields(value));
            self.error_is_typed = true;
        }
        if self.key(field.name()) {
            json::write_display(&mut self.out, value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.text(field, Text::Debug(value), true);
    }
}

/// Renders a span's fields as JSON values (the flow field aside).
struct SpanVisitor<'l> {
    layer: &'l TimberLayer,
    fields: Vec<(FieldName, Vec<u8>)>,
    flow_name: Option<String>,
}

impl<'l> SpanVisitor<'l> {
    fn new(layer: &'l TimberLayer) -> Self {
        SpanVisitor {
            layer,
            fields: Vec::new(),
            flow_name: None,
        }
    }

    fn put(&mut self, field: &Field, write: impl FnOnce(&mut Vec<u8>)) {
        let name = field.name();
        let mut value = Vec::new();
        let redacted = self.layer.sink.with(|client| {
            let redactor = client.config().hooks.redactor.as_deref();
            redactor.is_some_and(|r| r.matches(name))
        }) == Some(true);
        if redacted {
            json::write_str(&mut value, REDACTED);
        } else {
            write(&mut value);
        }
        self.fields.push((FieldName::Static(name), value));
    }
}

impl Visit for SpanVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, |out| json::write_f64(out, value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, |out| json::write_i64(out, value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, |out| json::write_u64(out, value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.put(field, |out| json::write_i128(out, value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.put(field, |out| json::write_u128(out, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, |out| {
            out.extend_from_slice(if value { b"true" } else { b"false" })
        });
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == self.layer.flow_field {
            self.flow_name = Some(value.to_owned());
            return;
        }
        self.put(field, |out| json::write_str(out, value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, |out| json::write_display(out, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, |out| json::write_debug(out, value));
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
