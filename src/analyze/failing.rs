//! "Most requests fail": a revision, or a service's revisions in one place, most of
//! whose requests failed is an incident whatever the rules say (a scheduler's call
//! every 5 minutes never makes a burst). Failed means 5xx, or 401/403 where the
//! service's other revisions there did not answer them at that rate (a deploy that
//! lost an auth setting); never 404s or 429s, which are the callers', not the
//! service's. The report only words what is decided here.

use super::outcome::Impact;
use super::regress::{Regression, RevStats};
use super::sink::{min_opt, RequestAgg};
use crate::entry::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// 5xx requests (health checks aside), over half of a revision's, that make it fail.
pub const MOSTLY_FAILING: u64 = 10;

/// 5xx requests of one revision that the status line mentions when no rule fired.
const MIN_FAILING_REQUESTS: u64 = 5;

/// 401s and 403s (health checks aside), over half of a revision's requests and new
/// with it, that make it fail. Twice [`MOSTLY_FAILING`]: a refusal is a caller's
/// answer as often as the service's fault (one client retrying with a stale token a
/// dozen times is no outage), and it is as many requests as a revision must serve
/// before its failures are said to begin later than it did.
pub const MIN_REJECTED: u64 = 20;

/// What the failed requests were answered with.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum FailedWith {
    /// A 5xx status.
    ServerError,
    /// 401 or 403, which the service's other revisions did not answer at that rate.
    Rejected,
}

/// How health checks were counted.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HealthChecks {
    /// There were none.
    None,
    /// Left out: they succeed on a broken revision too.
    Aside,
    /// Counted: most of them fail as well, so they are no sign of health.
    Included,
}

/// Requests of a revision, or of a service's revisions in one place, most of which
/// failed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MostlyFailing {
    /// Service ("" for requests without one).
    pub service: String,
    /// The revision; "" when several are counted together.
    pub revision: String,
    /// Revisions counted (several: a service's quick redeploys in one place).
    pub revisions: usize,
    /// Region, when the logs give it.
    pub region: Option<String>,
    /// Project, when the logs give it.
    pub project: Option<String>,
    /// 5xx, or 401/403 new with the revision.
    pub failed_with: FailedWith,
    /// The statuses counted as failures.
    pub statuses: Vec<u16>,
    /// Failed requests.
    pub failed: u64,
    /// Requests counted.
    pub requests: u64,
    /// Whether health checks are among `requests`.
    pub health_checks: HealthChecks,
    /// The status is at least high: enough failures, over half, and not over.
    pub high: bool,
    /// Over: a request succeeded 5 minutes or more after the last failure, on the
    /// revision or a newer one of the service, or a fix or rollback resolved its
    /// regression.
    pub recovered: bool,
    /// The last failure (health checks aside).
    pub last_failure: Option<String>,
}

impl MostlyFailing {
    /// What the requests failed with, as said: "5xx", or "401 or 403".
    pub fn status_words(&self) -> String {
        match self.failed_with {
            FailedWith::ServerError => "5xx".to_string(),
            FailedWith::Rejected => self
                .statuses
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }
}

/// A revision's refusals that make it fail (see [`rejections`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejections {
    /// Requests refused with `statuses`, health checks aside.
    pub count: u64,
    /// The statuses new with the revision.
    pub statuses: BTreeSet<u16>,
    /// The first of them.
    pub first: Option<Timestamp>,
    /// The last of them.
    pub last: Option<Timestamp>,
}

/// The revision's 401s and 403s (health checks aside) of the statuses new with it
/// ([`RevStats::doubled_client_errors`]), when they are at least [`MIN_REJECTED`] and
/// over half of its requests. None where no other revision of the service served
/// enough requests to compare: then nothing shows they are new (a public API
/// refuses unauthenticated callers all the time).
pub fn rejections(r: &RevStats, q: &RequestAgg) -> Option<Rejections> {
    let new = r.doubled_client_errors();
    let mut found = Rejections {
        count: 0,
        statuses: BTreeSet::new(),
        first: None,
        last: None,
    };
    for (s, v) in q
        .rejected
        .iter()
        .filter(|(s, v)| v.count > 0 && new.contains(s))
    {
        found.count += v.count;
        found.statuses.insert(*s);
        found.first = min_opt(found.first, v.first);
        found.last = found.last.max(v.last);
    }
    let served = q.requests.saturating_sub(q.probes);
    (found.count >= MIN_REJECTED && found.count * 2 > served).then_some(found)
}

/// Most of `served` requests failing with `n` 5xx: failure enough for a revision,
/// rule or not.
pub fn mostly_server_errors(n: u64, served: u64) -> bool {
    n >= MOSTLY_FAILING && n * 2 > served
}

/// Region and project of a revision, `None` where the logs do not say.
type Place = (Option<String>, Option<String>);

/// Request outcomes of a revision, or of a service's revisions together.
#[derive(Debug, Clone)]
pub struct Tally {
    service: String,
    /// The revision ("" for several).
    revision: String,
    /// Its region and project (one service's revisions are summed per place).
    at: Place,
    revisions: usize,
    failed_with: FailedWith,
    statuses: BTreeSet<u16>,
    requests: u64,
    /// Failures, health checks' among them.
    failed: u64,
    probes: u64,
    probe_failed: u64,
    last_failure: Option<Timestamp>,
    recovered: bool,
    /// Health checks count: they fail as well (so they are no sign of health).
    with_probes: bool,
}

impl Tally {
    /// A revision's 5xx.
    pub fn server_errors(i: &Impact) -> Tally {
        let statuses = i.statuses.iter().filter(|(s, _)| *s >= 500);
        let mut t = Tally {
            failed: statuses.clone().map(|(_, n)| n).sum(),
            statuses: statuses.map(|(s, _)| *s).collect(),
            failed_with: FailedWith::ServerError,
            probe_failed: i.probe_server_errors,
            last_failure: i.last_server_error,
            recovered: i.recovered,
            ..Tally::base(i)
        };
        t.with_probes = t.probes_count();
        t
    }

    /// A revision's 401s and 403s that are new with it (see [`rejections`]);
    /// `recovered` when a good request followed the last.
    pub fn rejected(i: &Impact, found: Rejections, recovered: bool) -> Tally {
        Tally {
            failed: found.count,
            statuses: found.statuses,
            failed_with: FailedWith::Rejected,
            last_failure: found.last,
            recovered,
            ..Tally::base(i)
        }
    }

    fn base(i: &Impact) -> Tally {
        Tally {
            service: i.service.clone(),
            revision: i.revision.clone(),
            at: (i.region.clone(), i.project.clone()),
            revisions: 1,
            failed_with: FailedWith::ServerError,
            statuses: BTreeSet::new(),
            requests: i.requests,
            failed: 0,
            probes: i.probes,
            probe_failed: 0,
            last_failure: None,
            recovered: false,
            with_probes: false,
        }
    }

    fn merge(ts: &[&Tally]) -> Tally {
        // Recovered when a good request followed the service's latest failure.
        let latest = ts.iter().max_by_key(|t| t.last_failure);
        let mut t = Tally {
            service: ts.first().map_or(String::new(), |t| t.service.clone()),
            revision: String::new(),
            at: ts.first().map_or((None, None), |t| t.at.clone()),
            revisions: ts.len(),
            failed_with: FailedWith::ServerError,
            statuses: ts.iter().flat_map(|t| t.statuses.iter().copied()).collect(),
            requests: ts.iter().map(|t| t.requests).sum(),
            failed: ts.iter().map(|t| t.failed).sum(),
            probes: ts.iter().map(|t| t.probes).sum(),
            probe_failed: ts.iter().map(|t| t.probe_failed).sum(),
            last_failure: latest.and_then(|t| t.last_failure),
            recovered: latest.is_some_and(|t| t.recovered),
            with_probes: false,
        };
        t.with_probes = t.probes_count();
        t
    }

    /// Health checks count when most of them fail and the other requests, if any,
    /// mostly fail too: beside real requests that succeed they are no outage.
    fn probes_count(&self) -> bool {
        let other = self.requests.saturating_sub(self.probes);
        let other_failed = self.failed.saturating_sub(self.probe_failed);
        self.probes > 0
            && self.probe_failed * 2 > self.probes
            && (other == 0 || other_failed * 2 > other)
    }

    /// Requests counted: health checks aside, unless they fail too.
    fn served(&self) -> u64 {
        if self.with_probes {
            self.requests
        } else {
            self.requests.saturating_sub(self.probes)
        }
    }

    /// `n` failures make the status high: enough of them, over half of what it
    /// served, and no good request since.
    fn high(&self, n: u64) -> bool {
        let least = match self.failed_with {
            FailedWith::ServerError => MOSTLY_FAILING,
            FailedWith::Rejected => MIN_REJECTED,
        };
        n >= least && n * 2 > self.served() && !self.recovered
    }

    /// Its failures, when worth a word: for 5xx at least [`MIN_FAILING_REQUESTS`] and
    /// half of what it served; refusals only when they already make it fail.
    fn failing(&self) -> Option<u64> {
        let n = if self.with_probes {
            self.failed
        } else {
            self.failed.saturating_sub(self.probe_failed)
        };
        match self.failed_with {
            FailedWith::ServerError => n >= MIN_FAILING_REQUESTS && n * 2 >= self.served(),
            FailedWith::Rejected => n >= MIN_REJECTED && n * 2 > self.served(),
        }
        .then_some(n)
    }

    fn into_data(self, n: u64) -> MostlyFailing {
        MostlyFailing {
            high: self.high(n),
            requests: self.served(),
            health_checks: match (self.probes > 0, self.with_probes) {
                (false, _) => HealthChecks::None,
                (true, false) => HealthChecks::Aside,
                (true, true) => HealthChecks::Included,
            },
            service: self.service,
            revision: self.revision,
            revisions: self.revisions,
            region: self.at.0,
            project: self.at.1,
            failed_with: self.failed_with,
            statuses: self.statuses.into_iter().collect(),
            failed: n,
            recovered: self.recovered,
            last_failure: self.last_failure.map(Timestamp::to_rfc3339),
        }
    }
}

/// Every revision, and every service in one place with several revisions, most of
/// whose requests failed; first the one to name: a failure still going on before one
/// that is over, a revision's before its service's when both qualify as much, then
/// the most failures.
pub fn most_requests_fail(tallies: Vec<Tally>, regressions: &[Regression]) -> Vec<MostlyFailing> {
    let rows: Vec<Tally> = tallies
        .into_iter()
        .map(|mut t| {
            // A regression it starts that a fix or a rollback resolved is over too.
            t.recovered |= regressions.iter().any(|r| {
                r.service == t.service
                    && r.first_bad == t.revision
                    && r.is_at_place(t.at.0.as_deref(), t.at.1.as_deref())
                    && r.resolved_by.is_some()
            });
            t
        })
        .collect();
    // 5xx also per service (in one region and project): failures spread over quick
    // redeploys are one outage; another region's are another's. Refusals are judged
    // against the service's other revisions, so never summed with them.
    let mut per_service: BTreeMap<(&str, &Place), Vec<&Tally>> = BTreeMap::new();
    for t in rows
        .iter()
        .filter(|t| t.failed_with == FailedWith::ServerError)
    {
        per_service
            .entry((t.service.as_str(), &t.at))
            .or_default()
            .push(t);
    }
    let merged: Vec<Tally> = per_service
        .values()
        .filter(|ts| ts.len() > 1)
        .map(|ts| Tally::merge(ts))
        .collect();
    let mut found: Vec<(Tally, u64)> = rows
        .iter()
        .chain(merged.iter())
        .filter_map(|t| t.failing().map(|n| (t.clone(), n)))
        .collect();
    let key = |(t, n): &(Tally, u64)| {
        (
            t.high(*n),
            !t.recovered,
            t.revisions == 1,
            *n,
            !t.service.is_empty(),
        )
    };
    // Of equals, the later one first (as `max_by_key` picks).
    found.reverse();
    found.sort_by_key(|x| std::cmp::Reverse(key(x)));
    found.into_iter().map(|(t, n)| t.into_data(n)).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::sink::Refusals;
    use super::*;

    fn impact(revision: &str, statuses: &[(u16, u64)]) -> Impact {
        let requests = statuses.iter().map(|(_, n)| n).sum();
        Impact {
            service: "api".into(),
            revision: revision.into(),
            region: Some("europe-west1".into()),
            project: Some("shop-prod".into()),
            requests,
            failed: statuses
                .iter()
                .filter(|(s, _)| *s >= 400)
                .map(|(_, n)| n)
                .sum(),
            failure_share: 0.0,
            statuses: statuses.to_vec(),
            top_failing: Vec::new(),
            latency: None,
            probes: 0,
            probe_server_errors: 0,
            last_server_error: Some(Timestamp::from_secs(600)),
            recovered: false,
        }
    }

    fn stats(revision: &str, statuses: &[(u16, u64)]) -> RevStats {
        let requests = statuses.iter().map(|(_, n)| n).sum();
        RevStats {
            revision: revision.into(),
            entries: requests,
            failures: 0,
            first_seen: None,
            last_seen: None,
            first_failure: None,
            last_failure: None,
            failure_minutes: BTreeMap::new(),
            by_rule: BTreeMap::new(),
            requests,
            failed_requests: statuses
                .iter()
                .filter(|(s, _)| *s >= 400)
                .map(|(_, n)| n)
                .sum(),
            server_errors: 0,
            errors: 0,
            first_ok: None,
            served: BTreeMap::new(),
            client_statuses: statuses
                .iter()
                .filter(|(s, _)| (400..500).contains(s))
                .copied()
                .collect(),
            client_floor: BTreeMap::new(),
        }
    }

    fn agg(statuses: &[(u16, u64)], probes: u64) -> RequestAgg {
        RequestAgg {
            requests: statuses.iter().map(|(_, n)| n).sum(),
            probes,
            rejected: statuses
                .iter()
                .filter(|(s, _)| matches!(s, 401 | 403))
                .map(|(s, n)| {
                    let at = Some(Timestamp::from_secs(i64::from(*s)));
                    (
                        *s,
                        Refusals {
                            count: *n,
                            first: at,
                            last: at,
                        },
                    )
                })
                .collect(),
            ..RequestAgg::default()
        }
    }

    /// The new revision's refusals, judged beside the old one's.
    fn judged(old: &[(u16, u64)], new: &[(u16, u64)]) -> Option<Rejections> {
        let mut revs = vec![stats("api-00001-aaa", old), stats("api-00002-bbb", new)];
        super::super::regress::compare_client_errors(&mut revs);
        rejections(&revs[1], &agg(new, 0))
    }

    #[test]
    fn refusals_new_with_a_revision_make_it_fail() {
        // 182 of 240 answered 401 where the old revision answered 200.
        let found = judged(&[(200, 300)], &[(401, 182), (200, 58)]).unwrap();
        assert_eq!(found.count, 182);
        assert_eq!(found.statuses, [401].into());
        // 401 and 403 together, both new.
        let found = judged(&[(200, 300)], &[(401, 60), (403, 70), (200, 100)]).unwrap();
        assert_eq!(found.count, 130);
        // A 403 the old one gave as often is background; the new 401s alone are not most.
        assert!(judged(
            &[(200, 200), (403, 100)],
            &[(401, 100), (403, 100), (200, 100)]
        )
        .is_none());
        // When most: the background 403s neither count nor date the failures.
        let found = judged(
            &[(200, 200), (403, 20)],
            &[(401, 200), (403, 20), (200, 80)],
        )
        .unwrap();
        assert_eq!((found.count, found.statuses), (200, [401].into()));
        let at = Some(Timestamp::from_secs(401));
        assert_eq!((found.first, found.last), (at, at));
    }

    #[test]
    fn refusals_every_revision_gives_few_ones_or_other_4xx_do_not() {
        // A public API: 60% 401 to unauthenticated clients, old and new alike.
        assert!(judged(&[(401, 180), (200, 120)], &[(401, 186), (200, 114)]).is_none());
        // Grown by 11 points (55% to 66%): more than the background's 10, but not
        // twice it, so not newly refused; 30% to 66% is.
        assert!(judged(&[(401, 165), (200, 135)], &[(401, 198), (200, 102)]).is_none());
        assert!(judged(&[(401, 90), (200, 210)], &[(401, 198), (200, 102)]).is_some());
        // Nothing to compare with: one revision alone.
        let mut one = vec![stats("api-00002-bbb", &[(401, 200), (200, 40)])];
        super::super::regress::compare_client_errors(&mut one);
        assert!(rejections(&one[0], &agg(&[(401, 200), (200, 40)], 0)).is_none());
        // A baseline of fewer than 10 requests is none.
        assert!(judged(&[(200, 9)], &[(401, 200), (200, 40)]).is_none());
        // A handful: 19 of 19.
        assert!(judged(&[(200, 300)], &[(401, 19)]).is_none());
        assert!(judged(&[(200, 300)], &[(401, 20)]).is_some());
        // 404s and 429s are the callers'.
        assert!(judged(&[(200, 300)], &[(404, 200), (429, 100)]).is_none());
        // Health checks refused, the real requests served: not most.
        let mut revs = vec![
            stats("api-00001-aaa", &[(200, 300)]),
            stats("api-00002-bbb", &[(401, 100), (200, 40)]),
        ];
        super::super::regress::compare_client_errors(&mut revs);
        let probes_refused = RequestAgg {
            rejected: BTreeMap::new(),
            ..agg(&[(401, 100), (200, 40)], 100)
        };
        assert!(rejections(&revs[1], &probes_refused).is_none());
    }

    #[test]
    fn a_revision_most_of_whose_requests_fail_is_named_first_while_it_lasts() {
        let bad = impact("api-00002-bbb", &[(500, 12)]);
        let over = Impact {
            recovered: true,
            ..impact("api-00001-aaa", &[(503, 30)])
        };
        let found = most_requests_fail(
            vec![Tally::server_errors(&over), Tally::server_errors(&bad)],
            &[],
        );
        // Both revisions, then the service's two together.
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[0].revision, "api-00002-bbb");
        assert!(found[0].high && !found[0].recovered);
        assert_eq!((found[0].failed, found[0].requests), (12, 12));
        assert_eq!(found[0].statuses, vec![500]);
        // Six of six: said, not high.
        let six = most_requests_fail(
            vec![Tally::server_errors(&impact("api-00002-bbb", &[(500, 6)]))],
            &[],
        );
        assert!(!six[0].high);
        // Refusals: high from 20, never merged with other revisions.
        let refused = impact("api-00002-bbb", &[(401, 182), (200, 58)]);
        let found = Rejections {
            count: 182,
            statuses: [401].into(),
            first: None,
            last: None,
        };
        let t = Tally::rejected(&refused, found, false);
        let found = most_requests_fail(vec![t.clone(), t], &[]);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].failed_with, FailedWith::Rejected);
        assert!(found[0].high && found[0].revisions == 1);
        assert_eq!((found[0].failed, found[0].requests), (182, 240));
        // 404s are no failure.
        let scanned = impact("api-00002-bbb", &[(404, 200)]);
        assert!(most_requests_fail(vec![Tally::server_errors(&scanned)], &[]).is_empty());
    }
}
