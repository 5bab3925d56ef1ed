//! Shared by the fuzz targets: turn the fuzzer's bytes into an input file on a
//! RAM-backed folder, and a sink that checks the reader's accounting.
//!
//! `tests/fuzz_replay.rs` includes this file too (`#[path]`), and replays the corpus
//! kept in `tests/fixtures/fuzz/` through [`csv_interviews`], [`jsonl_events`] and
//! [`mapped_export`]: the same checks, in every `cargo test`, against the real
//! `noshow` crate.

// Each target uses one of the entry points.
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
    Some(Case { file: InputFile { path, rel: Arc::from(name.as_str()), kind, gzip, size: bytes.len() as u64, hash_on_read: true }, tz })
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

/// One `[[input.source]]` block as an HR export would need it: Chinese headers, a
/// status (interviews) or type (events) value map, a recruiter column, a date form.
fn mapped_source(
    kind: &str,
    encoding: &str,
    delimiter: &str,
    header_row: usize,
) -> Option<noshow::ingest::mapped::Source> {
    use std::collections::BTreeMap;
    let map = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>();
    let (columns, values, extra) = if kind == "interviews" {
        (
            map(&[
                ("interview_id", "面试编号"),
                ("candidate_id", "候选人"),
                ("role", "岗位"),
                ("region", "地区"),
                ("invited_at", "邀约时间"),
                ("scheduled_at", "面试时间"),
                ("status", "状态"),
            ]),
            BTreeMap::from([("status".to_string(), map(&[("已参加", "attended"), ("未到场", "no_show")]))]),
            map(&[("recruiter", "招聘负责人")]),
        )
    } else {
        (
            map(&[("event_id", "事件编号"), ("interview_id", "面试编号"), ("ts", "时间"), ("type", "类型")]),
            BTreeMap::from([("type".to_string(), map(&[("参加", "joined"), ("已读", "message_read")]))]),
            BTreeMap::new(),
        )
    };
    let config = noshow::config::SourceConfig {
        kind: kind.to_string(),
        files: vec!["*".to_string()],
        sheet: None,
        header_row: Some(header_row),
        encoding: Some(encoding.to_string()),
        delimiter: Some(delimiter.to_string()),
        timezone: Some("Asia/Shanghai".to_string()),
        timestamp_formats: vec!["%Y/%m/%d %H:%M".to_string(), "%Y年%m月%d日 %H:%M".to_string()],
        columns,
        values,
        extra,
    };
    let sources = noshow::ingest::mapped::Sources::from_config(&[config]).ok()?;
    sources.list.into_iter().next()
}

/// A real workbook whose cells come from the fuzzer's bytes: rows split at `\n`,
/// cells at `\t`; a cell `#x` is the number x, `@x` the number x as a date cell,
/// anything else text. So calamine parses well-formed XML, and the cells' contents
/// reach the mapped reader's own code (Excel values to v1 text, the value maps).
fn workbook_from_cells(body: &[u8]) -> Option<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for (r, line) in body.split(|&b| b == b'\n').take(200).enumerate() {
        for (c, cell) in line.split(|&b| b == b'\t').take(30).enumerate() {
            let text = String::from_utf8_lossy(cell);
            let number = |t: &str| t.trim().parse::<f64>().ok();
            let (r, c) = (r as u32, c as u16);
            // A cell the writer refuses (too long, an invalid number) stays empty.
            let _ = match (text.strip_prefix('#').and_then(number), text.strip_prefix('@').and_then(number)) {
                (Some(n), _) => sheet.write_number(r, c, n).map(|_| ()),
                (_, Some(n)) => sheet.write_number_with_format(r, c, n, &date).map(|_| ()),
                _ => sheet.write_string(r, c, text.as_ref()).map(|_| ()),
            };
        }
    }
    book.save_to_buffer().ok()
}

/// The mapped reader on fuzzer bytes. The first byte picks the variant: bits 0-1 the
/// form (0: the bytes as a `.xlsx` file, 1: a real workbook of the bytes' cells, 2-3:
/// the bytes as a `.csv` text export), bits 2-3 the encoding (auto, gb18030, utf-16,
/// utf-8), bit 4 the delimiter (auto or `;`), bit 5 the header row (1 or 2), bit 6 the
/// kind (interviews or events). It must never panic, and when it reads the file every
/// row must be kept or set aside exactly once; a file error (not a workbook, not valid
/// in the encoding, a missing mapped header) is a correct outcome.
pub fn mapped_export(data: &[u8]) {
    let _ = mapped_export_rows(data);
}

/// [`mapped_export`], returning the rows read when the file was read (`None`: a file
/// error, or bytes that make no case), so the replay can tell read inputs apart.
pub fn mapped_export_rows(data: &[u8]) -> Option<u64> {
    let (&mode, body) = data.split_first()?;
    let kind = if mode & 0x40 == 0 { "interviews" } else { "events" };
    let encoding = ["auto", "gb18030", "utf-16", "utf-8"][usize::from((mode >> 2) & 3)];
    let delimiter = if mode & 0x10 == 0 { "auto" } else { ";" };
    let header_row = if mode & 0x20 == 0 { 1 } else { 2 };
    let source = mapped_source(kind, encoding, delimiter, header_row)?;
    let (name, bytes) = match mode & 3 {
        0 => ("export.xlsx", body.to_vec()),
        1 => ("export.xlsx", workbook_from_cells(body)?),
        _ => ("export.csv", body.to_vec()),
    };
    let path = scratch_dir().join(name);
    std::fs::write(&path, &bytes).ok()?;
    let kind = if kind == "interviews" {
        noshow::ingest::record::InputKind::Interviews
    } else {
        noshow::ingest::record::InputKind::Events
    };
    let file = InputFile { path, rel: Arc::from(name), kind, gzip: false, size: bytes.len() as u64, hash_on_read: true };
    let mut sink = Counting::default();
    let (stats, _) = noshow::ingest::mapped::read(&file, &source, chrono_tz::UTC, &mut sink, &|_| {}).ok()?;
    check(&stats, &sink);
    Some(stats.rows_read)
}
