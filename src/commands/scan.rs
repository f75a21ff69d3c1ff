//! The part every log-reading command shares: find inputs, resolve the time window,
//! scan in parallel, and report skipped records and unreadable inputs.

use crate::cli::InputArgs;
use crate::config::TimeSpec;
use crate::diag::Diag;
use crate::ingest::{self, IngestOptions, Origin, Source};
use crate::pipeline::{self, Filter, Progress, Scan, ScanOptions, Sink};
use anyhow::{bail, Context, Result};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::Ordering;

/// Warnings printed for skipped records before summarising the rest.
const SHOWN_PROBLEMS: usize = 10;

/// Inputs ready to scan, with the stdin spool kept alive.
pub struct Inputs {
    /// The sources, in scan order.
    pub sources: Vec<Source>,
    /// Paths that could not be found or opened (missing, dangling links, loops).
    pub unreadable: usize,
    /// Holds stdin's copy when it had to be read twice.
    spool: Option<tempfile::NamedTempFile>,
}

/// A finished scan plus what the command needs to say about its input.
pub struct Scanned<S> {
    /// The scan.
    pub scan: Scan<S>,
    /// The filter that was applied (absolute times).
    pub filter: Filter,
    /// The sources read.
    pub sources: Vec<Source>,
    /// Bytes read from them (compressed bytes for gzip): stdin counts too, which has
    /// no size to look up.
    pub bytes: u64,
    /// Inputs named or found that could not be read at all: missing paths, dangling
    /// links and loops at discovery, and files that failed to open or read.
    pub unreadable: usize,
}

/// Refuses `-o FILE` when FILE is one of the inputs (however it is spelled, or
/// reached through a folder or a link): the report would replace the logs it was
/// made from. Only an existing FILE can be an input, so a new one costs nothing.
pub fn refuse_output_over_input(output: Option<&Path>, args: &InputArgs) -> Result<()> {
    let Some(out) = output else { return Ok(()) };
    let Ok(out_meta) = std::fs::metadata(out) else {
        return Ok(());
    };
    if !out_meta.is_file() {
        return Ok(());
    }
    for s in ingest::discover(&args.inputs).sources {
        if let Origin::File(p) = &s.origin {
            if std::fs::metadata(p).is_ok_and(|m| same_file(out, &out_meta, p, &m)) {
                bail!(
                    "{}: this is an input ({}); refusing to write the output over it, choose another -o FILE",
                    out.display(),
                    s.display
                );
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(_: &Path, a: &std::fs::Metadata, _: &Path, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(a: &Path, _: &std::fs::Metadata, b: &Path, _: &std::fs::Metadata) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// Finds the inputs; an unreadable one is reported and the rest still read.
pub fn discover(args: &InputArgs, diag: &Diag, spool_stdin: bool) -> Result<Inputs> {
    let found = ingest::discover(&args.inputs);
    for s in &found.skipped {
        diag.note(&s.message());
    }
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
                crate::output::track_temp(f.path());
                std::io::copy(&mut std::io::stdin().lock(), &mut f).context("cannot read stdin")?;
                s.origin = Origin::File(f.path().to_path_buf());
                spool = Some(f);
            }
        }
    }
    Ok(Inputs {
        sources,
        unreadable: found.errors.len(),
        spool,
    })
}

/// Scans the inputs into a sink `S`, resolving `--since`/`--until` against the newest entry.
pub fn run<S: Sink, F: Fn() -> S + Sync>(
    args: &InputArgs,
    threads: usize,
    diag: &Diag,
    make: F,
) -> Result<Scanned<S>> {
    let since = args.since.as_deref().map(TimeSpec::parse).transpose();
    let since = since.context("--since")?;
    let until = args.until.as_deref().map(TimeSpec::parse).transpose();
    let until = until.context("--until")?;
    match (since, until) {
        (Some(TimeSpec::At(a)), Some(TimeSpec::At(b))) if a > b => bail!(
            "--since {} is after --until {}: no entry can be in that window",
            a.to_rfc3339(),
            b.to_rfc3339()
        ),
        // Both counted back from the newest entry: `--since 1h --until 2h` is empty too.
        (Some(TimeSpec::Back(a)), Some(TimeSpec::Back(b))) if a < b => bail!(
            "--since {} is after --until {}: both count back from the newest entry, so \
             no entry can be in that window (did you mean --since {} --until {}?)",
            args.since.as_deref().unwrap_or_default(),
            args.until.as_deref().unwrap_or_default(),
            args.until.as_deref().unwrap_or_default(),
            args.since.as_deref().unwrap_or_default(),
        ),
        _ => {}
    }
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
        // Newest of the selected services: another service's newer file must not
        // move the window off the one asked about.
        let pre = ScanOptions {
            filter: Filter {
                services: args.services.clone(),
                ..Filter::default()
            },
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
        let t = &newest.totals;
        let kept = t
            .records
            .saturating_sub(t.skipped() + t.duplicates + t.split_parts + t.filtered_out);
        if newest.sink.0.is_none() && kept > 0 {
            // Nothing to count back from: every entry is kept, which must be said.
            let back: Vec<String> = [
                ("--since", &args.since, since),
                ("--until", &args.until, until),
            ]
            .into_iter()
            .filter(|(_, _, t)| matches!(t, Some(TimeSpec::Back(_))))
            .map(|(flag, text, _)| format!("{flag} {}", text.as_deref().unwrap_or_default()))
            .collect();
            diag.warn(&format!(
                "{}: no entry has a timestamp to count back from, so nothing was filtered \
                 by time",
                back.join(" ")
            ));
        }
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
    let at = |p: &pipeline::Located| {
        let name = inputs
            .sources
            .get(p.source)
            .map_or("<input>", |s| s.display.as_str());
        let col = p.column.map(|c| format!(":{c}")).unwrap_or_default();
        match p.index {
            Some(i) => format!("{name}:{}{col} (record {})", p.line, i + 1),
            None => format!("{name}:{}{col}", p.line),
        }
    };
    // Inputs cut short are errors, each named below; the rest are warnings.
    let warned = |p: &&pipeline::Located| args.strict || !t.cut.contains(p);
    let mut shown = 0u64;
    for p in t.problems.iter().filter(warned).take(SHOWN_PROBLEMS) {
        if args.strict {
            bail!(
                "{}: {} (--strict stops at the first malformed record)",
                at(p),
                p.reason
            );
        }
        diag.warn(&format!("{}: {}", at(p), p.reason));
        shown += 1;
    }
    let cut_listed = if args.strict { 0 } else { t.truncated };
    let hidden = (t.problems.len() as u64 + t.more_problems)
        .saturating_sub(cut_listed)
        .saturating_sub(shown);
    if hidden > 0 {
        diag.warn(&format!("... and {hidden} more problems"));
    }
    if t.skipped() > 0 {
        if t.records <= t.skipped() {
            // Nothing but bad records: a report of "0 entries, OK" would hide it.
            diag.error(&format!(
                "no log entry could be read: {} malformed and {} oversized records \
                 skipped; is this a Cloud Logging JSON export (gcloud logging read \
                 --format=json, or a Cloud Storage sink's files)?",
                t.malformed, t.too_large
            ));
        } else {
            diag.warn(&format!(
                "skipped {} malformed and {} oversized records; the counts are in the output",
                t.malformed, t.too_large
            ));
        }
    }
    unknown_services(&args.services, &t.service_hits, &t.services_seen)?;
    let kept = t
        .records
        .saturating_sub(t.skipped() + t.duplicates + t.split_parts + t.filtered_out);
    if t.filtered_out > 0 && kept == 0 {
        diag.warn(&format!(
            "all {} entries were outside --since/--until/--service; `logtriage stats` \
             lists the services and the time window the input holds",
            t.filtered_out
        ));
    }
    for p in t.cut.iter().take(SHOWN_PROBLEMS) {
        diag.error(&format!(
            "{}: {}; the input stops here, entries read before it were kept",
            at(p),
            p.reason
        ));
    }
    if t.truncated > SHOWN_PROBLEMS as u64 {
        diag.error(&format!(
            "... and {} more inputs cut short",
            t.truncated - SHOWN_PROBLEMS as u64
        ));
    }
    if t.dedup_saturated {
        diag.warn(&format!(
            "the de-duplication set is full (~{} distinct entries, {} MiB): repeats of \
             entries read after that are not all caught, so totals may include some \
             (the outputs say dedup is not exact)",
            dedup_capacity_text(),
            pipeline::DEDUP_BUDGET >> 20
        ));
    }
    let bytes = progress.bytes.load(Ordering::Relaxed);
    let opened = progress.sources.load(Ordering::Relaxed);
    let blank = opened > 0 && progress.blank.load(Ordering::Relaxed) == opened;
    if (bytes == 0 || blank) && scan.errors.is_empty() && inputs.unreadable == 0 {
        // Not even `[]`: what `cmd | logtriage report` reads when `cmd` failed.
        let what = if inputs
            .sources
            .iter()
            .all(|s| matches!(s.origin, Origin::Stdin))
            // A spooled stdin (relative --since) reads from a file, but came from a pipe.
            || (inputs.spool.is_some() && inputs.sources.len() == 1)
        {
            "stdin was empty (did the command before `|` fail?)"
        } else {
            "the input is empty"
        };
        let read = if bytes == 0 {
            "0 bytes read"
        } else {
            "nothing but blank lines or an empty gzip stream"
        };
        diag.error(&format!(
            "{what}: {read}, so there is nothing to report on; an export with no \
             entry in its window is `[]` from `gcloud logging read --format=json`"
        ));
    }
    Ok(Scanned {
        unreadable: inputs.unreadable + scan.errors.len(),
        scan,
        filter: opts.filter,
        sources: inputs.sources,
        bytes,
    })
}

/// Services listed in the `--service` error before "and N more".
const SHOWN_SERVICES: usize = 10;

/// Refuses a `--service` name no entry of the input has (whatever the time filters):
/// a typo would otherwise make every check pass on an empty report. Names the
/// services the input holds, and the one probably meant. Nothing to say when no entry
/// was read at all (that is an error of its own) or there was no `--service`.
fn unknown_services(
    wanted: &[String],
    hits: &[u64],
    seen: &std::collections::HashMap<String, u64>,
) -> Result<()> {
    if wanted.is_empty() || seen.is_empty() {
        return Ok(());
    }
    let missing: Vec<&str> = wanted
        .iter()
        .enumerate()
        .filter(|(i, _)| hits.get(*i).copied().unwrap_or(0) == 0)
        .map(|(_, w)| w.as_str())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    // Most entries first, then by name: the order is the same every run.
    let mut held: Vec<(&str, u64)> = seen.iter().map(|(k, &n)| (k.as_str(), n)).collect();
    held.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let names: Vec<&str> = held.iter().map(|h| h.0).collect();
    let mut msg = String::new();
    for m in &missing {
        if !msg.is_empty() {
            msg.push_str("; ");
        }
        msg.push_str(&format!(
            "--service {m}: no entry of the input has this service"
        ));
        if let Some(s) = crate::text::did_you_mean(m, &names) {
            msg.push_str(&format!(" (did you mean `{s}`?)"));
        }
    }
    let named = held.iter().filter(|h| !h.0.is_empty()).count();
    let list: Vec<String> = held
        .iter()
        .take(SHOWN_SERVICES)
        .map(|(name, n)| {
            let name = if name.is_empty() {
                "(no service)"
            } else {
                name
            };
            let entries = if *n == 1 { "entry" } else { "entries" };
            format!("{name} ({} {entries})", crate::text::fmt_count(*n))
        })
        .collect();
    let more = held.len().saturating_sub(SHOWN_SERVICES);
    let more = if more > 0 {
        format!(
            " and {} more (`logtriage stats` lists them)",
            crate::text::fmt_count(more as u64)
        )
    } else {
        String::new()
    };
    let services = if named == 1 { "service" } else { "services" };
    let named = if seen.len() >= pipeline::SERVICES_SEEN {
        format!("at least {}", crate::text::fmt_count(named as u64))
    } else {
        named.to_string()
    };
    bail!(
        "{msg}. Names are exact and case-sensitive; the input holds {named} {services}: {}{more}",
        list.join(", ")
    )
}

impl<S> Scanned<S> {
    /// True when not one log entry was read (nothing but malformed or oversized
    /// records, refused or unreadable inputs, or nothing at all).
    pub fn nothing_read(&self) -> bool {
        let t = &self.scan.totals;
        t.records <= t.skipped()
    }
}

/// Whether to write the output: a run that failed (exit 2) without reading one log
/// entry leaves `-o FILE` as it was (its report would only say "no data", and would
/// replace the last good one); stdout still gets it, as a pipe expects a document.
pub fn keep_output<S>(scanned: &Scanned<S>, out: &crate::output::Output, diag: &Diag) -> bool {
    if out.is_stdout() || !diag.errored() || !scanned.nothing_read() {
        return true;
    }
    diag.note(&format!(
        "{} left as it was: no log entry was read",
        out.name()
    ));
    false
}

/// [`pipeline::DEDUP_CAPACITY`] for people, rounded down: "1.6M".
pub fn dedup_capacity_text() -> String {
    let tenths = pipeline::DEDUP_CAPACITY / 100_000;
    format!("{}.{}M", tenths / 10, tenths % 10)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_service_name_with_no_entry_is_refused_even_past_the_listing_cap() {
        let mut seen: std::collections::HashMap<String, u64> = (0..pipeline::SERVICES_SEEN)
            .map(|i| (format!("svc-{i:05}"), 1))
            .collect();
        seen.insert(String::new(), 3);
        let wanted = ["late".to_string(), "svc-0001".to_string()];
        // `late` was counted (its hits), though the listing had no room for it.
        assert!(unknown_services(&wanted[..1], &[5], &seen).is_ok());
        let e = unknown_services(&wanted, &[5, 0], &seen)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--service svc-0001: no entry of the input has this service (did you mean `svc-00001`?)"), "{e}");
        assert!(e.contains("the input holds at least 10,000 services: (no service) (3 entries), svc-00000 (1 entry)"), "{e}");
        assert!(
            e.ends_with(" and 9,991 more (`logtriage stats` lists them)"),
            "{e}"
        );
        assert!(unknown_services(&[], &[], &seen).is_ok());
    }
}
