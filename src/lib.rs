//! noshow: AI-interview logs → a Parquet lake → no-show rate tables, a calibrated
//! risk model and a daily scoring feed for reminder prioritisation.
//!
//! The folders follow the pipeline: `ingest` (raw logs → `lake`), `analytics` and
//! `report` (lake → tables and HTML), `features` → `model` → `score`, with `export`
//! writing tables others' tools read. Only `ingest`, `lake`, `export` and `cmd`
//! touch the disk.

pub mod cli;
pub mod cmd;
pub mod config;
pub mod derive;
pub mod export;
pub mod flags;
pub mod generate;
pub mod idrows;
pub mod ingest;
pub mod lake;
pub mod logging;
pub mod privacy;
pub mod schema;
pub mod store;
pub mod sys;
pub mod time;
pub mod analytics;
pub mod report;
pub mod features;
pub mod model;
pub mod score;

/// The version of noshow written into every file's metadata and run log.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// An error in what the user typed or configured: exit status 2, not 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Shorthand for a usage error wrapped in `anyhow`.
pub fn usage_error(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}
