//! Masking for message templates: the variable parts of a message
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
//!   word (`run_`, `sk-proj-`) keeps the word and masks the rest part by part, and
//!   after a masked part, parts of >= 8 such characters are masked too (a key's
//!   shorter pieces: `SG.<*>.TwL2iGABf9DHoTf-<*>` kept 15 of its characters);
//! - in URLs and absolute paths: the query string (`?<*>`), the fragment, the
//!   user-info (up to the last `@` when a password holds `/`: `s3://id:se/cret@b`),
//!   and any path segment that is itself variable.
//!
//! Masks joined only by punctuation inside one word collapse into one
//! (`10.1.2.3:5432` -> `<*>`, `12:00:00` -> `<*>`); whitespace runs become one space.
//!
//! The masker is a hand-written single pass over the bytes: no regex, and no
//! allocation besides the output string. Every delimiter is ASCII, so slicing at
//! delimiter positions is always on a char boundary.

use super::shapes::*;
use crate::text::cut_chars;

/// Most distinct templates kept; beyond this new templates only count in
/// `Templates`' `overflow` count.
pub const MAX_TEMPLATES: usize = 10_000;

/// Characters of the first line (and of an example) kept.
pub(super) const MAX_CHARS: usize = 300;

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

/// The telling line, trimmed, cut to [`MAX_CHARS`]; true when it was cut. That is the
/// first non-blank line, except for a Python traceback, whose last line names the error.
fn first_line(message: &str) -> (&str, bool) {
    let m = message.trim_start();
    let end = memchr::memchr2(b'\n', b'\r', m.as_bytes()).unwrap_or(m.len());
    let mut line = m[..end].trim_end();
    if line.starts_with("Traceback (most recent call last)") {
        // The exception line is the last one not indented (frames are indented).
        if let Some(last) = m
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty() && !l.starts_with([' ', '\t']))
            .last()
        {
            line = last.trim_end();
        }
    }
    let cut = cut_chars(line, MAX_CHARS);
    (cut, cut.len() < line.len())
}

/// Byte classes, looked up in one table: the scanners test every byte, and a
/// table beats a chain of comparisons there.
const TOKEN_DELIM: u16 = 1;
const SUB_DELIM: u16 = 2;
const URL_END: u16 = 4;
const HEX: u16 = 8;
const SCHEME: u16 = 16;
pub(super) const TOKEN_CHAR: u16 = 32;
// Seen-in-a-word flags: decide which whole-word checks can apply.
const AT: u16 = 64;
const SLASH: u16 = 128;
const COLON: u16 = 256;
const NOT_IPV6: u16 = 512;

pub(super) static CLASS: [u16; 256] = classes();

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

pub(super) fn is_sub_delim(b: u8) -> bool {
    CLASS[usize::from(b)] & SUB_DELIM != 0
}

fn is_url_end(b: u8) -> bool {
    CLASS[usize::from(b)] & URL_END != 0
}

pub(super) fn is_hex(b: u8) -> bool {
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
    /// A quoted span: kept as text when it is a key (`"user":`), else one mask.
    fn key_or_mask(&mut self, line: &str, start: usize, end: usize, key: bool) {
        if key {
            self.word(&line[start..end]);
        } else {
            self.mask();
            self.mask_end = None;
        }
    }

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
                    self.key_or_mask(line, i, end, is_key(inner, &b[end..]));
                    i = end;
                    continue;
                }
            }
            if c == b'\\' && b.get(i + 1) == Some(&b'"') {
                // JSON inside a JSON string: \"key\": \"value\"
                if let Some(p) = memchr::memmem::find(&b[i + 2..], b"\\\"") {
                    let end = i + 2 + p + 2;
                    self.key_or_mask(line, i, end, is_key(&b[i + 2..end - 2], &b[end..]));
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
                let first_slash = after.find('/').unwrap_or(after.len());
                // A password may hold `/` (AWS secret keys): the user-info then runs
                // to the last `@`, as redaction has it.
                let auth_end = match slashed_userinfo_end(after) {
                    Some(at) => after[at..].find('/').map_or(after.len(), |j| at + j),
                    None => first_slash,
                };
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
        // Once a part was a token, shorter random parts after it belong to the same
        // key (`SG.<22>.<43>` split at `.` and `-`): kept, they would leak its bytes.
        let mut min_token = 16;
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
            if is_token_like_from(&s[i..j], min_token) {
                self.mask();
                min_token = 8;
            } else {
                self.word(&s[i..j]);
            }
            i = j;
        }
    }
}

/// First index >= `i` where `stop` holds (or the end).
pub(super) fn scan_until(b: &[u8], i: usize, stop: impl Fn(u8) -> bool) -> usize {
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

/// The last `@` of a URL's `user:password@...` (after `scheme://`) whose password
/// holds a `/`: `user:pa/ss@host`, not `host:8443/users/@me` (digits before the
/// first `/` are a port).
fn slashed_userinfo_end(after: &str) -> Option<usize> {
    let at = after.rfind('@')?;
    let userinfo = &after[..at];
    let colon = userinfo.find(':')?;
    let slash = userinfo.find('/')?;
    let password_head = &userinfo[colon + 1..slash.max(colon + 1)];
    (colon < slash && !password_head.bytes().all(|c| c.is_ascii_digit())).then_some(at)
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
