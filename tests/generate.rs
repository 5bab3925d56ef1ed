//! Tests of `noshow generate`: determinism, exact accounting against an independent
//! reading of the files (a small validator written here from the spec, not the
//! ingest code), the documented effects computed naively from the raw files, and
//! the ground truth kept apart.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use noshow::schema::{parse_bool, parse_decimal, Channel, Education, EventType, Status};
use noshow::time::{parse_timestamp, Micros};
use serde_json::Value;

use crate::workdir::Workdir;

const AS_OF: &str = "2026-11-16T00:00:00+08:00";
const TZ: &str = "Asia/Shanghai";

fn generate(wd: &Workdir, out: &str, n: u64, seed: u64, extra: &[&str]) {
    let n = n.to_string();
    let seed = seed.to_string();
    let mut args = vec!["generate", "--out", out, "--interviews", &n, "--seed", &seed, "--as-of", AS_OF, "--tz", TZ, "-q"];
    args.extend_from_slice(extra);
    wd.run(&args);
}

fn read_bytes(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(raw.as_slice()).read_to_end(&mut out).expect("gunzip");
        out
    } else {
        raw
    }
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn tz() -> Tz {
    TZ.parse().unwrap()
}

/// One valid interview row as this test reads it.
#[derive(Debug, Clone)]
struct Row {
    id: String,
    role: String,
    region: String,
    scheduled_at: Micros,
    status: Status,
    updated_at: Option<Micros>,
    /// (file order, line) for the spec's tie-break.
    order: (usize, usize),
}

#[derive(Debug, Clone)]
struct Event {
    interview_id: String,
    ts: Micros,
    kind: EventType,
    channel: Option<Channel>,
}

/// What an independent reading of the raw folder finds.
#[derive(Debug, Default)]
struct Parsed {
    interview_rows_by_file: BTreeMap<String, u64>,
    event_lines_by_file: BTreeMap<String, u64>,
    interview_set_aside: BTreeMap<String, u64>,
    interview_warnings: BTreeMap<String, u64>,
    event_set_aside: BTreeMap<String, u64>,
    event_warnings: BTreeMap<String, u64>,
    rows: Vec<Row>,
    events: HashMap<String, Event>,
    event_duplicates: u64,
}

fn bump(m: &mut BTreeMap<String, u64>, k: &str) {
    *m.entry(k.to_string()).or_default() += 1;
}

fn parse_dir(dir: &Path) -> Parsed {
    let tz = tz();
    let mut p = Parsed::default();
    let mut first_line_of: HashMap<String, String> = HashMap::new();
    for (file_no, path) in files_in(dir).into_iter().enumerate() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = read_bytes(&path);
        let text = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
        if name.starts_with("interviews") {
            let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(text);
            let header: Vec<String> = rdr.headers().unwrap().iter().map(|h| h.trim().to_ascii_lowercase()).collect();
            let col = |n: &str| header.iter().position(|h| h == n).unwrap_or_else(|| panic!("{name}: no column {n}"));
            let c: HashMap<&str, usize> = noshow::schema::INTERVIEW_COLUMNS.iter().map(|(n, _)| (*n, col(n))).collect();
            for rec in rdr.records() {
                let rec = rec.unwrap();
                let line = rec.position().unwrap().line() as usize;
                *p.interview_rows_by_file.entry(name.clone()).or_default() += 1;
                if rec.len() != header.len() {
                    bump(&mut p.interview_set_aside, "wrong_field_count");
                    continue;
                }
                let f = |n: &str| rec.get(c[n]).unwrap().trim();
                let required = ["interview_id", "candidate_id", "role", "region", "invited_at", "scheduled_at", "status"];
                if required.iter().any(|n| f(n).is_empty()) {
                    bump(&mut p.interview_set_aside, "missing_field");
                    continue;
                }
                let (Ok(invited), Ok(scheduled)) = (parse_timestamp(f("invited_at"), tz), parse_timestamp(f("scheduled_at"), tz)) else {
                    bump(&mut p.interview_set_aside, "bad_timestamp");
                    continue;
                };
                let Some(status) = Status::parse(f("status")) else {
                    bump(&mut p.interview_set_aside, "bad_enum");
                    continue;
                };
                if scheduled < invited - 60_000_000 {
                    bump(&mut p.interview_set_aside, "scheduled_before_invited");
                    continue;
                }
                if !f("education").is_empty() && Education::parse(f("education")).is_none() {
                    bump(&mut p.interview_warnings, "education");
                }
                if !f("fresh_graduate").is_empty() && parse_bool(f("fresh_graduate")).is_none() {
                    bump(&mut p.interview_warnings, "fresh_graduate");
                }
                if !f("cost").is_empty() && parse_decimal(f("cost")).is_none() {
                    bump(&mut p.interview_warnings, "cost");
                }
                assert!(f("preferred_channel").is_empty() || Channel::parse(f("preferred_channel")).is_some());
                assert!(f("no_show_grade").is_empty() || noshow::schema::NoShowGrade::parse(f("no_show_grade")).is_some());
                let updated_at = (!f("updated_at").is_empty())
                    .then(|| parse_timestamp(f("updated_at"), tz).unwrap_or_else(|e| panic!("{name}:{line}: updated_at {e}")));
                p.rows.push(Row {
                    id: f("interview_id").to_string(),
                    role: f("role").to_string(),
                    region: f("region").to_string(),
                    scheduled_at: scheduled,
                    status,
                    updated_at,
                    order: (file_no, line),
                });
            }
        } else if name.starts_with("events") {
            let text = std::str::from_utf8(text).unwrap();
            for line in text.split('\n') {
                let line = line.strip_suffix('\r').unwrap_or(line);
                if line.trim().is_empty() {
                    continue;
                }
                *p.event_lines_by_file.entry(name.clone()).or_default() += 1;
                let Ok(v) = serde_json::from_str::<Value>(line) else {
                    bump(&mut p.event_set_aside, "invalid_json");
                    continue;
                };
                let Some(obj) = v.as_object() else {
                    bump(&mut p.event_set_aside, "not_an_object");
                    continue;
                };
                if obj.keys().any(|k| line.matches(&format!("\"{k}\":")).count() > 1) {
                    bump(&mut p.event_set_aside, "duplicate_key");
                    continue;
                }
                let id = |k: &str| match obj.get(k) {
                    None | Some(Value::Null) => Err("missing_field"),
                    Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                    Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
                    Some(_) => Err("bad_type"),
                };
                let (event_id, interview_id) = match (id("event_id"), id("interview_id")) {
                    (Ok(a), Ok(b)) => (a, b),
                    (Err(e), _) | (_, Err(e)) => {
                        bump(&mut p.event_set_aside, e);
                        continue;
                    }
                };
                let ts = match obj.get("ts") {
                    None | Some(Value::Null) => {
                        bump(&mut p.event_set_aside, "missing_field");
                        continue;
                    }
                    Some(Value::String(s)) => parse_timestamp(s, tz).unwrap_or_else(|e| panic!("{name}: ts {s}: {e}")),
                    Some(other) => panic!("{name}: ts {other}"),
                };
                let Some(kind) = obj.get("type").and_then(Value::as_str).and_then(EventType::parse) else {
                    bump(&mut p.event_set_aside, "bad_enum");
                    continue;
                };
                let channel = match obj.get("channel") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => match Channel::parse(s) {
                        Some(c) => Some(c),
                        None => {
                            bump(&mut p.event_warnings, "channel");
                            None
                        }
                    },
                    Some(other) => panic!("{name}: channel {other}"),
                };
                if let Some(first) = first_line_of.get(&event_id) {
                    assert_eq!(first, line, "a repeated event_id is an identical second delivery");
                    p.event_duplicates += 1;
                    continue;
                }
                first_line_of.insert(event_id.clone(), line.to_string());
                p.events.insert(event_id, Event { interview_id, ts, kind, channel });
            }
        }
    }
    p
}

impl Parsed {
    /// The winning row of each interview: latest updated_at (none ranks oldest), then
    /// the file read last, then the later line.
    fn winners(&self) -> HashMap<String, Row> {
        let mut best: HashMap<String, Row> = HashMap::new();
        for r in &self.rows {
            let key = |r: &Row| (r.updated_at.is_some(), r.updated_at.unwrap_or(0), r.order);
            match best.get(&r.id) {
                Some(b) if key(b) >= key(r) => {}
                _ => {
                    best.insert(r.id.clone(), r.clone());
                }
            }
        }
        best
    }
}

fn counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object().unwrap().iter().map(|(k, n)| (k.clone(), n.as_u64().unwrap())).collect()
}

#[test]
fn same_seed_gives_identical_files_whatever_the_thread_count() {
    let wd = Workdir::new();
    generate(&wd, "a", 1500, 11, &["--bad-rows", "2", "--threads", "1"]);
    generate(&wd, "b", 1500, 11, &["--bad-rows", "2", "--threads", "3"]);
    generate(&wd, "c", 1500, 12, &["--bad-rows", "2"]);
    for (x, y) in [("a", "b"), ("a-truth", "b-truth")] {
        let (fx, fy) = (files_in(&wd.path(x)), files_in(&wd.path(y)));
        assert_eq!(fx.len(), fy.len());
        assert!(fx.len() >= 3);
        for (p, q) in fx.iter().zip(&fy) {
            assert_eq!(p.file_name(), q.file_name());
            assert!(std::fs::read(p).unwrap() == std::fs::read(q).unwrap(), "{} differs", p.display());
        }
    }
    for name in ["events-003.jsonl", "interviews-004.csv"] {
        assert_ne!(std::fs::read(wd.path("a").join(name)).unwrap(), std::fs::read(wd.path("c").join(name)).unwrap());
    }
}

#[test]
fn accounting_in_expected_json_matches_an_independent_reading() {
    let wd = Workdir::new();
    generate(&wd, "raw", 2500, 5, &["--bad-rows", "3"]);
    let exp = json(&wd.path("raw-truth/expected.json"));
    let p = parse_dir(&wd.path("raw"));
    let (iv, ev) = (&exp["interviews"], &exp["events"]);

    assert_eq!(counts(&iv["files"]), p.interview_rows_by_file);
    assert_eq!(counts(&ev["files"]), p.event_lines_by_file);
    assert_eq!(counts(&iv["set_aside_by_reason"]), p.interview_set_aside);
    assert_eq!(counts(&ev["set_aside_by_reason"]), p.event_set_aside);
    assert_eq!(counts(&iv["warnings_by_field"]), p.interview_warnings);
    assert_eq!(counts(&ev["warnings_by_field"]), p.event_warnings);
    for reasons in [&p.interview_set_aside, &p.event_set_aside] {
        assert_eq!(reasons.len(), if std::ptr::eq(reasons, &p.interview_set_aside) { 5 } else { 6 });
        assert!(reasons.values().all(|&n| n == 3), "{reasons:?}");
    }
    assert!(p.interview_warnings.values().all(|&n| n == 3) && p.interview_warnings.len() == 3);
    assert_eq!(p.event_warnings.get("channel"), Some(&3));

    let winners = p.winners();
    assert_eq!(winners.len() as u64, 2500, "one row per interview");
    assert_eq!(iv["kept"].as_u64(), Some(2500));
    assert_eq!(iv["duplicates"].as_u64(), Some(p.rows.len() as u64 - 2500));
    assert_eq!(ev["kept"].as_u64(), Some(p.events.len() as u64));
    assert_eq!(ev["duplicates"].as_u64(), Some(p.event_duplicates));
    assert!(p.event_duplicates > 0 && iv["duplicates"].as_u64().unwrap() > 0);
    let orphans = p.events.values().filter(|e| !winners.contains_key(&e.interview_id)).count() as u64;
    assert_eq!(ev["orphans"].as_u64(), Some(orphans));
    for kind in [iv, ev] {
        let n = |k: &str| kind[k].as_u64().unwrap();
        assert_eq!(n("rows_read"), n("kept") + n("duplicates") + n("set_aside"));
    }
    // The status the lake ends with, from the winning rows.
    let mut status: BTreeMap<String, u64> = BTreeMap::new();
    for r in winners.values() {
        bump(&mut status, r.status.as_str());
    }
    assert_eq!(counts(&iv["status_recorded"]), status);
    // The re-export's winners all came from the re-export file.
    let reexport_file = files_in(&wd.path("raw")).iter().position(|f| f.ends_with("interviews-reexport.csv")).unwrap();
    let from_reexport = winners.values().filter(|r| r.order.0 == reexport_file).count() as u64;
    assert_eq!(from_reexport, iv["duplicates"].as_u64().unwrap());
}

#[test]
fn upcoming_interviews_stay_scheduled_and_no_event_is_after_as_of() {
    let wd = Workdir::new();
    generate(&wd, "raw", 2000, 9, &[]);
    let exp = json(&wd.path("raw-truth/expected.json"));
    let as_of = parse_timestamp(AS_OF, tz()).unwrap();
    let p = parse_dir(&wd.path("raw"));
    assert!(p.events.values().all(|e| e.ts <= as_of));
    let winners = p.winners();
    let upcoming: Vec<&Row> = winners.values().filter(|r| r.scheduled_at > as_of).collect();
    assert!(upcoming.iter().all(|r| r.status == Status::Scheduled));
    assert_eq!(exp["interviews"]["upcoming"].as_u64(), Some(upcoming.len() as u64));
    assert!(upcoming.len() > 50, "the two weeks after as-of hold upcoming interviews");
    // Past interviews still `scheduled`, with and without a join: work for the derived-status rule.
    let joined: HashSet<&str> =
        p.events.values().filter(|e| e.kind == EventType::Joined).map(|e| e.interview_id.as_str()).collect();
    let past: Vec<&Row> = winners.values().filter(|r| r.scheduled_at <= as_of && r.status == Status::Scheduled).collect();
    let with = past.iter().filter(|r| joined.contains(r.id.as_str())).count() as u64;
    let ps = &exp["interviews"]["past_still_scheduled"];
    assert_eq!(ps["with_joined_event"].as_u64(), Some(with));
    assert_eq!(ps["without_joined_event"].as_u64(), Some(past.len() as u64 - with));
    // Slots span about 26 weeks before as-of.
    let earliest = winners.values().map(|r| r.scheduled_at).min().unwrap();
    let weeks = (as_of - earliest) as f64 / (7.0 * 86_400e6);
    assert!((24.0..=26.1).contains(&weeks), "{weeks} weeks");
}

#[test]
fn documented_effects_show_in_the_raw_files() {
    let wd = Workdir::new();
    generate(&wd, "raw", 3000, 3, &[]);
    let as_of = parse_timestamp(AS_OF, tz()).unwrap();
    let p = parse_dir(&wd.path("raw"));
    let winners = p.winners();
    let mut by_interview: HashMap<&str, Vec<&Event>> = HashMap::new();
    for e in p.events.values() {
        by_interview.entry(e.interview_id.as_str()).or_default().push(e);
    }
    let has = |id: &str, k: EventType| by_interview.get(id).is_some_and(|v| v.iter().any(|e| e.kind == k));
    let closed: Vec<&Row> = winners.values().filter(|r| r.status != Status::Scheduled && r.scheduled_at < as_of).collect();
    let n = closed.len() as f64;
    let rate = |s: Status| closed.iter().filter(|r| r.status == s).count() as f64 / n;
    let (ns, cc, co) = (rate(Status::NoShow), rate(Status::CancelledByCandidate), rate(Status::CancelledByCompany));
    assert!((0.09..0.16).contains(&ns), "no-show rate {ns}");
    assert!((0.07..0.14).contains(&(cc + co)), "cancellation rate {}", cc + co);
    assert!((0.5..0.8).contains(&(cc / (cc + co))), "candidate share {}", cc / (cc + co));

    // Not viewing the job description goes with more no-shows and candidate cancellations.
    let not_attend = |r: &&Row| matches!(r.status, Status::NoShow | Status::CancelledByCandidate);
    let open: Vec<&Row> = closed.iter().copied().filter(|r| matches!(r.status, Status::Attended) || not_attend(r)).collect();
    let rate_by = |viewed: bool| {
        let g: Vec<&&Row> = open.iter().filter(|r| has(&r.id, EventType::JdViewed) == viewed).collect();
        g.iter().filter(|r| not_attend(r)).count() as f64 / g.len() as f64
    };
    let (without, with) = (rate_by(false), rate_by(true));
    assert!(without > 1.15 * with, "not-attend without JD {without} vs with {with}");

    // Link errors cluster in the no-shows of technical roles.
    let technical = |r: &Row| matches!(r.role.as_str(), "software_engineer" | "data_engineer");
    let share = |tech: bool| {
        let g: Vec<&&Row> = closed.iter().filter(|r| r.status == Status::NoShow && technical(r) == tech).collect();
        g.iter().filter(|r| has(&r.id, EventType::LinkError)).count() as f64 / g.len() as f64
    };
    let (tech, other) = (share(true), share(false));
    assert!(tech > other + 0.15, "link-error share of no-shows: technical {tech}, other {other}");

    // SMS is often not delivered in one region.
    let region_of: HashMap<&str, &str> = winners.values().map(|r| (r.id.as_str(), r.region.as_str())).collect();
    let sms = |southwest: bool, kind: EventType| {
        p.events
            .values()
            .filter(|e| e.kind == kind && e.channel == Some(Channel::Sms))
            .filter(|e| region_of.get(e.interview_id.as_str()).is_some_and(|r| (*r == "西南") == southwest))
            .count() as f64
    };
    let delivered = |sw: bool| sms(sw, EventType::MessageDelivered) / (sms(sw, EventType::ReminderSent) + sms(sw, EventType::InviteSent));
    assert!(delivered(true) < 0.7 * delivered(false), "SMS delivery 西南 {} vs elsewhere {}", delivered(true), delivered(false));
    // Chinese values survive.
    assert!(winners.values().any(|r| r.role == "销售") && winners.values().any(|r| r.region == "华东"));
}

#[test]
fn truth_is_apart_complete_and_calibrated() {
    let wd = Workdir::new();
    generate(&wd, "raw", 3000, 21, &[]);
    let truth = wd.path("raw-truth");
    for f in files_in(&truth) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.starts_with("interviews") && !name.starts_with("events"), "{name} would be read as raw logs");
    }
    assert!(files_in(&wd.path("raw")).iter().all(|f| !f.to_string_lossy().contains("truth")));
    let mut rdr = csv::Reader::from_path(truth.join("truth_interviews.csv")).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    for c in ["interview_id", "candidate_id", "p_not_attend", "p_no_show", "p_cancel_candidate", "outcome"] {
        assert!(header.iter().any(|h| h == c), "{c}");
    }
    let (mut n, mut p_sum, mut hits) = (0.0, 0.0, 0.0);
    let mut ids = HashSet::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let p: f64 = rec[2].parse().unwrap();
        let (pn, pc): (f64, f64) = (rec[3].parse().unwrap(), rec[4].parse().unwrap());
        assert!((pn + pc - p).abs() < 2e-6 && p > 0.0 && p < 1.0);
        n += 1.0;
        p_sum += p;
        hits += f64::from(matches!(&rec[5], "no_show" | "cancelled_by_candidate"));
        ids.insert(rec[0].to_string());
    }
    assert_eq!(n, 3000.0);
    assert_eq!(ids, parse_dir(&wd.path("raw")).winners().keys().cloned().collect());
    // The drawn outcomes agree with the true probabilities: within 4 binomial standard errors.
    let mean = p_sum / n;
    let se = (mean * (1.0 - mean) / n).sqrt();
    assert!((hits / n - mean).abs() < 4.0 * se, "rate {} vs mean p {mean}", hits / n);
    let effects = json(&truth.join("effects.json"));
    assert!(effects["model"]["not_attend"]["no_jd_viewed"].as_f64().unwrap() > 0.0);

    // A truth folder inside --out is a usage error.
    let out = wd.output(&["generate", "--out", "x", "--truth", "x/t", "--interviews", "300", "--as-of", AS_OF]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn gzip_holds_the_same_bytes_and_reruns_need_force() {
    let wd = Workdir::new();
    generate(&wd, "plain", 800, 4, &["--bad-rows", "1"]);
    generate(&wd, "gz", 800, 4, &["--bad-rows", "1", "--gzip"]);
    generate(&wd, "gzev", 800, 4, &["--bad-rows", "1", "--gzip", "events"]);
    let plain = files_in(&wd.path("plain"));
    let gz = files_in(&wd.path("gz"));
    assert_eq!(plain.len(), gz.len());
    for (a, b) in plain.iter().zip(&gz) {
        assert_eq!(b.extension().unwrap(), "gz");
        assert!(read_bytes(a) == read_bytes(b), "{} differs from {}", a.display(), b.display());
    }
    let mixed: Vec<String> = files_in(&wd.path("gzev")).iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert!(mixed.iter().all(|n| n.ends_with(".csv") || n.ends_with(".jsonl.gz")), "{mixed:?}");

    let again = wd.output(&["generate", "--out", "plain", "--interviews", "300", "--as-of", AS_OF]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    generate(&wd, "plain", 300, 4, &["--force"]);
    let exp = json(&wd.path("plain-truth/expected.json"));
    assert_eq!(exp["interviews"]["kept"].as_u64(), Some(300));
    assert_eq!(parse_dir(&wd.path("plain")).winners().len(), 300, "no stale export left behind");
}
