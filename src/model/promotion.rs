//! When a newly trained model may replace the current one.
//!
//! The rule: a new model becomes current only when its test window is large enough to
//! judge it (at least `min_test_interviews` interviews and `min_test_misses` misses at
//! the headline horizon) and, when there is a current model, it is not worse than that
//! model on the *same* test rows by more than the margins (AUC lower by more than
//! `max_auc_drop`, log loss higher by more than `max_log_loss_rise`). Otherwise it is
//! kept as a candidate and the current model stays; `train --force` promotes anyway.
//! With no current model the size rule still applies: no model is safer than one
//! judged on a handful of interviews (score then says there is none).
//!
//! The current model is compared only when it never saw the test window (its training
//! window ended at or before the test window's start); otherwise the comparison would
//! favour it and is skipped with a note.
//!
//! Pure: figures in, a decision out; `cmd::train` acts on it.

use serde::{Deserialize, Serialize};

use super::file::Window;
use super::metrics::Metrics;

/// Default of `[train] min_test_interviews`: with 200 test interviews at a 15–20 % miss
/// rate, an AUC has a standard error of about 0.04, small enough to tell a useful
/// model (0.65) from a coin (0.5).
pub const DEFAULT_MIN_TEST_INTERVIEWS: u64 = 200;
/// Default of `[train] min_test_misses`: below 20 misses the AUC and the calibration
/// rest on too few positive cases to mean anything.
pub const DEFAULT_MIN_TEST_MISSES: u64 = 20;
/// Default of `[train] max_auc_drop`.
pub const DEFAULT_MAX_AUC_DROP: f64 = 0.02;
/// Default of `[train] max_log_loss_rise`.
pub const DEFAULT_MAX_LOG_LOSS_RISE: f64 = 0.01;

/// The promotion settings, recorded in model.json.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rules {
    pub min_test_interviews: u64,
    pub min_test_misses: u64,
    pub max_auc_drop: f64,
    pub max_log_loss_rise: f64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            min_test_interviews: DEFAULT_MIN_TEST_INTERVIEWS,
            min_test_misses: DEFAULT_MIN_TEST_MISSES,
            max_auc_drop: DEFAULT_MAX_AUC_DROP,
            max_log_loss_rise: DEFAULT_MAX_LOG_LOSS_RISE,
        }
    }
}

/// The current model's figures on the new model's test rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The current model's version.
    pub version: String,
    pub auc: Option<f64>,
    pub log_loss: Option<f64>,
}

/// What `train` decided, recorded in model.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    /// `promoted`, `forced` (promoted by `--force` despite `reasons`) or `candidate`.
    pub decision: String,
    /// Why the model failed the rules (empty when it passed).
    pub reasons: Vec<String>,
    /// Notes that are not reasons (a comparison skipped, no current model).
    pub notes: Vec<String>,
    pub rules: Rules,
    /// The current model on the same test rows, when it was compared.
    pub compared_with: Option<Comparison>,
}

/// Why a new model with `metrics` on `window` must not replace the current one
/// (`current`: its figures on the same rows); empty when it may.
pub fn reasons(rules: &Rules, window: &Window, metrics: &Metrics, current: Option<&Comparison>) -> Vec<String> {
    let mut out = Vec::new();
    if window.interviews < rules.min_test_interviews {
        out.push(format!(
            "the test window holds {} interviews, fewer than train.min_test_interviews = {}",
            window.interviews, rules.min_test_interviews
        ));
    }
    if window.positives < rules.min_test_misses {
        out.push(format!(
            "the test window holds {} misses, fewer than train.min_test_misses = {}",
            window.positives, rules.min_test_misses
        ));
    }
    if let Some(c) = current {
        if let (Some(new), Some(old)) = (metrics.auc, c.auc) {
            if new < old - rules.max_auc_drop {
                out.push(format!(
                    "its AUC {new:.4} is below the current model {}'s {old:.4} on the same test rows by more than \
                     train.max_auc_drop = {}",
                    c.version, rules.max_auc_drop
                ));
            }
        }
        if let (Some(new), Some(old)) = (metrics.log_loss, c.log_loss) {
            if new > old + rules.max_log_loss_rise {
                out.push(format!(
                    "its log loss {new:.4} is above the current model {}'s {old:.4} on the same test rows by more \
                     than train.max_log_loss_rise = {}",
                    c.version, rules.max_log_loss_rise
                ));
            }
        }
    }
    out
}

/// `train` kept its model as a candidate: exit status 3, and `noshow run` goes on with
/// the current model.
#[derive(Debug, thiserror::Error)]
#[error("model {version} was kept as a candidate, not made current: {}{}", reasons.join("; "), match current {
    Some(v) => format!(". The current model {v} stays; `noshow train --force` promotes the new one anyway"),
    None => ". There is no current model, so nothing can be scored yet; `noshow train --force` promotes it anyway".to_string(),
})]
pub struct Refused {
    pub version: String,
    pub reasons: Vec<String>,
    pub current: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(interviews: u64, positives: u64) -> Window {
        Window { start: String::new(), end: String::new(), rows: interviews, interviews, positives }
    }

    fn metrics(auc: f64, log_loss: f64) -> Metrics {
        let mut m = Metrics::compute(&[0.2, 0.8], &[false, true]);
        m.auc = Some(auc);
        m.log_loss = Some(log_loss);
        m
    }

    #[test]
    fn small_windows_and_worse_models_are_refused() {
        let rules = Rules::default();
        assert!(reasons(&rules, &window(200, 20), &metrics(0.7, 0.4), None).is_empty());
        let r = reasons(&rules, &window(199, 19), &metrics(0.7, 0.4), None);
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r[0].contains("199 interviews") && r[1].contains("19 misses"));
        let current = Comparison { version: "0001".into(), auc: Some(0.70), log_loss: Some(0.40) };
        // Within the margins: promoted.
        assert!(reasons(&rules, &window(500, 80), &metrics(0.681, 0.409), Some(&current)).is_empty());
        // Beyond either margin: refused, naming the current version.
        let r = reasons(&rules, &window(500, 80), &metrics(0.67, 0.42), Some(&current));
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r.iter().all(|s| s.contains("0001")));
        let e = Refused { version: "0002".into(), reasons: r, current: Some("0001".into()) };
        assert!(e.to_string().contains("--force"));
    }
}
