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
pub(crate) mod journal;
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
use crate::error::Error;
use crate::rt::threads;
use crate::transport::batch::Resource;
use crate::transport::port::{Endpoint, Transport};
use journal::recovery::{self, Recovered};
use journal::Journal;
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
    let resource = Arc::new(resource);
    let (journal, recovered, journal_error) = match &spool {
        Some(spool) => open_journal(&config, spool, &resource),
        None => (None, Recovered::default(), None),
    };
    let mut state = State::new(Queue::new(config.queue_capacity, config.queue_max_bytes));
    state.journal = journal;
    // Until the worker has looked at the spool, a flush waits for it.
    state.spool_backlog = spool.is_some();
    let pipeline = Arc::new(Pipeline {
        state: Mutex::new(state),
        room: Condvar::new(),
        reporter: reporter::Reporter::new(config.on_error.clone()),
        config,
        resource,
        endpoint: Arc::new(endpoint),
        transport,
        spool,
        worker: OnceLock::new(),
        invalid: Default::default(),
        retried: Arc::default(),
        recovered: recovered.records,
        torn: recovered.torn,
    });
    if let Some(reason) = journal_error {
        pipeline.report(Error::Spool { reason });
    }
    live::register(&pipeline);
    let worker = Arc::clone(&pipeline);
    let handle = threads::spawn("worker", move || worker::run(&worker))?;
    let _ = pipeline.worker.set(handle.thread().clone());
    Ok((pipeline, handle.thread().id()))
}

/// Recovers what earlier runs left in the spool's journal (as spool files,
/// sent first) and starts this run's. Without a journal (a full disk), the
/// client goes on in memory: the reason is reported once.
fn open_journal(
    config: &Config,
    spool: &Spool,
    resource: &Arc<Resource>,
) -> (Option<Journal>, Recovered, Option<String>) {
    let Some(spool_config) = &config.spool else {
        return (None, Recovered::default(), None);
    };
    let dir = &spool_config.dir;
    let mut problems = Vec::new();
    let mut recovered = match recovery::recover(dir, config.max_batch_records, resource) {
        Ok(recovered) => recovered,
        Err(e) => {
            problems.push(format!("cannot read the journal in {}: {e}", dir.display()));
            Recovered::default()
        }
    };
    let batches = std::mem::take(&mut recovered.batches);
    let (_, failure) = spool.spill(batches);
    match failure {
        // Safe in spool files now: the segments can go.
        None => recovered
            .files
            .iter()
            .for_each(|f| drop(std::fs::remove_file(f))),
        Some(reason) => problems.push(format!("recovered records kept in the journal: {reason}")),
    }
    let journal = Journal::start(
        dir,
        resource,
        spool_config.max_bytes,
        config.max_batch_bytes,
    )
    .map_err(|e| {
        problems.push(format!(
            "no journal in {} (records are kept in memory only): {e}",
            dir.display()
        ))
    })
    .ok();
    let problem = (!problems.is_empty()).then(|| problems.join("; "));
    (journal, recovered, problem)
}
