//! Records taken from the queue become batches: their backtraces resolved
//! and the client's dataset filled in on the worker (not on the caller),
//! the queue's chunks handed back for callers to fill again. And batches
//! that cannot be delivered go to the spool.

use crate::error::Error;
use crate::pipeline::queue::Records;
use crate::pipeline::shared::Pipeline;
use crate::record::buffers::Pool;
use crate::record::data::Data;
use crate::record::record::Record;
use crate::transport::batch::Batch;

/// Most emptied batches kept (about as many as are sent at once).
const KEEP_BATCHES: usize = 8;

/// One batch of the records taken for it.
pub(crate) fn form_batch(p: &Pipeline, mut records: Records) -> Batch {
    let mut batch = p.lock().spare_batches.pop().unwrap_or_default();
    batch.reserve_exact(records.len());
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
    // Parked records are in the journal only: it stays (full, most likely;
    // after a crash, this batch would go again under a key of its own).
    if st.parked_from.is_some() {
        return;
    }
    if let Some(journal) = st.journal.take() {
        journal.give_up();
    }
    drop(st);
    p.report(Error::Spool {
        reason: format!("journal given up, records are kept in memory only from now on: {e}"),
    });
}

/// Hands the buffers of delivered records (data, tags) back to callers,
/// and the emptied batch to the worker's next.
pub(crate) fn recycle(p: &Pipeline, mut records: Vec<Record>) {
    let mut spares = Pool::default();
    for mut record in records.drain(..) {
        if let Some(buf) = record.take_data().and_then(Data::into_spare) {
            spares.keep_data(buf);
        }
        spares.keep_tags(std::mem::take(record.tags_mut()));
        if let Some(details) = record.take_details() {
            spares.keep_details(details);
        }
    }
    let mut st = p.lock();
    st.spare.absorb(&mut spares);
    if st.spare_batches.len() < KEEP_BATCHES {
        st.spare_batches.push(records);
    }
    drop(st);
    // What the pool has no room for is freed after the lock.
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
