//! `when` tables -> [`Cond`], refusing what cannot be evaluated (unknown field,
//! operator without a usable value, bad regex) with the line it is on.

use super::cond::{CmpOp, Cond, Leaf, Op, Scalar};
use super::error::Ctx;
use super::spec::{CondSpec, OPERATORS};
use crate::entry::{parse_number_text, Field, Severity};
use regex::RegexBuilder;
use toml::{Spanned, Value};

/// Compiled regexes are capped so a careless rule cannot eat memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Compiles one condition; `None` after recording errors.
pub(crate) fn compile(ctx: &mut Ctx<'_>, node: &Spanned<CondSpec>) -> Option<Cond> {
    let c = node.get_ref();
    let span = node.span();
    let combinators: Vec<&str> = [
        ("all", c.all.is_some()),
        ("any", c.any.is_some()),
        ("not", c.not.is_some()),
    ]
    .into_iter()
    .filter_map(|(n, on)| on.then_some(n))
    .collect();
    let ops = c.ops();
    if combinators.len() > 1 {
        ctx.err(
            span,
            format!(
                "a condition takes one of all / any / not, found {}",
                combinators.join(" and ")
            ),
        );
        return None;
    }
    if let Some(comb) = combinators.first() {
        if c.field.is_some() || !ops.is_empty() {
            ctx.err(span, format!("`{comb}` cannot sit next to `field` or operators; nest the test inside `{comb}`"));
            return None;
        }
    }
    if let Some(list) = c.all.as_ref().or(c.any.as_ref()) {
        let name = if c.all.is_some() { "all" } else { "any" };
        if list.get_ref().is_empty() {
            ctx.err(
                list.span(),
                format!("`{name}` needs at least one condition"),
            );
            return None;
        }
        let mut kids = Vec::new();
        let mut ok = true;
        for k in list.get_ref() {
            match compile(ctx, k) {
                Some(k) => kids.push(k),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        return Some(if c.all.is_some() {
            Cond::All(kids)
        } else {
            Cond::Any(kids)
        });
    }
    if let Some(inner) = &c.not {
        return compile(ctx, inner).map(|k| Cond::Not(Box::new(k)));
    }
    leaf(ctx, c, span)
}

fn leaf(ctx: &mut Ctx<'_>, c: &CondSpec, span: std::ops::Range<usize>) -> Option<Cond> {
    let Some(name) = &c.field else {
        ctx.err(
            span,
            "a condition needs `field` and an operator, or one of all / any / not",
        );
        return None;
    };
    let field = match Field::parse(name.get_ref()) {
        Ok(f) => f,
        Err(msg) => {
            ctx.err(name.span(), msg);
            return None;
        }
    };
    let ops_spec = c.ops();
    if ops_spec.is_empty() {
        ctx.err(
            span,
            format!("no operator for field `{field}`; operators: {OPERATORS}"),
        );
        return None;
    }
    let ci = c.case_insensitive.as_ref().is_some_and(|b| *b.get_ref());
    let mut ops = Vec::new();
    let mut ok = true;
    for (name, v) in ops_spec {
        match op(&field, name, v.get_ref(), ci) {
            Ok(o) => ops.push(o),
            Err(msg) => {
                ctx.err(v.span(), format!("`{name}` on `{field}`: {msg}"));
                ok = false;
            }
        }
    }
    ok.then_some(Cond::Leaf(Leaf { field, ops, ci }))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

fn severity(v: &Value) -> Result<Severity, String> {
    let bad = || {
        format!(
            "unknown severity {v}; use DEFAULT, DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL, ALERT, EMERGENCY or a number"
        )
    };
    match v {
        Value::String(s) => Severity::parse(s).ok_or_else(bad),
        Value::Integer(n) => Ok(Severity::from_number(*n as f64)),
        Value::Float(n) => Ok(Severity::from_number(*n)),
        _ => Err(bad()),
    }
}

fn scalar(field: &Field, v: &Value, ci: bool) -> Result<Scalar, String> {
    if *field == Field::Severity {
        return severity(v).map(Scalar::Sev);
    }
    match v {
        Value::String(s) if ci => Ok(Scalar::Str(s.to_ascii_lowercase())),
        Value::String(s) => Ok(Scalar::Str(s.clone())),
        Value::Integer(n) => Ok(Scalar::Num(*n as f64)),
        Value::Float(n) => Ok(Scalar::Num(*n)),
        Value::Boolean(b) => Ok(Scalar::Bool(*b)),
        other => Err(format!(
            "takes a string, number or boolean, not {}",
            type_name(other)
        )),
    }
}

/// A string or a non-empty list of non-empty strings.
fn needles(v: &Value, ci: bool) -> Result<Vec<String>, String> {
    let list: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    if list.is_empty() {
        return Err("the list is empty".into());
    }
    let mut out = Vec::new();
    for item in list {
        match item {
            Value::String(s) if s.is_empty() => {
                return Err("an empty string matches everything".into())
            }
            Value::String(s) if ci => out.push(s.to_ascii_lowercase()),
            Value::String(s) => out.push(s.clone()),
            other => {
                return Err(format!(
                    "takes a string or a list of strings, not {}",
                    type_name(other)
                ))
            }
        }
    }
    Ok(out)
}

fn number(v: &Value) -> Result<f64, String> {
    match v {
        Value::Integer(n) => Ok(*n as f64),
        Value::Float(n) => Ok(*n),
        Value::String(s) => parse_number_text(s).ok_or_else(|| format!("{s:?} is not a number")),
        other => Err(format!("takes a number, not {}", type_name(other))),
    }
}

fn flag(v: &Value) -> Result<bool, String> {
    match v {
        Value::Boolean(b) => Ok(*b),
        other => Err(format!("takes true or false, not {}", type_name(other))),
    }
}

fn op(field: &Field, name: &str, v: &Value, ci: bool) -> Result<Op, String> {
    let cmp = |op: CmpOp| -> Result<Op, String> {
        if *field == Field::Severity {
            severity(v).map(|s| Op::SevCmp(op, s))
        } else {
            number(v).map(|n| Op::Cmp(op, n))
        }
    };
    match name {
        "equals" => scalar(field, v, ci).map(Op::Equals),
        "one_of" => match v {
            Value::Array(a) if !a.is_empty() => a
                .iter()
                .map(|x| scalar(field, x, ci))
                .collect::<Result<Vec<_>, _>>()
                .map(Op::OneOf),
            Value::Array(_) => Err("the list is empty".into()),
            other => Err(format!("takes a list, not {}", type_name(other))),
        },
        "contains" => needles(v, ci).map(Op::Contains),
        "starts_with" => needles(v, ci).map(Op::StartsWith),
        "ends_with" => needles(v, ci).map(Op::EndsWith),
        "regex" => {
            let Value::String(p) = v else {
                return Err(format!("takes a string, not {}", type_name(v)));
            };
            RegexBuilder::new(p)
                .case_insensitive(ci)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map(Op::Regex)
                .map_err(|e| {
                    let detail = e.to_string();
                    let last = detail.lines().last().unwrap_or("").trim().to_string();
                    format!("bad regex {p:?}: {last}")
                })
        }
        "exists" => flag(v).map(Op::Exists),
        "missing" => flag(v).map(|b| Op::Exists(!b)),
        "gt" => cmp(CmpOp::Gt),
        "gte" => cmp(CmpOp::Gte),
        "lt" => cmp(CmpOp::Lt),
        "lte" => cmp(CmpOp::Lte),
        other => Err(format!(
            "unknown operator `{other}`; operators: {OPERATORS}"
        )),
    }
}
