//! The fast path of [`Entry::parse`](super::Entry::parse): one validating pass over the
//! record that also splits the top-level object and the objects the view needs
//! (`resource`, `resource.labels`, `labels`, `httpRequest`, the payloads...) into
//! `(key, raw value)` pairs, so nothing is scanned twice.
//!
//! It accepts exactly what serde_json accepts for the record (strings without control
//! characters and with valid escapes, the number grammar, literals, structure, nothing
//! but whitespace after the object) and gives up, returning `None`, on anything it
//! does not handle the way serde does: escaped keys, escaped or non-string values of
//! the string fields, a repeated known field, nesting deeper than 64, or any error.
//! The caller then takes the serde_json path, which decides and words the error; so
//! the fast path only has to be right when it succeeds.

use std::borrow::Cow;
use wide::u8x16;

/// Pairs of one object: keys decoded, values as raw JSON text.
pub(crate) type Pairs<'a> = Vec<(Cow<'a, str>, &'a str)>;

/// The record's top-level fields, as the entry view needs them.
#[derive(Default)]
pub(crate) struct Parts<'a> {
    pub timestamp: Option<Cow<'a, str>>,
    pub receive_timestamp: Option<Cow<'a, str>>,
    pub severity: Option<&'a str>,
    pub log_name: Option<Cow<'a, str>>,
    pub insert_id: Option<Cow<'a, str>>,
    pub trace: Option<Cow<'a, str>>,
    pub span_id: Option<Cow<'a, str>>,
    pub text_payload: Option<&'a str>,
    /// `resource` split, when it is an object.
    pub resource: Option<Pairs<'a>>,
    /// `resource.labels` split (the last `labels` key of `resource`), when an object.
    pub resource_labels: Option<Pairs<'a>>,
    pub labels: Option<Pairs<'a>>,
    pub http: Option<Pairs<'a>>,
    pub json_payload: Option<Pairs<'a>>,
    pub proto_payload: Option<Pairs<'a>>,
    pub operation: Option<Pairs<'a>>,
    pub source_location: Option<Pairs<'a>>,
    pub split: Option<Pairs<'a>>,
}

/// Deepest nesting handled here; deeper records take the serde path.
const MAX_DEPTH: u32 = 64;

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

#[inline(always)]
fn word(b: &[u8], i: usize) -> Option<u64> {
    let bytes: [u8; 8] = b.get(i..i + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// High bit of each byte of `x` that is `"`, `\` or a control character; exact for
/// the lowest one.
#[inline(always)]
fn specials(x: u64) -> u64 {
    let q = x ^ (LO * u64::from(b'"'));
    let s = x ^ (LO * u64::from(b'\\'));
    let eq_q = q.wrapping_sub(LO) & !q;
    let eq_s = s.wrapping_sub(LO) & !s;
    let ctl = x.wrapping_sub(LO * 0x20) & !x;
    (eq_q | eq_s | ctl) & HI
}

/// Bit k set when byte `i + k` is `"`, `\` or a control character; `None` when
/// fewer than 16 bytes are left.
#[inline(always)]
fn specials16(b: &[u8], i: usize) -> Option<u16> {
    let bytes: [u8; 16] = b.get(i..i + 16)?.try_into().ok()?;
    let v = u8x16::new(bytes);
    let hit = v.cmp_eq(u8x16::splat(b'"'))
        | v.cmp_eq(u8x16::splat(b'\\'))
        | (v & u8x16::splat(0xE0)).cmp_eq(u8x16::ZERO);
    Some(hit.move_mask() as u16)
}

#[inline(always)]
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

struct P<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> P<'a> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline(always)]
    fn ws(&mut self) -> Option<u8> {
        loop {
            let c = self.peek()?;
            if !is_ws(c) {
                return Some(c);
            }
            self.i += 1;
            // Pretty-printed records (gcloud's arrays) indent every line: skip the
            // spaces eight at a time, the last few with one count of a word's
            // leading spaces.
            if c == b'\n' {
                while let Some(w) = word(self.b, self.i) {
                    let x = w ^ (LO * u64::from(b' '));
                    if x != 0 {
                        self.i += (x.trailing_zeros() / 8) as usize;
                        break;
                    }
                    self.i += 8;
                }
            }
        }
    }

    /// At a `"`: moves past the closing quote; returns the contents' range and whether
    /// they hold an escape.
    ///
    /// Inlined for the common case, a string closed within 32 bytes with no escape
    /// (nine in ten of a Cloud Run record's strings): one or two vector tests, no
    /// call, no register saves. The rest goes to [`P::string_long`].
    #[inline(always)]
    fn string(&mut self) -> Option<(usize, usize, bool)> {
        let start = self.i + 1;
        let mut from = start;
        if let Some(m) = specials16(self.b, start) {
            if m == 0 {
                from = start + 16;
                // Strings of 16 to 31 bytes are the next most common.
                if let Some(m) = specials16(self.b, from) {
                    let j = from + m.trailing_zeros() as usize;
                    if m != 0 && self.b.get(j) == Some(&b'"') {
                        self.i = j + 1;
                        return Some((start, j, false));
                    }
                }
            } else {
                let j = start + m.trailing_zeros() as usize;
                if self.b.get(j) == Some(&b'"') {
                    self.i = j + 1;
                    return Some((start, j, false));
                }
                from = j;
            }
        }
        self.string_long(start, from)
    }

    /// [`P::string`] for strings that are long, hold an escape, or end near the end
    /// of the record: the contents start at `start`, and no special byte comes
    /// before `from`.
    #[inline(never)]
    fn string_long(&mut self, start: usize, from: usize) -> Option<(usize, usize, bool)> {
        let mut i = from;
        let mut escaped = false;
        loop {
            // Find the next `"`, `\` or control byte, sixteen bytes at a time while
            // sixteen are left, then eight.
            let j = loop {
                if let Some(m) = specials16(self.b, i) {
                    if m != 0 {
                        break i + m.trailing_zeros() as usize;
                    }
                    i += 16;
                    continue;
                }
                match word(self.b, i) {
                    Some(x) => {
                        let m = specials(x);
                        if m != 0 {
                            break i + (m.trailing_zeros() / 8) as usize;
                        }
                        i += 8;
                    }
                    None => {
                        let rest = self.b.get(i..)?;
                        let k = rest
                            .iter()
                            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
                        break i + k;
                    }
                }
            };
            match self.b[j] {
                b'"' => {
                    self.i = j + 1;
                    return Some((start, j, escaped));
                }
                b'\\' => {
                    escaped = true;
                    match self.b.get(j + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i = j + 2,
                        b'u' => {
                            let h = self.b.get(j + 2..j + 6)?;
                            if !h.iter().all(|&c| hex(c)) {
                                return None;
                            }
                            i = j + 6;
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
    }

    /// serde_json's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => {
                self.i += 1;
                if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    return None;
                }
            }
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return None;
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return None;
            }
            self.digits();
        }
        Some(())
    }

    #[inline]
    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
    }

    fn literal(&mut self, lit: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + lit.len())? == lit {
            self.i += lit.len();
            Some(())
        } else {
            None
        }
    }

    /// Skips one value (validating it), starting at its first byte; returns its text.
    fn value(&mut self) -> Option<&'a str> {
        let start = self.i;
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            b'{' | b'[' => self.container()?,
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            b'n' => self.literal(b"null")?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return None,
        }
        self.s.get(start..self.i)
    }

    /// Skips an object or array with everything inside, without collecting.
    fn container(&mut self) -> Option<()> {
        // Open brackets as bits (1: object), deepest lowest.
        let mut stack: u64 = 0;
        let mut depth: u32 = 0;
        loop {
            // At the opening bracket of a container.
            let obj = self.peek()? == b'{';
            depth += 1;
            if depth > MAX_DEPTH {
                return None;
            }
            stack = (stack << 1) | u64::from(obj);
            self.i += 1;
            let mut first = true;
            'members: loop {
                let c = self.ws()?;
                if first && c == if stack & 1 == 1 { b'}' } else { b']' } {
                    self.i += 1;
                } else {
                    if stack & 1 == 1 {
                        if c != b'"' {
                            return None;
                        }
                        self.string()?;
                        if self.ws()? != b':' {
                            return None;
                        }
                        self.i += 1;
                        self.ws()?;
                    }
                    match self.peek()? {
                        b'{' | b'[' => break 'members,
                        _ => {
                            self.value()?;
                        }
                    }
                    first = false;
                    // After a member: `,` or the closer.
                    match self.ws()? {
                        b',' => {
                            self.i += 1;
                            continue 'members;
                        }
                        c if c == if stack & 1 == 1 { b'}' } else { b']' } => self.i += 1,
                        _ => return None,
                    }
                }
                // The container closed: pop, and continue the parent after its member.
                loop {
                    stack >>= 1;
                    depth -= 1;
                    if depth == 0 {
                        return Some(());
                    }
                    let closer = if stack & 1 == 1 { b'}' } else { b']' };
                    match self.ws()? {
                        b',' => {
                            self.i += 1;
                            first = false;
                            continue 'members;
                        }
                        c if c == closer => self.i += 1,
                        _ => return None,
                    }
                }
            }
        }
    }

    /// A key: decoded only when it holds no escape (else the caller gives up).
    #[inline]
    fn key(&mut self) -> Option<&'a str> {
        if self.peek()? != b'"' {
            return None;
        }
        let (s, e, escaped) = self.string()?;
        if escaped {
            return None;
        }
        self.s.get(s..e)
    }

    /// Walks an object's members, calling `f(parser, key)` at each value's first byte;
    /// `f` must move past the value.
    #[inline]
    fn members(&mut self, mut f: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        if self.peek()? != b'{' {
            return None;
        }
        self.i += 1;
        if self.ws()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws()?;
            let k = self.key()?;
            if self.ws()? != b':' {
                return None;
            }
            self.i += 1;
            self.ws()?;
            f(self, k)?;
            match self.ws()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A value that is split into pairs when it is an object (else skipped: `None`).
    fn pairs(&mut self) -> Option<Option<Pairs<'a>>> {
        if self.peek()? != b'{' {
            self.value()?;
            return Some(None);
        }
        let mut out = super::pool::take();
        self.members(|p, k| {
            let v = p.value()?;
            out.push((Cow::Borrowed(k), v));
            Some(())
        })?;
        Some(Some(out))
    }

    /// A string field: a string without escapes, or null.
    fn str_field(&mut self) -> Option<Option<Cow<'a, str>>> {
        match self.peek()? {
            b'"' => {
                let (s, e, escaped) = self.string()?;
                if escaped {
                    return None;
                }
                Some(Some(Cow::Borrowed(self.s.get(s..e)?)))
            }
            b'n' => {
                self.literal(b"null")?;
                Some(None)
            }
            _ => None,
        }
    }
}

/// Splits a record; `None` when the serde path must decide.
pub(crate) fn parse(text: &str) -> Option<Parts<'_>> {
    let mut p = P {
        s: text,
        b: text.as_bytes(),
        i: 0,
    };
    p.ws()?;
    let mut out = Parts::default();
    let mut seen: u32 = 0;
    p.members(|p, k| {
        let bit = match k {
            "timestamp" => 0,
            "receiveTimestamp" => 1,
            "severity" => 2,
            "logName" => 3,
            "resource" => 4,
            "insertId" => 5,
            "trace" => 6,
            "spanId" => 7,
            "labels" => 8,
            "httpRequest" => 9,
            "textPayload" => 10,
            "jsonPayload" => 11,
            "protoPayload" => 12,
            "operation" => 13,
            "sourceLocation" => 14,
            "split" => 15,
            _ => {
                p.value()?;
                return Some(());
            }
        };
        // serde rejects a repeated field; let it say so.
        if seen & (1 << bit) != 0 {
            return None;
        }
        seen |= 1 << bit;
        match bit {
            0 => out.timestamp = p.str_field()?,
            1 => out.receive_timestamp = p.str_field()?,
            2 => out.severity = Some(p.value()?),
            3 => out.log_name = p.str_field()?,
            4 => {
                if p.peek()? == b'{' {
                    let mut pairs = super::pool::take();
                    let mut labels = None;
                    p.members(|p, k| {
                        let start = p.i;
                        if k == "labels" {
                            labels = p.pairs()?;
                        } else {
                            p.value()?;
                        }
                        pairs.push((Cow::Borrowed(k), p.s.get(start..p.i)?));
                        Some(())
                    })?;
                    out.resource = Some(pairs);
                    out.resource_labels = labels;
                } else {
                    p.value()?;
                }
            }
            5 => out.insert_id = p.str_field()?,
            6 => out.trace = p.str_field()?,
            7 => out.span_id = p.str_field()?,
            8 => out.labels = p.pairs()?,
            9 => out.http = p.pairs()?,
            10 => out.text_payload = Some(p.value()?),
            11 => out.json_payload = p.pairs()?,
            12 => out.proto_payload = p.pairs()?,
            13 => out.operation = p.pairs()?,
            14 => out.source_location = p.pairs()?,
            _ => out.split = p.pairs()?,
        }
        Some(())
    })?;
    // Nothing but whitespace may follow.
    if p.ws().is_some() {
        return None;
    }
    Some(out)
}

/// Splits a JSON object's text into pairs; `None` when it is not an object or when the
/// serde path must decide (escaped keys, deep nesting).
pub(crate) fn split_object(text: &str) -> Option<Pairs<'_>> {
    let mut p = P {
        s: text,
        b: text.as_bytes(),
        i: 0,
    };
    p.ws()?;
    let pairs = p.pairs()??;
    if p.ws().is_some() {
        return None;
    }
    Some(pairs)
}

/// Validates any JSON text the way serde_json does (true: certainly valid).
#[cfg(test)]
pub(crate) fn valid(text: &str) -> bool {
    let mut p = P {
        s: text,
        b: text.as_bytes(),
        i: 0,
    };
    p.ws().is_some() && p.value().is_some() && p.ws().is_none()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn indented_records_of_every_depth_split_like_serde() {
        for n in 0..24 {
            for nl in ["\n", "\r\n"] {
                let pad = " ".repeat(n);
                let doc =
                    format!("{{{nl}{pad}\"a\": 1,{nl}{pad}\t\"b\": [{nl}{pad}  2{nl}{pad}]{nl}}}");
                assert!(valid(&doc), "{doc:?}");
                let pairs = split_object(&doc).unwrap_or_default();
                let got: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_ref(), *v)).collect();
                let inner = format!("[{nl}{pad}  2{nl}{pad}]");
                assert_eq!(got, [("a", "1"), ("b", inner.as_str())], "{doc:?}");
                let bad = format!("{{{nl}{pad}x\"a\": 1}}");
                assert!(!valid(&bad), "{bad:?}");
            }
        }
    }

    #[test]
    fn agrees_with_serde_on_validity() {
        let cases = [
            r#"{}"#,
            r#"{"a":1}"#,
            r#" {"a" : [1, 2.5, -0.1e+3, true, false, null, {"b": []}] } "#,
            r#"{"a":"\u00e9\n\"\\\/"}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":1e}"#,
            r#"{"a":-}"#,
            r#"{"a":.5}"#,
            r#"{"a":"x"#,
            r#"{"a":"\x"}"#,
            r#"{"a":"\u12g4"}"#,
            "{\"a\":\"tab\there\"}",
            r#"{"a":[1,]}"#,
            r#"{"a":[1 2]}"#,
            r#"{"a":{"b":1,}}"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":1} x"#,
            r#"{"a":tru}"#,
            r#"{"a":[}"#,
            r#"{"a":{]}"#,
            r#"{"a":[[[[]]],[{}]]}"#,
            r#"[1,{"x":[2]}]"#,
            r#"{1:2}"#,
            r#""#,
            r#"{"a":1}}"#,
            r#"{"a":nul}"#,
            r#"{"a":"\ud800"}"#,
        ];
        for c in cases {
            let serde_ok = serde_json::from_str::<serde::de::IgnoredAny>(c).is_ok();
            assert_eq!(valid(c), serde_ok, "{c}");
        }
    }

    #[test]
    fn specials_found_at_every_offset_of_the_vector_and_word_scans() {
        // A quote, an escape, a raw control byte or DEL/non-ASCII at each position of
        // strings long enough for the 16-byte scan, the 8-byte scan and the tail.
        for len in 0..50 {
            for at in 0..len {
                for special in ["\"", "\\n", "\u{1}", "\u{1f}", "\u{7f}", "é", " "] {
                    let mut body: String = "a".repeat(len);
                    body.replace_range(at..=at, special);
                    let rec = format!(r#"{{"m":"{body}","z":1}}"#);
                    let serde_ok = serde_json::from_str::<serde::de::IgnoredAny>(&rec).is_ok();
                    assert_eq!(valid(&rec), serde_ok, "{rec:?}");
                }
            }
        }
    }

    #[test]
    fn long_strings_and_utf8() {
        let long = format!(
            r#"{{"message":"{}é\"{}","n":-12.5e3}}"#,
            "x".repeat(100),
            "y".repeat(37)
        );
        assert!(valid(&long));
        let pairs = split_object(&long).unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[1].1, "-12.5e3");
    }

    #[test]
    fn gives_up_where_serde_decides() {
        assert!(parse(r#"{"timestamp":"a","timestamp":"b"}"#).is_none());
        assert!(parse(r#"{"timestamp":12}"#).is_none());
        assert!(parse(r#"{"time\u0073tamp":"x"}"#).is_none());
        assert!(parse(r#"{"logName":"a\/b"}"#).is_none());
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(70), "]".repeat(70));
        assert!(parse(&deep).is_none());
        let ok = format!("{{\"a\":{}{}}}", "[".repeat(60), "]".repeat(60));
        assert!(parse(&ok).is_some());
        let p = parse(r#"{"resource":{"labels":{"a":"1"},"type":"t","labels":{"b":"2"}},"x":[1]}"#)
            .unwrap();
        assert_eq!(p.resource.unwrap().len(), 3);
        assert_eq!(p.resource_labels.unwrap()[0].0, "b");
    }
}
