//! Compiled conditions and their evaluation against an [`Entry`].
//!
//! Values compare the way people read logs: `equals = 403` matches `403` and `"403"`,
//! `equals = false` matches `false` and `"false"`, `gte = "ERROR"` on `severity`
//! compares levels. Case-insensitive matching folds ASCII letters only, which keeps it
//! allocation-free and agrees with the prefilter's ASCII case-insensitive automaton.

use crate::entry::{Entry, Field, Severity, Value};
use regex::Regex;
use std::borrow::Cow;
use std::fmt;

/// A condition tree.
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
    Leaf(Leaf),
}

/// One field and the operators that must all hold on it.
#[derive(Debug, Clone)]
pub(crate) struct Leaf {
    pub field: Field,
    pub ops: Vec<Op>,
    /// ASCII case-insensitive string operators (needles stored lowercase).
    pub ci: bool,
}

/// A value written in a rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Str(String),
    Num(f64),
    Bool(bool),
    Sev(Severity),
}

/// Numeric comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// One operator.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Equals(Scalar),
    OneOf(Vec<Scalar>),
    Contains(Vec<String>),
    StartsWith(Vec<String>),
    EndsWith(Vec<String>),
    Regex(Regex),
    /// `exists = true` / `missing = false` (true), or the reverse (false).
    Exists(bool),
    Cmp(CmpOp, f64),
    SevCmp(CmpOp, Severity),
}

impl CmpOp {
    pub(crate) fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            CmpOp::Gt => a > b,
            CmpOp::Gte => a >= b,
            CmpOp::Lt => a < b,
            CmpOp::Lte => a <= b,
        }
    }

    /// The operator's name in rule files.
    pub fn name(self) -> &'static str {
        match self {
            CmpOp::Gt => "gt",
            CmpOp::Gte => "gte",
            CmpOp::Lt => "lt",
            CmpOp::Lte => "lte",
        }
    }
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    find(hay, needle, true).is_some()
}

fn starts_ci(hay: &str, needle: &str) -> bool {
    hay.len() >= needle.len()
        && hay.as_bytes()[..needle.len()].eq_ignore_ascii_case(needle.as_bytes())
}

/// Where `needle` first occurs in `hay` (ASCII case folded when `ci`), as a byte range.
fn find(hay: &str, needle: &str, ci: bool) -> Option<std::ops::Range<usize>> {
    if needle.is_empty() {
        return Some(0..0);
    }
    let at = if ci {
        let (h, n) = (hay.as_bytes(), needle.as_bytes());
        h.windows(n.len()).position(|w| w.eq_ignore_ascii_case(n))?
    } else {
        hay.find(needle)?
    };
    Some(at..at + needle.len())
}

fn ends_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    h.len() >= n.len() && h[h.len() - n.len()..].eq_ignore_ascii_case(n)
}

/// `equals` between a rule value and an entry value.
fn scalar_eq(s: &Scalar, v: &Value<'_>, ci: bool) -> bool {
    match s {
        Scalar::Bool(b) => v.as_bool() == Some(*b),
        Scalar::Num(n) => v.as_f64() == Some(*n),
        Scalar::Sev(want) => match v {
            Value::Str(t) => Severity::parse(t) == Some(*want),
            _ => v.as_f64().map(Severity::from_number) == Some(*want),
        },
        Scalar::Str(want) => {
            let text_eq = |t: &str| {
                if ci {
                    t.eq_ignore_ascii_case(want)
                } else {
                    t == want
                }
            };
            match v {
                Value::Num(_) | Value::Float(_) => match crate::entry::parse_number_text(want) {
                    Some(n) => v.as_f64() == Some(n),
                    None => text_eq(&v.as_text()),
                },
                Value::Bool(b) => want.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
                _ => text_eq(&v.as_text()),
            }
        }
    }
}

impl Op {
    /// Tests the operator on a field's value (`None` when absent).
    fn test(&self, v: Option<&Value<'_>>, ci: bool) -> bool {
        let Some(v) = v else {
            return matches!(self, Op::Exists(false));
        };
        let text = || v.as_text();
        match self {
            Op::Exists(want) => *want,
            Op::Equals(s) => scalar_eq(s, v, ci),
            Op::OneOf(list) => list.iter().any(|s| scalar_eq(s, v, ci)),
            Op::Contains(ns) => {
                let t = text();
                ns.iter().any(|n| {
                    if ci {
                        contains_ci(&t, n)
                    } else {
                        t.contains(n.as_str())
                    }
                })
            }
            Op::StartsWith(ns) => {
                let t = text();
                ns.iter().any(|n| {
                    if ci {
                        starts_ci(&t, n)
                    } else {
                        t.starts_with(n.as_str())
                    }
                })
            }
            Op::EndsWith(ns) => {
                let t = text();
                ns.iter().any(|n| {
                    if ci {
                        ends_ci(&t, n)
                    } else {
                        t.ends_with(n.as_str())
                    }
                })
            }
            Op::Regex(re) => re.is_match(&text()),
            Op::Cmp(op, n) => v.as_f64().is_some_and(|x| op.holds(x, *n)),
            Op::SevCmp(op, s) => match v {
                Value::Str(t) => Severity::parse(t).is_some_and(|x| op.holds(x, *s)),
                _ => v
                    .as_f64()
                    .is_some_and(|x| op.holds(Severity::from_number(x), *s)),
            },
        }
    }
}

impl Leaf {
    /// The field's value, with `null` and an empty message counted as absent.
    fn value<'e>(&self, e: &'e Entry<'_>) -> Option<Value<'e>> {
        // `matches!`, not `==`: the derived comparison of fields is a call per leaf.
        if matches!(self.field, Field::Severity) {
            return Some(Value::Str(Cow::Borrowed(e.severity.name())));
        }
        match e.get(&self.field)? {
            Value::Null => None,
            Value::Str(s) if s.is_empty() && matches!(self.field, Field::Message) => None,
            v => Some(v),
        }
    }

    fn test(&self, op: &Op, v: Option<&Value<'_>>, e: &Entry<'_>) -> bool {
        match (&self.field, op) {
            // A missing severity reads as DEFAULT; `exists` means "a level was set".
            (Field::Severity, Op::Exists(want)) => (e.severity != Severity::Default) == *want,
            _ => op.test(v, self.ci),
        }
    }

    /// True when every operator holds on the field.
    pub(crate) fn eval(&self, e: &Entry<'_>) -> bool {
        let v = self.value(e);
        self.ops.iter().all(|op| self.test(op, v.as_ref(), e))
    }

    /// Where in the message the leaf's first text operator found what it looks for
    /// (the earliest of its needles), when the leaf is on the message and holds.
    fn message_span(&self, e: &Entry<'_>) -> Option<std::ops::Range<usize>> {
        if !matches!(self.field, Field::Message) || !self.eval(e) {
            return None;
        }
        let m: &str = &e.message;
        let earliest = |ns: &[String]| {
            ns.iter()
                .filter_map(|n| find(m, n, self.ci))
                .min_by_key(|r| r.start)
        };
        self.ops.iter().find_map(|op| match op {
            Op::Contains(ns) => earliest(ns),
            Op::StartsWith(ns) => ns
                .iter()
                .find(|n| {
                    if self.ci {
                        starts_ci(m, n)
                    } else {
                        m.starts_with(n.as_str())
                    }
                })
                .map(|n| 0..n.len()),
            Op::EndsWith(ns) => ns
                .iter()
                .find(|n| {
                    if self.ci {
                        ends_ci(m, n)
                    } else {
                        m.ends_with(n.as_str())
                    }
                })
                .map(|n| m.len() - n.len()..m.len()),
            Op::Regex(re) => re.find(m).map(|x| x.range()),
            _ => None,
        })
    }

    fn explain(&self, e: &Entry<'_>) -> Option<String> {
        let v = self.value(e);
        let op = self.ops.iter().find(|op| !self.test(op, v.as_ref(), e))?;
        let found = match &v {
            None => "absent".to_string(),
            Some(v) => format!("{:?}", clip(&v.as_text(), 80)),
        };
        let ci = if self.ci { " (case-insensitive)" } else { "" };
        Some(format!("{} is {found}, wanted {op}{ci}", self.field))
    }
}

fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

impl Cond {
    /// True when a leaf reads `httpRequest`: the rule is about requests.
    pub fn reads_http(&self) -> bool {
        match self {
            Cond::All(cs) | Cond::Any(cs) => cs.iter().any(Cond::reads_http),
            Cond::Not(c) => c.reads_http(),
            Cond::Leaf(l) => matches!(l.field, Field::Http(_)),
        }
    }

    /// True when the condition holds for the entry.
    pub fn eval(&self, e: &Entry<'_>) -> bool {
        match self {
            Cond::All(cs) => cs.iter().all(|c| c.eval(e)),
            Cond::Any(cs) => cs.iter().any(|c| c.eval(e)),
            Cond::Not(c) => !c.eval(e),
            Cond::Leaf(l) => l.eval(e),
        }
    }

    /// Where in the entry's message the condition found what made it hold: the first
    /// message leaf in rule order that holds, on a branch that holds (`not` gives
    /// none). `None` when the match rests on other fields. For an entry it holds for.
    pub fn message_span(&self, e: &Entry<'_>) -> Option<std::ops::Range<usize>> {
        match self {
            Cond::All(cs) => cs.iter().find_map(|c| c.message_span(e)),
            Cond::Any(cs) => cs
                .iter()
                .filter(|c| c.eval(e))
                .find_map(|c| c.message_span(e)),
            Cond::Not(_) => None,
            Cond::Leaf(l) => l.message_span(e),
        }
    }

    /// Why the condition does not hold (`None` when it does).
    pub fn explain(&self, e: &Entry<'_>) -> Option<String> {
        match self {
            Cond::All(cs) => cs.iter().find_map(|c| c.explain(e)),
            Cond::Any(cs) => {
                if cs.iter().any(|c| c.eval(e)) {
                    return None;
                }
                let why: Vec<String> = cs.iter().filter_map(|c| c.explain(e)).collect();
                Some(format!("no alternative of `any` held: {}", why.join("; ")))
            }
            Cond::Not(c) => c
                .eval(e)
                .then(|| "the condition under `not` held".to_string()),
            Cond::Leaf(l) => l.explain(e),
        }
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Str(s) => write!(f, "{s:?}"),
            Scalar::Num(n) => write!(f, "{n}"),
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Sev(s) => write!(f, "{s}"),
        }
    }
}

fn list<T: fmt::Debug>(v: &[T]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
    parts.join(" or ")
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Equals(s) => write!(f, "equals {s}"),
            Op::OneOf(v) => {
                let parts: Vec<String> = v.iter().map(ToString::to_string).collect();
                write!(f, "one_of [{}]", parts.join(", "))
            }
            Op::Contains(v) => write!(f, "contains {}", list(v)),
            Op::StartsWith(v) => write!(f, "starts_with {}", list(v)),
            Op::EndsWith(v) => write!(f, "ends_with {}", list(v)),
            Op::Regex(r) => write!(f, "regex {:?}", r.as_str()),
            Op::Exists(true) => f.write_str("exists"),
            Op::Exists(false) => f.write_str("missing"),
            Op::Cmp(op, n) => write!(f, "{} {n}", op.name()),
            Op::SevCmp(op, s) => write!(f, "{} {s}", op.name()),
        }
    }
}
