//! `noshow train`: fit the not-attending model on the lake and evaluate it on the
//! latest weeks; write MODEL/model.json (current), MODEL/evaluation/ and
//! MODEL/versions/NNNN/ when the new model passes model::promotion's rule, else keep it
//! under MODEL/candidates/NNNN/ and fail with [`Refused`] (exit status 3).

use std::path::PathBuf;

use anyhow::Context;
use polars::prelude::*;

use crate::flags::GlobalArgs;
use crate::config::Common;
use crate::info;
use crate::lake::Lake;
use crate::model::fit::FitOptions;
use crate::model::file::ModelFile;
use crate::model::metrics::{auc, log_loss, Metrics};
use crate::model::penalty::{self, PenaltySetting, SearchSettings};
use crate::model::promotion::{self, Comparison, Promotion, Refused, Rules};
use crate::model::recalibrate;
use crate::model::store::{self, Tables};
use crate::model::train::{train, GroupMetrics, Label, TrainSettings, Trained};
use crate::usage_error;

/// Reads the lake as of --as-of; labels closed interviews (no-show or candidate
/// cancellation by default), builds point-in-time snapshots at 168/72/24/6 hours
/// before each slot, fits an L2-penalised logistic regression (noshow's Newton solver; --solver linfa for linfa-logistic's L-BFGS) on the
/// older weeks and evaluates on the latest --test-weeks. Writes MODEL/model.json,
/// MODEL/evaluation/{metrics,calibration,fairness,coefficients,test_predictions}.{parquet,csv} and a
/// copy under MODEL/versions/NNNN/, and says how the new model compares with the
/// previous one on the same test window. A model whose test window is too small, or
/// that is worse than the current one beyond the margins, is kept under
/// MODEL/candidates/NNNN/ instead, the current model stays, and train exits with
/// status 3 (--force promotes it anyway).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub lake: crate::flags::LakeFlag,
    #[command(flatten)]
    pub model: crate::flags::ModelFlag,
    /// Hours before the slot of the headline evaluation [config: train.horizon_hours; default 24].
    #[arg(long, value_name = "H")]
    pub horizon_hours: Option<f64>,
    /// no_show_or_candidate_cancel, no_show or candidate_cancel [config: train.label].
    #[arg(long)]
    pub label: Option<String>,
    /// Latest weeks held out for the evaluation [config: train.test_weeks; default 4].
    #[arg(long, value_name = "N")]
    pub test_weeks: Option<u32>,
    /// L2 penalty α (scikit-learn C = 1/α); fixes it and skips the search over
    /// train.l2_grid [config: train.l2; default: chosen by the search].
    #[arg(long, value_name = "ALPHA")]
    pub l2: Option<f64>,
    /// Optimiser: newton (default: noshow's own, exact Hessian, a few passes) or linfa (linfa-logistic's L-BFGS, the reference).
    #[arg(long, value_enum, default_value = "newton", hide = true)]
    pub solver: crate::model::fit::SolverKind,
    /// Make the new model current even when it fails the promotion checks
    /// (train.min_test_interviews, min_test_misses, max_auc_drop, max_log_loss_rise).
    #[arg(long)]
    pub force: bool,
    /// Also write the standardised training design matrix (columns as in model.json,
    /// plus `y`) to this Parquet file, for benchmarks against other solvers.
    #[arg(long, value_name = "FILE", hide = true)]
    pub export_design: Option<PathBuf>,
}

/// One train per model folder at a time, for the whole run (the store's own lock covers
/// only the write): a second one refuses at once instead of fitting for nothing.
fn lock_train(model: &std::path::Path) -> anyhow::Result<std::fs::File> {
    crate::store::Store::new(model, crate::store::Kind::Model).claim()?;
    crate::store::try_lock_exclusive(model, ".train.lock", |lock| {
        format!("another `noshow train` is in progress on the model folder {} (lock {} is held); this one did nothing", model.display(), lock.display())
    })
}

/// Settings resolved from flags, config and defaults, checked before any data is read.
struct Resolved {
    lake: PathBuf,
    model: PathBuf,
    settings: TrainSettings,
    keep_versions: usize,
    rules: Rules,
    withhold: Withhold,
}

fn resolve(args: &Args, common: &Common) -> anyhow::Result<Resolved> {
    let cfg = &common.config.train;
    let lake = args.lake.resolve(common)?;
    let model = args.model.resolve(common)?;
    let horizon_hours = args.horizon_hours.or(cfg.horizon_hours).unwrap_or(crate::config::DEFAULT_HORIZON_HOURS);
    if !(horizon_hours.is_finite() && horizon_hours > 0.0 && horizon_hours <= 24.0 * 60.0) {
        return Err(usage_error(format!("horizon_hours must be between 0 and 1440 hours, not {horizon_hours}")));
    }
    let label_text = args.label.clone().or_else(|| cfg.label.clone()).unwrap_or_else(|| "no_show_or_candidate_cancel".into());
    let label = Label::parse(&label_text).ok_or_else(|| {
        usage_error(format!("label {label_text:?} is not one of no_show_or_candidate_cancel, no_show, candidate_cancel"))
    })?;
    let test_weeks = args.test_weeks.or(cfg.test_weeks).unwrap_or(crate::config::DEFAULT_TEST_WEEKS);
    if test_weeks == 0 {
        return Err(usage_error("test_weeks must be at least 1"));
    }
    let (l2, penalty) = match (args.l2, cfg.l2) {
        (Some(l2), _) => (l2, PenaltySetting::Fixed { by: "--l2".into() }),
        (None, Some(l2)) => (l2, PenaltySetting::Fixed { by: "train.l2".into() }),
        (None, None) => (penalty::DEFAULT_L2, PenaltySetting::Search(search_settings(cfg)?)),
    };
    if !(l2.is_finite() && l2 >= 0.0) {
        return Err(usage_error(format!("l2 must be a finite number >= 0, not {l2}")));
    }
    let recalibrate_weeks = match (cfg.recalibrate.unwrap_or(true), cfg.recalibrate_weeks) {
        (_, Some(0)) => return Err(usage_error("train.recalibrate_weeks must be at least 1")),
        (true, weeks) => Some(weeks.unwrap_or(recalibrate::DEFAULT_WEEKS)),
        (false, _) => None,
    };
    let grace_minutes = common.grace_minutes;
    let defaults = Rules::default();
    let rules = Rules {
        min_test_interviews: cfg.min_test_interviews.unwrap_or(defaults.min_test_interviews),
        min_test_misses: cfg.min_test_misses.unwrap_or(defaults.min_test_misses),
        max_auc_drop: cfg.max_auc_drop.unwrap_or(defaults.max_auc_drop),
        max_log_loss_rise: cfg.max_log_loss_rise.unwrap_or(defaults.max_log_loss_rise),
    };
    for (name, v) in [("max_auc_drop", rules.max_auc_drop), ("max_log_loss_rise", rules.max_log_loss_rise)] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(usage_error(format!("train.{name} must be a finite number >= 0, not {v}")));
        }
    }
    let withhold = Withhold {
        min_rows: common.config.report.suppression_threshold.unwrap_or(crate::privacy::DEFAULT_SUPPRESSION_THRESHOLD),
        min_misses: cfg.min_group_misses.unwrap_or(DEFAULT_MIN_GROUP_MISSES),
    };
    Ok(Resolved {
        rules,
        withhold,
        lake,
        model,
        keep_versions: cfg.keep_versions.unwrap_or(crate::config::DEFAULT_KEEP_MODEL_VERSIONS).max(1),
        settings: TrainSettings {
            as_of: common.as_of,
            tz: common.tz,
            grace_minutes,
            label,
            horizon_hours,
            test_weeks,
            max_interviews: match cfg.max_interviews.unwrap_or(crate::model::train::DEFAULT_MAX_INTERVIEWS) {
                0 => None,
                n => Some(n),
            },
            min_level_interviews: match cfg.min_level_interviews {
                Some(0) => return Err(usage_error("train.min_level_interviews must be at least 1")),
                n => n,
            },
            fit: FitOptions { l2, solver: args.solver, ..FitOptions::default() }.check().map_err(|e| usage_error(e.to_string()))?,
            penalty,
            recalibrate_weeks,
            recalibrate_min_misses: cfg.recalibrate_min_misses.unwrap_or(recalibrate::DEFAULT_MIN_MISSES),
            drift_window_days: common.config.score.window_days.unwrap_or(crate::config::DEFAULT_WINDOW_DAYS),
            extra_features: extra_features(cfg)?,
        },
    })
}

/// `[train] extra_features`, checked: no built-in name, no repeats.
fn extra_features(cfg: &crate::config::TrainConfig) -> anyhow::Result<Vec<String>> {
    let names = cfg.extra_features.clone().unwrap_or_default();
    for (k, name) in names.iter().enumerate() {
        if crate::features::is_reserved_name(name) {
            return Err(usage_error(format!("train.extra_features: {name:?} is a built-in feature or column, not an extra column")));
        }
        if names[..k].contains(name) {
            return Err(usage_error(format!("train.extra_features names {name:?} twice")));
        }
    }
    Ok(names)
}

/// The penalty search's settings from `[train]`, checked.
fn search_settings(cfg: &crate::config::TrainConfig) -> anyhow::Result<SearchSettings> {
    let defaults = SearchSettings::default();
    let mut grid = cfg.l2_grid.clone().unwrap_or(defaults.grid);
    if grid.is_empty() || grid.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return Err(usage_error(format!("train.l2_grid must list penalties that are finite and > 0, not {grid:?}")));
    }
    grid.sort_by(f64::total_cmp);
    grid.dedup();
    let folds = cfg.l2_folds.unwrap_or(defaults.folds);
    if folds == 0 {
        return Err(usage_error("train.l2_folds must be at least 1"));
    }
    Ok(SearchSettings { grid, folds, max_rows: cfg.l2_search_max_rows.unwrap_or(defaults.max_rows) })
}

pub fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<()> {
    let mut common = Common::resolve(global)?;
    // Settings are checked before any data is read (and resolved again below once the
    // lake's zone is known).
    resolve(args, &common)?;
    let lake = args.lake.resolve(&common)?;
    let snapshot = Lake::new(&lake).snapshot()?;
    common.adopt_zone(snapshot.zone().as_deref(), &format!("the lake {}", lake.display()))?;
    let r = resolve(args, &common)?;
    if !r.settings.extra_features.is_empty() {
        let have = crate::analytics::extra_columns(&mut snapshot.scan_interviews()?)?;
        if let Some(missing) = r.settings.extra_features.iter().find(|c| !have.contains(c)) {
            return Err(usage_error(format!(
                "train.extra_features names {missing}, which is not an extra interview column of the lake {} ({})",
                lake.display(),
                if have.is_empty() { "it has none".to_string() } else { format!("it has: {}", have.join(", ")) }
            )));
        }
    }
    let _train_lock = lock_train(&r.model)?;
    let started = std::time::Instant::now();
    let trained = train(snapshot.scan_interviews()?, snapshot.scan_events()?, &r.settings)
        .with_context(|| format!("training on lake {}", r.lake.display()))?;
    info!(
        "train: {} training rows ({} interviews), {} test interviews, fitted in {:.1} s",
        trained.model.training_window.rows,
        trained.model.training_window.interviews,
        trained.model.test_window.interviews,
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.export_design {
        export_design(path, &trained)?;
        info!("train: design matrix written to {}", path.display());
    }

    // Compare with the current model on this test window before deciding.
    let previous = match store::previous(&r.model) {
        Some(Ok(prev)) => Some(prev),
        Some(Err(e)) => {
            crate::warn!("the current model cannot be compared: {e}");
            None
        }
        None => None,
    };
    let mut model = trained.model.clone();
    let promotion = decide(args, &r, previous.as_ref(), &trained);
    model.promotion = Some(promotion.clone());
    let mut tables = evaluation_tables(&trained, r.withhold)?;
    let promote = promotion.decision != "candidate";
    let (version, written) = if promote {
        store::save(&r.model, model, &mut tables, r.keep_versions)?
    } else {
        store::keep_candidate(&r.model, model, &mut tables, r.keep_versions)?
    };
    let m = &trained.model.metrics;
    let state = match (promote, written) {
        (true, true) => "",
        (true, false) => " (unchanged: same fit as the current model)",
        (false, true) => " (kept as a candidate, not made current)",
        (false, false) => " (unchanged: same fit as the newest candidate, not made current)",
    };
    crate::logging::out(&format!(
        "model {version}{state}: test window {} to {} at {} h: {} interviews, {} misses; AUC {}, PR-AUC {}, log loss {}, Brier {}, top 10 % catch {}",
        trained.model.test_window.start,
        trained.model.test_window.end,
        r.settings.horizon_hours,
        trained.model.test_window.interviews,
        trained.model.test_window.positives,
        fmt(m.auc),
        fmt(m.pr_auc),
        fmt(m.log_loss),
        fmt(m.brier),
        fmt(m.top_decile_capture)
    ));
    if let Some(c) = promotion.compared_with.as_ref().filter(|c| written && c.version != version) {
        crate::logging::out(&format!(
            "previous model {} on the same test window: AUC {} (new {}), log loss {} (new {})",
            c.version,
            fmt(c.auc),
            fmt(m.auc),
            fmt(c.log_loss),
            fmt(m.log_loss)
        ));
    }
    for note in &promotion.notes {
        info!("train: {note}");
    }
    if promotion.decision == "forced" {
        crate::warn!("model {version} was made current by --force despite: {}", promotion.reasons.join("; "));
    }
    if !promote {
        return Err(Refused { version, reasons: promotion.reasons, current: previous.map(|p| p.version) }.into());
    }
    Ok(())
}

/// Applies model::promotion's rule to the new model against the current one.
fn decide(args: &Args, r: &Resolved, previous: Option<&ModelFile>, trained: &Trained) -> Promotion {
    let mut notes = Vec::new();
    let window = &trained.model.test_window;
    let parse = |t: &str| crate::time::parse_timestamp(t, chrono_tz::UTC).ok();
    let compared_with = match previous {
        None => {
            notes.push("there is no current model to compare with".to_string());
            None
        }
        Some(prev) if parse(&prev.training_window.end).zip(parse(&window.start)).is_none_or(|(end, start)| end > start) => {
            notes.push(format!(
                "the current model {} was trained on slots up to {}, inside this test window (from {}): not compared, \
                 as the comparison would favour it",
                prev.version, prev.training_window.end, window.start
            ));
            None
        }
        Some(prev) => match score_previous(prev, trained) {
            Ok((auc, log_loss)) => Some(Comparison { version: prev.version.clone(), auc, log_loss }),
            Err(e) => {
                crate::warn!("previous model {} could not score the test window: {e:#}", prev.version);
                notes.push(format!("the current model {} could not score this test window, so it was not compared", prev.version));
                None
            }
        },
    };
    let reasons = promotion::reasons(&r.rules, window, &trained.model.metrics, compared_with.as_ref());
    let same_as_current = previous.is_some_and(|p| store::same_fit(p, &trained.model));
    let decision = if reasons.is_empty() || same_as_current {
        "promoted"
    } else if args.force {
        "forced"
    } else {
        "candidate"
    };
    Promotion { decision: decision.into(), reasons, notes, rules: r.rules, compared_with }
}

fn fmt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.4}")).unwrap_or_else(|| "n/a".into())
}

fn score_previous(prev: &crate::model::file::ModelFile, trained: &Trained) -> anyhow::Result<(Option<f64>, Option<f64>)> {
    let design = prev.encoding()?.design(&trained.test_features)?;
    let p = prev.predict(&design)?;
    Ok((auc(&p, &trained.test_labels), log_loss(&p, &trained.test_labels)))
}

fn export_design(path: &std::path::Path, trained: &Trained) -> anyhow::Result<()> {
    let d = &trained.train_design;
    let mut columns: Vec<Column> = trained
        .column_names
        .iter()
        .enumerate()
        .map(|(j, name)| Column::new(name.as_str().into(), (0..d.rows).map(|i| d.values[i * d.cols + j]).collect::<Vec<f64>>()))
        .collect();
    columns.push(Column::new("y".into(), trained.train_labels.iter().map(|&y| i32::from(y)).collect::<Vec<i32>>()));
    let mut df = DataFrame::new_infer_height(columns)?;
    crate::export::write_parquet(path, &mut df)
}

fn metrics_columns(rows: &[&Metrics]) -> Vec<Column> {
    let f = |name: &str, get: &dyn Fn(&Metrics) -> Option<f64>| Column::new(name.into(), rows.iter().map(|m| get(m)).collect::<Vec<_>>());
    vec![
        Column::new("rows".into(), rows.iter().map(|m| m.rows).collect::<Vec<u64>>()),
        Column::new("positives".into(), rows.iter().map(|m| m.positives).collect::<Vec<u64>>()),
        f("base_rate", &|m| m.base_rate),
        f("auc", &|m| m.auc),
        f("pr_auc", &|m| m.pr_auc),
        f("log_loss", &|m| m.log_loss),
        f("brier", &|m| m.brier),
        f("ece", &|m| m.ece),
        f("top_decile_capture", &|m| m.top_decile_capture),
        f("top_quintile_capture", &|m| m.top_quintile_capture),
    ]
}

/// When a group's figures are withheld from the fairness table.
#[derive(Debug, Clone, Copy)]
pub struct Withhold {
    /// `[report] suppression_threshold`: fewer test interviews and the group's row
    /// keeps only its name (too small to be anonymous).
    pub min_rows: u64,
    /// `[train] min_group_misses`: fewer misses and the metrics are withheld (the
    /// counts stay): an AUC on a handful of misses is noise.
    pub min_misses: u64,
}

/// Default of `[train] min_group_misses`.
pub const DEFAULT_MIN_GROUP_MISSES: u64 = 5;

/// The fairness table: per group its metrics, the AUC's 95 % DeLong interval, and why
/// figures were withheld (`withheld_reason`, null when shown).
fn fairness_table(groups: &[GroupMetrics], w: Withhold) -> anyhow::Result<DataFrame> {
    let reason = |g: &GroupMetrics| -> Option<String> {
        if g.metrics.rows < w.min_rows {
            Some(format!("fewer than {} test interviews (report.suppression_threshold)", w.min_rows))
        } else if g.metrics.positives < w.min_misses {
            Some(format!("fewer than {} misses (train.min_group_misses)", w.min_misses))
        } else {
            None
        }
    };
    let reasons: Vec<Option<String>> = groups.iter().map(reason).collect();
    let small = |i: usize| groups[i].metrics.rows < w.min_rows;
    let shown = |i: usize| reasons[i].is_none();
    let count = |name: &str, get: &dyn Fn(&Metrics) -> u64| {
        Column::new(name.into(), (0..groups.len()).map(|i| (!small(i)).then(|| get(&groups[i].metrics))).collect::<Vec<Option<u64>>>())
    };
    let figure = |name: &str, get: &dyn Fn(&GroupMetrics) -> Option<f64>| {
        Column::new(name.into(), (0..groups.len()).map(|i| if shown(i) { get(&groups[i]) } else { None }).collect::<Vec<Option<f64>>>())
    };
    Ok(DataFrame::new_infer_height(vec![
        Column::new("dimension".into(), groups.iter().map(|g| g.dimension.clone()).collect::<Vec<_>>()),
        Column::new("level".into(), groups.iter().map(|g| g.level.clone()).collect::<Vec<_>>()),
        count("rows", &|m| m.rows),
        count("positives", &|m| m.positives),
        Column::new(
            "base_rate".into(),
            (0..groups.len()).map(|i| if small(i) { None } else { groups[i].metrics.base_rate }).collect::<Vec<Option<f64>>>(),
        ),
        figure("auc", &|g| g.metrics.auc),
        figure("auc_low", &|g| g.auc_interval.map(|i| i.0)),
        figure("auc_high", &|g| g.auc_interval.map(|i| i.1)),
        figure("pr_auc", &|g| g.metrics.pr_auc),
        figure("log_loss", &|g| g.metrics.log_loss),
        figure("brier", &|g| g.metrics.brier),
        figure("ece", &|g| g.metrics.ece),
        figure("top_decile_capture", &|g| g.metrics.top_decile_capture),
        figure("top_quintile_capture", &|g| g.metrics.top_quintile_capture),
        Column::new("withheld_reason".into(), reasons),
    ])?)
}

fn evaluation_tables(t: &Trained, withhold: Withhold) -> anyhow::Result<Tables> {
    let model = &t.model;
    let mut sets = vec!["test_headline".to_string()];
    let mut horizons = vec![model.horizon_hours];
    let mut rows = vec![&model.metrics];
    for h in &model.metrics_by_horizon {
        sets.push(format!("test_{}h", h.horizon_hours));
        horizons.push(h.horizon_hours);
        rows.push(&h.metrics);
    }
    let mut cols = vec![Column::new("set".into(), sets), Column::new("horizon_hours".into(), horizons)];
    cols.extend(metrics_columns(&rows));
    let metrics = DataFrame::new_infer_height(cols)?;

    let before: Vec<Option<f64>> = (0..t.calibration.len())
        .map(|i| model.recalibration.as_ref().and_then(|r| r.deciles.get(i)).map(|d| d.mean_predicted_before))
        .collect();
    let calibration = DataFrame::new_infer_height(vec![
        Column::new("decile".into(), t.calibration.iter().map(|b| b.decile).collect::<Vec<u32>>()),
        Column::new("rows".into(), t.calibration.iter().map(|b| b.rows).collect::<Vec<u64>>()),
        Column::new("mean_predicted".into(), t.calibration.iter().map(|b| b.mean_predicted).collect::<Vec<f64>>()),
        Column::new("observed_rate".into(), t.calibration.iter().map(|b| b.observed_rate).collect::<Vec<f64>>()),
        Column::new("mean_predicted_before_recalibration".into(), before),
    ])?;

    let fairness = fairness_table(&t.fairness, withhold)?;

    let c = &model.coefficient_table;
    let coefficients = DataFrame::new_infer_height(vec![
        Column::new("feature".into(), c.iter().map(|r| r.feature.clone()).collect::<Vec<_>>()),
        Column::new("coef".into(), c.iter().map(|r| r.coef).collect::<Vec<f64>>()),
        Column::new("std_error".into(), c.iter().map(|r| r.std_error).collect::<Vec<_>>()),
        Column::new("unit".into(), c.iter().map(|r| r.unit.clone()).collect::<Vec<_>>()),
        Column::new("odds_ratio".into(), c.iter().map(|r| r.odds_ratio).collect::<Vec<f64>>()),
        Column::new("odds_ratio_low".into(), c.iter().map(|r| r.odds_ratio_low).collect::<Vec<_>>()),
        Column::new("odds_ratio_high".into(), c.iter().map(|r| r.odds_ratio_high).collect::<Vec<_>>()),
        Column::new("sentence".into(), c.iter().map(|r| r.sentence.clone()).collect::<Vec<_>>()),
    ])?;
    let predictions = DataFrame::new_infer_height(vec![
        t.test_features.column("interview_id")?.clone(),
        Column::new("p_not_attend".into(), t.test_predictions.clone()),
        Column::new("label".into(), t.test_labels.clone()),
    ])?;
    Ok(vec![
        ("test_predictions", predictions),
        ("metrics", metrics),
        ("calibration", calibration),
        ("fairness", fairness),
        ("coefficients", coefficients),
        ("recalibration", recalibration_table(model)?),
        ("l2_search", l2_search_table(model)?),
    ])
}

/// Calibration on the test window with the fitted and with the recalibrated
/// intercept: the headline rows, then each horizon.
fn recalibration_table(model: &ModelFile) -> anyhow::Result<DataFrame> {
    use crate::model::recalibrate::Calibration;
    let mut sets: Vec<String> = Vec::new();
    let mut horizons: Vec<f64> = Vec::new();
    let mut pairs: Vec<(&Calibration, &Calibration)> = Vec::new();
    if let Some(r) = &model.recalibration {
        sets.push("test_headline".into());
        horizons.push(model.horizon_hours);
        pairs.push((&r.test_before, &r.test_after));
        for h in &r.by_horizon {
            sets.push(format!("test_{}h", h.horizon_hours));
            horizons.push(h.horizon_hours);
            pairs.push((&h.before, &h.after));
        }
    }
    let f = |name: &str, get: &dyn Fn(&(&Calibration, &Calibration)) -> Option<f64>| {
        Column::new(name.into(), pairs.iter().map(get).collect::<Vec<Option<f64>>>())
    };
    Ok(DataFrame::new_infer_height(vec![
        Column::new("set".into(), sets),
        Column::new("horizon_hours".into(), horizons),
        Column::new("rows".into(), pairs.iter().map(|p| p.0.rows).collect::<Vec<u64>>()),
        f("observed_rate", &|p| p.0.observed_rate),
        f("mean_predicted_before", &|p| p.0.mean_predicted),
        f("mean_predicted_after", &|p| p.1.mean_predicted),
        f("ece_before", &|p| p.0.ece),
        f("ece_after", &|p| p.1.ece),
        f("log_loss_before", &|p| p.0.log_loss),
        f("log_loss_after", &|p| p.1.log_loss),
        f("brier_before", &|p| p.0.brier),
        f("brier_after", &|p| p.1.brier),
    ])?)
}

/// The penalty search's validation curve: one row per grid value, its mean log loss
/// and one column per validation week (`week_YYYY-MM-DD`); a fixed penalty gives one
/// row with no losses.
fn l2_search_table(model: &ModelFile) -> anyhow::Result<DataFrame> {
    let Some(p) = &model.penalty else {
        return Ok(DataFrame::new_infer_height(vec![Column::new("l2".into(), Vec::<f64>::new())])?);
    };
    if p.curve.is_empty() {
        return Ok(DataFrame::new_infer_height(vec![
            Column::new("l2".into(), vec![p.l2]),
            Column::new("chosen".into(), vec![true]),
            Column::new("mean_log_loss".into(), vec![None::<f64>]),
        ])?);
    }
    let mut columns = vec![
        Column::new("l2".into(), p.curve.iter().map(|c| c.l2).collect::<Vec<f64>>()),
        Column::new("chosen".into(), p.curve.iter().map(|c| c.l2 == p.l2).collect::<Vec<bool>>()),
        Column::new("mean_log_loss".into(), p.curve.iter().map(|c| c.mean_log_loss).collect::<Vec<Option<f64>>>()),
    ];
    for (k, fold) in p.folds.iter().enumerate() {
        let name = format!("week_{}", fold.validation_start.get(..10).unwrap_or(&fold.validation_start));
        columns.push(Column::new(name.into(), p.curve.iter().map(|c| c.fold_log_loss.get(k).copied().flatten()).collect::<Vec<Option<f64>>>()));
    }
    Ok(DataFrame::new_infer_height(columns)?)
}
