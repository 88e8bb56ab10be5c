//! Bridges from the `tracing` and `log` ecosystems into a [`Client`](crate::Client).
//!
//! Both bridges share the loop protection here: a record is never produced
//! while the current thread is already inside the SDK (a thread-local flag
//! set around the call into the client, which may run `on_error`), on one of
//! the SDK's own threads (named `timber-…`), or for a target of the SDK's own
//! crates and its HTTP stack ([`DEFAULT_IGNORED_TARGETS`], configurable).

use std::cell::Cell;
use std::thread;

#[cfg(feature = "log")]
use serde_json::{Number, Value};

use crate::Client;

#[cfg(feature = "tracing")]
mod json;
#[cfg(feature = "log")]
pub(crate) mod log_bridge;
#[cfg(feature = "tracing")]
pub(crate) mod tracing_layer;

/// Targets whose events the bridges drop by default: the SDK's own crates
/// and the HTTP stack its transports run on, whose events would otherwise be
/// logged by the very transport that emits them.
///
/// An entry ending in `_` matches every crate whose name starts with it
/// (`timber_transport_` matches `timber_transport_hyper`); any other entry
/// matches the target equal to it and its submodules (`hyper` matches
/// `hyper::proto::h1`, not `hyperloop`).
///
/// ```
/// assert!(timber_core::DEFAULT_IGNORED_TARGETS.contains(&"hyper"));
/// ```
#[cfg_attr(docsrs, doc(cfg(any(feature = "tracing", feature = "log"))))]
pub const DEFAULT_IGNORED_TARGETS: &[&str] = &[
    "timber_core",
    "timber_transport_",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
    "tokio",
    "tokio_rustls",
];

/// The prefix of the names of the threads the SDK starts (`timber-worker`,
/// and the transport's runtime threads).
const SDK_THREAD_PREFIX: &str = "timber-";

thread_local! {
    /// Set while a bridge is calling into the client on this thread.
    static IN_SDK: Cell<bool> = const { Cell::new(false) };
    /// Whether this thread is one of the SDK's, computed once.
    static SDK_THREAD: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Whether records from the current thread must be dropped right now.
pub(crate) fn suppressed() -> bool {
    // During thread-local teardown nothing can be checked: stay out.
    IN_SDK.try_with(Cell::get).unwrap_or(true) || on_sdk_thread()
}

fn on_sdk_thread() -> bool {
    SDK_THREAD
        .try_with(|cached| match cached.get() {
            Some(known) => known,
            None => {
                let sdk = thread::current()
                    .name()
                    .is_some_and(|name| name.starts_with(SDK_THREAD_PREFIX));
                cached.set(Some(sdk));
                sdk
            }
        })
        .unwrap_or(true)
}

/// Marks the current thread as inside the SDK until dropped.
pub(crate) struct Reentry(());

impl Reentry {
    /// `None` when records must be dropped (already inside, or an SDK thread).
    pub(crate) fn enter() -> Option<Reentry> {
        if on_sdk_thread() {
            return None;
        }
        let was_inside = IN_SDK.try_with(|flag| flag.replace(true)).unwrap_or(true);
        (!was_inside).then_some(Reentry(()))
    }
}

impl Drop for Reentry {
    fn drop(&mut self) {
        let _ = IN_SDK.try_with(|flag| flag.set(false));
    }
}

/// Where a bridge sends records: a client of its own, or whichever client
/// is global ([`crate::set_global`]) when each record comes.
#[derive(Clone, Debug)]
pub(crate) enum Sink {
    Client(Client),
    Global,
}

impl Sink {
    /// Runs `f` with the client; `None` when the sink is global and no
    /// client is set (the record is dropped).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&Client) -> R) -> Option<R> {
        match self {
            Sink::Client(client) => Some(f(client)),
            Sink::Global => crate::global::with_global(f),
        }
    }

    /// The client records go to now.
    pub(crate) fn client(&self) -> Option<Client> {
        self.with(Client::clone)
    }
}

/// The list of ignored targets of a bridge.
#[derive(Clone, Debug)]
pub(crate) struct IgnoredTargets(Vec<String>);

impl Default for IgnoredTargets {
    fn default() -> Self {
        IgnoredTargets(
            DEFAULT_IGNORED_TARGETS
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
        )
    }
}

impl IgnoredTargets {
    pub(crate) fn add(&mut self, target: String) {
        self.0.push(target);
    }

    pub(crate) fn replace(&mut self, targets: impl IntoIterator<Item = impl Into<String>>) {
        self.0 = targets.into_iter().map(Into::into).collect();
    }

    pub(crate) fn matches(&self, target: &str) -> bool {
        self.0.iter().any(|entry| target_matches(entry, target))
    }
}

fn target_matches(entry: &str, target: &str) -> bool {
    if entry.is_empty() {
        return false;
    }
    if entry.ends_with('_') {
        return target.starts_with(entry);
    }
    match target.strip_prefix(entry) {
        Some(rest) => rest.is_empty() || rest.starts_with("::"),
        None => false,
    }
}

/// The `data` keys under which the bridges keep where a record came from.
pub(crate) const TARGET_KEY: &str = "target";
pub(crate) const MODULE_KEY: &str = "module";

/// A message the service accepts: never empty, never over the limit.
pub(crate) fn message_or(message: String, fallback: &str) -> String {
    let message = if message.is_empty() {
        fallback.to_owned()
    } else {
        message
    };
    crate::validate::truncate_chars(message, crate::limits::MESSAGE)
}

/// A JSON number, or the text of a float JSON cannot hold (NaN, infinities).
#[cfg(feature = "log")]
pub(crate) fn f64_value(v: f64) -> Value {
    Number::from_f64(v).map_or_else(|| Value::String(v.to_string()), Value::Number)
}

/// A JSON number when it fits 64 bits, else its decimal text (JSON readers
/// commonly lose precision beyond that).
#[cfg(feature = "log")]
pub(crate) fn i128_value(v: i128) -> Value {
    if let Ok(v) = i64::try_from(v) {
        Value::from(v)
    } else if let Ok(v) = u64::try_from(v) {
        Value::from(v)
    } else {
        Value::String(v.to_string())
    }
}

/// Whether a field carrying text is meant as an error (`error = %err`).
#[cfg(feature = "tracing")]
pub(crate) fn is_error_field(name: &str) -> bool {
    name == "error" || name == "err" || name.ends_with("_error") || name.ends_with(".error")
}

/// `errorName`/`errorStack` of an error value, with its cause chain.
pub(crate) fn error_fields(error: &(dyn std::error::Error + 'static)) -> (String, String) {
    match crate::ErrorPayload::from_erased(error, "Error") {
        crate::ErrorPayload::Error { name, stack, .. } => (name, stack),
        _ => ("Error".to_owned(), error.to_string()),
    }
}

/// `errorName`/`errorStack` of an error known only by its text.
#[cfg(feature = "tracing")]
pub(crate) fn error_fields_from_text(text: &str) -> (String, String) {
    let name = crate::payload::type_name_from_debug(text).unwrap_or("Error");
    (
        crate::validate::truncate_chars(name.to_owned(), crate::limits::ERROR_NAME),
        crate::validate::truncate_chars(text.to_owned(), crate::limits::ERROR_STACK),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_match_at_module_boundaries_or_as_crate_prefixes() {
        let ignored = IgnoredTargets::default();
        assert!(ignored.matches("hyper"));
        assert!(ignored.matches("hyper::proto::h1::conn"));
        assert!(ignored.matches("timber_transport_hyper::client"));
        assert!(ignored.matches("timber_core"));
        assert!(!ignored.matches("hyperloop"));
        assert!(!ignored.matches("timber_demo"));
        assert!(!ignored.matches("my_app"));
        let mut none = IgnoredTargets::default();
        none.replace(Vec::<String>::new());
        assert!(!none.matches("hyper"));
        none.add(String::new());
        assert!(!none.matches("anything"));
    }

    #[test]
    fn reentry_is_refused_while_inside() {
        let outer = Reentry::enter();
        assert!(outer.is_some());
        assert!(suppressed());
        assert!(Reentry::enter().is_none());
        drop(outer);
        assert!(!suppressed());
    }

    #[test]
    fn sdk_threads_are_suppressed() {
        let on_sdk = thread::Builder::new()
            .name("timber-test".into())
            .spawn(|| (suppressed(), Reentry::enter().is_none()))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(on_sdk, (true, true));
    }

    #[test]
    #[cfg(feature = "log")]
    fn odd_numbers_are_kept_as_text() {
        assert_eq!(f64_value(1.5), Value::from(1.5));
        assert_eq!(f64_value(f64::NAN), Value::from("NaN"));
        assert_eq!(i128_value(-5), Value::from(-5));
        assert_eq!(i128_value(u64::MAX as i128), Value::from(u64::MAX));
        assert_eq!(i128_value(i128::MAX), Value::from(i128::MAX.to_string()));
        assert_eq!(message_or(String::new(), "event"), "event");
    }
}
