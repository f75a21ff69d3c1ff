//! The real exports in `../shared/real-exports`, when present: every NDJSON
//! line and every gcloud array element is framed, with no problem.

use super::*;
use crate::ingest::{open, Discovery, Origin, Source};
use std::path::{Path, PathBuf};

fn exports() -> Option<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real-exports");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    Some(files)
}

fn named<'a>(files: &'a [PathBuf], pred: impl Fn(&str) -> bool + 'a) -> Vec<&'a PathBuf> {
    files
        .iter()
        .filter(|p| pred(&p.file_name().unwrap().to_string_lossy()))
        .collect()
}

/// Reads through the public API with default options, and again with tiny sizes.
fn read(path: &Path) -> Out {
    let out = run_reader(
        Box::new(std::fs::File::open(path).unwrap()),
        4 << 10,
        1000,
        16 << 20,
    )
    .unwrap();
    let sources = [Source {
        display: path.display().to_string(),
        origin: Origin::File(path.to_path_buf()),
        size: None,
    }];
    let reader = open(&sources, 0, &IngestOptions::default()).unwrap();
    let spans: Vec<_> = reader
        .flat_map(|c| {
            c.records
                .iter()
                .map(|s| (s.line, s.index))
                .collect::<Vec<_>>()
        })
        .collect();
    let want: Vec<_> = out.records.iter().map(|r| (r.line, r.index)).collect();
    assert_eq!(spans, want, "{}", path.display());
    out
}

#[test]
fn every_ndjson_line_is_one_record() {
    let Some(files) = exports() else { return };
    for path in named(&files, |n| n.ends_with(".ndjson")) {
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let out = read(path);
        assert_eq!(out.format, Format::Ndjson, "{}", path.display());
        assert!(
            out.problems.is_empty(),
            "{}: {:?}",
            path.display(),
            out.problems
        );
        assert_eq!(out.texts(), lines, "{}", path.display());
    }
}

#[test]
fn every_gcloud_array_element_is_one_record() {
    let Some(files) = exports() else { return };
    for path in named(&files, |n| {
        n.starts_with("gcloud-array-") && n.ends_with(".json")
    }) {
        let text = std::fs::read_to_string(path).unwrap();
        let want: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        let out = read(path);
        assert_eq!(out.format, Format::Array, "{}", path.display());
        assert!(
            out.problems.is_empty(),
            "{}: {:?}",
            path.display(),
            out.problems
        );
        let got: Vec<serde_json::Value> = out
            .records
            .iter()
            .map(|r| serde_json::from_str(&r.text).unwrap())
            .collect();
        assert_eq!(got, want, "{}", path.display());
        assert_eq!(out.records.first().map(|r| r.line), Some(2));
    }
}

#[test]
fn gzip_copy_frames_like_its_source() {
    let Some(files) = exports() else { return };
    for path in named(&files, |n| n.ends_with(".ndjson.gz")) {
        let plain = path.with_extension("");
        let out = read(path);
        assert!(out.compressed);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(out.records, read(&plain).records, "{}", path.display());
    }
}

#[test]
fn discovering_the_folder_finds_every_export() {
    let Some(files) = exports() else { return };
    let dir = files[0].parent().unwrap().to_path_buf();
    let Discovery {
        sources, errors, ..
    } = crate::ingest::discover(&[dir]);
    assert!(errors.is_empty(), "{errors:?}");
    let logs = named(&files, |n| {
        n.ends_with(".json") || n.ends_with(".ndjson") || n.ends_with(".ndjson.gz")
    });
    assert_eq!(sources.len(), logs.len());
}
