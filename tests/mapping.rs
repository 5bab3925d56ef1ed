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

/// The interview part of `examples/hr-export.toml` as a config for a folder of
/// workbooks (`.xls` or `.xlsx` by `files`), with the given time zone.
fn workbook_config(files: &str) -> String {
    let base = std::fs::read_to_string(format!("{ROOT}/examples/hr-export.toml")).unwrap();
    let first = base.find("[[input.source]]").unwrap();
    let second = first + 1 + base[first + 1..].find("[[input.source]]").unwrap();
    base[first..second].replace("files = [\"面试记录*.xlsx\"]", &format!("files = [{files:?}]"))
}

#[test]
fn a_generated_hr_export_gives_the_lake_and_tables_of_the_same_world_in_v1() {
    let wd = Workdir::new();
    for (out, style) in [("v1raw", "v1"), ("hrraw", "hr-export")] {
        wd.run(&[
            "generate", "--out", out, "--interviews", "2500", "--seed", "11", "--bad-rows", "2", "--as-of", AS_OF, "--tz",
            "Asia/Shanghai", "--style", style, "-q",
        ]);
    }
    let mut names: Vec<String> =
        std::fs::read_dir(wd.path("hrraw")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert!(names.iter().all(|n| !n.starts_with("interviews")), "{names:?}");
    for n in ["hr-export.toml", "面试导出.csv", "面试记录.xlsx", "events-001.jsonl"] {
        assert!(names.iter().any(|m| m == n), "{n} in {names:?}");
    }
    // The re-export is GB18030 with semicolons, as Excel in China saves CSV.
    let text = std::fs::read(wd.path("hrraw/面试导出.csv")).unwrap();
    assert!(std::str::from_utf8(&text).is_err());
    let (decoded, _, errors) = encoding_rs::GB18030.decode(&text);
    assert!(!errors && decoded.starts_with("面试编号;候选人编号;") && decoded.contains(";招聘负责人\r\n"), "{}", &decoded[..80]);

    wd.run(&["--tz", "Asia/Shanghai", "ingest", "--raw", "v1raw", "--lake", "v1", "-q"]);
    let out = wd.run(&["--config", "hrraw/hr-export.toml", "ingest", "--raw", "hrraw", "--lake", "hr"]);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(said.contains("面试导出.csv: read by [[input.source]] 2 (GB18030, delimiter ;)"), "{said}");
    assert!(said.contains("面试记录.xlsx: read by [[input.source]] 1 (xlsx, sheet 面试记录)"), "{said}");
    // The export's accounting is expected.json's, amended for the style.
    let expected: serde_json::Value = serde_json::from_str(&wd.read("hrraw-truth/expected.json")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&wd.read("hr/current/summary.json")).unwrap();
    for key in ["rows_read", "kept", "duplicates", "set_aside", "warnings"] {
        assert_eq!(summary["interviews"][key], expected["interviews"][key], "interviews {key}");
        assert_eq!(summary["events"][key], expected["events"][key], "events {key}");
    }
    assert_eq!(summary["interviews"]["set_aside_by_reason"], expected["interviews"]["set_aside_by_reason"]);
    assert_eq!(expected["interviews"]["left_out_of_the_export"]["rows"], 2, "the wrong-field-count rows");

    let mapped = table(&wd, "hr", "interviews");
    let recruiter = mapped.column("recruiter").unwrap().str().unwrap().clone();
    assert_eq!(recruiter.null_count(), 0);
    assert!(recruiter.iter().all(|r| ["王芳", "李娜", "张伟", "刘洋", "陈静"].contains(&r.unwrap())));
    for name in ["interviews", "events"] {
        let (a, mut b) = (table(&wd, "v1", name), table(&wd, "hr", name));
        if name == "interviews" {
            b = b.drop("recruiter").unwrap();
        }
        assert_eq!(a.height(), b.height(), "{name}");
        assert!(a.equals_missing(&b), "{name} differ:\n{a}\n{b}");
    }
    wd.run(&["--as-of", AS_OF, "report", "--lake", "v1", "--out", "r1", "-q"]);
    wd.run(&["--as-of", AS_OF, "report", "--lake", "hr", "--out", "r2", "-q"]);
    let mut compared = 0;
    for entry in std::fs::read_dir(wd.path("r1")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".csv") {
            assert_eq!(wd.read(&format!("r1/{name}")), wd.read(&format!("r2/{name}")), "{name}");
            compared += 1;
        }
    }
    assert!(compared > 20);
    assert!(wd.read("r2/rates_by_recruiter.csv").contains("王芳"));
    // A second run into the same folder needs --force, which replaces the export too.
    let again = ["generate", "--out", "hrraw", "--interviews", "300", "--seed", "1", "--as-of", AS_OF, "--style", "hr-export", "-q"];
    assert_eq!(wd.output(&again).status.code(), Some(2));
    let mut forced = again.to_vec();
    forced.push("--force");
    wd.run(&forced);
    assert!(std::fs::metadata(wd.path("hrraw/面试记录.xlsx")).unwrap().len() < 100_000);
    // The same flags give the same bytes, whatever the thread count.
    let mut other: Vec<&str> = again.iter().map(|a| if *a == "hrraw" { "again" } else { a }).collect();
    other.extend(["--threads", "1"]);
    wd.run(&other);
    let mut two_threads = forced.clone();
    two_threads.extend(["--threads", "2"]);
    wd.run(&two_threads);
    for name in ["面试记录.xlsx", "面试导出.csv", "hr-export.toml"] {
        assert_eq!(std::fs::read(wd.path(&format!("hrraw/{name}"))).unwrap(), std::fs::read(wd.path(&format!("again/{name}"))).unwrap(), "{name}");
    }
}

#[test]
fn a_legacy_xls_workbook_reaches_the_lake() {
    // tests/fixtures/hr-export-legacy.xls, made by tests/py/make_workbook_fixtures.py
    // with xlwt: title row, Chinese headers, date cells and text times, one status
    // word the map lacks (row 7).
    let wd = Workdir::new();
    std::fs::create_dir_all(wd.path("raw")).unwrap();
    std::fs::copy(format!("{ROOT}/tests/fixtures/hr-export-legacy.xls"), wd.path("raw/面试记录-旧版.XLS")).unwrap();
    let mut config = workbook_config("面试记录*.xls");
    // The fixture has only the required columns, a cost and the recruiter.
    for unused in ["education", "fresh_graduate", "source", "preferred_channel", "cause", "no_show_grade", "updated_at"] {
        let line = config.lines().find(|l| l.starts_with(&format!("{unused} = "))).unwrap().to_string();
        config = config.replace(&format!("{line}\n"), "");
    }
    config = config.replace("timezone = \"Asia/Shanghai\"", "timezone = \"Asia/Shanghai\"\ntimestamp_formats = [\"%Y/%m/%d %H:%M\"]");
    std::fs::write(wd.path("xls.toml"), &config).unwrap();
    let out = wd.run(&["--config", "xls.toml", "ingest", "--raw", "raw", "--lake", "lake"]);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(said.contains("面试记录-旧版.XLS: read by [[input.source]] 1"), "{said}");
    let lake = table(&wd, "lake", "interviews");
    let ids: Vec<&str> = lake.column("interview_id").unwrap().str().unwrap().iter().map(|v| v.unwrap()).collect();
    assert_eq!(ids, ["xls-001", "xls-002", "xls-003", "xls-004", "xls-006"]);
    let status: Vec<&str> = lake.column("status").unwrap().str().unwrap().iter().map(|v| v.unwrap()).collect();
    assert_eq!(status, ["attended", "no_show", "cancelled_by_candidate", "attended", "cancelled_by_company"]);
    let region: Vec<&str> = lake.column("region").unwrap().str().unwrap().iter().map(|v| v.unwrap()).collect();
    assert_eq!(region[1], "华东", "the value map merges 华东区");
    let recruiter: Vec<Option<&str>> = lake.column("recruiter").unwrap().str().unwrap().iter().collect();
    assert_eq!(recruiter, [Some("王芳"), Some("李娜"), Some("张伟"), None, Some("刘洋")]);
    let cost: Vec<Option<f64>> = lake.column("cost").unwrap().f64().unwrap().iter().collect();
    assert_eq!(cost, [Some(90.5), Some(90.0), None, Some(60.0), Some(90.0)]);
    // A date cell of 2026-06-03 10:00 in Shanghai, and a text time 2026/06/04 09:00.
    let scheduled = lake.column("scheduled_at").unwrap().cast(&DataType::String).unwrap();
    let scheduled: Vec<String> = scheduled.str().unwrap().iter().map(|v| v.unwrap().to_string()).collect();
    assert!(scheduled[0].starts_with("2026-06-03 02:00:00"), "{scheduled:?}");
    assert!(scheduled[2].starts_with("2026-06-04 01:00:00"), "{scheduled:?}");
    // The unmapped word is set aside with the sheet's row number, naming the value.
    let rejected = read_parquet(&wd.path("lake/current/rejected/part-00000.parquet"));
    let set_aside = rejected.filter(&rejected.column("severity").unwrap().str().unwrap().equal("set_aside")).unwrap();
    assert_eq!(set_aside.height(), 1, "{rejected}");
    assert_eq!(set_aside.column("line").unwrap().u64().unwrap().get(0), Some(7));
    assert!(set_aside.column("reason").unwrap().str().unwrap().get(0).unwrap().contains("缺席"), "{set_aside}");
}

#[test]
fn damaged_encrypted_or_foreign_workbooks_are_file_errors_saying_what_to_do() {
    let wd = Workdir::new();
    std::fs::write(wd.path("book.toml"), workbook_config("面试记录*.xlsx")).unwrap();
    let book = std::fs::read(format!("{ROOT}/data/sample-export/面试记录.xlsx")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        // Cut short, as a copy taken while the export was still being written.
        ("面试记录-截断.xlsx", book[..book.len() * 2 / 3].to_vec(), &["damaged or cut short", "export it again"]),
        // Saved with a password (tests/fixtures/hr-export-encrypted.xlsx, made with
        // msoffcrypto-tool by tests/py/make_workbook_fixtures.py).
        (
            "面试记录-加密.xlsx",
            std::fs::read(format!("{ROOT}/tests/fixtures/hr-export-encrypted.xlsx")).unwrap(),
            &["password-protected", "remove the password"],
        ),
        // Not a zip at all: a CSV someone named .xlsx.
        ("面试记录-文本.xlsx", "面试编号,候选人编号\ni1,c1\n".as_bytes().to_vec(), &["not an Excel workbook", ".csv"]),
        // A real workbook without the header the mapping names.
        ("面试记录-旧表头.xlsx", Vec::new(), &["职位名称", "for role"]),
    ];
    for (k, (name, bytes, words)) in cases.into_iter().enumerate() {
        let raw = format!("raw-{k}");
        std::fs::create_dir_all(wd.path(&raw)).unwrap();
        let mut config = "book.toml".to_string();
        if bytes.is_empty() {
            std::fs::write(wd.path(&format!("{raw}/{name}")), &book).unwrap();
            let renamed = workbook_config("面试记录*.xlsx").replace("role = \"岗位\"", "role = \"职位名称\"");
            std::fs::write(wd.path("renamed.toml"), renamed).unwrap();
            config = "renamed.toml".to_string();
        } else {
            std::fs::write(wd.path(&format!("{raw}/{name}")), &bytes).unwrap();
        }
        let lake = format!("lake-{k}");
        let out = wd.output(&["--config", &config, "ingest", "--raw", &raw, "--lake", &lake]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(name), "{name}: {err}");
        for w in words {
            assert!(err.contains(w), "{name}: {w:?} not in {err}");
        }
        assert!(!wd.path(&format!("{lake}/current")).exists(), "{name}: nothing committed");
    }
}
