//! Inline SVG charts for the HTML report.
//!
//! Why hand-written SVG: the report must open offline as one file, so a JavaScript
//! charting library would have to be inlined (hundreds of kB, a supply-chain surface
//! HR leads' browsers would run), and the Rust plotting crates either draw bitmaps or
//! pull a font stack and many dependencies. The report needs four simple chart shapes
//! (dot and whisker, stacked shares, bars, a line with a band); a few hundred lines of
//! SVG text do that with no dependency, render identically everywhere, and stay
//! searchable and printable.

use std::fmt::Write;

/// Colours for categories (colour-blind-safe Okabe–Ito order, then greys).
pub const PALETTE: &[&str] = &["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#999999", "#666666", "#333333"];

// The drawing's own units: every chart scales to the page's width (`viewBox` and
// `width:100%` in the page's CSS), so these are proportions, not pixels. 520 units
// keep 13-unit labels at about 10 px on a 420 px phone and 15 px on a laptop.
const WIDTH: f64 = 520.0;
const LABEL_W: f64 = 196.0;
const NOTE_W: f64 = 104.0;
const ROW_H: f64 = 24.0;

/// The opening tag of a chart `height` units high (width [`WIDTH`]).
fn open(width: f64, height: f64) -> String {
    format!(r#"<svg class="chart" viewBox="0 0 {width} {height:.1}" preserveAspectRatio="xMinYMin meet" role="img">"#)
}

/// `label` cut to about `room` units of 13-unit text (CJK characters take a full em,
/// others about half), with an ellipsis; the whole label goes into a `<title>`.
pub fn fit(label: &str, room: f64) -> String {
    let width = |c: char| if (c as u32) >= 0x2E80 { 13.0 } else { 6.7 };
    if label.chars().map(width).sum::<f64>() <= room {
        return esc(label);
    }
    let mut used = width('…');
    let mut cut = String::new();
    for c in label.chars() {
        used += width(c);
        if used > room {
            break;
        }
        cut.push(c);
    }
    format!("{}…", esc(&cut))
}

/// A label text element (right-aligned at `x`), cut to fit and with its full text as a tooltip.
fn label_text(x: f64, y: f64, label: &str, room: f64) -> String {
    format!(r#"<text x="{x:.1}" y="{y:.1}" class="lbl" text-anchor="end"><title>{}</title>{}</text>"#, esc(label), fit(label, room))
}

/// A whole number with thousands separators (`12,345`).
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// An amount of money, rounded to whole units, with thousands separators and the
/// configured currency: a symbol before it (`¥12,345`), a code before it with a space
/// (`CNY 12,345`), nothing without one.
pub fn money(v: f64, currency: Option<&str>) -> String {
    let amount = thousands(v.round() as i64);
    match currency {
        Some(c) if c.chars().all(|ch| ch.is_alphabetic()) => format!("{c} {amount}"),
        Some(c) => format!("{c}{amount}"),
        None => amount,
    }
}

/// Escapes text for HTML and SVG.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A rate as a percentage with one decimal.
pub fn pct(v: f64) -> String {
    format!("{:.1} %", v * 100.0)
}

/// One row of a dot-and-whisker chart; `rate: None` is drawn as suppressed.
#[derive(Debug, Clone)]
pub struct DotRow {
    pub label: String,
    pub rate: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub note: String,
}

fn nice_max(v: f64) -> f64 {
    let v = v.max(0.01);
    // Maxima whose quarters are round percentages (1, 2, 3, 5, 10, 15, 20, 25 %).
    let steps = [0.04, 0.08, 0.12, 0.2, 0.4, 0.6, 0.8, 1.0];
    steps.iter().copied().find(|s| *s >= v).unwrap_or(((v * 10.0).ceil()) / 10.0)
}

fn axis(svg: &mut String, x0: f64, plot_w: f64, top: f64, bottom: f64, max: f64, as_pct: bool) {
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let x = x0 + plot_w * k as f64 / 4.0;
        let label = if as_pct { format!("{:.0}%", v * 100.0) } else { short_number(v) };
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#e3e3e3"/><text x="{x:.1}" y="{:.1}" class="tick" text-anchor="middle">{label}</text>"##,
            bottom + 14.0
        );
    }
}

/// Thousands as `k`, millions as `M`.
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// The axis maximum [`dot_whisker_on`] would choose for these rows: pass the largest
/// of several charts' to draw them on one scale.
pub fn dot_axis_max(rows: &[DotRow], overall: Option<f64>) -> f64 {
    nice_max(rows.iter().filter_map(|r| r.high.or(r.rate)).chain(overall).fold(0.0, f64::max) * 1.05)
}

/// Rates with their intervals, one row per segment, and a dashed line at `overall`.
pub fn dot_whisker(rows: &[DotRow], overall: Option<f64>, suppressed_label: &str) -> String {
    dot_whisker_on(rows, overall, suppressed_label, dot_axis_max(rows, overall))
}

/// [`dot_whisker`] on an axis from 0 to `max` (shared by the charts of one section).
pub fn dot_whisker_on(rows: &[DotRow], overall: Option<f64>, suppressed_label: &str, max: f64) -> String {
    let plot_w = WIDTH - LABEL_W - NOTE_W;
    let top = 8.0;
    let height = top + rows.len() as f64 * ROW_H + 24.0;
    let max = max.max(0.01);
    let x = |v: f64| LABEL_W + plot_w * (v / max).clamp(0.0, 1.0);
    let mut svg = open(WIDTH, height);
    let bottom = top + rows.len() as f64 * ROW_H;
    axis(&mut svg, LABEL_W, plot_w, top, bottom, max, true);
    for (i, r) in rows.iter().enumerate() {
        let y = top + i as f64 * ROW_H + ROW_H / 2.0;
        svg.push_str(&label_text(LABEL_W - 8.0, y + 4.0, &r.label, LABEL_W - 12.0));
        match (r.rate, r.low, r.high) {
            (Some(rate), low, high) => {
                if let (Some(l), Some(h)) = (low, high) {
                    let _ = write!(svg, r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#0072B2" stroke-width="2"/>"##, x(l), x(h));
                }
                let _ = write!(svg, r##"<circle cx="{:.1}" cy="{y:.1}" r="4.5" fill="#0072B2"/>"##, x(rate));
                let _ = write!(svg, r#"<text x="{:.1}" y="{:.1}" class="note">{} · {}</text>"#, WIDTH - NOTE_W + 8.0, y + 4.0, pct(rate), esc(&r.note));
            }
            _ => {
                let _ = write!(svg, r#"<text x="{:.1}" y="{:.1}" class="muted">{}</text>"#, LABEL_W + 6.0, y + 4.0, esc(suppressed_label));
            }
        }
    }
    if let Some(o) = overall {
        let _ = write!(svg, r##"<line x1="{0:.1}" y1="{top:.1}" x2="{0:.1}" y2="{bottom:.1}" stroke="#D55E00" stroke-dasharray="4 3" stroke-width="1.5"/>"##, x(o));
    }
    svg.push_str("</svg>");
    svg
}

/// 100 % stacked bars: each row's shares by category, with a legend.
pub fn stacked_shares(rows: &[(String, Vec<(String, f64)>)], categories: &[String]) -> String {
    let plot_w = WIDTH - LABEL_W - 10.0;
    // The legend, in the categories' own order, three keys a line across the chart.
    let per_line = 3;
    let key_w = WIDTH / per_line as f64;
    let legend_rows = categories.len().div_ceil(per_line) as f64;
    let top = 8.0 + legend_rows * 18.0;
    let height = top + rows.len() as f64 * ROW_H + 10.0;
    let mut svg = open(WIDTH, height);
    let colour = |cat: &str| PALETTE[categories.iter().position(|c| c == cat).unwrap_or(PALETTE.len() - 1) % PALETTE.len()];
    for (i, cat) in categories.iter().enumerate() {
        let (lx, ly) = ((i % per_line) as f64 * key_w, 8.0 + (i / per_line) as f64 * 18.0);
        let _ = write!(
            svg,
            r#"<rect x="{lx:.1}" y="{ly:.1}" width="11" height="11" fill="{}"/><text x="{:.1}" y="{:.1}" class="key"><title>{}</title>{}</text>"#,
            colour(cat),
            lx + 15.0,
            ly + 10.0,
            esc(cat),
            fit(cat, key_w - 22.0)
        );
    }
    for (i, (label, shares)) in rows.iter().enumerate() {
        let y = top + i as f64 * ROW_H;
        svg.push_str(&label_text(LABEL_W - 8.0, y + 16.0, label, LABEL_W - 12.0));
        let mut x0 = LABEL_W;
        for (cat, share) in shares {
            let w = plot_w * share.clamp(0.0, 1.0);
            let _ = write!(svg, r#"<rect x="{x0:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{}"><title>{} {}</title></rect>"#, y + 3.0, ROW_H - 6.0, colour(cat), esc(cat), pct(*share));
            if w > 30.0 {
                let _ = write!(svg, r#"<text x="{:.1}" y="{:.1}" class="inbar">{:.0}%</text>"#, x0 + 3.0, y + 16.0, share * 100.0);
            }
            x0 += w;
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars of `value` with a printed note (`max`: the value of a full bar).
pub fn bars(rows: &[(String, f64, String)], max: Option<f64>, colour: &str) -> String {
    let plot_w = WIDTH - LABEL_W - NOTE_W;
    let top = 8.0;
    let height = top + rows.len() as f64 * ROW_H + 8.0;
    let max = max.unwrap_or_else(|| rows.iter().map(|r| r.1).fold(0.0, f64::max)).max(f64::MIN_POSITIVE);
    let mut svg = open(WIDTH, height);
    for (i, (label, value, note)) in rows.iter().enumerate() {
        let y = top + i as f64 * ROW_H;
        let w = plot_w * (value / max).clamp(0.0, 1.0);
        svg.push_str(&label_text(LABEL_W - 8.0, y + 16.0, label, LABEL_W - 12.0));
        let _ = write!(
            svg,
            r#"<rect x="{LABEL_W}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{colour}"/><text x="{:.1}" y="{:.1}" class="note">{}</text>"#,
            y + 3.0,
            ROW_H - 6.0,
            LABEL_W + w + 6.0,
            y + 16.0,
            esc(note)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One point of [`line_band`]: its label, the rate and its interval's bounds.
pub type BandPoint = (String, Option<f64>, Option<f64>, Option<f64>);

/// A line of rates over ordered labels with its interval as a band.
pub fn line_band(points: &[BandPoint]) -> String {
    line_band_on(points, nice_max(points.iter().filter_map(|p| p.3.or(p.1)).fold(0.0, f64::max) * 1.05))
}

/// [`line_band`] on an axis from 0 to `max`.
pub fn line_band_on(points: &[BandPoint], max: f64) -> String {
    let (left, right, top, plot_h) = (44.0, 14.0, 10.0, 170.0);
    let height = top + plot_h + 56.0;
    let plot_w = WIDTH - left - right;
    let max = max.max(0.01);
    let n = points.len().max(2) as f64 - 1.0;
    let x = |i: usize| left + plot_w * i as f64 / n;
    let y = |v: f64| top + plot_h * (1.0 - (v / max).clamp(0.0, 1.0));
    let mut svg = open(WIDTH, height);
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{left}" y1="{0:.1}" x2="{1:.1}" y2="{0:.1}" stroke="#e3e3e3"/><text x="{2:.1}" y="{3:.1}" class="tick" text-anchor="end">{4:.0}%</text>"##,
            y(v),
            WIDTH - right,
            left - 6.0,
            y(v) + 4.0,
            v * 100.0
        );
    }
    let band: Vec<(usize, f64, f64)> = points.iter().enumerate().filter_map(|(i, p)| Some((i, p.2?, p.3?))).collect();
    if band.len() >= 2 {
        let mut d = String::new();
        for (k, (i, _, h)) in band.iter().enumerate() {
            let _ = write!(d, "{}{:.1},{:.1} ", if k == 0 { "M" } else { "L" }, x(*i), y(*h));
        }
        for (i, l, _) in band.iter().rev() {
            let _ = write!(d, "L{:.1},{:.1} ", x(*i), y(*l));
        }
        let _ = write!(svg, r##"<path d="{d}Z" fill="#0072B2" fill-opacity="0.15"/>"##);
    }
    let line: Vec<String> = points.iter().enumerate().filter_map(|(i, p)| Some(format!("{:.1},{:.1}", x(i), y(p.1?)))).collect();
    if !line.is_empty() {
        let _ = write!(svg, r##"<polyline points="{}" fill="none" stroke="#0072B2" stroke-width="2"/>"##, line.join(" "));
    }
    let every = points.len().div_ceil(10).max(1);
    for (i, p) in points.iter().enumerate() {
        if let Some(v) = p.1 {
            let _ = write!(svg, r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="#0072B2"><title>{} {}</title></circle>"##, x(i), y(v), esc(&p.0), pct(v));
        }
        if i % every == 0 {
            let _ = write!(
                svg,
                r#"<text x="{0:.1}" y="{1:.1}" class="tick" text-anchor="end" transform="rotate(-35 {0:.1} {1:.1})">{2}</text>"#,
                x(i),
                top + plot_h + 16.0,
                esc(&p.0)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_labels_and_close() {
        let rows = vec![
            DotRow { label: "<script>".into(), rate: Some(0.1), low: Some(0.05), high: Some(0.2), note: "n=40".into() },
            DotRow { label: "tiny".into(), rate: None, low: None, high: None, note: String::new() },
        ];
        let svg = dot_whisker(&rows, Some(0.12), "suppressed");
        assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script>"));
        assert!(svg.ends_with("</svg>") && svg.contains("suppressed") && svg.contains("10.0 %"));
        let s = stacked_shares(&[("a".into(), vec![("x".into(), 0.6), ("y".into(), 0.4)])], &["x".into(), "y".into()]);
        assert_eq!(s.matches("<rect").count(), 4, "two legend keys and two segments");
        assert!(line_band(&[]).ends_with("</svg>"), "an empty series still renders");
    }
}
