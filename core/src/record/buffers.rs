//! Recycled buffers for the text callers render (a record's data and tags).
//!
//! The worker hands the buffers of the records it has written back through
//! the queue's lock, and each calling thread keeps one for its next call.
//! A log call then allocates nothing, and the worker frees nothing another
//! thread allocated: with the system allocator, memory that moves between
//! threads makes both slow.

use std::cell::Cell;

/// Buffers with more capacity than this are freed rather than recycled.
pub(crate) const KEEP_CAPACITY: usize = 512;

/// Most buffers waiting in the pool.
pub(crate) const POOL_MOST: usize = 1024;

/// Room in a new buffer: a typical record's data and tags fit.
const FRESH_CAPACITY: usize = 128;

thread_local! {
    static SPARE: Cell<Option<Vec<u8>>> = const { Cell::new(None) };
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

/// Gives this thread a spare from `pool` if it has none.
pub(crate) fn restock(pool: &mut Vec<Vec<u8>>) {
    let _ = SPARE.try_with(|spare| {
        let mine = spare.take();
        spare.set(mine.or_else(|| pool.pop()));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_keeps_one_spare_and_takes_it_back_empty() {
        let fresh = take();
        assert!(fresh.is_empty() && fresh.capacity() >= FRESH_CAPACITY);

        let mut pool = vec![b"old".to_vec(), b"older".to_vec()];
        restock(&mut pool);
        assert_eq!(pool.len(), 1, "a thread without a spare takes one");
        restock(&mut pool);
        assert_eq!(pool.len(), 1, "and no second one");
        let reused = take();
        assert!(reused.is_empty() && reused.capacity() >= 5);

        keep(b"mine".to_vec());
        restock(&mut pool);
        assert_eq!(pool.len(), 1);
        assert!(take().is_empty());

        keep(Vec::with_capacity(KEEP_CAPACITY + 1));
        assert!(
            take().capacity() <= KEEP_CAPACITY,
            "a grown buffer is not kept"
        );
    }
}
