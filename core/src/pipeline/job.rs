//! A batch on its way ([`Job`]): where its records came from, and what
//! becomes of it when it fails ([`Verdict`]).

use std::cell::Cell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use crate::transport::batch::Batch;
use crate::transport::error::TransportError;

/// A batch to deliver and where its records came from.
pub(crate) struct Job {
    pub(crate) batch: Arc<Batch>,
    pub(crate) origin: Origin,
}

pub(crate) enum Origin {
    /// Records of this process; the first one's sequence number.
    Live { first: u64 },
    /// Records of this process that the overflow policy `Spool` parked in
    /// the journal (counted spooled then), read back from it; the first
    /// one's sequence number.
    Parked { first: u64 },
    /// Records read back from a spool file (shared by the file's parts).
    Spooled(Rc<SpooledFile>),
}

/// A spool file whose batch is being delivered, perhaps in parts.
pub(crate) struct SpooledFile {
    pub(crate) path: PathBuf,
    /// Parts not yet resolved.
    pub(crate) parts: Cell<usize>,
    /// A part failed for good: the file stays for a later attempt.
    pub(crate) keep: Cell<bool>,
}

impl Job {
    pub(crate) fn live(batch: Batch, first: u64) -> Job {
        Job {
            batch: Arc::new(batch),
            origin: Origin::Live { first },
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.batch.len()
    }

    /// The sequence number of the first record, for records this process
    /// still counts as pending (not parked, not from a spool file).
    pub(crate) fn first(&self) -> Option<u64> {
        match self.origin {
            Origin::Live { first } => Some(first),
            Origin::Parked { .. } | Origin::Spooled(_) => None,
        }
    }

    /// The sequence number of the first record, for records of this
    /// process's journal (live or parked): the journal keeps them until
    /// they are resolved.
    pub(crate) fn seq(&self) -> Option<u64> {
        match self.origin {
            Origin::Live { first } | Origin::Parked { first } => Some(first),
            Origin::Spooled(_) => None,
        }
    }

    pub(crate) fn is_parked(&self) -> bool {
        matches!(self.origin, Origin::Parked { .. })
    }

    /// Cuts the job in two halves, in order.
    pub(crate) fn split(self) -> (Job, Job) {
        let batch = Arc::try_unwrap(self.batch).unwrap_or_else(|shared| (*shared).clone());
        let (a, b) = batch.split();
        let b_origin = match &self.origin {
            Origin::Live { first } => Origin::Live {
                first: first + a.len() as u64,
            },
            Origin::Parked { first } => Origin::Parked {
                first: first + a.len() as u64,
            },
            Origin::Spooled(file) => {
                file.parts.set(file.parts.get() + 1);
                Origin::Spooled(file.clone())
            }
        };
        let a = Job {
            batch: Arc::new(a),
            origin: self.origin,
        };
        let b = Job {
            batch: Arc::new(b),
            origin: b_origin,
        };
        (a, b)
    }
}

/// What becomes of a batch that failed.
pub(crate) enum Verdict {
    /// The server refused the content: send the halves, so that one bad
    /// record does not take its neighbours down with it.
    Split(Job, Job),
    /// A single record the server refuses: give it up.
    GiveUp(Job, TransportError),
    /// Anything else: keep the batch and try again later.
    Hold(Job, TransportError),
}

pub(crate) fn verdict(job: Job, error: TransportError) -> Verdict {
    if !error.is_refused() {
        return Verdict::Hold(job, error);
    }
    if job.len() < 2 {
        return Verdict::GiveUp(job, error);
    }
    let (a, b) = job.split();
    Verdict::Split(a, b)
}
