//! The report's sink: every entry is counted; rule matches are aggregated per
//! place (service, revision, region, project) and time bucket, request outcomes and
//! entry counts per place.

use super::counts::{is_error, Counts, RevisionCounts};
use super::retry::{self, Retried, TaskAttempts, Verdict};
use super::sampled::{count_str, stable_hash, Sampled};
use super::templates::Templates;
use crate::entry::{Entry, Timestamp};
use crate::pipeline::Sink;
use crate::rules::{BlockMatches, RuleSet};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Distinct values kept per capture per finding (beyond: a deterministic hash sample).
pub(super) const CAPTURE_CAP: usize = 1000;
/// Samples kept per finding group.
pub const SAMPLES: usize = 3;
/// Distinct endpoints kept per revision.
const ENDPOINT_CAP: usize = 2000;
/// Trace hashes kept per (rule, revision) and per revision's failing requests for
/// joining request logs with application logs; past it, a deterministic hash sample
/// and scaled-up counts. Each held hash costs ~30 bytes (a `BTreeMap` entry) in every
/// worker: at 200,000 the sets were most of the peak memory of a 10 GB report;
/// 20,000 still gives a join estimate within a few percent.
pub(super) const TRACE_CAP: usize = 20_000;

/// Where entries ran: one revision of a service in one region and project. Empty
/// strings where the logs do not say. The same revision name can run in several
/// regions (`gcloud run deploy --revision-suffix` reused per region): each is a place
/// of its own, judged apart.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    /// Service (Cloud Run service or job, GKE app, App Engine module, function).
    pub service: String,
    /// Revision (or job execution, App Engine version, pod template hash).
    pub revision: String,
    /// Region or zone.
    pub region: String,
    /// Project id.
    pub project: String,
}

impl Place {
    /// Same service and revision name, wherever it ran.
    pub fn same_name(&self, o: &Place) -> bool {
        self.service == o.service && self.revision == o.revision
    }

    /// `self` could be where `o`'s entries ran: each of `o`'s known region and
    /// project is `self`'s too, and `self` knows more.
    fn covers(&self, o: &Place) -> bool {
        let fits = |mine: &str, theirs: &str| theirs.is_empty() || mine == theirs;
        self != o
            && self.same_name(o)
            && fits(&self.region, &o.region)
            && fits(&self.project, &o.project)
    }
}

/// One sample entry, already reduced to what a report shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sample {
    /// Timestamp (None sorts first).
    pub timestamp: Option<Timestamp>,
    /// insertId.
    pub insert_id: String,
    /// Severity name.
    pub severity: String,
    /// trace.
    pub trace: String,
    /// The message, at most [`SAMPLE_CHARS`] characters of it holding what the rule
    /// matched (see [`crate::text::excerpt`]).
    pub message: String,
    /// httpRequest status, if a request log.
    pub status: Option<u16>,
}

/// Characters of a sample's message kept (elision marks aside).
pub const SAMPLE_CHARS: usize = 500;

/// Longest trace id used to join requests with findings, in bytes (Cloud Trace ids
/// are about 70): what the analysis keeps per trace must not grow with the input.
const MAX_TRACE: usize = 256;

impl Sample {
    /// Makes this the sample of `e`, reusing its buffers (a newest-first export keeps
    /// replacing samples, one per match). `at` is where in the message the rule
    /// matched: the excerpt holds it, so a traceback's sample shows the error line.
    fn fill(&mut self, e: &Entry<'_>, at: Option<std::ops::Range<usize>>) {
        fn set(dst: &mut String, src: &str, n: usize) {
            dst.clear();
            dst.push_str(crate::text::cut_chars(src, n));
        }
        if e.message.len() > SAMPLE_CHARS {
            self.message = crate::text::excerpt(&e.message, at, SAMPLE_CHARS);
        } else {
            set(&mut self.message, &e.message, SAMPLE_CHARS);
        }
        if self.message.is_empty() {
            if let (Some(s), Some(h)) = (e.http_status(), e.http.as_ref()) {
                let m = h.get("requestMethod").map(|v| v.as_text().into_owned());
                let u = h.get("requestUrl").map(|v| v.as_text().into_owned());
                let line = format!("{} {} -> {s}", m.unwrap_or_default(), u.unwrap_or_default());
                set(&mut self.message, &line, SAMPLE_CHARS);
            }
        }
        self.timestamp = e.timestamp;
        set(
            &mut self.insert_id,
            e.insert_id.as_deref().unwrap_or(""),
            MAX_TRACE,
        );
        self.severity.clear();
        self.severity.push_str(e.severity.name());
        set(&mut self.trace, e.trace.as_deref().unwrap_or(""), MAX_TRACE);
        self.status = e.http_status();
    }
}

/// Keeps the `SAMPLES` smallest by (timestamp, insertId): the earliest, deterministically.
fn keep_sample(v: &mut Vec<Sample>, mut s: Sample) {
    keep_sample_from(v, &mut s);
}

/// [`keep_sample`] taking the sample from `spare`, which gets back the one pushed out
/// (or keeps its own when nothing was inserted), so its buffers are used again.
fn keep_sample_from(v: &mut Vec<Sample>, spare: &mut Sample) {
    if v.len() >= SAMPLES && v.last().is_some_and(|l| *l <= *spare) {
        return;
    }
    let at = v.partition_point(|x| *x < *spare);
    if v.get(at) == Some(&*spare) {
        return;
    }
    v.insert(at, std::mem::take(spare));
    // At most one too many: `v` held at most `SAMPLES` before.
    if v.len() > SAMPLES {
        if let Some(out) = v.pop() {
            *spare = out;
        }
    }
}

/// Matches of one rule on one place (service, revision, region, project).
#[derive(Debug, Clone, Default)]
pub struct MatchAgg {
    /// Matches.
    pub count: u64,
    /// Earliest match.
    pub first: Option<Timestamp>,
    /// Latest match.
    pub last: Option<Timestamp>,
    /// Matches per base bucket start (seconds).
    pub buckets: BTreeMap<i64, u64>,
    /// Distinct values per capture (same order as the rule's captures), sampled by
    /// hash past `CAPTURE_CAP` so the kept set does not depend on thread count.
    pub captures: Vec<Sampled<String, u64, CAPTURE_CAP>>,
    /// Earliest samples.
    pub samples: Vec<Sample>,
    /// Hashes of the matches' traces (for the request join), sampled past `TRACE_CAP`.
    pub traces: Sampled<u64, (), TRACE_CAP>,
}

/// Request-log outcomes of one place (service, revision, region, project).
#[derive(Debug, Clone, Default)]
pub struct RequestAgg {
    /// Request logs.
    pub requests: u64,
    /// Status >= 400.
    pub failures: u64,
    /// Status code mix.
    pub statuses: BTreeMap<u16, u64>,
    /// Failing requests by "METHOD path".
    pub failing_endpoints: Sampled<String, u64, ENDPOINT_CAP>,
    /// Latency histogram: bucket index -> count (log scale, see `latency_bucket`).
    pub latency: BTreeMap<u32, u64>,
    /// The longest latency seen, seconds: no percentile is shown above it.
    pub latency_max: f64,
    /// Trace hashes of failing requests with their highest status (for the join).
    pub failed_traces: Sampled<u64, u16, TRACE_CAP>,
    /// The earliest request answered below 400 (did the revision serve before failing?).
    pub first_ok: Option<Timestamp>,
    /// The latest request answered below 400, health checks aside (did it recover?).
    pub last_ok: Option<Timestamp>,
    /// The latest 5xx, health checks aside.
    pub last_server_error: Option<Timestamp>,
    /// The earliest 5xx, health checks aside.
    pub first_server_error: Option<Timestamp>,
    /// Health checks among `requests` (see `is_probe`).
    pub probes: u64,
    /// Health checks answered with 5xx.
    pub probe_server_errors: u64,
    /// Requests answered 401 or 403, per status, health checks aside.
    pub rejected: BTreeMap<u16, Refusals>,
    /// Requests per base bucket start (seconds), health checks left out: the
    /// denominator of `min_share`, and when a revision served.
    pub buckets: BTreeMap<i64, u64>,
}

/// Requests refused with one status: how many, the first and the last.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Refusals {
    /// Requests.
    pub count: u64,
    /// The earliest.
    pub first: Option<Timestamp>,
    /// The latest.
    pub last: Option<Timestamp>,
}

impl Refusals {
    fn add(&mut self, v: Refusals) {
        self.count += v.count;
        self.first = min_opt(self.first, v.first);
        self.last = max_opt(self.last, v.last);
    }
}

/// A Cloud Run deploy seen in audit logs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deploy {
    /// When.
    pub at: Timestamp,
    /// Service.
    pub service: String,
    /// Revision named in the entry, if any.
    pub revision: String,
    /// protoPayload.methodName.
    pub method: String,
    /// Who (authenticationInfo.principalEmail), redacted later if needed.
    pub principal: String,
    /// Region of the resource ("" when unknown).
    pub location: String,
    /// Project of the resource ("" when unknown).
    pub project: String,
}

/// Everything the report needs, gathered in one pass.
#[derive(Debug, Clone)]
pub struct Analysis<'r> {
    /// The rules matched.
    pub rules: &'r RuleSet,
    /// Base bucket in seconds.
    pub base_secs: i64,
    /// Plain counts.
    pub counts: Counts,
    /// (rule index, place) -> matches.
    pub matches: BTreeMap<(usize, Place), MatchAgg>,
    /// Per place: how many entries matched each exact set of rules (for distinct
    /// failing-entry counts once thresholds decide which rules fired).
    pub combos: BTreeMap<Place, BTreeMap<Vec<usize>, u64>>,
    /// Request outcomes per place.
    pub requests: BTreeMap<Place, RequestAgg>,
    /// Errors no rule matched, as templates.
    pub unknown: Templates,
    /// Deploy events.
    pub deploys: BTreeSet<Deploy>,
    /// Requests (and matches of rules that read `httpRequest`) from request logs an
    /// application wrote itself on Cloud Run, held apart until [`Sink::done`]: where
    /// the service also has Cloud Run's own request log they are the same requests
    /// again, and are left out.
    app: AppRequests,
    /// Application-written request logs left out as repeats of Cloud Run's own.
    pub app_requests_left_out: u64,
    /// Load balancer request logs with a trace, held apart like `app` until
    /// [`Sink::done`]; by [`lb_group`]: whether the backend answered or the load
    /// balancer did (a failure only the LB saw must not be judged with the rest).
    lb: [AppRequests; 2],
    /// Trace hashes of every other request log (Cloud Run's, App Engine's, an
    /// app's): a held LB request log whose trace is among them is the same request.
    /// Sampled like every trace set, so the join is a bounded estimate per group.
    backend_traces: Sampled<u64, (), TRACE_CAP>,
    /// Load balancer request logs left out as repeats of their backend's own.
    pub lb_requests_left_out: u64,
    /// Per rule index: the rule reads `httpRequest`.
    reads_http: Vec<bool>,
    /// Entries, errors and time span per place (the revision table's figures).
    pub by_place: BTreeMap<Place, RevisionCounts>,
    /// Places lacking the region or project while their revision name runs in
    /// several (see [`Analysis::attribute`]): their entries are one of those places',
    /// which the logs do not tell.
    pub unplaced: BTreeSet<Place>,
    /// Places whose revisions are Cloud Run revisions (traffic can be sent back to
    /// them; a job's execution or a pod's hash cannot).
    pub run_revisions: BTreeSet<Place>,
    /// Places that are Cloud Run job executions (their commands are `gcloud run jobs`).
    pub run_jobs: BTreeSet<Place>,
    /// Regions seen per service (for commands).
    pub regions: BTreeMap<String, BTreeSet<String>>,
    /// Projects seen per service.
    pub projects: BTreeMap<String, BTreeSet<String>>,
    /// Matches of the block being taken.
    block: BlockMatches,
    /// The place of the previous entry, reused while it repeats, so a key is only
    /// built for a new place.
    place: Place,
    /// What was gathered since the last [`Analysis::settle`], by place index.
    hot: Hot,
    /// `place`'s index in `hot` (None: not looked up yet).
    cur: Option<usize>,
    /// `hot` for application-written request logs.
    hot_app: Hot,
    /// `place`'s index in `hot_app`.
    cur_app: Option<usize>,
    /// `hot` for held load balancer request logs, per [`lb_group`].
    hot_lb: [Hot; 2],
    /// `place`'s index in each of `hot_lb`.
    cur_lb: [Option<usize>; 2],
    /// A sample's buffers, refilled for the next match that may be kept.
    spare: Sample,
    /// Endpoints of failing requests seen lately.
    endpoints: Endpoints,
    /// Matches of Cloud Run job entries that name their task, held per attempt
    /// until [`Sink::done`] knows whether a later attempt of the task succeeded.
    tasks: TaskAttempts,
    /// Matches on job task attempts that a later attempt of the same task made good
    /// (it exited 0): in the findings, but not in `matches` and `combos`, which hold
    /// what failed.
    pub retried: Retried,
}

/// Per-place aggregates found by index: entries come in runs from one place, so the
/// per-entry work does no map search with string compares (those were most of the
/// sink's time). [`Analysis::settle`] moves them into the keyed maps.
#[derive(Debug, Clone, Default)]
struct Hot {
    /// Place -> index in `aggs`.
    index: BTreeMap<Place, usize>,
    aggs: Vec<PlaceAgg>,
}

/// Settled aggregates of application-written request logs (see `Analysis::app`).
#[derive(Debug, Clone, Default)]
struct AppRequests {
    matches: BTreeMap<(usize, Place), MatchAgg>,
    /// Each entry's full set of rules: its distinct count where the app's lines are kept.
    combos: BTreeMap<Place, BTreeMap<Vec<usize>, u64>>,
    requests: BTreeMap<Place, RequestAgg>,
    /// The same entries' rules that do not read `httpRequest`: where the app's lines
    /// are left out, these still matched (an entry counts once either way).
    other_combos: BTreeMap<Place, BTreeMap<Vec<usize>, u64>>,
    /// Trace hashes of the requests held (load balancer request logs only).
    traces: BTreeMap<Place, Sampled<u64, (), TRACE_CAP>>,
}

impl AppRequests {
    fn merge(&mut self, o: AppRequests) {
        for (k, v) in o.matches {
            put(&mut self.matches, k, v, merge_match);
        }
        for (k, v) in o.combos {
            put(&mut self.combos, k, v, add_combos);
        }
        for (k, v) in o.requests {
            put(&mut self.requests, k, v, merge_request);
        }
        for (k, v) in o.other_combos {
            put(&mut self.other_combos, k, v, add_combos);
        }
        for (k, v) in o.traces {
            put(&mut self.traces, k, v, |a, b| a.merge(b, |_, _| {}));
        }
    }
}

/// What one place gathered since the last settle.
#[derive(Debug, Clone, Default)]
pub(super) struct PlaceAgg {
    /// Per rule index.
    pub(super) matches: Vec<Option<MatchAgg>>,
    /// Entries per exact set of rules they matched.
    pub(super) combos: BTreeMap<Vec<usize>, u64>,
    requests: Option<RequestAgg>,
    /// See [`AppRequests::other_combos`] (application-written request logs only).
    other_combos: BTreeMap<Vec<usize>, u64>,
    /// See [`AppRequests::traces`].
    traces: Sampled<u64, (), TRACE_CAP>,
    /// Entries, errors and time span (`hot` only: every entry counts there).
    counts: RevisionCounts,
}

impl Hot {
    /// Moves the aggregates into keyed maps, entry counts into `counts`.
    fn settle_into(self, into: &mut AppRequests, counts: &mut BTreeMap<Place, RevisionCounts>) {
        let Hot { index, mut aggs } = self;
        for (place, i) in index {
            let Some(a) = aggs.get_mut(i).map(std::mem::take) else {
                continue;
            };
            if a.counts.entries > 0 {
                put(counts, place.clone(), a.counts, |c, v| c.merge(&v));
            }
            for (ri, m) in a.matches.into_iter().enumerate() {
                if let Some(m) = m {
                    put(&mut into.matches, (ri, place.clone()), m, merge_match);
                }
            }
            if !a.combos.is_empty() {
                put(&mut into.combos, place.clone(), a.combos, add_combos);
            }
            if !a.other_combos.is_empty() {
                put(
                    &mut into.other_combos,
                    place.clone(),
                    a.other_combos,
                    add_combos,
                );
            }
            if !a.traces.is_empty() {
                put(&mut into.traces, place.clone(), a.traces, |x, y| {
                    x.merge(y, |_, _| {})
                });
            }
            if let Some(r) = a.requests {
                put(&mut into.requests, place, r, merge_request);
            }
        }
    }

    /// The aggregates of `p`; `cur` caches its index while the place repeats (the
    /// caller clears it when the place changes).
    fn of(&mut self, cur: &mut Option<usize>, p: &Place) -> &mut PlaceAgg {
        let (i, _) = self.slot(cur, p);
        &mut self.aggs[i]
    }

    /// `p`'s index, and whether it is new since the last settle.
    fn slot(&mut self, cur: &mut Option<usize>, p: &Place) -> (usize, bool) {
        if let Some(i) = cur.filter(|&i| i < self.aggs.len()) {
            return (i, false);
        }
        // Looked up before inserting: the key is cloned only for a new place.
        let (i, fresh) = match self.index.get(p) {
            Some(&i) => (i, false),
            None => {
                let i = self.aggs.len();
                self.index.insert(p.clone(), i);
                self.aggs.push(PlaceAgg::default());
                (i, true)
            }
        };
        *cur = Some(i);
        (i, fresh)
    }
}

/// Adds `v` into `a` (counts add, samples and sampled sets merge deterministically).
pub(super) fn merge_match(a: &mut MatchAgg, v: MatchAgg) {
    a.count += v.count;
    a.first = min_opt(a.first, v.first);
    a.last = max_opt(a.last, v.last);
    for (b, n) in v.buckets {
        *a.buckets.entry(b).or_default() += n;
    }
    if a.captures.len() < v.captures.len() {
        a.captures.resize_with(v.captures.len(), Sampled::default);
    }
    for (ci, m) in v.captures.into_iter().enumerate() {
        a.captures[ci].merge(m, |x, y| *x += y);
    }
    for s in v.samples {
        keep_sample(&mut a.samples, s);
    }
    a.traces.merge(v.traces, |_, _| {});
}

/// Adds `v` into `r`.
fn merge_request(r: &mut RequestAgg, v: RequestAgg) {
    r.requests += v.requests;
    r.failures += v.failures;
    for (s, n) in v.statuses {
        *r.statuses.entry(s).or_default() += n;
    }
    r.failing_endpoints
        .merge(v.failing_endpoints, |x, y| *x += y);
    for (s, n) in v.latency {
        *r.latency.entry(s).or_default() += n;
    }
    r.latency_max = r.latency_max.max(v.latency_max);
    r.failed_traces
        .merge(v.failed_traces, |x, y| *x = (*x).max(y));
    r.first_ok = min_opt(r.first_ok, v.first_ok);
    r.last_ok = max_opt(r.last_ok, v.last_ok);
    r.last_server_error = max_opt(r.last_server_error, v.last_server_error);
    r.first_server_error = min_opt(r.first_server_error, v.first_server_error);
    r.probes += v.probes;
    r.probe_server_errors += v.probe_server_errors;
    for (s, v) in v.rejected {
        r.rejected.entry(s).or_default().add(v);
    }
    for (b, n) in v.buckets {
        *r.buckets.entry(b).or_default() += n;
    }
}

/// Adds one job task attempt's matches `v` into `a` (the same attempt read by two
/// workers).
fn merge_attempt(a: &mut PlaceAgg, v: PlaceAgg) {
    if a.matches.len() < v.matches.len() {
        a.matches.resize_with(v.matches.len(), || None);
    }
    for (ri, m) in v.matches.into_iter().enumerate() {
        match (a.matches.get_mut(ri), m) {
            (Some(Some(have)), Some(m)) => merge_match(have, m),
            (Some(slot), m @ Some(_)) => *slot = m,
            _ => {}
        }
    }
    add_combos(&mut a.combos, v.combos);
}

fn add_combos(into: &mut BTreeMap<Vec<usize>, u64>, from: BTreeMap<Vec<usize>, u64>) {
    for (c, n) in from {
        *into.entry(c).or_default() += n;
    }
}

/// Moves the values whose key `to` maps elsewhere under their new key, merged.
pub(super) fn rekey<K: Ord + Clone, V>(
    m: &mut BTreeMap<K, V>,
    to: impl Fn(&K) -> Option<K>,
    merge: impl Fn(&mut V, V),
) {
    let moving: Vec<K> = m.keys().filter(|k| to(k).is_some()).cloned().collect();
    for k in moving {
        if let (Some(v), Some(into)) = (m.remove(&k), to(&k)) {
            put(m, into, v, &merge);
        }
    }
}

/// Puts `v` under `k`: moved in when the key is new (merging into an empty aggregate
/// re-inserts every bucket, capture and trace hash), merged otherwise.
fn put<K: Ord, V>(m: &mut BTreeMap<K, V>, k: K, v: V, merge: impl FnOnce(&mut V, V)) {
    match m.entry(k) {
        std::collections::btree_map::Entry::Vacant(e) => {
            e.insert(v);
        }
        std::collections::btree_map::Entry::Occupied(e) => merge(e.into_mut(), v),
    }
}

impl<'r> Analysis<'r> {
    /// Moves what was gathered by place index into `matches`, `combos` and `requests`.
    /// The pipeline does it when the scan ends ([`Sink::done`]) and before a merge;
    /// a caller feeding entries itself calls `done` before reading those maps.
    fn settle(&mut self) {
        self.cur = None;
        self.cur_app = None;
        self.cur_lb = [None; 2];
        let mut main = AppRequests {
            matches: std::mem::take(&mut self.matches),
            combos: std::mem::take(&mut self.combos),
            requests: std::mem::take(&mut self.requests),
            other_combos: BTreeMap::new(),
            traces: BTreeMap::new(),
        };
        let hot = std::mem::take(&mut self.hot);
        // Where each service runs, once per place.
        for p in hot.index.keys() {
            for (m, v) in [
                (&mut self.regions, &p.region),
                (&mut self.projects, &p.project),
            ] {
                if !v.is_empty() {
                    let set = slot(m, &p.service);
                    if !set.contains(v) {
                        set.insert(v.clone());
                    }
                }
            }
        }
        hot.settle_into(&mut main, &mut self.by_place);
        (self.matches, self.combos, self.requests) = (main.matches, main.combos, main.requests);
        std::mem::take(&mut self.hot_app).settle_into(&mut self.app, &mut self.by_place);
        for (hot, held) in self.hot_lb.iter_mut().zip(&mut self.lb) {
            std::mem::take(hot).settle_into(held, &mut self.by_place);
        }
    }

    /// Held load balancer request logs count in their own place unless most of a
    /// group's traces (one backend, backend- or LB-answered) are also on another
    /// request log: then they are the backend's requests again, which count there.
    /// Decided per group rather than per entry, so memory stays bounded by the
    /// sampled trace sets however long the export.
    fn settle_lb_requests(&mut self) {
        for held in std::mem::take(&mut self.lb) {
            let repeats: BTreeSet<Place> = held
                .traces
                .iter()
                .filter(|(_, t)| mostly_within(t, &self.backend_traces))
                .map(|(p, _)| p.clone())
                .collect();
            self.keep_held(held, |p| repeats.contains(p), Held::Lb);
        }
    }

    /// Application-written request logs count where their service has no request log
    /// of Cloud Run's own; elsewhere they repeat its requests and are left out.
    fn settle_app_requests(&mut self) {
        let app = std::mem::take(&mut self.app);
        // Per service in its region and project: the same name elsewhere may have
        // excluded Cloud Run's request log, and its app lines are all it has.
        let at = |p: &Place| (p.service.clone(), p.region.clone(), p.project.clone());
        let served: BTreeSet<(String, String, String)> = self
            .requests
            .iter()
            .filter(|(_, r)| r.requests > 0)
            .map(|(p, _)| at(p))
            .collect();
        let repeats = |p: &Place| served.contains(&at(p));
        self.keep_held(app, repeats, Held::App);
    }

    /// Moves held request logs into the report: where `repeats`, only their rules
    /// that do not read `httpRequest` count, and their requests are left out.
    fn keep_held(&mut self, app: AppRequests, repeats: impl Fn(&Place) -> bool, kind: Held) {
        for (k, v) in app.matches {
            if !repeats(&k.1) {
                put(&mut self.matches, k, v, merge_match);
            }
        }
        for (k, v) in app.combos {
            if !repeats(&k) {
                put(&mut self.combos, k, v, add_combos);
            }
        }
        for (k, v) in app.other_combos {
            if repeats(&k) {
                put(&mut self.combos, k, v, add_combos);
            }
        }
        for (k, v) in app.requests {
            if repeats(&k) {
                match kind {
                    Held::App => self.app_requests_left_out += v.requests,
                    Held::Lb => self.lb_requests_left_out += v.requests,
                }
            } else {
                put(&mut self.requests, k, v, merge_request);
            }
        }
    }

    /// Sends each held job task attempt's matches to `retried` when a later attempt
    /// of the task exited 0, else to `matches` and `combos` like any other's. Needs
    /// every entry, like [`Analysis::attribute`].
    fn resolve_retries(&mut self) {
        let mut tasks: BTreeMap<(usize, Place), BTreeSet<u64>> = BTreeMap::new();
        let mut place_tasks: BTreeMap<Place, BTreeSet<u64>> = BTreeMap::new();
        for (place, index, agg, verdict) in self.tasks.resolve() {
            let retried = matches!(verdict, Verdict::Retried);
            let matches = if retried {
                &mut self.retried.matches
            } else {
                &mut self.matches
            };
            for (ri, m) in agg.matches.into_iter().enumerate() {
                let Some(m) = m else { continue };
                if retried {
                    slot(&mut tasks, &(ri, place.clone())).insert(index);
                }
                put(matches, (ri, place.clone()), m, merge_match);
            }
            // Distinct failing entries count what failed only.
            if retried {
                slot(&mut place_tasks, &place).insert(index);
            } else if !agg.combos.is_empty() {
                put(&mut self.combos, place.clone(), agg.combos, add_combos);
            }
        }
        for (k, v) in tasks {
            *self.retried.tasks.entry(k).or_default() += v.len() as u64;
        }
        for (k, v) in place_tasks {
            *self.retried.place_tasks.entry(k).or_default() += v.len() as u64;
        }
    }

    /// Gives each place that lacks its region or project (some stdout lines lack
    /// the location label) to the one place of its service and revision name that
    /// it fits. Where several fit (the name runs in two regions), its entries stay
    /// apart, in [`Analysis::unplaced`], rather than be given to a region they may
    /// not be from. Needs every entry: a region seen later changes the answer.
    fn attribute(&mut self) {
        let mut moves: BTreeMap<Place, Place> = BTreeMap::new();
        let mut unplaced = BTreeSet::new();
        let places: Vec<&Place> = self.by_place.keys().collect();
        // Sorted by service and revision first: a name's places are adjacent.
        for name in places
            .chunk_by(|a, b| a.same_name(b))
            .filter(|n| n.len() > 1)
        {
            for p in name {
                let mut fits = name
                    .iter()
                    .filter(|q| q.covers(p) && !name.iter().any(|r| r.covers(q)));
                match (fits.next(), fits.next()) {
                    (Some(one), None) => {
                        moves.insert((*p).clone(), (*one).clone());
                    }
                    (Some(_), Some(_)) => {
                        unplaced.insert((*p).clone());
                    }
                    _ => {}
                }
            }
        }
        self.unplaced = unplaced;
        if moves.is_empty() {
            return;
        }
        let to = |p: &Place| moves.get(p).cloned();
        rekey(&mut self.by_place, to, |c, v| c.merge(&v));
        let to_match = |k: &(usize, Place)| to(&k.1).map(|p| (k.0, p));
        rekey(&mut self.matches, to_match, merge_match);
        rekey(&mut self.combos, to, add_combos);
        rekey(&mut self.requests, to, merge_request);
        rekey(&mut self.app.matches, to_match, merge_match);
        rekey(&mut self.app.combos, to, add_combos);
        rekey(&mut self.app.requests, to, merge_request);
        rekey(&mut self.app.other_combos, to, add_combos);
        for held in &mut self.lb {
            rekey(&mut held.matches, to_match, merge_match);
            rekey(&mut held.combos, to, add_combos);
            rekey(&mut held.requests, to, merge_request);
            rekey(&mut held.other_combos, to, add_combos);
            rekey(&mut held.traces, to, |a, b| a.merge(b, |_, _| {}));
        }
        rekey(&mut self.retried.matches, to_match, merge_match);
        rekey(&mut self.retried.tasks, to_match, |a, b| *a += b);
        rekey(&mut self.retried.place_tasks, to, |a, b| *a += b);
        self.unknown.rekey(to);
        for (from, into) in &moves {
            if self.run_revisions.remove(from) {
                self.run_revisions.insert(into.clone());
            }
            if self.run_jobs.remove(from) {
                self.run_jobs.insert(into.clone());
            }
        }
    }

    /// An empty analysis over `rules`, bucketing by `base_secs`.
    pub fn new(rules: &'r RuleSet, base_secs: i64) -> Analysis<'r> {
        Analysis {
            rules,
            base_secs: base_secs.max(1),
            counts: Counts::default(),
            matches: BTreeMap::new(),
            combos: BTreeMap::new(),
            requests: BTreeMap::new(),
            app: AppRequests::default(),
            app_requests_left_out: 0,
            lb: Default::default(),
            backend_traces: Sampled::default(),
            lb_requests_left_out: 0,
            reads_http: rules.rules().iter().map(|r| r.reads_requests()).collect(),
            unknown: Templates::default(),
            deploys: BTreeSet::new(),
            by_place: BTreeMap::new(),
            unplaced: BTreeSet::new(),
            run_revisions: BTreeSet::new(),
            run_jobs: BTreeSet::new(),
            regions: BTreeMap::new(),
            projects: BTreeMap::new(),
            block: BlockMatches::default(),
            place: Place::default(),
            hot: Hot::default(),
            cur: None,
            hot_app: Hot::default(),
            cur_app: None,
            hot_lb: Default::default(),
            cur_lb: [None; 2],
            spare: Sample::default(),
            endpoints: Endpoints::default(),
            tasks: TaskAttempts::default(),
            retried: Retried::default(),
        }
    }

    /// Every match, failed or made good by a retry (a place may come twice, once
    /// for each): for sets and sums, not for a place's failures.
    pub fn every_match(&self) -> impl Iterator<Item = (&(usize, Place), &MatchAgg)> {
        self.matches.iter().chain(&self.retried.matches)
    }

    fn bucket(&self, t: Timestamp) -> i64 {
        t.secs().div_euclid(self.base_secs) * self.base_secs
    }
}

/// Log-scale latency bucket: 10 per decade from 1 µs.
pub fn latency_bucket(secs: f64) -> u32 {
    let us = (secs * 1e6).max(1.0);
    (us.log10() * 10.0).floor() as u32
}

/// The upper bound in seconds of a latency bucket.
pub fn latency_upper(bucket: u32) -> f64 {
    10f64.powf(f64::from(bucket + 1) / 10.0) / 1e6
}

/// Sets `p` to the entry's place, allocating only when it changes; true when it
/// changed. Entries of neither service nor revision (audit logs, load balancers) are
/// one place wherever they ran, as they are no revision to judge.
fn set_place(p: &mut Place, e: &Entry<'_>) -> bool {
    let s = e.place.service.as_deref().unwrap_or("");
    let r = e.place.revision.as_deref().unwrap_or("");
    let (l, pr) = if s.is_empty() && r.is_empty() {
        ("", "")
    } else {
        (
            e.place.location.as_deref().unwrap_or(""),
            e.place.project.as_deref().unwrap_or(""),
        )
    };
    if p.service != s || p.revision != r || p.region != l || p.project != pr {
        for (have, v) in [
            (&mut p.service, s),
            (&mut p.revision, r),
            (&mut p.region, l),
            (&mut p.project, pr),
        ] {
            if have != v {
                have.clear();
                have.push_str(v);
            }
        }
        return true;
    }
    false
}

/// The value under `k`, inserting a default (cloning the key) only when missing.
fn slot<'m, K: Ord + Clone, V: Default>(m: &'m mut BTreeMap<K, V>, k: &K) -> &'m mut V {
    if !m.contains_key(k) {
        m.insert(k.clone(), V::default());
    }
    m.get_mut(k)
        .unwrap_or_else(|| unreachable!("inserted above"))
}

/// True when a sample of `e` would be kept: the cheap test before building one.
fn sample_wanted(v: &[Sample], e: &Entry<'_>) -> bool {
    let Some(last) = v.last() else { return true };
    if v.len() < SAMPLES {
        return true;
    }
    // Samples order by (timestamp, insertId, ...): later than the last kept is out.
    let id = e.insert_id.as_deref().unwrap_or("");
    match e.timestamp.cmp(&last.timestamp) {
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Equal => id <= last.insert_id.as_str(),
    }
}

/// The endpoint ("METHOD /path/<*>") of a request with this method and URL.
fn endpoint(method: &str, url: &str) -> String {
    // Keep the path: scheme, host and query vary per caller, the path is the endpoint.
    // (A byte search: `split_once` sets up a substring searcher per call.)
    let no_scheme = url
        .as_bytes()
        .windows(3)
        .position(|w| w == b"://")
        .map_or(url, |i| &url[i + 3..]);
    let path = no_scheme.find('/').map_or("/", |i| &no_scheme[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let path = super::templates::template_of(path);
    let mut out = String::with_capacity(method.len() + 1 + path.len());
    out.push_str(method);
    out.push(' ');
    out.push_str(&path);
    let trimmed = out.trim();
    if trimmed.len() != out.len() {
        out = trimmed.to_string();
    }
    out
}

/// Endpoints of recent failing requests by method and URL: a failing URL tends to
/// repeat, and templating its path was most of what a failing request cost.
#[derive(Debug, Clone, Default)]
struct Endpoints {
    /// "METHOD URL" of the request being looked up (a reused buffer).
    key: String,
    /// "METHOD URL" -> endpoint, emptied when full.
    known: HashMap<String, String>,
}

/// Endpoints remembered per worker; keys are at most `ENDPOINT_KEY_MAX` bytes (their
/// endpoints about as long), so the cache holds on the order of 1 MiB.
const ENDPOINTS_KEPT: usize = 1024;
/// Longer "METHOD URL" keys are templated every time rather than remembered.
const ENDPOINT_KEY_MAX: usize = 512;

impl Endpoints {
    /// The endpoint of request `e`; `None` when it names neither method nor URL (Cloud
    /// Scheduler's record of an attempt holds only the status): no path is made up.
    fn of(&mut self, e: &Entry<'_>) -> Option<&str> {
        let h = e.http.as_ref();
        let text = |name: &str| {
            h.and_then(|h| h.get(name))
                .map(|v| v.into_text())
                .unwrap_or_default()
        };
        let (method, url) = (text("requestMethod"), text("requestUrl"));
        if method.is_empty() && url.is_empty() {
            return None;
        }
        self.key.clear();
        self.key.push_str(&method);
        self.key.push(' ');
        self.key.push_str(&url);
        if self.key.len() > ENDPOINT_KEY_MAX {
            self.key = endpoint(&method, &url);
            return Some(&self.key);
        }
        if !self.known.contains_key(self.key.as_str()) {
            if self.known.len() >= ENDPOINTS_KEPT {
                self.known.clear();
            }
            self.known.insert(self.key.clone(), endpoint(&method, &url));
        }
        self.known.get(self.key.as_str()).map(String::as_str)
    }
}

/// A health check: a load balancer's, an uptime checker's, a Kubernetes or
/// Prometheus probe, or a request to a health path. They pass on a broken revision too.
/// Prefix and suffix tests only: it runs on every request (nine `contains` calls, or
/// an automaton pass, cost 2-5% of a report).
fn is_probe(e: &Entry<'_>) -> bool {
    let Some(h) = e.http.as_ref() else {
        return false;
    };
    // Raw JSON strings: the value follows the opening quote.
    let agent = h
        .raw("userAgent")
        .and_then(|ua| ua.strip_prefix('"'))
        .is_some_and(|ua| PROBE_AGENTS.iter().any(|p| ua.starts_with(p)));
    agent
        || h.raw("requestUrl").is_some_and(|u| {
            let u = u.strip_suffix('"').unwrap_or(u);
            let path = memchr::memchr2(b'?', b'#', u.as_bytes()).map_or(u, |k| &u[..k]);
            PROBE_PATHS.iter().any(|p| path.ends_with(p))
        })
}

/// How health checkers' user agents start.
const PROBE_AGENTS: &[&str] = &[
    "GoogleHC/",
    "GoogleStackdriverMonitoring-UptimeChecks",
    "kube-probe/",
    "Mozilla/5.0+(compatible; UptimeRobot",
    "Mozilla/5.0 (compatible; UptimeRobot",
    "Blackbox",
    "Prometheus/",
    "ELB-HealthChecker",
    "Pingdom",
    "Consul Health Check",
];

/// Paths that only health checks call.
const PROBE_PATHS: &[&str] = &["/health", "/healthz", "/livez", "/readyz", "/_ah/health"];

/// A request log names the request: its method or URL. Cloud Scheduler's and Cloud
/// Tasks' records of an attempt carry only a status; counted as requests they doubled
/// every failed call (once as the service's request log, once without a service).
fn names_request(e: &Entry<'_>) -> bool {
    e.http
        .as_ref()
        .is_some_and(|h| h.raw("requestUrl").is_some() || h.raw("requestMethod").is_some())
}

fn is_deploy(e: &Entry<'_>) -> Option<String> {
    let p = e.proto_payload.as_ref()?;
    let m = p.str("methodName")?;
    let deploy = m.contains("Services.ReplaceService")
        || m.contains("Services.UpdateService")
        || m.contains("Services.CreateService")
        || m.contains("Revisions.") && m.contains("Create");
    // A refused call (`status.code` 10, "Conflict ... version was specified but current
    // version is ...") deployed nothing; 0 or no status is success.
    let refused = p
        .path(&["status".into(), "code".into()])
        .and_then(|v| v.as_f64())
        .is_some_and(|c| c != 0.0);
    (deploy && !refused).then(|| m.into_owned())
}

/// A request log an application wrote itself on Cloud Run or App Engine (structured
/// JSON with `httpRequest` on stdout/stderr, or the Logging API), not the platform's.
fn app_written_request(e: &Entry<'_>) -> bool {
    let platform = match e.resource_type.as_deref() {
        Some("cloud_run_revision") => "run.googleapis.com",
        Some("gae_app") => "appengine.googleapis.com",
        _ => return false,
    };
    let own = |l: &str| {
        ["%2Frequests", "/requests", "%2Frequest_log", "/request_log"]
            .iter()
            .any(|end| {
                l.strip_suffix(end)
                    .is_some_and(|head| head.ends_with(platform))
            })
    };
    !e.log_name.as_deref().is_some_and(own)
}

/// Which request logs [`Analysis::keep_held`] moves into the report.
#[derive(Debug, Clone, Copy)]
enum Held {
    /// An application's own request logs on Cloud Run or App Engine.
    App,
    /// A load balancer's request logs.
    Lb,
}

/// A load balancer's request log (global or regional, external or internal).
fn is_lb_request(e: &Entry<'_>) -> bool {
    matches!(
        e.resource_type.as_deref(),
        Some("http_load_balancer" | "http_external_regional_lb_rule" | "internal_http_lb_rule")
    )
}

/// The held group of a load balancer request log with a trace: 0 when the backend
/// answered (`statusDetails` "response_sent_by_backend", or none given), 1 when the
/// load balancer did (no healthy backend, a timeout, a closed connection...). `None`
/// for other entries and for LB logs without a trace, which cannot be joined and
/// always count.
fn lb_group(e: &Entry<'_>) -> Option<usize> {
    if !is_lb_request(e) || e.trace.as_deref().is_none_or(str::is_empty) {
        return None;
    }
    let details = e.json_payload.as_ref().and_then(|p| p.str("statusDetails"));
    let by_backend = details
        .as_deref()
        .is_none_or(|d| d.is_empty() || d == "response_sent_by_backend");
    Some(usize::from(!by_backend))
}

/// True when most of `held`'s trace hashes are in `within`, compared at the coarser
/// of the two samples (both keep every hash under their threshold, so under the
/// higher one's a hash missing from `within` was not seen).
fn mostly_within(held: &Sampled<u64, (), TRACE_CAP>, within: &Sampled<u64, (), TRACE_CAP>) -> bool {
    let cut = u64::MAX
        .checked_shr(held.level().max(within.level()))
        .unwrap_or(0);
    let (mut seen, mut shared) = (0u64, 0u64);
    for (k, h, _) in held.iter() {
        if h <= cut {
            seen += 1;
            shared += u64::from(within.contains(k));
        }
    }
    seen > 0 && 2 * shared > seen
}

/// Adds an entry's rule matches to a place (its distinct count is [`add_combo`]'s).
fn record_hits(
    pa: &mut PlaceAgg,
    hits: &[usize],
    e: &Entry<'_>,
    bucket: Option<i64>,
    rules: &RuleSet,
    spare: &mut Sample,
) {
    for &ri in hits {
        let rule = &rules.rules()[ri];
        if pa.matches.len() <= ri {
            pa.matches.resize_with(ri + 1, || None);
        }
        let Some(agg) = pa
            .matches
            .get_mut(ri)
            .map(|a| a.get_or_insert_with(MatchAgg::default))
        else {
            continue;
        };
        agg.count += 1;
        if let Some(t) = e.timestamp {
            agg.first = Some(agg.first.map_or(t, |f| f.min(t)));
            agg.last = Some(agg.last.map_or(t, |l| l.max(t)));
        }
        if let Some(b) = bucket {
            *agg.buckets.entry(b).or_default() += 1;
        }
        if agg.captures.len() < rule.captures.len() {
            agg.captures
                .resize_with(rule.captures.len(), Sampled::default);
        }
        for (ci, cap) in rule.captures.iter().enumerate() {
            if let Some(text) = cap.value(e) {
                count_str(&mut agg.captures[ci], &text);
            }
        }
        if sample_wanted(&agg.samples, e) {
            // Only a message longer than the excerpt needs to know where the match is.
            let at = (e.message.len() > SAMPLE_CHARS)
                .then(|| rule.message_match(e))
                .flatten();
            spare.fill(e, at);
            keep_sample_from(&mut agg.samples, spare);
        }
        if let Some(tr) = e.trace.as_deref() {
            let h = stable_hash(tr);
            agg.traces.add(h, h, (), |_, _| {});
        }
    }
}

/// Counts one entry under the exact set of rules it matched.
fn add_combo(combos: &mut BTreeMap<Vec<usize>, u64>, hits: &[usize]) {
    if hits.is_empty() {
        return;
    }
    if let Some(n) = combos.get_mut(hits) {
        *n += 1;
    } else {
        combos.insert(hits.to_vec(), 1);
    }
}

/// Adds a request log's outcome to a place.
fn record_request(
    pa: &mut PlaceAgg,
    e: &Entry<'_>,
    status: u16,
    bucket: Option<i64>,
    endpoints: &mut Endpoints,
) {
    let r = pa.requests.get_or_insert_with(RequestAgg::default);
    r.requests += 1;
    *r.statuses.entry(status).or_default() += 1;
    // Health checks succeed on a broken revision too: they are not service.
    let probe = is_probe(e);
    r.probes += u64::from(probe);
    r.probe_server_errors += u64::from(probe && status >= 500);
    if let Some(b) = bucket.filter(|_| !probe) {
        *r.buckets.entry(b).or_default() += 1;
    }
    let failed = status >= 400;
    if !failed && !probe {
        r.first_ok = min_opt(r.first_ok, e.timestamp);
        r.last_ok = max_opt(r.last_ok, e.timestamp);
    }
    if status >= 500 && !probe {
        r.last_server_error = max_opt(r.last_server_error, e.timestamp);
        r.first_server_error = min_opt(r.first_server_error, e.timestamp);
    }
    // An uptime check refused by an authenticated service is how it is set up.
    if matches!(status, 401 | 403) && !probe {
        r.rejected.entry(status).or_default().add(Refusals {
            count: 1,
            first: e.timestamp,
            last: e.timestamp,
        });
    }
    if failed {
        r.failures += 1;
        if let Some(at) = endpoints.of(e) {
            count_str(&mut r.failing_endpoints, at);
        }
        if let Some(tr) = e.trace.as_deref() {
            let h = stable_hash(tr);
            // One status per trace: the highest, whatever the read order.
            r.failed_traces
                .add(h, h, status, |s, new| *s = (*s).max(new));
        }
    }
    if let Some(l) = e.http_latency() {
        *r.latency.entry(latency_bucket(l)).or_default() += 1;
        r.latency_max = r.latency_max.max(l);
    }
}

impl Analysis<'_> {
    /// Everything but the plain counts; `place` is the entry's, `hits` the rules it
    /// matches (ascending).
    fn entry_at(&mut self, e: &Entry<'_>, place: &Place, hits: &[usize]) {
        let (loc, project) = (e.place.location.as_deref(), e.place.project.as_deref());
        let (i, fresh) = self.hot.slot(&mut self.cur, place);
        if fresh {
            match e.resource_type.as_deref() {
                Some("cloud_run_revision") => {
                    self.run_revisions.insert(place.clone());
                }
                Some("cloud_run_job") => {
                    self.run_jobs.insert(place.clone());
                }
                _ => {}
            }
        }
        self.hot.aggs[i].counts.add(e);
        let bucket = e.timestamp.map(|t| self.bucket(t));
        let status = e.http_status().filter(|_| names_request(e));
        let lb = status.and_then(|_| lb_group(e));
        // A load balancer's own log is never the backend's record of a request.
        if status.is_some() && !is_lb_request(e) {
            if let Some(tr) = e.trace.as_deref().filter(|t| !t.is_empty()) {
                let h = stable_hash(tr);
                self.backend_traces.add(h, h, (), |_, _| {});
            }
        }
        if status.is_some() && (lb.is_some() || app_written_request(e)) {
            // Rules about requests count it with the held requests; others as usual.
            let (req, other): (Vec<usize>, Vec<usize>) =
                hits.iter().partition(|&&ri| self.reads_http[ri]);
            // Matches go where their rule's kind goes; the entry's distinct count
            // waits with the held lines (all its rules, or only `other`).
            let pa = self.hot.of(&mut self.cur, place);
            record_hits(pa, &other, e, bucket, self.rules, &mut self.spare);
            let pa = match lb {
                Some(g) => {
                    let pa = self.hot_lb[g].of(&mut self.cur_lb[g], place);
                    if let Some(tr) = e.trace.as_deref() {
                        let h = stable_hash(tr);
                        pa.traces.add(h, h, (), |_, _| {});
                    }
                    pa
                }
                None => self.hot_app.of(&mut self.cur_app, place),
            };
            record_hits(pa, &req, e, bucket, self.rules, &mut self.spare);
            add_combo(&mut pa.combos, hits);
            add_combo(&mut pa.other_combos, &other);
            if let Some(status) = status {
                record_request(pa, e, status, bucket, &mut self.endpoints);
            }
        } else {
            let task = retry::task_of(e);
            if let Some((index, attempt)) = task.filter(|_| retry::exited_ok(e)) {
                if self.tasks.kept < retry::MAX_KEPT {
                    let ok = slot(&mut self.tasks.succeeded, place);
                    self.tasks.kept += usize::from(ok.entry(index).or_default().insert(attempt));
                }
            }
            // A job task's matches wait for its later attempts (see `retry`); past
            // the cap they are failures, as if no retry were seen.
            let pa = match task.filter(|_| !hits.is_empty()) {
                Some(k) if self.tasks.kept < retry::MAX_KEPT || self.tasks.holds(place, k) => {
                    let held = slot(&mut self.tasks.held, place);
                    self.tasks.kept += usize::from(!held.contains_key(&k));
                    held.entry(k).or_default()
                }
                _ => self.hot.of(&mut self.cur, place),
            };
            record_hits(pa, hits, e, bucket, self.rules, &mut self.spare);
            add_combo(&mut pa.combos, hits);
            if let Some(status) = status {
                let pa = self.hot.of(&mut self.cur, place);
                record_request(pa, e, status, bucket, &mut self.endpoints);
            }
        }
        if is_error(e) && hits.is_empty() && !e.is_request() {
            self.unknown.add(
                &e.message_or_keys(),
                Some(place).filter(|p| !p.revision.is_empty()),
                e.timestamp.map(|t| t.0),
                e.insert_id.as_deref(),
            );
        }
        if let (Some(method), Some(t)) = (is_deploy(e), e.timestamp) {
            let principal = e
                .proto_payload
                .as_ref()
                .and_then(|p| p.path(&["authenticationInfo".into(), "principalEmail".into()]))
                .map(|v| v.as_text().into_owned())
                .unwrap_or_default();
            self.deploys.insert(Deploy {
                at: t,
                service: place.service.clone(),
                revision: place.revision.clone(),
                method,
                principal,
                location: loc.unwrap_or("").to_string(),
                project: project.unwrap_or("").to_string(),
            });
        }
    }
}

impl Sink for Analysis<'_> {
    fn entry(&mut self, e: &Entry<'_>) {
        self.entries(std::slice::from_ref(e));
    }

    fn done(&mut self) {
        self.settle();
        self.resolve_retries();
        self.attribute();
        self.settle_app_requests();
        self.settle_lb_requests();
        self.counts.done();
    }

    fn entries(&mut self, es: &[Entry<'_>]) {
        let mut block = std::mem::take(&mut self.block);
        self.rules.match_block(es, &mut block);
        let mut place = std::mem::take(&mut self.place);
        for (i, e) in es.iter().enumerate() {
            self.counts.entry(e);
            if set_place(&mut place, e) {
                self.cur = None;
                self.cur_app = None;
                self.cur_lb = [None; 2];
            }
            self.entry_at(e, &place, block.of(i));
        }
        self.place = place;
        self.block = block;
    }

    fn merge(&mut self, mut o: Analysis<'_>) {
        self.settle();
        o.settle();
        self.counts.merge(o.counts);
        for (k, v) in o.matches {
            put(&mut self.matches, k, v, merge_match);
        }
        for (k, v) in o.combos {
            put(&mut self.combos, k, v, add_combos);
        }
        for (k, v) in o.requests {
            put(&mut self.requests, k, v, merge_request);
        }
        self.app.merge(o.app);
        for (held, theirs) in self.lb.iter_mut().zip(o.lb) {
            held.merge(theirs);
        }
        self.backend_traces.merge(o.backend_traces, |_, _| {});
        self.lb_requests_left_out += o.lb_requests_left_out;
        self.tasks.merge(o.tasks, merge_attempt);
        self.retried.merge(o.retried, merge_match);
        self.app_requests_left_out += o.app_requests_left_out;
        self.unknown.merge(o.unknown);
        self.deploys.extend(o.deploys);
        self.run_revisions.extend(o.run_revisions);
        self.run_jobs.extend(o.run_jobs);
        self.unplaced.extend(o.unplaced);
        for (k, v) in o.by_place {
            put(&mut self.by_place, k, v, |c, v| c.merge(&v));
        }
        for (k, v) in o.regions {
            self.regions.entry(k).or_default().extend(v);
        }
        for (k, v) in o.projects {
            self.projects.entry(k).or_default().extend(v);
        }
    }
}

/// The earlier of two optional times.
pub(super) fn min_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) | (None, x) => x,
    }
}

fn max_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) | (None, x) => x,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A load balancer's traces are compared with the backends' at the coarser of the
    /// two samples: a hash the larger set dropped is not a request it never logged.
    #[test]
    fn lb_traces_are_joined_at_the_coarser_sample() {
        type Traces = Sampled<u64, (), TRACE_CAP>;
        let add = |s: &mut Traces, t: String| {
            let h = stable_hash(&t);
            s.add(h, h, (), |_, _| {});
        };
        let mut backend = Traces::default();
        for i in 0..3 * TRACE_CAP {
            add(&mut backend, format!("projects/p/traces/{i:032x}"));
        }
        assert!(backend.level() > 0);
        let (mut same, mut other) = (Traces::default(), Traces::default());
        for i in 0..TRACE_CAP / 2 {
            add(&mut same, format!("projects/p/traces/{:032x}", i * 5));
            add(&mut other, format!("projects/p/traces/lb-only-{i}"));
        }
        assert_eq!(same.level(), 0);
        assert!(mostly_within(&same, &backend));
        assert!(!mostly_within(&other, &backend));
        assert!(!mostly_within(&Traces::default(), &backend));
    }

    #[test]
    fn lb_groups_part_backend_answers_from_the_lb_own() {
        let lb = |details: &str, trace: &str| {
            format!(
                r#"{{"httpRequest":{{"requestMethod":"GET","requestUrl":"https://a/x","status":502}},"insertId":"x","jsonPayload":{{"statusDetails":"{details}"}},"resource":{{"type":"http_load_balancer","labels":{{"backend_service_name":"bs","zone":"global"}}}}{trace}}}"#
            )
        };
        let group = |t: &str| Entry::parse(t).ok().and_then(|e| lb_group(&e));
        let traced = r#","trace":"projects/p/traces/1""#;
        assert_eq!(group(&lb("response_sent_by_backend", traced)), Some(0));
        assert_eq!(group(&lb("failed_to_pick_backend", traced)), Some(1));
        // No trace: nothing to join on, it always counts.
        assert_eq!(group(&lb("response_sent_by_backend", "")), None);
        let run = lb("response_sent_by_backend", traced)
            .replace("http_load_balancer", "cloud_run_revision");
        assert_eq!(group(&run), None);
    }

    #[test]
    fn health_checks_are_told_by_agent_or_path() {
        let probe = |http: &str| {
            let text = format!(r#"{{"httpRequest":{http}}}"#);
            Entry::parse(&text).is_ok_and(|e| is_probe(&e))
        };
        assert!(probe(
            r#"{"status":200,"userAgent":"GoogleHC/1.0","requestUrl":"https://a/"}"#
        ));
        assert!(probe(r#"{"status":200,"userAgent":"kube-probe/1.29"}"#));
        let uptime = r#"{"status":200,"userAgent":"GoogleStackdriverMonitoring-UptimeChecks(https://cloud.google.com/monitoring)"}"#;
        assert!(probe(uptime));
        assert!(probe(r#"{"status":200,"requestUrl":"https://a/healthz"}"#));
        assert!(probe(
            r#"{"status":200,"requestUrl":"https://a/api/health?full=1"}"#
        ));
        assert!(!probe(
            r#"{"status":200,"requestUrl":"https://a/healthcheck-report"}"#
        ));
        assert!(!probe(
            r#"{"status":200,"userAgent":"python-httpx/0.28.1","requestUrl":"https://a/api/orders"}"#
        ));
    }

    fn request(method: &str, url: &str) -> String {
        format!(
            r#"{{"httpRequest":{{"requestMethod":"{method}","requestUrl":"{url}","status":403}},"insertId":"x"}}"#
        )
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn endpoints_are_the_same_remembered_or_not() {
        let mut cache = Endpoints::default();
        let long = format!("https://h/{}", "a/".repeat(400));
        let urls: Vec<String> = (0..ENDPOINTS_KEPT + 10)
            .map(|i| format!("https://api.example.com/api/threads/thread_{i:012x}/messages?x=1"))
            .chain(["https://h/a/b://c".into(), "/x".into(), String::new(), long])
            .collect();
        for round in 0..2 {
            for (i, url) in urls.iter().enumerate() {
                let method = if i % 3 == 0 { "" } else { "GET" };
                let text = request(method, url);
                let e = Entry::parse(&text).unwrap();
                let want = endpoint(method, url);
                let named = !(method.is_empty() && url.is_empty());
                assert_eq!(
                    cache.of(&e),
                    named.then_some(want.as_str()),
                    "round {round}, {method} {url}"
                );
            }
            assert!(cache.known.len() <= ENDPOINTS_KEPT);
        }
        assert_eq!(
            endpoint(
                "GET",
                "https://api.example.com/api/threads/thread_0a1b2c3d4e5f?q=1#f"
            ),
            "GET /api/threads/thread_<*>"
        );
        assert_eq!(endpoint("", "https://h"), "/");
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn a_refused_deploy_is_no_deploy() {
        let audit = |status: &str| {
            format!(
                concat!(
                    r#"{{"insertId":"a1","protoPayload":{{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","#,
                    r#""methodName":"google.cloud.run.v1.Services.ReplaceService","#,
                    r#""resourceName":"namespaces/shop-prod/services/orders"{}}},"#,
                    r#""resource":{{"labels":{{"service_name":"orders","location":"europe-west1"}},"type":"cloud_run_revision"}},"#,
                    r#""severity":"NOTICE","timestamp":"2025-09-11T17:20:00Z"}}"#
                ),
                status
            )
        };
        let ok = audit("");
        let zero = audit(r#","status":{}"#);
        let refused = audit(
            r#","status":{"code":10,"message":"Conflict for resource 'orders': version '1' was specified but current version is '2'."}"#,
        );
        assert!(is_deploy(&Entry::parse(&ok).unwrap()).is_some());
        assert!(is_deploy(&Entry::parse(&zero).unwrap()).is_some());
        assert!(is_deploy(&Entry::parse(&refused).unwrap()).is_none());
    }

    #[test]
    fn samples_keep_the_earliest_whatever_the_order() {
        let mk = |t: i64, id: &str| Sample {
            timestamp: Some(Timestamp(t)),
            insert_id: id.into(),
            severity: String::new(),
            trace: String::new(),
            message: String::new(),
            status: None,
        };
        let all = [mk(5, "a"), mk(1, "b"), mk(3, "c"), mk(1, "a"), mk(9, "z")];
        let mut fwd = Vec::new();
        for s in all.iter().cloned() {
            keep_sample(&mut fwd, s);
        }
        let mut rev = Vec::new();
        for s in all.iter().rev().cloned() {
            keep_sample(&mut rev, s);
        }
        assert_eq!(fwd, rev);
        assert_eq!(fwd.len(), SAMPLES);
        assert_eq!(fwd[0], mk(1, "a"));
    }

    /// The spare gets back the sample pushed out, or keeps its own when nothing was
    /// inserted (later than all kept, or a repeat).
    #[test]
    fn the_spare_sample_takes_what_is_pushed_out() {
        let mk = |t: i64| Sample {
            timestamp: Some(Timestamp(t)),
            insert_id: format!("id{t}"),
            ..Sample::default()
        };
        let mut v: Vec<Sample> = (10..10 + SAMPLES as i64).map(mk).collect();
        let last = v.last().cloned();
        let mut spare = mk(5);
        keep_sample_from(&mut v, &mut spare);
        assert_eq!(v.len(), SAMPLES);
        assert_eq!(v[0], mk(5));
        assert_eq!(Some(spare), last, "the latest sample was pushed out");
        let mut later = mk(99);
        keep_sample_from(&mut v, &mut later);
        assert_eq!(later, mk(99));
        let mut repeat = mk(5);
        keep_sample_from(&mut v, &mut repeat);
        assert_eq!(repeat, mk(5));
        assert_eq!(v.iter().filter(|s| **s == mk(5)).count(), 1);
        let mut short = Vec::new();
        let mut one = mk(1);
        keep_sample_from(&mut short, &mut one);
        assert_eq!((short.len(), one), (1, Sample::default()));
    }

    /// Runs of one place skip the region and project lookups; every (service,
    /// region) and (service, project) still ends up in the sets.
    #[test]
    #[allow(clippy::unwrap_used)]
    fn regions_and_projects_of_interleaved_places() {
        let rules = crate::rules::load(&crate::rules::LoadOptions::default()).unwrap();
        let mut a = Analysis::new(&rules, 300);
        let rec = |svc: &str, loc: &str, project: &str| {
            format!(
                r#"{{"resource":{{"type":"cloud_run_revision","labels":{{"service_name":"{svc}","revision_name":"{svc}-1","location":"{loc}","project_id":"{project}"}}}},"textPayload":"x"}}"#
            )
        };
        let texts = [
            rec("a", "us-central1", "p1"),
            rec("a", "us-central1", "p1"),
            rec("b", "europe-west1", "p1"),
            rec("a", "us-central1", "p2"),
            rec("a", "asia-east1", "p2"),
            rec("b", "europe-west1", "p1"),
            rec("b", "us-central1", "p1"),
        ];
        let es: Vec<Entry<'_>> = texts.iter().map(|t| Entry::parse(t).unwrap()).collect();
        a.entries(&es[..3]);
        a.entries(&es[3..]);
        a.done();
        let set = |m: &BTreeMap<String, BTreeSet<String>>, k: &str| -> Vec<String> {
            m[k].iter().cloned().collect()
        };
        assert_eq!(set(&a.regions, "a"), ["asia-east1", "us-central1"]);
        assert_eq!(set(&a.regions, "b"), ["europe-west1", "us-central1"]);
        assert_eq!(set(&a.projects, "a"), ["p1", "p2"]);
        assert_eq!(set(&a.projects, "b"), ["p1"]);
    }

    /// A line without the location label joins the one region its revision name
    /// runs in; where the name runs in two, it stays apart and is never given one.
    #[test]
    #[allow(clippy::unwrap_used)]
    fn a_place_without_a_region_joins_the_only_one_that_fits() {
        let rules = crate::rules::load(&crate::rules::LoadOptions::default()).unwrap();
        let rec = |rev: &str, loc: &str, project: &str, status: u16| {
            let labels = [("location", loc), ("project_id", project)]
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| format!(r#","{k}":"{v}""#))
                .collect::<String>();
            format!(
                r#"{{"resource":{{"type":"cloud_run_revision","labels":{{"service_name":"s","revision_name":"{rev}"{labels}}}}},"httpRequest":{{"requestMethod":"GET","requestUrl":"/x","status":{status}}},"timestamp":"2025-01-01T00:00:00Z"}}"#
            )
        };
        let texts = [
            rec("s-1", "us-central1", "p1", 200),
            rec("s-1", "", "p1", 500),
            rec("s-1", "", "", 200),
            rec("s-2", "us-central1", "p1", 200),
            rec("s-2", "europe-west1", "p1", 200),
            rec("s-2", "", "p1", 500),
            rec("s-2", "europe-west1", "", 200),
        ];
        let es: Vec<Entry<'_>> = texts.iter().map(|t| Entry::parse(t).unwrap()).collect();
        let at = |rev: &str, region: &str, project: &str| Place {
            service: "s".into(),
            revision: rev.into(),
            region: region.into(),
            project: project.into(),
        };
        for split in [0, 2, 5] {
            let (mut a, mut b) = (Analysis::new(&rules, 60), Analysis::new(&rules, 60));
            a.entries(&es[..split]);
            b.entries(&es[split..]);
            a.merge(b);
            a.done();
            let entries: Vec<(Place, u64)> = a
                .by_place
                .iter()
                .map(|(p, c)| (p.clone(), c.entries))
                .collect();
            assert_eq!(
                entries,
                [
                    (at("s-1", "us-central1", "p1"), 3),
                    (at("s-2", "", "p1"), 1),
                    (at("s-2", "europe-west1", "p1"), 2),
                    (at("s-2", "us-central1", "p1"), 1),
                ],
                "split at {split}"
            );
            assert_eq!(
                a.unplaced.iter().collect::<Vec<_>>(),
                [&at("s-2", "", "p1")]
            );
            let failed = |p: &Place| a.requests.get(p).map_or(0, |r| r.failures);
            assert_eq!(failed(&at("s-1", "us-central1", "p1")), 1);
            assert_eq!(failed(&at("s-2", "", "p1")), 1);
            assert!(a.run_revisions.contains(&at("s-1", "us-central1", "p1")));
            assert!(!a.run_revisions.contains(&at("s-1", "", "")));
            assert_eq!(a.regions["s"].len(), 2);
        }
    }

    /// The per-place aggregates reach the maps the same whether they are settled
    /// once, several times mid-stream, or per worker and merged.
    #[test]
    #[allow(clippy::unwrap_used)]
    fn settling_at_any_point_gives_the_same_maps() {
        let rules = crate::rules::load(&crate::rules::LoadOptions::default()).unwrap();
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/samples/service-auth-regression.json"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let records: Vec<&serde_json::value::RawValue> = serde_json::from_str(&text).unwrap();
        let es: Vec<Entry<'_>> = records
            .iter()
            .map(|r| Entry::parse(r.get()).unwrap())
            .collect();
        assert!(es.len() > 100);
        let maps = |a: &Analysis<'_>| {
            format!(
                "{:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                a.matches,
                a.combos,
                a.requests,
                a.by_place,
                a.run_revisions,
                a.run_jobs,
                a.unplaced
            )
        };
        let mut once = Analysis::new(&rules, 60);
        once.entries(&es);
        once.done();
        assert!(!once.matches.is_empty() && !once.requests.is_empty());
        assert!(!once.by_place.is_empty() && !once.run_revisions.is_empty());
        let mut often = Analysis::new(&rules, 60);
        for part in es.chunks(7) {
            often.entries(part);
            often.done();
        }
        assert_eq!(maps(&often), maps(&once));
        let (left, right) = es.split_at(es.len() / 3);
        let (mut a, mut b) = (Analysis::new(&rules, 60), Analysis::new(&rules, 60));
        a.entries(left);
        b.entries(right);
        a.merge(b);
        assert_eq!(maps(&a), maps(&once));
    }

    /// A job task's failed attempt goes to `retried` when a later attempt of the
    /// same task exited 0, whichever worker read which line and in what order; a
    /// task with no later success (or only an earlier one) stays failed.
    #[test]
    #[allow(clippy::unwrap_used)]
    fn a_task_attempt_made_good_by_a_retry_is_retried_however_split() {
        let rules = crate::rules::load(&crate::rules::LoadOptions::default()).unwrap();
        let crash = rules.get("CLOUD_RUN_CONTAINER_CRASH").unwrap().0;
        let rec = |index: u32, attempt: u32, code: u32, secs: u32| {
            format!(
                r#"{{"insertId":"i{index}-{attempt}","labels":{{"container_name":"worker","run.googleapis.com/execution_name":"j-abc","run.googleapis.com/task_attempt":"{attempt}","run.googleapis.com/task_index":"{index}"}},"logName":"projects/p/logs/run.googleapis.com%2Fvarlog%2Fsystem","resource":{{"type":"cloud_run_job","labels":{{"job_name":"j","location":"us-east4","project_id":"p"}}}},"severity":"WARNING","textPayload":"Container called exit({code}).","timestamp":"2025-10-06T02:00:{secs:02}Z"}}"#
            )
        };
        // Newest first, as gcloud prints. Task 0 fails then succeeds; task 1 fails
        // twice; task 2 succeeded, then an attempt after it failed.
        let texts = [
            rec(2, 1, 1, 50),
            rec(2, 0, 0, 40),
            rec(1, 1, 1, 30),
            rec(1, 0, 1, 20),
            rec(0, 1, 0, 10),
            rec(0, 0, 1, 1),
        ];
        let es: Vec<Entry<'_>> = texts.iter().map(|t| Entry::parse(t).unwrap()).collect();
        let place = Place {
            service: "j".into(),
            revision: "j-abc".into(),
            region: "us-east4".into(),
            project: "p".into(),
        };
        let key = (crash, place.clone());
        for split in 0..=es.len() {
            let (mut a, mut b) = (Analysis::new(&rules, 60), Analysis::new(&rules, 60));
            a.entries(&es[..split]);
            b.entries(&es[split..]);
            a.merge(b);
            a.done();
            assert_eq!(
                a.retried.matches.get(&key).map(|m| m.count),
                Some(1),
                "{split}"
            );
            assert_eq!(a.matches.get(&key).map(|m| m.count), Some(3), "{split}");
            assert_eq!(a.retried.tasks.get(&key), Some(&1));
            assert_eq!(a.retried.place_tasks.get(&place), Some(&1));
            let failed: u64 = a.combos.get(&place).map_or(0, |c| c.values().sum());
            assert_eq!(failed, 3, "{split}");
            assert_eq!(a.by_place.get(&place).map(|c| c.entries), Some(6));
        }
    }

    #[test]
    fn latency_buckets_bound_the_value() {
        for l in [0.000_5, 0.012, 0.25, 3.78, 60.3] {
            let b = latency_bucket(l);
            assert!(latency_upper(b) >= l && latency_upper(b) < l * 1.3, "{l}");
        }
    }
}
