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

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use polars::prelude::*;

/// The tables of a lake version.
pub const TABLES: &[&str] = &["interviews", "events", "rejected"];

/// A lake folder (which may not hold any version yet).
#[derive(Debug, Clone)]
pub struct Lake {
    root: PathBuf,
}

/// One committed version of the lake, fixed for the duration of a read.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub dir: PathBuf,
    pub version: u64,
}

/// The exclusive right to write a lake; released on drop.
#[derive(Debug)]
pub struct LakeLock {
    _file: File,
}

/// A version being written; invisible to readers until [`VersionWriter::commit`].
#[derive(Debug)]
pub struct VersionWriter {
    root: PathBuf,
    tmp: PathBuf,
    pub number: u64,
}

impl Lake {
    pub fn new(root: impl Into<PathBuf>) -> Lake {
        Lake { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn versions_dir(&self) -> PathBuf {
        self.root.join("versions")
    }

    /// Folder for run logs and ingest summaries.
    pub fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }

    /// The committed version readers should use, or `None` for an empty lake.
    pub fn current(&self) -> anyhow::Result<Option<Snapshot>> {
        let link = self.root.join("current");
        let target = match fs::read_link(&link) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", link.display())),
        };
        let name = target.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let version = name
            .parse::<u64>()
            .with_context(|| format!("{} points to {}, not a lake version", link.display(), target.display()))?;
        Ok(Some(Snapshot { dir: self.root.join(&target), version }))
    }

    /// The current version, or a clear error when nothing was ingested yet.
    pub fn snapshot(&self) -> anyhow::Result<Snapshot> {
        match self.current()? {
            Some(s) => Ok(s),
            None if !self.root.exists() => bail!("lake {} does not exist: run `noshow ingest` first", self.root.display()),
            None => bail!("lake {} holds no data yet: run `noshow ingest` first", self.root.display()),
        }
    }

    /// Takes the writer's lock, refusing (not waiting) when another run holds it.
    pub fn lock(&self) -> anyhow::Result<LakeLock> {
        let file = try_lock_exclusive(&self.root, ".lock", |lock| {
            format!(
                "another noshow run is writing the lake {} (lock {} is held); try again when it has finished",
                self.root.display(),
                lock.display()
            )
        })?;
        self.clear_uncommitted()?;
        Ok(LakeLock { _file: file })
    }

    /// Removes what a writer killed before its switch left behind: a version renamed
    /// into place but never made current (numbered above `current`), so the next
    /// version gets the number the killed one would have had and a recovered lake is
    /// the same as one whose run was never interrupted. Only called under the lock.
    fn clear_uncommitted(&self) -> anyhow::Result<()> {
        let versions = self.versions_dir();
        let current = self.current()?.map_or(0, |s| s.version);
        let entries = match fs::read_dir(&versions) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("listing {}", versions.display())),
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("listing {}", versions.display()))?;
            let n = entry.file_name().to_str().and_then(|n| n.parse::<u64>().ok());
            if n.is_some_and(|n| n > current) {
                fs::remove_dir_all(entry.path())
                    .with_context(|| format!("removing {}, left by a run killed before its switch", entry.path().display()))?;
            }
        }
        // Ingest summaries are copied to runs/ through a temp file, under this lock.
        if let Ok(entries) = fs::read_dir(self.runs_dir()) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with("ingest-") && name.ends_with(".tmp") {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        Ok(())
    }

    /// Starts a new version under the lock, clearing what killed runs left behind.
    pub fn begin_version(&self, _lock: &LakeLock) -> anyhow::Result<VersionWriter> {
        let versions = self.versions_dir();
        fs::create_dir_all(&versions).with_context(|| format!("creating {}", versions.display()))?;
        let mut highest = 0u64;
        for entry in fs::read_dir(&versions).with_context(|| format!("listing {}", versions.display()))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".tmp-") {
                fs::remove_dir_all(entry.path()).with_context(|| format!("removing leftover {}", entry.path().display()))?;
            } else if let Ok(n) = name.parse::<u64>() {
                highest = highest.max(n);
            }
        }
        let _ = fs::remove_file(self.root.join(".current.tmp"));
        let number = highest + 1;
        let tmp = versions.join(format!(".tmp-{number:06}-{}", std::process::id()));
        fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        for table in TABLES {
            fs::create_dir_all(tmp.join(table))?;
        }
        Ok(VersionWriter { root: self.root.clone(), tmp, number })
    }
}

impl VersionWriter {
    /// Where the new version's files go before it is committed.
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    /// Makes the new version current in one atomic rename, then keeps only the
    /// newest `keep_old` earlier versions.
    pub fn commit(self, keep_old: usize) -> anyhow::Result<Snapshot> {
        sync_tree(&self.tmp)?;
        let name = format!("{:06}", self.number);
        let versions = self.root.join("versions");
        let final_dir = versions.join(&name);
        fs::rename(&self.tmp, &final_dir)
            .with_context(|| format!("renaming {} to {}", self.tmp.display(), final_dir.display()))?;
        sync_dir(&versions)?;
        let tmp_link = self.root.join(".current.tmp");
        let _ = fs::remove_file(&tmp_link);
        symlink(Path::new("versions").join(&name), &tmp_link)?;
        fs::rename(&tmp_link, self.root.join("current")).context("switching the lake's current version")?;
        for table in TABLES {
            let link = self.root.join(table);
            if fs::symlink_metadata(&link).is_err() {
                symlink(Path::new("current").join(table), &link)?;
            }
        }
        sync_dir(&self.root)?;
        prune_versions(&versions, self.number, keep_old);
        Ok(Snapshot { dir: final_dir, version: self.number })
    }
}

/// Creates `dir` (owner-only) and takes an exclusive advisory lock on `dir/name`,
/// refusing at once with `busy(lock path)` when another process holds it. The lock is
/// released when the returned file is dropped (or the process dies).
pub fn try_lock_exclusive(dir: &Path, name: &str, busy: impl FnOnce(&Path) -> String) -> anyhow::Result<File> {
    crate::export::create_private_dir_all(dir).with_context(|| format!("creating folder {}", dir.display()))?;
    let path = dir.join(name);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening lock file {}", path.display()))?;
    if fs2::FileExt::try_lock_exclusive(&file).is_err() {
        bail!("{}", busy(&path));
    }
    Ok(file)
}

fn prune_versions(versions: &Path, current: u64, keep_old: usize) {
    let Ok(entries) = fs::read_dir(versions) else { return };
    let mut old: Vec<u64> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .filter(|&n| n < current)
        .collect();
    old.sort_unstable_by(|a, b| b.cmp(a));
    for n in old.into_iter().skip(keep_old) {
        // Best effort: a version that cannot be removed now is removed by a later run.
        let _ = fs::remove_dir_all(versions.join(format!("{n:06}")));
    }
}

#[cfg(unix)]
fn symlink(target: impl AsRef<Path>, link: &Path) -> anyhow::Result<()> {
    std::os::unix::fs::symlink(target.as_ref(), link)
        .with_context(|| format!("creating symlink {} -> {}", link.display(), target.as_ref().display()))
}

#[cfg(not(unix))]
fn symlink(_target: impl AsRef<Path>, _link: &Path) -> anyhow::Result<()> {
    bail!("the lake's atomic version switch needs symbolic links (Unix)")
}

/// fsync every file and folder below `dir`, so a committed version survives a crash.
pub fn sync_tree(dir: &Path) -> anyhow::Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            File::open(&path).and_then(|f| f.sync_all()).with_context(|| format!("syncing {}", path.display()))?;
        }
    }
    sync_dir(dir)
}

/// fsync a folder's entries.
pub fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    File::open(dir).and_then(|f| f.sync_all()).with_context(|| format!("syncing folder {}", dir.display()))
}

impl Snapshot {
    /// Every Parquet file of `table` in this version, sorted.
    pub fn files(&self, table: &str) -> anyhow::Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        collect_parquet(&self.dir.join(table), &mut out)?;
        out.sort();
        Ok(out)
    }

    fn scan(&self, table: &str) -> anyhow::Result<LazyFrame> {
        let files = self.files(table)?;
        if files.is_empty() {
            bail!("lake version {} has no {table} files", self.dir.display());
        }
        let paths: Vec<PlRefPath> = files.iter().map(|p| PlRefPath::from(p.to_string_lossy().as_ref())).collect();
        let args = ScanArgsParquet {
            hive_options: HiveOptions { enabled: Some(false), ..Default::default() },
            ..Default::default()
        };
        LazyFrame::scan_parquet_files(paths.into_iter().collect(), args)
            .map_err(|e| anyhow::anyhow!("scanning {table} in {}: {e}", self.dir.display()))
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

    /// The version's manifest (source files, counts, noshow version), as JSON.
    pub fn manifest(&self) -> anyhow::Result<serde_json::Value> {
        let path = self.dir.join("manifest.json");
        let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
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
