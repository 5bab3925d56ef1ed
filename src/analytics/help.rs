//! Closing the loop: the archived feeds joined to the outcomes the lake later
//! received, as `help_effect` (what the calls and extra reminders changed, helped
//! against held-out interviews) and `model_monitoring` (how the model did on its own
//! outcomes, week by week).
//!
//! Rules:
//! - Feeds published before the report's as-of count (so a re-run at the same instant,
//!   after that day's score, gives the same tables). An interview's probability, band
//!   and action are those of the **last archived feed before its slot**; its arm is the sticky one every feed gave it. The analysis
//!   is by arm as assigned (intention to treat): a helped interview whose call never
//!   happened still counts as helped.
//! - Outcomes are the closed interviews with the derived-status rule, as in every
//!   table. A *miss* is the model's default label: a no-show or a candidate
//!   cancellation; an attended interview is a success. Company cancellations and
//!   reschedules are outside the label and left out, and so are interviews still open;
//!   both are counted in [`LoopCounts`].
//! - Intervals: the difference of two miss rates by Newcombe's hybrid score method;
//!   the AUC by Hanley and McNeil's (1982) standard error. Groups below the
//!   suppression threshold keep their row with figures null and `suppressed` true.

use polars::prelude::*;

use super::stats::{newcombe_difference, ratio, Z95};
use super::Settings;
use crate::model::metrics::{auc, calibration_deciles, capture_at, expected_calibration_error};

/// What the join found, for the summary and the report's sentence.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoopCounts {
    /// Distinct interviews in the archive.
    pub archived_interviews: u64,
    /// Of those, scored before their slot and closed with an outcome in the label.
    pub with_outcome: u64,
    /// Closed, but a company cancellation or a reschedule (outside the label).
    pub outside_label: u64,
    /// Not closed yet (slot ahead, or within the grace period), or not in the lake.
    pub still_open: u64,
}

/// The tables, when there is an archive to read.
pub struct LoopTables {
    pub help_effect: DataFrame,
    pub model_monitoring: DataFrame,
    pub counts: LoopCounts,
}

/// One interview's last feed before its slot, with its outcome.
struct Row {
    week: String,
    model_version: String,
    band: String,
    action: String,
    holdout: bool,
    p: f64,
    miss: bool,
}

/// Joins `feeds` (the archive) to `closed` (closed interviews with the derived status
/// and `week`).
pub fn loop_tables(feeds: LazyFrame, closed: &DataFrame, s: &Settings) -> PolarsResult<LoopTables> {
    // Feeds published before the report's as-of: a report re-run at the same instant
    // (after that day's score) gives the same tables.
    let last = feeds
        .filter(crate::derive::micros("as_of").lt(lit(s.as_of)))
        .select([
            col("as_of"),
            col("interview_id"),
            col("scheduled_at").alias("feed_slot"),
            col("p_not_attend"),
            col("risk_band"),
            col("suggested_action"),
            col("holdout"),
            col("model_version"),
        ])
        .collect()?;
    let archived_interviews = last.column("interview_id")?.n_unique()? as u64;
    let outcomes = closed.select(["interview_id", "scheduled_at", "status", "week"])?;
    let joined = last
        .lazy()
        .join(outcomes.lazy(), [col("interview_id")], [col("interview_id")], JoinArgs::new(JoinType::Inner))
        // Feeds published before the slot (the slot as the lake has it now).
        .filter(col("as_of").lt(col("scheduled_at")))
        .sort(["interview_id", "as_of"], SortMultipleOptions::default())
        .group_by([col("interview_id")])
        .agg([
            col("p_not_attend").last(),
            col("risk_band").last(),
            col("suggested_action").last(),
            col("holdout").first(),
            col("model_version").last(),
            col("status").last(),
            col("week").last(),
        ])
        .sort(["interview_id"], SortMultipleOptions::default())
        .collect()?;
    let status = joined.column("status")?.str()?.clone();
    let (p, band, action, holdout, version, week) = (
        joined.column("p_not_attend")?.f64()?.clone(),
        joined.column("risk_band")?.str()?.clone(),
        joined.column("suggested_action")?.str()?.clone(),
        joined.column("holdout")?.bool()?.clone(),
        joined.column("model_version")?.str()?.clone(),
        joined.column("week")?.str()?.clone(),
    );
    let mut rows = Vec::with_capacity(joined.height());
    let mut outside_label = 0u64;
    for i in 0..joined.height() {
        let miss = match status.get(i) {
            Some("no_show" | "cancelled_by_candidate") => true,
            Some("attended") => false,
            _ => {
                outside_label += 1;
                continue;
            }
        };
        rows.push(Row {
            week: week.get(i).unwrap_or("").to_string(),
            model_version: version.get(i).unwrap_or("").to_string(),
            band: band.get(i).unwrap_or("").to_string(),
            action: action.get(i).unwrap_or("").to_string(),
            holdout: holdout.get(i).unwrap_or(false),
            p: p.get(i).unwrap_or(f64::NAN),
            miss,
        });
    }
    let with_outcome = rows.len() as u64;
    let counts = LoopCounts {
        archived_interviews,
        with_outcome,
        outside_label,
        still_open: archived_interviews.saturating_sub(with_outcome + outside_label),
    };
    Ok(LoopTables { help_effect: help_effect(&rows, s)?, model_monitoring: model_monitoring(&rows, s)?, counts })
}

fn help_effect(rows: &[Row], s: &Settings) -> PolarsResult<DataFrame> {
    let mut groups: Vec<(&str, String, Vec<&Row>)> = vec![("all", "all".to_string(), rows.iter().collect())];
    for b in ["high", "medium", "low"] {
        groups.push(("risk_band", b.to_string(), rows.iter().filter(|r| r.band == b).collect()));
    }
    let mut actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    actions.sort_unstable();
    actions.dedup();
    for a in actions {
        groups.push(("suggested_action", a.to_string(), rows.iter().filter(|r| r.action == a).collect()));
    }
    const FIGURES: [&str; 9] = [
        "miss_rate_help",
        "miss_rate_holdout",
        "difference",
        "difference_low",
        "difference_high",
        "relative_change",
        "misses_prevented",
        "misses_prevented_low",
        "misses_prevented_high",
    ];
    let mut cols: Vec<Vec<Option<f64>>> = vec![Vec::new(); FIGURES.len()];
    let (mut group, mut value, mut counts, mut suppressed) = (Vec::new(), Vec::new(), vec![Vec::new(); 4], Vec::new());
    for (g, v, members) in groups {
        let (help, hold): (Vec<&Row>, Vec<&Row>) = members.iter().partition(|r| !r.holdout);
        let (nh, nc) = (help.len() as u64, hold.len() as u64);
        let (xh, xc) = (help.iter().filter(|r| r.miss).count() as u64, hold.iter().filter(|r| r.miss).count() as u64);
        let hidden = nh < s.suppression_threshold || nc < s.suppression_threshold;
        group.push(g);
        value.push(v);
        suppressed.push(hidden);
        for (c, x) in counts.iter_mut().zip([nh, nc, xh, xc]) {
            c.push((!hidden).then_some(x));
        }
        let diff = if hidden { None } else { newcombe_difference(xh, nh, xc, nc, Z95) };
        let rate_c = if hidden { None } else { ratio(xc, nc) };
        let rel = match (diff, rate_c) {
            (Some((d, _, _)), Some(c)) if c > 0.0 => Some(d / c),
            _ => None,
        };
        // Misses prevented = −difference × helped interviews (its bounds swap sides).
        let prevented = diff.map(|(d, lo, hi)| (-d * nh as f64, -hi * nh as f64, -lo * nh as f64));
        let values = [
            if hidden { None } else { ratio(xh, nh) },
            rate_c,
            diff.map(|d| d.0),
            diff.map(|d| d.1),
            diff.map(|d| d.2),
            rel,
            prevented.map(|p| p.0),
            prevented.map(|p| p.1),
            prevented.map(|p| p.2),
        ];
        for (c, v) in cols.iter_mut().zip(values) {
            c.push(v);
        }
    }
    let mut columns = vec![Column::new("group".into(), group), Column::new("value".into(), value)];
    for (name, c) in ["interviews_help", "interviews_holdout", "misses_help", "misses_holdout"].iter().zip(counts) {
        columns.push(Column::new((*name).into(), c));
    }
    for (name, c) in FIGURES.iter().zip(cols) {
        columns.push(Column::new((*name).into(), c));
    }
    columns.push(Column::new("suppressed".into(), suppressed));
    DataFrame::new_infer_height(columns)
}

/// AUC with its 95 % interval by Hanley and McNeil's standard error.
pub fn auc_interval(scores: &[f64], labels: &[bool]) -> Option<(f64, f64, f64)> {
    let a = auc(scores, labels)?;
    let n1 = labels.iter().filter(|&&l| l).count() as f64;
    let n2 = labels.len() as f64 - n1;
    let q1 = a / (2.0 - a);
    let q2 = 2.0 * a * a / (1.0 + a);
    let var = (a * (1.0 - a) + (n1 - 1.0) * (q1 - a * a) + (n2 - 1.0) * (q2 - a * a)) / (n1 * n2);
    let se = var.max(0.0).sqrt();
    Some((a, (a - Z95 * se).max(0.0), (a + Z95 * se).min(1.0)))
}

fn model_monitoring(rows: &[Row], s: &Settings) -> PolarsResult<DataFrame> {
    let mut keys: Vec<(&str, &str)> = rows.iter().map(|r| (r.week.as_str(), r.model_version.as_str())).collect();
    keys.sort_unstable();
    keys.dedup();
    let (mut week, mut version, mut arm, mut n, mut misses, mut suppressed) = (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut figures: Vec<Vec<Option<f64>>> = vec![Vec::new(); 7];
    for (w, v) in keys {
        for which in ["holdout", "all"] {
            let members: Vec<&Row> =
                rows.iter().filter(|r| r.week == w && r.model_version == v && (which == "all" || r.holdout)).collect();
            let scores: Vec<f64> = members.iter().map(|r| r.p).collect();
            let labels: Vec<bool> = members.iter().map(|r| r.miss).collect();
            let hidden = (members.len() as u64) < s.suppression_threshold;
            week.push(w.to_string());
            version.push(v.to_string());
            arm.push(which);
            n.push((!hidden).then_some(members.len() as u64));
            misses.push((!hidden).then_some(labels.iter().filter(|&&l| l).count() as u64));
            suppressed.push(hidden);
            let a = if hidden { None } else { auc_interval(&scores, &labels) };
            let mean_p = (!hidden && !scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64);
            let rate = (!hidden && !labels.is_empty()).then(|| labels.iter().filter(|&&l| l).count() as f64 / labels.len() as f64);
            let ece = if hidden { None } else { expected_calibration_error(&calibration_deciles(&scores, &labels)) };
            let top = if hidden { None } else { capture_at(&scores, &labels, 0.1) };
            for (c, value) in figures.iter_mut().zip([a.map(|x| x.0), a.map(|x| x.1), a.map(|x| x.2), mean_p, rate, ece, top]) {
                c.push(value);
            }
        }
    }
    let mut columns = vec![
        Column::new("week".into(), week),
        Column::new("model_version".into(), version),
        Column::new("arm".into(), arm),
        Column::new("interviews".into(), n),
        Column::new("misses".into(), misses),
    ];
    for (name, c) in ["auc", "auc_low", "auc_high", "mean_p", "miss_rate", "ece", "top_decile_capture"].iter().zip(figures) {
        columns.push(Column::new((*name).into(), c));
    }
    columns.push(Column::new("suppressed".into(), suppressed));
    DataFrame::new_infer_height(columns)
}

/// The `drift` table: one row per archived day (oldest first) and model feature, with
/// its PSI against the model's training window, its level and the bin that moved most.
pub fn drift_table(days: &[crate::model::drift::DriftDay]) -> PolarsResult<DataFrame> {
    let (mut feature, mut kind, mut as_of, mut date, mut version, mut rows) = (vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut psi, mut level, mut bin, mut e, mut a) = (vec![], vec![], vec![], vec![], vec![]);
    for day in days {
        let t = crate::time::parse_timestamp(&day.as_of, chrono_tz::UTC).ok();
        for f in &day.features {
            let moved = f.most_changed();
            feature.push(f.feature.clone());
            kind.push(f.kind.clone());
            as_of.push(t);
            date.push(day.as_of_date.clone());
            version.push(day.model_version.clone());
            rows.push(day.rows);
            psi.push(f.psi);
            level.push(f.level.clone());
            bin.push(moved.as_ref().map(|m| m.0.clone()));
            e.push(moved.as_ref().map(|m| m.1));
            a.push(moved.as_ref().map(|m| m.2));
        }
    }
    let utc = DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
    DataFrame::new_infer_height(vec![
        Column::new("feature".into(), feature),
        Column::new("kind".into(), kind),
        Column::new("as_of".into(), as_of).cast(&utc)?,
        Column::new("as_of_date".into(), date),
        Column::new("model_version".into(), version),
        Column::new("interviews".into(), rows),
        Column::new("psi".into(), psi),
        Column::new("level".into(), level),
        Column::new("most_changed_bin".into(), bin),
        Column::new("training_share".into(), e),
        Column::new("feed_share".into(), a),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newcombe_matches_statsmodels() {
        // statsmodels 0.15.0: confint_proportions_2indep(x1, n1, x2, n2, method="newcomb",
        // compare="diff"). The last digits differ because statsmodels takes the exact
        // normal quantile and noshow z = 1.959964.
        let reference = [
            ((22, 100, 31, 100), (-0.2090138634675597, 0.03241106600591043)),
            ((5, 40, 12, 38), (-0.364467858229081, -0.006019770858861878)),
            ((0, 25, 3, 30), (-0.25621082579184085, 0.048382445936409696)),
            ((150, 600, 171, 590), (-0.09005359774824798, 0.010604924588786833)),
        ];
        for ((x1, n1, x2, n2), (low, high)) in reference {
            let (d, lo, hi) = newcombe_difference(x1, n1, x2, n2, Z95).unwrap();
            assert!((d - (x1 as f64 / n1 as f64 - x2 as f64 / n2 as f64)).abs() < 1e-15);
            assert!((lo - low).abs() < 1e-7 && (hi - high).abs() < 1e-7, "{x1}/{n1} vs {x2}/{n2}: {lo} {hi}");
        }
    }

    #[test]
    fn auc_interval_is_hanley_mcneil() {
        // A = 0.75 with 10 positives and 10 negatives: Q1 = 0.6, Q2 = 0.642857…,
        // var = (0.1875 + 9·0.0375 + 9·0.080357…)/100.
        let scores: Vec<f64> = (0..20).map(|i| i as f64).collect();
        let labels: Vec<bool> = (0..20).map(|i| [1, 3, 4, 6, 8, 9, 11, 13, 14, 16].contains(&(19 - i))).collect();
        let (a, lo, hi) = auc_interval(&scores, &labels).unwrap();
        let q1 = a / (2.0 - a);
        let q2 = 2.0 * a * a / (1.0 + a);
        let se = ((a * (1.0 - a) + 9.0 * (q1 - a * a) + 9.0 * (q2 - a * a)) / 100.0).sqrt();
        assert!((lo - (a - Z95 * se)).abs() < 1e-12 && (hi - (a + Z95 * se).min(1.0)).abs() < 1e-12);
    }
}
