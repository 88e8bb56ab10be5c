//! `GET /api/events`: the live feed to one browser, as server-sent events.
//!
//! Each browser gets a task that moves frames from the store's broadcast
//! ring into its answer's body, a queue of [`QUEUED`] frames. Ingestion
//! never waits for it, and the task never waits for the browser: when the
//! queue is full (the browser reads too slowly) the frame is dropped at once
//! and counted, the page is told how many it missed, and a browser that has
//! taken nothing for [`STALL`] is disconnected. Memory per browser is thus
//! at most the queue.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc::{self, error::TrySendError};

use crate::http::AnswerBody;
use crate::shared::Shared;

/// Frames waiting for one browser to read them.
const QUEUED: usize = 64;
/// How long a browser may take nothing before it is disconnected.
const STALL: Duration = Duration::from_secs(30);
/// How often the counters are sent (and the connection kept alive).
const STATS_EVERY: Duration = Duration::from_secs(1);

/// The body of a `text/event-stream` answer, fed by a task of its own.
pub(crate) fn stream(shared: &Arc<Shared>, stats: fn(&Shared) -> String) -> AnswerBody {
    let mut feed = shared.store.events().subscribe();
    let (tx, rx) = mpsc::channel::<Bytes>(QUEUED);
    let shared = shared.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(STATS_EVERY);
        let mut taken = Instant::now();
        let mut missed = 0u64;
        loop {
            let frame = tokio::select! {
                got = feed.recv() => match got {
                    Ok(frame) => frame,
                    // Only if this task itself fell behind the ring.
                    Err(RecvError::Lagged(n)) => {
                        shared.store.events().note_dropped(n);
                        missed += n;
                        continue;
                    }
                    Err(RecvError::Closed) => break,
                },
                _ = tick.tick() => Bytes::from(format!("event: stats\ndata: {}\n\n", stats(&shared))),
                () = tx.closed() => break,
            };
            if missed > 0 {
                let notice = format!("event: lagged\ndata: {{\"dropped\":{missed}}}\n\n");
                if tx.try_send(Bytes::from(notice)).is_ok() {
                    missed = 0;
                }
            }
            match tx.try_send(frame) {
                Ok(()) => taken = Instant::now(),
                Err(TrySendError::Full(_)) => {
                    shared.store.events().note_dropped(1);
                    missed += 1;
                    if taken.elapsed() > STALL {
                        break;
                    }
                }
                Err(TrySendError::Closed(_)) => break,
            }
        }
    });
    AnswerBody::Stream(rx)
}
