//! Reader throughput: `cargo run --release --example read_bench -- RAW_DIR_OR_FILE...`
//! reads every input file with the ingest readers into a sink that only counts, and
//! prints rows per second and MB per second for each kind. No lake is written, so the
//! figure is the parsing and validation cost alone.

use std::path::Path;
use std::time::Instant;

use noshow::ingest::files::{classify, discover, InputFile};
use noshow::ingest::record::{EventRow, InputKind, InterviewRow, Problem, RowSink};
use noshow::ingest::{csv_reader, jsonl_reader};

#[derive(Default)]
struct Count {
    kept: u64,
    problems: u64,
    /// Touch what was read so the optimiser cannot skip building it.
    checksum: u64,
}

impl RowSink for Count {
    fn interview(&mut self, row: InterviewRow) {
        self.kept += 1;
        self.checksum = self.checksum.wrapping_add(row.scheduled_at as u64 ^ row.interview_id.len() as u64);
    }
    fn event(&mut self, row: EventRow) {
        self.kept += 1;
        self.checksum = self.checksum.wrapping_add(row.ts as u64 ^ row.event_id.len() as u64);
    }
    fn problem(&mut self, _: Problem) {
        self.problems += 1;
    }
}

fn inputs(arg: &str) -> anyhow::Result<Vec<InputFile>> {
    let path = Path::new(arg);
    if path.is_dir() {
        return Ok(discover(path)?);
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let (kind, gzip) = classify(name).ok_or_else(|| anyhow::anyhow!("{arg}: not an interviews*.csv or events*.jsonl file"))?;
    Ok(vec![InputFile { path: path.to_path_buf(), rel: name.into(), kind, gzip, size: std::fs::metadata(path)?.len(), hash_on_read: true }])
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        anyhow::bail!("usage: read_bench RAW_DIR_OR_FILE...");
    }
    let mut files = Vec::new();
    for a in &args {
        files.extend(inputs(a)?);
    }
    for kind in [InputKind::Interviews, InputKind::Events] {
        let mut sink = Count::default();
        let (mut rows, mut bytes, mut n) = (0u64, 0u64, 0usize);
        let start = Instant::now();
        for f in files.iter().filter(|f| f.kind == kind) {
            let stats = match kind {
                InputKind::Interviews => csv_reader::read_interviews(f, chrono_tz::UTC, &mut sink, &|_| ())?,
                InputKind::Events => jsonl_reader::read_events(f, chrono_tz::UTC, &mut sink, &|_| ())?,
            };
            rows += stats.rows_read;
            bytes += f.size;
            n += 1;
        }
        let secs = start.elapsed().as_secs_f64();
        if n == 0 {
            continue;
        }
        println!(
            "{:10} {n} files, {rows} rows ({} kept, {} problems), {:.1} MB on disk in {secs:.2} s: {:.0} rows/s, {:.0} MB/s (checksum {})",
            kind.as_str(),
            sink.kept,
            sink.problems,
            bytes as f64 / 1e6,
            rows as f64 / secs,
            bytes as f64 / 1e6 / secs,
            sink.checksum % 1000
        );
    }
    Ok(())
}
