//! The immutable, shareable rule set: lookup by id, causal links, and matching.

use super::prefilter::Prefilter;
use super::Rule;
use crate::entry::Entry;
use std::collections::HashMap;

/// Compiled rules and their prefilter. `Sync`: share one across threads.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    index: HashMap<String, usize>,
    prefilter: Prefilter,
}

impl RuleSet {
    /// Builds a set from checked rules (ids unique, links resolved).
    pub(crate) fn new(rules: Vec<Rule>) -> RuleSet {
        let index = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        let prefilter = Prefilter::build(&rules);
        RuleSet {
            rules,
            index,
            prefilter,
        }
    }

    /// All rules, defaults first (in pack order), then user rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when no rule is loaded.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// A rule and its index by id.
    pub fn get(&self, id: &str) -> Option<(usize, &Rule)> {
        let i = *self.index.get(id)?;
        Some((i, &self.rules[i]))
    }

    /// Indices of rules that explain rule `i`: its `explained_by` plus every rule that
    /// lists it in `explains`, sorted.
    pub fn causes_of(&self, i: usize) -> Vec<usize> {
        let Some(r) = self.rules.get(i) else {
            return Vec::new();
        };
        let mut out: Vec<usize> = r
            .explained_by
            .iter()
            .filter_map(|id| self.index.get(id).copied())
            .collect();
        for (j, o) in self.rules.iter().enumerate() {
            if o.explains.contains(&r.id) {
                out.push(j);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Indices of rules that rule `i` explains (the reverse of [`RuleSet::causes_of`]).
    pub fn effects_of(&self, i: usize) -> Vec<usize> {
        let mut out: Vec<usize> = (0..self.rules.len())
            .filter(|&j| self.causes_of(j).contains(&i))
            .collect();
        out.dedup();
        out
    }

    /// How rule `i` is prefiltered (literals, message regex, or structural), for listings.
    pub fn prefilter_plan(&self, i: usize) -> &str {
        self.prefilter.plan(i)
    }

    /// Puts in `out` (cleared first) the indices, ascending, of rules whose `when` holds
    /// for `e`. Thresholds are not applied. Entries no rule can match are rejected by
    /// one prefilter pass; only candidates are checked in full. The prefilter's
    /// scratch is per thread, so nothing is allocated per call once `out` has grown.
    pub fn match_entry(&self, e: &Entry<'_>, out: &mut Vec<usize>) {
        out.clear();
        self.prefilter.candidates(e, out);
        out.sort_unstable();
        out.retain(|&i| self.rules[i].when.eval(e));
    }

    /// The rules the prefilter lets through for `e`, before they are checked in full
    /// (ascending). For tests, benchmarks and `rules` diagnostics.
    pub fn candidates(&self, e: &Entry<'_>, out: &mut Vec<usize>) {
        out.clear();
        self.prefilter.candidates(e, out);
        out.sort_unstable();
    }

    /// Same result as [`RuleSet::match_entry`] without the prefilter: every rule is
    /// evaluated. For tests and for checking the prefilter.
    pub fn match_entry_exhaustive(&self, e: &Entry<'_>, out: &mut Vec<usize>) {
        out.clear();
        out.extend((0..self.rules.len()).filter(|&i| self.rules[i].when.eval(e)));
    }
}
