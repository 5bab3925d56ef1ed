//! The invitation funnel (invited → delivered → read → confirmed → link clicked →
//! joined → completed) with the drop at each step, and message reach per channel.

use polars::prelude::*;

use super::frame::{self, count_if, counts, sorted};
use super::stats::ratio;
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
pub fn channel_reach(closed: &LazyFrame, events: LazyFrame, s: &Settings) -> PolarsResult<DataFrame> {
    let is = |t: &str| col("type").eq(lit(t.to_string()));
    let per_pair = events
        .semi_join(closed.clone().select([col("interview_id")]), col("interview_id"), col("interview_id"))
        .filter(col("channel").is_not_null())
        .select([
            col("interview_id"),
            col("channel"),
            is("invite_sent").or(is("reminder_sent")).cast(DataType::Int32).alias("sent"),
            is("message_delivered").cast(DataType::Int32).alias("delivered"),
            is("message_read").cast(DataType::Int32).alias("read"),
        ])
        .group_by([col("interview_id"), col("channel")])
        .agg([col("sent").max().gt(lit(0)), col("delivered").max().gt(lit(0)), col("read").max().gt(lit(0))]);
    let table = per_pair
        .group_by([col("channel")])
        .agg([
            count_if(col("sent")).alias("messaged"),
            count_if(col("sent").and(col("delivered"))).alias("reached"),
            count_if(col("sent").and(col("delivered")).and(col("read"))).alias("read"),
        ])
        .collect()?;
    let table = sorted(table, &["channel"])?;
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
