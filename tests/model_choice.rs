//! Tests of issue 16's model choices: the L2 penalty chosen by rolling-origin
//! validation (or fixed by `--l2` / `[train] l2`), and the intercept recalibrated on
//! the latest training weeks, which the feed then uses.

use std::path::Path;

use polars::prelude::*;

use crate::train::AS_OF;
use crate::workdir::Workdir;

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// A synthetic lake (noshow::features::synth) whose roles are replaced by 25 values
/// drawn by a hash of the interview id: 24 design columns of pure noise, where a
/// penalty can only help.
fn write_many_roles_lake(wd: &Workdir, n: usize, seed: u64) {
    let as_of = noshow::time::parse_timestamp(AS_OF, chrono_tz::UTC).unwrap();
    let mut lake = noshow::features::synth::synth_lake(n, 12, as_of, seed).unwrap();
    let ids = lake.interviews.column("interview_id").unwrap().str().unwrap().clone();
    let roles: Vec<String> = ids
        .iter()
        .map(|id| format!("role-{:02}", xxhash_rust::xxh3::xxh3_64(id.unwrap().as_bytes()) % 25))
        .collect();
    lake.interviews.with_column(Column::new("role".into(), roles)).unwrap();
    crate::train::commit_synth_lake(wd, &mut lake);
}

fn train(wd: &Workdir, model: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["train", "--lake", "lake", "--model", model, "--as-of", AS_OF, "-q"];
    args.extend_from_slice(extra);
    wd.run(&args);
    read_json(&wd.path(&format!("{model}/model.json")))
}

#[test]
fn the_penalty_is_chosen_on_the_last_training_weeks_and_the_curve_is_recorded() {
    let wd = Workdir::new();
    wd.accept_small_models();
    write_many_roles_lake(&wd, 2500, 21);
    let model = train(&wd, "model", &[]);
    let penalty = &model["penalty"];
    assert_eq!(penalty["method"], "search");
    let grid: Vec<f64> = penalty["grid"].as_array().unwrap().iter().map(f).collect();
    assert_eq!(grid, [0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0]);
    assert!(model["coefficients"].as_object().unwrap().keys().filter(|k| k.starts_with("role=")).count() >= 20);

    // Three validation weeks, the last three of the training window, oldest first,
    // each fitted on everything before it.
    let folds = penalty["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 3);
    let end = noshow::time::parse_timestamp(model["training_window"]["end"].as_str().unwrap(), chrono_tz::UTC).unwrap();
    let week = 7 * 86_400_000_000i64;
    for (k, fold) in folds.iter().enumerate() {
        let start = noshow::time::parse_timestamp(fold["validation_start"].as_str().unwrap(), chrono_tz::UTC).unwrap();
        assert_eq!(start, end - (3 - k as i64) * week, "fold {k}");
        assert!(fold["validation_rows"].as_u64().unwrap() > 50 && fold["validation_positives"].as_u64().unwrap() > 5);
    }
    // Consecutive weeks: a fold trains on the previous fold's rows and its week.
    for k in 1..3 {
        let rows = |k: usize, key: &str| folds[k][key].as_u64().unwrap();
        assert_eq!(rows(k, "training_rows"), rows(k - 1, "training_rows") + rows(k - 1, "validation_rows"));
    }

    // The curve: one mean per grid value, the mean of its folds; the choice is the
    // minimum, it is the fitted penalty, and it is no worse than the old default 1.
    let curve = penalty["curve"].as_array().unwrap();
    assert_eq!(curve.len(), grid.len());
    let mut means = Vec::new();
    for point in curve {
        let folds: Vec<f64> = point["fold_log_loss"].as_array().unwrap().iter().map(f).collect();
        assert_eq!(folds.len(), 3);
        let mean = f(&point["mean_log_loss"]);
        assert!((mean - folds.iter().sum::<f64>() / 3.0).abs() < 1e-12);
        means.push((f(&point["l2"]), mean));
    }
    let best = means.iter().cloned().fold((f64::NAN, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
    let chosen = f(&penalty["l2"]);
    assert_eq!(chosen, best.0);
    assert_eq!(f(&model["solver"]["l2"]), chosen);
    let default = means.iter().find(|m| m.0 == 1.0).unwrap().1;
    eprintln!("validation log loss: chosen l2 = {chosen}: {:.5}, default l2 = 1: {default:.5}; curve {means:?}", best.1);
    assert!(best.1 <= default);
    // With 24 noise columns a stronger penalty than the old default wins.
    assert!(chosen > 1.0, "chosen {chosen}");

    // The same table in the evaluation folder, the chosen row flagged.
    let table = crate::workdir::read_parquet(&wd.path("model/evaluation/l2_search.parquet"));
    assert_eq!(table.height(), grid.len());
    assert_eq!(table.column("chosen").unwrap().bool().unwrap().iter().filter(|c| *c == Some(true)).count(), 1);
    assert_eq!(table.width(), 3 + 3, "l2, chosen, mean_log_loss and one column per week");

    // Run to run, the same curve, the same choice and the same fit.
    let again = train(&wd, "model-again", &[]);
    assert_eq!(again["penalty"], model["penalty"]);
    assert_eq!(again["coefficients"], model["coefficients"]);
}

#[test]
fn a_fixed_penalty_skips_the_search_and_says_where_it_came_from() {
    let wd = Workdir::new();
    wd.accept_small_models();
    write_many_roles_lake(&wd, 1200, 22);
    let flag = train(&wd, "flag", &["--l2", "2"]);
    assert_eq!(flag["penalty"]["method"], "fixed");
    assert_eq!(flag["penalty"]["fixed_by"], "--l2");
    assert_eq!(f(&flag["penalty"]["l2"]), 2.0);
    assert_eq!(f(&flag["solver"]["l2"]), 2.0);
    assert!(flag["penalty"].get("curve").is_none() && flag["penalty"].get("grid").is_none());
    let table = crate::workdir::read_parquet(&wd.path("flag/evaluation/l2_search.parquet"));
    assert_eq!(table.height(), 1);

    std::fs::write(wd.path("fixed.toml"), format!("{}l2 = 0.5\n", crate::workdir::SMALL_MODELS)).unwrap();
    wd.run(&["--config", "fixed.toml", "train", "--lake", "lake", "--model", "config", "--as-of", AS_OF, "-q"]);
    let config = read_json(&wd.path("config/model.json"));
    assert_eq!(config["penalty"]["fixed_by"], "train.l2");
    assert_eq!(f(&config["solver"]["l2"]), 0.5);
    // The flag wins over the config.
    wd.run(&["--config", "fixed.toml", "train", "--lake", "lake", "--model", "both", "--as-of", AS_OF, "-q", "--l2", "2"]);
    assert_eq!(read_json(&wd.path("both/model.json"))["penalty"]["fixed_by"], "--l2");

    // A grid setting that cannot work is a usage error naming it.
    std::fs::write(wd.path("bad.toml"), "[train]\nl2_grid = [1.0, -3.0]\n").unwrap();
    let out = wd.output(&["--config", "bad.toml", "train", "--lake", "lake", "--model", "bad", "--as-of", AS_OF]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("train.l2_grid"));
}

#[test]
fn on_the_committed_sample_the_searched_penalty_keeps_the_test_auc() {
    // The committed sample with the committed config: the penalty the search picks
    // against the old fixed default (l2 = 1), on the same test window. The issue
    // asks for the AUC to stay within 0.002; here the search picks l2 = 30 and the
    // AUC rises by 0.005 (0.601 vs 0.596 on 286 test interviews with 50 misses,
    // where an AUC's standard error is about 0.045), so the check is one-sided:
    // never more than 0.002 below the fixed penalty's.
    let root = env!("CARGO_MANIFEST_DIR");
    let config = format!("{root}/noshow.toml");
    let wd = Workdir::new();
    wd.run(&["--config", &config, "ingest", "--raw", &format!("{root}/data/sample"), "--lake", "lake", "-q"]);
    let run = |model: &str, extra: &[&str]| {
        let mut args = vec!["--config", config.as_str(), "train", "--lake", "lake", "--model", model, "-q", "--force"];
        args.extend_from_slice(extra);
        wd.run(&args);
        read_json(&wd.path(&format!("{model}/model.json")))
    };
    let searched = run("searched", &[]);
    let fixed = run("fixed", &["--l2", "1"]);
    let (a, b) = (f(&searched["metrics"]["auc"]), f(&fixed["metrics"]["auc"]));
    eprintln!("committed sample: searched l2 = {} AUC {a:.4}, fixed l2 = 1 AUC {b:.4}", searched["penalty"]["l2"]);
    assert_eq!(searched["test_window"], fixed["test_window"]);
    assert!(a >= b - 0.002, "AUC {a} with the searched penalty vs {b} with l2 = 1");
}

#[test]
fn recalibration_follows_a_rising_miss_rate_and_the_feed_uses_it() {
    let wd = Workdir::new();
    // The odds of not attending rise by 2 % a week (0.02 on the log-odds): over the
    // 26 weeks a 0.5 rise, about 7 points of miss rate. A one-week test window is
    // "the next week" of a model trained at its start; 40 000 interviews give about
    // 1 000 closed interviews in that week and 170 misses a week before it.
    let config = format!("{}test_weeks = 1\nl2 = 1.0\n", crate::workdir::SMALL_MODELS);
    std::fs::write(wd.path("noshow.toml"), &config).unwrap();
    std::fs::write(wd.path("off.toml"), format!("{config}recalibrate = false\n")).unwrap();
    wd.run(&["generate", "--out", "raw", "--interviews", "40000", "--seed", "21", "--as-of", AS_OF, "--miss-rate-trend", "0.02", "-q"]);
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    let model = train(&wd, "model", &[]);
    wd.run(&["--config", "off.toml", "train", "--lake", "lake", "--model", "off", "--as-of", AS_OF, "-q"]);
    let off = read_json(&wd.path("off/model.json"));

    let r = &model["recalibration"];
    let e = &r["evaluation"];
    assert_eq!(r["applied"], true);
    // Installed: the latest weeks before as-of; evaluated: the same rule ending where
    // the test window starts. Each window is at least two weeks and holds at least
    // recalibrate_min_misses headline misses.
    assert_eq!(r["window_end"], AS_OF);
    assert_eq!(e["window_end"], model["training_window"]["end"]);
    assert_eq!(r["min_misses"], 300);
    for w in [r, e] {
        assert!(w["weeks"].as_u64().unwrap() >= 2, "{w}");
        let start = noshow::time::parse_timestamp(w["window_start"].as_str().unwrap(), chrono_tz::UTC).unwrap();
        let end = noshow::time::parse_timestamp(w["window_end"].as_str().unwrap(), chrono_tz::UTC).unwrap();
        assert_eq!(end - start, w["weeks"].as_i64().unwrap() * 7 * noshow::time::MICROS_PER_DAY);
    }
    assert!(e["headline_misses"].as_u64().unwrap() >= 300, "{e}");
    // The model's intercept is the fitted one plus the installed shift; without
    // recalibration the same fit keeps its own.
    assert!((f(&model["intercept"]) - f(&r["fitted_intercept"]) - f(&r["shift"])).abs() < 1e-12);
    assert_eq!(off["recalibration"]["applied"], false);
    assert_eq!(off["coefficients"], model["coefficients"]);
    assert_eq!(f(&off["intercept"]), f(&r["fitted_intercept"]));
    // A rising miss rate: the latest weeks miss more than the window's average.
    assert!(f(&r["shift"]) > 0.0 && f(&e["shift"]) > 0.0, "shifts {} {}", r["shift"], e["shift"]);

    // The next week, recomputed from each model's test predictions.
    let gap = |folder: &str| {
        let preds = crate::workdir::read_parquet(&wd.path(&format!("{folder}/evaluation/test_predictions.parquet")));
        let p = preds.column("p_not_attend").unwrap().f64().unwrap().clone();
        let y = preds.column("label").unwrap().bool().unwrap().clone();
        let mean_p = p.mean().unwrap();
        let observed = y.iter().filter(|v| *v == Some(true)).count() as f64 / preds.height() as f64;
        (mean_p, observed)
    };
    let (after, observed) = gap("model");
    let (before, observed_off) = gap("off");
    assert_eq!(observed, observed_off);
    eprintln!(
        "next week: observed {observed:.4}; mean p recalibrated {after:.4} (gap {:.4}), uncalibrated {before:.4} (gap {:.4}); ECE {} -> {}",
        (after - observed).abs(),
        (before - observed).abs(),
        r["test_before"]["ece"],
        r["test_after"]["ece"]
    );
    // Within a point with the recent level, two off with the half-year's average.
    assert!((after - observed).abs() < 0.01, "recalibrated {after} vs observed {observed}");
    assert!((before - observed).abs() > 0.015, "uncalibrated {before} vs observed {observed}");
    // model.json says the same, before and after.
    assert!((f(&r["test_after"]["mean_predicted"]) - after).abs() < 1e-9);
    assert!((f(&r["test_before"]["mean_predicted"]) - before).abs() < 1e-9);
    assert!((f(&off["recalibration"]["test_after"]["mean_predicted"]) - before).abs() < 1e-9);
    assert_eq!(r["deciles"].as_array().unwrap().len(), 10);
    assert_eq!(r["by_horizon"].as_array().unwrap().len(), model["metrics_by_horizon"].as_array().unwrap().len());
    let table = crate::workdir::read_parquet(&wd.path("model/evaluation/recalibration.parquet"));
    assert_eq!(table.height(), 1 + model["metrics_by_horizon"].as_array().unwrap().len());

    // The feed scores with the recalibrated intercept: against the model without it,
    // every interview's log-odds differ by exactly the shift.
    let score = |folder: &str| {
        wd.run(&["score", "--lake", "lake", "--model", folder, "--out", &format!("scores-{folder}"), "--as-of", AS_OF, "-q"]);
        let feed = crate::workdir::read_parquet(&wd.path(&format!("scores-{folder}/scores.parquet")));
        let ids: Vec<String> = feed.column("interview_id").unwrap().str().unwrap().iter().map(|v| v.unwrap().to_string()).collect();
        let p: Vec<f64> = feed.column("p_not_attend").unwrap().f64().unwrap().iter().map(|v| v.unwrap()).collect();
        ids.into_iter().zip(p).collect::<std::collections::BTreeMap<String, f64>>()
    };
    let (with, without) = (score("model"), score("off"));
    assert!(with.len() > 100 && with.len() == without.len());
    let logit = |p: f64| (p / (1.0 - p)).ln();
    for (id, p) in &with {
        let d = logit(*p) - logit(without[id]);
        assert!((d - f(&r["shift"])).abs() < 1e-9, "{id}: {d} vs shift {}", r["shift"]);
    }
}

#[test]
fn an_hr_exports_own_column_can_be_a_model_feature_and_score_needs_it() {
    let wd = Workdir::new();
    wd.run(&[
        "generate", "--out", "hrraw", "--interviews", "3000", "--seed", "5", "--as-of", AS_OF, "--tz", "Asia/Shanghai",
        "--style", "hr-export", "-q",
    ]);
    wd.run(&["generate", "--out", "v1raw", "--interviews", "3000", "--seed", "5", "--as-of", AS_OF, "--tz", "Asia/Shanghai", "-q"]);
    // The export's mapping, plus the training settings.
    let mapping = wd.read("hrraw/hr-export.toml");
    let with = |extra: &str| format!("{mapping}\n{}l2 = 1.0\nextra_features = [{extra}]\n", crate::workdir::SMALL_MODELS);
    std::fs::write(wd.path("hr.toml"), with("\"recruiter\"")).unwrap();
    wd.run(&["--config", "hr.toml", "ingest", "--raw", "hrraw", "--lake", "hr", "-q"]);
    wd.run(&["--tz", "Asia/Shanghai", "ingest", "--raw", "v1raw", "--lake", "v1", "-q"]);

    // A name that is not an extra column of the lake, or a built-in one: usage errors.
    for (extra, says) in [("\"nope\"", "nope, which is not an extra interview column"), ("\"role\"", "\"role\" is a built-in")] {
        std::fs::write(wd.path("bad.toml"), with(extra)).unwrap();
        let out = wd.output(&["--config", "bad.toml", "--as-of", AS_OF, "train", "--lake", "hr", "--model", "bad", "-q"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "{err}");
        assert!(!wd.path("bad/model.json").exists());
    }

    wd.run(&["--config", "hr.toml", "--as-of", AS_OF, "train", "--lake", "hr", "--model", "model", "-q"]);
    let model = read_json(&wd.path("model/model.json"));
    let recruiter = model["features"]["categorical"].as_array().unwrap().iter().find(|c| c["name"] == "recruiter").unwrap();
    assert!(recruiter["definition"].as_str().unwrap().contains("extra_features"), "{recruiter}");
    // Five recruiters, about 600 interviews each: every one its own level but the
    // reference, none pooled.
    let mut all: Vec<String> = recruiter["levels"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    all.push(recruiter["reference"].as_str().unwrap().to_string());
    all.sort();
    let mut want = vec!["王芳", "李娜", "张伟", "刘洋", "陈静"];
    want.sort();
    assert_eq!(all, want);
    for level in recruiter["levels"].as_array().unwrap() {
        let name = format!("recruiter={}", level.as_str().unwrap());
        let c = f(&model["coefficients"][&name]);
        // The generator draws recruiters at random: no real effect.
        assert!(c.abs() < 0.5, "{name}: {c}");
    }
    // The drift reference knows the new feature too.
    assert!(model["drift_reference"]["features"].as_array().unwrap().iter().any(|f| f["name"] == "recruiter"));

    // The lake that holds the column scores; one without it is refused, naming it.
    wd.run(&["--config", "hr.toml", "--as-of", AS_OF, "score", "--lake", "hr", "--model", "model", "--out", "s1", "-q"]);
    let feed = crate::workdir::read_parquet(&wd.path("s1/scores.parquet"));
    assert!(feed.height() > 50, "{}", feed.height());
    let out = wd.output(&["--tz", "Asia/Shanghai", "--as-of", AS_OF, "score", "--lake", "v1", "--model", "model", "--out", "s2", "-q"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("uses the interview column recruiter as a feature"), "{err}");
    assert!(!wd.path("s2/scores.parquet").exists());
}
