//! Link errors: `link_error` events (its `detail` is the error code: `link_expired`,
//! `camera_denied`, `network`, …) by code, role and preferred channel, how often each
//! role and channel hits one, and how long after the invitation they happen (does a
//! link valid for 24 hours expire before candidates use it?).
//!
//! Reads the link-error events the one pass over the events collected
//! ([`super::events::EventFacts::link_error_events`]) joined to the closed interviews;
//! never the events table again. Events up to as-of, of closed interviews only.

use polars::prelude::*;

use super::causes::share_table;
use super::confirm::in_bucket_order;
use super::frame::{self, count_if, counts};
use super::stats::{ratio, wilson_interval, Z95};
use super::Settings;
use crate::derive::micros;
use crate::time::MICROS_PER_HOUR;

/// Hours from the invitation to a link error: (upper bound, label); later ones are
/// `7d+`, an error dated before the invitation `before_invitation`.
pub const INVITE_AGE_BUCKETS: &[(f64, &str)] = &[(24.0, "0-24h"), (48.0, "24-48h"), (72.0, "48-72h"), (168.0, "3-7d")];

/// Every `hours_since_invite` value in time order.
pub const INVITE_AGE_ORDER: &[&str] = &["before_invitation", "0-24h", "24-48h", "48-72h", "3-7d", "7d+"];

/// Groups of `link_error_rates`, in order.
pub const LINK_ERROR_GROUPS: &[&str] = &["all", "role", "preferred_channel"];

/// The link-error events of closed interviews with their interview's role, channel and
/// invitation time.
fn error_events(closed: &LazyFrame, errors: &DataFrame) -> LazyFrame {
    let interviews = closed.clone().select([
        col("iv_idx"),
        col("role"),
        col("preferred_channel"),
        micros("invited_at").alias("invited_us"),
    ]);
    errors.clone().lazy().join(interviews, [col("iv_idx")], [col("iv_idx")], JoinArgs::new(JoinType::Inner))
}

/// `link_errors`, `link_error_rates` and `link_errors_by_invite_age` (see the data
/// dictionary): `errors` is [`super::events::EventFacts::link_error_events`].
pub fn link_error_tables(closed: &LazyFrame, errors: &DataFrame, s: &Settings) -> PolarsResult<Vec<(String, DataFrame)>> {
    let t = s.suppression_threshold;
    let events = error_events(closed, errors);

    // By code × role × channel: events, and the distinct interviews they came from.
    let keys = ["error_code", "role", "preferred_channel"];
    let by = events
        .clone()
        .group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>())
        .agg([len().cast(DataType::Int64).alias("events"), col("iv_idx").n_unique().cast(DataType::Int64).alias("interviews")])
        .collect()?;
    let by = frame::sorted(by, &keys)?;
    let (ev, iv) = (counts(&by, "events")?, counts(&by, "interviews")?);
    let total: u64 = ev.iter().sum();
    let hidden: Vec<bool> = iv.iter().map(|&n| crate::privacy::suppressed(n, t)).collect();
    let rows = 0..by.height();
    let mut columns: Vec<Column> = keys.iter().map(|k| by.column(k).cloned()).collect::<PolarsResult<_>>()?;
    columns.extend([
        frame::col_i64("events", rows.clone().map(|i| (!hidden[i]).then_some(ev[i] as i64)).collect()),
        frame::col_i64("interviews", rows.clone().map(|i| (!hidden[i]).then_some(iv[i] as i64)).collect()),
        frame::col_f64("share_of_events", rows.clone().map(|i| if hidden[i] { None } else { ratio(ev[i], total) }).collect()),
        frame::col_bool("suppressed", hidden),
    ]);
    let mut out = vec![("link_errors".to_string(), DataFrame::new(by.height(), columns)?)];

    // How often interviews hit an error, overall and by role and channel.
    let parts: Vec<LazyFrame> = LINK_ERROR_GROUPS
        .iter()
        .enumerate()
        .map(|(order, g)| {
            let value = if *g == "all" { lit("all") } else { col(*g).cast(DataType::String) };
            closed
                .clone()
                .select([value.alias("value"), col("link_errors")])
                .group_by([col("value")])
                .agg([
                    len().cast(DataType::Int64).alias("interviews"),
                    count_if(col("link_errors").gt(lit(0i64))).alias("with_link_error"),
                    col("link_errors").sum().cast(DataType::Int64).alias("link_error_events"),
                ])
                .with_columns([lit(g.to_string()).alias("group"), lit(order as i64).alias("group_order")])
        })
        .collect();
    let rates = frame::sorted(concat(parts, UnionArgs::default())?.collect()?, &["group_order", "value"])?;
    let (n, w, e) = (counts(&rates, "interviews")?, counts(&rates, "with_link_error")?, counts(&rates, "link_error_events")?);
    let hidden: Vec<bool> = n.iter().map(|&n| crate::privacy::suppressed(n, t)).collect();
    let rows = 0..rates.height();
    let show = |i: usize, v: Option<f64>| if hidden[i] { None } else { v };
    let count = |i: usize, v: u64| (!hidden[i]).then_some(v as i64);
    let ci: Vec<Option<(f64, f64)>> = rows.clone().map(|i| wilson_interval(w[i], n[i], Z95)).collect();
    out.push((
        "link_error_rates".to_string(),
        DataFrame::new(
            rates.height(),
            vec![
                rates.column("group")?.clone(),
                rates.column("value")?.clone(),
                frame::col_i64("interviews", rows.clone().map(|i| count(i, n[i])).collect()),
                frame::col_i64("with_link_error", rows.clone().map(|i| count(i, w[i])).collect()),
                frame::col_i64("link_error_events", rows.clone().map(|i| count(i, e[i])).collect()),
                frame::col_f64("link_error_rate", rows.clone().map(|i| show(i, ratio(w[i], n[i]))).collect()),
                frame::col_f64("link_error_rate_low", rows.clone().map(|i| show(i, ci[i].map(|b| b.0))).collect()),
                frame::col_f64("link_error_rate_high", rows.clone().map(|i| show(i, ci[i].map(|b| b.1))).collect()),
                frame::col_bool("suppressed", hidden),
            ],
        )?,
    ));

    // Time since the invitation, for the link-lifetime question.
    let hours = (col("ts_us") - col("invited_us")).cast(DataType::Float64) / lit(MICROS_PER_HOUR as f64);
    let mut bucket = lit("7d+");
    for (upper, label) in INVITE_AGE_BUCKETS.iter().rev() {
        bucket = when(hours.clone().lt(lit(*upper))).then(lit(*label)).otherwise(bucket);
    }
    let bucket = when(hours.lt(lit(0.0))).then(lit("before_invitation")).otherwise(bucket);
    let aged = events.with_column(bucket.alias("hours_since_invite"));
    let table = share_table(aged, &["hours_since_invite"], &["error_code"], "bucket_events", t)?;
    out.push(("link_errors_by_invite_age".to_string(), in_bucket_order(table, &[], "hours_since_invite", INVITE_AGE_ORDER)?));
    Ok(out)
}
