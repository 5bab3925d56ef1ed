//! `noshow ingest`: validate raw logs and merge them into a new version of the lake.


use crate::flags::GlobalArgs;
use crate::config::Common;
use crate::ingest::{self, summary, IngestOptions, IngestOutcome};
use crate::{info, usage_error};

/// Earlier lake versions kept besides the current one, unless the config says otherwise.
pub const DEFAULT_KEEP_VERSIONS: usize = 2;

/// Reads every `interviews*.csv` and `events*.jsonl` (and `.gz`) under --raw, sets bad
/// rows aside, deduplicates, and writes a complete new lake version under --lake
/// (Parquet under interviews/, events/, rejected/, plus manifest.json and
/// summary.json), switching to it only when it is whole. Files the lake already holds
/// (same SHA-256) are skipped; with nothing new, the lake is left unchanged.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub raw: crate::flags::RawFlag,
    #[command(flatten)]
    pub lake: crate::flags::LakeFlag,
}

pub fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<()> {
    let common = Common::resolve(global)?;
    let raw = args.raw.resolve(&common)?;
    let lake = args.lake.resolve(&common)?;
    if raw == lake {
        return Err(usage_error("--raw and --lake must be different folders"));
    }
    let opts = IngestOptions {
        raw,
        lake,
        tz: common.tz,
        tz_given: common.tz_given,
        keep_versions: common.config.ingest.keep_versions.unwrap_or(DEFAULT_KEEP_VERSIONS),
        sources: ingest::mapped::Sources::from_config(&common.config.input.source)?,
        fail_on_empty_file: common.config.ingest.fail_on_empty_file.unwrap_or(false),
        max_event_parts: common.config.ingest.max_event_parts.unwrap_or(ingest::carry::MAX_EVENT_PARTS).max(1),
    };
    match ingest::ingest(&opts)? {
        IngestOutcome::Unchanged { version, skipped } => {
            let at = version.map_or("an empty lake".to_string(), |v| format!("version {v}"));
            info!("lake unchanged ({at}): no new input files under {} ({} already ingested)", opts.raw.display(), skipped.len());
        }
        IngestOutcome::Committed(s) => {
            if !crate::logging::is_quiet() {
                use std::io::Write as _;
                let _ = write!(std::io::stderr().lock(), "{}", summary::render_table(&s));
            }
        }
    }
    Ok(())
}
