//! Requests refused with 401 or 403: "most requests fail" when the refusals are new
//! with a revision (its service's other revisions did not give them at that rate),
//! and quiet where they are a public API's background, where nothing shows them new,
//! for 404s and 429s, for a handful, and for health checks. Inputs are Cloud Run
//! request logs written the way Cloud Logging writes them.

use crate::util::*;
use crate::verdicts::request;
use serde_json::Value;

const OLD: &str = "api-00001-aaa";
const NEW: &str = "api-00002-bbb";

/// A Cloud Run request log of service `api`; 4xx at WARNING, as Cloud Run logs them.
fn req(i: usize, secs: i64, revision: &str, status: u16) -> String {
    let line = request(i, secs, "api", revision, status);
    if (400..500).contains(&status) {
        line.replace(r#""severity":"INFO""#, r#""severity":"WARNING""#)
    } else {
        line
    }
}

/// `n` requests every 10 seconds from `from`, the `k`th answered `status(k)`.
fn serve(
    lines: &mut Vec<String>,
    revision: &str,
    from: i64,
    n: usize,
    status: impl Fn(usize) -> u16,
) {
    for k in 0..n {
        let i = lines.len();
        lines.push(req(i, from + k as i64 * 10, revision, status(k)));
    }
}

fn report_of(lines: &[String]) -> (Value, String) {
    let mut input = lines.join("\n");
    input.push('\n');
    let d = lt(["report", "--format", "json", "-"])
        .stdin(input.clone())
        .code(0);
    // Every report here also keeps to the documented schema.
    crate::json_schema::most_requests_fail_v1(&d.stdout, &d.desc);
    let json: Value = serde_json::from_str(&d.stdout).unwrap();
    let md = lt(["report", "-"]).stdin(input).code(0).stdout;
    (json, md)
}

fn verdict<'a>(r: &'a Value, revision: &str) -> &'a str {
    r["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["revision"] == revision)
        .and_then(|v| v["verdict"].as_str())
        .unwrap_or("")
}

/// The old revision answers 240 requests with 200; the new one refuses 180 of 240
/// with 401 (a deploy that lost its auth secret), and no rule fires.
fn lost_auth() -> Vec<String> {
    let mut lines = Vec::new();
    serve(&mut lines, OLD, 0, 240, |_| 200);
    serve(&mut lines, NEW, 2400, 240, |k| {
        if k % 4 == 0 {
            200
        } else {
            401
        }
    });
    lines
}

#[test]
fn refusals_that_began_with_a_revision_are_a_regression_with_no_invented_cause() {
    let (r, md) = report_of(&lost_auth());
    assert!(
        r["findings"].as_array().unwrap().is_empty(),
        "no rule fires: {}",
        r["findings"]
    );
    assert_eq!(r["status"]["level"], "high", "{}", r["status"]);
    let h = r["status"]["headline"].as_str().unwrap();
    assert!(
        h.starts_with(
            "Most requests fail: 180 of 240 requests to `api` (revision `api-00002-bbb`) \
             failed with 401, below every rule's threshold (see the impact table); broken \
             since revision `api-00002-bbb`, last good `api-00001-aaa`; the logs do not \
             show why they were refused: check the revision's auth configuration and \
             secrets, and the callers' credentials;"
        ),
        "{h}"
    );
    assert_eq!(verdict(&r, NEW), "broken");
    assert_eq!(verdict(&r, OLD), "working");
    let g = &r["regressions"][0];
    assert_eq!(
        (g["last_good"].as_str(), g["first_bad"].as_str()),
        (Some(OLD), Some(NEW))
    );
    assert_eq!(g["rules"].as_array().unwrap().len(), 0, "{g}");
    assert!(commands(&r)
        .iter()
        .any(|c| c.contains("update-traffic api --to-revisions=api-00001-aaa=100")));
    // The decision, as data.
    let f = &r["most_requests_fail"][0];
    assert_eq!(f["failed_with"], "rejected", "{f}");
    assert_eq!(f["statuses"], serde_json::json!([401]), "{f}");
    assert_eq!(
        (f["failed"].as_u64(), f["requests"].as_u64()),
        (Some(180), Some(240))
    );
    assert_eq!(
        (f["high"].as_bool(), f["recovered"].as_bool()),
        (Some(true), Some(false))
    );
    // What to check, said as such.
    let act = r["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["source"] == "most_requests_fail")
        .unwrap_or_else(|| panic!("{}", r["actions"]));
    assert!(act["command"].is_null(), "{act}");
    assert!(
        act["title"]
            .as_str()
            .unwrap()
            .contains("180 of 240 of its requests were refused with 401"),
        "{act}"
    );
    assert!(
        md.contains("rules: none; most of its requests failed with 401."),
        "{md}"
    );
    assert!(!md.contains("failed with 5xx"), "{md}");
}

#[test]
fn refusals_that_a_later_revision_ended_are_said_not_alarmed() {
    let mut lines = lost_auth();
    serve(&mut lines, "api-00003-ccc", 4800, 240, |_| 200);
    let (r, _) = report_of(&lines);
    assert_eq!(r["status"]["level"], "ok", "{}", r["status"]);
    assert_eq!(
        r["regressions"][0]["resolved_by"]["revision"], "api-00003-ccc",
        "{}",
        r["regressions"]
    );
    let h = r["status"]["headline"].as_str().unwrap();
    assert!(
        h.contains(
            "but 180 of 240 requests to `api` (revision `api-00002-bbb`) failed with 401, \
             the last at 2025-03-01T01:19:50.000100Z; requests since succeed"
        ),
        "{h}"
    );
}

/// Quiet, whatever else: level ok, nothing broken, nothing named as failing.
fn assert_quiet(lines: &[String], what: &str) {
    let (r, _) = report_of(lines);
    assert_eq!(r["status"]["level"], "ok", "{what}: {}", r["status"]);
    assert!(
        r["most_requests_fail"].as_array().unwrap().is_empty(),
        "{what}: {}",
        r["most_requests_fail"]
    );
    assert_ne!(verdict(&r, NEW), "broken", "{what}");
    assert!(r["regressions"].as_array().unwrap().is_empty(), "{what}");
    let h = r["status"]["headline"].as_str().unwrap();
    assert!(!h.contains("failed with"), "{what}: {h}");
}

#[test]
fn refusals_every_revision_gives_or_that_nothing_shows_new_stay_quiet() {
    // A public API: 60% of requests from unauthenticated clients, old and new alike.
    let mut lines = Vec::new();
    serve(
        &mut lines,
        OLD,
        0,
        240,
        |k| if k % 5 < 3 { 401 } else { 200 },
    );
    serve(&mut lines, NEW, 2400, 240, |k| {
        if k % 5 < 3 {
            401
        } else {
            200
        }
    });
    assert_quiet(&lines, "60% 401 in every revision");
    // The same with 403: the 403 rule speaks of it (as before), "most requests
    // fail" does not.
    let forbidden: Vec<String> = lines
        .iter()
        .map(|l| l.replace(r#""status":401"#, r#""status":403"#))
        .collect();
    let (r, _) = report_of(&forbidden);
    assert!(
        r["most_requests_fail"].as_array().unwrap().is_empty(),
        "{}",
        r["most_requests_fail"]
    );
    assert!(r["regressions"].as_array().unwrap().is_empty());
    let h = r["status"]["headline"].as_str().unwrap();
    assert!(!h.contains("most requests fail"), "{h}");
    // One revision in the logs: nothing to compare with.
    let mut alone = Vec::new();
    serve(&mut alone, NEW, 2400, 240, |k| {
        if k % 4 == 0 {
            200
        } else {
            401
        }
    });
    assert_quiet(&alone, "one revision");
}

#[test]
fn not_found_too_many_requests_a_handful_or_health_checks_stay_quiet() {
    let mut base = Vec::new();
    serve(&mut base, OLD, 0, 240, |_| 200);
    // A crawler's 404s and a rate limit's 429s are the callers'.
    for status in [404, 429] {
        let mut lines = base.clone();
        serve(&mut lines, NEW, 2400, 240, |k| {
            if k % 4 == 0 {
                200
            } else {
                status
            }
        });
        assert_quiet(&lines, &format!("{status}"));
    }
    // 19 refusals of 19 requests: below the 20 that make an incident.
    let mut few = base.clone();
    serve(&mut few, NEW, 2400, 19, |_| 401);
    assert_quiet(&few, "19 of 19");
    // The new revision got only uptime checks, refused by its authentication.
    let mut probes = base.clone();
    let from = probes.len();
    serve(&mut probes, NEW, 2400, 120, |_| 401);
    for l in &mut probes[from..] {
        *l = l.replace(
            "python-httpx/0.28.1",
            "GoogleStackdriverMonitoring-UptimeChecks(https://cloud.google.com/monitoring)",
        );
    }
    assert_quiet(&probes, "health checks only");
}
