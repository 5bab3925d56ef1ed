//! `noshow generate`: synthetic interview logs in the input format.

use std::path::PathBuf;

use crate::cli::GlobalArgs;

/// Writes `interviews*.csv` and `events*.jsonl` under --out, and the ground truth
/// (true probabilities, effect sizes) under --truth, which no other command reads.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder for the raw logs.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Number of interviews.
    #[arg(long, default_value_t = 5000)]
    pub interviews: u64,
    /// Random seed; the same seed gives the same files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

pub fn run(_args: &Args, _global: &GlobalArgs) -> anyhow::Result<()> {
    Err(anyhow::anyhow!("generate is not built yet"))
}
