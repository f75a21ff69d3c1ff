//! `completions` and `man`, generated from the clap definition.

use crate::cli::Cli;
use anyhow::Result;
use clap::CommandFactory;
use std::io::Write;

/// Prints a completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Result<i32> {
    let mut cmd = Cli::command();
    // Into memory first: `generate` panics on a write error, so `| head` read as a bug.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "logtriage", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(0)
}

/// Prints the man page: the program's, or a subcommand's as `logtriage-NAME(1)`.
pub fn man(sub: Option<&str>) -> Result<i32> {
    let mut cmd = Cli::command();
    cmd.build();
    let cmd = match sub {
        None => cmd,
        Some(name) => {
            // clap names are static; the parser allows only these.
            let page_name = match name {
                "report" => "logtriage-report",
                "stats" => "logtriage-stats",
                "rules" => "logtriage-rules",
                "query" => "logtriage-query",
                _ => "logtriage-completions",
            };
            let Some(s) = cmd.find_subcommand(name) else {
                anyhow::bail!("no subcommand `{name}`");
            };
            s.clone().name(page_name)
        }
    };
    let page = clap_mangen::Man::new(cmd);
    let mut out = std::io::stdout().lock();
    page.render(&mut out)?;
    out.flush()?;
    Ok(0)
}
