//! One field test (a `when` leaf) as Logging comparisons, by where the field lives in
//! a LogEntry and the type Logging gives it there.

use super::expr::{all, any, not, term, Expr};
use super::re2::{self, Dir};
use super::{quote, service_paths, Mode};
use crate::entry::{parse_number_text, Entry, Field, Severity};
use crate::rules::cond::{CmpOp, Cond, Leaf, Op, Scalar};
use crate::rules::literal::regex_literals;

/// Where `message` is read from (see `entry::pick_message`): `jsonPayload` keys in its
/// order, then `textPayload`, then the audit status message or method.
pub(super) const MESSAGE_PATHS: &[&str] = &[
    "textPayload",
    "jsonPayload.message",
    "jsonPayload.msg",
    "jsonPayload.textPayload",
    "jsonPayload.error",
    "jsonPayload.exception",
    "jsonPayload.err",
    "jsonPayload.log",
    "jsonPayload.text",
    "jsonPayload.event",
    "jsonPayload.@m",
    "jsonPayload.RenderedMessage",
    "jsonPayload.error.message",
    "jsonPayload.err.message",
    "protoPayload.status.message",
    "protoPayload.methodName",
];
const REVISION_PATHS: &[&str] = &[
    "resource.labels.revision_name",
    "labels.\"run.googleapis.com/execution_name\"",
    "labels.\"k8s-pod/pod-template-hash\"",
    "resource.labels.version_id",
];
const LOCATION_PATHS: &[&str] = &[
    "resource.labels.location",
    "resource.labels.cluster_location",
    "resource.labels.zone",
    "resource.labels.region",
];
/// Text that parses as a number for rules (`parse_number_text`): optional white space
/// and sign, then a digit or a point.
const NUMERIC_TEXT: &str = r"^[\s\x0B\x{85}\p{Z}]*[+-]?\.?[0-9]";

/// The type Logging gives a field, which decides what its comparisons mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Int,
    Bool,
    Duration,
    /// A payload field: its type is whatever the JSON value was.
    Any,
}

/// Where a rule field lives in a LogEntry.
enum Source {
    One(String, Kind),
    /// Read from whichever of these the entry has (all strings).
    Many(&'static [&'static str]),
    /// Like `Many`, from the resource-type table.
    Service,
    Severity,
    LogId,
    /// No Logging field compares the same way.
    Opaque,
}

/// A path segment, quoted when Logging would read it as syntax.
pub(super) fn seg(s: &str) -> String {
    let plain = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@')
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && !matches!(s, "AND" | "OR" | "NOT");
    if plain && !s.is_empty() {
        s.to_string()
    } else {
        quote(s)
    }
}

fn source(f: &Field) -> Source {
    let one = |p: String, k: Kind| Source::One(p, k);
    let payload = |root: &str, p: &[String]| {
        let segs: Vec<String> = p.iter().map(|s| seg(s)).collect();
        one(format!("{root}.{}", segs.join(".")), Kind::Any)
    };
    match f {
        Field::Message => Source::Many(MESSAGE_PATHS),
        Field::Service => Source::Service,
        Field::Revision => Source::Many(REVISION_PATHS),
        Field::Location => Source::Many(LOCATION_PATHS),
        Field::Severity => Source::Severity,
        Field::LogId => Source::LogId,
        Field::Timestamp => Source::Opaque,
        Field::Project => one("resource.labels.project_id".into(), Kind::Str),
        Field::ResourceType => one("resource.type".into(), Kind::Str),
        Field::ResourceLabel(k) => one(format!("resource.labels.{}", seg(k)), Kind::Str),
        Field::LogName => one("logName".into(), Kind::Str),
        Field::InsertId => one("insertId".into(), Kind::Str),
        Field::Trace => one("trace".into(), Kind::Str),
        Field::SpanId => one("spanId".into(), Kind::Str),
        Field::Label(k) => one(format!("labels.{}", seg(k)), Kind::Str),
        Field::TextPayload => one("textPayload".into(), Kind::Str),
        Field::Json(p) => payload("jsonPayload", p),
        Field::Proto(p) => payload("protoPayload", p),
        // Subfields outside the LogEntry type are an error in Logging, not a miss.
        Field::Http(k) => match k.as_str() {
            "status" | "requestSize" | "responseSize" | "cacheFillBytes" => {
                one(format!("httpRequest.{k}"), Kind::Int)
            }
            "cacheHit" | "cacheLookup" | "cacheValidatedWithOriginServer" => {
                one(format!("httpRequest.{k}"), Kind::Bool)
            }
            "latency" => one("httpRequest.latency".into(), Kind::Duration),
            "requestMethod" | "requestUrl" | "userAgent" | "remoteIp" | "serverIp" | "referer"
            | "protocol" => one(format!("httpRequest.{k}"), Kind::Str),
            _ => Source::Opaque,
        },
        Field::Operation(k) => match k.as_str() {
            "id" | "producer" => one(format!("operation.{k}"), Kind::Str),
            "first" | "last" => one(format!("operation.{k}"), Kind::Bool),
            _ => Source::Opaque,
        },
        Field::SourceLocation(k) => match k.as_str() {
            "file" | "function" => one(format!("sourceLocation.{k}"), Kind::Str),
            "line" => one("sourceLocation.line".into(), Kind::Int),
            _ => Source::Opaque,
        },
    }
}

pub(super) fn leaf(l: &Leaf, mode: Mode, widen: bool) -> Expr {
    let unknown = if widen { Expr::True } else { Expr::False };
    let loosen = |op: &Op| match op {
        Op::StartsWith(ns) | Op::EndsWith(ns) => Some(Op::Contains(ns.clone())),
        _ => None,
    };
    if widen && mode == Mode::Lean && l.ops.iter().any(|op| loosen(op).is_some()) {
        let ops = l
            .ops
            .iter()
            .map(|op| loosen(op).unwrap_or_else(|| op.clone()));
        let loose = Leaf {
            ops: ops.collect(),
            ..l.clone()
        };
        return leaf(&loose, mode, true);
    }
    match source(&l.field) {
        Source::Opaque => unknown,
        Source::Severity => severity(l),
        Source::One(p, kind) => all(l
            .ops
            .iter()
            .map(|op| one_path(&p, kind, op, l.ci, widen))
            .collect()),
        Source::LogId => all(l.ops.iter().map(|op| log_id(op, l.ci, widen)).collect()),
        Source::Many(_) | Source::Service if !widen => Expr::False,
        Source::Service => many(l, mode, &service_paths(None)),
        Source::Many(paths) => many(l, mode, paths),
    }
}

/// A leaf on a field read from one of several paths.
fn many(l: &Leaf, mode: Mode, paths: &[&str]) -> Expr {
    all(l
        .ops
        .iter()
        .map(|op| match op {
            // Absent means absent or empty in every source: not worth a test.
            Op::Exists(false) => Expr::True,
            _ if mode == Mode::Compact && l.field == Field::Message => global(op),
            _ => any(paths
                .iter()
                .map(|p| one_path(p, Kind::Str, op, l.ci, true))
                .collect()),
        })
        .collect())
}

/// A test of the message anywhere in the entry (`"text"` is a `:` on every field).
fn global(op: &Op) -> Expr {
    let list = |ns: &[String]| any(ns.iter().map(|n| term(quote(n))).collect());
    match op {
        Op::Equals(Scalar::Str(s)) => term(quote(s)),
        Op::OneOf(v) if v.iter().all(|s| matches!(s, Scalar::Str(_))) => any(v
            .iter()
            .filter_map(|s| match s {
                Scalar::Str(s) => Some(term(quote(s))),
                _ => None,
            })
            .collect()),
        Op::Contains(ns) | Op::StartsWith(ns) | Op::EndsWith(ns) => list(ns),
        Op::Regex(re) => regex_literals(re.as_str()).map_or(Expr::True, |l| list(&l)),
        _ => Expr::True,
    }
}

/// Severity has nine values: the rule's own test picks the ones it accepts.
fn severity(l: &Leaf) -> Expr {
    let cond = Cond::Leaf(l.clone());
    let ok: Vec<Severity> = Severity::ALL
        .into_iter()
        .filter(|s| {
            let json = format!("{{\"severity\":\"{}\"}}", s.name());
            Entry::parse(&json).is_ok_and(|e| cond.eval(&e))
        })
        .collect();
    let all_levels = Severity::ALL;
    if ok.len() == all_levels.len() {
        return Expr::True;
    }
    let (Some(lo), Some(hi)) = (ok.first(), ok.last()) else {
        return Expr::False;
    };
    let contiguous = all_levels.iter().filter(|s| *s >= lo && *s <= hi).count() == ok.len();
    if contiguous && *hi == Severity::Emergency {
        term(format!("severity>={}", lo.name()))
    } else if contiguous && *lo == Severity::Default {
        term(format!("severity<={}", hi.name()))
    } else if ok.len() == 1 {
        term(format!("severity={}", lo.name()))
    } else {
        let names: Vec<&str> = ok.iter().map(|s| s.name()).collect();
        term(format!("severity=({})", names.join(" OR ")))
    }
}

/// `log_id()` compares the decoded id; other tests search `logName`, where `/` is `%2F`.
fn log_id(op: &Op, ci: bool, widen: bool) -> Expr {
    let unknown = if widen { Expr::True } else { Expr::False };
    let has = |ns: &[String]| {
        if !widen
            || !ns.iter().all(|n| {
                n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c))
            })
        {
            return unknown.clone();
        }
        any(ns
            .iter()
            .flat_map(|n| [n.replace('/', "%2F"), n.clone()])
            .map(|n| term(format!("logName:{}", quote(&n))))
            .collect())
    };
    match op {
        Op::Equals(Scalar::Str(s)) if !ci => {
            if widen {
                term(format!("log_id({})", quote(s)))
            } else {
                unknown
            }
        }
        Op::Equals(Scalar::Str(s)) => has(std::slice::from_ref(s)),
        Op::OneOf(v) => any(v
            .iter()
            .map(|s| log_id(&Op::Equals(s.clone()), ci, widen))
            .collect()),
        Op::Contains(ns) | Op::StartsWith(ns) | Op::EndsWith(ns) => has(ns),
        Op::Regex(re) => regex_literals(re.as_str()).map_or(unknown.clone(), |l| has(&l)),
        Op::Exists(true) => term("logName:*".into()),
        Op::Exists(false) => not(term("logName:*".into())),
        _ => unknown,
    }
}

/// A number as Logging reads it (`403`, `0.5`).
fn num(n: f64) -> String {
    n.to_string()
}

/// True when a needle could sit in the text of a JSON number or boolean, which rules
/// see as text but Logging's `:` and `=~` do not search.
fn could_be_scalar_text(n: &str) -> bool {
    n.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
        || ["true", "false"]
            .iter()
            .any(|w| w.contains(&n.to_ascii_lowercase()))
}

/// One operator on one path of a known kind.
fn one_path(p: &str, kind: Kind, op: &Op, ci: bool, widen: bool) -> Expr {
    let unknown = if widen { Expr::True } else { Expr::False };
    let t = |s: String| term(s);
    let re = |pattern: String| {
        let flag = if ci && widen { "(?i)" } else { "" };
        t(format!("{p}=~{}", quote(&format!("{flag}{pattern}"))))
    };
    let numeric_text = || t(format!("{p}=~{}", quote(NUMERIC_TEXT)));
    // Text tests on a payload field also keep non-string values when the needle could
    // be in a number's or boolean's text (`jsonPayload.code contains "40"`).
    let text = |x: Expr, needles: &[String]| {
        if kind == Kind::Any && widen && needles.iter().any(|n| could_be_scalar_text(n)) {
            let non_string = all(vec![t(format!("{p}:*")), not(t(format!("{p}=~\"^\"")))]);
            any(vec![x, non_string])
        } else {
            x
        }
    };
    let null = || t(format!("{p}=NULL_VALUE"));
    match (kind, op) {
        // A JSON null is absent for rules; Logging may count it as present.
        (Kind::Any, Op::Exists(true)) if !widen => all(vec![t(format!("{p}:*")), not(null())]),
        (Kind::Any, Op::Exists(false)) if widen => any(vec![not(t(format!("{p}:*"))), null()]),
        (_, Op::Exists(true)) => t(format!("{p}:*")),
        (_, Op::Exists(false)) => not(t(format!("{p}:*"))),
        (_, Op::OneOf(v)) => any(v
            .iter()
            .map(|s| one_path(p, kind, &Op::Equals(s.clone()), ci, widen))
            .collect()),
        (_, Op::SevCmp(..)) | (_, Op::Equals(Scalar::Sev(_))) => unknown,

        (Kind::Int, Op::Equals(s)) => {
            let n = match s {
                Scalar::Num(n) => Some(*n),
                Scalar::Str(s) => parse_number_text(s),
                _ => None,
            };
            match n {
                Some(n) if n.fract() == 0.0 => t(format!("{p}={}", num(n))),
                _ => Expr::False,
            }
        }
        (Kind::Int, Op::Cmp(c, n)) => {
            let (op, bound) = match c {
                CmpOp::Gt => (">", n.floor()),
                CmpOp::Gte => (">=", n.ceil()),
                CmpOp::Lt => ("<", n.ceil()),
                CmpOp::Lte => ("<=", n.floor()),
            };
            t(format!("{p}{op}{}", num(bound)))
        }
        (Kind::Bool, Op::Equals(Scalar::Bool(b))) => t(format!("{p}={b}")),
        (Kind::Bool, Op::Equals(Scalar::Str(s)))
            if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") =>
        {
            t(format!("{p}={}", s.to_ascii_lowercase()))
        }
        (Kind::Bool, Op::Equals(_)) => Expr::False,
        (Kind::Duration, Op::Cmp(c, n)) => {
            t(format!("{p}{}{}", cmp(*c), quote(&format!("{}s", num(*n)))))
        }
        (Kind::Duration, Op::Equals(s)) => {
            let n = match s {
                Scalar::Num(n) => Some(*n),
                Scalar::Str(s) => parse_number_text(s),
                _ => None,
            };
            n.map_or(Expr::False, |n| {
                t(format!("{p}={}", quote(&format!("{}s", num(n)))))
            })
        }
        (Kind::Int | Kind::Bool | Kind::Duration, _) => unknown,

        // Strings and payload fields from here on.
        (_, Op::Equals(Scalar::Str(s))) if widen => t(format!("{p}={}", quote(s))),
        (Kind::Str, Op::Equals(Scalar::Str(s))) => re(format!("^{}$", re2::literal(s, ci))),
        (_, Op::Equals(Scalar::Bool(b))) if widen => t(format!("{p}={b}")),
        (Kind::Str, Op::Equals(Scalar::Bool(b))) => {
            re(format!("^{}$", re2::literal(&b.to_string(), true)))
        }
        (Kind::Any, Op::Equals(Scalar::Num(n)) | Op::Cmp(_, n)) if widen => {
            let c = match op {
                Op::Cmp(c, _) => cmp(*c),
                _ => "=",
            };
            any(vec![t(format!("{p}{c}{}", num(*n))), numeric_text()])
        }
        (_, Op::Equals(Scalar::Num(_)) | Op::Cmp(..)) if widen => numeric_text(),
        (Kind::Any, _) if !widen => Expr::False,
        (_, Op::Contains(ns)) if widen => {
            let vals: Vec<String> = ns.iter().map(|n| quote(n)).collect();
            text(Expr::Has(p.to_string(), vals), ns)
        }
        (_, Op::Contains(ns)) => re(re2::alternatives(ns, ci, false, false)),
        (_, Op::StartsWith(ns)) => text(re(re2::alternatives(ns, ci && !widen, true, false)), ns),
        (_, Op::EndsWith(ns)) => text(re(re2::alternatives(ns, ci && !widen, false, true)), ns),
        (_, Op::Regex(r)) if widen => match regex_literals(r.as_str()) {
            Some(lits) => one_path(p, kind, &Op::Contains(lits), ci, true),
            None => match re2::translate(r.as_str(), Dir::Wider) {
                Some(x) => text(re(x), &["0".to_string()]),
                None => Expr::True,
            },
        },
        (_, Op::Regex(r)) => match re2::translate(r.as_str(), Dir::Exact) {
            // A case-insensitive rule regex folds case the way RE2's `(?i)` does.
            Some(x) if ci => t(format!("{p}=~{}", quote(&format!("(?i){x}")))),
            Some(x) => re(x),
            None => Expr::False,
        },
        _ => unknown,
    }
}

fn cmp(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Gt => ">",
        CmpOp::Gte => ">=",
        CmpOp::Lt => "<",
        CmpOp::Lte => "<=",
    }
}
