//! Evaluation of a parsed query (`lql.rs`) against a LogEntry as JSON, with the
//! semantics listed there.

use super::lql::{Op, Rhs, Q};
use serde_json::Value;

/// The type Logging gives a LogEntry-defined field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Typed {
    Str,
    Int,
    Bool,
    Duration,
    Time,
    Severity,
}

fn typed(path: &[String]) -> Option<Typed> {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    Some(match p.as_slice() {
        ["severity"] => Typed::Severity,
        ["timestamp"] | ["receiveTimestamp"] => Typed::Time,
        ["httpRequest", "status" | "requestSize" | "responseSize" | "cacheFillBytes"]
        | ["sourceLocation", "line"] => Typed::Int,
        ["httpRequest", "cacheHit" | "cacheLookup" | "cacheValidatedWithOriginServer"]
        | ["operation", "first" | "last"]
        | ["traceSampled"] => Typed::Bool,
        ["httpRequest", "latency"] => Typed::Duration,
        ["httpRequest", _]
        | ["operation", _]
        | ["sourceLocation", _]
        | ["resource", "type"]
        | ["insertId"]
        | ["logName"]
        | ["spanId"]
        | ["textPayload"]
        | ["trace"] => Typed::Str,
        _ => return None,
    })
}

const LEVELS: [&str; 9] = [
    "DEFAULT",
    "DEBUG",
    "INFO",
    "NOTICE",
    "WARNING",
    "ERROR",
    "CRITICAL",
    "ALERT",
    "EMERGENCY",
];

fn level(s: &str) -> Option<f64> {
    let u = s.trim().to_ascii_uppercase();
    LEVELS
        .iter()
        .position(|l| *l == u)
        .map(|i| (i * 100) as f64)
        .or_else(|| u.parse().ok())
}

fn seconds(s: &str) -> Option<f64> {
    s.trim().strip_suffix('s')?.parse().ok()
}

fn instant(s: &str) -> Option<i128> {
    let s = s.trim();
    let full = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_string()
    };
    let t = chrono::DateTime::parse_from_rfc3339(&full).ok()?;
    Some(i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos()))
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn order<T: PartialOrd>(op: Op, a: T, b: T) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        _ => false,
    }
}

/// A compiled pattern, cached (queries are evaluated on thousands of entries).
fn regex_of(p: &str) -> Option<regex::Regex> {
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<String, Option<regex::Regex>>> =
            Default::default();
    }
    CACHE.with(|c| {
        c.borrow_mut()
            .entry(p.to_string())
            .or_insert_with(|| regex::Regex::new(p).ok())
            .clone()
    })
}

/// `op` between one scalar of the entry and one written value.
fn scalar(op: Op, kind: Option<Typed>, v: &Value, want: &str) -> bool {
    match op {
        Op::Re | Op::NotRe => {
            let Value::String(s) = v else { return false };
            regex_of(want).is_some_and(|re| re.is_match(s)) == (op == Op::Re)
        }
        Op::Has => match v {
            Value::String(s) => lower(s).contains(&lower(want)),
            _ => false,
        },
        _ => match (kind, v) {
            (Some(Typed::Severity), v) => {
                let have = match v {
                    Value::String(s) => level(s),
                    Value::Number(n) => n.as_f64(),
                    _ => None,
                };
                match (have, level(want)) {
                    (Some(a), Some(b)) => order(op, a, b),
                    _ => false,
                }
            }
            (Some(Typed::Time), Value::String(s)) => match (instant(s), instant(want)) {
                (Some(a), Some(b)) => order(op, a, b),
                _ => false,
            },
            (Some(Typed::Duration), Value::String(s)) => match (seconds(s), seconds(want)) {
                (Some(a), Some(b)) => order(op, a, b),
                _ => false,
            },
            (Some(Typed::Int), v) => {
                let have = match v {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.parse().ok(),
                    _ => None,
                };
                match (have, want.parse::<i64>()) {
                    (Some(a), Ok(b)) => order(op, a, b as f64),
                    _ => false,
                }
            }
            (_, Value::Number(n)) => match (n.as_f64(), want.trim().parse::<f64>()) {
                (Some(a), Ok(b)) => order(op, a, b),
                _ => false,
            },
            (_, Value::Bool(b)) => match lower(want).as_str() {
                "true" => order(op, *b, true),
                "false" => order(op, *b, false),
                _ => false,
            },
            (_, Value::String(s)) => order(op, lower(s), lower(want)),
            _ => false,
        },
    }
}

/// The default a LogEntry field has when absent.
fn default_of(kind: Typed) -> Value {
    match kind {
        Typed::Int => Value::from(0),
        Typed::Bool => Value::Bool(false),
        Typed::Severity => Value::from("DEFAULT"),
        Typed::Duration => Value::from("0s"),
        Typed::Time => Value::from("1970-01-01T00:00:00Z"),
        Typed::Str => Value::from(""),
    }
}

fn lookup<'v>(e: &'v Value, path: &[String]) -> Option<&'v Value> {
    let mut cur = e;
    for seg in path {
        cur = cur.as_object()?.get(seg)?;
    }
    Some(cur)
}

fn rhs(r: &Rhs, op: Op, kind: Option<Typed>, v: Option<&Value>, present: bool) -> bool {
    match r {
        Rhs::And(a, b) => rhs(a, op, kind, v, present) && rhs(b, op, kind, v, present),
        Rhs::Or(a, b) => rhs(a, op, kind, v, present) || rhs(b, op, kind, v, present),
        Rhs::Not(a) => !rhs(a, op, kind, v, present),
        Rhs::Star => op == Op::Has && present,
        Rhs::Null => matches!((op, v), (Op::Eq, Some(Value::Null))),
        Rhs::Val(want) => {
            let Some(v) = v else { return false };
            match v {
                Value::Array(items) => items.iter().any(|x| scalar(op, kind, x, want)),
                Value::Null | Value::Object(_) => false,
                x => scalar(op, kind, x, want),
            }
        }
    }
}

/// Every string anywhere in `v`.
fn strings<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether the query keeps the entry.
pub fn eval(q: &Q, e: &Value) -> bool {
    match q {
        Q::And(a, b) => eval(a, e) && eval(b, e),
        Q::Or(a, b) => eval(a, e) || eval(b, e),
        Q::Not(a) => !eval(a, e),
        Q::Global(s) => {
            let mut all = Vec::new();
            strings(e, &mut all);
            all.iter().any(|x| lower(x).contains(&lower(s)))
        }
        Q::LogId(id) => e
            .get("logName")
            .and_then(Value::as_str)
            .and_then(|n| n.split_once("/logs/"))
            .is_some_and(|(_, l)| percent_decode(l) == *id),
        Q::Cmp(path, op, r) => {
            let kind = typed(path);
            let found = lookup(e, path);
            let present = found.is_some();
            let v = match (found, kind) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(k)) => Some(default_of(k)),
                (None, None) => None,
            };
            if v.is_none() && matches!(op, Op::Ne | Op::NotRe) {
                return false;
            }
            let positive = match op {
                Op::Ne => Op::Eq,
                Op::NotRe => Op::Re,
                o => *o,
            };
            let hit = rhs(r, positive, kind, v.as_ref(), present);
            if positive == *op {
                hit
            } else {
                !hit
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::lql::parse;
    use serde_json::json;

    #[test]
    fn semantics() {
        let e = json!({
            "severity": "ERROR",
            "textPayload": "Connection REFUSED by db",
            "httpRequest": {"status": 503, "latency": "1.5s"},
            "jsonPayload": {"n": 7, "flag": false, "tags": ["x", "y"], "nul": null},
            "labels": {"k8s-pod/app": "api"},
            "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
            "timestamp": "2025-09-11T17:38:19.863766Z"
        });
        let yes = [
            r#"textPayload:"connection refused""#,
            r#"textPayload=~"REFUSED" AND NOT textPayload=~"refused""#,
            "severity>=ERROR AND severity<CRITICAL",
            "httpRequest.status>=500 httpRequest.status<=599",
            r#"httpRequest.latency>"1s""#,
            r#"jsonPayload.n=7 AND jsonPayload.n="7.0" AND jsonPayload.n<10"#,
            "jsonPayload.flag=false AND jsonPayload.flag=FALSE",
            r#"jsonPayload.tags:("y" OR "z")"#,
            r#"jsonPayload.tags:("x" AND "y")"#,
            "jsonPayload.nul=NULL_VALUE AND jsonPayload.nul:*",
            r#"labels."k8s-pod/app"="API""#,
            r#"NOT jsonPayload.missing="x""#,
            r#"log_id("run.googleapis.com/stderr")"#,
            r#""refused by""#,
            r#"timestamp>="2025-09-11T17:38:19.863766Z" AND timestamp<="2025-09-11T17:38:19.863766001Z""#,
            "trace=\"\" AND NOT trace:*",
            r#"httpRequest.status:* AND NOT httpRequest.requestUrl:*"#,
        ];
        for q in yes {
            assert!(eval(&parse(q).unwrap(), &e), "{q}");
        }
        let no = [
            r#"jsonPayload.missing!="x""#,
            r#"jsonPayload.n:"7""#,
            r#"jsonPayload.n=~"7""#,
            r#"timestamp>"2025-09-11T17:38:19.863766Z""#,
            r#"log_id("run.googleapis.com%2Fstderr")"#,
            "severity=WARNING",
        ];
        for q in no {
            assert!(!eval(&parse(q).unwrap(), &e), "{q}");
        }
    }
}
