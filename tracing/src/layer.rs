//! [`TimberLayer`]: the `tracing_subscriber::Layer`.

use timber_core::integration::{IgnoredTargets, Reentry, Sink, MODULE_KEY, TARGET_KEY};
use timber_core::record::JsonValue;
use timber_core::{Client, Level};
use tracing_core::span::{Attributes, Id, Record as SpanRecord};
use tracing_core::subscriber::Interest;
use tracing_core::{Event, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::event::EventWriter;
use crate::filter::{level_of, TimberFilter};
use crate::span::{FieldName, Keys, SpanFields, SpanVisitor};

/// The default name of the span field that opens a flow.
const DEFAULT_FLOW_FIELD: &str = "flow";

/// A [`Layer`] that sends `tracing` events through a [`Client`].
///
/// Each event becomes a record on the path the client's own calls take
/// ([`Client::draft`]): admitted once (level, sampling), its fields written
/// with the client's redaction, then `before_send`, validation and the queue.
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
///   opens a [`Flow`](timber_core::Flow): every event inside it, on any thread and across
///   `.await` points (with `Instrument`), is a step of that flow with
///   sequential step indices. The innermost flow span wins.
/// - An error recorded as `&dyn Error` fills `errorName` (its best name,
///   see [`ErrorOrData`](timber_core::ErrorOrData)) and `errorStack` (with its cause
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
/// use timber_core::{Client, Level};
/// use timber_tracing::TimberLayer;
/// use timber_transport_mock::MockTransport;
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
/// do not; see `TimberLogger::forward_to_tracing` of `timber-log` to keep
/// them):
///
/// ```no_run
/// use tracing_subscriber::layer::SubscriberExt;
/// use tracing_subscriber::util::SubscriberInitExt;
/// use timber_core::{Client, Level};
/// use timber_tracing::TimberLayer;
/// # use timber_transport_mock::MockTransport as HyperTransport;
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
pub struct TimberLayer {
    sink: Sink,
    filter: TimberFilter,
    flow_field: String,
    with_target: bool,
    with_module: bool,
}

impl TimberLayer {
    /// A layer logging through `client`, ignoring the default targets.
    pub fn new(client: Client) -> Self {
        let min_level = client.config().min_level;
        Self::with_sink(Sink::Client(client), min_level)
    }

    /// A layer logging through the global client ([`timber_core::set_global`],
    /// or `timber_sdk::init`), whichever it is when each event comes; events
    /// are dropped while none is set. The layer can be installed before the
    /// client exists, so its callsite filter cannot know the client's
    /// `min_level`: it admits `debug` and up and checks each event.
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt;
    /// use timber_core::{set_global, Client};
    /// use timber_tracing::TimberLayer;
    /// use timber_transport_mock::MockTransport;
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
    /// # use timber_core::Client;
    /// # use timber_tracing::TimberLayer;
    /// # let client = Client::builder().source("s").api_key("k")
    /// #     .transport(timber_transport_mock::MockTransport::new()).build()?;
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
    /// use timber_core::{Client, Level};
    /// use timber_tracing::TimberLayer;
    /// use timber_transport_mock::MockTransport;
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
                span.set(
                    FieldName::Owned(self.flow_field.clone()),
                    JsonValue::str(&name),
                );
            }
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
        if Reentry::suppressed() || !self.filter.wants(attrs.metadata()) {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut visitor = SpanVisitor::new(&self.flow_field);
        attrs.record(&mut visitor);
        let mut fields = SpanFields {
            fields: visitor.fields,
            flow: None,
        };
        self.open_flow(&mut fields, visitor.flow_name);
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &SpanRecord<'_>, ctx: Context<'_, S>) {
        if Reentry::suppressed() {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        let Some(fields) = extensions.get_mut::<SpanFields>() else {
            return;
        };
        let mut visitor = SpanVisitor::new(&self.flow_field);
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
        let Some(mut draft) = client.draft(level) else {
            return;
        };
        let mut writer = EventWriter::new(client.data_writer());
        event.record(&mut writer);
        if let Some(target) = &writer.log_target {
            if self.filter.ignored.matches(target) {
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
                    writer.data.value(text, value);
                    written.push(name);
                }
            }
        }
        if self.with_target
            && !writer.has_field(metadata, TARGET_KEY)
            && !written.contains(TARGET_KEY)
        {
            let target = writer
                .log_target
                .clone()
                .unwrap_or_else(|| metadata.target().to_owned());
            writer.data.str(TARGET_KEY, &target);
        }
        if self.with_module {
            let module = writer
                .log_module
                .clone()
                .or_else(|| metadata.module_path().map(str::to_owned));
            if let Some(module) = module {
                if !writer.has_field(metadata, MODULE_KEY) && !written.contains(MODULE_KEY) {
                    writer.data.str(MODULE_KEY, &module);
                }
            }
        }

        let message = writer.take_message(metadata.name());
        draft.message(message);
        if let Some((name, stack)) = writer.error.take() {
            draft.error(name, stack);
        }
        draft.with_data(writer.data);
        match &flow {
            Some(flow) => draft.emit_in(flow),
            None => draft.emit(),
        }
    }
}
