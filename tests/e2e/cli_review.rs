//! What a CLI review found: messages under other payload keys, `-o` on a failed run,
//! a `--service` that matches nothing, files a folder holds but are not read, time
//! filters on entries without timestamps, and the wording of errors and hints.

use crate::util::*;
use serde_json::Value;

/// `n` ERROR entries of service `svc-a` whose payload is `payload` (JSON text), a
/// minute apart.
fn errors_with(payload: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"insertId":"i{i}","timestamp":"2025-10-01T10:{i:02}:00Z","severity":"ERROR","resource":{{"type":"cloud_run_revision","labels":{{"service_name":"svc-a","revision_name":"svc-a-00002-bbb"}}}},"jsonPayload":{payload}}}"#
            ) + "\n"
        })
        .collect()
}

const DB_DOWN: &str = "sqlalchemy could not connect to server: Connection refused (postgres:5432)";

#[test]
fn messages_under_structlog_serilog_and_error_object_keys_are_read() {
    for payload in [
        format!(r#"{{"event":"{DB_DOWN}","level":"error","logger":"db"}}"#),
        format!(r#"{{"@t":"2025-10-01T10:00:00Z","@m":"{DB_DOWN}","@l":"Error"}}"#),
        format!(r#"{{"RenderedMessage":"{DB_DOWN}","MessageTemplate":"x"}}"#),
        format!(r#"{{"error":{{"message":"{DB_DOWN}","type":"OperationalError"}}}}"#),
        format!(r#"{{"err":{{"message":"{DB_DOWN}","stack":"..."}}}}"#),
    ] {
        let r = lt(["report", "--format", "json", "-"])
            .stdin(errors_with(&payload, 30))
            .json();
        assert!(
            rules_fired(&r).contains(&"DB_CONNECTIVITY_FAILURE".to_string()),
            "{payload}: {:?}",
            rules_fired(&r)
        );
    }
}

#[test]
fn an_error_without_a_message_is_listed_by_its_keys_not_as_an_empty_template() {
    let input = errors_with(r#"{"evt":"something private","lvl":"error"}"#, 30);
    let d = lt(["report", "-"]).stdin(input.clone()).code(0);
    assert!(
        d.stdout
            .contains("`(no message) jsonPayload keys: evt, lvl`"),
        "{}",
        d.stdout
    );
    assert!(!d.stdout.contains("``"), "{}", d.stdout);
    assert!(!d.stdout.contains("something private"), "{}", d.stdout);
    let r = lt(["report", "--format", "json", "-"]).stdin(input).json();
    let t = &r["unknown"][0]["template"];
    assert_eq!(t, "(no message) jsonPayload keys: evt, lvl", "{r}");
}

#[test]
fn a_run_that_reads_no_entry_leaves_the_output_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("keep.md");
    let yaml = std::fs::read(fixture("gcloud.yaml")).unwrap();
    let cases: [(&str, Vec<u8>); 3] = [
        ("empty stdin", Vec::new()),
        ("only garbage", b"garbage\nmore\n".to_vec()),
        ("gcloud's YAML", yaml),
    ];
    for (what, input) in cases {
        for cmd in ["report", "stats"] {
            std::fs::write(&keep, "GOOD\n").unwrap();
            let d = lt([cmd, "-o"]).arg(&keep).stdin(input.clone()).code(2);
            assert_eq!(
                std::fs::read_to_string(&keep).unwrap(),
                "GOOD\n",
                "{cmd}, {what}: {}",
                d.stderr
            );
            assert!(d.stderr.contains("left as it was"), "{what}: {}", d.stderr);
        }
    }
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    // stdout still gets the NO DATA report, as before.
    let d = lt(["report", "--format", "json"]).stdin("").code(2);
    let v: Value = serde_json::from_str(&d.stdout).unwrap();
    assert_eq!(v["input"]["entries"], 0);
    // A partly read input is reported, in the file too (and exits 2).
    std::fs::write(&keep, "GOOD\n").unwrap();
    lt(["report", "-o"])
        .arg(&keep)
        .arg(fixture("kinds.ndjson"))
        .arg("no/such/file.json")
        .code(2);
    assert!(std::fs::read_to_string(&keep)
        .unwrap()
        .starts_with("# Incident report"));
}

#[test]
fn a_service_no_entry_has_is_an_error_naming_the_services_held() {
    let input = errors_with(r#"{"message":"x"}"#, 3);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("logs.ndjson");
    std::fs::write(&file, &input).unwrap();
    // From a file, from stdin, and from stdin spooled for a relative --since.
    for (args, stdin) in [
        (
            vec!["report", "--fail-on", "high", "--service", "svc-A"],
            false,
        ),
        (vec!["report", "--service", "svc-A"], true),
        (vec!["report", "--service", "svc-A", "--since", "6h"], true),
        (
            vec!["stats", "--service", "svc-A", "--since", "2025-01-01"],
            false,
        ),
    ] {
        let mut run = lt(&args);
        run = if stdin {
            run.stdin(input.clone())
        } else {
            run.arg(&file)
        };
        let d = run.code(2);
        assert!(
            d.stderr
                .contains("--service svc-A: no entry of the input has this service")
                && d.stderr.contains("did you mean `svc-a`?")
                && d.stderr.contains("svc-a (3 entries)"),
            "{args:?}: {}",
            d.stderr
        );
        assert!(d.stdout.is_empty(), "{args:?}: {}", d.stdout);
    }
    // A second name that matches nothing is named too; no suggestion when none is close.
    let d = lt(["report", "--service", "svc-a", "--service", "billing"])
        .arg(&file)
        .code(2);
    assert!(d.stderr.contains("--service billing:"), "{}", d.stderr);
    assert!(!d.stderr.contains("did you mean"), "{}", d.stderr);
    // A right name whose entries are all outside --since is the old warning, exit 0.
    let d = lt(["report", "--service", "svc-a", "--since", "2030-01-01"])
        .arg(&file)
        .code(0);
    assert!(d.stderr.contains("were outside"), "{}", d.stderr);
}

#[test]
fn a_folder_reads_bare_gz_and_names_the_files_it_does_not_read() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let lines = errors_with(r#"{"message":"x"}"#, 4);
    let mut lines_iter = lines.lines();
    let mut part = || format!("{}\n", lines_iter.next().unwrap());
    std::fs::write(root.join("a.json"), part()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(part().as_bytes()).unwrap();
    std::fs::write(root.join("export.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(root.join("logs.txt"), part()).unwrap();
    std::fs::write(root.join("export"), part()).unwrap();
    std::fs::write(root.join("README.md"), "# notes\n").unwrap();
    std::fs::write(root.join(".hidden.txt"), "x\n").unwrap();
    let d = lt(["stats", "--format", "json"]).arg(root).code(0);
    let v: Value = serde_json::from_str(&d.stdout).unwrap();
    assert_eq!(v["entries"], 2, "a.json and export.gz: {}", d.stdout);
    let notes: Vec<&str> = d.stderr.lines().collect();
    assert_eq!(notes.len(), 1, "one line: {}", d.stderr);
    assert!(
        notes[0].starts_with("logtriage: note: ")
            && notes[0].contains("3 files not read")
            && notes[0].ends_with(": export, logs.txt, README.md; name a file to read it"),
        "{}",
        d.stderr
    );
    // Named, they are read; -q hides the note.
    let d = lt(["stats", "-q", "--format", "json"])
        .arg(root)
        .arg(root.join("logs.txt"))
        .arg(root.join("export"))
        .code(0);
    let v: Value = serde_json::from_str(&d.stdout).unwrap();
    assert_eq!(v["entries"], 4);
    assert!(d.stderr.is_empty(), "{}", d.stderr);
}

#[test]
fn a_relative_since_on_entries_without_timestamps_says_nothing_was_filtered() {
    let input: String = errors_with(r#"{"message":"x"}"#, 3)
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("timestamp");
            format!("{v}\n")
        })
        .collect();
    let d = lt(["stats", "--format", "json", "--since", "6h"])
        .stdin(input.clone())
        .code(0);
    let v: Value = serde_json::from_str(&d.stdout).unwrap();
    assert_eq!(v["entries"], 3);
    assert!(
        d.stderr.contains(
            "--since 6h: no entry has a timestamp to count back from, so nothing was filtered by time"
        ),
        "{}",
        d.stderr
    );
    // With timestamps, nothing to say.
    let d = lt(["stats", "--since", "6h"])
        .stdin(errors_with(r#"{"message":"x"}"#, 3))
        .code(0);
    assert!(!d.stderr.contains("timestamp"), "{}", d.stderr);
}

#[test]
fn usage_errors_wear_the_tool_s_prefix_and_reports_read_well() {
    let d = lt(["report", "--bogus"]).code(2);
    assert!(
        d.stderr
            .starts_with("logtriage: error: unexpected argument '--bogus'"),
        "{}",
        d.stderr
    );
    assert!(d.stderr.contains("Usage: logtriage report"), "{}", d.stderr);
    // --help still goes to stdout, exit 0.
    let d = lt(["report", "--help"]).code(0);
    assert!(d.stdout.contains("Usage:"), "{}", d.stdout);
    // No entry with a time: no "Window - → -".
    let input = r#"{"insertId":"a","severity":"ERROR","jsonPayload":{"message":"x"}}"#;
    let d = lt(["report", "-"]).stdin(input).code(0);
    assert!(
        d.stdout
            .contains("_No time window (no entry with a usable timestamp) · 1 entry from 1 input"),
        "{}",
        d.stdout
    );
    let d = lt(["report", "--format", "table", "-"])
        .stdin(input)
        .code(0);
    assert!(d.stdout.contains("no time window"), "{}", d.stdout);
    // Counted inputs are plural or singular, never "input(s)".
    let d = lt(["report"])
        .arg(fixture("kinds.ndjson"))
        .arg("no/such/a.json")
        .arg("no/such/b.json")
        .code(2);
    assert!(
        d.stdout.contains("2 inputs truncated or unreadable"),
        "{}",
        d.stdout
    );
}
