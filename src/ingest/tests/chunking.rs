//! The framing result must not depend on chunk size or read block size.

use super::*;
use flate2::write::GzEncoder;
use flate2::Compression;
use proptest::prelude::*;
use std::io::Write;

/// Inputs covering every format and every problem kind.
const CORPUS: &[&[u8]] = &[
    b"{\"a\":1}\n\n  {\"b\":2}  \r\n\r\n{\"c\":\"x\"}\r\n   \nnot json\n[1]\n{\"d\":4}",
    b"{\"m\":\"a\\nb \\\"q\\\" \\\\ {[}]\",\"n\":\"\\\\\"}\n{\"o\":[{\"p\":\"]\"}]}\n",
    b"\xEF\xBB\xBF{\"a\":1}\n{\"b\":2}\n",
    b"[\n  {\n    \"a\": 1,\n    \"s\": \"x{[\\\"]}\\\\\"\n  },\n  {\n    \"b\": {\n      \"c\": [1, 2]\n    }\n  }\n]\n",
    b"[{\"a\":1},{\"b\":\"],[{\"},{\"c\":\"\\\\\"},{}]",
    b"[1, \"x\" , null,{\"a\":1}, [2],, ]",
    b"[\n  {\"a\":1},\n  {\"b\":",
    b"[{\"a\":1},\n {\"b\":2}\n",
    b"[{\"a\":1}]\nxyz [ \n[{\"b\":2}]\n",
    b"[{\"a\":1}][{\"b\":2}]\n[\n  {\"c\":3}\n]\n",
    b"{\n  \"a\": 1\n}\n\n{\n  \"b\": \"}{\"\n},\n{\"c\": 3} {\"d\": 4}\n",
    b"{\n\"a\":1\n}\nxx yy\n  {\"not\":\"resync\"}\n{\"c\":3}\n",
    b"{\n  \"a\": 1\n{\n  \"b\": 2\n}\n",
    b"{\n \"a\": 1\n}\n{\n \"b\": ",
    b"{\"a\":1}\n{\"b\":\"0123456789abcdefghij\"}\n{\"c\":3}\n",
    b"[{\"a\":1},\n {\"b\":\"0123456789abcdefghij\"} ,{\"c\":3}]",
    b"{\n\"a\":1}\n{\"b\":\"0123456789abcdefghij\"}{\"c\":3}",
    b"{\"m\":\"C:\\temp\\\"}}\n{\"a\":1}\n{\"b\":\"x\n{\"c\":3}\n",
    b"{\"m\":\"v\\\n  \"x\": 1\n}\n{\n \"b\": \"cut\n}\n{\"c\":3}\n",
    b"{\"a\":1}\r\n\xEF\xBB\xBF{\"b\":2}\r\n\xEF\xBB\xBF\n\xEF\xBBx\n",
    b"[{\"a\":1}]\r\n\xEF\xBB\xBF[{\"b\":2}]\r\n\xEF\xBB",
    b"{\n\"a\":1\n}\n\xEF\xBB\xBF{\"b\":2}\xEF\xBB\xBF {\"c\":3}\xEF",
    b"",
    b" \n\t\r\n",
    b"insertId: abc\n",
    // entries.list responses: pretty, compact, token first, `{}`, unknown members,
    // a record among them, garbage, a cut string, a cut response.
    b"{\n  \"entries\": [\n    {\n      \"a\": \"]},\"\n    },\n    {\"b\": [1]}\n  ],\n  \"nextPageToken\": \"t\"\n}\n{}{\"nextPageToken\":\"u\",\"x\":{\"entries\":[{}]},\"entries\":[{\"c\":3}]}\n",
    b"{}\n{\"entries\":[{\"a\":1},{\"b\":\"0123456789abcdefghij\"}]}\n{\"insertId\":\"x\"}\nxx\n{\"entries\":[{\"c\":\"cut\n,{\"d\":4}]}\n{\"entries\":[{\"e\":5}]]}\n",
    b"{\n  \"entries\": [\n    {\"a\": \"cut\n    },\n    {\"b\": 2}\n  ]\n}\n\xEF\xBB\xBF{\"entries\": [{\"c\": 3}], \"nextPageToken\": \"t",
];

/// Records and problems, the part that must not change.
fn result(out: Result<Out, InputError>) -> Option<(Format, Vec<Rec>, Vec<Problem>)> {
    out.ok().map(|o| (o.format, o.records, o.problems))
}

fn reference(input: &[u8], max_record: usize) -> Option<(Format, Vec<Rec>, Vec<Problem>)> {
    result(run_with(input, 1 << 20, 1 << 20, max_record))
}

#[test]
fn same_result_for_every_chunk_and_block_size() {
    for input in CORPUS {
        for max_record in [1 << 20, 9, 17] {
            let want = reference(input, max_record);
            for chunk in 1..=64 {
                for block in [1, 2, 3, 5, 8, 13, 64, 4096] {
                    let got = result(run_with(input, chunk, block, max_record));
                    assert_eq!(
                        got,
                        want,
                        "chunk {chunk} block {block} max {max_record} input {:?}",
                        String::from_utf8_lossy(input)
                    );
                }
            }
        }
    }
}

#[test]
fn small_chunks_hold_about_chunk_size_bytes() {
    let input: Vec<u8> = (0..100)
        .flat_map(|i| format!("{{\"i\":{i:03}}}\n").into_bytes())
        .collect();
    // 9-byte records, 20-byte target: three records per chunk, the last one shorter.
    let mut reader =
        ChunkReader::new("<test>", 0, Box::new(Cursor::new(input)), &opts(20, 64), 7).unwrap();
    let sizes: Vec<usize> = reader.by_ref().map(|c| c.records.len()).collect();
    assert_eq!(sizes.len(), 34);
    assert!(sizes[..33].iter().all(|&n| n == 3));
    assert_eq!(sizes[33], 1);
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Pieces that exercise the scanners' states when glued at random.
const PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    "\\",
    ",",
    ":",
    "\n",
    "\r\n",
    " ",
    "  ",
    "x",
    "1",
    "{}",
    "[]",
    "{\"a\":1}",
    "{\"s\":\"}{][\\\"\\\\\"}",
    "\"k\"",
    "\n{",
    "\n[",
    "---",
    "ab: c",
    "\u{feff}",
    "{\"n\":{\"m\":[1,{\"o\":\"p\"}]}}",
    "{\"entries\":[",
    "\"entries\"",
    "\"nextPageToken\":\"t\"",
];

fn document() -> impl Strategy<Value = Vec<u8>> {
    let prefix = prop::sample::select(vec![
        "",
        "[",
        "[\n  ",
        "{\n",
        "{}\n",
        "\u{feff}",
        " \n",
        "{\"entries\":[",
        "{\n  \"entries\": [\n    ",
        "{}{\"nextPageToken\":\"t\",\"entries\":[",
    ]);
    let body = prop::collection::vec(prop::sample::select(PIECES), 0..60);
    (prefix, body).prop_map(|(p, b)| format!("{p}{}", b.concat()).into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn framing_is_independent_of_sizes(
        doc in document(),
        chunk in 1usize..64,
        block in 1usize..64,
        max_record in prop::sample::select(vec![3usize, 8, 20, 1 << 20]),
    ) {
        let want = reference(&doc, max_record);
        prop_assert_eq!(result(run_with(&doc, chunk, block, max_record)), want.clone());
        // Each record's text sits on its reported line (a BOM does not move lines).
        for r in want.map(|w| w.1).unwrap_or_default() {
            let text = String::from_utf8_lossy(&doc).into_owned();
            let on_line = text.match_indices(&r.text).any(|(at, _)| {
                1 + text[..at].matches('\n').count() as u64 == r.line
            });
            prop_assert!(on_line, "{:?} not on line {}", r.text, r.line);
        }
    }

    #[test]
    fn gzip_gives_the_same_result(doc in document(), block in 1usize..64) {
        let plain = reference(&doc, 1 << 20);
        let packed = result(run_with(&gz(&doc), 16, block, 1 << 20));
        prop_assert_eq!(packed, plain);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        chunk in 1usize..64,
        block in 1usize..64,
    ) {
        let want = reference(&bytes, 32);
        prop_assert_eq!(result(run_with(&bytes, chunk, block, 32)), want);
    }
}

/// Reads `input` taking buffers from a pool and handing every chunk's bytes back
/// as soon as its records are copied out, as the pipeline does.
fn run_pooled(
    input: &[u8],
    chunk: usize,
    block: usize,
    max_record: usize,
) -> Option<(Format, Vec<Rec>, Vec<Problem>)> {
    use crate::ingest::BufferPool;
    use std::sync::Arc;
    let o = opts(chunk, max_record);
    let pool = Arc::new(BufferPool::new(&o));
    // Stale bytes in every recycled buffer: none may show up in a record.
    for _ in 0..4 {
        pool.put(vec![b'#'; chunk + block + 100]);
    }
    let mut reader = ChunkReader::new_pooled(
        "<test>",
        0,
        Box::new(Cursor::new(input.to_vec())),
        &o,
        block,
        Some(Arc::clone(&pool)),
    )
    .ok()?;
    let mut out = Out {
        format: reader.format(),
        compressed: reader.compressed(),
        records: Vec::new(),
        problems: Vec::new(),
        chunks: 0,
        max_capacity: 0,
    };
    for chunk in reader.by_ref() {
        for span in &chunk.records {
            out.records.push(Rec {
                text: String::from_utf8_lossy(chunk.record(span)).into_owned(),
                line: span.line,
                index: span.index,
            });
        }
        out.problems.extend(chunk.problems.iter().cloned());
        out.chunks += 1;
        pool.put(chunk.data);
    }
    drop(reader);
    assert!(pool.take(1).is_some(), "the reader's last buffer went back");
    Some((out.format, out.records, out.problems))
}

#[test]
fn recycled_buffers_give_the_same_records() {
    for input in CORPUS {
        let want = reference(input, 1 << 20);
        for (chunk, block) in [(1, 1), (7, 3), (20, 64), (64 << 10, 1 << 10)] {
            let got = run_pooled(input, chunk, block, 1 << 20);
            assert_eq!(
                got,
                want,
                "chunk {chunk}, block {block}: {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }
}

#[test]
fn a_chunk_reads_little_past_its_end() {
    // 1 KiB records, 1 MiB chunks, 256 KiB blocks: reading whole blocks, the reader
    // had read most of a block past each chunk's end, which was copied into the next
    // buffer.
    let mut input = Vec::new();
    let pad = "x".repeat(1000);
    for i in 0..4000 {
        input.extend_from_slice(format!("{{\"i\":{i:05},\"p\":\"{pad}\"}}\n").as_bytes());
    }
    let opts = IngestOptions {
        chunk_size: 1 << 20,
        max_record: 1 << 20,
    };
    let mut r = ChunkReader::new(
        "t",
        0,
        Box::new(Cursor::new(input.clone())),
        &opts,
        256 << 10,
    )
    .unwrap();
    let mut ends = 0u64;
    let mut chunks = 0;
    while let Some(c) = r.next() {
        ends += c.records.last().map_or(0, |s| s.end as u64 + 1);
        if (ends as usize) < input.len() {
            let past = r.bytes_read() - ends;
            assert!(
                past <= 17 << 10,
                "chunk {chunks}: read {past} bytes past its end"
            );
        }
        chunks += 1;
    }
    assert!(chunks >= 3, "{chunks} chunks");
    assert_eq!(ends as usize, input.len(), "every record framed once");
}
