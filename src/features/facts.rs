//! The lake read once into integer-indexed arrays for the point-in-time features:
//! each interview's slot, invitation, status, candidate and first `joined` /
//! `cancel_requested` times, and its events grouped by interview (compressed rows:
//! time, kind, channel code). Only the columns and event kinds the features use are
//! read, and text keys become row numbers once, so building a snapshot is a walk over
//! a few events and the candidate's few other interviews instead of polars joins of
//! snapshots × events (which at a million interviews took ~5 GB).
//!
//! Pure: lazy frames in, arrays out; the scan itself is polars' (multi-threaded,
//! projection and predicate pushdown into the Parquet reader).

use polars::prelude::*;

use crate::derive::micros;
use crate::idrows::IdRows;
use crate::schema::{EventColumn as E, EventType, InterviewColumn as I, LakeColumn};

/// Whether the features read events of this type; every other type is dropped at
/// the scan.
pub fn read_by_features(t: EventType) -> bool {
    use EventType as T;
    matches!(
        t,
        T::MessageDelivered | T::MessageRead | T::JdViewed | T::CompanyIntroViewed | T::LinkClicked | T::LinkError
            | T::QuestionnaireCompleted | T::RescheduleRequested | T::ReminderSent | T::Confirmed | T::Joined
            | T::CancelRequested
    )
}

/// A read event type as its stored text (exactly: the lake stores lower case), `None`
/// for a type the features do not read.
fn parse_kind(text: &str) -> Option<EventType> {
    EventType::from_stored(text).filter(|&t| read_by_features(t))
}

/// The code of an event type in [`Facts`]' arrays (0 = none).
fn kind_code(t: EventType) -> u8 {
    t as u8 + 1
}

/// The type of a code written by [`kind_code`].
fn kind_from_code(code: u8) -> Option<EventType> {
    EventType::ALL.get(usize::from(code).checked_sub(1)?).copied()
}

/// A recorded interview status, as far as the features and labels distinguish it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Scheduled,
    Attended,
    NoShow,
    CancelledByCandidate,
    /// Company cancellations, reschedules, anything else: never counted.
    Other,
    Missing,
}

impl Status {
    fn parse(text: Option<&str>) -> Status {
        match text {
            Some("scheduled") => Status::Scheduled,
            Some("attended") => Status::Attended,
            Some("no_show") => Status::NoShow,
            Some("cancelled_by_candidate") => Status::CancelledByCandidate,
            Some(_) => Status::Other,
            None => Status::Missing,
        }
    }
}

/// No candidate / no channel.
pub const NONE: u32 = u32::MAX;

/// The interview-level columns the features carry through unchanged (or with nulls
/// filled), gathered per snapshot with a polars `take`.
pub const CARRIED: &[I] = &[
    I::InterviewId, I::CandidateId, I::Role, I::Region, I::Education, I::FreshGraduate, I::Source, I::PreferredChannel,
];

/// The lake as integer-indexed arrays; interview `i` is row `i` of [`Facts::carried`].
pub struct Facts {
    /// Columns [`CARRIED`], the extra feature columns, `scheduled_at_us` and `invited_at_us`.
    pub carried: DataFrame,
    /// Extra interview columns used as categorical features (`[train] extra_features`).
    pub extra: Vec<String>,
    pub slot: Vec<Option<i64>>,
    pub invited: Vec<Option<i64>>,
    pub status: Vec<Status>,
    /// Position of each interview in interview_id order (the feature table's row order).
    pub id_rank: Vec<u32>,
    /// Interviews of each candidate: `candidate_members[candidate_start[c]..candidate_start[c + 1]]`.
    pub candidate: Vec<u32>,
    candidate_start: Vec<u32>,
    candidate_members: Vec<u32>,
    /// Preferred channel as a channel code ([`NONE`] when empty).
    pub preferred_channel: Vec<u32>,
    /// Earliest `joined` / `cancel_requested` event of each interview, whatever its time.
    pub first_join: Vec<Option<i64>>,
    pub first_cancel_request: Vec<Option<i64>>,
    /// Events of interview `i`: `event_start[i]..event_start[i + 1]` into the arrays below.
    event_start: Vec<u32>,
    event_ts: Vec<i64>,
    event_kind: Vec<u8>,
    event_channel: Vec<u32>,
    /// Channel names; a channel's code is its position.
    channels: Vec<String>,
}

/// One event as the features see it.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    pub ts: i64,
    pub kind: EventType,
    pub channel: u32,
}

/// A handful of channels: a linear search beats hashing.
fn channel_code(channels: &mut Vec<String>, name: &str) -> u32 {
    match channels.iter().position(|c| c == name) {
        Some(k) => k as u32,
        None => {
            channels.push(name.to_string());
            channels.len() as u32 - 1
        }
    }
}

impl Facts {
    /// Reads the interviews (only the columns the features use). Events are added by
    /// [`Facts::load_events`].
    pub fn load_interviews(interviews: LazyFrame) -> PolarsResult<Facts> {
        Facts::load_interviews_with(interviews, &[])
    }

    /// As [`Facts::load_interviews`], also carrying the extra interview columns `extra`
    /// (the HR export's own columns, `[train] extra_features`) as text.
    pub fn load_interviews_with(interviews: LazyFrame, extra: &[String]) -> PolarsResult<Facts> {
        let mut columns: Vec<Expr> = CARRIED.iter().map(|c| col(c.name())).collect();
        columns.extend(extra.iter().map(|c| col(c.as_str()).cast(DataType::String)));
        columns.extend([
            micros(I::ScheduledAt.name()).alias("scheduled_at_us"),
            micros(I::InvitedAt.name()).alias("invited_at_us"),
            col(I::Status.name()),
        ]);
        let mut carried = interviews.select(columns).collect()?;
        let n = carried.height();
        let slot: Vec<Option<i64>> = carried.column("scheduled_at_us")?.i64()?.iter().collect();
        let invited: Vec<Option<i64>> = carried.column("invited_at_us")?.i64()?.iter().collect();
        let status: Vec<Status> = carried.column(I::Status.name())?.str()?.iter().map(Status::parse).collect();
        let _ = carried.drop_in_place(I::Status.name())?;

        let ids = carried.column(I::InterviewId.name())?.str()?.clone();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by(|&a, &b| ids.get(a as usize).cmp(&ids.get(b as usize)).then(a.cmp(&b)));
        let mut id_rank = vec![0u32; n];
        for (rank, &i) in order.iter().enumerate() {
            id_rank[i as usize] = rank as u32;
        }

        let candidates = carried.column(I::CandidateId.name())?.str()?.clone();
        let mut codes: PlHashMap<&str, u32> = PlHashMap::new();
        let candidate: Vec<u32> = candidates
            .iter()
            .map(|c| match c {
                Some(c) => {
                    let next = codes.len() as u32;
                    *codes.entry(c).or_insert(next)
                }
                None => NONE,
            })
            .collect();
        let (candidate_start, candidate_members) = group(&candidate, codes.len());

        let mut channels = Vec::new();
        let preferred_channel: Vec<u32> = carried
            .column(I::PreferredChannel.name())?
            .str()?
            .iter()
            .map(|c| c.map_or(NONE, |c| channel_code(&mut channels, c)))
            .collect();
        Ok(Facts {
            carried,
            extra: extra.to_vec(),
            slot,
            invited,
            status,
            id_rank,
            candidate,
            candidate_start,
            candidate_members,
            preferred_channel,
            first_join: vec![None; n],
            first_cancel_request: vec![None; n],
            event_start: vec![0; n + 1],
            event_ts: Vec::new(),
            event_kind: Vec::new(),
            event_channel: Vec::new(),
            channels,
        })
    }

    pub fn len(&self) -> usize {
        self.slot.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slot.is_empty()
    }

    /// Reads the events of the interviews where `wanted` is true (all when `None`):
    /// only the kinds the features use, orphans (interviews not in the lake) dropped.
    pub fn load_events(&mut self, events: LazyFrame, wanted: Option<&[bool]>) -> PolarsResult<()> {
        let n = self.len();
        // Text ids become row numbers through one hash lookup per event: cheaper in
        // time and memory than a polars join, which would also gather every column.
        let ids = self.carried.column(I::InterviewId.name())?.str()?.clone();
        let is_wanted = |i: usize| wanted.is_none_or(|mask| mask.get(i).copied().unwrap_or(false));
        // Ids are unique in the lake; should one repeat, its first row has the events.
        let index = IdRows::new(ids.iter().enumerate().map(|(i, id)| id.filter(|_| is_wanted(i))));
        let mut scan = events.select([col(E::InterviewId.name()), micros(E::Ts.name()).alias("ts_us"), col(E::Type.name()), col(E::Channel.name())]);
        if wanted.is_some() {
            // A predicate on the id the Parquet reader applies before decoding the
            // other columns, so a few wanted interviews cost little more than their ids.
            let mut seen = PlHashSet::new();
            let wanted_ids: Vec<&str> = ids.iter().enumerate().filter_map(|(i, id)| id.filter(|id| is_wanted(i) && seen.insert(*id))).collect();
            let wanted_ids = Series::new("wanted".into(), wanted_ids);
            scan = scan.filter(col(E::InterviewId.name()).is_in(lit(wanted_ids).implode(false), false));
        }
        let df = scan.filter(col("ts_us").is_not_null()).collect()?;
        let event_ids = df.column(E::InterviewId.name())?.str()?;
        let idx: Vec<Option<u32>> = index.rows_of_column(event_ids);
        drop(index);
        let kinds: Vec<u8> = df.column(E::Type.name())?.str()?.iter().map(|t| t.and_then(parse_kind).map_or(0, kind_code)).collect();
        let start = offsets(idx.iter().zip(&kinds).map(|(v, &k)| if k == 0 { NONE } else { v.unwrap_or(NONE) }), n);
        // Counting sort by interview: each event goes to the next free slot of its group.
        let m = start[n] as usize;
        let mut next: Vec<u32> = start[..n].to_vec();
        let (mut ts_out, mut kind_out, mut channel_out) = (vec![0i64; m], vec![0u8; m], vec![NONE; m]);
        let ts = df.column("ts_us")?.i64()?;
        let channel = df.column(E::Channel.name())?.str()?;
        for (((&i, t), &k), c) in idx.iter().zip(ts.iter()).zip(&kinds).zip(channel.iter()) {
            let (Some(i), Some(t), Some(kind)) = (i, t, kind_from_code(k)) else { continue };
            let i = i as usize;
            let at = next[i] as usize;
            next[i] += 1;
            ts_out[at] = t;
            kind_out[at] = k;
            let first = match kind {
                // Only reminders' channels are read.
                EventType::ReminderSent => {
                    channel_out[at] = c.map_or(NONE, |c| channel_code(&mut self.channels, c));
                    continue;
                }
                EventType::Joined => &mut self.first_join[i],
                EventType::CancelRequested => &mut self.first_cancel_request[i],
                _ => continue,
            };
            *first = Some(first.map_or(t, |f| f.min(t)));
        }
        self.event_start = start;
        self.event_ts = ts_out;
        self.event_kind = kind_out;
        self.event_channel = channel_out;
        Ok(())
    }

    /// The events of interview `i` (in no particular order).
    pub fn events(&self, i: usize) -> impl Iterator<Item = Event> + '_ {
        let range = self.event_start[i] as usize..self.event_start[i + 1] as usize;
        range.filter_map(move |e| {
            Some(Event { ts: self.event_ts[e], kind: kind_from_code(self.event_kind[e])?, channel: self.event_channel[e] })
        })
    }

    /// Every candidate's interviews (candidates with one interview included).
    pub fn candidate_groups(&self) -> impl Iterator<Item = (u32, &[u32])> + '_ {
        (0..self.candidate_start.len().saturating_sub(1)).map(move |c| {
            (c as u32, &self.candidate_members[self.candidate_start[c] as usize..self.candidate_start[c + 1] as usize])
        })
    }

    /// The interviews of interview `i`'s candidate, `i` included.
    pub fn same_candidate(&self, i: usize) -> &[u32] {
        match self.candidate[i] {
            NONE => &[],
            c => &self.candidate_members[self.candidate_start[c as usize] as usize..self.candidate_start[c as usize + 1] as usize],
        }
    }
}

/// Groups positions by a key in `0..groups` (keys ≥ `groups` are left out): returns
/// (start offsets, `groups + 1` long; positions ordered by key, then position).
fn group(keys: &[u32], groups: usize) -> (Vec<u32>, Vec<u32>) {
    let start = offsets(keys.iter().copied(), groups);
    let mut next = start[..groups].to_vec();
    let mut members = vec![0u32; start[groups] as usize];
    for (pos, &k) in keys.iter().enumerate() {
        if (k as usize) < groups {
            members[next[k as usize] as usize] = pos as u32;
            next[k as usize] += 1;
        }
    }
    (start, members)
}

/// Start offsets (`groups + 1` long) of each key's run when positions are ordered by key.
fn offsets(keys: impl Iterator<Item = u32>, groups: usize) -> Vec<u32> {
    let mut start = vec![0u32; groups + 1];
    for k in keys {
        if (k as usize) < groups {
            start[k as usize + 1] += 1;
        }
    }
    for g in 0..groups {
        start[g + 1] += start[g];
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_codes_round_trip() {
        for &kind in EventType::ALL.iter().filter(|&&t| read_by_features(t)) {
            assert_eq!(parse_kind(kind.as_str()), Some(kind));
            assert_eq!(kind_from_code(kind_code(kind)), Some(kind));
        }
        assert_eq!(kind_from_code(0), None);
        assert_eq!(parse_kind("invite_sent"), None);
    }

    #[test]
    fn group_orders_by_key_then_position() {
        let (start, members) = group(&[2, 0, 2, NONE, 1, 0], 3);
        assert_eq!(start, vec![0, 2, 3, 5]);
        assert_eq!(members, vec![1, 5, 4, 0, 2]);
    }
}
