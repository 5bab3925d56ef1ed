//! What an ingest run reports and what a lake version records: the run summary (counts
//! per input kind, the "nothing lost" invariant) and the version's manifest (every
//! source file ever ingested, with its content hash). Pure: rendering returns strings.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::ingest::merge::FileTally;
use crate::ingest::record::InputKind;
use crate::ingest::writer::WrittenFile;

/// Bumped when the manifest's meaning changes.
pub const MANIFEST_FORMAT: u32 = 1;

/// One input file as the lake remembers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceFile {
    /// Path relative to the raw folder, `/`-separated.
    pub path: String,
    /// SHA-256 of the file's bytes as stored (compressed, for `.gz`).
    pub sha256: String,
    pub size: u64,
    pub kind: String,
    pub gzip: bool,
    /// The lake version whose ingest run read this file.
    pub run: u64,
    pub rows_read: u64,
    /// Rows of this file in the lake when that run committed (later runs may replace some).
    pub kept: u64,
    pub duplicates: u64,
    pub set_aside: u64,
    pub warnings: u64,
    #[serde(default)]
    pub unknown_columns: Vec<String>,
    /// Kept events whose interview was in no interview of the lake at that run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orphan_events: Option<u64>,
}

/// One table of a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableEntry {
    pub rows: u64,
    pub files: Vec<WrittenFile>,
}

/// `versions/NNNNNN/manifest.json`. No wall-clock time: the same inputs give the same
/// manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub noshow_version: String,
    pub lake_version: u64,
    pub tables: BTreeMap<String, TableEntry>,
    /// The IANA zone naive timestamps were read in (every run into this lake uses it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
    /// Every file ever ingested into this lake, in the order they were read (run by run).
    pub source_files: Vec<SourceFile>,
}

/// Counts for one input kind in one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KindSummary {
    pub files: u64,
    pub rows_read: u64,
    /// Rows of this run now in the lake.
    pub kept: u64,
    /// Rows of this run that lost deduplication (to this run's rows or the lake's).
    pub duplicates: u64,
    pub set_aside: u64,
    pub set_aside_by_reason: BTreeMap<String, u64>,
    pub warnings: u64,
    pub warnings_by_reason: BTreeMap<String, u64>,
    /// `file: column` for each unknown column that was ignored.
    pub unknown_columns: Vec<String>,
    /// Rows of this table in the new lake version.
    pub rows_in_lake: u64,
    /// Interviews: lake rows replaced by a later version from this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lake_rows_updated: Option<u64>,
    /// Events: this run's kept events whose interview is in no interview of the lake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orphans_kept: Option<u64>,
    /// Events: all events of the new version whose interview is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orphans_in_lake: Option<u64>,
}

impl KindSummary {
    /// Adds one file's counts.
    pub fn add(&mut self, file: &SourceFile, tally: &FileTally) {
        self.files += 1;
        self.rows_read += file.rows_read;
        self.kept += tally.kept;
        self.duplicates += tally.duplicates;
        for (reason, n) in &tally.set_aside {
            self.set_aside += n;
            *self.set_aside_by_reason.entry((*reason).to_string()).or_default() += n;
        }
        for (reason, n) in &tally.warnings {
            self.warnings += n;
            *self.warnings_by_reason.entry((*reason).to_string()).or_default() += n;
        }
        self.unknown_columns.extend(file.unknown_columns.iter().map(|c| format!("{}: {c}", file.path)));
    }

    /// Nothing lost: every row read is kept, a duplicate, or set aside.
    pub fn accounted(&self) -> bool {
        self.rows_read == self.kept + self.duplicates + self.set_aside
    }
}

/// A file found under the raw folder but not read, because the lake already has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedFile {
    pub path: String,
    pub sha256: String,
    /// The lake version whose run ingested the same content, under the name `as_path`.
    pub ingested_in: u64,
    pub as_path: String,
}

/// `summary.json` of a version, and `LAKE/runs/ingest-NNNNNN.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub noshow_version: String,
    pub lake_version: u64,
    pub previous_version: Option<u64>,
    pub raw: String,
    pub lake: String,
    pub tz: String,
    /// Wall-clock start of the run (UTC, RFC 3339).
    pub started_at: String,
    pub elapsed_seconds: f64,
    pub interviews: KindSummary,
    pub events: KindSummary,
    /// The files this run read.
    pub files: Vec<SourceFile>,
    pub files_skipped: Vec<SkippedFile>,
    /// Entries under --raw that nothing read (a misnamed export, a link outside the
    /// folder, a FIFO…), with why.
    #[serde(default)]
    pub not_read: Vec<NotRead>,
    /// Files every row of which was set aside.
    #[serde(default)]
    pub files_with_nothing_kept: Vec<String>,
}

/// One entry of [`RunSummary::not_read`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotRead {
    pub path: String,
    pub why: String,
}

impl RunSummary {
    /// The invariant checked before a version is committed.
    pub fn check(&self) -> Result<(), String> {
        for (name, k) in [("interviews", &self.interviews), ("events", &self.events)] {
            if !k.accounted() {
                return Err(format!(
                    "{name}: {} rows read but {} kept + {} duplicates + {} set aside",
                    k.rows_read, k.kept, k.duplicates, k.set_aside
                ));
            }
        }
        Ok(())
    }
}

/// Parses the kind name written in manifests.
pub fn kind_name(kind: InputKind) -> &'static str {
    kind.as_str()
}

fn by_reason(map: &BTreeMap<String, u64>) -> String {
    map.iter().map(|(r, n)| format!("{r} {n}")).collect::<Vec<_>>().join(", ")
}

/// The short table printed on stderr at the end of a run.
pub fn render_table(s: &RunSummary) -> String {
    let mut out = String::new();
    let before = s.previous_version.map_or("an empty lake".to_string(), |v| format!("version {v}"));
    let _ = writeln!(
        out,
        "ingested {} new file(s) ({} already in the lake) into {} version {} (was {before})",
        s.files.len(),
        s.files_skipped.len(),
        s.lake,
        s.lake_version
    );
    let _ = writeln!(out, "{:<11}{:>6}{:>12}{:>12}{:>12}{:>11}{:>10}{:>12}", "", "files", "read", "kept", "duplicates", "set aside", "warnings", "in lake");
    for (name, k) in [("interviews", &s.interviews), ("events", &s.events)] {
        let _ = writeln!(
            out,
            "{name:<11}{:>6}{:>12}{:>12}{:>12}{:>11}{:>10}{:>12}",
            k.files, k.rows_read, k.kept, k.duplicates, k.set_aside, k.warnings, k.rows_in_lake
        );
    }
    for (name, k) in [("interviews", &s.interviews), ("events", &s.events)] {
        if !k.set_aside_by_reason.is_empty() {
            let _ = writeln!(out, "  {name} set aside: {}", by_reason(&k.set_aside_by_reason));
        }
        if !k.warnings_by_reason.is_empty() {
            let _ = writeln!(out, "  {name} warnings: {}", by_reason(&k.warnings_by_reason));
        }
        if !k.unknown_columns.is_empty() {
            let _ = writeln!(out, "  {name} unknown columns ignored: {}", k.unknown_columns.join(", "));
        }
    }
    if let Some(n) = s.interviews.lake_rows_updated {
        let _ = writeln!(out, "  interviews already in the lake updated by this run: {n}");
    }
    if let (Some(kept), Some(total)) = (s.events.orphans_kept, s.events.orphans_in_lake) {
        let _ = writeln!(out, "  orphan events (no such interview yet): {kept} from this run, {total} in the lake");
    }
    if s.interviews.set_aside + s.events.set_aside > 0 {
        let _ = writeln!(out, "  rows set aside are in {}/rejected/ with file, line, reason and raw text", s.lake);
    }
    for f in &s.files_with_nothing_kept {
        let _ = writeln!(out, "  NOTHING KEPT from {f}: every row was set aside (see the warning above)");
    }
    if !s.not_read.is_empty() {
        let _ = writeln!(out, "  not read ({}):", s.not_read.len());
        for n in &s.not_read {
            let _ = writeln!(out, "    {}: {}", n.path, n.why);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, read: u64) -> SourceFile {
        SourceFile {
            path: path.into(),
            sha256: "00".into(),
            size: 1,
            kind: "interviews".into(),
            gzip: false,
            run: 1,
            rows_read: read,
            kept: 0,
            duplicates: 0,
            set_aside: 0,
            warnings: 0,
            unknown_columns: vec!["colour".into()],
            orphan_events: None,
        }
    }

    #[test]
    fn invariant_catches_a_lost_row() {
        let mut tally = FileTally { kept: 6, duplicates: 2, ..Default::default() };
        tally.set_aside.insert("bad_timestamp", 1);
        tally.warnings.insert("bad_bool", 4);
        let mut k = KindSummary::default();
        k.add(&file("a/interviews.csv", 9), &tally);
        assert!(k.accounted());
        assert_eq!(k.set_aside_by_reason.get("bad_timestamp"), Some(&1));
        assert_eq!(k.warnings, 4);
        assert_eq!(k.unknown_columns, vec!["a/interviews.csv: colour".to_string()]);
        k.add(&file("b/interviews.csv", 1), &FileTally::default());
        assert!(!k.accounted(), "a row read but neither kept, duplicate nor set aside must fail the check");
    }
}
