//! Bad rows injected on request (`--bad-rows K`): exactly K rows of each kind the
//! ingest must set aside, with the reason code it is expected to give, and the bad
//! optional values (kept with a warning) that the chunk writer puts on real rows.
//! Each set-aside row has an id of its own, so it never interacts with deduplication.

use super::render::{push_csv_field, push_timestamp, TsForm};
use super::Plan;
use crate::time::MICROS_PER_DAY;

/// A set-aside row: the export it goes into, its text (without line ending) and the
/// reason code the ingest gives it.
#[derive(Debug, Clone)]
pub struct BadRow {
    pub file: usize,
    pub text: Vec<u8>,
    pub reason: &'static str,
}

/// Reason codes of set-aside interview rows, in injection order.
pub const INTERVIEW_REASONS: &[&str] =
    &["missing_field", "bad_timestamp", "bad_enum", "scheduled_before_invited", "wrong_field_count"];
/// Reason codes of set-aside event lines.
pub const EVENT_REASONS: &[&str] =
    &["invalid_json", "not_an_object", "duplicate_key", "bad_enum", "missing_field", "bad_type"];

/// Bad optional interview values, kept with a warning: (field, reason, values to cycle).
pub const INTERVIEW_WARNINGS: &[(&str, &str, &[&str])] = &[
    ("education", "bad_enum", &["phd", "博士", "university"]),
    ("fresh_graduate", "bad_bool", &["maybe", "y", "2"]),
    ("cost", "bad_decimal", &["1,200.50", "12e3", "¥80", ".5"]),
];
/// Bad optional event channels, kept with a warning.
pub const EVENT_WARNING: (&str, &str, &[&str]) = ("channel", "bad_enum", &["pigeon", "fax", "飞鸽"]);

fn ts(plan: &Plan, days_before_as_of: i64) -> Vec<u8> {
    let mut b = Vec::new();
    push_timestamp(&mut b, plan.as_of - days_before_as_of * MICROS_PER_DAY, TsForm::NaiveSpace, &plan.offsets);
    b
}

fn join_csv(fields: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_csv_field(&mut out, &String::from_utf8_lossy(f));
    }
    out
}

/// K bad interview rows of each kind, spread over the exports.
pub fn interview_rows(plan: &Plan) -> Vec<BadRow> {
    let k = plan.bad_rows as usize;
    let files = plan.files();
    let mut rows = Vec::with_capacity(k * INTERVIEW_REASONS.len());
    let mut n = 0usize;
    for (kind, &reason) in INTERVIEW_REASONS.iter().enumerate() {
        for j in 0..k {
            n += 1;
            let mut f: Vec<Vec<u8>> = vec![
                format!("bad-iv-{n:04}").into_bytes(),
                b"cand-bad".to_vec(),
                b"sales".to_vec(),
                "华东".as_bytes().to_vec(),
                b"bachelor".to_vec(),
                b"false".to_vec(),
                b"job_board".to_vec(),
                b"sms".to_vec(),
                ts(plan, 12),
                ts(plan, 10),
                b"attended".to_vec(),
                Vec::new(),
                Vec::new(),
                b"100.00".to_vec(),
                ts(plan, 9),
            ];
            match kind {
                0 => {
                    // An empty required field: interview_id, candidate_id, role, region,
                    // invited_at, scheduled_at or status.
                    let field = [0, 1, 2, 3, 8, 9, 10][j % 7];
                    f[field] = if j % 2 == 0 { Vec::new() } else { b"   ".to_vec() };
                }
                1 => {
                    let bad = ["2026-13-01 10:00:00", "2026-03-02", "2026-03-02T14:00:00+0800", "2026-03-02 24:00:00", "next tuesday"];
                    f[if j % 2 == 0 { 9 } else { 8 }] = bad[j % bad.len()].as_bytes().to_vec();
                }
                2 => {
                    let bad = ["finished", "no show", "done", "取消"];
                    f[10] = bad[j % bad.len()].as_bytes().to_vec();
                }
                3 => {
                    // Slot two hours or more before the invitation.
                    f[8] = ts(plan, 9);
                    f[9] = ts(plan, 10 + j as i64 % 3);
                }
                _ => {
                    if j % 2 == 0 {
                        f.pop();
                        f.pop();
                    } else {
                        f.push(b"extra".to_vec());
                    }
                }
            }
            rows.push(BadRow { file: (n - 1) % files, text: join_csv(&f), reason });
        }
    }
    rows
}

/// K bad event lines of each kind, spread over the exports. `interview_id` is a real
/// interview, so only the fault makes the line bad.
pub fn event_lines(plan: &Plan, interview_id: u64) -> Vec<BadRow> {
    let k = plan.bad_rows as usize;
    let files = plan.files();
    let t = String::from_utf8_lossy(&ts(plan, 11)).into_owned();
    let mut rows = Vec::with_capacity(k * EVENT_REASONS.len());
    let mut n = 0usize;
    for (kind, &reason) in EVENT_REASONS.iter().enumerate() {
        for j in 0..k {
            n += 1;
            let id = format!("bad-ev-{n:04}");
            let iv = interview_id;
            let text = match kind {
                0 => match j % 3 {
                    0 => format!(r#"{{"event_id":"{id}","interview_id":"{iv}","ts":"{t}"#),
                    1 => format!(r#"{{event_id: "{id}", interview_id: {iv}}}"#),
                    _ => format!(r#"{{"event_id":"{id}","interview_id":"{iv}","ts":"{t}","type":"joined",}}"#),
                },
                1 => match j % 4 {
                    0 => format!(r#"["{id}","{iv}","{t}","joined"]"#),
                    1 => format!(r#""{id}""#),
                    2 => "42".to_string(),
                    _ => "null".to_string(),
                },
                2 => format!(r#"{{"event_id":"{id}","interview_id":"{iv}","ts":"{t}","type":"joined","type":"completed"}}"#),
                3 => {
                    let bad = ["teleported", "interview_started", "已参加"];
                    format!(r#"{{"event_id":"{id}","interview_id":"{iv}","ts":"{t}","type":"{}"}}"#, bad[j % bad.len()])
                }
                4 => {
                    if j % 2 == 0 {
                        format!(r#"{{"event_id":"{id}","interview_id":"{iv}","type":"jd_viewed"}}"#)
                    } else {
                        format!(r#"{{"event_id":"{id}","interview_id":"{iv}","ts":null,"type":"jd_viewed"}}"#)
                    }
                }
                _ => {
                    if j % 2 == 0 {
                        format!(r#"{{"event_id":{n}.5,"interview_id":"{iv}","ts":"{t}","type":"jd_viewed"}}"#)
                    } else {
                        format!(r#"{{"event_id":"{id}","interview_id":true,"ts":"{t}","type":"jd_viewed"}}"#)
                    }
                }
            };
            rows.push(BadRow { file: (n - 1) % files, text: text.into_bytes(), reason });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{parse_bool, parse_decimal, Channel, Education};

    fn plan(k: u32) -> Plan {
        Plan::new(5000, 1, 1_780_000_000_000_000, chrono_tz::Asia::Shanghai, k).unwrap()
    }

    #[test]
    fn exactly_k_of_each_kind() {
        let p = plan(7);
        let iv = interview_rows(&p);
        let ev = event_lines(&p, 100_000_000);
        for reason in INTERVIEW_REASONS {
            assert_eq!(iv.iter().filter(|r| r.reason == *reason).count(), 7, "{reason}");
        }
        for reason in EVENT_REASONS {
            let n = ev.iter().filter(|r| r.reason == *reason).count();
            // bad_enum appears once in the list: the type enum.
            assert_eq!(n, 7, "{reason}");
        }
    }

    #[test]
    fn bad_lines_are_bad_for_their_reason_only() {
        let p = plan(6);
        for row in event_lines(&p, 100_000_000) {
            let text = String::from_utf8(row.text.clone()).unwrap();
            let parsed: Result<serde_json::Value, _> = serde_json::from_str(&text);
            match row.reason {
                "invalid_json" => assert!(parsed.is_err(), "{text}"),
                "not_an_object" => assert!(!parsed.unwrap().is_object(), "{text}"),
                // serde_json keeps the last of repeated keys: the line parses, the reader must catch it.
                "duplicate_key" => assert!(text.matches("\"type\"").count() == 2),
                _ => assert!(parsed.unwrap().is_object(), "{text}"),
            }
        }
        for row in interview_rows(&p) {
            let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(row.text.as_slice());
            let rec = rdr.records().next().unwrap().unwrap();
            assert_eq!(rec.len() == 15, row.reason != "wrong_field_count", "{:?}", rec);
        }
    }

    #[test]
    fn warning_values_really_are_invalid() {
        for (field, _, values) in INTERVIEW_WARNINGS {
            for v in *values {
                let ok = match *field {
                    "education" => Education::parse(v).is_some(),
                    "fresh_graduate" => parse_bool(v).is_some(),
                    _ => parse_decimal(v).is_some(),
                };
                assert!(!ok, "{field} {v} parses");
            }
        }
        assert!(EVENT_WARNING.2.iter().all(|v| Channel::parse(v).is_none()));
    }
}
