//! `noshow report`: the lake → rate tables, causes, funnel, reminders, cost, signals
//! (Parquet + CSV), `summary.json` and `report.html`, published atomically.

use std::path::PathBuf;

use anyhow::Context;

use crate::analytics::{self, findings, Settings, CUT_COLUMNS};
use crate::flags::GlobalArgs;
use crate::config::Common;
use crate::export::write_table;
use crate::store::OutputDir;
use crate::lake::Lake;
use crate::privacy::{Pseudonymizer, DEFAULT_SUPPRESSION_THRESHOLD};
use crate::report::i18n::Lang;
use crate::report::{self, ReportInput};
use crate::{info, usage_error, warn};

/// Reads the lake's current version and writes every rate table (Parquet and CSV),
/// the cause, funnel, reminder, timing, cost, re-invitation and signal tables,
/// `summary.json` and `report.html` into --out, replacing it in one step.
/// Only closed interviews count (status other than `scheduled` after the
/// derived-status rule, slot before --as-of); events after --as-of are ignored.
/// With a model folder (--model or `model` in the config) the page explains its current
/// model too (metrics, calibration, fairness, drivers); without one it has no model
/// section.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub lake: crate::flags::LakeFlag,
    /// Output folder [config: OUT/report with `out` from the config; default:
    /// notebooks-export/<as-of date in --tz>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// An extra cut of two (or more) columns, e.g. `--by role,region`; repeatable
    /// [config: report.by]. Columns: role, region, education, fresh_graduate, source,
    /// preferred_channel, week, month, weekday, hour, lead_time.
    #[arg(long, value_name = "COLS")]
    pub by: Vec<String>,
    /// Report language: en or zh [config: report.lang; default: en].
    #[arg(long, value_name = "LANG")]
    pub lang: Option<String>,
    /// Segments with fewer closed interviews are published with counts and rates empty
    /// [config: report.suppression_threshold; default: 10].
    #[arg(long, value_name = "N")]
    pub suppression_threshold: Option<u64>,
    #[command(flatten)]
    pub model: crate::flags::ModelFlag,
    /// Also write `interviews.parquet`/`.csv`: one row per closed interview for
    /// notebooks, each candidate id replaced by its keyed pseudonym. Needs the key
    /// (NOSHOW_PSEUDONYM_KEY, NOSHOW_PSEUDONYM_KEY_FILE or [privacy] key_file); without
    /// it the command refuses rather than write raw ids [config: report.interview_table].
    #[arg(long)]
    pub interview_table: bool,
}

/// Settings of a report run, resolved from flags, config and defaults.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub lake: PathBuf,
    pub out: PathBuf,
    pub lang: Lang,
    pub analysis: Settings,
    /// Set when the interview-level table is asked for (the key was found).
    pub interview_table: Option<Pseudonymizer>,
    /// Folders the output must stay apart from (the model folder).
    pub protected: Vec<PathBuf>,
    pub sharing: crate::store::Sharing,
    /// `[report] currency` and `[report.cancel_reasons]`.
    pub currency: Option<String>,
    pub options: analytics::Options,
}

/// Parses `--by` values (`role,region`) into checked column lists.
pub fn parse_cuts(values: &[String]) -> anyhow::Result<Vec<Vec<String>>> {
    let mut cuts: Vec<Vec<String>> = Vec::new();
    for value in values {
        let cut: Vec<String> = value.split(',').map(|c| c.trim().to_ascii_lowercase()).filter(|c| !c.is_empty()).collect();
        if cut.len() < 2 {
            return Err(usage_error(format!("--by {value:?}: give two or more columns separated by a comma, e.g. role,region")));
        }
        for c in &cut {
            // An extra column of a mapped export is known only once the lake is read.
            let plausible = c.chars().all(|ch| ch.is_alphanumeric() || ch == '_');
            if !CUT_COLUMNS.contains(&c.as_str()) && !plausible {
                return Err(usage_error(format!("--by {value:?}: unknown column {c:?} (expected one of {})", CUT_COLUMNS.join(", "))));
            }
        }
        if cut.iter().enumerate().any(|(i, c)| cut[..i].contains(c)) {
            return Err(usage_error(format!("--by {value:?}: a column is repeated")));
        }
        if !cuts.contains(&cut) {
            cuts.push(cut);
        }
    }
    Ok(cuts)
}

impl ReportSettings {
    pub fn resolve(args: &Args, common: &Common) -> anyhow::Result<ReportSettings> {
        let cfg = &common.config.report;
        let lake = args.lake.resolve(common)?;
        // A configured `out` is shared with the scoring feed, so the report goes to its
        // `report/` subfolder, the same place `noshow run` puts it.
        let out = match args.out.clone().or_else(|| common.config.out.as_ref().map(|o| o.join("report"))) {
            Some(out) => out,
            None => {
                let date = crate::time::format_local(common.as_of, common.tz);
                PathBuf::from("notebooks-export").join(&date[..10])
            }
        };
        let lang_text = args.lang.clone().or_else(|| cfg.lang.clone()).unwrap_or_else(|| "en".into());
        let lang = Lang::parse(&lang_text).ok_or_else(|| usage_error(format!("--lang {lang_text:?}: expected en or zh")))?;
        let grace_minutes = common.grace_minutes;
        let suppression_threshold = args.suppression_threshold.or(cfg.suppression_threshold).unwrap_or(DEFAULT_SUPPRESSION_THRESHOLD);
        let by = if args.by.is_empty() { cfg.by.clone().unwrap_or_default() } else { args.by.clone() };
        let cuts = parse_cuts(&by)?;
        let interview_table = if args.interview_table || cfg.interview_table.unwrap_or(false) {
            let key = Pseudonymizer::from_environment(common.config.privacy.key_file.as_deref())
                .map_err(|e| usage_error(format!("the interview table needs the pseudonymisation key: {e:#}")))?;
            Some(key.ok_or_else(|| {
                usage_error(
                    "the interview table holds one row per candidate interview and is written only with \
                     pseudonymised candidate ids: set NOSHOW_PSEUDONYM_KEY or NOSHOW_PSEUDONYM_KEY_FILE, or \
                     [privacy] key_file in the config (a file only its owner can read), or drop \
                     --interview-table / report.interview_table",
                )
            })?)
        } else {
            None
        };
        let protected = args.model.given(&common).into_iter().collect();
        Ok(ReportSettings {
            lake,
            out,
            lang,
            interview_table,
            protected,
            sharing: common.config.output.sharing(),
            currency: cfg.currency.as_ref().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()),
            options: analytics::Options { cancel_reason_map: analytics::cancel_reasons::reason_map(&cfg.cancel_reasons) },
            analysis: Settings { as_of: common.as_of, tz: common.tz, grace_minutes, suppression_threshold, cuts },
        })
    }
}

pub fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<()> {
    let mut common = Common::resolve(global)?;
    let lake = args.lake.resolve(&common)?;
    if let Some(snapshot) = Lake::new(&lake).current()? {
        common.adopt_zone(snapshot.zone().as_deref(), &format!("the lake {}", lake.display()))?;
    }
    let settings = ReportSettings::resolve(args, &common)?;
    report::i18n::set_value_labels(&common.config.labels.en, &common.config.labels.zh);
    // A `--by` column must be one of the fixed ones or an extra column of this lake.
    if let Some(snapshot) = Lake::new(&lake).current()? {
        let extra = analytics::extra_columns(&mut snapshot.scan_interviews()?)
            .map_err(|e| anyhow::anyhow!("reading the lake's columns: {e}"))?;
        for c in settings.analysis.cuts.iter().flatten() {
            if !CUT_COLUMNS.contains(&c.as_str()) && !extra.contains(c) {
                return Err(usage_error(format!(
                    "--by: unknown column {c:?} (expected one of {}{})",
                    CUT_COLUMNS.join(", "),
                    if extra.is_empty() { String::new() } else { format!(", or an extra column of the lake: {}", extra.join(", ")) }
                )));
            }
        }
    }
    let model_section = match args.model.given(&common) {
        Some(dir) => {
            let section = report::model_section::render(&dir, settings.lang, settings.analysis.suppression_threshold, settings.analysis.tz)
                .with_context(|| format!("reading the model in {} for the report", dir.display()))?;
            if section.is_none() {
                // Asked for on the command line: a typo must not silently drop the section.
                if args.model.dir.is_some() {
                    return Err(usage_error(format!(
                        "--model {}: no model there (train one with `noshow train`, or leave --model out)",
                        dir.display()
                    )));
                }
                warn!("no model in {} (config `model`): the report has no model section", dir.display());
            }
            section
        }
        None => None,
    };
    write_report(&settings, model_section)?;
    Ok(())
}

/// Computes everything and publishes the output folder; `model_section` is the model
/// helper's HTML fragment, when there is one. Returns the published folder.
pub fn write_report(settings: &ReportSettings, model_section: Option<String>) -> anyhow::Result<PathBuf> {
    let started = std::time::Instant::now();
    // The destination is checked and locked before any work.
    let mut protected: Vec<&std::path::Path> = vec![&settings.lake];
    protected.extend(settings.protected.iter().map(PathBuf::as_path));
    let out = OutputDir::begin(&settings.out, "report", &protected, settings.sharing)?;
    let lake = Lake::new(&settings.lake);
    let snapshot = lake.snapshot()?;
    let interviews = snapshot.scan_interviews()?;
    let events = snapshot.scan_events()?;
    let s = &settings.analysis;
    let analysis = analytics::analyse_with(interviews, events, s, &settings.options)
        .map_err(|e| anyhow::anyhow!("computing the report from lake {}: {e}", snapshot.dir.display()))?;
    let found = findings::findings(&analysis).map_err(|e| anyhow::anyhow!("drawing findings: {e}"))?;
    // The archived feeds joined to the outcomes that arrived since.
    let archive = crate::score::archive::of_lake(&settings.lake);
    let loop_tables = match crate::score::archive::scan(&archive)? {
        Some(feeds) => Some(
            analytics::help::loop_tables(feeds, &analysis.closed, s)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("joining the feed archive {} to the outcomes", archive.root().display()))?,
        ),
        None => None,
    };
    // Each archived day's drift, as its score computed it against that day's model.
    let drift_days = crate::score::archive::drift_days(&settings.lake, s.as_of)?;
    let drift = analytics::help::drift_table(&drift_days)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("reading the drift sidecars of {}", archive.root().display()))?;
    let loop_section = report::loop_section::render(loop_tables.as_ref(), (!drift_days.is_empty()).then_some(&drift), settings.lang)
        .map_err(|e| anyhow::anyhow!("rendering the closing-the-loop section: {e}"))?;
    let as_of_text = crate::time::format_local(s.as_of, s.tz);
    let html = report::render(&ReportInput {
        analysis: &analysis,
        findings: &found,
        lang: settings.lang,
        as_of: as_of_text.clone(),
        tz: s.tz.name().to_string(),
        lake_version: snapshot.version,
        suppression_threshold: s.suppression_threshold,
        currency: settings.currency.clone(),
        model_section,
        loop_section,
        set_aside: snapshot
            .manifest()
            .ok()
            .and_then(|m| m["source_files"].as_array().map(|files| files.iter().filter_map(|f| f["set_aside"].as_u64()).sum()))
            .unwrap_or(0),
    })
    .map_err(|e| anyhow::anyhow!("rendering the report: {e}"))?;
    let lake_files: Vec<String> = ["interviews", "events"]
        .iter()
        .map(|t| snapshot.files(t))
        .collect::<anyhow::Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .map(|p| p.strip_prefix(&snapshot.dir).unwrap_or(&p).display().to_string())
        .collect();
    let mut summary = summary_json(&analysis, &found, settings, &snapshot, &lake_files, &as_of_text)?;

    let mut tables = analysis.tables;
    summary["help"] = match &loop_tables {
        Some(lt) => serde_json::to_value(&lt.counts)?,
        None => serde_json::json!({ "archived_interviews": 0, "note": "no archived feed in this lake" }),
    };
    summary["drift"] = match drift_days.last() {
        Some(day) => serde_json::json!({
            "days": drift_days.len(),
            "latest": day.as_of_date,
            "model_version": day.model_version,
            "warn_psi": day.warn_psi,
            "shifted": day.features.iter().filter(|f| f.level.as_deref() == Some("shift")).map(|f| f.feature.clone()).collect::<Vec<_>>(),
        }),
        None => serde_json::json!({ "days": 0, "note": "no archived feed with drift figures in this lake" }),
    };
    if !drift_days.is_empty() {
        tables.push(("drift".to_string(), drift));
        if let Some(list) = summary["tables"].as_array_mut() {
            list.push(serde_json::json!("drift"));
        }
    }
    if let Some(lt) = loop_tables {
        tables.push(("help_effect".to_string(), lt.help_effect));
        tables.push(("model_monitoring".to_string(), lt.model_monitoring));
        if let Some(list) = summary["tables"].as_array_mut() {
            list.extend([serde_json::json!("help_effect"), serde_json::json!("model_monitoring")]);
        }
    }
    if let Some(key) = &settings.interview_table {
        let rows = analytics::interview_rows(&analysis.closed, |id| key.pseudonym(id))
            .map_err(|e| anyhow::anyhow!("building the interview table: {e}"))?;
        tables.push(("interviews".to_string(), rows));
    }
    drop(analysis.closed);
    for (name, df) in tables.iter_mut() {
        write_table(out.path(), name, df).with_context(|| format!("writing table {name}"))?;
    }
    let summary_path = out.path().join("summary.json");
    std::fs::write(&summary_path, serde_json::to_string_pretty(&summary)? + "\n")
        .with_context(|| format!("writing {}", summary_path.display()))?;
    let html_path = out.path().join("report.html");
    std::fs::write(&html_path, html).with_context(|| format!("writing {}", html_path.display()))?;
    let dest = out.publish()?;
    info!(
        "report: {} tables, summary.json and report.html in {} ({:.1} s)",
        tables.len(),
        dest.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(dest)
}

/// No-shows of unknown cause flagged as likely technical (the `likely_cause` lines).
fn likely_technical(a: &analytics::Analysis) -> Option<i64> {
    let df = a.get("causes_no_show")?;
    let (likely, count) = (analytics::frame::strings(df, "likely_cause").ok()?, analytics::frame::i64s(df, "count").ok()?);
    Some(likely.iter().zip(count).filter(|(l, _)| l.is_some()).filter_map(|(_, c)| c).sum())
}

fn first_f64(a: &analytics::Analysis, table: &str, column: &str) -> Option<f64> {
    analytics::frame::f64s(a.get(table)?, column).ok()?.first().copied().flatten()
}

fn summary_json(
    a: &analytics::Analysis,
    found: &[findings::Finding],
    settings: &ReportSettings,
    snapshot: &crate::lake::Snapshot,
    lake_files: &[String],
    as_of_text: &str,
) -> anyhow::Result<serde_json::Value> {
    let s = &settings.analysis;
    let closed = a.get("overall").and_then(|df| analytics::frame::i64s(df, "interviews").ok()?.first().copied().flatten());
    let dominant: serde_json::Map<String, serde_json::Value> = found
        .iter()
        .filter_map(|f| match f {
            findings::Finding::DominantCause { role, cause, share } => {
                Some((role.clone(), serde_json::json!({ "cause": cause, "share": share })))
            }
            _ => None,
        })
        .collect();
    let tables: Vec<&str> = a.tables.iter().map(|(n, _)| n.as_str()).collect();
    Ok(serde_json::json!({
        "headline": {
            "closed_interviews": closed,
            "no_show_rate": first_f64(a, "overall", "no_show_rate"),
            "no_show_rate_low": first_f64(a, "overall", "no_show_rate_low"),
            "no_show_rate_high": first_f64(a, "overall", "no_show_rate_high"),
            "cancel_rate": first_f64(a, "overall", "cancel_rate"),
            "company_cancel_rate": first_f64(a, "overall", "company_cancel_rate"),
            "reschedule_rate": first_f64(a, "overall", "reschedule_rate"),
            "no_show_rate_recent_28d": first_f64(a, "overall", "recent_no_show_rate"),
            "no_show_rate_previous_28d": first_f64(a, "overall", "previous_no_show_rate"),
            "no_show_cost": first_f64(a, "cost_total", "no_show_cost"),
            "total_cost": first_f64(a, "cost_total", "total_cost"),
            "dominant_no_show_cause_by_role": dominant,
            "confirmation_rate": first_f64(a, "confirmations", "confirmation_rate"),
            "confirmed_within_24h_rate": first_f64(a, "confirmations", "within_24h_rate"),
            "link_error_rate": first_f64(a, "link_error_rates", "link_error_rate"),
            "likely_technical_no_shows": likely_technical(a),
        },
        "findings": found,
        "tables": tables,
        "lineage": {
            "lake": settings.lake.display().to_string(),
            "lake_version": snapshot.version,
            "lake_files": lake_files,
            "as_of": as_of_text,
            "as_of_utc": crate::time::format_utc(s.as_of),
            "tz": s.tz.name(),
            "noshow_version": crate::VERSION,
            "grace_minutes": s.grace_minutes,
            "suppression_threshold": s.suppression_threshold,
            "cuts": s.cuts,
            "lang": settings.lang,
            "events_window": "events at or before as_of whose interview is in the lake",
        },
    }))
}
