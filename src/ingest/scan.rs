//! A resumable, string-aware bracket scanner: finds where a JSON value ends
//! without parsing it. Inside strings it jumps with `memchr2` to the next `"`
//! or `\`; outside strings it walks bytes (structure is dense there).

use memchr::memchr2;

/// Scanner state that survives buffer refills.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Scan {
    /// Open `{`/`[` not yet closed (brackets of both kinds count alike).
    depth: u64,
    in_string: bool,
    /// The previous byte was a `\` inside a string.
    escaped: bool,
    /// The last byte of the previous block was a newline outside strings.
    after_newline: bool,
}

/// What ends the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hit {
    /// A `,` at depth 0, at this position (array element end).
    Comma(usize),
    /// A `]` at depth 0, at this position (array end).
    Close(usize),
    /// The value's closing brace brought depth back to 0; position just past it.
    End(usize),
    /// A `{` at the start of a line while the value is still open, at this position.
    LineStartBrace(usize),
}

/// How a scan decides that a value ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// An array element: ends at a depth-0 `,` or `]`.
    Element,
    /// A top-level object: ends when its brace closes, or at a line-start `{`.
    Object,
}

impl Scan {
    /// True when every bracket opened so far is closed and no string is open.
    pub(crate) fn balanced(&self) -> bool {
        self.depth == 0 && !self.in_string
    }

    /// Scans `data[from..]`; `None` means all of it was consumed and the value goes on.
    pub(crate) fn run(&mut self, data: &[u8], from: usize, mode: Mode) -> Option<Hit> {
        let hit = self.scan(data, from, mode);
        if hit.is_none() && data.len() > from {
            // For a `{` at the very start of the next block.
            self.after_newline = !self.in_string && data.last() == Some(&b'\n');
        }
        hit
    }

    fn scan(&mut self, data: &[u8], from: usize, mode: Mode) -> Option<Hit> {
        let mut i = from;
        loop {
            if self.in_string {
                if self.escaped {
                    if i >= data.len() {
                        return None;
                    }
                    self.escaped = false;
                    i += 1;
                }
                let j = quote_or_backslash(data, i)?;
                if data.get(j) == Some(&b'"') {
                    self.in_string = false;
                } else {
                    self.escaped = true;
                }
                i = j + 1;
                continue;
            }
            // Jump over bytes that cannot change the structure (spaces, keys' colons, numbers).
            i = next_structural(data, i)?;
            let b = data.get(i).copied().unwrap_or(b' ');
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => {
                    if mode == Mode::Object && b == b'{' && self.depth > 0 {
                        let after_newline = if i > from {
                            data.get(i - 1) == Some(&b'\n')
                        } else {
                            self.after_newline
                        };
                        if after_newline {
                            return Some(Hit::LineStartBrace(i));
                        }
                    }
                    self.depth = self.depth.saturating_add(1);
                }
                b'}' | b']' => {
                    if self.depth == 0 {
                        if mode == Mode::Element && b == b']' {
                            return Some(Hit::Close(i));
                        }
                        // A stray closer stays part of the value; the entry stage rejects it.
                    } else {
                        self.depth -= 1;
                        if self.depth == 0 && mode == Mode::Object {
                            return Some(Hit::End(i + 1));
                        }
                    }
                }
                b',' if self.depth == 0 && mode == Mode::Element => return Some(Hit::Comma(i)),
                _ => {}
            }
            i += 1;
        }
    }
}

/// Eight bytes at a time, without `unsafe`: logs are mostly short strings and
/// indentation, where a `memchr` call costs more than it saves.
const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `x` equal to `b`; exact for the lowest match.
#[inline(always)]
fn bytes_eq(x: u64, b: u8) -> u64 {
    let y = x ^ (LO * u64::from(b));
    y.wrapping_sub(LO) & !y & HI
}

#[inline(always)]
fn word(data: &[u8], i: usize) -> Option<u64> {
    let bytes: [u8; 8] = data.get(i..i + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// Position of the next byte at or after `i` that can matter outside strings:
/// `"` `,` `{` `}` `[` `]` (and, harmlessly, a few control bytes).
#[inline]
fn next_structural(data: &[u8], mut i: usize) -> Option<usize> {
    while let Some(x) = word(data, i) {
        // `| 0x20` folds `[`/`]` onto `{`/`}`; it also lets 0x02 and 0x0c through.
        let y = x | (LO * 0x20);
        let m = bytes_eq(y, b'"') | bytes_eq(y, b',') | bytes_eq(y, b'{') | bytes_eq(y, b'}');
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let rest = data.get(i..)?;
    let k = rest
        .iter()
        .position(|&b| matches!(b, b'"' | b',' | b'{' | b'}' | b'[' | b']'))?;
    Some(i + k)
}

/// Position of the next `"` or `\\` at or after `i`.
#[inline]
fn quote_or_backslash(data: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    // Short strings (keys, levels, ids) end within a few words.
    for _ in 0..4 {
        let Some(x) = word(data, j) else { break };
        let m = bytes_eq(x, b'"') | bytes_eq(x, b'\\');
        if m != 0 {
            return Some(j + (m.trailing_zeros() / 8) as usize);
        }
        j += 8;
    }
    memchr2(b'"', b'\\', data.get(j..)?).map(|k| j + k)
}

/// JSON whitespace.
#[inline]
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `data[start..end]` without leading and trailing JSON whitespace, as a range.
#[inline]
pub(crate) fn trim(data: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && data.get(start).is_some_and(|&b| is_ws(b)) {
        start += 1;
    }
    while end > start && data.get(end - 1).is_some_and(|&b| is_ws(b)) {
        end -= 1;
    }
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(input: &[u8], mode: Mode) -> Option<Hit> {
        Scan::default().run(input, 0, mode)
    }

    #[test]
    fn object_end_ignores_braces_in_strings() {
        let s = br#"{"a":"}{][","b":"\"}","c":"\\"} tail"#;
        assert_eq!(whole(s, Mode::Object), Some(Hit::End(s.len() - 5)));
    }

    #[test]
    fn element_stops_at_depth_zero_comma_or_close() {
        assert_eq!(
            whole(br#"{"a":[1,2]} , 3"#, Mode::Element),
            Some(Hit::Comma(12))
        );
        assert_eq!(whole(br#""x,]" ]"#, Mode::Element), Some(Hit::Close(6)));
    }

    #[test]
    fn resumes_byte_by_byte_across_every_state() {
        let s = br#"{"k\\\"{":"v\n\\","n":[{"x":"]"}]}"#;
        let mut scan = Scan::default();
        let mut hit = None;
        for i in 0..s.len() {
            hit = scan.run(&s[..=i], i, Mode::Object);
            if hit.is_some() {
                break;
            }
        }
        assert_eq!(hit, Some(Hit::End(s.len())));
    }

    #[test]
    fn line_start_brace_inside_an_open_object() {
        let s = b"{\"a\": 1\n{\"b\": 2}";
        assert_eq!(whole(s, Mode::Object), Some(Hit::LineStartBrace(8)));
        // Indented nested objects are not line starts.
        let s = b"{\"a\":\n  {\"b\": 2}\n}";
        assert_eq!(whole(s, Mode::Object), Some(Hit::End(s.len())));
    }

    #[test]
    fn trim_strips_json_whitespace() {
        assert_eq!(trim(b" \t{}\r\n", 0, 6), (2, 4));
        assert_eq!(trim(b"   ", 0, 3), (3, 3));
    }
}
