//! Scenario tests that run whole streams through [`ChunkReader`]; the pure
//! pieces (scanner, sniffing, discovery) are tested beside their code.

#![allow(clippy::unwrap_used)]

mod chunking;
mod edges;
mod entries_list;
mod formats;
mod gzip;
mod real_exports;

use std::io::{Cursor, Read};

use super::reader::ChunkReader;
use super::scan::is_ws;
use super::{Format, IngestOptions, InputError, Problem, ProblemKind};

/// One framed record, flattened for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rec {
    pub text: String,
    pub line: u64,
    pub index: u64,
}

/// Everything a reader produced, flattened across chunks.
#[derive(Debug)]
pub(super) struct Out {
    pub format: Format,
    pub compressed: bool,
    pub records: Vec<Rec>,
    pub problems: Vec<Problem>,
    pub chunks: usize,
    /// Largest buffer seen, in a chunk or in the reader (bounds the reader's memory).
    pub max_capacity: usize,
}

impl Out {
    pub fn texts(&self) -> Vec<&str> {
        self.records.iter().map(|r| r.text.as_str()).collect()
    }
    pub fn kinds(&self) -> Vec<&ProblemKind> {
        self.problems.iter().map(|p| &p.kind).collect()
    }
}

pub(super) fn opts(chunk_size: usize, max_record: usize) -> IngestOptions {
    IngestOptions {
        chunk_size,
        max_record,
    }
}

/// Reads `input` with the given sizes and checks per-chunk invariants.
pub(super) fn run_reader(
    input: Box<dyn Read + Send>,
    chunk: usize,
    block: usize,
    max_record: usize,
) -> Result<Out, InputError> {
    let mut reader = ChunkReader::new("<test>", 7, input, &opts(chunk, max_record), block)?;
    let mut out = Out {
        format: reader.format(),
        compressed: reader.compressed(),
        records: Vec::new(),
        problems: Vec::new(),
        chunks: 0,
        max_capacity: 0,
    };
    while let Some(chunk) = reader.next() {
        out.max_capacity = out.max_capacity.max(reader.buffer_capacity());
        assert_eq!(chunk.source, 7);
        assert_eq!(chunk.seq, out.chunks as u64, "chunks are numbered in order");
        assert!(
            !chunk.records.is_empty() || !chunk.problems.is_empty(),
            "no empty chunks"
        );
        out.max_capacity = out.max_capacity.max(chunk.data.capacity());
        for span in &chunk.records {
            let bytes = chunk.record(span);
            assert!(span.start < span.end && span.end <= chunk.data.len());
            assert!(!is_ws(*bytes.first().unwrap()), "trimmed at the start");
            assert!(!is_ws(*bytes.last().unwrap()), "trimmed at the end");
            out.records.push(Rec {
                text: String::from_utf8_lossy(bytes).into_owned(),
                line: span.line,
                index: span.index,
            });
        }
        out.problems.extend(chunk.problems.iter().cloned());
        out.chunks += 1;
    }
    assert!(reader.next().is_none(), "iteration stays ended");
    Ok(out)
}

pub(super) fn run_with(
    input: &[u8],
    chunk: usize,
    block: usize,
    max_record: usize,
) -> Result<Out, InputError> {
    run_reader(
        Box::new(Cursor::new(input.to_vec())),
        chunk,
        block,
        max_record,
    )
}

/// Default sizes.
pub(super) fn run(input: &[u8]) -> Out {
    run_with(input, 4 << 20, 1 << 20, 16 << 20).unwrap()
}

pub(super) fn rec(text: &str, line: u64, index: u64) -> Rec {
    Rec {
        text: text.to_string(),
        line,
        index,
    }
}

pub(super) fn problem(line: u64, index: Option<u64>, kind: ProblemKind) -> Problem {
    Problem { line, index, kind }
}

pub(super) fn malformed(why: &str) -> ProblemKind {
    ProblemKind::Malformed(why.to_string())
}

pub(super) fn truncated(why: &str) -> ProblemKind {
    ProblemKind::Truncated(why.to_string())
}
