//! Running each rule's examples: `match` entries must satisfy `when`, `no_match`
//! entries must not. Every example also goes through the prefilter, so a literal the
//! prefilter wrongly requires shows up as a failing example, not a silent miss.

use super::model::Expect;
use super::set::RuleSet;
use crate::entry::Entry;
use std::fmt;

/// The result of one example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleOutcome {
    /// Rule id.
    pub rule: String,
    /// Rule file.
    pub file: String,
    /// Line of the example.
    pub line: usize,
    /// Whether it had to match.
    pub expect: Expect,
    /// 1-based position within `match` or `no_match`.
    pub index: usize,
    /// The example's note, if any.
    pub note: Option<String>,
    /// `None` when the example passed; else what went wrong.
    pub failure: Option<String>,
}

impl ExampleOutcome {
    /// True when the example behaved as declared.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

impl fmt::Display for ExampleOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: rule {}: {} example #{}",
            self.file, self.line, self.rule, self.expect, self.index
        )?;
        if let Some(n) = &self.note {
            write!(f, " ({n})")?;
        }
        match &self.failure {
            None => f.write_str(": ok"),
            Some(m) => write!(f, ": FAILED: {m}"),
        }
    }
}

impl RuleSet {
    /// Runs every example of every rule, in rule order.
    pub fn run_examples(&self) -> Vec<ExampleOutcome> {
        let mut out = Vec::new();
        let mut hits = Vec::new();
        for (ri, rule) in self.rules().iter().enumerate() {
            let mut counts = [0usize; 2];
            for ex in &rule.examples {
                let slot = usize::from(ex.expect == Expect::NoMatch);
                counts[slot] += 1;
                let failure = match Entry::parse(&ex.json) {
                    Err(e) => Some(format!("not a LogEntry: {e}")),
                    Ok(e) => {
                        self.match_entry(&e, &mut hits);
                        let via_prefilter = hits.contains(&ri);
                        let holds = rule.matches(&e);
                        match (ex.expect, holds, via_prefilter) {
                            (Expect::Match, true, true) | (Expect::NoMatch, false, false) => None,
                            (Expect::Match, true, false) => Some(
                                "`when` holds but the prefilter dropped the entry (a logtriage bug; please report it)".into(),
                            ),
                            (Expect::Match, false, _) => Some(format!(
                                "should match but does not: {}",
                                rule.explain_mismatch(&e).unwrap_or_default()
                            )),
                            (Expect::NoMatch, true, _) => {
                                Some("should not match, but every condition of `when` holds".into())
                            }
                            (Expect::NoMatch, false, true) => Some("internal error: matched without `when`".into()),
                        }
                    }
                };
                out.push(ExampleOutcome {
                    rule: rule.id.clone(),
                    file: rule.file.clone(),
                    line: ex.line,
                    expect: ex.expect,
                    index: counts[slot],
                    note: ex.note.clone(),
                    failure,
                });
            }
        }
        out
    }
}
