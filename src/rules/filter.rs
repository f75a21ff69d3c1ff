//! Cloud Logging queries derived from `when`, so `logtriage query` and the report's
//! evidence fetch only what the rules need.
//!
//! The query language (<https://cloud.google.com/logging/docs/view/logging-query-language>):
//! `NOT` binds tightest, then `OR`, then `AND` (`a OR NOT b AND c` is `(a OR (NOT b)) AND
//! c`), so every compound operand is printed in parentheses. String `=` and `:` ignore
//! letter case (both sides NFKC_CF-normalised), `:` is a substring test, `=~` is an RE2
//! search, case-sensitive and unanchored, on string fields only. A comparison on a
//! missing payload or label field fails, and `NOT` of it holds. A query is at most
//! 20,000 characters.
//!
//! A filter must keep every entry the rule matches, so each condition is translated
//! twice: `wide` (keeps at least the matches) and `narrow` (keeps only matches, used
//! under `not`, since `NOT wide` would drop matches). What has no translation is
//! "anything" when widening and "nothing" when narrowing. Known gaps: text operators
//! on a payload field holding an object are assumed to behave like Logging's `:` on
//! structs, and NFKC normalisation could hide a needle that ends just before a
//! combining mark.

mod expr;
mod leaf;
mod re2;

use super::cond::Cond;
use super::Rule;
use expr::{all, any, not, render_top, term, Expr};
use leaf::leaf;

/// Cloud Logging's limit on a query's length, in characters.
pub const MAX_FILTER_CHARS: usize = 20_000;

/// Where `service` comes from, per resource type (see `entry::resource::place`).
const SERVICE_PATHS: &[(&str, &[&str])] = &[
    (
        "cloud_run_revision",
        &[
            "resource.labels.service_name",
            "resource.labels.configuration_name",
        ],
    ),
    ("cloud_run_job", &["resource.labels.job_name"]),
    ("gae_app", &["resource.labels.module_id"]),
    ("cloud_function", &["resource.labels.function_name"]),
    (
        "k8s_container",
        &[
            "labels.\"k8s-pod/app\"",
            "labels.\"k8s-pod/app_kubernetes_io/name\"",
            "resource.labels.container_name",
            "resource.labels.pod_name",
        ],
    ),
    (
        "k8s_pod",
        &[
            "labels.\"k8s-pod/app\"",
            "labels.\"k8s-pod/app_kubernetes_io/name\"",
            "resource.labels.container_name",
            "resource.labels.pod_name",
        ],
    ),
    (
        "http_load_balancer",
        &[
            "resource.labels.backend_service_name",
            "resource.labels.url_map_name",
        ],
    ),
    (
        "http_external_regional_lb_rule",
        &[
            "resource.labels.backend_target_name",
            "resource.labels.backend_service_name",
            "resource.labels.url_map_name",
        ],
    ),
    (
        "internal_http_lb_rule",
        &[
            "resource.labels.backend_target_name",
            "resource.labels.backend_service_name",
            "resource.labels.url_map_name",
        ],
    ),
];

/// How much of a rule to spell out; each is a superset of the rule's matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterMode {
    /// The whole condition: every field the message can come from, regexes
    /// translated to RE2.
    Precise,
    /// Shorter, still field by field: of each `all`, only its shortest part;
    /// `starts_with` / `ends_with` as `:`.
    Lean,
    /// Shortest: message tests as global restrictions (`"text"` searches every field,
    /// which Logging runs more slowly); regexes without a literal are dropped.
    Compact,
}

use FilterMode as Mode;

impl Rule {
    /// [`Rule::cloud_filter`] at a chosen length and precision; `None` when it would
    /// select everything.
    pub fn cloud_filter_in(&self, mode: FilterMode) -> Option<String> {
        match &self.filter {
            Some(f) => Some(f.clone()),
            None => render_top(&wide(&self.when, mode)),
        }
    }
}

/// The OR of several rules' filters, rule `i` in mode `mode_of(i)`, `:` tests on the
/// same field merged into one value list. `Err` names the rules that have no filter
/// (they can match anything).
pub fn rules_filter(
    rules: &[Rule],
    mode_of: impl Fn(usize) -> FilterMode,
) -> Result<String, Vec<String>> {
    let mut parts = Vec::new();
    let mut unfiltered = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let e = match &r.filter {
            Some(f) => term(format!("({f})")),
            None => wide(&r.when, mode_of(i)),
        };
        if e == Expr::True {
            unfiltered.push(r.id.clone());
        }
        parts.push(e);
    }
    if !unfiltered.is_empty() {
        return Err(unfiltered);
    }
    Ok(render_top(&any(parts)).unwrap_or_default())
}

/// The precise filter for a condition; `None` when it would select everything.
pub(crate) fn derive(c: &Cond) -> Option<String> {
    render_top(&wide(c, Mode::Precise))
}

/// A Logging string literal: `"` and `\` escaped, control characters as escapes.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\{:03o}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Every path a service name can come from.
fn service_paths(types: Option<&[&str]>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (kind, paths) in SERVICE_PATHS {
        if types.is_none_or(|t| t.contains(kind)) {
            for p in *paths {
                if !out.contains(p) {
                    out.push(p);
                }
            }
        }
    }
    out
}

/// Entries of these services, wherever a resource type keeps the name (a superset
/// of `report --service`, which compares exactly; Logging's `=` ignores case).
pub fn service_filter(names: &[String]) -> Option<String> {
    service_filter_in(names, None)
}

/// [`service_filter`] for entries of the given resource types only (`None`: any):
/// what a report's evidence needs, knowing which types its input held.
pub fn service_filter_in(names: &[String], types: Option<&[&str]>) -> Option<String> {
    let paths = service_paths(types);
    if names.is_empty() || paths.is_empty() {
        return None;
    }
    let vals: Vec<String> = names.iter().map(|n| quote(n)).collect();
    let list = if vals.len() == 1 {
        vals[0].clone()
    } else {
        format!("({})", vals.join(" OR "))
    };
    let parts: Vec<String> = paths.iter().map(|p| format!("{p}={list}")).collect();
    Some(parts.join(" OR "))
}

/// Keeps at least every entry `c` holds for.
fn wide(c: &Cond, mode: Mode) -> Expr {
    match c {
        Cond::All(cs) if mode == Mode::Lean => {
            let kids: Vec<Expr> = cs.iter().map(|c| wide(c, mode)).collect();
            if kids.contains(&Expr::False) {
                return Expr::False;
            }
            // Any one part of an AND keeps every match; the shortest costs least, but
            // a negation (`NOT severity<=NOTICE`) keeps most of the logs, so it is
            // taken only when nothing else is left.
            kids.into_iter()
                .filter(|k| *k != Expr::True)
                .min_by_key(|k| (matches!(k, Expr::Not(_)), k.render().len()))
                .unwrap_or(Expr::True)
        }
        Cond::All(cs) => all(cs.iter().map(|c| wide(c, mode)).collect()),
        Cond::Any(cs) => any(cs.iter().map(|c| wide(c, mode)).collect()),
        Cond::Not(c) => not(narrow(c)),
        Cond::Leaf(l) => leaf(l, mode, true),
    }
}

/// Keeps only entries `c` holds for.
fn narrow(c: &Cond) -> Expr {
    match c {
        Cond::All(cs) => all(cs.iter().map(narrow).collect()),
        Cond::Any(cs) => any(cs.iter().map(narrow).collect()),
        Cond::Not(c) => not(wide(c, Mode::Precise)),
        Cond::Leaf(l) => leaf(l, Mode::Precise, false),
    }
}

#[cfg(test)]
mod tests;
