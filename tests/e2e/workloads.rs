//! What the rules read and say beyond Cloud Run services (review s27): the platform's
//! lines only where the platform writes them, an empty "missing" list is a pass, App
//! Engine's request logs carry the app's lines, commands fit what runs the workload,
//! and no rule text tells a user about the incidents the packs were built from.
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

fn commands(r: &Value) -> Vec<String> {
    r["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["command"].as_str().map(String::from))
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

/// An App Engine request log as `appengine.googleapis.com/request_log` writes it: the
/// app's lines in `protoPayload.line[]`.
fn gae(i: u64, secs: u64, version: &str, status: u16) -> Value {
    let (sev, line) = match status {
        500.. => (
            "ERROR",
            "psycopg2.OperationalError: could not connect to server: Connection refused",
        ),
        _ => ("INFO", "served /app/home"),
    };
    json!({
        "insertId": format!("5f27d{i:019x}"),
        "logName": "projects/demo-prod/logs/appengine.googleapis.com%2Frequest_log",
        "receiveTimestamp": at(secs),
        "timestamp": at(secs),
        "resource": {"type": "gae_app", "labels": {"module_id": "default", "version_id": version,
            "project_id": "demo-prod", "zone": "us16"}},
        "severity": sev,
        "httpRequest": {"requestMethod": "GET", "requestUrl": "/app/home", "status": status, "latency": "0.120s"},
        "protoPayload": {"@type": "type.googleapis.com/google.appengine.logging.v1.RequestLog",
            "versionId": version, "moduleId": "default", "status": status, "resource": "/app/home",
            "method": "GET", "line": [
                {"time": at(secs), "severity": "INFO", "logMessage": "request start"},
                {"time": at(secs), "severity": sev, "logMessage": line},
            ]},
        "labels": {"clone_id": "00c61b117c"},
        "trace": format!("projects/demo-prod/traces/{i:032x}"),
    })
}

/// fx/f7: each failed App Engine request carries its error in `line[].logMessage`.
/// Before, the rules never saw it and the report said the cause was not established.
#[test]
fn app_engine_request_lines_are_read() {
    let es: Vec<Value> = (0..120u64)
        .map(|i| match i < 80 {
            true => gae(i, i * 15, "20251008t020000", 200),
            false => gae(i, i * 15, "20251008t022000", 500),
        })
        .collect();
    let (r, md) = report(&es);
    let db = finding(&r, "DB_CONNECTIVITY_FAILURE").expect("DB_CONNECTIVITY_FAILURE fired");
    assert_eq!(db["count"], 40);
    assert!(db["samples"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("psycopg2.OperationalError"));
    let why = &r["five_whys"][0];
    assert_eq!(why["established"], true, "{why}");
    assert!(why["rules"]
        .as_array()
        .unwrap()
        .contains(&json!("DB_CONNECTIVITY_FAILURE")));
    assert!(!md.contains("Request logs do not carry"), "{md}");
}

/// A GKE container: no `gcloud run` command names it.
fn gke(i: u64, secs: u64, text: &str) -> Value {
    json!({
        "insertId": format!("5f27e{i:019x}"),
        "logName": "projects/demo-prod/logs/stderr",
        "receiveTimestamp": at(secs),
        "timestamp": at(secs),
        "resource": {"type": "k8s_container", "labels": {"cluster_name": "prod-gke",
            "container_name": "api", "location": "us-central1", "namespace_name": "default",
            "pod_name": "api-7d9f8-x2x", "project_id": "demo-prod"}},
        "severity": "ERROR",
        "textPayload": text,
        "labels": {"k8s-pod/app": "api", "compute.googleapis.com/resource_name": "gke-node-1"},
    })
}

/// A Cloud Run job's task line.
fn job(i: u64, secs: u64, log: &str, text: &str) -> Value {
    json!({
        "insertId": format!("5f27f{i:019x}"),
        "logName": format!("projects/demo-prod/logs/run.googleapis.com%2F{log}"),
        "receiveTimestamp": at(secs),
        "timestamp": at(secs),
        "resource": {"type": "cloud_run_job", "labels": {"job_name": "nightly-etl",
            "location": "us-central1", "project_id": "demo-prod"}},
        "severity": "ERROR",
        "textPayload": text,
        "labels": {"run.googleapis.com/execution_name": "nightly-etl-x7k2p",
            "run.googleapis.com/task_index": "0", "run.googleapis.com/task_attempt": "0",
            "instanceId": "00f1"},
    })
}

/// fx/f7: a GKE workload was offered "gcloud run services describe api". Cloud Run
/// commands now go to Cloud Run services only; a job's describe is `gcloud run jobs`.
#[test]
fn commands_fit_what_runs_the_workload() {
    let db = "FATAL: password authentication failed for user \"api\" (postgres at 10.0.0.5:5432)";
    let es: Vec<Value> = (0..10).map(|k| gke(k, 120 + k * 60, db)).collect();
    let (r, md) = report(&es);
    assert!(finding(&r, "DB_CONNECTIVITY_FAILURE").is_some());
    let cmds = commands(&r);
    assert!(
        cmds.iter().all(|c| !c.starts_with("gcloud run ")),
        "{cmds:?}"
    );
    assert!(!md.contains("gcloud run "), "{md}");
    // The advice stays, without the command that does not fit.
    let titles: Vec<&str> = r["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert!(titles.iter().any(|t| t.contains("of api")), "{titles:?}");

    let mut es = Vec::new();
    for k in 0..6 {
        es.push(job(2 * k, 300 + k * 60, "stderr", "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not connect to server: Connection refused"));
        es.push(job(
            2 * k + 1,
            302 + k * 60,
            "varlog%2Fsystem",
            "Container called exit(1).",
        ));
    }
    let (r, _) = report(&es);
    assert!(finding(&r, "CLOUD_RUN_CONTAINER_CRASH").is_some());
    let cmds = commands(&r);
    assert!(
        cmds.iter()
            .any(|c| c == "gcloud run jobs describe nightly-etl --region=us-central1"),
        "{cmds:?}"
    );
    assert!(
        cmds.iter().all(
            |c| !c.starts_with("gcloud run services") && !c.starts_with("gcloud run revisions")
        ),
        "{cmds:?}"
    );
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
