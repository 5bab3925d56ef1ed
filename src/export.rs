//! Tables others' tools read: Parquet and CSV side by side, published atomically.
//!
//! An output folder is built beside its destination and swapped into place in one
//! step, so a reader (or a run killed midway) sees the old folder or the new one,
//! never a mix. CSV is written for spreadsheets too: UTF-8 with a byte-order mark (so
//! Excel shows Chinese correctly) and text cells that would start a formula
//! (`=`, `+`, `-`, `@`, tab, carriage return) prefixed with `'`.

use std::borrow::Cow;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use polars::prelude::*;

/// A folder being written, invisible at its destination until [`OutputDir::publish`].
#[derive(Debug)]
pub struct OutputDir {
    tmp: PathBuf,
    dest: PathBuf,
    published: bool,
}

impl OutputDir {
    /// Starts a private (0700) staging folder beside `dest`.
    pub fn begin(dest: &Path) -> anyhow::Result<OutputDir> {
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .with_context(|| format!("output folder {} has no name", dest.display()))?
            .to_string_lossy()
            .into_owned();
        create_private_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
        // Leftovers of killed runs for this destination are removed first.
        if let Ok(entries) = fs::read_dir(&parent) {
            for entry in entries.flatten() {
                let n = entry.file_name().to_string_lossy().into_owned();
                if n.starts_with(&format!(".{name}.tmp-")) || n.starts_with(&format!(".{name}.old-")) {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        create_private_dir_all(&tmp).with_context(|| format!("creating {} (is the output folder writable?)", tmp.display()))?;
        Ok(OutputDir { tmp, dest: dest.to_path_buf(), published: false })
    }

    /// Where files go before publishing.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// The final destination.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Syncs the staged folder and swaps it into place atomically.
    pub fn publish(mut self) -> anyhow::Result<PathBuf> {
        crate::lake::sync_tree(&self.tmp)?;
        swap_into_place(&self.tmp, &self.dest)?;
        self.published = true;
        Ok(self.dest.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.published {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Creates a folder (and its parents) readable by the owner only.
pub fn create_private_dir_all(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir)
    }
}

/// Moves `staged` to `dest`: an atomic exchange when `dest` exists (Linux
/// `renameat2(RENAME_EXCHANGE)`), a plain rename otherwise; the old folder is removed.
fn swap_into_place(staged: &Path, dest: &Path) -> anyhow::Result<()> {
    if fs::symlink_metadata(dest).is_err() {
        return fs::rename(staged, dest).with_context(|| format!("moving output into {}", dest.display()));
    }
    if !dest.is_dir() {
        bail!("{} exists and is not a folder", dest.display());
    }
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let a = CString::new(staged.as_os_str().as_bytes())?;
        let b = CString::new(dest.as_os_str().as_bytes())?;
        // SAFETY: both paths are valid NUL-terminated strings that live across the call.
        let rc = unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
        if rc == 0 {
            // `staged` now holds the old folder.
            let _ = fs::remove_dir_all(staged);
            return Ok(());
        }
    }
    // Fallback: two renames; a kill between them leaves the old folder under `.old-`.
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let old = dest.with_file_name(format!(".{name}.old-{}", std::process::id()));
    fs::rename(dest, &old).with_context(|| format!("moving aside {}", dest.display()))?;
    fs::rename(staged, dest).with_context(|| format!("moving output into {}", dest.display()))?;
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

/// Writes `df` as `dir/name.parquet` and `dir/name.csv`.
pub fn write_table(dir: &Path, name: &str, df: &mut DataFrame) -> anyhow::Result<()> {
    write_parquet(&dir.join(format!("{name}.parquet")), df)?;
    write_csv(&dir.join(format!("{name}.csv")), df)
}

/// Writes `df` as one zstd-compressed Parquet file.
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    ParquetWriter::new(BufWriter::new(file))
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::full())
        .finish(df)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    Ok(())
}

/// Guards a text cell against spreadsheet formula injection.
pub fn csv_safe(text: &str) -> Cow<'_, str> {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

fn cell(value: AnyValue<'_>) -> String {
    match value {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => csv_safe(s).into_owned(),
        AnyValue::StringOwned(s) => csv_safe(s.as_str()).into_owned(),
        AnyValue::Boolean(b) => b.to_string(),
        AnyValue::Float64(v) => format_float(v),
        AnyValue::Float32(v) => format_float(f64::from(v)),
        AnyValue::Datetime(v, unit, _) | AnyValue::DatetimeOwned(v, unit, _) => {
            let micros = match unit {
                TimeUnit::Nanoseconds => v / 1000,
                TimeUnit::Microseconds => v,
                TimeUnit::Milliseconds => v * 1000,
            };
            crate::time::format_utc(micros)
        }
        AnyValue::Date(days) => chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        other => {
            let s = other.to_string();
            csv_safe(s.trim_matches('"')).into_owned()
        }
    }
}

fn format_float(v: f64) -> String {
    if v.is_finite() {
        let s = format!("{v}");
        s
    } else {
        String::new()
    }
}

/// Writes `df` as CSV for pandas, DuckDB and Excel (see the module doc).
pub fn write_csv(path: &Path, df: &DataFrame) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = BufWriter::new(file);
    out.write_all("\u{feff}".as_bytes())?;
    let mut writer = csv::WriterBuilder::new().from_writer(out);
    let columns = df.columns();
    writer.write_record(columns.iter().map(|c| c.name().as_str()))?;
    let mut record: Vec<String> = Vec::with_capacity(columns.len());
    for row in 0..df.height() {
        record.clear();
        for column in columns {
            record.push(cell(column.get(row)?));
        }
        writer.write_record(&record)?;
    }
    writer.flush().with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("-1+1"), "'-1+1");
        assert_eq!(csv_safe("\tcmd"), "'\tcmd");
        assert_eq!(csv_safe("销售"), "销售");
    }
}
