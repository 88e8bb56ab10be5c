//! The process-wide client, for code that logs without a client handed to it.

use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwapOption;

use crate::client::Client;

static GLOBAL: ArcSwapOption<Client> = ArcSwapOption::const_empty();

/// Makes `client` the process-wide client until the returned guard is
/// dropped. [`global`] returns it, and `TimberLayer::global()` and
/// `TimberLogger::global()` (crates `timber-tracing`, `timber-log`) log through it; the
/// `timber-sdk` facade's `init` builds a client and calls this.
///
/// A later call replaces the global client; the earlier guard then only
/// disconnects its own client when dropped.
///
/// ```
/// # #[path = "../../tests/double/mod.rs"] mod double;
/// # use double::MockTransport;
/// use timber_core::{global, set_global, Client};
///
/// let mock = MockTransport::new();
/// let client = Client::builder().source("s").api_key("k").transport(mock.clone()).build()?;
/// let guard = set_global(client);
///
/// // Anywhere in the program:
/// if let Some(client) = global() {
///     client.info("no client handed around", (), None);
/// }
///
/// drop(guard); // flushes, disconnects, and unsets the global client
/// assert!(global().is_none());
/// assert_eq!(mock.count(), 1);
/// # Ok::<(), timber_core::Error>(())
/// ```
pub fn set_global(client: Client) -> GlobalGuard {
    let client = Arc::new(client);
    GLOBAL.store(Some(client.clone()));
    GlobalGuard { client }
}

/// The process-wide client, if one is set ([`set_global`]).
pub fn global() -> Option<Client> {
    GLOBAL.load().as_deref().cloned()
}

/// Runs `f` with the global client, without cloning it; `None` when unset
/// (what an integration that logs through the global client calls for
/// each record).
pub fn with_global<R>(f: impl FnOnce(&Client) -> R) -> Option<R> {
    GLOBAL.load().as_deref().map(f)
}

/// Keeps a client global; dropping it unsets the global client (if it is
/// still this one), then flushes and disconnects it within the shutdown
/// timeout. Keep it alive for as long as the program logs, typically as
/// `let _guard = ...` at the top of `main` (`let _ = ...` would drop it at
/// once).
#[must_use = "dropping the guard at once disconnects the client: bind it with `let _guard = ...`"]
pub struct GlobalGuard {
    client: Arc<Client>,
}

impl GlobalGuard {
    /// The client this guard keeps global.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl fmt::Debug for GlobalGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GlobalGuard")
            .field("client", &self.client)
            .finish()
    }
}

impl Drop for GlobalGuard {
    fn drop(&mut self) {
        // Unset first, so that bridges stop handing it records, but only if
        // no later set_global replaced it.
        let current = GLOBAL.load();
        if current
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, &self.client))
        {
            GLOBAL.compare_and_swap(&*current, None);
        }
        drop(current);
        // Errors (records lost at shutdown) already went to on_error.
        let _ = self.client.disconnect();
    }
}
