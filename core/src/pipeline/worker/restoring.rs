//! The spool as the worker uses it: moving the queue to disk when the
//! overflow policy says so, and reading earlier runs' batches back to send
//! them before live ones.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, MutexGuard};

use super::outcomes::unshare;
use super::Worker;
use crate::error::Error;
use crate::pipeline::batching::spill;
use crate::pipeline::job::{Job, Origin, SpooledFile};
use crate::pipeline::state::State;
use crate::transport::batch::Batch;

impl<'a> Worker<'a> {
    /// The overflow policy `Spool`: move what waits (formed batches, then
    /// the queue, in order) to disk so that callers find room again. Held
    /// batches stay: they are older than any spool file and go first; live
    /// batches wait until the spool files are through.
    pub(super) fn spill_queue(&mut self, mut st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
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
