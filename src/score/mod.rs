//! The scoring feed: probabilities for upcoming interviews, ranks, risk bands, the
//! top factors in words, a suggested action and the seeded holdout.
//!
//! The feed decides who gets more help (a call, an extra reminder, a technical
//! check); it must never be used to reject anyone.

/// How risk bands are cut, recorded in model.json and the feed's summary.
pub const RISK_BANDS: &str = "by rank share among the interviews scored in one run: high = the top 10 % \
(rank <= ceil(0.10 n)), medium = the next 20 % (rank <= ceil(0.30 n)), low = the rest; sized to the phone \
capacity HR reports (calls for about one interview in ten)";
