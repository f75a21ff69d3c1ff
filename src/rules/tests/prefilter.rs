//! The prefilter never drops a true match: prefiltered and brute-force matching agree
//! on every example of every default rule, on escaped and mutated variants of them,
//! and on random rules against random entries.

use super::super::{load_str, RuleSet};
use super::defaults;
use crate::entry::Entry;
use proptest::prelude::*;
use serde_json::Value;

/// How a JSON encoder may escape string characters.
#[derive(Debug, Clone, Copy)]
enum Escape {
    None,
    /// Python's `ensure_ascii`: non-ASCII as `\uXXXX`.
    Ascii,
    /// Go / Gson HTML-safe: `<`, `>`, `&`, `'`, `=` as `\u00XX`.
    Html,
    /// `/` as `\/`.
    Slash,
    /// Every character outside the prefilter's safe set.
    Paranoid,
}

const ESCAPES: [Escape; 5] = [
    Escape::None,
    Escape::Ascii,
    Escape::Html,
    Escape::Slash,
    Escape::Paranoid,
];

/// Re-escapes the unescaped characters inside JSON strings.
fn escape(json: &str, how: Escape) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let (mut in_str, mut chars) = (false, json.chars());
    while let Some(c) = chars.next() {
        if !in_str {
            in_str = c == '"';
            out.push(c);
            continue;
        }
        match c {
            '\\' => {
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '"' => {
                in_str = false;
                out.push(c);
            }
            _ => {
                let esc = match how {
                    Escape::None => false,
                    Escape::Ascii => !c.is_ascii(),
                    Escape::Html => "<>&'=".contains(c),
                    Escape::Slash => c == '/',
                    Escape::Paranoid => !super::super::literal::is_safe(c),
                };
                if !esc {
                    out.push(c);
                } else if c == '/' && matches!(how, Escape::Slash) {
                    out.push_str("\\/");
                } else {
                    let mut buf = [0u16; 2];
                    for u in c.encode_utf16(&mut buf) {
                        out.push_str(&format!("\\u{u:04x}"));
                    }
                }
            }
        }
    }
    out
}

fn assert_agree(set: &RuleSet, json: &str) {
    let Ok(e) = Entry::parse(json) else { return };
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    set.match_entry(&e, &mut fast);
    set.match_entry_exhaustive(&e, &mut slow);
    assert_eq!(fast, slow, "prefilter disagrees on {json}");
}

/// Applies one structural mutation through a parsed tree.
fn mutate(json: &str, which: u8, extra: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<Value>(json) else {
        return json.to_string();
    };
    let msg = v
        .pointer("/jsonPayload/message")
        .or_else(|| v.pointer("/textPayload"))
        .and_then(Value::as_str)
        .map(str::to_string);
    match which % 6 {
        0 => {
            if let Some(m) = msg {
                v["textPayload"] = Value::String(m.to_lowercase());
                if let Some(o) = v.get_mut("jsonPayload").and_then(Value::as_object_mut) {
                    o.remove("message");
                }
            }
        }
        1 => {
            if let Some(m) = msg {
                v["jsonPayload"]["message"] = Value::String(m.to_uppercase());
            }
        }
        2 => {
            if let Some(s) = v.pointer("/httpRequest/status").cloned() {
                v["httpRequest"]["status"] = Value::String(s.to_string());
            }
        }
        3 => {
            if let Some(o) = v.get_mut("jsonPayload").and_then(Value::as_object_mut) {
                for (_, x) in o.iter_mut() {
                    if let Value::Bool(b) = x {
                        *x = Value::String(b.to_string());
                    }
                }
            }
        }
        4 => {
            if let Some(m) = msg {
                v["textPayload"] = Value::String(format!("{extra}{m}{extra}"));
            }
        }
        _ => {
            v["jsonPayload"]["message"] = Value::String(extra.to_string());
        }
    }
    v.to_string()
}

fn examples(set: &RuleSet) -> Vec<String> {
    set.rules()
        .iter()
        .flat_map(|r| r.examples.iter().map(|e| e.json.clone()))
        .collect()
}

#[test]
fn every_example_in_every_encoding_agrees() {
    let set = defaults();
    let all = examples(set);
    assert!(all.len() > 50);
    for json in &all {
        for how in ESCAPES {
            let escaped = escape(json, how);
            assert_eq!(
                serde_json::from_str::<Value>(&escaped).unwrap(),
                serde_json::from_str::<Value>(json).unwrap(),
                "escaping changed the value"
            );
            assert_agree(set, &escaped);
            for m in 0..6 {
                assert_agree(set, &escape(&mutate(json, m, "Müller's <b>"), how));
            }
        }
    }
}

/// Words rules look for, to splice into messages.
const VOCAB: &[&str] = &[
    "CRITICAL_AUTH_FAILURE:",
    "Not authenticated",
    "service:",
    "SERVICE_SECRET not configured",
    "probe failed",
    "probe succeeded",
    "Container called exit(1).",
    "exit(0)",
    "café",
    "a/b",
    "x\"y",
    "golden path AT RISK",
    "connection refused",
    "postgres",
    "cloudsql",
    "timed out",
    "Memory limit of 512 MiB exceeded with 600 MiB used",
    "'State' object has no attribute 'k'",
    "X-Service-ID missing",
    "relation \"t\" does not exist",
    "\u{212a}elvin",
    "ſecret",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn mutated_examples_agree(idx in 0usize..10_000, m in 0u8..6, w in 0usize..VOCAB.len(), e in 0usize..5) {
        let set = defaults();
        let all = examples(set);
        let json = &all[idx % all.len()];
        assert_agree(set, &escape(&mutate(json, m, VOCAB[w]), ESCAPES[e]));
    }

    #[test]
    fn random_rules_agree_with_brute_force(rules in proptest::collection::vec(cond(), 1..6), entries in proptest::collection::vec(entry(), 1..8)) {
        let mut src = String::new();
        for (i, when) in rules.iter().enumerate() {
            src.push_str(&format!(
                "[[rule]]\nid = \"R{i}\"\ntitle = \"t\"\nseverity = \"low\"\ndescription = \"d\"\nwhy = \"w\"\nbecause = \"b\"\nwhen = {when}\n\n"
            ));
        }
        let set = load_str("random.toml", &src).unwrap_or_else(|err| panic!("{err}\n{src}"));
        for json in &entries {
            assert_agree(&set, json);
        }
    }
}

/// A TOML literal string (vocabulary has no `'`), or a bare value.
fn lit(s: &str) -> String {
    if s.contains('\'') {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        format!("'{s}'")
    }
}

fn leaf() -> impl Strategy<Value = String> {
    let text_field = prop::sample::select(vec![
        "message",
        "textPayload",
        "jsonPayload.note",
        "labels.k",
    ]);
    let text_op = prop::sample::select(vec!["contains", "starts_with", "ends_with", "equals"]);
    let re = prop::sample::select(vec![
        r"probe (failed|ok)",
        r"exit\(([1-9])\)",
        r"(?i)golden path",
        r"caf.",
        r"a/b|x.y",
        r"^Container",
        r"\d+ MiB",
        r"kelvin",
        r"secret",
    ]);
    prop_oneof![
        (
            text_field.clone(),
            text_op,
            prop::sample::select(VOCAB.to_vec()),
            any::<bool>()
        )
            .prop_map(|(f, o, v, ci)| format!(
                "{{ field = \"{f}\", {o} = {}, case_insensitive = {ci} }}",
                lit(v)
            )),
        (text_field, re, any::<bool>()).prop_map(|(f, r, ci)| format!(
            "{{ field = \"{f}\", regex = '{r}', case_insensitive = {ci} }}"
        )),
        prop::sample::select(vec![
            r#"{ field = "jsonPayload.user_type", equals = "regular" }"#,
            r#"{ field = "jsonPayload.user_type", one_of = ["service", "system"] }"#,
            r#"{ field = "jsonPayload.user_type", missing = true }"#,
            r#"{ field = "jsonPayload.is_service_call", equals = false }"#,
            r#"{ field = "jsonPayload.ctx.stage", exists = true }"#,
            r#"{ field = "httpRequest.status", equals = 403 }"#,
            r#"{ field = "httpRequest.status", gte = 500 }"#,
            r#"{ field = "httpRequest.status", equals = "404" }"#,
            r#"{ field = "httpRequest.status", one_of = [429, 503] }"#,
            r#"{ field = "httpRequest.status", gte = 400, lt = 500 }"#,
            r#"{ field = "httpRequest.status", one_of = [403, "x"], lte = 403 }"#,
            r#"{ field = "severity", gte = "ERROR" }"#,
            r#"{ field = "message", exists = false }"#,
        ])
        .prop_map(str::to_string),
    ]
}

fn cond() -> impl Strategy<Value = String> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..4)
                .prop_map(|v| format!("{{ all = [{}] }}", v.join(", "))),
            proptest::collection::vec(inner.clone(), 1..4)
                .prop_map(|v| format!("{{ any = [{}] }}", v.join(", "))),
            inner.prop_map(|c| format!("{{ not = {c} }}")),
        ]
    })
}

fn entry() -> impl Strategy<Value = String> {
    let words = proptest::collection::vec(prop::sample::select(VOCAB.to_vec()), 0..3);
    (
        words.clone(),
        any::<bool>(),
        words,
        prop::sample::select(vec![None, Some("regular"), Some("service")]),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::sample::select(vec![200u16, 403, 404, 429, 500, 503])),
        prop::sample::select(vec![None, Some("INFO"), Some("ERROR"), Some("500")]),
        any::<bool>(),
        0usize..5,
    )
        .prop_map(|(msg, in_text, note, user_type, svc, status, sev, stage, esc)| {
            let mut v = serde_json::json!({"insertId": "p", "logName": "projects/p/logs/x", "labels": {"k": note.join(" ")}});
            let msg = msg.join(" ");
            if in_text {
                v["textPayload"] = Value::String(msg);
            } else {
                v["jsonPayload"] = serde_json::json!({"message": msg});
            }
            v["jsonPayload"]["note"] = Value::String(note.join(""));
            if let Some(u) = user_type {
                v["jsonPayload"]["user_type"] = Value::String(u.into());
            }
            if let Some(b) = svc {
                v["jsonPayload"]["is_service_call"] = Value::Bool(b);
            }
            if stage {
                v["jsonPayload"]["ctx"] = serde_json::json!({"stage": "s"});
            }
            if let Some(s) = status {
                v["httpRequest"] = serde_json::json!({"status": s});
            }
            if let Some(s) = sev {
                v["severity"] = Value::String(s.into());
            }
            escape(&v.to_string(), ESCAPES[esc])
        })
}

#[test]
fn candidates_do_not_grow_with_rule_count() {
    // 600 rules, each looking for its own marker; plus two structural ones.
    let mut src = String::new();
    for i in 0..600 {
        src.push_str(&format!(
            "[[rule]]\nid = \"R{i}\"\ntitle = \"t\"\nseverity = \"low\"\ndescription = \"d\"\nwhy = \"w\"\nbecause = \"b\"\n\
             when = {{ field = \"message\", contains = \"marker-{i:04}-x\" }}\n\n"
        ));
    }
    src.push_str(
        "[[rule]]\nid = \"S403\"\ntitle = \"t\"\nseverity = \"low\"\ndescription = \"d\"\nwhy = \"w\"\nbecause = \"b\"\n\
         when = { field = \"httpRequest.status\", equals = 403 }\n",
    );
    let set = load_str("many.toml", &src).unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    let quiet =
        Entry::parse(r#"{"textPayload":"nothing to see","logName":"projects/p/logs/x"}"#).unwrap();
    set.candidates(&quiet, &mut out);
    assert!(out.is_empty(), "{out:?}");
    let one = Entry::parse(r#"{"jsonPayload":{"message":"found MARKER-0250-X here"}}"#).unwrap();
    set.candidates(&one, &mut out);
    assert_eq!(out, [250]);
    // The status rule is a numeric test: a 200 is not even a candidate.
    let ok = Entry::parse(r#"{"httpRequest":{"status":200}}"#).unwrap();
    set.candidates(&ok, &mut out);
    assert!(out.is_empty(), "{out:?}");
    let denied = Entry::parse(r#"{"httpRequest":{"status":"403"}}"#).unwrap();
    set.candidates(&denied, &mut out);
    assert_eq!(out, [600]);
    set.match_entry(&denied, &mut out);
    assert_eq!(out, [600]);
}

#[test]
fn numeric_tests_are_ranges_per_field() {
    let src = r#"
[[rule]]
id = "FIVE_XX"
title = "t"
severity = "low"
description = "d"
why = "w"
because = "b"
when = { field = "httpRequest.status", gte = 500, lt = 600 }

[[rule]]
id = "SLOW_OR_429"
title = "t"
severity = "low"
description = "d"
why = "w"
because = "b"
when = { any = [ { field = "httpRequest.status", one_of = [429, 503] }, { field = "jsonPayload.elapsed_ms", gt = 1000 } ] }
"#;
    let set = load_str("nums.toml", src).unwrap_or_else(|e| panic!("{e}"));
    let plans: Vec<&str> = (0..set.len()).map(|i| set.prefilter_plan(i)).collect();
    assert_eq!(plans[0], "any of httpRequest.status gte 500 lt 600");
    let cands = |json: &str| {
        let e = Entry::parse(json).unwrap();
        let mut out = Vec::new();
        set.candidates(&e, &mut out);
        out
    };
    assert_eq!(cands(r#"{"httpRequest":{"status":503}}"#), [0, 1]);
    assert_eq!(cands(r#"{"httpRequest":{"status":599.5}}"#), [0]);
    assert_eq!(
        cands(r#"{"httpRequest":{"status":600}}"#),
        Vec::<usize>::new()
    );
    assert_eq!(cands(r#"{"httpRequest":{"status":"429"}}"#), [1]);
    // Whole codes are looked up in a table; anything else is checked bound by bound.
    assert_eq!(cands(r#"{"httpRequest":{"status":5e2}}"#), [0]);
    assert_eq!(
        cands(r#"{"httpRequest":{"status":499.999}}"#),
        Vec::<usize>::new()
    );
    for odd in ["-503", "0.5", "1503", "1e300"] {
        let json = format!(r#"{{"httpRequest":{{"status":{odd}}}}}"#);
        assert_eq!(cands(&json), Vec::<usize>::new(), "{json}");
    }
    assert_eq!(cands(r#"{"jsonPayload":{"elapsed_ms":"1000.5"}}"#), [1]);
    assert_eq!(
        cands(r#"{"jsonPayload":{"elapsed_ms":1000}}"#),
        Vec::<usize>::new()
    );
    assert_eq!(
        cands(r#"{"httpRequest":{"status":null}}"#),
        Vec::<usize>::new()
    );
}

/// `match_block` gives each entry of a block what `match_entry` gives it alone.
fn assert_block_agrees(set: &RuleSet, jsons: &[String], size: usize) {
    let entries: Vec<Entry<'_>> = jsons.iter().filter_map(|j| Entry::parse(j).ok()).collect();
    let mut m = crate::rules::BlockMatches::default();
    let mut one = Vec::new();
    for block in entries.chunks(size) {
        set.match_block(block, &mut m);
        assert_eq!(m.len(), block.len());
        for (i, e) in block.iter().enumerate() {
            set.match_entry(e, &mut one);
            assert_eq!(m.of(i), &one[..], "block of {size} disagrees on {}", e.raw);
        }
    }
}

#[test]
fn block_matching_agrees_with_matching_one_by_one() {
    let set = defaults();
    let mut all = examples(set);
    all.extend(super::healthy::healthy_entries());
    // Neighbours that only spell a literal when joined, and a message holding a NUL.
    for m in [
        "CRITICAL_AUTH",
        "_FAILURE: detected",
        "x\\u0000CRITICAL_AUTH_FAILURE: y",
        "",
    ] {
        all.push(format!(r#"{{"jsonPayload":{{"message":"{m}"}}}}"#));
    }
    assert!(all.len() > 200, "{}", all.len());
    for size in [1, 2, 3, 7, 128, 1000] {
        assert_block_agrees(set, &all, size);
    }
    let joined: Vec<String> = all[all.len() - 4..].to_vec();
    let entries: Vec<Entry<'_>> = joined.iter().map(|j| Entry::parse(j).unwrap()).collect();
    let mut m = crate::rules::BlockMatches::default();
    set.match_block(&entries, &mut m);
    let (crit, _) = set.get("CRITICAL_AUTH_FAILURE").unwrap();
    assert!(
        m.of(0).is_empty() && m.of(1).is_empty(),
        "joined messages matched"
    );
    assert_eq!(m.of(2), [crit]);
    assert!(m.of(3).is_empty());
}

#[test]
fn exact_field_tests_reject_near_misses_before_full_checks() {
    let set = defaults();
    let (svc, _) = set.get("SERVICE_USER_MISCLASSIFIED").unwrap();
    let mut out = Vec::new();
    // A service user classified correctly has every key the rule reads.
    let ok = Entry::parse(r#"{"jsonPayload":{"message":"SERVICE USER SESSION: Created session","user_id":"service:netra-backend","user_type":"service","is_service_call":true}}"#).unwrap();
    set.candidates(&ok, &mut out);
    assert!(!out.contains(&svc), "{out:?}");
    let bad = Entry::parse(r#"{"jsonPayload":{"message":"m","user_id":"service:netra-backend","user_type":"regular"}}"#).unwrap();
    set.candidates(&bad, &mut out);
    assert!(out.contains(&svc), "{out:?}");
    set.match_entry(&bad, &mut out);
    assert_eq!(out, [svc]);
    assert!(set
        .prefilter_plan(svc)
        .contains("jsonPayload.user_type equals \"regular\""));
}

#[test]
fn healthy_logs_leave_few_candidates() {
    // A regex branch with no literal the prefilter could use made it fall back on
    // DB_CONNECTIVITY_FAILURE's other literals ("database", "postgres"), common in
    // healthy messages: 140 of the 2,901 healthy sample entries became candidates
    // (19 before) and matching cost 5.9x one rule instead of 2.2x.
    let set = defaults();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/healthy.ndjson"
    ))
    .unwrap();
    let (mut entries, mut candidates) = (0, 0);
    let mut out = Vec::new();
    for line in text.lines() {
        let Ok(e) = Entry::parse(line) else { continue };
        entries += 1;
        out.clear();
        set.candidates(&e, &mut out);
        candidates += usize::from(!out.is_empty());
    }
    assert!(entries > 2000, "{entries}");
    assert!(
        candidates * 100 <= entries,
        "{candidates} of {entries} are candidates"
    );
}
