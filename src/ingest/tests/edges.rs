//! Limits and failures: too-large records, problem floods, read errors,
//! opening files, and the types' contracts.

use super::formats::GCLOUD;
use super::*;
use crate::ingest::{open, Origin, Source};
use std::io;

const NOT_OBJECT: &str = "not a JSON object";
const ARRAY_CUT: &str = "array ended before its closing ]";

#[test]
fn too_large_records_are_skipped_in_every_format() {
    let big = ProblemKind::TooLarge { bytes: 18 };
    let out = run_with(b"{\"a\":1}\n{\"b\":\"0123456789\"}\n{\"c\":3}\n", 64, 4, 10).unwrap();
    assert_eq!(
        out.records,
        [rec(r#"{"a":1}"#, 1, 0), rec(r#"{"c":3}"#, 3, 2)]
    );
    assert_eq!(out.problems, [problem(2, Some(1), big.clone())]);

    // Array elements count up to their delimiter.
    let input = b"[{\"a\":1},\n {\"b\":\"0123456789\"} ,{\"c\":3}]";
    let out = run_with(input, 64, 4, 10).unwrap();
    assert_eq!(
        out.records,
        [rec(r#"{"a":1}"#, 1, 0), rec(r#"{"c":3}"#, 2, 2)]
    );
    let kind = ProblemKind::TooLarge { bytes: 19 };
    assert_eq!(out.problems, [problem(2, Some(1), kind)]);

    let input = b"{\n\"a\":1}\n{\"b\":\"0123456789\"}{\"c\":3}";
    let out = run_with(input, 64, 4, 10).unwrap();
    assert_eq!(out.format, Format::Objects);
    assert_eq!(
        out.records,
        [rec("{\n\"a\":1}", 1, 0), rec(r#"{"c":3}"#, 3, 2)]
    );
    assert_eq!(out.problems, [problem(3, Some(1), big)]);
}

/// A 20 MB record streamed past a reader with small limits never lands in memory.
#[test]
fn back_to_back_objects_longer_than_a_record_keep_every_object() {
    // 300 objects with no newline between them (or CR line ends) make one "line"
    // far over max_record: the first object decides the framing, not that line.
    let one = |i: usize| {
        format!(
            r#"{{"insertId":"id{i}","textPayload":"{}"}}"#,
            "x".repeat(40)
        )
    };
    let joined: String = (0..300).map(one).collect();
    let with_cr: String = (0..300).map(|i| one(i) + "\r").collect();
    for input in [joined, with_cr] {
        let out = run_with(input.as_bytes(), 4096, 1024, 1024).unwrap();
        assert_eq!(out.format, Format::Objects);
        assert_eq!(out.records.len(), 300);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
    }
    // A first NDJSON line over max_record is still one too-large record, the rest read.
    let huge = format!(
        r#"{{"insertId":"id0","textPayload":"{}"}}"#,
        "x".repeat(2000)
    );
    let big = format!("{huge}\n{}\n", one(1));
    let out = run_with(big.as_bytes(), 4096, 1024, 1024).unwrap();
    assert_eq!(out.format, Format::Ndjson);
    assert_eq!(out.records.len(), 1);
}

#[test]
fn too_large_record_is_not_buffered() {
    const HUGE: u64 = 20 << 20;
    let cases: [(&str, &str, &str, Format); 3] = [
        (
            "{\"a\":1}\n{\"x\":\"",
            "\"}\n{\"b\":2}\n",
            "{\"a\":1}",
            Format::Ndjson,
        ),
        (
            "[{\"a\":1},\n{\"x\":\"",
            "\"},\n{\"b\":2}]",
            "{\"a\":1}",
            Format::Array,
        ),
        (
            "{\n\"a\":1}\n{\"x\":\"",
            "\"}\n{\"b\":2}",
            "{\n\"a\":1}",
            Format::Objects,
        ),
    ];
    for (head, tail, first, format) in cases {
        let input = io::Cursor::new(head.to_string())
            .chain(io::repeat(b'x').take(HUGE))
            .chain(io::Cursor::new(tail.to_string()));
        let out = run_reader(Box::new(input), 4 << 10, 64 << 10, 64 << 10).unwrap();
        assert_eq!(out.format, format);
        assert_eq!(out.texts(), [first, r#"{"b":2}"#]);
        assert_eq!(out.problems.len(), 1, "{format:?}");
        assert_eq!(out.problems[0].line, 1 + head.matches('\n').count() as u64);
        assert_eq!(out.problems[0].index, Some(1));
        assert!(matches!(out.problems[0].kind, ProblemKind::TooLarge { bytes } if bytes > HUGE));
        assert!(
            out.max_capacity < 1 << 20,
            "{format:?}: {}",
            out.max_capacity
        );
    }
}

#[test]
fn a_flood_of_problems_is_split_into_chunks() {
    let mut input = b"{}\n".to_vec();
    input.extend(b"x\n".repeat(5000));
    let out = run(&input);
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.problems.len(), 5000);
    assert!(out.chunks >= 2);
}

/// Yields some bytes, then fails.
struct Failing(Vec<u8>);

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.0.is_empty() {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0.drain(..n);
        Ok(n)
    }
}

#[test]
fn read_error_keeps_what_came_before_and_ends() {
    let input = Failing(b"{\"a\":1}\n{\"b\":2}\n{\"c\":".to_vec());
    let out = run_reader(Box::new(input), 64, 5, 1024).unwrap();
    assert_eq!(out.texts(), [r#"{"a":1}"#, r#"{"b":2}"#]);
    assert_eq!(
        out.problems,
        [problem(3, None, ProblemKind::Io("disk on fire".into()))]
    );
    assert_eq!(
        out.problems[0].to_string(),
        "line 3: read error: disk on fire"
    );
}

#[test]
fn open_reads_files_and_reports_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.txt");
    std::fs::write(&path, GCLOUD).unwrap();
    let sources = [Source {
        display: "export.txt".into(),
        origin: Origin::File(path),
        size: None,
    }];
    let mut reader = open(&sources, 0, &IngestOptions::default()).unwrap();
    assert_eq!(reader.format(), Format::Array);
    let chunks: Vec<_> = reader.by_ref().collect();
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].records.len(), 2);
    assert_eq!(reader.bytes_read(), GCLOUD.len() as u64);
    assert!(matches!(
        open(&sources, 1, &IngestOptions::default()),
        Err(InputError::UnknownSource { index: 1 })
    ));
    let missing = [Source {
        display: "gone.json".into(),
        origin: Origin::File(dir.path().join("gone.json")),
        size: None,
    }];
    assert!(matches!(
        open(&missing, 0, &IngestOptions::default()),
        Err(InputError::NotFound { .. })
    ));
}

#[test]
fn readers_and_chunks_can_cross_threads() {
    fn send<T: Send>() {}
    send::<ChunkReader>();
    send::<crate::ingest::Chunk>();
    send::<InputError>();
}

#[test]
fn problem_kinds_read_as_short_lowercase_reasons() {
    assert_eq!(
        ProblemKind::TooLarge { bytes: 20 }.to_string(),
        "record too large: 20 bytes, over the size limit"
    );
    assert_eq!(malformed(NOT_OBJECT).to_string(), NOT_OBJECT);
    assert_eq!(truncated(ARRAY_CUT).to_string(), ARRAY_CUT);
}

/// A long input of ordinary records: the buffer stays near chunk + block.
#[test]
fn memory_stays_bounded_on_long_inputs() {
    let line = "{\"severity\":\"ERROR\",\"textPayload\":\"boom {[]} \\\"quoted\\\"\"}";
    let lines = (16 << 20) / line.len();
    let ndjson = format!("{line}\n").repeat(lines);
    let array = format!("[{}{line}]", format!("{line},\n").repeat(lines - 1));
    for input in [ndjson, array] {
        let reader = io::Cursor::new(input.into_bytes());
        let out = run_reader(Box::new(reader), 64 << 10, 64 << 10, 1 << 20).unwrap();
        assert_eq!(out.records.len(), lines);
        assert!(out.problems.is_empty());
        assert!(out.max_capacity < 512 << 10, "{}", out.max_capacity);
    }
}
