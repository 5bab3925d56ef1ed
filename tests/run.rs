//! Tests of `noshow run`: the whole weekly job, the daily mode, a failing stage, and
//! the privacy promise that no output but the scoring feed holds a raw candidate id.

use std::collections::HashSet;
use std::path::{Path, PathBuf};


use crate::workdir::{parquet_strings, read_parquet, Workdir};

const AS_OF: &str = "2026-11-16T00:00:00Z";

fn generate(wd: &Workdir, n: u32) {
    wd.run(&["generate", "--out", "raw", "--interviews", &n.to_string(), "--seed", "11", "--as-of", AS_OF, "--bad-rows", "2"]);
}

fn run_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", "--raw", "raw", "--lake", "lake", "--out", "out", "--model", "model", "--as-of", AS_OF];
    args.extend_from_slice(extra);
    args
}

fn run_logs(wd: &Workdir) -> Vec<serde_json::Value> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(wd.path("lake/runs"))
        .expect("lake/runs exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("run-"))
        .collect();
    paths.sort();
    paths.iter().map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()).collect()
}

#[test]
fn weekly_run_writes_every_output_and_a_run_log() {
    let wd = Workdir::new();
    wd.accept_small_models();
    generate(&wd, 1500);
    wd.run(&run_args(&[]));
    for file in ["lake/interviews", "lake/events", "lake/rejected", "out/report/rates_by_role.parquet", "out/report/report.html",
        "model/model.json", "out/scores/scores.parquet", "out/scores/scores.csv"] {
        assert!(wd.path(file).exists(), "{file} missing after run");
    }
    let logs = run_logs(&wd);
    assert_eq!(logs.len(), 1);
    let log = &logs[0];
    assert_eq!(log["status"], "ok");
    let stages: Vec<&str> = log["stages"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    assert_eq!(stages, ["ingest", "train", "report", "score"]);
    assert!(log["stages"].as_array().unwrap().iter().all(|s| s["ok"] == true && s["seconds"].as_f64().unwrap() >= 0.0));
    assert!(log["peak_rss_mib"].as_f64().unwrap() > 1.0);
    // Trained before the report, the model is explained in it: its AUC as model.json says.
    let html = wd.read("out/report/report.html");
    let model: serde_json::Value = serde_json::from_str(&wd.read("model/model.json")).unwrap();
    assert!(html.contains("<section id=\"model\">"), "report has no model section");
    let auc = format!("{:.3}", model["metrics"]["auc"].as_f64().unwrap());
    assert!(html.contains(&auc), "report does not show the model's AUC {auc}");
}

#[test]
fn daily_run_only_ingests_and_scores() {
    let wd = Workdir::new();
    wd.accept_small_models();
    generate(&wd, 1200);
    wd.run(&run_args(&[]));
    let report_before = std::fs::metadata(wd.path("out/report/report.html")).unwrap().modified().unwrap();
    wd.run(&run_args(&["--daily"]));
    let logs = run_logs(&wd);
    let stages: Vec<&str> = logs[1]["stages"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    assert_eq!(stages, ["ingest", "score"]);
    assert_eq!(std::fs::metadata(wd.path("out/report/report.html")).unwrap().modified().unwrap(), report_before);
}

#[test]
fn failing_stage_is_named_and_earlier_outputs_stay() {
    let wd = Workdir::new();
    wd.accept_small_models();
    generate(&wd, 1200);
    // A plain file where the scoring feed's folder should be makes the last stage fail.
    std::fs::create_dir_all(wd.path("out")).unwrap();
    std::fs::write(wd.path("out/scores"), "not a folder").unwrap();
    let out = wd.output(&run_args(&[]));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stage score failed"), "stderr: {stderr}");
    assert!(wd.path("out/report/rates_by_role.parquet").exists());
    assert!(wd.path("model/model.json").exists());
    let log = &run_logs(&wd)[0];
    assert_eq!(log["status"], "failed");
    assert_eq!(log["failed_stage"], "score");
    assert_eq!(std::fs::read_to_string(wd.path("out/scores")).unwrap(), "not a folder");
}

#[test]
fn repeated_run_gives_identical_tables() {
    let wd = Workdir::new();
    wd.accept_small_models();
    generate(&wd, 1200);
    wd.run(&run_args(&[]));
    let first = wd.read("out/report/rates_by_region.csv");
    let scores_first = wd.read("out/scores/scores.csv");
    wd.run(&run_args(&[]));
    assert_eq!(wd.read("out/report/rates_by_region.csv"), first);
    assert_eq!(wd.read("out/scores/scores.csv"), scores_first);
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}


#[test]
fn no_output_but_the_feed_holds_a_raw_candidate_id() {
    let wd = Workdir::new();
    wd.accept_small_models();
    generate(&wd, 1500);
    wd.run(&run_args(&[]));
    // Raw candidate ids, read independently from the lake's interviews table.
    let mut ids = HashSet::new();
    let mut lake_files = Vec::new();
    files_under(&wd.path("lake/current/interviews"), &mut lake_files);
    for f in lake_files {
        let df = read_parquet(&f);
        ids.extend(df.column("candidate_id").unwrap().str().unwrap().iter().flatten().map(str::to_string));
    }
    assert!(ids.len() > 100);
    let mut outputs = Vec::new();
    files_under(&wd.path("out/report"), &mut outputs);
    files_under(&wd.path("model"), &mut outputs);
    let mut checked = 0;
    for path in outputs {
        let texts: Vec<String> = match path.extension().and_then(|e| e.to_str()) {
            Some("parquet") => parquet_strings(&path),
            _ => {
                let bytes = std::fs::read(&path).unwrap();
                String::from_utf8_lossy(&bytes)
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                    .map(str::to_string)
                    .collect()
            }
        };
        for t in texts {
            assert!(!ids.contains(&t), "{} holds raw candidate id {t}", path.display());
        }
        checked += 1;
    }
    assert!(checked > 10, "only {checked} output files checked");
}
