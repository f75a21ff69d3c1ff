//! Array framing: splits top-level JSON arrays (gcloud's `--format=json`,
//! pretty or compact) into their elements. Arrays may follow each other
//! (`cat`-ed exports); element indexes continue across them. Every element is
//! framed, object or not: the entry stage rejects non-objects. Objects after an
//! array (NDJSON appended to a gcloud export) are framed as back-to-back objects.

use super::frame::{Frame, Open, Resync};
use super::objects::Objects;
use super::scan::{is_ws, trim, Hit, Mode, Scan};
use super::sniff::bom_len;
use super::ProblemKind;

const TRUNCATED: &str = "array ended before its closing ]";

/// How far `gcloud logging read --format=json` indents an array's elements.
const GCLOUD_INDENT: usize = 2;

/// Where the framer is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Outside any array: expecting `[` (or nothing more).
    Outside,
    /// After `[` or `,`: expecting an element or `]`.
    ElementStart,
    /// Inside an element.
    Element,
    /// After garbage: skipping to the next line that starts with `[`.
    Resync { line_start: bool },
    /// After an element cut inside a string: skipping to the next line that starts
    /// the next element (`{` indented as the cut one was) or ends the array (`]`).
    NextElement { line_start: bool },
}

/// A too-large element being skipped.
#[derive(Debug, Clone, Copy)]
struct Skip {
    line: u64,
    bytes: u64,
}

/// Array framer state.
#[derive(Debug)]
pub(crate) struct Array {
    state: State,
    scan: Scan,
    skip: Option<Skip>,
    /// Framing of what follows the arrays once an object starts outside them.
    after: Option<Objects>,
    /// Blanks before the open element on its line (gcloud indents elements by 2),
    /// when the line's start is buffered.
    indent: Option<usize>,
    /// Framing one array inside an `entries.list` response: step returns once it
    /// ends (at its `]`, or cut by the next response).
    nested: bool,
    /// The nested array was cut: a line starting with `{` at the left margin began
    /// the next response.
    cut: bool,
}

impl Array {
    pub(crate) fn new() -> Self {
        Array {
            state: State::Outside,
            scan: Scan::default(),
            skip: None,
            after: None,
            indent: None,
            nested: false,
            cut: false,
        }
    }

    /// The framer for one array's elements, just after its `[`, inside an
    /// `entries.list` response.
    pub(crate) fn nested() -> Self {
        Array {
            state: State::ElementStart,
            nested: true,
            ..Array::new()
        }
    }

    /// True once a nested array has ended: `cut()` says whether by its `]`.
    pub(crate) fn closed(&self) -> bool {
        self.nested && self.state == State::Outside
    }

    /// True when a nested array ended at the start of the next response, not at its `]`.
    pub(crate) fn cut(&self) -> bool {
        self.cut
    }

    /// Frames elements; returns true when the chunk is full, false when it needs data.
    pub(crate) fn step(&mut self, f: &mut Frame) -> bool {
        if let Some(o) = &mut self.after {
            return o.step(f);
        }
        loop {
            if self.closed() {
                return false;
            }
            match self.state {
                State::Outside | State::ElementStart => {
                    let Some(p) = skip_ws(f) else { return false };
                    let b = f.data().get(p).copied().unwrap_or(b' ');
                    if self.state == State::Outside {
                        if b == 0xEF {
                            // A BOM before the next array (Windows-saved exports, joined).
                            match bom_len(f.data().get(p..).unwrap_or_default(), false) {
                                Some(0) => {}
                                Some(n) => {
                                    f.pos = p + n;
                                    continue;
                                }
                                None => return false,
                            }
                        }
                        if b == b'[' {
                            self.state = State::ElementStart;
                            self.indent = None;
                            f.pos = p + 1;
                        } else if b == b'{' {
                            // Records as objects from here on: dropping them as "text
                            // after the closing ]" lost every line of an NDJSON tail.
                            return self.after.insert(Objects::new()).step(f);
                        } else {
                            let line = f.line_at(p);
                            let why = "unexpected text after the closing ]".to_string();
                            f.push_problem(line, None, ProblemKind::Malformed(why));
                            self.state = State::Resync { line_start: false };
                            if f.full() {
                                return true;
                            }
                        }
                    } else if b == b']' {
                        self.state = State::Outside;
                        f.pos = p + 1;
                    } else if b == b',' {
                        // An empty element (`[1,,2]`): nothing to frame.
                        f.pos = p + 1;
                    } else {
                        let line = f.line_at(p);
                        f.open = Some(Open { start: p, line });
                        // Elements of one array share their indentation: when this
                        // line's start was compacted away, the last one's stands.
                        self.indent = indent(f.data(), p).or(self.indent);
                        self.scan = Scan::default();
                        self.state = State::Element;
                    }
                }
                State::Element => {
                    let from = f.pos;
                    match self.scan.run(f.data(), from, Mode::Element) {
                        None => {
                            f.pos = f.len();
                            self.overflow(f, from);
                            return false;
                        }
                        Some(hit) => {
                            let at = match hit {
                                Hit::Comma(at) => {
                                    self.state = State::ElementStart;
                                    at
                                }
                                Hit::Close(at) => {
                                    self.state = State::Outside;
                                    at
                                }
                                Hit::BrokenString(at) => {
                                    self.element_broken(f, from, at);
                                    f.pos = at + 1;
                                    self.state = State::NextElement { line_start: true };
                                    if f.full() {
                                        return true;
                                    }
                                    continue;
                                }
                                // Element mode never reports these.
                                Hit::End(at) | Hit::LineStartBrace(at) => at,
                            };
                            self.element_done(f, from, at);
                            f.pos = at + 1;
                            if f.full() {
                                return true;
                            }
                        }
                    }
                }
                State::NextElement { line_start } => {
                    if line_start {
                        let rest = f.data().get(f.pos..).unwrap_or_default();
                        let Some(k) = rest.iter().position(|&b| b != b' ' && b != b'\t') else {
                            return false;
                        };
                        let next = rest.get(k).copied();
                        if self.nested && k == 0 && next == Some(b'{') && self.indent != Some(0) {
                            // Elements sit right of the margin (or on the `[` line):
                            // a `{` at the margin opens the next response.
                            f.pos += k;
                            self.state = State::Outside;
                            self.cut = true;
                            return false;
                        }
                        let resume = match (next, self.indent) {
                            (Some(b'{'), Some(n)) => k == n,
                            // Unknown (the element shared the `[` line): gcloud's 2.
                            (Some(b'{'), None) => k <= GCLOUD_INDENT,
                            // The array's `]` sits left of its elements, or with them
                            // when they are not indented; nested ones sit deeper.
                            (Some(b']'), Some(n)) => k <= n,
                            (Some(b']'), None) => k <= GCLOUD_INDENT,
                            _ => false,
                        };
                        if resume {
                            f.pos += k;
                            self.state = State::ElementStart;
                            continue;
                        }
                    }
                    let line_start = f.past_line();
                    self.state = State::NextElement { line_start };
                    if !line_start {
                        return false;
                    }
                }
                State::Resync { line_start } => match f.resync(line_start, b'[') {
                    Resync::Found => self.state = State::Outside,
                    Resync::Line => self.state = State::Resync { line_start: true },
                    Resync::More { line_start } => {
                        self.state = State::Resync { line_start };
                        return false;
                    }
                },
            }
        }
    }

    /// Ends the element whose delimiter is at `at`; `from` is where this scan started.
    fn element_done(&mut self, f: &mut Frame, from: usize, at: usize) {
        let index = f.take_index();
        if let Some(mut skip) = self.skip.take() {
            skip.bytes += (at - from) as u64;
            let kind = ProblemKind::TooLarge { bytes: skip.bytes };
            f.push_problem(skip.line, Some(index), kind);
        } else if let Some(open) = f.open.take() {
            if at - open.start > f.max_record {
                let bytes = (at - open.start) as u64;
                f.push_problem(open.line, Some(index), ProblemKind::TooLarge { bytes });
            } else {
                let (s, e) = trim(f.data(), open.start, at);
                f.push_record(s, e, open.line, index);
            }
        }
    }

    /// Reports the element cut inside a string at `at` as malformed (too large if it
    /// was being skipped); it takes its index like any element.
    fn element_broken(&mut self, f: &mut Frame, from: usize, at: usize) {
        let skipped = self
            .skip
            .take()
            .map(|s| (s.line, s.bytes + (at - from) as u64));
        f.cut_in_string(skipped, at);
    }

    /// Switches an element that outgrew `max_record` to skipping.
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

    /// Reports an array left open at the end of the input, keeping a last
    /// element whose brackets all closed (`[{"a":1}` keeps `{"a":1}`).
    pub(crate) fn finish(&mut self, f: &mut Frame) {
        if let Some(o) = &mut self.after {
            return o.finish(f);
        }
        let line = match self.state {
            // The start of a BOM left waiting for its other bytes.
            State::Outside if f.pos < f.len() => {
                let line = f.line_at(f.pos);
                let why = "unexpected text after the closing ]".to_string();
                f.push_problem(line, None, ProblemKind::Malformed(why));
                return;
            }
            State::Outside | State::Resync { .. } => return,
            State::ElementStart | State::NextElement { .. } => f.line_at(f.pos),
            State::Element => match (self.skip.take(), f.open) {
                (Some(skip), _) => skip.line,
                (None, Some(open)) => {
                    self.salvage(f);
                    open.line
                }
                (None, None) => f.line_at(f.pos),
            },
        };
        f.push_problem(line, None, ProblemKind::Truncated(TRUNCATED.to_string()));
    }

    /// Frames the open element if it is a complete object or array.
    pub(crate) fn salvage(&mut self, f: &mut Frame) {
        if self.after.is_some() {
            // The objects framer frames only closed objects: nothing to salvage.
            f.open = None;
            return;
        }
        let Some(open) = f.open else { return };
        let opener = f.data().get(open.start).copied();
        if self.state == State::Element
            && self.skip.is_none()
            && self.scan.balanced()
            && matches!(opener, Some(b'{' | b'['))
        {
            let end = f.len();
            self.element_done(f, end, end);
        }
        f.open = None;
    }
}

/// Spaces and tabs before `p` back to a buffered line start.
fn indent(data: &[u8], p: usize) -> Option<usize> {
    let before = data.get(..p)?;
    let blanks = before
        .iter()
        .rev()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let start = p - blanks;
    (start > 0 && before.get(start - 1) == Some(&b'\n')).then_some(blanks)
}

/// Moves `f.pos` past whitespace; returns the next non-blank position, if buffered.
pub(crate) fn skip_ws(f: &mut Frame) -> Option<usize> {
    let rest = f.data().get(f.pos..).unwrap_or_default();
    match rest.iter().position(|&b| !is_ws(b)) {
        Some(k) => {
            f.pos += k;
            Some(f.pos)
        }
        None => {
            f.pos = f.len();
            None
        }
    }
}
