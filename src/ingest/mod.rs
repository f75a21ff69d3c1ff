//! Ingest: find inputs, decompress, sniff the format from bytes, and frame
//! top-level JSON objects into owned [`Chunk`]s that later stages parse in parallel.
//!
//! Ingest knows nothing about `LogEntry` fields: a record is only a byte range.
//! Everything is streamed; a reader holds at most about
//! `chunk_size + max_record + block` bytes whatever the input size.
//!
//! Framing choices worth knowing:
//! - NDJSON: one record per non-blank line; a line whose first non-blank byte
//!   is not `{` is a [`ProblemKind::Malformed`] ("not a JSON object") and takes
//!   a record index, like every other non-blank line.
//! - Arrays: every element is framed, objects or not; the entry stage rejects
//!   non-objects. `index` is the element's position, counted across arrays
//!   that follow each other (`cat`-ed gcloud output).
//! - Objects: back-to-back objects; a `{` at the start of a line while an
//!   object is still open means the open one was cut, so it is reported and
//!   framing restarts there. So is one whose string a line's end leaves open
//!   (JSON strings hold no raw newline); framing restarts at the next line that
//!   starts with `{`. A first line cut that way, with a `{` starting the next
//!   line, is NDJSON's bad line: the input is framed as NDJSON.
//! - `entries.list` responses: each element of a response's `entries` array is
//!   framed as an element of gcloud's array; the other members are skipped. A
//!   response is an object whose first key is `entries` (an array) or
//!   `nextPageToken` (a string); in such a stream `{}` is an empty response and any
//!   other object is a record.
//! - A UTF-8 BOM is skipped at the start of the stream and before any record
//!   (NDJSON line, object, or array), as after `cat` of Windows-saved files.
//! - Problems carry `index: Some(_)` when they stand for a record (too large,
//!   or an NDJSON line that is not an object); framing garbage has `None`.

mod array;
mod discover;
mod entries;
mod error;
mod frame;
mod ndjson;
mod objects;
mod pool;
mod reader;
mod scan;
mod sniff;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;

pub use discover::discover;
pub use error::InputError;
pub use pool::BufferPool;
pub use reader::{open, open_pooled, open_reader, ChunkReader};

/// Where a source's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file on disk (or anything `File::open` can read, such as a FIFO).
    File(PathBuf),
    /// The process's standard input.
    Stdin,
}

/// One input to read.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path as given or found, or `<stdin>`.
    pub display: String,
    /// Where to read from.
    pub origin: Origin,
    /// Size on disk when known (regular files only).
    pub size: Option<u64>,
}

/// The result of [`discover`]: what can be read, and what could not be found or read.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Inputs to read, in a deterministic order.
    pub sources: Vec<Source>,
    /// Inputs that could not be used; the rest are still listed in `sources`.
    pub errors: Vec<InputError>,
    /// Per folder given, the files in it that were not read for their names.
    pub skipped: Vec<SkippedFiles>,
}

/// Files a folder holds that are not read: their names do not say log.
#[derive(Debug, Default)]
pub struct SkippedFiles {
    /// The folder as given.
    pub dir: PathBuf,
    /// How many files.
    pub count: usize,
    /// Some of them, relative to `dir`: those most likely to be logs first
    /// (`.txt`, no extension, other `.gz`), at most [`SkippedFiles::SHOWN`].
    pub names: Vec<String>,
}

impl SkippedFiles {
    /// Names kept to show.
    pub const SHOWN: usize = 5;

    /// One line for people: "DIR: 3 files not read (...): a, b, c; ...".
    pub fn message(&self) -> String {
        let files = if self.count == 1 { "file" } else { "files" };
        let more = self.count.saturating_sub(self.names.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        format!(
            "{}: {} {files} not read (folders are searched for .json, .jsonl, .ndjson, \
             .log and .gz files only): {}{more}; name a file to read it",
            self.dir.display(),
            crate::text::fmt_count(self.count as u64),
            self.names.join(", ")
        )
    }
}

/// Tuning for [`open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestOptions {
    /// Target bytes of record data per chunk (a chunk holds at least one record).
    pub chunk_size: usize,
    /// Records longer than this are reported as [`ProblemKind::TooLarge`] and skipped.
    pub max_record: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            // Each worker and the reader (taken in turns) hold a chunk (or its buffer)
            // at a time: 1 MiB keeps that a few MiB in all with 2 workers and is still
            // ~1,000 entries per hand-off.
            chunk_size: 1 << 20,
            max_record: 16 << 20,
        }
    }
}

/// The framing used for a source, decided from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Nothing but whitespace (or nothing at all).
    Empty,
    /// One or more top-level JSON arrays (`gcloud logging read --format=json`).
    Array,
    /// One object per line.
    Ndjson,
    /// Objects back to back, possibly pretty-printed, separated by whitespace or commas.
    Objects,
    /// Logging API `entries.list` responses (`{"entries": [...], "nextPageToken": ...}`),
    /// one or more back to back: each element of an `entries` array is a record.
    EntriesList,
}

/// One framed record: a byte range of [`Chunk::data`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSpan {
    /// First byte of the record in `Chunk::data`.
    pub start: usize,
    /// One past the last byte; the range is trimmed of surrounding whitespace.
    pub end: usize,
    /// 1-based line of the record's first byte in the (decompressed) stream.
    pub line: u64,
    /// 0-based ordinal of the record in its source (array element index).
    pub index: u64,
}

/// A batch of records from one source, owning its bytes.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Index into [`Discovery::sources`] (or the `source` given to [`open_reader`]).
    pub source: usize,
    /// 0, 1, 2, ... per source, in stream order.
    pub seq: u64,
    /// Raw bytes the spans point into (possibly followed by stale bytes no span covers).
    pub data: Vec<u8>,
    /// Records in stream order.
    pub records: Vec<RecordSpan>,
    /// Framing problems met since the previous chunk, in stream order.
    pub problems: Vec<Problem>,
}

impl Chunk {
    /// The bytes of one record.
    pub fn record(&self, span: &RecordSpan) -> &[u8] {
        self.data.get(span.start..span.end).unwrap_or_default()
    }
}

/// Something wrong at one place in a source; framing goes on after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line where the problem starts.
    pub line: u64,
    /// The record index it stands for, when it stands for a record.
    pub index: Option<u64>,
    /// What went wrong.
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.kind)
    }
}

/// The kinds of [`Problem`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// Framing-level garbage: text between objects, unbalanced braces, a line that is not an object.
    Malformed(String),
    /// A record longer than `max_record`; it was skipped without being buffered.
    TooLarge {
        /// The record's length in bytes.
        bytes: u64,
    },
    /// The input stopped early (cut gzip, array without `]`); what came before is kept.
    Truncated(String),
    /// Reading failed; what came before is kept.
    Io(String),
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::Malformed(why) | ProblemKind::Truncated(why) => f.write_str(why),
            ProblemKind::TooLarge { bytes } => {
                write!(f, "record too large: {bytes} bytes, over the size limit")
            }
            ProblemKind::Io(why) => write!(f, "read error: {why}"),
        }
    }
}
