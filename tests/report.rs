//! Tests of `noshow report`: every rate table against a naive row-by-row count over the
//! same synthetic data, suppression, the derived-status rule end to end, the HTML in
//! headless Chromium, and the command line.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::workdir::{read_parquet, Workdir};
use noshow::time::{iso_week_label, parse_timestamp, parse_tz, Micros, MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_MINUTE, MICROS_PER_SECOND};

const AS_OF: &str = "2026-03-30T00:00:00+08:00";
const TZ: &str = "Asia/Shanghai";

/// One synthetic interview as the test knows it (the ground truth for the naive count).
#[derive(Debug, Clone)]
struct Interview {
    id: String,
    role: String,
    region: String,
    education: Option<String>,
    fresh_graduate: Option<bool>,
    source: Option<String>,
    preferred_channel: Option<String>,
    invited: Micros,
    slot: Micros,
    status: String,
    cause: Option<String>,
    cost: Option<f64>,
}

#[derive(Debug, Clone)]
struct Event {
    id: String,
    interview: String,
    ts: Micros,
    kind: &'static str,
    channel: Option<String>,
    detail: Option<String>,
}

fn as_of() -> Micros {
    parse_timestamp(AS_OF, chrono_tz::UTC).unwrap()
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// Seeded synthetic interviews and events, with the cases the rules care about: slots
/// still `scheduled` past the grace (with and without a `joined` event, and with one
/// only after as-of), future slots, unknown segment values, orphan events, and a role
/// too small to publish.
fn synthetic(n: usize, seed: u64) -> (Vec<Interview>, Vec<Event>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let as_of = as_of();
    let mut interviews = Vec::new();
    let mut events = Vec::new();
    let mut next_event = 0u64;
    let mut push = |events: &mut Vec<Event>, interview: &str, ts: Micros, kind: &'static str, channel: Option<&str>, detail: Option<&str>| {
        next_event += 1;
        events.push(Event { id: format!("ev{next_event}"), interview: interview.into(), ts, kind, channel: channel.map(String::from), detail: detail.map(String::from) });
    };
    for i in 0..n {
        let role = if i % 400 == 7 { "designer" } else { pick(&mut rng, &["software_engineer", "sales", "销售", "data_analyst"]) };
        let slot = as_of - 70 * MICROS_PER_DAY + rng.random_range(0..77 * MICROS_PER_DAY) / MICROS_PER_MINUTE * MICROS_PER_MINUTE;
        let invited = slot - rng.random_range(2 * MICROS_PER_HOUR..20 * MICROS_PER_DAY);
        let u: f64 = rng.random();
        let mut status = if u < 0.55 { "attended" } else if u < 0.70 { "no_show" } else if u < 0.78 { "cancelled_by_candidate" } else if u < 0.82 { "cancelled_by_company" } else if u < 0.87 { "rescheduled" } else { "scheduled" };
        if slot > as_of {
            status = "scheduled";
        }
        let cause = match status {
            "no_show" => Some(pick(&mut rng, &["forgot", "technical_issue", "schedule_conflict"])),
            "cancelled_by_candidate" => Some(pick(&mut rng, &["schedule_conflict", "role_mismatch", "emergency"])),
            "cancelled_by_company" => Some(pick(&mut rng, &["position_closed", "double_booking"])),
            _ => None,
        };
        let iv = Interview {
            id: format!("iv{i:05}"),
            role: role.into(),
            region: pick(&mut rng, &["east", "west", "华北"]).into(),
            education: (rng.random::<f64>() > 0.1).then(|| pick(&mut rng, &["bachelor", "master", "associate"]).to_string()),
            fresh_graduate: (rng.random::<f64>() > 0.1).then(|| rng.random::<bool>()),
            source: (rng.random::<f64>() > 0.05).then(|| pick(&mut rng, &["campus", "referral", "job_board"]).to_string()),
            preferred_channel: (rng.random::<f64>() > 0.05).then(|| pick(&mut rng, &["sms", "email", "wechat"]).to_string()),
            invited,
            slot,
            status: status.into(),
            cause: cause.map(String::from),
            cost: (rng.random::<f64>() > 0.1).then(|| f64::from(rng.random_range(50..400u32))),
        };
        let channel = iv.preferred_channel.clone().unwrap_or_else(|| "sms".into());
        push(&mut events, &iv.id, invited, "invite_sent", Some(&channel), None);
        if rng.random::<f64>() < 0.9 {
            push(&mut events, &iv.id, invited + MICROS_PER_MINUTE, "message_delivered", Some(&channel), None);
            if rng.random::<f64>() < 0.7 {
                push(&mut events, &iv.id, invited + 30 * MICROS_PER_MINUTE, "message_read", Some(&channel), None);
            }
        }
        if rng.random::<f64>() < 0.6 {
            push(&mut events, &iv.id, invited + MICROS_PER_HOUR, "jd_viewed", None, None);
        }
        if rng.random::<f64>() < 0.4 {
            push(&mut events, &iv.id, invited + 2 * MICROS_PER_HOUR, "company_intro_viewed", None, None);
        }
        if rng.random::<f64>() < 0.7 {
            push(&mut events, &iv.id, invited + 3 * MICROS_PER_HOUR, "confirmed", None, None);
        }
        if rng.random::<f64>() < 0.6 {
            // Some clicks fall inside the last 24 hours before the slot, some earlier.
            let before = if rng.random::<bool>() { MICROS_PER_HOUR } else { 30 * MICROS_PER_HOUR };
            push(&mut events, &iv.id, (slot - before).max(invited), "link_clicked", None, None);
        }
        if rng.random::<f64>() < 0.5 {
            let ch = pick(&mut rng, &["sms", "email"]);
            push(&mut events, &iv.id, slot - 2 * MICROS_PER_HOUR, "reminder_sent", Some(ch), Some("-2h"));
        }
        let join_roll: f64 = rng.random();
        if iv.status == "attended" || (iv.status == "scheduled" && join_roll < 0.5) {
            // A third of the joins of still-scheduled past slots land after as-of:
            // they must not count.
            let at = if iv.status == "scheduled" && join_roll < 0.15 { as_of + MICROS_PER_MINUTE } else { slot + 2 * MICROS_PER_MINUTE };
            push(&mut events, &iv.id, at, "joined", None, None);
        }
        interviews.push(iv);
    }
    // Orphans: events whose interview is not in the lake (they must change nothing).
    for k in 0..30 {
        push(&mut events, &format!("ghost{k}"), as_of - MICROS_PER_DAY, "joined", None, None);
    }
    (interviews, events)
}

fn utc(values: Vec<Option<Micros>>, name: &str) -> Column {
    Series::new(name.into(), values)
        .cast(&DataType::Datetime(TimeUnit::Microseconds, Some(polars::prelude::TimeZone::UTC)))
        .unwrap()
        .into_column()
}

/// Writes the data as a committed lake version, the way ingest lays it out.
fn write_lake(root: &Path, interviews: &[Interview], events: &[Event]) {
    let n = interviews.len();
    let mut iv = DataFrame::new(
        n,
        vec![
            Column::new("interview_id".into(), interviews.iter().map(|r| r.id.clone()).collect::<Vec<_>>()),
            Column::new("candidate_id".into(), interviews.iter().map(|r| format!("RAWCAND-{}", r.id)).collect::<Vec<_>>()),
            Column::new("role".into(), interviews.iter().map(|r| r.role.clone()).collect::<Vec<_>>()),
            Column::new("region".into(), interviews.iter().map(|r| r.region.clone()).collect::<Vec<_>>()),
            Column::new("education".into(), interviews.iter().map(|r| r.education.clone()).collect::<Vec<_>>()),
            Column::new("fresh_graduate".into(), interviews.iter().map(|r| r.fresh_graduate).collect::<Vec<_>>()),
            Column::new("source".into(), interviews.iter().map(|r| r.source.clone()).collect::<Vec<_>>()),
            Column::new("preferred_channel".into(), interviews.iter().map(|r| r.preferred_channel.clone()).collect::<Vec<_>>()),
            utc(interviews.iter().map(|r| Some(r.invited)).collect(), "invited_at"),
            utc(interviews.iter().map(|r| Some(r.slot)).collect(), "scheduled_at"),
            Column::new("status".into(), interviews.iter().map(|r| r.status.clone()).collect::<Vec<_>>()),
            Column::new("cause".into(), interviews.iter().map(|r| r.cause.clone()).collect::<Vec<_>>()),
            Column::new("no_show_grade".into(), vec![None::<String>; n]),
            Column::new("cost".into(), interviews.iter().map(|r| r.cost).collect::<Vec<_>>()),
            utc(vec![None; n], "updated_at"),
            Column::new("origin_file".into(), vec!["interviews-test.csv"; n]),
            Column::new("origin_line".into(), (0..n as u64).map(|l| l + 2).collect::<Vec<_>>()),
        ],
    )
    .unwrap();
    let m = events.len();
    let mut ev = DataFrame::new(
        m,
        vec![
            Column::new("event_id".into(), events.iter().map(|e| e.id.clone()).collect::<Vec<_>>()),
            Column::new("interview_id".into(), events.iter().map(|e| e.interview.clone()).collect::<Vec<_>>()),
            utc(events.iter().map(|e| Some(e.ts)).collect(), "ts"),
            Column::new("type".into(), events.iter().map(|e| e.kind.to_string()).collect::<Vec<_>>()),
            Column::new("channel".into(), events.iter().map(|e| e.channel.clone()).collect::<Vec<_>>()),
            Column::new("detail".into(), events.iter().map(|e| e.detail.clone()).collect::<Vec<_>>()),
            Column::new("origin_file".into(), vec!["events-test.jsonl"; m]),
            Column::new("origin_line".into(), (1..=m as u64).collect::<Vec<_>>()),
        ],
    )
    .unwrap();
    let lake = noshow::lake::Lake::new(root);
    let lock = lake.lock().unwrap();
    let version = lake.begin_version(&lock).unwrap();
    noshow::export::write_parquet(&version.dir().join("interviews/part-00000.parquet"), &mut iv).unwrap();
    noshow::export::write_parquet(&version.dir().join("events/part-00000.parquet"), &mut ev).unwrap();
    version.commit_listing_files(1).unwrap();
}

/// The derived-status rule, written again row by row: (status, closed).
fn naive_status(iv: &Interview, events: &[Event], as_of: Micros, grace_minutes: i64) -> (String, bool) {
    let mut status = iv.status.clone();
    if status == "scheduled" && iv.slot < as_of - grace_minutes * MICROS_PER_MINUTE {
        let joined = events.iter().any(|e| e.interview == iv.id && e.kind == "joined" && e.ts <= as_of);
        status = if joined { "attended".into() } else { "no_show".into() };
    }
    let closed = status != "scheduled" && iv.slot < as_of;
    (status, closed)
}

/// Wilson interval in its other textbook form, (2np + z² ± z·sqrt(z² + 4np(1−p))) / 2(n + z²),
/// so a slip in the library's algebra would show.
fn wilson_reference(k: u64, n: u64) -> (f64, f64) {
    let z = 1.959964f64;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let root = z * (z * z + 4.0 * n * p * (1.0 - p)).sqrt();
    (((2.0 * n * p + z * z - root) / (2.0 * (n + z * z))).max(0.0), ((2.0 * n * p + z * z + root) / (2.0 * (n + z * z))).min(1.0))
}

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    n: u64,
    attended: u64,
    no_show: u64,
    cand: u64,
    comp: u64,
    resch: u64,
}

fn key_of(iv: &Interview, dim: &str, tz: chrono_tz::Tz) -> Option<String> {
    match dim {
        "role" => Some(iv.role.clone()),
        "region" => Some(iv.region.clone()),
        "education" => iv.education.clone(),
        "fresh_graduate" => iv.fresh_graduate.map(|b| b.to_string()),
        "source" => iv.source.clone(),
        "preferred_channel" => iv.preferred_channel.clone(),
        "week" => Some(iso_week_label(iv.slot, tz)),
        other => panic!("no key {other}"),
    }
}

fn naive_table(interviews: &[Interview], events: &[Event], dims: &[&str], grace: i64) -> HashMap<Vec<Option<String>>, Tally> {
    let tz = parse_tz(TZ).unwrap();
    let mut out: HashMap<Vec<Option<String>>, Tally> = HashMap::new();
    for iv in interviews {
        let (status, closed) = naive_status(iv, events, as_of(), grace);
        if !closed {
            continue;
        }
        let t = out.entry(dims.iter().map(|d| key_of(iv, d, tz)).collect()).or_default();
        t.n += 1;
        match status.as_str() {
            "attended" => t.attended += 1,
            "no_show" => t.no_show += 1,
            "cancelled_by_candidate" => t.cand += 1,
            "cancelled_by_company" => t.comp += 1,
            "rescheduled" => t.resch += 1,
            other => panic!("closed with status {other}"),
        }
    }
    out
}

fn texts(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    let c = df.column(name).unwrap().cast(&DataType::String).unwrap();
    c.str().unwrap().iter().map(|v| v.map(String::from)).collect()
}

fn ints(df: &DataFrame, name: &str) -> Vec<Option<i64>> {
    let c = df.column(name).unwrap().cast(&DataType::Int64).unwrap();
    c.i64().unwrap().iter().collect()
}

fn floats(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    let c = df.column(name).unwrap().cast(&DataType::Float64).unwrap();
    c.f64().unwrap().iter().collect()
}

fn flags(df: &DataFrame, name: &str) -> Vec<Option<bool>> {
    df.column(name).unwrap().bool().unwrap().iter().collect()
}

/// Checks one published rate table row by row against the naive tally.
fn check_rate_table(df: &DataFrame, dims: &[&str], expected: &HashMap<Vec<Option<String>>, Tally>, threshold: u64, table: &str) {
    assert_eq!(df.height(), expected.len(), "{table}: one row per segment, the unknown included");
    let keys: Vec<Vec<Option<String>>> = {
        let cols: Vec<Vec<Option<String>>> = dims.iter().map(|d| texts(df, d)).collect();
        (0..df.height()).map(|i| cols.iter().map(|c| c[i].clone()).collect()).collect()
    };
    let (n, att, ns, cand, comp, resch) = (ints(df, "interviews"), ints(df, "attended"), ints(df, "no_shows"), ints(df, "cancelled_by_candidate"), ints(df, "cancelled_by_company"), ints(df, "rescheduled"));
    let (rate, low, high, cancel, crate_, rrate) = (floats(df, "no_show_rate"), floats(df, "no_show_rate_low"), floats(df, "no_show_rate_high"), floats(df, "cancel_rate"), floats(df, "company_cancel_rate"), floats(df, "reschedule_rate"));
    let hidden = flags(df, "suppressed");
    let mut suppressed_seen = 0;
    for (i, key) in keys.iter().enumerate() {
        let t = expected.get(key).unwrap_or_else(|| panic!("{table}: unexpected segment {key:?}"));
        if t.n < threshold {
            suppressed_seen += 1;
            assert_eq!(hidden[i], Some(true), "{table} {key:?}");
            assert!(n[i].is_none() && ns[i].is_none() && rate[i].is_none() && low[i].is_none() && cancel[i].is_none(), "{table} {key:?}: suppressed row leaks");
            continue;
        }
        assert_eq!(hidden[i], Some(false), "{table} {key:?}");
        assert_eq!((n[i], att[i], ns[i], cand[i], comp[i], resch[i]),
            (Some(t.n as i64), Some(t.attended as i64), Some(t.no_show as i64), Some(t.cand as i64), Some(t.comp as i64), Some(t.resch as i64)), "{table} {key:?}");
        let close = |a: Option<f64>, b: f64, what: &str| assert!((a.unwrap() - b).abs() < 1e-12, "{table} {key:?} {what}: {a:?} vs {b}");
        close(rate[i], t.no_show as f64 / t.n as f64, "no_show_rate");
        let (l, h) = wilson_reference(t.no_show, t.n);
        close(low[i], l, "low");
        close(high[i], h, "high");
        close(cancel[i], t.cand as f64 / t.n as f64, "cancel_rate");
        close(crate_[i], t.comp as f64 / t.n as f64, "company_cancel_rate");
        close(rrate[i], t.resch as f64 / t.n as f64, "reschedule_rate");
    }
    let _ = suppressed_seen;
}

fn report_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--as-of", AS_OF, "--tz", TZ, "report", "--lake", "lake", "--out", "out"];
    args.extend_from_slice(extra);
    args
}

#[test]
fn rate_tables_match_a_naive_count() {
    let w = Workdir::new();
    let (interviews, events) = synthetic(2500, 7);
    write_lake(&w.path("lake"), &interviews, &events);
    w.run(&report_args(&["--by", "role,region", "--quiet"]));
    for dim in ["role", "region", "education", "fresh_graduate", "source", "preferred_channel", "week"] {
        let df = read_parquet(&w.path(&format!("out/rates_by_{dim}.parquet")));
        check_rate_table(&df, &[dim], &naive_table(&interviews, &events, &[dim], 15), 10, dim);
        assert!(w.path(&format!("out/rates_by_{dim}.csv")).exists());
    }
    let cut = read_parquet(&w.path("out/rates_by_role_region.parquet"));
    check_rate_table(&cut, &["role", "region"], &naive_table(&interviews, &events, &["role", "region"], 15), 10, "role×region");
    // The small role is there, suppressed; unknown education is a row of its own.
    let role = read_parquet(&w.path("out/rates_by_role.parquet"));
    let roles = texts(&role, "role");
    let designer = roles.iter().position(|r| r.as_deref() == Some("designer")).expect("designer row kept");
    assert_eq!(flags(&role, "suppressed")[designer], Some(true));
    assert!(texts(&read_parquet(&w.path("out/rates_by_education.parquet")), "education").contains(&None));
    // For a look from outside (tests/py/check_rates.py): keep the lake and the output.
    if let Ok(keep) = std::env::var("NOSHOW_KEEP_REPORT_DIR") {
        std::process::Command::new("cp").args(["-r"]).arg(w.path("lake")).arg(w.path("out")).arg(&keep).status().unwrap();
    }
}

#[test]
fn week_table_compares_with_the_previous_week() {
    let w = Workdir::new();
    let (interviews, events) = synthetic(1500, 11);
    write_lake(&w.path("lake"), &interviews, &events);
    w.run(&report_args(&["--quiet"]));
    let df = read_parquet(&w.path("out/rates_by_week.parquet"));
    let expected = naive_table(&interviews, &events, &["week"], 15);
    let (weeks, prev, change, rate) = (texts(&df, "week"), floats(&df, "previous_no_show_rate"), floats(&df, "no_show_rate_change"), floats(&df, "no_show_rate"));
    let mut checked = 0;
    for i in 1..df.height() {
        let (Some(this), Some(before)) = (&weeks[i], &weeks[i - 1]) else { continue };
        let t = expected[&vec![Some(before.clone())]];
        if t.n < 10 || expected[&vec![Some(this.clone())]].n < 10 {
            continue;
        }
        let p = t.no_show as f64 / t.n as f64;
        assert!((prev[i].unwrap() - p).abs() < 1e-12, "{this}");
        assert!((change[i].unwrap() - (rate[i].unwrap() - p)).abs() < 1e-12, "{this}");
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} consecutive weeks compared");
    assert_eq!(prev[0], None, "the first week has nothing before it");
}

#[test]
fn grace_minutes_and_suppression_threshold_flags_change_the_counts() {
    let w = Workdir::new();
    let (interviews, events) = synthetic(800, 3);
    write_lake(&w.path("lake"), &interviews, &events);
    w.run(&report_args(&["--grace-minutes", "600", "--suppression-threshold", "150", "--quiet"]));
    let df = read_parquet(&w.path("out/rates_by_role.parquet"));
    check_rate_table(&df, &["role"], &naive_table(&interviews, &events, &["role"], 600), 150, "role, grace 600");
    let summary: serde_json::Value = serde_json::from_str(&w.read("out/summary.json")).unwrap();
    assert_eq!(summary["lineage"]["grace_minutes"], 600);
    assert_eq!(summary["lineage"]["suppression_threshold"], 150);
    assert_eq!(summary["lineage"]["lake_version"], 1);
    let naive_closed: u64 = naive_table(&interviews, &events, &["role"], 600).values().map(|t| t.n).sum();
    assert_eq!(summary["headline"]["closed_interviews"], naive_closed);
}

#[test]
fn cause_and_cost_tables_match_a_naive_count() {
    let w = Workdir::new();
    let (interviews, events) = synthetic(1500, 5);
    write_lake(&w.path("lake"), &interviews, &events);
    w.run(&report_args(&["--quiet"]));
    let mut causes: BTreeMap<Option<String>, u64> = BTreeMap::new();
    let mut cost_by_role: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for iv in &interviews {
        let (status, closed) = naive_status(iv, &events, as_of(), 15);
        if !closed {
            continue;
        }
        let cause = if status == "no_show" && iv.status == "scheduled" { Some("unknown".to_string()) } else { iv.cause.clone() };
        let entry = cost_by_role.entry(iv.role.clone()).or_default();
        entry.1 += iv.cost.unwrap_or(0.0);
        if status == "no_show" {
            *causes.entry(cause).or_default() += 1;
            entry.0 += iv.cost.unwrap_or(0.0);
        }
    }
    let total: u64 = causes.values().sum();
    let df = read_parquet(&w.path("out/causes_no_show.parquet"));
    let (cause, count, share) = (texts(&df, "cause"), ints(&df, "count"), floats(&df, "share"));
    assert_eq!(df.height(), causes.len());
    for i in 0..df.height() {
        let want = causes[&cause[i]];
        assert_eq!(count[i], Some(want as i64), "{:?}", cause[i]);
        assert!((share[i].unwrap() - want as f64 / total as f64).abs() < 1e-12);
    }
    assert!(count.windows(2).all(|p| p[0] >= p[1]), "largest cause first");
    let df = read_parquet(&w.path("out/cost_by_role.parquet"));
    let (role, ns_cost, all_cost, hidden) = (texts(&df, "role"), floats(&df, "no_show_cost"), floats(&df, "total_cost"), flags(&df, "suppressed"));
    for i in 0..df.height() {
        if hidden[i] == Some(true) {
            continue;
        }
        let (a, b) = cost_by_role[role[i].as_ref().unwrap()];
        assert!((ns_cost[i].unwrap() - a).abs() < 1e-6 && (all_cost[i].unwrap() - b).abs() < 1e-6, "{:?}", role[i]);
    }
}

#[test]
fn funnel_and_signals_match_a_naive_count() {
    let w = Workdir::new();
    let (interviews, events) = synthetic(1500, 13);
    write_lake(&w.path("lake"), &interviews, &events);
    w.run(&report_args(&["--quiet"]));
    let as_of = as_of();
    let has = |iv: &Interview, kind: &str, from: Micros, to: Micros| events.iter().any(|e| e.interview == iv.id && e.kind == kind && e.ts >= from && e.ts < to);
    let steps = ["message_delivered", "message_read", "confirmed", "link_clicked", "joined", "completed"];
    let mut funnel = [0u64; 7];
    // signal -> (with n, with misses, without n, without misses); a miss is a no-show or candidate cancellation.
    let mut sig: BTreeMap<&str, (u64, u64, u64, u64)> = BTreeMap::new();
    for iv in &interviews {
        let (status, closed) = naive_status(iv, &events, as_of, 15);
        if !closed {
            continue;
        }
        let miss = status == "no_show" || status == "cancelled_by_candidate";
        for (name, present) in [
            ("jd_viewed", has(iv, "jd_viewed", i64::MIN, iv.slot)),
            ("company_intro_viewed", has(iv, "company_intro_viewed", i64::MIN, iv.slot)),
            ("link_clicked_24h", has(iv, "link_clicked", iv.slot - 24 * MICROS_PER_HOUR, iv.slot)),
            ("confirmed", has(iv, "confirmed", i64::MIN, iv.slot)),
        ] {
            let e = sig.entry(name).or_default();
            if present { e.0 += 1; e.1 += u64::from(miss); } else { e.2 += 1; e.3 += u64::from(miss); }
        }
        if status == "cancelled_by_company" {
            continue;
        }
        funnel[0] += 1;
        for (k, step) in steps.iter().enumerate() {
            if !has(iv, step, i64::MIN, as_of + 1) {
                break;
            }
            funnel[k + 1] += 1;
        }
    }
    let df = read_parquet(&w.path("out/funnel.parquet"));
    let got: Vec<u64> = ints(&df, "interviews").into_iter().map(|v| v.unwrap() as u64).collect();
    assert_eq!(got, funnel.to_vec());
    assert!(funnel[3] > 0 && funnel[4] > 0 && funnel[5] > 0, "the synthetic data reaches deep into the funnel: {funnel:?}");
    let drop = floats(&df, "drop_from_previous");
    assert!((drop[2].unwrap() - (1.0 - funnel[2] as f64 / funnel[1] as f64)).abs() < 1e-12);

    let df = read_parquet(&w.path("out/signals.parquet"));
    let (name, outcome) = (texts(&df, "signal"), texts(&df, "outcome"));
    let (rr, lo, hi) = (floats(&df, "relative_risk"), floats(&df, "relative_risk_low"), floats(&df, "relative_risk_high"));
    let mut checked = 0;
    for i in 0..df.height() {
        if outcome[i].as_deref() != Some("no_show_or_cancel") {
            continue;
        }
        let Some(&(n1, a1, n0, a0)) = sig.get(name[i].as_deref().unwrap()) else { continue };
        // RR of missing without the signal vs with it; Katz log interval.
        let want = (a0 as f64 / n0 as f64) / (a1 as f64 / n1 as f64);
        let se = (1.0 / a0 as f64 - 1.0 / n0 as f64 + 1.0 / a1 as f64 - 1.0 / n1 as f64).sqrt();
        assert!((rr[i].unwrap() - want).abs() < 1e-9, "{:?}", name[i]);
        assert!((lo[i].unwrap() - (want.ln() - 1.959964 * se).exp()).abs() < 1e-9);
        assert!((hi[i].unwrap() - (want.ln() + 1.959964 * se).exp()).abs() < 1e-9);
        checked += 1;
    }
    assert_eq!(checked, 4);
}

#[test]
fn no_raw_candidate_ids_in_any_output() {
    let w = Workdir::new();
    let (interviews, events) = synthetic(600, 9);
    write_lake(&w.path("lake"), &interviews, &events);
    w.run(&report_args(&["--quiet"]));
    for entry in std::fs::read_dir(w.path("out")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let hay = String::from_utf8_lossy(&bytes);
        assert!(!hay.contains("RAWCAND-"), "{} holds a raw candidate id", path.display());
    }
}

#[test]
fn usage_errors_exit_2() {
    let w = Workdir::new();
    let (interviews, events) = synthetic(100, 1);
    write_lake(&w.path("lake"), &interviews, &events);
    for bad in [&["--by", "role"][..], &["--by", "role,salary"], &["--lang", "fr"]] {
        let out = w.output(&report_args(bad));
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = w.output(&["report", "--lake", "nowhere", "--out", "out"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere"));
    assert!(!w.path("out").exists(), "nothing half-written");
}

/// A decoded 8-bit RGB or RGBA PNG: (width, height, RGB pixels). Written here with
/// flate2 (already a dependency) instead of adding an image crate for one test.
fn decode_png(bytes: &[u8]) -> (usize, usize, Vec<[u8; 3]>) {
    use std::io::Read;
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let (mut pos, mut width, mut height, mut channels) = (8, 0usize, 0usize, 0usize);
    let mut idat = Vec::new();
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let data = &bytes[pos + 8..pos + 8 + len];
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                height = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                assert_eq!(data[8], 8, "bit depth");
                channels = match data[9] { 2 => 3, 6 => 4, other => panic!("colour type {other}") };
                assert_eq!(data[12], 0, "interlaced PNGs are not expected from Chromium");
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        pos += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..]).read_to_end(&mut raw).unwrap();
    let stride = width * channels;
    let mut prev = vec![0u8; stride];
    let mut pixels = Vec::with_capacity(width * height);
    for row in 0..height {
        let line = &raw[row * (stride + 1)..(row + 1) * (stride + 1)];
        let mut cur = line[1..].to_vec();
        for i in 0..stride {
            let a = if i >= channels { cur[i - channels] as i16 } else { 0 };
            let b = prev[i] as i16;
            let c = if i >= channels { prev[i - channels] as i16 } else { 0 };
            let add = match line[0] {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc { a } else if pb <= pc { b } else { c }
                }
                f => panic!("filter {f}"),
            };
            cur[i] = cur[i].wrapping_add(add as u8);
        }
        pixels.extend(cur.chunks(channels).map(|p| [p[0], p[1], p[2]]));
        prev = cur;
    }
    (width, height, pixels)
}

/// Renders `html` in headless Chromium and returns the screenshot's path, or `None`
/// (with a note) when Chromium is not installed: `.ci/run` installs it.
fn screenshot(w: &Workdir, html: &Path, name: &str) -> Option<std::path::PathBuf> {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().find(|p| Path::new(p).exists());
    let Some(chromium) = chromium else {
        eprintln!("chromium not installed: screenshot check skipped (.ci/run installs it)");
        return None;
    };
    let png = w.path(name);
    let status = std::process::Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", w.path("chromium-profile").display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1280,4000")
        .arg(format!("file://{}", html.canonicalize().unwrap().display()))
        .output()
        .expect("running chromium");
    assert!(png.exists(), "chromium wrote no screenshot: {}", String::from_utf8_lossy(&status.stderr));
    Some(png)
}

#[test]
fn report_html_renders_in_headless_chromium() {
    let w = Workdir::new();
    let (interviews, events) = synthetic(2000, 21);
    write_lake(&w.path("lake"), &interviews, &events);
    w.run(&report_args(&["--quiet"]));
    let html = w.read("out/report.html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    for needle in ["No-show rate by segment", "Weekly trend", "Invitation funnel", "Cost of no-shows", "<svg", "software engineer"] {
        assert!(html.contains(needle), "report lacks {needle:?}");
    }
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"), "the page must work offline");
    let Some(png) = screenshot(&w, &w.path("out/report.html"), "report.png") else { return };
    let (width, height, pixels) = decode_png(&std::fs::read(&png).unwrap());
    assert_eq!((width, height), (1280, 4000));
    let inked = pixels.iter().filter(|p| p.iter().any(|&c| c < 200)).count();
    // The chart blue (#0072B2) of dots, whiskers and the trend line, give or take antialiasing.
    let blue = pixels.iter().filter(|p| p[0] < 30 && (100..130).contains(&p[1]) && (160..200).contains(&p[2])).count();
    assert!(inked > pixels.len() / 100, "screenshot looks blank: {inked} inked pixels");
    assert!(blue > 500, "no charts visible: {blue} chart-blue pixels");
    eprintln!("screenshot {}: {inked} inked pixels, {blue} chart-blue", png.display());
    if let Ok(keep) = std::env::var("NOSHOW_KEEP_SCREENSHOT") {
        std::fs::copy(&png, keep).unwrap();
    }
}

#[test]
fn chinese_report_uses_the_translation_table() {
    let w = Workdir::new();
    let (interviews, events) = synthetic(600, 4);
    write_lake(&w.path("lake"), &interviews, &events);
    w.run(&report_args(&["--lang", "zh", "--quiet"]));
    let html = w.read("out/report.html");
    assert!(html.contains("lang=\"zh-CN\"") && html.contains("各细分群体的爽约率") && html.contains("邀约漏斗"));
    assert!(!html.contains("No-show rate by segment"));
    if let Some(png) = screenshot(&w, &w.path("out/report.html"), "report-zh.png") {
        if let Ok(keep) = std::env::var("NOSHOW_KEEP_SCREENSHOT_ZH") {
            std::fs::copy(&png, keep).unwrap();
        }
    }
}

/// Every Parquet file under `dir`, read eagerly and stacked.
fn read_all(dir: &Path) -> DataFrame {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() { stack.push(p) } else if p.extension().is_some_and(|e| e == "parquet") { files.push(p) }
        }
    }
    files.sort();
    let mut frames = files.iter().map(|f| read_parquet(f));
    let mut out = frames.next().expect("no parquet files");
    for f in frames {
        out.vstack_mut(&f).unwrap();
    }
    out
}

fn micros_of(df: &DataFrame, name: &str) -> Vec<Option<Micros>> {
    let c = df.column(name).unwrap().cast(&DataType::Datetime(TimeUnit::Microseconds, None)).unwrap();
    c.cast(&DataType::Int64).unwrap().i64().unwrap().iter().collect()
}

/// The lake as the naive count's structs, read row by row without noshow's analytics.
fn lake_rows(lake: &Path) -> (Vec<Interview>, Vec<Event>) {
    let iv = read_all(&lake.join("interviews"));
    let (id, role, region, edu, src, ch, status, cause) = (texts(&iv, "interview_id"), texts(&iv, "role"), texts(&iv, "region"), texts(&iv, "education"), texts(&iv, "source"), texts(&iv, "preferred_channel"), texts(&iv, "status"), texts(&iv, "cause"));
    let fresh = flags(&iv, "fresh_graduate");
    let (invited, slot, cost) = (micros_of(&iv, "invited_at"), micros_of(&iv, "scheduled_at"), floats(&iv, "cost"));
    let interviews = (0..iv.height())
        .map(|i| Interview {
            id: id[i].clone().unwrap(),
            role: role[i].clone().unwrap(),
            region: region[i].clone().unwrap(),
            education: edu[i].clone(),
            fresh_graduate: fresh[i],
            source: src[i].clone(),
            preferred_channel: ch[i].clone(),
            invited: invited[i].unwrap(),
            slot: slot[i].unwrap(),
            status: status[i].clone().unwrap(),
            cause: cause[i].clone(),
            cost: cost[i],
        })
        .collect();
    let ev = read_all(&lake.join("events"));
    let (eid, iid, kind, ts) = (texts(&ev, "event_id"), texts(&ev, "interview_id"), texts(&ev, "type"), micros_of(&ev, "ts"));
    let kinds: HashMap<String, &'static str> = ["joined", "message_delivered", "message_read", "confirmed", "link_clicked", "jd_viewed", "company_intro_viewed"]
        .into_iter()
        .map(|k| (k.to_string(), k))
        .collect();
    let events = (0..ev.height())
        .filter_map(|i| {
            let kind = *kinds.get(kind[i].as_deref()?)?;
            Some(Event { id: eid[i].clone()?, interview: iid[i].clone()?, ts: ts[i]?, kind, channel: None, detail: None })
        })
        .collect();
    (interviews, events)
}

#[test]
fn generate_ingest_report_shows_the_generators_effects() {
    let w = Workdir::new();
    let g = ["--as-of", AS_OF, "--tz", TZ];
    w.run(&[&g[..], &["--quiet", "generate", "--out", "raw", "--interviews", "2000", "--seed", "17", "--bad-rows", "2"]].concat());
    w.run(&[&g[..], &["--quiet", "ingest", "--raw", "raw", "--lake", "lake"]].concat());
    w.run(&report_args(&["--by", "role,region", "--quiet"]));
    let (interviews, events) = lake_rows(&w.path("lake"));
    for dim in ["role", "region", "education", "fresh_graduate", "source", "preferred_channel", "week"] {
        let df = read_parquet(&w.path(&format!("out/rates_by_{dim}.parquet")));
        check_rate_table(&df, &[dim], &naive_table(&interviews, &events, &[dim], 15), 10, dim);
    }
    check_rate_table(&read_parquet(&w.path("out/rates_by_role_region.parquet")), &["role", "region"], &naive_table(&interviews, &events, &["role", "region"], 15), 10, "role×region");

    // The generator makes link failures the dominant no-show cause of technical roles:
    // their technical_issue share must be well above the other roles' (pooled).
    let causes = read_parquet(&w.path("out/causes_no_show_by_role.parquet"));
    let (role, cause, count, total) = (texts(&causes, "role"), texts(&causes, "cause"), ints(&causes, "count"), ints(&causes, "no_shows"));
    let (mut tech, mut other) = ((0i64, 0i64), (0i64, 0i64));
    let mut totals_seen = std::collections::HashSet::new();
    for i in 0..causes.height() {
        let technical = matches!(role[i].as_deref(), Some("software_engineer" | "data_engineer"));
        let bucket = if technical { &mut tech } else { &mut other };
        if cause[i].as_deref() == Some("technical_issue") {
            bucket.0 += count[i].unwrap_or(0);
        }
        if totals_seen.insert(role[i].clone()) {
            bucket.1 += total[i].unwrap_or(0);
        }
    }
    let (tech_share, other_share) = (tech.0 as f64 / tech.1 as f64, other.0 as f64 / other.1 as f64);
    assert!(tech_share > 2.0 * other_share, "technical roles' link-failure share {tech_share:.3} vs others {other_share:.3}");

    // Not clicking the link in the last 24 hours goes with clearly more misses.
    let sig = read_parquet(&w.path("out/signals.parquet"));
    let (name, outcome, low) = (texts(&sig, "signal"), texts(&sig, "outcome"), floats(&sig, "relative_risk_low"));
    let i = (0..sig.height()).find(|&i| name[i].as_deref() == Some("link_clicked_24h") && outcome[i].as_deref() == Some("no_show_or_cancel")).unwrap();
    assert!(low[i].unwrap() > 1.0, "link_clicked_24h relative risk interval {:?}", low[i]);
    let summary: serde_json::Value = serde_json::from_str(&w.read("out/summary.json")).unwrap();
    // With 2000 interviews a technical role's top cause is technical_issue or a close
    // second to forgot; the pooled share above is the stable check. Here: every
    // published role has its dominant cause in the summary.
    let dominant = summary["headline"]["dominant_no_show_cause_by_role"].as_object().unwrap();
    assert!(dominant.contains_key("software_engineer") && dominant.contains_key("销售"), "{dominant:?}");
}

/// The published CSV of a tiny hand-made lake, byte for byte (BOM, header order,
/// number formatting, null cells, formula-looking text defused with `'`). Wilson bounds
/// agree with statsmodels 0.15 `proportion_confint(2, 4, method="wilson")` =
/// (0.15003898915214947, 0.8499610108478506) and `(0, 2)` = (0.0, 0.657619772493347)
/// to 1e-8; the last digits differ because noshow uses z = 1.959964, statsmodels the
/// exact quantile.
#[test]
fn golden_rates_by_role_csv() {
    let w = Workdir::new();
    let slot = as_of() - 3 * MICROS_PER_DAY;
    let mk = |id: &str, role: &str, status: &str| Interview {
        id: id.into(), role: role.into(), region: "east".into(), education: None, fresh_graduate: None, source: None,
        preferred_channel: None, invited: slot - MICROS_PER_DAY, slot, status: status.into(), cause: None, cost: None,
    };
    let interviews = vec![
        mk("a1", "analyst", "attended"), mk("a2", "analyst", "no_show"), mk("a3", "analyst", "no_show"),
        mk("a4", "analyst", "cancelled_by_candidate"), mk("b1", "=cmd", "attended"), mk("b2", "=cmd", "attended"),
        mk("c1", "tiny", "attended"),
    ];
    write_lake(&w.path("lake"), &interviews, &[]);
    w.run(&report_args(&["--suppression-threshold", "2", "--quiet"]));
    let csv = w.read("out/rates_by_role.csv");
    let expected = "\u{feff}role,interviews,attended,no_shows,cancelled_by_candidate,cancelled_by_company,rescheduled,no_show_rate,no_show_rate_low,no_show_rate_high,cancel_rate,company_cancel_rate,reschedule_rate,suppressed,recent_interviews,recent_no_show_rate,recent_cancel_rate,previous_interviews,previous_no_show_rate,previous_cancel_rate,no_show_rate_change,cancel_rate_change\n\
'=cmd,2,2,0,0,0,0,0,0,0.6576197760453506,0,0,0,false,2,0,0,,,,,\n\
analyst,4,1,2,1,0,0,0.5,0.1500389877440198,0.8499610122559802,0.25,0,0,false,4,0.5,0.25,,,,,\n\
tiny,,,,,,,,,,,,,true,,,,,,,,\n";
    assert_eq!(csv, expected);
}

/// `reach_by_channel_region`/`_role` against a naive recount per (group, channel), and
/// `rates_by_month` against a naive monthly count of closed interviews.
#[test]
fn reach_by_group_and_monthly_rates_match_a_naive_count() {
    let w = Workdir::new();
    let (interviews, events) = synthetic(1200, 17);
    write_lake(&w.path("lake"), &interviews, &events);
    w.run(&report_args(&["--suppression-threshold", "1", "--quiet"]));
    let as_of = as_of();
    // (region, channel) -> (messaged, reached, read) over closed interviews, events to as-of.
    let mut want: BTreeMap<(String, String), (i64, i64, i64)> = BTreeMap::new();
    let mut months: BTreeMap<String, i64> = BTreeMap::new();
    let tz: chrono_tz::Tz = TZ.parse().unwrap();
    for iv in &interviews {
        let (_, closed) = naive_status(iv, &events, as_of, 15);
        if !closed {
            continue;
        }
        let local = chrono::DateTime::<chrono::Utc>::from_timestamp_micros(iv.slot).unwrap().with_timezone(&tz);
        *months.entry(local.format("%Y-%m").to_string()).or_default() += 1;
        let mine: Vec<&Event> = events.iter().filter(|e| e.interview == iv.id && e.ts <= as_of).collect();
        let on = |kind: &str, ch: &str| mine.iter().any(|e| e.kind == kind && e.channel.as_deref() == Some(ch));
        let channels: std::collections::BTreeSet<&str> = mine.iter().filter_map(|e| e.channel.as_deref()).collect();
        for ch in channels {
            if on("invite_sent", ch) || on("reminder_sent", ch) {
                let e = want.entry((iv.region.clone(), ch.to_string())).or_default();
                e.0 += 1;
                if on("message_delivered", ch) {
                    e.1 += 1;
                    if on("message_read", ch) {
                        e.2 += 1;
                    }
                }
            }
        }
    }
    let df = read_parquet(&w.path("out/reach_by_channel_region.parquet"));
    let (region, channel) = (texts(&df, "region"), texts(&df, "channel"));
    let (m, r, rd) = (ints(&df, "interviews_messaged"), ints(&df, "interviews_reached"), ints(&df, "interviews_read"));
    let mut got: BTreeMap<(String, String), (i64, i64, i64)> = BTreeMap::new();
    for i in 0..df.height() {
        if m[i].unwrap() > 0 {
            got.insert((region[i].clone().unwrap(), channel[i].clone().unwrap()), (m[i].unwrap(), r[i].unwrap(), rd[i].unwrap()));
        }
    }
    assert_eq!(got, want);
    assert!(want.len() > 4, "the case should have several regions and channels: {want:?}");
    // The role table sums to the overall channel table.
    let by_role = read_parquet(&w.path("out/reach_by_channel_role.parquet"));
    let overall = read_parquet(&w.path("out/channel_reach.parquet"));
    for (i, ch) in texts(&overall, "channel").into_iter().enumerate() {
        let total: i64 = (0..by_role.height())
            .filter(|&k| texts(&by_role, "channel")[k] == ch)
            .map(|k| ints(&by_role, "interviews_messaged")[k].unwrap())
            .sum();
        assert_eq!(Some(total), ints(&overall, "interviews_messaged")[i], "{ch:?}");
    }
    let monthly = read_parquet(&w.path("out/rates_by_month.parquet"));
    let got: BTreeMap<String, i64> =
        texts(&monthly, "month").into_iter().zip(ints(&monthly, "interviews")).map(|(k, v)| (k.unwrap(), v.unwrap())).collect();
    assert_eq!(got, months);
}

/// The cause tables in the added cuts against a naive count.
#[test]
fn causes_in_more_cuts_match_a_naive_count() {
    let w = Workdir::new();
    let (interviews, events) = synthetic(1500, 23);
    write_lake(&w.path("lake"), &interviews, &events);
    w.run(&report_args(&["--suppression-threshold", "1", "--quiet"]));
    let as_of = as_of();
    let mut by_edu: BTreeMap<(Option<String>, Option<String>), i64> = BTreeMap::new();
    let mut reschedules: BTreeMap<Option<String>, i64> = BTreeMap::new();
    for iv in &interviews {
        let (status, closed) = naive_status(iv, &events, as_of, 15);
        if !closed {
            continue;
        }
        let cause = if iv.status == "scheduled" && status == "no_show" { Some("unknown".to_string()) } else { iv.cause.clone() };
        if status == "no_show" {
            *by_edu.entry((iv.education.clone(), cause.clone())).or_default() += 1;
        }
        if status == "rescheduled" {
            *reschedules.entry(cause).or_default() += 1;
        }
    }
    let df = read_parquet(&w.path("out/causes_no_show_by_education.parquet"));
    let got: BTreeMap<(Option<String>, Option<String>), i64> = texts(&df, "education")
        .into_iter()
        .zip(texts(&df, "cause"))
        .zip(ints(&df, "count"))
        .map(|(k, v)| (k, v.unwrap()))
        .collect();
    assert_eq!(got, by_edu);
    let df = read_parquet(&w.path("out/causes_reschedule.parquet"));
    let got: BTreeMap<Option<String>, i64> = texts(&df, "cause").into_iter().zip(ints(&df, "count")).map(|(k, v)| (k, v.unwrap())).collect();
    assert_eq!(got, reschedules);
    assert!(!reschedules.is_empty());
    for dim in ["fresh_graduate", "source", "preferred_channel"] {
        assert!(w.path(&format!("out/causes_no_show_by_{dim}.csv")).is_file());
        assert!(w.path(&format!("out/causes_cancellation_by_{dim}.csv")).is_file());
    }
}

// ---------------------------------------------------------------------------------
// Confirmations, link errors, likely causes and cancellation reasons (issue #15).

/// The reason text no table may print: too rare, and personal.
const PERSONAL_REASON: &str = "call me on 13800138000";

/// [`synthetic`] with a richer trace: confirmations at varied times after the
/// invitation (some only after the slot, a few dated before the invitation, some
/// twice), link errors (more in software_engineer), some with no click before them,
/// and cancel requests with reason texts in Chinese and English spellings.
fn synthetic_trace(n: usize, seed: u64) -> (Vec<Interview>, Vec<Event>) {
    let (interviews, mut events) = synthetic(n, seed);
    events.retain(|e| e.kind != "confirmed");
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7ace);
    let mut k = 0u64;
    let mut push = |events: &mut Vec<Event>, iv: &str, ts: Micros, kind: &'static str, detail: Option<&str>| {
        k += 1;
        events.push(Event { id: format!("tr{k}"), interview: iv.into(), ts, kind, channel: None, detail: detail.map(String::from) });
    };
    let codes = ["link_expired", "camera_denied", "network", " Network ", "browser_unsupported"];
    let reasons = ["时间冲突", " Schedule   Conflict ", "schedule conflict", "emergency", "临时有事", "found another job", "EMERGENCY"];
    for (i, iv) in interviews.iter().enumerate() {
        let u: f64 = rng.random();
        if u < 0.7 {
            let hours = if u < 0.02 { -0.5 } else { rng.random_range(0.0..120.0f64) };
            let at = iv.invited + (hours * MICROS_PER_HOUR as f64) as Micros;
            push(&mut events, &iv.id, at, "confirmed", None);
            if rng.random::<f64>() < 0.1 {
                push(&mut events, &iv.id, at + 5 * MICROS_PER_HOUR, "confirmed", None);
            }
        }
        let p_error = if iv.role == "software_engineer" { 0.35 } else { 0.08 };
        if rng.random::<f64>() < p_error {
            for _ in 0..rng.random_range(1..=3) {
                // Around the slot (most), or any time since the invitation.
                let at = if rng.random::<bool>() {
                    iv.slot + rng.random_range(-20 * MICROS_PER_MINUTE..25 * MICROS_PER_MINUTE)
                } else {
                    iv.invited + rng.random_range(0..(iv.slot - iv.invited).max(1))
                };
                let clicked_first = rng.random::<f64>() < 0.85;
                if clicked_first {
                    push(&mut events, &iv.id, at - 2 * MICROS_PER_SECOND, "link_clicked", None);
                }
                push(&mut events, &iv.id, at, "link_error", Some(codes[rng.random_range(0..codes.len())]));
            }
        }
        if iv.status == "cancelled_by_candidate" || (iv.status == "rescheduled" && rng.random::<bool>()) {
            let at = iv.slot - rng.random_range(MICROS_PER_HOUR..4 * MICROS_PER_DAY);
            let detail = if i % 97 == 3 { Some(PERSONAL_REASON) } else if rng.random::<f64>() < 0.1 { None } else { Some(reasons[rng.random_range(0..reasons.len())]) };
            push(&mut events, &iv.id, at, "cancel_requested", detail);
        }
    }
    (interviews, events)
}

/// One row of a `group, value` table by its key.
fn group_value_rows(df: &DataFrame) -> HashMap<(String, Option<String>), usize> {
    texts(df, "group").into_iter().zip(texts(df, "value")).enumerate().map(|(i, (g, v))| ((g.unwrap(), v), i)).collect()
}

/// Closed interviews with their naive derived status, for the checks below.
fn closed_naive(interviews: &[Interview], events: &[Event]) -> Vec<(Interview, String)> {
    interviews
        .iter()
        .filter_map(|iv| {
            let (status, closed) = naive_status(iv, events, as_of(), 15);
            closed.then(|| (iv.clone(), status))
        })
        .collect()
}

#[test]
fn confirmation_tables_match_a_naive_count() {
    let w = Workdir::new();
    let (interviews, events) = synthetic_trace(1500, 31);
    write_lake(&w.path("lake"), &interviews, &events);
    w.run(&report_args(&["--suppression-threshold", "1", "--quiet"]));
    let tz = parse_tz(TZ).unwrap();
    let as_of = as_of();
    let first = |kind: &str, iv: &str| events.iter().filter(|e| e.interview == iv && e.kind == kind && e.ts <= as_of).map(|e| e.ts).min();
    // (group, value) -> (interviews, confirmed, within 24 h)
    let mut want: BTreeMap<(String, Option<String>), (i64, i64, i64)> = BTreeMap::new();
    let mut buckets: BTreeMap<&str, i64> = BTreeMap::new();
    // confirmed 24 h before -> (interviews, no-shows)
    let mut by_confirmation: BTreeMap<bool, (i64, i64)> = BTreeMap::new();
    for (iv, status) in closed_naive(&interviews, &events) {
        if status == "cancelled_by_company" {
            continue;
        }
        let confirm = first("confirmed", &iv.id).filter(|&t| t < iv.slot);
        let hours = confirm.map(|t| (t - iv.invited) as f64 / MICROS_PER_HOUR as f64);
        let within = hours.is_some_and(|h| h < 24.0);
        for key in [
            ("all".to_string(), Some("all".to_string())),
            ("week".to_string(), key_of(&iv, "week", tz)),
            ("role".to_string(), Some(iv.role.clone())),
            ("preferred_channel".to_string(), iv.preferred_channel.clone()),
        ] {
            let e = want.entry(key).or_default();
            e.0 += 1;
            e.1 += i64::from(confirm.is_some());
            e.2 += i64::from(within);
        }
        let bucket = match hours {
            None => "not_confirmed",
            Some(h) if h < 0.0 => "before_invitation",
            Some(h) if h < 1.0 => "0-1h",
            Some(h) if h < 6.0 => "1-6h",
            Some(h) if h < 24.0 => "6-24h",
            Some(h) if h < 72.0 => "1-3d",
            Some(_) => "3d+",
        };
        *buckets.entry(bucket).or_default() += 1;
        let day_before = iv.slot - 24 * MICROS_PER_HOUR;
        let cancelled_early = first("cancel_requested", &iv.id).is_some_and(|t| t < day_before);
        if status != "rescheduled" && iv.invited <= day_before && !cancelled_early {
            let confirmed = first("confirmed", &iv.id).is_some_and(|t| t <= day_before);
            let e = by_confirmation.entry(confirmed).or_default();
            e.0 += 1;
            e.1 += i64::from(status == "no_show");
        }
    }
    let df = read_parquet(&w.path("out/confirmations.parquet"));
    let rows = group_value_rows(&df);
    assert_eq!(rows.len(), want.len(), "one row per group value, the unknown channel included");
    let (n, c, d) = (ints(&df, "interviews"), ints(&df, "confirmed"), ints(&df, "confirmed_within_24h"));
    let (rate, low, high) = (floats(&df, "confirmation_rate"), floats(&df, "confirmation_rate_low"), floats(&df, "confirmation_rate_high"));
    for (key, &(wn, wc, wd)) in &want {
        let i = rows[key];
        assert_eq!((n[i], c[i], d[i]), (Some(wn), Some(wc), Some(wd)), "{key:?}");
        let (l, h) = wilson_reference(wc as u64, wn as u64);
        assert!((rate[i].unwrap() - wc as f64 / wn as f64).abs() < 1e-12 && (low[i].unwrap() - l).abs() < 1e-12 && (high[i].unwrap() - h).abs() < 1e-12, "{key:?}");
    }
    // Every group accounts for every interview.
    let total = want[&("all".to_string(), Some("all".to_string()))].0;
    for g in ["week", "role", "preferred_channel"] {
        assert_eq!(want.iter().filter(|(k, _)| k.0 == g).map(|(_, v)| v.0).sum::<i64>(), total, "{g}");
    }
    assert!(buckets.len() >= 6, "the case covers the buckets: {buckets:?}");

    let df = read_parquet(&w.path("out/confirmation_time.parquet"));
    let got: Vec<(String, i64)> = texts(&df, "confirm_time").into_iter().zip(ints(&df, "count")).map(|(k, v)| (k.unwrap(), v.unwrap())).collect();
    let order = ["before_invitation", "0-1h", "1-6h", "6-24h", "1-3d", "3d+", "not_confirmed"];
    let expected: Vec<(String, i64)> = order.iter().filter_map(|b| buckets.get(b).map(|v| (b.to_string(), *v))).collect();
    assert_eq!(got, expected, "counts, in time order");
    assert_eq!(got.iter().map(|g| g.1).sum::<i64>(), total);

    let df = read_parquet(&w.path("out/confirmation_no_show.parquet"));
    let got: BTreeMap<bool, (i64, i64)> = flags(&df, "confirmed_24h_before")
        .into_iter()
        .zip(ints(&df, "interviews").into_iter().zip(ints(&df, "no_shows")))
        .map(|(k, (n, ns))| (k.unwrap(), (n.unwrap(), ns.unwrap())))
        .collect();
    assert_eq!(got, by_confirmation);
    let by_role = read_parquet(&w.path("out/confirmation_no_show_by_role.parquet"));
    assert_eq!(ints(&by_role, "interviews").into_iter().flatten().sum::<i64>(), by_confirmation.values().map(|v| v.0).sum::<i64>());
}

#[test]
fn link_error_tables_and_likely_causes_match_a_naive_count() {
    let w = Workdir::new();
    let (interviews, events) = synthetic_trace(1500, 37);
    write_lake(&w.path("lake"), &interviews, &events);
    w.run(&report_args(&["--suppression-threshold", "1", "--quiet"]));
    let as_of = as_of();
    let closed = closed_naive(&interviews, &events);
    let mine = |iv: &str| events.iter().filter(move |e| e.interview == iv && e.ts <= as_of).collect::<Vec<_>>();
    // (code, role, channel) -> (events, interviews); role -> (interviews, with an error); age bucket -> events.
    let mut by_code: BTreeMap<(Option<String>, String, Option<String>), (i64, std::collections::BTreeSet<String>)> = BTreeMap::new();
    let mut by_role: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut ages: BTreeMap<&str, i64> = BTreeMap::new();
    let (mut likely, mut unknown, mut all_events) = (0i64, 0i64, 0i64);
    for (iv, status) in &closed {
        let evs = mine(&iv.id);
        let errors: Vec<&&Event> = evs.iter().filter(|e| e.kind == "link_error").collect();
        let r = by_role.entry(iv.role.clone()).or_default();
        r.0 += 1;
        r.1 += i64::from(!errors.is_empty());
        for e in &errors {
            all_events += 1;
            let code = e.detail.as_ref().map(|d| d.trim().to_lowercase());
            let entry = by_code.entry((code, iv.role.clone(), iv.preferred_channel.clone())).or_default();
            entry.0 += 1;
            entry.1.insert(iv.id.clone());
            let h = (e.ts - iv.invited) as f64 / MICROS_PER_HOUR as f64;
            let bucket = if h < 0.0 { "before_invitation" } else if h < 24.0 { "0-24h" } else if h < 48.0 { "24-48h" } else if h < 72.0 { "48-72h" } else if h < 168.0 { "3-7d" } else { "7d+" };
            *ages.entry(bucket).or_default() += 1;
        }
        // A rule-closed no-show: clicked, then an error, by the time it was declared.
        if status == "no_show" && iv.status == "scheduled" {
            unknown += 1;
            let declared = iv.slot + 15 * MICROS_PER_MINUTE;
            let first_click = evs.iter().filter(|e| e.kind == "link_clicked").map(|e| e.ts).min();
            if errors.iter().any(|e| e.ts <= declared && first_click.is_some_and(|c| c <= e.ts)) {
                likely += 1;
            }
        }
    }
    let naive_with: i64 = by_role.values().map(|v| v.1).sum();
    let df = read_parquet(&w.path("out/link_errors.parquet"));
    let got: BTreeMap<(Option<String>, String, Option<String>), (i64, i64)> = (0..df.height())
        .map(|i| {
            ((texts(&df, "error_code")[i].clone(), texts(&df, "role")[i].clone().unwrap(), texts(&df, "preferred_channel")[i].clone()),
             (ints(&df, "events")[i].unwrap(), ints(&df, "interviews")[i].unwrap()))
        })
        .collect();
    let want: BTreeMap<_, _> = by_code.iter().map(|(k, v)| (k.clone(), (v.0, v.1.len() as i64))).collect();
    assert_eq!(got, want);
    assert_eq!(got.values().map(|v| v.0).sum::<i64>(), all_events, "every link error of a closed interview is counted once");
    assert!(!got.keys().any(|k| k.0.as_deref() == Some(" Network ")), "codes are trimmed and lower-cased");

    let rates = read_parquet(&w.path("out/link_error_rates.parquet"));
    let rows = group_value_rows(&rates);
    for (role, (n, with)) in &by_role {
        let i = rows[&("role".to_string(), Some(role.clone()))];
        assert_eq!((ints(&rates, "interviews")[i], ints(&rates, "with_link_error")[i]), (Some(*n), Some(*with)), "{role}");
        let (l, h) = wilson_reference(*with as u64, *n as u64);
        assert!((floats(&rates, "link_error_rate_low")[i].unwrap() - l).abs() < 1e-12 && (floats(&rates, "link_error_rate_high")[i].unwrap() - h).abs() < 1e-12);
    }
    let all = rows[&("all".to_string(), Some("all".to_string()))];
    assert_eq!(ints(&rates, "link_error_events")[all], Some(all_events));

    let age = read_parquet(&w.path("out/link_errors_by_invite_age.parquet"));
    let mut got_ages: Vec<(String, i64)> = Vec::new();
    for (b, c) in texts(&age, "hours_since_invite").into_iter().zip(ints(&age, "count")) {
        let b = b.unwrap();
        match got_ages.last_mut() {
            Some(last) if last.0 == b => last.1 += c.unwrap(),
            _ => got_ages.push((b, c.unwrap())),
        }
    }
    let order = ["before_invitation", "0-24h", "24-48h", "48-72h", "3-7d", "7d+"];
    let want_ages: Vec<(String, i64)> = order.iter().filter_map(|b| ages.get(b).map(|c| (b.to_string(), *c))).collect();
    assert_eq!(got_ages, want_ages, "every error in one bucket, buckets in time order");

    // The likely cause is a line of its own; the recorded cause stays `unknown`.
    let causes = read_parquet(&w.path("out/causes_no_show.parquet"));
    let (cause, lc, count) = (texts(&causes, "cause"), texts(&causes, "likely_cause"), ints(&causes, "count"));
    let line = |l: Option<&str>| (0..causes.height()).filter(|&i| cause[i].as_deref() == Some("unknown") && lc[i].as_deref() == l).map(|i| count[i].unwrap()).sum::<i64>();
    assert!(likely > 3 && likely < unknown, "the case needs both kinds: {likely} of {unknown}");
    assert_eq!(line(Some("technical_issue")), likely);
    assert_eq!(line(None), unknown - likely);
    assert!(lc.iter().zip(&cause).all(|(l, c)| l.is_none() || c.as_deref() == Some("unknown")), "only unknown causes get a likely cause");
    let by_role = read_parquet(&w.path("out/causes_no_show_by_role.parquet"));
    let flagged: i64 = (0..by_role.height()).filter(|&i| texts(&by_role, "likely_cause")[i].is_some()).map(|i| ints(&by_role, "count")[i].unwrap()).sum();
    assert_eq!(flagged, likely);
    let summary: serde_json::Value = serde_json::from_str(&w.read("out/summary.json")).unwrap();
    assert_eq!(summary["headline"]["likely_technical_no_shows"], likely);
    let link_rate = summary["headline"]["link_error_rate"].as_f64().unwrap();
    assert!((link_rate - naive_with as f64 / closed.len() as f64).abs() < 1e-12);
    let html = w.read("out/report.html");
    assert!(html.contains("unknown (likely technical issue)") && html.contains("Link errors") && html.contains("Confirmations"), "the page draws them");
}

#[test]
fn cancellation_reasons_are_normalised_merged_and_rare_texts_pooled() {
    let w = Workdir::new();
    let (interviews, events) = synthetic_trace(1500, 41);
    write_lake(&w.path("lake"), &interviews, &events);
    std::fs::write(
        w.path("reasons.toml"),
        "[report.cancel_reasons]\n\"时间冲突\" = \"schedule_conflict\"\n\"SCHEDULE conflict\" = \"schedule_conflict\"\n\"临时有事\" = \"emergency\"\n",
    )
    .unwrap();
    let mut args = vec!["--config", "reasons.toml"];
    args.extend(report_args(&["--suppression-threshold", "3", "--quiet"]));
    w.run(&args);
    let as_of = as_of();
    let closed: std::collections::HashSet<String> = closed_naive(&interviews, &events).into_iter().map(|(iv, _)| iv.id).collect();
    let map: HashMap<&str, &str> = [("时间冲突", "schedule_conflict"), ("schedule conflict", "schedule_conflict"), ("临时有事", "emergency")].into_iter().collect();
    let mut want: BTreeMap<Option<String>, i64> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind == "cancel_requested" && e.ts <= as_of && closed.contains(&e.interview)) {
        let text = e.detail.as_ref().map(|d| d.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()).filter(|t| !t.is_empty());
        let reason = text.map(|t| map.get(t.as_str()).map(|m| m.to_string()).unwrap_or(t));
        *want.entry(reason).or_default() += 1;
    }
    // Texts fewer than 3 interviews gave are pooled (one request per interview here).
    let rare: i64 = want.iter().filter(|(k, v)| k.is_some() && **v < 3).map(|(_, v)| *v).sum();
    want.retain(|k, v| k.is_none() || *v >= 3);
    if rare > 0 {
        want.insert(Some("rare_reasons".into()), rare);
    }
    let df = read_parquet(&w.path("out/cancel_reasons.parquet"));
    let got: BTreeMap<Option<String>, i64> = texts(&df, "reason").into_iter().zip(ints(&df, "requests")).map(|(k, v)| (k, v.unwrap())).collect();
    assert_eq!(got, want);
    assert!(rare > 0, "the personal text is rare and pooled");
    assert_eq!(got[&Some("schedule_conflict".to_string())], want[&Some("schedule_conflict".to_string())]);
    let texts_merged = ints(&df, "texts")[texts(&df, "reason").iter().position(|r| r.as_deref() == Some("schedule_conflict")).unwrap()];
    assert_eq!(texts_merged, Some(2), "时间冲突 and \"schedule conflict\" (in any case and spacing) are one reason");
    let shares: f64 = floats(&df, "share").into_iter().flatten().sum();
    assert!((shares - 1.0).abs() < 1e-9, "shares of all requests sum to one: {shares}");
    for entry in std::fs::read_dir(w.path("out")).unwrap() {
        let path = entry.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).to_string();
        assert!(!text.contains("13800138000"), "{} prints a rare free-text reason", path.display());
    }
}

/// What a page looks like laid out `width` CSS pixels wide, measured in headless
/// Chromium: the page goes into an iframe of that width (Chromium's headless window is
/// at least 500 px wide, so a 420 px phone needs the frame), and a script in the
/// wrapper — never in the report, which has none — reads the frame's layout after it
/// loaded and writes it into the DOM `--dump-dom` prints. `None` without Chromium.
fn layout_at(w: &Workdir, html: &Path, width: u32, name: &str) -> Option<serde_json::Value> {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().find(|p| Path::new(p).exists())?;
    let page = std::fs::read_to_string(html).unwrap();
    let srcdoc = page.replace('&', "&amp;").replace('"', "&quot;");
    let wrapper = format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><script>
function measure(f) {{
  var d = f.contentDocument, vw = f.contentWindow.innerWidth, wide = [];
  d.querySelectorAll('body *').forEach(function (e) {{
    if (e.closest('.scroll') && !e.classList.contains('scroll')) return;
    var r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > vw + 0.5) wide.push(e.tagName + ':' + Math.round(r.right));
  }});
  var charts = d.querySelectorAll('svg'), label_px = 99;
  charts.forEach(function (s) {{
    var vb = s.viewBox.baseVal, r = s.getBoundingClientRect();
    if (vb && vb.width > 0) label_px = Math.min(label_px, 13 * r.width / vb.width);
  }});
  var p = document.createElement('pre');
  p.id = 'measure';
  p.textContent = JSON.stringify({{ viewport: vw, scroll_width: d.documentElement.scrollWidth, wide: wide.slice(0, 10),
    wide_count: wide.length, charts: charts.length, label_px: label_px, height: d.documentElement.scrollHeight }});
  document.body.appendChild(p);
}}
</script></head><body style="margin:0;background:#fff"><iframe onload="measure(this)" style="width:{width}px;height:3000px;border:0;display:block" srcdoc="{srcdoc}"></iframe></body></html>"#
    );
    let wrapper_path = w.path(&format!("{name}.html"));
    std::fs::write(&wrapper_path, wrapper).unwrap();
    let url = format!("file://{}", wrapper_path.canonicalize().unwrap().display());
    let run = |extra: &[String]| {
        std::process::Command::new(chromium)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"])
            .arg(format!("--user-data-dir={}", w.path("chromium-profile").display()))
            .arg(format!("--window-size={},3000", width.max(500)))
            .args(extra)
            .arg(&url)
            .output()
            .expect("running chromium")
    };
    let dom = String::from_utf8_lossy(&run(&["--virtual-time-budget=5000".into(), "--dump-dom".into()]).stdout).to_string();
    let start = dom.find("<pre id=\"measure\">").unwrap_or_else(|| panic!("no measurement in the dumped DOM ({} bytes)", dom.len())) + 18;
    let json = &dom[start..start + dom[start..].find("</pre>").unwrap()];
    let mut measure: serde_json::Value = serde_json::from_str(&json.replace("&quot;", "\"")).unwrap();
    // A screenshot of the same wrapper: the frame must be inked, the strip right of it blank.
    let png = w.path(&format!("{name}.png"));
    run(&[format!("--screenshot={}", png.display())]);
    let (pw, _, pixels) = decode_png(&std::fs::read(&png).unwrap());
    let inked = |x0: usize, x1: usize| pixels.chunks(pw).map(|row| row[x0..x1].iter().filter(|p| p.iter().any(|&c| c < 200)).count()).sum::<usize>();
    measure["inked_inside"] = serde_json::json!(inked(0, (width as usize).min(pw)));
    measure["inked_outside"] = serde_json::json!(if (width as usize) < pw { inked(width as usize, pw) } else { 0 });
    if let Ok(keep) = std::env::var("NOSHOW_KEEP_LAYOUT_DIR") {
        std::fs::copy(&png, Path::new(&keep).join(format!("{name}.png"))).unwrap();
    }
    Some(measure)
}

/// The report at a phone's 420 px and a laptop's 1,400 px, in English and Chinese, with
/// every section (a model included): nothing is wider than the window, the charts scale
/// with it and their labels stay readable.
#[test]
fn report_fits_phone_and_laptop_widths_in_both_languages() {
    let w = Workdir::new();
    w.accept_small_models();
    let g = ["--as-of", AS_OF, "--tz", TZ, "--quiet"];
    w.run(&[&g[..], &["generate", "--out", "raw", "--interviews", "2500", "--seed", "19"]].concat());
    w.run(&[&g[..], &["ingest", "--raw", "raw", "--lake", "lake"]].concat());
    w.run(&[&g[..], &["train", "--lake", "lake", "--model", "model"]].concat());
    for lang in ["en", "zh"] {
        let out = format!("out-{lang}");
        w.run(&[&g[..], &["report", "--lake", "lake", "--out", &out, "--model", "model", "--lang", lang]].concat());
        let html = w.read(&format!("{out}/report.html"));
        assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"), "one offline file");
        assert!(!html.contains(r#"width="760""#) && html.contains(r#"class="chart""#), "charts scale to the page");
        if lang == "en" {
            // The model section shows the penalty and the calibration before and after, from model.json.
            let model: serde_json::Value = serde_json::from_str(&w.read("model/model.json")).unwrap();
            let pct = |v: &serde_json::Value| format!("{:.1} %", v.as_f64().unwrap() * 100.0);
            let r = &model["recalibration"];
            for needle in [
                "How strongly the model is held back".to_string(),
                "Recalibration to recent weeks".to_string(),
                format!("<td class=\"n\">{}</td>", pct(&r["test_before"]["ece"])),
                format!("<td class=\"n\">{}</td>", pct(&r["test_after"]["ece"])),
                format!("<td class=\"n\">{}</td>", pct(&r["test_after"]["mean_predicted"])),
                format!("{:.4}", r["test_before"]["log_loss"].as_f64().unwrap()),
            ] {
                assert!(html.contains(&needle), "model section lacks {needle:?}");
            }
            let l2 = model["penalty"]["l2"].as_f64().unwrap();
            assert!(html.contains(&format!("{l2} had the lowest mean validation log loss")) || html.contains("no search was run"), "the chosen penalty {l2}");
            assert_eq!(html.matches("<circle").count() >= model["penalty"]["curve"].as_array().map_or(0, Vec::len), true);
        }
        if lang == "zh" {
            // Every code of the new tables (error codes, time buckets, reasons) in words.
            let text = crate::workdir::visible_text(&html);
            let codes = crate::workdir::snake_case_words(&text);
            assert!(codes.is_empty(), "untranslated codes in the Chinese report: {codes:?}");
            for word in ["确认情况", "链接错误", "链接过期", "候选人取消时填写的原因", "模型约束强度", "按最近几周重新校准"] {
                assert!(text.contains(word), "{word} missing from the Chinese report");
            }
        }
        for width in [420u32, 1400] {
            let Some(m) = layout_at(&w, &w.path(&format!("{out}/report.html")), width, &format!("{lang}-{width}")) else {
                eprintln!("chromium not installed: layout check skipped (.ci/run installs it)");
                return;
            };
            eprintln!("{lang} at {width} px: {m}");
            assert_eq!(m["viewport"], width, "{lang} {width}: the frame is the viewport");
            assert!(m["scroll_width"].as_u64().unwrap() <= width as u64, "{lang} at {width} px scrolls sideways: {m}");
            assert_eq!(m["wide_count"], 0, "{lang} at {width} px: elements wider than the window: {m}");
            assert!(m["charts"].as_u64().unwrap() >= 20, "{lang}: the charts are there: {m}");
            let label_px = m["label_px"].as_f64().unwrap();
            assert!(label_px >= 9.0, "{lang} at {width} px: chart labels {label_px:.1} px, too small to read");
            assert!(label_px <= 18.0, "{lang} at {width} px: chart labels {label_px:.1} px, blown up");
            assert!(m["inked_inside"].as_u64().unwrap() > 20_000, "{lang} at {width} px: the page looks blank: {m}");
            assert_eq!(m["inked_outside"], 0, "{lang} at {width} px: something is drawn beyond the window: {m}");
        }
    }
}

/// On generated data the new tables show what the generator put in (docs/generator.md):
/// link errors cluster in the technical roles, candidates confirmed a day before miss
/// less, the shipped reason map merges the Chinese reasons, and a rule-closed no-show is
/// flagged as likely technical exactly when the generator made it a technical one.
#[test]
fn trace_tables_show_the_generators_effects() {
    let w = Workdir::new();
    let g = ["--as-of", AS_OF, "--tz", TZ, "--quiet"];
    // Seed 43 has, among 6,000 interviews, two no-shows still `scheduled` a few hours
    // after their slot (the rule closes them), one of them technical.
    w.run(&[&g[..], &["generate", "--out", "raw", "--interviews", "6000", "--seed", "43"]].concat());
    w.run(&[&g[..], &["ingest", "--raw", "raw", "--lake", "lake"]].concat());
    // The reason map noshow.toml ships, alone in a config of its own.
    let shipped: toml::Value = toml::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/noshow.toml")).unwrap()).unwrap();
    let map = shipped["report"]["cancel_reasons"].as_table().unwrap().clone();
    let mut config = toml::map::Map::new();
    config.insert("report".into(), toml::Value::Table([("cancel_reasons".to_string(), toml::Value::Table(map))].into_iter().collect()));
    std::fs::write(w.path("reasons.toml"), toml::to_string(&toml::Value::Table(config)).unwrap()).unwrap();
    w.run(&[&["--config", "reasons.toml"][..], &g[..], &["report", "--lake", "lake", "--out", "out", "--interview-table"]].concat());

    let rates = read_parquet(&w.path("out/link_error_rates.parquet"));
    let (group, value, n, with) = (texts(&rates, "group"), texts(&rates, "value"), ints(&rates, "interviews"), ints(&rates, "with_link_error"));
    let (mut tech, mut other) = ((0i64, 0i64), (0i64, 0i64));
    for i in 0..rates.height() {
        if group[i].as_deref() != Some("role") {
            continue;
        }
        let bucket = if matches!(value[i].as_deref(), Some("software_engineer" | "data_engineer")) { &mut tech } else { &mut other };
        bucket.0 += with[i].unwrap_or(0);
        bucket.1 += n[i].unwrap_or(0);
    }
    let (tech_rate, other_rate) = (tech.0 as f64 / tech.1 as f64, other.0 as f64 / other.1 as f64);
    assert!(tech_rate > 2.0 * other_rate, "link errors: technical roles {tech_rate:.3} vs others {other_rate:.3}");

    let conf = read_parquet(&w.path("out/confirmation_no_show.parquet"));
    let (key, rate, low, high) = (flags(&conf, "confirmed_24h_before"), floats(&conf, "no_show_rate"), floats(&conf, "no_show_rate_low"), floats(&conf, "no_show_rate_high"));
    let at = |k: bool| key.iter().position(|v| *v == Some(k)).unwrap();
    let (yes, no) = (at(true), at(false));
    assert!(high[yes].unwrap() < low[no].unwrap(), "confirmed {:?} vs unconfirmed {:?}: the intervals should part", rate[yes], rate[no]);

    let reasons = read_parquet(&w.path("out/cancel_reasons.parquet"));
    let names: Vec<Option<String>> = texts(&reasons, "reason");
    assert!(names.iter().flatten().all(|r| r.is_ascii()), "every Chinese reason is merged by the shipped map: {names:?}");
    let conflict = names.iter().position(|r| r.as_deref() == Some("schedule_conflict")).unwrap();
    assert_eq!(ints(&reasons, "texts")[conflict], Some(2), "schedule_conflict and 时间冲突 are one reason");

    // Rule-closed no-shows against the generator's truth.
    let truth = std::fs::read_to_string(w.path("raw-truth/truth_interviews.csv")).unwrap();
    let mut header = truth.lines().next().unwrap().split(',');
    let (id_col, cause_col) = (header.clone().position(|c| c == "interview_id").unwrap(), header.position(|c| c == "cause").unwrap());
    let true_cause: HashMap<String, String> = truth.lines().skip(1).map(|l| {
        let f: Vec<&str> = l.split(',').collect();
        (f[id_col].to_string(), f[cause_col].to_string())
    }).collect();
    let rows = read_parquet(&w.path("out/interviews.parquet"));
    let (ids, status, cause, likely) = (texts(&rows, "interview_id"), texts(&rows, "status"), texts(&rows, "cause"), texts(&rows, "likely_cause"));
    let (mut checked, mut flagged) = (0, 0);
    for i in 0..rows.height() {
        if status[i].as_deref() == Some("no_show") && cause[i].as_deref() == Some("unknown") {
            let technical = true_cause[ids[i].as_ref().unwrap()] == "technical_issue";
            assert_eq!(likely[i].is_some(), technical, "{:?}", ids[i]);
            checked += 1;
            flagged += usize::from(technical);
        } else {
            assert!(likely[i].is_none(), "only rule-closed no-shows get a likely cause");
        }
    }
    assert!(checked >= 2 && flagged >= 1, "{checked} rule-closed no-shows, {flagged} technical: the case needs both");
}

/// The segment charts' row labels (each label's full text, from its `<title>`), chart
/// by chart, between the section heading `heading` and the next `<h2>`.
fn segment_chart_labels(html: &str, heading: &str) -> Vec<(String, Vec<String>)> {
    let start = html.find(&format!("<h2>{heading}</h2>")).expect("the segments section");
    let section = &html[start + 4..];
    let section = &section[..section.find("<h2>").unwrap_or(section.len())];
    let mut charts = Vec::new();
    for part in section.split("<h3>").skip(1) {
        let title = part[..part.find("</h3>").unwrap()].to_string();
        let labels = part
            .split(r#"class="lbl" text-anchor="end"><title>"#)
            .skip(1)
            .map(|l| l[..l.find("</title>").unwrap()].to_string())
            .collect();
        charts.push((title, labels));
    }
    charts
}

/// The generator's roles hold both `sales` and `销售`, `customer_service` and `客服`, as
/// exports that mix languages do. They are different rows, so they must read
/// differently: the Chinese report once showed two rows called 销售 and two called 客服.
#[test]
fn values_that_translate_alike_keep_apart_in_the_chinese_report() {
    let w = Workdir::new();
    let g = ["--as-of", AS_OF, "--tz", TZ, "--quiet"];
    w.run(&[&g[..], &["generate", "--out", "raw", "--interviews", "2500", "--seed", "19"]].concat());
    w.run(&[&g[..], &["ingest", "--raw", "raw", "--lake", "lake"]].concat());
    for (lang, heading, role) in [("zh", "各细分群体的爽约率", "岗位"), ("en", "No-show rate by segment", "Role")] {
        let out = format!("out-{lang}");
        w.run(&[&g[..], &["report", "--lake", "lake", "--out", &out, "--lang", lang]].concat());
        let html = w.read(&format!("{out}/report.html"));
        let charts = segment_chart_labels(&html, heading);
        assert!(charts.len() >= 5, "{lang}: the segment charts: {charts:?}");
        for (title, labels) in &charts {
            let mut seen = std::collections::HashSet::new();
            for l in labels {
                assert!(seen.insert(l), "{lang}: chart {title:?} has two rows labelled {l:?}: {labels:?}");
            }
        }
        let roles = &charts.iter().find(|(t, _)| t == role).expect("the role chart").1;
        let want: &[&str] = if lang == "zh" { &["销售", "销售（sales）", "客服", "客服（customer service）", "软件工程师"] } else { &["sales", "销售", "customer service", "客服", "software engineer"] };
        for label in want {
            assert!(roles.iter().any(|r| r == label), "{lang}: no role row labelled {label:?}: {roles:?}");
        }
        let rates = w.read(&format!("{out}/rates_by_role.csv"));
        assert!(rates.contains("\nsales,") && rates.contains("\n销售,"), "the CSV keeps the raw values: {rates}");
    }
}
