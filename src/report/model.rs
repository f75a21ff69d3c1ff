//! The report model (schema `logtriage/report/v1`): built once from the analysis,
//! redacted here, then rendered by markdown, JSON and table alike.

use super::redact::{redact, redact_field};
use super::sanitize::strip_controls;
use crate::analyze::{self, Analysis, FailedWith, HealthChecks, MostlyFailing, Outcome};
use crate::pipeline::ScanTotals;
use crate::text::counted;
use serde::Serialize;
use std::collections::BTreeSet;

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
    /// Load balancer request logs left out of request counts as repeats of their
    /// backend's own request logs (same trace); they still count as entries.
    pub lb_requests_left_out: u64,
}

impl InputSummary {
    /// What else the input line says, each part after `sep`: entries outside the
    /// filters, entries without a usable time (not in the timelines), inputs lost.
    pub fn notes(&self, sep: &str) -> String {
        let mut out = String::new();
        if self.filtered_out > 0 {
            out.push_str(&format!(
                "{sep}{} outside the filters",
                super::fmt_count(self.filtered_out)
            ));
            if self.after_until > 0 {
                out.push_str(&format!(
                    " ({} after --until)",
                    super::fmt_count(self.after_until)
                ));
            }
        }
        if self.no_timestamp > 0 {
            out.push_str(&format!(
                "{sep}{} without a usable timestamp",
                super::fmt_count(self.no_timestamp)
            ));
        }
        match self.truncated_inputs + self.unreadable_inputs as u64 {
            0 => {}
            1 => out.push_str(&format!("{sep}1 input truncated or unreadable")),
            n => out.push_str(&format!(
                "{sep}{} inputs truncated or unreadable",
                super::fmt_count(n)
            )),
        }
        out
    }
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

/// [`mask`] for an excerpt ([`crate::text::excerpt`]): each part between elision
/// marks is masked as a text of its own, so a secret cut where a part ends is at the
/// end of a text, where redaction masks what is left of it.
fn mask_excerpt(text: &str) -> String {
    let mark = crate::text::ELISION.trim_end();
    text.split(mark).map(mask).collect::<Vec<_>>().join(mark)
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
            s.message = mask_excerpt(&s.message);
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
        lb_requests_left_out: a.lb_requests_left_out,
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

/// The failing requests the status names: the analysis's first, on a service other
/// than `except`.
fn failing_requests<'o>(o: &'o Outcome, except: Option<&str>) -> Option<&'o MostlyFailing> {
    o.most_requests_fail
        .iter()
        .find(|f| Some(f.service.as_str()) != except)
}

/// "N of M requests to ... failed with 5xx" (or with the 401 or 403 that was new),
/// and when they stopped.
fn failing_words(o: &Outcome, f: &MostlyFailing) -> String {
    let with = f.status_words();
    let mut words = format!(
        "{} of {} requests{} {} failed with {with}",
        super::fmt_count(f.failed),
        super::fmt_count(f.requests),
        match f.health_checks {
            HealthChecks::Aside => " (health checks aside)",
            HealthChecks::Included => " (health checks included: they fail too)",
            HealthChecks::None => "",
        },
        // Counts are one revision's: say which, not the whole service's.
        match (f.service.is_empty(), f.revision.as_str(), f.revisions) {
            (true, _, _) => "without a service".to_string(),
            (false, "", 1) => format!("to `{}`", f.service),
            (false, rev, 1) =>
                match o.place_note(&f.service, rev, f.region.as_deref(), f.project.as_deref(),) {
                    Some(at) => format!("to `{}` (revision `{rev}` in {at})", f.service),
                    None => format!("to `{}` (revision `{rev}`)", f.service),
                },
            (false, _, k) => format!("to `{}` ({k} revisions)", f.service),
        }
    );
    if let (true, Some(at)) = (f.recovered, &f.last_failure) {
        words.push_str(&format!(", the last at {at}; requests since succeed"));
    }
    words
}

/// How the headline says the lead was still matching at the end: of the logs, or
/// only of the window when --until left later entries out.
fn ongoing_at_end(after_until: u64) -> String {
    if after_until == 0 {
        ", ongoing at the end of the logs".into()
    } else {
        format!(
            ", still matching where --until cuts the window ({} left out)",
            counted(after_until, "later entry", "later entries")
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
            "No incident pattern found: {}, {}, no rule reached its threshold",
            counted(entries, "entry", "entries"),
            counted(errors, "error", "errors")
        );
        let failing = failing_requests(o, None);
        // Most of a revision's requests failing is an incident however slowly it came
        // (a scheduler's call every 5 minutes never makes a burst): not "ok", so
        // `--fail-on high` catches it, unless good requests followed.
        let high = failing.is_some_and(|f| f.high);
        let level = if high { "high" } else { "ok" };
        // The regression the failing revision starts, if it does.
        let reg = failing.and_then(|f| {
            o.regressions.iter().find(|r| {
                r.first_bad == f.revision
                    && r.is_at_place(f.region.as_deref(), f.project.as_deref())
            })
        });
        match failing {
            Some(f) if high => {
                let since = reg.map_or(String::new(), |r| broken_since(o, r));
                // No rule fired: what refused them is not in the logs, only where to look.
                let why = match f.failed_with {
                    FailedWith::Rejected => {
                        "; the logs do not show why they were refused: check the \
                         revision's auth configuration and secrets, and the callers' \
                         credentials"
                    }
                    FailedWith::ServerError => "",
                };
                headline = format!(
                    "Most requests fail: {}, below every rule's threshold (see the \
                     impact table){since}{why}; {}, {}.",
                    failing_words(o, f),
                    counted(entries, "entry", "entries"),
                    counted(errors, "error", "errors")
                );
            }
            Some(f) => headline.push_str(&format!(
                ", but {} (see the impact table).",
                failing_words(o, f)
            )),
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
        if lead.count == 1 {
            // One match: a moment, not a span.
            h.push_str(&format!(" at {on}"));
        } else if lead.timeline.under_way_at_start {
            h.push_str(&format!(
                " since at least {on} (under way when the logs begin)"
            ));
        } else {
            h.push_str(&format!(" since {on}"));
        }
    }
    // Lowered because job tasks' retries made its matches good (then not ongoing).
    let retried = lead
        .retried
        .as_ref()
        .filter(|r| r.rule_severity != lead.severity);
    let ongoing = lead.timeline.ongoing;
    if ongoing {
        h.push_str(&ongoing_at_end(after_until));
    }
    if let Some(end) = lead
        .timeline
        .end
        .as_ref()
        .filter(|_| !ongoing && lead.count > 1)
    {
        h.push_str(&format!(", last at {end}"));
    }
    if let Some(r) = retried {
        let tasks = format!(
            "{} that then succeeded on retry",
            counted(r.tasks, "job task", "job tasks")
        );
        h.push_str(&match r.matches >= lead.count {
            true => format!("; all on {tasks}"),
            false => format!(
                "; {} of them on {tasks}, the rest below the rule's threshold",
                super::fmt_count(r.matches)
            ),
        });
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
        if !reg.shared_onset.is_empty() {
            h.push_str(&format!(
                ", but the same failures began at the same time on {} without a deploy (a shared dependency is more likely)",
                crate::analyze::shared_places(reg)
            ));
        }
        if let Some(rec) = &reg.recovered {
            h.push_str(&format!(
                "; its failures stopped at {} ({} since without them)",
                rec.last_failure,
                counted(rec.requests_since, "request", "requests")
            ));
        } else if let Some(fix) = reg.resolved_by.as_ref().filter(|_| reg.rolled_back) {
            h.push_str(&format!("; resolved: traffic back on `{}`", fix.revision));
        } else if let Some(fix) = &reg.resolved_by {
            h.push_str(&format!("; resolved by `{}`", fix.revision));
        }
    }
    // Other findings on a service the lead is on, and those elsewhere, counted apart:
    // sharing a service does not link them (the Five Whys say what does), so they are
    // "other" findings there, not "related" ones.
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
        let on: BTreeSet<&String> = lead_services.iter().collect();
        let there = match (lead_service, on.len()) {
            (Some(s), 1) => format!(" on `{s}`"),
            _ => " on its services".to_string(),
        };
        h.push_str(&format!(
            "; {related} other finding{}{there}",
            plural(related)
        ));
    }
    if elsewhere > 0 {
        h.push_str(&format!(
            "; {elsewhere} finding{} on other services",
            plural(elsewhere)
        ));
    }
    // The level is the most severe finding's: say which, when it is on another
    // service (one on the lead's service is named with it).
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
        h.push_str(&format!("; most requests fail: {}", failing_words(o, f)));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A key cut where an excerpt's opening or window ends is masked: each part is
    /// masked as a text of its own, as the whole message was when it was only cut.
    #[test]
    fn secrets_cut_at_an_excerpt_s_marks_are_masked() {
        let x = "Traceback: key=x AIzaSyCutCutCut8Hk2mN9pQ … Connection refused AIzaSyCutCut8Hk2 …";
        let m = mask_excerpt(x);
        assert!(!m.contains("AIzaSyCut"), "{m}");
        assert!(m.contains(" … Connection refused "), "{m}");
        assert!(m.ends_with(" …"), "{m}");
        // Masked whole, the first cut key is not at the end of a text and stays.
        assert!(mask(x).contains("AIzaSyCut"), "{}", mask(x));
    }
}
