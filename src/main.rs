//! Thin entry point: parse, run, map the result to an exit code
//! (0 ok, 1 `--fail-on` hit, 2 usage or input error; a closed pipe is 0).
#![allow(clippy::print_stderr, clippy::exit)]

use clap::Parser;
use std::io::ErrorKind;

fn main() {
    let cli = match logtriage::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            // `logtriage: error: ...`, as the tool's own errors are written (plain: a
            // log scraper or a test matches the same text on a terminal or not).
            let text = e.render().to_string();
            match text.strip_prefix("error: ") {
                Some(rest) => eprint!("logtriage: error: {rest}"),
                None => eprint!("{text}"),
            }
            std::process::exit(2);
        }
        Err(e) => {
            // --help and --version, on stdout.
            let _ = e.print();
            std::process::exit(0);
        }
    };
    // A bug should read as one, not as a Rust backtrace.
    std::panic::set_hook(Box::new(|info| {
        let p = info.payload();
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "logtriage: internal error{at}: {msg}\nThis is a bug in logtriage; please report it with the command you ran."
        );
    }));
    let run = std::panic::AssertUnwindSafe(|| logtriage::commands::run(cli));
    let code = match std::panic::catch_unwind(run) {
        Err(_) => 2,
        Ok(Ok(c)) => c,
        Ok(Err(e)) if is_broken_pipe(&e) => 0,
        Ok(Err(e)) => {
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
