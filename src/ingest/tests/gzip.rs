//! Gzip by magic bytes: single and multi-member, cut and corrupt streams.

use super::*;
use crate::ingest::open_reader;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;

fn gz(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn ndjson(lines: usize) -> Vec<u8> {
    (0..lines)
        .map(|i| format!("{{\"i\":{i},\"pad\":\"{}\"}}\n", "p".repeat(i % 37)))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn single_member_is_decompressed_and_sniffed() {
    let plain = ndjson(200);
    let out = run(&gz(&plain));
    assert!(out.compressed);
    assert_eq!(out.format, Format::Ndjson);
    assert_eq!(out.records, run(&plain).records);
    assert!(out.problems.is_empty());

    let out = run(&gz(b"\xEF\xBB\xBF[\n  {\"a\": 1}\n]\n"));
    assert_eq!(out.format, Format::Array);
    assert_eq!(out.records, [rec(r#"{"a": 1}"#, 2, 0)]);
}

#[test]
fn multi_member_streams_are_read_whole() {
    let mut data = gz(b"{\"a\":1}\n{\"b\":");
    data.extend(gz(b"2}\n"));
    data.extend(gz(b""));
    data.extend(gz(b"{\"c\":3}\n"));
    let out = run_with(&data, 1, 7, 1024).unwrap();
    assert_eq!(
        out.records,
        [
            rec(r#"{"a":1}"#, 1, 0),
            rec(r#"{"b":2}"#, 2, 1),
            rec(r#"{"c":3}"#, 3, 2)
        ]
    );
    assert!(out.problems.is_empty());
}

#[test]
fn bytes_read_counts_compressed_bytes() {
    let data = gz(&ndjson(50));
    let len = data.len() as u64;
    let mut reader = open_reader("x.gz", 0, Cursor::new(data), &IngestOptions::default()).unwrap();
    assert!(reader.compressed());
    assert_eq!(reader.by_ref().map(|c| c.records.len()).sum::<usize>(), 50);
    assert_eq!(reader.bytes_read(), len);
}

#[test]
fn cut_before_the_trailer_keeps_every_record() {
    let full = gz(&ndjson(100));
    let out = run(&full[..full.len() - 4]);
    assert_eq!(out.records.len(), 100);
    assert_eq!(
        out.problems,
        [problem(
            101,
            None,
            truncated("truncated gzip stream: unexpected end of file")
        )]
    );
    assert_eq!(
        out.problems[0].kind.to_string(),
        "truncated gzip stream: unexpected end of file"
    );
}

/// Every cut keeps a prefix of the records and ends with one problem; nothing panics.
#[test]
fn every_cut_keeps_a_prefix() {
    let plain = ndjson(60);
    let full = gz(&plain);
    let all = run(&plain).records;
    for cut in 0..full.len() {
        let Ok(out) = run_with(&full[..cut], 97, 13, 1024) else {
            panic!("cut at {cut} refused");
        };
        assert!(all.starts_with(&out.records), "cut at {cut}");
        if cut >= 2 {
            assert!(out.compressed);
            assert_eq!(out.problems.len(), 1, "cut at {cut}: {:?}", out.problems);
            assert!(matches!(
                out.problems[0].kind,
                ProblemKind::Truncated(_) | ProblemKind::Io(_)
            ));
        }
    }
}

#[test]
fn corrupt_streams_become_problems_not_panics() {
    let plain = ndjson(60);
    let full = gz(&plain);
    let all = run(&plain).records;
    for at in 10..full.len() {
        let mut bad = full.clone();
        bad[at] ^= 0x55;
        let out = run_with(&bad, 64, 256, 1024).unwrap();
        if out.records != all {
            assert!(
                !out.problems.is_empty(),
                "corruption at {at} went unnoticed"
            );
        }
    }
    // Trailing garbage after the last member is reported.
    let mut trailing = full.clone();
    trailing.extend(b"this is not gzip at all\n");
    let out = run(&trailing);
    assert_eq!(out.records, all);
    assert_eq!(out.problems.len(), 1);
    assert_eq!(
        out.problems[0].kind.to_string(),
        "read error: corrupt gzip stream: invalid gzip header"
    );
}

#[test]
fn zero_padding_after_a_member_ends_the_stream_like_gzip() {
    // `gzip -t` accepts a member followed by zero bytes (tape blocks, preallocated
    // files); it was "corrupt gzip stream: invalid gzip header" and a cut input.
    let plain = ndjson(40);
    let all = run(&plain).records;
    for pad in [1, 7, 512, 300_000] {
        let mut padded = gz(&plain);
        padded.extend(vec![0u8; pad]);
        for (chunk, block) in [(4 << 20, 1 << 20), (97, 13)] {
            let out = run_with(&padded, chunk, block, 1024).unwrap();
            assert_eq!(out.records, all, "pad {pad}");
            assert!(out.problems.is_empty(), "pad {pad}: {:?}", out.problems);
        }
    }
    // Padding between members: the next member is read.
    let mut two = gz(b"{\"a\":1}\n");
    two.extend([0u8; 64]);
    two.extend(gz(b"{\"b\":2}\n"));
    let out = run(&two);
    assert_eq!(out.texts(), [r#"{"a":1}"#, r#"{"b":2}"#]);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    // Garbage after the padding is still an error.
    let mut bad = gz(&plain);
    bad.extend([0u8; 64]);
    bad.extend(b"garbage\n");
    let out = run(&bad);
    assert_eq!(out.records, all);
    assert_eq!(
        out.kinds()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["read error: corrupt gzip stream: invalid gzip header"]
    );
}
