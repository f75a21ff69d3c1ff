//! Messages to stderr: warnings, per-file errors, and the progress line (terminals only).
#![allow(clippy::print_stderr)]

use crate::pipeline::Progress;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Where diagnostics go and how they look.
#[derive(Debug)]
pub struct Diag {
    /// Suppress warnings and progress.
    pub quiet: bool,
    /// Colour the `warning:`/`error:` labels.
    pub color: bool,
    errored: AtomicBool,
}

impl Diag {
    /// A diagnostics channel.
    pub fn new(quiet: bool, color: bool) -> Diag {
        Diag {
            quiet,
            color,
            errored: AtomicBool::new(false),
        }
    }

    /// A warning: printed unless quiet; does not change the exit code.
    pub fn warn(&self, msg: &str) {
        if !self.quiet {
            self.line("warning", "33", msg);
        }
    }

    /// An error that the run survives: always printed; the exit code becomes 2.
    pub fn error(&self, msg: &str) {
        self.errored.store(true, Ordering::Relaxed);
        self.line("error", "31", msg);
    }

    /// An informational note: printed unless quiet.
    pub fn note(&self, msg: &str) {
        if !self.quiet {
            eprintln!("logtriage: note: {}", escaped(msg));
        }
    }

    /// True when an error was reported.
    pub fn errored(&self) -> bool {
        self.errored.load(Ordering::Relaxed)
    }

    fn line(&self, label: &str, code: &str, msg: &str) {
        let msg = escaped(msg);
        if self.color {
            eprintln!("logtriage: \x1b[1;{code}m{label}\x1b[0m: {msg}");
        } else {
            eprintln!("logtriage: {label}: {msg}");
        }
    }
}

/// A message as one safe terminal line: control and bidi characters (from file names
/// or log text) are shown escaped (`\u{1b}`), so they cannot recolour the terminal,
/// move the cursor or fake a line of their own.
fn escaped(msg: &str) -> std::borrow::Cow<'_, str> {
    let bad = crate::text::is_hidden;
    if !msg.chars().any(bad) {
        return msg.into();
    }
    let mut out = String::with_capacity(msg.len() + 16);
    for c in msg.chars() {
        if bad(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// Runs `work` while a progress line is redrawn on stderr, when stderr is a terminal.
pub fn with_progress<T>(
    diag: &Diag,
    progress: &Progress,
    total: Option<u64>,
    work: impl FnOnce() -> T,
) -> T {
    if diag.quiet || !std::io::stderr().is_terminal() {
        return work();
    }
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| draw_loop(progress, total, &done));
        let out = work();
        done.store(true, Ordering::Relaxed);
        out
    })
}

fn draw_loop(p: &Progress, total: Option<u64>, done: &AtomicBool) {
    let start = Instant::now();
    let mut drawn = false;
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        let el = start.elapsed();
        // Short runs stay silent.
        if el < Duration::from_millis(700) {
            continue;
        }
        let bytes = p.bytes.load(Ordering::Relaxed);
        let recs = p.records.load(Ordering::Relaxed);
        let line = format!(
            "\r\x1b[2K{}",
            progress_text(bytes, recs, el.as_secs_f64(), total)
        );
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
        drawn = true;
    }
    if drawn {
        let _ = std::io::stderr().write_all(b"\r\x1b[2K");
    }
}

/// The progress line's text: "1.5 GiB read, 1,234,567 records, 800.0 MiB/s, 40% of
/// 3.7 GiB, ETA 3s".
fn progress_text(bytes: u64, recs: u64, secs: f64, total: Option<u64>) -> String {
    let rate = bytes as f64 / secs.max(1e-3);
    let mut line = format!(
        "{} read, {} records, {}/s",
        human_bytes(bytes),
        crate::text::fmt_count(recs),
        human_bytes(rate as u64)
    );
    if let Some(t) = total.filter(|t| *t > 0) {
        let pct = (bytes as f64 / t as f64 * 100.0).min(100.0);
        let eta = if rate > 0.0 {
            (t.saturating_sub(bytes)) as f64 / rate
        } else {
            0.0
        };
        line.push_str(&format!(
            ", {pct:.0}% of {}, ETA {}s",
            human_bytes(t),
            crate::text::fmt_count(eta.round() as u64)
        ));
    }
    line
}

/// 1536 -> "1.5 KiB".
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_numbers_have_thousands_separators() {
        assert_eq!(
            progress_text(1 << 30, 1_234_567, 2.0, Some(4 << 30)),
            "1.0 GiB read, 1,234,567 records, 512.0 MiB/s, 25% of 4.0 GiB, ETA 6s"
        );
        assert_eq!(
            progress_text(1024, 12_345, 1.0, None),
            "1.0 KiB read, 12,345 records, 1.0 KiB/s"
        );
    }

    #[test]
    fn messages_cannot_drive_the_terminal() {
        assert_eq!(escaped("a.json:3: bad"), "a.json:3: bad");
        assert_eq!(
            escaped("a\u{1b}[31mRED\nfake: error.json"),
            "a\\u{1b}[31mRED\\u{a}fake: error.json"
        );
        assert_eq!(escaped("x\u{202e}y"), "x\\u{202e}y");
    }
}
