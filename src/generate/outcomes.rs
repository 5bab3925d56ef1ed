//! Playing the reminder system: the outcomes of the interviews published feeds scored,
//! with a known effect of the help, as a later export in format v1
//! (`noshow generate --outcomes-for FEED`, docs/generator.md).
//!
//! The rule, per interview (its feeds must all agree on its arm, which the sticky
//! draw guarantees):
//! - its band and action are those of the **last feed before its slot** (the one the
//!   reminder system acted on last), as `help_effect` reads them;
//! - its base miss probability is the generator's ground truth when given, else the
//!   feed's `p_not_attend`;
//! - a helped interview (arm `help`) in one of the helped bands misses with
//!   probability `base × (1 − effect)`; every other interview, the held-out ones
//!   included, with `base`;
//! - a miss is a no-show or a candidate cancellation (split by the truth's shares when
//!   given, else two no-shows to one cancellation); the rest attended, with a `joined`
//!   event.
//!
//! Each interview's draws come from its own seeded stream (the seed and a hash of its
//! id), so the outcomes depend on the seed and the interviews only, never on order.
//! Pure: rows in, rows and text out; `cmd::generate_outcomes` reads and writes.

use std::collections::HashMap;
use std::fmt::Write as _;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::time::{format_utc, Micros, MICROS_PER_HOUR, MICROS_PER_MINUTE};

/// One row of a published feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRow {
    pub interview_id: String,
    /// The feed's as-of.
    pub as_of: Micros,
    pub risk_band: String,
    pub suggested_action: String,
    pub holdout: bool,
    pub p_not_attend: f64,
}

/// An interview as the lake holds it: the fields copied into the export.
#[derive(Debug, Clone, PartialEq)]
pub struct LakeInterview {
    pub interview_id: String,
    /// candidate_id, role, region, education, fresh_graduate, source, preferred_channel.
    pub fields: [String; 7],
    pub invited_at: Micros,
    pub scheduled_at: Micros,
    pub cost: Option<f64>,
}

/// The generator's ground truth for one interview.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrueRisk {
    pub p_not_attend: f64,
    /// Of the misses, the share that are no-shows (the rest candidate cancellations).
    pub no_show_share: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeSettings {
    pub seed: u64,
    /// Share of the miss probability the help removes (0.3: 30 % fewer misses).
    pub effect: f64,
    /// Bands whose helped interviews get the effect.
    pub bands: Vec<String>,
    /// The export's instant: slots at or after it stay open (not written).
    pub export_at: Micros,
}

/// What happened to one interview, and why (the ground truth of the outcomes).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub interview_id: String,
    pub feed_as_of: Micros,
    pub risk_band: String,
    pub suggested_action: String,
    pub holdout: bool,
    /// The feed's probability (the model's).
    pub p_feed: f64,
    pub p_base: f64,
    pub p_miss: f64,
    /// Whether the effect was applied.
    pub helped: bool,
    pub status: &'static str,
}

/// Ground-truth CSV header for [`truth_csv`].
pub const TRUTH_HEADER: &str = "interview_id,feed_as_of,risk_band,suggested_action,arm,p_not_attend,p_base,p_miss,helped,status";

/// Each interview's last feed row before its slot (`slots` by id; interviews not in
/// the lake, or scored only at or after their slot, have none).
pub fn last_before_slot(rows: &[FeedRow], slots: &HashMap<String, Micros>) -> Vec<FeedRow> {
    let mut last: HashMap<&str, &FeedRow> = HashMap::new();
    for r in rows {
        let Some(&slot) = slots.get(&r.interview_id) else { continue };
        if r.as_of < slot && last.get(r.interview_id.as_str()).is_none_or(|l| l.as_of < r.as_of) {
            last.insert(&r.interview_id, r);
        }
    }
    let mut out: Vec<FeedRow> = last.into_values().cloned().collect();
    out.sort_by(|a, b| a.interview_id.cmp(&b.interview_id));
    out
}

/// The outcome of one interview (its last feed row before the slot).
pub fn outcome(row: &FeedRow, truth: Option<TrueRisk>, s: &OutcomeSettings) -> Outcome {
    let p_base = truth.map_or(row.p_not_attend, |t| t.p_not_attend).clamp(0.0, 1.0);
    let helped = !row.holdout && s.bands.iter().any(|b| *b == row.risk_band);
    let p_miss = if helped { p_base * (1.0 - s.effect) } else { p_base };
    let key = xxhash_rust::xxh3::xxh3_64_with_seed(row.interview_id.as_bytes(), s.seed);
    let mut rng = ChaCha8Rng::seed_from_u64(key);
    let (u, v): (f64, f64) = (rng.random(), rng.random());
    let status = if u < p_miss {
        if v < truth.map_or(2.0 / 3.0, |t| t.no_show_share) { "no_show" } else { "cancelled_by_candidate" }
    } else {
        "attended"
    };
    Outcome {
        interview_id: row.interview_id.clone(),
        feed_as_of: row.as_of,
        risk_band: row.risk_band.clone(),
        suggested_action: row.suggested_action.clone(),
        holdout: row.holdout,
        p_feed: row.p_not_attend,
        p_base,
        p_miss,
        helped,
        status,
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The later export: interview rows (format v1, with the final status) and events
/// (`joined` for attended interviews, `cancel_requested` before the slot for candidate
/// cancellations), in interview id order.
pub fn export(interviews: &[&LakeInterview], outcomes: &[&Outcome], export_at: Micros) -> (String, String) {
    let mut csv = String::from(super::INTERVIEW_HEADER);
    csv.push('\n');
    let mut jsonl = String::new();
    for (iv, o) in interviews.iter().zip(outcomes) {
        let (cause, grade) = match o.status {
            "no_show" => ("unknown", "no_reason"),
            "cancelled_by_candidate" => ("schedule_conflict", ""),
            _ => ("", ""),
        };
        let updated = (iv.scheduled_at + 2 * MICROS_PER_HOUR).min(export_at);
        let mut row: Vec<String> = vec![csv_field(&iv.interview_id)];
        row.extend(iv.fields.iter().map(|f| csv_field(f)));
        row.extend([
            format_utc(iv.invited_at),
            format_utc(iv.scheduled_at),
            o.status.to_string(),
            cause.to_string(),
            grade.to_string(),
            iv.cost.map(|c| c.to_string()).unwrap_or_default(),
            format_utc(updated),
        ]);
        csv.push_str(&row.join(","));
        csv.push('\n');
        let event = match o.status {
            "attended" => Some(("joined", iv.scheduled_at + MICROS_PER_MINUTE)),
            "cancelled_by_candidate" => Some(("cancel_requested", (iv.scheduled_at - 12 * MICROS_PER_HOUR).max(iv.invited_at))),
            _ => None,
        };
        if let Some((kind, ts)) = event {
            let line = serde_json::json!({
                "event_id": format!("outcome-{}-{kind}", iv.interview_id),
                "interview_id": iv.interview_id,
                "ts": format_utc(ts),
                "type": kind,
            });
            let _ = writeln!(jsonl, "{line}");
        }
    }
    (csv, jsonl)
}

/// The outcomes' ground truth as CSV ([`TRUTH_HEADER`]).
pub fn truth_csv(outcomes: &[&Outcome]) -> String {
    let mut out = String::from(TRUTH_HEADER);
    out.push('\n');
    for o in outcomes {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            csv_field(&o.interview_id),
            format_utc(o.feed_as_of),
            o.risk_band,
            o.suggested_action,
            if o.holdout { "holdout" } else { "help" },
            o.p_feed,
            o.p_base,
            o.p_miss,
            o.helped,
            o.status
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, as_of: Micros, band: &str, holdout: bool, p: f64) -> FeedRow {
        FeedRow { interview_id: id.into(), as_of, risk_band: band.into(), suggested_action: "phone_call".into(), holdout, p_not_attend: p }
    }

    #[test]
    fn the_last_feed_before_the_slot_decides() {
        let rows = vec![row("a", 10, "low", false, 0.1), row("a", 20, "high", false, 0.5), row("a", 30, "medium", false, 0.3), row("b", 40, "high", true, 0.4)];
        let slots: HashMap<String, Micros> = [("a".to_string(), 25), ("b".to_string(), 40)].into_iter().collect();
        let last = last_before_slot(&rows, &slots);
        // a: the feed at 20 (30 is after its slot); b: scored only at its slot.
        assert_eq!(last, vec![rows[1].clone()]);
    }

    #[test]
    fn the_effect_cuts_helped_misses_and_spares_the_holdout() {
        let s = OutcomeSettings { seed: 7, effect: 0.3, bands: vec!["high".into()], export_at: 0 };
        let n = 20_000;
        let misses = |band: &str, holdout: bool| -> (usize, f64) {
            let outs: Vec<Outcome> = (0..n).map(|i| outcome(&row(&format!("iv-{i}"), 0, band, holdout, 0.4), None, &s)).collect();
            let p = outs[0].p_miss;
            (outs.iter().filter(|o| o.status != "attended").count(), p)
        };
        let (helped, p_helped) = misses("high", false);
        let (held, p_held) = misses("high", true);
        let (medium, p_medium) = misses("medium", false);
        assert!((p_helped - 0.28).abs() < 1e-12 && p_held == 0.4 && p_medium == 0.4);
        // Binomial(20 000, p): sd ≈ 70, so ±350 is five sd.
        for (count, p) in [(helped, 0.28), (held, 0.4), (medium, 0.4)] {
            assert!((count as f64 - p * n as f64).abs() < 350.0, "{count} misses, expected {}", p * n as f64);
        }
        // Deterministic for a seed, whatever the order.
        let a = outcome(&row("iv-9", 0, "high", false, 0.4), None, &s);
        assert_eq!(a, outcome(&row("iv-9", 0, "high", false, 0.4), None, &s));
        // The truth's probability replaces the feed's.
        let t = outcome(&row("iv-9", 0, "high", true, 0.4), Some(TrueRisk { p_not_attend: 0.9, no_show_share: 1.0 }), &s);
        assert_eq!((t.p_base, t.p_miss, t.helped), (0.9, 0.9, false));
    }

    #[test]
    fn the_export_is_format_v1() {
        let iv = LakeInterview {
            interview_id: "100".into(),
            fields: ["c1".into(), "sales, east".into(), "north".into(), "".into(), "true".into(), "".into(), "sms".into()],
            invited_at: 0,
            scheduled_at: 100 * MICROS_PER_HOUR,
            cost: Some(12.5),
        };
        let o = Outcome {
            interview_id: "100".into(),
            feed_as_of: 0,
            risk_band: "high".into(),
            suggested_action: "phone_call".into(),
            holdout: false,
            p_feed: 0.5,
            p_base: 0.5,
            p_miss: 0.35,
            helped: true,
            status: "attended",
        };
        let (csv, jsonl) = export(&[&iv], &[&o], 101 * MICROS_PER_HOUR);
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some(super::super::INTERVIEW_HEADER));
        assert_eq!(
            lines.next(),
            Some("100,c1,\"sales, east\",north,,true,,sms,1970-01-01T00:00:00Z,1970-01-05T04:00:00Z,attended,,,12.5,1970-01-05T05:00:00Z")
        );
        assert!(jsonl.contains("\"type\":\"joined\"") && jsonl.contains("\"event_id\":\"outcome-100-joined\""), "{jsonl}");
    }
}
