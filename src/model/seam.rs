//! The seam between noshow and its risk model: what `train`, `score`, the model file,
//! the promotion check and the report need from a model, and nothing more.
//!
//! - A [`Learner`] is a model's settings, checked once when it is built (for the
//!   logistic regression: [`FitOptions::check`](super::fit::FitOptions::check) gives a
//!   [`Logistic`](super::fit::Logistic)); it fits a design matrix (rows × columns of
//!   [`super::encoding`]) to labels, optionally from a nearby fit.
//! - A [`RiskModel`] is what a fit returns and what model.json loads back
//!   ([`ModelFile::risk_model`](super::file::ModelFile::risk_model)): it predicts the
//!   probability of not attending for a design row, says which columns raise one
//!   row's risk (the feed's `top_factors`), and moves its level on the log-odds scale
//!   (recalibration, [`super::recalibrate`]).
//!
//! Every probability noshow writes (the feed, the test predictions, the promotion
//! check's comparison, the penalty search's validation loss) comes from
//! [`RiskModel::predict`] / [`RiskModel::probability`]; nothing else applies σ to a
//! linear predictor. How a model describes itself in model.json (its coefficients,
//! the solver block) and in the report (drivers as odds ratios) stays with the
//! implementation, [`super::fit`], [`super::file`] and [`super::coefficients`].
//!
//! A new kind of model (a tree ensemble, a calibrated GAM) implements both traits
//! and writes its own parameters into model.json; the encoding, the snapshots, the
//! evaluation, the recalibration and the feed stay as they are.

use super::encoding::Rows;

/// Why a fit failed.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("the training rows hold only one outcome ({0}); the model needs both attended and not-attended interviews")]
    OneClass(&'static str),
    #[error("the design matrix holds {rows} values for {n} rows × {p} columns")]
    Shape { rows: usize, n: usize, p: usize },
    #[error("logistic regression failed: {0}")]
    Solver(String),
    #[error("invalid solver setting: {0}")]
    Setting(String),
}

/// The logistic function, from the log-odds scale to a probability (stable for large
/// |z|).
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// A fitted model of P(not attending) over design-matrix rows.
pub trait RiskModel {
    /// The row's score on the log-odds scale, ln(p / (1 − p)).
    fn log_odds(&self, row: &[f64]) -> f64;

    /// P(not attending) of one row.
    fn probability(&self, row: &[f64]) -> f64 {
        sigmoid(self.log_odds(row))
    }

    /// P(not attending) of every row, in order.
    fn predict(&self, rows: Rows<'_>) -> Vec<f64> {
        (0..rows.rows).map(|i| self.probability(rows.row(i))).collect()
    }

    /// The design columns that raise this row's risk, at most `top`, largest first:
    /// (column, its share of the row's log-odds).
    fn raising(&self, row: &[f64], top: usize) -> Vec<(usize, f64)>;

    /// The same model with its log-odds moved by `shift` for every row.
    fn shifted(&self, shift: f64) -> Self
    where
        Self: Sized;
}

/// A model's checked settings, able to fit.
pub trait Learner {
    type Model: RiskModel;

    /// Fits `y` (true = not attended) on the design rows, starting from `start` when
    /// the learner can use it.
    fn fit(&self, design: Rows<'_>, y: &[bool], start: Option<&Self::Model>) -> Result<Self::Model, FitError>;
}
