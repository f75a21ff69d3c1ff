//! Log text made safe for terminals and Markdown: control and bidi characters removed.

use crate::text::is_hidden;
use std::borrow::Cow;

/// Strips control characters (ANSI escapes included) and bidi overrides; keeps tabs as spaces.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    clean(s, true)
}

/// Strips ANSI escapes, other control characters and bidi overrides but keeps tabs
/// and line breaks: log text as redaction sees it, so a colour code inside a
/// `password=...` cannot split the secret from its name.
pub fn strip_controls(s: &str) -> Cow<'_, str> {
    clean(s, false)
}

fn clean(s: &str, flatten: bool) -> Cow<'_, str> {
    let keeps = |c: char| !flatten && matches!(c, '\t' | '\n' | '\r');
    if !s.chars().any(|c| is_hidden(c) && !keeps(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip an ANSI CSI sequence: ESC [ ... final byte in @..~
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            continue;
        }
        if keeps(c) {
            out.push(c);
        } else if c == '\t' || c == '\n' || c == '\r' {
            out.push(' ');
        } else if !is_hidden(c) {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escapes_and_bidi() {
        assert_eq!(sanitize("\u{1b}[91mred\u{1b}[0m ok"), "red ok");
        assert_eq!(sanitize("a\u{202e}b\u{0}c\td"), "abc d");
        assert_eq!(sanitize("plain ━ text"), "plain ━ text");
        assert_eq!(
            strip_controls("a\u{1b}[1mb\u{1b}[0m\u{7}\nc\td"),
            "ab\nc\td"
        );
        assert!(matches!(
            strip_controls("line\nnext\tcol"),
            Cow::Borrowed(_)
        ));
    }
}
