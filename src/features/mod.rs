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

use std::collections::HashMap;

use chrono_tz::Tz;
use polars::prelude::*;

pub mod facts;
#[cfg(test)]
mod reference;
/// Test support (the integration tests use it too), not the library's API: hidden
/// from its documentation.
#[doc(hidden)]
pub mod synth;

pub use facts::Facts;
use facts::Status;
use crate::schema::EventType;

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

/// Column names a feature table holds besides the features: an extra feature may not
/// take one of them (nor a feature's name).
pub const RESERVED_NAMES: &[&str] =
    &["interview_id", "cutoff", "candidate_id", "scheduled_at_us", "invited_at_us", "horizon_hours", "label", "status"];

/// Whether `name` is taken by a built-in feature or a feature table's own column.
pub fn is_reserved_name(name: &str) -> bool {
    RESERVED_NAMES.contains(&name) || numeric_feature(name).is_some() || CATEGORICAL_FEATURES.iter().any(|f| f.0 == name)
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

/// One point-in-time snapshot: interview row `interview` of the [`Facts`] at `cutoff`
/// (UTC microseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snap {
    pub interview: u32,
    pub cutoff: i64,
}

/// Features of every snapshot: `snapshots` holds `interview_id` (String) and `cutoff`
/// (Int64 UTC microseconds), plus any columns the caller wants carried through
/// (e.g. `horizon_hours`). Snapshots whose interview is not in the lake (or without a
/// cutoff) are dropped.
///
/// Output: the snapshot columns, `candidate_id`, `scheduled_at_us`, `invited_at_us`,
/// then every feature of [`NUMERIC_FEATURES`] (Float64) and [`CATEGORICAL_FEATURES`]
/// (String). Row order follows the snapshots' sorted (interview_id, cutoff).
///
/// Only the events of the snapshots' interviews and of their candidates' other
/// interviews are read.
pub fn build(interviews: LazyFrame, events: LazyFrame, snapshots: LazyFrame, settings: FeatureSettings) -> PolarsResult<DataFrame> {
    let mut facts = Facts::load_interviews(interviews)?;
    let keys = DataFrame::new_infer_height(vec![
        facts.carried.column("interview_id")?.clone(),
        Column::new("iv_idx".into(), (0..facts.len() as u32).collect::<Vec<u32>>()),
    ])?;
    let snapshots = snapshots.with_column(col("cutoff").cast(DataType::Int64)).collect()?;
    let extra: Vec<String> = snapshots
        .get_column_names()
        .into_iter()
        .filter(|c| c.as_str() != "interview_id" && c.as_str() != "cutoff")
        .map(|c| c.to_string())
        .collect();
    let keyed = snapshots
        .clone()
        .lazy()
        .with_row_index("snap_idx", None)
        .join(keys.lazy(), [col("interview_id")], [col("interview_id")], JoinArgs::new(JoinType::Inner))
        .filter(col("cutoff").is_not_null())
        .select([col("snap_idx"), col("iv_idx"), col("cutoff")])
        .collect()?;
    let mut rows: Vec<(u32, Snap)> = keyed
        .column("snap_idx")?
        .idx()?
        .iter()
        .zip(keyed.column("iv_idx")?.u32()?.iter())
        .zip(keyed.column("cutoff")?.i64()?.iter())
        .filter_map(|((s, i), c)| Some((s?, Snap { interview: i?, cutoff: c? })))
        .collect();
    rows.sort_by_key(|(s, snap)| (facts.id_rank[snap.interview as usize], snap.cutoff, *s));

    let mut wanted = vec![false; facts.len()];
    // Each candidate's interviews are marked once, however many snapshots they have
    // (a placeholder id shared by 100 k interviews must not cost 100 k² steps).
    let mut candidate_done = std::collections::HashSet::new();
    for (_, snap) in &rows {
        let i = snap.interview as usize;
        if candidate_done.insert(facts.candidate[i]) {
            for &j in facts.same_candidate(i) {
                wanted[j as usize] = true;
            }
        }
        wanted[i] = true;
    }
    facts.load_events(events, Some(&wanted))?;

    let snaps: Vec<Snap> = rows.iter().map(|r| r.1).collect();
    let mut df = features_of(&facts, &snaps, settings)?;
    if !extra.is_empty() {
        // The caller's own columns, in its order, right after `cutoff`.
        let order = IdxCa::from_vec("".into(), rows.iter().map(|r| r.0).collect());
        let taken = snapshots.select(extra)?.take(&order)?;
        for (k, column) in taken.columns().iter().enumerate() {
            df.insert_column(2 + k, column.clone())?;
        }
    }
    Ok(df)
}

/// Features of `snaps`, in their order: `interview_id`, `cutoff`, `candidate_id`,
/// `scheduled_at_us`, `invited_at_us`, the numeric features, the categorical ones. The
/// facts must hold the events of the snapshots' interviews and their candidates'.
pub fn features_of(facts: &Facts, snaps: &[Snap], settings: FeatureSettings) -> PolarsResult<DataFrame> {
    let n = snaps.len();
    let priors = PriorIndex::build(facts, settings.grace_minutes);
    let priors = &priors;
    // Snapshots are independent: contiguous chunks on every core, joined in order.
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).clamp(1, 8);
    let chunk = n.div_ceil(threads).max(1024);
    let parts: Vec<Computed> = std::thread::scope(|scope| {
        let handles: Vec<_> = snaps.chunks(chunk).map(|part| scope.spawn(move || compute(facts, priors, part, settings))).collect();
        // A panic in a worker is a bug here, not bad input: pass it on.
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    let mut all = Computed::with_capacity(n);
    for part in parts {
        all.append(part);
    }
    let Computed { numeric, log_hours, mut weekday, mut daypart } = all;

    let order = IdxCa::from_vec("".into(), snaps.iter().map(|s| s.interview).collect());
    let carried = facts.carried.take(&order)?;
    let mut columns: Vec<Column> = vec![
        carried.column("interview_id")?.clone(),
        Column::new("cutoff".into(), snaps.iter().map(|s| s.cutoff).collect::<Vec<i64>>()),
        carried.column("candidate_id")?.clone(),
        carried.column("scheduled_at_us")?.clone(),
        carried.column("invited_at_us")?.clone(),
    ];
    let mut numeric = numeric.into_iter();
    let mut log_hours = log_hours.into_iter();
    for feature in NUMERIC_FEATURES {
        let column = match feature.kind {
            Kind::LogHours => Column::new(feature.name.into(), log_hours.next().unwrap_or_default()),
            _ => Column::new(feature.name.into(), numeric.next().unwrap_or_default()),
        };
        columns.push(column);
    }
    let unknown = |name: &str| col(name).fill_null(lit("unknown"));
    let mut selected = vec![
        col("role"),
        col("region"),
        unknown("education"),
        when(col("fresh_graduate").is_null())
            .then(lit("unknown"))
            .otherwise(when(col("fresh_graduate")).then(lit("yes")).otherwise(lit("no")))
            .alias("fresh_graduate"),
        unknown("source"),
        unknown("preferred_channel"),
    ];
    // Extra feature columns (text), after the built-in ones; empty = `unknown`.
    selected.extend(facts.extra.iter().map(|c| unknown(c)));
    let categorical = carried.lazy().select(selected).collect()?;
    for (name, _) in CATEGORICAL_FEATURES {
        columns.push(match *name {
            "slot_weekday" => Column::new("slot_weekday".into(), std::mem::take(&mut weekday)),
            "slot_daypart" => Column::new("slot_daypart".into(), std::mem::take(&mut daypart)),
            other => categorical.column(other)?.clone(),
        });
    }
    for name in &facts.extra {
        columns.push(categorical.column(name)?.clone());
    }
    DataFrame::new(n, columns)
}

/// Feature values of a run of snapshots, column by column.
struct Computed {
    numeric: Vec<Vec<f64>>,
    log_hours: Vec<Vec<Option<f64>>>,
    weekday: Vec<&'static str>,
    daypart: Vec<&'static str>,
}

impl Computed {
    fn with_capacity(n: usize) -> Computed {
        Computed {
            numeric: (0..16).map(|_| Vec::with_capacity(n)).collect(),
            log_hours: (0..3).map(|_| Vec::with_capacity(n)).collect(),
            weekday: Vec::with_capacity(n),
            daypart: Vec::with_capacity(n),
        }
    }

    fn append(&mut self, mut other: Computed) {
        self.numeric.iter_mut().zip(&mut other.numeric).for_each(|(a, b)| a.append(b));
        self.log_hours.iter_mut().zip(&mut other.log_hours).for_each(|(a, b)| a.append(b));
        self.weekday.append(&mut other.weekday);
        self.daypart.append(&mut other.daypart);
    }
}

fn compute(facts: &Facts, priors: &PriorIndex, snaps: &[Snap], settings: FeatureSettings) -> Computed {
    let mut out = Computed::with_capacity(snaps.len());
    for snap in snaps {
        let f = snapshot_features(facts, priors, *snap, settings.grace_minutes);
        for (column, value) in out.numeric.iter_mut().zip(f.numeric) {
            column.push(value);
        }
        for (column, value) in out.log_hours.iter_mut().zip(f.log_hours) {
            column.push(value);
        }
        let slot = facts.slot[snap.interview as usize];
        let (wd, hour) = time::local_weekday_hour(slot.unwrap_or_default(), settings.tz);
        out.weekday.push(["mon", "tue", "wed", "thu", "fri", "sat", "sun"][(wd.clamp(1, 7) - 1) as usize]);
        out.daypart.push(match hour {
            0..=7 => "night",
            8..=11 => "morning",
            12..=17 => "afternoon",
            _ => "evening",
        });
    }
    out
}

/// A candidate's other interviews closed by `cutoff`, by outcome as known at the
/// cutoff (the derived-status rule applied at the cutoff): (no-shows, candidate
/// cancellations, attended), by walking the candidate's interviews.
fn prior_counts_walk(facts: &Facts, i: usize, cutoff: i64, grace: i64) -> (u32, u32, u32) {
    let (mut no_shows, mut cancels, mut attended) = (0u32, 0u32, 0u32);
    for &j in facts.same_candidate(i) {
        let j = j as usize;
        if j == i {
            continue;
        }
        match outcome_at(facts, j, cutoff, grace) {
            Some(Status::NoShow) => no_shows += 1,
            Some(Status::CancelledByCandidate) => cancels += 1,
            Some(Status::Attended) => attended += 1,
            _ => {}
        }
    }
    (no_shows, cancels, attended)
}

/// Interview `j`'s outcome as known at `cutoff`, if it was closed by then.
fn outcome_at(facts: &Facts, j: usize, cutoff: i64, grace: i64) -> Option<Status> {
    let slot = facts.slot[j]?;
    if slot + grace > cutoff {
        return None;
    }
    Some(match facts.status[j] {
        Status::Scheduled if facts.first_join[j].is_some_and(|t| t <= cutoff) => Status::Attended,
        Status::Scheduled => Status::NoShow,
        other => other,
    })
}

/// Candidates with more interviews than this get sorted times ([`GroupTimes`]);
/// smaller ones are walked.
const LARGE_GROUP: usize = 32;

/// Sorted times of the large candidate groups (a placeholder id such as `N/A` shared by
/// thousands of interviews), so one snapshot's prior counts take a few binary
/// searches instead of a walk over the whole group: linear-logarithmic, not quadratic.
struct PriorIndex {
    groups: HashMap<u32, GroupTimes>,
}

/// For one candidate, each time sorted: when an interview of each final status became
/// closed (slot + grace), and for interviews still `scheduled` in the lake, also when
/// they became known as attended (the later of closing and first join).
#[derive(Default)]
struct GroupTimes {
    no_show: Vec<i64>,
    cancel: Vec<i64>,
    attended: Vec<i64>,
    open: Vec<i64>,
    open_joined: Vec<i64>,
}

impl PriorIndex {
    fn build(facts: &Facts, grace_minutes: i64) -> PriorIndex {
        let grace = grace_minutes * MICROS_PER_MINUTE;
        let mut groups = HashMap::new();
        for (c, members) in facts.candidate_groups() {
            if members.len() <= LARGE_GROUP {
                continue;
            }
            let mut g = GroupTimes::default();
            for &j in members {
                let j = j as usize;
                let Some(slot) = facts.slot[j] else { continue };
                let closed = slot + grace;
                match facts.status[j] {
                    Status::NoShow => g.no_show.push(closed),
                    Status::CancelledByCandidate => g.cancel.push(closed),
                    Status::Attended => g.attended.push(closed),
                    Status::Scheduled => {
                        g.open.push(closed);
                        if let Some(join) = facts.first_join[j] {
                            g.open_joined.push(closed.max(join));
                        }
                    }
                    _ => {}
                }
            }
            for v in [&mut g.no_show, &mut g.cancel, &mut g.attended, &mut g.open, &mut g.open_joined] {
                v.sort_unstable();
            }
            groups.insert(c, g);
        }
        PriorIndex { groups }
    }
}

impl GroupTimes {
    /// The same counts as [`prior_counts_walk`].
    fn counts(&self, facts: &Facts, i: usize, cutoff: i64, grace: i64) -> (u32, u32, u32) {
        let upto = |v: &[i64]| v.partition_point(|&t| t <= cutoff) as u32;
        let open_attended = upto(&self.open_joined);
        let mut no_shows = upto(&self.no_show) + upto(&self.open) - open_attended;
        let mut cancels = upto(&self.cancel);
        let mut attended = upto(&self.attended) + open_attended;
        // The interview itself is not its own history.
        match outcome_at(facts, i, cutoff, grace) {
            Some(Status::NoShow) => no_shows -= 1,
            Some(Status::CancelledByCandidate) => cancels -= 1,
            Some(Status::Attended) => attended -= 1,
            _ => {}
        }
        (no_shows, cancels, attended)
    }
}

/// One snapshot's numeric features: the non-log ones in [`NUMERIC_FEATURES`] order,
/// and the three log-hours ones (null where a time is missing).
struct SnapshotFeatures {
    numeric: [f64; 16],
    log_hours: [Option<f64>; 3],
}

fn snapshot_features(facts: &Facts, priors: &PriorIndex, snap: Snap, grace_minutes: i64) -> SnapshotFeatures {
    let i = snap.interview as usize;
    let cutoff = snap.cutoff;
    let day_before = cutoff - 24 * MICROS_PER_HOUR;
    let preferred = facts.preferred_channel[i];
    let (mut delivered, mut read, mut jd, mut intro, mut click, mut click_24h) = (0u32, 0u32, 0u32, 0u32, 0u32, 0u32);
    let (mut errors, mut questionnaire, mut reschedules, mut reminders, mut on_preferred) = (0u32, 0u32, 0u32, 0u32, 0u32);
    let mut reminder_channels: Vec<u32> = Vec::new();
    let mut first_confirm: Option<i64> = None;
    for e in facts.events(i).filter(|e| e.ts <= cutoff) {
        match e.kind {
            EventType::MessageDelivered => delivered += 1,
            EventType::MessageRead => read += 1,
            EventType::JdViewed => jd += 1,
            EventType::CompanyIntroViewed => intro += 1,
            EventType::LinkClicked => {
                click += 1;
                if e.ts > day_before {
                    click_24h += 1;
                }
            }
            EventType::LinkError => errors += 1,
            EventType::QuestionnaireCompleted => questionnaire += 1,
            EventType::RescheduleRequested => reschedules += 1,
            EventType::ReminderSent => {
                reminders += 1;
                if e.channel != facts::NONE {
                    if !reminder_channels.contains(&e.channel) {
                        reminder_channels.push(e.channel);
                    }
                    if e.channel == preferred {
                        on_preferred += 1;
                    }
                }
            }
            EventType::Confirmed => first_confirm = Some(first_confirm.map_or(e.ts, |f| f.min(e.ts))),
            // Joins and cancel requests count through `Facts::first_join` and
            // `first_cancel_request`; other types are not read (`facts::read_by_features`).
            _ => {}
        }
    }

    // The candidate's other interviews closed by the cutoff, with their outcome as
    // known at the cutoff (the derived-status rule applied at the cutoff).
    let grace = grace_minutes * MICROS_PER_MINUTE;
    let (prior_no_shows, prior_cancels, prior_attended) = match priors.groups.get(&facts.candidate[i]) {
        Some(group) => group.counts(facts, i, cutoff, grace),
        None => prior_counts_walk(facts, i, cutoff, grace),
    };

    let hours = |a: i64, b: i64| (a - b) as f64 / MICROS_PER_HOUR as f64;
    let log1p = |h: f64| h.max(0.0).ln_1p();
    let (slot, invited) = (facts.slot[i], facts.invited[i]);
    // Confirmations before the invitation (clock skew) count as instant.
    let hours_to_confirm = match (first_confirm, invited) {
        (Some(c), Some(inv)) => hours(c, inv).max(0.0),
        _ => 0.0,
    };
    let lead_time = slot.zip(invited).map(|(s, inv)| log1p(hours(s, inv).max(0.0)));
    let hours_left = slot.map(|s| log1p(hours(s, cutoff).max(0.0)));
    let flag = |count: u32| f64::from(u8::from(count > 0));
    SnapshotFeatures {
        numeric: [
            flag(delivered),
            flag(read),
            flag(jd),
            flag(intro),
            flag(click),
            flag(click_24h),
            f64::from(errors),
            flag(questionnaire),
            flag(u32::from(first_confirm.is_some())),
            f64::from(reschedules),
            f64::from(reminders),
            reminder_channels.len() as f64,
            flag(on_preferred),
            f64::from(prior_no_shows),
            f64::from(prior_cancels),
            f64::from(prior_attended),
        ],
        log_hours: [Some(log1p(hours_to_confirm)), lead_time, hours_left],
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::derive::micros;
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
    fn a_placeholder_candidate_id_gives_the_reference_history_counts() {
        // 300 of 600 interviews share one candidate id (an export's `N/A`): that group
        // goes through the sorted-times index, the others through the walk.
        let mut lake = synth::synth_lake(600, 6, as_of(), 5).unwrap();
        let cands: Vec<String> = lake
            .interviews
            .column("candidate_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, c)| if i % 2 == 0 { "N/A".to_string() } else { c.unwrap_or("").to_string() })
            .collect();
        lake.interviews.replace("candidate_id", Column::new("candidate_id".into(), cands)).unwrap();
        let ids = lake.interviews.column("interview_id").unwrap().clone();
        let mut parts = Vec::new();
        for days_back in [20i64, 6, 1, 0] {
            let cutoff = as_of() - days_back * 24 * MICROS_PER_HOUR + 3 * MICROS_PER_MINUTE;
            parts.push(DataFrame::new_infer_height(vec![ids.clone()]).unwrap().lazy().with_columns([lit(cutoff).alias("cutoff")]));
        }
        let snapshots = concat(parts, UnionArgs::default()).unwrap();
        let fast = build(lake.interviews.clone().lazy(), lake.events.clone().lazy(), snapshots.clone(), SETTINGS).unwrap();
        let slow = reference::build(lake.interviews.clone().lazy(), lake.events.clone().lazy(), snapshots, SETTINGS).unwrap();
        assert_eq!(fast.height(), 4 * 600);
        for name in ["prior_no_shows", "prior_candidate_cancels", "prior_attended"] {
            let (a, b) = (fast.column(name).unwrap(), slow.column(name).unwrap());
            assert!(a.as_materialized_series().equals_missing(b.as_materialized_series()), "{name} differs");
            let big = a.f64().unwrap().iter().filter(|v| v.unwrap_or(0.0) >= 3.0).count();
            assert!(big > 100, "{name}: the shared id should give long histories ({big})");
        }
    }

    #[test]
    fn indexed_builder_matches_the_polars_join_reference() {
        // Several cutoffs per interview (as training makes them), a carried column, and
        // snapshots of an interview the lake does not hold (dropped by both).
        let lake = synth::synth_lake(500, 6, as_of(), 3).unwrap();
        let ids = lake.interviews.column("interview_id").unwrap().clone();
        let mut parts = Vec::new();
        for (k, days_back) in [30i64, 12, 4, 0, -2].into_iter().enumerate() {
            let cutoff = as_of() - days_back * 24 * MICROS_PER_HOUR + 7 * MICROS_PER_MINUTE;
            parts.push(
                DataFrame::new_infer_height(vec![ids.clone()])
                    .unwrap()
                    .lazy()
                    .with_columns([lit(cutoff).alias("cutoff"), lit(k as f64).alias("horizon_hours")]),
            );
        }
        parts.push(df!("interview_id" => ["not-in-lake"], "cutoff" => [as_of()], "horizon_hours" => [9.0]).unwrap().lazy());
        let snapshots = concat(parts, UnionArgs::default()).unwrap();
        let fast = build(lake.interviews.clone().lazy(), lake.events.clone().lazy(), snapshots.clone(), SETTINGS).unwrap();
        let slow = reference::build(lake.interviews.clone().lazy(), lake.events.clone().lazy(), snapshots, SETTINGS).unwrap();
        assert_eq!(fast.height(), 5 * 500);
        assert_eq!(fast.get_column_names(), slow.get_column_names());
        for name in slow.get_column_names() {
            let (a, b) = (fast.column(name).unwrap(), slow.column(name).unwrap());
            assert_eq!(a.dtype(), b.dtype(), "{name}");
            if let (Ok(x), Ok(y)) = (a.f64(), b.f64()) {
                // Polars may evaluate `hours / 3600e6` as a product with the reciprocal:
                // the last bit can differ, nothing more.
                for (i, (x, y)) in x.iter().zip(y.iter()).enumerate() {
                    match (x, y) {
                        (Some(x), Some(y)) => assert!((x - y).abs() <= 1e-12 * y.abs().max(1.0), "{name} row {i}: {x} vs {y}"),
                        (x, y) => assert_eq!(x, y, "{name} row {i}"),
                    }
                }
            } else {
                assert!(a.as_materialized_series().equals_missing(b.as_materialized_series()), "{name} differs");
            }
        }
        let nonzero = |name: &str| fast.column(name).unwrap().f64().unwrap().iter().filter(|v| v.unwrap_or(0.0) > 0.0).count();
        for name in ["prior_attended", "link_clicked_last_24h", "reminder_on_preferred_channel", "reminder_channels", "link_errors"] {
            assert!(nonzero(name) > 5, "the case should exercise {name}");
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
