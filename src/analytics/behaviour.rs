//! What candidates and HR did around the slot: reminders received and their effect,
//! when misses happen relative to the last reminder, re-invitations after a miss, and
//! behavioural signals before the slot with their relative risk.

use polars::prelude::*;

use super::causes::share_table;
use super::frame::{self, count_if, counts};
use super::rates::{finish_rates, outcome_counts};
use super::stats::{ratio, relative_risk, wilson_interval, Z95};
use super::{Settings, SIGNALS};
use crate::time::MICROS_PER_HOUR;

/// Outcome counts of one factor by its `value`, with the factor's name beside them.
/// Each factor is grouped on its own (one short key) and only the small results are
/// stacked, rather than stacking every interview once per factor and grouping on two
/// text keys.
fn factor(lf: LazyFrame, name: &str, value: Expr) -> LazyFrame {
    factor_labelled(lf, name, value, col("value"))
}

/// [`factor`] grouped on `value` as it is (an integer or a flag) and labelled by
/// `label` (an expression of `value`) only in the few result rows: a million values
/// are not turned into text just to be grouped.
fn factor_labelled(lf: LazyFrame, name: &str, value: Expr, label: Expr) -> LazyFrame {
    let values = lf.select([value.alias("value"), col("status")]);
    outcome_counts(values, &["value"])
        .with_column(label.cast(DataType::String).alias("value"))
        .with_column(lit(name.to_string()).alias("factor"))
}

/// No-show rate (and the other rate-table columns) by what reminders a closed
/// interview received before its slot, as `factor, value` rows:
/// `reminders_received` (0, 1, 2, 3+), `channels_used` (0, 1, 2+),
/// `on_preferred_channel` (among reminded interviews: any reminder on the candidate's
/// preferred channel), `last_reminder_offset` (the `detail` of the latest reminder;
/// `none` without one), `offset` and `channel` (interviews that received at least one
/// reminder at that offset / on that channel; an interview counts under each it got).
/// `offsets` and `channels` are the distinct (`iv_idx`, `offset`) and (`iv_idx`,
/// `channel`) pairs of reminders before the slot, from [`super::events::EventFacts`].
pub fn reminder_effects(closed: &LazyFrame, offsets: LazyFrame, channels: LazyFrame, s: &Settings) -> PolarsResult<DataFrame> {
    let c = closed.clone();
    let outcome = || c.clone().select([col("iv_idx"), col("status")]);
    let on = || [col("iv_idx")];
    let per_offset = offsets.join(outcome(), on(), on(), JoinArgs::new(JoinType::Inner));
    let per_channel = channels.join(outcome(), on(), on(), JoinArgs::new(JoinType::Inner));
    let parts = [
        factor_labelled(
            c.clone(),
            "reminders_received",
            col("reminders_received").clip_max(lit(3i64)),
            when(col("value").gt_eq(lit(3i64))).then(lit("3+")).otherwise(col("value").cast(DataType::String)),
        ),
        factor_labelled(
            c.clone(),
            "channels_used",
            col("reminder_channels").clip_max(lit(2i64)),
            when(col("value").gt_eq(lit(2i64))).then(lit("2+")).otherwise(col("value").cast(DataType::String)),
        ),
        factor_labelled(
            c.clone().filter(col("reminders_received").gt(lit(0i64))),
            "on_preferred_channel",
            col("reminded_on_preferred"),
            col("value"),
        ),
        factor(
            c.clone(),
            "last_reminder_offset",
            when(col("reminders_received").eq(lit(0i64))).then(lit("none")).otherwise(col("last_reminder_offset")),
        ),
        factor(per_offset, "offset", col("offset")),
        factor(per_channel, "channel", col("channel")),
    ];
    let dims = ["factor", "value"];
    let counted = concat(parts, UnionArgs::default())?.collect()?;
    let table = finish_rates(frame::sorted(counted, &dims)?, &dims, s.suppression_threshold, false)?;
    // Keep the factors in the order above rather than alphabetical.
    let order: Vec<Option<i64>> = frame::strings(&table, "factor")?
        .iter()
        .map(|f| {
            ["reminders_received", "channels_used", "on_preferred_channel", "last_reminder_offset", "offset", "channel"]
                .iter()
                .position(|x| Some(*x) == f.as_deref())
                .map(|p| p as i64)
        })
        .collect();
    let mut table = table;
    table.with_column(frame::col_i64("factor_order", order))?;
    let table = frame::sorted(table, &["factor_order", "value"])?;
    table.drop("factor_order")
}

/// Hours from the last reminder before the slot to the miss (the slot start for a
/// no-show, the first `cancel_requested` event for a candidate cancellation).
pub const MISS_BUCKETS: &[(f64, &str)] = &[(1.0, "0-1h"), (3.0, "1-3h"), (24.0, "3-24h"), (72.0, "1-3d")];

/// `miss_timing`: for no-shows and candidate cancellations, how long after the last
/// reminder the miss happened (`since_last_reminder`), as counts and shares per outcome.
pub fn miss_timing(closed: &LazyFrame, s: &Settings) -> PolarsResult<DataFrame> {
    let reference = when(col("status").eq(lit("no_show"))).then(col("slot_us")).otherwise(col("cancel_request_us"));
    let gap_h = (reference.clone() - col("last_reminder_us")).cast(DataType::Float64) / lit(MICROS_PER_HOUR as f64);
    let mut bucket = lit("3d+");
    for (upper, label) in MISS_BUCKETS.iter().rev() {
        bucket = when(gap_h.clone().lt(lit(*upper))).then(lit(*label)).otherwise(bucket);
    }
    let bucket = when(col("last_reminder_us").is_null())
        .then(lit("no_reminder"))
        .otherwise(when(reference.is_null()).then(lit("no_cancel_request")).otherwise(
            when(gap_h.lt(lit(0.0))).then(lit("before_last_reminder")).otherwise(bucket),
        ));
    let misses = closed
        .clone()
        .filter(col("status").eq(lit("no_show")).or(col("status").eq(lit("cancelled_by_candidate"))))
        .with_columns([col("status").alias("outcome"), bucket.alias("since_last_reminder")]);
    share_table(misses, &["outcome"], &["since_last_reminder"], "misses", s.suppression_threshold)
}

/// Hours before the slot an offset label such as `-3d`, `-2h`, `24h` or `-30m` stands
/// for (the sign is ignored: every reminder is before the slot); `None` if unreadable.
fn offset_hours(label: &str) -> Option<f64> {
    let t = label.trim().trim_start_matches(['-', '+']);
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit() && c != '.')?);
    let n: f64 = num.parse().ok()?;
    Some(match unit.trim().to_ascii_lowercase().as_str() {
        "d" | "day" | "days" => n * 24.0,
        "h" | "hr" | "hour" | "hours" => n,
        "m" | "min" | "minutes" => n / 60.0,
        _ => return None,
    })
}

/// Each interview's distinct items (reminder offsets or channels) in a given order and
/// joined into one label (`-3d,-1d,-1h`), `none` for an interview without any.
///
/// At a million interviews there are millions of (interview, item) pairs but only a
/// handful of distinct items and a few hundred distinct labels: the items are ranked
/// once, each interview's list is a sort of small ranks, and each label is built once
/// and shared, rather than sorting and joining owned strings per interview.
struct Schedules {
    /// Label code per interview index (`u32::MAX`: none).
    code: Vec<u32>,
    labels: Vec<String>,
}

impl Schedules {
    const NONE: u32 = u32::MAX;

    fn build<'a>(pairs: impl Iterator<Item = (IdxSize, &'a str)>, order: impl Fn(&str, &str) -> std::cmp::Ordering, sep: &str) -> Schedules {
        use std::collections::HashMap;
        let mut items: Vec<&'a str> = Vec::new();
        let mut item_of: HashMap<&'a str, u32> = HashMap::new();
        let mut ranked: Vec<(IdxSize, u32)> = Vec::new();
        for (iv, text) in pairs {
            let item = *item_of.entry(text).or_insert_with(|| {
                items.push(text);
                (items.len() - 1) as u32
            });
            ranked.push((iv, item));
        }
        // Rank of each distinct item in `order`; equal ranks are equal texts, so sorting
        // and deduplicating ranks is sorting and deduplicating the texts.
        let mut by_order: Vec<u32> = (0..items.len() as u32).collect();
        by_order.sort_by(|&a, &b| order(items[a as usize], items[b as usize]));
        let mut rank = vec![0u32; items.len()];
        for (r, &item) in by_order.iter().enumerate() {
            rank[item as usize] = r as u32;
        }
        for p in ranked.iter_mut() {
            p.1 = rank[p.1 as usize];
        }
        ranked.sort_unstable();
        ranked.dedup();
        let n = ranked.last().map_or(0, |p| p.0 as usize + 1);
        let mut code = vec![Self::NONE; n];
        let mut labels: Vec<String> = Vec::new();
        let mut label_of: HashMap<Vec<u32>, u32> = HashMap::new();
        for group in ranked.chunk_by(|a, b| a.0 == b.0) {
            let key: Vec<u32> = group.iter().map(|p| p.1).collect();
            let next = labels.len() as u32;
            let c = *label_of.entry(key).or_insert_with(|| {
                let parts: Vec<&str> = group.iter().map(|p| items[by_order[p.1 as usize] as usize]).collect();
                labels.push(parts.join(sep));
                next
            });
            code[group[0].0 as usize] = c;
        }
        Schedules { code, labels }
    }

    /// The label of interview `iv` (`none` without items).
    fn of(&self, iv: Option<IdxSize>) -> &str {
        match iv.and_then(|iv| self.code.get(iv as usize)) {
            Some(&c) if c != Self::NONE => &self.labels[c as usize],
            _ => "none",
        }
    }
}

/// `reminder_schedules`: the rate-table columns for each whole reminder schedule an
/// interview received before its slot: `offsets` (its distinct offsets, earliest
/// first, e.g. `-3d,-1d,-1h`; `none` without a reminder) and `channels` (its distinct
/// reminder channels, e.g. `app+sms`); and the same within `role`, `region` and
/// `preferred_channel` (`reminder_schedules_by_D`).
pub fn reminder_schedules(closed: &LazyFrame, offsets: &DataFrame, channels: &DataFrame, s: &Settings) -> PolarsResult<Vec<(String, DataFrame)>> {
    let frame = closed.clone().collect()?;
    let ids: Vec<Option<IdxSize>> = frame.column("iv_idx")?.idx()?.iter().collect();
    // Offsets in schedule order: the farthest from the slot first (unreadable labels
    // before any), then by text.
    let by_schedule = |a: &str, b: &str| offset_hours(b).unwrap_or(f64::MAX).total_cmp(&offset_hours(a).unwrap_or(f64::MAX)).then(a.cmp(b));
    let offset_pairs = offsets.column("iv_idx")?.idx()?.iter().zip(offsets.column("offset")?.str()?.iter());
    let schedule = Schedules::build(offset_pairs.filter_map(|(iv, o)| Some((iv?, o?.trim()))), by_schedule, ",");
    let channel_pairs = channels.column("iv_idx")?.idx()?.iter().zip(channels.column("channel")?.str()?.iter());
    let pair = Schedules::build(channel_pairs.filter_map(|(iv, c)| Some((iv?, c.unwrap_or("unknown")))), |a: &str, b: &str| a.cmp(b), "+");
    let schedule: Vec<&str> = ids.iter().map(|iv| schedule.of(*iv)).collect();
    let pair: Vec<&str> = ids.iter().map(|iv| pair.of(*iv)).collect();
    let with = frame
        .lazy()
        .with_columns([lit(Series::new("offsets".into(), schedule)).alias("offsets"), lit(Series::new("channels".into(), pair)).alias("channels")]);
    let compare = super::rates::Compare::RecentWindows;
    let mut out = vec![("reminder_schedules".to_string(), super::rates::rate_table(&with, &["offsets", "channels"], s, compare)?)];
    for dim in ["role", "region", "preferred_channel"] {
        out.push((format!("reminder_schedules_by_{dim}"), super::rates::rate_table(&with, &[dim, "offsets", "channels"], s, compare)?));
    }
    Ok(out)
}

/// Notice buckets of a candidate cancellation: hours from the first
/// `cancel_requested` event to the slot start (upper bound, label).
pub const NOTICE_BUCKETS: &[(f64, &str)] = &[(2.0, "0-2h"), (24.0, "2-24h"), (72.0, "1-3d")];

/// Candidate cancellations with their `notice` bucket (`0-2h`, `2-24h`, `1-3d`,
/// `3d+`; `after_slot` for a request after the slot start, `no_cancel_request` without
/// a `cancel_requested` event) and `late` (less than 24 hours, or no request).
fn cancellations_with_notice(closed: &LazyFrame) -> LazyFrame {
    let notice_h = (col("slot_us") - col("cancel_request_us")).cast(DataType::Float64) / lit(MICROS_PER_HOUR as f64);
    let mut bucket = lit("3d+");
    for (upper, label) in NOTICE_BUCKETS.iter().rev() {
        bucket = when(notice_h.clone().lt(lit(*upper))).then(lit(*label)).otherwise(bucket);
    }
    let bucket = when(col("cancel_request_us").is_null())
        .then(lit("no_cancel_request"))
        .otherwise(when(notice_h.clone().lt(lit(0.0))).then(lit("after_slot")).otherwise(bucket));
    closed.clone().filter(col("status").eq(lit("cancelled_by_candidate"))).with_columns([
        bucket.alias("notice"),
        col("cancel_request_us").is_null().or(notice_h.lt(lit(24.0))).alias("late"),
    ])
}

/// `cancel_notice` (overall), `cancel_notice_by_role`, `cancel_notice_by_cause`: how
/// much notice candidates give when they cancel; and `cancel_notice_cost`: how many
/// cancellations came with less than 24 hours' notice, their share and the cost of
/// those slots (which could rarely be refilled).
pub fn cancel_notice_tables(closed: &LazyFrame, s: &Settings) -> PolarsResult<Vec<(String, DataFrame)>> {
    let t = s.suppression_threshold;
    let cancels = cancellations_with_notice(closed);
    let mut out = vec![("cancel_notice".to_string(), share_table(cancels.clone(), &[], &["notice"], "cancellations", t)?)];
    for dim in ["role", "cause"] {
        out.push((format!("cancel_notice_by_{dim}"), share_table(cancels.clone(), &[dim], &["notice"], "cancellations", t)?));
    }
    let totals = cancels
        .select([
            len().cast(DataType::Int64).alias("cancellations"),
            count_if(col("late")).alias("late"),
            when(col("late")).then(col("cost")).otherwise(lit(NULL).cast(DataType::Float64)).sum().alias("late_cost"),
        ])
        .collect()?;
    let (n, late) = (counts(&totals, "cancellations")?[0], counts(&totals, "late")?[0]);
    let hidden = crate::privacy::suppressed(n, t);
    let late_cost = totals.column("late_cost")?.f64()?.get(0);
    out.push((
        "cancel_notice_cost".to_string(),
        DataFrame::new(
            1,
            vec![
                frame::col_str("scope", vec![Some("all".to_string())]),
                frame::col_i64("cancellations", vec![(!hidden).then_some(n as i64)]),
                frame::col_i64("with_24h_notice", vec![(!hidden).then_some((n - late) as i64)]),
                frame::col_f64("share_with_24h_notice", vec![if hidden { None } else { ratio(n - late, n) }]),
                frame::col_i64("late", vec![(!hidden).then_some(late as i64)]),
                frame::col_f64("late_cost", vec![if hidden { None } else { late_cost.or(Some(0.0)) }]),
                frame::col_bool("suppressed", vec![hidden]),
            ],
        )?,
    ));
    Ok(out)
}

/// `reinvite_outcomes`: of the misses (no-show or candidate cancellation) that got a
/// `reinvite_sent`, what the candidate's next interview (the same candidate id, the
/// next slot, closed by as-of) became, by `outcome` and `cause` of the miss:
/// `reinvited`, `with_next` (a next interview closed by as-of), `attended_next`,
/// `missed_next` (no-show or candidate cancellation), `attended_rate`
/// (attended / with_next) with its Wilson interval, `suppressed` (reinvited below the
/// threshold).
pub fn reinvite_outcomes(closed: &LazyFrame, s: &Settings) -> PolarsResult<DataFrame> {
    let df = closed
        .clone()
        .select([col("candidate_id"), col("slot_us"), col("interview_id"), col("status"), col("cause"), col("reinvite_sent")])
        .sort(["candidate_id", "slot_us", "interview_id"], SortMultipleOptions::default())
        .collect()?;
    let cand = df.column("candidate_id")?.str()?.clone();
    let status = df.column("status")?.str()?.clone();
    let cause = df.column("cause")?.str()?.clone();
    let reinvited = df.column("reinvite_sent")?.bool()?.clone();
    // (outcome, cause) -> (reinvited, with_next, attended_next, missed_next)
    let mut groups: std::collections::BTreeMap<(String, Option<String>), [u64; 4]> = std::collections::BTreeMap::new();
    for i in 0..df.height() {
        let miss = matches!(status.get(i), Some("no_show" | "cancelled_by_candidate"));
        if !miss || !reinvited.get(i).unwrap_or(false) {
            continue;
        }
        let g = groups.entry((status.get(i).unwrap_or("").to_string(), cause.get(i).map(str::to_string))).or_default();
        g[0] += 1;
        let next = (i + 1 < df.height() && cand.get(i + 1) == cand.get(i) && cand.get(i).is_some()).then_some(i + 1);
        if let Some(j) = next {
            g[1] += 1;
            match status.get(j) {
                Some("attended") => g[2] += 1,
                Some("no_show" | "cancelled_by_candidate") => g[3] += 1,
                _ => {}
            }
        }
    }
    let keys: Vec<&(String, Option<String>)> = groups.keys().collect();
    let v: Vec<[u64; 4]> = groups.values().copied().collect();
    let hidden: Vec<bool> = v.iter().map(|c| crate::privacy::suppressed(c[0], s.suppression_threshold)).collect();
    let n = keys.len();
    let count = |i: usize, k: usize| (!hidden[i]).then_some(v[i][k] as i64);
    let ci: Vec<Option<(f64, f64)>> = (0..n).map(|i| if hidden[i] { None } else { wilson_interval(v[i][2], v[i][1], Z95) }).collect();
    DataFrame::new(
        n,
        vec![
            frame::col_str("outcome", keys.iter().map(|k| Some(k.0.clone())).collect()),
            frame::col_str("cause", keys.iter().map(|k| k.1.clone()).collect()),
            frame::col_i64("reinvited", (0..n).map(|i| count(i, 0)).collect()),
            frame::col_i64("with_next", (0..n).map(|i| count(i, 1)).collect()),
            frame::col_i64("attended_next", (0..n).map(|i| count(i, 2)).collect()),
            frame::col_i64("missed_next", (0..n).map(|i| count(i, 3)).collect()),
            frame::col_f64("attended_rate", (0..n).map(|i| if hidden[i] { None } else { ratio(v[i][2], v[i][1]) }).collect()),
            frame::col_f64("attended_rate_low", ci.iter().map(|c| c.map(|c| c.0)).collect()),
            frame::col_f64("attended_rate_high", ci.iter().map(|c| c.map(|c| c.1)).collect()),
            frame::col_bool("suppressed", hidden),
        ],
    )
}

/// `reinvites_by_cause`: after a no-show or candidate cancellation, how often a
/// re-invitation was sent and accepted (events up to as-of), by outcome and cause.
pub fn reinvites_by_cause(closed: &LazyFrame, s: &Settings) -> PolarsResult<DataFrame> {
    let table = closed
        .clone()
        .filter(col("status").eq(lit("no_show")).or(col("status").eq(lit("cancelled_by_candidate"))))
        .group_by([col("status").alias("outcome"), col("cause")])
        .agg([
            len().cast(DataType::Int64).alias("misses"),
            count_if(col("reinvite_sent")).alias("reinvited"),
            count_if(col("reinvite_sent").and(col("reinvite_accepted"))).alias("accepted"),
        ])
        .collect()?;
    let table = frame::sorted(table, &["outcome", "cause"])?;
    let (m, r, a) = (counts(&table, "misses")?, counts(&table, "reinvited")?, counts(&table, "accepted")?);
    let hidden: Vec<bool> = m.iter().map(|&m| crate::privacy::suppressed(m, s.suppression_threshold)).collect();
    let rows = 0..table.height();
    let show = |i: usize, v: Option<f64>| if hidden[i] { None } else { v };
    let ci: Vec<Option<(f64, f64)>> = rows.clone().map(|i| wilson_interval(a[i], r[i], Z95)).collect();
    DataFrame::new(
        table.height(),
        vec![
            table.column("outcome")?.clone(),
            table.column("cause")?.clone(),
            frame::col_i64("misses", rows.clone().map(|i| (!hidden[i]).then_some(m[i] as i64)).collect()),
            frame::col_i64("reinvited", rows.clone().map(|i| (!hidden[i]).then_some(r[i] as i64)).collect()),
            frame::col_i64("accepted", rows.clone().map(|i| (!hidden[i]).then_some(a[i] as i64)).collect()),
            frame::col_f64("reinvite_rate", rows.clone().map(|i| show(i, ratio(r[i], m[i]))).collect()),
            frame::col_f64("acceptance_rate", rows.clone().map(|i| show(i, ratio(a[i], r[i]))).collect()),
            frame::col_f64("acceptance_rate_low", rows.clone().map(|i| show(i, ci[i].map(|b| b.0))).collect()),
            frame::col_f64("acceptance_rate_high", rows.clone().map(|i| show(i, ci[i].map(|b| b.1))).collect()),
            frame::col_bool("suppressed", hidden),
        ],
    )
}

/// Outcomes the signal table reports: (name, statuses counted as the event).
pub const SIGNAL_OUTCOMES: &[(&str, &[&str])] = &[
    ("no_show", &["no_show"]),
    ("cancelled_by_candidate", &["cancelled_by_candidate"]),
    ("no_show_or_cancel", &["no_show", "cancelled_by_candidate"]),
];

/// `signals`: for each behavioural signal seen before the slot, the outcome rate among
/// closed interviews with and without it, and the relative risk *without vs with*
/// (above 1: missing the signal goes with more misses) with its 95 % log-RR interval.
pub fn signals(closed: &LazyFrame, s: &Settings) -> PolarsResult<DataFrame> {
    let mut aggs = Vec::new();
    for sig in SIGNALS {
        for (present, tag) in [(true, "with"), (false, "without")] {
            let has = col(*sig).eq(lit(present));
            aggs.push(count_if(has.clone()).alias(format!("{sig}__{tag}__n")));
            for (outcome, statuses) in SIGNAL_OUTCOMES {
                let mut hit = lit(false);
                for st in *statuses {
                    hit = hit.or(col("status").eq(lit(st.to_string())));
                }
                aggs.push(count_if(has.clone().and(hit)).alias(format!("{sig}__{tag}__{outcome}")));
            }
        }
    }
    let one = closed.clone().select(aggs).collect()?;
    let get = |name: String| -> PolarsResult<u64> { Ok(counts(&one, &name)?.first().copied().unwrap_or(0)) };
    let (mut sig_c, mut out_c, mut wn, mut we, mut wr, mut on, mut oe, mut or, mut rr, mut lo, mut hi, mut hid) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for sig in SIGNALS {
        let n_with = get(format!("{sig}__with__n"))?;
        let n_without = get(format!("{sig}__without__n"))?;
        for (outcome, _) in SIGNAL_OUTCOMES {
            let e_with = get(format!("{sig}__with__{outcome}"))?;
            let e_without = get(format!("{sig}__without__{outcome}"))?;
            let h = crate::privacy::suppressed(n_with, s.suppression_threshold)
                || crate::privacy::suppressed(n_without, s.suppression_threshold);
            let risk = if h { None } else { relative_risk(e_without, n_without, e_with, n_with, Z95) };
            sig_c.push(Some(sig.to_string()));
            out_c.push(Some(outcome.to_string()));
            wn.push((!h).then_some(n_with as i64));
            we.push((!h).then_some(e_with as i64));
            wr.push(if h { None } else { ratio(e_with, n_with) });
            on.push((!h).then_some(n_without as i64));
            oe.push((!h).then_some(e_without as i64));
            or.push(if h { None } else { ratio(e_without, n_without) });
            rr.push(risk.map(|r| r.0));
            lo.push(risk.map(|r| r.1));
            hi.push(risk.map(|r| r.2));
            hid.push(h);
        }
    }
    DataFrame::new_infer_height(vec![
        frame::col_str("signal", sig_c),
        frame::col_str("outcome", out_c),
        frame::col_i64("with_interviews", wn),
        frame::col_i64("with_events", we),
        frame::col_f64("with_rate", wr),
        frame::col_i64("without_interviews", on),
        frame::col_i64("without_events", oe),
        frame::col_f64("without_rate", or),
        frame::col_f64("relative_risk", rr),
        frame::col_f64("relative_risk_low", lo),
        frame::col_f64("relative_risk_high", hi),
        frame::col_bool("suppressed", hid),
    ])
}
