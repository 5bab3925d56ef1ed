//! Tests of `noshow train` (and of the solver against scikit-learn).

use std::path::Path;

use noshow::model::encoding::Design;
use noshow::model::fit::{fit_logistic, FitOptions, SolverKind};

use crate::workdir::Workdir;

pub const AS_OF: &str = "2026-03-02T00:00:00Z";

/// Writes a synthetic lake (noshow::features::synth) into `WORKDIR/lake` and returns
/// the frames it holds plus each interview's true probability.
pub fn write_synth_lake(wd: &Workdir, n: usize, seed: u64) -> noshow::features::synth::SynthLake {
    let as_of = noshow::time::parse_timestamp(AS_OF, chrono_tz::UTC).unwrap();
    let mut lake = noshow::features::synth::synth_lake(n, 12, as_of, seed).unwrap();
    commit_synth_lake(wd, &mut lake);
    lake
}

/// Commits a synthetic lake's frames as the version of `WORKDIR/lake`.
pub fn commit_synth_lake(wd: &Workdir, lake: &mut noshow::features::synth::SynthLake) {
    let l = noshow::lake::Lake::new(wd.path("lake"));
    let lock = l.lock().unwrap();
    let v = l.begin_version(&lock).unwrap();
    noshow::export::write_parquet(&v.dir().join("interviews/part-0.parquet"), &mut lake.interviews).unwrap();
    noshow::export::write_parquet(&v.dir().join("events/part-0.parquet"), &mut lake.events).unwrap();
    v.commit_listing_files(2).unwrap();
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn train(wd: &Workdir, extra: &[&str]) -> String {
    let mut args = vec!["train", "--lake", "lake", "--model", "model", "--as-of", AS_OF];
    args.extend_from_slice(extra);
    String::from_utf8(wd.run(&args).stdout).unwrap()
}

#[test]
fn coefficients_match_scikit_learn() {
    // tests/fixtures/design_small.csv and the reference values come from
    // tests/py/reference_fit.py: scikit-learn 1.9.1 LogisticRegression(C = 1/2, lbfgs,
    // tol 1e-12), i.e. alpha = 2 with the intercept unpenalised, the loss linfa minimises.
    const SKLEARN_INTERCEPT: f64 = -1.2052973388;
    const SKLEARN_COEF: [f64; 5] = [0.5994373675, -0.6528177786, -0.4272665213, 1.2339467460, -0.2455165488];
    let text = include_str!("fixtures/design_small.csv");
    let mut values = Vec::new();
    let mut y = Vec::new();
    for line in text.lines().skip(1) {
        let cells: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
        values.extend_from_slice(&cells[..5]);
        y.push(cells[5] == 1.0);
    }
    // Positives are the minority (116 of 400): linfa's own "positive" class would be
    // the 0s, so a sign slip would flip every coefficient.
    assert_eq!(y.iter().filter(|&&v| v).count(), 116);
    let design = Design { rows: y.len(), cols: 5, values };
    // Both solvers minimise the same loss: linfa's L-BFGS and the Newton default.
    for solver in [SolverKind::Linfa, SolverKind::Newton] {
        let options = FitOptions { solver, l2: 2.0, max_iterations: 1000, gradient_tolerance_per_row: 1e-8 };
        let fitted = fit_logistic(&design, &y, &options).unwrap();
        // Tolerance 1e-4 absolute: the solvers stop on gradient norms, not exact optima.
        assert!((fitted.intercept - SKLEARN_INTERCEPT).abs() < 1e-4, "{solver:?} intercept {}", fitted.intercept);
        for (j, (got, want)) in fitted.coefficients.iter().zip(SKLEARN_COEF).enumerate() {
            assert!((got - want).abs() < 1e-4, "{solver:?} coef {j}: {got} vs scikit-learn {want}");
        }
    }
}

#[test]
fn train_writes_a_versioned_model_and_compares_with_the_previous_one() {
    let wd = Workdir::new();
    write_synth_lake(&wd, 2000, 3);
    let out = train(&wd, &[]);
    assert!(out.contains("model 0001"), "{out}");
    let model = read_json(&wd.path("model/model.json"));
    for key in ["coefficients", "intercept", "features", "label", "horizon_hours", "training_window", "test_window", "metrics", "scoring_recipe", "intended_use", "content_sha256"] {
        assert!(model.get(key).is_some(), "model.json lacks {key}");
    }
    for key in ["auc", "log_loss", "brier", "top_decile_capture", "pr_auc", "ece"] {
        assert!(model["metrics"][key].is_number(), "metric {key} missing");
    }
    assert_eq!(model["label"], "no_show_or_candidate_cancel");
    assert_eq!(model["version"], "0001");
    // Windows: training ends where the test window starts, four weeks before as-of.
    assert_eq!(model["test_window"]["start"], "2026-02-02T00:00:00Z");
    assert_eq!(model["training_window"]["end"], "2026-02-02T00:00:00Z");
    // The coefficients cover every encoded column and the scaling is recorded.
    let numeric = model["features"]["numeric"].as_array().unwrap();
    assert!(numeric.iter().all(|n| n["sd"].as_f64().unwrap() > 0.0));
    assert!(model["coefficients"]["jd_viewed"].as_f64().unwrap() < 0.0);
    for table in ["metrics", "calibration", "fairness", "coefficients"] {
        for ext in ["parquet", "csv"] {
            assert!(wd.path(&format!("model/evaluation/{table}.{ext}")).exists(), "{table}.{ext}");
            assert!(wd.path(&format!("model/versions/0001/evaluation/{table}.{ext}")).exists());
        }
    }
    let fairness = wd.read("model/evaluation/fairness.csv");
    assert!(fairness.contains("education") && fairness.contains("region") && fairness.contains("华东"));

    // The same lake and settings: the same fit, no new version.
    let again = train(&wd, &[]);
    assert!(again.contains("model 0001 (unchanged"), "{again}");
    assert!(!wd.path("model/versions/0002").exists());

    // Another penalty: a new version, compared with 0001 on the same test window.
    let third = train(&wd, &["--l2", "50"]);
    assert!(third.contains("model 0002"), "{third}");
    assert!(third.contains("previous model 0001 on the same test window: AUC"), "{third}");
    assert_eq!(read_json(&wd.path("model/model.json"))["version"], "0002");
    assert!(wd.path("model/versions/0001/model.json").exists());
}

#[test]
fn export_design_matches_the_model_columns() {
    let wd = Workdir::new();
    write_synth_lake(&wd, 1200, 4);
    train(&wd, &["--export-design", "design.parquet"]);
    let df = crate::workdir::read_parquet(&wd.path("design.parquet"));
    let model = read_json(&wd.path("model/model.json"));
    let coefs = model["coefficients"].as_object().unwrap();
    assert_eq!(df.width(), coefs.len() + 1);
    for name in coefs.keys() {
        assert!(df.column(name).is_ok(), "design lacks {name}");
    }
    assert_eq!(df.height() as u64, model["training_window"]["rows"].as_u64().unwrap());
}

#[test]
fn above_max_interviews_training_uses_a_repeatable_sample() {
    let wd = Workdir::new();
    write_synth_lake(&wd, 2000, 6);
    train(&wd, &[]);
    let full = read_json(&wd.path("model/model.json"));
    let closed = full["training_window"]["interviews"].as_u64().unwrap() + full["test_window"]["interviews"].as_u64().unwrap();
    assert!(!full["snapshot_rule"].as_str().unwrap().contains("sample"));

    std::fs::write(wd.path("noshow.toml"), "[train]\nmax_interviews = 600\n").unwrap();
    let sampled_run = |model: &str| {
        wd.run(&["--config", "noshow.toml", "train", "--lake", "lake", "--model", model, "--as-of", AS_OF]);
        read_json(&wd.path(&format!("{model}/model.json")))
    };
    let a = sampled_run("sampled-a");
    let used = a["training_window"]["interviews"].as_u64().unwrap() + a["test_window"]["interviews"].as_u64().unwrap();
    // About 600 of the closed interviews (a hash sample; binomial sd ≈ 20 here).
    assert!(used < closed && (500..=700).contains(&used), "used {used} of {closed}");
    assert!(a["snapshot_rule"].as_str().unwrap().contains("sample"), "{}", a["snapshot_rule"]);
    // The same sample, so the same coefficients, on a second run.
    let b = sampled_run("sampled-b");
    assert_eq!(a["coefficients"], b["coefficients"]);
}

#[test]
fn bad_settings_are_usage_errors() {
    let wd = Workdir::new();
    write_synth_lake(&wd, 300, 5);
    let out = wd.output(&["train", "--lake", "lake", "--model", "model", "--as-of", AS_OF, "--label", "no_shows"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no_show_or_candidate_cancel"));
    let out = wd.output(&["train", "--lake", "nope", "--model", "model", "--as-of", AS_OF]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!wd.path("model/model.json").exists());
}

#[test]
fn model_auc_comes_close_to_the_generators_true_probabilities() {
    // generate → ingest → train with the real binary; the generator's truth folder holds
    // each interview's true probability, the best any model can do on this data.
    let wd = Workdir::new();
    wd.run(&["generate", "--out", "raw", "--truth", "truth", "--interviews", "4000", "--seed", "11", "--as-of", AS_OF]);
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "--as-of", AS_OF]);
    wd.run(&["train", "--lake", "lake", "--model", "model", "--as-of", AS_OF]);

    let mut truth = std::collections::HashMap::new();
    let mut reader = csv::Reader::from_path(wd.path("truth/truth_interviews.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let (id_col, p_col) = (
        headers.iter().position(|h| h == "interview_id").unwrap(),
        headers.iter().position(|h| h == "p_not_attend").unwrap(),
    );
    for record in reader.records() {
        let r = record.unwrap();
        truth.insert(r[id_col].to_string(), r[p_col].parse::<f64>().unwrap());
    }
    let preds = crate::workdir::read_parquet(&wd.path("model/evaluation/test_predictions.parquet"));
    let ids = preds.column("interview_id").unwrap().str().unwrap().clone();
    let model_p: Vec<f64> = preds.column("p_not_attend").unwrap().f64().unwrap().iter().map(|v| v.unwrap()).collect();
    let labels: Vec<bool> = preds.column("label").unwrap().bool().unwrap().iter().map(|v| v.unwrap()).collect();
    let true_p: Vec<f64> = ids.iter().map(|id| truth[id.unwrap()]).collect();
    assert!(labels.len() > 300, "{} test rows", labels.len());
    let model_auc = noshow::model::metrics::auc(&model_p, &labels).unwrap();
    let best = noshow::model::metrics::auc(&true_p, &labels).unwrap();
    // The model file reports the same AUC as this independent recomputation.
    let model = read_json(&wd.path("model/model.json"));
    assert!((model["metrics"]["auc"].as_f64().unwrap() - model_auc).abs() < 1e-9);
    // Gap: part is out of reach at a 24 h horizon (the true probability also uses
    // reminders delivered and link clicks in the last day, after the cutoff), part
    // is estimation noise on a few hundred test rows. At 20 000 interviews (release)
    // the gap is 0.06 (0.645 vs 0.708); here allow 0.12.
    assert!(model_auc > best - 0.12, "model AUC {model_auc:.3} vs true-probability AUC {best:.3}");
    assert!(model_auc > 0.55, "model AUC {model_auc:.3}");
}

#[test]
fn a_weak_model_is_kept_as_a_candidate_and_the_current_one_stays() {
    let wd = Workdir::new();
    // 300 interviews over 28 weeks: about 30 in the four test weeks, too few to judge.
    wd.run(&["generate", "--out", "raw", "--interviews", "300", "--seed", "5", "--as-of", AS_OF, "-q"]);
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    let first = wd.output(&["train", "--lake", "lake", "--model", "model", "--as-of", AS_OF]);
    let said = format!("{}{}", String::from_utf8_lossy(&first.stdout), String::from_utf8_lossy(&first.stderr));
    // No current model and too little data: refused too (no model beats a weak one).
    assert_eq!(first.status.code(), Some(3), "{said}");
    assert!(said.contains("kept as a candidate") && said.contains("min_test_interviews"), "{said}");
    assert!(wd.path("model/candidates/0001/model.json").is_file());
    assert!(!wd.path("model/model.json").exists() && std::fs::read_link(wd.path("model/current")).is_err());
    let candidate = read_json(&wd.path("model/candidates/0001/model.json"));
    assert_eq!(candidate["promotion"]["decision"], "candidate");
    // Score has no model and says why.
    let score = wd.output(&["score", "--lake", "lake", "--model", "model", "--out", "scores", "--as-of", AS_OF]);
    assert_eq!(score.status.code(), Some(1));
    let err = String::from_utf8_lossy(&score.stderr);
    assert!(err.contains("no current model") && err.contains("candidate 0001") && err.contains("--force"), "{err}");
    // The same run again keeps nothing new.
    assert_eq!(wd.output(&["train", "--lake", "lake", "--model", "model", "--as-of", AS_OF]).status.code(), Some(3));
    assert!(!wd.path("model/candidates/0002").exists());

    // --force promotes anyway, and says so in model.json.
    wd.run(&["train", "--lake", "lake", "--model", "model", "--as-of", AS_OF, "--force", "-q"]);
    let current = read_json(&wd.path("model/model.json"));
    assert_eq!(current["version"], "0002");
    assert_eq!(current["promotion"]["decision"], "forced");

    // A second train a week later with a current model: refused with exit 3, the
    // current model stays, the candidate gets the next number.
    let later = "2026-03-09T00:00:00Z";
    let second = wd.output(&["train", "--lake", "lake", "--model", "model", "--as-of", later]);
    assert_eq!(second.status.code(), Some(3), "{}", String::from_utf8_lossy(&second.stderr));
    assert!(String::from_utf8_lossy(&second.stderr).contains("current model 0002 stays"));
    assert_eq!(read_json(&wd.path("model/model.json"))["version"], "0002");
    assert!(wd.path("model/candidates/0003/model.json").is_file());

    // `noshow run` treats the refusal as a warning and scores with the current model.
    let run = wd.output(&["run", "--raw", "raw", "--lake", "lake", "--out", "out", "--model", "model", "--as-of", later]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let feed = read_json(&wd.path("out/scores/summary.json"));
    assert_eq!(feed["model_version"], "0002");
    let log_dir = std::fs::read_dir(wd.path("lake/runs")).unwrap().map(|e| e.unwrap().path()).find(|p| p.file_name().unwrap().to_string_lossy().starts_with("run-")).unwrap();
    let log = read_json(&log_dir);
    let train_stage = log["stages"].as_array().unwrap().iter().find(|s| s["stage"] == "train").unwrap().clone();
    assert_eq!(train_stage["ok"], true);
    assert!(train_stage["warning"].as_str().unwrap().contains("candidate"), "{train_stage}");
    assert_eq!(read_json(&wd.path("model/model.json"))["version"], "0002");
}

#[test]
fn a_model_worse_than_the_current_one_is_refused_unless_forced() {
    let wd = Workdir::new();
    write_synth_lake(&wd, 2000, 3);
    train(&wd, &[]);
    // A penalty this strong flattens every coefficient: the log loss rises to about
    // the base rate's entropy, well past the margin.
    let out = wd.output(&["train", "--lake", "lake", "--model", "model", "--as-of", AS_OF, "--l2", "100000"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("max_log_loss_rise") && err.contains("0001"), "{err}");
    assert_eq!(read_json(&wd.path("model/model.json"))["version"], "0001");
    let candidate = read_json(&wd.path("model/candidates/0002/model.json"));
    assert_eq!(candidate["promotion"]["compared_with"]["version"], "0001");
    // Margins are settings: with a wide one it passes.
    std::fs::write(wd.path("wide.toml"), "[train]\nmax_log_loss_rise = 1.0\nmax_auc_drop = 1.0\n").unwrap();
    wd.run(&["--config", "wide.toml", "train", "--lake", "lake", "--model", "model", "--as-of", AS_OF, "--l2", "100000", "-q"]);
    assert_eq!(read_json(&wd.path("model/model.json"))["version"], "0003");
}

#[test]
fn auc_interval_matches_a_python_reference() {
    // tests/fixtures/auc_small.csv and these values come from tests/py/reference_delong.py:
    // scikit-learn 1.9.1 roc_auc_score, and DeLong's variance from every
    // positive-negative pair compared directly (not from ranks, as noshow does).
    const AUC: f64 = 0.662309048179;
    const VARIANCE: f64 = 2.552838058508e-03;
    const LOW: f64 = 0.563280656908;
    const HIGH: f64 = 0.761337439449;
    let text = include_str!("fixtures/auc_small.csv");
    let (mut scores, mut labels) = (Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let (s, y) = line.split_once(',').unwrap();
        scores.push(s.parse::<f64>().unwrap());
        labels.push(y == "1");
    }
    assert_eq!((labels.len(), labels.iter().filter(|&&y| y).count()), (120, 46));
    let (auc, var) = noshow::model::metrics::auc_delong(&scores, &labels).unwrap();
    assert!((auc - AUC).abs() < 1e-11, "AUC {auc}");
    assert!((var - VARIANCE).abs() < 1e-14, "variance {var}");
    let (lo, hi) = noshow::model::metrics::auc_interval(&scores, &labels).unwrap();
    assert!((lo - LOW).abs() < 1e-11 && (hi - HIGH).abs() < 1e-11, "{lo} {hi}");
}

#[test]
fn group_metrics_carry_intervals_and_small_groups_are_withheld() {
    let wd = Workdir::new();
    write_synth_lake(&wd, 2000, 3);
    train(&wd, &[]);
    let fair = crate::workdir::read_parquet(&wd.path("model/evaluation/fairness.parquet"));
    let col = |name: &str| fair.column(name).unwrap().cast(&polars::prelude::DataType::Float64).unwrap().f64().unwrap().clone();
    let (auc, lo, hi) = (col("auc"), col("auc_low"), col("auc_high"));
    // Groups of about 150–200 test rows: every figure shown, each AUC inside its interval.
    assert_eq!(fair.column("withheld_reason").unwrap().null_count(), fair.height());
    for i in 0..fair.height() {
        let (a, l, h) = (auc.get(i).unwrap(), lo.get(i).unwrap(), hi.get(i).unwrap());
        assert!(l < a && a < h && h - l < 0.4, "group {i}: {l} {a} {h}");
    }

    // A suppression threshold above every group, then a minimum of misses above every group.
    std::fs::write(wd.path("strict.toml"), "[report]\nsuppression_threshold = 1000\n").unwrap();
    wd.run(&["--config", "strict.toml", "train", "--lake", "lake", "--model", "strict", "--as-of", AS_OF, "-q"]);
    let fair = crate::workdir::read_parquet(&wd.path("strict/evaluation/fairness.parquet"));
    for name in ["rows", "positives", "auc", "auc_low", "log_loss"] {
        assert_eq!(fair.column(name).unwrap().null_count(), fair.height(), "{name}");
    }
    let reasons = fair.column("withheld_reason").unwrap().str().unwrap().clone();
    assert!(reasons.iter().all(|r| r.unwrap().contains("fewer than 1000 test interviews")));
    std::fs::write(wd.path("misses.toml"), "[train]\nmin_group_misses = 1000\n").unwrap();
    wd.run(&["--config", "misses.toml", "train", "--lake", "lake", "--model", "misses", "--as-of", AS_OF, "-q"]);
    let fair = crate::workdir::read_parquet(&wd.path("misses/evaluation/fairness.parquet"));
    assert_eq!(fair.column("rows").unwrap().null_count(), 0, "counts stay");
    assert_eq!(fair.column("auc").unwrap().null_count(), fair.height());
    assert!(fair.column("withheld_reason").unwrap().str().unwrap().iter().all(|r| r.unwrap().contains("train.min_group_misses")));

    // The report's model section follows the report's threshold, not a fixed 10.
    let report = |threshold: &str, out: &str| {
        wd.run(&["report", "--lake", "lake", "--out", out, "--model", "model", "--as-of", AS_OF, "-q", "--suppression-threshold", threshold]);
        wd.read(&format!("{out}/report.html"))
    };
    let html = report("1000", "rep-strict");
    assert!(html.contains("fewer than 1000 interviews: not shown"), "no withheld group in the report");
    let html = report("10", "rep");
    assert!(!html.contains("interviews: not shown") && html.contains("AUC (95 % DeLong interval)"));
    let html = {
        wd.run(&["report", "--lake", "lake", "--out", "rep-misses", "--model", "misses", "--as-of", AS_OF, "-q"]);
        wd.read("rep-misses/report.html")
    };
    assert!(html.contains("figures withheld: fewer than 1000 misses"), "misses rule not shown");
}
