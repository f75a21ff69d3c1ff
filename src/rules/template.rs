//! Explanation templates: `{name}` placeholders filled from captures and built-ins.
//!
//! `{{` and `}}` write a literal brace; a `{` not followed by a name and `}` is kept as
//! text, so shell snippets and JSON in commands need no escaping unless they look like
//! `{word}`. Rendering never fails: a placeholder without a value shows as `<name>`.

/// Placeholders every template may use; `analyze` supplies their values.
pub const BUILTINS: &[&str] = &[
    "service",
    "region",
    "project",
    "revision",
    "last_good",
    "first_bad",
    "count",
    "first_seen",
    "last_seen",
];

/// True when `name` is one of [`BUILTINS`].
pub fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name)
}

/// One piece of a parsed template.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Splits a template into text and placeholders, in order.
fn pieces(t: &str) -> Vec<Piece<'_>> {
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut text_start = 0;
    while i < b.len() {
        match b[i] {
            b'{' | b'}' if b.get(i + 1) == Some(&b[i]) => {
                // `{{` / `}}`: emit text up to and including one brace, skip the other.
                out.push(Piece::Text(&t[text_start..=i]));
                i += 2;
                text_start = i;
            }
            b'{' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && is_name_byte(b[j]) {
                    j += 1;
                }
                if j > start && b.get(j) == Some(&b'}') {
                    if text_start < i {
                        out.push(Piece::Text(&t[text_start..i]));
                    }
                    out.push(Piece::Var(&t[start..j]));
                    i = j + 1;
                    text_start = i;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    if text_start < b.len() {
        out.push(Piece::Text(&t[text_start..]));
    }
    out
}

/// Fills `{name}` placeholders; a name `vars` does not know renders as `<name>`.
///
/// ```
/// use logtriage::rules::render;
/// let s = render("{count} x 403 for {user_id}", &|n: &str| (n == "count").then(|| "7".to_string()));
/// assert_eq!(s, "7 x 403 for <user_id>");
/// ```
pub fn render(template: &str, vars: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    for p in pieces(template) {
        match p {
            Piece::Text(s) => out.push_str(s),
            Piece::Var(n) => match vars(n) {
                Some(v) => out.push_str(&v),
                None => {
                    out.push('<');
                    out.push_str(n);
                    out.push('>');
                }
            },
        }
    }
    out
}

/// The distinct placeholder names of a template, in order of first use.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in pieces(template) {
        if let Piece::Var(n) = p {
            if !out.iter().any(|o| o == n) {
                out.push(n.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn vars(n: &str) -> Option<String> {
        match n {
            "service" => Some("api".into()),
            "count" => Some("12".into()),
            _ => None,
        }
    }

    #[test]
    fn renders_known_and_marks_unknown() {
        let t = "{count} errors on {service} for {user_id}";
        assert_eq!(render(t, &vars), "12 errors on api for <user_id>");
        assert_eq!(placeholders(t), ["count", "service", "user_id"]);
    }

    #[test]
    fn braces_that_are_not_placeholders_stay() {
        let t = r#"echo '{"a": 1}' {{service}} { x } {} {service"#;
        assert_eq!(
            render(t, &vars),
            r#"echo '{"a": 1}' {service} { x } {} {service"#
        );
        assert!(placeholders(t).is_empty());
        assert_eq!(render("}}{{", &vars), "}{");
        assert_eq!(render("", &vars), "");
        assert_eq!(render("é{service}é", &vars), "éapié");
    }

    #[test]
    fn gcloud_commands_keep_their_syntax() {
        let t = "gcloud run services describe {service} --region={region} \
                 --format='yaml(spec.template.spec.containers[0].env)'";
        assert_eq!(placeholders(t), ["service", "region"]);
        assert!(render(t, &vars).ends_with("containers[0].env)'"));
        assert!(BUILTINS.iter().all(|b| is_builtin(b)));
    }
}
