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
//! snapshot per interview as one of the daily feeds that score it would (at the
//! training run's time of day, on one of the `window_days` days before its slot,
//! picked by a keyed hash of the interview id), invited by then and with no
//! cancellation request yet. A single day's feed also sees the coming weekdays in an
//! order set by the day it runs (a Monday feed's first day is a Monday), which moves
//! the slot weekday, the hours left and the lead time; so the shares are also kept per
//! weekday of the cutoff, and a feed is compared with the reference rows of its own
//! weekday.
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
sample when one was used, at most 200 000 interviews by a keyed hash of interview_id), at the training as-of's time \
of day on one of the `window_days` days before the slot (picked by a keyed hash of interview_id), where invited_at \
<= cutoff and no cancel_requested event by the cutoff: the training population as a daily feed sees it; \
`shares_by_weekday` splits the rows by the local weekday of the cutoff (Monday first), and a feed is compared with \
its own weekday's shares";

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
    /// The same, over the reference rows whose cutoff fell on each local weekday
    /// (Monday first): what a feed run on that weekday is compared with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares_by_weekday: Vec<Vec<f64>>,
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

/// The bin of a categorical value: its level, else `other`.
fn level_bin(bins: &[String], value: &str) -> usize {
    bins.iter().position(|b| b == value).unwrap_or_else(|| bins.iter().position(|b| b == OTHER_LEVEL).unwrap_or(bins.len() - 1))
}

fn count_levels(bins: &[String], values: &[Option<String>]) -> Vec<u64> {
    let mut counts = vec![0u64; bins.len()];
    for v in values.iter().flatten() {
        counts[level_bin(bins, v)] += 1;
    }
    counts
}

fn shares(counts: &[u64]) -> Vec<f64> {
    let total: u64 = counts.iter().sum();
    counts.iter().map(|&c| if total == 0 { 0.0 } else { c as f64 / total as f64 }).collect()
}

/// Shares overall and per weekday, from each row's bin (`None`: left out) and weekday.
fn tally(bins: usize, rows: impl Iterator<Item = (Option<usize>, Option<usize>)>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut all = vec![0u64; bins];
    let mut by_day = vec![vec![0u64; bins]; 7];
    for (bin, day) in rows {
        let Some(b) = bin.filter(|&b| b < bins) else { continue };
        all[b] += 1;
        if let Some(d) = day.filter(|&d| d < 7) {
            by_day[d][b] += 1;
        }
    }
    let by_day = if weekdays_given(&by_day) { by_day.iter().map(|c| shares(c)).collect() } else { Vec::new() };
    (shares(&all), by_day)
}

fn weekdays_given(by_day: &[Vec<u64>]) -> bool {
    by_day.iter().any(|c| c.iter().any(|&n| n > 0))
}

/// The local weekday (0 = Monday) of an instant.
pub fn weekday(us: i64, tz: chrono_tz::Tz) -> Option<usize> {
    use chrono::{Datelike, TimeZone};
    let utc = chrono::DateTime::<chrono::Utc>::from_timestamp_micros(us)?;
    Some(tz.from_utc_datetime(&utc.naive_utc()).weekday().num_days_from_monday() as usize)
}

impl DriftReference {
    /// Learns the bins and shares from the reference rows' features (`df`, with the
    /// columns of every feature of `encoding`, and `cutoff` in UTC microseconds, whose
    /// weekday in `tz` splits the shares by the weekday a feed runs on).
    pub fn learn(df: &DataFrame, encoding: &Encoding, window_days: f64, tz: chrono_tz::Tz) -> PolarsResult<DriftReference> {
        let days: Vec<Option<usize>> = match df.column("cutoff") {
            Ok(c) => c.cast(&DataType::Int64)?.i64()?.iter().map(|v| v.and_then(|us| weekday(us, tz))).collect(),
            Err(_) => vec![None; df.height()],
        };
        let mut features = Vec::new();
        for n in &encoding.numeric {
            let column: Vec<Option<f64>> =
                df.column(&n.name)?.cast(&DataType::Float64)?.f64()?.iter().map(|v| v.filter(|x| x.is_finite())).collect();
            let mut values: Vec<f64> = column.iter().flatten().copied().collect();
            values.sort_by(f64::total_cmp);
            // The minimum too, so a flag that is 1 for over 90 % of rows keeps 0 apart.
            let mut edges: Vec<f64> =
                if values.is_empty() { Vec::new() } else { std::iter::once(values[0]).chain((1..10).map(|k| quantile(&values, k as f64 / 10.0))).collect() };
            edges.dedup();
            let (shares, shares_by_weekday) = tally(edges.len() + 1, column.iter().zip(&days).map(|(x, d)| (x.map(|x| bin_of(&edges, x)), *d)));
            let bins = if edges.is_empty() { vec!["all".to_string()] } else { numeric_bins(&edges) };
            features.push(FeatureReference { name: n.name.clone(), kind: "numeric".into(), edges, bins, shares, shares_by_weekday });
        }
        for c in &encoding.categorical {
            let bins = levels_of(c);
            let values = text_values(df, &c.name)?;
            let (shares, shares_by_weekday) = tally(bins.len(), values.iter().zip(&days).map(|(v, d)| (v.as_deref().map(|v| level_bin(&bins, v)), *d)));
            features.push(FeatureReference { name: c.name.clone(), kind: "categorical".into(), edges: Vec::new(), bins, shares, shares_by_weekday });
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
/// feature's PSI and level (warning threshold `warn`), against the reference rows of
/// the feed's weekday (`as_of_weekday`, 0 = Monday) when the reference has them.
pub fn compare(reference: &DriftReference, df: &DataFrame, warn: f64, as_of_weekday: Option<usize>) -> PolarsResult<Vec<FeatureDrift>> {
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
        let expected = match as_of_weekday.and_then(|d| f.shares_by_weekday.get(d)) {
            Some(day) if day.iter().sum::<f64>() > 0.0 => day,
            _ => &f.shares,
        };
        let value = psi(expected, &counts);
        out.push(FeatureDrift {
            feature: f.name.clone(),
            kind: f.kind.clone(),
            bins: f.bins.clone(),
            reference_shares: expected.clone(),
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
    fn a_feed_is_compared_with_the_reference_rows_of_its_weekday() {
        // 2026-11-16 is a Monday: Monday cutoffs see role a, Tuesday cutoffs role b.
        let monday = crate::time::parse_timestamp("2026-11-16T00:00:00Z", chrono_tz::UTC).unwrap();
        let tuesday = monday + crate::time::MICROS_PER_DAY;
        let df = df!["cutoff" => [monday, monday, tuesday, tuesday], "role" => ["a", "a", "b", "b"]].unwrap();
        let encoding = Encoding {
            numeric: vec![],
            categorical: vec![super::super::encoding::CategoricalEncoding { name: "role".into(), reference: "a".into(), levels: vec!["b".into()], folded: vec![] }],
            unseen_to_other: true,
        };
        let r = DriftReference::learn(&df, &encoding, 7.0, chrono_tz::UTC).unwrap();
        assert_eq!(r.features[0].shares, vec![0.5, 0.5, 0.0]);
        assert_eq!(r.features[0].shares_by_weekday[0], vec![1.0, 0.0, 0.0]);
        assert_eq!(r.features[0].shares_by_weekday[1], vec![0.0, 1.0, 0.0]);
        let feed = df!["role" => ["a", "a"]].unwrap();
        assert_eq!(compare(&r, &feed, 0.2, weekday(monday, chrono_tz::UTC)).unwrap()[0].psi, Some(0.0));
        assert_eq!(weekday(tuesday, chrono_tz::UTC), Some(1));
        assert!(compare(&r, &feed, 0.2, Some(1)).unwrap()[0].psi.unwrap() > 5.0);
        // A weekday with no reference rows falls back to all of them.
        assert_eq!(compare(&r, &feed, 0.2, Some(4)).unwrap()[0].psi, psi(&[0.5, 0.5, 0.0], &[2, 0, 0]));
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
        let r = DriftReference::learn(&df, &encoding, 7.0, chrono_tz::UTC).unwrap();
        // The minimum, then the deciles of 1..100 at positions floor(k · 99 / 10): 10, 20, …, 90
        // (k = 1 → 9.9 → 9 → value 10).
        assert_eq!(r.features[0].edges, vec![1.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0]);
        assert_eq!(r.features[0].shares[..2], [0.01, 0.09]);
        assert!(r.features[0].shares[2..].iter().all(|&s| (s - 0.1).abs() < 1e-12), "{:?}", r.features[0].shares);
        // A flag that is 1 for 95 % of rows still keeps its zeros apart.
        let mostly: Vec<f64> = (0..100).map(|i| if i < 5 { 0.0 } else { 1.0 }).collect();
        let r1 = DriftReference::learn(&df!["x" => &mostly, "flag" => &flag, "role" => &role].unwrap(), &encoding, 7.0, chrono_tz::UTC).unwrap();
        assert_eq!((r1.features[0].edges.clone(), r1.features[0].shares.clone()), (vec![0.0, 1.0], vec![0.05, 0.95, 0.0]));
        assert_eq!(r.features[1].edges, vec![0.0, 1.0]);
        assert_eq!(r.features[1].bins, vec!["<= 0", "(0, 1]", "> 1"]);
        assert_eq!(r.features[1].shares, vec![0.7, 0.3, 0.0]);
        assert_eq!(r.features[2].bins, vec!["sales", "engineer", "other"]);
        assert_eq!(r.features[2].shares, vec![0.6, 0.3, 0.1]);
        // The same rows: PSI 0, stable. A feed of unseen roles lands in `other`.
        assert!(compare(&r, &df, 0.2, None).unwrap().iter().all(|d| d.psi.unwrap().abs() < 1e-12 && d.level.as_deref() == Some("stable")));
        let shifted = df!["x" => &x, "flag" => &flag, "role" => vec!["new_role"; 100]].unwrap();
        let d = compare(&r, &shifted, 0.2, Some(2)).unwrap();
        assert_eq!(d[2].counts, vec![0, 0, 100]);
        let want = (1.0 - 0.1) * (1.0f64 / 0.1).ln() + (EPSILON - 0.6) * (EPSILON / 0.6).ln() + (EPSILON - 0.3) * (EPSILON / 0.3).ln();
        assert!((d[2].psi.unwrap() - want).abs() < 1e-12);
        assert_eq!(d[2].level.as_deref(), Some("shift"));
    }
}
