//! Chunk buffers handed back by the consumer for readers to fill again.
//!
//! Without it every chunk's bytes were a fresh allocation of about a megabyte,
//! freed by another thread. glibc then raises its mmap threshold past that size
//! and serves the buffers from per-thread heaps, whose holes it does not give
//! back: on large inputs peak RSS crept up with the bytes read (a 10 GB `stats`
//! peaked near twice its 1 GB figure). Recycling a few buffers keeps the set of
//! large allocations fixed after the first chunks.

use std::sync::Mutex;

/// Buffers kept at most: the reader (whichever worker holds it) and every worker each
/// hold one at a time; more than this are dropped.
const KEPT: usize = 16;

/// A bounded stack of byte buffers shared by a reader and the chunk consumers.
#[derive(Debug)]
pub struct BufferPool {
    bufs: Mutex<Vec<Vec<u8>>>,
    /// Buffers larger than this (grown for one huge record) are not kept.
    max_capacity: usize,
}

impl BufferPool {
    /// A pool for buffers of readers using `opts`.
    pub fn new(opts: &super::IngestOptions) -> BufferPool {
        let usual = opts.chunk_size.min(64 << 20) + super::reader::DEFAULT_BLOCK;
        BufferPool {
            bufs: Mutex::new(Vec::new()),
            max_capacity: 2 * usual + SLACK,
        }
    }

    /// Hands a buffer back (a chunk's `data` once its records are parsed).
    pub fn put(&self, buf: Vec<u8>) {
        if buf.capacity() == 0 || buf.capacity() > self.max_capacity {
            return;
        }
        let mut bufs = self.lock();
        if bufs.len() < KEPT {
            bufs.push(buf);
        }
    }

    /// A buffer of at least `min` bytes of capacity, if one is kept; its contents
    /// are stale. Buffers too small for the request are dropped (rare: sizes differ
    /// only by the unfinished record a new buffer starts with).
    pub(crate) fn take(&self, min: usize) -> Option<Vec<u8>> {
        let mut bufs = self.lock();
        while let Some(b) = bufs.pop() {
            if b.capacity() >= min {
                return Some(b);
            }
        }
        None
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        match self.bufs.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Buffers held (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Extra room given to new buffers so that a recycled one fits the next request
/// whatever the unfinished record carried over (usually under a few KiB).
pub(crate) const SLACK: usize = 64 << 10;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::IngestOptions;

    #[test]
    fn keeps_a_bounded_number_of_usual_buffers() {
        let opts = IngestOptions {
            chunk_size: 1000,
            max_record: 1 << 20,
        };
        let pool = BufferPool::new(&opts);
        for _ in 0..KEPT + 5 {
            pool.put(Vec::with_capacity(2000));
        }
        assert_eq!(pool.len(), KEPT);
        // Oversized (grown for a huge record) and empty buffers are not kept.
        let big = pool.max_capacity + 1;
        pool.put(Vec::with_capacity(big));
        while pool.take(1).is_some() {}
        pool.put(Vec::with_capacity(big));
        pool.put(Vec::new());
        assert_eq!(pool.len(), 0);
        // Too small for the request: dropped, not returned.
        pool.put(Vec::with_capacity(100));
        assert!(pool.take(200).is_none());
        assert_eq!(pool.len(), 0);
        pool.put(vec![7u8; 300]);
        assert!(pool.take(200).is_some_and(|b| b.capacity() >= 200));
    }
}
