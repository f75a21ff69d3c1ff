//! A small builder around the built binary, with readable failures.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file under tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// A file under samples/.
pub fn sample(name: &str) -> PathBuf {
    root().join("samples").join(name)
}

/// `../shared/real-exports`, when this checkout has it.
pub fn real_exports() -> Option<PathBuf> {
    let p = root().join("../shared/real-exports");
    p.is_dir().then_some(p)
}

/// One run of the binary.
pub struct Run {
    cmd: Command,
    stdin: Option<Vec<u8>>,
    desc: String,
}

/// Starts a run with these arguments.
pub fn lt<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logtriage"));
    let mut desc = String::from("logtriage");
    for a in args {
        desc.push(' ');
        desc.push_str(&a.as_ref().to_string_lossy());
        cmd.arg(a);
    }
    cmd.env_remove("NO_COLOR");
    Run {
        cmd,
        stdin: None,
        desc,
    }
}

/// What a run produced.
pub struct Done {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub desc: String,
}

impl Run {
    /// Feeds these bytes on stdin.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Run {
        self.stdin = Some(bytes.into());
        self
    }

    /// Adds these arguments.
    pub fn args_from(mut self, args: &[&str]) -> Run {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    /// Sets an environment variable for the run.
    pub fn env(mut self, k: &str, v: &str) -> Run {
        self.cmd.env(k, v);
        self.desc = format!("{k}={v} {}", self.desc);
        self
    }

    /// Removes an environment variable for the run.
    pub fn env_remove(mut self, k: &str) -> Run {
        self.cmd.env_remove(k);
        self
    }

    /// Adds an argument.
    pub fn arg(mut self, a: impl AsRef<std::ffi::OsStr>) -> Run {
        self.desc.push(' ');
        self.desc.push_str(&a.as_ref().to_string_lossy());
        self.cmd.arg(a);
        self
    }

    /// Runs to completion.
    pub fn go(mut self) -> Done {
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        // Always a pipe, closed at once when there is no input: some CI machines
        // have a regular file at /dev/null that holds what other processes wrote.
        self.cmd.stdin(Stdio::piped());
        let mut child = self.cmd.spawn().expect("spawn logtriage");
        let mut si = child.stdin.take().unwrap();
        if let Some(bytes) = self.stdin.take() {
            std::thread::spawn(move || {
                let _ = si.write_all(&bytes);
            });
        } else {
            drop(si);
        }
        let out: Output = child.wait_with_output().unwrap();
        Done {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            desc: self.desc,
        }
    }

    /// Runs and expects this exit code.
    pub fn code(self, want: i32) -> Done {
        let d = self.go();
        assert_eq!(
            d.code,
            want,
            "`{}` exited {}, want {want}\n--- stderr\n{}\n--- stdout (head)\n{}",
            d.desc,
            d.code,
            d.stderr,
            d.stdout.chars().take(2000).collect::<String>()
        );
        d
    }

    /// Runs, expects success, parses stdout as JSON.
    pub fn json(self) -> serde_json::Value {
        let d = self.code(0);
        serde_json::from_str(&d.stdout)
            .unwrap_or_else(|e| panic!("`{}` printed invalid JSON: {e}\n{}", d.desc, d.stdout))
    }
}

/// The ids of the report's findings, in order.
pub fn rules_fired(r: &serde_json::Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// The finding of rule `id` in a JSON report, if it fired.
pub fn finding<'a>(r: &'a serde_json::Value, id: &str) -> Option<&'a serde_json::Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == id)
}

/// The commands of a JSON report's recommended actions.
pub fn commands(r: &serde_json::Value) -> Vec<&str> {
    r["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["command"].as_str())
        .collect()
}

/// Reads a file to bytes.
pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
