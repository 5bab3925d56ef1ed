//! Independent readers: DuckDB, pyarrow and pandas (tests/py/) read the lake and the
//! rate tables noshow wrote and must agree with it. `.ci/run` installs them; where they
//! are missing locally the checks say so and pass, except under CI (`CI=true`), where a
//! missing tool is a failure.

use std::process::Command;

use crate::workdir::Workdir;

const AS_OF: &str = "2026-11-16T00:00:00+08:00";
const TZ: &str = "Asia/Shanghai";

/// Whether python3 can import the cross-check tools; panics under CI when it cannot.
fn python_tools_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import duckdb, pyarrow, pandas"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var("CI").is_err(),
            "CI must have duckdb, pyarrow and pandas (pip install -r tests/py/requirements.txt)"
        );
        eprintln!("duckdb/pyarrow/pandas not installed: cross-check skipped (.ci/run installs them)");
    }
    ok
}

fn script(name: &str) -> String {
    format!("{}/tests/py/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn duckdb_and_pyarrow_read_the_same_lake_and_rates() {
    if !python_tools_available() {
        return;
    }
    let wd = Workdir::new();
    wd.run(&["generate", "--out", "raw", "--interviews", "2000", "--seed", "5", "--as-of", AS_OF, "--tz", TZ, "--bad-rows", "2"]);
    wd.run(&["ingest", "--raw", "raw", "--lake", "lake", "--tz", TZ]);
    wd.run(&["report", "--lake", "lake", "--out", "report", "--as-of", AS_OF, "--tz", TZ]);

    let lake = Command::new("python3").arg(script("check_lake.py")).arg(wd.path("lake")).output().unwrap();
    assert!(lake.status.success(), "check_lake.py: {}", String::from_utf8_lossy(&lake.stderr));
    let counts: serde_json::Value = serde_json::from_slice(&lake.stdout).expect("check_lake.py prints JSON");
    let summary: serde_json::Value = serde_json::from_str(&wd.read("lake/current/summary.json")).unwrap();
    for table in ["interviews", "events"] {
        assert_eq!(
            counts["tables"][table]["rows"], summary[table]["rows_in_lake"],
            "{table}: DuckDB/pyarrow count vs noshow's summary"
        );
    }

    let rates = Command::new("python3")
        .arg(script("check_rates.py"))
        .args(["--lake", &wd.path("lake").to_string_lossy(), "--out", &wd.path("report").to_string_lossy()])
        .args(["--as-of", AS_OF, "--tz", TZ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&rates.stdout);
    assert!(rates.status.success(), "check_rates.py:\n{text}\n{}", String::from_utf8_lossy(&rates.stderr));
    assert_eq!(text.lines().filter(|l| l.ends_with(": ok")).count(), 8, "{text}");

    // Confirmations, link errors and reasons, every segment published (threshold 1).
    wd.run(&["report", "--lake", "lake", "--out", "report1", "--as-of", AS_OF, "--tz", TZ, "--suppression-threshold", "1"]);
    let trace = Command::new("python3")
        .arg(script("check_trace.py"))
        .args(["--lake", &wd.path("lake").to_string_lossy(), "--out", &wd.path("report1").to_string_lossy()])
        .args(["--as-of", AS_OF, "--suppression-threshold", "1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&trace.stdout);
    assert!(trace.status.success(), "check_trace.py:\n{text}\n{}", String::from_utf8_lossy(&trace.stderr));
    assert_eq!(text.lines().filter(|l| l.ends_with(": ok")).count(), 6, "{text}");
}
