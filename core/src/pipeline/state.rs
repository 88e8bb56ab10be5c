//! What callers and the worker share under the pipeline's lock: the
//! queue, the accounts, where the pipeline is in its life ([`Phase`]), how
//! deliveries are going ([`Health`]), and the signals between the two sides.

use std::time::{Duration, Instant};

use futures_channel::oneshot;

use crate::error::Error;
use crate::pipeline::accounting::Accounts;
use crate::pipeline::journal::Journal;
use crate::pipeline::queue::Queue;
use crate::pipeline::request::Request;
use crate::record::buffers::Pool;
use crate::record::record::Record;
use crate::transport::error::TransportError;

/// Where the pipeline is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Records are accepted.
    Running,
    /// `close` was called: nothing more is accepted; the worker delivers
    /// until the deadline.
    Closing { deadline: Instant },
    /// The worker stopped: everything was delivered, spooled or counted lost.
    Done,
    /// The closer gave up on the worker at the deadline (a transport that
    /// blocks the thread polling it): the worker's late results are ignored.
    Abandoned,
}

/// How deliveries are going, for callers deciding whether to wait for room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Health {
    /// Deliveries succeed: a caller may wait for room.
    Ok,
    /// Deliveries are failing: callers do not wait for room.
    Failing,
    /// A caller waited for room in vain (the service hangs): later callers
    /// do not wait until the worker takes records again.
    Stalled,
}

pub(crate) struct State {
    pub(crate) queue: Queue,
    pub(crate) accounts: Accounts,
    pub(crate) phase: Phase,
    pub(crate) health: Health,
    /// A flush or the interval wants every record below this sent now.
    pub(crate) drain_to: u64,
    /// Flushes asked for so far (a paused spool tries again after one).
    pub(crate) flushes: u64,
    /// The worker sleeps until the next batch is full or the interval:
    /// a caller that fills a batch wakes it.
    pub(crate) worker_idle: bool,
    /// The lowest sequence number among the records the worker holds
    /// (written, in flight, kept after a failure); `u64::MAX` for none.
    pub(crate) worker_low: u64,
    /// Callers waiting for room.
    pub(crate) room_waiters: usize,
    /// How long the last delivery took, for callers deciding how long to
    /// wait for room.
    pub(crate) round_trip: Duration,
    /// The spool's journal, when there is one.
    pub(crate) journal: Option<Journal>,
    /// The spool holds older records that are being delivered (a flush
    /// waits for them too); set by the worker.
    pub(crate) spool_backlog: bool,
    /// The overflow policy asked the worker to move the queue to the spool.
    pub(crate) spill_requested: bool,
    /// The records from this sequence number up to the queue's front were
    /// moved out of memory by the overflow policy `Spool`: they are in the
    /// journal only (counted spooled), for the worker to read back. While
    /// they are, nothing newer is taken from the queue, and the journal is
    /// never given up.
    pub(crate) parked_from: Option<u64>,
    /// The journal, holding parked records, refused a record: reported
    /// once, until it takes one again.
    pub(crate) spool_full: bool,
    /// Calls made for callers (raw bodies, server flows), for the worker to send.
    pub(crate) requests: Vec<Request>,
    /// Whoever waits for the end of a close.
    pub(crate) closers: Vec<oneshot::Sender<()>>,
    /// What shutdown could not deliver is in the journal, for the next start.
    pub(crate) leftovers_in_journal: bool,
    /// What shutdown could not deliver, and the last failure.
    pub(crate) lost_at_close: u64,
    pub(crate) lost_cause: Option<TransportError>,
    /// Buffers of delivered records, for callers to write into again.
    pub(crate) spare: Pool,
    /// Emptied batches, for the worker's next (a batch of a thousand
    /// records is too big for the allocator to keep at hand: each new one
    /// would be mapped and faulted in).
    pub(crate) spare_batches: Vec<Vec<Record>>,
}

impl State {
    pub(crate) fn new(queue: Queue) -> Self {
        State {
            queue,
            accounts: Accounts::default(),
            phase: Phase::Running,
            health: Health::Ok,
            drain_to: 0,
            flushes: 0,
            worker_idle: false,
            worker_low: u64::MAX,
            room_waiters: 0,
            round_trip: Duration::ZERO,
            journal: None,
            spool_backlog: false,
            spill_requested: false,
            parked_from: None,
            spool_full: false,
            requests: Vec::new(),
            closers: Vec::new(),
            leftovers_in_journal: false,
            lost_at_close: 0,
            lost_cause: None,
            spare: Pool::default(),
            spare_batches: Vec::new(),
        }
    }

    /// Every record below this sequence number is resolved.
    pub(crate) fn watermark(&self) -> u64 {
        self.queue.front_seq().min(self.worker_low)
    }

    /// Whether a flush of every record below `target` is done: they are
    /// resolved, and the spool's older records are through (or cannot go).
    pub(crate) fn flushed(&self, target: u64) -> bool {
        self.watermark() >= target && !self.spool_backlog
    }

    /// Whether records (and calls) are accepted.
    pub(crate) fn is_running(&self) -> bool {
        self.phase == Phase::Running
    }

    /// The shutdown deadline, while closing.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Closing { deadline } => Some(deadline),
            _ => None,
        }
    }

    /// Whether the worker has stopped (or was given up on).
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done | Phase::Abandoned)
    }

    pub(crate) fn close_outcome(&self) -> Result<(), Error> {
        match self.lost_at_close {
            0 => Ok(()),
            records => Err(Error::Lost {
                records: records as usize,
                cause: self.lost_cause.clone(),
            }),
        }
    }
}
