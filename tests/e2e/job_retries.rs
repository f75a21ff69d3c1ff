//! Cloud Run job tasks that failed and were retried: a task whose later attempt
//! exited 0 succeeded, and its failed attempts do not break the execution. The
//! fixtures follow the job entries of `rules/cloud-run.toml` (and the real export
//! `amarriner-gcp-learning-cloud-run-job.ndjson`): an earlier healthy execution
//! `nightly-export-rmxlb`, then `nightly-export-q7wzn` whose tasks fail and retry.

use crate::util::*;
use serde_json::Value;

const RUN: &str = "nightly-export-q7wzn";

fn report(name: &str) -> Value {
    lt(["report", "--format", "json"]).arg(fixture(name)).json()
}

/// The same report from the fixture's lines given on stdin (newest first, say).
fn report_of(lines: &[&str]) -> Value {
    let d = lt(["report", "--format", "json", "-"])
        .stdin(lines.join("\n"))
        .code(0);
    serde_json::from_str(&d.stdout).unwrap()
}

fn text(name: &str) -> String {
    String::from_utf8(read(&fixture(name))).unwrap()
}

fn revision<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["revision"] == name)
        .unwrap_or_else(|| panic!("no revision {name}: {}", r["revisions"]))
}

fn crash(r: &Value) -> &Value {
    finding(r, "CLOUD_RUN_CONTAINER_CRASH").unwrap_or_else(|| panic!("no crash: {r}"))
}

/// `--fail-on high`'s exit code (what pages someone).
fn fail_on_high(name: &str) -> i32 {
    lt(["report", "--fail-on", "high", "-o", "/dev/null"])
        .arg(fixture(name))
        .go()
        .code
}

#[test]
fn a_task_that_succeeded_on_retry_does_not_break_its_execution() {
    let name = "job-retry-succeeded.ndjson";
    let r = report(name);
    // Still visible: the crash is a finding, at low severity, with what happened.
    let f = crash(&r);
    assert_eq!(f["count"], 1, "{f}");
    assert_eq!(f["severity"], "low");
    assert_eq!(
        f["retried"],
        serde_json::json!({"matches": 1, "tasks": 1, "rule_severity": "high"})
    );
    assert_eq!(r["status"]["level"], "low", "{}", r["status"]);
    let headline = r["status"]["headline"].as_str().unwrap();
    assert!(
        headline.contains("all on 1 job task that then succeeded on retry")
            && !headline.contains("ongoing"),
        "{headline}"
    );
    // Not broken, not a regression.
    let run = revision(&r, RUN);
    assert_eq!(run["verdict"], "working", "{run}");
    assert_eq!(run["findings"], 0);
    assert_eq!(run["retried_tasks"], 1);
    assert_eq!(r["regressions"], serde_json::json!([]));
    assert_eq!(fail_on_high(name), 0);
    let md = lt(["report"]).arg(fixture(name)).code(0).stdout;
    assert!(
        md.contains("✅ working (1 task succeeded on retry)"),
        "{md}"
    );
    assert!(
        md.contains(
            "all on 1 job task that failed and then succeeded on retry (rule severity high)"
        ),
        "{md}"
    );
    assert!(
        md.contains("- retried: the match was on attempts of 1 job task"),
        "{md}"
    );
    // The same newest first (gcloud's order): the success is read before the failure.
    let t = text(name);
    let mut lines: Vec<&str> = t.lines().collect();
    lines.reverse();
    let rev = report_of(&lines);
    for k in ["status", "findings", "revisions", "regressions"] {
        assert_eq!(rev[k], r[k], "{k}");
    }
}

#[test]
fn a_task_that_failed_every_attempt_still_breaks_its_execution() {
    // The reviewer's fixture: both tasks of nightly-export-k2v9p fail on all 3 attempts.
    let name = "job-executions.ndjson";
    let r = report(name);
    let f = crash(&r);
    assert_eq!(
        (f["count"].as_u64(), f["severity"].as_str()),
        (Some(6), Some("high"))
    );
    assert_eq!(f["retried"], Value::Null);
    assert_eq!(r["status"]["level"], "high");
    let run = revision(&r, "nightly-export-k2v9p");
    assert_eq!(run["verdict"], "broken", "{run}");
    assert_eq!(
        (run["findings"].as_u64(), run["retried_tasks"].as_u64()),
        (Some(6), Some(0))
    );
    assert_eq!(r["regressions"][0]["first_bad"], "nightly-export-k2v9p");
    assert_eq!(fail_on_high(name), 1);
}

#[test]
fn one_task_recovered_and_others_failed_for_good_is_still_broken() {
    // Task 0 fails once and succeeds on retry; tasks 1 and 2 fail all 4 attempts.
    let name = "job-retry-mixed.ndjson";
    let r = report(name);
    let f = crash(&r);
    assert_eq!(
        (f["count"].as_u64(), f["severity"].as_str()),
        (Some(9), Some("high"))
    );
    assert_eq!(
        f["retried"],
        serde_json::json!({"matches": 1, "tasks": 1, "rule_severity": "high"})
    );
    assert_eq!(r["status"]["level"], "high");
    let run = revision(&r, RUN);
    assert_eq!(run["verdict"], "broken", "{run}");
    // The 8 attempts that no retry made good, not the one that was.
    assert_eq!(
        (run["findings"].as_u64(), run["retried_tasks"].as_u64()),
        (Some(8), Some(1))
    );
    let reg = &r["regressions"][0];
    assert_eq!(reg["first_bad"], RUN, "{reg}");
    assert_eq!(reg["after"]["failures"], 8, "{reg}");
    // Its failures begin with task 1's first attempt, after task 0's retried crash.
    assert_eq!(reg["after"]["first_failure"], "2025-10-06T02:02:52.500Z");
    assert_eq!(fail_on_high(name), 1);
    let md = lt(["report"]).arg(fixture(name)).code(0).stdout;
    assert!(md.contains("❌ broken (1 task succeeded on retry)"), "{md}");
    assert!(
        md.contains("9 matches, 1 of them on 1 job task that failed and then succeeded on retry"),
        "{md}"
    );
}

#[test]
fn an_execution_cut_off_before_its_retry_finished_is_still_a_failure() {
    // Task 0 fails; its second attempt logs a few lines and then the logs end.
    let name = "job-retry-cut-off.ndjson";
    let r = report(name);
    let f = crash(&r);
    assert_eq!(
        (f["severity"].as_str(), &f["retried"]),
        (Some("high"), &Value::Null)
    );
    assert_eq!(r["status"]["level"], "high");
    let run = revision(&r, RUN);
    assert_eq!(run["verdict"], "broken", "{run}");
    assert_eq!(run["retried_tasks"], 0);
    assert_eq!(fail_on_high(name), 1);
    // Without the retry's lines at all, the same.
    let t = text(name);
    let lines: Vec<&str> = t
        .lines()
        .filter(|l| !l.contains(r#""run.googleapis.com/task_attempt": "1""#))
        .collect();
    let r = report_of(&lines);
    assert_eq!(r["status"]["level"], "high");
    assert_eq!(revision(&r, RUN)["verdict"], "broken");
}

#[test]
fn attempts_without_task_labels_are_judged_as_before() {
    // The succeeded fixture without the attempt label: nothing says which attempt
    // came after which, so the crash counts as it always did.
    let t = text("job-retry-succeeded.ndjson");
    let stripped: Vec<String> = t
        .lines()
        .map(|l| {
            (0..4).fold(l.to_string(), |l, n| {
                l.replace(
                    &format!(r#", "run.googleapis.com/task_attempt": "{n}""#),
                    "",
                )
            })
        })
        .collect();
    assert!(!stripped.iter().any(|l| l.contains("task_attempt")));
    let lines: Vec<&str> = stripped.iter().map(String::as_str).collect();
    let r = report_of(&lines);
    assert_eq!(crash(&r)["severity"], "high");
    assert_eq!(crash(&r)["retried"], Value::Null);
    assert_eq!(r["status"]["level"], "high");
    assert_eq!(revision(&r, RUN)["verdict"], "broken");
    assert_eq!(revision(&r, RUN)["retried_tasks"], 0);
}

#[test]
fn a_success_printed_by_the_application_is_not_a_retry() {
    // The same words on stdout are the program's, not the platform's exit status.
    let t = text("job-retry-succeeded.ndjson");
    let lines: Vec<String> = t
        .lines()
        .map(|l| {
            if l.contains("exit(0)") && l.contains(RUN) {
                l.replace(
                    "run.googleapis.com%2Fvarlog%2Fsystem",
                    "run.googleapis.com%2Fstdout",
                )
            } else {
                l.to_string()
            }
        })
        .collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let r = report_of(&lines);
    assert_eq!(r["status"]["level"], "high");
    assert_eq!(revision(&r, RUN)["verdict"], "broken");
}

#[test]
fn a_rule_that_meets_its_threshold_only_with_retried_attempts_pages_nobody() {
    // 9 resets in the mixed execution: 1 on task 0's retried attempt, 8 on the tasks
    // that failed for good. With a threshold of 9 the 8 alone are below it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("resets.toml"),
        r#"
[[rule]]
id = "UPLOAD_CONNECTION_RESET"
title = "Uploads reset by the peer"
severity = "high"
description = "ConnectionResetError while uploading a batch."
when = { field = "message", contains = "Connection reset by peer" }
min_count = 9
why = "Why do uploads of {service} fail?"
because = "The peer reset {count} connections."
"#,
    )
    .unwrap();
    let r = lt([
        "report",
        "--format",
        "json",
        "--no-default-rules",
        "--rules",
    ])
    .arg(dir.path())
    .arg(fixture("job-retry-mixed.ndjson"))
    .json();
    let f = finding(&r, "UPLOAD_CONNECTION_RESET").unwrap_or_else(|| panic!("{r}"));
    assert_eq!(
        (f["count"].as_u64(), f["severity"].as_str()),
        (Some(9), Some("low"))
    );
    assert_eq!(f["retried"]["matches"], 1);
    assert_eq!(r["status"]["level"], "low", "{}", r["status"]);
    let headline = r["status"]["headline"].as_str().unwrap();
    assert!(
        headline.contains("1 of them on 1 job task that then succeeded on retry, the rest below the rule's threshold"),
        "{headline}"
    );
    let run = revision(&r, RUN);
    assert_ne!(run["verdict"], "broken", "{run}");
    assert_eq!(run["findings"], 0, "{run}");
}
