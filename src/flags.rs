//! Flags shared by several commands: the global ones every command takes and the
//! folder flags (`--raw`, `--lake`, `--model`), each defined once and flattened into
//! the commands that use it, with one rule for resolving it (flag > config file >
//! usage error naming both, in `config::Common`'s impls). Apart from `cli` so the
//! commands and the config can use them without importing the dispatcher.

use std::path::PathBuf;

use clap::Args;

/// Flags every command accepts. A flag overrides the config file, which overrides the default.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Settings file (TOML); see noshow.toml in the repository for every key and its default.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The run's reference instant (RFC 3339, e.g. 2026-03-02T00:00:00Z) [default: now].
    #[arg(long, global = true, value_name = "T")]
    pub as_of: Option<String>,
    /// IANA time zone for naive timestamps and local-time analyses [default: UTC].
    #[arg(long, global = true, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Minutes after the slot start before a still-scheduled interview is closed (the
    /// derived-status rule report, train and score share) [config: grace_minutes; default: 15].
    #[arg(long, global = true, value_name = "MIN")]
    pub grace_minutes: Option<i64>,
    /// Print only warnings and errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}


/// `--raw DIR`, the same flag for every command that reads raw logs.
#[derive(Debug, Clone, Default, Args)]
pub struct RawFlag {
    /// Folder of raw logs or HR exports, searched recursively [config: raw].
    #[arg(id = "raw", long = "raw", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `--lake DIR`, the same flag for every command that reads or writes the lake.
#[derive(Debug, Clone, Default, Args)]
pub struct LakeFlag {
    /// The lake folder [config: lake].
    #[arg(id = "lake", long = "lake", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `--model DIR`, the same flag for every command that reads or writes the model folder.
#[derive(Debug, Clone, Default, Args)]
pub struct ModelFlag {
    /// The model folder [config: model].
    #[arg(id = "model", long = "model", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}
