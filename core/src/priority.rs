//! How the SDK's own threads are scheduled against the application's.
//!
//! Delivery is background work: when the machine's cores are all busy, a
//! request handler should win the core, not the thread that encodes and
//! sends its logs. By default the SDK's threads (the client's worker, the
//! transport's runtime) therefore run at a lower priority than the
//! program's main thread.

/// The scheduling priority of the threads the SDK starts: the client's
/// worker ([`ClientBuilder::thread_priority`](crate::ClientBuilder::thread_priority))
/// and a transport's own runtime (the hyper and OTLP transports have the
/// same setting).
///
/// On Linux and Android, [`Background`](ThreadPriority::Background) sets
/// the thread's nice value to the main thread's plus 10 (at most 19), so
/// that under full load the application's threads get about ten times its
/// share of a core; the thread is then never raised again (an unprivileged
/// process cannot). Threads the SDK's threads start, such as a callback's,
/// inherit it. Elsewhere both values leave the thread as it is.
///
/// ```
/// use timber_core::ThreadPriority;
/// assert_eq!(ThreadPriority::default(), ThreadPriority::Background);
/// // On a thread of the caller's own, to see the effect.
/// std::thread::spawn(|| ThreadPriority::Background.apply_to_current_thread())
///     .join()
///     .unwrap();
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ThreadPriority {
    /// Below the application's threads (the default).
    #[default]
    Background,
    /// As the thread that started it: the SDK competes with the
    /// application for the CPU on equal terms.
    Normal,
}

/// How much lower than the main thread a background thread runs.
#[cfg(any(target_os = "linux", target_os = "android"))]
const BACKGROUND_NICE: i32 = 10;

impl ThreadPriority {
    /// Applies this priority to the calling thread (a no-op for
    /// [`Normal`](ThreadPriority::Normal), and where the platform has no
    /// per-thread priority). Never fails: a thread that cannot be lowered
    /// stays as it is.
    pub fn apply_to_current_thread(self) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self == ThreadPriority::Background {
            lower_current_thread();
        }
    }
}

/// Linux schedules each thread with its own nice value, and
/// `setpriority(PRIO_PROCESS, tid)` sets the thread's alone.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn lower_current_thread() {
    use rustix::process::{getpid, getpriority_process, setpriority_process};
    let me = rustix::thread::gettid();
    let Ok(current) = getpriority_process(Some(me)) else {
        return;
    };
    // Relative to the main thread, not to the current one: a thread started
    // by an already lowered thread is not lowered twice.
    let base = getpriority_process(Some(getpid())).unwrap_or(current);
    let target = (base + BACKGROUND_NICE).min(19);
    if target > current {
        let _ = setpriority_process(Some(me), target);
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::*;
    use rustix::process::{getpid, getpriority_process};

    fn nice_of_current_thread() -> i32 {
        getpriority_process(Some(rustix::thread::gettid())).unwrap()
    }

    #[test]
    fn background_lowers_a_thread_once_relative_to_the_main_thread() {
        let main = getpriority_process(Some(getpid())).unwrap();
        let expected = (main + BACKGROUND_NICE).min(19);
        let (first, again, child, normal) = std::thread::spawn(|| {
            ThreadPriority::Background.apply_to_current_thread();
            let first = nice_of_current_thread();
            ThreadPriority::Background.apply_to_current_thread();
            let again = nice_of_current_thread();
            let child = std::thread::spawn(|| {
                ThreadPriority::Background.apply_to_current_thread();
                nice_of_current_thread()
            })
            .join()
            .unwrap();
            (first, again, child, nice_of_current_thread())
        })
        .join()
        .unwrap();
        assert_eq!(
            (first, again, child, normal),
            (expected, expected, expected, expected)
        );
        let untouched = std::thread::spawn(|| {
            ThreadPriority::Normal.apply_to_current_thread();
            nice_of_current_thread()
        })
        .join()
        .unwrap();
        assert_eq!(untouched, nice_of_current_thread(), "Normal leaves it");
    }
}
