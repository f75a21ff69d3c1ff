//! Literals that must appear in a record's raw JSON text for a test to hold.
//!
//! A decoded string reaches the raw bytes escaped: `"`, `\`, control characters always;
//! `/` sometimes; non-ASCII under `ensure_ascii`; `<`, `>`, `&`, `'`, `=` under Go's and
//! Gson's HTML-safe encoders. A literal is therefore cut down to its longest run of
//! characters no encoder escapes, and only such runs are searched in the raw bytes.

/// Shortest literal worth searching for; shorter ones match nearly every record.
pub(crate) const MIN_LITERAL: usize = 3;

/// Characters every JSON encoder writes as themselves.
pub(crate) fn is_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || " _-.:,;()[]{}!?#$%*+@|~^".contains(c)
}

/// The longest run of safe characters in `s`, if at least [`MIN_LITERAL`] long.
pub(crate) fn longest_safe_run(s: &str) -> Option<String> {
    s.split(|c: char| !is_safe(c))
        .max_by_key(|r| r.len())
        .filter(|r| r.len() >= MIN_LITERAL)
        .map(str::to_string)
}

/// For each top-level alternative of a case-sensitive regex, one literal every match
/// of that alternative contains. `None` when some alternative has none, or when the
/// pattern uses inline flags (`(?i)`, `(?x)`, ...) that change what text matches.
pub(crate) fn regex_literals(pattern: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for alt in split_top_alternatives(pattern) {
        let runs = required_runs(alt)?;
        let best = runs
            .iter()
            .filter_map(|r| longest_safe_run(r))
            .max_by_key(String::len)?;
        out.push(best);
    }
    Some(out)
}

/// Splits at `|` outside groups and classes.
fn split_top_alternatives(p: &str) -> Vec<&str> {
    let b = p.as_bytes();
    let (mut depth, mut class, mut start, mut i) = (0i32, 0i32, 0usize, 0usize);
    let mut out = Vec::new();
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'[' => class += 1,
            b']' if class > 0 => class -= 1,
            b'(' if class == 0 => depth += 1,
            b')' if class == 0 => depth -= 1,
            b'|' if class == 0 && depth == 0 => {
                out.push(&p[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&p[start..]);
    out
}

/// Runs of literal characters at group depth 0 that every match contains.
/// `None` if the pattern has inline flags.
fn required_runs(alt: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = alt.chars().collect();
    let mut runs: Vec<String> = Vec::new();
    let mut run = String::new();
    let mut depth = 0i32;
    let mut i = 0;
    let end_run = |run: &mut String, runs: &mut Vec<String>| {
        if !run.is_empty() {
            runs.push(std::mem::take(run));
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&n) = chars.get(i + 1) else { break };
                i += 2;
                if n.is_ascii_alphanumeric() {
                    // \d, \w, \b, \pL, \x41, \u{..}: not a plain character here.
                    if chars.get(i) == Some(&'{') {
                        while i < chars.len() && chars[i] != '}' {
                            i += 1;
                        }
                        i += 1;
                    } else if matches!(n, 'p' | 'P' | 'x') && i < chars.len() {
                        i += if n == 'x' { 2 } else { 1 };
                    }
                    if depth == 0 {
                        end_run(&mut run, &mut runs);
                    }
                } else if depth == 0 {
                    run.push(n);
                }
                continue;
            }
            '(' => {
                if chars.get(i + 1) == Some(&'?') {
                    let named = matches!(chars.get(i + 2), Some(':' | 'P' | '<'));
                    if !named {
                        return None;
                    }
                }
                if depth == 0 {
                    end_run(&mut run, &mut runs);
                }
                depth += 1;
            }
            ')' => depth -= 1,
            '[' => {
                i = skip_class(&chars, i);
                if depth == 0 {
                    end_run(&mut run, &mut runs);
                }
                continue;
            }
            '?' | '*' | '{' if depth == 0 => {
                // The character before is optional or repeated zero times.
                run.pop();
                end_run(&mut run, &mut runs);
                if c == '{' {
                    while i < chars.len() && chars[i] != '}' {
                        i += 1;
                    }
                }
            }
            '+' if depth == 0 => end_run(&mut run, &mut runs),
            '.' | '^' | '$' if depth == 0 => end_run(&mut run, &mut runs),
            _ if depth == 0 => run.push(c),
            _ => {}
        }
        i += 1;
    }
    end_run(&mut run, &mut runs);
    Some(runs)
}

/// Index just past the class starting at `chars[start] == '['` (nested classes too).
fn skip_class(chars: &[char], start: usize) -> usize {
    let mut i = start + 1;
    if chars.get(i) == Some(&'^') {
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        i += 1;
    }
    let mut depth = 1;
    while i < chars.len() && depth > 0 {
        match chars[i] {
            '\\' => i += 1,
            '[' => depth += 1,
            ']' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    i
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn safe_runs() {
        assert_eq!(
            longest_safe_run("403 'Not authenticated' error").as_deref(),
            Some("Not authenticated")
        );
        assert_eq!(longest_safe_run("a/b").as_deref(), None);
        assert_eq!(longest_safe_run("service:").as_deref(), Some("service:"));
        assert_eq!(longest_safe_run("ünïcödé").as_deref(), None);
    }

    #[test]
    fn literals_of_patterns() {
        let cases: &[(&str, Option<&[&str]>)] = &[
            (
                r"Container called exit\(([1-9][0-9]*)\)",
                Some(&["Container called exit("]),
            ),
            (
                r"Memory limit of \d+ ?\w+ exceeded",
                Some(&["Memory limit of "]),
            ),
            (
                r"(STARTUP|LIVENESS) (TCP|HTTP) probe failed",
                Some(&[" probe failed"]),
            ),
            (
                r"timed? ?out|connection refused",
                Some(&["time", "connection refused"]),
            ),
            (r"colou?r names", Some(&["r names"])),
            (r"ab+cdef", Some(&["cdef"])),
            (r"x{2,3}yzw", Some(&["yzw"])),
            (r"(?i)anything", None),
            (r"(?x) a b c", None),
            (r"\d+|literal", None),
            (r"[a-z]+ at [0-9]+", Some(&[" at "])),
            (r"(?:foo|bar)bazz", Some(&["bazz"])),
            (
                r#"relation "[^"]+" does not exist"#,
                Some(&[" does not exist"]),
            ),
            (r"a\|b\|c", Some(&["a|b|c"])),
            (r"ends with dollar$", Some(&["ends with dollar"])),
        ];
        for (p, want) in cases {
            let got = regex_literals(p);
            let want: Option<Vec<String>> = want.map(|w| w.iter().map(|s| s.to_string()).collect());
            assert_eq!(got, want, "{p}");
        }
    }

    #[test]
    fn literals_are_in_every_match() {
        let samples = [
            (
                r"Container called exit\(([1-9][0-9]*)\)\.",
                "Container called exit(137).",
            ),
            (
                r"Memory limit of \d+ ?\w+ exceeded with",
                "Memory limit of 512 MiB exceeded with 540 MiB used",
            ),
            (r"colou?r names", "color names"),
            (r"timed? ?out|connection refused", "time out"),
            (r"timed? ?out|connection refused", "timedout"),
            (r"ab+cdef", "abbbcdef"),
        ];
        for (p, hay) in samples {
            let re = Regex::new(p).unwrap();
            let m = re.find(hay).unwrap().as_str();
            let lits = regex_literals(p).unwrap();
            assert!(
                lits.iter().any(|l| m.contains(l.as_str())),
                "{p} on {hay}: {lits:?}"
            );
        }
    }
}
