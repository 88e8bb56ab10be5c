//! Records taken from the queue become batches: their backtraces resolved
//! and the client's dataset filled in on the worker (not on the caller),
//! the queue's chunks handed back for callers to fill again. And batches
//! that cannot be delivered go to the spool.

use crate::error::Error;
use crate::pipeline::queue::Records;
use crate::pipeline::shared::Pipeline;
use crate::record::buffers;
use crate::record::record::Record;
use crate::transport::batch::Batch;

/// One batch of the records taken for it.
pub(crate) fn form_batch(p: &Pipeline, mut records: Records) -> Batch {
    let mut batch = Vec::with_capacity(records.len());
    for chunk in &mut records.chunks {
        for mut record in chunk.drain(..) {
            // Symbols are resolved here, on the worker, not by the caller.
            record.resolve_backtrace();
            record.default_dataset(&p.config.dataset);
            batch.push(record);
        }
    }
    let mut st = p.lock();
    st.queue.recycle(&mut records.chunks);
    drop(st);
    // What the queue has no room for is freed after the lock.
    Batch::new(p.resource.clone(), batch)
}

/// Writes into the journal, before the batch is sent, that the records
/// from `first` go out as `batch` (its key), so that after a crash they
/// are sent again under the same key. A journal that cannot take it is
/// given up, as on the callers' side.
pub(crate) fn mark_batch(p: &Pipeline, first: u64, batch: &Batch) {
    let mut st = p.lock();
    let Some(journal) = st.journal.as_mut() else {
        return;
    };
    let Err(e) = journal.batch(first, batch.len(), batch.idempotency_key()) else {
        return;
    };
    if let Some(journal) = st.journal.take() {
        journal.give_up();
    }
    drop(st);
    p.report(Error::Spool {
        reason: format!("journal given up, records are kept in memory only from now on: {e}"),
    });
}

/// Hands the render buffers of delivered records back to callers.
pub(crate) fn recycle(p: &Pipeline, records: Vec<Record>) {
    let mut spares: Vec<Vec<u8>> = records
        .into_iter()
        .filter_map(|mut r| r.take_data()?.into_spare())
        .collect();
    if spares.is_empty() {
        return;
    }
    let mut st = p.lock();
    let room = buffers::POOL_MOST.saturating_sub(st.spare.len());
    st.spare.extend(spares.drain(..room.min(spares.len())));
}

/// Writes batches and then queued records (in batches) to the spool;
/// returns how many records were written. Without a spool, nothing is
/// written; a failure is reported.
pub(crate) fn spill(p: &Pipeline, mut batches: Vec<Batch>, queued: Vec<Record>) -> u64 {
    let Some(spool) = &p.spool else { return 0 };
    let mut queued = queued.into_iter();
    while queued.len() > 0 {
        let n = queued.len().min(p.config.max_batch_records);
        let records = Records::from(queued.by_ref().take(n).collect::<Vec<_>>());
        batches.push(form_batch(p, records));
    }
    let (written, failure) = spool.spill(batches);
    if let Some(reason) = failure {
        p.report(Error::Spool { reason });
    }
    written
}
