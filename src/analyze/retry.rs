//! Cloud Run job tasks retried to success. A job's execution runs tasks; a task
//! whose container fails is run again (up to the job's max retries), and a later
//! attempt that exits 0 makes the task succeed
//! (<https://cloud.google.com/run/docs/configuring/max-retries>). Matches on an
//! attempt that such a later attempt made good stay in the findings, but they are
//! not failures of the execution.
//!
//! What the logs give: every entry of a task carries the labels
//! `run.googleapis.com/execution_name`, `run.googleapis.com/task_index` and
//! `run.googleapis.com/task_attempt`, and the platform ends each attempt in
//! `run.googleapis.com/varlog/system` with "Container called exit(N)." (a real
//! success: `amarriner-gcp-learning-cloud-run-job.ndjson` in the real exports,
//! "Container called exit(0)." at INFO). Only that system line counts as a success:
//! an application printing the same words on stdout proves nothing. No
//! execution-level "completed" line is relied on: none was found in public exports.

use super::sink::{MatchAgg, Place, PlaceAgg};
use crate::entry::Entry;
use std::collections::{BTreeMap, BTreeSet};

/// The entry's task within its execution: (task index, attempt), from its labels.
pub(super) fn task_of(e: &Entry<'_>) -> Option<(u64, u64)> {
    if e.resource_type.as_deref() != Some("cloud_run_job") {
        return None;
    }
    let num = |k: &str| e.labels.str(k).and_then(|v| v.trim().parse::<u64>().ok());
    Some((
        num("run.googleapis.com/task_index")?,
        num("run.googleapis.com/task_attempt")?,
    ))
}

/// The platform's line for an attempt whose container exited 0.
pub(super) fn exited_ok(e: &Entry<'_>) -> bool {
    let system = e.log_name.as_deref().is_some_and(|l| {
        l.ends_with("/logs/run.googleapis.com%2Fvarlog%2Fsystem")
            || l.ends_with("/logs/run.googleapis.com/varlog/system")
    });
    system && e.message.trim() == "Container called exit(0)."
}

/// Matching entries of job tasks, held per attempt until every entry is in: only
/// then is it known whether a later attempt of the task succeeded (exports come
/// newest first, and workers see parts of them).
#[derive(Debug, Clone, Default)]
pub(super) struct TaskAttempts {
    /// Place -> (task index, attempt) -> that attempt's matches.
    pub held: BTreeMap<Place, BTreeMap<(u64, u64), PlaceAgg>>,
    /// Place -> task index -> attempts that exited 0.
    pub succeeded: BTreeMap<Place, BTreeMap<u64, BTreeSet<u64>>>,
    /// Attempts held plus successes kept, by this worker: at most [`MAX_KEPT`].
    pub kept: usize,
}

/// Attempts (held or succeeded) one worker keeps: each held one carries a match
/// aggregate (samples, captures, traces), so memory must not grow with the export.
/// Past it, matches count as failures, as before retries were read.
pub const MAX_KEPT: usize = 2_000;

/// Matches on attempts that a later attempt of the same task made good.
#[derive(Debug, Clone, Default)]
pub struct Retried {
    /// (rule index, place) -> those matches.
    pub matches: BTreeMap<(usize, Place), MatchAgg>,
    /// (rule index, place) -> tasks whose failed attempts the rule matched.
    pub tasks: BTreeMap<(usize, Place), u64>,
    /// Per place: tasks with matches that then succeeded on retry.
    pub place_tasks: BTreeMap<Place, u64>,
}

impl Retried {
    /// Adds `o` (`merge` adds one match aggregate into another).
    pub(super) fn merge(&mut self, o: Retried, merge: impl Fn(&mut MatchAgg, MatchAgg)) {
        for (k, v) in o.matches {
            match self.matches.get_mut(&k) {
                Some(m) => merge(m, v),
                None => {
                    self.matches.insert(k, v);
                }
            }
        }
        for (k, n) in o.tasks {
            *self.tasks.entry(k).or_default() += n;
        }
        for (k, n) in o.place_tasks {
            *self.place_tasks.entry(k).or_default() += n;
        }
    }
}

/// Where one attempt's matches go.
pub(super) enum Verdict {
    /// A later attempt of the task exited 0.
    Retried,
    /// Its last attempt in the logs, a later failure, or no later success seen.
    Failed,
}

impl TaskAttempts {
    /// True when the attempt `k` of `place` is held already.
    pub fn holds(&self, place: &Place, k: (u64, u64)) -> bool {
        self.held.get(place).is_some_and(|m| m.contains_key(&k))
    }

    /// Adds `o`'s attempts.
    pub fn merge(&mut self, o: TaskAttempts, merge: impl Fn(&mut PlaceAgg, PlaceAgg)) {
        for (p, tasks) in o.held {
            let mine = self.held.entry(p).or_default();
            for (k, v) in tasks {
                match mine.get_mut(&k) {
                    Some(m) => merge(m, v),
                    None => {
                        mine.insert(k, v);
                    }
                }
            }
        }
        self.kept += o.kept;
        for (p, tasks) in o.succeeded {
            let mine = self.succeeded.entry(p).or_default();
            for (i, ok) in tasks {
                mine.entry(i).or_default().extend(ok);
            }
        }
    }

    /// Each held attempt with what became of it, emptying the hold (the successes
    /// stay, for attempts held later). Needs every entry: a success read after it
    /// cannot take back matches already judged failed.
    pub fn resolve(&mut self) -> Vec<(Place, u64, PlaceAgg, Verdict)> {
        let mut out = Vec::new();
        for (p, tasks) in std::mem::take(&mut self.held) {
            let ok = self.succeeded.get(&p);
            for ((index, attempt), agg) in tasks {
                let later_ok = ok
                    .and_then(|t| t.get(&index))
                    .is_some_and(|a| a.iter().any(|&s| s > attempt));
                let v = if later_ok {
                    Verdict::Retried
                } else {
                    Verdict::Failed
                };
                out.push((p.clone(), index, agg, v));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(log: &str, labels: &str, msg: &str) -> String {
        format!(
            r#"{{"insertId":"a","labels":{{{labels}}},"logName":"projects/p/logs/{log}","resource":{{"type":"cloud_run_job","labels":{{"job_name":"j","location":"us-east4","project_id":"p"}}}},"textPayload":"{msg}","timestamp":"2025-10-06T02:00:01.5Z"}}"#
        )
    }

    const TASK: &str = r#""run.googleapis.com/execution_name":"j-abc","run.googleapis.com/task_attempt":"2","run.googleapis.com/task_index":"7""#;

    #[test]
    fn a_task_is_read_from_the_job_labels() {
        let text = entry("run.googleapis.com%2Fstdout", TASK, "x");
        assert_eq!(
            Entry::parse(&text).ok().and_then(|e| task_of(&e)),
            Some((7, 2))
        );
        // No attempt label: not a task this module can judge.
        let text = entry(
            "run.googleapis.com%2Fstdout",
            r#""run.googleapis.com/task_index":"7""#,
            "x",
        );
        assert_eq!(Entry::parse(&text).ok().and_then(|e| task_of(&e)), None);
        // A service's revision is no job, whatever its labels.
        let text = entry("run.googleapis.com%2Fstdout", TASK, "x")
            .replace("cloud_run_job", "cloud_run_revision");
        assert_eq!(Entry::parse(&text).ok().and_then(|e| task_of(&e)), None);
    }

    #[test]
    fn only_the_platform_says_an_attempt_exited_0() {
        let ok = |log: &str, msg: &str| {
            Entry::parse(&entry(log, TASK, msg)).is_ok_and(|e| exited_ok(&e))
        };
        assert!(ok(
            "run.googleapis.com%2Fvarlog%2Fsystem",
            "Container called exit(0)."
        ));
        assert!(!ok(
            "run.googleapis.com%2Fvarlog%2Fsystem",
            "Container called exit(1)."
        ));
        assert!(!ok(
            "run.googleapis.com%2Fvarlog%2Fsystem",
            "Container called exit(00)."
        ));
        assert!(!ok(
            "run.googleapis.com%2Fstdout",
            "Container called exit(0)."
        ));
    }

    #[test]
    fn an_attempt_is_retried_only_when_a_later_one_succeeded() {
        let p = Place::default();
        let mut t = TaskAttempts::default();
        // Task 0: attempt 0 failed, 1 succeeded. Task 1: attempts 0 and 1 failed, no
        // success. Task 2: attempt 1 failed after attempt 0 succeeded (not made good).
        for k in [(0, 0), (1, 0), (1, 1), (2, 1)] {
            t.held
                .entry(p.clone())
                .or_default()
                .insert(k, PlaceAgg::default());
        }
        let ok = t.succeeded.entry(p.clone()).or_default();
        ok.entry(0).or_default().insert(1);
        ok.entry(2).or_default().insert(0);
        let got: Vec<(u64, bool)> = t
            .resolve()
            .into_iter()
            .map(|(_, i, _, v)| (i, matches!(v, Verdict::Retried)))
            .collect();
        assert_eq!(got, [(0, true), (1, false), (1, false), (2, false)]);
        assert!(t.held.is_empty() && t.resolve().is_empty());
    }
}
