//! The live feed of the web view: what the store accepted and every
//! request's outcome, as server-sent-event frames, fanned out to the
//! browsers watching.
//!
//! Ingestion must never wait for a browser, so the fan-out is a bounded
//! `tokio::sync::broadcast` ring: publishing never blocks, and a watcher that
//! falls more than [`CAPACITY`] frames behind loses the oldest ones. Each
//! watcher's own queue drops what its browser does not take (sse.rs); both
//! losses are counted in [`Events::dropped`]. Frames are built only while
//! someone watches.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::sync::broadcast;

/// Frames kept for a slow watcher before it loses the oldest. A frame holds
/// at most one request body, so this bounds the feed's memory too.
pub(crate) const CAPACITY: usize = 256;

/// The sending side of the feed, owned by the store.
pub(crate) struct Events {
    tx: broadcast::Sender<Bytes>,
    dropped: AtomicU64,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            tx: broadcast::channel(CAPACITY).0,
            dropped: AtomicU64::new(0),
        }
    }
}

impl Events {
    /// Whether anyone watches: frames are built only then.
    pub(crate) fn watched(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    /// Sends `event: kind` with `data` (one JSON text) to every watcher.
    pub(crate) fn publish(&self, kind: &str, data: &[u8]) {
        if !self.watched() {
            return;
        }
        // An SSE line ends at a line break; in valid JSON a raw line break
        // can only be whitespace between tokens, so a space keeps it valid.
        let mut frame = BytesMut::with_capacity(data.len() + kind.len() + 16);
        frame.put_slice(b"event: ");
        frame.put_slice(kind.as_bytes());
        frame.put_slice(b"\ndata: ");
        frame.extend(
            data.iter()
                .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b }),
        );
        frame.put_slice(b"\n\n");
        // No receiver left between the check and now: nothing to do.
        let _ = self.tx.send(frame.freeze());
    }

    /// A new watcher, seeing frames published from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Bytes> {
        self.tx.subscribe()
    }

    /// Counts frames a slow watcher lost.
    pub(crate) fn note_dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// Frames lost by slow watchers so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Watchers connected now.
    pub(crate) fn watchers(&self) -> usize {
        self.tx.receiver_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_built_only_for_watchers_and_lines_stay_whole() {
        let events = Events::default();
        events.publish("batch", b"{}");
        let mut rx = events.subscribe();
        events.publish("batch", b"{\"a\":\n1}");
        assert_eq!(
            rx.try_recv().unwrap(),
            Bytes::from_static(b"event: batch\ndata: {\"a\": 1}\n\n")
        );
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn a_slow_watcher_loses_the_oldest_frames() {
        let events = Events::default();
        let mut rx = events.subscribe();
        for _ in 0..CAPACITY + 10 {
            events.publish("batch", b"{}");
        }
        match rx.try_recv() {
            Err(broadcast::error::TryRecvError::Lagged(n)) => assert_eq!(n, 10),
            other => panic!("expected a lag, got {other:?}"),
        }
    }
}
