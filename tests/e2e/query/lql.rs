//! An independent reading of the Logging query language, written from Google's
//! reference (<https://cloud.google.com/logging/docs/view/logging-query-language>),
//! not from `src/rules/filter.rs`: a tokenizer, a parser with the documented
//! precedence (NOT, then OR, then AND; AND implicit between comparisons) and an
//! evaluator over `serde_json::Value` LogEntries.
//!
//! Semantics kept from the reference:
//! - string `=`, `:` and `<`..`>=` ignore letter case (lowercasing stands in for
//!   NFKC_CF); `:` is a substring test on strings only;
//! - `=~` / `!~` are RE2 searches, case-sensitive, unanchored, on strings only (the
//!   `regex` crate stands in for RE2);
//! - the right-hand value is converted to the field's type (JSON numbers are doubles,
//!   `true`/`false` booleans, LogEntry fields have their proto types); a failed
//!   conversion fails the comparison;
//! - a comparison on a missing payload or label field fails, `NOT` of it holds and
//!   `!=` on it fails; LogEntry fields compare as their default when absent; `:*`
//!   holds when the field is present; arrays compare member by member (OR);
//! - `p OP (a OR b)` applies `p OP` to each value; a bare string is a global
//!   restriction (`:` on every field); `log_id("x")` compares the decoded log id;
//!   `NULL_VALUE` matches a JSON null;
//! - undefined LogEntry fields (`textPayload.x`, `httpRequest.nope`), lowercase
//!   `and`/`or`/`not`, unbalanced parentheses and queries over 20,000 characters are
//!   errors. (Objects under `:` fail here: the reference does not say otherwise.)

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Q {
    And(Box<Q>, Box<Q>),
    Or(Box<Q>, Box<Q>),
    Not(Box<Q>),
    Cmp(Vec<String>, Op, Rhs),
    /// A bare string: `:` against every field.
    Global(String),
    LogId(String),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Has,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Re,
    NotRe,
}

/// A right-hand side: one value, or a Boolean combination of values.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    Val(String),
    Star,
    Null,
    And(Box<Rhs>, Box<Rhs>),
    Or(Box<Rhs>, Box<Rhs>),
    Not(Box<Rhs>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Dot,
    Minus,
    Op(Op),
    Str(String),
    Word(String),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        let two = c.get(i + 1).copied();
        match ch {
            _ if ch.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            '.' => {
                out.push(Tok::Dot);
                i += 1
            }
            '-' if two == Some('-') => return Err("comments are not expected".into()),
            '-' if !two.is_some_and(|d| d.is_ascii_digit()) => {
                out.push(Tok::Minus);
                i += 1
            }
            ':' => {
                out.push(Tok::Op(Op::Has));
                i += 1
            }
            '=' if two == Some('~') => {
                out.push(Tok::Op(Op::Re));
                i += 2
            }
            '=' => {
                out.push(Tok::Op(Op::Eq));
                i += 1
            }
            '!' if two == Some('=') => {
                out.push(Tok::Op(Op::Ne));
                i += 2
            }
            '!' if two == Some('~') => {
                out.push(Tok::Op(Op::NotRe));
                i += 2
            }
            '<' | '>' => {
                let eq = two == Some('=');
                out.push(Tok::Op(match (ch, eq) {
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    _ => Op::Ge,
                }));
                i += if eq { 2 } else { 1 };
            }
            '"' => {
                let mut v = String::new();
                i += 1;
                loop {
                    let Some(&x) = c.get(i) else {
                        return Err("unterminated string".into());
                    };
                    i += 1;
                    match x {
                        '"' => break,
                        '\\' => {
                            let e = *c.get(i).ok_or("dangling backslash")?;
                            i += 1;
                            match e {
                                'n' => v.push('\n'),
                                't' => v.push('\t'),
                                'r' => v.push('\r'),
                                '0'..='7' => {
                                    let mut n = e.to_digit(8).unwrap_or(0);
                                    for _ in 0..2 {
                                        match c.get(i).and_then(|d| d.to_digit(8)) {
                                            Some(d) => {
                                                n = n * 8 + d;
                                                i += 1;
                                            }
                                            None => break,
                                        }
                                    }
                                    v.push(char::from_u32(n).ok_or("bad octal escape")?);
                                }
                                other => v.push(other),
                            }
                        }
                        other => v.push(other),
                    }
                }
                out.push(Tok::Str(v));
            }
            _ if ch.is_alphanumeric() || "_@*+-".contains(ch) => {
                let start = i;
                // A point continues a number (`2.5`, `-0.5`), else it separates path segments.
                let number = c[start].is_ascii_digit() || c[start] == '-';
                while i < c.len()
                    && (c[i].is_alphanumeric() || "_@*+-".contains(c[i]) || (number && c[i] == '.'))
                {
                    i += 1;
                }
                out.push(Tok::Word(c[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character {other:?}")),
        }
    }
    Ok(out)
}

/// LogEntry fields, with the subfields the LogEntry type defines (`None`: any).
const FIELDS: &[(&str, Option<&[&str]>)] = &[
    (
        "httpRequest",
        Some(&[
            "cacheFillBytes",
            "cacheHit",
            "cacheLookup",
            "cacheValidatedWithOriginServer",
            "latency",
            "protocol",
            "referer",
            "remoteIp",
            "requestMethod",
            "requestSize",
            "requestUrl",
            "responseSize",
            "serverIp",
            "status",
            "userAgent",
        ]),
    ),
    ("insertId", Some(&[])),
    ("jsonPayload", None),
    ("labels", None),
    ("logName", Some(&[])),
    ("operation", Some(&["id", "producer", "first", "last"])),
    ("protoPayload", None),
    ("receiveTimestamp", Some(&[])),
    ("resource", Some(&["type", "labels"])),
    ("severity", Some(&[])),
    ("sourceLocation", Some(&["file", "line", "function"])),
    ("spanId", Some(&[])),
    ("textPayload", Some(&[])),
    ("timestamp", Some(&[])),
    ("trace", Some(&[])),
    ("traceSampled", Some(&[])),
];

struct Parser {
    t: Vec<Tok>,
    i: usize,
}

/// Parses a query; errors say what is wrong.
pub fn parse(s: &str) -> Result<Q, String> {
    if s.chars().count() > 20_000 {
        return Err(format!("{} characters, over 20,000", s.chars().count()));
    }
    let mut p = Parser {
        t: tokenize(s)?,
        i: 0,
    };
    let q = p.expr()?;
    if p.i != p.t.len() {
        return Err(format!("unexpected {:?} at token {}", p.t[p.i], p.i));
    }
    Ok(q)
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }

    fn word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    /// AND binds loosest; juxtaposition is AND too.
    fn expr(&mut self) -> Result<Q, String> {
        let mut q = self.or()?;
        loop {
            if self.word("AND") {
                self.i += 1;
            } else if matches!(self.peek(), None | Some(Tok::RParen)) {
                return Ok(q);
            }
            q = Q::And(Box::new(q), Box::new(self.or()?));
        }
    }

    fn or(&mut self) -> Result<Q, String> {
        let mut q = self.unary()?;
        while self.word("OR") {
            self.i += 1;
            q = Q::Or(Box::new(q), Box::new(self.unary()?));
        }
        Ok(q)
    }

    fn unary(&mut self) -> Result<Q, String> {
        if self.word("NOT") || self.peek() == Some(&Tok::Minus) {
            self.i += 1;
            return Ok(Q::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Q, String> {
        match self.peek().cloned() {
            Some(Tok::LParen) => {
                self.i += 1;
                let q = self.expr()?;
                self.expect_rparen()?;
                Ok(q)
            }
            Some(Tok::Str(s)) => {
                self.i += 1;
                Ok(Q::Global(s))
            }
            Some(Tok::Word(w)) if ["and", "or", "not", "AND", "OR"].contains(&w.as_str()) => {
                Err(format!("operator `{w}` where a comparison was expected"))
            }
            Some(Tok::Word(w)) if self.t.get(self.i + 1) == Some(&Tok::LParen) => {
                if w != "log_id" {
                    return Err(format!("unknown function {w}"));
                }
                self.i += 2;
                let Some(Tok::Str(arg)) = self.peek().cloned() else {
                    return Err("log_id takes a string".into());
                };
                self.i += 1;
                self.expect_rparen()?;
                Ok(Q::LogId(arg))
            }
            Some(Tok::Word(_)) => self.comparison(),
            other => Err(format!("unexpected {other:?}")),
        }
    }

    fn expect_rparen(&mut self) -> Result<(), String> {
        if self.peek() != Some(&Tok::RParen) {
            return Err(format!(
                "expected `)` at token {}, found {:?}",
                self.i,
                self.peek()
            ));
        }
        self.i += 1;
        Ok(())
    }

    fn comparison(&mut self) -> Result<Q, String> {
        let mut path = Vec::new();
        loop {
            match self.peek().cloned() {
                Some(Tok::Word(w)) if path.is_empty() => path.push(w),
                Some(Tok::Word(w)) | Some(Tok::Str(w)) if !path.is_empty() => path.push(w),
                other => return Err(format!("bad field path at {other:?}")),
            }
            self.i += 1;
            if self.peek() == Some(&Tok::Dot) {
                self.i += 1;
            } else {
                break;
            }
        }
        check_path(&path)?;
        let Some(Tok::Op(op)) = self.peek().cloned() else {
            return Err(format!("no operator after {}", path.join(".")));
        };
        self.i += 1;
        let rhs = self.rhs_primary()?;
        Ok(Q::Cmp(path, op, rhs))
    }

    fn rhs_primary(&mut self) -> Result<Rhs, String> {
        match self.peek().cloned() {
            Some(Tok::LParen) => {
                self.i += 1;
                let r = self.rhs_and()?;
                self.expect_rparen()?;
                Ok(r)
            }
            Some(Tok::Str(s)) => {
                self.i += 1;
                Ok(Rhs::Val(s))
            }
            Some(Tok::Word(w)) if w == "*" => {
                self.i += 1;
                Ok(Rhs::Star)
            }
            Some(Tok::Word(w)) if w == "NULL_VALUE" => {
                self.i += 1;
                Ok(Rhs::Null)
            }
            Some(Tok::Word(w)) if !["AND", "OR", "NOT"].contains(&w.as_str()) => {
                self.i += 1;
                Ok(Rhs::Val(w))
            }
            other => Err(format!("bad value {other:?}")),
        }
    }

    fn rhs_and(&mut self) -> Result<Rhs, String> {
        let mut r = self.rhs_or()?;
        loop {
            if self.word("AND") {
                self.i += 1;
            } else if matches!(self.peek(), None | Some(Tok::RParen)) {
                return Ok(r);
            }
            r = Rhs::And(Box::new(r), Box::new(self.rhs_or()?));
        }
    }

    fn rhs_or(&mut self) -> Result<Rhs, String> {
        let mut r = self.rhs_not()?;
        while self.word("OR") {
            self.i += 1;
            r = Rhs::Or(Box::new(r), Box::new(self.rhs_not()?));
        }
        Ok(r)
    }

    fn rhs_not(&mut self) -> Result<Rhs, String> {
        if self.word("NOT") {
            self.i += 1;
            return Ok(Rhs::Not(Box::new(self.rhs_not()?)));
        }
        self.rhs_primary()
    }
}

fn check_path(path: &[String]) -> Result<(), String> {
    let Some((_, subs)) = FIELDS.iter().find(|(f, _)| *f == path[0]) else {
        return Err(format!("undefined field {}", path.join(".")));
    };
    match (subs, path.get(1)) {
        (Some(subs), Some(s)) if !subs.contains(&s.as_str()) => {
            Err(format!("undefined field {}", path.join(".")))
        }
        (Some(_), Some(_)) if path[0] != "resource" && path.len() > 2 => {
            Err(format!("undefined field {}", path.join(".")))
        }
        (Some(_), Some(s)) if path[0] == "resource" && s == "type" && path.len() > 2 => {
            Err(format!("undefined field {}", path.join(".")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_the_documented_one() {
        // "a OR NOT b AND NOT c OR d" is "(a OR (NOT b)) AND ((NOT c) OR d)".
        let a = parse(r#""a" OR NOT "b" AND NOT "c" OR "d""#).unwrap();
        let b = parse(r#"("a" OR (NOT "b")) AND ((NOT "c") OR "d")"#).unwrap();
        assert_eq!(a, b);
        // AND may be left out; `-` is NOT.
        let c = parse(r#"textPayload="b" trace="d" -spanId="f""#).unwrap();
        let d = parse(r#"textPayload="b" AND trace="d" AND NOT spanId="f""#).unwrap();
        assert_eq!(c, d);
        // OR binds tighter than AND.
        let e = parse(r#"trace="a" AND trace="b" OR trace="c""#).unwrap();
        let f = parse(r#"trace="a" AND (trace="b" OR trace="c")"#).unwrap();
        assert_eq!(e, f);
    }

    #[test]
    fn errors() {
        for bad in [
            "textPayload.x:\"a\"",
            "httpRequest.nope=1",
            "nope=1",
            "(textPayload:\"a\"",
            "textPayload:\"a\" and severity=ERROR",
            "textPayload:\"a",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse(&format!("textPayload:\"{}\"", "x".repeat(20_000))).is_err());
    }
}
