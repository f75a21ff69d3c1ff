//! External HTTP(S) load balancer request logs beside Cloud Run's (review s27, fx/f1,
//! fx/f12, fx/f16): a request both logged counts once, in Cloud Run's row; failures
//! only the load balancer saw are named by its backend service and explained by its
//! `statusDetails`; no template placeholder reaches a report. Entries follow the
//! LogEntry shape `gcloud logging read --format=json` prints, as a gcloud array newest
//! first (the order gcloud writes).

use crate::util::*;
use serde_json::{json, Value};

const PROJECT: &str = "shop-prod";

/// `2025-10-07T09:MM:SS.mmmZ` for `ms` milliseconds after 09:00.
fn at(ms: u64) -> String {
    let s = ms / 1000;
    format!(
        "2025-10-07T{:02}:{:02}:{:02}.{:03}Z",
        9 + s / 3600,
        (s / 60) % 60,
        s % 60,
        ms % 1000
    )
}

fn trace(i: u64) -> String {
    format!(
        "projects/{PROJECT}/traces/{:032x}",
        0x5334_e0e7_aee6_ec1b_u64 ^ i
    )
}

/// Cloud Run's own request log (run.googleapis.com/requests) of request `i`.
fn run_request(i: u64, ms: u64, status: u16) -> Value {
    json!({
        "httpRequest": {"latency": "0.050211s", "protocol": "HTTP/1.1", "remoteIp": "203.0.113.9",
            "requestMethod": "GET", "requestSize": "512",
            "requestUrl": "https://shop-web-4fkq2ycyxa-uc.a.run.app/api/cart", "responseSize": "1024",
            "serverIp": "216.239.32.53", "status": status, "userAgent": "Mozilla/5.0"},
        "insertId": format!("68e4d5a0000{i:07x}c1a2b3"),
        "labels": {"instanceId": "0069c7a98824795ed4cca76950d82f38b005d1f6faae1804"},
        "logName": format!("projects/{PROJECT}/logs/run.googleapis.com%2Frequests"),
        "receiveTimestamp": at(ms + 40),
        "resource": {"type": "cloud_run_revision", "labels": {"configuration_name": "shop-web",
            "location": "us-central1", "project_id": PROJECT,
            "revision_name": "shop-web-00042-abc", "service_name": "shop-web"}},
        "severity": if status >= 500 { "ERROR" } else { "INFO" },
        "spanId": format!("{:016x}", 0xe900_4ce8_eccc_7c2d_u64 ^ i),
        "timestamp": at(ms),
        "trace": trace(i),
    })
}

/// The global external Application Load Balancer's request log of request `i`
/// (field layout of a real `requests` entry: resource `http_load_balancer`,
/// `LoadBalancerLogEntry` payload). `traced`: the LB logged the request's trace.
fn lb_request(
    i: u64,
    ms: u64,
    status: u16,
    backend: &str,
    details: &str,
    url: &str,
    traced: bool,
) -> Value {
    let mut e = json!({
        "httpRequest": {"latency": "0.061254s", "remoteIp": "203.0.113.9", "requestMethod": "GET",
            "requestSize": "29", "requestUrl": format!("https://shop.example.com{url}"),
            "responseSize": "780", "serverIp": "10.20.0.4", "status": status,
            "userAgent": "Mozilla/5.0"},
        "insertId": format!("h91ql8g{i:07x}"),
        "jsonPayload": {"@type": "type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry",
            "backendTargetProjectNumber": "projects/8560181848", "remoteIp": "203.0.113.9",
            "statusDetails": details},
        "logName": format!("projects/{PROJECT}/logs/requests"),
        "receiveTimestamp": at(ms + 1000),
        "resource": {"type": "http_load_balancer", "labels": {"backend_service_name": backend,
            "forwarding_rule_name": "shop-fr", "project_id": PROJECT,
            "target_proxy_name": "shop-https-proxy", "url_map_name": "shop-map", "zone": "global"}},
        "severity": if status >= 500 { "WARNING" } else { "INFO" },
        "timestamp": at(ms.saturating_sub(3)),
    });
    if traced {
        e["trace"] = json!(trace(i));
        e["spanId"] = json!(format!("{:016x}", 0xbdb0_1ee8_39b3_957a_u64 ^ i));
    }
    e
}

/// A gcloud `--format=json` array, newest first.
fn gcloud(mut entries: Vec<Value>) -> String {
    entries.sort_by(|a, b| b["timestamp"].as_str().cmp(&a["timestamp"].as_str()));
    serde_json::to_string_pretty(&entries).unwrap()
}

/// 600 requests to shop-web through the load balancer, every third second; requests
/// 200..260 fail with 500 (`fail`) or none do. Both logs hold each request.
fn through_lb(fail: bool) -> Vec<Value> {
    let mut es = Vec::new();
    for i in 0..600 {
        let status = if fail && (200..260).contains(&i) {
            500
        } else {
            200
        };
        es.push(run_request(i, i * 3000, status));
        es.push(lb_request(
            i,
            i * 3000,
            status,
            "shop-web-bs",
            "response_sent_by_backend",
            "/api/cart",
            true,
        ));
    }
    es
}

fn impact_rows(r: &Value) -> Vec<(String, u64, u64)> {
    r["impact"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["service"].as_str().unwrap().to_string(),
                m["requests"].as_u64().unwrap(),
                m["failed"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn report(input: &str, extra: &[&str]) -> (Value, String) {
    let mut args = vec!["report", "--format", "json"];
    args.extend_from_slice(extra);
    args.push("-");
    let j = lt(args).stdin(input.to_string()).json();
    let mut args = vec!["report"];
    args.extend_from_slice(extra);
    args.push("-");
    let md = lt(args).stdin(input.to_string()).go().stdout;
    (j, md)
}

/// fx/f12: 60 failed requests were reported as "x120, tied by trace to 60", with a
/// "(none)" row of 600 requests beside shop-web's 600. Now the LB's copies are left
/// out, and said to be, however the export is split across workers.
#[test]
fn lb_and_cloud_run_logs_of_the_same_requests_count_once() {
    let input = gcloud(through_lb(true));
    for extra in [&["-j", "1"][..], &["-j", "4", "--chunk-size", "20000"][..]] {
        let (r, md) = report(&input, extra);
        assert_eq!(
            impact_rows(&r),
            vec![("shop-web".to_string(), 600, 60)],
            "{extra:?}"
        );
        let burst = finding(&r, "HTTP_5XX_BURST").unwrap();
        assert_eq!(burst["count"], 60, "{extra:?}");
        assert_eq!(r["input"]["lb_requests_left_out"], 600, "{extra:?}");
        assert!(
            md.contains("_600 load balancer request logs are not counted as requests: the service behind the load balancer (Cloud Run's request log) logged the same requests, with the same traces._"),
            "{md}"
        );
        assert!(!md.contains("| (none) |"), "{md}");
    }
}

/// Healthy traffic through the load balancer is no incident, and not twice the
/// requests.
#[test]
fn healthy_lb_and_cloud_run_logs_raise_nothing() {
    let (r, _) = report(&gcloud(through_lb(false)), &[]);
    assert_eq!(r["status"]["level"], "ok", "{r}");
    assert_eq!(impact_rows(&r), vec![("shop-web".to_string(), 600, 0)]);
    let rows: Vec<&Value> = r["revisions"].as_array().unwrap().iter().collect();
    assert_eq!(rows.len(), 1, "{r}");
    assert_eq!(r["input"]["lb_requests_left_out"], 600);
}

/// fx/f1 with traces: the LB found no healthy backend for 80 requests to legacy-bs
/// (no trace) and 30 to shop-web-bs (traced, but Cloud Run never saw them). Before: the
/// title named shop-web (working), the question read "Why does <service> answer with
/// 5xx errors?" and the check said load balancer logs do not carry the error.
#[test]
fn failures_only_the_lb_saw_are_named_by_its_backend_and_explained() {
    let mut es = through_lb(false);
    for k in 0..80 {
        let ms = 600_000 + k * 3000;
        es.push(lb_request(
            10_000 + k,
            ms,
            502,
            "legacy-bs",
            "failed_to_pick_backend",
            "/legacy/x",
            false,
        ));
    }
    for k in 0..30 {
        let ms = 900_000 + k * 2000;
        es.push(lb_request(
            20_000 + k,
            ms,
            503,
            "shop-web-bs",
            "failed_to_pick_backend",
            "/api/cart",
            true,
        ));
    }
    let (r, md) = report(&gcloud(es), &[]);
    let mut rows = impact_rows(&r);
    rows.sort();
    assert_eq!(
        rows,
        vec![
            ("legacy-bs".to_string(), 80, 80),
            ("shop-web".to_string(), 600, 0),
            ("shop-web-bs".to_string(), 30, 30),
        ],
        "{r}"
    );
    // The backend-answered copies are Cloud Run's requests; the LB's own 503s are not.
    assert_eq!(r["input"]["lb_requests_left_out"], 600);
    let title = md.lines().next().unwrap();
    assert!(
        title.starts_with("# Incident report: legacy-bs, shop-web-bs"),
        "{title}"
    );
    let cause = finding(&r, "LB_NO_HEALTHY_BACKEND").unwrap();
    assert_eq!(cause["count"], 110);
    let first = &r["five_whys"][0];
    assert_eq!(first["why"], "Why does legacy-bs answer with 5xx errors?");
    assert!(
        first["because"]
            .as_str()
            .unwrap()
            .contains("failed to pick a healthy backend"),
        "{first}"
    );
    let text = r.to_string();
    for placeholder in ["<service>", "&lt;service&gt;", "\\u003cservice\\u003e"] {
        assert!(!text.contains(placeholder), "{text}");
        assert!(!md.contains(placeholder), "{md}");
    }
    assert!(md.contains("failed on `legacy-bs`"), "{md}");
    // Reproduce commands find the LB's entries by the label that names the backend.
    assert!(
        md.contains(r#"resource.labels.backend_service_name=("legacy-bs" OR "shop-web-bs")"#),
        "{md}"
    );
    assert!(!md.contains("do not carry the server's error"), "{md}");
    assert!(
        commands(&r).contains(&"gcloud compute backend-services get-health legacy-bs --global"),
        "{r}"
    );
}

/// fx/f16: only the load balancer's logs. The title said "logs", the question
/// "<service>"; the failing backend is named, and a backend-answered 5xx shows its
/// statusDetails.
#[test]
fn lb_only_logs_name_the_backend_and_show_who_answered() {
    let mut es = Vec::new();
    for i in 0..300 {
        let status = if (100..140).contains(&i) { 502 } else { 200 };
        es.push(lb_request(
            i,
            i * 3000,
            status,
            "api-bs",
            "response_sent_by_backend",
            "/api/cart",
            true,
        ));
    }
    let (r, md) = report(&gcloud(es), &[]);
    assert!(md.starts_with("# Incident report: api-bs\n"), "{md}");
    assert_eq!(impact_rows(&r), vec![("api-bs".to_string(), 300, 40)]);
    // Nothing else logged those requests: none is left out.
    assert_eq!(r["input"]["lb_requests_left_out"], 0);
    assert!(finding(&r, "LB_NO_HEALTHY_BACKEND").is_none());
    let burst = finding(&r, "HTTP_5XX_BURST").unwrap();
    let details: Vec<&str> = burst["captures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "lb_status_details")
        .flat_map(|c| c["top"].as_array().unwrap())
        .map(|v| v["value"].as_str().unwrap())
        .collect();
    assert_eq!(details, vec!["response_sent_by_backend"]);
    assert_eq!(
        r["five_whys"][0]["why"],
        "Why does api-bs answer with 5xx errors?"
    );
    assert!(md.contains("`response_sent_by_backend` (40)"), "{md}");
}

/// The regional external Application Load Balancer (resource
/// `http_external_regional_lb_rule`, as in the real export
/// aibangjuxin-knowledge-gke-and-regional-lb): its backend is `backend_target_name`,
/// and the health command names its region rather than `--global`.
#[test]
fn a_regional_lb_is_named_by_its_backend_and_region() {
    let es: Vec<Value> = (0..20)
        .map(|i| {
            json!({
                "httpRequest": {"latency": "0.001911s", "protocol": "HTTP/2",
                    "remoteIp": "202.8.105.197:53663", "requestMethod": "GET", "requestSize": "44",
                    "requestUrl": "https://tenant.example.com/", "responseSize": "333",
                    "serverIp": "192.168.0.17:443", "status": 503, "userAgent": "curl/8.7.1"},
                "insertId": format!("1sdwgjfdx{i:04x}"),
                "jsonPayload": {"@type": "type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry",
                    "backendTargetProjectNumber": "projects/487126826743",
                    "statusDetails": "failed_to_pick_backend"},
                "logName": format!("projects/{PROJECT}/logs/loadbalancing.googleapis.com%2Fexternal_regional_requests"),
                "receiveTimestamp": at(i * 5000 + 4000),
                "resource": {"type": "http_external_regional_lb_rule", "labels": {
                    "backend_name": "", "backend_scope": "europe-west2", "backend_scope_type": "REGION",
                    "backend_target_name": "ajbx-public-bs", "backend_target_type": "BACKEND_SERVICE",
                    "backend_type": "UNKNOWN", "forwarding_rule_name": "ajbx-public-fr",
                    "matched_url_path_rule": "UNMATCHED", "network_name": "ajbx-vpc1",
                    "project_id": PROJECT, "region": "europe-west2",
                    "target_proxy_name": "ajbx-public-proxy", "url_map_name": "ajbx-public-um"}},
                "severity": "WARNING",
                "timestamp": at(i * 5000),
            })
        })
        .collect();
    let (r, _) = report(&gcloud(es), &[]);
    assert_eq!(
        impact_rows(&r),
        vec![("ajbx-public-bs".to_string(), 20, 20)]
    );
    assert!(finding(&r, "LB_NO_HEALTHY_BACKEND").is_some(), "{r}");
    assert!(
        commands(&r).contains(
            &"gcloud compute backend-services get-health ajbx-public-bs --region=europe-west2"
        ),
        "{r}"
    );
}
