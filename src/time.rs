//! Timestamps as the input format defines them, and the configured time zone.
//!
//! Every instant is held as microseconds since the Unix epoch in UTC (`i64`), the unit
//! the lake stores. This module parses strictly: what the spec does not call a
//! timestamp (a bare date, `+0800`, `24:00`, a naive time in a daylight-saving gap)
//! is an error, never a guess.

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// Microseconds since 1970-01-01T00:00:00Z.
pub type Micros = i64;

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
pub const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;
pub const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;

/// Why a text is not a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("expected YYYY-MM-DD HH:MM:SS with an optional fraction and offset")]
    Shape,
    #[error("no such date")]
    Date,
    #[error("time of day out of range")]
    Time,
    #[error("offset out of range")]
    Offset,
    #[error("local time falls in a daylight-saving gap of {0}")]
    Gap(String),
}

/// Parses an IANA time-zone name (`UTC`, `Asia/Shanghai`).
pub fn parse_tz(name: &str) -> Result<Tz, String> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| format!("unknown time zone {name:?} (expected an IANA name such as UTC or Asia/Shanghai)"))
}

fn digits(b: &[u8], at: usize, n: usize) -> Result<u32, TimestampError> {
    let part = b.get(at..at + n).ok_or(TimestampError::Shape)?;
    let mut v = 0u32;
    for &c in part {
        if !c.is_ascii_digit() {
            return Err(TimestampError::Shape);
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Ok(v)
}

/// Parses a timestamp of the input format into UTC microseconds. Naive times are local
/// time in `tz`; in an overlap they mean the earlier instant. A leap second (`:60`) is
/// read as the first instant of the following second.
pub fn parse_timestamp(text: &str, tz: Tz) -> Result<Micros, TimestampError> {
    let b = text.trim().as_bytes();
    if b.len() < 19 {
        return Err(TimestampError::Shape);
    }
    let year = digits(b, 0, 4)?;
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return Err(TimestampError::Shape);
    }
    let (month, day) = (digits(b, 5, 2)?, digits(b, 8, 2)?);
    let (hour, minute, second) = (digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?);
    let mut i = 19;
    let mut micros_frac: i64 = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut j = start;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let n = j - start;
        if n == 0 || n > 9 {
            return Err(TimestampError::Shape);
        }
        // Keep microseconds; finer digits are truncated.
        for k in 0..6 {
            let d = if k < n { i64::from(b[start + k] - b'0') } else { 0 };
            micros_frac = micros_frac * 10 + d;
        }
        i = j;
    }
    let offset_seconds: Option<i32> = match b.get(i) {
        None => None,
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => Some(0),
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let (oh, om) = (digits(b, i + 1, 2)?, digits(b, i + 4, 2)?);
            if oh > 23 || om > 59 {
                return Err(TimestampError::Offset);
            }
            let secs = (oh * 3600 + om * 60) as i32;
            Some(if sign == b'-' { -secs } else { secs })
        }
        Some(_) => return Err(TimestampError::Shape),
    };
    let date = NaiveDate::from_ymd_opt(year as i32, month, day).ok_or(TimestampError::Date)?;
    if year == 0 {
        return Err(TimestampError::Date);
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(TimestampError::Time);
    }
    let leap = second == 60;
    let time = NaiveTime::from_hms_opt(hour, minute, if leap { 59 } else { second }).ok_or(TimestampError::Time)?;
    let naive = NaiveDateTime::new(date, time);
    let base_seconds = match offset_seconds {
        Some(off) => naive.and_utc().timestamp() - i64::from(off),
        None => match tz.from_local_datetime(&naive) {
            LocalResult::Single(t) => t.timestamp(),
            LocalResult::Ambiguous(earlier, later) => earlier.timestamp().min(later.timestamp()),
            LocalResult::None => return Err(TimestampError::Gap(tz.name().to_string())),
        },
    };
    let seconds = base_seconds + i64::from(leap);
    Ok(seconds * MICROS_PER_SECOND + micros_frac)
}

/// Formats UTC microseconds as RFC 3339 in UTC (`2026-03-02T06:00:00Z`).
pub fn format_utc(t: Micros) -> String {
    match DateTime::<Utc>::from_timestamp_micros(t) {
        Some(dt) if dt.timestamp_subsec_micros() == 0 => dt.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => format!("{t}us"),
    }
}

/// Formats UTC microseconds as RFC 3339 with the offset of `tz` at that instant.
pub fn format_local(t: Micros, tz: Tz) -> String {
    match DateTime::<Utc>::from_timestamp_micros(t) {
        Some(dt) => dt.with_timezone(&tz).format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        None => format!("{t}us"),
    }
}

/// The current instant.
pub fn now() -> Micros {
    Utc::now().timestamp_micros()
}

/// ISO week label of an instant in `tz`, as the rate tables print it (`2026-W07`).
pub fn iso_week_label(t: Micros, tz: Tz) -> String {
    let local = DateTime::<Utc>::from_timestamp_micros(t).unwrap_or_default().with_timezone(&tz);
    let w = local.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// Local weekday (Monday = 1 … Sunday = 7) and hour of day of an instant in `tz`.
pub fn local_weekday_hour(t: Micros, tz: Tz) -> (u32, u32) {
    let local = DateTime::<Utc>::from_timestamp_micros(t).unwrap_or_default().with_timezone(&tz);
    (local.weekday().number_from_monday(), local.hour())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> Result<Micros, TimestampError> {
        parse_timestamp(s, chrono_tz::UTC)
    }

    #[test]
    fn offsets_and_separators_agree() {
        let a = utc("2026-03-02T14:00:00+08:00").unwrap();
        assert_eq!(utc("2026-03-02 06:00:00Z").unwrap(), a);
        assert_eq!(utc("2026-03-02t06:00:00z").unwrap(), a);
        assert_eq!(utc("2026-03-02 06:00:00").unwrap(), a);
        assert_eq!(utc("2026-03-02T06:00:00.5Z").unwrap(), a + 500_000);
        assert_eq!(format_utc(a), "2026-03-02T06:00:00Z");
    }

    #[test]
    fn shapes_the_spec_rejects() {
        for bad in ["2026-03-02", "2026-03-02T14:00:00+0800", "2026-03-02T24:00:00Z", "2026-02-30 10:00:00",
            "2026-03-02T14:00Z", "2026-03-02T14:00:00.Z", "0000-01-01 00:00:00", "2026-03-02T14:00:00+08:00 x", ""] {
            assert!(utc(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn naive_times_use_the_zone_and_reject_gaps() {
        let sh = parse_tz("Asia/Shanghai").unwrap();
        assert_eq!(parse_timestamp("2026-03-02 14:00:00", sh).unwrap(), utc("2026-03-02T06:00:00Z").unwrap());
        let ny = parse_tz("America/New_York").unwrap();
        assert!(matches!(parse_timestamp("2026-03-08 02:30:00", ny), Err(TimestampError::Gap(_))));
        // 01:30 on 2026-11-01 happens twice in New York: the earlier is EDT (UTC-4).
        assert_eq!(parse_timestamp("2026-11-01 01:30:00", ny).unwrap(), utc("2026-11-01T05:30:00Z").unwrap());
    }

    #[test]
    fn edges_do_not_panic() {
        assert!(utc("0001-01-01T00:00:00Z").is_ok());
        assert!(utc("9999-12-31T23:59:59.999999999-23:59").is_ok());
        assert_eq!(utc("2016-12-31T23:59:60Z").unwrap(), utc("2017-01-01T00:00:00Z").unwrap());
    }
}
