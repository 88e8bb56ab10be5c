//! The SDK's own threads: named `timber-…` so that a debugger and `top -H`
//! show them, and marked (a thread-local flag, not the name: an
//! application may name its threads `timber-…` too) so that the bridges
//! never feed the SDK's own logging back into it.

use std::cell::Cell;
use std::io;
use std::thread::{self, JoinHandle};

/// The prefix of the names of the threads the SDK starts (`timber-worker`,
/// `timber-stderr`, and the transports' runtime threads).
pub const SDK_THREAD_PREFIX: &str = "timber-";

thread_local! {
    static SDK_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Starts a thread of the SDK named `timber-{name}`, marked as the SDK's.
pub(crate) fn spawn<T: Send + 'static>(
    name: &str,
    run: impl FnOnce() -> T + Send + 'static,
) -> io::Result<JoinHandle<T>> {
    thread::Builder::new()
        .name(format!("{SDK_THREAD_PREFIX}{name}"))
        .spawn(move || {
            mark_sdk_thread();
            run()
        })
}

/// Marks the current thread as one of the SDK's: what is logged on it
/// through the `tracing` and `log` bridges (an HTTP stack's own events, a
/// transport's) is not fed back into the SDK, and a panic on it is not
/// reported as the application's. A transport calls it on the threads it
/// starts (the hyper transport does, in its runtime's `on_thread_start`).
///
/// ```
/// use timber_core::integration::{mark_sdk_thread, Reentry};
/// std::thread::spawn(|| {
///     assert!(!Reentry::suppressed());
///     mark_sdk_thread();
///     assert!(Reentry::suppressed());
/// })
/// .join()
/// .unwrap();
/// ```
pub fn mark_sdk_thread() {
    let _ = SDK_THREAD.try_with(|flag| flag.set(true));
}

/// Whether the current thread is one the SDK marked as its own (during
/// thread-local teardown: yes, so that nothing is bridged then).
pub(crate) fn on_sdk_thread() -> bool {
    SDK_THREAD.try_with(Cell::get).unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_is_the_sdk_s_by_its_mark_not_its_name() {
        let named = thread::Builder::new()
            .name(format!("{SDK_THREAD_PREFIX}app"))
            .spawn(on_sdk_thread)
            .unwrap()
            .join()
            .unwrap();
        assert!(!named, "an application thread named timber-app");
        let ours = spawn("test", on_sdk_thread).unwrap().join().unwrap();
        assert!(ours);
        assert!(!on_sdk_thread());
    }
}
