//! Plain findings drawn from the tables (which segments stand out, which cause
//! dominates where), as data; the report module turns them into sentences.

use polars::prelude::*;

use super::frame::{bools, f64s, strings};
use super::{Analysis, DIMENSIONS};

/// One statement the report makes about the numbers.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// A segment whose whole 95 % interval lies above the overall no-show rate.
    SegmentAbove { dimension: String, segment: Option<String>, rate: f64, low: f64, high: f64, overall: f64 },
    /// The most frequent recorded no-show cause within a role.
    DominantCause { role: String, cause: Option<String>, share: f64 },
    /// The message channel whose delivered messages most often stay unread.
    WorstChannel { channel: String, unread_rate: f64 },
    /// A signal whose absence goes with clearly more misses (interval above 1).
    SignalRisk { signal: String, relative_risk: f64, low: f64, high: f64 },
}

/// How many segments-above findings to keep (the largest excess first).
pub const MAX_SEGMENT_FINDINGS: usize = 6;

/// The overall no-show rate (None when nothing is closed or it is suppressed).
pub fn overall_rate(a: &Analysis) -> Option<f64> {
    f64s(a.get("overall")?, "no_show_rate").ok()?.first().copied().flatten()
}

pub fn findings(a: &Analysis) -> PolarsResult<Vec<Finding>> {
    let mut out = Vec::new();
    if let Some(overall) = overall_rate(a) {
        let mut above = Vec::new();
        for dim in DIMENSIONS {
            let Some(df) = a.get(&format!("rates_by_{dim}")) else { continue };
            let (seg, rate, low, high) = (strings(df, dim)?, f64s(df, "no_show_rate")?, f64s(df, "no_show_rate_low")?, f64s(df, "no_show_rate_high")?);
            for i in 0..df.height() {
                if let (Some(r), Some(l), Some(h)) = (rate[i], low[i], high[i]) {
                    if l > overall {
                        above.push(Finding::SegmentAbove { dimension: dim.to_string(), segment: seg[i].clone(), rate: r, low: l, high: h, overall });
                    }
                }
            }
        }
        above.sort_by(|x, y| {
            let ex = |f: &Finding| if let Finding::SegmentAbove { rate, .. } = f { *rate } else { 0.0 };
            ex(y).total_cmp(&ex(x))
        });
        out.extend(above.into_iter().take(MAX_SEGMENT_FINDINGS));
    }
    if let Some(df) = a.get("causes_no_show_by_role") {
        let (role, cause, share, hidden) = (strings(df, "role")?, strings(df, "cause")?, f64s(df, "share")?, bools(df, "suppressed")?);
        let mut last: Option<Option<String>> = None;
        for i in 0..df.height() {
            // Rows are sorted by count within each role: the first is the dominant cause.
            if last.as_ref() == Some(&role[i]) {
                continue;
            }
            last = Some(role[i].clone());
            if let (Some(r), Some(s), Some(false)) = (role[i].clone(), share[i], hidden[i]) {
                out.push(Finding::DominantCause { role: r, cause: cause[i].clone(), share: s });
            }
        }
    }
    if let Some(df) = a.get("channel_reach") {
        let (ch, unread) = (strings(df, "channel")?, f64s(df, "unread_rate")?);
        let worst = (0..df.height()).filter_map(|i| Some((ch[i].clone()?, unread[i]?))).max_by(|x, y| x.1.total_cmp(&y.1));
        if let Some((channel, unread_rate)) = worst {
            out.push(Finding::WorstChannel { channel, unread_rate });
        }
    }
    if let Some(df) = a.get("signals") {
        let (sig, outcome) = (strings(df, "signal")?, strings(df, "outcome")?);
        let (rr, lo, hi) = (f64s(df, "relative_risk")?, f64s(df, "relative_risk_low")?, f64s(df, "relative_risk_high")?);
        for i in 0..df.height() {
            if outcome[i].as_deref() != Some("no_show_or_cancel") {
                continue;
            }
            if let (Some(s), Some(r), Some(l), Some(h)) = (sig[i].clone(), rr[i], lo[i], hi[i]) {
                if l > 1.0 {
                    out.push(Finding::SignalRisk { signal: s, relative_risk: r, low: l, high: h });
                }
            }
        }
    }
    Ok(out)
}
