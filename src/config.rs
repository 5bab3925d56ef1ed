//! Settings: the TOML config file, merged under the command-line flags and over the
//! defaults, resolved once before any data is read.
//!
//! Every key is optional. `noshow.toml` at the repository root documents each key with
//! its default; unknown keys are an error so a typo never silently falls back.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono_tz::Tz;
use serde::Deserialize;

use crate::flags::GlobalArgs;
use crate::time::{self, Micros};
use crate::usage_error;

// The `[[input.source]]` block has a file of its own so the fuzz crate can mount it
// with the mapped reader (fuzz/src/lib.rs) without the rest of the config.
mod source;
pub use source::{SheetRef, SourceConfig};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// IANA zone for naive timestamps and local-time analyses.
    pub tz: Option<String>,
    /// Fixed as-of instant (normally left out: now).
    pub as_of: Option<String>,
    /// Folder of raw logs.
    pub raw: Option<PathBuf>,
    /// The lake folder.
    pub lake: Option<PathBuf>,
    /// Where report tables and the scoring feed land.
    pub out: Option<PathBuf>,
    /// The model folder.
    pub model: Option<PathBuf>,
    /// Minutes after the slot start before a still-`scheduled` interview is closed:
    /// the derived-status rule of report, train and score.
    pub grace_minutes: Option<i64>,
    #[serde(default)]
    pub ingest: IngestConfig,
    #[serde(default)]
    pub report: ReportConfig,
    #[serde(default)]
    pub train: TrainConfig,
    #[serde(default)]
    pub score: ScoreConfig,
    #[serde(default)]
    pub privacy: PrivacyConfig,
    #[serde(default)]
    pub output: OutputConfig,
    #[serde(default)]
    pub input: InputConfig,
    /// `[labels.en]`, `[labels.zh]`: words for data values in the report (a code =
    /// its label), adding to or overriding the built-in table.
    #[serde(default)]
    pub labels: LabelsConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelsConfig {
    #[serde(default)]
    pub en: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub zh: std::collections::BTreeMap<String, String>,
}

/// `[input]`: how HR systems' own exports map to format v1 (`docs/input-mapping.md`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    /// One `[[input.source]]` block per kind of export.
    #[serde(default)]
    pub source: Vec<SourceConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Let the owner's group read the report and feed folders (0750/0640), for a
    /// reminder system running as another user of the group. Never world-readable.
    pub group_readable: Option<bool>,
}

impl OutputConfig {
    pub fn sharing(&self) -> crate::store::Sharing {
        if self.group_readable.unwrap_or(false) {
            crate::store::Sharing::Group
        } else {
            crate::store::Sharing::Owner
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// How many earlier lake versions to keep besides the current one.
    pub keep_versions: Option<usize>,
    /// Fail the run when a file yields no row (every row set aside).
    pub fail_on_empty_file: Option<bool>,
    /// Event files a month may have before new events compact it into one.
    pub max_event_parts: Option<usize>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// The top-level `grace_minutes` under its old name (read, with a note).
    pub grace_minutes: Option<i64>,
    /// Segments with fewer closed interviews keep their row with counts and rates null.
    pub suppression_threshold: Option<u64>,
    /// Extra two-way cuts, e.g. ["role,region"].
    pub by: Option<Vec<String>>,
    /// Report language: "en" or "zh".
    pub lang: Option<String>,
    /// Also write `interviews.parquet/.csv`: one row per closed interview with the
    /// candidate pseudonymised (needs the pseudonymisation key).
    pub interview_table: Option<bool>,
    /// Currency of the `cost` column as the report prints it ("CNY", "¥"; default none).
    pub currency: Option<String>,
    /// `[report.cancel_reasons]`: cancellation reason text → canonical reason, e.g.
    /// `"时间冲突" = "schedule_conflict"` (keys compared trimmed, case-folded, with
    /// white space collapsed).
    #[serde(default)]
    pub cancel_reasons: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Hours before the slot at which training features are taken.
    pub horizon_hours: Option<f64>,
    /// "no_show_or_candidate_cancel" (default), "no_show" or "candidate_cancel".
    pub label: Option<String>,
    /// The latest weeks held out as the test window.
    pub test_weeks: Option<u32>,
    /// L2 penalty strength (alpha in linfa-logistic; 1/C in scikit-learn). Set, it
    /// fixes the penalty and no search is run.
    pub l2: Option<f64>,
    /// The penalties the search tries (when `l2` is not set).
    pub l2_grid: Option<Vec<f64>>,
    /// The search's validation weeks: the last this many weeks of the training window.
    pub l2_folds: Option<u32>,
    /// Above this many training rows the search fits a deterministic subsample (0 = never).
    pub l2_search_max_rows: Option<usize>,
    /// Re-estimate the intercept on the latest training weeks (default true).
    pub recalibrate: Option<bool>,
    /// The least number of latest weeks the intercept is re-estimated on.
    pub recalibrate_weeks: Option<u32>,
    /// The re-estimation's window grows a week at a time until it holds this many misses.
    pub recalibrate_min_misses: Option<u64>,
    /// Extra interview columns of the lake (an HR export's own, `[[input.source]]`
    /// `extra`) used as categorical model features, pooled like the built-in ones.
    pub extra_features: Option<Vec<String>>,
    /// How many model versions to keep.
    pub keep_versions: Option<usize>,
    /// Above this many closed interviews, train on a deterministic sample of them.
    pub max_interviews: Option<usize>,
    /// A categorical level needs this many training interviews for its own column.
    pub min_level_interviews: Option<usize>,
    /// Groups of the fairness table with fewer misses have their metrics withheld.
    pub min_group_misses: Option<u64>,
    /// A new model is promoted only with at least this many test interviews.
    pub min_test_interviews: Option<u64>,
    /// ... and at least this many misses in its test window.
    pub min_test_misses: Option<u64>,
    /// ... and an AUC at most this much below the current model's on the same rows.
    pub max_auc_drop: Option<f64>,
    /// ... and a log loss at most this much above the current model's on the same rows.
    pub max_log_loss_rise: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreConfig {
    /// Days ahead of --as-of that are scored.
    pub window_days: Option<f64>,
    /// Share of each risk band flagged `holdout` (0 = no control group).
    pub holdout_share: Option<f64>,
    /// Seed for the holdout draw.
    pub holdout_seed: Option<u64>,
    /// Hours before the slot within which an unconfirmed or unread interview gets
    /// `confirm_follow_up`.
    pub confirm_follow_up_hours: Option<f64>,
    /// Days back the recovery worklist looks for misses with no re-invitation.
    pub recovery_days: Option<f64>,
    /// A feature whose population stability index (PSI) between the model's training
    /// window and the day's feed is at or above this gets a warning and level `shift`
    /// (at or above half of it: `moderate`).
    pub drift_warn_psi: Option<f64>,
}

/// Default of `[score] window_days`.
pub const DEFAULT_WINDOW_DAYS: f64 = 7.0;
/// Default of `[score] holdout_share` (no holdout).
pub const DEFAULT_HOLDOUT_SHARE: f64 = 0.0;
/// Default of `[score] holdout_seed`.
pub const DEFAULT_HOLDOUT_SEED: u64 = 1;
/// Default of `[score] confirm_follow_up_hours`.
pub const DEFAULT_CONFIRM_FOLLOW_UP_HOURS: f64 = 24.0;
/// Default of `[score] recovery_days`.
pub const DEFAULT_RECOVERY_DAYS: f64 = 14.0;
/// Default of `[train] horizon_hours`.
pub const DEFAULT_HORIZON_HOURS: f64 = 24.0;
/// Default of `[train] test_weeks`.
pub const DEFAULT_TEST_WEEKS: u32 = 4;
/// Default of `[train] keep_versions`.
pub const DEFAULT_KEEP_MODEL_VERSIONS: usize = 10;
/// Default of `[score] drift_warn_psi` (0.1 and 0.25 are the usual PSI rules of thumb
/// for "some" and "a large" shift; 0.2 warns between them).
pub const DEFAULT_DRIFT_WARN_PSI: f64 = 0.2;

impl ScoreConfig {
    /// `drift_warn_psi`, or its default; a usage error unless a number > 0.
    pub fn drift_warn_psi(&self) -> anyhow::Result<f64> {
        let v = self.drift_warn_psi.unwrap_or(DEFAULT_DRIFT_WARN_PSI);
        if !(v.is_finite() && v > 0.0) {
            return Err(usage_error(format!("[score] drift_warn_psi must be a number > 0, not {v}")));
        }
        Ok(v)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyConfig {
    /// File holding the pseudonymisation key (must not be readable by group or others).
    pub key_file: Option<PathBuf>,
}

/// The config file read when `--config` is not given, from the working folder.
pub const DEFAULT_CONFIG: &str = "noshow.toml";

impl Config {
    /// Reads the config file, or the defaults when none is given. A file that is
    /// named but missing is a usage error (exit 2).
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let Some(path) = path else { return Ok(Config::default()) };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(usage_error(format!("config file {} does not exist", path.display())))
            }
            Err(e) => return Err(e).with_context(|| format!("reading config file {}", path.display())),
        };
        toml::from_str(&text).map_err(|e| usage_error(format!("config file {}: {e}", path.display())))
    }
}

/// What every command needs, resolved from flags, config and defaults.
#[derive(Debug, Clone)]
pub struct Common {
    pub config: Config,
    pub tz: Tz,
    pub as_of: Micros,
    /// Whether the zone was given (flag or config) rather than the default.
    pub tz_given: bool,
    /// The derived-status grace period, checked: `--grace-minutes`, else
    /// `grace_minutes`, else the old `[report] grace_minutes`, else 15.
    pub grace_minutes: i64,
    /// The as-of text as given, parsed again if the zone changes.
    as_of_text: Option<String>,
}

impl Common {
    pub fn resolve(global: &GlobalArgs) -> anyhow::Result<Common> {
        let config_path = match &global.config {
            Some(p) => Some(p.clone()),
            None => {
                let p = PathBuf::from(DEFAULT_CONFIG);
                p.is_file().then(|| {
                    crate::info!("using the config file {DEFAULT_CONFIG} of the working folder (--config to choose another)");
                    p
                })
            }
        };
        let config = Config::load(config_path.as_deref())?;
        let given = global.tz.clone().or_else(|| config.tz.clone());
        let tz_given = given.is_some();
        let tz_name = given.unwrap_or_else(|| "UTC".to_string());
        let tz = time::parse_tz(&tz_name).map_err(usage_error)?;
        let as_of_text = global.as_of.clone().or_else(|| config.as_of.clone());
        let as_of = parse_as_of(as_of_text.as_deref(), tz)?;
        let grace_minutes = crate::derive::grace_minutes(match (global.grace_minutes, config.grace_minutes, config.report.grace_minutes) {
            (Some(flag), _, _) => Some(flag),
            (None, Some(a), Some(b)) if a != b => {
                return Err(usage_error(format!(
                    "the config file sets grace_minutes = {a} and [report] grace_minutes = {b}: keep the top-level key only"
                )))
            }
            (None, Some(a), _) => Some(a),
            (None, None, Some(b)) => {
                crate::info!("[report] grace_minutes is now the top-level key grace_minutes (report, train and score share it); read as such");
                Some(b)
            }
            (None, None, None) => None,
        })?;
        Ok(Common { config, tz, as_of, tz_given, grace_minutes, as_of_text })
    }

    /// Holds the run to the zone a lake or model recorded (`what` names it): a zone
    /// given that differs is refused (naive timestamps and local-time features would
    /// shift), and without one given the recorded zone is used and said.
    pub fn adopt_zone(&mut self, recorded: Option<&str>, what: &str) -> anyhow::Result<()> {
        let Some(recorded) = recorded else { return Ok(()) };
        if recorded == self.tz.name() {
            return Ok(());
        }
        if self.tz_given {
            return Err(usage_error(format!(
                "time zone {} was given, but {what} was made with {recorded}: mixing them would shift naive \
                 timestamps and local-time features by the zones' difference. Run with --tz {recorded} (or leave \
                 --tz out to use it)",
                self.tz.name()
            )));
        }
        let tz = time::parse_tz(recorded).map_err(|e| anyhow::anyhow!("{what} records the zone {recorded:?}: {e}"))?;
        crate::info!("using time zone {recorded}, recorded by {what} (no --tz given)");
        self.tz = tz;
        self.tz_given = true;
        self.as_of = parse_as_of(self.as_of_text.as_deref(), tz)?;
        Ok(())
    }

    /// A path from the flag, else the config, else an error naming both.
    pub fn path(&self, flag: &Option<PathBuf>, from_config: &Option<PathBuf>, name: &str) -> anyhow::Result<PathBuf> {
        flag.clone()
            .or_else(|| from_config.clone())
            .ok_or_else(|| usage_error(format!("--{name} is required (or `{name}` in the config file)")))
    }
}

// The shared folder flags resolve against the settings.
impl crate::flags::RawFlag {
    /// The flag, else the config's `raw`, else a usage error naming both.
    pub fn resolve(&self, common: &Common) -> anyhow::Result<PathBuf> {
        common.path(&self.dir, &common.config.raw, "raw")
    }
}

impl crate::flags::LakeFlag {
    /// The flag, else the config's `lake`, else a usage error naming both.
    pub fn resolve(&self, common: &Common) -> anyhow::Result<PathBuf> {
        common.path(&self.dir, &common.config.lake, "lake")
    }
}

impl crate::flags::ModelFlag {
    /// The flag, else the config's `model`, else a usage error naming both.
    pub fn resolve(&self, common: &Common) -> anyhow::Result<PathBuf> {
        common.path(&self.dir, &common.config.model, "model")
    }

    /// The flag, else the config's `model`, else none (commands where the model is optional).
    pub fn given(&self, common: &Common) -> Option<PathBuf> {
        self.dir.clone().or_else(|| common.config.model.clone())
    }
}

fn parse_as_of(text: Option<&str>, tz: Tz) -> anyhow::Result<Micros> {
    match text {
        Some(text) => time::parse_timestamp(text, tz).map_err(|e| usage_error(format!("--as-of {text:?}: {e}"))),
        None => Ok(time::now()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// noshow.toml says "the value shown is the default": each default shown there is
    /// the constant the code uses, so the file, the code and the help cannot drift.
    #[test]
    fn the_repository_noshow_toml_shows_the_defaults_the_code_uses() {
        let cfg: Config = toml::from_str(include_str!("../noshow.toml")).unwrap();
        assert_eq!(cfg.grace_minutes, Some(crate::derive::DEFAULT_GRACE_MINUTES));
        assert_eq!(cfg.report.grace_minutes, None, "grace_minutes belongs at the top level");
        assert_eq!(cfg.report.suppression_threshold, Some(crate::privacy::DEFAULT_SUPPRESSION_THRESHOLD));
        let t = &cfg.train;
        assert_eq!(t.horizon_hours, Some(DEFAULT_HORIZON_HOURS));
        assert_eq!(t.test_weeks, Some(DEFAULT_TEST_WEEKS));
        assert_eq!(t.keep_versions, Some(DEFAULT_KEEP_MODEL_VERSIONS));
        assert_eq!(t.l2_folds, Some(crate::model::penalty::DEFAULT_FOLDS));
        assert_eq!(t.l2_search_max_rows, Some(crate::model::penalty::DEFAULT_SEARCH_MAX_ROWS));
        assert_eq!(t.recalibrate_weeks, Some(crate::model::recalibrate::DEFAULT_WEEKS));
        assert_eq!(t.recalibrate_min_misses, Some(crate::model::recalibrate::DEFAULT_MIN_MISSES));
        assert_eq!(t.max_interviews, Some(crate::model::train::DEFAULT_MAX_INTERVIEWS));
        assert_eq!(t.min_test_interviews, Some(crate::model::promotion::DEFAULT_MIN_TEST_INTERVIEWS));
        assert_eq!(t.min_test_misses, Some(crate::model::promotion::DEFAULT_MIN_TEST_MISSES));
        assert_eq!(t.max_auc_drop, Some(crate::model::promotion::DEFAULT_MAX_AUC_DROP));
        assert_eq!(t.max_log_loss_rise, Some(crate::model::promotion::DEFAULT_MAX_LOG_LOSS_RISE));
        let s = &cfg.score;
        assert_eq!(s.window_days, Some(DEFAULT_WINDOW_DAYS));
        assert_eq!(s.holdout_share, Some(DEFAULT_HOLDOUT_SHARE));
        assert_eq!(s.holdout_seed, Some(DEFAULT_HOLDOUT_SEED));
        assert_eq!(s.confirm_follow_up_hours, Some(DEFAULT_CONFIRM_FOLLOW_UP_HOURS));
        assert_eq!(s.recovery_days, Some(DEFAULT_RECOVERY_DAYS));
        assert_eq!(s.drift_warn_psi, Some(DEFAULT_DRIFT_WARN_PSI));
    }
}
