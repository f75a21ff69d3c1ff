//! A compact terminal summary: findings x revisions with counts and first/last seen.

use super::model::Report;
use super::{fmt_count, sanitize};
use crate::text::counted;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, ContentArrangement, Table};
use std::io::{self, Write};

/// A revision's name, with where it ran when the name runs in several places.
fn revision_at(
    o: &crate::analyze::Outcome,
    service: &str,
    revision: &str,
    region: &Option<String>,
    project: &Option<String>,
) -> String {
    match o.place_note(service, revision, region.as_deref(), project.as_deref()) {
        Some(at) => sanitize(&format!("{revision} ({at})")).into_owned(),
        None => sanitize(revision).into_owned(),
    }
}

/// Narrowest width tables are fitted to: below it columns wrap to a letter or two.
const MIN_WIDTH: u16 = 40;

/// The width to fit tables to on standard output: `COLUMNS` when set, else the
/// terminal's when stdout is one, else none (piped output keeps whole lines).
pub fn stdout_width() -> Option<u16> {
    use std::io::IsTerminal;
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|&c| c > 0);
    columns
        .or_else(|| {
            io::stdout()
                .is_terminal()
                .then(|| Table::new().width())
                .flatten()
        })
        .map(|c| c.max(MIN_WIDTH))
}

/// A table in the report's style, fitted to `width` (columns wrap) when given.
fn new_table(width: Option<u16>) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    if let Some(cols) = width {
        t.set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(cols);
    }
    t
}

/// Writes the table summary, its tables at most `width` columns wide when given.
pub fn write(r: &Report, w: &mut dyn Write, width: Option<u16>) -> io::Result<()> {
    let o = &r.outcome;
    writeln!(
        w,
        "{}: {}",
        if r.input.entries == 0 {
            "NO DATA".to_string()
        } else {
            r.status.level.to_uppercase()
        },
        // The headline's code spans are for Markdown; a terminal shows the names bare.
        sanitize(&r.status.headline).replace('`', "")
    )?;
    let i = &r.input;
    writeln!(
        w,
        "{}, skipped: {} malformed, {} too large, {} dropped{}{}, {}\n",
        counted(i.entries, "entry", "entries"),
        fmt_count(i.malformed),
        fmt_count(i.too_large),
        counted(i.duplicates, "duplicate", "duplicates"),
        if i.dedup_exact {
            ""
        } else {
            super::markdown::DEDUP_NOT_EXACT
        },
        i.notes(", "),
        match (&r.window.start, &r.window.end) {
            (None, None) => "no time window (no entry with a usable timestamp)".to_string(),
            (start, end) => format!(
                "window {} .. {} UTC",
                start.as_deref().unwrap_or("-"),
                end.as_deref().unwrap_or("-")
            ),
        }
    )?;
    if !o.findings.is_empty() {
        let mut t = new_table(width);
        t.set_header(vec![
            "severity",
            "rule",
            "revision",
            "matches",
            "first seen",
            "last seen",
        ]);
        for f in &o.findings {
            for rc in &f.revisions {
                t.add_row(vec![
                    Cell::new(&f.severity),
                    Cell::new(&f.rule),
                    Cell::new(revision_at(
                        o,
                        &rc.service,
                        &rc.revision,
                        &rc.region,
                        &rc.project,
                    )),
                    Cell::new(fmt_count(rc.count)).set_alignment(CellAlignment::Right),
                    // The revision's own span, not the finding's.
                    Cell::new(rc.first_seen.as_deref().unwrap_or("-")),
                    Cell::new(rc.last_seen.as_deref().unwrap_or("-")),
                ]);
            }
        }
        writeln!(w, "{t}\n")?;
    }
    if !o.revisions.is_empty() {
        let mut t = new_table(width);
        t.set_header(vec![
            "service", "revision", "entries", "errors", "matches", "verdict",
        ]);
        for v in &o.revisions {
            t.add_row(vec![
                Cell::new(sanitize(&v.service)),
                Cell::new(revision_at(
                    o,
                    &v.service,
                    &v.revision,
                    &v.region,
                    &v.project,
                )),
                Cell::new(fmt_count(v.entries)).set_alignment(CellAlignment::Right),
                Cell::new(fmt_count(v.errors)).set_alignment(CellAlignment::Right),
                Cell::new(fmt_count(v.findings)).set_alignment(CellAlignment::Right),
                Cell::new(&v.verdict),
            ]);
        }
        writeln!(w, "{t}")?;
    }
    for g in &o.regressions {
        writeln!(
            w,
            "\nregression: {}{} working until {}, broken since {} (switch {}){}{}",
            sanitize(&g.service),
            // A service name in several places: which one this is.
            match (g.split, &g.region) {
                (true, Some(r)) => format!(" in {}", sanitize(r)),
                (true, None) => " (region unknown)".to_string(),
                _ => String::new(),
            },
            g.last_good,
            g.first_bad,
            g.switched_at,
            match (&g.resolved_by, g.rolled_back, &g.recovered) {
                (_, _, Some(rec)) => format!(", its failures stopped at {}", rec.last_failure),
                (Some(f), true, None) => format!(", resolved: traffic back on {}", f.revision),
                (Some(f), false, None) => format!(", resolved by {}", f.revision),
                (None, _, None) => String::new(),
            },
            // Not the deploy's, as far as the logs show: said beside it.
            if g.shared_onset.is_empty() {
                String::new()
            } else {
                let places: std::collections::BTreeSet<&str> =
                    g.shared_onset.iter().map(|s| s.service.as_str()).collect();
                format!(
                    ", but the same failures began at the same time on {} without a deploy",
                    sanitize(&places.into_iter().collect::<Vec<_>>().join(", "))
                )
            }
        )?;
    }
    Ok(())
}
