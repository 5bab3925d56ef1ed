//! Recalibration to recent weeks: after the fit, only the intercept is re-estimated,
//! on the most recent closed weeks, so the feed's probabilities follow the current
//! miss rate rather than the average of half a year.
//!
//! Rule: an intercept-only logistic regression with the fitted model's linear
//! predictor η as an offset, i.e. the shift δ minimising Σ −log σ(±(ηᵢ + δ)) over
//! the window's rows (its score equation: the mean of σ(ηᵢ + δ) equals the rows' miss
//! rate). The coefficients, hence the ranking, the bands and the AUC, do not change.
//! Platt scaling (a slope and an intercept on η) is not used: what drifts with the
//! season is the level, one parameter is estimated well from a few weeks of misses,
//! and a slope fitted on the model's own training rows is about 1 by construction.
//!
//! The window ([`recent_window`]): the last `[train] recalibrate_weeks` whole weeks
//! (default 2) before its end, extended back a week at a time until it holds at
//! least `[train] recalibrate_min_misses` misses at the headline horizon (default
//! 300), so a small lake is not recalibrated on a handful of misses. It is applied
//! twice, with the same rule:
//! - **installed**: ending at as-of, over every closed interview (the test window's
//!   included). The model's `intercept` is the fitted one plus this shift: the feed
//!   scores next week with the level of the weeks just before it. A window ending
//!   where the test window starts would lag a trend by the whole test window.
//! - **evaluated**: ending where the test window starts, over training rows only.
//!   The test window's figures (`test_after`, the metrics, `test_predictions`) use
//!   this shift: they show what the same rule did on weeks it had not seen, one test
//!   window earlier. Figures of the installed shift on the test window would be
//!   in-sample.
//!
//! `[train] recalibrate = false` keeps the fitted intercept (δ = 0) in both. Either
//! way model.json records the calibration on the test window before and after (mean
//! predicted vs observed rate, ECE, log loss, Brier, the decile table), overall and
//! per horizon.

use serde::{Deserialize, Serialize};

use super::fit::sigmoid;
use super::metrics::{brier, calibration_deciles, expected_calibration_error, log_loss};
use crate::time::{format_utc, Micros, MICROS_PER_DAY};

/// Default of `[train] recalibrate_weeks`.
pub const DEFAULT_WEEKS: u32 = 2;
/// Default of `[train] recalibrate_min_misses`.
pub const DEFAULT_MIN_MISSES: u64 = 300;

pub const METHOD: &str = "intercept-only logistic fit with the model's linear predictor as offset on the snapshot \
rows (every horizon) with slots in the window: the last recalibrate_weeks whole weeks before as-of, extended a week \
at a time until it holds recalibrate_min_misses misses at the headline horizon; intercept = fitted_intercept + \
shift, coefficients unchanged. The test-window figures use the same rule ending at the test window's start \
(`evaluation`), on training rows only";

const WEEK: Micros = 7 * MICROS_PER_DAY;

/// The rows a shift is estimated on.
pub struct Rows<'a> {
    /// Linear predictor with the fitted intercept.
    pub eta: &'a [f64],
    pub label: &'a [bool],
    pub slot: &'a [Micros],
    /// Whether the row is the headline horizon's snapshot (one per interview).
    pub headline: &'a [bool],
}

/// Where a shift was estimated, and the shift (`None` when the window holds one
/// outcome or none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentWindow {
    pub weeks: u32,
    pub window_start: String,
    pub window_end: String,
    pub window_rows: u64,
    pub window_positives: u64,
    /// Misses at the headline horizon (one row per interview).
    pub headline_misses: u64,
    pub shift: Option<f64>,
}

/// The window of [the module's rule](self) ending at `end`, and its shift.
pub fn recent_window(rows: &Rows, end: Micros, min_weeks: u32, min_misses: u64) -> RecentWindow {
    let n = rows.eta.len().min(rows.label.len()).min(rows.slot.len()).min(rows.headline.len());
    // Week index back from `end` (0: the last week) of every row before it.
    let back = |i: usize| (rows.slot[i] < end).then(|| ((end - 1 - rows.slot[i]) / WEEK) as usize);
    let deepest = (0..n).filter_map(back).max();
    let mut misses_by_week = vec![0u64; deepest.map_or(0, |d| d + 1)];
    for i in 0..n {
        if let Some(w) = back(i) {
            if rows.headline[i] && rows.label[i] {
                misses_by_week[w] += 1;
            }
        }
    }
    let mut weeks = min_weeks.max(1) as usize;
    while weeks < misses_by_week.len() && misses_by_week[..weeks.min(misses_by_week.len())].iter().sum::<u64>() < min_misses {
        weeks += 1;
    }
    let start = end - weeks as i64 * WEEK;
    let (mut eta, mut y) = (Vec::new(), Vec::new());
    let mut headline_misses = 0;
    for i in 0..n {
        if back(i).is_some_and(|w| w < weeks) {
            eta.push(rows.eta[i]);
            y.push(rows.label[i]);
            headline_misses += u64::from(rows.headline[i] && rows.label[i]);
        }
    }
    RecentWindow {
        weeks: weeks as u32,
        window_start: format_utc(start),
        window_end: format_utc(end),
        window_rows: eta.len() as u64,
        window_positives: y.iter().filter(|&&v| v).count() as u64,
        headline_misses,
        shift: intercept_shift(&eta, &y),
    }
}

/// The shift δ with Σ σ(ηᵢ + δ) = Σ yᵢ (Newton's method kept inside a bracket that
/// halves when a step leaves it). `None` unless the rows hold both outcomes.
pub fn intercept_shift(eta: &[f64], y: &[bool]) -> Option<f64> {
    let positives = y.iter().filter(|&&v| v).count() as f64;
    let n = eta.len().min(y.len());
    if positives == 0.0 || positives >= n as f64 {
        return None;
    }
    let score = |d: f64| -> (f64, f64) {
        eta[..n].iter().fold((-positives, 0.0), |(f, g), &e| {
            let p = sigmoid(e + d);
            (f + p, g + p * (1.0 - p))
        })
    };
    let (mut lo, mut hi) = (-30.0_f64, 30.0_f64);
    let mut d = 0.0;
    for _ in 0..200 {
        let (f, g) = score(d);
        if f.abs() <= 1e-10 * n as f64 {
            return Some(d);
        }
        if f > 0.0 {
            hi = d;
        } else {
            lo = d;
        }
        let newton = d - f / g;
        d = if g > 0.0 && newton > lo && newton < hi { newton } else { 0.5 * (lo + hi) };
        if hi - lo < 1e-14 {
            break;
        }
    }
    Some(d)
}

/// Calibration of a set of probabilities against outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub rows: u64,
    pub observed_rate: Option<f64>,
    pub mean_predicted: Option<f64>,
    pub ece: Option<f64>,
    pub log_loss: Option<f64>,
    pub brier: Option<f64>,
}

impl Calibration {
    pub fn of(p: &[f64], y: &[bool]) -> Calibration {
        let n = p.len();
        let mean = |s: f64| (n > 0).then(|| s / n as f64);
        Calibration {
            rows: n as u64,
            observed_rate: mean(y.iter().filter(|&&v| v).count() as f64),
            mean_predicted: mean(p.iter().sum()),
            ece: expected_calibration_error(&calibration_deciles(p, y)),
            log_loss: log_loss(p, y),
            brier: brier(p, y),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HorizonCalibration {
    pub horizon_hours: f64,
    pub before: Calibration,
    pub after: Calibration,
}

/// One decile of the headline test rows (deciles by score, the same rows before and
/// after: the shift does not reorder anyone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decile {
    pub decile: u32,
    pub rows: u64,
    pub observed_rate: f64,
    pub mean_predicted_before: f64,
    pub mean_predicted_after: f64,
}

/// model.json's `recalibration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recalibration {
    /// Whether the shift was applied (false with `train.recalibrate = false`, or when
    /// the recent weeks could not estimate it; `notes` say why).
    pub applied: bool,
    pub method: String,
    /// The installed shift's window (ending at as-of): its weeks, bounds and rows.
    pub weeks: u32,
    pub window_start: String,
    pub window_end: String,
    pub window_rows: u64,
    pub window_positives: u64,
    /// `[train] recalibrate_min_misses` (absent in files written before the rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_misses: Option<u64>,
    /// The fit's own intercept; `intercept` at the top of model.json is this + `shift`.
    pub fitted_intercept: f64,
    pub shift: f64,
    /// The same rule ending at the test window's start, on training rows: the shift
    /// behind every test-window figure (absent in files written before it, where the
    /// installed shift was estimated there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<RecentWindow>,
    /// Headline test rows, with the fitted intercept and with the evaluated shift.
    pub test_before: Calibration,
    pub test_after: Calibration,
    pub deciles: Vec<Decile>,
    pub by_horizon: Vec<HorizonCalibration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The decile table before and after from the same rows' probabilities.
pub fn deciles(before: &[f64], after: &[f64], y: &[bool]) -> Vec<Decile> {
    let b = calibration_deciles(before, y);
    let a = calibration_deciles(after, y);
    b.iter()
        .zip(&a)
        .map(|(b, a)| Decile {
            decile: b.decile,
            rows: b.rows,
            observed_rate: b.observed_rate,
            mean_predicted_before: b.mean_predicted,
            mean_predicted_after: a.mean_predicted,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shift_matches_the_mean_and_solves_a_hand_case() {
        // Offsets 0 for every row, 1 in 4 positive: δ = logit(0.25) = −ln 3.
        let eta = vec![0.0; 8];
        let y = [true, false, false, false, true, false, false, false];
        let d = intercept_shift(&eta, &y).unwrap();
        assert!((d + 3f64.ln()).abs() < 1e-12, "{d}");
        // Spread offsets: after the shift, the mean probability is the observed rate.
        let eta: Vec<f64> = (0..200).map(|i| (i as f64 / 40.0) - 4.0).collect();
        let y: Vec<bool> = (0..200).map(|i| i % 3 == 0).collect();
        let d = intercept_shift(&eta, &y).unwrap();
        let mean: f64 = eta.iter().map(|e| sigmoid(e + d)).sum::<f64>() / 200.0;
        assert!((mean - 67.0 / 200.0).abs() < 1e-9, "{mean}");
        assert_eq!(intercept_shift(&[0.0, 1.0], &[false, false]), None);
    }

    #[test]
    fn the_window_grows_by_whole_weeks_until_it_holds_the_misses() {
        // Six weeks before `end`, one row per interview (all headline), week k back
        // from the end holding k + 1 misses among 10 rows.
        let end = 100 * WEEK;
        let (mut eta, mut label, mut slot, mut headline) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for k in 0..6i64 {
            for j in 0..10 {
                eta.push(0.0);
                label.push(j <= k);
                slot.push(end - k * WEEK - 1 - j);
                headline.push(true);
            }
        }
        // A row at `end` itself is after the window.
        eta.push(0.0);
        label.push(true);
        slot.push(end);
        headline.push(true);
        let rows = Rows { eta: &eta, label: &label, slot: &slot, headline: &headline };
        // Two weeks hold 1 + 2 misses; 6 misses need three weeks (1 + 2 + 3).
        let w = recent_window(&rows, end, 2, 3);
        assert_eq!((w.weeks, w.window_rows, w.headline_misses), (2, 20, 3));
        let w = recent_window(&rows, end, 2, 6);
        assert_eq!((w.weeks, w.window_rows, w.headline_misses), (3, 30, 6));
        assert_eq!(w.window_start, format_utc(end - 3 * WEEK));
        // The shift makes the window's mean probability its rate: 6 in 30.
        assert!((sigmoid(w.shift.unwrap()) - 0.2).abs() < 1e-9);
        // More misses than the data holds: every week, and no further.
        let w = recent_window(&rows, end, 2, 1000);
        assert_eq!((w.weeks, w.window_rows, w.headline_misses), (6, 60, 21));
        // Non-headline rows count as rows, not as misses.
        let not_headline = vec![false; headline.len()];
        let rows = Rows { headline: &not_headline, ..rows };
        assert_eq!(recent_window(&rows, end, 1, 3).weeks, 6);
    }
}
