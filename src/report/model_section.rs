//! The report's model section: how well the current risk model works, whether it
//! serves every group equally well, and what drives it, in plain words for HR leads.
//!
//! Reads only the model folder's published files (`model.json`, `evaluation/`), so the
//! report never depends on the model code's internals, and renders an HTML fragment
//! for [`super::ReportInput::model_section`].

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use polars::prelude::*;
use serde_json::Value;

use super::i18n::Lang;
use super::svg::{esc, pct};

/// This section's label `key`: `model_` + key in the report's one label table
/// ([`super::i18n`]).
fn label(lang: Lang, key: &str) -> String {
    super::i18n::t(lang, &format!("model_{key}"))
}

/// With no current model but a refused candidate: a section saying so and why.
fn no_current_model(folder: &Path, lang: Lang) -> Option<String> {
    let candidate = crate::model::store::newest_candidate(folder)?;
    let reasons = candidate.promotion.map(|p| p.reasons.join("; ")).unwrap_or_default();
    Some(format!(
        "<p class=\"note\">{} {}: {}</p>",
        esc(&label(lang, "no_model")),
        esc(&candidate.version),
        esc(&reasons)
    ))
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn read_parquet(path: &Path) -> anyhow::Result<DataFrame> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    anyhow::Context::with_context(ParquetReader::new(file).finish(), || format!("reading {}", path.display()))
}

/// The section for the model in `model_dir`, or `None` when no model was trained yet.
/// Groups of the fairness table with fewer test interviews than `suppression_threshold`
/// (the report's `[report] suppression_threshold`) are shown without figures, as are
/// groups the model folder itself withheld (its `withheld_reason`).
pub fn render(model_dir: &Path, lang: Lang, suppression_threshold: u64, tz: chrono_tz::Tz) -> anyhow::Result<Option<String>> {
    super::i18n::with_page_values(shown_values(model_dir), || render_section(model_dir, lang, suppression_threshold, tz))
}

/// The data values the section may show: every text in model.json (the categorical
/// levels among them) and in the fairness table. Best effort: a folder that cannot be
/// read gives none, and [`render_section`] reports why.
fn shown_values(model_dir: &Path) -> Vec<String> {
    fn texts(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|v| texts(v, out)),
            Value::Object(o) => o.values().for_each(|v| texts(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    let Ok(dir) = crate::model::store::current_dir(model_dir) else { return out };
    if let Some(model) = std::fs::read_to_string(dir.join("model.json")).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok()) {
        texts(&model, &mut out);
    }
    if let Ok(fair) = read_parquet(&dir.join("evaluation").join("fairness.parquet")) {
        out.extend(super::raw_values(&[(String::new(), fair)]));
    }
    out
}

fn render_section(model_dir: &Path, lang: Lang, suppression_threshold: u64, tz: chrono_tz::Tz) -> anyhow::Result<Option<String>> {
    let folder = model_dir;
    let model_dir = crate::model::store::current_dir(model_dir)?;
    let model_dir = model_dir.as_path();
    let path = model_dir.join("model.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(no_current_model(folder, lang)),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let model: Value = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let l = |k| label(lang, k);
    let mut h = String::new();
    let _ = write!(h, "<p class=\"note\">{}</p>", esc(&l("intro")));

    let m = &model["metrics"];
    let local = |v: &Value| local_time(v, tz);
    let window = format!("{} – {} ({})", local(&model["test_window"]["start"]), local(&model["test_window"]["end"]), tz.name());
    let tile = |h: &mut String, name: &str, value: String| {
        let _ = write!(h, "<div class=\"tile\"><div class=\"k\">{}</div><div class=\"v\">{}</div></div>", esc(name), esc(&value));
    };
    h.push_str("<div class=\"tiles\">");
    tile(&mut h, &l("version"), model["version"].as_str().map(str::to_string).unwrap_or_else(|| model["version"].to_string()));
    tile(&mut h, &l("auc"), num(&m["auc"]).map(|v| format!("{v:.3}")).unwrap_or_default());
    tile(&mut h, &l("top10"), num(&m["top_decile_capture"]).map(pct).unwrap_or_default());
    tile(&mut h, &l("top20"), num(&m["top_quintile_capture"]).map(pct).unwrap_or_default());
    tile(&mut h, &l("ece"), num(&m["ece"]).map(pct).unwrap_or_default());
    h.push_str("</div>");
    let _ = write!(h, "<p class=\"note\">{}: {}</p>", esc(&l("test_window")), esc(&window));

    let evaluation = model_dir.join("evaluation");
    let deciles = model["recalibration"]["deciles"].as_array().filter(|d| !d.is_empty());
    if let Some(deciles) = deciles {
        // Before and after recalibration, from model.json itself.
        let pick = |k: &str| deciles.iter().filter_map(|d| Some((d[k].as_f64()?, d["observed_rate"].as_f64()?))).collect::<Vec<_>>();
        let _ = write!(h, "<h3>{}</h3><p class=\"note\">{}</p>", esc(&l("calibration")), esc(&l("cal_legend")));
        h.push_str(&calibration_svg(&[(pick("mean_predicted_before"), "#999999"), (pick("mean_predicted_after"), "#0072B2")], lang));
    } else if let Ok(cal) = read_parquet(&evaluation.join("calibration.parquet")) {
        let _ = write!(h, "<h3>{}</h3>", esc(&l("calibration")));
        h.push_str(&calibration_chart(&cal, lang)?);
    }
    h.push_str(&recalibration_part(&model["recalibration"], lang, tz));
    h.push_str(&penalty_part(&model["penalty"], lang, tz));
    if let Ok(fair) = read_parquet(&evaluation.join("fairness.parquet")) {
        let _ = write!(h, "<h3>{}</h3>", esc(&l("fairness")));
        h.push_str(&fairness_table(&fair, lang, suppression_threshold)?);
    }
    if let Some(rows) = model["coefficient_table"].as_array() {
        let _ = write!(h, "<h3>{}</h3><ul class=\"findings\">", esc(&l("drivers")));
        let mut ranked: Vec<&Value> = rows.iter().filter(|r| r["odds_ratio"].as_f64().is_some()).collect();
        // Strongest effects first, in either direction.
        ranked.sort_by(|a, b| {
            let s = |r: &Value| r["odds_ratio"].as_f64().map(|v| v.ln().abs()).unwrap_or(0.0);
            s(b).total_cmp(&s(a))
        });
        for r in ranked.iter().take(12) {
            // A flag whose odds ratio is below 1 is phrased from its absence ("messages
            // unread: 1.49×"), so its interval is inverted to match the sentence.
            let inverted = r["unit"].as_str() == Some("having vs not having it") && r["odds_ratio"].as_f64().is_some_and(|v| v < 1.0);
            let sentence = driver_sentence(r, lang, inverted);
            let interval = match (r["odds_ratio_low"].as_f64(), r["odds_ratio_high"].as_f64()) {
                (Some(lo), Some(hi)) if inverted => format!(" (95 %: {:.2}–{:.2})", 1.0 / hi, 1.0 / lo),
                (Some(lo), Some(hi)) => format!(" (95 %: {lo:.2}–{hi:.2})"),
                _ => String::new(),
            };
            let _ = write!(h, "<li>{}{}</li>", esc(&sentence), esc(&interval));
        }
        h.push_str("</ul>");
    }
    Ok(Some(h))
}

/// One coefficient in words, from its fields and the one label table (the model file's
/// own English `sentence` is for other programs).
fn driver_sentence(r: &Value, lang: Lang, inverted: bool) -> String {
    use super::i18n::{fill, t, t_or, value};
    let feature = r["feature"].as_str().unwrap_or_default();
    let odds = r["odds_ratio"].as_f64().unwrap_or(f64::NAN);
    let shown = if inverted { 1.0 / odds } else { odds };
    let or = format!("{shown:.2}");
    let name = |f: &str| t_or(lang, "feature_", f);
    match feature.split_once('=') {
        Some((f, level)) => {
            let reference = r["unit"].as_str().and_then(|u| u.strip_prefix("vs ")).unwrap_or("");
            fill(
                &t(lang, "driver_level"),
                &[("feature", name(f)), ("level", value(lang, level)), ("reference", value(lang, reference)), ("or", or)],
            )
        }
        None => {
            let key = match r["unit"].as_str() {
                Some("having vs not having it") if inverted => "driver_flag_absent",
                Some("having vs not having it") => "driver_flag",
                Some("one more") => "driver_more",
                Some(u) if u.starts_with("doubling") => "driver_doubling",
                _ => return r["sentence"].as_str().unwrap_or(feature).to_string(),
            };
            fill(&t(lang, key), &[("feature", name(feature)), ("or", or)])
        }
    }
}

fn column_f64(df: &DataFrame, name: &str) -> anyhow::Result<Vec<Option<f64>>> {
    let c = anyhow::Context::with_context(df.column(name), || "calibration table")?;
    let c = anyhow::Context::with_context(c.cast(&DataType::Float64), || format!("column {name}"))?;
    Ok(anyhow::Context::with_context(c.f64(), || format!("column {name}"))?.iter().collect())
}

fn column_str(df: &DataFrame, name: &str) -> anyhow::Result<Vec<Option<String>>> {
    let c = anyhow::Context::with_context(df.column(name), || "fairness table")?;
    let c = anyhow::Context::with_context(c.cast(&DataType::String), || format!("column {name}"))?;
    Ok(anyhow::Context::with_context(c.str(), || format!("column {name}"))?.iter().map(|v| v.map(str::to_string)).collect())
}

/// Predicted against observed rate per decile, with the diagonal of perfect calibration.
fn calibration_chart(cal: &DataFrame, lang: Lang) -> anyhow::Result<String> {
    let predicted = column_f64(cal, "mean_predicted")?;
    let observed = column_f64(cal, "observed_rate")?;
    let points: Vec<(f64, f64)> = predicted.iter().zip(&observed).filter_map(|(p, o)| Some(((*p)?, (*o)?))).collect();
    Ok(calibration_svg(&[(points, "#0072B2")], lang))
}

/// Series of (predicted, observed) points on one square chart with tick values on both
/// axes (the same scale on each) and the diagonal of perfect calibration.
fn calibration_svg(series: &[(Vec<(f64, f64)>, &str)], lang: Lang) -> String {
    let top = series.iter().flat_map(|(p, _)| p.iter()).fold(0.05_f64, |m, (p, o)| m.max(*p).max(*o)) * 1.05;
    // A round maximum whose quarters are whole percentages.
    let max = [0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0].into_iter().find(|m| *m >= top).unwrap_or(1.0);
    let (size, left, bottom_pad, right_pad) = (320.0, 52.0, 44.0, 12.0);
    let plot = size - left - right_pad;
    let x = |v: f64| left + plot * (v / max).clamp(0.0, 1.0);
    let y = |v: f64| (size - bottom_pad) - plot * (v / max).clamp(0.0, 1.0);
    let mut svg = format!(r#"<svg class="chart" style="max-width:360px" viewBox="0 0 {size} {size}" role="img">"#);
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let tick = format!("{:.0}%", v * 100.0);
        let _ = write!(
            svg,
            r##"<line x1="{0:.1}" y1="{1:.1}" x2="{0:.1}" y2="{2:.1}" stroke="#e3e3e3"/><line x1="{3:.1}" y1="{4:.1}" x2="{5:.1}" y2="{4:.1}" stroke="#e3e3e3"/><text x="{0:.1}" y="{6:.1}" class="tick" text-anchor="middle">{tick}</text><text x="{7:.1}" y="{8:.1}" class="tick" text-anchor="end">{tick}</text>"##,
            x(v), y(0.0), y(max), x(0.0), y(v), x(max), y(0.0) + 14.0, left - 5.0, y(v) + 4.0
        );
    }
    let _ = write!(svg, r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="4 3"/>"##, x(0.0), y(0.0), x(max), y(max));
    for (points, colour) in series {
        for (p, o) in points {
            let _ = write!(svg, r##"<circle cx="{:.1}" cy="{:.1}" r="4.5" fill="{colour}"><title>{} → {}</title></circle>"##, x(*p), y(*o), pct(*p), pct(*o));
        }
    }
    let _ = write!(svg, r#"<text x="{:.1}" y="{:.1}" class="note" text-anchor="middle">{}</text>"#, left + plot / 2.0, size - 8.0, esc(&label(lang, "predicted")));
    let _ = write!(svg, r#"<text x="12" y="{:.1}" class="note" text-anchor="middle" transform="rotate(-90 12 {:.1})">{}</text>"#, y(max / 2.0), y(max / 2.0), esc(&label(lang, "observed")));
    svg.push_str("</svg>");
    svg
}

/// A timestamp of model.json (RFC 3339, UTC) as a local date and time in `tz`.
fn local_time(v: &Value, tz: chrono_tz::Tz) -> String {
    match v.as_str().map(|t| crate::time::parse_timestamp(t, tz)) {
        Some(Ok(us)) => crate::time::format_local(us, tz).chars().take(16).collect::<String>().replace('T', " "),
        Some(Err(_)) => v.as_str().unwrap_or("?").to_string(),
        None => "?".to_string(),
    }
}

/// The calibration of the test window before and after recalibration (model.json's
/// `recalibration`), as a sentence and a small table.
fn recalibration_part(r: &Value, lang: Lang, tz: chrono_tz::Tz) -> String {
    if !r.is_object() {
        return String::new();
    }
    let l = |k| label(lang, k);
    let mut h = format!("<h3>{}</h3>", esc(&l("recalibration")));
    let applied = r["applied"].as_bool().unwrap_or(false);
    let sentence = if applied {
        l("recal_applied")
            .replace("{weeks}", &r["weeks"].as_u64().map(|w| w.to_string()).unwrap_or_default())
            .replace("{rows}", &r["window_rows"].as_i64().map(super::svg::thousands).unwrap_or_default())
            .replace("{from}", &local_time(&r["window_start"], tz))
            .replace("{to}", &local_time(&r["window_end"], tz))
            .replace("{shift}", &r["shift"].as_f64().map(|s| format!("{s:+.3}")).unwrap_or_default())
    } else {
        l("recal_not_applied").to_string()
    };
    let _ = write!(h, "<p class=\"note\">{}</p>", esc(&sentence));
    if lang == Lang::En {
        for note in r["notes"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            let _ = write!(h, "<p class=\"note\">{}</p>", esc(note));
        }
    }
    let cell = |v: &Value, as_pct: bool| v.as_f64().map(|x| if as_pct { pct(x) } else { format!("{x:.4}") }).unwrap_or_else(|| "–".into());
    let _ = write!(
        h,
        "<div class=\"scroll\"><table><tr><th></th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(&l("mean_p")), esc(&l("base_rate")), esc(&l("ece")), esc(&l("log_loss")), esc(&l("brier"))
    );
    for (key, c) in [("before", &r["test_before"]), ("after", &r["test_after"])] {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&l(key)), cell(&c["mean_predicted"], true), cell(&c["observed_rate"], true), cell(&c["ece"], true), cell(&c["log_loss"], false), cell(&c["brier"], false)
        );
    }
    h.push_str("</table></div>");
    h
}

/// How the L2 penalty was set (model.json's `penalty`): fixed, or the grid search with
/// its validation curve.
fn penalty_part(p: &Value, lang: Lang, tz: chrono_tz::Tz) -> String {
    if !p.is_object() {
        return String::new();
    }
    let l = |k| label(lang, k);
    let chosen = p["l2"].as_f64();
    let number = |v: f64| if v >= 1.0 { format!("{v}") } else { format!("{v:.3}").trim_end_matches('0').to_string() };
    let mut h = format!("<h3>{}</h3>", esc(&l("penalty")));
    if p["method"].as_str() == Some("fixed") {
        let text = l("penalty_fixed")
            .replace("{l2}", &chosen.map(number).unwrap_or_default())
            .replace("{by}", p["fixed_by"].as_str().unwrap_or("train.l2"));
        let _ = write!(h, "<p class=\"note\">{}</p>", esc(&text));
        return h;
    }
    let folds = p["folds"].as_array().cloned().unwrap_or_default();
    let curve: Vec<(f64, Option<f64>)> =
        p["curve"].as_array().into_iter().flatten().filter_map(|c| Some((c["l2"].as_f64()?, c["mean_log_loss"].as_f64()))).collect();
    let best_loss = curve.iter().find(|(v, _)| Some(*v) == chosen).and_then(|c| c.1);
    let text = l("penalty_search")
        .replace("{folds}", &folds.len().to_string())
        .replace("{from}", &folds.first().map(|f| local_time(&f["validation_start"], tz)).unwrap_or_default())
        .replace("{to}", &folds.last().map(|f| local_time(&f["validation_end"], tz)).unwrap_or_default())
        .replace("{l2}", &chosen.map(number).unwrap_or_default())
        .replace("{loss}", &best_loss.map(|v| format!("{v:.4}")).unwrap_or_else(|| "–".into()));
    let _ = write!(h, "<p class=\"note\">{}</p>", esc(&text));
    if let Some(sub) = p["subsample"].as_object() {
        let text = l("penalty_subsample")
            .replace("{rows}", &sub.get("rows").and_then(Value::as_i64).map(super::svg::thousands).unwrap_or_default())
            .replace("{of}", &sub.get("of_rows").and_then(Value::as_i64).map(super::svg::thousands).unwrap_or_default());
        let _ = write!(h, "<p class=\"note\">{}</p>", esc(&text));
    }
    if lang == Lang::En {
        for note in p["notes"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            let _ = write!(h, "<p class=\"note\">{}</p>", esc(note));
        }
    }
    let losses: Vec<f64> = curve.iter().filter_map(|c| c.1).collect();
    if losses.len() >= 2 {
        let (lo, hi) = losses.iter().fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
        let pad = ((hi - lo) * 0.1).max(1e-6);
        let (lo, hi) = (lo - pad, hi + pad);
        let (width, height, left, right, top, plot_h) = (520.0, 190.0, 64.0, 12.0, 10.0, 130.0);
        let step = (width - left - right) / (curve.len().max(2) - 1) as f64;
        let x = |i: usize| left + step * i as f64;
        let y = |v: f64| top + plot_h * (1.0 - (v - lo) / (hi - lo));
        let mut svg = format!(r#"<svg class="chart" viewBox="0 0 {width} {height}" role="img">"#);
        for k in 0..=3 {
            let v = lo + (hi - lo) * k as f64 / 3.0;
            let _ = write!(
                svg,
                r##"<line x1="{left}" y1="{0:.1}" x2="{1:.1}" y2="{0:.1}" stroke="#e3e3e3"/><text x="{2:.1}" y="{3:.1}" class="tick" text-anchor="end">{v:.4}</text>"##,
                y(v), width - right, left - 5.0, y(v) + 4.0
            );
        }
        let line: Vec<String> = curve.iter().enumerate().filter_map(|(i, c)| Some(format!("{:.1},{:.1}", x(i), y(c.1?)))).collect();
        let _ = write!(svg, r##"<polyline points="{}" fill="none" stroke="#0072B2" stroke-width="2"/>"##, line.join(" "));
        for (i, (v, loss)) in curve.iter().enumerate() {
            if let Some(loss) = loss {
                let colour = if Some(*v) == chosen { "#D55E00" } else { "#0072B2" };
                let r = if Some(*v) == chosen { 6.0 } else { 4.0 };
                let _ = write!(svg, r##"<circle cx="{:.1}" cy="{:.1}" r="{r}" fill="{colour}"><title>{} → {loss:.4}</title></circle>"##, x(i), y(*loss), number(*v));
            }
            let _ = write!(svg, r#"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">{}</text>"#, x(i), top + plot_h + 16.0, number(*v));
        }
        let _ = write!(svg, r#"<text x="{:.1}" y="{:.1}" class="note" text-anchor="middle">L2</text>"#, left + (width - left - right) / 2.0, top + plot_h + 36.0);
        svg.push_str("</svg>");
        let _ = write!(h, "<p class=\"note\">{}</p>", esc(&l("penalty_axis")));
        h.push_str(&svg);
    }
    h
}

/// The model folder's `withheld_reason` (English, with the setting's name) in the
/// page's words: "fewer than 5 misses (train.min_group_misses)" → "缺席少于 5 次".
fn withheld_words(reason: &str, lang: Lang) -> String {
    let n: String = reason.chars().skip_while(|c| !c.is_ascii_digit()).take_while(char::is_ascii_digit).collect();
    let key = if reason.contains("misses") { "withheld_misses" } else if reason.contains("interviews") { "withheld_rows" } else { "" };
    match (key, n.is_empty(), lang) {
        ("", _, Lang::En) | (_, true, Lang::En) => reason.to_string(),
        ("", _, Lang::Zh) | (_, true, Lang::Zh) => String::new(),
        (key, false, _) => label(lang, key).replace("{n}", &n),
    }
}

fn fairness_table(fair: &DataFrame, lang: Lang, threshold: u64) -> anyhow::Result<String> {
    let dims = column_str(fair, "dimension")?;
    let levels = column_str(fair, "level")?;
    let rows = column_f64(fair, "rows")?;
    let base = column_f64(fair, "base_rate")?;
    let auc = column_f64(fair, "auc")?;
    let ece = column_f64(fair, "ece")?;
    let top = column_f64(fair, "top_decile_capture")?;
    // Tables written before the intervals and the withholding rule lack these columns.
    let optional_f64 = |name: &str| column_f64(fair, name).unwrap_or_else(|_| vec![None; fair.height()]);
    let (auc_low, auc_high) = (optional_f64("auc_low"), optional_f64("auc_high"));
    let withheld = column_str(fair, "withheld_reason").unwrap_or_else(|_| vec![None; fair.height()]);
    let l = |k| label(lang, k);
    let mut h = format!(
        "<div class=\"scroll\"><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(&l("group")), esc(&l("rows")), esc(&l("base_rate")), esc(&l("auc_ci")), esc(&l("ece")), esc(&l("top10"))
    );
    let f = |v: Option<f64>, as_pct: bool| match v {
        Some(x) if as_pct => pct(x),
        Some(x) => format!("{x:.3}"),
        None => "–".to_string(),
    };
    for i in 0..fair.height() {
        let group = format!(
            "{}: {}",
            super::i18n::t_or(lang, "feature_", dims[i].as_deref().unwrap_or_default()),
            super::i18n::value(lang, levels[i].as_deref().unwrap_or("unknown"))
        );
        // Groups too small to be anonymous keep their row with the figures withheld.
        if rows[i].is_none_or(|n| n < threshold as f64) {
            let text = l("suppressed").replace("{n}", &threshold.to_string());
            let _ = write!(h, "<tr><td>{}</td><td colspan=\"5\" class=\"muted\">{}</td></tr>", esc(&group), esc(&text));
            continue;
        }
        let rows_text = rows[i].map(|v| format!("{v:.0}")).unwrap_or_default();
        if let Some(reason) = &withheld[i] {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td colspan=\"3\" class=\"muted\">{}: {}</td></tr>",
                esc(&group),
                esc(&rows_text),
                f(base[i], true),
                esc(&l("withheld")),
                esc(&withheld_words(reason, lang))
            );
            continue;
        }
        let auc_text = match (auc[i], auc_low[i], auc_high[i]) {
            (Some(a), Some(lo), Some(hi)) => format!("{a:.3} ({lo:.3}–{hi:.3})"),
            (a, _, _) => f(a, false),
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&group),
            esc(&rows_text),
            f(base[i], true),
            esc(&auc_text),
            f(ece[i], true),
            f(top[i], true)
        );
    }
    h.push_str("</table></div>");
    Ok(h)
}
