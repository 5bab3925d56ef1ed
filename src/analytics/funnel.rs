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
    channel_reach_by(closed, None, s)
}

/// [`channel_reach`] within each value of `group` (`region`, `role`): how a channel
/// blocked in one region shows up. The group column comes first; groups in order,
/// channels in order within each; suppression per (group, channel) on the messaged
/// count.
pub fn channel_reach_by(closed: &LazyFrame, group: Option<&str>, s: &Settings) -> PolarsResult<DataFrame> {
    let mut wanted = vec![col("reach_seen"), col("reach_sent"), col("reach_delivered"), col("reach_read")];
    if let Some(g) = group {
        wanted.push(col(g).cast(DataType::String).alias("group_key"));
    }
    let masks = closed.clone().select(wanted).collect()?;
    let mask = |name: &str| -> PolarsResult<Vec<u32>> { Ok(masks.column(name)?.u32()?.iter().map(|v| v.unwrap_or(0)).collect()) };
    let (seen, sent, delivered, read) = (mask("reach_seen")?, mask("reach_sent")?, mask("reach_delivered")?, mask("reach_read")?);
    let keys: Vec<Option<String>> = match group {
        Some(_) => masks.column("group_key")?.str()?.iter().map(|v| v.map(str::to_string)).collect(),
        None => vec![None; seen.len()],
    };
    let mut groups: std::collections::BTreeMap<Option<&str>, Vec<usize>> = std::collections::BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        groups.entry(k.as_deref()).or_default().push(i);
    }
    // (group, channel, messaged, reached, read); a null group sorts last.
    let mut rows: Vec<(Option<&str>, &str, u64, u64, u64)> = Vec::new();
    let mut ordered: Vec<(Option<&str>, Vec<usize>)> = groups.into_iter().collect();
    ordered.sort_by_key(|(k, _)| (k.is_none(), *k));
    for (key, members) in &ordered {
        for code in 0..8u8 {
            let Some(name) = channel_name(code) else { continue };
            let bit = 1u32 << code;
            if !members.iter().any(|&i| seen[i] & bit != 0) {
                continue;
            }
            let (mut m, mut r, mut rd) = (0u64, 0u64, 0u64);
            for &i in members {
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
            rows.push((*key, name, m, r, rd));
        }
    }
    rows.sort_by(|a, b| (a.0.is_none(), a.0).cmp(&(b.0.is_none(), b.0)).then(a.1.cmp(b.1)));
    let hidden: Vec<bool> = rows.iter().map(|r| crate::privacy::suppressed(r.2, s.suppression_threshold)).collect();
    let n = rows.len();
    let show = |i: usize, v: Option<f64>| if hidden[i] { None } else { v };
    let count = |i: usize, v: u64| (!hidden[i]).then_some(v as i64);
    let mut columns = Vec::new();
    if let Some(g) = group {
        columns.push(frame::col_str(g, rows.iter().map(|r| r.0.map(str::to_string)).collect()));
    }
    columns.extend([
        frame::col_str("channel", rows.iter().map(|r| Some(r.1.to_string())).collect()),
        frame::col_i64("interviews_messaged", (0..n).map(|i| count(i, rows[i].2)).collect()),
        frame::col_i64("interviews_reached", (0..n).map(|i| count(i, rows[i].3)).collect()),
        frame::col_i64("interviews_read", (0..n).map(|i| count(i, rows[i].4)).collect()),
        frame::col_f64("reach_rate", (0..n).map(|i| show(i, ratio(rows[i].3, rows[i].2))).collect()),
        frame::col_f64("read_rate", (0..n).map(|i| show(i, ratio(rows[i].4, rows[i].2))).collect()),
        frame::col_f64("unread_rate", (0..n).map(|i| show(i, ratio(rows[i].3 - rows[i].4, rows[i].3))).collect()),
        frame::col_bool("suppressed", hidden.clone()),
    ]);
    DataFrame::new(n, columns)
}
