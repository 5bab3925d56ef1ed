//! The invitation funnel (invited → delivered → read → confirmed → link clicked →
//! joined → completed) with the drop at each step, and message reach per channel.

use polars::prelude::*;

use super::frame::{self, count_if, counts, sorted};
use super::stats::ratio;
use super::events::channel_name;
use super::Settings;

/// Funnel steps and the event flag that marks each (the first step is every interview).
pub const FUNNEL_STEPS: &[(&str, &str)] = &[
    ("invited", ""),
    ("delivered", "ev_delivered"),
    ("read", "ev_read"),
    ("confirmed", "ev_confirmed"),
    ("link_clicked", "ev_link_clicked"),
    ("joined", "ev_joined"),
    ("completed", "ev_completed"),
];

/// Interviews reaching each step, nested: a step counts an interview only if it also
/// reached every earlier step. Closed interviews except company cancellations (the
/// company's decision is not a candidate falling away); events up to as-of.
pub fn funnel(closed: &LazyFrame, group: Option<&str>, s: &Settings) -> PolarsResult<DataFrame> {
    let base = closed.clone().filter(col("status").neq(lit("cancelled_by_company")));
    // A column expression, not `lit(true)`: a literal would sum to 1 whatever the group size.
    let mut reached = col("interview_id").is_not_null();
    let mut aggs = Vec::new();
    for (i, (step, flag)) in FUNNEL_STEPS.iter().enumerate() {
        if i > 0 {
            reached = reached.and(col(*flag));
        }
        aggs.push(count_if(reached.clone()).alias(format!("step_{step}")));
    }
    let table = match group {
        None => base.select(aggs).collect()?,
        Some(g) => sorted(base.group_by([col(g)]).agg(aggs).collect()?, &[g])?,
    };
    let labels: Vec<Option<String>> = match group {
        None => vec![None; table.height()],
        Some(g) => frame::strings(&table, g)?,
    };
    let steps: Vec<Vec<u64>> = FUNNEL_STEPS.iter().map(|(step, _)| counts(&table, &format!("step_{step}"))).collect::<PolarsResult<_>>()?;
    let (mut g_col, mut idx, mut name, mut n, mut share, mut drop, mut hidden) = (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for (row, label) in labels.iter().enumerate() {
        let invited = steps[0][row];
        let h = crate::privacy::suppressed(invited, s.suppression_threshold);
        for (k, (step, _)) in FUNNEL_STEPS.iter().enumerate() {
            g_col.push(label.clone());
            idx.push(Some(k as i64 + 1));
            name.push(Some(step.to_string()));
            let here = steps[k][row];
            n.push((!h).then_some(here as i64));
            share.push(if h { None } else { ratio(here, invited) });
            drop.push(if h || k == 0 { None } else { ratio(steps[k - 1][row] - here, steps[k - 1][row]) });
            hidden.push(h);
        }
    }
    let mut columns = Vec::new();
    if let Some(g) = group {
        columns.push(frame::col_str(g, g_col));
    }
    columns.extend([
        frame::col_i64("step_index", idx),
        frame::col_str("step", name),
        frame::col_i64("interviews", n),
        frame::col_f64("share_of_invited", share),
        frame::col_f64("drop_from_previous", drop),
        frame::col_bool("suppressed", hidden),
    ]);
    DataFrame::new_infer_height(columns)
}

/// Per message channel: closed interviews messaged on it (invitation or reminder),
/// how many of those had a message delivered and read on that channel, the reach rate
/// (delivered / messaged) and the unread rate (1 − read / delivered). Events up to as-of.
///
/// Reads the per-interview channel masks `reach_seen`, `reach_sent`, `reach_delivered`
/// and `reach_read` (bit `c` = channel code `c`, see [`super::events`]); a channel gets a
/// row when any closed interview has an event naming it.
pub fn channel_reach(closed: &LazyFrame, s: &Settings) -> PolarsResult<DataFrame> {
    let masks = closed.clone().select([col("reach_seen"), col("reach_sent"), col("reach_delivered"), col("reach_read")]).collect()?;
    let mask = |name: &str| -> PolarsResult<Vec<u32>> { Ok(masks.column(name)?.u32()?.iter().map(|v| v.unwrap_or(0)).collect()) };
    let (seen, sent, delivered, read) = (mask("reach_seen")?, mask("reach_sent")?, mask("reach_delivered")?, mask("reach_read")?);
    let mut rows: Vec<(&str, u64, u64, u64)> = Vec::new();
    for code in 0..8u8 {
        let Some(name) = channel_name(code) else { continue };
        let bit = 1u32 << code;
        if !seen.iter().any(|m| m & bit != 0) {
            continue;
        }
        let (mut m, mut r, mut rd) = (0u64, 0u64, 0u64);
        for i in 0..seen.len() {
            if sent[i] & bit != 0 {
                m += 1;
                if delivered[i] & bit != 0 {
                    r += 1;
                    if read[i] & bit != 0 {
                        rd += 1;
                    }
                }
            }
        }
        rows.push((name, m, r, rd));
    }
    rows.sort_by(|a, b| a.0.cmp(b.0));
    let table = DataFrame::new_infer_height(vec![
        frame::col_str("channel", rows.iter().map(|r| Some(r.0.to_string())).collect()),
        frame::col_i64("messaged", rows.iter().map(|r| Some(r.1 as i64)).collect()),
        frame::col_i64("reached", rows.iter().map(|r| Some(r.2 as i64)).collect()),
        frame::col_i64("read", rows.iter().map(|r| Some(r.3 as i64)).collect()),
    ])?;
    let (m, r, rd) = (counts(&table, "messaged")?, counts(&table, "reached")?, counts(&table, "read")?);
    let hidden: Vec<bool> = m.iter().map(|&m| crate::privacy::suppressed(m, s.suppression_threshold)).collect();
    let rows = 0..table.height();
    let show = |i: usize, v: Option<f64>| if hidden[i] { None } else { v };
    DataFrame::new(
        table.height(),
        vec![
            table.column("channel")?.clone(),
            frame::col_i64("interviews_messaged", rows.clone().map(|i| (!hidden[i]).then_some(m[i] as i64)).collect()),
            frame::col_i64("interviews_reached", rows.clone().map(|i| (!hidden[i]).then_some(r[i] as i64)).collect()),
            frame::col_i64("interviews_read", rows.clone().map(|i| (!hidden[i]).then_some(rd[i] as i64)).collect()),
            frame::col_f64("reach_rate", rows.clone().map(|i| show(i, ratio(r[i], m[i]))).collect()),
            frame::col_f64("read_rate", rows.clone().map(|i| show(i, ratio(rd[i], m[i]))).collect()),
            frame::col_f64("unread_rate", rows.clone().map(|i| show(i, ratio(r[i] - rd[i], r[i]))).collect()),
            frame::col_bool("suppressed", hidden),
        ],
    )
}
