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
/// share of a core, and its policy to `SCHED_BATCH`, so that waking up (a
/// batch answered, records queued) never preempts an application thread:
/// it waits for a free core or the next scheduler tick. The thread is then
/// never raised again (an unprivileged process cannot). Threads the SDK's
/// threads start, such as a callback's, inherit both. Elsewhere both values
/// leave the thread as it is.
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

/// Linux schedules each thread with its own policy and nice value, and sets
/// them for the calling thread alone.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn lower_current_thread() {
    use rustix::process::{getpid, getpriority_process};
    let Ok(current) = getpriority_process(Some(rustix::thread::gettid())) else {
        return;
    };
    // Relative to the main thread, not to the current one: a thread started
    // by an already lowered thread is not lowered twice; and never raised.
    let base = getpriority_process(Some(getpid())).unwrap_or(current);
    let nice = (base + BACKGROUND_NICE).min(19).max(current);
    set_batch_policy(nice);
}

/// `SCHED_BATCH` at this nice value (thread-priority sets both in one call).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn set_batch_policy(nice: i32) {
    if let Some(priority) = batch_priority(nice) {
        let _ = thread_priority::set_thread_priority_and_policy(
            thread_priority::thread_native_id(),
            priority,
            BATCH,
        );
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
const BATCH: thread_priority::ThreadSchedulePolicy = thread_priority::ThreadSchedulePolicy::Normal(
    thread_priority::NormalThreadSchedulePolicy::Batch,
);

/// The crate takes a normal policy's nice value on a 0..=99 scale: the
/// step that maps to `nice` (each of -20..=19 has one).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn batch_priority(nice: i32) -> Option<thread_priority::ThreadPriority> {
    use thread_priority::{ThreadPriority, ThreadPriorityValue};
    (0..=ThreadPriorityValue::MAX.into())
        .filter_map(|p: u8| ThreadPriorityValue::try_from(p).ok())
        .map(ThreadPriority::Crossplatform)
        .find(|p| p.to_posix(BATCH).ok() == Some(nice))
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::*;
    use rustix::process::{getpid, getpriority_process};

    fn nice_of_current_thread() -> i32 {
        getpriority_process(Some(rustix::thread::gettid())).unwrap()
    }

    fn is_batch() -> bool {
        thread_priority::thread_schedule_policy().unwrap() == BATCH
    }

    #[test]
    fn every_nice_value_has_a_batch_priority() {
        for nice in -20..=19 {
            assert!(batch_priority(nice).is_some(), "{nice}");
        }
    }

    #[test]
    fn background_lowers_a_thread_once_relative_to_the_main_thread() {
        let main = getpriority_process(Some(getpid())).unwrap();
        let expected = (main + BACKGROUND_NICE).min(19);
        let (first, again, child, normal) = std::thread::spawn(|| {
            ThreadPriority::Background.apply_to_current_thread();
            assert!(is_batch());
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
            (nice_of_current_thread(), is_batch())
        })
        .join()
        .unwrap();
        assert_eq!(
            untouched,
            (nice_of_current_thread(), false),
            "Normal leaves it"
        );
    }
}
