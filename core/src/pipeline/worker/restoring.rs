//! The spool as the worker uses it: moving the queue to disk when the
//! overflow policy says so (parking it in the journal, or without one
//! writing spool files), reading parked records back, and reading earlier
//! runs' batches back to send them before live ones.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, MutexGuard};

use super::outcomes::unshare;
use super::Worker;
use crate::error::Error;
use crate::pipeline::batching::{form_batch, mark_batch, recycle, spill};
use crate::pipeline::job::{Job, Origin, SpooledFile};
use crate::pipeline::journal::codec::Frame;
use crate::pipeline::journal::segment;
use crate::pipeline::queue::Records;
use crate::pipeline::state::State;
use crate::record::record::Record;
use crate::transport::batch::Batch;

impl<'a> Worker<'a> {
    /// The overflow policy `Spool`: move what waits (formed batches, then
    /// the queue, in order) to disk so that callers find room again. Held
    /// batches stay: they are older than any spool file and go first; live
    /// batches wait until the spool files are through.
    pub(super) fn spill_queue(&mut self, mut st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        if st.journal.is_some() {
            return self.park(st);
        }
        let queued = st.queue.take_all();
        drop(st);
        let batches: Vec<Batch> = self.ready.drain(..).map(unshare).collect();
        let n = batches.iter().map(|b| b.len() as u64).sum::<u64>() + queued.len() as u64;
        let spooled = spill(self.p, batches, queued);
        self.list_spool();
        let mut st = self.p.lock();
        st.accounts.spooled += spooled;
        st.accounts.dropped += n - spooled;
        st.accounts.resolved += n;
        // Callers waiting for room (`Block` with a spool) find it now.
        self.p.room.notify_all();
        st
    }

    /// The overflow policy `Spool` with a journal: the queued records are
    /// in it already, so they leave memory and stay there only (parked),
    /// until the worker reads them back. Formed batches stay: they hold no
    /// room in the queue, and go first.
    fn park(&mut self, mut st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        let first = st.queue.front_seq();
        let queued = st.queue.take_all();
        let n = queued.len() as u64;
        if n > 0 {
            st.parked_from.get_or_insert(first);
        }
        st.accounts.spooled += n;
        st.accounts.resolved += n;
        self.p.room.notify_all();
        drop(st);
        recycle(self.p, queued);
        self.p.lock()
    }

    /// Reads parked records (`from..to`) back into batches, sent before
    /// anything newer: those of `segment`, the journal's segment holding
    /// `from` (its file, and the sequence number after its last record),
    /// so that at most a segment's worth is in memory. Records it should
    /// hold and does not (a damaged file) are counted lost and reported.
    pub(super) fn unpark(&mut self, from: u64, to: u64, segment: Option<(PathBuf, u64)>) {
        let end = segment.as_ref().map_or(to, |(_, end)| to.min(*end));
        let (records, problem) = match segment.map(|(path, _)| segment::read(&path)) {
            Some(Ok(written)) => (parked_in(written.frames, from, end), None),
            Some(Err(e)) => (Vec::new(), Some(e.to_string())),
            None => (Vec::new(), Some("no segment holds them".to_owned())),
        };
        let missing = (end - from).saturating_sub(records.len() as u64);
        for (first, records) in self.batches_of(records) {
            let batch = form_batch(self.p, Records::from(records));
            mark_batch(self.p, first, &batch);
            self.ready.push_back(Job {
                batch: Arc::new(batch),
                origin: Origin::Parked { first },
            });
        }
        let mut st = self.p.lock();
        st.parked_from = (end < to).then_some(end);
        st.accounts.restored += missing;
        st.accounts.lost += missing;
        drop(st);
        if missing > 0 {
            let problem = problem.unwrap_or_else(|| "damaged".to_owned());
            self.p.report(Error::Spool {
                reason: format!(
                    "{missing} parked record(s) lost, unreadable in the journal: {problem}"
                ),
            });
        }
    }

    /// Parked records, in order, cut into batches within the batch bounds
    /// and where a sequence number is missing; each with its first one's.
    fn batches_of(&self, records: Vec<(u64, Record)>) -> Vec<(u64, Vec<Record>)> {
        let config = &self.p.config;
        let mut batches: Vec<(u64, Vec<Record>)> = Vec::new();
        let mut bytes = 0;
        for (seq, record) in records {
            let size = record.size() + self.stamp_bytes;
            let fits = batches.last().is_some_and(|(first, b)| {
                seq == first + b.len() as u64
                    && b.len() < config.max_batch_records
                    && bytes + size <= config.max_batch_bytes
            });
            if !fits {
                batches.push((seq, Vec::new()));
                bytes = 0;
            }
            bytes += size;
            if let Some((_, batch)) = batches.last_mut() {
                batch.push(record);
            }
        }
        batches
    }

    /// Lists the spool files to send in this pass.
    pub(super) fn list_spool(&mut self) {
        let Some(spool) = &self.p.spool else { return };
        match spool.files() {
            Ok(files) => {
                self.spool_files = files
                    .into_iter()
                    .filter(|f| !self.delivered_files.contains(f))
                    .collect();
            }
            Err(e) => self.p.report(Error::Spool {
                reason: format!("cannot list the spool: {e}"),
            }),
        }
    }

    /// Reads a spool file back to be sent; a corrupt one is set aside.
    pub(super) fn restore(&mut self, path: PathBuf) {
        let Some(spool) = &self.p.spool else { return };
        match spool.read(&path, &self.p.resource) {
            Ok(batch) => self.restoring.push_back(Job {
                batch: Arc::new(batch),
                origin: Origin::Spooled(Rc::new(SpooledFile {
                    path,
                    parts: 1.into(),
                    keep: false.into(),
                })),
            }),
            Err(reason) => {
                let aside = spool.set_aside(&path);
                self.p.report(Error::Spool {
                    reason: format!(
                        "corrupt spool file set aside as {}: {reason}",
                        aside.display()
                    ),
                });
            }
        }
    }

    /// Deletes a delivered spool file; one that cannot be deleted is never
    /// sent again by this client.
    pub(super) fn delete_spooled(&mut self, path: &Path) {
        let Some(spool) = &self.p.spool else { return };
        if let Err(e) = spool.remove(path) {
            self.delivered_files.insert(path.to_owned());
            self.p.report(Error::Spool {
                reason: format!(
                    "{} was delivered but cannot be deleted: {e}",
                    path.display()
                ),
            });
        }
    }
}

/// The records of a segment's frames in `from..to`, in order.
fn parked_in(frames: Vec<Frame>, from: u64, to: u64) -> Vec<(u64, Record)> {
    frames
        .into_iter()
        .filter_map(|frame| match frame {
            Frame::Record(seq, record) if (from..to).contains(&seq) => Some((seq, record)),
            _ => None,
        })
        .collect()
}
