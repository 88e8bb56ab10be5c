//! The bounded queue between callers and the worker: records in the order
//! they were accepted, bounded in records and in bytes.
//!
//! Each record has a sequence number, its position in everything ever
//! queued (the first record is 0). The worker sends records in that order,
//! and a flush waits until every record below a sequence number is resolved.

use std::collections::VecDeque;

use crate::pending::Pending;

pub(crate) struct Queue {
    entries: VecDeque<Pending>,
    /// `Pending::size` of the entries, added up.
    bytes: usize,
    /// Records ever queued: the next record's sequence number.
    entered: u64,
    capacity: usize,
    max_bytes: usize,
    /// Records dropped at the bound since the queue last had room; 0 when
    /// no overflow burst is going on.
    burst: u64,
}

impl Queue {
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> Self {
        Queue {
            entries: VecDeque::new(),
            bytes: 0,
            entered: 0,
            capacity,
            max_bytes,
            burst: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records ever queued; also the sequence number of the next one.
    pub(crate) fn entered(&self) -> u64 {
        self.entered
    }

    /// The sequence number of the oldest queued record (`entered` when empty).
    pub(crate) fn front_seq(&self) -> u64 {
        self.entered - self.entries.len() as u64
    }

    /// Whether a record of `size` bytes fits under both bounds.
    pub(crate) fn has_room_for(&self, size: usize) -> bool {
        self.entries.len() < self.capacity && self.bytes + size <= self.max_bytes
    }

    /// Queues a record that fits; returns its sequence number.
    pub(crate) fn push(&mut self, record: Pending, size: usize) -> u64 {
        self.bytes += size;
        self.entries.push_back(record);
        self.entered += 1;
        self.entered - 1
    }

    /// Removes the oldest record (the `DropOldest` policy).
    pub(crate) fn pop_oldest(&mut self) -> Option<Pending> {
        let record = self.entries.pop_front()?;
        self.bytes -= record.size();
        Some(record)
    }

    /// Takes the oldest records for one batch: at least one, at most
    /// `max_records`, and no more than fit in `max_bytes` counting
    /// `per_record` more bytes for each (the client's own fields).
    pub(crate) fn take(
        &mut self,
        max_records: usize,
        max_bytes: usize,
        per_record: usize,
    ) -> Vec<Pending> {
        let mut n = 0;
        let mut bytes = 0;
        for record in self.entries.iter().take(max_records) {
            let size = record.size();
            if n > 0 && bytes + size + per_record > max_bytes {
                break;
            }
            bytes += size + per_record;
            self.bytes -= size;
            n += 1;
        }
        self.entries.drain(..n).collect()
    }

    /// Takes every queued record (to spool them).
    pub(crate) fn take_all(&mut self) -> Vec<Pending> {
        self.bytes = 0;
        self.entries.drain(..).collect()
    }

    /// Counts a record dropped at the bound; true for the first of a burst.
    pub(crate) fn note_drop(&mut self) -> bool {
        self.burst += 1;
        self.burst == 1
    }

    /// Records dropped in the burst so far.
    pub(crate) fn burst(&self) -> u64 {
        self.burst
    }

    /// Ends the overflow burst (the queue has room again): how many records
    /// it dropped, 0 if there was none.
    pub(crate) fn end_burst(&mut self) -> u64 {
        std::mem::take(&mut self.burst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Level, LogRecord};

    fn record(message: &str) -> Pending {
        Pending::Full(Box::new(LogRecord::new(Level::Info, message)))
    }

    fn messages(records: Vec<Pending>) -> Vec<String> {
        records
            .into_iter()
            .map(|p| match p {
                Pending::Full(r) => r.message,
                Pending::Traced(t) => t.record.message,
                Pending::Plain(p) => p.message.to_string(),
            })
            .collect()
    }

    #[test]
    fn records_leave_in_order_with_their_sequence_numbers() {
        let mut q = Queue::new(10, usize::MAX);
        for m in ["a", "b", "c", "d"] {
            let r = record(m);
            let size = r.size();
            q.push(r, size);
        }
        assert_eq!((q.entered(), q.front_seq()), (4, 0));
        assert_eq!(messages(q.take(3, usize::MAX, 0)), ["a", "b", "c"]);
        assert_eq!(q.front_seq(), 3);
        assert_eq!(messages(q.pop_oldest().into_iter().collect()), ["d"]);
        assert_eq!((q.front_seq(), q.bytes), (4, 0));
    }

    #[test]
    fn both_bounds_hold_and_a_take_is_never_empty() {
        let size = record("x").size();
        let mut q = Queue::new(3, 2 * size);
        assert!(q.has_room_for(size));
        q.push(record("x"), size);
        q.push(record("y"), size);
        assert!(!q.has_room_for(size), "the byte bound");
        let mut q = Queue::new(2, usize::MAX);
        q.push(record("x"), size);
        q.push(record("y"), size);
        assert!(!q.has_room_for(1), "the record bound");
        assert_eq!(
            q.take(10, 0, 100).len(),
            1,
            "one record even over the byte bound"
        );
        assert_eq!(q.take(10, 2 * size, 0).len(), 1);
    }

    #[test]
    fn a_burst_counts_its_drops_until_it_ends() {
        let mut q = Queue::new(1, usize::MAX);
        assert!(q.note_drop());
        assert!(!q.note_drop());
        assert_eq!(q.burst(), 2);
        assert_eq!(q.end_burst(), 2);
        assert_eq!(q.end_burst(), 0);
        assert!(q.note_drop(), "a new burst");
    }
}
