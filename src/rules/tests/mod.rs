//! Tests of the rules stage that span modules; unit tests of pure helpers sit next to
//! their code (template, threshold, literal, error).

#![allow(clippy::unwrap_used)]

mod errors;
mod healthy;
mod ops;
mod packs;
mod prefilter;

use super::{load, LoadOptions, RuleSet};
use crate::entry::Entry;

/// The default packs, loaded once per test binary (panics with the errors if they do
/// not load).
fn defaults() -> &'static RuleSet {
    static SET: std::sync::OnceLock<RuleSet> = std::sync::OnceLock::new();
    SET.get_or_init(|| match load(&LoadOptions::default()) {
        Ok(s) => s,
        Err(e) => panic!("default rules do not load:\n{e}"),
    })
}

/// Ids of the rules matching `json`, checking prefilter and brute force agree.
fn matching(set: &RuleSet, json: &str) -> Vec<String> {
    let e = Entry::parse(json).unwrap_or_else(|err| panic!("{err}: {json}"));
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    set.match_entry(&e, &mut fast);
    set.match_entry_exhaustive(&e, &mut slow);
    assert_eq!(fast, slow, "prefilter disagrees on {json}");
    fast.iter().map(|&i| set.rules()[i].id.clone()).collect()
}
