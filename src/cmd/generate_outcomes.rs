//! `noshow generate --outcomes-for FEED`: plays the reminder system. Reads published
//! feeds and the interviews they scored from the lake, and writes those interviews'
//! outcomes, with a known effect of the help, as a later export in --out
//! (`interviews-outcomes-DATE.csv`, `events-outcomes-DATE.jsonl`) and their ground
//! truth in --truth (`outcomes-DATE.csv`). The rule is in [`crate::generate::outcomes`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use polars::prelude::*;

use crate::config::Common;
use crate::generate::outcomes::{self, FeedRow, LakeInterview, OutcomeSettings, TrueRisk};
use crate::lake::Lake;
use crate::time::{format_utc, Micros};
use crate::{info, usage_error};

/// The flags of the outcomes mode (flattened into `noshow generate`).
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Playing the reminder system (--outcomes-for)")]
pub struct OutcomeArgs {
    /// Instead of synthetic logs: write the outcomes of the interviews these published
    /// feeds scored (a feed folder, its scores.parquet, or an archive entry
    /// LAKE/feeds/DATE/feed.parquet; repeat for several days) as a later export in
    /// --out, dated --as-of (slots at or after it stay open). Needs --lake. Their
    /// ground truth goes to --truth/outcomes-DATE.csv; the base miss probability is the
    /// generator's truth (--truth/truth_interviews.csv) when there is one, else the
    /// feed's p_not_attend. --interviews, --bad-rows, --gzip and --threads do not apply.
    #[arg(long, value_name = "FEED")]
    pub outcomes_for: Vec<PathBuf>,
    /// The lake holding the interviews the feeds scored (their fields are copied).
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// Share of the miss probability the help removes for helped interviews of
    /// --help-bands (0.3: 30 % fewer misses); held-out interviews get no change.
    #[arg(long, value_name = "SHARE", default_value_t = 0.3)]
    pub help_effect: f64,
    /// Risk bands (by each interview's last feed before its slot) whose helped
    /// interviews get the effect, comma-separated.
    #[arg(long, value_name = "BANDS", value_delimiter = ',', default_value = "high")]
    pub help_bands: Vec<String>,
}

/// Runs the outcomes mode; `out`, `truth`, `seed`, `force` are `generate`'s own flags.
pub fn run(args: &OutcomeArgs, common: &Common, out: &Path, truth: &Path, seed: u64, force: bool) -> anyhow::Result<()> {
    let lake = args.lake.clone().ok_or_else(|| usage_error("--outcomes-for needs --lake (the lake the feeds were scored on)"))?;
    if !(args.help_effect.is_finite() && (0.0..=1.0).contains(&args.help_effect)) {
        return Err(usage_error(format!("--help-effect must be between 0 and 1, not {}", args.help_effect)));
    }
    for b in &args.help_bands {
        if !["high", "medium", "low"].contains(&b.as_str()) {
            return Err(usage_error(format!("--help-bands: {b:?} is not a risk band (high, medium, low)")));
        }
    }
    let mut rows = Vec::new();
    for feed in &args.outcomes_for {
        rows.extend(read_feed(feed)?);
    }
    let ids: Vec<String> = {
        let mut ids: Vec<String> = rows.iter().map(|r| r.interview_id.clone()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let interviews = read_interviews(&lake, &ids)?;
    let slots: HashMap<String, Micros> = interviews.iter().map(|(id, iv)| (id.clone(), iv.scheduled_at)).collect();
    let truth_file = truth.join("truth_interviews.csv");
    let risks = if truth_file.is_file() { Some(read_truth(&truth_file)?) } else { None };
    let settings = OutcomeSettings { seed, effect: args.help_effect, bands: args.help_bands.clone(), export_at: common.as_of };
    let last = outcomes::last_before_slot(&rows, &slots);
    let (mut written, mut open) = (Vec::new(), 0usize);
    for row in &last {
        let Some(iv) = interviews.get(&row.interview_id) else { continue };
        if iv.scheduled_at >= common.as_of {
            open += 1;
            continue;
        }
        let risk = risks.as_ref().and_then(|r| r.get(&row.interview_id).copied());
        written.push((iv, outcomes::outcome(row, risk, &settings)));
    }
    let date = format_utc(common.as_of)[..10].to_string();
    let names = [
        out.join(format!("interviews-outcomes-{date}.csv")),
        out.join(format!("events-outcomes-{date}.jsonl")),
        truth.join(format!("outcomes-{date}.csv")),
    ];
    for name in &names {
        if name.exists() && !force {
            return Err(usage_error(format!("{} already exists; pass --force to replace it", name.display())));
        }
    }
    let ivs: Vec<&LakeInterview> = written.iter().map(|w| w.0).collect();
    let outs: Vec<&outcomes::Outcome> = written.iter().map(|w| &w.1).collect();
    let (csv, jsonl) = outcomes::export(&ivs, &outs, common.as_of);
    for (dir, what) in [(out, "--out"), (truth, "--truth")] {
        crate::store::create_private_dir_all(dir).with_context(|| format!("creating {what} {}", dir.display()))?;
    }
    crate::store::write_file_atomically(&names[0], csv.as_bytes())?;
    crate::store::write_file_atomically(&names[1], jsonl.as_bytes())?;
    crate::store::write_file_atomically(&names[2], outcomes::truth_csv(&outs).as_bytes())?;
    let helped = outs.iter().filter(|o| o.helped).count();
    info!(
        "generate: outcomes of {} interviews from {} feed rows ({} helped with effect {} in bands {}; {} with a slot at or \
         after {} left open; base probability from {}) in {}; ground truth in {}",
        outs.len(),
        rows.len(),
        helped,
        args.help_effect,
        args.help_bands.join(","),
        open,
        format_utc(common.as_of),
        if risks.is_some() { truth_file.display().to_string() } else { "the feeds".to_string() },
        names[0].display(),
        names[2].display()
    );
    Ok(())
}

/// A feed's rows: a feed folder (its scores.parquet), or a Parquet file of a feed
/// (with `as_of` as an archive entry has it, else from the summary.json beside it).
fn read_feed(path: &Path) -> anyhow::Result<Vec<FeedRow>> {
    let file = if path.is_dir() { path.join("scores.parquet") } else { path.to_path_buf() };
    let df = crate::lake::scan_parquet(std::slice::from_ref(&file))
        .and_then(|lf| lf.collect())
        .map_err(anyhow::Error::from)
        .with_context(|| format!("reading the feed {}", file.display()))?;
    let as_of: Vec<Micros> = if df.column("as_of").is_ok() {
        df.column("as_of")?.cast(&DataType::Int64)?.i64()?.iter().map(|v| v.unwrap_or(i64::MIN)).collect()
    } else {
        let summary = file.with_file_name("summary.json");
        let text = std::fs::read_to_string(&summary)
            .with_context(|| format!("{} has no as_of column, and reading {} for it failed", file.display(), summary.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("reading {}", summary.display()))?;
        let t = value["as_of"].as_str().ok_or_else(|| anyhow::anyhow!("{} has no \"as_of\"", summary.display()))?;
        let t = crate::time::parse_timestamp(t, chrono_tz::UTC).map_err(|e| anyhow::anyhow!("{}: as_of {t:?}: {e}", summary.display()))?;
        vec![t; df.height()]
    };
    let text = |name: &str| -> anyhow::Result<Vec<String>> {
        Ok(df.column(name).map_err(anyhow::Error::from).with_context(|| format!("the feed {} has no column {name}", file.display()))?.str()?.iter().map(|v| v.unwrap_or("").to_string()).collect())
    };
    let (ids, bands, actions, arms) = (text("interview_id")?, text("risk_band")?, text("suggested_action")?, text("arm")?);
    let p = df.column("p_not_attend").map_err(anyhow::Error::from).with_context(|| format!("the feed {} has no column p_not_attend", file.display()))?.f64()?.clone();
    Ok((0..df.height())
        .map(|i| FeedRow {
            interview_id: ids[i].clone(),
            as_of: as_of[i],
            risk_band: bands[i].clone(),
            suggested_action: actions[i].clone(),
            holdout: arms[i] == "holdout",
            p_not_attend: p.get(i).unwrap_or(0.0),
        })
        .collect())
}

/// The lake's rows of `ids`, by id.
fn read_interviews(lake: &Path, ids: &[String]) -> anyhow::Result<HashMap<String, LakeInterview>> {
    let snapshot = Lake::new(lake).snapshot()?;
    let wanted = Series::new("wanted".into(), ids);
    let df = snapshot
        .scan_interviews()?
        .filter(col("interview_id").is_in(lit(wanted).implode(false), false))
        .collect()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("reading the scored interviews from the lake {}", lake.display()))?;
    const FIELDS: [&str; 7] = ["candidate_id", "role", "region", "education", "fresh_graduate", "source", "preferred_channel"];
    let text = |name: &str| -> anyhow::Result<Vec<String>> {
        let c = df.column(name)?.cast(&DataType::String)?;
        Ok(c.str()?.iter().map(|v| v.unwrap_or("").to_string()).collect())
    };
    let micros = |name: &str| -> anyhow::Result<Vec<Option<i64>>> { Ok(df.column(name)?.cast(&DataType::Int64)?.i64()?.iter().collect()) };
    let id = text("interview_id")?;
    let fields: Vec<Vec<String>> = FIELDS.iter().map(|f| text(f)).collect::<anyhow::Result<_>>()?;
    let (invited, scheduled) = (micros("invited_at")?, micros("scheduled_at")?);
    let cost = df.column("cost")?.cast(&DataType::Float64)?.f64()?.clone();
    let mut out = HashMap::new();
    for i in 0..df.height() {
        let (Some(invited_at), Some(scheduled_at)) = (invited[i], scheduled[i]) else { continue };
        let row_fields: [String; 7] = std::array::from_fn(|k| fields[k][i].clone());
        out.insert(id[i].clone(), LakeInterview { interview_id: id[i].clone(), fields: row_fields, invited_at, scheduled_at, cost: cost.get(i) });
    }
    Ok(out)
}

/// `truth_interviews.csv`: each interview's true miss probability and its split.
fn read_truth(path: &Path) -> anyhow::Result<HashMap<String, TrueRisk>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("opening {}", path.display()))?;
    let headers = reader.headers().with_context(|| format!("reading {}", path.display()))?.clone();
    let at = |name: &str| headers.iter().position(|h| h == name).ok_or_else(|| anyhow::anyhow!("{} has no column {name}", path.display()));
    let (id, p, p_ns, p_cc) = (at("interview_id")?, at("p_not_attend")?, at("p_no_show")?, at("p_cancel_candidate")?);
    let mut out = HashMap::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("reading {} at record {}", path.display(), line + 1))?;
        let num = |k: usize| -> anyhow::Result<f64> {
            record.get(k).unwrap_or("").parse::<f64>().with_context(|| format!("{} record {}: not a number", path.display(), line + 1))
        };
        let (p, ns, cc) = (num(p)?, num(p_ns)?, num(p_cc)?);
        let share = if ns + cc > 0.0 { ns / (ns + cc) } else { 2.0 / 3.0 };
        out.insert(record.get(id).unwrap_or("").to_string(), TrueRisk { p_not_attend: p, no_show_share: share });
    }
    Ok(out)
}
