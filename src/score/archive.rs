//! The feed archive: every published feed is kept, one entry per as-of day, under
//! `LAKE/feeds/<date>/feed.parquet` ([`crate::store::Archive`]: written whole and put
//! in place in one rename, never rewritten but by a re-run of the same day, which
//! replaces that day's entry). `read_parquet('LAKE/feeds/**/*.parquet')` reads it as
//! one table. It holds no candidate id: the interview id joins it to the lake.
//!
//! Beside each feed, `LAKE/feeds/<date>/drift.json` keeps that day's drift (model::drift)
//! through the same put, under the same lock, right after the feed: each file is
//! the old one or the new one, never part of one. The pair is not one step: a kill
//! between the two puts leaves the new feed beside the day's earlier sidecar (or none),
//! and the next run of that day replaces both.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use polars::prelude::*;

use crate::store::Archive;
use crate::time::Micros;

/// The archive's columns, in order.
pub const COLUMNS: &[&str] = &[
    "as_of", "as_of_date", "interview_id", "scheduled_at", "p_not_attend", "risk_rank", "risk_band",
    "suggested_action", "arm", "holdout", "model_version", "top_factors",
];

/// The archive of a lake.
pub fn of_lake(lake: &Path) -> Archive {
    Archive::new(lake.join("feeds"), ARCHIVE_KIND, "feed.parquet")
}

const ARCHIVE_KIND: &str = "feed archive";
/// The day's drift beside its feed (JSON, so `feeds/**/*.parquet` stays one table).
pub const DRIFT_FILE: &str = "drift.json";

/// The drift sidecars of a lake's feed archive: the same folder, marker and lock as
/// [`of_lake`] (put them under the feed archive's lock), one `drift.json` per day.
pub fn drift_of_lake(lake: &Path) -> Archive {
    Archive::new(lake.join("feeds"), ARCHIVE_KIND, DRIFT_FILE)
}

/// Every day's drift sidecar published before `before` (the report's as-of, as for the
/// feeds), oldest first. A day whose sidecar is missing (a feed archived by an older
/// noshow, or a kill between the feed and its sidecar) is skipped.
pub fn drift_days(lake: &Path, before: Micros) -> anyhow::Result<Vec<crate::model::drift::DriftDay>> {
    let mut days = Vec::new();
    for (_, file) in drift_of_lake(lake).entries()? {
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        let day: crate::model::drift::DriftDay =
            serde_json::from_str(&text).with_context(|| format!("reading the drift sidecar {}", file.display()))?;
        let as_of = crate::time::parse_timestamp(&day.as_of, chrono_tz::UTC)
            .map_err(|e| anyhow::anyhow!("{}: as_of {:?}: {e}", file.display(), day.as_of))?;
        if as_of < before {
            days.push(day);
        }
    }
    Ok(days)
}

/// Every archived feed's file (oldest day first).
pub fn files(archive: &Archive) -> anyhow::Result<Vec<PathBuf>> {
    Ok(archive.entries()?.into_iter().map(|(_, f)| f).collect())
}

/// All archived feeds as one frame, or `None` when nothing was archived yet.
pub fn scan(archive: &Archive) -> anyhow::Result<Option<LazyFrame>> {
    let files = files(archive)?;
    if files.is_empty() {
        return Ok(None);
    }
    let lf = crate::lake::scan_parquet(&files)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("reading the feed archive {}", archive.root().display()))?;
    Ok(Some(lf))
}

/// The arm each of `ids` was given by the earliest archived feed that scored it,
/// among the feeds of days before `today` (today's own entry is the one a re-run
/// replaces, so it is not an earlier draw).
pub fn prior_arms(archive: &Archive, ids: &[String], today: &str) -> anyhow::Result<HashMap<String, bool>> {
    let files: Vec<PathBuf> = archive.entries()?.into_iter().filter(|(key, _)| key.as_str() < today).map(|(_, f)| f).collect();
    if files.is_empty() {
        return Ok(HashMap::new());
    }
    let lf = crate::lake::scan_parquet(&files)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("reading the feed archive {}", archive.root().display()))?;
    let wanted = Series::new("wanted".into(), ids);
    let df = lf
        .filter(col("interview_id").is_in(lit(wanted).implode(false), false))
        .select([col("interview_id"), col("as_of"), col("holdout")])
        .sort(["as_of"], SortMultipleOptions::default())
        .group_by([col("interview_id")])
        .agg([col("holdout").first()])
        .collect()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("reading earlier arms from {}", archive.root().display()))?;
    let id = df.column("interview_id")?.str()?.clone();
    let holdout = df.column("holdout")?.bool()?.clone();
    Ok(id.iter().zip(holdout.iter()).filter_map(|(i, h)| Some((i?.to_string(), h?))).collect())
}

/// The archive entry of a published feed.
pub fn entry(feed: &DataFrame, as_of: Micros, date: &str) -> anyhow::Result<DataFrame> {
    let utc = DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
    let df = feed
        .clone()
        .lazy()
        .with_columns([lit(as_of).cast(utc).alias("as_of"), lit(date.to_string()).alias("as_of_date")])
        .select(COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>())
        .collect()
        .map_err(anyhow::Error::from)
        .context("building the feed's archive entry")?;
    Ok(df)
}
