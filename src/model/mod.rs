//! The risk model: design matrix (encoding and scaling), the seam every model goes
//! through ([`seam`]: a checked learner fits, a risk model predicts, explains one
//! row and moves its level), the logistic regression behind it ([`fit`]: a
//! multi-threaded Newton solver by default, linfa-logistic's L-BFGS on request; both
//! minimise the same loss and match scikit-learn), evaluation metrics, the
//! coefficient table, model.json with its versions, and the rule for promoting a new
//! model to current.
//!
//! Pure computation except [`store`], which reads and writes the model folder.

pub mod encoding;
pub mod fit;
pub mod seam;
pub mod metrics;
pub mod coefficients;
pub mod drift;
pub mod file;
pub mod train;
pub mod promotion;
pub mod penalty;
pub mod recalibrate;
pub mod store;
pub mod stopwatch;
