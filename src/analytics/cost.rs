//! The cost of missed slots: the `cost` recorded on no-show interviews, by role or
//! by month of the slot (local time), beside the cost of all closed slots.

use polars::prelude::*;

use super::frame::{self, count_if, counts, f64s, sorted};
use super::Settings;

/// `cost_by_<dim>`: closed interviews, no-shows, the summed `cost` of no-show slots,
/// of all closed slots, and the no-shows' share of it. A missing `cost` adds nothing.
pub fn cost_table(closed: &LazyFrame, dim: &str, s: &Settings) -> PolarsResult<DataFrame> {
    let no_show = col("status").eq(lit("no_show"));
    let table = closed
        .clone()
        .group_by([col(dim)])
        .agg([
            len().cast(DataType::Int64).alias("interviews"),
            count_if(no_show.clone()).alias("no_shows"),
            // `when` rather than `filter`: a filter inside an aggregation runs once per group.
            when(no_show).then(col("cost")).otherwise(lit(NULL).cast(DataType::Float64)).sum().alias("no_show_cost"),
            col("cost").sum().alias("total_cost"),
        ])
        .collect()?;
    let table = sorted(table, &[dim])?;
    let (n, ns) = (counts(&table, "interviews")?, counts(&table, "no_shows")?);
    let (nc, tc) = (f64s(&table, "no_show_cost")?, f64s(&table, "total_cost")?);
    let hidden: Vec<bool> = n.iter().map(|&n| crate::privacy::suppressed(n, s.suppression_threshold)).collect();
    let rows = 0..table.height();
    let show = |i: usize, v: Option<f64>| if hidden[i] { None } else { v };
    DataFrame::new(
        table.height(),
        vec![
            table.column(dim)?.clone(),
            frame::col_i64("interviews", rows.clone().map(|i| (!hidden[i]).then_some(n[i] as i64)).collect()),
            frame::col_i64("no_shows", rows.clone().map(|i| (!hidden[i]).then_some(ns[i] as i64)).collect()),
            frame::col_f64("no_show_cost", rows.clone().map(|i| show(i, Some(nc[i].unwrap_or(0.0)))).collect()),
            frame::col_f64("total_cost", rows.clone().map(|i| show(i, Some(tc[i].unwrap_or(0.0)))).collect()),
            frame::col_f64(
                "no_show_cost_share",
                rows.clone().map(|i| show(i, match (nc[i], tc[i]) { (Some(a), Some(b)) if b > 0.0 => Some(a / b), _ => None })).collect(),
            ),
            frame::col_bool("suppressed", hidden),
        ],
    )
}
