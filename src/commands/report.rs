//! `logtriage report`: scan, analyse, and write the incident report.

use crate::analyze::Analysis;
use crate::cli::{FailOn, ReportArgs, ReportFormat};
use crate::config::parse_duration;
use crate::diag::Diag;
use crate::output::Output;
use crate::report::{self, InputFacts};
use anyhow::{Context, Result};

/// Runs `report`; returns the exit code.
pub fn run(args: &ReportArgs, threads: usize, diag: &Diag) -> Result<i32> {
    let bucket = args
        .bucket
        .as_deref()
        .map(parse_duration)
        .transpose()
        .context("--bucket")?;
    let rules = super::rules::load(&args.rules, diag, super::rules::Links::Warn)?;
    // Fail on a bad -o before reading gigabytes.
    super::scan::refuse_output_over_input(args.output.as_deref(), &args.input)?;
    let mut out = Output::open(args.output.as_deref())?;
    // Aggregate at a bucket that divides both 60 s and the requested one.
    let base = bucket.map_or(60, |b| gcd(b, 60));
    let scanned = super::scan::run(&args.input, threads, diag, || Analysis::new(&rules, base))?;
    let facts = InputFacts {
        totals: &scanned.scan.totals,
        files: scanned.sources.len(),
        bytes: scanned.bytes,
        unreadable: scanned.unreadable,
    };
    if !super::scan::keep_output(&scanned, &out, diag) {
        out.discard();
        return Ok(2);
    }
    let r = report::build(&scanned.scan.sink, bucket, &facts);
    let to = out.name();
    match args.format {
        ReportFormat::Markdown => report::markdown::write(&r, &mut out),
        ReportFormat::Json => report::write_json(&r, &mut out),
        ReportFormat::Table => {
            // Fitted to the terminal only where it is shown; a file keeps whole lines.
            let width = out.is_stdout().then(report::table::stdout_width).flatten();
            report::table::write(&r, &mut out, width)
        }
    }
    .with_context(|| format!("cannot write the report to {to}"))?;
    out.finish()?;
    if diag.errored() {
        return Ok(2);
    }
    if let Some(level) = args.fail_on {
        let min = match level {
            FailOn::Low => 1,
            FailOn::Medium => 2,
            FailOn::High => 3,
            FailOn::Critical => 4,
        };
        if report::severity_rank(&r.status.level) >= min {
            return Ok(1);
        }
    }
    Ok(0)
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}
