//! The report's "closing the loop" section: what the extra help changed (helped
//! against held-out interviews, by risk band) and the model on its own outcomes by
//! week. Every label comes from the one table in [`super::i18n`].

use std::fmt::Write;

use polars::prelude::*;

use super::i18n::{fill, t, t_or, value, Lang};
use super::svg::{self, esc, pct, DotRow};
use crate::analytics::frame::{bools, f64s, i64s, strings};
use crate::analytics::help::LoopTables;

/// The section's HTML: `None` tables means no feed was ever archived; `None` drift,
/// no archived day with drift figures (the `drift` table, see model::drift).
pub fn render(tables: Option<&LoopTables>, drift: Option<&DataFrame>, lang: Lang) -> PolarsResult<String> {
    let mut h = outcomes(tables, lang)?;
    h.push_str(&drift_html(drift, tables.is_some(), lang)?);
    Ok(h)
}

/// The drift of the latest archived day: a sentence, then each feature's PSI and level.
fn drift_html(drift: Option<&DataFrame>, archived: bool, lang: Lang) -> PolarsResult<String> {
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    let _ = write!(h, "<h3>{}</h3>", esc(&tr("loop_drift")));
    let Some(df) = drift.filter(|d| d.height() > 0) else {
        let key = if archived { "loop_drift_none" } else { "loop_drift_no_archive" };
        let _ = write!(h, "<p class=\"note\">{}</p>", esc(&tr(key)));
        return Ok(h);
    };
    let (feature, date, version, rows, psi, level, bin, e, a) = (
        strings(df, "feature")?,
        strings(df, "as_of_date")?,
        strings(df, "model_version")?,
        i64s(df, "interviews")?,
        f64s(df, "psi")?,
        strings(df, "level")?,
        strings(df, "most_changed_bin")?,
        f64s(df, "training_share")?,
        f64s(df, "feed_share")?,
    );
    let latest = date.iter().flatten().max().cloned().unwrap_or_default();
    let today: Vec<usize> = (0..df.height()).filter(|&i| date[i].as_deref() == Some(latest.as_str())).collect();
    let first = today.first().copied().unwrap_or(0);
    let _ = write!(
        h,
        "<p class=\"note\">{}</p>",
        esc(&fill(
            &tr("loop_drift_note"),
            &[
                ("date", latest.clone()),
                ("rows", rows[first].map(|r| r.to_string()).unwrap_or_default()),
                ("version", version[first].clone().unwrap_or_default()),
            ]
        ))
    );
    let shifted: Vec<String> =
        today.iter().filter(|&&i| level[i].as_deref() == Some("shift")).map(|&i| t_or(lang, "feature_", feature[i].as_deref().unwrap_or(""))).collect();
    let sentence = if shifted.is_empty() {
        tr("loop_drift_stable")
    } else {
        fill(&tr("loop_drift_shifted"), &[("n", shifted.len().to_string()), ("features", shifted.join(", "))])
    };
    let _ = write!(h, "<ul class=\"findings\"><li>{}</li></ul>", esc(&sentence));
    h.push_str("<div class=\"scroll\"><table><tr>");
    for head in ["feature", "psi", "level", "most_changed"] {
        let _ = write!(h, "<th>{}</th>", esc(&t_or(lang, "col_", head)));
    }
    h.push_str("</tr>");
    let mut order = today.clone();
    order.sort_by(|&x, &y| psi[y].unwrap_or(0.0).total_cmp(&psi[x].unwrap_or(0.0)));
    for i in order {
        let name = feature[i].as_deref().unwrap_or("");
        let moved = match (&bin[i], e[i], a[i]) {
            (Some(b), Some(e), Some(a)) => format!("{}: {} → {}", value(lang, b), pct(e), pct(a)),
            _ => "–".to_string(),
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&t_or(lang, "feature_", name)),
            psi[i].map(|v| format!("{v:.3}")).unwrap_or_else(|| "–".into()),
            esc(&t_or(lang, "drift_", level[i].as_deref().unwrap_or(""))),
            esc(&moved),
        );
    }
    h.push_str("</table></div>");
    Ok(h)
}

/// What the help changed and the model on its own outcomes.
fn outcomes(tables: Option<&LoopTables>, lang: Lang) -> PolarsResult<String> {
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    let _ = write!(h, "<h2>{}</h2>", esc(&tr("loop")));
    let Some(lt) = tables else {
        let _ = write!(h, "<p class=\"note\">{}</p>", esc(&tr("loop_no_archive")));
        return Ok(h);
    };
    let c = &lt.counts;
    let _ = write!(
        h,
        "<p class=\"note\">{}</p>",
        esc(&fill(
            &tr("loop_counts"),
            &[
                ("archived", c.archived_interviews.to_string()),
                ("closed", c.with_outcome.to_string()),
                ("outside", c.outside_label.to_string()),
                ("open", c.still_open.to_string()),
            ]
        ))
    );
    if c.with_outcome == 0 {
        let _ = write!(h, "<p class=\"note\">{}</p>", esc(&tr("loop_no_outcomes")));
        return Ok(h);
    }
    let df = &lt.help_effect;
    let (group, value, diff, lo, hi) =
        (strings(df, "group")?, strings(df, "value")?, f64s(df, "difference")?, f64s(df, "difference_low")?, f64s(df, "difference_high")?);
    let (rate_h, rate_c, prevented, suppressed) =
        (f64s(df, "miss_rate_help")?, f64s(df, "miss_rate_holdout")?, f64s(df, "misses_prevented")?, bools(df, "suppressed")?);
    // The plain sentence, for the high band (where the calls go) or everything.
    let pick = (0..df.height())
        .find(|&i| value[i].as_deref() == Some("high") && diff[i].is_some())
        .or_else(|| (0..df.height()).find(|&i| group[i].as_deref() == Some("all") && diff[i].is_some()));
    match pick {
        Some(i) => {
            let scope = if value[i].as_deref() == Some("high") { tr("loop_scope_high") } else { tr("loop_scope_all") };
            let points = |v: Option<f64>| v.map(|x| format!("{:+.0}", x * 100.0)).unwrap_or_default();
            let _ = write!(
                h,
                "<ul class=\"findings\"><li>{}</li></ul>",
                esc(&fill(
                    &tr("loop_sentence"),
                    &[
                        ("scope", scope),
                        ("holdout", rate_c[i].map(pct).unwrap_or_default()),
                        ("help", rate_h[i].map(pct).unwrap_or_default()),
                        ("low", points(lo[i])),
                        ("high", points(hi[i])),
                        ("prevented", prevented[i].map(|p| format!("{p:.0}")).unwrap_or_default()),
                    ]
                ))
            );
        }
        None => {
            let _ = write!(h, "<p class=\"note\">{}</p>", esc(&tr("loop_too_few")));
        }
    }
    // The effect by band: the difference (help − holdout) with its interval.
    let rows: Vec<DotRow> = (0..df.height())
        .filter(|&i| group[i].as_deref() != Some("suggested_action"))
        .map(|i| DotRow {
            label: t_or(lang, "band_", value[i].as_deref().unwrap_or("")),
            rate: diff[i].map(|d| d.abs()),
            low: match (diff[i], lo[i], hi[i]) {
                (Some(d), Some(l), Some(u)) => Some(if d < 0.0 { -u } else { l }.max(0.0)),
                _ => None,
            },
            high: match (diff[i], lo[i], hi[i]) {
                (Some(d), Some(l), Some(u)) => Some(if d < 0.0 { -l } else { u }),
                _ => None,
            },
            note: if suppressed[i].unwrap_or(false) {
                tr("suppressed")
            } else {
                diff[i].map(|d| if d < 0.0 { tr("loop_fewer") } else { tr("loop_more") }).unwrap_or_default()
            },
        })
        .collect();
    let _ = write!(h, "<h3>{}</h3><p class=\"note\">{}</p>", esc(&tr("loop_effect")), esc(&tr("loop_effect_note")));
    h.push_str(&svg::dot_whisker(&rows, None, &tr("suppressed")));

    // The model on its own outcomes: the held-out interviews are the honest ones.
    let m = &lt.model_monitoring;
    let (week, version, arm, n, a, alo, ahi, mean_p, rate, ece) = (
        strings(m, "week")?,
        strings(m, "model_version")?,
        strings(m, "arm")?,
        i64s(m, "interviews")?,
        f64s(m, "auc")?,
        f64s(m, "auc_low")?,
        f64s(m, "auc_high")?,
        f64s(m, "mean_p")?,
        f64s(m, "miss_rate")?,
        f64s(m, "ece")?,
    );
    let _ = write!(h, "<h3>{}</h3><p class=\"note\">{}</p>", esc(&tr("loop_monitoring")), esc(&tr("loop_monitoring_note")));
    h.push_str("<div class=\"scroll\"><table><tr>");
    for head in ["week", "model_version", "arm", "interviews", "auc", "mean_p", "miss_rate", "ece"] {
        let _ = write!(h, "<th>{}</th>", esc(&t_or(lang, "col_", head)));
    }
    h.push_str("</tr>");
    let opt = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map(f).unwrap_or_else(|| tr("suppressed"));
    for i in 0..m.height().min(2 * super::MAX_CHART_ROWS) {
        let auc_text = match (a[i], alo[i], ahi[i]) {
            (Some(x), Some(l), Some(u)) => format!("{x:.3} ({l:.3}–{u:.3})"),
            (Some(x), _, _) => format!("{x:.3}"),
            _ => "–".to_string(),
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(week[i].as_deref().unwrap_or("")),
            esc(version[i].as_deref().unwrap_or("")),
            esc(&t_or(lang, "arm_", arm[i].as_deref().unwrap_or(""))),
            n[i].map(|x| x.to_string()).unwrap_or_else(|| tr("suppressed")),
            esc(&auc_text),
            opt(mean_p[i], &|v| pct(v)),
            opt(rate[i], &|v| pct(v)),
            opt(ece[i], &|v| pct(v)),
        );
    }
    h.push_str("</table></div>");
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::drift::{DriftDay, FeatureDrift};

    fn day(date: &str, level: &str) -> DriftDay {
        DriftDay {
            as_of: format!("{date}T00:00:00Z"),
            as_of_date: date.into(),
            model_version: "0003".into(),
            rows: 120,
            window_days: 7.0,
            reference_window_days: 7.0,
            warn_psi: 0.2,
            formula: String::new(),
            features: vec![FeatureDrift {
                feature: "confirmed".into(),
                kind: "numeric".into(),
                bins: vec!["<= 0".into(), "(0, 1]".into()],
                reference_shares: vec![0.5, 0.5],
                counts: vec![110, 10],
                psi: Some(0.6),
                level: Some(level.into()),
            }],
        }
    }

    #[test]
    fn the_drift_part_says_what_is_missing_and_shows_the_latest_day() {
        assert!(render(None, None, Lang::En).unwrap().contains("No drift figures yet"));
        assert!(drift_html(None, true, Lang::En).unwrap().contains("carry no drift figures"));
        let table = crate::analytics::help::drift_table(&[day("2026-11-16", "stable"), day("2026-11-17", "shift")]).unwrap();
        assert_eq!(table.height(), 2);
        let html = drift_html(Some(&table), true, Lang::En).unwrap();
        // The latest day only: its shift, in words, with the bin that moved.
        assert!(html.contains("Shifted features (1): confirmed the time."), "{html}");
        assert!(html.contains("2026-11-17") && !html.contains("2026-11-16"), "{html}");
        // (0, 1] moved most: (0.083 − 0.5) · ln(0.083 / 0.5) = 0.75 against 0.25 for <= 0.
        assert!(html.contains("(0, 1]: 50.0 % → 8.3 %"), "{html}");
        let zh = drift_html(Some(&table), true, Lang::Zh).unwrap();
        assert!(zh.contains("偏移") && zh.contains("已确认时间"), "{zh}");
    }
}
