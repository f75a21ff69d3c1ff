//! A Cloud Logging query (<https://cloud.google.com/logging/docs/view/logging-query-language>)
//! derived from `when`, so `logtriage query` can fetch only what the rules need.
//!
//! Built as a tree and printed with every compound operand in parentheses: the Logging
//! language binds OR tighter than AND, so flat text would change the meaning. `message`
//! has no Logging field and becomes the fields it is usually read from; `service`,
//! `revision`, `location` and `project` become Cloud Run's resource labels. Literal
//! parts of regexes are searched with `:` (cheaper for Logging, and a superset).

use super::cond::{CmpOp, Cond, Leaf, Op, Scalar};
use super::literal::regex_literals;
use crate::entry::Field;

/// Where the message usually comes from (see `entry::pick_message`).
const MESSAGE_PATHS: &[&str] = &[
    "textPayload",
    "jsonPayload.message",
    "jsonPayload.msg",
    "jsonPayload.error",
    "protoPayload.status.message",
];

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Term(String),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
}

impl Expr {
    /// AND / OR of several, flattening nested ones of the same kind.
    fn join(and: bool, items: Vec<Expr>) -> Expr {
        let mut flat = Vec::new();
        for x in items {
            match x {
                Expr::And(v) if and => flat.extend(v),
                Expr::Or(v) if !and => flat.extend(v),
                other => flat.push(other),
            }
        }
        if flat.len() == 1 {
            return flat.remove(0);
        }
        if and {
            Expr::And(flat)
        } else {
            Expr::Or(flat)
        }
    }

    fn render(&self) -> String {
        match self {
            Expr::Term(s) => s.clone(),
            Expr::And(v) => v
                .iter()
                .map(Expr::operand)
                .collect::<Vec<_>>()
                .join(" AND "),
            Expr::Or(v) => v.iter().map(Expr::operand).collect::<Vec<_>>().join(" OR "),
            Expr::Not(x) => format!("NOT {}", x.operand()),
        }
    }

    /// As an operand of AND / OR / NOT: compound expressions in parentheses.
    fn operand(&self) -> String {
        match self {
            Expr::Term(s) => s.clone(),
            other => format!("({})", other.render()),
        }
    }
}

/// The filter for a condition; `None` when a part has no Logging equivalent.
pub(crate) fn derive(c: &Cond) -> Option<String> {
    expr(c).map(|e| e.render())
}

fn expr(c: &Cond) -> Option<Expr> {
    Some(match c {
        Cond::All(cs) => Expr::join(true, cs.iter().map(expr).collect::<Option<_>>()?),
        Cond::Any(cs) => Expr::join(false, cs.iter().map(expr).collect::<Option<_>>()?),
        Cond::Not(c) => Expr::Not(Box::new(expr(c)?)),
        Cond::Leaf(l) => leaf(l)?,
    })
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

fn paths(f: &Field) -> Option<Vec<String>> {
    let one = |s: String| Some(vec![s]);
    let nested = |root: &str, p: &[String]| {
        let segs: Vec<String> = p.iter().map(|s| seg(s)).collect();
        one(format!("{root}.{}", segs.join(".")))
    };
    match f {
        Field::Message => Some(MESSAGE_PATHS.iter().map(|s| s.to_string()).collect()),
        Field::Timestamp => None,
        Field::Severity => one("severity".into()),
        Field::Service => one("resource.labels.service_name".into()),
        Field::Revision => one("resource.labels.revision_name".into()),
        Field::Location => one("resource.labels.location".into()),
        Field::Project => one("resource.labels.project_id".into()),
        Field::ResourceType => one("resource.type".into()),
        Field::ResourceLabel(k) => one(format!("resource.labels.{}", seg(k))),
        Field::LogName | Field::LogId => one("logName".into()),
        Field::InsertId => one("insertId".into()),
        Field::Trace => one("trace".into()),
        Field::SpanId => one("spanId".into()),
        Field::Label(k) => one(format!("labels.{}", seg(k))),
        Field::Http(k) => one(format!("httpRequest.{}", seg(k))),
        Field::TextPayload => one("textPayload".into()),
        Field::Json(p) => nested("jsonPayload", p),
        Field::Proto(p) => nested("protoPayload", p),
        Field::Operation(k) => one(format!("operation.{}", seg(k))),
        Field::SourceLocation(k) => one(format!("sourceLocation.{}", seg(k))),
    }
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

/// One regex over alternatives: `(?i)^(?:a|b)`.
fn alternatives(ns: &[String], ci: bool, pre: &str, post: &str) -> String {
    let alts: Vec<String> = ns.iter().map(|n| regex::escape(n)).collect();
    let flag = if ci { "(?i)" } else { "" };
    if alts.len() == 1 {
        format!("{flag}{pre}{}{post}", alts[0])
    } else {
        format!("{flag}{pre}(?:{}){post}", alts.join("|"))
    }
}

/// One operator on one Logging path.
fn op_on(p: &str, op: &Op, ci: bool, field: &Field) -> Expr {
    let t = Expr::Term;
    let any = |v: Vec<Expr>| Expr::join(false, v);
    let has_any = |ns: &[String]| {
        let vals: Vec<String> = ns.iter().map(|n| quote(n)).collect();
        if vals.len() == 1 {
            t(format!("{p}:{}", vals[0]))
        } else {
            t(format!("{p}:({})", vals.join(" OR ")))
        }
    };
    match op {
        // log_id() matches the decoded log id exactly.
        Op::Equals(Scalar::Str(s)) if *field == Field::LogId => t(format!("log_id({})", quote(s))),
        Op::Equals(Scalar::Str(s)) if ci => t(format!(
            "{p}=~{}",
            quote(&alternatives(std::slice::from_ref(s), true, "^", "$"))
        )),
        Op::Equals(s) => t(format!("{p}={}", scalar(s))),
        Op::OneOf(list) => any(list
            .iter()
            .map(|s| t(format!("{p}={}", scalar(s))))
            .collect()),
        Op::Contains(ns) if ci => t(format!("{p}=~{}", quote(&alternatives(ns, true, "", "")))),
        Op::Contains(ns) => has_any(ns),
        Op::StartsWith(ns) => t(format!("{p}=~{}", quote(&alternatives(ns, ci, "^", "")))),
        Op::EndsWith(ns) => t(format!("{p}=~{}", quote(&alternatives(ns, ci, "", "$")))),
        Op::Regex(re) => match (ci, regex_literals(re.as_str())) {
            (false, Some(lits)) => has_any(&lits),
            _ => {
                let flag = if ci { "(?i)" } else { "" };
                t(format!("{p}=~{}", quote(&format!("{flag}{}", re.as_str()))))
            }
        },
        Op::Exists(true) => t(format!("{p}:*")),
        Op::Exists(false) => Expr::Not(Box::new(t(format!("{p}:*")))),
        Op::Cmp(op, n) => t(format!("{p}{}{n}", cmp(*op))),
        Op::SevCmp(op, s) => t(format!("{p}{}{}", cmp(*op), s.name())),
    }
}

fn leaf(l: &Leaf) -> Option<Expr> {
    let paths = paths(&l.field)?;
    let mut parts = Vec::new();
    for op in &l.ops {
        let per_path: Vec<Expr> = paths.iter().map(|p| op_on(p, op, l.ci, &l.field)).collect();
        // Absent means absent from every path the value could come from.
        let and = matches!(op, Op::Exists(false));
        parts.push(Expr::join(and, per_path));
    }
    Some(Expr::join(true, parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_explicit() {
        let t = |s: &str| Expr::Term(s.to_string());
        let e = Expr::join(
            true,
            vec![
                Expr::join(false, vec![t("a"), t("b")]),
                Expr::Not(Box::new(Expr::join(false, vec![t("c"), t("d")]))),
                Expr::join(true, vec![t("e"), t("f")]),
            ],
        );
        assert_eq!(e.render(), "(a OR b) AND (NOT (c OR d)) AND e AND f");
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(
            seg("run.googleapis.com/execution_name"),
            "\"run.googleapis.com/execution_name\""
        );
        assert_eq!(
            alternatives(&["a.b".into(), "c".into()], true, "^", ""),
            r"(?i)^(?:a\.b|c)"
        );
    }
}
