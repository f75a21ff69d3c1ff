//! `logtriage query` and the report's per-finding evidence filters, applied to every
//! sample (and `../shared/real-exports` when present) by an independent evaluator of
//! the Logging query language (`query/lql.rs`, `query/eval.rs`). Which entries a rule matches comes
//! from the library (`RuleSet::match_entry`), not from the filter code.

mod eval;
mod lql;

use crate::util::*;
use logtriage::entry::Entry;
use logtriage::rules::{load, FilterMode, LoadOptions, RuleSet};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One LogEntry of an input file, with the default rules it matches.
struct Rec {
    json: Value,
    text: String,
    matched: Vec<usize>,
}

fn rec(json: Value) -> Rec {
    let text = json.to_string();
    let mut matched = Vec::new();
    if let Ok(e) = Entry::parse(&text) {
        rules().match_entry(&e, &mut matched);
    }
    Rec {
        text,
        json,
        matched,
    }
}

/// Entries of a file: gzip by its bytes, a JSON array, or NDJSON / concatenated
/// objects. What does not parse is left out (the binary counts it as malformed).
fn entries(path: &Path) -> Vec<Rec> {
    let raw = read(path);
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        raw
    };
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let values: Vec<Value> = if text.starts_with('[') {
        serde_json::from_str::<Vec<Value>>(text).unwrap_or_default()
    } else {
        serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .map_while(Result::ok)
            .collect()
    };
    values
        .into_iter()
        .filter(Value::is_object)
        .map(rec)
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut items: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    items.sort();
    for p in items {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if p.is_dir() {
            walk(&p, out);
        } else if [".json", ".ndjson", ".gz"]
            .iter()
            .any(|x| name.ends_with(x))
        {
            out.push(p);
        }
    }
}

/// Entries that rules match in ways the samples do not show: the message read from
/// a less common key, a negated test, another resource type, a job, an audit status.
const EDGES: &[&str] = &[
    r#"{"insertId":"e1","textPayload":"Container terminated on signal 9.","resource":{"type":"cloud_run_revision","labels":{"service_name":"api"}}}"#,
    r#"{"insertId":"e2","jsonPayload":{"exception":"CRITICAL_AUTH_FAILURE: 403 'Not authenticated' error detected!"}}"#,
    r#"{"insertId":"e3","jsonPayload":{"log":"Memory limit of 512 MiB exceeded with 530 MiB used."},"resource":{"type":"k8s_container","labels":{"container_name":"api"}},"labels":{"k8s-pod/app":"api"}}"#,
    r#"{"insertId":"e4","textPayload":"Uncaught signal: 6, pid=1","resource":{"type":"cloud_run_job","labels":{"job_name":"nightly"}},"labels":{"run.googleapis.com/execution_name":"nightly-x1"}}"#,
    r#"{"insertId":"e5","protoPayload":{"status":{"code":7,"message":"Cloud SQL connection failed. Please see https://cloud.google.com/sql/docs"}},"logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity"}"#,
    r#"{"insertId":"e6","jsonPayload":{"text":"asyncpg: Connection refused while talking to postgres"},"severity":"WARNING"}"#,
    r#"{"insertId":"e7","jsonPayload":{"msg":"Service request WITHOUT X-Service-ID header"},"severity":"WARNING"}"#,
    r#"{"insertId":"e8","httpRequest":{"status":503},"resource":{"type":"http_load_balancer","labels":{}}}"#,
    r#"{"insertId":"e9","jsonPayload":{"user_id":"service:netra-backend","is_service_call":"False"}}"#,
];

/// Every sample file (the folder sample's shards one by one), every real export,
/// every `match` example of the default rules and [`EDGES`]; read once.
fn corpus() -> &'static [(PathBuf, Vec<Rec>)] {
    static CORPUS: std::sync::OnceLock<Vec<(PathBuf, Vec<Rec>)>> = std::sync::OnceLock::new();
    CORPUS.get_or_init(read_corpus)
}

fn read_corpus() -> Vec<(PathBuf, Vec<Rec>)> {
    let mut files = Vec::new();
    walk(&root().join("samples"), &mut files);
    if let Some(real) = real_exports() {
        walk(&real, &mut files);
    }
    let mut out: Vec<(PathBuf, Vec<Rec>)> = files
        .into_iter()
        .map(|p| {
            let e = entries(&p);
            (p, e)
        })
        .collect();
    let examples = rules()
        .rules()
        .iter()
        .flat_map(|r| r.examples.iter())
        .map(|ex| rec(serde_json::from_str(&ex.json).unwrap()))
        .collect();
    out.push((PathBuf::from("<rule examples>"), examples));
    let edges = EDGES
        .iter()
        .map(|e| rec(serde_json::from_str(e).unwrap()))
        .collect();
    out.push((PathBuf::from("<edge entries>"), edges));
    out
}

/// The default rules, loaded once.
fn rules() -> &'static RuleSet {
    static SET: std::sync::OnceLock<RuleSet> = std::sync::OnceLock::new();
    SET.get_or_init(|| load(&LoadOptions::default()).unwrap())
}

/// The filter of a printed `gcloud logging read '<filter>' ...` command (shell
/// single quotes undone).
fn printed_filter(cmd: &str) -> Option<String> {
    let rest = cmd.trim().strip_prefix("gcloud logging read ")?;
    if !rest.starts_with('\'') {
        return None;
    }
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    loop {
        match chars.next() {
            Some('\'') => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
            }
            Some('\\') => out.push(chars.next()?),
            _ => break,
        }
    }
    Some(out)
}

fn query(args: &[&str]) -> (lql::Q, String, Done) {
    let mut run = lt(["query"]);
    for a in args {
        run = run.arg(a);
    }
    let d = run.code(0);
    let f = printed_filter(&d.stdout).unwrap_or_else(|| panic!("no filter in {}", d.stdout));
    let q = lql::parse(&f).unwrap_or_else(|e| panic!("invalid filter: {e}\n{f}"));
    (q, f, d)
}

fn id(r: &Rec) -> String {
    r.json["insertId"].as_str().unwrap_or("?").to_string()
}

/// What the report reads besides rule matches, per `analyze`.
fn report_needs(r: &Rec) -> bool {
    let Ok(e) = Entry::parse(&r.text) else {
        return false;
    };
    let method = r.json["protoPayload"]["methodName"].as_str().unwrap_or("");
    e.is_request()
        || e.severity >= logtriage::entry::Severity::Error
        || ["ReplaceService", "UpdateService", "CreateService"]
            .iter()
            .any(|m| method.contains(&format!("Services.{m}")))
}

#[test]
fn query_keeps_every_entry_a_rule_matches_and_what_the_report_needs() {
    let set = rules();
    let (q, f, _) = query(&[]);
    assert!(f.chars().count() <= 20_000, "{}", f.chars().count());
    let mut missed = Vec::new();
    let (mut matched, mut needed) = (0, 0);
    for (path, recs) in corpus() {
        for r in recs {
            let m = &r.matched;
            let need = report_needs(r);
            matched += usize::from(!m.is_empty());
            needed += usize::from(need);
            if (!m.is_empty() || need) && !eval::eval(&q, &r.json) {
                let ids: Vec<&str> = m.iter().map(|&i| set.rules()[i].id.as_str()).collect();
                missed.push(format!("{}: {} {ids:?}", path.display(), id(r)));
            }
        }
    }
    assert!(
        matched > 5000 && needed > 5000,
        "{matched} matched, {needed} needed"
    );
    for e in EDGES {
        assert!(
            !rec(serde_json::from_str(e).unwrap()).matched.is_empty()
                || e.contains("\"status\":503"),
            "no rule matches {e}"
        );
    }
    assert!(
        missed.is_empty(),
        "{} dropped: {:#?}",
        missed.len(),
        &missed[..missed.len().min(10)]
    );
}

#[test]
fn query_fetches_much_less_of_healthy_logs() {
    let (q, _, _) = query(&[]);
    let recs = entries(&sample("healthy.ndjson"));
    let kept = recs.iter().filter(|r| eval::eval(&q, &r.json)).count();
    let dropped = 1.0 - kept as f64 / recs.len() as f64;
    assert!(
        dropped > 0.30,
        "drops only {:.0}% of healthy.ndjson",
        dropped * 100.0
    );
    // Chatter goes; requests, errors and the deploy stay.
    for r in &recs {
        if report_needs(r) || !r.matched.is_empty() {
            assert!(eval::eval(&q, &r.json), "{}", id(r));
        }
    }
}

#[test]
fn query_for_a_service_keeps_its_matches_and_drops_other_services() {
    let svc = "netra-backend-staging";
    let (q, f, _) = query(&["--service", svc, "--freshness", "2h"]);
    assert!(
        f.starts_with("(resource.labels.service_name=\"netra-backend-staging\" OR "),
        "{f}"
    );
    let (mut kept_other, mut ours) = (0, 0);
    for (path, recs) in corpus() {
        for r in recs {
            let Ok(e) = Entry::parse(&r.text) else {
                continue;
            };
            let service = e.place.service.as_deref().unwrap_or("");
            let wanted = !r.matched.is_empty() || report_needs(r);
            if service == svc && wanted {
                ours += 1;
                assert!(
                    eval::eval(&q, &r.json),
                    "{}: {} dropped",
                    path.display(),
                    id(r)
                );
            }
            if !service.is_empty() && !service.eq_ignore_ascii_case(svc) {
                kept_other += usize::from(eval::eval(&q, &r.json));
            }
        }
    }
    assert!(ours > 3000, "{ours}");
    assert_eq!(kept_other, 0, "entries of other services kept");
}

/// Each rule's own filter, in each of its three lengths, keeps all of its matches.
#[test]
fn every_rule_filter_keeps_the_rules_matches_in_every_mode() {
    let set = rules();
    let corpus = corpus();
    for (i, rule) in set.rules().iter().enumerate() {
        for mode in [FilterMode::Precise, FilterMode::Lean, FilterMode::Compact] {
            let Some(f) = rule.cloud_filter_in(mode) else {
                panic!("{} has no {mode:?} filter", rule.id)
            };
            let q = lql::parse(&f).unwrap_or_else(|e| panic!("{} {mode:?}: {e}\n{f}", rule.id));
            for (path, recs) in corpus {
                for r in recs {
                    if r.matched.contains(&i) {
                        assert!(
                            eval::eval(&q, &r.json),
                            "{} {mode:?} drops {} of {}\n{f}",
                            rule.id,
                            id(r),
                            path.display()
                        );
                    }
                }
            }
        }
    }
}

/// The evidence filter of each finding keeps its sample entries and, with its time
/// bounds, exactly the entries the report counted for the rule.
#[test]
fn evidence_filters_reproduce_each_finding() {
    let set = rules();
    let incidents = [
        "service-auth-regression.json",
        "system-user-auth.ndjson",
        "golden-path-startup",
        "auth-db-connectivity.ndjson.gz",
    ];
    let mut checked = 0;
    for name in incidents {
        let path = sample(name);
        let report = lt(["report", "--format", "json"]).arg(&path).json();
        let mut files = Vec::new();
        if path.is_dir() {
            walk(&path, &mut files);
        } else {
            files.push(path.clone());
        }
        // The report counts an entry once: same log, insertId and timestamp.
        let mut seen = BTreeSet::new();
        let mut recs = Vec::new();
        for f in files {
            for r in entries(&f) {
                let key = (
                    r.json["logName"].to_string(),
                    r.json["insertId"].to_string(),
                    r.json["timestamp"].to_string(),
                );
                if seen.insert(key) {
                    recs.push(r);
                }
            }
        }
        let findings = report["findings"].as_array().unwrap();
        assert!(!findings.is_empty(), "{name}: no findings");
        for finding in findings {
            let rule = finding["rule"].as_str().unwrap();
            let f = finding["filter"].as_str().unwrap();
            let q = lql::parse(f).unwrap_or_else(|e| panic!("{name} {rule}: {e}\n{f}"));
            let (ri, _) = set.get(rule).unwrap();
            for s in finding["samples"].as_array().unwrap() {
                let sid = s["insert_id"].as_str().unwrap();
                let hits: Vec<&Rec> = recs.iter().filter(|r| id(r) == sid).collect();
                assert!(
                    !hits.is_empty(),
                    "{name} {rule}: sample {sid} not in the input"
                );
                assert!(
                    hits.iter().any(|r| eval::eval(&q, &r.json)),
                    "{name} {rule}: filter drops sample {sid}\n{f}"
                );
            }
            let kept: Vec<&Rec> = recs.iter().filter(|r| eval::eval(&q, &r.json)).collect();
            let of_rule = kept.iter().filter(|r| r.matched.contains(&ri)).count();
            let count = finding["count"].as_u64().unwrap() as usize;
            assert_eq!(
                of_rule, count,
                "{name} {rule}: filter keeps {of_rule} matches\n{f}"
            );
            assert!(kept.len() >= count);
            assert!(
                f.contains(&format!(
                    "timestamp>=\"{}\"",
                    finding["first_seen"].as_str().unwrap()
                )) && f.contains(&format!(
                    "timestamp<=\"{}\"",
                    finding["last_seen"].as_str().unwrap()
                )),
                "{name} {rule}: time bounds\n{f}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked} findings checked");
}

#[test]
fn query_command_line() {
    let d = lt(["query", "--freshness", "2w", "--project", "netra-staging"]).code(0);
    assert!(
        d.stdout.starts_with("gcloud logging read '"),
        "{}",
        d.stdout
    );
    assert!(
        d.stdout
            .ends_with("' --freshness=14d --format=json --project=netra-staging\n"),
        "{}",
        d.stdout
    );
    assert_eq!(d.stdout.lines().count(), 1);
    let bad = lt(["query", "--freshness", "6x"]).code(2);
    assert!(bad.stderr.contains("6x"), "{}", bad.stderr);
}

/// Rule sets whose filter is over Cloud Logging's 20,000 characters get a shorter
/// filter that still keeps every match, and stderr says so.
#[test]
fn long_rule_sets_fall_back_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut src = String::new();
    let mut probes = Vec::new();
    for i in 0..60 {
        let needle = format!("distinct failure number {i:02} in module {i:02}");
        src.push_str(&format!(
            "[[rule]]\nid = \"LONG_{i:02}\"\ntitle = \"t\"\nseverity = \"low\"\n\
             description = \"d\"\nwhy = \"w\"\nbecause = \"b\"\n\
             when = {{ all = [ {{ field = \"message\", contains = \"{needle}\" }}, \
             {{ field = \"message\", regex = 'module [0-9]+$' }} ] }}\n\n"
        ));
        probes.push(serde_json::json!({
            "insertId": format!("p{i}"),
            "jsonPayload": {"msg": format!("x {needle}")},
            "severity": "INFO"
        }));
    }
    std::fs::write(dir.path().join("long.toml"), src).unwrap();
    let d = lt(["query", "--no-default-rules", "--rules"])
        .arg(dir.path())
        .code(0);
    assert!(
        d.stderr.contains("over Cloud Logging's limit of 20000"),
        "{}",
        d.stderr
    );
    let f = printed_filter(&d.stdout).unwrap();
    assert!(f.chars().count() <= 20_000);
    let q = lql::parse(&f).unwrap();
    for p in &probes {
        assert!(eval::eval(&q, p), "{p}");
    }
    assert!(!eval::eval(
        &q,
        &serde_json::json!({"jsonPayload": {"msg": "chatter"}})
    ));
}

/// Operators the default packs do not use, on entries shaped to hit the differences
/// between rule semantics and Logging's: numbers written as strings, nulls, booleans
/// written as text, Unicode word characters, other resource types, negations.
#[test]
fn every_operator_keeps_its_matches() {
    let whens = [
        r#"{ field = "jsonPayload.code", equals = 7 }"#,
        r#"{ field = "jsonPayload.code", gte = 500 }"#,
        r#"{ field = "jsonPayload.code", contains = "40" }"#,
        r#"{ field = "jsonPayload.flag", equals = false }"#,
        r#"{ field = "jsonPayload.gone", missing = true }"#,
        r#"{ not = { field = "jsonPayload.gone", exists = true } }"#,
        r#"{ field = "jsonPayload.user", starts_with = "Svc:", case_insensitive = true }"#,
        r#"{ field = "message", regex = 'user \w+ failed\b' }"#,
        r#"{ field = "message", ends_with = "done." }"#,
        r#"{ field = "message", equals = "exactly this" }"#,
        r#"{ all = [ { field = "severity", gte = "WARNING" }, { not = { field = "severity", one_of = ["ERROR"] } } ] }"#,
        r#"{ field = "severity", exists = false }"#,
        r#"{ field = "httpRequest.latency", gt = 2 }"#,
        r#"{ field = "httpRequest.status", one_of = [502, "503"] }"#,
        r#"{ field = "log_id", starts_with = "run.googleapis.com/" }"#,
        r#"{ field = "log_id", equals = "cloudaudit.googleapis.com/activity" }"#,
        r#"{ field = "labels.run.googleapis.com/execution_name", exists = true }"#,
        r#"{ field = "service", equals = "nightly" }"#,
        r#"{ field = "revision", contains = "-0004" }"#,
        r#"{ all = [ { field = "textPayload", exists = true }, { not = { field = "textPayload", contains = "ok", case_insensitive = true } } ] }"#,
        r#"{ any = [ { field = "trace", regex = '^projects/[a-z-]+/traces/[0-9a-f]{32}$' }, { field = "spanId", equals = "1" } ] }"#,
    ];
    let mut src = String::new();
    for (i, w) in whens.iter().enumerate() {
        src.push_str(&format!(
            "[[rule]]\nid = \"OP_{i:02}\"\ntitle = \"t\"\nseverity = \"low\"\ndescription = \"d\"\n\
             why = \"w\"\nbecause = \"b\"\nwhen = {w}\n\n"
        ));
    }
    let set = logtriage::rules::load_str("ops.toml", &src).unwrap();
    let entries = [
        r#"{"jsonPayload":{"code":"7.0","flag":"False","gone":null,"user":"svc:batch","message":"user José failed"}}"#,
        r#"{"jsonPayload":{"code":" 503 ","flag":false,"user":"SVC:x"},"severity":"WARNING","textPayload":"all OK"}"#,
        r#"{"jsonPayload":{"code":404,"err":"job done."},"severity":"NOTICE"}"#,
        r#"{"jsonPayload":{"code":[1,2],"exception":"exactly this"},"severity":"ERROR"}"#,
        r#"{"httpRequest":{"status":503,"latency":"2.5s"},"logName":"projects/p/logs/run.googleapis.com%2Frequests","trace":"projects/my-proj/traces/0123456789abcdef0123456789abcdef"}"#,
        r#"{"httpRequest":{"status":502,"latency":"0.1s"},"spanId":"1","logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity"}"#,
        r#"{"textPayload":"Worker exited","resource":{"type":"cloud_run_job","labels":{"job_name":"nightly"}},"labels":{"run.googleapis.com/execution_name":"nightly-00042"}}"#,
        r#"{"textPayload":"ok then","resource":{"type":"k8s_container","labels":{"container_name":"web"}},"labels":{"k8s-pod/app":"nightly","k8s-pod/pod-template-hash":"abc-0004x"}}"#,
        r#"{"protoPayload":{"status":{"message":"user Ünal failed"},"methodName":"x"},"severity":"CRITICAL"}"#,
    ];
    let recs: Vec<Value> = entries
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let mut covered = BTreeSet::new();
    for (i, rule) in set.rules().iter().enumerate() {
        for mode in [FilterMode::Precise, FilterMode::Lean, FilterMode::Compact] {
            let f = rule.cloud_filter_in(mode);
            let q = f.as_deref().map(|f| {
                lql::parse(f).unwrap_or_else(|e| panic!("{} {mode:?}: {e}\n{f}", rule.id))
            });
            for json in &recs {
                let mut m = Vec::new();
                set.match_entry(&Entry::parse(&json.to_string()).unwrap(), &mut m);
                if m.contains(&i) {
                    covered.insert(i);
                    if let Some(q) = &q {
                        assert!(
                            eval::eval(q, json),
                            "{} {mode:?} drops {json}\n{f:?}",
                            rule.id
                        );
                    }
                }
            }
        }
    }
    assert_eq!(
        covered.len(),
        whens.len(),
        "rules without a matching entry: {covered:?}"
    );
}
