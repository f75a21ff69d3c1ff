//! What analysis concludes, as plain data the report renders (and serialises).

use super::regress::Regression;
use crate::entry::Timestamp;
use serde::Serialize;
use std::collections::BTreeSet;

/// A distinct captured value and how often it was seen.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ValueCount {
    /// The value (redacted by the report).
    pub value: String,
    /// Matches carrying it.
    pub count: u64,
}

/// A capture's top values.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CaptureSummary {
    /// Capture name.
    pub name: String,
    /// Distinct values seen (estimated from a hash sample past 1,000).
    pub distinct: u64,
    /// True when `distinct` and `top` come from a sample.
    pub estimated: bool,
    /// Top values, most frequent first.
    pub top: Vec<ValueCount>,
}

/// Matches on one revision.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RevisionCount {
    /// Service.
    pub service: String,
    /// Revision.
    pub revision: String,
    /// Region, when the logs give it.
    pub region: Option<String>,
    /// Project, when the logs give it.
    pub project: Option<String>,
    /// Matches.
    pub count: u64,
    /// Its first match.
    pub first_seen: Option<String>,
    /// Its last match.
    pub last_seen: Option<String>,
}

/// A sample entry as shown.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SampleView {
    /// RFC 3339 UTC.
    pub timestamp: Option<String>,
    /// Severity.
    pub severity: String,
    /// insertId.
    pub insert_id: String,
    /// trace.
    pub trace: String,
    /// Message (redacted, sanitised by the report).
    pub message: String,
}

/// How a finding's matches are spread over time.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Timeline {
    /// First match.
    pub onset: Option<String>,
    /// Last match.
    pub end: Option<String>,
    /// True when the last match is within one bucket of the end of the logs.
    pub ongoing: bool,
    /// True when the first match is within a minute of the start of the logs: it
    /// was under way before them, so `onset` is only when the logs begin.
    pub under_way_at_start: bool,
    /// Start of the first window or run of matches that met the rule's threshold.
    pub threshold_met: Option<String>,
    /// Matches before `threshold_met`: background the threshold let pass (stray
    /// 500s hours before a burst), so `onset` is not when the burst began.
    pub before_threshold: u64,
    /// Seconds from onset to end.
    pub duration_secs: i64,
    /// "continuous" (every bucket between onset and end has matches) or "bursts".
    pub pattern: String,
    /// Buckets with matches / buckets between onset and end.
    pub active_buckets: u64,
    /// Buckets between onset and end, inclusive.
    pub span_buckets: u64,
    /// Counts per bucket from onset to end.
    pub counts: Vec<u64>,
}

/// Request logs tied to a finding by trace id.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TraceJoin {
    /// Failing requests (status >= 400) whose trace also carries this finding.
    pub failed_requests: u64,
    /// Their status codes.
    pub statuses: Vec<(u16, u64)>,
    /// Distinct traces among the finding's matches.
    pub traces: u64,
    /// True when the counts are scaled up from a hash sample of traces.
    pub estimated: bool,
}

/// A finding's matches on Cloud Run job task attempts that failed and were made good
/// by a later attempt of the same task (same execution and task index) that exited 0.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RetriedTasks {
    /// Matches on those attempts (of the finding's `count`).
    pub matches: u64,
    /// Tasks (execution and task index) whose attempts they were.
    pub tasks: u64,
    /// The rule's own severity: the finding's is `low` when every match is retried.
    pub rule_severity: String,
}

/// A rule that fired (its threshold was met).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    /// Rule id.
    pub rule: String,
    /// Rule title.
    pub title: String,
    /// low, medium, high, critical: the rule's, or low when every match was on a job
    /// task attempt that a later attempt made good (see `retried`).
    pub severity: String,
    /// symptom or cause.
    pub kind: String,
    /// Matches.
    pub count: u64,
    /// First match.
    pub first_seen: Option<String>,
    /// Last match.
    pub last_seen: Option<String>,
    /// Matches per revision.
    pub revisions: Vec<RevisionCount>,
    /// Captured values.
    pub captures: Vec<CaptureSummary>,
    /// Earliest sample entries.
    pub samples: Vec<SampleView>,
    /// Spread over time.
    pub timeline: Timeline,
    /// Request logs sharing a trace with the matches.
    pub join: Option<TraceJoin>,
    /// A Cloud Logging filter that reproduces the evidence.
    pub filter: String,
    /// True when the rule's part of `filter` is a shortened one that also fetches
    /// entries the rule does not match.
    pub filter_shortened: bool,
    /// Matches on job task attempts that succeeded on retry; `None` when none.
    pub retried: Option<RetriedTasks>,
}

/// A rule that matched but stayed below its threshold: said, not alarmed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BelowThreshold {
    /// Rule id.
    pub rule: String,
    /// Matches.
    pub count: u64,
}

/// One revision and what happened on it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RevisionRow {
    /// Service.
    pub service: String,
    /// Revision.
    pub revision: String,
    /// Region, when the logs give it.
    pub region: Option<String>,
    /// Project, when the logs give it.
    pub project: Option<String>,
    /// First entry.
    pub first_seen: Option<String>,
    /// Last entry.
    pub last_seen: Option<String>,
    /// Entries.
    pub entries: u64,
    /// Error entries (ERROR+ or 5xx).
    pub errors: u64,
    /// Matches of fired findings.
    pub findings: u64,
    /// Request logs.
    pub requests: u64,
    /// Requests with status >= 400.
    pub failed_requests: u64,
    /// Tasks of this job execution whose attempts matched rules, failed, and were
    /// made good by a later attempt (0 for anything else): not counted as failures.
    pub retried_tasks: u64,
    /// working, broken or unknown.
    pub verdict: String,
}

/// Request impact of one revision.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Impact {
    /// Service.
    pub service: String,
    /// Revision.
    pub revision: String,
    /// Region, when the logs give it.
    pub region: Option<String>,
    /// Project, when the logs give it.
    pub project: Option<String>,
    /// Request logs.
    pub requests: u64,
    /// Status >= 400.
    pub failed: u64,
    /// failed / requests.
    pub failure_share: f64,
    /// Status code mix, most frequent first.
    pub statuses: Vec<(u16, u64)>,
    /// Most failing endpoints.
    pub top_failing: Vec<(String, u64)>,
    /// Latency percentiles in seconds (upper bounds of log-scale buckets): p50, p95, p99.
    pub latency: Option<[f64; 3]>,
    /// Health checks among `requests`: they succeed on a broken revision too.
    #[serde(skip)]
    pub probes: u64,
    /// Health checks answered with 5xx.
    #[serde(skip)]
    pub probe_server_errors: u64,
    /// The latest 5xx (health checks aside).
    #[serde(skip)]
    pub last_server_error: Option<Timestamp>,
    /// A request to the service answered below 400 after `last_server_error`: the
    /// failures are over.
    #[serde(skip)]
    pub recovered: bool,
}

/// One step of the Five Whys.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Why {
    /// The question.
    pub why: String,
    /// The answer, or a plain statement that the logs do not establish one.
    pub because: String,
    /// True when the logs answer it; false means "what to check next" follows.
    pub established: bool,
    /// Evidence lines (counts, spans, revisions, a sample).
    pub evidence: Vec<String>,
    /// Rules the step rests on.
    pub rules: Vec<String>,
}

/// A recommended action.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Action {
    /// What to do.
    pub title: String,
    /// A ready-to-run command, when there is one.
    pub command: Option<String>,
    /// The rule it comes from (or "regression").
    pub source: String,
}

/// An error template no rule knows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Unknown {
    /// Masked message.
    pub template: String,
    /// Entries.
    pub count: u64,
    /// Revisions it appeared on.
    pub revisions: Vec<String>,
    /// First and last seen.
    pub first_seen: Option<String>,
    /// Last seen.
    pub last_seen: Option<String>,
    /// Appears only on broken revisions.
    pub only_in_failing_revision: bool,
    /// Appears only after the incident's onset.
    pub only_after_onset: bool,
    /// One real message.
    pub example: String,
}

/// The complete conclusion.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Outcome {
    /// Bucket used for timelines and thresholds, seconds.
    pub bucket_secs: i64,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// Rules that matched but stayed under their threshold.
    pub below_threshold: Vec<BelowThreshold>,
    /// Revisions.
    pub revisions: Vec<RevisionRow>,
    /// Regressions.
    pub regressions: Vec<Regression>,
    /// Request impact per revision.
    pub impact: Vec<Impact>,
    /// Revisions, and services in one place, most of whose requests failed: the one
    /// the status names first.
    pub most_requests_fail: Vec<super::failing::MostlyFailing>,
    /// The Five Whys chain.
    pub five_whys: Vec<Why>,
    /// Actions.
    pub actions: Vec<Action>,
    /// Unknown error templates.
    pub unknown: Vec<Unknown>,
    /// Distinct unknown templates in all.
    pub unknown_distinct: usize,
    /// Deploy events seen (time, service, method).
    pub deploys: Vec<(String, String, String)>,
    /// (service, revision) names that run in more than one region or project: where
    /// the report names one, it names the place too.
    #[serde(skip)]
    pub shared_names: BTreeSet<(String, String)>,
}

impl Outcome {
    /// Where a revision ran, for showing beside its name when the name runs in
    /// several places ("europe-west1", "europe-west1, project shop-prod", "region
    /// unknown"); `None` when the name alone is clear. Never a guessed region.
    pub fn place_note(
        &self,
        service: &str,
        revision: &str,
        region: Option<&str>,
        project: Option<&str>,
    ) -> Option<String> {
        let key = (service.to_string(), revision.to_string());
        if !self.shared_names.contains(&key) {
            return None;
        }
        // The project only where the name's places differ in it.
        let projects: BTreeSet<Option<&str>> = self
            .revisions
            .iter()
            .filter(|r| r.service == service && r.revision == revision)
            .map(|r| r.project.as_deref())
            .collect();
        let region = region.unwrap_or("region unknown");
        Some(match project.filter(|_| projects.len() > 1) {
            Some(p) => format!("{region}, project {p}"),
            None => region.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(revision: &str, region: Option<&str>, project: &str) -> RevisionRow {
        RevisionRow {
            service: "s".into(),
            revision: revision.into(),
            region: region.map(str::to_string),
            project: Some(project.into()),
            first_seen: None,
            last_seen: None,
            entries: 0,
            errors: 0,
            findings: 0,
            requests: 0,
            failed_requests: 0,
            retried_tasks: 0,
            verdict: "unknown".into(),
        }
    }

    /// A place is named only beside a name that runs in several; the project only
    /// where they differ in it; a missing region is said to be unknown.
    #[test]
    fn a_shared_revision_name_is_shown_with_its_place() {
        let o = Outcome {
            bucket_secs: 60,
            findings: Vec::new(),
            below_threshold: Vec::new(),
            revisions: vec![
                row("s-1", Some("eu"), "p"),
                row("s-1", Some("us"), "p"),
                row("s-1", None, "p"),
                row("s-2", Some("eu"), "p"),
                row("s-2", Some("eu"), "q"),
                row("s-3", Some("eu"), "p"),
            ],
            regressions: Vec::new(),
            impact: Vec::new(),
            most_requests_fail: Vec::new(),
            five_whys: Vec::new(),
            actions: Vec::new(),
            unknown: Vec::new(),
            unknown_distinct: 0,
            deploys: Vec::new(),
            shared_names: [("s", "s-1"), ("s", "s-2")]
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        };
        let note = |rev: &str, region: Option<&str>, project: &str| {
            o.place_note("s", rev, region, Some(project))
        };
        assert_eq!(note("s-1", Some("eu"), "p").as_deref(), Some("eu"));
        assert_eq!(note("s-1", None, "p").as_deref(), Some("region unknown"));
        assert_eq!(
            note("s-2", Some("eu"), "q").as_deref(),
            Some("eu, project q")
        );
        assert_eq!(note("s-3", Some("eu"), "p"), None);
    }
}
