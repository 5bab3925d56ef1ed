//! Which interviews each row group of an events file holds, so that a reader wanting
//! the events of a few interviews (`score`, the recovery worklist) opens only the row
//! groups that can have them.
//!
//! Beside each events file, `index/events/month=M/part-X.ids` lists per row group the
//! sorted, distinct 64-bit keys (XXH3) of its rows' `interview_id`. A key says "maybe":
//! a reader skips a row group only when none of its wanted keys is there, and filters
//! the rows it reads on the ids themselves, so a collision costs a wasted read, never a
//! lost event. An index that is missing (a lake written before it existed), damaged or
//! out of step with the file's row groups is ignored: the whole file is read.
//!
//! Format: `NSIDX001`, the row-group count (u32), then per group its row count (u64),
//! its key count (u64) and the keys (u64), all little-endian. Written once, with the
//! Parquet file, inside the version being written; carried with it.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context;
use arrow::array::{Array, StringArray, TimestampMicrosecondArray, UInt64Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use polars::prelude::*;

use super::Snapshot;

const MAGIC: &[u8; 8] = b"NSIDX001";

/// The index key of an interview id.
pub fn key(interview_id: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(interview_id)
}

/// Where the index of the events file `rel` (relative to the version) lives.
pub fn path_for(rel: &str) -> String {
    let stem = rel.strip_suffix(".parquet").unwrap_or(rel);
    format!("index/{stem}.ids")
}

/// Writes an index: per row group, its keys in any order (sorted and deduplicated here).
pub fn write(path: &Path, groups: Vec<Vec<u64>>) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(12 + groups.iter().map(|g| 16 + 8 * g.len()).sum::<usize>());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(groups.len() as u32).to_le_bytes());
    for mut keys in groups {
        let rows = keys.len() as u64;
        keys.sort_unstable();
        keys.dedup();
        out.extend_from_slice(&rows.to_le_bytes());
        out.extend_from_slice(&(keys.len() as u64).to_le_bytes());
        for k in keys {
            out.extend_from_slice(&k.to_le_bytes());
        }
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, out)
}

/// One row group of an index: its rows and sorted keys.
struct Group {
    rows: u64,
    keys: Vec<u64>,
}

fn read(path: &Path) -> Option<Vec<Group>> {
    let bytes = std::fs::read(path).ok()?;
    let mut at = 0usize;
    let mut take = |n: usize| -> Option<&[u8]> {
        let s = bytes.get(at..at + n)?;
        at += n;
        Some(s)
    };
    if take(8)? != MAGIC {
        return None;
    }
    let count = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
    let mut groups = Vec::with_capacity(count.min(1 << 16));
    for _ in 0..count {
        let rows = u64::from_le_bytes(take(8)?.try_into().ok()?);
        let n = usize::try_from(u64::from_le_bytes(take(8)?.try_into().ok()?)).ok()?;
        let raw = take(n.checked_mul(8)?)?;
        let keys: Vec<u64> = raw.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect();
        if keys.windows(2).any(|w| w[0] >= w[1]) {
            return None;
        }
        groups.push(Group { rows, keys });
    }
    (take(1).is_none()).then_some(groups)
}

/// The row groups of one events file that can hold any of `wanted` (sorted keys), by
/// its index; `None` when there is no usable index (read everything).
fn groups_to_read(index: &Path, parquet_groups: &[u64], wanted: &[u64]) -> Option<Vec<usize>> {
    let groups = read(index)?;
    if groups.len() != parquet_groups.len() || groups.iter().zip(parquet_groups).any(|(g, &rows)| g.rows != rows) {
        return None;
    }
    Some(
        groups
            .iter()
            .enumerate()
            .filter(|(_, g)| {
                // Walk the shorter list, binary-search the longer.
                let (short, long) = if wanted.len() < g.keys.len() { (wanted, &g.keys[..]) } else { (&g.keys[..], wanted) };
                short.iter().any(|k| long.binary_search(k).is_ok())
            })
            .map(|(i, _)| i)
            .collect(),
    )
}

/// Columns of the events table, gathered for the rows kept.
#[derive(Default)]
struct Gathered {
    event_id: Vec<String>,
    interview_id: Vec<String>,
    ts: Vec<Option<i64>>,
    kind: Vec<Option<String>>,
    channel: Vec<Option<String>>,
    detail: Vec<Option<String>>,
    origin_file: Vec<String>,
    origin_line: Vec<Option<u64>>,
}

fn text<'a>(b: &'a arrow::array::RecordBatch, name: &str, path: &Path) -> anyhow::Result<&'a StringArray> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .with_context(|| format!("{}: no text column {name}", path.display()))
}

fn opt(a: &StringArray, i: usize) -> Option<String> {
    (!a.is_null(i)).then(|| a.value(i).to_string())
}

/// Reads the chosen row groups of one events file, keeping the rows whose interview
/// id is in `ids`.
fn gather(path: &Path, groups: Option<Vec<usize>>, ids: &HashSet<&str>, out: &mut Gathered) -> anyhow::Result<()> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut builder = ParquetRecordBatchReaderBuilder::try_new(file).with_context(|| format!("reading {}", path.display()))?;
    if let Some(groups) = groups {
        builder = builder.with_row_groups(groups);
    }
    let reader = builder.with_batch_size(64 * 1024).build().with_context(|| format!("reading {}", path.display()))?;
    for batch in reader {
        let b = batch.with_context(|| format!("reading {}", path.display()))?;
        let interview = text(&b, "interview_id", path)?;
        let (event_id, kind, channel, detail, ofile) =
            (text(&b, "event_id", path)?, text(&b, "type", path)?, text(&b, "channel", path)?, text(&b, "detail", path)?, text(&b, "origin_file", path)?);
        let ts = b
            .column_by_name("ts")
            .and_then(|c| c.as_any().downcast_ref::<TimestampMicrosecondArray>())
            .with_context(|| format!("{}: no timestamp column ts", path.display()))?;
        let line = b
            .column_by_name("origin_line")
            .and_then(|c| c.as_any().downcast_ref::<UInt64Array>())
            .with_context(|| format!("{}: no column origin_line", path.display()))?;
        for i in 0..b.num_rows() {
            if interview.is_null(i) || !ids.contains(interview.value(i)) {
                continue;
            }
            out.event_id.push(event_id.value(i).to_string());
            out.interview_id.push(interview.value(i).to_string());
            out.ts.push((!ts.is_null(i)).then(|| ts.value(i)));
            out.kind.push(opt(kind, i));
            out.channel.push(opt(channel, i));
            out.detail.push(opt(detail, i));
            out.origin_file.push(ofile.value(i).to_string());
            out.origin_line.push((!line.is_null(i)).then(|| line.value(i)));
        }
    }
    Ok(())
}

/// What [`Snapshot::events_of`] read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadShare {
    pub row_groups_read: usize,
    pub row_groups: usize,
}

impl Snapshot {
    /// The events of the interviews `ids`, every column, reading only the row groups
    /// whose index says they can hold one of them (see the module documentation).
    pub fn events_of(&self, ids: &[&str]) -> anyhow::Result<(LazyFrame, ReadShare)> {
        let files = self.files("events")?;
        let manifest = self.manifest()?;
        let listed = manifest.pointer("/tables/events/files").and_then(|f| f.as_array()).cloned().unwrap_or_default();
        let mut wanted: Vec<u64> = ids.iter().map(|id| key(id.as_bytes())).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let id_set: HashSet<&str> = ids.iter().copied().collect();
        let mut chosen: Vec<(PathBuf, Option<Vec<usize>>)> = Vec::with_capacity(files.len());
        let mut share = ReadShare::default();
        for (path, entry) in files.iter().zip(&listed) {
            let meta = ParquetRecordBatchReaderBuilder::try_new(File::open(path).with_context(|| format!("opening {}", path.display()))?)
                .with_context(|| format!("reading {}", path.display()))?
                .metadata()
                .clone();
            let rows: Vec<u64> = meta.row_groups().iter().map(|g| g.num_rows() as u64).collect();
            share.row_groups += rows.len();
            let groups =
                entry.get("index").and_then(|i| i.as_str()).and_then(|rel| groups_to_read(&self.dir.join(rel), &rows, &wanted));
            share.row_groups_read += groups.as_ref().map_or(rows.len(), Vec::len);
            chosen.push((path.clone(), groups));
        }
        if chosen.iter().any(|(_, g)| g.is_none()) {
            // A file without a usable index (written before indexes existed, or by
            // another tool): every file is read the general way, with the id filter the
            // Parquet reader applies.
            let wanted_ids = Series::new("wanted".into(), ids.to_vec());
            let scan = self.scan_events()?.filter(col("interview_id").is_in(lit(wanted_ids).implode(false), false));
            return Ok((scan, ReadShare { row_groups_read: share.row_groups, row_groups: share.row_groups }));
        }
        let plan: Vec<(PathBuf, Option<Vec<usize>>)> = chosen.into_iter().filter(|(_, g)| g.as_ref().is_some_and(|g| !g.is_empty())).collect();
        let parts = crate::sys::map_on_two_threads(&plan, |(path, groups)| {
            let mut g = Gathered::default();
            gather(path, groups.clone(), &id_set, &mut g).map(|()| g)
        })
        .context("a thread reading events panicked")?;
        let mut all = Gathered::default();
        for part in parts {
            let p = part?;
            all.event_id.extend(p.event_id);
            all.interview_id.extend(p.interview_id);
            all.ts.extend(p.ts);
            all.kind.extend(p.kind);
            all.channel.extend(p.channel);
            all.detail.extend(p.detail);
            all.origin_file.extend(p.origin_file);
            all.origin_line.extend(p.origin_line);
        }
        let ts = Series::new("ts".into(), all.ts).cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)))?;
        let df = DataFrame::new_infer_height(vec![
            Column::new("event_id".into(), all.event_id),
            Column::new("interview_id".into(), all.interview_id),
            ts.into_column(),
            Column::new("type".into(), all.kind),
            Column::new("channel".into(), all.channel),
            Column::new("detail".into(), all.detail),
            Column::new("origin_file".into(), all.origin_file),
            Column::new("origin_line".into(), all.origin_line),
        ])?;
        Ok((df.lazy(), share))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_round_trips_and_picks_the_groups_that_can_hold_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index/events/month=2026-01/part-00000.ids");
        write(&path, vec![vec![5, 3, 3, 9], vec![1, 2], vec![9]]).unwrap();
        let rows = [4, 2, 1];
        assert_eq!(groups_to_read(&path, &rows, &[9]), Some(vec![0, 2]));
        assert_eq!(groups_to_read(&path, &rows, &[2, 100]), Some(vec![1]));
        assert_eq!(groups_to_read(&path, &rows, &[4]), Some(vec![]));
        // Out of step with the file (other row counts), or damaged: not used.
        assert_eq!(groups_to_read(&path, &[4, 2, 2], &[9]), None);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.pop();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(groups_to_read(&path, &rows, &[9]), None);
        assert_eq!(path_for("events/month=2026-01/part-00000.parquet"), "index/events/month=2026-01/part-00000.ids");
    }
}
