//! The lake's Parquet files: writing a version's tables from the merged column stores,
//! and reading the current version back into a [`Merger`]. Nothing here decides which
//! rows win; it only moves rows between the stores and the disk.
//!
//! Files are deterministic: rows sorted, no wall-clock time inside, so the same rows
//! give the same bytes.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, BooleanBuilder, Float64Array, Float64Builder, RecordBatch, StringArray,
    StringBuilder, TimestampMicrosecondArray, TimestampMicrosecondBuilder, UInt64Array, UInt64Builder,
};
use arrow::datatypes::SchemaRef;
use chrono::{DateTime, Datelike, NaiveDate};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::{KeyValue, SortingColumn};
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use crate::ingest::merge::{enum_value, fingerprint_bytes, FpSet, InterviewStore, Merger, RejectedStore, StrColumn};
use crate::ingest::fpset::FpTable;
use crate::ingest::order::SortKey;
use crate::ingest::spill::{self, EventFields, MonthKey, Spill, FROM_LAKE};
use crate::ingest::record::{InterviewRow, Origin};
use crate::schema::{self, Channel, ColumnError, Education, EventColumn, EventType, InterviewColumn, LakeColumn, NoShowGrade, Status};
use crate::time::Micros;

/// Rows per Parquet row group (the last one of a file holds the rest).
pub const ROW_GROUP_ROWS: usize = 1 << 20;
/// zstd level of every lake file.
pub const ZSTD_LEVEL: i32 = 1;
/// Rows per Arrow batch handed to the writer: bounds the memory of one conversion.
const BATCH_ROWS: usize = 64 * 1024;

/// A failure reading or writing a lake file; the message names the file.
#[derive(Debug, thiserror::Error)]
pub enum LakeFileError {
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: Box<dyn std::error::Error + Send + Sync> },
    #[error("reading lake file {path}: {source}")]
    Read { path: PathBuf, source: Box<dyn std::error::Error + Send + Sync> },
    #[error("lake file {path}: {what}")]
    Content { path: PathBuf, what: String },
}

fn write_err(path: &Path) -> impl Fn(Box<dyn std::error::Error + Send + Sync>) -> LakeFileError + '_ {
    move |source| LakeFileError::Write { path: path.to_path_buf(), source }
}

/// One Parquet file written into a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenFile {
    /// Relative to the version folder, `/`-separated.
    pub path: String,
    pub rows: u64,
    /// Input files (relative to the raw folder) with rows in this file.
    pub source_files: Vec<String>,
    /// Events files: how many of its events have an interview the version does not
    /// know (kept so that a carried file need not be re-read to count them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orphans: Option<u64>,
    /// Events files: the interview index beside it (see [`crate::lake::index`]), relative
    /// to the version folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
}

/// What is the same in every file of a version.
#[derive(Debug, Clone, Copy)]
pub struct VersionInfo {
    pub lake_version: u64,
}

fn properties(table: &str, info: VersionInfo, sources: &[String], sort_columns: &[usize]) -> WriterProperties {
    let sources_json = serde_json::to_string(sources).unwrap_or_else(|_| "[]".into());
    let kv = vec![
        KeyValue::new("noshow.version".to_string(), crate::VERSION.to_string()),
        KeyValue::new("noshow.lake_version".to_string(), info.lake_version.to_string()),
        KeyValue::new("noshow.table".to_string(), table.to_string()),
        KeyValue::new("noshow.source_files".to_string(), sources_json),
    ];
    let sorting = sort_columns
        .iter()
        .map(|&column| SortingColumn { column_idx: column as i32, descending: false, nulls_first: false })
        .collect();
    WriterProperties::builder()
        // Level 1, not 3: at 1 million interviews it cut zstd's share of ingest CPU by
        // about 40 % for files about 3 % larger (docs/performance.md).
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(ZSTD_LEVEL).unwrap_or_default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_key_value_metadata(Some(kv))
        .set_sorting_columns(Some(sorting))
        .build()
}

/// Writes rows `rows` (already in file order) to `path`, converting `BATCH_ROWS` at a time.
fn write_file(
    path: &Path,
    schema: SchemaRef,
    props: WriterProperties,
    rows: &[u32],
    batch: &dyn Fn(&[u32]) -> Result<RecordBatch, arrow::error::ArrowError>,
) -> Result<(), LakeFileError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| write_err(path)(Box::new(e)))?;
    }
    let file = File::create(path).map_err(|e| write_err(path)(Box::new(e)))?;
    let mut writer =
        ArrowWriter::try_new(BufWriter::new(file), schema.clone(), Some(props)).map_err(|e| write_err(path)(Box::new(e)))?;
    if rows.is_empty() {
        let empty = RecordBatch::new_empty(schema);
        writer.write(&empty).map_err(|e| write_err(path)(Box::new(e)))?;
    }
    for chunk in rows.chunks(BATCH_ROWS) {
        let b = batch(chunk).map_err(|e| write_err(path)(Box::new(e)))?;
        writer.write(&b).map_err(|e| write_err(path)(Box::new(e)))?;
    }
    let inner = writer.into_inner().map_err(|e| write_err(path)(Box::new(e)))?;
    inner.into_inner().map_err(|e| write_err(path)(Box::new(e.into_error())))?;
    Ok(())
}

/// `YYYY-MM` of an instant in UTC, and the half-open range of instants in that month.
fn utc_month(t: Micros) -> (String, Micros, Micros) {
    let dt = DateTime::from_timestamp_micros(t).unwrap_or_default();
    let (y, m) = (dt.year(), dt.month());
    let first = NaiveDate::from_ymd_opt(y, m, 1).unwrap_or_default();
    let next = if m == 12 { NaiveDate::from_ymd_opt(y + 1, 1, 1) } else { NaiveDate::from_ymd_opt(y, m + 1, 1) };
    let start = first.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().timestamp_micros();
    let end = next.and_then(|d| d.and_hms_opt(0, 0, 0)).map_or(Micros::MAX, |d| d.and_utc().timestamp_micros());
    (format!("{y:04}-{m:02}"), start, end)
}

/// Splits rows sorted by time into runs of one UTC month each.
pub fn month_runs(rows: &[u32], time: &[Micros]) -> Vec<(String, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let (label, _, end) = utc_month(time[rows[i] as usize]);
        let mut j = i;
        while j < rows.len() && time[rows[j] as usize] < end {
            j += 1;
        }
        out.push((label, i..j));
        i = j;
    }
    out
}

fn source_names(rows: &[u32], origin_file: &(dyn Fn(u32) -> u32 + Sync), merger: &Merger) -> Vec<String> {
    let ids: BTreeSet<u32> = rows.iter().map(|&r| origin_file(r)).collect();
    let names: BTreeSet<String> = ids.into_iter().map(|i| merger.files.name(i).to_string()).collect();
    names.into_iter().collect()
}

fn strings(col: &StrColumn, rows: &[u32]) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(rows.len(), col.bytes_of(rows));
    for &r in rows {
        b.append_option(col.get(r as usize));
    }
    Arc::new(b.finish())
}

fn enum_strings<T: Copy>(codes: &[u8], all: &[T], text: fn(T) -> &'static str, rows: &[u32]) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 8);
    for &r in rows {
        b.append_option(enum_value(all, codes[r as usize]).map(text));
    }
    Arc::new(b.finish())
}

fn timestamps(values: impl Iterator<Item = Option<Micros>>, n: usize) -> ArrayRef {
    let mut b = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    for v in values {
        b.append_option(v);
    }
    Arc::new(b.finish())
}

fn file_names(origin_file: &[u32], rows: &[u32], merger: &Merger) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 24);
    for &r in rows {
        b.append_value(merger.files.name(origin_file[r as usize]));
    }
    Arc::new(b.finish())
}

fn lines(origin_line: &[u64], rows: &[u32]) -> ArrayRef {
    let mut b = UInt64Builder::with_capacity(rows.len());
    for &r in rows {
        b.append_value(origin_line[r as usize]);
    }
    Arc::new(b.finish())
}

fn interview_batch(s: &InterviewStore, merger: &Merger, rows: &[u32]) -> Result<RecordBatch, arrow::error::ArrowError> {
    let n = rows.len();
    let at = |r: &u32| *r as usize;
    // The keys hold every row; the other columns start after the key rows (which are
    // never written: `ingest::whole_lake_rows` refuses a run that would).
    let body: Vec<u32> = rows.iter().map(|&r| s.body(r as usize) as u32).collect();
    let keys = rows;
    let rows = body.as_slice();
    // One array per registry column, in its order (a column added to the registry
    // does not compile here until it is written).
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(InterviewColumn::ALL.len() + s.extra.len());
    for c in InterviewColumn::ALL {
        use InterviewColumn as I;
        columns.push(match c {
            I::InterviewId => strings(&s.interview_id, keys),
            I::CandidateId => strings(&s.candidate_id, rows),
            I::Role => strings(&s.role, rows),
            I::Region => strings(&s.region, rows),
            I::Education => enum_strings(&s.education, Education::ALL, Education::as_str, rows),
            I::FreshGraduate => {
                let mut b = BooleanBuilder::with_capacity(n);
                for r in rows {
                    b.append_option(s.fresh_graduate(at(r)));
                }
                Arc::new(b.finish())
            }
            I::Source => strings(&s.source, rows),
            I::PreferredChannel => enum_strings(&s.preferred_channel, Channel::ALL, Channel::as_str, rows),
            I::InvitedAt => timestamps(rows.iter().map(|r| Some(s.invited_at[at(r)])), n),
            I::ScheduledAt => timestamps(keys.iter().map(|r| Some(s.scheduled_at[at(r)])), n),
            I::Status => enum_strings(&s.status, Status::ALL, Status::as_str, rows),
            I::Cause => strings(&s.cause, rows),
            I::NoShowGrade => enum_strings(&s.no_show_grade, NoShowGrade::ALL, NoShowGrade::as_str, rows),
            I::Cost => {
                let mut b = Float64Builder::with_capacity(n);
                for r in rows {
                    b.append_option(s.cost[at(r)]);
                }
                Arc::new(b.finish())
            }
            I::UpdatedAt => timestamps(keys.iter().map(|r| s.updated_at[at(r)]), n),
            I::OriginFile => file_names(&s.origin_file, rows, merger),
            I::OriginLine => lines(&s.origin_line, rows),
        });
    }
    for (_, column) in &s.extra {
        columns.push(strings(column, rows));
    }
    RecordBatch::try_new(interviews_schema_with(&s.extra_names()), columns)
}

/// The interviews table's schema: the fixed columns, then the extra columns of mapped
/// exports (nullable text, in order of first appearance).
pub fn interviews_schema_with(extra: &[&str]) -> SchemaRef {
    let base = schema::interviews_schema();
    if extra.is_empty() {
        return base;
    }
    let mut fields: Vec<arrow::datatypes::FieldRef> = base.fields().iter().cloned().collect();
    for name in extra {
        fields.push(Arc::new(arrow::datatypes::Field::new(*name, arrow::datatypes::DataType::Utf8, true)));
    }
    Arc::new(arrow::datatypes::Schema::new_with_metadata(fields, base.metadata().clone()))
}

fn rejected_batch(s: &RejectedStore, rows: &[u32]) -> Result<RecordBatch, arrow::error::ArrowError> {
    let columns: Vec<ArrayRef> = vec![
        strings(&s.file, rows),
        lines(&s.line, rows),
        strings(&s.kind, rows),
        strings(&s.severity, rows),
        strings(&s.reason, rows),
        strings(&s.field, rows),
        strings(&s.raw, rows),
    ];
    RecordBatch::try_new(schema::rejected_schema(), columns)
}

/// Writes a time-sorted table as `TABLE/month=YYYY-MM/part-00000.parquet`, or one empty
/// `TABLE/part-00000.parquet` when it has no rows (so readers find the table and its
/// schema; an empty table never sits beside month folders).
#[allow(clippy::too_many_arguments)]
fn write_monthly(
    dir: &Path,
    table: &str,
    schema: SchemaRef,
    rows: &[u32],
    time: &[Micros],
    origin_file: &(dyn Fn(u32) -> u32 + Sync),
    merger: &Merger,
    info: VersionInfo,
    sort_columns: &[usize],
    batch: &(dyn Fn(&[u32]) -> Result<RecordBatch, arrow::error::ArrowError> + Sync),
    carry: &Carry<'_>,
) -> Result<Vec<WrittenFile>, LakeFileError> {
    if rows.is_empty() {
        let rel = format!("{table}/part-00000.parquet");
        write_file(&dir.join(&rel), schema, properties(table, info, &[], sort_columns), rows, batch)?;
        return Ok(vec![WrittenFile { path: rel, rows: 0, source_files: Vec::new(), orphans: None, index: None }]);
    }
    let runs = month_runs(rows, time);
    let write_run = |(month, range): &(String, std::ops::Range<usize>)| -> Result<WrittenFile, LakeFileError> {
        let part = &rows[range.clone()];
        if let Some(carried) = carry(month, part.len() as u64) {
            return carried;
        }
        let sources = source_names(part, origin_file, merger);
        let rel = format!("{table}/month={month}/part-00000.parquet");
        write_file(&dir.join(&rel), schema.clone(), properties(table, info, &sources, sort_columns), part, batch)?;
        Ok(WrittenFile { path: rel, rows: part.len() as u64, source_files: sources, orphans: None, index: None })
    };
    // Months are independent files: a second thread encodes every other one (Parquet
    // encoding and zstd are the bulk of the write).
    crate::sys::map_on_two_threads(&runs, write_run)
        .ok_or_else(|| LakeFileError::Content { path: dir.join(table), what: "a writing thread panicked".into() })?
        .into_iter()
        .collect()
}

/// For a month (`YYYY-MM`) about to be written with this many rows: the previous
/// version's file, carried over, when none of the month's rows changed.
pub type Carry<'a> = dyn Fn(&str, u64) -> Option<Result<WrittenFile, LakeFileError>> + Sync + 'a;

/// Never carries: every month is written.
pub fn write_all(_: &str, _: u64) -> Option<Result<WrittenFile, LakeFileError>> {
    None
}

/// Writes `interviews/` (by month of `scheduled_at`, UTC); `carry` may take a month's
/// file over from the previous version instead.
pub fn write_interviews(
    dir: &Path,
    merger: &Merger,
    rows: &[u32],
    info: VersionInfo,
    carry: &Carry<'_>,
) -> Result<Vec<WrittenFile>, LakeFileError> {
    let s = &merger.interviews;
    // `rows` are in the lake's (scheduled_at, interview_id) order (`Merger::finish`).
    let schema = interviews_schema_with(&s.extra_names());
    let sorted_by = InterviewColumn::ORDER.map(InterviewColumn::position);
    let origin_file = |r: u32| s.origin_file[s.body(r as usize)];
    write_monthly(dir, "interviews", schema, rows, &s.scheduled_at, &origin_file, merger, info, &sorted_by, &|r| interview_batch(s, merger, r), carry)
}

/// `YYYY-MM` (UTC) of an instant, as the month folders name it.
pub fn month_label_of(t: Micros) -> String {
    utc_month(t).0
}

/// What writing the events found.
#[derive(Debug, Default)]
pub struct EventsWritten {
    pub files: Vec<WrittenFile>,
    pub rows: u64,
    /// Events whose interview is in no interview of the merged lake.
    pub orphans_in_lake: u64,
    /// Of those, this run's (not the lake's), by index in `merger.files`.
    pub orphans_by_file: Vec<u64>,
    /// This run's events dropped because the lake had their id, by index in `merger.files`.
    pub lake_duplicates_by_file: Vec<u64>,
}

/// Builds one Arrow batch from records of a month's buffer, counting orphans.
fn spilled_batch(
    buf: &[u8],
    keys: &[SortKey],
    merger: &Merger,
    known_interviews: &FpTable,
    path: &Path,
    orphans: &mut (u64, Vec<u64>),
    interview_keys: &mut Vec<u64>,
) -> Result<RecordBatch, LakeFileError> {
    let n = keys.len();
    let mut ids = StringBuilder::with_capacity(n, n * 24);
    let mut interview = StringBuilder::with_capacity(n, n * 16);
    let mut ts = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut kind = StringBuilder::with_capacity(n, n * 12);
    let mut chan = StringBuilder::with_capacity(n, n * 6);
    let mut detail = StringBuilder::with_capacity(n, n * 4);
    let mut ofile = StringBuilder::with_capacity(n, n * 20);
    let mut oline = UInt64Builder::with_capacity(n);
    let damaged = |offset: u64| LakeFileError::Content { path: path.to_path_buf(), what: format!("damaged record at byte {offset}") };
    fn text(b: &[u8]) -> Option<&str> {
        std::str::from_utf8(b).ok()
    }
    let mut interview_fps = Vec::with_capacity(n);
    // Each row's input file, or `None` for the lake's own rows.
    let mut sources: Vec<Option<usize>> = Vec::with_capacity(n);
    for k in keys {
        let (r, _) = spill::decode(buf, k.at as usize).ok_or_else(|| damaged(k.at))?;
        ids.append_value(text(r.event_id).ok_or_else(|| damaged(k.at))?);
        interview.append_value(text(r.interview_id).ok_or_else(|| damaged(k.at))?);
        ts.append_value(r.ts);
        kind.append_option(enum_value(EventType::ALL, r.event_type).map(EventType::as_str));
        chan.append_option(enum_value(Channel::ALL, r.channel).map(Channel::as_str));
        detail.append_option(r.detail.map(|d| text(d).ok_or_else(|| damaged(k.at))).transpose()?);
        ofile.append_value(merger.files.name(r.file));
        oline.append_value(r.line);
        interview_fps.push(fingerprint_bytes(r.interview_id));
        interview_keys.push(crate::lake::index::key(r.interview_id));
        sources.push(if r.flags & FROM_LAKE == 0 { Some(r.file as usize) } else { None });
    }
    // Orphans: one batch of probes, so the set can fetch ahead.
    known_interviews.contains_all(&interview_fps, |row, known| {
        if !known {
            orphans.0 += 1;
            if let Some(i) = sources[row] {
                if orphans.1.len() <= i {
                    orphans.1.resize(i + 1, 0);
                }
                orphans.1[i] += 1;
            }
        }
    });
    let columns: Vec<ArrayRef> = EventColumn::ALL
        .iter()
        .map(|c| -> ArrayRef {
            use EventColumn as E;
            match c {
                E::EventId => Arc::new(ids.finish()),
                E::InterviewId => Arc::new(interview.finish()),
                E::Ts => Arc::new(ts.finish()),
                E::Type => Arc::new(kind.finish()),
                E::Channel => Arc::new(chan.finish()),
                E::Detail => Arc::new(detail.finish()),
                E::OriginFile => Arc::new(ofile.finish()),
                E::OriginLine => Arc::new(oline.finish()),
            }
        })
        .collect();
    RecordBatch::try_new(schema::events_schema(), columns).map_err(|e| write_err(path)(Box::new(e)))
}

/// One month's new events file, as [`write_event_month`] wrote it.
struct MonthWritten {
    /// `None` when every record was a duplicate of a lake event.
    file: Option<WrittenFile>,
    /// All orphans of the file, and this run's by input file.
    orphans: (u64, Vec<u64>),
    /// This run's records dropped as duplicates of lake events, by input file.
    lake_duplicates: Vec<u64>,
}

fn bump(counts: &mut Vec<u64>, i: usize) {
    if counts.len() <= i {
        counts.resize(i + 1, 0);
    }
    counts[i] += 1;
}

/// Writes one month of events from its spill file, then deletes the spill file. This
/// run's records whose id is in `lake_ids` are dropped (the lake's event came first).
fn write_event_month(
    dir: &Path,
    month: MonthKey,
    part: &str,
    spill_path: &Path,
    merger: &Merger,
    known_interviews: &FpTable,
    lake_ids: &FpSet,
    info: VersionInfo,
) -> Result<MonthWritten, LakeFileError> {
    // Mapped, not read: the file was just written, so its pages are in the page cache,
    // and a copy would fault in and fill a month's worth of fresh memory. The spill file
    // is this run's own, inside the version folder it holds the lock of; nothing else
    // writes it while it is mapped.
    let spill_file = File::open(spill_path).map_err(|e| read_err(spill_path)(Box::new(e)))?;
    let empty = spill_file.metadata().map_err(|e| read_err(spill_path)(Box::new(e)))?.len() == 0;
    // SAFETY: see above; the map lives until the end of this function.
    let map = if empty { None } else { Some(unsafe { memmap2::Mmap::map(&spill_file) }.map_err(|e| read_err(spill_path)(Box::new(e)))?) };
    let buf: &[u8] = map.as_deref().unwrap_or(&[]);
    let mut keys = spill::sorted_offsets(buf, spill_path).map_err(|e| read_err(spill_path)(Box::new(e)))?;
    let damaged = |offset: u64| LakeFileError::Content { path: spill_path.to_path_buf(), what: format!("damaged record at byte {offset}") };
    let mut lake_duplicates = Vec::new();
    // The input files with rows in this month, for the file's metadata.
    let mut seen: Vec<bool> = Vec::new();
    let mut sources = BTreeSet::new();
    let mut note_source = |file: u32| {
        let i = file as usize;
        if seen.len() <= i {
            seen.resize(i + 1, false);
        }
        if !seen[i] {
            seen[i] = true;
            sources.insert(merger.files.name(file).to_string());
        }
    };
    if !lake_ids.is_empty() {
        let mut kept = Vec::with_capacity(keys.len());
        for k in keys {
            let (r, _) = spill::decode(buf, k.at as usize).ok_or_else(|| damaged(k.at))?;
            if r.flags & FROM_LAKE == 0 && lake_ids.contains(&fingerprint_bytes(r.event_id)) {
                bump(&mut lake_duplicates, r.file as usize);
            } else {
                note_source(r.file);
                kept.push(k);
            }
        }
        keys = kept;
    } else {
        // Every record is kept: read them in the buffer's order, not the sorted one,
        // so the pass streams through memory.
        let mut at = 0usize;
        while at < buf.len() {
            let (r, next) = spill::decode(buf, at).ok_or_else(|| damaged(at as u64))?;
            note_source(r.file);
            at = next;
        }
    }
    let sources: Vec<String> = sources.into_iter().collect();
    let mut orphans = (0u64, Vec::new());
    let file = if keys.is_empty() {
        None
    } else {
        let rel = format!("events/month={}/{part}.parquet", spill::month_label(month));
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| write_err(&path)(Box::new(e)))?;
        }
        // `keys` are in the lake's (ts, event_id) order (`spill::sorted_offsets`).
        let props = properties("events", info, &sources, &EventColumn::ORDER.map(EventColumn::position));
        let file = File::create(&path).map_err(|e| write_err(&path)(Box::new(e)))?;
        let mut writer = ArrowWriter::try_new(BufWriter::new(file), schema::events_schema(), Some(props))
            .map_err(|e| write_err(&path)(Box::new(e)))?;
        // Each row's interview key, in the file's order: the batches collect them as
        // they decode the records, rather than a pass of their own.
        let mut interview_keys = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_ROWS) {
            let batch = spilled_batch(buf, chunk, merger, known_interviews, spill_path, &mut orphans, &mut interview_keys)?;
            writer.write(&batch).map_err(|e| write_err(&path)(Box::new(e)))?;
        }
        let inner = writer.into_inner().map_err(|e| write_err(&path)(Box::new(e)))?;
        inner.into_inner().map_err(|e| write_err(&path)(Box::new(e.into_error())))?;
        // Which interviews each row group holds, so readers that want a few skip the rest.
        let groups: Vec<Vec<u64>> = interview_keys.chunks(ROW_GROUP_ROWS).map(<[u64]>::to_vec).collect();
        let index_rel = crate::lake::index::path_for(&rel);
        crate::lake::index::write(&dir.join(&index_rel), groups).map_err(|e| write_err(&dir.join(&index_rel))(Box::new(e)))?;
        Some(WrittenFile { path: rel, rows: keys.len() as u64, source_files: sources, orphans: Some(orphans.0), index: Some(index_rel) })
    };
    drop(map);
    drop(spill_file);
    // The spill file is inside the version being written: removing it now frees the
    // disk early; a failure here would only leave it for the commit to carry.
    fs::remove_file(spill_path).map_err(|e| write_err(spill_path)(Box::new(e)))?;
    Ok(MonthWritten { file, orphans, lake_duplicates })
}

/// Writes `events/` (by month of `ts`, UTC) from the spill's month files, two months at a
/// time (one per thread: Parquet encoding and zstd are the bulk of the write), holding
/// one month in memory per thread. `part(month)` names each month's new file (without
/// `.parquet`); `carried` are the previous version's files already in place, whose rows
/// and orphans count too.
pub fn write_events(
    dir: &Path,
    merger: &Merger,
    months: &[(MonthKey, PathBuf)],
    info: VersionInfo,
    part: &(dyn Fn(MonthKey) -> String + Sync),
    carried: Vec<WrittenFile>,
    lake_ids: &FpSet,
) -> Result<EventsWritten, LakeFileError> {
    let known_interviews = merger.interview_fingerprints();
    let write = |(month, path): &(MonthKey, PathBuf)| {
        write_event_month(dir, *month, &part(*month), path, merger, known_interviews, lake_ids, info)
    };
    let written = crate::sys::map_on_two_threads(months, write)
        .ok_or_else(|| LakeFileError::Content { path: dir.join("events"), what: "a writing thread panicked".into() })?;
    let mut out = EventsWritten::default();
    for file in carried {
        out.rows += file.rows;
        out.orphans_in_lake += file.orphans.unwrap_or(0);
        out.files.push(file);
    }
    let add = |total: &mut Vec<u64>, more: Vec<u64>| {
        if total.len() < more.len() {
            total.resize(more.len(), 0);
        }
        for (t, n) in total.iter_mut().zip(more) {
            *t += n;
        }
    };
    for written in written {
        let w = written?;
        add(&mut out.orphans_by_file, w.orphans.1);
        add(&mut out.lake_duplicates_by_file, w.lake_duplicates);
        out.orphans_in_lake += w.orphans.0;
        if let Some(file) = w.file {
            out.rows += file.rows;
            out.files.push(file);
        }
    }
    if out.files.is_empty() {
        // An empty table still has a file, so readers find it and its schema.
        let rel = "events/part-00000.parquet".to_string();
        let never = |_: &[u32]| -> Result<RecordBatch, arrow::error::ArrowError> { Ok(RecordBatch::new_empty(schema::events_schema())) };
        write_file(&dir.join(&rel), schema::events_schema(), properties("events", info, &[], &EventColumn::ORDER.map(EventColumn::position)), &[], &never)?;
        out.files.push(WrittenFile { path: rel, rows: 0, source_files: Vec::new(), orphans: Some(0), index: None });
    }
    // Month by month, a month's parts in the order they were written.
    out.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Writes `rejected/NAME.parquet`: the rows in `merger.rejected`, in the order they were
/// found (this run's; the lake's earlier files are carried as they are).
pub fn write_rejected(dir: &Path, merger: &Merger, info: VersionInfo, name: &str) -> Result<Vec<WrittenFile>, LakeFileError> {
    let s = &merger.rejected;
    let rows: Vec<u32> = (0..s.len() as u32).collect();
    let sources: Vec<String> = {
        let names: BTreeSet<&str> = (0..s.len()).map(|i| s.file.text(i)).collect();
        names.into_iter().map(str::to_string).collect()
    };
    let rel = format!("rejected/{name}.parquet");
    let props = properties("rejected", info, &sources, &[]);
    write_file(&dir.join(&rel), schema::rejected_schema(), props, &rows, &|r| rejected_batch(s, r))?;
    Ok(vec![WrittenFile { path: rel, rows: rows.len() as u64, source_files: sources, orphans: None, index: None }])
}

// ---- reading a version back ----

fn read_err(path: &Path) -> impl Fn(Box<dyn std::error::Error + Send + Sync>) -> LakeFileError + '_ {
    move |source| LakeFileError::Read { path: path.to_path_buf(), source }
}

/// Opens a lake file for reading in batches, checking it has the table's schema, and
/// returns its schema too. `extra_ok`: text columns may follow the fixed ones (the
/// interviews table: mapped exports' `extra`). `only`: read just these columns (the
/// file's schema is checked whole all the same).
fn open_batches(
    path: &Path,
    schema: &SchemaRef,
    extra_ok: bool,
    only: Option<&[usize]>,
) -> Result<(SchemaRef, ParquetRecordBatchReader), LakeFileError> {
    let file = File::open(path).map_err(|e| read_err(path)(Box::new(e)))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| read_err(path)(Box::new(e)))?;
    let fields = builder.schema().clone();
    // The fixed columns first, then (where allowed) extra text columns.
    let extra_ok =
        extra_ok && fields.fields().iter().skip(schema.fields().len()).all(|f| *f.data_type() == arrow::datatypes::DataType::Utf8);
    let same = (fields.fields().len() == schema.fields().len() || (extra_ok && fields.fields().len() > schema.fields().len()))
        && fields.fields().iter().zip(schema.fields()).all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
    if !same {
        return Err(LakeFileError::Content {
            path: path.to_path_buf(),
            what: "its columns are not those of this noshow version's lake".into(),
        });
    }
    let builder = match only {
        Some(columns) => {
            let mask = ProjectionMask::roots(builder.parquet_schema(), columns.iter().copied());
            builder.with_projection(mask)
        }
        None => builder,
    };
    let reader = builder.with_batch_size(BATCH_ROWS).build().map_err(|e| read_err(path)(Box::new(e)))?;
    Ok((fields, reader))
}

/// Reads every batch of a lake file, checking it has the table's schema (see
/// [`open_batches`]).
fn read_batches(
    path: &Path,
    schema: &SchemaRef,
    extra_ok: bool,
    each: &mut dyn FnMut(&RecordBatch) -> Result<(), LakeFileError>,
) -> Result<(), LakeFileError> {
    let (_, reader) = open_batches(path, schema, extra_ok, None)?;
    for batch in reader {
        each(&batch.map_err(|e| read_err(path)(Box::new(e)))?)?;
    }
    Ok(())
}

/// Column `c` of a lake batch ([`schema::column`]), the file named in the error.
fn column<'a, A: Array + 'static>(batch: &'a RecordBatch, c: impl LakeColumn, path: &Path) -> Result<&'a A, LakeFileError> {
    schema::column(batch, c).map_err(|e: ColumnError| LakeFileError::Content { path: path.to_path_buf(), what: e.to_string() })
}

/// An extra column of a mapped export (text), by position after the fixed ones.
fn extra_column<'a>(batch: &'a RecordBatch, k: usize, path: &Path) -> Result<&'a StringArray, LakeFileError> {
    batch.column(k).as_any().downcast_ref::<StringArray>().ok_or_else(|| LakeFileError::Content {
        path: path.to_path_buf(),
        what: format!("column {} has an unexpected type", batch.schema().field(k).name()),
    })
}

fn opt_str(a: &StringArray, i: usize) -> Option<&str> {
    if a.is_null(i) {
        None
    } else {
        Some(a.value(i))
    }
}

fn parse_enum<T>(a: &StringArray, i: usize, parse: fn(&str) -> Option<T>, path: &Path) -> Result<Option<T>, LakeFileError> {
    match opt_str(a, i) {
        None => Ok(None),
        Some(text) => parse(text).map(Some).ok_or_else(|| LakeFileError::Content {
            path: path.to_path_buf(),
            what: format!("unexpected value {text:?} in a stored enumeration"),
        }),
    }
}

fn required<T>(v: Option<T>, what: &str, path: &Path) -> Result<T, LakeFileError> {
    v.ok_or_else(|| LakeFileError::Content { path: path.to_path_buf(), what: format!("{what} is null") })
}

/// A lake interview file loaded as keys: its rows are `start..start + rows` of the
/// merger's store, in the file's order.
#[derive(Debug, Clone)]
pub struct KeyedFile {
    pub path: PathBuf,
    pub start: u32,
    pub rows: u32,
}

/// Loads a lake version's interviews into `merger` as keys only (id, `scheduled_at`,
/// `updated_at`): what deduplication needs. Whole rows are read again only for the
/// months a run rewrites ([`read_interview_rows`]); its events and rejected rows are
/// carried, see [`crate::ingest::carry`].
pub fn load_interview_keys(version_dir: &Path, merger: &mut Merger) -> Result<Vec<KeyedFile>, LakeFileError> {
    let snapshot = crate::lake::Snapshot { dir: version_dir.to_path_buf(), version: 0 };
    let paths = snapshot
        .files("interviews")
        .map_err(|e| LakeFileError::Read { path: version_dir.join("interviews"), source: e.into() })?;
    let interviews_schema = schema::interviews_schema();
    use InterviewColumn as I;
    let keys = [I::InterviewId, I::ScheduledAt, I::UpdatedAt].map(I::position);
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let p = path.as_path();
        let start = merger.interviews.len() as u32;
        let (fields, reader) = open_batches(p, &interviews_schema, true, Some(&keys))?;
        let extras: Vec<&str> = fields.fields().iter().skip(InterviewColumn::ALL.len()).map(|f| f.name().as_str()).collect();
        for batch in reader {
            let b = batch.map_err(|e| read_err(p)(Box::new(e)))?;
            if b.num_rows() > 0 && merger.interviews.len() as u32 == start {
                // Extra columns as the file's first whole row would register them.
                merger.lake_extra_columns(&extras);
            }
            let ids = column::<StringArray>(&b, I::InterviewId, p)?;
            let scheduled = column::<TimestampMicrosecondArray>(&b, I::ScheduledAt, p)?;
            let updated = column::<TimestampMicrosecondArray>(&b, I::UpdatedAt, p)?;
            for i in 0..b.num_rows() {
                let updated_at = if updated.is_null(i) { None } else { Some(updated.value(i)) };
                merger.lake_interview_keys(ids.value(i), scheduled.value(i), updated_at);
            }
        }
        let rows = merger.interviews.len() as u32 - start;
        out.push(KeyedFile { path, start, rows });
    }
    Ok(out)
}

/// Reads one lake interviews file whole, handing each row to `each` in the file's order.
pub fn read_interview_rows(
    path: &Path,
    each: &mut dyn FnMut(&InterviewRow) -> Result<(), LakeFileError>,
) -> Result<(), LakeFileError> {
    let interviews_schema = schema::interviews_schema();
    {
        read_batches(path, &interviews_schema, true, &mut |b| {
            let p = path;
            use InterviewColumn as I;
            let ids = column::<StringArray>(b, I::InterviewId, p)?;
            let cand = column::<StringArray>(b, I::CandidateId, p)?;
            let role = column::<StringArray>(b, I::Role, p)?;
            let region = column::<StringArray>(b, I::Region, p)?;
            let edu = column::<StringArray>(b, I::Education, p)?;
            let fresh = column::<BooleanArray>(b, I::FreshGraduate, p)?;
            let source = column::<StringArray>(b, I::Source, p)?;
            let chan = column::<StringArray>(b, I::PreferredChannel, p)?;
            let invited = column::<TimestampMicrosecondArray>(b, I::InvitedAt, p)?;
            let scheduled = column::<TimestampMicrosecondArray>(b, I::ScheduledAt, p)?;
            let status = column::<StringArray>(b, I::Status, p)?;
            let cause = column::<StringArray>(b, I::Cause, p)?;
            let grade = column::<StringArray>(b, I::NoShowGrade, p)?;
            let cost = column::<Float64Array>(b, I::Cost, p)?;
            let updated = column::<TimestampMicrosecondArray>(b, I::UpdatedAt, p)?;
            let ofile = column::<StringArray>(b, I::OriginFile, p)?;
            let oline = column::<UInt64Array>(b, I::OriginLine, p)?;
            // Extra columns of mapped exports, after the fixed ones.
            let mut extras: Vec<(Arc<str>, &StringArray)> = Vec::new();
            for k in InterviewColumn::ALL.len()..b.num_columns() {
                extras.push((Arc::from(b.schema().field(k).name().as_str()), extra_column(b, k, p)?));
            }
            // One row whose texts are refilled in place: a million lake interviews would
            // otherwise cost a dozen allocations each, only to be copied into the store.
            let mut row = InterviewRow {
                interview_id: String::new(),
                candidate_id: String::new(),
                role: String::new(),
                region: String::new(),
                education: None,
                fresh_graduate: None,
                source: None,
                preferred_channel: None,
                invited_at: 0,
                scheduled_at: 0,
                status: Status::Scheduled,
                cause: None,
                no_show_grade: None,
                cost: None,
                updated_at: None,
                origin: Origin { file: Arc::from(""), line: 0 },
                extra: extras.iter().map(|(name, _)| (name.clone(), None)).collect(),
            };
            fn set(to: &mut String, from: &str) {
                to.clear();
                to.push_str(from);
            }
            fn set_opt(to: &mut Option<String>, from: Option<&str>) {
                match (to.as_mut(), from) {
                    (Some(t), Some(f)) => set(t, f),
                    (_, f) => *to = f.map(str::to_string),
                }
            }
            let mut last_file: Option<Arc<str>> = None;
            for i in 0..b.num_rows() {
                let file_name = ofile.value(i);
                let file = match &last_file {
                    Some(f) if **f == *file_name => f.clone(),
                    _ => {
                        let f: Arc<str> = Arc::from(file_name);
                        last_file = Some(f.clone());
                        f
                    }
                };
                set(&mut row.interview_id, ids.value(i));
                set(&mut row.candidate_id, cand.value(i));
                set(&mut row.role, role.value(i));
                set(&mut row.region, region.value(i));
                row.education = parse_enum(edu, i, Education::parse, p)?;
                row.fresh_graduate = if fresh.is_null(i) { None } else { Some(fresh.value(i)) };
                set_opt(&mut row.source, opt_str(source, i));
                row.preferred_channel = parse_enum(chan, i, Channel::parse, p)?;
                row.invited_at = invited.value(i);
                row.scheduled_at = scheduled.value(i);
                row.status = required(parse_enum(status, i, Status::parse, p)?, I::Status.name(), p)?;
                set_opt(&mut row.cause, opt_str(cause, i));
                row.no_show_grade = parse_enum(grade, i, NoShowGrade::parse, p)?;
                row.cost = if cost.is_null(i) { None } else { Some(cost.value(i)) };
                row.updated_at = if updated.is_null(i) { None } else { Some(updated.value(i)) };
                row.origin = Origin { file, line: oline.value(i) };
                for ((_, value), (_, a)) in row.extra.iter_mut().zip(&extras) {
                    set_opt(value, opt_str(a, i));
                }
                each(&row)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Streams the rows of one lake events file into `spill` (marked as the lake's). With
/// `ids`, their ids also go into `merger`'s id set (a file read in full instead of
/// carried); without, they are already there or need not be (a month compacted after
/// deduplication).
pub fn load_events_file(path: &Path, merger: &mut Merger, spill: &mut Spill, ids_too: bool) -> Result<u64, LakeFileError> {
    let events_schema = schema::events_schema();
    let mut spilled = 0u64;
    let mut record = Vec::with_capacity(256);
    let mut last_file: Option<(String, u32)> = None;
    {
        read_batches(path, &events_schema, false, &mut |b| {
            let p = path;
            use EventColumn as E;
            let ids = column::<StringArray>(b, E::EventId, p)?;
            let interview = column::<StringArray>(b, E::InterviewId, p)?;
            let ts = column::<TimestampMicrosecondArray>(b, E::Ts, p)?;
            let kind = column::<StringArray>(b, E::Type, p)?;
            let chan = column::<StringArray>(b, E::Channel, p)?;
            let detail = column::<StringArray>(b, E::Detail, p)?;
            let ofile = column::<StringArray>(b, E::OriginFile, p)?;
            let oline = column::<UInt64Array>(b, E::OriginLine, p)?;
            for i in 0..b.num_rows() {
                if ids_too && !merger.lake_event(ids.value(i)) {
                    continue;
                }
                let fields = EventFields {
                    event_id: ids.value(i),
                    interview_id: interview.value(i),
                    ts: ts.value(i),
                    event_type: required(parse_enum(kind, i, EventType::parse, p)?, E::Type.name(), p)?,
                    channel: parse_enum(chan, i, Channel::parse, p)?,
                    detail: opt_str(detail, i),
                    line: oline.value(i),
                };
                let name = ofile.value(i);
                let file = match &last_file {
                    Some((last, index)) if last == name => *index,
                    _ => {
                        let index = merger.files.intern_str(name);
                        last_file = Some((name.to_string(), index));
                        index
                    }
                };
                record.clear();
                spill::encode(&fields, file, FROM_LAKE, &mut record);
                spill.append(spill::month_key(fields.ts), &record).map_err(|e| write_err(spill.dir())(Box::new(e)))?;
                spilled += 1;
            }
            Ok(())
        })?;
    }
    Ok(spilled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_split_at_utc_month_boundaries() {
        let t = |s: &str| crate::time::parse_timestamp(s, chrono_tz::UTC).unwrap();
        let times = vec![t("2026-01-31T23:59:59.999999Z"), t("2026-02-01T00:00:00Z"), t("2026-02-28T10:00:00Z"), t("2026-12-31T23:00:00Z"), t("2027-01-01T00:00:00Z")];
        let rows: Vec<u32> = (0..times.len() as u32).collect();
        let runs = month_runs(&rows, &times);
        let labels: Vec<(&str, usize)> = runs.iter().map(|(m, r)| (m.as_str(), r.len())).collect();
        assert_eq!(labels, vec![("2026-01", 1), ("2026-02", 2), ("2026-12", 1), ("2027-01", 1)]);
    }
}
