//! Throughput and peak memory of `logtriage report` on a generated Cloud Run export.
//!
//! ```sh
//! cargo bench --bench throughput                          # 64 MB of NDJSON, generated once
//! LOGTRIAGE_BENCH_MB=1024 cargo bench --bench throughput  # ~1 GB (about 950,000 entries)
//! ```
//!
//! Environment: `LOGTRIAGE_BENCH_MB` (input size, default 64), `LOGTRIAGE_BENCH_DIR`
//! (where the input is generated, default `target/bench-data/<MB>mb`),
//! `LOGTRIAGE_BENCH_RUNS` (timed runs per case, median shown, default 3),
//! `LOGTRIAGE_BENCH_ONLY` (comma-separated case names to run), `LOGTRIAGE_BENCH_RULES`
//! (a rule file or folder matched in place of the default packs in the matching cases).
//!
//! The input comes from `python3 samples/generate.py bench` (NDJSON, the same entries as
//! a pretty gcloud array, and gzip NDJSON). Each case runs the whole report job the way
//! `logtriage report --format json` does (scan, analysis, report built and rendered),
//! each run in a fresh child process (this benchmark re-run with
//! `LOGTRIAGE_BENCH_CHILD` set), after one warm-up run that brings the file into the
//! page cache; peak memory is the child's VmHWM. The matching cases time
//! `RuleSet::match_block` alone (entries parsed in blocks of 128 just before, as in the
//! pipeline): the full default packs against one rule (issue 3: within 1.5x); the case
//! "ndjson, all threads, 1 rule" runs the whole report with that rule alone. The floor
//! cases time, on one core, serde_json validating each record and the entry view: what
//! any exact reader of these records pays before matching anything.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use logtriage::analyze::Analysis;
use logtriage::entry::Entry;
use logtriage::ingest::{self, IngestOptions};
use logtriage::pipeline::{self, Progress, ScanOptions};
use logtriage::report::{self, InputFacts};
use logtriage::rules::{self, BlockMatches, LoadOptions, RuleSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// One rule, the same `when` as the default CRITICAL_AUTH_FAILURE rule.
const ONE_RULE: &str = r#"
[[rule]]
id = "CRITICAL_AUTH_FAILURE"
title = "Backend rejects calls with 403 'Not authenticated'"
severity = "critical"
kind = "symptom"
description = "One rule, for the matching benchmark."
when = { field = "message", contains = "CRITICAL_AUTH_FAILURE:" }
why = "Why does {service} reject calls?"
because = "The backend logged CRITICAL_AUTH_FAILURE {count} times."
"#;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Generates the input once (skipped when the files are already there).
fn input_dir(mb: usize) -> PathBuf {
    let dir = std::env::var_os("LOGTRIAGE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            root()
                .join("target")
                .join("bench-data")
                .join(format!("{mb}mb"))
        });
    let want = ["bench.ndjson", "bench.gcloud.json", "bench.ndjson.gz"];
    if !want.iter().all(|f| dir.join(f).exists()) {
        eprintln!("generating {mb} MB of input in {} ...", dir.display());
        let ok = Command::new("python3")
            .arg(root().join("samples").join("generate.py"))
            .args(["bench", "--size-mb", &mb.to_string(), "--out"])
            .arg(&dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "python3 samples/generate.py bench failed");
    }
    dir
}

/// Splits the NDJSON into files of about `per_file` bytes (a sink export's shape).
fn small_files(dir: &Path, per_file: usize) -> PathBuf {
    let out = dir.join(format!("small-{}k", per_file >> 10));
    if out.join("done").exists() {
        return out;
    }
    let _ = std::fs::remove_dir_all(&out);
    let data = std::fs::read(dir.join("bench.ndjson")).unwrap();
    let mut start = 0;
    let mut n = 0;
    while start < data.len() {
        let mut end = (start + per_file).min(data.len());
        while end < data.len() && data[end - 1] != b'\n' {
            end += 1;
        }
        let sub = out.join(format!("{:03}", n / 1000));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("{n:06}_S0.json")), &data[start..end]).unwrap();
        start = end;
        n += 1;
    }
    std::fs::write(out.join("done"), n.to_string()).unwrap();
    out
}

/// Peak resident set size in bytes.
fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

struct Outcome {
    entries: u64,
    report_bytes: usize,
}

/// The report job: scan with the default packs, build and render the JSON report.
fn report_job(inputs: &[PathBuf], rules: &RuleSet, threads: usize) -> Outcome {
    let found = ingest::discover(inputs);
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    let opts = ScanOptions {
        threads,
        ingest: IngestOptions::default(),
        ..ScanOptions::default()
    };
    let progress = Progress::default();
    let scan = pipeline::scan(&found.sources, &opts, &progress, || {
        Analysis::new(rules, 60)
    });
    let facts = InputFacts {
        totals: &scan.totals,
        files: found.sources.len(),
        bytes: found.sources.iter().filter_map(|s| s.size).sum(),
        unreadable: scan.errors.len(),
    };
    let r = report::build(&scan.sink, None, &facts);
    let mut out = Vec::new();
    report::write_json(&r, &mut out).unwrap();
    Outcome {
        entries: scan.sink.counts.entries,
        report_bytes: out.len(),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

struct Row {
    case: String,
    secs: f64,
    input_bytes: u64,
    entries: u64,
    peak: Option<u64>,
}

fn print_row(r: &Row) {
    let peak = r.peak.map_or("-".to_string(), |p| {
        format!("{:.1} MiB", p as f64 / 1048576.0)
    });
    println!(
        "| {:<34} | {:>8.3} s | {:>8.0} MB/s | {:>10.0} entries/s | {:>10} |",
        r.case,
        r.secs,
        mb(r.input_bytes) / r.secs,
        r.entries as f64 / r.secs,
        peak
    );
}

/// In a child: runs one case once and prints `secs entries report_bytes peak_bytes`.
fn child(spec: &str) {
    let (threads, paths) = spec.split_once('|').unwrap();
    let inputs: Vec<PathBuf> = paths.split('|').map(PathBuf::from).collect();
    let rules = if std::env::var_os(ONE_RULE_CHILD).is_some() {
        rules::load_str("one.toml", ONE_RULE).unwrap()
    } else {
        rules::load(&LoadOptions::default()).unwrap()
    };
    let t = Instant::now();
    let o = report_job(&inputs, &rules, threads.parse().unwrap());
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{secs} {} {} {}",
        o.entries,
        o.report_bytes,
        peak_rss().unwrap_or(0)
    );
}

/// Set for a child that runs the report with [`ONE_RULE`] alone.
const ONE_RULE_CHILD: &str = "LOGTRIAGE_BENCH_ONE_RULE";

/// Runs one case in a fresh process; returns (secs, entries, report bytes, peak RSS).
fn run_child(inputs: &[PathBuf], threads: usize, one_rule: bool) -> (f64, u64, usize, u64) {
    let mut spec = threads.to_string();
    for p in inputs {
        spec.push('|');
        spec.push_str(&p.to_string_lossy());
    }
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.env("LOGTRIAGE_BENCH_CHILD", spec);
    if one_rule {
        cmd.env(ONE_RULE_CHILD, "1");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let f: Vec<&str> = text.split_whitespace().collect();
    (
        f[0].parse().unwrap(),
        f[1].parse().unwrap(),
        f[2].parse().unwrap(),
        f[3].parse().unwrap(),
    )
}

fn main() {
    if let Ok(spec) = std::env::var("LOGTRIAGE_BENCH_CHILD") {
        child(&spec);
        return;
    }
    let size_mb = env_num("LOGTRIAGE_BENCH_MB", 64);
    let runs = env_num("LOGTRIAGE_BENCH_RUNS", 3).max(1);
    let only: Vec<String> = std::env::var("LOGTRIAGE_BENCH_ONLY")
        .map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.starts_with(o.as_str()));
    let dir = input_dir(size_mb);
    let nd = dir.join("bench.ndjson");
    let arr = dir.join("bench.gcloud.json");
    let gz = dir.join("bench.ndjson.gz");
    let nd_bytes = std::fs::metadata(&nd).unwrap().len();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rules = rules::load(&LoadOptions::default()).unwrap();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    println!(
        "input: {} ({:.0} MB NDJSON), {} cores, {} rules, median of {runs} runs; load average {}",
        dir.display(),
        mb(nd_bytes),
        cores,
        rules.len(),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "| {:<34} | {:>10} | {:>13} | {:>19} | {:>10} |",
        "case", "wall", "throughput", "entries", "peak RSS"
    );
    println!(
        "|{:-<36}|{:->12}|{:->15}|{:->21}|{:->12}|",
        "", "", "", "", ""
    );

    let mut cases: Vec<(String, Vec<PathBuf>, usize, u64)> = vec![
        ("ndjson, all threads".into(), vec![nd.clone()], 0, nd_bytes),
        (
            "ndjson, all threads, 1 rule".into(),
            vec![nd.clone()],
            0,
            nd_bytes,
        ),
        ("ndjson, 1 thread".into(), vec![nd.clone()], 1, nd_bytes),
        (
            "gcloud pretty array, all threads".into(),
            vec![arr.clone()],
            0,
            std::fs::metadata(&arr).unwrap().len(),
        ),
        (
            "gzip ndjson, all threads".into(),
            vec![gz.clone()],
            0,
            std::fs::metadata(&gz).unwrap().len(),
        ),
    ];
    if wanted("many small files") {
        let small = small_files(&dir, 256 << 10);
        cases.push((
            "many small files (256 KB), all thr.".into(),
            vec![small],
            0,
            nd_bytes,
        ));
    }
    let mut rows = Vec::new();
    for (name, inputs, threads, bytes) in cases {
        if !wanted(&name) {
            continue;
        }
        // Warm-up (page cache) run, then timed runs, each in a fresh process.
        let one_rule = name.ends_with("1 rule");
        let first = run_child(&inputs, threads, one_rule);
        let mut times = Vec::new();
        let mut peak = 0;
        for _ in 0..runs {
            let (secs, entries, report_bytes, p) = run_child(&inputs, threads, one_rule);
            times.push(Duration::from_secs_f64(secs));
            peak = peak.max(p);
            assert_eq!(entries, first.1);
            if threads == 1 {
                assert_eq!(report_bytes, first.2);
            }
        }
        let row = Row {
            case: name,
            secs: median(times).as_secs_f64(),
            input_bytes: bytes,
            entries: first.1,
            peak: (peak > 0).then_some(peak),
        };
        print_row(&row);
        rows.push(row);
    }
    let find = |n: &str| rows.iter().find(|r| r.case == n).map(|r| r.secs);
    if let (Some(all), Some(one)) = (find("ndjson, all threads"), find("ndjson, 1 thread")) {
        println!("speed-up with {cores} threads over 1: {:.2}x", one / all);
    }
    if let (Some(all), Some(a)) = (
        find("ndjson, all threads"),
        find("gcloud pretty array, all threads"),
    ) {
        println!("pretty array time / NDJSON time: {:.2}x", a / all);
    }
    if let (Some(full), Some(one)) = (
        find("ndjson, all threads"),
        find("ndjson, all threads, 1 rule"),
    ) {
        // The whole job: matching, and the analysis of what matched (more with 20 rules).
        println!(
            "whole report with the full packs / one rule: {:.2}x (matching alone: below)",
            full / one
        );
    }
    if wanted("floor") {
        floor(&nd, runs);
    }
    if wanted("matching") {
        // LOGTRIAGE_BENCH_RULES: compare another rule set (files or a folder) with one rule.
        let full = match std::env::var_os("LOGTRIAGE_BENCH_RULES") {
            Some(dir) => rules::load(&LoadOptions {
                defaults: false,
                dirs: vec![PathBuf::from(dir)],
            })
            .unwrap(),
            None => rules,
        };
        matching(&nd, &full, runs);
    }
}

/// What one core spends on the JSON alone, the floor under any job that reads every
/// record exactly: serde_json validating each record (and keeping nothing), and the
/// entry stage building its view (which validates the same way). The report job costs
/// this and more on every byte, so these rates bound what the peer targets can reach.
fn floor(nd: &Path, runs: usize) {
    let data = std::fs::read_to_string(nd).unwrap();
    let lines: Vec<&str> = data.lines().filter(|l| !l.is_empty()).collect();
    let bytes = lines.iter().map(|l| l.len() as u64 + 1).sum::<u64>();
    let time = |f: &dyn Fn(&str) -> bool| {
        let mut times = Vec::new();
        for _ in 0..runs.max(3) {
            let t = Instant::now();
            let ok = lines.iter().filter(|l| f(l)).count();
            times.push(t.elapsed());
            assert_eq!(ok, lines.len(), "every generated record is valid");
        }
        median(times).as_secs_f64()
    };
    let validate = time(&|l| serde_json::from_str::<serde::de::IgnoredAny>(l).is_ok());
    let view = time(&|l| Entry::parse(l).is_ok());
    for (name, t) in [
        ("floor: serde_json validation, 1 core", validate),
        ("floor: entry view (parse), 1 core", view),
    ] {
        println!(
            "| {:<40} | {:>8.3} s | {:>8.0} MB/s | {:>10.0} entries/s | 1 GB, 2 cores, ideal: {:.2} s |",
            name,
            t,
            mb(bytes) / t,
            lines.len() as f64 / t,
            t * 1e9 / bytes as f64 / 2.0
        );
    }
}

/// `RuleSet::match_block` alone: full packs vs one rule.
///
/// As in the pipeline, an entry is matched while its record is still in cache: the
/// entries are parsed in blocks of 128 (the pipeline's block) and only the matching of
/// a block is timed.
/// (Matching 200k entries parsed long before measures cache misses on records that
/// the pipeline never has.)
fn matching(nd: &Path, full: &RuleSet, runs: usize) {
    let one = rules::load_str("one.toml", ONE_RULE).unwrap();
    let data = std::fs::read_to_string(nd).unwrap();
    // At most ~200k entries: enough to be stable.
    let lines: Vec<&str> = data
        .lines()
        .filter(|l| !l.is_empty())
        .take(200_000)
        .collect();
    // `quiet`: only the entries no default rule matches (the prefilter's rejections).
    // They are picked by a separate copy of the packs: picking them with `full` itself
    // would leave its tables warm with exactly these entries, which the pipeline never
    // has (that flattered the full packs by about 10 ns an entry).
    let picker = rules::load(&LoadOptions::default()).unwrap();
    let mut m = BlockMatches::default();
    let mut pass = |set: &RuleSet, out: &mut Vec<usize>, quiet: bool| {
        let (mut spent, mut hits, mut n, mut size) = (Duration::ZERO, 0u64, 0usize, 0u64);
        for block in lines.chunks(128) {
            let mut entries: Vec<Entry<'_>> =
                block.iter().filter_map(|l| Entry::parse(l).ok()).collect();
            if quiet {
                entries.retain(|e| {
                    picker.match_entry(e, out);
                    out.is_empty()
                });
            }
            n += entries.len();
            size += entries.iter().map(|e| e.raw.len() as u64 + 1).sum::<u64>();
            let t = Instant::now();
            set.match_block(&entries, &mut m);
            spent += t.elapsed();
            hits += (0..m.len()).map(|i| m.of(i).len() as u64).sum::<u64>();
        }
        (spent, hits, n, size)
    };
    let mut out = Vec::new();
    let mut ratios = Vec::new();
    for quiet in [false, true] {
        // The two sets interleaved so that both see the same machine state.
        let (mut full_times, mut one_times) = (Vec::new(), Vec::new());
        let (mut h_full, mut h_one, mut n_entries, mut bytes) = (0, 0, 0, 0);
        for _ in 0..(runs * 3).max(9) {
            let (t, h, n, b) = pass(full, &mut out, quiet);
            full_times.push(t);
            (h_full, n_entries, bytes) = (h, n, b);
            let (t, h, _, _) = pass(&one, &mut out, quiet);
            one_times.push(t);
            h_one = h;
        }
        let (t_full, t_one) = (
            median(full_times).as_secs_f64(),
            median(one_times).as_secs_f64(),
        );
        let what = if quiet {
            "no-match entries"
        } else {
            "all entries"
        };
        for (name, t, h) in [
            (
                format!("matching, {} rules, {what}", full.len()),
                t_full,
                h_full,
            ),
            (format!("matching, 1 rule, {what}"), t_one, h_one),
        ] {
            println!(
                "| {:<40} | {:>8.3} s | {:>8.0} MB/s | {:>10.0} entries/s | {:>10} |",
                name,
                t,
                mb(bytes) / t,
                n_entries as f64 / t,
                format!("{h} hits")
            );
        }
        ratios.push((what, t_full / t_one));
    }
    for (what, r) in ratios {
        println!(
            "matching with the full packs / one rule, {what}: {r:.2}x (issue 3 target: <= 1.5x)"
        );
    }
}
