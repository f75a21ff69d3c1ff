//! Logging API `entries.list` responses: the elements of `entries` are the records.

use super::*;
use serde_json::{json, Value};

/// Three small LogEntries, the last with an `entries` field and brackets in strings.
fn entries() -> Vec<Value> {
    vec![
        json!({"insertId": "a", "timestamp": "2025-09-11T15:00:00Z", "textPayload": "one"}),
        json!({"insertId": "b", "severity": "ERROR", "jsonPayload": {"message": "x}]{[\"", "entries": [1, 2]}}),
        json!({"insertId": "c", "labels": {"k": "v"}}),
    ]
}

fn pretty(v: &Value) -> String {
    // serde_json indents by 2 like the API.
    serde_json::to_string_pretty(v).unwrap()
}

/// The records, parsed.
fn values(out: &Out) -> Vec<Value> {
    out.records
        .iter()
        .map(|r| serde_json::from_str(&r.text).unwrap())
        .collect()
}

#[test]
fn a_pretty_response_frames_like_gcloud_array() {
    let page = json!({"entries": entries(), "nextPageToken": "EAE4gtS..."});
    let out = run(pretty(&page).as_bytes());
    assert_eq!(out.format, Format::EntriesList);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(values(&out), entries());
    // Same lines and indexes as gcloud's array of the same entries, one line further
    // down (the response's `{` and `"entries": [` against gcloud's `[`).
    let array = run(pretty(&Value::Array(entries())).as_bytes());
    assert_eq!(array.format, Format::Array);
    let lines =
        |o: &Out| -> Vec<(u64, u64)> { o.records.iter().map(|r| (r.line, r.index)).collect() };
    let shifted: Vec<(u64, u64)> = lines(&array).iter().map(|&(l, i)| (l + 1, i)).collect();
    assert_eq!(lines(&out), shifted);
}

#[test]
fn compact_token_first_and_unknown_members_are_skipped() {
    for page in [
        json!({"entries": entries(), "nextPageToken": "t"}).to_string(),
        format!(
            "{{\"nextPageToken\":\"t\",\"entries\":{}}}",
            Value::Array(entries())
        ),
        // Unknown members, before and after, holding what ends values elsewhere.
        format!(
            "{{\"nextPageToken\" : \"t,}}]\" , \"x\": {{\"entries\": [{{}}], \"y\": \"]}}\"}}, \"z\": [[1], {{}}],\n  \"entries\":{} ,\"n\":null, \"w\": -1.5e3 }}\n",
            Value::Array(entries())
        ),
    ] {
        let out = run(page.as_bytes());
        assert_eq!(out.format, Format::EntriesList, "{page}");
        assert!(out.problems.is_empty(), "{page}: {:?}", out.problems);
        assert_eq!(values(&out), entries(), "{page}");
        let idx: Vec<u64> = out.records.iter().map(|r| r.index).collect();
        assert_eq!(idx, [0, 1, 2]);
    }
}

#[test]
fn empty_responses_are_zero_entries() {
    for page in [
        &b"{\"entries\": []}"[..],
        b"{\n  \"entries\": [],\n  \"nextPageToken\": \"t\"\n}\n",
        b"{\"nextPageToken\": \"t\"}",
        b"{}\n{\"entries\":[]}\n{}\n",
        b"{}{ }{\"nextPageToken\":\"t\"}{}",
    ] {
        let out = run(page);
        assert_eq!(out.format, Format::EntriesList);
        assert!(out.records.is_empty() && out.problems.is_empty(), "{out:?}");
    }
    // A lone `{}` is an empty object as before: one record, which the entry stage reads
    // as an entry without a time, not a response that said "nothing".
    let out = run(b"{}\n");
    assert_eq!(out.format, Format::Ndjson);
    assert_eq!(out.texts(), ["{}"]);
}

#[test]
fn concatenated_responses_continue_the_index() {
    let e = entries();
    let mut text = pretty(&json!({"entries": e[..2], "nextPageToken": "p1"}));
    // No newline between, then compact on one line, then an empty page, then pretty.
    text.push_str(&json!({"nextPageToken": "p2", "entries": []}).to_string());
    text.push_str(&json!({"entries": e[2..]}).to_string());
    text.push_str("\n{}\n");
    text.push_str(&pretty(&json!({"entries": e})));
    text.push('\n');
    let out = run(text.as_bytes());
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let mut want = e.clone();
    want.extend(e.clone());
    assert_eq!(values(&out), want);
    let idx: Vec<u64> = out.records.iter().map(|r| r.index).collect();
    assert_eq!(idx, [0, 1, 2, 3, 4, 5]);
    for r in &out.records {
        let line = text.lines().nth(r.line as usize - 1).unwrap();
        assert!(
            line.contains(r.text.lines().next().unwrap()),
            "{r:?} on {line:?}"
        );
    }
}

#[test]
fn an_entry_that_is_no_response_is_a_record() {
    // An entry whose payload has `entries`, or which has `entries` not first, stays
    // one record, alone or among responses.
    // (By hand: `json!` sorts keys.)
    let text = "{\n  \"insertId\": \"z\",\n  \"jsonPayload\": {\"entries\": [{\"a\": 1}]},\n  \"entries\": [2]\n}";
    let entry: Value = serde_json::from_str(text).unwrap();
    let out = run(text.as_bytes());
    assert_eq!(out.format, Format::Objects);
    assert_eq!(values(&out), std::slice::from_ref(&entry));
    let text = format!(
        "{}\n{text}\n{}\n",
        json!({"entries": [entries()[0]]}),
        json!({"entries": [entries()[2]]})
    );
    let out = run(text.as_bytes());
    assert_eq!(out.format, Format::EntriesList);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(
        values(&out),
        [entries()[0].clone(), entry, entries()[2].clone()]
    );
}

#[test]
fn a_malformed_entry_costs_that_entry_only() {
    // Framing only: the entry stage names the bad JSON with its line and column.
    let text = "{\n  \"entries\": [\n    {\"insertId\": \"a\"},\n    {\"insertId\" \"b\"},\n    {\"insertId\": \"c\"}\n  ]\n}\n";
    let out = run(text.as_bytes());
    assert!(out.problems.is_empty());
    assert_eq!(
        out.records,
        [
            rec("{\"insertId\": \"a\"}", 3, 0),
            rec("{\"insertId\" \"b\"}", 4, 1),
            rec("{\"insertId\": \"c\"}", 5, 2)
        ]
    );
}

#[test]
fn an_entry_cut_inside_a_string_costs_that_entry_only() {
    let e = entries();
    let one = pretty(&json!({"entries": e, "nextPageToken": "p1"}));
    // A raw newline in the second entry's message.
    let at = one.find("x}]").unwrap();
    let cut = format!("{}\n{}", &one[..at], &one[at..]);
    for text in [cut.clone(), format!("{cut}\n{one}\n")] {
        let out = run(text.as_bytes());
        let line = 1 + text[..at].matches('\n').count() as u64;
        let first = text[..at].rfind("\n    {").unwrap();
        let record_line = 2 + text[..first].matches('\n').count() as u64;
        assert_eq!(
            out.problems,
            [problem(
                record_line,
                Some(1),
                malformed("string not closed before the end of its line")
            )],
            "cut on line {line}"
        );
        let got = values(&out);
        assert_eq!(got[..2], [e[0].clone(), e[2].clone()]);
        assert_eq!(got.len(), if text.len() > cut.len() { 5 } else { 2 });
    }
    // Compact, one response per line: the next line's response is read whole.
    let a = json!({"entries": e, "nextPageToken": "p1"}).to_string();
    let at = a.find("x}]").unwrap();
    let text = format!("{}\n{}\n{}\n", &a[..at], &a[at..], json!({"entries": e}));
    let out = run(text.as_bytes());
    assert_eq!(
        out.problems,
        [problem(
            1,
            Some(1),
            malformed("string not closed before the end of its line")
        )]
    );
    // The rest of the cut line is lost, as in a compact gcloud array.
    assert_eq!(values(&out)[..], [&e[..1], &e[..]].concat()[..]);
}

#[test]
fn a_truncated_response_keeps_what_came_before() {
    let text = pretty(&json!({"entries": entries(), "nextPageToken": "p1"}));
    // Cut inside the last entry, after the array, and in the token.
    let in_entry = text.find("\"labels\"").unwrap();
    let after_array = text.find("\"nextPageToken\"").unwrap();
    let in_token = after_array + 20;
    for (cut, records, why) in [
        (in_entry, 2, "array ended before its closing ]"),
        (
            after_array,
            3,
            "input ended before the entries.list response's closing }",
        ),
        (
            in_token,
            3,
            "input ended before the entries.list response's closing }",
        ),
        (
            text.len() - 1,
            3,
            "input ended before the entries.list response's closing }",
        ),
    ] {
        let out = run(&text.as_bytes()[..cut]);
        assert_eq!(out.records.len(), records, "cut at {cut}");
        assert_eq!(out.kinds(), [&truncated(why)], "cut at {cut}");
    }
}

#[test]
fn entries_that_are_no_array_and_garbage_are_reported() {
    // `entries` not first: only a response's first key must be `entries` or
    // `nextPageToken`.
    let text = "{\"nextPageToken\": \"t\", \"entries\": {\"insertId\": \"a\"}}\n\
                garbage\n\
                {\"entries\": [{\"insertId\": \"b\"}]}\n\
                {\"entries\": [{\"insertId\": \"c\"}]]}\n\
                {\"entries\": [{\"insertId\": \"d\"}]}\n";
    let out = run(text.as_bytes());
    assert_eq!(
        out.texts(),
        [
            "{\"insertId\": \"b\"}",
            "{\"insertId\": \"c\"}",
            "{\"insertId\": \"d\"}"
        ]
    );
    assert_eq!(
        out.problems,
        [
            problem(
                1,
                None,
                malformed("\"entries\" of an entries.list response is not an array")
            ),
            problem(
                2,
                None,
                malformed("unexpected text between entries.list responses")
            ),
            problem(
                4,
                None,
                malformed("unexpected ] in an entries.list response")
            ),
        ]
    );
}

#[test]
fn bom_and_gzip() {
    let page = json!({"entries": entries()}).to_string();
    let text = format!("\u{feff}{page}\r\n\u{feff}{page}\r\n");
    let out = run(text.as_bytes());
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(out.records.len(), 6);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
    let packed = run(&gz.finish().unwrap());
    assert!(packed.compressed);
    assert_eq!(packed.records, out.records);
}

#[test]
fn a_large_response_streams_in_bounded_memory() {
    let entry = json!({"insertId": "x", "severity": "ERROR", "textPayload": "boom {[]} \"q\""});
    let n = 100_000;
    let elements = vec![pretty(&entry).replace('\n', "\n    "); n].join(",\n    ");
    // A long token and an unknown member holding megabytes are skipped as they stream.
    let big = "y".repeat(8 << 20);
    let text = format!(
        "{{\n  \"entries\": [\n    {elements}\n  ],\n  \"x\": [\"{big}\", {{\"a\": \"{big}\"}}],\n  \"nextPageToken\": \"{big}\"\n}}\n"
    );
    let out = run_reader(
        Box::new(Cursor::new(text.into_bytes())),
        64 << 10,
        64 << 10,
        1 << 20,
    )
    .unwrap();
    assert_eq!(out.records.len(), n);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert!(out.max_capacity < 512 << 10, "{}", out.max_capacity);
}
