//! A small deterministic synthetic lake (interviews + events DataFrames with the lake
//! schema) whose true probability of not attending is known, for the unit and
//! integration tests of features, model and scoring. Not a substitute for
//! `noshow generate`: it writes no raw logs, only lake-shaped frames. Not part of the
//! library's API (`#[doc(hidden)]`): only noshow's own tests may use it.
//!
//! Behavioural events (delivery, reading, job description, introduction, link,
//! questionnaire, confirmation) all happen within 12 hours of the invitation and the
//! lead time is at least 48 hours, so at a 24-hour horizon the true probability is a
//! function of what the features see: the best any model can do.

use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::fit::sigmoid;
use crate::time::{Micros, MICROS_PER_HOUR, MICROS_PER_MINUTE};

/// The synthetic lake and each interview's true probability of not attending.
pub struct SynthLake {
    pub interviews: DataFrame,
    pub events: DataFrame,
    /// (interview_id, true probability of a no-show or candidate cancellation).
    pub truth: Vec<(String, f64)>,
}

const ROLES: &[&str] = &["software_engineer", "sales", "销售", "operations"];
const REGIONS: &[&str] = &["华东", "north", "south"];
const EDUCATION: &[Option<&str>] = &[Some("bachelor"), Some("master"), Some("high_school"), None];
const SOURCES: &[&str] = &["campus", "referral", "job_board"];
const CHANNELS: &[&str] = &["sms", "email", "wechat", "app"];

fn utc(name: &str, values: Vec<Option<i64>>) -> PolarsResult<Column> {
    Column::new(name.into(), values).cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)))
}

/// `n` interviews with slots spread over the `weeks` weeks before `as_of` and the
/// week after it (those stay `scheduled`).
pub fn synth_lake(n: usize, weeks: i64, as_of: Micros, seed: u64) -> PolarsResult<SynthLake> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start = as_of - weeks * 7 * 24 * MICROS_PER_HOUR;
    let span = as_of + 7 * 24 * MICROS_PER_HOUR - start;
    let n_candidates = (n * 3 / 4).max(1);

    let mut iv: Vec<[Option<String>; 8]> = Vec::with_capacity(n);
    let (mut invited, mut slots, mut updated) = (Vec::new(), Vec::new(), Vec::new());
    let mut fresh = Vec::new();
    let mut truth = Vec::with_capacity(n);
    let mut ev: Vec<(String, String, i64, &'static str, Option<&'static str>, Option<String>)> = Vec::new();

    for i in 0..n {
        let id = format!("iv{i:06}");
        let candidate = format!("cand{:05}", rng.random_range(0..n_candidates));
        let role = ROLES[rng.random_range(0..ROLES.len())];
        let region = REGIONS[rng.random_range(0..REGIONS.len())];
        let education = EDUCATION[rng.random_range(0..EDUCATION.len())];
        let source = SOURCES[rng.random_range(0..SOURCES.len())];
        let channel = CHANNELS[rng.random_range(0..CHANNELS.len())];
        let is_fresh = rng.random_bool(0.3);
        // Slots on the hour, between 8:00 and 20:00 UTC.
        let day = (start + rng.random_range(0..span)) / (24 * MICROS_PER_HOUR);
        let slot = day * 24 * MICROS_PER_HOUR + rng.random_range(8..20) * MICROS_PER_HOUR;
        let lead_hours = rng.random_range(48..240);
        let invite = slot - lead_hours * MICROS_PER_HOUR;

        let delivered = rng.random_bool(0.9);
        let read = delivered && rng.random_bool(0.75);
        let jd = rng.random_bool(0.6);
        let intro = rng.random_bool(0.5);
        let clicked = rng.random_bool(0.5);
        let link_error = clicked && rng.random_bool(0.15);
        let questionnaire = rng.random_bool(0.5);
        let confirmed = rng.random_bool(0.8);
        let logit = 0.4 - 0.9 * f64::from(u8::from(jd)) - 0.5 * f64::from(u8::from(intro))
            - 0.8 * f64::from(u8::from(read)) - 0.9 * f64::from(u8::from(confirmed))
            + 1.2 * f64::from(u8::from(link_error)) - 0.3 * f64::from(u8::from(questionnaire))
            + if role == "sales" { 0.5 } else { 0.0 }
            + if is_fresh { 0.4 } else { 0.0 };
        let p = sigmoid(logit);

        let mut push = |ts: i64, kind: &'static str, ch: Option<&'static str>, detail: Option<&str>| {
            ev.push((format!("{id}-{kind}-{ts}"), id.clone(), ts, kind, ch, detail.map(String::from)));
        };
        push(invite, "invite_sent", Some(channel), None);
        if delivered {
            push(invite + MICROS_PER_HOUR, "message_delivered", Some(channel), None);
        }
        if read {
            push(invite + 2 * MICROS_PER_HOUR, "message_read", Some(channel), None);
        }
        if jd {
            push(invite + 3 * MICROS_PER_HOUR, "jd_viewed", None, None);
        }
        if intro {
            push(invite + 4 * MICROS_PER_HOUR, "company_intro_viewed", None, None);
        }
        if clicked {
            push(invite + 5 * MICROS_PER_HOUR, "link_clicked", None, None);
        }
        if link_error {
            push(invite + 5 * MICROS_PER_HOUR + MICROS_PER_MINUTE, "link_error", None, Some("link_expired"));
        }
        if questionnaire {
            push(invite + 6 * MICROS_PER_HOUR, "questionnaire_completed", None, None);
        }
        if confirmed {
            push(invite + rng.random_range(1..12) * MICROS_PER_HOUR, "confirmed", None, None);
        }
        if lead_hours > 72 {
            push(slot - 72 * MICROS_PER_HOUR, "reminder_sent", Some(channel), Some("-3d"));
        }
        // After a 24-hour cutoff: the point-in-time rule must not see these.
        push(slot - 2 * MICROS_PER_HOUR, "reminder_sent", Some("sms"), Some("-2h"));
        push(slot - 30 * MICROS_PER_MINUTE, "link_clicked", None, None);

        let company_cancel = rng.random_bool(0.04);
        let not_attend = rng.random_bool(p);
        let past = slot < as_of;
        let status = if !past {
            "scheduled"
        } else if company_cancel {
            "cancelled_by_company"
        } else if not_attend {
            if rng.random_bool(0.6) { "no_show" } else { "cancelled_by_candidate" }
        } else {
            push(slot + 2 * MICROS_PER_MINUTE, "joined", None, None);
            // Some HR exports lag: an attended interview still recorded `scheduled`,
            // which the derived-status rule closes.
            if rng.random_bool(0.1) { "scheduled" } else { "attended" }
        };
        truth.push((id.clone(), p));
        iv.push([
            Some(id.clone()),
            Some(candidate),
            Some(role.to_string()),
            Some(region.to_string()),
            education.map(String::from),
            Some(source.to_string()),
            Some(channel.to_string()),
            Some(status.to_string()),
        ]);
        invited.push(Some(invite));
        slots.push(Some(slot));
        updated.push(Some(slot.min(as_of)));
        fresh.push(Some(is_fresh));
    }

    let text = |k: usize| -> Vec<Option<String>> { iv.iter().map(|r| r[k].clone()).collect() };
    let n_rows = iv.len();
    let interviews = DataFrame::new_infer_height(vec![
        Column::new("interview_id".into(), text(0)),
        Column::new("candidate_id".into(), text(1)),
        Column::new("role".into(), text(2)),
        Column::new("region".into(), text(3)),
        Column::new("education".into(), text(4)),
        Column::new("fresh_graduate".into(), fresh),
        Column::new("source".into(), text(5)),
        Column::new("preferred_channel".into(), text(6)),
        utc("invited_at", invited)?,
        utc("scheduled_at", slots)?,
        Column::new("status".into(), text(7)),
        Column::new("cause".into(), vec![None::<String>; n_rows]),
        Column::new("no_show_grade".into(), vec![None::<String>; n_rows]),
        Column::new("cost".into(), vec![None::<f64>; n_rows]),
        utc("updated_at", updated)?,
        Column::new("origin_file".into(), vec!["synth.csv".to_string(); n_rows]),
        Column::new("origin_line".into(), (2..n_rows as u64 + 2).collect::<Vec<u64>>()),
    ])?;

    let m = ev.len();
    let events = DataFrame::new_infer_height(vec![
        Column::new("event_id".into(), ev.iter().map(|e| e.0.clone()).collect::<Vec<_>>()),
        Column::new("interview_id".into(), ev.iter().map(|e| e.1.clone()).collect::<Vec<_>>()),
        utc("ts", ev.iter().map(|e| Some(e.2)).collect())?,
        Column::new("type".into(), ev.iter().map(|e| e.3.to_string()).collect::<Vec<_>>()),
        Column::new("channel".into(), ev.iter().map(|e| e.4.map(String::from)).collect::<Vec<_>>()),
        Column::new("detail".into(), ev.iter().map(|e| e.5.clone()).collect::<Vec<_>>()),
        Column::new("origin_file".into(), vec!["synth.jsonl".to_string(); m]),
        Column::new("origin_line".into(), (1..m as u64 + 1).collect::<Vec<u64>>()),
    ])?;
    Ok(SynthLake { interviews, events, truth })
}

