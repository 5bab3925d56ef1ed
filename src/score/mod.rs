//! The scoring feed: probabilities for upcoming interviews, ranks, risk bands, the
//! top factors in words, a suggested action and the seeded holdout.
//!
//! The feed decides **who gets more help** (a call, an extra reminder, a channel
//! switch, a technical check); it must never be used to reject anyone. It carries the
//! operational `candidate_id` the reminder system needs and nothing more personal.
//! Pure: lazy frames and a model in, a DataFrame out; `cmd::score` writes it.

pub mod archive;
pub mod recovery;

use std::collections::HashMap;

use polars::prelude::*;

use crate::derive::micros;
use crate::features::facts::Status;
use crate::features::{self, numeric_feature, Facts, FeatureSettings, Kind, Snap};
use crate::model::stopwatch::Stopwatch;
use crate::model::file::ModelFile;
use crate::model::seam::RiskModel;
use crate::time::{Micros, MICROS_PER_DAY, MICROS_PER_HOUR};

/// How risk bands are cut, recorded in model.json and the feed's summary.
pub const RISK_BANDS: &str = "by rank share among the interviews scored in one run: high = the top 10 % \
(rank <= ceil(0.10 n)), medium = the next 20 % (rank <= ceil(0.30 n)), low = the rest; sized to the phone \
capacity HR reports (calls for about one interview in ten)";

pub const ACTIONS: &str = "phone_call for the high band; otherwise link_and_device_check where link errors \
happened; confirm_follow_up (a second reminder or a recruiter's message) where the slot is within \
[score] confirm_follow_up_hours (default 24) and the interview is not confirmed or its messages are unread; \
switch_channel where messages went unread (delivered but never read, or nothing delivered); \
link_and_device_check where the role's recent no-shows are mostly technical; else standard_reminder";

/// The band of a 1-based rank among `n`.
pub fn risk_band(rank: usize, n: usize) -> &'static str {
    let n = n as f64;
    if rank as f64 <= (0.10 * n).ceil() {
        "high"
    } else if rank as f64 <= (0.30 * n).ceil() {
        "medium"
    } else {
        "low"
    }
}

/// Each row's band, given the rows in rank order. Rows with the same probability get
/// the same band (the band of the best-ranked of them): a tie broken by id must not
/// decide who gets a call.
pub fn bands_with_ties(probs: &[f64], order: &[usize]) -> Vec<&'static str> {
    let n = probs.len();
    let mut bands: Vec<&'static str> = vec!["low"; n];
    let mut group_band = "low";
    for (r, &i) in order.iter().enumerate() {
        if r == 0 || probs[i] != probs[order[r - 1]] {
            group_band = risk_band(r + 1, n);
        }
        bands[i] = group_band;
    }
    bands
}

#[derive(Debug, Clone, Copy)]
pub struct ScoreSettings {
    pub as_of: Micros,
    pub tz: chrono_tz::Tz,
    pub grace_minutes: i64,
    pub window_days: f64,
    pub holdout_share: f64,
    pub holdout_seed: u64,
    /// Within this many hours of the slot, an interview not confirmed or with its
    /// messages unread gets `confirm_follow_up`.
    pub confirm_follow_up_hours: f64,
    /// A feature's PSI at or above this is a `shift` (model::drift).
    pub drift_warn_psi: f64,
}

/// A feed and the drift of the interviews it scored (`None` for a model file written
/// before drift references).
pub struct Scored {
    pub feed: DataFrame,
    pub drift: Option<Vec<crate::model::drift::FeatureDrift>>,
}

/// Roles whose closed no-shows with a known cause were mostly technical (link,
/// camera, network), with at least `min` such no-shows.
///
/// Reads the interviews only: a no-show with a known cause is a *recorded* no-show
/// (the derived-status rule closes still-`scheduled` interviews with cause `unknown`,
/// which is left out here), and a recorded no-show is closed once its slot is before
/// as-of, so no event is needed.
pub fn technical_roles(interviews: LazyFrame, s: &ScoreSettings, min: u32) -> PolarsResult<Vec<String>> {
    let technical = col("cause").str().contains(lit("techn|link|camera|network|device|audio|microphone"), false);
    let df = interviews
        .filter(
            col("status")
                .eq(lit("no_show"))
                .and(micros("scheduled_at").lt(lit(s.as_of)))
                .and(col("cause").is_not_null())
                .and(col("cause").neq(lit("unknown"))),
        )
        .group_by([col("role")])
        .agg([len().alias("n"), technical.cast(DataType::UInt32).sum().alias("technical")])
        .filter(col("n").gt_eq(lit(min)).and((col("technical").cast(DataType::Float64) / col("n").cast(DataType::Float64)).gt(lit(0.5))))
        .sort(["role"], SortMultipleOptions::default())
        .collect()?;
    Ok(df.column("role")?.str()?.iter().flatten().map(String::from).collect())
}

/// Scores every interview still `scheduled` whose slot is after as-of and within the
/// window, invited by as-of. (The derived-status rule only closes slots before as-of,
/// so for these the recorded status is the status.)
///
/// Only what the feed needs is read: the interviews of candidates with a slot in the
/// window (a filter on `scheduled_at` the Parquet reader applies, then a semi-join on
/// `candidate_id`), and the events of the interviews among them still `scheduled` in
/// the lake (the scored ones, and past ones whose outcome a `joined` event decides):
/// `events_of(ids)` gives those, reading only what can hold them. With
/// `NOSHOW_PROFILE=1` each step's time goes to stderr. The feed comes with each
/// feature's drift against the model's training window.
pub fn score(
    interviews: LazyFrame,
    events_of: &dyn Fn(&[&str]) -> anyhow::Result<LazyFrame>,
    model: &ModelFile,
    s: &ScoreSettings,
) -> anyhow::Result<Scored> {
    let mut clock = Stopwatch::start("score");
    let window_end = s.as_of + (s.window_days * MICROS_PER_DAY as f64).round() as i64;
    let in_window = col("status")
        .eq(lit("scheduled"))
        .and(micros("scheduled_at").gt(lit(s.as_of)))
        .and(micros("scheduled_at").lt_eq(lit(window_end)))
        .and(micros("invited_at").lt_eq(lit(s.as_of)));
    let candidates = interviews.clone().filter(in_window).select([col("candidate_id")]).unique(None, UniqueKeepStrategy::Any);
    let relevant = interviews.clone().join(
        candidates,
        [col("candidate_id")],
        [col("candidate_id")],
        JoinArgs::new(JoinType::Semi),
    );
    // The model's extra feature columns (`[train] extra_features`) must be in this lake.
    let extra: Vec<String> = model
        .features
        .categorical
        .iter()
        .map(|c| c.name.clone())
        .filter(|n| !features::CATEGORICAL_FEATURES.iter().any(|f| f.0 == n))
        .collect();
    if !extra.is_empty() {
        let have = crate::analytics::extra_columns(&mut interviews.clone())?;
        if let Some(missing) = extra.iter().find(|c| !have.contains(c)) {
            anyhow::bail!(
                "model {} uses the interview column {missing} as a feature ([train] extra_features), but this lake's \
                 interviews have no such column: ingest the exports that carry it (an `extra` column of their \
                 [[input.source]]) or retrain without it",
                model.version
            );
        }
    }
    let mut facts = Facts::load_interviews_with(relevant, &extra)?;
    clock.mark("read window candidates' interviews");
    let mut snaps: Vec<Snap> = (0..facts.len())
        .filter(|&i| {
            facts.status[i] == Status::Scheduled
                && facts.slot[i].is_some_and(|t| t > s.as_of && t <= window_end)
                && facts.invited[i].is_some_and(|t| t <= s.as_of)
        })
        .map(|i| Snap { interview: i as u32, cutoff: s.as_of })
        .collect();
    snaps.sort_by_key(|snap| facts.id_rank[snap.interview as usize]);
    // Features read the events of the scored interview, and of a candidate's other
    // interviews only the first `joined` of those still `scheduled` (the derived-status
    // rule); interviews with a recorded outcome need none.
    let wanted: Vec<bool> = facts.status.iter().map(|&st| st == Status::Scheduled).collect();
    let events = {
        let ids = facts.carried.column("interview_id")?.str()?;
        let wanted_ids: Vec<&str> = ids.iter().zip(&wanted).filter_map(|(id, &w)| id.filter(|_| w)).collect();
        events_of(&wanted_ids)?
    };
    facts.load_events(events, Some(&wanted))?;
    clock.mark("read their events");
    let technical = technical_roles(interviews, s, 5)?;
    clock.mark("technical roles");
    let df = features::features_of(&facts, &snaps, FeatureSettings { tz: s.tz, grace_minutes: s.grace_minutes })?;
    drop(facts);
    clock.mark("features");
    let drift = match &model.drift_reference {
        Some(reference) => Some(crate::model::drift::compare(reference, &df, s.drift_warn_psi, crate::model::drift::weekday(s.as_of, s.tz))?),
        None => None,
    };
    clock.mark("drift");
    let encoding = model.encoding()?;
    let risk = model.risk_model()?;
    let design = encoding.design(&df)?;
    for u in encoding.unseen(&df)? {
        crate::warn!(
            "score: {} of the interviews scored have a {} never seen in training (e.g. {}), scored as {}",
            u.rows,
            u.feature,
            u.examples.join(", "),
            if u.as_other { "`other`" } else { "the reference level" }
        );
    }
    let names = encoding.column_names();
    let n = df.height();

    let probs: Vec<f64> = risk.predict(design.all());
    let ids: Vec<String> = df.column("interview_id")?.str()?.iter().map(|v| v.unwrap_or("").to_string()).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]).then_with(|| ids[a].cmp(&ids[b])));
    let mut rank = vec![0usize; n];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r + 1;
    }
    let bands = bands_with_ties(&probs, &order);

    let raw_numeric: HashMap<&str, Vec<f64>> = encoding
        .numeric
        .iter()
        .map(|f| {
            let values = df
                .column(&f.name)
                .and_then(|c| c.cast(&DataType::Float64))
                .map(|c| c.f64().map(|ca| ca.iter().map(|v| v.unwrap_or(f.mean)).collect::<Vec<f64>>()).unwrap_or_default())
                .unwrap_or_default();
            (f.name.as_str(), values)
        })
        .collect();
    let roles: Vec<String> = df.column("role")?.str()?.iter().map(|v| v.unwrap_or("").to_string()).collect();

    let slot_us: Vec<Option<i64>> = df.column("scheduled_at_us")?.i64()?.iter().collect();
    let mut factors = Vec::with_capacity(n);
    let mut actions = Vec::with_capacity(n);
    for i in 0..n {
        let row = design.row(i);
        let words: Vec<String> = risk
            .raising(row, 3)
            .into_iter()
            .map(|(j, _)| factor_words(&names[j], row[j], raw_numeric.get(names[j].as_str()).and_then(|v| v.get(i)).copied()))
            .collect();
        factors.push(words.join("; "));
        let get = |name: &str| raw_numeric.get(name).and_then(|v| v.get(i)).copied().unwrap_or(0.0);
        let hours_left = slot_us.get(i).copied().flatten().map_or(f64::INFINITY, |slot| (slot - s.as_of) as f64 / MICROS_PER_HOUR as f64);
        let unsure = get("confirmed") == 0.0 || get("invitation_read") == 0.0;
        let action = if bands[i] == "high" {
            "phone_call"
        } else if get("link_errors") > 0.0 {
            "link_and_device_check"
        } else if unsure && hours_left <= s.confirm_follow_up_hours {
            "confirm_follow_up"
        } else if get("invitation_read") == 0.0 {
            "switch_channel"
        } else if technical.contains(&roles[i]) {
            "link_and_device_check"
        } else {
            "standard_reminder"
        };
        actions.push(action);
    }

    let holdout = holdout_flags(&ids, &bands, s.holdout_share, s.holdout_seed);
    let slots = df.column("scheduled_at_us")?.i64()?.clone();
    // The slot as the recruiter's calendar shows it, for spreadsheets and CSV readers.
    let local: Vec<Option<String>> = slots.iter().map(|v| v.map(|us| crate::time::format_local(us, s.tz))).collect();
    let mut feed = DataFrame::new_infer_height(vec![
        Column::new("interview_id".into(), ids),
        df.column("candidate_id")?.clone(),
        Column::new("scheduled_at".into(), slots.into_series())
            .cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)))?,
        Column::new("scheduled_at_local".into(), local),
        Column::new("p_not_attend".into(), probs),
        Column::new("risk_rank".into(), rank.iter().map(|&r| r as u32).collect::<Vec<u32>>()),
        Column::new("risk_band".into(), bands),
        Column::new("top_factors".into(), factors),
        Column::new("suggested_action".into(), actions),
        Column::new("arm".into(), holdout.iter().map(|&h| if h { "holdout" } else { "help" }).collect::<Vec<&str>>()),
        Column::new("holdout".into(), holdout),
        Column::new("model_version".into(), vec![model.version.clone(); n]),
    ])?;
    feed = feed.sort(["risk_rank"], SortMultipleOptions::default())?;
    clock.mark("probabilities, factors, actions");
    Ok(Scored { feed, drift })
}

/// Words for one design column's contribution. `z` is the standardised value, `raw`
/// the feature's natural value (numeric features only).
fn factor_words(column: &str, z: f64, raw: Option<f64>) -> String {
    if let Some((feature, level)) = column.split_once('=') {
        return format!("{}: {level}", feature.replace('_', " "));
    }
    match numeric_feature(column) {
        Some(f) => {
            let phrase = if z > 0.0 { f.high } else { f.low };
            match (f.kind, raw) {
                (Kind::Count, Some(v)) if z > 0.0 => format!("{phrase} ({v:.0})"),
                _ => phrase.to_string(),
            }
        }
        None => column.to_string(),
    }
}

/// A seeded random `share` of each band (rounded to the nearest row) flagged as the
/// holdout, with no earlier draw to keep; see [`assign_arms`].
pub fn holdout_flags(ids: &[String], bands: &[&str], share: f64, seed: u64) -> Vec<bool> {
    assign_arms(ids, bands, share, seed, &HashMap::new())
}

/// The arm of each row: `true` = holdout (standard process only), `false` = help.
///
/// The rule (sticky): an interview keeps the arm it was given the first time a feed
/// scored it (`prior`, read from the feed archive), whatever its band or rank later.
/// Interviews scored for the first time are drawn per band: ordered by a keyed hash of
/// (seed, interview id), the first `round(share × n)` of the band's new interviews are
/// the holdout. The draw depends on the ids and the seed only, never on row order.
pub fn assign_arms(ids: &[String], bands: &[&str], share: f64, seed: u64, prior: &HashMap<String, bool>) -> Vec<bool> {
    let mut flags: Vec<bool> = ids.iter().map(|id| prior.get(id).copied().unwrap_or(false)).collect();
    if share <= 0.0 {
        return flags;
    }
    let key = |id: &str| xxhash_rust::xxh3::xxh3_64_with_seed(id.as_bytes(), seed);
    for band in ["high", "medium", "low"] {
        let mut members: Vec<usize> = (0..ids.len()).filter(|&i| bands[i] == band && !prior.contains_key(&ids[i])).collect();
        members.sort_by(|&a, &b| key(&ids[a]).cmp(&key(&ids[b])).then_with(|| ids[a].cmp(&ids[b])));
        let take = ((share.min(1.0) * members.len() as f64).round() as usize).min(members.len());
        for &i in &members[..take] {
            flags[i] = true;
        }
    }
    flags
}

/// Replaces the feed's `holdout` and `arm` columns with [`assign_arms`]' draw given
/// `prior` (the arms earlier feeds gave).
pub fn set_arms(feed: &mut DataFrame, share: f64, seed: u64, prior: &HashMap<String, bool>) -> PolarsResult<()> {
    let ids: Vec<String> = feed.column("interview_id")?.str()?.iter().map(|v| v.unwrap_or("").to_string()).collect();
    let bands: Vec<String> = feed.column("risk_band")?.str()?.iter().map(|v| v.unwrap_or("").to_string()).collect();
    let band_refs: Vec<&str> = bands.iter().map(String::as_str).collect();
    let holdout = assign_arms(&ids, &band_refs, share, seed, prior);
    let arm: Vec<&str> = holdout.iter().map(|&h| if h { "holdout" } else { "help" }).collect();
    feed.replace("holdout", Column::new("holdout".into(), holdout))?;
    feed.replace("arm", Column::new("arm".into(), arm))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tied_probabilities_share_a_band() {
        // A model fitted on a handful of rows gives everyone the same probability.
        let probs = vec![0.2; 8];
        let order: Vec<usize> = (0..8).collect();
        assert!(bands_with_ties(&probs, &order).iter().all(|&b| b == "high"));
        // Ties inside the medium band stay medium; distinct values keep rank bands.
        let probs = [0.9, 0.5, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];
        let order: Vec<usize> = (0..10).collect();
        assert_eq!(
            bands_with_ties(&probs, &order),
            ["high", "medium", "medium", "medium", "low", "low", "low", "low", "low", "low"]
        );
    }

    #[test]
    fn bands_by_rank_share() {
        let n = 20;
        let bands: Vec<&str> = (1..=n).map(|r| risk_band(r, n)).collect();
        assert_eq!(bands.iter().filter(|b| **b == "high").count(), 2);
        assert_eq!(bands.iter().filter(|b| **b == "medium").count(), 4);
        assert_eq!(risk_band(1, 1), "high");
    }

    #[test]
    fn holdout_is_seeded_and_sized_per_band() {
        let ids: Vec<String> = (0..1000).map(|i| format!("iv{i:04}")).collect();
        let bands: Vec<&str> = (0..1000).map(|i| risk_band(i + 1, 1000)).collect();
        let a = holdout_flags(&ids, &bands, 0.1, 7);
        assert_eq!(a, holdout_flags(&ids, &bands, 0.1, 7));
        assert_ne!(a, holdout_flags(&ids, &bands, 0.1, 8));
        for (band, size) in [("high", 100), ("medium", 200), ("low", 700)] {
            let flagged = (0..1000).filter(|&i| bands[i] == band && a[i]).count();
            assert_eq!(flagged, size / 10, "{band}");
        }
        assert!(holdout_flags(&ids, &bands, 0.0, 7).iter().all(|f| !f));
    }

    #[test]
    fn an_interview_keeps_its_first_arm() {
        let ids: Vec<String> = (0..200).map(|i| format!("iv{i:04}")).collect();
        let bands: Vec<&str> = (0..200).map(|i| risk_band(i + 1, 200)).collect();
        let first = assign_arms(&ids, &bands, 0.3, 5, &HashMap::new());
        let prior: HashMap<String, bool> = ids.iter().cloned().zip(first.iter().copied()).take(120).collect();
        // The next day every band moved (reversed ranks) and new interviews arrived.
        let mut ids2 = ids.clone();
        ids2.extend((200..260).map(|i| format!("iv{i:04}")));
        let bands2: Vec<&str> = (0..260).map(|i| risk_band(260 - i, 260)).collect();
        let second = assign_arms(&ids2, &bands2, 0.3, 5, &prior);
        for i in 0..120 {
            assert_eq!(second[i], first[i], "{} changed arm", ids[i]);
        }
        let new_holdout = (120..260).filter(|&i| second[i]).count();
        assert!((30..=55).contains(&new_holdout), "{new_holdout} of 140 new interviews held out");
    }

    #[test]
    fn factor_words_read_naturally() {
        assert_eq!(factor_words("jd_viewed", -1.2, Some(0.0)), "has not viewed the job description");
        assert_eq!(factor_words("link_errors", 2.0, Some(2.0)), "link errors (2)");
        assert_eq!(factor_words("role=sales", 1.0, None), "role: sales");
    }
}
