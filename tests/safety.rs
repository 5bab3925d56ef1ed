//! Regression tests for the faults an outside attack found (data lost for good, wrong
//! numbers with exit 0) and the operator's rough edges. Each runs the real binary and
//! failed before its fix.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::workdir::{parquet_strings, Workdir};

const AS_OF: &str = "2026-11-16T00:00:00Z";

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Every file below `dir` with its bytes (symlinks as their target text).
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                out.push((rel, fs::read_link(&path).unwrap().into_os_string().into_encoded_bytes()));
            } else if meta.is_dir() {
                walk(root, &path, out);
            } else if !rel.ends_with(".lock") {
                out.push((rel, fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// Generated raw logs moved to `staging/`, so tests can hand them to `raw/` in parts.
fn staged_raw(wd: &Workdir, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["generate", "--out", "staging", "--interviews", "300", "--seed", "5", "--as-of", AS_OF, "-q"];
    args.extend_from_slice(extra);
    wd.run(&args);
    fs::create_dir_all(wd.path("raw")).unwrap();
    let mut names: Vec<String> =
        fs::read_dir(wd.path("staging")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

fn hand_over(wd: &Workdir, names: &[String]) {
    for n in names {
        fs::copy(wd.path(&format!("staging/{n}")), wd.path(&format!("raw/{n}"))).unwrap();
    }
}

fn lake_rows(wd: &Workdir, lake: &str, table: &str) -> u64 {
    json(&wd.path(&format!("{lake}/current/manifest.json")))["tables"][table]["rows"].as_u64().unwrap()
}

#[test]
fn out_refuses_folders_noshow_did_not_write_and_the_stores() {
    let wd = Workdir::new();
    wd.accept_small_models();
    wd.run(&["generate", "--out", "raw", "--interviews", "300", "--seed", "5", "--as-of", AS_OF, "-q"]);
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    wd.run(&["--as-of", AS_OF, "train", "--lake", "lake", "--model", "model", "-q"]);
    fs::create_dir_all(wd.path("home/.ssh")).unwrap();
    fs::write(wd.path("home/.ssh/id_ed25519"), "secret key").unwrap();
    let lake_before = tree(&wd.path("lake"));
    let model_before = tree(&wd.path("model"));

    for args in [
        vec!["report", "--lake", "lake", "--out", "home"],
        vec!["score", "--lake", "lake", "--model", "model", "--out", "home"],
    ] {
        let mut all = vec!["--as-of", AS_OF];
        all.extend(args);
        let out = wd.output(&all);
        assert_eq!(out.status.code(), Some(1), "{all:?}: {}", text(&out));
        assert!(text(&out).contains("not written by noshow"), "{}", text(&out));
        assert_eq!(wd.read("home/.ssh/id_ed25519"), "secret key");
    }
    let root = wd.root().display().to_string();
    for (cmd, out_dir) in [("report", "lake"), ("report", "lake/interviews"), ("score", "model"), ("report", root.as_str())] {
        let args: Vec<&str> = match cmd {
            "report" => vec!["--as-of", AS_OF, "report", "--lake", "lake", "--model", "model", "--out", out_dir],
            _ => vec!["--as-of", AS_OF, "score", "--lake", "lake", "--model", "model", "--out", out_dir],
        };
        let out = wd.output(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("would destroy data"), "{args:?}: {}", text(&out));
    }
    assert_eq!(tree(&wd.path("lake")), lake_before, "a refused report changed the lake");
    assert_eq!(tree(&wd.path("model")), model_before, "a refused score changed the model folder");
    // The lake and the model folder refuse foreign folders too.
    let out = wd.output(&["ingest", "--raw", "raw", "--lake", "home"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("not made by noshow"), "{}", text(&out));
    let out = wd.output(&["--as-of", AS_OF, "train", "--lake", "lake", "--model", "lake"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(fs::read_dir(wd.path("home")).unwrap().count(), 1, "something was written into the foreign folder");
    // Its own output folders are replaced as before.
    wd.run(&["--as-of", AS_OF, "report", "--lake", "lake", "--out", "report", "-q"]);
    wd.run(&["--as-of", AS_OF, "report", "--lake", "lake", "--out", "report", "-q"]);
    assert!(wd.path("report/rates_by_role.csv").is_file());
}

/// Starts `ingest --raw raw --lake lake` and waits until it has hashed the raw files
/// and paused (`NOSHOW_TEST_PAUSE_AFTER_HASH`); removing the returned flag resumes it.
fn ingest_paused_after_hashing(wd: &Workdir) -> (std::process::Child, std::path::PathBuf) {
    let flag = wd.path("hashed.flag");
    let child = wd
        .command(&["ingest", "--raw", "raw", "--lake", "lake"])
        .env("NOSHOW_TEST_PAUSE_AFTER_HASH", &flag)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !flag.exists() {
        assert!(Instant::now() < deadline, "ingest never reached its hashing pause");
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, flag)
}

#[test]
fn a_file_rewritten_while_ingest_reads_it_is_not_remembered_whole() {
    let wd = Workdir::new();
    wd.run(&["generate", "--out", "raw", "--interviews", "300", "--seed", "5", "--as-of", AS_OF, "-q"]);
    let target = wd.path("raw/events-002.jsonl");
    let whole = fs::read_to_string(&target).unwrap();
    let (child, flag) = ingest_paused_after_hashing(&wd);
    // The exporter truncates the file and has written half of it again.
    let lines: Vec<&str> = whole.lines().collect();
    fs::write(&target, lines[..lines.len() / 2].join("\n") + "\n").unwrap();
    fs::remove_file(&flag).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("events-002.jsonl changed while it was being read"), "{}", text(&out));
    assert!(fs::symlink_metadata(wd.path("lake/current")).is_err(), "a version was committed from a half-read file");

    // Once the file is whole again it is read whole: the same lake as a clean ingest.
    fs::write(&target, &whole).unwrap();
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    wd.run(&["ingest", "--raw", "raw", "--lake", "clean", "-q"]);
    assert_eq!(lake_rows(&wd, "lake", "events"), lake_rows(&wd, "clean", "events"));
    let events_002 = json(&wd.path("lake/current/manifest.json"))["source_files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "events-002.jsonl")
        .cloned()
        .unwrap();
    assert_eq!(events_002["rows_read"].as_u64().unwrap(), whole.lines().filter(|l| !l.trim().is_empty()).count() as u64);
}

/// The reader does not hash a file again when its stamp can vouch for it: a rewrite
/// of the same size between the hash and the read must still be caught (by `ctime`).
#[test]
fn a_same_size_rewrite_between_hashing_and_reading_is_caught() {
    let wd = Workdir::new();
    wd.run(&["generate", "--out", "raw", "--interviews", "300", "--seed", "5", "--as-of", AS_OF, "-q"]);
    let target = wd.path("raw/events-001.jsonl");
    let whole = fs::read_to_string(&target).unwrap();
    let (child, flag) = ingest_paused_after_hashing(&wd);
    // Same length, other content: every `joined` becomes `JOINED` (types are read
    // case-blind, so only the bytes differ).
    let changed = whole.replace("\"joined\"", "\"JOINED\"");
    assert_ne!(changed, whole);
    assert_eq!(changed.len(), whole.len());
    fs::write(&target, &changed).unwrap();
    fs::remove_file(&flag).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("events-001.jsonl changed while it was being read"), "{}", text(&out));
    assert!(fs::symlink_metadata(wd.path("lake/current")).is_err(), "a version was committed with a stale hash");
    // Read again, it is recorded with the hash of what is there now.
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    let sha = json(&wd.path("lake/current/manifest.json"))["source_files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "events-001.jsonl")
        .map(|f| f["sha256"].as_str().unwrap().to_string())
        .unwrap();
    let out = std::process::Command::new("sha256sum").arg(&target).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(&sha), "manifest {sha}");
}

#[test]
fn a_missing_or_broken_current_link_never_deletes_versions() {
    let wd = Workdir::new();
    let names = staged_raw(&wd, &[]);
    let (first, rest) = names.split_at(6);
    let (second, third) = rest.split_at(rest.len() / 2);
    hand_over(&wd, first);
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    hand_over(&wd, second);
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    let v2 = tree(&wd.path("lake/versions/000002"));

    // A copy that skipped symlinks: no `current`, no table links.
    fs::remove_file(wd.path("lake/current")).unwrap();
    for t in ["interviews", "events", "rejected"] {
        fs::remove_file(wd.path(&format!("lake/{t}"))).unwrap();
    }
    // Readers use the newest committed version and say so.
    let out = wd.run(&["--as-of", AS_OF, "report", "--lake", "lake", "--out", "report"]);
    assert!(text(&out).contains("newest committed"), "{}", text(&out));
    assert_eq!(json(&wd.path("report/summary.json"))["lineage"]["lake_version"], 2);

    hand_over(&wd, third);
    let out = wd.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    assert!(text(&out).contains("restored it to versions/000002"), "{}", text(&out));
    assert_eq!(fs::read_link(wd.path("lake/current")).unwrap(), Path::new("versions/000003"));
    assert_eq!(tree(&wd.path("lake/versions/000002")), v2, "version 2 was changed");
    assert!(wd.path("lake/versions/000001").is_dir(), "version 1 was deleted");
    // The new version holds everything, as a clean ingest of all files does.
    wd.run(&["ingest", "--raw", "raw", "--lake", "clean", "-q"]);
    for table in ["interviews", "events", "rejected"] {
        assert_eq!(lake_rows(&wd, "lake", table), lake_rows(&wd, "clean", table), "{table}");
    }

    // `current -> versions/000000` (a hand edit): the same recovery, nothing removed.
    fs::remove_file(wd.path("lake/current")).unwrap();
    std::os::unix::fs::symlink("versions/000000", wd.path("lake/current")).unwrap();
    let csv = wd.read("staging/interviews-001.csv").replace("1000000", "9000000");
    fs::write(wd.path("raw/interviews-zzz.csv"), csv).unwrap();
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    assert_eq!(fs::read_link(wd.path("lake/current")).unwrap(), Path::new("versions/000004"));
    assert!(lake_rows(&wd, "lake", "interviews") > lake_rows(&wd, "clean", "interviews"));
}

#[test]
fn model_version_numbers_are_never_reused() {
    let wd = Workdir::new();
    wd.accept_small_models();
    wd.run(&["generate", "--out", "raw", "--interviews", "300", "--seed", "5", "--as-of", AS_OF, "-q"]);
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    wd.run(&["--as-of", AS_OF, "train", "--lake", "lake", "--model", "model", "-q"]);
    fs::write(wd.path("raw/interviews-more.csv"), wd.read("raw/interviews-007.csv").replace("1000000", "7000000")).unwrap();
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    wd.run(&["--as-of", AS_OF, "train", "--lake", "lake", "--model", "model", "-q"]);
    assert_eq!(fs::read_link(wd.path("model/current")).unwrap(), Path::new("versions/0002"));
    // Every version and the link gone (a clean-up by hand): the next model is 0003, so a
    // feed's model_version 0001 or 0002 still means one model.
    fs::remove_dir_all(wd.path("model/versions")).unwrap();
    fs::remove_file(wd.path("model/current")).unwrap();
    wd.run(&["--as-of", AS_OF, "train", "--lake", "lake", "--model", "model", "-q"]);
    assert_eq!(fs::read_link(wd.path("model/current")).unwrap(), Path::new("versions/0003"));
    assert_eq!(json(&wd.path("model/model.json"))["version"], "0003");
}

#[test]
fn readers_read_exactly_the_files_the_manifest_lists() {
    let wd = Workdir::new();
    wd.accept_small_models();
    wd.run(&["generate", "--out", "raw", "--interviews", "300", "--seed", "5", "--as-of", AS_OF, "-q"]);
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    wd.run(&["--as-of", AS_OF, "train", "--lake", "lake", "--model", "model", "-q"]);
    let manifest = json(&wd.path("lake/current/manifest.json"));
    let month = manifest["tables"]["events"]["files"][1]["path"].as_str().unwrap().to_string();
    let path = wd.path(&format!("lake/current/{month}"));
    let saved = fs::read(&path).unwrap();

    // One month's file deleted: every reader fails naming it, and so does the next ingest.
    fs::remove_file(&path).unwrap();
    let commands: [&[&str]; 4] = [
        &["--as-of", AS_OF, "report", "--lake", "lake", "--out", "report"],
        &["--as-of", AS_OF, "train", "--lake", "lake", "--model", "model2"],
        &["--as-of", AS_OF, "score", "--lake", "lake", "--model", "model", "--out", "feed"],
        &["ingest", "--raw", "raw", "--lake", "lake"],
    ];
    fs::write(wd.path("raw/interviews-new.csv"), wd.read("raw/interviews-001.csv").replace("1000000", "8000000")).unwrap();
    for args in commands {
        let out = wd.output(args);
        assert_eq!(out.status.code(), Some(1), "{args:?} exit 0 on a lake missing a file: {}", text(&out));
        assert!(text(&out).contains(&month), "{args:?}: {}", text(&out));
    }
    assert_eq!(fs::read_link(wd.path("lake/current")).unwrap(), Path::new("versions/000001"), "ingest committed the loss");
    fs::remove_file(wd.path("raw/interviews-new.csv")).unwrap();

    // A stray copy beside the listed files would be counted twice: refused, named.
    fs::write(&path, &saved).unwrap();
    let stray = format!("{}.bak.parquet", path.display());
    fs::write(&stray, &saved).unwrap();
    let out = wd.output(commands[0]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(".bak.parquet") && text(&out).contains("not in the manifest"), "{}", text(&out));
    fs::remove_file(&stray).unwrap();
    wd.run(commands[0]);
}

#[test]
fn a_busy_output_folder_is_refused_and_its_staging_left_alone() {
    let wd = Workdir::new();
    wd.run(&["generate", "--out", "raw", "--interviews", "300", "--seed", "5", "--as-of", AS_OF, "-q"]);
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    // Another run is writing `out/report`: it holds the lock and has a staging folder.
    fs::create_dir_all(wd.path("out/.report.tmp-4242424")).unwrap();
    fs::write(wd.path("out/.report.tmp-4242424/rates_by_role.csv"), "partial").unwrap();
    let lock = fs::File::create(wd.path("out/.report.lock")).unwrap();
    fs2::FileExt::try_lock_exclusive(&lock).unwrap();
    let out = wd.output(&["--as-of", AS_OF, "report", "--lake", "lake", "--out", "out/report"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("another noshow run is writing"), "{}", text(&out));
    assert_eq!(wd.read("out/.report.tmp-4242424/rates_by_role.csv"), "partial", "the other run's staging was removed");
    assert!(!wd.path("out/report").exists());
    drop(lock);
    // Once it is gone, its leftovers are a killed run's: cleared, and the report published.
    wd.run(&["--as-of", AS_OF, "report", "--lake", "lake", "--out", "out/report", "-q"]);
    assert!(!wd.path("out/.report.tmp-4242424").exists());
    assert!(wd.path("out/report/report.html").is_file());
}

#[test]
fn the_lake_and_the_model_keep_their_time_zone() {
    let wd = Workdir::new();
    wd.accept_small_models();
    let names = staged_raw(&wd, &["--tz", "Asia/Shanghai"]);
    let (first, rest) = names.split_at(7);
    hand_over(&wd, first);
    wd.run(&["--tz", "Asia/Shanghai", "ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    hand_over(&wd, rest);
    // Another zone is refused; none given uses the lake's, and says so.
    let out = wd.output(&["--tz", "UTC", "ingest", "--raw", "raw", "--lake", "lake"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("Asia/Shanghai"), "{}", text(&out));
    let out = wd.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    assert!(text(&out).contains("Asia/Shanghai"), "{}", text(&out));
    // The same lake as one ingest of everything in the zone.
    wd.run(&["--tz", "Asia/Shanghai", "ingest", "--raw", "raw", "--lake", "clean", "-q"]);
    wd.run(&["--as-of", AS_OF, "report", "--lake", "lake", "--out", "r1", "-q"]);
    wd.run(&["--as-of", AS_OF, "--tz", "Asia/Shanghai", "report", "--lake", "clean", "--out", "r2", "-q"]);
    for table in ["rates_by_week.csv", "rates_by_slot.csv", "rates_by_role.csv"] {
        assert_eq!(wd.read(&format!("r1/{table}")), wd.read(&format!("r2/{table}")), "{table}");
    }
    let out = wd.output(&["--as-of", AS_OF, "--tz", "UTC", "report", "--lake", "lake", "--out", "r3"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    wd.run(&["--as-of", AS_OF, "train", "--lake", "lake", "--model", "model", "-q"]);
    assert_eq!(json(&wd.path("model/model.json"))["tz"], "Asia/Shanghai");
    let out = wd.output(&["--as-of", AS_OF, "--tz", "America/New_York", "score", "--lake", "lake", "--model", "model", "--out", "feed"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("Asia/Shanghai"), "{}", text(&out));
    assert!(!wd.path("feed").exists());
    // A model trained in one zone does not score a lake ingested in another.
    wd.run(&["--tz", "UTC", "ingest", "--raw", "raw", "--lake", "utc-lake", "-q"]);
    let out = wd.output(&["--as-of", AS_OF, "score", "--lake", "utc-lake", "--model", "model", "--out", "feed"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    wd.run(&["--as-of", AS_OF, "score", "--lake", "lake", "--model", "model", "--out", "feed", "-q"]);
    let csv = wd.read("feed/scores.csv");
    assert!(csv.lines().next().unwrap().contains("scheduled_at_local"), "{csv}");
    assert!(csv.contains("+08:00"), "the local slot is in the lake's zone: {csv}");
}

#[test]
fn odd_entries_of_the_raw_folder_are_skipped_and_said() {
    let wd = Workdir::new();
    wd.run(&["generate", "--out", "raw", "--interviews", "300", "--seed", "5", "--as-of", AS_OF, "-q"]);
    let raw = wd.path("raw");
    std::os::unix::fs::symlink("/proc/self/environ", raw.join("events-env.jsonl")).unwrap();
    let outside = wd.path("outside.jsonl");
    fs::write(&outside, "{}\n").unwrap();
    std::os::unix::fs::symlink(&outside, raw.join("events-outside.jsonl")).unwrap();
    fs::create_dir_all(raw.join("sub")).unwrap();
    std::os::unix::fs::symlink("../events-001.jsonl", raw.join("sub/events-linked.jsonl")).unwrap();
    std::os::unix::fs::symlink("loop-b", raw.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", raw.join("loop-b")).unwrap();
    let fifo = raw.join("events-fifo.jsonl");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    fs::write(raw.join("interview_export.csv"), "a,b\n").unwrap();
    // Two file names that are not UTF-8 (and the same text once made lossy).
    use std::os::unix::ffi::OsStrExt;
    let base = wd.read("raw/interviews-001.csv");
    for (byte, prefix) in [(0xFFu8, "5000000"), (0xFEu8, "6000000")] {
        let mut name = b"interviews-".to_vec();
        name.push(byte);
        name.extend_from_slice(b".csv");
        let path = raw.join(std::ffi::OsStr::from_bytes(&name));
        fs::write(path, base.replace("1000000", prefix)).unwrap();
    }

    let out = wd.run(&["ingest", "--raw", "raw", "--lake", "lake"]);
    let said = text(&out);
    for skipped in ["events-env.jsonl", "events-outside.jsonl", "loop-a", "events-fifo.jsonl", "interview_export.csv"] {
        assert!(said.contains(&format!("{skipped}: skipped")), "{skipped} not reported: {said}");
    }
    let manifest = json(&wd.path("lake/current/manifest.json"));
    let paths: Vec<String> =
        manifest["source_files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect();
    assert!(paths.contains(&"interviews-\\xFF.csv".to_string()) && paths.contains(&"interviews-\\xFE.csv".to_string()), "{paths:?}");
    // A link inside the raw folder is followed (here: to a file already read).
    assert!(said.contains("sub/events-linked.jsonl has the same content as events-001.jsonl"), "{said}");
    // Nothing of the environment (the pseudonymisation key included) was stored.
    let key = "test-key-0123456789abcdef";
    let rejected = wd.path("lake/current/rejected");
    let files: Vec<PathBuf> = tree(&rejected).into_iter().map(|(rel, _)| rejected.join(rel)).collect();
    assert!(!files.is_empty());
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "parquet")) {
        assert!(parquet_strings(path).iter().all(|v| !v.contains(key) && !v.contains("PATH=")), "{}", path.display());
    }
}

#[test]
fn a_closed_stderr_is_not_a_crash() {
    let wd = Workdir::new();
    wd.accept_small_models();
    wd.run(&["generate", "--out", "raw", "--interviews", "300", "--seed", "5", "--as-of", AS_OF, "-q"]);
    // The reader of stderr went away (`noshow run 2>&1 | head -1` in a cron job):
    // every log line now fails with EPIPE.
    let mut child = wd
        .command(&["--as-of", AS_OF, "run", "--raw", "raw", "--lake", "lake", "--out", "out", "--model", "model"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(wd.path("out/scores/scores.parquet").is_file());
    assert!(fs::read_dir(wd.path("lake/runs")).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().starts_with("run-")));
    // And with fd 2 closed outright, nothing noshow writes lands in a file it opens.
    use std::os::unix::process::CommandExt;
    let mut cmd = wd.command(&["--as-of", AS_OF, "report", "--lake", "lake", "--out", "rep"]);
    // SAFETY: close(2) is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::close(2);
            Ok(())
        });
    }
    assert_eq!(cmd.stdout(Stdio::null()).status().unwrap().code(), Some(0));
    for (rel, bytes) in tree(&wd.path("rep")) {
        assert!(!String::from_utf8_lossy(&bytes).contains("noshow: report:"), "a log line landed in {}", rel.display());
    }
}

#[test]
fn operator_mistakes_get_clear_answers() {
    let wd = Workdir::new();
    wd.accept_small_models();
    wd.run(&["generate", "--out", "raw", "--interviews", "300", "--seed", "5", "--as-of", AS_OF, "-q"]);
    // noshow.toml in the working folder is read without --config.
    fs::write(
        wd.path("noshow.toml"),
        format!("raw = \"raw\"\nlake = \"lk\"\nout = \"o\"\nmodel = \"m\"\n[output]\ngroup_readable = true\n{}", crate::workdir::SMALL_MODELS),
    )
    .unwrap();
    wd.run(&["ingest", "-q"]);
    assert!(wd.path("lk/current/manifest.json").is_file());
    // -q leaves stdout empty.
    let out = wd.run(&["--as-of", AS_OF, "-q", "train"]);
    assert!(out.stdout.is_empty(), "{}", text(&out));
    // A score from the config goes to OUT/scores, readable by the owner's group only.
    wd.run(&["--as-of", AS_OF, "-q", "score"]);
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &str| fs::metadata(wd.path(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("o/scores"), 0o750);
    assert_eq!(mode("o/scores/scores.csv"), 0o640);
    // A missing config file, a missing model, an absurd grace period: usage errors.
    let bad: [&[&str]; 3] = [
        &["--config", "nope.toml", "ingest"],
        &["--as-of", AS_OF, "report", "--lake", "lk", "--out", "rep", "--model", "/does/not/exist"],
        &["--as-of", AS_OF, "report", "--lake", "lk", "--out", "rep", "--grace-minutes", "200000000000"],
    ];
    for args in bad {
        let out = wd.output(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
    }
    assert!(!wd.path("rep").exists());
    // The default stays owner-only; `run` takes the report's and feed's own flags.
    fs::remove_file(wd.path("noshow.toml")).unwrap();
    wd.run(&[
        "--as-of", AS_OF, "-q", "run", "--raw", "raw", "--lake", "lk", "--out", "o2", "--model", "m", "--lang", "zh", "--by",
        "role,region", "--window-days", "3",
    ]);
    assert_eq!(mode("o2/scores"), 0o700);
    assert!(wd.path("o2/report/rates_by_role_region.csv").is_file());
    assert!(wd.read("o2/report/report.html").contains("爽约率"));
    assert_eq!(json(&wd.path("o2/scores/summary.json"))["window_days"], 3.0);
}

#[test]
fn grace_minutes_has_one_home_that_every_command_reads() {
    let wd = Workdir::new();
    wd.accept_small_models();
    wd.run(&["generate", "--out", "raw", "--interviews", "1500", "--seed", "8", "--as-of", AS_OF, "-q"]);
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "-q"]);
    let grace_of = |config: &str, out: &str, flags: &[&str]| -> (Output, Option<serde_json::Value>) {
        let path = wd.path(&format!("{out}.toml"));
        fs::write(&path, format!("{config}{}", crate::workdir::SMALL_MODELS)).unwrap();
        let mut args = vec!["--config", path.to_str().unwrap(), "--as-of", AS_OF];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["report", "--lake", "lake", "--out", out]);
        let output = wd.output(&args);
        let summary = fs::read_to_string(wd.path(&format!("{out}/summary.json"))).ok().map(|t| serde_json::from_str(&t).unwrap());
        (output, summary.map(|s: serde_json::Value| s["lineage"]["grace_minutes"].clone()))
    };
    // The top-level key, the flag (on any command: a global flag), the old [report] key
    // (read, and said), and the default.
    let top = "grace_minutes = 600\n";
    assert_eq!(grace_of(top, "a", &[]).1, Some(serde_json::json!(600)));
    assert_eq!(grace_of(top, "b", &["--grace-minutes", "90"]).1, Some(serde_json::json!(90)));
    let (out, grace) = grace_of("[report]\ngrace_minutes = 45\n", "c", &[]);
    assert_eq!(grace, Some(serde_json::json!(45)));
    assert!(text(&out).contains("[report] grace_minutes is now the top-level key grace_minutes"), "{}", text(&out));
    assert_eq!(grace_of("", "d", &[]).1, Some(serde_json::json!(15)));
    // Two different values are a usage error before anything is written.
    let (out, grace) = grace_of("grace_minutes = 30\n[report]\ngrace_minutes = 45\n", "e", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("keep the top-level key only"), "{}", text(&out));
    assert_eq!(grace, None);

    // train records its grace; score with another one says so.
    wd.run(&["--as-of", AS_OF, "train", "--lake", "lake", "--model", "model", "-q"]);
    let same = wd.run(&["--as-of", AS_OF, "score", "--lake", "lake", "--model", "model", "--out", "s1", "-q"]);
    assert!(!text(&same).contains("was trained with grace_minutes"), "{}", text(&same));
    let other = wd.run(&["--as-of", AS_OF, "--grace-minutes", "120", "score", "--lake", "lake", "--model", "model", "--out", "s2", "-q"]);
    assert!(text(&other).contains("was trained with grace_minutes = 15, this run uses 120"), "{}", text(&other));
}
