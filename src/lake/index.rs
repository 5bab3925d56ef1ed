//! Which interviews each row group of an events file holds, so that a reader wanting
//! the events of a few interviews (`score`, the recovery worklist) opens only the
//! files that can have them (the index is per row group, so a reader could go finer;
//! polars' own reader, given whole files and the id filter, was faster at 1 M than
//! gathering the chosen row groups by hand).
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

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context;
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

/// The sorted, distinct keys of some interview ids.
pub fn keys_of(ids: &[&[u8]]) -> Vec<u64> {
    let mut keys: Vec<u64> = ids.iter().map(|id| key(id)).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Whether the events file indexed at `index`, whose row groups have `rows` rows, can
/// hold an event of an interview with one of the sorted keys `wanted` ([`keys_of`]):
/// true when there is no usable index.
pub fn may_hold_any(index: &Path, rows: &[u64], wanted: &[u64]) -> bool {
    groups_to_read(index, rows, wanted).is_none_or(|groups| !groups.is_empty())
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

/// What [`Snapshot::events_of`] read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadShare {
    pub row_groups_read: usize,
    pub row_groups: usize,
}

impl Snapshot {
    /// The events of the interviews `ids`, every column, reading only the files whose
    /// index says a row group of theirs can hold one of them (see the module
    /// documentation).
    pub fn events_of(&self, ids: &[&str]) -> anyhow::Result<(LazyFrame, ReadShare)> {
        let files = self.files("events")?;
        let manifest = self.manifest()?;
        let listed = manifest.pointer("/tables/events/files").and_then(|f| f.as_array()).cloned().unwrap_or_default();
        let mut wanted: Vec<u64> = ids.iter().map(|id| key(id.as_bytes())).collect();
        wanted.sort_unstable();
        wanted.dedup();
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
            // A file with one group to read is read whole (see below).
            share.row_groups_read += groups.as_ref().map_or(rows.len(), |g| if g.is_empty() { 0 } else { rows.len() });
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
        // Files with a row group to read go to polars' Parquet reader with the id
        // filter (faster than gathering rows by hand: it decodes the ids column first
        // and the rest only where they match); the others are not opened.
        let plan: Vec<PathBuf> = chosen.into_iter().filter(|(_, g)| g.as_ref().is_some_and(|g| !g.is_empty())).map(|(p, _)| p).collect();
        let wanted_ids = Series::new("wanted".into(), ids.to_vec());
        let scan = match plan.is_empty() {
            // Nothing can match: an empty frame with the table's columns.
            true => super::scan_parquet(&files[..files.len().min(1)])?.filter(lit(false)),
            false => super::scan_parquet(&plan)?.filter(col("interview_id").is_in(lit(wanted_ids).implode(false), false)),
        };
        Ok((scan, share))
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
