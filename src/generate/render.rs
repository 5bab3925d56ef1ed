//! Rendering generated values as the bytes of the input format: timestamps in every
//! form the spec allows, CSV fields, JSON strings. Writes into caller-owned buffers so
//! the hot loop never allocates.

use std::io::Write;

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;

use crate::time::{Micros, MICROS_PER_MINUTE, MICROS_PER_SECOND};

const STEP: Micros = 15 * MICROS_PER_MINUTE;

/// UTC offsets of the configured zone, precomputed every 15 minutes over the
/// generated period (all real zone transitions fall on a quarter hour), because
/// asking chrono-tz for each of tens of millions of timestamps dominates the run.
#[derive(Debug, Clone)]
pub struct OffsetTable {
    tz: Tz,
    start: Micros,
    seconds: Vec<i32>,
}

impl OffsetTable {
    pub fn new(tz: Tz, start: Micros, end: Micros) -> OffsetTable {
        let start = start.div_euclid(STEP) * STEP;
        let n = ((end - start).max(0) / STEP + 2) as usize;
        let seconds = (0..n).map(|i| offset_seconds_slow(tz, start + i as i64 * STEP)).collect();
        OffsetTable { tz, start, seconds }
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// Offset (local minus UTC, seconds) at instant `t`.
    pub fn at(&self, t: Micros) -> i32 {
        let i = (t - self.start).div_euclid(STEP);
        if i >= 0 {
            if let Some(&s) = self.seconds.get(i as usize) {
                return s;
            }
        }
        offset_seconds_slow(self.tz, t)
    }

    /// Whether a naive local rendering of `t` reads back as `t`: no transition within
    /// three hours either side, so the local time is neither in a gap nor an overlap.
    pub fn naive_is_exact(&self, t: Micros) -> bool {
        let o = self.at(t);
        o == self.at(t - 3 * 3600 * MICROS_PER_SECOND) && o == self.at(t + 3 * 3600 * MICROS_PER_SECOND)
    }

    /// The UTC instant of a local wall-clock time given as "micros as if UTC".
    pub fn local_to_utc(&self, local_as_utc: Micros) -> Micros {
        let guess = local_as_utc - i64::from(self.at(local_as_utc)) * MICROS_PER_SECOND;
        local_as_utc - i64::from(self.at(guess)) * MICROS_PER_SECOND
    }
}

fn offset_seconds_slow(tz: Tz, t: Micros) -> i32 {
    match DateTime::from_timestamp_micros(t) {
        Some(dt) => tz.offset_from_utc_datetime(&dt.naive_utc()).fix().local_minus_utc(),
        None => 0,
    }
}

/// The written form of a timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsForm {
    /// `2026-03-02 14:00:00`, local in the configured zone.
    NaiveSpace,
    /// `2026-03-02T14:00:00`, local.
    NaiveT,
    /// `2026-03-02T14:00:00+08:00`, the zone's offset.
    OffsetT,
    /// `2026-03-02 14:00:00+08:00`.
    OffsetSpace,
    /// `2026-03-02T06:00:00Z`.
    Zulu,
    /// `2026-03-02 06:00:00z`: lower-case `z`, which the spec also accepts.
    ZuluSpaceLower,
}

impl TsForm {
    /// Picks a form from a uniform draw in [0, 1): mostly naive local, as HR exports are.
    pub fn pick(u: f64) -> TsForm {
        match u {
            u if u < 0.45 => TsForm::NaiveSpace,
            u if u < 0.55 => TsForm::NaiveT,
            u if u < 0.78 => TsForm::OffsetT,
            u if u < 0.83 => TsForm::OffsetSpace,
            u if u < 0.98 => TsForm::Zulu,
            _ => TsForm::ZuluSpaceLower,
        }
    }
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn push2(buf: &mut Vec<u8>, v: u32) {
    buf.push(b'0' + (v / 10) as u8);
    buf.push(b'0' + (v % 10) as u8);
}

/// Writes wall-clock `local_as_utc` (micros as if UTC) as `YYYY-MM-DD?HH:MM:SS[.fff[fff]]`.
fn push_wall_clock(buf: &mut Vec<u8>, local_as_utc: Micros, sep: u8) {
    let secs = local_as_utc.div_euclid(MICROS_PER_SECOND);
    let frac = local_as_utc.rem_euclid(MICROS_PER_SECOND);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    let _ = write!(buf, "{y:04}-");
    push2(buf, m);
    buf.push(b'-');
    push2(buf, d);
    buf.push(sep);
    push2(buf, sod / 3600);
    buf.push(b':');
    push2(buf, sod / 60 % 60);
    buf.push(b':');
    push2(buf, sod % 60);
    if frac != 0 {
        if frac % 1000 == 0 {
            let _ = write!(buf, ".{:03}", frac / 1000);
        } else {
            let _ = write!(buf, ".{frac:06}");
        }
    }
}

fn push_offset(buf: &mut Vec<u8>, offset_seconds: i32) {
    buf.push(if offset_seconds < 0 { b'-' } else { b'+' });
    let a = offset_seconds.unsigned_abs() / 60;
    push2(buf, a / 60);
    buf.push(b':');
    push2(buf, a % 60);
}

/// Writes `t` in `form`. A naive form whose local time would be ambiguous near a
/// daylight-saving change is written with its offset instead, so every written
/// timestamp reads back as exactly `t`.
pub fn push_timestamp(buf: &mut Vec<u8>, t: Micros, form: TsForm, offsets: &OffsetTable) {
    match form {
        TsForm::Zulu => {
            push_wall_clock(buf, t, b'T');
            buf.push(b'Z');
        }
        TsForm::ZuluSpaceLower => {
            push_wall_clock(buf, t, b' ');
            buf.push(b'z');
        }
        TsForm::NaiveSpace | TsForm::NaiveT if offsets.naive_is_exact(t) => {
            let off = offsets.at(t);
            push_wall_clock(buf, t + i64::from(off) * MICROS_PER_SECOND, if form == TsForm::NaiveT { b'T' } else { b' ' });
        }
        TsForm::NaiveSpace | TsForm::NaiveT | TsForm::OffsetT | TsForm::OffsetSpace => {
            let off = offsets.at(t);
            let sep = if form == TsForm::OffsetSpace || form == TsForm::NaiveSpace { b' ' } else { b'T' };
            push_wall_clock(buf, t + i64::from(off) * MICROS_PER_SECOND, sep);
            push_offset(buf, off);
        }
    }
}

/// Writes a CSV field, quoting it only when RFC 4180 requires.
pub fn push_csv_field(buf: &mut Vec<u8>, value: &str) {
    if value.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        buf.push(b'"');
        for b in value.bytes() {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(value.as_bytes());
    }
}

/// Writes a JSON string literal (with the escapes JSON requires).
pub fn push_json_str(buf: &mut Vec<u8>, value: &str) {
    buf.push(b'"');
    for c in value.chars() {
        match c {
            '"' => buf.extend_from_slice(b"\\\""),
            '\\' => buf.extend_from_slice(b"\\\\"),
            '\n' => buf.extend_from_slice(b"\\n"),
            '\r' => buf.extend_from_slice(b"\\r"),
            '\t' => buf.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(buf, "\\u{:04x}", c as u32);
            }
            c => {
                let mut tmp = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
        }
    }
    buf.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{parse_timestamp, parse_tz};

    fn render(t: Micros, form: TsForm, table: &OffsetTable) -> String {
        let mut buf = Vec::new();
        push_timestamp(&mut buf, t, form, table);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn every_form_reads_back_exactly_across_a_dst_change() {
        let ny = parse_tz("America/New_York").unwrap();
        let utc = chrono_tz::UTC;
        let start = parse_timestamp("2026-10-30T00:00:00Z", utc).unwrap();
        let end = parse_timestamp("2026-11-03T00:00:00Z", utc).unwrap();
        let table = OffsetTable::new(ny, start - 86_400_000_000, end + 86_400_000_000);
        let forms = [TsForm::NaiveSpace, TsForm::NaiveT, TsForm::OffsetT, TsForm::OffsetSpace, TsForm::Zulu, TsForm::ZuluSpaceLower];
        let mut t = start;
        let mut k = 0;
        while t < end {
            for form in forms {
                let text = render(t, form, &table);
                assert_eq!(parse_timestamp(&text, ny), Ok(t), "{text} ({form:?})");
            }
            // Odd steps so fractions of a second and every quarter hour are visited.
            t += 7 * MICROS_PER_MINUTE + if k % 3 == 0 { 250_000 } else { 17 };
            k += 1;
        }
    }

    #[test]
    fn shanghai_shapes() {
        let sh = parse_tz("Asia/Shanghai").unwrap();
        let t = parse_timestamp("2026-03-02T06:00:00Z", chrono_tz::UTC).unwrap();
        let table = OffsetTable::new(sh, t - 1, t + 1);
        assert_eq!(render(t, TsForm::NaiveSpace, &table), "2026-03-02 14:00:00");
        assert_eq!(render(t, TsForm::OffsetT, &table), "2026-03-02T14:00:00+08:00");
        assert_eq!(render(t + 123_000, TsForm::Zulu, &table), "2026-03-02T06:00:00.123Z");
        // Outside the table the slow path gives the same answer.
        assert_eq!(render(t + 400 * 86_400_000_000, TsForm::OffsetT, &table), "2027-04-06T14:00:00+08:00");
    }

    #[test]
    fn csv_and_json_escaping() {
        let mut b = Vec::new();
        push_csv_field(&mut b, "a, \"b\"\nc");
        assert_eq!(b, b"\"a, \"\"b\"\"\nc\"");
        let mut j = Vec::new();
        push_json_str(&mut j, "临时\"有事\"\n");
        let back: String = serde_json::from_slice(&j).unwrap();
        assert_eq!(back, "临时\"有事\"\n");
    }
}
