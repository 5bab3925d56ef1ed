//! Interval estimates for the rates HR reads: Wilson score intervals for proportions
//! and the log method for relative risks. Plain numbers in, plain numbers out.

/// The two-sided 95 % normal quantile.
pub const Z95: f64 = 1.959964;

/// Wilson score interval of `successes` out of `n` (95 % with `z = Z95`).
/// `None` for an empty segment, where no rate exists.
pub fn wilson_interval(successes: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let n_f = n as f64;
    let p = successes as f64 / n_f;
    let z2 = z * z;
    let denom = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denom;
    let half = z / denom * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt();
    // Rounding can push the bounds a hair outside [0, 1] at p = 0 or 1.
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// The difference of two proportions `x1/n1 − x2/n2` with its 95 % interval by
/// Newcombe's hybrid score method (his method 10: the two Wilson intervals combined,
/// as statsmodels' `confint_proportions_2indep(method="newcomb")` computes it).
/// `None` when either group is empty.
pub fn newcombe_difference(x1: u64, n1: u64, x2: u64, n2: u64, z: f64) -> Option<(f64, f64, f64)> {
    let (l1, u1) = wilson_interval(x1, n1, z)?;
    let (l2, u2) = wilson_interval(x2, n2, z)?;
    let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
    let d = p1 - p2;
    let low = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let high = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    Some((d, low.max(-1.0), high.min(1.0)))
}

/// `k / n`, or `None` when `n` is zero.
pub fn ratio(k: u64, n: u64) -> Option<f64> {
    (n > 0).then(|| k as f64 / n as f64)
}

/// Relative risk `(a / n1) / (c / n2)` with its 95 % interval by the log method
/// (Katz: `se = sqrt(1/a - 1/n1 + 1/c - 1/n2)`). `None` when a group is empty or has
/// no events, where the log-RR is undefined.
pub fn relative_risk(a: u64, n1: u64, c: u64, n2: u64, z: f64) -> Option<(f64, f64, f64)> {
    if a == 0 || c == 0 || n1 == 0 || n2 == 0 {
        return None;
    }
    let (a, n1, c, n2) = (a as f64, n1 as f64, c as f64, n2 as f64);
    let rr = (a / n1) / (c / n2);
    let se = (1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n2).max(0.0).sqrt();
    Some((rr, (rr.ln() - z * se).exp(), (rr.ln() + z * se).exp()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_statsmodels() {
        // Reference: statsmodels 0.15 proportion_confint(k, n, alpha=0.05, method="wilson"),
        // which uses z = 1.95996398…; the 7-digit Z95 agrees to better than 1e-8.
        for (k, n, ref_lo, ref_hi) in [(15, 100, 0.09305985283656629, 0.23283559590832367),
            (7, 13, 0.29143795714506004, 0.7679393219046169)] {
            let (lo, hi) = wilson_interval(k, n, Z95).unwrap();
            assert!((lo - ref_lo).abs() < 1e-8, "{k}/{n}: {lo}");
            assert!((hi - ref_hi).abs() < 1e-8, "{k}/{n}: {hi}");
        }
        // Edge cases: no successes keeps 0 as the lower bound; all successes keeps 1.
        let (lo, hi) = wilson_interval(0, 20, Z95).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - 0.16113).abs() < 1e-5, "{hi}");
        let (lo, hi) = wilson_interval(20, 20, Z95).unwrap();
        assert!((lo - 0.83887).abs() < 1e-5);
        assert_eq!(hi, 1.0);
        assert_eq!(wilson_interval(0, 0, Z95), None);
    }

    #[test]
    fn relative_risk_by_hand() {
        // 30/100 vs 15/100: RR 2, se = sqrt(1/30 - 1/100 + 1/15 - 1/100) = 0.282843.
        let (rr, lo, hi) = relative_risk(30, 100, 15, 100, Z95).unwrap();
        assert!((rr - 2.0).abs() < 1e-12);
        let se = (1.0f64 / 30.0 - 0.01 + 1.0 / 15.0 - 0.01).sqrt();
        assert!((lo - (2f64.ln() - Z95 * se).exp()).abs() < 1e-12);
        assert!((hi - 3.481658).abs() < 1e-5, "{hi}");
        assert!(relative_risk(0, 10, 3, 10, Z95).is_none());
    }
}
