//! `noshow inspect`: a dry run of ingest over --raw with the same config. For each
//! file: which `[[input.source]]` (or format v1) claims it, the encoding, delimiter
//! and sheet found, how each header maps, and how many rows would be kept or set
//! aside, by reason, with the first values nothing maps. Reads nothing into the lake
//! and writes nothing at all.

use std::collections::BTreeMap;
use std::io::Write;

use crate::flags::GlobalArgs;
use crate::config::Common;
use crate::ingest::files::{self, FileError};
use crate::ingest::mapped::{self, Sources};
use crate::ingest::record::{EventRow, InputKind, InterviewRow, Problem, RowSink, Severity};
use crate::ingest::{csv_reader, jsonl_reader};

/// Shows how ingest would read every file under --raw, without ingesting anything.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub raw: crate::flags::RawFlag,
    /// How many example values to show per reason.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub examples: usize,
}

/// Counts what a reader hands over.
#[derive(Default)]
struct Tally {
    kept: u64,
    set_aside: BTreeMap<&'static str, u64>,
    warnings: BTreeMap<&'static str, u64>,
    examples: BTreeMap<(bool, &'static str), Vec<String>>,
    max_examples: usize,
}

impl RowSink for Tally {
    fn interview(&mut self, _row: InterviewRow) {
        self.kept += 1;
    }
    fn event(&mut self, _row: EventRow) {
        self.kept += 1;
    }
    fn problem(&mut self, p: Problem) {
        let aside = p.severity == Severity::SetAside;
        let counts = if aside { &mut self.set_aside } else { &mut self.warnings };
        *counts.entry(p.reason).or_default() += 1;
        let examples = self.examples.entry((aside, p.reason)).or_default();
        if examples.len() < self.max_examples {
            examples.push(format!("line {}: {}", p.origin.line, p.detail));
        }
    }
}

pub fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<()> {
    let common = Common::resolve(global)?;
    let raw = args.raw.resolve(&common)?;
    let sources = Sources::from_config(&common.config.input.source)?;
    let (found, skipped) = files::discover_claimed(&raw, &|rel| sources.claim(rel).map(|s| s.kind))?;
    let mut out = std::io::stdout().lock();
    let mut w = |text: String| {
        let _ = writeln!(out, "{text}");
    };
    w(format!("{} file(s) to read under {} (time zone {})", found.len(), raw.display(), common.tz.name()));
    let (mut total_kept, mut total_aside, mut failed) = (0u64, 0u64, 0usize);
    for file in &found {
        let mut tally = Tally { max_examples: args.examples, ..Tally::default() };
        let claimed = sources.claim(&file.rel);
        let result: Result<(files::FileStats, Option<mapped::Layout>), FileError> = match (claimed, file.kind) {
            (Some(source), _) => mapped::read(file, source, common.tz, &mut tally, &|_| {}).map(|(s, l)| (s, Some(l))),
            (None, InputKind::Interviews) => csv_reader::read_interviews(file, common.tz, &mut tally, &|_| {}).map(|s| (s, None)),
            (None, InputKind::Events) => jsonl_reader::read_events(file, common.tz, &mut tally, &|_| {}).map(|s| (s, None)),
        };
        let by = match claimed {
            Some(s) => format!("[[input.source]] {} ({})", s.index + 1, s.config.kind),
            None => format!("format v1 ({})", file.kind.as_str()),
        };
        w(String::new());
        w(format!("{}  <- {by}", file.rel));
        match result {
            Err(e) => {
                failed += 1;
                w(format!("  FILE ERROR: {e}"));
            }
            Ok((stats, layout)) => {
                if let Some(l) = &layout {
                    let mut found = vec![format!("encoding {}", l.encoding)];
                    if let Some(d) = &l.delimiter {
                        found.push(format!("delimiter {d}"));
                    }
                    if let Some(s) = &l.sheet {
                        found.push(format!("sheet {s}"));
                    }
                    w(format!("  {}", found.join(", ")));
                    for (field, header) in &l.mapping {
                        w(format!("  {field:<18} <- {header}"));
                    }
                }
                if !stats.unknown_columns.is_empty() {
                    w(format!("  not read: {}", stats.unknown_columns.join(", ")));
                }
                let aside: u64 = tally.set_aside.values().sum();
                total_kept += tally.kept;
                total_aside += aside;
                w(format!("  rows {}: {} would be kept, {} set aside, {} warnings", stats.rows_read, tally.kept, aside, stats.warnings));
                if tally.kept == 0 && stats.rows_read > 0 {
                    w("  WARNING: every row of this file would be set aside".to_string());
                }
                for (aside, kind, counts) in [(true, "set aside", &tally.set_aside), (false, "warning", &tally.warnings)] {
                    for (reason, n) in counts {
                        w(format!("  {kind} {reason}: {n}"));
                        for e in tally.examples.get(&(aside, *reason)).into_iter().flatten() {
                            w(format!("      {e}"));
                        }
                    }
                }
            }
        }
    }
    if !skipped.is_empty() {
        w(String::new());
        w("not read:".to_string());
        for s in &skipped {
            w(format!("  {}: {}", s.rel, s.why));
        }
    }
    w(String::new());
    w(format!(
        "in all: {total_kept} rows would be kept, {total_aside} set aside; {failed} file(s) with errors; nothing was written"
    ));
    Ok(())
}
