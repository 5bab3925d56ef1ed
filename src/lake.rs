//! The lake's layout on disk, its lock, and the atomic switch between versions.
//!
//! ```text
//! LAKE/
//!   current -> versions/000007        (symlink, swapped atomically by rename)
//!   interviews -> current/interviews  (fixed symlinks, so LAKE/interviews/**/*.parquet works)
//!   events -> current/events
//!   rejected -> current/rejected
//!   versions/000007/{interviews,events,rejected}/…  manifest.json  summary.json
//!   runs/                             (run logs and ingest summaries, JSON)
//!   .lock                             (held by the one process writing the lake)
//! ```
//!
//! A writer builds a whole new version in `versions/.tmp-*`, syncs it, renames it into
//! place and then swaps `current`: a run killed at any point leaves the previous version
//! current, and the next run deletes the leftovers. Readers resolve `current` once
//! ([`Lake::snapshot`]) so a switch during a read never mixes versions.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use polars::prelude::*;

use crate::store::{Kind, Staged, Store, StoreLock};

pub mod index;

/// The tables of a lake version.
pub const TABLES: &[&str] = &["interviews", "events", "rejected"];

/// A lake folder (which may not hold any version yet): a [`Store`] of kind lake.
#[derive(Debug, Clone)]
pub struct Lake {
    store: Store,
}

/// One committed version of the lake, fixed for the duration of a read.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub dir: PathBuf,
    pub version: u64,
}

/// The exclusive right to write a lake; released on drop.
pub type LakeLock = StoreLock;

/// A version being written; invisible to readers until [`VersionWriter::commit`].
#[derive(Debug)]
pub struct VersionWriter {
    staged: Staged,
    pub number: u64,
}

impl Lake {
    pub fn new(root: impl Into<PathBuf>) -> Lake {
        Lake { store: Store::new(root, Kind::Lake) }
    }

    pub fn root(&self) -> &Path {
        self.store.root()
    }

    /// Folder for run logs and ingest summaries.
    pub fn runs_dir(&self) -> PathBuf {
        self.root().join("runs")
    }

    /// The committed version readers should use, or `None` for an empty lake.
    pub fn current(&self) -> anyhow::Result<Option<Snapshot>> {
        Ok(self.store.current()?.map(|v| Snapshot { dir: v.dir, version: v.number }))
    }

    /// The current version, or a clear error when nothing was ingested yet.
    pub fn snapshot(&self) -> anyhow::Result<Snapshot> {
        match self.current()? {
            Some(s) => Ok(s),
            None if !self.root().exists() => bail!("lake {} does not exist: run `noshow ingest` first", self.root().display()),
            None => bail!("lake {} holds no data yet: run `noshow ingest` first", self.root().display()),
        }
    }

    /// Takes the writer's lock, refusing (not waiting) when another run holds it, and
    /// recovers from killed runs (see [`crate::store`]).
    pub fn lock(&self) -> anyhow::Result<LakeLock> {
        let lock = self.store.lock(|lock| {
            format!(
                "another noshow run is writing the lake {} (lock {} is held); try again when it has finished",
                self.root().display(),
                lock.display()
            )
        })?;
        // Ingest summaries are copied to runs/ through a temp file, under this lock.
        if let Ok(entries) = fs::read_dir(self.runs_dir()) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if (name.starts_with(".ingest-") && name.contains(".tmp-")) || (name.starts_with("ingest-") && name.ends_with(".tmp")) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        Ok(lock)
    }

    /// The number the next version will get.
    pub fn next_version(&self, lock: &LakeLock) -> anyhow::Result<u64> {
        self.store.next_number(lock)
    }

    /// Starts a new version under the lock.
    pub fn begin_version(&self, lock: &LakeLock) -> anyhow::Result<VersionWriter> {
        let staged = self.store.begin(lock)?;
        for table in TABLES {
            fs::create_dir_all(staged.dir().join(table))
                .with_context(|| format!("creating {}", staged.dir().join(table).display()))?;
        }
        let number = staged.number;
        Ok(VersionWriter { staged, number })
    }
}

impl VersionWriter {
    /// Commits a version assembled from Parquet files written straight into
    /// [`VersionWriter::dir`] (by tests and tools, not by ingest): writes a manifest
    /// listing every Parquet file of each table with its row count, then commits.
    pub fn commit_listing_files(self, keep_old: usize) -> anyhow::Result<Snapshot> {
        use crate::ingest::summary::{Manifest, TableEntry, MANIFEST_FORMAT};
        use crate::ingest::writer::WrittenFile;
        let mut tables = std::collections::BTreeMap::new();
        for table in TABLES {
            let mut paths = Vec::new();
            collect_parquet(&self.dir().join(table), &mut paths)?;
            paths.sort();
            let mut files = Vec::new();
            for path in paths {
                let rows = parquet_rows(&path)?;
                let rel = path.strip_prefix(self.dir()).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                files.push(WrittenFile { path: rel, rows, source_files: Vec::new(), orphans: None, index: None });
            }
            let rows = files.iter().map(|f| f.rows).sum();
            tables.insert(table.to_string(), TableEntry { rows, files });
        }
        let manifest = Manifest {
            format: MANIFEST_FORMAT,
            noshow_version: crate::VERSION.to_string(),
            lake_version: self.number,
            tables,
            tz: None,
            source_files: Vec::new(),
        };
        crate::store::write_file(&self.dir().join("manifest.json"), &serde_json::to_vec_pretty(&manifest)?)?;
        self.commit(keep_old)
    }

    /// Where the new version's files go before it is committed.
    pub fn dir(&self) -> &Path {
        self.staged.dir()
    }

    /// Makes the new version current in one atomic rename, then keeps only the
    /// newest `keep_old` earlier versions.
    pub fn commit(self, keep_old: usize) -> anyhow::Result<Snapshot> {
        let v = self.staged.commit(keep_old, TABLES)?;
        Ok(Snapshot { dir: v.dir, version: v.number })
    }
}

impl Snapshot {
    /// Exactly the Parquet files of `table` that this version's manifest lists, in its
    /// order, after checking that each is there with the rows the manifest says (from
    /// the Parquet footers) and that no other Parquet file sits in the table's folder
    /// (a stray copy would be counted twice by tools reading `LAKE/TABLE/**/*.parquet`).
    pub fn files(&self, table: &str) -> anyhow::Result<Vec<PathBuf>> {
        let manifest = self.manifest()?;
        let listed = manifest
            .pointer(&format!("/tables/{table}/files"))
            .and_then(|f| f.as_array())
            .with_context(|| format!("{}: the manifest lists no {table} table", self.dir.join("manifest.json").display()))?;
        let mut out = Vec::with_capacity(listed.len());
        for entry in listed {
            let (Some(rel), Some(rows)) = (entry.get("path").and_then(|p| p.as_str()), entry.get("rows").and_then(|r| r.as_u64()))
            else {
                bail!("{}: a {table} file entry without path or rows", self.dir.join("manifest.json").display());
            };
            let path = self.dir.join(rel);
            let found = parquet_rows(&path).with_context(|| {
                format!(
                    "lake version {} is damaged: {} is listed in its manifest but cannot be read; restore it from a \
                     backup, or remove the lake's `current` link to fall back to the previous version",
                    self.version,
                    path.display()
                )
            })?;
            if found != rows {
                bail!(
                    "lake version {} is damaged: {} holds {found} rows but the manifest says {rows}; restore the file \
                     from a backup",
                    self.version,
                    path.display()
                );
            }
            out.push(path);
        }
        let mut on_disk = Vec::new();
        collect_parquet(&self.dir.join(table), &mut on_disk)?;
        let stray: Vec<String> = on_disk.iter().filter(|p| !out.contains(p)).map(|p| p.display().to_string()).collect();
        if !stray.is_empty() {
            bail!(
                "lake version {}: {} not in the manifest (a copy would be counted twice by every reader of \
                 {table}/**/*.parquet): move {} out of the lake",
                self.version,
                stray.join(", "),
                if stray.len() == 1 { "it" } else { "them" }
            );
        }
        Ok(out)
    }

    fn scan(&self, table: &str) -> anyhow::Result<LazyFrame> {
        let files = self.files(table)?;
        if files.is_empty() {
            bail!("lake version {} has no {table} files", self.dir.display());
        }
        anyhow::Context::with_context(scan_parquet(&files), || format!("scanning {table} in {}", self.dir.display()))
    }

    /// The interviews table (one row per interview, as ingested: no derived status).
    pub fn scan_interviews(&self) -> anyhow::Result<LazyFrame> {
        self.scan("interviews")
    }

    /// The events table, orphans included.
    pub fn scan_events(&self) -> anyhow::Result<LazyFrame> {
        self.scan("events")
    }

    /// The set-aside and warning rows.
    pub fn scan_rejected(&self) -> anyhow::Result<LazyFrame> {
        self.scan("rejected")
    }

    /// The zone naive timestamps were read in: the manifest's `tz`, or (in versions
    /// written before it recorded one) the zone of the ingest run that wrote it.
    pub fn zone(&self) -> Option<String> {
        if let Some(tz) = self.manifest().ok().and_then(|m| m.get("tz")?.as_str().map(str::to_string)) {
            return Some(tz);
        }
        let text = fs::read_to_string(self.dir.join("summary.json")).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        v.get("tz")?.as_str().map(str::to_string)
    }

    /// The version's manifest (source files, counts, noshow version), as JSON.
    pub fn manifest(&self) -> anyhow::Result<serde_json::Value> {
        let path = self.dir.join("manifest.json");
        let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

/// Exactly these Parquet files as one lazy frame (no hive columns from folder names).
pub fn scan_parquet(files: &[PathBuf]) -> PolarsResult<LazyFrame> {
    let paths: Vec<PlRefPath> = files.iter().map(|p| PlRefPath::from(p.to_string_lossy().as_ref())).collect();
    let args = ScanArgsParquet { hive_options: HiveOptions { enabled: Some(false), ..Default::default() }, ..Default::default() };
    LazyFrame::scan_parquet_files(paths.into_iter().collect(), args)
}

/// Rows of a Parquet file, from its footer.
fn parquet_rows(path: &Path) -> anyhow::Result<u64> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let file = fs::File::open(path)?;
    let reader = SerializedFileReader::new(file)?;
    Ok(u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0))
}

fn collect_parquet(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            collect_parquet(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    Ok(())
}
