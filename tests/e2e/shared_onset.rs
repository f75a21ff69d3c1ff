//! A deploy minutes before a shared dependency's outage: when the same failures begin
//! at the same time on a service that was not deployed, the report does not blame the
//! deploy and its rollback is not the first action; a genuine regression is unchanged;
//! failures that stopped on the new revision do not make the rollback first either.
//! Inputs are Cloud Run request logs, the app's stderr lines and a Cloud Run Admin
//! Activity audit entry (`ReplaceService`), as Cloud Logging writes them.

use crate::util::*;
use crate::verdicts::{chrono_free_time, request, run_line};
use serde_json::Value;

/// What psycopg2 logs at ERROR when Postgres refuses the connection.
const DB_REFUSED: &str = r#"sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at \"10.20.0.3\", port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?"#;

/// One line the app wrote to stderr, `secs` seconds after 2025-03-01T00:00:00Z.
fn stderr_line(i: usize, secs: i64, service: &str, revision: &str, text: &str) -> String {
    run_line(i, secs, service, revision, "stderr", "ERROR", text)
}

/// The Admin Activity audit entry of `gcloud run deploy` replacing `service`: as in a
/// real export, the revision labels are empty and the new revision is named in the
/// request's template.
fn deploy(secs: i64, service: &str, new_revision: &str) -> String {
    let t = chrono_free_time(secs);
    format!(
        concat!(
            r#"{{"insertId":"qd23mgd4u3f","logName":"projects/shop-prod/logs/cloudaudit.googleapis.com%2Factivity","#,
            r#""protoPayload":{{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","#,
            r#""authenticationInfo":{{"principalEmail":"deployer@shop-prod.iam.gserviceaccount.com"}},"#,
            r#""authorizationInfo":[{{"granted":true,"permission":"run.services.update","permissionType":"ADMIN_WRITE","#,
            r#""resource":"namespaces/shop-prod/services/{svc}","resourceAttributes":{{}}}}],"#,
            r#""methodName":"google.cloud.run.v1.Services.ReplaceService","#,
            r#""request":{{"@type":"type.googleapis.com/google.cloud.run.v1.ReplaceServiceRequest","#,
            r#""name":"projects/shop-prod/locations/europe-west1/services/{svc}","region":"europe-west1","#,
            r#""service":{{"apiVersion":"serving.knative.dev/v1","kind":"Service","metadata":{{"name":"{svc}","namespace":"701137405146"}},"#,
            r#""spec":{{"template":{{"metadata":{{"name":"{rev}"}}}},"traffic":[{{"latestRevision":true,"percent":100}}]}}}}}},"#,
            r#""requestMetadata":{{"callerIp":"35.202.71.118","callerSuppliedUserAgent":"google-cloud-sdk gcloud/538.0.0 command/gcloud.run.deploy"}},"#,
            r#""resourceLocation":{{"currentLocations":["europe-west1"]}},"#,
            r#""resourceName":"namespaces/shop-prod/services/{svc}","serviceName":"run.googleapis.com"}},"#,
            r#""receiveTimestamp":"{t}","resource":{{"labels":{{"configuration_name":"","location":"europe-west1","#,
            r#""project_id":"shop-prod","revision_name":"","service_name":"{svc}"}},"type":"cloud_run_revision"}},"#,
            r#""severity":"NOTICE","timestamp":"{t}"}}"#
        ),
        t = t,
        svc = service,
        rev = new_revision,
    )
}

/// Requests every 10 s from `from` up to `to`; from `fail_at` on, each answers 503 and
/// the app logs the database refusing it.
fn serve(
    lines: &mut Vec<String>,
    (service, revision): (&str, &str),
    (from, to): (i64, i64),
    fail_at: Option<i64>,
) {
    let mut t = from;
    while t < to {
        let i = lines.len();
        let failing = fail_at.is_some_and(|f| t >= f);
        lines.push(request(
            i,
            t,
            service,
            revision,
            if failing { 503 } else { 200 },
        ));
        if failing {
            lines.push(stderr_line(i, t, service, revision, DB_REFUSED));
        }
        t += 10;
    }
}

fn run(lines: &[String], format: &str) -> String {
    let mut input = lines.join("\n");
    input.push('\n');
    lt(["report", "--format", format, "-"])
        .stdin(input)
        .code(0)
        .stdout
}

/// `orders` deployed at 01:00 (its new revision from 01:00:05); `billing` serves the
/// same hours on a revision it has run since midnight. `billing_fails_at`: when the
/// database refuses `billing` too.
fn two_services(orders_fail_at: i64, billing_fails_at: Option<i64>) -> Vec<String> {
    let mut lines = vec![deploy(3600, "orders", "orders-00011-bbb")];
    serve(&mut lines, ("orders", "orders-00010-aaa"), (0, 3600), None);
    serve(
        &mut lines,
        ("orders", "orders-00011-bbb"),
        (3605, 3600 + 5400),
        Some(orders_fail_at),
    );
    serve(
        &mut lines,
        ("billing", "billing-00005-ccc"),
        (0, 3600 + 5400),
        billing_fails_at,
    );
    lines
}

/// The Five Whys step that asks whether the deploy caused the failures.
fn deploy_step(r: &Value) -> &Value {
    r["five_whys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| {
            w["why"]
                .as_str()
                .unwrap()
                .starts_with("Why did these failures")
        })
        .unwrap_or_else(|| panic!("{}", r["five_whys"]))
}

fn first_action(r: &Value) -> &Value {
    &r["actions"][0]
}

fn rollback_rank(r: &Value) -> Option<usize> {
    r["actions"].as_array().unwrap().iter().position(|a| {
        a["command"]
            .as_str()
            .is_some_and(|c| c.contains("update-traffic"))
    })
}

#[test]
fn a_shared_database_outage_is_not_blamed_on_a_deploy_minutes_before() {
    // orders deployed at 01:00; the database refuses orders from 01:02 and billing,
    // not deployed, from 01:02:30.
    let lines = two_services(3720, Some(3750));
    let r: Value = serde_json::from_str(&run(&lines, "json")).unwrap();
    let reg = &r["regressions"][0];
    assert_eq!(reg["first_bad"], "orders-00011-bbb", "{reg}");
    assert_eq!(reg["switch_source"], "deploy event", "{reg}");
    let shared = reg["shared_onset"].as_array().unwrap();
    assert_eq!(shared.len(), 1, "{reg}");
    assert_eq!(shared[0]["service"], "billing");
    assert_eq!(shared[0]["rule"], "DB_CONNECTIVITY_FAILURE");
    assert_eq!(shared[0]["first_failure"], "2025-03-01T01:02:30.000100Z");
    // Every 10 s from 01:02:30 through the minute 5 minutes after orders' first
    // failure (01:07:00 to 01:07:59: matches are counted by the minute).
    assert_eq!(shared[0]["failures"], 33);
    // The deploy step is not an answer: it cites the simultaneous onset and says what
    // to check.
    let step = deploy_step(&r);
    assert_eq!(step["established"], false, "{step}");
    let because = step["because"].as_str().unwrap();
    assert!(
        because.starts_with("Not established by the logs: revision `orders-00011-bbb` replaced")
            && because.contains("the same failures began at the same time on `billing`, which was not deployed then: a shared dependency is more likely than this deploy; the logs do not establish which")
            && because.contains("Check next: the dependency they share: the database or Cloud SQL instance's state"),
        "{because}"
    );
    assert!(
        step["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().starts_with(
                "`billing` in europe-west1: `DB_CONNECTIVITY_FAILURE` x33 from 2025-03-01T01:02:30.000100Z"
            )),
        "{step}"
    );
    // The rollback is kept, conditional and after the checks.
    let first = first_action(&r);
    assert!(
        first["title"]
            .as_str()
            .unwrap()
            .starts_with("Check the dependency that `orders` and `billing` share"),
        "{first}"
    );
    let k = rollback_rank(&r).unwrap_or_else(|| panic!("{}", r["actions"]));
    assert!(k > 0);
    let rollback = &r["actions"][k];
    assert!(
        rollback["title"]
            .as_str()
            .unwrap()
            .starts_with("If the dependency shared with `billing` is healthy, roll `orders` back"),
        "{rollback}"
    );
    assert_eq!(
        r["actions"].as_array().unwrap().last(),
        Some(rollback),
        "{}",
        r["actions"]
    );
    let md = run(&lines, "markdown");
    assert!(
        md.contains("- ⚠️ **The same failures began at the same time on `billing`**, which was not deployed then (`DB_CONNECTIVITY_FAILURE` x33 on `billing` in `europe-west1` from 2025-03-01T01:02:30.000100Z)"),
        "{md}"
    );
    assert!(
        md.contains("last good `orders-00010-aaa`, but the same failures began at the same time on `billing` without a deploy"),
        "{md}"
    );
    let table = run(&lines, "table");
    assert!(
        table.contains("but the same failures began at the same time on billing without a deploy"),
        "{table}"
    );
}

#[test]
fn a_genuine_regression_stays_the_deploy_s_when_others_fail_elsewhere_or_later() {
    // billing's database failures come three hours later, or billing never fails.
    for billing in [Some(3720 + 3 * 3600), None] {
        let mut lines = two_services(3720, None);
        if let Some(at) = billing {
            serve(
                &mut lines,
                ("billing", "billing-00005-ccc"),
                (at, at + 600),
                Some(at),
            );
        }
        let r: Value = serde_json::from_str(&run(&lines, "json")).unwrap();
        let reg = &r["regressions"][0];
        assert_eq!(reg["first_bad"], "orders-00011-bbb", "{reg}");
        assert_eq!(reg["shared_onset"], serde_json::json!([]), "{reg}");
        let step = deploy_step(&r);
        assert_eq!(step["established"], true, "{step}");
        assert!(step["because"]
            .as_str()
            .unwrap()
            .starts_with("Revision `orders-00011-bbb` replaced `orders-00010-aaa`"));
        assert_eq!(rollback_rank(&r), Some(0), "{}", r["actions"]);
        assert!(first_action(&r)["title"]
            .as_str()
            .unwrap()
            .starts_with("Roll `orders` back to the last good revision `orders-00010-aaa`"));
    }
    // A caller of orders answering 5xx at the same minute (its requests reach the
    // broken revision), and its own database failures 8 minutes after orders': neither
    // is a shared onset.
    let mut lines = two_services(3720, None);
    for k in 0..30 {
        lines.push(request(
            90_000 + k,
            3725 + k as i64 * 10,
            "billing",
            "billing-00005-ccc",
            502,
        ));
    }
    serve(
        &mut lines,
        ("billing", "billing-00005-ccc"),
        (3720 + 8 * 60, 3720 + 18 * 60),
        Some(3720 + 8 * 60),
    );
    let r: Value = serde_json::from_str(&run(&lines, "json")).unwrap();
    assert_eq!(
        r["regressions"][0]["shared_onset"],
        serde_json::json!([]),
        "{}",
        r["regressions"]
    );
    assert_eq!(rollback_rank(&r), Some(0), "{}", r["actions"]);
}

#[test]
fn failures_that_stopped_on_the_new_revision_do_not_put_the_rollback_first() {
    // 503s in the first two minutes after the deploy (a cold start), then two hours of
    // good service.
    let mut lines = vec![deploy(3600, "orders", "orders-00011-bbb")];
    serve(&mut lines, ("orders", "orders-00010-aaa"), (0, 3600), None);
    let mut t = 3605;
    while t < 3600 + 7200 {
        let i = lines.len();
        lines.push(request(
            i,
            t,
            "orders",
            "orders-00011-bbb",
            if t < 3725 { 503 } else { 200 },
        ));
        t += 5;
    }
    let r: Value = serde_json::from_str(&run(&lines, "json")).unwrap();
    let reg = &r["regressions"][0];
    assert!(reg["recovered"].is_object(), "{reg}");
    assert_eq!(reg["resolved_by"], Value::Null);
    let first = first_action(&r);
    assert!(
        first["title"]
            .as_str()
            .unwrap()
            .starts_with("Find out why the failures on `orders-00011-bbb` stopped at"),
        "{first}"
    );
    let k = rollback_rank(&r).unwrap_or_else(|| panic!("{}", r["actions"]));
    assert!(k > 0, "{}", r["actions"]);
    assert!(
        r["actions"][k]["title"]
            .as_str()
            .unwrap()
            .starts_with("If the failures on `orders-00011-bbb` come back, roll `orders` back to the last good revision `orders-00010-aaa`"),
        "{}",
        r["actions"]
    );
}
