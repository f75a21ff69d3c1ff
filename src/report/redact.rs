//! Secrets never reach a report: every log string is passed through [`redact`] (free
//! text) or [`redact_field`] (a named value) before it is rendered.
//!
//! Each secret becomes `[REDACTED]`; a short non-secret prefix is kept where it helps
//! the reader (`Bearer [REDACTED]`, `SERVICE_SECRET=[REDACTED]`,
//! `postgresql://user:[REDACTED]@host`). Masked, in this order:
//!
//! 1. **PEM private keys**: `-----BEGIN ... PRIVATE KEY-----` through the matching
//!    `-----END ...-----` (real or `\n`-escaped newlines); without an END line, up to
//!    the next `"` or the end of the text.
//! 2. **JWTs** (and any other base64 JSON): `eyJ` + >= 8 base64 characters, with
//!    all its `.`-separated parts, anywhere (URLs, headers, messages).
//! 3. **Passwords in URLs**: `scheme://user:password@host` keeps the user (the
//!    password runs to the last `@` of the whitespace-free token, so `#`, `?`, `@`
//!    and `/` in it are covered: AWS secret keys hold `/`; `host:8443/users/@me`, a
//!    port then a path, is not a password; at the very end of a text cut short,
//!    `scheme://user:pass` is masked too). A URL with a password and an `@` later
//!    in its path or query loses that part too (`u:[REDACTED]@b.com`).
//! 4. **Keys by shape**: Google `AIza...`, `ya29.` tokens, `1//0` refresh tokens and
//!    `GOCSPX-` client secrets; AWS `AKIA`/`ASIA` key ids; GitHub `gh[pousr]_` and
//!    `github_pat_`; Slack `xox?-`; Stripe `sk_/rk_live|test|prod_` and `whsec_`; OpenAI
//!    style `sk-...`; SendGrid `SG.<22>.<43>`; GitLab `glpat-`; Vault `hvs.`/`hvb.`/
//!    `hvr.`; Hugging Face `hf_`; Shopify `shpat_`/`shpss_`/`shpca_`/`shppa_`; PyPI
//!    `pypi-AgE`; DigitalOcean `dop_`/`doo_`/`dor_v1_`; npm `npm_`; Databricks
//!    `dapi` + 32 hex. A key prefix at the very end of a text (a sample or example
//!    cut in the middle of a key) or before a template mask (`sk_live_<*>`, with
//!    whatever follows the mask in the same word: `SG.<*>.TwL2iGAB-<*>`) is masked
//!    too.
//! 5. **`Bearer x` / `Basic x`** when `x` looks like a credential (>= 8 chars and
//!    either >= 16 chars or not just lower-case letters).
//! 6. **Secret-named values**: `KEY=value`, `KEY: value`, `"key": "value"`,
//!    `'key': 'value'`, `\"key\": \"value\"` where [`is_secret_name`]`(KEY)`, plus URL
//!    parameters (after `?`, `&`, `#`, `;`) named `key`, `sig`, `code`, `auth`,
//!    `pin`, `otp`, `totp`, `passcode` (`otp`, `totp` and `passcode` are secret names
//!    everywhere). An unquoted password value (a name holding `pass` or `pwd`) runs
//!    to the next whitespace or quote (`password: Tr0ub4dor&3`), less a trailing `,`
//!    or `;`; as a URL parameter it ends at `&`.
//!    Session cookies (`SESSION_COOKIES`: `PHPSESSID`, `JSESSIONID`, `connect.sid`,
//!    `sessionid`, `sessid`, `sid`, ...) are secret names everywhere; other names
//!    holding "session" (`session_id`) only when the value looks random
//!    ([`looks_like_credential`]): a short correlation id stays.
//!    Only the value is masked; a template mask inside it (`sid=s%<*>.Xy`) is part of it. Authorization and cookie values are masked to the end
//!    of the line (after keeping a `Bearer`-like scheme word).
//! 7. **Token-like path segments** of URLs and `/`-paths (`/reset/<token>/confirm`,
//!    `/bot<id>:<token>/send`, `https://<token>@host`): a segment is masked when it
//!    mixes lower case, upper case and digits over >= 10 letters and digits, or two
//!    of them (with >= 2 digits) over >= 20, or two of them over >= 32 (see
//!    [`looks_like_credential`]). Host names and query strings are left to the
//!    passes above.
//!
//! 8. **Percent-encoded parameters** of a URL inside a URL (`%3Faccess_token%3D...`),
//!    or in a form body or prose (`api_key%3D...` after a space), and `sid`,
//!    `session_id`, `jwt` and the like as URL parameters.
//! 9. **Secrets named in prose** (`password is X`, `refresh token X expired`, `Invalid
//!    API key provided: X`) and a secret-named identifier, a space, its value
//!    (`client auth_token X`, `DD_API_KEY X`, `--password X`): the value is masked when
//!    it looks like a credential, or after a password word (password, passwd, pwd,
//!    passphrase) when it looks like a password ([`looks_like_password`]: >= 7
//!    characters, a letter and a digit or symbol). So `password hunter2` is masked and
//!    `password authentication failed` is not.
//! 10. **A password glued to `-p`** (`mysql -u root -pS3cret99`) after a space, when
//!     it looks like a password (so `-p8080:80`, `-pthread`, `-parallel=4` stay).
//! 11. **Random runs**: a run of >= 32 base64 characters (`A-Z a-z 0-9 + / _ -`,
//!     `=` padding) that [`looks_random`] (upper case, lower case and digits mixed
//!     as in random keys, not as in identifiers), so keys without a known prefix and
//!     PEM body lines logged one per entry are masked as their templates are; a text
//!     that is one run alone from 16 characters (a PEM key's short last line). A
//!     lower-case word prefix (`sess_`, `user_`) is kept and not counted. Hex ids
//!     (trace ids, insertIds, UUIDs, hashes), revision names, identifiers and
//!     prefixed ids of under 32 random characters (Clerk `user_...`, Stripe `ch_...`)
//!     stay: reports cite them. Runs before the path pass (item 7), which would cut a
//!     key holding `/` into segments too short to judge.
//!
//! **Values that are not secrets are kept**, so ordinary messages stay readable:
//! an unquoted value must be >= 4 characters, and no value (quoted or not) is
//! masked when it is in the stop list (`STOP_WORDS`: "not", "missing", "none",
//! "null", "true", "configured", "expired", "[REDACTED]", ...). So
//! `JWT_SECRET_KEY not configured` (no `=`/`:`), `token: expired` and
//! `password: None` are unchanged, while `password: hunter2x` is masked.
//!
//! **Speed**: one Aho-Corasick scan (ASCII case-insensitive) over trigger substrings
//! decides which passes can match; a text with none of them is returned borrowed
//! without running any regex (the random-run pass has no trigger: it is one scan
//! over the bytes, with no allocation unless it masks). Regexes are compiled once
//! ([`OnceLock`]).
//!
//! **Adding a pattern**: a new key shape goes into the alternation in `shape_re`
//! with its literal prefix in `TRIGGERS` (bit `SHAPE`); a new secret field name
//! goes into `SECRET_WORDS` / `SECRET_SUFFIXES` / `KEY_QUALIFIERS` (keep the stem
//! in `kv_re` and `TRIGGERS`); a new kind of pass gets its own bit, trigger
//! literals, and a line in [`redact`]. Add a case to
//! `tests/fixtures/secrets.txt` (a leak test) and, if it risks over-masking, a
//! line to the `benign` test. Templates of unknown errors are redacted too, so a
//! pattern should also mask its templated form (`prefix<*>`, `name=<*>-<*>`).

use aho_corasick::AhoCorasick;
use regex::{Captures, Regex};
use std::borrow::Cow;
use std::sync::OnceLock;

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

const PEM: u16 = 1;
const JWT: u16 = 2;
const CONN: u16 = 4;
const SHAPE: u16 = 8;
const SCHEME: u16 = 16;
const KV: u16 = 32;
const PATH: u16 = 64;
const ENCODED: u16 = 128;
const CLI: u16 = 256;
const ALL: u16 = PEM | JWT | CONN | SHAPE | SCHEME | KV | PATH | ENCODED | CLI;

/// Substrings (ASCII case-insensitive) at least one of which every match of a pass
/// contains; a pass runs only when one of its triggers is present.
const TRIGGERS: &[(&str, u16)] = &[
    ("-----BEGIN", PEM),
    ("eyJ", JWT),
    ("://", CONN),
    ("AIza", SHAPE),
    ("ya29.", SHAPE),
    ("1//0", SHAPE),
    ("GOCSPX-", SHAPE),
    ("AKIA", SHAPE),
    ("ASIA", SHAPE),
    ("ghp_", SHAPE),
    ("gho_", SHAPE),
    ("ghu_", SHAPE),
    ("ghs_", SHAPE),
    ("ghr_", SHAPE),
    ("github_pat_", SHAPE),
    ("xox", SHAPE),
    ("k_live_", SHAPE),
    ("k_test_", SHAPE),
    ("k_prod_", SHAPE),
    ("whsec_", SHAPE),
    ("sk-", SHAPE),
    // SendGrid `SG.<22>.<43>` (also matches "msg.": the regex itself is case-sensitive).
    ("SG.", SHAPE),
    ("glpat-", SHAPE),
    // HashiCorp Vault service, batch and recovery tokens.
    ("hvs.", SHAPE),
    ("hvb.", SHAPE),
    ("hvr.", SHAPE),
    ("hf_", SHAPE),
    // Shopify access, shared-secret, custom-app and private-app tokens.
    ("shpat_", SHAPE),
    ("shpss_", SHAPE),
    ("shpca_", SHAPE),
    ("shppa_", SHAPE),
    ("pypi-", SHAPE),
    // DigitalOcean personal, OAuth and refresh tokens.
    ("dop_v1_", SHAPE),
    ("doo_v1_", SHAPE),
    ("dor_v1_", SHAPE),
    ("npm_", SHAPE),
    ("dapi", SHAPE),
    ("bearer", SCHEME),
    ("basic", SCHEME),
    // Stems of `kv_re`: every secret name contains one.
    ("secret", KV),
    ("pass", KV),
    ("pwd", KV),
    ("token", KV),
    ("auth", KV),
    ("key", KV),
    ("credential", KV),
    ("cookie", KV),
    ("sig", KV),
    ("dsn", KV),
    ("code", KV),
    // Session ids and JWTs as URL parameters (`?sid=`, `?jwt=`).
    ("sess", KV),
    ("sid", KV),
    ("jwt", KV),
    // One-time passwords anywhere, PINs as URL parameters (`?otp=...&pin=...`).
    ("otp", KV),
    ("pin", KV),
    // A parameter of a URL inside a URL (`?next=...%3Faccess_token%3D...`).
    ("%3D", ENCODED),
    // A password glued to a command-line flag (`mysql -u root -pS3cret99`).
    (" -p", CLI),
    ("\t-p", CLI),
    // URL and file paths: segments that look like credentials.
    ("/", PATH),
];

/// Values never masked (compared ASCII case-insensitively, trailing `.`/`!`/`:`
/// ignored): they say a secret is absent or describe it, they are not one.
const STOP_WORDS: &[&str] = &[
    "not",
    "no",
    "none",
    "null",
    "nil",
    "undefined",
    "true",
    "false",
    "yes",
    "missing",
    "empty",
    "<empty>",
    "blank",
    "configured",
    "not_configured",
    "unconfigured",
    "required",
    "optional",
    "provided",
    "present",
    "absent",
    "set",
    "unset",
    "invalid",
    "valid",
    "expired",
    "revoked",
    "malformed",
    "unknown",
    "error",
    "failed",
    "failure",
    "denied",
    "ok",
    "n/a",
    "redacted",
    "[redacted]",
    "<redacted>",
    "masked",
    "hidden",
    "signature",
    "verification",
    "validation",
    "mismatch",
    "default",
    "enabled",
    "disabled",
    "loaded",
    "found",
    "using",
    "from",
    "with",
    "without",
    "the",
    "and",
    "for",
    "this",
    "that",
    "was",
    "has",
    "bearer",
    "basic",
];

/// Whole name parts that are secret.
const SECRET_WORDS: &[&str] = &[
    "pwd",
    "pass",
    "otp",
    "totp",
    "dsn",
    "secrets",
    "passwords",
    "cookies",
    "credentials",
];

/// Name parts ending in one of these are secret ("csrftoken", "dbpassword").
const SECRET_SUFFIXES: &[&str] = &[
    "secret",
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "token",
    "apikey",
    "privatekey",
    "secretkey",
    "accesskey",
    "sessionkey",
    "authorization",
    "credential",
    "cookie",
    "signature",
];

/// `<qualifier>_key` is secret ("api_key", "FERNET_KEY"); a bare "key" is not.
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "private",
    "secret",
    "session",
    "signing",
    "encryption",
    "encrypt",
    "decryption",
    "access",
    "master",
    "auth",
    "client",
    "service",
    "account",
    "license",
    "subscription",
    "admin",
    "app",
    "jwt",
    "hmac",
    "fernet",
    "crypto",
    "cipher",
    "aes",
    "rsa",
    "ssh",
    "gpg",
    "pgp",
    "webhook",
];

/// A secret-looking name whose last part is one of these describes the secret
/// ("token_type", "password_min_length", "private_key_id", "token_uri").
const META_SUFFIXES: &[&str] = &[
    "type",
    "types",
    "kind",
    "used",
    "usage",
    "count",
    "counts",
    "length",
    "len",
    "size",
    "expiry",
    "expires",
    "expiration",
    "exp",
    "at",
    "time",
    "timestamp",
    "ttl",
    "age",
    "lifetime",
    "timeout",
    "name",
    "names",
    "stage",
    "status",
    "state",
    "error",
    "errors",
    "reason",
    "valid",
    "validation",
    "validated",
    "missing",
    "present",
    "enabled",
    "disabled",
    "required",
    "configured",
    "set",
    "provided",
    "source",
    "provider",
    "format",
    "version",
    "algorithm",
    "alg",
    "scheme",
    "field",
    "fields",
    "id",
    "ids",
    "url",
    "uri",
    "endpoint",
    "path",
    "file",
    "dir",
    "location",
    "limit",
    "max",
    "min",
    "prefix",
    "hint",
    "policy",
    "strength",
    "rotation",
    "manager",
    "check",
    "checks",
    "failure",
    "failures",
    "failed",
    "attempts",
    "retries",
    "issuer",
    "audience",
    "env",
    "var",
    "mode",
    "level",
    "info",
    "ref",
    "refs",
];

/// Boolean flags: "is_password_set", "has_token", "use_api_key".
const FLAG_PREFIXES: &[&str] = &[
    "is", "has", "use", "should", "enable", "allow", "require", "needs", "skip", "no",
];

/// Names that are secret only as URL parameters (`?key=...`, `&sig=...`).
const URL_PARAM_NAMES: &[&str] = &[
    "key",
    "sig",
    "code",
    "auth",
    "jwt",
    "pin",
    "otp",
    "totp",
    "passcode",
    "sid",
    "session",
    "sessionid",
    "session_id",
    "sessid",
    "jsessionid",
    "phpsessid",
];

/// Session cookies: a session id is a credential (whoever has it is logged in), so
/// these names are secret wherever they appear (`PHPSESSID=...`, `sid=...`).
const SESSION_COOKIES: &[&str] = &[
    "sid",
    "sessid",
    "sessionid",
    "phpsessid",
    "jsessionid",
    "connect.sid",
    "_session_id",
    "asp.net_sessionid",
    "laravel_session",
];

/// Masks secrets in free text: returns the text with each secret replaced by
/// `[REDACTED]`, keeping a short non-secret prefix where it helps ("Bearer
/// [REDACTED]", "SERVICE_SECRET=[REDACTED]", "postgresql://user:[REDACTED]@host").
/// Borrowed when nothing was masked.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = redact_once(text);
    // A pass can leave text that an earlier pass would now mask (a value masked to
    // the end of the line puts a URL password at the end of the text), so repeat
    // until nothing changes: redaction is then idempotent. Every round that changes
    // something masks more characters, so this ends; 4 rounds is plenty in practice.
    for _ in 0..4 {
        let Cow::Owned(s) = &out else { break };
        match redact_once(s) {
            Cow::Owned(again) if again != *s => out = Cow::Owned(again),
            _ => break,
        }
    }
    out
}

fn redact_once(text: &str) -> Cow<'_, str> {
    let passes = triggered(text);
    let mut t = Cow::Borrowed(text);
    if passes & PEM != 0 {
        // Keeping the END line makes a second redaction a no-op.
        t = apply(t, |s| {
            replace(pem_re(), s, |c| {
                let end = c.get(2).map_or("", |m| m.as_str());
                format!("{}{REDACTED}{end}", &c[1])
            })
        });
    }
    if passes & JWT != 0 {
        t = apply(t, |s| {
            replace(jwt_re(), s, |c| format!("{}{REDACTED}", &c[1]))
        });
    }
    if passes & CONN != 0 {
        t = apply(t, |s| replace(conn_re(), s, conn_password));
    }
    if passes & SHAPE != 0 {
        t = apply(t, |s| replace(shape_re(), s, |_| REDACTED.to_string()));
    }
    if passes & SCHEME != 0 {
        t = apply(t, |s| replace(scheme_re(), s, scheme_token));
    }
    if passes & ENCODED != 0 {
        t = apply(t, |s| replace(encoded_param_re(), s, encoded_param));
    }
    if passes & KV != 0 {
        t = apply(t, redact_kv);
        t = apply(t, |s| replace(prose_re(), s, prose_value));
    }
    if passes & CLI != 0 {
        t = apply(t, |s| replace(cli_re(), s, cli_password));
    }
    // No trigger: runs of 32 and more base64 characters are rare and the scan is
    // one cheap pass. Before the path pass, which would cut a key holding `/` into
    // segments too short to look random.
    t = apply(t, redact_random_runs);
    if passes & PATH != 0 {
        t = apply(t, redact_paths);
    }
    t
}

/// True when a field NAME looks secret, so its whole value is masked.
///
/// The name is split into parts at non-alphanumerics and camelCase humps
/// ("X-Service-Secret", "jwt_secret_key", "accessToken", "APIKey"). It is secret
/// when a part is a secret word (password, passwd, pwd, pass, secret, token,
/// authorization, credential(s), cookie, signature, dsn, passphrase, or ends with
/// one: "csrftoken") or is `key` after a qualifier (api, private, session, secret,
/// client, fernet, ...) — unless the name is a boolean flag (`is_`, `has_`, `use_`
/// ...) or its last part describes the secret instead of holding it (`_type`,
/// `_count`, `_used`, `_id`, `_uri`, `_expires_at`, `_stage`, ...). "tokens" (LLM
/// token counts: `max_tokens`, `tokens_used`) is not a secret word. When unsure the
/// rule masks: a false positive costs a value in a report, a miss leaks it.
///
/// ```
/// use logtriage::report::redact::is_secret_name;
/// assert!(is_secret_name("X-Service-Secret") && is_secret_name("access_token"));
/// assert!(!is_secret_name("token_type") && !is_secret_name("auth_failure_stage"));
/// ```
pub fn is_secret_name(name: &str) -> bool {
    if in_list(name, SESSION_COOKIES) {
        return true;
    }
    let mut parts = [""; 16];
    let n = split_name(name, &mut parts);
    let parts = &parts[..n];
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    if n > 1 && in_list(first, FLAG_PREFIXES) {
        return false;
    }
    let secret_at = |i: usize| {
        let p = parts[i];
        in_list(p, SECRET_WORDS)
            || SECRET_SUFFIXES.iter().any(|s| ends_with_ci(p, s))
            || (p.eq_ignore_ascii_case("key") && i > 0 && in_list(parts[i - 1], KEY_QUALIFIERS))
    };
    if secret_at(n - 1) {
        return true;
    }
    (0..n - 1).any(secret_at) && !in_list(last, META_SUFFIXES)
}

/// Masks a value given its field name: the whole value if the name is secret
/// (keeping a leading `Bearer `-like scheme word; empty and stop-list values such
/// as "none" or "missing" stay, they say the secret is absent), else `redact(value)`.
pub fn redact_field<'a>(name: &str, value: &'a str) -> Cow<'a, str> {
    if !is_secret_name(name) {
        return redact(value);
    }
    let secret = strip_scheme(value);
    if secret.trim().is_empty() || is_stop(secret) || secret == REDACTED {
        return Cow::Borrowed(value);
    }
    let keep = value.len() - secret.len();
    Cow::Owned(format!("{}{REDACTED}", &value[..keep]))
}

/// Bits of the passes whose triggers occur in `text` (all if the automaton could
/// not be built: masking too much is the safe failure).
fn triggered(text: &str) -> u16 {
    static AC: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    let ac = AC.get_or_init(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(TRIGGERS.iter().map(|(p, _)| p))
            .ok()
    });
    let Some(ac) = ac else {
        return ALL;
    };
    let mut bits = 0;
    for m in ac.find_overlapping_iter(text) {
        bits |= TRIGGERS.get(m.pattern().as_usize()).map_or(ALL, |t| t.1);
        if bits == ALL {
            break;
        }
    }
    bits
}

/// Runs one pass; `pass` returns the new text only when it changed something.
fn apply<'a>(text: Cow<'a, str>, pass: impl FnOnce(&str) -> Option<String>) -> Cow<'a, str> {
    match pass(&text) {
        Some(s) => Cow::Owned(s),
        None => text,
    }
}

/// `replace_all`, as `Some` only when the text changed. A pattern that failed to
/// compile (impossible: they are constants, covered by a test) masks nothing.
fn replace(
    re: Option<&Regex>,
    text: &str,
    rep: impl FnMut(&Captures<'_>) -> String,
) -> Option<String> {
    match re?.replace_all(text, rep) {
        Cow::Owned(s) if s != text => Some(s),
        _ => None,
    }
}

fn compiled(cell: &'static OnceLock<Option<Regex>>, pattern: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(pattern).ok()).as_ref()
}

fn pem_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    compiled(
        &RE,
        r#"(-----BEGIN[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----)(?:(?s:.*?)(-----END[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----)|[^"]*)"#,
    )
}

fn jwt_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    // The leading group stands in for a look-behind: not inside a word ("surveyJson").
    compiled(
        &RE,
        r"(^|[^A-Za-z0-9])eyJ[A-Za-z0-9_\-+/=]{8,}(?:\.[A-Za-z0-9_\-+/=]*)*",
    )
}

fn conn_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    // The password runs to the last `@` of the whitespace-free token, so a raw `@`,
    // `#`, `?` or `/` in it is covered (AWS secret keys hold `/`); a `/` before any
    // `@` after `host:` and digits only (or a lone mask) is a port and a path
    // (`https://host:8443/users/@me`), not a password. Else to the end of a text cut
    // short before its `@`; or to a template mask (`svc:pa#<*>`: a template took
    // `#...` for a fragment; `host:<*>/db` alone is a port). The user may hold a
    // mask (`s3://<*>:...`).
    compiled(
        &RE,
        concat!(
            r#"([A-Za-z][A-Za-z0-9+.\-]*://)((?:[^:/?#@\s"'<>\[\]]|<\*>)*):"#,
            r#"(?:(?:(?:[^/\s"'<>]|<\*>)*[^0-9/\s"'<>](?:[^/\s"'<>]|<\*>)*/(?:[^\s"'<>]|<\*>)*"#,
            r#"|(?:[^/\s"'<>]|<\*>)+)(@)"#,
            r#"|([^/\s"'<>@]+)\z|((?:[^/\s"'<>@]|<\*>)*<\*>))"#,
        ),
    )
}

/// `scheme://user:password@` keeps the user; a text ending in `scheme://host:port`
/// (or a template's `host:<*>`) is not a cut password.
fn conn_password(c: &Captures<'_>) -> String {
    if let Some(tail) = c.get(4) {
        if tail.as_str().bytes().all(|b| b.is_ascii_digit()) {
            return c[0].to_string();
        }
    }
    if c.get(5).is_some_and(|m| m.as_str() == "<*>") {
        return c[0].to_string();
    }
    let at = c.get(3).map_or("", |m| m.as_str());
    format!("{}{}:{REDACTED}{at}", &c[1], &c[2])
}

fn shape_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    compiled(
        &RE,
        concat!(
            r"AIza[0-9A-Za-z_\-]{35}",
            r"|\bya29\.[0-9A-Za-z_\-]{20,}",
            r"|\b1//0[0-9A-Za-z_\-]{20,}",
            r"|\bGOCSPX-[0-9A-Za-z_\-]{20,}",
            r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
            r"|\bgh[pousr]_[A-Za-z0-9]{36,}",
            r"|\bgithub_pat_[A-Za-z0-9_]{22,}",
            r"|\bxox[abeprs]-[A-Za-z0-9\-]{10,}",
            r"|\b[rs]k_(?:live|test|prod)_[A-Za-z0-9]{16,}",
            r"|\bwhsec_[A-Za-z0-9]{24,}",
            r"|\bsk-[A-Za-z0-9_\-]{20,}",
            r"|\bglpat-[A-Za-z0-9_\-]{20,}",
            r"|\bhv[sbr]\.[A-Za-z0-9_\-]{20,}",
            r"|\bhf_[A-Za-z0-9]{30,}",
            r"|\bshp(?:at|ss|ca|pa)_[A-Za-z0-9]{20,}",
            // PyPI tokens are macaroons: base64 of "\x02\x01\x08pypi.org..." (`AgEI`,
            // test.pypi.org `AgEN`).
            r"|\bpypi-AgE[A-Za-z0-9_\-]{16,}",
            r"|\bdo[opr]_v1_[A-Za-z0-9]{32,}",
            r"|\bnpm_[A-Za-z0-9]{30,}",
            // Databricks: `dapi` + 32 hex (hex alone is not masked by the random-run pass).
            r"|\bdapi[0-9a-f]{32}(?:-[0-9]+)?\b",
            // SendGrid: `SG.<22 chars>.<43 chars>`; shorter parts allowed, not a lone "SG.".
            r"|\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}",
            r"|\bSG\.[A-Za-z0-9_\-]{10,}(?:\.[A-Za-z0-9_\-]*)?\z",
            // A key cut short at the very end of a text, or templated (`sk_live_<*>`,
            // `SG.<*>.TwL2iGAB-<*>`: what follows a mask in the same word goes too).
            r"|(?:AIza|\bya29\.|\b1//0|\bGOCSPX-|\b(?:AKIA|ASIA)|\bgh[pousr]_|\bgithub_pat_",
            r"|\bxox[abeprs]-|\b[rs]k_(?:live|test|prod)_|\bwhsec_|\bsk-|\bglpat-)[0-9A-Za-z_\-]*(?:<\*>(?:[0-9A-Za-z_\-]|\.(?:[0-9A-Za-z_\-]|<\*>)|<\*>)*|\z)",
            r"|\bSG\.[0-9A-Za-z_\-]*<\*>(?:[0-9A-Za-z_\-]|\.(?:[0-9A-Za-z_\-]|<\*>)|<\*>)*",
            // The same for the prefixes that end in `_`, `.` or `-`: letters and digits
            // only, and >= 8 of them before the end, so `hf_hub_download` or a text
            // ending in `npm_config` stay.
            r"|(?:\bhv[sbr]\.|\bhf_|\bshp(?:at|ss|ca|pa)_|\bdo[opr]_v1_|\bnpm_|\bpypi-AgE)",
            r"(?:[0-9A-Za-z]*<\*>(?:[0-9A-Za-z_\-]|\.(?:[0-9A-Za-z_\-]|<\*>)|<\*>)*|[0-9A-Za-z]{8,}\z)",
            // A templated PyPI token: the masker keeps the word `pypi`, masks the rest.
            r"|\bpypi-<\*>(?:[0-9A-Za-z_\-]|\.(?:[0-9A-Za-z_\-]|<\*>)|<\*>)*",
        ),
    )
}

fn scheme_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    compiled(&RE, r"(?i)\b(bearer|basic)([ \t]+)([A-Za-z0-9._~+/\-]+=*)")
}

/// A parameter of a percent-encoded URL (a redirect target inside a query string)
/// or form body: `%3F` / `%26` / `%23` / `%3B` / `%20` / `%2C` or a plain non-name
/// character (`body=api_key%3D...`, a bare `token%3D...`), a name, `%3D`, then the
/// value up to the next encoded or plain separator.
fn encoded_param_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    compiled(
        &RE,
        r#"(?i)(%3F|%26|%23|%3B|%20|%2C|^|[^a-z0-9_.\-%])([a-z0-9_.\-]+)%3D((?:[^%&#\s"'<>]|%(?:[0-14-9a-f][0-9a-f]|2[0-2457-9a-f]|3[0-9ace]))*)"#,
    )
}

fn encoded_param(c: &Captures<'_>) -> String {
    let (name, value) = (&c[2], &c[3]);
    // Short names (`key`, `code`) are secret only as parameters, not after a space.
    let param = c[1].starts_with('%') || matches!(&c[1], "?" | "&" | "#" | ";" | "=");
    let secret = (is_secret_name(name) || param && in_list(name, URL_PARAM_NAMES))
        && value.len() >= 4
        && !is_stop(value)
        && !value.contains(REDACTED);
    if secret {
        format!("{}{}%3D{REDACTED}", &c[1], name)
    } else {
        c[0].to_string()
    }
}

/// A secret named in prose, then its value: `password is X`, `login with password X
/// failed`, `refresh token X expired`, `Invalid API key provided: X`, `('Authorization',
/// 'Token X')`, and a secret-named identifier, a space, its value (`client auth_token
/// X`, `DD_API_KEY X`, `mysql --password X`). Only a value that looks like a credential
/// is masked ([`looks_like_credential`], or [`looks_like_password`] after a password
/// word), so `password reset`, `token expired` and `password authentication failed`
/// stay. A template mask counts as part of the value (`passphrase horse-<*>`).
fn prose_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    compiled(
        &RE,
        r#"(?i)\b((?:[a-z0-9]+[_.\-])*(?:passwords?|passwd|passphrase|pwd|secret|tokens?|(?:api|access|secret|private|client)[ _-]?key|credentials?)(?:[_.\-][a-z0-9]+)*)\b((?:[ \t]+(?:is|was|of|provided|given|used|value))*[ \t]*:?[ \t]+)((?:[^\s'"`,;()\[\]{}<>/]|<\*>){7,})"#,
    )
}

fn prose_value(c: &Captures<'_>) -> String {
    let name = &c[1];
    let value = c[3].trim_end_matches(['.', '!', '?', ':']);
    // `auth_token X` yes, `token_type X` / `password_min_length X` no; a bare
    // "tokens" or "API key" (with a space) is a prose word of its own.
    let named =
        is_secret_name(name) || name.eq_ignore_ascii_case("tokens") || name.contains([' ', '\t']);
    let password = ["pass", "pwd"].iter().any(|w| contains_ci(name, w));
    let secret = looks_like_credential(value) || password && looks_like_password(value);
    if named && secret && !is_stop(value) && !value.contains(REDACTED) {
        format!("{}{}{REDACTED}{}", &c[1], &c[2], &c[3][value.len()..])
    } else {
        c[0].to_string()
    }
}

/// A password-flag value (`-pHunter2Pass99`, glued as mysql wants it) after a space
/// or at the start of the text. Ports and flags (`-p8080:80`, `-pthread`,
/// `-parallel=4`) are kept: see [`looks_like_password`].
fn cli_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    compiled(&RE, r#"(^|[ \t])-p([^\s'"`,;()\[\]{}<>|&=/]+)"#)
}

fn cli_password(c: &Captures<'_>) -> String {
    let value = &c[2];
    if looks_like_password(value) && !value.contains(REDACTED) {
        format!("{}-p{REDACTED}", &c[1])
    } else {
        c[0].to_string()
    }
}

/// True when a word after a password name (or `-p`) looks like a password rather
/// than an English word or an identifier: >= 7 characters with a letter and a digit
/// or a symbol (`hunter2`, `tr0ub4dor`, `Spr1ng!`), or holding a template mask.
/// `authentication`, `ValidationError`, `sha256` (too short) and `8080:80` (no letter)
/// are not. Less strict than [`looks_like_credential`], so used only after a name
/// that says a password follows.
///
/// ```
/// use logtriage::report::redact::looks_like_password;
/// assert!(looks_like_password("hunter22") && looks_like_password("correct-horse-9"));
/// assert!(!looks_like_password("authentication") && !looks_like_password("ValidationError"));
/// ```
pub fn looks_like_password(word: &str) -> bool {
    if word.chars().count() < 7 || is_stop(word) {
        return false;
    }
    if word.contains("<*>") {
        return true;
    }
    let letter = word.bytes().any(|b| b.is_ascii_alphabetic());
    let other = word
        .bytes()
        .any(|b| b.is_ascii_digit() || b"!@#$%^&*+=~?".contains(&b));
    letter && other
}

/// Candidate `name` + separator; the name must contain a stem (see `TRIGGERS`) and
/// is then checked by [`is_secret_name`]; the value is parsed by hand.
fn kv_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    compiled(
        &RE,
        r#"(?i)[a-z0-9_.\-]*(?:secret|pass|pwd|token|auth|key|credential|cookie|sig|dsn|code|sess|sid|jwt|otp|pin)[a-z0-9_.\-]*(?:\\?["'])?[ \t]*[:=][ \t]*"#,
    )
}

/// True when a URL or path segment (or a URL's user name) looks like a random token
/// rather than a word, a number or a short id. Counting ASCII letters and digits
/// only: lower case, upper case and digits together over 10 or more (`Q1w2E3r4T5y6`),
/// two of those with 2 or more digits over 20 or more (hex keys, UUIDs), or two of
/// those over 32 or more. Words, dates, versions and short ids (`run_agent`,
/// `2025-09-15`, `v1beta`, `thread_ba3966c3c83c`) are kept.
///
/// ```
/// use logtriage::report::redact::looks_like_credential;
/// assert!(looks_like_credential("Q1w2E3r4T5y6") && looks_like_credential("3f2a1b9c8d7e6f5a4b3c2d1e"));
/// assert!(!looks_like_credential("run_agent") && !looks_like_credential("thread_ba3966c3c83c"));
/// ```
pub fn looks_like_credential(segment: &str) -> bool {
    // A file extension is a word: `17:00:00_17:59:59_S0.json` is a name, not a token.
    let stem = match segment.rfind('.') {
        Some(i) if i > 0 && (1..=5).contains(&(segment.len() - i - 1)) => {
            let ext = &segment[i + 1..];
            if ext.bytes().all(|b| b.is_ascii_alphanumeric()) {
                &segment[..i]
            } else {
                segment
            }
        }
        _ => segment,
    };
    let (mut lower, mut upper, mut digit) = (0usize, 0usize, 0usize);
    let b = stem.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // `%2F` is an escaped character, not part of a token.
        if b[i] == b'%'
            && b.get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
        {
            i += 3;
            continue;
        }
        let c = b[i];
        i += 1;
        match c {
            b'a'..=b'z' => lower += 1,
            b'A'..=b'Z' => upper += 1,
            b'0'..=b'9' => digit += 1,
            _ => {}
        }
    }
    let n = lower + upper + digit;
    let classes = usize::from(lower > 0) + usize::from(upper > 0) + usize::from(digit > 0);
    (classes == 3 && n >= 10)
        || (classes >= 2 && digit >= 2 && n >= 20)
        || (classes >= 2 && n >= 32)
}

/// Shortest run of base64 characters [`looks_random`] judges.
const MIN_RANDOM_RUN: usize = 32;

/// True when a run of base64 / base64url characters (no `.`) looks like a random
/// key rather than an identifier: at least 32 characters with at least 4
/// upper-case letters, 4 lower-case letters and a digit, switching between upper
/// case, lower case and digits at least every fourth letter or digit (camelCase
/// humps, upper to lower, do not count; other characters restart the count).
/// Random base62 or base64 of that length passes about 98 times in 100 (a run
/// without a digit fails), longer runs more often (a 64-character PEM line 999
/// in 1000).
/// Identifiers switch far less (`getUserAccountById2WithRetryAndBackoff`), and hex
/// ids (trace ids, insertIds, UUIDs, commit hashes, `AC` + 32 hex Twilio SIDs) have
/// no or few upper-case letters: they stay visible, as report evidence.
///
/// ```
/// use logtriage::report::redact::looks_random;
/// assert!(looks_random("MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oQQNtP4Yq3sXoAoGCCqGSM49AwEHoUQDQgAE"));
/// assert!(!looks_random("4bf92f3577b34da6a3ce929d0e0e4736") && !looks_random("AbstractSingletonProxyFactoryBean2"));
/// ```
pub fn looks_random(run: &str) -> bool {
    random_with(run, MIN_RANDOM_RUN, 4, 0)
}

/// [`looks_random`] with another length floor, least count of upper-case and of
/// lower-case letters, and `extra` switches on top of one in four.
fn random_with(run: &str, min_len: usize, min_case: usize, extra: usize) -> bool {
    if run.len() < min_len {
        return false;
    }
    let (mut upper, mut lower, mut digit, mut switches) = (0usize, 0usize, 0usize, 0usize);
    let mut prev = 3u8;
    for &c in run.as_bytes() {
        let class = match c {
            b'A'..=b'Z' => {
                upper += 1;
                0
            }
            b'a'..=b'z' => {
                lower += 1;
                1
            }
            b'0'..=b'9' => {
                digit += 1;
                2
            }
            _ => {
                prev = 3;
                continue;
            }
        };
        if prev != 3 && prev != class && !(prev == 0 && class == 1) {
            switches += 1;
        }
        prev = class;
    }
    upper >= min_case
        && lower >= min_case
        && digit >= 1
        && switches * 4 >= upper + lower + digit + extra
}

/// A character of a base64 / base64url run (padding `=` aside).
fn is_run_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-')
}

/// A path segment that is a word (`api`, `Users`, `sendMessage`): >= 3 letters,
/// each upper-case one followed by two lower-case ones, at most one in four.
fn is_path_word(seg: &[u8]) -> bool {
    let upper = seg.iter().filter(|c| c.is_ascii_uppercase()).count();
    seg.len() >= 3
        && upper * 4 <= seg.len()
        && seg.iter().enumerate().all(|(i, c)| {
            c.is_ascii_lowercase()
                || (c.is_ascii_uppercase()
                    && seg.get(i + 1).is_some_and(u8::is_ascii_lowercase)
                    && seg.get(i + 2).is_some_and(u8::is_ascii_lowercase))
        })
}

/// Length of the lower-case words with `_` or `-` that start a run (`user_`,
/// `usr_tok_`, `sess-`): an id's kind, kept, as templates keep it; the rest is
/// judged alone (a Clerk user id `user_2NNEqL2nrIRdJ194ndJqAHwEfxC` stays).
fn word_prefix_len(run: &[u8]) -> usize {
    let mut n = 0;
    loop {
        let w = run[n..]
            .iter()
            .take_while(|c| c.is_ascii_lowercase())
            .count();
        if (2..=12).contains(&w) && matches!(run.get(n + w), Some(b'_' | b'-')) {
            n += w + 1;
        } else {
            return n;
        }
    }
}

/// The random-run pass: masks every maximal run of base64 characters (with its
/// `=` padding) that [`looks_random`]: a PEM body line logged on its own, a key
/// without a known prefix (after its lower-case word prefix, see
/// [`word_prefix_len`]). A run holding `/` may be a path: its word segments
/// (see [`is_path_word`]) and empty ones stay, and each stretch of other segments
/// between them is judged on its own (`/bot123:<token>/sendMessage` keeps
/// `/sendMessage`, `/webhooks/<id>/<token>` its numeric id; an AWS secret key
/// `wJalr.../K7MDENG/bPxRf...` is one stretch).
/// Shorter tokens in paths are left to the path pass.
fn redact_random_runs(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if !is_run_byte(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_run_byte(b[i]) {
            i += 1;
        }
        let mut pad = i;
        while pad < b.len() && pad - i < 2 && b[pad] == b'=' {
            pad += 1;
        }
        // A text that is one run alone (the last, short line of a PEM body logged
        // as its own entry) is judged from 16 characters, as templates mask it, a
        // little stricter (`MyLongClassName2` alone stays).
        let alone = text[..start].trim().is_empty() && text[pad..].trim().is_empty();
        if alone && i - start < MIN_RANDOM_RUN {
            if random_with(&text[start..i], 16, 2, 1) {
                out.push_str(&text[..start]);
                out.push_str(REDACTED);
                copied = pad;
            }
            continue;
        }
        if i - start < MIN_RANDOM_RUN {
            continue;
        }
        // Stretches of non-word segments: [from, to) byte ranges of `text`.
        let mut from: Option<usize> = None;
        let mut seg = start;
        let mut k = start;
        while k <= i {
            if k < i && b[k] != b'/' {
                k += 1;
                continue;
            }
            // A segment is b[seg..k]; a number (`/webhooks/<id>/<token>`) is a word.
            let number = k - seg >= 4 && b[seg..k].iter().all(u8::is_ascii_digit);
            let word = k == seg || number || is_path_word(&b[seg..k]);
            if !word && from.is_none() {
                from = Some(seg);
            }
            let stretch_end = if word {
                Some(seg.saturating_sub(1))
            } else if k == i {
                Some(k)
            } else {
                None
            };
            if let (Some(f), Some(e)) = (from, stretch_end) {
                // Run bounds and `/` are ASCII bytes, so these are char boundaries.
                let f = f + word_prefix_len(&b[f..e]);
                if e > f && looks_random(&text[f..e]) {
                    out.push_str(&text[copied..f]);
                    out.push_str(REDACTED);
                    copied = if e == i { pad } else { e };
                }
                from = None;
            }
            k += 1;
            seg = k;
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// Bytes that end a path-like token in free text (not `[`/`]`: a masked
/// `https://[REDACTED]@host/` must read as one URL again, for idempotence).
fn ends_token(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b'"' | b'\'' | b'`' | b'(' | b')' | b'{' | b'}' | b'|' | b'\\' | b','
        )
}

/// The credential-like segments pass: every token holding a `/` has the segments of
/// its path (and a URL's bare user name) checked with [`looks_like_credential`].
fn redact_paths(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if ends_token(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !ends_token(b[i]) {
            i += 1;
        }
        // Token bounds are ASCII bytes, so they are char boundaries.
        let tok = &text[start..i];
        // PEM armour is the PEM pass's business (its END line must stay whole).
        if !tok.contains('/') || tok.contains("-----") {
            continue;
        }
        if let Some(masked) = mask_path_token(tok) {
            out.push_str(&text[copied..start]);
            out.push_str(&masked);
            copied = i;
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// One token: `scheme://[user@]host/path?query#fragment` or a `/`-path.
fn mask_path_token(tok: &str) -> Option<String> {
    let path_end = tok.find(['?', '#']).unwrap_or(tok.len());
    let (head, rest) = tok.split_at(path_end);
    let mut out = String::with_capacity(tok.len());
    let mut changed = false;
    let path = match head.find("://") {
        Some(i) => {
            let after = i + 3;
            let auth_end = head[after..].find('/').map_or(head.len(), |j| after + j);
            let authority = &head[after..auth_end];
            out.push_str(&head[..after]);
            match authority.rfind('@') {
                // A bare user name that is a token (`https://<token>@github.com`).
                Some(at)
                    if !authority[..at].contains(':')
                        && looks_like_credential(&authority[..at]) =>
                {
                    out.push_str(REDACTED);
                    out.push_str(&authority[at..]);
                    changed = true;
                }
                _ => out.push_str(authority),
            }
            &head[auth_end..]
        }
        None => head,
    };
    // `host.example.com/path` without a scheme: the host is not a path segment.
    let host_first =
        !path.starts_with('/') && path.split('/').next().is_some_and(|h| h.contains('.'));
    let mut prev = "";
    for (k, seg) in path.split('/').enumerate() {
        if k > 0 {
            out.push('/');
        }
        // A Cloud Trace id (`projects/p/traces/<hex>`) is evidence, not a token.
        let trace_id = prev == "traces" && seg.bytes().all(|b| b.is_ascii_hexdigit());
        if !(trace_id || k == 0 && host_first) && seg != REDACTED && looks_like_credential(seg) {
            out.push_str(REDACTED);
            changed = true;
        } else {
            out.push_str(seg);
        }
        prev = seg;
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// `Bearer x` / `Basic x`: masks `x` when it looks like a credential, not a word.
fn scheme_token(c: &Captures<'_>) -> String {
    let tok = &c[3];
    let credential = tok.len() >= 8
        && !is_stop(tok)
        && (tok.len() >= 16 || tok.bytes().any(|b| !b.is_ascii_lowercase()));
    if credential {
        format!("{}{}{REDACTED}", &c[1], &c[2])
    } else {
        c[0].to_string()
    }
}

/// The secret-named `name: value` pass.
fn redact_kv(text: &str) -> Option<String> {
    let re = kv_re()?;
    let b = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut pos = 0;
    while let Some(m) = re.find_at(text, pos) {
        pos = m.end();
        let key_end = m.start()
            + m.as_str()
                .find(['\\', '"', '\'', ' ', '\t', ':', '='])
                .unwrap_or(m.len());
        let key = &text[m.start()..key_end];
        // `a::b` is a path, not a key.
        if b.get(pos) == Some(&b':') {
            continue;
        }
        let url_param = m.start() > 0 && matches!(b[m.start() - 1], b'?' | b'&' | b'#' | b';');
        let secret = is_secret_name(key) || url_param && in_list(key, URL_PARAM_NAMES);
        // `session_id=...`, `sessionId: ...`: often a log-correlation id, so masked only
        // when the value looks random (a cookie-length id is a credential).
        let session = !secret && contains_ci(key, "session");
        if !(secret || session) {
            continue;
        }
        let Some((start, end)) = value_span(text, pos, key, url_param) else {
            continue;
        };
        if session && !looks_like_credential(&text[start..end]) {
            continue;
        }
        out.push_str(&text[copied..start]);
        out.push_str(REDACTED);
        copied = end;
        pos = end;
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// The byte span of the secret part of the value starting at `p`, if it is one.
fn value_span(text: &str, p: usize, key: &str, url_param: bool) -> Option<(usize, usize)> {
    let rest = &text[p..];
    let line_end = |from: usize| {
        memchr::memchr2(b'\n', b'\r', &text.as_bytes()[from..]).map_or(text.len(), |i| from + i)
    };
    let (start, end, quoted, whole_line) = if let Some(inner) = rest.strip_prefix("\\\"") {
        // JSON inside a JSON string: \"value\"
        let s = p + 2;
        let e = inner.find("\\\"").map_or_else(|| line_end(s), |i| s + i);
        (s, e, true, false)
    } else if rest.starts_with('"') {
        let s = p + 1;
        let e = json_string_end(text, s).unwrap_or_else(|| line_end(s));
        (s, e, true, false)
    } else if rest.starts_with('\'') {
        let s = p + 1;
        let e = text[s..].find('\'').map_or_else(|| line_end(s), |i| s + i);
        (s, e, true, false)
    } else {
        let whole_line = {
            let k = key.to_ascii_lowercase();
            k.contains("authoriz") || k.contains("cookie")
        };
        let stop = |c: u8| {
            c.is_ascii_whitespace()
                || matches!(
                    c,
                    b',' | b';'
                        | b'&'
                        | b'"'
                        | b'\''
                        | b'<'
                        | b'>'
                        | b'('
                        | b')'
                        | b'{'
                        | b'}'
                        | b'['
                        | b']'
                        | b'\\'
                )
                || (url_param && c == b'#')
        };
        // A template mask inside a value is part of it (`sessionid=s%<*>.Xy`).
        let word_end = |from: usize| {
            let b = text.as_bytes();
            let mut i = from;
            while i < b.len() {
                if b[i..].starts_with(b"<*>") {
                    i += 3;
                } else if stop(b[i]) {
                    break;
                } else {
                    i += 1;
                }
            }
            i
        };
        let mut e = word_end(p);
        // A password takes any symbol (`Tr0ub4dor&3`, `pa(ss);x`): it runs to the
        // next whitespace or quote (see `password_end`). Not as a URL parameter,
        // where `&` starts the next one.
        let password = !url_param && ["pass", "pwd"].iter().any(|w| contains_ci(key, w));
        if password && !text[p..].starts_with(REDACTED) {
            e = password_end(text, p);
        }
        if whole_line {
            e = text.as_bytes()[p..]
                .iter()
                .position(|&c| matches!(c, b'\n' | b'\r' | b'"' | b'\'' | b'\\'))
                .map_or(text.len(), |i| p + i);
        } else if is_scheme(&text[p..e]) {
            // `token: Bearer abc` - the credential is the next word.
            let after = e + text[e..].len() - text[e..].trim_start_matches([' ', '\t']).len();
            if text[after..].starts_with(REDACTED) {
                // `Bearer [REDACTED]`: masked already (keeps redaction idempotent).
                return None;
            }
            if after > e {
                e = word_end(after);
            }
        }
        (p, e, false, whole_line)
    };
    let value = text[start..end].trim_end();
    let secret = strip_scheme(value);
    let skip = start + (value.len() - secret.len());
    // "Authorization: not provided": a header line is judged by its first word.
    let first_word = secret.split_whitespace().next().unwrap_or_default();
    let short = !quoted && secret.chars().count() < 4;
    if secret.is_empty()
        || short
        || is_stop(secret)
        || (whole_line && is_stop(first_word))
        || secret == REDACTED
    {
        return None;
    }
    Some((skip, start + value.len()))
}

/// End of an unquoted password value starting at `p`: the next whitespace, quote,
/// backtick or backslash, less a trailing `,` or `;` (`password=x, user=y`) and a
/// closing `)` `}` the value did not open (`(password=x)`). A trailing `.` or `!`
/// is masked with it: it may be the password's own.
fn password_end(text: &str, p: usize) -> usize {
    let b = text.as_bytes();
    let mut e = b[p..]
        .iter()
        .position(|&c| c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'`' | b'\\'))
        .map_or(b.len(), |i| p + i);
    loop {
        let v = &b[p..e];
        let unopened = |open: u8, close: u8| {
            v.last() == Some(&close)
                && v.iter().filter(|&&c| c == open).count()
                    < v.iter().filter(|&&c| c == close).count()
        };
        if e > p
            && (matches!(b[e - 1], b',' | b';') || unopened(b'(', b')') || unopened(b'{', b'}'))
        {
            e -= 1;
        } else {
            return e;
        }
    }
}

/// Index of the closing quote of a JSON string whose content starts at `s`.
fn json_string_end(text: &str, s: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = s;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            b'\n' => return None,
            _ => i += 1,
        }
    }
    None
}

/// An auth scheme word that precedes the credential.
fn is_scheme(w: &str) -> bool {
    ["bearer", "basic", "token", "digest", "negotiate"]
        .iter()
        .any(|s| w.eq_ignore_ascii_case(s))
}

/// `value` without a leading `Bearer `-like scheme word.
fn strip_scheme(value: &str) -> &str {
    match value.split_once([' ', '\t']) {
        Some((w, rest)) if is_scheme(w) && !rest.trim().is_empty() => rest.trim_start(),
        _ => value,
    }
}

fn is_stop(v: &str) -> bool {
    let v = v.trim().trim_end_matches(['.', '!', ':', ',']);
    in_list(v, STOP_WORDS)
}

fn in_list(w: &str, list: &[&str]) -> bool {
    list.iter().any(|s| w.eq_ignore_ascii_case(s))
}

fn contains_ci(s: &str, needle: &str) -> bool {
    s.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Splits a name into ASCII-alphanumeric parts at other characters and camelCase
/// humps ("APIKey" -> "API", "Key"); at most `out.len()` parts. Returns the count.
fn split_name<'a>(name: &'a str, out: &mut [&'a str]) -> usize {
    let b = name.as_bytes();
    let mut n = 0;
    let mut start: Option<usize> = None;
    for i in 0..=b.len() {
        let c = b.get(i).copied();
        let alnum = c.is_some_and(|c| c.is_ascii_alphanumeric());
        let hump = alnum
            && i > 0
            && start.is_some()
            && c.is_some_and(|c| c.is_ascii_uppercase())
            && (b[i - 1].is_ascii_lowercase()
                || (b[i - 1].is_ascii_uppercase()
                    && b.get(i + 1).is_some_and(u8::is_ascii_lowercase)));
        if let Some(s) = start {
            if !alnum || hump {
                if n < out.len() {
                    out[n] = &name[s..i];
                    n += 1;
                }
                start = None;
            }
        }
        if alnum && start.is_none() {
            start = Some(i);
        }
    }
    n
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PIECES: &[&str] = &[
        "password",
        "=",
        ":",
        " ",
        "\"",
        "'",
        "\\\"",
        "token",
        "Bearer ",
        "Basic ",
        "eyJ",
        "-----BEGIN PRIVATE KEY-----",
        "-----END PRIVATE KEY-----",
        "://",
        "@",
        "?",
        "&",
        "key",
        "AIza",
        "sk-",
        "xoxb-",
        "━",
        "🚀",
        "é",
        "\n",
        "[REDACTED]",
        "none",
        "abc123XYZ",
        // s26: key prefixes, template masks, random runs, URL passwords with `/`,
        // passwords with symbols, one-time codes.
        "hvs.",
        "hf_",
        "pypi-AgE",
        "npm_",
        "dop_v1_",
        "<*>",
        "/",
        "s3://",
        "password=",
        "otp=",
        "pin=",
        "Tr0ub4dor&3",
        "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oQQNtP4Yq",
        "users",
        "=",
    ];

    /// Contexts where any >= 4 character value must be masked.
    const CONTEXTS: &[&str] = &[
        "SERVICE_SECRET={}",
        "password: {} end",
        r#"{"api_key": "{}", "user_id": 7}"#,
        "postgresql://netra:{}@10.0.0.1:5432/db",
        "GET /x?a=1&token={}&b=2",
        "Authorization: Bearer {}",
        r#"{\"client_secret\": \"{}\"}"#,
        "headers={'X-Service-Secret': '{}'}",
        "jwt=eyJ{}.eyJ{}.{}",
        "export to s3://AKIAZ7QF3XK2M9PLW4RT:a/{}@bucket/key failed",
        "login failed with password: {}&x! end",
        "GET /verify?otp={}&pin=1234 403",
    ];

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::with_cases(512)
        })]

        #[test]
        fn never_panics_and_is_idempotent(pieces in prop::collection::vec(
            prop_oneof![prop::sample::select(PIECES).prop_map(str::to_string), ".{0,6}"],
            0..40,
        )) {
            let text = pieces.concat();
            let once = redact(&text).into_owned();
            prop_assert_eq!(redact(&once), once.as_str());
        }

        #[test]
        fn secret_in_context_never_survives(
            ctx in prop::sample::select(CONTEXTS),
            secret in "[A-Za-z0-9][A-Za-z0-9_\\-]{11,40}",
            before in "[a-z ]{0,12}",
        ) {
            let text = format!("{before} {}", ctx.replace("{}", &secret));
            let out = redact(&text);
            prop_assert!(!out.contains(&secret), "{} -> {}", text, out);
        }
    }

    /// Cases of `tests/fixtures/secrets.txt`: one or more `=== secret` lines, then
    /// the log text up to the next `===` line; `# ` lines are comments.
    fn corpus() -> Vec<(Vec<String>, String)> {
        let raw = include_str!("../../tests/fixtures/secrets.txt");
        let mut cases: Vec<(Vec<String>, String)> = Vec::new();
        let mut in_text = false;
        for line in raw.lines() {
            if line.starts_with("# ") || line == "#" || (!in_text && line.trim().is_empty()) {
                continue;
            }
            if let Some(secret) = line.strip_prefix("=== ") {
                if in_text || cases.is_empty() {
                    cases.push((Vec::new(), String::new()));
                    in_text = false;
                }
                cases.last_mut().unwrap().0.push(secret.to_string());
            } else if let Some(case) = cases.last_mut() {
                if in_text {
                    case.1.push('\n');
                }
                case.1.push_str(line);
                in_text = true;
            }
        }
        for c in &mut cases {
            c.1.truncate(c.1.trim_end().len());
        }
        cases
    }

    #[test]
    fn all_patterns_compile() {
        for re in [
            pem_re(),
            jwt_re(),
            conn_re(),
            shape_re(),
            scheme_re(),
            kv_re(),
            encoded_param_re(),
            prose_re(),
            cli_re(),
        ] {
            assert!(re.is_some());
        }
    }

    #[test]
    fn corpus_secrets_do_not_survive() {
        let cases = corpus();
        let secrets: usize = cases.iter().map(|c| c.0.len()).sum();
        assert!(secrets >= 25, "only {secrets} secrets in the corpus");
        for (secrets, text) in &cases {
            assert!(!text.is_empty());
            let out = redact(text);
            assert!(out.contains(REDACTED), "nothing masked in {text:?}");
            for secret in secrets {
                assert!(
                    text.contains(secret.as_str()),
                    "corpus: {secret:?} not in {text:?}"
                );
                let chars: Vec<char> = secret.chars().collect();
                for w in chars.windows(8.min(chars.len())) {
                    let w: String = w.iter().collect();
                    assert!(!out.contains(&w), "{w:?} of {secret:?} survives in {out:?}");
                }
            }
            // Idempotent: a report may be redacted twice.
            assert_eq!(redact(&out), out);
        }
    }

    /// Inputs the `redact` fuzz target (fuzz/fuzz_targets/redact.rs) found.
    #[test]
    fn found_by_fuzzing_is_idempotent() {
        // Masking `Authorization:` to the end of the text left a URL password at the
        // end, which the cut-short rule masked on a second pass.
        let text = "Error connecting to redis://default:r3d1sPAuthorization:Bra eer [REDACTED] config: a/mnretwsiavelanguage._access_gkey_iooEN2";
        let once = redact(text).into_owned();
        assert_eq!(redact(&once), once, "{text:?}");
        assert!(!once.contains("Bra eer"), "{once}");
    }

    #[test]
    fn keeps_helpful_prefixes() {
        let cases = [
            (
                "Authorization: Bearer abc123DEF456ghi789",
                "Authorization: Bearer [REDACTED]",
            ),
            ("SERVICE_SECRET=9f8e7d6c5b4a", "SERVICE_SECRET=[REDACTED]"),
            (
                "DATABASE_URL=postgresql://netra:pw-1234@10.0.0.5:5432/netra",
                "DATABASE_URL=postgresql://netra:[REDACTED]@10.0.0.5:5432/netra",
            ),
            (
                r#"{"authorization": "Bearer abc.def.ghi123"}"#,
                r#"{"authorization": "Bearer [REDACTED]"}"#,
            ),
            (
                "X-Service-Secret: s3cr3t-v4lue",
                "X-Service-Secret: [REDACTED]",
            ),
            (
                "GET /cb?code=4/0AX4XfWh&state=xyz",
                "GET /cb?code=[REDACTED]&state=xyz",
            ),
            ("{'password': 'abc'}", "{'password': '[REDACTED]'}"),
            ("token: Bearer abcdef123", "token: Bearer [REDACTED]"),
            ("api_key=abcd1234, user=bob", "api_key=[REDACTED], user=bob"),
            (
                "postgresql://svc:Xk2!mP9#qR4?vL7@zT5@db:5432/app",
                "postgresql://svc:[REDACTED]@db:5432/app",
            ),
            // Cut short: the tail of a text ends inside a secret.
            (
                "connection failed: postgresql://app:Pg-Cut-Pa5",
                "connection failed: postgresql://app:[REDACTED]",
            ),
            ("charge with sk_live_51Cut", "charge with [REDACTED]"),
            ("key sk_live_<*> rejected", "key [REDACTED] rejected"),
            (
                "POST /api/v1/reset/Qz7nFM3dDaQiFCY5qLPrG9uL/confirm 403",
                "POST /api/v1/reset/[REDACTED]/confirm 403",
            ),
            (
                "https://8e7d6c5b4a3f2a1b9c8d7e6f5a4b3c2d@o123456.ingest.sentry.io/789",
                "https://[REDACTED]@o123456.ingest.sentry.io/789",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "input: {input:?}");
        }
    }

    /// Shapes found by review (s25), as they come in messages and in templates.
    #[test]
    fn review_s25_shapes() {
        let cases = [
            (
                "PHPSESSID=k4j5h6g7f8d9s0a1q2w3e4r5t6",
                "PHPSESSID=[REDACTED]",
            ),
            (
                "JSESSIONID=7F3A9C1B2D4E; Path=/",
                "JSESSIONID=[REDACTED]; Path=/",
            ),
            (
                "connect.sid=s%3AAbC123xYz789.Zx9 rejected",
                "connect.sid=[REDACTED] rejected",
            ),
            (
                "Django sessionid=q8w7e6r5t4y3",
                "Django sessionid=[REDACTED]",
            ),
            (
                "sessid=Lm3Nq8Rt sid=Pz4Kw9Hd",
                "sessid=[REDACTED] sid=[REDACTED]",
            ),
            // A template: the mask is part of the value.
            (
                "Invalid session cookie sessionid=s%<*>.Xy",
                "Invalid session cookie sessionid=[REDACTED]",
            ),
            // A random session_id is a credential; a short correlation id is not.
            (
                "session_id=8f14e45fceea167a5a36dedd4bea2543 rejected",
                "session_id=[REDACTED] rejected",
            ),
            (
                "client auth_token 9b4c8a7d6e5f4a3b2c1d0e9f8a7b6c5d",
                "client auth_token [REDACTED]",
            ),
            (
                "DD_API_KEY 0123456789abcdef0123456789abcdef",
                "DD_API_KEY [REDACTED]",
            ),
            ("api_key abcdef1234567890XYZ", "api_key [REDACTED]"),
            ("password hunter2", "password [REDACTED]"),
            (
                "login: --password Hunter2x -h db",
                "login: --password [REDACTED] -h db",
            ),
            (
                "passphrase correct-horse-<*> bad",
                "passphrase [REDACTED] bad",
            ),
            (
                "key 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 sent",
                "key [REDACTED] sent",
            ),
            (
                "key SG.<*>.TwL2iGABf9DHoTf-<*> rejected",
                "key [REDACTED] rejected",
            ),
            ("cut at SG.ngeVfQFYQlKU0ufo8x5d", "cut at [REDACTED]"),
            (
                "clone with glpat-Xy12Ab34Cd56Ef78Gh90",
                "clone with [REDACTED]",
            ),
            ("clone with glpat-<*>", "clone with [REDACTED]"),
            (
                "exec: mysql -u root -pHunter2Pass99 mydb",
                "exec: mysql -u root -p[REDACTED] mydb",
            ),
            (
                "body api_key%3Dabcdef1234567890XYZ",
                "body api_key%3D[REDACTED]",
            ),
            ("token%3DWq8Rt5Yu2Io9Pa3S end", "token%3D[REDACTED] end"),
            // Already covered, checked again beside the new passes.
            (
                "Authorization: Basic dXNlcjpwYXNz",
                "Authorization: Basic [REDACTED]",
            ),
            (
                "Bearer: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
                "Bearer: [REDACTED]",
            ),
            (
                "postgres://app:Pg-Pa55@db:5432/x",
                "postgres://app:[REDACTED]@db:5432/x",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "input: {input:?}");
            assert_eq!(redact(want), want, "not idempotent: {want:?}");
        }
    }

    /// Shapes found by review (s26): keys by prefix, random runs, passwords with
    /// symbols, one-time codes; as messages, templates and examples cut short.
    #[test]
    fn review_s26_shapes() {
        let hex64 = "0123456789abcdef".repeat(4);
        let dop = format!("DigitalOcean dop_v1_{hex64} rejected");
        let cases: Vec<(&str, &str)> = vec![
            (
                "vault login ok hvs.CAESIJk3Lm9PqRsTuVwXyZ0123456789abcdefAbCdEf",
                "vault login ok [REDACTED]",
            ),
            ("vault login ok hvs.<*>", "vault login ok [REDACTED]"),
            ("batch hvb.AAAAAQJk3Lm9PqRsTuVwXyZ01234 ok", "batch [REDACTED] ok"),
            ("cut at hvs.CAESIJk3Lm9", "cut at [REDACTED]"),
            (
                "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345678 rejected by hub",
                "[REDACTED] rejected by hub",
            ),
            ("hf_<*> rejected by hub", "[REDACTED] rejected by hub"),
            (
                "shopify shpat_0123456789abcdef0123456789abcdef denied",
                "shopify [REDACTED] denied",
            ),
            (
                "webhook 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 bad",
                "webhook [REDACTED] bad",
            ),
            ("shopify shpat_<*> denied", "shopify [REDACTED] denied"),
            (
                "pypi upload failed with pypi-AgEIcHlwaS5vcmcCJGFiY2RlZjAxLTIzNDUtNjc4OS1hYmNkLWVmMDEyMzQ1Njc4OQ",
                "pypi upload failed with [REDACTED]",
            ),
            ("pypi upload failed with pypi-<*>", "pypi upload failed with [REDACTED]"),
            (&dop, "DigitalOcean [REDACTED] rejected"),
            ("DigitalOcean dop_v1_<*> rejected", "DigitalOcean [REDACTED] rejected"),
            (
                "npm token used: npm_Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz",
                "npm token used: [REDACTED]",
            ),
            ("publish with npm_<*> failed", "publish with [REDACTED] failed"),
            (
                "Stripe rk_prod_51HcXyZAbCdEfGhIjKlMnOpQr failed",
                "Stripe [REDACTED] failed",
            ),
            ("Stripe rk_prod_<*> failed", "Stripe [REDACTED] failed"),
            (
                "databricks dapi0123456789abcdef0123456789abcdef-2 denied",
                "databricks [REDACTED] denied",
            ),
            // A PEM body line logged as its own entry (Cloud Run: one per stderr line).
            (
                "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oQQNtP4Yq3sXoAoGCCqGSM49AwEHoUQDQgAE",
                "[REDACTED]",
            ),
            (
                "  6K2b7Yq+Lm9Nx0Pz/Wq8Rt5Yu2Io9Pa3SdFgHj4Kl7Zx1Cv6Bn0Mq3Wd8Fe2Rg5Th9Jy4U=",
                "  [REDACTED]",
            ),
            // Keys without a known prefix, `/` inside, next to path words.
            (
                "signing with wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Lm3Np0Q failed",
                "signing with [REDACTED] failed",
            ),
            (
                "token Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LmNb rejected",
                "token [REDACTED] rejected",
            ),
            // A word prefix stays (`sess_`), the random rest goes.
            (
                "resume sess_Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LmNb failed",
                "resume sess_[REDACTED] failed",
            ),
            (
                "GET /hooks/Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LmNb8Vc/sendMessage 500",
                "GET /hooks/[REDACTED]/sendMessage 500",
            ),
            (
                "POST https://discord.com/api/webhooks/123456789012345678/Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3Ab4 failed",
                "POST https://discord.com/api/webhooks/123456789012345678/[REDACTED] failed",
            ),
            // URL passwords run to the last `@` of the token, `/` included.
            (
                "export failed s3://AKIAZ7QF3XK2M9PLW4RT:wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Lm3Np0Q@bucket/key",
                "export failed s3://[REDACTED]:[REDACTED]@bucket/key",
            ),
            (
                "fetch failed https://user:pa/ss9Word@host.example.com/x",
                "fetch failed https://user:[REDACTED]@host.example.com/x",
            ),
            (
                "fetch failed https://user:p@ss/w0rd@host/x",
                "fetch failed https://user:[REDACTED]@host/x",
            ),
            (
                "export failed s3://<*>:wJalrXUtnFEMI/K7MDENG/<*>@bucket/key",
                "export failed s3://<*>:[REDACTED]@bucket/key",
            ),
            // A password after `password:` / `password=` runs to the whitespace.
            (
                "login failed for user bob with password: Tr0ub4dor&3",
                "login failed for user bob with password: [REDACTED]",
            ),
            (
                "login failed with password=Tr0ub4dor&3, user=bob",
                "login failed with password=[REDACTED], user=bob",
            ),
            ("(db_password=pa(ss)x;9) done", "(db_password=[REDACTED]) done"),
            ("passwd: p@ss;w0rd! retry", "passwd: [REDACTED] retry"),
            ("password=Spr1ng!. Retrying", "password=[REDACTED] Retrying"),
            (
                "login with password: Tr0ub4dor&<*>",
                "login with password: [REDACTED]",
            ),
            // ... but not as a URL parameter, where `&` starts the next one.
            (
                "jdbc:mysql://db:3306/app?user=root&password=MyJdbcPw1234&ssl=true failed",
                "jdbc:mysql://db:3306/app?user=root&password=[REDACTED]&ssl=true failed",
            ),
            // One-time codes and PINs.
            (
                "GET /verify?otp=493817&pin=8842&user=7 403",
                "GET /verify?otp=[REDACTED]&pin=[REDACTED]&user=7 403",
            ),
            (
                "POST /mfa?passcode=551234&totp=918273 401",
                "POST /mfa?passcode=[REDACTED]&totp=[REDACTED] 401",
            ),
            ("otp: 493817 rejected", "otp: [REDACTED] rejected"),
            // The last, short line of a PEM body, alone.
            ("AwEHoUQDQgAEx1y2Z3w4PqRs==", "[REDACTED]"),
            ("GET /cb?code=4/0AX4XfWh&state=xyz", "GET /cb?code=[REDACTED]&state=xyz"),
            // A template's port is not a password.
            (
                "jdbc:mysql://db:<*>/app?user=root&password=[REDACTED] could not connect",
                "jdbc:mysql://db:<*>/app?user=root&password=[REDACTED] could not connect",
            ),
            (
                "connect postgresql://svc:pa#<*> failed",
                "connect postgresql://svc:[REDACTED] failed",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "input: {input:?}");
            assert_eq!(redact(want), want, "not idempotent: {want:?}");
        }
    }

    /// Near misses of the s26 rules: ids a report cites as evidence stay.
    #[test]
    fn review_s26_near_misses() {
        for s in [
            "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
            "projects/acme-prod/traces/4bf92f3577b34da6a3ce929d0e0e4736",
            "insertId 65f1c4a2000d8e3b1b6f9a2c",
            "revision payments-api-00007-kqz failed",
            "request 3f2a9c1b-7e4d-4f6a-8b9c-0d1e2f3a4b5c by user 8f14e45f-ceea-467a-9a36-dedd4bea2543",
            "GET https://api.example.com:8443/users/@me 200",
            "GET https://medium.com/@user/post-1234 200",
            "jdbc:postgresql://db:5432/app?sslmode=require failed",
            "jdbc:mysql://db:<*>/app could not connect",
            "twilio AccountSid=AC3b2f9c8d7e6a5b4c3d2e1f0a9b8c7d6e sent",
            "AbstractSingletonProxyFactoryBean2 getUserAccountById2WithRetryAndBackoff",
            "HTTP2ServerStreamResetByPeerErrorCodeINTERNAL_ERROR2",
            "Firebase uid a1B2c3D4e5F6g7H8i9J0k1L2m3N4 signed in",
            "instance 00f46b9285a91ab4c1ee6d9e1ea7b8a2b1b0b3c5d5e6f7a8b9c0d1e2f3a4b5c6 started",
            "image sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "/usr/local/lib/python3.11/site-packages/google/cloud/spanner_admin_v1/SpannerAdminClient.py",
            "huggingface hf_hub_download failed; npm_config_cache unset; see npm_config",
            "pypi-simple index unreachable",
            "password authentication failed for user app",
            "password: None",
            "ping 10.0.0.1 failed; mapping=users pinned=true",
            "otp_enabled=true otp sent to user 42",
            "GET /search?q=vault+hvs.+tokens&page=2 200",
            "https://api.example.com/v1/users?email=a@b.com 404",
            "MyLongClassName2",
            "HTTP2ServerError500X",
            "payments-api-00007-kqz",
            "user user_2NNEqL2nrIRdJ194ndJqAHwEfxC signed in",
            "customer cus_NffrFeUfNV2Hib charge ch_3MqLiJLkdIwHu7ix0snN0B15 failed",
        ] {
            assert_eq!(redact(s), s, "over-masked");
            assert!(matches!(redact(s), Cow::Borrowed(_)));
        }
    }

    #[test]
    fn random_runs() {
        assert!(looks_random(
            "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oQQNtP4Yq3sXoAoGCCqGSM49AwEHoUQDQgAE"
        ));
        assert!(looks_random("Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LmNb"));
        for id in [
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "AC0123456789abcdef0123456789abcdef",
            "a1B2c3D4e5F6g7H8i9J0k1L2m3N4",
            "ConnectionResetError104PeerResetByRemoteHost",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd",
        ] {
            assert!(!looks_random(id), "{id}");
        }
        // Random 40-character base64 runs are masked (a run without a digit or with
        // too few switches may stay: the rule's price for keeping identifiers).
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut masked = 0;
        for _ in 0..200 {
            let run: String = (0..40)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    char::from(alphabet[(x >> 40) as usize % 64])
                })
                .collect();
            let text = format!("key {run} rejected");
            let out = redact(&text);
            if !out.contains(run.as_str()) {
                masked += 1;
            }
            assert_eq!(redact(&out), out, "not idempotent: {text:?}");
        }
        assert!(masked >= 190, "only {masked} of 200 random runs masked");
    }

    #[test]
    fn benign_text_is_unchanged() {
        let benign = [
            "Invalid token or user not found",
            "JWT_SECRET_KEY not configured - authentication validation will fail",
            "SERVICE_SECRET not configured",
            "Missing JWT validation functions: ['create_access_token', 'verify_token']",
            "user_id='service:netra-backend'",
            "token_type=access",
            "SERVICE_SECRET configured: True",
            "Loaded JWT_SECRET_KEY from environment",
            "Loaded FERNET_KEY from environment",
            "AuthServiceClient initialized - Service ID: netra-backend, Service Secret=REDACTED True",
            "Service authentication failed: missing X-Service-ID or X-Service-Secret header",
            "SYSTEM_USER_AUTH_FAILURE: The 'system' user failed authentication!",
            "auth_failure_stage=token_validation user_id=system user_type=service is_service_call=true operation=get_user message=denied",
            "Database URL (staging/Cloud SQL): postgresql+asyncpg://***@/netra_staging?host=/cloudsql/netra-staging:us-central1:staging-shared-postgres",
            "Error verifying token: Signature has expired",
            "token: expired",
            "password: None",
            "api_key: missing",
            "token=null",
            r#"{"password": "", "token": null, "api_key": "<empty>"}"#,
            "Basic authentication required",
            "Bearer token missing from request",
            "Authorization header missing",
            "authorization: none",
            "max_tokens=4096 tokens_used=1234 token_count=17 total_tokens: 5000",
            "Circuit breaker 'auth_service' initialized: threshold=3",
            "Cache key: user:123:profile",
            "The surveyJsonConfig loaded for keyJoin",
            "GET /api/auth/session?redirect=/dashboard 302",
            "Token expired at 2024-01-15T12:00:00Z",
            "Secret Manager: secret 'jwt-secret-staging' version 3 accessed",
            r#""token_uri": "https://oauth2.googleapis.com/token", "private_key_id": "abc123def456""#,
            "TokenError::Expired while refreshing",
            "https://oauth2.googleapis.com/token returned 400",
            "task-queue-worker started; disk-usage 93%",
            "X-Service-ID: netra-backend",
            "The 'system' user password_reset_required: yes",
            "",
            "plain text with unicode ━━ 🚀 and no secrets",
            "GET https://api.staging.netrasystems.ai/api/agent/status/run_006f0570ec3f -> 403",
            "PUT /api/threads/thread_ba3966c3c83c/messages 403",
            "POST https://generativelanguage.googleapis.com/v1beta/models/gemini-pro:generateContent",
            "File \"/usr/local/lib/python3.11/site-packages/app/main.py\", line 12",
            "listening on http://localhost:8080",
            "GET /api/threads/thread_<*>/messages",
            "run.googleapis.com/requests/2025/09/15/17:00:00_17:59:59_S0.json",
            "projects/netra-staging/logs/run.googleapis.com%2Frequests",
            "password reset requested for user 42",
            "refresh token expired, asking the user to sign in again",
            "Invalid API key provided: check the key in Secret Manager",
            "secret projects/123/secrets/jwt-secret-staging/versions/3 not found",
            "session_id=sess_49d058bae632 created",
            "GET /login?next=%2Fdashboard%3Ftab%3Dbilling 302",
            "inside the sidecar: 3 sessions open",
            // Near misses of the s25 shapes.
            "password authentication failed for user \"app\"",
            "FATAL: password authentication failed for user app",
            "password ValidationError raised twice",
            "password_min_length 12 enforced",
            "token_type bearer expected",
            "session expired, please sign in again",
            "session_timeout=3600s",
            "the sidebar is inside a consid=ered layout",
            "twilio AccountSid=AC0123456789abcdef0123456789abcdef sent",
            "deploy of commit 3f2a9c1b7e4d5f6a8b9c0d1e2f3a4b5c6d7e8f90 finished",
            "docker run -p 8080:80 app; ssh -p2222 host; docker run -p127.0.0.1:80:80 x",
            "cc -pthread -pedantic main.c && go test -parallel=4 ./...",
            "SG. region latency high; msg.send failed",
            "GitLab pipeline glpat- prefix check skipped",
        ];
        for s in benign {
            assert_eq!(redact(s), s, "over-masked");
            assert!(matches!(redact(s), Cow::Borrowed(_)));
        }
    }

    #[test]
    fn secret_names() {
        for n in [
            "password",
            "PASSWORD",
            "db_pass",
            "user_pwd",
            "jwt_secret_key",
            "JWT_SECRET_KEY",
            "X-Service-Secret",
            "access_token",
            "accessToken",
            "refresh_token",
            "id_token",
            "authorization",
            "Proxy-Authorization",
            "api_key",
            "apikey",
            "x-api-key",
            "APIKey",
            "private_key",
            "privateKey",
            "credential",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "PHPSESSID",
            "JSESSIONID",
            "connect.sid",
            "sessionid",
            "sid",
            "cookie",
            "Set-Cookie",
            "session_key",
            "client_secret",
            "clientSecret",
            "csrftoken",
            "FERNET_KEY",
            "SECRET_KEY",
            "aws_secret_access_key",
            "X-Goog-Signature",
            "X-Amz-Security-Token",
            "SENTRY_DSN",
            "secret_manager_project",
        ] {
            assert!(is_secret_name(n), "{n} should be secret");
        }
        for n in [
            "auth_failure_stage",
            "user_id",
            "user_type",
            "is_service_call",
            "operation",
            "message",
            "token_type",
            "tokens_used",
            "max_tokens",
            "token_uri",
            "private_key_id",
            "password_min_length",
            "token_expires_at",
            "has_password",
            "secretKeyRef",
            "authorizationInfo",
            "x_service_secret_present",
            "key",
            "cache_key",
            "passthrough",
            "bypass",
            "secretary",
            "AccountSid",
            "inside",
            "session_id",
            "",
            "━━",
        ] {
            assert!(!is_secret_name(n), "{n} should not be secret");
        }
    }

    #[test]
    fn fields() {
        assert_eq!(redact_field("password", "hunter2"), "[REDACTED]");
        assert_eq!(
            redact_field("authorization", "Bearer abc"),
            "Bearer [REDACTED]"
        );
        assert_eq!(redact_field("Authorization", "Basic"), "Basic");
        assert_eq!(redact_field("X-Service-Secret", "s3cr3t"), "[REDACTED]");
        assert_eq!(redact_field("api_key", ""), "");
        assert_eq!(redact_field("api_key", "None"), "None");
        assert_eq!(
            redact_field("user_id", "service:netra-backend"),
            "service:netra-backend"
        );
        assert_eq!(
            redact_field("message", "login with password=hunter22"),
            "login with password=[REDACTED]"
        );
        assert!(matches!(redact_field("user_id", "42"), Cow::Borrowed(_)));
    }

    #[test]
    fn unicode_and_odd_input() {
        for s in [
            "password=é",
            "password=ééééé",
            "token: ━━━━━━",
            "\"password\": \"unterminated",
            "\\\"secret\\\": \\\"x",
            "-----BEGIN PRIVATE KEY-----",
            "eyJ",
            "Bearer ",
            "key=",
            "?key=",
            "postgres://:@",
            "xoxb-",
        ] {
            let out = redact(s);
            assert!(out.is_char_boundary(out.len()));
        }
        assert_eq!(redact("password=ééééé 🚀"), "password=[REDACTED] 🚀");
        assert_eq!(
            redact("\"password\": \"unterminated"),
            "\"password\": \"[REDACTED]"
        );
    }
}
