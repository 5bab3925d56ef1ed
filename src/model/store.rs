//! The model folder: every model kept under `versions/NNNN/` (model.json and its
//! evaluation tables); `current` points to one of them, and `model.json` and
//! `evaluation/` at the top are fixed links through `current`. A version is staged
//! whole and renamed into place, then `current` is swapped in one rename, under a
//! lock: a reader (or a run killed at any point) sees the old model with its
//! evaluation or the new one with its own, never a mix. A model that `train` refused
//! to promote is kept under `candidates/NNNN/` (same files) and never made current.
//!
//! ```text
//! MODEL/current -> versions/0003     (symlink, swapped atomically by rename)
//! MODEL/model.json -> current/model.json
//! MODEL/evaluation -> current/evaluation
//! MODEL/versions/0003/{model.json, evaluation/…}
//! MODEL/candidates/0004/{model.json, evaluation/…}   refused; `current` unchanged
//! MODEL/.lock
//! ```

use std::fs;
use std::path::Path;

use anyhow::Context;
use polars::prelude::DataFrame;

use super::file::ModelFile;
use crate::export;
use crate::store::{self, Kind, Store};

/// Evaluation tables written beside each model: (name, table).
pub type Tables = Vec<(&'static str, DataFrame)>;

/// The folder holding the current model's `model.json` and `evaluation/`: its version
/// folder, or the folder itself in the layout before versions.
pub fn current_dir(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    Ok(match Store::new(dir, Kind::Model).current()? {
        Some(v) => v.dir,
        None => dir.to_path_buf(),
    })
}

/// Reads and validates the current model for scoring.
pub fn load_current(dir: &Path) -> anyhow::Result<ModelFile> {
    let store = Store::new(dir, Kind::Model);
    let path = match store.current()? {
        Some(v) => v.dir.join("model.json"),
        // A folder written before versions existed: a plain model.json.
        None => dir.join("model.json"),
    };
    if !path.exists() {
        if let Some(candidate) = store.candidates().ok().and_then(|c| c.last().cloned()) {
            anyhow::bail!(
                "no current model in {}: `noshow train` kept candidate {} but refused to promote it (its reasons are in                  {}); nothing can be scored until a model passes the checks, or `noshow train --force` promotes one",
                dir.display(),
                Kind::Model.version_name(candidate.number),
                candidate.dir.join("model.json").display()
            );
        }
    }
    let text = fs::read_to_string(&path)
        .with_context(|| format!("reading {} (train a model first with `noshow train`)", path.display()))?;
    ModelFile::from_json(&text).with_context(|| format!("refusing model {}", path.display()))
}

/// The current model if there is a valid one (for comparisons); problems are reported
/// as `Err` text so the caller can warn and go on.
pub fn previous(dir: &Path) -> Option<Result<ModelFile, String>> {
    let store = Store::new(dir, Kind::Model);
    let has_one = matches!(store.current(), Ok(Some(_))) || dir.join("model.json").exists();
    if !has_one {
        return None;
    }
    Some(load_current(dir).map_err(|e| format!("{e:#}")))
}

/// Whether two models are the same fit (ignoring their version and creation time).
pub fn same_fit(a: &ModelFile, b: &ModelFile) -> bool {
    let strip = |m: &ModelFile| {
        let mut m = m.clone();
        m.version.clear();
        m.created_at.clear();
        m.content_sha256.clear();
        // The decision depends on what was current, not on the fit.
        m.promotion = None;
        serde_json::to_value(&m).map(|v| super::file::canonical_json(&v)).unwrap_or_default()
    };
    strip(a) == strip(b)
}

/// The links at the top of the folder, through `current`.
const LINKS: &[&str] = &["model.json", "evaluation"];

/// Saves `model` as the next version and makes it current; returns its version. When
/// the current model is the same fit (a re-run on the same lake), nothing is written
/// and the current version is returned, so re-runs are idempotent.
pub fn save(dir: &Path, model: ModelFile, tables: &mut Tables, keep_versions: usize) -> anyhow::Result<(String, bool)> {
    write(dir, model, tables, keep_versions, true)
}

/// Saves `model` as the next version kept as a candidate, `current` untouched; when the
/// newest candidate is the same fit nothing is written and its version is returned.
pub fn keep_candidate(dir: &Path, model: ModelFile, tables: &mut Tables, keep: usize) -> anyhow::Result<(String, bool)> {
    write(dir, model, tables, keep, false)
}

/// The newest kept candidate, if it is a valid model file.
pub fn newest_candidate(dir: &Path) -> Option<ModelFile> {
    let newest = Store::new(dir, Kind::Model).candidates().ok()?.pop()?;
    ModelFile::from_json(&fs::read_to_string(newest.dir.join("model.json")).ok()?).ok()
}

fn write(dir: &Path, mut model: ModelFile, tables: &mut Tables, keep_versions: usize, promote: bool) -> anyhow::Result<(String, bool)> {
    let store = Store::new(dir, Kind::Model);
    let lock = store.lock(|lock| {
        format!("another `noshow train` is writing the model folder {} (lock {} is held)", dir.display(), lock.display())
    })?;
    let same = if promote {
        previous(dir).and_then(Result::ok)
    } else {
        newest_candidate(dir)
    };
    if let Some(existing) = same.filter(|m| same_fit(m, &model)) {
        return Ok((existing.version, false));
    }
    let staged = store.begin(&lock)?;
    model.version = Kind::Model.version_name(staged.number);
    model.created_at = crate::time::format_utc(crate::time::now());
    let json = model.to_json()?;
    store::write_file(&staged.dir().join("model.json"), json.as_bytes())?;
    let eval_dir = staged.dir().join("evaluation");
    store::create_private_dir_all(&eval_dir).with_context(|| format!("creating {}", eval_dir.display()))?;
    for (name, df) in tables.iter_mut() {
        export::write_table(&eval_dir, name, df)?;
    }
    if promote {
        // `keep_versions` counts the current one.
        staged.commit(keep_versions.saturating_sub(1), LINKS)?;
    } else {
        staged.keep_as_candidate(keep_versions)?;
    }
    Ok((model.version, true))
}
