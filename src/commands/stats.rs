//! `logtriage stats`: what the logs hold, as tables or stable JSON.

use crate::analyze::Counts;
use crate::cli::{StatsArgs, StatsFormat};
use crate::diag::Diag;
use crate::entry::Timestamp;
use crate::output::Output;
use crate::pipeline::{ScanTotals, DEDUP_CAPACITY};
use anyhow::{Context, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::io::Write;

/// Runs `stats`; returns the exit code.
pub fn run(args: &StatsArgs, threads: usize, diag: &Diag) -> Result<i32> {
    super::scan::refuse_output_over_input(args.output.as_deref(), &args.input)?;
    let mut out = Output::open(args.output.as_deref())?;
    let scanned = super::scan::run(&args.input, threads, diag, Counts::default)?;
    if !super::scan::keep_output(&scanned, &out, diag) {
        out.discard();
        return Ok(2);
    }
    let counts = &scanned.scan.sink;
    let totals = &scanned.scan.totals;
    let to = out.name();
    let written: Result<()> = (|| {
        match args.format {
            StatsFormat::Json => {
                let input = Input {
                    files: scanned.sources.len(),
                    bytes: scanned.bytes,
                    unreadable: scanned.unreadable,
                };
                let v = to_json(counts, totals, &input);
                serde_json::to_writer_pretty(&mut out, &v)?;
                writeln!(out)?;
            }
            StatsFormat::Table => {
                write_tables(
                    &mut out,
                    counts,
                    totals,
                    scanned.sources.len(),
                    scanned.bytes,
                    scanned.unreadable,
                )?;
            }
        }
        Ok(())
    })();
    written.with_context(|| format!("cannot write the stats to {to}"))?;
    out.finish()?;
    Ok(if diag.errored() { 2 } else { 0 })
}

fn time(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_rfc3339()))
}

#[derive(Serialize)]
struct RevisionRow<'a> {
    service: &'a str,
    revision: &'a str,
    entries: u64,
    errors: u64,
    first_seen: Value,
    last_seen: Value,
}

/// What was read, beside the counts.
#[derive(Debug, Default)]
pub struct Input {
    /// Inputs (files, stdin) read.
    pub files: usize,
    /// Bytes read from them (compressed bytes for gzip).
    pub bytes: u64,
    /// Inputs that could not be read.
    pub unreadable: usize,
}

/// The stable JSON form (documented in docs/report-json.md, "stats --format json").
pub fn to_json(c: &Counts, t: &ScanTotals, input: &Input) -> Value {
    let unreadable = input.unreadable;
    let map = |m: &std::collections::BTreeMap<String, u64>| {
        let mut o = Map::new();
        for (k, v) in m {
            o.insert(k.clone(), json!(v));
        }
        Value::Object(o)
    };
    let mut sev = Map::new();
    for (k, v) in &c.by_severity {
        sev.insert(k.name().to_string(), json!(v));
    }
    let revisions: Vec<RevisionRow<'_>> = c
        .by_revision
        .iter()
        .map(|((s, r), rc)| RevisionRow {
            service: s,
            revision: r,
            entries: rc.entries,
            errors: rc.errors,
            first_seen: time(rc.first_seen),
            last_seen: time(rc.last_seen),
        })
        .collect();
    json!({
        "schema": "logtriage/stats/v1",
        "files": input.files,
        "bytes": input.bytes,
        "entries": c.entries,
        "malformed": t.malformed,
        "too_large": t.too_large,
        "duplicates": t.duplicates,
        "split_parts": t.split_parts,
        "filtered_out": t.filtered_out,
        "after_until": t.after_until,
        "truncated_inputs": t.truncated,
        "unreadable_inputs": unreadable,
        "dedup": { "exact": !t.dedup_saturated, "capacity": DEDUP_CAPACITY },
        "no_timestamp": c.no_timestamp,
        "receive_timestamp_only": c.receive_time_only,
        "window": {
            "start": time(c.window.map(|w| w.0)),
            "end": time(c.window.map(|w| w.1)),
        },
        "by_severity": Value::Object(sev),
        "by_service": map(&c.by_service),
        "by_revision": revisions,
        "by_log": map(&c.by_log),
        "by_resource_type": map(&c.by_resource),
    })
}

fn table(headers: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(headers.to_vec());
    t
}

fn num(n: u64) -> Cell {
    Cell::new(crate::report::fmt_count(n)).set_alignment(CellAlignment::Right)
}

fn or_none(s: &str) -> &str {
    if s.is_empty() {
        "(none)"
    } else {
        s
    }
}

fn write_tables(
    out: &mut dyn Write,
    c: &Counts,
    t: &ScanTotals,
    files: usize,
    bytes: u64,
    unreadable: usize,
) -> Result<()> {
    let mut s = table(&["input", "count"]);
    s.add_row(vec![Cell::new("files"), num(files as u64)]);
    s.add_row(vec![
        Cell::new("bytes"),
        Cell::new(crate::diag::human_bytes(bytes)),
    ]);
    s.add_row(vec![Cell::new("entries (distinct)"), num(c.entries)]);
    s.add_row(vec![Cell::new("malformed (skipped)"), num(t.malformed)]);
    s.add_row(vec![Cell::new("too large (skipped)"), num(t.too_large)]);
    let dup = if t.dedup_saturated {
        format!(
            "duplicates dropped (exact up to ~{} entries)",
            crate::commands::scan::dedup_capacity_text()
        )
    } else {
        "duplicates dropped".to_string()
    };
    s.add_row(vec![Cell::new(dup), num(t.duplicates)]);
    s.add_row(vec![Cell::new("split parts merged"), num(t.split_parts)]);
    if t.filtered_out > 0 {
        s.add_row(vec![
            Cell::new("outside --since/--until/--service"),
            num(t.filtered_out),
        ]);
    }
    if t.truncated > 0 {
        s.add_row(vec![Cell::new("inputs cut short"), num(t.truncated)]);
    }
    if unreadable > 0 {
        s.add_row(vec![Cell::new("inputs unreadable"), num(unreadable as u64)]);
    }
    s.add_row(vec![Cell::new("without timestamp"), num(c.no_timestamp)]);
    let w = c.window.map_or("-".to_string(), |(a, b)| {
        format!("{} .. {}", a.to_rfc3339(), b.to_rfc3339())
    });
    s.add_row(vec![Cell::new("window (UTC)"), Cell::new(w)]);
    writeln!(out, "{s}\n")?;

    let mut sv = table(&["severity", "entries"]);
    for (k, v) in c.by_severity.iter().rev() {
        sv.add_row(vec![Cell::new(k.name()), num(*v)]);
    }
    writeln!(out, "{sv}\n")?;

    let mut by = table(&["service", "entries"]);
    let mut svc: Vec<_> = c.by_service.iter().collect();
    svc.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (k, v) in svc {
        by.add_row(vec![
            Cell::new(crate::report::sanitize(or_none(k))),
            num(*v),
        ]);
    }
    writeln!(out, "{by}\n")?;

    if !c.by_revision.is_empty() {
        let mut rv = table(&[
            "service",
            "revision",
            "entries",
            "errors",
            "first seen (UTC)",
            "last seen (UTC)",
        ]);
        for ((s, r), rc) in &c.by_revision {
            let ts = |t: Option<Timestamp>| t.map_or("-".into(), |t| t.to_rfc3339());
            rv.add_row(vec![
                Cell::new(crate::report::sanitize(or_none(s))),
                Cell::new(crate::report::sanitize(r)),
                num(rc.entries),
                num(rc.errors),
                Cell::new(ts(rc.first_seen)),
                Cell::new(ts(rc.last_seen)),
            ]);
        }
        writeln!(out, "{rv}\n")?;
    }

    let mut lg = table(&["log", "entries"]);
    let mut logs: Vec<_> = c.by_log.iter().collect();
    logs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (k, v) in logs {
        lg.add_row(vec![
            Cell::new(crate::report::sanitize(or_none(k))),
            num(*v),
        ]);
    }
    writeln!(out, "{lg}")?;
    Ok(())
}
