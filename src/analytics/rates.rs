//! Rate tables: per segment, the count of each outcome among closed interviews, the
//! no-show rate with its Wilson 95 % interval, the cancellation and reschedule rates,
//! small-segment suppression, and the change against the previous period.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use polars::prelude::*;

use super::frame::{self, count_if, counts, sorted};
use super::stats::{ratio, wilson_interval, Z95};
use super::{Settings, LEAD_TIME_BUCKETS};
use crate::derive::micros;
use crate::time::MICROS_PER_DAY;

/// How a rate table compares each segment with an earlier period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// No comparison columns.
    None,
    /// Tables keyed by `week`: the segment's own week against the ISO week before it.
    PreviousWeek,
    /// Other tables: the last 28 days before as-of against the 28 days before those.
    RecentWindows,
}

/// The comparison windows' length.
pub const WINDOW_DAYS: i64 = 28;

/// Outcome counts per segment (one row when `dims` is empty).
pub fn outcome_counts(lf: LazyFrame, dims: &[&str]) -> LazyFrame {
    outcome_counts_with(lf, dims, Vec::new())
}

/// [`outcome_counts`] with `extra` aggregations beside the counts.
fn outcome_counts_with(lf: LazyFrame, dims: &[&str], extra: Vec<Expr>) -> LazyFrame {
    let is = |s: &str| count_if(col("status").eq(lit(s.to_string())));
    let mut aggs = vec![
        len().cast(DataType::Int64).alias("interviews"),
        is("attended").alias("attended"),
        is("no_show").alias("no_shows"),
        is("cancelled_by_candidate").alias("cancelled_by_candidate"),
        is("cancelled_by_company").alias("cancelled_by_company"),
        is("rescheduled").alias("rescheduled"),
    ];
    aggs.extend(extra);
    if dims.is_empty() {
        lf.select(aggs)
    } else {
        lf.group_by(dims.iter().map(|d| col(*d)).collect::<Vec<_>>()).agg(aggs)
    }
}

/// The label of the ISO week after `label` (`2026-W07` → `2026-W08`), or `None` when
/// the text is not a week label.
pub fn next_week_label(label: &str) -> Option<String> {
    let (year, week) = label.split_once("-W")?;
    let monday = NaiveDate::from_isoywd_opt(year.parse().ok()?, week.parse().ok()?, Weekday::Mon)?;
    let next = (monday + Duration::days(7)).iso_week();
    Some(format!("{}-W{:02}", next.year(), next.week()))
}

/// Counts of a comparison window, renamed with `prefix`, keyed by `dims`.
fn window_counts(df: &DataFrame, dims: &[&str], prefix: &str) -> PolarsResult<DataFrame> {
    let mut cols: Vec<Expr> = dims.iter().map(|d| col(*d)).collect();
    for c in ["interviews", "no_shows", "cancelled_by_candidate"] {
        cols.push(col(c).alias(format!("{prefix}{c}")));
    }
    df.clone().lazy().select(cols).collect()
}

fn attach(main: DataFrame, window: DataFrame, dims: &[&str]) -> PolarsResult<DataFrame> {
    if dims.is_empty() {
        let extra: Vec<Column> = window.columns().to_vec();
        if window.height() == main.height() {
            return main.hstack(&extra);
        }
        return Ok(main);
    }
    let on: Vec<Expr> = dims.iter().map(|d| col(*d)).collect();
    main.lazy().join(window.lazy(), on.clone(), on, frame::left_on_segments()).collect()
}

/// One rate table over the closed interviews, segments by `dims` (none = one overall row).
pub fn rate_table(closed: &LazyFrame, dims: &[&str], s: &Settings, compare: Compare) -> PolarsResult<DataFrame> {
    let compare = if compare != Compare::None && dims.contains(&"week") { Compare::PreviousWeek } else { compare };
    let table = match compare {
        Compare::None => outcome_counts(closed.clone(), dims).collect()?,
        Compare::PreviousWeek => {
            let table = outcome_counts(closed.clone(), dims).collect()?;
            let recent = window_counts(&table, dims, "recent_")?;
            let mut previous = window_counts(&table, dims, "previous_")?;
            // Relabel each week as the one after it, so joining on `week` puts the
            // previous week's counts beside the current week.
            let shifted: Vec<Option<String>> = frame::strings(&previous, "week")?
                .into_iter()
                .map(|w| w.and_then(|w| next_week_label(&w)))
                .collect();
            previous.with_column(frame::col_str("week", shifted))?;
            attach(attach(table, recent, dims)?, previous, dims)?
        }
        Compare::RecentWindows => {
            // One group-by counts the whole period and both windows (conditional sums),
            // rather than three passes over the closed interviews.
            let start = s.as_of - WINDOW_DAYS * MICROS_PER_DAY;
            let slot = || micros("scheduled_at");
            let windows = [
                ("recent_", slot().gt_eq(lit(start))),
                ("previous_", slot().gt_eq(lit(start - WINDOW_DAYS * MICROS_PER_DAY)).and(slot().lt(lit(start)))),
            ];
            let mut extra = Vec::new();
            for (prefix, inside) in windows {
                extra.push(count_if(inside.clone()).alias(format!("{prefix}interviews")));
                for (status, name) in [("no_show", "no_shows"), ("cancelled_by_candidate", "cancelled_by_candidate")] {
                    extra.push(count_if(inside.clone().and(col("status").eq(lit(status)))).alias(format!("{prefix}{name}")));
                }
            }
            outcome_counts_with(closed.clone(), dims, extra).collect()?
        }
    };
    finish_rates(sorted(table, dims)?, dims, s.suppression_threshold, compare != Compare::None)
}

/// Turns counts into the published columns: rates, Wilson bounds, suppression and,
/// when `with_windows`, the comparison columns.
pub fn finish_rates(table: DataFrame, dims: &[&str], threshold: u64, with_windows: bool) -> PolarsResult<DataFrame> {
    let n = counts(&table, "interviews")?;
    let names = ["attended", "no_shows", "cancelled_by_candidate", "cancelled_by_company", "rescheduled"];
    let mut by_name: HashMap<&str, Vec<u64>> = HashMap::new();
    for name in names {
        by_name.insert(name, counts(&table, name)?);
    }
    let hidden: Vec<bool> = n.iter().map(|&n| crate::privacy::suppressed(n, threshold)).collect();
    let keep = |i: usize, v: Option<f64>| if hidden[i] { None } else { v };
    let rows = 0..table.height();
    let mut columns: Vec<Column> = dims.iter().map(|d| table.column(d).cloned()).collect::<PolarsResult<_>>()?;
    columns.push(frame::col_i64("interviews", rows.clone().map(|i| (!hidden[i]).then_some(n[i] as i64)).collect()));
    for name in names {
        let v = &by_name[name];
        columns.push(frame::col_i64(name, rows.clone().map(|i| (!hidden[i]).then_some(v[i] as i64)).collect()));
    }
    let ns = &by_name["no_shows"];
    let interval: Vec<Option<(f64, f64)>> = rows.clone().map(|i| wilson_interval(ns[i], n[i], Z95)).collect();
    columns.push(frame::col_f64("no_show_rate", rows.clone().map(|i| keep(i, ratio(ns[i], n[i]))).collect()));
    columns.push(frame::col_f64("no_show_rate_low", rows.clone().map(|i| keep(i, interval[i].map(|b| b.0))).collect()));
    columns.push(frame::col_f64("no_show_rate_high", rows.clone().map(|i| keep(i, interval[i].map(|b| b.1))).collect()));
    for (out, name) in [("cancel_rate", "cancelled_by_candidate"), ("company_cancel_rate", "cancelled_by_company"), ("reschedule_rate", "rescheduled")] {
        let v = &by_name[name];
        columns.push(frame::col_f64(out, rows.clone().map(|i| keep(i, ratio(v[i], n[i]))).collect()));
    }
    columns.push(frame::col_bool("suppressed", hidden.clone()));
    if with_windows {
        let mut rates: HashMap<String, Vec<Option<f64>>> = HashMap::new();
        for prefix in ["recent_", "previous_"] {
            let wn = counts(&table, &format!("{prefix}interviews"))?;
            let wns = counts(&table, &format!("{prefix}no_shows"))?;
            let wcc = counts(&table, &format!("{prefix}cancelled_by_candidate"))?;
            // A window too small to publish is nulled like a segment, and so is every
            // window of a suppressed segment (its counts would leak through them).
            let shown = |i: usize| !hidden[i] && !crate::privacy::suppressed(wn[i], threshold);
            columns.push(frame::col_i64(&format!("{prefix}interviews"), rows.clone().map(|i| shown(i).then_some(wn[i] as i64)).collect()));
            let nsr: Vec<Option<f64>> = rows.clone().map(|i| if shown(i) { ratio(wns[i], wn[i]) } else { None }).collect();
            let ccr: Vec<Option<f64>> = rows.clone().map(|i| if shown(i) { ratio(wcc[i], wn[i]) } else { None }).collect();
            columns.push(frame::col_f64(&format!("{prefix}no_show_rate"), nsr.clone()));
            columns.push(frame::col_f64(&format!("{prefix}cancel_rate"), ccr.clone()));
            rates.insert(format!("{prefix}ns"), nsr);
            rates.insert(format!("{prefix}cc"), ccr);
        }
        for (out, key) in [("no_show_rate_change", "ns"), ("cancel_rate_change", "cc")] {
            let (r, p) = (&rates[&format!("recent_{key}")], &rates[&format!("previous_{key}")]);
            columns.push(frame::col_f64(out, rows.clone().map(|i| Some(r[i]? - p[i]?)).collect()));
        }
    }
    DataFrame::new(table.height(), columns)
}

/// The rate table by lead-time bucket (time from invitation to slot), in bucket order,
/// with `lead_time_from_days` giving each bucket's lower bound.
pub fn lead_time_table(closed: &LazyFrame, s: &Settings) -> PolarsResult<DataFrame> {
    let table = rate_table(closed, &["lead_time"], s, Compare::RecentWindows)?;
    let order: Vec<Option<i64>> = frame::strings(&table, "lead_time")?
        .iter()
        .map(|l| LEAD_TIME_BUCKETS.iter().find(|(_, label)| Some(*label) == l.as_deref()).map(|(d, _)| *d))
        .collect();
    let mut table = table;
    table.insert_column(1, frame::col_i64("lead_time_from_days", order))?;
    sorted(table, &["lead_time_from_days"])
}

/// For each role, the `k` weekday × hour slots with the lowest no-show rate among the
/// slots large enough to publish (ties: more interviews first).
pub fn best_slots_by_role(closed: &LazyFrame, s: &Settings, k: usize) -> PolarsResult<DataFrame> {
    let table = rate_table(closed, &["role", "weekday", "hour"], s, Compare::None)?;
    let table = table
        .lazy()
        .filter(col("suppressed").not())
        .sort_by_exprs(
            [col("role"), col("no_show_rate"), col("interviews")],
            SortMultipleOptions::default().with_order_descending_multi([false, false, true]).with_maintain_order(true),
        )
        .collect()?;
    let roles = frame::strings(&table, "role")?;
    let mut seen: HashMap<Option<String>, usize> = HashMap::new();
    let mask: Vec<bool> = roles
        .into_iter()
        .map(|r| {
            let c = seen.entry(r).or_insert(0);
            *c += 1;
            *c <= k
        })
        .collect();
    let mask = BooleanChunked::from_slice("keep".into(), &mask);
    let picked = table.filter(&mask)?;
    let rank: Vec<Option<i64>> = {
        let roles = frame::strings(&picked, "role")?;
        let mut seen: HashMap<Option<String>, i64> = HashMap::new();
        roles.into_iter().map(|r| { let c = seen.entry(r).or_insert(0); *c += 1; Some(*c) }).collect()
    };
    let mut picked = picked.select(["role", "weekday", "hour", "interviews", "no_shows", "no_show_rate", "no_show_rate_low", "no_show_rate_high"])?;
    picked.insert_column(1, frame::col_i64("rank", rank))?;
    Ok(picked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn week_labels_roll_over_years() {
        assert_eq!(next_week_label("2026-W07").as_deref(), Some("2026-W08"));
        // 2026 starts on a Thursday, so it has 53 ISO weeks; 2025 has 52.
        assert_eq!(next_week_label("2026-W52").as_deref(), Some("2026-W53"));
        assert_eq!(next_week_label("2026-W53").as_deref(), Some("2027-W01"));
        assert_eq!(next_week_label("2025-W53"), None);
        assert_eq!(next_week_label("2020-W53").as_deref(), Some("2021-W01"));
        assert_eq!(next_week_label("junk"), None);
    }
}
