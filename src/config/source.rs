//! One `[[input.source]]` block of the config, as written (checked by
//! `ingest::mapped::Sources::from_config`). Data only: the fuzz crate mounts this file.

use serde::Deserialize;

/// A sheet chosen by name or by 1-based number.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum SheetRef {
    Number(usize),
    Name(String),
}

/// One `[[input.source]]` block.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// "interviews" or "events".
    pub kind: String,
    /// Globs relative to --raw, matched case-insensitively.
    pub files: Vec<String>,
    /// `.xlsx`/`.xls`: the sheet; default the first.
    pub sheet: Option<SheetRef>,
    /// The row holding the headers (1-based); default 1.
    pub header_row: Option<usize>,
    /// auto | utf-8 | gb18030 | gbk | utf-16; default auto.
    pub encoding: Option<String>,
    /// auto or one character; default auto.
    pub delimiter: Option<String>,
    /// IANA zone of this source's naive times; default --tz.
    pub timezone: Option<String>,
    /// strftime forms tried after the v1 forms.
    #[serde(default)]
    pub timestamp_formats: Vec<String>,
    /// v1 field = header as exported.
    #[serde(default)]
    pub columns: std::collections::BTreeMap<String, String>,
    /// Per v1 field: exported value = v1 value.
    #[serde(default)]
    pub values: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    /// Extra columns: name = header.
    #[serde(default)]
    pub extra: std::collections::BTreeMap<String, String>,
}
