//! Message templates for errors no rule matched: messages are masked (`mask.rs`)
//! and counted per template, with places, first/last seen and one example.

mod mask;
mod shapes;

use super::sink::Place;
use crate::text::cut_chars;
use mask::MAX_CHARS;
pub use mask::{template_of, MAX_TEMPLATES};
use std::collections::{BTreeMap, HashMap};

/// Per-template aggregate.
#[derive(Debug, Clone)]
struct Stats {
    count: u64,
    /// Entries per place (a revision name may run in several regions).
    revisions: BTreeMap<Place, u64>,
    first_seen: Option<i64>,
    last_seen: Option<i64>,
    /// Smallest raw message (cut to [`MAX_CHARS`]) and its insertId: order-independent.
    example: String,
    sample_id: Option<String>,
}

impl Stats {
    fn new(example: &str, sample_id: Option<&str>) -> Self {
        Stats {
            count: 0,
            revisions: BTreeMap::new(),
            first_seen: None,
            last_seen: None,
            example: example.to_string(),
            sample_id: sample_id.map(str::to_string),
        }
    }

    fn time(&mut self, ts: Option<i64>) {
        if let Some(t) = ts {
            self.first_seen = Some(self.first_seen.map_or(t, |f| f.min(t)));
            self.last_seen = Some(self.last_seen.map_or(t, |l| l.max(t)));
        }
    }

    /// Keeps the smallest (example, sample_id) pair.
    fn offer_example(&mut self, example: &str, sample_id: Option<&str>) {
        let smaller = match example.cmp(self.example.as_str()) {
            std::cmp::Ordering::Less => true,
            std::cmp::Ordering::Equal => sample_id < self.sample_id.as_deref(),
            std::cmp::Ordering::Greater => false,
        };
        if smaller {
            example.clone_into(&mut self.example);
            self.sample_id = sample_id.map(str::to_string);
        }
    }

    fn merge(&mut self, o: Stats) {
        self.count += o.count;
        for (r, n) in o.revisions {
            *self.revisions.entry(r).or_default() += n;
        }
        self.time(o.first_seen);
        self.time(o.last_seen);
        self.offer_example(&o.example, o.sample_id.as_deref());
    }
}

/// Accumulates templates; merge-able (parallel workers), deterministic output.
///
/// At most [`MAX_TEMPLATES`] distinct templates are kept; entries of templates seen
/// only after the cap was reached are counted in its `overflow` count. Results
/// (`top`, `distinct`, `overflow`) do not depend on insertion or merge order as long
/// as the union of all templates stays under the cap; past it, which templates made
/// the cut depends on order (counts of kept ones stay exact for the parts merged).
#[derive(Debug, Default, Clone)]
pub struct Templates {
    map: HashMap<String, Stats>,
    overflow: u64,
}

/// One template in [`Templates::top`].
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSummary {
    /// The masked first line.
    pub template: String,
    /// Entries.
    pub count: u64,
    /// Entries per place, sorted (entries without a revision are not listed).
    pub revisions: Vec<(Place, u64)>,
    /// Earliest timestamp, unix nanoseconds.
    pub first_seen: Option<i64>,
    /// Latest timestamp, unix nanoseconds.
    pub last_seen: Option<i64>,
    /// The lexicographically smallest raw message seen, cut to 300 chars.
    pub example: String,
    /// insertId of the entry `example` came from, when it had one.
    pub sample_id: Option<String>,
}

impl Templates {
    /// Adds one message (an error entry no rule matched) of a revision's `place`.
    pub fn add(
        &mut self,
        message: &str,
        place: Option<&Place>,
        ts: Option<i64>,
        sample_id: Option<&str>,
    ) {
        let template = template_of(message);
        let example = cut_chars(message, MAX_CHARS);
        let full = self.map.len() >= MAX_TEMPLATES;
        let stats = match self.map.get_mut(&template) {
            Some(s) => {
                s.offer_example(example, sample_id);
                s
            }
            None if full => {
                self.overflow += 1;
                return;
            }
            None => self
                .map
                .entry(template)
                .or_insert_with(|| Stats::new(example, sample_id)),
        };
        stats.count += 1;
        if let Some(p) = place {
            match stats.revisions.get_mut(p) {
                Some(n) => *n += 1,
                None => {
                    stats.revisions.insert(p.clone(), 1);
                }
            }
        }
        stats.time(ts);
    }

    /// Moves the counts of places that `to` maps elsewhere (see `Analysis::attribute`).
    pub(super) fn rekey(&mut self, to: impl Fn(&Place) -> Option<Place>) {
        for s in self.map.values_mut() {
            super::sink::rekey(&mut s.revisions, &to, |n, m| *n += m);
        }
    }

    /// Folds another worker's templates in.
    pub fn merge(&mut self, other: Templates) {
        self.overflow += other.overflow;
        for (t, s) in other.map {
            let full = self.map.len() >= MAX_TEMPLATES;
            match self.map.get_mut(&t) {
                Some(mine) => mine.merge(s),
                None if full => self.overflow += s.count,
                None => {
                    self.map.insert(t, s);
                }
            }
        }
    }

    /// Top `n` templates by count desc, then template asc.
    pub fn top(&self, n: usize) -> Vec<TemplateSummary> {
        let mut all: Vec<(&String, &Stats)> = self.map.iter().collect();
        all.sort_unstable_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0)));
        all.into_iter()
            .take(n)
            .map(|(t, s)| TemplateSummary {
                template: t.clone(),
                count: s.count,
                revisions: s.revisions.iter().map(|(r, c)| (r.clone(), *c)).collect(),
                first_seen: s.first_seen,
                last_seen: s.last_seen,
                example: s.example.clone(),
                sample_id: s.sample_id.clone(),
            })
            .collect()
    }

    /// Distinct templates kept.
    pub fn distinct(&self) -> usize {
        self.map.len()
    }

    /// Entries whose template was new after [`MAX_TEMPLATES`] were kept.
    pub fn overflow(&self) -> u64 {
        self.overflow
    }
}

#[cfg(test)]
mod tests;
