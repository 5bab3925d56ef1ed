//! Hardening (issue #6), with the real binary: hostile input through `noshow ingest`,
//! runs killed at random points of each stage, a read-only folder and a full disk,
//! two runs at once, a tampered model, private outputs, no raw candidate id outside the
//! feed, and CSV that a spreadsheet cannot turn into formulas.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

use crate::workdir::Workdir;

const AS_OF: &str = "2026-11-16T00:00:00Z";

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn assert_no_panic(out: &Output) {
    let t = text(out);
    assert!(!t.contains("panicked") && out.status.code().is_some(), "noshow panicked or was killed: {t}");
}

fn summary(wd: &Workdir) -> serde_json::Value {
    serde_json::from_str(&wd.read("lake/current/summary.json")).expect("summary.json parses")
}

fn n(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

// ---------------------------------------------------------------- hostile input

const HEADER: &str = "interview_id,candidate_id,role,region,education,fresh_graduate,source,preferred_channel,invited_at,scheduled_at,status,cause,no_show_grade,cost,updated_at";

fn row(id: &str, role: &str, invited: &str, scheduled: &str, extra: &str) -> String {
    format!("{id},cand-{id},{role},east,bachelor,true,campus,sms,{invited},{scheduled},attended,,,12.5,{extra}")
}

#[test]
fn hostile_raw_folder_is_ingested_and_every_row_accounted_for() {
    let wd = Workdir::new();
    wd.accept_small_models();
    std::fs::create_dir_all(wd.path("raw/sub")).unwrap();
    let ok_inv = "2026-03-01T09:00:00Z";
    let ok_sch = "2026-03-05T09:00:00Z";
    // Each entry is one CSV record as written (a record may hold a quoted line break);
    // the line ending after it alternates LF / CRLF.
    let records: Vec<String> = vec![
        row("i1", "sales", ok_inv, ok_sch, "2026-03-01T10:00:00Z"),
        row("i2", "销售", ok_inv, ok_sch, ""),
        "i3,cand-i3,sales,east".to_string(),                                   // ragged: too few fields
        format!("{},surplus,fields", row("i4", "sales", ok_inv, ok_sch, "")), // ragged: too many
        row("i5", "sa\0les", ok_inv, ok_sch, ""),                             // NUL byte in a string
        row("i6", "12345", ok_inv, ok_sch, ""),                               // a number where a string belongs
        "i7,cand-i7,sales,east,bachelor,maybe,campus,sms,2026-03-01T09:00:00Z,2026-03-05T09:00:00Z,attended,,,abc,".to_string(), // strings where bool / decimal belong
        row("i8", "sales", "0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z", ""), // year 1
        row("i9", "sales", "9999-12-30T00:00:00Z", "9999-12-31T23:59:59Z", ""), // year 9999
        row("i10", "sales", ok_inv, "2016-12-31T23:59:60Z", ""),                 // leap second (and before invited)
        row("i11", "sales", "2026-03-01 09:00:00", "2026-03-08 02:30:00", ""),  // DST gap in New York: not a timestamp
        row("i12", "sales", "2026-10-20 09:00:00", "2026-11-01 01:30:00", ""),  // DST overlap: the earlier instant
        row("i1", "sales", ok_inv, ok_sch, "2026-03-02T10:00:00Z"),              // i1 again, later: one duplicate
        "i13,cand-i13,\"sales\nmulti-line\",east,,,,,2026-03-01T09:00:00Z,2026-03-05T09:00:00Z,no_show,\"forgot, \"\"really\"\"\",,,".to_string(),
        "i14,cand-i14,\"sales,east,,,,,2026-03-01T09:00:00Z,2026-03-05T09:00:00Z,attended,,,,".to_string(), // quote left open to the end
    ];
    let mut csv = Vec::new();
    csv.extend_from_slice(b"\xEF\xBB\xBF");
    csv.extend_from_slice(HEADER.as_bytes());
    csv.extend_from_slice(b"\r\n\n");
    for (i, r) in records.iter().enumerate() {
        csv.extend_from_slice(r.as_bytes());
        if i + 1 < records.len() {
            csv.extend_from_slice(if i % 2 == 0 { b"\n" } else { b"\r\n" });
        }
    }
    std::fs::write(wd.path("raw/interviews-hostile.csv"), &csv).unwrap();

    let good = |id: &str, iv: &str, ts: &str| format!(r#"{{"event_id":"{id}","interview_id":"{iv}","ts":"{ts}","type":"joined"}}"#);
    let big_line = format!(r#"{{"event_id":"big","interview_id":"i1","ts":"2026-03-05T09:00:00Z","type":"joined","detail":"{}"}}"#, "x".repeat(20 << 20));
    let lines: Vec<String> = vec![
        good("e1", "i1", "2026-03-05T09:01:00Z"),
        r#"{"event_id":42,"interview_id":2,"ts":"2026-03-05T09:01:00Z","type":"joined"}"#.to_string(), // integer ids
        big_line,                                                                                      // 20 MB on one line
        "[".repeat(200_000),                                                                           // deeply nested
        "{\"a\":".repeat(50_000) + "1" + &"}".repeat(50_000),                                         // deeply nested objects
        "{\"event_id\":\"e\0nul\",\"interview_id\":\"i1\",\"ts\":\"2026-03-05T09:01:00Z\",\"type\":\"joined\"}".to_string(), // raw NUL
        r#"{"event_id":"e3","interview_id":"i1","ts":"2026-03-05T09:01:00Z","type":7}"#.to_string(),     // number for an enum
        r#"{"event_id":"e4","interview_id":"i1","ts":"2026-03-05T09:01:00Z","type":"joined","channel":5}"#.to_string(), // optional: warning
        r#"{"event_id":"e5","interview_id":"i1","ts":1772701260,"type":"joined"}"#.to_string(),          // number for a timestamp
        r#"{"event_id":"e6","event_id":"e7","interview_id":"i1","ts":"2026-03-05T09:01:00Z","type":"joined"}"#.to_string(),
        "[1,2,3]".to_string(),
        good("e1", "i1", "2026-03-05T09:02:00Z"), // e1 again: one duplicate
        good("e8", "i1", "2016-12-31T23:59:60Z"), // leap second
        good("e9", "i1", "2026-03-08 02:30:00"),  // DST gap
        good("e10", "i1", "9999-12-31T23:59:59.999999Z"),
        good("e11", "i1", "0001-01-01T00:00:00Z"),
        good("e12", "nobody", "2026-03-05T09:01:00Z"), // an orphan, kept
        r#"{"event_id":"tr"#.to_string(),              // truncated last line, no newline
    ];
    let mut jsonl = Vec::new();
    jsonl.extend_from_slice(b"\xEF\xBB\xBF\n   \n");
    for (i, l) in lines.iter().enumerate() {
        jsonl.extend_from_slice(l.as_bytes());
        if i + 1 < lines.len() {
            jsonl.extend_from_slice(if i % 3 == 0 { b"\r\n" } else { b"\n\n" });
        }
    }
    std::fs::write(wd.path("raw/sub/events-hostile.jsonl"), &jsonl).unwrap();

    let out = wd.output(&["ingest", "--raw", "raw", "--lake", "lake", "--tz", "America/New_York"]);
    assert_no_panic(&out);
    assert!(out.status.success(), "{}", text(&out));
    let s = summary(&wd);
    for (kind, written) in [("interviews", records.len() as u64), ("events", lines.len() as u64)] {
        let k = &s[kind];
        assert_eq!(n(&k["rows_read"]), written, "{kind}: rows read vs rows written: {k}");
        assert_eq!(n(&k["kept"]) + n(&k["duplicates"]) + n(&k["set_aside"]), written, "{kind} not accounted for: {k}");
    }
    let iv = &s["interviews"];
    let ev = &s["events"];
    assert_eq!(n(&iv["duplicates"]), 1, "{iv}");
    assert_eq!(n(&ev["duplicates"]), 1, "{ev}");
    let reasons = |k: &serde_json::Value, r: &str| n(&k["set_aside_by_reason"][r]);
    assert_eq!(reasons(iv, "wrong_field_count"), 2, "{iv}");
    assert_eq!(reasons(iv, "unterminated_quote"), 1, "{iv}");
    assert!(reasons(iv, "bad_timestamp") >= 1, "the DST-gap row is set aside: {iv}");
    assert_eq!(reasons(ev, "line_too_long"), 1, "{ev}");
    assert!(reasons(ev, "invalid_json") >= 3, "nesting, NUL and the truncated line: {ev}");
    assert_eq!(reasons(ev, "duplicate_key"), 1, "{ev}");
    assert_eq!(reasons(ev, "not_an_object"), 1, "{ev}");
    assert!(n(&iv["warnings"]) >= 2 && n(&ev["warnings"]) >= 1, "bad optional values are warnings: {iv} {ev}");

    // What the lake holds agrees with the summary, and no raw text kept for a set-aside
    // row is anywhere near the 20 MB line.
    let rejected = crate::workdir::read_parquet(&wd.path("lake/current/rejected/part-00000.parquet"));
    let severity = rejected.column("severity").unwrap().str().unwrap().clone();
    let set_aside = severity.iter().filter(|s| *s == Some("set_aside")).count() as u64;
    assert_eq!(set_aside, n(&iv["set_aside"]) + n(&ev["set_aside"]));
    let longest = rejected.column("raw").unwrap().str().unwrap().iter().flatten().map(str::len).max().unwrap();
    assert!(longest < 64 << 10, "a set-aside row keeps {longest} bytes of raw text");
    let mut kept_interviews = 0;
    let mut files = Vec::new();
    files_under(&wd.path("lake/current/interviews"), &mut files);
    for f in files {
        kept_interviews += crate::workdir::read_parquet(&f).height() as u64;
    }
    assert_eq!(kept_interviews, n(&iv["rows_in_lake"]));

    // The analyses read the hostile lake without panicking (a run may still refuse, e.g.
    // too little data to train, but with a message and exit 1).
    for args in [
        vec!["report", "--lake", "lake", "--out", "report", "--as-of", AS_OF, "--tz", "America/New_York"],
        vec!["train", "--lake", "lake", "--model", "model", "--as-of", AS_OF],
    ] {
        let out = wd.output(&args);
        assert_no_panic(&out);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{args:?}: {}", text(&out));
    }
}

#[test]
fn broken_gzip_and_non_utf8_files_fail_naming_the_file_and_leave_the_lake() {
    let wd = Workdir::new();
    wd.run(&["generate", "--out", "raw", "--interviews", "300", "--seed", "5", "--as-of", AS_OF]);
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    let before = tree_hashes(&wd.path("lake/current"));
    // A gzip stream cut in half, then a file that is not UTF-8.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(wd.read("raw/interviews-001.csv").as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    std::fs::write(wd.path("raw/interviews-zcut.csv.gz"), &gz[..gz.len() / 2]).unwrap();
    let out = wd.output(&["ingest", "--raw", "raw", "--lake", "lake"]);
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("interviews-zcut.csv.gz"), "{}", text(&out));
    std::fs::remove_file(wd.path("raw/interviews-zcut.csv.gz")).unwrap();
    std::fs::write(wd.path("raw/events-latin1.jsonl"), b"{\"event_id\":\"caf\xE9\"}\n").unwrap();
    let out = wd.output(&["ingest", "--raw", "raw", "--lake", "lake"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("events-latin1.jsonl"), "{}", text(&out));
    assert_eq!(tree_hashes(&wd.path("lake/current")), before, "a failed ingest changed the lake");
    assert!(stray_temps(&wd.path("lake")).is_empty());
}

// ---------------------------------------------------------------- fingerprints

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Keys whose values change from run to run by nature (clock, durations, memory).
const VOLATILE: &[&str] = &["seconds", "elapsed_seconds", "started_at", "created_at", "peak_rss_mib", "content_sha256", "generated_at"];

fn strip_volatile(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for key in VOLATILE {
                map.remove(*key);
            }
            map.values_mut().for_each(strip_volatile);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_volatile),
        _ => {}
    }
}

/// Relative path → SHA-256 of every file below `dir` (following links), JSON with its
/// volatile keys removed; locks are left out.
fn tree_hashes(dir: &Path) -> BTreeMap<String, String> {
    let mut files = Vec::new();
    files_under(dir, &mut files);
    let mut out = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        if rel.ends_with(".lock") {
            continue;
        }
        out.insert(rel, file_hash(&f));
    }
    out
}

/// SHA-256 of a file, JSON with its volatile keys removed ("missing" when absent).
fn file_hash(f: &Path) -> String {
    let Ok(bytes) = std::fs::read(f) else { return "missing".into() };
    let bytes = match (f.extension().and_then(|e| e.to_str()), serde_json::from_slice::<serde_json::Value>(&bytes)) {
        (Some("json"), Ok(mut v)) => {
            strip_volatile(&mut v);
            serde_json::to_vec(&v).unwrap()
        }
        _ => bytes,
    };
    hex::encode(Sha256::digest(&bytes))
}

/// The state of every output a run writes, each compared on its own.
#[derive(Debug, Clone, PartialEq)]
struct Outputs {
    lake: (Option<PathBuf>, BTreeMap<String, String>),
    report: BTreeMap<String, String>,
    model: (Option<PathBuf>, BTreeMap<String, String>),
    scores: BTreeMap<String, String>,
    /// The feed archive in the lake (`LAKE/feeds/`): each day's feed and drift figures.
    feeds: BTreeMap<String, String>,
}

fn outputs(wd: &Workdir) -> Outputs {
    // What readers of the model folder can see: committed versions up to `current`.
    // A staging folder (`.NNNN.tmp-PID`) or a version renamed into place but never made
    // current is invisible, and the next train clears it (checked after recovery).
    let current: u32 = std::fs::read_link(wd.path("model/current"))
        .ok()
        .and_then(|t| t.file_name()?.to_str()?.parse().ok())
        .unwrap_or(0);
    let model_files = {
        let mut m = tree_hashes(&wd.path("model/versions"));
        m.retain(|k, _| k.split('/').next().and_then(|v| v.parse::<u32>().ok()).is_some_and(|n| n <= current));
        for (k, v) in tree_hashes(&wd.path("model/evaluation")) {
            m.insert(format!("evaluation/{k}"), v);
        }
        m.insert("model.json".into(), file_hash(&wd.path("model/model.json")));
        m
    };
    Outputs {
        lake: (std::fs::read_link(wd.path("lake/current")).ok(), tree_hashes(&wd.path("lake/current"))),
        report: tree_hashes(&wd.path("out/report")),
        model: (std::fs::read_link(wd.path("model/current")).ok(), model_files),
        scores: tree_hashes(&wd.path("out/scores")),
        feeds: {
            let mut f = tree_hashes(&wd.path("lake/feeds"));
            f.retain(|k, _| k.ends_with(".parquet") || k.ends_with(".json"));
            f
        },
    }
}

/// Fails naming the outputs and files that differ (the whole fingerprint is too long to print).
fn assert_same(got: &Outputs, want: &Outputs, what: &str) {
    fn diff(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
        let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        keys.into_iter().filter(|k| a.get(*k) != b.get(*k)).cloned().collect()
    }
    let mut problems = Vec::new();
    if got.lake.0 != want.lake.0 {
        problems.push(format!("lake/current -> {:?}, expected {:?}", got.lake.0, want.lake.0));
    }
    if got.model.0 != want.model.0 {
        problems.push(format!("model/current -> {:?}, expected {:?}", got.model.0, want.model.0));
    }
    for (name, a, b) in [("lake", &got.lake.1, &want.lake.1), ("report", &got.report, &want.report), ("model", &got.model.1, &want.model.1), ("scores", &got.scores, &want.scores), ("feeds", &got.feeds, &want.feeds)] {
        let d = diff(a, b);
        if !d.is_empty() {
            problems.push(format!("{name}: {d:?}"));
        }
    }
    assert!(problems.is_empty(), "{what}: outputs differ: {}", problems.join("; "));
}

/// Temp files and folders left under `dir` (by a killed or failed run).
fn stray_temps(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    fn walk(dir: &Path, found: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.contains(".tmp") || name.contains(".old-") {
                found.push(entry.path().display().to_string());
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&entry.path(), found);
            }
        }
    }
    walk(dir, &mut found);
    found
}

fn copy_tree(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    let status = std::process::Command::new("cp").arg("-a").arg(from).arg(to).status().unwrap();
    assert!(status.success());
}

// ---------------------------------------------------------------- kills

fn run_args() -> Vec<&'static str> {
    vec!["run", "--raw", "raw", "--lake", "lake", "--out", "out", "--model", "model", "--as-of", AS_OF, "-q"]
}

fn kill_after(mut child: Child, delay: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < delay {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill(); // SIGKILL: no destructor, no cleanup runs
    let _ = child.wait();
    true
}

/// How many kills per stage: `NOSHOW_HARDEN_KILLS` (default 2, to stay quick in debug
/// builds; docs/reliability.md gives the figures of a run with 10).
fn kills_per_stage() -> usize {
    std::env::var("NOSHOW_HARDEN_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(2)
}

#[test]
fn killed_runs_leave_old_or_new_outputs_and_the_next_run_recovers() {
    let wd = Workdir::new();
    wd.accept_small_models();
    wd.run(&["generate", "--out", "gen", "--interviews", "1500", "--seed", "11", "--as-of", AS_OF, "--bad-rows", "2"]);
    // State A: everything but the last exports; state B: all of them.
    std::fs::create_dir_all(wd.path("raw")).unwrap();
    let mut held_back = Vec::new();
    for entry in std::fs::read_dir(wd.path("gen")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.contains("reexport") || name.contains("-007") {
            held_back.push(name);
        } else {
            std::fs::copy(wd.path(&format!("gen/{name}")), wd.path(&format!("raw/{name}"))).unwrap();
        }
    }
    assert!(held_back.len() >= 2);
    wd.run(&run_args());
    let a = outputs(&wd);
    for dir in ["lake", "out", "model"] {
        copy_tree(&wd.path(dir), &wd.path(&format!("saved-a/{dir}")));
    }
    for name in &held_back {
        std::fs::copy(wd.path(&format!("gen/{name}")), wd.path(&format!("raw/{name}"))).unwrap();
    }
    wd.run(&run_args());
    let b = outputs(&wd);
    assert_ne!(a.lake, b.lake);
    assert_ne!(a.report, b.report);
    assert_ne!(a.model, b.model);
    assert_ne!(a.scores, b.scores);
    assert_ne!(a.feeds, b.feeds, "the feed archive is among the outputs the kills check");
    // How long each stage takes, from the run log.
    let mut logs: Vec<PathBuf> = std::fs::read_dir(wd.path("lake/runs")).unwrap().map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("run-")).collect();
    logs.sort();
    let log: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(logs.last().unwrap()).unwrap()).unwrap();
    let windows: Vec<(String, f64)> = log["stages"].as_array().unwrap().iter()
        .map(|s| (s["stage"].as_str().unwrap().to_string(), s["seconds"].as_f64().unwrap()))
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
    let mut tally: BTreeMap<String, (usize, usize)> = BTreeMap::new(); // stage → (kills, outputs that were new)
    for (stage, secs) in &windows {
        for _ in 0..kills_per_stage() {
            for dir in ["lake", "out", "model"] {
                copy_tree(&wd.path(&format!("saved-a/{dir}")), &wd.path(dir));
            }
            // The run announces each stage on stderr: kill at a random point after the
            // announcement of this one, within its measured length.
            let delay = rng.random_range(0.0..secs.max(0.01));
            let mut args = run_args();
            args.retain(|a| *a != "-q");
            let mut child = wd.command(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
            let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
            let announce = format!("run: stage {stage}");
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in stderr.lines().map_while(Result::ok) {
                    if line.contains(&announce) && !line.contains(" done ") {
                        let _ = tx.send(());
                    }
                }
            });
            let reached = rx.recv_timeout(Duration::from_secs(300)).is_ok();
            assert!(reached, "the run never reached stage {stage}");
            let killed = kill_after(child, Duration::from_secs_f64(delay));
            let now = outputs(&wd);
            let mut newer = 0;
            for (name, got, old, new) in [
                ("lake", format!("{:?}", now.lake), format!("{:?}", a.lake), format!("{:?}", b.lake)),
                ("report", format!("{:?}", now.report), format!("{:?}", a.report), format!("{:?}", b.report)),
                ("model", format!("{:?}", now.model), format!("{:?}", a.model), format!("{:?}", b.model)),
                ("scores", format!("{:?}", now.scores), format!("{:?}", a.scores), format!("{:?}", b.scores)),
                ("feeds", format!("{:?}", now.feeds), format!("{:?}", a.feeds), format!("{:?}", b.feeds)),
            ] {
                assert!(got == old || got == new, "kill in {stage} after {delay:.2} s: {name} is neither the old nor the new version:\n{got}");
                newer += usize::from(got == new && old != new);
            }
            let entry = tally.entry(stage.clone()).or_default();
            entry.0 += usize::from(killed);
            entry.1 += newer;
            // The next run recovers with no manual step, to exactly the uninterrupted result.
            wd.run(&run_args());
            assert_same(&outputs(&wd), &b, &format!("recovery after a kill in {stage}"));
            for dir in ["lake", "out", "model"] {
                let left = stray_temps(&wd.path(dir));
                assert!(left.is_empty(), "temp files left after recovery: {left:?}");
            }
        }
    }
    eprintln!("kills per stage (kills, outputs already new): {tally:?}");
    assert!(tally.values().map(|t| t.0).sum::<usize>() >= windows.len(), "too few runs were actually killed: {tally:?}");
}

#[test]
fn killed_single_commands_leave_old_or_new_outputs() {
    let wd = Workdir::new();
    wd.accept_small_models();
    wd.run(&["generate", "--out", "raw", "--interviews", "1200", "--seed", "3", "--as-of", AS_OF]);
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    wd.run(&["report", "--lake", "lake", "--out", "out/report", "--as-of", AS_OF, "-q"]);
    wd.run(&["train", "--lake", "lake", "--model", "model", "--as-of", AS_OF, "-q"]);
    wd.run(&["score", "--lake", "lake", "--model", "model", "--out", "out/scores", "--as-of", AS_OF, "-q"]);
    let a = outputs(&wd);
    // Another as-of changes every output but the lake.
    let later = "2026-11-23T00:00:00Z";
    let commands: Vec<Vec<&str>> = vec![
        vec!["report", "--lake", "lake", "--out", "out/report", "--as-of", later, "-q"],
        vec!["train", "--lake", "lake", "--model", "model", "--as-of", later, "-q"],
        vec!["score", "--lake", "lake", "--model", "model", "--out", "out/scores", "--as-of", later, "-q"],
    ];
    for dir in ["out/report", "model", "out/scores"] {
        copy_tree(&wd.path(dir), &wd.path(&format!("saved-a/{dir}")));
    }
    let mut durations = Vec::new();
    for c in &commands {
        let t = Instant::now();
        wd.run(c);
        durations.push(t.elapsed().as_secs_f64());
    }
    let b = outputs(&wd);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
    // Each command is killed over the others' new outputs, as in a weekly run.
    for ((c, secs), writes) in commands.iter().zip(&durations).zip(["out/report", "model", "out/scores"]) {
        for _ in 0..kills_per_stage() {
            copy_tree(&wd.path(&format!("saved-a/{writes}")), &wd.path(writes));
            let delay = rng.random_range(0.0..*secs);
            let child = wd.command(c).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
            kill_after(child, Duration::from_secs_f64(delay));
            let now = outputs(&wd);
            // Each output on its own is the old or the new one.
            let what = format!("{c:?} killed after {delay:.2} s");
            let pick = |old: bool| if old { &a } else { &b };
            let mixed = Outputs {
                lake: a.lake.clone(),
                report: pick(writes == "out/report" && now.report == a.report).report.clone(),
                model: pick(writes == "model" && now.model == a.model).model.clone(),
                scores: pick(writes == "out/scores" && now.scores == a.scores).scores.clone(),
                // Written by score alone, before its feed folder.
                feeds: pick(writes == "out/scores" && now.feeds == a.feeds).feeds.clone(),
            };
            assert_same(&now, &mixed, &what);
            wd.run(c);
            assert_same(&outputs(&wd), &b, &format!("recovery after {what}"));
            assert!(stray_temps(&wd.path("out")).is_empty() && stray_temps(&wd.path("model")).is_empty());
        }
    }
}

// ---------------------------------------------------------------- read-only, disk full

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn unwritable_output_folder_fails_clearly_and_leaves_the_old_outputs() {
    let wd = Workdir::new();
    wd.run(&["generate", "--out", "raw", "--interviews", "600", "--seed", "4", "--as-of", AS_OF]);
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    // A path under a plain file cannot be created, even by root.
    std::fs::write(wd.path("blocker"), "a file").unwrap();
    let out = wd.output(&["report", "--lake", "lake", "--out", "blocker/report", "--as-of", AS_OF]);
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("blocker"), "the error names the path: {}", text(&out));
    assert_eq!(wd.read("blocker"), "a file");

    // A read-only parent folder: permission bits (not root), or the immutable attribute (root).
    wd.run(&["report", "--lake", "lake", "--out", "ro/report", "--as-of", AS_OF, "-q"]);
    let before = tree_hashes(&wd.path("ro"));
    let ro = wd.path("ro");
    let locked = if is_root() {
        std::process::Command::new("chattr").arg("+i").arg(&ro).status().is_ok_and(|s| s.success())
    } else {
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).is_ok()
    };
    if !locked {
        eprintln!("read-only variant skipped: running as root where chattr +i is not allowed");
        return;
    }
    let out = wd.output(&["report", "--lake", "lake", "--out", "ro/report", "--as-of", "2026-11-23T00:00:00Z"]);
    if is_root() {
        let _ = std::process::Command::new("chattr").arg("-i").arg(&ro).status();
    } else {
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("ro/"), "the error names the path: {}", text(&out));
    assert_eq!(tree_hashes(&ro), before, "the previous report changed");
    wd.run(&["report", "--lake", "lake", "--out", "ro/report", "--as-of", "2026-11-23T00:00:00Z", "-q"]);
    assert!(stray_temps(&ro).is_empty(), "{:?}", stray_temps(&ro));
}

/// `noshow ARGS` with files capped at `blocks` × 512 bytes (RLIMIT_FSIZE): a write past
/// the cap fails with EFBIG, as on a full disk (SIGXFSZ is ignored so the write errors
/// instead of killing the process).
fn with_file_size_limit(wd: &Workdir, blocks: u64, args: &[&str]) -> Output {
    let script = format!("trap '' XFSZ; ulimit -f {blocks} && exec \"$0\" \"$@\"");
    let mut sh = std::process::Command::new("sh");
    sh.current_dir(wd.root())
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_noshow"))
        .args(args)
        .env("NOSHOW_PSEUDONYM_KEY", "test-key-0123456789abcdef")
        .env_remove("NOSHOW_PSEUDONYM_KEY_FILE");
    sh.output().unwrap()
}

#[test]
fn full_disk_fails_clearly_and_leaves_the_old_outputs() {
    let wd = Workdir::new();
    wd.accept_small_models();
    wd.run(&["generate", "--out", "raw", "--interviews", "800", "--seed", "4", "--as-of", AS_OF]);
    // Ingest into a fresh lake: no version may appear.
    let out = with_file_size_limit(&wd, 16, &["ingest", "--raw", "raw", "--lake", "lake"]);
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("File too large") && t.contains("lake"), "{t}");
    assert!(std::fs::read_link(wd.path("lake/current")).is_err(), "a half-written lake became current");
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    assert!(stray_temps(&wd.path("lake")).is_empty(), "{:?}", stray_temps(&wd.path("lake")));

    // Report, train and score over earlier outputs: those stay as they were.
    wd.run(&["report", "--lake", "lake", "--out", "out/report", "--as-of", AS_OF, "-q"]);
    wd.run(&["train", "--lake", "lake", "--model", "model", "--as-of", AS_OF, "-q"]);
    wd.run(&["score", "--lake", "lake", "--model", "model", "--out", "out/scores", "--as-of", AS_OF, "-q"]);
    let mut before = outputs(&wd);
    let later = "2026-11-23T00:00:00Z";
    for args in [
        vec!["report", "--lake", "lake", "--out", "out/report", "--as-of", later],
        vec!["train", "--lake", "lake", "--model", "model", "--as-of", later],
        vec!["score", "--lake", "lake", "--model", "model", "--out", "out/scores", "--as-of", later],
    ] {
        let out = with_file_size_limit(&wd, 4, &args);
        assert_no_panic(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("File too large"), "{args:?}: {}", text(&out));
        assert_same(&outputs(&wd), &before, &format!("{args:?} on a full disk"));
        wd.run(&args);
        before = outputs(&wd);
    }
    for dir in ["lake", "out", "model"] {
        assert!(stray_temps(&wd.path(dir)).is_empty(), "{:?}", stray_temps(&wd.path(dir)));
    }
}

// ---------------------------------------------------------------- concurrency

/// Starts `first`, waits until it holds `lock` (the file exists and cannot be locked),
/// then runs `second` and returns both outputs.
fn race(wd: &Workdir, first: &[&str], lock: &str, second: &[&str]) -> (Output, Output) {
    let child = wd.command(first).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "{first:?} never took {lock}");
        if let Ok(f) = std::fs::File::options().write(true).open(wd.path(lock)) {
            if fs2::FileExt::try_lock_exclusive(&f).is_err() {
                break;
            }
            let _ = fs2::FileExt::unlock(&f);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let second = wd.output(second);
    (child.wait_with_output().unwrap(), second)
}

#[test]
fn a_second_run_ingest_or_train_at_once_refuses_clearly() {
    let wd = Workdir::new();
    wd.accept_small_models();
    wd.run(&["generate", "--out", "raw", "--interviews", "1500", "--seed", "9", "--as-of", AS_OF]);
    let (first, second) = race(&wd, &run_args(), "lake/.run.lock", &run_args());
    assert!(first.status.success(), "{}", text(&first));
    assert_eq!(second.status.code(), Some(1), "{}", text(&second));
    assert!(text(&second).contains("another `noshow run` is in progress"), "{}", text(&second));
    let versions: Vec<_> = std::fs::read_dir(wd.path("lake/versions")).unwrap().collect();
    assert_eq!(versions.len(), 1, "the lake was written twice");
    let logs = std::fs::read_dir(wd.path("lake/runs")).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("run-")).count();
    assert_eq!(logs, 1, "the refused run wrote a run log");

    // Two ingests into a new lake.
    let ingest = ["ingest", "--raw", "raw", "--lake", "lake2"];
    let (first, second) = race(&wd, &ingest, "lake2/.lock", &ingest);
    assert!(first.status.success(), "{}", text(&first));
    assert_eq!(second.status.code(), Some(1), "{}", text(&second));
    assert!(text(&second).contains("another noshow run is writing the lake"), "{}", text(&second));
    assert_eq!(std::fs::read_dir(wd.path("lake2/versions")).unwrap().count(), 1);

    // Two trains on one model folder.
    let train = ["train", "--lake", "lake", "--model", "model2", "--as-of", AS_OF];
    let (first, second) = race(&wd, &train, "model2/.train.lock", &train);
    assert!(first.status.success(), "{}", text(&first));
    assert_eq!(second.status.code(), Some(1), "{}", text(&second));
    assert!(text(&second).contains("another `noshow train` is in progress"), "{}", text(&second));
    assert_eq!(std::fs::read_dir(wd.path("model2/versions")).unwrap().count(), 1);
}

// ---------------------------------------------------------------- tampered model

#[test]
fn an_edited_or_foreign_model_is_refused_before_scoring() {
    let wd = Workdir::new();
    wd.accept_small_models();
    wd.run(&["generate", "--out", "raw", "--interviews", "1200", "--seed", "2", "--as-of", AS_OF]);
    wd.run(&["run", "--raw", "raw", "--lake", "lake", "--out", "out", "--model", "model", "--as-of", AS_OF, "-q"]);
    let original = wd.read("model/model.json");
    let model: serde_json::Value = serde_json::from_str(&original).unwrap();
    let cases: Vec<(&str, Box<dyn Fn(&mut serde_json::Value)>, &str)> = vec![
        ("edited coefficient", Box::new(|m| {
            let coefs = m["coefficients"].as_object_mut().unwrap();
            let first = coefs.keys().next().unwrap().clone();
            coefs[&first] = serde_json::json!(coefs[&first].as_f64().unwrap() + 0.5);
        }), "model.json"),
        ("another major version", Box::new(|m| m["noshow_version"] = serde_json::json!("99.0.0")), "99.0.0"),
        ("not a model", Box::new(|m| m["format"] = serde_json::json!("something-else")), "model.json"),
    ];
    for (what, edit, needle) in cases {
        let mut edited = model.clone();
        edit(&mut edited);
        std::fs::write(wd.path("model/model.json"), serde_json::to_string_pretty(&edited).unwrap()).unwrap();
        let out = wd.output(&["score", "--lake", "lake", "--model", "model", "--out", "feed", "--as-of", AS_OF]);
        assert_no_panic(&out);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out));
        let t = text(&out);
        assert!(t.contains("refusing model") && t.contains(needle), "{what}: {t}");
        assert!(!wd.path("feed").exists(), "{what}: a feed was written");
    }
    std::fs::write(wd.path("model/model.json"), &original).unwrap();
    wd.run(&["score", "--lake", "lake", "--model", "model", "--out", "feed", "--as-of", AS_OF, "-q"]);
}

// ---------------------------------------------------------------- privacy, permissions

/// Header names as the input format matches them: trimmed, any case, BOM ignored.
fn same_column(header: &str, name: &str) -> bool {
    header.trim_start_matches('\u{feff}').trim().eq_ignore_ascii_case(name)
}

fn tokens(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}


#[test]
fn no_raw_candidate_id_outside_the_feed_and_every_output_is_private() {
    let wd = Workdir::new();
    wd.accept_small_models();
    let mut printed: Vec<(String, Vec<u8>)> = Vec::new();
    let mut record = |name: &str, out: Output| {
        assert!(out.status.success(), "{name}: {}", text(&out));
        printed.push((format!("{name} stdout"), out.stdout));
        printed.push((format!("{name} stderr"), out.stderr));
    };
    record("generate", wd.output(&["generate", "--out", "raw", "--interviews", "1200", "--seed", "13", "--as-of", AS_OF, "--bad-rows", "3"]));
    // Raw ids, read straight from the generated exports.
    let mut ids = HashSet::new();
    let mut raw_files = Vec::new();
    files_under(&wd.path("raw"), &mut raw_files);
    for f in raw_files.iter().filter(|f| f.extension().is_some_and(|e| e == "csv")) {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(f).unwrap();
        let at = reader.headers().unwrap().iter().position(|h| same_column(h, "candidate_id")).unwrap();
        for rec in reader.records().flatten() {
            if let Some(id) = rec.get(at).filter(|id| id.len() >= 4) {
                ids.insert(id.trim().to_string());
            }
        }
    }
    assert!(ids.len() > 300, "{} ids", ids.len());
    record("ingest", wd.output(&["ingest", "--raw", "raw", "--lake", "lake"]));
    // The report with its candidate-level table (the key comes from the Workdir's environment).
    // (Its own folder: `run` below replaces out/report.)
    record("report", wd.output(&["report", "--lake", "lake", "--out", "out/report-rows", "--as-of", AS_OF, "--interview-table"]));
    record("train", wd.output(&["train", "--lake", "lake", "--model", "model", "--as-of", AS_OF]));
    record("score", wd.output(&["score", "--lake", "lake", "--model", "model", "--out", "out/scores", "--as-of", AS_OF]));
    record("run", wd.output(&run_args()));
    // Without any key the report still works: it writes no candidate-level table.
    let mut no_key = wd.command(&["report", "--lake", "lake", "--out", "out/report-nokey", "--as-of", AS_OF]);
    no_key.env_remove("NOSHOW_PSEUDONYM_KEY");
    record("report without key", no_key.output().unwrap());
    // Asked for the candidate-level table without a key, it refuses (usage error) and
    // writes nothing, rather than fall back to raw ids.
    let mut refused = wd.command(&["report", "--lake", "lake", "--out", "out/report-refused", "--as-of", AS_OF, "--interview-table"]);
    refused.env_remove("NOSHOW_PSEUDONYM_KEY").env_remove("NOSHOW_PSEUDONYM_KEY_FILE");
    let refused = refused.output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("NOSHOW_PSEUDONYM_KEY"), "{}", text(&refused));
    assert!(!wd.path("out/report-refused").exists());
    // The table is there, pseudonymised: every candidate as c_ + 16 hex digits.
    let rows = crate::workdir::read_parquet(&wd.path("out/report-rows/interviews.parquet"));
    assert!(rows.column("candidate_id").is_err());
    let pseudonyms = rows.column("candidate_pseudonym").unwrap().str().unwrap().clone();
    assert!(pseudonyms.len() > 500);
    assert!(pseudonyms.iter().flatten().all(|p| p.len() == 18 && p.starts_with("c_")));
    // The same closed interviews the rate tables count.
    let overall = crate::workdir::read_parquet(&wd.path("out/report-rows/overall.parquet"));
    let count = |name: &str| overall.column(name).unwrap().cast(&polars::prelude::DataType::Int64).unwrap().i64().unwrap().get(0).unwrap();
    assert_eq!(rows.height() as i64, count("interviews"));
    let no_shows = rows.column("status").unwrap().str().unwrap().iter().filter(|s| *s == Some("no_show")).count();
    assert_eq!(no_shows as i64, count("no_shows"));

    for (name, bytes) in &printed {
        for t in tokens(bytes) {
            assert!(!ids.contains(&t), "{name} prints raw candidate id {t}");
        }
    }
    // Everything written outside the lake's data and the feed: report, model, the lake's
    // run logs, summaries and manifests.
    let mut files = Vec::new();
    for dir in ["out/report", "out/report-rows", "out/report-nokey", "model", "lake/runs"] {
        files_under(&wd.path(dir), &mut files);
    }
    for version in std::fs::read_dir(wd.path("lake/versions")).unwrap() {
        let v = version.unwrap().path();
        files.push(v.join("summary.json"));
        files.push(v.join("manifest.json"));
    }
    let mut checked = 0;
    for path in &files {
        let texts = match path.extension().and_then(|e| e.to_str()) {
            Some("parquet") => crate::workdir::parquet_strings(path),
            _ => tokens(&std::fs::read(path).unwrap()),
        };
        for t in texts {
            assert!(!ids.contains(&t), "{} holds raw candidate id {t}", path.display());
        }
        checked += 1;
    }
    assert!(checked > 40, "only {checked} files checked");

    // Nothing under the outputs is open to other users (symbolic links have no mode of their own).
    let mut all = Vec::new();
    fn walk(dir: &Path, all: &mut Vec<PathBuf>) {
        all.push(dir.to_path_buf());
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let t = entry.file_type().unwrap();
            if t.is_dir() {
                walk(&entry.path(), all);
            } else if !t.is_symlink() {
                all.push(entry.path());
            }
        }
    }
    for dir in ["lake", "out", "model"] {
        walk(&wd.path(dir), &mut all);
    }
    assert!(all.len() > 60);
    for path in all {
        let mode = std::fs::symlink_metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} has mode {mode:o}", path.display());
    }
}

// ---------------------------------------------------------------- spreadsheet safety

#[test]
fn formula_like_values_come_out_prefixed_in_every_csv() {
    let wd = Workdir::new();
    wd.accept_small_models();
    wd.run(&["generate", "--out", "gen", "--interviews", "1500", "--seed", "21", "--as-of", AS_OF]);
    // Rewrite role, region and cause so each value starts with a formula character.
    // (Leading tabs and carriage returns cannot reach the lake: the input format trims
    // every value; `export::csv_safe`'s unit test covers them.)
    std::fs::create_dir_all(wd.path("raw")).unwrap();
    let prefixes = ['=', '+', '-', '@'];
    let mut gen_files = Vec::new();
    files_under(&wd.path("gen"), &mut gen_files);
    let mut injected = HashSet::new();
    for f in gen_files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".csv") {
            std::fs::copy(&f, wd.path(&format!("raw/{name}"))).unwrap();
            continue;
        }
        let mut reader = csv::ReaderBuilder::new().from_path(&f).unwrap();
        let headers = reader.headers().unwrap().clone();
        let cols: Vec<usize> = ["role", "region", "cause"].iter().map(|c| headers.iter().position(|h| same_column(h, c)).unwrap()).collect();
        let mut writer = csv::Writer::from_path(wd.path(&format!("raw/{name}"))).unwrap();
        writer.write_record(&headers).unwrap();
        for rec in reader.records() {
            let rec = rec.unwrap();
            let fields: Vec<String> = rec.iter().enumerate().map(|(i, v)| {
                match cols.iter().position(|&c| c == i) {
                    Some(k) if !v.is_empty() => {
                        let p = prefixes[(v.len() + k) % prefixes.len()];
                        let value = format!("{p}{v}");
                        injected.insert(value.clone());
                        value
                    }
                    _ => v.to_string(),
                }
            }).collect();
            writer.write_record(&fields).unwrap();
        }
        writer.flush().unwrap();
    }
    assert!(injected.iter().any(|v| v.starts_with('=')) && injected.iter().any(|v| v.starts_with('@')));
    wd.run(&run_args());

    let mut csvs = Vec::new();
    for dir in ["out", "model/evaluation"] {
        files_under(&wd.path(dir), &mut csvs);
    }
    csvs.retain(|p| p.extension().is_some_and(|e| e == "csv"));
    assert!(csvs.iter().any(|p| p.ends_with("scores.csv")) && csvs.iter().any(|p| p.ends_with("rates_by_role.csv")));
    assert!(csvs.iter().any(|p| p.to_string_lossy().contains("evaluation")));
    let mut defused = 0;
    for path in &csvs {
        let bytes = std::fs::read(path).unwrap();
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&bytes);
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(body);
        for rec in reader.records() {
            for cell in rec.unwrap().iter() {
                let dangerous = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
                // A number such as -0.25 is a number in a spreadsheet, not a formula.
                assert!(!dangerous || cell.parse::<f64>().is_ok(), "{}: cell {cell:?} could run as a formula", path.display());
                if cell.starts_with('\'') && injected.contains(&cell[1..]) {
                    defused += 1;
                }
            }
        }
    }
    assert!(defused > 20, "only {defused} injected values seen (prefixed) in the CSVs");
    let roles = wd.read("out/report/rates_by_role.csv");
    assert!(prefixes.iter().all(|p| roles.contains(&format!("'{p}"))), "{roles}");
}

// ---------------------------------------------------------------- readers on arbitrary bytes

mod arbitrary_bytes {
    //! The fuzz targets' check as a property test that runs with `cargo test`: the
    //! readers never panic on any bytes, and when they read a file every row is kept or
    //! set aside exactly once. Inputs are raw bytes or glued-together fragments of the
    //! format (quotes, separators, line ends, BOM, NUL, timestamps at the edges).
    use std::sync::Arc;

    use noshow::ingest::files::{classify, InputFile};
    use noshow::ingest::record::{EventRow, InterviewRow, Problem, RowSink, Severity};
    use proptest::prelude::*;

    #[derive(Default)]
    struct Counting {
        kept: u64,
        set_aside: u64,
        warnings: u64,
    }

    impl RowSink for Counting {
        fn interview(&mut self, _: InterviewRow) {
            self.kept += 1;
        }
        fn event(&mut self, _: EventRow) {
            self.kept += 1;
        }
        fn problem(&mut self, p: Problem) {
            match p.severity {
                Severity::SetAside => self.set_aside += 1,
                Severity::Warning => self.warnings += 1,
            }
        }
    }

    const FRAGMENTS: &[&str] = &[
        "interview_id,candidate_id,role,region,education,fresh_graduate,source,preferred_channel,invited_at,scheduled_at,status,cause,no_show_grade,cost,updated_at\n",
        "i1,c1,sales,east,bachelor,true,campus,sms,2026-03-01T09:00:00Z,2026-03-05T09:00:00Z,attended,,,1.5,\n",
        "{\"event_id\":\"e1\",\"interview_id\":\"i1\",\"ts\":\"2026-03-05T09:00:00Z\",\"type\":\"joined\"}\n",
        "\"", "\"\"", ",", "\n", "\r\n", "\r", "\u{feff}", "\0", "{", "}", "[", "]", ":", "\"event_id\":", "\"ts\":",
        "9999-12-31T23:59:60Z", "0001-01-01 00:00:00", "2026-03-08 02:30:00", "-1e308", "18446744073709551616", "销售", "\\u0000", "\\ud800",
    ];

    fn input() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..400),
            proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..40).prop_map(|parts| parts.concat().into_bytes()),
        ]
    }

    fn check(name: &str, bytes: &[u8], tz: chrono_tz::Tz) -> Result<(), TestCaseError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let (kind, gzip) = classify(name).unwrap();
        let file = InputFile { path, rel: Arc::from(name), kind, gzip, size: bytes.len() as u64, hash_on_read: true };
        let mut sink = Counting::default();
        let result = if name.starts_with("interviews") {
            noshow::ingest::csv_reader::read_interviews(&file, tz, &mut sink, &|_| {})
        } else {
            noshow::ingest::jsonl_reader::read_events(&file, tz, &mut sink, &|_| {})
        };
        if let Ok(stats) = result {
            prop_assert_eq!(stats.rows_read, sink.kept + sink.set_aside);
            prop_assert_eq!(stats.set_aside, sink.set_aside);
            prop_assert_eq!(stats.warnings, sink.warnings);
        }
        Ok(())
    }

    proptest! {
        // 300 cases by default; PROPTEST_CASES=N for a longer run.
        #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300), ..ProptestConfig::default() })]

        #[test]
        fn csv_reader_accounts_for_every_row_of_any_bytes(bytes in input(), new_york in any::<bool>()) {
            let tz = if new_york { chrono_tz::America::New_York } else { chrono_tz::UTC };
            check("interviews.csv", &bytes, tz)?;
        }

        #[test]
        fn jsonl_reader_accounts_for_every_line_of_any_bytes(bytes in input(), new_york in any::<bool>()) {
            let tz = if new_york { chrono_tz::America::New_York } else { chrono_tz::UTC };
            check("events.jsonl", &bytes, tz)?;
        }

        #[test]
        fn truncated_gzip_is_an_error_or_accounted(bytes in input(), cut in 0usize..200) {
            use std::io::Write;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(&bytes).unwrap();
            let gz = enc.finish().unwrap();
            let cut = gz.len().saturating_sub(cut);
            check("events.jsonl.gz", &gz[..cut], chrono_tz::UTC)?;
            check("interviews.csv.gz", &gz[..cut], chrono_tz::UTC)?;
        }
    }
}
