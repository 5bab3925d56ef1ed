//! Point-in-time features: what was known about an interview at a cutoff instant,
//! built from the lake's interviews and events as polars lazy frames.
//!
//! The rule this module must never break: **nothing after the cutoff leaks in**.
//! - Events count only when `ts <= cutoff`; events of interviews not in the lake
//!   (orphans) drop out at the join.
//! - The interview's own status, cause and cost are never read.
//! - The candidate's history counts only their *other* interviews closed by the
//!   cutoff: slot start + grace <= cutoff. Their outcome is the recorded status, or for
//!   a still-`scheduled` record the derived-status rule evaluated *at the cutoff*
//!   (attended if a `joined` event exists at or before the cutoff). An interview whose
//!   slot is later than that contributes nothing, whatever its status says, even a
//!   cancellation that may already have happened (its time is not known reliably).
//!
//! For training the cutoff is slot start − horizon; for scoring it is `--as-of`.
//! Pure: lazy frames in, a DataFrame out, no disk.

use chrono_tz::Tz;
use polars::prelude::*;

pub mod synth;

use crate::derive::micros;
use crate::time::{self, MICROS_PER_HOUR, MICROS_PER_MINUTE};

/// How a numeric feature is read in words (coefficient sentences, top factors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 0/1: `phrase` when 1, `not_phrase` when 0.
    Flag,
    /// A count of things.
    Count,
    /// log(1 + hours).
    LogHours,
}

/// A numeric feature's definition.
#[derive(Debug, Clone, Copy)]
pub struct NumericFeature {
    pub name: &'static str,
    pub kind: Kind,
    /// What it measures, for model.json.
    pub definition: &'static str,
    /// Words when the value is high / true.
    pub high: &'static str,
    /// Words when the value is low / false.
    pub low: &'static str,
}

const fn num(name: &'static str, kind: Kind, definition: &'static str, high: &'static str, low: &'static str) -> NumericFeature {
    NumericFeature { name, kind, definition, high, low }
}

/// Every numeric feature, in design-matrix order.
pub const NUMERIC_FEATURES: &[NumericFeature] = &[
    num("invitation_delivered", Kind::Flag, "1 if any message_delivered event by the cutoff", "messages reached the device", "no message delivered yet"),
    num("invitation_read", Kind::Flag, "1 if any message_read event by the cutoff", "opened a message", "messages unread"),
    num("jd_viewed", Kind::Flag, "1 if a jd_viewed event by the cutoff", "viewed the job description", "has not viewed the job description"),
    num("company_intro_viewed", Kind::Flag, "1 if a company_intro_viewed event by the cutoff", "viewed the company introduction", "has not viewed the company introduction"),
    num("link_clicked", Kind::Flag, "1 if a link_clicked event by the cutoff", "opened the interview link", "has not opened the interview link"),
    num("link_clicked_last_24h", Kind::Flag, "1 if a link_clicked event in the 24 hours up to the cutoff", "opened the link in the last 24 h", "no link click in the last 24 h"),
    num("link_errors", Kind::Count, "number of link_error events by the cutoff", "link errors", "no link errors"),
    num("questionnaire_completed", Kind::Flag, "1 if a questionnaire_completed event by the cutoff", "filled the questionnaire", "questionnaire not filled"),
    num("confirmed", Kind::Flag, "1 if a confirmed event by the cutoff", "confirmed the time", "has not confirmed the time"),
    num("log_hours_to_confirm", Kind::LogHours, "ln(1 + hours from invited_at to the first confirmation), 0 when not confirmed by the cutoff", "slow to confirm", "quick to confirm"),
    num("reschedule_requests", Kind::Count, "number of reschedule_requested events by the cutoff", "asked to reschedule", "no reschedule requests"),
    num("reminders", Kind::Count, "number of reminder_sent events by the cutoff", "many reminders sent", "few reminders sent"),
    num("reminder_channels", Kind::Count, "distinct channels of reminder_sent events by the cutoff", "reminders on several channels", "reminders on few channels"),
    num("reminder_on_preferred_channel", Kind::Flag, "1 if a reminder_sent event by the cutoff used the preferred channel", "reminded on the preferred channel", "no reminder on the preferred channel"),
    num("log_lead_time_hours", Kind::LogHours, "ln(1 + hours from invited_at to scheduled_at)", "long lead time", "short lead time"),
    num("log_hours_left", Kind::LogHours, "ln(1 + hours from the cutoff to scheduled_at)", "slot still far off", "slot close"),
    num("prior_no_shows", Kind::Count, "the candidate's other interviews closed by the cutoff as no_show", "earlier no-shows", "no earlier no-shows"),
    num("prior_candidate_cancels", Kind::Count, "the candidate's other interviews closed by the cutoff as cancelled_by_candidate", "earlier cancellations", "no earlier cancellations"),
    num("prior_attended", Kind::Count, "the candidate's other interviews closed by the cutoff as attended", "attended earlier interviews", "no earlier attendance"),
];

/// Every categorical feature (name, definition), in design-matrix order.
pub const CATEGORICAL_FEATURES: &[(&str, &str)] = &[
    ("slot_weekday", "weekday of scheduled_at in --tz (mon … sun)"),
    ("slot_daypart", "local hour of scheduled_at in --tz: night (0–7), morning (8–11), afternoon (12–17), evening (18–23)"),
    ("role", "role as recorded"),
    ("region", "region as recorded"),
    ("education", "education, `unknown` when empty"),
    ("fresh_graduate", "yes / no / unknown"),
    ("source", "source, `unknown` when empty"),
    ("preferred_channel", "preferred_channel, `unknown` when empty"),
];

pub fn numeric_names() -> Vec<&'static str> {
    NUMERIC_FEATURES.iter().map(|f| f.name).collect()
}

pub fn categorical_names() -> Vec<&'static str> {
    CATEGORICAL_FEATURES.iter().map(|f| f.0).collect()
}

pub fn numeric_feature(name: &str) -> Option<&'static NumericFeature> {
    NUMERIC_FEATURES.iter().find(|f| f.name == name)
}

/// Settings the features depend on.
#[derive(Debug, Clone, Copy)]
pub struct FeatureSettings {
    pub tz: Tz,
    /// Minutes after a slot start before it counts as closed (the derived-status grace).
    pub grace_minutes: i64,
}

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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::time::parse_timestamp;

    const SETTINGS: FeatureSettings = FeatureSettings { tz: chrono_tz::UTC, grace_minutes: 15 };

    fn at(cutoff: i64, interviews: &DataFrame, events: LazyFrame) -> DataFrame {
        let snapshots = interviews.clone().lazy().select([col("interview_id"), lit(cutoff).alias("cutoff")]);
        build(interviews.clone().lazy(), events, snapshots, SETTINGS).unwrap()
    }

    fn as_of() -> i64 {
        parse_timestamp("2026-03-02T00:00:00Z", chrono_tz::UTC).unwrap()
    }

    #[test]
    fn nothing_after_the_cutoff_changes_a_feature() {
        let lake = synth::synth_lake(400, 6, as_of(), 7).unwrap();
        // Several cutoffs across the lake's span, including one in the future.
        for days_back in [35, 20, 9, 2, -3] {
            let cutoff = as_of() - days_back * 24 * MICROS_PER_HOUR;
            let full = at(cutoff, &lake.interviews, lake.events.clone().lazy());
            assert_eq!(full.height(), lake.interviews.height());

            let trimmed_events = lake.events.clone().lazy().filter(micros("ts").lt_eq(lit(cutoff)));
            let trimmed = at(cutoff, &lake.interviews, trimmed_events);
            assert!(full.equals_missing(&trimmed), "deleting events after the cutoff changed features at {days_back} days back");

            // Flip the outcome of every interview not closed by the cutoff.
            let open = (micros("scheduled_at") + lit(15 * crate::time::MICROS_PER_MINUTE)).gt(lit(cutoff));
            let flipped = lake
                .interviews
                .clone()
                .lazy()
                .with_column(
                    when(open)
                        .then(when(col("status").eq(lit("attended"))).then(lit("no_show")).otherwise(lit("attended")))
                        .otherwise(col("status"))
                        .alias("status"),
                )
                .collect()
                .unwrap();
            let changed = at(cutoff, &flipped, lake.events.clone().lazy());
            assert!(full.equals_missing(&changed), "outcomes of open interviews leaked at {days_back} days back");
        }
    }

    #[test]
    fn features_agree_with_naive_counting() {
        let lake = synth::synth_lake(300, 4, as_of(), 11).unwrap();
        let cutoff = as_of() - 10 * 24 * MICROS_PER_HOUR;
        let features = at(cutoff, &lake.interviews, lake.events.clone().lazy());

        // Naive: walk the raw rows with HashMaps.
        let ev = lake.events.clone().lazy().select([col("interview_id"), micros("ts").alias("ts"), col("type")]).collect().unwrap();
        let ids = ev.column("interview_id").unwrap().str().unwrap().clone();
        let ts = ev.column("ts").unwrap().i64().unwrap().clone();
        let kinds = ev.column("type").unwrap().str().unwrap().clone();
        let mut counts: HashMap<(String, String), usize> = HashMap::new();
        let mut first_join: HashMap<String, i64> = HashMap::new();
        for i in 0..ev.height() {
            let (id, t, k) = (ids.get(i).unwrap(), ts.get(i).unwrap(), kinds.get(i).unwrap());
            if k == "joined" {
                let e = first_join.entry(id.to_string()).or_insert(t);
                *e = (*e).min(t);
            }
            if t <= cutoff {
                *counts.entry((id.to_string(), k.to_string())).or_default() += 1;
            }
        }
        let iv = lake.interviews.clone().lazy().select([col("interview_id"), col("candidate_id"), micros("scheduled_at").alias("slot"), col("status")]).collect().unwrap();
        let iv_ids = iv.column("interview_id").unwrap().str().unwrap().clone();
        let cands = iv.column("candidate_id").unwrap().str().unwrap().clone();
        let slots = iv.column("slot").unwrap().i64().unwrap().clone();
        let statuses = iv.column("status").unwrap().str().unwrap().clone();
        let mut prior_no_shows: HashMap<String, f64> = HashMap::new();
        for i in 0..iv.height() {
            let mut n = 0.0;
            for j in 0..iv.height() {
                if i == j || cands.get(i) != cands.get(j) || slots.get(j).unwrap() + 15 * crate::time::MICROS_PER_MINUTE > cutoff {
                    continue;
                }
                let outcome = match statuses.get(j).unwrap() {
                    "scheduled" => match first_join.get(iv_ids.get(j).unwrap()) {
                        Some(&t) if t <= cutoff => "attended",
                        _ => "no_show",
                    },
                    s => s,
                };
                if outcome == "no_show" {
                    n += 1.0;
                }
            }
            prior_no_shows.insert(iv_ids.get(i).unwrap().to_string(), n);
        }

        let f_ids = features.column("interview_id").unwrap().str().unwrap().clone();
        let get = |name: &str| features.column(name).unwrap().f64().unwrap().clone();
        let (jd, errors, reminders, confirmed, prior) =
            (get("jd_viewed"), get("link_errors"), get("reminders"), get("confirmed"), get("prior_no_shows"));
        let mut some_prior = 0;
        for i in 0..features.height() {
            let id = f_ids.get(i).unwrap().to_string();
            let c = |k: &str| *counts.get(&(id.clone(), k.to_string())).unwrap_or(&0) as f64;
            assert_eq!(jd.get(i).unwrap(), f64::from(u8::from(c("jd_viewed") > 0.0)), "{id}");
            assert_eq!(errors.get(i).unwrap(), c("link_error"), "{id}");
            assert_eq!(reminders.get(i).unwrap(), c("reminder_sent"), "{id}");
            assert_eq!(confirmed.get(i).unwrap(), f64::from(u8::from(c("confirmed") > 0.0)), "{id}");
            assert_eq!(prior.get(i).unwrap(), prior_no_shows[&id], "{id}");
            if prior_no_shows[&id] > 0.0 {
                some_prior += 1;
            }
        }
        assert!(some_prior > 3, "the case should exercise candidate history ({some_prior})");
    }
}
