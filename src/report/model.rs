//! The report model (schema `logtriage/report/v1`): built once from the analysis,
//! redacted here, then rendered by markdown, JSON and table alike.

use super::redact::{redact, redact_field};
use super::sanitize::strip_controls;
use crate::analyze::{self, Analysis, Outcome};
use crate::pipeline::ScanTotals;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The JSON schema id.
pub const SCHEMA: &str = "logtriage/report/v1";

/// What was read.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InputSummary {
    /// Files (or stdin) read.
    pub files: usize,
    /// Bytes on disk (compressed size for .gz).
    pub bytes: u64,
    /// Distinct entries analysed.
    pub entries: u64,
    /// Records skipped as malformed.
    pub malformed: u64,
    /// Records skipped as too large.
    pub too_large: u64,
    /// Repeats dropped.
    pub duplicates: u64,
    /// Extra parts of split entries, counted once.
    pub split_parts: u64,
    /// Entries outside --since/--until/--service.
    pub filtered_out: u64,
    /// Of those, entries at or after --until: the logs go on past the window.
    pub after_until: u64,
    /// Inputs cut short (truncated gzip or array).
    pub truncated_inputs: u64,
    /// Inputs that could not be read.
    pub unreadable_inputs: usize,
    /// Entries without any timestamp.
    pub no_timestamp: u64,
    /// False when de-duplication ran out of room (totals may then hold repeats).
    pub dedup_exact: bool,
    /// Request logs an app wrote itself, left out of request counts as repeats of
    /// Cloud Run's own request log (they still count as entries).
    pub app_requests_left_out: u64,
}

/// Time window of the entries.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Window {
    /// Earliest entry, RFC 3339 UTC.
    pub start: Option<String>,
    /// Latest entry.
    pub end: Option<String>,
}

/// Level and one-line headline.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Status {
    /// ok, low, medium, high or critical.
    pub level: String,
    /// One line with the numbers.
    pub headline: String,
}

/// The report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// Always `logtriage/report/v1`.
    pub schema: &'static str,
    /// Tool and version.
    pub generator: String,
    /// What was read.
    pub input: InputSummary,
    /// Entries' time window.
    pub window: Window,
    /// Level and headline.
    pub status: Status,
    /// Rules in effect.
    pub rules_loaded: usize,
    /// Everything concluded.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What the command knows about its input besides the analysis.
pub struct InputFacts<'a> {
    /// Totals from the scan.
    pub totals: &'a ScanTotals,
    /// Files read.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Unreadable inputs.
    pub unreadable: usize,
}

/// Log text as shown: control characters (ANSI colours) out first, so they cannot
/// hide a secret from redaction, then secrets masked.
fn mask(text: &str) -> String {
    redact(&strip_controls(text)).into_owned()
}

/// Masks every string of the outcome that comes from the logs: captured values,
/// samples, failing endpoints, unknown templates and their examples.
fn redact_outcome_data(o: &mut Outcome) {
    for f in &mut o.findings {
        for c in &mut f.captures {
            for v in &mut c.top {
                v.value = redact_field(&c.name, &strip_controls(&v.value)).into_owned();
            }
        }
        for s in &mut f.samples {
            s.message = mask(&s.message);
        }
    }
    for i in &mut o.impact {
        for (endpoint, _) in &mut i.top_failing {
            *endpoint = mask(endpoint);
        }
    }
    for u in &mut o.unknown {
        u.template = mask(&u.template);
        u.example = mask(&u.example);
    }
}

/// Builds the report: outcome, redaction, whys, status.
pub fn build(a: &Analysis<'_>, bucket: Option<i64>, facts: &InputFacts<'_>) -> Report {
    let mut outcome = analyze::finish(a, bucket, facts.totals.others_window);
    // Captured values, samples and unknown templates are masked before whys (their
    // evidence and leads) and actions quote them; everything else in whys comes from
    // rule text, revisions and counts.
    redact_outcome_data(&mut outcome);
    analyze::explain(a, &mut outcome);
    let t = facts.totals;
    let c = &a.counts;
    let input = InputSummary {
        files: facts.files,
        bytes: facts.bytes,
        entries: c.entries,
        malformed: t.malformed,
        too_large: t.too_large,
        duplicates: t.duplicates,
        split_parts: t.split_parts,
        filtered_out: t.filtered_out,
        after_until: t.after_until,
        truncated_inputs: t.truncated,
        unreadable_inputs: facts.unreadable,
        no_timestamp: c.no_timestamp,
        dedup_exact: !t.dedup_saturated,
        app_requests_left_out: a.app_requests_left_out,
    };
    let window = Window {
        start: c.window.map(|w| w.0.to_rfc3339()),
        end: c.window.map(|w| w.1.to_rfc3339()),
    };
    let status = status(&outcome, c.entries, c.errors, t.after_until);
    Report {
        schema: SCHEMA,
        generator: format!("logtriage {}", env!("CARGO_PKG_VERSION")),
        input,
        window,
        status,
        rules_loaded: a.rules.rules().len(),
        outcome,
    }
}

/// The revision whose requests (health checks aside) failed with 5xx the most, when
/// at least [`MIN_FAILING_REQUESTS`] and half of them did: the count and the words.
fn failing_requests(o: &Outcome, except: Option<&str>) -> Option<Failing> {
    // A quiet service whose every request fails can stay under a burst rule's
    // threshold: the headline says so rather than leave "OK" unqualified.
    // 5xx only: a crawler's 404s are not the service failing.
    let rows: Vec<Tally> = o
        .impact
        .iter()
        .filter(|i| Some(i.service.as_str()) != except)
        .map(|i| {
            let mut t = Tally::of(i, o);
            // A regression it starts that a fix or a rollback resolved is over too.
            t.recovered |= o.regressions.iter().any(|r| {
                r.service == i.service
                    && r.first_bad == i.revision
                    && r.is_at_place(t.at.0.as_deref(), t.at.1.as_deref())
                    && r.resolved_by.is_some()
            });
            t
        })
        .collect();
    // Also per service (in one region and project): failures spread over quick
    // redeploys are one outage; another region's are another's.
    let mut per_service: BTreeMap<(&str, &Place), Vec<&Tally>> = BTreeMap::new();
    for t in &rows {
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
    let (t, n) = rows
        .iter()
        .chain(merged.iter())
        .filter_map(|t| t.failing().map(|n| (t, n)))
        // A failure still going on before one that is over; a revision's before its
        // service's when both qualify as much.
        .max_by_key(|(t, n)| {
            (
                t.high(*n),
                !t.recovered,
                t.revisions == 1,
                *n,
                !t.service.is_empty(),
            )
        })?;
    let mut words = format!(
        "{} of {} requests{} {} failed with 5xx",
        super::fmt_count(n),
        super::fmt_count(t.served()),
        match (t.probes > 0, t.with_probes) {
            (true, false) => " (health checks aside)",
            (true, true) => " (health checks included: they fail too)",
            _ => "",
        },
        // Counts are one revision's: say which, not the whole service's.
        match (t.service.is_empty(), t.revision.as_str(), t.revisions) {
            (true, _, _) => "without a service".to_string(),
            (false, "", 1) => format!("to `{}`", t.service),
            (false, rev, 1) => match &t.note {
                Some(at) => format!("to `{}` (revision `{rev}` in {at})", t.service),
                None => format!("to `{}` (revision `{rev}`)", t.service),
            },
            (false, _, k) => format!("to `{}` ({k} revisions)", t.service),
        }
    );
    if let (true, Some(at)) = (t.recovered, t.last_server_error) {
        words.push_str(&format!(
            ", the last at {}; requests since succeed",
            at.to_rfc3339()
        ));
    }
    Some(Failing {
        high: t.high(n),
        words,
        revision: t.revision.clone(),
        at: t.at.clone(),
    })
}

/// Region and project of a revision, `None` where the logs do not say.
type Place = (Option<String>, Option<String>);

/// Request outcomes of a revision, or of a service's revisions together.
struct Tally {
    service: String,
    /// The revision ("" for several).
    revision: String,
    /// Its region and project (one service's revisions are summed per place).
    at: Place,
    /// Where it ran, when its name runs in several places ([`Outcome::place_note`]).
    note: Option<String>,
    revisions: usize,
    requests: u64,
    server_errors: u64,
    probes: u64,
    probe_server_errors: u64,
    last_server_error: Option<crate::entry::Timestamp>,
    recovered: bool,
    /// Health checks count: they fail as well (so they are no sign of health).
    with_probes: bool,
}

impl Tally {
    fn of(i: &analyze::Impact, o: &Outcome) -> Tally {
        let server_errors = i
            .statuses
            .iter()
            .filter(|(s, _)| *s >= 500)
            .map(|(_, n)| n)
            .sum();
        let mut t = Tally {
            service: i.service.clone(),
            revision: i.revision.clone(),
            at: (i.region.clone(), i.project.clone()),
            note: o.place_note(
                &i.service,
                &i.revision,
                i.region.as_deref(),
                i.project.as_deref(),
            ),
            revisions: 1,
            requests: i.requests,
            server_errors,
            probes: i.probes,
            probe_server_errors: i.probe_server_errors,
            last_server_error: i.last_server_error,
            recovered: i.recovered,
            with_probes: false,
        };
        t.with_probes = t.probes_count();
        t
    }

    fn merge(ts: &[&Tally]) -> Tally {
        // Recovered when a good request followed the service's latest 5xx.
        let latest = ts.iter().max_by_key(|t| t.last_server_error);
        let mut t = Tally {
            service: ts.first().map_or(String::new(), |t| t.service.clone()),
            revision: String::new(),
            at: ts.first().map_or((None, None), |t| t.at.clone()),
            note: None,
            revisions: ts.len(),
            requests: ts.iter().map(|t| t.requests).sum(),
            server_errors: ts.iter().map(|t| t.server_errors).sum(),
            probes: ts.iter().map(|t| t.probes).sum(),
            probe_server_errors: ts.iter().map(|t| t.probe_server_errors).sum(),
            last_server_error: latest.and_then(|t| t.last_server_error),
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
        let other_5xx = self.server_errors.saturating_sub(self.probe_server_errors);
        self.probes > 0
            && self.probe_server_errors * 2 > self.probes
            && (other == 0 || other_5xx * 2 > other)
    }

    /// `n` failures make the status high: at least [`analyze::MOSTLY_FAILING`], over
    /// half of what it served, and no good request since.
    fn high(&self, n: u64) -> bool {
        n >= analyze::MOSTLY_FAILING && n * 2 > self.served() && !self.recovered
    }

    /// Requests counted: health checks aside, unless they fail too.
    fn served(&self) -> u64 {
        if self.with_probes {
            self.requests
        } else {
            self.requests.saturating_sub(self.probes)
        }
    }

    /// Its 5xx, when at least [`MIN_FAILING_REQUESTS`] and half of what it served.
    fn failing(&self) -> Option<u64> {
        let n = if self.with_probes {
            self.server_errors
        } else {
            self.server_errors.saturating_sub(self.probe_server_errors)
        };
        (n >= MIN_FAILING_REQUESTS && n * 2 >= self.served()).then_some(n)
    }
}

/// A revision most of whose requests failed with 5xx (see [`failing_requests`]).
struct Failing {
    /// At least [`analyze::MOSTLY_FAILING`], over half, and not over: status high.
    high: bool,
    /// "N of M requests to ... failed with 5xx", and when they stopped.
    words: String,
    /// The revision.
    revision: String,
    /// Its region and project.
    at: Place,
}

/// Failed requests of one revision that the status line mentions when no rule fired.
const MIN_FAILING_REQUESTS: u64 = 5;

/// How the headline says the lead was still matching at the end: of the logs, or
/// only of the window when --until left later entries out.
fn ongoing_at_end(after_until: u64) -> String {
    if after_until == 0 {
        ", ongoing at the end of the logs".into()
    } else {
        format!(
            ", still matching where --until cuts the window ({} later entries left out)",
            super::fmt_count(after_until)
        )
    }
}

fn status(o: &Outcome, entries: u64, errors: u64, after_until: u64) -> Status {
    if entries == 0 {
        // Nothing read is not "no incident": the input counts say why.
        return Status {
            level: "ok".into(),
            headline: "No log entry was read, so nothing was judged (an empty window, or \
                       inputs that could not be read, were cut short or were filtered \
                       out: see the input counts)."
                .into(),
        };
    }
    let Some(top) = o.findings.first() else {
        let mut headline = format!(
            "No incident pattern found: {} entries, {} errors, no rule reached its threshold",
            super::fmt_count(entries),
            super::fmt_count(errors)
        );
        let failing = failing_requests(o, None);
        // Most of a revision's requests failing is an incident however slowly it came
        // (a scheduler's call every 5 minutes never makes a burst): not "ok", so
        // `--fail-on high` catches it, unless good requests followed.
        let high = failing.as_ref().is_some_and(|f| f.high);
        let level = if high { "high" } else { "ok" };
        // The regression the failing revision starts, if it does.
        let reg = failing.as_ref().and_then(|f| {
            o.regressions.iter().find(|r| {
                r.first_bad == f.revision && r.is_at_place(f.at.0.as_deref(), f.at.1.as_deref())
            })
        });
        match failing.map(|f| f.words) {
            Some(failed) if high => {
                let since = reg.map_or(String::new(), |r| broken_since(o, r));
                headline = format!(
                    "Most requests fail: {failed}, below every rule's threshold (see the \
                     impact table){since}; {} entries, {} errors.",
                    super::fmt_count(entries),
                    super::fmt_count(errors)
                );
            }
            Some(failed) => headline.push_str(&format!(", but {failed} (see the impact table).")),
            None => headline.push('.'),
        }
        return Status {
            level: level.into(),
            headline,
        };
    };
    // The chain starts at the most severe symptom; the headline names it.
    let lead = o
        .five_whys
        .first()
        .and_then(|w| w.rules.first())
        .and_then(|id| o.findings.iter().find(|f| f.rule == *id))
        .unwrap_or(top);
    let found = o
        .findings
        .iter()
        .map(|f| severity_rank(&f.severity))
        .max()
        .unwrap_or(0);
    // Most of a revision's requests failing is high whatever the findings say (a
    // medium timeout rule must not lower a scheduler's 24 of 24 failed calls).
    let most_fail = failing_requests(o, None).filter(|f| f.high);
    let level = if most_fail.is_some() {
        found.max(severity_rank("high"))
    } else {
        found
    };
    // The count on the service the headline names; the finding's total when it
    // spans others too (an unrelated burst elsewhere is not this incident's size).
    let lead_service = lead
        .revisions
        .first()
        .map(|r| r.service.as_str())
        .filter(|s| !s.is_empty());
    let on_lead: u64 = lead
        .revisions
        .iter()
        .filter(|r| Some(r.service.as_str()) == lead_service)
        .map(|r| r.count)
        .sum();
    let others: BTreeSet<&str> = lead
        .revisions
        .iter()
        .map(|r| r.service.as_str())
        .filter(|s| Some(*s) != lead_service)
        .collect();
    let shown = if lead_service.is_some() && on_lead > 0 && !others.is_empty() {
        on_lead
    } else {
        lead.count
    };
    let mut h = format!(
        "{} x{} `{}`",
        lead.title,
        super::fmt_count(shown),
        lead.rule
    );
    if let Some(svc) = lead_service {
        h.push_str(&format!(" on `{svc}`"));
        if shown != lead.count {
            h.push_str(&format!(
                " ({} in all, on {} service{})",
                super::fmt_count(lead.count),
                others.len() + 1,
                if others.is_empty() { "" } else { "s" }
            ));
        }
    }
    let stray = lead.timeline.before_threshold;
    if let (Some(met), Some(first), true) = (
        &lead.timeline.threshold_met,
        &lead.timeline.onset,
        stray > 0,
    ) {
        // Stray matches long before the burst: dated from where it met its threshold.
        h.push_str(&format!(
            " since about {met} ({} earlier match{} from {first})",
            super::fmt_count(stray),
            if stray == 1 { "" } else { "es" }
        ));
    } else if let Some(on) = &lead.timeline.onset {
        if lead.timeline.under_way_at_start {
            h.push_str(&format!(
                " since at least {on} (under way when the logs begin)"
            ));
        } else {
            h.push_str(&format!(" since {on}"));
        }
    }
    if lead.timeline.ongoing {
        h.push_str(&ongoing_at_end(after_until));
    }
    if let Some(end) = lead
        .timeline
        .end
        .as_ref()
        .filter(|_| !lead.timeline.ongoing)
    {
        h.push_str(&format!(", last at {end}"));
    }
    // The regression whose bad revision the lead was seen on, else its service's.
    let on_lead = |r: &&crate::analyze::Regression| Some(r.service.as_str()) == lead_service;
    if let Some(reg) = o
        .regressions
        .iter()
        .filter(on_lead)
        .find(|r| {
            lead.revisions
                .iter()
                .any(|x| x.revision == r.first_bad && r.is_at(x))
        })
        .or_else(|| o.regressions.iter().find(on_lead))
    {
        h.push_str(&broken_since(o, reg));
        if let Some(rec) = &reg.recovered {
            h.push_str(&format!(
                "; its failures stopped at {} ({} requests since without them)",
                rec.last_failure,
                super::fmt_count(rec.requests_since)
            ));
        } else if let Some(fix) = reg.resolved_by.as_ref().filter(|_| reg.rolled_back) {
            h.push_str(&format!("; resolved: traffic back on `{}`", fix.revision));
        } else if let Some(fix) = &reg.resolved_by {
            h.push_str(&format!("; resolved by `{}`", fix.revision));
        }
    }
    // "Related" only on a service the lead is on: an unrelated crash loop elsewhere
    // is counted apart, not offered as part of this incident.
    let services = |f: &crate::analyze::Finding| -> Vec<String> {
        f.revisions.iter().map(|r| r.service.clone()).collect()
    };
    let lead_services = services(lead);
    let (related, elsewhere) = o.findings.iter().filter(|f| !std::ptr::eq(*f, lead)).fold(
        (0usize, 0usize),
        |(r, e), f| {
            if services(f).iter().any(|s| lead_services.contains(s)) {
                (r + 1, e)
            } else {
                (r, e + 1)
            }
        },
    );
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if related > 0 {
        h.push_str(&format!("; {related} related finding{}", plural(related)));
    }
    if elsewhere > 0 {
        h.push_str(&format!(
            "; {elsewhere} finding{} on other services",
            plural(elsewhere)
        ));
    }
    // The level is the most severe finding's: say which, when it is on another
    // service (a related one is part of this incident).
    if let Some(worst) = o
        .findings
        .iter()
        .filter(|f| severity_rank(&f.severity) == level && severity_rank(&lead.severity) < level)
        .filter(|f| {
            !f.revisions
                .iter()
                .any(|r| Some(r.service.as_str()) == lead_service)
        })
        .max_by_key(|f| f.count)
    {
        let place = worst
            .revisions
            .first()
            .map(|r| r.service.as_str())
            .filter(|s| !s.is_empty())
            .map(|s| format!(" on `{s}`"))
            .unwrap_or_default();
        h.push_str(&format!(
            "; most severe: `{}` ({}){place}",
            worst.rule, worst.severity
        ));
    }
    // Said when it sets the level, or when it is another service's outage that no
    // finding names.
    let elsewhere = failing_requests(o, lead_service).filter(|f| f.high);
    if let Some(f) = most_fail.filter(|_| found < level).or(elsewhere) {
        h.push_str(&format!("; most requests fail: {}", f.words));
    }
    h.push('.');
    Status {
        level: ["ok", "low", "medium", "high", "critical"][level].into(),
        headline: h,
    }
}

/// "; broken since revision `b`, last good `g`", naming the region where the
/// revision names run in several places.
fn broken_since(o: &Outcome, r: &analyze::Regression) -> String {
    let shared = [&r.first_bad, &r.last_good].iter().any(|rev| {
        o.shared_names
            .contains(&(r.service.clone(), (*rev).clone()))
    });
    let at = match (&r.region, &r.project) {
        (Some(reg), _) if shared => format!(" in `{reg}`"),
        (None, Some(p)) if shared => format!(" in project `{p}`"),
        _ => String::new(),
    };
    format!(
        "; broken since revision `{}`{at}, last good `{}`",
        r.first_bad, r.last_good
    )
}

/// 0 ok, 1 low .. 4 critical.
pub fn severity_rank(s: &str) -> usize {
    match s {
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        "critical" => 4,
        _ => 0,
    }
}
