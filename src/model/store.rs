//! The model folder: every model kept under `versions/NNNN/` (model.json and its
//! evaluation tables); `current` points to one of them, and `model.json` and
//! `evaluation/` at the top are fixed links through `current`. A version is staged
//! whole and renamed into place, then `current` is swapped in one rename, under a
//! lock: a reader (or a run killed at any point) sees the old model with its
//! evaluation or the new one with its own, never a mix.
//!
//! ```text
//! MODEL/current -> versions/0003     (symlink, swapped atomically by rename)
//! MODEL/model.json -> current/model.json
//! MODEL/evaluation -> current/evaluation
//! MODEL/versions/0003/{model.json, evaluation/…}
//! MODEL/.lock
//! ```

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use polars::prelude::DataFrame;

use super::file::ModelFile;
use crate::export::{self, OutputDir};

/// Evaluation tables written beside each model: (name, table).
pub type Tables = Vec<(&'static str, DataFrame)>;

fn versions_dir(dir: &Path) -> PathBuf {
    dir.join("versions")
}

/// Reads and validates `MODEL/model.json` for scoring.
pub fn load_current(dir: &Path) -> anyhow::Result<ModelFile> {
    let path = dir.join("model.json");
    let text = fs::read_to_string(&path)
        .with_context(|| format!("reading {} (train a model first with `noshow train`)", path.display()))?;
    ModelFile::from_json(&text).with_context(|| format!("refusing model {}", path.display()))
}

/// The current model if there is a valid one (for comparisons); problems are reported
/// as `Err` text so the caller can warn and go on.
pub fn previous(dir: &Path) -> Option<Result<ModelFile, String>> {
    let path = dir.join("model.json");
    if !path.exists() {
        return None;
    }
    Some(load_current(dir).map_err(|e| format!("{e:#}")))
}

fn next_version(dir: &Path) -> anyhow::Result<u32> {
    let versions = versions_dir(dir);
    let mut highest = 0;
    if let Ok(entries) = fs::read_dir(&versions) {
        for entry in entries.flatten() {
            if let Ok(n) = entry.file_name().to_string_lossy().parse::<u32>() {
                highest = highest.max(n);
            }
        }
    }
    Ok(highest + 1)
}

fn lock(dir: &Path) -> anyhow::Result<File> {
    crate::lake::try_lock_exclusive(dir, ".lock", |lock| {
        format!("another `noshow train` is writing the model folder {} (lock {} is held)", dir.display(), lock.display())
    })
}

/// Whether two models are the same fit (ignoring their version and creation time).
pub fn same_fit(a: &ModelFile, b: &ModelFile) -> bool {
    let strip = |m: &ModelFile| {
        let mut m = m.clone();
        m.version.clear();
        m.created_at.clear();
        m.content_sha256.clear();
        serde_json::to_value(&m).map(|v| super::file::canonical_json(&v)).unwrap_or_default()
    };
    strip(a) == strip(b)
}

/// Saves `model` as the next version and makes it current; returns its version. When
/// the current model is the same fit (a re-run on the same lake), nothing is written
/// and the current version is returned, so re-runs are idempotent.
pub fn save(dir: &Path, mut model: ModelFile, tables: &mut Tables, keep_versions: usize) -> anyhow::Result<(String, bool)> {
    let _lock = lock(dir)?;
    clear_uncommitted(dir)?;
    if let Some(Ok(current)) = previous(dir) {
        if same_fit(&current, &model) {
            link_current(dir)?;
            return Ok((current.version, false));
        }
    }
    let number = next_version(dir)?;
    model.version = format!("{number:04}");
    model.created_at = crate::time::format_utc(crate::time::now());
    let json = model.to_json()?;

    let versions = versions_dir(dir);
    export::create_private_dir_all(&versions).with_context(|| format!("creating {}", versions.display()))?;
    let staged = OutputDir::begin(&versions.join(&model.version))?;
    write_file(&staged.path().join("model.json"), json.as_bytes())?;
    let eval_dir = staged.path().join("evaluation");
    export::create_private_dir_all(&eval_dir)?;
    for (name, df) in tables.iter_mut() {
        export::write_table(&eval_dir, name, df)?;
    }
    staged.publish()?;

    // The one switch readers see.
    let tmp = dir.join(".current.tmp");
    let _ = fs::remove_file(&tmp);
    symlink(&Path::new("versions").join(&model.version), &tmp)?;
    fs::rename(&tmp, dir.join("current")).with_context(|| format!("switching {} to model {}", dir.display(), model.version))?;
    link_current(dir)?;
    crate::lake::sync_dir(dir)?;
    prune(&versions, number, keep_versions);
    Ok((model.version, true))
}

/// The version `current` points to: the `current` link, or (in a folder written before
/// it existed) the version named in a plain model.json.
fn current_number(dir: &Path) -> Option<u32> {
    if let Ok(target) = fs::read_link(dir.join("current")) {
        return target.file_name()?.to_str()?.parse().ok();
    }
    let text = fs::read_to_string(dir.join("model.json")).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("version")?.as_str()?.parse().ok()
}

/// Removes what a train killed before its switch left: versions above the current one
/// (never made current) and temp links, so the next version gets the number the killed
/// run would have used.
fn clear_uncommitted(dir: &Path) -> anyhow::Result<()> {
    let current = current_number(dir).unwrap_or(0);
    if let Ok(entries) = fs::read_dir(versions_dir(dir)) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Numbered above current, or a staging folder (`.NNNN.tmp-PID`).
            if name.starts_with('.') || name.parse::<u32>().is_ok_and(|n| n > current) {
                fs::remove_dir_all(entry.path())
                    .with_context(|| format!("removing {}, left by a train killed before its switch", entry.path().display()))?;
            }
        }
    }
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".model.json.tmp") || name.starts_with(".current.tmp") || name.starts_with(".link.tmp") {
                let _ = fs::remove_file(entry.path());
            } else if name.starts_with(".evaluation.") {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
    Ok(())
}

/// Makes `model.json` and `evaluation` the fixed links through `current` (once per
/// folder; also turns the plain file and folder of the earlier layout into links).
fn link_current(dir: &Path) -> anyhow::Result<()> {
    if fs::symlink_metadata(dir.join("current")).is_err() {
        return Ok(());
    }
    for name in ["model.json", "evaluation"] {
        let path = dir.join(name);
        let target = Path::new("current").join(name);
        if fs::read_link(&path).is_ok_and(|t| t == target) {
            continue;
        }
        let tmp = dir.join(".link.tmp");
        let _ = fs::remove_file(&tmp);
        symlink(&target, &tmp)?;
        if path.is_dir() && !path.is_symlink() {
            // A folder cannot be replaced by a rename: move it aside first.
            let aside = dir.join(format!(".{name}.old-{}", std::process::id()));
            fs::rename(&path, &aside).with_context(|| format!("moving aside {}", path.display()))?;
            fs::rename(&tmp, &path).with_context(|| format!("linking {}", path.display()))?;
            let _ = fs::remove_dir_all(&aside);
        } else {
            fs::rename(&tmp, &path).with_context(|| format!("linking {}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> anyhow::Result<()> {
    std::os::unix::fs::symlink(target, link)
        .with_context(|| format!("creating symlink {} -> {}", link.display(), target.display()))
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> anyhow::Result<()> {
    anyhow::bail!("the model folder's atomic switch needs symbolic links (Unix)")
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).with_context(|| format!("writing {}", path.display()))
}

fn prune(versions: &Path, current: u32, keep: usize) {
    let Ok(entries) = fs::read_dir(versions) else { return };
    let mut all: Vec<u32> = entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()).collect();
    all.sort_unstable_by(|a, b| b.cmp(a));
    for n in all.into_iter().filter(|&n| n != current).skip(keep.saturating_sub(1)) {
        // Best effort: a version that cannot be removed now goes on a later run.
        let _ = fs::remove_dir_all(versions.join(format!("{n:04}")));
    }
}
