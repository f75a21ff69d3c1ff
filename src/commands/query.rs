//! `logtriage query`: a `gcloud logging read` command whose filter fetches only what
//! the rules can match plus what the report needs for rates (request logs, errors,
//! deploy events). Syntax and limits: <https://cloud.google.com/logging/docs/view/logging-query-language>
//! (see `rules/filter.rs` for how rules are translated).

use crate::cli::QueryArgs;
use crate::diag::Diag;
use crate::rules::{
    format_duration, rules_filter, service_filter, FilterMode, RuleSet, MAX_FILTER_CHARS,
};
use anyhow::Result;
use std::io::Write;

/// What the report reads besides rule matches: request logs (rates, impact, the
/// trace join), ERROR and worse (error counts, unknown failures) and Cloud Run deploy
/// audit entries (revision switches), as `analyze` recognises them.
pub const REPORT_NEEDS: &str = "httpRequest.status:* OR severity>=ERROR OR \
protoPayload.methodName:(\"Services.ReplaceService\" OR \"Services.UpdateService\" OR \
\"Services.CreateService\") OR protoPayload.methodName:(\"Revisions.\" AND \"Create\")";

/// A filter and what the user should know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The filter; `None` reads everything.
    pub filter: Option<String>,
    /// How the filter was shortened to fit, for stderr.
    pub notes: Vec<String>,
    /// Why the filter is much wider than the rules need, for stderr.
    pub warnings: Vec<String>,
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// `base AND (rules OR needs)`; without rules (`None`) only `base`.
fn compose(base: Option<&str>, rules: Option<&str>) -> Option<String> {
    let selection = rules.map(|r| format!("{r} OR {REPORT_NEEDS}"));
    match (base, selection) {
        (Some(b), Some(s)) => Some(format!("({b}) AND ({s})")),
        (Some(b), None) => Some(b.to_string()),
        (None, s) => s,
    }
}

/// Builds the Cloud Logging filter for a rule set and services, within Cloud Logging's
/// 20,000-character limit: the precise filter; else, rule by rule from the longest,
/// lean filters (one part of each `all`); else compact ones (global text
/// restrictions); else only the service restriction. Each step is said on stderr.
pub fn filter(set: &RuleSet, services: &[String]) -> Plan {
    let mut warnings = Vec::new();
    let base = service_filter(services);
    let scope = if services.is_empty() {
        "every entry".to_string()
    } else {
        format!("every entry of {}", services.join(", "))
    };
    let rules = set.rules();
    let build = |mode_of: &dyn Fn(usize) -> FilterMode| {
        rules_filter(rules, mode_of).map(|r| compose(base.as_deref(), Some(&r)))
    };
    let precise = match build(&|_| FilterMode::Precise) {
        Ok(f) => f,
        Err(ids) => {
            warnings.push(format!(
                "rules without a Cloud Logging filter ({}) can match any entry; the command fetches {scope}",
                ids.join(", ")
            ));
            return Plan {
                filter: base,
                notes: Vec::new(),
                warnings,
            };
        }
    };
    let full = precise.as_deref().map_or(0, chars);
    if full <= MAX_FILTER_CHARS {
        return Plan {
            filter: precise,
            notes: Vec::new(),
            warnings,
        };
    }
    let over = format!(
        "the full filter is {full} characters, over Cloud Logging's limit of {MAX_FILTER_CHARS}"
    );
    // Lean filters for the rules that save most, one more at a time.
    let saving = |r: &crate::rules::Rule| {
        let len = |m| r.cloud_filter_in(m).map_or(0, |f| chars(&f));
        len(FilterMode::Precise).saturating_sub(len(FilterMode::Lean))
    };
    let mut order: Vec<(usize, usize)> = (0..rules.len())
        .map(|i| (saving(&rules[i]), i))
        .filter(|(s, _)| *s > 0)
        .collect();
    order.sort_by_key(|&(s, i)| (std::cmp::Reverse(s), i));
    let order: Vec<usize> = order.into_iter().map(|(_, i)| i).collect();
    for k in 1..=order.len() {
        let lean = &order[..k];
        let mode = |i: usize| {
            if lean.contains(&i) {
                FilterMode::Lean
            } else {
                FilterMode::Precise
            }
        };
        let Ok(f) = build(&mode) else { break };
        let len = f.as_deref().map_or(0, chars);
        if len <= MAX_FILTER_CHARS {
            let mut ids: Vec<&str> = lean.iter().map(|&i| rules[i].id.as_str()).collect();
            ids.sort_unstable();
            let note = format!(
                "{over}; testing only one part of each combined condition of {} ({len} characters; fetches more entries)",
                ids.join(", ")
            );
            return Plan {
                filter: f,
                notes: vec![note],
                warnings,
            };
        }
    }
    // Still too long: compact filters (message text searched in every field) for the
    // rules whose lean filters are longest, one more at a time, the rest lean.
    let lean_len =
        |r: &crate::rules::Rule| r.cloud_filter_in(FilterMode::Lean).map_or(0, |f| chars(&f));
    let mut by_len: Vec<usize> = (0..rules.len()).collect();
    by_len.sort_by_key(|&i| (std::cmp::Reverse(lean_len(&rules[i])), i));
    for k in 1..by_len.len() {
        let compact = &by_len[..k];
        let mode = |i: usize| {
            if compact.contains(&i) {
                FilterMode::Compact
            } else {
                FilterMode::Lean
            }
        };
        let Ok(f) = build(&mode) else { break };
        let len = f.as_deref().map_or(0, chars);
        if len <= MAX_FILTER_CHARS {
            let mut ids: Vec<&str> = compact.iter().map(|&i| rules[i].id.as_str()).collect();
            ids.sort_unstable();
            let note = format!(
                "{over}; testing one part of each combined condition, and searching the message text of {} in every field (which Logging runs more slowly) ({len} characters; fetches more entries)",
                ids.join(", ")
            );
            return Plan {
                filter: f,
                notes: vec![note],
                warnings,
            };
        }
    }
    if let Ok(f) = build(&|_| FilterMode::Compact) {
        let len = f.as_deref().map_or(0, chars);
        if len <= MAX_FILTER_CHARS {
            warnings.push(format!(
                "{over}; using a compact one ({len} characters) that searches message text in every field, which Logging runs more slowly"
            ));
            return Plan {
                filter: f,
                notes: Vec::new(),
                warnings,
            };
        }
    }
    let base_len = base.as_deref().map_or(0, chars);
    if base_len > MAX_FILTER_CHARS {
        warnings.push(format!(
            "the --service restriction alone is {base_len} characters, over Cloud Logging's \
             limit of {MAX_FILTER_CHARS}; the command fetches every entry"
        ));
        return Plan {
            filter: None,
            notes: Vec::new(),
            warnings,
        };
    }
    warnings.push(format!(
        "{over} even when compacted; the command fetches {scope}"
    ));
    Plan {
        filter: base,
        notes: Vec::new(),
        warnings,
    }
}

/// A shell word: as is when plain, else in single quotes.
fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/=@%+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The `gcloud logging read` command line.
pub fn command(plan: &Plan, freshness_secs: i64, project: Option<&str>) -> String {
    let mut cmd = String::from("gcloud logging read");
    if let Some(f) = &plan.filter {
        cmd.push(' ');
        cmd.push_str(&format!("'{}'", f.replace('\'', "'\\''")));
    }
    // gcloud durations take s, m, h and d (not w): written back from seconds.
    cmd.push_str(&format!(
        " --freshness={} --format=json",
        format_duration(freshness_secs)
    ));
    if let Some(p) = project {
        cmd.push_str(&format!(" --project={}", sh(p)));
    }
    cmd
}

/// Runs `query`; prints the command.
pub fn run(args: &QueryArgs, diag: &Diag) -> Result<i32> {
    let freshness = crate::config::parse_duration(&args.freshness)?;
    let set = super::rules::load(&args.rules, diag, super::rules::Links::Warn)?;
    let plan = filter(&set, &args.services);
    for n in &plan.notes {
        diag.note(n);
    }
    for w in &plan.warnings {
        diag.warn(w);
    }
    let cmd = command(&plan, freshness, args.project.as_deref());
    let mut out = std::io::stdout().lock();
    writeln!(out, "{cmd}")?;
    Ok(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::rules::{load, load_str, LoadOptions};

    fn defaults() -> RuleSet {
        load(&LoadOptions::default()).unwrap()
    }

    #[test]
    fn default_rules_fit_and_keep_report_needs() {
        let plan = filter(&defaults(), &[]);
        let f = plan.filter.unwrap();
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
        assert!(plan.notes.len() <= 1, "{:?}", plan.notes);
        assert!(chars(&f) <= MAX_FILTER_CHARS, "{}", chars(&f));
        assert!(f.ends_with(REPORT_NEEDS), "{f}");
        let with = filter(&defaults(), &["svc".into()]).filter.unwrap();
        assert!(
            with.starts_with("(resource.labels.service_name=\"svc\" OR "),
            "{with}"
        );
        assert!(with.ends_with(&format!("{REPORT_NEEDS})")), "{with}");
        assert!(chars(&with) <= MAX_FILTER_CHARS, "{}", chars(&with));
    }

    #[test]
    fn too_long_falls_back_to_compact_rules_then_to_everything() {
        let rule = |i: usize, n: usize| {
            format!(
                "[[rule]]\nid = \"R{i}\"\ntitle = \"t\"\nseverity = \"low\"\ndescription = \"d\"\n\
                 why = \"w\"\nbecause = \"b\"\nwhen = {{ field = \"message\", contains = \"{}\" }}\n",
                format!("needle {i} ").repeat(n)
            )
        };
        let src: String = (0..60).map(|i| rule(i, 3)).collect();
        let plan = filter(&load_str("t.toml", &src).unwrap(), &[]);
        // Compact for the longest rules, lean (field by field) for the rest.
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
        assert!(plan.notes[0].contains("in every field"), "{:?}", plan.notes);
        let f = plan.filter.unwrap();
        assert!(chars(&f) <= MAX_FILTER_CHARS);
        assert!(
            f.contains("jsonPayload.message:") && f.contains("(\"needle 0 "),
            "{f}"
        );
        let src: String = (0..400).map(|i| rule(i, 8)).collect();
        let plan = filter(&load_str("t.toml", &src).unwrap(), &["svc".into()]);
        assert!(
            plan.warnings[0].contains("every entry of svc"),
            "{:?}",
            plan.warnings
        );
        assert_eq!(plan.filter, service_filter(&["svc".into()]));
    }

    #[test]
    fn commands_are_shell_safe() {
        let plan = Plan {
            filter: Some("textPayload:\"it's\"".into()),
            notes: vec![],
            warnings: vec![],
        };
        assert_eq!(
            command(&plan, 5400, Some("my-proj")),
            "gcloud logging read 'textPayload:\"it'\\''s\"' --freshness=1h30m --format=json --project=my-proj"
        );
        let everything = Plan {
            filter: None,
            notes: vec![],
            warnings: vec![],
        };
        assert_eq!(
            command(&everything, 14 * 86_400, Some("a b")),
            "gcloud logging read --freshness=14d --format=json --project='a b'"
        );
    }
}
