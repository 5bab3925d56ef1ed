//! The derived-status rule of the input spec, shared by the report (rates) and the
//! model (labels), so both close still-`scheduled` interviews the same way.
//!
//! An interview still `scheduled` whose slot started more than `grace` before the
//! as-of time is closed: `attended` if a `joined` event exists at or before as-of,
//! otherwise `no_show` with cause `unknown` and no grade. Pure: takes and returns
//! lazy frames, reads nothing from disk.

use polars::prelude::*;

use crate::time::{Micros, MICROS_PER_MINUTE};

/// The default grace after the slot start, in minutes.
pub const DEFAULT_GRACE_MINUTES: i64 = 15;

/// The longest grace period accepted: a week. Longer ones mean a typo (and would
/// overflow the microsecond arithmetic far beyond it).
pub const MAX_GRACE_MINUTES: i64 = 7 * 24 * 60;

/// The grace period from a flag or the config, checked (`None`: the default).
pub fn grace_minutes(value: Option<i64>) -> anyhow::Result<i64> {
    let m = value.unwrap_or(DEFAULT_GRACE_MINUTES);
    if !(0..=MAX_GRACE_MINUTES).contains(&m) {
        return Err(crate::usage_error(format!(
            "grace_minutes {m}: must be between 0 and {MAX_GRACE_MINUTES} (one week)"
        )));
    }
    Ok(m)
}

/// `col` (a UTC timestamp column) as microseconds since the epoch.
pub fn micros(name: &str) -> Expr {
    col(name).dt().timestamp(TimeUnit::Microseconds)
}

/// Adds to `interviews`:
/// - `status`, `cause`, `no_show_grade`: after the derived-status rule;
/// - `status_recorded`: the status as ingested;
/// - `status_derived`: true where the rule closed the interview;
/// - `joined_by_as_of`: a `joined` event exists at or before as-of;
/// - `closed`: status is not `scheduled` and the slot started before as-of (what the
///   rate tables count).
pub fn with_derived_status(interviews: LazyFrame, events: LazyFrame, as_of: Micros, grace_minutes: i64) -> LazyFrame {
    let joined = events
        .filter(col("type").eq(lit("joined")).and(micros("ts").lt_eq(lit(as_of))))
        .select([col("interview_id")])
        .unique(None, UniqueKeepStrategy::Any)
        .with_column(lit(true).alias("joined_by_as_of"));
    let cutoff = as_of - grace_minutes * MICROS_PER_MINUTE;
    let derived = col("status").eq(lit("scheduled")).and(micros("scheduled_at").lt(lit(cutoff)));
    let joined_flag = col("joined_by_as_of");
    interviews
        .join(joined, [col("interview_id")], [col("interview_id")], JoinArgs::new(JoinType::Left))
        .with_column(col("joined_by_as_of").fill_null(lit(false)))
        .with_columns([
            col("status").alias("status_recorded"),
            derived.clone().alias("status_derived"),
            when(derived.clone())
                .then(when(joined_flag.clone()).then(lit("attended")).otherwise(lit("no_show")))
                .otherwise(col("status"))
                .alias("status"),
            when(derived.clone())
                .then(when(joined_flag.clone()).then(lit(NULL).cast(DataType::String)).otherwise(lit("unknown")))
                .otherwise(col("cause"))
                .alias("cause"),
            when(derived)
                .then(lit(NULL).cast(DataType::String))
                .otherwise(col("no_show_grade"))
                .alias("no_show_grade"),
        ])
        .with_column(
            col("status")
                .neq(lit("scheduled"))
                .and(micros("scheduled_at").lt(lit(as_of)))
                .alias("closed"),
        )
}
