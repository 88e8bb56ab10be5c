//! The SDK's own threads: named so that a debugger, `top -H` and the
//! bridges can tell them from the application's.

use std::io;
use std::thread::{self, JoinHandle};

/// The prefix of the names of the threads the SDK starts (`timber-worker`,
/// `timber-stderr`, and the transports' runtime threads).
pub const SDK_THREAD_PREFIX: &str = "timber-";

/// Starts a thread of the SDK named `timber-{name}`.
pub(crate) fn spawn<T: Send + 'static>(
    name: &str,
    run: impl FnOnce() -> T + Send + 'static,
) -> io::Result<JoinHandle<T>> {
    thread::Builder::new()
        .name(format!("{SDK_THREAD_PREFIX}{name}"))
        .spawn(run)
}

/// Whether the current thread is one the SDK started (by its name).
pub(crate) fn on_sdk_thread() -> bool {
    thread::current()
        .name()
        .is_some_and(|name| name.starts_with(SDK_THREAD_PREFIX))
}
