//! Incidents that were over before the logs end: the report says how they ended and
//! offers no rollback that would undo the fix. Inputs are Cloud Run request logs.

use crate::util::*;
use crate::verdicts::request;
use serde_json::Value;

fn report_of(lines: &[String]) -> (Value, String) {
    let mut input = lines.join("\n");
    input.push('\n');
    let json = lt(["report", "--format", "json", "-"])
        .stdin(input.clone())
        .json();
    let md = lt(["report", "-"]).stdin(input).code(0).stdout;
    (json, md)
}

/// Requests every `every` seconds from `from` up to `to` on one revision.
fn serve(lines: &mut Vec<String>, rev: &str, from: i64, to: i64, every: i64, status: u16) {
    let mut t = from;
    while t < to {
        lines.push(request(lines.len(), t, "orders", rev, status));
        t += every;
    }
}

/// A cold start's 503s, then an hour of good service: the report says the failures
/// stopped and how long it has served since, but does not take that as the end (the
/// logs do not show why they stopped), so the rollback stays on offer.
#[test]
fn a_cold_start_blip_that_stopped_is_said_with_the_rollback_kept() {
    let mut lines = Vec::new();
    serve(&mut lines, "orders-00041-xov", 0, 3600, 6, 200);
    // 30 x 503 in the first 90 seconds of the new revision, then an hour of 200s.
    serve(&mut lines, "orders-00042-mib", 3600, 3690, 3, 503);
    serve(&mut lines, "orders-00042-mib", 3690, 7290, 6, 200);
    let (r, md) = report_of(&lines);
    let g = &r["regressions"][0];
    assert_eq!(g["first_bad"], "orders-00042-mib", "{g}");
    assert_eq!(g["recovered"]["requests_since"], 595, "{g}");
    assert!(g["resolved_by"].is_null(), "{g}");
    assert!(commands(&r)
        .iter()
        .any(|c| c.contains("--to-revisions=orders-00041-xov=100")));
    let verdicts: Vec<&str> = r["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["working", "recovered"]);
    assert!(
        md.contains("⚠️ **Failures stopped on `orders-00042-mib`** at 2025-03-01T01:01:27")
            && md.contains("The logs do not show why")
            && md.contains("| ⚠️ recovered |"),
        "{md}"
    );
    let head = r["status"]["headline"].as_str().unwrap();
    assert!(head.contains("; its failures stopped at 2025-03-01T01:01:27.000100Z (595 requests since without them)"), "{head}");
    // Still failing at the end: nothing stopped.
    let mut failing = lines.clone();
    serve(&mut failing, "orders-00042-mib", 7290, 7400, 2, 503);
    let (r, _) = report_of(&failing);
    assert!(r["regressions"][0]["recovered"].is_null());
}

#[test]
fn traffic_moved_to_an_older_working_revision_is_the_resolution() {
    let mut lines = Vec::new();
    serve(&mut lines, "orders-00040-hut", 0, 1800, 6, 200);
    serve(&mut lines, "orders-00041-xov", 1800, 3600, 6, 200);
    // 00042 fails most requests for half an hour; then 00040 takes the traffic.
    let mut t = 3600;
    while t < 5400 {
        let status = if t % 10 < 7 { 500 } else { 200 };
        lines.push(request(
            lines.len(),
            t,
            "orders",
            "orders-00042-mib",
            status,
        ));
        t += 3;
    }
    serve(&mut lines, "orders-00040-hut", 5400, 9000, 6, 200);
    let (r, md) = report_of(&lines);
    let g = &r["regressions"][0];
    assert_eq!(g["last_good"], "orders-00041-xov", "{g}");
    assert_eq!(g["rolled_back"], true, "{g}");
    assert_eq!(g["resolved_by"]["revision"], "orders-00040-hut", "{g}");
    // Moving traffic off the revision the operators chose would be a new change.
    assert!(
        !commands(&r).iter().any(|c| c.contains("update-traffic")),
        "{:?}",
        commands(&r)
    );
    assert!(
        md.contains("Resolved: traffic went back to `orders-00040-hut`** (a working revision from before `orders-00041-xov`)"),
        "{md}"
    );
}

/// Two stray 500s in two hours of a healthy revision, then a deploy that fails half:
/// the regression is found (one match in a thousand entries still works), and the
/// burst is dated from where it met its threshold, not from the first stray 500.
#[test]
fn stray_failures_neither_hide_a_regression_nor_date_it() {
    let mut lines = Vec::new();
    serve(&mut lines, "orders-00041-xov", 0, 7200, 2, 200);
    lines[700] = request(700, 1400, "orders", "orders-00041-xov", 500);
    lines[2900] = request(2900, 5800, "orders", "orders-00041-xov", 500);
    let mut t = 7200;
    while t < 9000 {
        let status = if t % 4 == 0 { 500 } else { 200 };
        lines.push(request(
            lines.len(),
            t,
            "orders",
            "orders-00042-mib",
            status,
        ));
        t += 2;
    }
    let (r, md) = report_of(&lines);
    let g = &r["regressions"][0];
    assert_eq!(g["last_good"], "orders-00041-xov", "{g}");
    assert_eq!(g["first_bad"], "orders-00042-mib", "{g}");
    let f = finding(&r, "HTTP_5XX_BURST").unwrap();
    assert_eq!(f["timeline"]["before_threshold"], 2, "{}", f["timeline"]);
    assert_eq!(f["timeline"]["threshold_met"], "2025-03-01T02:00:00Z");
    let head = r["status"]["headline"].as_str().unwrap();
    assert!(
        head.contains(
            "since about 2025-03-01T02:00:00Z (2 earlier matches from 2025-03-01T00:23:20"
        ),
        "{head}"
    );
    assert!(
        md.contains("✅ **Working until `orders-00041-xov`**: 2 of 3,600 entries failing"),
        "{md}"
    );
}
