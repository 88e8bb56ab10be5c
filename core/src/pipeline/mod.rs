//! The way from a logged record to the transport: a bounded queue that
//! callers push to ([`admission`], [`queue`]), a worker thread that forms
//! batches and hands them to the transport ([`worker`]), several at once
//! ([`delivery`]), the counters and flushes ([`accounting`], [`closing`]),
//! and the on-disk spool ([`spool`]).
//!
//! Callers only lock the queue, push and (rarely) wake the worker: no I/O.

pub(crate) mod accounting;
pub(crate) mod admission;
pub(crate) mod batching;
pub(crate) mod closing;
pub(crate) mod delivery;
pub(crate) mod job;
pub(crate) mod live;
pub(crate) mod queue;
pub(crate) mod reporter;
pub(crate) mod request;
pub(crate) mod shared;
pub(crate) mod spool;
pub(crate) mod state;
pub(crate) mod stats;
pub(crate) mod worker;

use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::ThreadId;

use crate::config::settings::Config;
use crate::rt::threads;
use crate::transport::batch::Resource;
use crate::transport::port::{Endpoint, Transport};
use queue::Queue;
use shared::Pipeline;
use spool::Spool;
use state::State;

/// Starts a client's pipeline and its worker thread.
pub(crate) fn start(
    config: Config,
    transport: Arc<dyn Transport>,
    spool: Option<Spool>,
) -> std::io::Result<(Arc<Pipeline>, ThreadId)> {
    let endpoint = Endpoint {
        base_url: config.base_url.clone(),
        api_key: config.api_key.clone(),
    };
    let resource = Resource::new(
        config.source.clone(),
        config.environment,
        config.version.clone(),
    );
    let pipeline = Arc::new(Pipeline {
        state: Mutex::new(State::new(Queue::new(
            config.queue_capacity,
            config.queue_max_bytes,
        ))),
        room: Condvar::new(),
        reporter: reporter::Reporter::new(config.on_error.clone()),
        config,
        resource: Arc::new(resource),
        endpoint: Arc::new(endpoint),
        transport,
        spool,
        worker: OnceLock::new(),
        invalid: Default::default(),
        retried: Arc::default(),
    });
    live::register(&pipeline);
    let worker = Arc::clone(&pipeline);
    let handle = threads::spawn("worker", move || worker::run(&worker))?;
    let _ = pipeline.worker.set(handle.thread().clone());
    Ok((pipeline, handle.thread().id()))
}
