//! Error paths: one clear line, a documented exit code, the rest still processed.

use crate::util::*;

#[test]
fn missing_file_is_named_and_exit_2() {
    let d = lt(["stats", "no/such/file.json"]).code(2);
    assert!(d.stderr.contains("no/such/file.json"), "{}", d.stderr);
    assert!(!d.stderr.contains("panicked"), "{}", d.stderr);
}

#[test]
fn unreadable_input_does_not_stop_the_others() {
    let d = lt(["stats", "--format", "json"])
        .arg(fixture("kinds.ndjson"))
        .arg("no/such/file.json")
        .code(2);
    let v: serde_json::Value = serde_json::from_str(&d.stdout).unwrap();
    assert!(v["entries"].as_u64().unwrap() > 0);
    assert_eq!(
        v["unreadable_inputs"], 1,
        "a missing path is an unreadable input"
    );
    assert!(d.stderr.contains("no/such/file.json"), "{}", d.stderr);
    // Every report format says so too, so a saved report shows it was incomplete.
    let d = lt(["report", "--format", "json"])
        .arg(fixture("kinds.ndjson"))
        .arg("no/such/file.json")
        .code(2);
    let v: serde_json::Value = serde_json::from_str(&d.stdout).unwrap();
    assert_eq!(v["input"]["unreadable_inputs"], 1);
    for (format, says) in [
        ("markdown", "1 input truncated or unreadable"),
        ("table", "1 input truncated or unreadable"),
    ] {
        let d = lt(["report", "--format", format])
            .arg(fixture("kinds.ndjson"))
            .arg("no/such/file.json")
            .code(2);
        assert!(d.stdout.contains(says), "{format}: {}", d.stdout);
    }
}

#[test]
fn nothing_readable_is_an_error_not_an_ok_report() {
    // Only garbage: exit 2, with a hint, whatever --fail-on says.
    let d = lt(["report", "--fail-on", "low", "-"])
        .stdin("garbage\nmore garbage\n")
        .code(2);
    assert!(
        d.stderr.contains("no log entry could be read"),
        "{}",
        d.stderr
    );
    // More junk lines than entries is not "nothing readable": the 10 entries count.
    let healthy = std::fs::read_to_string(sample("healthy.ndjson")).unwrap();
    let mut mixed: String = healthy.lines().take(10).map(|l| format!("{l}\n")).collect();
    for k in 0..15 {
        mixed.push_str(&format!("junk {k}\n"));
    }
    let d = lt(["report", "-f", "json", "-"]).stdin(mixed).code(0);
    assert!(!d.stderr.contains("no log entry"), "{}", d.stderr);
    assert!(d.stderr.contains("skipped 15 malformed"), "{}", d.stderr);
    assert!(d.stdout.contains("\"entries\": 10,"), "{}", d.stdout);
    // UTF-16 (PowerShell's `>`) and archives that are not gzip are named, with the fix.
    let dir = tempfile::tempdir().unwrap();
    let utf16 = dir.path().join("export.json");
    let mut bytes = vec![0xFF, 0xFE];
    for u in "{\"insertId\":\"a\"}\n".encode_utf16() {
        bytes.extend(u.to_le_bytes());
    }
    std::fs::write(&utf16, bytes).unwrap();
    let d = lt(["report"]).arg(&utf16).code(2);
    assert!(
        d.stderr.contains("this is UTF-16 text, not JSON"),
        "{}",
        d.stderr
    );
    let xz = dir.path().join("export.json.xz");
    std::fs::write(&xz, b"\xFD7zXZ\x00\x00\x04\xE6\xD6\xB4\x46").unwrap();
    let d = lt(["report"]).arg(&xz).code(2);
    assert!(d.stderr.contains("xz -dc"), "{}", d.stderr);
    // tar, plain or gzipped, was read as text: each file's first record lost as
    // "not a JSON object", exit 0.
    let tar = tar_of("logs/a.ndjson", &read(&sample("healthy.ndjson")));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    for (name, bytes) in [
        ("logs.tar", tar.clone()),
        ("logs.tar.gz", gz.finish().unwrap()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let d = lt(["report"]).arg(&path).code(2);
        assert!(
            d.stderr.contains("this is a tar archive, not JSON") && d.stderr.contains("tar -xzf"),
            "{name}: {}",
            d.stderr
        );
    }
    // A --service that matches nothing is an error that names what was meant.
    let d = lt(["report", "--service", "netra-backend-stagin"])
        .arg(sample("healthy.ndjson"))
        .code(2);
    assert!(
        d.stderr.contains("did you mean `netra-backend-staging`?"),
        "{}",
        d.stderr
    );
}

#[test]
fn yaml_is_refused_with_advice() {
    let d = lt(["stats"]).arg(fixture("gcloud.yaml")).code(2);
    assert!(d.stderr.contains("--format=json"), "{}", d.stderr);
}

#[test]
fn usage_errors_exit_2() {
    let d = lt(["report", "--format", "pdf"]).code(2);
    assert!(d.stderr.contains("pdf"), "{}", d.stderr);
    let d = lt(["report", "--since", "yesterday"])
        .stdin(Vec::new())
        .code(2);
    assert!(d.stderr.contains("invalid time"), "{}", d.stderr);
    let d = lt([
        "report",
        "--since",
        "2025-09-12",
        "--until",
        "2025-09-11",
        "-",
    ])
    .stdin(Vec::new())
    .code(2);
    assert!(d.stderr.contains("is after --until"), "{}", d.stderr);
    let d = lt(["report", "--since", "2025-02-30", "-"])
        .stdin(Vec::new())
        .code(2);
    assert!(d.stderr.contains("invalid time"), "{}", d.stderr);
    // Errors name the flag, and say what is wrong with a zero or reversed window.
    for (args, says) in [
        (&["--since", "17:00"][..], "--since: invalid time `17:00`"),
        (
            &["--until", "0h"],
            "--until: bad duration `0h`: it must be longer than zero",
        ),
        (
            &["--bucket", "0m"],
            "--bucket: bad duration `0m`: it must be longer than zero",
        ),
        (
            &["--since", "1h", "--until", "2h"],
            "did you mean --since 2h --until 1h?",
        ),
    ] {
        let d = lt(["report"])
            .args_from(args)
            .arg("-")
            .stdin(Vec::new())
            .code(2);
        assert!(d.stderr.contains(says), "{args:?}: {}", d.stderr);
    }
    for n in ["0", "257", "99999"] {
        let d = lt(["report", "-j", n, "-"]).stdin(Vec::new()).code(2);
        assert!(d.stderr.contains("1..=256"), "-j {n}: {}", d.stderr);
    }
}

#[test]
fn output_to_a_missing_folder_fails_before_reading() {
    let d = lt(["report", "-o", "/no/such/dir/report.md"])
        .arg(fixture("kinds.ndjson"))
        .code(2);
    assert!(d.stderr.contains("/no/such/dir/report.md"), "{}", d.stderr);
    // The OS's reason, not the hidden temporary file's name.
    assert!(
        d.stderr.contains("No such file or directory"),
        "{}",
        d.stderr
    );
    assert!(!d.stderr.contains(".logtriage-"), "{}", d.stderr);
    // A full disk on stdout says what was being written.
    #[cfg(target_os = "linux")]
    if let Ok(full) = std::fs::File::options().write(true).open("/dev/full") {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_logtriage"))
            .arg("report")
            .arg(fixture("kinds.ndjson"))
            .stdout(full)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("cannot write") && err.contains("to stdout: No space left"),
            "{err}"
        );
    }
    // A folder as -o is refused up front, once, with the fix.
    let dir = tempfile::tempdir().unwrap();
    let d = lt(["report", "-o"])
        .arg(dir.path())
        .arg(fixture("kinds.ndjson"))
        .code(2);
    assert!(d.stderr.contains("it is a folder"), "{}", d.stderr);
    assert_eq!(d.stderr.matches("cannot write").count(), 1, "{}", d.stderr);
}

#[test]
fn help_and_version() {
    let d = lt(["--help"]).code(0);
    assert!(
        d.stdout.contains("report") && d.stdout.contains("Exit codes"),
        "{}",
        d.stdout
    );
    // The program's description, not a subcommand list's doc comment.
    assert!(
        d.stdout.starts_with("Turn Google Cloud log exports"),
        "{}",
        d.stdout
    );
    let d = lt(["report", "--help"]).code(0);
    assert!(
        d.stdout.contains("--fail-on") && d.stdout.contains("Examples"),
        "{}",
        d.stdout
    );
    let d = lt(["--version"]).code(0);
    assert!(d.stdout.starts_with("logtriage "), "{}", d.stdout);
}

#[test]
fn completions_and_man_page() {
    for sh in ["bash", "zsh", "fish"] {
        let d = lt(["completions", sh]).code(0);
        assert!(d.stdout.contains("logtriage"), "{sh}");
    }
    let d = lt(["man"]).code(0);
    assert!(d.stdout.contains(".TH"), "{}", d.stdout);
    // The options of a subcommand are on its own page, which the top page names.
    assert!(d.stdout.contains("logtriage\\-report(1)"), "{}", d.stdout);
    let d = lt(["man", "report"]).code(0);
    assert!(d.stdout.contains(".TH logtriage-report 1"), "{}", d.stdout);
    assert!(d.stdout.contains("\\-\\-fail\\-on"), "{}", d.stdout);
}

/// A POSIX tar archive holding one file.
fn tar_of(name: &str, data: &[u8]) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
    h[156] = b'0';
    h[257..265].copy_from_slice(b"ustar\x0000");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h.extend_from_slice(data);
    h.resize(h.len().div_ceil(512) * 512 + 1024, 0);
    h
}
