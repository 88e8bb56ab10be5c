//! Last words: what the clients of the process queued is delivered when
//! the process ends without closing them (`std::process::exit`, a panic
//! that aborts, a signal a program chose to deliver on).

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::OnceLock;

use crate::pipeline::live;
use crate::rt::{os, threads};

/// Closes every client of the process that is still open: each stops
/// accepting records and delivers what it queued within its
/// `shutdown_timeout`, all at once (so this returns within the longest of
/// them). Returns how many clients it closed.
///
/// The exit hook ([`install_exit_hook`]) calls it, and so can a program's
/// own signal handler or fatal-error path before it ends the process. On
/// a client's worker thread (inside `on_error`), that client is skipped:
/// it cannot deliver while its worker waits here.
///
/// ```
/// # #[path = "../../tests/double/mod.rs"] mod double;
/// let mock = double::MockTransport::new();
/// let client = timber_core::Client::builder()
///     .source("cli").api_key("k").transport(mock.clone()).build()?;
/// client.info("about to exit", (), None);
/// assert_eq!(timber_core::last_words(), 1);
/// assert_eq!(mock.records().len(), 1);
/// # Ok::<(), timber_core::Error>(())
/// ```
pub fn last_words() -> usize {
    live::close_all(live::worker_of_current_thread())
}

/// Makes `std::process::exit` (from any thread) and the end of `main`
/// deliver what every open client queued, within each one's
/// `shutdown_timeout`, before the process ends ([`last_words`]).
/// `timber_sdk::init` installs it; call it once if you build clients
/// yourself. Installing again does nothing.
///
/// # Errors
/// When the platform has no exit handlers (not Unix), or the C library
/// refuses one more: the process then ends without last words, as before.
///
/// ```
/// timber_core::install_exit_hook()?;
/// timber_core::install_exit_hook()?; // once is enough; again is harmless
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn install_exit_hook() -> io::Result<()> {
    static INSTALLED: Once = OnceLock::new();
    once(&INSTALLED, || os::at_exit(at_exit))
}

/// The outcome of something done once per process.
type Once = OnceLock<Result<(), (io::ErrorKind, String)>>;

/// Does `start` the first time; every call returns how it went.
fn once(done: &Once, start: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
    done.get_or_init(|| start().map_err(|e| (e.kind(), e.to_string())))
        .clone()
        .map_err(|(kind, text)| io::Error::new(kind, text))
}

/// Makes SIGTERM, SIGINT and SIGHUP deliver what every open client queued
/// ([`last_words`], within each one's `shutdown_timeout`), then end the
/// process as the signal would have (the same status: killed by it).
///
/// For programs that do not handle these signals themselves: how systemd,
/// Kubernetes and `docker stop` stop a program (SIGTERM), and Ctrl-C
/// (SIGINT). A program that handles them (`tokio::signal`, `ctrlc`,
/// `signal-hook`) should not call it: it ends the program on the signal.
/// Such a program keeps its own behaviour and closes its clients as it
/// shuts down (or calls [`last_words`]). This is why `timber_sdk::init`
/// does not call it: whether a program will install a handler of its own
/// cannot be known when the client starts.
///
/// The signal is received on a thread of its own (`timber-signals`),
/// never in the handler. Calling it again does nothing.
///
/// # Errors
/// When the handlers cannot be registered, or not on Unix.
pub fn flush_on_signals() -> io::Result<()> {
    static STARTED: Once = OnceLock::new();
    once(&STARTED, start_signal_thread)
}

#[cfg(unix)]
fn start_signal_thread() -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    threads::spawn("signals", move || {
        if let Some(signal) = signals.forever().next() {
            last_words();
            // The default disposition of these three ends the process.
            let _ = signal_hook::low_level::emulate_default_handler(signal);
            std::process::exit(128 + signal);
        }
    })?;
    Ok(())
}

#[cfg(not(unix))]
fn start_signal_thread() -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "flush_on_signals is only offered on Unix",
    ))
}

/// Runs at exit, on the exiting thread, whose own thread-locals are gone
/// by then (waiting needs its thread handle): the closing runs on a thread
/// of its own. Never unwinds into the C library.
extern "C" fn at_exit() {
    let _ = panic::catch_unwind(AssertUnwindSafe(|| {
        let skip = live::worker_of_current_thread();
        match threads::spawn("last-words", move || live::close_all(skip)) {
            Ok(closing) => drop(closing.join()),
            Err(_) => drop(live::close_all(skip)),
        }
    }));
}
