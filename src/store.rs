//! The one way noshow writes what others read: **versioned stores** (the lake, the
//! model folder) and **published folders** (the report, the scoring feed). Every rule
//! about atomic writes, locks, kills, recovery, ownership and pruning lives here.
//!
//! # Versioned store
//!
//! ```text
//! ROOT/.noshow                  marker: the kind of store, and the next version number
//! ROOT/.lock                    held by the one process writing the store
//! ROOT/current -> versions/000007
//! ROOT/versions/000007/         a committed version
//! ROOT/versions/.tmp-000008-PID/  a version being written
//! ROOT/candidates/000009/       a version kept without being made current
//! ```
//!
//! Guarantees, in the order a writer meets them:
//!
//! - **Who may write.** One process at a time, holding `ROOT/.lock` (a second writer
//!   is refused at once, never made to wait). noshow writes only into a folder it made:
//!   a folder that exists, is not empty and has neither our marker nor the layout of
//!   an earlier noshow store is refused, and so is a store of another kind (a model
//!   folder given as the lake).
//! - **What a reader sees during a commit.** `current` names a whole version that was
//!   synced to disk before it was named. A commit is the rename of one symlink, so a
//!   reader that resolves `current` once ([`Store::current`]) sees the old version or
//!   the new one, never a mix; readers take no lock.
//! - **What a kill leaves.** At most a staging folder or a version renamed into place
//!   but never made current. Neither is visible; the next writer removes both, so a
//!   recovered store is byte for byte the one an uninterrupted run leaves. A version is
//!   *committed* once `current` has named it; the marker's `next_version` is then moved
//!   past it, so every version folder numbered below `next_version` is a committed one,
//!   and no recovery step ever removes a committed version.
//! - **Recovery.** When `current` is missing or names nothing (a copy made by a tool
//!   that skips symlinks, a hand edit), the newest committed version is current. Readers
//!   use it and say so; the next writer restores the link and says so. A store without
//!   a marker (written before it existed) takes its newest complete version (one
//!   holding the kind's main file).
//! - **Numbers are never reused** once committed: the next version is one past every
//!   version folder and at least the marker's `next_version`, so a version number (a
//!   feed's `model_version`, a report's `lake_version`) always means one thing, even
//!   after versions were deleted by hand.
//! - **Candidates.** A writer may keep a finished version *without* making it current
//!   ([`Staged::keep_as_candidate`]: a model that failed its promotion checks). It is
//!   synced and renamed to `candidates/NNNNNN`, outside `versions/`, so `current`,
//!   recovery and readers never pick it; then the marker's `next_version` is moved
//!   past it, so its number is used for good like a committed one and recovery never
//!   removes it. A candidate numbered at or above `next_version` is a killed writer's
//!   (renamed, marker not moved) and is removed by the next writer, like an
//!   uncommitted version. The newest `keep` candidates are kept.
//! - **Pruning.** After a commit the newest `keep_old` versions below the new one are
//!   kept and older ones removed; versions above it (left there by a rollback by hand)
//!   are kept.
//!
//! # Published folder
//!
//! A folder such as `OUT/report` is built whole in a staging folder beside it
//! (`.report.tmp-PID`), synced, and exchanged with the old folder in one step
//! (`renameat2(RENAME_EXCHANGE)` on Linux). Writers of one destination hold the lock
//! file `.report.lock` beside it, so two runs never remove each other's staging
//! folders or publish a mix. The destination must be new, empty, or a folder noshow
//! published (its `.noshow` marker); it must not be inside, or hold, a store.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::warn;

/// The marker file at the root of every store and in every published folder.
pub const MARKER: &str = ".noshow";

/// What a store holds; decides its version names and its main file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Lake,
    Model,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Lake => "lake",
            Kind::Model => "model folder",
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Kind::Lake => "lake",
            Kind::Model => "model",
        }
    }

    /// Digits of a version folder's name (kept from the first layouts).
    fn digits(self) -> usize {
        match self {
            Kind::Lake => 6,
            Kind::Model => 4,
        }
    }

    /// The file every complete version holds.
    fn main_file(self) -> &'static str {
        match self {
            Kind::Lake => "manifest.json",
            Kind::Model => "model.json",
        }
    }

    pub fn version_name(self, n: u64) -> String {
        format!("{n:0width$}", width = self.digits())
    }
}

/// The marker's content.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Marker {
    kind: String,
    #[serde(default)]
    next_version: u64,
}

/// A versioned store folder (which may not exist yet).
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    kind: Kind,
}

/// One committed version, fixed for the duration of a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub dir: PathBuf,
    pub number: u64,
}

/// The exclusive right to write a store; released on drop (or when the process dies).
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

/// A version being written; invisible to readers until [`Staged::commit`].
#[derive(Debug)]
pub struct Staged {
    store: Store,
    tmp: PathBuf,
    pub number: u64,
    done: bool,
}

impl Store {
    pub fn new(root: impl Into<PathBuf>, kind: Kind) -> Store {
        Store { root: root.into(), kind }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    fn versions_dir(&self) -> PathBuf {
        self.root.join("versions")
    }

    fn candidates_dir(&self) -> PathBuf {
        self.root.join("candidates")
    }

    /// Every numbered folder of `dir` (a version or candidate folder), ascending.
    fn numbered(&self, dir: &Path) -> anyhow::Result<Vec<u64>> {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
            if let Some(n) = entry.file_name().to_str().and_then(|n| n.parse::<u64>().ok()) {
                out.push(n);
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// The kept candidates (complete ones), ascending: see the module documentation.
    pub fn candidates(&self) -> anyhow::Result<Vec<Version>> {
        let dir = self.candidates_dir();
        Ok(self
            .numbered(&dir)?
            .into_iter()
            .map(|n| Version { dir: dir.join(self.kind.version_name(n)), number: n })
            .filter(|v| v.dir.join(self.kind.main_file()).is_file())
            .collect())
    }

    /// The version `current` names, when the link is there and names a version folder.
    fn linked(&self) -> anyhow::Result<Option<Version>> {
        let link = self.root.join("current");
        let target = match fs::read_link(&link) {
            Ok(t) => t,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::InvalidInput) => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", link.display())),
        };
        let Some(number) = target.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse::<u64>().ok()) else {
            return Ok(None);
        };
        let dir = self.root.join(&target);
        if !dir.join(self.kind.main_file()).is_file() {
            return Ok(None);
        }
        Ok(Some(Version { dir, number }))
    }

    /// Every numbered version folder, ascending: (number, complete?).
    fn versions(&self) -> anyhow::Result<Vec<(u64, bool)>> {
        let dir = self.versions_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
            let Some(n) = entry.file_name().to_str().and_then(|n| n.parse::<u64>().ok()) else { continue };
            out.push((n, entry.path().join(self.kind.main_file()).is_file()));
        }
        out.sort_unstable();
        Ok(out)
    }

    /// The version `current` should name when the link is missing: the newest complete
    /// committed one (numbered below the marker's `next_version`; without a marker, the
    /// newest complete one).
    fn newest_committed(&self) -> anyhow::Result<Option<Version>> {
        let limit = self.read_marker().map_or(u64::MAX, |m| m.next_version);
        let pick = self.versions()?.into_iter().rev().find(|&(n, complete)| complete && n < limit).map(|v| v.0);
        Ok(pick.map(|n| Version { dir: self.versions_dir().join(self.kind.version_name(n)), number: n }))
    }

    /// The committed version readers should use, or `None` for a store with none yet.
    /// When `current` is missing or broken, the newest committed version is used and
    /// the fact said (a writer will restore the link).
    pub fn current(&self) -> anyhow::Result<Option<Version>> {
        if let Some(v) = self.linked()? {
            return Ok(Some(v));
        }
        let found = self.newest_committed()?;
        if let Some(v) = &found {
            warn!(
                "{} {}: the `current` link is missing or broken; using version {}, the newest committed one \
                 (the next write restores the link)",
                self.kind.name(),
                self.root.display(),
                self.kind.version_name(v.number)
            );
        }
        Ok(found)
    }

    /// Refuses a folder noshow did not make, or a store of another kind.
    fn check_owner(&self) -> anyhow::Result<()> {
        let marker_path = self.root.join(MARKER);
        match fs::read_to_string(&marker_path) {
            Ok(text) => {
                let marker: Marker = serde_json::from_str(&text)
                    .with_context(|| format!("reading {} (noshow's marker of this folder)", marker_path.display()))?;
                if marker.kind != self.kind.tag() {
                    bail!(
                        "{} is a noshow {} folder, not a {}: refusing to write into it (check the paths given)",
                        self.root.display(),
                        marker.kind,
                        self.kind.name()
                    );
                }
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Stores written before the marker: their layout, or a plain model.json.
                let looks_ours = self.versions_dir().is_dir()
                    || fs::symlink_metadata(self.root.join("current")).is_ok()
                    || self.root.join(self.kind.main_file()).is_file();
                if looks_ours || is_empty_or_missing(&self.root)? {
                    return Ok(());
                }
                bail!(
                    "{} exists, is not empty and was not made by noshow (no {MARKER} marker): refusing to write a {} \
                     into it. Give a new or empty folder",
                    self.root.display(),
                    self.kind.name()
                )
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", marker_path.display())),
        }
    }

    fn read_marker(&self) -> Option<Marker> {
        serde_json::from_str(&fs::read_to_string(self.root.join(MARKER)).ok()?).ok()
    }

    fn write_marker(&self, next_version: u64) -> anyhow::Result<()> {
        let marker = Marker { kind: self.kind.tag().to_string(), next_version };
        write_file_atomically(&self.root.join(MARKER), &serde_json::to_vec_pretty(&marker)?)
    }

    /// Takes the writer's lock (refusing when another process holds it), checks the
    /// folder is ours, restores a missing `current` and removes what killed writers
    /// left. `busy` words the refusal.
    pub fn lock(&self, busy: impl FnOnce(&Path) -> String) -> anyhow::Result<StoreLock> {
        self.claim()?;
        let file = try_lock_exclusive(&self.root, ".lock", busy)?;
        let lock = StoreLock { _file: file };
        self.recover()?;
        Ok(lock)
    }

    /// Checks that the folder is (or may become) this kind of store, creates it and
    /// writes the marker when it has none. Called before any other file is made in it.
    pub fn claim(&self) -> anyhow::Result<()> {
        self.check_owner()?;
        create_private_dir_all(&self.root).with_context(|| format!("creating folder {}", self.root.display()))?;
        if self.read_marker().is_none() {
            // A store from before the marker: what `current` names is committed (and
            // versions above it are a killed run's); with no link, every complete one.
            let next = match self.linked()? {
                Some(v) => v.number + 1,
                None => self.versions()?.iter().rev().find(|v| v.1).map_or(1, |v| v.0 + 1),
            };
            self.write_marker(next)?;
        }
        Ok(())
    }

    /// Under the lock: restore `current`, record it as committed, clear leftovers.
    fn recover(&self) -> anyhow::Result<()> {
        if fs::symlink_metadata(self.root.join("current")).is_ok_and(|m| !m.file_type().is_symlink()) {
            bail!(
                "{}: `current` is a plain file or folder, not noshow's link (a copy that followed links?). Move it \
                 away; every version is kept under versions/, and the next run links the newest one",
                self.root.display()
            );
        }
        let current = match self.linked()? {
            Some(v) => Some(v),
            None => {
                let found = self.newest_committed()?;
                if let Some(v) = &found {
                    let name = self.kind.version_name(v.number);
                    warn!(
                        "{} {}: the `current` link was missing or broken; restored it to versions/{name}, the newest \
                         committed version (no version was removed)",
                        self.kind.name(),
                        self.root.display()
                    );
                    self.switch_to(&name)?;
                }
                found
            }
        };
        // A writer killed between its switch and its marker update.
        let mut next = self.read_marker().map_or(1, |m| m.next_version);
        if let Some(v) = &current {
            if v.number >= next {
                next = v.number + 1;
                self.write_marker(next)?;
            }
        }
        let current_n = current.as_ref().map_or(0, |v| v.number);
        let versions = self.versions_dir();
        if let Ok(entries) = fs::read_dir(&versions) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let path = entry.path();
                let leftover = if name.starts_with(".tmp-") {
                    true
                } else if let Ok(n) = name.parse::<u64>() {
                    // Renamed into place, never made current: a killed writer's.
                    n >= next && n != current_n
                } else {
                    false
                };
                if leftover {
                    fs::remove_dir_all(&path)
                        .with_context(|| format!("removing {}, left by a run killed before its switch", path.display()))?;
                }
            }
        }
        // A candidate renamed into place by a writer killed before its marker update.
        for n in self.numbered(&self.candidates_dir())? {
            if n >= next {
                let path = self.candidates_dir().join(self.kind.version_name(n));
                fs::remove_dir_all(&path)
                    .with_context(|| format!("removing {}, left by a run killed before it was kept", path.display()))?;
            }
        }
        // Temp files and moved-aside folders of a killed writer at the root.
        if let Ok(entries) = fs::read_dir(&self.root) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let ours = name == ".current.tmp"
                    || name == ".link.tmp"
                    || name.starts_with(&format!("{MARKER}.tmp-"))
                    || (name.starts_with('.') && name.contains(".old-"));
                if ours {
                    let path = entry.path();
                    let _ = if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
                }
            }
        }
        Ok(())
    }

    /// Points `current` at `versions/NAME` in one rename.
    fn switch_to(&self, name: &str) -> anyhow::Result<()> {
        let tmp_link = self.root.join(".current.tmp");
        let _ = fs::remove_file(&tmp_link);
        symlink(Path::new("versions").join(name), &tmp_link)?;
        fs::rename(&tmp_link, self.root.join("current"))
            .with_context(|| format!("switching {} to version {name}", self.root.display()))?;
        sync_dir(&self.root)
    }

    /// The number the next version gets (see the module documentation).
    pub fn next_number(&self, _lock: &StoreLock) -> anyhow::Result<u64> {
        let past_versions = self.versions()?.last().map_or(1, |v| v.0 + 1);
        let past_candidates = self.numbered(&self.candidates_dir())?.last().map_or(1, |n| n + 1);
        let past_dirs = past_versions.max(past_candidates);
        let recorded = self.read_marker().map_or(0, |m| m.next_version);
        Ok(past_dirs.max(recorded).max(1))
    }

    /// Starts a new version under the lock.
    pub fn begin(&self, lock: &StoreLock) -> anyhow::Result<Staged> {
        let versions = self.versions_dir();
        create_private_dir_all(&versions).with_context(|| format!("creating {}", versions.display()))?;
        let number = self.next_number(lock)?;
        let tmp = versions.join(format!(".tmp-{}-{}", self.kind.version_name(number), std::process::id()));
        create_private_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        Ok(Staged { store: self.clone(), tmp, number, done: false })
    }
}

impl Staged {
    /// Where the new version's files go before it is committed.
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    /// Makes the new version current (sync, rename, one symlink swap), records it as
    /// committed, then prunes: see the module documentation. `links` are fixed links
    /// at the root through `current` (`interviews -> current/interviews`).
    pub fn commit(mut self, keep_old: usize, links: &[&str]) -> anyhow::Result<Version> {
        let store = self.store.clone();
        sync_tree(&self.tmp)?;
        let name = store.kind.version_name(self.number);
        let versions = store.versions_dir();
        let final_dir = versions.join(&name);
        fs::rename(&self.tmp, &final_dir)
            .with_context(|| format!("renaming {} to {}", self.tmp.display(), final_dir.display()))?;
        self.done = true;
        sync_dir(&versions)?;
        store.switch_to(&name)?;
        // Committed: the number is used for good (a kill before this line is repaired
        // by the next writer, which finds `current` naming the version).
        store.write_marker(self.number + 1)?;
        for table in links {
            link_through_current(&store.root, table)?;
        }
        sync_dir(&store.root)?;
        prune(&store, self.number, keep_old);
        Ok(Version { dir: final_dir, number: self.number })
    }
}

impl Staged {
    /// Keeps the new version as a candidate: synced and renamed to
    /// `candidates/NNNNNN`, its number recorded as used, `current` untouched; only the
    /// newest `keep` candidates are kept. See the module documentation.
    pub fn keep_as_candidate(mut self, keep: usize) -> anyhow::Result<Version> {
        let store = self.store.clone();
        sync_tree(&self.tmp)?;
        let name = store.kind.version_name(self.number);
        let candidates = store.candidates_dir();
        create_private_dir_all(&candidates).with_context(|| format!("creating {}", candidates.display()))?;
        let final_dir = candidates.join(&name);
        fs::rename(&self.tmp, &final_dir)
            .with_context(|| format!("renaming {} to {}", self.tmp.display(), final_dir.display()))?;
        self.done = true;
        sync_dir(&candidates)?;
        store.write_marker(self.number + 1)?;
        sync_dir(&store.root)?;
        if let Ok(numbers) = store.numbered(&candidates) {
            for n in numbers.iter().rev().skip(keep.max(1)) {
                // Best effort, as for versions.
                let _ = fs::remove_dir_all(candidates.join(store.kind.version_name(*n)));
            }
        }
        Ok(Version { dir: final_dir, number: self.number })
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            // Best effort: the next writer removes what is left anyway.
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Makes `ROOT/name` the fixed link `current/name` (turning a plain file or folder of an
/// earlier layout into the link).
fn link_through_current(root: &Path, name: &str) -> anyhow::Result<()> {
    let path = root.join(name);
    let target = Path::new("current").join(name);
    if fs::read_link(&path).is_ok_and(|t| t == target) {
        return Ok(());
    }
    let tmp = root.join(".link.tmp");
    let _ = fs::remove_file(&tmp);
    symlink(&target, &tmp)?;
    let meta = fs::symlink_metadata(&path);
    if meta.as_ref().is_ok_and(|m| m.is_dir()) {
        // A folder cannot be replaced by a rename: move it aside first.
        let aside = root.join(format!(".{name}.old-{}", std::process::id()));
        fs::rename(&path, &aside).with_context(|| format!("moving aside {}", path.display()))?;
        fs::rename(&tmp, &path).with_context(|| format!("linking {}", path.display()))?;
        let _ = fs::remove_dir_all(&aside);
    } else {
        fs::rename(&tmp, &path).with_context(|| format!("linking {}", path.display()))?;
    }
    Ok(())
}

fn prune(store: &Store, current: u64, keep_old: usize) {
    let Ok(all) = store.versions() else { return };
    let mut old: Vec<u64> = all.into_iter().map(|v| v.0).filter(|&n| n < current).collect();
    old.sort_unstable_by(|a, b| b.cmp(a));
    for n in old.into_iter().skip(keep_old) {
        // Best effort: a version that cannot be removed now is removed by a later run.
        let _ = fs::remove_dir_all(store.versions_dir().join(store.kind.version_name(n)));
    }
}

fn is_empty_or_missing(dir: &Path) -> anyhow::Result<bool> {
    match fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => bail!("{} exists and is not a folder", dir.display()),
        Err(e) => Err(e).with_context(|| format!("listing {}", dir.display())),
    }
}

// ---------------------------------------------------------------- archive

/// An append-only archive of keyed entries (the feed archive, `LAKE/feeds/`):
///
/// ```text
/// ROOT/.noshow                      marker (kind)
/// ROOT/.lock                        held by the one process writing
/// ROOT/2026-11-16/feed.parquet      one entry per key
/// ROOT/.tmp-2026-11-16-PID          an entry being written
/// ```
///
/// An entry is written whole beside its place, synced, and renamed into it: a reader
/// (`ROOT/**/*.parquet`) sees the entry before or after, never part of one, and a kill
/// leaves only the temp file, which the next writer removes. Entries are never
/// rewritten, except by a put of the same key, which replaces it in that one rename
/// (a re-run of the same day). The archive lives apart from any store's versions, so
/// re-ingests and pruning never touch it.
#[derive(Debug, Clone)]
pub struct Archive {
    root: PathBuf,
    kind: &'static str,
    file_name: &'static str,
}

impl Archive {
    pub fn new(root: impl Into<PathBuf>, kind: &'static str, file_name: &'static str) -> Archive {
        Archive { root: root.into(), kind, file_name }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every entry's file, by key (sorted).
    pub fn entries(&self) -> anyhow::Result<Vec<(String, PathBuf)>> {
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("listing {}", self.root.display())),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("listing {}", self.root.display()))?;
            let key = entry.file_name().to_string_lossy().into_owned();
            let file = entry.path().join(self.file_name);
            if !key.starts_with('.') && file.is_file() {
                out.push((key, file));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Takes the archive's lock (claiming the folder) and removes killed writers' temps.
    pub fn lock(&self) -> anyhow::Result<StoreLock> {
        match fs::read_to_string(self.root.join(MARKER)) {
            Ok(text) => {
                let marker: Marker = serde_json::from_str(&text).with_context(|| format!("reading {}", self.root.join(MARKER).display()))?;
                if marker.kind != self.kind {
                    bail!("{} is a noshow {} folder, not a {}: refusing to write into it", self.root.display(), marker.kind, self.kind);
                }
            }
            Err(_) if is_empty_or_missing(&self.root)? => {}
            Err(_) => bail!(
                "{} exists and was not made by noshow (no {MARKER} marker): refusing to write a {} into it",
                self.root.display(),
                self.kind
            ),
        }
        let file = try_lock_exclusive(&self.root, ".lock", |lock| {
            format!("another noshow run is writing {} (lock {} is held); try again when it has finished", self.root.display(), lock.display())
        })?;
        if !self.root.join(MARKER).exists() {
            let marker = Marker { kind: self.kind.to_string(), next_version: 0 };
            write_file_atomically(&self.root.join(MARKER), &serde_json::to_vec_pretty(&marker)?)?;
        }
        for entry in fs::read_dir(&self.root).with_context(|| format!("listing {}", self.root.display()))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".tmp-") || name.starts_with(&format!("{MARKER}.tmp-")) {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(StoreLock { _file: file })
    }

    /// Writes the entry `key` with `write` (given the temp path to write) and puts it in
    /// place in one rename, under the lock.
    pub fn put(&self, _lock: &StoreLock, key: &str, write: impl FnOnce(&Path) -> anyhow::Result<()>) -> anyhow::Result<PathBuf> {
        if key.is_empty() || key.starts_with('.') || key.contains(['/', '\\']) {
            bail!("archive key {key:?} is not a plain name");
        }
        let tmp = self.root.join(format!(".tmp-{key}-{}", std::process::id()));
        let written = write(&tmp).and_then(|()| {
            File::open(&tmp).and_then(|f| f.sync_all()).with_context(|| format!("syncing {}", tmp.display()))
        });
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        let dir = self.root.join(key);
        create_private_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let dest = dir.join(self.file_name);
        fs::rename(&tmp, &dest).with_context(|| format!("moving {} to {}", tmp.display(), dest.display()))?;
        sync_dir(&dir)?;
        sync_dir(&self.root)?;
        Ok(dest)
    }
}

/// Who may read a published folder besides its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sharing {
    /// Owner only (0700 folders, 0600 files): the default.
    #[default]
    Owner,
    /// The owner's group may read (0750 / 0640); never the world.
    Group,
}

/// A folder being written, invisible at its destination until [`OutputDir::publish`].
#[derive(Debug)]
pub struct OutputDir {
    tmp: PathBuf,
    dest: PathBuf,
    kind: &'static str,
    sharing: Sharing,
    published: bool,
    _lock: File,
}

impl OutputDir {
    /// Starts a private staging folder beside `dest`, after checking that `dest` may be
    /// replaced (new, empty, or published by noshow as the same `kind`) and is neither
    /// inside nor around any of `protected` (the lake, the model folder), and taking
    /// the destination's lock.
    pub fn begin(dest: &Path, kind: &'static str, protected: &[&Path], sharing: Sharing) -> anyhow::Result<OutputDir> {
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .with_context(|| format!("output folder {} has no name", dest.display()))?
            .to_string_lossy()
            .into_owned();
        check_apart(dest, protected)?;
        check_replaceable(dest, kind)?;
        let parent_existed = parent.exists();
        create_private_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
        #[cfg(unix)]
        if sharing == Sharing::Group && !parent_existed {
            // A folder made here for a shared output must let the group reach it.
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&parent, fs::Permissions::from_mode(0o750))
                .with_context(|| format!("setting the mode of {}", parent.display()))?;
        }
        let lock = try_lock_exclusive(&parent, &format!(".{name}.lock"), |lock| {
            format!(
                "another noshow run is writing {} (lock {} is held); try again when it has finished",
                dest.display(),
                lock.display()
            )
        })?;
        // Under the lock, what other runs left for this destination is a killed run's.
        if let Ok(entries) = fs::read_dir(&parent) {
            for entry in entries.flatten() {
                let n = entry.file_name().to_string_lossy().into_owned();
                if n.starts_with(&format!(".{name}.tmp-")) || n.starts_with(&format!(".{name}.old-")) {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        create_private_dir_all(&tmp).with_context(|| format!("creating {} (is the output folder writable?)", tmp.display()))?;
        let marker = Marker { kind: kind.to_string(), next_version: 0 };
        write_file(&tmp.join(MARKER), &serde_json::to_vec_pretty(&marker)?)?;
        Ok(OutputDir { tmp, dest: dest.to_path_buf(), kind, sharing, published: false, _lock: lock })
    }

    /// Where files go before publishing.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// The final destination.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Syncs the staged folder and swaps it into place atomically.
    pub fn publish(mut self) -> anyhow::Result<PathBuf> {
        if self.sharing == Sharing::Group {
            share_with_group(&self.tmp)?;
        }
        sync_tree(&self.tmp)?;
        // Checked again under the lock: the destination may have appeared meanwhile.
        check_replaceable(&self.dest, self.kind)?;
        swap_into_place(&self.tmp, &self.dest)?;
        self.published = true;
        Ok(self.dest.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.published {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// The folder as a full path, resolving what exists of it (`..`, symlinks).
fn resolved(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    let mut head = absolute.clone();
    let mut tail = Vec::new();
    loop {
        if let Ok(c) = fs::canonicalize(&head) {
            let mut out = c;
            for part in tail.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (head.file_name().map(|n| n.to_os_string()), head.parent()) {
            (Some(n), Some(p)) => {
                tail.push(n);
                head = p.to_path_buf();
            }
            _ => return absolute,
        }
    }
}

/// Refuses an output folder equal to, inside, or holding a store.
fn check_apart(dest: &Path, protected: &[&Path]) -> anyhow::Result<()> {
    let d = resolved(dest);
    for p in protected {
        let p = resolved(p);
        if d.starts_with(&p) || p.starts_with(&d) {
            bail!(
                "output folder {} is {} {}: replacing it would destroy data; choose a folder apart from the lake and \
                 the model folder",
                dest.display(),
                if d == p {
                    "the same folder as"
                } else if d.starts_with(&p) {
                    "inside"
                } else {
                    "a folder that holds"
                },
                p.display()
            );
        }
    }
    Ok(())
}

/// A destination may be replaced when it is missing, empty, or noshow's own output of
/// this kind (its marker; or, for folders published before markers, noshow's
/// `summary.json`).
fn check_replaceable(dest: &Path, kind: &str) -> anyhow::Result<()> {
    let meta = match fs::symlink_metadata(dest) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("checking {}", dest.display())),
    };
    if !meta.is_dir() {
        bail!("{} exists and is not a folder: refusing to replace it", dest.display());
    }
    if is_empty_or_missing(dest)? {
        return Ok(());
    }
    if let Ok(text) = fs::read_to_string(dest.join(MARKER)) {
        let marker: Option<Marker> = serde_json::from_str(&text).ok();
        return match marker {
            Some(m) if m.kind == kind => Ok(()),
            Some(m) => bail!(
                "{} holds a noshow {} folder, not a {kind}: refusing to replace it (check --out)",
                dest.display(),
                m.kind
            ),
            None => bail!("{}: its {MARKER} marker is unreadable; refusing to replace the folder", dest.display()),
        };
    }
    let legacy = fs::read_to_string(dest.join("summary.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v.get("noshow_version").is_some() || v.pointer("/lineage/noshow_version").is_some());
    if legacy {
        return Ok(());
    }
    bail!(
        "{} exists, is not empty and was not written by noshow (no {MARKER} marker): refusing to replace it. Give a new \
         or empty folder as --out",
        dest.display()
    )
}

/// Moves `staged` to `dest`: an atomic exchange when `dest` exists (Linux
/// `renameat2(RENAME_EXCHANGE)`), a plain rename otherwise; the old folder is removed.
fn swap_into_place(staged: &Path, dest: &Path) -> anyhow::Result<()> {
    if fs::symlink_metadata(dest).is_err() {
        return fs::rename(staged, dest).with_context(|| format!("moving output into {}", dest.display()));
    }
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let a = CString::new(staged.as_os_str().as_bytes())?;
        let b = CString::new(dest.as_os_str().as_bytes())?;
        // SAFETY: both paths are valid NUL-terminated strings that live across the call.
        let rc = unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
        if rc == 0 {
            // `staged` now holds the old folder.
            let _ = fs::remove_dir_all(staged);
            return Ok(());
        }
    }
    // Fallback: two renames; a kill between them leaves the old folder under `.old-`.
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let old = dest.with_file_name(format!(".{name}.old-{}", std::process::id()));
    fs::rename(dest, &old).with_context(|| format!("moving aside {}", dest.display()))?;
    fs::rename(staged, dest).with_context(|| format!("moving output into {}", dest.display()))?;
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

/// 0750 folders and 0640 files below (and including) `dir`.
fn share_with_group(dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o750)).with_context(|| format!("setting the mode of {}", dir.display()))?;
        for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                share_with_group(&path)?;
            } else {
                fs::set_permissions(&path, fs::Permissions::from_mode(0o640))
                    .with_context(|| format!("setting the mode of {}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// Creates a folder (and its parents) readable by the owner only.
pub fn create_private_dir_all(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir)
    }
}

/// Creates `dir` (owner-only) and takes an exclusive advisory lock on `dir/name`,
/// refusing at once with `busy(lock path)` when another process holds it. The lock is
/// released when the returned file is dropped (or the process dies).
pub fn try_lock_exclusive(dir: &Path, name: &str, busy: impl FnOnce(&Path) -> String) -> anyhow::Result<File> {
    create_private_dir_all(dir).with_context(|| format!("creating folder {}", dir.display()))?;
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

/// Writes a file and syncs it.
pub fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).with_context(|| format!("writing {}", path.display()))
}

/// Writes a file so that it appears whole or not at all.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    write_file(&tmp, bytes)?;
    fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

#[cfg(unix)]
pub fn symlink(target: impl AsRef<Path>, link: &Path) -> anyhow::Result<()> {
    std::os::unix::fs::symlink(target.as_ref(), link)
        .with_context(|| format!("creating symlink {} -> {}", link.display(), target.as_ref().display()))
}

#[cfg(not(unix))]
pub fn symlink(_target: impl AsRef<Path>, _link: &Path) -> anyhow::Result<()> {
    bail!("noshow's atomic version switch needs symbolic links (Unix)")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(store: &Store, keep: usize) -> Version {
        let lock = store.lock(|_| "busy".into()).unwrap();
        let staged = store.begin(&lock).unwrap();
        write_file(&staged.dir().join(store.kind.main_file()), b"{}").unwrap();
        staged.commit(keep, &[]).unwrap()
    }

    /// A store of `kind` under a fresh temporary folder with `versions` committed.
    fn store_with(kind: Kind, versions: usize) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join(if kind == Kind::Lake { "lake" } else { "m" }), kind);
        for _ in 0..versions {
            commit(&store, 5);
        }
        (dir, store)
    }

    #[test]
    fn a_missing_current_link_keeps_every_version_and_numbers_go_on() {
        let (_dir, store) = store_with(Kind::Lake, 3);
        fs::remove_file(store.root().join("current")).unwrap();
        assert_eq!(store.current().unwrap().unwrap().number, 3);
        let v = commit(&store, 5);
        assert_eq!(v.number, 4);
        assert_eq!(store.versions().unwrap().len(), 4);
    }

    #[test]
    fn a_dangling_current_is_repaired_not_treated_as_empty() {
        let (_dir, store) = store_with(Kind::Model, 2);
        fs::remove_file(store.root().join("current")).unwrap();
        symlink("versions/0000", &store.root().join("current")).unwrap();
        let _lock = store.lock(|_| "busy".into()).unwrap();
        assert_eq!(store.linked().unwrap().unwrap().number, 2);
        assert_eq!(store.versions().unwrap().len(), 2);
    }

    #[test]
    fn numbers_are_not_reused_after_versions_are_deleted_by_hand() {
        let (_dir, store) = store_with(Kind::Model, 2);
        fs::remove_dir_all(store.root().join("versions")).unwrap();
        fs::remove_file(store.root().join("current")).unwrap();
        assert_eq!(commit(&store, 5).number, 3);
    }

    #[test]
    fn a_rollback_by_hand_keeps_the_newer_versions() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("lake"), Kind::Lake);
        for _ in 0..3 {
            commit(&store, 5);
        }
        fs::remove_file(store.root().join("current")).unwrap();
        symlink("versions/000001", &store.root().join("current")).unwrap();
        let v = commit(&store, 5);
        assert_eq!(v.number, 4);
        let numbers: Vec<u64> = store.versions().unwrap().iter().map(|v| v.0).collect();
        assert_eq!(numbers, vec![1, 2, 3, 4]);
    }

    #[test]
    fn an_uncommitted_version_is_removed_and_pruning_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("lake"), Kind::Lake);
        commit(&store, 1);
        // A writer killed after its rename, before its switch.
        let leftover = store.versions_dir().join("000002");
        fs::create_dir_all(&leftover).unwrap();
        write_file(&leftover.join("manifest.json"), b"{}").unwrap();
        commit(&store, 1);
        commit(&store, 1);
        let numbers: Vec<u64> = store.versions().unwrap().iter().map(|v| v.0).collect();
        assert_eq!(numbers, vec![2, 3]);
    }

    #[test]
    fn a_candidate_is_never_current_keeps_its_number_and_survives_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("m"), Kind::Model);
        commit(&store, 5);
        let keep = |store: &Store| {
            let lock = store.lock(|_| "busy".into()).unwrap();
            let staged = store.begin(&lock).unwrap();
            write_file(&staged.dir().join("model.json"), b"{}").unwrap();
            staged.keep_as_candidate(2).unwrap()
        };
        let c = keep(&store);
        assert_eq!(c.number, 2);
        assert_eq!(store.current().unwrap().unwrap().number, 1);
        // A missing `current` is restored to the committed version, not the candidate.
        fs::remove_file(store.root().join("current")).unwrap();
        assert_eq!(store.current().unwrap().unwrap().number, 1);
        assert_eq!(commit(&store, 5).number, 3);
        assert!(c.dir.join("model.json").is_file(), "recovery removed the candidate");
        // Numbers go on past candidates; only the newest two are kept.
        assert_eq!(keep(&store).number, 4);
        assert_eq!(keep(&store).number, 5);
        let kept: Vec<u64> = store.candidates().unwrap().iter().map(|v| v.number).collect();
        assert_eq!(kept, vec![4, 5]);
        // A candidate renamed by a writer killed before its marker update is removed.
        let stray = store.candidates_dir().join("0009");
        fs::create_dir_all(&stray).unwrap();
        write_file(&stray.join("model.json"), b"{}").unwrap();
        drop(store.lock(|_| "busy".into()).unwrap());
        assert!(!stray.exists());
        assert_eq!(commit(&store, 5).number, 6);
    }

    #[test]
    fn foreign_folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        fs::create_dir_all(home.join(".ssh")).unwrap();
        let err = Store::new(&home, Kind::Lake).lock(|_| "busy".into()).unwrap_err();
        assert!(format!("{err:#}").contains("not made by noshow"), "{err:#}");
        let err = OutputDir::begin(&home, "report", &[], Sharing::Owner).unwrap_err();
        assert!(format!("{err:#}").contains("not written by noshow"), "{err:#}");
        assert!(home.join(".ssh").is_dir());

        let lake = Store::new(dir.path().join("lake"), Kind::Lake);
        commit(&lake, 1);
        let err = Store::new(lake.root(), Kind::Model).lock(|_| "busy".into()).unwrap_err();
        assert!(format!("{err:#}").contains("not a model folder"), "{err:#}");
        for out in [lake.root().to_path_buf(), lake.root().join("report"), dir.path().to_path_buf()] {
            let err = OutputDir::begin(&out, "report", &[lake.root()], Sharing::Owner).unwrap_err();
            assert!(format!("{err:#}").contains("would destroy data"), "{err:#}");
        }
    }

    #[test]
    fn a_published_folder_can_be_replaced_and_its_writers_exclude_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out").join("report");
        let first = OutputDir::begin(&dest, "report", &[], Sharing::Owner).unwrap();
        assert!(OutputDir::begin(&dest, "report", &[], Sharing::Owner).is_err());
        write_file(&first.path().join("a.csv"), b"x").unwrap();
        first.publish().unwrap();
        let second = OutputDir::begin(&dest, "report", &[], Sharing::Owner).unwrap();
        write_file(&second.path().join("b.csv"), b"y").unwrap();
        second.publish().unwrap();
        assert!(dest.join("b.csv").is_file() && !dest.join("a.csv").exists());
        assert!(OutputDir::begin(&dest, "feed", &[], Sharing::Owner).is_err());
    }
}
