//! Format detection from the first bytes of the (decompressed) stream, never
//! from the file name.

use memchr::memchr;

use super::scan::{is_ws, Hit, Mode, Scan};
use super::Format;

/// A UTF-8 byte order mark.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Longest `key` looked at when deciding whether a first line is YAML.
const MAX_YAML_KEY: usize = 256;

/// What the first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniff {
    /// Undecided: read more. The first `skip` bytes are whitespace and can be dropped.
    More { skip: usize },
    /// Decided; framing starts after `skip` bytes of leading whitespace.
    Format { format: Format, skip: usize },
    /// gcloud's default YAML output.
    Yaml,
    /// A gcloud error message (`ERROR: (gcloud.logging.read) PERMISSION_DENIED: ...`)
    /// saved instead of logs.
    GcloudError,
}

/// Most bytes looked at to tell what a top-level object is, blanks included.
pub(crate) const MAX_LOOK: usize = 4096;

/// What a top-level object is, told from its first key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opens {
    /// A Logging API `entries.list` response.
    Response,
    /// `{}`, this many bytes long (blanks inside included).
    Empty(usize),
    /// Anything else: a record.
    Record,
}

/// Matches `tokens` in `rest` from `i`, blanks allowed before each: the end of the
/// last one, `Some(None)` when they are not there, `None` when more bytes are needed.
fn expect(rest: &[u8], mut i: usize, tokens: &[&[u8]], eof: bool) -> Option<Option<usize>> {
    for token in tokens {
        while rest.get(i).is_some_and(|&b| is_ws(b)) && i < MAX_LOOK {
            i += 1;
        }
        let have = rest.get(i..).unwrap_or_default();
        let n = have.len().min(token.len());
        if have.get(..n) != token.get(..n) || i >= MAX_LOOK {
            return Some(None);
        }
        if n < token.len() {
            return if eof { Some(None) } else { None };
        }
        i += token.len();
    }
    Some(Some(i))
}

/// What the object at the start of `rest` is; `None` when more bytes are needed.
///
/// A response when its first key is `entries` holding an array or `nextPageToken`
/// holding a string (the API writes `entries` first; `jq -S` and other tools sort
/// `nextPageToken` first). No LogEntry has either field at its top level, so an entry
/// is never taken for a response, whatever its payload holds (an `entries` field of
/// a `jsonPayload` is no first key). A key looked at is always whole, so
/// `"entriesX"` is a record too.
pub(crate) fn opens(rest: &[u8], eof: bool) -> Option<Opens> {
    if let Some(n) = expect(rest, 0, &[b"{", b"}"], eof)? {
        return Some(Opens::Empty(n));
    }
    for first in [
        &[&b"{"[..], b"\"entries\"", b":", b"["],
        &[b"{", b"\"nextPageToken\"", b":", b"\""],
    ] {
        if expect(rest, 0, first, eof)?.is_some() {
            return Some(Opens::Response);
        }
    }
    Some(Opens::Record)
}

/// `Some(true)` when the stream's first object that is not `{}` is an `entries.list`
/// response (see [`opens`]); `None` when more bytes are needed to tell.
///
/// `{}` is what the API returns when nothing matched, so `{}` objects before a
/// response are empty responses. A stream of `{}` alone stays what it was before
/// responses were read (empty objects: records without a time): nothing in it says
/// it came from the API.
fn entries_list(rest: &[u8], eof: bool) -> Option<bool> {
    let mut i = 0;
    loop {
        match opens(rest.get(i..).unwrap_or_default(), eof)? {
            Opens::Response => return Some(true),
            Opens::Record => return Some(false),
            Opens::Empty(n) => i += n,
        }
        let after = rest.get(i..).unwrap_or_default();
        match after.iter().position(|&b| !is_ws(b)) {
            Some(k) if after.get(k) == Some(&b'{') && i + k < MAX_LOOK => i += k,
            Some(_) => return Some(false),
            None if eof || i >= MAX_LOOK => return Some(false),
            None => return None,
        }
    }
}

/// How gcloud's error messages start.
const GCLOUD_ERROR: &[u8] = b"ERROR: (gcloud.";

/// gcloud's `WARNING:` lines followed by its error, within the first 64 KiB.
fn warned_then_failed(rest: &[u8]) -> bool {
    let head = rest.get(..64 << 10).unwrap_or(rest);
    memchr::memmem::find(head, b"\nERROR: (gcloud.").is_some()
}

/// Magic bytes of what is not read, with its name and the way to JSON. Without this,
/// a UTF-16 file (PowerShell's `>`) or an xz archive gave one "not a JSON object"
/// warning per line and an "OK" report of 0 entries.
const UNSUPPORTED: &[(&[u8], &str, &str)] = &[
    (
        b"\xFF\xFE",
        "UTF-16 text",
        "convert it to UTF-8 first (PowerShell: `Out-File -Encoding utf8`)",
    ),
    (
        b"\xFE\xFF",
        "UTF-16 text",
        "convert it to UTF-8 first (`iconv -f UTF-16 -t UTF-8`)",
    ),
    (
        b"BZh",
        "a bzip2 archive",
        "decompress it first (`bzip2 -dc FILE | logtriage report`)",
    ),
    (
        b"\xFD7zXZ\x00",
        "an xz archive",
        "decompress it first (`xz -dc FILE | logtriage report`)",
    ),
    (
        b"\x28\xB5\x2F\xFD",
        "a zstd archive",
        "decompress it first (`zstd -dc FILE | logtriage report`)",
    ),
    (
        b"\x1F\x8B",
        "gzip inside gzip",
        "decompress the outer layer first (`zcat FILE | logtriage report`)",
    ),
    (
        b"PK\x03\x04",
        "a zip archive",
        "unzip it and pass the files or the folder",
    ),
];

/// A tar archive (`.tar`, or `.tar.gz` once inflated): read as text, each file's
/// first record was lost as "not a JSON object" and the run exited 0.
const TAR: (&str, &str) = (
    "a tar archive",
    "extract it first (`mkdir logs && tar -xf FILE -C logs`; `tar -xzf` for .tar.gz) \
     and point logtriage at the folder (`logtriage report logs`)",
);

/// A tar header block's size; [`unsupported`] reads the first one whole.
const TAR_BLOCK: usize = 512;

/// Bytes that [`unsupported`] needs to see (fewer at the end of input).
pub(crate) const MAGIC_LEN: usize = TAR_BLOCK;

/// What the first bytes of the (decompressed) stream are, when it is a format that
/// is not read: its name and how to get JSON out of it.
pub(crate) fn unsupported(data: &[u8]) -> Option<(&'static str, &'static str)> {
    if is_tar(data) {
        return Some(TAR);
    }
    UNSUPPORTED.iter().find_map(|(magic, what, fix)| {
        let whole = data.starts_with(magic);
        // bzip2's "BZh" is only a magic number with its block-size digit after it.
        let bzip_digit = *magic != b"BZh" || data.get(3).is_some_and(|d| (b'1'..=b'9').contains(d));
        (whole && bzip_digit).then_some((*what, *fix))
    })
}

/// True when `data` starts with a tar header: `ustar` at byte 257 (POSIX and GNU)
/// and a checksum that adds up, so text that has "ustar" there is not taken for one.
fn is_tar(data: &[u8]) -> bool {
    let Some(header) = data.get(..TAR_BLOCK) else {
        return false;
    };
    if header.get(257..262) != Some(b"ustar".as_slice()) {
        return false;
    }
    // The checksum: octal digits at 148..156, the sum of the header's bytes with
    // that field counted as spaces.
    let field = header.get(148..156).unwrap_or_default();
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(u8::is_ascii_digit)
        .collect();
    let Some(want) = std::str::from_utf8(&digits)
        .ok()
        .and_then(|d| u64::from_str_radix(d, 8).ok())
    else {
        return false;
    };
    let field_as_spaces = |(i, &b): (usize, &u8)| {
        if (148..156).contains(&i) {
            b' '
        } else {
            b
        }
    };
    // Old tars summed the bytes as signed.
    let unsigned: u64 = header
        .iter()
        .enumerate()
        .map(field_as_spaces)
        .map(u64::from)
        .sum();
    let signed: i64 = header
        .iter()
        .enumerate()
        .map(field_as_spaces)
        .map(|b| i64::from(b as i8))
        .sum();
    unsigned == want || u64::try_from(signed).is_ok_and(|s| s == want)
}

/// Length of a UTF-8 byte order mark at the start of `data`; `None` until enough is read.
pub(crate) fn bom_len(data: &[u8], eof: bool) -> Option<usize> {
    if data.starts_with(BOM) {
        Some(BOM.len())
    } else if !eof && BOM.starts_with(data) {
        None
    } else {
        Some(0)
    }
}

/// Decides the format from `data` (the stream after any BOM and skipped whitespace).
///
/// `[` is an array; `{"entries": [` or `{"nextPageToken": "` (after any `{}`) is
/// `entries.list` responses; other `{` is NDJSON when the first object ends its line (or a string left open ends it and a
/// `{` starts the next), else back-to-back objects; `---` or a `key: value` first
/// line is YAML; anything else is framed as NDJSON so each bad line gets reported.
pub(crate) fn sniff(data: &[u8], eof: bool, max_record: usize) -> Sniff {
    let Some(p) = data.iter().position(|&b| !is_ws(b)) else {
        return if eof {
            Sniff::Format {
                format: Format::Empty,
                skip: data.len(),
            }
        } else {
            Sniff::More { skip: data.len() }
        };
    };
    let rest = data.get(p..).unwrap_or_default();
    let decided = match rest.first() {
        Some(b'[') => Some(Format::Array),
        Some(b'{') => match entries_list(rest, eof) {
            Some(true) => Some(Format::EntriesList),
            Some(false) => first_object(rest, eof, max_record),
            None => None,
        },
        // Before the YAML test, which `ERROR: ...` also passes, with the wrong advice.
        Some(b'E') if rest.starts_with(GCLOUD_ERROR) => return Sniff::GcloudError,
        // gcloud may warn before it fails: `WARNING: ...` lines, then the error.
        Some(b'W') if rest.starts_with(b"WARNING: ") && warned_then_failed(rest) => {
            return Sniff::GcloudError
        }
        Some(b'E') if !eof && GCLOUD_ERROR.starts_with(rest) => None,
        _ => match looks_like_yaml(rest, eof) {
            Some(true) => return Sniff::Yaml,
            Some(false) => Some(Format::Ndjson),
            None => None,
        },
    };
    match decided {
        Some(format) => Sniff::Format { format, skip: p },
        None => Sniff::More { skip: p },
    }
}

/// NDJSON if the first object closes with only whitespace after it on its line,
/// back-to-back objects if something follows it there or it spans lines.
///
/// The first object decides, not the first line: objects written back to back with
/// no newline (or with CR line ends) make one line of any length, and waiting for
/// it to end, then calling it one too-large NDJSON record, lost the whole file.
fn first_object(rest: &[u8], eof: bool, max_record: usize) -> Option<Format> {
    let (line, complete) = match memchr(b'\n', rest) {
        // With its newline, so a string the line leaves open is seen as cut.
        Some(k) => (rest.get(..=k).unwrap_or_default(), true),
        None => (rest, eof),
    };
    let look = line.get(..max_record.saturating_add(1)).unwrap_or(line);
    match Scan::default().run(look, 0, Mode::Object) {
        // A first record cut inside a string (`"C:\temp\"}}`) is NDJSON's broken line
        // when a record starts the next one: framed as objects, the whole file was
        // read as that string's inside and lost.
        Some(Hit::BrokenString(_)) => {
            let after = rest.get(line.len()..).unwrap_or_default();
            match after.iter().position(|&b| !is_ws(b)) {
                Some(k) if after.get(k) == Some(&b'{') => Some(Format::Ndjson),
                Some(_) => Some(Format::Objects),
                None if eof || after.len() > max_record => Some(Format::Ndjson),
                None => None,
            }
        }
        Some(Hit::End(end)) => {
            if line
                .get(end..)
                .unwrap_or_default()
                .iter()
                .all(|&b| is_ws(b))
            {
                // Only whitespace so far: NDJSON once the line is known to end here.
                complete.then_some(Format::Ndjson)
            } else {
                Some(Format::Objects)
            }
        }
        // Larger than a record either way: NDJSON framing reports it and moves on.
        _ if line.len() > max_record => Some(Format::Ndjson),
        _ if complete => Some(Format::Objects),
        _ => None,
    }
}

/// `Some(true)` for `---` or a first line like `insertId: abc` / `resource:`;
/// `None` when more bytes are needed to tell.
fn looks_like_yaml(rest: &[u8], eof: bool) -> Option<bool> {
    if rest.starts_with(b"---") {
        return Some(true);
    }
    if !eof && rest.len() < 3 && b"---".starts_with(rest) {
        return None;
    }
    let first = rest.first()?;
    if !(first.is_ascii_alphabetic() || *first == b'_') {
        return Some(false);
    }
    let key_len = rest
        .iter()
        .take(MAX_YAML_KEY)
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/')));
    let Some(k) = key_len else {
        return if eof || rest.len() >= MAX_YAML_KEY {
            Some(false)
        } else {
            None
        };
    };
    if rest.get(k) != Some(&b':') {
        return Some(false);
    }
    match rest.get(k + 1) {
        None if eof => Some(true),
        None => None,
        Some(&b) => Some(matches!(b, b' ' | b'\t' | b'\r' | b'\n')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(data: &[u8]) -> Sniff {
        sniff(data, true, 1 << 20)
    }

    fn format(format: Format, skip: usize) -> Sniff {
        Sniff::Format { format, skip }
    }

    #[test]
    fn bom_is_recognised_even_when_split() {
        assert_eq!(bom_len(b"\xEF\xBB\xBF{}", false), Some(3));
        assert_eq!(bom_len(b"\xEF\xBB", false), None);
        assert_eq!(bom_len(b"\xEF\xBB", true), Some(0));
        assert_eq!(bom_len(b"{}", false), Some(0));
        assert_eq!(bom_len(b"", false), None);
    }

    #[test]
    fn encodings_and_archives_not_read_are_named() {
        for (data, what) in [
            (&b"\xFF\xFE{\x00\"\x00"[..], "UTF-16 text"),
            (b"BZh91AY&SY", "a bzip2 archive"),
            (b"\xFD7zXZ\x00\x00", "an xz archive"),
            (b"\x28\xB5\x2F\xFD\x00\x58", "a zstd archive"),
            (b"\x1F\x8B\x08\x00\x00\x00", "gzip inside gzip"),
        ] {
            assert_eq!(unsupported(data).map(|u| u.0), Some(what));
        }
        // "BZh" without a block size is text; magic numbers count at the start only.
        assert_eq!(unsupported(b"BZhello\n"), None);
        assert_eq!(unsupported(b" BZh91AY&SY"), None);
        assert_eq!(unsupported(b"{\"a\":1}\n"), None);
    }

    /// A tar header block for `name` (POSIX `ustar`, or GNU's `ustar  `).
    fn tar_header(name: &str, gnu: bool) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[124..136].copy_from_slice(b"00000000010\0");
        h[156] = b'0';
        let magic: &[u8] = if gnu { b"ustar  \0" } else { b"ustar\x0000" };
        h[257..265].copy_from_slice(magic);
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        h
    }

    #[test]
    fn a_tar_archive_is_named() {
        for gnu in [false, true] {
            let mut tar = tar_header("logs/a.ndjson", gnu);
            tar.extend_from_slice(b"{\"a\":1}\n");
            assert_eq!(unsupported(&tar).map(|u| u.0), Some("a tar archive"));
            assert!(unsupported(&tar).is_some_and(|u| u.1.contains("tar -xzf")));
        }
        // "ustar" at byte 257 of text, or a header whose checksum does not add up.
        let mut text = br#"{"m":""#.to_vec();
        text.resize(257, b'x');
        text.extend_from_slice(b"ustar\"}\n");
        text.resize(600, b'\n');
        assert_eq!(unsupported(&text), None);
        let mut bad = tar_header("a", false);
        bad[0] = b'b';
        assert_eq!(unsupported(&bad), None);
        assert_eq!(unsupported(&tar_header("a", false)[..511]), None);
    }

    #[test]
    fn formats_from_first_bytes() {
        assert_eq!(fmt(b""), format(Format::Empty, 0));
        assert_eq!(fmt(b" \n\r\n\t"), format(Format::Empty, 5));
        assert_eq!(fmt(b"\n [\n"), format(Format::Array, 2));
        assert_eq!(fmt(b"{\"a\":1}\n{}"), format(Format::Ndjson, 0));
        assert_eq!(fmt(b"{\"a\":\"}\"} \r\n"), format(Format::Ndjson, 0));
        assert_eq!(fmt(b"{\"a\":1}"), format(Format::Ndjson, 0));
        assert_eq!(fmt(b"{\n  \"a\": 1\n}\n"), format(Format::Objects, 0));
        assert_eq!(fmt(b"{\"a\":1}{\"b\":2}\n"), format(Format::Objects, 0));
        assert_eq!(fmt(b"{\"a\":1},\n{\"b\":2}\n"), format(Format::Objects, 0));
        assert_eq!(fmt(b"hello world\n"), format(Format::Ndjson, 0));
        assert_eq!(fmt(b"2025-01-01 10:00:00 boom"), format(Format::Ndjson, 0));
        assert_eq!(fmt(b"http://x"), format(Format::Ndjson, 0));
    }

    #[test]
    fn a_first_line_cut_inside_a_string_is_ndjson_when_a_record_follows() {
        let winpath = b"{\"m\":\"C:\\temp\\\"}}\n{\"a\":1}\n";
        assert_eq!(fmt(winpath), format(Format::Ndjson, 0));
        assert_eq!(
            fmt(b"{\"k\":\"v\\\n\n {\"a\":1}\n"),
            format(Format::Ndjson, 0)
        );
        assert_eq!(fmt(b"{\"m\":\"x\n"), format(Format::Ndjson, 0));
        // The string's own rest on the next line: objects (which resync at a `{` line).
        assert_eq!(fmt(b"{\"m\":\"x\ny\"}\n{}\n"), format(Format::Objects, 0));
        // Undecided until the next line's first byte is read.
        assert_eq!(
            sniff(b"{\"m\":\"x\n  ", false, 100),
            Sniff::More { skip: 0 }
        );
    }

    #[test]
    fn a_saved_gcloud_error_is_named() {
        let msg = b"ERROR: (gcloud.logging.read) PERMISSION_DENIED: Permission denied\n";
        assert_eq!(fmt(msg), Sniff::GcloudError);
        assert!(matches!(
            sniff(b"ERROR: (gc", false, 1 << 20),
            Sniff::More { .. }
        ));
        assert_eq!(fmt(b"ERROR: disk full\n"), Sniff::Yaml);
        let warned = b"WARNING: Reauthentication required.\nERROR: (gcloud.logging.read) There was a problem refreshing your current auth tokens\n";
        assert_eq!(fmt(warned), Sniff::GcloudError);
        assert_eq!(fmt(b"WARNING: low disk\n"), Sniff::Yaml);
    }

    #[test]
    fn entries_list_responses_are_told_by_their_first_key() {
        let list = format(Format::EntriesList, 0);
        let pretty = b"{\n  \"entries\": [\n    {\n      \"insertId\": \"a\"\n    }\n  ],\n  \"nextPageToken\": \"x\"\n}\n";
        assert_eq!(fmt(pretty), list);
        assert_eq!(fmt(b"{\"entries\":[{\"insertId\":\"a\"}]}\n"), list);
        assert_eq!(fmt(b"{\"entries\":[]}"), list);
        assert_eq!(fmt(b"{\"nextPageToken\":\"x\",\"entries\":[]}"), list);
        assert_eq!(fmt(b"{ \"nextPageToken\" : \"x\" }\n"), list);
        // `{}` (the API's empty page) before a response is one.
        assert_eq!(fmt(b"{}\n{ }{\"entries\":[]}"), list);
        // Alone it is an empty object, as before: nothing says it is a response.
        assert_eq!(fmt(b"{}"), format(Format::Ndjson, 0));
        assert_eq!(fmt(b"{}\n{}\n"), format(Format::Ndjson, 0));
        assert_eq!(
            fmt(b"{}\n{\"insertId\":\"a\"}\n"),
            format(Format::Ndjson, 0)
        );
        // A record with other keys first, or "entries" that is no list, is a record;
        // so is an entry holding an `entries` field anywhere.
        assert_eq!(fmt(b"{\"entriesX\":[1]}\n"), format(Format::Ndjson, 0));
        assert_eq!(fmt(b"{\"entries\":3}\n"), format(Format::Ndjson, 0));
        assert_eq!(
            fmt(b"{\"nextPageToken\":null}\n"),
            format(Format::Ndjson, 0)
        );
        assert_eq!(
            fmt(b"{\"insertId\":\"entries\"}\n"),
            format(Format::Ndjson, 0)
        );
        assert_eq!(
            fmt(b"{\"insertId\":\"a\",\"entries\":[1],\"jsonPayload\":{\"entries\":[]}}\n"),
            format(Format::Ndjson, 0)
        );
        assert_eq!(
            fmt(b"{\n  \"jsonPayload\": {\"entries\": [1]}\n}\n"),
            format(Format::Objects, 0)
        );
        // Undecided until the `[` is read.
        assert_eq!(
            sniff(b"{\n  \"entri", false, 1 << 20),
            Sniff::More { skip: 0 }
        );
        assert_eq!(
            sniff(b"{\"entries\":  ", false, 1 << 20),
            Sniff::More { skip: 0 }
        );
        assert_eq!(sniff(b"{}\n", false, 1 << 20), Sniff::More { skip: 0 });
        // Blanks are looked past up to a bound.
        let mut far = b"{".to_vec();
        far.resize(MAX_LOOK + 10, b' ');
        far.extend_from_slice(b"\"entries\":[]}");
        assert_eq!(fmt(&far), format(Format::Ndjson, 0));
    }

    #[test]
    fn yaml_is_refused() {
        assert_eq!(fmt(b"---\ninsertId: abc\n"), Sniff::Yaml);
        assert_eq!(fmt(b"insertId: abc\nlogName: x\n"), Sniff::Yaml);
        assert_eq!(fmt(b"httpRequest:\n  status: 500\n"), Sniff::Yaml);
        assert_eq!(fmt(b"\n\nresource:"), Sniff::Yaml);
    }

    #[test]
    fn waits_for_enough_bytes() {
        assert_eq!(sniff(b"  ", false, 100), Sniff::More { skip: 2 });
        assert_eq!(sniff(b" {\"a\":1", false, 100), Sniff::More { skip: 1 });
        assert_eq!(sniff(b"--", false, 100), Sniff::More { skip: 0 });
        assert_eq!(sniff(b"insertId", false, 100), Sniff::More { skip: 0 });
        assert_eq!(sniff(b"insertId:", false, 100), Sniff::More { skip: 0 });
        // A first line longer than a record can be is NDJSON without waiting for its end.
        assert_eq!(
            sniff(b"{\"a\":\"xxxxxxxx", false, 4),
            format(Format::Ndjson, 0)
        );
    }
}
