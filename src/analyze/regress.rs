//! Revision regressions: order a service's revisions and find where the failure
//! rate jumps. One revision, or no jump, means no regression rather than a guess.

use super::sink::Deploy;
use crate::entry::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Failures needed on the first bad revision before calling a regression.
const MIN_FAILURES: u64 = 5;
/// Entries the last good revision must have served for "0 failures" to mean something.
const MIN_GOOD_ENTRIES: u64 = 10;
/// How much higher the bad rate must be than every earlier one.
const JUMP: f64 = 10.0;
/// Requests the last good revision must have served when the bad one served some
/// (fewer when the bad one served fewer): one health check says nothing.
const MIN_GOOD_REQUESTS: u64 = 10;
/// How long a revision may serve successfully before its first failure for the
/// failures still to count as starting with it. Past this, the deploy is not what
/// the logs show starting them (a database outage 40 minutes later is not).
const ONSET_GRACE_SECS: i64 = 15 * 60;
/// Requests (health checks left out) it must have served in that time.
const MIN_SERVED_BEFORE: u64 = 20;
/// How long the last good revision must go on serving after the bad one's last
/// entry to count as traffic moved back to it.
const ROLLED_BACK_SECS: i64 = 5 * 60;
/// Least quiet after a revision's last failure, while it serves, to call its failures
/// stopped.
const RECOVERED_QUIET_SECS: i64 = 15 * 60;
/// How far above the service's other revisions a revision's share of requests
/// answered with 4xx may run (summed over statuses, or per status for what is new
/// with it) and still be background: a public API's scanners and expired tokens.
pub const BACKGROUND_EXCESS: f64 = 0.1;
/// Requests another revision must serve while a failing one that served none runs,
/// for that one to count as never having had traffic.
const MIN_SERVED_BESIDE: u64 = 3;
/// Requests the last good revision must serve after that to count as traffic moved back.
const MIN_ROLLED_BACK_REQUESTS: u64 = 10;
/// How far apart, either way, another place's onset and the first bad revision's
/// first failure may be to count as the same onset. Clients of one database or
/// upstream fail at their next call to it: a busy service within seconds, a quiet one
/// within minutes. Wider would take in failures that the first one's outage caused
/// later (a caller of the broken service) or an unrelated incident.
const SHARED_ONSET_SECS: i64 = 5 * 60;
/// Matches another place needs in that window (the fewest any default rule fires on);
/// as many in the 15 minutes before it means its failures were already under way.
const MIN_SHARED: u64 = 3;

/// One revision's figures, as the regression search sees them.
#[derive(Debug, Clone)]
pub struct RevStats {
    /// Revision name.
    pub revision: String,
    /// Entries.
    pub entries: u64,
    /// Matches of fired findings.
    pub failures: u64,
    /// First seen.
    pub first_seen: Option<Timestamp>,
    /// Last seen.
    pub last_seen: Option<Timestamp>,
    /// Earliest match of a fired finding.
    pub first_failure: Option<Timestamp>,
    /// Latest match of a fired finding.
    pub last_failure: Option<Timestamp>,
    /// Matches of fired findings per minute (start, seconds).
    pub failure_minutes: BTreeMap<i64, u64>,
    /// Failures per rule id.
    pub by_rule: BTreeMap<String, u64>,
    /// Request logs.
    pub requests: u64,
    /// Request logs with status >= 400.
    pub failed_requests: u64,
    /// Request logs with status >= 500.
    pub server_errors: u64,
    /// Entries at ERROR or above, or request logs with status >= 500.
    pub errors: u64,
    /// The earliest request answered below 400 (health checks left out).
    pub first_ok: Option<Timestamp>,
    /// Requests per bucket start (seconds), health checks left out.
    pub served: BTreeMap<i64, u64>,
    /// Requests answered 4xx, per status.
    pub client_statuses: BTreeMap<u16, u64>,
    /// Per 4xx status, the lowest share of it among the service's other revisions
    /// that served enough requests to tell (see [`compare_client_errors`]); empty
    /// when none did.
    pub client_floor: BTreeMap<u16, f64>,
}

impl RevStats {
    fn rate(&self) -> f64 {
        if self.entries == 0 {
            0.0
        } else {
            self.failures as f64 / self.entries as f64
        }
    }

    /// Longest pause, in seconds, between two minutes with failures.
    fn longest_failure_gap(&self) -> i64 {
        let m: Vec<i64> = self.failure_minutes.keys().copied().collect();
        m.windows(2).map(|w| w[1] - w[0] - 60).max().unwrap_or(0)
    }

    /// Its share of requests answered 4xx.
    fn client_share(&self) -> f64 {
        let client = self.failed_requests.saturating_sub(self.server_errors);
        client as f64 / self.requests.max(1) as f64
    }

    /// Its share of requests answered with each 4xx status.
    fn status_shares(&self) -> impl Iterator<Item = (u16, f64)> + '_ {
        let n = self.requests.max(1) as f64;
        self.client_statuses
            .iter()
            .map(move |(s, c)| (*s, *c as f64 / n))
    }

    /// Its requests, if it served any, mostly succeeded: at most one in twenty with
    /// 5xx, and 4xx under half, or under 90% and, status by status, no more than 10
    /// points over what the service's other revisions get (a public API's scanners
    /// and expired tokens are its background, not its fault; a 401 the others never
    /// answered is not). A burst rule can stay under its threshold while every
    /// request of a quiet service fails; such a revision is not "working".
    pub fn requests_healthy(&self) -> bool {
        let client = self.client_share();
        let excess: f64 = self
            .status_shares()
            .map(|(s, share)| self.excess(s, share))
            .sum();
        self.requests == 0
            || (self.server_errors * 20 <= self.requests
                && (client < 0.5
                    || (client < 0.9
                        && !self.client_floor.is_empty()
                        && excess <= BACKGROUND_EXCESS)))
    }

    /// How far `share` of its requests answered `status` runs over the lowest share
    /// of it among the service's other revisions (all of it when they never gave it).
    fn excess(&self, status: u16, share: f64) -> f64 {
        (share - self.client_floor.get(&status).copied().unwrap_or(0.0)).max(0.0)
    }

    /// The 4xx statuses it answered more than [`BACKGROUND_EXCESS`] over the service's
    /// other revisions: new with it. None when no other revision served enough
    /// requests to compare (then nothing shows what is new).
    pub fn new_client_errors(&self) -> BTreeSet<u16> {
        if self.client_floor.is_empty() {
            return BTreeSet::new();
        }
        self.status_shares()
            .filter(|(s, share)| self.excess(*s, *share) > BACKGROUND_EXCESS)
            .map(|(s, _)| s)
            .collect()
    }

    /// The statuses of [`RevStats::new_client_errors`] answered at least twice as
    /// often as by the service's other revisions: a public API's 55% of 401s grown to
    /// 66% is its background grown, not requests newly refused.
    pub fn doubled_client_errors(&self) -> BTreeSet<u16> {
        let new = self.new_client_errors();
        self.status_shares()
            .filter(|(s, share)| {
                new.contains(s) && *share >= 2.0 * self.client_floor.get(s).copied().unwrap_or(0.0)
            })
            .map(|(s, _)| s)
            .collect()
    }

    /// Shown to work: no finding matches beyond a stray one in 200 entries (a normal
    /// background; the bad revision must still fail 10 times as often),
    /// enough entries, healthy requests, and errors under half of what it logged (a
    /// revision that logs nothing but tracebacks is not working because no rule
    /// knows them).
    pub fn working(&self) -> bool {
        self.failures * 200 <= self.entries
            && self.entries >= MIN_GOOD_ENTRIES
            && self.requests_healthy()
            && self.errors * 2 < self.entries
    }

    /// Its working can be set against `bad`'s failures: when `bad` served requests,
    /// this revision served some too (entries of another kind, such as a batch run's
    /// stdout, say nothing about how requests fare).
    fn comparable_to(&self, bad: &RevStats) -> bool {
        bad.requests == 0 || self.requests >= bad.requests.min(MIN_GOOD_REQUESTS)
    }

    /// Requests served from `from` (seconds) up to, not including, `to`.
    fn served_between(&self, from: i64, to: i64) -> u64 {
        if from >= to {
            return 0;
        }
        self.served.range(from..to).map(|(_, n)| n).sum()
    }

    /// It served requests successfully for longer than the grace after traffic reached
    /// it (`since`: the deploy event closest before its first failure, else its first
    /// entry) and before its first failure: the failures began later than it did. A
    /// few smoke tests or health checks are not service.
    fn failed_only_later(&self, since: Timestamp) -> bool {
        let (Some(ok), Some(fail)) = (self.first_ok, self.first_failure) else {
            return false;
        };
        let (since, fail) = (since.secs(), fail.secs());
        ok.secs() < fail
            && fail - since > ONSET_GRACE_SECS
            && self.served_between(since, fail - fail.rem_euclid(60)) >= MIN_SERVED_BEFORE
    }
}

/// Sets each revision's [`RevStats::client_floor`]: per 4xx status, the lowest share
/// of it among the service's other revisions that served at least
/// `MIN_GOOD_REQUESTS` requests (0 for a status one of them never answered).
pub fn compare_client_errors(revs: &mut [RevStats]) {
    let shares: Vec<Option<BTreeMap<u16, f64>>> = revs
        .iter()
        .map(|r| (r.requests >= MIN_GOOD_REQUESTS).then(|| r.status_shares().collect()))
        .collect();
    for (i, r) in revs.iter_mut().enumerate() {
        let others: Vec<&BTreeMap<u16, f64>> = shares
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .filter_map(|(_, s)| s.as_ref())
            .collect();
        r.client_floor = if others.is_empty() {
            BTreeMap::new()
        } else {
            let statuses: BTreeSet<u16> = others.iter().flat_map(|m| m.keys().copied()).collect();
            statuses
                .into_iter()
                .chain(r.client_statuses.keys().copied())
                .map(|s| {
                    let low = others
                        .iter()
                        .map(|m| m.get(&s).copied().unwrap_or(0.0))
                        .fold(f64::INFINITY, f64::min);
                    (s, low)
                })
                .collect()
        };
    }
}

/// A regression: where a service went from working to broken.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Regression {
    /// Service.
    pub service: String,
    /// The last revision that served without the failures.
    pub last_good: String,
    /// The first revision with them.
    pub first_bad: String,
    /// When traffic moved (deploy event, else the first bad revision's first entry).
    pub switched_at: String,
    /// Where `switched_at` came from: "deploy event" or "first entry of the revision".
    pub switch_source: String,
    /// Rules that fired on the bad revision and not (or rarely) on the good one.
    pub rules: Vec<String>,
    /// Failures and entries on the last good revision.
    pub before: RateFigures,
    /// Failures and entries on the first bad revision.
    pub after: RateFigures,
    /// The revision that ended the failures, so no rollback is called for: the latest
    /// revision when it came after the first bad one and works, or the last good one
    /// when traffic went back to it (`rolled_back`).
    pub resolved_by: Option<RateFigures>,
    /// `resolved_by` is an earlier working revision (the last good one, or one before
    /// it), serving again after the failing ones went quiet.
    pub rolled_back: bool,
    /// The failures stopped on the first bad revision itself, which went on serving
    /// without them. Said, not taken as the resolution: the logs do not show why.
    pub recovered: Option<Recovery>,
    /// Region of the revisions compared, when the logs say.
    pub region: Option<String>,
    /// Project of the revisions compared, when the logs say.
    pub project: Option<String>,
    /// The service name runs in more than one region or project: these are the
    /// revisions of `region` and `project` only.
    pub split: bool,
    /// The revisions are Cloud Run service revisions, so traffic can go back to the
    /// last good one (not a job's executions, nor a GKE pod template's hashes).
    pub rollback: bool,
    /// Other places (services, or this service's other regions) whose failures of the
    /// same kind began within minutes of the first bad revision's while their revisions
    /// did not change: a shared dependency is then as likely as the deploy, so the
    /// deploy is not given as the cause (see [`shared_onsets`]).
    pub shared_onset: Vec<SharedOnset>,
}

/// Failures that began on another place at the same time as a regression's.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SharedOnset {
    /// Service.
    pub service: String,
    /// Its region, when the logs say.
    pub region: Option<String>,
    /// Its project, when the logs say.
    pub project: Option<String>,
    /// The rule that matched there.
    pub rule: String,
    /// Its matches there within 5 minutes either side of the regression's first failure.
    pub failures: u64,
    /// The first of them.
    pub first_failure: String,
}

/// One place's matches of one fired rule, as [`shared_onsets`] reads them.
#[derive(Debug, Clone)]
pub struct PlaceMatches<'a> {
    /// Service.
    pub service: &'a str,
    /// Region ("" when unknown).
    pub region: &'a str,
    /// Project ("" when unknown).
    pub project: &'a str,
    /// Rule id.
    pub rule: &'a str,
    /// The first entry of the revision they matched on.
    pub revision_since: Option<Timestamp>,
    /// Matches per bucket start (seconds).
    pub buckets: &'a BTreeMap<i64, u64>,
    /// The earliest match.
    pub first: Option<Timestamp>,
}

/// Places other than `reg`'s where a rule of `kinds` began matching within 5 minutes
/// either side of `reg`'s first failure, at least 3 times, after fewer than 3 in the
/// 15 minutes before, on revisions that were serving for more than 15 minutes before
/// that first failure and with no deploy event of theirs from then to the window's end.
/// A place whose failures began later than the window (a caller of the broken
/// service), that was failing already, or that was deployed too, is not one.
pub fn shared_onsets<'d>(
    reg: &Regression,
    kinds: &BTreeSet<&str>,
    seen: &[PlaceMatches<'_>],
    deploys: impl Iterator<Item = &'d Deploy> + Clone,
) -> Vec<SharedOnset> {
    let Some(onset) = reg
        .after
        .first_failure
        .as_deref()
        .and_then(Timestamp::parse)
    else {
        return Vec::new();
    };
    let o = onset.secs();
    let (from, to) = (o - SHARED_ONSET_SECS, o + SHARED_ONSET_SECS);
    let known = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
    fn opt(s: &str) -> Option<&str> {
        (!s.is_empty()).then_some(s)
    }
    let fits = |x: &str, y: &str| x.is_empty() || y.is_empty() || x == y;
    let mut by: BTreeMap<(&str, &str, &str, &str), Vec<&PlaceMatches<'_>>> = BTreeMap::new();
    for m in seen {
        // A place of this service that may be this one (either side's region or
        // project unknown) is not another.
        let here = m.service == reg.service && reg.is_at_place(opt(m.region), opt(m.project));
        if !m.service.is_empty() && !here && kinds.contains(m.rule) {
            by.entry((m.service, m.region, m.project, m.rule))
                .or_default()
                .push(m);
        }
    }
    let mut out = Vec::new();
    for ((service, region, project, rule), ms) in by {
        let sum = |a: i64, b: i64| -> u64 {
            ms.iter()
                .map(|m| m.buckets.range(a..b).map(|(_, n)| n).sum::<u64>())
                .sum()
        };
        let during = sum(from, to + 1);
        let before = sum(from - ONSET_GRACE_SECS, from);
        // Its own revision change just before: that is its own deploy's to answer for.
        let new_revision = ms.iter().any(|m| {
            m.buckets.range(from..to + 1).next().is_some()
                && m.revision_since
                    .is_none_or(|s| s.secs() >= o - ONSET_GRACE_SECS)
        });
        let deployed = deploys.clone().any(|d| {
            d.service == service
                && fits(&d.location, region)
                && fits(&d.project, project)
                && (o - ONSET_GRACE_SECS..=to).contains(&d.at.secs())
        });
        let first = ms
            .iter()
            .filter_map(|m| {
                m.first.filter(|f| f.secs() >= from).or_else(|| {
                    m.buckets
                        .range(from..to + 1)
                        .next()
                        .map(|(b, _)| Timestamp::from_secs(*b))
                })
            })
            .min();
        if let (Some(first), true) = (
            first,
            during >= MIN_SHARED && before < MIN_SHARED && !new_revision && !deployed,
        ) {
            out.push(SharedOnset {
                service: service.to_string(),
                region: known(region),
                project: known(project),
                rule: rule.to_string(),
                failures: during,
                first_failure: first.to_rfc3339(),
            });
        }
    }
    out.sort_by(|x, y| {
        x.first_failure
            .cmp(&y.first_failure)
            .then(x.service.cmp(&y.service))
    });
    out
}

/// Failures that stopped on the revision they started on.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Recovery {
    /// The last failure.
    pub last_failure: String,
    /// Requests it served after that minute, health checks aside.
    pub requests_since: u64,
}

impl Regression {
    /// `r` is of this regression's service and may be where it was found: the
    /// same region and project, or one of them unknown on either side.
    pub fn is_at(&self, r: &super::outcome::RevisionCount) -> bool {
        r.service == self.service && self.is_at_place(r.region.as_deref(), r.project.as_deref())
    }

    /// [`Regression::is_at`] for a region and project of this regression's service.
    pub fn is_at_place(&self, region: Option<&str>, project: Option<&str>) -> bool {
        let fits = |mine: &Option<String>, theirs: Option<&str>| {
            mine.is_none() || theirs.is_none() || mine.as_deref() == theirs
        };
        fits(&self.region, region) && fits(&self.project, project)
    }
}

/// Failures over entries on one revision, with its time span.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RateFigures {
    /// Revision.
    pub revision: String,
    /// Matches of fired findings.
    pub failures: u64,
    /// Entries.
    pub entries: u64,
    /// failures / entries.
    pub rate: f64,
    /// First entry.
    pub first_seen: Option<String>,
    /// First match of a fired finding.
    pub first_failure: Option<String>,
    /// Last entry.
    pub last_seen: Option<String>,
    /// Seconds between first and last entry.
    pub span_secs: i64,
}

impl RateFigures {
    fn of(r: &RevStats) -> RateFigures {
        RateFigures {
            revision: r.revision.clone(),
            failures: r.failures,
            entries: r.entries,
            rate: round4(r.rate()),
            first_seen: r.first_seen.map(Timestamp::to_rfc3339),
            first_failure: r.first_failure.map(Timestamp::to_rfc3339),
            last_seen: r.last_seen.map(Timestamp::to_rfc3339),
            span_secs: match (r.first_seen, r.last_seen) {
                (Some(a), Some(b)) => (b.0 - a.0) / 1_000_000_000,
                _ => 0,
            },
        }
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Cloud Run's generated revision names end in `-NNNNN-xxx`; the number orders
/// deploys. A custom `--revision-suffix` (`-20251006-1700`) is no such number.
pub fn revision_seq(name: &str) -> Option<u64> {
    let mut parts = name.rsplit('-');
    let suffix = parts.next()?;
    let num = parts.next()?;
    let generated = suffix.len() == 3
        && suffix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if generated && (5..=6).contains(&num.len()) && num.bytes().all(|b| b.is_ascii_digit()) {
        num.parse().ok()
    } else {
        None
    }
}

/// Orders revisions: by sequence number when all have one, else by first seen.
pub fn order(revs: &mut [RevStats]) {
    let all_seq = revs.iter().all(|r| revision_seq(&r.revision).is_some());
    revs.sort_by(|a, b| {
        let ka = (
            if all_seq {
                revision_seq(&a.revision)
            } else {
                None
            },
            a.first_seen,
            &a.revision,
        );
        let kb = (
            if all_seq {
                revision_seq(&b.revision)
            } else {
                None
            },
            b.first_seen,
            &b.revision,
        );
        ka.cmp(&kb)
    });
}

/// Finds the regression of one service, if its revisions show one.
pub fn find(service: &str, revs: &[RevStats], deploys: &[&Deploy]) -> Option<Regression> {
    let off_traffic = |r: &RevStats| off_traffic(r, revs);
    for k in 1..revs.len() {
        let bad = &revs[k];
        if bad.failures < MIN_FAILURES || bad.entries == 0 || off_traffic(bad) {
            continue;
        }
        let earlier: Vec<&RevStats> = revs[..k]
            .iter()
            .filter(|r| r.entries > 0 && !off_traffic(r))
            .collect();
        if earlier.iter().any(|r| r.rate() * JUMP > bad.rate()) {
            // Failing before as well: not a regression at this revision.
            return None;
        }
        let good = earlier.last()?;
        if !good.working() || !good.comparable_to(bad) {
            return None;
        }
        let bad_first = bad.first_seen?;
        // The last good revision's stray failures are background unless as many as
        // a regression needs came in the 15 minutes before the switch: then the
        // failures began before it.
        let before: u64 = good
            .failure_minutes
            .range(bad_first.secs() - ONSET_GRACE_SECS..)
            .map(|(_, n)| n)
            .sum();
        if before >= MIN_FAILURES {
            return None;
        }
        // Traffic may reach a revision long after it starts (`--no-traffic`, then
        // `update-traffic`): the grace counts from the last deploy event before the
        // first failure.
        let onset = bad.first_failure.unwrap_or(bad_first);
        let since = deploys
            .iter()
            .filter(|d| d.at >= bad_first && d.at <= onset)
            .map(|d| d.at)
            .max()
            .unwrap_or(bad_first);
        if bad.failed_only_later(since) {
            return None;
        }
        // The deploy closest before the bad revision's first entry (within its life).
        let deploy = deploys
            .iter()
            .filter(|d| d.at <= bad_first && good.first_seen.is_none_or(|g| d.at >= g))
            .max_by_key(|d| d.at);
        let (switched_at, source) = match deploy {
            Some(d) => (d.at, "deploy event"),
            None => (bad_first, "first entry of the revision"),
        };
        // The latest revision after it that works, with none failing since (one
        // deployed in the last minutes with a few start-up lines does not undo a fix).
        let later = revs[k + 1..]
            .iter()
            .rposition(|r| r.working() && r.comparable_to(bad))
            .map(|i| k + 1 + i)
            .filter(|&i| {
                revs[i + 1..]
                    .iter()
                    .all(|r| r.failures == 0 || off_traffic(r))
            })
            .map(|i| &revs[i]);
        let failing: Vec<&RevStats> = revs[k..].iter().filter(|r| r.failures > 0).collect();
        // Traffic back on the last good revision, or on an older working one.
        let back = if later.is_none() {
            earlier
                .iter()
                .rev()
                .filter(|r| r.working() && r.comparable_to(bad))
                .find(|r| moved_back(r, &failing))
                .copied()
        } else {
            None
        };
        let rolled_back = back.is_some();
        let recovered = if later.is_none() && back.is_none() {
            recovered_in_place(bad, revs, k)
        } else {
            None
        };
        // Failures that stopped in place are said, not taken as the end: the logs do
        // not show why (a cold start over, a fix outside the code, or the failing
        // calls no longer made), so the rollback stays on offer.
        let resolved_by = later.or(back).map(RateFigures::of);
        let rules = bad
            .by_rule
            .iter()
            .filter(|(id, n)| {
                let before = good.by_rule.get(*id).copied().unwrap_or(0);
                **n > 0
                    && (before as f64 / good.entries as f64) * JUMP
                        <= **n as f64 / bad.entries as f64
            })
            .map(|(id, _)| id.clone())
            .collect();
        return Some(Regression {
            service: service.to_string(),
            last_good: good.revision.clone(),
            first_bad: bad.revision.clone(),
            switched_at: switched_at.to_rfc3339(),
            switch_source: source.to_string(),
            rules,
            before: RateFigures::of(good),
            after: RateFigures::of(bad),
            resolved_by,
            rolled_back,
            recovered,
            region: None,
            project: None,
            split: false,
            rollback: false,
            shared_onset: Vec::new(),
        });
    }
    None
}

/// A revision that served no request while others served beside it, from its start
/// to its last entry, never had traffic (`--no-traffic`, or a deploy that failed to
/// start, which Cloud Run keeps off traffic): its failures reached no user and
/// replaced nothing. Old requests draining in its first minutes are not "beside it".
fn off_traffic(r: &RevStats, revs: &[RevStats]) -> bool {
    let (Some(first), Some(last)) = (r.first_seen, r.last_seen) else {
        return false;
    };
    let (from, to) = (first.secs() - first.secs().rem_euclid(60), last.secs() + 60);
    let tail = (to - ROLLED_BACK_SECS).max(from);
    // Another revision kept its pace: half its rate of the half hour before, at
    // least (a tag URL's trickle while the main traffic fails elsewhere is not it).
    let window = 30 * 60;
    let kept_pace = |o: &RevStats| {
        let during = o.served_between(from, to);
        let before = o.served_between(from - window, from);
        during >= MIN_SERVED_BESIDE
            && o.served_between(tail, to) > 0
            && during as i128 * window as i128 * 2 >= before as i128 * (to - from) as i128
    };
    r.requests == 0 && r.served.is_empty() && r.failures > 0 && revs.iter().any(kept_pace)
}

/// Gaps between a revision's requests: the pace at which its silence means something.
fn pace(served: u64, from: i64, to: i64) -> i64 {
    (to - from + 60) / i64::try_from(served.max(1)).unwrap_or(i64::MAX)
}

/// Traffic went back to `good`, judged by when each served requests (health checks
/// aside), not by log lines (a shutdown line, slow start-up logs):
/// - every failing revision went quiet for 5 minutes or 10 of its own gaps between
///   requests, whichever is longer (a quiet canary is not gone);
/// - `good` served 10 requests since;
/// - while they ran, it served at most a quarter as many as they did (beside them all
///   along is a traffic split, not a rollback: a quiet canary cannot be told from a
///   withdrawn one, and any deploy event after it, a `--no-traffic` preview or another
///   region's, says nothing of its traffic).
fn moved_back(good: &RevStats, failing: &[&RevStats]) -> bool {
    let from = failing.iter().filter_map(|r| r.served.keys().next()).min();
    let to = failing
        .iter()
        .filter_map(|r| r.served.keys().next_back())
        .max();
    let (Some(&from), Some(&to), Some(&good_last)) = (from, to, good.served.keys().next_back())
    else {
        return false;
    };
    let served_bad: u64 = failing
        .iter()
        .map(|r| r.served_between(from, to + 60))
        .sum();
    good_last - to >= ROLLED_BACK_SECS.max(10 * pace(served_bad, from, to))
        && good.served_between(to + 60, good_last + 60) >= MIN_ROLLED_BACK_REQUESTS
        && good.served_between(from, to + 60) * 4 <= served_bad
}

/// The failures on `bad` stopped while it went on serving: after the minute of its
/// last failure, 10 requests or more over 5 minutes or 10 of its gaps, whichever is
/// longer, and no later revision failing (a cold start's 503s, then hours of good
/// service, call for no rollback).
fn recovered_in_place(bad: &RevStats, revs: &[RevStats], k: usize) -> Option<Recovery> {
    let last = bad.last_failure?;
    if revs[k + 1..]
        .iter()
        .any(|r| r.failures > 0 && !off_traffic(r, revs))
    {
        return None;
    }
    let after = last.secs() - last.secs().rem_euclid(60) + 60;
    let (&first, &end) = (bad.served.keys().next()?, bad.served.keys().next_back()?);
    let since = bad.served_between(after, end + 60);
    let gap = pace(bad.served_between(first, end + 60), first, end);
    // Quiet for longer than its failures ever paused: bursts every 15 minutes are
    // not over 8 minutes after the last one.
    let quiet = RECOVERED_QUIET_SECS
        .max(10 * gap)
        .max(3 * bad.longest_failure_gap());
    (since >= MIN_ROLLED_BACK_REQUESTS && end + 60 - last.secs() >= quiet).then(|| Recovery {
        last_failure: last.to_rfc3339(),
        requests_since: since,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rev(name: &str, entries: u64, failures: u64, first: i64) -> RevStats {
        RevStats {
            revision: name.into(),
            entries,
            failures,
            first_seen: Some(Timestamp::from_secs(first)),
            last_seen: Some(Timestamp::from_secs(first + 600)),
            first_failure: (failures > 0).then(|| Timestamp::from_secs(first)),
            last_failure: (failures > 0).then(|| Timestamp::from_secs(first + 600)),
            failure_minutes: BTreeMap::new(),
            by_rule: [("R".to_string(), failures)].into_iter().collect(),
            requests: 0,
            failed_requests: 0,
            server_errors: 0,
            errors: failures,
            first_ok: None,
            served: BTreeMap::new(),
            client_statuses: BTreeMap::new(),
            client_floor: BTreeMap::new(),
        }
    }

    /// `n` requests a minute from `from` up to `to` (seconds).
    fn serving_minutes(mut r: RevStats, from: i64, to: i64, n: u64) -> RevStats {
        r.served.extend((from / 60..to / 60).map(|m| (m * 60, n)));
        r
    }

    #[test]
    fn failures_that_begin_long_after_the_revision_are_not_its_regression() {
        // The new revision served 40 minutes (20 requests a minute); then the database
        // went away.
        let good = serving(rev("s-00042-a", 400, 0, 0), 400, 0, 0);
        let mut bad = serving(rev("s-00043-b", 800, 400, 1800), 800, 200, 200);
        bad.first_ok = Some(Timestamp::from_secs(1804));
        bad.first_failure = Some(Timestamp::from_secs(1800 + 40 * 60));
        let bad = serving_minutes(bad, 1800, 1800 + 60 * 60, 20);
        assert!(find("s", &[good.clone(), bad.clone()], &[]).is_none());
        // Failing from its first minutes: the deploy's regression.
        let mut early = bad.clone();
        early.first_failure = Some(Timestamp::from_secs(1800 + 60));
        let r = find("s", &[good.clone(), early], &[]).unwrap();
        assert_eq!(
            r.after.first_failure,
            Some(Timestamp::from_secs(1860).to_rfc3339())
        );
        // Late, but it never served a request successfully before: still the deploy's.
        let mut never = bad.clone();
        never.first_ok = None;
        assert!(find("s", &[good.clone(), never], &[]).is_some());
        // Only a few smoke tests before the failures: still the deploy's.
        let mut smoke = bad.clone();
        smoke.served = [(1800, 3)].into_iter().collect();
        assert!(find("s", &[good.clone(), smoke], &[]).is_some());
        // Traffic moved to it (a deploy event) just before the failures: the grace
        // counts from there, so the regression stands.
        let switch = deploy_at(1800 + 39 * 60);
        let r = find("s", &[good, bad], &[&switch]).unwrap();
        assert_eq!(r.switched_at, Timestamp::from_secs(1800).to_rfc3339());
    }

    #[test]
    fn traffic_back_on_the_good_revision_resolves_the_regression() {
        // The good one served until 1000, the bad one 1000-1600, then the good one
        // again until 4000.
        let mut good = serving_minutes(rev("s-00042-a", 400, 0, 0), 0, 1000, 5);
        good = serving_minutes(good, 1620, 4000, 5);
        good.last_seen = Some(Timestamp::from_secs(4000));
        let bad = serving_minutes(rev("s-00043-b", 200, 100, 1000), 1020, 1600, 5);
        let r = find("s", &[good.clone(), bad.clone()], &[]).unwrap();
        assert!(r.rolled_back);
        assert_eq!(r.resolved_by.unwrap().revision, "s-00042-a");
        // Beside it all along (a traffic split): not a rollback.
        let split = serving_minutes(good.clone(), 1000, 1600, 5);
        let r = find("s", &[split, bad.clone()], &[]).unwrap();
        assert!(!r.rolled_back && r.resolved_by.is_none());
        // A last log line of the good one, with no request after: not a rollback.
        let mut quiet = serving_minutes(rev("s-00042-a", 400, 0, 0), 0, 1000, 5);
        quiet.last_seen = Some(Timestamp::from_secs(4000));
        let r = find("s", &[quiet, bad.clone()], &[]).unwrap();
        assert!(!r.rolled_back);
        // Back for only two minutes before the logs end: not yet.
        let brief = serving_minutes(
            serving_minutes(rev("s-00042-a", 400, 0, 0), 0, 1000, 5),
            1620,
            1740,
            5,
        );
        let r = find("s", &[brief, bad.clone()], &[]).unwrap();
        assert!(!r.rolled_back && r.resolved_by.is_none());
        // A trickle beside the bad one (a tenth of its traffic) still reads as a rollback.
        let trickle = serving_minutes(good.clone(), 1020, 1200, 1);
        assert!(find("s", &[trickle, bad.clone()], &[]).unwrap().rolled_back);
        // A quiet canary (one request every 5 minutes) is not gone after 6 minutes.
        let canary = serving_minutes(rev("s-00043-b", 20, 10, 1000), 1020, 1020 + 3600, 0);
        let mut canary = canary;
        canary.served = (0..12).map(|k| (1020 + k * 300, 1)).collect();
        let mut live = serving_minutes(rev("s-00042-a", 400, 0, 0), 0, 1000, 5);
        live = serving_minutes(live, 1000, 1020 + 3300 + 360, 5);
        assert!(!find("s", &[live, canary], &[]).unwrap().rolled_back);
        good.last_seen = Some(Timestamp::from_secs(1700));
    }

    #[test]
    fn traffic_back_on_an_older_working_revision_or_off_a_withdrawn_canary_resolves() {
        // 40 served, then 41, then 42 failed, then traffic went to 40, not 41.
        let mut older = serving_minutes(rev("s-00040-a", 400, 0, 0), 0, 600, 5);
        older = serving_minutes(older, 1620, 4000, 5);
        let last_good = serving_minutes(rev("s-00041-b", 400, 0, 600), 600, 1000, 5);
        let bad = serving_minutes(rev("s-00042-c", 200, 100, 1000), 1020, 1600, 5);
        let r = find("s", &[older.clone(), last_good.clone(), bad.clone()], &[]).unwrap();
        assert_eq!(r.last_good, "s-00041-b");
        assert!(r.rolled_back);
        assert_eq!(r.resolved_by.unwrap().revision, "s-00040-a");
        // A 5% canary beside the good one all along, then quiet: a split, withdrawn or
        // not, even with a deploy event after it (a `--no-traffic` preview says
        // nothing of the canary's traffic).
        let good = serving_minutes(rev("s-00041-b", 4000, 0, 0), 0, 4000, 20);
        let canary = serving_minutes(rev("s-00042-c", 40, 30, 1000), 1020, 1800, 1);
        assert!(
            !find("s", &[good.clone(), canary.clone()], &[])
                .unwrap()
                .rolled_back
        );
        let later = deploy_at(1830);
        assert!(!find("s", &[good, canary], &[&later]).unwrap().rolled_back);
    }

    /// `n` matches of `rule` a minute on `service` in `region`, from `from` up to `to`.
    fn minutes(n: u64, from: i64, to: i64) -> BTreeMap<i64, u64> {
        (from / 60..to / 60).map(|m| (m * 60, n)).collect()
    }

    fn at<'a>(
        service: &'a str,
        region: &'a str,
        rule: &'a str,
        since: i64,
        buckets: &'a BTreeMap<i64, u64>,
    ) -> PlaceMatches<'a> {
        PlaceMatches {
            service,
            region,
            project: "p",
            rule,
            revision_since: Some(Timestamp::from_secs(since)),
            buckets,
            first: buckets.keys().next().map(|k| Timestamp::from_secs(*k)),
        }
    }

    #[test]
    fn failures_beginning_elsewhere_at_the_same_time_without_a_deploy_are_a_shared_onset() {
        // s's new revision fails from 3600; b has served since 0.
        let good = serving_minutes(rev("s-00001-a", 400, 0, 0), 0, 3600, 5);
        let bad = serving_minutes(rev("s-00002-b", 400, 100, 3600), 3600, 5400, 5);
        let mut reg = find("s", &[good, bad], &[]).unwrap();
        reg.region = Some("r1".into());
        let kinds: BTreeSet<&str> = ["DB"].into_iter().collect();
        let shared = |seen: &[PlaceMatches<'_>], deploys: &[Deploy]| {
            shared_onsets(&reg, &kinds, seen, deploys.iter())
        };
        // b from 2 minutes after s's first failure: shared.
        let two_after = minutes(4, 3720, 5400);
        let r = shared(&[at("b", "r1", "DB", 0, &two_after)], &[]);
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].service.as_str(), r[0].rule.as_str(), r[0].failures),
            // The minutes from 02:00 through 05:00 after s's first failure.
            ("b", "DB", 4 * 4)
        );
        assert_eq!(r[0].first_failure, Timestamp::from_secs(3720).to_rfc3339());
        // From 4 minutes before it (the dependency failed b first): shared too.
        let before = minutes(4, 3360, 5400);
        assert_eq!(shared(&[at("b", "r1", "DB", 0, &before)], &[]).len(), 1);
        // 6 minutes after it (a caller of the broken service, failing later) or more
        // than 5 minutes before: not the same onset.
        let later = minutes(4, 3960, 5400);
        assert!(shared(&[at("b", "r1", "DB", 0, &later)], &[]).is_empty());
        let earlier = minutes(4, 3240, 3300);
        assert!(shared(&[at("b", "r1", "DB", 0, &earlier)], &[]).is_empty());
        // Failing already in the 15 minutes before: not an onset.
        let under_way = minutes(1, 2400, 5400);
        assert!(shared(&[at("b", "r1", "DB", 0, &under_way)], &[]).is_empty());
        // Two stray matches before it are background.
        let mut stray = two_after.clone();
        stray.extend([(2700, 1), (3000, 1)]);
        assert_eq!(shared(&[at("b", "r1", "DB", 0, &stray)], &[]).len(), 1);
        // Fewer than 3 matches in the window: not enough.
        let few = minutes(2, 3720, 3780);
        assert!(shared(&[at("b", "r1", "DB", 0, &few)], &[]).is_empty());
        // b deployed too (an audit entry, or a revision first seen 10 minutes before):
        // its own deploy may explain it.
        let mut d = deploy_at(3500);
        d.service = "b".into();
        assert!(shared(&[at("b", "r1", "DB", 0, &two_after)], &[d.clone()]).is_empty());
        d.location = "r2".into();
        assert_eq!(shared(&[at("b", "r1", "DB", 0, &two_after)], &[d]).len(), 1);
        assert!(shared(&[at("b", "r1", "DB", 3000, &two_after)], &[]).is_empty());
        // Another kind of failure (a symptom such as 5xx, which a caller shows too).
        assert!(shared(&[at("b", "r1", "5XX", 0, &two_after)], &[]).is_empty());
        // s itself, or s where the region is unknown, is not another place; s in
        // another region is.
        assert!(shared(&[at("s", "r1", "DB", 0, &two_after)], &[]).is_empty());
        assert!(shared(&[at("s", "", "DB", 0, &two_after)], &[]).is_empty());
        let r = shared(&[at("s", "r2", "DB", 0, &two_after)], &[]);
        assert_eq!(r[0].region.as_deref(), Some("r2"));
        // Places of no service (a database's own logs) are not named.
        assert!(shared(&[at("", "r1", "DB", 0, &two_after)], &[]).is_empty());
    }

    /// A Cloud Run deploy event of service `s` at `secs`.
    fn deploy_at(secs: i64) -> Deploy {
        Deploy {
            at: Timestamp::from_secs(secs),
            service: "s".into(),
            revision: String::new(),
            method: "google.cloud.run.v1.Services.ReplaceService".into(),
            principal: String::new(),
            location: String::new(),
            project: String::new(),
        }
    }

    #[test]
    fn failures_that_stopped_on_a_revision_still_serving_are_said_not_taken_as_the_end() {
        let good = serving_minutes(rev("s-00041-a", 400, 0, 0), 0, 1000, 5);
        // 90 seconds of cold-start 503s, then two hours of good service.
        let mut bad = serving_minutes(rev("s-00042-b", 2400, 30, 1000), 1020, 1020 + 7200, 20);
        bad.last_failure = Some(Timestamp::from_secs(1110));
        let r = find("s", &[good.clone(), bad.clone()], &[]).unwrap();
        let rec = r.recovered.unwrap();
        assert_eq!(rec.last_failure, Timestamp::from_secs(1110).to_rfc3339());
        assert_eq!(rec.requests_since, 20 * (120 - 2));
        // The logs do not show why they stopped: the rollback stays on offer.
        assert!(r.resolved_by.is_none() && !r.rolled_back);
        // Still failing in its last 15 minutes: not stopped.
        let mut still = bad.clone();
        still.last_failure = Some(Timestamp::from_secs(1020 + 7200 - 600));
        assert!(find("s", &[good.clone(), still], &[])
            .unwrap()
            .recovered
            .is_none());
        // Bursts every 16 minutes: 40 minutes of quiet is not yet three of its pauses.
        let mut bursts = bad.clone();
        bursts.failure_minutes = [(1020, 10), (1020 + 15 * 60, 10)].into_iter().collect();
        bursts.last_failure = Some(Timestamp::from_secs(1020 + 7200 - 40 * 60));
        assert!(find("s", &[good.clone(), bursts.clone()], &[])
            .unwrap()
            .recovered
            .is_none());
        bursts.last_failure = Some(Timestamp::from_secs(1020 + 7200 - 43 * 60));
        assert!(find("s", &[good.clone(), bursts], &[])
            .unwrap()
            .recovered
            .is_some());
        // A later revision failing too: not stopped; one that never had traffic
        // (a crash-looping `--no-traffic` candidate) changes nothing.
        let mut later = rev("s-00043-c", 100, 20, 9000);
        later.served = [(9000, 5)].into_iter().collect();
        let r = find("s", &[good.clone(), bad.clone(), later], &[]).unwrap();
        assert!(r.recovered.is_none() && r.resolved_by.is_none());
        let candidate = rev("s-00043-c", 30, 12, 5000);
        let r = find("s", &[good.clone(), bad.clone(), candidate], &[]).unwrap();
        assert!(r.recovered.is_some());
        // No request since its last failure (traffic moved away): not stopped.
        let mut gone = bad;
        gone.last_failure = gone
            .served
            .keys()
            .next_back()
            .map(|k| Timestamp::from_secs(*k));
        assert!(find("s", &[good, gone], &[]).unwrap().recovered.is_none());
    }

    #[test]
    fn a_fix_is_not_undone_by_a_later_revision_that_never_had_traffic() {
        let revs = vec![
            serving_minutes(rev("s-00010-a", 600, 0, 0), 0, 1000, 5),
            serving_minutes(rev("s-00011-b", 600, 300, 1000), 1000, 2000, 5),
            serving_minutes(rev("s-00012-c", 600, 0, 2000), 2000, 9000, 5),
            rev("s-00013-d", 30, 12, 5000),
        ];
        let r = find("s", &revs, &[]).unwrap();
        assert_eq!(r.resolved_by.unwrap().revision, "s-00012-c");
    }

    #[test]
    fn a_revision_that_never_had_traffic_replaced_nothing() {
        // The new revision crash-loops at start-up and serves nothing, while the old
        // one serves throughout.
        let good = serving_minutes(rev("s-00041-a", 2400, 0, 0), 0, 4000, 10);
        let good = serving(good, 600, 0, 0);
        let candidate = rev("s-00042-b", 30, 12, 1000);
        assert!(find("s", &[good.clone(), candidate.clone()], &[]).is_none());
        // The old one down to a trickle (a tag URL) while it ran: traffic moved to it.
        let mut trickle = serving_minutes(rev("s-00041-a", 2400, 0, 0), 0, 960, 10);
        trickle = serving(serving_minutes(trickle, 960, 4000, 1), 600, 0, 0);
        assert!(find("s", &[trickle, candidate.clone()], &[]).is_some());
        // Old requests draining in its first minutes, then none: traffic moved to it.
        let drained = serving(
            serving_minutes(rev("s-00041-a", 400, 0, 0), 0, 1120, 10),
            170,
            0,
            0,
        );
        assert!(find("s", &[drained, candidate.clone()], &[]).is_some());
        // The old one stopped before the new one began: traffic moved to it.
        let stopped = serving(
            serving_minutes(rev("s-00041-a", 400, 0, 0), 0, 900, 10),
            150,
            0,
            0,
        );
        assert!(find("s", &[stopped, candidate.clone()], &[]).is_some());
        // A later revision's regression is still found past the candidate.
        let mut bad = serving(rev("s-00043-c", 300, 150, 5000), 300, 150, 150);
        bad.served = [(5000, 300)].into_iter().collect();
        let r = find("s", &[good, candidate, bad], &[]).unwrap();
        assert_eq!(
            (r.last_good.as_str(), r.first_bad.as_str()),
            ("s-00041-a", "s-00043-c")
        );
    }

    fn with_4xx(mut r: RevStats, statuses: &[(u16, u64)]) -> RevStats {
        r.client_statuses = statuses.iter().copied().collect();
        r
    }

    #[test]
    fn background_client_errors_and_stray_failures_do_not_unmake_a_good_revision() {
        // A public API: 55% of requests are scanners' 404s and expired tokens' 401s.
        let old = with_4xx(
            serving(rev("s-00041-a", 1800, 0, 0), 1800, 990, 0),
            &[(401, 300), (404, 690)],
        );
        let new = with_4xx(
            serving(rev("s-00042-b", 1800, 800, 1000), 1800, 1800, 810),
            &[(401, 300), (404, 690)],
        );
        let mut revs = vec![old.clone(), new];
        compare_client_errors(&mut revs);
        assert!(revs[0].working());
        assert!(find("s", &revs, &[]).is_some());
        // Alone, or beside a revision with few 4xx, that many 4xx is not shown to work.
        assert!(!old.working());
        let quiet = with_4xx(
            serving(rev("s-00040-z", 900, 0, 0), 900, 45, 0),
            &[(404, 45)],
        );
        let mut pair = vec![old.clone(), quiet];
        compare_client_errors(&mut pair);
        assert!(!pair[0].working() && pair[1].working());
        // A 401 on 61% of requests where the others answered 45% 404s to scanners: a
        // status they never gave is no background.
        let auth = with_4xx(
            serving(rev("s-00042-b", 2400, 0, 0), 2400, 1465, 0),
            &[(401, 1465)],
        );
        let scanned = with_4xx(
            serving(rev("s-00041-a", 2400, 0, 0), 2400, 1080, 0),
            &[(404, 1080)],
        );
        let mut pair = vec![scanned, auth];
        compare_client_errors(&mut pair);
        assert!(pair[0].working() && !pair[1].working());
        // Nearly all 4xx is not working, whatever the others get.
        let mut all = vec![
            with_4xx(serving(rev("s-1", 100, 0, 0), 100, 95, 0), &[(404, 95)]),
            with_4xx(serving(rev("s-2", 100, 0, 0), 100, 95, 0), &[(404, 95)]),
        ];
        compare_client_errors(&mut all);
        assert!(!all[0].working());
        // Two stray 500s in 3,600 entries before a deploy that fails half: still the
        // last good revision.
        let mut good = serving(rev("s-00041-a", 3600, 2, 0), 3600, 2, 2);
        good.failure_minutes = [(1380, 1), (6960, 1)].into_iter().collect();
        let bad = serving(rev("s-00042-b", 1800, 887, 7200), 1800, 887, 887);
        let r = find("s", &[good.clone(), bad.clone()], &[]).unwrap();
        assert_eq!(r.last_good, "s-00041-a");
        // One in 200 is background; more is not.
        assert!(serving(rev("s-00041-a", 3600, 18, 0), 3600, 18, 18).working());
        assert!(!serving(rev("s-00041-a", 3600, 19, 0), 3600, 19, 19).working());
        // Five failures in the last minutes before the switch: the failures began
        // before it, so the deploy is not their regression.
        good.failure_minutes = [(6900, 2), (6960, 3)].into_iter().collect();
        assert!(find("s", &[good, bad], &[]).is_none());
    }

    fn serving(mut r: RevStats, requests: u64, failed: u64, server_errors: u64) -> RevStats {
        (r.requests, r.failed_requests, r.server_errors) = (requests, failed, server_errors);
        r
    }

    #[test]
    fn a_later_working_revision_resolves_the_regression() {
        let revs = vec![
            rev("s-00010-a", 60, 0, 0),
            rev("s-00011-b", 60, 30, 1000),
            rev("s-00012-c", 60, 0, 2000),
        ];
        let r = find("s", &revs, &[]).unwrap();
        assert_eq!(
            (r.last_good.as_str(), r.first_bad.as_str()),
            ("s-00010-a", "s-00011-b")
        );
        assert_eq!(r.resolved_by.unwrap().revision, "s-00012-c");
        // Still failing on the latest revision: not resolved.
        let failing = [
            revs[0].clone(),
            revs[1].clone(),
            rev("s-00012-c", 60, 9, 2000),
        ];
        let r = find("s", &failing, &[]);
        assert!(r.is_none_or(|r| r.resolved_by.is_none()));
        // The bad revision is the latest.
        assert!(find("s", &revs[..2], &[]).unwrap().resolved_by.is_none());
        // A revision deployed since the fix, with a few start-up lines, undoes nothing.
        let mut since = revs.clone();
        since.push(rev("s-00013-d", 5, 0, 2900));
        assert_eq!(
            find("s", &since, &[])
                .unwrap()
                .resolved_by
                .unwrap()
                .revision,
            "s-00012-c"
        );
        // One failing since the fix does.
        since[3] = rev("s-00013-d", 60, 30, 2900);
        assert!(find("s", &since, &[]).is_none_or(|r| r.resolved_by.is_none()));
    }

    #[test]
    fn a_good_revision_must_have_served_requests_like_the_bad_one() {
        // The "good" revision logged only stdout lines; the bad one failed requests.
        let good = rev("s-00045-a", 500, 0, 0);
        let bad = serving(rev("s-00056-b", 12, 12, 9000), 12, 12, 12);
        assert!(find("s", &[good.clone(), bad.clone()], &[]).is_none());
        // One health check is not enough to compare with 12 failed requests.
        let one = serving(good.clone(), 1, 0, 0);
        assert!(find("s", &[one, bad.clone()], &[]).is_none());
        let good = serving(good, 400, 10, 0);
        assert!(find("s", &[good, bad], &[]).is_some());
    }

    #[test]
    fn failing_requests_are_not_working() {
        let all_500 = serving(rev("s-00056-b", 12, 0, 0), 12, 12, 12);
        assert!(!all_500.working());
        // Some 404s of a healthy service still work; 5xx above one in twenty do not.
        assert!(serving(rev("s-1", 951, 0, 0), 951, 30, 0).working());
        assert!(!serving(rev("s-1", 951, 0, 0), 951, 60, 60).working());
        assert!(!rev("s-1", 9, 0, 0).working(), "too few entries to tell");
        let tracebacks = RevStats {
            errors: 50,
            ..rev("s-2", 50, 0, 0)
        };
        assert!(!tracebacks.working(), "every entry an error");
    }

    #[test]
    fn finds_the_jump() {
        let mut revs = vec![
            rev("svc-00639-g4g", 2000, 1204, 5000),
            rev("svc-00611-cr5", 3000, 0, 1000),
        ];
        order(&mut revs);
        let r = find("svc", &revs, &[]).unwrap();
        assert_eq!(r.last_good, "svc-00611-cr5");
        assert_eq!(r.first_bad, "svc-00639-g4g");
        assert_eq!(r.switch_source, "first entry of the revision");
        assert_eq!(r.rules, vec!["R".to_string()]);
        assert_eq!(r.after.failures, 1204);
    }

    #[test]
    fn no_regression_without_a_change() {
        let revs = vec![
            rev("svc-00001-aaa", 1000, 50, 0),
            rev("svc-00002-bbb", 1000, 60, 900),
        ];
        assert!(find("svc", &revs, &[]).is_none());
        assert!(find("svc", &revs[..1], &[]).is_none());
        let quiet = vec![
            rev("svc-00001-aaa", 1000, 0, 0),
            rev("svc-00002-bbb", 1000, 0, 900),
        ];
        assert!(find("svc", &quiet, &[]).is_none());
    }

    #[test]
    fn uses_the_deploy_time() {
        let revs = vec![rev("s-00001-a", 100, 0, 0), rev("s-00002-b", 100, 40, 1000)];
        let d = deploy_at(990);
        let r = find("s", &revs, &[&d]).unwrap();
        assert_eq!(r.switch_source, "deploy event");
        assert_eq!(r.switched_at, Timestamp::from_secs(990).to_rfc3339());
    }

    #[test]
    fn sequence_numbers() {
        assert_eq!(revision_seq("netra-backend-staging-00611-cr5"), Some(611));
        assert_eq!(revision_seq("v2"), None);
        assert_eq!(revision_seq("7d9c"), None);
        assert_eq!(revision_seq("api-123456-x9z"), Some(123_456));
        // Custom suffixes (`--revision-suffix=$(date +%Y%m%d-%H%M)`) order by time.
        assert_eq!(revision_seq("checkout-20251006-1700"), None);
        assert_eq!(revision_seq("checkout-v2-001"), None);
    }
}
