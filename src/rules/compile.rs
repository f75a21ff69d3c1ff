//! Rule file text -> [`Rule`]s, or errors naming file, line, rule and what is wrong.
//!
//! Checks made here concern one rule at a time (syntax, fields, operators, regexes,
//! severities, thresholds, templates, examples); links between rules and duplicate ids
//! are checked in `load.rs` once every file is read.

use super::cond::Cond;
use super::cond_compile;
use super::error::{rule_id_at, Ctx, RuleError};
use super::model::{ActionTemplate, Capture, Example, Expect, Rule, RuleKind, RuleSeverity};
use super::spec::{FileSpec, RuleSpec};
use super::template::{is_builtin, placeholders, BUILTINS};
use super::threshold::{parse_duration, Threshold};
use crate::entry::{Entry, Field};
use regex::Regex;
use std::ops::Range;
use toml::{Spanned, Value};

/// Compiles one file. Rules with errors are still returned (with an empty `when`) so
/// that links to them resolve and only real problems are reported; any error makes
/// loading fail, so such rules never run.
pub(crate) fn compile_file(
    file: &str,
    src: &str,
    default_pack: &str,
) -> (Vec<Rule>, Vec<RuleError>) {
    let spec: FileSpec = match toml::from_str(src) {
        Ok(s) => s,
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            let message = e.message().trim().replace('\n', "; ");
            let err = RuleError {
                file: file.to_string(),
                line: if e.span().is_some() {
                    super::error::line_of(src, at)
                } else {
                    0
                },
                rule: e.span().and_then(|_| rule_id_at(src, at)),
                message: format!("TOML: {message}"),
            };
            return rule_by_rule(file, src, default_pack, err);
        }
    };
    let pack = spec
        .pack
        .clone()
        .unwrap_or_else(|| default_pack.to_string());
    let mut ctx = Ctx::new(file, src);
    let mut rules = Vec::new();
    for r in &spec.rule {
        ctx.rule = Some(r.get_ref().id.get_ref().clone());
        rules.push(compile_rule(&mut ctx, r.span(), r.get_ref(), &pack));
    }
    (rules, ctx.errors)
}

/// After a file fails to parse as a whole (say, a misspelt key in one rule), each
/// `[[rule]]` is parsed alone, the others blanked out so that offsets and lines stay
/// the same: one typo does not hide every other rule's problems.
fn rule_by_rule(
    file: &str,
    src: &str,
    default_pack: &str,
    first: RuleError,
) -> (Vec<Rule>, Vec<RuleError>) {
    let starts: Vec<usize> = line_starts(src)
        .filter(|&i| {
            src[i..]
                .trim_start_matches([' ', '\t'])
                .starts_with("[[rule]]")
        })
        .collect();
    if starts.len() < 2 {
        return (Vec::new(), vec![first]);
    }
    let mut rules = Vec::new();
    let mut errors: Vec<RuleError> = Vec::new();
    for (k, &from) in starts.iter().enumerate() {
        let to = starts.get(k + 1).copied().unwrap_or(src.len());
        let mut alone = String::with_capacity(src.len());
        for (i, c) in src.char_indices() {
            let other = i >= starts[0] && !(from..to).contains(&i);
            alone.push(if other && c != '\n' { ' ' } else { c });
        }
        // One `[[rule]]` header is left, so this does not come back here.
        let (r, e) = compile_file(file, &alone, default_pack);
        rules.extend(r);
        for e in e {
            if !errors
                .iter()
                .any(|x| x.line == e.line && x.message == e.message)
            {
                errors.push(e);
            }
        }
    }
    if errors.is_empty() {
        // Every rule parsed alone: the problem was between them; report it as found.
        errors.push(first);
    }
    (rules, errors)
}

/// Byte offsets where lines start.
fn line_starts(src: &str) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(src.match_indices('\n').map(|(i, _)| i + 1))
}

fn is_rule_id(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn text(ctx: &mut Ctx<'_>, v: &Spanned<String>, what: &str) -> String {
    let s = v.get_ref().trim();
    if s.is_empty() {
        ctx.err(v.span(), format!("`{what}` is empty"));
    }
    s.to_string()
}

fn compile_rule(ctx: &mut Ctx<'_>, span: Range<usize>, r: &RuleSpec, pack: &str) -> Rule {
    let id = r.id.get_ref().clone();
    if !is_rule_id(&id) {
        ctx.err(
            r.id.span(),
            format!("id `{id}` must be SCREAMING_SNAKE_CASE (A-Z, 0-9, _)"),
        );
    }
    let title = text(ctx, &r.title, "title");
    let description = text(ctx, &r.description, "description");
    let severity = r
        .severity
        .get_ref()
        .parse::<RuleSeverity>()
        .map_err(|m| ctx.err(r.severity.span(), m))
        .ok();
    let kind = match &r.kind {
        None => RuleKind::Unspecified,
        Some(k) => k.get_ref().parse().unwrap_or_else(|m: String| {
            ctx.err(k.span(), m);
            RuleKind::Unspecified
        }),
    };
    let when = cond_compile::compile(ctx, &r.when);
    let captures = captures(ctx, &r.captures);
    let threshold = threshold(ctx, r);
    let why = text(ctx, &r.why, "why");
    let because = text(ctx, &r.because, "because");
    let mut link_lines = Vec::new();
    let mut links = |list: &[Spanned<String>], what: &str, ctx: &mut Ctx<'_>| -> Vec<String> {
        let mut out = Vec::new();
        for l in list {
            let target = l.get_ref().trim().to_string();
            if target == id {
                ctx.err(l.span(), format!("`{what}` links the rule to itself"));
            } else if !is_rule_id(&target) {
                ctx.err(
                    l.span(),
                    format!("`{what}` entry `{target}` is not a rule id"),
                );
            }
            link_lines.push((target.clone(), ctx.line(l.span())));
            out.push(target);
        }
        out
    };
    let explained_by = links(&r.explained_by, "explained_by", ctx);
    let explains = links(&r.explains, "explains", ctx);
    let check_next = r
        .check_next
        .as_ref()
        .map(|c| c.get_ref().trim().to_string())
        .unwrap_or_default();
    let actions: Vec<ActionTemplate> = r
        .actions
        .iter()
        .map(|a| ActionTemplate {
            title: text(ctx, &a.get_ref().title, "actions.title"),
            command: a
                .get_ref()
                .command
                .as_ref()
                .map(|c| c.get_ref().trim().to_string()),
        })
        .collect();
    check_templates(ctx, r, &captures);
    let filter = r.filter.as_ref().map(|f| text(ctx, f, "filter"));
    let examples = examples(ctx, r);
    Rule {
        id,
        title,
        severity: severity.unwrap_or(RuleSeverity::Low),
        kind,
        description,
        captures,
        threshold,
        why,
        because,
        explained_by,
        explains,
        check_next,
        actions,
        file: ctx.file.to_string(),
        line: ctx.line(span),
        pack: pack.to_string(),
        filter,
        examples,
        when: when.unwrap_or(Cond::All(Vec::new())),
        link_lines,
    }
}

/// A capture's default name: the last segment of a dotted field.
fn default_name(f: &Field) -> String {
    let s = f.to_string();
    s.rsplit('.').next().unwrap_or(&s).to_string()
}

fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn captures(ctx: &mut Ctx<'_>, list: &[Spanned<Value>]) -> Vec<Capture> {
    let mut out: Vec<Capture> = Vec::new();
    for item in list {
        let span = item.span();
        let (field, alias, pattern) = match item.get_ref() {
            Value::String(f) => (f.clone(), None, None),
            Value::Table(t) => {
                if let Some(k) = t
                    .keys()
                    .find(|k| !matches!(k.as_str(), "field" | "as" | "pattern"))
                {
                    ctx.err(
                        span.clone(),
                        format!("unknown capture key `{k}`; use field, as, pattern"),
                    );
                    continue;
                }
                let s = |k: &str| t.get(k).and_then(Value::as_str).map(str::to_string);
                let Some(f) = s("field") else {
                    ctx.err(span, "a capture table needs `field = \"...\"`");
                    continue;
                };
                (f, s("as"), s("pattern"))
            }
            _ => {
                ctx.err(
                    span,
                    "a capture is a field name or { field = ..., as = ..., pattern = ... }",
                );
                continue;
            }
        };
        let field = match Field::parse(&field) {
            Ok(f) => f,
            Err(m) => {
                ctx.err(span, m);
                continue;
            }
        };
        let name = alias.unwrap_or_else(|| default_name(&field));
        if !is_name(&name) {
            ctx.err(
                span,
                format!("capture name `{name}` must be letters, digits and _; set `as`"),
            );
            continue;
        }
        if is_builtin(&name) {
            ctx.err(
                span,
                format!("capture name `{name}` is a built-in placeholder; set another `as`"),
            );
            continue;
        }
        if out.iter().any(|c| c.name == name) {
            ctx.err(span, format!("two captures are named `{name}`; set `as`"));
            continue;
        }
        let pattern = match pattern.map(|p| Regex::new(&p).map_err(|e| (p, e))) {
            None => None,
            Some(Ok(re)) => Some(re),
            Some(Err((p, e))) => {
                let detail = e.to_string();
                let last = detail.lines().last().unwrap_or("").trim().to_string();
                ctx.err(span, format!("bad capture pattern {p:?}: {last}"));
                continue;
            }
        };
        out.push(Capture {
            name,
            field,
            pattern,
        });
    }
    out
}

fn threshold(ctx: &mut Ctx<'_>, r: &RuleSpec) -> Threshold {
    let mut t = Threshold::default();
    if let Some(n) = &r.min_count {
        match u64::try_from(*n.get_ref()) {
            Ok(v) if v >= 1 => t.min_count = Some(v),
            _ => ctx.err(
                n.span(),
                format!("min_count must be 1 or more, not {}", n.get_ref()),
            ),
        }
    }
    if let Some(w) = &r.window {
        match parse_duration(w.get_ref()) {
            Ok(s) if r.min_count.is_some() => t.window_secs = Some(s),
            Ok(_) => ctx.err(
                w.span(),
                "`window` needs `min_count` (how many matches within the window)",
            ),
            Err(m) => ctx.err(w.span(), m),
        }
    }
    if let Some(k) = &r.continuous_buckets {
        match u32::try_from(*k.get_ref()) {
            Ok(v) if v >= 1 => t.continuous_buckets = Some(v),
            _ => ctx.err(
                k.span(),
                format!("continuous_buckets must be 1 or more, not {}", k.get_ref()),
            ),
        }
    }
    if let Some(x) = &r.min_share {
        let v = *x.get_ref();
        if v > 0.0 && v <= 1.0 {
            // At least one basis point: 0.00001 would otherwise round to no floor.
            t.min_share_bp = Some(((v * 10_000.0).round() as u32).max(1));
        } else {
            ctx.err(
                x.span(),
                format!(
                    "min_share is a share of requests, above 0 and at most 1 (0.05 = 5%), not {v}"
                ),
            );
        }
    }
    t
}

fn check_templates(ctx: &mut Ctx<'_>, r: &RuleSpec, caps: &[Capture]) {
    let mut all: Vec<(&str, &Spanned<String>)> = vec![("why", &r.why), ("because", &r.because)];
    if let Some(c) = &r.check_next {
        all.push(("check_next", c));
    }
    for a in &r.actions {
        all.push(("actions.title", &a.get_ref().title));
        if let Some(c) = &a.get_ref().command {
            all.push(("actions.command", c));
        }
    }
    for (what, t) in all {
        for p in placeholders(t.get_ref()) {
            if !is_builtin(&p) && !caps.iter().any(|c| c.name == p) {
                let names: Vec<&str> = caps.iter().map(|c| c.name.as_str()).collect();
                let caps = if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                };
                ctx.err(
                    t.span(),
                    format!(
                        "placeholder {{{p}}} in `{what}` is neither a capture ({caps}) nor a built-in ({})",
                        BUILTINS.join(", ")
                    ),
                );
            }
        }
    }
}

fn examples(ctx: &mut Ctx<'_>, r: &RuleSpec) -> Vec<Example> {
    let Some(ex) = &r.examples else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (expect, list) in [
        (Expect::Match, &ex.matches),
        (Expect::NoMatch, &ex.no_match),
    ] {
        for (i, item) in list.iter().enumerate() {
            let span = item.span();
            let (json, note) = match item.get_ref() {
                Value::String(s) => (s.clone(), None),
                Value::Table(t) if t.keys().all(|k| k == "entry" || k == "note") => {
                    let s = |k: &str| t.get(k).and_then(Value::as_str).map(str::to_string);
                    match s("entry") {
                        Some(j) => (j, s("note")),
                        None => {
                            ctx.err(
                                span,
                                format!(
                                    "examples.{expect} #{}: a table needs `entry = '''{{...}}'''`",
                                    i + 1
                                ),
                            );
                            continue;
                        }
                    }
                }
                _ => {
                    ctx.err(span, format!("examples.{expect} #{}: write the LogEntry JSON as a string, or {{ note, entry }}", i + 1));
                    continue;
                }
            };
            if let Err(e) = Entry::parse(&json) {
                ctx.err(
                    span,
                    format!(
                        "examples.{expect} #{} is not a valid LogEntry JSON object: {e}",
                        i + 1
                    ),
                );
                continue;
            }
            let line = ctx.line(span);
            out.push(Example {
                expect,
                json: json.trim().to_string(),
                note,
                line,
            });
        }
    }
    out
}
