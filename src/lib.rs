//! logtriage: Google Cloud log exports in, Five-Whys incident report out.
//!
//! Data flows one way: `ingest` (bytes -> records) -> `entry` (record -> borrowed
//! LogEntry view) -> `rules` (compiled rule set) -> `analyze` (aggregates) -> `report`.

pub mod analyze;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diag;
pub mod entry;
pub mod ingest;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod text;
