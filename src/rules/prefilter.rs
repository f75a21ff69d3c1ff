//! One pass per field that rejects entries no rule can match, so matching cost tracks
//! the number of candidates, not the number of rules.
//!
//! From each rule's `when` we derive a set of "atoms", one of which must be present
//! whenever the rule matches: a literal of one field's text (found by one
//! ASCII-case-insensitive Aho-Corasick pass over that field's text: the message for
//! most rules, else the payload field the rule tests), a field that must be present
//! (`jsonPayload.connectivity_test` when the rule compares it), or a regex on the
//! message that has no literal (one `RegexSet` pass). Rules with no atom (e.g. only
//! `httpRequest.status equals 403`) sit in a structural bucket gated by which parts the
//! entry has. Candidates are then checked in full, so the prefilter may let too much
//! through but must never drop a match; see the brute-force comparison tests.
//!
//! A leaf on a payload or label field with cheap operators (`equals`, `one_of`,
//! `starts_with`, comparisons, ...) is its own atom, checked exactly: "user_type equals
//! regular" rejects a correctly classified service user that "user_type is present"
//! would let through to the full check. Every field test first looks at the object's
//! 64-bit key filter with a bit computed at build time, so an entry without the key
//! costs one AND.
//!
//! [`Prefilter::candidates_block`] finds the message literals of a whole block in one
//! search over the messages joined by NUL bytes: the SIMD searchers' start-up cost
//! dominates on messages of a few dozen bytes, and no literal holds a NUL, so no match
//! spans two messages.
//!
//! A field whose literals all have 4 bytes or more (the message, in the default packs;
//! any other field even with one literal) is searched by the sampled 4-gram filter of
//! [`super::grams`] instead, on its raw text: no copy, no lowercasing, no searcher
//! start-up, so it is not joined. A lone message literal keeps the joined search.
//!
//! Fields are searched in their decoded text, exactly what the conditions test, so
//! escaping in the record does not matter; searching a field instead of the whole
//! record also keeps the pass short (a message is a fraction of its record).
//!
//! The literal pass is two-step because most texts hold no literal: the text is
//! ASCII-lowercased into a reused buffer and a SIMD searcher (memmem for one literal,
//! Teddy for several) answers "any literal at all?" and where the leftmost starts;
//! only then does an overlapping automaton, from there, list every literal present
//! (a single literal needs no second pass). A case-insensitive automaton alone cannot
//! use those searchers. Numeric tests (`httpRequest.status` 403, 500-599) become one
//! number read per field and a range check, so status rules are not checked on every
//! request log.

use super::cond::{CmpOp, Cond, Leaf, Op, Scalar};
use super::exact::ExactLeaf;
use super::grams::Grams;
use super::literal::{longest_safe_run, regex_literals};
use super::Rule;
use crate::entry::{key_bit, parse_number_text, Entry, Field, Object, Value};
use aho_corasick::{packed, AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem;
use regex::RegexSet;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Something one of which must be present for a rule to match.
#[derive(Debug, Clone)]
enum Atom {
    /// A literal of a field's text (ASCII case-insensitive).
    Lit(Field, String),
    /// The field is present (not null; a message not empty).
    Present(Field),
    /// A regex on the message, flags inlined.
    MsgRe(String),
    /// The field reads as a number satisfying every bound.
    Num(Field, Bounds),
    /// A leaf on a payload or label field, checked exactly (it is one lookup, and far
    /// more selective than "the field is present").
    Exact(Box<Leaf>),
}

/// The object a field's first key lives in (an index into [`KeyFilters`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Json,
    Proto,
    Labels,
    ResourceLabels,
    Operation,
    SourceLocation,
}

/// A field's first key and its bit in the object's key filter, computed once: an entry
/// that cannot have the field is passed over with one AND, no lookup.
#[derive(Debug, Clone, Copy)]
struct KeyGate {
    part: Part,
    bit: u64,
}

impl KeyGate {
    fn of(f: &Field) -> Option<KeyGate> {
        let (part, key) = match f {
            Field::Json(p) => (Part::Json, p.first()?),
            Field::Proto(p) => (Part::Proto, p.first()?),
            Field::Label(k) => (Part::Labels, k),
            Field::ResourceLabel(k) => (Part::ResourceLabels, k),
            Field::Operation(k) => (Part::Operation, k),
            Field::SourceLocation(k) => (Part::SourceLocation, k),
            _ => return None,
        };
        Some(KeyGate {
            part,
            bit: key_bit(key),
        })
    }
}

/// An entry's key filters, one per [`Part`] (0 for an absent object), read once per
/// entry so that each gate is one indexed AND.
struct KeyFilters([u64; 6]);

impl KeyFilters {
    /// `others`: some gate is on an object other than jsonPayload. Without one (the
    /// default packs) only the payload's filter is read: the objects lie apart in the
    /// entry, and every cache line read here is one more per entry.
    fn of(e: &Entry<'_>, others: bool) -> KeyFilters {
        let f = |o: Option<&Object<'_>>| o.map_or(0, Object::key_filter);
        let json = f(e.json_payload.as_ref());
        if !others {
            return KeyFilters([json, 0, 0, 0, 0, 0]);
        }
        KeyFilters([
            json,
            f(e.proto_payload.as_ref()),
            e.labels.key_filter(),
            e.resource_labels.key_filter(),
            f(e.operation.as_ref()),
            f(e.source_location.as_ref()),
        ])
    }

    /// False when the entry certainly lacks the field; true for fields without a gate.
    fn may_hold(&self, g: Option<KeyGate>) -> bool {
        g.is_none_or(|g| self.0[g.part as usize] & g.bit != 0)
    }
}

/// Which part an entry must have for a structural rule to be worth checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Gate {
    Always,
    Http,
    Json,
    Proto,
    Text,
}

impl Gate {
    fn holds(self, e: &Entry<'_>) -> bool {
        match self {
            Gate::Always => true,
            Gate::Http => e.http.is_some(),
            Gate::Json => e.json_payload.is_some(),
            Gate::Proto => e.proto_payload.is_some(),
            Gate::Text => e.text_payload.is_some(),
        }
    }
}

/// A fast "does any literal occur?" test over lowercased text.
#[derive(Debug)]
enum AnyLit {
    One(memmem::Finder<'static>),
    Many(packed::Searcher),
}

impl AnyLit {
    fn build(lits: &[String]) -> Option<AnyLit> {
        match lits {
            [one] => Some(AnyLit::One(
                memmem::Finder::new(one.as_bytes()).into_owned(),
            )),
            _ => packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostFirst)
                .builder()
                .extend(lits)
                .build()
                .map(AnyLit::Many),
        }
    }

    /// Where the leftmost literal starts.
    fn first(&self, hay: &[u8]) -> Option<usize> {
        match self {
            AnyLit::One(f) => f.find(hay),
            AnyLit::Many(s) => s.find(hay).map(|m| m.start()),
        }
    }

    /// True when there is one literal, so a hit names it.
    fn only(&self) -> bool {
        matches!(self, AnyLit::One(_))
    }
}

/// Numeric bounds that must all hold.
type Bounds = Vec<(CmpOp, f64)>;

/// The numeric tests of one field: bounds, and the rules needing them.
#[derive(Debug)]
struct NumScan {
    field: Field,
    gate: Option<KeyGate>,
    /// `httpRequest.status`, which the entry holds as a number already.
    status: bool,
    tests: Vec<(Bounds, Vec<u32>)>,
    /// For `httpRequest.status`: the rules of `tests` that hold, per whole code below
    /// [`CODES`], so a request log costs one lookup instead of every bound.
    by_code: Vec<Vec<u32>>,
}

/// Status codes looked up in `NumScan::by_code` (others are checked bound by bound).
const CODES: usize = 1000;

impl NumScan {
    /// The rules of `tests` whose bounds all hold for `x`.
    fn holding(&self, x: f64) -> impl Iterator<Item = &[u32]> {
        self.tests
            .iter()
            .filter(move |(b, _)| b.iter().all(|&(op, n)| op.holds(x, n)))
            .map(|(_, rs)| rs.as_slice())
    }

    /// Fills `by_code` (for `httpRequest.status`).
    fn tabulate(&mut self) {
        self.by_code = (0..CODES)
            .map(|c| {
                let mut rs: Vec<u32> = self.holding(c as f64).flatten().copied().collect();
                rs.sort_unstable();
                rs.dedup();
                rs
            })
            .collect();
    }
}

/// The literals and presence tests of one field.
#[derive(Debug)]
struct FieldScan {
    field: Field,
    gate: Option<KeyGate>,
    /// When every literal has 4 bytes or more (and this is not a lone message
    /// literal): the gram filter, which finds them all in the raw text (no `any`, no
    /// `ac`).
    grams: Option<Grams>,
    /// Quick gate before `ac` (absent when no SIMD searcher could be built).
    any: Option<AnyLit>,
    /// Overlapping automaton over the lowercased literals.
    ac: Option<AhoCorasick>,
    /// The id in `Prefilter::lit_rules` of each literal of `ac`.
    lit_ids: Vec<usize>,
    /// Rules that only need the field to be present.
    present: Vec<u32>,
    /// Texts may be searched joined by NUL bytes: there is an automaton and no
    /// literal is empty or holds a NUL.
    joinable: bool,
}

impl FieldScan {
    /// Calls `hit` with the id (in `lit_ids`) of every literal in `lower`, at least
    /// once each.
    fn scan(&self, lower: &[u8], hit: impl FnMut(usize)) {
        match &self.any {
            // No literal starts before the leftmost one found.
            Some(a) => {
                if let Some(i) = a.first(lower) {
                    self.listed(&lower[i..], hit);
                }
            }
            None => self.listed(lower, hit),
        }
    }

    /// [`FieldScan::scan`] once the gate found a literal starting at `lower[0]` (or
    /// there is no gate).
    fn listed(&self, lower: &[u8], mut hit: impl FnMut(usize)) {
        if self.any.as_ref().is_some_and(AnyLit::only) {
            return hit(0);
        }
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(lower) {
                hit(m.pattern().as_usize());
            }
        }
    }
}

/// The compiled prefilter of a rule set.
#[derive(Debug, Default)]
pub(crate) struct Prefilter {
    /// One per field with atoms; the message first.
    fields: Vec<FieldScan>,
    /// Literal count over all fields.
    n_lits: usize,
    lit_rules: Vec<Vec<u32>>,
    msg_set: Option<RegexSet>,
    re_rules: Vec<Vec<u32>>,
    /// The numeric tests of `httpRequest.status` (held by the entry as a number).
    status: Option<NumScan>,
    /// Those of other fields.
    nums: Vec<NumScan>,
    /// Exact leaves, their key gates, and the rules needing them; those on jsonPayload
    /// fields first (`exact_json` of them).
    exact: Vec<(Option<KeyGate>, ExactLeaf, Vec<u32>)>,
    exact_json: usize,
    /// The key bits of those: an entry whose payload has none of them (or that has no
    /// payload, like a request log) skips them all with one test.
    exact_json_bits: u64,
    /// Some gate tests a key of an object other than jsonPayload.
    other_parts: bool,
    /// `fields[0]` is the message (read straight from the entry, or found by a block
    /// search).
    message_first: bool,
    structural: Vec<(Gate, Vec<u32>)>,
    /// Per rule, how it is prefiltered (for `rules list`).
    plan: Vec<String>,
    n_rules: usize,
}

/// Reusable per-thread marks: a stamp per literal and per rule, so nothing is cleared
/// between entries.
#[derive(Default)]
struct Scratch {
    stamp: u32,
    lit_seen: Vec<u32>,
    rule_seen: Vec<u32>,
    /// The field text, ASCII-lowercased.
    lower: Vec<u8>,
    /// For a block: where each entry's message ends in `lower` (messages are joined
    /// with NUL bytes, which no message literal holds).
    ends: Vec<usize>,
    /// For a block: the message literals found, grouped by entry (`lit_ends`).
    lits: Vec<usize>,
    lit_ends: Vec<usize>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Scratch {
    fn next(&mut self, lits: usize, rules: usize) -> u32 {
        if self.lit_seen.len() < lits {
            self.lit_seen.resize(lits, 0);
        }
        if self.rule_seen.len() < rules {
            self.rule_seen.resize(rules, 0);
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.lit_seen.fill(0);
            self.rule_seen.fill(0);
            self.stamp = 1;
        }
        self.stamp
    }
}

/// Fields whose text is copied from the record as written (so a literal of the value
/// is in the raw bytes). Not severity (may be a number), timestamp (reformatted),
/// log_id (URL-decoded) or latency (converted to seconds).
fn raw_text_field(f: &Field) -> bool {
    !matches!(f, Field::Severity | Field::Timestamp | Field::LogId)
        && !matches!(f, Field::Http(k) if k == "latency")
}

fn positive(l: &Leaf) -> bool {
    !l.ops.iter().any(|o| matches!(o, Op::Exists(false)))
}

fn lits(f: &Field, v: Option<Vec<String>>) -> Option<Vec<Atom>> {
    v.map(|v| v.into_iter().map(|s| Atom::Lit(f.clone(), s)).collect())
}

fn str_lit(s: &Scalar) -> Option<String> {
    match s {
        Scalar::Str(s) => {
            let wordy = parse_number_text(s).is_none()
                && !s.eq_ignore_ascii_case("true")
                && !s.eq_ignore_ascii_case("false");
            wordy.then(|| longest_safe_run(s)).flatten()
        }
        _ => None,
    }
}

fn op_atoms(l: &Leaf, op: &Op) -> Option<Vec<Atom>> {
    if !raw_text_field(&l.field) {
        return None;
    }
    let f = &l.field;
    match op {
        Op::Equals(s) => lits(f, str_lit(s).map(|s| vec![s])),
        Op::OneOf(list) => lits(f, list.iter().map(str_lit).collect()),
        Op::Contains(ns) | Op::StartsWith(ns) | Op::EndsWith(ns) => {
            lits(f, ns.iter().map(|n| longest_safe_run(n)).collect())
        }
        Op::Regex(re) => {
            // Unicode case folding (e.g. the Kelvin sign) defeats ASCII literals.
            let from_lits = if l.ci {
                None
            } else {
                lits(f, regex_literals(re.as_str()))
            };
            from_lits.or_else(|| {
                (l.field == Field::Message).then(|| {
                    let flags = if l.ci { "(?i:" } else { "(?:" };
                    vec![Atom::MsgRe(format!("{flags}{})", re.as_str()))]
                })
            })
        }
        _ => None,
    }
}

/// A payload or label field the leaf tests: present whenever the leaf holds.
fn key_atoms(l: &Leaf) -> Option<Vec<Atom>> {
    if !positive(l) {
        return None;
    }
    match &l.field {
        Field::Json(_)
        | Field::Proto(_)
        | Field::Label(_)
        | Field::ResourceLabel(_)
        | Field::Operation(_)
        | Field::SourceLocation(_) => Some(vec![Atom::Present(l.field.clone())]),
        _ => None,
    }
}

/// The leaf itself, when it tests a payload or label field with operators that are
/// cheap to check exactly (no substring or regex search: those become literals).
fn exact_atoms(l: &Leaf) -> Option<Vec<Atom>> {
    let cheap = l.ops.iter().all(|o| {
        matches!(
            o,
            Op::Equals(_)
                | Op::OneOf(_)
                | Op::StartsWith(_)
                | Op::EndsWith(_)
                | Op::Exists(true)
                | Op::Cmp(..)
                | Op::SevCmp(..)
        )
    });
    (positive(l) && cheap && KeyGate::of(&l.field).is_some())
        .then(|| vec![Atom::Exact(Box::new(l.clone()))])
}

/// Numeric bounds the leaf's value must satisfy (`equals`/`one_of` numbers and
/// comparisons), one atom per allowed point.
fn num_atoms(l: &Leaf) -> Option<Vec<Atom>> {
    if matches!(l.field, Field::Severity | Field::Timestamp) {
        return None;
    }
    let bounds: Vec<(CmpOp, f64)> = l
        .ops
        .iter()
        .filter_map(|o| match o {
            Op::Cmp(c, n) => Some((*c, *n)),
            _ => None,
        })
        .collect();
    let num = |s: &Scalar| match s {
        Scalar::Num(n) => Some(*n),
        _ => None,
    };
    let points = l.ops.iter().find_map(|o| match o {
        Op::Equals(s) => num(s).map(|n| vec![n]),
        Op::OneOf(list) if !list.is_empty() => list.iter().map(num).collect(),
        _ => None,
    });
    let atom = |extra: &[(CmpOp, f64)]| {
        let mut b = bounds.clone();
        b.extend_from_slice(extra);
        Atom::Num(l.field.clone(), b)
    };
    match points {
        Some(ps) => Some(
            ps.into_iter()
                .map(|p| atom(&[(CmpOp::Gte, p), (CmpOp::Lte, p)]))
                .collect(),
        ),
        None if !bounds.is_empty() => Some(vec![atom(&[])]),
        None => None,
    }
}

/// Length a presence test counts as when ranking atoms (it is exact and cheap).
const PRESENT_SCORE: usize = 16;
/// A numeric test is exact too, and rarer than presence.
const NUM_SCORE: usize = 24;
/// An exact leaf: one lookup, rejects every other value.
const EXACT_SCORE: usize = 32;
/// An exact leaf that names its values (`equals`, `one_of`) rejects the most.
const EXACT_VALUE_SCORE: usize = 40;

/// Higher is more selective: literals beat regexes, longer beats shorter.
fn score(atoms: &[Atom]) -> (bool, usize) {
    let all_lits = atoms.iter().all(|a| !matches!(a, Atom::MsgRe(_)));
    let min = atoms
        .iter()
        .map(|a| match a {
            Atom::Lit(_, s) => s.len(),
            Atom::Present(_) => PRESENT_SCORE,
            Atom::Num(..) => NUM_SCORE,
            Atom::Exact(l) => {
                if l.ops
                    .iter()
                    .all(|o| matches!(o, Op::Equals(_) | Op::OneOf(_)))
                {
                    EXACT_VALUE_SCORE
                } else {
                    EXACT_SCORE
                }
            }
            Atom::MsgRe(_) => 0,
        })
        .min()
        .unwrap_or(0);
    (all_lits, min)
}

fn best(cands: impl Iterator<Item = Vec<Atom>>) -> Option<Vec<Atom>> {
    cands.max_by_key(|a| score(a))
}

/// Atoms one of which is present whenever `c` holds; `None` when there are none.
fn need(c: &Cond) -> Option<Vec<Atom>> {
    match c {
        Cond::Leaf(l) => best(
            l.ops
                .iter()
                .filter_map(|op| op_atoms(l, op))
                .chain(key_atoms(l))
                .chain(num_atoms(l))
                .chain(exact_atoms(l)),
        ),
        Cond::All(cs) => best(cs.iter().filter_map(need)),
        Cond::Any(cs) => {
            let mut out = Vec::new();
            for k in cs {
                out.extend(need(k)?);
            }
            Some(out)
        }
        Cond::Not(_) => None,
    }
}

fn gate(c: &Cond) -> Gate {
    match c {
        Cond::Leaf(l) if positive(l) => match l.field {
            Field::Http(_) => Gate::Http,
            Field::Json(_) => Gate::Json,
            Field::Proto(_) => Gate::Proto,
            Field::TextPayload => Gate::Text,
            _ => Gate::Always,
        },
        Cond::Leaf(_) | Cond::Not(_) => Gate::Always,
        Cond::All(cs) => cs.iter().map(gate).max().unwrap_or(Gate::Always),
        Cond::Any(cs) => {
            let gs: Vec<Gate> = cs.iter().map(gate).collect();
            match gs.first() {
                Some(g) if gs.iter().all(|x| x == g) => *g,
                _ => Gate::Always,
            }
        }
    }
}

impl Prefilter {
    /// Builds the prefilter; if the automaton or the regex set cannot be built, the
    /// rules concerned are simply always checked.
    pub fn build(rules: &[Rule]) -> Prefilter {
        let mut p = Prefilter {
            n_rules: rules.len(),
            ..Prefilter::default()
        };
        // Per field (message first): literal -> id, and the rules needing presence.
        let mut fields: Vec<(Field, BTreeMap<String, usize>, Vec<u32>)> =
            vec![(Field::Message, BTreeMap::new(), Vec::new())];
        let mut re_ids: BTreeMap<String, usize> = BTreeMap::new();
        let mut res: Vec<String> = Vec::new();
        let mut structural: BTreeMap<Gate, Vec<u32>> = BTreeMap::new();
        let slot =
            |fields: &mut Vec<(Field, BTreeMap<String, usize>, Vec<u32>)>, f: &Field| match fields
                .iter()
                .position(|(g, _, _)| g == f)
            {
                Some(i) => i,
                None => {
                    fields.push((f.clone(), BTreeMap::new(), Vec::new()));
                    fields.len() - 1
                }
            };
        for (i, r) in rules.iter().enumerate() {
            let ri = i as u32;
            let Some(atoms) = need(&r.when) else {
                let g = gate(&r.when);
                structural.entry(g).or_default().push(ri);
                p.plan.push(format!("structural ({g:?})").to_lowercase());
                continue;
            };
            let mut shown = Vec::new();
            for a in atoms {
                match a {
                    Atom::Lit(f, s) => {
                        let key = s.to_ascii_lowercase();
                        let fi = slot(&mut fields, &f);
                        let next = p.lit_rules.len();
                        let id = *fields[fi].1.entry(key).or_insert(next);
                        if id == next {
                            p.lit_rules.push(Vec::new());
                        }
                        p.lit_rules[id].push(ri);
                        shown.push(format!("{f} ~ {s:?}"));
                    }
                    Atom::Present(f) => {
                        let fi = slot(&mut fields, &f);
                        if !fields[fi].2.contains(&ri) {
                            fields[fi].2.push(ri);
                        }
                        shown.push(format!("{f} present"));
                    }
                    Atom::Num(f, bounds) => {
                        shown.push(num_plan(&f, &bounds));
                        let ni = match p.nums.iter().position(|n| n.field == f) {
                            Some(i) => i,
                            None => {
                                p.nums.push(NumScan {
                                    status: f == Field::Http("status".into()),
                                    gate: KeyGate::of(&f),
                                    field: f,
                                    tests: Vec::new(),
                                    by_code: Vec::new(),
                                });
                                p.nums.len() - 1
                            }
                        };
                        let tests = &mut p.nums[ni].tests;
                        match tests.iter_mut().find(|(b, _)| *b == bounds) {
                            Some((_, rs)) => rs.push(ri),
                            None => tests.push((bounds, vec![ri])),
                        }
                    }
                    Atom::Exact(l) => {
                        let ops: Vec<String> = l.ops.iter().map(ToString::to_string).collect();
                        shown.push(format!("{} {}", l.field, ops.join(" and ")));
                        p.exact
                            .push((KeyGate::of(&l.field), ExactLeaf::new(*l), vec![ri]));
                    }
                    Atom::MsgRe(re) => {
                        let next = res.len();
                        let id = *re_ids.entry(re.clone()).or_insert(next);
                        if id == next {
                            res.push(re.clone());
                            p.re_rules.push(Vec::new());
                        }
                        p.re_rules[id].push(ri);
                        shown.push(format!("message =~ {re:?}"));
                    }
                }
            }
            shown.dedup();
            p.plan.push(format!("any of {}", shown.join(", ")));
        }
        p.n_lits = p.lit_rules.len();
        if let Some(i) = p.nums.iter().position(|n| n.status) {
            let mut status = p.nums.remove(i);
            status.tabulate();
            p.status = Some(status);
        }
        for (field, lits, present) in fields {
            if lits.is_empty() && present.is_empty() {
                continue;
            }
            // Keys are already lowercase; the text is lowercased before searching.
            let (lits, lit_ids): (Vec<String>, Vec<usize>) = lits.into_iter().unzip();
            let (mut ac, mut any) = (None, None);
            // A lone message literal is found faster over the block's joined messages
            // (memmem); elsewhere the gram filter spares the lowercased copy.
            let grams = if lits.len() > 1 || field != Field::Message {
                Grams::build(&lits)
            } else {
                None
            };
            if !lits.is_empty() && grams.is_none() {
                any = AnyLit::build(&lits);
                let built = AhoCorasick::builder()
                    .kind(Some(AhoCorasickKind::DFA))
                    .match_kind(MatchKind::Standard)
                    .build(&lits)
                    .or_else(|_| {
                        AhoCorasick::builder()
                            .match_kind(MatchKind::Standard)
                            .build(&lits)
                    });
                match built {
                    Ok(a) => ac = Some(a),
                    Err(_) => {
                        let all = structural.entry(Gate::Always).or_default();
                        for &id in &lit_ids {
                            all.extend(&p.lit_rules[id]);
                        }
                    }
                }
            }
            let joinable = ac.is_some() && lits.iter().all(|l| !l.is_empty() && !l.contains('\0'));
            p.fields.push(FieldScan {
                joinable,
                grams,
                gate: KeyGate::of(&field),
                field,
                any,
                ac,
                lit_ids,
                present,
            });
        }
        if !res.is_empty() {
            match RegexSet::new(&res) {
                Ok(set) => p.msg_set = Some(set),
                Err(_) => {
                    let all = structural.entry(Gate::Always).or_default();
                    all.extend(p.re_rules.iter().flatten());
                }
            }
        }
        p.structural = structural.into_iter().collect();
        p.message_first = p.fields.first().is_some_and(|f| f.field == Field::Message);
        let json_gate = |g: &Option<KeyGate>| match g {
            Some(KeyGate {
                part: Part::Json,
                bit,
            }) => Some(*bit),
            _ => None,
        };
        p.exact.sort_by_key(|(g, _, _)| json_gate(g).is_none());
        p.exact_json = p.exact.partition_point(|(g, _, _)| json_gate(g).is_some());
        p.exact_json_bits = p
            .exact
            .iter()
            .filter_map(|(g, _, _)| json_gate(g))
            .fold(0, |a, b| a | b);
        let other = |g: &Option<KeyGate>| g.is_some_and(|g| g.part != Part::Json);
        p.other_parts = p.fields.iter().any(|f| other(&f.gate))
            || p.nums.iter().any(|n| other(&n.gate))
            || p.exact.iter().any(|(g, _, _)| other(g));
        p
    }

    /// How rule `i` is prefiltered, for humans.
    pub fn plan(&self, i: usize) -> &str {
        self.plan.get(i).map_or("", String::as_str)
    }

    /// Appends the indices of rules that may match `e` (unsorted, no repeats).
    pub fn candidates(&self, e: &Entry<'_>, out: &mut Vec<usize>) {
        SCRATCH.with(|s| match s.try_borrow_mut() {
            Ok(mut s) => self.candidates_with(&mut s, e, out, None),
            // Only reachable by re-entrance; a fresh scratch is correct, just slower.
            Err(_) => self.candidates_with(&mut Scratch::default(), e, out, None),
        });
    }

    /// Candidates for every entry of a block, grouped: those of `es[i]` are
    /// `out[ends[i - 1]..ends[i]]`. Same result as [`Prefilter::candidates`] per entry,
    /// but the message literals of the whole block are found in one search, which
    /// spares the searcher's start-up cost on every short message.
    pub fn candidates_block(&self, es: &[Entry<'_>], out: &mut Vec<usize>, ends: &mut Vec<usize>) {
        SCRATCH.with(|s| match s.try_borrow_mut() {
            Ok(mut s) => self.block_with(&mut s, es, out, ends),
            Err(_) => self.block_with(&mut Scratch::default(), es, out, ends),
        });
    }

    /// Message literals (ids in `lit_rules`) of every entry of `es`, into
    /// `s.lits` / `s.lit_ends`; false when the message has no literal scan.
    fn block_messages(&self, s: &mut Scratch, es: &[Entry<'_>]) -> bool {
        let Some(fs) = self
            .fields
            .first()
            .filter(|f| f.field == Field::Message && f.joinable)
        else {
            return false;
        };
        let Scratch {
            lower,
            ends,
            lits,
            lit_ends,
            ..
        } = s;
        lower.clear();
        ends.clear();
        for e in es {
            lower.extend_from_slice(e.message.as_bytes());
            ends.push(lower.len());
            lower.push(0);
        }
        lower.make_ascii_lowercase();
        lits.clear();
        lit_ends.clear();
        match &fs.any {
            Some(any) => {
                let (mut pos, mut k) = (0, 0);
                while let Some(at) = lower.get(pos..).and_then(|t| any.first(t)) {
                    let at = pos + at;
                    // A match lies inside one message: literals hold no NUL.
                    while ends[k] <= at {
                        lit_ends.push(lits.len());
                        k += 1;
                    }
                    fs.listed(&lower[at..ends[k]], |i| lits.push(fs.lit_ids[i]));
                    lit_ends.push(lits.len());
                    pos = ends[k] + 1;
                    k += 1;
                }
            }
            None => {
                // No SIMD gate: every message goes through the automaton.
                let mut start = 0;
                for &end in ends.iter() {
                    fs.listed(&lower[start..end], |i| lits.push(fs.lit_ids[i]));
                    lit_ends.push(lits.len());
                    start = end + 1;
                }
            }
        }
        lit_ends.resize(es.len(), lits.len());
        true
    }

    fn block_with(
        &self,
        s: &mut Scratch,
        es: &[Entry<'_>],
        out: &mut Vec<usize>,
        ends: &mut Vec<usize>,
    ) {
        out.clear();
        ends.clear();
        let batched = self.block_messages(s, es);
        let (lits, lit_ends) = (std::mem::take(&mut s.lits), std::mem::take(&mut s.lit_ends));
        let mut start = 0;
        for (i, e) in es.iter().enumerate() {
            let found = batched.then(|| &lits[start..lit_ends[i]]);
            start = lit_ends.get(i).copied().unwrap_or(start);
            self.candidates_with(s, e, out, found);
            ends.push(out.len());
        }
        (s.lits, s.lit_ends) = (lits, lit_ends);
    }

    /// Marks the rules of `fs` whose literals (or presence) `text`, the field's text,
    /// shows.
    #[inline]
    fn scan_field(
        &self,
        fs: &FieldScan,
        text: &[u8],
        m: &mut Marks<'_>,
        lower: &mut Vec<u8>,
        out: &mut Vec<usize>,
    ) {
        m.add(&fs.present, out);
        if let Some(g) = &fs.grams {
            g.scan(text, |i| m.lit(fs.lit_ids[i], &self.lit_rules, out));
        } else if fs.ac.is_some() {
            lower.clear();
            lower.extend_from_slice(text);
            lower.make_ascii_lowercase();
            fs.scan(lower, |i| m.lit(fs.lit_ids[i], &self.lit_rules, out));
        }
    }

    /// `msg_lits`: the message's literals when already found (by a block search).
    fn candidates_with(
        &self,
        s: &mut Scratch,
        e: &Entry<'_>,
        out: &mut Vec<usize>,
        msg_lits: Option<&[usize]>,
    ) {
        let stamp = s.next(self.n_lits, self.n_rules);
        let Scratch {
            lit_seen,
            rule_seen,
            lower,
            ..
        } = s;
        let mut m = Marks {
            stamp,
            lit_seen,
            rule_seen,
        };
        let keys = KeyFilters::of(e, self.other_parts);
        let mut fields = self.fields.iter();
        if self.message_first {
            if let Some(fs) = fields.next() {
                match msg_lits {
                    Some(found) => {
                        for &id in found {
                            m.lit(id, &self.lit_rules, out);
                        }
                    }
                    None if !e.message.is_empty() => {
                        self.scan_field(fs, e.message.as_bytes(), &mut m, lower, out);
                    }
                    None => {}
                }
            }
        }
        for fs in fields {
            if !keys.may_hold(fs.gate) {
                continue;
            }
            if let Some(text) = field_text(e, &fs.field) {
                self.scan_field(fs, text.as_bytes(), &mut m, lower, out);
            }
        }
        if let Some(set) = &self.msg_set {
            if !e.message.is_empty() {
                for id in set.matches(&e.message).iter() {
                    m.add(&self.re_rules[id], out);
                }
            }
        }
        if let (Some(ns), Some(x)) = (&self.status, e.status) {
            match ns.by_code.get(x as usize) {
                // `as` truncates and saturates (NaN reads 0): only a whole code reads back.
                Some(rs) if x as usize as f64 == x => m.add(rs, out),
                _ => ns.holding(x).for_each(|rs| m.add(rs, out)),
            }
        }
        for ns in &self.nums {
            if !keys.may_hold(ns.gate) {
                continue;
            }
            if let Some(x) = e.get(&ns.field).and_then(|v| v.as_f64()) {
                ns.holding(x).for_each(|rs| m.add(rs, out));
            }
        }
        // The jsonPayload leaves come first: an entry whose payload has none of their
        // keys starts after them.
        let exact = match keys.0[Part::Json as usize] & self.exact_json_bits {
            0 => self.exact.get(self.exact_json..).unwrap_or_default(),
            _ => &self.exact,
        };
        for (g, leaf, rs) in exact {
            if keys.may_hold(*g) && leaf.holds(e) {
                m.add(rs, out);
            }
        }
        for (g, rs) in &self.structural {
            if g.holds(e) {
                m.add(rs, out);
            }
        }
    }
}

/// One entry's marks: which literals and rules were already seen (stamped).
struct Marks<'s> {
    stamp: u32,
    lit_seen: &'s mut [u32],
    rule_seen: &'s mut [u32],
}

impl Marks<'_> {
    /// Appends the rules of `rs` not yet seen.
    fn add(&mut self, rs: &[u32], out: &mut Vec<usize>) {
        for &r in rs {
            if self.rule_seen[r as usize] != self.stamp {
                self.rule_seen[r as usize] = self.stamp;
                out.push(r as usize);
            }
        }
    }

    /// Appends the rules of literal `id`, the first time it is seen.
    fn lit(&mut self, id: usize, lit_rules: &[Vec<u32>], out: &mut Vec<usize>) {
        if self.lit_seen[id] != self.stamp {
            self.lit_seen[id] = self.stamp;
            self.add(&lit_rules[id], out);
        }
    }
}

/// How a numeric atom reads in `rules` listings.
fn num_plan(f: &Field, bounds: &[(CmpOp, f64)]) -> String {
    let parts: Vec<String> = bounds
        .iter()
        .map(|(op, n)| format!("{} {n}", op.name()))
        .collect();
    format!("{f} {}", parts.join(" "))
}

/// The text conditions test for `f` (as `Leaf` reads it): `None` when the field is
/// absent, null, or an empty message.
fn field_text<'e>(e: &'e Entry<'_>, f: &Field) -> Option<Cow<'e, str>> {
    let v = match f {
        Field::Message => {
            return (!e.message.is_empty()).then(|| Cow::Borrowed(e.message.as_ref()));
        }
        // The common case, looked up without the generic path walk (the caller's gate
        // has tested the key's bit).
        Field::Json(p) if p.len() == 1 => {
            Value::from_raw(e.json_payload.as_ref()?.raw_unfiltered(p.first()?)?)
        }
        _ => e.get(f)?,
    };
    match v {
        Value::Null => None,
        v => Some(match v {
            Value::Str(s) => s,
            Value::Num(n) => Cow::Borrowed(n),
            Value::Raw(r) => Cow::Borrowed(r),
            other => Cow::Owned(other.as_text().into_owned()),
        }),
    }
}
