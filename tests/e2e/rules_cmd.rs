//! `rules list | check | test` and bad rule files.

use crate::util::*;

#[test]
fn default_packs_check_and_test() {
    let d = lt(["rules", "check"]).code(0);
    assert!(d.stdout.starts_with("ok:"), "{}", d.stdout);
    let d = lt(["rules", "test"]).code(0);
    assert!(d.stdout.contains(" passed, 0 failed"), "{}", d.stdout);
    let d = lt(["rules", "list"]).code(0);
    for id in [
        "CRITICAL_AUTH_FAILURE",
        "SYSTEM_USER_AUTH_FAILURE",
        "SERVICE_USER_MISCLASSIFIED",
        "HTTP_403_BURST",
        "SERVICE_AUTH_HEADERS_MISSING",
        "SERVICE_SECRET_MISSING",
        "MISSING_DB_TABLE",
        "MISSING_JWT_FUNCTIONS",
        "APP_STATE_NOT_REGISTERED",
        "GOLDEN_PATH_VALIDATION_FAILED",
        "DB_CONNECTIVITY_FAILURE",
        "TOKEN_VALIDATION_USER_NOT_FOUND",
    ] {
        assert!(d.stdout.contains(id), "{id} missing from rules list");
    }
}

#[test]
fn a_bad_rule_file_is_refused_with_file_line_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    std::fs::write(
        &f,
        "[[rule]]\nid = \"BAD_REGEX\"\ntitle = \"t\"\nseverity = \"high\"\ndescription = \"d\"\nwhy = \"w\"\nbecause = \"b\"\nwhen = { field = \"message\", regex = \"(unclosed\" }\n",
    )
    .unwrap();
    let d = lt(["rules", "check", "--rules"]).arg(&f).code(2);
    assert!(d.stderr.contains("bad.toml:"), "{}", d.stderr);
    assert!(d.stderr.contains("BAD_REGEX"), "{}", d.stderr);
    // The report refuses to run on bad rules too.
    lt(["report", "--rules"])
        .arg(&f)
        .arg(fixture("kinds.ndjson"))
        .code(2);
}

#[test]
fn only_user_rules() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("mine.toml");
    std::fs::write(
        &f,
        r#"[[rule]]
id = "MY_RULE"
title = "Mine"
severity = "low"
description = "d"
when = { field = "message", contains = "hello" }
why = "Why hello?"
because = "{count} hellos"
"#,
    )
    .unwrap();
    let d = lt(["rules", "list", "--no-default-rules", "--rules"])
        .arg(&f)
        .code(0);
    assert!(
        d.stdout.contains("MY_RULE") && !d.stdout.contains("HTTP_403_BURST"),
        "{}",
        d.stdout
    );
}

#[test]
fn no_rules_at_all_is_refused_not_reported_ok() {
    // With no rules a report said OK, exit 0, whatever the logs held.
    let d = lt(["report", "--no-default-rules", "--fail-on", "low"])
        .arg(sample("service-auth-regression.json"))
        .code(2);
    assert!(d.stderr.contains("no rules loaded"), "{}", d.stderr);
    assert!(d.stdout.is_empty(), "{}", d.stdout);
    // A rules folder without a `*.toml` file (here `.TOML`) is named, not skipped quietly.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("MINE.TOML"), "").unwrap();
    let d = lt(["rules", "check", "--rules"]).arg(dir.path()).code(2);
    assert!(d.stderr.contains("no rule file (*.toml)"), "{}", d.stderr);
}

#[test]
fn the_fix_hint_repeats_the_rules_given() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("my rules.toml");
    std::fs::write(
        &f,
        "[[rule]]\nid = \"BAD\"\ntitle = \"t\"\nseverity = \"loud\"\ndescription = \"d\"\nwhy = \"w\"\nbecause = \"b\"\nwhen = { field = \"message\", contains = \"x\" }\n",
    )
    .unwrap();
    let d = lt(["rules", "check", "--no-default-rules", "--rules"])
        .arg(&f)
        .code(2);
    let want = format!(
        "fix them and run `logtriage rules check --no-default-rules --rules '{}'`",
        f.display()
    );
    assert!(d.stderr.contains(&want), "{}", d.stderr);
}

#[test]
fn a_link_to_a_rule_not_loaded_is_a_warning_where_rules_are_used() {
    let pack = root().join("rules/app-database.toml");
    // One pack alone links to rules of other packs: report and query warn, and run.
    for cmd in [&["query"][..], &["report", "--format", "json"][..]] {
        let mut run = lt(cmd)
            .args_from(&["--no-default-rules", "--rules"])
            .arg(&pack);
        if cmd[0] == "report" {
            run = run.arg(sample("healthy.ndjson"));
        }
        let d = run.code(0);
        assert!(
            d.stderr.contains(
                "links to rule `HTTP_5XX_BURST`, which is not loaded (a default rule, left out by --no-default-rules); the link is left out"
            ),
            "{cmd:?}: {}",
            d.stderr
        );
    }
    // rules check passes a pack checked alone, with the warnings...
    let d = lt(["rules", "check", "--no-default-rules", "--rules"])
        .arg(&pack)
        .code(0);
    assert!(d.stdout.contains("warnings (above)"), "{}", d.stdout);
    // ...but a misspelt id fails it; report only warns.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("typo.toml");
    std::fs::write(
        &f,
        "[[rule]]\nid = \"MINE\"\ntitle = \"t\"\nseverity = \"high\"\ndescription = \"d\"\nwhy = \"w\"\nbecause = \"b\"\nwhen = { field = \"message\", contains = \"x\" }\nexplains = [\"HTTP_5XX_BRUST\"]\n",
    )
    .unwrap();
    let d = lt(["rules", "check", "--rules"]).arg(&f).code(2);
    assert!(
        d.stderr.contains("links to rule `HTTP_5XX_BRUST`"),
        "{}",
        d.stderr
    );
    let d = lt(["report", "--rules"])
        .arg(&f)
        .arg(sample("healthy.ndjson"))
        .code(0);
    assert!(d.stderr.contains("the link is left out"), "{}", d.stderr);
}
