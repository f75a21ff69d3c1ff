//! The prefilter's exact leaves, decided on the raw JSON value where that is certain.
//!
//! `jsonPayload.user_type equals "regular"` is checked on most entries (most carry
//! the key). Through [`Leaf::eval`] that is a field lookup, a [`Value`] built from the
//! raw text (a scan for escapes), and the generic comparison: about 100 instructions.
//! Here a top-level string or boolean leaf compares the raw value's bytes with the
//! wanted JSON text once; anything it cannot decide (escapes, numbers, nested
//! paths, other operators) goes to [`Leaf::eval`], so results are the same.
//!
//! [`Value`]: crate::entry::Value

use super::cond::{Leaf, Op, Scalar};
use crate::entry::{short_eq, Entry, Field};

/// What the raw value must be.
#[derive(Debug)]
enum Want {
    /// A JSON string holding exactly this text, quotes included (no escapes needed).
    Str { quoted: Box<[u8]>, ci: bool },
    /// `true` or `false`.
    Bool(bool),
}

/// A prefilter leaf with its raw fast path, when it has one.
#[derive(Debug)]
pub(crate) struct ExactLeaf {
    leaf: Leaf,
    fast: Option<(String, Want)>,
}

impl ExactLeaf {
    /// Wraps `leaf`, with a fast path for `equals` a string or boolean on a top-level
    /// jsonPayload key.
    pub fn new(leaf: Leaf) -> ExactLeaf {
        let fast = match (&leaf.field, leaf.ops.as_slice()) {
            (Field::Json(path), [Op::Equals(s)]) if path.len() == 1 => {
                let want = match s {
                    // Text that JSON writes as is: no quote, backslash or control byte.
                    Scalar::Str(t) if t.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') => {
                        Some(Want::Str {
                            quoted: format!("\"{t}\"").into_bytes().into(),
                            ci: leaf.ci,
                        })
                    }
                    Scalar::Bool(b) => Some(Want::Bool(*b)),
                    _ => None,
                };
                want.map(|w| (path[0].clone(), w))
            }
            _ => None,
        };
        ExactLeaf { leaf, fast }
    }

    /// True when the leaf holds on `e`: same answer as [`Leaf::eval`]. The caller has
    /// tested the key's bit in the payload's key filter.
    pub fn holds(&self, e: &Entry<'_>) -> bool {
        match &self.fast {
            Some((key, want)) => {
                match e.json_payload.as_ref().and_then(|o| o.raw_unfiltered(key)) {
                    None => false,
                    Some(raw) => decide(raw.as_bytes(), want).unwrap_or_else(|| self.leaf.eval(e)),
                }
            }
            None => self.leaf.eval(e),
        }
    }
}

/// The answer from the raw value alone, or `None` when only the generic path can tell.
fn decide(raw: &[u8], want: &Want) -> Option<bool> {
    if raw == b"null" {
        return Some(false);
    }
    match want {
        Want::Str { quoted, ci } => {
            if raw.first() != Some(&b'"') {
                // Numbers and booleans compare by value there.
                return None;
            }
            let same = if *ci {
                raw.eq_ignore_ascii_case(quoted)
            } else {
                short_eq(raw, quoted)
            };
            // Unescaped (and a whole string token), a string's raw text is its value: a
            // difference is final.
            let plain = raw.len() >= 2 && raw.last() == Some(&b'"') && !raw.contains(&b'\\');
            (same || plain).then_some(same)
        }
        Want::Bool(b) => match raw {
            b"true" => Some(*b),
            b"false" => Some(!*b),
            // Strings such as "False" compare as booleans there.
            _ => None,
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn leaf(field: &str, op: Op, ci: bool) -> Leaf {
        Leaf {
            field: Field::parse(field).unwrap(),
            ops: vec![op],
            ci,
        }
    }

    /// Every answer of the fast path equals the generic one, over values that take
    /// each branch.
    #[test]
    fn agrees_with_the_generic_check() {
        let values = [
            r#""regular""#,
            r#""Regular""#,
            r#""regular ""#,
            r#""regul\u0061r""#,
            r#""regular\n""#,
            r#""""#,
            "null",
            "true",
            "false",
            r#""false""#,
            r#""FALSE""#,
            "0",
            "403",
            r#""403""#,
            r#"{"a":1}"#,
            "[1]",
        ];
        let user_type =
            |want: Scalar, ci: bool| leaf("jsonPayload.user_type", Op::Equals(want), ci);
        let leaves = [
            user_type(Scalar::Str("regular".into()), false),
            user_type(Scalar::Str("regular".into()), true),
            user_type(Scalar::Str("403".into()), false),
            user_type(Scalar::Bool(false), false),
            user_type(Scalar::Bool(true), false),
        ];
        for l in leaves {
            let x = ExactLeaf::new(l.clone());
            assert!(x.fast.is_some(), "{l:?} has a fast path");
            for v in values {
                for record in [
                    format!(r#"{{"jsonPayload":{{"user_type":{v}}}}}"#),
                    format!(r#"{{"jsonPayload":{{"user_type":"x","user_type":{v}}}}}"#),
                    // Pretty-printed, as in gcloud's arrays.
                    format!(
                        "{{\n  \"jsonPayload\": {{\n    \"user_type\" :  {v} ,\n    \"n\": 1\n  }}\n}}"
                    ),
                ] {
                    let e = Entry::parse(&record).unwrap();
                    assert_eq!(x.holds(&e), l.eval(&e), "{l:?} on {record}");
                }
            }
            for record in [
                r#"{"jsonPayload":{"other":1}}"#,
                r#"{"textPayload":"regular"}"#,
            ] {
                let e = Entry::parse(record).unwrap();
                assert!(!x.holds(&e) && !l.eval(&e));
            }
        }
    }

    #[test]
    fn other_leaves_take_the_generic_path() {
        for l in [
            leaf(
                "jsonPayload.a.b",
                Op::Equals(Scalar::Str("x".into())),
                false,
            ),
            leaf(
                "jsonPayload.a",
                Op::Equals(Scalar::Str("say \"hi\"".into())),
                false,
            ),
            leaf("jsonPayload.a", Op::Equals(Scalar::Num(3.0)), false),
            leaf(
                "jsonPayload.a",
                Op::StartsWith(vec!["service:".into()]),
                false,
            ),
            leaf("labels.a", Op::Equals(Scalar::Str("x".into())), false),
        ] {
            assert!(ExactLeaf::new(l).fast.is_none());
        }
    }
}
