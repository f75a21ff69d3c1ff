//! No secret leaks: the leak corpus (`tests/fixtures/secrets.txt`) is planted where
//! logs put secrets — payload fields named password/api_key/authorization, header
//! dumps, messages of entries that fire default rules (so they become samples and
//! captures), request URLs (query and path tokens) and user agents of 403 request
//! logs, unknown ERROR
//! messages (templates and examples), text cut where samples and examples are cut —
//! and every output format of `report` and `stats` is searched for each secret and
//! every 8-character window of it.

use crate::util::*;
use serde_json::{json, Value};
use std::path::Path;

/// Cases of the leak corpus: secrets, then the log text holding them.
fn corpus() -> Vec<(Vec<String>, String)> {
    let raw = std::fs::read_to_string(fixture("secrets.txt")).unwrap();
    let mut cases: Vec<(Vec<String>, String)> = Vec::new();
    let mut in_text = false;
    for line in raw.lines() {
        if line.starts_with("# ") || line == "#" || (!in_text && line.trim().is_empty()) {
            continue;
        }
        if let Some(secret) = line.strip_prefix("=== ") {
            if in_text || cases.is_empty() {
                cases.push((Vec::new(), String::new()));
                in_text = false;
            }
            cases.last_mut().unwrap().0.push(secret.to_string());
        } else if let Some(case) = cases.last_mut() {
            if in_text {
                case.1.push('\n');
            }
            case.1.push_str(line);
            in_text = true;
        }
    }
    for c in &mut cases {
        c.1.truncate(c.1.trim_end().len());
    }
    assert!(
        cases.len() >= 35,
        "the corpus shrank: {} cases",
        cases.len()
    );
    cases
}

/// More cases: secrets where the corpus does not put them.
fn extra_cases() -> Vec<(Vec<String>, String)> {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiIsInJvbGUiOiJvd25lciJ9.q1W2e3R4t5Y6u7I8o9P0aSdFgHjKl";
    let filler = |n: usize| "x".repeat(n);
    vec![
        // Terminal colours around and inside a secret.
        (
            vec!["Hunter2!xyzColour".into()],
            "\u{1b}[31mERROR\u{1b}[0m login failed: password=\u{1b}[1mHunter2!xyzColour\u{1b}[0m".into(),
        ),
        // Secrets cut in the middle where samples (500 characters) and unknown-error
        // examples (300) are cut.
        (
            vec!["AIzaSyCutCutCut8Hk2mN9pQ7rS3tU6vW1xY5zA0".into()],
            format!(
                "{} AIzaSyCutCutCut8Hk2mN9pQ7rS3tU6vW1xY5zA0 end",
                filler(475 - "CRITICAL_AUTH_FAILURE: 403 'Not authenticated' error detected! ".len())
            ),
        ),
        (
            vec!["sk_live_51CutAtThreeHundredAbCdEfGh".into()],
            format!("{} sk_live_51CutAtThreeHundredAbCdEfGh end", filler(279)),
        ),
        (
            vec!["Pg-Cut-Pa55w0rd-Long".into()],
            format!("{} postgresql://app:Pg-Cut-Pa55w0rd-Long@10.9.8.7:5432/app", filler(270)),
        ),
        (
            vec!["eyJhbGciOiJIUzI1NiJ9.eyJjdXQiOiJ0cnVlIn0.CutCutCutCutCutCut".into()],
            format!("{} Bearer eyJhbGciOiJIUzI1NiJ9.eyJjdXQiOiJ0cnVlIn0.CutCutCutCutCutCut", filler(285)),
        ),
        // JWTs in messages and URLs without a parameter name.
        (vec![jwt.into()], format!("session {jwt} rejected")),
        (
            vec!["ghp_R2d2C3poBb8Luke1Leia2Han3Solo4Yoda5".into()],
            "Authorization: token ghp_R2d2C3poBb8Luke1Leia2Han3Solo4Yoda5".into(),
        ),
        (
            vec!["xoxb-2222222222-3333333333-ZxCvBnMaSdFgHjKl".into()],
            "posting to slack with xoxb-2222222222-3333333333-ZxCvBnMaSdFgHjKl".into(),
        ),
        (
            vec!["AKIAQWERTYUIOP123456".into(), "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdo".into()],
            "AWS_ACCESS_KEY_ID=AKIAQWERTYUIOP123456 AWS_SECRET_ACCESS_KEY=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdo".into(),
        ),
    ]
}

/// The first secret of a case, made URL-safe, for request URLs and paths.
fn url_secret(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

fn resource() -> Value {
    json!({"type": "cloud_run_revision", "labels": {
        "service_name": "payments-api", "revision_name": "payments-api-00007-kqz",
        "location": "us-central1", "project_id": "acme-prod", "configuration_name": "payments-api"}})
}

fn time(i: usize) -> String {
    format!("2025-09-15T17:{:02}:{:02}.{:03}Z", 10 + i / 60, i % 60, i)
}

/// A random-looking token of 24 letters and digits (reset links, webhook and bot
/// tokens put them in URL paths).
fn path_token(i: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..24)
        .map(|k| {
            x ^= x >> 29;
            x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9).wrapping_add(k);
            // Fixed first three characters so every class is present.
            match k {
                0 => 'Q',
                1 => 'z',
                2 => '7',
                _ => ALPHABET[(x >> 33) as usize % ALPHABET.len()] as char,
            }
        })
        .collect()
}

/// A request path carrying a token the way real services do.
fn token_path(i: usize, token: &str) -> String {
    match i % 3 {
        0 => format!("/api/v1/reset/{token}/confirm"),
        1 => format!("/bot7316498520:{token}/sendMessage"),
        _ => format!("/services/T0ABCDEF1/B0ABCDEF2/{token}"),
    }
}

/// LogEntries planting each case's text (and its first secret) in many places;
/// `paths` also puts a token in each request path.
fn entries(cases: &[(Vec<String>, String)], paths: bool) -> Vec<Value> {
    let mut out = Vec::new();
    let stderr = "projects/acme-prod/logs/run.googleapis.com%2Fstderr";
    let requests = "projects/acme-prod/logs/run.googleapis.com%2Frequests";
    for (i, (secrets, text)) in cases.iter().enumerate() {
        let s0 = &secrets[0];
        let u = url_secret(s0);
        let trace = format!("projects/acme-prod/traces/{:032x}", i + 1);
        // Fires CRITICAL_AUTH_FAILURE: message and captured fields are the case's text.
        out.push(json!({
            "insertId": format!("caf-{i}"), "logName": stderr, "resource": resource(),
            "severity": "ERROR", "timestamp": time(3 * i), "trace": trace,
            "jsonPayload": {
                "message": format!("CRITICAL_AUTH_FAILURE: 403 'Not authenticated' error detected! {text}"),
                "user_id": text, "operation": text, "auth_failure_stage": text,
                "likely_cause": text, "user_type": "regular", "is_service_call": false,
                "password": s0, "api_key": s0, "authorization": format!("Bearer {s0}"),
                "client_secret": s0, "db_url": format!("postgresql://svc:{s0}@db:5432/x"),
                "headers": {"Authorization": format!("Bearer {s0}"), "Cookie": format!("session={s0}"),
                            "X-Api-Key": s0, "User-Agent": "curl/8.5"},
            }
        }));
        // A 403 request log sharing its trace: URL path and query, user agent.
        out.push(json!({
            "insertId": format!("req-{i}"), "logName": requests, "resource": resource(),
            "severity": "WARNING", "timestamp": time(3 * i + 1), "trace": trace,
            "httpRequest": {
                "status": 403, "requestMethod": "POST",
                "requestUrl": format!("https://api.acme.test{}?token={u}&next=/home",
                                      if paths { token_path(i, &path_token(i)) } else { "/api/v1/reset".into() }),
                "userAgent": text, "referer": format!("https://app.acme.test/#access_token={u}"),
                "latency": "0.020s",
            }
        }));
        // Unknown errors: a text payload and a JSON message no rule knows.
        out.push(json!({
            "insertId": format!("txt-{i}"), "logName": stderr, "resource": resource(),
            "severity": "ERROR", "timestamp": time(3 * i + 2), "textPayload": text,
        }));
        out.push(json!({
            "insertId": format!("msg-{i}"), "logName": stderr, "resource": resource(),
            "severity": "CRITICAL", "timestamp": time(3 * i + 2),
            "jsonPayload": {"message": format!("worker {i} crashed: {text}"), "error": text},
        }));
    }
    // Enough 403s for HTTP_403_BURST to fire.
    for k in 0..20 {
        out.push(json!({
            "insertId": format!("filler-{k}"), "logName": requests, "resource": resource(),
            "severity": "WARNING", "timestamp": time(k),
            "httpRequest": {"status": 403, "requestMethod": "GET",
                            "requestUrl": "https://api.acme.test/api/v1/health", "userAgent": "probe"}
        }));
    }
    out
}

/// A rule capturing secret-bearing fields, named so and not.
const PROBE_RULES: &str = r#"
[[rule]]
id = "LEAK_PROBE"
title = "Captures every field a secret hides in"
severity = "low"
description = "Test rule: captures secret-named and innocently named fields."
when = { field = "message", contains = "CRITICAL_AUTH_FAILURE:" }
captures = [
  "jsonPayload.password",
  "jsonPayload.api_key",
  "jsonPayload.authorization",
  "jsonPayload.client_secret",
  { field = "jsonPayload.db_url", as = "database" },
  { field = "jsonPayload.headers", as = "hdrs" },
  { field = "message", as = "msg" },
  { field = "jsonPayload.user_id", as = "who" },
]
why = "Why do {who} and {hdrs} show up?"
because = "Because {msg} with {database} and {password}."
check_next = "Check {api_key} and {authorization}."
"#;

/// Every output of `report` (3 formats) and `stats` (2), stdout and stderr together.
fn outputs(input: &Path, rules: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for format in ["markdown", "json", "table"] {
        let d = lt(["report", "--format", format, "--rules"])
            .arg(rules)
            .arg(input)
            .go();
        assert!(
            matches!(d.code, 0 | 1),
            "{}: exit {}\n{}",
            d.desc,
            d.code,
            d.stderr
        );
        out.push((format!("report --format {format}"), d.stdout + &d.stderr));
    }
    for format in ["table", "json"] {
        let d = lt(["stats", "--format", format]).arg(input).code(0);
        out.push((format!("stats --format {format}"), d.stdout + &d.stderr));
    }
    out
}

/// Finds what survives of `secrets` in `text`: the secret or any 8-character window
/// of it (windows that the same output shows without any secret in the input are
/// the report's own words, not a leak).
fn leaks(secrets: &[String], text: &str, clean: &str) -> Vec<String> {
    let mut found = Vec::new();
    for s in secrets {
        if text.contains(s.as_str()) {
            found.push(format!("whole secret {s:?}"));
            continue;
        }
        let chars: Vec<char> = s.chars().collect();
        for w in chars.windows(8.min(chars.len())) {
            let w: String = w.iter().collect();
            if text.contains(&w) && !clean.contains(&w) {
                found.push(format!("{w:?} of {s:?}"));
                break;
            }
        }
    }
    found
}

fn write_ndjson(path: &Path, entries: &[Value]) {
    let mut s = String::new();
    for e in entries {
        s.push_str(&e.to_string());
        s.push('\n');
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn no_secret_survives_any_output_format() {
    let mut cases = corpus();
    cases.extend(extra_cases());
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("probe.toml");
    std::fs::write(&rules, PROBE_RULES).unwrap();
    // Three cases per run: a report shows 3 samples, 5 capture values and 10
    // unknown templates, so every case reaches every section.
    let groups: Vec<&[(Vec<String>, String)]> = cases.chunks(3).collect();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .iter()
            .enumerate()
            .map(|(g, group)| {
                let (dir, rules) = (dir.path(), rules.as_path());
                scope.spawn(move || check_group(g, group, dir, rules))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "secrets leaked:\n{}",
        failures.join("\n")
    );
}

fn check_group(g: usize, group: &[(Vec<String>, String)], dir: &Path, rules: &Path) -> Vec<String> {
    let input = dir.join(format!("group-{g}.ndjson"));
    write_ndjson(&input, &entries(group, true));
    let mut secrets: Vec<String> = group.iter().flat_map(|c| c.0.clone()).collect();
    secrets.extend((0..group.len()).map(path_token));
    let got = outputs(&input, rules);
    // The sections must be there, or the test proves nothing.
    let json = &got[1].1;
    for must in [
        "CRITICAL_AUTH_FAILURE",
        "HTTP_403_BURST",
        "LEAK_PROBE",
        "\"template\"",
    ] {
        assert!(
            json.contains(must),
            "group {g}: no {must} in the report:\n{json}"
        );
    }
    let mut clean_outputs: Option<Vec<(String, String)>> = None;
    let mut failures = Vec::new();
    for (i, (what, text)) in got.iter().enumerate() {
        if leaks(&secrets, text, "").is_empty() {
            continue;
        }
        // Only now run the same entries with the secrets blanked out.
        let clean = clean_outputs.get_or_insert_with(|| {
            let blank: Vec<(Vec<String>, String)> = group
                .iter()
                .map(|(s, t)| {
                    let mut t = t.clone();
                    for x in s {
                        t = t.replace(x.as_str(), "QQQQ");
                    }
                    (vec!["QQQQ".to_string()], t)
                })
                .collect();
            let path = dir.join(format!("group-{g}-clean.ndjson"));
            write_ndjson(&path, &entries(&blank, false));
            outputs(&path, rules)
        });
        for l in leaks(&secrets, text, &clean[i].1) {
            let at = text
                .find(l.split('"').nth(1).unwrap_or_default())
                .unwrap_or(0);
            let context: String = text[at..].chars().take(160).collect();
            failures.push(format!("{what}: {l} in ...{context}..."));
        }
    }
    failures
}

/// A fake EC private key as Cloud Run logs it: one stderr entry per line.
const PEM_LINES: &[&str] = &[
    "-----BEGIN EC PRIVATE KEY-----",
    "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oQQNtP4Yq3sXoAoGCCqGSM49",
    "AwEHoUQDQgAE7Yq+Lm9Nx0Pz/Wq8Rt5Yu2Io9Pa3SdFgHj4Kl7Zx1Cv6Bn0Mq3Wd8",
    "Fe2Rg5Th9Jy4Uk7Lp3Zq8Wx==",
    "-----END EC PRIVATE KEY-----",
];

/// Review s26: secrets in unknown-error messages (their templates were masked, the
/// examples were not), and the secret part of each.
const S26_MESSAGES: &[(&str, &[&str])] = &[
    (
        "vault login ok hvs.CAESIJk3Lm9PqRsTuVwXyZ0123456789abcdefAbCdEf",
        &["hvs.CAESIJk3Lm9PqRsTuVwXyZ0123456789abcdefAbCdEf"],
    ),
    (
        "hf_QpLmZoKnXiJbWhVgUfTeSdRcQbPa987654 rejected by hub",
        &["hf_QpLmZoKnXiJbWhVgUfTeSdRcQbPa987654"],
    ),
    (
        "shopify 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 denied",
        &["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"],
    ),
    (
        "pypi upload failed with pypi-AgEIcHlwaS5vcmcCJGFiY2RlZjAxLTIzNDUtNjc4OS1hYmNkLWVmMDEyMzQ1Njc4OQ",
        &["pypi-AgEIcHlwaS5vcmcCJGFiY2RlZjAxLTIzNDUtNjc4OS1hYmNkLWVmMDEyMzQ1Njc4OQ"],
    ),
    (
        "DigitalOcean dop_v1_8c2e4f6a1b3d5c7e9f0a2b4c6d8e1f3a5b7c9d0e2f4a6b8c1d3e5f7a9b0c2d4e rejected",
        &["dop_v1_8c2e4f6a1b3d5c7e9f0a2b4c6d8e1f3a5b7c9d0e2f4a6b8c1d3e5f7a9b0c2d4e"],
    ),
    (
        "npm publish failed: npm_Rt5Yu2Io9Pa3SdFgHj4Kl7Zx1Cv6Bn0Mq3Wd",
        &["npm_Rt5Yu2Io9Pa3SdFgHj4Kl7Zx1Cv6Bn0Mq3Wd"],
    ),
    (
        "export failed s3://AKIAZ7QF3XK2M9PLW4RT:wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Lm3Np0Q@bucket/key",
        &["AKIAZ7QF3XK2M9PLW4RT", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Lm3Np0Q"],
    ),
    (
        "fetch failed https://user:pa/ss9Word@host.example.com/x",
        &["pa/ss9Word"],
    ),
    (
        "login failed for user bob with password: Tr0ub4dor&3",
        &["Tr0ub4dor&3"],
    ),
    (
        "GET /api/verify?otp=493817&pin=8842&user=7 failed",
        &["493817", "otp=4938", "pin=8842"],
    ),
];

/// Ids a report cites as evidence: the near misses of the s26 rules.
const S26_EVIDENCE: &str = "payment 3f2a9c1b-7e4d-4f6a-8b9c-0d1e2f3a4b5c failed for user 8f14e45f-ceea-467a-9a36-dedd4bea2543 trace 4bf92f3577b34da6a3ce929d0e0e4736 via https://api.example.com:8443/users/@me";

/// A Cloud Run service: a good revision answering 200, then a bad one logging
/// `messages` to stderr (three times each, as text and as JSON messages).
fn s26_entries(messages: &[&str]) -> Vec<Value> {
    let labels = |rev: &str| {
        json!({"type": "cloud_run_revision", "labels": {
            "service_name": "payments-api", "revision_name": rev, "location": "us-central1",
            "project_id": "acme-prod", "configuration_name": "payments-api"}})
    };
    let stderr = "projects/acme-prod/logs/run.googleapis.com%2Fstderr";
    let requests = "projects/acme-prod/logs/run.googleapis.com%2Frequests";
    let mut out = Vec::new();
    for k in 0..30 {
        out.push(json!({
            "insertId": format!("65f1c4a2000d8e3b1b6f{k:04x}"), "logName": requests,
            "resource": labels("payments-api-00007-kqz"), "severity": "INFO",
            "timestamp": time(k),
            "httpRequest": {"status": 200, "requestMethod": "GET",
                            "requestUrl": "https://api.acme.test/api/v1/pay", "latency": "0.020s"}
        }));
    }
    for (i, m) in messages.iter().enumerate() {
        for r in 0..3 {
            let n = 100 + 3 * i + r;
            let mut e = json!({
                "insertId": format!("7a0c3e5d000f1a2b3c4d{n:04x}"), "logName": stderr,
                "resource": labels("payments-api-00008-bad"), "severity": "ERROR",
                "timestamp": time(n),
                "trace": format!("projects/acme-prod/traces/4bf92f3577b34da6a3ce929d0e0e{n:04x}"),
            });
            if r == 2 {
                e["jsonPayload"] =
                    json!({"message": m, "user_id": "8f14e45f-ceea-467a-9a36-dedd4bea2543"});
            } else {
                e["textPayload"] = json!(m);
            }
            out.push(e);
        }
    }
    out
}

#[test]
fn s26_keys_pem_lines_and_passwords_never_reach_a_report() {
    let dir = tempfile::tempdir().unwrap();
    // At most 10 templates per report (PEM lines make 3): two inputs.
    let (first, second) = S26_MESSAGES.split_at(5);
    let mut failures = Vec::new();
    for (n, part) in [first, second].iter().enumerate() {
        let mut messages: Vec<&str> = PEM_LINES.to_vec();
        messages.extend(part.iter().map(|m| m.0));
        messages.push(S26_EVIDENCE);
        let mut secrets: Vec<&str> = part.iter().flat_map(|m| m.1.iter().copied()).collect();
        secrets.extend(&PEM_LINES[1..4]);
        let input = dir.path().join(format!("s26-{n}.ndjson"));
        write_ndjson(&input, &s26_entries(&messages));
        for format in ["markdown", "json", "table"] {
            let d = lt(["report", "--format", format]).arg(&input).go();
            assert!(matches!(d.code, 0 | 1), "{}: {}", d.desc, d.stderr);
            let out = d.stdout + &d.stderr;
            for s in &secrets {
                let s = s.trim_end_matches('=');
                let chars: Vec<char> = s.chars().collect();
                if let Some(w) = chars
                    .windows(8.min(chars.len()))
                    .map(|w| w.iter().collect::<String>())
                    .find(|w| out.contains(w.as_str()))
                {
                    failures.push(format!("{format} of input {n}: {w:?} of {s:?}"));
                }
            }
            if format == "json" {
                let r: Value = serde_json::from_str(&out).unwrap();
                let unknown = r["unknown"].as_array().unwrap();
                assert!(unknown.len() >= part.len() + 3, "{out}");
                // The evidence stays: UUIDs, trace ids, a port, the revision.
                let example = unknown
                    .iter()
                    .map(|u| u["example"].as_str().unwrap())
                    .find(|e| e.starts_with("payment "))
                    .unwrap_or_else(|| panic!("no evidence example in {out}"));
                assert_eq!(example, S26_EVIDENCE);
                assert!(out.contains("payments-api-00008-bad"), "{out}");
            }
        }
    }
    assert!(
        failures.is_empty(),
        "secrets leaked:\n{}",
        failures.join("\n")
    );
}
