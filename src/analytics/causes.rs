//! Cause tables: how no-shows, cancellations and reschedules split by recorded cause
//! (and no-shows by HR's grade), overall and within each role, region, education,
//! new-graduate status, source and preferred channel, with suppression of groups too
//! small to publish.
//!
//! No-show tables carry `likely_cause` beside `cause`: a no-show closed without a
//! recorded cause (`unknown`) whose candidate hit a link error before it was declared
//! is its own line (`cause = unknown, likely_cause = technical_issue`); the recorded
//! cause is never rewritten, so summing by `cause` alone gives HR's figures.

use polars::prelude::*;

use super::frame::{self, counts};
use super::stats::ratio;
use super::Settings;

/// Counts of each `items` value within each `groups` segment, with the group total
/// (named `total_name`), each value's share of it, and suppression of groups whose
/// total is below the threshold. A null item (no cause recorded) is its own row.
pub fn share_table(frame_lf: LazyFrame, groups: &[&str], items: &[&str], total_name: &str, threshold: u64) -> PolarsResult<DataFrame> {
    let keys: Vec<Expr> = groups.iter().chain(items).map(|c| col(*c)).collect();
    let counted = frame_lf.clone().group_by(keys).agg([len().cast(DataType::Int64).alias("count")]);
    let joined = if groups.is_empty() {
        counted.with_column(col("count").sum().alias(total_name))
    } else {
        let g: Vec<Expr> = groups.iter().map(|c| col(*c)).collect();
        let totals = frame_lf.group_by(g.clone()).agg([len().cast(DataType::Int64).alias(total_name)]);
        counted.join(totals, g.clone(), g, frame::left_on_segments())
    };
    let table = joined.collect()?;
    // Largest first within a group; ties broken by the item so output is stable.
    let mut sort_cols: Vec<Expr> = groups.iter().map(|c| col(*c)).collect();
    sort_cols.push(col("count"));
    sort_cols.extend(items.iter().map(|c| col(*c)));
    let mut desc = vec![false; groups.len()];
    desc.push(true);
    desc.extend(std::iter::repeat_n(false, items.len()));
    let table = table
        .lazy()
        .sort_by_exprs(sort_cols, SortMultipleOptions::default().with_order_descending_multi(desc).with_nulls_last(true).with_maintain_order(true))
        .collect()?;
    let total = counts(&table, total_name)?;
    let count = counts(&table, "count")?;
    let hidden: Vec<bool> = total.iter().map(|&t| crate::privacy::suppressed(t, threshold)).collect();
    let rows = 0..table.height();
    let mut columns: Vec<Column> = groups.iter().map(|c| table.column(c).cloned()).collect::<PolarsResult<_>>()?;
    columns.push(frame::col_i64(total_name, rows.clone().map(|i| (!hidden[i]).then_some(total[i] as i64)).collect()));
    for c in items {
        columns.push(table.column(c)?.clone());
    }
    columns.push(frame::col_i64("count", rows.clone().map(|i| (!hidden[i]).then_some(count[i] as i64)).collect()));
    columns.push(frame::col_f64("share", rows.clone().map(|i| if hidden[i] { None } else { ratio(count[i], total[i]) }).collect()));
    columns.push(frame::col_bool("suppressed", hidden));
    DataFrame::new(table.height(), columns)
}

/// The item columns of the no-show cause tables.
const NO_SHOW_ITEMS: &[&str] = &["cause", "likely_cause"];

/// `causes_no_show`, `grades_no_show`, `causes_cancellation` and their by-role and
/// by-region versions.
pub fn cause_tables(closed: &LazyFrame, s: &Settings) -> PolarsResult<Vec<(String, DataFrame)>> {
    let t = s.suppression_threshold;
    let no_shows = closed.clone().filter(col("status").eq(lit("no_show")));
    let cancels = closed
        .clone()
        .filter(col("status").eq(lit("cancelled_by_candidate")).or(col("status").eq(lit("cancelled_by_company"))))
        .with_column(
            when(col("status").eq(lit("cancelled_by_candidate"))).then(lit("candidate")).otherwise(lit("company")).alias("initiated_by"),
        );
    let mut out = vec![
        ("causes_no_show".to_string(), share_table(no_shows.clone(), &[], NO_SHOW_ITEMS, "no_shows", t)?),
        ("grades_no_show".to_string(), share_table(no_shows.clone(), &[], &["no_show_grade"], "no_shows", t)?),
        ("causes_cancellation".to_string(), share_table(cancels.clone(), &["initiated_by"], &["cause"], "cancellations", t)?),
    ];
    for dim in ["role", "region"] {
        out.push((format!("causes_no_show_by_{dim}"), share_table(no_shows.clone(), &[dim], NO_SHOW_ITEMS, "no_shows", t)?));
        out.push((format!("grades_no_show_by_{dim}"), share_table(no_shows.clone(), &[dim], &["no_show_grade"], "no_shows", t)?));
        out.push((
            format!("causes_cancellation_by_{dim}"),
            share_table(cancels.clone(), &[dim, "initiated_by"], &["cause"], "cancellations", t)?,
        ));
    }
    // The same causes in the other cuts HR reads them by.
    for dim in ["education", "fresh_graduate", "source", "preferred_channel"] {
        out.push((format!("causes_no_show_by_{dim}"), share_table(no_shows.clone(), &[dim], NO_SHOW_ITEMS, "no_shows", t)?));
        out.push((
            format!("causes_cancellation_by_{dim}"),
            share_table(cancels.clone(), &[dim, "initiated_by"], &["cause"], "cancellations", t)?,
        ));
    }
    let reschedules = closed.clone().filter(col("status").eq(lit("rescheduled")));
    out.push(("causes_reschedule".to_string(), share_table(reschedules, &[], &["cause"], "reschedules", t)?));
    Ok(out)
}
