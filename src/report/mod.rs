//! The HTML report for HR leads: one self-contained page (inline CSS and SVG, no
//! network) rendered from the analytics tables. Pure: returns a `String`; the command
//! writes it.

pub mod i18n;
pub mod loop_section;
pub mod model_section;
pub mod svg;
pub mod trace_sections;

use std::collections::BTreeMap;
use std::fmt::Write;

use polars::prelude::*;

use crate::analytics::findings::{overall_rate, Finding};
use crate::analytics::frame::{bools, f64s, i64s, strings};
use crate::analytics::Analysis;
use i18n::{fill, t, t_or, Lang};
use svg::{esc, money, pct, thousands, DotRow};

/// What the page shows besides the tables.
#[derive(Debug, Clone)]
pub struct ReportInput<'a> {
    pub analysis: &'a Analysis,
    pub findings: &'a [Finding],
    pub lang: Lang,
    /// The as-of instant as printed (local time with offset).
    pub as_of: String,
    pub tz: String,
    pub lake_version: u64,
    pub suppression_threshold: u64,
    /// `[report] currency`: printed with every amount of money (none by default).
    pub currency: Option<String>,
    /// The model section: a trusted HTML fragment from the model's evaluation, placed
    /// after the analytics when a model exists (the hook `train`/`run` fill in).
    pub model_section: Option<String>,
    /// The closing-the-loop section (always drawn: it says what is missing).
    pub loop_section: String,
    /// Rows set aside at ingest over the lake's life (from its manifest).
    pub set_aside: u64,
}

const CSS: &str = r#"
body{font-family:-apple-system,"Segoe UI","Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei","WenQuanYi Zen Hei",sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:820px;margin:0 auto;padding:24px 28px 48px;background:#fff;box-sizing:border-box}
h1{font-size:26px;margin:8px 0 4px}h2{font-size:19px;margin:30px 0 6px;border-bottom:2px solid #0072B2;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 4px;color:#37425a}.sub{color:#5b6478;font-size:13px}
p,li,.sub{overflow-wrap:anywhere}
.tiles{display:flex;flex-wrap:wrap;gap:10px}.tile{flex:1 1 140px;border:1px solid #dde1e8;border-radius:6px;padding:10px 12px;min-width:0}
.tile .v{font-size:22px;font-weight:600}.tile .k{font-size:12px;color:#5b6478}.tile .i{font-size:11px;color:#7a8296}
p.note{font-size:12px;color:#5b6478;margin:2px 0 6px}ul.findings li{margin:4px 0;font-size:14px}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;margin:6px 0}td,th{border-bottom:1px solid #e6e8ee;padding:3px 10px;text-align:left}
th{background:#f0f2f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
svg.chart{display:block;width:100%;max-width:640px;height:auto;margin:4px 0}
svg text{font-size:13px;fill:#1d2330}svg .tick,svg .key{font-size:11px;fill:#5b6478}svg .key{fill:#1d2330}svg .note{font-size:11px;fill:#37425a}
svg .muted{font-size:11px;fill:#9aa1b2;font-style:italic}svg .inbar{font-size:10px;fill:#fff}
footer{margin-top:36px;font-size:11px;color:#7a8296}
@media (max-width:600px){main{padding:12px 10px 32px}h1{font-size:21px}h2{font-size:17px}.tile{flex:1 1 110px;padding:8px}.tile .v{font-size:19px}td,th{padding:3px 6px}}
"#;

fn label(lang: Lang, dim: &str, value: &Option<String>) -> String {
    match value {
        None => t(lang, "unknown"),
        Some(v) if dim == "fresh_graduate" => t(lang, v),
        Some(v) => i18n::value(lang, v),
    }
}

/// Segments a chart draws at most; the rest are one line pointing to the table (an
/// export with 200 k distinct role values must still give a readable page).
pub const MAX_CHART_ROWS: usize = 30;

fn dot_rows(df: &DataFrame, dim: &str, lang: Lang) -> PolarsResult<Vec<DotRow>> {
    let (seg, rate, low, high, n) =
        (strings(df, dim)?, f64s(df, "no_show_rate")?, f64s(df, "no_show_rate_low")?, f64s(df, "no_show_rate_high")?, i64s(df, "interviews")?);
    let shown = largest(&n, MAX_CHART_ROWS);
    let mut rows: Vec<DotRow> = (0..df.height())
        .filter(|&i| shown[i])
        .map(|i| DotRow {
            label: label(lang, dim, &seg[i]),
            rate: rate[i],
            low: low[i],
            high: high[i],
            note: n[i].map(|n| format!("n={}", thousands(n))).unwrap_or_default(),
        })
        .collect();
    let hidden = shown.iter().filter(|s| !**s).count();
    if hidden > 0 {
        let interviews: i64 = (0..df.height()).filter(|&i| !shown[i]).filter_map(|i| n[i]).sum();
        rows.push(DotRow {
            label: fill(&t(lang, "more_segments"), &[("count", thousands(hidden as i64)), ("interviews", thousands(interviews))]),
            rate: None,
            low: None,
            high: None,
            note: String::new(),
        });
    }
    Ok(rows)
}

/// Which rows are among the `k` largest by `n` (suppressed rows, with no count, last;
/// ties by position), as a mask in row order.
fn largest(n: &[Option<i64>], k: usize) -> Vec<bool> {
    let mut order: Vec<usize> = (0..n.len()).collect();
    order.sort_by(|&a, &b| n[b].unwrap_or(-1).cmp(&n[a].unwrap_or(-1)).then(a.cmp(&b)));
    let mut mask = vec![false; n.len()];
    for &i in order.iter().take(k) {
        mask[i] = true;
    }
    mask
}

fn html_table(head: &[String], rows: &[Vec<(String, bool)>]) -> String {
    let mut out = String::from("<div class=\"scroll\"><table><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>");
    for row in rows {
        out.push_str("<tr>");
        for (cell, numeric) in row {
            let _ = write!(out, "<td{}>{}</td>", if *numeric { r#" class="n""# } else { "" }, esc(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table></div>");
    out
}

fn opt_pct(v: Option<f64>) -> String {
    v.map(pct).unwrap_or_else(|| "–".into())
}

/// Renders the whole page.
pub fn render(input: &ReportInput<'_>) -> PolarsResult<String> {
    i18n::with_page_values(raw_values(&input.analysis.tables), || render_page(input))
}

/// Every text value of the tables' text columns: what the page may show as data. The
/// texts candidates typed (`cancel_reason_texts.text`) are left out: the page never
/// shows them, so a reason whose word equals one (时间冲突) needs no code beside it.
pub fn raw_values(tables: &[(String, DataFrame)]) -> std::collections::HashSet<String> {
    let mut values = std::collections::HashSet::new();
    for (_, df) in tables {
        for c in df.columns().iter().filter(|c| c.name().as_str() != "text") {
            if let Ok(texts) = c.str() {
                values.extend(texts.iter().flatten().map(str::to_string));
            }
        }
    }
    values
}

fn render_page(input: &ReportInput<'_>) -> PolarsResult<String> {
    let (a, lang) = (input.analysis, input.lang);
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style>{CSS}</style></head><body><main>",
        lang.code(),
        esc(&tr("title"))
    );
    let _ = write!(
        h,
        "<h1>{}</h1><div class=\"sub\">{}</div>",
        esc(&tr("title")),
        esc(&fill(&tr("subtitle"), &[("as_of", input.as_of.clone()), ("tz", input.tz.clone()), ("version", input.lake_version.to_string()), ("noshow", crate::VERSION.to_string())]))
    );
    // The page is its sections, in reading order, each from its own tables.
    let overall = overall_rate(a);
    let sections: [Section; 13] = [
        section_coverage,
        section_headline,
        section_changes,
        section_findings,
        section_segments,
        section_weekly_trend,
        section_causes,
        section_funnel,
        section_reminders,
        section_timing,
        section_cost,
        section_signals,
        section_reinvites,
    ];
    for section in sections {
        h.push_str(&section(input, overall)?);
    }
    h.push_str(&input.loop_section);
    if let Some(model) = &input.model_section {
        let _ = write!(h, "<h2>{}</h2><section id=\"model\">{model}</section>", esc(&tr("model")));
    }
    let _ = write!(h, "<footer>{}</footer></main></body></html>\n", esc(&fill(&tr("footer"), &[("noshow", crate::VERSION.to_string())])));
    Ok(h)
}

/// One section of the page: its HTML from the analysis (and the overall no-show rate
/// the charts draw as their reference line).
type Section = fn(&ReportInput<'_>, Option<f64>) -> PolarsResult<String>;

/// What the figures cover (closed interviews, first and last slot day, rows set aside), before any figure.
fn section_coverage(input: &ReportInput<'_>, _overall: Option<f64>) -> PolarsResult<String> {
    let (a, lang) = (input.analysis, input.lang);
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    if let Ok(slots) = a.closed.column("scheduled_at").and_then(|c| c.cast(&DataType::Int64)) {
        if let (Ok(Some(first)), Ok(Some(last))) = (slots.i64().map(|s| s.min()), slots.i64().map(|s| s.max())) {
            let tz: chrono_tz::Tz = input.tz.parse().unwrap_or(chrono_tz::UTC);
            let day = |us: i64| crate::time::format_local(us, tz).chars().take(10).collect::<String>();
            let _ = write!(
                h,
                "<p class=\"note\">{}</p>",
                esc(&fill(
                    &tr("coverage"),
                    &[
                        ("from", day(first)),
                        ("to", day(last)),
                        ("closed", thousands(a.closed.height() as i64)),
                        ("set_aside", thousands(input.set_aside as i64)),
                    ]
                ))
            );
        }
    }
    Ok(h)
}

/// The headline tiles: closed interviews, the rates with the no-show interval, the cost of no-shows.
fn section_headline(input: &ReportInput<'_>, _overall: Option<f64>) -> PolarsResult<String> {
    let (a, lang) = (input.analysis, input.lang);
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    h.push_str(&format!("<h2>{}</h2><div class=\"tiles\">", esc(&tr("headline"))));
    if let Some(df) = a.get("overall") {
        let n = i64s(df, "interviews")?.first().copied().flatten();
        let get = |c: &str| f64s(df, c).ok().and_then(|v| v.first().copied().flatten());
        let tile = |k: &str, v: String, i: String| format!("<div class=\"tile\"><div class=\"k\">{}</div><div class=\"v\">{}</div><div class=\"i\">{}</div></div>", esc(k), esc(&v), esc(&i));
        h.push_str(&tile(&tr("closed_interviews"), n.map(thousands).unwrap_or_else(|| "–".into()), String::new()));
        let interval = match (get("no_show_rate_low"), get("no_show_rate_high")) {
            (Some(l), Some(hi)) => fill(&tr("interval_note"), &[("low", pct(l)), ("high", pct(hi))]),
            _ => String::new(),
        };
        h.push_str(&tile(&tr("no_show_rate"), opt_pct(get("no_show_rate")), interval));
        h.push_str(&tile(&tr("cancel_rate"), opt_pct(get("cancel_rate")), String::new()));
        h.push_str(&tile(&tr("company_cancel_rate"), opt_pct(get("company_cancel_rate")), String::new()));
        h.push_str(&tile(&tr("reschedule_rate"), opt_pct(get("reschedule_rate")), String::new()));
    }
    if let Some(df) = a.get("cost_total") {
        let cost = f64s(df, "no_show_cost")?.first().copied().flatten();
        h.push_str(&format!(
            "<div class=\"tile\"><div class=\"k\">{}</div><div class=\"v\">{}</div><div class=\"i\"></div></div>",
            esc(&tr("no_show_cost")),
            cost.map(|c| money(c, input.currency.as_deref())).unwrap_or_else(|| "–".into())
        ));
    }
    h.push_str("</div>");
    Ok(h)
}

/// What changed: the largest moves against the previous period, with intervals.
fn section_changes(input: &ReportInput<'_>, _overall: Option<f64>) -> PolarsResult<String> {
    changes_section(input.analysis, input.lang)
}

/// The findings, in words.
fn section_findings(input: &ReportInput<'_>, _overall: Option<f64>) -> PolarsResult<String> {
    let lang = input.lang;
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    let _ = write!(h, "<h2>{}</h2><ul class=\"findings\">", esc(&tr("findings")));
    if input.findings.iter().all(|f| !matches!(f, Finding::SegmentAbove { .. })) {
        let _ = write!(h, "<li>{}</li>", esc(&tr("no_findings")));
    }
    let max_findings = 2 * MAX_CHART_ROWS;
    for f in input.findings.iter().take(max_findings) {
        let text = match f {
            Finding::SegmentAbove { dimension, segment, rate, low, high, overall } => fill(
                &tr("finding_segment"),
                &[
                    ("dimension", tr(&format!("dim_{dimension}"))),
                    ("segment", label(lang, dimension, segment)),
                    ("rate", pct(*rate)),
                    ("low", pct(*low)),
                    ("high", pct(*high)),
                    ("overall", pct(*overall)),
                ],
            ),
            Finding::DominantCause { role, cause, share } => fill(
                &tr("finding_cause"),
                &[
                    ("role", i18n::value(lang, role)),
                    ("cause", cause.as_deref().map(|c| i18n::value(lang, c)).unwrap_or_else(|| tr("unknown"))),
                    ("share", pct(*share)),
                ],
            ),
            Finding::WorstChannel { channel, unread_rate } => {
                fill(&tr("finding_channel"), &[("channel", i18n::value(lang, channel)), ("rate", pct(*unread_rate))])
            }
            Finding::SignalRisk { signal, relative_risk, low, high } => fill(
                &tr("finding_signal"),
                &[("signal", tr(&format!("signal_{signal}"))), ("rr", format!("{relative_risk:.2}")), ("low", format!("{low:.2}")), ("high", format!("{high:.2}"))],
            ),
        };
        let _ = write!(h, "<li>{}</li>", esc(&text));
    }
    if input.findings.len() > max_findings {
        let more = input.findings.len() - max_findings;
        let _ = write!(h, "<li>{}</li>", esc(&fill(&tr("more_findings"), &[("count", more.to_string())])));
    }
    h.push_str("</ul>");
    Ok(h)
}

/// No-show rate by segment, every one-way dimension (and extra export column) on one axis.
fn section_segments(input: &ReportInput<'_>, overall: Option<f64>) -> PolarsResult<String> {
    let (a, lang) = (input.analysis, input.lang);
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    let _ = write!(
        h,
        "<h2>{}</h2><p class=\"note\">{}</p>",
        esc(&tr("rates_by_segment")),
        esc(&fill(&tr("rates_note"), &[("threshold", input.suppression_threshold.to_string())]))
    );
    // One axis for every chart of the section, so segments compare across charts; the
    // extra columns of the HR exports (a recruiter, a subsidiary) under their own names.
    let mut charts: Vec<(String, Vec<DotRow>)> = Vec::new();
    for dim in crate::analytics::DIMENSIONS.iter().filter(|d| **d != "week") {
        if let Some(df) = a.get(&format!("rates_by_{dim}")) {
            charts.push((tr(&format!("dim_{dim}")), dot_rows(df, dim, lang)?));
        }
    }
    for dim in &a.extra_dimensions {
        if let Some(df) = a.get(&format!("rates_by_{dim}")) {
            charts.push((dim.clone(), dot_rows(df, dim, lang)?));
        }
    }
    let max = charts.iter().map(|(_, rows)| svg::dot_axis_max(rows, overall)).fold(0.0, f64::max);
    for (title, rows) in &charts {
        let _ = write!(h, "<h3>{}</h3>", esc(title));
        h.push_str(&svg::dot_whisker_on(rows, overall, &tr("suppressed"), max));
    }
    Ok(h)
}

/// The weekly no-show rate with its interval band.
fn section_weekly_trend(input: &ReportInput<'_>, _overall: Option<f64>) -> PolarsResult<String> {
    let (a, lang) = (input.analysis, input.lang);
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    if let Some(df) = a.get("rates_by_week") {
        let _ = write!(h, "<h2>{}</h2>", esc(&tr("weekly_trend")));
        let (w, r, l, hi) = (strings(df, "week")?, f64s(df, "no_show_rate")?, f64s(df, "no_show_rate_low")?, f64s(df, "no_show_rate_high")?);
        let points: Vec<_> = (0..df.height()).filter(|&i| w[i].is_some()).map(|i| (w[i].clone().unwrap_or_default(), r[i], l[i], hi[i])).collect();
        h.push_str(&svg::line_band(&points));
    }
    Ok(h)
}

/// Causes by role, cancellations by initiator and reason, and the reasons candidates typed.
fn section_causes(input: &ReportInput<'_>, _overall: Option<f64>) -> PolarsResult<String> {
    let (a, lang) = (input.analysis, input.lang);
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    let _ = write!(h, "<h2>{}</h2><p class=\"note\">{}</p>", esc(&tr("causes")), esc(&tr("causes_note")));
    if let Some(df) = a.get("causes_no_show_by_role") {
        h.push_str(&stacked_from(df, "role", "cause", lang, None)?);
    }
    if let Some(df) = a.get("causes_cancellation") {
        let _ = write!(h, "<h3>{}</h3>", esc(&tr("cancellations")));
        h.push_str(&stacked_from(df, "initiated_by", "cause", lang, None)?);
    }
    h.push_str(&trace_sections::cancel_reasons(a, lang, input.suppression_threshold)?);
    Ok(h)
}

/// The invitation funnel and channel reach.
fn section_funnel(input: &ReportInput<'_>, _overall: Option<f64>) -> PolarsResult<String> {
    let (a, lang) = (input.analysis, input.lang);
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    if let Some(df) = a.get("funnel") {
        let _ = write!(h, "<h2>{}</h2><p class=\"note\">{}</p>", esc(&tr("funnel")), esc(&tr("funnel_note")));
        let (step, n, share, drop) = (strings(df, "step")?, i64s(df, "interviews")?, f64s(df, "share_of_invited")?, f64s(df, "drop_from_previous")?);
        let rows: Vec<(String, f64, String)> = (0..df.height())
            .map(|i| {
                let note = match (n[i], drop[i]) {
                    (Some(n), Some(d)) => format!("{} (−{})", thousands(n), pct(d)),
                    (Some(n), None) => thousands(n),
                    _ => tr("suppressed"),
                };
                (t_or(lang, "step_", step[i].as_deref().unwrap_or("")), share[i].unwrap_or(0.0), note)
            })
            .collect();
        h.push_str(&svg::bars(&rows, Some(1.0), "#009E73"));
    }
    if let Some(df) = a.get("channel_reach") {
        let _ = write!(h, "<h3>{}</h3>", esc(&tr("channel_reach")));
        let (ch, reach, unread) = (strings(df, "channel")?, f64s(df, "reach_rate")?, f64s(df, "unread_rate")?);
        let rows: Vec<(String, f64, String)> = (0..df.height())
            .map(|i| {
                let note = format!("{} {} · {} {}", tr("reach_rate"), opt_pct(reach[i]), tr("unread_rate"), opt_pct(unread[i]));
                (ch[i].as_deref().map(|c| i18n::value(lang, c)).unwrap_or_default(), unread[i].unwrap_or(0.0), note)
            })
            .collect();
        h.push_str(&svg::bars(&rows, Some(1.0), "#E69F00"));
    }
    Ok(h)
}

/// Reminders, when misses happen after the last one, confirmations and link errors.
fn section_reminders(input: &ReportInput<'_>, overall: Option<f64>) -> PolarsResult<String> {
    let (a, lang) = (input.analysis, input.lang);
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    if let Some(df) = a.get("reminder_effects") {
        let _ = write!(h, "<h2>{}</h2><p class=\"note\">{}</p>", esc(&tr("reminders")), esc(&tr("reminders_note")));
        let factors = strings(df, "factor")?;
        let values = strings(df, "value")?;
        let mut rows = dot_rows(df, "value", lang)?;
        for (i, row) in rows.iter_mut().enumerate() {
            let f = factors[i].clone().unwrap_or_default();
            let v = values[i].clone().map(|v| t_or(lang, "", &v)).unwrap_or_else(|| tr("unknown"));
            row.label = format!("{}: {}", tr(&format!("factor_{f}")), v);
        }
        h.push_str(&svg::dot_whisker(&rows, overall, &tr("suppressed")));
    }
    if let Some(df) = a.get("miss_timing") {
        let _ = write!(h, "<h3>{}</h3>", esc(&tr("miss_timing")));
        h.push_str(&stacked_from(df, "outcome", "since_last_reminder", lang, Some(MISS_TIMING_ORDER))?);
    }
    h.push_str(&trace_sections::confirmations(a, lang)?);
    h.push_str(&trace_sections::link_errors(a, lang)?);
    Ok(h)
}

/// Lead time and the best slots per role.
fn section_timing(input: &ReportInput<'_>, overall: Option<f64>) -> PolarsResult<String> {
    let (a, lang) = (input.analysis, input.lang);
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    if let Some(df) = a.get("rates_by_lead_time") {
        let _ = write!(h, "<h2>{}</h2>", esc(&tr("timing")));
        h.push_str(&svg::dot_whisker(&dot_rows(df, "lead_time", lang)?, overall, &tr("suppressed")));
    }
    if let Some(df) = a.get("best_slots_by_role") {
        let _ = write!(h, "<h3>{}</h3>", esc(&tr("best_slots")));
        let (role, rank, wd, hour, rate, n) = (strings(df, "role")?, i64s(df, "rank")?, i64s(df, "weekday")?, i64s(df, "hour")?, f64s(df, "no_show_rate")?, i64s(df, "interviews")?);
        let rows: Vec<Vec<(String, bool)>> = (0..df.height().min(3 * MAX_CHART_ROWS))
            .map(|i| {
                let slot = format!("{} {:02}:00", tr(&format!("weekday_{}", wd[i].unwrap_or(0))), hour[i].unwrap_or(0));
                vec![
                    (role[i].as_deref().map(|r| i18n::value(lang, r)).unwrap_or_default(), false),
                    (rank[i].map(|r| r.to_string()).unwrap_or_default(), true),
                    (slot, false),
                    (opt_pct(rate[i]), true),
                    (n[i].map(thousands).unwrap_or_default(), true),
                ]
            })
            .collect();
        h.push_str(&html_table(&[tr("dim_role"), tr("rank"), tr("slot"), tr("no_show_rate"), tr("interviews")], &rows));
    }
    Ok(h)
}

/// The cost of no-shows by role and month.
fn section_cost(input: &ReportInput<'_>, _overall: Option<f64>) -> PolarsResult<String> {
    let (a, lang) = (input.analysis, input.lang);
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    let _ = write!(h, "<h2>{}</h2>", esc(&tr("cost")));
    // One scale for both charts: a role's bar and a month's bar are the same money.
    let mut charts: Vec<(&str, Vec<(String, f64, String)>)> = Vec::new();
    for (name, dim, key) in [("cost_by_role", "role", "cost_by_role"), ("cost_by_month", "month", "cost_by_month")] {
        if let Some(df) = a.get(name) {
            let (seg, cost, ns) = (strings(df, dim)?, f64s(df, "no_show_cost")?, i64s(df, "no_shows")?);
            // Months stay a whole series; roles are capped to the largest.
            let shown = if dim == "role" { largest(&ns, MAX_CHART_ROWS) } else { vec![true; df.height()] };
            let rows: Vec<(String, f64, String)> = (0..df.height())
                .filter(|&i| shown[i])
                .map(|i| {
                    let note = match (cost[i], ns[i]) {
                        (Some(c), Some(n)) => format!("{} · {}", money(c, input.currency.as_deref()), thousands(n)),
                        _ => tr("suppressed"),
                    };
                    (label(lang, dim, &seg[i]), cost[i].unwrap_or(0.0), note)
                })
                .collect();
            charts.push((key, rows));
        }
    }
    let max = charts.iter().flat_map(|(_, rows)| rows.iter().map(|r| r.1)).fold(0.0, f64::max);
    for (key, rows) in charts {
        let _ = write!(h, "<h3>{}</h3>", esc(&tr(key)));
        h.push_str(&svg::bars(&rows, (max > 0.0).then_some(max), "#D55E00"));
    }
    Ok(h)
}

/// Behavioural signals with their relative risks.
fn section_signals(input: &ReportInput<'_>, _overall: Option<f64>) -> PolarsResult<String> {
    let (a, lang) = (input.analysis, input.lang);
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    if let Some(df) = a.get("signals") {
        let _ = write!(h, "<h2>{}</h2><p class=\"note\">{}</p>", esc(&tr("signals")), esc(&tr("signals_note")));
        let (sig, outcome) = (strings(df, "signal")?, strings(df, "outcome")?);
        let (wr, or, rr, lo, hi) = (f64s(df, "with_rate")?, f64s(df, "without_rate")?, f64s(df, "relative_risk")?, f64s(df, "relative_risk_low")?, f64s(df, "relative_risk_high")?);
        let rows: Vec<Vec<(String, bool)>> = (0..df.height())
            .filter(|&i| outcome[i].as_deref() == Some("no_show_or_cancel"))
            .map(|i| {
                let interval = match (lo[i], hi[i]) {
                    (Some(l), Some(h)) => format!("{l:.2} – {h:.2}"),
                    _ => "–".into(),
                };
                vec![
                    (tr(&format!("signal_{}", sig[i].as_deref().unwrap_or(""))), false),
                    (opt_pct(wr[i]), true),
                    (opt_pct(or[i]), true),
                    (rr[i].map(|r| format!("{r:.2}")).unwrap_or_else(|| "–".into()), true),
                    (interval, true),
                ]
            })
            .collect();
        let head = ["col_signal", "col_miss_with", "col_miss_without", "col_relative_risk", "col_interval"].map(tr);
        h.push_str(&html_table(&head, &rows));
    }
    Ok(h)
}

/// Re-invitations after a miss.
fn section_reinvites(input: &ReportInput<'_>, _overall: Option<f64>) -> PolarsResult<String> {
    let (a, lang) = (input.analysis, input.lang);
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    if let Some(df) = a.get("reinvites_by_cause") {
        let _ = write!(h, "<h2>{}</h2>", esc(&tr("reinvites")));
        let (outcome, cause, m, r, acc) = (strings(df, "outcome")?, strings(df, "cause")?, i64s(df, "misses")?, i64s(df, "reinvited")?, f64s(df, "acceptance_rate")?);
        let hidden = bools(df, "suppressed")?;
        let rows: Vec<Vec<(String, bool)>> = (0..df.height())
            .filter(|&i| hidden[i] == Some(false))
            .map(|i| {
                vec![
                    (t_or(lang, "outcome_", outcome[i].as_deref().unwrap_or("")), false),
                    (cause[i].as_deref().map(|c| i18n::value(lang, c)).unwrap_or_else(|| tr("unknown")), false),
                    (m[i].map(thousands).unwrap_or_default(), true),
                    (r[i].map(thousands).unwrap_or_default(), true),
                    (opt_pct(acc[i]), true),
                ]
            })
            .collect();
        h.push_str(&html_table(&[tr("outcome"), tr("cause"), tr("misses"), tr("reinvited"), tr("acceptance_rate")], &rows));
    }
    Ok(h)
}


/// One move of a no-show rate between the previous and the current period.
struct Move {
    dim: String,
    segment: Option<String>,
    previous: f64,
    recent: f64,
    low: f64,
    high: f64,
}

/// The moves whose 95 % interval (Newcombe, on the two periods' counts) excludes no
/// change, largest first: the overall rate and every segment of the one-way tables
/// (the week table is the trend itself and is left out).
fn moves(a: &Analysis) -> PolarsResult<Vec<Move>> {
    let mut out = Vec::new();
    let dims: Vec<String> =
        std::iter::once("overall".to_string()).chain(crate::analytics::DIMENSIONS.iter().filter(|d| **d != "week").map(|d| d.to_string())).collect();
    for dim in dims {
        let table = if dim == "overall" { "overall".to_string() } else { format!("rates_by_{dim}") };
        let Some(df) = a.get(&table) else { continue };
        let segment: Vec<Option<String>> = if dim == "overall" { vec![None; df.height()] } else { strings(df, &dim)? };
        let (rn, rr, pn, pr) = (i64s(df, "recent_interviews")?, f64s(df, "recent_no_show_rate")?, i64s(df, "previous_interviews")?, f64s(df, "previous_no_show_rate")?);
        for i in 0..df.height() {
            let (Some(n1), Some(r1), Some(n2), Some(r2)) = (rn[i], rr[i], pn[i], pr[i]) else { continue };
            let (n1, n2) = (n1.max(0) as u64, n2.max(0) as u64);
            let (x1, x2) = ((r1 * n1 as f64).round() as u64, (r2 * n2 as f64).round() as u64);
            let Some((_, low, high)) = crate::analytics::stats::newcombe_difference(x1, n1, x2, n2, crate::analytics::stats::Z95) else { continue };
            if low > 0.0 || high < 0.0 {
                out.push(Move { dim: dim.clone(), segment: segment[i].clone(), previous: r2, recent: r1, low, high });
            }
        }
    }
    out.sort_by(|a, b| (b.recent - b.previous).abs().total_cmp(&(a.recent - a.previous).abs()));
    out.truncate(5);
    Ok(out)
}

fn changes_section(a: &Analysis, lang: Lang) -> PolarsResult<String> {
    let tr = |k: &str| t(lang, k);
    let mut h = String::new();
    let _ = write!(h, "<h2>{}</h2><p class=\"note\">{}</p><ul class=\"findings\">", esc(&tr("changes")), esc(&tr("changes_note")));
    let found = moves(a)?;
    if found.is_empty() {
        let _ = write!(h, "<li>{}</li>", esc(&tr("no_changes")));
    }
    let points = |v: f64| format!("{:+.1}", v * 100.0);
    for m in found {
        let what = match &m.segment {
            None => tr("changes_overall"),
            Some(_) => format!("{} {}", tr(&format!("dim_{}", m.dim)), label(lang, &m.dim, &m.segment)),
        };
        let key = if m.recent > m.previous { "change_up" } else { "change_down" };
        let text = fill(
            &tr(key),
            &[
                ("what", what),
                ("previous", pct(m.previous)),
                ("recent", pct(m.recent)),
                ("change", points(m.recent - m.previous)),
                ("low", points(m.low)),
                ("high", points(m.high)),
            ],
        );
        let _ = write!(h, "<li>{}</li>", esc(&text));
    }
    h.push_str("</ul>");
    Ok(h)
}

/// `since_last_reminder` values in time order (the legend's order).
const MISS_TIMING_ORDER: &[&str] =
    &["before_last_reminder", "0-1h", "1-3h", "3-24h", "1-3d", "3d+", "no_reminder", "no_cancel_request"];

/// A stacked-share chart from a long `group, item, share` table (the top seven items
/// keep their own colour; the rest are summed as "other"). Items are ranked by count,
/// or kept in `order` when given (time buckets). A `likely_cause` column beside a
/// cause makes its flagged rows a line of their own ("unknown (likely technical issue)").
fn stacked_from(df: &DataFrame, group: &str, item: &str, lang: Lang, order: Option<&[&str]>) -> PolarsResult<String> {
    let (g, it, share, count) = (strings(df, group)?, strings(df, item)?, f64s(df, "share")?, i64s(df, "count")?);
    let likely = if df.schema().contains("likely_cause") { strings(df, "likely_cause")? } else { vec![None; df.height()] };
    let base_label = |v: &Option<String>| v.as_deref().map(|v| i18n::value(lang, v)).unwrap_or_else(|| t(lang, "unknown"));
    let item_label = |i: usize| match &likely[i] {
        Some(_) => fill(&t(lang, "likely_cause_line"), &[("cause", base_label(&it[i]))]),
        None => base_label(&it[i]),
    };
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    for i in 0..df.height() {
        *totals.entry(item_label(i)).or_default() += count[i].unwrap_or(0);
    }
    let mut ranked: Vec<(String, i64)> = totals.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if let Some(order) = order {
        let position = |label: &str| order.iter().position(|o| i18n::value(lang, o) == label).unwrap_or(usize::MAX);
        ranked.sort_by_key(|(label, _)| position(label));
    }
    let other = i18n::value(lang, "other");
    let other = other.as_str();
    let mut cats: Vec<String> = ranked.iter().take(7).map(|r| r.0.clone()).collect();
    if ranked.len() > 7 {
        cats.push(other.to_string());
    }
    // At most MAX_CHART_ROWS groups: the largest by their counts.
    let mut group_totals: std::collections::HashMap<Option<&str>, i64> = std::collections::HashMap::new();
    for i in 0..df.height() {
        *group_totals.entry(g[i].as_deref()).or_default() += count[i].unwrap_or(0);
    }
    let mut groups: Vec<(Option<&str>, i64)> = group_totals.into_iter().collect();
    groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let kept_groups: std::collections::HashSet<Option<&str>> = groups.iter().take(MAX_CHART_ROWS).map(|x| x.0).collect();
    let mut rows: Vec<(String, Vec<(String, f64)>)> = Vec::new();
    for i in 0..df.height() {
        let Some(s) = share[i] else { continue };
        if !kept_groups.contains(&g[i].as_deref()) {
            continue;
        }
        let gl = t_or(lang, if group == "initiated_by" { "initiated_" } else { "outcome_" }, g[i].as_deref().unwrap_or(""));
        let gl = if g[i].is_none() { t(lang, "unknown") } else { gl };
        if rows.last().map(|r| &r.0) != Some(&gl) {
            rows.push((gl, Vec::new()));
        }
        let mut cat = item_label(i);
        if !cats.contains(&cat) {
            cat = other.to_string();
        }
        if let Some(last) = rows.last_mut() {
            match last.1.iter_mut().find(|(c, _)| *c == cat) {
                Some(entry) => entry.1 += s,
                None => last.1.push((cat, s)),
            }
        }
    }
    for row in rows.iter_mut() {
        row.1.sort_by_key(|(c, _)| cats.iter().position(|x| x == c).unwrap_or(usize::MAX));
    }
    Ok(svg::stacked_shares(&rows, &cats))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(dim: &str, rows: &[(&str, i64, f64, i64, f64)]) -> DataFrame {
        df!(
            dim => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "recent_interviews" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "recent_no_show_rate" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            "previous_interviews" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            "previous_no_show_rate" => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn only_moves_beyond_chance_are_listed_largest_first() {
        let mut a = Analysis::default();
        a.tables.push(("overall".into(), df!("recent_interviews" => [1000i64], "recent_no_show_rate" => [0.12], "previous_interviews" => [1000i64], "previous_no_show_rate" => [0.121]).unwrap()));
        a.tables.push((
            "rates_by_role".into(),
            // sales: 10 % → 25 % on 400 each (a real move); ops: 10 % → 14 % on 20 each (chance).
            rates("role", &[("sales", 400, 0.25, 400, 0.10), ("ops", 20, 0.14, 20, 0.10), ("it", 500, 0.05, 500, 0.12)]),
        ));
        let found = moves(&a).unwrap();
        let names: Vec<Option<String>> = found.iter().map(|m| m.segment.clone()).collect();
        assert_eq!(names, vec![Some("sales".to_string()), Some("it".to_string())]);
        // The interval is Newcombe's on the rounded counts (100/400 vs 40/400).
        let (_, low, high) = crate::analytics::stats::newcombe_difference(100, 400, 40, 400, crate::analytics::stats::Z95).unwrap();
        assert!((found[0].low - low).abs() < 1e-12 && (found[0].high - high).abs() < 1e-12);
        let html = changes_section(&a, Lang::Zh).unwrap();
        assert!(html.contains("近期变化") && html.contains("升至"), "{html}");
    }
}
