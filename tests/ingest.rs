//! Tests of `noshow ingest`: the real binary on raw files written here, and the lake
//! read back with the arrow/parquet readers (not noshow's own). Expected counts come
//! from a naive recount of the rows this file writes.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use arrow::array::{Array, RecordBatch, StringArray, TimestampMicrosecondArray, UInt64Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

use crate::workdir::Workdir;

const HEADER: &str = "interview_id,candidate_id,role,region,education,fresh_graduate,source,preferred_channel,invited_at,scheduled_at,status,cause,no_show_grade,cost,updated_at";
const ROLES: [&str; 3] = ["销售", "software_engineer", "sales"];
const REGIONS: [&str; 2] = ["华东", "north"];
const STATUSES: [&str; 4] = ["attended", "no_show", "scheduled", "cancelled_by_candidate"];

/// One interview row as this test writes it.
#[derive(Debug, Clone)]
struct Ivw {
    id: String,
    role: &'static str,
    region: &'static str,
    status: &'static str,
    /// Hours after 2026-01-01T00:00Z.
    hour: u32,
    updated: Option<u32>,
}

impl Ivw {
    fn new(i: u32) -> Ivw {
        Ivw {
            id: format!("I{i:05}"),
            role: ROLES[i as usize % 3],
            region: REGIONS[i as usize % 2],
            status: STATUSES[i as usize % 4],
            hour: i * 7,
            updated: if i % 5 == 0 { None } else { Some(i * 7 + 30) },
        }
    }

    fn csv(&self) -> String {
        let updated = self.updated.map(at_hour).unwrap_or_default();
        format!(
            "{},C{},{},{},bachelor,yes,campus,wechat,{},{},{},,,10.5,{}",
            self.id,
            &self.id[1..],
            self.role,
            self.region,
            at_hour(self.hour),
            at_hour(self.hour + 48),
            self.status,
            updated
        )
    }
}

/// RFC 3339 text of 2026-01-01T00:00Z plus `hour` hours (spread over months, so the
/// lake has several partitions).
fn at_hour(hour: u32) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap();
    (base + chrono::Duration::hours(i64::from(hour))).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn event_line(id: &str, interview: &str, hour: u32, kind: &str) -> String {
    let ts = at_hour(hour);
    format!(r#"{{"event_id":"{id}","interview_id":"{interview}","ts":"{ts}","type":"{kind}","channel":"sms"}}"#)
}

/// Writes `text` to `dir/name`, creating folders.
fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// Raw files with known faults, and the counts a correct ingest must report.
struct Export {
    interviews_csv: String,
    events_jsonl: String,
    rows: Vec<Ivw>,
    events: Vec<(String, String)>,
    set_aside_interviews: BTreeMap<&'static str, u64>,
    set_aside_events: BTreeMap<&'static str, u64>,
}

/// `n` interviews `first..first+n`, three events each, then faults: every 10th
/// interview repeated, every 7th event delivered twice, orphan events, bad rows.
fn export(first: u32, n: u32) -> Export {
    let mut rows: Vec<Ivw> = (first..first + n).map(Ivw::new).collect();
    let mut lines: Vec<String> = rows.iter().map(Ivw::csv).collect();
    // Re-exported rows: an older copy (loses) and, for every 20th, a newer one (wins).
    for i in (first..first + n).step_by(10) {
        let mut older = Ivw::new(i);
        older.updated = Some(i * 7 + 1);
        older.status = "scheduled";
        lines.push(older.csv());
        rows.push(older);
    }
    for i in (first..first + n).step_by(20) {
        let mut newer = Ivw::new(i);
        newer.updated = Some(i * 7 + 40);
        newer.status = "rescheduled";
        lines.push(newer.csv());
        rows.push(newer);
    }
    let mut set_aside_interviews = BTreeMap::new();
    lines.push("IBAD1,C1,sales,north,,,,,not-a-time,2026-01-02T00:00:00Z,attended,,,,".into());
    *set_aside_interviews.entry("bad_timestamp").or_default() += 1;
    lines.push("IBAD2,C1,,north,,,,,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,attended,,,,".into());
    *set_aside_interviews.entry("missing_field").or_default() += 1;
    lines.push("IBAD3,C1,sales,north,,,,,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,maybe,,,,".into());
    *set_aside_interviews.entry("bad_enum").or_default() += 1;
    lines.push("IBAD4,C1,sales".into());
    *set_aside_interviews.entry("wrong_field_count").or_default() += 1;
    let interviews_csv = format!("{HEADER}\n{}\n", lines.join("\n"));

    let mut events = Vec::new();
    let mut ev_lines = Vec::new();
    for r in rows.iter().take(n as usize) {
        for (k, kind) in ["invite_sent", "message_read", "joined"].iter().enumerate() {
            let id = format!("E{}-{k}", r.id);
            ev_lines.push(event_line(&id, &r.id, r.hour + k as u32, kind));
            events.push((id, r.id.clone()));
        }
    }
    for (j, (id, ivw)) in events.clone().iter().enumerate().step_by(7) {
        ev_lines.push(event_line(id, ivw, j as u32, "confirmed"));
        events.push((id.clone(), ivw.clone()));
    }
    for j in 0..3 {
        let id = format!("EORPHAN-{first}-{j}");
        ev_lines.push(event_line(&id, &format!("NOPE{j}"), 5, "jd_viewed"));
        events.push((id, format!("NOPE{j}")));
    }
    let mut set_aside_events = BTreeMap::new();
    ev_lines.push("{not json".into());
    *set_aside_events.entry("invalid_json").or_default() += 1;
    ev_lines.push(r#"{"event_id":"EB1","interview_id":"I1","type":"joined"}"#.into());
    *set_aside_events.entry("missing_field").or_default() += 1;
    ev_lines.push(r#"{"event_id":"EB2","interview_id":"I1","ts":"2026-01-01T00:00:00Z","type":"danced"}"#.into());
    *set_aside_events.entry("bad_enum").or_default() += 1;
    let events_jsonl = format!("{}\n", ev_lines.join("\n"));
    Export { interviews_csv, events_jsonl, rows, events, set_aside_interviews, set_aside_events }
}

/// Reads every Parquet file of a table in the current version, with arrow's reader.
fn batches(lake: &Path, table: &str) -> Vec<RecordBatch> {
    let mut files = Vec::new();
    collect(&lake.join(table), &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&f).unwrap()).unwrap().build().unwrap();
        out.extend(reader.map(|b| b.unwrap()));
    }
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "parquet") {
            out.push(p);
        }
    }
}

fn strings<'a>(b: &'a RecordBatch, name: &str) -> &'a StringArray {
    b.column_by_name(name).unwrap().as_any().downcast_ref::<StringArray>().unwrap()
}

/// interview_id → (status, role, region, origin_file, origin_line) as stored.
fn lake_interviews(lake: &Path) -> HashMap<String, (String, String, String, String, u64)> {
    let mut out = HashMap::new();
    for b in batches(lake, "interviews") {
        let lines = b.column_by_name("origin_line").unwrap().as_any().downcast_ref::<UInt64Array>().unwrap();
        for i in 0..b.num_rows() {
            let id = strings(&b, "interview_id").value(i).to_string();
            let row = (
                strings(&b, "status").value(i).to_string(),
                strings(&b, "role").value(i).to_string(),
                strings(&b, "region").value(i).to_string(),
                strings(&b, "origin_file").value(i).to_string(),
                lines.value(i),
            );
            assert!(out.insert(id.clone(), row).is_none(), "interview {id} twice in the lake");
        }
    }
    out
}

fn summary(w: &Workdir, lake: &str) -> Value {
    serde_json::from_str(&w.read(&format!("{lake}/current/summary.json"))).unwrap()
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("{v} is not a count"))
}

/// Every file under `dir` with its bytes, for before/after comparisons.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for e in entries {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let meta = fs::symlink_metadata(&p).unwrap();
            if meta.file_type().is_symlink() {
                out.insert(rel, fs::read_link(&p).unwrap().to_string_lossy().into_owned().into_bytes());
            } else if meta.is_dir() {
                walk(root, &p, out);
            } else if !rel.ends_with(".lock") {
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The winner of each interview id by the spec's rule, counted naively.
fn expected_winners(rows: &[Ivw]) -> HashMap<String, Ivw> {
    let mut best: HashMap<String, Ivw> = HashMap::new();
    for r in rows {
        match best.get(&r.id) {
            Some(b) if r.updated < b.updated => {}
            _ => {
                best.insert(r.id.clone(), r.clone());
            }
        }
    }
    best
}

#[test]
fn every_row_read_is_kept_duplicate_or_set_aside() {
    let w = Workdir::new();
    let e = export(0, 300);
    write(&w.path("raw"), "2026-01/interviews.csv", &e.interviews_csv);
    write(&w.path("raw"), "2026-01/events.jsonl", &e.events_jsonl);
    w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);

    let s = summary(&w, "lake");
    let valid_rows = e.rows.len() as u64;
    let winners = expected_winners(&e.rows);
    let iv = &s["interviews"];
    let bad_iv: u64 = e.set_aside_interviews.values().sum();
    assert_eq!(n(&iv["rows_read"]), valid_rows + bad_iv);
    assert_eq!(n(&iv["kept"]), winners.len() as u64);
    assert_eq!(n(&iv["duplicates"]), valid_rows - winners.len() as u64);
    assert_eq!(n(&iv["set_aside"]), bad_iv);
    for (reason, count) in &e.set_aside_interviews {
        assert_eq!(n(&iv["set_aside_by_reason"][reason]), *count, "interviews {reason}");
    }

    let mut distinct_events: HashMap<&str, &str> = HashMap::new();
    for (id, ivw) in &e.events {
        distinct_events.entry(id).or_insert(ivw);
    }
    let orphans = distinct_events.values().filter(|i| !winners.contains_key(**i)).count() as u64;
    let ev = &s["events"];
    let bad_ev: u64 = e.set_aside_events.values().sum();
    assert_eq!(n(&ev["rows_read"]), e.events.len() as u64 + bad_ev);
    assert_eq!(n(&ev["kept"]), distinct_events.len() as u64);
    assert_eq!(n(&ev["duplicates"]), (e.events.len() - distinct_events.len()) as u64);
    for (reason, count) in &e.set_aside_events {
        assert_eq!(n(&ev["set_aside_by_reason"][reason]), *count, "events {reason}");
    }
    assert_eq!(n(&ev["orphans_kept"]), orphans);
    assert_eq!(orphans, 3);

    // The lake itself, read with arrow: the winners, Chinese text intact.
    let lake = lake_interviews(&w.path("lake"));
    assert_eq!(lake.len(), winners.len());
    for (id, want) in &winners {
        let got = &lake[id];
        assert_eq!((got.0.as_str(), got.1.as_str(), got.2.as_str()), (want.status, want.role, want.region), "{id}");
    }
    assert!(lake.values().any(|r| r.1 == "销售" && r.2 == "华东"));
    let event_rows: usize = batches(&w.path("lake"), "events").iter().map(|b| b.num_rows()).sum();
    assert_eq!(event_rows, distinct_events.len());

    // Every set-aside row is in rejected/ with its file, line and raw text.
    let rejected = batches(&w.path("lake"), "rejected");
    let mut set_aside = 0;
    for b in &rejected {
        for i in 0..b.num_rows() {
            if strings(b, "severity").value(i) == "set_aside" {
                set_aside += 1;
                assert!(strings(b, "file").value(i).starts_with("2026-01/"));
                assert!(!strings(b, "raw").value(i).is_empty());
            }
        }
    }
    assert_eq!(set_aside, bad_iv + bad_ev);
    assert!(rejected.iter().any(|b| (0..b.num_rows()).any(|i| strings(b, "raw").value(i) == "{not json")));

    // Several month partitions, each file tagged with its table, version and sources.
    let months: Vec<String> = fs::read_dir(w.path("lake/interviews"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(months.len() >= 3 && months.iter().all(|m| m.starts_with("month=2026-")), "{months:?}");
    let f = File::open(w.path(&format!("lake/interviews/{}/part-00000.parquet", months[0]))).unwrap();
    let meta = ParquetRecordBatchReaderBuilder::try_new(f).unwrap().metadata().clone();
    let kv: HashMap<String, String> = meta
        .file_metadata()
        .key_value_metadata()
        .unwrap()
        .iter()
        .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
        .collect();
    assert_eq!(kv["noshow.table"], "interviews");
    assert_eq!(kv["noshow.lake_version"], "1");
    assert_eq!(kv["noshow.source_files"], r#"["2026-01/interviews.csv"]"#);
    assert_eq!(kv["noshow.version"], env!("CARGO_PKG_VERSION"));

    // The manifest remembers the files with their hashes, and runs/ has the summary.
    let manifest: Value = serde_json::from_str(&w.read("lake/current/manifest.json")).unwrap();
    let files = manifest["source_files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert!(files.iter().all(|f| f["sha256"].as_str().unwrap().len() == 64 && n(&f["run"]) == 1));
    let run_log: Value = serde_json::from_str(&w.read("lake/runs/ingest-000001.json")).unwrap();
    assert_eq!(run_log, s);
}

#[test]
fn timestamps_are_stored_in_utc_and_sorted() {
    let w = Workdir::new();
    let csv = format!(
        "{HEADER}\nB,c,sales,north,,,,,2026-03-02 14:00:00,2026-03-02 15:00:00,scheduled,,,,\nA,c,sales,north,,,,,2026-03-02 14:00:00,2026-03-02 15:00:00,scheduled,,,,\nC,c,sales,north,,,,,2026-03-01T00:00:00Z,2026-03-02T00:00:00+08:00,scheduled,,,,\n"
    );
    write(&w.path("raw"), "interviews.csv", &csv);
    w.run(&["ingest", "--raw", "raw", "--lake", "lake", "--tz", "Asia/Shanghai"]);
    let b = batches(&w.path("lake"), "interviews");
    let ids: Vec<&str> = b.iter().flat_map(|b| strings(b, "interview_id").iter().map(|s| s.unwrap())).collect();
    // C is at 2026-03-01T16:00Z and comes first; A and B tie and sort by id.
    assert_eq!(ids, ["C", "A", "B"]);
    let ts = b[0].column_by_name("scheduled_at").unwrap().as_any().downcast_ref::<TimestampMicrosecondArray>().unwrap();
    assert_eq!(ts.timezone(), Some("UTC"));
    // 2026-03-02 15:00 in Shanghai = 07:00Z.
    assert_eq!(ts.value(1), 1_772_434_800_000_000);
    assert_eq!(ts.value(0), 1_772_380_800_000_000);
}

#[test]
fn rerunning_changes_nothing_and_fresh_lakes_are_identical() {
    let w = Workdir::new();
    let e = export(0, 120);
    write(&w.path("raw"), "interviews.csv", &e.interviews_csv);
    write(&w.path("raw"), "events.jsonl", &e.events_jsonl);
    w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    let before = tree(&w.path("lake"));
    let out = w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("lake unchanged"));
    assert_eq!(tree(&w.path("lake")), before, "a second run over the same files must write nothing");

    w.run(&["ingest", "--raw", "raw", "--lake", "lake2"]);
    // The same files under another name are the same content: still nothing new.
    fs::rename(w.path("raw/interviews.csv"), w.path("raw/interviews-renamed.csv")).unwrap();
    w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    assert_eq!(tree(&w.path("lake")), before);

    // A second lake from the same input has byte-identical Parquet files.
    let parquet = |t: &BTreeMap<String, Vec<u8>>| -> BTreeMap<String, Vec<u8>> {
        t.iter().filter(|(k, _)| k.ends_with(".parquet")).map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    let a = parquet(&tree(&w.path("lake/versions")));
    assert!(!a.is_empty());
    assert_eq!(parquet(&tree(&w.path("lake2/versions"))).keys().collect::<Vec<_>>(), a.keys().collect::<Vec<_>>());
    assert!(parquet(&tree(&w.path("lake2/versions"))) == a, "the Parquet bytes differ between two fresh ingests");
}

#[test]
fn a_new_export_adds_and_updates_only_what_it_brings() {
    let w = Workdir::new();
    let first = export(0, 100);
    write(&w.path("raw"), "week1/interviews.csv", &first.interviews_csv);
    write(&w.path("raw"), "week1/events.jsonl", &first.events_jsonl);
    w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    let lake1 = lake_interviews(&w.path("lake"));

    // Week 2: 40 new interviews, 10 updated (later updated_at), 5 stale copies (older).
    let mut rows: Vec<Ivw> = (100..140).map(Ivw::new).collect();
    for i in 1..=10 {
        let mut r = Ivw::new(i * 3);
        r.updated = Some(10_000);
        r.status = "cancelled_by_company";
        rows.push(r);
    }
    for i in 1..=5 {
        let mut r = Ivw::new(i * 3 + 1);
        r.updated = None;
        r.status = "attended";
        rows.push(r);
    }
    let csv = format!("{HEADER}\n{}\n", rows.iter().map(Ivw::csv).collect::<Vec<_>>().join("\n"));
    // Sorts before week1/: a later run still beats earlier runs on a tie.
    write(&w.path("raw"), "week0-late/interviews.csv", &csv);
    w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);

    let s = summary(&w, "lake");
    assert_eq!(n(&s["lake_version"]), 2);
    assert_eq!(s["files"].as_array().unwrap().len(), 1, "only the new file is read");
    assert_eq!(s["files_skipped"].as_array().unwrap().len(), 2);
    let iv = &s["interviews"];
    assert_eq!(n(&iv["rows_read"]), 55);
    assert_eq!(n(&iv["kept"]), 50);
    assert_eq!(n(&iv["duplicates"]), 5);
    assert_eq!(n(&iv["lake_rows_updated"]), 10);
    assert_eq!(n(&iv["rows_in_lake"]), lake1.len() as u64 + 40);

    let lake2 = lake_interviews(&w.path("lake"));
    for (id, row) in &lake1 {
        let updated = (1..=10).any(|i| format!("I{:05}", i * 3) == *id);
        if updated {
            assert_eq!(lake2[id].0, "cancelled_by_company", "{id} should take the later updated_at");
            assert_eq!(lake2[id].3, "week0-late/interviews.csv");
        } else {
            assert_eq!(&lake2[id], row, "{id} was not in the new export and must not change");
        }
    }
    // Events from week 1 are still there, once each.
    let ev_before = n(&serde_json::from_str::<Value>(&w.read("lake/versions/000001/summary.json")).unwrap()["events"]["rows_in_lake"]);
    assert_eq!(n(&s["events"]["rows_in_lake"]), ev_before);
    // The manifest lists all three files with the run that brought each.
    let manifest: Value = serde_json::from_str(&w.read("lake/current/manifest.json")).unwrap();
    let runs: Vec<(String, u64)> = manifest["source_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap().to_string(), n(&f["run"])))
        .collect();
    assert_eq!(
        runs,
        [("week1/events.jsonl".into(), 1), ("week1/interviews.csv".into(), 1), ("week0-late/interviews.csv".into(), 2)]
    );
}

#[test]
fn a_failing_run_leaves_the_lake_as_it_was_and_names_the_file() {
    let w = Workdir::new();
    let e = export(0, 50);
    write(&w.path("raw"), "interviews.csv", &e.interviews_csv);
    w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    let before = tree(&w.path("lake"));

    // A broken gzip among good new files.
    write(&w.path("raw"), "events-1.jsonl", &e.events_jsonl);
    write(&w.path("raw"), "events-2.jsonl.gz", "this is not gzip data at all");
    let out = w.output(&["ingest", "--raw", "raw", "--lake", "lake"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("events-2.jsonl.gz"), "{err}");
    assert_eq!(tree(&w.path("lake")), before);
    fs::remove_file(w.path("raw/events-2.jsonl.gz")).unwrap();

    // A file missing a required column.
    write(&w.path("raw"), "sub/interviews-2.csv", "interview_id,candidate_id,role\nX,c,sales\n");
    let out = w.output(&["ingest", "--raw", "raw", "--lake", "lake"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sub/interviews-2.csv") && err.contains("region"), "{err}");
    assert_eq!(tree(&w.path("lake")), before);

    // Not UTF-8.
    fs::remove_file(w.path("raw/sub/interviews-2.csv")).unwrap();
    fs::write(w.path("raw/interviews-3.csv"), [HEADER.as_bytes(), b"\nI\xff\xfe,c,sales,north,,,,,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,attended,,,,\n"].concat()).unwrap();
    let out = w.output(&["ingest", "--raw", "raw", "--lake", "lake"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interviews-3.csv"));
    assert_eq!(tree(&w.path("lake")), before);

    // With the bad file gone, the run succeeds.
    fs::remove_file(w.path("raw/interviews-3.csv")).unwrap();
    w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    assert_eq!(n(&summary(&w, "lake")["lake_version"]), 2);
}

#[test]
fn a_killed_run_leaves_the_old_lake_and_the_next_run_succeeds() {
    let w = Workdir::new();
    let base = export(0, 200);
    write(&w.path("raw"), "a/interviews.csv", &base.interviews_csv);
    w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    let v1 = tree(&w.path("lake/versions/000001"));
    let big = export(200, 3000);
    write(&w.path("raw"), "b/interviews.csv", &big.interviews_csv);
    write(&w.path("raw"), "b/events.jsonl", &big.events_jsonl);

    // Delays from a fixed pseudo-random sequence, so a failure can be replayed.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut committed_early = false;
    for _ in 0..6 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let delay = Duration::from_millis(x % 400);
        let mut child =
            w.command(&["ingest", "--raw", "raw", "--lake", "lake"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        let current = fs::read_link(w.path("lake/current")).unwrap();
        if status.success() {
            // It finished before the kill: the new version must then be whole.
            committed_early = true;
            assert_eq!(current, Path::new("versions/000002"));
            break;
        }
        assert_eq!(current, Path::new("versions/000001"), "a killed run switched the lake");
        assert_eq!(tree(&w.path("lake/versions/000001")), v1, "a killed run changed the current version");
        let got = lake_interviews(&w.path("lake"));
        assert_eq!(got.len(), expected_winners(&base.rows).len());
    }
    if !committed_early {
        w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    }
    let s = summary(&w, "lake");
    assert_eq!(n(&s["lake_version"]), 2);
    let leftovers: Vec<String> = fs::read_dir(w.path("lake/versions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let mut all = base.rows.clone();
    all.extend(big.rows.iter().cloned());
    assert_eq!(lake_interviews(&w.path("lake")).len(), expected_winners(&all).len());
    for kind in ["interviews", "events"] {
        let k = &s[kind];
        assert_eq!(n(&k["rows_read"]), n(&k["kept"]) + n(&k["duplicates"]) + n(&k["set_aside"]), "{kind}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let w = Workdir::new();
    let out = w.output(&["ingest", "--raw", "raw"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let out = w.output(&["ingest", "--raw", "raw", "--lake", "lake", "--tz", "Mars/Olympus"]);
    assert_eq!(out.status.code(), Some(2));
    let out = w.output(&["ingest", "--raw", "missing", "--lake", "lake"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
}

#[test]
fn gzip_inputs_are_read() {
    let w = Workdir::new();
    let e = export(0, 30);
    fs::create_dir_all(w.path("raw")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(File::create(w.path("raw/events.jsonl.gz")).unwrap(), flate2::Compression::default());
    gz.write_all(e.events_jsonl.as_bytes()).unwrap();
    gz.finish().unwrap();
    write(&w.path("raw"), "interviews.csv", &e.interviews_csv);
    w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    let s = summary(&w, "lake");
    let bad: u64 = e.set_aside_events.values().sum();
    assert_eq!(n(&s["events"]["rows_read"]), e.events.len() as u64 + bad);
    assert!(s["files"].as_array().unwrap().iter().any(|f| f["gzip"] == Value::Bool(true)));
}

/// Files are parsed on several threads at once; deduplication must still follow the
/// reading order (sorted paths): the first file holding an event id wins, whatever
/// file finishes parsing first. The first file is made the largest so that later,
/// smaller files finish parsing long before it does.
#[test]
fn parallel_parsing_keeps_the_reading_order_for_duplicates() {
    let w = Workdir::new();
    let interviews: Vec<String> = (0..50).map(|i| Ivw::new(i).csv()).collect();
    write(&w.path("raw"), "interviews.csv", &format!("{HEADER}\n{}\n", interviews.join("\n")));
    // Every file carries the shared ids S0..S99 with its own hour; file 0 also 20 000
    // events of its own, read first but finished last.
    let mut winners: HashMap<String, String> = HashMap::new();
    for f in 0..6u32 {
        let mut lines = Vec::new();
        if f == 0 {
            lines.extend((0..20_000).map(|k| event_line(&format!("OWN{k}"), "I00001", k % 5000, "joined")));
        }
        for s in 0..100u32 {
            let id = format!("S{s}");
            lines.push(event_line(&id, "I00002", 100 * f + s, "message_read"));
            winners.entry(id).or_insert_with(|| format!("events-{f}.jsonl"));
        }
        write(&w.path("raw"), &format!("events-{f}.jsonl"), &format!("{}\n", lines.join("\n")));
    }
    w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    let mut seen = 0;
    for b in batches(&w.path("lake"), "events") {
        let ids = strings(&b, "event_id");
        let files = strings(&b, "origin_file");
        for i in 0..b.num_rows() {
            if let Some(expected) = winners.get(ids.value(i)) {
                assert_eq!(files.value(i), expected, "event {}", ids.value(i));
                seen += 1;
            }
        }
    }
    assert_eq!(seen, 100);
    let s = summary(&w, "lake");
    assert_eq!(n(&s["events"]["kept"]), 20_000 + 100);
    assert_eq!(n(&s["events"]["duplicates"]), 5 * 100);
}

/// Every row of a table in a lake's current version (the files its manifest lists),
/// each as text, sorted: the table's content whatever its file layout.
fn table_rows(lake: &Path, table: &str) -> Vec<String> {
    let manifest: Value = serde_json::from_str(&fs::read_to_string(lake.join("current/manifest.json")).unwrap()).unwrap();
    let mut rows = Vec::new();
    for f in manifest["tables"][table]["files"].as_array().unwrap() {
        let path = lake.join("current").join(f["path"].as_str().unwrap());
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap().build().unwrap();
        for b in reader {
            let b = b.unwrap();
            for i in 0..b.num_rows() {
                let cells: Vec<String> = b
                    .columns()
                    .iter()
                    .map(|c| match c.as_any().downcast_ref::<TimestampMicrosecondArray>() {
                        Some(t) if t.is_null(i) => "null".to_string(),
                        Some(t) => t.value(i).to_string(),
                        None => arrow::util::display::array_value_to_string(c, i).unwrap(),
                    })
                    .collect();
                rows.push(cells.join("|"));
            }
        }
    }
    rows.sort();
    rows
}

/// (device, inode) of a file: two names with the same are one file (a hard link).
#[cfg(unix)]
fn inode(path: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(path).unwrap();
    (m.dev(), m.ino())
}

#[test]
#[cfg(unix)]
fn weekly_runs_give_the_lake_of_one_run_and_write_only_what_they_touch() {
    let w = Workdir::new();
    w.run(&["generate", "--out", "raw", "--interviews", "3000", "--seed", "8", "--bad-rows", "2", "--as-of", "2026-11-16T00:00:00Z", "-q"]);
    // Compaction after 3 parts, so these few weeks exercise it.
    fs::write(w.path("noshow.toml"), "[ingest]\nmax_event_parts = 3\nkeep_versions = 20\n").unwrap();
    w.run(&["ingest", "--raw", "raw", "--lake", "whole"]);

    // The same exports, one week at a time, in the order one run reads them.
    let mut names: Vec<String> = fs::read_dir(w.path("raw")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let weeks: Vec<String> = names.iter().filter_map(|n| n.strip_prefix("events-")).map(|n| n.replace(".jsonl", "")).collect();
    assert!(weeks.len() >= 4, "the generator wrote {names:?}");
    fs::create_dir_all(w.path("weekly-raw")).unwrap();
    let mut last_version = 0;
    for (k, week) in weeks.iter().enumerate() {
        for name in [format!("events-{week}.jsonl"), format!("interviews-{week}.csv")] {
            fs::copy(w.path(&format!("raw/{name}")), w.path(&format!("weekly-raw/{name}"))).unwrap();
        }
        if k == weeks.len() - 1 {
            // Last week also brings the re-export of updated interviews and a second copy
            // of some events already in the lake (as an export overlapping the last).
            for name in names.iter().filter(|n| !n.starts_with("events-") && !n.starts_with("interviews-0")) {
                fs::copy(w.path(&format!("raw/{name}")), w.path(&format!("weekly-raw/{name}"))).unwrap();
            }
            let earlier = fs::read_to_string(w.path(&format!("raw/events-{}.jsonl", weeks[0]))).unwrap();
            let again: String = earlier.lines().take(200).map(|l| format!("{l}\n")).collect();
            write(&w.path("weekly-raw"), "events-zz-overlap.jsonl", &again);
            write(&w.path("raw"), "events-zz-overlap.jsonl", &again);
        }
        w.run(&["ingest", "--raw", "weekly-raw", "--lake", "weekly"]);
        last_version = n(&summary(&w, "weekly")["lake_version"]);
    }
    w.run(&["ingest", "--raw", "raw", "--lake", "whole"]);
    assert_eq!(last_version, weeks.len() as u64);

    // The same rows in every table, whatever the layout.
    for table in ["interviews", "events", "rejected"] {
        let (a, b) = (table_rows(&w.path("whole"), table), table_rows(&w.path("weekly"), table));
        assert!(!a.is_empty(), "{table} is empty");
        assert_eq!(a.len(), b.len(), "{table}: row counts differ");
        assert!(a == b, "{table}: the weekly lake holds other rows than the one-run lake");
    }
    let (sw, sk) = (summary(&w, "whole"), summary(&w, "weekly"));
    assert_eq!(sw["events"]["orphans_in_lake"], sk["events"]["orphans_in_lake"]);
    assert_eq!(sw["interviews"]["rows_in_lake"], sk["interviews"]["rows_in_lake"]);
    // The overlapping copy: all 200 lines counted as duplicates of the lake's events.
    let overlap = sk["files"].as_array().unwrap().iter().find(|f| f["path"] == "events-zz-overlap.jsonl").unwrap();
    assert_eq!((n(&overlap["kept"]), n(&overlap["duplicates"])), (0, 200), "{overlap}");

    // The same report tables, byte for byte.
    w.run(&["report", "--lake", "whole", "--out", "out-whole", "--as-of", "2026-11-16T00:00:00Z"]);
    w.run(&["report", "--lake", "weekly", "--out", "out-weekly", "--as-of", "2026-11-16T00:00:00Z"]);
    let tables = |dir: &str| -> BTreeMap<String, Vec<u8>> {
        tree(&w.path(dir)).into_iter().filter(|(k, _)| k.ends_with(".parquet") || k.ends_with(".csv")).collect()
    };
    let (ta, tb) = (tables("out-whole"), tables("out-weekly"));
    assert!(ta.len() > 20);
    for (name, bytes) in &ta {
        assert!(tb.get(name) == Some(bytes), "report table {name} differs between the two lakes");
    }

    // What the last run did not touch is the previous version's file, not a copy.
    let manifest = |v: u64| -> Value {
        serde_json::from_str(&w.read(&format!("weekly/versions/{v:06}/manifest.json"))).unwrap()
    };
    let (now, before) = (manifest(last_version), manifest(last_version - 1));
    let listed = |m: &Value, table: &str| -> Vec<String> {
        m["tables"][table]["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect()
    };
    let mut shared = 0;
    for table in ["interviews", "events", "rejected"] {
        for rel in listed(&now, table).iter().filter(|p| listed(&before, table).contains(p)) {
            let (a, b) = (w.path(&format!("weekly/versions/{last_version:06}/{rel}")), w.path(&format!("weekly/versions/{:06}/{rel}", last_version - 1)));
            if inode(&a) == inode(&b) {
                shared += 1;
            }
        }
    }
    assert!(shared >= 3, "no file was carried into the last version");
    // Months have more than one part, and none more than the setting allows.
    let parts = listed(&now, "events");
    let mut per_month: BTreeMap<String, usize> = BTreeMap::new();
    for p in &parts {
        *per_month.entry(p.split('/').nth(1).unwrap().to_string()).or_default() += 1;
    }
    assert!(per_month.values().any(|&k| k > 1), "{parts:?}");
    assert!(per_month.values().all(|&k| k <= 3), "{parts:?}");
    // Every older version still reads whole: carrying never changed a file under it.
    for v in 1..last_version {
        let m = manifest(v);
        for f in m["tables"]["events"]["files"].as_array().unwrap() {
            let path = w.path(&format!("weekly/versions/{v:06}/{}", f["path"].as_str().unwrap()));
            let rows: u64 = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap().metadata().file_metadata().num_rows() as u64;
            assert_eq!(rows, n(&f["rows"]), "{}", path.display());
        }
    }
}

#[test]
fn unchanged_raw_files_are_not_hashed_again_and_a_rewrite_is_still_seen() {
    let w = Workdir::new();
    let e = export(0, 60);
    write(&w.path("raw"), "week1/interviews.csv", &e.interviews_csv);
    write(&w.path("raw"), "week1/events.jsonl", &e.events_jsonl);
    w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    assert!(w.path("lake/raw-stamps.json").is_file());

    // A new week: the two old files are taken as known from their stamps.
    let e2 = export(60, 20);
    write(&w.path("raw"), "week2/interviews.csv", &e2.interviews_csv);
    let out = w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("2 raw file(s) unchanged since an earlier run"), "{log}");
    assert_eq!(summary(&w, "lake")["files"].as_array().unwrap().len(), 1);

    // An export rewritten in place with the same size, its modification time put back:
    // its status-change time still differs, so it is hashed and read again.
    let path = w.path("raw/week2/interviews.csv");
    let modified = fs::metadata(&path).unwrap().modified().unwrap();
    let changed = e2.interviews_csv.replacen(",10.5,", ",11.5,", 1);
    assert_eq!(changed.len(), e2.interviews_csv.len());
    assert_ne!(changed, e2.interviews_csv);
    std::thread::sleep(Duration::from_millis(20));
    fs::write(&path, &changed).unwrap();
    File::options().write(true).open(&path).unwrap().set_modified(modified).unwrap();
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), modified);
    let out = w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!log.contains("lake unchanged"), "a rewritten export was taken as known: {log}");
    assert_eq!(n(&summary(&w, "lake")["lake_version"]), 3);

    // A cache that is damaged only means hashing everything.
    fs::write(w.path("lake/raw-stamps.json"), b"{not json").unwrap();
    let out = w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("lake unchanged") && !log.contains("not hashed again"), "{log}");
}

#[test]
fn orphans_of_carried_files_are_adopted_when_their_interview_arrives() {
    let w = Workdir::new();
    let e = export(0, 50);
    write(&w.path("raw"), "week1/interviews.csv", &e.interviews_csv);
    write(&w.path("raw"), "week1/events.jsonl", &e.events_jsonl);
    // Events of three interviews the HR system exports only next week.
    let early: Vec<String> = (0..3).map(|j| event_line(&format!("ELATE-{j}"), &format!("I9000{j}"), 30 + j, "message_read")).collect();
    write(&w.path("raw"), "week1/events-early.jsonl", &format!("{}\n", early.join("\n")));
    w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    let orphans = |w: &Workdir| n(&summary(w, "lake")["events"]["orphans_in_lake"]);
    assert_eq!(orphans(&w), 3 + 3, "the export's own orphans and the early events");

    let mut late = Ivw::new(90000);
    late.hour = 30;
    let rows: Vec<String> = (0..3).map(|j| {
        let mut r = late.clone();
        r.id = format!("I9000{j}");
        r.csv()
    }).collect();
    write(&w.path("raw"), "week2/interviews.csv", &format!("{HEADER}\n{}\n", rows.join("\n")));
    w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    assert_eq!(orphans(&w), 3, "the early events found their interviews");
    // And the same count as one run over everything gives.
    w.run(&["ingest", "--raw", "raw", "--lake", "one-run"]);
    assert_eq!(n(&summary(&w, "one-run")["events"]["orphans_in_lake"]), 3);
    // The events files were carried, not rewritten, yet their counts were updated.
    let manifest: Value = serde_json::from_str(&w.read("lake/current/manifest.json")).unwrap();
    let per_file: u64 = manifest["tables"]["events"]["files"].as_array().unwrap().iter().map(|f| n(&f["orphans"])).sum();
    assert_eq!(per_file, 3);
}

/// A lake loads only the keys of its interviews (id, times) for a new run, and reads a
/// month whole only to rewrite it. An export that brings a column the lake lacks
/// rewrites every month, so every month is read whole again: no row may lose a value.
#[test]
#[cfg(unix)]
fn a_new_mapped_column_rewrites_every_month_from_its_rows_read_whole() {
    let w = Workdir::new();
    let first = export(0, 300);
    write(&w.path("raw"), "week1/interviews.csv", &first.interviews_csv);
    write(&w.path("raw"), "week1/events.jsonl", &first.events_jsonl);
    w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    let before = table_rows(&w.path("lake"), "interviews");

    // An HR export's rows with a recruiter column, read by a source; each run one new
    // interview in the lake's first month.
    fs::write(
        w.path("noshow.toml"),
        "[[input.source]]\nkind = \"interviews\"\nfiles = [\"week*/hr-*.csv\"]\n\n[input.source.extra]\nrecruiter = \"recruiter\"\n",
    )
    .unwrap();
    let ingest_one = |week: u32, id: u32, recruiter: &str| {
        let mut row = Ivw::new(id);
        row.hour = 5;
        write(&w.path("raw"), &format!("week{week}/hr-export.csv"), &format!("{HEADER},recruiter\n{},{recruiter}\n", row.csv()));
        w.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    };
    ingest_one(2, 90_000, "Ms Wang");
    let after = table_rows(&w.path("lake"), "interviews");
    assert_eq!(after.len(), before.len() + 1);
    for r in &before {
        assert!(after.binary_search(&format!("{r}|")).is_ok(), "the lake row {r} changed when its month was rewritten");
    }
    assert_eq!(after.iter().filter(|r| r.starts_with("I90000|") && r.ends_with("|Ms Wang")).count(), 1);

    // Every month was rewritten (none carried: each row gained the column).
    let manifest = |v: u64| -> Value { serde_json::from_str(&w.read(&format!("lake/versions/{v:06}/manifest.json"))).unwrap() };
    let months: Vec<String> = manifest(2)["tables"]["interviews"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert!(months.len() >= 3, "{months:?}");
    for rel in &months {
        let (a, b) = (w.path(&format!("lake/versions/000002/{rel}")), w.path(&format!("lake/versions/000001/{rel}")));
        assert!(!b.exists() || inode(&a) != inode(&b), "{rel} was carried though its rows gained a column");
    }

    // A third run touching one month carries the others and keeps every value.
    ingest_one(3, 90_001, "Mr Li");
    let third = table_rows(&w.path("lake"), "interviews");
    assert_eq!(third.len(), after.len() + 1);
    for r in &after {
        assert!(third.binary_search(r).is_ok(), "the lake row {r} changed in the third run");
    }
    let carried = months
        .iter()
        .filter(|rel| inode(&w.path(&format!("lake/versions/000003/{rel}"))) == inode(&w.path(&format!("lake/versions/000002/{rel}"))))
        .count();
    assert_eq!(carried, months.len() - 1, "only the month of the new row is rewritten");
}
