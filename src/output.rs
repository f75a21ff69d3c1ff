//! Where results go: stdout, or `-o FILE` through a temporary file renamed into
//! place, so an interrupted run never leaves half a report. The temporary file is
//! hidden (`.logtriage-*`) and removed when the run fails; the report gets the
//! permissions of the file it replaces, or `0666` less the umask when new (as a
//! shell's `>` would), not the temporary file's private `0600`.

use anyhow::{Context, Result};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// An output opened before the scan starts, so a bad `-o` fails fast.
pub enum Output {
    /// Standard output.
    Stdout(BufWriter<io::Stdout>),
    /// A temporary file beside the target.
    File {
        /// The temporary file.
        tmp: BufWriter<tempfile::NamedTempFile>,
        /// Where it goes on success.
        target: PathBuf,
    },
}

impl Output {
    /// Opens stdout, or a temporary file in FILE's folder.
    pub fn open(path: Option<&Path>) -> Result<Output> {
        let Some(target) = path else {
            return Ok(Output::Stdout(BufWriter::new(io::stdout())));
        };
        // Refused before any input is read: the rename at the end would fail on it.
        if target.is_dir() {
            anyhow::bail!(
                "cannot write {}: it is a folder; name a file, e.g. {}",
                target.display(),
                target.join("report.md").display()
            );
        }
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".logtriage-");
        #[cfg(unix)]
        let shared = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::Permissions::from_mode(0o666)
        };
        #[cfg(unix)]
        builder.permissions(shared);
        let tmp = builder.tempfile_in(dir).with_context(|| {
            format!(
                "cannot write {}: cannot create a file in {}",
                target.display(),
                dir.display()
            )
        })?;
        Ok(Output::File {
            tmp: BufWriter::new(tmp),
            target: target.to_path_buf(),
        })
    }

    /// Flushes and, for a file, renames it into place.
    pub fn finish(self) -> Result<()> {
        match self {
            Output::Stdout(mut w) => w.flush().map_err(Into::into),
            Output::File { tmp, target } => {
                let tmp = tmp
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("cannot write {}", target.display()))?;
                tmp.as_file()
                    .sync_all()
                    .with_context(|| format!("cannot write {}", target.display()))?;
                // A report that replaces another keeps its permissions.
                if let Ok(meta) = std::fs::metadata(&target) {
                    let _ = tmp.as_file().set_permissions(meta.permissions());
                }
                tmp.persist(&target)
                    .with_context(|| format!("cannot write {}", target.display()))?;
                Ok(())
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::File { tmp, .. } => tmp.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::File { tmp, .. } => tmp.flush(),
        }
    }
}
