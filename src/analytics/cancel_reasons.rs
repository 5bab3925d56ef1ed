//! Cancellation reasons: the text candidates give in `cancel_requested` events,
//! normalised (trimmed, case-folded, runs of white space made one space) and merged
//! through the config's reason map (`[report.cancel_reasons]`, raw text → canonical
//! reason, so `时间冲突` and `Schedule conflict` count as one), with counts and shares.
//!
//! The text is typed by candidates and may hold anything (a name, a phone number): a
//! reason or text given by fewer interviews than the suppression threshold is never
//! printed; such rows are pooled into one `rare_reasons` row (published whatever its
//! size: it names no text), so every request is still counted. Reads the requests the one pass over the events collected; events up
//! to as-of, of closed interviews only.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use polars::prelude::*;

use super::frame;
use super::stats::ratio;
use super::Settings;

/// The pooled row of reasons (and texts) too rare to print.
pub const RARE_REASONS: &str = "rare_reasons";

/// A reason text as compared: trimmed, lower-cased (Unicode), inner white space
/// collapsed to one space; `None` when nothing is left.
pub fn normalise_reason(text: &str) -> Option<String> {
    let folded = text.to_lowercase();
    let words: Vec<&str> = folded.split_whitespace().collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The reason map of the config with its keys normalised (values trimmed).
pub fn reason_map(config: &BTreeMap<String, String>) -> HashMap<String, String> {
    config.iter().filter_map(|(raw, canonical)| Some((normalise_reason(raw)?, canonical.trim().to_string()))).collect()
}

#[derive(Default)]
struct Tally {
    requests: u64,
    interviews: BTreeSet<IdxSize>,
    /// Texts: whether it came through the map. Reasons: the distinct texts merged in it.
    mapped: bool,
    texts: BTreeSet<Option<String>>,
}

/// `cancel_reasons` (by canonical `reason`) and `cancel_reason_texts` (by normalised
/// `text`, with the `reason` it counts under): `requests`, `interviews` (distinct),
/// `share` of all requests, then `texts` (distinct texts merged into the reason) or
/// `mapped` (the text went through the map), and `suppressed`.
/// `requests` is [`super::events::EventFacts::cancel_request_events`].
pub fn cancel_reason_tables(
    closed: &LazyFrame,
    requests: &DataFrame,
    map: &HashMap<String, String>,
    s: &Settings,
) -> PolarsResult<Vec<(String, DataFrame)>> {
    let kept = requests
        .clone()
        .lazy()
        .join(closed.clone().select([col("iv_idx")]), [col("iv_idx")], [col("iv_idx")], JoinArgs::new(JoinType::Inner))
        .collect()?;
    let ivs: Vec<Option<IdxSize>> = kept.column("iv_idx")?.idx()?.iter().collect();
    let raw: Vec<Option<String>> = frame::strings(&kept, "reason")?;
    let mut reasons: BTreeMap<Option<String>, Tally> = BTreeMap::new();
    let mut texts: BTreeMap<(Option<String>, Option<String>), Tally> = BTreeMap::new();
    for (iv, text) in ivs.iter().zip(&raw) {
        let Some(iv) = *iv else { continue };
        let text = text.as_deref().and_then(normalise_reason);
        let mapped = text.as_ref().and_then(|t| map.get(t)).cloned();
        let reason = mapped.clone().or_else(|| text.clone());
        for tally in [reasons.entry(reason.clone()).or_default(), texts.entry((text.clone(), reason.clone())).or_default()] {
            tally.requests += 1;
            tally.interviews.insert(iv);
            tally.mapped = mapped.is_some();
            tally.texts.insert(text.clone());
        }
    }
    let total: u64 = reasons.values().map(|t| t.requests).sum();
    let t = s.suppression_threshold;
    let pool = |rows: Vec<(Vec<Option<String>>, Tally)>, width: usize| -> Vec<(Vec<Option<String>>, Tally)> {
        let mut kept: Vec<(Vec<Option<String>>, Tally)> = Vec::new();
        let mut rare = Tally::default();
        for (key, tally) in rows {
            if crate::privacy::suppressed(tally.interviews.len() as u64, t) && key.iter().any(Option::is_some) {
                rare.requests += tally.requests;
                rare.interviews.extend(tally.interviews);
                rare.texts.extend(tally.texts);
            } else {
                kept.push((key, tally));
            }
        }
        // Largest first; ties by key, the missing reason last.
        kept.sort_by(|a, b| b.1.requests.cmp(&a.1.requests).then((a.0.iter().any(Option::is_none)).cmp(&b.0.iter().any(Option::is_none))).then(a.0.cmp(&b.0)));
        if rare.requests > 0 {
            kept.push((vec![Some(RARE_REASONS.to_string()); width], rare));
        }
        kept
    };
    let reason_rows = pool(reasons.into_iter().map(|(k, v)| (vec![k], v)).collect(), 1);
    let text_rows = pool(texts.into_iter().map(|((text, reason), v)| (vec![text, reason], v)).collect(), 2);
    let table = |rows: &[(Vec<Option<String>>, Tally)], keys: &[&str], per_text: bool| -> PolarsResult<DataFrame> {
        // The pooled row shows no text, so its count is published whatever its size
        // (every request stays accounted for).
        let pooled = |r: &(Vec<Option<String>>, Tally)| r.0.iter().all(|k| k.as_deref() == Some(RARE_REASONS));
        let hidden: Vec<bool> = rows.iter().map(|r| !pooled(r) && crate::privacy::suppressed(r.1.interviews.len() as u64, t)).collect();
        let mut columns: Vec<Column> =
            keys.iter().enumerate().map(|(k, name)| frame::col_str(name, rows.iter().map(|r| r.0[k].clone()).collect())).collect();
        let n = rows.len();
        columns.extend([
            frame::col_i64("requests", (0..n).map(|i| (!hidden[i]).then_some(rows[i].1.requests as i64)).collect()),
            frame::col_i64("interviews", (0..n).map(|i| (!hidden[i]).then_some(rows[i].1.interviews.len() as i64)).collect()),
            frame::col_f64("share", (0..n).map(|i| if hidden[i] { None } else { ratio(rows[i].1.requests, total) }).collect()),
        ]);
        if per_text {
            columns.push(frame::col_bool("mapped", rows.iter().map(|r| r.1.mapped).collect()));
        } else {
            columns.push(frame::col_i64("texts", (0..n).map(|i| (!hidden[i]).then_some(rows[i].1.texts.len() as i64)).collect()));
        }
        columns.push(frame::col_bool("suppressed", hidden));
        DataFrame::new(n, columns)
    };
    Ok(vec![
        ("cancel_reasons".to_string(), table(&reason_rows, &["reason"], false)?),
        ("cancel_reason_texts".to_string(), table(&text_rows, &["text", "reason"], true)?),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_normalised_before_the_map() {
        assert_eq!(normalise_reason("  Schedule   CONFLICT\t"), Some("schedule conflict".into()));
        assert_eq!(normalise_reason(" 时间冲突 "), Some("时间冲突".into()));
        assert_eq!(normalise_reason(" \t "), None);
        let map = reason_map(&[(" 时间冲突".to_string(), "schedule_conflict ".to_string())].into_iter().collect());
        assert_eq!(map.get("时间冲突").map(String::as_str), Some("schedule_conflict"));
    }
}
