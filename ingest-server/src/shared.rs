//! What every request handler reaches: the settings, the store and the
//! pending faults. It is its own module because the server builds it and
//! both endpoints (handler.rs, otlp.rs) read it, and none of them should
//! have to import another for it.

use crate::config::ServerConfig;
use crate::misbehave::Faults;
use crate::store::Store;

/// The state one server's connections share (behind an `Arc`).
pub(crate) struct Shared {
    pub(crate) config: ServerConfig,
    pub(crate) store: Store,
    pub(crate) faults: Faults,
}
