//! From a feature table to a design matrix: numeric features standardised with the
//! training means and standard deviations, categorical features one-hot encoded
//! against a reference level, rare levels folded into `other`.
//!
//! The encoding is learnt once on the training rows and stored in model.json, so the
//! scoring side (or another program) rebuilds exactly the same columns. A level is
//! kept only when at least `min_level` training interviews had it (rows are counted
//! once per interview when an id column is given); rarer ones are folded into
//! `other`. A level never seen in training is scored as `other` too (it is, by
//! definition, rare), or as the reference level when `other` has no column; never a
//! failure, and [`Encoding::unseen`] counts such values so the caller can say so.
//! Model files written before this rule map unseen levels to the reference.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

/// The level rare categories are folded into.
pub const OTHER_LEVEL: &str = "other";

#[derive(Debug, thiserror::Error)]
pub enum EncodingError {
    #[error("feature table has no column {0:?}")]
    MissingColumn(String),
    #[error("feature column {name:?}: {source}")]
    Polars { name: String, source: PolarsError },
    #[error("no training rows to learn the encoding from")]
    NoRows,
}

/// Scaling of one numeric feature: x_std = (x − mean) / sd.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericScaling {
    pub name: String,
    pub mean: f64,
    pub sd: f64,
}

/// Encoding of one categorical feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalEncoding {
    pub name: String,
    /// The most frequent level (after folding); it has no column.
    pub reference: String,
    /// Levels with their own 0/1 column `name=level`, in column order.
    pub levels: Vec<String>,
    /// Rare training levels that map to `other`.
    pub folded: Vec<String>,
}

impl CategoricalEncoding {
    /// The column index (within `levels`) a raw value switches on, if any.
    pub fn level_index(&self, value: &str) -> Option<usize> {
        let mapped = if self.folded.iter().any(|f| f == value) { OTHER_LEVEL } else { value };
        self.levels.iter().position(|l| l == mapped)
    }
}

/// The full encoding, in design-matrix column order: numeric first, then each
/// categorical's levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoding {
    pub numeric: Vec<NumericScaling>,
    pub categorical: Vec<CategoricalEncoding>,
    /// A value never seen in training switches on the `other` column (when there is
    /// one); `false` for model files from before that rule (the reference instead).
    pub unseen_to_other: bool,
}

/// Values of one categorical feature that the encoding never saw in training.
#[derive(Debug, Clone, PartialEq)]
pub struct Unseen {
    pub feature: String,
    /// Rows holding such a value.
    pub rows: usize,
    /// A few of the values, sorted.
    pub examples: Vec<String>,
    /// Whether they were scored as `other` (else as the reference level).
    pub as_other: bool,
}

/// A row-major design matrix.
#[derive(Debug, Clone)]
pub struct Design {
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f64>,
}

impl Design {
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.cols..(i + 1) * self.cols]
    }

    /// Every row, borrowed.
    pub fn all(&self) -> Rows<'_> {
        self.slice(0..self.rows)
    }

    /// Rows `range` (clamped to the matrix), borrowed: a fold of the penalty search
    /// is a run of consecutive rows of the time-ordered training design.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Rows<'_> {
        let end = range.end.min(self.rows);
        let start = range.start.min(end);
        Rows { rows: end - start, cols: self.cols, values: &self.values[start * self.cols..end * self.cols] }
    }
}

/// Consecutive rows of a design matrix, borrowed (what the solvers read).
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    pub rows: usize,
    pub cols: usize,
    pub values: &'a [f64],
}

impl<'a> Rows<'a> {
    pub fn row(&self, i: usize) -> &'a [f64] {
        &self.values[i * self.cols..(i + 1) * self.cols]
    }

    /// Rows `range` of these rows (clamped).
    pub fn slice_rows(&self, range: std::ops::Range<usize>) -> Rows<'a> {
        let end = range.end.min(self.rows);
        let start = range.start.min(end);
        Rows { rows: end - start, cols: self.cols, values: &self.values[start * self.cols..end * self.cols] }
    }
}

fn numeric_column(df: &DataFrame, name: &str) -> Result<Vec<f64>, EncodingError> {
    let column = df.column(name).map_err(|_| EncodingError::MissingColumn(name.to_string()))?;
    let cast = column
        .cast(&DataType::Float64)
        .map_err(|source| EncodingError::Polars { name: name.to_string(), source })?;
    let ca = cast.f64().map_err(|source| EncodingError::Polars { name: name.to_string(), source })?;
    Ok(ca.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

/// A categorical column as text (null read as `unknown`), borrowed from the frame.
fn string_column(df: &DataFrame, name: &str) -> Result<StringChunked, EncodingError> {
    let column = df.column(name).map_err(|_| EncodingError::MissingColumn(name.to_string()))?;
    let cast = column
        .cast(&DataType::String)
        .map_err(|source| EncodingError::Polars { name: name.to_string(), source })?;
    Ok(cast.str().map_err(|source| EncodingError::Polars { name: name.to_string(), source })?.clone())
}

impl Encoding {
    /// Learns means, standard deviations and levels from the training rows. A level
    /// with fewer than `min_level_rows` rows is folded into `other`.
    pub fn learn(df: &DataFrame, numeric: &[&str], categorical: &[&str], min_level_rows: usize) -> Result<Encoding, EncodingError> {
        Encoding::learn_per(df, numeric, categorical, min_level_rows, None)
    }

    /// As [`Encoding::learn`], counting each value of `per` (the interview id) once
    /// when deciding which levels are rare: a level needs `min_level` interviews,
    /// however many snapshots each contributed.
    pub fn learn_per(
        df: &DataFrame,
        numeric: &[&str],
        categorical: &[&str],
        min_level: usize,
        per: Option<&str>,
    ) -> Result<Encoding, EncodingError> {
        let min_level_rows = min_level;
        if df.height() == 0 {
            return Err(EncodingError::NoRows);
        }
        // Which rows count: the first of each interview (or every row).
        let counted: Vec<bool> = match per {
            Some(name) => {
                let ids = string_column(df, name)?;
                let mut seen: std::collections::HashSet<&str> = Default::default();
                ids.iter().map(|v| seen.insert(v.unwrap_or(""))).collect()
            }
            None => vec![true; df.height()],
        };
        let mut num = Vec::new();
        for &name in numeric {
            let values: Vec<f64> = numeric_column(df, name)?.into_iter().filter(|v| v.is_finite()).collect();
            let n = values.len().max(1) as f64;
            let mean = values.iter().sum::<f64>() / n;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            // A constant column gets sd 1 so it stays finite (and its coefficient ~0).
            let sd = if var.sqrt() > 1e-12 { var.sqrt() } else { 1.0 };
            num.push(NumericScaling { name: name.to_string(), mean, sd });
        }
        let mut cat = Vec::new();
        for &name in categorical {
            let values = string_column(df, name)?;
            let mut by_text: std::collections::HashMap<&str, usize> = Default::default();
            for (v, &counts) in values.iter().zip(&counted) {
                *by_text.entry(v.unwrap_or("unknown")).or_default() += usize::from(counts);
            }
            let counts: std::collections::BTreeMap<String, usize> = by_text.into_iter().map(|(k, c)| (k.to_string(), c)).collect();
            let mut folded: Vec<String> = counts
                .iter()
                .filter(|(level, &c)| c < min_level_rows && level.as_str() != OTHER_LEVEL)
                .map(|(level, _)| level.clone())
                .collect();
            let folded_rows: usize = folded.iter().map(|l| counts[l]).sum();
            let folded_set: std::collections::HashSet<String> = folded.iter().cloned().collect();
            let mut kept: Vec<(String, usize)> =
                counts.into_iter().filter(|(l, _)| !folded_set.contains(l)).collect();
            if folded_rows > 0 {
                match kept.iter_mut().find(|(l, _)| l == OTHER_LEVEL) {
                    Some((_, c)) => *c += folded_rows,
                    None => kept.push((OTHER_LEVEL.to_string(), folded_rows)),
                }
            }
            // Most frequent first; ties by name so the choice is deterministic.
            kept.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let reference = kept[0].0.clone();
            let mut levels: Vec<String> = kept[1..].iter().map(|(l, _)| l.clone()).collect();
            levels.sort();
            folded.sort();
            cat.push(CategoricalEncoding { name: name.to_string(), reference, levels, folded });
        }
        Ok(Encoding { numeric: num, categorical: cat, unseen_to_other: true })
    }

    /// Per categorical feature, the rows of `df` whose value was never seen in
    /// training (neither a level, the reference, nor folded). Features without such
    /// rows are left out.
    pub fn unseen(&self, df: &DataFrame) -> Result<Vec<Unseen>, EncodingError> {
        let mut out = Vec::new();
        for c in &self.categorical {
            let raw = string_column(df, &c.name)?;
            let known: std::collections::HashSet<&str> =
                c.levels.iter().chain(&c.folded).chain(std::iter::once(&c.reference)).map(String::as_str).collect();
            let mut values: std::collections::BTreeSet<&str> = Default::default();
            let mut rows = 0;
            for v in raw.iter() {
                let v = v.unwrap_or("unknown");
                if !known.contains(v) {
                    rows += 1;
                    values.insert(v);
                }
            }
            if rows > 0 {
                out.push(Unseen {
                    feature: c.name.clone(),
                    rows,
                    examples: values.into_iter().take(3).map(str::to_string).collect(),
                    as_other: self.unseen_to_other && c.levels.iter().any(|l| l == OTHER_LEVEL),
                });
            }
        }
        Ok(out)
    }

    /// Design-matrix column names: numeric feature names, then `feature=level`.
    pub fn column_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.numeric.iter().map(|n| n.name.clone()).collect();
        for c in &self.categorical {
            names.extend(c.levels.iter().map(|l| format!("{}={}", c.name, l)));
        }
        names
    }

    pub fn width(&self) -> usize {
        self.numeric.len() + self.categorical.iter().map(|c| c.levels.len()).sum::<usize>()
    }

    /// Builds the standardised, one-hot design matrix of `df`. A missing numeric value
    /// becomes the training mean (0 after standardising).
    pub fn design(&self, df: &DataFrame) -> Result<Design, EncodingError> {
        let rows = df.height();
        let cols = self.width();
        let numeric: Vec<Vec<f64>> = self.numeric.iter().map(|s| numeric_column(df, &s.name)).collect::<Result<_, _>>()?;
        // Per categorical feature, each row's design column (or none for the reference).
        let mut hot: Vec<Vec<u32>> = Vec::with_capacity(self.categorical.len());
        let mut offset = self.numeric.len();
        for c in &self.categorical {
            let raw = string_column(df, &c.name)?;
            // Each text is looked up in hash maps of the levels and the folded levels
            // (built once), so 200 k distinct role values cost 200 k lookups, not 200 k².
            let levels: std::collections::HashMap<&str, u32> =
                c.levels.iter().enumerate().map(|(k, l)| (l.as_str(), (offset + k) as u32)).collect();
            let folded: std::collections::HashSet<&str> = c.folded.iter().map(String::as_str).collect();
            let other = levels.get(OTHER_LEVEL).copied().unwrap_or(u32::MAX);
            // The reference has no column (u32::MAX writes nothing).
            let unseen = if self.unseen_to_other { other } else { u32::MAX };
            let reference = c.reference.as_str();
            hot.push(
                raw.iter()
                    .map(|v| {
                        let v = v.unwrap_or("unknown");
                        if folded.contains(v) {
                            other
                        } else if v == reference {
                            u32::MAX
                        } else {
                            levels.get(v).copied().unwrap_or(unseen)
                        }
                    })
                    .collect(),
            );
            offset += c.levels.len();
        }
        let mut values = vec![0.0; rows * cols];
        if cols == 0 {
            return Ok(Design { rows, cols, values });
        }
        // Row-major and written row by row (each row's cache line once), in
        // contiguous row ranges on every core.
        let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).clamp(1, 8);
        let chunk_rows = rows.div_ceil(threads).max(4096);
        std::thread::scope(|scope| {
            for (k, part) in values.chunks_mut(chunk_rows * cols).enumerate() {
                let (numeric, hot) = (&numeric, &hot);
                scope.spawn(move || {
                    let first = k * chunk_rows;
                    for (r, row) in part.chunks_mut(cols).enumerate() {
                        let i = first + r;
                        for ((x, raw), scaling) in row.iter_mut().zip(numeric).zip(&self.numeric) {
                            let v = raw[i];
                            *x = if v.is_finite() { (v - scaling.mean) / scaling.sd } else { 0.0 };
                        }
                        for feature in hot {
                            if let Some(x) = row.get_mut(feature[i] as usize) {
                                *x = 1.0;
                            }
                        }
                    }
                });
            }
        });
        Ok(Design { rows, cols, values })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_levels_fold_and_unseen_levels_map_to_the_reference() {
        let df = df!(
            "x" => [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "role" => ["a", "a", "a", "b", "b", "rare"],
        )
        .unwrap();
        let enc = Encoding::learn(&df, &["x"], &["role"], 2).unwrap();
        let role = &enc.categorical[0];
        assert_eq!(role.reference, "a");
        assert_eq!(role.levels, vec!["b".to_string(), "other".to_string()]);
        assert_eq!(role.folded, vec!["rare".to_string()]);
        assert_eq!(enc.column_names(), vec!["x", "role=b", "role=other"]);
        assert!((enc.numeric[0].mean - 3.5).abs() < 1e-12);
        // Population sd of 1..6 = sqrt(35/12).
        assert!((enc.numeric[0].sd - (35.0f64 / 12.0).sqrt()).abs() < 1e-12);

        let new = df!("x" => [3.5, 3.5, 3.5, 3.5], "role" => ["rare", "never_seen", "b", "a"]).unwrap();
        let d = enc.design(&new).unwrap();
        assert_eq!(d.row(0), &[0.0, 0.0, 1.0]);
        // Never seen in training: as rare as can be, so `other`.
        assert_eq!(d.row(1), &[0.0, 0.0, 1.0]);
        assert_eq!(d.row(2), &[0.0, 1.0, 0.0]);
        assert_eq!(d.row(3), &[0.0, 0.0, 0.0]);
        let unseen = enc.unseen(&new).unwrap();
        assert_eq!(unseen, vec![Unseen { feature: "role".into(), rows: 1, examples: vec!["never_seen".into()], as_other: true }]);
        // A model file from before the rule keeps scoring unseen values as the reference.
        let old = Encoding { unseen_to_other: false, ..enc.clone() };
        assert_eq!(old.design(&new).unwrap().row(1), &[0.0, 0.0, 0.0]);
        assert!(!old.unseen(&new).unwrap()[0].as_other);
    }

    #[test]
    fn rare_levels_are_counted_per_interview_not_per_snapshot() {
        // Level "b" has 4 rows but only 2 interviews: rare at a minimum of 3 interviews.
        let df = df!(
            "interview_id" => ["i1", "i1", "i2", "i3", "i4", "i4", "i5", "i5"],
            "x" => [1.0, 1.0, 2.0, 3.0, 4.0, 4.0, 5.0, 5.0],
            "role" => ["a", "a", "a", "a", "b", "b", "b", "b"],
        )
        .unwrap();
        let per_row = Encoding::learn(&df, &["x"], &["role"], 3).unwrap();
        assert!(per_row.categorical[0].folded.is_empty());
        let per_interview = Encoding::learn_per(&df, &["x"], &["role"], 3, Some("interview_id")).unwrap();
        assert_eq!(per_interview.categorical[0].folded, vec!["b".to_string()]);
    }
}
