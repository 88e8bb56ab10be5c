//! The time of a record, read on every log call.
//!
//! Reading the system's wall clock costs about 28 ns on the machines the
//! benches run on (a vDSO call under a hypervisor), a fifth of a plain log
//! call; the CPU's time-stamp counter, through `quanta`, about 11 ns. So
//! once the counter is calibrated, a record's time is the wall clock's last
//! reading plus the counter's time since. The wall clock is read again
//! every second, so that a change of the system's time (an NTP step, an
//! operator) shows in records within a second, and the counter's drift
//! never adds up. Where there is no usable counter, `quanta` reads the
//! system's monotonic clock instead: correct, just not faster.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Once, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// How long one reading of the wall clock is trusted, in nanoseconds.
const RESYNC_NS: u64 = 1_000_000_000;

static COUNTER: OnceLock<Counter> = OnceLock::new();

/// Calibrates the counter on a thread of its own, once per process: a busy
/// loop of 10 to 20 ms (at most 200 ms) that neither a caller nor the
/// worker waits for (a program that logs once and exits is not held up).
/// Until it is done, records read the wall clock. Called by the worker, so
/// the thread takes the worker's priority.
pub(crate) fn calibrate_in_background() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let spawned = crate::rt::threads::spawn("clock", calibrate);
        // Without a thread, records keep reading the wall clock.
        drop(spawned);
    });
}

fn calibrate() {
    COUNTER.get_or_init(Counter::new);
}

/// The current Unix time in milliseconds: the time a log call gives its
/// record. Once the first client has calibrated the CPU's time-stamp
/// counter (in the background, once per process), it is the system's wall
/// clock as read at most a second ago plus the counter's time since.
pub fn now_millis() -> i64 {
    let nanos = match COUNTER.get() {
        Some(counter) => counter.now_nanos(),
        None => system_nanos(),
    };
    nanos.div_euclid(1_000_000)
}

/// The system's wall clock, in nanoseconds since the Unix epoch.
fn system_nanos() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

struct Counter {
    clock: quanta::Clock,
    /// The counter's zero (a raw reading).
    zero: u64,
    /// Wall-clock nanoseconds minus counter nanoseconds, at the last reading
    /// of the wall clock. Alone in its atomic, so always a consistent value.
    offset: AtomicI64,
    /// Counter nanoseconds from which the wall clock is read again.
    due: AtomicU64,
}

impl Counter {
    fn new() -> Self {
        let clock = quanta::Clock::new();
        let zero = clock.raw();
        Counter {
            clock,
            zero,
            offset: AtomicI64::new(0),
            due: AtomicU64::new(0),
        }
    }

    fn now_nanos(&self) -> i64 {
        let elapsed = self.clock.delta_as_nanos(self.zero, self.clock.raw());
        if elapsed >= self.due.load(Relaxed) {
            return self.resync(elapsed);
        }
        i64::try_from(elapsed)
            .unwrap_or(i64::MAX)
            .saturating_add(self.offset.load(Relaxed))
    }

    /// Reads the wall clock and trusts it for the next [`RESYNC_NS`]. Two
    /// threads doing it at once both store a correct offset.
    #[cold]
    fn resync(&self, elapsed: u64) -> i64 {
        let wall = system_nanos();
        let counted = i64::try_from(elapsed).unwrap_or(i64::MAX);
        self.offset.store(wall.saturating_sub(counted), Relaxed);
        self.due.store(elapsed.saturating_add(RESYNC_NS), Relaxed);
        wall
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    #[test]
    fn the_counter_keeps_to_the_wall_clock() {
        calibrate_in_background();
        let started = std::time::Instant::now();
        while COUNTER.get().is_none() {
            assert!(
                started.elapsed().as_secs() < 10,
                "calibrated in the background"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        for _ in 0..10_000 {
            let before = system_nanos();
            let now = COUNTER.get().expect("calibrated").now_nanos();
            let after = system_nanos();
            // Within a second of counting's drift from the system clock,
            // which NTP may be slewing by up to 0.05%: under a millisecond.
            assert!(
                before - MS <= now && now <= after + MS,
                "{before} {now} {after}"
            );
        }
        let millis = now_millis();
        assert!((millis - system_nanos() / MS).abs() <= 1);
    }

    #[test]
    fn a_stale_reading_is_replaced_and_a_fresh_one_trusted() {
        let counter = Counter::new();
        let hour = 3_600 * 1_000 * MS;
        // A reading an hour off (the system's time was stepped), now due.
        counter.offset.store(system_nanos() + hour, Relaxed);
        let now = counter.now_nanos();
        assert!((now - system_nanos()).abs() < MS, "read again");
        // Trusted until due: an offset set by hand shows as it is.
        counter.offset.fetch_add(hour, Relaxed);
        assert!(counter.now_nanos() - system_nanos() > hour - MS);
        counter.due.store(0, Relaxed);
        assert!((counter.now_nanos() - system_nanos()).abs() < MS);
    }
}
