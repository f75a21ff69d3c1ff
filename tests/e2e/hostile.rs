//! Hostile input, and nothing lost or half-written: huge lines, deep nesting, invalid
//! UTF-8, NUL bytes, gzip bombs, truncated and corrupt gzip, files that vanish or
//! change while read, unreadable files, symlink loops, 10,000 files under a low
//! descriptor limit, `-o` atomicity, inputs never touched, SIGPIPE.
//!
//! Every run here has a time limit and has its peak memory (VmHWM from
//! `/proc/<pid>/status`, polled while it runs) checked against a bound that does not
//! grow with the input.

use crate::util::*;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::ffi::OsString;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One finished run with its peak resident memory.
struct Watched {
    code: i32,
    stdout: String,
    stderr: String,
    peak_kb: u64,
    elapsed: Duration,
    desc: String,
}

impl Watched {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}` printed invalid JSON ({e}):\n{}\n{}",
                self.desc, self.stdout, self.stderr
            )
        })
    }

    fn peak_mb(&self) -> u64 {
        self.peak_kb / 1024
    }

    /// No panic, no crash: an exit code logtriage documents, and no internal error
    /// (how the binary reports a panic).
    fn sane(&self) -> &Self {
        assert!(
            matches!(self.code, 0..=2)
                && !self.stderr.contains("panicked")
                && !self.stderr.contains("internal error")
                && !self.stderr.contains("bug in logtriage"),
            "`{}` exited {}:\n{}",
            self.desc,
            self.code,
            self.stderr
        );
        self
    }
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs the binary (or `sh -c SCRIPT` with `$LT` set to it) with a time limit,
/// polling the peak memory of the logtriage process.
fn watch(mut cmd: Command, desc: String, limit: Duration) -> Watched {
    // A closed pipe, not Stdio::null(): /dev/null is a regular file on some CI machines.
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn");
    drop(child.stdin.take());
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let mut peak = 0;
    let status = loop {
        if let Some(kb) = vm_hwm_kb(child.id()) {
            peak = peak.max(kb);
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{desc}` still running after {limit:?}: hung");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Watched {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&t_out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
        peak_kb: peak,
        elapsed: start.elapsed(),
        desc,
    }
}

/// `stats -f json PATH` under a time limit, checked for a sane exit.
fn stats_json_run(path: &Path, limit: Duration) -> Watched {
    let w = run(
        [
            OsString::from("stats"),
            "-f".into(),
            "json".into(),
            path.into(),
        ],
        limit,
    );
    w.sane();
    w
}

fn run<I, S>(args: I, limit: Duration) -> Watched
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let desc = format!(
        "logtriage {}",
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logtriage"));
    cmd.args(&args).env_remove("NO_COLOR");
    watch(cmd, desc, limit)
}

/// `sh -c SCRIPT` with `$LT` the binary: `exec "$LT" ...` keeps the pid that is watched.
fn sh(script: &str, limit: Duration) -> Watched {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .env("LT", env!("CARGO_BIN_EXE_logtriage"));
    watch(cmd, format!("sh -c '{script}'"), limit)
}

const MINUTE: Duration = Duration::from_secs(60);

/// Peak memory allowed whatever the input size: the framer holds at most one
/// record (16 MiB cap) plus a chunk (4 MiB) and a read block (1 MiB) per worker.
const BOUND_MB: u64 = 160;

/// A small valid LogEntry.
fn entry(i: usize, severity: &str, msg: &str) -> String {
    serde_json::json!({
        "insertId": format!("id-{i}"),
        "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api", "revision_name": "api-00001-abc"}},
        "severity": severity,
        "timestamp": format!("2025-09-15T17:{:02}:{:02}Z", (i / 60) % 60, i % 60),
        "textPayload": msg,
    })
    .to_string()
}

fn stats_json(w: &Watched) -> (u64, u64, u64, u64) {
    let v = w.json();
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("no {k} in {v}"));
    (
        n("entries"),
        n("malformed"),
        n("too_large"),
        n("truncated_inputs"),
    )
}

/// Writes `prefix`, `n` bytes of `fill`, then `suffix`, without holding it all.
fn write_big(path: &Path, prefix: &[u8], fill: u8, n: usize, suffix: &[u8]) {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    w.write_all(prefix).unwrap();
    let block = vec![fill; 1 << 20];
    let mut left = n;
    while left > 0 {
        let k = left.min(block.len());
        w.write_all(&block[..k]).unwrap();
        left -= k;
    }
    w.write_all(suffix).unwrap();
    w.flush().unwrap();
}

// ---------------------------------------------------------------- huge records

#[test]
fn a_200_mb_line_is_counted_too_large_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge-line.ndjson");
    let before = format!(
        "{}\n{}\n{{\"textPayload\":\"",
        entry(1, "INFO", "a"),
        entry(2, "INFO", "b")
    );
    let after = format!(
        "\"}}\n{}\n{}\n",
        entry(3, "ERROR", "c"),
        entry(4, "INFO", "d")
    );
    write_big(&path, before.as_bytes(), b'x', 200 << 20, after.as_bytes());
    let w = stats_json_run(&path, MINUTE);
    assert_eq!(w.code, 0, "{}", w.stderr);
    assert_eq!(stats_json(&w), (4, 0, 1, 0), "4 entries, 1 too large");
    let name = path.display().to_string();
    assert!(
        w.stderr.contains(&format!("{name}:3")) && w.stderr.contains("too large"),
        "the message names file:line: {}",
        w.stderr
    );
    assert!(
        w.peak_mb() < BOUND_MB,
        "peak {} MB for a 200 MB line",
        w.peak_mb()
    );
    eprintln!("200 MB line: {:?}, peak {} MB", w.elapsed, w.peak_mb());
}

#[test]
fn huge_array_element_and_pretty_object_are_skipped_not_held() {
    let dir = tempfile::tempdir().unwrap();
    // gcloud's array: the middle element is 24 MiB (over the 16 MiB cap).
    let arr = dir.path().join("huge-element.json");
    let before = format!("[\n{},\n{{\"textPayload\": \"", entry(1, "INFO", "a"));
    let after = format!("\"}},\n{}\n]\n", entry(2, "ERROR", "b"));
    write_big(&arr, before.as_bytes(), b'y', 24 << 20, after.as_bytes());
    // Pretty objects back to back: the first one is huge.
    let objs = dir.path().join("huge-object.json");
    let before = "{\n  \"textPayload\": \"";
    let after = format!(
        "\"\n}}\n{}\n{}\n",
        entry(3, "INFO", "c"),
        entry(4, "INFO", "d")
    );
    write_big(&objs, before.as_bytes(), b'z', 24 << 20, after.as_bytes());
    for (path, want) in [(&arr, (2, 0, 1, 0)), (&objs, (2, 0, 1, 0))] {
        let w = stats_json_run(path, MINUTE);
        assert_eq!(stats_json(&w), want, "{}: {}", path.display(), w.stderr);
        assert!(w.stderr.contains("too large"), "{}", w.stderr);
        assert!(w.peak_mb() < BOUND_MB, "peak {} MB", w.peak_mb());
    }
}

#[test]
fn long_values_in_kept_fields_do_not_grow_memory() {
    // What the analysis keeps per distinct value (captured values, trace ids for the
    // request join) must not keep whole values: 24 request logs with 1 MiB URLs and
    // 24 traces of 1 MiB shared with a matching application log.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long-values.ndjson");
    let mut f = BufWriter::new(std::fs::File::create(&path).unwrap());
    let long = |i: usize, c: char| format!("{i}{}", c.to_string().repeat(1 << 20));
    for i in 0..24 {
        let place = serde_json::json!({"type": "cloud_run_revision",
            "labels": {"service_name": "api", "revision_name": "api-00001-abc"}});
        let trace = format!("projects/p/traces/{}", long(i, 'f'));
        let request = serde_json::json!({
            "insertId": format!("req{i}"), "trace": trace, "resource": place, "severity": "WARNING",
            "timestamp": format!("2025-09-15T10:00:{i:02}Z"),
            "httpRequest": {"status": 403, "requestMethod": "GET",
                            "requestUrl": format!("https://api.example.com/x?q={}", long(i, 'q'))}});
        let app = serde_json::json!({
            "insertId": format!("app{i}"), "trace": trace, "resource": place, "severity": "ERROR",
            "timestamp": format!("2025-09-15T10:00:{i:02}Z"),
            "jsonPayload": {"message": "CRITICAL_AUTH_FAILURE: 403 'Not authenticated' error detected!"}});
        writeln!(f, "{request}\n{app}").unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let w = run(
        [
            OsString::from("report"),
            "-f".into(),
            "json".into(),
            "-j".into(),
            "1".into(),
            path.into(),
        ],
        2 * MINUTE,
    );
    w.sane();
    let v = w.json();
    assert_eq!(v["input"]["entries"], 48);
    assert!(
        w.stdout.len() < 1 << 20,
        "the report quotes whole values: {} bytes",
        w.stdout.len()
    );
    assert!(
        w.peak_mb() < 64,
        "peak {} MB for 72 MiB of long values",
        w.peak_mb()
    );
    eprintln!("long values: {:?}, peak {} MB", w.elapsed, w.peak_mb());
}

// ---------------------------------------------------------------- odd bytes

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.ndjson");
    let depth = 200_000;
    let nest = |open: &str, close: &str| format!("{}1{}", open.repeat(depth), close.repeat(depth));
    let lines = [
        entry(1, "INFO", "before"),
        // Nested far past serde_json's recursion limit (128) inside a payload: the
        // payload is kept raw (skipped iteratively), so the entry is valid.
        format!(
            r#"{{"insertId":"deep-1","severity":"ERROR","textPayload":"deep","jsonPayload":{{"a":{}}}}}"#,
            nest("[", "]")
        ),
        format!(
            r#"{{"insertId":"deep-2","labels":{}}}"#,
            nest(r#"{"a":"#, "}")
        ),
        // Not an object: malformed.
        nest("[", "]"),
        // Never closed: a broken line, malformed.
        format!(
            r#"{{"insertId":"deep-3","jsonPayload":{}"#,
            "[".repeat(depth)
        ),
        entry(2, "INFO", "after"),
    ];
    std::fs::write(&path, lines.join("\n")).unwrap();
    for cmd in ["stats", "report"] {
        let w = run(
            [
                OsString::from(cmd),
                "-f".into(),
                "json".into(),
                path.clone().into(),
            ],
            MINUTE,
        );
        w.sane();
        assert_eq!(w.code, 0, "{}", w.stderr);
        let v = w.json();
        let (entries, malformed) = if cmd == "stats" {
            (v["entries"].as_u64(), v["malformed"].as_u64())
        } else {
            (
                v["input"]["entries"].as_u64(),
                v["input"]["malformed"].as_u64(),
            )
        };
        assert_eq!(
            (entries, malformed),
            (Some(4), Some(2)),
            "{cmd}: {}",
            w.stderr
        );
    }
    // The same element inside gcloud's array and among pretty objects.
    let arr = dir.path().join("deep.json");
    std::fs::write(
        &arr,
        format!(
            r#"[{{"insertId":"deep-4","labels":{}}}, {}]"#,
            nest(r#"{"a":"#, "}"),
            entry(3, "INFO", "x")
        ),
    )
    .unwrap();
    let w = stats_json_run(&arr, MINUTE);
    assert_eq!(stats_json(&w), (2, 0, 0, 0), "{}", w.stderr);
}

#[test]
fn invalid_utf8_and_nul_bytes_are_counted_and_shown_safely() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bytes.ndjson");
    let mut data = Vec::new();
    data.extend_from_slice(entry(1, "ERROR", "ok").as_bytes());
    data.push(b'\n');
    // Invalid UTF-8 inside a string: read with U+FFFD in its place.
    data.extend_from_slice(b"{\"insertId\":\"u8\",\"severity\":\"ERROR\",\"textPayload\":\"bad \xff\xfe\xc3 bytes\"}\n");
    // A raw NUL inside a string is invalid JSON: malformed.
    data.extend_from_slice(b"{\"insertId\":\"nul\",\"textPayload\":\"a\x00b\"}\n");
    // Escaped NUL, ESC and bidi overrides are valid JSON: the entry counts, the
    // report strips them.
    data.extend_from_slice(
        br#"{"insertId":"esc","severity":"ERROR","textPayload":"x\u0000y \u001b[31mred\u001b[0m \u202eevil"}"#,
    );
    data.push(b'\n');
    // Lone UTF-16 surrogates (found by the entry fuzz target): JSON's grammar allows
    // them, Rust strings cannot hold them. They read as U+FFFD, so the entry counts
    // wherever they are (as the timestamp: an entry without a readable time).
    data.extend_from_slice(
        br#"{"insertId":"sur1","severity":"ERROR","textPayload":"\ud800 lone"}"#,
    );
    data.push(b'\n');
    data.extend_from_slice(br#"{"insertId":"sur2","timestamp":"\udfff"}"#);
    data.push(b'\n');
    data.extend_from_slice(br#"{"insertId":"sur3","textPayload":"\ud83d& half a pair"}"#);
    data.push(b'\n');
    // Binary garbage and NUL bytes between records.
    data.extend_from_slice(b"\x00\x00\x00\x00\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\n");
    data.extend_from_slice(entry(2, "INFO", "last").as_bytes());
    data.push(b'\n');
    std::fs::write(&path, &data).unwrap();
    let w = stats_json_run(&path, MINUTE);
    let (entries, malformed, _, _) = stats_json(&w);
    assert_eq!(entries, 7, "{}", w.stderr);
    assert_eq!(malformed, 5, "raw NUL, 4 garbage lines: {}", w.stderr);
    assert!(
        w.stderr.contains(&format!("{}:3", path.display())),
        "{}",
        w.stderr
    );
    for format in ["markdown", "table"] {
        let w = run(
            [
                OsString::from("report"),
                "-f".into(),
                format.into(),
                path.clone().into(),
            ],
            MINUTE,
        );
        w.sane();
        for bad in ['\u{0}', '\u{1b}', '\u{202e}'] {
            assert!(!w.stdout.contains(bad), "{format} output holds {bad:?}");
        }
    }
    let w = run(
        [
            OsString::from("report"),
            "-f".into(),
            "json".into(),
            path.into(),
        ],
        MINUTE,
    );
    assert_eq!(w.json()["input"]["entries"], 7);
}

// ---------------------------------------------------------------- gzip

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_bomb_streams_with_bounded_memory_and_honest_counts() {
    // 1 GiB of NUL bytes in ~1 MiB: one 16 MiB member, 64 times (gzip allows
    // members back to back), between two real entries.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.ndjson.gz");
    let zeros = gzip(&vec![0u8; 16 << 20]);
    let mut f = BufWriter::new(std::fs::File::create(&path).unwrap());
    f.write_all(&gzip(format!("{}\n", entry(1, "INFO", "first")).as_bytes()))
        .unwrap();
    for _ in 0..64 {
        f.write_all(&zeros).unwrap();
    }
    f.write_all(&gzip(
        format!("\n{}\n", entry(2, "ERROR", "last")).as_bytes(),
    ))
    .unwrap();
    f.flush().unwrap();
    drop(f);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 4 << 20, "bomb is {size} bytes");
    let w = stats_json_run(&path, 2 * MINUTE);
    // Both entries; the gigabyte of zeros is one oversized (garbage) line.
    assert_eq!(stats_json(&w), (2, 0, 1, 0), "{}", w.stderr);
    assert!(w.stderr.contains("1073741824 bytes"), "{}", w.stderr);
    assert!(
        w.peak_mb() < BOUND_MB,
        "peak {} MB inflating 1 GiB",
        w.peak_mb()
    );
    eprintln!("gzip bomb: {:?}, peak {} MB", w.elapsed, w.peak_mb());
}

/// NDJSON of `n` entries, each about 200 bytes.
fn ndjson(n: usize) -> Vec<u8> {
    ndjson_range(0, n)
}

/// NDJSON of entries `from..to` (distinct insertIds).
fn ndjson_range(from: usize, to: usize) -> Vec<u8> {
    let mut s = String::new();
    for i in from..to {
        s.push_str(&entry(
            i,
            if i % 7 == 0 { "ERROR" } else { "INFO" },
            &format!("event number {i}"),
        ));
        s.push('\n');
    }
    s.into_bytes()
}

/// What can be recovered from a damaged gzip file, reading a byte at a time: the
/// complete lines before the damage.
fn recoverable_lines(gz: &[u8]) -> u64 {
    let mut d = flate2::read::MultiGzDecoder::new(gz);
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    while let Ok(1) = d.read(&mut b) {
        out.push(b[0]);
    }
    out.iter().filter(|&&c| c == b'\n').count() as u64
}

#[test]
fn truncated_gzip_keeps_every_complete_record_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let full = gzip(&ndjson(20_000));
    let cut = &full[..full.len() * 3 / 5];
    let path = dir.path().join("cut.ndjson.gz");
    std::fs::write(&path, cut).unwrap();
    let want = recoverable_lines(cut);
    assert!(want > 5_000 && want < 20_000, "{want}");
    let w = stats_json_run(&path, MINUTE);
    assert_eq!(w.code, 2, "a cut input is an error: {}", w.stderr);
    let (entries, malformed, _, truncated) = stats_json(&w);
    assert_eq!(truncated, 1);
    assert_eq!(
        entries + malformed,
        want,
        "every complete record before the cut"
    );
    assert!(
        w.stderr.contains(&path.display().to_string()) && w.stderr.contains("truncated gzip"),
        "{}",
        w.stderr
    );
}

#[test]
fn corrupt_gzip_keeps_what_comes_before_the_damage() {
    // Found by fuzzing (fuzz/fuzz_targets/framer.rs): the gzip decoder drops what it
    // inflated in the read that fails, which was up to a whole read block of records
    // (about 230 KiB here, 1 MiB at worst). Stored (uncompressed) deflate blocks make
    // the damage deterministic: a block whose length check fails stops the stream.
    let dir = tempfile::tempdir().unwrap();
    let plain = ndjson(40_000);
    let mut e = GzEncoder::new(Vec::new(), Compression::none());
    e.write_all(&plain).unwrap();
    let mut gz = e.finish().unwrap();
    // Stored block headers: a byte with BTYPE 00, then LEN and its complement NLEN.
    let mut heads = Vec::new();
    let mut i = 10;
    while i + 4 < gz.len() {
        let len = u16::from_le_bytes([gz[i + 1], gz[i + 2]]);
        let nlen = u16::from_le_bytes([gz[i + 3], gz[i + 4]]);
        if nlen == !len && gz[i] & 0b110 == 0 && len > 1000 {
            heads.push(i);
            i += 5 + len as usize;
        } else {
            i += 1;
        }
    }
    assert!(heads.len() > 20, "{} stored blocks", heads.len());
    // Damage a block in the middle whose header lies late in a 256 KiB input buffer
    // (the reader's, after the 2 magic bytes): the most is inflated before it.
    let &head = heads[heads.len() / 3..heads.len() * 2 / 3]
        .iter()
        .max_by_key(|&&h| (h - 2) % (256 << 10))
        .unwrap();
    gz[head + 3] ^= 0x55;
    let path = dir.path().join("corrupt.ndjson.gz");
    std::fs::write(&path, &gz).unwrap();
    let want = recoverable_lines(&gz);
    assert!(want > 10_000 && want < 40_000, "{want}");
    let w = stats_json_run(&path, MINUTE);
    assert_eq!(w.code, 2, "{}", w.stderr);
    let (entries, malformed, _, truncated) = stats_json(&w);
    assert_eq!((truncated, malformed), (1, 0));
    eprintln!("corrupt gzip: {entries} of {want}");
    // At most the last 64 KiB inflated before the damage may be lost (~500 entries).
    let line = plain.len() as u64 / 40_000;
    let slack = (64 << 10) / line + 1;
    assert!(
        entries <= want && entries + slack >= want,
        "{entries} entries of {want} recoverable (slack {slack})"
    );
    assert!(
        w.stderr.contains(&format!("{}:", path.display())) && w.stderr.contains("corrupt gzip"),
        "{}",
        w.stderr
    );
}

// ---------------------------------------------------------------- files

#[cfg(unix)]
#[test]
fn dangling_links_unreadable_files_and_symlink_loops() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("logs");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("ok.ndjson"), ndjson(10)).unwrap();
    std::fs::write(root.join("sub/more.ndjson"), ndjson_range(100, 105)).unwrap();
    // A file that vanished after it was listed somewhere: a dangling link.
    symlink(root.join("gone.ndjson"), root.join("vanished.ndjson")).unwrap();
    // Loops: a directory link to an ancestor, and a link to itself.
    symlink(&root, root.join("sub/loop")).unwrap();
    symlink(root.join("self.json"), root.join("self.json")).unwrap();
    // Unreadable file and folder.
    let locked = root.join("locked.ndjson");
    std::fs::write(&locked, ndjson_range(200, 203)).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let locked_dir = root.join("locked-dir");
    std::fs::create_dir(&locked_dir).unwrap();
    std::fs::write(locked_dir.join("x.ndjson"), ndjson_range(300, 302)).unwrap();
    std::fs::set_permissions(&locked_dir, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads through chmod 000: those assertions are skipped there.
    let denied = std::fs::File::open(&locked).is_err();

    let w = run(
        [
            OsString::from("stats"),
            "-f".into(),
            "json".into(),
            root.clone().into(),
        ],
        MINUTE,
    );
    std::fs::set_permissions(&locked_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    w.sane();
    assert_eq!(w.code, 2, "unreadable inputs are errors: {}", w.stderr);
    let (entries, ..) = stats_json(&w);
    let mut messages = vec![
        ("vanished.ndjson", "no such file"),
        ("self.json", "cannot read"),
    ];
    if denied {
        assert_eq!(entries, 15, "ok + sub/more, each once: {}", w.stderr);
        messages.push(("locked.ndjson", "permissions"));
        messages.push(("locked-dir", "permissions"));
    } else {
        assert_eq!(
            entries, 20,
            "as root everything but the links is read: {}",
            w.stderr
        );
    }
    for (name, what) in messages {
        assert!(
            w.stderr
                .lines()
                .any(|l| l.contains(name) && l.contains(what)),
            "no `{what}` message naming {name}:\n{}",
            w.stderr
        );
    }
}

#[test]
fn a_file_that_vanishes_between_discovery_and_read_is_reported() {
    use logtriage::analyze::Counts;
    use logtriage::pipeline::{scan, Progress, ScanOptions};
    let dir = tempfile::tempdir().unwrap();
    for (k, name) in ["a.ndjson", "b.ndjson", "c.ndjson"].into_iter().enumerate() {
        std::fs::write(dir.path().join(name), ndjson_range(10 * k, 10 * k + 4)).unwrap();
    }
    let found = logtriage::ingest::discover(&[dir.path().to_path_buf()]);
    assert_eq!(found.sources.len(), 3);
    std::fs::remove_file(dir.path().join("b.ndjson")).unwrap();
    let s = scan(
        &found.sources,
        &ScanOptions::default(),
        &Progress::default(),
        Counts::default,
    );
    assert_eq!(s.sink.entries, 8, "a and c are read");
    assert_eq!(s.errors.len(), 1);
    let msg = s.errors[0].to_string();
    assert!(
        msg.contains("b.ndjson") && msg.contains("no such file"),
        "{msg}"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_is_read_like_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.ndjson");
    let ok = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success());
    if ok.ok() != Some(true) {
        eprintln!("skipped: no mkfifo");
        return;
    }
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            f.write_all(&ndjson(50)).unwrap();
        })
    };
    let w = run(
        [
            OsString::from("stats"),
            "-f".into(),
            "json".into(),
            fifo.into(),
        ],
        MINUTE,
    );
    writer.join().unwrap();
    w.sane();
    assert_eq!(stats_json(&w).0, 50, "{}", w.stderr);
}

#[test]
fn a_file_that_changes_while_read_ends_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("changing.ndjson");
    let n = 100_000;
    let original = ndjson(n);
    let more = ndjson_range(n, n + 1000);
    let size = original.len() as u64;
    let (mut grew, mut shrank) = (false, false);
    for (k, action) in ["truncate", "append"].into_iter().enumerate() {
        std::fs::write(&path, &original).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_logtriage"));
        cmd.args(["stats", "-f", "json", "-j", "1"]).arg(&path);
        let (p, more) = (path.clone(), more.clone());
        let changer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20 + 20 * k as u64));
            let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
            if action == "truncate" {
                f.set_len(size / 3).unwrap();
            } else {
                f.write_all(&more).unwrap();
            }
        });
        let w = watch(cmd, format!("stats while the file is {action}d"), MINUTE);
        changer.join().unwrap();
        w.sane();
        let (entries, malformed, ..) = stats_json(&w);
        // Whatever was read is counted once; nothing is invented.
        assert!(
            entries + malformed <= n as u64 + 1000,
            "{entries} + {malformed}"
        );
        assert!(
            malformed <= 1,
            "at most the line cut by the truncation: {}",
            w.stderr
        );
        grew |= entries > n as u64;
        shrank |= entries < n as u64;
    }
    eprintln!("changing file: saw growth {grew}, truncation {shrank}");
}

// ---------------------------------------------------------------- load

#[cfg(unix)]
#[test]
fn ten_thousand_small_files_under_a_low_descriptor_limit() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("many");
    for d in 0..100 {
        let sub = root.join(format!("run.googleapis.com/stderr/2025/09/{d:02}"));
        std::fs::create_dir_all(&sub).unwrap();
        for f in 0..100 {
            let i = d * 100 + f;
            std::fs::write(
                sub.join(format!("{f:02}:00:00_{f:02}:59:59_S0.json")),
                format!("{}\n", entry(i, "INFO", "tiny")),
            )
            .unwrap();
        }
    }
    let script = format!(
        "ulimit -n 256 && exec \"$LT\" stats -f json {}",
        root.display()
    );
    let w = sh(&script, 3 * MINUTE);
    w.sane();
    assert_eq!(w.code, 0, "{}", w.stderr);
    assert_eq!(stats_json(&w).0, 10_000);
    assert!(w.peak_mb() < BOUND_MB, "peak {} MB", w.peak_mb());
    let script = format!(
        "ulimit -n 256 && exec \"$LT\" report -f json {}",
        root.display()
    );
    let w = sh(&script, 3 * MINUTE);
    w.sane();
    assert_eq!(w.json()["input"]["files"], 10_000);
    eprintln!("10,000 files: {:?}, peak {} MB", w.elapsed, w.peak_mb());
}

// ---------------------------------------------------------------- nothing lost, nothing half-written

/// Files of a folder, with their bytes and modification times.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.clone(),
                    std::fs::read(&p).unwrap_or_default(),
                    meta.modified().unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn inputs_are_never_written_or_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    for name in [
        "kinds.ndjson",
        "kinds.ndjson.gz",
        "kinds.gcloud.json",
        "truncated.json",
    ] {
        std::fs::copy(fixture(name), inputs.join(name)).unwrap();
    }
    std::fs::write(inputs.join("readonly.json"), ndjson(3)).unwrap();
    let before = snapshot(&inputs);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    for args in [
        vec!["report"],
        vec!["report", "-f", "json", "--since", "1h"],
        vec!["report", "-f", "table", "--strict"],
        vec!["stats"],
        vec!["stats", "-f", "json"],
    ] {
        let w = run(
            args.iter().map(OsString::from).chain([
                OsString::from("-o"),
                out.join("r").into(),
                inputs.clone().into(),
            ]),
            MINUTE,
        );
        w.sane();
    }
    // Writing the report over an input is refused, whatever the path looks like.
    let target = inputs.join("kinds.ndjson");
    for over in [target.clone(), inputs.join("../in/./kinds.ndjson")] {
        let w = run(
            [
                OsString::from("report"),
                "-o".into(),
                over.into(),
                inputs.clone().into(),
            ],
            MINUTE,
        );
        w.sane();
        assert_eq!(w.code, 2, "{}", w.stderr);
        assert!(
            w.stderr.contains("kinds.ndjson") && w.stderr.contains("input"),
            "{}",
            w.stderr
        );
    }
    let w = run(
        [
            OsString::from("stats"),
            "-o".into(),
            target.clone().into(),
            target.clone().into(),
        ],
        MINUTE,
    );
    assert_eq!(w.code, 2, "{}", w.stderr);
    assert_eq!(snapshot(&inputs), before, "an input changed");
    let left: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [OsString::from("r")], "only the report is written");
}

/// Names in a folder, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[cfg(unix)]
#[test]
fn an_interrupted_run_removes_its_temporary_files() {
    // Ctrl-C (or SIGTERM) mid-run used to leave the hidden `-o` file beside the
    // target and the stdin spool (the whole input) in TMPDIR.
    for signal in ["INT", "TERM"] {
        let dir = tempfile::tempdir().unwrap();
        let tmpdir = tempfile::tempdir().unwrap();
        let target = dir.path().join("incident.md");
        std::fs::write(&target, "previous report\n").unwrap();
        // --since 1h spools stdin; the pipe held open keeps the run mid-way.
        let mut child = Command::new(env!("CARGO_BIN_EXE_logtriage"))
            .args(["report", "--since", "1h", "-o"])
            .arg(&target)
            .env("TMPDIR", tmpdir.path())
            .stdin(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(&ndjson(1_000)).unwrap();
        let deadline = Instant::now() + MINUTE;
        while names_in(tmpdir.path()).is_empty() || names_in(dir.path()).len() < 2 {
            assert!(Instant::now() < deadline, "no temporary files appeared");
            std::thread::sleep(Duration::from_millis(20));
        }
        let pid = child.id().to_string();
        let kill = Command::new("kill").args(["-s", signal, &pid]).status();
        assert!(kill.unwrap().success());
        let status = child.wait().unwrap();
        drop(input);
        // It dies by the signal, as without the clean-up (a shell loop stops at ^C).
        use std::os::unix::process::ExitStatusExt;
        let number = if signal == "INT" { 2 } else { 15 };
        assert_eq!(status.signal(), Some(number), "SIG{signal}: {status:?}");
        assert_eq!(names_in(dir.path()), ["incident.md"], "SIG{signal}");
        assert!(
            names_in(tmpdir.path()).is_empty(),
            "SIG{signal}: spool left"
        );
        let old = std::fs::read_to_string(&target).unwrap();
        assert_eq!(old, "previous report\n");
    }
}

#[cfg(unix)]
#[test]
fn output_to_a_fifo_or_through_a_symlink_keeps_them() {
    // `-o` renamed a temporary file over its target: `-o /dev/null` replaced the
    // device node with a regular file (as root), a FIFO stopped being one, and a
    // symlink was replaced instead of written through.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status();
    assert!(made.unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let args = |out: &Path| {
        [
            OsString::from("report"),
            "-o".into(),
            out.into(),
            fixture("kinds.ndjson").into(),
        ]
    };
    let w = run(args(&fifo), MINUTE);
    assert_eq!(w.code, 0, "{}", w.stderr);
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    // Checked before joining: a replaced FIFO would leave the reader waiting forever.
    assert!(kind.is_fifo(), "the FIFO was replaced");
    let got = reader.join().unwrap();
    assert!(got.starts_with("# "), "{got}");
    // A failed run still ends the FIFO's stream: its reader gets an end of file.
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(std::fs::read_to_string(fifo).unwrap_or_default());
        });
    }
    // The reader is waiting in its open before the run starts.
    std::thread::sleep(Duration::from_millis(100));
    let failed = lt(["report", "--since", "bogus", "-o"])
        .arg(&fifo)
        .arg(fixture("kinds.ndjson"))
        .code(2);
    assert!(failed.stderr.contains("--since"), "{}", failed.stderr);
    let got = rx
        .recv_timeout(MINUTE)
        .expect("the FIFO's reader never got an end of file");
    assert!(got.is_empty(), "{got}");
    // Through a symlink: the file it names gets the report, the link stays.
    let real = dir.path().join("real.md");
    std::fs::write(&real, "old\n").unwrap();
    let link = dir.path().join("link.md");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let w = run(args(&link), MINUTE);
    assert_eq!(w.code, 0, "{}", w.stderr);
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().starts_with("# "));
    // A dangling link is created through, as `>` would, only once the run succeeds.
    let later = dir.path().join("later.md");
    let dangling = dir.path().join("dangling.md");
    std::os::unix::fs::symlink(&later, &dangling).unwrap();
    let failed = lt(["report", "--since", "bogus", "-o"])
        .arg(&dangling)
        .arg(fixture("kinds.ndjson"))
        .code(2);
    assert!(failed.stderr.contains("--since"), "{}", failed.stderr);
    assert!(
        !later.exists(),
        "a failed run created (or emptied) the output"
    );
    let w = run(args(&dangling), MINUTE);
    assert_eq!(w.code, 0, "{}", w.stderr);
    assert!(std::fs::symlink_metadata(&dangling).unwrap().is_symlink());
    assert!(std::fs::read_to_string(&later).unwrap().starts_with("# "));
    assert_eq!(
        names_in(dir.path()),
        ["dangling.md", "later.md", "link.md", "pipe", "real.md"]
    );
}

#[test]
fn output_file_is_replaced_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("incident.md");
    std::fs::write(&target, "previous report\n").unwrap();
    // A run that fails after the output was opened (--strict stops at a malformed
    // record) leaves the old report and no temporary file.
    let bad = tempfile::tempdir().unwrap();
    let bad = bad.path().join("bad.ndjson");
    std::fs::write(&bad, format!("{}\nnot json\n", entry(1, "INFO", "x"))).unwrap();
    let w = run(
        [
            OsString::from("report"),
            "--strict".into(),
            "-o".into(),
            target.clone().into(),
            bad.into(),
        ],
        MINUTE,
    );
    w.sane();
    assert_eq!(w.code, 2, "{}", w.stderr);
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "previous report\n"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        [OsString::from("incident.md")],
        "a temporary file was left behind"
    );
    // A run killed mid-way leaves the old report too (the report is renamed in
    // only once complete). Its input is a pipe held open, so it is mid-way however
    // fast it reads.
    let mut child = Command::new(env!("CARGO_BIN_EXE_logtriage"))
        .args(["report", "-j", "1", "-o"])
        .arg(&target)
        .stdin(Stdio::piped())
        .stderr(std::fs::File::create(dir.path().join("killed.err")).unwrap())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(&ndjson(1_000)).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    assert!(
        child.try_wait().unwrap().is_none(),
        "it ended before its input did"
    );
    let _ = child.kill();
    let _ = child.wait();
    drop(input);
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "previous report\n"
    );
    // A successful run replaces it whole, with the permissions of the file it replaces.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    let w = run(
        [
            OsString::from("report"),
            "-o".into(),
            target.clone().into(),
            fixture("kinds.ndjson").into(),
        ],
        MINUTE,
    );
    assert_eq!(w.code, 0, "{}", w.stderr);
    assert!(w.stdout.is_empty());
    let got = std::fs::read_to_string(&target).unwrap();
    assert!(got.starts_with("# ") && got.ends_with('\n'), "{got}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "the replaced report keeps its permissions");
        // A new report gets the usual permissions (0666 less the umask), as `>` would.
        let fresh = dir.path().join("fresh.md");
        let plain = dir.path().join("plain");
        std::fs::File::create(&plain).unwrap();
        run(
            [
                OsString::from("report"),
                "-o".into(),
                fresh.clone().into(),
                fixture("kinds.ndjson").into(),
            ],
            MINUTE,
        );
        let want = std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, want, "a new report is not private to its owner");
    }
}

/// Many services and revisions: `stats` and `report` print well over a pipe buffer.
fn wide_input(dir: &Path) -> PathBuf {
    let path = dir.join("wide.ndjson");
    let mut s = String::new();
    for i in 0..4000 {
        s.push_str(
            &serde_json::json!({
                "insertId": format!("w{i}"), "severity": if i % 3 == 0 { "ERROR" } else { "INFO" },
                "timestamp": format!("2025-09-15T17:{:02}:{:02}Z", (i / 60) % 60, i % 60),
                "resource": {"type": "cloud_run_revision", "labels": {
                    "service_name": format!("service-{i}"), "revision_name": format!("service-{i}-00001-abc")}},
                "textPayload": format!("worker {i} failed: connection reset by peer"),
            })
            .to_string(),
        );
        s.push('\n');
    }
    std::fs::write(&path, s).unwrap();
    path
}

#[cfg(unix)]
#[test]
fn generated_scripts_end_quietly_on_a_closed_pipe() {
    // `completions bash | head -1` printed "internal error" (the generator panics on
    // a write error). The reading end is closed before the child writes.
    for args in [
        &["completions", "bash"][..],
        &["completions", "zsh"],
        &["man"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_logtriage"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

#[test]
fn closed_pipe_ends_quietly_with_status_0() {
    if Command::new("bash").arg("--version").output().is_err() {
        eprintln!("skipped: no bash");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = wide_input(dir.path());
    for args in [
        "stats",
        "stats -f json",
        "report",
        "report -f json",
        "report -f table",
    ] {
        // Make sure the output really is larger than the pipe buffer.
        let full = Command::new(env!("CARGO_BIN_EXE_logtriage"))
            .args(args.split(' '))
            .arg(&input)
            .output()
            .unwrap();
        assert!(
            full.stdout.len() > 256 << 10,
            "{args}: only {} bytes",
            full.stdout.len()
        );
        let script = format!(
            "\"$LT\" {args} {} 2>\"$ERR\" | head -c 100 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
            input.display()
        );
        let err = dir.path().join("stderr");
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env("LT", env!("CARGO_BIN_EXE_logtriage"))
            .env("ERR", &err)
            .output()
            .unwrap();
        let status = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let stderr = std::fs::read_to_string(&err).unwrap();
        assert_eq!(status, "0", "`{args} | head` exited {status}: {stderr}");
        assert!(stderr.is_empty(), "`{args} | head` printed: {stderr}");
    }
}
