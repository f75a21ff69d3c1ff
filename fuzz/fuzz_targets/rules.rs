//! The rule-file loader: `rules::load_str` on arbitrary text. A file that loads has
//! its examples run and is matched against fixed entries; the prefilter must agree
//! with evaluating every rule (it may only skip rules that cannot match).
#![no_main]

use libfuzzer_sys::fuzz_target;
use logtriage::entry::Entry;
use logtriage::rules::{load_str, render, RuleSet};

/// Entries the loaded rules are matched against (plus each rule's own examples).
const ENTRIES: &[&str] = &[
    r#"{"insertId":"a1","jsonPayload":{"message":"CRITICAL_AUTH_FAILURE: 403 'Not authenticated' error detected! User: 'service:netra-backend'","user_id":"service:netra-backend","user_type":"regular","is_service_call":false,"n":"1234","lat":"0.5s"},"logName":"projects/p/logs/run.googleapis.com%2Fstderr","resource":{"labels":{"service_name":"api","revision_name":"api-00002-abc","location":"us-central1","project_id":"p"},"type":"cloud_run_revision"},"severity":"ERROR","timestamp":"2025-09-15T17:38:01.1Z","trace":"projects/p/traces/t1","labels":{"run.googleapis.com/execution_name":"x"}}"#,
    r#"{"httpRequest":{"latency":"0.012311s","requestMethod":"POST","requestUrl":"https://api.example.com/api/agent/run?token=abc","status":403,"userAgent":"python-httpx/0.28.1"},"insertId":"r1","logName":"projects/p/logs/run.googleapis.com%2Frequests","resource":{"labels":{"service_name":"api","revision_name":"api-00002-abc"},"type":"cloud_run_revision"},"severity":"WARNING","timestamp":"2025-09-15T17:38:02Z","trace":"projects/p/traces/t1"}"#,
    r#"{"textPayload":"Traceback (most recent call last):\n  File \"/app/main.py\", line 3\nValueError: É bad value ━ 🚀","severity":"CRITICAL","timestamp":"2025-09-15T17:38:03+02:00","resource":{"type":"k8s_container","labels":{"container_name":"worker"}}}"#,
    r#"{"protoPayload":{"methodName":"google.cloud.run.v1.Services.ReplaceService","status":{"code":7,"message":"Permission denied"},"authenticationInfo":{"principalEmail":"dev@example.com"}},"severity":"NOTICE","logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity","timestamp":"2025-09-15T17:00:00Z"}"#,
    r#"{"jsonPayload":{"msg":"","error":{"code":"E1"},"nested":{"a":{"b":[1,2,{"c":null}]}}},"severity":500,"receiveTimestamp":"2025-09-15T17:38:04.999999999Z"}"#,
    r#"{}"#,
];

fn check_prefilter(set: &RuleSet, e: &Entry<'_>) {
    let (mut fast, mut all) = (Vec::new(), Vec::new());
    set.match_entry(e, &mut fast);
    set.match_entry_exhaustive(e, &mut all);
    assert_eq!(
        fast, all,
        "the prefilter dropped a matching rule on {}",
        e.raw
    );
    for &i in &all {
        let rule = &set.rules()[i];
        assert!(
            rule.explain_mismatch(e).is_none(),
            "{} matches but explains a mismatch",
            rule.id
        );
        for c in &rule.captures {
            let _ = c.value(e);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let src = String::from_utf8_lossy(data);
    let set = match load_str("fuzz.toml", &src) {
        Ok(set) => set,
        Err(errors) => {
            // Every error names the file.
            assert!(errors.to_string().contains("fuzz.toml"), "{errors}");
            return;
        }
    };
    for outcome in set.run_examples() {
        assert!(
            outcome
                .failure
                .as_deref()
                .is_none_or(|f| !f.contains("prefilter dropped")),
            "{outcome}"
        );
        let _ = outcome.to_string();
    }
    for json in ENTRIES {
        let e = Entry::parse(json).expect("fixed entries parse");
        check_prefilter(&set, &e);
    }
    for (i, rule) in set.rules().iter().enumerate() {
        for ex in &rule.examples {
            if let Ok(e) = Entry::parse(&ex.json) {
                check_prefilter(&set, &e);
            }
        }
        let _ = rule.cloud_filter();
        let _ = set.prefilter_plan(i);
        let _ = set.causes_of(i);
        let _ = set.effects_of(i);
        for name in rule.placeholders() {
            let _ = name.len();
        }
        for (_, t) in rule.templates() {
            let _ = render(t, &|n: &str| Some(format!("<{n}>")));
            let _ = render(t, &|_: &str| None);
        }
    }
});
