//! What the bridges from other logging APIs share (`timber-tracing`'s
//! layer, `timber-log`'s logger, or your own): where records go
//! ([`Sink`]), the loop protection ([`Reentry`]), the targets they ignore
//! ([`IgnoredTargets`]), and the fields they derive from another API's
//! events ([`message_or`], [`error_fields`]).
//!
//! A bridge builds each record with [`Client::draft`](crate::Client::draft),
//! the path the client's own calls take. A record is never produced while
//! the current thread is already inside the SDK (the guard is held around
//! the call into the client, which may run `on_error`), on one of the SDK's
//! own threads (marked by [`mark_sdk_thread`]), or for a target of the SDK's own crates
//! and its HTTP stack ([`DEFAULT_IGNORED_TARGETS`]).

pub(crate) mod fields;
pub(crate) mod reentry;
pub(crate) mod sink;
pub(crate) mod targets;

pub use crate::rt::threads::mark_sdk_thread;
pub use fields::{error_fields, error_fields_from_text, message_or, MODULE_KEY, TARGET_KEY};
pub use reentry::Reentry;
pub use sink::Sink;
pub use targets::{IgnoredTargets, DEFAULT_IGNORED_TARGETS};
