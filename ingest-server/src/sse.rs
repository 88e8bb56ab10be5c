//! `GET /api/events`: the live feed to one browser, as server-sent events.
//!
//! Each browser gets a task that copies frames from the store's broadcast
//! ring into its answer's body. Ingestion never waits for it: when the
//! browser reads too slowly the ring overwrites what it has not read (the
//! lost frames are counted and the page is told), and a browser that reads
//! nothing for [`STALL`] is disconnected.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use crate::http::AnswerBody;
use crate::shared::Shared;

/// How long a browser may leave a frame unread before it is disconnected.
const STALL: Duration = Duration::from_secs(30);
/// How often the counters are sent (and the connection kept alive).
const STATS_EVERY: Duration = Duration::from_secs(1);

/// The body of a `text/event-stream` answer, fed by a task of its own.
pub(crate) fn stream(shared: &Arc<Shared>, stats: fn(&Shared) -> String) -> AnswerBody {
    let mut feed = shared.store.events().subscribe();
    // A few frames in hand; the ring is where the backlog waits.
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    let shared = shared.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(STATS_EVERY);
        loop {
            let frame = tokio::select! {
                got = feed.recv() => match got {
                    Ok(frame) => frame,
                    Err(RecvError::Lagged(n)) => {
                        shared.store.events().note_dropped(n);
                        Bytes::from(format!("event: lagged\ndata: {{\"dropped\":{n}}}\n\n"))
                    }
                    Err(RecvError::Closed) => break,
                },
                _ = tick.tick() => {
                    Bytes::from(format!("event: stats\ndata: {}\n\n", stats(&shared)))
                }
                () = tx.closed() => break,
            };
            match tokio::time::timeout(STALL, tx.send(frame)).await {
                Ok(Ok(())) => {}
                // The browser went away, or stopped reading: let it go.
                Ok(Err(_)) | Err(_) => break,
            }
        }
    });
    AnswerBody::Stream(rx)
}
