//! Serde mirror of a rule file, no logic: what TOML accepts, with spans kept so
//! `compile.rs` can name the line of anything it refuses.
//!
//! Values whose type depends on the operator (`equals = 403`, `contains = ["a", "b"]`)
//! are kept as `toml::Value` and checked in `compile.rs`, which gives clearer messages
//! than serde's "did not match any variant".

use serde::Deserialize;
use toml::{Spanned, Value};

/// One `*.toml` rule file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// Pack name; the file stem when absent.
    #[serde(default)]
    pub pack: Option<String>,
    /// `[[rule]]` tables.
    #[serde(default)]
    pub rule: Vec<Spanned<RuleSpec>>,
}

/// One `[[rule]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: Spanned<String>,
    pub title: Spanned<String>,
    pub severity: Spanned<String>,
    #[serde(default)]
    pub kind: Option<Spanned<String>>,
    pub description: Spanned<String>,
    pub when: Spanned<CondSpec>,
    /// Each a field name, or `{ field = "...", as = "alias", pattern = '...' }`.
    #[serde(default)]
    pub captures: Vec<Spanned<Value>>,
    #[serde(default)]
    pub min_count: Option<Spanned<i64>>,
    #[serde(default)]
    pub window: Option<Spanned<String>>,
    #[serde(default)]
    pub continuous_buckets: Option<Spanned<i64>>,
    /// Share of the service's requests, 0 < x <= 1 (0.05 = 5%).
    #[serde(default)]
    pub min_share: Option<Spanned<f64>>,
    pub why: Spanned<String>,
    pub because: Spanned<String>,
    #[serde(default)]
    pub explained_by: Vec<Spanned<String>>,
    #[serde(default)]
    pub explains: Vec<Spanned<String>>,
    #[serde(default, alias = "unknown_cause")]
    pub check_next: Option<Spanned<String>>,
    #[serde(default)]
    pub actions: Vec<Spanned<ActionSpec>>,
    /// A Cloud Logging filter written by hand; derived from `when` when absent.
    #[serde(default)]
    pub filter: Option<Spanned<String>>,
    #[serde(default)]
    pub examples: Option<ExamplesSpec>,
}

/// `actions = [{ title = "...", command = "..." }]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    pub title: Spanned<String>,
    #[serde(default)]
    pub command: Option<Spanned<String>>,
}

/// `[rule.examples]`: LogEntry JSON that must and must not match `when`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExamplesSpec {
    /// Each a JSON string, or `{ note = "...", entry = '''{...}''' }`.
    #[serde(default, rename = "match")]
    pub matches: Vec<Spanned<Value>>,
    #[serde(default)]
    pub no_match: Vec<Spanned<Value>>,
}

/// A condition: one of `all` / `any` / `not`, or `field` with one or more operators
/// (all of which must hold).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CondSpec {
    #[serde(default)]
    pub all: Option<Spanned<Vec<Spanned<CondSpec>>>>,
    #[serde(default)]
    pub any: Option<Spanned<Vec<Spanned<CondSpec>>>>,
    #[serde(default)]
    pub not: Option<Box<Spanned<CondSpec>>>,
    #[serde(default)]
    pub field: Option<Spanned<String>>,
    #[serde(default)]
    pub equals: Option<Spanned<Value>>,
    #[serde(default)]
    pub one_of: Option<Spanned<Value>>,
    #[serde(default)]
    pub contains: Option<Spanned<Value>>,
    #[serde(default)]
    pub starts_with: Option<Spanned<Value>>,
    #[serde(default)]
    pub ends_with: Option<Spanned<Value>>,
    #[serde(default)]
    pub regex: Option<Spanned<Value>>,
    #[serde(default)]
    pub exists: Option<Spanned<Value>>,
    #[serde(default)]
    pub missing: Option<Spanned<Value>>,
    #[serde(default)]
    pub gt: Option<Spanned<Value>>,
    #[serde(default)]
    pub gte: Option<Spanned<Value>>,
    #[serde(default)]
    pub lt: Option<Spanned<Value>>,
    #[serde(default)]
    pub lte: Option<Spanned<Value>>,
    #[serde(default, alias = "ignore_case")]
    pub case_insensitive: Option<Spanned<bool>>,
}

impl CondSpec {
    /// The operators present, by name, in a fixed order.
    pub fn ops(&self) -> Vec<(&'static str, &Spanned<Value>)> {
        let all = [
            ("equals", &self.equals),
            ("one_of", &self.one_of),
            ("contains", &self.contains),
            ("starts_with", &self.starts_with),
            ("ends_with", &self.ends_with),
            ("regex", &self.regex),
            ("exists", &self.exists),
            ("missing", &self.missing),
            ("gt", &self.gt),
            ("gte", &self.gte),
            ("lt", &self.lt),
            ("lte", &self.lte),
        ];
        all.into_iter()
            .filter_map(|(n, v)| v.as_ref().map(|v| (n, v)))
            .collect()
    }
}

/// Operator names, for messages.
pub const OPERATORS: &str =
    "equals, one_of, contains, starts_with, ends_with, regex, exists, missing, gt, gte, lt, lte";
