//! Rust `regex` patterns and literals rewritten for RE2, the engine behind Cloud
//! Logging's `=~` (<https://github.com/google/re2/wiki/Syntax>).
//!
//! The two dialects differ where it matters for a filter: Rust's `\w`, `\d`, `\s` and
//! `\b` are Unicode-aware, RE2's are ASCII-only; Rust has `(?x)`, `\u{..}`, class set
//! operations and unbounded counted repetition, RE2 does not. A translation is either
//! [`Dir::Wider`] (RE2 matches at least what Rust matches: fine for keeping entries) or
//! [`Dir::Exact`] (RE2 matches nothing Rust does not: needed under `NOT`). What cannot
//! be translated in the asked direction gives `None`.

/// Which way a translation may differ from the Rust pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    /// RE2 matches a superset of what Rust matches.
    Wider,
    /// RE2 matches a subset (in practice the same set).
    Exact,
}

/// Rust's Unicode `\w` (Alphabetic, marks, decimal digits, connector punctuation,
/// join controls), widened to whole categories RE2 knows.
const WORD_ITEMS: &str = r"\pL\pM\pN\p{Pc}\p{So}\x{200C}\x{200D}";
/// Rust's `\d`: Unicode decimal digits.
const DIGIT_ITEMS: &str = r"\p{Nd}";
/// Rust's `\s` (the White_Space property): RE2's `\s` lacks `\v`, U+0085 and `\p{Z}`.
const SPACE_ITEMS: &str = r"\s\x0B\x{85}\p{Z}";
/// RE2's largest counted repetition.
const MAX_REPEAT: u32 = 1000;

/// Unicode classes both engines name the same way.
const CLASSES: &[&str] = &[
    "L",
    "Lu",
    "Ll",
    "Lt",
    "Lm",
    "Lo",
    "M",
    "Mn",
    "Mc",
    "Me",
    "N",
    "Nd",
    "Nl",
    "No",
    "P",
    "Pc",
    "Pd",
    "Ps",
    "Pe",
    "Pi",
    "Pf",
    "Po",
    "S",
    "Sm",
    "Sc",
    "Sk",
    "So",
    "Z",
    "Zs",
    "Zl",
    "Zp",
    "C",
    "Cc",
    "Cf",
    "Co",
    "Cs",
    "Latin",
    "Greek",
    "Cyrillic",
    "Han",
    "Arabic",
    "Hebrew",
    "Hiragana",
    "Katakana",
    "Hangul",
    "Thai",
    "Devanagari",
    "Common",
    "Inherited",
];

/// A literal as an RE2 pattern, escaping only RE2's metacharacters; control
/// characters become `\x{..}`. With `ascii_ci`, ASCII letters become `[aA]`, which
/// folds exactly the way rules compare (`(?i)` would also fold e.g. `K` and U+212A).
pub(crate) fn literal(s: &str, ascii_ci: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if ascii_ci && c.is_ascii_alphabetic() {
            out.push('[');
            out.push(c.to_ascii_lowercase());
            out.push(c.to_ascii_uppercase());
            out.push(']');
        } else if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
            out.push(c);
        } else if c.is_control() {
            out.push_str(&format!("\\x{{{:X}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Alternatives of literals, optionally anchored: `^(?:a|b)`.
pub(crate) fn alternatives(ns: &[String], ascii_ci: bool, start: bool, end: bool) -> String {
    let alts: Vec<String> = ns.iter().map(|n| literal(n, ascii_ci)).collect();
    let body = if alts.len() == 1 {
        alts[0].clone()
    } else {
        format!("(?:{})", alts.join("|"))
    };
    format!(
        "{}{body}{}",
        if start { "^" } else { "" },
        if end { "$" } else { "" }
    )
}

/// Translates a Rust pattern; `None` when it cannot be done in direction `dir`.
pub(crate) fn translate(p: &str, dir: Dir) -> Option<String> {
    let c: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 16);
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '\\' => i = escape(&c, i, dir, None, &mut out)?,
            '[' => i = class(&c, i, dir, &mut out)?,
            '(' if c.get(i + 1) == Some(&'?') => i = group(&c, i, &mut out)?,
            '{' => i = repeat(&c, i, dir, &mut out)?,
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    Some(out)
}

/// `(?...`: non-capturing and named groups, and the flags RE2 shares (i, m, s, U).
fn group(c: &[char], i: usize, out: &mut String) -> Option<usize> {
    match c.get(i + 2) {
        Some(':') => {
            out.push_str("(?:");
            Some(i + 3)
        }
        Some('P') if c.get(i + 3) == Some(&'<') => {
            out.push_str("(?P<");
            Some(i + 4)
        }
        Some('<') => {
            out.push_str("(?P<");
            Some(i + 3)
        }
        _ => {
            let mut j = i + 2;
            while j < c.len() && c[j] != ')' && c[j] != ':' {
                if !"imsU-".contains(c[j]) {
                    return None;
                }
                j += 1;
            }
            let end = j.min(c.len() - 1);
            out.extend(&c[i..=end]);
            Some(end + 1)
        }
    }
}

/// `{n}`, `{n,}`, `{n,m}`: counts over RE2's limit become `*` / `+` when widening.
fn repeat(c: &[char], i: usize, dir: Dir, out: &mut String) -> Option<usize> {
    let close = (i + 1..c.len()).find(|&j| c[j] == '}')?;
    let body: String = c[i + 1..close].iter().collect();
    let nums: Vec<Option<u32>> = body
        .split(',')
        .map(|s| {
            let s = s.trim();
            if s.is_empty() {
                None
            } else {
                s.parse().ok()
            }
        })
        .collect();
    if nums.is_empty() || nums.len() > 2 || nums[0].is_none() {
        return None;
    }
    if nums.iter().flatten().all(|&n| n <= MAX_REPEAT) {
        out.push('{');
        out.push_str(&body.replace(' ', ""));
        out.push('}');
    } else if dir == Dir::Wider {
        out.push(if nums[0] == Some(0) { '*' } else { '+' });
    } else {
        return None;
    }
    Some(close + 1)
}

/// A bracketed class; nested classes and set operations (`&&`, `--`, `~~`) give `None`.
fn class(c: &[char], start: usize, dir: Dir, out: &mut String) -> Option<usize> {
    let mut i = start + 1;
    out.push('[');
    let negated = c.get(i) == Some(&'^');
    if negated {
        out.push('^');
        i += 1;
    }
    if c.get(i) == Some(&']') {
        out.push(']');
        i += 1;
    }
    while i < c.len() {
        match c[i] {
            ']' => {
                out.push(']');
                return Some(i + 1);
            }
            '[' if c.get(i + 1) == Some(&':') => {
                let end =
                    (i + 2..c.len().saturating_sub(1)).find(|&j| c[j] == ':' && c[j + 1] == ']')?;
                out.extend(&c[i..end + 2]);
                i = end + 2;
            }
            '[' => return None,
            '&' | '-' | '~' if c.get(i + 1) == Some(&c[i]) => return None,
            '\\' => i = escape(c, i, dir, Some(negated), out)?,
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    None
}

/// One escape at `c[i] == '\\'`; `in_class` is `Some(negated)` inside brackets.
fn escape(
    c: &[char],
    i: usize,
    dir: Dir,
    in_class: Option<bool>,
    out: &mut String,
) -> Option<usize> {
    let n = *c.get(i + 1)?;
    let wide = dir == Dir::Wider;
    let negated = in_class == Some(true);
    let items = |s: &str| {
        if in_class.is_some() {
            s.to_string()
        } else {
            format!("[{s}]")
        }
    };
    match n {
        // Dropping a word-boundary assertion only lets more text match.
        'b' | 'B' | '<' | '>' if wide && in_class.is_none() => {
            let mut j = i + 2;
            if n == 'b' && c.get(j) == Some(&'{') {
                j = (j..c.len()).find(|&k| c[k] == '}')? + 1;
            }
            // An empty group keeps a following quantifier attached to nothing new.
            if c.get(j).is_some_and(|q| "?*+{".contains(*q)) {
                out.push_str("(?:)");
            }
            Some(j)
        }
        'w' if wide && !negated => {
            out.push_str(&items(WORD_ITEMS));
            Some(i + 2)
        }
        // ASCII `\w` inside `[^...]`, ASCII `\W` `\D` `\S` outside: RE2 matches more.
        'w' if wide => {
            out.push_str("\\w");
            Some(i + 2)
        }
        'W' | 'D' | 'S' if wide && !negated => {
            out.push('\\');
            out.push(n);
            Some(i + 2)
        }
        'd' => {
            out.push_str(DIGIT_ITEMS);
            Some(i + 2)
        }
        's' => {
            out.push_str(&items(SPACE_ITEMS));
            Some(i + 2)
        }
        'p' | 'P' => {
            let (name, next) = if c.get(i + 2) == Some(&'{') {
                let close = (i + 3..c.len()).find(|&k| c[k] == '}')?;
                (c[i + 3..close].iter().collect::<String>(), close + 1)
            } else {
                (c.get(i + 2)?.to_string(), i + 3)
            };
            if !CLASSES.contains(&name.as_str()) {
                return None;
            }
            out.push_str(&format!("\\{n}{{{name}}}"));
            Some(next)
        }
        'x' | 'u' | 'U' => {
            let (hex, next) = if c.get(i + 2) == Some(&'{') {
                let close = (i + 3..c.len()).find(|&k| c[k] == '}')?;
                (c[i + 3..close].iter().collect::<String>(), close + 1)
            } else {
                let len = match n {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let end = (i + 2 + len).min(c.len());
                (c[i + 2..end].iter().collect::<String>(), end)
            };
            u32::from_str_radix(&hex, 16).ok()?;
            out.push_str(&format!("\\x{{{hex}}}"));
            Some(next)
        }
        'n' | 't' | 'r' | 'f' | 'v' | 'a' => {
            out.push('\\');
            out.push(n);
            Some(i + 2)
        }
        'A' | 'z' if in_class.is_none() => {
            out.push('\\');
            out.push(n);
            Some(i + 2)
        }
        p if p.is_ascii_punctuation() => {
            out.push('\\');
            out.push(p);
            Some(i + 2)
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn translations() {
        let wider: &[(&str, Option<&str>)] = &[
            (r"plain text", Some("plain text")),
            (r"a\.b\(c\)", Some(r"a\.b\(c\)")),
            (r"\bno\b (x-service)", Some(r"no (x-service)")),
            (r"a\b?c", Some(r"a(?:)?c")),
            (
                r"\w+@\d",
                Some(r"[\pL\pM\pN\p{Pc}\p{So}\x{200C}\x{200D}]+@\p{Nd}"),
            ),
            (r"[^\w-]", Some(r"[^\w-]")),
            (r"[\w.]", Some(r"[\pL\pM\pN\p{Pc}\p{So}\x{200C}\x{200D}.]")),
            (r"\s", Some(r"[\s\x0B\x{85}\p{Z}]")),
            (r"(?i)x(?-i:Y)", Some(r"(?i)x(?-i:Y)")),
            (r"(?<n>a)(?P<m>b)", Some(r"(?P<n>a)(?P<m>b)")),
            (r".{0,80}x{3}", Some(r".{0,80}x{3}")),
            (r".{0,2000}x{1001,}", Some(r".*x+")),
            (r"\u{e9}\u00e9\x41", Some(r"\x{e9}\x{00e9}\x{41}")),
            (
                r"[[:alpha:]]+\pL\p{Greek}",
                Some(r"[[:alpha:]]+\p{L}\p{Greek}"),
            ),
            (r"(?x) a b", None),
            (r"[a-z&&[^m]]", None),
            (r"\p{Alphabetic}", None),
            (r"[^\W]", None),
        ];
        for (p, want) in wider {
            assert_eq!(translate(p, Dir::Wider).as_deref(), *want, "{p}");
        }
        assert_eq!(translate(r"\bword", Dir::Exact), None);
        assert_eq!(translate(r"\w", Dir::Exact), None);
        assert_eq!(translate(r"\W", Dir::Exact), None);
        assert_eq!(translate(r"x{1001}", Dir::Exact), None);
        assert_eq!(
            translate(r"a\d\s[0-9]", Dir::Exact).as_deref(),
            Some(r"a\p{Nd}[\s\x0B\x{85}\p{Z}][0-9]")
        );
    }

    /// Rust's regex crate accepts every translation (RE2's syntax is close enough that
    /// this catches unbalanced output), and a widened pattern still matches the text.
    #[test]
    fn translations_compile_and_keep_matches() {
        let cases = [
            (r"\bmissing\b", "it is missing."),
            (r"user \w+ failed", "user José failed"),
            (r"\d{2,}\s+MiB", "512\u{a0}MiB"),
            (r"[^\w]x", " x"),
        ];
        for (p, hay) in cases {
            let t = translate(p, Dir::Wider).unwrap();
            assert!(Regex::new(p).unwrap().is_match(hay));
            assert!(Regex::new(&t).unwrap().is_match(hay), "{t} on {hay}");
        }
    }

    #[test]
    fn literals() {
        assert_eq!(literal("a.b(c)", false), r"a\.b\(c\)");
        assert_eq!(literal("Ab-1", true), "[aA][bB]-1");
        assert_eq!(literal("tab\there", false), r"tab\x{9}here");
        assert_eq!(
            alternatives(&["a".into(), "b.c".into()], false, true, false),
            r"^(?:a|b\.c)"
        );
        assert_eq!(alternatives(&["x".into()], false, false, true), "x$");
    }
}
