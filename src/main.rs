//! Thin entry point: parse, run, map the result to an exit code
//! (0 ok, 1 `--fail-on` hit, 2 usage or input error; a closed pipe is 0).
#![allow(clippy::print_stderr, clippy::exit)]

use clap::Parser;
use std::io::ErrorKind;

fn main() {
    let cli = match logtriage::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let code = match logtriage::commands::run(cli) {
        Ok(c) => c,
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            eprintln!("logtriage: error: {e:#}");
            2
        }
    };
    std::process::exit(code);
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                .is_some_and(|k| k == ErrorKind::BrokenPipe)
    })
}
