//! `entries.list` framing: the Logging API's responses
//! (`{"entries": [LogEntry, ...], "nextPageToken": "..."}`), one or several back to
//! back (a paging script's `>>`), pretty or compact. Each element of a response's
//! `entries` array is a record, framed by the array framer exactly as an element of
//! gcloud's array, so lines, malformed and cut elements read the same. The other
//! members (`nextPageToken`, anything unknown) are skipped with the bracket scanner:
//! only the record being framed is ever buffered, whatever the response's size.
//!
//! Which top-level object is a response is [`opens`]' rule (its first key). In these
//! streams `{}`, the API's answer when nothing matched, is an empty response, and an
//! object that is no response (a LogEntry appended by hand) is framed as a record by
//! the objects framer rather than skipped.

use super::array::{skip_ws, Array};
use super::frame::{Frame, Resync};
use super::objects::Objects;
use super::scan::{is_ws, Hit, Mode, Scan};
use super::sniff::{bom_len, opens, Opens};
use super::ProblemKind;

const CUT: &str = "input ended before the entries.list response's closing }";

/// Where the framer is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between top-level objects: blanks and commas allowed.
    Between,
    /// In a response, after its `{` or a `,`: a key or the closing `}`.
    Key,
    /// After the key `"entries"`: its `:`.
    Colon,
    /// After `"entries":`: its array's `[`.
    Open,
    /// In the `entries` array: the array framer's.
    Entries,
    /// Skipping the rest of a member (or what follows the `entries` array) up to the
    /// `,` or `}` after it.
    Skip,
    /// In a top-level object that is no response: the objects framer's.
    Record,
    /// After garbage: skipping to the next line that starts with `{`.
    Resync { line_start: bool },
}

/// What starts at the next non-blank byte between top-level objects.
enum Next {
    Object(Opens),
    /// A BOM this long (0: no BOM, garbage).
    Bom(usize),
}

/// `entries.list` framer state.
#[derive(Debug)]
pub(crate) struct Entries {
    state: State,
    scan: Scan,
    array: Array,
    objects: Objects,
}

impl Entries {
    pub(crate) fn new() -> Self {
        Entries {
            state: State::Between,
            scan: Scan::default(),
            array: Array::nested(),
            objects: Objects::nested(),
        }
    }

    /// Frames records; returns true when the chunk is full, false when it needs data.
    pub(crate) fn step(&mut self, f: &mut Frame) -> bool {
        loop {
            match self.state {
                State::Between => {
                    let rest = f.data().get(f.pos..).unwrap_or_default();
                    let Some(k) = rest.iter().position(|&b| !is_ws(b) && b != b',') else {
                        f.pos = f.len();
                        return false;
                    };
                    let rest = rest.get(k..).unwrap_or_default();
                    let next = match rest.first() {
                        Some(b'{') => opens(rest, false).map(Next::Object),
                        // A BOM before a response (Windows-saved pages, joined).
                        Some(0xEF) => bom_len(rest, false).map(Next::Bom),
                        _ => Some(Next::Bom(0)),
                    };
                    let p = f.pos + k;
                    // Kept in the buffer until decided (a few KiB at most).
                    f.pos = p;
                    match next {
                        None => return false,
                        Some(Next::Object(Opens::Empty(n)) | Next::Bom(n)) if n > 0 => {
                            f.pos = p + n;
                        }
                        Some(Next::Object(Opens::Response)) => {
                            f.pos = p + 1;
                            self.state = State::Key;
                        }
                        Some(Next::Object(Opens::Record)) => {
                            self.objects.begin(f, p);
                            self.state = State::Record;
                        }
                        Some(_) => {
                            let why = "unexpected text between entries.list responses";
                            if self.garbage(f, p, why) {
                                return true;
                            }
                        }
                    }
                }
                State::Key => {
                    let Some(p) = skip_ws(f) else { return false };
                    let rest = f.data().get(p..).unwrap_or_default();
                    match rest.first() {
                        Some(b'}') => {
                            f.pos = p + 1;
                            self.state = State::Between;
                        }
                        Some(b'"') => {
                            let key = b"\"entries\"";
                            let n = rest.len().min(key.len());
                            if rest.get(..n) != key.get(..n) {
                                // Another member: skipped from its key on.
                                self.scan = Scan::default();
                                self.state = State::Skip;
                            } else if n == key.len() {
                                f.pos = p + n;
                                self.state = State::Colon;
                            } else {
                                return false;
                            }
                        }
                        _ => {
                            if self.garbage(f, p, "expected a key or } in an entries.list response")
                            {
                                return true;
                            }
                        }
                    }
                }
                State::Colon => {
                    let Some(p) = skip_ws(f) else { return false };
                    if f.data().get(p) == Some(&b':') {
                        f.pos = p + 1;
                        self.state = State::Open;
                    } else if self.garbage(f, p, "expected : after \"entries\"") {
                        return true;
                    }
                }
                State::Open => {
                    let Some(p) = skip_ws(f) else { return false };
                    if f.data().get(p) == Some(&b'[') {
                        f.pos = p + 1;
                        self.array = Array::nested();
                        self.state = State::Entries;
                    } else {
                        // Said once, as the records it held are lost; the value is skipped.
                        let line = f.line_at(p);
                        let why = "\"entries\" of an entries.list response is not an array";
                        f.push_problem(line, None, ProblemKind::Malformed(why.to_string()));
                        self.scan = Scan::default();
                        self.state = State::Skip;
                        if f.full() {
                            return true;
                        }
                    }
                }
                State::Entries => {
                    let full = self.array.step(f);
                    if self.array.closed() {
                        // Cut by the next response: its element was reported; the
                        // next response starts at `f.pos`.
                        self.state = if self.array.cut() {
                            State::Between
                        } else {
                            State::Skip
                        };
                        self.scan = Scan::default();
                    } else if !full {
                        return false;
                    }
                    if full {
                        return true;
                    }
                }
                State::Skip => {
                    let from = f.pos;
                    match self.scan.run(f.data(), from, Mode::Member) {
                        None => {
                            f.pos = f.len();
                            return false;
                        }
                        Some(Hit::Comma(at)) => {
                            f.pos = at + 1;
                            self.state = State::Key;
                        }
                        Some(Hit::Close(at)) if f.data().get(at) == Some(&b'}') => {
                            f.pos = at + 1;
                            self.state = State::Between;
                        }
                        Some(Hit::BrokenString(at)) => {
                            let why = "string not closed before the end of its line";
                            if self.garbage(f, at, why) {
                                return true;
                            }
                        }
                        // A stray `]`; member mode reports no `End` or `LineStartBrace`.
                        Some(Hit::Close(at) | Hit::End(at) | Hit::LineStartBrace(at)) => {
                            let why = "unexpected ] in an entries.list response";
                            if self.garbage(f, at, why) {
                                return true;
                            }
                        }
                    }
                }
                State::Record => {
                    let full = self.objects.step(f);
                    if self.objects.idle() {
                        self.state = State::Between;
                    } else if !full {
                        return false;
                    }
                    if full {
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

    /// Reports what is wrong at `p` and resyncs at the next line that starts with `{`
    /// (as objects and the API's pretty responses do); true when the chunk is full.
    fn garbage(&mut self, f: &mut Frame, p: usize, why: &str) -> bool {
        let line = f.line_at(p);
        f.push_problem(line, None, ProblemKind::Malformed(why.to_string()));
        f.pos = p;
        self.state = State::Resync { line_start: false };
        f.full()
    }

    /// Reports a response (or record) left open at the end of the input.
    pub(crate) fn finish(&mut self, f: &mut Frame) {
        let kind = match self.state {
            State::Between if f.pos < f.len() => {
                if f.data().get(f.pos) == Some(&b'{') {
                    ProblemKind::Truncated("input ended before the object's closing }".into())
                } else {
                    // The start of a BOM left waiting for its other bytes.
                    ProblemKind::Malformed("unexpected text between entries.list responses".into())
                }
            }
            State::Between | State::Resync { .. } => return,
            State::Entries => return self.array.finish(f),
            State::Record => return self.objects.finish(f),
            State::Key | State::Colon | State::Open | State::Skip => {
                ProblemKind::Truncated(CUT.to_string())
            }
        };
        let pos = f.pos;
        let line = f.line_at(pos);
        f.push_problem(line, None, kind);
    }

    /// On a read error: frames the open element if it is whole (see [`Array::salvage`]).
    pub(crate) fn salvage(&mut self, f: &mut Frame) {
        if self.state == State::Entries {
            self.array.salvage(f);
        }
        f.open = None;
    }
}
