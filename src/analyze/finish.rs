//! From the merged sink to the outcome: thresholds, findings, revisions, impact,
//! regressions; whys and actions are in `whys.rs`.

use super::failing::{self, Tally};
use super::outcome::*;
use super::regress::{self, RevStats};
use super::sampled::Sampled;
use super::sink::{
    latency_upper, merge_match, min_opt, Analysis, MatchAgg, Place, CAPTURE_CAP, TRACE_CAP,
};
use crate::entry::Timestamp;
use crate::rules::{Rule, RuleKind, RuleSeverity};
use std::collections::{BTreeMap, BTreeSet};

/// Top values kept per capture in the outcome.
const TOP_VALUES: usize = 5;
/// Unknown templates listed.
const TOP_UNKNOWN: usize = 10;

/// Picks a bucket that gives at most ~120 buckets over the window.
pub fn default_bucket(window: Option<(Timestamp, Timestamp)>) -> i64 {
    let span = window.map_or(0, |(a, b)| (b.0 - a.0) / 1_000_000_000);
    for b in [60, 300, 900, 3600, 6 * 3600, 86_400] {
        if span / b <= 120 {
            return b;
        }
    }
    7 * 86_400
}

fn rebucket(series: &BTreeMap<i64, u64>, secs: i64) -> BTreeMap<i64, u64> {
    let mut out = BTreeMap::new();
    for (b, n) in series {
        *out.entry(b.div_euclid(secs) * secs).or_default() += n;
    }
    out
}

fn ts(t: Option<Timestamp>) -> Option<String> {
    t.map(Timestamp::to_rfc3339)
}

/// Per rule: everything summed over the places of the services where it fired.
pub(super) struct RuleTotal<'a> {
    pub idx: usize,
    pub rule: &'a Rule,
    pub count: u64,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    pub series: BTreeMap<i64, u64>,
    pub places: Vec<(&'a Place, &'a MatchAgg)>,
    /// Where the threshold was first met, in seconds (earliest over its services).
    pub met_at: Option<i64>,
    /// Matches before their service's threshold was first met.
    pub before_met: u64,
    /// Of `count`, matches on job task attempts that a later attempt made good.
    pub retried: u64,
    /// Tasks those attempts were of.
    pub retried_tasks: u64,
    /// Services where the rule meets its threshold without those matches: there its
    /// other matches are failures.
    pub failed_on: BTreeSet<&'a str>,
}

impl RuleTotal<'_> {
    /// The rule's severity, or low when it meets its threshold only with matches on
    /// job task attempts that a later attempt of the task made good: the work got
    /// done, so nobody is paged, but the flaky task stays in the report.
    pub fn severity(&self) -> RuleSeverity {
        if self.retried > 0 && self.failed_on.is_empty() {
            RuleSeverity::Low.min(self.rule.severity)
        } else {
            self.rule.severity
        }
    }
}

/// Every match, failed or retried, once per (rule, place): where a place has both,
/// merged into `both` (which the caller keeps alive).
fn all_matches<'a>(
    a: &'a Analysis<'_>,
    both: &'a BTreeMap<(usize, Place), MatchAgg>,
) -> Vec<(&'a (usize, Place), &'a MatchAgg)> {
    let mut v: Vec<_> = a
        .matches
        .iter()
        .chain(&a.retried.matches)
        .filter(|(k, _)| !both.contains_key(k))
        .chain(both)
        .collect();
    v.sort_by(|x, y| x.0.cmp(y.0));
    v
}

/// Merged aggregates of the (rule, place) keys that have both failed and retried
/// matches.
fn overlap(a: &Analysis<'_>) -> BTreeMap<(usize, Place), MatchAgg> {
    a.retried
        .matches
        .iter()
        .filter_map(|(k, r)| {
            let mut m = a.matches.get(k)?.clone();
            merge_match(&mut m, r.clone());
            Some((k.clone(), m))
        })
        .collect()
}

/// The rules that meet their threshold, each summed over the services where it does,
/// and the matches left below threshold, per rule. Thresholds are met per service: a
/// burst of 5xx on one service does not make a lone 5xx on another a finding.
pub(super) fn rule_totals<'a>(
    a: &'a Analysis<'_>,
    all: &[(&'a (usize, Place), &'a MatchAgg)],
    bucket: i64,
) -> (Vec<RuleTotal<'a>>, Vec<BelowThreshold>) {
    // Matches per (rule, service) and bucket.
    let per_service = |aggs: &mut dyn Iterator<Item = (&'a (usize, Place), &'a MatchAgg)>| {
        let mut out: BTreeMap<(usize, &'a str), BTreeMap<i64, u64>> = BTreeMap::new();
        for ((ri, place), m) in aggs {
            let s = out.entry((*ri, place.service.as_str())).or_default();
            for (b, n) in &m.buckets {
                *s.entry(*b).or_default() += n;
            }
        }
        out
    };
    // Requests per service and bucket, for thresholds with a `min_share`.
    let mut served: BTreeMap<&str, BTreeMap<i64, u64>> = BTreeMap::new();
    for (p, r) in &a.requests {
        let s = served.entry(p.service.as_str()).or_default();
        for (b, n) in &r.buckets {
            *s.entry(*b).or_default() += n;
        }
    }
    let none = BTreeMap::new();
    let rules = a.rules.rules();
    // Where each (rule, service) first met its threshold, for those that did.
    let firing_of = |per: BTreeMap<(usize, &'a str), BTreeMap<i64, u64>>| {
        per.iter()
            .filter_map(|((ri, svc), s)| {
                let series: Vec<(i64, u64)> = s.iter().map(|(k, v)| (*k, *v)).collect();
                let requests = served.get(svc).unwrap_or(&none);
                let met = rules
                    .get(*ri)?
                    .threshold
                    .first_met(&series, a.base_secs, requests)?;
                Some(((*ri, *svc), met))
            })
            .collect::<BTreeMap<(usize, &'a str), i64>>()
    };
    let firing = firing_of(per_service(&mut all.iter().copied()));
    // Without the matches that a job task's retry made good: where a rule fires only
    // with them, what failed for good stays below its threshold.
    let firing_failed = if a.retried.matches.is_empty() {
        firing.clone()
    } else {
        firing_of(per_service(&mut a.matches.iter()))
    };
    let mut by: BTreeMap<usize, RuleTotal<'a>> = BTreeMap::new();
    let mut below: BTreeMap<usize, u64> = BTreeMap::new();
    for &(key, m) in all {
        let (ri, place) = key;
        let Some(rule) = rules.get(*ri) else {
            continue;
        };
        let Some(&met) = firing.get(&(*ri, place.service.as_str())) else {
            *below.entry(*ri).or_default() += m.count;
            continue;
        };
        let t = by.entry(*ri).or_insert_with(|| RuleTotal {
            idx: *ri,
            rule,
            count: 0,
            first: None,
            last: None,
            series: BTreeMap::new(),
            places: Vec::new(),
            met_at: None,
            before_met: 0,
            retried: 0,
            retried_tasks: 0,
            failed_on: BTreeSet::new(),
        });
        if firing_failed.contains_key(&(*ri, place.service.as_str())) {
            t.failed_on.insert(place.service.as_str());
        }
        t.retried += a.retried.matches.get(key).map_or(0, |r| r.count);
        t.retried_tasks += a.retried.tasks.get(key).copied().unwrap_or(0);
        t.count += m.count;
        t.met_at = Some(t.met_at.map_or(met, |x| x.min(met)));
        t.before_met += m.buckets.range(..met).map(|(_, n)| n).sum::<u64>();
        t.first = [t.first, m.first].into_iter().flatten().min();
        t.last = [t.last, m.last].into_iter().flatten().max();
        for (b, n) in rebucket(&m.buckets, bucket) {
            *t.series.entry(b).or_default() += n;
        }
        t.places.push((place, m));
    }
    let below = below
        .into_iter()
        .filter_map(|(ri, count)| {
            Some(BelowThreshold {
                rule: rules.get(ri)?.id.clone(),
                count,
            })
        })
        .collect();
    (by.into_values().collect(), below)
}

/// `served_ok`: whether a request of one of the finding's services succeeded before
/// its first match (then it was not under way when the logs began).
fn timeline(
    t: &RuleTotal<'_>,
    bucket: i64,
    window: Option<(Timestamp, Timestamp)>,
    served_ok: bool,
) -> Timeline {
    let end_of_logs = window.map(|w| w.1);
    let first_b = t.series.keys().next().copied();
    let last_b = t.series.keys().next_back().copied();
    let (counts, span) = match (first_b, last_b) {
        (Some(f), Some(l)) => {
            let n = ((l - f) / bucket + 1) as usize;
            let mut v = vec![0u64; n.min(10_000)];
            for (b, c) in &t.series {
                if let Some(slot) = v.get_mut(((b - f) / bucket) as usize) {
                    *slot += c;
                }
            }
            (v, n as u64)
        }
        _ => (Vec::new(), 0),
    };
    let active = t.series.len() as u64;
    // Stray matches before the threshold was met do not date the incident.
    let began = match t.met_at {
        Some(m) if t.before_met > 0 => Some(Timestamp::from_secs(m)),
        _ => t.first,
    };
    // Matches only on job tasks a retry made good: nothing is failing at the end,
    // whenever the last of them came.
    let made_good = t.retried > 0 && t.failed_on.is_empty();
    let ongoing = match (t.last, end_of_logs) {
        (Some(l), Some(e)) => e.0 - l.0 <= bucket * 1_000_000_000 && !made_good,
        _ => false,
    };
    Timeline {
        onset: ts(t.first),
        end: ts(t.last),
        ongoing,
        under_way_at_start: !served_ok
            && match (began, window) {
                (Some(f), Some((start, _))) => f.0 - start.0 <= 60 * 1_000_000_000,
                _ => false,
            },
        threshold_met: t.met_at.map(|m| Timestamp::from_secs(m).to_rfc3339()),
        before_threshold: t.before_met,
        duration_secs: match (t.first, t.last) {
            (Some(a), Some(b)) => (b.0 - a.0) / 1_000_000_000,
            _ => 0,
        },
        pattern: if span > 0 && active == span {
            "continuous"
        } else {
            "bursts"
        }
        .to_string(),
        active_buckets: active,
        span_buckets: span,
        counts,
    }
}

fn captures(rule: &Rule, places: &[(&Place, &MatchAgg)]) -> Vec<CaptureSummary> {
    rule.captures
        .iter()
        .enumerate()
        .map(|(ci, cap)| {
            let mut all: Sampled<String, u64, CAPTURE_CAP> = Sampled::default();
            for (_, m) in places {
                if let Some(map) = m.captures.get(ci) {
                    all.merge(map.clone(), |x, y| *x += y);
                }
            }
            let mut top: Vec<(&str, u64)> = all.iter().map(|(k, _, v)| (k.as_str(), *v)).collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            CaptureSummary {
                name: cap.name.clone(),
                // An estimate from a hash sample can overshoot: never more values
                // than matches.
                distinct: all
                    .distinct_estimate()
                    .min(places.iter().map(|(_, m)| m.count).sum()),
                estimated: all.level() > 0,
                top: top
                    .into_iter()
                    .take(TOP_VALUES)
                    .map(|(v, c)| ValueCount {
                        value: v.to_string(),
                        count: c,
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Failing requests' trace hashes of every place, merged once for all findings.
fn failed_traces(a: &Analysis<'_>) -> Sampled<u64, u16, TRACE_CAP> {
    let mut all: Sampled<u64, u16, TRACE_CAP> = Sampled::default();
    for r in a.requests.values() {
        all.merge(r.failed_traces.clone(), |x, y| *x = (*x).max(y));
    }
    all
}

fn join(
    failed_traces: &Sampled<u64, u16, TRACE_CAP>,
    places: &[(&Place, &MatchAgg)],
) -> Option<TraceJoin> {
    let mut traces: Sampled<u64, (), TRACE_CAP> = Sampled::default();
    for (_, m) in places {
        traces.merge(m.traces.clone(), |_, _| {});
    }
    if traces.is_empty() {
        return None;
    }
    // Compare both sides at the same sampling level, then scale back up.
    let level = traces.level().max(failed_traces.level());
    let keep = |h: u64| h <= u64::MAX.checked_shr(level).unwrap_or(0);
    let scale = 1u64 << level.min(63);
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let mut failed = 0;
    for (t, h, s) in failed_traces.iter() {
        if keep(h) && traces.contains(t) {
            failed += scale;
            *statuses.entry(*s).or_default() += scale;
        }
    }
    if failed == 0 {
        return None;
    }
    Some(TraceJoin {
        failed_requests: failed,
        statuses: statuses.into_iter().collect(),
        traces: traces.distinct_estimate(),
        estimated: level > 0,
    })
}

/// Length up to which a report's evidence filter is still read, not only pasted.
const READABLE_FILTER_CHARS: usize = 2_000;

/// A Cloud Logging filter reproducing a finding's evidence: the finding's services
/// under the labels that hold them for the input's resource `types` (left out when
/// some matches had none), the rule's filter, and the first to last match inclusive
/// (timestamps are exact to the nanosecond). Within Cloud Logging's length limit: a
/// shorter rule filter when the full one is too long, else none. True with it when the
/// rule's part was shortened (it then fetches more than the matches).
fn evidence_filter(
    t: &RuleTotal<'_>,
    types: &BTreeMap<String, u64>,
    regions: &BTreeMap<String, BTreeSet<String>>,
) -> (String, bool) {
    use crate::rules::{cloud_quote, service_filter_in, FilterMode, MAX_FILTER_CHARS};
    let mut services: Vec<String> = Vec::new();
    let mut unplaced = false;
    for (p, _) in &t.places {
        if p.service.is_empty() {
            unplaced = true;
        } else if !services.contains(&p.service) {
            services.push(p.service.clone());
        }
    }
    services.sort();
    let scope = if unplaced {
        None
    } else {
        let types: Vec<&str> = types.keys().map(String::as_str).collect();
        service_filter_in(&services, Some(&types)).map(|s| {
            // Where the finding's services run in several regions but it was seen
            // in one, that region (Cloud Run keeps it in `location`).
            let one: BTreeSet<&str> = t.places.iter().map(|(p, _)| p.region.as_str()).collect();
            let split = services
                .iter()
                .any(|s| regions.get(s).is_some_and(|r| r.len() > 1));
            let run_only = types
                .iter()
                .all(|k| matches!(*k, "cloud_run_revision" | "cloud_run_job"));
            match one.into_iter().next().filter(|r| !r.is_empty()) {
                Some(r) if split && run_only && t.places.iter().all(|(p, _)| p.region == r) => {
                    format!("({s}) AND resource.labels.location={}", cloud_quote(r))
                }
                _ => format!("({s})"),
            }
        })
    };
    let mut times = Vec::new();
    if let Some(first) = t.first {
        times.push(format!("timestamp>={}", cloud_quote(&first.to_rfc3339())));
    }
    if let Some(last) = t.last {
        times.push(format!("timestamp<={}", cloud_quote(&last.to_rfc3339())));
    }
    let used: usize = scope
        .iter()
        .chain(&times)
        .map(|p| p.chars().count() + 5)
        .sum();
    // A reader copies this from the report: the precise filter while it stays short
    // enough to read, then a lean one, and only then longer ones up to Logging's limit.
    let fits = |f: &String, limit: usize| used + f.chars().count() + 2 <= limit;
    let rule = [
        (FilterMode::Precise, READABLE_FILTER_CHARS),
        (FilterMode::Lean, READABLE_FILTER_CHARS),
        (FilterMode::Precise, MAX_FILTER_CHARS),
        (FilterMode::Lean, MAX_FILTER_CHARS),
        (FilterMode::Compact, MAX_FILTER_CHARS),
    ]
    .into_iter()
    .find_map(|(m, limit)| {
        let f = t.rule.cloud_filter_in(m).filter(|f| fits(f, limit))?;
        Some((format!("({f})"), m != FilterMode::Precise))
    });
    let shortened = rule.as_ref().is_none_or(|r| r.1);
    let parts: Vec<String> = scope
        .into_iter()
        .chain(rule.map(|r| r.0))
        .chain(times)
        .collect();
    (parts.join(" AND "), shortened)
}

/// Builds findings, revisions, regressions, impact and unknown templates; the
/// whys come after the report has redacted the findings (see `explain`).
/// The revisions compared with each other: (service, (region, project), Cloud Run
/// revisions among other kinds). The place is ("", "") unless the name runs in several.
type Group<'a> = (&'a str, (&'a str, &'a str), bool);

/// How long after its last 5xx a good request shows the failures over.
const RECOVERED_SECS: i64 = 300;

/// A region or project as the report gives it: `None` when the logs do not say.
fn known(s: &str) -> Option<String> {
    Some(s.to_string()).filter(|s| !s.is_empty())
}

pub fn finish(
    a: &Analysis<'_>,
    bucket: Option<i64>,
    others: Option<(Timestamp, Timestamp)>,
) -> Outcome {
    let window = a.counts.window;
    // "Under way when the logs begin" and "ongoing" are judged against the logs'
    // ends, which entries of services left out by --service may lie beyond.
    let logs = match (window, others) {
        (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
        (w, None) | (None, w) => w,
    };
    let bucket = bucket
        .unwrap_or_else(|| default_bucket(window))
        .max(a.base_secs);
    let both = overlap(a);
    let all = all_matches(a, &both);
    let (totals, below) = rule_totals(a, &all, bucket);
    let mut fired: Vec<&RuleTotal<'_>> = totals.iter().collect();
    fired.sort_by(|x, y| {
        y.severity()
            .cmp(&x.severity())
            .then(y.count.cmp(&x.count))
            .then(x.rule.id.cmp(&y.rule.id))
    });
    // (rule, service) pairs that make findings.
    let fired_on: BTreeSet<(usize, &str)> = fired
        .iter()
        .flat_map(|t| t.failed_on.iter().map(|s| (t.idx, *s)))
        .collect();
    let failed = failed_traces(a);
    // The earliest good request per service (health checks aside).
    let mut first_ok: BTreeMap<&str, Timestamp> = BTreeMap::new();
    for (p, r) in &a.requests {
        if let Some(t) = r.first_ok {
            let v = first_ok.entry(p.service.as_str()).or_insert(t);
            *v = (*v).min(t);
        }
    }
    let findings: Vec<Finding> = fired
        .iter()
        .map(|t| {
            let mut revisions: Vec<RevisionCount> = t
                .places
                .iter()
                .map(|(p, m)| RevisionCount {
                    service: p.service.clone(),
                    revision: p.revision.clone(),
                    region: known(&p.region),
                    project: known(&p.project),
                    count: m.count,
                    first_seen: ts(m.first),
                    last_seen: ts(m.last),
                })
                .collect();
            revisions.sort_by(|x, y| {
                y.count
                    .cmp(&x.count)
                    .then(x.revision.cmp(&y.revision))
                    .then(x.region.cmp(&y.region))
            });
            let mut samples: Vec<_> = t
                .places
                .iter()
                .flat_map(|(_, m)| m.samples.iter())
                .collect();
            samples.sort();
            samples.dedup();
            let (filter, filter_shortened) = evidence_filter(t, &a.counts.by_resource, &a.regions);
            Finding {
                rule: t.rule.id.clone(),
                title: t.rule.title.clone(),
                severity: t.severity().to_string(),
                kind: t.rule.kind.to_string(),
                count: t.count,
                first_seen: ts(t.first),
                last_seen: ts(t.last),
                revisions,
                captures: captures(t.rule, &t.places),
                samples: samples
                    .into_iter()
                    .take(super::sink::SAMPLES)
                    .map(|s| SampleView {
                        timestamp: ts(s.timestamp),
                        severity: s.severity.clone(),
                        insert_id: s.insert_id.clone(),
                        trace: s.trace.clone(),
                        message: s.message.clone(),
                    })
                    .collect(),
                timeline: timeline(
                    t,
                    bucket,
                    logs,
                    t.first.is_some_and(|f| {
                        t.places.iter().any(|(p, _)| {
                            first_ok.get(p.service.as_str()).is_some_and(|ok| *ok < f)
                        })
                    }),
                ),
                join: join(&failed, &t.places),
                filter,
                filter_shortened,
                retried: (t.retried > 0).then(|| RetriedTasks {
                    matches: t.retried,
                    tasks: t.retried_tasks,
                    rule_severity: t.rule.severity.to_string(),
                }),
            }
        })
        .collect();

    // Revisions, with failures = matches of fired findings.
    // A service name in several regions or projects is that many services, each with
    // its own revisions: they are compared only with each other.
    let with_revision = || a.by_place.iter().filter(|(p, _)| !p.revision.is_empty());
    let mut spread: BTreeMap<&str, BTreeSet<(&str, &str)>> = BTreeMap::new();
    // Names that run in more than one place: shown with their place.
    let mut names: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (p, _) in with_revision() {
        spread
            .entry(p.service.as_str())
            .or_default()
            .insert((p.region.as_str(), p.project.as_str()));
        *names.entry((&p.service, &p.revision)).or_default() += 1;
    }
    // Known places only: a place without a location does not make a service run in
    // one more region (its entries were given to their name's one region, or stay
    // unplaced when the name runs in several).
    for places in spread.values_mut() {
        if places.iter().any(|w| !w.0.is_empty()) {
            places.retain(|w| !w.0.is_empty());
        }
        places.retain(|w| *w != ("", ""));
    }
    // A GKE deployment and a Cloud Run service of one name are two services too.
    let mut kinds: BTreeMap<&str, BTreeSet<bool>> = BTreeMap::new();
    for (p, _) in with_revision() {
        kinds
            .entry(p.service.as_str())
            .or_default()
            .insert(a.run_revisions.contains(p));
    }
    let mut per_service: BTreeMap<Group<'_>, Vec<RevStats>> = BTreeMap::new();
    // Each compared revision's place, by group and revision name.
    let mut place_in: BTreeMap<(Group<'_>, &str), &Place> = BTreeMap::new();
    // Places whose region the logs do not give while their name runs in several:
    // shown, never compared (their entries are some region's, which is unknown).
    let mut unplaced: Vec<(&Place, RevStats)> = Vec::new();
    // Distinct entries that matched a fired finding, per place.
    let mut matched: BTreeMap<&Place, u64> = BTreeMap::new();
    for (p, rc) in with_revision() {
        let svc = &p.service;
        let mut by_rule = BTreeMap::new();
        let mut first_failure: Option<Timestamp> = None;
        let mut last_failure: Option<Timestamp> = None;
        // Matches per minute, for when they came (pauses, a start before a switch).
        let mut failure_minutes: BTreeMap<i64, u64> = BTreeMap::new();
        for t in &fired {
            if !t.failed_on.contains(svc.as_str()) {
                continue;
            }
            for (_, m) in t.places.iter().filter(|(at, _)| *at == p) {
                // Only what failed: matches on task attempts retried to success are
                // no failure of the execution.
                let m = match a.retried.matches.is_empty() {
                    true => Some(*m),
                    false => a.matches.get(&(t.idx, p.clone())),
                };
                if let Some(m) = m {
                    *by_rule.entry(t.rule.id.clone()).or_default() += m.count;
                    first_failure = min_opt(first_failure, m.first);
                    last_failure = last_failure.max(m.last);
                    for (b, n) in &m.buckets {
                        *failure_minutes.entry(b - b.rem_euclid(60)).or_default() += n;
                    }
                }
            }
        }
        // Distinct entries that matched at least one fired rule.
        let failures = a.combos.get(p).map_or(0, |m| {
            m.iter()
                .filter(|(set, _)| set.iter().any(|i| fired_on.contains(&(*i, svc.as_str()))))
                .map(|(_, n)| n)
                .sum()
        });
        matched.insert(p, failures);
        let req = a.requests.get(p);
        // Most of its requests failing with 5xx is failure enough, rule or not: a
        // scheduler's call every 5 minutes never makes a burst.
        let served_5xx = req.map_or(0, |q| {
            q.statuses
                .range(500..)
                .map(|(_, n)| n)
                .sum::<u64>()
                .saturating_sub(q.probe_server_errors)
        });
        let served = req.map_or(0, |q| q.requests.saturating_sub(q.probes));
        let (failures, first_failure, last_failure) =
            if failing::mostly_server_errors(served_5xx, served) {
                (
                    failures.max(served_5xx),
                    min_opt(first_failure, req.and_then(|q| q.first_server_error)),
                    last_failure.max(req.and_then(|q| q.last_server_error)),
                )
            } else {
                (failures, first_failure, last_failure)
            };
        let stats = RevStats {
            revision: p.revision.clone(),
            entries: rc.entries,
            failures,
            first_seen: rc.first_seen,
            last_seen: rc.last_seen,
            first_failure,
            last_failure,
            failure_minutes,
            by_rule,
            requests: req.map_or(0, |q| q.requests),
            failed_requests: req.map_or(0, |q| q.failures),
            server_errors: req.map_or(0, |q| q.statuses.range(500..).map(|(_, n)| n).sum()),
            errors: rc.errors,
            first_ok: req.and_then(|q| q.first_ok),
            served: req.map(|q| q.buckets.clone()).unwrap_or_default(),
            client_statuses: req.map_or_else(BTreeMap::new, |q| {
                q.statuses.range(400..500).map(|(k, v)| (*k, *v)).collect()
            }),
            client_floor: BTreeMap::new(),
        };
        if a.unplaced.contains(p) {
            unplaced.push((p, stats));
            continue;
        }
        let group = if spread.get(svc.as_str()).is_some_and(|w| w.len() > 1) {
            (p.region.as_str(), p.project.as_str())
        } else {
            ("", "")
        };
        let run =
            kinds.get(svc.as_str()).is_some_and(|k| k.len() > 1) && a.run_revisions.contains(p);
        let group = (svc.as_str(), group, run);
        place_in.insert((group, p.revision.as_str()), p);
        per_service.entry(group).or_default().push(stats);
    }
    let row = |p: &Place, r: &RevStats, verdict: &str| RevisionRow {
        service: p.service.clone(),
        revision: r.revision.clone(),
        region: known(&p.region),
        project: known(&p.project),
        first_seen: ts(r.first_seen),
        last_seen: ts(r.last_seen),
        entries: r.entries,
        errors: r.errors,
        findings: matched.get(p).copied().unwrap_or(0),
        requests: r.requests,
        failed_requests: r.failed_requests,
        retried_tasks: a.retried.place_tasks.get(p).copied().unwrap_or(0),
        verdict: verdict.to_string(),
    };
    let mut regressions = Vec::new();
    let mut revisions = Vec::new();
    // Places most of whose requests were refused, with what (see `failing`).
    let mut rejecting: BTreeMap<&Place, failing::Rejections> = BTreeMap::new();
    // Places judged broken: an unknown error only there is a lead.
    let mut broken: BTreeSet<&Place> = BTreeSet::new();
    for (group, revs) in &mut per_service {
        let (svc, (region, project), _) = *group;
        regress::order(revs);
        regress::compare_client_errors(revs);
        let place_of = |rev: &str| place_in.get(&(*group, rev)).copied();
        // Most requests refused with a 401 or 403 the service's other revisions did
        // not give: failure enough, rule or not (a deploy that lost an auth setting).
        for r in revs.iter_mut() {
            let Some(p) = place_of(&r.revision) else {
                continue;
            };
            let Some(q) = a.requests.get(p) else {
                continue;
            };
            if let Some(found) = failing::rejections(r, q) {
                r.failures = r.failures.max(found.count);
                r.first_failure = min_opt(r.first_failure, found.first);
                r.last_failure = r.last_failure.max(found.last);
                rejecting.insert(p, found);
            }
        }
        let deploys: Vec<_> = a
            .deploys
            .iter()
            .filter(|d| {
                d.service == svc
                    && (region.is_empty() || d.location == region)
                    && (project.is_empty() || d.project == project)
            })
            .collect();
        let reg = regress::find(svc, revs, &deploys).map(|mut r| {
            // Where the compared revisions run, for the rollback command.
            let (loc, proj) = revs
                .iter()
                .filter_map(|x| place_of(&x.revision))
                .map(|p| (p.region.as_str(), p.project.as_str()))
                .find(|w| *w != ("", ""))
                .unwrap_or((region, project));
            r.region = known(loc);
            r.project = known(proj);
            // Split whenever the name runs in several places, this group's place
            // known or not (then no region is named: see `actions`).
            r.split = spread.get(svc).is_some_and(|w| w.len() > 1);
            r.rollback = [&r.last_good, &r.first_bad]
                .iter()
                .all(|rev| place_of(rev).is_some_and(|p| a.run_revisions.contains(p)));
            r
        });
        let bad_from = reg
            .as_ref()
            .and_then(|r| revs.iter().position(|x| x.revision == r.first_bad));
        // Where the service serves requests, a revision that served none has not shown
        // that it works (a --no-traffic revision's start-up lines, say).
        let serves = revs.iter().any(|r| r.requests > 0);
        for (i, r) in revs.iter().enumerate() {
            let recovered = reg
                .as_ref()
                .is_some_and(|g| g.recovered.is_some() && g.first_bad == r.revision);
            // The revision that resolved the regression works, a stray failure or not.
            let fix = reg
                .as_ref()
                .and_then(|g| g.resolved_by.as_ref())
                .is_some_and(|f| f.revision == r.revision);
            let verdict = if recovered {
                "recovered"
            } else if fix && r.working() {
                "working"
            } else if r.failures > 0 && bad_from.is_none_or(|b| i >= b) {
                "broken"
            } else if r.working() && (r.requests > 0 || !serves) {
                "working"
            } else {
                "unknown"
            };
            if let Some(p) = place_of(&r.revision) {
                if verdict == "broken" {
                    broken.insert(p);
                }
                revisions.push(row(p, r, verdict));
            }
        }
        regressions.extend(reg);
    }
    // Some region's entries, which one unknown: not judged.
    for (p, r) in &unplaced {
        revisions.push(row(p, r, "unknown"));
    }

    // Failures of the same kind that began at the same time where nothing was
    // deployed: a shared dependency, not this deploy, may be what started them.
    let seen: Vec<regress::PlaceMatches<'_>> = fired
        .iter()
        .flat_map(|t| {
            t.places.iter().map(|(p, m)| regress::PlaceMatches {
                service: &p.service,
                region: &p.region,
                project: &p.project,
                rule: &t.rule.id,
                revision_since: a.by_place.get(*p).and_then(|c| c.first_seen),
                buckets: &m.buckets,
                first: m.first,
            })
        })
        .collect();
    for r in &mut regressions {
        let kinds = dependency_kinds(a, &r.rules);
        r.shared_onset = regress::shared_onsets(r, &kinds, &seen, a.deploys.iter());
    }

    // A revision's failures are over when a good request followed its last 5xx, on
    // it or on a newer revision of the service in the same place (a revision still
    // serving beside it, a traffic split, is no recovery). A revision whose entries
    // lack the location may be in any of the service's places.
    let began = |p: &Place| a.by_place.get(p).and_then(|c| c.first_seen);
    let fits = |x: &str, y: &str| x.is_empty() || y.is_empty() || x == y;
    let recovered = |p: &Place, bad: Timestamp| {
        let since = began(p);
        a.requests.iter().any(|(p2, q)| {
            p2.service == p.service
                && fits(&p.region, &p2.region)
                && fits(&p.project, &p2.project)
                && (p2.revision == p.revision || began(p2) > since)
                // Good requests for 5 minutes past the last failure: one good
                // request between a client's repeated failing calls is no recovery.
                && q.last_ok.is_some_and(|ok| ok.secs() - bad.secs() >= RECOVERED_SECS)
        })
    };
    let impact: Vec<Impact> = a
        .requests
        .iter()
        .map(|(p, r)| {
            let mut statuses: Vec<(u16, u64)> = r.statuses.iter().map(|(k, v)| (*k, *v)).collect();
            statuses.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
            let mut top: Vec<(String, u64)> = r
                .failing_endpoints
                .iter()
                .map(|(k, _, v)| (k.clone(), *v))
                .collect();
            top.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
            top.truncate(5);
            Impact {
                service: p.service.clone(),
                revision: p.revision.clone(),
                region: known(&p.region),
                project: known(&p.project),
                requests: r.requests,
                failed: r.failures,
                failure_share: if r.requests == 0 {
                    0.0
                } else {
                    (r.failures as f64 / r.requests as f64 * 10_000.0).round() / 10_000.0
                },
                statuses,
                top_failing: top,
                latency: percentiles(&r.latency, r.latency_max),
                probes: r.probes,
                probe_server_errors: r.probe_server_errors,
                last_server_error: r.last_server_error,
                recovered: r.last_server_error.is_some_and(|bad| recovered(p, bad)),
            }
        })
        .collect();

    // Impact rows are in the order of `a.requests`.
    let mut tallies = Vec::new();
    for (p, i) in a.requests.keys().zip(&impact) {
        tallies.push(Tally::server_errors(i));
        if let Some(found) = rejecting.remove(p) {
            let over = found.last.is_some_and(|bad| recovered(p, bad));
            tallies.push(Tally::rejected(i, found, over));
        }
    }
    let most_requests_fail = failing::most_requests_fail(tallies, &regressions);

    let shared_names = names
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|((s, r), _)| (s.to_string(), r.to_string()))
        .collect();
    let onset = fired.iter().filter_map(|t| t.first).min();
    let unknown = a
        .unknown
        .top(TOP_UNKNOWN)
        .into_iter()
        .map(|u| {
            // Judged per place: the same name in a healthy region is no failing one.
            let only_failing =
                !u.revisions.is_empty() && u.revisions.iter().all(|(p, _)| broken.contains(p));
            let revs: BTreeSet<&str> = u
                .revisions
                .iter()
                .map(|(p, _)| p.revision.as_str())
                .collect();
            let revs: Vec<String> = revs.into_iter().map(str::to_string).collect();
            Unknown {
                only_in_failing_revision: only_failing,
                only_after_onset: match (onset, u.first_seen) {
                    (Some(o), Some(f)) => f >= o.0,
                    _ => false,
                },
                template: u.template,
                count: u.count,
                revisions: revs,
                first_seen: u.first_seen.map(|t| Timestamp(t).to_rfc3339()),
                last_seen: u.last_seen.map(|t| Timestamp(t).to_rfc3339()),
                example: u.example,
            }
        })
        .collect();

    Outcome {
        bucket_secs: bucket,
        findings,
        below_threshold: below,
        revisions,
        regressions,
        impact,
        most_requests_fail,
        five_whys: Vec::new(),
        actions: Vec::new(),
        unknown,
        unknown_distinct: a.unknown.distinct(),
        deploys: a
            .deploys
            .iter()
            .map(|d| (d.at.to_rfc3339(), d.service.clone(), d.method.clone()))
            .collect(),
        shared_names,
    }
}

/// The rules whose onset elsewhere at the same time speaks of a shared dependency:
/// the causes among `rules` (a service's own failure to reach its database, Cloud SQL,
/// a platform limit), and the causes the rule pack links directly to those of them
/// that no other of `rules` explains (Cloud SQL's and the database's failures are one
/// kind; a database failure elsewhere is not the kind of an app state this deploy's
/// missing secret left unregistered). Symptoms do not count: two services answering
/// 5xx or 403 at the same minute is also what one calling the other looks like.
fn dependency_kinds<'r>(a: &'r Analysis<'_>, rules: &[String]) -> BTreeSet<&'r str> {
    let explains =
        |x: &Rule, y: &Rule| x.explains.contains(&y.id) || y.explained_by.contains(&x.id);
    let cause = |r: &Rule| r.kind == RuleKind::Cause;
    let mine: Vec<&Rule> = rules
        .iter()
        .filter_map(|id| a.rules.get(id).map(|(_, r)| r))
        .filter(|r| cause(r))
        .collect();
    let roots: Vec<&Rule> = mine
        .iter()
        .copied()
        .filter(|r| !mine.iter().any(|m| m.id != r.id && explains(m, r)))
        .collect();
    a.rules
        .rules()
        .iter()
        .filter(|r| {
            cause(r)
                && (mine.iter().any(|m| m.id == r.id)
                    // Upstream of a root cause only: what the deploy's own cause
                    // explains elsewhere (callers refused for a secret it lost) is
                    // the deploy's doing, not a shared dependency.
                    || roots.iter().any(|m| explains(r, m)))
        })
        .map(|r| r.id.as_str())
        .collect()
}

/// p50, p95 and p99 as the upper bounds of their histogram buckets, none above the
/// longest latency seen (`max`): one request of 203.68 s reads 203.678, not the
/// bucket bound 251.189.
fn percentiles(h: &BTreeMap<u32, u64>, max: f64) -> Option<[f64; 3]> {
    let total: u64 = h.values().sum();
    if total == 0 {
        return None;
    }
    let at = |q: f64| {
        let want = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (b, n) in h {
            seen += n;
            if seen >= want {
                return (latency_upper(*b).min(max) * 1e4).round() / 1e4;
            }
        }
        0.0
    };
    Some([at(0.5), at(0.95), at(0.99)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn a_shared_onset_is_judged_on_dependency_failures_not_symptoms() {
        let rules = crate::rules::load(&crate::rules::LoadOptions::default()).unwrap();
        let a = Analysis::new(&rules, 60);
        let kinds = |ids: &[&str]| {
            let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
            dependency_kinds(&a, &ids).into_iter().collect::<Vec<_>>()
        };
        // A database failure is of Cloud SQL's kind when Cloud SQL explains it.
        assert_eq!(
            kinds(&["DB_CONNECTIVITY_FAILURE", "HTTP_5XX_BURST"]),
            ["CLOUD_SQL_CONNECTION_FAILED", "DB_CONNECTIVITY_FAILURE"]
        );
        // What the deploy's own cause explains elsewhere is downstream of the deploy
        // (review s27b: callers refused for the secret the new revision lost).
        assert!(
            !kinds(&["SERVICE_SECRET_MISSING"]).contains(&"SERVICE_AUTH_HEADERS_MISSING"),
            "{:?}",
            kinds(&["SERVICE_SECRET_MISSING"])
        );
        assert!(!kinds(&["CLOUD_SQL_CONNECTION_FAILED"]).contains(&"DB_CONNECTIVITY_FAILURE"));
        // 5xx or 403 on two services at once is also one calling the other.
        assert!(kinds(&["HTTP_5XX_BURST", "HTTP_403_BURST"]).is_empty());
        // An app state this deploy's missing secret left unregistered: a database
        // failure elsewhere is not its kind.
        assert!(
            !kinds(&["SERVICE_SECRET_MISSING", "APP_STATE_NOT_REGISTERED"])
                .contains(&"DB_CONNECTIVITY_FAILURE")
        );
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn percentiles_stay_at_or_under_the_longest_latency() {
        use super::super::sink::latency_bucket;
        let one: BTreeMap<u32, u64> = [(latency_bucket(203.678_286), 1)].into();
        assert_eq!(percentiles(&one, 203.678_286), Some([203.6783; 3]));
        let many: BTreeMap<u32, u64> =
            [(latency_bucket(0.05), 97), (latency_bucket(9.06), 3)].into();
        let p = percentiles(&many, 9.06).unwrap();
        assert!(p[0] >= 0.05 && p[0] < 0.065, "{p:?}");
        assert_eq!(p[2], 9.06);
    }

    #[test]
    fn bucket_defaults_scale_with_the_window() {
        let w = |secs: i64| Some((Timestamp::from_secs(0), Timestamp::from_secs(secs)));
        assert_eq!(default_bucket(None), 60);
        assert_eq!(default_bucket(w(3600)), 60);
        assert_eq!(default_bucket(w(6 * 3600)), 300);
        assert_eq!(default_bucket(w(3 * 86_400)), 3600);
    }
}
