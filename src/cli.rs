//! The command line: global flags every command takes, the subcommands, and dispatch.
//! Each subcommand's own flags live with it in `cmd/<name>.rs`.

use clap::{Parser, Subcommand};

use crate::cmd;
pub use crate::flags::GlobalArgs;

/// noshow: AI-interview no-show analytics, risk model and reminder scoring feed.
#[derive(Debug, Parser)]
#[command(name = "noshow", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
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
