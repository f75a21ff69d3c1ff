//! Operator semantics on real entry shapes, one table per concern.

use super::super::load_str;
use super::matching;

const ENTRY: &str = r#"{"httpRequest":{"latency":"0.250s","requestSize":"1234","status":403},"insertId":"x1","jsonPayload":{"message":"CRITICAL_AUTH_FAILURE: 403 'Not authenticated' error detected!","user_id":"service:netra-backend","user_type":"regular","is_service_call":false,"retries":"3","ctx":{"stage":"session_factory_call","attempt":2},"flag":"false","nothing":null,"unicode":"caf\u00e9 \u2014 ok"},"labels":{"run.googleapis.com/execution_name":"job-x"},"logName":"projects/p/logs/run.googleapis.com%2Fstderr","resource":{"labels":{"service_name":"api","location":"us-central1","project_id":"p","revision_name":"api-00002-abc"},"type":"cloud_run_revision"},"severity":"ERROR","timestamp":"2025-09-15T17:38:01Z"}"#;

/// Whether a rule with this `when` matches [`ENTRY`].
fn holds(when: &str) -> bool {
    let src = format!(
        "[[rule]]\nid = \"T\"\ntitle = \"t\"\nseverity = \"low\"\ndescription = \"d\"\nwhy = \"w\"\nbecause = \"b\"\nwhen = {when}\n"
    );
    let set = load_str("t.toml", &src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    !matching(&set, ENTRY).is_empty()
}

#[test]
fn operators() {
    let table: &[(&str, bool)] = &[
        // equals: strings, numbers written either way, booleans written either way.
        (
            r#"{ field = "jsonPayload.user_type", equals = "regular" }"#,
            true,
        ),
        (
            r#"{ field = "jsonPayload.user_type", equals = "Regular" }"#,
            false,
        ),
        (
            r#"{ field = "jsonPayload.user_type", equals = "REGULAR", case_insensitive = true }"#,
            true,
        ),
        (r#"{ field = "httpRequest.status", equals = 403 }"#, true),
        (r#"{ field = "httpRequest.status", equals = "403" }"#, true),
        (r#"{ field = "httpRequest.status", equals = 403.0 }"#, true),
        (
            r#"{ field = "httpRequest.requestSize", equals = 1234 }"#,
            true,
        ),
        (
            r#"{ field = "jsonPayload.is_service_call", equals = false }"#,
            true,
        ),
        (
            r#"{ field = "jsonPayload.is_service_call", equals = "false" }"#,
            true,
        ),
        (r#"{ field = "jsonPayload.flag", equals = false }"#, true),
        (
            r#"{ field = "jsonPayload.is_service_call", equals = true }"#,
            false,
        ),
        (
            r#"{ field = "jsonPayload.ctx.stage", equals = "session_factory_call" }"#,
            true,
        ),
        (
            r#"{ field = "jsonPayload.unicode", equals = "café — ok" }"#,
            true,
        ),
        (r#"{ field = "service", equals = "api" }"#, true),
        (r#"{ field = "revision", starts_with = "api-0000" }"#, true),
        (
            r#"{ field = "log_id", equals = "run.googleapis.com/stderr" }"#,
            true,
        ),
        (
            r#"{ field = "labels.run.googleapis.com/execution_name", equals = "job-x" }"#,
            true,
        ),
        // one_of
        (
            r#"{ field = "httpRequest.status", one_of = [401, 403] }"#,
            true,
        ),
        (
            r#"{ field = "jsonPayload.user_type", one_of = ["service", "system"] }"#,
            false,
        ),
        // contains / starts_with / ends_with, one needle or any of several
        (
            r#"{ field = "message", contains = "'Not authenticated'" }"#,
            true,
        ),
        (
            r#"{ field = "message", contains = ["nope", "error detected"] }"#,
            true,
        ),
        (
            r#"{ field = "message", contains = "not AUTHENTICATED", case_insensitive = true }"#,
            true,
        ),
        (
            r#"{ field = "message", contains = "not AUTHENTICATED" }"#,
            false,
        ),
        (r#"{ field = "message", ends_with = "detected!" }"#, true),
        (
            r#"{ field = "jsonPayload.user_id", starts_with = "user:" }"#,
            false,
        ),
        // regex
        (
            r#"{ field = "message", regex = '^CRITICAL_\w+: (\d{3})' }"#,
            true,
        ),
        (
            r#"{ field = "message", regex = '(?i)critical_auth' }"#,
            true,
        ),
        (
            r#"{ field = "message", regex = 'critical_auth', case_insensitive = true }"#,
            true,
        ),
        (r#"{ field = "message", regex = 'critical_auth' }"#, false),
        // exists / missing: null counts as missing
        (r#"{ field = "jsonPayload.ctx", exists = true }"#, true),
        (r#"{ field = "jsonPayload.nothing", exists = true }"#, false),
        (r#"{ field = "jsonPayload.nothing", missing = true }"#, true),
        (r#"{ field = "jsonPayload.absent", missing = true }"#, true),
        (r#"{ field = "textPayload", exists = false }"#, true),
        (r#"{ field = "severity", exists = true }"#, true),
        // numbers, including numbers written as strings and durations
        (
            r#"{ field = "httpRequest.status", gte = 400, lt = 500 }"#,
            true,
        ),
        (r#"{ field = "httpRequest.status", gt = "403" }"#, false),
        (r#"{ field = "httpRequest.requestSize", gt = 1000 }"#, true),
        (r#"{ field = "httpRequest.latency", gte = 0.25 }"#, true),
        (r#"{ field = "jsonPayload.retries", lte = 3 }"#, true),
        (r#"{ field = "jsonPayload.ctx.attempt", equals = 2 }"#, true),
        (r#"{ field = "jsonPayload.user_type", gt = 1 }"#, false),
        // severity compares by level
        (r#"{ field = "severity", gte = "ERROR" }"#, true),
        (r#"{ field = "severity", gte = "warning" }"#, true),
        (r#"{ field = "severity", gt = "ERROR" }"#, false),
        (r#"{ field = "severity", equals = "ERROR" }"#, true),
        (r#"{ field = "severity", lt = 500 }"#, false),
        (
            r#"{ field = "severity", one_of = ["CRITICAL", "ERROR"] }"#,
            true,
        ),
        // combinators, nested
        (
            r#"{ not = { field = "jsonPayload.user_type", equals = "service" } }"#,
            true,
        ),
        (
            r#"{ all = [{ field = "jsonPayload.user_id", starts_with = "service:" }, { any = [{ field = "jsonPayload.user_type", equals = "regular" }, { field = "jsonPayload.is_service_call", equals = false }] }] }"#,
            true,
        ),
        (
            r#"{ all = [{ field = "jsonPayload.user_id", starts_with = "service:" }, { not = { any = [{ field = "jsonPayload.user_type", equals = "regular" }] } }] }"#,
            false,
        ),
        (
            r#"{ any = [{ field = "message", contains = "zzz" }, { field = "httpRequest.status", equals = 500 }] }"#,
            false,
        ),
    ];
    for (when, want) in table {
        assert_eq!(holds(when), *want, "{when}");
    }
}

#[test]
fn severity_missing_reads_as_default() {
    let src = "[[rule]]\nid = \"T\"\ntitle = \"t\"\nseverity = \"low\"\ndescription = \"d\"\nwhy = \"w\"\nbecause = \"b\"\n\
               when = { field = \"severity\", lt = \"INFO\" }\n";
    let set = load_str("t.toml", src).unwrap();
    assert_eq!(matching(&set, r#"{"textPayload":"x"}"#), ["T"]);
    assert!(matching(&set, r#"{"textPayload":"x","severity":"INFO"}"#).is_empty());
}

#[test]
fn explanations_say_what_failed() {
    let src = "[[rule]]\nid = \"T\"\ntitle = \"t\"\nseverity = \"low\"\ndescription = \"d\"\nwhy = \"w\"\nbecause = \"b\"\n\
               when = { all = [{ field = \"jsonPayload.user_id\", starts_with = \"service:\" }, { field = \"jsonPayload.user_type\", equals = \"service\" }] }\n";
    let set = load_str("t.toml", src).unwrap();
    let e = crate::entry::Entry::parse(ENTRY).unwrap();
    let why = set.rules()[0].explain_mismatch(&e).unwrap();
    assert_eq!(
        why,
        "jsonPayload.user_type is \"regular\", wanted equals \"service\""
    );
}

#[test]
fn captures_read_fields_and_patterns() {
    let src = "[[rule]]\nid = \"T\"\ntitle = \"t\"\nseverity = \"low\"\ndescription = \"d\"\nwhy = \"w {user_id} {stage}\"\nbecause = \"b {code}\"\n\
               when = { field = \"message\", exists = true }\n\
               captures = [\"jsonPayload.user_id\", { field = \"jsonPayload.ctx.stage\", as = \"stage\" }, { field = \"message\", as = \"code\", pattern = ': ([0-9]+)' }, \"jsonPayload.nothing\"]\n";
    let set = load_str("t.toml", src).unwrap();
    let e = crate::entry::Entry::parse(ENTRY).unwrap();
    let vals: Vec<Option<String>> = set.rules()[0]
        .captures
        .iter()
        .map(|c| c.value(&e).map(|v| v.into_owned()))
        .collect();
    assert_eq!(
        vals,
        [
            Some("service:netra-backend".into()),
            Some("session_factory_call".into()),
            Some("403".into()),
            None
        ]
    );
    assert_eq!(set.rules()[0].placeholders(), ["user_id", "stage", "code"]);
}

#[test]
fn captures_are_cut_to_the_limit_whether_borrowed_or_decoded() {
    let src = "[[rule]]\nid = \"T\"\ntitle = \"t\"\nseverity = \"low\"\ndescription = \"d\"\nwhy = \"w\"\nbecause = \"b\"\n\
               when = { field = \"message\", exists = true }\n\
               captures = [\"jsonPayload.plain\", \"jsonPayload.escaped\", { field = \"jsonPayload.escaped\", as = \"tail\", pattern = 'q(é+)$' }]\n";
    let set = load_str("t.toml", src).unwrap();
    let long = "é".repeat(600);
    let rec =
        format!(r#"{{"jsonPayload":{{"message":"m","plain":"{long}","escaped":"\\\"q{long}"}}}}"#);
    let e = crate::entry::Entry::parse(&rec).unwrap();
    let vals: Vec<String> = set.rules()[0]
        .captures
        .iter()
        .map(|c| c.value(&e).unwrap().into_owned())
        .collect();
    let cut = "é".repeat(crate::rules::model::MAX_CAPTURE_CHARS);
    assert_eq!(vals[0], cut);
    assert_eq!(
        vals[1],
        format!(
            "\\\"q{}",
            "é".repeat(crate::rules::model::MAX_CAPTURE_CHARS - 3)
        )
    );
    assert_eq!(vals[2], cut);
}

/// Where a rule with this `when` says it matched [`ENTRY`]'s message, as text.
fn matched_text(when: &str) -> Option<String> {
    let src = format!(
        "[[rule]]\nid = \"T\"\ntitle = \"t\"\nseverity = \"low\"\ndescription = \"d\"\nwhy = \"w\"\nbecause = \"b\"\nwhen = {when}\n"
    );
    let set = load_str("t.toml", &src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    let e = crate::entry::Entry::parse(ENTRY).unwrap_or_else(|e| panic!("{e}"));
    let r = set.rules().first()?;
    assert!(r.matches(&e), "{when}");
    r.message_match(&e).map(|at| e.message[at].to_string())
}

/// The sample excerpt is centred on what the rule matched: the first message leaf that
/// holds, in rule order, on a branch that holds (review s27: a traceback's sample never
/// showed its database error).
#[test]
fn message_match_names_what_matched() {
    let table: &[(&str, Option<&str>)] = &[
        (
            r#"{ field = "message", contains = ["Not authenticated", "403"] }"#,
            Some("403"),
        ),
        (
            r#"{ field = "message", contains = "error DETECTED", case_insensitive = true }"#,
            Some("error detected"),
        ),
        (
            r#"{ field = "message", regex = "'[A-Za-z ]+'" }"#,
            Some("'Not authenticated'"),
        ),
        (
            r#"{ field = "message", starts_with = "CRITICAL_" }"#,
            Some("CRITICAL_"),
        ),
        (r#"{ field = "message", ends_with = "!" }"#, Some("!")),
        // A failure word and a context word: the failure word, listed first, not the
        // context word earlier in the text.
        (
            r#"{ all = [{ field = "severity", gte = "ERROR" }, { field = "message", contains = "detected" }, { field = "message", contains = "CRITICAL" }] }"#,
            Some("detected"),
        ),
        // An alternative that does not hold gives nothing; `not` gives nothing.
        (
            r#"{ any = [{ field = "message", contains = "timeout" }, { field = "message", contains = "error" }] }"#,
            Some("error"),
        ),
        (
            r#"{ all = [{ not = { field = "message", contains = "timeout" } }, { field = "message", contains = "AUTH" }] }"#,
            Some("AUTH"),
        ),
        // Matched on other fields only.
        (r#"{ field = "httpRequest.status", equals = 403 }"#, None),
    ];
    for (when, want) in table {
        assert_eq!(matched_text(when).as_deref(), *want, "{when}");
    }
}
