//! The example notebook runs as shipped: `noshow run` on the committed sample
//! (`data/sample/`, with the repository's `noshow.toml`), then nbconvert executes
//! `notebooks-export/example.ipynb` against the report that run wrote
//! (`NOSHOW_REPORT_DIR`). It needs python3 with nbconvert, nbclient, ipykernel,
//! matplotlib, pandas and pyarrow (`tests/py/requirements.txt`, which `.ci/run`
//! installs). Where they are missing the test says so and passes, except under CI
//! (`CI` set), where a missing tool is a failure.

use std::process::Command;

use crate::workdir::Workdir;

const NOTEBOOK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/notebooks-export/example.ipynb");

/// Whether python3 can import what executing the notebook takes; panics under CI
/// when it cannot.
fn notebook_tools_available() -> bool {
    let probe = Command::new("python3")
        .args(["-c", "import nbconvert, nbclient, ipykernel, matplotlib, pandas, pyarrow"])
        .output();
    let why = match &probe {
        Ok(out) if out.status.success() => return true,
        Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
        Err(e) => format!("cannot run python3: {e}"),
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must be able to execute the example notebook \
         (pip install -r tests/py/requirements.txt): {why}"
    );
    eprintln!("note: nbconvert/ipykernel/matplotlib/pandas/pyarrow not importable: example notebook not run ({why})");
    false
}

#[test]
fn example_notebook_runs_on_the_sample_report() {
    if !notebook_tools_available() {
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let config = format!("{root}/noshow.toml");
    let raw = format!("{root}/data/sample");
    let wd = Workdir::new();
    // The README's first command, with the outputs redirected into the temp folder.
    wd.run(&["--config", &config, "--quiet", "run", "--raw", &raw, "--lake", "lake", "--out", "out", "--model", "model"]);
    let report = wd.path("out/report");
    assert!(report.join("summary.json").is_file(), "noshow run wrote no report in {}", report.display());

    let executed = wd.path("executed.ipynb");
    let out = Command::new("python3")
        .args(["-m", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=600"])
        .arg("--output-dir")
        .arg(wd.root())
        .args(["--output", "executed.ipynb"])
        .arg(NOTEBOOK)
        .env("NOSHOW_REPORT_DIR", &report)
        // The kernel's own (inline) backend, whatever the environment asks for.
        .env_remove("MPLBACKEND")
        .output()
        .expect("running python3 -m nbconvert");
    assert!(
        out.status.success(),
        "executing {NOTEBOOK} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );

    // Every code cell ran without an error, the notebook read the report it was
    // pointed at, and the charts were drawn.
    let nb: serde_json::Value = serde_json::from_str(&wd.read("executed.ipynb")).expect("nbconvert wrote JSON");
    let outputs: Vec<&serde_json::Value> = nb["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .flat_map(|c| c["outputs"].as_array().into_iter().flatten())
        .collect();
    let errors: Vec<&&serde_json::Value> = outputs.iter().filter(|o| o["output_type"] == "error").collect();
    assert!(errors.is_empty(), "error outputs in {}: {errors:?}", executed.display());
    // nbformat stores multi-line text as a list of lines, or as one string.
    let joined = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(lines) => lines.iter().filter_map(|l| l.as_str()).collect(),
        _ => String::new(),
    };
    let text: String = outputs.iter().map(|o| joined(&o["text"])).collect();
    assert!(
        text.contains(&report.display().to_string()),
        "the notebook did not say it read {}; its printed output:\n{text}",
        report.display()
    );
    let charts = outputs.iter().filter(|o| !joined(&o["data"]["image/png"]).is_empty()).count();
    assert!(charts >= 6, "{charts} charts drawn, expected at least 6");
}
