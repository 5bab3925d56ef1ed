//! The coefficient table: each design column's coefficient, its standard error from
//! the penalised fit's inverse Hessian, the odds ratio per natural unit with a 95 %
//! interval, and a plain-words sentence HR can read.
//!
//! Coefficients are fitted on standardised columns; the odds ratio reported is per
//! natural unit of the feature (having vs not having a flag, one more count, a
//! doubling of a duration, a category vs the reference level), i.e. the standardised
//! coefficient divided by the feature's sd (times ln 2 for log-hours).

use serde::{Deserialize, Serialize};

use super::encoding::Encoding;
use crate::features::{numeric_feature, Kind};

/// z for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoefficientRow {
    pub feature: String,
    /// On the standardised column (what the scoring recipe multiplies).
    pub coef: f64,
    pub std_error: Option<f64>,
    /// What "one unit" means in `odds_ratio`.
    pub unit: String,
    pub odds_ratio: f64,
    pub odds_ratio_low: Option<f64>,
    pub odds_ratio_high: Option<f64>,
    pub sentence: String,
}

fn ratio(x: f64) -> String {
    if x >= 10.0 { format!("{x:.0}×") } else { format!("{x:.2}×") }
}

/// Builds the table; `std_errors` are on the standardised scale, one per column.
pub fn coefficient_table(encoding: &Encoding, coefficients: &[f64], std_errors: Option<&[f64]>) -> Vec<CoefficientRow> {
    let names = encoding.column_names();
    let mut rows = Vec::with_capacity(names.len());
    for (j, name) in names.iter().enumerate() {
        let coef = coefficients.get(j).copied().unwrap_or(0.0);
        let se = std_errors.and_then(|s| s.get(j).copied()).filter(|v| v.is_finite());
        // Scale from the standardised column to the natural unit.
        let (scale, unit, sentence_for): (f64, String, Box<dyn Fn(f64) -> String>) = if j < encoding.numeric.len() {
            let scaling = &encoding.numeric[j];
            let def = numeric_feature(name);
            let (high, low) = def.map(|d| (d.high, d.low)).unwrap_or((name.as_str(), name.as_str()));
            let (high, low) = (high.to_string(), low.to_string());
            match def.map(|d| d.kind) {
                Some(Kind::Flag) => (
                    1.0 / scaling.sd,
                    "having vs not having it".to_string(),
                    Box::new(move |or| {
                        if or >= 1.0 {
                            format!("{high}: {} the odds of not attending", ratio(or))
                        } else {
                            format!("{low}: {} the odds of not attending", ratio(1.0 / or))
                        }
                    }),
                ),
                Some(Kind::LogHours) => (
                    std::f64::consts::LN_2 / scaling.sd,
                    "doubling (1 + hours)".to_string(),
                    Box::new(move |or| format!("{high} (doubling it): {} the odds of not attending", ratio(or))),
                ),
                _ => (
                    1.0 / scaling.sd,
                    "one more".to_string(),
                    Box::new(move |or| format!("each one more ({high}): {} the odds of not attending", ratio(or))),
                ),
            }
        } else {
            let (feature, level) = name.split_once('=').unwrap_or((name.as_str(), ""));
            let reference = encoding
                .categorical
                .iter()
                .find(|c| c.name == feature)
                .map(|c| c.reference.clone())
                .unwrap_or_default();
            let (feature, level) = (feature.to_string(), level.to_string());
            (
                1.0,
                format!("vs {reference}"),
                Box::new(move |or| format!("{feature} {level} (vs {reference}): {} the odds of not attending", ratio(or))),
            )
        };
        let odds_ratio = (coef * scale).exp();
        rows.push(CoefficientRow {
            feature: name.clone(),
            coef,
            std_error: se,
            unit,
            odds_ratio,
            odds_ratio_low: se.map(|s| ((coef - Z95 * s) * scale).exp()),
            odds_ratio_high: se.map(|s| ((coef + Z95 * s) * scale).exp()),
            sentence: sentence_for(odds_ratio),
        });
    }
    rows
}
