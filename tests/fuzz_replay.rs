//! The fuzz corpus as regression tests: every input the fuzzers kept (minimised with
//! `cargo fuzz cmin`, see docs/reliability.md) goes through the same harness as in
//! `fuzz/`, against the real crate. A reader change that panics or miscounts on any of
//! them fails here, in every `cargo test`, without a fuzzer.

use std::path::Path;

#[path = "../fuzz/fuzz_targets/common.rs"]
mod common;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    // The corpus is committed; an empty folder would make this test pass vacuously.
    assert!(files.len() >= 20, "{} holds {} inputs", dir.display(), files.len());
    for file in &files {
        let data = std::fs::read(file).unwrap();
        // A panic names the input that caused it.
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{target} failed on {}", file.display());
    }
}

#[test]
fn csv_reader_corpus() {
    replay("csv_interviews", common::csv_interviews);
}

#[test]
fn jsonl_reader_corpus() {
    replay("jsonl_events", common::jsonl_events);
}

#[test]
fn mapped_reader_corpus() {
    replay("mapped_export", common::mapped_export);
    // The corpus must reach the readers' rows, not only their file errors: the seeds
    // (tests/py/make_mapped_fuzz_seeds.py) read as workbooks, as cells and as text.
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/mapped_export");
    let mut read = Vec::new();
    for entry in std::fs::read_dir(&seeds).unwrap() {
        let path = entry.unwrap().path();
        if common::mapped_export_rows(&std::fs::read(&path).unwrap()).is_some_and(|rows| rows > 0) {
            read.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    read.sort();
    for seed in ["xlsx-title", "xlsx-events", "cells-title", "gbk-semicolon-title", "utf16-tab", "utf16be-bom-auto", "events-gbk"] {
        assert!(read.iter().any(|r| r == seed), "seed {seed} was not read (read: {read:?})");
    }
}
