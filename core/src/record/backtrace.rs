//! Backtraces of error records: captured on the caller, resolved on the worker.
//!
//! `std::backtrace::Backtrace::force_capture` only walks the stack (a few
//! microseconds); turning the addresses into symbols, files and lines is done
//! the first time the backtrace is formatted. The client captures on the
//! calling thread and formats on its worker thread, when it writes the
//! record into a batch, so the caller pays for the walk only.

use std::backtrace::{Backtrace, BacktraceStatus};
use std::fmt::Write as _;
use std::path::Path;

use crate::record::limits::{self, truncate_chars};

/// When error records carry a backtrace in `errorStack`
/// ([`ClientBuilder::backtrace`](crate::ClientBuilder::backtrace)).
///
/// A backtrace is taken for [`Client::error`](crate::Client::error) (and
/// [`Flow::error`](crate::Flow::error)) called with an error value, and for
/// panics caught by [`Client::install_panic_hook`](crate::Client::install_panic_hook);
/// records with data only, [`LogEntry`](crate::LogEntry) records and the
/// `tracing`/`log` bridges carry none. The calling thread only walks its
/// stack (about 4 µs for a shallow stack); the symbols are resolved on the
/// client's worker thread, which appends the frames to `errorStack` after
/// `Backtrace:` (frames inside the SDK and the runtime's start-up frames
/// left out, the whole cut at the protocol's 10,000 characters).
///
/// ```
/// use timber_core::{BacktraceMode, Client};
/// # #[path = "../../tests/double/mod.rs"] mod double;
/// # use double::MockTransport;
///
/// let mock = MockTransport::new();
/// let client = Client::builder().source("s").api_key("k").transport(mock.clone()).build()?;
/// assert_eq!(client.config().backtrace, BacktraceMode::Always);
///
/// let err = "x".parse::<u8>().unwrap_err();
/// client.error("parse failed", &err, None).flush()?;
/// let stack = mock.last().unwrap().error_stack.unwrap();
/// assert!(stack.starts_with("ParseIntError: invalid digit found in string\n\nBacktrace:\n"), "{stack}");
/// # Ok::<(), timber_core::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BacktraceMode {
    /// Always (the default).
    #[default]
    Always,
    /// When the environment enables Rust's backtraces: `RUST_LIB_BACKTRACE`,
    /// else `RUST_BACKTRACE`, set to anything but `0` (read once per process,
    /// as [`Backtrace::capture`] does).
    FromEnv,
    /// Never: `errorStack` holds the error and its cause chain only.
    Never,
}

impl BacktraceMode {
    /// Captures the current thread's stack, unresolved, if this mode asks for it.
    #[inline]
    pub(crate) fn capture(self) -> Option<Backtrace> {
        let backtrace = match self {
            BacktraceMode::Always => Backtrace::force_capture(),
            BacktraceMode::FromEnv => Backtrace::capture(),
            BacktraceMode::Never => return None,
        };
        (backtrace.status() == BacktraceStatus::Captured).then_some(backtrace)
    }
}

/// Appends a backtrace's frames to an error stack (`\n\nBacktrace:\n…`),
/// resolving its symbols now, and keeps the stack within the protocol's limit.
pub(crate) fn append(stack: &mut String, backtrace: &Backtrace) {
    #[cfg(test)]
    tests::resolved_on(stack);
    let text = backtrace.to_string();
    let frames = frames(&text);
    if frames.is_empty() {
        return;
    }
    stack.push_str(if stack.is_empty() {
        "Backtrace:\n"
    } else {
        "\n\nBacktrace:\n"
    });
    for (i, frame) in frames.iter().enumerate() {
        let (symbol, rest) = frame;
        let _ = write!(stack, "{i:4}: {symbol}");
        for line in rest {
            let _ = write!(stack, "\n             {}", line.trim_start());
        }
        stack.push('\n');
        if stack.len() > limits::ERROR_STACK * 4 {
            break;
        }
    }
    stack.pop();
    if stack.chars().nth(limits::ERROR_STACK).is_some() {
        *stack = truncate_chars(std::mem::take(stack), limits::ERROR_STACK);
    }
}

/// Symbols that belong to the capture itself (std's backtrace, the SDK,
/// the panic machinery): frames at the top of the stack with these are
/// left out.
const CAPTURE_FRAMES: &[&str] = &[
    "std::backtrace",
    "std::panicking",
    "core::panicking",
    "rust_begin_unwind",
    "timber_core::",
    "<timber_core::",
    "__rustc::rust_begin_unwind",
    "<alloc::boxed::Box<F,A> as core::ops::function::Fn<Args>>::call",
];

/// The frames of a formatted backtrace worth showing: each one's symbol and
/// its `at file:line` lines. Frames up to std's marker of the start of a
/// short backtrace and the capture's own frames are left out at the top,
/// and the runtime's start-up frames (from `__rust_begin_short_backtrace`
/// on) at the bottom.
fn frames(text: &str) -> Vec<(&str, Vec<&str>)> {
    let mut frames: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        match trimmed.split_once(": ") {
            Some((n, symbol)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                frames.push((symbol, Vec::new()));
            }
            _ => {
                if let Some(last) = frames.last_mut() {
                    if !trimmed.is_empty() {
                        last.1.push(trimmed);
                    }
                }
            }
        }
    }
    if let Some(end) = frames
        .iter()
        .rposition(|(s, _)| s.contains("__rust_end_short_backtrace"))
    {
        frames.drain(..=end);
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let sdk_src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let own = frames
        .iter()
        .take_while(|(s, at)| {
            CAPTURE_FRAMES.iter().any(|p| s.starts_with(p))
                || at
                    .first()
                    .is_some_and(|at| in_sdk_source(at, &cwd, &sdk_src))
        })
        .count();
    frames.drain(..own);
    if let Some(start) = frames
        .iter()
        .position(|(s, _)| s.contains("__rust_begin_short_backtrace"))
    {
        frames.truncate(start);
    }
    frames
}

/// Whether a frame's `at file:line:column` is in `sdk_src` (this crate's
/// `src/`, where it was built). Where
/// only line tables are built, a function with inlined calls in it is named
/// without its path (`error<..>`), so its name does not tell it is the SDK's;
/// its file does (std prints the files below the current directory as `./..`).
fn in_sdk_source(at: &str, cwd: &Path, sdk_src: &Path) -> bool {
    let Some(location) = at.strip_prefix("at ") else {
        return false;
    };
    let mut parts = location.rsplitn(3, ':');
    let file = match (parts.next(), parts.next(), parts.next()) {
        (Some(_column), Some(_line), Some(file)) => file,
        _ => return false,
    };
    cwd.join(file).starts_with(sdk_src)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::Mutex;

    /// The thread on which each stack (by its first line) had its backtrace resolved.
    pub(crate) static RESOLVED_ON: Mutex<Vec<(String, Option<String>)>> = Mutex::new(Vec::new());

    pub(super) fn resolved_on(stack: &str) {
        let first = stack.lines().next().unwrap_or_default().to_owned();
        let thread = std::thread::current().name().map(str::to_owned);
        RESOLVED_ON.lock().unwrap().push((first, thread));
    }

    #[test]
    fn capture_frames_and_start_up_frames_are_left_out() {
        let text = "   0: std::backtrace::Backtrace::force_capture
             at /rustc/x/library/std/src/backtrace.rs:312:9
   1: timber_core::client::Client::error
   2: my_app::handler
             at /home/u/app/src/main.rs:10:5
   3: my_app::main
   4: std::sys::backtrace::__rust_begin_short_backtrace
   5: main
";
        let frames = frames(text);
        let symbols: Vec<&str> = frames.iter().map(|f| f.0).collect();
        assert_eq!(symbols, ["my_app::handler", "my_app::main"]);
        assert_eq!(frames[0].1, ["at /home/u/app/src/main.rs:10:5"]);
    }

    #[test]
    fn sdk_frames_named_without_their_path_are_known_by_their_file() {
        // Line tables only: a function with inlined calls is named short.
        let sdk_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/client/calls.rs");
        let text = format!(
            "   0: std::backtrace::Backtrace::force_capture
   1: error<timber_core::client::error_arg::kinds::Concrete, &str>
             at {}:60:27
   2: handle_request
             at /home/u/app/src/calls.rs:60:27
   3: error<my_app::Kind>
             at {}:61:1
",
            sdk_file.display(),
            sdk_file.display()
        );
        let symbols: Vec<String> = frames(&text).iter().map(|f| f.0.to_owned()).collect();
        assert_eq!(
            symbols,
            ["handle_request", "error<my_app::Kind>"],
            "only the SDK's frames at the top go"
        );
        let cwd = Path::new(env!("CARGO_MANIFEST_DIR"));
        let ours = |at| in_sdk_source(at, cwd, &cwd.join("src"));
        assert!(ours("at ./src/client/calls.rs:60:27"));
        assert!(!ours("at ./tests/errors.rs:195:12"));
        assert!(!ours("at /rustc/x/library/std/src/backtrace.rs:312:9"));
        assert!(!ours("at nowhere"));
    }

    #[test]
    fn frames_before_the_end_marker_are_left_out() {
        let text = "   0: std::panicking::begin_panic_handler
   1: std::sys::backtrace::__rust_end_short_backtrace
   2: core::panicking::panic_fmt
   3: my_app::worker
";
        let symbols: Vec<&str> = frames(text).iter().map(|f| f.0).collect();
        assert_eq!(symbols, ["my_app::worker"]);
    }

    #[test]
    fn the_stack_stays_within_the_limit() {
        let mut stack = "E: boom".to_owned();
        append(&mut stack, &Backtrace::force_capture());
        assert!(stack.starts_with("E: boom\n\nBacktrace:\n"), "{stack}");
        assert!(stack.chars().count() <= limits::ERROR_STACK);

        let mut long = "x".repeat(limits::ERROR_STACK);
        append(&mut long, &Backtrace::force_capture());
        assert_eq!(long.chars().count(), limits::ERROR_STACK);
    }

    #[test]
    fn never_captures_nothing() {
        assert!(BacktraceMode::Never.capture().is_none());
        assert!(BacktraceMode::Always.capture().is_some());
    }
}
