//! What the rest of the crate runs on, with no async runtime: a minimal
//! executor ([`block_on`]), safe durations and timers ([`clock`]), the
//! records' wall clock ([`wall_clock`]), the priority of the SDK's own
//! threads ([`priority`]) how those threads are named ([`threads`]), the
//! OpenTelemetry context read safely at any time (`otel_context`, feature
//! `opentelemetry`), and the one module of `unsafe` code, for what only the
//! OS offers ([`os`]).

pub(crate) mod block_on;
pub(crate) mod clock;
pub(crate) mod os;
#[cfg(feature = "opentelemetry")]
pub(crate) mod otel_context;
pub(crate) mod priority;
pub(crate) mod threads;
pub(crate) mod wall_clock;
