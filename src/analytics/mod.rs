//! The report's numbers: rate tables, causes, funnel, reminders, timing, cost,
//! re-invitations and behavioural signals, computed from the lake's interviews and
//! events with polars lazy group-bys.
//!
//! Pure: takes lazy frames and settings, returns DataFrames; never reads or writes
//! files. Every analysis counts *closed* interviews only (status other than
//! `scheduled` after the derived-status rule, slot before as-of) and uses events at or
//! before as-of whose interview exists (orphan events are left out).

pub mod behaviour;
pub mod causes;
pub mod cost;
pub mod findings;
pub mod frame;
pub mod funnel;
pub mod rates;
pub mod stats;

use chrono_tz::Tz;
use polars::prelude::*;

use crate::derive::{micros, with_derived_status};
use crate::time::{Micros, MICROS_PER_HOUR};

use frame::{any_if, count_if};

/// What an analysis run needs to know besides the data.
#[derive(Debug, Clone)]
pub struct Settings {
    pub as_of: Micros,
    pub tz: Tz,
    pub grace_minutes: i64,
    pub suppression_threshold: u64,
    /// Two-way (or wider) cuts asked for with `--by`, e.g. `[["role", "region"]]`.
    pub cuts: Vec<Vec<String>>,
}

/// The one-way dimensions every report has a rate table for.
pub const DIMENSIONS: &[&str] = &["role", "region", "education", "fresh_graduate", "source", "preferred_channel", "week"];

/// Columns a `--by` cut may name: the one-way dimensions plus the derived local-time ones.
pub const CUT_COLUMNS: &[&str] =
    &["role", "region", "education", "fresh_graduate", "source", "preferred_channel", "week", "month", "weekday", "hour", "lead_time"];

/// Signals looked for before the slot, in the order the report shows them.
pub const SIGNALS: &[&str] = &["jd_viewed", "company_intro_viewed", "link_clicked_24h", "message_read", "confirmed"];

/// Lead-time buckets: (lower bound in days, label).
pub const LEAD_TIME_BUCKETS: &[(i64, &str)] = &[(0, "0-1d"), (1, "1-3d"), (3, "3-7d"), (7, "7-14d"), (14, "14d+")];

/// Every table the report writes, by its file name (without extension), in order.
#[derive(Debug, Default)]
pub struct Analysis {
    pub tables: Vec<(String, DataFrame)>,
}

impl Analysis {
    pub fn get(&self, name: &str) -> Option<&DataFrame> {
        self.tables.iter().find(|(n, _)| n == name).map(|(_, df)| df)
    }

    fn push(&mut self, name: impl Into<String>, df: DataFrame) {
        self.tables.push((name.into(), df));
    }
}

/// Events the analytics may use: at or before as-of, and belonging to a known interview.
pub fn usable_events(interviews: LazyFrame, events: LazyFrame, as_of: Micros) -> LazyFrame {
    events
        .filter(micros("ts").lt_eq(lit(as_of)))
        .semi_join(interviews, col("interview_id"), col("interview_id"))
}

/// Per-interview event facts (one row per interview with at least one usable event).
/// Funnel steps look at every event up to as-of; signals and reminders only at those
/// before the slot started.
fn event_facts(interviews: LazyFrame, events: LazyFrame) -> LazyFrame {
    let keyed = interviews.select([col("interview_id"), micros("scheduled_at").alias("slot_us"), col("preferred_channel")]);
    let ev = events
        .join(keyed, [col("interview_id")], [col("interview_id")], JoinArgs::new(JoinType::Inner))
        .with_columns([micros("ts").alias("ts_us")]);
    let is = |t: &str| col("type").eq(lit(t.to_string()));
    let before = || col("ts_us").lt(col("slot_us"));
    let reminder = || is("reminder_sent").and(before());
    ev.group_by([col("interview_id")]).agg([
        any_if(is("message_delivered")).alias("ev_delivered"),
        any_if(is("message_read")).alias("ev_read"),
        any_if(is("confirmed")).alias("ev_confirmed"),
        any_if(is("link_clicked")).alias("ev_link_clicked"),
        any_if(is("joined")).alias("ev_joined"),
        any_if(is("completed")).alias("ev_completed"),
        any_if(is("jd_viewed").and(before())).alias("jd_viewed"),
        any_if(is("company_intro_viewed").and(before())).alias("company_intro_viewed"),
        any_if(is("link_clicked").and(before()).and(col("ts_us").gt_eq(col("slot_us") - lit(24 * MICROS_PER_HOUR))))
            .alias("link_clicked_24h"),
        any_if(is("message_read").and(before())).alias("message_read"),
        any_if(is("confirmed").and(before())).alias("confirmed"),
        count_if(reminder()).alias("reminders_received"),
        col("ts_us").filter(reminder()).max().alias("last_reminder_us"),
        col("detail")
            .filter(reminder())
            .sort_by([col("ts_us").filter(reminder())], SortMultipleOptions::default())
            .last()
            .alias("last_reminder_offset"),
        col("channel").filter(reminder()).drop_nulls().n_unique().cast(DataType::Int64).alias("reminder_channels"),
        any_if(reminder().and(col("channel").eq(col("preferred_channel")))).alias("reminded_on_preferred"),
        col("ts_us").filter(is("cancel_requested")).min().alias("cancel_request_us"),
        any_if(is("reinvite_sent")).alias("reinvite_sent"),
        any_if(is("reinvite_accepted")).alias("reinvite_accepted"),
    ])
}

/// Event columns that are flags (false when an interview has no events at all).
const EVENT_FLAGS: &[&str] = &[
    "ev_delivered", "ev_read", "ev_confirmed", "ev_link_clicked", "ev_joined", "ev_completed", "jd_viewed",
    "company_intro_viewed", "link_clicked_24h", "message_read", "confirmed", "reminded_on_preferred", "reinvite_sent",
    "reinvite_accepted",
];

/// Closed interviews with the derived status applied, local-time columns
/// (`week`, `month`, `weekday` 1 = Monday, `hour`, `lead_time`) and the event facts.
pub fn closed_interviews(interviews: LazyFrame, events: LazyFrame, s: &Settings) -> LazyFrame {
    let events = usable_events(interviews.clone(), events, s.as_of);
    let derived = with_derived_status(interviews.clone(), events.clone(), s.as_of, s.grace_minutes);
    let facts = event_facts(interviews, events);
    let local = col("scheduled_at").dt().convert_time_zone(polars::prelude::TimeZone::from_chrono(&s.tz));
    let lead_days = (micros("scheduled_at") - micros("invited_at")).cast(DataType::Float64) / lit(24.0 * MICROS_PER_HOUR as f64);
    // Built from the last bucket inwards so the first matching upper bound wins.
    let mut lead_bucket = lit(LEAD_TIME_BUCKETS[LEAD_TIME_BUCKETS.len() - 1].1);
    for pair in LEAD_TIME_BUCKETS.windows(2).rev() {
        lead_bucket = when(lead_days.clone().lt(lit(pair[1].0 as f64))).then(lit(pair[0].1)).otherwise(lead_bucket);
    }
    let mut fills: Vec<Expr> = EVENT_FLAGS.iter().map(|c| col(*c).fill_null(lit(false))).collect();
    fills.push(col("reminders_received").fill_null(lit(0i64)));
    fills.push(col("reminder_channels").fill_null(lit(0i64)));
    derived
        .filter(col("closed"))
        .join(facts, [col("interview_id")], [col("interview_id")], JoinArgs::new(JoinType::Left))
        .with_columns(fills)
        .with_columns([
            micros("scheduled_at").alias("slot_us"),
            local.clone().dt().strftime("%G-W%V").alias("week"),
            local.clone().dt().strftime("%Y-%m").alias("month"),
            local.clone().dt().weekday().cast(DataType::Int32).alias("weekday"),
            local.dt().hour().cast(DataType::Int32).alias("hour"),
            lead_bucket.alias("lead_time"),
        ])
}

/// Runs every analysis over the lake's interviews and events.
pub fn analyse(interviews: LazyFrame, events: LazyFrame, s: &Settings) -> PolarsResult<Analysis> {
    // Collected once: every table below is a group-by over this frame.
    let closed = closed_interviews(interviews.clone(), events.clone(), s).collect()?.lazy();
    let usable = usable_events(interviews, events, s.as_of);
    let mut out = Analysis::default();
    out.push("overall", rates::rate_table(&closed, &[], s, rates::Compare::RecentWindows)?);
    for dim in DIMENSIONS {
        let compare = if *dim == "week" { rates::Compare::PreviousWeek } else { rates::Compare::RecentWindows };
        out.push(format!("rates_by_{dim}"), rates::rate_table(&closed, &[dim], s, compare)?);
    }
    out.push("rates_by_slot", rates::rate_table(&closed, &["weekday", "hour"], s, rates::Compare::RecentWindows)?);
    out.push("rates_by_lead_time", rates::lead_time_table(&closed, s)?);
    for cut in &s.cuts {
        let dims: Vec<&str> = cut.iter().map(String::as_str).collect();
        out.push(format!("rates_by_{}", cut.join("_")), rates::rate_table(&closed, &dims, s, rates::Compare::RecentWindows)?);
    }
    out.push("best_slots_by_role", rates::best_slots_by_role(&closed, s, 3)?);
    for (name, df) in causes::cause_tables(&closed, s)? {
        out.push(name, df);
    }
    out.push("funnel", funnel::funnel(&closed, None, s)?);
    out.push("funnel_by_role", funnel::funnel(&closed, Some("role"), s)?);
    out.push("funnel_by_channel", funnel::funnel(&closed, Some("preferred_channel"), s)?);
    out.push("channel_reach", funnel::channel_reach(&closed, usable.clone(), s)?);
    out.push("reminder_effects", behaviour::reminder_effects(&closed, usable, s)?);
    out.push("miss_timing", behaviour::miss_timing(&closed, s)?);
    out.push("cost_total", cost::cost_table(&closed.clone().with_column(lit("all").alias("scope")), "scope", s)?);
    out.push("cost_by_role", cost::cost_table(&closed, "role", s)?);
    out.push("cost_by_month", cost::cost_table(&closed, "month", s)?);
    out.push("reinvites_by_cause", behaviour::reinvites_by_cause(&closed, s)?);
    out.push("signals", behaviour::signals(&closed, s)?);
    Ok(out)
}
