//! `noshow score`: the daily scoring feed for reminder prioritisation.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use polars::prelude::*;

use crate::flags::GlobalArgs;
use crate::config::Common;
use crate::export::write_table;
use crate::store::OutputDir;
use crate::info;
use crate::lake::Lake;
use crate::model::{file, store};
use crate::model::drift::DriftDay;
use crate::score::{score, ScoreSettings, ACTIONS, RISK_BANDS};
use crate::time::format_utc;
use crate::usage_error;

/// Scores every interview still scheduled with its slot after --as-of and within
/// --window-days, with the current model of --model (refused if edited by hand or
/// from another noshow major version). Writes OUT/scores.{parquet,csv,jsonl} and
/// OUT/summary.json, published atomically: interview_id, candidate_id, scheduled_at,
/// p_not_attend, risk_rank (1 = highest), risk_band, top_factors, suggested_action,
/// holdout, model_version. The feed is for deciding who gets more help, never for
/// rejecting anyone.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub lake: crate::flags::LakeFlag,
    #[command(flatten)]
    pub model: crate::flags::ModelFlag,
    /// Output folder of the feed [config: OUT/scores with `out` from the config].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Days ahead of --as-of that are scored [config: score.window_days; default 7].
    #[arg(long, value_name = "DAYS")]
    pub window_days: Option<f64>,
    /// Share of each risk band flagged `holdout` (control group) [config: score.holdout_share; default 0].
    #[arg(long, value_name = "SHARE")]
    pub holdout_share: Option<f64>,
    /// Seed of the holdout draw [config: score.holdout_seed; default 1].
    #[arg(long, value_name = "S")]
    pub holdout_seed: Option<u64>,
}

const FEED_README: &str = "noshow scoring feed\n\nOne row per interview still scheduled after the as-of time within the \
window. p_not_attend is the model's probability of a no-show or candidate cancellation; risk_rank 1 is the highest. \
This feed exists to decide who gets more help (a phone call, an extra reminder, a channel switch, a link and device \
check). It must never be used to reject, rank or blacklist candidates. Rows in arm `holdout` (holdout = true) get \
the standard process only, so a later report can measure what the extra help changed; an interview keeps its arm \
in every later feed. Read ids as text: pandas.read_json(path, lines=True, dtype=False) or read_csv(path, dtype=str).\n";

pub fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<()> {
    let mut common = Common::resolve(global)?;
    let cfg = &common.config.score;
    let lake = args.lake.resolve(&common)?;
    let model_dir = args.model.resolve(&common)?;
    // From the config, the feed goes to OUT/scores, where `noshow run` puts it (OUT
    // itself holds the report too).
    let out = match &args.out {
        Some(out) => out.clone(),
        None => common.path(&None, &common.config.out, "out")?.join("scores"),
    };
    let window_days = args.window_days.or(cfg.window_days).unwrap_or(crate::config::DEFAULT_WINDOW_DAYS);
    let drift_warn_psi = cfg.drift_warn_psi()?;
    if !(window_days.is_finite() && window_days > 0.0) {
        return Err(usage_error(format!("window_days must be a positive number, not {window_days}")));
    }
    let holdout_share = args.holdout_share.or(cfg.holdout_share).unwrap_or(crate::config::DEFAULT_HOLDOUT_SHARE);
    if !(0.0..=1.0).contains(&holdout_share) {
        return Err(usage_error(format!("holdout_share must be between 0 and 1, not {holdout_share}")));
    }
    let holdout_seed = args.holdout_seed.or(cfg.holdout_seed).unwrap_or(crate::config::DEFAULT_HOLDOUT_SEED);
    let confirm_follow_up_hours = cfg.confirm_follow_up_hours.unwrap_or(crate::config::DEFAULT_CONFIRM_FOLLOW_UP_HOURS);
    let recovery_days = cfg.recovery_days.unwrap_or(crate::config::DEFAULT_RECOVERY_DAYS);
    for (name, v) in [("confirm_follow_up_hours", confirm_follow_up_hours), ("recovery_days", recovery_days)] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(usage_error(format!("[score] {name} must be a number >= 0, not {v}")));
        }
    }
    // The destination and the model are checked before any data is read.
    let staged = OutputDir::begin(&out, "feed", &[&lake, &model_dir], common.config.output.sharing())?;
    let model = store::load_current(&model_dir)?;
    // The model's features (hour, weekday) are local times in the zone it was trained
    // in, and the lake's naive timestamps were read in its own: all three must agree.
    common.adopt_zone(Some(&model.tz), &format!("model {} in {}", model.version, model_dir.display()))?;
    if model.grace_minutes != common.grace_minutes {
        // Features of earlier interviews (prior no-shows) follow the grace period; a
        // different one scores them differently from how the model learnt them.
        crate::warn!(
            "score: model {} was trained with grace_minutes = {}, this run uses {}: prior no-shows are counted \
             differently from training; use --grace-minutes {} or retrain",
            model.version,
            model.grace_minutes,
            common.grace_minutes,
            model.grace_minutes
        );
    }
    let snapshot = Lake::new(&lake).snapshot()?;
    if let Some(zone) = snapshot.zone() {
        if zone != common.tz.name() {
            return Err(usage_error(format!(
                "the lake {} was ingested with time zone {zone} but model {} was trained with {}: retrain the model \
                 on this lake (or score with the lake it was trained on)",
                lake.display(),
                model.version,
                common.tz.name()
            )));
        }
    }
    let settings = ScoreSettings {
        as_of: common.as_of,
        tz: common.tz,
        grace_minutes: common.grace_minutes,
        window_days,
        holdout_share,
        holdout_seed,
        confirm_follow_up_hours,
        drift_warn_psi,
    };
    let started = std::time::Instant::now();
    let mut clock = crate::model::stopwatch::Stopwatch::start("score command");
    // The events of a few interviews, from the row groups that can hold them.
    let events_of = |ids: &[&str]| -> anyhow::Result<LazyFrame> {
        let (events, share) = snapshot.events_of(ids)?;
        info!("read {} of the lake's {} event row groups for {} interviews", share.row_groups_read, share.row_groups, ids.len());
        Ok(events)
    };
    let scored = score(snapshot.scan_interviews()?, &events_of, &model, &settings)
        .with_context(|| format!("scoring with model {} on lake {}", model.version, lake.display()))?;
    let mut feed = scored.feed;
    // Arms are sticky: an interview an earlier feed scored keeps the arm it got then.
    let archive = crate::score::archive::of_lake(&lake);
    let archive_lock = archive.lock()?;
    let ids: Vec<String> = feed.column("interview_id")?.str()?.iter().map(|v| v.unwrap_or("").to_string()).collect();
    let date = crate::time::format_local(common.as_of, common.tz)[..10].to_string();
    clock.mark("scored");
    let prior = crate::score::archive::prior_arms(&archive, &ids, &date)?;
    clock.mark("earlier arms from the archive");
    crate::score::set_arms(&mut feed, holdout_share, holdout_seed, &prior)?;
    let seconds = started.elapsed().as_secs_f64();
    // The archive entry first: a feed is published only once it is archived.
    let mut entry = crate::score::archive::entry(&feed, common.as_of, &date)?;
    let archived = archive.put(&archive_lock, &date, |tmp| crate::export::write_parquet(tmp, &mut entry))?;
    // The day's drift beside it, through the same put and lock (a kill in between
    // leaves the feed without its sidecar; the report then skips that day's drift).
    let drift = scored.drift.map(|features| DriftDay {
        as_of: format_utc(common.as_of),
        as_of_date: date.clone(),
        model_version: model.version.clone(),
        rows: feed.height() as u64,
        window_days,
        reference_window_days: model.drift_reference.as_ref().map_or(window_days, |r| r.window_days),
        warn_psi: drift_warn_psi,
        formula: crate::model::drift::FORMULA.into(),
        features,
    });
    if let Some(day) = &drift {
        let bytes = serde_json::to_vec_pretty(day)?;
        crate::score::archive::drift_of_lake(&lake).put(&archive_lock, &date, |tmp| crate::store::write_file(tmp, &bytes))?;
    }
    drop(archive_lock);
    log_drift(drift.as_ref(), &model.version, drift_warn_psi);

    clock.mark("archived");
    write_table(staged.path(), "scores", &mut feed)?;
    write_jsonl(&staged.path().join("scores.jsonl"), &feed)?;
    clock.mark("feed written");
    let mut recovery = crate::score::recovery::worklist(
        snapshot.scan_interviews()?,
        &events_of,
        settings.as_of,
        settings.tz,
        settings.grace_minutes,
        recovery_days,
    )
    .context("building the recovery worklist")?;
    write_table(staged.path(), "recovery", &mut recovery)?;
    clock.mark("recovery worklist");
    let count = |band: &str, holdout: Option<bool>| -> usize {
        let bands = feed.column("risk_band").ok().and_then(|c| c.str().ok().cloned());
        let flags = feed.column("holdout").ok().and_then(|c| c.bool().ok().cloned());
        match (bands, flags) {
            (Some(b), Some(h)) => (0..feed.height())
                .filter(|&i| b.get(i) == Some(band) && holdout.is_none_or(|want| h.get(i) == Some(want)))
                .count(),
            _ => 0,
        }
    };
    let summary = serde_json::json!({
        "noshow_version": crate::VERSION,
        "as_of": format_utc(common.as_of),
        "window_days": window_days,
        "rows": feed.height(),
        "model_version": model.version,
        "label": model.label,
        "intended_use": file::INTENDED_USE,
        "risk_bands": RISK_BANDS,
        "suggested_actions": ACTIONS,
        "bands": {
            "high": {"rows": count("high", None), "holdout": count("high", Some(true))},
            "medium": {"rows": count("medium", None), "holdout": count("medium", Some(true))},
            "low": {"rows": count("low", None), "holdout": count("low", Some(true))},
        },
        "recovery": {"rows": recovery.height(), "days": recovery_days, "next_steps": crate::score::recovery::NEXT_STEPS},
        "confirm_follow_up_hours": confirm_follow_up_hours,
        "holdout_share": holdout_share,
        "arms_kept_from_earlier_feeds": prior.len(),
        "archived_as": archived.display().to_string(),
        "holdout_seed": holdout_seed,
        "drift": drift_summary(drift.as_ref()),
        "seconds": seconds,
    });
    std::fs::write(staged.path().join("summary.json"), serde_json::to_vec_pretty(&summary)?)
        .with_context(|| format!("writing summary.json under {}", staged.path().display()))?;
    std::fs::write(staged.path().join("README.txt"), FEED_README).context("writing the feed README")?;
    staged.publish()?;
    info!(
        "score: {} upcoming interviews scored with model {} in {:.2} s ({:.0} rows/s); feed in {}",
        feed.height(),
        model.version,
        seconds,
        feed.height() as f64 / seconds.max(1e-9),
        out.display()
    );
    Ok(())
}

/// One info line with every feature's PSI, and a warning per feature at or above the
/// threshold.
fn log_drift(drift: Option<&DriftDay>, model_version: &str, warn_psi: f64) {
    let Some(day) = drift else {
        info!("score: model {model_version} records no training distribution (trained by an older noshow): no drift figures; retrain to get them");
        return;
    };
    if (day.window_days - day.reference_window_days).abs() > 1e-9 {
        info!(
            "score: the feed's window is {} days but the drift reference mimics {} days: features that depend on the hours left (log_hours_left, reminders) may show drift for that reason alone",
            day.window_days, day.reference_window_days
        );
    }
    let list: Vec<String> =
        day.features.iter().map(|f| format!("{} {}", f.feature, f.psi.map_or("-".to_string(), |v| format!("{v:.3}")))).collect();
    info!("score: drift (PSI against the training window) over {} interviews: {}", day.rows, list.join(", "));
    let shifted: Vec<String> = day
        .features
        .iter()
        .filter_map(|f| {
            let v = f.psi.filter(|&v| v >= warn_psi)?;
            let moved = f.most_changed().map(|(bin, e, a)| format!(", {bin}: {:.1} % in training, {:.1} % today", 100.0 * e, 100.0 * a)).unwrap_or_default();
            Some(format!("{} {v:.3} ({}{moved})", f.feature, f.kind))
        })
        .collect();
    if !shifted.is_empty() {
        crate::warn!(
            "score: drift: {} of {} features have a PSI at or above [score] drift_warn_psi = {warn_psi} against model \
             {model_version}'s training window, so the interviews scored differ from those it learnt from (check the \
             exports; retrain once the change is real): {}",
            shifted.len(),
            day.features.len(),
            shifted.join("; ")
        );
    }
}

fn drift_summary(drift: Option<&DriftDay>) -> serde_json::Value {
    match drift {
        None => serde_json::json!({ "note": "the model records no training distribution: no drift figures" }),
        Some(day) => serde_json::json!({
            "warn_psi": day.warn_psi,
            "formula": day.formula,
            "features": day.features.iter().map(|f| serde_json::json!({
                "feature": f.feature, "psi": f.psi, "level": f.level,
            })).collect::<Vec<_>>(),
            "shifted": day.features.iter().filter(|f| f.level.as_deref() == Some("shift")).map(|f| f.feature.clone()).collect::<Vec<_>>(),
        }),
    }
}

fn write_jsonl(path: &std::path::Path, feed: &DataFrame) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    let s = |name: &str| -> anyhow::Result<StringChunked> { Ok(feed.column(name)?.str()?.clone()) };
    let (ids, cands, bands, factors, actions, versions) =
        (s("interview_id")?, s("candidate_id")?, s("risk_band")?, s("top_factors")?, s("suggested_action")?, s("model_version")?);
    let slots = feed.column("scheduled_at")?.cast(&DataType::Int64)?.i64()?.clone();
    let probs = feed.column("p_not_attend")?.f64()?.clone();
    let ranks = feed.column("risk_rank")?.u32()?.clone();
    let holdout = feed.column("holdout")?.bool()?.clone();
    let arms = s("arm")?;
    for i in 0..feed.height() {
        let row = serde_json::json!({
            "interview_id": ids.get(i),
            "candidate_id": cands.get(i),
            "scheduled_at": slots.get(i).map(format_utc),
            "p_not_attend": probs.get(i),
            "risk_rank": ranks.get(i),
            "risk_band": bands.get(i),
            "top_factors": factors.get(i),
            "suggested_action": actions.get(i),
            "arm": arms.get(i),
            "holdout": holdout.get(i),
            "model_version": versions.get(i),
        });
        serde_json::to_writer(&mut w, &row)?;
        w.write_all(b"\n")?;
    }
    w.flush().with_context(|| format!("writing {}", path.display()))
}
