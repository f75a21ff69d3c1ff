//! A Cloud Logging query (<https://cloud.google.com/logging/docs/view/logging-query-language>)
//! derived from `when`, so a report can say "see these entries with
//! `gcloud logging read '<filter>'`".
//!
//! The filter may select more than the rule matches, never less: `message` has no
//! Logging field, so it becomes the fields the message is read from; `service`,
//! `revision`, `location` and `project` become Cloud Run's resource labels.

use super::cond::{CmpOp, Cond, Leaf, Op, Scalar};
use crate::entry::Field;

/// Where the message may come from (see `entry::MESSAGE_KEYS` and `pick_message`).
const MESSAGE_PATHS: &[&str] = &[
    "textPayload",
    "jsonPayload.message",
    "jsonPayload.msg",
    "jsonPayload.error",
    "protoPayload.status.message",
];

/// The filter for a condition; `None` when a part has no Logging equivalent.
pub(crate) fn derive(c: &Cond) -> Option<String> {
    match c {
        Cond::All(cs) => {
            let parts: Option<Vec<String>> = cs.iter().map(derive).collect();
            Some(join(parts?, " AND "))
        }
        Cond::Any(cs) => {
            let parts: Option<Vec<String>> = cs.iter().map(derive).collect();
            Some(join(parts?, " OR "))
        }
        Cond::Not(c) => Some(format!("NOT {}", group(&derive(c)?))),
        Cond::Leaf(l) => leaf(l),
    }
}

fn join(parts: Vec<String>, sep: &str) -> String {
    if parts.len() == 1 {
        return parts.into_iter().next().unwrap_or_default();
    }
    let v: Vec<String> = parts.iter().map(|p| group(p)).collect();
    v.join(sep)
}

/// Parenthesises a compound expression.
fn group(s: &str) -> String {
    if s.contains(' ') && !(s.starts_with('(') && s.ends_with(')')) {
        format!("({s})")
    } else {
        s.to_string()
    }
}

/// A Logging string literal.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A path segment, quoted when it holds characters Logging reads as syntax.
fn seg(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@')
    {
        s.to_string()
    } else {
        quote(s)
    }
}

fn path(f: &Field) -> Option<Vec<String>> {
    let one = |s: &str| Some(vec![s.to_string()]);
    let nested = |root: &str, p: &[String]| {
        let segs: Vec<String> = p.iter().map(|s| seg(s)).collect();
        Some(vec![format!("{root}.{}", segs.join("."))])
    };
    match f {
        Field::Message => Some(MESSAGE_PATHS.iter().map(|s| s.to_string()).collect()),
        Field::Severity => one("severity"),
        Field::Timestamp => one("timestamp"),
        Field::Service => one("resource.labels.service_name"),
        Field::Revision => one("resource.labels.revision_name"),
        Field::Location => one("resource.labels.location"),
        Field::Project => one("resource.labels.project_id"),
        Field::ResourceType => one("resource.type"),
        Field::ResourceLabel(k) => one(&format!("resource.labels.{}", seg(k))),
        Field::LogName | Field::LogId => one("logName"),
        Field::InsertId => one("insertId"),
        Field::Trace => one("trace"),
        Field::SpanId => one("spanId"),
        Field::Label(k) => one(&format!("labels.{}", seg(k))),
        Field::Http(k) => one(&format!("httpRequest.{}", seg(k))),
        Field::TextPayload => one("textPayload"),
        Field::Json(p) => nested("jsonPayload", p),
        Field::Proto(p) => nested("protoPayload", p),
        Field::Operation(k) => one(&format!("operation.{}", seg(k))),
        Field::SourceLocation(k) => one(&format!("sourceLocation.{}", seg(k))),
    }
}

fn regex_escape(s: &str) -> String {
    regex::escape(s)
}

fn scalar(s: &Scalar) -> String {
    match s {
        Scalar::Str(s) => quote(s),
        Scalar::Num(n) => n.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Sev(s) => s.name().to_string(),
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

/// One operator on one Logging path.
fn op_on(p: &str, op: &Op, ci: bool, field: &Field) -> Option<String> {
    let flag = if ci { "(?i)" } else { "" };
    let any = |items: Vec<String>| join(items, " OR ");
    Some(match op {
        // log_id() matches the decoded log id exactly.
        Op::Equals(Scalar::Str(s)) if *field == Field::LogId => format!("log_id({})", quote(s)),
        Op::Equals(Scalar::Str(s)) if ci => {
            format!("{p}=~{}", quote(&format!("(?i)^{}$", regex_escape(s))))
        }
        Op::Equals(s) => format!("{p}={}", scalar(s)),
        Op::OneOf(list) => any(list.iter().map(|s| format!("{p}={}", scalar(s))).collect()),
        Op::Contains(ns) if ci => any(ns
            .iter()
            .map(|n| format!("{p}=~{}", quote(&format!("(?i){}", regex_escape(n)))))
            .collect()),
        Op::Contains(ns) => any(ns.iter().map(|n| format!("{p}:{}", quote(n))).collect()),
        Op::StartsWith(ns) => any(ns
            .iter()
            .map(|n| format!("{p}=~{}", quote(&format!("{flag}^{}", regex_escape(n)))))
            .collect()),
        Op::EndsWith(ns) => any(ns
            .iter()
            .map(|n| format!("{p}=~{}", quote(&format!("{flag}{}$", regex_escape(n)))))
            .collect()),
        Op::Regex(re) => format!("{p}=~{}", quote(&format!("{flag}{}", re.as_str()))),
        Op::Exists(true) => format!("{p}:*"),
        Op::Exists(false) => format!("NOT {p}:*"),
        Op::Cmp(op, n) => format!("{p}{}{n}", cmp(*op)),
        Op::SevCmp(op, s) => format!("{p}{}{}", cmp(*op), s.name()),
    })
}

fn leaf(l: &Leaf) -> Option<String> {
    let paths = path(&l.field)?;
    if l.field == Field::Timestamp {
        return None;
    }
    let mut parts = Vec::new();
    for op in &l.ops {
        let per_path: Option<Vec<String>> =
            paths.iter().map(|p| op_on(p, op, l.ci, &l.field)).collect();
        let per_path = per_path?;
        // A missing message is missing from every path it could come from.
        let sep = if matches!(op, Op::Exists(false)) {
            " AND "
        } else {
            " OR "
        };
        parts.push(join(per_path, sep));
    }
    Some(join(parts, " AND "))
}
