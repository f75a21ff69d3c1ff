//! Objects framing: JSON objects back to back (pretty ones pasted one after
//! another, or several on a line), separated by whitespace or commas. Text
//! between objects, or an object whose string is cut by its line's end, is
//! reported once, then framing resumes at the next line that starts with `{`.
//! A UTF-8 BOM before an object is skipped.

use super::frame::{Frame, Open, Resync};
use super::scan::{is_ws, Hit, Mode, Scan};
use super::sniff::bom_len;
use super::ProblemKind;

/// Where the framer is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between objects: whitespace and commas allowed.
    Between,
    /// Inside an object.
    Object,
    /// After garbage: skipping to the next line that starts with `{`.
    Resync { line_start: bool },
}

/// A too-large object being skipped.
#[derive(Debug, Clone, Copy)]
struct Skip {
    line: u64,
    bytes: u64,
}

/// Objects framer state.
#[derive(Debug)]
pub(crate) struct Objects {
    state: State,
    scan: Scan,
    skip: Option<Skip>,
    /// Framing one object at a time for the `entries.list` framer: step returns
    /// between objects.
    nested: bool,
}

impl Objects {
    pub(crate) fn new() -> Self {
        Objects {
            state: State::Between,
            scan: Scan::default(),
            skip: None,
            nested: false,
        }
    }

    /// A framer that [`Objects::begin`] hands one object at a time.
    pub(crate) fn nested() -> Self {
        Objects {
            nested: true,
            ..Objects::new()
        }
    }

    /// Starts framing the object whose `{` is at `p`.
    pub(crate) fn begin(&mut self, f: &mut Frame, p: usize) {
        let line = f.line_at(p);
        f.open = Some(Open { start: p, line });
        self.scan = Scan::default();
        self.skip = None;
        self.state = State::Object;
        f.pos = p;
    }

    /// True when a nested framer is done with its object (`f.pos` is past it).
    pub(crate) fn idle(&self) -> bool {
        self.nested && self.state == State::Between
    }

    /// Frames objects; returns true when the chunk is full, false when it needs data.
    pub(crate) fn step(&mut self, f: &mut Frame) -> bool {
        loop {
            if self.idle() {
                return false;
            }
            match self.state {
                State::Between => {
                    let rest = f.data().get(f.pos..).unwrap_or_default();
                    let Some(k) = rest.iter().position(|&b| !is_ws(b) && b != b',') else {
                        f.pos = f.len();
                        return false;
                    };
                    let opens = rest.get(k) == Some(&b'{');
                    let p = f.pos + k;
                    if !opens && rest.get(k) == Some(&0xEF) {
                        // A BOM before an object (files saved on Windows, joined).
                        match bom_len(rest.get(k..).unwrap_or_default(), false) {
                            Some(0) => {}
                            Some(n) => {
                                f.pos = p + n;
                                continue;
                            }
                            None => {
                                f.pos = p;
                                return false;
                            }
                        }
                    }
                    let line = f.line_at(p);
                    if opens {
                        f.open = Some(Open { start: p, line });
                        self.scan = Scan::default();
                        self.state = State::Object;
                        f.pos = p;
                    } else {
                        let why = "unexpected text between objects".to_string();
                        f.push_problem(line, None, ProblemKind::Malformed(why));
                        self.state = State::Resync { line_start: false };
                        f.pos = p + 1;
                        if f.full() {
                            return true;
                        }
                    }
                }
                State::Object => {
                    let from = f.pos;
                    match self.scan.run(f.data(), from, Mode::Object) {
                        None => {
                            f.pos = f.len();
                            self.overflow(f, from);
                            return false;
                        }
                        Some(Hit::End(end)) => {
                            self.object_done(f, from, end);
                            f.pos = end;
                            self.state = State::Between;
                        }
                        Some(Hit::BrokenString(at)) => {
                            self.object_broken(f, from, at);
                            // The rest of its lines are its own: resume at a `{` that
                            // starts a line, as pretty objects and NDJSON lines do.
                            f.pos = at;
                            self.state = State::Resync { line_start: false };
                        }
                        // Object mode reports no `Comma` or `Close`.
                        Some(Hit::LineStartBrace(at) | Hit::Comma(at) | Hit::Close(at)) => {
                            // A new object starts while this one is open: this one was cut.
                            let line = match (self.skip.take(), f.open.take()) {
                                (Some(skip), _) => skip.line,
                                (None, Some(open)) => open.line,
                                (None, None) => f.line_at(at),
                            };
                            let why = "object not closed before the next one starts".to_string();
                            f.push_problem(line, None, ProblemKind::Malformed(why));
                            f.pos = at;
                            self.state = State::Between;
                        }
                    }
                    if f.full() {
                        return true;
                    }
                }
                State::Resync { line_start } => match f.resync(line_start, b'{') {
                    Resync::Found => self.state = State::Between,
                    Resync::Line => self.state = State::Resync { line_start: true },
                    Resync::More { line_start } => {
                        self.state = State::Resync { line_start };
                        return false;
                    }
                },
            }
        }
    }

    /// Ends the object whose closing brace is just before `end`.
    fn object_done(&mut self, f: &mut Frame, from: usize, end: usize) {
        let index = f.take_index();
        if let Some(mut skip) = self.skip.take() {
            skip.bytes += (end - from) as u64;
            let kind = ProblemKind::TooLarge { bytes: skip.bytes };
            f.push_problem(skip.line, Some(index), kind);
        } else if let Some(open) = f.open.take() {
            if end - open.start > f.max_record {
                let bytes = (end - open.start) as u64;
                f.push_problem(open.line, Some(index), ProblemKind::TooLarge { bytes });
            } else {
                f.push_record(open.start, end, open.line, index);
            }
        }
    }

    /// Reports the object cut inside a string at `at` as malformed (too large if it
    /// was being skipped); it takes its index like any object.
    fn object_broken(&mut self, f: &mut Frame, from: usize, at: usize) {
        let skipped = self
            .skip
            .take()
            .map(|s| (s.line, s.bytes + (at - from) as u64));
        f.cut_in_string(skipped, at);
    }

    /// Switches an object that outgrew `max_record` to skipping.
    fn overflow(&mut self, f: &mut Frame, from: usize) {
        if let Some(skip) = &mut self.skip {
            skip.bytes += (f.len() - from) as u64;
        } else if let Some(open) = f.open {
            if f.len() - open.start > f.max_record {
                f.open = None;
                self.skip = Some(Skip {
                    line: open.line,
                    bytes: (f.len() - open.start) as u64,
                });
            }
        }
    }

    /// Reports an object left open at the end of the input, or the start of a BOM
    /// left waiting for its other bytes.
    pub(crate) fn finish(&mut self, f: &mut Frame) {
        if self.state == State::Between && f.pos < f.len() {
            let line = f.line_at(f.pos);
            let why = "unexpected text between objects".to_string();
            f.push_problem(line, None, ProblemKind::Malformed(why));
            return;
        }
        if self.state != State::Object {
            return;
        }
        let line = match (self.skip.take(), f.open.take()) {
            (Some(skip), _) => skip.line,
            (None, Some(open)) => open.line,
            (None, None) => f.line_at(f.pos),
        };
        let why = "input ended before the object's closing }".to_string();
        f.push_problem(line, None, ProblemKind::Truncated(why));
    }
}
