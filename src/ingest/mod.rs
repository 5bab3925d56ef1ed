//! Raw logs → the lake: find the files, read and validate them, merge with the lake's
//! current version, write a new version and switch to it atomically.
//!
//! One run: take the lake's lock; list the raw files and hash them; skip those whose
//! content the lake already has (by SHA-256); load the current version's rows; read
//! the new files in order into the [`merge::Merger`]; check that every row read is
//! accounted for; write a complete new version beside the current one; switch.
//! Any error before the switch leaves the previous version current and untouched.

pub mod csv_reader;
pub mod files;
pub mod jsonl_reader;
pub mod merge;
pub mod record;
pub mod summary;
pub mod writer;

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::time::Instant;

use anyhow::{bail, Context};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use crate::ingest::files::{FileError, FileStats, InputFile};
use crate::ingest::merge::{MergeBug, Merger};
use crate::ingest::record::{EventRow, InputKind, InterviewRow, Problem, RowSink};
use crate::ingest::summary::{KindSummary, Manifest, RunSummary, SkippedFile, SourceFile, TableEntry, MANIFEST_FORMAT};
use crate::ingest::writer::VersionInfo;
use crate::lake::Lake;
use crate::{info, warn};

/// Resolved settings of one ingest run.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub raw: PathBuf,
    pub lake: PathBuf,
    pub tz: Tz,
    /// Earlier lake versions kept besides the new one.
    pub keep_versions: usize,
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
    let tmp = path.with_extension("json.tmp");
    let mut f = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

/// Rows travel from the reading thread to the merging one in chunks of this many.
const CHUNK_ROWS: usize = 16 * 1024;

/// One thing a reader found, in reading order.
enum Found {
    Interview(InterviewRow),
    Event(EventRow),
    Problem(Problem),
}

enum Message {
    Rows(Vec<Found>),
    /// The file at this index of the run's list is finished (or failed).
    Done(usize, Result<FileStats, FileError>),
}

/// Buffers a reader's rows and sends them on in chunks.
struct ChunkSink<'a> {
    tx: &'a SyncSender<Message>,
    buf: Vec<Found>,
}

impl ChunkSink<'_> {
    fn push(&mut self, item: Found) {
        self.buf.push(item);
        if self.buf.len() >= CHUNK_ROWS {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_ROWS));
            // A closed channel means the merging side stopped on an error: drop the rows.
            let _ = self.tx.send(Message::Rows(chunk));
        }
    }
}

impl RowSink for ChunkSink<'_> {
    fn interview(&mut self, row: InterviewRow) {
        self.push(Found::Interview(row));
    }
    fn event(&mut self, row: EventRow) {
        self.push(Found::Event(row));
    }
    fn problem(&mut self, problem: Problem) {
        self.push(Found::Problem(problem));
    }
}

/// Reads the run's files in order into `merger`. Parsing runs on its own thread and
/// merging on this one, so the two overlap; order is kept by the single channel.
fn read_new_files(files: &[(InputFile, String)], tz: Tz, merger: &mut Merger) -> Result<Vec<FileStats>, FileError> {
    let total_bytes: u64 = files.iter().map(|(f, _)| f.size).sum();
    let bar = crate::logging::progress(total_bytes, "reading");
    let mut stats: Vec<FileStats> = Vec::with_capacity(files.len());
    let (tx, rx) = sync_channel::<Message>(8);
    let result = std::thread::scope(|scope| {
        let reader_bar = bar.clone();
        scope.spawn(move || {
            let mut base = 0u64;
            for (i, (file, _)) in files.iter().enumerate() {
                let mut sink = ChunkSink { tx: &tx, buf: Vec::with_capacity(CHUNK_ROWS) };
                let progress = |pos: u64| reader_bar.set_position(base + pos);
                let read = match file.kind {
                    InputKind::Interviews => csv_reader::read_interviews(file, tz, &mut sink, &progress),
                    InputKind::Events => jsonl_reader::read_events(file, tz, &mut sink, &progress),
                };
                sink.flush();
                base += file.size;
                reader_bar.set_position(base);
                let failed = read.is_err();
                if tx.send(Message::Done(i, read)).is_err() || failed {
                    return;
                }
            }
        });
        for message in rx {
            match message {
                Message::Rows(chunk) => {
                    for found in chunk {
                        match found {
                            Found::Interview(row) => merger.interview(row),
                            Found::Event(row) => merger.event(row),
                            Found::Problem(p) => merger.problem(p),
                        }
                    }
                }
                Message::Done(i, Ok(file_stats)) => {
                    let file = &files[i].0;
                    merger.register_file(&file.rel, file.kind);
                    if bar.is_hidden() {
                        info!(
                            "read {}: {} rows, {} set aside, {} warnings",
                            file.rel, file_stats.rows_read, file_stats.set_aside, file_stats.warnings
                        );
                    }
                    if !file_stats.unknown_columns.is_empty() {
                        warn!("{}: unknown column(s) ignored: {}", file.rel, file_stats.unknown_columns.join(", "));
                    }
                    stats.push(file_stats);
                }
                // Returning drops the receiver, which stops the reading thread.
                Message::Done(_, Err(e)) => return Err(e),
            }
        }
        Ok(())
    });
    bar.finish_and_clear();
    result?;
    if stats.len() != files.len() {
        return Err(FileError::Io {
            file: files.get(stats.len()).map_or_else(String::new, |(f, _)| f.rel.to_string()),
            source: std::io::Error::other("the reading thread stopped early"),
        });
    }
    Ok(stats)
}

/// Runs one ingest: see the module documentation.
pub fn ingest(opts: &IngestOptions) -> anyhow::Result<IngestOutcome> {
    let started = Instant::now();
    let started_at = crate::time::format_utc(crate::time::now());
    let lake = Lake::new(&opts.lake);
    let lock = lake.lock()?;
    let found = files::discover(&opts.raw)?;
    if found.is_empty() {
        warn!("no interviews*.csv or events*.jsonl (or .gz) files under {}", opts.raw.display());
    }

    let previous = lake.current()?;
    let manifest = match &previous {
        Some(snap) => Some(read_manifest(&snap.dir)?),
        None => None,
    };
    let known: HashMap<&str, &SourceFile> =
        manifest.iter().flat_map(|m| m.source_files.iter()).map(|f| (f.sha256.as_str(), f)).collect();

    // Content, not names, decides what is new: a renamed copy of an ingested export is
    // skipped, an export rewritten in place is read again.
    let mut new_files: Vec<(InputFile, String)> = Vec::new();
    let mut skipped = Vec::new();
    let mut hashes_this_run: HashMap<String, String> = HashMap::new();
    for file in found {
        let sha = sha256_file(&file.path).map_err(|source| FileError::Io { file: file.rel.to_string(), source })?;
        if let Some(done) = known.get(sha.as_str()) {
            skipped.push(SkippedFile { path: file.rel.to_string(), sha256: sha, ingested_in: done.run, as_path: done.path.clone() });
        } else if let Some(first) = hashes_this_run.get(&sha) {
            warn!("{} has the same content as {first}: read once", file.rel);
            let next = previous.as_ref().map_or(1, |s| s.version + 1);
            skipped.push(SkippedFile { path: file.rel.to_string(), sha256: sha, ingested_in: next, as_path: first.clone() });
        } else {
            hashes_this_run.insert(sha.clone(), file.rel.to_string());
            new_files.push((file, sha));
        }
    }
    if new_files.is_empty() {
        return Ok(IngestOutcome::Unchanged { version: previous.map(|s| s.version), skipped });
    }

    let mut merger = Merger::new();
    if let Some(snap) = &previous {
        info!("loading lake version {} from {}", snap.version, snap.dir.display());
        writer::load_version(&snap.dir, &mut merger)?;
    }
    merger.begin_run();

    let stats = read_new_files(&new_files, opts.tz, &mut merger)?;

    let merged = merger.finish()?;
    let version = lake_version_number(&lake, previous.as_ref().map(|s| s.version))?;
    let mut run_files = Vec::with_capacity(new_files.len());
    let mut interviews = KindSummary::default();
    let mut events = KindSummary::default();
    for ((file, sha), st) in new_files.iter().zip(&stats) {
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
    events.rows_in_lake = merged.event_rows.len() as u64;
    events.orphans_kept.get_or_insert(0);
    events.orphans_in_lake = Some(merged.orphans_in_lake);

    let mut summary = RunSummary {
        noshow_version: crate::VERSION.to_string(),
        lake_version: version,
        previous_version: previous.as_ref().map(|s| s.version),
        raw: opts.raw.display().to_string(),
        lake: opts.lake.display().to_string(),
        tz: opts.tz.name().to_string(),
        started_at,
        elapsed_seconds: 0.0,
        interviews,
        events,
        files: run_files,
        files_skipped: skipped,
    };
    summary.check().map_err(MergeBug)?;

    let vw = lake.begin_version(&lock)?;
    if vw.number != version {
        bail!("lake {} changed while this run held its lock (version {} expected, {} found)", opts.lake.display(), version, vw.number);
    }
    let info = VersionInfo { lake_version: version };
    let result = (|| -> anyhow::Result<()> {
        let dir = vw.dir();
        let mut tables = std::collections::BTreeMap::new();
        let iv = writer::write_interviews(dir, &merger, &merged.interview_rows, info)?;
        let ev = writer::write_events(dir, &merger, &merged.event_rows, info)?;
        let rj = writer::write_rejected(dir, &merger, info)?;
        for (name, written) in [("interviews", iv), ("events", ev), ("rejected", rj)] {
            let rows = written.iter().map(|w| w.rows).sum();
            tables.insert(name.to_string(), TableEntry { rows, files: written });
        }
        let mut source_files = manifest.as_ref().map(|m| m.source_files.clone()).unwrap_or_default();
        source_files.extend(summary.files.iter().cloned());
        let new_manifest = Manifest {
            format: MANIFEST_FORMAT,
            noshow_version: crate::VERSION.to_string(),
            lake_version: version,
            tables,
            source_files,
        };
        write_atomically(&dir.join("manifest.json"), &serde_json::to_vec_pretty(&new_manifest)?)?;
        summary.elapsed_seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
        write_atomically(&dir.join("summary.json"), &serde_json::to_vec_pretty(&summary)?)?;
        Ok(())
    })();
    if let Err(e) = result {
        // Best effort: the next run removes what is left anyway.
        let _ = fs::remove_dir_all(vw.dir());
        return Err(e);
    }
    let snapshot = vw.commit(opts.keep_versions)?;
    let runs = lake.runs_dir();
    fs::create_dir_all(&runs).with_context(|| format!("creating {}", runs.display()))?;
    let copy = runs.join(format!("ingest-{:06}.json", snapshot.version));
    write_atomically(&copy, &serde_json::to_vec_pretty(&summary)?)?;
    drop(lock);
    Ok(IngestOutcome::Committed(Box::new(summary)))
}

/// The number the next version will get: one past the highest under `versions/`.
fn lake_version_number(lake: &Lake, current: Option<u64>) -> anyhow::Result<u64> {
    let dir = lake.root().join("versions");
    let mut highest = current.unwrap_or(0);
    if let Ok(entries) = fs::read_dir(&dir) {
        for entry in entries {
            let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
            if let Some(n) = entry.file_name().to_str().and_then(|n| n.parse::<u64>().ok()) {
                highest = highest.max(n);
            }
        }
    }
    Ok(highest + 1)
}
