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
use super::literal::{longest_safe_run, regex_literals};
use super::Rule;
use crate::entry::{parse_number_text, Entry, Field, Value};
use aho_corasick::{packed, AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem;
use regex::RegexSet;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Something one of which must be present for a rule to match.
#[derive(Debug, Clone, PartialEq)]
enum Atom {
    /// A literal of a field's text (ASCII case-insensitive).
    Lit(Field, String),
    /// The field is present (not null; a message not empty).
    Present(Field),
    /// A regex on the message, flags inlined.
    MsgRe(String),
    /// The field reads as a number satisfying every bound.
    Num(Field, Bounds),
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

    /// Where the leftmost literal starts, or that the only literal occurs.
    fn first(&self, hay: &[u8]) -> Option<Hit> {
        match self {
            AnyLit::One(f) => f.find(hay).map(|_| Hit::Only),
            AnyLit::Many(s) => s.find(hay).map(|m| Hit::At(m.start())),
        }
    }
}

/// What the any-literal gate found.
enum Hit {
    /// The field's only literal occurs.
    Only,
    /// Some literal starts here and none before.
    At(usize),
}

/// Numeric bounds that must all hold.
type Bounds = Vec<(CmpOp, f64)>;

/// The numeric tests of one field: bounds, and the rules needing them.
#[derive(Debug)]
struct NumScan {
    field: Field,
    /// `httpRequest.status`, which the entry holds as a number already.
    status: bool,
    tests: Vec<(Bounds, Vec<u32>)>,
}

/// The literals and presence tests of one field.
#[derive(Debug)]
struct FieldScan {
    field: Field,
    /// Quick gate before `ac` (absent when no SIMD searcher could be built).
    any: Option<AnyLit>,
    /// Overlapping automaton over the lowercased literals.
    ac: Option<AhoCorasick>,
    /// The id in `Prefilter::lit_rules` of each literal of `ac`.
    lit_ids: Vec<usize>,
    /// Rules that only need the field to be present.
    present: Vec<u32>,
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
    nums: Vec<NumScan>,
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

/// Higher is more selective: literals beat regexes, longer beats shorter.
fn score(atoms: &[Atom]) -> (bool, usize) {
    let all_lits = atoms.iter().all(|a| !matches!(a, Atom::MsgRe(_)));
    let min = atoms
        .iter()
        .map(|a| match a {
            Atom::Lit(_, s) => s.len(),
            Atom::Present(_) => PRESENT_SCORE,
            Atom::Num(..) => NUM_SCORE,
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
                .chain(num_atoms(l)),
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
                                    field: f,
                                    tests: Vec::new(),
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
        for (field, lits, present) in fields {
            if lits.is_empty() && present.is_empty() {
                continue;
            }
            // Keys are already lowercase; the text is lowercased before searching.
            let (lits, lit_ids): (Vec<String>, Vec<usize>) = lits.into_iter().unzip();
            let (mut ac, mut any) = (None, None);
            if !lits.is_empty() {
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
            p.fields.push(FieldScan {
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
        p
    }

    /// How rule `i` is prefiltered, for humans.
    pub fn plan(&self, i: usize) -> &str {
        self.plan.get(i).map_or("", String::as_str)
    }

    /// Appends the indices of rules that may match `e` (unsorted, no repeats).
    pub fn candidates(&self, e: &Entry<'_>, out: &mut Vec<usize>) {
        SCRATCH.with(|s| match s.try_borrow_mut() {
            Ok(mut s) => self.candidates_with(&mut s, e, out),
            // Only reachable by re-entrance; a fresh scratch is correct, just slower.
            Err(_) => self.candidates_with(&mut Scratch::default(), e, out),
        });
    }

    fn candidates_with(&self, s: &mut Scratch, e: &Entry<'_>, out: &mut Vec<usize>) {
        let stamp = s.next(self.n_lits, self.n_rules);
        let Scratch {
            lit_seen,
            rule_seen,
            lower,
            ..
        } = s;
        let mut add = |rs: &[u32], out: &mut Vec<usize>| {
            for &r in rs {
                if rule_seen[r as usize] != stamp {
                    rule_seen[r as usize] = stamp;
                    out.push(r as usize);
                }
            }
        };
        for fs in &self.fields {
            let Some(text) = field_text(e, &fs.field) else {
                continue;
            };
            add(&fs.present, out);
            if let Some(ac) = &fs.ac {
                lower.clear();
                lower.extend_from_slice(text.as_bytes());
                lower.make_ascii_lowercase();
                let from = match &fs.any {
                    Some(a) => match a.first(lower) {
                        None => continue,
                        Some(Hit::Only) => {
                            let id = fs.lit_ids[0];
                            lit_seen[id] = stamp;
                            add(&self.lit_rules[id], out);
                            continue;
                        }
                        // No literal starts before the leftmost one found.
                        Some(Hit::At(i)) => i,
                    },
                    None => 0,
                };
                for m in ac.find_overlapping_iter(&lower[from..]) {
                    let id = fs.lit_ids[m.pattern().as_usize()];
                    if lit_seen[id] != stamp {
                        lit_seen[id] = stamp;
                        add(&self.lit_rules[id], out);
                    }
                }
            }
        }
        if let Some(set) = &self.msg_set {
            if !e.message.is_empty() {
                for id in set.matches(&e.message).iter() {
                    add(&self.re_rules[id], out);
                }
            }
        }
        for ns in &self.nums {
            let x = if ns.status {
                e.status
            } else {
                e.get(&ns.field).and_then(|v| v.as_f64())
            };
            let Some(x) = x else {
                continue;
            };
            for (bounds, rs) in &ns.tests {
                if bounds.iter().all(|&(op, n)| op.holds(x, n)) {
                    add(rs, out);
                }
            }
        }
        for (g, rs) in &self.structural {
            if g.holds(e) {
                add(rs, out);
            }
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
    if matches!(f, Field::Message) {
        return (!e.message.is_empty()).then(|| Cow::Borrowed(e.message.as_ref()));
    }
    match e.get(f)? {
        Value::Null => None,
        v => Some(match v {
            Value::Str(s) => s,
            Value::Num(n) => Cow::Borrowed(n),
            Value::Raw(r) => Cow::Borrowed(r),
            other => Cow::Owned(other.as_text().into_owned()),
        }),
    }
}
