//! Rule file errors: each names the file, the line, the rule and what is wrong, so
//! `logtriage rules check` can print them one per line like a compiler.

use std::fmt;
use std::ops::Range;

/// One problem in a rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// File as given (`<default>/app-auth.toml` for the embedded packs).
    pub file: String,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: usize,
    /// The rule's id, when the problem is inside a rule.
    pub rule: Option<String>,
    /// What is wrong, on one line.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        f.write_str(": ")?;
        if let Some(r) = &self.rule {
            write!(f, "rule {r}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleError {}

/// Every problem found while loading; loading stops only after all files are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleErrors(pub Vec<RuleError>);

impl fmt::Display for RuleErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RuleErrors {}

/// 1-based line of a byte offset.
pub(crate) fn line_of(src: &str, offset: usize) -> usize {
    let end = offset.min(src.len());
    src.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Where errors of one file go while it is compiled.
pub(crate) struct Ctx<'s> {
    pub file: &'s str,
    pub src: &'s str,
    /// The rule being compiled, for messages.
    pub rule: Option<String>,
    pub errors: Vec<RuleError>,
}

impl<'s> Ctx<'s> {
    pub fn new(file: &'s str, src: &'s str) -> Ctx<'s> {
        Ctx {
            file,
            src,
            rule: None,
            errors: Vec::new(),
        }
    }

    /// Line of a span's start.
    pub fn line(&self, span: Range<usize>) -> usize {
        line_of(self.src, span.start)
    }

    /// Records a problem at a span, in the current rule.
    pub fn err(&mut self, span: Range<usize>, msg: impl Into<String>) {
        let line = self.line(span);
        self.errors.push(RuleError {
            file: self.file.to_string(),
            line,
            rule: self.rule.clone(),
            message: msg.into(),
        });
    }
}

/// The id of the `[[rule]]` that holds a byte offset, read from the text; used when a
/// TOML error stops parsing before rules have ids.
pub(crate) fn rule_id_at(src: &str, offset: usize) -> Option<String> {
    // Up to the end of the offset's line, so an error pointing at a header finds it.
    let start = src.floor_char_boundary_compat(offset);
    let end = src[start..].find('\n').map_or(src.len(), |i| start + i);
    let header = src[..end].rfind("[[rule]]")?;
    let rest = &src[header + "[[rule]]".len()..];
    for line in rest.lines() {
        let t = line.trim_start();
        if t.starts_with("[[rule]]") {
            break;
        }
        if let Some(v) = t.strip_prefix("id") {
            let v = v.trim_start();
            if let Some(v) = v.strip_prefix('=') {
                let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
                let id: String = v
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                return (!id.is_empty()).then_some(id);
            }
        }
    }
    None
}

/// `str::floor_char_boundary` is unstable; this is the same for our use.
trait FloorBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorBoundary for str {
    fn floor_char_boundary_compat(&self, i: usize) -> usize {
        let mut i = i.min(self.len());
        while !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_forms() {
        let e = RuleError {
            file: "r.toml".into(),
            line: 7,
            rule: Some("X".into()),
            message: "bad".into(),
        };
        assert_eq!(e.to_string(), "r.toml:7: rule X: bad");
        let f = RuleError {
            line: 0,
            rule: None,
            ..e.clone()
        };
        assert_eq!(f.to_string(), "r.toml: bad");
        assert_eq!(
            RuleErrors(vec![e, f]).to_string(),
            "r.toml:7: rule X: bad\nr.toml: bad"
        );
    }

    #[test]
    fn finds_rule_of_offset() {
        let src = "[[rule]]\nid = 'A'\nx = 1\n\n[[rule]]\n  id = \"B_2\"\ny é = 2\n";
        assert_eq!(line_of(src, 0), 1);
        assert_eq!(line_of(src, src.find("x =").unwrap_or(0)), 3);
        assert_eq!(rule_id_at(src, 20).as_deref(), Some("A"));
        assert_eq!(rule_id_at(src, src.len() - 2).as_deref(), Some("B_2"));
        assert_eq!(rule_id_at(src, 3).as_deref(), Some("A"));
        assert_eq!(rule_id_at("x = 1\n[[rule]]\nid = 'Z'", 2), None);
    }
}
