//! Refused rule files: each error names file, line, rule and what is wrong.

use super::super::{load, load_str, LoadOptions};
use super::defaults;
use std::path::PathBuf;

/// A small valid rule; `{extra}` lines are added inside it.
fn rule(id: &str, extra: &str) -> String {
    format!(
        "[[rule]]\nid = \"{id}\"\ntitle = \"t\"\nseverity = \"low\"\ndescription = \"d\"\n\
         why = \"w\"\nbecause = \"{{count}} seen\"\n{extra}\n"
    )
}

fn errors_of(src: &str) -> String {
    match load_str("bad.toml", src) {
        Ok(_) => panic!("accepted:\n{src}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_valid_minimal_rule_loads() {
    let set = load_str(
        "ok.toml",
        &rule(
            "OK_RULE",
            "when = { field = \"message\", contains = \"x\" }",
        ),
    )
    .unwrap();
    assert_eq!(set.rules()[0].line, 1);
    assert_eq!(set.rules()[0].pack, "ok");
}

#[test]
fn refusals_name_file_line_rule_and_problem() {
    let w = "when = { field = \"message\", contains = \"x\" }";
    let cases: Vec<(String, &str)> = vec![
        (
            rule("BAD_RE", "when = { field = \"message\", regex = '(unclosed' }"),
            "bad.toml:8: rule BAD_RE: `regex` on `message`: bad regex \"(unclosed\": error: unclosed group",
        ),
        (
            rule("BAD_FIELD", "when = { field = \"user_id\", equals = \"x\" }"),
            "bad.toml:8: rule BAD_FIELD: unknown field `user_id` (a payload field is written jsonPayload.user_id)",
        ),
        (
            format!("{}{}", rule("DUP", w), rule("DUP", w)),
            "bad.toml:9: rule DUP: duplicate id; first defined at bad.toml:1",
        ),
        (
            rule("LINKED", &format!("{w}\nexplained_by = [\"NOPE\"]")),
            "bad.toml:9: rule LINKED: links to rule `NOPE`, which is not loaded",
        ),
        (
            rule("PLACEHOLDER", &format!("{w}\ncheck_next = \"look at {{user}}\"")),
            "bad.toml:9: rule PLACEHOLDER: placeholder {user} in `check_next` is neither a capture (none) nor a built-in",
        ),
        (
            rule("BAD_SEV", w).replace("\"low\"", "\"urgent\""),
            "bad.toml:4: rule BAD_SEV: bad severity `urgent`; use low, medium, high or critical",
        ),
        (
            rule("BAD_OP", "when = { field = \"message\", startswith = \"x\" }"),
            "bad.toml:8: rule BAD_OP: TOML: unknown field `startswith`, expected one of",
        ),
        (
            rule("BAD_WINDOW", &format!("{w}\nmin_count = 5\nwindow = \"10 minutes\"")),
            "bad.toml:10: rule BAD_WINDOW: bad duration `10 minutes`",
        ),
        (
            rule("BAD_COUNT", &format!("{w}\nmin_count = 0")),
            "bad.toml:9: rule BAD_COUNT: min_count must be 1 or more, not 0",
        ),
        (
            rule("BAD_SHARE", &format!("{w}\nmin_share = 5.0")),
            "bad.toml:9: rule BAD_SHARE: min_share is a share of requests, above 0 and at most 1 (0.05 = 5%), not 5",
        ),
        (
            rule("LONE_WINDOW", &format!("{w}\nwindow = \"5m\"")),
            "bad.toml:9: rule LONE_WINDOW: `window` needs `min_count`",
        ),
        (
            rule("BAD_EXAMPLE", &format!("{w}\n[rule.examples]\nmatch = ['''{{\"textPayload\": \"x\",''']")),
            "bad.toml:10: rule BAD_EXAMPLE: examples.match #1 is not a valid LogEntry JSON object: ",
        ),
        (
            rule("lower_id", w),
            "bad.toml:2: rule lower_id: id `lower_id` must be SCREAMING_SNAKE_CASE",
        ),
        (
            rule("SELF", &format!("{w}\nexplains = [\"SELF\"]")),
            "bad.toml:9: rule SELF: `explains` links the rule to itself",
        ),
        (
            rule("BAD_NUM", "when = { field = \"httpRequest.status\", gte = \"lots\" }"),
            "bad.toml:8: rule BAD_NUM: `gte` on `httpRequest.status`: \"lots\" is not a number",
        ),
        (
            rule("BOTH", "when = { all = [{ field = \"message\", exists = true }], field = \"message\" }"),
            "bad.toml:8: rule BOTH: `all` cannot sit next to `field` or operators",
        ),
        (
            rule("NO_OP", "when = { field = \"message\" }"),
            "bad.toml:8: rule NO_OP: no operator for field `message`",
        ),
        (
            rule("CAP_CLASH", &format!("{w}\ncaptures = [\"jsonPayload.a.count\"]")),
            "bad.toml:9: rule CAP_CLASH: capture name `count` is a built-in placeholder",
        ),
        (
            "[[rule]]\nid = \"SYNTAX\"\ntitle = \"t\nseverity = \"low\"\n".to_string(),
            "bad.toml:3: rule SYNTAX: TOML: ",
        ),
        (
            rule("MISSING_WHEN", ""),
            "bad.toml:1: rule MISSING_WHEN: TOML: missing field `when`",
        ),
    ];
    for (src, want) in cases {
        let got = errors_of(&src);
        assert!(
            got.contains(want),
            "want {want:?}\n got {got:?}\nfor\n{src}"
        );
        assert!(
            !got.contains('\n') || want.contains("DUP"),
            "one line per error: {got}"
        );
    }
}

#[test]
fn all_errors_of_a_file_are_reported() {
    let src = format!(
        "{}{}",
        rule("A_RULE", "when = { field = \"bogus\", equals = 1 }"),
        rule(
            "B_RULE",
            "when = { field = \"message\", regex = '[' }\nexplains = [\"GONE\"]"
        )
    );
    let got = errors_of(&src);
    assert_eq!(got.lines().count(), 3, "{got}");
    assert!(
        got.contains("rule A_RULE") && got.contains("rule B_RULE"),
        "{got}"
    );
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn user_rule_with_a_default_id_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let w = "when = { field = \"message\", contains = \"my own marker\" }";
    write(dir.path(), "mine.toml", &rule("HTTP_403_BURST", w));
    let opts = LoadOptions {
        defaults: true,
        dirs: vec![dir.path().to_path_buf()],
    };
    let set = load(&opts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.len(), defaults().len(), "replaced, not added");
    let (i, r) = set.get("HTTP_403_BURST").unwrap();
    assert!(r.file.ends_with("mine.toml"), "{}", r.file);
    assert_eq!(
        i,
        defaults().get("HTTP_403_BURST").unwrap().0,
        "keeps its place"
    );
    // Links from default rules to the overridden id still resolve.
    assert!(set
        .causes_of(i)
        .contains(&set.get("CRITICAL_AUTH_FAILURE").unwrap().0));
}

#[test]
fn duplicate_ids_across_user_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let w = "when = { field = \"message\", contains = \"x\" }";
    write(dir.path(), "a.toml", &rule("TWICE", w));
    let sub = dir.path().join("more");
    std::fs::create_dir(&sub).unwrap();
    write(&sub, "b.toml", &rule("TWICE", w));
    write(dir.path(), "notes.txt", "not a rule file");
    let opts = LoadOptions {
        defaults: false,
        dirs: vec![dir.path().to_path_buf()],
    };
    let err = load(&opts).err().unwrap().to_string();
    assert!(
        err.contains("b.toml:1: rule TWICE: duplicate id; first defined at"),
        "{err}"
    );
    assert!(err.contains("a.toml:1"), "{err}");
}

#[test]
fn missing_paths_and_user_links_to_defaults() {
    let opts = LoadOptions {
        defaults: false,
        dirs: vec![PathBuf::from("/nonexistent/rules.toml")],
    };
    assert_eq!(
        load(&opts).err().unwrap().to_string(),
        "/nonexistent/rules.toml: no such file or directory"
    );
    // A user rule may link to a default rule, but only when defaults are loaded.
    let dir = tempfile::tempdir().unwrap();
    let link = "when = { field = \"message\", contains = \"x\" }\nexplains = [\"HTTP_403_BURST\"]";
    let f = write(dir.path(), "link.toml", &rule("MY_CAUSE", link));
    assert!(load(&LoadOptions {
        defaults: true,
        dirs: vec![f.clone()]
    })
    .is_ok());
    let err = load(&LoadOptions {
        defaults: false,
        dirs: vec![f],
    })
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("link.toml:9: rule MY_CAUSE: links to rule `HTTP_403_BURST`"),
        "{err}"
    );
}

#[test]
fn a_misspelt_key_hides_no_other_rule_s_problems() {
    let w = "when = { field = \"message\", contains = \"x\" }";
    let src = format!(
        "pack = \"mine\"\n{}{}{}",
        rule(
            "R_ONE",
            &format!("{w}\nmin_count = 0\nexplained_by = [\"R_TWO\"]")
        ),
        rule("R_TWO", &format!("{w}\nseverty = \"high\"")),
        rule("R_THREE", "when = { field = \"message\", regex = \"(\" }"),
    );
    let e = errors_of(&src);
    assert!(
        e.contains("bad.toml:10: rule R_ONE: min_count must be 1 or more"),
        "{e}"
    );
    assert!(
        e.contains("bad.toml:20: rule R_TWO: TOML: unknown field `severty`"),
        "{e}"
    );
    assert!(
        e.contains("rule R_THREE: `regex` on `message`: bad regex"),
        "{e}"
    );
    // R_TWO is reported, so a link to it is not "not loaded" as well.
    assert_eq!(e.lines().count(), 3, "{e}");
}

#[test]
fn lenient_loading_leaves_a_dangling_link_out_and_returns_it() {
    let dir = tempfile::tempdir().unwrap();
    let link = "when = { field = \"message\", contains = \"x\" }\nexplains = [\"HTTP_403_BURST\", \"MY_OTHER\"]";
    let f = write(dir.path(), "link.toml", &rule("MY_CAUSE", link));
    let other = "when = { field = \"message\", contains = \"y\" }";
    let g = write(dir.path(), "other.toml", &rule("MY_OTHER", other));
    let (set, dangling) = crate::rules::load_lenient(&LoadOptions {
        defaults: false,
        dirs: vec![f, g],
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(dangling.len(), 1);
    assert_eq!(
        crate::rules::dangling_target(&dangling[0]),
        Some("HTTP_403_BURST")
    );
    let (_, r) = set.get("MY_CAUSE").unwrap();
    assert_eq!(r.explains, ["MY_OTHER"], "the loaded link stays");
    assert!(crate::rules::default_ids().contains(&"HTTP_403_BURST".to_string()));
}
