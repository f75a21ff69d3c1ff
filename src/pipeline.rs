//! The parallel scan shared by `report` and `stats`; the only module that knows threads.
//!
//! One iterator yields chunks of framed records from every source in order; worker
//! threads parse them into entries and feed a per-worker [`Sink`]; sinks merge once.
//! The result does not depend on thread count or chunk size: sinks merge with `+=`
//! and sort when they finish.

use crate::entry::{lossy_text, Entry, Timestamp};
use crate::ingest::{self, BufferPool, Chunk, IngestOptions, InputError, ProblemKind, Source};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// What a command accumulates from entries; one per worker, merged at the end.
pub trait Sink: Send + Sized {
    /// Takes one distinct entry that passed the filters.
    fn entry(&mut self, e: &Entry<'_>);
    /// Takes a block of them, in input order (a sink may match a block at once).
    fn entries(&mut self, es: &[Entry<'_>]) {
        for e in es {
            self.entry(e);
        }
    }
    /// Adds another worker's results.
    fn merge(&mut self, other: Self);
    /// Called once on the final sink when the scan ends, before anyone reads it.
    fn done(&mut self) {}
}

/// Which entries to keep.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Keep entries at or after this time.
    pub since: Option<Timestamp>,
    /// Keep entries before this time.
    pub until: Option<Timestamp>,
    /// Keep only these services (empty: all).
    pub services: Vec<String>,
}

impl Filter {
    fn keeps(&self, e: &Entry<'_>) -> bool {
        self.time_kept(e) && self.service_kept(e)
    }

    fn time_kept(&self, e: &Entry<'_>) -> bool {
        if self.since.is_some() || self.until.is_some() {
            let Some(t) = e.timestamp else { return false };
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t >= u) {
                return false;
            }
        }
        true
    }

    fn service_kept(&self, e: &Entry<'_>) -> bool {
        self.services.is_empty()
            || e.place
                .service
                .as_deref()
                .is_some_and(|s| self.services.iter().any(|w| w == s))
    }

    /// True when `e`, of a service kept, was left out for being at or after --until:
    /// the logs go on past the window, so what is failing at its end is not known to
    /// be ongoing.
    fn is_after_until(&self, e: &Entry<'_>) -> bool {
        matches!((e.timestamp, self.until), (Some(t), Some(u)) if t >= u) && self.service_kept(e)
    }

    /// True when no entry is dropped by the filter.
    pub fn is_empty(&self) -> bool {
        self.since.is_none() && self.until.is_none() && self.services.is_empty()
    }
}

/// How to scan.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// Framing options.
    pub ingest: IngestOptions,
    /// Stop at the first malformed record.
    pub strict: bool,
    /// Entries to keep.
    pub filter: Filter,
}

/// One problem with its place, for messages and for the outputs' skipped counts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Located {
    /// Index of the source.
    pub source: usize,
    /// Line (1-based) in the decompressed stream.
    pub line: u64,
    /// Record or element index, when known.
    pub index: Option<u64>,
    /// Column (1-based) on `line`, when known.
    pub column: Option<u64>,
    /// What was wrong.
    pub reason: String,
}

/// Problems kept with their location (the rest are only counted).
const KEPT_PROBLEMS: usize = 200;

/// Most bytes the de-duplication set may hold (its slots; it starts small, grows with
/// the distinct entries read, and takes all of it once an input is large). A fixed
/// budget keeps peak memory flat in input size: the set was the largest thing that
/// grew with it.
pub const DEDUP_BUDGET: usize = 16 << 20;

/// Distinct entries remembered for de-duplication: every shard at its largest, filled
/// to the load limit. Beyond this, later new entries are not remembered (repeats of
/// those already held are still caught); totals may then include repeats, which
/// every output says.
pub const DEDUP_CAPACITY: usize = SHARDS * max_fill(SHARD_MAX_SLOTS);

/// What the scan itself counted, beside what the sink gathered.
#[derive(Debug, Clone, Default)]
pub struct ScanTotals {
    /// Records framed (valid or not), with those the framer rejected.
    pub records: u64,
    /// Records that were not LogEntry objects, plus framing garbage.
    pub malformed: u64,
    /// Records over the size cap, skipped.
    pub too_large: u64,
    /// Repeats of an entry already read (same log, insertId, timestamp).
    pub duplicates: u64,
    /// Extra parts of split entries, counted once.
    pub split_parts: u64,
    /// Distinct entries dropped by --since/--until/--service.
    pub filtered_out: u64,
    /// Of those, the ones at or after --until.
    pub after_until: u64,
    /// Sources cut short (truncated gzip or array, read error mid-way).
    pub truncated: u64,
    /// The first and last times of entries left out by --service alone: the logs
    /// span those too, so a kept service's failure that stopped before the end is
    /// not "ongoing", nor one that began after the start "under way".
    pub others_window: Option<(Timestamp, Timestamp)>,
    /// True when de-duplication ran out of room and later repeats were counted.
    pub dedup_saturated: bool,
    /// The first problems by location.
    pub problems: Vec<Located>,
    /// Where each input that was cut short ends (at most one per source), kept
    /// whatever the number of other problems, so every one can be named.
    pub cut: Vec<Located>,
    /// Problems beyond `problems`.
    pub more_problems: u64,
    /// With `--service` only: distinct entries per service name ("" for none), before
    /// the filters, so a name that matches no entry (a typo) is told apart from a
    /// window it logged nothing in. At most [`SERVICES_SEEN`] names.
    pub services_seen: HashMap<String, u64>,
    /// With `--service`: distinct entries of each name given, in order, before the
    /// time filters (kept apart from `services_seen`, which may be full).
    pub service_hits: Vec<u64>,
}

/// Most service names [`ScanTotals::services_seen`] holds.
pub const SERVICES_SEEN: usize = 10_000;

impl ScanTotals {
    fn note(&mut self, p: Located) {
        self.problems.push(p);
        if self.problems.len() > 2 * KEPT_PROBLEMS {
            self.trim();
        }
    }

    fn trim(&mut self) {
        self.problems.sort();
        if self.problems.len() > KEPT_PROBLEMS {
            self.more_problems += (self.problems.len() - KEPT_PROBLEMS) as u64;
            self.problems.truncate(KEPT_PROBLEMS);
        }
    }

    fn widen_others(&mut self, t: Timestamp) {
        self.others_window = Some(match self.others_window {
            None => (t, t),
            Some((a, b)) => (a.min(t), b.max(t)),
        });
    }

    fn merge(&mut self, o: ScanTotals) {
        self.records += o.records;
        self.malformed += o.malformed;
        self.too_large += o.too_large;
        self.duplicates += o.duplicates;
        self.split_parts += o.split_parts;
        self.filtered_out += o.filtered_out;
        self.after_until += o.after_until;
        self.truncated += o.truncated;
        if let Some((a, b)) = o.others_window {
            self.widen_others(a);
            self.widen_others(b);
        }
        self.cut.extend(o.cut);
        self.cut.sort();
        self.dedup_saturated |= o.dedup_saturated;
        self.more_problems += o.more_problems;
        if self.service_hits.len() < o.service_hits.len() {
            self.service_hits.resize(o.service_hits.len(), 0);
        }
        for (mine, n) in self.service_hits.iter_mut().zip(o.service_hits) {
            *mine += n;
        }
        for (name, n) in o.services_seen {
            if let Some(m) = self.services_seen.get_mut(&name) {
                *m += n;
            } else if self.services_seen.len() < SERVICES_SEEN {
                self.services_seen.insert(name, n);
            }
        }
        self.problems.extend(o.problems);
        self.trim();
    }

    /// Records skipped for any reason (malformed or too large).
    pub fn skipped(&self) -> u64 {
        self.malformed + self.too_large
    }
}

/// Live counters for the progress line.
#[derive(Debug, Default)]
pub struct Progress {
    /// Raw bytes read from inputs.
    pub bytes: AtomicU64,
    /// Records framed.
    pub records: AtomicU64,
    /// Sources opened.
    pub sources: AtomicU64,
    /// Sources opened that held nothing but blanks (an empty gzip stream among them).
    pub blank: AtomicU64,
}

/// The scan's result: the merged sink, totals, and inputs that could not be read.
pub struct Scan<S> {
    /// Merged sink.
    pub sink: S,
    /// Counts kept by the scan.
    pub totals: ScanTotals,
    /// Inputs that could not be opened or read.
    pub errors: Vec<InputError>,
}

/// The de-duplication set: 64 shards of open-addressing tables of 64-bit keys (0
/// marks an empty slot), grown when 80% full (by half while small, then to the
/// largest), up to [`SHARD_MAX_SLOTS`] each ([`DEDUP_BUDGET`] in all). About 10 bytes
/// per distinct entry.
///
/// When full (a shard at its largest and 80% full), a key it does not hold is
/// reported new and not stored, and `saturated` is set: keys already held still
/// catch their repeats, so dedup stays exact for the entries it remembers. Keys are
/// hashes, so shards fill evenly: the first is full at about 98% of
/// [`DEDUP_CAPACITY`] distinct entries. Which entries are remembered after that
/// depends on read order, and with several workers on scheduling: hence the "not
/// exact" flag in every output.
struct Dedup {
    shards: Vec<Padded>,
    saturated: AtomicBool,
}

const SHARDS: usize = 64;

/// A shard on cache lines of its own: two workers locking neighbouring shards would
/// otherwise pass one line back and forth on every entry.
#[repr(align(128))]
struct Padded(Mutex<Table>);

/// Slots of a shard at its largest: the budget split evenly.
const SHARD_MAX_SLOTS: usize = DEDUP_BUDGET / SHARDS / std::mem::size_of::<u64>();

/// Keys a table of `slots` slots holds before growing (80%: linear probing stays short).
const fn max_fill(slots: usize) -> usize {
    slots / 5 * 4
}

#[derive(Default)]
struct Table {
    slots: Vec<u64>,
    len: usize,
}

impl Table {
    /// The slot where probing for `key` starts (the table is not empty).
    #[inline]
    fn home(&self, key: u64) -> usize {
        // Multiply-shift onto [0, n): any table size, no modulo.
        ((u128::from(key.rotate_left(21)) * self.slots.len() as u128) >> 64) as usize
    }

    /// Slot of `key` (or of the empty slot where it goes), linear probing.
    #[inline]
    fn find(&self, key: u64) -> usize {
        let n = self.slots.len();
        let mut i = self.home(key);
        loop {
            let s = self.slots[i];
            if s == key || s == 0 {
                return i;
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
    }

    /// Starts loading the cache line of `key`'s slot, without waiting for it.
    #[inline]
    fn prefetch(&self, key: u64) {
        if self.slots.is_empty() {
            return;
        }
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        safe_arch::prefetch_t0(&self.slots[self.home(key)]);
    }

    /// True when the key is held.
    fn contains(&self, key: u64) -> bool {
        !self.slots.is_empty() && self.slots[self.find(key)] == key
    }

    /// Stores a key not held; false (and nothing stored) when the table is full.
    fn insert(&mut self, key: u64, max_slots: usize) -> bool {
        if self.len + 1 > max_fill(self.slots.len()) {
            if self.slots.len() >= max_slots {
                return false;
            }
            self.grow(max_slots);
        }
        let i = self.find(key);
        self.slots[i] = key;
        self.len += 1;
        true
    }

    /// Grows by half (at least 1024 slots) while small, then straight to `max_slots`.
    ///
    /// A shard past an eighth of its budget has seen some 180k distinct entries in all
    /// shards (100-200 MB of these exports): taking the whole budget then means a 1 GB
    /// input holds the same set as a 10 GB one. Growing by half left a 1 GB run at
    /// 13.4 MiB and a 10 GB run at the full 16.8 MiB (heaptrack, gcloud array).
    fn grow(&mut self, max_slots: usize) {
        let half = self.slots.len() + self.slots.len() / 2;
        let cap = if half > max_slots / 8 {
            max_slots
        } else {
            half.max(1024).min(max_slots)
        };
        let old = std::mem::replace(&mut self.slots, vec![0; cap]);
        for k in old.into_iter().filter(|&k| k != 0) {
            let i = self.find(k);
            self.slots[i] = k;
        }
    }
}

impl Dedup {
    fn new() -> Dedup {
        Dedup {
            shards: (0..SHARDS)
                .map(|_| Padded(Mutex::new(Table::default())))
                .collect(),
            saturated: AtomicBool::new(false),
        }
    }

    /// True when the key is new (or when the table is full and it can't tell).
    fn first_time(&self, key: u64) -> bool {
        self.first_time_within(key, SHARD_MAX_SLOTS)
    }

    /// The locked shard of `key` (already made nonzero).
    fn shard(&self, key: u64) -> std::sync::MutexGuard<'_, Table> {
        let shard = &self.shards[(key % SHARDS as u64) as usize].0;
        match shard.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Drops the entries of `block` whose key was seen before (earlier in the block
    /// included), in order, as [`Dedup::first_time`] one by one would; returns how
    /// many it dropped. `keys` is scratch.
    ///
    /// The table is far larger than the caches, so nearly every lookup misses, and a
    /// lock is a full fence: one at a time, each entry waited for its miss. All the
    /// block's slots are prefetched first (prefetches do not wait for fences), so
    /// their misses overlap.
    fn retain_first(&self, block: &mut Vec<Entry<'_>>, keys: &mut Vec<Option<u64>>) -> usize {
        keys.clear();
        keys.extend(block.iter().map(|e| e.dedup_key().map(|k| k.max(1))));
        for &k in keys.iter().flatten() {
            self.shard(k).prefetch(k);
        }
        let before = block.len();
        let mut keys = keys.iter();
        block.retain(|_| match keys.next() {
            Some(Some(k)) => self.first_time(*k),
            _ => true,
        });
        before - block.len()
    }

    fn first_time_within(&self, key: u64, max_slots: usize) -> bool {
        // 0 marks empty slots.
        let key = key.max(1);
        let mut t = self.shard(key);
        if t.contains(key) {
            return false;
        }
        if !t.insert(key, max_slots) {
            self.saturated.store(true, Ordering::Relaxed);
        }
        true
    }

    /// Bytes held by the slots.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.0.lock().map_or(0, |t| t.slots.capacity() * 8))
            .sum()
    }
}

enum Item {
    Chunk(Chunk),
    Failed(InputError),
}

/// `--strict`: where the first bad record seen so far is (source, line), so reading
/// stops after it and not before: chunks go to workers in order, and a later chunk's
/// problem must not stop an earlier record from being read and named.
#[derive(Debug)]
struct StrictStop(AtomicU64);

impl Default for StrictStop {
    fn default() -> Self {
        StrictStop(AtomicU64::new(u64::MAX))
    }
}

impl StrictStop {
    const LINE_BITS: u32 = 40;

    fn key(source: usize, line: u64) -> u64 {
        ((source as u64) << Self::LINE_BITS) | line.min((1 << Self::LINE_BITS) - 1)
    }

    /// A bad record at this place.
    fn at(&self, source: usize, line: u64) {
        self.0.fetch_min(Self::key(source, line), Ordering::Relaxed);
    }

    /// True when a bad record was seen.
    fn stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed) != u64::MAX
    }

    /// True when this place comes after the first bad record seen.
    fn is_past(&self, source: usize, line: u64) -> bool {
        Self::key(source, line) > self.0.load(Ordering::Relaxed)
    }
}

/// Scans every source with `threads` workers and returns the merged sink.
///
/// The workers take turns at the reader: the one that takes the next chunk reads,
/// inflates and frames it, then parses it while another takes its turn. So a chunk is
/// parsed on the core that just wrote it into memory (with a reader thread of its own
/// the workers fetched every chunk from the other core's cache: 1 GB report 0.96 s
/// against 0.825 s, 12% more CPU), and gzip is still inflated on one core while the
/// other parses.
pub fn scan<S, F>(sources: &[Source], opts: &ScanOptions, progress: &Progress, make: F) -> Scan<S>
where
    S: Sink,
    F: Fn() -> S + Sync,
{
    let dedup = Dedup::new();
    // Chunk buffers go back to the reader once parsed (see `ingest::BufferPool`).
    let pool = std::sync::Arc::new(BufferPool::new(&opts.ingest));
    let stop = StrictStop::default();
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    };
    let mut next = 0usize;
    let mut current: Option<ingest::ChunkReader> = None;
    let mut last_bytes = 0u64;
    let items = std::iter::from_fn(|| loop {
        if stop.stopped() {
            return None;
        }
        if let Some(reader) = current.as_mut() {
            if let Some(chunk) = reader.next() {
                let b = reader.bytes_read();
                progress.bytes.fetch_add(b - last_bytes, Ordering::Relaxed);
                last_bytes = b;
                progress
                    .records
                    .fetch_add(chunk.records.len() as u64, Ordering::Relaxed);
                return Some(Item::Chunk(chunk));
            }
            // Bytes after the last chunk (all of them for `[]`) are read too.
            let b = reader.bytes_read();
            progress.bytes.fetch_add(b - last_bytes, Ordering::Relaxed);
            current = None;
        }
        if next >= sources.len() {
            return None;
        }
        let i = next;
        next += 1;
        last_bytes = 0;
        progress.sources.fetch_add(1, Ordering::Relaxed);
        match ingest::open_pooled(sources, i, &opts.ingest, &pool) {
            Ok(r) => {
                if r.format() == ingest::Format::Empty {
                    progress.blank.fetch_add(1, Ordering::Relaxed);
                }
                current = Some(r)
            }
            Err(e) => return Some(Item::Failed(e)),
        }
    });
    let work = |items: &mut dyn Iterator<Item = Item>| {
        let mut sink = make();
        let mut totals = ScanTotals::default();
        let mut errors = Vec::new();
        for item in items {
            match item {
                Item::Chunk(c) => {
                    process(&c, opts, &dedup, &stop, &mut sink, &mut totals);
                    pool.put(c.data);
                }
                Item::Failed(e) => errors.push(e),
            }
        }
        (sink, totals, errors)
    };
    let (mut sink, mut totals, mut errors) = if threads <= 1 {
        let mut items = items;
        work(&mut items)
    } else {
        let items = Mutex::new(items);
        let results: Mutex<Vec<(S, ScanTotals, Vec<InputError>)>> = Mutex::new(Vec::new());
        let run = || {
            rayon::scope(|sc| {
                for _ in 0..threads {
                    sc.spawn(|_| {
                        let mut turns = std::iter::from_fn(|| {
                            let mut items = match items.lock() {
                                Ok(r) => r,
                                Err(poisoned) => poisoned.into_inner(),
                            };
                            items.next()
                        });
                        let r = work(&mut turns);
                        match results.lock() {
                            Ok(mut v) => v.push(r),
                            Err(poisoned) => poisoned.into_inner().push(r),
                        }
                    });
                }
            });
        };
        match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => pool.install(run),
            // Without a pool of our own, rayon's global pool still runs the scope.
            Err(_) => run(),
        }
        let parts = match results.into_inner() {
            Ok(v) => v,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Sinks merge with `+=` and sort when they finish: order does not matter.
        let mut out: Option<(S, ScanTotals, Vec<InputError>)> = None;
        for (s2, t2, e2) in parts {
            match out.as_mut() {
                None => out = Some((s2, t2, e2)),
                Some((s1, t1, e1)) => {
                    s1.merge(s2);
                    t1.merge(t2);
                    e1.extend(e2);
                }
            }
        }
        out.unwrap_or_else(|| (make(), ScanTotals::default(), Vec::new()))
    };
    sink.done();
    totals.trim();
    totals.dedup_saturated |= dedup.saturated.load(Ordering::Relaxed);
    errors.sort_by_key(ToString::to_string);
    Scan {
        sink,
        totals,
        errors,
    }
}

/// Adds a block's entries to [`ScanTotals::service_hits`] and `services_seen`.
fn count_services(block: &[Entry<'_>], wanted: &[String], totals: &mut ScanTotals) {
    totals.service_hits.resize(wanted.len(), 0);
    let seen = &mut totals.services_seen;
    for e in block {
        let name = e.place.service.as_deref().unwrap_or("");
        if let Some(i) = wanted.iter().position(|w| w == name) {
            totals.service_hits[i] += 1;
        }
        if let Some(n) = seen.get_mut(name) {
            *n += 1;
        } else if seen.len() < SERVICES_SEEN {
            seen.insert(name.to_string(), 1);
        }
    }
}

fn process<S: Sink>(
    c: &Chunk,
    opts: &ScanOptions,
    dedup: &Dedup,
    stop: &StrictStop,
    sink: &mut S,
    totals: &mut ScanTotals,
) {
    for p in &c.problems {
        // A record the framer had to reject is still a record: with junk lines left
        // out of `records`, a file with more junk than entries read as all junk.
        match &p.kind {
            ProblemKind::TooLarge { .. } => {
                totals.records += 1;
                totals.too_large += 1;
            }
            ProblemKind::Malformed(_) => {
                totals.records += 1;
                totals.malformed += 1;
            }
            ProblemKind::Truncated(_) | ProblemKind::Io(_) => totals.truncated += 1,
        }
        if opts.strict
            && matches!(
                p.kind,
                ProblemKind::Malformed(_) | ProblemKind::TooLarge { .. }
            )
        {
            stop.at(c.source, p.line);
        }
        let at = Located {
            source: c.source,
            line: p.line,
            index: p.index,
            column: None,
            reason: p.kind.to_string(),
        };
        if matches!(p.kind, ProblemKind::Truncated(_) | ProblemKind::Io(_)) {
            totals.cut.push(at.clone());
        }
        totals.note(at);
    }
    // Entries go to the sink in blocks. One whose text had to be repaired (invalid
    // UTF-8) owns that text, so it goes alone, after the block before it.
    let mut block: Vec<Entry<'_>> = Vec::with_capacity(BLOCK);
    let mut keys = Vec::with_capacity(BLOCK);
    let mut flush = |block: &mut Vec<Entry<'_>>, totals: &mut ScanTotals| {
        totals.duplicates += dedup.retain_first(block, &mut keys) as u64;
        if !opts.filter.services.is_empty() {
            count_services(block, &opts.filter.services, totals);
        }
        block.retain(|e| {
            let keep = opts.filter.keeps(e);
            totals.filtered_out += u64::from(!keep);
            totals.after_until += u64::from(!keep && opts.filter.is_after_until(e));
            if let Some(t) = e.timestamp.filter(|_| !keep && opts.filter.time_kept(e)) {
                totals.widen_others(t);
            }
            keep
        });
        sink.entries(block);
        block.clear();
    };
    for span in &c.records {
        // Records before the first bad one are still read, so a malformed record
        // among them is the one named (framing problems are noted first).
        if opts.strict && stop.is_past(c.source, span.line) {
            break;
        }
        totals.records += 1;
        let Some(bytes) = c.data.get(span.start..span.end) else {
            continue;
        };
        match simdutf8::basic::from_utf8(bytes) {
            Ok(text) => {
                if admit(text, c, span, opts, stop, totals, &mut block) && block.len() == BLOCK {
                    flush(&mut block, totals);
                }
            }
            Err(_) => {
                let mut buf = String::new();
                let text = lossy_text(bytes, &mut buf);
                let mut alone = Vec::with_capacity(1);
                if admit(text, c, span, opts, stop, totals, &mut alone) {
                    flush(&mut block, totals);
                    flush(&mut alone, totals);
                }
            }
        }
    }
    flush(&mut block, totals);
}

/// Parses a record onto `block` (true) unless it is malformed or a later part of a
/// split entry, counting what it drops; repeats and filters are applied to whole
/// blocks, by `process`.
fn admit<'t>(
    text: &'t str,
    c: &Chunk,
    span: &ingest::RecordSpan,
    opts: &ScanOptions,
    stop: &StrictStop,
    totals: &mut ScanTotals,
    block: &mut Vec<Entry<'t>>,
) -> bool {
    let mut reject = |line: u64, column: Option<u64>, reason: String| {
        totals.malformed += 1;
        if opts.strict {
            stop.at(c.source, span.line);
        }
        totals.note(Located {
            source: c.source,
            line,
            index: Some(span.index),
            column,
            reason,
        });
        false
    };
    if let Err(err) = Entry::parse_onto(text, block) {
        // The JSON reader's position is the record's: made the file's. On the
        // record's first line a column counts from where the record starts.
        return match err.at {
            Some((l, col)) if l > 1 => reject(span.line + l - 1, Some(col), err.message),
            Some((_, col)) => reject(
                span.line,
                None,
                format!("{} (column {col} of the record)", err.message),
            ),
            None => reject(span.line, None, err.message),
        };
    }
    if block.last().is_some_and(|e| !e.looks_like_log_entry()) {
        block.pop();
        // `{}` is what entries.list answers when nothing matched: an empty page, not
        // a record, and nothing lost. Any other object without a LogEntry field is
        // not an entry.
        if text.bytes().filter(|b| !b.is_ascii_whitespace()).eq(*b"{}") {
            totals.records = totals.records.saturating_sub(1);
            return false;
        }
        return reject(span.line, None, NOT_A_LOG_ENTRY.to_string());
    }
    if block.last().is_some_and(Entry::is_split_continuation) {
        block.pop();
        totals.split_parts += 1;
        return false;
    }
    true
}

/// Why a JSON object with none of a LogEntry's fields is skipped.
const NOT_A_LOG_ENTRY: &str = "not a LogEntry: no timestamp, logName, insertId, resource, \
     payload or httpRequest (is this a Cloud Logging export?)";

/// Entries handed to the sink at once: enough to spread the per-search cost of the
/// rules' message scan, few enough that their messages stay in cache.
const BLOCK: usize = 128;

#[cfg(test)]
mod tests {
    use super::*;

    /// Distinct, well-mixed keys (splitmix64), like the entry hashes.
    fn key(i: u64) -> u64 {
        let mut z = i
            .wrapping_add(0x9E37_79B9_7F4A_7C15)
            .wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[test]
    fn exact_under_the_cap() {
        let d = Dedup::new();
        for i in 0..50_000 {
            assert!(d.first_time(key(i)));
        }
        for i in 0..50_000 {
            assert!(!d.first_time(key(i)), "repeat {i} not caught");
        }
        assert!(d.first_time(0) && !d.first_time(0), "key 0 is a key too");
        assert!(!d.saturated.load(Ordering::Relaxed));
    }

    /// A block keeps the first of each repeat, in order, and every entry without an
    /// insertId (or with an empty one); a repeat of an entry from an earlier block goes too.
    #[test]
    #[allow(clippy::unwrap_used)]
    fn a_block_keeps_first_times_in_order() {
        let rec = |id: &str, msg: &str| {
            let id = match id {
                "" => String::new(),
                "<empty>" => r#""insertId":"","#.to_string(),
                id => format!(r#""insertId":"{id}","#),
            };
            format!(
                r#"{{{id}"logName":"projects/p/logs/app","timestamp":"2025-09-15T17:38:01Z","textPayload":"{msg}"}}"#
            )
        };
        let texts = [
            rec("a", "1"),
            rec("b", "2"),
            rec("a", "3"),
            rec("", "4"),
            rec("", "5"),
            rec("c", "6"),
            rec("b", "7"),
            rec("<empty>", "8"),
            rec("<empty>", "9"),
        ];
        let d = Dedup::new();
        let mut keys = Vec::new();
        let mut block: Vec<Entry<'_>> = texts.iter().map(|t| Entry::parse(t).unwrap()).collect();
        assert_eq!(d.retain_first(&mut block, &mut keys), 2);
        let kept: Vec<&str> = block.iter().map(|e| e.message.as_ref()).collect();
        assert_eq!(kept, ["1", "2", "4", "5", "6", "8", "9"]);
        let mut again = vec![
            Entry::parse(&texts[5]).unwrap(),
            Entry::parse(&texts[4]).unwrap(),
        ];
        assert_eq!(d.retain_first(&mut again, &mut keys), 1);
        assert_eq!(again[0].message, "5");
    }

    #[test]
    fn when_full_new_keys_pass_and_held_keys_still_catch_repeats() {
        // Shards of at most 1024 slots: 819 keys each, 52,416 in all.
        let d = Dedup::new();
        let n = 80_000u64;
        let mut first_full = None;
        for i in 0..n {
            assert!(d.first_time_within(key(i), 1024), "a new key is new");
            if first_full.is_none() && d.saturated.load(Ordering::Relaxed) {
                first_full = Some(i);
            }
        }
        let full_at = first_full.unwrap_or(n);
        let cap = (SHARDS * max_fill(1024)) as u64;
        assert!(
            full_at > cap * 9 / 10 && full_at <= cap,
            "full at {full_at} of {cap}"
        );
        assert!(d.bytes() <= SHARDS * 1024 * 8, "{} bytes", d.bytes());
        // Everything read before the first shard filled is remembered, whatever came after.
        for i in 0..full_at {
            assert!(!d.first_time_within(key(i), 1024), "repeat {i} not caught");
        }
        // Held in all: exactly the cap (every shard filled to its limit).
        let held = (0..n)
            .filter(|&i| !d.first_time_within(key(i), 1024))
            .count() as u64;
        assert_eq!(held, cap);
    }

    #[test]
    fn small_inputs_stay_small_and_large_ones_take_the_whole_budget() {
        let d = Dedup::new();
        for i in 0..10_000 {
            d.first_time(key(i));
        }
        assert!(
            d.bytes() < DEDUP_BUDGET / 8,
            "{} bytes for 10k keys",
            d.bytes()
        );
        for i in 10_000..200_000 {
            d.first_time(key(i));
        }
        assert_eq!(
            d.bytes(),
            DEDUP_BUDGET,
            "200k keys: every shard at its largest"
        );
        assert!(!d.saturated.load(Ordering::Relaxed));
    }

    #[test]
    fn stays_within_the_budget() {
        let d = Dedup::new();
        let mut i = 0u64;
        while !d.saturated.load(Ordering::Relaxed) {
            d.first_time(key(i));
            i += 1;
        }
        assert!(i as usize > DEDUP_CAPACITY * 95 / 100, "full at {i}");
        for j in i..i + 100_000 {
            d.first_time(key(j));
        }
        assert!(d.bytes() <= DEDUP_BUDGET, "{} bytes", d.bytes());
        assert_eq!(d.bytes(), DEDUP_BUDGET, "every shard at its largest");
    }
}
