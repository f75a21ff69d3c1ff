//! Where results go: stdout, or `-o FILE` through a temporary file renamed into
//! place, so an interrupted run never leaves half a report. The temporary file is
//! hidden (`.logtriage-*`) and removed when the run fails or is interrupted; the
//! report gets the permissions of the file it replaces, or `0666` less the umask
//! when new (as a shell's `>` would), not the temporary file's private `0600`.
//! What is not a regular file (`/dev/null`, a FIFO) is written as `>` would: a
//! rename would replace the device node itself. A symlink is written through.

use anyhow::{Context, Result};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files to remove if the run is interrupted (Ctrl-C, SIGTERM).
static TEMPS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes this run's temporary files when it is interrupted, then dies by the signal
/// as it would have without this (a shell loop stops at Ctrl-C). Installed with the
/// first temporary file, so a run that writes none keeps every signal's default.
/// Without it a killed run left the hidden report file and the stdin spool behind.
#[cfg(unix)]
fn clean_up_on_interrupt() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    // Failing to install only costs the clean-up.
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let paths = match TEMPS.lock() {
                Ok(g) => g.clone(),
                Err(p) => p.into_inner().clone(),
            };
            for p in paths {
                let _ = std::fs::remove_file(p);
            }
            let _ = signal_hook::low_level::emulate_default_handler(signal);
            #[allow(clippy::exit)]
            std::process::exit(128 + signal);
        }
    });
}

/// Elsewhere the default handling stays (a killed run may leave the files).
#[cfg(not(unix))]
fn clean_up_on_interrupt() {}

/// Notes a temporary file to remove if the run is interrupted.
pub fn track_temp(path: &Path) {
    static HANDLER: std::sync::Once = std::sync::Once::new();
    HANDLER.call_once(clean_up_on_interrupt);
    if let Ok(mut g) = TEMPS.lock() {
        g.push(path.to_path_buf());
    }
}

/// Forgets a temporary file that was renamed or removed.
pub fn untrack_temp(path: &Path) {
    if let Ok(mut g) = TEMPS.lock() {
        g.retain(|p| p != path);
    }
}

/// A target written in place at the end of the run.
#[derive(Debug)]
pub struct InPlace {
    path: PathBuf,
    written: bool,
}

impl Drop for InPlace {
    /// A run that ends without writing still closes a FIFO's stream: its reader waits
    /// for an end of file. Opened for reading too, the open never blocks on Linux when
    /// no reader is there, and a regular file or device is left as it was.
    fn drop(&mut self) {
        if self.written {
            return;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            let fifo = std::fs::metadata(&self.path).is_ok_and(|m| m.file_type().is_fifo());
            if fifo {
                let _ = File::options().read(true).write(true).open(&self.path);
            }
        }
    }
}

/// An output opened before the scan starts, so a bad `-o` fails fast.
pub enum Output {
    /// Standard output.
    Stdout(BufWriter<io::Stdout>),
    /// A device, FIFO or other non-regular file, written in place.
    Direct {
        /// Where it goes.
        path: InPlace,
        /// The whole output, written at the end: opening (and so emptying) the file
        /// first would lose the old report when the run fails.
        buf: Vec<u8>,
    },
    /// A temporary file beside the target.
    File {
        /// The temporary file.
        tmp: BufWriter<tempfile::NamedTempFile>,
        /// Where it goes on success.
        target: PathBuf,
    },
}

impl Output {
    /// Where the output goes, for messages: "stdout" or the file.
    pub fn name(&self) -> String {
        match self {
            Output::Stdout(_) => "stdout".into(),
            Output::Direct { path, .. } => path.path.display().to_string(),
            Output::File { target, .. } => target.display().to_string(),
        }
    }

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
        let cannot = || format!("cannot write {}", target.display());
        let exists = std::fs::metadata(target).ok();
        let direct = |path: &Path| Output::Direct {
            path: InPlace {
                path: path.to_path_buf(),
                written: false,
            },
            buf: Vec::new(),
        };
        if exists.as_ref().is_some_and(|m| !m.is_file()) {
            return Ok(direct(target));
        }
        // Through a symlink, the file it names is replaced, not the link.
        let target = match std::fs::canonicalize(target) {
            Ok(real) => real,
            // A dangling link: create what it names, as `>` would.
            Err(_) if target.is_symlink() => return Ok(direct(target)),
            Err(_) => target.to_path_buf(),
        };
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
        let tmp = match builder.tempfile_in(dir) {
            Ok(tmp) => tmp,
            // A file in a folder we cannot write: overwrite it in place at the end,
            // if it can be written (checked now, without emptying it).
            Err(_) if exists.is_some() => {
                File::options()
                    .write(true)
                    .open(&target)
                    .with_context(cannot)?;
                return Ok(direct(&target));
            }
            Err(e) => {
                // The OS's reason, without tempfile's hidden file name.
                let text = e.to_string();
                let why = text.split(" at path \"").next().unwrap_or(&text);
                anyhow::bail!(
                    "cannot write {}: cannot create a file in {}: {why}",
                    target.display(),
                    dir.display()
                )
            }
        };
        track_temp(tmp.path());
        Ok(Output::File {
            tmp: BufWriter::new(tmp),
            target,
        })
    }

    /// True for stdout.
    pub fn is_stdout(&self) -> bool {
        matches!(self, Output::Stdout(_))
    }

    /// Ends without writing: FILE is left as it was and the temporary file removed.
    pub fn discard(self) {
        if let Output::File { tmp, .. } = &self {
            untrack_temp(tmp.get_ref().path());
        }
    }

    /// Flushes and, for a file, renames it into place.
    pub fn finish(self) -> Result<()> {
        match self {
            Output::Stdout(mut w) => w.flush().context("cannot write to stdout"),
            Output::Direct { mut path, buf } => {
                path.written = true;
                let path = &path.path;
                let mut f = File::create(path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                f.write_all(&buf)
                    .and_then(|()| f.flush())
                    .with_context(|| format!("cannot write {}", path.display()))
            }
            Output::File { tmp, target } => {
                let tmp = tmp
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("cannot write {}", target.display()))?;
                let path = tmp.path().to_path_buf();
                let _forget = Untrack(&path);
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

/// Untracks a temporary file once it is renamed or dropped, whichever way `finish` ends.
struct Untrack<'a>(&'a Path);

impl Drop for Untrack<'_> {
    fn drop(&mut self) {
        untrack_temp(self.0);
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::Direct { buf: b, .. } => b.write(buf),
            Output::File { tmp, .. } => tmp.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::Direct { .. } => Ok(()),
            Output::File { tmp, .. } => tmp.flush(),
        }
    }
}
