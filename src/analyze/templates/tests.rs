#![allow(clippy::unwrap_used)]
use super::*;
use proptest::prelude::*;

/// The place of revision `r` (service, region and project unknown).
fn at(r: &str) -> Place {
    Place {
        revision: r.into(),
        ..Place::default()
    }
}

const WORDS: &[&str] = &[
    "error",
    "User",
    "not",
    "found",
    "pid:",
    "(code",
    ")",
    "━",
    "🚀",
    "é",
    "\"",
    "'",
    ",",
    "=",
    "/api/",
    "https://x.io/",
    "?",
    "#",
    "-",
    "_",
    ".",
    ":",
    "0x",
    "\\",
    "can't",
    "\t",
    "\n",
    " ",
    "  ",
    "[",
    "]",
    "{",
    "}",
    "@",
    "%",
    "µs",
    "T",
];

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(512)
    })]

    #[test]
    fn never_panics_and_stays_one_line(pieces in prop::collection::vec(
        prop_oneof![prop::sample::select(WORDS).prop_map(str::to_string), "[0-9a-fA-F]{1,12}", ".{0,4}"],
        0..80,
    )) {
        let msg = pieces.concat();
        let t = template_of(&msg);
        prop_assert!(!t.contains('\n') && !t.contains('\r'));
        prop_assert_eq!(t.trim(), t.as_str());
    }

    #[test]
    fn numbers_do_not_split_templates(
        skeleton in prop::collection::vec(prop::sample::select(&["User", "failed", "after", "retry", "for", "port", "ms"][..]), 1..12),
        a in prop::collection::vec(0u64..1_000_000, 12),
        b in prop::collection::vec(0u64..1_000_000, 12),
    ) {
        let msg = |nums: &[u64]| {
            skeleton.iter().zip(nums).map(|(w, n)| format!("{w} {n}")).collect::<Vec<_>>().join(" ")
        };
        prop_assert_eq!(template_of(&msg(&a)), template_of(&msg(&b)));
    }
}

#[test]
fn table() {
    let cases: &[(&str, &str)] = &[
        (
            "Failed to connect to database: connection to server at \"10.1.2.3\", port 5432 failed: Connection timed out",
            "Failed to connect to database: connection to server at <*>, port <*> failed: Connection timed out",
        ),
        ("User 12345 not found", "User <*> not found"),
        ("Worker (pid:123) exited with code 3", "Worker (pid:<*>) exited with code <*>"),
        (
            "GET /api/threads/8f3a2c1b-4d5e-4f60-9a1b-2c3d4e5f6a7b 404",
            "GET /api/threads/<*> <*>",
        ),
        ("/api/threads/8f3a2c1b-4d5e-4f60-9a1b-2c3d4e5f6a7b", "/api/threads/<*>"),
        ("GET /api/search?q=foo&limit=10 took 12ms", "GET /api/search?<*> took <*>"),
        (
            "Traceback (most recent call last):\n  File \"/app/main.py\", line 12, in <module>",
            "Traceback (most recent call last):",
        ),
        ("  File \"/app/netra/db.py\", line 42, in connect", "File <*>, line <*>, in connect"),
        (
            "request 3f2b9c4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f failed for user 5589c077-84df-4acf-b88b-a9d86c8c6073",
            "request <*> failed for user <*>",
        ),
        ("timeout after 3.5s (limit 512MiB, 99% used)", "timeout after <*> (limit <*>, <*> used)"),
        ("retry in 1h30m", "retry in <*>"),
        ("at 2024-01-15T12:34:56.789Z deadline exceeded", "at <*> deadline exceeded"),
        ("at 2024-01-15 12:34:56,789 deadline exceeded", "at <*> <*>,<*> deadline exceeded"),
        ("connect to [::1]:8080 refused", "connect to [<*>]:<*> refused"),
        ("connect to 2001:db8::8a2e:370:7334 refused", "connect to <*> refused"),
        ("redis 10.0.0.7:6379 refused", "redis <*> refused"),
        ("MessageBuffer connection ws_882a42b3eb established", "MessageBuffer connection ws_<*> established"),
        ("configuration unchanged (hash 19dcc74)", "configuration unchanged (hash <*>)"),
        ("pointer 0x7ffd5e8c is null", "pointer <*> is null"),
        ("revision netra-backend-00042-abc failed", "revision netra-backend-<*>-abc failed"),
        ("mail to jane.doe+x@example.com bounced.", "mail to <*> bounced."),
        ("KeyError: 'user_id'", "KeyError: <*>"),
        ("can't parse 'don't panic' here", "can't parse <*> here"),
        ("payload {\"code\": 17, \"msg\": \"boom\"}", "payload {\"code\": <*>, \"msg\": <*>}"),
        ("Redis pool nearing capacity: 48/50 connections", "Redis pool nearing capacity: <*> connections"),
        (
            "call https://user:pw@api.example.com:8443/v1/items/12345?token=abc#frag failed",
            "call https://<*>@api.example.com:<*>/v1/items/<*>?<*>#<*> failed",
        ),
        // A password holding `/` (AWS secret keys): the user-info runs to the last `@`.
        (
            "export failed s3://AKIAZ7QF3XK2M9PLW4RT:wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Lm3Np0Q@bucket/key",
            "export failed s3://<*>@bucket/key",
        ),
        ("fetch https://user:pa/ss9Word@host.example.com/x", "fetch https://<*>@host.example.com/x"),
        // ... but `host:port/...@...` is a port and a path.
        ("GET https://api.example.com:8443/users/@me 200", "GET https://api.example.com:<*>/users/@me <*>"),
        ("see http://10.2.3.4/health.", "see http://<*>/health."),
        ("token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9 rejected", "token <*> rejected"),
        ("Issue #582 remediation", "Issue #<*> remediation"),
        (
            r#"sending {\"authorization\": \"Bearer x\", \"id\": 5}"#,
            r#"sending {\"authorization\": <*>, \"id\": <*>}"#,
        ),
        (
            "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
            "Authorization: Bearer <*>",
        ),
        ("api key sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12 rejected", "api key sk-proj-<*> rejected"),
        // The 15-character middle of a SendGrid key went into the template.
        (
            "with key 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",
            "with key SG.<*>",
        ),
        ("fatal: unable to access 'https://x.example.com/r.git/': 403", "fatal: unable to access <*>: <*>"),
        ("OpenTelemetry2Exporter and MyLongClassName2Handler failed", "OpenTelemetry2Exporter and MyLongClassName2Handler failed"),
        ("Gemini API returned 429, backing off 1s (attempt 1/5)", "Gemini API returned <*>, backing off <*> (attempt <*>)"),
        ("a   b\tc", "a b c"),
        ("", ""),
        ("\n\n  Error: boom  \nmore", "Error: boom"),
    ];
    for (msg, want) in cases {
        assert_eq!(template_of(msg), *want, "message: {msg:?}");
    }
}

#[test]
fn variants_share_a_template() {
    let groups: &[&[&str]] = &[
        &[
            "schema validated for run run_2ea4ea332db1",
            "schema validated for run run_0a61481bffa1",
            "schema validated for run run_aaaaaa000000",
        ],
        &[
            "session q8W7e6R5t4Y3u2I1o0P9zX rejected",
            "session 7Hk2PqZx9LmW4rT8vN3bYc rejected",
            "session Qw3Er5Ty7Ui9Op1As2Df4G rejected",
        ],
        &[
            "Failed to connect to database: connection to server at \"10.1.2.3\", port 5432 failed: Connection timed out",
            "Failed to connect to database: connection to server at \"172.16.0.9\", port 6432 failed: Connection timed out",
        ],
        &["User 12345 not found", "User 999 not found"],
        &["Worker (pid:123) exited with code 3", "Worker (pid:98765) exited with code 137"],
        &[
            "GET /api/threads/8f3a2c1b-4d5e-4f60-9a1b-2c3d4e5f6a7b 404",
            "GET /api/threads/00000000-0000-0000-0000-000000000000 500",
        ],
    ];
    for g in groups {
        let t = template_of(g[0]);
        for m in &g[1..] {
            assert_eq!(template_of(m), t, "{m:?} vs {:?}", g[0]);
        }
    }
}

#[test]
fn open_quote_at_the_cut_masks_the_rest() {
    let msg = format!("payload {{\"data\": \"{}\"}}", "x y ".repeat(100));
    assert_eq!(template_of(&msg), "payload {\"data\": <*>");
    // Not cut: an unbalanced `"` is punctuation.
    assert_eq!(
        template_of("Unexpected token \" at 5"),
        "Unexpected token \" at <*>"
    );
}

#[test]
fn words_stay() {
    for s in [
        "Traceback (most recent call last):",
        "psycopg2.OperationalError: could not connect to server: Connection refused",
        "Service authentication failed: missing X-Service-ID or X-Service-Secret header",
        "JWT_SECRET_KEY not configured - authentication validation will fail",
        "e2e sha256 utf8 base64 us-central1 deadbeef",
        "━━━ 🚀 Startup ✅ ━━━",
    ] {
        assert_eq!(template_of(s), s);
    }
}

#[test]
fn unicode_is_safe() {
    assert_eq!(
        template_of("🔥 user 42 ━━ failed ✅"),
        "🔥 user <*> ━━ failed ✅"
    );
    assert_eq!(template_of("took 5µs"), "took <*>");
    assert_eq!(template_of("ошибка 42: файл"), "ошибка <*>: файл");
    // A multi-byte char straddling the 300-char cut at every offset.
    for pad in 0..4 {
        let msg = format!("{}{}", "a".repeat(298 + pad), "é━🚀".repeat(10));
        let t = template_of(&msg);
        assert!(t.chars().count() <= MAX_CHARS);
        let msg = format!("{}{}", "1 ".repeat(149), "━".repeat(10 + pad));
        let t = template_of(&msg);
        assert!(t.ends_with('━'));
    }
    // Bytes >= 0x80 everywhere a delimiter might be looked for.
    for s in [
        "\"é",
        "'━",
        "x'🚀",
        "1é",
        "0x",
        "2024-01-01T",
        "/é/1",
        "é://x",
        "a@é.com",
        "::é",
    ] {
        let _ = template_of(s);
    }
}

#[test]
fn example_is_smallest_and_cut() {
    let mut t = Templates::default();
    t.add(
        "User 2 not found",
        Some(&at("rev-b")),
        Some(20),
        Some("id2"),
    );
    t.add(
        "User 10 not found",
        Some(&at("rev-a")),
        Some(10),
        Some("id1"),
    );
    t.add("User 3 not found", None, Some(30), None);
    let top = t.top(5);
    assert_eq!(top.len(), 1);
    let s = &top[0];
    assert_eq!(s.template, "User <*> not found");
    assert_eq!(s.count, 3);
    assert_eq!(s.example, "User 10 not found");
    assert_eq!(s.sample_id.as_deref(), Some("id1"));
    assert_eq!(s.revisions, vec![(at("rev-a"), 1), (at("rev-b"), 1)]);
    assert_eq!((s.first_seen, s.last_seen), (Some(10), Some(30)));

    let mut t = Templates::default();
    t.add(&"é".repeat(400), None, None, None);
    assert_eq!(t.top(1)[0].example.chars().count(), MAX_CHARS);
}

#[test]
fn top_orders_by_count_then_template() {
    let mut t = Templates::default();
    for m in ["b 1", "b 2", "a x", "c 1", "c 2", "zz"] {
        t.add(m, None, None, None);
    }
    let got: Vec<(String, u64)> = t
        .top(3)
        .into_iter()
        .map(|s| (s.template, s.count))
        .collect();
    assert_eq!(
        got,
        vec![("b <*>".into(), 2), ("c <*>".into(), 2), ("a x".into(), 1)]
    );
    assert_eq!(t.distinct(), 4);
    assert_eq!(t.top(0), vec![]);
}

fn worker(msgs: &[(&str, &str, i64, &str)]) -> Templates {
    let mut t = Templates::default();
    for (m, r, ts, id) in msgs {
        t.add(m, Some(&at(r)), Some(*ts), Some(id));
    }
    t
}

#[test]
fn merge_is_order_independent() {
    let a = worker(&[
        ("User 5 not found", "r1", 50, "a1"),
        ("disk 90% full", "r1", 7, "a2"),
    ]);
    let b = worker(&[
        ("User 1 not found", "r2", 90, "b1"),
        ("boom", "r2", 1, "b2"),
    ]);
    let c = worker(&[
        ("User 5 not found", "r1", 3, "c1"),
        ("disk 91% full", "r3", 8, "c2"),
    ]);
    let orders = [[&a, &b, &c], [&c, &b, &a], [&b, &a, &c], [&c, &a, &b]];
    let results: Vec<_> = orders
        .iter()
        .map(|o| {
            let mut m = Templates::default();
            for t in o {
                m.merge((*t).clone());
            }
            m.top(10)
        })
        .collect();
    for r in &results[1..] {
        assert_eq!(r, &results[0]);
    }
    // Merging equals adding everything to one accumulator.
    let mut one = Templates::default();
    for (m, r, ts, id) in [
        ("User 5 not found", "r1", 50, "a1"),
        ("disk 90% full", "r1", 7, "a2"),
        ("User 1 not found", "r2", 90, "b1"),
        ("boom", "r2", 1, "b2"),
        ("User 5 not found", "r1", 3, "c1"),
        ("disk 91% full", "r3", 8, "c2"),
    ] {
        one.add(m, Some(&at(r)), Some(ts), Some(id));
    }
    assert_eq!(one.top(10), results[0]);
    let user = &results[0][0];
    assert_eq!(user.template, "User <*> not found");
    assert_eq!(user.count, 3);
    assert_eq!(user.example, "User 1 not found");
    assert_eq!(user.sample_id.as_deref(), Some("b1"));
    assert_eq!(user.revisions, vec![(at("r1"), 2), (at("r2"), 1)]);
    assert_eq!((user.first_seen, user.last_seen), (Some(3), Some(90)));
}

#[test]
fn cap_counts_overflow() {
    let mut t = Templates::default();
    // Distinct templates: words are kept, numbers are masked.
    let word = |i: usize| {
        let mut w = String::from("err");
        let mut n = i;
        loop {
            w.push(char::from(b'g' + (n % 20) as u8));
            n /= 20;
            if n == 0 {
                break w;
            }
        }
    };
    for i in 0..MAX_TEMPLATES {
        t.add(&word(i), None, None, None);
    }
    assert_eq!(t.distinct(), MAX_TEMPLATES);
    assert_eq!(t.overflow(), 0);
    t.add("brand new template", None, None, None);
    t.add("another new one", None, None, None);
    t.add(&word(0), None, None, None); // known: still counted
    assert_eq!(t.distinct(), MAX_TEMPLATES);
    assert_eq!(t.overflow(), 2);
    assert_eq!(t.top(1)[0].count, 2);

    let mut other = Templates::default();
    other.add("from another worker", None, None, None);
    other.add("from another worker", None, None, None);
    other.add(&word(1), None, None, None);
    t.merge(other);
    assert_eq!(t.distinct(), MAX_TEMPLATES);
    assert_eq!(t.overflow(), 4);
}

#[test]
fn tracebacks_are_named_by_their_last_line() {
    let tb = "Traceback (most recent call last):\n  File \"/app/main.py\", line 12, in <module>\n    import foo\nModuleNotFoundError: No module named 'foo'\n";
    assert_eq!(template_of(tb), "ModuleNotFoundError: No module named <*>");
}

/// A place given to another (a line without the location label joining its region)
/// takes its template counts along, merged with the ones already there.
#[test]
fn rekeyed_places_take_their_counts_along() {
    let mut t = Templates::default();
    let eu = Place {
        region: "europe-west1".into(),
        ..at("r1")
    };
    t.add("disk 90% full", Some(&at("r1")), None, None);
    t.add("disk 91% full", Some(&eu), None, None);
    t.add("disk 92% full", Some(&at("r2")), None, None);
    t.rekey(|p| (*p == at("r1")).then(|| eu.clone()));
    assert_eq!(t.top(1)[0].revisions, vec![(eu.clone(), 2), (at("r2"), 1)]);
}
