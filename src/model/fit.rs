//! The logistic regression: the first (and so far only) implementation of the model
//! seam ([`super::seam`]). [`FitOptions`] are the settings as given; checked once by
//! [`FitOptions::check`] they become a [`Logistic`] learner, and only a learner fits
//! (linfa's `ParamGuard` habit: nothing downstream re-validates). Two solvers
//! minimise the same loss: noshow's own multi-threaded Newton / IRLS (the default)
//! and linfa-logistic's L-BFGS (`--solver linfa`, the reference). The coefficients'
//! covariance comes from the inverse Hessian of the penalised loss.
//!
//! The loss, as linfa-logistic 0.8.1 minimises it (read from its source,
//! `logistic_loss`) and as the Newton solver does:
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
//! The linfa path reads `labels().pos` and flips the signs so the returned
//! coefficients always give P(not attending).

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::encoding::{Design, Rows};

pub use super::seam::FitError;

/// Which optimiser minimises the (identical) penalised loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum SolverKind {
    /// Newton's method on the exact Hessian (IRLS) with step halving: a few passes
    /// over the data (4 iterations at a million interviews), each O(n·nnz²) with nnz
    /// the non-zero columns of a row, split over all cores in fixed blocks. The
    /// default. linfa's L-BFGS needs hundreds of passes and each is slow: linfa-logistic
    /// 0.8.1 reshapes the coefficients to a p×1 *matrix* (`x.dot(&params.into_shape(
    /// (p, 1)))`, `x.t().dot(&yz)`), so ndarray runs a matrix–matrix product and
    /// matrixmultiply packs the whole n×p design into panels on every call. The
    /// design is already C-order (standard layout); a different layout cannot avoid
    /// that packing, only a matrix–vector call in linfa could. See
    /// docs/performance-model.md.
    Newton,
    /// linfa-logistic's L-BFGS, the reference implementation.
    Linfa,
}

/// Solver settings, recorded in model.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitOptions {
    pub solver: SolverKind,
    /// α: L2 penalty on the (standardised) coefficients; the intercept is unpenalised.
    pub l2: f64,
    pub max_iterations: u64,
    /// L-BFGS stops when the gradient norm of the *mean* loss falls below this (linfa
    /// is given this × rows, as its loss is a sum), so the precision does not change
    /// with the data size.
    pub gradient_tolerance_per_row: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions { solver: SolverKind::Newton, l2: 1.0, max_iterations: 1000, gradient_tolerance_per_row: 1e-6 }
    }
}

/// A fitted model in design-matrix space: P = σ(intercept + Σ coefficients·x).
#[derive(Debug, Clone)]
pub struct Fitted {
    pub intercept: f64,
    pub coefficients: Vec<f64>,
}

impl Fitted {
    /// The row's log-odds with this intercept and these coefficients.
    pub fn linear_predictor(&self, row: &[f64]) -> f64 {
        self.intercept + row.iter().zip(&self.coefficients).map(|(x, c)| x * c).sum::<f64>()
    }
}

impl super::seam::RiskModel for Fitted {
    fn log_odds(&self, row: &[f64]) -> f64 {
        self.linear_predictor(row)
    }

    /// Each column's term `x · coefficient`, the ones above zero, largest first (ties:
    /// the earlier column).
    fn raising(&self, row: &[f64], top: usize) -> Vec<(usize, f64)> {
        let mut terms: Vec<(usize, f64)> =
            row.iter().zip(&self.coefficients).enumerate().map(|(j, (x, c))| (j, x * c)).filter(|(_, v)| *v > 0.0).collect();
        terms.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        terms.truncate(top);
        terms
    }

    fn shifted(&self, shift: f64) -> Fitted {
        Fitted { intercept: self.intercept + shift, coefficients: self.coefficients.clone() }
    }
}

pub use super::seam::sigmoid;

fn to_ndarray(design: Rows<'_>) -> Result<Array2<f64>, FitError> {
    if design.values.len() != design.rows * design.cols {
        return Err(FitError::Shape { rows: design.values.len(), n: design.rows, p: design.cols });
    }
    Array2::from_shape_vec((design.rows, design.cols), design.values.to_vec())
        .map_err(|e| FitError::Solver(e.to_string()))
}

impl FitOptions {
    /// The learner for these settings, once they are checked: α finite and ≥ 0, at
    /// least one iteration, a finite tolerance above 0.
    pub fn check(&self) -> Result<Logistic, FitError> {
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(FitError::Setting(format!("l2 must be a finite number >= 0, not {}", self.l2)));
        }
        if self.max_iterations == 0 {
            return Err(FitError::Setting("max_iterations must be at least 1".into()));
        }
        if !(self.gradient_tolerance_per_row.is_finite() && self.gradient_tolerance_per_row > 0.0) {
            return Err(FitError::Setting(format!(
                "gradient_tolerance_per_row must be a finite number > 0, not {}",
                self.gradient_tolerance_per_row
            )));
        }
        Ok(Logistic { options: self.clone() })
    }
}

/// The logistic regression learner: [`FitOptions`] that passed [`FitOptions::check`]
/// (the field is private, so there is no other way to make one).
#[derive(Debug, Clone)]
pub struct Logistic {
    options: FitOptions,
}

/// The penalised loss's Hessian at a fit (coefficients…, intercept last).
pub type Hessian = Vec<Vec<f64>>;

impl Logistic {
    pub fn options(&self) -> &FitOptions {
        &self.options
    }

    /// The same learner with another penalty, checked.
    pub fn with_l2(&self, l2: f64) -> Result<Logistic, FitError> {
        FitOptions { l2, ..self.options.clone() }.check()
    }

    /// Fits P(y = true) minimising the loss of the module doc with the chosen solver,
    /// also returning the penalised loss's Hessian at the fit when the solver computed
    /// it there (Newton does, as its convergence check), so the standard errors need no
    /// extra pass over the data. Newton starts from `start` (a fit of nearby data or a
    /// nearby penalty: a warm start takes fewer passes to the same optimum) instead of
    /// all zeros; linfa always starts from zeros.
    pub fn fit(&self, design: Rows<'_>, y: &[bool], start: Option<&Fitted>) -> Result<(Fitted, Option<Hessian>), FitError> {
        fit_checked(Job { design, y, start, final_step_below: None }, &self.options)
    }

    /// As [`Logistic::fit`] for fits judged only by their predictions (the penalty
    /// search): once the Newton decrement gᵀH⁻¹g per row falls below
    /// `final_step_below`, the step is taken unchecked and the fit stops, saving the
    /// pass that would only confirm it (the remaining error after such a step is of the
    /// order of its square). Linfa ignores it.
    pub fn fit_quick(&self, design: Rows<'_>, y: &[bool], start: Option<&Fitted>, final_step_below: f64) -> Result<Fitted, FitError> {
        fit_checked(Job { design, y, start, final_step_below: Some(final_step_below) }, &self.options).map(|(f, _)| f)
    }
}

impl super::seam::Learner for Logistic {
    type Model = Fitted;

    fn fit(&self, design: Rows<'_>, y: &[bool], start: Option<&Fitted>) -> Result<Fitted, FitError> {
        Logistic::fit(self, design, y, start).map(|(f, _)| f)
    }
}

/// Checks `options` and fits every row of `design` from zeros: the short way for
/// tests and examples.
pub fn fit_logistic(design: &Design, y: &[bool], options: &FitOptions) -> Result<Fitted, FitError> {
    options.check()?.fit(design.all(), y, None).map(|(f, _)| f)
}

/// One fit's data: the rows, their labels, Newton's starting point and its early stop
/// (see [`Logistic::fit_quick`]).
struct Job<'a> {
    design: Rows<'a>,
    y: &'a [bool],
    start: Option<&'a Fitted>,
    final_step_below: Option<f64>,
}

fn fit_checked(job: Job<'_>, options: &FitOptions) -> Result<(Fitted, Option<Hessian>), FitError> {
    let (design, y) = (job.design, job.y);
    let positives = y.iter().filter(|&&v| v).count();
    if positives == 0 {
        return Err(FitError::OneClass("all attended"));
    }
    if positives == y.len() {
        return Err(FitError::OneClass("none attended"));
    }
    if design.values.len() != design.rows * design.cols || y.len() != design.rows {
        return Err(FitError::Shape { rows: design.values.len(), n: design.rows, p: design.cols });
    }
    match options.solver {
        SolverKind::Linfa => fit_linfa(design, y, options).map(|f| (f, None)),
        SolverKind::Newton => fit_newton(job, options),
    }
}

/// Rows per block of the passes over the data. Blocks are summed in a fixed order, so
/// the result does not depend on how many threads ran them.
const BLOCK_ROWS: usize = 1 << 14;

/// Sums of one block: loss, gradient and (optionally) the upper triangle of the
/// Hessian, (p + 1)² row-major with the intercept last.
struct Partial {
    loss: f64,
    grad: Vec<f64>,
    hessian: Vec<f64>,
}

/// Runs `work` on every block of `rows` over the available cores (std threads; the
/// work per block is uniform), returning the results in block order.
pub(crate) fn par_blocks<T: Send>(rows: usize, work: impl Fn(std::ops::Range<usize>) -> T + Sync) -> Vec<T> {
    let blocks = rows.div_ceil(BLOCK_ROWS).max(1);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8).min(blocks);
    let range = |b: usize| b * BLOCK_ROWS..((b + 1) * BLOCK_ROWS).min(rows);
    if threads == 1 {
        return (0..blocks).map(|b| work(range(b))).collect();
    }
    let mut slots: Vec<Option<T>> = (0..blocks).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let work = &work;
                scope.spawn(move || (t..blocks).step_by(threads).map(|b| (b, work(range(b)))).collect::<Vec<_>>())
            })
            .collect();
        for handle in handles {
            // A panic in a worker is a bug in this module, not bad input: pass it on.
            for (b, partial) in handle.join().unwrap_or_else(|e| std::panic::resume_unwind(e)) {
                slots[b] = Some(partial);
            }
        }
    });
    slots.into_iter().flatten().collect()
}

/// −log σ(±z) for the row's label, computed stably.
fn row_loss(z: f64, y: bool) -> f64 {
    let signed = if y { z } else { -z };
    if signed > 0.0 { (-signed).exp().ln_1p() } else { -signed + signed.exp().ln_1p() }
}

/// One block's loss and, with `with_hessian`, its gradient and Hessian. Only a row's
/// non-zero columns are visited (one-hot columns are mostly zero), so a row costs
/// nnz²/2 multiply-adds rather than p²/2.
fn block_sums(design: Rows<'_>, y: &[bool], beta: &[f64], rows: std::ops::Range<usize>, with_hessian: bool) -> Partial {
    let p = design.cols;
    let q = p + 1;
    let mut out = Partial { loss: 0.0, grad: vec![0.0; q], hessian: if with_hessian { vec![0.0; q * q] } else { Vec::new() } };
    let mut nz: Vec<usize> = Vec::with_capacity(q);
    let mut xs: Vec<f64> = Vec::with_capacity(q);
    for i in rows {
        let row = design.row(i);
        let z = beta[p] + row.iter().zip(beta).map(|(x, b)| x * b).sum::<f64>();
        out.loss += row_loss(z, y[i]);
        if !with_hessian {
            continue;
        }
        let prob = sigmoid(z);
        let r = prob - f64::from(u8::from(y[i]));
        let w = prob * (1.0 - prob);
        nz.clear();
        xs.clear();
        for (j, &x) in row.iter().enumerate() {
            if x != 0.0 {
                nz.push(j);
                xs.push(x);
            }
        }
        nz.push(p);
        xs.push(1.0);
        for (k, (&a, &xa)) in nz.iter().zip(&xs).enumerate() {
            out.grad[a] += r * xa;
            let wa = w * xa;
            let h = &mut out.hessian[a * q..(a + 1) * q];
            for (&b, &xb) in nz[k..].iter().zip(&xs[k..]) {
                h[b] += wa * xb;
            }
        }
    }
    out
}

/// The penalised loss, its gradient and Hessian (coefficients…, intercept last) in one
/// pass over the rows.
fn loss_gradient_hessian(design: Rows<'_>, y: &[bool], beta: &[f64], l2: f64) -> (f64, Vec<f64>, Vec<Vec<f64>>) {
    let p = design.cols;
    let q = p + 1;
    let parts = par_blocks(design.rows, |rows| block_sums(design, y, beta, rows, true));
    let mut loss = 0.0;
    let mut grad = vec![0.0; q];
    let mut flat = vec![0.0; q * q];
    for part in parts {
        loss += part.loss;
        grad.iter_mut().zip(&part.grad).for_each(|(g, v)| *g += v);
        flat.iter_mut().zip(&part.hessian).for_each(|(h, v)| *h += v);
    }
    let mut h: Vec<Vec<f64>> = flat.chunks(q).map(|r| r.to_vec()).collect();
    for a in 0..p {
        loss += 0.5 * l2 * beta[a] * beta[a];
        grad[a] += l2 * beta[a];
        h[a][a] += l2;
    }
    for a in 0..q {
        for b in 0..a {
            h[a][b] = h[b][a];
        }
    }
    (loss, grad, h)
}

/// Newton's method with step halving on the same loss linfa minimises. Returns the
/// Hessian at the returned coefficients when it stopped on the gradient tolerance.
///
/// Each trial point gets the full loss + gradient + Hessian pass: a full step is
/// almost always accepted, and then that pass is already the next iteration's, so an
/// iteration costs one pass over the data rather than two.
fn fit_newton(job: Job<'_>, options: &FitOptions) -> Result<(Fitted, Option<Hessian>), FitError> {
    let Job { design, y, start, final_step_below } = job;
    let p = design.cols;
    let mut beta = match start {
        Some(f) if f.coefficients.len() == p && f.intercept.is_finite() && f.coefficients.iter().all(|c| c.is_finite()) => {
            f.coefficients.iter().copied().chain([f.intercept]).collect()
        }
        _ => vec![0.0; p + 1],
    };
    let n = design.rows.max(1) as f64;
    let (mut loss, mut grad, mut h) = loss_gradient_hessian(design, y, &beta, options.l2);
    let mut iterations = 0;
    let converged = loop {
        let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
        if norm <= options.gradient_tolerance_per_row * n {
            break true;
        }
        if iterations >= options.max_iterations.min(100) {
            break false;
        }
        iterations += 1;
        let inv = invert_spd(&h).ok_or_else(|| FitError::Solver("the Hessian is singular (perfect separation or a constant column)".into()))?;
        let step: Vec<f64> = (0..=p).map(|a| (0..=p).map(|b| inv[a][b] * grad[b]).sum()).collect();
        let decrement: f64 = step.iter().zip(&grad).map(|(s, g)| s * g).sum();
        if final_step_below.is_some_and(|below| decrement.abs() / n < below) {
            beta.iter_mut().zip(&step).for_each(|(b, s)| *b -= s);
            break false;
        }
        let mut t = 1.0;
        loop {
            let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b - t * s).collect();
            let (trial_loss, trial_grad, trial_h) = loss_gradient_hessian(design, y, &trial, options.l2);
            if trial_loss <= loss || t < 1e-8 {
                (beta, loss, grad, h) = (trial, trial_loss, trial_grad, trial_h);
                break;
            }
            t *= 0.5;
        }
    };
    if std::env::var_os("NOSHOW_PROFILE").is_some() {
        let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
        eprintln!(
            "profile fit: newton {iterations} iterations on {} rows (l2 {}{}), gradient norm per row {:.2e}",
            design.rows,
            options.l2,
            if start.is_some() { ", warm start" } else { "" },
            norm / n
        );
    }
    Ok((Fitted { intercept: beta[p], coefficients: beta[..p].to_vec() }, converged.then_some(h)))
}

/// linfa-logistic's L-BFGS (see the module doc for the loss and the sign convention).
fn fit_linfa(design: Rows<'_>, y: &[bool], options: &FitOptions) -> Result<Fitted, FitError> {
    let x = to_ndarray(design)?;
    let targets: Array1<bool> = y.iter().copied().collect();
    let dataset = Dataset::new(x, targets);
    let model = LogisticRegression::default()
        .alpha(options.l2)
        .max_iterations(options.max_iterations)
        .gradient_tolerance(options.gradient_tolerance_per_row * design.rows.max(1) as f64)
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
    use crate::model::seam::RiskModel;
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
            for solver in [SolverKind::Linfa, SolverKind::Newton] {
                let fitted = fit_logistic(&design, &y, &FitOptions { solver, l2: 1e-6, ..Default::default() }).unwrap();
                assert!(fitted.coefficients[0] > 1.0, "{solver:?}: slope {} for share {positive_share}", fitted.coefficients[0]);
                let mean_p: f64 = fitted.predict(design.all()).iter().sum::<f64>() / n as f64;
                let share = y.iter().filter(|&&v| v).count() as f64 / n as f64;
                // Unpenalised intercept ⇒ mean prediction equals the observed share.
                assert!((mean_p - share).abs() < 1e-3, "{solver:?}: {mean_p} vs {share}");
            }
        }
    }
}
