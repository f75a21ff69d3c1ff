//! One test per format and edge case, with exact records, lines, indexes and problems.

use super::*;

const NOT_OBJECT: &str = "not a JSON object";
const AFTER_ARRAY: &str = "unexpected text after the closing ]";
const ARRAY_CUT: &str = "array ended before its closing ]";

#[test]
fn ndjson_blank_lines_crlf_spaces_and_non_objects() {
    let input = b"{\"a\":1}\n\n  {\"b\":2}  \r\n\r\n{\"c\":\"x\"}\r\n   \nnot json\n[1]\n{\"d\":4}";
    let out = run(input);
    assert_eq!(out.format, Format::Ndjson);
    assert!(!out.compressed);
    assert_eq!(
        out.records,
        [
            rec(r#"{"a":1}"#, 1, 0),
            rec(r#"{"b":2}"#, 3, 1),
            rec(r#"{"c":"x"}"#, 5, 2),
            rec(r#"{"d":4}"#, 9, 5),
        ]
    );
    assert_eq!(
        out.problems,
        [
            problem(7, Some(3), malformed(NOT_OBJECT)),
            problem(8, Some(4), malformed(NOT_OBJECT)),
        ]
    );
}

#[test]
fn ndjson_strings_with_brackets_quotes_and_escaped_newlines() {
    let line = r#"{"m":"a\nb \"q\" \\ {[}]","n":"\\"}"#;
    let out = run(format!("{line}\n{line}\n").as_bytes());
    assert_eq!(out.format, Format::Ndjson);
    assert_eq!(out.records, [rec(line, 1, 0), rec(line, 2, 1)]);
    assert!(out.problems.is_empty());
}

#[test]
fn anything_else_is_framed_as_ndjson_and_reported_per_line() {
    let out = run(b"hello\n{\"a\":1}\n");
    assert_eq!(out.format, Format::Ndjson);
    assert_eq!(out.records, [rec(r#"{"a":1}"#, 2, 1)]);
    assert_eq!(out.problems, [problem(1, Some(0), malformed(NOT_OBJECT))]);
}

#[test]
fn bom_is_skipped() {
    let out = run(b"\xEF\xBB\xBF{\"a\":1}\n{\"b\":2}\n");
    assert_eq!(out.format, Format::Ndjson);
    assert_eq!(out.texts(), [r#"{"a":1}"#, r#"{"b":2}"#]);
    assert_eq!(out.records[1].line, 2);
    let out = run(b"\xEF\xBB\xBF\n[{\"a\":1}]");
    assert_eq!(out.format, Format::Array);
    assert_eq!(out.records, [rec(r#"{"a":1}"#, 2, 0)]);
}

#[test]
fn empty_and_whitespace_only_yield_nothing() {
    for input in [
        &b""[..],
        b"\n \r\n\t  ",
        b"\xEF\xBB\xBF",
        b"\xEF\xBB\xBF\n\n",
    ] {
        let out = run(input);
        assert_eq!(out.format, Format::Empty);
        assert_eq!(out.chunks, 0);
    }
}

#[test]
fn yaml_is_refused_with_a_fix() {
    for input in [&b"---\ninsertId: abc\n"[..], b"insertId: abc\nlogName: x\n"] {
        match run_with(input, 64, 1, 1024) {
            Err(e @ InputError::Yaml { .. }) => assert_eq!(
                e.to_string(),
                "<test>: this looks like gcloud's default YAML output; rerun gcloud with --format=json"
            ),
            other => panic!("expected YAML refusal, got {other:?}"),
        }
    }
}

/// What `gcloud logging read --format=json` prints.
pub(super) const GCLOUD: &str = r#"[
  {
    "a": 1,
    "s": "x{[\"]}\\"
  },
  {
    "b": {
      "c": [1, 2]
    }
  }
]
"#;

#[test]
fn pretty_gcloud_array() {
    let out = run(GCLOUD.as_bytes());
    assert_eq!(out.format, Format::Array);
    assert_eq!(
        out.records,
        [
            rec("{\n    \"a\": 1,\n    \"s\": \"x{[\\\"]}\\\\\"\n  }", 2, 0),
            rec("{\n    \"b\": {\n      \"c\": [1, 2]\n    }\n  }", 6, 1),
        ]
    );
    assert!(out.problems.is_empty());
}

#[test]
fn compact_array_with_tricky_strings() {
    let out = run(br#"[{"a":1},{"b":"],[{"},{"c":"\\"},{}]"#);
    assert_eq!(
        out.texts(),
        [r#"{"a":1}"#, r#"{"b":"],[{"}"#, r#"{"c":"\\"}"#, "{}"]
    );
    assert_eq!(
        out.records.iter().map(|r| r.index).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert!(out.problems.is_empty());
}

#[test]
fn array_elements_that_are_not_objects_are_framed() {
    let out = run(br#"[1, "x" , null,{"a":1}, [2],, ]"#);
    assert_eq!(out.texts(), ["1", "\"x\"", "null", r#"{"a":1}"#, "[2]"]);
    assert!(out.problems.is_empty());
    for empty in [&b"[]"[..], b"[ \n ]\n", b"[]\n[]"] {
        let out = run(empty);
        assert_eq!(out.format, Format::Array);
        assert_eq!(out.chunks, 0);
    }
}

#[test]
fn truncated_array_keeps_complete_elements() {
    let out = run(b"[\n  {\"a\":1},\n  {\"b\":");
    assert_eq!(out.records, [rec(r#"{"a":1}"#, 2, 0)]);
    assert_eq!(out.problems, [problem(3, None, truncated(ARRAY_CUT))]);

    let out = run(b"[{\"a\":1},\n");
    assert_eq!(out.texts(), [r#"{"a":1}"#]);
    assert_eq!(out.problems, [problem(2, None, truncated(ARRAY_CUT))]);

    // The last element closed but `,` or `]` never came: keep it.
    let out = run(b"[{\"a\":1},\n {\"b\":2}\n");
    assert_eq!(
        out.records,
        [rec(r#"{"a":1}"#, 1, 0), rec(r#"{"b":2}"#, 2, 1)]
    );
    assert_eq!(out.problems, [problem(2, None, truncated(ARRAY_CUT))]);

    // A cut scalar is not kept.
    let out = run(b"[1, 23");
    assert_eq!(out.texts(), ["1"]);
    assert_eq!(out.kinds(), [&truncated(ARRAY_CUT)]);
}

#[test]
fn garbage_after_array_is_reported_then_next_array_framed() {
    let out = run(b"[{\"a\":1}]\nxyz [ \n[{\"b\":2}]\n");
    assert_eq!(
        out.records,
        [rec(r#"{"a":1}"#, 1, 0), rec(r#"{"b":2}"#, 3, 1)]
    );
    assert_eq!(out.problems, [problem(2, None, malformed(AFTER_ARRAY))]);
}

#[test]
fn objects_after_an_array_are_framed_not_dropped() {
    // NDJSON appended to a gcloud array, then pretty and back-to-back objects.
    let out = run(b"[{\"a\":1},\n{\"b\":2}]\n{\"c\":3}\n{\"d\":4}\n{\n  \"e\": 5\n}{\"f\":6}\n");
    assert_eq!(out.format, Format::Array);
    assert_eq!(
        out.texts(),
        [
            r#"{"a":1}"#,
            r#"{"b":2}"#,
            r#"{"c":3}"#,
            r#"{"d":4}"#,
            "{\n  \"e\": 5\n}",
            r#"{"f":6}"#
        ]
    );
    assert_eq!(out.records[2].line, 3);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    // An empty array, then NDJSON.
    let out = run(b"[]\n{\"a\":1}\n{\"b\":2}\n");
    assert_eq!(out.texts(), [r#"{"a":1}"#, r#"{"b":2}"#]);
}

/// A gcloud pretty array of `n` entries whose element `cut` has a line cut short
/// inside a string; each element holds a nested array of objects (a `{` starting a
/// line deeper inside, as in audit logs' `authorizationInfo`).
fn pretty_array_with_a_cut(n: usize, cut: usize) -> (Vec<u8>, u64) {
    let mut s = String::from("[\n");
    let mut cut_line = 0;
    for k in 0..n {
        if k == cut {
            cut_line = s.matches('\n').count() as u64 + 1;
        }
        s.push_str("  {\n    \"authorizationInfo\": [\n      {\n        \"granted\": true\n      }\n    ],\n");
        if k == cut {
            s.push_str("    \"textPayload\": \"cut here},\n");
        } else {
            s.push_str(&format!(
                "    \"textPayload\": \"line {k} {}\",\n",
                "x".repeat(40)
            ));
        }
        s.push_str(&format!("    \"insertId\": \"id-{k}\"\n  }}"));
        s.push_str(if k + 1 < n { ",\n" } else { "\n]\n" });
    }
    (s.into_bytes(), cut_line)
}

#[test]
fn an_element_cut_inside_a_string_costs_that_element_only() {
    // Before, the rest of the input read as the inside of the cut string and was
    // lost as "array ended before its closing ]". The 4 KiB record limit makes the
    // cut element's rest be skipped, not buffered.
    let sizes = [
        (4 << 20, 1 << 20, 16 << 20),
        (4 << 20, 256 << 10, 16 << 20),
        (300, 64, 16 << 20),
        (7, 3, 16 << 20),
        (4 << 20, 1 << 20, 4096),
        (300, 64 << 10, 4096),
    ];
    for (n, cut) in [(4, 1), (4, 3), (60, 2), (60, 30), (300, 0), (300, 299)] {
        let (input, cut_line) = pretty_array_with_a_cut(n, cut);
        for (chunk, block, max) in sizes {
            let out = run_with(&input, chunk, block, max).unwrap();
            let ctx = format!("n {n}, cut {cut}, chunk {chunk}, block {block}, max {max}");
            let want: Vec<String> = (0..n)
                .filter(|&k| k != cut)
                .map(|k| format!("\"id-{k}\""))
                .collect();
            let texts = out.texts();
            assert_eq!(texts.len(), n - 1, "{ctx}");
            for (t, id) in texts.iter().zip(&want) {
                assert!(t.contains(id.as_str()), "{ctx}: {id} in {t}");
                assert!(t.starts_with("{\n    \"authorizationInfo\""), "{ctx}: {t}");
            }
            let why = "string not closed before the end of its line";
            let index = Some(cut as u64);
            assert_eq!(
                out.problems,
                [problem(cut_line, index, malformed(why))],
                "{ctx}"
            );
            let after = out.records.iter().find(|r| r.index == cut as u64 + 1);
            assert!(cut + 1 == n || after.is_some(), "{ctx}: indexes go on");
        }
    }
    // Two cut elements in a row after 70 KB of junk (compacted away, with the line
    // start before the second element): the same for every read size.
    let mut two = String::from("[\n");
    for k in 0..6 {
        two.push_str("  {\n    \"a\": [\n      {\n        \"g\": 1\n      }\n    ],\n");
        match k {
            1 => two.push_str(&format!("    \"t\": \"{}\n", "x".repeat(70_000))),
            2 => two.push_str("    \"t\": \"cut\n"),
            _ => two.push_str(&format!("    \"i\": \"id-{k}\"\n")),
        }
        two.push_str(if k < 5 { "  },\n" } else { "  }\n]\n" });
    }
    let want = run(two.as_bytes()).texts().len();
    assert_eq!(want, 4);
    for block in [1 << 20, 65_536, 70_001, 70_100, 4096, 1000] {
        let out = run_with(two.as_bytes(), 4 << 20, block, 16 << 20).unwrap();
        assert_eq!(out.texts().len(), want, "block {block}");
    }
    // Elements not indented at all: the array's `]` at their column still ends it,
    // and a second array after it is read.
    let flat =
        b"[\n{\n\"i\": \"1\",\n\"t\": \"cut\n},\n{\n\"i\": \"2\"\n}\n]\n[\n{\n\"i\": \"3\"\n}\n]\n";
    let out = run(flat);
    assert_eq!(out.texts().len(), 2, "{:?}", out.texts());
    assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
    // The first element on the `[` line, cut: resume at gcloud's indentation, not at
    // a nested object deeper in.
    let inline = b"[  {\n    \"t\": \"cut\n    \"a\": [\n      {\n        \"g\": 1\n      }\n    ]\n  },\n  {\n    \"i\": \"2\"\n  }\n]\n";
    let out = run(inline);
    assert_eq!(out.texts().len(), 1, "{:?}", out.texts());
    assert!(out.texts()[0].contains("\"i\": \"2\""), "{:?}", out.texts());
    // A compact array has no line to resume at: the cut element still ends it.
    let out = run(b"[{\"a\":\"x},{\"b\":1}]");
    assert!(out.records.is_empty());
    assert_eq!(out.problems.len(), 1);
}

#[test]
fn arrays_back_to_back_continue_the_index() {
    let out = run(b"[{\"a\":1}][{\"b\":2}]\n[\n  {\"c\":3}\n]\n");
    assert_eq!(
        out.records,
        [
            rec(r#"{"a":1}"#, 1, 0),
            rec(r#"{"b":2}"#, 1, 1),
            rec(r#"{"c":3}"#, 3, 2)
        ]
    );
    let twice = format!("{GCLOUD}{GCLOUD}");
    let out = run(twice.as_bytes());
    assert_eq!(out.records.len(), 4);
    assert_eq!(out.records[2].line, 13);
    assert!(out.problems.is_empty());
}

#[test]
fn concatenated_pretty_objects() {
    let input = b"{\n  \"a\": 1\n}\n\n{\n  \"b\": \"}{\"\n},\n{\"c\": 3} {\"d\": 4}\n";
    let out = run(input);
    assert_eq!(out.format, Format::Objects);
    assert_eq!(
        out.records,
        [
            rec("{\n  \"a\": 1\n}", 1, 0),
            rec("{\n  \"b\": \"}{\"\n}", 5, 1),
            rec(r#"{"c": 3}"#, 8, 2),
            rec(r#"{"d": 4}"#, 8, 3),
        ]
    );
    assert!(out.problems.is_empty());
}

#[test]
fn garbage_between_objects_resyncs_at_a_line_starting_with_brace() {
    let input = b"{\n\"a\":1\n}\nxx yy\n  {\"not\":\"resync\"}\n{\"c\":3}\n";
    let out = run(input);
    assert_eq!(
        out.records,
        [rec("{\n\"a\":1\n}", 1, 0), rec(r#"{"c":3}"#, 6, 1)]
    );
    assert_eq!(
        out.problems,
        [problem(
            4,
            None,
            malformed("unexpected text between objects")
        )]
    );
}

#[test]
fn unclosed_object_is_reported_and_the_next_one_kept() {
    let out = run(b"{\n  \"a\": 1\n{\n  \"b\": 2\n}\n");
    assert_eq!(out.records, [rec("{\n  \"b\": 2\n}", 3, 0)]);
    assert_eq!(
        out.problems,
        [problem(
            1,
            None,
            malformed("object not closed before the next one starts")
        )]
    );
    let out = run(b"{\n \"a\": 1\n}\n{\n \"b\": ");
    assert_eq!(out.texts(), ["{\n \"a\": 1\n}"]);
    assert_eq!(
        out.problems,
        [problem(
            4,
            None,
            truncated("input ended before the object's closing }")
        )]
    );
}

#[test]
fn a_first_line_cut_inside_a_string_costs_that_line_only() {
    // Before, the first object ran on into the rest of the file (the quote parity
    // flipped), so the file read as objects and ended as one unclosed object: 0 entries.
    for first in [
        r#"{"insertId":"w1","jsonPayload":{"message":"cannot open C:\temp\"}}"#,
        r#"{"message":"unterminated"#,
        r#"{"k":"v\"#,
    ] {
        let mut input = format!("{first}\n");
        for k in 0..50 {
            input.push_str(&format!("{{\"insertId\":\"id-{k}\",\"m\":\"x {{\"}}\n"));
        }
        for (chunk, block) in [(4 << 20, 1 << 20), (64, 7), (9, 3)] {
            let out = run_with(input.as_bytes(), chunk, block, 16 << 20).unwrap();
            let ctx = format!("{first} chunk {chunk} block {block}");
            assert_eq!(out.format, Format::Ndjson, "{ctx}");
            // The bad line is a record of its own, which the entry stage rejects.
            assert_eq!(out.records.len(), 51, "{ctx}");
            assert_eq!(out.records[0], rec(first, 1, 0), "{ctx}");
            assert_eq!(out.records[1].line, 2, "{ctx}");
            assert!(out.problems.is_empty(), "{ctx}: {:?}", out.problems);
        }
    }
    // Pretty objects: the cut one is reported, framing resumes at the next line that
    // starts with `{`.
    let cut = "string not closed before the end of its line";
    let pretty =
        b"{\n  \"a\": \"C:\\temp\\\"\n}\n{\n  \"b\": \"cut\n  \"c\": 1\n}\n{\n  \"d\": 2\n}\n";
    let out = run(pretty);
    assert_eq!(out.format, Format::Objects);
    assert_eq!(out.records, [rec("{\n  \"d\": 2\n}", 8, 2)]);
    assert_eq!(
        out.problems,
        [
            problem(1, Some(0), malformed(cut)),
            problem(4, Some(1), malformed(cut))
        ]
    );
    // A cut first line followed by its own rest: objects, resumed at the next `{` line.
    let out = run(b"{\"m\": \"two\nlines\"}\n{\"n\": 1}\n");
    assert_eq!(out.format, Format::Objects);
    assert_eq!(out.records, [rec("{\"n\": 1}", 3, 1)]);
    assert_eq!(out.problems, [problem(1, Some(0), malformed(cut))]);
}

#[test]
fn a_bom_at_the_start_of_a_later_record_is_skipped() {
    // Windows-saved files joined with `cat`, or gzip members each with its BOM: the
    // record after each join was "not a JSON object" (or, between arrays, the rest of
    // the second array was skipped as text after the closing `]`).
    let out = run(b"\xEF\xBB\xBF{\"a\":1}\r\n{\"b\":2}\r\n\xEF\xBB\xBF{\"c\":3}\r\n\xEF\xBB\xBF\r\n{\"d\":4}\n");
    assert_eq!(out.format, Format::Ndjson);
    assert_eq!(
        out.records,
        [
            rec(r#"{"a":1}"#, 1, 0),
            rec(r#"{"b":2}"#, 2, 1),
            rec(r#"{"c":3}"#, 3, 2),
            rec(r#"{"d":4}"#, 5, 3)
        ]
    );
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let out = run(b"{\n  \"a\": 1\n}\n\xEF\xBB\xBF{\n  \"b\": 2\n}\n");
    assert_eq!(out.format, Format::Objects);
    assert_eq!(out.texts(), ["{\n  \"a\": 1\n}", "{\n  \"b\": 2\n}"]);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let arrays = format!("{GCLOUD}\u{feff}{GCLOUD}");
    let out = run(arrays.as_bytes());
    assert_eq!(out.records.len(), 4);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    // Half a BOM at the end is still text that is not a record.
    for (input, line, why) in [
        (
            &b"{\n\"a\":1\n}\n\xEF\xBB"[..],
            4,
            "unexpected text between objects",
        ),
        (b"[{\"a\":1}]\n\xEF", 2, AFTER_ARRAY),
    ] {
        for block in [1, 2, 1 << 20] {
            let out = run_with(input, 4 << 20, block, 1 << 20).unwrap();
            assert_eq!(out.texts().len(), 1, "block {block}");
            let want = [problem(line, None, malformed(why))];
            assert_eq!(out.problems, want, "block {block}");
        }
    }
}
