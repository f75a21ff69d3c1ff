//! A resumable, string-aware bracket scanner: finds where a JSON value ends
//! without parsing it. Array elements are scanned 64 bytes at a time with bit masks
//! (strings from a prefix XOR of the quotes); the byte-wise scan, which jumps with
//! `memchr3` to the next `"`, `\` or newline inside strings, handles objects, blocks
//! holding a backslash, and the tail of the buffer.

use memchr::memchr3;
use wide::u8x16;

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
    /// A `,` at depth 0, at this position (array element or object member end).
    Comma(usize),
    /// A `]` at depth 0 (array end), or in member mode a `}` or `]`, at this position.
    Close(usize),
    /// The value's closing brace brought depth back to 0; position just past it.
    End(usize),
    /// A `{` at the start of a line while the value is still open, at this position.
    LineStartBrace(usize),
    /// A raw newline inside a string (or right after a `\` there), at this position.
    /// JSON strings hold none, so the string was cut short; read on, the rest of the
    /// input would be the inside of that string.
    BrokenString(usize),
}

/// How a scan decides that a value ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// An array element: ends at a depth-0 `,` or `]`.
    Element,
    /// A top-level object: ends when its brace closes, at a line-start `{`, or at a
    /// string cut by its line's end.
    Object,
    /// An object's member (key, `:` and value) being skipped: ends at a depth-0 `,`,
    /// or at the `}` (or a stray `]`) that closes the object holding it.
    Member,
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
        let from = if mode == Mode::Element {
            match self.blocks(data, from) {
                Ok(hit) => return Some(hit),
                Err(next) => next,
            }
        } else {
            from
        };
        self.bytes(data, from, mode)
    }

    /// Element mode, 64 bytes at a time: bit masks of quotes and structure, strings
    /// found by a prefix XOR of the quote mask, and a block whose closing brackets
    /// cannot bring the depth to 0 skipped by counting alone. A block holding a `\`
    /// (or following one) goes through [`Scan::bytes`], so escapes keep their exact
    /// meaning; both paths leave the same state. `Err(i)`: consumed up to `i`.
    fn blocks(&mut self, data: &[u8], mut i: usize) -> Result<Hit, usize> {
        while let Some(block) = data.get(i..i + 64) {
            let vs = vectors(block);
            let Some(m) = vs.as_ref().filter(|_| !self.escaped).and_then(masks) else {
                if let Some(hit) = self.bytes(&data[..i + 64], i, Mode::Element) {
                    return Ok(hit);
                }
                i += 64;
                continue;
            };
            let carry = if self.in_string { !0 } else { 0 };
            let inside = prefix_xor(m.quote) ^ carry;
            if newlines(vs.as_ref()) & inside != 0 {
                // A string cut short: the byte scan finds exactly where, and whether
                // the element ended before it.
                if let Some(hit) = self.bytes(&data[..i + 64], i, Mode::Element) {
                    return Ok(hit);
                }
                i += 64;
                continue;
            }
            self.in_string = inside >> 63 == 1;
            let brackets = m.brackets & !inside;
            // Most blocks of a record hold no bracket outside strings: inside the
            // element the depth stays, and no comma can end it.
            if brackets == 0 && self.depth > 0 {
                i += 64;
                continue;
            }
            let open = vs.as_ref().map_or(0, openers) & brackets;
            let close = brackets & !open;
            let closes = ones(close);
            if closes < self.depth {
                // Depth stays above 0 here: no comma or `]` of this element's level.
                self.depth = (self.depth - closes).saturating_add(ones(open));
            } else {
                let comma = vs.as_ref().map_or(0, commas) & !inside;
                let mut events = brackets | comma;
                while events != 0 {
                    let k = events.trailing_zeros();
                    let bit = 1u64 << k;
                    events &= events - 1;
                    let at = i + k as usize;
                    if open & bit != 0 {
                        self.depth = self.depth.saturating_add(1);
                    } else if close & bit != 0 {
                        if self.depth > 0 {
                            self.depth -= 1;
                        } else if block[k as usize] == b']' {
                            self.in_string = false;
                            return Ok(Hit::Close(at));
                        }
                    } else if self.depth == 0 {
                        self.in_string = false;
                        return Ok(Hit::Comma(at));
                    }
                }
            }
            i += 64;
        }
        Err(i)
    }

    /// The byte-at-a-time scan (both modes), resumable at any byte.
    fn bytes(&mut self, data: &[u8], from: usize, mode: Mode) -> Option<Hit> {
        let mut i = from;
        loop {
            if self.in_string {
                if self.escaped {
                    match data.get(i) {
                        None => return None,
                        // `\` then a line end (`"C:\temp\"`, a cut line): no JSON escape.
                        Some(b'\n') => return Some(Hit::BrokenString(i)),
                        Some(_) => {}
                    }
                    self.escaped = false;
                    i += 1;
                }
                let j = string_stop(data, i)?;
                match data.get(j) {
                    Some(b'"') => self.in_string = false,
                    Some(b'\n') => return Some(Hit::BrokenString(j)),
                    _ => self.escaped = true,
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
                        if (mode == Mode::Element && b == b']') || mode == Mode::Member {
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
                b',' if self.depth == 0 && mode != Mode::Object => return Some(Hit::Comma(i)),
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

/// One 64-byte block's masks (bit k: byte k).
struct Masks {
    quote: u64,
    /// `{` `}` `[` `]`.
    brackets: u64,
}

/// The block's 16-byte vectors.
#[inline(always)]
fn vectors(block: &[u8]) -> Option<[u8x16; 4]> {
    let mut out = [u8x16::ZERO; 4];
    for (v, part) in out.iter_mut().zip(block.chunks_exact(16)) {
        *v = u8x16::new(part.try_into().ok()?);
    }
    Some(out)
}

/// Bit k of the block set where `f` holds for byte k.
#[inline(always)]
fn bits(vs: &[u8x16; 4], f: impl Fn(u8x16) -> u8x16) -> u64 {
    vs.iter().enumerate().fold(0, |acc, (k, &v)| {
        acc | u64::from(f(v).move_mask() as u16) << (16 * k)
    })
}

/// The block's masks, or `None` when it holds a backslash: 16 bytes per vector
/// compare (`wide` maps them to SSE2/NEON without `unsafe` here).
#[inline]
fn masks(vs: &[u8x16; 4]) -> Option<Masks> {
    let bs = u8x16::splat(b'\\');
    if vs
        .iter()
        .fold(u8x16::ZERO, |acc, &v| acc | v.cmp_eq(bs))
        .any()
    {
        return None;
    }
    // `b | 0x20` is `{` exactly for `{` and `[`, `}` exactly for `}` and `]`.
    let (lower, open, close, quote) = (
        u8x16::splat(0x20),
        u8x16::splat(b'{'),
        u8x16::splat(b'}'),
        u8x16::splat(b'"'),
    );
    Some(Masks {
        quote: bits(vs, |v| v.cmp_eq(quote)),
        brackets: bits(vs, |v| {
            let l = v | lower;
            l.cmp_eq(open) | l.cmp_eq(close)
        }),
    })
}

/// The block's newlines.
#[inline]
fn newlines(vs: Option<&[u8x16; 4]>) -> u64 {
    let newline = u8x16::splat(b'\n');
    vs.map_or(0, |vs| bits(vs, |v| v.cmp_eq(newline)))
}

/// The block's `{` and `[`, needed only where a bracket is.
#[inline]
fn openers(vs: &[u8x16; 4]) -> u64 {
    let (lower, open) = (u8x16::splat(0x20), u8x16::splat(b'{'));
    bits(vs, |v| (v | lower).cmp_eq(open))
}

/// The block's commas, needed only where the element may end.
#[inline]
fn commas(vs: &[u8x16; 4]) -> u64 {
    let comma = u8x16::splat(b',');
    bits(vs, |v| v.cmp_eq(comma))
}

/// Set bits of `x`. Most blocks of a pretty array hold no bracket, and without the
/// `popcnt` instruction (not in baseline x86-64) a count costs a dozen instructions.
#[inline(always)]
fn ones(x: u64) -> u64 {
    if x == 0 {
        0
    } else {
        u64::from(x.count_ones())
    }
}

/// Bit k set when an odd number of bits at or below k are set.
#[inline]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
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

/// Position of the next `"`, `\\` or raw newline (the string was cut) at or after `i`.
/// Objects stop at a newline too: a string left open on one line of NDJSON made the
/// rest of the file its inside, and the file was lost.
#[inline]
fn string_stop(data: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    // Short strings (keys, levels, ids) end within a few words.
    for _ in 0..4 {
        let Some(x) = word(data, j) else { break };
        let m = bytes_eq(x, b'"') | bytes_eq(x, b'\\') | bytes_eq(x, b'\n');
        if m != 0 {
            return Some(j + (m.trailing_zeros() / 8) as usize);
        }
        j += 8;
    }
    let rest = data.get(j..)?;
    memchr3(b'"', b'\\', b'\n', rest).map(|k| j + k)
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
    fn member_stops_at_depth_zero_comma_or_closer() {
        let s = br#""k": {"a":[1,"}"]}, "n": 2}"#;
        assert_eq!(whole(s, Mode::Member), Some(Hit::Comma(18)));
        assert_eq!(
            whole(br#""t": "x,}" }"#, Mode::Member),
            Some(Hit::Close(11))
        );
        assert_eq!(
            whole(b"\"t\": \"x\n", Mode::Member),
            Some(Hit::BrokenString(7))
        );
        // A line-start `{` is no end: only objects resync there.
        assert_eq!(
            whole(b"\"k\": [\n{}\n]}", Mode::Member),
            Some(Hit::Close(11))
        );
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
    fn a_string_cut_by_its_line_end_stops_an_object() {
        // Raw, and after a `\` (`"C:\temp\"` then the line end).
        let s = b"{\"a\":\"x\n{\"b\":1}";
        assert_eq!(whole(s, Mode::Object), Some(Hit::BrokenString(7)));
        let s = b"{\"a\":\"x\\\n{\"b\":1}";
        assert_eq!(whole(s, Mode::Object), Some(Hit::BrokenString(8)));
        assert_eq!(whole(s, Mode::Element), Some(Hit::BrokenString(8)));
        // Split right after the `\`.
        let mut scan = Scan::default();
        assert_eq!(scan.run(&s[..8], 0, Mode::Object), None);
        assert_eq!(scan.run(s, 8, Mode::Object), Some(Hit::BrokenString(8)));
        // An escaped `n` is no line end.
        let s = br#"{"a":"x\n"}"#;
        assert_eq!(whole(s, Mode::Object), Some(Hit::End(s.len())));
    }

    /// Every element end of `data` (an array's contents), by the scan under test
    /// resumed after each hit, with the data fed `step` bytes at a time.
    fn element_ends(data: &[u8], step: usize, bytes_only: bool) -> Vec<Hit> {
        let (mut hits, mut scan, mut from, mut fed) = (Vec::new(), Scan::default(), 0, 0);
        while fed < data.len() {
            fed = (fed + step).min(data.len());
            loop {
                let hit = if bytes_only {
                    scan.bytes(&data[..fed], from, Mode::Element)
                } else {
                    scan.run(&data[..fed], from, Mode::Element)
                };
                match hit {
                    Some(h @ (Hit::Comma(i) | Hit::Close(i))) => {
                        hits.push(h);
                        scan = Scan::default();
                        from = i + 1;
                    }
                    Some(h) => panic!("{h:?} in element mode"),
                    None => {
                        from = fed;
                        break;
                    }
                }
            }
        }
        hits
    }

    #[test]
    fn blocks_agree_with_the_byte_scan_at_every_split() {
        // Strings across 64-byte boundaries, escapes (also as a block's last byte),
        // brackets and commas inside strings, nesting, invalid text outside strings.
        let mut data = Vec::new();
        let parts: [&[u8]; 9] = [
            br#"{"a":"x,]}{[","b":[1,{"c":"\"]"}],"d":"\\"}"#,
            b"  \n  { \"k\" : \"".as_slice(),
            br#"{"long":"0123456789012345678901234567890123456789012345678901234567890,]"}"#,
            br#"[[[{}]]]"#,
            br#""\\\"\\""#,
            br#"{"x":"ends in a backslash pair \\\\","y":{"z":[",",","]}}"#,
            br#"}}]]{"#,
            br#"  {"u":"\u005d\u002c"}  "#,
            br#""no comma here"  "#,
        ];
        for round in 0..6 {
            for (i, p) in parts.iter().enumerate() {
                data.extend_from_slice(p);
                data.extend(std::iter::repeat_n(b' ', (i * 7 + round * 13) % 70));
                data.push(if (i + round) % 4 == 0 { b']' } else { b',' });
            }
        }
        let want = element_ends(&data, data.len(), true);
        assert!(want.len() > 20, "{}", want.len());
        for step in [1, 7, 63, 64, 65, 100, 128, 1000, data.len()] {
            assert_eq!(element_ends(&data, step, false), want, "step {step}");
            // Shifted, so blocks start at other offsets.
            let mut shifted = b"   ".to_vec();
            shifted.extend_from_slice(&data);
            let moved: Vec<Hit> = element_ends(&shifted, step, false)
                .into_iter()
                .map(|h| match h {
                    Hit::Comma(i) => Hit::Comma(i - 3),
                    Hit::Close(i) => Hit::Close(i - 3),
                    other => other,
                })
                .collect();
            assert_eq!(moved, want, "shifted, step {step}");
        }
    }

    #[test]
    fn prefix_xor_marks_string_interiors() {
        assert_eq!(prefix_xor(0b1001), 0b0111);
        assert_eq!(prefix_xor(1 << 63), 1 << 63);
        assert_eq!(prefix_xor(1), !0);
    }

    #[test]
    fn trim_strips_json_whitespace() {
        assert_eq!(trim(b" \t{}\r\n", 0, 6), (2, 4));
        assert_eq!(trim(b"   ", 0, 3), (3, 3));
    }
}
