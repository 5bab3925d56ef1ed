//! Kept events on their way to the lake: compact binary records appended to one
//! temporary file per UTC month inside the version being written, then read back one
//! month at a time, sorted and handed to the Parquet writer. This is what keeps memory
//! flat however many events a run reads; it decides nothing about which rows win.
//!
//! A record is a fixed 35-byte head and three strings:
//! `ts i64 | line u64 | file u32 | type u8 | channel u8 | flags u8 |
//! len(event_id) u32 | len(interview_id) u32 | len(detail) u32 | bytes…` (little-endian).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike};

use crate::ingest::merge::enum_code;
use crate::ingest::order::{self, SortKey};
use crate::ingest::record::EventRow;
use crate::schema::{Channel, EventType};
use crate::time::Micros;

const HEAD: usize = 35;
/// The record came from the lake's previous version (not from this run's files).
pub const FROM_LAKE: u8 = 1;
const HAS_DETAIL: u8 = 2;

/// A month as one number, `year * 12 + month - 1` of the instant in UTC (sorts like time).
pub type MonthKey = i32;

pub fn month_key(t: Micros) -> MonthKey {
    let dt = DateTime::from_timestamp_micros(t).unwrap_or_default();
    dt.year() * 12 + dt.month0() as i32
}

/// `YYYY-MM` of a month key.
pub fn month_label(key: MonthKey) -> String {
    format!("{:04}-{:02}", key.div_euclid(12), key.rem_euclid(12) + 1)
}

/// One event's fields, borrowed, as they go into a record.
#[derive(Debug, Clone, Copy)]
pub struct EventFields<'a> {
    pub event_id: &'a str,
    pub interview_id: &'a str,
    pub ts: Micros,
    pub event_type: EventType,
    pub channel: Option<Channel>,
    pub detail: Option<&'a str>,
    pub line: u64,
}

impl<'a> EventFields<'a> {
    pub fn of(row: &'a EventRow) -> EventFields<'a> {
        EventFields {
            event_id: &row.event_id,
            interview_id: &row.interview_id,
            ts: row.ts,
            event_type: row.event_type,
            channel: row.channel,
            detail: row.detail.as_deref(),
            line: row.origin.line,
        }
    }
}

fn len32(s: &str) -> [u8; 4] {
    // Rows are capped at MAX_ROW_BYTES (1 MiB) by the readers, far below u32::MAX.
    u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes()
}

/// Appends one record to `out`.
pub fn encode(e: &EventFields<'_>, file: u32, flags: u8, out: &mut Vec<u8>) {
    let detail = e.detail.unwrap_or("");
    let flags = flags | if e.detail.is_some() { HAS_DETAIL } else { 0 };
    out.reserve(HEAD + e.event_id.len() + e.interview_id.len() + detail.len());
    out.extend_from_slice(&e.ts.to_le_bytes());
    out.extend_from_slice(&e.line.to_le_bytes());
    out.extend_from_slice(&file.to_le_bytes());
    out.push(enum_code(EventType::ALL, Some(e.event_type)));
    out.push(enum_code(Channel::ALL, e.channel));
    out.push(flags);
    out.extend_from_slice(&len32(e.event_id));
    out.extend_from_slice(&len32(e.interview_id));
    out.extend_from_slice(&len32(detail));
    out.extend_from_slice(e.event_id.as_bytes());
    out.extend_from_slice(e.interview_id.as_bytes());
    out.extend_from_slice(detail.as_bytes());
}

/// One record read back, borrowing the month's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub ts: Micros,
    pub line: u64,
    pub file: u32,
    pub event_type: u8,
    pub channel: u8,
    pub flags: u8,
    pub event_id: &'a [u8],
    pub interview_id: &'a [u8],
    pub detail: Option<&'a [u8]>,
}

/// A spill file that does not parse: only a bug or a damaged disk can cause it.
#[derive(Debug, thiserror::Error)]
#[error("temporary event file {path} is damaged at byte {offset}")]
pub struct Damaged {
    pub path: PathBuf,
    pub offset: usize,
}

fn u32_at(b: &[u8], at: usize) -> usize {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a) as usize
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// The record at `offset` and the offset of the next one, or `None` when the bytes
/// there are not a whole record.
pub fn decode(buf: &[u8], offset: usize) -> Option<(Record<'_>, usize)> {
    let head = buf.get(offset..offset + HEAD)?;
    let (id_len, iid_len, detail_len) = (u32_at(head, 23), u32_at(head, 27), u32_at(head, 31));
    let start = offset + HEAD;
    let end = start.checked_add(id_len)?.checked_add(iid_len)?.checked_add(detail_len)?;
    let body = buf.get(start..end)?;
    let flags = head[22];
    let record = Record {
        ts: u64_at(head, 0) as i64,
        line: u64_at(head, 8),
        file: u32_at(head, 16) as u32,
        event_type: head[20],
        channel: head[21],
        flags,
        event_id: &body[..id_len],
        interview_id: &body[id_len..id_len + iid_len],
        detail: (flags & HAS_DETAIL != 0).then(|| &body[id_len + iid_len..]),
    };
    Some((record, end))
}

/// A month's records in the lake's (ts, event_id) order: each key's `at` is the
/// record's offset in `buf`.
pub fn sorted_offsets(buf: &[u8], path: &Path) -> Result<Vec<SortKey>, Damaged> {
    let mut keys = Vec::new();
    let mut at = 0usize;
    while at < buf.len() {
        let (r, next) = decode(buf, at).ok_or_else(|| Damaged { path: path.to_path_buf(), offset: at })?;
        keys.push(SortKey::new(r.ts, r.event_id, at as u64));
        at = next;
    }
    order::sort_by_time_then_id(&mut keys, |at| decode(buf, at as usize).map_or(&[][..], |(r, _)| r.event_id));
    Ok(keys)
}

/// Writers of the month files, opened as months appear.
pub struct Spill {
    dir: PathBuf,
    months: BTreeMap<MonthKey, BufWriter<File>>,
    bytes: u64,
}

impl Spill {
    /// Spills into `dir`, which it creates.
    pub fn new(dir: &Path) -> std::io::Result<Spill> {
        fs::create_dir_all(dir)?;
        Ok(Spill { dir: dir.to_path_buf(), months: BTreeMap::new(), bytes: 0 })
    }

    fn path_of(&self, month: MonthKey) -> PathBuf {
        self.dir.join(format!("events-{}.bin", month_label(month)))
    }

    /// Appends encoded records (`bytes`) to a month's file.
    pub fn append(&mut self, month: MonthKey, bytes: &[u8]) -> std::io::Result<()> {
        if !self.months.contains_key(&month) {
            let file = File::create(self.path_of(month))?;
            self.months.insert(month, BufWriter::with_capacity(1 << 20, file));
        }
        self.bytes += bytes.len() as u64;
        match self.months.get_mut(&month) {
            Some(w) => w.write_all(bytes),
            None => Err(std::io::Error::other("month writer vanished")),
        }
    }

    /// The folder of the month files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The months with at least one record so far.
    pub fn months(&self) -> Vec<MonthKey> {
        self.months.keys().copied().collect()
    }

    /// Bytes spilled so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Flushes every month file and lists them in month order.
    pub fn finish(self) -> std::io::Result<Vec<(MonthKey, PathBuf)>> {
        let mut out = Vec::with_capacity(self.months.len());
        for (month, w) in self.months {
            let file = w.into_inner().map_err(|e| e.into_error())?;
            drop(file);
            out.push((month, self.dir.join(format!("events-{}.bin", month_label(month)))));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_sort_by_time_then_id() {
        let events = [
            ("b-long-id-2", "I2", 5, Some("详情")),
            ("b-long-id-10", "I1", 5, None),
            ("a", "I1", 5, Some("")),
            ("z", "I3", 1, None),
            ("", "I4", 5, None),
        ];
        let mut buf = Vec::new();
        for (i, (id, iid, ts, detail)) in events.iter().enumerate() {
            let e = EventFields {
                event_id: id,
                interview_id: iid,
                ts: *ts,
                event_type: EventType::ALL[i % EventType::ALL.len()],
                channel: if i % 2 == 0 { Some(Channel::Sms) } else { None },
                detail: *detail,
                line: 100 + i as u64,
            };
            encode(&e, 7, if i == 0 { FROM_LAKE } else { 0 }, &mut buf);
        }
        let keys = sorted_offsets(&buf, Path::new("x")).unwrap();
        let got: Vec<(&[u8], Micros, Option<&[u8]>, u64, bool)> = keys
            .iter()
            .map(|k| {
                let (r, _) = decode(&buf, k.at as usize).unwrap();
                assert_eq!(r.file, 7);
                (r.event_id, r.ts, r.detail, r.line, r.flags & FROM_LAKE != 0)
            })
            .collect();
        // Byte order of ids, as Rust's str ordering: "" < "a" < "b-long-id-10" < "b-long-id-2".
        assert_eq!(
            got,
            vec![
                (&b"z"[..], 1, None, 103, false),
                (&b""[..], 5, None, 104, false),
                (&b"a"[..], 5, Some(&b""[..]), 102, false),
                (&b"b-long-id-10"[..], 5, None, 101, false),
                (&b"b-long-id-2"[..], 5, Some("详情".as_bytes()), 100, true),
            ]
        );
        assert!(sorted_offsets(&buf[..buf.len() - 1], Path::new("x")).is_err(), "a cut record is reported");
    }

    #[test]
    fn month_keys_follow_utc_months() {
        let t = |s: &str| crate::time::parse_timestamp(s, chrono_tz::UTC).unwrap();
        assert_eq!(month_label(month_key(t("2026-01-31T23:59:59.999999Z"))), "2026-01");
        assert_eq!(month_label(month_key(t("2026-02-01T00:00:00Z"))), "2026-02");
        assert_eq!(month_label(month_key(t("2026-12-31T23:00:00Z"))), "2026-12");
        assert!(month_key(t("2026-12-31T23:00:00Z")) < month_key(t("2027-01-01T00:00:00Z")));
        assert_eq!(month_label(month_key(t("1969-12-31T23:00:00Z"))), "1969-12");
    }
}
