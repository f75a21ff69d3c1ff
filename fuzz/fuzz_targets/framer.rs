//! The record framer (format sniffing, array scanner, NDJSON, concatenated objects,
//! gzip) on arbitrary bytes, through `ingest::open_reader`.
//!
//! Besides "no panic, no hang, no runaway allocation", it checks:
//! - every record span lies in its chunk, is trimmed, and is no longer than `max_record`;
//! - record indexes increase and never repeat (records and too-large problems share them);
//! - the result does not depend on the chunk size, the size of each read, or gzip:
//!   the same bytes framed with other settings (and gzip-compressed) give the same
//!   records, lines, indexes and problems (a corrupt gzip stream may keep more or
//!   fewer of the records before the damage: one list must be a prefix of the other);
//! - when serde_json accepts the input as one JSON array, the records are exactly its
//!   elements; when every non-blank line is a JSON object, they are exactly the lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logtriage::ingest::{open_reader, Format, IngestOptions, InputError, Problem, ProblemKind};
use serde_json::value::RawValue;
use std::io::{Cursor, Read, Write};

/// Hands out at most `step` bytes per read, so every scanner state meets a buffer edge.
struct Trickle {
    inner: Cursor<Vec<u8>>,
    step: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.step);
        self.inner.read(&mut buf[..n])
    }
}

#[derive(PartialEq)]
struct Framed {
    format: Format,
    /// (bytes, line, index)
    records: Vec<(Vec<u8>, u64, u64)>,
    problems: Vec<Problem>,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Frames `data`; `None` when it is refused (YAML, UTF-16, an archive not gzip).
fn frame(data: &[u8], chunk_size: usize, max_record: usize, step: usize) -> Option<Framed> {
    let opts = IngestOptions {
        chunk_size,
        max_record,
    };
    let input = Trickle {
        inner: Cursor::new(data.to_vec()),
        step,
    };
    let reader = match open_reader("fuzz", 0, input, &opts) {
        Ok(r) => r,
        Err(InputError::Yaml { display } | InputError::Unsupported { display, .. }) => {
            assert_eq!(display, "fuzz");
            return None;
        }
        Err(e) => panic!("unexpected open error: {e}"),
    };
    let mut out = Framed {
        format: reader.format(),
        records: Vec::new(),
        problems: Vec::new(),
    };
    let bound = chunk_size + 2 * max_record + (64 << 10) + (2 << 20);
    for (seq, chunk) in reader.enumerate() {
        assert_eq!(chunk.seq, seq as u64);
        assert_eq!(chunk.source, 0);
        assert!(
            !chunk.records.is_empty() || !chunk.problems.is_empty(),
            "empty chunk"
        );
        assert!(
            chunk.data.len() <= bound,
            "chunk of {} bytes",
            chunk.data.len()
        );
        for span in &chunk.records {
            assert!(
                span.start < span.end && span.end <= chunk.data.len(),
                "{span:?}"
            );
            let rec = chunk.record(span);
            assert!(
                !is_ws(rec[0]) && !is_ws(rec[rec.len() - 1]),
                "untrimmed record"
            );
            assert!(rec.len() <= max_record, "record over max_record");
            assert!(span.line >= 1);
            out.records.push((rec.to_vec(), span.line, span.index));
        }
        out.problems.extend(chunk.problems);
    }
    // Records keep stream order; an index is never used twice.
    for w in out.records.windows(2) {
        assert!(w[0].2 < w[1].2, "record indexes not increasing");
        assert!(w[0].1 <= w[1].1, "record lines going back");
    }
    let mut indexes: Vec<u64> = out.records.iter().map(|r| r.2).collect();
    indexes.extend(out.problems.iter().filter_map(|p| p.index));
    let n = indexes.len();
    indexes.sort_unstable();
    indexes.dedup();
    assert_eq!(indexes.len(), n, "an index was used twice");
    Some(out)
}

/// A short account of a framing, for failure messages.
impl std::fmt::Debug for Framed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}, {} records", self.format, self.records.len())?;
        for (bytes, line, index) in self.records.iter().take(8) {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]);
            write!(
                f,
                "\n  #{index} line {line}: {} bytes {text:?}",
                bytes.len()
            )?;
        }
        write!(
            f,
            "\n  problems: {:?}",
            &self.problems[..self.problems.len().min(8)]
        )
    }
}

/// True when the gzip stream was found corrupt: a decoder drops what it inflated in
/// the read that failed, so how much comes before the error depends on read sizes.
fn corrupt_gzip(f: &Option<Framed>) -> bool {
    f.as_ref().is_some_and(|f| {
        f.problems
            .iter()
            .any(|p| matches!(&p.kind, ProblemKind::Io(m) if m.contains("corrupt gzip")))
    })
}

/// The same framing, except that a corrupt gzip stream may keep more or fewer of the
/// records before its corruption (one list of records is a prefix of the other).
fn same(a: &Option<Framed>, b: &Option<Framed>, what: &str) {
    if corrupt_gzip(a) && corrupt_gzip(b) {
        let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
        let n = a.records.len().min(b.records.len());
        assert!(
            a.records[..n] == b.records[..n],
            "{what}: corrupt gzip:\n{a:?}\n--- versus\n{b:?}"
        );
        return;
    }
    assert!(a == b, "{what}:\n{a:?}\n--- versus\n{b:?}");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("gzip to memory");
    enc.finish().expect("gzip to memory")
}

/// serde_json's reading of the input as one array: each element's text.
fn array_elements(text: &str) -> Option<Vec<&str>> {
    let v: Vec<&RawValue> = serde_json::from_str(text).ok()?;
    Some(v.into_iter().map(RawValue::get).collect())
}

/// Each non-blank line, when every one is a JSON object: (text, line).
fn ndjson_lines(text: &str) -> Option<Vec<(&str, u64)>> {
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let t = line.trim_matches(|c: char| c.is_ascii() && is_ws(c as u8));
        if t.is_empty() {
            continue;
        }
        if !t.starts_with('{') || serde_json::from_str::<&RawValue>(t).is_err() {
            return None;
        }
        out.push((t, i as u64 + 1));
    }
    (!out.is_empty()).then_some(out)
}

/// True when serde_json reads the input as objects one after another.
fn object_stream(text: &str) -> bool {
    let mut n = 0;
    for v in serde_json::Deserializer::from_str(text).into_iter::<&RawValue>() {
        match v {
            Ok(raw) if raw.get().starts_with('{') => n += 1,
            _ => return false,
        }
    }
    n > 0
}

const BIG: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    // The same bytes, framed with different chunk and read sizes, frame alike.
    let whole = frame(data, 1 << 16, BIG, 1 << 20);
    // Tiny reads cost a pass each: on big inputs the reads are larger.
    let small_input = data.len() <= 2048;
    let (tiny, odd) = if small_input { (1, 13) } else { (61, 509) };
    for (chunk, step) in [(1, tiny), (97, odd)] {
        same(
            &frame(data, chunk, BIG, step),
            &whole,
            &format!("chunk {chunk}, step {step}"),
        );
    }
    // Small records: the too-large paths (skipping without buffering).
    let small = frame(data, 1 << 16, 24, 1 << 20);
    same(
        &frame(data, 5, 24, if small_input { 3 } else { 251 }),
        &small,
        "small records",
    );

    let gz_magic = data.starts_with(&[0x1f, 0x8b]);
    if !gz_magic {
        same(
            &frame(&gzip(data), 97, BIG, odd),
            &whole,
            "gzip changes framing",
        );
    }
    let Some(whole) = whole else { return };
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if gz_magic || text.starts_with('\u{feff}') {
        return;
    }
    if let Some(elements) = array_elements(text) {
        assert_eq!(whole.format, Format::Array);
        assert!(whole.problems.is_empty(), "{:?}", whole.problems);
        let got: Vec<&[u8]> = whole.records.iter().map(|r| r.0.as_slice()).collect();
        let want: Vec<&[u8]> = elements.iter().map(|e| e.as_bytes()).collect();
        assert_eq!(got, want, "array elements differ from serde_json's");
    } else if whole.format == Format::EntriesList {
        // Valid JSON frames without a problem, except what is not a LogEntry list:
        // `"entries"` that is no array, and an object (no response) with a nested `{`
        // at a line's start, which the objects framer takes for a new object.
        if object_stream(text) {
            for p in &whole.problems {
                assert!(
                    matches!(&p.kind, ProblemKind::Malformed(m)
                        if m.contains("is not an array") || m.contains("object not closed")),
                    "{:?}",
                    whole.problems
                );
            }
        }
    } else if let Some(lines) = ndjson_lines(text) {
        assert_eq!(whole.format, Format::Ndjson);
        assert!(whole.problems.is_empty(), "{:?}", whole.problems);
        let got: Vec<(&[u8], u64)> = whole
            .records
            .iter()
            .map(|r| (r.0.as_slice(), r.1))
            .collect();
        let want: Vec<(&[u8], u64)> = lines.iter().map(|(t, l)| (t.as_bytes(), *l)).collect();
        assert_eq!(got, want, "NDJSON lines differ");
    }
});
