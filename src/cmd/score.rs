//! `noshow score`.

use crate::cli::GlobalArgs;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args, _global: &GlobalArgs) -> anyhow::Result<()> {
    Err(anyhow::anyhow!("score is not built yet"))
}
