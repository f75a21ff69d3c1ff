//! The parallel scan shared by `report` and `stats`; the only module that knows threads.
//!
//! One iterator yields chunks of framed records from every source in order; rayon
//! workers parse them into entries and feed a per-worker [`Sink`]; sinks merge once.
//! The result does not depend on thread count or chunk size: sinks merge with `+=`
//! and sort when they finish.

use crate::entry::{lossy_text, Entry, Timestamp};
use crate::ingest::{self, Chunk, IngestOptions, InputError, ProblemKind, Source};
use rayon::iter::{ParallelBridge, ParallelIterator};
use std::collections::HashSet;
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
/// without de-duplication (said in every output): memory stays bounded (~64 MB).
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

struct Dedup {
    shards: Vec<Mutex<HashSet<u64>>>,
    len: AtomicU64,
    saturated: AtomicBool,
}

impl Dedup {
    fn new() -> Dedup {
        Dedup {
            shards: (0..64).map(|_| Mutex::new(HashSet::new())).collect(),
            len: AtomicU64::new(0),
            saturated: AtomicBool::new(false),
        }
    }

    /// True when the key is new (or when the table is full and it can't tell).
    fn first_time(&self, key: u64) -> bool {
        let shard = &self.shards[(key % 64) as usize];
        let mut set = match shard.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if set.contains(&key) {
            return false;
        }
        if self.len.load(Ordering::Relaxed) >= DEDUP_CAPACITY as u64 {
            self.saturated.store(true, Ordering::Relaxed);
            return true;
        }
        set.insert(key);
        self.len.fetch_add(1, Ordering::Relaxed);
        true
    }
}

enum Item {
    Chunk(Chunk),
    Failed(InputError),
}

/// Scans every source with `threads` workers and returns the merged sink.
pub fn scan<S, F>(sources: &[Source], opts: &ScanOptions, progress: &Progress, make: F) -> Scan<S>
where
    S: Sink,
    F: Fn() -> S + Sync,
{
    let dedup = Dedup::new();
    let stop = AtomicBool::new(false);
    let run = || {
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
        items
            .par_bridge()
            .fold(
                || (make(), ScanTotals::default(), Vec::new()),
                |(mut sink, mut totals, mut errors), item| {
                    match item {
                        Item::Chunk(c) => {
                            process(&c, opts, &dedup, &stop, &mut sink, &mut totals);
                        }
                        Item::Failed(e) => errors.push(e),
                    }
                    (sink, totals, errors)
                },
            )
            .reduce(
                || (make(), ScanTotals::default(), Vec::new()),
                |(mut s1, mut t1, mut e1), (s2, t2, e2)| {
                    s1.merge(s2);
                    t1.merge(t2);
                    e1.extend(e2);
                    (s1, t1, e1)
                },
            )
    };
    let (sink, mut totals, mut errors) = match rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
    {
        Ok(pool) => pool.install(run),
        // A pool that cannot start still leaves the global one.
        Err(_) => run(),
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
        totals.note(Located {
            source: c.source,
            line: p.line,
            index: p.index,
            reason: p.kind.to_string(),
        });
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
