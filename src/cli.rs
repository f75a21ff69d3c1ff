//! Command-line types (clap derive). Doc comments are the help text; no I/O here.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Most worker threads `-j` accepts: each holds a chunk and its own aggregates, and
/// thousands of them only cost memory and start-up time.
pub const MAX_THREADS: u64 = 256;

/// Turn Google Cloud log exports into a Five-Whys incident report.
///
/// Reads `gcloud logging read --format=json` output, Cloud Storage sink exports
/// (NDJSON, gzip, folders), Logging API `entries.list` responses or stdin, matches
/// incident rules, and writes a report.
#[derive(Debug, Parser)]
#[command(name = "logtriage", version, propagate_version = true, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Worker threads, 1 to 256 (default: all cores).
    #[arg(
        long,
        short = 'j',
        global = true,
        value_name = "N",
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_THREADS)
    )]
    pub threads: Option<usize>,

    /// When to colour the `error:` and `warning:` labels on stderr (reports and
    /// stats are plain text, so they stay the same in a file or a pipe).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Hide the progress line and warnings about skipped records (errors still print).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

const EXAMPLES: &str = "\
Examples:
  gcloud logging read 'resource.type=\"cloud_run_revision\"' --freshness=6h --format=json \\
    | logtriage report > incident.md
  logtriage report archive/2025/09/ --format json
  logtriage stats samples/healthy.ndjson
  logtriage rules test --rules ./my-rules

Exit codes: 0 ok, 1 a finding at --fail-on severity or above (or a failing `rules test`
example), 2 usage or input error.";

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write an incident report: findings, regressions, Five Whys, actions.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
    /// Count what the logs hold: entries, severities, services, revisions, logs.
    #[command(after_help = STATS_EXAMPLES)]
    Stats(StatsArgs),
    /// List, check and test rule files.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Print a `gcloud logging read` command that fetches what the rules need.
    #[command(after_help = QUERY_EXAMPLES)]
    Query(QueryArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the man page (roff): logtriage(1), or a subcommand's (`man report`).
    Man(ManArgs),
}

const REPORT_EXAMPLES: &str = "\
Examples:
  gcloud logging read 'resource.type=\"cloud_run_revision\"' --freshness=6h --format=json | logtriage report
  logtriage report exports/ -o incident.md
  logtriage report logs.ndjson.gz --format json | jq '.findings[].rule'
  logtriage report logs.json --since 2h --service netra-backend-staging --fail-on high";

const STATS_EXAMPLES: &str = "\
Examples:
  logtriage stats export.json
  logtriage stats sink-bucket-copy/ --format json | jq .by_revision";

const QUERY_EXAMPLES: &str = "\
Examples:
  logtriage query --service netra-backend-staging --freshness 6h
  eval \"$(logtriage query --freshness 2h)\" | logtriage report";

/// Inputs and the filters every log-reading command shares.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files or folders to read (`-` is stdin; none reads stdin). Folders are
    /// searched for .json, .jsonl, .ndjson, .log and their .gz forms, and NAME.gz;
    /// the other files in them are counted in a note (name one to read it).
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Only entries at or after T: RFC 3339, a date (2025-09-15), or a duration
    /// back from the newest entry (of the --service ones, if given) (90m, 6h, 2d).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,

    /// Only entries before T (same forms as --since).
    #[arg(long, value_name = "T")]
    pub until: Option<String>,

    /// Only entries of this service (repeatable). A NAME no entry of the input has
    /// (whatever --since/--until) is an error (exit 2) that lists the services it holds.
    #[arg(long = "service", value_name = "NAME")]
    pub services: Vec<String>,

    /// Stop at the first malformed record instead of skipping it.
    #[arg(long)]
    pub strict: bool,

    /// Target bytes per parallel chunk (advanced; for testing).
    #[arg(long, value_name = "BYTES", hide = true)]
    pub chunk_size: Option<usize>,
}

/// Where rules come from.
#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Add rule files from this file or folder (repeatable); a rule with the
    /// same id as a default rule replaces it.
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,

    /// Use only the rules given with --rules.
    #[arg(long)]
    pub no_default_rules: bool,
}

/// `report` arguments.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub rules: RuleArgs,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,

    /// Write the report to FILE (atomically) instead of stdout. A run that reads no
    /// log entry at all (exit 2) leaves FILE as it was.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Time bucket of the timelines (e.g. 1m, 5m, 1h); default from the window. Rule thresholds do not depend on it.
    #[arg(long, value_name = "DURATION")]
    pub bucket: Option<String>,

    /// Exit 1 when a finding at this severity or above is reported (default: the
    /// exit code does not depend on findings).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
}

/// `stats` arguments.
#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = StatsFormat::Table)]
    pub format: StatsFormat,

    /// Write to FILE (atomically) instead of stdout. A run that reads no log entry
    /// at all (exit 2) leaves FILE as it was.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `rules` subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules in effect.
    List(RuleArgs),
    /// Check rule files for errors (file, line and rule named).
    Check(RuleArgs),
    /// Run every rule's examples and report each failure.
    Test(RuleArgs),
}

/// `query` arguments.
#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub rules: RuleArgs,

    /// Only this service (repeatable).
    #[arg(long = "service", value_name = "NAME")]
    pub services: Vec<String>,

    /// How far back gcloud should read (passed to --freshness).
    #[arg(long, default_value = "6h", value_name = "DURATION")]
    pub freshness: String,

    /// GCP project (passed to --project).
    #[arg(long, value_name = "ID")]
    pub project: Option<String>,
}

/// `man` arguments.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (its options are on its own page).
    #[arg(value_parser = ["report", "stats", "rules", "query", "completions"])]
    pub command: Option<String>,
}

/// `completions` arguments.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Markdown, for GitHub issues and pagers.
    Markdown,
    /// JSON, schema logtriage/report/v1.
    Json,
    /// A compact terminal table.
    Table,
}

/// Stats formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsFormat {
    /// Tables for the terminal.
    Table,
    /// Stable JSON.
    Json,
}

/// `--fail-on` levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any finding.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when the output is a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
