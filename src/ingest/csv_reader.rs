//! `interviews*.csv` → validated [`InterviewRow`]s and [`Problem`]s, as the input format
//! says (RFC 4180, header matched case-insensitively, bad required field = row set
//! aside, bad optional field = null and a warning). Never touches the lake.
//!
//! Records are assembled from the physical lines of [`LineReader`] with the quoting
//! rules of the `csv` crate's default reader (a quote opens a quoted field only at the
//! start of a field; `""` inside it is a quote; after the closing quote, text goes on
//! unquoted), so a row's first physical line is known exactly and a giant or
//! never-closed field is skipped without being held in memory.

use chrono_tz::Tz;

use super::files::{quote_value, raw_text, reasons, FileError, FileStats, InputFile, LineReader, Limits, ProgressTicker};
use super::record::{InputKind, InterviewRow, Origin, Problem, RowSink, Severity};
use crate::schema::{parse_bool, parse_decimal, Channel, Education, InterviewColumn as Col, LakeColumn, NoShowGrade, Status, INTERVIEW_COLUMNS};
use crate::time::{parse_timestamp, Micros, MICROS_PER_MINUTE};

/// Columns of the format (the registry's input columns; a column's slot in a
/// [`ColumnMap`] is its position there).
const NCOLS: usize = INTERVIEW_COLUMNS.len();

/// Reads one `interviews*.csv` file, handing every row to `sink` in file order.
/// `progress` is called now and then with the bytes read from disk so far.
pub fn read_interviews(
    file: &InputFile,
    tz: Tz,
    sink: &mut dyn RowSink,
    progress: &dyn Fn(u64),
) -> Result<FileStats, FileError> {
    read_interviews_with(file, tz, sink, progress, Limits::default())
}

/// Where the quoting state machine stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    StartField,
    InField,
    InQuoted,
    /// Just after a quote inside a quoted field: `"` makes it a literal quote, `,` or a
    /// line end closes the field, anything else goes on unquoted.
    QuoteInQuoted,
}

/// One CSV record being assembled: its unquoted fields (one buffer plus end offsets,
/// as `csv::ByteRecord` keeps them) and its raw text for problems.
struct Record {
    fields: Vec<u8>,
    ends: Vec<usize>,
    state: Quote,
    raw: Vec<u8>,
    /// Bytes of the whole record, its inner line breaks included.
    bytes: u64,
    start_line: u64,
    end_line: u64,
    too_long: bool,
}

/// How a record ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Complete,
    /// End of file inside a quoted field.
    Unterminated,
}

impl Record {
    fn new() -> Record {
        Record {
            fields: Vec::with_capacity(1024),
            ends: Vec::with_capacity(NCOLS),
            state: Quote::StartField,
            raw: Vec::with_capacity(1024),
            bytes: 0,
            start_line: 0,
            end_line: 0,
            too_long: false,
        }
    }

    fn begin(&mut self, line: u64) {
        self.fields.clear();
        self.ends.clear();
        self.raw.clear();
        self.state = Quote::StartField;
        self.bytes = 0;
        self.start_line = line;
        self.end_line = line;
        self.too_long = false;
    }

    fn end_field(&mut self) {
        self.ends.push(self.fields.len());
    }

    /// Runs part of a physical line through the quoting rules; with `keep` false only
    /// the state moves (the skipped tail of a row that is too long).
    fn feed(&mut self, mut b: &[u8], keep: bool) {
        while let Some(&first) = b.first() {
            match self.state {
                Quote::StartField => {
                    if first == b'"' {
                        self.state = Quote::InQuoted;
                        b = &b[1..];
                    } else {
                        self.state = Quote::InField;
                    }
                }
                Quote::InField => match b.iter().position(|&c| c == b',') {
                    Some(p) => {
                        if keep {
                            self.fields.extend_from_slice(&b[..p]);
                            self.end_field();
                        }
                        self.state = Quote::StartField;
                        b = &b[p + 1..];
                    }
                    None => {
                        if keep {
                            self.fields.extend_from_slice(b);
                        }
                        b = &[];
                    }
                },
                Quote::InQuoted => match b.iter().position(|&c| c == b'"') {
                    Some(p) => {
                        if keep {
                            self.fields.extend_from_slice(&b[..p]);
                        }
                        self.state = Quote::QuoteInQuoted;
                        b = &b[p + 1..];
                    }
                    None => {
                        if keep {
                            self.fields.extend_from_slice(b);
                        }
                        b = &[];
                    }
                },
                Quote::QuoteInQuoted => match first {
                    b'"' => {
                        if keep {
                            self.fields.push(b'"');
                        }
                        self.state = Quote::InQuoted;
                        b = &b[1..];
                    }
                    b',' => {
                        if keep {
                            self.end_field();
                        }
                        self.state = Quote::StartField;
                        b = &b[1..];
                    }
                    _ => self.state = Quote::InField,
                },
            }
        }
    }

    fn add_raw(&mut self, bytes: &[u8], cap: usize) {
        let room = (cap + 4).saturating_sub(self.raw.len());
        self.raw.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn raw_text(&self, cap: usize) -> String {
        raw_text(&self.raw, cap, self.bytes)
    }

    /// Field `i` as text. Fields split at ASCII bytes of UTF-8-checked lines, so they
    /// are whole characters; the fallback only guards against a bug here.
    fn field(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        std::str::from_utf8(&self.fields[start..self.ends[i]]).unwrap_or("")
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Reads the next record, skipping blank lines between records. `None` at the end.
fn next_record(
    lines: &mut LineReader,
    buf: &mut Vec<u8>,
    rec: &mut Record,
    limits: Limits,
) -> Result<Option<End>, FileError> {
    let mut started = false;
    loop {
        // A continuation line shares the row's cap with the lines before it and the
        // line break that joins them.
        let used = if started { rec.bytes as usize + 1 } else { 0 };
        let cap = limits.row_bytes.saturating_sub(used);
        let Some((meta, text)) = lines.read_line(cap, buf)? else {
            return Ok(started.then_some(End::Unterminated));
        };
        let line = text.as_bytes();
        if !started {
            if meta.complete && is_blank(line) {
                continue;
            }
            rec.begin(meta.number);
            started = true;
        } else {
            // The line break inside a quoted field.
            rec.bytes += 1;
            rec.add_raw(b"\n", limits.raw_bytes);
        }
        rec.end_line = meta.number;
        rec.add_raw(line, limits.raw_bytes);
        if meta.complete {
            rec.bytes += line.len() as u64;
        } else {
            // The reader kept exactly `cap` bytes (the text may end before a cut character).
            rec.bytes += cap as u64;
            rec.too_long = true;
        }
        let keep = !rec.too_long;
        let (content, had_cr) = match line.strip_suffix(b"\r") {
            Some(c) if meta.complete => (c, true),
            _ => (line, false),
        };
        rec.feed(content, keep);
        if !meta.complete {
            let skipped = lines.skip_rest(&mut |chunk| rec.feed(chunk, false))?;
            rec.bytes += skipped;
        }
        if rec.state == Quote::InQuoted {
            if keep {
                rec.fields.extend_from_slice(if had_cr { b"\r\n" } else { b"\n" });
            }
            continue;
        }
        if keep {
            rec.end_field();
        }
        return Ok(Some(End::Complete));
    }
}

/// Where each known column sits in the file (`None`: absent, so always empty).
type ColumnMap = [Option<usize>; NCOLS];

fn read_header(
    lines: &mut LineReader,
    buf: &mut Vec<u8>,
    rec: &mut Record,
    limits: Limits,
) -> Result<(ColumnMap, usize, Vec<String>), FileError> {
    let file = lines.display_name().to_string();
    let end = next_record(lines, buf, rec, limits)?.ok_or_else(|| FileError::NoHeader { file: file.clone() })?;
    let bad = |reason: String| FileError::BadHeader { file: file.clone(), line: rec.start_line, reason };
    if end == End::Unterminated {
        return Err(bad("a quote opened in the header is never closed".into()));
    }
    if rec.too_long {
        return Err(bad(format!("longer than {} bytes", limits.row_bytes)));
    }
    let names: Vec<String> = (0..rec.ends.len()).map(|i| rec.field(i).trim().to_string()).collect();
    let mut map: ColumnMap = [None; NCOLS];
    let mut unknown = Vec::new();
    let mut duplicates: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() {
            // Spreadsheets leave unnamed trailing columns; they are unknown, not duplicates.
            unknown.push(format!("(unnamed column {})", i + 1));
            continue;
        }
        if !seen.insert(name.to_lowercase()) {
            if !duplicates.iter().any(|d| d.eq_ignore_ascii_case(name)) {
                duplicates.push(name.clone());
            }
            continue;
        }
        match INTERVIEW_COLUMNS.iter().position(|(known, _)| known.eq_ignore_ascii_case(name)) {
            Some(k) => map[k] = Some(i),
            None => unknown.push(name.clone()),
        }
    }
    if !duplicates.is_empty() {
        return Err(FileError::DuplicateColumns { file, columns: duplicates });
    }
    let missing: Vec<String> = INTERVIEW_COLUMNS
        .iter()
        .zip(map.iter())
        .filter(|((_, required), at)| *required && at.is_none())
        .map(|((name, _), _)| name.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(FileError::MissingColumns { file, columns: missing, header: names });
    }
    Ok((map, names.len(), unknown))
}

pub(crate) fn read_interviews_with(
    file: &InputFile,
    tz: Tz,
    sink: &mut dyn RowSink,
    progress: &dyn Fn(u64),
    limits: Limits,
) -> Result<FileStats, FileError> {
    read_lines(LineReader::open(file)?, file, tz, sink, progress, limits)
}

/// The reader over any lines (a file's, or an export transcoded into format v1 by
/// [`crate::ingest::mapped`]); origins name `file`.
pub(crate) fn read_lines(
    mut lines: LineReader,
    file: &InputFile,
    tz: Tz,
    sink: &mut dyn RowSink,
    progress: &dyn Fn(u64),
    limits: Limits,
) -> Result<FileStats, FileError> {
    let mut ticker = ProgressTicker::new(progress);
    let mut buf = Vec::with_capacity(4096);
    let mut rec = Record::new();
    let (map, width, unknown_columns) = read_header(&mut lines, &mut buf, &mut rec, limits)?;
    let mut stats = FileStats { unknown_columns, ..FileStats::default() };
    let mut warnings = Vec::new();
    while let Some(end) = next_record(&mut lines, &mut buf, &mut rec, limits)? {
        stats.rows_read += 1;
        let origin = Origin { file: file.rel.clone(), line: rec.start_line };
        let problem = |severity, reason, field: Option<&str>, detail: String| Problem {
            origin: origin.clone(),
            kind: InputKind::Interviews,
            severity,
            reason,
            field: field.map(str::to_string),
            detail,
            raw: rec.raw_text(limits.raw_bytes),
        };
        let set_aside = if end == End::Unterminated {
            Some(Bad {
                reason: reasons::UNTERMINATED_QUOTE,
                field: None,
                detail: format!(
                    "a quote opened in this row is never closed, so lines {}-{} (the rest of the file) were read as this one row",
                    rec.start_line, rec.end_line
                ),
            })
        } else if rec.too_long {
            Some(Bad {
                reason: reasons::LINE_TOO_LONG,
                field: None,
                detail: format!("row of {} bytes is longer than the {} bytes a row may have", rec.bytes, limits.row_bytes),
            })
        } else if rec.ends.len() != width {
            Some(Bad {
                reason: reasons::WRONG_FIELD_COUNT,
                field: None,
                detail: format!("{} fields where the header has {}", rec.ends.len(), width),
            })
        } else {
            warnings.clear();
            let fields = Fields { rec: &rec, map: &map };
            match build_row(&fields, tz, origin.clone(), &mut warnings) {
                Ok(row) => {
                    for w in warnings.drain(..) {
                        stats.warnings += 1;
                        sink.problem(problem(Severity::Warning, w.reason, w.field, w.detail));
                    }
                    sink.interview(row);
                    None
                }
                Err(bad) => Some(bad),
            }
        };
        if let Some(bad) = set_aside {
            stats.set_aside += 1;
            sink.problem(problem(Severity::SetAside, bad.reason, bad.field, bad.detail));
        }
        ticker.tick(&lines);
    }
    ticker.finish(&lines);
    stats.content = lines.content();
    Ok(stats)
}

/// Why a field is bad: for a required one the row is set aside, for an optional one
/// the row is kept with the field null and this becomes a warning.
#[derive(Debug)]
struct Bad {
    reason: &'static str,
    field: Option<&'static str>,
    detail: String,
}

/// The known columns of one record, trimmed.
struct Fields<'a> {
    rec: &'a Record,
    map: &'a ColumnMap,
}

impl Fields<'_> {
    /// The trimmed value, `None` when empty or the column is absent.
    fn get(&self, col: Col) -> Option<&str> {
        let v = self.rec.field(self.map[col.position()]?).trim();
        (!v.is_empty()).then_some(v)
    }
}

fn missing(col: Col) -> Bad {
    Bad { reason: reasons::MISSING_FIELD, field: Some(col.name()), detail: format!("{} is empty", col.name()) }
}

fn required_str(f: &Fields, col: Col) -> Result<String, Bad> {
    f.get(col).map(str::to_string).ok_or_else(|| missing(col))
}

fn timestamp(f: &Fields, col: Col, tz: Tz) -> Option<Result<Micros, Bad>> {
    let v = f.get(col)?;
    Some(parse_timestamp(v, tz).map_err(|e| Bad {
        reason: reasons::BAD_TIMESTAMP,
        field: Some(col.name()),
        detail: format!("{} {} is not a timestamp: {e}", col.name(), quote_value(v)),
    }))
}

/// Parses an enumerated column; `all` lists the accepted values for the message.
fn enumerated<T: Copy>(
    f: &Fields,
    col: Col,
    parse: fn(&str) -> Option<T>,
    all: &[T],
    show: fn(T) -> &'static str,
) -> Option<Result<T, Bad>> {
    let v = f.get(col)?;
    Some(parse(v).ok_or_else(|| Bad {
        reason: reasons::BAD_ENUM,
        field: Some(col.name()),
        detail: format!(
            "{} {} is not one of {}",
            col.name(),
            quote_value(v),
            all.iter().map(|&x| show(x)).collect::<Vec<_>>().join(", ")
        ),
    }))
}

/// Values HR exports put where an id is unknown.
fn is_placeholder_id(id: &str) -> bool {
    const PLACEHOLDERS: &[&str] =
        &["n/a", "na", "n.a.", "null", "none", "nil", "unknown", "-", "--", "0", "?", "tbd", "无", "未知", "空", "暂无"];
    let lower = id.trim().to_lowercase();
    PLACEHOLDERS.contains(&lower.as_str())
}

/// An optional field: a bad value becomes null plus a warning.
fn optional<T>(value: Option<Result<T, Bad>>, warnings: &mut Vec<Bad>) -> Option<T> {
    match value? {
        Ok(v) => Some(v),
        Err(bad) => {
            warnings.push(bad);
            None
        }
    }
}

fn build_row(f: &Fields, tz: Tz, origin: Origin, warnings: &mut Vec<Bad>) -> Result<InterviewRow, Bad> {
    let interview_id = required_str(f, Col::InterviewId)?;
    let candidate_id = required_str(f, Col::CandidateId)?;
    if is_placeholder_id(&candidate_id) {
        // Kept (the interview is real), but every interview with this id would look
        // like one candidate's history: said once per row, as a data-quality warning.
        warnings.push(Bad {
            reason: reasons::PLACEHOLDER_ID,
            field: Some(Col::CandidateId.name()),
            detail: format!(
                "candidate_id {} looks like a placeholder, not an id: interviews sharing it are treated as one \
                 candidate's history",
                quote_value(&candidate_id)
            ),
        });
    }
    let role = required_str(f, Col::Role)?;
    let region = required_str(f, Col::Region)?;
    let invited_at = timestamp(f, Col::InvitedAt, tz).ok_or_else(|| missing(Col::InvitedAt))??;
    let scheduled_at = timestamp(f, Col::ScheduledAt, tz).ok_or_else(|| missing(Col::ScheduledAt))??;
    let status = enumerated(f, Col::Status, Status::parse, Status::ALL, Status::as_str).ok_or_else(|| missing(Col::Status))??;
    if scheduled_at < invited_at - MICROS_PER_MINUTE {
        return Err(Bad {
            reason: reasons::SCHEDULED_BEFORE_INVITED,
            field: Some(Col::ScheduledAt.name()),
            detail: format!(
                "scheduled_at {} is more than a minute before invited_at {}",
                quote_value(f.get(Col::ScheduledAt).unwrap_or_default()),
                quote_value(f.get(Col::InvitedAt).unwrap_or_default())
            ),
        });
    }
    let education = optional(enumerated(f, Col::Education, Education::parse, Education::ALL, Education::as_str), warnings);
    let fresh_graduate = optional(
        f.get(Col::FreshGraduate).map(|v| {
            parse_bool(v).ok_or_else(|| Bad {
                reason: reasons::BAD_BOOL,
                field: Some(Col::FreshGraduate.name()),
                detail: format!("fresh_graduate {} is not true/false, 1/0 or yes/no", quote_value(v)),
            })
        }),
        warnings,
    );
    let preferred_channel =
        optional(enumerated(f, Col::PreferredChannel, Channel::parse, Channel::ALL, Channel::as_str), warnings);
    let no_show_grade =
        optional(enumerated(f, Col::NoShowGrade, NoShowGrade::parse, NoShowGrade::ALL, NoShowGrade::as_str), warnings);
    let cost = optional(
        f.get(Col::Cost).map(|v| {
            parse_decimal(v).ok_or_else(|| Bad {
                reason: reasons::BAD_DECIMAL,
                field: Some(Col::Cost.name()),
                detail: format!("cost {} is not a decimal number (digits, optional . fraction)", quote_value(v)),
            })
        }),
        warnings,
    );
    let updated_at = optional(timestamp(f, Col::UpdatedAt, tz), warnings);
    Ok(InterviewRow {
        interview_id,
        candidate_id,
        role,
        region,
        education,
        fresh_graduate,
        source: f.get(Col::Source).map(str::to_string),
        preferred_channel,
        invited_at,
        scheduled_at,
        status,
        cause: f.get(Col::Cause).map(str::to_string),
        no_show_grade,
        cost,
        updated_at,
        origin,
        extra: Vec::new(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ingest::files::classify;
    use std::path::Path;
    use std::sync::Arc;

    /// Collects everything a reader hands over.
    #[derive(Default, Debug)]
    pub(crate) struct Collect {
        pub interviews: Vec<InterviewRow>,
        pub events: Vec<crate::ingest::record::EventRow>,
        pub problems: Vec<Problem>,
        /// Everything in the order it arrived: (line, `k`ept / `s`et aside / `w`arning).
        pub order: Vec<(u64, char)>,
    }

    impl RowSink for Collect {
        fn interview(&mut self, row: InterviewRow) {
            self.order.push((row.origin.line, 'k'));
            self.interviews.push(row);
        }
        fn event(&mut self, row: crate::ingest::record::EventRow) {
            self.order.push((row.origin.line, 'k'));
            self.events.push(row);
        }
        fn problem(&mut self, problem: Problem) {
            let tag = if problem.severity == Severity::SetAside { 's' } else { 'w' };
            self.order.push((problem.origin.line, tag));
            self.problems.push(problem);
        }
    }

    /// The accounting every reader must keep, whatever the input: each row read is
    /// either kept or set aside with exactly one problem, warnings only come just
    /// before the kept row they are about, and rows arrive in line order.
    pub(crate) fn assert_accounted(stats: &FileStats, sink: &Collect) {
        let kept = sink.interviews.len() + sink.events.len();
        let set_aside = sink.set_aside().len() as u64;
        assert_eq!(stats.rows_read, kept as u64 + set_aside, "rows read = kept + set aside");
        assert_eq!(stats.set_aside, set_aside);
        assert_eq!(stats.warnings, sink.warnings().len() as u64);
        let mut last_line = 0;
        let mut pending_warning: Option<u64> = None;
        for &(line, tag) in &sink.order {
            match tag {
                'w' => {
                    assert!(pending_warning.is_none_or(|l| l == line), "warnings of one row share its line");
                    pending_warning = Some(line);
                }
                _ => {
                    assert!(pending_warning.is_none_or(|l| l == line && tag == 'k'), "a warning belongs to a kept row");
                    pending_warning = None;
                    assert!(line > last_line, "rows in increasing line order: {line} after {last_line}");
                    last_line = line;
                }
            }
        }
        assert!(pending_warning.is_none(), "a warning without its row");
    }

    impl Collect {
        pub fn set_aside(&self) -> Vec<&Problem> {
            self.problems.iter().filter(|p| p.severity == Severity::SetAside).collect()
        }
        pub fn warnings(&self) -> Vec<&Problem> {
            self.problems.iter().filter(|p| p.severity == Severity::Warning).collect()
        }
    }

    pub(crate) fn input(dir: &Path, name: &str, bytes: &[u8]) -> InputFile {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let (kind, gzip) = classify(name).unwrap();
        InputFile { rel: Arc::from(name), kind, gzip, size: bytes.len() as u64, path, hash_on_read: true }
    }

    const HEADER: &str = "interview_id,candidate_id,role,region,education,fresh_graduate,source,preferred_channel,invited_at,scheduled_at,status,cause,no_show_grade,cost,updated_at";

    fn read_with(text: &[u8], tz: Tz, limits: Limits) -> Result<(FileStats, Collect), FileError> {
        let dir = tempfile::tempdir().unwrap();
        let f = input(dir.path(), "interviews.csv", text);
        let mut sink = Collect::default();
        let stats = read_interviews_with(&f, tz, &mut sink, &|_| {}, limits)?;
        Ok((stats, sink))
    }

    fn read(text: &str) -> (FileStats, Collect) {
        read_with(text.as_bytes(), chrono_tz::UTC, Limits::default()).unwrap()
    }

    fn utc(s: &str) -> Micros {
        parse_timestamp(s, chrono_tz::UTC).unwrap()
    }

    #[test]
    fn column_positions_match_the_schema() {
        let names = [(Col::InterviewId, "interview_id"), (Col::CandidateId, "candidate_id"), (Col::Role, "role"), (Col::Region, "region"),
            (Col::Education, "education"), (Col::FreshGraduate, "fresh_graduate"), (Col::Source, "source"),
            (Col::PreferredChannel, "preferred_channel"), (Col::InvitedAt, "invited_at"), (Col::ScheduledAt, "scheduled_at"),
            (Col::Status, "status"), (Col::Cause, "cause"), (Col::NoShowGrade, "no_show_grade"), (Col::Cost, "cost"),
            (Col::UpdatedAt, "updated_at")];
        assert_eq!(INTERVIEW_COLUMNS.len(), NCOLS);
        for (i, n) in names {
            assert_eq!(INTERVIEW_COLUMNS[i.position()].0, n);
        }
    }

    #[test]
    fn a_full_row_is_read_with_every_field() {
        let text = format!(
            "{HEADER}\n i1 ,c1,销售,华东,Master,YES,campus,WeChat,2026-03-01 09:00:00,2026-03-02T14:00:00+08:00,No_Show,忘记了,no_reason,12.50,2026-03-03 10:00:00Z\n"
        );
        let (stats, sink) = read(&text);
        assert_eq!(FileStats { content: Default::default(), ..stats }, FileStats { rows_read: 1, ..FileStats::default() });
        let row = &sink.interviews[0];
        assert_eq!(row.interview_id, "i1");
        assert_eq!((row.role.as_str(), row.region.as_str()), ("销售", "华东"));
        assert_eq!(row.education, Some(Education::Master));
        assert_eq!(row.fresh_graduate, Some(true));
        assert_eq!(row.source.as_deref(), Some("campus"));
        assert_eq!(row.preferred_channel, Some(Channel::Wechat));
        assert_eq!(row.invited_at, utc("2026-03-01T09:00:00Z"));
        assert_eq!(row.scheduled_at, utc("2026-03-02T06:00:00Z"));
        assert_eq!(row.status, Status::NoShow);
        assert_eq!(row.cause.as_deref(), Some("忘记了"));
        assert_eq!(row.no_show_grade, Some(NoShowGrade::NoReason));
        assert_eq!(row.cost, Some(12.5));
        assert_eq!(row.updated_at, Some(utc("2026-03-03T10:00:00Z")));
        assert_eq!(row.origin, Origin { file: Arc::from("interviews.csv"), line: 2 });
        assert!(sink.problems.is_empty());
    }

    #[test]
    fn header_is_trimmed_case_insensitive_in_any_order_and_optional_columns_may_be_absent() {
        let text = "\u{feff} Status ,INVITED_AT,scheduled_at,Region,role,candidate_id,Interview_ID\r\n\
                    attended,2026-03-01 09:00:00,2026-03-01 10:00:00,north,sales,c9,i9\r\n";
        let (stats, sink) = read(text);
        assert_eq!(stats.rows_read, 1);
        let row = &sink.interviews[0];
        assert_eq!((row.interview_id.as_str(), row.candidate_id.as_str(), row.status), ("i9", "c9", Status::Attended));
        assert_eq!(row.region, "north", "CRLF must not leak into the last field");
        assert_eq!((row.education, row.cost, row.updated_at), (None, None, None));
    }

    #[test]
    fn quoted_fields_with_newlines_keep_line_numbers_of_their_first_line() {
        let text = format!(
            "{HEADER}\n\
             i1,c1,sales,north,,,,,2026-03-01 09:00:00,2026-03-01 10:00:00,attended,\"two\nlines, with \"\"quotes\"\"\",,,\n\
             \n\
             i2,c2,\"multi\r\nline\r\nrole\",north,,,,,2026-03-01 09:00:00,2026-03-01 10:00:00,attended,,,,\n\
             i3,c3,sales,north,,,,,2026-03-01 09:00:00,2026-03-01 10:00:00,attended,,,,\n"
        );
        let (stats, sink) = read(&text);
        assert_eq!(stats.rows_read, 3);
        let lines: Vec<u64> = sink.interviews.iter().map(|r| r.origin.line).collect();
        assert_eq!(lines, [2, 5, 8]);
        assert_eq!(sink.interviews[0].cause.as_deref(), Some("two\nlines, with \"quotes\""));
        assert_eq!(sink.interviews[1].role, "multi\r\nline\r\nrole");
    }

    #[test]
    fn duplicate_missing_and_unknown_columns() {
        let err = read_with(format!("{HEADER},ROLE\n").as_bytes(), chrono_tz::UTC, Limits::default()).unwrap_err();
        assert!(matches!(&err, FileError::DuplicateColumns { columns, .. } if columns == &["ROLE"]), "{err}");
        assert!(err.to_string().contains("interviews.csv"), "{err}");

        let err = read_with(b"interview_id,role,region,invited_at,status\n", chrono_tz::UTC, Limits::default()).unwrap_err();
        match &err {
            FileError::MissingColumns { columns, .. } => assert_eq!(columns, &["candidate_id", "scheduled_at"]),
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("interviews.csv: missing required column(s) candidate_id, scheduled_at"), "{err}");

        let err = read_with(b"\n\n", chrono_tz::UTC, Limits::default()).unwrap_err();
        assert!(matches!(err, FileError::NoHeader { .. }), "{err}");

        let text = format!("{HEADER},Notes,,score\ni1,c1,r,g,,,,,2026-03-01 09:00:00,2026-03-01 10:00:00,attended,,,,,n,,9\n");
        let (stats, sink) = read(&text);
        assert_eq!(stats.unknown_columns, ["Notes", "(unnamed column 17)", "score"]);
        assert_eq!(sink.interviews.len(), 1);
    }

    fn row(fields: &[(&str, &str)]) -> String {
        let mut values: Vec<String> = vec![
            "i1", "c1", "sales", "north", "", "", "", "", "2026-03-01 09:00:00", "2026-03-01 10:00:00", "attended", "", "",
            "", "",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        for (name, value) in fields {
            let at = INTERVIEW_COLUMNS.iter().position(|(n, _)| n == name).unwrap();
            values[at] = value.to_string();
        }
        format!("{HEADER}\n{}\n", values.join(","))
    }

    fn set_aside_reason(fields: &[(&str, &str)]) -> (&'static str, Option<String>, String) {
        let (stats, sink) = read(&row(fields));
        assert_eq!((stats.rows_read, stats.set_aside, sink.interviews.len()), (1, 1, 0), "{fields:?}");
        let p = &sink.problems[0];
        assert_eq!(sink.problems.len(), 1);
        assert_eq!(p.origin.line, 2);
        (p.reason, p.field.clone(), p.detail.clone())
    }

    #[test]
    fn bad_required_fields_set_the_row_aside() {
        assert_eq!(set_aside_reason(&[("interview_id", "  ")]).0, reasons::MISSING_FIELD);
        assert_eq!(set_aside_reason(&[("region", "")]).1.as_deref(), Some("region"));
        let (reason, field, detail) = set_aside_reason(&[("status", "done")]);
        assert_eq!((reason, field.as_deref()), (reasons::BAD_ENUM, Some("status")));
        assert!(detail.contains("\"done\"") && detail.contains("no_show"), "{detail}");
        for bad_time in ["2026-03-01", "2026-03-01 24:00:00", "2026-03-01T10:00:00+0800", "yesterday"] {
            let (reason, field, _) = set_aside_reason(&[("invited_at", bad_time)]);
            assert_eq!((reason, field.as_deref()), (reasons::BAD_TIMESTAMP, Some("invited_at")), "{bad_time}");
        }
        let (reason, _, _) =
            set_aside_reason(&[("invited_at", "2026-03-01 10:01:01"), ("scheduled_at", "2026-03-01 10:00:00")]);
        assert_eq!(reason, reasons::SCHEDULED_BEFORE_INVITED);
        // Exactly a minute early is allowed.
        let (stats, _) = read(&row(&[("invited_at", "2026-03-01 10:01:00"), ("scheduled_at", "2026-03-01 10:00:00")]));
        assert_eq!(stats.set_aside, 0);
    }

    #[test]
    fn dst_gap_in_the_configured_zone_is_not_a_timestamp() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let text = row(&[("invited_at", "2026-03-08 01:00:00"), ("scheduled_at", "2026-03-08 02:30:00")]);
        let (stats, sink) = read_with(text.as_bytes(), ny, Limits::default()).unwrap();
        assert_eq!(stats.set_aside, 1);
        assert_eq!(sink.problems[0].reason, reasons::BAD_TIMESTAMP);
        assert!(sink.problems[0].detail.contains("daylight-saving"), "{}", sink.problems[0].detail);
        // The same text is fine in UTC, and a naive time is read in the zone.
        let (stats, sink) = read_with(text.as_bytes(), chrono_tz::UTC, Limits::default()).unwrap();
        assert_eq!(stats.set_aside, 0);
        let sh: Tz = "Asia/Shanghai".parse().unwrap();
        let (_, sink_sh) = read_with(text.as_bytes(), sh, Limits::default()).unwrap();
        assert_eq!(sink.interviews[0].invited_at - sink_sh.interviews[0].invited_at, 8 * crate::time::MICROS_PER_HOUR);
    }

    #[test]
    fn bad_optional_fields_become_null_with_a_warning() {
        let text = row(&[("education", "phd"), ("fresh_graduate", "y"), ("cost", "\"1,000\""), ("updated_at", "soon"),
            ("preferred_channel", "fax"), ("no_show_grade", "late"), ("source", "  ")]);
        let (stats, sink) = read(&text);
        assert_eq!((stats.rows_read, stats.set_aside, stats.warnings), (1, 0, 6));
        let r = &sink.interviews[0];
        assert_eq!((r.education, r.fresh_graduate, r.cost, r.updated_at, r.preferred_channel, r.no_show_grade, &r.source),
            (None, None, None, None, None, None, &None));
        let mut got: Vec<(&str, &str)> =
            sink.warnings().iter().map(|p| (p.reason, p.field.as_deref().unwrap_or(""))).collect();
        got.sort();
        assert_eq!(got, [("bad_bool", "fresh_graduate"), ("bad_decimal", "cost"), ("bad_enum", "education"),
            ("bad_enum", "no_show_grade"), ("bad_enum", "preferred_channel"), ("bad_timestamp", "updated_at")]);
        assert!(sink.warnings().iter().all(|p| p.origin.line == 2 && p.raw.contains("phd")));
    }

    #[test]
    fn a_set_aside_row_gets_one_problem_not_its_warnings_too() {
        let (stats, sink) = read(&row(&[("education", "phd"), ("status", "??")]));
        assert_eq!((stats.set_aside, stats.warnings, sink.problems.len()), (1, 0, 1));
    }

    #[test]
    fn ragged_rows_are_set_aside_and_reading_goes_on() {
        let good = "i2,c2,r,g,,,,,2026-03-01 09:00:00,2026-03-01 10:00:00,attended,,,,";
        let text = format!("{HEADER}\ni1,c1,r,g\n{good},extra\n{good}\n");
        let (stats, sink) = read(&text);
        assert_eq!((stats.rows_read, stats.set_aside), (3, 2));
        let reasons: Vec<_> = sink.set_aside().iter().map(|p| (p.reason, p.origin.line)).collect();
        assert_eq!(reasons, [(reasons::WRONG_FIELD_COUNT, 2), (reasons::WRONG_FIELD_COUNT, 3)]);
        assert_eq!(sink.set_aside()[0].raw, "i1,c1,r,g");
        assert_eq!(sink.interviews[0].origin.line, 4);
    }

    #[test]
    fn a_quote_open_until_the_end_is_one_row_set_aside_and_said_so() {
        let good = "i2,c2,r,g,,,,,2026-03-01 09:00:00,2026-03-01 10:00:00,attended,,,,";
        let text = format!("{HEADER}\n{good}\ni1,\"c1,r,g\n{good}\n{good}\n");
        let (stats, sink) = read(&text);
        assert_eq!((stats.rows_read, stats.set_aside, sink.interviews.len()), (2, 1, 1));
        let p = sink.set_aside()[0];
        assert_eq!((p.reason, p.origin.line), (reasons::UNTERMINATED_QUOTE, 3));
        assert!(p.detail.contains("lines 3-5"), "{}", p.detail);
        assert!(p.raw.contains(good), "the swallowed lines are in the raw text");
    }

    #[test]
    fn a_row_too_long_is_set_aside_with_its_raw_text_cut() {
        let limits = Limits { row_bytes: 300, raw_bytes: 50 };
        let good = "i2,c2,r,g,,,,,2026-03-01 09:00:00,2026-03-01 10:00:00,attended,,,,";
        let giant = "x".repeat(1000);
        // A giant unquoted field, then a giant quoted one spanning lines with a comma
        // and an escaped quote in its skipped part.
        let text = format!("{HEADER}\ni1,c1,{giant},g\n{good}\ni3,\"{giant}\n{giant},\"\"\n{giant}\",r\n{good}\n");
        let (stats, sink) = read_with(text.as_bytes(), chrono_tz::UTC, limits).unwrap();
        let got: Vec<_> = sink.set_aside().iter().map(|p| (p.reason, p.origin.line)).collect();
        assert_eq!(got, [(reasons::LINE_TOO_LONG, 2), (reasons::LINE_TOO_LONG, 4)]);
        assert_eq!(sink.interviews.iter().map(|r| r.origin.line).collect::<Vec<_>>(), [3, 7]);
        assert_eq!(stats.rows_read, 4);
        let raw = &sink.set_aside()[0].raw;
        assert!(raw.starts_with("i1,c1,xxx") && raw.len() < 100 && raw.contains("1008 bytes"), "{raw}");
    }

    #[test]
    fn nul_bytes_and_control_characters_do_not_break_reading() {
        let text = row(&[("cause", "a\0b"), ("role", "\u{1}x")]);
        let (stats, sink) = read(&text);
        assert_eq!(stats.rows_read, 1);
        assert_eq!(sink.interviews[0].cause.as_deref(), Some("a\0b"));
    }

    #[test]
    fn not_utf8_is_a_file_error_with_the_line() {
        let mut text = row(&[]).into_bytes();
        text.extend_from_slice(b"i2,c2,r\xC3\x28,g\n");
        let err = read_with(&text, chrono_tz::UTC, Limits::default()).unwrap_err();
        assert!(matches!(err, FileError::NotUtf8 { line: 3, .. }), "{err}");
    }

    #[test]
    fn gzip_input_reads_the_same() {
        use std::io::Write;
        let text = row(&[("role", "销售")]);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let f = input(dir.path(), "interviews.csv.gz", &enc.finish().unwrap());
        let mut sink = Collect::default();
        let seen = std::cell::Cell::new(0);
        let stats = read_interviews(&f, chrono_tz::UTC, &mut sink, &|b| seen.set(b)).unwrap();
        assert_eq!(stats.rows_read, 1);
        assert_eq!(sink.interviews[0].role, "销售");
        assert_eq!(seen.get(), f.size, "progress ends at the file's size on disk");
    }

    /// Property tests: arbitrary input never panics, and every row is accounted for
    /// exactly once, at the line the `csv` crate (an independent parser with the same
    /// quoting rules) says it starts on.
    mod prop {
        use super::*;
        use proptest::prelude::*;

        /// A field value from a plain integer, so generating is cheap in debug builds:
        /// valid and invalid values, quoting with commas, line breaks and doubled
        /// quotes, stray quotes, NUL, Chinese, and values long enough to pass the cap.
        fn value(k: u32) -> String {
            match k % 20 {
                0 => format!("v{}", k / 20),
                1 => "销售".into(),
                2 => "  华东 ".into(),
                3 => "2026-03-01 09:00:00".into(),
                4 => "2026-03-01T10:00:00+08:00".into(),
                5 => "2026-03-01".into(),
                6 => "NO_SHOW".into(),
                7 => "attended".into(),
                8 => "yes".into(),
                9 => "12.5".into(),
                10 => "\"a,b\"".into(),
                11 => "\"two\nlines\"".into(),
                12 => "\"crlf\r\ninside\"".into(),
                13 => "\"say \"\"hi\"\"\"".into(),
                14 => "\"\"".into(),
                15 => "x\"y".into(),
                16 => "\0".into(),
                17 => String::new(),
                _ => "x".repeat(150 + (k / 20 % 250) as usize),
            }
        }

        const VALID: [&str; NCOLS] = ["i1", "c1", "sales", "north", "master", "no", "campus", "sms",
            "2026-03-01 09:00:00", "2026-03-01 10:00:00", "attended", "", "", "3", ""];

        /// A file: a header in random case, then rows that are mostly valid, with random
        /// values, missing or extra fields, blank lines and both line endings.
        fn csv_file() -> impl Strategy<Value = String> {
            let row = (
                proptest::collection::vec(any::<u32>(), NCOLS),
                prop_oneof![8 => Just(0i32), 1 => Just(-1), 1 => Just(1)],
                any::<bool>(),
                prop_oneof![6 => Just(""), 1 => Just("\n"), 1 => Just("  \t\n"), 1 => Just("\r\n")],
            );
            (any::<bool>(), any::<bool>(), proptest::collection::vec(row, 0..25)).prop_map(|(bom, upper, rows)| {
                let mut text = String::new();
                if bom {
                    text.push('\u{feff}');
                }
                let header = HEADER.to_string();
                text.push_str(&if upper { header.to_uppercase() } else { header });
                text.push('\n');
                for (i, (fields, extra, crlf, blank)) in rows.into_iter().enumerate() {
                    let mut values: Vec<String> = fields
                        .into_iter()
                        .enumerate()
                        .map(|(c, k)| if c == 0 { format!("i{i}") } else if k % 100 < 85 { VALID[c].to_string() } else { value(k / 100) })
                        .collect();
                    match extra {
                        -1 => {
                            values.pop();
                        }
                        1 => values.push("extra".into()),
                        _ => {}
                    }
                    text.push_str(blank);
                    text.push_str(&values.join(","));
                    text.push_str(if crlf { "\r\n" } else { "\n" });
                }
                text
            })
        }

        /// Byte-level damage at char boundaries: quotes, commas and line breaks that
        /// move field and row boundaries, and deletions.
        fn mutate(text: &str, edits: &[(usize, u8)]) -> String {
            let mut s = text.to_string();
            for &(at, op) in edits {
                if s.is_empty() {
                    break;
                }
                let mut i = at % s.len();
                while !s.is_char_boundary(i) {
                    i -= 1;
                }
                match op % 6 {
                    0 => s.insert(i, '"'),
                    1 => s.insert(i, ','),
                    2 => s.insert(i, '\n'),
                    3 => s.insert_str(i, "\r\n"),
                    4 => s.insert(i, '中'),
                    _ => {
                        s.remove(i);
                    }
                }
            }
            // A lone CR is a line end to the csv crate but data to the input format.
            s.replace("\r\n", "\u{1}").replace('\r', "").replace('\u{1}', "\r\n")
        }

        /// Where each data row starts, and its fields, by the csv crate.
        fn oracle(text: &str) -> Vec<(u64, Vec<String>)> {
            let body = text.strip_prefix('\u{feff}').unwrap_or(text);
            let bytes = body.as_bytes();
            let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
            let mut out = Vec::new();
            for rec in rdr.byte_records() {
                let rec = rec.unwrap();
                let pos = rec.position().unwrap();
                // The csv crate's position is where the previous row ended: step over
                // the empty lines it skipped.
                let (mut at, mut line) = (pos.byte() as usize, pos.line());
                while let Some(&b) = bytes.get(at) {
                    match b {
                        b'\n' => line += 1,
                        b'\r' => {}
                        _ => break,
                    }
                    at += 1;
                }
                let fields: Vec<String> = rec.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
                let blank = fields.len() == 1 && fields[0].bytes().all(|b| b.is_ascii_whitespace()) && bytes.get(at) != Some(&b'"');
                if !blank {
                    out.push((line, fields));
                }
            }
            out
        }

        fn check(text: &str, limits: Limits) -> Result<(), TestCaseError> {
            let result = read_with(text.as_bytes(), chrono_tz::UTC, limits);
            let (stats, sink) = match result {
                Ok(r) => r,
                Err(FileError::MissingColumns { .. } | FileError::DuplicateColumns { .. } | FileError::BadHeader { .. }
                    | FileError::NoHeader { .. }) => return Ok(()),
                Err(e) => return Err(TestCaseError::fail(format!("unexpected error {e}"))),
            };
            assert_accounted(&stats, &sink);
            let expected = oracle(text);
            let rows: Vec<u64> = sink.order.iter().filter(|(_, t)| *t != 'w').map(|(l, _)| *l).collect();
            let expected_lines: Vec<u64> = expected.iter().skip(1).map(|(l, _)| *l).collect();
            prop_assert_eq!(&rows, &expected_lines);
            let width = expected[0].1.len();
            let mut kept = sink.interviews.iter();
            let mut problems = sink.set_aside().into_iter();
            for (line, fields) in expected.iter().skip(1) {
                if sink.order.iter().any(|&(l, t)| l == *line && t == 'k') {
                    let row = kept.next().unwrap();
                    // Damage may have moved or renamed columns: find them by name.
                    let value = |name: &str| {
                        let at = expected[0].1.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
                        at.map_or(String::new(), |i| fields[i].trim().to_string())
                    };
                    prop_assert_eq!(&row.interview_id, &value("interview_id"));
                    prop_assert_eq!(&row.region, &value("region"));
                    prop_assert_eq!(row.cause.as_deref().unwrap_or(""), value("cause"));
                } else {
                    let p = problems.next().unwrap();
                    let structural = [reasons::LINE_TOO_LONG, reasons::UNTERMINATED_QUOTE];
                    if fields.len() != width && !structural.contains(&p.reason) {
                        prop_assert_eq!(p.reason, reasons::WRONG_FIELD_COUNT);
                    }
                }
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

            #[test]
            fn generated_files_are_accounted_for_row_by_row(text in csv_file()) {
                check(&text, Limits { row_bytes: 600, raw_bytes: 64 })?;
            }

            #[test]
            fn damaged_files_are_accounted_for_row_by_row(
                text in csv_file(),
                edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..12),
            ) {
                check(&mutate(&text, &edits), Limits { row_bytes: 600, raw_bytes: 64 })?;
            }

            #[test]
            fn arbitrary_bytes_never_panic(with_header in any::<bool>(), bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
                let mut text = if with_header { format!("{HEADER}\n").into_bytes() } else { Vec::new() };
                text.extend_from_slice(&bytes);
                if let Ok((stats, sink)) = read_with(&text, chrono_tz::UTC, Limits { row_bytes: 500, raw_bytes: 32 }) {
                    assert_accounted(&stats, &sink);
                }
            }

            #[test]
            fn arbitrary_gzip_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000), cut in any::<usize>()) {
                use std::io::Write;
                let dir = tempfile::tempdir().unwrap();
                let f = input(dir.path(), "interviews.csv.gz", &bytes);
                let result = read_interviews(&f, chrono_tz::UTC, &mut Collect::default(), &|_| ());
                prop_assert!(result.is_err(), "random bytes are not a gzip stream holding a header");
                // A valid stream cut short anywhere is an error, never a panic or a silent success.
                let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                enc.write_all(row(&[]).as_bytes()).unwrap();
                let gz = enc.finish().unwrap();
                let short = &gz[..cut % gz.len()];
                let f = input(dir.path(), "interviews-cut.csv.gz", short);
                let result = read_interviews(&f, chrono_tz::UTC, &mut Collect::default(), &|_| ());
                prop_assert!(short.is_empty() && matches!(result, Err(FileError::NoHeader { .. }))
                    || matches!(result, Err(FileError::BrokenGzip { .. })), "{:?}", result.map(|s| s.rows_read));
            }
        }
    }
}
