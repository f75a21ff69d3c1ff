//! The Five-Whys chain and the actions: follow the rules' causal links among the
//! findings that fired, add the deploy when the onset lines up with a revision
//! switch, and stop where the evidence stops, saying what to check next.

use super::outcome::{Action, Finding, Outcome, RevisionCount, Why};
use super::regress::Regression;
use super::sink::Analysis;
use crate::entry::Timestamp;
use crate::rules::{render, Rule, RuleSeverity};
use crate::text::{
    and_more, code_name, counted, cut_chars, fmt_count, fmt_span as duration, join_more, plural,
    shell_word, singular_after_count,
};
use std::cell::Cell;
use std::collections::BTreeSet;

/// Never more than five.
const MAX_WHYS: usize = 5;
/// Leads shown under a why the logs do not answer.
const MAX_LEADS: usize = 3;
/// Characters of a lead's example line.
const LEAD_EXAMPLE_CHARS: usize = 200;

/// Placeholder values for one finding's templates.
pub(super) struct Vars<'a> {
    a: &'a Analysis<'a>,
    f: &'a Finding,
    reg: Option<&'a Regression>,
    /// The service the question is about, when the chain narrows it to one.
    service: Option<String>,
}

/// The service of a finding's busiest revision that has one (entries of resources
/// without a service have an empty name).
fn first_service(f: &Finding) -> Option<String> {
    f.revisions
        .iter()
        .map(|r| &r.service)
        .find(|s| !s.is_empty())
        .cloned()
}

/// The service an effect's question names: the cause's, when the effect was seen
/// there too (a finding may span services while its cause is in one of them); else
/// the busiest service of the effect that the cause was seen on.
fn question_scope(effect: &Finding, cause: &Finding) -> Option<String> {
    let on = |f: &Finding, s: &str| f.revisions.iter().any(|r| r.service == s);
    first_service(cause).filter(|s| on(effect, s)).or_else(|| {
        effect
            .revisions
            .iter()
            .map(|r| &r.service)
            .find(|s| !s.is_empty() && on(cause, s))
            .cloned()
    })
}

impl Vars<'_> {
    fn service(&self) -> Option<String> {
        self.service.clone().or_else(|| first_service(self.f))
    }

    /// The service's region (or project): its only one, else the one the finding's
    /// revisions on it share; none when they are in several (a guess would aim a
    /// command at the wrong place).
    fn place_of(
        &self,
        svc: Option<&str>,
        all: &std::collections::BTreeMap<String, BTreeSet<String>>,
        pick: impl Fn(&RevisionCount) -> &Option<String>,
    ) -> Option<String> {
        let svc = svc?;
        let known = all.get(svc)?;
        if known.len() <= 1 {
            return known.iter().next().cloned();
        }
        let seen: BTreeSet<&String> = self
            .on_service(Some(svc))
            .filter_map(|r| pick(r).as_ref())
            .collect();
        match seen.len() {
            1 => seen.into_iter().next().cloned(),
            _ => None,
        }
    }

    /// The finding's revisions on `svc`.
    fn on_service<'v>(&'v self, svc: Option<&'v str>) -> impl Iterator<Item = &'v RevisionCount> {
        self.f
            .revisions
            .iter()
            .filter(move |r| Some(r.service.as_str()) == svc)
    }

    /// The finding was seen on `svc` and on other services too.
    fn spans_others(&self, svc: Option<&str>) -> bool {
        svc.is_some()
            && self.on_service(svc).next().is_some()
            && self
                .f
                .revisions
                .iter()
                .any(|r| Some(r.service.as_str()) != svc)
    }

    fn get(&self, name: &str) -> Option<String> {
        let svc = self.service();
        match name {
            "service" => svc,
            // The regression's own, where the service runs in several (none when
            // its place is unknown: a guess would send the command elsewhere).
            "region" => match self.reg.filter(|r| svc.as_ref() == Some(&r.service)) {
                Some(r) if r.split || r.region.is_some() => r.region.clone(),
                _ => self.place_of(svc.as_deref(), &self.a.regions, |r| &r.region),
            },
            "project" => match self.reg.filter(|r| svc.as_ref() == Some(&r.service)) {
                Some(r) if r.split || r.project.is_some() => r.project.clone(),
                _ => self.place_of(svc.as_deref(), &self.a.projects, |r| &r.project),
            },
            "revision" => self
                .on_service(svc.as_deref())
                .next()
                .or(self.f.revisions.first())
                .map(|r| r.revision.clone()),
            // A regression that a later revision resolved calls for no rollback: its
            // actions are left out with the missing value.
            "last_good" => self
                .reg
                .filter(|r| r.resolved_by.is_none() && r.rollback)
                .map(|r| r.last_good.clone()),
            // Commands name Cloud Run revisions: not a job's execution or a pod's hash.
            "first_bad" => self.reg.filter(|r| r.rollback).map(|r| r.first_bad.clone()),
            // The named service's share of a finding that spans several: its count
            // and its span, not the other services' too.
            "count" => Some(fmt_count(match self.spans_others(svc.as_deref()) {
                true => self.on_service(svc.as_deref()).map(|r| r.count).sum(),
                false => self.f.count,
            })),
            "first_seen" => match self.spans_others(svc.as_deref()) {
                true => self
                    .on_service(svc.as_deref())
                    .filter_map(|r| r.first_seen.clone())
                    .min(),
                false => self.f.first_seen.clone(),
            },
            "last_seen" => match self.spans_others(svc.as_deref()) {
                true => self
                    .on_service(svc.as_deref())
                    .filter_map(|r| r.last_seen.clone())
                    .max(),
                false => self.f.last_seen.clone(),
            },
            _ => self
                .f
                .captures
                .iter()
                .find(|c| c.name == name)
                .and_then(|c| c.top.first())
                .map(|v| v.value.clone()),
        }
    }

    /// Renders, or `None` when a placeholder has no value here.
    fn render_all(&self, tpl: &str) -> Option<String> {
        self.render_with(tpl, |v| v)
    }

    /// [`Vars::render_all`] for a shell command: every value is one shell word.
    fn render_command(&self, tpl: &str) -> Option<String> {
        let cmd = self.render_with(tpl, |v| shell_word(&v))?;
        // The service name in several projects: a gcloud command names this one's
        // (otherwise it runs against the configured default project).
        let svc = self.service();
        let several = svc
            .as_ref()
            .and_then(|s| self.a.projects.get(s))
            .is_some_and(|p| p.len() > 1);
        match self.get("project") {
            Some(p) if several && cmd.starts_with("gcloud ") && !cmd.contains("--project") => {
                Some(format!("{cmd} --project={}", shell_word(&p)))
            }
            _ => Some(cmd),
        }
    }

    /// The template with its noun after `{count}` singular when the count is 1.
    fn agreeing<'t>(&self, tpl: &'t str) -> std::borrow::Cow<'t, str> {
        if tpl.contains("{count}") && self.get("count").as_deref() == Some("1") {
            singular_after_count(tpl).into()
        } else {
            tpl.into()
        }
    }

    fn render_with(&self, tpl: &str, word: impl Fn(String) -> String) -> Option<String> {
        let missing = Cell::new(false);
        let s = render(&self.agreeing(tpl), &|n: &str| {
            let v = self.get(n);
            if v.is_none() {
                missing.set(true);
            }
            v.map(&word)
        });
        (!missing.get()).then_some(s)
    }

    /// Renders prose, wording what is missing without a name: "the service" where
    /// no entry named one (a load balancer log without a backend), never the
    /// template's `<service>` (review s27, fx/f1).
    fn render(&self, tpl: &str) -> String {
        render(&self.agreeing(tpl), &|n: &str| {
            self.get(n).or_else(|| Some(unnamed(n)))
        })
    }
}

/// Prose for a placeholder the logs give no value for.
fn unnamed(name: &str) -> String {
    match name {
        "service" => "the service".to_string(),
        "first_seen" | "last_seen" => "an unknown time".to_string(),
        _ => format!("(no {} in the logs)", name.replace('_', " ")),
    }
}

fn rule<'r>(a: &Analysis<'r>, id: &str) -> Option<&'r Rule> {
    a.rules.get(id).map(|(_, r)| r)
}

fn explains(cause: &Rule, effect: &Rule) -> bool {
    effect.explained_by.contains(&cause.id) || cause.explains.contains(&effect.id)
}

fn when(t: &Option<String>) -> Option<Timestamp> {
    t.as_deref().and_then(Timestamp::parse)
}

/// Services a finding matched on ("" for entries without one).
fn services(f: &Finding) -> BTreeSet<&str> {
    f.revisions.iter().map(|r| r.service.as_str()).collect()
}

/// The logs bear a rule pack's link out: cause and effect were seen on a common
/// service, and the cause began before the effect ended. A cause on another service,
/// or one that only began afterwards, explains nothing here.
fn cooccur(effect: &Finding, cause: &Finding) -> bool {
    let shared = services(effect)
        .intersection(&services(cause))
        .next()
        .is_some();
    let in_time = match (when(&cause.first_seen), when(&effect.last_seen)) {
        (Some(c), Some(e)) => c <= e,
        _ => true,
    };
    shared && in_time
}

/// Traces of `effect`'s and `cause`'s matches on the services both were seen on, and
/// how many they share.
fn trace_overlap(a: &Analysis<'_>, effect: &Finding, cause: &Finding) -> (usize, usize, usize) {
    let shared: BTreeSet<&str> = services(effect)
        .intersection(&services(cause))
        .copied()
        .collect();
    let traces = |f: &Finding| -> BTreeSet<u64> {
        let Some((idx, _)) = a.rules.get(&f.rule) else {
            return BTreeSet::new();
        };
        a.every_match()
            .filter(|((i, p), _)| *i == idx && shared.contains(p.service.as_str()))
            .flat_map(|(_, m)| m.traces.iter().map(|(k, _, _)| *k))
            .collect()
    };
    let (te, tc) = (traces(effect), traces(cause));
    (te.len(), tc.len(), te.intersection(&tc).count())
}

/// How the rule pack links `cause` to `effect`: directly, or through one rule that did
/// not fire (`Some(id)`: a reworded log line can keep the middle of a chain from
/// matching). The one-step link counts only when the cause began with the effect and
/// requests' traces carry both for a real share of each: the pack alone does not
/// link them.
fn link_via<'r>(
    a: &'r Analysis<'_>,
    fs: &[Finding],
    effect: &Finding,
    cause: &Finding,
) -> Option<Option<&'r str>> {
    let (re, rc) = (rule(a, &effect.rule)?, rule(a, &cause.rule)?);
    if explains(rc, re) {
        return Some(None);
    }
    let middle = a
        .rules
        .rules()
        .iter()
        .find(|m| !fs.iter().any(|f| f.rule == m.id) && explains(rc, m) && explains(m, re))?;
    // The cause began with the effect (within a minute: one request logs both), and
    // their traces overlap for real: a tenth of the effect's and half of the cause's.
    // One shared trace among hundreds, or a cause twenty minutes late, is chance.
    let began_with = match (when(&cause.first_seen), when(&effect.first_seen)) {
        (Some(c), Some(e)) => c.secs() <= e.secs() + 60,
        _ => false,
    };
    let (te, tc, both) = trace_overlap(a, effect, cause);
    (began_with && both > 0 && both * 10 >= te && both * 2 >= tc)
        .then_some(Some(middle.id.as_str()))
}

/// Why the report calls `cause` a cause of `effect`: the rule pack's link, and what the
/// logs show of it (where both were seen, when each began, requests whose trace
/// carries both). Without a shared trace the line says the link rests on the rule
/// pack and the timing.
fn link_line(a: &Analysis<'_>, fs: &[Finding], effect: &Finding, cause: &Finding) -> String {
    let shared: BTreeSet<&str> = services(effect)
        .intersection(&services(cause))
        .copied()
        .collect();
    let (te, tc, both) = trace_overlap(a, effect, cause);
    let traced = if te == 0 || tc == 0 {
        String::new()
    } else if both > 0 {
        format!(
            "; at least {} traced requests carry both",
            fmt_count(both as u64)
        )
    } else {
        "; no traced request carries both, so the link rests on the rule pack and the timing"
            .to_string()
    };
    let known = match link_via(a, fs, effect, cause).flatten() {
        Some(m) => {
            let seen: u64 = a.rules.get(m).map_or(0, |(idx, _)| {
                a.every_match()
                    .filter(|((i, _), _)| *i == idx)
                    .map(|(_, x)| x.count)
                    .sum()
            });
            let middle = if seen > 0 {
                format!(
                    "`{m}` matched {} here, below its threshold",
                    counted(seen, "time", "times")
                )
            } else {
                format!("`{m}` did not match here (its log line may be worded otherwise)")
            };
            format!(
                "a known cause of `{m}`, which the pack gives as a cause of `{}`; {middle}",
                effect.rule
            )
        }
        None => format!("a known cause of `{}` (rule pack)", effect.rule),
    };
    let on: Vec<String> = shared.iter().take(3).map(|s| code_name(s)).collect();
    let on = join_more(&on, shared.len());
    format!(
        "link: `{}` is {known}; in these logs both are on {on}, `{}` from {}, `{}` from {}{traced}",
        cause.rule,
        cause.rule,
        short_time(&cause.first_seen),
        effect.rule,
        short_time(&effect.first_seen),
    )
}

/// Fired findings outside the chain that are known causes of the same effect too: the
/// chain follows one cause, and the others must not drop out of the report (a
/// golden-path failure with both tables and JWT functions missing).
fn other_causes(
    a: &Analysis<'_>,
    fs: &[Finding],
    chain: &[usize],
    effect: usize,
    cause: usize,
) -> Vec<String> {
    let Some(re) = rule(a, &fs[effect].rule) else {
        return Vec::new();
    };
    let others: Vec<String> = fs
        .iter()
        .enumerate()
        .filter(|(j, g)| {
            *j != cause
                && !chain.contains(j)
                && rule(a, &g.rule).is_some_and(|rc| explains(rc, re))
                && cooccur(&fs[effect], g)
        })
        .map(|(_, g)| format!("`{}` ({})", g.rule, counted(g.count, "match", "matches")))
        .collect();
    if others.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "also fired, and also a known cause of `{}`: {}",
        fs[effect].rule,
        others.join(", ")
    )]
}

/// Longest chain of fired causes starting at `at` (depth-first; the graph is small),
/// each link one the rule pack makes and the logs bear out ([`cooccur`]).
fn longest(a: &Analysis<'_>, fs: &[Finding], at: usize, seen: &mut BTreeSet<usize>) -> Vec<usize> {
    let mut best = vec![at];
    if rule(a, &fs[at].rule).is_none() {
        return best;
    }
    seen.insert(at);
    for (j, f) in fs.iter().enumerate() {
        if seen.contains(&j) {
            continue;
        }
        if link_via(a, fs, &fs[at], f).is_some() && cooccur(&fs[at], f) {
            let mut tail = longest(a, fs, j, seen);
            if tail.len() + 1 > best.len() {
                tail.insert(0, at);
                best = tail;
            }
        }
    }
    seen.remove(&at);
    best
}

fn short_time(t: &Option<String>) -> String {
    t.clone().unwrap_or_else(|| "-".into())
}

/// Evidence lines for a finding; `note` gives where a revision ran when its name
/// alone is not clear ([`Outcome::place_note`]).
pub(super) fn evidence(
    f: &Finding,
    bucket: i64,
    note: impl Fn(&RevisionCount) -> Option<String>,
) -> Vec<String> {
    let t = &f.timeline;
    // One match has no span or pattern; matches within one bucket have no pattern.
    let mut ev = vec![match (f.count, t.span_buckets) {
        (1, _) => format!("1 `{}` match at {}", f.rule, short_time(&f.first_seen)),
        (n, 1) => format!(
            "{} `{}` matches from {} to {} ({}), within one {} bucket",
            fmt_count(n),
            f.rule,
            short_time(&f.first_seen),
            short_time(&f.last_seen),
            duration(t.duration_secs),
            duration(bucket),
        ),
        (n, span) => format!(
            "{} `{}` matches from {} to {} ({}), {} in {} of {} {} buckets",
            fmt_count(n),
            f.rule,
            short_time(&f.first_seen),
            short_time(&f.last_seen),
            duration(t.duration_secs),
            t.pattern,
            t.active_buckets,
            span,
            duration(bucket),
        ),
    }];
    if let (Some(met), true) = (&f.timeline.threshold_met, f.timeline.before_threshold > 0) {
        ev[0].push_str(&format!(
            "; the threshold was first met at {met}, after {}",
            counted(
                f.timeline.before_threshold,
                "earlier match",
                "earlier matches"
            )
        ));
    }
    let revs: Vec<String> = f
        .revisions
        .iter()
        .take(4)
        .map(|r| match note(r) {
            Some(at) => format!(
                "{} in {} ({})",
                code_name(&r.revision),
                code_name(&at),
                fmt_count(r.count)
            ),
            // A load balancer's backend has no revision: its name says where.
            None => match r.revision.is_empty() {
                true => format!("{} ({})", code_name(&r.service), fmt_count(r.count)),
                false => format!("{} ({})", code_name(&r.revision), fmt_count(r.count)),
            },
        })
        .collect();
    if !revs.is_empty() {
        ev.push(format!(
            "revisions: {}",
            join_more(&revs, f.revisions.len())
        ));
    }
    for c in f.captures.iter().filter(|c| !c.top.is_empty()).take(4) {
        let vals: Vec<String> = c
            .top
            .iter()
            .take(3)
            .map(|v| format!("{} ({})", span_or(&v.value, "(empty)"), fmt_count(v.count)))
            .collect();
        let more = c.distinct.saturating_sub(vals.len() as u64);
        ev.push(format!(
            "{}{}: {}{}",
            c.name,
            // Past the sample cap the values shown are the most frequent of a sample.
            if c.estimated {
                " (top values of a sample)"
            } else {
                ""
            },
            vals.join(", "),
            and_more(more, c.estimated)
        ));
    }
    if let Some(j) = &f.join {
        let st: Vec<String> = j
            .statuses
            .iter()
            .map(|(s, n)| format!("{s} x{}", fmt_count(*n)))
            .collect();
        // Past the trace sample cap the counts are scaled up from a hash sample.
        ev.push(format!(
            "{}{} ({}) {} a trace with these entries",
            if j.estimated { "about " } else { "" },
            counted(j.failed_requests, "failing request", "failing requests"),
            st.join(", "),
            plural(j.failed_requests, "shares", "share")
        ));
    }
    if let Some(r) = &f.retried {
        ev.push(retried_line(f, r));
    }
    if let Some(s) = f.samples.first() {
        // The message is log text: quoted as code, it cannot render as Markdown.
        ev.push(format!(
            "sample: {} {} insertId={} trace={}: {}",
            short_time(&s.timestamp),
            s.severity,
            s.insert_id,
            if s.trace.is_empty() { "-" } else { &s.trace },
            quoted(&s.message)
        ));
    }
    ev
}

/// What became of a finding's matches on job task attempts that were retried.
fn retried_line(f: &Finding, r: &super::outcome::RetriedTasks) -> String {
    let all = r.matches >= f.count;
    let which = match (f.count, all) {
        (1, _) => "the match was".to_string(),
        (n, true) => format!("all {} matches were", fmt_count(n)),
        (n, false) => format!(
            "{} of the {} matches {}",
            fmt_count(r.matches),
            fmt_count(n),
            if r.matches == 1 { "was" } else { "were" }
        ),
    };
    let one = r.tasks == 1;
    let lowered = match (r.rule_severity != f.severity, all) {
        (false, _) => String::new(),
        (true, true) => format!("; severity lowered from {} to {}", r.rule_severity, f.severity),
        (true, false) => format!(
            "; severity lowered from {} to {}, as the other matches alone do not reach the rule's threshold",
            r.rule_severity, f.severity
        ),
    };
    format!(
        "retried: {which} on attempts of {} job task{} that failed and then succeeded on retry (a later attempt of the same task in the same execution logged `Container called exit(0).`), so {} not counted as {}{lowered}",
        fmt_count(r.tasks),
        if one { "" } else { "s" },
        if r.matches == 1 { "it is" } else { "they are" },
        if one { "a failure of its execution" } else { "failures of their executions" },
    )
}

/// Log text as one inline code span (backticks in it become `'`; lines are joined).
fn quoted(text: &str) -> String {
    span_or(text, "(no message)")
}

/// [`quoted`], with `empty` for text that has nothing to show.
fn span_or(text: &str, empty: &str) -> String {
    let one_line: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if one_line.is_empty() {
        // An empty code span renders as two backticks.
        return empty.into();
    }
    format!("`{}`", one_line.join(" ").replace('`', "'"))
}

/// Errors no rule knows that appear only in failing revisions of the finding's
/// service: leads for a why the rules cannot answer, said to be leads and never a
/// cause. Each names its count, revisions, first entry and the example's line that
/// holds the template's first words (a traceback's example is many lines, stored cut).
fn leads(out: &Outcome, f: &Finding) -> Vec<String> {
    let Some(svc) = first_service(f) else {
        return Vec::new();
    };
    let revs: BTreeSet<&str> = out
        .revisions
        .iter()
        .filter(|r| r.service == svc)
        .map(|r| r.revision.as_str())
        .collect();
    let on_service = |r: &String| revs.contains(r.as_str());
    out.unknown
        .iter()
        .filter(|u| u.only_in_failing_revision && u.revisions.iter().any(on_service))
        .take(MAX_LEADS)
        .map(|u| {
            let on: Vec<String> = u.revisions.iter().take(3).map(|r| code_name(r)).collect();
            let on = join_more(&on, u.revisions.len());
            let head = u
                .template
                .split("<*>")
                .map(str::trim)
                .find(|w| !w.is_empty());
            let line = head.and_then(|h| u.example.lines().map(str::trim).find(|l| l.contains(h)));
            let example = line
                .map(|l| format!("; e.g. {}", quoted(cut_chars(l, LEAD_EXAMPLE_CHARS))))
                .unwrap_or_default();
            format!(
                "lead, not established as the cause: {} of `{}` (no rule knows it), \
                 only in failing {} ({on}), from {}{example}",
                counted(u.count, "entry", "entries"),
                u.template.replace('`', "'"),
                plural(u.revisions.len() as u64, "revision", "revisions"),
                short_time(&u.first_seen),
            )
        })
        .collect()
}

/// "`rev`: 0 of 2,214 entries failing (0.00%), start .. end".
fn rate_line(f: &super::regress::RateFigures) -> String {
    format!(
        "{}: {} of {} failing ({:.2}%), {} .. {}",
        code_name(&f.revision),
        fmt_count(f.failures),
        counted(f.entries, "entry", "entries"),
        f.rate * 100.0,
        short_time(&f.first_seen),
        short_time(&f.last_seen)
    )
}

/// The regression of the service of the finding's busiest revision. Not
/// [`first_service`]: when that revision has no service, another service's regression
/// would enter a chain that is about something else.
fn regression_for<'o>(out: &'o Outcome, f: &Finding) -> Option<&'o Regression> {
    let first = f.revisions.first()?;
    // The regression whose bad revision the finding was seen on, else the one of
    // the service where its busiest revision runs, else the service's.
    out.regressions
        .iter()
        .find(|r| {
            r.service == first.service
                && f.revisions
                    .iter()
                    .any(|x| x.revision == r.first_bad && r.is_at(x))
        })
        .or_else(|| out.regressions.iter().find(|r| r.is_at(first)))
        .or_else(|| out.regressions.iter().find(|r| r.service == first.service))
}

/// Fills `out.five_whys` and `out.actions`.
pub fn explain(a: &Analysis<'_>, out: &mut Outcome) {
    let fs = &out.findings;
    if fs.is_empty() {
        // A regression of requests that no rule names still gets its rollback.
        out.actions = actions(a, out);
        return;
    }
    // Start from the most severe symptom that no other fired finding is an effect of.
    let is_effect_of_none = |i: usize| {
        !fs.iter()
            .enumerate()
            .any(|(j, g)| j != i && link_via(a, fs, g, &fs[i]).is_some())
    };
    let mut starts: Vec<usize> = (0..fs.len()).filter(|i| is_effect_of_none(*i)).collect();
    if starts.is_empty() {
        starts.push(0);
    }
    let start = starts
        .iter()
        .copied()
        .max_by_key(|&i| {
            let r = rule(a, &fs[i].rule);
            // The finding's severity: a crash that a retry made good is no lead.
            (
                r.is_some_and(|r| r.kind.to_string() == "symptom"),
                fs[i].severity.parse::<RuleSeverity>().ok(),
                fs[i].count,
                std::cmp::Reverse(i),
            )
        })
        .unwrap_or(0);
    let chain = longest(a, fs, start, &mut BTreeSet::new());
    let bucket = out.bucket_secs;
    let note = |r: &RevisionCount| {
        out.place_note(
            &r.service,
            &r.revision,
            r.region.as_deref(),
            r.project.as_deref(),
        )
    };
    let mut whys = Vec::new();
    let vars = |f| Vars {
        a,
        f,
        reg: regression_for(out, f),
        service: None,
    };
    for pair in chain.windows(2) {
        let (effect, cause) = (&fs[pair[0]], &fs[pair[1]]);
        let (Some(re), Some(rc)) = (rule(a, &effect.rule), rule(a, &cause.rule)) else {
            break;
        };
        whys.push(Why {
            why: Vars {
                service: question_scope(effect, cause),
                ..vars(effect)
            }
            .render(&re.why),
            // The answer is about the service the question names, not the cause's
            // busiest one elsewhere.
            because: Vars {
                service: question_scope(effect, cause),
                ..vars(cause)
            }
            .render(&rc.because),
            established: true,
            evidence: [
                vec![link_line(a, fs, effect, cause)],
                other_causes(a, fs, &chain, pair[0], pair[1]),
                evidence(cause, bucket, note),
            ]
            .concat(),
            rules: vec![effect.rule.clone(), cause.rule.clone()],
        });
    }
    let first = &fs[chain[0]];
    if chain.len() == 1 {
        if let Some(r) = rule(a, &first.rule) {
            whys.push(Why {
                why: vars(first).render(&r.why),
                because: format!(
                    "Not established by the logs: {} matched {} {}{}, but no rule that explains it fired. Check next: {}",
                    first.rule,
                    vars(first).get("count").unwrap_or_default(),
                    if vars(first).get("count").as_deref() == Some("1") { "time" } else { "times" },
                    // The question names one service: say so when others share it.
                    match vars(first).service().filter(|s| vars(first).spans_others(Some(s))) {
                        Some(s) => format!(" on {s} ({} in all)", fmt_count(first.count)),
                        None => String::new(),
                    },
                    vars(first).render(&r.check_next)
                ),
                established: false,
                evidence: [evidence(first, bucket, note), leads(out, first)].concat(),
                rules: vec![first.rule.clone()],
            });
        }
    }
    let deepest = &fs[chain[chain.len() - 1]];
    let chain_ids: BTreeSet<&str> = chain.iter().map(|&i| fs[i].rule.as_str()).collect();
    let reg = chain
        .iter()
        .filter_map(|&i| regression_for(out, &fs[i]))
        .find(|r| r.rules.iter().any(|id| chain_ids.contains(id.as_str())));
    if let Some(reg) = reg {
        let ids: Vec<&str> = reg
            .rules
            .iter()
            .map(String::as_str)
            .filter(|i| chain_ids.contains(i))
            .collect();
        // A job's executions and a pod template's hashes are versions, not revisions
        // that traffic moved between.
        let noun = if reg.rollback { "Revision" } else { "Version" };
        let mut because = format!(
            "{noun} `{}` replaced `{}` at {} ({}). `{}` served {} over {} with {}; `{}` logged {} from {}.",
            reg.first_bad,
            reg.last_good,
            reg.switched_at,
            reg.switch_source,
            reg.last_good,
            counted(reg.before.entries, "entry", "entries"),
            duration(reg.before.span_secs),
            counted(reg.before.failures, "matching entry", "matching entries"),
            reg.first_bad,
            counted(reg.after.failures, "matching entry", "matching entries"),
            short_time(&reg.after.first_failure),
        );
        let mut evidence = vec![rate_line(&reg.before), rate_line(&reg.after)];
        let shared = !reg.shared_onset.is_empty();
        if shared {
            // The same failures began elsewhere at the same time, with no deploy there:
            // the switch is no longer what the logs show starting them.
            because = format!(
                "Not established by the logs: {}; but the same failures began at the same time on {}, which {} not deployed then: a shared dependency is more likely than this deploy; the logs do not establish which (a deploy can also overload a dependency they share).",
                lower_first(because.trim_end_matches('.')),
                shared_places(reg),
                if shared_count(reg) == 1 { "was" } else { "were" },
            );
            evidence.extend(reg.shared_onset.iter().map(|s| {
                format!(
                    "{}{}: {} x{} from {}, within 5 minutes of `{}`'s first failure at {}; its revision did not change in the 15 minutes before",
                    code_name(&s.service),
                    s.region.as_deref().map(|r| format!(" in {r}")).unwrap_or_default(),
                    code_name(&s.rule),
                    fmt_count(s.failures),
                    s.first_failure,
                    reg.first_bad,
                    short_time(&reg.after.first_failure),
                )
            }));
        }
        if let Some(rec) = &reg.recovered {
            because.push_str(&format!(
                " `{}` logged none of them after {} and served {} since: they stopped, though the logs do not show why.",
                reg.first_bad,
                rec.last_failure,
                counted(rec.requests_since, "request", "requests"),
            ));
        } else if let Some(fix) = reg.resolved_by.as_ref().filter(|_| !reg.rolled_back) {
            because.push_str(&format!(
                " The latest revision, `{}`, logged none of them in {} from {}: resolved.",
                fix.revision,
                counted(fix.entries, "entry", "entries"),
                short_time(&fix.first_seen),
            ));
            evidence.push(rate_line(fix));
        } else if let Some(back) = reg.resolved_by.as_ref().filter(|_| reg.rolled_back) {
            because.push_str(&format!(
                " `{}` served on until {} after `{}` went quiet at {}, with none of them: traffic went back to it, resolved.",
                back.revision,
                short_time(&back.last_seen),
                reg.first_bad,
                short_time(&reg.after.last_seen),
            ));
        }
        if shared {
            because.push_str(
                " Check next: the dependency they share: the database or Cloud SQL instance's state, connections and maintenance events (`gcloud sql instances list`, `gcloud sql operations list --instance=INSTANCE`), the upstream services they both call, and quotas; if it is healthy, the rollback below tests the deploy.",
            );
        }
        whys.push(Why {
            why: format!(
                "Why did these failures ({}) start at {}?",
                ids.iter()
                    .map(|i| format!("`{i}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                reg.switched_at
            ),
            because,
            established: !shared,
            evidence,
            rules: ids.iter().map(|s| s.to_string()).collect(),
        });
    }
    let answered_last = whys.last().is_none_or(|w| w.established);
    if whys.len() < MAX_WHYS && answered_last {
        let question = rule(a, &deepest.rule).map(|r| (r, vars(deepest).render(&r.why)));
        // A lone finding's question was asked (unanswered) first; after the deploy
        // step it would only repeat it.
        if let Some((r, why)) = question.filter(|(_, q)| whys.iter().all(|w| &w.why != q)) {
            whys.push(Why {
                why,
                because: format!(
                    "Not established by the logs. Check next: {}",
                    vars(deepest).render(&r.check_next)
                ),
                established: false,
                evidence: leads(out, deepest),
                rules: vec![deepest.rule.clone()],
            });
        }
    }
    whys.truncate(MAX_WHYS);
    out.five_whys = whys;
    out.actions = actions(a, out);
}

/// The places of a regression's shared onset, named once each: "`a` and `b` in
/// `europe-west1`".
pub fn shared_places(reg: &Regression) -> String {
    let mut names: Vec<String> = Vec::new();
    for s in &reg.shared_onset {
        let name = match (&s.region, s.service == reg.service) {
            (Some(r), true) => format!("{} in {}", code_name(&s.service), code_name(r)),
            _ => code_name(&s.service),
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// How many places [`shared_places`] names.
fn shared_count(reg: &Regression) -> usize {
    let set: BTreeSet<(&str, Option<&str>)> = reg
        .shared_onset
        .iter()
        .map(|s| (s.service.as_str(), s.region.as_deref()))
        .collect();
    set.len()
}

/// `s` with its first letter in lower case ("Revision `x` ..." inside a sentence).
fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn actions(a: &Analysis<'_>, out: &Outcome) -> Vec<Action> {
    let mut acts: Vec<Action> = Vec::new();
    // Rollbacks the logs do not back as the fix: after the rules' actions, conditional.
    let mut later: Vec<Action> = Vec::new();
    let mut seen = BTreeSet::new();
    for reg in out
        .regressions
        .iter()
        .filter(|r| r.resolved_by.is_none() && r.rollback)
    {
        // A split service's other regions are not this one's: no guess.
        let region = reg.region.clone().or_else(|| {
            a.regions
                .get(&reg.service)
                .filter(|_| !reg.split)
                .and_then(|s| s.iter().next().cloned())
        });
        // Where the name runs in several projects, say which.
        let several = a.projects.get(&reg.service).is_some_and(|p| p.len() > 1);
        let project = reg
            .project
            .as_deref()
            .filter(|_| several)
            .map(|p| format!(" --project={}", shell_word(p)))
            .unwrap_or_default();
        let cmd = region.as_ref().map(|r| {
            format!(
                "gcloud run services update-traffic {} --to-revisions={}=100 --region={}{project}",
                shell_word(&reg.service),
                shell_word(&reg.last_good),
                shell_word(r)
            )
        });
        // A rule's rollback action renders the same command without the project.
        seen.insert(cmd.clone());
        seen.insert(
            cmd.as_ref()
                .map(|c| c.trim_end_matches(&project).to_string()),
        );
        let in_where = match (&region, reg.split, project.is_empty()) {
            (Some(r), true, true) => format!(" in `{r}`"),
            (Some(r), true, false) => format!(
                " in `{r}`, project `{}`",
                reg.project.as_deref().unwrap_or_default()
            ),
            _ => String::new(),
        };
        let roll = format!(
            "roll `{}`{in_where} back to the last good revision `{}`",
            reg.service, reg.last_good
        );
        // The same failures began elsewhere with no deploy there, or they stopped on
        // the failing revision: the rollback is not shown to be the fix.
        // What to find out first, then the rollback as a conditional.
        let check_first = if !reg.shared_onset.is_empty() {
            Some((
                format!(
                    "Check the dependency that `{}` and {} share: the database or Cloud SQL instance's state, connections and maintenance, the upstream services they call, quotas (the same failures began on both at the same time, only `{}` deployed)",
                    reg.service,
                    shared_places(reg),
                    reg.service
                ),
                format!(
                    "If the dependency shared with {} is healthy, {roll}",
                    shared_places(reg)
                ),
            ))
        } else {
            reg.recovered.as_ref().map(|rec| {
                (
                    format!(
                        "Find out why the failures on `{}` stopped at {} without a rollback: the logs do not show it (a cold start that passed, a fix made outside the code, the failing calls no longer made)",
                        reg.first_bad, rec.last_failure
                    ),
                    format!("If the failures on `{}` come back, {roll}", reg.first_bad),
                )
            })
        };
        match check_first {
            Some((check, rollback)) => {
                acts.push(Action {
                    title: check,
                    command: None,
                    source: "regression".into(),
                });
                later.push(Action {
                    title: rollback,
                    command: cmd,
                    source: "regression".into(),
                });
            }
            None => acts.push(Action {
                title: format!("R{}", &roll[1..]),
                command: cmd,
                source: "regression".into(),
            }),
        }
    }
    // Refusals new with a revision that no finding on its service speaks of: the
    // logs show that they began, not why (where rules fired, their actions lead).
    let spoken_of = |svc: &str| {
        out.findings
            .iter()
            .any(|f| f.revisions.iter().any(|r| r.service == svc))
    };
    for f in out.most_requests_fail.iter().filter(|f| {
        f.high && f.failed_with == super::failing::FailedWith::Rejected && !spoken_of(&f.service)
    }) {
        acts.push(Action {
            title: format!(
                "Check the auth configuration and secrets of `{}` (revision `{}`) and its \
                 callers' credentials: {} of {} of its requests were refused with {}, \
                 which its other revisions did not answer so; the logs do not show why",
                f.service,
                f.revision,
                crate::text::fmt_count(f.failed),
                crate::text::fmt_count(f.requests),
                f.status_words()
            ),
            command: None,
            source: "most_requests_fail".into(),
        });
    }
    for f in &out.findings {
        let Some(r) = rule(a, &f.rule) else { continue };
        let v = Vars {
            a,
            f,
            reg: regression_for(out, f),
            service: None,
        };
        let runs = runs_on(a, &v);
        for t in &r.actions {
            let Some(title) = v.render_all(&t.title) else {
                continue;
            };
            let command = match &t.command {
                Some(c) => match v.render_command(c) {
                    Some(c) => fit_command(c, runs, &v),
                    None => continue,
                },
                None => None,
            };
            if command.is_some() && !seen.insert(command.clone()) {
                continue;
            }
            // Advice left without its command may repeat another rule's.
            if command.is_none() && acts.iter().any(|x| x.title == title) {
                continue;
            }
            acts.push(Action {
                title,
                command,
                source: f.rule.clone(),
            });
        }
    }
    acts.extend(later);
    acts
}

/// What runs a finding's service, for the commands its actions may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runs {
    /// A Cloud Run service (`cloud_run_revision`).
    Service,
    /// A Cloud Run job (`cloud_run_job`).
    Job,
    /// Anything else: GKE, App Engine, Cloud Functions, or not known.
    Other,
}

/// How the finding's revisions on the service its actions name are run.
fn runs_on(a: &Analysis<'_>, v: &Vars<'_>) -> Runs {
    let svc = v.service();
    let places: Vec<super::sink::Place> = v
        .on_service(svc.as_deref())
        .map(|r| super::sink::Place {
            service: r.service.clone(),
            revision: r.revision.clone(),
            region: r.region.clone().unwrap_or_default(),
            project: r.project.clone().unwrap_or_default(),
        })
        .collect();
    if places.iter().any(|p| a.run_revisions.contains(p)) {
        Runs::Service
    } else if places.iter().any(|p| a.run_jobs.contains(p)) {
        Runs::Job
    } else {
        Runs::Other
    }
}

/// A rule's rendered command as fits what runs the service. The packs' `gcloud run`
/// commands are written for Cloud Run services: on a GKE workload "gcloud run services
/// describe api" names a service that does not exist (review s27, fx/f7). A job's
/// `services describe` becomes `jobs describe`; any other `gcloud run` command that
/// does not fit is left out, and the action keeps its advice. A `--global` backend
/// service command names the region instead where the load balancer is regional.
fn fit_command(cmd: String, runs: Runs, v: &Vars<'_>) -> Option<String> {
    if cmd.starts_with("gcloud compute backend-services ") && cmd.ends_with(" --global") {
        // A regional load balancer's backend service is named with its region.
        return match v.get("region") {
            Some(r) if r != "global" => Some(format!(
                "{} --region={}",
                cmd.trim_end_matches(" --global"),
                shell_word(&r)
            )),
            _ => Some(cmd),
        };
    }
    if !cmd.starts_with("gcloud run ") || runs == Runs::Service {
        return Some(cmd);
    }
    if runs == Runs::Job {
        if cmd.starts_with("gcloud run jobs ") {
            return Some(cmd);
        }
        if cmd.starts_with("gcloud run services describe ") {
            return v.render_command("gcloud run jobs describe {service} --region={region}");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::outcome::{RevisionCount, Timeline, TraceJoin};

    fn finding(join: TraceJoin) -> Finding {
        Finding {
            rule: "R".into(),
            title: "t".into(),
            severity: "high".into(),
            kind: "symptom".into(),
            count: 3,
            first_seen: None,
            last_seen: None,
            revisions: Vec::new(),
            captures: Vec::new(),
            samples: Vec::new(),
            timeline: Timeline {
                onset: None,
                end: None,
                ongoing: false,
                under_way_at_start: false,
                threshold_met: None,
                before_threshold: 0,
                duration_secs: 0,
                pattern: "continuous".into(),
                active_buckets: 0,
                span_buckets: 0,
                counts: Vec::new(),
            },
            join: Some(join),
            filter: String::new(),
            filter_shortened: false,
            retried: None,
        }
    }

    /// A finding on retried job tasks says so in its evidence: how many of its
    /// matches, on how many tasks, and the severity it had before.
    #[test]
    fn matches_made_good_by_a_retry_are_said() {
        let mut f = finding(TraceJoin {
            failed_requests: 0,
            statuses: Vec::new(),
            traces: 0,
            estimated: false,
        });
        f.join = None;
        assert!(!evidence(&f, 60, |_| None)
            .iter()
            .any(|l| l.starts_with("retried")));
        f.retried = Some(super::super::outcome::RetriedTasks {
            matches: 1,
            tasks: 1,
            rule_severity: "high".into(),
        });
        let line =
            |f: &Finding| retried_line(f, f.retried.as_ref().unwrap_or_else(|| unreachable!()));
        assert_eq!(
            line(&f),
            "retried: 1 of the 3 matches was on attempts of 1 job task that failed and then succeeded on retry (a later attempt of the same task in the same execution logged `Container called exit(0).`), so it is not counted as a failure of its execution"
        );
        f.severity = "low".into();
        f.retried = Some(super::super::outcome::RetriedTasks {
            matches: 3,
            tasks: 2,
            rule_severity: "high".into(),
        });
        assert!(line(&f).starts_with("retried: all 3 matches were on attempts of 2 job tasks"));
        assert!(line(&f).ends_with(
            "so they are not counted as failures of their executions; severity lowered from high to low"
        ));
        assert!(evidence(&f, 60, |_| None).contains(&line(&f)));
    }

    fn on(f: Finding, revs: &[(&str, u64)]) -> Finding {
        Finding {
            revisions: revs
                .iter()
                .map(|(svc, n)| RevisionCount {
                    service: svc.to_string(),
                    revision: if svc.is_empty() {
                        String::new()
                    } else {
                        format!("{svc}-00001-abc")
                    },
                    region: None,
                    project: None,
                    count: *n,
                    first_seen: None,
                    last_seen: None,
                })
                .collect(),
            ..f
        }
    }

    /// A 5xx burst busiest on entries without a service, caused in service b: the
    /// question names b, not "<service>" nor the busiest service a.
    #[test]
    fn the_question_names_the_service_of_its_answer() {
        let join = || TraceJoin {
            failed_requests: 0,
            statuses: Vec::new(),
            traces: 0,
            estimated: false,
        };
        let effect = on(finding(join()), &[("", 12), ("a", 12), ("b", 11)]);
        let cause = on(finding(join()), &[("b", 11)]);
        assert_eq!(first_service(&effect).as_deref(), Some("a"));
        assert_eq!(question_scope(&effect, &cause).as_deref(), Some("b"));
        let elsewhere = on(finding(join()), &[("c", 3)]);
        assert_eq!(question_scope(&effect, &elsewhere), None);
        assert_eq!(first_service(&on(finding(join()), &[("", 4)])), None);
    }

    #[test]
    fn sampled_trace_join_is_said_to_be_approximate() {
        let join = |estimated| TraceJoin {
            failed_requests: 166_336,
            statuses: vec![(403, 166_336)],
            traces: 166_336,
            estimated,
        };
        let line = |e| {
            evidence(&finding(join(e)), 60, |_| None)
                .into_iter()
                .find(|l| l.contains("share a trace"))
        };
        assert_eq!(
            line(true).as_deref(),
            Some("about 166,336 failing requests (403 x166,336) share a trace with these entries")
        );
        assert_eq!(
            line(false).as_deref(),
            Some("166,336 failing requests (403 x166,336) share a trace with these entries")
        );
    }
}
