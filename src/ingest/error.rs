//! Errors that stop a whole input from being read; each message names the
//! input and says what to do about it.

use std::io;
use std::path::PathBuf;

/// Why an input cannot be read at all (problems inside a readable input are [`super::Problem`]s).
#[derive(thiserror::Error, Debug)]
pub enum InputError {
    /// The path does not exist (or is a dangling symlink).
    #[error("{}: no such file or directory; check the path", path.display())]
    NotFound {
        /// The path as given or found.
        path: PathBuf,
    },
    /// The path exists but could not be opened or listed.
    #[error("{}: cannot read it: {source}; check its permissions", path.display())]
    Unreadable {
        /// The path as given or found (`<stdin>` for standard input).
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The input is gcloud's default YAML output, not JSON.
    #[error(
        "{display}: this looks like gcloud's default YAML output; rerun gcloud with --format=json"
    )]
    Yaml {
        /// The source's display name.
        display: String,
    },
    /// An encoding or compression that is not read (UTF-16, bzip2, xz, zstd, zip, tar).
    #[error("{display}: this is {what}, not JSON; {fix}")]
    Unsupported {
        /// The source's display name.
        display: String,
        /// What the bytes are.
        what: &'static str,
        /// How to get JSON out of them.
        fix: &'static str,
    },
    /// A directory holds no file with a log extension.
    #[error(
        "{}: no .json, .jsonl, .ndjson, .log or .gz files in this directory; \
         pass the log files themselves",
        path.display()
    )]
    NoLogFiles {
        /// The directory as given.
        path: PathBuf,
    },
    /// `open` was given an index past the end of the source list (a caller bug).
    #[error("input #{index} does not exist; this is a bug in logtriage, please report it")]
    UnknownSource {
        /// The index asked for.
        index: usize,
    },
}

impl InputError {
    /// Classifies an error from opening `path`.
    pub(crate) fn from_open(path: PathBuf, source: io::Error) -> Self {
        if source.kind() == io::ErrorKind::NotFound {
            InputError::NotFound { path }
        } else {
            InputError::Unreadable { path, source }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_the_fix() {
        let e = InputError::Yaml {
            display: "logs.txt".into(),
        };
        assert_eq!(
            e.to_string(),
            "logs.txt: this looks like gcloud's default YAML output; rerun gcloud with --format=json"
        );
        let e = InputError::from_open("a.json".into(), io::ErrorKind::NotFound.into());
        assert!(matches!(e, InputError::NotFound { .. }));
        assert!(e.to_string().starts_with("a.json: no such file"));
        let e = InputError::from_open("b.json".into(), io::Error::from_raw_os_error(13));
        assert!(e.to_string().contains("b.json"));
        assert!(e.to_string().contains("permissions"));
        // One level of parentheses, the OS's own.
        #[cfg(unix)]
        assert_eq!(
            e.to_string(),
            "b.json: cannot read it: Permission denied (os error 13); check its permissions"
        );
        let e = InputError::NoLogFiles { path: "dir".into() };
        assert!(e.to_string().starts_with("dir: no .json"));
    }
}
