//! The report's numbers: rate tables, causes, funnel, reminders, timing, cost,
//! re-invitations, behavioural signals, confirmations, link errors and cancellation
//! reasons, computed from the lake's interviews and events with polars lazy group-bys
//! over one fold of the events ([`events`]; no table reads the events again).
//!
//! Pure: takes lazy frames and settings, returns DataFrames; never reads or writes
//! files. Every analysis counts *closed* interviews only (status other than
//! `scheduled` after the derived-status rule, slot before as-of) and uses events at or
//! before as-of whose interview exists (orphan events are left out).

pub mod behaviour;
pub mod cancel_reasons;
pub mod causes;
pub mod confirm;
pub mod cost;
pub mod events;
pub mod findings;
pub mod frame;
pub mod funnel;
pub mod help;
pub mod link_errors;
pub mod rates;
pub mod stats;

use chrono_tz::Tz;
use polars::prelude::*;

use crate::derive::{micros, with_derived_status};
use crate::schema::{InterviewColumn, LakeColumn, Role};
use events::EventFacts;
use crate::time::{Micros, MICROS_PER_HOUR};


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

/// What the report's tables need beyond [`Settings`] (kept apart so the other callers
/// of [`Settings`] need not know them).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `[report.cancel_reasons]`, keys normalised ([`cancel_reasons::reason_map`]).
    pub cancel_reason_map: std::collections::HashMap<String, String>,
}

/// The one-way dimensions every report has a rate table for.
pub const DIMENSIONS: &[&str] = &["role", "region", "education", "fresh_graduate", "source", "preferred_channel", "week"];

/// Columns a `--by` cut may name: the one-way dimensions plus the derived local-time ones.
pub const CUT_COLUMNS: &[&str] =
    &["role", "region", "education", "fresh_graduate", "source", "preferred_channel", "week", "month", "weekday", "hour", "lead_time"];

/// Signals looked for before the slot, in the order the report shows them.
pub const SIGNALS: &[&str] = &["jd_viewed", "company_intro_viewed", "link_clicked_24h", "message_read", "confirmed"];

/// The `likely_cause` of a no-show closed without a recorded cause (`unknown`) whose
/// candidate clicked the link and hit a link error before the no-show was declared.
pub const LIKELY_TECHNICAL: &str = "technical_issue";

/// Lead-time buckets: (lower bound in days, label).
pub const LEAD_TIME_BUCKETS: &[(i64, &str)] = &[(0, "0-1d"), (1, "1-3d"), (3, "3-7d"), (7, "7-14d"), (14, "14d+")];

/// Every table the report writes, by its file name (without extension), in order.
#[derive(Debug, Default)]
pub struct Analysis {
    pub tables: Vec<(String, DataFrame)>,
    /// The closed interviews every table was computed from (raw ids included: for
    /// [`interview_rows`], which pseudonymises them, never to be written as is).
    pub closed: DataFrame,
    /// Extra columns of mapped exports found in the lake: each has its
    /// `rates_by_<name>` table, like the fixed dimensions.
    pub extra_dimensions: Vec<String>,
    profile: bool,
    clock: Option<std::time::Instant>,
}

impl Analysis {
    pub fn get(&self, name: &str) -> Option<&DataFrame> {
        self.tables.iter().find(|(n, _)| n == name).map(|(_, df)| df)
    }

    fn push(&mut self, name: impl Into<String>, df: DataFrame) {
        let name = name.into();
        self.mark(&name);
        self.tables.push((name, df));
    }

    fn mark(&mut self, what: &str) {
        if let (true, Some(clock)) = (self.profile, self.clock) {
            eprintln!("noshow: profile: {:8.3} s wall {:8.3} s cpu  {what}", clock.elapsed().as_secs_f64(), cpu_seconds());
        }
    }
}

use crate::sys::cpu_seconds;

/// The lake's extra interview columns (from mapped exports): every column beyond the
/// format's and the lineage ones.
pub fn extra_columns(interviews: &mut LazyFrame) -> PolarsResult<Vec<String>> {
    let fixed: Vec<&str> = InterviewColumn::ALL.iter().map(|c| c.name()).collect();
    Ok(interviews.collect_schema()?.iter_names().map(|n| n.to_string()).filter(|n| !fixed.contains(&n.as_str())).collect())
}

/// Interview columns the analytics read: the input format's but `updated_at` (the
/// lineage columns `origin_*` stay behind).
fn read_columns() -> impl Iterator<Item = &'static str> {
    InterviewColumn::ALL.iter().filter(|c| c.role() != Role::Lineage && **c != InterviewColumn::UpdatedAt).map(|c| c.name())
}

/// The interviews with a row number `iv_idx` and the slot start in microseconds
/// (`slot_us`), collected so every use sees the same numbering.
fn indexed(interviews: LazyFrame, extra: &[String]) -> PolarsResult<DataFrame> {
    interviews
        .select(read_columns().map(col).chain(extra.iter().map(|c| col(c.as_str()))).collect::<Vec<_>>())
        .with_row_index("iv_idx", None)
        .with_column(micros("scheduled_at").alias("slot_us"))
        .collect()
}

/// What every table reads: the closed interviews with their event facts, and the
/// reminder pairs of [`EventFacts::reminder_offsets`] / [`EventFacts::reminder_channels`].
struct Prepared {
    closed: DataFrame,
    reminder_offsets: DataFrame,
    reminder_channels: DataFrame,
    /// Every `link_error` / `cancel_requested` event up to as-of, by `iv_idx`.
    link_errors: DataFrame,
    cancel_requests: DataFrame,
}

/// Reads the events once, folds them into per-interview facts and builds the closed
/// interviews. `mark` is called after each step (for `NOSHOW_PROFILE`).
fn prepare(interviews: LazyFrame, events: LazyFrame, s: &Settings, extra: &[String], mut mark: impl FnMut(&str)) -> PolarsResult<Prepared> {
    let mut interviews = indexed(interviews, extra)?;
    mark("interviews");
    let compact = events::compact_events(events, interviews.column("interview_id")?.str()?, s.as_of)
        .collect_with_engine(Engine::Streaming)?
        // A one-plan query has one result (polars' own `collect` relies on the same);
        // the streaming engine keeps only the compact rows in memory, never the
        // decoded text columns of every event at once.
        .unwrap_single();
    mark("usable events (compact)");
    let slot_us: Vec<Micros> = interviews.column("slot_us")?.i64()?.iter().map(|v| v.unwrap_or(Micros::MIN)).collect();
    let preferred = events::preferred_codes(interviews.column("preferred_channel")?)?;
    let facts = EventFacts::fold(&compact, &slot_us, &preferred)?;
    drop(compact);
    for column in facts.columns() {
        interviews.with_column(column)?;
    }
    // A no-show is declared `grace_minutes` after the slot start: a link error up to
    // then says the candidate tried to join and could not.
    let grace_us = s.grace_minutes * crate::time::MICROS_PER_MINUTE;
    let deadline: Vec<Micros> = slot_us.iter().map(|&t| t.saturating_add(grace_us)).collect();
    interviews.with_column(Column::new("link_error_before_declared".into(), facts.link_error_before(&deadline)))?;
    mark("per-interview event facts");
    let closed = closed_from_facts(interviews, s).collect()?;
    mark("closed interviews");
    Ok(Prepared {
        closed,
        reminder_offsets: facts.reminder_offsets()?,
        reminder_channels: facts.reminder_channels()?,
        link_errors: facts.link_error_events()?,
        cancel_requests: facts.cancel_request_events()?,
    })
}

/// Closed interviews with the derived status applied, local-time columns
/// (`week`, `month`, `weekday` 1 = Monday, `hour`, `lead_time`) and the event facts.
pub fn closed_interviews(interviews: LazyFrame, events: LazyFrame, s: &Settings) -> PolarsResult<LazyFrame> {
    Ok(prepare(interviews, events, s, &[], |_| {})?.closed.lazy())
}

/// [`closed_interviews`] from interviews that already carry the event facts.
fn closed_from_facts(interviews: DataFrame, s: &Settings) -> LazyFrame {
    // The derived-status rule looks for a `joined` event at or before as-of: the fold
    // already knows which interviews have one, so it gets one such event per interview
    // instead of the whole event table again.
    let utc = DataType::Datetime(TimeUnit::Microseconds, Some(polars::prelude::TimeZone::UTC));
    let joined = interviews.clone().lazy().filter(col("ev_joined")).select([
        col("interview_id"),
        lit("joined").alias("type"),
        lit(s.as_of).cast(utc).alias("ts"),
    ]);
    let derived = with_derived_status(interviews.lazy(), joined, s.as_of, s.grace_minutes);
    let local = col("scheduled_at").dt().convert_time_zone(polars::prelude::TimeZone::from_chrono(&s.tz));
    let lead_days = (micros("scheduled_at") - micros("invited_at")).cast(DataType::Float64) / lit(24.0 * MICROS_PER_HOUR as f64);
    // Built from the last bucket inwards so the first matching upper bound wins.
    let mut lead_bucket = lit(LEAD_TIME_BUCKETS[LEAD_TIME_BUCKETS.len() - 1].1);
    for pair in LEAD_TIME_BUCKETS.windows(2).rev() {
        lead_bucket = when(lead_days.clone().lt(lit(pair[1].0 as f64))).then(lit(pair[0].1)).otherwise(lead_bucket);
    }
    // Never the recorded cause: a line of its own beside it (see [`causes`]).
    let likely_cause = when(
        col("status").eq(lit("no_show")).and(col("cause").eq(lit("unknown"))).and(col("link_error_before_declared")),
    )
    .then(lit(LIKELY_TECHNICAL))
    .otherwise(lit(NULL).cast(DataType::String));
    derived.filter(col("closed")).with_columns([
        likely_cause.alias("likely_cause"),
        local.clone().dt().strftime("%G-W%V").alias("week"),
        local.clone().dt().strftime("%Y-%m").alias("month"),
        local.clone().dt().weekday().cast(DataType::Int32).alias("weekday"),
        local.dt().hour().cast(DataType::Int32).alias("hour"),
        lead_bucket.alias("lead_time"),
    ])
}

/// Columns of the interview-level export, in order; `candidate_id` becomes
/// `candidate_pseudonym`.
pub const INTERVIEW_ROW_COLUMNS: &[&str] = &[
    "interview_id", "candidate_id", "role", "region", "education", "fresh_graduate", "source", "preferred_channel",
    "invited_at", "scheduled_at", "week", "month", "weekday", "hour", "lead_time", "status", "cause", "no_show_grade",
    "cost", "ev_delivered", "ev_read", "jd_viewed", "company_intro_viewed", "ev_confirmed", "ev_link_clicked",
    "ev_joined", "reminders_received", "last_reminder_offset", "likely_cause",
];

/// One row per closed interview, for notebooks: the dimensions, the derived status and
/// the behaviour facts the rate tables count, with each candidate id replaced by
/// `pseudonym(id)` (null ids stay null). Callers without a pseudonymisation key must
/// not call this: there is no raw-id fallback.
pub fn interview_rows(closed: &DataFrame, pseudonym: impl Fn(&str) -> String) -> PolarsResult<DataFrame> {
    let mut df = closed.select(INTERVIEW_ROW_COLUMNS.iter().copied())?;
    let pseudonyms: StringChunked =
        df.column("candidate_id")?.str()?.iter().map(|v| v.map(&pseudonym)).collect();
    df.replace("candidate_id", pseudonyms.into_column())?;
    df.rename("candidate_id", "candidate_pseudonym".into())?;
    df.sort(["scheduled_at", "interview_id"], SortMultipleOptions::default())
}

/// Runs every analysis over the lake's interviews and events. With
/// `NOSHOW_PROFILE=1` in the environment, each step's time goes to stderr.
pub fn analyse(interviews: LazyFrame, events: LazyFrame, s: &Settings) -> PolarsResult<Analysis> {
    analyse_with(interviews, events, s, &Options::default())
}

/// [`analyse`] with the report's [`Options`].
pub fn analyse_with(mut interviews: LazyFrame, events: LazyFrame, s: &Settings, options: &Options) -> PolarsResult<Analysis> {
    let profile = std::env::var_os("NOSHOW_PROFILE").is_some();
    let clock = std::time::Instant::now();
    let mut out = Analysis { profile, clock: Some(clock), ..Analysis::default() };
    let extra = extra_columns(&mut interviews)?;
    for cut in &s.cuts {
        for c in cut {
            if !CUT_COLUMNS.contains(&c.as_str()) && !extra.contains(c) {
                return Err(PolarsError::ColumnNotFound(
                    format!(
                        "--by: unknown column {c:?} (expected one of {}{})",
                        CUT_COLUMNS.join(", "),
                        if extra.is_empty() { String::new() } else { format!(", or an extra column of the lake: {}", extra.join(", ")) }
                    )
                    .into(),
                ));
            }
        }
    }
    let prepared = prepare(interviews, events, s, &extra, |what| out.mark(what))?;
    out.closed = prepared.closed.clone();
    let closed = prepared.closed.clone().lazy();
    out.push("overall", rates::rate_table(&closed, &[], s, rates::Compare::RecentWindows)?);
    for dim in DIMENSIONS {
        let compare = if *dim == "week" { rates::Compare::PreviousWeek } else { rates::Compare::RecentWindows };
        out.push(format!("rates_by_{dim}"), rates::rate_table(&closed, &[dim], s, compare)?);
    }
    for dim in &extra {
        out.push(format!("rates_by_{dim}"), rates::rate_table(&closed, &[dim.as_str()], s, rates::Compare::RecentWindows)?);
    }
    out.extra_dimensions = extra;
    out.push("rates_by_month", rates::rate_table(&closed, &["month"], s, rates::Compare::RecentWindows)?);
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
    out.push("channel_reach", funnel::channel_reach(&closed, s)?);
    out.push("reach_by_channel_region", funnel::channel_reach_by(&closed, Some("region"), s)?);
    out.push("reach_by_channel_role", funnel::channel_reach_by(&closed, Some("role"), s)?);
    out.push(
        "reminder_effects",
        behaviour::reminder_effects(&closed, prepared.reminder_offsets.clone().lazy(), prepared.reminder_channels.clone().lazy(), s)?,
    );
    out.push("miss_timing", behaviour::miss_timing(&closed, s)?);
    for (name, df) in behaviour::reminder_schedules(&closed, &prepared.reminder_offsets, &prepared.reminder_channels, s)? {
        out.push(name, df);
    }
    out.push("cost_total", cost::cost_table(&closed.clone().with_column(lit("all").alias("scope")), "scope", s)?);
    out.push("cost_by_role", cost::cost_table(&closed, "role", s)?);
    out.push("cost_by_month", cost::cost_table(&closed, "month", s)?);
    out.push("reinvites_by_cause", behaviour::reinvites_by_cause(&closed, s)?);
    out.push("reinvite_outcomes", behaviour::reinvite_outcomes(&closed, s)?);
    for (name, df) in behaviour::cancel_notice_tables(&closed, s)? {
        out.push(name, df);
    }
    out.push("signals", behaviour::signals(&closed, s)?);
    out.push("confirmations", confirm::confirmations(&closed, s)?);
    for (name, df) in confirm::confirmation_time(&closed, s)?.into_iter().chain(confirm::confirmation_no_show(&closed, s)?) {
        out.push(name, df);
    }
    for (name, df) in link_errors::link_error_tables(&closed, &prepared.link_errors, s)? {
        out.push(name, df);
    }
    for (name, df) in cancel_reasons::cancel_reason_tables(&closed, &prepared.cancel_requests, &options.cancel_reason_map, s)? {
        out.push(name, df);
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::time::{parse_timestamp, MICROS_PER_MINUTE, MICROS_PER_SECOND};

    pub fn ts(text: &str) -> Micros {
        parse_timestamp(text, chrono_tz::UTC).unwrap()
    }

    fn datetimes(name: &str, values: Vec<Option<Micros>>) -> Column {
        Series::new(name.into(), values)
            .cast(&DataType::Datetime(TimeUnit::Microseconds, Some(polars::prelude::TimeZone::UTC)))
            .unwrap()
            .into_column()
    }

    /// A hand-made interview: (id, role, scheduled_at, status, cause).
    pub struct Iv<'a> {
        pub id: &'a str,
        pub role: &'a str,
        pub education: Option<&'a str>,
        pub invited: Micros,
        pub slot: Micros,
        pub status: &'a str,
        pub cause: Option<&'a str>,
        pub cost: Option<f64>,
    }

    pub fn interviews_frame(rows: &[Iv]) -> LazyFrame {
        let n = rows.len();
        DataFrame::new(
            n,
            vec![
                Column::new("interview_id".into(), rows.iter().map(|r| r.id.to_string()).collect::<Vec<_>>()),
                Column::new("candidate_id".into(), rows.iter().map(|r| format!("cand-{}", r.id)).collect::<Vec<_>>()),
                Column::new("role".into(), rows.iter().map(|r| r.role.to_string()).collect::<Vec<_>>()),
                Column::new("region".into(), vec!["east"; n]),
                Column::new("education".into(), rows.iter().map(|r| r.education.map(str::to_string)).collect::<Vec<_>>()),
                Column::new("fresh_graduate".into(), vec![Some(false); n]),
                Column::new("source".into(), vec![Some("campus"); n]),
                Column::new("preferred_channel".into(), vec![Some("sms"); n]),
                datetimes("invited_at", rows.iter().map(|r| Some(r.invited)).collect()),
                datetimes("scheduled_at", rows.iter().map(|r| Some(r.slot)).collect()),
                Column::new("status".into(), rows.iter().map(|r| r.status.to_string()).collect::<Vec<_>>()),
                Column::new("cause".into(), rows.iter().map(|r| r.cause.map(str::to_string)).collect::<Vec<_>>()),
                Column::new("no_show_grade".into(), vec![None::<String>; n]),
                Column::new("cost".into(), rows.iter().map(|r| r.cost).collect::<Vec<_>>()),
                datetimes("updated_at", vec![None; n]),
            ],
        )
        .unwrap()
        .lazy()
    }

    /// Events: (event id, interview id, ts, type, channel, detail).
    pub fn events_frame(rows: &[(&str, &str, Micros, &str, Option<&str>, Option<&str>)]) -> LazyFrame {
        DataFrame::new(
            rows.len(),
            vec![
                Column::new("event_id".into(), rows.iter().map(|r| r.0.to_string()).collect::<Vec<_>>()),
                Column::new("interview_id".into(), rows.iter().map(|r| r.1.to_string()).collect::<Vec<_>>()),
                datetimes("ts", rows.iter().map(|r| Some(r.2)).collect()),
                Column::new("type".into(), rows.iter().map(|r| r.3.to_string()).collect::<Vec<_>>()),
                Column::new("channel".into(), rows.iter().map(|r| r.4.map(str::to_string)).collect::<Vec<_>>()),
                Column::new("detail".into(), rows.iter().map(|r| r.5.map(str::to_string)).collect::<Vec<_>>()),
            ],
        )
        .unwrap()
        .lazy()
    }

    pub fn settings(as_of: Micros) -> Settings {
        Settings { as_of, tz: chrono_tz::UTC, grace_minutes: 15, suppression_threshold: 1, cuts: vec![] }
    }

    fn iv<'a>(id: &'a str, slot: Micros, status: &'a str) -> Iv<'a> {
        Iv { id, role: "sales", education: Some("bachelor"), invited: slot - 3 * 24 * MICROS_PER_HOUR, slot, status, cause: None, cost: Some(10.0) }
    }

    #[test]
    fn derived_status_at_the_grace_boundary() {
        let as_of = ts("2026-03-02T12:00:00Z");
        let grace = 15 * MICROS_PER_MINUTE;
        let interviews = interviews_frame(&[
            iv("exactly_15min", as_of - grace, "scheduled"),
            iv("15min_1s", as_of - grace - MICROS_PER_SECOND, "scheduled"),
            iv("joined_in_time", as_of - grace - MICROS_PER_SECOND, "scheduled"),
            iv("joined_after_as_of", as_of - grace - MICROS_PER_SECOND, "scheduled"),
            iv("future", as_of + MICROS_PER_MINUTE, "attended"),
            iv("recorded", as_of - 30 * grace, "cancelled_by_company"),
        ]);
        let events = events_frame(&[
            ("e1", "joined_in_time", as_of - grace, "joined", None, None),
            ("e2", "joined_after_as_of", as_of + MICROS_PER_SECOND, "joined", None, None),
            ("e3", "orphan", as_of - grace, "joined", None, None),
        ]);
        let closed = closed_interviews(interviews, events, &settings(as_of))
            .unwrap()
            .select([col("interview_id"), col("status"), col("cause")])
            .collect()
            .unwrap();
        let ids = frame::strings(&closed, "interview_id").unwrap();
        let status = frame::strings(&closed, "status").unwrap();
        let cause = frame::strings(&closed, "cause").unwrap();
        let got: std::collections::HashMap<String, (String, Option<String>)> = ids
            .into_iter()
            .zip(status.into_iter().zip(cause))
            .map(|(i, (s, c))| (i.unwrap(), (s.unwrap(), c)))
            .collect();
        assert!(!got.contains_key("exactly_15min"), "exactly 15 minutes is still within the grace: not closed");
        assert_eq!(got["15min_1s"], ("no_show".to_string(), Some("unknown".to_string())));
        assert_eq!(got["joined_in_time"].0, "attended");
        assert_eq!(got["joined_after_as_of"], ("no_show".to_string(), Some("unknown".to_string())), "a join after as-of does not count");
        assert!(!got.contains_key("future"), "a slot after as-of is never closed, whatever its status");
        assert_eq!(got["recorded"].0, "cancelled_by_company");
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn weeks_and_hours_are_local() {
        // 2026-03-01T17:30Z is Sunday in UTC (ISO week 9) but Monday 01:30 in Shanghai (week 10).
        let slot = ts("2026-03-01T17:30:00Z");
        let interviews = interviews_frame(&[iv("a", slot, "attended")]);
        let events = events_frame(&[("e", "a", slot, "joined", None, None)]);
        let mut s = settings(ts("2026-03-10T00:00:00Z"));
        s.tz = crate::time::parse_tz("Asia/Shanghai").unwrap();
        let df = closed_interviews(interviews.clone(), events.clone(), &s).unwrap().collect().unwrap();
        assert_eq!(frame::strings(&df, "week").unwrap(), vec![Some("2026-W10".to_string())]);
        assert_eq!(frame::i64s(&df, "weekday").unwrap(), vec![Some(1)]);
        assert_eq!(frame::i64s(&df, "hour").unwrap(), vec![Some(1)]);
        assert_eq!(crate::time::iso_week_label(slot, s.tz), "2026-W10");
        s.tz = chrono_tz::UTC;
        let df = closed_interviews(interviews, events, &s).unwrap().collect().unwrap();
        assert_eq!(frame::strings(&df, "week").unwrap(), vec![Some("2026-W09".to_string())]);
        assert_eq!(frame::i64s(&df, "weekday").unwrap(), vec![Some(7)]);
    }

    #[test]
    fn every_analysis_runs_on_a_tiny_lake_and_suppresses_small_segments() {
        let as_of = ts("2026-03-30T00:00:00Z");
        let base = ts("2026-03-02T09:00:00Z");
        let mut rows = Vec::new();
        let ids: Vec<String> = (0..40).map(|i| format!("i{i}")).collect();
        for (i, id) in ids.iter().enumerate() {
            let status = match i % 5 { 0 => "no_show", 1 => "cancelled_by_candidate", 2 => "cancelled_by_company", 3 => "rescheduled", _ => "attended" };
            let mut r = iv(id, base + i as i64 * 12 * MICROS_PER_HOUR, status);
            r.role = if i < 36 { "sales" } else { "designer" };
            r.education = if i % 4 == 0 { None } else { Some("master") };
            r.cause = (status == "no_show").then_some(if i % 2 == 0 { "forgot" } else { "technical_issue" });
            rows.push(r);
        }
        let mut ev = Vec::new();
        let eids: Vec<String> = (0..200).map(|i| format!("e{i}")).collect();
        let mut k = 0;
        for (i, r) in rows.iter().enumerate() {
            let mut push = |t: &'static str, at: Micros, ch: Option<&'static str>, d: Option<&'static str>| {
                ev.push((eids[k].as_str(), r.id, at, t, ch, d));
                k += 1;
            };
            push("invite_sent", r.invited, Some("sms"), None);
            if i % 3 != 0 {
                push("message_delivered", r.invited + MICROS_PER_MINUTE, Some("sms"), None);
                push("reminder_sent", r.slot - 2 * MICROS_PER_HOUR, Some("email"), Some("-2h"));
            }
            if r.status == "attended" {
                push("joined", r.slot, None, None);
            }
        }
        let mut s = settings(as_of);
        s.suppression_threshold = 10;
        s.cuts = vec![vec!["role".into(), "education".into()]];
        let a = analyse(interviews_frame(&rows), events_frame(&ev), &s).unwrap();
        for name in ["overall", "rates_by_role", "rates_by_week", "rates_by_role_education", "causes_no_show", "funnel", "signals", "reminder_effects", "miss_timing", "channel_reach", "cost_by_month", "best_slots_by_role"] {
            assert!(a.get(name).is_some(), "{name} missing");
        }
        let role = a.get("rates_by_role").unwrap();
        assert_eq!(frame::strings(role, "role").unwrap(), vec![Some("designer".into()), Some("sales".into())]);
        assert_eq!(frame::bools(role, "suppressed").unwrap(), vec![Some(true), Some(false)]);
        assert_eq!(frame::i64s(role, "interviews").unwrap(), vec![None, Some(36)]);
        assert_eq!(frame::f64s(role, "no_show_rate").unwrap()[0], None, "a suppressed segment shows no rate");
        let overall = a.get("overall").unwrap();
        assert_eq!(frame::i64s(overall, "no_shows").unwrap(), vec![Some(8)]);
        assert_eq!(frame::i64s(overall, "interviews").unwrap(), vec![Some(40)]);
        // Unknown education is its own segment, sorted last.
        let edu = a.get("rates_by_education").unwrap();
        assert_eq!(frame::strings(edu, "education").unwrap(), vec![Some("master".into()), None]);
        assert_eq!(frame::i64s(edu, "interviews").unwrap(), vec![Some(30), Some(10)]);
        let causes = a.get("causes_no_show").unwrap();
        // 8 no-shows are fewer than the threshold of 10: the cause rows stay, emptied.
        assert_eq!(frame::i64s(causes, "count").unwrap(), vec![None, None]);
        assert_eq!(frame::bools(causes, "suppressed").unwrap(), vec![Some(true), Some(true)]);
        assert_eq!(frame::strings(causes, "cause").unwrap(), vec![Some("forgot".into()), Some("technical_issue".into())]);
        let cost = a.get("cost_total").unwrap();
        assert_eq!(frame::f64s(cost, "no_show_cost").unwrap(), vec![Some(80.0)]);
        assert_eq!(frame::f64s(cost, "total_cost").unwrap(), vec![Some(400.0)]);
        let html = crate::report::render(&crate::report::ReportInput {
            analysis: &a,
            findings: &findings::findings(&a).unwrap(),
            lang: crate::report::i18n::Lang::Zh,
            as_of: "2026-03-30".into(),
            tz: "UTC".into(),
            lake_version: 1,
            suppression_threshold: 10,
            currency: Some("¥".into()),
            model_section: Some("<p id=\"model-hook\">model</p>".into()),
            loop_section: String::new(),
            set_aside: 0,
        })
        .unwrap();
        assert!(html.contains("爽约率") && html.contains("model-hook") && html.contains("<svg"));
        assert!(!html.contains("cand-"), "no candidate id reaches the page");
    }
}
