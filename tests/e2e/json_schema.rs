//! The JSON wire formats pinned by strict local types (ripgrep's `tests/json.rs`
//! habit): `report --format json` (`logtriage/report/v1`) and `stats --format json`
//! (`logtriage/stats/v1`), as documented in `docs/report-json.md`. Every key is
//! required (`null` where the docs allow it), no other key is accepted, enumerated
//! values are enums, and the typed value serialises back to the same JSON, so
//! renaming, dropping or adding a key breaks a test before it breaks a jq script.

use crate::util::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// An `Option` whose key must be present (serde lets a missing `Option` through).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ReportV1 {
    schema: String,
    generator: String,
    input: Input,
    window: Window,
    status: Status,
    rules_loaded: u64,
    bucket_secs: u64,
    findings: Vec<Finding>,
    below_threshold: Vec<Below>,
    revisions: Vec<RevisionRow>,
    regressions: Vec<Regression>,
    impact: Vec<Impact>,
    most_requests_fail: Vec<MostlyFailing>,
    five_whys: Vec<Why>,
    actions: Vec<Action>,
    unknown: Vec<Unknown>,
    unknown_distinct: u64,
    /// `[time, service, method]`.
    deploys: Vec<(String, String, String)>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Input {
    files: u64,
    bytes: u64,
    entries: u64,
    malformed: u64,
    too_large: u64,
    duplicates: u64,
    split_parts: u64,
    filtered_out: u64,
    after_until: u64,
    truncated_inputs: u64,
    unreadable_inputs: u64,
    no_timestamp: u64,
    dedup_exact: bool,
    app_requests_left_out: u64,
    lb_requests_left_out: u64,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Window {
    #[serde(deserialize_with = "nullable")]
    start: Option<String>,
    #[serde(deserialize_with = "nullable")]
    end: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Level {
    Ok,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Status {
    level: Level,
    headline: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
enum RuleSeverity {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Symptom,
    Cause,
    /// A user rule without `kind`.
    Unspecified,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Finding {
    rule: String,
    title: String,
    severity: RuleSeverity,
    kind: Kind,
    count: u64,
    #[serde(deserialize_with = "nullable")]
    first_seen: Option<String>,
    #[serde(deserialize_with = "nullable")]
    last_seen: Option<String>,
    revisions: Vec<RevisionCount>,
    captures: Vec<Capture>,
    samples: Vec<Sample>,
    timeline: Timeline,
    #[serde(deserialize_with = "nullable")]
    join: Option<Join>,
    filter: String,
    filter_shortened: bool,
    #[serde(deserialize_with = "nullable")]
    retried: Option<Retried>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Retried {
    matches: u64,
    tasks: u64,
    rule_severity: RuleSeverity,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RevisionCount {
    service: String,
    revision: String,
    #[serde(deserialize_with = "nullable")]
    region: Option<String>,
    #[serde(deserialize_with = "nullable")]
    project: Option<String>,
    count: u64,
    #[serde(deserialize_with = "nullable")]
    first_seen: Option<String>,
    #[serde(deserialize_with = "nullable")]
    last_seen: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Capture {
    name: String,
    distinct: u64,
    estimated: bool,
    top: Vec<ValueCount>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ValueCount {
    value: String,
    count: u64,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Sample {
    #[serde(deserialize_with = "nullable")]
    timestamp: Option<String>,
    severity: String,
    insert_id: String,
    trace: String,
    message: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
enum Pattern {
    Continuous,
    Bursts,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Timeline {
    #[serde(deserialize_with = "nullable")]
    onset: Option<String>,
    #[serde(deserialize_with = "nullable")]
    end: Option<String>,
    ongoing: bool,
    under_way_at_start: bool,
    #[serde(deserialize_with = "nullable")]
    threshold_met: Option<String>,
    before_threshold: u64,
    duration_secs: i64,
    pattern: Pattern,
    active_buckets: u64,
    span_buckets: u64,
    counts: Vec<u64>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Join {
    failed_requests: u64,
    /// `[status, count]`.
    statuses: Vec<(u16, u64)>,
    traces: u64,
    estimated: bool,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Below {
    rule: String,
    count: u64,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
enum Verdict {
    Working,
    Broken,
    Recovered,
    Unknown,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RevisionRow {
    service: String,
    revision: String,
    #[serde(deserialize_with = "nullable")]
    region: Option<String>,
    #[serde(deserialize_with = "nullable")]
    project: Option<String>,
    #[serde(deserialize_with = "nullable")]
    first_seen: Option<String>,
    #[serde(deserialize_with = "nullable")]
    last_seen: Option<String>,
    entries: u64,
    errors: u64,
    findings: u64,
    requests: u64,
    failed_requests: u64,
    retried_tasks: u64,
    verdict: Verdict,
}

#[derive(Debug, Deserialize, Serialize)]
enum SwitchSource {
    #[serde(rename = "deploy event")]
    DeployEvent,
    #[serde(rename = "first entry of the revision")]
    FirstEntry,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Regression {
    service: String,
    last_good: String,
    first_bad: String,
    switched_at: String,
    switch_source: SwitchSource,
    rules: Vec<String>,
    before: Rate,
    after: Rate,
    #[serde(deserialize_with = "nullable")]
    resolved_by: Option<Rate>,
    rolled_back: bool,
    #[serde(deserialize_with = "nullable")]
    recovered: Option<Recovery>,
    #[serde(deserialize_with = "nullable")]
    region: Option<String>,
    #[serde(deserialize_with = "nullable")]
    project: Option<String>,
    split: bool,
    rollback: bool,
    shared_onset: Vec<SharedOnset>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SharedOnset {
    service: String,
    #[serde(deserialize_with = "nullable")]
    region: Option<String>,
    #[serde(deserialize_with = "nullable")]
    project: Option<String>,
    rule: String,
    failures: u64,
    first_failure: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Recovery {
    last_failure: String,
    requests_since: u64,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Rate {
    revision: String,
    failures: u64,
    entries: u64,
    rate: f64,
    #[serde(deserialize_with = "nullable")]
    first_seen: Option<String>,
    #[serde(deserialize_with = "nullable")]
    first_failure: Option<String>,
    #[serde(deserialize_with = "nullable")]
    last_seen: Option<String>,
    span_secs: i64,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Impact {
    service: String,
    revision: String,
    #[serde(deserialize_with = "nullable")]
    region: Option<String>,
    #[serde(deserialize_with = "nullable")]
    project: Option<String>,
    requests: u64,
    failed: u64,
    failure_share: f64,
    /// `[status, count]`.
    statuses: Vec<(u16, u64)>,
    /// `["METHOD /path", count]`.
    top_failing: Vec<(String, u64)>,
    /// `[p50, p95, p99]` seconds.
    #[serde(deserialize_with = "nullable")]
    latency: Option<[f64; 3]>,
}

#[derive(Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum FailedWith {
    ServerError,
    Rejected,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
enum HealthChecks {
    None,
    Aside,
    Included,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct MostlyFailing {
    service: String,
    revision: String,
    revisions: u64,
    #[serde(deserialize_with = "nullable")]
    region: Option<String>,
    #[serde(deserialize_with = "nullable")]
    project: Option<String>,
    failed_with: FailedWith,
    statuses: Vec<u16>,
    failed: u64,
    requests: u64,
    health_checks: HealthChecks,
    high: bool,
    recovered: bool,
    #[serde(deserialize_with = "nullable")]
    last_failure: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Why {
    why: String,
    because: String,
    established: bool,
    evidence: Vec<String>,
    rules: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Action {
    title: String,
    #[serde(deserialize_with = "nullable")]
    command: Option<String>,
    source: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Unknown {
    template: String,
    count: u64,
    revisions: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    first_seen: Option<String>,
    #[serde(deserialize_with = "nullable")]
    last_seen: Option<String>,
    only_in_failing_revision: bool,
    only_after_onset: bool,
    example: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct StatsV1 {
    schema: String,
    files: u64,
    bytes: u64,
    entries: u64,
    malformed: u64,
    too_large: u64,
    duplicates: u64,
    split_parts: u64,
    filtered_out: u64,
    after_until: u64,
    truncated_inputs: u64,
    unreadable_inputs: u64,
    dedup: Dedup,
    no_timestamp: u64,
    receive_timestamp_only: u64,
    window: Window,
    by_severity: BTreeMap<Severity, u64>,
    by_service: BTreeMap<String, u64>,
    by_revision: Vec<StatsRevision>,
    by_log: BTreeMap<String, u64>,
    by_resource_type: BTreeMap<String, u64>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Dedup {
    exact: bool,
    capacity: u64,
}

#[derive(Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "UPPERCASE")]
enum Severity {
    Default,
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Critical,
    Alert,
    Emergency,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct StatsRevision {
    service: String,
    revision: String,
    entries: u64,
    errors: u64,
    #[serde(deserialize_with = "nullable")]
    first_seen: Option<String>,
    #[serde(deserialize_with = "nullable")]
    last_seen: Option<String>,
}

/// Every shipped sample, plus an empty input (the `null` paths).
fn inputs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = [
        "service-auth-regression.json",
        "system-user-auth.ndjson",
        "golden-path-startup",
        "auth-db-connectivity.ndjson.gz",
        "healthy.ndjson",
    ]
    .iter()
    .map(|s| sample(s))
    .collect();
    v.push(fixture("empty-array.json"));
    // A job whose tasks were retried: `retried` and `retried_tasks` set.
    v.push(fixture("job-retry-mixed.ndjson"));
    v
}

/// Parses strictly, then checks the typed value writes back the same JSON.
fn strict<T: DeserializeOwned + Serialize>(json: &str, what: &str) -> T {
    let typed: T = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("{what}: does not match the documented schema: {e}"));
    let original: Value = serde_json::from_str(json).unwrap();
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(back, original, "{what}: typed round trip differs");
    typed
}

/// A report's JSON parses strictly as `logtriage/report/v1`; its "most requests
/// fail" entries as (failed with, high), for tests whose inputs have some.
pub(crate) fn most_requests_fail_v1(json: &str, what: &str) -> Vec<(String, bool)> {
    let r: ReportV1 = strict(json, what);
    r.most_requests_fail
        .iter()
        .map(|f| {
            let with = if f.failed_with == FailedWith::Rejected {
                "rejected"
            } else {
                "server_error"
            };
            assert!(f.failed <= f.requests && f.revisions >= 1, "{what}: {f:?}");
            (with.to_string(), f.high)
        })
        .collect()
}

#[test]
fn report_json_matches_schema_v1_on_every_sample() {
    let mut levels = Vec::new();
    for path in inputs() {
        let d = lt(["report", "--format", "json"]).arg(&path).code(0);
        let r: ReportV1 = strict(&d.stdout, &d.desc);
        assert_eq!(r.schema, "logtriage/report/v1");
        assert!(r.generator.starts_with("logtriage "), "{}", r.generator);
        for f in &r.findings {
            assert_eq!(
                f.revisions.iter().map(|x| x.count).sum::<u64>(),
                f.count,
                "{}",
                f.rule
            );
            assert!(!f.filter.is_empty() && f.filter.chars().count() <= 20_000);
            assert!(f.samples.len() <= 3 && !f.samples.is_empty(), "{}", f.rule);
        }
        assert!(r.five_whys.len() <= 5);
        levels.push(r.status.level);
    }
    assert!(levels.contains(&Level::Critical) && levels.contains(&Level::Ok));
}

#[test]
fn stats_json_matches_schema_v1_on_every_sample() {
    for path in inputs() {
        let d = lt(["stats", "--format", "json"]).arg(&path).code(0);
        let s: StatsV1 = strict(&d.stdout, &d.desc);
        assert_eq!(s.schema, "logtriage/stats/v1");
        assert_eq!(s.by_severity.values().sum::<u64>(), s.entries, "{}", d.desc);
        assert!(s.by_service.values().sum::<u64>() <= s.entries);
    }
}

/// The strict types really are strict: an extra key, a missing key (also a nullable
/// one) and an unknown enumerated value are all refused.
#[test]
fn strict_types_refuse_drift() {
    let d = lt(["report", "--format", "json"])
        .arg(sample("service-auth-regression.json"))
        .code(0);
    let good: Value = serde_json::from_str(&d.stdout).unwrap();
    let refused = |mutate: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        mutate(&mut v);
        serde_json::from_value::<ReportV1>(v).is_err()
    };
    assert!(refused(&|v| {
        v["findings"][0]["extra"] = Value::Bool(true);
    }));
    assert!(refused(&|v| {
        v["findings"][0].as_object_mut().unwrap().remove("filter");
    }));
    assert!(refused(&|v| {
        v["findings"][0].as_object_mut().unwrap().remove("join");
    }));
    assert!(refused(&|v| {
        v["findings"][0].as_object_mut().unwrap().remove("retried");
    }));
    assert!(refused(&|v| {
        v["window"].as_object_mut().unwrap().remove("start");
    }));
    assert!(refused(&|v| {
        v["status"]["level"] = Value::from("severe");
    }));
    assert!(refused(&|v| {
        v["revisions"][0]["verdict"] = Value::from("fine");
    }));
    assert!(!refused(&|_| {}));
}
