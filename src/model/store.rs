//! The model folder: every model kept under `versions/NNNN/` (model.json and its
//! evaluation tables), `model.json` and `evaluation/` at the top being the current
//! one. Written atomically (staged folder + rename; model.json via temp file + rename)
//! under a lock, so a reader sees the old model or the new one, never a mix.
//!
//! ```text
//! MODEL/model.json            current model
//! MODEL/evaluation/*.parquet|csv
//! MODEL/versions/0003/{model.json, evaluation/…}
//! MODEL/.lock
//! ```

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
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
    export::create_private_dir_all(dir).with_context(|| format!("creating model folder {}", dir.display()))?;
    let path = dir.join(".lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    if fs2::FileExt::try_lock_exclusive(&file).is_err() {
        bail!("another `noshow train` is writing the model folder {} (lock {} is held)", dir.display(), path.display());
    }
    Ok(file)
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
    if let Some(Ok(current)) = previous(dir) {
        if same_fit(&current, &model) {
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

    // The current evaluation, then the current model.json (the switch readers see).
    let current_eval = OutputDir::begin(&dir.join("evaluation"))?;
    for (name, df) in tables.iter_mut() {
        export::write_table(current_eval.path(), name, df)?;
    }
    current_eval.publish()?;
    let tmp = dir.join(format!(".model.json.tmp-{}", std::process::id()));
    write_file(&tmp, json.as_bytes())?;
    fs::rename(&tmp, dir.join("model.json")).with_context(|| format!("replacing {}", dir.join("model.json").display()))?;
    crate::lake::sync_dir(dir)?;
    prune(&versions, number, keep_versions);
    Ok((model.version, true))
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
