//! Recalibration to recent weeks: after the fit, only the intercept is re-estimated,
//! on the training rows whose slots fall in the last `[train] recalibrate_weeks`
//! weeks of the training window, so the feed's probabilities follow the current miss
//! rate rather than the average of half a year.
//!
//! Rule: an intercept-only logistic regression with the fitted model's linear
//! predictor η as an offset, i.e. the shift δ minimising Σ −log σ(±(ηᵢ + δ)) over
//! those rows (its score equation: the mean of σ(ηᵢ + δ) equals the rows' miss
//! rate). The model's `intercept` becomes the fitted one plus δ; the coefficients,
//! hence the ranking, the bands and the AUC, do not change. Platt scaling (a slope
//! and an intercept on η) is not used: the recent weeks are part of the training
//! rows, where the slope of an in-sample fit is about 1 by construction and says
//! nothing about the future; what drifts with the season is the level, and one
//! parameter is estimated well from a few weeks of misses.
//!
//! `[train] recalibrate = false` keeps the fitted intercept (δ = 0). Either way
//! model.json records the calibration on the test window before and after (mean
//! predicted vs observed rate, ECE, log loss, Brier, the decile table), overall and
//! per horizon.

use serde::{Deserialize, Serialize};

use super::metrics::{brier, calibration_deciles, expected_calibration_error, log_loss};
use super::fit::sigmoid;

/// Default of `[train] recalibrate_weeks`.
pub const DEFAULT_WEEKS: u32 = 4;

pub const METHOD: &str = "intercept-only logistic fit with the model's linear predictor as offset on the training \
rows (every horizon) with slots in the last recalibrate_weeks weeks of the training window; intercept = \
fitted_intercept + shift, coefficients unchanged";

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
    pub weeks: u32,
    /// The recent training rows the shift was estimated on.
    pub window_start: String,
    pub window_end: String,
    pub window_rows: u64,
    pub window_positives: u64,
    /// The fit's own intercept; `intercept` at the top of model.json is this + `shift`.
    pub fitted_intercept: f64,
    pub shift: f64,
    /// Headline test rows, with the fitted and with the recalibrated intercept.
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
}
