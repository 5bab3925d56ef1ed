//! `noshow generate --style hr-export`: the generated interview exports rewritten the
//! way a Chinese HR system exports them (the style of the committed
//! `data/sample-export/`), with the `[[input.source]]` mapping that reads them back.
//!
//! The world is generated exactly as in format v1; only its interview files change
//! form, so the same seed gives the same lake in either style (a test proves it):
//!
//! - the regular exports become one workbook, [`WORKBOOK_FILE`]: a merged title row
//!   above Chinese headers on row 2, naive local times as Excel date cells, costs as
//!   numbers, Chinese status words, 华东 spelled 华东区 on every other row and an
//!   extra 招聘负责人 (recruiter) column;
//! - the later re-export becomes [`TEXT_FILE`], GB18030 text with semicolons and CRLF,
//!   naive times as `2026/06/01 09:00:00`, the same headers and words;
//! - [`MAPPING_FILE`] maps both back (`noshow --config OUT/hr-export.toml ingest`).
//!
//! The event exports stay format v1. A v1 row with the wrong number of fields (a
//! `--bad-rows` fault) has no form in a workbook and is left out, and `expected.json`
//! is amended to match ([`Rewritten::amend_expected`]). This module reads the v1
//! files the command has just written and replaces them; it never touches others.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{Datelike, NaiveDateTime, Timelike};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::schema::INTERVIEW_COLUMNS;

/// Which form `noshow generate` writes the interview exports in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Style {
    /// Format v1: `interviews-NNN.csv`, `interviews-reexport.csv` (UTF-8, commas).
    #[default]
    V1,
    /// As a Chinese HR system exports them: one `.xlsx` workbook with a title row,
    /// Chinese headers and status words and a recruiter column, the re-export as
    /// GB18030 CSV with semicolons, and `hr-export.toml`, the mapping that reads them.
    HrExport,
}

/// The workbook holding the regular interview exports.
pub const WORKBOOK_FILE: &str = "面试记录.xlsx";
/// Its sheet.
pub const SHEET: &str = "面试记录";
/// The re-export, as GB18030 text with semicolons.
pub const TEXT_FILE: &str = "面试导出.csv";
/// The mapping that reads both (pass it with `--config`).
pub const MAPPING_FILE: &str = "hr-export.toml";
/// Excel's last row; the workbook must fit one sheet.
pub const MAX_INTERVIEWS: u64 = 1_000_000;

/// The export's header of each v1 column, in the format's order.
const HEADERS: &[(&str, &str)] = &[
    ("interview_id", "面试编号"),
    ("candidate_id", "候选人编号"),
    ("role", "岗位"),
    ("region", "地区"),
    ("education", "学历"),
    ("fresh_graduate", "应届生"),
    ("source", "来源渠道"),
    ("preferred_channel", "偏好渠道"),
    ("invited_at", "邀约时间"),
    ("scheduled_at", "面试时间"),
    ("status", "面试状态"),
    ("cause", "原因"),
    ("no_show_grade", "爽约等级"),
    ("cost", "成本"),
    ("updated_at", "更新时间"),
];
/// The extra column: (name in the lake, header in the export).
const RECRUITER: (&str, &str) = ("recruiter", "招聘负责人");
const RECRUITERS: &[&str] = &["王芳", "李娜", "张伟", "刘洋", "陈静"];
/// v1 status → the export's word.
const STATUS_WORDS: &[(&str, &str)] = &[
    ("attended", "已参加"),
    ("no_show", "未到场"),
    ("cancelled_by_candidate", "候选人取消"),
    ("cancelled_by_company", "公司取消"),
    ("rescheduled", "已改期"),
    ("scheduled", "待面试"),
];
/// The region the export spells two ways, and its second spelling.
const REGION_SPELLING: (&str, &str) = ("华东", "华东区");
const TIMESTAMP_FIELDS: &[&str] = &["invited_at", "scheduled_at", "updated_at"];
/// How the text export writes naive times.
const TEXT_TIME_FORM: &str = "%Y/%m/%d %H:%M:%S";

/// Whether `name` is a file this style writes (for `--force` and the refusal to
/// overwrite earlier generated files).
pub fn is_export_style_file(name: &str) -> bool {
    [WORKBOOK_FILE, TEXT_FILE, MAPPING_FILE].contains(&name)
}

/// What the rewrite wrote.
#[derive(Debug, Clone, Default)]
pub struct Rewritten {
    pub workbook_rows: u64,
    pub text_rows: u64,
    /// v1 rows with the wrong number of fields, which have no workbook form.
    pub left_out: u64,
}

/// One v1 interview row as the export shows it, before it is written.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// A naive local time (an Excel date cell in the workbook).
    Time(NaiveDateTime),
    /// A decimal without a thousands separator (a number cell in the workbook).
    Number(f64),
}

/// Rewrites the v1 interview files `regular_files` and `reexport_file` (names under
/// `out`, as the command wrote them) into the workbook and the text export, writes the
/// mapping, and removes the v1 files. Rows stream through one at a time (the workbook
/// in constant-memory mode), so memory does not grow with the number of interviews.
/// Each new file is written under a `.tmp` name and renamed once complete; the v1
/// files go only after all three are in place.
pub fn rewrite(out: &Path, regular_files: &[String], reexport_file: &str, seed: u64, tz: &str) -> anyhow::Result<Rewritten> {
    let mut spelling = 0u64;
    let mut left_out = 0u64;
    let book_path = out.join(WORKBOOK_FILE);
    let tmp = tmp_name(&book_path);
    let mut book = SheetWriter::new(&format!("AI 面试记录导出（noshow generate，种子 {seed}）")).map_err(|e| xlsx_error(&tmp, e))?;
    for name in regular_files {
        each_v1_row(&out.join(name), &mut left_out, |fields| {
            book.row(&export_row(&fields, &mut spelling)).map_err(|e| xlsx_error(&tmp, e))
        })?;
    }
    let workbook_rows = book.rows;
    book.book.save(&tmp).map_err(|e| xlsx_error(&tmp, e))?;
    fs::rename(&tmp, &book_path).with_context(|| format!("renaming {} to {}", tmp.display(), book_path.display()))?;

    let mut text = csv::WriterBuilder::new().delimiter(b';').terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    text.write_record(header_row())?;
    let mut text_rows = 0u64;
    each_v1_row(&out.join(reexport_file), &mut left_out, |fields| {
        text_rows += 1;
        Ok(text.write_record(text_cells(&export_row(&fields, &mut spelling)))?)
    })?;
    let text = String::from_utf8(text.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?).context("the text export is not text")?;
    write_file(&out.join(TEXT_FILE), &encoding_rs::GB18030.encode(&text).0)?;
    write_file(&out.join(MAPPING_FILE), mapping_toml(tz).as_bytes())?;
    for name in regular_files.iter().map(String::as_str).chain([reexport_file]) {
        let path = out.join(name);
        fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    }
    Ok(Rewritten { workbook_rows, text_rows, left_out })
}

impl Rewritten {
    /// Makes `expected.json`'s interview accounting that of the export-style files:
    /// their names and rows, less the rows left out.
    pub fn amend_expected(&self, expected: &mut Value) {
        expected["settings"]["style"] = json!("hr-export");
        let iv = &mut expected["interviews"];
        iv["files"] = json!({ WORKBOOK_FILE: self.workbook_rows, TEXT_FILE: self.text_rows });
        let less = |v: &Value| json!(v.as_u64().unwrap_or(0).saturating_sub(self.left_out));
        iv["rows_read"] = less(&iv["rows_read"]);
        iv["set_aside"] = less(&iv["set_aside"]);
        if let Some(by_reason) = iv["set_aside_by_reason"].as_object_mut() {
            let left = by_reason.get("wrong_field_count").and_then(Value::as_u64).unwrap_or(0).saturating_sub(self.left_out);
            if left == 0 {
                by_reason.remove("wrong_field_count");
            } else {
                by_reason.insert("wrong_field_count".into(), json!(left));
            }
        }
        iv["left_out_of_the_export"] = json!({
            "rows": self.left_out,
            "why": "v1 rows with the wrong number of fields (--bad-rows) have no form in a workbook",
        });
    }
}

fn tmp_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = tmp_name(path);
    fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

/// Hands each row of a v1 interview file (gzip or not) to `row`, as its 15 fields in
/// the format's column order, whatever the header's order and spelling. Rows with the
/// wrong number of fields are counted in `left_out` instead.
fn each_v1_row(path: &Path, left_out: &mut u64, mut row: impl FnMut(Vec<String>) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let raw = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut plain = Vec::new();
        flate2::read::MultiGzDecoder::new(raw.as_slice()).read_to_end(&mut plain).with_context(|| format!("reading {}", path.display()))?;
        plain
    } else {
        raw
    };
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(body);
    let header: Vec<String> =
        reader.headers().with_context(|| format!("reading {}", path.display()))?.iter().map(|h| h.trim().to_lowercase()).collect();
    let order: Vec<usize> = INTERVIEW_COLUMNS
        .iter()
        .map(|(c, _)| header.iter().position(|h| h == c).with_context(|| format!("{} has no column {c}", path.display())))
        .collect::<anyhow::Result<_>>()?;
    for record in reader.records() {
        let record = record.with_context(|| format!("reading {}", path.display()))?;
        if record.len() != header.len() {
            *left_out += 1;
            continue;
        }
        row(order.iter().map(|&i| record.get(i).unwrap_or("").to_string()).collect())?;
    }
    Ok(())
}

/// A naive `YYYY-MM-DD HH:MM:SS` (or with `T`) that is a real date and time, without
/// a fraction: what an HR system holds as a local date-time.
fn naive_time(value: &str) -> Option<NaiveDateTime> {
    let v = value.trim();
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
        .filter(|t| v.len() == 19 && (1900..=9999).contains(&t.year()))
}

/// A cost as a number cell: digits with an optional fraction, no more than Excel's
/// 15 significant digits (anything else stays text, as the v1 file had it).
fn number(value: &str) -> Option<f64> {
    let v = value.trim();
    let (int, frac) = v.split_once('.').unwrap_or((v, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(int) && digits(frac) && int.len() + frac.len() <= 15).then(|| v.parse().ok()).flatten()
}

/// The export's cells of one v1 row (fields in the format's order), then the recruiter.
/// `spelling` counts rows of the region spelled two ways.
pub fn export_row(fields: &[String], spelling: &mut u64) -> Vec<Cell> {
    let mut cells = Vec::with_capacity(fields.len() + 1);
    for ((column, _), value) in INTERVIEW_COLUMNS.iter().zip(fields) {
        let cell = match *column {
            "status" => {
                let word = STATUS_WORDS.iter().find(|(v1, _)| value.trim().eq_ignore_ascii_case(v1));
                Cell::Text(word.map_or_else(|| value.clone(), |w| w.1.to_string()))
            }
            "region" if value == REGION_SPELLING.0 => {
                *spelling += 1;
                Cell::Text(if *spelling % 2 == 0 { REGION_SPELLING.1 } else { REGION_SPELLING.0 }.to_string())
            }
            "cost" => number(value).map_or_else(|| Cell::Text(value.clone()), Cell::Number),
            c if TIMESTAMP_FIELDS.contains(&c) => naive_time(value).map_or_else(|| Cell::Text(value.clone()), Cell::Time),
            _ => Cell::Text(value.clone()),
        };
        cells.push(cell);
    }
    let id = fields.first().map(|v| v.trim()).unwrap_or("");
    let digest = Sha256::digest(id.as_bytes());
    cells.push(Cell::Text(RECRUITERS[digest[0] as usize % RECRUITERS.len()].to_string()));
    cells
}

fn header_row() -> Vec<&'static str> {
    HEADERS.iter().map(|h| h.1).chain([RECRUITER.1]).collect()
}

fn excel_time(t: &NaiveDateTime) -> Result<ExcelDateTime, rust_xlsxwriter::XlsxError> {
    ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)?.and_hms(t.hour() as u16, t.minute() as u8, t.second())
}

fn xlsx_error(path: &Path, e: rust_xlsxwriter::XlsxError) -> anyhow::Error {
    anyhow::anyhow!("writing {}: {e}", path.display())
}

/// The workbook being written: title row (merged over every column), headers on row
/// 2, then one row per interview. Constant-memory mode writes each row out as it
/// comes, so a million rows need no more memory than a hundred.
struct SheetWriter {
    book: Workbook,
    rows: u64,
    date_format: Format,
}

impl SheetWriter {
    fn new(title: &str) -> Result<SheetWriter, rust_xlsxwriter::XlsxError> {
        let mut book = Workbook::new();
        // Fixed metadata, so the same flags give the same bytes.
        let created = ExcelDateTime::from_ymd(2026, 1, 1)?;
        book.set_properties(&DocProperties::new().set_creation_datetime(&created).set_author("noshow generate"));
        let sheet = book.add_worksheet_with_constant_memory()?;
        sheet.set_name(SHEET)?;
        let headers = header_row();
        let title_format = Format::new().set_bold().set_align(FormatAlign::Center);
        sheet.merge_range(0, 0, 0, (headers.len() - 1) as u16, title, &title_format)?;
        let bold = Format::new().set_bold();
        for (c, h) in headers.iter().enumerate() {
            sheet.write_string_with_format(1, c as u16, *h, &bold)?;
        }
        Ok(SheetWriter { book, rows: 0, date_format: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss") })
    }

    fn row(&mut self, cells: &[Cell]) -> Result<(), rust_xlsxwriter::XlsxError> {
        let sheet = self.book.worksheet_from_index(0)?;
        let r = self.rows as u32 + 2;
        for (c, cell) in cells.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) if s.is_empty() => {}
                Cell::Text(s) => {
                    sheet.write_string(r, c, s)?;
                }
                Cell::Number(n) => {
                    sheet.write_number(r, c, *n)?;
                }
                Cell::Time(t) => {
                    sheet.write_datetime_with_format(r, c, &excel_time(t)?, &self.date_format)?;
                }
            }
        }
        self.rows += 1;
        Ok(())
    }
}

/// A row as the text export writes it: naive times as `2026/06/01 09:00:00`.
fn text_cells(cells: &[Cell]) -> Vec<String> {
    cells
        .iter()
        .map(|cell| match cell {
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => n.to_string(),
            Cell::Time(t) => t.format(TEXT_TIME_FORM).to_string(),
        })
        .collect()
}

/// The mapping of both files, for `--config`. `tz` is the zone of the naive times
/// written (the generator's `--tz`), which the events use too.
pub fn mapping_toml(tz: &str) -> String {
    let mut columns = String::new();
    for (field, header) in HEADERS {
        columns.push_str(&format!("{field} = \"{header}\"\n"));
    }
    let mut values = String::from("[input.source.values.status]\n");
    for (v1, word) in STATUS_WORDS {
        values.push_str(&format!("\"{word}\" = \"{v1}\"\n"));
    }
    values.push_str(&format!("\n[input.source.values.region]\n\"{}\" = \"{}\"\n", REGION_SPELLING.1, REGION_SPELLING.0));
    let extra = format!("[input.source.extra]\n{} = \"{}\"\n", RECRUITER.0, RECRUITER.1);
    let block = |head: &str| format!("[[input.source]]\n{head}\n[input.source.columns]\n{columns}\n{values}\n{extra}");
    let mut toml = format!(
        "# Written by `noshow generate --style hr-export`: the mapping of this folder's\n\
         # interview exports (docs/input-mapping.md). Read them with\n\
         #   noshow --config THIS_FOLDER/{MAPPING_FILE} ingest --raw THIS_FOLDER --lake LAKE\n\
         # The event exports are format v1 and need no mapping.\n\n\
         tz = \"{tz}\"\n\n"
    );
    toml.push_str("# The workbook: headers on row 2 under a title row; Excel date cells are local times.\n");
    toml.push_str(&block(&format!(
        "kind = \"interviews\"\nfiles = [\"{}\"]\nsheet = \"{SHEET}\"\nheader_row = 2\ntimezone = \"{tz}\"\n",
        WORKBOOK_FILE.replace(".xlsx", "*.xlsx")
    )));
    toml.push_str("\n# The re-export: GB18030 with semicolons (both found by `auto`), times like 2026/06/01 09:00:00.\n");
    toml.push_str(&block(&format!(
        "kind = \"interviews\"\nfiles = [\"{}\"]\nencoding = \"auto\"\ndelimiter = \"auto\"\ntimezone = \"{tz}\"\ntimestamp_formats = [\"{TEXT_TIME_FORM}\"]\n",
        TEXT_FILE.replace(".csv", "*.csv")
    )));
    toml
}


#[cfg(test)]
mod tests {
    use super::*;

    fn v1(status: &str, region: &str, cost: &str, scheduled_at: &str) -> Vec<String> {
        [
            "100000001", "c1", "sales", region, "bachelor", "true", "campus", "sms", "2026-06-01 09:00:00", scheduled_at, status, "",
            "", cost, "2026-06-02T10:00:00+08:00",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    #[test]
    fn a_row_gets_the_exports_words_cells_and_recruiter() {
        let mut spelling = 0;
        let row = export_row(&v1(" No_Show ", "华东", "90.50", "2026-06-02 10:00:00"), &mut spelling);
        assert_eq!(row.len(), HEADERS.len() + 1);
        assert_eq!(row[10], Cell::Text("未到场".into()));
        assert_eq!(row[3], Cell::Text("华东".into()));
        assert_eq!(row[13], Cell::Number(90.5));
        let t = NaiveDateTime::parse_from_str("2026-06-02 10:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(row[9], Cell::Time(t));
        // A time with an offset, a bad value and a bad cost stay text as written.
        assert_eq!(row[14], Cell::Text("2026-06-02T10:00:00+08:00".into()));
        let bad = export_row(&v1("finished", "华东", "¥80", "2026-13-01 10:00:00"), &mut spelling);
        assert_eq!((bad[10].clone(), bad[13].clone()), (Cell::Text("finished".into()), Cell::Text("¥80".into())));
        assert_eq!(bad[9], Cell::Text("2026-13-01 10:00:00".into()));
        // Every other 华东 row has the second spelling; the recruiter depends on the id only.
        assert_eq!(bad[3], Cell::Text("华东区".into()));
        assert_eq!(row[15], bad[15]);
        assert!(matches!(&row[15], Cell::Text(r) if RECRUITERS.contains(&r.as_str())));
    }

    #[test]
    fn numbers_are_plain_decimals_only() {
        assert_eq!(number("100.00"), Some(100.0));
        assert_eq!(number("7"), Some(7.0));
        for v in ["1,200.50", "12e3", ".5", "5.", "", "-3", "1234567890123456"] {
            assert_eq!(number(v), None, "{v}");
        }
    }

    #[test]
    fn the_text_form_is_gb18030_with_semicolons() {
        let mut spelling = 0;
        let rows = vec![export_row(&v1("attended", "华北", "", "2026-06-02 10:00:00"), &mut spelling)];
        let mut w = csv::WriterBuilder::new().delimiter(b';').terminator(csv::Terminator::CRLF).from_writer(Vec::new());
        w.write_record(header_row()).unwrap();
        w.write_record(text_cells(&rows[0])).unwrap();
        let bytes = encoding_rs::GB18030.encode(std::str::from_utf8(&w.into_inner().unwrap()).unwrap()).0.into_owned();
        assert!(std::str::from_utf8(&bytes).is_err(), "not UTF-8");
        let (text, _, errors) = encoding_rs::GB18030.decode(&bytes);
        assert!(!errors);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert!(lines[0].starts_with("面试编号;候选人编号;岗位;"), "{}", lines[0]);
        assert!(lines[0].ends_with(";招聘负责人"));
        assert!(lines[1].contains(";2026/06/02 10:00:00;已参加;"), "{}", lines[1]);
    }

    #[test]
    fn the_mapping_is_a_valid_config_that_claims_both_files() {
        let config: crate::config::Config = toml::from_str(&mapping_toml("Asia/Shanghai")).unwrap();
        let sources = crate::ingest::mapped::Sources::from_config(&config.input.source).unwrap();
        assert_eq!(sources.list.len(), 2);
        assert_eq!(sources.claim(WORKBOOK_FILE).map(|s| s.index), Some(0));
        assert_eq!(sources.claim(TEXT_FILE).map(|s| s.index), Some(1));
        assert!(sources.claim("events-001.jsonl").is_none());
    }
}
