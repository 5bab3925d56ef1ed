//! A cache that spares hashing raw files the lake has already read.
//!
//! Content decides what is new (the manifest keeps each file's SHA-256), and hashing
//! reads every byte of the raw folder: a folder that keeps every weekly export would
//! cost more to hash than the week's new rows cost to ingest. So after each run
//! `LAKE/raw-stamps.json` records, per raw path, its size, modification time and
//! status-change time (`ctime`) with the hash it had. A file whose three are unchanged
//! keeps that hash without being read, provided the hash is one the lake's manifest
//! knows; any other file is hashed.
//!
//! Why this is safe: rewriting a file changes its `ctime`, and no ordinary tool can set
//! `ctime` back (tools that restore the modification time, `touch -r` or `cp -p`, still
//! change it). A file whose stamp is unknown, or a cache that is missing, unreadable or
//! from elsewhere, only means hashing again. The cache is not part of any version: the
//! manifest stays free of wall-clock times, and removing the cache is always harmless.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};


const FILE_NAME: &str = "raw-stamps.json";
const FORMAT: u32 = 1;

/// What the file system says about a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub size: u64,
    pub modified_ns: i64,
    pub changed_ns: i64,
}

impl Stamp {
    /// Whether this stamp can vouch that a file is unchanged between two looks: its
    /// file system keeps sub-second times (a whole-second `ctime`, as some network file
    /// systems keep, would miss a same-size rewrite within the second).
    pub fn is_fine_grained(&self) -> bool {
        self.changed_ns % 1_000_000_000 != 0 || self.modified_ns % 1_000_000_000 != 0
    }

    pub fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Stamp { size: meta.len(), modified_ns: modified_ns(&meta)?, changed_ns: changed_ns(&meta)? })
    }
}

fn modified_ns(meta: &std::fs::Metadata) -> Option<i64> {
    let t = meta.modified().ok()?;
    Some(match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).ok()?,
        Err(e) => -i64::try_from(e.duration().as_nanos()).ok()?,
    })
}

#[cfg(unix)]
fn changed_ns(meta: &std::fs::Metadata) -> Option<i64> {
    use std::os::unix::fs::MetadataExt;
    meta.ctime().checked_mul(1_000_000_000)?.checked_add(meta.ctime_nsec())
}

/// Without a status-change time there is no safe quick check: every file is hashed.
#[cfg(not(unix))]
fn changed_ns(_: &std::fs::Metadata) -> Option<i64> {
    None
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    path: String,
    stamp: Stamp,
    sha256: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    files: Vec<Entry>,
}

/// The stamps of the last run.
#[derive(Debug, Default)]
pub struct Stamps {
    by_path: HashMap<String, (Stamp, String)>,
}

impl Stamps {
    /// The cache in `lake`; empty when there is none or it cannot be used.
    pub fn read(lake: &Path) -> Stamps {
        let Ok(text) = std::fs::read_to_string(lake.join(FILE_NAME)) else { return Stamps::default() };
        let Ok(cache) = serde_json::from_str::<CacheFile>(&text) else { return Stamps::default() };
        if cache.format != FORMAT {
            return Stamps::default();
        }
        Stamps { by_path: cache.files.into_iter().map(|e| (e.path, (e.stamp, e.sha256))).collect() }
    }

    /// The recorded hash of the file at `rel` when `now` is its recorded stamp.
    pub fn unchanged(&self, rel: &str, now: Stamp) -> Option<&str> {
        let (stamp, sha) = self.by_path.get(rel)?;
        (now == *stamp).then_some(sha.as_str())
    }

    /// Replaces the cache with these files' stamps and hashes. Each stamp must have
    /// been taken before the file was hashed or read, so that a change after it shows as
    /// another stamp next time. Best effort: a cache that cannot be written only means
    /// hashing again.
    pub fn write<'a>(lake: &Path, files: impl Iterator<Item = (&'a str, Stamp, &'a str)>) {
        let files: Vec<Entry> =
            files.map(|(rel, stamp, sha)| Entry { path: rel.to_string(), stamp, sha256: sha.to_string() }).collect();
        let cache = CacheFile { format: FORMAT, files };
        if let Ok(bytes) = serde_json::to_vec(&cache) {
            if let Err(e) = crate::store::write_file_atomically(&lake.join(FILE_NAME), &bytes) {
                crate::warn!("could not write {}: {e:#} (the next run hashes every raw file)", lake.join(FILE_NAME).display());
            }
        }
    }
}
