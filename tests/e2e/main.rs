//! End-to-end tests: the built binary on real-shaped fixtures and samples.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod util;

mod cli_review;
mod errors;
mod evidence;
mod formats;
mod hostile;
mod job_retries;
mod json_schema;
mod load_balancer;
mod markdown;
mod prop;
mod query;
mod refusals;
mod report;
mod resolutions;
mod rules_cmd;
mod secrets;
mod shared_onset;
mod verdicts;
mod workloads;
