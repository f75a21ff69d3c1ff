//! `logtriage query`: a `gcloud logging read` command whose filter fetches only what
//! the rules can match plus what the report needs for rates (request logs, errors,
//! deploy events). Syntax: <https://cloud.google.com/logging/docs/view/logging-query-language>.

use crate::cli::QueryArgs;
use crate::diag::Diag;
use anyhow::Result;
use std::io::Write;

/// Builds the Cloud Logging filter for a rule set and services.
pub fn filter(set: &crate::rules::RuleSet, services: &[String]) -> (String, Vec<String>) {
    let mut clauses = Vec::new();
    let mut unfiltered = Vec::new();
    for r in set.rules() {
        match r.cloud_filter() {
            Some(f) => clauses.push(format!("({f})")),
            None => unfiltered.push(r.id.clone()),
        }
    }
    // The report's rates and regressions need every request log, errors and deploys.
    clauses.push("log_id(\"run.googleapis.com/requests\")".into());
    clauses.push("severity>=ERROR".into());
    clauses.push("protoPayload.methodName:\"Services.\"".into());
    let mut parts = vec!["resource.type=(\"cloud_run_revision\" OR \"cloud_run_job\")".to_string()];
    if !services.is_empty() {
        let list: Vec<String> = services
            .iter()
            .map(|s| format!("\"{}\"", s.replace('"', "\\\"")))
            .collect();
        parts.push(format!(
            "resource.labels.service_name=({})",
            list.join(" OR ")
        ));
    }
    if unfiltered.is_empty() {
        parts.push(format!("({})", clauses.join(" OR ")));
    }
    (parts.join(" AND "), unfiltered)
}

/// Runs `query`; prints the command.
pub fn run(args: &QueryArgs, diag: &Diag) -> Result<i32> {
    crate::config::parse_duration(&args.freshness)?;
    let set = super::rules::load(&args.rules)?;
    let (f, unfiltered) = filter(&set, &args.services);
    if !unfiltered.is_empty() {
        diag.warn(&format!(
            "rules without a Cloud Logging filter ({}) need every entry; the command fetches all Cloud Run entries",
            unfiltered.join(", ")
        ));
    }
    let mut cmd = format!(
        "gcloud logging read '{}' --freshness={} --format=json",
        f.replace('\'', "'\\''"),
        args.freshness
    );
    if let Some(p) = &args.project {
        cmd.push_str(&format!(" --project={p}"));
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{cmd}")?;
    Ok(0)
}
