//! What the rules read and say (review s27): the platform's lines only where the
//! platform writes them, an empty "missing" list is a pass, and no rule text tells a
//! user about the incidents the packs were built from.
//! Entries follow the LogEntry shape `gcloud logging read --format=json` prints.

use crate::util::*;
use serde_json::{json, Value};

/// `2025-10-08T02:MM:SSZ` for `secs` seconds after 02:00.
fn at(secs: u64) -> String {
    format!(
        "2025-10-08T{:02}:{:02}:{:02}Z",
        2 + secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// A Cloud Run service entry: a request log when `status` is given, else an app line.
fn run(i: u64, secs: u64, log: &str, severity: &str, status: Option<u16>, text: &str) -> Value {
    let mut e = json!({
        "insertId": format!("5f27c{i:019x}"),
        "logName": format!("projects/shop-prod/logs/run.googleapis.com%2F{log}"),
        "receiveTimestamp": at(secs),
        "timestamp": at(secs),
        "resource": {"type": "cloud_run_revision", "labels": {
            "service_name": "orders-api", "revision_name": "orders-api-00042-vex",
            "configuration_name": "orders-api", "location": "europe-west1", "project_id": "shop-prod"}},
        "severity": severity,
        "labels": {"instanceId": "0069c7a98824795ed4cca76950d82f38b005d1f6"},
    });
    match status {
        Some(s) => {
            e["httpRequest"] = json!({"requestMethod": "GET", "status": s, "latency": "0.050s",
                "requestUrl": "https://orders-api-4fkq2ycyxa-ew.a.run.app/api/orders"});
            e["trace"] = json!(format!("projects/shop-prod/traces/{i:032x}"));
        }
        None => e["jsonPayload"] = json!({ "message": text }),
    }
    e
}

fn report(entries: &[Value]) -> (Value, String) {
    let input: String = entries.iter().map(|e| format!("{e}\n")).collect();
    let j = lt(["report", "--format", "json", "-"])
        .stdin(input.clone())
        .json();
    let md = lt(["report", "-"]).stdin(input).code(0).stdout;
    (j, md)
}

fn rules_fired(r: &Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// fx/f5: a healthy service (every request 200) whose INFO lines print an empty
/// "missing" list and quote the platform's exit line. Before: CRITICAL with
/// MISSING_DB_TABLE, MISSING_JWT_FUNCTIONS and CLOUD_RUN_CONTAINER_CRASH.
#[test]
fn benign_lines_on_a_healthy_service_raise_nothing() {
    let benign = [
        "Missing critical user tables: [] (none)",
        "Missing JWT validation functions: [] - all present",
        "Test fixture: simulate 'Container called exit(1).' in unit tests skipped",
    ];
    let mut es = Vec::new();
    let mut i = 0;
    for m in 0..30u64 {
        for k in 0..10 {
            i += 1;
            es.push(run(i, m * 60 + k * 6, "requests", "INFO", Some(200), ""));
        }
        i += 1;
        es.push(run(
            i,
            m * 60 + 3,
            "stdout",
            "INFO",
            None,
            benign[m as usize % 3],
        ));
    }
    let (r, _) = report(&es);
    assert_eq!(r["status"]["level"], "ok", "{:?}", rules_fired(&r));
    assert!(rules_fired(&r).is_empty());
    // The platform's own line, in its own log, is still a crash.
    for k in 0..3 {
        let mut e = run(
            1000 + k,
            1900 + k * 60,
            "varlog%2Fsystem",
            "WARNING",
            None,
            "",
        );
        e.as_object_mut().unwrap().remove("jsonPayload");
        e["textPayload"] = json!("Container called exit(1).");
        es.push(e);
    }
    let (r, _) = report(&es);
    assert_eq!(rules_fired(&r), ["CLOUD_RUN_CONTAINER_CRASH"]);
}

/// fx/f10: Why 4 told the user "in the seed incident the deploy had lost
/// SERVICE_SECRET and JWT_SECRET", the project's own story.
#[test]
fn no_rule_text_tells_the_user_about_the_seed_incident() {
    let es: Vec<Value> = (0..5u64)
        .map(|k| {
            let mut e = run(k, k * 30, "stderr", "ERROR", None, "");
            e["jsonPayload"] = json!({
                "message": "CRITICAL_AUTH_FAILURE: 403 'Not authenticated' error detected! User: 'service:netra-backend'",
                "user_id": "service:netra-backend", "user_type": "regular", "is_service_call": false});
            e
        })
        .collect();
    let (r, md) = report(&es);
    assert!(
        finding(&r, "SERVICE_USER_MISCLASSIFIED").is_some(),
        "{:?}",
        rules_fired(&r)
    );
    assert!(md.contains("SERVICE_SECRET"), "{md}");
    assert!(!md.to_lowercase().contains("seed"), "{md}");
}
