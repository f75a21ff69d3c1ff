//! What a CLI review found: messages under other payload keys, `-o` on a failed run,
//! a `--service` that matches nothing, files a folder holds but are not read, time
//! filters on entries without timestamps, and the wording of errors and hints.

use crate::util::*;
use serde_json::Value;

/// `n` ERROR entries of service `svc-a` whose payload is `payload` (JSON text), a
/// minute apart.
fn errors_with(payload: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"insertId":"i{i}","timestamp":"2025-10-01T10:{i:02}:00Z","severity":"ERROR","resource":{{"type":"cloud_run_revision","labels":{{"service_name":"svc-a","revision_name":"svc-a-00002-bbb"}}}},"jsonPayload":{payload}}}"#
            ) + "\n"
        })
        .collect()
}

const DB_DOWN: &str = "sqlalchemy could not connect to server: Connection refused (postgres:5432)";

fn rules_of(r: &Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn messages_under_structlog_serilog_and_error_object_keys_are_read() {
    for payload in [
        format!(r#"{{"event":"{DB_DOWN}","level":"error","logger":"db"}}"#),
        format!(r#"{{"@t":"2025-10-01T10:00:00Z","@m":"{DB_DOWN}","@l":"Error"}}"#),
        format!(r#"{{"RenderedMessage":"{DB_DOWN}","MessageTemplate":"x"}}"#),
        format!(r#"{{"error":{{"message":"{DB_DOWN}","type":"OperationalError"}}}}"#),
        format!(r#"{{"err":{{"message":"{DB_DOWN}","stack":"..."}}}}"#),
    ] {
        let r = lt(["report", "--format", "json", "-"])
            .stdin(errors_with(&payload, 30))
            .json();
        assert!(
            rules_of(&r).contains(&"DB_CONNECTIVITY_FAILURE".to_string()),
            "{payload}: {:?}",
            rules_of(&r)
        );
    }
}

#[test]
fn an_error_without_a_message_is_listed_by_its_keys_not_as_an_empty_template() {
    let input = errors_with(r#"{"evt":"something private","lvl":"error"}"#, 30);
    let d = lt(["report", "-"]).stdin(input.clone()).code(0);
    assert!(
        d.stdout
            .contains("`(no message) jsonPayload keys: evt, lvl`"),
        "{}",
        d.stdout
    );
    assert!(!d.stdout.contains("``"), "{}", d.stdout);
    assert!(!d.stdout.contains("something private"), "{}", d.stdout);
    let r = lt(["report", "--format", "json", "-"]).stdin(input).json();
    let t = &r["unknown"][0]["template"];
    assert_eq!(t, "(no message) jsonPayload keys: evt, lvl", "{r}");
}
