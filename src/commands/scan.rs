//! The part every log-reading command shares: find inputs, resolve the time window,
//! scan in parallel, and report skipped records and unreadable inputs.

use crate::cli::InputArgs;
use crate::config::TimeSpec;
use crate::diag::Diag;
use crate::ingest::{self, IngestOptions, Origin, Source};
use crate::pipeline::{self, Filter, Progress, Scan, ScanOptions, Sink};
use anyhow::{bail, Context, Result};
use std::io::IsTerminal;

/// Warnings printed for skipped records before summarising the rest.
const SHOWN_PROBLEMS: usize = 10;

/// Inputs ready to scan, with the stdin spool kept alive.
pub struct Inputs {
    /// The sources, in scan order.
    pub sources: Vec<Source>,
    /// Holds stdin's copy when it had to be read twice.
    _spool: Option<tempfile::NamedTempFile>,
}

/// A finished scan plus what the command needs to say about its input.
pub struct Scanned<S> {
    /// The scan.
    pub scan: Scan<S>,
    /// The filter that was applied (absolute times).
    pub filter: Filter,
    /// The sources read.
    pub sources: Vec<Source>,
}

/// Finds the inputs; an unreadable one is reported and the rest still read.
pub fn discover(args: &InputArgs, diag: &Diag, spool_stdin: bool) -> Result<Inputs> {
    let found = ingest::discover(&args.inputs);
    for e in &found.errors {
        diag.error(&e.to_string());
    }
    let mut sources = found.sources;
    if sources.is_empty() && !found.errors.is_empty() {
        bail!("no readable input");
    }
    let mut spool = None;
    for s in &mut sources {
        if matches!(s.origin, Origin::Stdin) {
            if std::io::stdin().is_terminal() {
                bail!("no input: stdin is a terminal. Pipe logs in, e.g. `gcloud logging read 'resource.type=\"cloud_run_revision\"' --format=json | logtriage report`, or name a file or folder");
            }
            if spool_stdin {
                // A relative --since needs the newest entry first; stdin can be read once.
                let mut f = tempfile::NamedTempFile::new().context("cannot spool stdin")?;
                std::io::copy(&mut std::io::stdin().lock(), &mut f).context("cannot read stdin")?;
                s.origin = Origin::File(f.path().to_path_buf());
                spool = Some(f);
            }
        }
    }
    Ok(Inputs {
        sources,
        _spool: spool,
    })
}

/// Scans the inputs into a sink `S`, resolving `--since`/`--until` against the newest entry.
pub fn run<S: Sink, F: Fn() -> S + Sync>(
    args: &InputArgs,
    threads: usize,
    diag: &Diag,
    make: F,
) -> Result<Scanned<S>> {
    let since = args.since.as_deref().map(TimeSpec::parse).transpose()?;
    let until = args.until.as_deref().map(TimeSpec::parse).transpose()?;
    let relative = [since, until]
        .iter()
        .any(|t| matches!(t, Some(TimeSpec::Back(_))));
    let inputs = discover(args, diag, relative)?;
    let mut opts = ScanOptions {
        threads,
        ingest: IngestOptions::default(),
        strict: args.strict,
        filter: Filter {
            services: args.services.clone(),
            ..Filter::default()
        },
    };
    if let Some(c) = args.chunk_size {
        opts.ingest.chunk_size = c.max(1);
    }
    let total: Option<u64> = inputs.sources.iter().map(|s| s.size).sum();
    if relative {
        let pre = ScanOptions {
            filter: Filter::default(),
            strict: false,
            ..opts.clone()
        };
        let progress = Progress::default();
        let newest = crate::diag::with_progress(diag, &progress, total, || {
            pipeline::scan(
                &inputs.sources,
                &pre,
                &progress,
                crate::analyze::Newest::default,
            )
        });
        opts.filter.since = since.and_then(|t| t.resolve(newest.sink.0));
        opts.filter.until = until.and_then(|t| t.resolve(newest.sink.0));
    } else {
        opts.filter.since = since.and_then(|t| t.resolve(None));
        opts.filter.until = until.and_then(|t| t.resolve(None));
    }
    let progress = Progress::default();
    let scan = crate::diag::with_progress(diag, &progress, total, || {
        pipeline::scan(&inputs.sources, &opts, &progress, make)
    });
    for e in &scan.errors {
        diag.error(&e.to_string());
    }
    let t = &scan.totals;
    for p in t.problems.iter().take(SHOWN_PROBLEMS) {
        let name = inputs
            .sources
            .get(p.source)
            .map_or("<input>", |s| s.display.as_str());
        let at = match p.index {
            Some(i) => format!("{name}:{} (record {})", p.line, i + 1),
            None => format!("{name}:{}", p.line),
        };
        if args.strict {
            bail!(
                "{at}: {} (--strict stops at the first malformed record)",
                p.reason
            );
        }
        diag.warn(&format!("{at}: {}", p.reason));
    }
    let shown = t.problems.len().min(SHOWN_PROBLEMS) as u64;
    let hidden = t.problems.len() as u64 + t.more_problems - shown;
    if hidden > 0 {
        diag.warn(&format!("... and {hidden} more problems"));
    }
    if t.skipped() > 0 {
        diag.warn(&format!(
            "skipped {} malformed and {} oversized records; the counts are in the output",
            t.malformed, t.too_large
        ));
    }
    if t.truncated > 0 {
        diag.error(&format!(
            "{} input(s) were cut short; entries read before the cut were kept",
            t.truncated
        ));
    }
    Ok(Scanned {
        scan,
        filter: opts.filter,
        sources: inputs.sources,
    })
}
