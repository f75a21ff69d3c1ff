//! The immutable, shareable rule set: lookup by id, causal links, and matching.

use super::prefilter::Prefilter;
use super::Rule;
use crate::entry::Entry;
use std::collections::HashMap;

/// The rules matching each entry of a block, from [`RuleSet::match_block`].
#[derive(Debug, Default, Clone)]
pub struct BlockMatches {
    rules: Vec<usize>,
    /// Where each entry's group ends in `rules`.
    ends: Vec<usize>,
}

impl BlockMatches {
    /// Indices, ascending, of the rules matching entry `i` of the block (empty past
    /// its end).
    pub fn of(&self, i: usize) -> &[usize] {
        let start = match i {
            0 => 0,
            _ => self.ends.get(i - 1).copied().unwrap_or(self.rules.len()),
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        &self.rules[start..end]
    }

    /// Number of entries in the block.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True for an empty block.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

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

    /// [`RuleSet::match_entry`] for every entry of a block at once, into `m`. Faster per
    /// entry: the message literals of the whole block are found in one search.
    pub fn match_block(&self, es: &[Entry<'_>], m: &mut BlockMatches) {
        self.prefilter
            .candidates_block(es, &mut m.rules, &mut m.ends);
        // Check candidates in full, compacting each entry's group in place.
        let (mut w, mut start) = (0, 0);
        for (e, end) in es.iter().zip(m.ends.iter_mut()) {
            m.rules[start..*end].sort_unstable();
            for j in start..*end {
                let r = m.rules[j];
                if self.rules[r].when.eval(e) {
                    m.rules[w] = r;
                    w += 1;
                }
            }
            start = *end;
            *end = w;
        }
        m.rules.truncate(w);
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
