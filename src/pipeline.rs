//! The parallel scan shared by `report` and `stats`; the only module that knows threads.
//!
//! One iterator yields chunks of framed records from every source in order; worker
//! threads parse them into entries and feed a per-worker [`Sink`]; sinks merge once.
//! The result does not depend on thread count or chunk size: sinks merge with `+=`
//! and sort when they finish.

use crate::entry::{lossy_text, Entry, Timestamp};
use crate::ingest::{self, Chunk, IngestOptions, InputError, ProblemKind, Source};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// What a command accumulates from entries; one per worker, merged at the end.
pub trait Sink: Send + Sized {
    /// Takes one distinct entry that passed the filters.
    fn entry(&mut self, e: &Entry<'_>);
    /// Adds another worker's results.
    fn merge(&mut self, other: Self);
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
        if self.since.is_some() || self.until.is_some() {
            let Some(t) = e.timestamp else { return false };
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t >= u) {
                return false;
            }
        }
        self.services.is_empty()
            || e.place
                .service
                .as_deref()
                .is_some_and(|s| self.services.iter().any(|w| w == s))
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
    /// What was wrong.
    pub reason: String,
}

/// Problems kept with their location (the rest are only counted).
const KEPT_PROBLEMS: usize = 200;

/// Distinct entries remembered for de-duplication. Beyond this, totals are counted
/// without de-duplication (said in every output): memory stays bounded (~40 MB).
pub const DEDUP_CAPACITY: usize = 4_000_000;

/// What the scan itself counted, beside what the sink gathered.
#[derive(Debug, Clone, Default)]
pub struct ScanTotals {
    /// Records framed (valid or not).
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
    /// Sources cut short (truncated gzip or array, read error mid-way).
    pub truncated: u64,
    /// True when de-duplication ran out of room and later repeats were counted.
    pub dedup_saturated: bool,
    /// The first problems by location.
    pub problems: Vec<Located>,
    /// Where each input that was cut short ends (at most one per source), kept
    /// whatever the number of other problems, so every one can be named.
    pub cut: Vec<Located>,
    /// Problems beyond `problems`.
    pub more_problems: u64,
}

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

    fn merge(&mut self, o: ScanTotals) {
        self.records += o.records;
        self.malformed += o.malformed;
        self.too_large += o.too_large;
        self.duplicates += o.duplicates;
        self.split_parts += o.split_parts;
        self.filtered_out += o.filtered_out;
        self.truncated += o.truncated;
        self.cut.extend(o.cut);
        self.cut.sort();
        self.dedup_saturated |= o.dedup_saturated;
        self.more_problems += o.more_problems;
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
/// marks an empty slot), grown by half when 80% full. About 10 bytes per distinct
/// entry, at most ~40 MB at [`DEDUP_CAPACITY`].
struct Dedup {
    shards: Vec<Mutex<Table>>,
    len: AtomicU64,
    saturated: AtomicBool,
}

const SHARDS: usize = 64;

#[derive(Default)]
struct Table {
    slots: Vec<u64>,
    len: usize,
}

impl Table {
    /// Slot of `key` (or of the empty slot where it goes), linear probing.
    #[inline]
    fn find(&self, key: u64) -> usize {
        let n = self.slots.len();
        // Multiply-shift onto [0, n): any table size, no modulo.
        let mut i = ((u128::from(key.rotate_left(21)) * n as u128) >> 64) as usize;
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

    fn grow(&mut self) {
        let cap = (self.slots.len() + self.slots.len() / 2).max(1024);
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
            shards: (0..SHARDS).map(|_| Mutex::new(Table::default())).collect(),
            len: AtomicU64::new(0),
            saturated: AtomicBool::new(false),
        }
    }

    /// True when the key is new (or when the table is full and it can't tell).
    fn first_time(&self, key: u64) -> bool {
        // 0 marks empty slots.
        let key = key.max(1);
        let shard = &self.shards[(key % SHARDS as u64) as usize];
        let mut t = match shard.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if !t.slots.is_empty() && t.slots[t.find(key)] == key {
            return false;
        }
        if self.len.load(Ordering::Relaxed) >= DEDUP_CAPACITY as u64 {
            self.saturated.store(true, Ordering::Relaxed);
            return true;
        }
        if (t.len + 1) * 5 > t.slots.len() * 4 {
            t.grow();
        }
        let i = t.find(key);
        t.slots[i] = key;
        t.len += 1;
        self.len.fetch_add(1, Ordering::Relaxed);
        true
    }
}

enum Item {
    Chunk(Chunk),
    Failed(InputError),
}

/// Chunks read ahead of the workers (each about `chunk_size` bytes).
const READ_AHEAD: usize = 2;

/// Scans every source with `threads` workers and returns the merged sink.
///
/// With more than one worker, reading, decompressing and framing run on a thread of
/// their own that hands chunks to the workers (so one core can inflate gzip while
/// the others parse); with one worker, that worker reads too.
pub fn scan<S, F>(sources: &[Source], opts: &ScanOptions, progress: &Progress, make: F) -> Scan<S>
where
    S: Sink,
    F: Fn() -> S + Sync,
{
    let dedup = Dedup::new();
    let stop = AtomicBool::new(false);
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    };
    let mut next = 0usize;
    let mut current: Option<ingest::ChunkReader> = None;
    let mut last_bytes = 0u64;
    let items = std::iter::from_fn(|| loop {
        if stop.load(Ordering::Relaxed) {
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
            current = None;
        }
        if next >= sources.len() {
            return None;
        }
        let i = next;
        next += 1;
        last_bytes = 0;
        progress.sources.fetch_add(1, Ordering::Relaxed);
        match ingest::open(sources, i, &opts.ingest) {
            Ok(r) => current = Some(r),
            Err(e) => return Some(Item::Failed(e)),
        }
    });
    let work = |items: &mut dyn Iterator<Item = Item>| {
        let mut sink = make();
        let mut totals = ScanTotals::default();
        let mut errors = Vec::new();
        for item in items {
            match item {
                Item::Chunk(c) => process(&c, opts, &dedup, &stop, &mut sink, &mut totals),
                Item::Failed(e) => errors.push(e),
            }
        }
        (sink, totals, errors)
    };
    let (sink, mut totals, mut errors) = if threads <= 1 {
        let mut items = items;
        work(&mut items)
    } else {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Item>(READ_AHEAD);
        let rx = Mutex::new(rx);
        let results: Mutex<Vec<(S, ScanTotals, Vec<InputError>)>> = Mutex::new(Vec::new());
        // A rayon pool: one thread reads (and inflates) while `threads` workers parse.
        let run = || {
            rayon::scope(|sc| {
                sc.spawn(move |_| {
                    for item in items {
                        if tx.send(item).is_err() {
                            break;
                        }
                    }
                });
                for _ in 0..threads {
                    sc.spawn(|_| {
                        let mut items = std::iter::from_fn(|| {
                            let rx = match rx.lock() {
                                Ok(r) => r,
                                Err(poisoned) => poisoned.into_inner(),
                            };
                            rx.recv().ok()
                        });
                        let r = work(&mut items);
                        match results.lock() {
                            Ok(mut v) => v.push(r),
                            Err(poisoned) => poisoned.into_inner().push(r),
                        }
                    });
                }
            });
        };
        match rayon::ThreadPoolBuilder::new()
            .num_threads(threads + 1)
            .build()
        {
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
    totals.trim();
    totals.dedup_saturated |= dedup.saturated.load(Ordering::Relaxed);
    errors.sort_by_key(ToString::to_string);
    Scan {
        sink,
        totals,
        errors,
    }
}

fn process<S: Sink>(
    c: &Chunk,
    opts: &ScanOptions,
    dedup: &Dedup,
    stop: &AtomicBool,
    sink: &mut S,
    totals: &mut ScanTotals,
) {
    for p in &c.problems {
        match &p.kind {
            ProblemKind::TooLarge { .. } => totals.too_large += 1,
            ProblemKind::Malformed(_) => totals.malformed += 1,
            ProblemKind::Truncated(_) | ProblemKind::Io(_) => totals.truncated += 1,
        }
        if opts.strict
            && matches!(
                p.kind,
                ProblemKind::Malformed(_) | ProblemKind::TooLarge { .. }
            )
        {
            stop.store(true, Ordering::Relaxed);
        }
        let at = Located {
            source: c.source,
            line: p.line,
            index: p.index,
            reason: p.kind.to_string(),
        };
        if matches!(p.kind, ProblemKind::Truncated(_) | ProblemKind::Io(_)) {
            totals.cut.push(at.clone());
        }
        totals.note(at);
    }
    let mut buf = String::new();
    for span in &c.records {
        if opts.strict && stop.load(Ordering::Relaxed) {
            return;
        }
        totals.records += 1;
        let Some(bytes) = c.data.get(span.start..span.end) else {
            continue;
        };
        let text = lossy_text(bytes, &mut buf);
        let entry = match Entry::parse(text) {
            Ok(e) => e,
            Err(err) => {
                totals.malformed += 1;
                if opts.strict {
                    stop.store(true, Ordering::Relaxed);
                }
                totals.note(Located {
                    source: c.source,
                    line: span.line,
                    index: Some(span.index),
                    reason: err.0,
                });
                continue;
            }
        };
        if entry.is_split_continuation() {
            totals.split_parts += 1;
            continue;
        }
        if entry.dedup_key().is_some_and(|k| !dedup.first_time(k)) {
            totals.duplicates += 1;
            continue;
        }
        if !opts.filter.keeps(&entry) {
            totals.filtered_out += 1;
            continue;
        }
        sink.entry(&entry);
    }
}
