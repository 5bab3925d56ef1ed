//! The report's sections on what the event trace shows beyond the funnel:
//! confirmations, link errors and the reasons candidates give when cancelling.
//!
//! Pure: each section reads its tables from the [`Analysis`] and returns an HTML
//! fragment (empty when its tables are missing); every word comes from the label
//! table of [`super::i18n`].

use std::fmt::Write as _;

use polars::prelude::*;

use super::i18n::{fill, t, value, Lang};
use super::svg::{self, esc, pct, thousands, DotRow};
use crate::analytics::confirm::CONFIRM_TIME_ORDER;
use crate::analytics::frame::{bools, f64s, i64s, strings};
use crate::analytics::link_errors::INVITE_AGE_ORDER;
use crate::analytics::Analysis;

/// Rows of a `group, value` table (`confirmations`, `link_error_rates`) for one group,
/// as dots with intervals of `rate` (`rate_low`, `rate_high`).
fn group_rows(df: &DataFrame, group: &str, rate: &str, lang: Lang) -> PolarsResult<Vec<DotRow>> {
    let (g, v, n) = (strings(df, "group")?, strings(df, "value")?, i64s(df, "interviews")?);
    let (r, lo, hi) = (f64s(df, rate)?, f64s(df, &format!("{rate}_low"))?, f64s(df, &format!("{rate}_high"))?);
    let rows: Vec<usize> = (0..df.height()).filter(|&i| g[i].as_deref() == Some(group)).collect();
    let shown: Vec<Option<i64>> = rows.iter().map(|&i| n[i]).collect();
    let keep = super::largest(&shown, super::MAX_CHART_ROWS);
    Ok(rows
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(&i, _)| DotRow {
            label: v[i].as_deref().map(|v| value(lang, v)).unwrap_or_else(|| t(lang, "unknown")),
            rate: r[i],
            low: lo[i],
            high: hi[i],
            note: n[i].map(|n| format!("n={}", thousands(n))).unwrap_or_default(),
        })
        .collect())
}

/// The `all` row's value of `column` in a `group, value` table.
fn overall(df: &DataFrame, column: &str) -> PolarsResult<Option<f64>> {
    let g = strings(df, "group")?;
    let v = f64s(df, column)?;
    Ok((0..df.height()).find(|&i| g[i].as_deref() == Some("all")).and_then(|i| v[i]))
}

/// 100 % stacked bars from `(row label, item code, share)` triples, with the items in
/// `order` (time buckets in time order), then any others by first appearance.
fn stacked_in_order(cells: &[(String, Option<String>, Option<f64>)], order: &[&str], lang: Lang) -> String {
    let mut codes: Vec<Option<String>> = order.iter().map(|o| Some(o.to_string())).collect();
    for (_, code, _) in cells {
        if !codes.contains(code) {
            codes.push(code.clone());
        }
    }
    codes.retain(|c| cells.iter().any(|(_, code, share)| code == c && share.is_some()));
    let name = |c: &Option<String>| c.as_deref().map(|c| value(lang, c)).unwrap_or_else(|| t(lang, "unknown"));
    let categories: Vec<String> = codes.iter().map(name).collect();
    let mut rows: Vec<(String, Vec<(String, f64)>)> = Vec::new();
    for (label, code, share) in cells {
        let Some(share) = share else { continue };
        if rows.last().map(|r| &r.0) != Some(label) {
            rows.push((label.clone(), Vec::new()));
        }
        if let Some(last) = rows.last_mut() {
            last.1.push((name(code), *share));
        }
    }
    for row in rows.iter_mut() {
        row.1.sort_by_key(|(c, _)| categories.iter().position(|x| x == c).unwrap_or(usize::MAX));
    }
    svg::stacked_shares(&rows, &categories)
}

/// Confirmations: the rate by role and by channel (one axis), by week, the time from
/// invitation to confirmation, and the no-show rate of confirmed against unconfirmed
/// candidates a day before the slot.
pub fn confirmations(a: &Analysis, lang: Lang) -> PolarsResult<String> {
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    let Some(df) = a.get("confirmations") else { return Ok(h) };
    let rate = overall(df, "confirmation_rate")?;
    let within = overall(df, "within_24h_rate")?;
    let median = overall(df, "median_hours_to_confirm")?;
    let note = fill(
        &tr("confirmations_note"),
        &[
            ("rate", rate.map(pct).unwrap_or_else(|| "–".into())),
            ("within", within.map(pct).unwrap_or_else(|| "–".into())),
            ("median", median.map(|m| fill(&tr("hours"), &[("n", format!("{m:.1}"))])).unwrap_or_else(|| "–".into())),
        ],
    );
    let _ = write!(h, "<h2>{}</h2><p class=\"note\">{}</p>", esc(&tr("confirmations")), esc(&note));
    let by_role = group_rows(df, "role", "confirmation_rate", lang)?;
    let by_channel = group_rows(df, "preferred_channel", "confirmation_rate", lang)?;
    let max = svg::dot_axis_max(&by_role, rate).max(svg::dot_axis_max(&by_channel, rate));
    for (key, rows) in [("confirmation_by_role", by_role), ("confirmation_by_channel", by_channel)] {
        let _ = write!(h, "<h3>{}</h3>", esc(&tr(key)));
        h.push_str(&svg::dot_whisker_on(&rows, rate, &tr("suppressed"), max));
    }
    let weeks: Vec<svg::BandPoint> =
        group_rows(df, "week", "confirmation_rate", lang)?.into_iter().map(|r| (r.label, r.rate, r.low, r.high)).collect();
    if !weeks.is_empty() {
        let _ = write!(h, "<h3>{}</h3>", esc(&tr("confirmation_weekly")));
        h.push_str(&svg::line_band_on(&weeks, 1.0));
    }
    let mut cells: Vec<(String, Option<String>, Option<f64>)> = Vec::new();
    if let Some(all) = a.get("confirmation_time") {
        let (item, share) = (strings(all, "confirm_time")?, f64s(all, "share")?);
        cells.extend((0..all.height()).map(|i| (value(lang, "all"), item[i].clone(), share[i])));
    }
    if let Some(by) = a.get("confirmation_time_by_role") {
        let (role, item, share) = (strings(by, "role")?, strings(by, "confirm_time")?, f64s(by, "share")?);
        cells.extend((0..by.height()).map(|i| (role[i].as_deref().map(|r| value(lang, r)).unwrap_or_else(|| tr("unknown")), item[i].clone(), share[i])));
    }
    if !cells.is_empty() {
        let _ = write!(h, "<h3>{}</h3>", esc(&tr("confirmation_time")));
        h.push_str(&stacked_in_order(&cells, CONFIRM_TIME_ORDER, lang));
    }
    if let Some(df) = a.get("confirmation_no_show") {
        let (key, r, lo, hi, n) = (
            bools(df, "confirmed_24h_before")?,
            f64s(df, "no_show_rate")?,
            f64s(df, "no_show_rate_low")?,
            f64s(df, "no_show_rate_high")?,
            i64s(df, "interviews")?,
        );
        let rows: Vec<DotRow> = (0..df.height())
            .map(|i| DotRow {
                label: tr(&format!("confirmed_24h_{}", key[i].unwrap_or(false))),
                rate: r[i],
                low: lo[i],
                high: hi[i],
                note: n[i].map(|n| format!("n={}", thousands(n))).unwrap_or_default(),
            })
            .collect();
        let _ = write!(h, "<h3>{}</h3><p class=\"note\">{}</p>", esc(&tr("confirmation_no_show")), esc(&tr("confirmation_no_show_note")));
        h.push_str(&svg::dot_whisker(&rows, crate::analytics::findings::overall_rate(a), &tr("suppressed")));
    }
    Ok(h)
}

/// Link errors: how often each role hits one, the error codes by time since the
/// invitation, and how many unexplained no-shows look technical.
pub fn link_errors(a: &Analysis, lang: Lang) -> PolarsResult<String> {
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    let Some(df) = a.get("link_error_rates") else { return Ok(h) };
    let rate = overall(df, "link_error_rate")?;
    let events: i64 = {
        let (g, e) = (strings(df, "group")?, i64s(df, "link_error_events")?);
        (0..df.height()).filter(|&i| g[i].as_deref() == Some("all")).filter_map(|i| e[i]).sum()
    };
    let likely: i64 = match a.get("causes_no_show") {
        Some(c) => {
            let (l, n) = (strings(c, "likely_cause")?, i64s(c, "count")?);
            (0..c.height()).filter(|&i| l[i].is_some()).filter_map(|i| n[i]).sum()
        }
        None => 0,
    };
    let note = fill(
        &tr("link_errors_note"),
        &[("rate", rate.map(pct).unwrap_or_else(|| "–".into())), ("events", thousands(events)), ("likely", thousands(likely))],
    );
    let _ = write!(h, "<h2>{}</h2><p class=\"note\">{}</p>", esc(&tr("link_errors")), esc(&note));
    h.push_str(&svg::dot_whisker(&group_rows(df, "role", "link_error_rate", lang)?, rate, &tr("suppressed")));
    if let Some(age) = a.get("link_errors_by_invite_age") {
        let (bucket, code, share, hidden) = (strings(age, "hours_since_invite")?, strings(age, "error_code")?, f64s(age, "share")?, bools(age, "suppressed")?);
        // Codes by their number of errors overall, largest first, so colours stay put.
        let counts = i64s(age, "count")?;
        let mut totals: Vec<(String, i64)> = Vec::new();
        for i in 0..age.height() {
            let c = code[i].clone().unwrap_or_default();
            match totals.iter_mut().find(|(k, _)| *k == c) {
                Some(e) => e.1 += counts[i].unwrap_or(0),
                None => totals.push((c, counts[i].unwrap_or(0))),
            }
        }
        totals.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        let codes: Vec<&str> = totals.iter().map(|(c, _)| c.as_str()).collect();
        let mut cells: Vec<(String, Option<String>, Option<f64>)> = Vec::new();
        for wanted in INVITE_AGE_ORDER {
            for i in 0..age.height() {
                if bucket[i].as_deref() == Some(*wanted) && hidden[i] == Some(false) {
                    cells.push((value(lang, wanted), code[i].clone(), share[i]));
                }
            }
        }
        if !cells.is_empty() {
            let _ = write!(h, "<h3>{}</h3><p class=\"note\">{}</p>", esc(&tr("link_errors_age")), esc(&tr("link_errors_age_note")));
            h.push_str(&stacked_in_order(&cells, &codes, lang));
        }
    }
    Ok(h)
}

/// The reasons candidates typed when cancelling, merged, as shares of all requests.
pub fn cancel_reasons(a: &Analysis, lang: Lang, threshold: u64) -> PolarsResult<String> {
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    let Some(df) = a.get("cancel_reasons") else { return Ok(h) };
    if df.height() == 0 {
        return Ok(h);
    }
    let (reason, requests, share) = (strings(df, "reason")?, i64s(df, "requests")?, f64s(df, "share")?);
    let total: i64 = requests.iter().flatten().sum();
    let note = fill(&tr("cancel_reasons_note"), &[("threshold", threshold.to_string()), ("requests", thousands(total))]);
    let _ = write!(h, "<h3>{}</h3><p class=\"note\">{}</p>", esc(&tr("cancel_reasons")), esc(&note));
    let rows: Vec<(String, f64, String)> = (0..df.height().min(super::MAX_CHART_ROWS))
        .map(|i| {
            let label = reason[i].as_deref().map(|r| value(lang, r)).unwrap_or_else(|| tr("no_reason_given"));
            let note = match (requests[i], share[i]) {
                (Some(n), Some(s)) => format!("{} · {}", thousands(n), pct(s)),
                _ => tr("suppressed"),
            };
            (label, share[i].unwrap_or(0.0), note)
        })
        .collect();
    h.push_str(&svg::bars(&rows, None, "#CC79A7"));
    Ok(h)
}
