//! The command line: global flags every command takes, the subcommands, and dispatch.
//! Each subcommand's own flags live with it in `cmd/<name>.rs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::cmd;

/// noshow: AI-interview no-show analytics, risk model and reminder scoring feed.
#[derive(Debug, Parser)]
#[command(name = "noshow", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write synthetic interview logs in the input format (and their ground truth apart).
    Generate(cmd::generate::Args),
    /// Validate raw logs and merge them into the Parquet lake.
    Ingest(cmd::ingest::Args),
    /// Show how ingest would read each file under --raw (mapping, encoding, rows kept or set aside); writes nothing.
    Inspect(cmd::inspect::Args),
    /// Compute rate tables, funnel, causes and cost from the lake, and the HTML report.
    Report(cmd::report::Args),
    /// Fit the no-show / candidate-cancellation model and evaluate it on the latest weeks.
    Train(cmd::train::Args),
    /// Score upcoming interviews for reminder prioritisation.
    Score(cmd::score::Args),
    /// ingest → train → report → score in one go (the weekly job; --daily: ingest → score).
    Run(cmd::run::Args),
}

/// Runs the chosen command.
pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let global = cli.global;
    match cli.command {
        Command::Generate(args) => cmd::generate::run(&args, &global),
        Command::Ingest(args) => cmd::ingest::run(&args, &global),
        Command::Inspect(args) => cmd::inspect::run(&args, &global),
        Command::Report(args) => cmd::report::run(&args, &global),
        Command::Train(args) => cmd::train::run(&args, &global),
        Command::Score(args) => cmd::score::run(&args, &global),
        Command::Run(args) => cmd::run::run(&args, &global),
    }
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

impl RawFlag {
    /// The flag, else the config's `raw`, else a usage error naming both.
    pub fn resolve(&self, common: &crate::config::Common) -> anyhow::Result<PathBuf> {
        common.path(&self.dir, &common.config.raw, "raw")
    }
}

impl LakeFlag {
    /// The flag, else the config's `lake`, else a usage error naming both.
    pub fn resolve(&self, common: &crate::config::Common) -> anyhow::Result<PathBuf> {
        common.path(&self.dir, &common.config.lake, "lake")
    }
}

impl ModelFlag {
    /// The flag, else the config's `model`, else a usage error naming both.
    pub fn resolve(&self, common: &crate::config::Common) -> anyhow::Result<PathBuf> {
        common.path(&self.dir, &common.config.model, "model")
    }

    /// The flag, else the config's `model`, else none (commands where the model is optional).
    pub fn given(&self, common: &crate::config::Common) -> Option<PathBuf> {
        self.dir.clone().or_else(|| common.config.model.clone())
    }
}

#[cfg(test)]
mod tests {
    /// clap's own checks of the whole command line (unique argument names across
    /// flattened flag groups, defaults that parse, …), which otherwise run only when a
    /// debug build parses.
    #[test]
    fn the_command_line_passes_claps_checks() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
