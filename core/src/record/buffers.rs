//! Recycled buffers for what callers write into a record: its data's text,
//! its tags and its details' box.
//!
//! The worker hands the buffers of the records it has written back through
//! the queue's lock, and each calling thread keeps one of each for its next
//! call. A log call then allocates nothing of its own, and the worker frees
//! nothing another thread allocated: with the system allocator, memory that
//! moves between threads makes both slow (a caller's allocations miss its
//! thread cache, the worker's frees take another arena's lock).

use std::cell::Cell;

use crate::record::details::{self, Details};

/// Buffers with more capacity than this are freed rather than recycled.
pub(crate) const KEEP_CAPACITY: usize = 512;

/// Most buffers of each kind waiting in the pool: more than the records a
/// busy pipeline holds at once (a few batches of a thousand in flight, the
/// next formed), so that callers take every buffer back as deliveries
/// return them, rather than the worker freeing some (another thread's) and
/// callers allocating again. At most a few MiB, rarely reached.
pub(crate) const POOL_MOST: usize = 4096;

/// Tag lists with more tags than this are freed rather than recycled.
const KEEP_TAGS: usize = 16;

/// Room in a new buffer: a typical record's data and tags fit.
const FRESH_CAPACITY: usize = 128;

thread_local! {
    static SPARE: Cell<Option<Vec<u8>>> = const { Cell::new(None) };
    static SPARE_TAGS: Cell<Option<Vec<String>>> = const { Cell::new(None) };
}

/// Buffers of delivered records, waiting for callers (under the queue's lock).
#[derive(Default)]
pub(crate) struct Pool {
    data: Vec<Vec<u8>>,
    tags: Vec<Vec<String>>,
    // The boxes themselves are what is recycled.
    #[allow(clippy::vec_box)]
    details: Vec<Box<Details>>,
}

impl Pool {
    /// Keeps a delivered record's data buffer, if it is worth keeping.
    pub(crate) fn keep_data(&mut self, buf: Vec<u8>) {
        self.data.push(buf);
    }

    /// Keeps a delivered record's tags (their strings are reused), unless
    /// there are none or they grew too big to keep.
    pub(crate) fn keep_tags(&mut self, tags: Vec<String>) {
        let small = tags.len() <= KEEP_TAGS && tags.iter().all(|t| t.capacity() <= KEEP_CAPACITY);
        if !tags.is_empty() && small {
            self.tags.push(tags);
        }
    }

    /// Keeps a delivered record's details box, emptied (what it held is
    /// freed here).
    pub(crate) fn keep_details(&mut self, mut details: Box<Details>) {
        *details = Details::default();
        self.details.push(details);
    }

    /// Moves `other`'s buffers here, as many as there is room for; the
    /// rest stay in `other`, to be freed by its owner after the lock.
    pub(crate) fn absorb(&mut self, other: &mut Pool) {
        let room = POOL_MOST.saturating_sub(self.data.len());
        self.data
            .extend(other.data.drain(..room.min(other.data.len())));
        let room = POOL_MOST.saturating_sub(self.tags.len());
        self.tags
            .extend(other.tags.drain(..room.min(other.tags.len())));
        let room = POOL_MOST.saturating_sub(self.details.len());
        self.details
            .extend(other.details.drain(..room.min(other.details.len())));
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.data.is_empty() && self.tags.is_empty() && self.details.is_empty()
    }
}

// `try_with` throughout: a record logged while this thread's locals are
// being destroyed must still be logged, with a buffer of its own.

/// An empty buffer for this thread's next rendering: its spare, or a new one.
pub(crate) fn take() -> Vec<u8> {
    let mut buf = SPARE
        .try_with(Cell::take)
        .ok()
        .flatten()
        .unwrap_or_else(|| Vec::with_capacity(FRESH_CAPACITY));
    buf.clear();
    buf
}

/// Keeps `buf` as this thread's spare, unless it grew too big to keep.
pub(crate) fn keep(buf: Vec<u8>) {
    if buf.capacity() <= KEEP_CAPACITY {
        let _ = SPARE.try_with(|spare| spare.set(Some(buf)));
    }
}

/// The tags a caller gave, in strings this thread had spare (the caller's
/// own are freed here, by the thread that allocated them).
pub(crate) fn adopt_tags(tags: Vec<String>) -> Vec<String> {
    if tags.is_empty() {
        return tags;
    }
    let Some(mut mine) = SPARE_TAGS.try_with(Cell::take).ok().flatten() else {
        return tags;
    };
    mine.truncate(tags.len());
    for (i, tag) in tags.into_iter().enumerate() {
        match mine.get_mut(i) {
            Some(spare) => {
                spare.clear();
                spare.push_str(&tag);
            }
            None => mine.push(tag),
        }
    }
    mine
}

/// Gives this thread a spare of each kind from `pool` if it has none.
pub(crate) fn restock(pool: &mut Pool) {
    let _ = SPARE.try_with(|spare| {
        let mine = spare.take();
        spare.set(mine.or_else(|| pool.data.pop()));
    });
    let _ = SPARE_TAGS.try_with(|spare| {
        let mine = spare.take();
        spare.set(mine.or_else(|| pool.tags.pop()));
    });
    details::restock(&mut pool.details);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_keeps_one_spare_and_takes_it_back_empty() {
        let fresh = take();
        assert!(fresh.is_empty() && fresh.capacity() >= FRESH_CAPACITY);

        let mut pool = Pool::default();
        pool.keep_data(b"old".to_vec());
        pool.keep_data(b"older".to_vec());
        restock(&mut pool);
        assert_eq!(pool.data.len(), 1, "a thread without a spare takes one");
        restock(&mut pool);
        assert_eq!(pool.data.len(), 1, "and no second one");
        let reused = take();
        assert!(reused.is_empty() && reused.capacity() >= 5);

        keep(b"mine".to_vec());
        restock(&mut pool);
        assert_eq!(pool.data.len(), 1);
        assert!(take().is_empty());

        keep(Vec::with_capacity(KEEP_CAPACITY + 1));
        assert!(
            take().capacity() <= KEEP_CAPACITY,
            "a grown buffer is not kept"
        );
    }

    #[test]
    fn a_delivered_record_s_details_box_comes_back_empty() {
        let mut pool = Pool::default();
        let used = Box::new(Details {
            request_id: Some("req-1".into()),
            ..Details::default()
        });
        let address: *const Details = &*used;
        pool.keep_details(used);
        restock(&mut pool);
        assert!(pool.is_empty());
        let reused = details::take();
        assert_eq!(&*reused as *const Details, address, "the same box");
        assert!(*reused == Details::default(), "emptied");
        let fresh = details::take();
        assert_ne!(
            &*fresh as *const Details, address,
            "one spare: then a new one"
        );
    }

    #[test]
    fn tags_are_written_into_the_strings_of_a_delivered_record() {
        assert_eq!(
            adopt_tags(vec!["a".into()]),
            ["a"],
            "no spare: the caller's own"
        );

        let mut pool = Pool::default();
        pool.keep_tags(Vec::new());
        pool.keep_tags(vec!["x".repeat(KEEP_CAPACITY + 1)]);
        assert!(pool.is_empty(), "none, or too big: not kept");
        let mut old = String::with_capacity(64);
        old.push_str("old");
        let address = old.as_ptr();
        pool.keep_tags(vec![old, "older".into()]);
        restock(&mut pool);
        assert!(pool.is_empty());

        let tags = adopt_tags(vec!["http".into()]);
        assert_eq!(tags, ["http"], "as many as the caller gave");
        assert_eq!(tags[0].as_ptr(), address, "in the spare's string");
        assert_eq!(adopt_tags(vec!["b".into(), "c".into()]), ["b", "c"]);
    }
}
