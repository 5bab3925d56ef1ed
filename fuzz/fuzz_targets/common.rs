//! Shared by both fuzz targets: turn the fuzzer's bytes into an input file on a
//! RAM-backed folder, and a sink that checks the reader's accounting.
//!
//! `tests/fuzz_replay.rs` includes this file too (`#[path]`), and replays the corpus
//! kept in `tests/fixtures/fuzz/` through [`csv_interviews`] and [`jsonl_events`]:
//! the same checks, in every `cargo test`, against the real `noshow` crate.

// Each target uses one of the two entry points.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use noshow::ingest::files::{classify, FileStats, InputFile};
use noshow::ingest::record::{EventRow, InterviewRow, Problem, RowSink, Severity};

/// Counts what a reader hands over, so the target can check rows read = kept + set aside.
#[derive(Default)]
pub struct Counting {
    pub kept: u64,
    pub set_aside: u64,
    pub warnings: u64,
    pub last_line: u64,
}

impl RowSink for Counting {
    fn interview(&mut self, row: InterviewRow) {
        assert!(row.origin.line >= self.last_line, "rows out of line order");
        self.last_line = row.origin.line;
        self.kept += 1;
    }
    fn event(&mut self, row: EventRow) {
        assert!(row.origin.line >= self.last_line, "rows out of line order");
        self.last_line = row.origin.line;
        self.kept += 1;
    }
    fn problem(&mut self, problem: Problem) {
        match problem.severity {
            Severity::SetAside => self.set_aside += 1,
            Severity::Warning => self.warnings += 1,
        }
    }
}

/// The first byte picks the variant: bit 0 the time zone (UTC or one with DST gaps),
/// bits 1-2 plain bytes, the rest gzip-compressed, or the rest as a (broken) `.gz`.
pub struct Case {
    pub file: InputFile,
    pub tz: chrono_tz::Tz,
}

pub fn case(data: &[u8], stem: &str) -> Option<Case> {
    let (&mode, body) = data.split_first()?;
    let tz = if mode & 1 == 0 { chrono_tz::UTC } else { chrono_tz::America::New_York };
    let (name, bytes): (String, Vec<u8>) = match (mode >> 1) % 3 {
        0 => (stem.to_string(), body.to_vec()),
        1 => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(body).ok()?;
            (format!("{stem}.gz"), enc.finish().ok()?)
        }
        _ => (format!("{stem}.gz"), body.to_vec()),
    };
    let dir = scratch_dir();
    let path = dir.join(&name);
    std::fs::write(&path, &bytes).ok()?;
    let (kind, gzip) = classify(&name)?;
    Some(Case { file: InputFile { path, rel: Arc::from(name.as_str()), kind, gzip, size: bytes.len() as u64 }, tz })
}

fn scratch_dir() -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
    let dir = base.join(format!("noshow-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Every row read is kept or set aside, exactly once.
pub fn check(stats: &FileStats, sink: &Counting) {
    assert_eq!(stats.rows_read, sink.kept + sink.set_aside, "rows read != kept + set aside");
    assert_eq!(stats.set_aside, sink.set_aside);
    assert_eq!(stats.warnings, sink.warnings);
}

/// One run of the interviews CSV reader on fuzzer bytes. It must never panic, and
/// when it reads the file every row must be kept or set aside exactly once. A file
/// that cannot be read at all (not UTF-8, broken gzip, bad header) is an error, a
/// correct outcome; only panics and miscounts are findings.
pub fn csv_interviews(data: &[u8]) {
    let Some(case) = case(data, "interviews.csv") else { return };
    let mut sink = Counting::default();
    if let Ok(stats) = noshow::ingest::csv_reader::read_interviews(&case.file, case.tz, &mut sink, &|_| {}) {
        check(&stats, &sink);
    }
}

/// The same for the events JSONL reader.
pub fn jsonl_events(data: &[u8]) {
    let Some(case) = case(data, "events.jsonl") else { return };
    let mut sink = Counting::default();
    if let Ok(stats) = noshow::ingest::jsonl_reader::read_events(&case.file, case.tz, &mut sink, &|_| {}) {
        check(&stats, &sink);
    }
}
