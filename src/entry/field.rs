//! Field paths: how rules and filters name a part of the entry view.

use std::fmt;

/// A part of an entry, parsed once from a dotted name such as `jsonPayload.user_id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// The one message (jsonPayload.message or alternatives, textPayload, protoPayload).
    Message,
    /// LogSeverity, compared by level.
    Severity,
    /// `timestamp` (or `receiveTimestamp` when missing), RFC 3339 UTC.
    Timestamp,
    /// Service, mapped from the resource (Cloud Run service, GKE container, ...).
    Service,
    /// Revision (Cloud Run revision, App Engine version, ...).
    Revision,
    /// Region or zone.
    Location,
    /// Project id.
    Project,
    /// `resource.type`.
    ResourceType,
    /// `resource.labels.KEY`.
    ResourceLabel(String),
    /// Full `logName`.
    LogName,
    /// The log id of `logName`, URL-decoded (`run.googleapis.com/requests`).
    LogId,
    /// `insertId`.
    InsertId,
    /// `trace`.
    Trace,
    /// `spanId`.
    SpanId,
    /// `labels.KEY` (the key may hold dots and slashes).
    Label(String),
    /// `httpRequest.KEY`; `latency` reads as seconds.
    Http(String),
    /// `textPayload`.
    TextPayload,
    /// `jsonPayload.a.b`.
    Json(Vec<String>),
    /// `protoPayload.a.b`.
    Proto(Vec<String>),
    /// `operation.KEY`.
    Operation(String),
    /// `sourceLocation.KEY`.
    SourceLocation(String),
}

/// Names accepted by [`Field::parse`], for help text and error messages.
pub const FIELD_NAMES: &str = "message, severity, timestamp, service, revision, location, project, \
resource.type, resource.labels.KEY, logName, log_id, insertId, trace, spanId, labels.KEY, \
httpRequest.KEY, textPayload, jsonPayload.PATH, protoPayload.PATH, operation.KEY, sourceLocation.KEY";

impl Field {
    /// Parses a dotted field name; the error says what is accepted.
    pub fn parse(name: &str) -> Result<Field, String> {
        let n = name.trim();
        let simple = match n {
            "message" => Some(Field::Message),
            "severity" => Some(Field::Severity),
            "timestamp" => Some(Field::Timestamp),
            "service" => Some(Field::Service),
            "revision" => Some(Field::Revision),
            "location" | "region" => Some(Field::Location),
            "project" => Some(Field::Project),
            "resource.type" => Some(Field::ResourceType),
            "logName" | "log_name" => Some(Field::LogName),
            "log_id" | "logId" => Some(Field::LogId),
            "insertId" | "insert_id" => Some(Field::InsertId),
            "trace" => Some(Field::Trace),
            "spanId" | "span_id" => Some(Field::SpanId),
            "textPayload" => Some(Field::TextPayload),
            _ => None,
        };
        if let Some(f) = simple {
            return Ok(f);
        }
        let rest = |prefix: &str| n.strip_prefix(prefix).filter(|r| !r.is_empty());
        if let Some(k) = rest("resource.labels.") {
            return Ok(Field::ResourceLabel(k.to_string()));
        }
        if let Some(k) = rest("labels.") {
            return Ok(Field::Label(k.to_string()));
        }
        if let Some(k) = rest("httpRequest.") {
            return Ok(Field::Http(k.to_string()));
        }
        if let Some(k) = rest("operation.") {
            return Ok(Field::Operation(k.to_string()));
        }
        if let Some(k) = rest("sourceLocation.") {
            return Ok(Field::SourceLocation(k.to_string()));
        }
        if let Some(p) = rest("jsonPayload.") {
            return split_path(p).map(Field::Json).ok_or_else(|| bad(n));
        }
        if let Some(p) = rest("protoPayload.") {
            return split_path(p).map(Field::Proto).ok_or_else(|| bad(n));
        }
        Err(bad(n))
    }
}

fn split_path(p: &str) -> Option<Vec<String>> {
    let parts: Vec<String> = p.split('.').map(String::from).collect();
    if parts.iter().any(String::is_empty) {
        None
    } else {
        Some(parts)
    }
}

fn bad(n: &str) -> String {
    let hint = if n.contains('.') || n.is_empty() {
        String::new()
    } else {
        format!(" (a payload field is written jsonPayload.{n})")
    };
    format!("unknown field `{n}`{hint}; known fields: {FIELD_NAMES}")
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Message => f.write_str("message"),
            Field::Severity => f.write_str("severity"),
            Field::Timestamp => f.write_str("timestamp"),
            Field::Service => f.write_str("service"),
            Field::Revision => f.write_str("revision"),
            Field::Location => f.write_str("location"),
            Field::Project => f.write_str("project"),
            Field::ResourceType => f.write_str("resource.type"),
            Field::ResourceLabel(k) => write!(f, "resource.labels.{k}"),
            Field::LogName => f.write_str("logName"),
            Field::LogId => f.write_str("log_id"),
            Field::InsertId => f.write_str("insertId"),
            Field::Trace => f.write_str("trace"),
            Field::SpanId => f.write_str("spanId"),
            Field::Label(k) => write!(f, "labels.{k}"),
            Field::Http(k) => write!(f, "httpRequest.{k}"),
            Field::TextPayload => f.write_str("textPayload"),
            Field::Json(p) => write!(f, "jsonPayload.{}", p.join(".")),
            Field::Proto(p) => write!(f, "protoPayload.{}", p.join(".")),
            Field::Operation(k) => write!(f, "operation.{k}"),
            Field::SourceLocation(k) => write!(f, "sourceLocation.{k}"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        for n in [
            "message",
            "severity",
            "resource.labels.revision_name",
            "labels.k8s-pod/app",
            "labels.run.googleapis.com/execution_name",
            "httpRequest.status",
            "jsonPayload.user_id",
            "jsonPayload.database_details.connectivity_test",
            "protoPayload.methodName",
        ] {
            assert_eq!(Field::parse(n).unwrap().to_string(), n);
        }
        assert!(Field::parse("user_id")
            .unwrap_err()
            .contains("jsonPayload.user_id"));
        assert!(Field::parse("jsonPayload.").is_err());
        assert!(Field::parse("jsonPayload.a..b").is_err());
        assert!(Field::parse("bogus.thing").is_err());
    }
}
