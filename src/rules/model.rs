//! The compiled rule: typed data, checked once at load, evaluated many times.

use super::cond::Cond;
use super::template::placeholders;
use super::threshold::Threshold;
use crate::entry::{Entry, Field, Value};
use crate::text::cut_chars;
use regex::Regex;
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// How bad a finding of this rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleSeverity {
    /// Worth knowing.
    Low,
    /// Degrades something.
    Medium,
    /// Breaks a feature for many users.
    High,
    /// Breaks the service or its core flow.
    Critical,
}

impl RuleSeverity {
    /// The name used in rule files.
    pub fn name(self) -> &'static str {
        match self {
            RuleSeverity::Low => "low",
            RuleSeverity::Medium => "medium",
            RuleSeverity::High => "high",
            RuleSeverity::Critical => "critical",
        }
    }
}

impl fmt::Display for RuleSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RuleSeverity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(RuleSeverity::Low),
            "medium" => Ok(RuleSeverity::Medium),
            "high" => Ok(RuleSeverity::High),
            "critical" => Ok(RuleSeverity::Critical),
            _ => Err(format!(
                "bad severity `{s}`; use low, medium, high or critical"
            )),
        }
    }
}

/// Where a rule sits in a Five-Whys chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RuleKind {
    /// What users or monitors see (403 bursts, 5xx): a chain starts here.
    Symptom,
    /// Something that explains other findings (a missing secret, a missing table).
    Cause,
    /// Not stated in the rule file.
    #[default]
    Unspecified,
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RuleKind::Symptom => "symptom",
            RuleKind::Cause => "cause",
            RuleKind::Unspecified => "unspecified",
        })
    }
}

impl FromStr for RuleKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "symptom" => Ok(RuleKind::Symptom),
            "cause" => Ok(RuleKind::Cause),
            _ => Err(format!("bad kind `{s}`; use symptom or cause")),
        }
    }
}

/// A field whose distinct values the report summarises.
#[derive(Debug, Clone)]
pub struct Capture {
    /// Placeholder name (`as = ...`, else the last segment of the field).
    pub name: String,
    /// The field read.
    pub field: Field,
    /// Optional regex: the first group that matched (or the whole match) is the value.
    pub pattern: Option<Regex>,
}

/// Longest captured value kept, in characters. The report shows a few values per
/// capture and keeps up to 1,000 distinct ones per place; without a cap, long values
/// (a 1 MiB URL, a payload object) would make memory grow with the input.
pub const MAX_CAPTURE_CHARS: usize = 500;

impl Capture {
    /// The captured text of an entry (`None` when absent, null, empty or not matching),
    /// cut to 500 characters (`MAX_CAPTURE_CHARS`).
    pub fn value<'e>(&self, e: &'e Entry<'_>) -> Option<Cow<'e, str>> {
        let v = e.get(&self.field)?;
        if matches!(v, Value::Null) {
            return None;
        }
        // Borrowed from the record where it can be: most captures are counted, not kept.
        let text = v.into_text();
        let span = match &self.pattern {
            None => 0..text.len(),
            // The first group that took part (patterns may have alternatives), else the
            // whole match.
            Some(re) => {
                let c = re.captures(&text)?;
                c.iter()
                    .skip(1)
                    .flatten()
                    .next()
                    .or_else(|| c.get(0))?
                    .range()
            }
        };
        let end = span.start + cut_chars(&text[span.clone()], MAX_CAPTURE_CHARS).len();
        let out = match text {
            Cow::Borrowed(t) => Cow::Borrowed(&t[span.start..end]),
            Cow::Owned(mut t) => {
                t.truncate(end);
                t.drain(..span.start);
                Cow::Owned(t)
            }
        };
        (!out.is_empty()).then_some(out)
    }
}

/// Something to do about a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionTemplate {
    /// What to do, a template.
    pub title: String,
    /// A command to run, a template.
    pub command: Option<String>,
}

/// Whether an example must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// `examples.match`.
    Match,
    /// `examples.no_match`.
    NoMatch,
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expect::Match => "match",
            Expect::NoMatch => "no_match",
        })
    }
}

/// A LogEntry carried by the rule to test its `when`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// Must it match?
    pub expect: Expect,
    /// The LogEntry JSON (checked to parse at load).
    pub json: String,
    /// What the example shows, if the author said.
    pub note: Option<String>,
    /// Line in the rule file.
    pub line: usize,
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// SCREAMING_SNAKE id, unique in the set.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// How bad a finding is.
    pub severity: RuleSeverity,
    /// Symptom or cause.
    pub kind: RuleKind,
    /// What the rule detects and why it matters.
    pub description: String,
    /// Fields whose values the report summarises.
    pub captures: Vec<Capture>,
    /// When matches become a finding.
    pub threshold: Threshold,
    /// The question this finding raises (template).
    pub why: String,
    /// The answer the logs give (template).
    pub because: String,
    /// Rules whose findings explain this one.
    pub explained_by: Vec<String>,
    /// Rules this one explains.
    pub explains: Vec<String>,
    /// What to verify when the logs cannot answer the next why (template).
    pub check_next: String,
    /// Suggested actions (templates).
    pub actions: Vec<ActionTemplate>,
    /// File the rule came from (`<default>/app-auth.toml` for embedded packs).
    pub file: String,
    /// Line of the rule's `[[rule]]` header.
    pub line: usize,
    /// Pack name (the file's `pack`, else its stem).
    pub pack: String,
    /// A Cloud Logging filter given in the file; see [`Rule::cloud_filter`].
    pub filter: Option<String>,
    /// Examples to test `when`.
    pub examples: Vec<Example>,
    pub(crate) when: Cond,
    /// Lines of `explained_by` / `explains` entries, for link errors.
    pub(crate) link_lines: Vec<(String, usize)>,
}

impl Rule {
    /// True when the rule reads `httpRequest`: its matches are requests.
    pub fn reads_requests(&self) -> bool {
        self.when.reads_http()
    }

    /// True when the rule's `when` holds for the entry (no prefilter, no threshold).
    pub fn matches(&self, e: &Entry<'_>) -> bool {
        self.when.eval(e)
    }

    /// Where in the entry's message the rule found what it matched (a byte range),
    /// for an entry it matches; `None` when the match rests on other fields.
    pub fn message_match(&self, e: &Entry<'_>) -> Option<std::ops::Range<usize>> {
        self.when.message_span(e)
    }

    /// Why `when` does not hold for the entry, or `None` when it does.
    pub fn explain_mismatch(&self, e: &Entry<'_>) -> Option<String> {
        self.when.explain(e)
    }

    /// The Cloud Logging filter that selects this rule's candidate entries: the one in
    /// the file, else one derived from `when` (`None` if it cannot be expressed).
    pub fn cloud_filter(&self) -> Option<String> {
        self.filter
            .clone()
            .or_else(|| super::filter::derive(&self.when))
    }

    /// Every template of the rule with where it is used, for checks and listings.
    pub fn templates(&self) -> Vec<(&'static str, &str)> {
        let mut out = vec![
            ("why", self.why.as_str()),
            ("because", self.because.as_str()),
            ("check_next", self.check_next.as_str()),
        ];
        for a in &self.actions {
            out.push(("actions.title", a.title.as_str()));
            if let Some(c) = &a.command {
                out.push(("actions.command", c.as_str()));
            }
        }
        out
    }

    /// Every placeholder the rule's templates use.
    pub fn placeholders(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, t) in self.templates() {
            for p in placeholders(t) {
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
        out
    }
}
