//! Reading the OpenTelemetry API's current context from any thread at any
//! time, a thread-local destructor's included: the API keeps it in a
//! thread-local of its own, which panics when read after the thread has
//! destroyed it (and a panic in a destructor aborts the process).
//!
//! A guard of ours is registered right after the API's thread-local has
//! been used, so it is destroyed before it (thread-locals go in reverse
//! order of first use); once the guard is gone, the context is not read.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};

const UNREAD: u8 = 0;
const READING: u8 = 1;
const READABLE: u8 = 2;
const GONE: u8 = 3;

thread_local! {
    // No destructor: always readable.
    static STATE: Cell<u8> = const { Cell::new(UNREAD) };
    static GUARD: Guard = const { Guard };
}

struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        STATE.with(|state| state.set(GONE));
    }
}

/// `read()` (which reads the API's current context), or `None` once this
/// thread's context is gone, or while a first read is under way (a panic
/// hook logging during it).
pub(crate) fn read<T>(read: impl FnOnce() -> Option<T>) -> Option<T> {
    match STATE.with(Cell::get) {
        READABLE => read(),
        UNREAD => {
            STATE.with(|state| state.set(READING));
            // The first read on this thread may come after its context was
            // destroyed (in a destructor at thread exit): that one panics.
            let value = panic::catch_unwind(AssertUnwindSafe(read)).ok().flatten();
            let guarded = GUARD.try_with(|_| ()).is_ok();
            STATE.with(|state| state.set(if guarded { READABLE } else { GONE }));
            value
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct LogsWhenDropped(std::sync::mpsc::Sender<Option<u8>>);

    impl Drop for LogsWhenDropped {
        fn drop(&mut self) {
            let _ = self.0.send(read(|| Some(7)));
        }
    }

    thread_local! {
        static LATE: Cell<Option<LogsWhenDropped>> = const { Cell::new(None) };
    }

    #[test]
    fn a_read_in_a_destructor_after_the_guard_is_gone_is_none_not_a_panic() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Registered first: destroyed last, after the guard.
            LATE.with(|late| late.set(Some(LogsWhenDropped(tx))));
            assert_eq!(read(|| Some(1)), Some(1));
            assert_eq!(read(|| Some(2)), Some(2), "readable from then on");
        })
        .join()
        .unwrap();
        assert_eq!(rx.recv().unwrap(), None);
    }

    #[test]
    fn a_first_read_that_panics_is_none_and_the_thread_goes_on() {
        std::thread::spawn(|| {
            // (The panic hook prints it: the hook is the whole process's.)
            assert_eq!(read::<u8>(|| panic!("destroyed, on purpose")), None);
            assert_eq!(read(|| Some(3)), Some(3));
        })
        .join()
        .unwrap();
    }
}
