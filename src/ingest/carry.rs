//! What a new lake version takes over from the previous one without rewriting it.
//!
//! A weekly export touches a few months; the lake holds years. So a new version is
//! built from the previous one by reference, not by copy: every Parquet file whose rows
//! cannot change is carried over as a hard link (a copy where the file system has no
//! hard links), and only what the new rows touch is written.
//!
//! - **Events** never change once kept (the first of an id wins, and the lake's come
//!   first), so no lake event is re-read to merge or re-written. New events of a month
//!   go to a new part file of that month (`events/month=M/part-VVVVVV.parquet`, `V` the
//!   version writing it); a month with [`MAX_EVENT_PARTS`] parts is compacted back into
//!   one file when new events arrive for it. Deduplication against the lake stays
//!   exact and costs one pass over the lake's `event_id` column: the run's ids are
//!   collected first (a set the size of the export), then each lake id probes that set,
//!   and the run's events whose id the lake has are dropped as duplicates when written
//!   (see [`ids_in`]).
//! - **Interviews** of a month are rewritten only when a row of that month is replaced
//!   or added. Deduplication needs only each lake row's id, `scheduled_at` and
//!   `updated_at`, so that is all a run loads of the lake's interviews; the run's rows
//!   are matched against those keys in one pass, and a month's file is read whole
//!   only when the month is rewritten.
//! - **Rejected** rows never change: the previous files are carried, and this run's rows
//!   go to a file of their own.
//! - **Orphan counts** (events whose interview is unknown) change when a new interview
//!   arrives: each events file records its count in the manifest, and a carried file is
//!   recounted only when it had orphans and a new interview id falls in its row groups'
//!   `interview_id` range.
//!
//! Carrying never alters the previous version: a hard link is a second name for the
//! same bytes, and noshow never writes into a file after it is complete. Pruning the
//! old version later removes one name; the bytes stay for the new one.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use arrow::array::{Array, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use parquet::file::metadata::ParquetMetaData;

use crate::ingest::fpset::FpTable;
use crate::ingest::merge::{fingerprint_bytes, FpSet};
use crate::ingest::spill::MonthKey;
use crate::lake::index;
use crate::ingest::writer::{LakeFileError, WrittenFile};
use crate::schema::{self, EventColumn, LakeColumn};

/// Parts a month's events may have before new events make it compacted into one file
/// (the default of `[ingest] max_event_parts`).
/// Weekly runs add one part to the current month and a few to the months ahead; this
/// bounds the files a reader opens per month.
pub const MAX_EVENT_PARTS: usize = 8;

/// The min/max of one column over one row group, when the file's statistics give them.
/// They are bounds (a truncated statistic is still a bound), not necessarily values.
type Range = Option<(Vec<u8>, Vec<u8>)>;

/// One row group of a previous events file.
#[derive(Debug, Clone)]
pub struct Group {
    pub rows: u64,
    pub interview_id: Range,
}

/// One events file of the previous version.
#[derive(Debug, Clone)]
pub struct OldEventFile {
    pub entry: WrittenFile,
    pub path: PathBuf,
    pub groups: Vec<Group>,
    /// Its interview index ([`crate::lake::index`]), when the manifest lists one.
    pub index: Option<PathBuf>,
}

/// The previous version's events, as far as a new version needs them.
#[derive(Debug, Default)]
pub struct PreviousEvents {
    /// The previous version's folder.
    pub dir: PathBuf,
    /// Files in `events/month=YYYY-MM/`, by month: these can be carried.
    pub by_month: BTreeMap<MonthKey, Vec<OldEventFile>>,
    /// Files holding rows elsewhere (a lake not written by this layout): read in full.
    pub loose: Vec<OldEventFile>,
    /// Events in the previous version.
    pub rows: u64,
}

fn range_of(meta: &ParquetMetaData, group: usize, column: EventColumn) -> Range {
    let chunk = meta.row_group(group).columns().iter().find(|c| c.column_path().string() == column.name())?;
    let stats = chunk.statistics()?;
    Some((stats.min_bytes_opt()?.to_vec(), stats.max_bytes_opt()?.to_vec()))
}

fn read_meta(path: &Path) -> Result<std::sync::Arc<ParquetMetaData>, LakeFileError> {
    let read = |e: Box<dyn std::error::Error + Send + Sync>| LakeFileError::Read { path: path.to_path_buf(), source: e };
    let file = File::open(path).map_err(|e| read(Box::new(e)))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| read(Box::new(e)))?;
    Ok(builder.metadata().clone())
}

/// `month=YYYY-MM` in `events/month=YYYY-MM/NAME.parquet`, as a month key.
fn month_of(rel: &str) -> Option<MonthKey> {
    let mut parts = rel.split('/');
    let (Some("events"), Some(folder), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    let label = folder.strip_prefix("month=")?;
    let (y, m) = label.split_once('-')?;
    let (y, m): (i32, i32) = (y.parse().ok()?, m.parse().ok()?);
    ((1..=12).contains(&m) && y >= 0 && label.len() == 7).then_some(y * 12 + m - 1)
}

impl PreviousEvents {
    /// Reads the footers of the previous version's events files (`files`, from its
    /// manifest; the snapshot's reader has already checked each one's rows).
    pub fn load(dir: &Path, files: &[WrittenFile]) -> Result<PreviousEvents, LakeFileError> {
        let mut out = PreviousEvents { dir: dir.to_path_buf(), ..Default::default() };
        for entry in files {
            if entry.rows == 0 {
                // The empty table's placeholder: nothing to carry.
                continue;
            }
            let path = dir.join(&entry.path);
            let meta = read_meta(&path)?;
            let groups = (0..meta.num_row_groups())
                .map(|g| Group {
                    rows: meta.row_group(g).num_rows() as u64,
                    interview_id: range_of(&meta, g, EventColumn::InterviewId),
                })
                .collect();
            out.rows += entry.rows;
            let index = entry.index.as_ref().map(|rel| dir.join(rel));
            let file = OldEventFile { entry: entry.clone(), path, groups, index };
            match month_of(&entry.path) {
                Some(month) => out.by_month.entry(month).or_default().push(file),
                None => out.loose.push(file),
            }
        }
        Ok(out)
    }

    /// The files that can be carried (month files), in month order.
    pub fn month_files(&self) -> impl Iterator<Item = (MonthKey, &OldEventFile)> {
        self.by_month.iter().flat_map(|(m, files)| files.iter().map(move |f| (*m, f)))
    }
}

/// Reads one text column of a lake events file, handing each value over.
fn each_value(path: &Path, column: EventColumn, each: &mut dyn FnMut(&[u8])) -> Result<(), LakeFileError> {
    let read = |e: Box<dyn std::error::Error + Send + Sync>| LakeFileError::Read { path: path.to_path_buf(), source: e };
    let content = |what: String| LakeFileError::Content { path: path.to_path_buf(), what };
    let file = File::open(path).map_err(|e| read(Box::new(e)))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| read(Box::new(e)))?;
    let root = builder.schema().index_of(column.name()).map_err(|_| content(format!("it has no column {}", column.name())))?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), [root]);
    let reader = builder.with_projection(mask).with_batch_size(64 * 1024).build().map_err(|e| read(Box::new(e)))?;
    for batch in reader {
        let batch = batch.map_err(|e| read(Box::new(e)))?;
        let values: &StringArray = schema::column(&batch, column).map_err(|e| content(e.to_string()))?;
        for i in 0..values.len() {
            each(values.value(i).as_bytes());
        }
    }
    Ok(())
}

/// The fingerprints, among the event ids of `files`, that `probe` holds: one pass over
/// the ids, two files at a time (the ids column alone is read), probing a batch at a
/// time so the set fetches ahead.
pub fn ids_in(files: &[&OldEventFile], probe: &FpTable) -> Result<FpSet, LakeFileError> {
    const BATCH: usize = 4096;
    let scan = |f: &&OldEventFile| -> Result<Vec<u128>, LakeFileError> {
        let mut hits = Vec::new();
        let mut batch = Vec::with_capacity(BATCH);
        let flush = |batch: &mut Vec<u128>, hits: &mut Vec<u128>| {
            probe.contains_all(batch, |i, held| {
                if held {
                    hits.push(batch[i]);
                }
            });
            batch.clear();
        };
        each_value(&f.path, EventColumn::EventId, &mut |id| {
            batch.push(fingerprint_bytes(id));
            if batch.len() == BATCH {
                flush(&mut batch, &mut hits);
            }
        })?;
        flush(&mut batch, &mut hits);
        Ok(hits)
    };
    let found = crate::sys::map_on_two_threads(files, scan).ok_or_else(|| LakeFileError::Content {
        path: files.first().map(|f| f.path.clone()).unwrap_or_default(),
        what: "a thread reading event ids panicked".into(),
    })?;
    let mut out = FpSet::default();
    for hits in found {
        out.extend(hits?);
    }
    Ok(out)
}

/// Events of a carried file whose interview `known` does not know.
pub fn count_orphans(file: &OldEventFile, known: &(dyn Fn(u128) -> bool + Sync)) -> Result<u64, LakeFileError> {
    let mut n = 0u64;
    each_value(&file.path, EventColumn::InterviewId, &mut |id| n += u64::from(!known(fingerprint_bytes(id))))?;
    Ok(n)
}

/// Whether a carried file's orphan count may have changed: it is unknown, or the file
/// has orphans and one of `new_ids` (sorted) falls in a row group's interview range
/// and, where the file has an index, has its key (`new_keys`, [`index::keys_of`]) in
/// one of the row groups. (Orphans only ever decrease: an interview never leaves.)
pub fn orphans_may_change(file: &OldEventFile, new_ids: &[&[u8]], new_keys: &[u64]) -> bool {
    let in_range = || {
        file.groups.iter().any(|g| match &g.interview_id {
            None => !new_ids.is_empty(),
            Some((lo, hi)) => {
                let from = new_ids.partition_point(|id| *id < lo.as_slice());
                new_ids.get(from).is_some_and(|id| *id <= hi.as_slice())
            }
        })
    };
    let in_index = || {
        let rows: Vec<u64> = file.groups.iter().map(|g| g.rows).collect();
        file.index.as_ref().is_none_or(|path| index::may_hold_any(path, &rows, new_keys))
    };
    match file.entry.orphans {
        None => true,
        Some(0) => false,
        Some(_) => in_range() && in_index(),
    }
}

/// Gives `to` the bytes of `from`: a hard link, or a copy where links are not possible
/// (another file system, or one without them). Either way `from` is not touched.
pub fn link_or_copy(from: &Path, to: &Path) -> Result<(), LakeFileError> {
    let write = |e: std::io::Error| LakeFileError::Write { path: to.to_path_buf(), source: Box::new(e) };
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(write)?;
    }
    if fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    fs::copy(from, to).map(|_| ()).map_err(write)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(groups: usize) -> OldEventFile {
        OldEventFile {
            entry: WrittenFile { path: "events/month=2026-01/part-00000.parquet".into(), rows: 1, source_files: vec![], orphans: Some(0), index: None },
            path: PathBuf::new(),
            groups: (0..groups).map(|_| Group { rows: 1, interview_id: None }).collect(),
            index: None,
        }
    }

    #[test]
    fn month_folders_are_recognised() {
        assert_eq!(month_of("events/month=2026-02/part-00000.parquet"), Some(2026 * 12 + 1));
        assert_eq!(month_of("events/month=2026-13/part-00000.parquet"), None);
        assert_eq!(month_of("events/part-00000.parquet"), None);
        assert_eq!(month_of("interviews/month=2026-02/part-00000.parquet"), None);
    }

    #[test]
    fn orphans_are_recounted_only_when_a_new_interview_could_adopt_them() {
        let mut f = file(1);
        f.groups[0].interview_id = Some((b"I100".to_vec(), b"I200".to_vec()));
        f.entry.orphans = Some(3);
        let may = |f: &OldEventFile, ids: &[&[u8]]| orphans_may_change(f, ids, &index::keys_of(ids));
        assert!(may(&f, &[b"I150"]));
        assert!(!may(&f, &[b"I050", b"I300"]));
        // With an index, an id in range whose key no row group has cannot adopt any.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part.ids");
        index::write(&path, vec![vec![index::key(b"I120")]]).unwrap();
        f.index = Some(path.clone());
        assert!(!may(&f, &[b"I150"]));
        assert!(may(&f, &[b"I120", b"I150"]));
        // An index out of step with the file (another row count) is not trusted.
        f.groups[0].rows = 2;
        assert!(may(&f, &[b"I150"]));
        f.groups[0].rows = 1;
        f.entry.orphans = Some(0);
        assert!(!may(&f, &[b"I150"]));
        f.entry.orphans = None;
        assert!(may(&f, &[]));
    }
}
