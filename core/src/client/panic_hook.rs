//! A process-wide panic hook that logs each panic as an error record and
//! delivers it before the previous hook runs (which may abort the process).

use std::cell::Cell;
use std::future::Future;
use std::panic::{self, PanicHookInfo};
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::Poll;
use std::thread;

use serde_json::{Map, Value};

use crate::client::emit::Draft;
use crate::client::last_words::last_words;
use crate::client::{Client, WeakClient};
use crate::record::level::Level;
use crate::record::limits::{self, truncate_chars};
use crate::rt::block_on::block_on;
use crate::rt::threads::on_sdk_thread;

/// The client panics are logged through (the last one that installed the hook).
static TARGET: Mutex<Option<WeakClient>> = Mutex::new(None);
/// The generation of the latest hook installed.
static LATEST: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set while this thread reports a panic: a panic meanwhile is not reported.
    static REPORTING: Cell<bool> = const { Cell::new(false) };
}

impl Client {
    /// Installs a process-wide panic hook that logs each panic through this
    /// client as an error record, and waits (at most the shutdown timeout)
    /// for its delivery before the hook that was installed before runs
    /// (std's, which prints the panic, or your own), so that the record
    /// leaves even when the panic ends the process.
    ///
    /// The record: message `panicked at {file}:{line}:{column}: {message}`,
    /// `errorName` `Panic`, `errorStack` with the message, the location and
    /// a backtrace of the panicking thread (per
    /// [`BacktraceMode`](crate::BacktraceMode), resolved by the worker), and
    /// `data` with `message`, `location` and `thread`. It goes through
    /// `before_send` and redaction, not sampling.
    ///
    /// Installing again (from this client or another) changes the client
    /// panics are logged through, and puts the hook in front of any set
    /// since with [`std::panic::set_hook`] (which replaces it); a panic is
    /// logged once however often the hook was installed. The hook
    /// does not keep the client alive: once every handle is dropped, panics
    /// only reach the previous hook. Panics on the SDK's own threads (the
    /// worker, the transport's runtime: `timber-*`) are not logged and never
    /// wait, so that a panic inside the SDK cannot deadlock it; a panic while
    /// a panic is being logged on the same thread is not logged either.
    ///
    /// Built with `panic = "abort"`, where the process ends when the hook
    /// returns, the hook also closes every open client of the process
    /// ([`last_words`](crate::last_words)), each within its shutdown
    /// timeout, so that nothing they queued is lost to the abort.
    ///
    /// ```
    /// # #[path = "../../tests/double/mod.rs"] mod double;
    /// # use double::MockTransport;
    /// use timber_core::Client;
    ///
    /// let mock = MockTransport::new();
    /// let client = Client::builder().source("s").api_key("k").transport(mock.clone()).build()?;
    /// client.install_panic_hook();
    /// # std::panic::set_hook(Box::new(|_| {})); // keep the doctest's output clean
    /// # client.install_panic_hook();
    ///
    /// let _ = std::thread::spawn(|| panic!("worker crashed")).join();
    /// let record = mock.last().unwrap();
    /// assert_eq!(record.error_name.as_deref(), Some("Panic"));
    /// assert_eq!(record.data.unwrap()["message"], "worker crashed");
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn install_panic_hook(&self) -> &Self {
        *TARGET.lock().unwrap_or_else(PoisonError::into_inner) = Some(self.downgrade());
        // Each install wraps the hook in place (which may be an earlier one
        // of ours, or one set over it since); only the latest reports, so a
        // panic is logged once however often the hook was installed.
        let generation = LATEST.fetch_add(1, Ordering::SeqCst) + 1;
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if LATEST.load(Ordering::SeqCst) == generation {
                report(info);
                if cfg!(panic = "abort") {
                    // The process ends after this hook: every client's last words.
                    last_words();
                }
            }
            previous(info);
        }));
        self
    }
}

/// Marks the current thread as reporting a panic until dropped.
struct Reporting(());

impl Reporting {
    fn enter() -> Option<Reporting> {
        let was = REPORTING.try_with(|r| r.replace(true)).unwrap_or(true);
        (!was).then_some(Reporting(()))
    }
}

impl Drop for Reporting {
    fn drop(&mut self) {
        let _ = REPORTING.try_with(|r| r.set(false));
    }
}

fn report(info: &PanicHookInfo<'_>) {
    if on_sdk_thread() {
        return;
    }
    let current = thread::current();
    let thread_name = current.name().unwrap_or("<unnamed>");
    let Some(_reporting) = Reporting::enter() else {
        return;
    };
    let target = TARGET
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let Some(client) = target.and_then(|t| t.upgrade()) else {
        return;
    };
    // Not sampled: every panic is logged.
    let mut draft = Draft::new(&client, Level::Error);
    panic_record(&mut draft, info, thread_name).backtrace();
    if draft.try_emit().is_err() {
        return;
    }
    // Deliver before the previous hook runs (it may abort), within the
    // shutdown timeout.
    let timeout = client.config().shutdown_timeout;
    let delivered = client.flush_async();
    let deadline = futures_timer::Delay::new(timeout);
    block_on(either(delivered, deadline));
}

/// The text of a panic's payload (`panic!("..")` gives a `&str` or a `String`).
fn payload_text(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

fn panic_record<'d, 'a>(
    draft: &'d mut Draft<'a>,
    info: &PanicHookInfo<'_>,
    thread_name: &str,
) -> &'d mut Draft<'a> {
    let text = payload_text(info);
    let location = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
    let message = match &location {
        Some(at) => format!("panicked at {at}: {text}"),
        None => format!("panicked: {text}"),
    };
    let mut stack = format!("Panic: {text}");
    if let Some(at) = &location {
        stack.push_str("\n  at ");
        stack.push_str(at);
    }
    let mut data = Map::new();
    data.insert("message".into(), Value::String(text));
    if let Some(at) = location {
        data.insert("location".into(), Value::String(at));
    }
    data.insert("thread".into(), Value::String(thread_name.to_owned()));
    draft
        .message(truncate_chars(message, limits::MESSAGE))
        .error(
            "Panic".to_owned(),
            truncate_chars(stack, limits::ERROR_STACK),
        )
        .data(data)
}

/// Polls two futures until either completes.
async fn either<A: Future, B: Future>(a: A, b: B) {
    let mut a = pin!(a);
    let mut b = pin!(b);
    std::future::poll_fn(|cx| {
        if a.as_mut().poll(cx).is_ready() || b.as_mut().poll(cx).is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}
