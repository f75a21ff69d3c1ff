//! The entry normaliser: `Entry::parse` on arbitrary bytes (made UTF-8 the way the
//! pipeline does), then every accessor. Checks that nothing panics, that a parsed
//! entry is valid JSON, that parsing is deterministic, and that timestamps survive a
//! round trip through their RFC 3339 form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logtriage::entry::{lossy_text, Entry, Field, Timestamp, Value};
use std::sync::OnceLock;

const FIELD_NAMES: &[&str] = &[
    "message",
    "severity",
    "timestamp",
    "service",
    "revision",
    "location",
    "project",
    "resource.type",
    "resource.labels.service_name",
    "resource.labels.revision_name",
    "logName",
    "log_id",
    "insertId",
    "trace",
    "spanId",
    "labels.instanceId",
    "labels.run.googleapis.com/execution_name",
    "httpRequest.status",
    "httpRequest.latency",
    "httpRequest.requestUrl",
    "httpRequest.requestMethod",
    "textPayload",
    "jsonPayload.message",
    "jsonPayload.a",
    "jsonPayload.a.b",
    "jsonPayload.a.b.c",
    "jsonPayload.user_id",
    "jsonPayload.error.message",
    "protoPayload.status.message",
    "protoPayload.methodName",
    "protoPayload.authenticationInfo.principalEmail",
    "operation.id",
    "operation.last",
    "sourceLocation.file",
    "sourceLocation.line",
];

fn fields() -> &'static [Field] {
    static F: OnceLock<Vec<Field>> = OnceLock::new();
    F.get_or_init(|| {
        FIELD_NAMES
            .iter()
            .map(|n| Field::parse(n).expect("known field"))
            .collect()
    })
}

fn touch(v: &Value<'_>) {
    let text = v.as_text();
    let _ = v.as_f64();
    let _ = v.as_bool();
    if let Value::Num(n) = v {
        assert_eq!(text, *n);
    }
}

fn timestamp_round_trip(s: &str) {
    if let Some(t) = Timestamp::parse(s) {
        let shown = t.to_rfc3339();
        assert_eq!(
            Timestamp::parse(&shown),
            Some(t),
            "{s:?} -> {shown:?} does not read back"
        );
        let _ = t.secs();
    }
}

fuzz_target!(|data: &[u8]| {
    let mut buf = String::new();
    let text = lossy_text(data, &mut buf);
    timestamp_round_trip(text);
    let Ok(e) = Entry::parse(text) else { return };
    // What parses as a LogEntry is JSON. serde_json's tree refuses more: nesting past
    // 128 levels, lone UTF-16 surrogates (`"\ud800"`, `"\ud83d&"`), and numbers beyond
    // f64 (`401e3083`), which RFC 8259 allows syntactically. The entry keeps the first two
    // raw (such a string is not read as text) and reads the third as infinite.
    if let Err(err) = serde_json::from_str::<serde_json::Value>(text) {
        let why = err.to_string();
        assert!(
            why.contains("recursion limit")
                || why.contains("surrogate")
                || why.contains("end of hex escape")
                || why.contains("number out of range"),
            "accepted invalid JSON: {why}"
        );
    }
    for f in fields() {
        if let Some(v) = e.get(f) {
            touch(&v);
        }
        let _ = f.to_string();
    }
    for obj in [
        e.json_payload.as_ref(),
        e.proto_payload.as_ref(),
        e.http.as_ref(),
        Some(&e.labels),
        Some(&e.resource_labels),
    ]
    .into_iter()
    .flatten()
    {
        for (k, _) in obj.pairs() {
            if let Some(v) = obj.get(k) {
                touch(&v);
            }
            let _ = obj.path(&[k.to_string(), "x".to_string()]);
        }
    }
    let _ = e.log_id();
    let _ = e.http_status();
    let _ = e.http_latency();
    let _ = e.is_request();
    let _ = e.is_split_continuation();
    let _ = e.severity.name();
    let _ = e.severity.is_error();
    if let Some(t) = e.timestamp {
        timestamp_round_trip(&t.to_rfc3339());
    }
    if let Some(Value::Str(s)) = e.get(&Field::Json(vec!["timestamp".into()])) {
        timestamp_round_trip(&s);
    }
    // Deterministic: the same text gives the same key and view.
    let again = Entry::parse(text).expect("parses twice");
    assert_eq!(e.dedup_key(), again.dedup_key());
    assert_eq!(e.message, again.message);
    assert_eq!(e.timestamp, again.timestamp);
});
