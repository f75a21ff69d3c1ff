//! What the report shows as evidence: samples that hold what the rule matched, lists
//! that say when they are cut, estimates that say so, tables that fit the terminal,
//! and counts with their nouns in the right number (review s27).

use crate::util::*;

/// A Python traceback whose database error is its last line, 2.8 KB in: the sample
/// shows the traceback's opening and the error line, secrets masked (fx/f6b).
#[test]
fn a_traceback_sample_shows_the_line_that_matched() {
    let path = fixture("traceback-db-refused.ndjson");
    let r = lt(["report", "--format", "json"]).arg(&path).json();
    let f = finding(&r, "DB_CONNECTIVITY_FAILURE").expect("the database finding");
    let samples = f["samples"].as_array().unwrap();
    assert!(!samples.is_empty());
    for s in samples {
        let m = s["message"].as_str().unwrap();
        assert!(m.starts_with("Traceback (most recent call last):"), "{m}");
        assert!(m.contains(" … "), "the cut is marked: {m}");
        assert!(
            m.contains("OperationalError") && m.contains("Connection refused"),
            "{m}"
        );
        assert!(m.chars().count() <= 510, "bounded: {}", m.chars().count());
        assert!(!m.contains("hunter2"), "{m}");
    }
    let md = lt(["report"]).arg(&path).code(0).stdout;
    let ev = md.split("## Evidence").nth(1).unwrap();
    let db = ev.split("### ").nth(1).unwrap();
    assert!(db.contains("DB_CONNECTIVITY_FAILURE"), "{db}");
    assert!(db.contains("port 5432 failed"), "{db}");
    assert!(db.contains("Connection refused"), "{db}");
    assert!(db.contains("orders:[REDACTED]@10.20.0.3"), "{db}");
    assert!(!md.contains("hunter2"), "{md}");
    // The Five Whys quote the same excerpt.
    let whys = md.split("## Five Whys").nth(1).unwrap();
    let whys = whys.split("\n## ").next().unwrap();
    let sample = whys.lines().find(|l| l.contains("- sample:")).unwrap();
    assert!(sample.contains("OperationalError"), "{sample}");
    assert!(sample.contains("Connection refused"), "{sample}");
}

/// Seven job executions, each with one crash and one unknown error: every list of
/// them that is cut says how many it left out (fx/f14, without the attempts that
/// succeeded on retry, so that the crashes are failures).
#[test]
fn cut_lists_say_how_many_more() {
    let text = String::from_utf8(read(&fixture("job-retries-7-executions.ndjson"))).unwrap();
    let failed: String = text
        .lines()
        .filter(|l| !l.contains("Container called exit(0)."))
        .map(|l| format!("{l}\n"))
        .collect();
    let md = lt(["report", "-"]).stdin(failed.clone()).code(0).stdout;
    let row = md
        .lines()
        .find(|l| l.starts_with("| high | `CLOUD_RUN_CONTAINER_CRASH`"))
        .unwrap();
    assert!(
        row.contains("`invoice-export-cx9k2` (1), and 4 more |"),
        "{row}"
    );
    let revs = md.lines().find(|l| l.contains("- revisions: ")).unwrap();
    assert!(
        revs.ends_with("`invoice-export-dx9k3` (1), and 3 more"),
        "{revs}"
    );
    let lead = md
        .lines()
        .find(|l| l.contains("- lead, not established"))
        .unwrap();
    assert!(
        lead.contains("`invoice-export-cx9k2`, and 4 more)"),
        "{lead}"
    );
    let unknown = md.split("## Unknown failures").nth(1).unwrap();
    assert!(
        unknown.contains("`invoice-export-cx9k2`, and 4 more | only in failing revisions |"),
        "{unknown}"
    );
    // JSON keeps the whole lists.
    let r = lt(["report", "--format", "json", "-"]).stdin(failed).json();
    let f = finding(&r, "CLOUD_RUN_CONTAINER_CRASH").unwrap();
    assert_eq!(f["revisions"].as_array().unwrap().len(), 7);
}

/// 2,000 403s with 2,000 distinct URLs: past the 1,000 values kept, the distinct
/// counts are estimates (the hash sample's was 2,132, over the match count) and the top
/// values come from a sample; the report says "about", says sampled, and never counts
/// more values than matches (fx/f17).
#[test]
fn estimates_say_about_and_stay_within_the_matches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("403s.ndjson");
    let mut text = String::new();
    for i in 0..2000u64 {
        let ms = i * 200;
        let ts = format!(
            "2025-10-07T09:{:02}:{:02}.{:03}Z",
            ms / 60_000,
            ms / 1000 % 60,
            ms % 1000
        );
        text.push_str(&format!(
            r#"{{"httpRequest":{{"requestMethod":"GET","requestUrl":"https://api.example.com/u/{}","status":403,"latency":"0.010s","userAgent":"client/{}","remoteIp":"203.0.113.9"}},"insertId":"{:024x}","logName":"projects/p/logs/run.googleapis.com%2Frequests","resource":{{"type":"cloud_run_revision","labels":{{"service_name":"api","revision_name":"api-00002-new","location":"us-east1","project_id":"p","configuration_name":"api"}}}},"severity":"WARNING","timestamp":"{ts}","receiveTimestamp":"{ts}","trace":"projects/p/traces/{:032x}"}}"#,
            i * 7919,
            i % 1500,
            i + 1,
            i + 1
        ));
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    let r = lt(["report", "--format", "json"]).arg(&path).json();
    let f = finding(&r, "HTTP_403_BURST").expect("the 403 finding");
    assert_eq!(f["count"], 2000);
    let url = f["captures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "url")
        .unwrap();
    assert_eq!(url["estimated"], true);
    assert_eq!(url["distinct"], 2000, "clamped to the matches: {url}");
    let md = lt(["report"]).arg(&path).code(0).stdout;
    assert!(
        md.contains("- url (about 2,000 distinct; top values of a sample): "),
        "{md}"
    );
    assert!(md.contains("- user_agent (about "), "{md}");
    assert!(!md.contains(" (2,000 distinct)"), "{md}");
    let ev = md.split("## Evidence").nth(1).unwrap();
    let url_line = ev.lines().find(|l| l.starts_with("- url (")).unwrap();
    assert!(url_line.ends_with(", and about 1,995 more"), "{url_line}");
    let whys = md.split("## Five Whys").nth(1).unwrap();
    assert!(whys.contains("- url (top values of a sample): "), "{whys}");
}

/// The table format fits the terminal's width: COLUMNS, or the terminal's own when
/// stdout is one; piped without COLUMNS, whole lines as before.
#[test]
fn tables_fit_the_terminal_width() {
    let sample = sample("service-auth-regression.json");
    let widest = |out: &str| {
        out.lines()
            .filter(|l| l.starts_with(['│', '┌', '└', '╞', '├']))
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
    };
    let fitted = lt(["report", "--format", "table"])
        .arg(&sample)
        .env("COLUMNS", "80")
        .code(0)
        .stdout;
    assert!(fitted.contains("CRITICAL_AUT"), "{fitted}");
    assert_eq!(widest(&fitted), 80, "{fitted}");
    let piped = lt(["report", "--format", "table"])
        .arg(&sample)
        .env_remove("COLUMNS")
        .code(0)
        .stdout;
    assert!(widest(&piped) > 100, "{piped}");
    assert!(piped.contains("CRITICAL_AUTH_FAILURE"), "{piped}");
}

/// Counts meet their nouns in the right number; one match is a moment, not a span
/// or a pattern; findings that share a service are "other", not "related" (fx/f11).
#[test]
fn counts_and_nouns_agree() {
    let md = lt(["report"])
        .arg(fixture("single-oom.ndjson"))
        .code(0)
        .stdout;
    for wrong in [
        "1 matches",
        "1 times",
        "1 entries",
        "(1/1 buckets)",
        "related finding",
    ] {
        assert!(!md.contains(wrong), "{wrong}: {md}");
    }
    assert!(
        md.contains("`CLOUD_RUN_CONTAINER_CRASH`: 1 match\n"),
        "{md}"
    );
    assert!(md.contains("catalog 1 time for exceeding"), "{md}");
    assert!(md.contains("| - | a single match |"), "{md}");
    assert!(
        md.contains("on `catalog` at 2025-10-05T03:12:01Z; 1 other finding on `catalog`."),
        "{md}"
    );
    // One healthy entry.
    let one = r#"{"insertId":"a1","logName":"projects/p/logs/run.googleapis.com%2Frequests","resource":{"type":"cloud_run_revision","labels":{"service_name":"api","revision_name":"api-00001-abc","location":"us-east1","project_id":"p","configuration_name":"api"}},"httpRequest":{"requestMethod":"GET","requestUrl":"https://api.example.com/","status":200},"severity":"INFO","timestamp":"2025-10-07T09:00:00Z","receiveTimestamp":"2025-10-07T09:00:00Z"}"#;
    let md = lt(["report", "-"]).stdin(one).code(0).stdout;
    assert!(
        md.contains("No incident pattern found: 1 entry, 0 errors,"),
        "{md}"
    );
    assert!(md.contains(" 1 entry from 1 input "), "{md}");
    let table = lt(["report", "-", "--format", "table"])
        .stdin(one)
        .code(0)
        .stdout;
    assert!(table.contains("\n1 entry, skipped: "), "{table}");
}
