//! Unit tests of the filter derivation; `tests/e2e/query.rs` evaluates the filters
//! on the samples with an independent reading of the query language.

#![allow(clippy::unwrap_used)]

use super::expr::{all, any, not, Expr};
use super::leaf::{seg, MESSAGE_PATHS};
use super::*;
use crate::entry::Entry;
use crate::rules::{load_str, RuleSet};

/// The rules of a one-off rule file (each `when` given inline).
fn rules(whens: &[&str]) -> RuleSet {
    let mut src = String::new();
    for (i, w) in whens.iter().enumerate() {
        src.push_str(&format!(
            "[[rule]]\nid = \"R{i}\"\ntitle = \"t\"\nseverity = \"low\"\ndescription = \"d\"\n\
             why = \"w\"\nbecause = \"b\"\nwhen = {w}\n\n"
        ));
    }
    load_str("t.toml", &src).unwrap_or_else(|e| panic!("{e}\n{src}"))
}

fn filter_of(when: &str) -> Option<String> {
    rules(&[when]).rules()[0].cloud_filter()
}

#[test]
fn precedence_is_explicit() {
    let t = |s: &str| Expr::Term(s.to_string());
    let e = all(vec![
        any(vec![t("a"), t("b")]),
        not(any(vec![t("c"), t("d")])),
        all(vec![t("e"), t("f"), t("e")]),
    ]);
    assert_eq!(e.render(), "(a OR b) AND NOT (c OR d) AND e AND f");
    let o = any(vec![all(vec![t("a"), t("b")]), not(t("c"))]);
    assert_eq!(o.render(), "(a AND b) OR NOT c");
    assert_eq!(all(vec![Expr::True, t("a")]), t("a"));
    assert_eq!(any(vec![Expr::True, t("a")]), Expr::True);
    assert_eq!(all(vec![Expr::False, t("a")]), Expr::False);
    assert_eq!(not(not(t("x"))), t("x"));
}

#[test]
fn strings_and_segments() {
    assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
    assert_eq!(quote("l1\nl2\t\u{1}"), r#""l1\nl2\t\001""#);
    assert_eq!(
        seg("run.googleapis.com/execution_name"),
        "\"run.googleapis.com/execution_name\""
    );
    assert_eq!(seg("user_id"), "user_id");
    assert_eq!(seg("@type"), "@type");
    assert_eq!(seg("OR"), "\"OR\"");
    assert_eq!(seg("9lives"), "\"9lives\"");
}

#[test]
fn leaves_by_field_kind() {
    let cases: &[(&str, Option<&str>)] = &[
        (
            r#"{ field = "httpRequest.status", gte = 499.5, lt = 600 }"#,
            Some("httpRequest.status>=500 AND httpRequest.status<600"),
        ),
        (
            r#"{ field = "httpRequest.status", equals = "403" }"#,
            Some("httpRequest.status=403"),
        ),
        (
            r#"{ field = "httpRequest.latency", gt = 2.5 }"#,
            Some(r#"httpRequest.latency>"2.5s""#),
        ),
        (
            r#"{ field = "httpRequest.cacheHit", equals = true }"#,
            Some("httpRequest.cacheHit=true"),
        ),
        (r#"{ field = "httpRequest.nope", equals = 1 }"#, None),
        (r#"{ field = "timestamp", contains = "2025" }"#, None),
        (
            r#"{ field = "labels.run.googleapis.com/execution_name", exists = true }"#,
            Some(r#"labels."run.googleapis.com/execution_name":*"#),
        ),
        (
            r#"{ field = "jsonPayload.code", equals = 7 }"#,
            Some(
                r#"jsonPayload.code=7 OR jsonPayload.code=~"^[\\s\\x0B\\x{85}\\p{Z}]*[+-]?\\.?[0-9]""#,
            ),
        ),
        (
            r#"{ field = "jsonPayload.user_id", starts_with = "service:" }"#,
            Some(r#"jsonPayload.user_id=~"^service:""#),
        ),
        (
            r#"{ field = "jsonPayload.code", contains = "40" }"#,
            Some(r#"jsonPayload.code:"40" OR (jsonPayload.code:* AND NOT jsonPayload.code=~"^")"#),
        ),
        (
            r#"{ field = "log_id", equals = "run.googleapis.com/requests" }"#,
            Some(r#"log_id("run.googleapis.com/requests")"#),
        ),
        (
            r#"{ field = "log_id", contains = "requests" }"#,
            Some(r#"logName:"requests""#),
        ),
    ];
    for (when, want) in cases {
        assert_eq!(filter_of(when).as_deref(), *want, "{when}");
    }
}

#[test]
fn severity_tests_become_level_sets() {
    let cases = [
        (
            r#"{ field = "severity", gte = "ERROR" }"#,
            "severity>=ERROR",
        ),
        (r#"{ field = "severity", lt = "INFO" }"#, "severity<=DEBUG"),
        (
            r#"{ field = "severity", equals = "warn" }"#,
            "severity=WARNING",
        ),
        (
            r#"{ field = "severity", one_of = ["INFO", "ERROR"] }"#,
            "severity=(INFO OR ERROR)",
        ),
        (
            r#"{ field = "severity", exists = false }"#,
            "severity<=DEFAULT",
        ),
        (
            r#"{ field = "severity", contains = "ERR" }"#,
            "severity=ERROR",
        ),
    ];
    for (when, want) in cases {
        assert_eq!(filter_of(when).as_deref(), Some(want), "{when}");
    }
    assert_eq!(
        filter_of(r#"{ field = "severity", exists = true, missing = false }"#).as_deref(),
        Some("severity>=DEBUG")
    );
}

/// `not` needs the narrow translation: `NOT (what the literal prefilter keeps)` would
/// drop `Container terminated on signal 9`, which the rule matches.
#[test]
fn negation_never_drops_matches() {
    let set = crate::rules::load(&crate::rules::LoadOptions::default()).unwrap();
    let crash = set.get("CLOUD_RUN_CONTAINER_CRASH").unwrap().1;
    let f = crash.cloud_filter().unwrap();
    assert!(!f.contains("NOT"), "{f}");
    let e = Entry::parse(r#"{"textPayload":"Container terminated on signal 9."}"#).unwrap();
    assert!(crash.matches(&e));
    // A narrow translation exists for a plain field: the negation is kept, exactly.
    let f = filter_of(
        r#"{ all = [ { field = "trace", exists = true }, { not = { field = "jsonPayload.k", exists = true } }, { not = { field = "textPayload", contains = "Ok", case_insensitive = true } } ] }"#,
    )
    .unwrap();
    assert_eq!(
        f,
        r#"trace:* AND NOT (jsonPayload.k:* AND NOT jsonPayload.k=NULL_VALUE) AND NOT textPayload=~"[oO][kK]""#
    );
    // A JSON null is absent for rules.
    assert_eq!(
        filter_of(r#"{ field = "jsonPayload.k", missing = true }"#).as_deref(),
        Some("NOT jsonPayload.k:* OR jsonPayload.k=NULL_VALUE")
    );
    assert_eq!(
        filter_of(r#"{ not = { field = "jsonPayload.k", exists = true } }"#).as_deref(),
        Some("NOT (jsonPayload.k:* AND NOT jsonPayload.k=NULL_VALUE)")
    );
    // The message has several sources: nothing narrower than "anything" is safe.
    assert_eq!(
        filter_of(r#"{ not = { field = "message", contains = "x" } }"#),
        None
    );
}

/// The message sources here must be every place `entry` reads the message from.
#[test]
fn message_paths_cover_the_entry_view() {
    let cases = [
        r#"{"jsonPayload":{"message":"NEEDLE"}}"#,
        r#"{"jsonPayload":{"msg":"NEEDLE"}}"#,
        r#"{"jsonPayload":{"textPayload":"NEEDLE"}}"#,
        r#"{"jsonPayload":{"error":"NEEDLE"}}"#,
        r#"{"jsonPayload":{"exception":"NEEDLE"}}"#,
        r#"{"jsonPayload":{"err":"NEEDLE"}}"#,
        r#"{"jsonPayload":{"log":"NEEDLE"}}"#,
        r#"{"jsonPayload":{"text":"NEEDLE"}}"#,
        r#"{"jsonPayload":{"event":"NEEDLE"}}"#,
        r#"{"jsonPayload":{"@m":"NEEDLE"}}"#,
        r#"{"jsonPayload":{"RenderedMessage":"NEEDLE"}}"#,
        r#"{"jsonPayload":{"error":{"message":"NEEDLE"}}}"#,
        r#"{"jsonPayload":{"err":{"message":"NEEDLE"}}}"#,
        r#"{"textPayload":"NEEDLE"}"#,
        r#"{"protoPayload":{"status":{"message":"NEEDLE"}}}"#,
        r#"{"protoPayload":{"methodName":"NEEDLE"}}"#,
    ];
    for json in cases {
        let e = Entry::parse(json).unwrap();
        assert_eq!(e.message, "NEEDLE", "{json}");
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        let path = leaf_path(&v);
        assert!(MESSAGE_PATHS.contains(&path.as_str()), "{path} missing");
    }
}

/// The dotted path of the one string leaf of `v`.
fn leaf_path(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => {
            let (k, v) = m.iter().next().unwrap();
            match v {
                serde_json::Value::String(_) => k.clone(),
                other => format!("{k}.{}", leaf_path(other)),
            }
        }
        _ => String::new(),
    }
}

#[test]
fn regexes_widen_to_literals_or_re2() {
    let f =
        filter_of(r#"{ field = "textPayload", regex = 'Container called exit\(([1-9][0-9]*)\)' }"#);
    assert_eq!(
        f.as_deref(),
        Some(r#"textPayload:"Container called exit(""#)
    );
    let f = filter_of(r#"{ field = "textPayload", regex = '(?i)\bno (x-service|service auth)' }"#);
    assert_eq!(
        f.as_deref(),
        Some(r#"textPayload=~"(?i)no (x-service|service auth)""#)
    );
    let f = filter_of(r#"{ field = "textPayload", regex = '(?x) a b' }"#);
    assert_eq!(f, None);
}

#[test]
fn compact_uses_global_restrictions() {
    let set = rules(&[
        r#"{ all = [ { field = "message", contains = ["a b", "c"] }, { field = "message", regex = '\d+ MiB' } ] }"#,
    ]);
    let r = &set.rules()[0];
    assert_eq!(
        r.cloud_filter_in(FilterMode::Compact).as_deref(),
        Some(r#"("a b" OR "c") AND " MiB""#)
    );
    let lean = r.cloud_filter_in(FilterMode::Lean).unwrap();
    assert!(
        lean.starts_with(r#"textPayload:" MiB" OR jsonPayload.message:" MiB""#),
        "{lean}"
    );
    let precise = r.cloud_filter().unwrap();
    assert!(
        precise.len() > 400 && precise.contains("jsonPayload.exception:"),
        "{precise}"
    );
}

#[test]
fn services_cover_every_resource_type() {
    assert_eq!(service_filter(&[]), None);
    let f = service_filter(&["api".into(), "web".into()]).unwrap();
    assert!(
        f.starts_with(r#"resource.labels.service_name=("api" OR "web") OR "#),
        "{f}"
    );
    assert!(
        f.contains(r#"resource.labels.job_name=("api" OR "web")"#),
        "{f}"
    );
    // A load balancer's request logs are named by their backend (review s27, fx/f1).
    let lb = service_filter_in(&["legacy-bs".into()], Some(&["http_load_balancer"])).unwrap();
    assert_eq!(
        lb,
        r#"resource.labels.backend_service_name="legacy-bs" OR resource.labels.url_map_name="legacy-bs""#
    );
}

#[test]
fn lean_keeps_a_text_test_over_a_severity_floor() {
    // The floor is the shortest part, but `NOT severity<=NOTICE` fetches every
    // warning and error of the project.
    let set = rules(&[
        r#"{ all = [ { not = { field = "severity", one_of = ["DEBUG", "INFO", "NOTICE"] } }, { field = "message", contains = ["could not connect to the database server"] } ] }"#,
    ]);
    let lean = set.rules()[0].cloud_filter_in(FilterMode::Lean).unwrap();
    assert!(!lean.contains("NOT "), "{lean}");
    assert!(lean.contains(r#"textPayload:"could not connect"#), "{lean}");
    // A negation alone is still kept: it is all there is.
    let set = rules(&[r#"{ not = { field = "severity", one_of = ["DEBUG", "INFO"] } }"#]);
    let lean = set.rules()[0].cloud_filter_in(FilterMode::Lean).unwrap();
    assert!(lean.starts_with("NOT "), "{lean}");
}
