//! Drift: how far the interviews a feed scores have moved from the ones the model was
//! trained on, as the population stability index (PSI) of each model feature.
//!
//! `train` records each feature's **reference distribution** in model.json
//! ([`DriftReference`]): numeric features binned at the training deciles (the bin
//! edges and the share of rows per bin), categorical features as the share per level
//! the model knows (its reference level, its levels with a column, and `other`, which
//! holds folded and never-seen values). `score` bins the day's scored interviews the
//! same way ([`compare`]) and keeps the counts beside the archived feed. Pure: frames
//! in, values out.
//!
//! Like with like: training snapshots are taken at fixed horizons (168, 72, 24, 6 h
//! before the slot) while a daily feed sees every interview somewhere in its window,
//! so a reference built from the training snapshots would flag the snapshot design
//! (hours left, reminders sent so far), not the population. The reference rows are
//! therefore the training window's interviews seen **as a daily feed sees them**: one
//! snapshot per interview at a cutoff drawn uniformly in the score window before its
//! slot (a keyed hash of the interview id, so every run draws the same), invited by
//! then and with no cancellation request yet.
//!
//! The formula: PSI = Σ over bins (a − e) · ln(a / e), with `a` the feed's share and
//! `e` the training share of the bin, each floored at [`EPSILON`] so an empty bin
//! counts as a very small share rather than dividing by zero. Levels: below half the
//! warning threshold `stable`, below the threshold `moderate`, at or above it `shift`.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::encoding::{Encoding, OTHER_LEVEL};

/// The floor of a bin's share in the PSI (empty bins).
pub const EPSILON: f64 = 1e-4;
/// Most reference rows: above it a deterministic sample (by interview id) is binned.
pub const MAX_REFERENCE_ROWS: usize = 200_000;
/// Seed of the keyed draws (cutoff within the window, sample).
pub const DRAW_SEED: u64 = 0x5053_4921;

pub const FORMULA: &str = "PSI = sum over bins of (a - e) * ln(a / e), where a is the share of the feed's scored \
interviews in the bin and e the share of the training reference rows, each share floored at 0.0001 (empty bins); \
numeric features are binned at the training deciles (bin 1: x <= first edge; last bin: x > last edge; repeated \
edges merged), categorical features by the model's levels with `other` for folded and never-seen values; null \
values are left out";

pub const REFERENCE_RULE: &str = "one snapshot per interview with its slot in the training window (the training \
sample when one was used, at most 200 000 interviews by a keyed hash of interview_id), at a cutoff drawn \
uniformly within `window_days` before the slot by a keyed hash of interview_id, where invited_at <= cutoff and no \
cancel_requested event by the cutoff: the training population as a daily feed sees it";

/// Every feature's training distribution, recorded in model.json (`drift_reference`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReference {
    /// How the reference rows were drawn.
    pub rule: String,
    /// The score window the reference snapshots mimic.
    pub window_days: f64,
    pub rows: u64,
    pub epsilon: f64,
    pub formula: String,
    pub features: Vec<FeatureReference>,
}

/// One feature's bins and training shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureReference {
    pub name: String,
    /// `numeric` or `categorical`.
    pub kind: String,
    /// Numeric: the bins' upper edges (deciles, repeated ones merged); the last bin is
    /// above the last edge. Empty for categorical features.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edges: Vec<f64>,
    /// A label per bin (`<= 0`, `(0, 1.5]`, `> 3`; or the level).
    pub bins: Vec<String>,
    /// The training share per bin.
    pub shares: Vec<f64>,
}

/// One feature's drift on one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureDrift {
    pub feature: String,
    pub kind: String,
    pub bins: Vec<String>,
    pub reference_shares: Vec<f64>,
    /// The day's scored interviews per bin.
    pub counts: Vec<u64>,
    pub psi: Option<f64>,
    pub level: Option<String>,
}

impl FeatureDrift {
    /// The bin contributing most to the PSI: (label, training share, feed share).
    pub fn most_changed(&self) -> Option<(String, f64, f64)> {
        let total: u64 = self.counts.iter().sum();
        if total == 0 {
            return None;
        }
        (0..self.counts.len())
            .map(|i| {
                let e = self.reference_shares.get(i).copied().unwrap_or(0.0);
                let a = self.counts[i] as f64 / total as f64;
                let term = (a.max(EPSILON) - e.max(EPSILON)) * (a.max(EPSILON) / e.max(EPSILON)).ln();
                (term, i, e, a)
            })
            .max_by(|x, y| x.0.total_cmp(&y.0).then(y.1.cmp(&x.1)))
            .map(|(_, i, e, a)| (self.bins.get(i).cloned().unwrap_or_default(), e, a))
    }
}

/// PSI of the actual `counts` against the `expected` shares (see the module notes).
/// `None` when nothing was counted or the bins do not match.
pub fn psi(expected: &[f64], counts: &[u64]) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 || expected.len() != counts.len() {
        return None;
    }
    Some(
        expected
            .iter()
            .zip(counts)
            .map(|(&e, &c)| {
                let a = (c as f64 / total as f64).max(EPSILON);
                let e = e.max(EPSILON);
                (a - e) * (a / e).ln()
            })
            .sum(),
    )
}

/// `stable`, `moderate` (at least half the threshold) or `shift` (at least the threshold).
pub fn level(psi: f64, warn: f64) -> &'static str {
    if psi >= warn {
        "shift"
    } else if psi >= warn / 2.0 {
        "moderate"
    } else {
        "stable"
    }
}

/// The `q` quantile of sorted values: the value at position floor(q (n − 1)).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((q * (sorted.len() - 1) as f64).floor() as usize).min(sorted.len() - 1)]
}

fn edge_text(x: f64) -> String {
    let text = format!("{x:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_string() } else { text.to_string() }
}

fn numeric_bins(edges: &[f64]) -> Vec<String> {
    let mut bins = Vec::with_capacity(edges.len() + 1);
    for (i, e) in edges.iter().enumerate() {
        bins.push(if i == 0 { format!("<= {}", edge_text(*e)) } else { format!("({}, {}]", edge_text(edges[i - 1]), edge_text(*e)) });
    }
    if let Some(last) = edges.last() {
        bins.push(format!("> {}", edge_text(*last)));
    }
    bins
}

/// The bin of `x`: the number of edges strictly below it.
fn bin_of(edges: &[f64], x: f64) -> usize {
    edges.partition_point(|&e| e < x)
}

fn numeric_values(df: &DataFrame, name: &str) -> PolarsResult<Vec<f64>> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?.iter().flatten().filter(|v| v.is_finite()).collect())
}

fn text_values(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    let c = df.column(name)?.cast(&DataType::String)?;
    Ok(c.str()?.iter().map(|v| v.map(str::to_string)).collect())
}

/// The categorical bins of an encoded feature: its reference, its levels, `other`.
fn levels_of(c: &super::encoding::CategoricalEncoding) -> Vec<String> {
    let mut bins = vec![c.reference.clone()];
    for l in c.levels.iter().chain(std::iter::once(&OTHER_LEVEL.to_string())) {
        if !bins.contains(l) {
            bins.push(l.clone());
        }
    }
    bins
}

fn count_levels(bins: &[String], values: &[Option<String>]) -> Vec<u64> {
    let other = bins.iter().position(|b| b == OTHER_LEVEL).unwrap_or(bins.len() - 1);
    let mut counts = vec![0u64; bins.len()];
    for v in values.iter().flatten() {
        counts[bins.iter().position(|b| b == v).unwrap_or(other)] += 1;
    }
    counts
}

fn shares(counts: &[u64]) -> Vec<f64> {
    let total: u64 = counts.iter().sum();
    counts.iter().map(|&c| if total == 0 { 0.0 } else { c as f64 / total as f64 }).collect()
}

impl DriftReference {
    /// Learns the bins and shares from the reference rows' features (`df`, with the
    /// columns of every feature of `encoding`).
    pub fn learn(df: &DataFrame, encoding: &Encoding, window_days: f64) -> PolarsResult<DriftReference> {
        let mut features = Vec::new();
        for n in &encoding.numeric {
            let mut values = numeric_values(df, &n.name)?;
            values.sort_by(f64::total_cmp);
            let mut edges: Vec<f64> = if values.is_empty() { Vec::new() } else { (1..10).map(|k| quantile(&values, k as f64 / 10.0)).collect() };
            edges.dedup();
            let mut counts = vec![0u64; edges.len() + 1];
            for &x in &values {
                counts[bin_of(&edges, x)] += 1;
            }
            let bins = if edges.is_empty() { vec!["all".to_string()] } else { numeric_bins(&edges) };
            features.push(FeatureReference { name: n.name.clone(), kind: "numeric".into(), edges, bins, shares: shares(&counts) });
        }
        for c in &encoding.categorical {
            let bins = levels_of(c);
            let counts = count_levels(&bins, &text_values(df, &c.name)?);
            features.push(FeatureReference { name: c.name.clone(), kind: "categorical".into(), edges: Vec::new(), bins, shares: shares(&counts) });
        }
        Ok(DriftReference {
            rule: REFERENCE_RULE.into(),
            window_days,
            rows: df.height() as u64,
            epsilon: EPSILON,
            formula: FORMULA.into(),
            features,
        })
    }
}

/// Bins the scored interviews' features (`df`) as the reference does and gives each
/// feature's PSI and level (warning threshold `warn`).
pub fn compare(reference: &DriftReference, df: &DataFrame, warn: f64) -> PolarsResult<Vec<FeatureDrift>> {
    let mut out = Vec::with_capacity(reference.features.len());
    for f in &reference.features {
        let counts = if f.kind == "numeric" {
            let mut counts = vec![0u64; f.shares.len()];
            for x in numeric_values(df, &f.name)? {
                let b = bin_of(&f.edges, x).min(counts.len().saturating_sub(1));
                if let Some(c) = counts.get_mut(b) {
                    *c += 1;
                }
            }
            counts
        } else {
            count_levels(&f.bins, &text_values(df, &f.name)?)
        };
        let value = psi(&f.shares, &counts);
        out.push(FeatureDrift {
            feature: f.name.clone(),
            kind: f.kind.clone(),
            bins: f.bins.clone(),
            reference_shares: f.shares.clone(),
            counts,
            psi: value,
            level: value.map(|v| level(v, warn).to_string()),
        });
    }
    Ok(out)
}

/// A day's drift, kept beside the archived feed as `LAKE/feeds/<date>/drift.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftDay {
    pub as_of: String,
    pub as_of_date: String,
    pub model_version: String,
    /// Interviews scored.
    pub rows: u64,
    /// The feed's window, and the one the reference mimics.
    pub window_days: f64,
    pub reference_window_days: f64,
    pub warn_psi: f64,
    pub formula: String,
    pub features: Vec<FeatureDrift>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_matches_a_hand_computation() {
        // e = (0.5, 0.3, 0.2), a = (0.4, 0.4, 0.2):
        // (0.4 − 0.5) ln(0.4/0.5) + (0.4 − 0.3) ln(0.4/0.3) + 0 = 0.022314355 + 0.028768207.
        let v = psi(&[0.5, 0.3, 0.2], &[40, 40, 20]).unwrap();
        assert!((v - 0.051_082_562_376_599).abs() < 1e-12, "{v}");
        // An empty training bin counts as 0.0001: (0.1 − 0.0001) ln(0.1 / 0.0001)
        // + (0.4 − 0.5) ln(0.8) = 0.0999 · 6.907755279 + 0.022314355.
        let v = psi(&[0.5, 0.5, 0.0], &[50, 40, 10]).unwrap();
        assert!((v - (0.0999 * 1000f64.ln() + 0.1 * 1.25f64.ln())).abs() < 1e-12, "{v}");
        assert!((v - 0.712_399_109).abs() < 1e-6, "{v}");
        // The same distribution: zero. Nothing counted or mismatched bins: none.
        assert!(psi(&[0.25; 4], &[5, 5, 5, 5]).unwrap().abs() < 1e-15);
        assert_eq!(psi(&[0.5, 0.5], &[0, 0]), None);
        assert_eq!(psi(&[0.5, 0.5], &[1, 2, 3]), None);
    }

    #[test]
    fn levels_follow_the_threshold() {
        assert_eq!(level(0.05, 0.2), "stable");
        assert_eq!(level(0.1, 0.2), "moderate");
        assert_eq!(level(0.2, 0.2), "shift");
        assert_eq!(level(0.3, 0.5), "moderate");
    }

    #[test]
    fn bins_are_the_training_deciles_and_levels_fold_into_other() {
        let x: Vec<f64> = (1..=100).map(f64::from).collect();
        let flag: Vec<f64> = (0..100).map(|i| if i < 70 { 0.0 } else { 1.0 }).collect();
        let role: Vec<&str> = (0..100).map(|i| if i < 60 { "sales" } else if i < 90 { "engineer" } else { "rare" }).collect();
        let df = df!["x" => &x, "flag" => &flag, "role" => &role].unwrap();
        let encoding = Encoding {
            numeric: vec![
                super::super::encoding::NumericScaling { name: "x".into(), mean: 50.0, sd: 29.0 },
                super::super::encoding::NumericScaling { name: "flag".into(), mean: 0.3, sd: 0.46 },
            ],
            categorical: vec![super::super::encoding::CategoricalEncoding {
                name: "role".into(),
                reference: "sales".into(),
                levels: vec!["engineer".into()],
                folded: vec!["rare".into()],
            }],
            unseen_to_other: true,
        };
        let r = DriftReference::learn(&df, &encoding, 7.0).unwrap();
        // Deciles of 1..100 at positions floor(k · 99 / 10): 10, 20, …, 90 (k = 1 → 9.9 → 9 → value 10).
        assert_eq!(r.features[0].edges, vec![10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0]);
        assert!(r.features[0].shares.iter().all(|&s| (s - 0.1).abs() < 1e-12), "{:?}", r.features[0].shares);
        assert_eq!(r.features[1].edges, vec![0.0, 1.0]);
        assert_eq!(r.features[1].bins, vec!["<= 0", "(0, 1]", "> 1"]);
        assert_eq!(r.features[1].shares, vec![0.7, 0.3, 0.0]);
        assert_eq!(r.features[2].bins, vec!["sales", "engineer", "other"]);
        assert_eq!(r.features[2].shares, vec![0.6, 0.3, 0.1]);
        // The same rows: PSI 0, stable. A feed of unseen roles lands in `other`.
        assert!(compare(&r, &df, 0.2).unwrap().iter().all(|d| d.psi.unwrap().abs() < 1e-12 && d.level.as_deref() == Some("stable")));
        let shifted = df!["x" => &x, "flag" => &flag, "role" => vec!["new_role"; 100]].unwrap();
        let d = compare(&r, &shifted, 0.2).unwrap();
        assert_eq!(d[2].counts, vec![0, 0, 100]);
        let want = (1.0 - 0.1) * (1.0f64 / 0.1).ln() + (EPSILON - 0.6) * (EPSILON / 0.6).ln() + (EPSILON - 0.3) * (EPSILON / 0.3).ln();
        assert!((d[2].psi.unwrap() - want).abs() < 1e-12);
        assert_eq!(d[2].level.as_deref(), Some("shift"));
    }
}
