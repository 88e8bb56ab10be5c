//! The transport's own small tokio runtime.
//!
//! Every hyper future runs here, never on the caller's executor: the client
//! polls the transport from a plain thread (`block_on`) and from whatever
//! executor its caller uses, and a current-thread runtime blocked in
//! `flush()` could not drive I/O of its own.

use std::future::Future;
use std::io;

use timber_core::ThreadPriority;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// A multi-thread runtime owned by a dedicated thread. Dropping it lets that
/// thread drop the runtime outside any async context, so dropping the
/// transport inside another runtime does not panic.
pub(crate) struct OwnedRuntime {
    handle: Handle,
    _stop: oneshot::Sender<()>,
}

impl OwnedRuntime {
    pub(crate) fn start(worker_threads: usize, priority: ThreadPriority) -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads.max(1))
            .thread_name("timber-transport")
            // Its blocking threads too. Marked as the SDK's: what hyper and
            // rustls log there is not bridged back into the SDK.
            .on_thread_start(move || {
                timber_core::integration::mark_sdk_thread();
                priority.apply_to_current_thread();
            })
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("timber-transport-owner".into())
            .spawn(move || {
                timber_core::integration::mark_sdk_thread();
                priority.apply_to_current_thread();
                // Resolves when the sender is dropped with the transport.
                runtime.block_on(async {
                    let _ = stopped.await;
                });
                runtime.shutdown_background();
            })?;
        Ok(OwnedRuntime {
            handle,
            _stop: stop,
        })
    }

    /// Runs `task` on the runtime; the returned future can be awaited from
    /// any executor and cancels the task if dropped first.
    pub(crate) async fn run<F>(&self, task: F) -> Option<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = self.handle.spawn(task);
        let guard = AbortOnDrop(handle.abort_handle());
        let result = handle.await.ok();
        std::mem::forget(guard);
        result
    }
}

impl OwnedRuntime {
    /// Runs `work` on the runtime's blocking threads; `None` if the
    /// runtime stopped or the work panicked.
    pub(crate) async fn run_blocking<T, F>(&self, work: F) -> Option<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.handle.spawn_blocking(work).await.ok()
    }
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
