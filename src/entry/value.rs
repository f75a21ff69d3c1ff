//! Borrowed JSON values and objects read lazily from the record's bytes.
//!
//! A payload is kept as its top-level `(key, raw value)` pairs; nested objects are
//! split only when a rule asks for a dotted path, so no `serde_json::Value` tree is built.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

use super::json::{self, Pairs};

/// One scalar (or composite, left raw) read from an entry.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    /// A JSON string (escapes decoded).
    Str(Cow<'a, str>),
    /// A JSON number, kept as its text so large ids do not lose digits.
    Num(&'a str),
    /// A number computed from a string, e.g. `latency` "0.5s" in seconds.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An object or array, unparsed (its JSON text).
    Raw(&'a str),
}

/// True when `b` holds a `\\`. Eight bytes at a time for the short strings of a
/// record (service, revision, region: memchr's set-up cost more than the search).
fn has_backslash(b: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    if b.len() >= 64 {
        return memchr::memchr(b'\\', b).is_some();
    }
    let word = |w: &[u8]| {
        let x = u64::from_le_bytes(w.try_into().unwrap_or_default()) ^ (LO * u64::from(b'\\'));
        x.wrapping_sub(LO) & !x
    };
    let hit = match b.len().checked_sub(8) {
        // The last eight bytes as one more (overlapping) word: no byte loop.
        Some(last) => b
            .chunks_exact(8)
            .fold(word(&b[last..]), |acc, w| acc | word(w)),
        None => return b.contains(&b'\\'),
    };
    hit & (LO << 7) != 0
}

impl<'a> Value<'a> {
    /// Reads a raw JSON value (valid JSON text) as a scalar where it is one.
    pub fn from_raw(raw: &'a str) -> Value<'a> {
        let text = raw;
        match text.as_bytes().first() {
            Some(b'"') => {
                // Without a backslash the contents are the string itself.
                let inner = text.get(1..text.len().saturating_sub(1)).unwrap_or("");
                if text.len() >= 2 && text.ends_with('"') && !has_backslash(inner.as_bytes()) {
                    return Value::Str(Cow::Borrowed(inner));
                }
                match serde_json::from_str::<Cow<'a, str>>(text) {
                    Ok(s) => Value::Str(s),
                    // A lone surrogate (`\ud83d`): serde refuses it, and the whole
                    // message read as empty, so no rule saw it.
                    Err(_) => match lossy_string(text) {
                        Some(s) => Value::Str(Cow::Owned(s)),
                        None => Value::Raw(raw),
                    },
                }
            }
            Some(b't') => Value::Bool(true),
            Some(b'f') => Value::Bool(false),
            Some(b'n') => Value::Null,
            Some(b'-' | b'0'..=b'9') => Value::Num(text),
            _ => Value::Raw(raw),
        }
    }

    /// The value as text: strings as they are, numbers and booleans as written.
    pub fn as_text(&self) -> Cow<'_, str> {
        match self {
            Value::Str(s) => Cow::Borrowed(s.as_ref()),
            // The other variants copy without allocating.
            other => other.clone().into_text(),
        }
    }

    /// The value as text, as [`Value::as_text`], keeping what it borrows from the record.
    pub fn into_text(self) -> Cow<'a, str> {
        match self {
            Value::Str(s) => s,
            Value::Num(n) | Value::Raw(n) => Cow::Borrowed(n),
            Value::Float(f) => Cow::Owned(f.to_string()),
            Value::Bool(b) => Cow::Borrowed(if b { "true" } else { "false" }),
            Value::Null => Cow::Borrowed("null"),
        }
    }

    /// The value as a number: numbers, and strings that hold one ("1234", "0.5s").
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(n) => n.parse().ok(),
            Value::Float(f) => Some(*f),
            Value::Str(s) => parse_number_text(s),
            _ => None,
        }
    }

    /// The value as a boolean: `true`/`false`, and the strings "true"/"false".
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }
}

/// Decodes a JSON string literal (quotes included) with each lone surrogate escape
/// (`\ud800`, or a high one not followed by a low one) as U+FFFD, as invalid UTF-8
/// is read; `None` when `text` is not a valid string literal.
pub(crate) fn lossy_string(text: &str) -> Option<String> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(k) = rest.find('\\') {
        out.push_str(rest.get(..k)?);
        let esc = rest.get(k + 1..)?;
        let mut chars = esc.chars();
        rest = match chars.next()? {
            'u' => {
                let hi = hex4(esc.get(1..5)?)?;
                let after = esc.get(5..)?;
                let lo = after
                    .strip_prefix("\\u")
                    .and_then(|r| hex4(r.get(..4)?))
                    .filter(|lo| (0xDC00..0xE000).contains(lo));
                match (hi, lo) {
                    (0xD800..=0xDBFF, Some(lo)) => {
                        let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        out.push(char::from_u32(c)?);
                        after.get(6..)?
                    }
                    (0xD800..=0xDFFF, _) => {
                        out.push(char::REPLACEMENT_CHARACTER);
                        after
                    }
                    _ => {
                        out.push(char::from_u32(hi)?);
                        after
                    }
                }
            }
            c => {
                out.push(match c {
                    '"' | '\\' | '/' => c,
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    _ => return None,
                });
                chars.as_str()
            }
        };
    }
    out.push_str(rest);
    Some(out)
}

/// Four hex digits as a number (no sign, unlike `from_str_radix`).
fn hex4(h: &str) -> Option<u32> {
    if h.len() != 4 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(h, 16).ok()
}

/// Parses "1234", "-1.5e3", or a duration in seconds like "0.0123s".
pub fn parse_number_text(s: &str) -> Option<f64> {
    let t = s.trim();
    let t = t.strip_suffix('s').unwrap_or(t);
    if t.is_empty() || !t.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// A JSON object as its top-level pairs, values left raw.
#[derive(Debug, Clone, Default)]
pub struct Object<'a> {
    pairs: Pairs<'a>,
    /// One [`key_bit`] per key: a key whose bit is clear is absent, so looking up a
    /// key the object does not have usually compares no strings.
    keys: u64,
}

impl Drop for Object<'_> {
    fn drop(&mut self) {
        super::pool::give(std::mem::take(&mut self.pairs));
    }
}

/// `a == b`, without a call to memcmp for the short keys and values of log payloads:
/// up to 16 bytes are compared as two overlapping words from each end.
#[inline]
pub(crate) fn short_eq(a: &[u8], b: &[u8]) -> bool {
    fn word<const N: usize>(x: Option<&[u8; N]>) -> Option<[u8; N]> {
        x.copied()
    }
    if a.len() != b.len() {
        return false;
    }
    match a.len() {
        8..=16 => {
            word::<8>(a.first_chunk()) == word(b.first_chunk())
                && word::<8>(a.last_chunk()) == word(b.last_chunk())
        }
        4..=7 => {
            word::<4>(a.first_chunk()) == word(b.first_chunk())
                && word::<4>(a.last_chunk()) == word(b.last_chunk())
        }
        _ => a == b,
    }
}

/// A key's bit in an object's 64-bit key filter, from its length and end bytes.
pub(crate) fn key_bit(k: &str) -> u64 {
    let b = k.as_bytes();
    let (first, last) = (b.first().copied(), b.last().copied());
    let h = ((b.len() as u64 * 31 + u64::from(first.unwrap_or(0))) * 31
        + u64::from(last.unwrap_or(0)))
    .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    1 << (h >> 58)
}

impl<'a> Object<'a> {
    /// Splits a raw value (valid JSON text) into its pairs; `None` when it is not an object.
    pub fn from_raw(raw: &'a str) -> Option<Object<'a>> {
        if !raw.starts_with('{') {
            return None;
        }
        if let Some(pairs) = json::split_object(raw) {
            return Some(Object::from_pairs(pairs));
        }
        // Escaped keys or deep nesting: serde_json decides.
        serde_json::from_str::<SerdeObject<'a>>(raw)
            .ok()
            .map(|o| Object::from_pairs(o.0))
    }

    /// Pairs already split by the entry's parser.
    pub(crate) fn from_pairs(pairs: Pairs<'a>) -> Object<'a> {
        let keys = pairs.iter().fold(0, |acc, (k, _)| acc | key_bit(k));
        Object { pairs, keys }
    }

    /// True when the object may have `key` (false: it certainly has not).
    pub fn may_have(&self, key: &str) -> bool {
        self.may_have_bit(key_bit(key))
    }

    /// The OR of the [`key_bit`]s of its keys.
    pub(crate) fn key_filter(&self) -> u64 {
        self.keys
    }

    /// [`Object::may_have`] with the key's [`key_bit`] computed once, by the caller.
    pub(crate) fn may_have_bit(&self, bit: u64) -> bool {
        self.keys & bit != 0
    }

    /// The raw value of a top-level key (the last one wins on repeats, like JSON parsers).
    pub fn raw(&self, key: &str) -> Option<&'a str> {
        if !self.may_have(key) {
            return None;
        }
        self.raw_unfiltered(key)
    }

    /// [`Object::raw`] without the key filter, for a caller that has tested the key's
    /// bit already.
    pub(crate) fn raw_unfiltered(&self, key: &str) -> Option<&'a str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| short_eq(k.as_bytes(), key.as_bytes()))
            .map(|(_, v)| *v)
    }

    /// A top-level key as a value.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.raw(key).map(Value::from_raw)
    }

    /// A top-level key as a string (strings only).
    pub fn str(&self, key: &str) -> Option<Cow<'a, str>> {
        match self.get(key)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Follows a dotted path; each step into a nested object parses only that object.
    pub fn path(&self, path: &[String]) -> Option<Value<'a>> {
        let (first, rest) = path.split_first()?;
        let mut raw = self.raw(first)?;
        for seg in rest {
            let obj = Object::from_raw(raw)?;
            raw = obj.raw(seg)?;
        }
        Some(Value::from_raw(raw))
    }

    /// The pairs in document order.
    pub fn pairs(&self) -> &[(Cow<'a, str>, &'a str)] {
        &self.pairs
    }

    /// True when the object has no keys.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// The serde_json way to split an object, for what the fast splitter leaves to it.
struct SerdeObject<'a>(Pairs<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for SerdeObject<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = SerdeObject<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<SerdeObject<'a>, M::Error> {
                let mut pairs = Vec::with_capacity(m.size_hint().unwrap_or(8));
                while let Some(k) = m.next_key::<Cow<'de, str>>()? {
                    let v: &'de RawValue = m.next_value()?;
                    pairs.push((k, v.get()));
                }
                Ok(SerdeObject(pairs))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn backslash_found_at_every_offset_and_length() {
        for len in 0..80 {
            let clean = vec![b'a'; len];
            assert!(!has_backslash(&clean), "len {len}");
            // Bytes around `\\` (0x5C) that a sloppy word test could confuse with it.
            let near: Vec<u8> = (0..len).map(|i| [0x5B, 0x5D, 0xDC, 0x00][i % 4]).collect();
            assert!(!has_backslash(&near), "len {len}");
            for at in 0..len {
                let mut b = clean.clone();
                b[at] = b'\\';
                assert!(has_backslash(&b), "len {len} at {at}");
            }
        }
    }

    #[test]
    fn paths_and_types() {
        let raw = r#"{"a":{"b":{"c":"x\"y"}},"n":12,"s":"1234","lat":"0.25s","t":true,"arr":[1]}"#;
        let o = Object::from_raw(raw).unwrap();
        let p = |s: &str| s.split('.').map(String::from).collect::<Vec<_>>();
        assert_eq!(o.path(&p("a.b.c")).unwrap().as_text(), "x\"y");
        assert_eq!(o.path(&p("n")).unwrap().as_f64(), Some(12.0));
        assert_eq!(o.path(&p("s")).unwrap().as_f64(), Some(1234.0));
        assert_eq!(o.path(&p("lat")).unwrap().as_f64(), Some(0.25));
        assert_eq!(o.path(&p("t")).unwrap().as_bool(), Some(true));
        assert!(o.path(&p("a.missing")).is_none());
        assert!(o.path(&p("n.deeper")).is_none());
        assert!(matches!(o.path(&p("arr")).unwrap(), Value::Raw(_)));
        assert_eq!(parse_number_text("abc"), None);
        assert_eq!(parse_number_text("s"), None);
    }

    #[test]
    fn short_eq_agrees_with_slice_equality() {
        let base: Vec<u8> = (b'a'..=b'z').collect();
        for la in 0..20 {
            for lb in 0..20 {
                let (a, b) = (&base[..la], &base[..lb]);
                assert_eq!(short_eq(a, b), a == b, "{la} {lb}");
            }
            // One byte differs, at every position.
            for i in 0..la {
                let mut c = base[..la].to_vec();
                c[i] ^= 1;
                assert!(!short_eq(&base[..la], &c), "{la} {i}");
                assert!(short_eq(&c, &c.clone()));
            }
        }
    }

    #[test]
    fn key_filter_never_hides_a_key() {
        let keys: Vec<String> = (0..300)
            .map(|i| format!("k{i}_{}", "x".repeat(i % 7)))
            .collect();
        let raw = format!(
            "{{{}}}",
            keys.iter()
                .map(|k| format!("\"{k}\":1"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let o = Object::from_raw(&raw).unwrap();
        assert!(keys.iter().all(|k| o.raw(k).is_some()));
        let small = Object::from_raw(r#"{"message":"m","user_type":"regular","":0}"#).unwrap();
        assert!(small.may_have("user_type") && small.may_have(""));
        let absent = [
            "is_service_call",
            "error",
            "connectivity_test",
            "database_status",
        ];
        assert!(absent.iter().filter(|k| small.may_have(k)).count() <= 1);
        assert!(absent.iter().all(|k| small.raw(k).is_none()));
    }

    #[test]
    fn lone_surrogates_decode_as_replacement_characters() {
        let cases = [
            (r#""a\ud800b""#, Some("a\u{FFFD}b")),
            (r#""\udfff\ud83d""#, Some("\u{FFFD}\u{FFFD}")),
            (r#""\ud83d\ud83d\ude00""#, Some("\u{FFFD}\u{1F600}")),
            (
                r#""\\ud800 \"\/\b\f\n\r\t\u00e9""#,
                Some("\\ud800 \"/\u{8}\u{c}\n\r\té"),
            ),
            (r#""\ud83d\u+0ab""#, None),
            (r#""\x""#, None),
            (r#""\ud8"#, None),
            ("12", None),
        ];
        for (raw, want) in cases {
            assert_eq!(lossy_string(raw).as_deref(), want, "{raw}");
        }
        // Valid strings decode as serde_json decodes them.
        let ok = r#""\ud83d\ude00 \u0041\\\"""#;
        let serde: String = serde_json::from_str(ok).unwrap();
        assert_eq!(lossy_string(ok), Some(serde));
    }

    #[test]
    fn big_ids_keep_digits() {
        let o = Object::from_raw(r#"{"id":2838092002611613780}"#).unwrap();
        assert_eq!(o.get("id").unwrap().as_text(), "2838092002611613780");
    }
}
