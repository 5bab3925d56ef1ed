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

/// (English, Chinese) labels of this section.
fn label(lang: Lang, key: &str) -> &'static str {
    let (en, zh) = match key {
        "intro" => (
            "The model estimates, for each upcoming interview, the probability of a no-show or a candidate cancellation. It decides who gets more help first (a call, an extra reminder, a link check) and must never be used to reject anyone.",
            "模型为每场即将进行的面试估计爽约或候选人取消的概率，用于决定优先给谁更多帮助（电话、额外提醒、链接检查），绝不能用于淘汰任何候选人。",
        ),
        "version" => ("Model version", "模型版本"),
        "test_window" => ("Test window (latest weeks, not used for fitting)", "测试窗口（最近几周，未用于拟合）"),
        "auc" => ("AUC", "AUC"),
        "auc_ci" => ("AUC (95 % DeLong interval)", "AUC（95% DeLong 区间）"),
        "top10" => ("Misses caught by the top 10 % of scores", "得分最高 10% 覆盖的缺席"),
        "top20" => ("Misses caught by the top 20 % of scores", "得分最高 20% 覆盖的缺席"),
        "ece" => ("Calibration error (ECE)", "校准误差（ECE）"),
        "calibration" => ("Calibration: predicted vs observed rate by decile", "校准：各十分位的预测率与实际率"),
        "decile" => ("Decile", "十分位"),
        "predicted" => ("Predicted", "预测"),
        "observed" => ("Observed", "实际"),
        "fairness" => ("Does it serve every group equally well?", "模型对各群体是否同样有效？"),
        "group" => ("Group", "群体"),
        "rows" => ("Interviews", "面试数"),
        "base_rate" => ("Miss rate", "缺席率"),
        "drivers" => ("What moves the risk (odds ratios with 95 % intervals)", "影响风险的因素（优势比及 95% 区间）"),
        "suppressed" => ("fewer than {n} interviews: not shown", "少于 {n} 场面试：不显示"),
        "withheld" => ("figures withheld", "数据不显示"),
        "no_model" => (
            "No model is in use: nothing is scored until a trained model passes the promotion checks. The newest model was kept as a candidate",
            "当前没有投入使用的模型：在训练出的模型通过上线检查之前不会评分。最新模型仅保留为候选版本",
        ),
        _ => ("", ""),
    };
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// With no current model but a refused candidate: a section saying so and why.
fn no_current_model(folder: &Path, lang: Lang) -> Option<String> {
    let candidate = crate::model::store::newest_candidate(folder)?;
    let reasons = candidate.promotion.map(|p| p.reasons.join("; ")).unwrap_or_default();
    Some(format!(
        "<p class=\"note\">{} {}: {}</p>",
        esc(label(lang, "no_model")),
        esc(&candidate.version),
        esc(&reasons)
    ))
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn read_parquet(path: &Path) -> anyhow::Result<DataFrame> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    ParquetReader::new(file).finish().map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
}

/// The section for the model in `model_dir`, or `None` when no model was trained yet.
/// Groups of the fairness table with fewer test interviews than `suppression_threshold`
/// (the report's `[report] suppression_threshold`) are shown without figures, as are
/// groups the model folder itself withheld (its `withheld_reason`).
pub fn render(model_dir: &Path, lang: Lang, suppression_threshold: u64) -> anyhow::Result<Option<String>> {
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
    let _ = write!(h, "<p class=\"note\">{}</p>", esc(l("intro")));

    let m = &model["metrics"];
    let window = format!(
        "{} – {}",
        model["test_window"]["start"].as_str().unwrap_or("?"),
        model["test_window"]["end"].as_str().unwrap_or("?")
    );
    let tile = |h: &mut String, name: &str, value: String| {
        let _ = write!(h, "<div class=\"tile\"><div class=\"k\">{}</div><div class=\"v\">{}</div></div>", esc(name), esc(&value));
    };
    h.push_str("<div class=\"tiles\">");
    tile(&mut h, l("version"), model["version"].as_str().map(str::to_string).unwrap_or_else(|| model["version"].to_string()));
    tile(&mut h, l("auc"), num(&m["auc"]).map(|v| format!("{v:.3}")).unwrap_or_default());
    tile(&mut h, l("top10"), num(&m["top_decile_capture"]).map(pct).unwrap_or_default());
    tile(&mut h, l("top20"), num(&m["top_quintile_capture"]).map(pct).unwrap_or_default());
    tile(&mut h, l("ece"), num(&m["ece"]).map(pct).unwrap_or_default());
    h.push_str("</div>");
    let _ = write!(h, "<p class=\"note\">{}: {}</p>", esc(l("test_window")), esc(&window));

    let evaluation = model_dir.join("evaluation");
    if let Ok(cal) = read_parquet(&evaluation.join("calibration.parquet")) {
        let _ = write!(h, "<h3>{}</h3>", esc(l("calibration")));
        h.push_str(&calibration_chart(&cal, lang)?);
    }
    if let Ok(fair) = read_parquet(&evaluation.join("fairness.parquet")) {
        let _ = write!(h, "<h3>{}</h3>", esc(l("fairness")));
        h.push_str(&fairness_table(&fair, lang, suppression_threshold)?);
    }
    if let Some(rows) = model["coefficient_table"].as_array() {
        let _ = write!(h, "<h3>{}</h3><ul class=\"findings\">", esc(l("drivers")));
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
    let c = df.column(name).map_err(|e| anyhow::anyhow!("calibration table: {e}"))?;
    let c = c.cast(&DataType::Float64).map_err(|e| anyhow::anyhow!("column {name}: {e}"))?;
    Ok(c.f64().map_err(|e| anyhow::anyhow!("column {name}: {e}"))?.iter().collect())
}

fn column_str(df: &DataFrame, name: &str) -> anyhow::Result<Vec<Option<String>>> {
    let c = df.column(name).map_err(|e| anyhow::anyhow!("fairness table: {e}"))?;
    let c = c.cast(&DataType::String).map_err(|e| anyhow::anyhow!("column {name}: {e}"))?;
    Ok(c.str().map_err(|e| anyhow::anyhow!("column {name}: {e}"))?.iter().map(|v| v.map(str::to_string)).collect())
}

/// Predicted against observed rate per decile, with the diagonal of perfect calibration.
fn calibration_chart(cal: &DataFrame, lang: Lang) -> anyhow::Result<String> {
    let predicted = column_f64(cal, "mean_predicted")?;
    let observed = column_f64(cal, "observed_rate")?;
    let points: Vec<(f64, f64)> = predicted.iter().zip(&observed).filter_map(|(p, o)| Some(((*p)?, (*o)?))).collect();
    let max = points.iter().fold(0.05_f64, |m, (p, o)| m.max(*p).max(*o)) * 1.1;
    let (size, pad) = (320.0, 40.0);
    let s = |v: f64| pad + (size - 2.0 * pad) * (v / max);
    let mut svg = format!(r#"<svg viewBox="0 0 {size} {size}" width="{size}" height="{size}" role="img">"#);
    let _ = write!(svg, r##"<line x1="{0:.1}" y1="{1:.1}" x2="{1:.1}" y2="{0:.1}" stroke="#999" stroke-dasharray="4 3"/>"##, pad, size - pad);
    let _ = write!(svg, r##"<line x1="{pad}" y1="{0:.1}" x2="{0:.1}" y2="{0:.1}" stroke="#333"/><line x1="{pad}" y1="{pad}" x2="{pad}" y2="{0:.1}" stroke="#333"/>"##, size - pad);
    for (p, o) in &points {
        let _ = write!(svg, r##"<circle cx="{:.1}" cy="{:.1}" r="4.5" fill="#0072B2"/>"##, s(*p), size - s(*o));
    }
    let _ = write!(svg, r#"<text x="{:.1}" y="{:.1}" class="note" text-anchor="end">{}</text>"#, size - pad, size - 8.0, esc(&format!("{} (0–{})", label(lang, "predicted"), pct(max))));
    let _ = write!(svg, r#"<text x="8" y="{:.1}" class="note">{}</text>"#, pad - 12.0, esc(label(lang, "observed")));
    svg.push_str("</svg>");
    Ok(svg)
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
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(l("group")), esc(l("rows")), esc(l("base_rate")), esc(l("auc_ci")), esc(l("ece")), esc(l("top10"))
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
                esc(l("withheld")),
                esc(reason)
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
    h.push_str("</table>");
    Ok(h)
}
