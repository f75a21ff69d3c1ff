//! Recycled pair buffers: every entry splits four or five objects into `Vec`s of
//! pairs, and their malloc and free were 8-9% of a report's cycles (perf, one thread).
//! An [`Object`](super::Object) hands its buffer back here when dropped, and the
//! parser takes buffers from here, per thread.

use super::json::Pairs;
use std::cell::RefCell;

/// Buffers kept per thread: a block of 128 entries holds about 640 at once.
const KEEP: usize = 1024;
/// Larger buffers are freed, so the pool stays under 1.3 MiB per thread (1,024 buffers
/// of at most 32 pairs of 40 bytes).
const MAX_CAPACITY: usize = 32;
/// Capacity of a new buffer (most objects of a LogEntry have fewer pairs).
const NEW_CAPACITY: usize = 8;

thread_local! {
    static FREE: RefCell<Vec<Pairs<'static>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer, recycled when one is free.
pub(crate) fn take<'a>() -> Pairs<'a> {
    FREE.with(|f| f.try_borrow_mut().ok().and_then(|mut f| f.pop()))
        .map(relabel)
        .unwrap_or_else(|| Vec::with_capacity(NEW_CAPACITY))
}

/// Keeps `v`'s allocation for a later [`take`].
pub(crate) fn give(v: Pairs<'_>) {
    if v.capacity() == 0 || v.capacity() > MAX_CAPACITY {
        return;
    }
    let v = relabel(v);
    // During thread teardown the pool may be gone: the buffer is then just freed.
    let _ = FREE.try_with(|f| {
        if let Ok(mut f) = f.try_borrow_mut() {
            if f.len() < KEEP {
                f.push(v);
            }
        }
    });
}

/// The same allocation, emptied, with another lifetime: collecting no items from a
/// `Vec`'s own iterator into a `Vec` of a type of the same layout reuses the buffer.
// `filter` cannot change the item type, which is the point here.
#[allow(clippy::unnecessary_filter_map)]
fn relabel<'a, 'b>(mut v: Pairs<'a>) -> Pairs<'b> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn a_buffer_comes_back_with_its_allocation() {
        let text = String::from("value");
        let mut v: Pairs<'_> = Vec::with_capacity(16);
        v.push((Cow::Borrowed("key"), text.as_str()));
        let at = v.as_ptr() as usize;
        let cap = v.capacity();
        let w: Pairs<'static> = relabel(v);
        assert!(w.is_empty());
        assert_eq!((w.as_ptr() as usize, w.capacity()), (at, cap));
        give(w);
        let again = take();
        assert!(again.is_empty());
        assert_eq!(again.as_ptr() as usize, at, "reused from the pool");
    }

    /// Buffers the pool holds now.
    fn held() -> usize {
        FREE.with(|f| f.borrow().len())
    }

    #[test]
    fn oversized_and_empty_buffers_are_not_kept() {
        let before = held();
        give(Vec::with_capacity(MAX_CAPACITY + 1));
        give(Vec::new());
        assert_eq!(held(), before);
        give(Vec::with_capacity(4));
        assert_eq!(held(), before + 1);
    }
}
