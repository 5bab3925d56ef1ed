//! Confirmations: how many candidates confirm their slot (by week, role and preferred
//! channel), how long after the invitation they do, and whether those confirmed a day
//! before the slot miss less often.
//!
//! Reads only the per-interview facts of the closed interviews (`confirm_us`, the
//! first `confirmed` event up to as-of; `cancel_request_us`), never the events again.
//! A confirmation counts when it came before the slot start. Company cancellations are
//! left out, as in the funnel: the company's decision is not a candidate falling away.

use polars::prelude::*;

use super::frame::{self, count_if, counts};
use super::rates::{rate_table, Compare};
use super::stats::{ratio, wilson_interval, Z95};
use super::Settings;
use crate::derive::micros;
use crate::time::MICROS_PER_HOUR;

/// Groups of the `confirmations` table, in order (`all` is one overall row).
pub const CONFIRM_GROUPS: &[&str] = &["all", "week", "role", "preferred_channel"];

/// Hours from the invitation to the first confirmation: (upper bound, label); later
/// ones are `3d+`, a confirmation dated before the invitation `before_invitation`, none
/// before the slot `not_confirmed`.
pub const CONFIRM_BUCKETS: &[(f64, &str)] = &[(1.0, "0-1h"), (6.0, "1-6h"), (24.0, "6-24h"), (72.0, "1-3d")];

/// Every `confirm_time` value in time order (the order tables and legends use).
pub const CONFIRM_TIME_ORDER: &[&str] = &["before_invitation", "0-1h", "1-6h", "6-24h", "1-3d", "3d+", "not_confirmed"];

fn confirmed_before_slot() -> Expr {
    col("confirm_us").is_not_null().and(col("confirm_us").lt(col("slot_us")))
}

/// Closed interviews except company cancellations, with `confirmed` (before the slot),
/// `hours_to_confirm`, `confirmed_within_24h` and the `confirm_time` bucket.
fn with_confirmation(closed: &LazyFrame) -> LazyFrame {
    let hours = (col("confirm_us") - micros("invited_at")).cast(DataType::Float64) / lit(MICROS_PER_HOUR as f64);
    let hours = when(confirmed_before_slot()).then(hours).otherwise(lit(NULL).cast(DataType::Float64));
    let mut bucket = lit("3d+");
    for (upper, label) in CONFIRM_BUCKETS.iter().rev() {
        bucket = when(col("hours_to_confirm").lt(lit(*upper))).then(lit(*label)).otherwise(bucket);
    }
    let bucket = when(col("hours_to_confirm").is_null())
        .then(lit("not_confirmed"))
        .otherwise(when(col("hours_to_confirm").lt(lit(0.0))).then(lit("before_invitation")).otherwise(bucket));
    closed
        .clone()
        .filter(col("status").neq(lit("cancelled_by_company")))
        .with_columns([confirmed_before_slot().alias("confirmed"), hours.alias("hours_to_confirm")])
        .with_columns([
            col("confirmed").and(col("hours_to_confirm").lt(lit(24.0))).alias("confirmed_within_24h"),
            bucket.alias("confirm_time"),
        ])
}

/// `confirmations`: per `group, value` (see [`CONFIRM_GROUPS`]): `interviews`,
/// `confirmed`, `confirmation_rate` with its Wilson interval, `confirmed_within_24h`
/// (of the invitation), `within_24h_rate` (of the interviews), `within_24h_share`
/// (of the confirmed), `median_hours_to_confirm`, `suppressed`.
pub fn confirmations(closed: &LazyFrame, s: &Settings) -> PolarsResult<DataFrame> {
    let base = with_confirmation(closed);
    let parts: Vec<LazyFrame> = CONFIRM_GROUPS
        .iter()
        .enumerate()
        .map(|(order, g)| {
            let value = if *g == "all" { lit("all") } else { col(*g).cast(DataType::String) };
            base.clone()
                .select([value.alias("value"), col("confirmed"), col("confirmed_within_24h"), col("hours_to_confirm")])
                .group_by([col("value")])
                .agg([
                    len().cast(DataType::Int64).alias("interviews"),
                    count_if(col("confirmed")).alias("confirmed"),
                    count_if(col("confirmed_within_24h")).alias("confirmed_within_24h"),
                    col("hours_to_confirm").median().alias("median_hours_to_confirm"),
                ])
                .with_columns([lit(g.to_string()).alias("group"), lit(order as i64).alias("group_order")])
        })
        .collect();
    let table = frame::sorted(concat(parts, UnionArgs::default())?.collect()?, &["group_order", "value"])?;
    let (n, c, d) = (counts(&table, "interviews")?, counts(&table, "confirmed")?, counts(&table, "confirmed_within_24h")?);
    let median = frame::f64s(&table, "median_hours_to_confirm")?;
    let hidden: Vec<bool> = n.iter().map(|&n| crate::privacy::suppressed(n, s.suppression_threshold)).collect();
    let rows = 0..table.height();
    let show = |i: usize, v: Option<f64>| if hidden[i] { None } else { v };
    let count = |i: usize, v: u64| (!hidden[i]).then_some(v as i64);
    let ci: Vec<Option<(f64, f64)>> = rows.clone().map(|i| wilson_interval(c[i], n[i], Z95)).collect();
    DataFrame::new(
        table.height(),
        vec![
            table.column("group")?.clone(),
            table.column("value")?.clone(),
            frame::col_i64("interviews", rows.clone().map(|i| count(i, n[i])).collect()),
            frame::col_i64("confirmed", rows.clone().map(|i| count(i, c[i])).collect()),
            frame::col_f64("confirmation_rate", rows.clone().map(|i| show(i, ratio(c[i], n[i]))).collect()),
            frame::col_f64("confirmation_rate_low", rows.clone().map(|i| show(i, ci[i].map(|b| b.0))).collect()),
            frame::col_f64("confirmation_rate_high", rows.clone().map(|i| show(i, ci[i].map(|b| b.1))).collect()),
            frame::col_i64("confirmed_within_24h", rows.clone().map(|i| count(i, d[i])).collect()),
            frame::col_f64("within_24h_rate", rows.clone().map(|i| show(i, ratio(d[i], n[i]))).collect()),
            frame::col_f64("within_24h_share", rows.clone().map(|i| show(i, ratio(d[i], c[i]))).collect()),
            frame::col_f64("median_hours_to_confirm", rows.clone().map(|i| show(i, median[i])).collect()),
            frame::col_bool("suppressed", hidden),
        ],
    )
}

/// Rows of a share table put in the order of `order` within each group (share tables
/// sort largest first; time buckets read in time order).
pub fn in_bucket_order(df: DataFrame, groups: &[&str], item: &str, order: &[&str]) -> PolarsResult<DataFrame> {
    let position: Vec<Option<i64>> = frame::strings(&df, item)?
        .iter()
        .map(|v| Some(v.as_deref().and_then(|v| order.iter().position(|o| *o == v)).map_or(order.len() as i64, |p| p as i64)))
        .collect();
    let mut df = df;
    df.with_column(frame::col_i64("bucket_order", position))?;
    let by: Vec<&str> = groups.iter().copied().chain(["bucket_order"]).collect();
    frame::sorted(df, &by)?.drop("bucket_order")
}

/// `confirmation_time` (overall) and `confirmation_time_by_role`: interviews by
/// `confirm_time` (see [`CONFIRM_TIME_ORDER`]), as `count` and `share` of the group's
/// `interviews`, in time order (the columns of a share table, [`super::causes::share_table`]). One group-by by role
/// and bucket gives both.
pub fn confirmation_time(closed: &LazyFrame, s: &Settings) -> PolarsResult<Vec<(String, DataFrame)>> {
    use std::collections::BTreeMap;
    let counted = with_confirmation(closed)
        .group_by([col("role"), col("confirm_time")])
        .agg([len().cast(DataType::Int64).alias("count")])
        .collect()?;
    let (roles, buckets, n) = (frame::strings(&counted, "role")?, frame::strings(&counted, "confirm_time")?, counts(&counted, "count")?);
    let position = |b: &Option<String>| b.as_deref().and_then(|b| CONFIRM_TIME_ORDER.iter().position(|o| *o == b)).unwrap_or(CONFIRM_TIME_ORDER.len());
    // (role: unknown last) -> bucket position -> count; the overall table is role `None` of its own.
    let mut by_role: BTreeMap<(bool, Option<String>), BTreeMap<usize, u64>> = BTreeMap::new();
    let mut overall: BTreeMap<usize, u64> = BTreeMap::new();
    for i in 0..counted.height() {
        *by_role.entry((roles[i].is_none(), roles[i].clone())).or_default().entry(position(&buckets[i])).or_default() += n[i];
        *overall.entry(position(&buckets[i])).or_default() += n[i];
    }
    let t = s.suppression_threshold;
    let table = |groups: Vec<(Option<String>, &BTreeMap<usize, u64>)>, with_role: bool| -> PolarsResult<DataFrame> {
        let (mut role, mut total, mut bucket, mut count, mut share, mut hidden) = (vec![], vec![], vec![], vec![], vec![], vec![]);
        for (r, cells) in groups {
            let sum: u64 = cells.values().sum();
            let h = crate::privacy::suppressed(sum, t);
            for (&p, &c) in cells {
                role.push(r.clone());
                total.push((!h).then_some(sum as i64));
                bucket.push(CONFIRM_TIME_ORDER.get(p).map(|b| b.to_string()));
                count.push((!h).then_some(c as i64));
                share.push(if h { None } else { ratio(c, sum) });
                hidden.push(h);
            }
        }
        let mut columns = Vec::new();
        if with_role {
            columns.push(frame::col_str("role", role));
        }
        columns.extend([
            frame::col_i64("interviews", total),
            frame::col_str("confirm_time", bucket),
            frame::col_i64("count", count),
            frame::col_f64("share", share),
            frame::col_bool("suppressed", hidden),
        ]);
        DataFrame::new_infer_height(columns)
    };
    Ok(vec![
        ("confirmation_time".to_string(), table(vec![(None, &overall)], false)?),
        ("confirmation_time_by_role".to_string(), table(by_role.iter().map(|((_, r), c)| (r.clone(), c)).collect(), true)?),
    ])
}

/// `confirmation_no_show` and `confirmation_no_show_by_role`: the rate-table columns
/// (no-show rate with its Wilson interval, candidate cancellation rate, suppression) by
/// `confirmed_24h_before`, whether the candidate had confirmed 24 hours before the
/// slot. Among the interviews still on at that moment: invited by then, not cancelled
/// before it (no `cancel_requested` by then), company cancellations and reschedules
/// left out.
pub fn confirmation_no_show(closed: &LazyFrame, s: &Settings) -> PolarsResult<Vec<(String, DataFrame)>> {
    let day_before = col("slot_us") - lit(24 * MICROS_PER_HOUR);
    let on = closed
        .clone()
        .filter(
            col("status")
                .neq(lit("cancelled_by_company"))
                .and(col("status").neq(lit("rescheduled")))
                .and(micros("invited_at").lt_eq(day_before.clone()))
                .and(col("cancel_request_us").is_null().or(col("cancel_request_us").gt_eq(day_before.clone()))),
        )
        .with_column(col("confirm_us").is_not_null().and(col("confirm_us").lt_eq(day_before)).alias("confirmed_24h_before"));
    Ok(vec![
        ("confirmation_no_show".to_string(), rate_table(&on, &["confirmed_24h_before"], s, Compare::None)?),
        ("confirmation_no_show_by_role".to_string(), rate_table(&on, &["role", "confirmed_24h_before"], s, Compare::None)?),
    ])
}
