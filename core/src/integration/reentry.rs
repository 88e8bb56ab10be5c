//! [`Reentry`]: a bridge never logs into the SDK from inside the SDK.

use std::cell::Cell;

use crate::rt::threads::on_sdk_thread;

thread_local! {
    /// Set while a bridge is calling into the client on this thread.
    static IN_SDK: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as inside the SDK until dropped: whatever runs
/// meanwhile on this thread (the `Debug` of a field, an `on_error` that
/// logs, the SDK's HTTP stack) is not bridged back into the SDK.
///
/// ```
/// use timber_core::integration::Reentry;
/// let outer = Reentry::enter().expect("not inside yet");
/// assert!(Reentry::suppressed());
/// assert!(Reentry::enter().is_none(), "no second entry");
/// drop(outer);
/// assert!(!Reentry::suppressed());
/// ```
#[derive(Debug)]
pub struct Reentry(());

impl Reentry {
    /// `None` when records must be dropped: already inside, or on one of
    /// the SDK's threads.
    pub fn enter() -> Option<Reentry> {
        if on_sdk_thread() {
            return None;
        }
        let was_inside = IN_SDK.try_with(|flag| flag.replace(true)).unwrap_or(true);
        (!was_inside).then_some(Reentry(()))
    }

    /// Whether records from the current thread must be dropped right now.
    pub fn suppressed() -> bool {
        // During thread-local teardown nothing can be checked: stay out.
        IN_SDK.try_with(Cell::get).unwrap_or(true) || on_sdk_thread()
    }
}

impl Drop for Reentry {
    fn drop(&mut self) {
        let _ = IN_SDK.try_with(|flag| flag.set(false));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_threads_are_suppressed() {
        let on_sdk = crate::rt::threads::spawn("test", || {
            (Reentry::suppressed(), Reentry::enter().is_none())
        })
        .unwrap()
        .join()
        .unwrap();
        assert_eq!(on_sdk, (true, true));
    }
}
