//! Healthy traffic stays quiet: ~200 ordinary entries match no default rule, except
//! rules that only speak above a threshold (HTTP_403_BURST for the lone 403s), and
//! those thresholds do not fire.

use super::defaults;
use crate::entry::Entry;
use serde_json::json;

const SERVICE_RES: &str = r#"{"labels":{"configuration_name":"netra-backend-staging","location":"us-central1","project_id":"netra-staging","revision_name":"netra-backend-staging-00734-fvm","service_name":"netra-backend-staging"},"type":"cloud_run_revision"}"#;

/// Ordinary application lines (most are real lines from a Cloud Run export).
const INFO: &[&str] = &[
    "AuthCircuitBreakerManager initialized with UnifiedCircuitBreaker",
    "AuthClientCache initialized with default TTL: 300s and user isolation",
    "AuthServiceClient initialized - Service ID: netra-backend, Service Secret=REDACTED True",
    "Database URL (staging/Cloud SQL): postgresql+asyncpg://***@/netra_staging?host=/cloudsql/netra-staging:us-central1:staging-shared-postgres",
    "Built database URL from POSTGRES_* environment variables",
    "Database configuration: Using component-based configuration for staging environment",
    "SERVICE_SECRET configured: True",
    "SERVICE_ID configured: True",
    "Loaded SERVICE_SECRET from environment",
    "Loaded JWT_SECRET_KEY from environment",
    "Loaded FERNET_KEY from environment",
    "PASS:  All configuration requirements validated for staging",
    "Configuration loaded and cached for environment: staging",
    "Enhanced RedisManager initialized with automatic recovery",
    "WebSocket SSOT loaded - CRITICAL SECURITY MIGRATION: Factory pattern available, singleton vulnerabilities mitigated",
    "OpenTelemetry automatic instrumentation initialized successfully",
    "Circuit breaker 'auth_service' initialized: threshold=3",
    "uvicorn-compatible SessionMiddleware installed (Issue #449)",
    "Golden path validation passed: 5/5 requirements met",
    "PASS: jwt_validation_ready - JWT validation functions available: ['create_access_token', 'verify_token', 'create_refresh_token']",
    "PASS: user_authentication_ready - critical user tables present: ['users', 'user_sessions']",
    "SERVICE USER SESSION: Created session for service user_id='service:netra-backend'",
    "SYSTEM USER SESSION: Created session for user_id='system'",
    "Database session factory registered in app.state",
    "Token validated for user 7c1e9a2b (valid=true)",
    "Service request authenticated via X-Service-ID header: netra-backend",
    "Cloud SQL connection established to netra-staging:us-central1:staging-shared-postgres",
    "Agent run completed in 2.31s for thread thread_8842",
    "WebSocket connection accepted: user:3a9f1c22 (\u{1f44b} welcome)",
    "Request timeout set to 300s for /api/agent/run_agent",
];

const WARNINGS: &[&str] = &[
    "Sentry SDK not available - install sentry-sdk[fastapi] to enable error tracking",
    "SERVICE_ID contained whitespace - sanitized from 'netra-backend\n' to 'netra-backend'",
    "Telemetry enabled but no exporters configured - traces will not be exported.",
    "Slow query: SELECT * FROM threads WHERE user_id = $1 took 1.2s",
    "Retrying request to auth service (attempt 2/3) after 502 from upstream",
    "Redis connection refused: localhost:6379, retrying in 5s",
];

const SYSTEM: &[&str] = &[
    "Default STARTUP TCP probe succeeded after 1 attempt for container \"netra-backend-staging-1\" on port 8080.",
    "Container called exit(0).",
    "Starting new instance. Reason: AUTOSCALING - Instance started due to configured scaling factors (e.g. CPU utilization, request throughput, etc.) or no existing capacity for current traffic.",
    "Shutting down instance: idle",
];

fn base(i: usize, sev: Option<&str>, log: &str) -> serde_json::Value {
    let secs = i * 9;
    let ts = format!(
        "2025-09-15T17:{:02}:{:02}.{:06}Z",
        10 + secs / 60,
        secs % 60,
        1000 + i
    );
    let mut v = json!({
        "insertId": format!("healthy{i:04}"),
        "labels": {"instanceId": "0069c7a98824795ed4cca769", "vpc-connectivity": "enabled"},
        "logName": format!("projects/netra-staging/logs/run.googleapis.com%2F{log}"),
        "receiveTimestamp": ts,
        "resource": serde_json::from_str::<serde_json::Value>(SERVICE_RES).unwrap(),
        "timestamp": ts,
    });
    if let Some(s) = sev {
        v["severity"] = json!(s);
    }
    v
}

pub(super) fn healthy_entries() -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut next = || {
        i += 1;
        i
    };
    for round in 0..3 {
        for m in INFO {
            let mut v = base(next(), Some("INFO"), "stdout");
            if round == 1 {
                v["textPayload"] = json!(m);
            } else {
                v["jsonPayload"] = json!({"message": m, "labels": {"module": "app", "line": "10"}});
            }
            out.push(v.to_string());
        }
    }
    for m in WARNINGS {
        let mut v = base(next(), Some("WARNING"), "stderr");
        v["jsonPayload"] = json!({"message": m});
        out.push(v.to_string());
    }
    for m in SYSTEM {
        let mut v = base(next(), Some("INFO"), "varlog%2Fsystem");
        v["textPayload"] = json!(m);
        out.push(v.to_string());
    }
    // gunicorn on stderr without severity.
    let mut v = base(next(), None, "stderr");
    v["textPayload"] = json!("[2025-09-16 00:42:58 +0000] [12] [INFO] Booting worker with pid: 13");
    out.push(v.to_string());
    // Health check, healthy.
    let mut v = base(next(), Some("INFO"), "stdout");
    v["jsonPayload"] = json!({"message": "Health check: healthy", "status": "healthy", "database_status": "connected",
        "database_details": {"connectivity_test": "passed", "initialized": true}});
    out.push(v.to_string());
    // Request logs: mostly 200s, some 404/304/201, two lone 403s.
    let statuses = [200, 200, 200, 201, 200, 304, 200, 404, 200, 200];
    for k in 0..95 {
        let status = if k == 17 || k == 61 {
            403
        } else {
            statuses[k % statuses.len()]
        };
        let mut v = base(
            next(),
            Some(if status >= 400 { "WARNING" } else { "INFO" }),
            "requests",
        );
        v["httpRequest"] = json!({"latency": "0.012311s", "protocol": "HTTP/1.1", "requestMethod": "GET",
            "requestSize": "327", "requestUrl": format!("https://api.staging.netrasystems.ai/api/threads/{k}"),
            "responseSize": "67", "status": status, "userAgent": "Mozilla/5.0"});
        v["trace"] = json!("projects/netra-staging/traces/bc37fd4d64cefc05745037f87ab79384");
        out.push(v.to_string());
    }
    // The application side of those two 403s: a normal user, classified as such.
    for user in ["user:8f2a41c9", "user:01bb7e3d"] {
        let mut v = base(next(), Some("WARNING"), "stderr");
        v["jsonPayload"] = json!({"message": format!("403 Forbidden: token expired for {user}"),
            "user_id": user, "user_type": "regular", "is_service_call": false});
        out.push(v.to_string());
    }
    // An audit log entry (Admin Activity: a deploy).
    let mut v = base(
        next(),
        Some("NOTICE"),
        "cloudaudit.googleapis.com%2Factivity",
    );
    v["protoPayload"] = json!({"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "methodName": "google.cloud.run.v1.Services.ReplaceService", "status": {}});
    out.push(v.to_string());
    out
}

#[test]
fn healthy_traffic_matches_only_threshold_rules_and_they_stay_quiet() {
    let set = defaults();
    let entries = healthy_entries();
    assert!(entries.len() >= 190, "{}", entries.len());
    let mut counts: std::collections::BTreeMap<usize, std::collections::BTreeMap<i64, u64>> =
        Default::default();
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    for json in &entries {
        let e = Entry::parse(json).unwrap();
        set.match_entry(&e, &mut fast);
        set.match_entry_exhaustive(&e, &mut slow);
        assert_eq!(fast, slow, "prefilter disagrees on {json}");
        for &ri in &fast {
            let r = &set.rules()[ri];
            assert!(
                !r.threshold.is_trivial(),
                "{} matched healthy entry {json}",
                r.id
            );
            let bucket = e.timestamp.unwrap().secs().div_euclid(60) * 60;
            *counts.entry(ri).or_default().entry(bucket).or_default() += 1;
        }
    }
    // Only the lone 403 request logs matched, and only HTTP_403_BURST.
    let ids: Vec<&str> = counts.keys().map(|&i| set.rules()[i].id.as_str()).collect();
    assert_eq!(ids, ["HTTP_403_BURST"]);
    for (ri, buckets) in counts {
        let series: Vec<(i64, u64)> = buckets.into_iter().collect();
        assert_eq!(series.iter().map(|b| b.1).sum::<u64>(), 2);
        assert!(!set.rules()[ri].threshold.fires(&series, 60));
    }
}
