#![allow(dead_code)]
//! A temporary folder to run the real binary in, and helpers to read what it wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir { dir: tempfile::Builder::new().prefix("noshow-test-").tempdir().expect("temp dir") }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A `noshow` command run inside the work folder, with a test pseudonymisation key.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_noshow"));
        cmd.current_dir(self.dir.path())
            .args(args)
            .env("NOSHOW_PSEUDONYM_KEY", "test-key-0123456789abcdef")
            .env_remove("NOSHOW_PSEUDONYM_KEY_FILE");
        cmd
    }

    /// Runs `noshow ARGS` and returns its output, whatever the exit status.
    pub fn output(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("running noshow")
    }

    /// Runs `noshow ARGS` and panics with its stderr unless it succeeded.
    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "noshow {:?} failed ({}):\n{}",
            args,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Writes `noshow.toml` in the work folder (read by every command run without
    /// `--config`) so that models trained on the small lakes of tests that are not
    /// about model quality are promoted: no minimum test window, no margin against the
    /// current model. Without it, `train` keeps such models as candidates (exit 3).
    pub fn accept_small_models(&self) {
        std::fs::write(self.path("noshow.toml"), SMALL_MODELS).expect("writing noshow.toml");
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }
}

/// The `[train]` settings of [`Workdir::accept_small_models`].
pub const SMALL_MODELS: &str = "[train]\nmin_test_interviews = 0\nmin_test_misses = 0\nmax_auc_drop = 1.0\nmax_log_loss_rise = 1000.0\n";

/// Reads a Parquet file or a glob of them into a polars DataFrame.
#[allow(dead_code)]
pub fn read_parquet(path: &Path) -> polars::prelude::DataFrame {
    use polars::prelude::*;
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
    ParquetReader::new(file).finish().unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Every value of every column of a Parquet file, as text (for scans of outputs).
pub fn parquet_strings(path: &Path) -> Vec<String> {
    use polars::prelude::*;
    let df = read_parquet(path);
    let mut values = Vec::new();
    for column in df.columns() {
        if let Ok(ca) = column.cast(&DataType::String) {
            if let Ok(s) = ca.str() {
                values.extend(s.iter().flatten().map(str::to_string));
            }
        }
    }
    values
}

/// The visible text of an HTML page's body: tags (with their attributes and styles)
/// out, each replaced by a space.
pub fn visible_text(html: &str) -> String {
    let body = &html[html.find("<body").unwrap_or(0)..];
    let (mut text, mut in_tag) = (String::new(), false);
    for ch in body.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// Words of `text` that look like data codes (snake_case with a lower-case letter):
/// what a translated page should not show.
pub fn snake_case_words(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.contains('_') && w.chars().any(|c| c.is_ascii_lowercase()))
        .collect()
}
