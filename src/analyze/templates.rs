//! Message templates for errors no rule matched: the variable parts of a message
//! are masked (the Drain / logparser "masking" step) so that "User 12345 not found"
//! and "User 999 not found" count as one template, `User <*> not found`.
//!
//! Masking scheme: every variable part becomes the single mask `<*>` (no typed masks,
//! so templates stay stable when, say, a host is sometimes an IP and sometimes a name).
//! Only the first line of a message is used (tracebacks are multi-line), trimmed and
//! cut to 300 characters. Masked:
//!
//! - quoted strings, `'...'` and `"..."`, except short identifier-like keys followed
//!   by `:` (JSON / Python dict keys are structure, not data); a `"` left open by
//!   the 300-character cut masks the rest;
//! - UUIDs, ISO-8601 timestamps, IPv4 (with port) and IPv6 addresses;
//! - numbers: integers, decimals, dotted versions, exponents, and numbers with a unit
//!   suffix of up to five letters or `%` (`12ms`, `3.5s`, `512MiB`, `1h30m`, `99%`);
//! - hex: `0x...`, or a run of hex digits of length >= 6 with both digits and
//!   letters, >= 8 with a digit, or >= 16 of any kind;
//! - e-mail addresses, and token-like runs (JWTs, API keys, base64 ids): >= 16
//!   base64/base64url characters that switch between upper case, lower case and
//!   digits at least every fourth character, not counting camelCase humps (so a
//!   name like `MyLongClassName2Handler` stays); a run that starts with a plain
//!   word (`run_`, `sk-proj-`) keeps the word and masks the rest part by part;
//! - in URLs and absolute paths: the query string (`?<*>`), the fragment, the
//!   user-info, and any path segment that is itself variable.
//!
//! Masks joined only by punctuation inside one word collapse into one
//! (`10.1.2.3:5432` -> `<*>`, `12:00:00` -> `<*>`); whitespace runs become one space.
//!
//! The masker is a hand-written single pass over the bytes: no regex, and no
//! allocation besides the output string. Every delimiter is ASCII, so slicing at
//! delimiter positions is always on a char boundary.

use std::collections::{BTreeMap, HashMap};

/// Most distinct templates kept; beyond this new templates only count in
/// [`Templates::overflow`].
pub const MAX_TEMPLATES: usize = 10_000;

/// Characters of the first line (and of an example) kept.
const MAX_CHARS: usize = 300;

/// The one mask.
const MASK: &str = "<*>";

/// Masks the variable parts of a log message: returns a template string.
///
/// ```
/// use logtriage::analyze::templates::template_of;
/// assert_eq!(template_of("User 12345 not found"), "User <*> not found");
/// ```
pub fn template_of(message: &str) -> String {
    let (line, cut) = first_line(message);
    let mut m = Masker {
        out: String::with_capacity(line.len()),
        mask_end: None,
        cut,
    };
    m.line(line);
    let len = m.out.trim_end().len();
    m.out.truncate(len);
    m.out
}

/// First non-blank line, trimmed, cut to [`MAX_CHARS`]; true when it was cut.
fn first_line(message: &str) -> (&str, bool) {
    let m = message.trim_start();
    let end = memchr::memchr2(b'\n', b'\r', m.as_bytes()).unwrap_or(m.len());
    let line = m[..end].trim_end();
    let cut = truncate_chars(line, MAX_CHARS);
    (cut, cut.len() < line.len())
}

/// The first `n` chars of `s` (never splits a char).
fn truncate_chars(s: &str, n: usize) -> &str {
    if s.len() <= n {
        return s; // no more bytes than chars allowed
    }
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Byte classes, looked up in one table: the scanners test every byte, and a
/// table beats a chain of comparisons there.
const TOKEN_DELIM: u16 = 1;
const SUB_DELIM: u16 = 2;
const URL_END: u16 = 4;
const HEX: u16 = 8;
const SCHEME: u16 = 16;
const TOKEN_CHAR: u16 = 32;
// Seen-in-a-word flags: decide which whole-word checks can apply.
const AT: u16 = 64;
const SLASH: u16 = 128;
const COLON: u16 = 256;
const NOT_IPV6: u16 = 512;

static CLASS: [u16; 256] = classes();

const fn classes() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let ws = c.is_ascii_whitespace();
        let mut f = 0;
        // Ends a word: the masker's top-level split.
        if ws
            || matches!(
                c,
                b',' | b';'
                    | b'('
                    | b')'
                    | b'['
                    | b']'
                    | b'{'
                    | b'}'
                    | b'<'
                    | b'>'
                    | b'='
                    | b'|'
                    | b'"'
            )
        {
            f |= TOKEN_DELIM;
        }
        // Splits a word into parts (`pid:123`, `ws_882a42b3eb`); `'` stays inside
        // words so "can't" is one word.
        if c.is_ascii_punctuation() && c != b'\'' {
            f |= SUB_DELIM;
        }
        // Ends a URL or path (which may contain `=`, `&`, `(`).
        if ws
            || matches!(
                c,
                b'"' | b'\'' | b'<' | b'>' | b'|' | b',' | b';' | b')' | b']' | b'}'
            )
        {
            f |= URL_END;
        }
        if c.is_ascii_hexdigit() {
            f |= HEX;
        }
        // May appear in a URL scheme (`postgresql+asyncpg`).
        if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-') {
            f |= SCHEME;
        }
        // May appear in a base64 / base64url token (JWT parts joined by `.`).
        if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'=' | b'_' | b'-' | b'.') {
            f |= TOKEN_CHAR;
        }
        match c {
            b'@' => f |= AT,
            b'/' => f |= SLASH,
            b':' => f |= COLON,
            _ => {}
        }
        // `!` and `?` may be trailing sentence punctuation, stripped before the check.
        if !(c.is_ascii_hexdigit() || matches!(c, b':' | b'.' | b'!' | b'?')) {
            f |= NOT_IPV6;
        }
        t[i] = f;
        i += 1;
    }
    t
}

fn is_token_delim(b: u8) -> bool {
    CLASS[usize::from(b)] & TOKEN_DELIM != 0
}

fn is_sub_delim(b: u8) -> bool {
    CLASS[usize::from(b)] & SUB_DELIM != 0
}

fn is_url_end(b: u8) -> bool {
    CLASS[usize::from(b)] & URL_END != 0
}

fn is_hex(b: u8) -> bool {
    CLASS[usize::from(b)] & HEX != 0
}

/// Writes the template; `mask_end` is the output length right after the last mask
/// while only in-word punctuation followed it (so the next mask can join it).
struct Masker {
    out: String,
    mask_end: Option<usize>,
    /// The line was cut at [`MAX_CHARS`].
    cut: bool,
}

impl Masker {
    fn mask(&mut self) {
        match self.mask_end {
            // Join: drop the punctuation between the two masks.
            Some(e) => self.out.truncate(e),
            None => self.out.push_str(MASK),
        }
        self.mask_end = Some(self.out.len());
    }

    fn word(&mut self, s: &str) {
        if !s.is_empty() {
            self.out.push_str(s);
            self.mask_end = None;
        }
    }

    /// In-word punctuation: keeps a pending join.
    fn punct(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn space(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with(' ') {
            self.out.push(' ');
        }
        self.mask_end = None;
    }

    /// Top level: whitespace, delimiters, quoted strings and words.
    fn line(&mut self, line: &str) {
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_whitespace() {
                self.space();
                i += 1;
                continue;
            }
            if c == b'"' || c == b'\'' {
                // A string the cut left open: the rest is its content.
                let end = quoted_end(b, i).or((self.cut && c == b'"').then_some(b.len()));
                if let Some(end) = end {
                    let inner = &b[i + 1..end.saturating_sub(1).max(i + 1)];
                    if is_key(inner, &b[end..]) {
                        self.word(&line[i..end]);
                    } else {
                        self.mask();
                        self.mask_end = None;
                    }
                    i = end;
                    continue;
                }
            }
            if c == b'\\' && b.get(i + 1) == Some(&b'"') {
                // JSON inside a JSON string: \"key\": \"value\"
                if let Some(p) = memchr::memmem::find(&b[i + 2..], b"\\\"") {
                    let end = i + 2 + p + 2;
                    if is_key(&b[i + 2..end - 2], &b[end..]) {
                        self.word(&line[i..end]);
                    } else {
                        self.mask();
                        self.mask_end = None;
                    }
                    i = end;
                    continue;
                }
            }
            if is_token_delim(c) || c == b'\'' {
                self.out.push(char::from(c));
                self.mask_end = None;
                i += 1;
                continue;
            }
            // One pass finds the word's end and which whole-word shapes it may have.
            let mut end = i;
            let mut seen = 0;
            while end < b.len() {
                let k = CLASS[usize::from(b[end])];
                if k & TOKEN_DELIM != 0 {
                    break;
                }
                seen |= k;
                end += 1;
            }
            let url = (c == b'/' && url_start(&b[i..end]))
                || (seen & COLON != 0 && seen & SLASH != 0 && url_start(&b[i..end]));
            if url {
                end = scan_until(b, i, is_url_end);
            }
            self.token(&line[i..end], url, seen);
            self.mask_end = None;
            i = end;
        }
    }

    /// One whitespace/delimiter-free word; `seen` ORs the classes of its bytes.
    fn token(&mut self, tok: &str, url: bool, seen: u16) {
        let (tok, tail) = split_trailing_punct(tok);
        if url {
            self.url(tok);
        } else if (seen & COLON != 0 && seen & NOT_IPV6 == 0 && is_ipv6(tok))
            || (seen & AT != 0 && is_email(tok))
        {
            self.mask();
        } else if seen & SLASH != 0 {
            self.segments(tok);
        } else {
            self.segment(tok);
        }
        self.punct(tail);
    }

    /// `/`-separated segments: a whole segment may be a token (base64, ...).
    fn segments(&mut self, s: &str) {
        let mut rest = s;
        loop {
            let (seg, next) = match rest.bytes().position(|c| c == b'/') {
                Some(p) => (&rest[..p], Some(&rest[p + 1..])),
                None => (rest, None),
            };
            self.segment(seg);
            match next {
                Some(n) => {
                    self.punct("/");
                    rest = n;
                }
                None => break,
            }
        }
    }

    /// One `/`-free segment: a token, or parts.
    fn segment(&mut self, seg: &str) {
        if is_token_like(seg) && !is_plain_word(first_part(seg)) {
            self.mask();
        } else {
            self.parts(seg);
        }
    }

    /// `scheme://user@host:port/path?query#fragment`, or an absolute path.
    fn url(&mut self, u: &str) {
        let (rest, frag) = match u.find('#') {
            Some(p) => (&u[..p], Some(&u[p + 1..])),
            None => (u, None),
        };
        let (rest, query) = match rest.find('?') {
            Some(p) => (&rest[..p], Some(&rest[p + 1..])),
            None => (rest, None),
        };
        let path = match rest.find("://") {
            Some(p) => {
                self.word(&rest[..p + 3]);
                let after = &rest[p + 3..];
                let auth_end = after.find('/').unwrap_or(after.len());
                let mut host = &after[..auth_end];
                if let Some(at) = host.rfind('@') {
                    // User-info: names and passwords are not part of the template.
                    self.mask();
                    self.punct("@");
                    host = &host[at + 1..];
                }
                if is_ipv6(host.trim_start_matches('[').trim_end_matches(']')) {
                    self.mask();
                } else {
                    self.parts(host);
                }
                &after[auth_end..]
            }
            None => rest,
        };
        self.segments(path);
        // A query or fragment mask never joins the path's last mask.
        self.mask_end = None;
        if let Some(q) = query {
            self.punct("?");
            if !q.is_empty() {
                self.mask();
            }
        }
        if let Some(f) = frag {
            self.mask_end = None;
            self.punct("#");
            if !f.is_empty() {
                self.mask();
            }
        }
    }

    /// Scans a word part by part: at each part start try the variable shapes,
    /// else copy the part; punctuation between parts is copied.
    fn parts(&mut self, s: &str) {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if is_sub_delim(b[i]) {
                let j = scan_until(b, i, |c| !is_sub_delim(c));
                self.punct(&s[i..j]);
                i = j;
                continue;
            }
            if let Some(len) = variable_len(&b[i..]) {
                self.mask();
                i += len;
                continue;
            }
            let j = scan_until(b, i, is_sub_delim);
            if is_token_like(&s[i..j]) {
                self.mask();
            } else {
                self.word(&s[i..j]);
            }
            i = j;
        }
    }
}

/// First index >= `i` where `stop` holds (or the end).
fn scan_until(b: &[u8], i: usize, stop: impl Fn(u8) -> bool) -> usize {
    b[i..]
        .iter()
        .position(|&c| stop(c))
        .map_or(b.len(), |p| i + p)
}

/// End (exclusive) of the quoted string opening at `i`, if it closes on this line.
/// `"` honours backslash escapes; `'` closes at a `'` not followed by a letter or
/// digit, so "don't" inside does not end it.
fn quoted_end(b: &[u8], i: usize) -> Option<usize> {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() {
        let c = b[j];
        if q == b'"' && c == b'\\' {
            j += 2;
            continue;
        }
        if c == q && (q == b'"' || !b.get(j + 1).is_some_and(|n| n.is_ascii_alphanumeric())) {
            return Some(j + 1);
        }
        j += 1;
    }
    None
}

/// A quoted string (`inner`, quotes excluded) followed by `:` (in `after`) and short,
/// with a letter and only identifier characters, is a key ("user_id", "User ID").
fn is_key(inner: &[u8], after: &[u8]) -> bool {
    inner.len() <= 64
        && inner.iter().any(u8::is_ascii_alphabetic)
        && inner.iter().all(|&c| {
            c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b' ' | b'$' | b'@')
        })
        && after
            .iter()
            .find(|c| !c.is_ascii_whitespace())
            .is_some_and(|&c| c == b':')
}

/// Starts with `scheme://` or is an absolute path (`/api/...`).
fn url_start(b: &[u8]) -> bool {
    if b.len() >= 2 && b[0] == b'/' {
        return b[1].is_ascii_alphanumeric() || matches!(b[1], b'_' | b'.' | b'~' | b'-');
    }
    if !b.first().is_some_and(u8::is_ascii_alphabetic) {
        return false;
    }
    // Schemes are short; do not walk long words.
    let n = b
        .iter()
        .take(32)
        .position(|&c| CLASS[usize::from(c)] & SCHEME == 0)
        .unwrap_or(b.len());
    b[n..].starts_with(b"://")
}

/// Splits off trailing sentence punctuation (`.`, `!`, `?`, a single `:`).
fn split_trailing_punct(tok: &str) -> (&str, &str) {
    let b = tok.as_bytes();
    let mut n = b.len();
    while n > 0 {
        match b[n - 1] {
            b'.' | b'!' | b'?' => n -= 1,
            b':' if n < 2 || b[n - 2] != b':' => n -= 1,
            _ => break,
        }
    }
    tok.split_at(n)
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-'))
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-'))
}

/// `::1`, `fe80::1`, `2001:db8::8a2e:370:7334`, or the full eight-group form.
fn is_ipv6(s: &str) -> bool {
    // Cheapest test first: most words fail it at their first non-hex letter.
    if !s.bytes().all(|c| is_hex(c) || c == b':' || c == b'.') {
        return false;
    }
    let colons = s.bytes().filter(|&c| c == b':').count();
    colons >= 2 && (s.contains("::") || colons == 7) && s.bytes().any(is_hex)
}

/// Up to the first `_ - . + =`: "run" of "run_0a61481bffa1". A token that starts
/// with a plain word is masked part by part (-> `run_<*>`), so every id of a kind
/// masks the same way whatever its random part looks like.
fn first_part(s: &str) -> &str {
    s.split(['_', '-', '.', '+', '='])
        .next()
        .unwrap_or_default()
}

/// A random-looking token (see the module header). Random base62 switches
/// character class (camelCase humps aside) at about 0.44 of its characters;
/// identifiers at under 0.25.
fn is_token_like(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 16 || !b.iter().all(|&c| CLASS[usize::from(c)] & TOKEN_CHAR != 0) {
        return false;
    }
    let (mut alnum, mut switches) = (0usize, 0usize);
    let mut letter = false;
    let mut prev = None;
    for &c in b {
        let class = if c.is_ascii_uppercase() {
            Some(0)
        } else if c.is_ascii_lowercase() {
            Some(1)
        } else if c.is_ascii_digit() {
            Some(2)
        } else {
            None
        };
        letter |= matches!(class, Some(0 | 1));
        if class.is_some() {
            alnum += 1;
            // Upper -> lower is a camelCase hump, not randomness.
            if prev.is_some() && prev != class && !(prev == Some(0) && class == Some(1)) {
                switches += 1;
            }
        }
        prev = class;
    }
    letter && switches * 4 >= alnum
}

/// "run", "Thread", "SK": a word, not the start of a random token.
fn is_plain_word(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter().all(u8::is_ascii_alphabetic)
        && (b[1..].iter().all(u8::is_ascii_lowercase) || b.iter().all(u8::is_ascii_uppercase))
}

/// Ends a variable: end of the word or in-word punctuation.
fn at_boundary(b: &[u8], i: usize) -> bool {
    i >= b.len() || is_sub_delim(b[i])
}

/// Length of a variable (UUID, timestamp, hex, number) at the start of `b`, if
/// it ends at a part boundary.
fn variable_len(b: &[u8]) -> Option<usize> {
    let ok = |n: Option<usize>| n.filter(|&n| at_boundary(b, n));
    // Dispatch on the first byte: most parts are words, which no shape can match.
    match b.first()? {
        b'0'..=b'9' => ok(uuid_len(b))
            .or_else(|| ok(timestamp_len(b)))
            .or_else(|| ok(hex_len(b)))
            .or_else(|| ok(number_len(b))),
        b'a'..=b'f' | b'A'..=b'F' => ok(uuid_len(b)).or_else(|| ok(hex_len(b))),
        _ => None,
    }
}

fn digits(b: &[u8], i: usize) -> usize {
    scan_until(b, i, |c| !c.is_ascii_digit()) - i
}

/// `n` digits exactly at `i`.
fn exact_digits(b: &[u8], i: usize, n: usize) -> bool {
    b.len() >= i + n && b[i..i + n].iter().all(u8::is_ascii_digit)
}

fn uuid_len(b: &[u8]) -> Option<usize> {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let mut i = 0;
    for (n, g) in GROUPS.iter().enumerate() {
        if n > 0 {
            if b.get(i) != Some(&b'-') {
                return None;
            }
            i += 1;
        }
        if b.len() < i + g || !b[i..i + g].iter().all(|&c| is_hex(c)) {
            return None;
        }
        i += g;
    }
    Some(i)
}

/// `2024-01-15`, optionally `T12:00[:00[.123]]` and `Z` / `+02:00`.
fn timestamp_len(b: &[u8]) -> Option<usize> {
    if !(exact_digits(b, 0, 4)
        && b.get(4) == Some(&b'-')
        && exact_digits(b, 5, 2)
        && b.get(7) == Some(&b'-')
        && exact_digits(b, 8, 2))
    {
        return None;
    }
    let mut i = 10;
    if !matches!(b.get(i), Some(b'T' | b't' | b'_')) || !exact_digits(b, i + 1, 2) {
        return Some(i);
    }
    if b.get(i + 3) != Some(&b':') || !exact_digits(b, i + 4, 2) {
        return Some(i);
    }
    i += 6;
    if b.get(i) == Some(&b':') && exact_digits(b, i + 1, 2) {
        i += 3;
        if matches!(b.get(i), Some(b'.' | b',')) && digits(b, i + 1) > 0 {
            i += 1 + digits(b, i + 1);
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i += 1,
        Some(b'+' | b'-') if exact_digits(b, i + 1, 2) => {
            i += 3;
            if b.get(i) == Some(&b':') && exact_digits(b, i + 1, 2) {
                i += 3;
            } else if exact_digits(b, i, 2) {
                i += 2;
            }
        }
        _ => {}
    }
    Some(i)
}

/// `0x1f`, or a hex run that is clearly an id (see the module header).
fn hex_len(b: &[u8]) -> Option<usize> {
    if b.len() > 2 && b[0] == b'0' && matches!(b[1], b'x' | b'X') {
        let n = scan_until(b, 2, |c| !is_hex(c));
        return (n > 2).then_some(n);
    }
    let n = scan_until(b, 0, |c| !is_hex(c));
    let hex = &b[..n];
    let has_digit = hex.iter().any(u8::is_ascii_digit);
    let has_letter = hex.iter().any(u8::is_ascii_alphabetic);
    let id = (n >= 6 && has_digit && has_letter) || (n >= 8 && has_digit) || n >= 16;
    id.then_some(n)
}

/// Digits, `.digits`*, exponent, then a unit of up to five letters or `%`;
/// repeated for compound durations (`1h30m`).
fn number_len(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        let d = digits(b, i);
        if d == 0 {
            return (i > 0).then_some(i);
        }
        i += d;
        while b.get(i) == Some(&b'.') && digits(b, i + 1) > 0 {
            i += 1 + digits(b, i + 1);
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
            let e = digits(b, i + 1 + sign);
            if e > 0 {
                i += 1 + sign + e;
            }
        }
        i += unit_len(&b[i..]);
    }
}

/// Up to five letters (`ms`, `MiB`, `µs`) or a `%`; the bytes of whole chars only.
fn unit_len(b: &[u8]) -> usize {
    if b.first() == Some(&b'%') {
        return 1;
    }
    // `b` starts at a char boundary (just after ASCII digits), so from_utf8 on a
    // short prefix only fails at a cut char; fall back to the valid part.
    let head = &b[..b.len().min(24)];
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
    };
    let mut len = 0;
    for (n, c) in text.chars().enumerate() {
        if n == 5 || !c.is_alphabetic() {
            break;
        }
        len += c.len_utf8();
    }
    len
}

/// Per-template aggregate.
#[derive(Debug, Clone)]
struct Stats {
    count: u64,
    revisions: BTreeMap<String, u64>,
    first_seen: Option<i64>,
    last_seen: Option<i64>,
    /// Smallest raw message (cut to [`MAX_CHARS`]) and its insertId: order-independent.
    example: String,
    sample_id: Option<String>,
}

impl Stats {
    fn new(example: &str, sample_id: Option<&str>) -> Self {
        Stats {
            count: 0,
            revisions: BTreeMap::new(),
            first_seen: None,
            last_seen: None,
            example: example.to_string(),
            sample_id: sample_id.map(str::to_string),
        }
    }

    fn time(&mut self, ts: Option<i64>) {
        if let Some(t) = ts {
            self.first_seen = Some(self.first_seen.map_or(t, |f| f.min(t)));
            self.last_seen = Some(self.last_seen.map_or(t, |l| l.max(t)));
        }
    }

    /// Keeps the smallest (example, sample_id) pair.
    fn offer_example(&mut self, example: &str, sample_id: Option<&str>) {
        let smaller = match example.cmp(self.example.as_str()) {
            std::cmp::Ordering::Less => true,
            std::cmp::Ordering::Equal => sample_id < self.sample_id.as_deref(),
            std::cmp::Ordering::Greater => false,
        };
        if smaller {
            example.clone_into(&mut self.example);
            self.sample_id = sample_id.map(str::to_string);
        }
    }

    fn merge(&mut self, o: Stats) {
        self.count += o.count;
        for (r, n) in o.revisions {
            *self.revisions.entry(r).or_default() += n;
        }
        self.time(o.first_seen);
        self.time(o.last_seen);
        self.offer_example(&o.example, o.sample_id.as_deref());
    }
}

/// Accumulates templates; merge-able (parallel workers), deterministic output.
///
/// At most [`MAX_TEMPLATES`] distinct templates are kept; entries of templates seen
/// only after the cap was reached are counted in [`Templates::overflow`]. Results
/// (`top`, `distinct`, `overflow`) do not depend on insertion or merge order as long
/// as the union of all templates stays under the cap; past it, which templates made
/// the cut depends on order (counts of kept ones stay exact for the parts merged).
#[derive(Debug, Default, Clone)]
pub struct Templates {
    map: HashMap<String, Stats>,
    overflow: u64,
}

/// One template in [`Templates::top`].
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSummary {
    /// The masked first line.
    pub template: String,
    /// Entries.
    pub count: u64,
    /// Entries per revision, sorted by revision name (entries without one are not listed).
    pub revisions: Vec<(String, u64)>,
    /// Earliest timestamp, unix nanoseconds.
    pub first_seen: Option<i64>,
    /// Latest timestamp, unix nanoseconds.
    pub last_seen: Option<i64>,
    /// The lexicographically smallest raw message seen, cut to 300 chars.
    pub example: String,
    /// insertId of the entry `example` came from, when it had one.
    pub sample_id: Option<String>,
}

impl Templates {
    /// Adds one message (an error entry no rule matched).
    pub fn add(
        &mut self,
        message: &str,
        revision: Option<&str>,
        ts: Option<i64>,
        sample_id: Option<&str>,
    ) {
        let template = template_of(message);
        let example = truncate_chars(message, MAX_CHARS);
        let full = self.map.len() >= MAX_TEMPLATES;
        let stats = match self.map.get_mut(&template) {
            Some(s) => {
                s.offer_example(example, sample_id);
                s
            }
            None if full => {
                self.overflow += 1;
                return;
            }
            None => self
                .map
                .entry(template)
                .or_insert_with(|| Stats::new(example, sample_id)),
        };
        stats.count += 1;
        if let Some(r) = revision {
            match stats.revisions.get_mut(r) {
                Some(n) => *n += 1,
                None => {
                    stats.revisions.insert(r.to_string(), 1);
                }
            }
        }
        stats.time(ts);
    }

    /// Folds another worker's templates in.
    pub fn merge(&mut self, other: Templates) {
        self.overflow += other.overflow;
        for (t, s) in other.map {
            let full = self.map.len() >= MAX_TEMPLATES;
            match self.map.get_mut(&t) {
                Some(mine) => mine.merge(s),
                None if full => self.overflow += s.count,
                None => {
                    self.map.insert(t, s);
                }
            }
        }
    }

    /// Top `n` templates by count desc, then template asc.
    pub fn top(&self, n: usize) -> Vec<TemplateSummary> {
        let mut all: Vec<(&String, &Stats)> = self.map.iter().collect();
        all.sort_unstable_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0)));
        all.into_iter()
            .take(n)
            .map(|(t, s)| TemplateSummary {
                template: t.clone(),
                count: s.count,
                revisions: s.revisions.iter().map(|(r, c)| (r.clone(), *c)).collect(),
                first_seen: s.first_seen,
                last_seen: s.last_seen,
                example: s.example.clone(),
                sample_id: s.sample_id.clone(),
            })
            .collect()
    }

    /// Distinct templates kept.
    pub fn distinct(&self) -> usize {
        self.map.len()
    }

    /// Entries whose template was new after [`MAX_TEMPLATES`] were kept.
    pub fn overflow(&self) -> u64 {
        self.overflow
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const WORDS: &[&str] = &[
        "error",
        "User",
        "not",
        "found",
        "pid:",
        "(code",
        ")",
        "━",
        "🚀",
        "é",
        "\"",
        "'",
        ",",
        "=",
        "/api/",
        "https://x.io/",
        "?",
        "#",
        "-",
        "_",
        ".",
        ":",
        "0x",
        "\\",
        "can't",
        "\t",
        "\n",
        " ",
        "  ",
        "[",
        "]",
        "{",
        "}",
        "@",
        "%",
        "µs",
        "T",
    ];

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::with_cases(512)
        })]

        #[test]
        fn never_panics_and_stays_one_line(pieces in prop::collection::vec(
            prop_oneof![prop::sample::select(WORDS).prop_map(str::to_string), "[0-9a-fA-F]{1,12}", ".{0,4}"],
            0..80,
        )) {
            let msg = pieces.concat();
            let t = template_of(&msg);
            prop_assert!(!t.contains('\n') && !t.contains('\r'));
            prop_assert_eq!(t.trim(), t.as_str());
        }

        #[test]
        fn numbers_do_not_split_templates(
            skeleton in prop::collection::vec(prop::sample::select(&["User", "failed", "after", "retry", "for", "port", "ms"][..]), 1..12),
            a in prop::collection::vec(0u64..1_000_000, 12),
            b in prop::collection::vec(0u64..1_000_000, 12),
        ) {
            let msg = |nums: &[u64]| {
                skeleton.iter().zip(nums).map(|(w, n)| format!("{w} {n}")).collect::<Vec<_>>().join(" ")
            };
            prop_assert_eq!(template_of(&msg(&a)), template_of(&msg(&b)));
        }
    }

    #[test]
    fn table() {
        let cases: &[(&str, &str)] = &[
            (
                "Failed to connect to database: connection to server at \"10.1.2.3\", port 5432 failed: Connection timed out",
                "Failed to connect to database: connection to server at <*>, port <*> failed: Connection timed out",
            ),
            ("User 12345 not found", "User <*> not found"),
            ("Worker (pid:123) exited with code 3", "Worker (pid:<*>) exited with code <*>"),
            (
                "GET /api/threads/8f3a2c1b-4d5e-4f60-9a1b-2c3d4e5f6a7b 404",
                "GET /api/threads/<*> <*>",
            ),
            ("/api/threads/8f3a2c1b-4d5e-4f60-9a1b-2c3d4e5f6a7b", "/api/threads/<*>"),
            ("GET /api/search?q=foo&limit=10 took 12ms", "GET /api/search?<*> took <*>"),
            (
                "Traceback (most recent call last):\n  File \"/app/main.py\", line 12, in <module>",
                "Traceback (most recent call last):",
            ),
            ("  File \"/app/netra/db.py\", line 42, in connect", "File <*>, line <*>, in connect"),
            (
                "request 3f2b9c4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f failed for user 5589c077-84df-4acf-b88b-a9d86c8c6073",
                "request <*> failed for user <*>",
            ),
            ("timeout after 3.5s (limit 512MiB, 99% used)", "timeout after <*> (limit <*>, <*> used)"),
            ("retry in 1h30m", "retry in <*>"),
            ("at 2024-01-15T12:34:56.789Z deadline exceeded", "at <*> deadline exceeded"),
            ("at 2024-01-15 12:34:56,789 deadline exceeded", "at <*> <*>,<*> deadline exceeded"),
            ("connect to [::1]:8080 refused", "connect to [<*>]:<*> refused"),
            ("connect to 2001:db8::8a2e:370:7334 refused", "connect to <*> refused"),
            ("redis 10.0.0.7:6379 refused", "redis <*> refused"),
            ("MessageBuffer connection ws_882a42b3eb established", "MessageBuffer connection ws_<*> established"),
            ("configuration unchanged (hash 19dcc74)", "configuration unchanged (hash <*>)"),
            ("pointer 0x7ffd5e8c is null", "pointer <*> is null"),
            ("revision netra-backend-00042-abc failed", "revision netra-backend-<*>-abc failed"),
            ("mail to jane.doe+x@example.com bounced.", "mail to <*> bounced."),
            ("KeyError: 'user_id'", "KeyError: <*>"),
            ("can't parse 'don't panic' here", "can't parse <*> here"),
            ("payload {\"code\": 17, \"msg\": \"boom\"}", "payload {\"code\": <*>, \"msg\": <*>}"),
            ("Redis pool nearing capacity: 48/50 connections", "Redis pool nearing capacity: <*> connections"),
            (
                "call https://user:pw@api.example.com:8443/v1/items/12345?token=abc#frag failed",
                "call https://<*>@api.example.com:<*>/v1/items/<*>?<*>#<*> failed",
            ),
            ("see http://10.2.3.4/health.", "see http://<*>/health."),
            ("token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9 rejected", "token <*> rejected"),
            ("Issue #582 remediation", "Issue #<*> remediation"),
            (
                r#"sending {\"authorization\": \"Bearer x\", \"id\": 5}"#,
                r#"sending {\"authorization\": <*>, \"id\": <*>}"#,
            ),
            (
                "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
                "Authorization: Bearer <*>",
            ),
            ("api key sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12 rejected", "api key sk-proj-<*> rejected"),
            ("fatal: unable to access 'https://x.example.com/r.git/': 403", "fatal: unable to access <*>: <*>"),
            ("OpenTelemetry2Exporter and MyLongClassName2Handler failed", "OpenTelemetry2Exporter and MyLongClassName2Handler failed"),
            ("Gemini API returned 429, backing off 1s (attempt 1/5)", "Gemini API returned <*>, backing off <*> (attempt <*>)"),
            ("a   b\tc", "a b c"),
            ("", ""),
            ("\n\n  Error: boom  \nmore", "Error: boom"),
        ];
        for (msg, want) in cases {
            assert_eq!(template_of(msg), *want, "message: {msg:?}");
        }
    }

    #[test]
    fn variants_share_a_template() {
        let groups: &[&[&str]] = &[
            &[
                "schema validated for run run_2ea4ea332db1",
                "schema validated for run run_0a61481bffa1",
                "schema validated for run run_aaaaaa000000",
            ],
            &[
                "session q8W7e6R5t4Y3u2I1o0P9zX rejected",
                "session 7Hk2PqZx9LmW4rT8vN3bYc rejected",
                "session Qw3Er5Ty7Ui9Op1As2Df4G rejected",
            ],
            &[
                "Failed to connect to database: connection to server at \"10.1.2.3\", port 5432 failed: Connection timed out",
                "Failed to connect to database: connection to server at \"172.16.0.9\", port 6432 failed: Connection timed out",
            ],
            &["User 12345 not found", "User 999 not found"],
            &["Worker (pid:123) exited with code 3", "Worker (pid:98765) exited with code 137"],
            &[
                "GET /api/threads/8f3a2c1b-4d5e-4f60-9a1b-2c3d4e5f6a7b 404",
                "GET /api/threads/00000000-0000-0000-0000-000000000000 500",
            ],
        ];
        for g in groups {
            let t = template_of(g[0]);
            for m in &g[1..] {
                assert_eq!(template_of(m), t, "{m:?} vs {:?}", g[0]);
            }
        }
    }

    #[test]
    fn open_quote_at_the_cut_masks_the_rest() {
        let msg = format!("payload {{\"data\": \"{}\"}}", "x y ".repeat(100));
        assert_eq!(template_of(&msg), "payload {\"data\": <*>");
        // Not cut: an unbalanced `"` is punctuation.
        assert_eq!(
            template_of("Unexpected token \" at 5"),
            "Unexpected token \" at <*>"
        );
    }

    #[test]
    fn words_stay() {
        for s in [
            "Traceback (most recent call last):",
            "psycopg2.OperationalError: could not connect to server: Connection refused",
            "Service authentication failed: missing X-Service-ID or X-Service-Secret header",
            "JWT_SECRET_KEY not configured - authentication validation will fail",
            "e2e sha256 utf8 base64 us-central1 deadbeef",
            "━━━ 🚀 Startup ✅ ━━━",
        ] {
            assert_eq!(template_of(s), s);
        }
    }

    #[test]
    fn unicode_is_safe() {
        assert_eq!(
            template_of("🔥 user 42 ━━ failed ✅"),
            "🔥 user <*> ━━ failed ✅"
        );
        assert_eq!(template_of("took 5µs"), "took <*>");
        assert_eq!(template_of("ошибка 42: файл"), "ошибка <*>: файл");
        // A multi-byte char straddling the 300-char cut at every offset.
        for pad in 0..4 {
            let msg = format!("{}{}", "a".repeat(298 + pad), "é━🚀".repeat(10));
            let t = template_of(&msg);
            assert!(t.chars().count() <= MAX_CHARS);
            let msg = format!("{}{}", "1 ".repeat(149), "━".repeat(10 + pad));
            let t = template_of(&msg);
            assert!(t.ends_with('━'));
        }
        // Bytes >= 0x80 everywhere a delimiter might be looked for.
        for s in [
            "\"é",
            "'━",
            "x'🚀",
            "1é",
            "0x",
            "2024-01-01T",
            "/é/1",
            "é://x",
            "a@é.com",
            "::é",
        ] {
            let _ = template_of(s);
        }
    }

    #[test]
    fn example_is_smallest_and_cut() {
        let mut t = Templates::default();
        t.add("User 2 not found", Some("rev-b"), Some(20), Some("id2"));
        t.add("User 10 not found", Some("rev-a"), Some(10), Some("id1"));
        t.add("User 3 not found", None, Some(30), None);
        let top = t.top(5);
        assert_eq!(top.len(), 1);
        let s = &top[0];
        assert_eq!(s.template, "User <*> not found");
        assert_eq!(s.count, 3);
        assert_eq!(s.example, "User 10 not found");
        assert_eq!(s.sample_id.as_deref(), Some("id1"));
        assert_eq!(s.revisions, vec![("rev-a".into(), 1), ("rev-b".into(), 1)]);
        assert_eq!((s.first_seen, s.last_seen), (Some(10), Some(30)));

        let mut t = Templates::default();
        t.add(&"é".repeat(400), None, None, None);
        assert_eq!(t.top(1)[0].example.chars().count(), MAX_CHARS);
    }

    #[test]
    fn top_orders_by_count_then_template() {
        let mut t = Templates::default();
        for m in ["b 1", "b 2", "a x", "c 1", "c 2", "zz"] {
            t.add(m, None, None, None);
        }
        let got: Vec<(String, u64)> = t
            .top(3)
            .into_iter()
            .map(|s| (s.template, s.count))
            .collect();
        assert_eq!(
            got,
            vec![("b <*>".into(), 2), ("c <*>".into(), 2), ("a x".into(), 1)]
        );
        assert_eq!(t.distinct(), 4);
        assert_eq!(t.top(0), vec![]);
    }

    fn worker(msgs: &[(&str, &str, i64, &str)]) -> Templates {
        let mut t = Templates::default();
        for (m, r, ts, id) in msgs {
            t.add(m, Some(r), Some(*ts), Some(id));
        }
        t
    }

    #[test]
    fn merge_is_order_independent() {
        let a = worker(&[
            ("User 5 not found", "r1", 50, "a1"),
            ("disk 90% full", "r1", 7, "a2"),
        ]);
        let b = worker(&[
            ("User 1 not found", "r2", 90, "b1"),
            ("boom", "r2", 1, "b2"),
        ]);
        let c = worker(&[
            ("User 5 not found", "r1", 3, "c1"),
            ("disk 91% full", "r3", 8, "c2"),
        ]);
        let orders = [[&a, &b, &c], [&c, &b, &a], [&b, &a, &c], [&c, &a, &b]];
        let results: Vec<_> = orders
            .iter()
            .map(|o| {
                let mut m = Templates::default();
                for t in o {
                    m.merge((*t).clone());
                }
                m.top(10)
            })
            .collect();
        for r in &results[1..] {
            assert_eq!(r, &results[0]);
        }
        // Merging equals adding everything to one accumulator.
        let mut one = Templates::default();
        for (m, r, ts, id) in [
            ("User 5 not found", "r1", 50, "a1"),
            ("disk 90% full", "r1", 7, "a2"),
            ("User 1 not found", "r2", 90, "b1"),
            ("boom", "r2", 1, "b2"),
            ("User 5 not found", "r1", 3, "c1"),
            ("disk 91% full", "r3", 8, "c2"),
        ] {
            one.add(m, Some(r), Some(ts), Some(id));
        }
        assert_eq!(one.top(10), results[0]);
        let user = &results[0][0];
        assert_eq!(user.template, "User <*> not found");
        assert_eq!(user.count, 3);
        assert_eq!(user.example, "User 1 not found");
        assert_eq!(user.sample_id.as_deref(), Some("b1"));
        assert_eq!(user.revisions, vec![("r1".into(), 2), ("r2".into(), 1)]);
        assert_eq!((user.first_seen, user.last_seen), (Some(3), Some(90)));
    }

    #[test]
    fn cap_counts_overflow() {
        let mut t = Templates::default();
        // Distinct templates: words are kept, numbers are masked.
        let word = |i: usize| {
            let mut w = String::from("err");
            let mut n = i;
            loop {
                w.push(char::from(b'g' + (n % 20) as u8));
                n /= 20;
                if n == 0 {
                    break w;
                }
            }
        };
        for i in 0..MAX_TEMPLATES {
            t.add(&word(i), None, None, None);
        }
        assert_eq!(t.distinct(), MAX_TEMPLATES);
        assert_eq!(t.overflow(), 0);
        t.add("brand new template", None, None, None);
        t.add("another new one", None, None, None);
        t.add(&word(0), None, None, None); // known: still counted
        assert_eq!(t.distinct(), MAX_TEMPLATES);
        assert_eq!(t.overflow(), 2);
        assert_eq!(t.top(1)[0].count, 2);

        let mut other = Templates::default();
        other.add("from another worker", None, None, None);
        other.add("from another worker", None, None, None);
        other.add(&word(1), None, None, None);
        t.merge(other);
        assert_eq!(t.distinct(), MAX_TEMPLATES);
        assert_eq!(t.overflow(), 4);
    }
}
