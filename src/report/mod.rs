//! The report stage: one model rendered as Markdown, JSON and a terminal table.
//! Every string from the logs passes `redact` (in `model::build`) and `sanitize`
//! (in the renderers) before it is shown.

pub mod markdown;
mod model;
pub mod redact;
mod sanitize;
pub mod table;

pub use crate::text::fmt_count;
pub use model::{build, severity_rank, InputFacts, InputSummary, Report, Status, Window, SCHEMA};
pub use sanitize::sanitize;

/// Writes the report as pretty JSON (schema `logtriage/report/v1`).
pub fn write_json(r: &Report, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, r)?;
    writeln!(w)
}
