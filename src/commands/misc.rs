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

/// Prints the man page.
pub fn man() -> Result<i32> {
    let page = clap_mangen::Man::new(Cli::command());
    let mut out = std::io::stdout().lock();
    page.render(&mut out)?;
    out.flush()?;
    Ok(0)
}
