//! Evaluation metrics of a probability forecast against 0/1 outcomes: AUC, PR-AUC,
//! log loss, Brier score, a calibration table by decile with its expected calibration
//! error, the share of positives caught by the top 10 % / 20 % of scores, and a 95 %
//! interval for the AUC by DeLong's method (deterministic: no resampling, no seed).
//!
//! Pure functions over slices; implemented here (not taken from a crate) so each
//! definition is visible and unit-tested against hand-computed and scikit-learn values.

use serde::{Deserialize, Serialize};

/// Probabilities are clipped to [EPS, 1 − EPS] in the log loss, as scikit-learn does
/// with its float64 machine epsilon.
const EPS: f64 = 1e-15;

/// Area under the ROC curve: the probability that a random positive scores above a
/// random negative, ties counted one half (Mann–Whitney U). `None` without both classes.
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let n = scores.len().min(labels.len());
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Average ranks over ties, 1-based.
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            if labels[k] {
                rank_sum_pos += avg_rank;
            }
        }
        i = j + 1;
    }
    let n_pos = labels[..n].iter().filter(|&&l| l).count() as f64;
    let n_neg = n as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return None;
    }
    Some((rank_sum_pos - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg))
}

/// 1-based ranks of `values` with ties given their mean rank.
fn midranks(values: &[f64]) -> Vec<f64> {
    let n = values.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    ranks
}

/// The AUC and DeLong's estimate of its variance (DeLong, DeLong & Clarke-Pearson
/// 1988), computed from midranks as Sun & Xu (2014) show: for each positive, the
/// share of negatives it beats (ties one half), V10; for each negative, the share of
/// positives that beat it, V01; Var = S10/m + S01/n with S the sample variances
/// (denominator m − 1, n − 1). `None` with fewer than two positives or negatives.
pub fn auc_delong(scores: &[f64], labels: &[bool]) -> Option<(f64, f64)> {
    let n = scores.len().min(labels.len());
    let pos: Vec<f64> = (0..n).filter(|&i| labels[i]).map(|i| scores[i]).collect();
    let neg: Vec<f64> = (0..n).filter(|&i| !labels[i]).map(|i| scores[i]).collect();
    let (m, k) = (pos.len(), neg.len());
    if m < 2 || k < 2 {
        return None;
    }
    let all: Vec<f64> = pos.iter().chain(&neg).copied().collect();
    let (rank_all, rank_pos, rank_neg) = (midranks(&all), midranks(&pos), midranks(&neg));
    // A positive's rank among all minus its rank among positives = negatives below it.
    let v10: Vec<f64> = (0..m).map(|i| (rank_all[i] - rank_pos[i]) / k as f64).collect();
    let v01: Vec<f64> = (0..k).map(|j| 1.0 - (rank_all[m + j] - rank_neg[j]) / m as f64).collect();
    let auc = v10.iter().sum::<f64>() / m as f64;
    let sample_var = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64
    };
    Some((auc, sample_var(&v10) / m as f64 + sample_var(&v01) / k as f64))
}

/// The two-sided 95 % normal quantile.
const Z95: f64 = 1.959_963_984_540_054;

/// A 95 % interval for the AUC: AUC ± 1.96·√(DeLong variance), clipped to [0, 1].
pub fn auc_interval(scores: &[f64], labels: &[bool]) -> Option<(f64, f64)> {
    let (auc, var) = auc_delong(scores, labels)?;
    let half = Z95 * var.max(0.0).sqrt();
    Some(((auc - half).max(0.0), (auc + half).min(1.0)))
}

/// Average precision (scikit-learn's `average_precision_score`): Σ (Rₖ − Rₖ₋₁)·Pₖ over
/// the distinct score thresholds, highest first. `None` without positives.
pub fn average_precision(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let n = scores.len().min(labels.len());
    let n_pos = labels[..n].iter().filter(|&&l| l).count();
    if n_pos == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut prev_recall = 0.0;
    let mut ap = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        for &k in &order[i..=j] {
            if labels[k] {
                tp += 1;
            } else {
                fp += 1;
            }
        }
        let recall = tp as f64 / n_pos as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
        i = j + 1;
    }
    Some(ap)
}

/// Mean negative log-likelihood (natural log). `None` for no rows.
pub fn log_loss(probs: &[f64], labels: &[bool]) -> Option<f64> {
    if probs.is_empty() {
        return None;
    }
    let total: f64 = probs
        .iter()
        .zip(labels)
        .map(|(&p, &y)| {
            let p = p.clamp(EPS, 1.0 - EPS);
            if y { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum();
    Some(total / probs.len() as f64)
}

/// Mean squared difference between probability and outcome.
pub fn brier(probs: &[f64], labels: &[bool]) -> Option<f64> {
    if probs.is_empty() {
        return None;
    }
    let total: f64 = probs.iter().zip(labels).map(|(&p, &y)| (p - f64::from(u8::from(y))).powi(2)).sum();
    Some(total / probs.len() as f64)
}

/// Share of all positives found among the `share` highest scores (ties broken by
/// position, so the count taken is exactly ceil(share·n)).
pub fn capture_at(scores: &[f64], labels: &[bool], share: f64) -> Option<f64> {
    let n = scores.len();
    let n_pos = labels.iter().filter(|&&l| l).count();
    if n == 0 || n_pos == 0 {
        return None;
    }
    let take = ((share * n as f64).ceil() as usize).min(n);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let caught = order[..take].iter().filter(|&&k| labels[k]).count();
    Some(caught as f64 / n_pos as f64)
}

/// One row of the calibration table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// 1 = lowest predicted probabilities.
    pub decile: u32,
    pub rows: u64,
    pub mean_predicted: f64,
    pub observed_rate: f64,
}

/// Rows sorted by probability and cut into ten groups of (near) equal size, group k
/// holding sorted positions [k·n/10, (k+1)·n/10). Empty groups are left out.
pub fn calibration_deciles(probs: &[f64], labels: &[bool]) -> Vec<CalibrationBin> {
    let n = probs.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| probs[a].total_cmp(&probs[b]).then(a.cmp(&b)));
    let mut bins = Vec::new();
    for k in 0..10 {
        let (lo, hi) = (k * n / 10, (k + 1) * n / 10);
        if hi <= lo {
            continue;
        }
        let rows = &order[lo..hi];
        let m = rows.len() as f64;
        bins.push(CalibrationBin {
            decile: k as u32 + 1,
            rows: rows.len() as u64,
            mean_predicted: rows.iter().map(|&i| probs[i]).sum::<f64>() / m,
            observed_rate: rows.iter().filter(|&&i| labels[i]).count() as f64 / m,
        });
    }
    bins
}

/// Expected calibration error over the decile table: Σ (rows/n)·|observed − predicted|.
pub fn expected_calibration_error(bins: &[CalibrationBin]) -> Option<f64> {
    let n: u64 = bins.iter().map(|b| b.rows).sum();
    if n == 0 {
        return None;
    }
    Some(bins.iter().map(|b| b.rows as f64 / n as f64 * (b.observed_rate - b.mean_predicted).abs()).sum())
}

/// Every headline metric on one set of rows; metrics that are undefined there (one
/// class only) are `None` and written as null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub rows: u64,
    pub positives: u64,
    pub base_rate: Option<f64>,
    pub auc: Option<f64>,
    pub pr_auc: Option<f64>,
    pub log_loss: Option<f64>,
    pub brier: Option<f64>,
    pub ece: Option<f64>,
    pub top_decile_capture: Option<f64>,
    pub top_quintile_capture: Option<f64>,
}

impl Metrics {
    pub fn compute(probs: &[f64], labels: &[bool]) -> Metrics {
        let positives = labels.iter().filter(|&&l| l).count() as u64;
        let rows = probs.len() as u64;
        Metrics {
            rows,
            positives,
            base_rate: (rows > 0).then(|| positives as f64 / rows as f64),
            auc: auc(probs, labels),
            pr_auc: average_precision(probs, labels),
            log_loss: log_loss(probs, labels),
            brier: brier(probs, labels),
            ece: expected_calibration_error(&calibration_deciles(probs, labels)),
            top_decile_capture: capture_at(probs, labels, 0.1),
            top_quintile_capture: capture_at(probs, labels, 0.2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64, tol: f64) {
        let a = a.expect("metric defined");
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    // Hand-made case; the comments in each test derive the expected values, and
    // `sklearn_reference_values` pins scikit-learn's output on the same arrays.
    const Y: [bool; 10] = [false, false, true, true, false, true, false, true, true, false];
    const P: [f64; 10] = [0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.6, 0.55, 0.7, 0.3];

    #[test]
    fn auc_counts_concordant_pairs() {
        // By hand, 25 positive–negative pairs. Positives {.35,.8,.9,.55,.7}, negatives {.1,.4,.2,.6,.3}.
        // .35 beats .1,.2,.3 (3); .8 beats 5; .9 beats 5; .55 beats .1,.4,.2,.3 (4); .7 beats 5 → 22/25.
        close(auc(&P, &Y), 22.0 / 25.0, 1e-12);
        // Ties count one half.
        close(auc(&[0.5, 0.5], &[true, false]), 0.5, 1e-12);
        assert_eq!(auc(&[0.1, 0.2], &[true, true]), None);
    }

    #[test]
    fn average_precision_matches_its_definition() {
        // Sorted by score: .9+ .8+ .7+ .6- .55+ .4- .35+ .3- .2- .1-
        // Precision at each positive: 1, 1, 1, 4/5, 5/7; each recall step 1/5.
        let expected = (1.0 + 1.0 + 1.0 + 0.8 + 5.0 / 7.0) / 5.0;
        close(average_precision(&P, &Y), expected, 1e-12);
    }

    #[test]
    fn log_loss_and_brier_by_hand() {
        let mut ll = 0.0;
        let mut br = 0.0;
        for (p, y) in P.iter().zip(Y) {
            ll += if y { -p.ln() } else { -(1.0 - p).ln() };
            br += (p - if y { 1.0 } else { 0.0 }).powi(2);
        }
        close(log_loss(&P, &Y), ll / 10.0, 1e-12);
        close(brier(&P, &Y), br / 10.0, 1e-12);
        // Squared errors: .01 .16 .4225 .04 .04 .01 .36 .2025 .09 .09 = 1.4250 → 0.1425.
        close(brier(&P, &Y), 0.1425, 1e-12);
        // A certain, wrong forecast is clipped, not infinite.
        assert!(log_loss(&[0.0], &[true]).unwrap().is_finite());
    }

    #[test]
    fn sklearn_reference_values() {
        // scikit-learn 1.9.1, same Y and P: roc_auc_score 0.88, average_precision_score
        // 0.9028571428571428, log_loss 0.4445133502715981, brier_score_loss 0.1425.
        close(auc(&P, &Y), 0.88, 1e-12);
        close(average_precision(&P, &Y), 0.9028571428571428, 1e-12);
        close(log_loss(&P, &Y), 0.4445133502715981, 1e-12);
        close(brier(&P, &Y), 0.1425, 1e-12);
    }

    #[test]
    fn delong_agrees_with_the_rank_auc_and_a_hand_case() {
        let (a, var) = auc_delong(&P, &Y).unwrap();
        close(Some(a), 0.88, 1e-12);
        // By hand: V10, the share of negatives each positive (.35 .8 .9 .55 .7) beats:
        // 3/5, 1, 1, 4/5, 1 → S10 = 0.128 / 4 = 0.032. V01, the share of positives above
        // each negative (.1 .4 .2 .6 .3): 1, 4/5, 1, 3/5, 1 → S01 = 0.032.
        close(Some(var), 0.032 / 5.0 + 0.032 / 5.0, 1e-12);
        let (lo, hi) = auc_interval(&P, &Y).unwrap();
        assert!(lo < 0.88 && hi == 1.0, "{lo} {hi}");
        assert_eq!(auc_delong(&[0.1, 0.2, 0.3], &[true, false, false]), None);
    }

    #[test]
    fn capture_and_calibration() {
        // Top 10 % = 1 row (0.9, positive) → 1/5; top 20 % = 2 rows (0.9, 0.8) → 2/5.
        close(capture_at(&P, &Y, 0.1), 0.2, 1e-12);
        close(capture_at(&P, &Y, 0.2), 0.4, 1e-12);
        let bins = calibration_deciles(&P, &Y);
        assert_eq!(bins.len(), 10);
        assert_eq!(bins[0].mean_predicted, 0.1);
        assert_eq!(bins[9].observed_rate, 1.0);
        // ECE with one row per bin = mean |y − p| = 0.37 + ... computed directly:
        let direct: f64 = P.iter().zip(Y).map(|(p, y)| (f64::from(u8::from(y)) - p).abs()).sum::<f64>() / 10.0;
        close(expected_calibration_error(&bins), direct, 1e-12);
    }
}
