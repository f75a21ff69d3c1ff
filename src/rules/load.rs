//! Loading: the default packs, then `--rules` files and directories; duplicate ids,
//! overrides and causal links are settled here, across files.

use super::compile::compile_file;
use super::error::{RuleError, RuleErrors};
use super::packs::DEFAULT_PACKS;
use super::set::RuleSet;
use super::Rule;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Load the embedded default packs.
    pub defaults: bool,
    /// Rule files, or directories searched (recursively, sorted) for `*.toml`.
    pub dirs: Vec<PathBuf>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            defaults: true,
            dirs: Vec::new(),
        }
    }
}

/// Parses, compiles and checks every rule. A user rule with a default rule's id
/// replaces it (in place); the same id twice among user files, or twice among the
/// defaults, is an error. All problems of all files are reported together.
pub fn load(opts: &LoadOptions) -> Result<RuleSet, RuleErrors> {
    let (set, dangling) = load_lenient(opts)?;
    if dangling.is_empty() {
        Ok(set)
    } else {
        Err(RuleErrors(dangling))
    }
}

/// [`load`], except that a link to a rule that is not loaded (another pack's, left out
/// by `--no-default-rules`) is left out of the set and returned beside it, to be
/// shown as a warning: the rules still match, only that cause-and-effect tie is lost.
pub fn load_lenient(opts: &LoadOptions) -> Result<(RuleSet, Vec<RuleError>), RuleErrors> {
    let mut errors = Vec::new();
    let mut defaults = Vec::new();
    if opts.defaults {
        for p in DEFAULT_PACKS {
            let (rules, errs) = compile_file(&p.label(), p.source, p.name);
            defaults.extend(rules);
            errors.extend(errs);
        }
    }
    let mut user = Vec::new();
    let mut seen_files = Vec::new();
    for path in &opts.dirs {
        for file in rule_files(path, &mut errors) {
            // The same file reached twice (`--rules d --rules d/x.toml`) is read once.
            let canon = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
            if seen_files.contains(&canon) {
                continue;
            }
            seen_files.push(canon);
            let label = file.display().to_string();
            match std::fs::read_to_string(&file) {
                Ok(src) => {
                    let stem = file
                        .file_stem()
                        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
                    let (rules, errs) = compile_file(&label, &src, &stem);
                    user.extend(rules);
                    errors.extend(errs);
                }
                Err(e) => errors.push(file_error(&label, format!("cannot read: {e}"))),
            }
        }
    }
    duplicates(&defaults, &mut errors);
    duplicates(&user, &mut errors);
    let mut rules = defaults;
    let pos: HashMap<String, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    for u in user {
        match pos.get(&u.id) {
            Some(&i) => rules[i] = u,
            None => rules.push(u),
        }
    }
    let dangling = dangling_links(&mut rules, &errors);
    if rules.is_empty() && errors.is_empty() {
        // A report with no rules would say OK whatever the logs hold.
        errors.push(RuleError {
            file: "(command line)".into(),
            line: 0,
            rule: None,
            message: if seen_files.is_empty() {
                "no rules loaded: --no-default-rules needs --rules naming rule files".into()
            } else {
                format!(
                    "no rules loaded: the {} given with --rules hold{} no [[rule]] table",
                    if seen_files.len() == 1 {
                        "file".to_string()
                    } else {
                        format!("{} files", seen_files.len())
                    },
                    if seen_files.len() == 1 { "s" } else { "" }
                )
            },
        });
    }
    if errors.is_empty() {
        Ok((RuleSet::new(rules), dangling))
    } else {
        errors.extend(dangling);
        Err(RuleErrors(errors))
    }
}

/// The ids of the embedded default packs' rules.
pub fn default_ids() -> Vec<String> {
    DEFAULT_PACKS
        .iter()
        .flat_map(|p| compile_file(&p.label(), p.source, p.name).0)
        .map(|r| r.id)
        .collect()
}

/// Compiles one rule file's text on its own (no defaults): for tests and editors.
pub fn load_str(file: &str, src: &str) -> Result<RuleSet, RuleErrors> {
    let stem = Path::new(file)
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let (rules, mut errors) = compile_file(file, src, &stem);
    duplicates(&rules, &mut errors);
    let mut links = Vec::new();
    check_links(&rules, &errors, &mut links);
    errors.extend(links);
    if errors.is_empty() {
        Ok(RuleSet::new(rules))
    } else {
        Err(RuleErrors(errors))
    }
}

fn file_error(file: &str, message: String) -> RuleError {
    RuleError {
        file: file.to_string(),
        line: 0,
        rule: None,
        message,
    }
}

/// A file as given, or the `*.toml` files under a directory, sorted.
fn rule_files(path: &Path, errors: &mut Vec<RuleError>) -> Vec<PathBuf> {
    if !path.is_dir() {
        if !path.exists() {
            errors.push(file_error(
                &path.display().to_string(),
                "no such file or directory".into(),
            ));
            return Vec::new();
        }
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) => {
                errors.push(file_error(
                    &dir.display().to_string(),
                    format!("cannot read directory: {e}"),
                ));
                continue;
            }
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    if out.is_empty() {
        // A folder of `.TOML` or `.tml` files gave no rules and no word about it.
        errors.push(file_error(
            &path.display().to_string(),
            "no rule file (*.toml) in this folder".into(),
        ));
    }
    out.sort();
    out
}

fn duplicates(rules: &[Rule], errors: &mut Vec<RuleError>) {
    let mut seen: HashMap<&str, &Rule> = HashMap::new();
    for r in rules {
        if let Some(first) = seen.get(r.id.as_str()) {
            errors.push(RuleError {
                file: r.file.clone(),
                line: r.line,
                rule: Some(r.id.clone()),
                message: format!(
                    "duplicate id; first defined at {}:{}",
                    first.file, first.line
                ),
            });
        } else {
            seen.insert(&r.id, r);
        }
    }
}

/// Takes the links to rules that are not loaded out of `rules`, and returns one
/// problem for each.
fn dangling_links(rules: &mut [Rule], errors: &[RuleError]) -> Vec<RuleError> {
    let mut found = Vec::new();
    check_links(rules, errors, &mut found);
    for e in &found {
        let (Some(id), Some(target)) = (&e.rule, dangling_target(e)) else {
            continue;
        };
        for r in rules.iter_mut().filter(|r| &r.id == id) {
            r.explained_by.retain(|t| t != target);
            r.explains.retain(|t| t != target);
            r.link_lines.retain(|(t, _)| t != target);
        }
    }
    found
}

/// The rule a link problem names, for a problem [`check_links`] made.
pub fn dangling_target(e: &RuleError) -> Option<&str> {
    let rest = e.message.strip_prefix(LINKS_TO)?;
    rest.split('`').next()
}

/// How a link problem starts (followed by the rule's id and a backtick).
const LINKS_TO: &str = "links to rule `";

fn check_links(rules: &[Rule], known: &[RuleError], errors: &mut Vec<RuleError>) {
    let mut ids: HashMap<String, ()> = rules.iter().map(|r| (r.id.clone(), ())).collect();
    // A rule that failed to parse is reported already: links to it are not missing.
    for e in known.iter().chain(errors.iter()) {
        if let Some(id) = &e.rule {
            ids.insert(id.clone(), ());
        }
    }
    for r in rules {
        for (target, line) in &r.link_lines {
            if !ids.contains_key(target.as_str()) {
                errors.push(RuleError {
                    file: r.file.clone(),
                    line: *line,
                    rule: Some(r.id.clone()),
                    message: format!("{LINKS_TO}{target}`, which is not loaded"),
                });
            }
        }
    }
}
