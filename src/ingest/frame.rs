//! The framing buffer shared by all formats: the bytes of the chunk being
//! built, the scan position, lazy line counting, and the records and problems
//! found so far. Framers only move `pos` forward and push results; the reader
//! refills, compacts and splits the buffer into chunks.
//!
//! A finished chunk gets its bytes the cheaper way: a chunk filling most of the
//! buffer takes it whole (only the unfinished tail is copied to a new one); a
//! smaller chunk is copied out and the buffer stays. Either way each byte is
//! copied about once at most, whatever `chunk_size` is.

use super::pool::SLACK;
use super::{BufferPool, Chunk, Problem, ProblemKind, RecordSpan};
use std::sync::Arc;

/// A chunk is also closed once it holds this many problems, so a file of
/// garbage cannot grow one chunk without bound.
pub(crate) const MAX_PROBLEMS_PER_CHUNK: usize = 4096;
/// The smallest read once a chunk is nearly full: enough for a few records.
const MIN_READ: usize = 16 << 10;

/// Skipped bytes after the last record are dropped once they reach this size.
const JUNK_LIMIT: usize = 64 << 10;

/// A record whose end has not been found yet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Open {
    /// Its first byte in `buf`.
    pub(crate) start: usize,
    /// Its 1-based line.
    pub(crate) line: u64,
}

/// Buffer and results of the chunk being built.
pub(crate) struct Frame {
    /// Fully initialised storage; `buf[base..len]` holds live data.
    buf: Vec<u8>,
    /// Start of the current chunk's bytes (earlier ones went out copied).
    base: usize,
    len: usize,
    /// Next byte to scan.
    pub(crate) pos: usize,
    /// Line number of the byte at `line_pos`; newlines before it are counted.
    line: u64,
    line_pos: usize,
    /// The record being scanned, kept in the buffer across refills and chunks.
    pub(crate) open: Option<Open>,
    next_index: u64,
    spans: Vec<RecordSpan>,
    problems: Vec<Problem>,
    record_bytes: usize,
    /// End of the last record of this chunk (or `base`); bytes after it are not needed.
    committed: usize,
    chunk_size: usize,
    pub(crate) max_record: usize,
    block: usize,
    /// Where new buffers come from and where the last one goes back, if anywhere.
    pool: Option<Arc<BufferPool>>,
}

/// Where [`Frame::resync`] got to.
pub(crate) enum Resync {
    /// `pos` is at the opener, at the start of a line.
    Found,
    /// `pos` is at the start of a line that does not open one: look again.
    Line,
    /// The buffer ended first: mid-line, or at a line start with nothing after it
    /// (`line_start`, to resume from).
    More { line_start: bool },
}

impl Frame {
    pub(crate) fn new(
        chunk_size: usize,
        max_record: usize,
        block: usize,
        pool: Option<Arc<BufferPool>>,
    ) -> Self {
        let mut frame = Frame {
            buf: Vec::new(),
            base: 0,
            len: 0,
            pos: 0,
            line: 1,
            line_pos: 0,
            open: None,
            next_index: 0,
            spans: Vec::new(),
            problems: Vec::new(),
            record_bytes: 0,
            committed: 0,
            chunk_size: chunk_size.max(1),
            max_record,
            block: block.max(1),
            pool,
        };
        frame.buf = frame.fresh_buffer(frame.fresh_capacity(0));
        frame
    }

    /// `len` initialised bytes (stale when recycled: only `buf[..self.len]` counts).
    fn fresh_buffer(&self, len: usize) -> Vec<u8> {
        match self.pool.as_ref().and_then(|p| p.take(len)) {
            Some(mut b) => {
                // Chunks keep their full length, so this fills only the few bytes
                // by which this request's tail is longer than the old one.
                b.resize(len, 0);
                b
            }
            None if self.pool.is_some() => {
                // Room to spare, so it fits the next request once recycled.
                let mut b = Vec::with_capacity(len + SLACK);
                b.resize(len, 0);
                b
            }
            None => vec![0; len],
        }
    }

    fn fresh_capacity(&self, tail: usize) -> usize {
        self.chunk_size.min(64 << 20) + self.block + tail
    }

    /// The buffered bytes.
    #[inline]
    pub(crate) fn data(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes held by the buffer (for memory-bound tests).
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Line of byte `p` (counting newlines lazily); `p` must not be before earlier queries.
    pub(crate) fn line_at(&mut self, p: usize) -> u64 {
        if p > self.line_pos {
            if let Some(bytes) = self.buf.get(self.line_pos..p) {
                self.line += memchr::memchr_iter(b'\n', bytes).count() as u64;
            }
            self.line_pos = p;
        }
        self.line
    }

    /// Records a newline at `nl` when nothing between `line_pos` and it holds one (NDJSON fast path).
    #[inline]
    pub(crate) fn newline_at(&mut self, nl: usize) {
        self.line += 1;
        self.line_pos = nl + 1;
    }

    /// The current line counter, valid at `line_pos`.
    #[inline]
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// Moves `pos` past the next newline: true at the start of the next line, false
    /// when the buffer ends first (`pos` at its end; the line goes on in the next read).
    pub(crate) fn past_line(&mut self) -> bool {
        let rest = self.data().get(self.pos..).unwrap_or_default();
        match memchr::memchr(b'\n', rest) {
            Some(k) => {
                self.pos += k + 1;
                true
            }
            None => {
                self.pos = self.len();
                false
            }
        }
    }

    /// One step of skipping, after garbage, to the next line that starts with
    /// `opener` (`{` for objects, `[` for arrays): the framers that resync share it.
    pub(crate) fn resync(&mut self, line_start: bool, opener: u8) -> Resync {
        if line_start {
            match self.data().get(self.pos) {
                None => return Resync::More { line_start: true },
                Some(&b) if b == opener => return Resync::Found,
                Some(_) => {}
            }
        }
        match self.past_line() {
            true => Resync::Line,
            false => Resync::More { line_start: false },
        }
    }

    /// Hands out the next record ordinal.
    pub(crate) fn take_index(&mut self) -> u64 {
        let index = self.next_index;
        self.next_index += 1;
        index
    }

    #[inline]
    pub(crate) fn push_record(&mut self, start: usize, end: usize, line: u64, index: u64) {
        self.spans.push(RecordSpan {
            start,
            end,
            line,
            index,
        });
        self.record_bytes += end - start;
        self.committed = end;
    }

    pub(crate) fn push_problem(&mut self, line: u64, index: Option<u64>, kind: ProblemKind) {
        self.problems.push(Problem { line, index, kind });
    }

    /// Reports the record cut inside a string at `at`: malformed, or too large when
    /// it was being skipped (`skipped`: its first line and bytes) or is over the
    /// limit. It takes its index like any record.
    pub(crate) fn cut_in_string(&mut self, skipped: Option<(u64, u64)>, at: usize) {
        let index = self.take_index();
        if let Some((line, bytes)) = skipped {
            self.push_problem(line, Some(index), ProblemKind::TooLarge { bytes });
        } else if let Some(open) = self.open.take() {
            let kind = if at - open.start > self.max_record {
                ProblemKind::TooLarge {
                    bytes: (at - open.start) as u64,
                }
            } else {
                let why = "string not closed before the end of its line".to_string();
                ProblemKind::Malformed(why)
            };
            self.push_problem(open.line, Some(index), kind);
        }
    }

    /// True once the chunk should be handed out.
    #[inline]
    pub(crate) fn full(&self) -> bool {
        self.record_bytes >= self.chunk_size || self.problems.len() >= MAX_PROBLEMS_PER_CHUNK
    }

    pub(crate) fn has_results(&self) -> bool {
        !self.spans.is_empty() || !self.problems.is_empty()
    }

    /// First byte still needed: the open record's start, else the scan position.
    fn keep(&self) -> usize {
        self.open.map_or(self.pos, |o| o.start)
    }

    /// Drops skipped bytes between the last record and `keep()` once they pile up.
    pub(crate) fn compact(&mut self) {
        let keep = self.keep();
        if keep.saturating_sub(self.committed) >= JUNK_LIMIT {
            self.remove(self.committed, keep);
        }
    }

    /// Removes `buf[from..to)`; every position at or after `to` moves down.
    fn remove(&mut self, from: usize, to: usize) {
        if from >= to || to > self.len {
            return;
        }
        self.line_at(to);
        let gap = to - from;
        self.buf.copy_within(to..self.len, from);
        self.len -= gap;
        self.pos -= gap;
        self.line_pos -= gap;
        if let Some(open) = &mut self.open {
            open.start -= gap;
        }
    }

    /// Returns spare room after the data (up to a block, growing if needed) to read into.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        if self.buf.len() - self.len < self.block && self.base > 0 {
            self.shift_to_front();
        }
        if self.buf.len() - self.len < self.block {
            self.buf.resize(self.len + self.block, 0);
        }
        // Read little past this chunk's end: what lies beyond the record that ends the
        // chunk is copied into the next buffer (a whole block was a quarter of the input).
        let want = (self.base + self.chunk_size)
            .saturating_sub(self.len)
            .max(MIN_READ)
            .min(self.block);
        let end = self.len + want;
        self.buf.get_mut(self.len..end).unwrap_or_default()
    }

    /// Marks `n` bytes of the spare room as read.
    pub(crate) fn grow(&mut self, n: usize) {
        self.len = (self.len + n).min(self.buf.len());
    }

    /// Moves the live bytes to the start of the buffer.
    fn shift_to_front(&mut self) {
        let gap = self.base;
        self.line_at(gap);
        self.buf.copy_within(gap..self.len, 0);
        self.rebase(gap);
    }

    /// Positions (and this chunk's spans) move down by `gap` bytes, all before `base`.
    fn rebase(&mut self, gap: usize) {
        self.base -= gap;
        self.len -= gap;
        self.pos -= gap;
        self.line_pos -= gap;
        self.committed -= gap;
        if let Some(open) = &mut self.open {
            open.start -= gap;
        }
        for span in &mut self.spans {
            span.start -= gap;
            span.end -= gap;
        }
    }

    /// Cuts the finished chunk off, by handing over or copying out its bytes.
    pub(crate) fn split(&mut self, source: usize, seq: u64) -> Chunk {
        let keep = self.keep();
        self.line_at(keep);
        let tail = self.len - keep;
        let mut records = std::mem::take(&mut self.spans);
        self.committed = keep;
        self.record_bytes = 0;
        let size = keep - self.base;
        let data = if size >= tail && size >= self.buf.len() / 2 {
            // Big chunk: hand the buffer over, copy the unfinished tail.
            let mut fresh = self.fresh_buffer(self.fresh_capacity(tail));
            if let (Some(dst), Some(src)) = (fresh.get_mut(..tail), self.buf.get(keep..self.len)) {
                dst.copy_from_slice(src);
            }
            // Not truncated to `keep`: the spans say where records are, and a buffer
            // that keeps its length comes back from the pool needing no zeroing.
            let data = std::mem::replace(&mut self.buf, fresh);
            self.base = keep;
            self.rebase(keep);
            data
        } else {
            // Small chunk: copy it out and keep reading into the same buffer.
            let bytes = self.buf.get(self.base..keep).unwrap_or_default();
            let data = match self.pool.as_ref().and_then(|p| p.take(bytes.len())) {
                Some(mut b) => {
                    b.clear();
                    b.extend_from_slice(bytes);
                    b
                }
                None => bytes.to_vec(),
            };
            for span in &mut records {
                span.start -= self.base;
                span.end -= self.base;
            }
            self.base = keep;
            data
        };
        Chunk {
            source,
            seq,
            data,
            records,
            problems: std::mem::take(&mut self.problems),
        }
    }
}

impl Drop for Frame {
    /// The last buffer of a source goes back to the pool for the next source.
    fn drop(&mut self) {
        if let Some(pool) = &self.pool {
            pool.put(std::mem::take(&mut self.buf));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::IngestOptions;

    #[test]
    fn a_big_chunk_hands_over_its_buffer_at_full_length() {
        let opts = IngestOptions {
            chunk_size: 100,
            max_record: 1 << 20,
        };
        let pool = Arc::new(BufferPool::new(&opts));
        let mut f = Frame::new(100, 1 << 20, 64, Some(Arc::clone(&pool)));
        let line = b"{\"a\":1}\n";
        while !f.full() {
            let at = f.len();
            let spare = f.spare();
            for (i, b) in spare.iter_mut().enumerate() {
                *b = line[i % line.len()];
            }
            f.grow(64);
            for start in (at..at + 64).step_by(line.len()) {
                let index = f.take_index();
                f.push_record(start, start + line.len() - 1, f.line(), index);
                f.newline_at(start + line.len() - 1);
                f.pos = start + line.len();
            }
        }
        let chunk = f.split(0, 0);
        let end = chunk.records.last().map_or(0, |r| r.end);
        // Truncating it to its records would make the pool zero it again on reuse.
        assert!(
            chunk.data.len() > end + 1,
            "{} bytes for records ending at {end}",
            chunk.data.len()
        );
        assert_eq!(chunk.record(&chunk.records[0]), b"{\"a\":1}");
    }
}
