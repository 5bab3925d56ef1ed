//! Raw logs → the lake: find the files, read and validate them, merge with the lake's
//! current version, write a new version and switch to it atomically.
//!
//! One run: take the lake's lock; list the raw files and hash them; skip those whose
//! content the lake already has (by SHA-256); load the current version's rows; read
//! the new files in order into the [`merge::Merger`]; check that every row read is
//! accounted for; write a complete new version beside the current one; switch.
//! Any error before the switch leaves the previous version current and untouched.

pub mod carry;
pub mod csv_reader;
pub mod files;
pub mod fpset;
pub mod jsonl_reader;
pub mod mapped;
pub mod merge;
pub mod order;
pub mod record;
pub mod spill;
pub mod stamps;
pub mod summary;
pub mod writer;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use anyhow::{bail, Context};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use crate::ingest::carry::PreviousEvents;
use crate::ingest::files::{FileError, FileStats, InputFile};
use crate::ingest::merge::{fingerprint, MergeBug, Merger};
use crate::ingest::spill::{MonthKey, Spill};
use crate::ingest::record::{EventRow, InputKind, InterviewRow, Problem, RowSink};
use crate::ingest::summary::{KindSummary, Manifest, RunSummary, SkippedFile, SourceFile, TableEntry, MANIFEST_FORMAT};
use crate::ingest::writer::{EventsWritten, VersionInfo};
use crate::lake::Lake;
use crate::{info, warn};

/// Resolved settings of one ingest run.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub raw: PathBuf,
    pub lake: PathBuf,
    pub tz: Tz,
    /// Whether `tz` was given (flag or config): a lake's recorded zone then must match.
    pub tz_given: bool,
    /// Earlier lake versions kept besides the new one.
    pub keep_versions: usize,
    /// The config's `[[input.source]]` mappings (none: format v1 only).
    pub sources: mapped::Sources,
    /// Fail the run when a file yields no row at all (every row set aside).
    pub fail_on_empty_file: bool,
    /// Event files a month may have before new events compact it into one.
    pub max_event_parts: usize,
}

/// How a run ended.
#[derive(Debug)]
pub enum IngestOutcome {
    /// No file with new content: nothing was written.
    Unchanged { version: Option<u64>, skipped: Vec<SkippedFile> },
    /// A new version was committed.
    Committed(Box<RunSummary>),
}

/// SHA-256 of a file's bytes, in lower-case hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let path = dir.join("manifest.json");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {} (is this a noshow lake?)", path.display()))
}

/// Writes a file so that it appears whole or not at all.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    crate::store::write_file_atomically(path, bytes)
}

/// Rows travel from a parsing thread to the merging one in chunks of this many.
const CHUNK_ROWS: usize = 16 * 1024;
/// Chunks a file's parser may run ahead of the merging thread. A parser working on a
/// later file than the one being merged waits when its channel is full, so this bounds
/// memory (about 256 × 16 Ki events × ~80 bytes ≈ 330 MB per file ahead) while letting
/// both cores parse most of the time.
const CHUNKS_AHEAD: usize = 256;

/// What a parser found in part of one file. Interviews, problems and events each keep
/// their reading order; no decision depends on the order between the three.
#[derive(Default)]
struct Chunk {
    interviews: Vec<InterviewRow>,
    problems: Vec<Problem>,
    /// Kept-or-not is decided by the merging thread; the parser already encoded each
    /// event as its spill record (back to back here) and fingerprinted its id.
    records: Vec<u8>,
    /// Per event: its id's fingerprint (a slice of its own, probed as a batch)…
    fingerprints: Vec<u128>,
    /// … and its month and the end of its record in `records`.
    events: Vec<(MonthKey, usize)>,
}

impl Chunk {
    fn rows(&self) -> usize {
        self.interviews.len() + self.problems.len() + self.events.len()
    }

    /// An empty chunk with room for as much as `like` held (a file's chunks are alike):
    /// growing each from empty cost a dozen copies and as many fresh pages per chunk.
    fn sized_like(like: &Chunk) -> Chunk {
        Chunk {
            interviews: Vec::with_capacity(like.interviews.len()),
            problems: Vec::with_capacity(like.problems.len()),
            records: Vec::with_capacity(like.records.len() + like.records.len() / 8),
            fingerprints: Vec::with_capacity(like.fingerprints.len()),
            events: Vec::with_capacity(like.events.len()),
        }
    }
}

enum Message {
    Rows(Chunk),
    /// The file is finished (or failed).
    Done(Result<FileStats, FileError>),
}

/// Buffers a reader's rows and sends them on in chunks.
struct ChunkSink<'a> {
    tx: &'a SyncSender<Message>,
    /// The file's index in the merger's file names, written into each event record.
    file: u32,
    chunk: Chunk,
    /// The merging side stopped (on an error elsewhere): rows are dropped.
    closed: bool,
}

impl ChunkSink<'_> {
    fn pushed(&mut self) {
        if self.chunk.rows() >= CHUNK_ROWS {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.chunk.rows() > 0 {
            let next = Chunk::sized_like(&self.chunk);
            let chunk = std::mem::replace(&mut self.chunk, next);
            if !self.closed && self.tx.send(Message::Rows(chunk)).is_err() {
                self.closed = true;
            }
        }
    }
}

impl RowSink for ChunkSink<'_> {
    fn interview(&mut self, row: InterviewRow) {
        self.chunk.interviews.push(row);
        self.pushed();
    }
    fn event(&mut self, row: EventRow) {
        let fields = spill::EventFields::of(&row);
        spill::encode(&fields, self.file, 0, &mut self.chunk.records);
        self.chunk.fingerprints.push(fingerprint(&row.event_id));
        self.chunk.events.push((spill::month_key(row.ts), self.chunk.records.len()));
        self.pushed();
    }
    fn problem(&mut self, problem: Problem) {
        self.chunk.problems.push(problem);
        self.pushed();
    }
}

/// Parsing threads: one per core, at least two (merging is light next to parsing).
fn parser_threads(files: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    cores.clamp(2, 8).min(files.max(1))
}

/// Reads the run's files into `merger`, spilling kept events into `spill`.
///
/// Files are parsed in parallel, several at once, each into its own bounded channel;
/// this thread takes the channels in file order, so deduplication sees rows exactly in
/// reading order whatever the threads' timing. `file_ids[i]` is file `i`'s index in
/// `merger.files`.
fn read_new_files(
    files: &[(InputFile, String)],
    file_ids: &[u32],
    sources: &mapped::Sources,
    tz: Tz,
    merger: &mut Merger,
    spill: &mut Spill,
) -> anyhow::Result<Vec<FileStats>> {
    let total_bytes: u64 = files.iter().map(|(f, _)| f.size).sum();
    let bar = crate::logging::progress(total_bytes, "reading");
    let threads = parser_threads(files.len());
    let handoff = Handoff { state: Mutex::new(HandoffState::default()), changed: Condvar::new(), ahead: 2 * threads };
    let next = AtomicUsize::new(0);
    let result = std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= files.len() {
                    return;
                }
                // A file's channel is made only when its parsing starts, a few files
                // ahead of the merge at most: memory stays flat however many files.
                let Some(tx) = handoff.open(i) else { return };
                let file = &files[i].0;
                let mut sink = ChunkSink { tx: &tx, file: file_ids[i], chunk: Chunk::default(), closed: false };
                let done = AtomicU64::new(0);
                let progress = |pos: u64| {
                    let before = done.swap(pos, Ordering::Relaxed);
                    bar.inc(pos.saturating_sub(before));
                };
                let read = match (sources.claim(&file.rel), file.kind) {
                    (Some(source), _) => mapped::read(file, source, tz, &mut sink, &progress).map(|(stats, layout)| {
                        crate::info!(
                            "{}: read by [[input.source]] {} ({}{}{}), columns {}",
                            file.rel,
                            source.index + 1,
                            layout.encoding,
                            layout.sheet.as_ref().map(|s| format!(", sheet {s}")).unwrap_or_default(),
                            layout.delimiter.as_ref().map(|d| format!(", delimiter {d}")).unwrap_or_default(),
                            layout.mapping.iter().map(|(f, h)| format!("{f} <- {h}")).collect::<Vec<_>>().join(", ")
                        );
                        stats
                    }),
                    (None, InputKind::Interviews) => csv_reader::read_interviews(file, tz, &mut sink, &progress),
                    (None, InputKind::Events) => jsonl_reader::read_events(file, tz, &mut sink, &progress),
                };
                sink.flush();
                bar.inc(file.size.saturating_sub(done.load(Ordering::Relaxed)));
                let _ = tx.send(Message::Done(read));
            });
        }
        let merged = merge_in_order(files, file_ids, &handoff, merger, spill, &bar);
        // Whatever happened, no parser may wait for the merge any more.
        handoff.close();
        merged
    });
    bar.finish_and_clear();
    result
}

/// Hands each file's channel from its parser to the merging thread, in file order.
struct Handoff {
    state: Mutex<HandoffState>,
    changed: Condvar,
    /// Files a parser may start ahead of the one being merged.
    ahead: usize,
}

#[derive(Default)]
struct HandoffState {
    receivers: HashMap<usize, Receiver<Message>>,
    /// Files fully merged (the merge works on file `merged`).
    merged: usize,
    closed: bool,
}

impl Handoff {
    /// For the parser of file `i`: waits until it is near the merge, then makes the
    /// file's channel. `None` once the merge has stopped.
    fn open(&self, i: usize) -> Option<SyncSender<Message>> {
        let mut state = self.state.lock().ok()?;
        while !state.closed && i >= state.merged + self.ahead {
            state = self.changed.wait(state).ok()?;
        }
        if state.closed {
            return None;
        }
        let (tx, rx) = sync_channel::<Message>(CHUNKS_AHEAD);
        state.receivers.insert(i, rx);
        self.changed.notify_all();
        Some(tx)
    }

    /// For the merge: file `i`'s channel, once its parser has made it.
    fn take(&self, i: usize) -> Option<Receiver<Message>> {
        let mut state = self.state.lock().ok()?;
        loop {
            if let Some(rx) = state.receivers.remove(&i) {
                return Some(rx);
            }
            if state.closed {
                return None;
            }
            state = self.changed.wait(state).ok()?;
        }
    }

    fn merged(&self, count: usize) {
        if let Ok(mut state) = self.state.lock() {
            state.merged = count;
            self.changed.notify_all();
        }
    }

    /// Drops every waiting channel (unblocking parsers on a full one) and stops the rest.
    fn close(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.closed = true;
            state.receivers.clear();
            self.changed.notify_all();
        }
    }
}

/// The merging side of [`read_new_files`]: takes each file's channel in file order.
fn merge_in_order(
    files: &[(InputFile, String)],
    file_ids: &[u32],
    handoff: &Handoff,
    merger: &mut Merger,
    spill: &mut Spill,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<Vec<FileStats>> {
    let mut stats: Vec<FileStats> = Vec::with_capacity(files.len());
    for i in 0..files.len() {
        let file = &files[i].0;
        let rx = handoff
            .take(i)
            .ok_or_else(|| FileError::Io { file: file.rel.to_string(), source: std::io::Error::other("the parsing threads stopped early") })?;
        let mut finished = None;
        for message in rx.iter() {
            match message {
                Message::Rows(chunk) => {
                    for row in chunk.interviews {
                        merger.interview(row);
                    }
                    for p in chunk.problems {
                        merger.problem(p);
                    }
                    let mut spilled = Ok(());
                    merger.events(file_ids[i], &chunk.fingerprints, |row| {
                        let start = row.checked_sub(1).map_or(0, |r| chunk.events[r].1);
                        let (month, end) = chunk.events[row];
                        if spilled.is_ok() {
                            spilled = spill.append(month, &chunk.records[start..end]);
                        }
                    });
                    spilled.with_context(|| format!("writing temporary event files in {}", spill.dir().display()))?;
                }
                Message::Done(read) => {
                    finished = Some(read?);
                    break;
                }
            }
        }
        let Some(file_stats) = finished else {
            return Err(FileError::Io { file: file.rel.to_string(), source: std::io::Error::other("the parsing thread stopped early") }.into());
        };
        if bar.is_hidden() {
            info!("read {}: {} rows, {} set aside, {} warnings", file.rel, file_stats.rows_read, file_stats.set_aside, file_stats.warnings);
        }
        if !file_stats.unknown_columns.is_empty() {
            warn!("{}: unknown column(s) ignored: {}", file.rel, file_stats.unknown_columns.join(", "));
        }
        stats.push(file_stats);
        drop(rx);
        handoff.merged(i + 1);
    }
    Ok(stats)
}

/// SHA-256 of every file, on two threads (hashing reads every byte once more), except
/// files that `stamps` shows unchanged since a run that hashed them to a content the lake
/// already has (`known`): those keep that hash. Returns each file's hash with its stamp
/// (taken before hashing), and how many hashes were taken from the stamps.
#[allow(clippy::type_complexity)]
fn hash_files(
    found: &[InputFile],
    stamps: &stamps::Stamps,
    known: &(dyn Fn(&str) -> bool + Sync),
) -> Result<(Vec<(String, Option<stamps::Stamp>)>, usize), FileError> {
    let hash = |file: &InputFile| -> Result<(String, Option<stamps::Stamp>, bool), FileError> {
        let stamp = stamps::Stamp::of(&file.path);
        if let Some(sha) = stamp.and_then(|now| stamps.unchanged(&file.rel, now)).filter(|sha| known(sha)) {
            return Ok((sha.to_string(), stamp, true));
        }
        let sha = sha256_file(&file.path).map_err(|source| FileError::Io { file: file.rel.to_string(), source })?;
        Ok((sha, stamp, false))
    };
    let hashed: Vec<(String, Option<stamps::Stamp>, bool)> = crate::sys::map_on_two_threads(found, hash)
        .ok_or_else(|| FileError::Io { file: String::new(), source: std::io::Error::other("a hashing thread panicked") })?
        .into_iter()
        .collect::<Result<_, _>>()?;
    let reused = hashed.iter().filter(|h| h.2).count();
    Ok((hashed.into_iter().map(|(sha, stamp, _)| (sha, stamp)).collect(), reused))
}

/// A fault-injection point for the test suite: with `NOSHOW_TEST_PAUSE_AFTER_HASH`
/// set to a path, ingest creates that file after hashing the raw files and waits (at
/// most a minute) until it is removed, so a test can rewrite a file between the hash
/// and the read. Unset in normal use.
fn pause_for_tests() {
    let Some(flag) = std::env::var_os("NOSHOW_TEST_PAUSE_AFTER_HASH") else { return };
    let flag = PathBuf::from(flag);
    if fs::write(&flag, b"hashed\n").is_err() {
        return;
    }
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    while flag.exists() && Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Runs one ingest: see the module documentation.
pub fn ingest(opts: &IngestOptions) -> anyhow::Result<IngestOutcome> {
    let started = Instant::now();
    let started_at = crate::time::format_utc(crate::time::now());
    let lake = Lake::new(&opts.lake);
    let lock = lake.lock()?;
    let sources = &opts.sources;
    let (found, passed_over) = files::discover_claimed(&opts.raw, &|rel| sources.claim(rel).map(|s| s.kind))?;
    for skip in &passed_over {
        warn!("{}: skipped, {}", skip.rel, skip.why);
    }
    if found.is_empty() {
        warn!("no interviews*.csv or events*.jsonl (or .gz) files under {}", opts.raw.display());
    }

    let previous = lake.current()?;
    let manifest = match &previous {
        Some(snap) => Some(read_manifest(&snap.dir)?),
        None => None,
    };
    // Every run into one lake reads naive timestamps in the same zone.
    let mut opts_in_zone;
    let opts = match previous.as_ref().and_then(|s| s.zone()) {
        Some(zone) if zone != opts.tz.name() => {
            if opts.tz_given {
                return Err(crate::usage_error(format!(
                    "time zone {} was given, but the lake {} was ingested with {zone}: new naive timestamps would be \
                     shifted against the ones already in it. Run with --tz {zone} (or leave --tz out to use it)",
                    opts.tz.name(),
                    opts.lake.display()
                )));
            }
            let tz = crate::time::parse_tz(&zone).map_err(|e| anyhow::anyhow!("the lake records the zone {zone:?}: {e}"))?;
            info!("reading naive timestamps in {zone}, the lake's recorded zone (no --tz given)");
            opts_in_zone = opts.clone();
            opts_in_zone.tz = tz;
            &opts_in_zone
        }
        _ => opts,
    };
    let known: HashMap<&str, &SourceFile> =
        manifest.iter().flat_map(|m| m.source_files.iter()).map(|f| (f.sha256.as_str(), f)).collect();

    // Content, not names, decides what is new: a renamed copy of an ingested export is
    // skipped, an export rewritten in place is read again.
    let stamps = stamps::Stamps::read(lake.root());
    let (hashed, reused) = hash_files(&found, &stamps, &|sha| known.contains_key(sha))?;
    let stamp_of: HashMap<String, stamps::Stamp> =
        found.iter().zip(&hashed).filter_map(|(f, (_, stamp))| Some((f.rel.to_string(), (*stamp)?))).collect();
    let shas: Vec<String> = hashed.into_iter().map(|(sha, _)| sha).collect();
    if reused > 0 {
        info!("{reused} raw file(s) unchanged since an earlier run (same size, modification and change times): not hashed again");
    }
    pause_for_tests();
    let mut new_files: Vec<(InputFile, String)> = Vec::new();
    let mut skipped = Vec::new();
    let mut hashes_this_run: HashMap<String, String> = HashMap::new();
    for (file, sha) in found.into_iter().zip(shas) {
        if let Some(done) = known.get(sha.as_str()) {
            skipped.push(SkippedFile { path: file.rel.to_string(), sha256: sha, ingested_in: done.run, as_path: done.path.clone() });
        } else if let Some(first) = hashes_this_run.get(&sha) {
            warn!("{} has the same content as {first}: read once", file.rel);
            let next = lake.next_version(&lock)?;
            skipped.push(SkippedFile { path: file.rel.to_string(), sha256: sha, ingested_in: next, as_path: first.clone() });
        } else {
            hashes_this_run.insert(sha.clone(), file.rel.to_string());
            let mut file = file;
            // Just hashed: a stamp that can prove the file unchanged after the read
            // spares hashing it a second time while reading (see `read_unchanged`).
            file.hash_on_read = !stamp_of.get(&*file.rel).is_some_and(|s| s.is_fine_grained());
            new_files.push((file, sha));
        }
    }
    // The stamps of the files whose content the lake has (or will have once this run
    // commits); written after the commit, so a failed run leaves the old ones.
    let stamped: Vec<(String, stamps::Stamp, String)> = skipped
        .iter()
        .map(|s| (s.path.as_str(), s.sha256.as_str()))
        .chain(new_files.iter().map(|(f, sha)| (&*f.rel, sha.as_str())))
        .filter_map(|(rel, sha)| Some((rel.to_string(), *stamp_of.get(rel)?, sha.to_string())))
        .collect();
    let remember = |lake: &Lake| {
        stamps::Stamps::write(lake.root(), stamped.iter().map(|(rel, stamp, sha)| (rel.as_str(), *stamp, sha.as_str())));
    };
    if new_files.is_empty() {
        // Nothing is written when nothing is new, not even the stamps.
        return Ok(IngestOutcome::Unchanged { version: previous.map(|s| s.version), skipped });
    }

    // The new version's folder exists from here on: kept events are spilled into it
    // while reading. Any error removes it, and the previous version stays current.
    let vw = lake.begin_version(&lock)?;
    let not_read = passed_over.iter().map(|s| summary::NotRead { path: s.rel.clone(), why: s.why.clone() }).collect();
    let run = Run {
        opts,
        started,
        started_at,
        previous: previous.as_ref(),
        manifest: manifest.as_ref(),
        new_files,
        skipped,
        not_read,
        stamps_before: stamp_of,
    };
    let summary = match write_version(&run, vw.dir(), vw.number) {
        Ok(summary) => summary,
        // Dropping the unfinished version removes its folder.
        Err(e) => return Err(e),
    };
    let snapshot = vw.commit(opts.keep_versions)?;
    remember(&lake);
    let runs = lake.runs_dir();
    if let Err(e) = fs::create_dir_all(&runs) {
        warn!("creating {}: {e}", runs.display());
    }
    let copy = runs.join(format!("ingest-{:06}.json", snapshot.version));
    // The version is committed: a copy that cannot be written is a warning, not a
    // failed run (the summary is also inside the version).
    if let Err(e) = write_atomically(&copy, &serde_json::to_vec_pretty(&summary)?) {
        warn!("lake version {} is committed, but its summary copy could not be written: {e:#}", snapshot.version);
    }
    drop(lock);
    Ok(IngestOutcome::Committed(Box::new(summary)))
}

/// What [`write_version`] needs to know about the run.
struct Run<'a> {
    opts: &'a IngestOptions,
    started: Instant,
    started_at: String,
    previous: Option<&'a crate::lake::Snapshot>,
    manifest: Option<&'a Manifest>,
    new_files: Vec<(InputFile, String)>,
    skipped: Vec<SkippedFile>,
    not_read: Vec<summary::NotRead>,
    /// Each raw file's stamp, taken before it was hashed.
    stamps_before: HashMap<String, stamps::Stamp>,
}

/// Whether `file` was read exactly as it was hashed (`sha`): by the hash of the bytes
/// read when the reader hashed them, otherwise by its stamp, unchanged since before
/// the hashing (rewriting a file changes its `ctime`, see [`stamps`]), and the bytes
/// read being its whole size.
fn read_unchanged(run: &Run<'_>, file: &InputFile, sha: &str, content: &files::Content) -> bool {
    let same_bytes = if file.hash_on_read {
        content.sha256 == sha
    } else {
        let before = run.stamps_before.get(&*file.rel);
        before.is_some() && before.copied() == stamps::Stamp::of(&file.path)
    };
    same_bytes && content.bytes == file.size
}

/// The interview months (`YYYY-MM`, UTC) that a row of this run enters or leaves: a
/// new winner's month, and the month of each lake row it replaced.
fn touched_months(merger: &Merger, merged: &merge::Merged) -> BTreeSet<String> {
    let s = &merger.interviews;
    let start = merged.lake_interviews_before as usize;
    let mut winner = vec![false; s.len()];
    let mut out = BTreeSet::new();
    for &r in &merged.interview_rows {
        winner[r as usize] = true;
        if r as usize >= start {
            out.insert(writer::month_label_of(s.scheduled_at[r as usize]));
        }
    }
    for r in 0..start {
        if !winner[r] {
            out.insert(writer::month_label_of(s.scheduled_at[r]));
        }
    }
    out
}

/// `rows` (the merged interviews, in writing order) with each lake row of a month that
/// is rewritten, not carried, loaded whole: the lake's interviews were loaded as keys
/// only, and a weekly run carries most months (`carried`, by month and row count).
fn whole_lake_rows(
    merger: &mut Merger,
    keyed: &[writer::KeyedFile],
    rows: &[u32],
    carried: &dyn Fn(&str, u64) -> bool,
) -> anyhow::Result<Vec<u32>> {
    let key_rows = merger.interviews.key_rows;
    // The lake file holding key row `r` (files in store order; empty ones share a start).
    let file_of = |r: u32| keyed.partition_point(|f| f.start <= r) - 1;
    // The months to be rewritten (a row read whole keeps its time, so these ranges
    // hold for the rows returned too).
    let rewritten: Vec<(String, std::ops::Range<usize>)> = writer::month_runs(rows, &merger.interviews.scheduled_at)
        .into_iter()
        .filter(|(month, range)| !carried(month, range.len() as u64))
        .collect();
    let mut needed = vec![false; keyed.len()];
    for (_, range) in &rewritten {
        for &r in &rows[range.clone()] {
            if (r as usize) < key_rows {
                needed[file_of(r)] = true;
            }
        }
    }
    let mut whole_start: Vec<Option<u32>> = vec![None; keyed.len()];
    let more: usize = keyed.iter().zip(&needed).filter(|(_, n)| **n).map(|(f, _)| f.rows as usize).sum();
    merger.reserve_store(more, more * 16);
    for (k, f) in keyed.iter().enumerate().filter(|(k, _)| needed[*k]) {
        let mut next = f.start;
        writer::read_interview_rows(&f.path, &mut |row| {
            let content = |what: String| writer::LakeFileError::Content { path: f.path.clone(), what };
            if next >= f.start + f.rows {
                return Err(content(format!("it holds more than the {} rows read a moment ago", f.rows)));
            }
            let i = merger.lake_interview_whole(next, row).map_err(|e| content(e.to_string()))?;
            whole_start[k].get_or_insert(i);
            next += 1;
            Ok(())
        })?;
        if next != f.start + f.rows {
            bail!("lake file {}: {} rows read whole, {} a moment ago", f.path.display(), next - f.start, f.rows);
        }
    }
    let out: Vec<u32> = rows
        .iter()
        .map(|&r| match ((r as usize) < key_rows).then(|| file_of(r)) {
            Some(k) => whole_start[k].map_or(r, |w| w + (r - keyed[k].start)),
            None => r,
        })
        .collect();
    // What is written must be whole: a key row may stay only in a carried month.
    for (month, range) in rewritten {
        if let Some(&r) = out[range].iter().find(|&&r| (r as usize) < key_rows) {
            return Err(merge::MergeBug(format!(
                "lake interview {:?} of {month} would be rewritten from its keys alone",
                merger.interviews.interview_id.text(r as usize)
            ))
            .into());
        }
    }
    Ok(out)
}

/// Merges the previous version and the new files into the version folder `dir`
/// (not yet committed) and returns the run's summary.
fn write_version(run: &Run<'_>, dir: &Path, version: u64) -> anyhow::Result<RunSummary> {
    let mut clock = crate::model::stopwatch::Stopwatch::start("ingest");
    let spill_dir = dir.join(".spill");
    let mut spill = Spill::new(&spill_dir).with_context(|| format!("creating {}", spill_dir.display()))?;
    let mut merger = Merger::new();
    // A guess of the events to come, so the id set is allocated once: raw JSON lines run
    // about 120 bytes (gzip about 6 times fewer).
    let raw_events: u64 = run
        .new_files
        .iter()
        .filter(|(f, _)| f.kind == InputKind::Events)
        .map(|(f, _)| if f.gzip { f.size * 6 } else { f.size } / 110)
        .sum();
    // Lake ids are loaded only where a new id could equal one (see `carry`): room for
    // this run's ids is what is known ahead.
    merger.reserve_events(usize::try_from(raw_events).unwrap_or(0));
    let mut previous_events = PreviousEvents::default();
    let mut previous_rejected: Vec<writer::WrittenFile> = Vec::new();
    let mut previous_interviews: BTreeMap<String, writer::WrittenFile> = BTreeMap::new();
    let mut keyed: Vec<writer::KeyedFile> = Vec::new();
    if let (Some(snap), Some(manifest)) = (run.previous, run.manifest) {
        info!("loading lake version {} from {}", snap.version, snap.dir.display());
        let listed = |table: &str| manifest.tables.get(table).map(|t| t.files.clone()).unwrap_or_default();
        // What is carried is checked like everything a reader reads: each listed file
        // there with its rows, nothing else beside them.
        snap.files("events")?;
        snap.files("rejected")?;
        let lake_interviews: u64 = listed("interviews").iter().map(|f| f.rows).sum();
        merger.reserve_interviews(usize::try_from(lake_interviews).unwrap_or(0));
        keyed = writer::load_interview_keys(&snap.dir, &mut merger)?;
        previous_events = PreviousEvents::load(&snap.dir, &listed("events"))?;
        previous_rejected = listed("rejected").into_iter().filter(|f| f.rows > 0).collect();
        previous_interviews = listed("interviews")
            .into_iter()
            .filter_map(|f| {
                let month = f.path.strip_prefix("interviews/month=")?.strip_suffix("/part-00000.parquet")?.to_string();
                Some((month, f))
            })
            .collect();
    }
    clock.mark("previous version's interviews");
    let extra_before = merger.interviews.extra_names().iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // Events outside month folders (a lake written otherwise) are read in full.
    let mut lake_events_kept: u64 = previous_events.by_month.values().flatten().map(|f| f.entry.rows).sum();
    for f in &previous_events.loose {
        lake_events_kept += writer::load_events_file(&f.path, &mut merger, &mut spill, true)?;
    }
    merger.begin_run();
    let file_ids: Vec<u32> = run.new_files.iter().map(|(f, _)| merger.register_file(&f.rel, f.kind)).collect();

    let stats = read_new_files(&run.new_files, &file_ids, &run.opts.sources, run.opts.tz, &mut merger, &mut spill)?;
    clock.mark("new files read");
    // The manifest records what was read: a file rewritten between its hashing and its
    // reading (an exporter still at work) fails the run instead of being remembered
    // whole while only part of it was ingested.
    for ((file, sha), st) in run.new_files.iter().zip(&stats) {
        if !read_unchanged(run, file, sha, &st.content) {
            bail!(
                "{} changed while it was being read ({} bytes when listed, {} bytes read, content differs): is an \
                 export still being written? Nothing was committed; run again once the file is complete",
                file.rel,
                file.size,
                st.content.bytes
            );
        }
    }
    // This run's first-of-their-id events that the lake already has are duplicates
    // after all: one pass over the lake's ids, probing the run's id set.
    let carried_files: Vec<&carry::OldEventFile> = previous_events.month_files().map(|(_, f)| f).collect();
    let lake_duplicates = carry::ids_in(&carried_files, merger.event_ids())?;
    clock.mark("lake event ids checked");
    if previous_events.rows > 0 {
        info!("{} event(s) of this run were already in the lake (checked against its {} event ids)", lake_duplicates.len(), previous_events.rows);
    }
    merger.forget_event_ids();
    merger.set_lake_events(lake_events_kept);

    // Months with new events get a new part, or are compacted when they have enough.
    let new_months: BTreeSet<MonthKey> = spill.months().into_iter().collect();
    let mut part_names: BTreeMap<MonthKey, String> = BTreeMap::new();
    let mut carry_events: Vec<&carry::OldEventFile> = Vec::new();
    for (month, files) in &previous_events.by_month {
        if !new_months.contains(month) {
            carry_events.extend(files);
        } else if files.len() + 1 > run.opts.max_event_parts {
            info!("compacting the {} event files of {} into one", files.len() + 1, spill::month_label(*month));
            for f in files {
                writer::load_events_file(&f.path, &mut merger, &mut spill, false)?;
            }
        } else {
            carry_events.extend(files);
            part_names.insert(*month, format!("part-{version:06}"));
        }
    }
    let spilled = spill.bytes();
    let months = spill.finish().with_context(|| format!("writing temporary event files in {}", spill_dir.display()))?;
    info!("read {} file(s); {:.1} MB of events set aside in {} month file(s) for sorting", run.new_files.len(), spilled as f64 / 1e6, months.len());

    let merged = merger.finish()?;
    let info = VersionInfo { lake_version: version };
    let previous_dir = run.previous.map(|s| s.dir.clone()).unwrap_or_default();
    let carry_file = |f: &writer::WrittenFile| -> Result<writer::WrittenFile, writer::LakeFileError> {
        carry::link_or_copy(&previous_dir.join(&f.path), &dir.join(&f.path))?;
        if let Some(index) = &f.index {
            carry::link_or_copy(&previous_dir.join(index), &dir.join(index))?;
        }
        Ok(f.clone())
    };

    // Interview months none of whose rows changed are carried.
    let touched = touched_months(&merger, &merged);
    let same_columns = merger.interviews.extra_names().iter().map(|s| s.to_string()).collect::<Vec<_>>() == extra_before;
    let carried = |month: &str, rows: u64| {
        previous_interviews.get(month).is_some_and(|f| same_columns && f.rows == rows && !touched.contains(month))
    };
    let carry_month = |month: &str, rows: u64| carried(month, rows).then(|| carry_file(&previous_interviews[month]));
    let write_rows = whole_lake_rows(&mut merger, &keyed, &merged.interview_rows, &carried)?;
    clock.mark("lake interviews of rewritten months");
    let iv = writer::write_interviews(dir, &merger, &write_rows, info, &carry_month)?;
    clock.mark("interviews written");

    // Carried event files keep their orphan counts unless a new interview may adopt some.
    let new_ids = merger.new_interview_ids(&merged);
    let new_keys = crate::lake::index::keys_of(&new_ids);
    let known = |fp: u128| merger.has_interview(fp);
    let recount = |f: &&carry::OldEventFile| -> Result<writer::WrittenFile, writer::LakeFileError> {
        let mut entry = carry_file(&f.entry)?;
        if carry::orphans_may_change(f, &new_ids, &new_keys) {
            entry.orphans = Some(carry::count_orphans(f, &known)?);
        }
        Ok(entry)
    };
    let carried_events = crate::sys::map_on_two_threads(&carry_events, recount)
        .ok_or_else(|| anyhow::anyhow!("a thread carrying event files panicked"))?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let part = |m: MonthKey| part_names.get(&m).cloned().unwrap_or_else(|| "part-00000".to_string());
    let ev: EventsWritten = writer::write_events(dir, &merger, &months, info, &part, carried_events, &lake_duplicates)?;
    fs::remove_dir_all(&spill_dir).with_context(|| format!("removing {}", spill_dir.display()))?;
    clock.mark("events written");
    merger.set_orphans(&ev.orphans_by_file);
    merger.set_lake_duplicates(&ev.lake_duplicates_by_file);

    let mut run_files = Vec::with_capacity(run.new_files.len());
    let mut nothing_kept = Vec::new();
    let mut interviews = KindSummary::default();
    let mut events = KindSummary::default();
    for ((file, sha), st) in run.new_files.iter().zip(&stats) {
        let tally = merger.tally_of(&file.rel).cloned().unwrap_or_default();
        // The reader's own counts must agree with what reached the merger.
        if st.rows_read != tally.valid + tally.set_aside_total() || st.set_aside != tally.set_aside_total() {
            return Err(MergeBug(format!(
                "{}: the reader counted {} rows ({} set aside) but handed over {} valid rows and {} set aside",
                file.rel,
                st.rows_read,
                st.set_aside,
                tally.valid,
                tally.set_aside_total()
            ))
            .into());
        }
        if st.rows_read > 0 && tally.valid == 0 {
            // A file that yielded nothing stands out: its most common reason, once.
            let (reason, n) = tally.set_aside.iter().max_by_key(|(_, n)| **n).map_or(("?", 0), |(r, n)| (*r, *n));
            let example = tally.first_detail.get(reason).cloned().unwrap_or_default();
            warn!(
                "{}: NOTHING KEPT, every one of its {} rows was set aside; most often {reason} ({n} rows), e.g. {example}",
                file.rel, st.rows_read
            );
            if run.opts.fail_on_empty_file {
                bail!(
                    "{}: every row was set aside ({reason}, e.g. {example}) and [ingest] fail_on_empty_file is set; nothing \
                     was committed",
                    file.rel
                );
            }
            nothing_kept.push(file.rel.to_string());
        }
        let entry = SourceFile {
            path: file.rel.to_string(),
            sha256: sha.clone(),
            size: file.size,
            kind: file.kind.as_str().to_string(),
            gzip: file.gzip,
            run: version,
            rows_read: st.rows_read,
            kept: tally.kept,
            duplicates: tally.duplicates,
            set_aside: tally.set_aside_total(),
            warnings: tally.warnings_total(),
            unknown_columns: st.unknown_columns.clone(),
            orphan_events: (file.kind == InputKind::Events).then_some(tally.orphans),
        };
        let kind = match file.kind {
            InputKind::Interviews => &mut interviews,
            InputKind::Events => &mut events,
        };
        kind.add(&entry, &tally);
        if file.kind == InputKind::Events {
            *kind.orphans_kept.get_or_insert(0) += tally.orphans;
        }
        run_files.push(entry);
    }
    interviews.rows_in_lake = merged.interview_rows.len() as u64;
    interviews.lake_rows_updated = Some(merged.lake_interviews_updated);
    events.rows_in_lake = ev.rows;
    events.orphans_kept.get_or_insert(0);
    events.orphans_in_lake = Some(ev.orphans_in_lake);
    let events_expected = merged.lake_events_before + events.kept;
    if ev.rows != events_expected {
        return Err(MergeBug(format!(
            "{} events written but {} were in the lake and {} kept from this run",
            ev.rows, merged.lake_events_before, events.kept
        ))
        .into());
    }

    let mut summary = RunSummary {
        noshow_version: crate::VERSION.to_string(),
        lake_version: version,
        previous_version: run.previous.map(|s| s.version),
        raw: run.opts.raw.display().to_string(),
        lake: run.opts.lake.display().to_string(),
        tz: run.opts.tz.name().to_string(),
        started_at: run.started_at.clone(),
        elapsed_seconds: 0.0,
        interviews,
        events,
        files: run_files,
        files_skipped: run.skipped.clone(),
        not_read: run.not_read.clone(),
        files_with_nothing_kept: nothing_kept,
    };
    summary.check().map_err(MergeBug)?;

    // Rejected rows never change: the lake's files are carried, this run's go beside them.
    let mut rj = previous_rejected.iter().map(carry_file).collect::<Result<Vec<_>, _>>()?;
    if rj.is_empty() || merger.rejected.len() > 0 {
        let name = if rj.is_empty() { "part-00000".to_string() } else { format!("part-{version:06}") };
        rj.extend(writer::write_rejected(dir, &merger, info, &name)?);
    }
    let mut tables = std::collections::BTreeMap::new();
    for (name, written) in [("interviews", iv), ("events", ev.files), ("rejected", rj)] {
        let rows = written.iter().map(|w| w.rows).sum();
        tables.insert(name.to_string(), TableEntry { rows, files: written });
    }
    let mut source_files = run.manifest.map(|m| m.source_files.clone()).unwrap_or_default();
    source_files.extend(summary.files.iter().cloned());
    let new_manifest =
        Manifest {
            format: MANIFEST_FORMAT,
            noshow_version: crate::VERSION.to_string(),
            lake_version: version,
            tables,
            tz: Some(run.opts.tz.name().to_string()),
            source_files,
        };
    write_atomically(&dir.join("manifest.json"), &serde_json::to_vec_pretty(&new_manifest)?)?;
    summary.elapsed_seconds = (run.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    write_atomically(&dir.join("summary.json"), &serde_json::to_vec_pretty(&summary)?)?;
    Ok(summary)
}
