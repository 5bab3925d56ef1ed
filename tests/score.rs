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
    assert_eq!(names, ["interview_id", "candidate_id", "scheduled_at", "scheduled_at_local", "p_not_attend", "risk_rank", "risk_band", "top_factors", "suggested_action", "arm", "holdout", "model_version"]);
    // CSV and JSON lines carry the same rows.
    assert_eq!(wd.read("feed/scores.csv").lines().count(), n + 1);
    assert_eq!(wd.read("feed/scores.jsonl").lines().count(), n);
    assert!(wd.read("feed/README.txt").contains("never be used to reject"));

    // Same seed, same flags; another seed, other flags.
    assert!(score(&wd, "feed2", &["--holdout-share", "0.2", "--holdout-seed", "42"]).status.success());
    assert_eq!(wd.read("feed/scores.csv"), wd.read("feed2/scores.csv"));
    // (Arms are sticky through the lake's feed archive: without it, the draw is new.)
    std::fs::remove_dir_all(wd.path("lake/feeds")).unwrap();
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

/// Writes `interviews` and `events` as a one-version lake at `WORKDIR/name`.
fn write_lake(wd: &Workdir, name: &str, mut interviews: DataFrame, mut events: DataFrame) {
    let l = noshow::lake::Lake::new(wd.path(name));
    let lock = l.lock().unwrap();
    let v = l.begin_version(&lock).unwrap();
    noshow::export::write_parquet(&v.dir().join("interviews/part-0.parquet"), &mut interviews).unwrap();
    noshow::export::write_parquet(&v.dir().join("events/part-0.parquet"), &mut events).unwrap();
    v.commit_listing_files(2).unwrap();
}

#[test]
fn a_role_never_seen_in_training_is_scored_as_other_and_said() {
    let wd = Workdir::new();
    let as_of = noshow::time::parse_timestamp(AS_OF, chrono_tz::UTC).unwrap();
    let lake = noshow::features::synth::synth_lake(2000, 12, as_of, 9).unwrap();
    // Five closed interviews get a rare role (folded into `other` in training); every
    // upcoming one gets a role training never saw (lake `new`) or the rare one (`rare`).
    let relabel = |upcoming: &str| -> DataFrame {
        let iv = &lake.interviews;
        let slots = iv.column("scheduled_at").unwrap().cast(&DataType::Int64).unwrap();
        let slots = slots.i64().unwrap();
        let roles = iv.column("role").unwrap().str().unwrap();
        let mut rare_left = 5;
        let new_roles: Vec<Option<String>> = (0..iv.height())
            .map(|i| {
                if slots.get(i).unwrap() > as_of {
                    Some(upcoming.to_string())
                } else if rare_left > 0 {
                    rare_left -= 1;
                    Some("rare_role".to_string())
                } else {
                    roles.get(i).map(str::to_string)
                }
            })
            .collect();
        let mut df = iv.clone();
        df.with_column(Column::new("role".into(), new_roles)).unwrap();
        df
    };
    write_lake(&wd, "lake", relabel("quantum_poet"), lake.events.clone());
    write_lake(&wd, "rare", relabel("rare_role"), lake.events.clone());
    wd.run(&["train", "--lake", "lake", "--model", "model", "--as-of", AS_OF, "-q"]);
    let model: serde_json::Value = serde_json::from_str(&wd.read("model/model.json")).unwrap();
    let role = model["features"]["categorical"].as_array().unwrap().iter().find(|c| c["name"] == "role").unwrap();
    assert!(role["folded"].as_array().unwrap().iter().any(|v| v == "rare_role"), "{role}");
    assert!(role["levels"].as_array().unwrap().iter().any(|v| v == "other"), "{role}");
    assert_eq!(model["features"]["unseen_levels"], "other");
    assert_eq!(model["features"]["min_level_interviews"], 30);

    let out = score(&wd, "feed", &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let feed = read_parquet(&wd.path("feed/scores.parquet"));
    let n = feed.height();
    assert!(n > 50);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{n} of the interviews scored have a role never seen in training (e.g. quantum_poet), scored as `other`")), "{err}");
    // Exactly as a folded (rare) role would be: the same probabilities, none zero.
    let rare = wd.output(&["score", "--lake", "rare", "--model", "model", "--out", "feed-rare", "--as-of", AS_OF]);
    assert!(rare.status.success(), "{}", String::from_utf8_lossy(&rare.stderr));
    assert!(!String::from_utf8_lossy(&rare.stderr).contains("never seen"));
    let by_id = |df: &DataFrame| -> std::collections::BTreeMap<String, f64> {
        let ids = df.column("interview_id").unwrap().str().unwrap().clone();
        let p = df.column("p_not_attend").unwrap().f64().unwrap().clone();
        (0..df.height()).map(|i| (ids.get(i).unwrap().to_string(), p.get(i).unwrap())).collect()
    };
    let (a, b) = (by_id(&feed), by_id(&read_parquet(&wd.path("feed-rare/scores.parquet"))));
    assert_eq!(a.len(), b.len());
    for (id, p) in &a {
        assert!(*p > 0.0 && *p < 1.0);
        assert!((p - b[id]).abs() < 1e-12, "{id}: {p} vs {}", b[id]);
    }
}

#[test]
fn min_level_interviews_is_a_setting() {
    let wd = Workdir::new();
    write_synth_lake(&wd, 1200, 4);
    // Each of the four synthetic roles has about 150 training interviews.
    std::fs::write(wd.path("levels.toml"), "[train]\nmin_level_interviews = 1000\n").unwrap();
    wd.run(&["--config", "levels.toml", "train", "--lake", "lake", "--model", "model", "--as-of", AS_OF, "-q", "--force"]);
    let model: serde_json::Value = serde_json::from_str(&wd.read("model/model.json")).unwrap();
    assert_eq!(model["features"]["min_level_interviews"], 1000);
    let role = model["features"]["categorical"].as_array().unwrap().iter().find(|c| c["name"] == "role").unwrap();
    // Every role folded into `other`, which is then the reference: no role column.
    assert_eq!(role["reference"], "other", "{role}");
    assert!(role["levels"].as_array().unwrap().is_empty(), "{role}");
    std::fs::write(wd.path("zero.toml"), "[train]\nmin_level_interviews = 0\n").unwrap();
    let out = wd.output(&["--config", "zero.toml", "train", "--lake", "lake", "--model", "model", "--as-of", AS_OF]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn score_reads_only_the_event_row_groups_its_interviews_can_be_in_and_scores_the_same() {
    let wd = Workdir::new();
    wd.accept_small_models();
    let as_of = "2026-11-16T00:00:00Z";
    wd.run(&["generate", "--out", "raw", "--interviews", "3000", "--seed", "12", "--as-of", as_of, "-q"]);
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    wd.run(&["train", "--lake", "lake", "--model", "model", "--as-of", as_of, "-q"]);
    let with_index = wd.run(&["score", "--lake", "lake", "--model", "model", "--out", "feed-a", "--as-of", as_of]);
    let log = String::from_utf8_lossy(&with_index.stderr).into_owned();
    let counts: Vec<(usize, usize)> = log
        .lines()
        .filter_map(|l| {
            let rest = l.split("noshow: read ").nth(1)?;
            let mut words = rest.split_whitespace();
            let read: usize = words.next()?.parse().ok()?;
            let total: usize = rest.split("lake's ").nth(1)?.split_whitespace().next()?.parse().ok()?;
            Some((read, total))
        })
        .collect();
    assert!(!counts.is_empty(), "{log}");
    assert!(counts.iter().all(|&(read, total)| read < total), "every event row group was read: {log}");

    // Without the indexes every event is read, the general way: the same feed.
    std::fs::remove_dir_all(wd.path("lake/current/index")).unwrap();
    let without = wd.run(&["score", "--lake", "lake", "--model", "model", "--out", "feed-b", "--as-of", as_of]);
    let log_b = String::from_utf8_lossy(&without.stderr);
    assert!(log_b.lines().filter(|l| l.contains("event row groups")).all(|l| {
        let rest = l.split("noshow: read ").nth(1).unwrap_or("");
        let read = rest.split_whitespace().next().unwrap_or("");
        rest.contains(&format!("lake's {read} "))
    }), "{log_b}");
    for name in ["scores.csv", "recovery.csv"] {
        assert_eq!(wd.read(&format!("feed-a/{name}")), wd.read(&format!("feed-b/{name}")), "{name} differs");
    }
    let feed = read_parquet(&wd.path("feed-a/scores.parquet"));
    assert!(feed.height() > 20);
}
