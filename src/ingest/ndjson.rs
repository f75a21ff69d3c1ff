//! NDJSON framing: one record per non-blank line, found with `memchr`; a UTF-8 BOM
//! at a line's start is skipped.
//! A line longer than `max_record` is skipped as it streams by, never buffered whole.

use memchr::memchr;

use super::frame::Frame;
use super::scan::trim;
use super::sniff::BOM;
use super::ProblemKind;

/// A too-long line being skipped.
#[derive(Debug, Clone, Copy)]
struct Skip {
    line: u64,
    index: u64,
    bytes: u64,
}

/// Line framer state.
#[derive(Debug, Default)]
pub(crate) struct Ndjson {
    skip: Option<Skip>,
}

impl Ndjson {
    /// Frames complete lines; returns true when the chunk is full, false when it needs data.
    pub(crate) fn step(&mut self, f: &mut Frame) -> bool {
        loop {
            let found = memchr(b'\n', f.data().get(f.pos..).unwrap_or_default());
            if let Some(mut skip) = self.skip.take() {
                match found {
                    None => {
                        skip.bytes += (f.len() - f.pos) as u64;
                        f.pos = f.len();
                        self.skip = Some(skip);
                        return false;
                    }
                    Some(k) => {
                        skip.bytes += k as u64;
                        let nl = f.pos + k;
                        too_large(f, skip);
                        f.newline_at(nl);
                        f.pos = nl + 1;
                    }
                }
            } else {
                match found {
                    None => {
                        let partial = f.len() - f.pos;
                        if partial > f.max_record {
                            // Too long already: skip it without waiting for its end.
                            self.skip = Some(Skip {
                                line: f.line(),
                                index: f.take_index(),
                                bytes: partial as u64,
                            });
                            f.pos = f.len();
                        }
                        return false;
                    }
                    Some(k) => {
                        let nl = f.pos + k;
                        line(f, f.pos, nl);
                        f.newline_at(nl);
                        f.pos = nl + 1;
                    }
                }
            }
            if f.full() {
                return true;
            }
        }
    }

    /// Handles the last line when the input ends without a newline.
    pub(crate) fn finish(&mut self, f: &mut Frame) {
        if let Some(skip) = self.skip.take() {
            too_large(f, skip);
        } else if f.pos < f.len() {
            line(f, f.pos, f.len());
            f.pos = f.len();
        }
    }
}

fn too_large(f: &mut Frame, skip: Skip) {
    f.push_problem(
        skip.line,
        Some(skip.index),
        ProblemKind::TooLarge { bytes: skip.bytes },
    );
}

/// Frames one line `data[start..end)` (without its `\n`).
#[inline]
fn line(f: &mut Frame, start: usize, end: usize) {
    if end - start > f.max_record {
        let (index, line) = (f.take_index(), f.line());
        let bytes = (end - start) as u64;
        f.push_problem(line, Some(index), ProblemKind::TooLarge { bytes });
        return;
    }
    let (mut s, e) = trim(f.data(), start, end);
    if f.data().get(s) == Some(&0xEF) && f.data().get(s..e).is_some_and(|r| r.starts_with(BOM)) {
        // Files saved on Windows and joined with `cat` (or gzip members, each with
        // its BOM): a record lost as "not a JSON object" at every join.
        s = trim(f.data(), s + BOM.len(), e).0;
    }
    if s == e {
        return;
    }
    let (index, line) = (f.take_index(), f.line());
    if f.data().get(s) == Some(&b'{') {
        f.push_record(s, e, line, index);
    } else {
        f.push_problem(
            line,
            Some(index),
            ProblemKind::Malformed("not a JSON object".to_string()),
        );
    }
}
