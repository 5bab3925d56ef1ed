//! model.json: everything another program needs to score from the JSON alone, the
//! evaluation that justified it, and a sha256 of its content so a file edited by hand
//! (or written by another noshow major version) is refused before anything is scored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::coefficients::CoefficientRow;
use super::encoding::{Design, Encoding};
use super::fit::{FitOptions, Fitted};
use super::seam::RiskModel;
use super::metrics::Metrics;

pub const FORMAT: &str = "noshow-model";

pub const INTENDED_USE: &str = "Decides which upcoming interviews get more help (a phone call, an extra \
reminder, a channel switch, a link and device check). It must never be used to reject, rank or \
blacklist candidates: a high score means the process is failing someone, not that they are a worse candidate.";

pub const SCORING_RECIPE: &str = "For each interview, compute every feature of `features.numeric` and \
`features.categorical` as its definition says, at the cutoff (the scoring as-of time). Numeric: \
z = (x - mean) / sd with the recorded mean and sd. Categorical: a value listed in `folded` becomes \
\"other\"; the column `name=level` is 1 for the value's level and 0 otherwise; the reference level has all \
columns 0. A value never seen in training is scored as `features.unseen_levels` says: with \"other\", as the \
\"other\" level (all columns 0 when \"other\" is the reference); without it (older files), all columns 0. Then logit = intercept + sum over columns of \
coefficients[column] * value, and p_not_attend = 1 / (1 + exp(-logit)). `intercept` is the recalibrated one \
(`recalibration.fitted_intercept` + `recalibration.shift`) when `recalibration.applied` is true: use it as it is.";

#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    #[error("not a noshow model file: {0}")]
    Parse(String),
    #[error("model.json was written by noshow {found}, whose model format is not compatible with this noshow {current}; retrain with `noshow train`")]
    Version { found: String, current: String },
    #[error("model.json does not match its content hash (edited by hand or damaged); retrain with `noshow train` or restore a version from versions/")]
    Tampered,
    #[error("model.json is inconsistent: {0}")]
    Inconsistent(String),
}

/// A time window `[start, end)` in UTC and what fell in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub start: String,
    pub end: String,
    pub rows: u64,
    pub interviews: u64,
    pub positives: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericDefinition {
    pub name: String,
    pub definition: String,
    pub mean: f64,
    pub sd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalDefinition {
    pub name: String,
    pub definition: String,
    pub reference: String,
    pub levels: Vec<String>,
    pub folded: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    pub numeric: Vec<NumericDefinition>,
    pub categorical: Vec<CategoricalDefinition>,
    /// A categorical level kept its own column only with at least this many training
    /// interviews (rarer ones are in `folded`). Absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_level_interviews: Option<u64>,
    /// How a value never seen in training is scored: `other` (its column, or the
    /// reference when there is none). Absent in older files, which used the reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unseen_levels: Option<String>,
}

/// The value of `features.unseen_levels` written by this noshow.
pub const UNSEEN_AS_OTHER: &str = "other";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Solver {
    pub name: String,
    pub loss: String,
    /// α of linfa-logistic.
    pub l2: f64,
    /// The same penalty as scikit-learn's C (= 1/α).
    pub sklearn_c: Option<f64>,
    pub intercept_penalised: bool,
    pub max_iterations: u64,
    /// On the gradient of the mean loss.
    pub gradient_tolerance_per_row: f64,
    pub standard_errors: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HorizonMetrics {
    pub horizon_hours: f64,
    pub metrics: Metrics,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    pub format: String,
    pub noshow_version: String,
    /// The model version (`0001`, …), the folder name under versions/.
    pub version: String,
    pub created_at: String,
    pub intended_use: String,
    pub label: String,
    pub label_definition: String,
    /// The horizon of the headline evaluation.
    pub horizon_hours: f64,
    /// The distances before the slot at which training snapshots were taken.
    pub training_horizons_hours: Vec<f64>,
    pub snapshot_rule: String,
    pub as_of: String,
    pub tz: String,
    pub grace_minutes: i64,
    pub training_window: Window,
    pub test_window: Window,
    pub solver: Solver,
    pub intercept: f64,
    /// By design-matrix column name (`jd_viewed`, `role=sales`), on standardised columns.
    pub coefficients: BTreeMap<String, f64>,
    pub features: Features,
    pub scoring_recipe: String,
    pub risk_bands: String,
    /// Test-window metrics at `horizon_hours`.
    pub metrics: Metrics,
    pub metrics_by_horizon: Vec<HorizonMetrics>,
    pub coefficient_table: Vec<CoefficientRow>,
    /// Whether `train` made this model current, and why not (see model::promotion).
    /// Absent in files written before the promotion checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<super::promotion::Promotion>,
    /// How the L2 penalty was set: searched (grid, validation curve, folds, choice)
    /// or fixed. Absent in files written before the search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub penalty: Option<super::penalty::Penalty>,
    /// The intercept's re-estimation on recent weeks and the test window's
    /// calibration before and after. Absent in older files (no recalibration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recalibration: Option<super::recalibrate::Recalibration>,
    /// Each feature's distribution over the training window as a daily feed sees it,
    /// for the drift (PSI) of later feeds (see model::drift). Absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_reference: Option<super::drift::DriftReference>,
    /// sha256 of this JSON with this field removed (keys sorted, compact).
    #[serde(default)]
    pub content_sha256: String,
}

/// The compatibility key of a version: `major` for ≥ 1, `0.minor` below (Cargo's rule).
fn compat(version: &str) -> String {
    let mut parts = version.split('.');
    let major = parts.next().unwrap_or("");
    if major == "0" { format!("0.{}", parts.next().unwrap_or("")) } else { major.to_string() }
}

fn digest(value: &serde_json::Value) -> String {
    let mut v = value.clone();
    if let Some(map) = v.as_object_mut() {
        map.remove("content_sha256");
    }
    let canonical = canonical_json(&v);
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// Compact JSON with object keys sorted at every level, whatever serde_json's map
/// order, and every non-integer number written with 12 significant digits: serde_json's
/// default float parser may differ from the writer in the last bit, and the hash must
/// survive a write/read round trip.
pub fn canonical_json(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let body: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", serde_json::Value::String(k.clone()), canonical_json(&map[k])))
                .collect();
            format!("{{{}}}", body.join(","))
        }
        serde_json::Value::Array(items) => format!("[{}]", items.iter().map(canonical_json).collect::<Vec<_>>().join(",")),
        serde_json::Value::Number(n) if !(n.is_i64() || n.is_u64()) => match n.as_f64() {
            Some(x) => format!("{x:.11e}"),
            None => n.to_string(),
        },
        other => other.to_string(),
    }
}

impl ModelFile {
    /// Serialises with a fresh content hash.
    pub fn to_json(&self) -> Result<String, ModelFileError> {
        let mut value = serde_json::to_value(self).map_err(|e| ModelFileError::Parse(e.to_string()))?;
        let hash = digest(&value);
        if let Some(map) = value.as_object_mut() {
            map.insert("content_sha256".into(), serde_json::Value::String(hash));
        }
        serde_json::to_string_pretty(&value).map_err(|e| ModelFileError::Parse(e.to_string()))
    }

    /// Parses and checks format, version compatibility, content hash and consistency.
    pub fn from_json(text: &str) -> Result<ModelFile, ModelFileError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ModelFileError::Parse(e.to_string()))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(ModelFileError::Parse("no \"format\": \"noshow-model\"".into()));
        }
        let found = value.get("noshow_version").and_then(|v| v.as_str()).unwrap_or("unknown").to_string();
        if compat(&found) != compat(crate::VERSION) {
            return Err(ModelFileError::Version { found, current: crate::VERSION.to_string() });
        }
        let stored = value.get("content_sha256").and_then(|v| v.as_str()).unwrap_or("");
        if stored != digest(&value) {
            return Err(ModelFileError::Tampered);
        }
        let model: ModelFile = serde_json::from_value(value).map_err(|e| ModelFileError::Parse(e.to_string()))?;
        model.encoding().map(|_| model)
    }

    /// The design-matrix encoding recorded in the file, checked against the coefficients.
    pub fn encoding(&self) -> Result<Encoding, ModelFileError> {
        let encoding = Encoding {
            numeric: self
                .features
                .numeric
                .iter()
                .map(|n| super::encoding::NumericScaling { name: n.name.clone(), mean: n.mean, sd: n.sd })
                .collect(),
            categorical: self
                .features
                .categorical
                .iter()
                .map(|c| super::encoding::CategoricalEncoding {
                    name: c.name.clone(),
                    reference: c.reference.clone(),
                    levels: c.levels.clone(),
                    folded: c.folded.clone(),
                })
                .collect(),
            unseen_to_other: self.features.unseen_levels.as_deref() == Some(UNSEEN_AS_OTHER),
        };
        for n in &encoding.numeric {
            if !(n.sd.is_finite() && n.sd > 0.0 && n.mean.is_finite()) {
                return Err(ModelFileError::Inconsistent(format!("feature {} has sd {} and mean {}", n.name, n.sd, n.mean)));
            }
        }
        for name in encoding.column_names() {
            if !self.coefficients.contains_key(&name) {
                return Err(ModelFileError::Inconsistent(format!("no coefficient for column {name}")));
            }
        }
        Ok(encoding)
    }

    /// The model in design-matrix order (the logistic regression the file records).
    pub fn risk_model(&self) -> Result<Fitted, ModelFileError> {
        let encoding = self.encoding()?;
        let coefficients = encoding.column_names().iter().map(|n| self.coefficients[n]).collect();
        Ok(Fitted { intercept: self.intercept, coefficients })
    }

    /// Probabilities for a design built with [`ModelFile::encoding`].
    pub fn predict(&self, design: &Design) -> Result<Vec<f64>, ModelFileError> {
        Ok(self.risk_model()?.predict(design.all()))
    }

    /// The solver block for these options.
    pub fn solver(options: &FitOptions) -> Solver {
        Solver {
            name: match options.solver {
                super::fit::SolverKind::Linfa => "linfa-logistic 0.8.1 (L-BFGS, More-Thuente line search)".into(),
                super::fit::SolverKind::Newton => "noshow Newton / IRLS with step halving (same loss as linfa-logistic; \
                    chosen over linfa's L-BFGS for speed: a few multi-threaded passes over the data instead of \
                    hundreds of matrix products that repack the design, see docs/performance-model.md)"
                    .into(),
            },
            loss: "sum over rows of -log sigma(y (x.w + b)) + l2/2 * w.w; intercept b unpenalised".into(),
            l2: options.l2,
            sklearn_c: (options.l2 > 0.0).then(|| 1.0 / options.l2),
            intercept_penalised: false,
            max_iterations: options.max_iterations,
            gradient_tolerance_per_row: options.gradient_tolerance_per_row,
            standard_errors: "sqrt of the diagonal of the inverse Hessian of the penalised loss at the fit \
                (X'WX + l2 on the non-intercept diagonal): a Laplace / Fisher-information approximation"
                .into(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn floats_keep_their_bits_through_a_write_and_read_so_the_hash_holds() {
        // Coefficients of a 10 M-interview model; the first sits 1e-16 above a 12-digit
        // rounding boundary. serde_json's default parser read it back one ulp low, the
        // canonical form rounded the other way, and `score` refused the fresh model as
        // edited by hand. With `float_roundtrip` parsing is exact.
        for x in [0.9138007008635001_f64, 0.8635537320784998, 0.010424439138749964, -1.2052973388e-7] {
            let text = serde_json::to_string(&x).unwrap();
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back.as_f64().unwrap().to_bits(), x.to_bits(), "{text}");
            assert_eq!(canonical_json(&back), canonical_json(&serde_json::json!(x)));
        }
    }

    use super::*;

    #[test]
    fn compatibility_follows_cargo_rules() {
        assert_eq!(compat("0.1.0"), compat("0.1.7"));
        assert_ne!(compat("0.1.0"), compat("0.2.0"));
        assert_eq!(compat("1.2.0"), compat("1.9.3"));
        assert_ne!(compat("1.2.0"), compat("2.0.0"));
    }

    #[test]
    fn canonical_json_sorts_keys() {
        let v: serde_json::Value = serde_json::from_str(r#"{"b": 1, "a": {"d": [1, 2.5], "c": "x"}}"#).unwrap();
        assert_eq!(canonical_json(&v), r#"{"a":{"c":"x","d":[1,2.50000000000e0]},"b":1}"#);
        // Last-bit differences do not change the canonical text.
        let a = serde_json::json!({"x": 0.1 + 0.2});
        let b = serde_json::json!({"x": 0.3});
        assert_eq!(canonical_json(&a), canonical_json(&b));
    }
}
