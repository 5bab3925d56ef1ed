//! Fitting the penalised logistic regression with linfa-logistic, and the
//! coefficients' covariance from the inverse Hessian of the penalised loss.
//!
//! What linfa-logistic 0.8.1 minimises (read from its source, `logistic_loss`):
//!
//! ```text
//!   −Σᵢ log σ(yᵢ (xᵢ·w + b)) + α/2 · w·w        with yᵢ ∈ {−1, +1}
//! ```
//!
//! a *sum* (not a mean) over rows, with the intercept `b` unpenalised. scikit-learn's
//! `LogisticRegression(penalty="l2", C=C)` minimises `C·Σᵢ loss + ½ w·w`, also with the
//! intercept unpenalised under lbfgs; dividing by C shows the two agree when
//! **α = 1/C**. The setting `[train] l2` is α.
//!
//! Sign convention: linfa labels +1 the class that is *more frequent* in `y` (ties: the
//! first seen), not `true` and not the larger value, and `predict_probabilities`
//! returns P(+1). With no-shows a minority, linfa's "positive" class is *attended*.
//! [`fit_logistic`] reads `labels().pos` and flips the signs so the returned
//! coefficients always give P(not attending).

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::encoding::Design;

#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("the training rows hold only one outcome ({0}); the model needs both attended and not-attended interviews")]
    OneClass(&'static str),
    #[error("the design matrix holds {rows} values for {n} rows × {p} columns")]
    Shape { rows: usize, n: usize, p: usize },
    #[error("logistic regression failed: {0}")]
    Solver(String),
}

/// Solver settings, recorded in model.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitOptions {
    /// α: L2 penalty on the (standardised) coefficients; the intercept is unpenalised.
    pub l2: f64,
    pub max_iterations: u64,
    /// L-BFGS stops when the gradient norm of the summed loss falls below this.
    pub gradient_tolerance: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions { l2: 1.0, max_iterations: 500, gradient_tolerance: 1e-5 }
    }
}

/// A fitted model in design-matrix space: P = σ(intercept + Σ coefficients·x).
#[derive(Debug, Clone)]
pub struct Fitted {
    pub intercept: f64,
    pub coefficients: Vec<f64>,
}

impl Fitted {
    pub fn linear_predictor(&self, row: &[f64]) -> f64 {
        self.intercept + row.iter().zip(&self.coefficients).map(|(x, c)| x * c).sum::<f64>()
    }

    pub fn predict(&self, design: &Design) -> Vec<f64> {
        (0..design.rows).map(|i| sigmoid(self.linear_predictor(design.row(i)))).collect()
    }
}

pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

fn to_ndarray(design: &Design) -> Result<Array2<f64>, FitError> {
    if design.values.len() != design.rows * design.cols {
        return Err(FitError::Shape { rows: design.values.len(), n: design.rows, p: design.cols });
    }
    Array2::from_shape_vec((design.rows, design.cols), design.values.clone())
        .map_err(|e| FitError::Solver(e.to_string()))
}

/// Fits P(y = true) with linfa-logistic's L-BFGS (see the module doc for the loss and
/// the sign convention).
pub fn fit_logistic(design: &Design, y: &[bool], options: &FitOptions) -> Result<Fitted, FitError> {
    let positives = y.iter().filter(|&&v| v).count();
    if positives == 0 {
        return Err(FitError::OneClass("all attended"));
    }
    if positives == y.len() {
        return Err(FitError::OneClass("none attended"));
    }
    let x = to_ndarray(design)?;
    let targets: Array1<bool> = y.iter().copied().collect();
    let dataset = Dataset::new(x, targets);
    let model = LogisticRegression::default()
        .alpha(options.l2)
        .max_iterations(options.max_iterations)
        .gradient_tolerance(options.gradient_tolerance)
        .with_intercept(true)
        .fit(&dataset)
        .map_err(|e| FitError::Solver(e.to_string()))?;
    let sign = if model.labels().pos.class { 1.0 } else { -1.0 };
    Ok(Fitted {
        intercept: sign * model.intercept(),
        coefficients: model.params().iter().map(|c| sign * c).collect(),
    })
}

/// Covariance of (coefficients…, intercept) as the inverse of the penalised loss's
/// Hessian at the fit, `Xᵀ W X + α·diag(1,…,1,0)` with W = p(1 − p) and X carrying a
/// final column of ones. This is the Laplace / Fisher-information approximation of
/// the penalised fit; with α → 0 it is the usual maximum-likelihood covariance.
/// `None` when the Hessian is not positive definite (perfect separation).
pub fn covariance(design: &Design, fitted: &Fitted, l2: f64) -> Option<Vec<Vec<f64>>> {
    let p = design.cols + 1;
    let mut h = vec![vec![0.0; p]; p];
    let mut xi = vec![0.0; p];
    for i in 0..design.rows {
        let row = design.row(i);
        let prob = sigmoid(fitted.linear_predictor(row));
        let w = prob * (1.0 - prob);
        xi[..design.cols].copy_from_slice(row);
        xi[design.cols] = 1.0;
        for a in 0..p {
            let wa = w * xi[a];
            if wa == 0.0 {
                continue;
            }
            for b in a..p {
                h[a][b] += wa * xi[b];
            }
        }
    }
    for a in 0..p {
        for b in 0..a {
            h[a][b] = h[b][a];
        }
        if a < design.cols {
            h[a][a] += l2;
        }
    }
    invert_spd(&h)
}

/// Inverse of a symmetric positive-definite matrix by Cholesky decomposition.
pub fn invert_spd(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = a[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            if i == j {
                if s <= 1e-12 * a[i][i].abs().max(1e-300) {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    // Solve L Lᵀ X = I column by column.
    let mut inv = vec![vec![0.0; n]; n];
    for c in 0..n {
        let mut z = vec![0.0; n];
        for i in 0..n {
            let rhs = if i == c { 1.0 } else { 0.0 };
            z[i] = (rhs - (0..i).map(|k| l[i][k] * z[k]).sum::<f64>()) / l[i][i];
        }
        let mut x = vec![0.0; n];
        for i in (0..n).rev() {
            x[i] = (z[i] - (i + 1..n).map(|k| l[k][i] * x[k]).sum::<f64>()) / l[i][i];
        }
        for i in 0..n {
            inv[i][c] = x[i];
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_of_a_small_spd_matrix() {
        let a = vec![vec![4.0, 2.0], vec![2.0, 3.0]];
        let inv = invert_spd(&a).unwrap();
        // det = 8 → inverse = [[3, −2], [−2, 4]] / 8.
        let expected = [[0.375, -0.25], [-0.25, 0.5]];
        for i in 0..2 {
            for j in 0..2 {
                assert!((inv[i][j] - expected[i][j]).abs() < 1e-12);
            }
        }
        assert!(invert_spd(&[vec![1.0, 1.0], vec![1.0, 1.0]]).is_none());
    }

    #[test]
    fn sign_follows_the_true_class_whichever_is_more_frequent() {
        // One feature; y = true mostly where x is high. Rare positives and common
        // positives must both give a positive slope.
        for positive_share in [0.2, 0.8] {
            let n = 400;
            let mut values = Vec::new();
            let mut y = Vec::new();
            for i in 0..n {
                let x = (i as f64 / n as f64) * 4.0 - 2.0;
                values.push(x);
                // Deterministic pattern: positives where a shifted logistic exceeds a
                // low-discrepancy uniform.
                let u = ((i as f64) * 0.618_033_988_75).fract();
                let logit_shift = (positive_share / (1.0 - positive_share) as f64).ln();
                y.push(u < sigmoid(1.5 * x + logit_shift));
            }
            let design = Design { rows: n, cols: 1, values };
            let fitted = fit_logistic(&design, &y, &FitOptions { l2: 1e-6, ..Default::default() }).unwrap();
            assert!(fitted.coefficients[0] > 1.0, "slope {} for share {positive_share}", fitted.coefficients[0]);
            let mean_p: f64 = fitted.predict(&design).iter().sum::<f64>() / n as f64;
            let share = y.iter().filter(|&&v| v).count() as f64 / n as f64;
            // Unpenalised intercept ⇒ mean prediction equals the observed share.
            assert!((mean_p - share).abs() < 1e-3, "{mean_p} vs {share}");
        }
    }
}
