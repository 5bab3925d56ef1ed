//! `noshow run`: the scheduled job. Weekly: ingest → train → report → score; daily
//! (`--daily`): ingest → score with the current model.
//!
//! Each stage is the same code path as its own command (the stage's arguments are
//! parsed by the same clap definitions), run in-process one after the other with one
//! as-of instant. Every stage publishes its outputs atomically, so a failing stage
//! leaves every earlier output, and its own previous output, intact. A JSON run log
//! records what each stage read and wrote, its time and the peak memory so far.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use serde_json::{json, Value};

use crate::cli::{dispatch, Cli};
use crate::flags::GlobalArgs;
use crate::config::Common;
use crate::info;
use crate::time;

/// Runs the whole pipeline. Outputs: the lake (--lake), `OUT/report/` (rate tables,
/// report.html), the model (--model) and `OUT/scores/` (the scoring feed); a run log
/// under `LAKE/runs/`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub raw: crate::flags::RawFlag,
    #[command(flatten)]
    pub lake: crate::flags::LakeFlag,
    /// Output folder: the report lands in OUT/report, the scoring feed in OUT/scores.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub model: crate::flags::ModelFlag,
    /// Daily mode: only ingest and score, with the current model.
    #[arg(long)]
    pub daily: bool,
    /// Report language, en or zh (passed to the report stage) [config: report.lang].
    #[arg(long, value_name = "LANG")]
    pub lang: Option<String>,
    /// Extra two-way cuts for the report, e.g. role,region (repeatable) [config: report.by].
    #[arg(long, value_name = "COL,COL")]
    pub by: Vec<String>,
    /// Days ahead of --as-of that the feed scores [config: score.window_days].
    #[arg(long, value_name = "DAYS")]
    pub window_days: Option<f64>,
}

/// One stage's line in the run log.
struct StageRecord {
    name: &'static str,
    seconds: f64,
    peak_rss_mib: f64,
    ok: bool,
    error: Option<String>,
    warning: Option<String>,
}

pub fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<()> {
    let mut common = Common::resolve(global)?;
    let raw = args.raw.resolve(&common)?;
    let lake = args.lake.resolve(&common)?;
    let out = common.path(&args.out, &common.config.out, "out")?;
    let model = args.model.resolve(&common)?;
    let report_out = out.join("report");
    let scores_out = out.join("scores");
    let started = time::now();
    let clock = Instant::now();
    let _run_lock = lock_run(&lake)?;
    if let Some(snapshot) = crate::lake::Lake::new(&lake).current()? {
        common.adopt_zone(snapshot.zone().as_deref(), &format!("the lake {}", lake.display()))?;
    }
    let as_of = time::format_utc(common.as_of);

    let p = |path: &Path| path.as_os_str().to_owned();
    let mut stages: Vec<(&'static str, Vec<OsString>)> = vec![("ingest", vec!["ingest".into(), "--raw".into(), p(&raw), "--lake".into(), p(&lake)])];
    if !args.daily {
        // Train before the report, so the report explains the model the feed will use.
        stages.push(("train", vec!["train".into(), "--lake".into(), p(&lake), "--model".into(), p(&model)]));
        let mut report = vec!["report".into(), "--lake".into(), p(&lake), "--out".into(), p(&report_out), "--model".into(), p(&model)];
        if let Some(lang) = &args.lang {
            report.extend(["--lang".into(), lang.into()]);
        }
        for by in &args.by {
            report.extend(["--by".into(), by.into()]);
        }
        stages.push(("report", report));
    }
    let mut score: Vec<OsString> = vec!["score".into(), "--lake".into(), p(&lake), "--model".into(), p(&model), "--out".into(), p(&scores_out)];
    if let Some(days) = args.window_days {
        score.extend(["--window-days".into(), days.to_string().into()]);
    }
    stages.push(("score", score));

    let mut records = Vec::new();
    let mut failure: Option<anyhow::Error> = None;
    for (name, stage_args) in stages {
        let mut argv: Vec<OsString> = vec!["noshow".into(), "--as-of".into(), as_of.clone().into()];
        // A zone given (or recorded by the lake) is passed on; without one each stage
        // uses the zone its lake or model recorded.
        if common.tz_given {
            argv.extend(["--tz".into(), common.tz.name().into()]);
        }
        if let Some(config) = &global.config {
            argv.push("--config".into());
            argv.push(config.as_os_str().to_owned());
        }
        if global.quiet {
            argv.push("--quiet".into());
        }
        argv.extend(stage_args);
        info!("run: stage {name}");
        let t0 = Instant::now();
        let result = Cli::try_parse_from(&argv)
            .map_err(|e| anyhow::anyhow!("building the {name} stage's arguments: {e}"))
            .and_then(dispatch);
        // A model kept as a candidate is not a failure: the current one serves on.
        let (result, warning) = match result {
            Err(e) if e.downcast_ref::<crate::model::promotion::Refused>().is_some() => {
                crate::warn!("run: {e:#}; going on with the current model");
                (Ok(()), Some(format!("{e:#}")))
            }
            other => (other, None),
        };
        let record = StageRecord {
            name,
            seconds: t0.elapsed().as_secs_f64(),
            peak_rss_mib: peak_rss_mib(),
            ok: result.is_ok(),
            error: result.as_ref().err().map(|e| format!("{e:#}")),
            warning,
        };
        info!("run: stage {name} {} in {:.1} s (peak memory so far {:.0} MiB)", if record.ok { "done" } else { "FAILED" }, record.seconds, record.peak_rss_mib);
        records.push(record);
        if let Err(e) = result {
            failure = Some(e.context(format!("stage {name} failed; earlier outputs are intact")));
            break;
        }
    }

    let log = run_log(&common, args.daily, &as_of, started, clock.elapsed().as_secs_f64(), &records, &lake, &report_out, &model, &scores_out);
    let log_path = write_run_log(&lake, started, &log)?;
    info!("run: log written to {}", log_path.display());
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[allow(clippy::too_many_arguments)]
fn run_log(
    common: &Common,
    daily: bool,
    as_of: &str,
    started: i64,
    seconds: f64,
    records: &[StageRecord],
    lake: &Path,
    report_out: &Path,
    model: &Path,
    scores_out: &Path,
) -> Value {
    let stages: Vec<Value> = records
        .iter()
        .map(|r| json!({"stage": r.name, "ok": r.ok, "seconds": r.seconds, "peak_rss_mib": r.peak_rss_mib, "error": r.error, "warning": r.warning}))
        .collect();
    let failed = records.iter().find(|r| !r.ok).map(|r| r.name);
    // What each stage wrote, read back from the files it published (best effort: a
    // stage that did not run has nothing to show).
    let lake_summary = crate::lake::Lake::new(lake)
        .current()
        .ok()
        .flatten()
        .and_then(|s| read_json(&s.dir.join("summary.json")).map(|v| json!({"version": s.version, "dir": s.dir, "summary": v})));
    let report_summary = read_json(&report_out.join("summary.json"));
    let model_json = read_json(&model.join("model.json"));
    let model_brief = model_json.as_ref().map(|m| {
        json!({"version": m.get("version"), "metrics": m.get("metrics"), "label": m.get("label"), "horizon_hours": m.get("horizon_hours")})
    });
    let scores = read_json(&scores_out.join("summary.json"));
    json!({
        "noshow_version": crate::VERSION,
        "mode": if daily { "daily" } else { "weekly" },
        "status": if failed.is_some() { "failed" } else { "ok" },
        "failed_stage": failed,
        "started_at": time::format_utc(started),
        "as_of": as_of,
        "tz": common.tz.name(),
        "seconds": seconds,
        "peak_rss_mib": peak_rss_mib(),
        "stages": stages,
        "outputs": {
            "lake": lake_summary,
            "report": {"dir": report_out, "summary": report_summary},
            "model": {"dir": model, "current": model_brief},
            "scores": {"dir": scores_out, "summary": scores},
        }
    })
}

/// One `noshow run` per lake at a time: a second one refuses at once with a clear
/// message rather than interleave its stages with the first one's.
fn lock_run(lake: &Path) -> anyhow::Result<std::fs::File> {
    crate::store::Store::new(lake, crate::store::Kind::Lake).claim()?;
    let file = crate::store::try_lock_exclusive(lake, ".run.lock", |lock| {
        format!("another `noshow run` is in progress on the lake {} (lock {} is held); this run did nothing", lake.display(), lock.display())
    })?;
    // A run killed while writing its log leaves the temp file; only runs write them,
    // and this one holds the lock.
    if let Ok(entries) = std::fs::read_dir(lake.join("runs")) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".run-") && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(file)
}

fn read_json(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

fn write_run_log(lake: &Path, started: i64, log: &Value) -> anyhow::Result<PathBuf> {
    let dir = lake.join("runs");
    crate::store::create_private_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let stamp = time::format_utc(started).replace([':', '-'], "").replace('.', "_");
    let path = dir.join(format!("run-{stamp}.json"));
    let tmp = dir.join(format!(".run-{stamp}.json.tmp"));
    std::fs::write(&tmp, serde_json::to_vec_pretty(log)?).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

pub use crate::sys::peak_rss_mib;
