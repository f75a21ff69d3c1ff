//! `logtriage rules list | check | test`.

use crate::cli::{RuleArgs, RulesCommand};
use crate::diag::Diag;
use crate::rules::{self, LoadOptions, RuleErrors, RuleSet};
use anyhow::{anyhow, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use std::io::Write;

/// How a link to a rule that is not loaded is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// `report`, `query`, `rules list`: a warning, and the link is left out (the
    /// rules still match; a pack checked or used on its own links to other packs).
    Warn,
    /// `rules check`, `rules test`: an error, unless the rule is one of the default
    /// packs', left out by --no-default-rules (then a warning): a misspelt id fails.
    Check,
}

/// Loads the rules in effect; errors list every problem with file, line and rule.
pub fn load(args: &RuleArgs, diag: &Diag, links: Links) -> Result<RuleSet> {
    load_warned(args, diag, links).map(|(set, _)| set)
}

/// [`load`], with the number of warnings printed.
fn load_warned(args: &RuleArgs, diag: &Diag, links: Links) -> Result<(RuleSet, usize)> {
    let loaded = rules::load_lenient(&LoadOptions {
        defaults: !args.no_default_rules,
        dirs: args.rules.clone(),
    });
    let check = || check_command(args);
    let (set, dangling) = loaded.map_err(|e| problems(&e, &check()))?;
    let defaults = if !dangling.is_empty() && (links == Links::Check || args.no_default_rules) {
        rules::default_ids()
    } else {
        Vec::new()
    };
    let (mut warned, failed): (Vec<_>, Vec<_>) = dangling.into_iter().partition(|e| {
        links == Links::Warn
            || rules::dangling_target(e).is_some_and(|t| defaults.iter().any(|d| d == t))
    });
    if !failed.is_empty() {
        return Err(problems(&RuleErrors(failed), &check()));
    }
    warned.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    for e in &warned {
        let why = if args.no_default_rules
            && rules::dangling_target(e).is_some_and(|t| defaults.iter().any(|d| d == t))
        {
            " (a default rule, left out by --no-default-rules)"
        } else {
            ""
        };
        diag.warn(&format!("{e}{why}; the link is left out"));
    }
    Ok((set, warned.len()))
}

fn problems(e: &RuleErrors, check: &str) -> anyhow::Error {
    let n = e.0.len();
    anyhow!(
        "{e}\n{n} problem{} in rule files; fix them and run `{check}`",
        if n == 1 { "" } else { "s" }
    )
}

/// The `rules check` command for the rules given: `--rules` and
/// `--no-default-rules` repeated, so the hint checks what failed.
fn check_command(args: &RuleArgs) -> String {
    let mut cmd = String::from("logtriage rules check");
    if args.no_default_rules {
        cmd.push_str(" --no-default-rules");
    }
    for p in &args.rules {
        cmd.push_str(" --rules ");
        cmd.push_str(&crate::text::shell_word(&p.to_string_lossy()));
    }
    cmd
}

/// Runs a `rules` subcommand; returns the exit code.
pub fn run(cmd: &RulesCommand, diag: &Diag) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    match cmd {
        RulesCommand::List(a) => {
            let set = load(a, diag, Links::Warn)?;
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
                "id",
                "severity",
                "kind",
                "title",
                "threshold",
                "file",
            ]);
            for r in set.rules() {
                t.add_row(vec![
                    r.id.clone(),
                    r.severity.to_string(),
                    r.kind.to_string(),
                    r.title.clone(),
                    r.threshold.to_string(),
                    format!("{}:{}", r.file, r.line),
                ]);
            }
            writeln!(out, "{t}")?;
            writeln!(out, "{}", count_of(set.rules().len(), "rule"))?;
            Ok(0)
        }
        RulesCommand::Check(a) => {
            let (set, warned) = load_warned(a, diag, Links::Check)?;
            let problems = match warned {
                0 => "no problems".to_string(),
                n => format!("no errors, {} (above)", count_of(n, "warning")),
            };
            writeln!(
                out,
                "ok: {}, {problems}",
                count_of(set.rules().len(), "rule")
            )?;
            Ok(0)
        }
        RulesCommand::Test(a) => {
            let set = load(a, diag, Links::Check)?;
            let outcomes = set.run_examples();
            let mut failed = 0usize;
            for o in &outcomes {
                if !o.passed() {
                    failed += 1;
                    writeln!(out, "{o}")?;
                }
            }
            let passed = outcomes.len() - failed;
            writeln!(out, "{passed} passed, {failed} failed")?;
            if failed > 0 {
                let examples = if failed == 1 { "example" } else { "examples" };
                diag.error(&format!("{failed} rule {examples} failed"));
                return Ok(1);
            }
            Ok(0)
        }
    }
}

/// "1 rule", "20 rules".
fn count_of(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
