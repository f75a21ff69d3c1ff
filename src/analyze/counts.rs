//! Plain counts over entries: what `stats` shows and what the report's per-revision
//! table starts from.

use crate::entry::{Entry, Severity, Timestamp};
use crate::pipeline::Sink;
use std::collections::BTreeMap;

/// Per (service, revision) counts.
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
    fn add_time(&mut self, t: Option<Timestamp>) {
        if let Some(t) = t {
            self.first_seen = Some(self.first_seen.map_or(t, |f| f.min(t)));
            self.last_seen = Some(self.last_seen.map_or(t, |l| l.max(t)));
        }
    }

    fn merge(&mut self, o: &RevisionCounts) {
        self.entries += o.entries;
        self.errors += o.errors;
        self.add_time(o.first_seen);
        self.add_time(o.last_seen);
    }
}

/// Counts by severity, service, revision and log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Distinct entries.
    pub entries: u64,
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

/// The previous entry's (service, revision), and the last few log names with their
/// decoded log ids: entries come in runs from one revision, and Cloud Run's request,
/// stderr and stdout lines interleave, so map keys are built once per run.
#[derive(Debug, Clone, Default)]
struct LastKeys {
    place: (String, String),
    /// (log name, log id), most recently used first.
    logs: [Option<(Option<String>, String)>; LOG_SLOTS],
}

/// Logs remembered: a revision writes requests, stdout, stderr and maybe one more.
const LOG_SLOTS: usize = 4;

impl LastKeys {
    /// The decoded log id of `e`'s log name.
    fn log_id(&mut self, e: &Entry<'_>) -> &str {
        let name = e.log_name.as_deref();
        let at = self
            .logs
            .iter()
            .position(|s| s.as_ref().is_some_and(|(n, _)| n.as_deref() == name));
        match at {
            Some(i) => self.logs[..=i].rotate_right(1),
            None => {
                self.logs.rotate_right(1);
                let id = e.log_id().as_deref().unwrap_or("").to_string();
                self.logs[0] = Some((name.map(str::to_string), id));
            }
        }
        self.logs[0].as_ref().map_or("", |(_, id)| id.as_str())
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
        bump(&mut self.by_service, service);
        if let Some(rev) = e.place.revision.as_deref() {
            let key = &mut self.last.place;
            if key.0 != service || key.1 != rev {
                key.0.clear();
                key.0.push_str(service);
                key.1.clear();
                key.1.push_str(rev);
            }
            let r = match self.by_revision.get_mut(key) {
                Some(r) => r,
                None => self.by_revision.entry(key.clone()).or_default(),
            };
            r.entries += 1;
            r.errors += u64::from(is_error(e));
            r.add_time(e.timestamp);
        }
        bump(&mut self.by_log, self.last.log_id(e));
        bump(
            &mut self.by_resource,
            e.resource_type.as_deref().unwrap_or(""),
        );
    }

    fn merge(&mut self, o: Counts) {
        self.entries += o.entries;
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
}

fn bump(m: &mut BTreeMap<String, u64>, k: &str) {
    if let Some(v) = m.get_mut(k) {
        *v += 1;
    } else {
        m.insert(k.to_string(), 1);
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
        assert_eq!(c.by_log, want);
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
