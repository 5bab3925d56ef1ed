//! Per-interview event facts in one pass: the events are read once as a compact
//! stream (interview index, time, type code, channel code, reminder offset) and folded
//! into one row of facts per interview, which the report's tables then read as plain
//! columns. Pure: takes lazy frames and frames, returns frames; reads no files.
//!
//! Why not polars group-bys: at a million interviews the events are 17.6 million rows,
//! and every flag computed as a column and then aggregated costs a pass and a
//! full-length column; one sequential fold over numeric arrays costs one pass in all,
//! and keeps memory to the compact stream plus a few bytes per interview.

use std::collections::HashMap;

use polars::polars_utils::index::NullCount;
use polars::prelude::*;

use crate::derive::micros;
use crate::idrows::IdRows;
use crate::schema::{Channel, EventType};
use crate::time::{Micros, MICROS_PER_HOUR};

/// Type code of an event type the analytics never look at (a future type, say).
const KIND_OTHER: u8 = u8::MAX;
/// Channel code of a missing channel.
pub const CHANNEL_NONE: u8 = u8::MAX;

const fn kind(t: EventType) -> u8 {
    t as u8
}

const INVITE_SENT: u8 = kind(EventType::InviteSent);
const DELIVERED: u8 = kind(EventType::MessageDelivered);
const READ: u8 = kind(EventType::MessageRead);
const CONFIRMED: u8 = kind(EventType::Confirmed);
const REMINDER_SENT: u8 = kind(EventType::ReminderSent);
const JD: u8 = kind(EventType::JdViewed);
const INTRO: u8 = kind(EventType::CompanyIntroViewed);
const LINK_CLICKED: u8 = kind(EventType::LinkClicked);
const CANCEL_REQUESTED: u8 = kind(EventType::CancelRequested);
const JOINED: u8 = kind(EventType::Joined);
const COMPLETED: u8 = kind(EventType::Completed);
const REINVITE: u8 = kind(EventType::ReinviteSent);
const REINVITE_OK: u8 = kind(EventType::ReinviteAccepted);
const LINK_ERROR: u8 = kind(EventType::LinkError);

fn kind_code(text: &str) -> u8 {
    // A match on the text (length first, then bytes) rather than a scan of the list:
    // it runs once per event.
    match EventType::from_stored(text) {
        Some(t) => kind(t),
        None => KIND_OTHER,
    }
}

/// The channel named by code `code` (`None` for [`CHANNEL_NONE`]).
pub fn channel_name(code: u8) -> Option<&'static str> {
    Channel::ALL.get(code as usize).map(|c| c.as_str())
}

/// A channel's code; the lake holds only the input format's channels (ingest turns
/// anything else into null), so another value means a lake this version did not write.
fn channel_code(text: Option<&str>) -> PolarsResult<u8> {
    match text {
        None => Ok(CHANNEL_NONE),
        Some(t) => Channel::from_stored(t).map(|c| c as u8).ok_or_else(|| {
            polars_err!(ComputeError: "event channel {t:?} in the lake is not one of the input format's channels")
        }),
    }
}

/// `interview_id`, `type` and `channel` as one code: the interview's row index in the
/// high 32 bits, the channel's code in bits 8–15, the type's code in the low byte
/// (null when the interview is unknown: an orphan).
fn event_codes(columns: &[Column], index: &IdRows) -> PolarsResult<Column> {
    // One thread: polars evaluates the scan's other expressions beside this one, and
    // splitting the lookups over both cores measured slower (1.39 → 1.68 s to the end
    // of the compaction at 1 M, median of four alternating runs).
    let (ids, types, channels) = (columns[0].str()?, columns[1].str()?, columns[2].str()?);
    let codes: UInt64Chunked = codes_of(ids, types, channels, index)?.into_iter().collect();
    Ok(codes.with_name(columns[0].name().clone()).into_column())
}

/// [`event_codes`] as plain numbers, `None` for an orphan.
fn codes_of(ids: &StringChunked, types: &StringChunked, channels: &StringChunked, index: &IdRows) -> PolarsResult<Vec<Option<u64>>> {
    let mut codes: Vec<Option<u64>> = Vec::with_capacity(ids.len());
    let (mut types, mut channels) = (types.iter(), channels.iter());
    let mut failed = None;
    index.rows_of(
        || ids.iter(),
        |_, row| {
            let (t, c) = (types.next().flatten(), channels.next().flatten());
            codes.push(match row.map(|row| (row, channel_code(c))) {
                None => None,
                Some((row, Ok(channel))) => Some(u64::from(row) << 32 | u64::from(channel) << 8 | u64::from(t.map_or(KIND_OTHER, kind_code))),
                Some((_, Err(e))) => {
                    failed.get_or_insert(e);
                    None
                }
            })
        },
    );
    match failed {
        Some(e) => Err(e),
        None => Ok(codes),
    }
}

/// Events the analytics may use, compacted: `ts_us`, `code` (see [`event_codes`]: the
/// row in `interview_ids` of the event's interview, its channel and its type, by their
/// positions in the input format's lists) and `detail` (the fold reads it for reminders
/// only, where it is the offset). Events after as-of and orphans (events whose interview is
/// not in `interview_ids`) are left out.
///
/// Only five columns are read, and the text ones become one integer inside the scan
/// (a lookup in a table of the interview ids, [`IdRows`], instead of a join), so 17 million
/// events cost a 16-byte row each instead of four strings and a join's gather.
pub fn compact_events(events: LazyFrame, interview_ids: &StringChunked, as_of: Micros) -> LazyFrame {
    let index = std::sync::Arc::new(IdRows::new(interview_ids.iter()));
    let codes = move |columns: &mut [Column]| event_codes(columns, &index);
    let as_u64 = |_: &Schema, fields: &[Field]| Ok(Field::new(fields[0].name().clone(), DataType::UInt64));
    events
        .filter(micros("ts").lt_eq(lit(as_of)))
        .select([
            micros("ts").alias("ts_us"),
            col("interview_id").map_many(codes, &[col("type"), col("channel")], as_u64).alias("code"),
            col("detail"),
        ])
        .filter(col("code").is_not_null())
}

/// Flags of one interview, as bits of [`Facts::flags`], with their column names.
/// Funnel steps (`ev_*`) and re-invitations look at every event up to as-of; the
/// behavioural signals only at those before the slot started.
const FLAG_COLUMNS: &[&str] = &[
    "ev_delivered", "ev_read", "ev_confirmed", "ev_link_clicked", "ev_joined", "ev_completed", "jd_viewed",
    "company_intro_viewed", "link_clicked_24h", "message_read", "confirmed", "reminded_on_preferred", "reinvite_sent",
    "reinvite_accepted",
];

const EV_DELIVERED: u16 = 1 << 0;
const EV_READ: u16 = 1 << 1;
const EV_CONFIRMED: u16 = 1 << 2;
const EV_LINK_CLICKED: u16 = 1 << 3;
pub(crate) const EV_JOINED: u16 = 1 << 4;
const EV_COMPLETED: u16 = 1 << 5;
const JD_VIEWED: u16 = 1 << 6;
const INTRO_VIEWED: u16 = 1 << 7;
const LINK_CLICKED_24H: u16 = 1 << 8;
const READ_BEFORE: u16 = 1 << 9;
const CONFIRMED_BEFORE: u16 = 1 << 10;
const REMINDED_ON_PREFERRED: u16 = 1 << 11;
const REINVITE_SENT: u16 = 1 << 12;
const REINVITE_ACCEPTED: u16 = 1 << 13;

/// Bit of a missing channel in the channel masks (the six channels take bits 0–5).
const NONE_BIT: u8 = 1 << 7;

fn channel_bit(code: u8) -> u8 {
    if (code as usize) < Channel::ALL.len() {
        1 << code
    } else {
        NONE_BIT
    }
}

/// Everything the report needs from one interview's events.
#[derive(Debug, Clone, Copy)]
struct Facts {
    flags: u16,
    reminders: u32,
    last_reminder_us: Micros,
    /// Offset code of the latest reminder (an index into the offsets seen, or
    /// `u32::MAX` for a reminder without one); meaningless without a reminder.
    last_offset: u32,
    cancel_us: Micros,
    /// The first `confirmed` and the first `link_clicked` (any time up to as-of).
    confirm_us: Micros,
    first_click_us: Micros,
    /// Channels reminders came on (bit 7: a reminder without a channel).
    reminder_channels: u8,
    /// Channel reach: channels any event named, ones messaged on (invitation or
    /// reminder), ones with a delivery, ones with a read.
    seen: u8,
    sent: u8,
    delivered: u8,
    read: u8,
}

const NO_TIME_MAX: Micros = Micros::MIN;
const NO_TIME_MIN: Micros = Micros::MAX;
const NO_OFFSET: u32 = u32::MAX;

impl Default for Facts {
    fn default() -> Self {
        Facts {
            flags: 0,
            reminders: 0,
            last_reminder_us: NO_TIME_MAX,
            last_offset: NO_OFFSET,
            cancel_us: NO_TIME_MIN,
            confirm_us: NO_TIME_MIN,
            first_click_us: NO_TIME_MIN,
            reminder_channels: 0,
            seen: 0,
            sent: 0,
            delivered: 0,
            read: 0,
        }
    }
}

/// The fold of every usable event into per-interview facts.
#[derive(Debug)]
pub struct EventFacts {
    facts: Vec<Facts>,
    /// Distinct reminder offsets (`None`: a reminder without one), by code.
    offsets: Vec<Option<String>>,
    /// Distinct (interview, offset code) pairs of reminders before the slot.
    offset_pairs: Vec<(IdxSize, u32)>,
    /// Distinct `detail` texts of link errors and cancel requests, by code.
    details: Vec<Option<String>>,
    /// Every `link_error` event: (interview, time, detail code). Few events, so kept whole.
    link_errors: Vec<(IdxSize, Micros, u32)>,
    /// Every `cancel_requested` event: (interview, time, detail code).
    cancel_requests: Vec<(IdxSize, Micros, u32)>,
}

impl EventFacts {
    /// Folds `compact` (from [`compact_events`], any order) over the interviews whose slot
    /// starts (`slot_us`) and preferred-channel codes (`preferred`) are indexed by row.
    pub fn fold(compact: &DataFrame, slot_us: &[Micros], preferred: &[u8]) -> PolarsResult<EventFacts> {
        let n = slot_us.len();
        let mut compact = compact.select(["ts_us", "code", "detail"])?;
        // The streaming engine hands back chunks per morsel; aligned, the three columns
        // can be walked chunk by chunk as plain slices, without copying them into one.
        compact.align_chunks_par();
        let (ts, codes, details) = (compact.column("ts_us")?.i64()?, compact.column("code")?.u64()?, compact.column("detail")?.str()?);
        let mut facts = vec![Facts::default(); n];
        let mut offsets: Vec<Option<String>> = Vec::new();
        let mut offset_codes: HashMap<Option<&str>, u32> = HashMap::new();
        let mut offset_pairs: Vec<(IdxSize, u32)> = Vec::new();
        let mut details_seen: Vec<Option<String>> = Vec::new();
        let mut detail_codes: HashMap<Option<&str>, u32> = HashMap::new();
        let mut link_errors: Vec<(IdxSize, Micros, u32)> = Vec::new();
        let mut cancel_requests: Vec<(IdxSize, Micros, u32)> = Vec::new();
        const DAY_US: Micros = 24 * MICROS_PER_HOUR;
        for ((ts, codes), details) in ts.downcast_iter().zip(codes.downcast_iter()).zip(details.downcast_iter()) {
            // Nulls were filtered out before (`ts` after as-of, `code` of orphans).
            if ts.null_count() > 0 || codes.null_count() > 0 || ts.len() != codes.len() || details.len() != ts.len() {
                polars_bail!(ComputeError: "compact events: chunks are not aligned and null-free");
            }
            for (row, (&t, &code)) in ts.values().iter().zip(codes.values().iter()).enumerate() {
                let i = (code >> 32) as usize;
                if i >= n {
                    polars_bail!(ComputeError: "compact events: interview index {i} out of range");
                }
                let (k, ch) = (code as u8, (code >> 8) as u8);
                let slot = slot_us[i];
                let before = t < slot;
                let f = &mut facts[i];
                if ch != CHANNEL_NONE {
                    let bit = channel_bit(ch);
                    f.seen |= bit;
                    match k {
                        INVITE_SENT | REMINDER_SENT => f.sent |= bit,
                        DELIVERED => f.delivered |= bit,
                        READ => f.read |= bit,
                        _ => {}
                    }
                }
                let if_before = |flag: u16| if before { flag } else { 0 };
                match k {
                    DELIVERED => f.flags |= EV_DELIVERED,
                    READ => f.flags |= EV_READ | if_before(READ_BEFORE),
                    CONFIRMED => {
                        f.flags |= EV_CONFIRMED | if_before(CONFIRMED_BEFORE);
                        f.confirm_us = f.confirm_us.min(t);
                    }
                    LINK_CLICKED => {
                        f.first_click_us = f.first_click_us.min(t);
                        let recent = before && t >= slot - DAY_US;
                        f.flags |= EV_LINK_CLICKED | if recent { LINK_CLICKED_24H } else { 0 };
                    }
                    JOINED => f.flags |= EV_JOINED,
                    COMPLETED => f.flags |= EV_COMPLETED,
                    JD => f.flags |= if_before(JD_VIEWED),
                    INTRO => f.flags |= if_before(INTRO_VIEWED),
                    REINVITE => f.flags |= REINVITE_SENT,
                    REINVITE_OK => f.flags |= REINVITE_ACCEPTED,
                    CANCEL_REQUESTED | LINK_ERROR => {
                        if k == CANCEL_REQUESTED {
                            f.cancel_us = f.cancel_us.min(t);
                        }
                        let detail = details.get(row);
                        let code = *detail_codes.entry(detail).or_insert_with(|| {
                            details_seen.push(detail.map(str::to_string));
                            (details_seen.len() - 1) as u32
                        });
                        let list = if k == CANCEL_REQUESTED { &mut cancel_requests } else { &mut link_errors };
                        list.push((i as IdxSize, t, code));
                    }
                    REMINDER_SENT if before => {
                        f.reminders += 1;
                        if ch != CHANNEL_NONE && ch == preferred[i] {
                            f.flags |= REMINDED_ON_PREFERRED;
                        }
                        f.reminder_channels |= channel_bit(ch);
                        let offset = details.get(row);
                        let code = *offset_codes.entry(offset).or_insert_with(|| {
                            offsets.push(offset.map(str::to_string));
                            (offsets.len() - 1) as u32
                        });
                        // Ties at the same instant: the later row wins, like a stable sort by time.
                        if t >= f.last_reminder_us {
                            f.last_reminder_us = t;
                            f.last_offset = code;
                        }
                        offset_pairs.push((i as IdxSize, code));
                    }
                    _ => {}
                }
            }
        }
        offset_pairs.sort_unstable();
        offset_pairs.dedup();
        // The streaming engine's chunk order is not fixed: sorted, the lists (and every
        // table built from them) are the same on every run.
        link_errors.sort_unstable();
        cancel_requests.sort_unstable();
        Ok(EventFacts { facts, offsets, offset_pairs, details: details_seen, link_errors, cancel_requests })
    }

    /// The facts as columns, one row per interview in `iv_idx` order: the flags of
    /// [`FLAG_COLUMNS`], `reminders_received`, `reminder_channels` (distinct channels
    /// reminders came on), `last_reminder_us`, `last_reminder_offset`,
    /// `cancel_request_us` (the first `cancel_requested`), and the channel masks
    /// `reach_seen`, `reach_sent`, `reach_delivered`, `reach_read` (bit = channel code).
    pub fn columns(&self) -> Vec<Column> {
        let f = &self.facts;
        let mut out: Vec<Column> = FLAG_COLUMNS
            .iter()
            .enumerate()
            .map(|(bit, name)| {
                let values: Vec<bool> = f.iter().map(|x| x.flags & (1 << bit) != 0).collect();
                Column::new((*name).into(), values)
            })
            .collect();
        let some_time = |v: Micros, none: Micros| (v != none).then_some(v);
        out.push(Column::new("reminders_received".into(), f.iter().map(|x| x.reminders as i64).collect::<Vec<_>>()));
        out.push(Column::new(
            "reminder_channels".into(),
            f.iter().map(|x| (x.reminder_channels & !NONE_BIT).count_ones() as i64).collect::<Vec<_>>(),
        ));
        out.push(Column::new("last_reminder_us".into(), f.iter().map(|x| some_time(x.last_reminder_us, NO_TIME_MAX)).collect::<Vec<_>>()));
        let last_offset: Vec<Option<&str>> = f
            .iter()
            .map(|x| if x.reminders == 0 { None } else { self.offsets.get(x.last_offset as usize).and_then(|o| o.as_deref()) })
            .collect();
        out.push(Column::new("last_reminder_offset".into(), last_offset));
        out.push(Column::new("cancel_request_us".into(), f.iter().map(|x| some_time(x.cancel_us, NO_TIME_MIN)).collect::<Vec<_>>()));
        out.push(Column::new("confirm_us".into(), f.iter().map(|x| some_time(x.confirm_us, NO_TIME_MIN)).collect::<Vec<_>>()));
        out.push(Column::new("first_click_us".into(), f.iter().map(|x| some_time(x.first_click_us, NO_TIME_MIN)).collect::<Vec<_>>()));
        let mut errors = vec![0i64; f.len()];
        for &(i, _, _) in &self.link_errors {
            errors[i as usize] += 1;
        }
        out.push(Column::new("link_errors".into(), errors));
        for (name, mask) in [
            ("reach_seen", (|x: &Facts| x.seen) as fn(&Facts) -> u8),
            ("reach_sent", |x: &Facts| x.sent),
            ("reach_delivered", |x: &Facts| x.delivered),
            ("reach_read", |x: &Facts| x.read),
        ] {
            out.push(UInt32Chunked::from_vec(name.into(), f.iter().map(|x| u32::from(mask(x))).collect()).into_column());
        }
        out
    }

    /// Every `link_error` event up to as-of: `iv_idx`, `ts_us`, `error_code` (its
    /// `detail`, trimmed and lower-cased; null without one), in interview and time order.
    pub fn link_error_events(&self) -> PolarsResult<DataFrame> {
        self.detail_events(&self.link_errors, "error_code", |d| d.trim().to_lowercase())
    }

    /// Every `cancel_requested` event up to as-of: `iv_idx`, `ts_us`, `reason` (its
    /// `detail` as written; null without one), in interview and time order.
    pub fn cancel_request_events(&self) -> PolarsResult<DataFrame> {
        self.detail_events(&self.cancel_requests, "reason", str::to_string)
    }

    fn detail_events(&self, list: &[(IdxSize, Micros, u32)], name: &str, clean: impl Fn(&str) -> String) -> PolarsResult<DataFrame> {
        let cleaned: Vec<Option<String>> = self.details.iter().map(|d| d.as_deref().map(&clean).filter(|d| !d.is_empty())).collect();
        DataFrame::new_infer_height(vec![
            IdxCa::from_vec("iv_idx".into(), list.iter().map(|e| e.0).collect()).into_column(),
            Column::new("ts_us".into(), list.iter().map(|e| e.1).collect::<Vec<_>>()),
            Column::new(name.into(), list.iter().map(|e| cleaned[e.2 as usize].clone()).collect::<Vec<_>>()),
        ])
    }

    /// Per interview: whether a `link_error` came at or before `deadline_us[i]` (the
    /// moment a no-show is declared) after a `link_clicked` at or before it: the
    /// candidate tried the link and it failed.
    pub fn link_error_before(&self, deadline_us: &[Micros]) -> Vec<bool> {
        let mut out = vec![false; self.facts.len()];
        for &(i, t, _) in &self.link_errors {
            let i = i as usize;
            if t <= deadline_us[i] && self.facts[i].first_click_us <= t {
                out[i] = true;
            }
        }
        out
    }

    /// Interviews with at least one reminder before the slot, once per distinct offset:
    /// `iv_idx`, `offset` (null for reminders without one).
    pub fn reminder_offsets(&self) -> PolarsResult<DataFrame> {
        let iv: Vec<IdxSize> = self.offset_pairs.iter().map(|p| p.0).collect();
        let offset: Vec<Option<&str>> = self.offset_pairs.iter().map(|p| self.offsets[p.1 as usize].as_deref()).collect();
        DataFrame::new_infer_height(vec![IdxCa::from_vec("iv_idx".into(), iv).into_column(), Column::new("offset".into(), offset)])
    }

    /// Interviews with at least one reminder before the slot, once per distinct channel:
    /// `iv_idx`, `channel` (null for reminders without one).
    pub fn reminder_channels(&self) -> PolarsResult<DataFrame> {
        let mut iv: Vec<IdxSize> = Vec::new();
        let mut channel: Vec<Option<&str>> = Vec::new();
        for (i, f) in self.facts.iter().enumerate() {
            for code in 0..8u8 {
                let bit = 1u8 << code;
                if f.reminder_channels & bit != 0 {
                    iv.push(i as IdxSize);
                    channel.push(if bit == NONE_BIT { None } else { channel_name(code) });
                }
            }
        }
        DataFrame::new_infer_height(vec![IdxCa::from_vec("iv_idx".into(), iv).into_column(), Column::new("channel".into(), channel)])
    }
}

/// Preferred-channel codes of `preferred_channel` values (null and unknown: none).
pub fn preferred_codes(column: &Column) -> PolarsResult<Vec<u8>> {
    Ok(column.str()?.iter().map(|v| channel_code(v).unwrap_or(CHANNEL_NONE)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_input_formats_lists() {
        assert_eq!(kind_code("invite_sent"), 0);
        assert_eq!(kind_code("reminder_sent"), REMINDER_SENT);
        assert_eq!(kind_code("something_new"), KIND_OTHER);
        assert_eq!(channel_code(Some("wechat")).unwrap(), Channel::Wechat as u8);
        assert_eq!(channel_name(Channel::Wechat as u8), Some("wechat"));
        assert_eq!(channel_code(None).unwrap(), CHANNEL_NONE);
        assert!(channel_code(Some("pigeon")).is_err(), "a channel ingest would have nulled is an error, not a silent bucket");
        assert_eq!(channel_bit(CHANNEL_NONE), NONE_BIT);
    }

    fn row_of(df: &DataFrame, name: &str, row: usize) -> AnyValue<'static> {
        df.column(name).unwrap().get(row).unwrap().into_static()
    }

    /// Hand-made events around two slots, checked fact by fact.
    #[test]
    fn fold_matches_hand_made_cases() {
        let h = MICROS_PER_HOUR;
        let slot_a: Micros = 1_000 * h;
        let slot_b: Micros = 2_000 * h;
        let as_of: Micros = 3_000 * h;
        let utc = DataType::Datetime(TimeUnit::Microseconds, Some(polars::prelude::TimeZone::UTC));
        #[rustfmt::skip]
        let rows: &[(&str, Micros, &str, Option<&str>, Option<&str>)] = &[
            ("a", slot_a - 50 * h, "reminder_sent", Some("sms"), Some("-2d")),
            ("a", slot_a - 2 * h, "reminder_sent", Some("email"), Some("-2h")),
            ("a", slot_a - 2 * h, "reminder_sent", Some("email"), Some("-2h-dup")), // same instant: the later row wins
            ("a", slot_a + h, "reminder_sent", Some("wechat"), Some("late")),       // after the slot: not a reminder received
            ("a", slot_a - 24 * h, "link_clicked", None, None),                       // exactly 24 h before: counts
            ("a", slot_a - h, "jd_viewed", None, None),
            ("a", slot_a + h, "company_intro_viewed", None, None),                    // after the slot: no signal
            ("a", slot_a - 3 * h, "message_delivered", Some("sms"), None),
            ("a", slot_a + 5 * h, "cancel_requested", None, None),
            ("a", slot_a + 2 * h, "cancel_requested", None, None),                    // the first one counts
            ("b", slot_b - 25 * h, "link_clicked", None, None),                       // 25 h before: funnel yes, 24 h no
            ("b", slot_b - 3 * h, "reminder_sent", None, None),                       // no channel, no offset
            ("b", slot_b + h, "joined", None, None),
            ("b", as_of + h, "completed", None, None),                                // after as-of: left out
            ("orphan", slot_a, "joined", None, None),
            ("c", slot_b - 30 * h, "confirmed", None, None),
            ("c", slot_b - 40 * h, "confirmed", None, None),                         // the first one counts
            ("c", slot_b + h / 12, "link_clicked", None, None),
            ("c", slot_b + h / 10, "link_error", None, Some(" Network ")),           // after a click, before the deadline
            ("c", slot_b + h / 60, "link_error", None, None),                         // before any click
            ("b", slot_b + h / 2, "link_error", None, Some("link_expired")),          // after the deadline
            ("c", slot_b - 50 * h, "cancel_requested", None, Some("时间冲突")),
        ];
        let events = DataFrame::new(
            rows.len(),
            vec![
                Column::new("interview_id".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
                Series::new("ts".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()).cast(&utc).unwrap().into_column(),
                Column::new("type".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
                Column::new("channel".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
                Column::new("detail".into(), rows.iter().map(|r| r.4).collect::<Vec<_>>()),
            ],
        )
        .unwrap();
        let ids = StringChunked::from_iter_values("interview_id".into(), ["a", "b", "c"].into_iter());
        let compact = compact_events(events.lazy(), &ids, as_of).collect().unwrap();
        assert_eq!(compact.height(), rows.len() - 2, "the orphan and the event after as-of are left out");
        let preferred = [Channel::Email as u8, CHANNEL_NONE, CHANNEL_NONE];
        let facts = EventFacts::fold(&compact, &[slot_a, slot_b, slot_b], &preferred).unwrap();
        let df = DataFrame::new_infer_height(facts.columns()).unwrap();
        let flag = |name: &str, row: usize| row_of(&df, name, row) == AnyValue::Boolean(true);
        assert!(flag("link_clicked_24h", 0) && flag("ev_link_clicked", 0));
        assert!(!flag("link_clicked_24h", 1) && flag("ev_link_clicked", 1));
        assert!(flag("jd_viewed", 0) && !flag("company_intro_viewed", 0));
        assert!(flag("reminded_on_preferred", 0) && !flag("reminded_on_preferred", 1));
        assert!(flag("ev_joined", 1) && !flag("ev_completed", 1) && !flag("ev_joined", 0));
        assert_eq!(row_of(&df, "reminders_received", 0), AnyValue::Int64(3));
        assert_eq!(row_of(&df, "reminder_channels", 0), AnyValue::Int64(2), "sms and email; the late wechat one does not count");
        assert_eq!(row_of(&df, "reminder_channels", 1), AnyValue::Int64(0), "a reminder without a channel adds none");
        assert_eq!(row_of(&df, "last_reminder_us", 0), AnyValue::Int64(slot_a - 2 * h));
        assert_eq!(row_of(&df, "last_reminder_offset", 0), AnyValue::StringOwned("-2h-dup".into()));
        assert_eq!(row_of(&df, "last_reminder_offset", 1), AnyValue::Null, "a reminder without an offset");
        assert_eq!(row_of(&df, "cancel_request_us", 0), AnyValue::Int64(slot_a + 2 * h));
        assert_eq!(row_of(&df, "reminders_received", 2), AnyValue::Int64(0), "no events: zero, not missing");
        assert_eq!(row_of(&df, "last_reminder_us", 2), AnyValue::Null);
        let sms = 1u32 << (Channel::Sms as u8);
        let email = 1u32 << (Channel::Email as u8);
        let wechat = 1u32 << (Channel::Wechat as u8);
        assert_eq!(row_of(&df, "reach_sent", 0), AnyValue::UInt32(sms | email | wechat), "the late reminder was still a message sent");
        assert_eq!(row_of(&df, "reach_delivered", 0), AnyValue::UInt32(sms));
        let offsets = facts.reminder_offsets().unwrap();
        let pairs: Vec<(u32, Option<String>)> = offsets
            .column("iv_idx").unwrap().idx().unwrap().iter().map(|v| v.unwrap_or(u32::MAX as IdxSize) as u32)
            .zip(offsets.column("offset").unwrap().str().unwrap().iter().map(|v| v.map(str::to_string)))
            .collect();
        assert_eq!(
            pairs,
            vec![(0, Some("-2d".into())), (0, Some("-2h".into())), (0, Some("-2h-dup".into())), (1, None)],
            "one pair per distinct offset before the slot"
        );
        let channels = facts.reminder_channels().unwrap();
        assert_eq!(channels.height(), 3, "a: sms and email; b: the missing channel");
        assert_eq!(row_of(&df, "confirm_us", 2), AnyValue::Int64(slot_b - 40 * h));
        assert_eq!(row_of(&df, "confirm_us", 0), AnyValue::Null);
        assert_eq!(row_of(&df, "first_click_us", 1), AnyValue::Int64(slot_b - 25 * h));
        assert_eq!(row_of(&df, "link_errors", 2), AnyValue::Int64(2));
        let deadline = [slot_a + h / 4, slot_b + h / 4, slot_b + h / 4];
        assert_eq!(facts.link_error_before(&deadline), vec![false, false, true], "b's error came after its deadline");
        let errors = facts.link_error_events().unwrap();
        let codes: Vec<Option<&str>> = errors.column("error_code").unwrap().str().unwrap().iter().collect();
        assert_eq!(codes, vec![Some("link_expired"), None, Some("network")], "by interview, then time; codes trimmed and lower-cased");
        let requests = facts.cancel_request_events().unwrap();
        let reasons: Vec<Option<&str>> = requests.column("reason").unwrap().str().unwrap().iter().collect();
        assert_eq!(reasons, vec![None, None, Some("时间冲突")], "a's two requests without a reason, c's as written");
    }
}
