//! Tables others' tools read: Parquet and CSV side by side (folders are published
//! atomically by [`crate::store::OutputDir`]). CSV is written for spreadsheets too: UTF-8 with a byte-order mark (so
//! Excel shows Chinese correctly) and text cells that would start a formula
//! (`=`, `+`, `-`, `@`, tab, carriage return) prefixed with `'`.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use polars::prelude::*;

/// Writes `df` as `dir/name.parquet` and `dir/name.csv`.
pub fn write_table(dir: &Path, name: &str, df: &mut DataFrame) -> anyhow::Result<()> {
    write_parquet(&dir.join(format!("{name}.parquet")), df)?;
    write_csv(&dir.join(format!("{name}.csv")), df)
}

/// Writes `df` as one zstd-compressed Parquet file.
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let written = ParquetWriter::new(BufWriter::new(file))
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::full())
        .finish(df);
    anyhow::Context::with_context(written, || format!("writing {}", path.display()))?;
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

/// Writes `df` as CSV for pandas, DuckDB and Excel (see the module doc). Every
/// error (a full disk, say) names the file.
pub fn write_csv(path: &Path, df: &DataFrame) -> anyhow::Result<()> {
    let writing = || format!("writing {}", path.display());
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = BufWriter::new(file);
    out.write_all("\u{feff}".as_bytes()).with_context(writing)?;
    let mut writer = csv::WriterBuilder::new().from_writer(out);
    let columns = df.columns();
    writer.write_record(columns.iter().map(|c| c.name().as_str())).with_context(writing)?;
    let mut record: Vec<String> = Vec::with_capacity(columns.len());
    for row in 0..df.height() {
        record.clear();
        for column in columns {
            record.push(cell(column.get(row)?));
        }
        writer.write_record(&record).with_context(writing)?;
    }
    let out = writer.into_inner().map_err(|e| anyhow::anyhow!("{}: {}", writing(), e.error()))?;
    out.into_inner().map_err(|e| anyhow::anyhow!("{}: {}", writing(), e.error()))?.sync_all().with_context(writing)?;
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
