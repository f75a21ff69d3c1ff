//! The rules stage: rule files (TOML) -> an immutable [`RuleSet`] that says which rules
//! an [`Entry`](crate::entry::Entry) matches. Receives entries from `entry`; hands
//! matches, thresholds and explanation templates to `analyze`. See `docs/rules.md`.

mod compile;
mod cond;
mod cond_compile;
mod error;
mod exact;
mod examples;
mod filter;
mod grams;
mod literal;
mod load;
mod model;
mod packs;
mod prefilter;
mod set;
mod spec;
mod template;
mod threshold;

pub use error::{RuleError, RuleErrors};
pub use examples::ExampleOutcome;
pub use filter::{
    quote as cloud_quote, rules_filter, service_filter, service_filter_in, FilterMode,
    MAX_FILTER_CHARS,
};
pub use load::{dangling_target, default_ids, load, load_lenient, load_str, LoadOptions};
pub use model::{ActionTemplate, Capture, Example, Expect, Rule, RuleKind, RuleSeverity};
pub use packs::{Pack, DEFAULT_PACKS};
pub use set::{BlockMatches, RuleSet};
pub use template::{is_builtin, placeholders, render, BUILTINS};
pub use threshold::{format_duration, parse_duration, Threshold};

#[cfg(test)]
mod tests;
