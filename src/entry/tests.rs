#![allow(clippy::unwrap_used)]
use super::*;

const REQUEST: &str = r#"{"httpRequest":{"latency":"3.786648988s","requestMethod":"GET","requestSize":"327","requestUrl":"https://api.example/health","status":503},"insertId":"68c8c0a9000bf7222eab06a3","labels":{"instanceId":"00aa"},"logName":"projects/netra-staging/logs/run.googleapis.com%2Frequests","receiveTimestamp":"2025-09-16T01:43:05.967637095Z","resource":{"labels":{"configuration_name":"netra-backend-staging","location":"us-central1","project_id":"netra-staging","revision_name":"netra-backend-staging-00742-b95","service_name":"netra-backend-staging"},"type":"cloud_run_revision"},"severity":"ERROR","spanId":"f3f576a33323a516","textPayload":"The request failed","timestamp":"2025-09-16T01:42:58.995733Z","trace":"projects/netra-staging/traces/bc37"}"#;

#[test]
fn request_log() {
    let e = Entry::parse(REQUEST).unwrap();
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(e.place.service.as_deref(), Some("netra-backend-staging"));
    assert_eq!(
        e.place.revision.as_deref(),
        Some("netra-backend-staging-00742-b95")
    );
    assert_eq!(e.place.location.as_deref(), Some("us-central1"));
    assert_eq!(e.log_id().as_deref(), Some("run.googleapis.com/requests"));
    assert_eq!(e.http_status(), Some(503));
    assert!((e.http_latency().unwrap() - 3.786_648_988).abs() < 1e-9);
    assert_eq!(e.message, "The request failed");
    assert_eq!(e.time_source, TimeSource::Timestamp);
    let size = e
        .get(&Field::parse("httpRequest.requestSize").unwrap())
        .unwrap();
    assert_eq!(size.as_f64(), Some(327.0));
    assert!(e.dedup_key().is_some());
}

#[test]
fn a_status_beyond_f64_is_no_status() {
    // RFC 8259 allows `401e3083`; it is not status 401, and no request log.
    let t = REQUEST.replace(r#""status":503"#, r#""status":401e3083"#);
    let e = Entry::parse(&t).unwrap();
    assert_eq!(e.http_status(), None);
    assert!(!e.is_request());
    let status = e.get(&Field::parse("httpRequest.status").unwrap()).unwrap();
    assert_eq!(status.as_f64(), Some(f64::INFINITY));
}

#[test]
fn json_payload_message_and_fields() {
    let t = r#"{"jsonPayload":{"message":"CRITICAL_AUTH_FAILURE: 403","user_id":"service:netra-backend","is_service_call":false,"ctx":{"stage":"session"}},"severity":"ERROR","timestamp":"2025-09-15T17:38:00Z"}"#;
    let e = Entry::parse(t).unwrap();
    assert_eq!(e.message, "CRITICAL_AUTH_FAILURE: 403");
    let f = |n: &str| e.get(&Field::parse(n).unwrap());
    assert_eq!(
        f("jsonPayload.user_id").unwrap().as_text(),
        "service:netra-backend"
    );
    assert_eq!(
        f("jsonPayload.is_service_call").unwrap().as_bool(),
        Some(false)
    );
    assert_eq!(f("jsonPayload.ctx.stage").unwrap().as_text(), "session");
    assert!(f("jsonPayload.nope").is_none());
    assert!(f("httpRequest.status").is_none());
}

#[test]
fn message_fallbacks() {
    let msg = |t: &str| Entry::parse(t).unwrap().message.into_owned();
    assert_eq!(msg(r#"{"jsonPayload":{"msg":"m1"}}"#), "m1");
    assert_eq!(msg(r#"{"jsonPayload":{"error":"e1","x":1}}"#), "e1");
    assert_eq!(msg(r#"{"textPayload":"t1"}"#), "t1");
    assert_eq!(
        msg(r#"{"protoPayload":{"status":{"code":7,"message":"denied"},"methodName":"m"}}"#),
        "denied"
    );
    assert_eq!(
        msg(
            r#"{"protoPayload":{"status":{},"methodName":"google.cloud.run.v1.Services.ReplaceService"}}"#
        ),
        "google.cloud.run.v1.Services.ReplaceService"
    );
    assert_eq!(msg(r#"{"insertId":"x"}"#), "");
}

/// An App Engine request log carries the app's lines in `protoPayload.line[]`: the
/// message is the most severe one (the first of equals), so rules see the error of a
/// failed request (review s27, fx/f7). Only that `@type` is read that way.
#[test]
fn app_engine_request_log_lines_give_the_message() {
    let msg = |t: &str| Entry::parse(t).unwrap().message.into_owned();
    let gae = |lines: &str| {
        format!(
            concat!(
                r#"{{"httpRequest":{{"requestMethod":"GET","requestUrl":"/app/home","status":500}},"#,
                r#""logName":"projects/p/logs/appengine.googleapis.com%2Frequest_log","#,
                r#""protoPayload":{{"@type":"type.googleapis.com/google.appengine.logging.v1.RequestLog","#,
                r#""method":"GET","resource":"/app/home","status":500,"line":{}}},"#,
                r#""resource":{{"type":"gae_app","labels":{{"module_id":"default","version_id":"v2"}}}}}}"#
            ),
            lines
        )
    };
    let line = |sev: &str, m: &str| {
        format!(r#"{{"logMessage":"{m}","severity":"{sev}","time":"2025-10-08T02:29:45Z"}}"#)
    };
    let lines = format!(
        "[{},{},{},{}]",
        line("INFO", "request start"),
        line(
            "ERROR",
            "psycopg2.OperationalError: could not connect to server: Connection refused"
        ),
        line("WARNING", "slow"),
        line("ERROR", "second error")
    );
    assert_eq!(
        msg(&gae(&lines)),
        "psycopg2.OperationalError: could not connect to server: Connection refused"
    );
    assert_eq!(
        msg(&gae(&format!("[{}]", line("DEBUG", "only \\\"debug\\\"")))),
        "only \"debug\""
    );
    // No lines, empty lines, a line without logMessage, a line that is not an object.
    assert_eq!(msg(&gae("[]")), "");
    assert_eq!(
        msg(&gae(
            r#"[{"logMessage":"","severity":"ERROR"},{"severity":"ERROR"},3]"#
        )),
        ""
    );
    assert_eq!(msg(&gae(r#""not a list""#)), "");
    // A line without severity still counts, below any with one.
    assert_eq!(msg(&gae(r#"[{"logMessage":"plain"}]"#)), "plain");
    // Another payload type with a `line` key is not read as App Engine's.
    assert_eq!(
        msg(r#"{"protoPayload":{"@type":"x","line":[{"logMessage":"m","severity":"ERROR"}]}}"#),
        ""
    );
    // Only when nothing else gives a message.
    let with_text = gae(&format!("[{}]", line("ERROR", "from line"))).replacen(
        r#""logName""#,
        r#""textPayload":"from text","logName""#,
        1,
    );
    assert_eq!(msg(&with_text), "from text");
}
/// structlog's `event`, Serilog's `@m` and `RenderedMessage`, and an error object's
/// `message` are read too, after the keys read before them.
#[test]
fn message_from_structlog_serilog_and_error_objects() {
    let msg = |t: &str| Entry::parse(t).unwrap().message.into_owned();
    assert_eq!(msg(r#"{"jsonPayload":{"event":"e","level":"error"}}"#), "e");
    assert_eq!(
        msg(r#"{"jsonPayload":{"@t":"2025","@m":"m","@mt":"t"}}"#),
        "m"
    );
    assert_eq!(
        msg(r#"{"jsonPayload":{"MessageTemplate":"t","RenderedMessage":"r"}}"#),
        "r"
    );
    assert_eq!(
        msg(r#"{"jsonPayload":{"error":{"message":"boom","type":"E"}}}"#),
        "boom"
    );
    assert_eq!(
        msg(r#"{"jsonPayload":{"err":{"message":"boom","stack":"..."}}}"#),
        "boom"
    );
    // The keys read before win: nothing that worked changes.
    assert_eq!(msg(r#"{"jsonPayload":{"event":"e","msg":"m"}}"#), "m");
    assert_eq!(
        msg(r#"{"jsonPayload":{"event":"e","exception":"Traceback"}}"#),
        "Traceback"
    );
    assert_eq!(
        msg(r#"{"jsonPayload":{"err":{"message":"inner"},"msg":"outer"}}"#),
        "outer"
    );
    assert_eq!(
        msg(r#"{"jsonPayload":{"error":{"message":""},"event":"e"}}"#),
        "e"
    );
    assert_eq!(msg(r#"{"jsonPayload":{"error":{"code":3}}}"#), "");
}

#[test]
fn severity_forms_and_time_fallback() {
    let e =
        Entry::parse(r#"{"severity":500,"receiveTimestamp":"2025-01-01T00:00:00.5Z"}"#).unwrap();
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(e.time_source, TimeSource::Receive);
    let e = Entry::parse(r#"{"textPayload":"x"}"#).unwrap();
    assert_eq!(e.severity, Severity::Default);
    assert_eq!(e.time_source, TimeSource::None);
    assert!(e.timestamp.is_none());
    let e = Entry::parse(r#"{"timestamp":"2025-01-01T02:00:00+02:00"}"#).unwrap();
    assert_eq!(e.timestamp.unwrap().to_rfc3339(), "2025-01-01T00:00:00Z");
}

#[test]
fn other_resources() {
    let gke = r#"{"resource":{"type":"k8s_container","labels":{"cluster_name":"c","container_name":"nginx","location":"europe-west2","namespace_name":"default","pod_name":"nginx-7d9c-abc","project_id":"p"}},"labels":{"k8s-pod/app":"web","k8s-pod/pod-template-hash":"7d9c"}}"#;
    let e = Entry::parse(gke).unwrap();
    assert_eq!(e.place.service.as_deref(), Some("web"));
    assert_eq!(e.place.revision.as_deref(), Some("7d9c"));
    assert_eq!(e.place.location.as_deref(), Some("europe-west2"));
    let gae = r#"{"resource":{"type":"gae_app","labels":{"module_id":"default","version_id":"v2","zone":"us14","project_id":"p"}}}"#;
    let e = Entry::parse(gae).unwrap();
    assert_eq!(e.place.service.as_deref(), Some("default"));
    assert_eq!(e.place.revision.as_deref(), Some("v2"));
    // An instance's zone is not where the version runs: one version, one place.
    assert_eq!(e.place.location, None);
    let job = r#"{"resource":{"type":"cloud_run_job","labels":{"job_name":"j","location":"us-east1","project_id":"p"}},"labels":{"run.googleapis.com/execution_name":"j-abc"}}"#;
    let e = Entry::parse(job).unwrap();
    assert_eq!(e.place.revision.as_deref(), Some("j-abc"));
    let f = r#"{"resource":{"type":"cloud_function","labels":{"function_name":"fn","region":"us-central1"}}}"#;
    assert_eq!(
        Entry::parse(f).unwrap().place.service.as_deref(),
        Some("fn")
    );
    let empty = r#"{"resource":{},"labels":{}}"#;
    assert!(Entry::parse(empty).unwrap().place.service.is_none());
}

/// A load balancer's request log is placed at its backend service (the URL map when
/// no backend was picked), not left without a service (review s27, fx/f1, fx/f16).
#[test]
fn load_balancer_request_logs_are_placed_at_their_backend() {
    let global = r#"{"resource":{"type":"http_load_balancer","labels":{"backend_service_name":"shop-web-bs","forwarding_rule_name":"shop-fr","project_id":"p","target_proxy_name":"shop-proxy","url_map_name":"shop-map","zone":"global"}}}"#;
    let e = Entry::parse(global).unwrap();
    assert_eq!(e.place.service.as_deref(), Some("shop-web-bs"));
    assert_eq!(e.place.revision, None);
    assert_eq!(e.place.location.as_deref(), Some("global"));
    assert_eq!(e.place.project.as_deref(), Some("p"));
    let unpicked = global.replace("shop-web-bs", "");
    let e = Entry::parse(&unpicked).unwrap();
    assert_eq!(e.place.service.as_deref(), Some("shop-map"));
    let regional = r#"{"resource":{"type":"http_external_regional_lb_rule","labels":{"backend_target_name":"ajbx-public-bs","url_map_name":"ajbx-public-um","region":"europe-west2","project_id":"p"}}}"#;
    let e = Entry::parse(regional).unwrap();
    assert_eq!(e.place.service.as_deref(), Some("ajbx-public-bs"));
    assert_eq!(e.place.location.as_deref(), Some("europe-west2"));
}

#[test]
fn split_parts() {
    let a = r#"{"insertId":"a","split":{"uid":"u1","index":0,"totalSplits":2},"logName":"l"}"#;
    let b = r#"{"insertId":"b","split":{"uid":"u1","index":1,"totalSplits":2},"logName":"l"}"#;
    assert!(!Entry::parse(a).unwrap().is_split_continuation());
    let e = Entry::parse(b).unwrap();
    assert!(e.is_split_continuation());
    let s = e.split.unwrap();
    assert_eq!((s.index, s.total), (1, 2));
}

#[test]
fn malformed_records() {
    for bad in ["[1,2]", "{\"a\":", "garbage", "{\"timestamp\":5}", ""] {
        assert!(Entry::parse(bad).is_err(), "{bad}");
    }
    // Odd but legal shapes parse.
    assert!(Entry::parse(r#"{"textPayload":5,"labels":[],"resource":"x"}"#).is_ok());
}

#[test]
fn invalid_utf8_keeps_the_record() {
    let bytes = b"{\"textPayload\":\"caf\xe9 ok\",\"severity\":\"ERROR\"}";
    let mut buf = String::new();
    let text = lossy_text(bytes, &mut buf);
    let e = Entry::parse(text).unwrap();
    assert_eq!(e.severity, Severity::Error);
    assert!(e.message.starts_with("caf"));
}

#[test]
fn log_id_decoding() {
    let e = Entry::parse(r#"{"logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity"}"#)
        .unwrap();
    assert_eq!(
        e.log_id().as_deref(),
        Some("cloudaudit.googleapis.com/activity")
    );
    let e = Entry::parse(r#"{"logName":"projects/project"}"#).unwrap();
    assert_eq!(e.log_id().as_deref(), Some("projects/project"));
    let e = Entry::parse(r#"{"logName":"projects/p/logs/bad%2"}"#).unwrap();
    assert_eq!(e.log_id().as_deref(), Some("bad%2"));
}

#[test]
fn a_lone_surrogate_is_a_replacement_character_not_an_empty_message() {
    // serde_json refuses `\ud83d` alone: the message read as "" (no rule saw it), and
    // in a top-level string field the whole record was malformed.
    let t = r#"{"timestamp":"2025-09-11T15:00:01Z","jsonPayload":{"message":"bad \ud800 surrogate \udfff exit(1).","user":"\ud83d"}}"#;
    let e = Entry::parse(t).unwrap();
    assert_eq!(e.message, "bad \u{FFFD} surrogate \u{FFFD} exit(1).");
    let user = e.get(&Field::parse("jsonPayload.user").unwrap()).unwrap();
    assert_eq!(user.as_text(), "\u{FFFD}");
    let t = r#"{"timestamp":"2025-09-11T15:00:01Z","textPayload":"exit(1). \ud83d"}"#;
    assert_eq!(Entry::parse(t).unwrap().message, "exit(1). \u{FFFD}");
    // A pair stays one character; a high one before another escape keeps that escape.
    let t = r#"{"textPayload":"\ud83d\ude00 \ud83d\n\u00e9"}"#;
    assert_eq!(Entry::parse(t).unwrap().message, "\u{1F600} \u{FFFD}\né");
    // Top-level string fields take the serde path; the record is kept.
    let t = r#"{"insertId":"a\ud83d","logName":"x\udfffy","timestamp":"2025-09-11T15:00:01Z","textPayload":"m"}"#;
    let e = Entry::parse(t).unwrap();
    assert_eq!(e.insert_id.as_deref(), Some("a\u{FFFD}"));
    assert_eq!(e.log_name.as_deref(), Some("x\u{FFFD}y"));
    assert_eq!(e.time_source, TimeSource::Timestamp);
    // A top-level field of the wrong type is still not a LogEntry.
    let err = Entry::parse(r#"{"insertId":12}"#).unwrap_err();
    assert!(
        err.message.starts_with("not a LogEntry: invalid type"),
        "{err}"
    );
    // It names the field, and keeps the position apart for the caller.
    assert!(err.message.ends_with("(in `insertId`)"), "{err}");
    assert_eq!(err.at, Some((1, 2)), "the key's position");
    let err = Entry::parse("{\n  \"insertId\": \"a\",\n  \"logName\": [1]\n}").unwrap_err();
    assert!(err.message.contains("(in `logName`)"), "{err}");
    assert_eq!(err.at.map(|a| a.0), Some(3), "{err:?}");
}

#[test]
fn an_empty_insert_id_gives_no_dedup_key() {
    let t = |id: &str, msg: &str| {
        format!(
            r#"{{"insertId":"{id}","logName":"projects/p/logs/app","timestamp":"2025-09-11T15:00:00Z","textPayload":"{msg}"}}"#
        )
    };
    let (a, b) = (t("", "one"), t("", "two"));
    assert_eq!(Entry::parse(&a).unwrap().dedup_key(), None);
    assert_eq!(Entry::parse(&b).unwrap().dedup_key(), None);
    let (x, y) = (t("x", "one"), t("x", "two"));
    let kx = Entry::parse(&x).unwrap().dedup_key();
    assert!(kx.is_some());
    assert_eq!(kx, Entry::parse(&y).unwrap().dedup_key());
}

#[test]
fn a_wrong_type_names_the_outer_key_at_its_own_line() {
    // A map where a string belongs names the field, not a key inside the map.
    let err = Entry::parse(r#"{"insertId":{"a":1},"textPayload":"x"}"#).unwrap_err();
    assert!(err.message.ends_with("(in `insertId`)"), "{err}");
    // The last key of a pretty object: the reader stops past the `}`, a line on.
    let err = Entry::parse("{\n  \"insertId\": \"a\",\n  \"timestamp\": 5\n}").unwrap_err();
    assert!(err.message.ends_with("(in `timestamp`)"), "{err}");
    assert_eq!(err.at, Some((3, 3)));
}

/// An entry without a message is listed by its payload's keys, never as an empty line.
#[test]
fn message_or_keys_never_empty() {
    let m = |t: &str| Entry::parse(t).unwrap().message_or_keys().into_owned();
    assert_eq!(m(r#"{"jsonPayload":{"message":"m"}}"#), "m");
    assert_eq!(
        m(r#"{"jsonPayload":{"evt":"secret-ish value","level":"error"}}"#),
        "(no message) jsonPayload keys: evt, level"
    );
    let many = r#"{"jsonPayload":{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1}}"#;
    assert_eq!(
        m(many),
        "(no message) jsonPayload keys: a, b, c, d, e, f, g, h, ..."
    );
    assert_eq!(
        m(r#"{"protoPayload":{"@type":"x"}}"#),
        "(no message) protoPayload keys: @type"
    );
    assert_eq!(m(r#"{"insertId":"x"}"#), "(no message, no payload)");
    assert_eq!(
        m(r#"{"jsonPayload":{},"insertId":"x"}"#),
        "(no message, no payload)"
    );
}
