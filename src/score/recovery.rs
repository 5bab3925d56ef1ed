//! The daily recovery worklist: recent no-shows and candidate cancellations that have
//! no re-invitation yet, with the recorded cause and grade and a suggested next step,
//! so HR can win these candidates back. It is a list of people to help back, never a
//! list to penalise: no "reliability" score of anyone is computed or written.
//!
//! Rules: a miss is an interview closed as `no_show` (the derived-status rule
//! applies) or `cancelled_by_candidate`, with its slot in the `days` before as-of and
//! no `reinvite_sent` event up to as-of. The next step follows the cause:
//! technical trouble → `technical_check_and_reinvite`; messages never read or an
//! `unreachable` grade → `reinvite_on_another_channel`; a schedule conflict or an
//! emergency → `offer_another_slot`; a role mismatch or another job found →
//! `ask_before_reinviting`; anything else → `reinvite`.

use polars::prelude::*;

use crate::analytics::{self, Settings};
use crate::derive::micros;
use crate::time::{Micros, MICROS_PER_DAY};

/// The worklist's columns, in order.
pub const COLUMNS: &[&str] = &[
    "interview_id", "candidate_id", "role", "region", "preferred_channel", "scheduled_at", "outcome", "cause",
    "no_show_grade", "next_step",
];

/// The next steps and their rule, for the feed's summary.
pub const NEXT_STEPS: &str = "technical_check_and_reinvite where the cause was technical (link, camera, network, \
device); reinvite_on_another_channel where messages were never read or HR graded the miss unreachable; \
offer_another_slot after a schedule conflict or an emergency; ask_before_reinviting after a role mismatch or another \
job found; otherwise reinvite";

fn next_step(cause: Option<&str>, grade: Option<&str>, read: bool) -> &'static str {
    let cause = cause.unwrap_or("").to_lowercase();
    let technical = ["techn", "link", "camera", "network", "device", "audio", "microphone"].iter().any(|k| cause.contains(k));
    if technical {
        "technical_check_and_reinvite"
    } else if !read || grade.is_some_and(|g| g.eq_ignore_ascii_case("unreachable")) {
        "reinvite_on_another_channel"
    } else if cause.contains("schedule") || cause.contains("conflict") || cause.contains("emergency") {
        "offer_another_slot"
    } else if cause.contains("mismatch") || cause.contains("another_job") || cause.contains("found_another") {
        "ask_before_reinviting"
    } else {
        "reinvite"
    }
}

/// The worklist as of `as_of` (misses of the last `days` days).
/// `events_of(ids)` gives the events of those interviews.
pub fn worklist(
    interviews: LazyFrame,
    events_of: &dyn Fn(&[&str]) -> anyhow::Result<LazyFrame>,
    as_of: Micros,
    tz: chrono_tz::Tz,
    grace_minutes: i64,
    days: f64,
) -> anyhow::Result<DataFrame> {
    let start = as_of - (days * MICROS_PER_DAY as f64).round() as i64;
    let recent = interviews.filter(micros("scheduled_at").gt_eq(lit(start)).and(micros("scheduled_at").lt(lit(as_of))));
    let ids = recent.clone().select([col("interview_id")]).collect()?;
    let wanted: Vec<&str> = ids.column("interview_id")?.str()?.iter().flatten().collect();
    let events = events_of(&wanted)?;
    let settings = Settings { as_of, tz, grace_minutes, suppression_threshold: 0, cuts: Vec::new() };
    let closed = analytics::closed_interviews(recent, events, &settings)?
        .filter(
            col("status")
                .eq(lit("no_show"))
                .or(col("status").eq(lit("cancelled_by_candidate")))
                .and(col("reinvite_sent").not()),
        )
        .sort_by_exprs([col("scheduled_at"), col("interview_id")], SortMultipleOptions::default().with_order_descending_multi([true, false]))
        .collect()?;
    let cause = closed.column("cause")?.str()?.clone();
    let grade = closed.column("no_show_grade")?.str()?.clone();
    let read = closed.column("ev_read")?.bool()?.clone();
    let steps: Vec<&str> = (0..closed.height()).map(|i| next_step(cause.get(i), grade.get(i), read.get(i).unwrap_or(false))).collect();
    let mut out = closed.select(["interview_id", "candidate_id", "role", "region", "preferred_channel", "scheduled_at", "status", "cause", "no_show_grade"])?;
    out.rename("status", "outcome".into())?;
    out.with_column(Column::new("next_step".into(), steps))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_steps_follow_the_cause() {
        assert_eq!(next_step(Some("technical_issue"), None, true), "technical_check_and_reinvite");
        assert_eq!(next_step(Some("forgot"), None, false), "reinvite_on_another_channel");
        assert_eq!(next_step(None, Some("unreachable"), true), "reinvite_on_another_channel");
        assert_eq!(next_step(Some("schedule_conflict"), None, true), "offer_another_slot");
        assert_eq!(next_step(Some("found_another_job"), None, true), "ask_before_reinviting");
        assert_eq!(next_step(Some("forgot"), Some("no_reason"), true), "reinvite");
    }
}
