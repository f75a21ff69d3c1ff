//! Every export shape gives the same stats; bad input is counted, not fatal.

use crate::util::*;
use serde_json::Value;

/// `stats --format json` of the inputs.
fn stats_full(args: &[&std::path::Path]) -> Value {
    let mut r = lt(["stats", "--format", "json"]);
    for a in args {
        r = r.arg(a);
    }
    r.json()
}

/// Stats of the entries: `files` and `bytes` describe the input's shape, so they go.
fn entries_of(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        assert!(
            o.remove("files").is_some_and(|f| f.as_u64() >= Some(1)),
            "{o:?}"
        );
        assert!(o.remove("bytes").is_some_and(|b| b.is_u64()), "{o:?}");
    }
    v
}

fn stats(args: &[&std::path::Path]) -> Value {
    entries_of(stats_full(args))
}

#[test]
fn same_entries_same_stats_in_every_shape() {
    let want = stats(&[&fixture("kinds.ndjson")]);
    assert!(want["entries"].as_u64().unwrap() >= 10, "{want}");
    for f in [
        "kinds.gcloud.json",
        "kinds.compact.json",
        "kinds.ndjson.gz",
        "kinds.multi.ndjson.gz",
        "kinds.concat.json",
        "kinds.bom-crlf.ndjson",
        "kinds-sink",
    ] {
        let got = stats(&[&fixture(f)]);
        assert_eq!(got, want, "stats of {f} differ from kinds.ndjson");
    }
    let piped = entries_of(
        lt(["stats", "--format", "json", "-"])
            .stdin(read(&fixture("kinds.gcloud.json")))
            .json(),
    );
    assert_eq!(piped, want, "stdin differs");
    let no_arg = entries_of(
        lt(["stats", "--format", "json"])
            .stdin(read(&fixture("kinds.ndjson")))
            .json(),
    );
    assert_eq!(no_arg, want, "stdin without `-` differs");
}

#[test]
fn entries_list_responses_read_like_the_gcloud_array() {
    // The same entries as `curl .../v2/entries:list | tee page.json` writes them (API
    // field order, pretty); as a paging loop appends them (pretty back to back, a page
    // of only a token, compact, `{}`); one page per file (one gzipped); gzipped whole.
    let want = stats(&[&fixture("kinds.gcloud.json")]);
    let pages = read(&fixture("kinds.entries-pages.json"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &pages).unwrap();
    let (_dir, gz) = temp_file("pages.json.gz", &gz.finish().unwrap());
    for f in [
        fixture("kinds.entries-list.json"),
        fixture("kinds.entries-pages.json"),
        fixture("kinds-pages"),
        gz,
    ] {
        let d = lt(["stats", "--format", "json"]).arg(&f).code(0);
        assert!(d.stderr.is_empty(), "{}: {}", f.display(), d.stderr);
        let got = entries_of(serde_json::from_str(&d.stdout).unwrap());
        assert_eq!(
            got,
            want,
            "stats of {} differ from kinds.gcloud.json",
            f.display()
        );
    }
    let piped = entries_of(
        lt(["stats", "--format", "json", "-j", "1", "--chunk-size", "7"])
            .stdin(pages)
            .json(),
    );
    assert_eq!(piped, want, "stdin, small chunks");
    // The reports agree too.
    let report = |f: &std::path::Path| {
        let mut v: Value = lt(["report", "--format", "json"]).arg(f).json();
        let input = v["input"].as_object_mut().unwrap();
        assert!(input.remove("bytes").is_some(), "{input:?}");
        v
    };
    assert_eq!(
        report(&fixture("kinds.entries-pages.json")),
        report(&fixture("kinds.gcloud.json"))
    );
}

#[test]
fn empty_entries_list_responses_are_a_valid_empty_result() {
    for page in [
        "{\n  \"entries\": []\n}\n",
        "{\"nextPageToken\": \"EAE4\"}",
        "{\"nextPageToken\": \"EAE4\"}\n{}\n",
        "{}\n{\"entries\": []}",
    ] {
        let d = lt(["report", "--format", "json", "-"]).stdin(page).code(0);
        let v: Value = serde_json::from_str(&d.stdout).unwrap();
        let headline = v["status"]["headline"].as_str().unwrap_or_default();
        assert!(headline.starts_with("No log entry was read"), "{page}: {v}");
        let s = entries_of(lt(["stats", "--format", "json", "-"]).stdin(page).json());
        assert_eq!(
            (s["entries"].as_u64(), s["malformed"].as_u64()),
            (Some(0), Some(0)),
            "{page}"
        );
    }
    // A lone `{}` is entries.list's answer when nothing matched: no entry, nothing
    // skipped. Any other object without a LogEntry field is named and skipped.
    let d = lt(["report", "--format", "json", "-"])
        .stdin("{}\n")
        .code(0);
    let v: Value = serde_json::from_str(&d.stdout).unwrap();
    assert_eq!(v["input"]["entries"].as_u64(), Some(0), "{v}");
    let d = lt(["report", "--format", "json", "-"])
        .stdin("{\"items\": [{\"name\": \"x\"}]}\n{\"foo\": 1}\n")
        .code(2);
    let v: Value = serde_json::from_str(&d.stdout).unwrap();
    assert_eq!(
        (
            v["input"]["entries"].as_u64(),
            v["input"]["malformed"].as_u64()
        ),
        (Some(0), Some(2)),
        "{v}"
    );
    assert!(
        d.stderr.contains("<stdin>:2 (record 2): not a LogEntry"),
        "{}",
        d.stderr
    );
    assert!(
        d.stderr.contains("no log entry could be read"),
        "{}",
        d.stderr
    );
}

#[test]
fn a_bad_or_cut_entries_list_response_keeps_the_rest() {
    let text = String::from_utf8(read(&fixture("kinds.entries-list.json"))).unwrap();
    // A missing `:` in the second entry: named with line and column, the rest read.
    let at = text.match_indices("\"insertId\": ").nth(1).unwrap().0;
    let line = 1 + text[..at].matches('\n').count();
    let bad = format!("{}\"insertId\" {}", &text[..at], &text[at + 12..]);
    let (_dir, path) = temp_file("page.json", bad.as_bytes());
    let d = lt(["stats", "--format", "json"]).arg(&path).code(0);
    let v: Value = serde_json::from_str(&d.stdout).unwrap();
    assert_eq!(v["malformed"], 1, "{v}");
    assert!(
        d.stderr
            .contains(&format!("page.json:{line}:18 (record 2): invalid JSON")),
        "{}",
        d.stderr
    );
    // Every other record is read: the 15 records of the page, one of them malformed.
    let records = |v: &Value| -> u64 {
        ["entries", "duplicates", "split_parts", "malformed"]
            .iter()
            .map(|k| v[k].as_u64().unwrap())
            .sum()
    };
    assert_eq!(records(&v), 15, "{v}");
    assert_eq!(records(&stats(&[&fixture("kinds.entries-list.json")])), 15);
    // Cut inside an entry (curl interrupted): exit 2, the cut named, entries before kept.
    let cut = text.len() / 2;
    let (_dir, path) = temp_file("cut.json", &text.as_bytes()[..cut]);
    let d = lt(["stats", "--format", "json"]).arg(&path).code(2);
    let v: Value = serde_json::from_str(&d.stdout).unwrap();
    assert_eq!(v["truncated_inputs"], 1, "{v}");
    assert!(v["entries"].as_u64().unwrap() > 0, "{v}");
    assert!(
        d.stderr.contains("cut.json:") && d.stderr.contains("array ended before its closing ]"),
        "{}",
        d.stderr
    );
}

#[test]
fn thread_count_and_chunk_size_do_not_change_results() {
    for f in ["kinds.gcloud.json", "kinds.ndjson"] {
        let base = stats_full(&[&fixture(f)]);
        for (j, chunk) in [("1", "1"), ("4", "7"), ("2", "100000")] {
            let got = lt(["stats", "--format", "json", "-j", j, "--chunk-size", chunk])
                .arg(fixture(f))
                .json();
            assert_eq!(got, base, "{f} with -j {j} --chunk-size {chunk}");
        }
    }
}

#[test]
fn duplicates_and_split_parts_count_once() {
    let s = stats(&[&fixture("kinds.ndjson")]);
    assert!(s["duplicates"].as_u64().unwrap() >= 1, "{s}");
    assert!(s["split_parts"].as_u64().unwrap() >= 1, "{s}");
    // The same file twice: every entry of the second copy is a duplicate.
    let twice = stats(&[&fixture("kinds.ndjson"), &fixture("kinds.ndjson.gz")]);
    assert_eq!(twice["entries"], s["entries"], "{twice}");
    assert!(twice["duplicates"].as_u64().unwrap() > s["duplicates"].as_u64().unwrap());
}

#[test]
fn three_broken_lines_are_three_malformed() {
    let d = lt(["stats", "--format", "json"])
        .arg(fixture("broken3.ndjson.gz"))
        .code(0);
    let v: Value = serde_json::from_str(&d.stdout).unwrap();
    assert_eq!(v["malformed"], 3, "{v}");
    assert_eq!(v["entries"], 50, "{v}");
    assert!(
        d.stderr.contains("broken3.ndjson.gz:"),
        "stderr names the file: {}",
        d.stderr
    );
}

#[test]
fn strict_stops_at_the_first_malformed_record() {
    // Line 11 is the first bad record. Framing problems (a later garbage line) were
    // noted before the chunk's records were parsed, so a later line was named.
    for j in ["1", "2", "4"] {
        let d = lt(["stats", "--strict", "--chunk-size", "100", "-j", j])
            .arg(fixture("broken3.ndjson.gz"))
            .code(2);
        assert!(
            d.stderr.contains("broken3.ndjson.gz:11 "),
            "-j {j}: {}",
            d.stderr
        );
    }
    let cut =
        "{\"insertId\":\"a\",\"textPayload\":\"x\"}\n{\"insertId\":\"b\",\"textPayload\":\"cu\n\
               {\"insertId\":\"c\",\"textPayload\":\"x\"}\ngarbage line\n";
    let d = lt(["stats", "--strict", "-"]).stdin(cut).code(2);
    assert!(d.stderr.contains("<stdin>:2 "), "{}", d.stderr);
}

#[test]
fn truncated_inputs_keep_what_was_read() {
    for f in ["truncated.ndjson.gz", "truncated.json"] {
        let d = lt(["stats", "--format", "json"]).arg(fixture(f)).code(2);
        let v: Value = serde_json::from_str(&d.stdout).unwrap();
        assert!(v["entries"].as_u64().unwrap() > 0, "{f}: {v}");
        assert_eq!(v["truncated_inputs"], 1, "{f}: {v}");
        assert!(d.stderr.contains(f), "{f}: {}", d.stderr);
    }
}

#[test]
fn empty_inputs_are_a_valid_empty_result() {
    // gcloud prints `[]` when no entry is in the window: a valid empty result.
    let v = stats(&[&fixture("empty-array.json")]);
    assert_eq!(v["entries"], 0);
    assert_eq!(v["malformed"], 0);
    // Zero bytes is what `gcloud ... | logtriage report` reads when gcloud failed:
    // exit 2 and say so, not an OK report (for a script, "all clear").
    let d = lt(["report", "--fail-on", "low"]).stdin(Vec::new()).code(2);
    assert!(d.stderr.contains("stdin was empty"), "{}", d.stderr);
    let d = lt(["stats", "--format", "json"])
        .arg(fixture("empty.json"))
        .code(2);
    assert!(d.stderr.contains("the input is empty"), "{}", d.stderr);
    // So is a gzip stream of nothing (`cmd | gzip > x.gz` after `cmd` failed), or blanks.
    let empty_gzip =
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    for blank in [&empty_gzip[..], b"\n \r\n\n"] {
        let d = lt(["report", "-"]).stdin(blank.to_vec()).code(2);
        assert!(
            d.stderr
                .contains("nothing but blank lines or an empty gzip stream"),
            "{}",
            d.stderr
        );
    }
    // Nothing read is not "no incident": every format says nothing was judged.
    let md = lt(["report"])
        .arg(fixture("empty-array.json"))
        .code(0)
        .stdout;
    assert!(
        md.contains("**Status:** ⚪ NO DATA — No log entry was read"),
        "{md}"
    );
    let table = lt(["report", "--format", "table"])
        .arg(fixture("empty-array.json"))
        .code(0)
        .stdout;
    assert!(
        table.starts_with("NO DATA: No log entry was read"),
        "{table}"
    );
    // An empty file beside real ones is not an error.
    let v = stats(&[&fixture("empty.json"), &fixture("kinds.ndjson")]);
    assert!(v["entries"].as_u64().unwrap() > 0);
}

#[test]
fn real_exports_read_without_loss() {
    let Some(dir) = real_exports() else {
        eprintln!("skipped: ../shared/real-exports not present");
        return;
    };
    let mut checked = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let lines = if name.ends_with(".ndjson") {
            String::from_utf8_lossy(&read(&p))
                .lines()
                .filter(|l| !l.trim().is_empty())
                .count() as u64
        } else if name.starts_with("gcloud-array-") && name.ends_with(".json") {
            let v: Vec<Value> = serde_json::from_slice(&read(&p)).unwrap();
            v.len() as u64
        } else {
            continue;
        };
        let s = stats(&[&p]);
        assert_eq!(s["malformed"], 0, "{name}: {s}");
        let seen = s["entries"].as_u64().unwrap()
            + s["duplicates"].as_u64().unwrap()
            + s["split_parts"].as_u64().unwrap();
        assert_eq!(seen, lines, "{name}: every record accounted for");
        checked += 1;
    }
    assert!(checked >= 15, "checked {checked} files");
    let gz = dir.join("arsi100-telegram-signals-run-stdout-stderr.ndjson.gz");
    let plain = dir.join("arsi100-telegram-signals-run-stdout-stderr.ndjson");
    if gz.exists() {
        assert_eq!(stats(&[&gz]), stats(&[&plain]));
    }
    let arr = dir.join("gcloud-array-netra-systems-zen-cloud-run-20250915-184401.json");
    let nd = dir.join("netra-systems-zen-cloud-run-20250915-184401.ndjson");
    if arr.exists() {
        assert_eq!(stats(&[&arr]), stats(&[&nd]));
    }
}

/// A small valid LogEntry as one NDJSON line (with its newline).
fn log_line(i: usize, msg: &str) -> String {
    let mut line = serde_json::json!({
        "insertId": format!("id-{i}"),
        "logName": "projects/p/logs/run.googleapis.com%2Fstdout",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "svc", "revision_name": "svc-00001-abc"}},
        "severity": "INFO",
        "timestamp": format!("2025-09-11T15:{:02}:{:02}Z", (i / 60) % 60, i % 60),
        "jsonPayload": {"message": msg},
    })
    .to_string();
    line.push('\n');
    line
}

/// Writes `text` to `name` in a fresh folder; the folder lives as long as the guard.
fn temp_file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

#[test]
fn a_broken_first_line_costs_that_line_only() {
    // A Windows path's `\"` escapes the closing quote. As the first line, it made the
    // whole file one unclosed object: 0 entries, "input ended before the object's
    // closing }". As line 2 it cost one line.
    let bad = r#"{"insertId":"w1","timestamp":"2025-09-11T15:00:00Z","jsonPayload":{"message":"cannot open C:\temp\"}}"#;
    for at in [0, 1] {
        let mut text = String::new();
        for i in 0..3000 {
            if i == at {
                text.push_str(bad);
                text.push('\n');
            }
            text.push_str(&log_line(i, &format!("m {i}")));
        }
        let (_dir, path) = temp_file("winpath.ndjson", text.as_bytes());
        let d = lt(["stats", "--format", "json"]).arg(&path).code(0);
        let v: Value = serde_json::from_str(&d.stdout).unwrap();
        assert_eq!(v["entries"], 3000, "bad line {}: {v}", at + 1);
        assert_eq!(v["malformed"], 1, "{v}");
        assert_eq!(v["truncated_inputs"], 0, "{v}");
        let named = format!("winpath.ndjson:{} ", at + 1);
        assert!(d.stderr.contains(&named), "{named}: {}", d.stderr);
    }
}

#[test]
fn a_bad_value_is_named_by_file_line_and_column() {
    // gcloud's pretty array: the second element's insertId lost its quotes.
    let text = "[\n  {\n    \"insertId\": \"a1\",\n    \"textPayload\": \"ok\"\n  },\n  {\n    \"insertId\": a2,\n    \"textPayload\": \"bad\"\n  }\n]\n";
    let (_dir, path) = temp_file("bad.json", text.as_bytes());
    let d = lt(["stats"]).arg(&path).code(0);
    assert!(
        d.stderr
            .contains("bad.json:7:17 (record 2): invalid JSON: expected value"),
        "{}",
        d.stderr
    );
    // A value of the wrong type names its field.
    let nd = format!(
        "{}\n{}\n",
        log_line(1, "a"),
        log_line(2, "b").replace("\"severity\":\"INFO\"", "\"severity\":\"INFO\",\"trace\":7")
    );
    let (_dir, path) = temp_file("typed.ndjson", nd.as_bytes());
    let d = lt(["stats"]).arg(&path).code(0);
    assert!(
        d.stderr.contains(
            "(record 2): not a LogEntry: invalid type: a number, expected a string (in `trace`)"
        ),
        "{}",
        d.stderr
    );
}
