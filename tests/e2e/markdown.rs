//! Log text cannot change how the Markdown report renders: a message holding a link,
//! an image or a `|` shows as text, and every table row keeps its columns.

use crate::util::*;

/// A Cloud Run stderr line with this message, `i` seconds after 17:00:00Z.
fn stderr(i: usize, revision: &str, severity: &str, message: &str) -> String {
    let payload = serde_json::json!({ "message": message });
    format!(
        concat!(
            r#"{{"insertId":"68c3090b{i:08x}","jsonPayload":{payload},"#,
            r#""labels":{{"instanceId":"0069c7a98824795ed4cca76950d82f38b005d1f6"}},"#,
            r#""logName":"projects/shop-prod/logs/run.googleapis.com%2Fstderr","#,
            r#""receiveTimestamp":"2025-09-11T17:{m:02}:{s:02}.100000Z","#,
            r#""resource":{{"labels":{{"configuration_name":"orders","location":"europe-west1","project_id":"shop-prod","#,
            r#""revision_name":"{rev}","service_name":"orders"}},"type":"cloud_run_revision"}},"#,
            r#""severity":"{sev}","timestamp":"2025-09-11T17:{m:02}:{s:02}.000100Z"}}"#
        ),
        i = i,
        payload = payload,
        m = i / 60,
        s = i % 60,
        rev = revision,
        sev = severity,
    )
}

/// The line without its code spans (what GitHub renders as Markdown).
fn outside_code(line: &str) -> String {
    line.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

/// `|` that end table cells (not escaped).
fn cell_bars(line: &str) -> usize {
    let b = line.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
        .count()
}

#[test]
fn links_images_and_bars_in_log_text_do_not_render() {
    let hostile = "could not connect to database postgres: connection refused \
                   [click](https://evil.example/login) <img src=https://evil.example/t.png>";
    let mut lines: Vec<String> = (0..6)
        .map(|i| stderr(i * 20, "orders-00007-xuf", "ERROR", hostile))
        .collect();
    // An error no rule knows, with a `|`: its template goes into a table.
    lines.extend((0..3).map(|i| {
        stderr(
            200 + i,
            "orders-00007-xuf",
            "ERROR",
            "Error in 'handler' | column a | b done",
        )
    }));
    let md = lt(["report", "-"]).stdin(lines.join("\n")).code(0).stdout;
    assert!(md.contains("DB_CONNECTIVITY_FAILURE"), "{md}");
    assert!(md.contains("Error in 'handler'"), "{md}");
    let mut fenced = false;
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let text = outside_code(line);
        assert!(
            !text.contains("[click](") && !text.contains("<img"),
            "log text renders as Markdown: {line}"
        );
    }
    let mut header = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        let n = cell_bars(line);
        match header {
            None => header = Some(n),
            Some(h) => assert_eq!(n, h, "a row with other columns than its header: {line}"),
        }
    }
}

#[test]
fn odd_service_names_render_as_written() {
    // Not a Cloud Run name, but GKE app labels can be anything. The status line
    // escaped `|` inside a code span (GitHub then shows the backslash), and the
    // Five Whys question put the name in bold prose raw (`*x*` turned italic).
    let msg = "could not connect to database postgres: connection refused";
    let lines: Vec<String> = (0..6)
        .map(|i| {
            stderr(i * 20, "orders-00007-xuf", "ERROR", msg).replace(
                r#""service_name":"orders""#,
                r#""service_name":"api|v2*x*""#,
            )
        })
        .collect();
    let md = lt(["report", "-"]).stdin(lines.join("\n")).code(0).stdout;
    let status = md.lines().find(|l| l.starts_with("**Status:**")).unwrap();
    assert!(status.contains("`api|v2*x*`"), "{status}");
    let mut fenced = false;
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if fenced || line.starts_with('|') {
            continue;
        }
        let prose = outside_code(line);
        assert!(!prose.contains("v2*x*"), "unescaped emphasis: {line}");
    }
    assert!(md.contains(r"api|v2\*x\*"), "{md}");
}

#[test]
fn entries_without_a_usable_timestamp_are_counted_in_the_header() {
    // Years outside 1970-2100 are not timestamps (their differences overflow); the
    // entries are still read, and the header says how many are not placed in time.
    let lines: Vec<String> = (0..3)
        .map(|i| {
            stderr(i, "orders-00007-xuf", "INFO", "ok").replace("2025-09-11T17", "2261-09-11T17")
        })
        .collect();
    let md = lt(["report", "-"]).stdin(lines.join("\n")).code(0).stdout;
    assert!(md.contains("· 3 without a usable timestamp"), "{md}");
    let table = lt(["report", "-f", "table", "-"])
        .stdin(lines.join("\n"))
        .code(0)
        .stdout;
    assert!(table.contains(", 3 without a usable timestamp"), "{table}");
}

/// A sparkline squeezed into 40 characters says how many buckets each one sums: sparse
/// bursts then read as a solid line.
#[test]
fn a_squeezed_sparkline_says_so() {
    let s = sample("service-auth-regression.json");
    let fine = lt(["report", "--bucket", "10s"]).arg(&s).code(0).stdout;
    assert!(
        fine.contains("` (up to 10 buckets a character) |"),
        "{fine}"
    );
    let plain = lt(["report"]).arg(&s).code(0).stdout;
    assert!(!plain.contains("buckets a character"), "{plain}");
}
