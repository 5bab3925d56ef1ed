//! HR systems' own exports (`[[input.source]]` in the config): Excel workbooks and CSV
//! in any common encoding and delimiter, with their own headers, status words and
//! date forms, read into format v1 rows.
//!
//! The rule that keeps the accounting exact: a mapped file is *transcoded* into v1
//! text (the mapped headers renamed to v1 names, each value passed through the
//! source's value map, each timestamp the source's forms recognise rewritten as UTC
//! RFC 3339), and that text goes through the v1 readers unchanged. So every row meets
//! exactly the v1 validation: a bad required field sets it aside with its reason, an
//! unmapped status word is set aside naming the value, nothing is dropped silently.
//! Origins are the export's own: the file as found under `--raw` and the row number
//! as the sheet or the text editor shows it (1-based, title rows included).

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use sha2::{Digest, Sha256};

use crate::config::{SheetRef, SourceConfig};
use crate::ingest::files::{Content, FileError, FileStats, InputFile, Limits, LineReader};
use crate::ingest::record::{EventRow, InputKind, InterviewRow, Problem, RowSink};
use crate::schema::{EVENT_KEYS, INTERVIEW_COLUMNS};

/// The v1 fields holding timestamps.
const TIMESTAMP_FIELDS: &[&str] = &["invited_at", "scheduled_at", "updated_at", "ts"];

/// One checked `[[input.source]]` block.
#[derive(Debug, Clone)]
pub struct Source {
    pub index: usize,
    pub kind: InputKind,
    globs: GlobSet,
    pub config: SourceConfig,
    tz: Option<Tz>,
    /// Per field: lower-cased trimmed exported value → v1 value.
    values: HashMap<String, HashMap<String, String>>,
}

/// The sources of a config, in order (the first whose globs match claims a file).
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub list: Vec<Source>,
}

impl Sources {
    /// Checks every block; a mistake is a usage error naming the block and the key.
    pub fn from_config(blocks: &[SourceConfig]) -> anyhow::Result<Sources> {
        let mut list = Vec::new();
        for (i, c) in blocks.iter().enumerate() {
            let at = format!("[[input.source]] number {}", i + 1);
            let bad = |what: String| crate::usage_error(format!("{at}: {what}"));
            let kind = match c.kind.as_str() {
                "interviews" => InputKind::Interviews,
                "events" => InputKind::Events,
                other => return Err(bad(format!("kind {other:?} is not \"interviews\" or \"events\""))),
            };
            let fields: Vec<&str> = match kind {
                InputKind::Interviews => INTERVIEW_COLUMNS.iter().map(|c| c.0).collect(),
                InputKind::Events => EVENT_KEYS.iter().map(|c| c.0).collect(),
            };
            if c.files.is_empty() {
                return Err(bad("files is empty: give at least one glob".into()));
            }
            let mut set = GlobSetBuilder::new();
            for g in &c.files {
                let glob = GlobBuilder::new(g).case_insensitive(true).literal_separator(true).build();
                set.add(glob.map_err(|e| bad(format!("files: {g:?} is not a glob: {e}")))?);
            }
            let globs = set.build().map_err(|e| bad(format!("files: {e}")))?;
            for field in c.columns.keys().chain(c.values.keys()) {
                if !fields.contains(&field.as_str()) {
                    return Err(bad(format!("{field:?} is not a field of {} (fields: {})", c.kind, fields.join(", "))));
                }
            }
            for name in c.extra.keys() {
                if fields.contains(&name.as_str()) || name == "origin_file" || name == "origin_line" {
                    return Err(bad(format!("extra column {name:?} would shadow a v1 field")));
                }
            }
            if c.header_row == Some(0) {
                return Err(bad("header_row is 1-based: 1 is the first row".into()));
            }
            match c.encoding.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("auto" | "utf-8" | "utf8" | "gb18030" | "gbk" | "gb2312" | "utf-16" | "utf16") => {}
                Some(other) => return Err(bad(format!("encoding {other:?}: expected auto, utf-8, gb18030 or utf-16"))),
            }
            if let Some(d) = &c.delimiter {
                if d != "auto" && d != "tab" && d != "\\t" && d.chars().count() != 1 {
                    return Err(bad(format!("delimiter {d:?}: expected auto, tab or one character")));
                }
            }
            let tz = match &c.timezone {
                Some(z) => Some(crate::time::parse_tz(z).map_err(|e| bad(format!("timezone: {e}")))?),
                None => None,
            };
            let values = c
                .values
                .iter()
                .map(|(field, map)| {
                    (field.clone(), map.iter().map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string())).collect())
                })
                .collect();
            list.push(Source { index: i, kind, globs, config: c.clone(), tz, values });
        }
        Ok(Sources { list })
    }

    /// The source that claims `rel` (a path relative to --raw), if any.
    pub fn claim(&self, rel: &str) -> Option<&Source> {
        self.list.iter().find(|s| s.globs.is_match(rel))
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// What reading one mapped file found, for `inspect` and the run summary.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Layout {
    pub format: String,
    pub sheet: Option<String>,
    pub encoding: String,
    pub delimiter: Option<String>,
    /// v1 field → the header it was read from.
    pub mapping: Vec<(String, String)>,
    /// Headers nothing maps.
    pub unmapped_headers: Vec<String>,
}

/// The export as rows of text cells with their 1-based row numbers.
struct Table {
    rows: Vec<(u64, Vec<String>)>,
    layout: Layout,
}

fn is_workbook(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"].iter().any(|e| lower.ends_with(e))
}

fn excel_text(cell: &calamine::Data, tz: Tz) -> String {
    use calamine::Data;
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => s.clone(),
        Data::Bool(b) => b.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        // A date cell is a local time of the source's zone.
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(naive) => local_to_utc(naive, tz).unwrap_or_else(|| naive.format("%Y-%m-%d %H:%M:%S").to_string()),
            None => dt.as_f64().to_string(),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
    }
}

fn local_to_utc(naive: NaiveDateTime, tz: Tz) -> Option<String> {
    let local = tz.from_local_datetime(&naive).earliest()?;
    Some(crate::time::format_utc(local.with_timezone(&chrono::Utc).timestamp_micros()))
}

/// The first bytes of a zip (`.xlsx`, `.xlsb`, `.ods`) and of an OLE container
/// (`.xls`, or any workbook Excel saved with a password).
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// An `.xlsx` saved with a password is an OLE container holding an `EncryptedPackage`
/// stream (its name in UTF-16 in the container's directory), not a zip.
fn is_encrypted_package(bytes: &[u8]) -> bool {
    let name: Vec<u8> = "EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.starts_with(OLE_MAGIC) && bytes.windows(name.len()).any(|w| w == name.as_slice())
}

/// Why a workbook cannot be opened, and what to do about it.
fn unreadable_workbook(bytes: &[u8], error: &calamine::Error) -> String {
    const REMOVE_PASSWORD: &str = "noshow cannot read it: open it in Excel, remove the password (File > Info > \
        Protect Workbook > Encrypt with Password, clear the box), save it and run again";
    let password = matches!(error, calamine::Error::Xls(calamine::XlsError::Password) | calamine::Error::Ods(calamine::OdsError::Password));
    if password || is_encrypted_package(bytes) {
        format!("the workbook is password-protected (encrypted); {REMOVE_PASSWORD}")
    } else if bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(OLE_MAGIC) {
        format!(
            "not a readable workbook ({error}): it looks damaged or cut short (a copy made while the export \
             was still being written?); export it again from the HR system, or remove it from --raw"
        )
    } else {
        "not an Excel workbook (it has neither the .xlsx nor the .xls header): if it is text, give it a .csv \
         name so its [[input.source]] block reads it as text; otherwise export it again as a workbook"
            .to_string()
    }
}

fn read_workbook(bytes: &[u8], name: &str, source: &Source, tz: Tz) -> Result<Table, FileError> {
    use calamine::Reader;
    let bad = |reason: String| FileError::Unreadable { file: name.to_string(), reason };
    let unreadable = |e: calamine::Error| FileError::Unreadable { file: name.to_string(), reason: unreadable_workbook(bytes, &e) };
    // An OLE container is an `.xls` (or an encrypted workbook): opened as such, so a
    // password-protected `.xls` says so. The rest is told apart by calamine.
    let mut book = if bytes.starts_with(OLE_MAGIC) {
        calamine::open_workbook_from_rs::<calamine::Xls<_>, _>(Cursor::new(bytes)).map(calamine::Sheets::Xls).map_err(|e| unreadable(calamine::Error::Xls(e)))?
    } else {
        calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(unreadable)?
    };
    let names = book.sheet_names();
    let sheet = match &source.config.sheet {
        None => names.first().cloned(),
        Some(SheetRef::Number(n)) => names.get(n.saturating_sub(1)).cloned(),
        Some(SheetRef::Name(want)) => names.iter().find(|s| s.trim().eq_ignore_ascii_case(want.trim())).cloned(),
    }
    .ok_or_else(|| bad(format!("sheet {:?} not found (the workbook has: {})", source.config.sheet, names.join(", "))))?;
    let range = book.worksheet_range(&sheet).map_err(|e| bad(format!("sheet {sheet}: {e}")))?;
    let (top, left) = range.start().unwrap_or((0, 0));
    let mut rows = Vec::new();
    for (i, row) in range.rows().enumerate() {
        let mut cells: Vec<String> = vec![String::new(); left as usize];
        cells.extend(row.iter().map(|c| excel_text(c, tz)));
        rows.push((u64::from(top) + i as u64 + 1, cells));
    }
    let layout = Layout { format: "workbook".into(), sheet: Some(sheet), encoding: "xlsx".into(), ..Layout::default() };
    Ok(Table { rows, layout })
}

/// Decodes text: the BOM decides, else valid UTF-8, else GB18030 (`auto`).
fn decode(bytes: &[u8], wanted: Option<&str>, name: &str) -> Result<(String, &'static str), FileError> {
    let wanted = wanted.map(str::to_ascii_lowercase);
    let not_valid = |enc: &str| FileError::Unreadable {
        file: name.to_string(),
        reason: format!(
            "not valid {enc} text; set `encoding` in its [[input.source]] block (auto, utf-8, gb18030 or utf-16)"
        ),
    };
    match wanted.as_deref() {
        None | Some("auto") => {
            if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
                let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom..]);
                if had_errors {
                    return Err(not_valid(enc.name()));
                }
                return Ok((text.into_owned(), enc.name()));
            }
            if let Ok(text) = std::str::from_utf8(bytes) {
                return Ok((text.to_string(), "UTF-8"));
            }
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            if had_errors {
                return Err(not_valid("UTF-8 or GB18030"));
            }
            Ok((text.into_owned(), "GB18030"))
        }
        Some("utf-8" | "utf8") => {
            let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            std::str::from_utf8(body).map(|t| (t.to_string(), "UTF-8")).map_err(|_| not_valid("UTF-8"))
        }
        Some("utf-16" | "utf16") => {
            let (enc, bom) = encoding_rs::Encoding::for_bom(bytes).unwrap_or((encoding_rs::UTF_16LE, 0));
            let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom..]);
            if had_errors {
                return Err(not_valid("UTF-16"));
            }
            Ok((text.into_owned(), enc.name()))
        }
        Some(_) => {
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            if had_errors {
                return Err(not_valid("GB18030"));
            }
            Ok((text.into_owned(), "GB18030"))
        }
    }
}

fn read_text(bytes: &[u8], name: &str, source: &Source) -> Result<Table, FileError> {
    let (text, encoding) = decode(bytes, source.config.encoding.as_deref(), name)?;
    let header_row = source.config.header_row.unwrap_or(1);
    let delimiter = match source.config.delimiter.as_deref() {
        None | Some("auto") => {
            // The header line decides: the most frequent of , ; tab |.
            let line = text.lines().nth(header_row - 1).unwrap_or("");
            [b',', b';', b'\t', b'|'].into_iter().max_by_key(|&d| line.bytes().filter(|&b| b == d).count()).unwrap_or(b',')
        }
        Some("tab" | "\\t") => b'\t',
        Some(d) => d.bytes().next().unwrap_or(b','),
    };
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    // Line numbers from byte offsets: the csv crate's own line count lags by one after
    // a CRLF ending (it sees the `\n` only when the next record starts).
    let bytes = text.as_bytes();
    let (mut counted_to, mut line) = (0usize, 1u64);
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let mut start = record.position().map_or(0, |p| p.byte() as usize).min(bytes.len());
                while start < bytes.len() && (bytes[start] == b'\n' || bytes[start] == b'\r') {
                    start += 1;
                }
                line += bytes[counted_to..start].iter().filter(|&&b| b == b'\n').count() as u64;
                counted_to = start;
                rows.push((line, record.iter().map(str::to_string).collect()));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(FileError::BadHeader { file: name.to_string(), line, reason: format!("unreadable CSV: {e}") });
            }
        }
    }
    let shown = match delimiter {
        b'\t' => "tab".to_string(),
        d => (d as char).to_string(),
    };
    let layout = Layout { format: "text".into(), encoding: encoding.to_string(), delimiter: Some(shown), ..Layout::default() };
    Ok(Table { rows, layout })
}

/// A timestamp as the v1 reader takes it: UTC RFC 3339 when the source's zone or one
/// of its forms reads it, else unchanged (the v1 reader then sets it aside, naming it).
fn normalise_time(value: &str, source: &Source, tz: Tz) -> String {
    let v = value.trim();
    if v.is_empty() {
        return String::new();
    }
    if let Ok(us) = crate::time::parse_timestamp(v, tz) {
        return crate::time::format_utc(us);
    }
    for form in &source.config.timestamp_formats {
        if let Ok(dt) = chrono::DateTime::parse_from_str(v, form) {
            return crate::time::format_utc(dt.with_timezone(&chrono::Utc).timestamp_micros());
        }
        if let Ok(naive) = NaiveDateTime::parse_from_str(v, form) {
            if let Some(t) = local_to_utc(naive, tz) {
                return t;
            }
        }
        if let Ok(day) = NaiveDate::parse_from_str(v, form) {
            if let Some(t) = day.and_hms_opt(0, 0, 0).and_then(|n| local_to_utc(n, tz)) {
                return t;
            }
        }
    }
    v.to_string()
}

/// Passes row numbers of the transcoded text back to the export's own.
struct Remap<'a> {
    inner: &'a mut dyn RowSink,
    /// (first line of a record in the transcoded text, the export's row number),
    /// ascending.
    lines: &'a [(u64, u64)],
    /// The extra columns' values of each record, in the order of `lines`.
    extras: &'a [Vec<(Arc<str>, Option<String>)>],
    file: Arc<str>,
}

impl Remap<'_> {
    fn record(&self, synthetic: u64) -> Option<usize> {
        self.lines.binary_search_by_key(&synthetic, |l| l.0).ok()
    }

    fn line(&self, synthetic: u64) -> u64 {
        self.record(synthetic).map_or(synthetic, |k| self.lines[k].1)
    }
}

impl RowSink for Remap<'_> {
    fn interview(&mut self, mut row: InterviewRow) {
        if let Some(extra) = self.record(row.origin.line).and_then(|k| self.extras.get(k)) {
            row.extra = extra.clone();
        }
        row.origin.line = self.line(row.origin.line);
        row.origin.file = self.file.clone();
        self.inner.interview(row);
    }
    fn event(&mut self, mut row: EventRow) {
        row.origin.line = self.line(row.origin.line);
        row.origin.file = self.file.clone();
        self.inner.event(row);
    }
    fn problem(&mut self, mut problem: Problem) {
        problem.origin.line = self.line(problem.origin.line);
        problem.origin.file = self.file.clone();
        self.inner.problem(problem);
    }
}

/// Reads one mapped file into `sink` through the v1 readers (see the module doc).
pub fn read(file: &InputFile, source: &Source, tz: Tz, sink: &mut dyn RowSink, progress: &dyn Fn(u64)) -> Result<(FileStats, Layout), FileError> {
    let name = file.rel.to_string();
    let mut bytes = std::fs::read(&file.path).map_err(|e| FileError::Io { file: name.clone(), source: e })?;
    let content = Content { bytes: bytes.len() as u64, sha256: hex::encode(Sha256::digest(&bytes)) };
    if file.gzip {
        use std::io::Read;
        let mut plain = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut plain)
            .map_err(|e| FileError::BrokenGzip { file: name.clone(), source: e })?;
        bytes = plain;
    }
    let tz = source.tz.unwrap_or(tz);
    let bare = name.strip_suffix(".gz").unwrap_or(&name);
    let mut table = if is_workbook(bare) {
        // The workbook reader is another crate's code on the user's bytes: a panic in
        // it becomes this file's error, never a crashed run.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_workbook(&bytes, &name, source, tz))).unwrap_or_else(|_| {
            Err(FileError::Unreadable {
                file: name.clone(),
                reason: "the workbook reader failed on this file: it looks damaged; export it again from the HR system".into(),
            })
        })?
    } else {
        read_text(&bytes, &name, source)?
    };
    drop(bytes);
    let header_row = source.config.header_row.unwrap_or(1);
    let header_at = table.rows.iter().position(|(n, _)| *n as usize >= header_row).filter(|&i| table.rows[i].0 as usize == header_row);
    let Some(header_at) = header_at else {
        return Err(FileError::NoHeader { file: name });
    };
    let header: Vec<String> = table.rows[header_at].1.iter().map(|h| h.trim().to_string()).collect();
    let find = |wanted: &str| header.iter().position(|h| h.eq_ignore_ascii_case(wanted.trim()));
    let fields: Vec<&str> = match source.kind {
        InputKind::Interviews => INTERVIEW_COLUMNS.iter().map(|c| c.0).collect(),
        InputKind::Events => EVENT_KEYS.iter().map(|c| c.0).collect(),
    };
    // Each v1 field from its mapped header, or from a header of its own name.
    let mut mapping: Vec<(&str, usize)> = Vec::new();
    let mut missing = Vec::new();
    for field in &fields {
        match source.config.columns.get(*field) {
            Some(h) => match find(h) {
                Some(i) => mapping.push((field, i)),
                None => missing.push(format!("{h} (for {field})")),
            },
            None => {
                if let Some(i) = find(field) {
                    mapping.push((field, i));
                }
            }
        }
    }
    for (extra, h) in &source.config.extra {
        if find(h).is_none() {
            missing.push(format!("{h} (extra column {extra})"));
        }
    }
    if !missing.is_empty() {
        return Err(FileError::MissingColumns { file: name, columns: missing, header });
    }
    let used: Vec<usize> = mapping.iter().map(|m| m.1).collect();
    table.layout.mapping = mapping.iter().map(|(f, i)| (f.to_string(), header[*i].clone())).collect();
    table.layout.unmapped_headers = header
        .iter()
        .enumerate()
        .filter(|(i, h)| !used.contains(i) && !h.is_empty() && !source.config.extra.values().any(|x| x.trim().eq_ignore_ascii_case(h)))
        .map(|(_, h)| h.clone())
        .collect();

    // The v1 text, one line per data row, and the row number of each line.
    let mut text: Vec<u8> = Vec::new();
    let mut lines: Vec<(u64, u64)> = Vec::new();
    let mut extras: Vec<Vec<(Arc<str>, Option<String>)>> = Vec::new();
    let extra_columns: Vec<(Arc<str>, usize)> =
        source.config.extra.iter().filter_map(|(name, h)| Some((Arc::from(name.as_str()), find(h)?))).collect();
    // The transcoded text's next line: after the header (CSV) or a blank first line
    // (JSONL), line 2.
    let mut at = 2u64;
    let cell = |row: &[String], i: usize, field: &str| -> String {
        let raw = row.get(i).map(|v| v.trim()).unwrap_or("");
        let mapped = source.values.get(field).and_then(|m| m.get(&raw.to_lowercase())).map(String::as_str).unwrap_or(raw);
        if TIMESTAMP_FIELDS.contains(&field) {
            normalise_time(mapped, source, tz)
        } else {
            mapped.to_string()
        }
    };
    let rows = table.rows.split_off(header_at + 1);
    match source.kind {
        InputKind::Interviews => {
            let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(&mut text);
            w.write_record(mapping.iter().map(|m| m.0)).map_err(|e| FileError::Io { file: name.clone(), source: e.into() })?;
            for (number, row) in &rows {
                if row.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                let values: Vec<String> = mapping.iter().map(|(f, i)| cell(row, *i, f)).collect();
                w.write_record(&values).map_err(|e| FileError::Io { file: name.clone(), source: e.into() })?;
                // A line break inside a cell is written inside quotes: the record
                // then takes more than one line of the text.
                lines.push((at, *number));
                at += 1 + values.iter().map(|v| v.matches('\n').count() as u64).sum::<u64>();
                extras.push(
                    extra_columns
                        .iter()
                        .map(|(name, i)| {
                            let v = row.get(*i).map(|v| v.trim()).unwrap_or("");
                            (name.clone(), (!v.is_empty()).then(|| v.to_string()))
                        })
                        .collect(),
                );
            }
            w.flush().map_err(|e| FileError::Io { file: name.clone(), source: e })?;
        }
        InputKind::Events => {
            // The first line of the JSONL text is blank (skipped by the reader).
            text.push(b'\n');
            for (number, row) in &rows {
                if row.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                let mut object = serde_json::Map::new();
                for (f, i) in &mapping {
                    let v = cell(row, *i, f);
                    if !v.is_empty() {
                        object.insert(f.to_string(), serde_json::Value::String(v));
                    }
                }
                text.extend_from_slice(serde_json::Value::Object(object).to_string().as_bytes());
                text.push(b'\n');
                lines.push((at, *number));
                at += 1;
            }
        }
    }
    let mut remap = Remap { inner: sink, lines: &lines, extras: &extras, file: file.rel.clone() };
    let reader = LineReader::from_text(text, name.clone());
    let mut stats = match source.kind {
        InputKind::Interviews => {
            crate::ingest::csv_reader::read_lines(reader, file, chrono_tz::UTC, &mut remap, progress, Limits::default())?
        }
        InputKind::Events => crate::ingest::jsonl_reader::read_lines(reader, file, chrono_tz::UTC, &mut remap, progress, Limits::default())?,
    };
    stats.content = content;
    // Unknown columns are the export's own headers nothing maps (said once, by the caller).
    stats.unknown_columns = table.layout.unmapped_headers.clone();
    Ok((stats, table.layout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::csv_reader::tests::{assert_accounted, Collect};
    use proptest::prelude::*;

    fn sources(toml_text: &str) -> Sources {
        let config: crate::config::Config = toml::from_str(toml_text).unwrap();
        Sources::from_config(&config.input.source).unwrap()
    }

    const MAPPING: &str = r#"
        [[input.source]]
        kind = "interviews"
        files = ["*.csv", "*.xlsx"]
        header_row = 2
        timestamp_formats = ["%Y/%m/%d %H:%M"]
        [input.source.columns]
        interview_id = "面试编号"
        candidate_id = "候选人"
        role = "岗位"
        region = "地区"
        invited_at = "邀约时间"
        scheduled_at = "面试时间"
        status = "状态"
        [input.source.values.status]
        "已参加" = "attended"
        "未到场" = "no_show"
        [input.source.extra]
        recruiter = "招聘负责人"
    "#;

    fn file(dir: &std::path::Path, name: &str, bytes: &[u8]) -> InputFile {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        InputFile { path, rel: Arc::from(name), kind: InputKind::Interviews, gzip: false, size: bytes.len() as u64, hash_on_read: true }
    }

    fn read_bytes(name: &str, bytes: &[u8]) -> Result<(FileStats, Collect), FileError> {
        let dir = tempfile::tempdir().unwrap();
        let f = file(dir.path(), name, bytes);
        let s = sources(MAPPING);
        let mut sink = Collect::default();
        let (stats, _) = read(&f, &s.list[0], chrono_tz::Asia::Shanghai, &mut sink, &|_| {})?;
        Ok((stats, sink))
    }

    #[test]
    fn a_gbk_export_with_a_title_row_is_read_with_its_own_row_numbers() {
        let text = "面试导出\r\n面试编号;候选人;岗位;地区;邀约时间;面试时间;状态;招聘负责人\r\n\
                    i1;c1;销售;华东;2026/06/01 09:00;2026/06/02 10:00;已参加;王芳\r\n\
                    i2;c2;销售;华东;2026/06/01 09:00;2026/06/02 11:00;缺席;李娜\r\n\
                    \r\n\
                    i3;c3;销售;华东;2026/06/01 09:00;2026/13/02 11:00;未到场;\r\n";
        let (bytes, _, _) = encoding_rs::GB18030.encode(text);
        let (stats, sink) = read_bytes("export.csv", &bytes).unwrap();
        assert_accounted(&stats, &sink);
        assert_eq!(sink.interviews.len(), 1);
        let row = &sink.interviews[0];
        assert_eq!((row.origin.line, row.status.as_str()), (3, "attended"));
        // 2026/06/02 10:00 in Shanghai is 02:00 UTC.
        assert_eq!(crate::time::format_utc(row.scheduled_at), "2026-06-02T02:00:00Z");
        assert_eq!(row.extra, vec![(Arc::from("recruiter"), Some("王芳".to_string()))]);
        // The unmapped status word and the impossible date are set aside, naming them,
        // with the export's row numbers (the blank row 5 is not a row).
        let aside: Vec<(u64, &str)> = sink.set_aside().iter().map(|p| (p.origin.line, p.detail.as_str())).collect();
        assert_eq!(aside.len(), 2);
        assert_eq!(aside[0].0, 4);
        assert!(aside[0].1.contains("缺席"), "{aside:?}");
        assert_eq!(aside[1].0, 6);
        assert!(aside[1].1.contains("2026/13/02 11:00"), "{aside:?}");
    }

    #[test]
    fn a_missing_mapped_header_is_a_file_error_naming_it() {
        let text = "title\nfoo,bar\n1,2\n";
        let err = read_bytes("export.csv", text.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("export.csv") && err.contains("面试编号") && err.contains("招聘负责人"), "{err}");
    }

    /// `text` in `encoding` (`utf-8`, `utf-8-bom`, `utf-16le`, `utf-16le-bom`,
    /// `utf-16be-bom`, `gb18030`), or None when the encoding cannot hold it.
    fn encode(text: &str, encoding: &str) -> Option<Vec<u8>> {
        let utf16 = |big: bool, bom: bool| {
            let mut out: Vec<u8> = Vec::new();
            for unit in (bom.then_some(0xFEFF)).into_iter().chain(text.encode_utf16()) {
                out.extend_from_slice(&if big { unit.to_be_bytes() } else { unit.to_le_bytes() });
            }
            out
        };
        Some(match encoding {
            "utf-8" => text.as_bytes().to_vec(),
            "utf-8-bom" => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
            "utf-16le" => utf16(false, false),
            "utf-16le-bom" => utf16(false, true),
            "utf-16be-bom" => utf16(true, true),
            _ => {
                let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
                if unmappable {
                    return None;
                }
                bytes.into_owned()
            }
        })
    }

    /// Cell text that needs no quoting: letters, digits, Chinese, spaces, punctuation
    /// other than the four delimiters and the quote.
    fn cell() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[a-zA-Z0-9 面试编号候选人岗位已参加未到场华东区王芳_.:/-]{0,8}").unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn text_decodes_back_in_every_encoding(text in any::<String>(), which in 0usize..6) {
            let encoding = ["utf-8", "utf-8-bom", "utf-16le", "utf-16le-bom", "utf-16be-bom", "gb18030"][which];
            // A text that starts with U+FEFF written without a BOM reads as having one.
            prop_assume!(encoding.ends_with("bom") || !text.starts_with('\u{feff}'));
            let Some(bytes) = encode(&text, encoding) else { return Ok(()) };
            let asked = match encoding {
                "utf-8" | "utf-8-bom" => "utf-8",
                "gb18030" => "gb18030",
                _ => "utf-16",
            };
            let (decoded, _) = decode(&bytes, Some(asked), "x.csv").unwrap();
            prop_assert_eq!(&decoded, &text);
            // auto: the byte-order mark, else UTF-8, else GB18030. Only bytes without a
            // mark that happen to be valid UTF-8 may read otherwise than written.
            match decode(&bytes, Some("auto"), "x.csv") {
                Ok((auto, found)) => {
                    // (GB18030 bytes may, in theory, begin like a UTF-8 byte-order mark.)
                    let gb_as_other = encoding == "gb18030" && (std::str::from_utf8(&bytes).is_ok() || encoding_rs::Encoding::for_bom(&bytes).is_some());
                    if encoding != "utf-16le" && !gb_as_other {
                        prop_assert_eq!(&auto, &text, "auto read it as {}", found);
                    }
                }
                // BOM-less UTF-16 is not something auto promises to recognise.
                Err(e) => prop_assert!(encoding == "utf-16le", "{}", e),
            }
        }

        #[test]
        fn the_delimiter_is_found_and_every_cell_comes_back(
            rows in proptest::collection::vec(proptest::collection::vec(cell(), 4), 1..12),
            columns in 2usize..5,
            which_delimiter in 0usize..4,
            which_encoding in 0usize..6,
            title in any::<bool>(),
            crlf in any::<bool>(),
        ) {
            let delimiter = [",", ";", "\t", "|"][which_delimiter];
            let encoding = ["utf-8", "utf-8-bom", "utf-16le-bom", "utf-16be-bom", "gb18030", "utf-16le"][which_encoding];
            let rows: Vec<Vec<String>> = rows.into_iter().map(|r| r[..columns].to_vec()).collect();
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut text = if title { format!("面试记录导出{eol}") } else { String::new() };
            let header: Vec<String> = (0..columns).map(|c| format!("列{c}")).collect();
            for row in std::iter::once(&header).chain(&rows) {
                text.push_str(&row.join(delimiter));
                text.push_str(eol);
            }
            let asked = if encoding == "utf-16le" { "utf-16" } else { "auto" };
            let s = sources(&format!(
                "[[input.source]]\nkind = \"interviews\"\nfiles = [\"*\"]\nheader_row = {}\nencoding = \"{asked}\"\n",
                if title { 2 } else { 1 }
            ));
            let bytes = encode(&text, encoding).unwrap();
            let table = read_text(&bytes, "x.csv", &s.list[0]).unwrap();
            let shown = if delimiter == "\t" { "tab" } else { delimiter };
            prop_assert_eq!(table.layout.delimiter.as_deref(), Some(shown));
            let skip = usize::from(title);
            prop_assert_eq!(table.rows.len(), rows.len() + 1 + skip);
            prop_assert_eq!(&table.rows[skip].1, &header);
            for (k, (number, cells)) in table.rows[skip + 1..].iter().enumerate() {
                prop_assert_eq!(*number, (k + 2 + skip) as u64);
                prop_assert_eq!(cells, &rows[k]);
            }
        }

        #[test]
        fn arbitrary_bytes_as_a_text_export_never_panic(with_header in any::<bool>(), bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let mut text = if with_header {
                let header = "标题\n面试编号,候选人,岗位,地区,邀约时间,面试时间,状态,招聘负责人\n";
                encoding_rs::GB18030.encode(header).0.into_owned()
            } else {
                Vec::new()
            };
            text.extend_from_slice(&bytes);
            if let Ok((stats, sink)) = read_bytes("export.csv", &text) {
                assert_accounted(&stats, &sink);
            }
        }

        #[test]
        fn arbitrary_bytes_as_a_workbook_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000), zip in any::<bool>()) {
            let mut data = if zip { b"PK\x03\x04".to_vec() } else { Vec::new() };
            data.extend_from_slice(&bytes);
            if let Ok((stats, sink)) = read_bytes("export.xlsx", &data) {
                assert_accounted(&stats, &sink);
            }
        }

        #[test]
        fn generated_rows_are_accounted_for(rows in proptest::collection::vec((0u8..4, any::<bool>(), 0u8..3), 0..40)) {
            let mut text = String::from("title\n面试编号,候选人,岗位,地区,邀约时间,面试时间,状态,招聘负责人\n");
            let words = ["已参加", "未到场", "attended", "???"];
            for (k, (status, good_time, blank)) in rows.iter().enumerate() {
                if *blank == 0 {
                    text.push('\n');
                }
                let time = if *good_time { "2026/06/02 10:00" } else { "soon" };
                text.push_str(&format!("i{k},c{k},sales,east,2026/06/01 09:00,{time},{},r{k}\n", words[*status as usize]));
            }
            let (stats, sink) = read_bytes("export.csv", text.as_bytes()).unwrap();
            assert_accounted(&stats, &sink);
            prop_assert_eq!(stats.rows_read, rows.len() as u64);
            let good = rows.iter().filter(|(s, t, _)| *s < 3 && *t).count();
            prop_assert_eq!(sink.interviews.len(), good);
        }
    }
}
