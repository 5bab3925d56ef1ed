//! Tests of `noshow score`.

use std::collections::HashSet;

use polars::prelude::*;

use crate::train::{write_synth_lake, AS_OF};
use crate::workdir::{read_parquet, Workdir};

fn score(wd: &Workdir, out: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["score", "--lake", "lake", "--model", "model", "--out", out, "--as-of", AS_OF];
    args.extend_from_slice(extra);
    wd.output(&args)
}

#[test]
fn feed_has_one_row_per_upcoming_interview_with_ranks_bands_and_holdout() {
    let wd = Workdir::new();
    let lake = write_synth_lake(&wd, 2000, 9);
    wd.run(&["train", "--lake", "lake", "--model", "model", "--as-of", AS_OF]);
    let out = score(&wd, "feed", &["--holdout-share", "0.2", "--holdout-seed", "42"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // Independent count: scheduled, invited by as-of, slot in (as-of, as-of + 7 days].
    let as_of = noshow::time::parse_timestamp(AS_OF, chrono_tz::UTC).unwrap();
    let end = as_of + 7 * noshow::time::MICROS_PER_DAY;
    let iv = lake.interviews.clone().lazy()
        .select([col("interview_id"), col("status"), noshow::derive::micros("scheduled_at").alias("s"), noshow::derive::micros("invited_at").alias("i")])
        .collect().unwrap();
    let mut expected = HashSet::new();
    for i in 0..iv.height() {
        let s = iv.column("s").unwrap().i64().unwrap().get(i).unwrap();
        let inv = iv.column("i").unwrap().i64().unwrap().get(i).unwrap();
        if iv.column("status").unwrap().str().unwrap().get(i) == Some("scheduled") && s > as_of && s <= end && inv <= as_of {
            expected.insert(iv.column("interview_id").unwrap().str().unwrap().get(i).unwrap().to_string());
        }
    }
    assert!(expected.len() > 50);

    let feed = read_parquet(&wd.path("feed/scores.parquet"));
    let ids: HashSet<String> = feed.column("interview_id").unwrap().str().unwrap().iter().map(|v| v.unwrap().to_string()).collect();
    assert_eq!(feed.height(), ids.len(), "one row per interview");
    assert_eq!(ids, expected);
    let n = feed.height();
    let mut ranks: Vec<u32> = feed.column("risk_rank").unwrap().u32().unwrap().iter().map(|v| v.unwrap()).collect();
    let probs: Vec<f64> = feed.column("p_not_attend").unwrap().f64().unwrap().iter().map(|v| v.unwrap()).collect();
    // Rank 1 is the highest probability.
    for w in ranks.windows(2).zip(probs.windows(2)) {
        if w.0[0] < w.0[1] {
            assert!(w.1[0] >= w.1[1]);
        }
    }
    ranks.sort_unstable();
    assert_eq!(ranks, (1..=n as u32).collect::<Vec<_>>());
    assert!(probs.iter().all(|&p| p > 0.0 && p < 1.0));
    let holdout: Vec<bool> = feed.column("holdout").unwrap().bool().unwrap().iter().map(|v| v.unwrap()).collect();
    let share = holdout.iter().filter(|&&h| h).count() as f64 / n as f64;
    assert!((share - 0.2).abs() < 0.02, "holdout share {share}");
    let bands: Vec<String> = feed.column("risk_band").unwrap().str().unwrap().iter().map(|v| v.unwrap().to_string()).collect();
    assert_eq!(bands.iter().filter(|b| *b == "high").count(), (0.1 * n as f64).ceil() as usize);
    let actions = feed.column("suggested_action").unwrap().str().unwrap().clone();
    for i in 0..n {
        if bands[i] == "high" {
            assert_eq!(actions.get(i), Some("phone_call"));
        }
    }
    let factors = feed.column("top_factors").unwrap().str().unwrap().clone();
    assert!(factors.iter().flatten().filter(|f| !f.is_empty()).count() > n / 2);
    // Only the operational candidate id and the listed columns leave the building.
    let names: Vec<String> = feed.get_column_names().iter().map(|s| s.to_string()).collect();
    assert_eq!(names, ["interview_id", "candidate_id", "scheduled_at", "scheduled_at_local", "p_not_attend", "risk_rank", "risk_band", "top_factors", "suggested_action", "holdout", "model_version"]);
    // CSV and JSON lines carry the same rows.
    assert_eq!(wd.read("feed/scores.csv").lines().count(), n + 1);
    assert_eq!(wd.read("feed/scores.jsonl").lines().count(), n);
    assert!(wd.read("feed/README.txt").contains("never be used to reject"));

    // Same seed, same flags; another seed, other flags.
    assert!(score(&wd, "feed2", &["--holdout-share", "0.2", "--holdout-seed", "42"]).status.success());
    assert_eq!(wd.read("feed/scores.csv"), wd.read("feed2/scores.csv"));
    assert!(score(&wd, "feed3", &["--holdout-share", "0.2", "--holdout-seed", "43"]).status.success());
    assert_ne!(wd.read("feed/scores.csv"), wd.read("feed3/scores.csv"));
}

#[test]
fn a_hand_edited_model_is_rejected_before_scoring() {
    let wd = Workdir::new();
    wd.accept_small_models();
    write_synth_lake(&wd, 600, 10);
    wd.run(&["train", "--lake", "lake", "--model", "model", "--as-of", AS_OF]);
    let original = wd.read("model/model.json");
    let mut value: serde_json::Value = serde_json::from_str(&original).unwrap();
    let jd = value["coefficients"]["jd_viewed"].as_f64().unwrap();
    value["coefficients"]["jd_viewed"] = serde_json::json!(jd * 2.0);
    std::fs::write(wd.path("model/model.json"), serde_json::to_string_pretty(&value).unwrap()).unwrap();
    let out = score(&wd, "feed", &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("edited by hand"), "{err}");
    assert!(!wd.path("feed").exists(), "nothing may be written");

    // Another major version (with a matching hash, as that noshow would write it).
    let mut other: serde_json::Value = serde_json::from_str(&original).unwrap();
    other["noshow_version"] = serde_json::json!("7.0.0");
    std::fs::write(wd.path("model/model.json"), serde_json::to_string_pretty(&other).unwrap()).unwrap();
    let out = score(&wd, "feed", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("noshow 7.0.0"));

    // The untouched file scores.
    std::fs::write(wd.path("model/model.json"), &original).unwrap();
    assert!(score(&wd, "feed", &[]).status.success());
}
