//! Markdown in the shape of the seed write-ups: status, impact, Five Whys, working
//! vs broken, timeline, findings, unknown failures, evidence, actions.

use super::model::Report;
use super::sanitize;
use crate::analyze::{self, Outcome};
use crate::text::{
    and_more, counted as counted_noun, distinct, fmt_count, fmt_span as dur, join_more, NO_NAME,
};
use std::io::{self, Write};

/// Said after the duplicate count when the de-duplication set ran out of room.
pub(crate) const DEDUP_NOT_EXACT: &str =
    " (de-duplication ran out of room: totals may include repeats)";

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Characters of a timeline's sparkline.
const SPARK_WIDTH: usize = 40;

/// A compact text sparkline, at most `width` characters: past that, each character sums
/// `ceil(len / width)` buckets.
pub fn sparkline(counts: &[u64], width: usize) -> String {
    if counts.is_empty() {
        return String::new();
    }
    let per = counts.len().div_ceil(width.max(1));
    let merged: Vec<u64> = counts.chunks(per).map(|c| c.iter().sum()).collect();
    let max = merged.iter().copied().max().unwrap_or(0).max(1);
    merged
        .iter()
        .map(|&v| {
            if v == 0 {
                ' '
            } else {
                SPARK[((v * 7).div_ceil(max)) as usize].min('█')
            }
        })
        .collect()
}

fn cell(s: &str) -> String {
    sanitize(s).replace('|', "\\|")
}

fn code(s: &str) -> String {
    if s.is_empty() {
        return NO_NAME.into();
    }
    format!("`{}`", sanitize(s).replace('`', "'"))
}

/// [`code`] in a table cell: GitHub ends a cell at a `|` even inside a code span.
fn code_cell(s: &str) -> String {
    code(s).replace('|', "\\|")
}

/// Text holding log values, as a line of Markdown prose: outside code spans `[`, `]`,
/// `<` and `>` are escaped, so a message cannot render as a link, an image or HTML,
/// and `*` and `\\`, so a service named `a*x*` (or `a\\*x\\*`) does not turn italic.
/// With an odd number of backticks no span is trusted and everything is escaped.
fn prose(s: &str) -> String {
    let s = sanitize(s);
    let spans_ok = s.matches('`').count() % 2 == 0;
    let mut out = String::with_capacity(s.len() + 8);
    let mut in_code = false;
    for c in s.chars() {
        match c {
            '`' if spans_ok => {
                in_code = !in_code;
                out.push(c);
            }
            '[' | ']' | '*' | '\\' if !in_code => {
                out.push('\\');
                out.push(c);
            }
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// A service cell: the name, or [`NO_NAME`].
fn service_cell(s: &str) -> String {
    if s.is_empty() {
        NO_NAME.into()
    } else {
        cell(s)
    }
}

/// A revision's name in code, with where it ran when its name runs in several
/// places: "`shop-abc123` (europe-west1)". Not escaped for a table cell.
fn revision_at(
    o: &Outcome,
    service: &str,
    revision: &str,
    region: &Option<String>,
    project: &Option<String>,
) -> String {
    match o.place_note(service, revision, region.as_deref(), project.as_deref()) {
        Some(at) => format!("{} ({})", code(revision), prose(&at)),
        None => code(revision),
    }
}

/// The revision's name, or the service's where there is no revision (a load
/// balancer's backend service): "(none)" would hide where the failures were.
fn revision_or_service<'a>(service: &'a str, revision: &'a str) -> &'a str {
    if revision.is_empty() {
        service
    } else {
        revision
    }
}

/// "`a` (3), `b` (1)": code-formatted names with counts.
fn counted<'a>(items: impl Iterator<Item = (&'a str, u64)>) -> String {
    items
        .map(|(name, n)| format!("{} ({})", code(name), fmt_count(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many distinct values a capture had: "12 distinct", or past the sample cap
/// "about 4,999 distinct; top values of a sample" (the most frequent may be missing).
fn capture_about(c: &analyze::CaptureSummary) -> String {
    let mut s = distinct(c.distinct, c.estimated);
    if c.estimated {
        s.push_str("; top values of a sample");
    }
    s
}

/// A capture's top values with their counts, and how many more there were.
fn capture_values(c: &analyze::CaptureSummary) -> String {
    let more = c.distinct.saturating_sub(c.top.len() as u64);
    counted(c.top.iter().map(|v| (v.value.as_str(), v.count))) + &and_more(more, c.estimated)
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

/// "Window A → B (UTC)", or what stands for it when no entry had a usable time.
pub(super) fn window_text(w: &super::Window) -> String {
    match (&w.start, &w.end) {
        (None, None) => "No time window (no entry with a usable timestamp)".to_string(),
        (start, end) => format!("Window {} → {} (UTC)", opt(start), opt(end)),
    }
}

fn level_badge(level: &str) -> &'static str {
    match level {
        "critical" => "🔴 CRITICAL",
        "high" => "🟠 HIGH",
        "medium" => "🟡 MEDIUM",
        "low" => "🔵 LOW",
        _ => "🟢 OK",
    }
}

/// Writes the Markdown report.
pub fn write(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let o = &r.outcome;
    // The findings' services first: a load balancer backend failing beside a working
    // Cloud Run service is what the report is about (review s27, fx/f1).
    let services: Vec<&str> = {
        let mut s: Vec<&str> = Vec::new();
        let named = o
            .findings
            .iter()
            .flat_map(|f| &f.revisions)
            .map(|x| &x.service);
        for name in named.chain(o.revisions.iter().map(|x| &x.service)) {
            if !name.is_empty() && !s.contains(&name.as_str()) {
                s.push(name);
            }
        }
        s
    };
    let title = if services.is_empty() {
        "logs".to_string()
    } else {
        services.join(", ")
    };
    // Not table cells: an escaped `|` would show its backslash inside a code span.
    writeln!(w, "# Incident report: {}\n", prose(&title))?;
    writeln!(
        w,
        "**Status:** {} — {}\n",
        if r.input.entries == 0 {
            "⚪ NO DATA"
        } else {
            level_badge(&r.status.level)
        },
        prose(&r.status.headline)
    )?;
    let i = &r.input;
    writeln!(
        w,
        "_{} · {} from {} input{} · skipped: {} malformed, {} too large · {} dropped{}{}_\n",
        window_text(&r.window),
        counted_noun(i.entries, "entry", "entries"),
        i.files,
        if i.files == 1 { "" } else { "s" },
        fmt_count(i.malformed),
        fmt_count(i.too_large),
        counted_noun(i.duplicates, "duplicate", "duplicates"),
        if i.dedup_exact { "" } else { DEDUP_NOT_EXACT },
        i.notes(" · "),
    )?;
    if i.app_requests_left_out > 0 {
        writeln!(
            w,
            "_{} the app wrote itself {} not counted as requests: Cloud Run's own request log has the same requests._\n",
            counted_noun(i.app_requests_left_out, "request log", "request logs"),
            if i.app_requests_left_out == 1 { "is" } else { "are" }
        )?;
    }
    if i.lb_requests_left_out > 0 {
        writeln!(
            w,
            "_{} {} not counted as requests: the service behind the load balancer (Cloud Run's request log) logged the same requests, with the same traces._\n",
            counted_noun(i.lb_requests_left_out, "load balancer request log", "load balancer request logs"),
            if i.lb_requests_left_out == 1 { "is" } else { "are" }
        )?;
    }
    impact(r, w)?;
    whys(r, w)?;
    revisions(r, w)?;
    timeline(r, w)?;
    findings(r, w)?;
    unknown(r, w)?;
    evidence(r, w)?;
    actions(r, w)?;
    writeln!(
        w,
        "---\n_Generated by {} with {} rules from the logs alone: every \"because\" above cites entries; where the logs stop, the report says what to check._",
        r.generator, r.rules_loaded
    )?;
    Ok(())
}

fn impact(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let o = &r.outcome;
    writeln!(w, "## Impact\n")?;
    if o.findings.is_empty() {
        writeln!(w, "No rule reached its threshold.")?;
        if !o.below_threshold.is_empty() {
            let b = counted(o.below_threshold.iter().map(|b| (b.rule.as_str(), b.count)));
            writeln!(
                w,
                "Matched but below threshold (not reported as findings): {b}."
            )?;
        }
        writeln!(w)?;
    }
    for f in &o.findings {
        writeln!(
            w,
            "- **{}** {}: {}{}{}",
            f.severity.to_uppercase(),
            code(&f.rule),
            counted_noun(f.count, "match", "matches"),
            f.join.as_ref().map_or(String::new(), |j| format!(
                ", tied by trace to {}{}",
                if j.estimated { "about " } else { "" },
                counted_noun(j.failed_requests, "failing request", "failing requests")
            )),
            f.retried.as_ref().map_or(String::new(), |r| {
                let tasks = format!(
                    "{} that failed and then succeeded on retry",
                    counted_noun(r.tasks, "job task", "job tasks")
                );
                let lowered = match r.rule_severity != f.severity {
                    true => format!(" (rule severity {})", r.rule_severity),
                    false => String::new(),
                };
                if r.matches >= f.count {
                    format!(", all on {tasks}{lowered}")
                } else {
                    format!(", {} of them on {tasks}{lowered}", fmt_count(r.matches))
                }
            })
        )?;
    }
    for f in &o.findings {
        for c in f.captures.iter().filter(|c| is_caller(&c.name)) {
            if !c.top.is_empty() {
                writeln!(
                    w,
                    "- Affected {} ({}, {}): {}",
                    cell(&c.name),
                    capture_about(c),
                    code(&f.rule),
                    capture_values(c)
                )?;
            }
        }
    }
    if !o.impact.is_empty() {
        writeln!(w, "\n| service | revision | requests | failed | share | status mix | latency p50 / p95 / p99 (upper bounds) |")?;
        writeln!(w, "|---|---|--:|--:|--:|---|---|")?;
        for m in &o.impact {
            let mix: Vec<String> = m
                .statuses
                .iter()
                .take(4)
                .map(|(s, n)| format!("{s}: {}", fmt_count(*n)))
                .collect();
            let lat = m.latency.map_or("-".into(), |l| {
                format!("{:.3}s / {:.3}s / {:.3}s", l[0], l[1], l[2])
            });
            writeln!(
                w,
                "| {} | {} | {} | {} | {:.1}% | {} | {} |",
                service_cell(&m.service),
                revision_at(o, &m.service, &m.revision, &m.region, &m.project).replace('|', "\\|"),
                fmt_count(m.requests),
                fmt_count(m.failed),
                m.failure_share * 100.0,
                join_more(&mix, m.statuses.len()),
                lat
            )?;
        }
        let mut eps: Vec<(&analyze::Impact, &str, u64)> = o
            .impact
            .iter()
            .flat_map(|m| m.top_failing.iter().map(move |(e, n)| (m, e.as_str(), *n)))
            .collect();
        eps.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(b.1)));
        if !eps.is_empty() {
            writeln!(w, "\nMost failing endpoints:\n")?;
            for (m, e, n) in eps.iter().take(5) {
                writeln!(
                    w,
                    "- {} — {} failed on {}",
                    code(e),
                    fmt_count(*n),
                    match m.revision.is_empty() {
                        // A load balancer's backend has no revision: its name says where.
                        true => code(&m.service),
                        false => revision_at(o, &m.service, &m.revision, &m.region, &m.project),
                    }
                )?;
            }
        }
    }
    writeln!(w)
}

/// Captures that name who was affected (users, callers), as opposed to what failed.
fn is_caller(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "user"
            | "user_id"
            | "caller"
            | "principal"
            | "client_id"
            | "service_id"
            | "email"
            | "remote_ip"
    ) || n.ends_with("_user_id")
}

fn whys(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let o = &r.outcome;
    if o.five_whys.is_empty() {
        return Ok(());
    }
    writeln!(w, "## Five Whys\n")?;
    for (n, y) in o.five_whys.iter().enumerate() {
        writeln!(w, "{}. **{}**  ", n + 1, prose(&y.why))?;
        let mark = if y.established { "→" } else { "→ ❓" };
        writeln!(w, "   {mark} {}", prose(&y.because))?;
        for e in &y.evidence {
            writeln!(w, "   - {}", prose(e))?;
        }
    }
    writeln!(w)
}

/// What most of a regression's first bad revision's requests failed with, as the
/// analysis found: 5xx, or the 401 or 403 new with it.
fn failed_with(o: &Outcome, g: &analyze::Regression) -> String {
    let refused = o.most_requests_fail.iter().find(|f| {
        f.failed_with == analyze::FailedWith::Rejected
            && f.service == g.service
            && f.revision == g.first_bad
            && g.is_at_place(f.region.as_deref(), f.project.as_deref())
    });
    refused.map_or_else(|| "5xx".to_string(), analyze::MostlyFailing::status_words)
}

fn revisions(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let o = &r.outcome;
    if o.revisions.is_empty() {
        return Ok(());
    }
    writeln!(w, "## Working vs broken\n")?;
    for g in &o.regressions {
        if g.split {
            // The service name runs in several places: say which one this is.
            let at = match (&g.region, &g.project) {
                (Some(r), Some(p)) => format!(" in {}, project {}", code(r), code(p)),
                (Some(r), None) => format!(" in {}", code(r)),
                (None, Some(p)) => format!(" in project {}", code(p)),
                (None, None) => " where the logs do not say".to_string(),
            };
            writeln!(
                w,
                "- 📍 **{}**{at}, compared with its revisions there only:",
                prose(&g.service),
            )?;
        }
        writeln!(
            w,
            "- ✅ **Working until {}**: {} of {} failing over {} ({} .. {}).",
            code(&g.last_good),
            fmt_count(g.before.failures),
            counted_noun(g.before.entries, "entry", "entries"),
            dur(g.before.span_secs),
            opt(&g.before.first_seen),
            opt(&g.before.last_seen)
        )?;
        writeln!(
            w,
            "- ❌ **Broken since {}** (switch at {}, from the {}): {} of {} failing ({:.1}%) from {}; rules: {}.",
            code(&g.first_bad),
            g.switched_at,
            g.switch_source,
            fmt_count(g.after.failures),
            counted_noun(g.after.entries, "entry", "entries"),
            g.after.rate * 100.0,
            opt(&g.after.first_failure),
            if g.rules.is_empty() {
                format!("none; most of its requests failed with {}", failed_with(o, g))
            } else {
                g.rules.iter().map(|x| code(x)).collect::<Vec<_>>().join(", ")
            }
        )?;
        if !g.shared_onset.is_empty() {
            let seen: Vec<String> = g
                .shared_onset
                .iter()
                .map(|s| {
                    format!(
                        "{} x{} on {}{} from {}",
                        code(&s.rule),
                        fmt_count(s.failures),
                        code(&s.service),
                        s.region
                            .as_deref()
                            .map(|r| format!(" in {}", code(r)))
                            .unwrap_or_default(),
                        s.first_failure
                    )
                })
                .collect();
            writeln!(
                w,
                "- ⚠️ **The same failures began at the same time on {}**, which {} not deployed then ({}): a shared dependency is more likely than this deploy; the logs do not establish which. Check the dependency before taking the rollback below.",
                prose(&crate::analyze::shared_places(g)),
                if seen.len() == 1 { "was" } else { "were" },
                prose(&seen.join("; ")),
            )?;
        }
        if let Some(rec) = &g.recovered {
            writeln!(
                w,
                "- ⚠️ **Failures stopped on {}** at {}; it served {} since without them. The logs do not show why (a cold start that passed, a fix made outside the code, or the failing calls no longer made): check that before taking the rollback below.",
                code(&g.first_bad),
                rec.last_failure,
                counted_noun(rec.requests_since, "request", "requests"),
            )?;
        } else if let Some(fix) = g.resolved_by.as_ref().filter(|_| g.rolled_back) {
            writeln!(
                w,
                "- ✅ **Resolved: traffic went back to {}**{}, which served on until {}, after {}'s last entry at {}, with {} of its entries failing; no rollback needed.",
                code(&fix.revision),
                if fix.revision == g.last_good {
                    String::new()
                } else {
                    format!(" (a working revision from before {})", code(&g.last_good))
                },
                opt(&fix.last_seen),
                code(&g.first_bad),
                opt(&g.after.last_seen),
                fmt_count(fix.failures),
            )?;
        } else if let Some(fix) = &g.resolved_by {
            writeln!(
                w,
                "- ✅ **Resolved by {}**, the latest revision: {} of {} failing over {} ({} .. {}); no rollback needed.",
                code(&fix.revision),
                fmt_count(fix.failures),
                counted_noun(fix.entries, "entry", "entries"),
                dur(fix.span_secs),
                opt(&fix.first_seen),
                opt(&fix.last_seen)
            )?;
        }
    }
    if o.regressions.is_empty() {
        writeln!(
            w,
            "No regression: no revision switch lines up with a change in the rate of finding matches.\n"
        )?;
    } else {
        writeln!(w)?;
    }
    writeln!(w, "| service | revision | first seen | last seen | entries | errors | finding matches | requests failed | verdict |")?;
    writeln!(w, "|---|---|---|---|--:|--:|--:|--:|---|")?;
    for v in &o.revisions {
        let mark = match v.verdict.as_str() {
            "working" => "✅ working",
            "broken" => "❌ broken",
            "recovered" => "⚠️ recovered",
            _ => "❔ unknown",
        };
        // Flaky tasks of a job execution: said, not counted as failures.
        let mark = match v.retried_tasks {
            0 => mark.to_string(),
            n => format!(
                "{mark} ({} task{} succeeded on retry)",
                fmt_count(n),
                if n == 1 { "" } else { "s" }
            ),
        };
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} | {} / {} | {} |",
            service_cell(&v.service),
            revision_at(o, &v.service, &v.revision, &v.region, &v.project).replace('|', "\\|"),
            opt(&v.first_seen),
            opt(&v.last_seen),
            fmt_count(v.entries),
            fmt_count(v.errors),
            fmt_count(v.findings),
            fmt_count(v.failed_requests),
            fmt_count(v.requests),
            mark
        )?;
    }
    writeln!(w)
}

fn timeline(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let o = &r.outcome;
    if o.findings.is_empty() {
        return Ok(());
    }
    writeln!(w, "## Timeline\n")?;
    writeln!(
        w,
        "Bucket: {}. Each sparkline spans the finding's onset to its end.\n",
        dur(o.bucket_secs)
    )?;
    writeln!(
        w,
        "| rule | onset | end | duration | pattern | per bucket |"
    )?;
    writeln!(w, "|---|---|---|---|---|---|")?;
    for f in &o.findings {
        let t = &f.timeline;
        let onset = if t.under_way_at_start {
            format!("before {} (the logs' start)", opt(&t.onset))
        } else {
            opt(&t.onset).to_string()
        };
        let end = if t.ongoing && r.input.after_until > 0 {
            format!("at the window's end ({})", opt(&t.end))
        } else if t.ongoing {
            format!("ongoing ({})", opt(&t.end))
        } else {
            opt(&t.end).to_string()
        };
        // One match has no duration or pattern; matches in one bucket no pattern.
        let (span, pattern) = match (f.count, t.span_buckets) {
            (1, _) => ("-".to_string(), "a single match".to_string()),
            (_, 1) => (dur(t.duration_secs), "within one bucket".to_string()),
            (_, n) => (
                dur(t.duration_secs),
                format!("{} ({}/{n} buckets)", t.pattern, t.active_buckets),
            ),
        };
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | `{}`{} |",
            code_cell(&f.rule),
            onset,
            end,
            span,
            pattern,
            sparkline(&t.counts, SPARK_WIDTH),
            // Squeezed to fit: each character then sums several buckets, so sparse
            // bursts can read as a solid line.
            match t.counts.len().div_ceil(SPARK_WIDTH) {
                n if n > 1 => format!(" (up to {n} buckets a character)"),
                _ => String::new(),
            }
        )?;
    }
    for (at, svc, method) in &o.deploys {
        writeln!(w, "\nDeploy: {at} {} {}", code(svc), code(method))?;
    }
    writeln!(w)
}

fn findings(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let o = &r.outcome;
    if o.findings.is_empty() {
        return Ok(());
    }
    writeln!(w, "## Findings\n")?;
    writeln!(
        w,
        "| severity | rule | what | matches | first seen | last seen | revisions |"
    )?;
    writeln!(w, "|---|---|---|--:|---|---|---|")?;
    for f in &o.findings {
        let shown: Vec<String> = f
            .revisions
            .iter()
            .take(3)
            .map(|r| {
                let at = o.place_note(
                    &r.service,
                    &r.revision,
                    r.region.as_deref(),
                    r.project.as_deref(),
                );
                match at {
                    Some(at) => {
                        let (rev, n) = (code(&r.revision), fmt_count(r.count));
                        format!("{rev} in {} ({n})", prose(&at))
                    }
                    None => format!(
                        "{} ({})",
                        code(revision_or_service(&r.service, &r.revision)),
                        fmt_count(r.count)
                    ),
                }
            })
            .collect();
        let revs = join_more(&shown, f.revisions.len()).replace('|', "\\|");
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} |",
            f.severity,
            code_cell(&f.rule),
            cell(&f.title),
            fmt_count(f.count),
            opt(&f.first_seen),
            opt(&f.last_seen),
            revs
        )?;
    }
    if !o.below_threshold.is_empty() {
        let b = counted(o.below_threshold.iter().map(|b| (b.rule.as_str(), b.count)));
        writeln!(
            w,
            "\nMatched but below threshold (not reported as findings): {b}."
        )?;
    }
    writeln!(w)
}

fn unknown(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let o = &r.outcome;
    if o.unknown.is_empty() {
        return Ok(());
    }
    writeln!(w, "## Unknown failures\n")?;
    writeln!(w, "Errors no rule matched, grouped by message template ({} distinct). Leads for what the rules do not know yet.\n", o.unknown_distinct)?;
    writeln!(w, "| count | template | revisions | note |")?;
    writeln!(w, "|--:|---|---|---|")?;
    for u in &o.unknown {
        let mut notes = Vec::new();
        if u.only_in_failing_revision {
            notes.push(if u.revisions.len() == 1 {
                "only in a failing revision"
            } else {
                "only in failing revisions"
            });
        }
        if u.only_after_onset {
            notes.push("only after onset");
        }
        let mut tpl: String = u.template.chars().take(160).collect();
        if tpl.len() < u.template.len() {
            tpl.push('…');
        }
        writeln!(
            w,
            "| {} | {} | {} | {} |",
            fmt_count(u.count),
            code_cell(&tpl),
            join_more(
                &u.revisions
                    .iter()
                    .take(3)
                    .map(|x| code_cell(x))
                    .collect::<Vec<_>>(),
                u.revisions.len()
            ),
            notes.join(", ")
        )?;
    }
    if o.unknown_distinct > o.unknown.len() {
        let more = (o.unknown_distinct - o.unknown.len()) as u64;
        writeln!(
            w,
            "\nAnd {} more {}, each with fewer entries.",
            fmt_count(more),
            crate::text::plural(more, "template", "templates")
        )?;
    }
    writeln!(w)
}

fn evidence(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let o = &r.outcome;
    if o.findings.is_empty() {
        return Ok(());
    }
    writeln!(w, "## Evidence\n")?;
    for f in &o.findings {
        writeln!(w, "### {} — {}\n", code(&f.rule), cell(&f.title))?;
        for c in &f.captures {
            if !c.top.is_empty() {
                writeln!(
                    w,
                    "- {} ({}): {}",
                    cell(&c.name),
                    capture_about(c),
                    capture_values(c)
                )?;
            }
        }
        if !f.samples.is_empty() {
            writeln!(w, "\nSample entries:\n\n```text")?;
            for s in &f.samples {
                // Already an excerpt holding the match, bounded by the analysis.
                let msg = sanitize(&s.message);
                writeln!(
                    w,
                    "{} {} insertId={} trace={}\n  {}",
                    opt(&s.timestamp),
                    s.severity,
                    sanitize(&s.insert_id),
                    if s.trace.is_empty() {
                        "-".into()
                    } else {
                        sanitize(&s.trace)
                    },
                    msg.replace("```", "'''")
                )?;
            }
            writeln!(w, "```")?;
        }
        writeln!(
            w,
            "\nReproduce{}:\n\n```sh\ngcloud logging read '{}' --format=json\n```\n",
            if f.filter_shortened {
                " (a shortened filter: it also fetches entries the rule does not match)"
            } else {
                ""
            },
            f.filter.replace('\'', "'\\''")
        )?;
    }
    Ok(())
}

fn actions(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let o = &r.outcome;
    if o.actions.is_empty() {
        return Ok(());
    }
    writeln!(w, "## Recommended actions\n")?;
    for (n, a) in o.actions.iter().enumerate() {
        writeln!(w, "{}. {} _({})_", n + 1, prose(&a.title), a.source)?;
        if let Some(c) = &a.command {
            writeln!(w, "\n   ```sh\n   {}\n   ```\n", sanitize(c))?;
        }
    }
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_escapes_what_would_render() {
        assert_eq!(prose("api|v2*x*"), r"api|v2\*x\*");
        // A backslash of its own would escape the `*` escape.
        assert_eq!(prose(r"pay\*ment\*"), r"pay\\\*ment\\\*");
        assert_eq!(prose("[a](b) <i>"), r"\[a\](b) &lt;i&gt;");
        // Inside a code span nothing is escaped.
        assert_eq!(prose("`a*b\\c`"), "`a*b\\c`");
    }

    /// A report of the service-auth sample, with dedup and trace-join caps hit.
    fn capped_report() -> Report {
        use crate::analyze::Analysis;
        use crate::entry::Entry;
        use crate::pipeline::{ScanTotals, Sink};
        let rules = crate::rules::load(&crate::rules::LoadOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/samples/service-auth-regression.json"
        );
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
        let records: Vec<&serde_json::value::RawValue> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        let mut a = Analysis::new(&rules, 60);
        for rec in records {
            a.entry(&Entry::parse(rec.get()).unwrap_or_else(|e| panic!("{e}")));
        }
        a.done();
        let totals = ScanTotals {
            dedup_saturated: true,
            ..ScanTotals::default()
        };
        let facts = super::super::InputFacts {
            totals: &totals,
            files: 1,
            bytes: 0,
            unreadable: 0,
        };
        let mut r = super::super::build(&a, None, &facts);
        for f in &mut r.outcome.findings {
            if let Some(j) = f.join.as_mut() {
                j.estimated = true;
            }
        }
        r
    }

    #[test]
    fn caps_are_said() {
        let r = capped_report();
        let mut md = Vec::new();
        write(&r, &mut md).unwrap_or_else(|e| panic!("{e}"));
        let md = String::from_utf8_lossy(&md);
        assert!(md.contains(DEDUP_NOT_EXACT), "{md}");
        assert!(md.contains("tied by trace to about "), "{md}");
        let mut table = Vec::new();
        super::super::table::write(&r, &mut table, None).unwrap_or_else(|e| panic!("{e}"));
        assert!(String::from_utf8_lossy(&table).contains(DEDUP_NOT_EXACT));
    }

    /// Request logs of a resource with no service or revision: their rows, endpoints
    /// and evidence name "(none)", not an empty code span (two literal backticks).
    #[test]
    fn entries_without_a_place_show_none() {
        use crate::analyze::Analysis;
        use crate::entry::Entry;
        use crate::pipeline::{ScanTotals, Sink};
        let rules = crate::rules::load(&crate::rules::LoadOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut a = Analysis::new(&rules, 60);
        for i in 0..12 {
            let rec = format!(
                r#"{{"httpRequest":{{"requestMethod":"GET","requestUrl":"https://example.com/","status":500}},"insertId":"id{i}","resource":{{"type":"global"}},"severity":"ERROR","timestamp":"2025-09-15T06:00:{i:02}Z"}}"#
            );
            a.entry(&Entry::parse(&rec).unwrap_or_else(|e| panic!("{e}")));
        }
        a.done();
        let totals = ScanTotals::default();
        let facts = super::super::InputFacts {
            totals: &totals,
            files: 1,
            bytes: 0,
            unreadable: 0,
        };
        let r = super::super::build(&a, None, &facts);
        let mut md = Vec::new();
        write(&r, &mut md).unwrap_or_else(|e| panic!("{e}"));
        let md = String::from_utf8_lossy(&md);
        assert!(md.contains("12 failed on (none)"), "{md}");
        // No service is known: the question says so in words, with no `<service>`
        // left from the template (review s27).
        assert!(
            md.contains("Why does the service answer with 5xx errors?"),
            "{md}"
        );
        assert!(!md.contains("&lt;service&gt;"), "{md}");
        assert!(md.contains("| (none) | (none) | 12 | 12 |"), "{md}");
        let stray = md
            .lines()
            .filter(|l| !l.starts_with("```"))
            .any(|l| l.contains("``"));
        assert!(!stray, "{md}");
    }

    #[test]
    fn sparklines() {
        assert_eq!(sparkline(&[], 10), "");
        assert_eq!(sparkline(&[0, 1, 7], 10), " ▂█");
        assert_eq!(sparkline(&[5; 100], 10).chars().count(), 10);
    }
}
