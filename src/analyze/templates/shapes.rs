//! Shape detectors for the masker: e-mails, IPv6, tokens, UUIDs, timestamps, hex, numbers.

use super::mask::{is_hex, is_sub_delim, scan_until, CLASS, TOKEN_CHAR};
pub(super) fn is_email(s: &str) -> bool {
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
pub(super) fn is_ipv6(s: &str) -> bool {
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
pub(super) fn first_part(s: &str) -> &str {
    s.split(['_', '-', '.', '+', '='])
        .next()
        .unwrap_or_default()
}

/// A random-looking token (see the module header). Random base62 switches
/// character class (camelCase humps aside) at about 0.44 of its characters;
/// identifiers at under 0.25.
pub(super) fn is_token_like(s: &str) -> bool {
    is_token_like_from(s, 16)
}

/// [`is_token_like`] with another length floor: the rest of a word after a token
/// part (`SG.<token>.TwL2iGABf9DHoTf`: 15 characters of the same key).
pub(super) fn is_token_like_from(s: &str, min_len: usize) -> bool {
    let b = s.as_bytes();
    if b.len() < min_len || !b.iter().all(|&c| CLASS[usize::from(c)] & TOKEN_CHAR != 0) {
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
pub(super) fn is_plain_word(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter().all(u8::is_ascii_alphabetic)
        && (b[1..].iter().all(u8::is_ascii_lowercase) || b.iter().all(u8::is_ascii_uppercase))
}

/// Ends a variable: end of the word or in-word punctuation.
pub(super) fn at_boundary(b: &[u8], i: usize) -> bool {
    i >= b.len() || is_sub_delim(b[i])
}

/// Length of a variable (UUID, timestamp, hex, number) at the start of `b`, if
/// it ends at a part boundary.
pub(super) fn variable_len(b: &[u8]) -> Option<usize> {
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

pub(super) fn digits(b: &[u8], i: usize) -> usize {
    scan_until(b, i, |c| !c.is_ascii_digit()) - i
}

/// `n` digits exactly at `i`.
pub(super) fn exact_digits(b: &[u8], i: usize, n: usize) -> bool {
    b.len() >= i + n && b[i..i + n].iter().all(u8::is_ascii_digit)
}

pub(super) fn uuid_len(b: &[u8]) -> Option<usize> {
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
pub(super) fn timestamp_len(b: &[u8]) -> Option<usize> {
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
pub(super) fn hex_len(b: &[u8]) -> Option<usize> {
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
pub(super) fn number_len(b: &[u8]) -> Option<usize> {
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
pub(super) fn unit_len(b: &[u8]) -> usize {
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
