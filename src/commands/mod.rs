//! One file per subcommand; each returns the process exit code.

pub mod misc;
pub mod query;
pub mod report;
pub mod rules;
pub mod scan;
pub mod stats;

use crate::cli::{Cli, Command};
use crate::diag::Diag;
use anyhow::Result;
use std::io::IsTerminal;

/// Runs the parsed command line; returns the exit code (errors map to 2 in main).
pub fn run(cli: Cli) -> Result<i32> {
    let color = crate::config::use_color(cli.color, std::io::stderr().is_terminal());
    let diag = Diag::new(cli.quiet, color);
    let threads = cli.threads.unwrap_or(0);
    match &cli.command {
        Command::Stats(a) => stats::run(a, threads, &diag),
        Command::Completions(a) => misc::completions(a.shell),
        Command::Man(a) => misc::man(a.command.as_deref()),
        Command::Report(a) => report::run(a, threads, &diag),
        Command::Rules(c) => rules::run(c, &diag),
        Command::Query(a) => query::run(a, &diag),
    }
}
