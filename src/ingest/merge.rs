//! Merging this run's rows into the lake's: compact column stores and deduplication
//! (interviews: latest `updated_at` wins, then the later row in reading order; events:
//! the first `event_id` in reading order). Pure in-memory work: no file is touched here;
//! events are only fingerprinted here, their rows travel through [`super::spill`].
//!
//! Reading order across runs: the lake's rows are loaded first and this run's rows
//! after them, so on an `updated_at` tie a row of a later run beats every row of an
//! earlier one, and an event already in the lake beats the same `event_id` arriving now.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use crate::ingest::fpset::FpTable;
use crate::ingest::order::{self, SortKey};
use crate::ingest::record::{InputKind, InterviewRow, Problem, Severity};
#[cfg(test)]
use crate::ingest::record::Origin;
use crate::schema::{Channel, Education, NoShowGrade, Status};
use crate::time::Micros;

/// A 128-bit fingerprint of an id (XXH3-128). Deduplication keys on it instead of the
/// id's text to keep the hash tables small: 16 bytes an event however long its id.
/// Two different ids meet by chance with probability about n²/2¹²⁹ (≈ 10⁻²² at 200
/// million events), far below any hardware error rate; a 64-bit fingerprint would
/// halve the table but give ≈ 10⁻³ at that size, which is not "nothing lost". Ids are
/// not chosen by an adversary, so a fast non-cryptographic hash suffices; its fixed
/// seed keeps runs reproducible.
pub fn fingerprint(id: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}

/// [`fingerprint`] of raw bytes (ids read back from the spill files).
pub fn fingerprint_bytes(id: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id)
}

/// Hashes a fingerprint by taking its low bits: it is already a good hash.
#[derive(Default)]
pub struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only reached for keys other than u128; fold them in so it stays a hash.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, i: u128) {
        self.0 = i as u64;
    }
}

type FpBuild = BuildHasherDefault<FingerprintHasher>;
type FpMap<V> = HashMap<u128, V, FpBuild>;
pub type FpSet = HashSet<u128, FpBuild>;

/// Strings packed end to end with one offset per row: far smaller than a `String` each.
#[derive(Debug, Default, Clone)]
pub struct StrColumn {
    data: String,
    ends: Vec<u64>,
    valid: Vec<bool>,
}

impl StrColumn {
    pub fn push(&mut self, value: Option<&str>) {
        if let Some(v) = value {
            self.data.push_str(v);
        }
        self.ends.push(self.data.len() as u64);
        self.valid.push(value.is_some());
    }

    pub fn reserve(&mut self, rows: usize, bytes: usize) {
        self.data.reserve(bytes);
        self.ends.reserve(rows);
        self.valid.reserve(rows);
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        if !self.valid[i] {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.data[start..self.ends[i] as usize])
    }

    /// The value of a column that has no nulls (an empty text for a null).
    pub fn text(&self, i: usize) -> &str {
        self.get(i).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Bytes of text in rows `rows`, to size Arrow builders.
    pub fn bytes_of(&self, rows: &[u32]) -> usize {
        rows.iter().map(|&r| self.get(r as usize).map_or(0, str::len)).sum()
    }
}

/// Rows in the lake's (time, id) order ([`crate::ingest::order`]).
fn sorted_by_time_then_id(rows: impl Iterator<Item = u32>, time: &[Micros], ids: &StrColumn) -> Vec<u32> {
    let mut keyed: Vec<SortKey> = rows.map(|r| SortKey::new(time[r as usize], ids.text(r as usize).as_bytes(), u64::from(r))).collect();
    order::sort_by_time_then_id(&mut keyed, |at| ids.text(at as usize).as_bytes());
    keyed.into_iter().map(|k| k.at as u32).collect()
}

/// Code of an enumerated value in the store; `NULL_CODE` for none.
pub const NULL_CODE: u8 = u8::MAX;

pub fn enum_code<T: Copy + PartialEq>(all: &[T], value: Option<T>) -> u8 {
    value.and_then(|v| all.iter().position(|x| *x == v)).map_or(NULL_CODE, |p| p as u8)
}

pub fn enum_value<T: Copy>(all: &[T], code: u8) -> Option<T> {
    all.get(usize::from(code)).copied()
}

/// Interview rows as columns; row `i` of every column is one row.
#[derive(Debug, Default)]
pub struct InterviewStore {
    pub interview_id: StrColumn,
    pub candidate_id: StrColumn,
    pub role: StrColumn,
    pub region: StrColumn,
    pub education: Vec<u8>,
    /// 0 false, 1 true, [`NULL_CODE`] unknown.
    pub fresh_graduate: Vec<u8>,
    pub source: StrColumn,
    pub preferred_channel: Vec<u8>,
    pub invited_at: Vec<Micros>,
    pub scheduled_at: Vec<Micros>,
    pub status: Vec<u8>,
    pub cause: StrColumn,
    pub no_show_grade: Vec<u8>,
    pub cost: Vec<Option<f64>>,
    pub updated_at: Vec<Option<Micros>>,
    pub origin_file: Vec<u32>,
    pub origin_line: Vec<u64>,
    /// Extra columns of mapped exports, by name in order of first appearance; each as
    /// long as the store (null where a row has no such column).
    pub extra: Vec<(String, StrColumn)>,
    /// Rows below this index are lake interviews loaded as keys only: `interview_id`,
    /// `scheduled_at` and `updated_at` hold every row, the other columns only the rows
    /// from here on (row `r` at [`InterviewStore::body`]`(r)`). A key row can be merged
    /// against but never written (its month's file is carried, or the row is loaded
    /// whole again).
    pub key_rows: usize,
}

impl InterviewStore {
    /// The names of the extra columns.
    pub fn extra_names(&self) -> Vec<&str> {
        self.extra.iter().map(|(n, _)| n.as_str()).collect()
    }

    pub fn len(&self) -> usize {
        self.scheduled_at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scheduled_at.is_empty()
    }

    fn push(&mut self, row: &InterviewRow, file: u32) {
        self.interview_id.push(Some(&row.interview_id));
        self.candidate_id.push(Some(&row.candidate_id));
        self.role.push(Some(&row.role));
        self.region.push(Some(&row.region));
        self.education.push(enum_code(Education::ALL, row.education));
        self.fresh_graduate.push(match row.fresh_graduate {
            Some(b) => u8::from(b),
            None => NULL_CODE,
        });
        self.source.push(row.source.as_deref());
        self.preferred_channel.push(enum_code(Channel::ALL, row.preferred_channel));
        self.invited_at.push(row.invited_at);
        self.scheduled_at.push(row.scheduled_at);
        self.status.push(enum_code(Status::ALL, Some(row.status)));
        self.cause.push(row.cause.as_deref());
        self.no_show_grade.push(enum_code(NoShowGrade::ALL, row.no_show_grade));
        self.cost.push(row.cost);
        self.updated_at.push(row.updated_at);
        self.origin_file.push(file);
        self.origin_line.push(row.origin.line);
        if !row.extra.is_empty() || !self.extra.is_empty() {
            let before = self.origin_line.len() - 1;
            for (name, value) in &row.extra {
                let k = match self.extra.iter().position(|(n, _)| n.as_str() == &**name) {
                    Some(k) => k,
                    None => {
                        // A column first seen now: null for every earlier row.
                        let mut column = StrColumn::default();
                        for _ in 0..before {
                            column.push(None);
                        }
                        self.extra.push((name.to_string(), column));
                        self.extra.len() - 1
                    }
                };
                self.extra[k].1.push(value.as_deref());
            }
            let len = self.origin_line.len();
            for (_, column) in self.extra.iter_mut() {
                if column.len() < len {
                    column.push(None);
                }
            }
        }
    }

    /// Makes room in the key columns for `more` rows holding about `id_bytes` of ids.
    fn reserve_keys(&mut self, more: usize, id_bytes: usize) {
        self.interview_id.reserve(more, id_bytes);
        self.scheduled_at.reserve(more);
        self.updated_at.reserve(more);
    }

    /// Makes room in the other columns for `more` rows holding about `text_bytes` of
    /// text each column.
    fn reserve_body(&mut self, more: usize, text_bytes: usize) {
        for c in [&mut self.candidate_id, &mut self.role, &mut self.region, &mut self.source, &mut self.cause] {
            c.reserve(more, text_bytes);
        }
        for v in [&mut self.education, &mut self.fresh_graduate, &mut self.preferred_channel, &mut self.status, &mut self.no_show_grade] {
            v.reserve(more);
        }
        self.invited_at.reserve(more);
        self.cost.reserve(more);
        self.origin_file.reserve(more);
        self.origin_line.reserve(more);
        for (_, c) in self.extra.iter_mut() {
            c.reserve(more, 0);
        }
    }

    /// Registers an extra column (null for every row so far) unless it exists.
    fn extra_column(&mut self, name: &str) {
        if !self.extra.iter().any(|(n, _)| n == name) {
            let mut column = StrColumn::default();
            for _ in 0..self.body_len() {
                column.push(None);
            }
            self.extra.push((name.to_string(), column));
        }
    }

    /// A lake row known by its keys only (see `key_rows`): three columns, so a million
    /// of them touch 40 bytes each, not the 140 of a row of stand-in values.
    fn push_keys(&mut self, interview_id: &str, scheduled_at: Micros, updated_at: Option<Micros>) {
        debug_assert_eq!(self.key_rows, self.len(), "key rows come before any whole row");
        self.interview_id.push(Some(interview_id));
        self.scheduled_at.push(scheduled_at);
        self.updated_at.push(updated_at);
        self.key_rows += 1;
    }

    /// Where row `r` (not a key row) is in the columns other than the keys.
    pub fn body(&self, r: usize) -> usize {
        debug_assert!(r >= self.key_rows, "row {r} is a key row");
        r - self.key_rows
    }

    /// Rows in the columns other than the keys.
    fn body_len(&self) -> usize {
        self.origin_line.len()
    }

    /// `fresh_graduate` of the row at `i` in the columns other than the keys
    /// ([`InterviewStore::body`]).
    pub fn fresh_graduate(&self, i: usize) -> Option<bool> {
        match self.fresh_graduate[i] {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

/// Rows of the `rejected` table (set aside and warnings), in the order they were found.
#[derive(Debug, Default)]
pub struct RejectedStore {
    pub file: StrColumn,
    pub line: Vec<u64>,
    pub kind: StrColumn,
    pub severity: StrColumn,
    /// `code: detail`, so the code groups and the words explain.
    pub reason: StrColumn,
    pub field: StrColumn,
    pub raw: StrColumn,
}

/// One row of the `rejected` table, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct RejectedFields<'a> {
    pub file: &'a str,
    pub line: u64,
    pub kind: &'a str,
    pub severity: &'a str,
    pub reason: &'a str,
    pub field: Option<&'a str>,
    pub raw: &'a str,
}

impl RejectedStore {
    pub fn len(&self) -> usize {
        self.line.len()
    }

    pub fn is_empty(&self) -> bool {
        self.line.is_empty()
    }

    pub fn push(&mut self, r: &RejectedFields<'_>) {
        self.file.push(Some(r.file));
        self.line.push(r.line);
        self.kind.push(Some(r.kind));
        self.severity.push(Some(r.severity));
        self.reason.push(Some(r.reason));
        self.field.push(r.field);
        self.raw.push(Some(r.raw));
    }
}

/// The text stored in the `reason` column: the stable code, then the words.
pub fn reason_text(code: &str, detail: &str) -> String {
    if detail.is_empty() {
        code.to_string()
    } else {
        format!("{code}: {detail}")
    }
}

/// Source file names (relative to the raw folder), each stored once.
#[derive(Debug, Default)]
pub struct FileNames {
    names: Vec<Arc<str>>,
    index: HashMap<Arc<str>, u32>,
    last: Option<(Arc<str>, u32)>,
}

impl FileNames {
    pub fn intern(&mut self, name: &Arc<str>) -> u32 {
        // Readers hand the same Arc for every row of a file: skip the lookup then.
        if let Some((last, i)) = &self.last {
            if Arc::ptr_eq(last, name) {
                return *i;
            }
        }
        let i = match self.index.get(name) {
            Some(&i) => i,
            None => {
                let i = self.names.len() as u32;
                self.names.push(name.clone());
                self.index.insert(name.clone(), i);
                i
            }
        };
        self.last = Some((name.clone(), i));
        i
    }

    pub fn intern_str(&mut self, name: &str) -> u32 {
        match self.index.get(name) {
            Some(&i) => i,
            None => self.intern(&Arc::from(name)),
        }
    }

    pub fn name(&self, i: u32) -> &str {
        &self.names[i as usize]
    }
}

/// What this run did with the rows of one input file.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FileTally {
    pub kind: Option<InputKind>,
    /// Valid rows the reader handed over.
    pub valid: u64,
    /// Of those, rows now in the lake.
    pub kept: u64,
    /// Of those, rows that lost deduplication (to this run's rows or the lake's).
    pub duplicates: u64,
    pub set_aside: BTreeMap<&'static str, u64>,
    pub warnings: BTreeMap<&'static str, u64>,
    /// Kept events whose interview is in no interview of the merged lake.
    pub orphans: u64,
    /// The detail of the first row set aside for each reason (an example for messages).
    pub first_detail: BTreeMap<&'static str, String>,
}

impl FileTally {
    pub fn set_aside_total(&self) -> u64 {
        self.set_aside.values().sum()
    }

    pub fn warnings_total(&self) -> u64 {
        self.warnings.values().sum()
    }
}

/// The lake's rows and this run's, deduplicated as they arrive.
///
/// Use: load the lake's rows (`lake_*`), call [`Merger::begin_run`], feed this run's
/// rows in reading order (`interview`, `event`, `problem`), then [`Merger::finish`];
/// once the events are written, [`Merger::set_orphans`] with the counts the writer
/// found. The run's interviews are held here whole, the lake's as keys
/// ([`Merger::lake_interview_keys`]) until a month is rewritten
/// ([`Merger::lake_interview_whole`]); of events only their id's fingerprint is kept,
/// and the caller spills the rows that [`Merger::event`] keeps.
#[derive(Debug, Default)]
pub struct Merger {
    pub files: FileNames,
    pub interviews: InterviewStore,
    /// Fingerprint of `interview_id` → row of its current best version, for every row
    /// but the lake's key rows, which are matched against it in [`Merger::finish`].
    best_interview: FpMap<u32>,
    /// Fingerprints of the key rows' ids ([`InterviewStore::key_rows`]), by row.
    lake_keys: Vec<u128>,
    /// Every interview id of the merged lake, once [`Merger::finish`] has run.
    known_interviews: FpTable,
    /// Fingerprints of every event id seen (lake and run).
    seen_events: FpTable,
    lake_events: u64,
    pub rejected: RejectedStore,
    /// Rows below this index came from the lake; `None` while loading the lake.
    run_start: Option<usize>,
    /// This run's counts, by input file (index of its name in `files`).
    tallies: Vec<Option<FileTally>>,
    /// This run's interview rows that lost, counted as they lose (checked in `finish`).
    interview_losers: u64,
    /// Lake interviews replaced by a row of this run.
    lake_interviews_updated: u64,
}

/// The merged interviews, ready to be written.
#[derive(Debug)]
pub struct Merged {
    /// Rows of `interviews` to write, sorted by (scheduled_at, interview_id).
    pub interview_rows: Vec<u32>,
    /// Interviews of the lake that a row of this run replaced.
    pub lake_interviews_updated: u64,
    /// Interviews in the lake before this run.
    pub lake_interviews_before: u64,
    pub lake_events_before: u64,
}

/// A bug in the merge's bookkeeping: the run stops before anything is committed.
#[derive(Debug, thiserror::Error)]
#[error("internal error while merging (a bug in noshow; the lake was not changed): {0}")]
pub struct MergeBug(pub String);

impl Merger {
    pub fn new() -> Merger {
        Merger::default()
    }

    /// Makes room for this many more event ids, so the set grows once, not by doubling
    /// (each doubling briefly holds the old table and the new one).
    pub fn reserve_events(&mut self, more: usize) {
        self.seen_events.reserve(more);
    }

    /// Makes room for a lake of `more` interviews, loaded as keys, so its columns do not
    /// grow (and copy) twenty times while a million load.
    pub fn reserve_interviews(&mut self, more: usize) {
        self.lake_keys.reserve(more);
        // Twice the lake's rows, for the run's and those read whole again: room never
        // written is never backed by memory, and the columns then grow in place.
        self.interviews.reserve_keys(2 * more, 2 * more * 16);
    }

    /// Makes room for `more` whole rows (lake rows read again for writing).
    pub fn reserve_store(&mut self, more: usize, text_bytes: usize) {
        self.interviews.reserve_body(more, text_bytes);
    }

    fn assert_loading_lake(&self) {
        debug_assert!(self.run_start.is_none(), "lake rows must be loaded before the run's rows");
    }

    /// Loads one interview of the current lake version.
    pub fn lake_interview(&mut self, row: &InterviewRow) {
        self.assert_loading_lake();
        let file = self.files.intern(&row.origin.file);
        let i = self.interviews.len() as u32;
        self.interviews.push(row, file);
        self.best_interview.insert(fingerprint(&row.interview_id), i);
    }

    /// Loads the keys of one interview of the current lake version: enough to merge the
    /// run's rows against it, not to write it (see [`InterviewStore::key_rows`]).
    pub fn lake_interview_keys(&mut self, interview_id: &str, scheduled_at: Micros, updated_at: Option<Micros>) {
        self.assert_loading_lake();
        self.interviews.push_keys(interview_id, scheduled_at, updated_at);
        // Not into the id map: a million lake ids against a run of a few thousand are
        // matched in one pass at the end (`resolve_key_rows`).
        self.lake_keys.push(fingerprint(interview_id));
    }

    /// Registers the extra columns of a lake file about to be loaded as keys, in the
    /// order its rows would register them.
    pub fn lake_extra_columns(&mut self, names: &[&str]) {
        self.assert_loading_lake();
        for name in names {
            self.interviews.extra_column(name);
        }
    }

    /// Appends a lake interview loaded whole after the run's rows, for writing: the key
    /// row `of` it completes keeps its place in the merge (returns the new row).
    pub fn lake_interview_whole(&mut self, of: u32, row: &InterviewRow) -> Result<u32, MergeBug> {
        let s = &self.interviews;
        if (of as usize) >= s.key_rows || s.interview_id.text(of as usize) != row.interview_id || s.scheduled_at[of as usize] != row.scheduled_at
            || s.updated_at[of as usize] != row.updated_at
        {
            return Err(MergeBug(format!(
                "lake interview {:?} read whole differs from its keys read before (row {of})",
                row.interview_id
            )));
        }
        let file = self.files.intern(&row.origin.file);
        let i = self.interviews.len() as u32;
        self.interviews.push(row, file);
        Ok(i)
    }

    /// Loads the id of one event of the current lake version: true when the caller
    /// should keep it (a lake never holds an id twice, but a damaged one might).
    pub fn lake_event(&mut self, event_id: &str) -> bool {
        self.assert_loading_lake();
        self.seen_events.insert(fingerprint(event_id))
    }

    /// Loads the ids (fingerprints) of some lake events. Lake events precede every row
    /// of the run in reading order, so they may arrive at any time before the first new
    /// event that could share their id is looked up (see `ingest::carry`).
    pub fn lake_event_ids(&mut self, fps: &[u128]) {
        self.seen_events.extend(fps.iter().copied());
    }

    /// The number of events the lake version holds (carried and re-read).
    pub fn set_lake_events(&mut self, n: u64) {
        self.lake_events = n;
    }

    /// Marks the end of the lake's rows: from now on rows are this run's.
    pub fn begin_run(&mut self) {
        self.run_start = Some(self.interviews.len());
    }

    fn run_start(&self) -> usize {
        self.run_start.unwrap_or(0)
    }

    /// A vector slot, not a map keyed by name: this runs once per row.
    fn tally_at(&mut self, file: u32, kind: InputKind) -> &mut FileTally {
        let i = file as usize;
        if self.tallies.len() <= i {
            self.tallies.resize(i + 1, None);
        }
        let t = self.tallies[i].get_or_insert_with(FileTally::default);
        t.kind.get_or_insert(kind);
        t
    }

    fn tally(&mut self, file: &Arc<str>, kind: InputKind) -> &mut FileTally {
        let i = self.files.intern(file);
        self.tally_at(i, kind)
    }

    /// This run's counts for one input file (path relative to the raw folder).
    pub fn tally_of(&self, name: &str) -> Option<&FileTally> {
        let i = *self.files.index.get(name)? as usize;
        self.tallies.get(i)?.as_ref()
    }

    /// Makes sure a file appears in the tallies even when it had no data row, and
    /// returns its index in `files`.
    pub fn register_file(&mut self, file: &Arc<str>, kind: InputKind) -> u32 {
        let i = self.files.intern(file);
        self.tally_at(i, kind);
        i
    }

    /// The fingerprints of the merged lake's interview ids, as a set that answers a
    /// chunk of probes at a time (the writer checks every event for orphans).
    pub fn interview_fingerprints(&self) -> &FpTable {
        &self.known_interviews
    }

    /// Whether this interview id is in the merged lake (for orphan events), once
    /// [`Merger::finish`] has run.
    pub fn has_interview(&self, fp: u128) -> bool {
        self.known_interviews.contains(fp)
    }

    /// Matches the lake's key rows against the run's best rows (the id map holds only
    /// the run's): the later `updated_at` wins and on a tie the run's row, as if the
    /// lake's rows had been read first, row by row. Returns the key rows that stay.
    fn resolve_key_rows(&mut self) -> Vec<u32> {
        let mut staying = Vec::with_capacity(self.lake_keys.len());
        for (r, fp) in self.lake_keys.iter().enumerate() {
            match self.best_interview.get_mut(fp) {
                None => staying.push(r as u32),
                Some(best) => {
                    if self.interviews.updated_at[*best as usize] < self.interviews.updated_at[r] {
                        // The lake's row is newer than every row of the run: they all lost.
                        *best = r as u32;
                        self.interview_losers += 1;
                    } else {
                        self.lake_interviews_updated += 1;
                    }
                }
            }
        }
        staying
    }

    /// One valid event of this run's file `file` (an index from [`Merger::register_file`]),
    /// by the fingerprint of its id: true when it is kept (first time seen).
    pub fn event(&mut self, file: u32, fp: u128) -> bool {
        let mut fresh = false;
        self.events(file, &[fp], |_| fresh = true);
        fresh
    }

    /// Valid events of this run's file `file`, in reading order, by the fingerprints of
    /// their ids: calls `kept(i)` for each `fps[i]` seen for the first time. One call
    /// per chunk lets the set fetch its slots ahead (see [`FpTable::insert_all`]).
    pub fn events(&mut self, file: u32, fps: &[u128], mut kept: impl FnMut(usize)) {
        let mut fresh = 0u64;
        self.seen_events.insert_all(fps, |i, new| {
            if new {
                fresh += 1;
                kept(i);
            }
        });
        let t = self.tally_at(file, InputKind::Events);
        t.valid += fps.len() as u64;
        t.kept += fresh;
        t.duplicates += fps.len() as u64 - fresh;
    }

    /// Ids of the interviews this run brought that the lake did not have, sorted by
    /// bytes (an interview replaced by a newer row is not new).
    pub fn new_interview_ids(&self, merged: &Merged) -> Vec<&[u8]> {
        let start = merged.lake_interviews_before as usize;
        let s = &self.interviews;
        let mut winner = vec![false; start];
        let mut run_winners = Vec::new();
        for &r in &merged.interview_rows {
            match winner.get_mut(r as usize) {
                Some(w) => *w = true,
                None => run_winners.push(r as usize),
            }
        }
        let replaced: FpSet = (0..start).filter(|&r| !winner[r]).map(|r| fingerprint(s.interview_id.text(r))).collect();
        let mut out: Vec<&[u8]> = run_winners
            .into_iter()
            .map(|r| s.interview_id.text(r))
            .filter(|id| !replaced.contains(&fingerprint(id)))
            .map(str::as_bytes)
            .collect();
        out.sort_unstable();
        out
    }

    /// The event ids (fingerprints) seen: the lake's read in full, and this run's.
    pub fn event_ids(&self) -> &FpTable {
        &self.seen_events
    }

    /// Whether an event id (fingerprint) was seen: the lake's read in full, or this run's.
    pub fn has_event(&self, fp: u128) -> bool {
        self.seen_events.contains(fp)
    }

    /// Moves this run's events that the lake turned out to hold from kept to duplicates
    /// (counts by file index, as the writer found them).
    pub fn set_lake_duplicates(&mut self, by_file: &[u64]) {
        for (index, t) in self.tallies.iter_mut().enumerate() {
            let n = by_file.get(index).copied().unwrap_or(0);
            if let Some(t) = t {
                t.kept -= n.min(t.kept);
                t.duplicates += n;
            }
        }
    }

    /// Frees the event-id set once every row is read (the write phase needs the room).
    pub fn forget_event_ids(&mut self) {
        self.seen_events = FpTable::default();
    }

    /// Sorts interviews and checks the bookkeeping.
    pub fn finish(&mut self) -> Result<Merged, MergeBug> {
        let start = self.run_start();
        let staying = self.resolve_key_rows();
        // Every id of the merged lake, once: a lake holding an id twice is damaged.
        let mut known = FpTable::default();
        let mut repeated = None;
        known.insert_all(&self.lake_keys, |r, fresh| {
            if !fresh {
                repeated.get_or_insert(r);
            }
        });
        if let Some(r) = repeated {
            return Err(MergeBug(format!("the lake holds interview {:?} twice", self.interviews.interview_id.text(r))));
        }
        known.extend(self.best_interview.keys().copied());
        self.known_interviews = known;
        let store = &self.interviews;
        let interview_rows = sorted_by_time_then_id(
            staying.into_iter().chain(self.best_interview.values().copied()),
            &store.scheduled_at,
            &store.interview_id,
        );

        let mut kept_by_file: HashMap<u32, u64> = HashMap::new();
        let mut lake_survivors = 0u64;
        for &r in &interview_rows {
            if (r as usize) < start {
                lake_survivors += 1;
            } else {
                *kept_by_file.entry(self.interviews.origin_file[self.interviews.body(r as usize)]).or_default() += 1;
            }
        }
        let lake_interviews_before = start as u64;
        if lake_interviews_before - lake_survivors != self.lake_interviews_updated {
            return Err(MergeBug(format!(
                "{} lake interviews were replaced but {} replacements were counted",
                lake_interviews_before - lake_survivors,
                self.lake_interviews_updated
            )));
        }

        let mut interview_duplicates = 0u64;
        for (index, t) in self.tallies.iter_mut().enumerate() {
            let Some(t) = t else { continue };
            if t.kind == Some(InputKind::Interviews) {
                // Interview rows can lose until the last row is read: kept is known only now.
                t.kept = kept_by_file.get(&(index as u32)).copied().unwrap_or(0);
                t.duplicates = t.valid.checked_sub(t.kept).ok_or_else(|| {
                    MergeBug(format!("{}: {} interviews kept out of {} valid rows", self.files.name(index as u32), t.kept, t.valid))
                })?;
                interview_duplicates += t.duplicates;
            }
        }
        if interview_duplicates != self.interview_losers {
            return Err(MergeBug(format!(
                "{interview_duplicates} interview rows of this run are not in the lake but {} lost deduplication",
                self.interview_losers
            )));
        }

        Ok(Merged {
            interview_rows,
            lake_interviews_updated: self.lake_interviews_updated,
            lake_interviews_before,
            lake_events_before: self.lake_events,
        })
    }

    /// Records the orphan events the writer counted for each of this run's files
    /// (indexed like `files`).
    pub fn set_orphans(&mut self, by_file: &[u64]) {
        for (index, t) in self.tallies.iter_mut().enumerate() {
            if let Some(t) = t {
                if t.kind == Some(InputKind::Events) {
                    t.orphans = by_file.get(index).copied().unwrap_or(0);
                }
            }
        }
    }

    /// One valid interview row of this run, in reading order.
    pub fn interview(&mut self, row: InterviewRow) {
        let start = self.run_start();
        let file = self.files.intern(&row.origin.file);
        self.tally_at(file, InputKind::Interviews).valid += 1;
        let fp = fingerprint(&row.interview_id);
        let i = self.interviews.len() as u32;
        match self.best_interview.get(&fp).copied() {
            // Option orders None first, so a row without updated_at ranks oldest; on a tie
            // the later row in reading order wins, which is this one.
            Some(best) if row.updated_at < self.interviews.updated_at[best as usize] => {
                self.interview_losers += 1;
            }
            Some(best) => {
                if (best as usize) < start {
                    self.lake_interviews_updated += 1;
                } else {
                    self.interview_losers += 1;
                }
                self.interviews.push(&row, file);
                self.best_interview.insert(fp, i);
            }
            None => {
                self.interviews.push(&row, file);
                self.best_interview.insert(fp, i);
            }
        }
    }

    /// A row set aside or a warning, in reading order.
    pub fn problem(&mut self, p: Problem) {
        let reason = reason_text(p.reason, &p.detail);
        self.rejected.push(&RejectedFields {
            file: &p.origin.file,
            line: p.origin.line,
            kind: p.kind.as_str(),
            severity: p.severity.as_str(),
            reason: &reason,
            field: p.field.as_deref(),
            raw: &p.raw,
        });
        let t = self.tally(&p.origin.file, p.kind);
        let counts = match p.severity {
            Severity::SetAside => &mut t.set_aside,
            Severity::Warning => &mut t.warnings,
        };
        *counts.entry(p.reason).or_default() += 1;
        if p.severity == Severity::SetAside {
            t.first_detail.entry(p.reason).or_insert_with(|| format!("line {}: {}", p.origin.line, p.detail));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(file: &Arc<str>, line: u64) -> Origin {
        Origin { file: file.clone(), line }
    }

    fn interview(id: &str, updated_at: Option<Micros>, file: &Arc<str>, line: u64) -> InterviewRow {
        InterviewRow {
            interview_id: id.into(),
            candidate_id: "c1".into(),
            role: "销售".into(),
            region: "华东".into(),
            education: None,
            fresh_graduate: Some(true),
            source: None,
            preferred_channel: Some(Channel::Wechat),
            invited_at: 0,
            scheduled_at: 1_000 + line as i64,
            status: Status::Scheduled,
            cause: None,
            no_show_grade: None,
            cost: Some(1.5),
            updated_at,
            origin: origin(file, line),
            extra: Vec::new(),
        }
    }

    /// Which (file, line) holds each interview id after merging.
    fn winners(m: &Merger, merged: &Merged) -> HashMap<String, (String, u64)> {
        merged
            .interview_rows
            .iter()
            .map(|&r| {
                let r = r as usize;
                let s = &m.interviews;
                (s.interview_id.text(r).to_string(), (m.files.name(s.origin_file[r]).to_string(), s.origin_line[r]))
            })
            .collect()
    }

    #[test]
    fn latest_updated_at_wins_then_reading_order() {
        let old: Arc<str> = Arc::from("2026-01/interviews.csv");
        let a: Arc<str> = Arc::from("2026-02/interviews-a.csv");
        let b: Arc<str> = Arc::from("2026-02/interviews-b.csv");
        let mut m = Merger::new();
        m.lake_interview(&interview("A", Some(100), &old, 2));
        m.lake_interview(&interview("K", Some(100), &old, 3));
        m.lake_interview(&interview("T", Some(100), &old, 4));
        m.begin_run();
        m.register_file(&a, InputKind::Interviews);
        m.interview(interview("A", Some(50), &a, 2)); // older than the lake's: loses
        m.interview(interview("A", Some(200), &a, 3)); // newer: replaces the lake's
        m.interview(interview("B", None, &a, 4));
        m.interview(interview("B", None, &a, 5)); // tie on null: later line wins
        m.interview(interview("C", None, &a, 6));
        m.interview(interview("T", Some(100), &a, 7)); // tie with the lake: the later run wins
        m.register_file(&b, InputKind::Interviews);
        m.interview(interview("C", Some(1), &b, 2)); // any updated_at beats none
        m.interview(interview("A", Some(200), &b, 3)); // tie: the file read last wins
        m.interview(interview("B", None, &b, 4));
        let merged = m.finish().unwrap();
        let w = winners(&m, &merged);
        assert_eq!(w.len(), 5);
        assert_eq!(w["A"], (b.to_string(), 3));
        assert_eq!(w["B"], (b.to_string(), 4));
        assert_eq!(w["C"], (b.to_string(), 2));
        assert_eq!(w["K"], (old.to_string(), 3));
        assert_eq!(w["T"], (a.to_string(), 7));
        // Lake rows A and T were replaced.
        assert_eq!(merged.lake_interviews_updated, 2);
        let ta = m.tally_of(&a).unwrap();
        let tb = m.tally_of(&b).unwrap();
        assert_eq!((ta.valid, ta.kept, ta.duplicates), (6, 1, 5));
        assert_eq!((tb.valid, tb.kept, tb.duplicates), (3, 3, 0));
        // Sorted by scheduled_at (1000 + line), then id: A and K tie on 1003.
        let order: Vec<&str> = merged.interview_rows.iter().map(|&r| m.interviews.interview_id.text(r as usize)).collect();
        assert_eq!(order, vec!["C", "A", "K", "B", "T"]);
    }

    #[test]
    fn first_event_wins_and_tallies_count_each_file() {
        let new: Arc<str> = Arc::from("events-02.jsonl");
        let ivw: Arc<str> = Arc::from("interviews.csv");
        let mut m = Merger::new();
        m.lake_interview(&interview("I1", None, &ivw, 2));
        assert!(m.lake_event("e1"));
        assert!(m.lake_event("e9"));
        m.set_lake_events(2);
        m.begin_run();
        let f = m.register_file(&new, InputKind::Events);
        let kept: Vec<bool> = ["e1", "e2", "e2", "e3"].iter().map(|id| m.event(f, fingerprint(id))).collect();
        // e1 is already in the lake; the second e2 is a duplicate of the first.
        assert_eq!(kept, vec![false, true, false, true]);
        m.problem(Problem {
            origin: origin(&new, 5),
            kind: InputKind::Events,
            severity: Severity::SetAside,
            reason: "invalid_json",
            field: None,
            detail: "expected value at column 1".into(),
            raw: "{oops".into(),
        });
        let merged = m.finish().unwrap();
        assert_eq!(merged.lake_events_before, 2);
        let mut orphans = vec![0; f as usize + 1];
        orphans[f as usize] = 1;
        m.set_orphans(&orphans);
        let t = m.tally_of(&new).unwrap();
        assert_eq!((t.valid, t.kept, t.duplicates, t.orphans), (4, 2, 2, 1));
        assert_eq!(t.set_aside_total(), 1);
        assert!(m.has_interview(fingerprint("I1")) && !m.has_interview(fingerprint("I7")));
        assert_eq!(m.rejected.reason.text(0), "invalid_json: expected value at column 1");
        assert_eq!(m.rejected.raw.text(0), "{oops");
    }

    #[test]
    fn strings_round_trip_through_the_column() {
        let mut c = StrColumn::default();
        c.push(Some("华东"));
        c.push(None);
        c.push(Some(""));
        c.push(Some("sales"));
        assert_eq!((c.get(0), c.get(1), c.get(2), c.get(3)), (Some("华东"), None, Some(""), Some("sales")));
        assert_eq!(c.bytes_of(&[0, 3]), "华东".len() + 5);
    }

    #[test]
    fn fingerprints_differ_for_near_ids() {
        let ids = ["e1", "e2", "e10", "e01", "1e", "", " e1"];
        let set: HashSet<u128> = ids.iter().map(|s| fingerprint(s)).collect();
        assert_eq!(set.len(), ids.len());
        assert_eq!(fingerprint("e1"), fingerprint("e1"));
    }
}
