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
    assert!(d.stderr.contains("no/such/file.json"), "{}", d.stderr);
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
}

#[test]
fn output_to_a_missing_folder_fails_before_reading() {
    let d = lt(["report", "-o", "/no/such/dir/report.md"])
        .arg(fixture("kinds.ndjson"))
        .code(2);
    assert!(d.stderr.contains("/no/such/dir/report.md"), "{}", d.stderr);
}

#[test]
fn help_and_version() {
    let d = lt(["--help"]).code(0);
    assert!(
        d.stdout.contains("report") && d.stdout.contains("Exit codes"),
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
}
