//! Choosing the L2 penalty on the data, by rolling-origin validation.
//!
//! Rule: for each of the last `folds` weeks w of the training window (oldest first),
//! fit on the training rows whose slot is before w and measure the mean log loss on
//! the rows whose slot falls in w; do so for every value of the grid; the penalty
//! with the lowest log loss averaged over the folds is the model's. Each fold only
//! ever predicts a week after everything it was fitted on, as the real model does.
//! `[train] l2` (or `--l2`) fixes the value instead and no search is run.
//!
//! The search reads the training design built with the whole training window's
//! encoding (means, sds and levels): every grid value shares that small look-ahead
//! equally, so it does not tilt the choice, and the design is built once. The rows
//! must be in slot order, so that a fold's training rows and its validation week are
//! runs of consecutive rows (no copies).
//!
//! Cost: every fit of a fold starts from the previous grid value's coefficients
//! (warm start: Newton then needs one or two passes instead of five), the search fits
//! stop at a gradient of [`SEARCH_TOLERANCE_PER_ROW`] or take their last, small step
//! without the pass that would confirm it (the log loss they are judged by moves with
//! the square of the remaining error), and above `max_rows` training rows
//! the search runs on a deterministic subsample of interviews (XXH3 of
//! `interview_id`, every snapshot of a kept interview), recorded in model.json. The
//! final fit then starts from the latest fold's coefficients at the chosen value.

use polars::prelude::StringChunked;
use serde::{Deserialize, Serialize};

use super::encoding::{Design, Rows};
use super::fit::{FitOptions, Fitted, Logistic};
use super::seam::RiskModel;
use super::metrics::log_loss;
use crate::time::{format_utc, Micros, MICROS_PER_DAY};

/// The default grid: half-decade steps around the historical default 1.0 (the loss
/// is a sum over rows, so the larger values matter on small lakes and rare levels).
pub const DEFAULT_GRID: &[f64] = &[0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0];
/// The penalty used when nothing else decides (and the one `[train] l2` used to default to).
pub const DEFAULT_L2: f64 = 1.0;
/// Default of `[train] l2_folds`: validation weeks.
pub const DEFAULT_FOLDS: u32 = 3;
/// Default of `[train] l2_search_max_rows`.
pub const DEFAULT_SEARCH_MAX_ROWS: usize = 200_000;
/// Gradient tolerance (per row) of the search's fits.
pub const SEARCH_TOLERANCE_PER_ROW: f64 = 1e-5;
/// A search fit takes its last Newton step unchecked once the decrement per row is
/// below this (see [`Logistic::fit_quick`]).
const FINAL_STEP_BELOW: f64 = 1e-5;
/// Seed of the subsample hash, apart from `train.max_interviews`'s unseeded one.
const SUBSAMPLE_SEED: u64 = 0x6c32_7365_6172_6368;

const WEEK: Micros = 7 * MICROS_PER_DAY;

/// How the penalty is set.
#[derive(Debug, Clone, PartialEq)]
pub enum PenaltySetting {
    /// A fixed value (`FitOptions::l2`); `by` names where it came from.
    Fixed { by: String },
    /// Search the grid.
    Search(SearchSettings),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchSettings {
    pub grid: Vec<f64>,
    pub folds: u32,
    pub max_rows: usize,
}

impl Default for SearchSettings {
    fn default() -> Self {
        SearchSettings { grid: DEFAULT_GRID.to_vec(), folds: DEFAULT_FOLDS, max_rows: DEFAULT_SEARCH_MAX_ROWS }
    }
}

/// How the penalty was set, as model.json records it (`penalty`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Penalty {
    /// `search` or `fixed`.
    pub method: String,
    /// The penalty the model was fitted with (also `solver.l2`).
    pub l2: f64,
    pub rule: String,
    /// Where a fixed value came from: `--l2` or `train.l2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grid: Vec<f64>,
    /// The validation weeks used, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folds: Vec<Fold>,
    /// Per grid value, the mean validation log loss over the folds and each fold's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub curve: Vec<CurvePoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsample: Option<Subsample>,
    /// Why the search kept the default, or what it had to leave out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fold {
    pub validation_start: String,
    pub validation_end: String,
    pub training_rows: u64,
    pub validation_rows: u64,
    pub validation_positives: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub l2: f64,
    /// `None` when a fold's fit failed at this value.
    pub mean_log_loss: Option<f64>,
    pub fold_log_loss: Vec<Option<f64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subsample {
    pub rows: u64,
    pub of_rows: u64,
    pub share: f64,
    pub rule: String,
}

const SEARCH_RULE: &str = "rolling-origin validation: for each of the last l2_folds weeks w of the training \
window, fit on training rows with slots before w and take the mean log loss on the rows (every horizon) with slots \
in w; the grid value with the lowest mean over the weeks is chosen (ties: the smaller value)";

impl Penalty {
    /// The record of a fixed penalty.
    pub fn fixed(l2: f64, by: &str) -> Penalty {
        Penalty {
            method: "fixed".into(),
            l2,
            rule: format!("fixed by {by}; no search"),
            fixed_by: Some(by.into()),
            grid: Vec::new(),
            folds: Vec::new(),
            curve: Vec::new(),
            subsample: None,
            notes: Vec::new(),
        }
    }
}

/// The search's outcome: the record, and the latest fold's fit at the chosen value
/// (a start for the final fit), if any.
pub struct Searched {
    pub penalty: Penalty,
    pub warm_start: Option<Fitted>,
}

/// Training data of the search: rows in slot order.
struct Data<'a> {
    design: Rows<'a>,
    y: &'a [bool],
    slots: &'a [Micros],
}

/// Runs the search. `design`, `y` and `slots` are the training rows in slot order;
/// `ids` their interview ids (read only to subsample); `test_start` the end of the
/// training window.
pub fn search(
    design: &Design,
    y: &[bool],
    slots: &[Micros],
    ids: &StringChunked,
    test_start: Micros,
    settings: &SearchSettings,
    base: &Logistic,
) -> Searched {
    let mut notes = Vec::new();
    let (owned, subsample) = subsample(design, y, slots, ids, settings.max_rows);
    let data = match &owned {
        Some((d, yy, ss)) => Data { design: d.all(), y: yy, slots: ss },
        None => Data { design: design.all(), y, slots },
    };
    let first = |t: Micros| data.slots.partition_point(|&s| s < t);
    let mut folds: Vec<(std::ops::Range<usize>, std::ops::Range<usize>, Fold)> = Vec::new();
    for j in (1..=i64::from(settings.folds)).rev() {
        let (start, end) = (test_start - j * WEEK, test_start - (j - 1) * WEEK);
        let (a, b) = (first(start), first(end));
        let positives = data.y[..a].iter().filter(|&&v| v).count();
        let week = format!("the week from {}", format_utc(start));
        if b == a {
            notes.push(format!("{week} holds no rows: not a fold"));
            continue;
        }
        if positives == 0 || positives == a {
            notes.push(format!("before {week} the training rows hold one outcome or none: not a fold"));
            continue;
        }
        let fold = Fold {
            validation_start: format_utc(start),
            validation_end: format_utc(end),
            training_rows: a as u64,
            validation_rows: (b - a) as u64,
            validation_positives: data.y[a..b].iter().filter(|&&v| v).count() as u64,
        };
        folds.push((0..a, a..b, fold));
    }
    let learner = |l2: f64| {
        let base = base.options();
        FitOptions { l2, gradient_tolerance_per_row: base.gradient_tolerance_per_row.max(SEARCH_TOLERANCE_PER_ROW), ..base.clone() }
            .check()
    };
    let mut losses: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(folds.len()); settings.grid.len()];
    let mut latest: Vec<Option<Fitted>> = vec![None; settings.grid.len()];
    let mut previous_fold_first: Option<Fitted> = None;
    for (f, (train, valid, _)) in folds.iter().enumerate() {
        let mut start = previous_fold_first.clone();
        for (g, &l2) in settings.grid.iter().enumerate() {
            let rows = data.design.slice_rows(train.clone());
            let fitted =
                learner(l2).and_then(|learner| learner.fit_quick(rows, &data.y[train.clone()], start.as_ref(), FINAL_STEP_BELOW));
            match fitted {
                Ok(fitted) => {
                    let p = fitted.predict(data.design.slice_rows(valid.clone()));
                    losses[g].push(log_loss(&p, &data.y[valid.clone()]));
                    if g == 0 {
                        previous_fold_first = Some(fitted.clone());
                    }
                    if f + 1 == folds.len() {
                        latest[g] = Some(fitted.clone());
                    }
                    start = Some(fitted);
                }
                Err(e) => {
                    notes.push(format!("l2 = {l2}: the fit before {} failed ({e})", folds[f].2.validation_start));
                    losses[g].push(None);
                }
            }
        }
    }
    let curve: Vec<CurvePoint> = settings
        .grid
        .iter()
        .zip(losses)
        .map(|(&l2, fold_log_loss)| {
            let mean = (!fold_log_loss.is_empty() && fold_log_loss.iter().all(Option::is_some))
                .then(|| fold_log_loss.iter().flatten().sum::<f64>() / fold_log_loss.len() as f64);
            CurvePoint { l2, mean_log_loss: mean, fold_log_loss }
        })
        .collect();
    let mut best: Option<(usize, f64)> = None;
    for (g, c) in curve.iter().enumerate() {
        let Some(m) = c.mean_log_loss else { continue };
        let better = match best {
            None => true,
            Some((b, bm)) => m < bm || (m == bm && c.l2 < curve[b].l2),
        };
        if better {
            best = Some((g, m));
        }
    }
    let (l2, warm_start) = match best {
        Some((g, _)) => (settings.grid[g], latest[g].take()),
        None => {
            notes.push(format!("no validation week could judge the grid: the default l2 = {DEFAULT_L2} was kept"));
            (DEFAULT_L2, None)
        }
    };
    Searched {
        penalty: Penalty {
            method: "search".into(),
            l2,
            rule: SEARCH_RULE.into(),
            fixed_by: None,
            grid: settings.grid.clone(),
            folds: folds.into_iter().map(|f| f.2).collect(),
            curve,
            subsample,
            notes,
        },
        warm_start,
    }
}

type Owned = (Design, Vec<bool>, Vec<Micros>);

/// Above `max_rows`, the rows of a deterministic share of interviews (in order).
fn subsample(design: &Design, y: &[bool], slots: &[Micros], ids: &StringChunked, max_rows: usize) -> (Option<Owned>, Option<Subsample>) {
    let n = design.rows;
    if n <= max_rows || max_rows == 0 {
        return (None, None);
    }
    let share = max_rows as f64 / n as f64;
    let threshold = (share * u64::MAX as f64) as u64;
    let mut values = Vec::with_capacity((max_rows + max_rows / 10) * design.cols);
    let (mut yy, mut ss) = (Vec::new(), Vec::new());
    for (i, id) in ids.iter().enumerate().take(n) {
        if xxhash_rust::xxh3::xxh3_64_with_seed(id.unwrap_or("").as_bytes(), SUBSAMPLE_SEED) < threshold {
            values.extend_from_slice(design.row(i));
            yy.push(y[i]);
            ss.push(slots[i]);
        }
    }
    let rows = yy.len();
    let record = Subsample {
        rows: rows as u64,
        of_rows: n as u64,
        share,
        rule: format!(
            "more than train.l2_search_max_rows = {max_rows} training rows: the search used every snapshot of the \
             interviews whose XXH3-64 hash of interview_id (seed {SUBSAMPLE_SEED:#x}) falls in the lowest {:.2} % of \
             the hash range; the final fit uses every row",
            100.0 * share
        ),
    };
    (Some((Design { rows, cols: design.cols, values }, yy, ss)), Some(record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fit::{fit_logistic, sigmoid};
    use polars::prelude::NewChunkedArray;

    /// Ten weeks of rows with a strong signal in column 0 and pure noise in the
    /// other columns (where a penalty helps), in slot order.
    fn weeks(rows_per_week: usize, cols: usize) -> (Design, Vec<bool>, Vec<Micros>, StringChunked) {
        let mut values = Vec::new();
        let (mut y, mut slots, mut ids) = (Vec::new(), Vec::new(), Vec::new());
        let mut state = 7u64;
        let mut next = || {
            state = crate::generate::mix64(state.wrapping_add(0x9e37_79b9_7f4a_7c15));
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for w in 0..10 {
            for i in 0..rows_per_week {
                let x: Vec<f64> = (0..cols).map(|_| next() * 2.0 - 1.0).collect();
                y.push(next() < sigmoid(-1.0 + 1.5 * x[0]));
                values.extend_from_slice(&x);
                slots.push(w as i64 * WEEK + i as i64);
                ids.push(format!("I{w}-{i}"));
            }
        }
        let n = y.len();
        (Design { rows: n, cols, values }, y, slots, StringChunked::from_iter_values("id".into(), ids.into_iter()))
    }

    #[test]
    fn the_curve_matches_fits_made_one_by_one() {
        let (design, y, slots, ids) = weeks(60, 12);
        let settings = SearchSettings { grid: vec![0.3, 3.0, 30.0], folds: 3, max_rows: 1_000_000 };
        let test_start = 10 * WEEK;
        let out = search(&design, &y, &slots, &ids, test_start, &settings, &FitOptions::default().check().unwrap());
        assert_eq!(out.penalty.folds.len(), 3);
        assert!(out.penalty.subsample.is_none());
        // Recompute every point with copied sub-designs and cold starts.
        for point in &out.penalty.curve {
            for (k, w) in (7..10).enumerate() {
                let train: Vec<usize> = (0..y.len()).filter(|&i| slots[i] < w * WEEK).collect();
                let valid: Vec<usize> = (0..y.len()).filter(|&i| slots[i] >= w * WEEK && slots[i] < (w + 1) * WEEK).collect();
                let copy = |rows: &[usize]| Design {
                    rows: rows.len(),
                    cols: design.cols,
                    values: rows.iter().flat_map(|&i| design.row(i).to_vec()).collect(),
                };
                let labels = |rows: &[usize]| rows.iter().map(|&i| y[i]).collect::<Vec<bool>>();
                let options = FitOptions { l2: point.l2, gradient_tolerance_per_row: 1e-9, ..FitOptions::default() };
                let fitted = fit_logistic(&copy(&train), &labels(&train), &options).unwrap();
                let expected = log_loss(&fitted.predict(copy(&valid).all()), &labels(&valid)).unwrap();
                let got = point.fold_log_loss[k].unwrap();
                // The search's fits stop at a gradient of 1e-5 per row (or one small
                // step short of it); the reference is converged to 1e-9.
                assert!((got - expected).abs() < 5e-6, "l2 {} week {w}: {got} vs {expected}", point.l2);
            }
        }
        let best = out.penalty.curve.iter().filter_map(|c| c.mean_log_loss).fold(f64::INFINITY, f64::min);
        let worst = out.penalty.curve.iter().filter_map(|c| c.mean_log_loss).fold(f64::NEG_INFINITY, f64::max);
        // The grid values differ by far more than the tolerance above.
        assert!(worst - best > 1e-3, "curve spread {}", worst - best);
        let chosen = out.penalty.curve.iter().find(|c| c.l2 == out.penalty.l2).unwrap();
        assert_eq!(chosen.mean_log_loss, Some(best));
        assert!(out.warm_start.is_some());
    }

    #[test]
    fn a_large_training_set_is_searched_on_a_repeatable_subsample() {
        let (design, y, slots, ids) = weeks(200, 4);
        let settings = SearchSettings { grid: vec![1.0, 10.0], folds: 2, max_rows: 500 };
        let a = search(&design, &y, &slots, &ids, 10 * WEEK, &settings, &FitOptions::default().check().unwrap());
        let sub = a.penalty.subsample.clone().unwrap();
        assert_eq!(sub.of_rows, 2000);
        // Binomial(2000, 0.25): sd ≈ 19.
        assert!((400..=600).contains(&sub.rows), "{}", sub.rows);
        let b = search(&design, &y, &slots, &ids, 10 * WEEK, &settings, &FitOptions::default().check().unwrap());
        assert_eq!(a.penalty, b.penalty);
    }

    #[test]
    fn without_a_usable_week_the_default_stays() {
        let (design, y, slots, ids) = weeks(30, 3);
        // The training window ends before any row: no fold has training rows.
        let out = search(&design, &y, &slots, &ids, 0, &SearchSettings::default(), &FitOptions::default().check().unwrap());
        assert_eq!(out.penalty.l2, DEFAULT_L2);
        assert!(out.penalty.folds.is_empty() && !out.penalty.notes.is_empty());
    }
}
