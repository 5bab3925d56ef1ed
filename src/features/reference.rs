//! The first, all-polars implementation of the point-in-time features (joins of
//! snapshots × events and snapshots × the candidate's other interviews), kept only as
//! an independent reference: the unit tests check that the integer-indexed builder of
//! [`super::build`] gives exactly the same table. Test-only; never on the hot path (at
//! a million interviews it needed ~5 GB and most of a minute).

use polars::prelude::*;

use super::{FeatureSettings, CATEGORICAL_FEATURES, NUMERIC_FEATURES};
use crate::derive::micros;
use crate::time::{self, MICROS_PER_HOUR, MICROS_PER_MINUTE};

fn is(kind: &str) -> Expr {
    col("type").eq(lit(kind.to_string()))
}

fn count_where(cond: Expr, name: &str) -> Expr {
    cond.cast(DataType::UInt32).sum().alias(name)
}

/// Features of every snapshot: `snapshots` holds `interview_id` (String) and `cutoff`
/// (Int64 UTC microseconds), plus any columns the caller wants carried through
/// (e.g. `horizon_hours`). Snapshots whose interview is not in the lake are dropped.
///
/// Output: the snapshot columns, `candidate_id`, `scheduled_at_us`, `invited_at_us`,
/// then every feature of [`NUMERIC_FEATURES`] (Float64) and [`CATEGORICAL_FEATURES`]
/// (String). Row order follows the snapshots' sorted (interview_id, cutoff).
pub fn build(interviews: LazyFrame, events: LazyFrame, snapshots: LazyFrame, settings: FeatureSettings) -> PolarsResult<DataFrame> {
    let iv = interviews.select([
        col("interview_id"),
        col("candidate_id"),
        col("role"),
        col("region"),
        col("education"),
        col("fresh_graduate"),
        col("source"),
        col("preferred_channel"),
        micros("invited_at").alias("invited_at_us"),
        micros("scheduled_at").alias("scheduled_at_us"),
        col("status"),
    ]);
    let ev = events.select([col("interview_id"), micros("ts").alias("ts_us"), col("type"), col("channel")]);

    let snap = snapshots
        .with_column(col("cutoff").cast(DataType::Int64))
        .join(iv.clone(), [col("interview_id")], [col("interview_id")], JoinArgs::new(JoinType::Inner));

    // Events known by the cutoff, per snapshot.
    let known = snap
        .clone()
        .select([col("interview_id"), col("cutoff"), col("invited_at_us"), col("preferred_channel")])
        .join(ev.clone(), [col("interview_id")], [col("interview_id")], JoinArgs::new(JoinType::Inner))
        .filter(col("ts_us").lt_eq(col("cutoff")));
    let day_before = col("cutoff") - lit(24 * MICROS_PER_HOUR);
    let reminder = is("reminder_sent");
    let behaviour = known.group_by([col("interview_id"), col("cutoff")]).agg([
        count_where(is("message_delivered"), "n_delivered"),
        count_where(is("message_read"), "n_read"),
        count_where(is("jd_viewed"), "n_jd"),
        count_where(is("company_intro_viewed"), "n_intro"),
        count_where(is("link_clicked"), "n_click"),
        count_where(is("link_clicked").and(col("ts_us").gt(day_before)), "n_click_24h"),
        count_where(is("link_error"), "link_errors"),
        count_where(is("questionnaire_completed"), "n_questionnaire"),
        count_where(is("reschedule_requested"), "reschedule_requests"),
        count_where(reminder.clone(), "reminders"),
        col("channel").filter(reminder.clone().and(col("channel").is_not_null())).n_unique().alias("reminder_channels"),
        count_where(reminder.and(col("channel").eq(col("preferred_channel"))).fill_null(lit(false)), "n_reminder_pref"),
        col("ts_us").filter(is("confirmed")).min().alias("first_confirm_us"),
        col("invited_at_us").first().alias("invited_at_first"),
    ]);

    // The candidate's other interviews closed by the cutoff.
    let grace = settings.grace_minutes * MICROS_PER_MINUTE;
    let first_join = ev
        .filter(is("joined"))
        .group_by([col("interview_id")])
        .agg([col("ts_us").min().alias("first_join_us")]);
    let others = iv
        .select([
            col("candidate_id"),
            col("interview_id").alias("other_id"),
            col("scheduled_at_us").alias("other_slot_us"),
            col("status").alias("other_status"),
        ])
        .join(first_join, [col("other_id")], [col("interview_id")], JoinArgs::new(JoinType::Left));
    let status_at_cutoff = when(col("other_status").eq(lit("scheduled")))
        .then(
            when(col("first_join_us").is_not_null().and(col("first_join_us").lt_eq(col("cutoff"))))
                .then(lit("attended"))
                .otherwise(lit("no_show")),
        )
        .otherwise(col("other_status"));
    let history = snap
        .clone()
        .select([col("interview_id"), col("cutoff"), col("candidate_id")])
        .join(others, [col("candidate_id")], [col("candidate_id")], JoinArgs::new(JoinType::Inner))
        .filter(col("other_id").neq(col("interview_id")).and((col("other_slot_us") + lit(grace)).lt_eq(col("cutoff"))))
        .with_column(status_at_cutoff.alias("other_outcome"))
        .group_by([col("interview_id"), col("cutoff")])
        .agg([
            count_where(col("other_outcome").eq(lit("no_show")), "prior_no_shows"),
            count_where(col("other_outcome").eq(lit("cancelled_by_candidate")), "prior_candidate_cancels"),
            count_where(col("other_outcome").eq(lit("attended")), "prior_attended"),
        ]);

    let keys = [col("interview_id"), col("cutoff")];
    let flag = |name: &str, alias: &str| col(name).fill_null(lit(0)).gt(lit(0)).cast(DataType::Float64).alias(alias);
    let count = |name: &str| col(name).fill_null(lit(0)).cast(DataType::Float64).alias(name);
    let hours = |a: Expr, b: Expr| (a - b).cast(DataType::Float64) / lit(MICROS_PER_HOUR as f64);
    let mut df = snap
        .drop(cols(["status"]))
        .join(behaviour, keys.clone(), keys.clone(), JoinArgs::new(JoinType::Left))
        .join(history, keys.clone(), keys, JoinArgs::new(JoinType::Left))
        .with_columns([
            flag("n_delivered", "invitation_delivered"),
            flag("n_read", "invitation_read"),
            flag("n_jd", "jd_viewed"),
            flag("n_intro", "company_intro_viewed"),
            flag("n_click", "link_clicked"),
            flag("n_click_24h", "link_clicked_last_24h"),
            count("link_errors"),
            flag("n_questionnaire", "questionnaire_completed"),
            col("first_confirm_us").is_not_null().cast(DataType::Float64).alias("confirmed"),
            // Confirmations before the invitation (clock skew) count as instant.
            hours(col("first_confirm_us"), col("invited_at_us")).clip_min(lit(0.0)).fill_null(lit(0.0)).alias("hours_to_confirm"),
            count("reschedule_requests"),
            count("reminders"),
            count("reminder_channels"),
            flag("n_reminder_pref", "reminder_on_preferred_channel"),
            hours(col("scheduled_at_us"), col("invited_at_us")).clip_min(lit(0.0)).alias("lead_time_hours"),
            hours(col("scheduled_at_us"), col("cutoff")).clip_min(lit(0.0)).alias("hours_left"),
            count("prior_no_shows"),
            count("prior_candidate_cancels"),
            count("prior_attended"),
            col("education").fill_null(lit("unknown")),
            when(col("fresh_graduate").is_null())
                .then(lit("unknown"))
                .otherwise(when(col("fresh_graduate")).then(lit("yes")).otherwise(lit("no")))
                .alias("fresh_graduate"),
            col("source").fill_null(lit("unknown")),
            col("preferred_channel").fill_null(lit("unknown")),
        ])
        .sort(["interview_id", "cutoff"], SortMultipleOptions::default())
        .collect()?;

    // Log transforms and local calendar features, computed here where the time zone
    // rules are exact (chrono-tz), not approximated in the query.
    let log1p = |name: &str, alias: &str| -> PolarsResult<Column> {
        let ca = df.column(name)?.f64()?.clone();
        Ok(Column::new(alias.into(), ca.iter().map(|v| v.map(|x| x.max(0.0).ln_1p())).collect::<Vec<Option<f64>>>()))
    };
    let new_columns = vec![
        log1p("hours_to_confirm", "log_hours_to_confirm")?,
        log1p("lead_time_hours", "log_lead_time_hours")?,
        log1p("hours_left", "log_hours_left")?,
    ];
    let slots: Vec<Option<i64>> = df.column("scheduled_at_us")?.i64()?.iter().collect();
    let (mut weekday, mut daypart) = (Vec::with_capacity(slots.len()), Vec::with_capacity(slots.len()));
    for slot in slots {
        let (wd, hour) = time::local_weekday_hour(slot.unwrap_or_default(), settings.tz);
        weekday.push(["mon", "tue", "wed", "thu", "fri", "sat", "sun"][(wd.clamp(1, 7) - 1) as usize]);
        daypart.push(match hour {
            0..=7 => "night",
            8..=11 => "morning",
            12..=17 => "afternoon",
            _ => "evening",
        });
    }
    for c in new_columns {
        df.with_column(c)?;
    }
    df.with_column(Column::new("slot_weekday".into(), weekday))?;
    df.with_column(Column::new("slot_daypart".into(), daypart))?;

    let mut keep: Vec<String> = snapshot_columns(&df);
    keep.extend(["candidate_id", "scheduled_at_us", "invited_at_us"].map(String::from));
    keep.extend(NUMERIC_FEATURES.iter().map(|f| f.name.to_string()));
    keep.extend(CATEGORICAL_FEATURES.iter().map(|f| f.0.to_string()));
    df.select(keep)
}

/// The snapshot's own columns (everything the caller passed in), in order.
fn snapshot_columns(df: &DataFrame) -> Vec<String> {
    const PRODUCED: &[&str] = &[
        "candidate_id", "role", "region", "education", "fresh_graduate", "source", "preferred_channel",
        "invited_at_us", "scheduled_at_us",
    ];
    let mut out = Vec::new();
    for name in df.get_column_names() {
        let name = name.as_str();
        if name == "n_delivered" {
            break;
        }
        if !PRODUCED.contains(&name) {
            out.push(name.to_string());
        }
    }
    out
}
