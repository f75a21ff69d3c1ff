//! Turns the paths the user typed into [`Source`]s: files as given, directories
//! searched recursively for log files (which also covers the Cloud Storage sink
//! layout `<log id>/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json`), `-` for stdin.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::{Discovery, InputError, Origin, SkippedFiles, Source};

/// Extensions searched for inside directories, each also with `.gz` after it.
const LOG_EXTENSIONS: [&str; 4] = [".json", ".jsonl", ".ndjson", ".log"];

/// Finds the inputs; `-` is stdin and an empty slice means stdin alone.
pub fn discover(inputs: &[PathBuf]) -> Discovery {
    let mut out = Discovery::default();
    if inputs.is_empty() {
        out.sources.push(stdin_source());
        return out;
    }
    // Canonical paths already listed, so a file given twice (or reached through
    // a symlink) is read once.
    let mut seen_files = HashSet::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            // Like a file given twice, stdin is read once (a second read finds it empty).
            if !out.sources.iter().any(|s| s.origin == Origin::Stdin) {
                out.sources.push(stdin_source());
            }
            continue;
        }
        let meta = match fs::metadata(input) {
            Ok(meta) => meta,
            Err(e) => {
                out.errors.push(InputError::from_open(input.clone(), e));
                continue;
            }
        };
        if meta.is_dir() {
            let mut found = Vec::new();
            let mut visited = HashSet::new();
            let mut walked = Walk {
                found: &mut found,
                visited: &mut visited,
                errors: &mut out.errors,
                skipped: Skipped::default(),
            };
            walked.walk(input);
            let skipped = walked.skipped;
            if skipped.count > 0 {
                out.skipped.push(skipped.summary(input));
            }
            found.sort_by(|a, b| path_key(&a.0).cmp(&path_key(&b.0)));
            if found.is_empty() {
                out.errors.push(InputError::NoLogFiles {
                    path: input.clone(),
                });
            }
            for (path, size) in found {
                add_file(&mut out.sources, &mut seen_files, path, size);
            }
        } else {
            let size = meta.is_file().then_some(meta.len());
            // Only regular files are test-opened: opening a FIFO blocks or consumes it.
            if meta.is_file() {
                if let Err(e) = fs::File::open(input) {
                    out.errors.push(InputError::from_open(input.clone(), e));
                    continue;
                }
            }
            add_file(&mut out.sources, &mut seen_files, input.clone(), size);
        }
    }
    out
}

fn stdin_source() -> Source {
    Source {
        display: "<stdin>".to_string(),
        origin: Origin::Stdin,
        size: None,
    }
}

fn add_file(
    sources: &mut Vec<Source>,
    seen: &mut HashSet<PathBuf>,
    path: PathBuf,
    size: Option<u64>,
) {
    let key = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    if !seen.insert(key) {
        return;
    }
    sources.push(Source {
        display: path.display().to_string(),
        origin: Origin::File(path),
        size,
    });
}

/// Files skipped for their names while walking one folder.
#[derive(Default)]
struct Skipped {
    count: usize,
    /// Up to [`MAX_SKIPPED_KEPT`] of them, to pick the ones to show.
    paths: Vec<PathBuf>,
}

/// Skipped paths kept to choose the names shown from (all are counted).
const MAX_SKIPPED_KEPT: usize = 10_000;

impl Skipped {
    fn add(&mut self, path: PathBuf) {
        self.count += 1;
        if self.paths.len() < MAX_SKIPPED_KEPT {
            self.paths.push(path);
        }
    }

    /// The names to show: those most likely logs first, then in path order.
    fn summary(mut self, dir: &Path) -> SkippedFiles {
        self.paths.sort_by(|a, b| {
            let rank = |p: &Path| !maybe_log(&p.file_name().unwrap_or_default().to_string_lossy());
            rank(a)
                .cmp(&rank(b))
                .then_with(|| path_key(a).cmp(&path_key(b)))
        });
        let names = self
            .paths
            .iter()
            .take(SkippedFiles::SHOWN)
            .map(|p| p.strip_prefix(dir).unwrap_or(p).display().to_string())
            .collect();
        SkippedFiles {
            dir: dir.to_path_buf(),
            count: self.count,
            names,
        }
    }
}

/// A walk of one folder given by the user.
struct Walk<'w> {
    found: &'w mut Vec<(PathBuf, Option<u64>)>,
    /// Canonical directories seen, so symlinked directories are followed once and
    /// loops end.
    visited: &'w mut HashSet<PathBuf>,
    errors: &'w mut Vec<InputError>,
    skipped: Skipped,
}

impl Walk<'_> {
    /// Collects log files under `dir`, and counts the other files.
    fn walk(&mut self, dir: &Path) {
        match fs::canonicalize(dir) {
            Ok(canon) => {
                if !self.visited.insert(canon) {
                    return;
                }
            }
            Err(e) => {
                self.errors
                    .push(InputError::from_open(dir.to_path_buf(), e));
                return;
            }
        }
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                self.errors
                    .push(InputError::from_open(dir.to_path_buf(), e));
                return;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    self.errors
                        .push(InputError::from_open(dir.to_path_buf(), e));
                    continue;
                }
            };
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            // fs::metadata follows symlinks: a link is treated as what it points to.
            let meta = match fs::metadata(&path) {
                Ok(meta) => meta,
                Err(e) => {
                    if is_log_name(&name) {
                        self.errors.push(InputError::from_open(path, e));
                    }
                    continue;
                }
            };
            if meta.is_dir() {
                self.walk(&path);
            } else if meta.is_file() && is_log_name(&name) {
                match fs::File::open(&path) {
                    Ok(_) => self.found.push((path, Some(meta.len()))),
                    Err(e) => self.errors.push(InputError::from_open(path, e)),
                }
            } else if meta.is_file() {
                self.skipped.add(path);
            }
        }
    }
}

/// True for names of files that may well hold logs though they are not read from
/// folders: `.txt`, `.out`, no extension, or another `.gz`.
fn maybe_log(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let stem = lower.strip_suffix(".gz").unwrap_or(&lower);
    stem.ends_with(".txt") || stem.ends_with(".out") || !stem.contains('.') || stem != lower
}

/// True for `.json`, `.jsonl`, `.ndjson`, `.log`, each optionally followed by `.gz`,
/// and for a name without an extension followed by `.gz` (`export.gz`: gzip says
/// nothing of what it holds, and logs are its usual content here), in any case.
/// `.tar.gz`, `.csv.gz` and the like are not read.
fn is_log_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix(".gz") {
        if !stem.is_empty() && !stem.contains('.') {
            return true;
        }
    }
    let stem = lower.strip_suffix(".gz").unwrap_or(&lower);
    LOG_EXTENSIONS
        .iter()
        .any(|ext| stem.len() > ext.len() && stem.ends_with(ext))
}

/// Sort key: the path's bytes, so the order does not depend on the locale.
fn path_key(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::borrow::Cow::Borrowed(path.as_os_str().as_bytes())
    }
    #[cfg(not(unix))]
    {
        match path.to_string_lossy() {
            std::borrow::Cow::Borrowed(s) => std::borrow::Cow::Borrowed(s.as_bytes()),
            std::borrow::Cow::Owned(s) => std::borrow::Cow::Owned(s.into_bytes()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::Write;

    fn touch(root: &Path, rel: &str) -> PathBuf {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        File::create(&path).unwrap().write_all(b"{}\n").unwrap();
        path
    }

    fn rel_names(root: &Path, d: &Discovery) -> Vec<String> {
        d.sources
            .iter()
            .map(|s| match &s.origin {
                Origin::File(p) => p.strip_prefix(root).unwrap().display().to_string(),
                Origin::Stdin => "-".to_string(),
            })
            .collect()
    }

    #[test]
    fn no_inputs_or_dash_is_stdin() {
        let d = discover(&[]);
        assert_eq!(d.sources.len(), 1);
        assert_eq!(d.sources[0].origin, Origin::Stdin);
        assert_eq!(d.sources[0].display, "<stdin>");
        let d = discover(&[PathBuf::from("-")]);
        assert_eq!(d.sources[0].origin, Origin::Stdin);
        assert!(d.errors.is_empty());
    }

    #[test]
    fn file_of_any_extension_is_taken_with_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let p = touch(dir.path(), "export.txt");
        let d = discover(std::slice::from_ref(&p));
        assert_eq!(d.sources.len(), 1);
        assert_eq!(d.sources[0].size, Some(3));
        assert_eq!(d.sources[0].display, p.display().to_string());
    }

    #[test]
    fn missing_path_is_not_found_and_the_rest_still_found() {
        let dir = tempfile::tempdir().unwrap();
        let p = touch(dir.path(), "a.json");
        let d = discover(&[dir.path().join("nope.json"), p]);
        assert_eq!(d.sources.len(), 1);
        assert!(matches!(d.errors[..], [InputError::NotFound { .. }]));
    }

    #[test]
    fn directory_search_extensions_hidden_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for rel in [
            "b.json",
            "a.jsonl",
            "c.ndjson",
            "d.log",
            "e.json.gz",
            "f.LOG.GZ",
            "sub/z.json",
            "g.txt",
            "h.gz",
            "json",
            ".hidden.json",
            ".git/x.json",
            "sub/.h/y.json",
        ] {
            touch(root, rel);
        }
        let d = discover(&[root.to_path_buf()]);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(
            rel_names(root, &d),
            [
                "a.jsonl",
                "b.json",
                "c.ndjson",
                "d.log",
                "e.json.gz",
                "f.LOG.GZ",
                "h.gz",
                "sub/z.json"
            ]
        );
        // The others are counted and named, likeliest logs first; hidden ones are not.
        assert_eq!(d.skipped.len(), 1);
        assert_eq!(d.skipped[0].count, 2);
        assert_eq!(d.skipped[0].names, ["g.txt", "json"]);
    }

    #[test]
    fn skipped_files_are_counted_and_a_few_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for i in 0..40 {
            touch(root, &format!("src/m{i:02}.py"));
        }
        for rel in [
            "README.md",
            "export",
            "logs.txt",
            "b.tar.gz",
            "x.csv.gz",
            "a.json",
        ] {
            touch(root, rel);
        }
        let d = discover(&[root.to_path_buf()]);
        assert_eq!(rel_names(root, &d), ["a.json"]);
        let s = &d.skipped[0];
        assert_eq!(s.count, 45);
        assert_eq!(
            s.names,
            ["b.tar.gz", "export", "logs.txt", "x.csv.gz", "README.md"]
        );
        let m = s.message();
        assert!(m.contains(": 45 files not read"), "{m}");
        assert!(
            m.ends_with("README.md and 40 more; name a file to read it"),
            "{m}"
        );
        // A file named is read whatever its name, and nothing is said.
        let d = discover(&[root.join("export")]);
        assert_eq!(d.sources.len(), 1);
        assert!(d.skipped.is_empty());
    }

    #[test]
    fn cloud_storage_sink_layout_just_works() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let rels = [
            "run.googleapis.com/requests/2025/09/15/17:00:00_17:59:59_S0.json",
            "run.googleapis.com/requests/2025/09/15/17:00:00_17:59:59_S1.json",
            "run.googleapis.com/requests/2025/09/15/18:00:00_18:59:59_A0.json",
            "run.googleapis.com/stderr/2025/09/15/17:00:00_17:59:59_S0.json",
            "cloudaudit.googleapis.com/activity/2025/09/16/00:00:00_00:59:59_S0.json",
        ];
        for rel in rels.iter().rev() {
            touch(root, rel);
        }
        let d = discover(&[root.to_path_buf()]);
        assert!(d.errors.is_empty());
        assert_eq!(
            rel_names(root, &d),
            [rels[4], rels[0], rels[1], rels[2], rels[3]]
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loop_is_walked_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(root, "a/x.json");
        std::os::unix::fs::symlink(root, root.join("a/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("a/x.json"), root.join("link.json")).unwrap();
        std::os::unix::fs::symlink(root.join("gone"), root.join("dangling.json")).unwrap();
        let d = discover(&[root.to_path_buf()]);
        assert_eq!(rel_names(root, &d), ["a/x.json"]);
        assert!(matches!(d.errors[..], [InputError::NotFound { .. }]));
    }

    #[test]
    fn same_file_twice_is_read_once_and_empty_dir_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = touch(dir.path(), "logs/a.json");
        fs::create_dir(dir.path().join("empty")).unwrap();
        let d = discover(&[
            dir.path().join("logs"),
            p,
            dir.path().join("empty"),
            PathBuf::from("-"),
            PathBuf::from("-"),
        ]);
        assert_eq!(d.sources.len(), 2, "stdin twice is read once");
        assert_eq!(d.sources[1].origin, Origin::Stdin);
        assert!(matches!(d.errors[..], [InputError::NoLogFiles { .. }]));
    }

    #[cfg(unix)]
    #[test]
    fn unreadable_directory_is_an_error_and_the_rest_is_found() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(root, "ok/a.json");
        touch(root, "locked/b.json");
        let locked = root.join("locked");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
        let denied = fs::read_dir(&locked).is_err(); // root can read anyway
        let d = discover(&[root.to_path_buf()]);
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
        if denied {
            assert_eq!(rel_names(root, &d), ["ok/a.json"]);
            assert!(matches!(d.errors[..], [InputError::Unreadable { .. }]));
        } else {
            assert_eq!(d.sources.len(), 2);
        }
    }
}
