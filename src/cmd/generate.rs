//! `noshow generate`: synthetic interview logs in the input format, and their ground
//! truth in a folder of its own that no other command reads.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use anyhow::Context;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};

use crate::flags::GlobalArgs;
use crate::config::Common;
use crate::generate::chunk::{generate_chunk, ChunkOutput, TRUTH_HEADER};
use crate::generate::export_style::{self, Style};
use crate::generate::tally::Tally;
use crate::generate::{world, Plan, INTERVIEW_HEADER, REEXPORT_HEADER};
use crate::time::format_utc;
use crate::{info, usage_error};

/// Writes `interviews-NNN.csv` (one per four weeks of slots), a later
/// `interviews-reexport.csv` and `events-NNN.jsonl` (one per four weeks of event
/// times) under --out, and the ground truth (`truth_interviews.csv`, `effects.json`,
/// `expected.json`) under --truth. Slots span the 26 weeks before --as-of and the 2
/// weeks after it; --tz is the zone of the naive timestamps written. With
/// --outcomes-for, it plays the reminder system instead: the outcomes of the
/// interviews published feeds scored, with a known effect of the help.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder for the raw logs (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Folder for the ground truth [default: OUT-truth, beside OUT]. Never inside OUT.
    #[arg(long, value_name = "DIR")]
    pub truth: Option<PathBuf>,
    /// Number of interviews (1 to 100 million).
    #[arg(long, default_value_t = 5000)]
    pub interviews: u64,
    /// Random seed; the same flags give byte-identical files whatever the thread count.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Inject exactly K bad rows of each kind (set aside by ingest) and K bad optional
    /// values of each kind (kept with a warning); expected.json lists them by reason.
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub bad_rows: u32,
    /// Compress the exports with gzip: `all` (the default when the flag is given
    /// without a value), `events` (only the event exports) or `none`.
    #[arg(long, value_enum, value_name = "WHICH", num_args = 0..=1, default_value = "none", default_missing_value = "all")]
    pub gzip: Gzip,
    /// Worker threads [default: the number of CPUs]. Does not change the output.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Replace earlier generated exports in --out and ground truth in --truth.
    #[arg(long)]
    pub force: bool,
    /// Add X to the log-odds of not attending per week of slot time, counted from
    /// --as-of (0.03: the miss rate climbs over the half year; negative: it falls).
    #[arg(long, value_name = "X", default_value_t = 0.0, allow_negative_numbers = true)]
    pub miss_rate_trend: f64,
    #[command(flatten)]
    pub outcomes: super::generate_outcomes::OutcomeArgs,
    /// How the interview exports look. `v1`: the input format. `hr-export`: as a
    /// Chinese HR system exports them (the style of data/sample-export/): one
    /// 面试记录.xlsx workbook (title row, Chinese headers and status words, a 招聘负责人
    /// column), the re-export as 面试导出.csv in GB18030 with semicolons, and
    /// hr-export.toml, the mapping to ingest them with (--config OUT/hr-export.toml).
    /// Events stay v1; at most 1000000 interviews (one sheet).
    #[arg(long, value_enum, value_name = "STYLE", default_value = "v1")]
    pub style: Style,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Gzip {
    None,
    Events,
    All,
}

pub fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<()> {
    let common = Common::resolve(global)?;
    if !args.outcomes.outcomes_for.is_empty() {
        let truth = args.truth.clone().unwrap_or_else(|| default_truth_dir(&args.out));
        check_apart(&args.out, &truth)?;
        return super::generate_outcomes::run(&args.outcomes, &common, &args.out, &truth, args.seed, args.force);
    }
    let mut plan = Plan::new(args.interviews, args.seed, common.as_of, common.tz, args.bad_rows)
        .map_err(|e| usage_error(e.to_string()))?;
    if !(args.miss_rate_trend.is_finite() && args.miss_rate_trend.abs() <= 1.0) {
        return Err(usage_error(format!("--miss-rate-trend must be between -1 and 1 (log-odds per week), not {}", args.miss_rate_trend)));
    }
    plan.miss_rate_trend = args.miss_rate_trend;
    if args.style == Style::HrExport && args.interviews > export_style::MAX_INTERVIEWS {
        return Err(usage_error(format!("--style hr-export writes one worksheet: at most {} interviews", export_style::MAX_INTERVIEWS)));
    }
    let truth = args.truth.clone().unwrap_or_else(|| default_truth_dir(&args.out));
    check_apart(&args.out, &truth)?;
    prepare_dir(&args.out, args.force, is_generated_export)?;
    prepare_dir(&truth, args.force, is_truth_file)?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
        .max(1);
    info!(
        "generating {} interviews (seed {}, as-of {}, zone {}) into {} with {} threads",
        plan.interviews,
        plan.seed,
        format_utc(plan.as_of),
        plan.tz.name(),
        args.out.display(),
        threads
    );

    let mut sinks = Sinks::open(&plan, &args.out, &truth, args.gzip)?;
    let tally = stream_chunks(&plan, threads, &mut sinks)?;
    let names = sinks.names.clone();
    sinks.finish()?;
    let rewritten = match args.style {
        Style::V1 => None,
        Style::HrExport => {
            let files = plan.files();
            Some(export_style::rewrite(&args.out, &names[..files], &names[files], plan.seed, plan.tz.name())?)
        }
    };

    write_json(&truth.join("effects.json"), &effects_json(&plan, &tally))?;
    let mut expected = expected_json(&plan, args, &tally, &names);
    if let Some(r) = &rewritten {
        r.amend_expected(&mut expected);
    }
    write_json(&truth.join("expected.json"), &expected)?;
    info!(
        "wrote {} interview rows and {} event lines ({} duplicates, {} orphans); ground truth in {}",
        tally.interview_rows_total(),
        tally.event_lines_total(),
        tally.event_duplicates,
        tally.orphan_events,
        truth.display()
    );
    Ok(())
}

/// `data/sample` → `data/sample-truth`.
pub fn default_truth_dir(out: &Path) -> PathBuf {
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "raw".into());
    out.with_file_name(format!("{name}-truth"))
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    let abs = if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir()?.join(p) };
    // Normalise `.` and `..` lexically: the folders may not exist yet.
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    Ok(out)
}

/// The truth must not be read by ingest as raw logs: never inside --out (nor the reverse).
fn check_apart(out: &Path, truth: &Path) -> anyhow::Result<()> {
    let (o, t) = (absolute(out)?, absolute(truth)?);
    if t.starts_with(&o) || o.starts_with(&t) {
        return Err(usage_error(format!(
            "--truth {} must be a folder apart from --out {} (neither inside the other)",
            truth.display(),
            out.display()
        )));
    }
    Ok(())
}

fn is_generated_export(name: &str) -> bool {
    if export_style::is_export_style_file(name) {
        return true;
    }
    let base = name.strip_suffix(".gz").unwrap_or(name);
    (base.starts_with("interviews") && base.ends_with(".csv")) || (base.starts_with("events") && base.ends_with(".jsonl"))
}

fn is_truth_file(name: &str) -> bool {
    matches!(name, "truth_interviews.csv" | "effects.json" | "expected.json")
}

/// Creates `dir`; earlier files of ours in it are an error unless --force removes them,
/// so a smaller run never leaves stale exports behind for ingest to pick up.
fn prepare_dir(dir: &Path, force: bool, ours: fn(&str) -> bool) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !ours(&name) || !entry.path().is_file() {
            continue;
        }
        if !force {
            return Err(usage_error(format!(
                "{} already holds {name}; pass --force to replace earlier generated files",
                dir.display()
            )));
        }
        fs::remove_file(entry.path()).with_context(|| format!("removing {}", entry.path().display()))?;
    }
    Ok(())
}

/// An output file written under a temporary name and renamed once complete.
struct Sink {
    tmp: PathBuf,
    path: PathBuf,
    w: Box<dyn Write + Send>,
}

impl Sink {
    fn open(path: PathBuf, gzip: bool) -> anyhow::Result<Sink> {
        let tmp = path.with_extension(format!("{}.tmp", path.extension().and_then(|e| e.to_str()).unwrap_or("")));
        let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let buf = BufWriter::with_capacity(1 << 20, file);
        let w: Box<dyn Write + Send> = if gzip { Box::new(GzEncoder::new(buf, Compression::fast())) } else { Box::new(buf) };
        Ok(Sink { tmp, path, w })
    }

    fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.w.write_all(bytes).with_context(|| format!("writing {}", self.tmp.display()))
    }

    fn finish(mut self) -> anyhow::Result<()> {
        self.w.flush().with_context(|| format!("writing {}", self.tmp.display()))?;
        // Dropping the encoder writes the gzip trailer; flush above surfaced any error.
        drop(self.w);
        fs::rename(&self.tmp, &self.path).with_context(|| format!("renaming {} to {}", self.tmp.display(), self.path.display()))
    }
}

struct Sinks {
    interviews: Vec<Sink>,
    reexport: Sink,
    events: Vec<Sink>,
    truth: Sink,
    /// File names in the order of `interviews` then `reexport`, then `events`.
    names: Vec<String>,
}

impl Sinks {
    fn open(plan: &Plan, out: &Path, truth: &Path, gzip: Gzip) -> anyhow::Result<Sinks> {
        let gz_iv = gzip == Gzip::All;
        let gz_ev = gzip != Gzip::None;
        let suffix = |gz: bool| if gz { ".gz" } else { "" };
        let mut names = Vec::new();
        let mut interviews = Vec::new();
        for i in 0..plan.files() {
            let name = format!("{}{}", Plan::interview_file_name(i), suffix(gz_iv));
            let mut s = Sink::open(out.join(&name), gz_iv)?;
            if Plan::interview_bom(i) {
                s.write("\u{feff}".as_bytes())?;
            }
            s.write(INTERVIEW_HEADER.as_bytes())?;
            s.write(if Plan::interview_crlf(i) { b"\r\n" } else { b"\n" })?;
            interviews.push(s);
            names.push(name);
        }
        let name = format!("{}{}", Plan::REEXPORT_FILE, suffix(gz_iv));
        let mut reexport = Sink::open(out.join(&name), gz_iv)?;
        reexport.write(REEXPORT_HEADER.as_bytes())?;
        reexport.write(b"\n")?;
        names.push(name);
        let mut events = Vec::new();
        for i in 0..plan.files() {
            let name = format!("{}{}", Plan::events_file_name(i), suffix(gz_ev));
            events.push(Sink::open(out.join(&name), gz_ev)?);
            names.push(name);
        }
        let mut truth = Sink::open(truth.join("truth_interviews.csv"), false)?;
        truth.write(TRUTH_HEADER.as_bytes())?;
        truth.write(b"\n")?;
        Ok(Sinks { interviews, reexport, events, truth, names })
    }

    fn write_chunk(&mut self, c: &ChunkOutput) -> anyhow::Result<()> {
        for (s, b) in self.interviews.iter_mut().zip(&c.interviews) {
            s.write(b)?;
        }
        self.reexport.write(&c.reexport)?;
        for (s, b) in self.events.iter_mut().zip(&c.events) {
            s.write(b)?;
        }
        self.truth.write(&c.truth)
    }

    fn finish(self) -> anyhow::Result<()> {
        let all = self.interviews.into_iter().chain(self.events).chain([self.reexport, self.truth]);
        for s in all {
            s.finish()?;
        }
        Ok(())
    }
}

/// Generates chunks in parallel, a batch at a time, and writes them in chunk order on
/// a writer thread while the next batch is generated.
fn stream_chunks(plan: &Plan, threads: usize, sinks: &mut Sinks) -> anyhow::Result<Tally> {
    let chunks = plan.chunks();
    let batch = (threads as u64 * 2).max(2);
    let bar = crate::logging::progress(plan.interviews, "generate");
    let (tx, rx) = mpsc::sync_channel::<Vec<ChunkOutput>>(1);
    std::thread::scope(|s| {
        let writer = s.spawn(move || -> anyhow::Result<Tally> {
            let mut tally = Tally::new(plan.files());
            for outs in rx {
                for out in outs {
                    sinks.write_chunk(&out)?;
                    tally.merge(&out.tally);
                }
            }
            Ok(tally)
        });
        let mut start = 0u64;
        let mut next_log = 0u64;
        while start < chunks {
            let end = (start + batch).min(chunks);
            let outs = generate_batch(plan, start, end, threads);
            let done = (end * crate::generate::CHUNK_SIZE).min(plan.interviews);
            bar.set_position(done);
            if bar.is_hidden() && done >= next_log {
                info!("generated {done} of {} interviews", plan.interviews);
                next_log = done + (plan.interviews / 10).max(1);
            }
            if tx.send(outs).is_err() {
                // The writer stopped on an error, which join() reports.
                break;
            }
            start = end;
        }
        drop(tx);
        bar.finish_and_clear();
        writer.join().map_err(|_| anyhow::anyhow!("the writer thread panicked"))?
    })
}

fn generate_batch(plan: &Plan, start: u64, end: u64, threads: usize) -> Vec<ChunkOutput> {
    let next = AtomicU64::new(start);
    let mut outs: Vec<(u64, ChunkOutput)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.min((end - start) as usize))
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= end {
                            break mine;
                        }
                        mine.push((i, generate_chunk(plan, i)));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
    });
    outs.sort_by_key(|o| o.0);
    outs.into_iter().map(|o| o.1).collect()
}

fn write_json(path: &Path, value: &Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    let tmp = path.with_extension("json.tmp");
    fs::write(&tmp, text + "\n").with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming {}", tmp.display()))
}

fn sum(c: &crate::generate::tally::Counts) -> u64 {
    c.values().sum()
}

fn expected_json(plan: &Plan, args: &Args, t: &Tally, names: &[String]) -> Value {
    let files = plan.files();
    // `names` lists the interview exports, the re-export, then the event exports.
    let mut iv_files: serde_json::Map<String, Value> =
        names[..files].iter().zip(&t.interview_rows).map(|(n, rows)| (n.clone(), json!(rows))).collect();
    iv_files.insert(names[files].clone(), json!(t.reexport_rows));
    let ev_files: serde_json::Map<String, Value> =
        names[files + 1..].iter().zip(&t.event_lines).map(|(n, rows)| (n.clone(), json!(rows))).collect();
    let iv_set_aside = sum(&t.interview_set_aside);
    let ev_set_aside = sum(&t.event_set_aside);
    json!({
        "about": "Exact accounting of what `noshow generate` wrote. Per kind: rows_read = kept + duplicates + set_aside. \
                  kept counts distinct rows that end in the lake (interviews: one per interview_id; events: one per event_id, \
                  orphans included); duplicates are re-export rows superseding an earlier row (interviews) or identical \
                  second deliveries (events). Warnings are kept rows with a bad optional field (nulled).",
        "noshow_version": crate::VERSION,
        "settings": {
            "interviews": plan.interviews,
            "seed": plan.seed,
            "as_of": format_utc(plan.as_of),
            "tz": plan.tz.name(),
            "bad_rows": plan.bad_rows,
            "gzip": format!("{:?}", args.gzip).to_lowercase(),
            "window_start": format_utc(plan.window_start),
            "window_end": format_utc(plan.window_end),
            "miss_rate_trend": plan.miss_rate_trend,
        },
        "interviews": {
            "files": iv_files,
            "rows_read": t.interview_rows_total(),
            "kept": t.interviews,
            "duplicates": t.reexport_rows,
            "set_aside": iv_set_aside,
            "set_aside_by_reason": t.interview_set_aside,
            "warnings": sum(&t.interview_warnings),
            "warnings_by_reason": t.interview_warnings,
            "warnings_by_field": t.interview_warning_fields,
            "status_recorded": t.status_written,
            "upcoming": t.upcoming,
            "past_still_scheduled": {
                "with_joined_event": t.past_scheduled_joined,
                "without_joined_event": t.past_scheduled_not_joined,
            },
            "quoted_fields": { "with_comma": t.quoted_comma_fields, "with_line_break": t.quoted_newline_fields },
        },
        "events": {
            "files": ev_files,
            "rows_read": t.event_lines_total(),
            "kept": t.events_unique,
            "duplicates": t.event_duplicates,
            "set_aside": ev_set_aside,
            "set_aside_by_reason": t.event_set_aside,
            "warnings": sum(&t.event_warnings),
            "warnings_by_reason": t.event_warnings,
            "warnings_by_field": t.event_warning_fields,
            "orphans": t.orphan_events,
            "integer_ids": t.integer_ids,
            "by_type": t.events_by_type,
        },
    })
}

fn effects_json(plan: &Plan, t: &Tally) -> Value {
    let n = t.interviews.max(1) as f64;
    let outcome = |k: &str| t.outcomes.get(k).copied().unwrap_or(0) as f64 / n;
    let cancel_candidate = outcome("cancelled_by_candidate");
    let cancel_company = outcome("cancelled_by_company");
    let rr: serde_json::Map<String, Value> =
        t.splits.iter().map(|(k, s)| (k.to_string(), json!(s.relative_risk_without()))).collect();
    let share = |c: [u64; 2]| if c[0] > 0 { c[1] as f64 / c[0] as f64 } else { 0.0 };
    json!({
        "about": "The generating model (coefficients on the log-odds of not attending = no-show or candidate \
                  cancellation, given neither a company cancellation nor a reschedule) and the rates it produced \
                  in this run. See docs/generator.md.",
        "model": world::effects(),
        "realised": {
            "interviews": t.interviews,
            "outcome_rates": {
                "attended": outcome("attended"),
                "no_show": outcome("no_show"),
                "cancelled_by_candidate": cancel_candidate,
                "cancelled_by_company": cancel_company,
                "rescheduled": outcome("rescheduled"),
            },
            "cancellation_rate": cancel_candidate + cancel_company,
            "candidate_share_of_cancellations": if cancel_candidate + cancel_company > 0.0 { cancel_candidate / (cancel_candidate + cancel_company) } else { 0.0 },
            "mean_p_not_attend": t.p_not_attend_sum / n,
            "relative_risk_of_not_attending_without": rr,
            "splits": t.splits,
            "link_error_share_of_no_shows": { "technical_roles": share(t.no_shows_technical), "other_roles": share(t.no_shows_other) },
            "events_per_interview": t.events_unique as f64 / n,
            "as_of": format_utc(plan.as_of),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truth_defaults_beside_out() {
        assert_eq!(default_truth_dir(Path::new("data/sample")), PathBuf::from("data/sample-truth"));
        assert_eq!(default_truth_dir(Path::new("/tmp/raw/")), PathBuf::from("/tmp/raw-truth"));
    }

    #[test]
    fn truth_inside_out_is_refused() {
        assert!(check_apart(Path::new("a/raw"), Path::new("a/raw/truth")).is_err());
        assert!(check_apart(Path::new("a/raw"), Path::new("a/raw/../raw")).is_err());
        assert!(check_apart(Path::new("a/raw/x/.."), Path::new("a/raw")).is_err());
        assert!(check_apart(Path::new("a/raw"), Path::new("a/raw-truth")).is_ok());
    }

    #[test]
    fn names_that_ingest_would_read() {
        for n in ["interviews-001.csv", "events-003.jsonl.gz", "interviews-reexport.csv.gz"] {
            assert!(is_generated_export(n), "{n}");
        }
        for n in ["truth_interviews.csv", "interviews-001.csv.tmp", "README.md"] {
            assert!(!is_generated_export(n), "{n}");
        }
    }
}
