//! Plain counts over entries: what `stats` shows and what the report's per-revision
//! table starts from.

use crate::entry::{Entry, Severity, Timestamp};
use crate::pipeline::Sink;
use std::collections::BTreeMap;

/// Per (service, revision) counts, by name whatever the region: `stats` lists them;
/// the report counts per place in the sink.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RevisionCounts {
    /// Entries.
    pub entries: u64,
    /// Entries at ERROR or above, or request logs with status >= 500.
    pub errors: u64,
    /// Earliest timestamp.
    pub first_seen: Option<Timestamp>,
    /// Latest timestamp.
    pub last_seen: Option<Timestamp>,
}

impl RevisionCounts {
    /// Counts one entry.
    pub(super) fn add(&mut self, e: &Entry<'_>) {
        self.entries += 1;
        self.errors += u64::from(is_error(e));
        self.add_time(e.timestamp);
    }

    fn add_time(&mut self, t: Option<Timestamp>) {
        if let Some(t) = t {
            self.first_seen = Some(self.first_seen.map_or(t, |f| f.min(t)));
            self.last_seen = Some(self.last_seen.map_or(t, |l| l.max(t)));
        }
    }

    /// Adds another's counts.
    pub(super) fn merge(&mut self, o: &RevisionCounts) {
        self.entries += o.entries;
        self.errors += o.errors;
        self.add_time(o.first_seen);
        self.add_time(o.last_seen);
    }
}

/// Counts by severity, service, revision and log; the maps are complete once
/// [`Sink::done`] has run (a merge completes both sides too).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Distinct entries.
    pub entries: u64,
    /// Entries that count as errors ([`is_error`]), with or without a revision.
    pub errors: u64,
    /// Entries with neither timestamp nor receiveTimestamp.
    pub no_timestamp: u64,
    /// Entries timed by receiveTimestamp.
    pub receive_time_only: u64,
    /// Earliest and latest timestamp.
    pub window: Option<(Timestamp, Timestamp)>,
    /// By severity level.
    pub by_severity: BTreeMap<Severity, u64>,
    /// By service (entries without one under "").
    pub by_service: BTreeMap<String, u64>,
    /// By (service, revision), only entries with a revision.
    pub by_revision: BTreeMap<(String, String), RevisionCounts>,
    /// By log id.
    pub by_log: BTreeMap<String, u64>,
    /// By resource type.
    pub by_resource: BTreeMap<String, u64>,
    /// Keys of the previous entry, reused while they repeat (not part of the counts).
    last: LastKeys,
}

/// The run of entries being counted, and the last few log names with their decoded
/// log ids and counts: entries come in runs from one revision, and Cloud Run's
/// request, stderr and stdout lines interleave, so the maps (whose lookups compare
/// strings) are updated once per run. [`Sink::done`] and merges add what is pending.
#[derive(Debug, Clone, Default)]
struct LastKeys {
    run: Run,
    /// (log name, log id, entries not yet in `by_log`), most recently used first.
    logs: [Option<(Option<String>, String, u64)>; LOG_SLOTS],
}

/// Entries in a row with one service, revision and resource type, not yet counted in
/// the maps.
#[derive(Debug, Clone, Default)]
struct Run {
    service: String,
    revision: Option<String>,
    resource: String,
    /// Entries (0: no run).
    entries: u64,
    /// What the run adds to its revision's counts.
    counts: RevisionCounts,
}

/// Logs remembered: a revision writes requests, stdout, stderr and maybe one more.
const LOG_SLOTS: usize = 4;

impl LastKeys {
    /// Counts `e` under its log's decoded id; a log pushed out of the slots adds its
    /// pending count to `by_log`.
    fn count_log(&mut self, e: &Entry<'_>, by_log: &mut BTreeMap<String, u64>) {
        let name = e.log_name.as_deref();
        let at = self
            .logs
            .iter()
            .position(|s| s.as_ref().is_some_and(|(n, _, _)| n.as_deref() == name));
        match at {
            Some(i) => self.logs[..=i].rotate_right(1),
            None => {
                self.logs.rotate_right(1);
                if let Some((_, id, n)) = self.logs[0].take() {
                    bump(by_log, &id, n);
                }
                let id = e.log_id().as_deref().unwrap_or("").to_string();
                self.logs[0] = Some((name.map(str::to_string), id, 0));
            }
        }
        if let Some((_, _, n)) = &mut self.logs[0] {
            *n += 1;
        }
    }
}

impl PartialEq for LastKeys {
    fn eq(&self, _: &LastKeys) -> bool {
        true
    }
}

/// True for entries that count as errors in rates: ERROR and above, or a 5xx request.
pub fn is_error(e: &Entry<'_>) -> bool {
    e.severity >= Severity::Error || e.http_status().is_some_and(|s| s >= 500)
}

impl Sink for Counts {
    fn entry(&mut self, e: &Entry<'_>) {
        self.entries += 1;
        match e.time_source {
            crate::entry::TimeSource::None => self.no_timestamp += 1,
            crate::entry::TimeSource::Receive => self.receive_time_only += 1,
            crate::entry::TimeSource::Timestamp => {}
        }
        if let Some(t) = e.timestamp {
            self.window = Some(match self.window {
                None => (t, t),
                Some((a, b)) => (a.min(t), b.max(t)),
            });
        }
        *self.by_severity.entry(e.severity).or_default() += 1;
        let service = e.place.service.as_deref().unwrap_or("");
        let revision = e.place.revision.as_deref();
        let resource = e.resource_type.as_deref().unwrap_or("");
        let run = &self.last.run;
        if run.entries == 0
            || run.service != service
            || run.revision.as_deref() != revision
            || run.resource != resource
        {
            self.end_run();
            let run = &mut self.last.run;
            run.service.clear();
            run.service.push_str(service);
            match (&mut run.revision, revision) {
                (Some(have), Some(r)) => {
                    have.clear();
                    have.push_str(r);
                }
                (have, r) => *have = r.map(str::to_string),
            }
            run.resource.clear();
            run.resource.push_str(resource);
        }
        let error = u64::from(is_error(e));
        self.errors += error;
        let run = &mut self.last.run;
        run.entries += 1;
        run.counts.entries += 1;
        run.counts.errors += error;
        run.counts.add_time(e.timestamp);
        self.last.count_log(e, &mut self.by_log);
    }

    fn merge(&mut self, mut o: Counts) {
        self.done();
        o.done();
        self.entries += o.entries;
        self.errors += o.errors;
        self.no_timestamp += o.no_timestamp;
        self.receive_time_only += o.receive_time_only;
        self.window = match (self.window, o.window) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (w, None) | (None, w) => w,
        };
        for (k, v) in o.by_severity {
            *self.by_severity.entry(k).or_default() += v;
        }
        for (k, v) in o.by_revision {
            self.by_revision.entry(k).or_default().merge(&v);
        }
        add_map(&mut self.by_service, o.by_service);
        add_map(&mut self.by_log, o.by_log);
        add_map(&mut self.by_resource, o.by_resource);
    }

    fn done(&mut self) {
        self.end_run();
        for (_, id, n) in self.last.logs.iter_mut().flatten() {
            bump(&mut self.by_log, id, std::mem::take(n));
        }
    }
}

impl Counts {
    /// Adds the run's counts to the maps and ends it.
    fn end_run(&mut self) {
        let run = &mut self.last.run;
        let n = std::mem::take(&mut run.entries);
        if n == 0 {
            return;
        }
        let counts = std::mem::take(&mut run.counts);
        bump(&mut self.by_service, &run.service, n);
        bump(&mut self.by_resource, &run.resource, n);
        if let Some(rev) = &run.revision {
            let key = (run.service.clone(), rev.clone());
            self.by_revision.entry(key).or_default().merge(&counts);
        }
    }
}

fn bump(m: &mut BTreeMap<String, u64>, k: &str, n: u64) {
    if n == 0 {
        return;
    }
    if let Some(v) = m.get_mut(k) {
        *v += n;
    } else {
        m.insert(k.to_string(), n);
    }
}

fn add_map(a: &mut BTreeMap<String, u64>, b: BTreeMap<String, u64>) {
    for (k, v) in b {
        *a.entry(k).or_default() += v;
    }
}

/// The newest timestamp only: the cheap first pass that resolves `--since 6h`.
#[derive(Debug, Default)]
pub struct Newest(pub Option<Timestamp>);

impl Sink for Newest {
    fn entry(&mut self, e: &Entry<'_>) {
        if let Some(t) = e.timestamp {
            self.0 = Some(self.0.map_or(t, |n| n.max(t)));
        }
    }
    fn merge(&mut self, o: Newest) {
        if let Some(t) = o.0 {
            self.0 = Some(self.0.map_or(t, |n| n.max(t)));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// More logs interleaved than the id cache holds: every entry still counts under
    /// its own decoded id.
    #[test]
    fn interleaved_logs_count_under_their_ids() {
        let logs = ["requests", "stderr", "stdout", "varlog%2Fsystem", "a", "b"];
        let mut c = Counts::default();
        let mut want: BTreeMap<String, u64> = BTreeMap::new();
        for i in 0..200usize {
            let log = logs[(i * i + i / 3) % logs.len()];
            let line = format!(
                r#"{{"logName":"projects/p/logs/run.googleapis.com%2F{log}","textPayload":"x"}}"#
            );
            c.entry(&Entry::parse(&line).unwrap());
            *want
                .entry(format!("run.googleapis.com/{}", log.replace("%2F", "/")))
                .or_default() += 1;
        }
        c.entry(&Entry::parse(r#"{"textPayload":"no log name"}"#).unwrap());
        *want.entry(String::new()).or_default() += 1;
        c.done();
        assert_eq!(c.by_log, want);
    }

    /// Runs of one place, broken by other places, resource types and a missing
    /// revision: the maps hold what each entry adds, fed whole or split and merged.
    #[test]
    fn runs_count_like_entries() {
        let places = [
            ("a", Some("a-1"), "cloud_run_revision"),
            ("a", Some("a-2"), "cloud_run_revision"),
            ("b", None, "gae_app"),
            ("a", Some("a-1"), "k8s_container"),
        ];
        let mut lines = Vec::new();
        let (mut service, mut revision, mut resource) =
            (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        for i in 0..300usize {
            let (svc, rev, kind) = places[(i / 7 + i % 3 / 2) % places.len()];
            let sev = if i % 5 == 0 { "ERROR" } else { "INFO" };
            let labels = match rev {
                Some(r) => {
                    format!(r#""service_name":"{svc}","revision_name":"{r}","module_id":"{svc}""#)
                }
                None => format!(r#""module_id":"{svc}""#),
            };
            lines.push(format!(
                r#"{{"severity":"{sev}","timestamp":"2025-01-01T00:{:02}:00Z","resource":{{"type":"{kind}","labels":{{{labels}}}}},"textPayload":"x"}}"#,
                i % 60
            ));
            let svc_key = if kind == "k8s_container" { "" } else { svc };
            *service.entry(svc_key.to_string()).or_insert(0u64) += 1;
            *resource.entry(kind.to_string()).or_insert(0u64) += 1;
            if let (Some(r), false) = (rev, kind == "k8s_container") {
                let c: &mut (u64, u64) = revision
                    .entry((svc.to_string(), r.to_string()))
                    .or_default();
                c.0 += 1;
                c.1 += u64::from(sev == "ERROR");
            }
        }
        let feed = |ls: &[String]| {
            let mut c = Counts::default();
            for l in ls {
                c.entry(&Entry::parse(l).unwrap());
            }
            c
        };
        let mut whole = feed(&lines);
        whole.done();
        assert_eq!(whole.by_service, service);
        assert_eq!(whole.by_resource, resource);
        let got: BTreeMap<_, _> = whole
            .by_revision
            .iter()
            .map(|(k, v)| (k.clone(), (v.entries, v.errors)))
            .collect();
        assert_eq!(got, revision);
        assert_eq!(whole.by_log.values().sum::<u64>(), 300);
        for split in [1, 6, 7, 150, 299] {
            let mut a = feed(&lines[..split]);
            a.merge(feed(&lines[split..]));
            a.done();
            assert_eq!(a, whole, "split at {split}");
        }
    }

    #[test]
    fn counts_merge_like_one_pass() {
        let lines = [
            r#"{"severity":"ERROR","timestamp":"2025-01-01T00:00:02Z","resource":{"type":"cloud_run_revision","labels":{"service_name":"a","revision_name":"a-1"}},"logName":"projects/p/logs/run.googleapis.com%2Fstderr"}"#,
            r#"{"severity":"INFO","timestamp":"2025-01-01T00:00:01Z","resource":{"type":"cloud_run_revision","labels":{"service_name":"a","revision_name":"a-2"}}}"#,
            r#"{"textPayload":"x"}"#,
        ];
        let mut one = Counts::default();
        for l in lines {
            one.entry(&Entry::parse(l).unwrap());
        }
        one.done();
        let mut a = Counts::default();
        let mut b = Counts::default();
        a.entry(&Entry::parse(lines[2]).unwrap());
        b.entry(&Entry::parse(lines[0]).unwrap());
        b.entry(&Entry::parse(lines[1]).unwrap());
        a.merge(b);
        assert_eq!(a, one);
        assert_eq!(one.entries, 3);
        assert_eq!(one.no_timestamp, 1);
        assert_eq!(one.by_revision.len(), 2);
        assert_eq!(one.by_revision[&("a".into(), "a-1".into())].errors, 1);
        assert_eq!(one.by_log["run.googleapis.com/stderr"], 1);
    }
}
