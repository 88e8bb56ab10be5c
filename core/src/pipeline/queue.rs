//! The bounded queue between callers and the worker: records in the order
//! they were accepted, bounded in records and in bytes.
//!
//! Each record has a sequence number, its position in everything ever
//! queued (the first record is 0). The worker sends records in that order,
//! and a flush waits until every record below a sequence number is resolved.

use std::collections::VecDeque;

use crate::record::record::Record;

/// Records per chunk of the queue.
const CHUNK: usize = 64;

/// The records, in chunks: the worker moves whole chunks out, so that a
/// batch of 1,000 is taken in a few steps rather than 1,000 moves under
/// the lock that callers wait on (a caller that waits long enough to sleep
/// pays a wake-up, tens of microseconds on a virtual machine).
pub(crate) struct Queue {
    chunks: VecDeque<Chunk>,
    len: usize,
    /// `Record::size` of the entries, added up.
    bytes: usize,
    /// Records ever queued: the next record's sequence number.
    entered: u64,
    capacity: usize,
    max_bytes: usize,
    /// Records dropped at the bound since the queue last had room; 0 when
    /// no overflow burst is going on.
    burst: u64,
    /// Emptied chunks for callers to fill again, as many as a full queue
    /// needs: the next burst then reuses the memory of the last one
    /// instead of faulting in new pages.
    spare: Vec<Vec<Record>>,
}

struct Chunk {
    records: Vec<Record>,
    /// `Record::size` of its records, added up.
    bytes: usize,
}

/// Records taken for one batch, in order, as the queue's chunks held them.
#[derive(Default)]
pub(crate) struct Records {
    pub(crate) chunks: Vec<Vec<Record>>,
    len: usize,
}

impl From<Vec<Record>> for Records {
    fn from(records: Vec<Record>) -> Self {
        Records {
            len: records.len(),
            chunks: vec![records],
        }
    }
}

impl Records {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The records, in order (tests and the spool).
    pub(crate) fn into_vec(self) -> Vec<Record> {
        self.chunks.into_iter().flatten().collect()
    }
}

impl Queue {
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> Self {
        Queue {
            chunks: VecDeque::new(),
            len: 0,
            bytes: 0,
            entered: 0,
            capacity,
            max_bytes,
            burst: 0,
            spare: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Records ever queued; also the sequence number of the next one.
    pub(crate) fn entered(&self) -> u64 {
        self.entered
    }

    /// The sequence number of the oldest queued record (`entered` when empty).
    pub(crate) fn front_seq(&self) -> u64 {
        self.entered - self.len as u64
    }

    /// Whether a record of `size` bytes fits under both bounds.
    pub(crate) fn has_room_for(&self, size: usize) -> bool {
        self.len < self.capacity && self.bytes + size <= self.max_bytes
    }

    /// Queues a record that fits; returns its sequence number.
    #[inline]
    pub(crate) fn push(&mut self, record: Record, size: usize) -> u64 {
        if self.chunks.back().is_none_or(|c| c.records.len() == CHUNK) {
            let records = self
                .spare
                .pop()
                .unwrap_or_else(|| Vec::with_capacity(CHUNK));
            self.chunks.push_back(Chunk { records, bytes: 0 });
        }
        if let Some(chunk) = self.chunks.back_mut() {
            chunk.records.push(record);
            chunk.bytes += size;
        }
        self.bytes += size;
        self.len += 1;
        self.entered += 1;
        self.entered - 1
    }

    /// Removes the oldest record (the `DropOldest` policy).
    pub(crate) fn pop_oldest(&mut self) -> Option<Record> {
        let chunk = self.chunks.front_mut()?;
        let record = chunk.records.remove(0);
        let size = record.size();
        chunk.bytes -= size;
        if chunk.records.is_empty() {
            self.recycle_front();
        }
        self.bytes -= size;
        self.len -= 1;
        Some(record)
    }

    /// Takes the oldest records for one batch: at least one, at most
    /// `max_records`, and no more than fit in `max_bytes` counting
    /// `per_record` more bytes for each (the client's own fields). Whole
    /// chunks move; only a chunk split at the end of the batch is copied.
    pub(crate) fn take(
        &mut self,
        max_records: usize,
        max_bytes: usize,
        per_record: usize,
    ) -> Records {
        let mut taken = Records::default();
        let mut bytes = 0;
        while let Some(front) = self.chunks.front_mut() {
            let n = front.records.len();
            let whole = front.bytes + per_record * n;
            if taken.len + n <= max_records && bytes + whole <= max_bytes {
                bytes += whole;
                self.take_front(&mut taken);
                continue;
            }
            let mut k = 0;
            let mut part = 0;
            for record in front.records.iter().take(max_records - taken.len) {
                let size = record.size();
                if taken.len + k > 0 && bytes + part + size + per_record > max_bytes {
                    break;
                }
                part += size + per_record;
                k += 1;
            }
            if k > 0 {
                let records: Vec<Record> = front.records.drain(..k).collect();
                let sizes = part - per_record * k;
                front.bytes -= sizes;
                self.bytes -= sizes;
                self.len -= k;
                taken.len += k;
                taken.chunks.push(records);
                if front.records.is_empty() {
                    // Its one record was over the byte bound alone.
                    self.recycle_front();
                }
            }
            break;
        }
        taken
    }

    fn take_front(&mut self, taken: &mut Records) {
        if let Some(chunk) = self.chunks.pop_front() {
            self.bytes -= chunk.bytes;
            self.len -= chunk.records.len();
            taken.len += chunk.records.len();
            taken.chunks.push(chunk.records);
        }
    }

    fn recycle_front(&mut self) {
        if let Some(chunk) = self.chunks.pop_front() {
            if self.keeps(&chunk.records) {
                self.spare.push(chunk.records);
            }
        }
    }

    /// Keeps the emptied chunks from [`take`](Self::take) that it has room
    /// for, moving them out of `chunks`: the rest (a chunk split by a take,
    /// or beyond a full queue's needs) stay there, for the caller to free
    /// once it has let go of the lock.
    pub(crate) fn recycle(&mut self, chunks: &mut Vec<Vec<Record>>) {
        chunks.retain_mut(|chunk| {
            if !self.keeps(chunk) {
                return true;
            }
            self.spare.push(std::mem::take(chunk));
            false
        });
    }

    fn keeps(&self, chunk: &Vec<Record>) -> bool {
        self.spare.len() < self.capacity.div_ceil(CHUNK)
            && chunk.is_empty()
            && chunk.capacity() == CHUNK
    }

    /// Takes every queued record (to spool them).
    pub(crate) fn take_all(&mut self) -> Vec<Record> {
        let mut taken = Records::default();
        while !self.chunks.is_empty() {
            self.take_front(&mut taken);
        }
        taken.into_vec()
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
    use crate::record::level::Level;

    fn record(message: &str) -> Record {
        Record::new(Level::Info, message)
    }

    fn messages(records: impl IntoIterator<Item = Record>) -> Vec<String> {
        records
            .into_iter()
            .map(|r| r.message().to_owned())
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
        assert_eq!(
            messages(q.take(3, usize::MAX, 0).into_vec()),
            ["a", "b", "c"]
        );
        assert_eq!(q.front_seq(), 3);
        assert_eq!(messages(q.pop_oldest()), ["d"]);
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

    /// The queue against a plain list: the same records leave in the same
    /// order, whatever the chunking, and the counts follow.
    mod model {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Op {
            Push(usize),
            PopOldest,
            Take { records: usize, bytes: usize },
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                6 => (0usize..200).prop_map(Op::Push),
                1 => Just(Op::PopOldest),
                2 => (1usize..300, 0usize..20_000)
                    .prop_map(|(records, bytes)| Op::Take { records, bytes }),
            ]
        }

        proptest! {
            #[test]
            fn takes_follow_a_plain_list(ops in proptest::collection::vec(op(), 1..400)) {
                let mut queue = Queue::new(usize::MAX, usize::MAX);
                let mut model: VecDeque<(String, usize)> = VecDeque::new();
                let mut next = 0;
                for op in ops {
                    match op {
                        Op::Push(len) => {
                            let message = format!("{next}{}", "x".repeat(len));
                            next += 1;
                            let r = record(&message);
                            let size = r.size();
                            queue.push(r, size);
                            model.push_back((message, size));
                        }
                        Op::PopOldest => {
                            let got = queue.pop_oldest().map(|p| messages([p]).remove(0));
                            prop_assert_eq!(got, model.pop_front().map(|(m, _)| m));
                        }
                        Op::Take { records, bytes } => {
                            let per_record = 10;
                            let mut expected = Vec::new();
                            let mut total = 0;
                            while let Some((m, size)) = model.front() {
                                if expected.len() == records
                                    || (!expected.is_empty() && total + size + per_record > bytes)
                                {
                                    break;
                                }
                                total += size + per_record;
                                expected.push(m.clone());
                                model.pop_front();
                            }
                            let taken = queue.take(records, bytes, per_record);
                            prop_assert_eq!(taken.len(), expected.len());
                            let mut chunks = taken.chunks;
                            let got: Vec<String> =
                                messages(chunks.iter_mut().flat_map(|c| c.drain(..)));
                            prop_assert_eq!(got, expected);
                            queue.recycle(&mut chunks);
                        }
                    }
                    prop_assert_eq!(queue.len(), model.len());
                    prop_assert_eq!(queue.bytes, model.iter().map(|(_, s)| s).sum::<usize>());
                    prop_assert_eq!(queue.front_seq(), next - model.len() as u64);
                }
                let rest: Vec<String> = model.into_iter().map(|(m, _)| m).collect();
                prop_assert_eq!(messages(queue.take_all()), rest);
            }
        }
    }
}
