//! `logtriage rules list | check | test`.

use crate::cli::{RuleArgs, RulesCommand};
use crate::diag::Diag;
use crate::rules::{self, LoadOptions, RuleSet};
use anyhow::{anyhow, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use std::io::Write;

/// Loads the rules in effect; errors list every problem with file, line and rule.
pub fn load(args: &RuleArgs) -> Result<RuleSet> {
    rules::load(&LoadOptions {
        defaults: !args.no_default_rules,
        dirs: args.rules.clone(),
    })
    .map_err(|e| {
        let n = e.0.len();
        anyhow!(
            "{e}\n{n} problem{} in rule files; fix them and run `logtriage rules check`",
            if n == 1 { "" } else { "s" }
        )
    })
}

/// Runs a `rules` subcommand; returns the exit code.
pub fn run(cmd: &RulesCommand, diag: &Diag) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    match cmd {
        RulesCommand::List(a) => {
            let set = load(a)?;
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
            let set = load(a)?;
            writeln!(
                out,
                "ok: {}, no problems",
                count_of(set.rules().len(), "rule")
            )?;
            Ok(0)
        }
        RulesCommand::Test(a) => {
            let set = load(a)?;
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
                diag.error(&format!("{failed} rule example(s) failed"));
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
