//! Property tests (proptest) over generated exports, through the library:
//! - any chunk size and thread count gives the report a single-threaded read gives;
//! - the array scanner finds exactly the elements serde_json finds, whatever the
//!   whitespace, nesting, strings and read sizes;
//! - the same entries as a gcloud array, NDJSON (LF or BOM + CRLF), concatenated
//!   pretty objects, gzip and multi-member gzip give the same `stats` JSON.
//!
//! Case counts are modest so the suite stays fast; raise them with
//! `PROPTEST_CASES=1000 cargo test --test e2e prop::`.

use logtriage::analyze::{Analysis, Counts};
use logtriage::ingest::{open_reader, IngestOptions, Origin, Source};
use logtriage::pipeline::{scan, Progress, Scan, ScanOptions};
use logtriage::report::{self, InputFacts};
use logtriage::rules::{load, LoadOptions, RuleSet};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::io::{Cursor, Read, Write};
use std::path::Path;
use std::sync::OnceLock;

/// `cases` by default; `PROPTEST_CASES` overrides it for long runs.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(cases)
    }
}

fn rules() -> &'static RuleSet {
    static R: OnceLock<RuleSet> = OnceLock::new();
    R.get_or_init(|| load(&LoadOptions::default()).expect("default rules load"))
}

// ------------------------------------------------------------------ generators

/// Text with the characters that trouble scanners and escapers.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z ]{0,20}",
        2 => "[\\[\\]{},:\"\\\\/a-zA-Z0-9 \n\t\r\u{0}\u{1b}é━🚀\u{202e}]{0,30}",
        1 => prop::sample::select(vec![
            "CRITICAL_AUTH_FAILURE: 403 'Not authenticated' error detected! User: 'service:netra-backend'",
            "Invalid token or user not found",
            "SERVICE_SECRET not configured",
            "Container called exit(1).",
            "connection to server at \"10.0.0.5\", port 5432 failed: Connection refused",
            "Memory limit of 512 MiB exceeded with 530 MiB used.",
            "Traceback (most recent call last):\n  File \"/app/main.py\", line 3\nValueError: bad",
        ])
        .prop_map(String::from),
    ]
}

/// One LogEntry-shaped object: services, revisions, severities, times (some
/// missing or with offsets), payloads of every kind, request logs.
fn log_entry(i: usize) -> impl Strategy<Value = Value> {
    let service = prop::sample::select(vec!["api", "worker", "svc with space", "сервис-✓"]);
    let revision = 0u8..3;
    let severity = prop::sample::select(vec![
        "DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "error", "500", "",
    ]);
    let time = prop_oneof![
        6 => (0u32..7200, 0u32..1_000_000)
            .prop_map(|(s, us)| json!(format!("2025-09-15T{:02}:{:02}:{:02}.{us:06}Z", 10 + s / 3600, s / 60 % 60, s % 60))),
        1 => (0u32..7200).prop_map(|s| json!(format!("2025-09-15T{:02}:{:02}:{:02}+02:00", 12 + s / 3600, s / 60 % 60, s % 60))),
        1 => Just(Value::Null),
    ];
    let payload = prop_oneof![
        (text(), text()).prop_map(|(m, u)| json!({"jsonPayload": {"message": m, "user_id": u}})),
        text().prop_map(|m| json!({"textPayload": m})),
        (prop::sample::select(vec![200u16, 403, 404, 500, 503]), "[a-z/]{1,12}", 0u32..5000).prop_map(
            |(status, path, ms)| json!({"httpRequest": {
                "status": status, "requestMethod": "GET",
                "requestUrl": format!("https://api.example.com/{path}?id={ms}"),
                "latency": format!("{}.{:03}s", ms / 1000, ms % 1000)}})
        ),
        text().prop_map(|m| json!({"protoPayload": {"methodName": "google.cloud.run.v1.Services.ReplaceService", "status": {"message": m}}})),
    ];
    (service, revision, severity, time, payload, 0u8..4).prop_map(
        move |(svc, rev, sev, t, p, trace)| {
            let mut e = json!({
                "insertId": format!("e{i}"),
                "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
                "resource": {"type": "cloud_run_revision", "labels": {
                    "service_name": svc, "revision_name": format!("{svc}-0000{rev}-abc"),
                    "location": "us-central1", "project_id": "p"}},
                "severity": sev,
                "trace": format!("projects/p/traces/t{trace}"),
                "receiveTimestamp": "2025-09-15T12:00:00Z",
            });
            if !t.is_null() {
                e["timestamp"] = t;
            }
            if let (Some(o), Value::Object(extra)) = (e.as_object_mut(), p) {
                o.extend(extra);
            }
            e
        },
    )
}

/// An export: 1..max entries, some repeated verbatim (exports overlap).
fn export(max: usize) -> impl Strategy<Value = Vec<Value>> {
    (1..max)
        .prop_flat_map(|n| (0..n).map(log_entry).collect::<Vec<_>>())
        .prop_flat_map(|v| {
            let n = v.len();
            (Just(v), prop::collection::vec(0..n, 0..4))
        })
        .prop_map(|(mut v, dups)| {
            for d in dups {
                let copy = v[d].clone();
                v.push(copy);
            }
            v
        })
}

// ------------------------------------------------------------------ renderings

fn ndjson(v: &[Value]) -> Vec<u8> {
    let mut s = String::new();
    for e in v {
        s.push_str(&e.to_string());
        s.push('\n');
    }
    s.into_bytes()
}

fn array(v: &[Value]) -> Vec<u8> {
    serde_json::to_vec_pretty(&Value::Array(v.to_vec())).unwrap()
}

fn objects(v: &[Value]) -> Vec<u8> {
    let mut s = String::new();
    for e in v {
        s.push_str(&serde_json::to_string_pretty(e).unwrap());
        s.push('\n');
    }
    s.into_bytes()
}

fn bom_crlf(v: &[Value]) -> Vec<u8> {
    let mut s = String::from("\u{feff}");
    for e in v {
        s.push_str(&e.to_string());
        s.push_str("\r\n");
    }
    s.into_bytes()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Several gzip members back to back (`cat a.gz b.gz`), split at record ends.
fn multi_gzip(v: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in v.chunks(v.len().div_ceil(3).max(1)) {
        out.extend(gzip(&ndjson(part)));
    }
    out
}

// ------------------------------------------------------------------ running

fn source(path: &Path) -> Source {
    Source {
        display: path.display().to_string(),
        origin: Origin::File(path.to_path_buf()),
        size: std::fs::metadata(path).ok().map(|m| m.len()),
    }
}

fn options(threads: usize, chunk_size: usize) -> ScanOptions {
    let mut o = ScanOptions {
        threads,
        ..ScanOptions::default()
    };
    o.ingest.chunk_size = chunk_size;
    o
}

/// `report --format json` of the files, as the command builds it.
fn report_json(sources: &[Source], opts: &ScanOptions) -> String {
    let s: Scan<Analysis<'_>> = scan(sources, opts, &Progress::default(), || {
        Analysis::new(rules(), 60)
    });
    let facts = InputFacts {
        totals: &s.totals,
        files: sources.len(),
        bytes: sources.iter().filter_map(|s| s.size).sum(),
        unreadable: s.errors.len(),
    };
    let r = report::build(&s.sink, None, &facts);
    let mut out = Vec::new();
    report::write_json(&r, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// `stats --format json` of the files.
fn stats_json(sources: &[Source], opts: &ScanOptions) -> Value {
    let s: Scan<Counts> = scan(sources, opts, &Progress::default(), Counts::default);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    logtriage::commands::stats::to_json(&s.sink, &s.totals, &Default::default())
}

fn first_difference(a: &str, b: &str) -> String {
    let line = a
        .lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or(0);
    let around = |t: &str| {
        t.lines()
            .skip(line.saturating_sub(8))
            .take(12)
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "first difference at line {}:\n--- single-threaded:\n{}\n--- chunked:\n{}",
        line + 1,
        around(a),
        around(b)
    )
}

proptest! {
    #![proptest_config(config(24))]

    /// Chunks of any size and any thread count: the same report as one thread.
    #[test]
    fn report_does_not_depend_on_chunks_or_threads(
        entries in export(120),
        split in 0usize..3,
        chunk_size in prop_oneof![1usize..64, 64usize..4096, Just(4 << 20)],
        threads in 2usize..6,
        garbage in prop::collection::vec("[a-z{}\\[\\] ]{1,10}", 0..3),
    ) {
        let dir = tempfile::tempdir().unwrap();
        // The entries spread over up to three files, one of them NDJSON with junk lines.
        let parts: Vec<&[Value]> = entries.chunks(entries.len().div_ceil(split + 1)).collect();
        let mut sources = Vec::new();
        for (k, part) in parts.iter().enumerate() {
            let path = dir.path().join(format!("part{k}.json"));
            let mut bytes = match k % 3 { 0 => ndjson(part), 1 => array(part), _ => objects(part) };
            if k == 0 {
                for g in &garbage {
                    bytes.extend_from_slice(g.as_bytes());
                    bytes.push(b'\n');
                }
            }
            std::fs::write(&path, bytes).unwrap();
            sources.push(source(&path));
        }
        let want = report_json(&sources, &options(1, 4 << 20));
        let got = report_json(&sources, &options(threads, chunk_size));
        prop_assert!(want == got, "{}", first_difference(&want, &got));
    }

    /// The same entries in every format give the same stats.
    #[test]
    fn formats_round_trip_to_the_same_stats(entries in export(80), chunk_size in 1usize..2048) {
        let dir = tempfile::tempdir().unwrap();
        let renderings: Vec<(&str, Vec<u8>)> = vec![
            ("ndjson", ndjson(&entries)),
            ("array", array(&entries)),
            ("objects", objects(&entries)),
            ("bom-crlf", bom_crlf(&entries)),
            ("ndjson.gz", gzip(&ndjson(&entries))),
            ("array.gz", gzip(&array(&entries))),
            ("multi.gz", multi_gzip(&entries)),
        ];
        let mut first: Option<(&str, Value)> = None;
        for (name, bytes) in &renderings {
            let path = dir.path().join(format!("export.{name}"));
            std::fs::write(&path, bytes).unwrap();
            let got = stats_json(&[source(&path)], &options(2, chunk_size));
            match &first {
                None => first = Some((name, got)),
                Some((n0, want)) => prop_assert_eq!(want, &got, "{} vs {}", n0, name),
            }
        }
        let (_, v) = first.unwrap();
        let distinct = entries.iter().map(|e| e["insertId"].as_str().unwrap()).collect::<std::collections::HashSet<_>>().len();
        prop_assert_eq!(v["entries"].as_u64(), Some(distinct as u64));
        prop_assert_eq!(v["malformed"].as_u64(), Some(0));
    }
}

// ------------------------------------------------------------------ array scanner vs serde_json

/// Any JSON value, with strings full of brackets, commas, quotes and escapes.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        "[\\[\\]{},:\"\\\\/a-z \n\t\u{0}é🚀]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z\\[\\]{}\",]{0,6}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Renders a value with whitespace from `ws` between tokens (valid JSON either way).
fn render(v: &Value, ws: &mut impl FnMut() -> &'static str, out: &mut String) {
    match v {
        Value::Array(items) => {
            out.push('[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push_str(ws());
                    out.push(',');
                }
                out.push_str(ws());
                render(item, ws, out);
            }
            out.push_str(ws());
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (k, (key, item)) in map.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                out.push_str(ws());
                out.push_str(&Value::String(key.clone()).to_string());
                out.push_str(ws());
                out.push(':');
                out.push_str(ws());
                render(item, ws, out);
            }
            out.push_str(ws());
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Hands out at most `step` bytes per read.
struct Trickle(Cursor<Vec<u8>>, usize);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.1);
        self.0.read(&mut buf[..n])
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// The array framer agrees with serde_json on where every element starts and ends.
    #[test]
    fn array_scanner_agrees_with_serde_json(
        elements in prop::collection::vec(json_value(), 0..12),
        seed in any::<u64>(),
        chunk_size in 1usize..512,
        step in 1usize..300,
    ) {
        const WS: [&str; 7] = ["", "", " ", "\n", "\t", "\r\n", " \n  "];
        let mut x = seed | 1;
        let mut ws = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            WS[(x % WS.len() as u64) as usize]
        };
        let mut text = String::from(ws());
        text.push('[');
        let mut want = Vec::new();
        for (k, e) in elements.iter().enumerate() {
            if k > 0 {
                text.push_str(ws());
                text.push(',');
            }
            text.push_str(ws());
            let mut one = String::new();
            render(e, &mut ws, &mut one);
            text.push_str(&one);
            want.push(one);
        }
        text.push_str(ws());
        text.push(']');
        text.push_str(ws());
        // serde_json sees the same elements.
        let raw: Vec<&serde_json::value::RawValue> = serde_json::from_str(&text).unwrap();
        let serde: Vec<&str> = raw.iter().map(|r| r.get()).collect();
        prop_assert_eq!(&serde, &want);
        // And so does the framer, whatever the chunk and read sizes.
        let opts = IngestOptions { chunk_size, max_record: 1 << 20 };
        let reader = open_reader("prop", 0, Trickle(Cursor::new(text.clone().into_bytes()), step), &opts).unwrap();
        let mut got = Vec::new();
        for chunk in reader {
            prop_assert!(chunk.problems.is_empty(), "{:?} in {:?}", chunk.problems, text);
            for span in &chunk.records {
                got.push(String::from_utf8(chunk.record(span).to_vec()).unwrap());
            }
        }
        prop_assert_eq!(got, want, "in {:?}", text);
    }
}

/// Found by `report_does_not_depend_on_chunks_or_threads`: requests of one trace with
/// different statuses were joined with whichever status was read last, so the
/// finding's status mix depended on file order, chunking and threads.
#[test]
fn trace_join_does_not_depend_on_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let request = |id: &str, status: u16| {
        json!({"insertId": id, "trace": "projects/p/traces/shared",
               "logName": "projects/p/logs/run.googleapis.com%2Frequests",
               "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api", "revision_name": "api-00001-abc"}},
               "timestamp": "2025-09-15T10:00:01Z", "severity": "WARNING",
               "httpRequest": {"status": status, "requestMethod": "GET", "requestUrl": "/x"}})
    };
    let app = json!({"insertId": "app", "trace": "projects/p/traces/shared", "severity": "ERROR",
                     "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api", "revision_name": "api-00001-abc"}},
                     "timestamp": "2025-09-15T10:00:00Z",
                     "jsonPayload": {"message": "CRITICAL_AUTH_FAILURE: 403 'Not authenticated' error detected!"}});
    let a = dir.path().join("a.ndjson");
    let b = dir.path().join("b.ndjson");
    std::fs::write(&a, ndjson(&[app, request("r1", 403)])).unwrap();
    std::fs::write(&b, ndjson(&[request("r2", 404)])).unwrap();
    let opts = options(1, 4 << 20);
    let ab = report_json(&[source(&a), source(&b)], &opts);
    let ba = report_json(&[source(&b), source(&a)], &opts);
    assert!(ab == ba, "{}", first_difference(&ab, &ba));
    assert!(ab.contains("\"join\""), "{ab}");
}
