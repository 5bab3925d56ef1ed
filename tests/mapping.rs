//! HR systems' own exports through `[[input.source]]`: the committed re-export of the
//! sample (`data/sample-export/`, made by `tests/py/make_sample_export.py`: a workbook
//! with a title row and Excel dates, a GB18030 CSV with semicolons, Chinese headers
//! and status words, a region spelled two ways) read with `examples/hr-export.toml`
//! gives the lake and the rate tables of the v1 sample.

use polars::prelude::*;

use crate::workdir::{read_parquet, Workdir};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const AS_OF: &str = "2026-11-16T00:00:00+08:00";

fn table(wd: &Workdir, lake: &str, name: &str) -> DataFrame {
    let manifest: serde_json::Value = serde_json::from_str(&wd.read(&format!("{lake}/current/manifest.json"))).unwrap();
    let frames: Vec<LazyFrame> = manifest["tables"][name]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| read_parquet(&wd.path(&format!("{lake}/current/{}", f["path"].as_str().unwrap()))).lazy())
        .collect();
    let key = if name == "interviews" { "interview_id" } else { "event_id" };
    concat(frames, UnionArgs::default())
        .unwrap()
        .drop(cols(["origin_file", "origin_line"]))
        .sort([key], SortMultipleOptions::default())
        .collect()
        .unwrap()
}

#[test]
fn the_chinese_export_gives_the_lake_and_tables_of_the_v1_sample() {
    let wd = Workdir::new();
    let config = format!("{ROOT}/examples/hr-export.toml");
    wd.run(&["--tz", "Asia/Shanghai", "ingest", "--raw", &format!("{ROOT}/data/sample"), "--lake", "v1", "-q"]);
    let out = wd.run(&["--config", &config, "ingest", "--raw", &format!("{ROOT}/data/sample-export"), "--lake", "mapped"]);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(said.contains("面试导出.csv: read by [[input.source]] 2 (GB18030, delimiter ;)"), "{said}");
    assert!(said.contains("sheet 面试记录"), "{said}");
    // The extra column is kept under its name, for every row of the export.
    let mapped = table(&wd, "mapped", "interviews");
    let recruiter = mapped.column("recruiter").unwrap().str().unwrap().clone();
    assert_eq!(recruiter.null_count(), 0);
    assert!(recruiter.iter().all(|r| ["王芳", "李娜", "张伟", "刘洋", "陈静"].contains(&r.unwrap())));
    for name in ["interviews", "events"] {
        let (a, mut b) = (table(&wd, "v1", name), table(&wd, "mapped", name));
        if name == "interviews" {
            b = b.drop("recruiter").unwrap();
        }
        assert_eq!(a.height(), b.height(), "{name}");
        assert!(a.equals_missing(&b), "{name} differ");
    }
    // Set-aside rows name the export's file and its own row numbers (the sheet's rows
    // count the title row).
    let rejected = read_parquet(&wd.path("mapped/current/rejected/part-00000.parquet"));
    let files: Vec<String> = rejected.column("file").unwrap().str().unwrap().iter().map(|v| v.unwrap().to_string()).collect();
    let lines: Vec<u64> = rejected.column("line").unwrap().u64().unwrap().iter().map(|v| v.unwrap()).collect();
    let v1 = read_parquet(&wd.path("v1/current/rejected/part-00000.parquet"));
    let v1_lines: Vec<(String, u64)> = v1.column("file").unwrap().str().unwrap().iter().zip(v1.column("line").unwrap().u64().unwrap().iter())
        .map(|(f, l)| (f.unwrap().to_string(), l.unwrap())).collect();
    // interviews-001.csv line L is row L + 1 of the sheet (one title row above the header).
    for (f, l) in &v1_lines {
        if f == "interviews-001.csv" {
            let found = files.iter().zip(&lines).any(|(g, &m)| g == "面试记录.xlsx" && m == l + 1);
            let dropped = *l == 249; // the wrong-field-count row, not re-exported
            assert!(found || dropped, "interviews-001.csv line {l} should be 面试记录.xlsx row {}", l + 1);
        }
    }
    // The same rate tables.
    wd.run(&["--as-of", AS_OF, "report", "--lake", "v1", "--out", "r1", "-q"]);
    wd.run(&["--as-of", AS_OF, "report", "--lake", "mapped", "--out", "r2", "-q"]);
    let mut compared = 0;
    for entry in std::fs::read_dir(wd.path("r1")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".csv") {
            assert_eq!(wd.read(&format!("r1/{name}")), wd.read(&format!("r2/{name}")), "{name}");
            compared += 1;
        }
    }
    assert!(compared > 20);
    // The extra column is a report dimension and a --by column, suppressed as usual.
    let by = wd.read("r2/rates_by_recruiter.csv");
    assert!(by.lines().count() == 6 && by.contains("陈静"), "{by}");
    wd.run(&["--as-of", AS_OF, "report", "--lake", "mapped", "--out", "r3", "--by", "recruiter,role", "--suppression-threshold", "200", "-q"]);
    assert!(wd.read("r3/rates_by_recruiter_role.csv").contains(",true,"), "small cuts are suppressed");
    let out = wd.output(&["--as-of", AS_OF, "report", "--lake", "v1", "--out", "r4", "--by", "recruiter"]);
    assert_eq!(out.status.code(), Some(2), "a lake without the column refuses the cut");
    // A later v1 ingest keeps the column (null for the new rows).
    std::fs::create_dir_all(wd.path("more")).unwrap();
    let csv = std::fs::read_to_string(format!("{ROOT}/data/sample/interviews-001.csv")).unwrap().replace("10000", "90000");
    std::fs::write(wd.path("more/interviews-more.csv"), csv).unwrap();
    wd.run(&["--tz", "Asia/Shanghai", "ingest", "--raw", "more", "--lake", "mapped", "-q"]);
    let after = table(&wd, "mapped", "interviews");
    let recruiter = after.column("recruiter").unwrap().str().unwrap().clone();
    assert_eq!(recruiter.len() - recruiter.null_count(), 3000, "every export row keeps its recruiter");
    assert!(recruiter.null_count() > 0);
}

#[test]
fn mapping_mistakes_are_clear_file_or_usage_errors() {
    let wd = Workdir::new();
    std::fs::create_dir_all(wd.path("raw")).unwrap();
    std::fs::copy(format!("{ROOT}/data/sample-export/面试导出.csv"), wd.path("raw/面试导出.csv")).unwrap();
    let base = std::fs::read_to_string(format!("{ROOT}/examples/hr-export.toml")).unwrap();
    // A header the mapping names but the file lacks: a file error naming both.
    std::fs::write(wd.path("bad-header.toml"), base.replace("role = \"岗位\"", "role = \"职位名称\"")).unwrap();
    let out = wd.output(&["--config", "bad-header.toml", "ingest", "--raw", "raw", "--lake", "lake"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("面试导出.csv") && err.contains("职位名称"), "{err}");
    assert!(!wd.path("lake/current").exists());
    // Without a mapping, a GBK file named like v1 stops with the fix in the message.
    std::fs::copy(wd.path("raw/面试导出.csv"), wd.path("raw/interviews-gbk.csv")).unwrap();
    std::fs::remove_file(wd.path("raw/面试导出.csv")).unwrap();
    let out = wd.output(&["ingest", "--raw", "raw", "--lake", "lake"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[[input.source]]"), "{}", String::from_utf8_lossy(&out.stderr));
    // A truncated workbook is a clear file error.
    std::fs::remove_file(wd.path("raw/interviews-gbk.csv")).unwrap();
    let book = std::fs::read(format!("{ROOT}/data/sample-export/面试记录.xlsx")).unwrap();
    std::fs::write(wd.path("raw/面试记录.xlsx"), &book[..book.len() / 2]).unwrap();
    let out = wd.output(&["--config", &format!("{ROOT}/examples/hr-export.toml"), "ingest", "--raw", "raw", "--lake", "lake"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("面试记录.xlsx") && err.contains("workbook"), "{err}");
    // A key the mapping does not know, or a field that is not v1's: usage errors.
    std::fs::write(wd.path("bad-key.toml"), base.replace("header_row = 2", "header_row = 2\nheader_rows = 3")).unwrap();
    assert_eq!(wd.output(&["--config", "bad-key.toml", "ingest", "--raw", "raw", "--lake", "lake"]).status.code(), Some(2));
    std::fs::write(wd.path("bad-field.toml"), base.replace("recruiter = \"招聘负责人\"", "role = \"招聘负责人\"")).unwrap();
    let out = wd.output(&["--config", "bad-field.toml", "ingest", "--raw", "raw", "--lake", "lake"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}
