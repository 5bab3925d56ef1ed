//! Small helpers to move between polars frames and plain Rust values, used where a
//! lazy group-by has done the heavy work and a few hundred rows are finished by hand.

use polars::prelude::*;

/// A column as optional `i64`s (integers and booleans are cast).
pub fn i64s(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i64>>> {
    let c = df.column(name)?.cast(&DataType::Int64)?;
    Ok(c.i64()?.iter().collect())
}

/// A column as optional `f64`s.
pub fn f64s(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<f64>>> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?.iter().collect())
}

/// A column as optional strings (any type is cast to its text).
pub fn strings(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    let c = df.column(name)?.cast(&DataType::String)?;
    Ok(c.str()?.iter().map(|v| v.map(str::to_string)).collect())
}

/// A column as optional booleans.
pub fn bools(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<bool>>> {
    Ok(df.column(name)?.bool()?.iter().collect())
}

/// Non-negative counts, with null read as zero (a left join found no match).
pub fn counts(df: &DataFrame, name: &str) -> PolarsResult<Vec<u64>> {
    Ok(i64s(df, name)?.into_iter().map(|v| v.unwrap_or(0).max(0) as u64).collect())
}

pub fn col_f64(name: &str, values: Vec<Option<f64>>) -> Column {
    Series::new(name.into(), values).into_column()
}

pub fn col_i64(name: &str, values: Vec<Option<i64>>) -> Column {
    Series::new(name.into(), values).into_column()
}

pub fn col_bool(name: &str, values: Vec<bool>) -> Column {
    Series::new(name.into(), values).into_column()
}

pub fn col_str(name: &str, values: Vec<Option<String>>) -> Column {
    Series::new(name.into(), values).into_column()
}

/// `cond` as 0/1 integers, to sum in an aggregation.
pub fn count_if(cond: Expr) -> Expr {
    cond.cast(DataType::Int64).sum()
}

/// Whether any row of the group meets `cond`.
pub fn any_if(cond: Expr) -> Expr {
    count_if(cond).gt(lit(0))
}

/// Join arguments for a left join on segment keys where a null key (an unknown
/// education, say) is a segment of its own and must match itself.
pub fn left_on_segments() -> JoinArgs {
    let mut args = JoinArgs::new(JoinType::Left);
    args.nulls_equal = true;
    args
}

/// Sorts by `by` ascending with nulls last (the unknown segment at the bottom).
pub fn sorted(df: DataFrame, by: &[&str]) -> PolarsResult<DataFrame> {
    if by.is_empty() || df.height() == 0 {
        return Ok(df);
    }
    df.lazy()
        .sort(by.iter().map(|s| PlSmallStr::from(*s)).collect::<Vec<_>>(), SortMultipleOptions::default().with_nulls_last(true).with_maintain_order(true))
        .collect()
}
